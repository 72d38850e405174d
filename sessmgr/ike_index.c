/*
 * ike_index.c - secondary lookups of a worker's SA table: half-open SAs by
 * (SPIi, peer), established SAs by identity, and the half-open count per
 * peer address.
 *
 * The primary table is keyed by our SPI. Before these indexes, IKE_SA_INIT
 * (retransmission check) and INITIAL_CONTACT scanned the whole table: a
 * spoofed, unauthenticated IKE_SA_INIT cost time proportional to the number
 * of SAs. Every lookup here looks at the entries of one bucket, whose length
 * does not grow with the table (the bucket array doubles with the entries).
 */
#include <stdlib.h>
#include <string.h>

#include "ike_addr.h"
#include "ike_sa.h"

static ike_index_link_t *link_of(const ike_index_t *x, const ike_sa_t *sa)
{
  return (ike_index_link_t *)((char *)sa + x->link_off);
}

void ike_index_init(ike_index_t *x, size_t link_off)
{
  memset(x, 0, sizeof *x);
  x->link_off = link_off;
}

void ike_index_free(ike_index_t *x)
{
  free(x->b);
  x->b = NULL;
  x->nb = x->n = 0;
}

static int grow(ike_index_t *x)
{
  size_t nnb = x->nb ? x->nb * 2 : 256;
  ike_sa_t **nb = calloc(nnb, sizeof *nb);
  if (nb == NULL) {
    return -IKE_E_NOMEM;
  }
  for (size_t i = 0; i < x->nb; i++) {
    ike_sa_t *sa = x->b[i];
    while (sa != NULL) {
      ike_index_link_t *l = link_of(x, sa);
      ike_sa_t *next = l->next;
      size_t j = l->hash & (nnb - 1);
      l->next = nb[j];
      nb[j] = sa;
      sa = next;
    }
  }
  free(x->b);
  x->b = nb;
  x->nb = nnb;
  return 0;
}

int ike_index_add(ike_index_t *x, ike_sa_t *sa, uint32_t h)
{
  ike_index_link_t *l = link_of(x, sa);
  if (l->linked) {
    return 0;
  }
  int rc = 0;
  if (x->n >= x->nb && (rc = grow(x)) != 0 && x->nb == 0) {
    return rc; /* not even one bucket: sa stays unindexed */
  }
  size_t j = h & (x->nb - 1);
  l->hash = h;
  l->next = x->b[j];
  l->linked = true;
  x->b[j] = sa;
  x->n++;
  return rc;
}

void ike_index_del(ike_index_t *x, ike_sa_t *sa)
{
  ike_index_link_t *l = link_of(x, sa);
  if (!l->linked) {
    return;
  }
  ike_sa_t **pp = &x->b[l->hash & (x->nb - 1)];
  while (*pp != NULL && *pp != sa) {
    pp = &link_of(x, *pp)->next;
  }
  if (*pp == sa) {
    *pp = l->next;
    x->n--;
  }
  l->next = NULL;
  l->linked = false;
}

static ike_sa_t *from(const ike_index_t *x, ike_sa_t *sa, uint32_t h, uint64_t *probes)
{
  while (sa != NULL) {
    (*probes)++;
    const ike_index_link_t *l = link_of(x, sa);
    if (l->hash == h) {
      return sa;
    }
    sa = l->next;
  }
  return NULL;
}

ike_sa_t *ike_index_first(const ike_index_t *x, uint32_t h, uint64_t *probes)
{
  if (x->nb == 0) {
    return NULL;
  }
  return from(x, x->b[h & (x->nb - 1)], h, probes);
}

ike_sa_t *ike_index_next(const ike_index_t *x, const ike_sa_t *sa, uint64_t *probes)
{
  const ike_index_link_t *l = link_of(x, sa);
  return from(x, l->next, l->hash, probes);
}

