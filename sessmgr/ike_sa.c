/*
 * ike_sa.c - the SA table of one worker (open addressing on our SPI) and the
 * SA state function.
 *
 * Our IKE SPIs carry the worker's slot in their top 16 bits (ike_slot.h), so
 * demux routes every later message of an SA here without a table.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "ike_addr.h"
#include "ike_log.h"
#include "ike_sa.h"
#include "ike_slot.h"

const char *ike_sa_state_name(unsigned s)
{
  switch (s) {
#define X(n, str)    \
  case IKE_SA_##n:   \
    return str;
    IKE_SA_STATE_MAP(X)
#undef X
  default:
    return "unknown";
  }
}

static size_t slot_of(const ike_engine_t *e, uint64_t spi)
{
  /* The low bits are random; mix anyway so sequential SPIs spread. */
  uint64_t x = spi * 0x9E3779B97F4A7C15ull;
  return (size_t)(x >> 17) & (e->cap - 1);
}

static int tab_grow(ike_engine_t *e)
{
  size_t ncap = e->cap ? e->cap * 2 : 1024;
  ike_sa_t **nt = calloc(ncap, sizeof *nt);
  if (nt == NULL) {
    return -IKE_E_NOMEM;
  }
  ike_sa_t **old = e->tab;
  size_t ocap = e->cap;
  e->tab = nt;
  e->cap = ncap;
  for (size_t i = 0; i < ocap; i++) {
    if (old[i] != NULL) {
      size_t j = slot_of(e, old[i]->spi_r);
      while (e->tab[j] != NULL) {
        j = (j + 1) & (e->cap - 1);
      }
      e->tab[j] = old[i];
    }
  }
  free(old);
  return 0;
}

static int tab_insert(ike_engine_t *e, ike_sa_t *sa)
{
  if ((e->n + 1) * 2 > e->cap && tab_grow(e) != 0) {
    return -IKE_E_NOMEM;
  }
  size_t j = slot_of(e, sa->spi_r);
  while (e->tab[j] != NULL) {
    j = (j + 1) & (e->cap - 1);
  }
  e->tab[j] = sa;
  e->n++;
  return 0;
}

/* Remove with backward-shift deletion (no tombstones). */
static void tab_remove(ike_engine_t *e, const ike_sa_t *sa)
{
  if (e->cap == 0) {
    return;
  }
  size_t j = slot_of(e, sa->spi_r);
  while (e->tab[j] != NULL && e->tab[j] != sa) {
    j = (j + 1) & (e->cap - 1);
  }
  if (e->tab[j] == NULL) {
    return;
  }
  e->tab[j] = NULL;
  e->n--;
  size_t k = (j + 1) & (e->cap - 1);
  while (e->tab[k] != NULL) {
    ike_sa_t *m = e->tab[k];
    size_t home = slot_of(e, m->spi_r);
    /* Move m back if its home is not cyclically in (j, k]. */
    bool between = (j < k) ? (home > j && home <= k) : (home > j || home <= k);
    if (!between) {
      e->tab[j] = m;
      e->tab[k] = NULL;
      j = k;
    }
    k = (k + 1) & (e->cap - 1);
  }
}

ike_sa_t *ike_sa_find(const ike_engine_t *e, uint64_t spi_r)
{
  if (e->cap == 0 || spi_r == 0) {
    return NULL;
  }
  size_t j = slot_of(e, spi_r);
  while (e->tab[j] != NULL) {
    if (e->tab[j]->spi_r == spi_r) {
      return e->tab[j];
    }
    j = (j + 1) & (e->cap - 1);
  }
  return NULL;
}

static bool same_addr(const struct sockaddr_storage *a,
                      const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family) {
    return false;
  }
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
}

bool ike_addr_equal(const struct sockaddr_storage *a,
                    const struct sockaddr_storage *b)
{
  return same_addr(a, b);
}

/* Key of the half-open index: SPIi, then the peer's address and port. */
static uint32_t init_hash(const ike_engine_t *e, uint64_t spi_i,
                          const struct sockaddr_storage *peer)
{
  uint8_t key[8 + 16 + 2];
  size_t alen = 0;
  const uint8_t *a = ike_addr_bytes(peer, &alen);
  memcpy(key, &spi_i, 8);
  memcpy(key + 8, a, alen);
  uint16_t port = peer->ss_family == AF_INET
                      ? ((const struct sockaddr_in *)(const void *)peer)->sin_port
                      : ((const struct sockaddr_in6 *)(const void *)peer)->sin6_port;
  memcpy(key + 8 + alen, &port, 2);
  return ike_index_hash(e->hash_key, key, 8 + alen + 2);
}