static uint64_t mix(uint64_t h)
{
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

uint32_t ike_index_hash(const uint64_t key[2], const void *data, size_t len)
{
  const uint8_t *p = data;
  uint64_t h = key[0] ^ (len * 0x9E3779B97F4A7C15ull);
  while (len > 0) {
    uint64_t w = 0;
    size_t n = len < 8 ? len : 8;
    memcpy(&w, p, n);
    h = mix(h ^ w ^ key[1]);
    p += n;
    len -= n;
  }
  return (uint32_t)(mix(h ^ key[1]) >> 16);
}

/* --- half-open SAs per peer address --- */

static size_t src_home(const ike_srccount_t *s, const uint8_t *a, size_t alen)
{
  /* The table holds at most the half-open bound of entries, and an attacker
   * who spoofs many sources gets cookies long before: a fixed mix suffices. */
  uint64_t w[2] = {0, 0};
  memcpy(w, a, alen);
  return (size_t)mix(w[0] ^ mix(w[1] ^ alen)) & (s->cap - 1);
}

static ike_srccount_ent_t *src_find(const ike_srccount_t *s,
                                    const struct sockaddr_storage *ss)
{
  size_t alen = 0;
  const uint8_t *a = ike_addr_bytes(ss, &alen);
  if (s->cap == 0 || a == NULL) {
    return NULL;
  }
  for (size_t j = src_home(s, a, alen);; j = (j + 1) & (s->cap - 1)) {
    ike_srccount_ent_t *en = &s->t[j];
    if (en->family == 0) {
      return NULL;
    }
    if (en->family == ss->ss_family && memcmp(en->addr, a, alen) == 0) {
      return en;
    }
  }
}

uint32_t ike_srccount_get(const ike_srccount_t *s, const struct sockaddr_storage *ss)
{
  const ike_srccount_ent_t *en = src_find(s, ss);
  return en ? en->count : 0;
}

static void src_put(ike_srccount_t *s, const ike_srccount_ent_t *in)
{
  size_t alen = in->family == AF_INET ? 4 : 16;
  size_t j = src_home(s, in->addr, alen);
  while (s->t[j].family != 0) {
    j = (j + 1) & (s->cap - 1);
  }
  s->t[j] = *in;
}

static int src_grow(ike_srccount_t *s)
{
  size_t ncap = s->cap ? s->cap * 2 : 256;
  ike_srccount_ent_t *nt = calloc(ncap, sizeof *nt);
  if (nt == NULL) {
    return -IKE_E_NOMEM;
  }
  ike_srccount_ent_t *old = s->t;
  size_t ocap = s->cap;
  s->t = nt;
  s->cap = ncap;
  for (size_t i = 0; i < ocap; i++) {
    if (old[i].family != 0) {
      src_put(s, &old[i]);
    }
  }
  free(old);
  return 0;
}

int ike_srccount_inc(ike_srccount_t *s, const struct sockaddr_storage *ss)
{
  ike_srccount_ent_t *en = src_find(s, ss);
  if (en != NULL) {
    en->count++;
    return 0;
  }
  size_t alen = 0;
  const uint8_t *a = ike_addr_bytes(ss, &alen);
  if (a == NULL) {
    return -IKE_E_BAD_SYNTAX;
  }
  if ((s->n + 1) * 2 > s->cap && src_grow(s) != 0) {
    return -IKE_E_NOMEM;
  }
  ike_srccount_ent_t in;
  memset(&in, 0, sizeof in);
  memcpy(in.addr, a, alen);
  in.family = (uint8_t)ss->ss_family;
  in.count = 1;
  src_put(s, &in);
  s->n++;
  return 0;
}

void ike_srccount_dec(ike_srccount_t *s, const struct sockaddr_storage *ss)
{
  ike_srccount_ent_t *en = src_find(s, ss);
  if (en == NULL || --en->count > 0) {
    return;
  }
  /* Remove with backward shift (no tombstones), as the SA table does. */
  size_t j = (size_t)(en - s->t);
  s->t[j].family = 0;
  s->n--;
  for (size_t k = (j + 1) & (s->cap - 1); s->t[k].family != 0;
       k = (k + 1) & (s->cap - 1)) {
    size_t alen = s->t[k].family == AF_INET ? 4 : 16;
    size_t home = src_home(s, s->t[k].addr, alen);
    bool between = (j < k) ? (home > j && home <= k) : (home > j || home <= k);
    if (!between) {
      s->t[j] = s->t[k];
      s->t[k].family = 0;
      j = k;
    }
  }
}

void ike_srccount_free(ike_srccount_t *s)
{
  free(s->t);
  s->t = NULL;
  s->cap = s->n = 0;
}

/* --- inbound CHILD SA SPIs in use --- */

static size_t u32_home(const ike_u32set_t *s, uint32_t v)
{
  return (size_t)mix(v) & (s->cap - 1);
}

bool ike_u32set_has(const ike_u32set_t *s, uint32_t v)
{
  if (s->cap == 0 || v == 0) {
    return false;
  }
  for (size_t j = u32_home(s, v); s->t[j] != 0; j = (j + 1) & (s->cap - 1)) {
    if (s->t[j] == v) {
      return true;
    }
  }
  return false;
}

static void u32_put(ike_u32set_t *s, uint32_t v)
{
  size_t j = u32_home(s, v);
  while (s->t[j] != 0) {
    j = (j + 1) & (s->cap - 1);
  }
  s->t[j] = v;
}

int ike_u32set_add(ike_u32set_t *s, uint32_t v)
{
  if (v == 0 || ike_u32set_has(s, v)) {
    return 0;
  }
  if ((s->n + 1) * 2 > s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    uint32_t *nt = calloc(ncap, sizeof *nt);
    if (nt == NULL) {
      return -IKE_E_NOMEM;
    }
    uint32_t *old = s->t;
    size_t ocap = s->cap;
    s->t = nt;
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
      if (old[i] != 0) {
        u32_put(s, old[i]);
      }
    }
    free(old);
  }
  u32_put(s, v);
  s->n++;
  return 0;
}

void ike_u32set_del(ike_u32set_t *s, uint32_t v)
{
  if (s->cap == 0 || v == 0) {
    return;
  }
  size_t j = u32_home(s, v);
  while (s->t[j] != 0 && s->t[j] != v) {
    j = (j + 1) & (s->cap - 1);
  }
  if (s->t[j] == 0) {
    return;
  }
  s->t[j] = 0;
  s->n--;
  for (size_t k = (j + 1) & (s->cap - 1); s->t[k] != 0; k = (k + 1) & (s->cap - 1)) {
    size_t home = u32_home(s, s->t[k]);
    bool between = (j < k) ? (home > j && home <= k) : (home > j || home <= k);
    if (!between) {
      s->t[j] = s->t[k];
      s->t[k] = 0;
      j = k;
    }
  }
}

void ike_u32set_free(ike_u32set_t *s)
{
  free(s->t);
  s->t = NULL;
  s->cap = s->n = 0;
}