ike_sa_t *ike_sa_find_init(ike_engine_t *e, uint64_t spi_i,
                           const struct sockaddr_storage *peer)
{
  uint32_t h = init_hash(e, spi_i, peer);
  for (ike_sa_t *sa = ike_index_first(&e->by_init, h, &e->probes); sa != NULL;
       sa = ike_index_next(&e->by_init, sa, &e->probes)) {
    if (sa->state == IKE_SA_HALF_OPEN && sa->spi_i == spi_i &&
        same_addr(&sa->path.peer, peer)) {
      return sa;
    }
  }
  return NULL;
}

int ike_sa_id_digest(uint8_t type, const uint8_t *data, size_t len,
                     uint8_t out[IKE_ID_DIGEST_LEN])
{
  /* Type and raw bytes (RFC 7296 3.5): two IDs are the same identity only if
   * both are equal, never because their printable forms look alike. */
  return ike_sha256(&type, 1, data, len, out);
}

static uint32_t id_hash(const ike_engine_t *e, const ike_sa_t *sa)
{
  return ike_index_hash(e->hash_key, sa->peer_id_digest, 8);
}

void ike_sa_set_identity(ike_engine_t *e, ike_sa_t *sa, uint8_t type,
                         const uint8_t *data, size_t len)
{
  ike_index_del(&e->by_id, sa);
  sa->peer_id_type = type;
  /* Without a digest the SA is simply not indexed by identity: never a
   * false match (INITIAL_CONTACT, identity-limit). */
  sa->has_id_digest = ike_sa_id_digest(type, data, len, sa->peer_id_digest) == 0;
  if (sa->state == IKE_SA_ESTABLISHED) {
    ike_index_add(&e->by_id, sa, id_hash(e, sa));
  }
  ike_sa_mark_dirty(e, sa);
}

static ike_sa_t *same_id_from(ike_engine_t *e, const ike_sa_t *sa, ike_sa_t *o)
{
  for (; o != NULL; o = ike_index_next(&e->by_id, o, &e->probes)) {
    if (o != sa && o->state == IKE_SA_ESTABLISHED &&
        CRYPTO_memcmp(o->peer_id_digest, sa->peer_id_digest, IKE_ID_DIGEST_LEN) == 0) {
      return o;
    }
  }
  return NULL;
}

ike_sa_t *ike_sa_same_id_first(ike_engine_t *e, const ike_sa_t *sa)
{
  if (!sa->has_id_digest) {
    return NULL;
  }
  return same_id_from(e, sa, ike_index_first(&e->by_id, id_hash(e, sa), &e->probes));
}

ike_sa_t *ike_sa_same_id_next(ike_engine_t *e, const ike_sa_t *sa, const ike_sa_t *o)
{
  return same_id_from(e, sa, ike_index_next(&e->by_id, o, &e->probes));
}

/* Keep the secondary indexes in step with the state: half-open SAs in
 * by_init (and counted per source), established ones with a known identity
 * in by_id. */
static void reindex(ike_engine_t *e, ike_sa_t *sa, bool gone)
{
  bool ho = !gone && sa->state == IKE_SA_HALF_OPEN;
  if (ho && !sa->ho_link.linked) {
    ike_index_add(&e->by_init, sa, init_hash(e, sa->spi_i, &sa->path.peer));
    if (sa->ho != NULL && ike_srccount_inc(&e->halfopen_src, &sa->path.peer) == 0) {
      sa->ho->src = sa->path.peer; /* the path may change before it leaves */
      sa->ho->src_counted = true;
    }
  } else if (!ho && sa->ho_link.linked) {
    ike_index_del(&e->by_init, sa);
    if (sa->ho != NULL && sa->ho->src_counted) {
      ike_srccount_dec(&e->halfopen_src, &sa->ho->src);
      sa->ho->src_counted = false;
    }
  }
  bool id = !gone && sa->state == IKE_SA_ESTABLISHED && sa->has_id_digest;
  if (id && !sa->id_link.linked) {
    ike_index_add(&e->by_id, sa, id_hash(e, sa));
  } else if (!id && sa->id_link.linked) {
    ike_index_del(&e->by_id, sa);
  }
}

ike_sa_t *ike_sa_new(ike_engine_t *e, uint64_t spi_i)
{
  ike_sa_t *sa = calloc(1, sizeof *sa);
  if (sa == NULL) {
    return NULL;
  }
  do {
    uint64_t r = 0;
    if (ike_random(&r, sizeof r) != 0) {
      free(sa); /* no random SPI, no SA (and no endless loop on a repeat) */
      return NULL;
    }
    sa->spi_r = ike_spi_make(e->slot, r);
  } while (ike_sa_find(e, sa->spi_r) != NULL);
  sa->spi_i = spi_i;
  sa->created_ms = e->now_ms;
  sa->resend_tokens = IKE_RESEND_BURST;
  sa->resend_refill_ms = e->now_ms;
  sa->last_rx_ms = e->now_ms;
  if (tab_insert(e, sa) != 0) {
    free(sa);
    return NULL;
  }
  return sa;
}

int ike_sa_insert(ike_engine_t *e, ike_sa_t *sa)
{
  if (sa->spi_r == 0 || ike_sa_find(e, sa->spi_r) != NULL) {
    return -IKE_E_BAD_SYNTAX;
  }
  int rc = tab_insert(e, sa);
  if (rc == 0) {
    reindex(e, sa, false);
  }
  return rc;
}

/* Forget sa's place in the dirty list (swap with the last entry). */
static void dirty_remove(ike_engine_t *e, ike_sa_t *sa)
{
  size_t i = sa->dirty_idx - 1;
  ike_sa_t *last = e->dirty[--e->n_dirty];
  e->dirty[i] = last;
  last->dirty_idx = (uint32_t)i + 1;
  sa->dirty_idx = 0;
}

bool ike_sa_storable(const ike_sa_t *sa)
{
  return sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_REKEYED ||
         sa->state == IKE_SA_DELETING;
}

void ike_sa_mark_clean(ike_engine_t *e, ike_sa_t *sa)
{
  if (sa->dirty_idx != 0) {
    dirty_remove(e, sa);
  }
}

void ike_sa_mark_dirty(ike_engine_t *e, ike_sa_t *sa)
{
  /* Half-open SAs are never stored: IKE_AUTH marks the SA when it is
   * established (ike_sa_set_state runs after the state changed). */
  if (sa->dirty_idx != 0 || !e->ckpt_on || e->freeing || !ike_sa_storable(sa)) {
    return;
  }
  if (e->n_dirty == e->dirty_cap) {
    size_t ncap = e->dirty_cap ? e->dirty_cap * 2 : 256;
    ike_sa_t **nd = realloc(e->dirty, ncap * sizeof *nd);
    if (nd == NULL) {
      IKE_STAT(e, fail_internal); /* this change is not checkpointed */
      return;
    }
    e->dirty = nd;
    e->dirty_cap = ncap;
  }
  e->dirty[e->n_dirty++] = sa;
  sa->dirty_idx = (uint32_t)e->n_dirty;
}

/* A stored SA is gone: its record is deleted at the next commit. */
static void gone_push(ike_engine_t *e, uint64_t spi)
{
  if (e->n_gone == e->gone_cap) {
    size_t ncap = e->gone_cap ? e->gone_cap * 2 : 64;
    uint64_t *ng = realloc(e->gone, ncap * sizeof *ng);
    if (ng == NULL) {
      IKE_STAT(e, fail_internal); /* a stale record survives until restore */
      return;
    }
    e->gone = ng;
    e->gone_cap = ncap;
  }
  e->gone[e->n_gone++] = spi;
}

void ike_sa_rehash(ike_engine_t *e, ike_sa_t *sa, uint64_t new_spi_r)
{
  tab_remove(e, sa);
  if (sa->stored && !e->freeing) {
    gone_push(e, sa->spi_r); /* the record is keyed by the old SPI */
    sa->stored = false;
  }
  sa->spi_r = new_spi_r;
  tab_insert(e, sa); /* cannot fail: we just freed a place */
  ike_sa_mark_dirty(e, sa);
}

static bool state_ok(ike_sa_state_t from, ike_sa_state_t to)
{
  switch (to) {
  case IKE_SA_HALF_OPEN:
    return from == IKE_SA_NONE;
  case IKE_SA_ESTABLISHED:
    return from == IKE_SA_HALF_OPEN || from == IKE_SA_NONE; /* NONE: IKE rekey */
  case IKE_SA_REKEYED:
  case IKE_SA_DELETING:
    return from == IKE_SA_ESTABLISHED || from == IKE_SA_REKEYED;
  case IKE_SA_DEAD:
    return true;
  default:
    return false;
  }
}

int ike_sa_set_state(ike_engine_t *e, ike_sa_t *sa, ike_sa_state_t st)
{
  if (!state_ok(sa->state, st)) {
    IKE_LOG_ERR("SPI %016llx: illegal state change %s -> %s",
                (unsigned long long)sa->spi_r, ike_sa_state_name(sa->state),
                ike_sa_state_name(st));
    return -IKE_E_BAD_SYNTAX;
  }
  IKE_LOG_DEBUG("SPI %016llx: %s -> %s", (unsigned long long)sa->spi_r,
                ike_sa_state_name(sa->state), ike_sa_state_name(st));
  if (sa->state == IKE_SA_HALF_OPEN) {
    e->n_halfopen--;
  }
  if (st == IKE_SA_HALF_OPEN) {
    e->n_halfopen++;
  }
  if (st == IKE_SA_ESTABLISHED) {
    IKE_STAT(e, ike_sa_established);
  }
  sa->state = st;
  reindex(e, sa, false);
  ike_sa_mark_dirty(e, sa);
  return 0;
}

void ike_sa_destroy(ike_engine_t *e, ike_sa_t *sa)
{
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    ike_child_t *c = &sa->child[i];
    if (c->used) {
      e->ops.child_del(e->ctx, c->spi_in, c->spi_out);
      ike_sa_child_spi_gone(e, c->spi_in);
      IKE_STAT(e, child_sa_deleted);
      if (e->stats.child_sa_current > 0) {
        e->stats.child_sa_current--;
      }
    }
  }
  if (sa->state == IKE_SA_HALF_OPEN) {
    e->n_halfopen--;
  }
  if (sa->state != IKE_SA_HALF_OPEN && sa->state != IKE_SA_NONE) {
    IKE_STAT(e, ike_sa_deleted);
    if (sa->state != IKE_SA_REKEYED && e->stats.ike_sa_current > 0) {
      e->stats.ike_sa_current--;
    }
  }
  ike_pool_release(e, sa->vip4);
  if (sa->has_vip6) {
    ike_pool_release6(e, sa->vip6);
  }
  reindex(e, sa, true);
  tab_remove(e, sa);
  ike_timer_remove(e, sa);
  if (sa->dirty_idx != 0) {
    dirty_remove(e, sa);
  }
  if (sa->stored && !e->freeing) {
    gone_push(e, sa->spi_r);
  }
  ike_dh_free(sa->dh);
  if (sa->ho != NULL) {
    ike_wipe(sa->ho, sizeof *sa->ho);
    free(sa->ho);
  }
  free(sa->rsp);
  free(sa->req);
  ike_wipe(sa, sizeof *sa);
  free(sa);
}

uint32_t ike_sa_new_child_spi(ike_engine_t *e)
{
  /* ESP SPIs carry the low 8 bits of the slot in their top byte, so workers
   * never pick the same inbound SPI on one ipsecmgr (up to 256 workers); values
   * below 256 are reserved (RFC 4303 2.1). */
  uint32_t r = 0;
  bool found = false;
  /* 24 random bits per slot: at 50,000 CHILD SAs in a slot two would share a
   * SPI about 75 times by chance, so ask the set of those in use. */
  for (int tries = 0; tries < 1000 && !found; tries++) {
    if (ike_random(&r, sizeof r) != 0) {
      IKE_STAT(e, fail_internal);
      return 0; /* the caller creates no CHILD SA */
    }
    r = ((uint32_t)(e->slot & 0xFFu) << 24) | (r & 0xFFFFFFu);
    found = r >= 256 && !ike_u32set_has(&e->child_spis, r);
  }
  if (!found) {
    IKE_STAT(e, fail_internal); /* 1,000 draws all taken: the slot is full */
    return 0;
  }
  if (ike_u32set_add(&e->child_spis, r) != 0) {
    IKE_STAT(e, fail_internal); /* not recorded: a later pick may repeat it */
  }
  return r;
}

void ike_sa_child_spi_gone(ike_engine_t *e, uint32_t spi)
{
  ike_u32set_del(&e->child_spis, spi);
}

ike_child_t *ike_sa_child_by_out(ike_sa_t *sa, uint32_t spi_out)
{
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    if (sa->child[i].used && sa->child[i].spi_out == spi_out) {
      return &sa->child[i];
    }
  }
  return NULL;
}

ike_child_t *ike_sa_child_by_in(ike_sa_t *sa, uint32_t spi_in)
{
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    if (sa->child[i].used && sa->child[i].spi_in == spi_in) {
      return &sa->child[i];
    }
  }
  return NULL;
}

ike_child_t *ike_sa_child_free_slot(ike_sa_t *sa)
{
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    if (!sa->child[i].used) {
      return &sa->child[i];
    }
  }
  return NULL;
}
