/*
 * dispatch.c - ipsecmgr's logic without sockets (see ipsecmgr.h): SA
 * management requests from sessmgrs, ESP from demux / the raw socket into the
 * TUN, TUN packets out as ESP, lifetimes, gwctl's control requests.
 *
 * Every message from a peer process is unpacked, NULL-checked and freed on every
 * path; a bad one is counted and dropped. Packet paths use the manager's two
 * preallocated buffers only.
 */
#include "ipsecmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "esp.h"
#include "ike_ipc.h"
#include "ike_addr.h"
#include "ike_log.h"
#include "ike_store_util.h"
#include "ike_slot.h"
#include "ike_wire.h"
#include "ikegw_ctl.pb-c.h"
#include "ikegw_demux.pb-c.h"
#include "ikegw_ipsec.pb-c.h"
#include "seq_lease.h"

#define IPM_SLOTS (IKE_SLOT_MAX + 1u)
#define DIR_IN_PB IKEGW__IPSEC__DIRECTION__DIR_IN
#define DIR_OUT_PB IKEGW__IPSEC__DIRECTION__DIR_OUT

/* An address range of a traffic selector (RFC 7296 3.13.1), network order. */
typedef struct ipm_range {
  uint8_t family;
  uint8_t start[16], end[16];
} ipm_range_t;

/* What ipsecmgr keeps per SA beside the ESP record (same index as esp_sa_t.id). */
typedef struct ipm_meta {
  uint8_t in_use;
  uint8_t dir;             /* DIR_IN_PB / DIR_OUT_PB */
  uint8_t n_rts;           /* 0 = no selector given: any inner source */
  uint16_t owner_slot;
  uint32_t spi, child_in_spi;
  uint64_t ike_spi;
  uint64_t created_s, soft_s, hard_s; /* absolute unix times, 0 = none */
  uint64_t last_used;
  uint32_t gen;            /* owner slot's Hello generation when last named */
  /* Sequence-number lease (seq_lease.h); only with a store. */
  uint8_t dirty;           /* in m->dirty: lease / floor to be committed */
  uint32_t block, pend_block;
  uint64_t lease_end;      /* out: durable lease end; in: floor last persisted */
  uint64_t pend;           /* out: end being committed */
  uint64_t renewed_s;      /* time of the last committed renewal */
  uint8_t pol;             /* the CHILD SA's policies are installed (set on both SAs) */
  uint8_t no_rebind;       /* MOBIKE SA: never follow ESP to a new source (RFC 4555 3.5) */
  uint8_t has_pfx;         /* lts/rtsp below are usable prefixes */
  ipm_be_prefix_t lts, rtsp; /* first local / remote selector as prefixes (policies) */
  ipm_range_t rts[IPM_MAX_TS];
} ipm_meta_t;

/* child_in_spi -> outbound SA id + 1 (open addressing, backward-shift delete). */
typedef struct ipm_omap_ent {
  uint32_t key, idx1;
} ipm_omap_ent_t;

struct ipm {
  ipm_ops_t ops;
  void *ctx;
  const ipm_backend_ops_t *be;
  void *be_ctx;
  uint32_t max;
  esp_table_t *tab;
  ipm_meta_t *meta;
  ipm_omap_ent_t *omap;
  uint32_t omask;
  uint32_t *doomed;        /* SAs past their hard lifetime, removed by reap() */
  uint32_t n_doomed;
  seq_store_t *store;      /* NULL = no persisted leases */
  seq_rec_t *rec;          /* records found at start, sorted; del = adopted/dropped */
  size_t n_rec;
  uint32_t *dirty;         /* SA ids whose lease / floor must be committed */
  uint32_t n_dirty;
  seq_rec_t *pdel;         /* records to delete at the next commit */
  size_t n_pdel, pdel_cap;
  seq_rec_t *cbuf;         /* commit buffer: pdel_cap + max */
  uint64_t store_fail_s;   /* last failed commit (no retry in the packet path that second) */
  uint32_t slot_gen[IPM_SLOTS];
  uint32_t slot_replayed[IPM_SLOTS]; /* resync SaAdds received since the slot's Hello */
  uint32_t slot_sas[IPM_SLOTS];
  uint64_t now;            /* coarse unix time, refreshed per tick and request */
  ipm_counters_t c;
  uint8_t buf[IPM_PKT_MAX];    /* decapsulated inner packet */
  uint8_t obuf[IPM_PKT_MAX];   /* encapsulated ESP packet */
};

/* ---------------------------------------------------------------- helpers */

static uint64_t ipm_now(ipm_t *m)
{
  if (m->ops.now_s != NULL) {
    m->now = m->ops.now_s(m->ctx);
  }
  return m->now;
}

static int ipm_send(ipm_t *m, ipm_ch_t ch, const uint8_t *id, size_t id_len,
                    const ProtobufCMessage *msg, const uint8_t *pkt, size_t pkt_len)
{
  int r = m->ops.send != NULL ? m->ops.send(m->ctx, ch, id, id_len, msg, pkt, pkt_len) : -ENOSYS;
  if (r != 0) {
    m->c.ipc_tx_err++;
  }
  return r;
}

static uint16_t ipm_port(const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET) {
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
  }
  return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Same address and port. */
static bool ipm_same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
  if (a->ss_family != b->sa_family) {
    return false;
  }
  if (b->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
}

/* ---------------------------------------------------------------- outbound map */

static uint32_t ipm_hash(uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

static uint32_t omap_find(const ipm_t *m, uint32_t key)
{
  for (uint32_t i = ipm_hash(key) & m->omask;; i = (i + 1u) & m->omask) {
    if (m->omap[i].idx1 == 0) {
      return UINT32_MAX;
    }
    if (m->omap[i].key == key) {
      return i;
    }
  }
}

static void omap_put(ipm_t *m, uint32_t key, uint32_t id)
{
  uint32_t i = ipm_hash(key) & m->omask;
  while (m->omap[i].idx1 != 0 && m->omap[i].key != key) {
    i = (i + 1u) & m->omask;
  }
  m->omap[i].key = key;
  m->omap[i].idx1 = id + 1u;
}

static void omap_del(ipm_t *m, uint32_t key)
{
  uint32_t i = omap_find(m, key);
  if (i == UINT32_MAX) {
    return;
  }
  m->omap[i].idx1 = 0;
  /* Backward shift: move later entries of the run into the hole when their home
   * slot does not lie cyclically between the hole and them. */
  for (uint32_t j = (i + 1u) & m->omask; m->omap[j].idx1 != 0; j = (j + 1u) & m->omask) {
    uint32_t home = ipm_hash(m->omap[j].key) & m->omask;
    bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!between) {
      m->omap[i] = m->omap[j];
      m->omap[j].idx1 = 0;
      i = j;
    }
  }
}

esp_sa_t *ipm_find(ipm_t *m, int dir, uint32_t spi, uint32_t child_in_spi)
{
  if (dir == DIR_IN_PB) {
    return esp_table_find_in(m->tab, spi);
  }
  if (dir != DIR_OUT_PB) {
    return NULL;
  }
  uint32_t i = omap_find(m, child_in_spi);
  if (i == UINT32_MAX) {
    return NULL;
  }
  esp_sa_t *sa = esp_table_get(m->tab, m->omap[i].idx1 - 1u);
  return sa != NULL && sa->spi == spi ? sa : NULL;
}

/* ---------------------------------------------------------------- SA life */

static void ipm_stage_del(ipm_t *m, uint8_t dir, uint32_t spi, uint32_t cin)
{
  if (m->n_pdel >= m->pdel_cap) {
    ipm_flush(m);
    if (m->n_pdel >= m->pdel_cap) {
      return; /* store failing: the record stays (harmless: a lease only skips numbers) */
    }
  }
  seq_rec_t *r = &m->pdel[m->n_pdel++];
  memset(r, 0, sizeof(*r));
  r->del = 1;
  r->dir = dir;
  r->spi = spi;
  r->cin = cin;
}

/* The other SA of sa's CHILD SA, NULL if none. */
static esp_sa_t *ipm_pair(ipm_t *m, const esp_sa_t *sa)
{
  const ipm_meta_t *mt = &m->meta[sa->id];
  if (mt->dir == DIR_OUT_PB) {
    return esp_table_find_in(m->tab, mt->child_in_spi);
  }
  uint32_t i = omap_find(m, mt->child_in_spi);
  return i == UINT32_MAX ? NULL : esp_table_get(m->tab, m->omap[i].idx1 - 1u);
}

/* The policies of sa's CHILD SA as the backend takes them (outer path from sa,
 * seen from our side: local = the gateway). */
static void ipm_child(const ipm_t *m, const esp_sa_t *sa, ipm_be_child_t *c)
{
  const ipm_meta_t *mt = &m->meta[sa->id];
  memset(c, 0, sizeof(*c));
  c->reqid = mt->child_in_spi;
  c->local_ts = mt->lts;
  c->remote_ts = mt->rtsp;
  c->local = sa->local.ss;
  c->peer = sa->peer.ss;
}

/* Remove an SA; drop_rec: its persisted record goes too (not when a resync
 * replaces the SA under the same id: the new one continues its lease). The
 * CHILD SA's policies go with its last SA. */
static void ipm_del_sa(ipm_t *m, esp_sa_t *sa, bool drop_rec)
{
  ipm_meta_t *mt = &m->meta[sa->id];
  char err[256] = "";
  if (mt->pol && ipm_pair(m, sa) == NULL) {
    ipm_be_child_t c;
    ipm_child(m, sa, &c);
    if (m->be->del_policy(m->be_ctx, &c, err, sizeof(err)) == 0) {
      m->c.policy_del++;
    } else {
      IKE_LOG_WARN("CHILD SA %08x: removing its policies: %s", mt->child_in_spi, err);
    }
  }
  if (m->store != NULL && drop_rec && (mt->dir == DIR_OUT_PB || mt->lease_end != 0 || mt->dirty)) {
    ipm_stage_del(m, mt->dir, mt->spi, mt->child_in_spi);
  }
  if (mt->dir == DIR_OUT_PB) {
    omap_del(m, mt->child_in_spi);
  }
  if (m->slot_sas[mt->owner_slot] > 0) {
    m->slot_sas[mt->owner_slot]--;
  }
  memset(mt, 0, sizeof(*mt));
  if (m->be->del_sa(m->be_ctx, m->tab, sa, err, sizeof(err)) != 0) {
    IKE_LOG_WARN("%s", err);
  }
}

static void ipm_send_expire(ipm_t *m, const ipm_meta_t *mt, bool hard)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaExpire ex = IKEGW__IPSEC__SA_EXPIRE__INIT;
  Ikegw__Ipsec__SaId id = IKEGW__IPSEC__SA_ID__INIT;
  uint8_t rid[IKE_SLOT_ID_LEN];
  id.direction = (Ikegw__Ipsec__Direction)mt->dir;
  id.spi = mt->spi;
  id.child_in_spi = mt->child_in_spi;
  ex.id = &id;
  ex.hard = hard;
  ex.ike_spi = mt->ike_spi;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_EXPIRE;
  env.sa_expire = &ex;
  ike_slot_id_encode(mt->owner_slot, rid);
  ipm_send(m, IPM_CH_SESSMGR, rid, sizeof(rid), &env.base, NULL, 0);
}

/* Lifetime callback of the ESP table: tell the owner; a hard limit removes the
 * SA after the packet that crossed it (never under the datapath's feet). */
static void ipm_on_life(const esp_sa_t *sa, esp_life_event_t ev, void *arg)
{
  ipm_t *m = arg;
  const ipm_meta_t *mt = &m->meta[sa->id];
  if (!mt->in_use) {
    return;
  }
  bool hard = ev == ESP_LIFE_HARD;
  if (hard) {
    m->c.sa_expire_hard++;
    if (m->n_doomed < m->max) {
      m->doomed[m->n_doomed++] = sa->id;
    }
  } else {
    m->c.sa_expire_soft++;
  }
  IKE_LOG_INFO("SA %s %08x: %s lifetime reached, telling slot %u",
               mt->dir == DIR_IN_PB ? "in" : "out", mt->spi, hard ? "hard" : "soft",
               mt->owner_slot);
  ipm_send_expire(m, mt, hard);
}

static void ipm_reap(ipm_t *m)
{
  while (m->n_doomed > 0) {
    uint32_t id = m->doomed[--m->n_doomed];
    esp_sa_t *sa = esp_table_get(m->tab, id);
    if (sa != NULL && sa->hard_fired) {
      ipm_del_sa(m, sa, true);
    }
  }
}

void ipm_tick(ipm_t *m)
{
  uint64_t now = ipm_now(m);
  for (uint32_t id = 0; id < m->max; id++) {
    ipm_meta_t *mt = &m->meta[id];
    if (!mt->in_use) {
      continue;
    }
    esp_sa_t *sa = esp_table_get(m->tab, id);
    if (sa == NULL) {
      continue;
    }
    if (mt->hard_s != 0 && now >= mt->hard_s) {
      esp_sa_fire(sa, ESP_LIFE_HARD);
    } else if (mt->soft_s != 0 && now >= mt->soft_s) {
      esp_sa_fire(sa, ESP_LIFE_SOFT);
    }
  }
  ipm_reap(m);
  ipm_flush(m);
}

/* ---------------------------------------------------------------- leases */

static void ipm_mark_dirty(ipm_t *m, uint32_t id)
{
  if (m->store == NULL || m->meta[id].dirty) {
    return;
  }
  if (m->n_dirty >= m->max) { /* only after slot reuse left stale entries */
    ipm_flush(m);
    if (m->n_dirty >= m->max) {
      return;
    }
  }
  m->meta[id].dirty = 1;
  m->dirty[m->n_dirty++] = id;
}

/* esp_encap reached an outbound SA's seq_soft (seq_lease.h). */
static void ipm_on_lease(esp_sa_t *sa, bool urgent, void *arg)
{
  ipm_t *m = arg;
  ipm_mark_dirty(m, sa->id);
  sa->seq_soft = sa->seq_limit; /* no more calls until the lease is used up */
  if (urgent && m->store_fail_s != m->now) {
    m->c.seq_lease_sync++;
    ipm_flush(m);
  }
}

/* The record to commit for a dirty SA; false when the slot is free now. */
static bool ipm_lease_op(ipm_t *m, uint32_t id, seq_rec_t *r)
{
  ipm_meta_t *mt = &m->meta[id];
  esp_sa_t *sa = esp_table_get(m->tab, id);
  if (!mt->in_use || sa == NULL) {
    return false;
  }
  memset(r, 0, sizeof(*r));
  r->dir = mt->dir;
  r->spi = mt->spi;
  r->cin = mt->child_in_spi;
  r->owner = mt->owner_slot;
  if (mt->dir == DIR_OUT_PB) {
    mt->pend_block = mt->renewed_s != 0 ? seq_lease_adapt(mt->block, m->now - mt->renewed_s)
                                         : mt->block;
    uint64_t end = seq_lease_end(sa->seq, mt->pend_block, sa->esn);
    mt->pend = end > mt->lease_end ? end : mt->lease_end;
    r->mark = mt->pend;
  } else {
    r->mark = sa->replay.top;
  }
  return true;
}

/* After a commit: the leases are durable, the datapath may use them. */
static void ipm_lease_apply(ipm_t *m, uint32_t id)
{
  ipm_meta_t *mt = &m->meta[id];
  esp_sa_t *sa = esp_table_get(m->tab, id);
  mt->dirty = 0;
  if (!mt->in_use || sa == NULL) {
    return;
  }
  if (mt->dir != DIR_OUT_PB) {
    mt->lease_end = sa->replay.top > mt->lease_end ? sa->replay.top : mt->lease_end;
    return;
  }
  mt->lease_end = mt->pend;
  mt->block = mt->pend_block;
  mt->renewed_s = m->now;
  sa->seq_limit = mt->lease_end;
  /* At the end of a non-ESN space there is nothing to renew: the overflow
   * check (hard lifetime) comes first. */
  sa->seq_soft = !sa->esn && mt->lease_end >= SEQ_LEASE_SEQ32_MAX
                     ? mt->lease_end
                     : seq_lease_soft(mt->lease_end, mt->block);
}

static uint64_t ipm_mono_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void ipm_flush(ipm_t *m)
{
  if (m->store == NULL || (m->n_dirty == 0 && m->n_pdel == 0)) {
    return;
  }
  size_t n = 0;
  for (size_t i = 0; i < m->n_pdel; i++) { /* deletes first: a new SA may reuse the id */
    m->cbuf[n++] = m->pdel[i];
  }
  for (uint32_t i = 0; i < m->n_dirty; i++) {
    if (ipm_lease_op(m, m->dirty[i], &m->cbuf[n])) {
      n++;
    }
  }
  char err[256];
  uint64_t t0 = ipm_mono_us();
  int rc = seq_store_write(m->store, m->cbuf, n, err, sizeof(err));
  uint64_t dt = ipm_mono_us() - t0;
  if (rc != 0) {
    m->c.seq_lease_fail++;
    if (m->store_fail_s != m->now) {
      IKE_LOG_ERR("%s: outbound ESP stops at the end of each SA's durable lease", err);
    }
    m->store_fail_s = m->now;
    return;
  }
  m->c.seq_lease_commits++;
  m->c.seq_lease_records += n;
  m->c.seq_lease_commit_us += dt;
  m->n_pdel = 0;
  for (uint32_t i = 0; i < m->n_dirty; i++) {
    ipm_lease_apply(m, m->dirty[i]);
  }
  m->n_dirty = 0;
}

/* Open the store and load what a previous incarnation left. A store that
 * cannot be opened or read, or whose last load never finished (the process
 * died reading it), is moved aside and ipsecmgr starts with an empty one: an
 * ERROR line and seq_store_reset say so. Safe: an outbound SA replayed without
 * a lease record is refused and rekeyed, never restarted at a used number. */
static int ipm_store_open(ipm_t *m, const char *path)
{
  char err[512] = "", moved[4200] = "";
  size_t bad = 0;
  int rc = 0;
  if (ike_store_load_begin(path)) {
    snprintf(err, sizeof(err), "sequence-number store %s: its last load never finished",
             path);
    rc = -EIO;
  }
  if (rc == 0) {
    rc = seq_store_open(path, m->max, &m->store, err, sizeof(err));
  }
  if (rc == 0) {
    rc = seq_store_load(m->store, &m->rec, &m->n_rec, &bad, err, sizeof(err));
  }
  if (rc != 0) {
    seq_store_close(m->store);
    m->store = NULL;
    free(m->rec);
    m->rec = NULL;
    m->n_rec = 0;
    if (ike_store_move_aside(path, moved, sizeof(moved)) != 0) {
      snprintf(moved, sizeof(moved), "(not moved: %s)", strerror(errno));
    }
    IKE_LOG_ERR("%s; moved to %s, starting with an empty store", err, moved);
    m->c.seq_store_reset++;
    rc = seq_store_open(path, m->max, &m->store, err, sizeof(err));
  }
  ike_store_load_end(path);
  if (rc != 0) {
    IKE_LOG_ERR("%s", err);
    return rc;
  }
  m->pdel_cap = m->max + m->n_rec;
  m->pdel = calloc(m->pdel_cap, sizeof(*m->pdel));
  m->cbuf = calloc(m->pdel_cap + m->max, sizeof(*m->cbuf));
  m->dirty = calloc(m->max, sizeof(*m->dirty));
  if (m->pdel == NULL || m->cbuf == NULL || m->dirty == NULL) {
    return -ENOMEM;
  }
  IKE_LOG_INFO("sequence-number store %s: %zu records from before%s", path, m->n_rec,
               bad ? " (some undecodable, ignored)" : "");
  esp_table_set_lease_cb(m->tab, ipm_on_lease, m);
  return 0;
}

/* ---------------------------------------------------------------- new/free */

int ipm_new(const ipm_cfg_t *cfg, ipm_t **out)
{
  uint32_t max = cfg->max_sas != 0 ? cfg->max_sas : IPM_DEF_MAX_SAS;
  ipm_t *m = calloc(1, sizeof(*m));
  if (m == NULL) {
    return -ENOMEM;
  }
  m->ops = cfg->ops;
  m->ctx = cfg->ctx;
  m->be = cfg->be != NULL ? cfg->be : &ipm_be_userspace;
  m->be_ctx = cfg->be_ctx;
  m->max = max;
  uint32_t osz = 16;
  while (osz < 2u * max) {
    osz <<= 1;
  }
  m->omask = osz - 1u;
  m->meta = calloc(max, sizeof(*m->meta));
  m->omap = calloc(osz, sizeof(*m->omap));
  m->doomed = calloc(max, sizeof(*m->doomed));
  if (m->meta == NULL || m->omap == NULL || m->doomed == NULL ||
      esp_table_new(max, &m->tab) != 0) {
    ipm_free(m);
    return -ENOMEM;
  }
  esp_table_set_life_cb(m->tab, ipm_on_life, m);
  ipm_now(m);
  if (cfg->seq_store != NULL) {
    int rc = ipm_store_open(m, cfg->seq_store);
    if (rc != 0) {
      ipm_free(m);
      return rc;
    }
  }
  *out = m;
  return 0;
}

void ipm_free(ipm_t *m)
{
  if (m == NULL) {
    return;
  }
  esp_table_free(m->tab);
  seq_store_close(m->store);
  free(m->rec);
  free(m->pdel);
  free(m->cbuf);
  free(m->dirty);
  free(m->meta);
  free(m->omap);
  free(m->doomed);
  OPENSSL_cleanse(m->buf, sizeof(m->buf));
  free(m);
}

const ipm_counters_t *ipm_counters(const ipm_t *m)
{
  return &m->c;
}

ipm_counters_t *ipm_counters_rw(ipm_t *m)
{
  return &m->c;
}

esp_table_t *ipm_table(ipm_t *m)
{
  return m->tab;
}

typedef struct {
  esp_err_t cause;
  uint64_t sum;
} ipm_drop_sum_t;

static void ipm_drop_add(esp_sa_t *sa, void *arg)
{
  ipm_drop_sum_t *s = arg;
  s->sum += sa->st.err[s->cause];
}

uint64_t ipm_drops(ipm_t *m, esp_err_t cause)
{
  ipm_drop_sum_t s = {cause, esp_table_errors(m->tab)[cause]};
  esp_table_foreach(m->tab, ipm_drop_add, &s);
  return s.sum;
}

/* ---------------------------------------------------------------- SaAdd */

/* A selector's address range; false when the addresses are not one family. */
static bool ipm_range_parse(const Ikegw__Types__TrafficSelector *ts, ipm_range_t *r)
{
  memset(r, 0, sizeof(*r));
  if (ts == NULL || ts->start_addr == NULL || ts->end_addr == NULL) {
    return false;
  }
  if (inet_pton(AF_INET, ts->start_addr, r->start) == 1 &&
      inet_pton(AF_INET, ts->end_addr, r->end) == 1) {
    r->family = AF_INET;
    return memcmp(r->start, r->end, 4) <= 0;
  }
  if (inet_pton(AF_INET6, ts->start_addr, r->start) == 1 &&
      inet_pton(AF_INET6, ts->end_addr, r->end) == 1) {
    r->family = AF_INET6;
    return memcmp(r->start, r->end, 16) <= 0;
  }
  return false;
}

/* The anti-replay window the ESP layer supports nearest to the request: a
 * power of two in 64..4096. 0 ("no replay check") gets the default window:
 * this datapath always checks (RFC 4303 3.4.3 allows the receiver to). */
static uint32_t ipm_window(uint32_t w)
{
  if (w == 0) {
    return ESP_REPLAY_DEFAULT;
  }
  uint32_t p = ESP_REPLAY_MIN;
  while (p < w && p < ESP_REPLAY_MAX) {
    p <<= 1;
  }
  return p;
}

typedef struct ipm_add_ctx {
  esp_sa_params_t p;
  struct sockaddr_storage local, peer;
  ipm_meta_t mt;
} ipm_add_ctx_t;

/* Check an SaAdd and turn it into ESP parameters and metadata. 0 or -errno
 * with the reason in err. */
static int ipm_add_prepare(ipm_t *m, const Ikegw__Ipsec__SaAdd *a, ipm_add_ctx_t *x,
                           char *err, size_t errlen)
{
  memset(x, 0, sizeof(*x));
  const Ikegw__Ipsec__SaId *id = a->id;
  if (id == NULL || (id->direction != DIR_IN_PB && id->direction != DIR_OUT_PB) || id->spi == 0 ||
      (id->direction == DIR_IN_PB && id->child_in_spi != 0 && id->child_in_spi != id->spi)) {
    snprintf(err, errlen, "SaAdd: bad SA id");
    return -EINVAL;
  }
  if (a->owner_slot > IKE_SLOT_MAX || a->mode != IKEGW__IPSEC__MODE__MODE_TUNNEL) {
    snprintf(err, errlen, "SaAdd: %s", a->mode != IKEGW__IPSEC__MODE__MODE_TUNNEL
                                           ? "only tunnel mode is supported"
                                           : "owner slot out of range");
    return -EINVAL;
  }
  bool in = id->direction == DIR_IN_PB;
  uint32_t cin = in ? id->spi : id->child_in_spi;
  if (cin == 0) {
    snprintf(err, errlen, "SaAdd: outbound SA without child_in_spi");
    return -EINVAL;
  }
  if (ike_addr_parse(a->local_addr, a->udp_encap ? a->local_port : 0, &x->local) != 0 ||
      ike_addr_parse(a->peer_addr, a->udp_encap ? a->peer_port : 0, &x->peer) != 0) {
    snprintf(err, errlen, "SaAdd: bad outer address '%s' / '%s'",
             a->local_addr ? a->local_addr : "", a->peer_addr ? a->peer_addr : "");
    return -EINVAL;
  }
  esp_sa_params_t *p = &x->p;
  p->spi = id->spi;
  p->dir = in ? ESP_DIR_IN : ESP_DIR_OUT;
  p->encr = (uint16_t)a->encr_id;
  p->encr_bits = (uint16_t)a->encr_key_bits;
  p->integ = (uint16_t)a->integ_id;
  p->esn = a->esn;
  p->enc_key = a->enc_key.data;
  p->enc_key_len = a->enc_key.len;
  p->auth_key = a->integ_key.data;
  p->auth_key_len = a->integ_key.len;
  p->replay_window = in ? ipm_window(a->replay_window) : 0;
  p->local = (const struct sockaddr *)&x->local;
  p->peer = (const struct sockaddr *)&x->peer;
  p->udp_encap = a->udp_encap;
  p->owner = a->owner_slot;
  if (a->lifetime != NULL) {
    p->life.soft_bytes = a->lifetime->soft_bytes;
    p->life.hard_bytes = a->lifetime->hard_bytes;
    p->life.soft_packets = a->lifetime->soft_packets;
    p->life.hard_packets = a->lifetime->hard_packets;
  }
  ipm_meta_t *mt = &x->mt;
  ipm_range_t lr;
  if (a->n_local_ts > 0 && a->n_remote_ts > 0 && ipm_range_parse(a->local_ts[0], &lr) &&
      ipm_range_parse(a->remote_ts[0], &mt->rts[0])) {
    mt->has_pfx = ipm_be_range_prefix(lr.family, lr.start, lr.end, &mt->lts) &&
                  ipm_be_range_prefix(mt->rts[0].family, mt->rts[0].start, mt->rts[0].end,
                                      &mt->rtsp);
  }
  for (size_t i = 0; i < a->n_remote_ts && mt->n_rts < IPM_MAX_TS; i++) {
    if (!ipm_range_parse(a->remote_ts[i], &mt->rts[mt->n_rts])) {
      snprintf(err, errlen, "SaAdd: bad remote traffic selector %zu", i);
      return -EINVAL;
    }
    mt->n_rts++;
  }
  if (!in) {
    /* The userspace datapath routes by inner destination: an outbound SA needs
     * the client's (virtual) address, or a single-address remote selector. */
    if (a->virtual_ip != NULL && a->virtual_ip[0] != '\0') {
      if (esp_inaddr_parse(&p->inner, a->virtual_ip) != 0) {
        snprintf(err, errlen, "SaAdd: bad virtual_ip '%s'", a->virtual_ip);
        return -EINVAL;
      }
    } else if (mt->n_rts > 0 &&
               memcmp(mt->rts[0].start, mt->rts[0].end, sizeof(mt->rts[0].start)) == 0) {
      p->inner.family = mt->rts[0].family;
      memcpy(p->inner.addr, mt->rts[0].start, sizeof(p->inner.addr));
    } else {
      snprintf(err, errlen, "SaAdd: outbound SA needs a virtual IP or a single-address "
                            "remote selector (userspace datapath routes by inner address)");
      return -EINVAL;
    }
  }
  uint64_t now = ipm_now(m);
  mt->in_use = 1;
  mt->dir = (uint8_t)id->direction;
  mt->owner_slot = (uint16_t)a->owner_slot;
  mt->spi = id->spi;
  mt->child_in_spi = cin;
  mt->ike_spi = a->ike_spi;
  mt->no_rebind = a->no_rebind;
  mt->created_s = a->created_at != 0 ? a->created_at : now;
  if (a->lifetime != NULL) {
    mt->soft_s = a->lifetime->soft_seconds ? mt->created_s + a->lifetime->soft_seconds : 0;
    mt->hard_s = a->lifetime->hard_seconds ? mt->created_s + a->lifetime->hard_seconds : 0;
  }
  mt->gen = m->slot_gen[mt->owner_slot];
  return 0;
}

/* Does the installed SA carry exactly these algorithms and keys? */
static bool ipm_same_keys(const esp_sa_t *sa, const esp_sa_params_t *p)
{
  size_t salt = sa->aead ? 4u : 0u;
  if (sa->encr != p->encr || sa->esn != (p->esn ? 1 : 0) ||
      (sa->encr != IKE_ENCR_CHACHA20_POLY1305 && sa->encr_bits != p->encr_bits) ||
      (!sa->aead && sa->integ != p->integ) || p->enc_key_len != sa->enc_key_len + salt ||
      CRYPTO_memcmp(sa->enc_key, p->enc_key, sa->enc_key_len) != 0 ||
      (salt && CRYPTO_memcmp(sa->salt, p->enc_key + sa->enc_key_len, 4) != 0)) {
    return false;
  }
  if (!sa->aead && (p->auth_key_len != sa->auth_key_len ||
                    CRYPTO_memcmp(sa->auth_key, p->auth_key, sa->auth_key_len) != 0)) {
    return false;
  }
  return true;
}

/* The persisted record of a previous incarnation for this SA, not yet adopted. */
static seq_rec_t *ipm_recovered(ipm_t *m, const ipm_meta_t *mt)
{
  seq_rec_t *r = seq_rec_find(m->rec, m->n_rec, mt->dir, mt->spi, mt->child_in_spi);
  return r != NULL && !r->del ? r : NULL;
}

/* Where a new SA's sequence numbers start (seq_lease.h): after the persisted
 * lease of a previous incarnation (adopted here), after `floor` (the SA a
 * resync replaces), else at 1. An outbound resync with neither is refused:
 * its numbers may have been used (-ESTALE). Inbound: the replay floor. */
static int ipm_lease_start(ipm_t *m, ipm_add_ctx_t *x, bool resync, bool replaced,
                           uint64_t floor, uint64_t *start, char *err, size_t errlen)
{
  *start = floor;
  if (m->store == NULL) {
    return 0;
  }
  seq_rec_t *r = ipm_recovered(m, &x->mt);
  if (r != NULL && r->mark > *start) {
    *start = r->mark;
  }
  if (x->mt.dir == DIR_OUT_PB && r == NULL && resync && !replaced) {
    m->c.seq_lease_refused++;
    snprintf(err, errlen,
             "SaAdd out %08x: no persisted sequence-number lease for this outbound SA (state "
             "lost, or added just before a crash): refusing to restart its ESP sequence numbers, "
             "which would reuse AES-GCM/ChaCha20 nonces under the same key; rekey the CHILD SA",
             x->mt.spi);
    /* Ask the owner for a fresh CHILD SA: a soft expiry makes the sessmgr
     * rekey it (new keys, new numbers). Until then this client has no
     * outbound SA, which beats reusing nonces. */
    ipm_send_expire(m, &x->mt, false);
    return -ESTALE;
  }
  if (r != NULL) {
    r->del = 1; /* adopted: the new SA's commits overwrite the record */
    if (x->mt.dir == DIR_OUT_PB) {
      m->c.seq_lease_resumed++;
      IKE_LOG_INFO("SA out %08x: ESP sequence numbers resume after %" PRIu64
                   " (persisted lease)", x->mt.spi, r->mark);
    } else if (r->mark > 0) {
      m->c.seq_floor_restored++;
    }
  }
  return 0;
}

/* Once both SAs of a CHILD SA are in, its policies (in/out/fwd, one batch).
 * On failure the backend has taken back any that went in; sa is removed again
 * and the SaAdd fails. */
static int ipm_install_policies(ipm_t *m, esp_sa_t *sa, char *err, size_t errlen)
{
  esp_sa_t *other = ipm_pair(m, sa);
  if (other == NULL) {
    return 0;
  }
  if (m->meta[other->id].pol) { /* a resync replaced one SA: the set is in */
    m->meta[sa->id].pol = 1;
    return 0;
  }
  const esp_sa_t *in = sa->dir == ESP_DIR_IN ? sa : other;
  ipm_be_child_t c;
  ipm_child(m, in, &c);
  if (!m->meta[in->id].has_pfx && m->be != &ipm_be_userspace) {
    snprintf(err, errlen, "CHILD SA %08x: traffic selectors are not address prefixes; the %s "
             "datapath needs prefixes", c.reqid, m->be->name);
    ipm_del_sa(m, sa, true);
    return -EINVAL;
  }
  int r = m->be->add_policy(m->be_ctx, &c, err, errlen);
  if (r != 0) {
    m->c.policy_add_failed++;
    ipm_del_sa(m, sa, true);
    return r;
  }
  m->c.policy_add++;
  m->meta[sa->id].pol = m->meta[other->id].pol = 1;
  return 0;
}

static int ipm_install(ipm_t *m, ipm_add_ctx_t *x, uint64_t start, bool keep, char *err,
                       size_t errlen)
{
  esp_sa_t *sa = NULL;
  ipm_be_id_t bid = {x->mt.dir, x->mt.spi, x->mt.child_in_spi};
  int r = m->be->add_sa(m->be_ctx, m->tab, &bid, &x->p, keep, &sa, err, errlen);
  if (r == -ENOSPC) {
    /* Say the real cause and the remedy (issue: a full table once read as
     * "an SA with this id and other keys exists"). */
    snprintf(err, errlen, "SaAdd %08x: the SA table is full (%u SAs, both directions; "
             "raise 'datapath max-sas' in the config)", x->p.spi, (unsigned)m->max);
    m->c.sa_table_full++;
  }
  if (r != 0) {
    return r;
  }
  m->meta[sa->id] = x->mt;
  m->slot_sas[x->mt.owner_slot]++;
  if (x->mt.dir == DIR_OUT_PB) {
    omap_put(m, x->mt.child_in_spi, sa->id);
  }
  if (m->store != NULL) {
    ipm_meta_t *mt = &m->meta[sa->id];
    mt->block = SEQ_LEASE_START;
    if (x->mt.dir == DIR_OUT_PB) {
      sa->seq = start; /* next number start + 1; usable once the lease is durable */
      ipm_mark_dirty(m, sa->id);
    } else if (start > 0) {
      esp_replay_set_floor(&sa->replay, start);
      mt->lease_end = start;
    }
  }
  return ipm_install_policies(m, sa, err, errlen);
}

/* May an outbound SA of IKE SA (slot, ike_spi) take the route of inner
 * address `inner`? Only if no other IKE SA holds it (DESIGN.md "Security
 * rules": a virtual IP belongs to one client, so no "newest first" takeover
 * by another IKE SA). Outbound SAs of the same IKE SA (CHILD rekey, make
 * before break) may share it; after an IKE rekey the sessmgr names the new
 * IKE SPI with an identical SaAdd (state kept, ike_spi updated) before any
 * CHILD SA of the new IKE SA is added. `replaced` (the SA this request
 * replaces) is not a competitor, nor is a leftover of a previous incarnation
 * of the same slot that its replay did not name (ReplayDone removes it).
 * Returns 0, or -EADDRINUSE with the reason in err. */
static int ipm_route_owner_check(ipm_t *m, const ipm_add_ctx_t *x, const esp_sa_t *replaced,
                                 char *err, size_t errlen)
{
  const esp_inaddr_t *inner = &x->p.inner;
  if (x->mt.dir != DIR_OUT_PB || inner->family == 0) {
    return 0;
  }
  const esp_sa_t *o = esp_table_find_out(m->tab, inner);
  while (o != NULL) {
    const ipm_meta_t *om = &m->meta[o->id];
    bool same_ike = om->owner_slot == x->mt.owner_slot && om->ike_spi == x->mt.ike_spi;
    bool stale = om->owner_slot == x->mt.owner_slot && om->gen != m->slot_gen[om->owner_slot];
    if (o != replaced && om->in_use && !same_ike && !stale) {
      char a[INET6_ADDRSTRLEN] = "?";
      inet_ntop(inner->family, inner->addr, a, sizeof(a));
      m->c.sa_route_owned++;
      snprintf(err, errlen,
               "SaAdd out %08x: inner address %s is the route of IKE SA %016" PRIx64
               " (slot %u), not of IKE SA %016" PRIx64 " (slot %u): refused",
               x->mt.spi, a, om->ike_spi, om->owner_slot, x->mt.ike_spi, x->mt.owner_slot);
      return -EADDRINUSE;
    }
    o = o->inner_next != 0 ? esp_table_get(m->tab, o->inner_next - 1u) : NULL;
  }
  return 0;
}

/* An outbound SA was refused: its inbound half (same CHILD SA, same IKE SA)
 * goes too, so no half CHILD SA stays installed. */
static void ipm_drop_inbound_half(ipm_t *m, const ipm_add_ctx_t *x)
{
  esp_sa_t *in = esp_table_find_in(m->tab, x->mt.child_in_spi);
  if (in != NULL) {
    const ipm_meta_t *im = &m->meta[in->id];
    if (im->owner_slot == x->mt.owner_slot && im->ike_spi == x->mt.ike_spi) {
      ipm_del_sa(m, in, true);
    }
  }
}

/* SaAdd: a new SA, an idempotent repeat / resync of an installed one (state
 * kept), or with resync and new keys a replacement. */
static int ipm_sa_add(ipm_t *m, const Ikegw__Ipsec__SaAdd *a, char *err, size_t errlen)
{
  ipm_add_ctx_t x;
  int r = ipm_add_prepare(m, a, &x, err, errlen);
  if (r != 0) {
    return r;
  }
  esp_sa_t *old = NULL;
  if (x.mt.dir == DIR_IN_PB) {
    old = esp_table_find_in(m->tab, x.mt.spi);
  } else {
    uint32_t i = omap_find(m, x.mt.child_in_spi);
    old = i == UINT32_MAX ? NULL : esp_table_get(m->tab, m->omap[i].idx1 - 1u);
  }
  if (old != NULL) {
    ipm_meta_t *mt = &m->meta[old->id];
    if (old->spi == x.p.spi && ipm_same_keys(old, &x.p)) {
      /* Same SA: keep sequence numbers, replay window and counters; take the
       * (possibly newer) path, owner and selectors from the request. */
      esp_sa_update_addr(old, x.p.local, x.p.peer, x.p.udp_encap);
      x.mt.last_used = mt->last_used;
      if (a->created_at == 0) {
        x.mt.created_s = mt->created_s;
        x.mt.soft_s = mt->soft_s;
        x.mt.hard_s = mt->hard_s;
      }
      if (m->slot_sas[mt->owner_slot] > 0) {
        m->slot_sas[mt->owner_slot]--;
      }
      *mt = x.mt;
      m->slot_sas[mt->owner_slot]++;
      m->c.sa_resync_kept++;
      return 0;
    }
    if (!a->resync) {
      snprintf(err, errlen, "SaAdd %08x: an SA with this id and other keys exists", x.p.spi);
      return -EEXIST;
    }
  }
  r = ipm_route_owner_check(m, &x, old, err, errlen);
  if (r != 0) {
    ipm_drop_inbound_half(m, &x);
    return r;
  }
  /* An outbound SA replaced under the same id continues after the numbers the
   * old one reserved: never below (harmless to the peer: numbers only jump
   * forward). Inbound: the peer's new SA counts from 1 again, so the old
   * window says nothing about it. */
  uint64_t floor = 0;
  bool replaced = old != NULL && old->spi == x.p.spi;
  if (replaced && old->dir == ESP_DIR_OUT) {
    const ipm_meta_t *om = &m->meta[old->id];
    floor = om->lease_end > old->seq ? om->lease_end : old->seq;
  }
  uint64_t start;
  r = ipm_lease_start(m, &x, a->resync, replaced, floor, &start, err, errlen);
  if (r != 0) {
    return r;
  }
  if (old != NULL) {
    ipm_del_sa(m, old, old->spi != x.p.spi);
    m->c.sa_replaced++;
  }
  return ipm_install(m, &x, start, a->resync, err, errlen);
}

/* ---------------------------------------------------------------- SaUpdate / SaDel */

static int ipm_sa_update(ipm_t *m, const Ikegw__Ipsec__SaUpdate *u, char *err, size_t errlen)
{
  struct sockaddr_storage l, p;
  if (ike_addr_parse(u->local_addr, u->udp_encap ? u->local_port : 0, &l) != 0 ||
      ike_addr_parse(u->peer_addr, u->udp_encap ? u->peer_port : 0, &p) != 0 ||
      l.ss_family != p.ss_family ||
      (u->udp_encap && (u->local_port == 0 || u->peer_port == 0))) {
    snprintf(err, errlen, "SaUpdate: bad outer address '%s' / '%s'",
             u->local_addr ? u->local_addr : "", u->peer_addr ? u->peer_addr : "");
    return -EINVAL;
  }
  size_t unknown = 0;
  int rc = 0;
  for (size_t i = 0; i < u->n_ids; i++) {
    const Ikegw__Ipsec__SaId *id = u->ids[i];
    esp_sa_t *sa = id ? ipm_find(m, id->direction, id->spi, id->child_in_spi) : NULL;
    if (sa == NULL) {
      unknown++;
      continue;
    }
    ipm_be_child_t c; /* the CHILD SA's policies before the move */
    ipm_child(m, sa, &c);
    int r = m->be->update_sa(m->be_ctx, sa, m->meta[sa->id].pol ? &c : NULL,
                             (const struct sockaddr *)&l, (const struct sockaddr *)&p,
                             u->udp_encap, err, errlen);
    if (r != 0 && rc == 0) {
      rc = r;
      m->c.sa_update_failed++;
      IKE_LOG_WARN("%s", err);
    }
    if (u->new_ike_spi != 0) {
      m->meta[sa->id].ike_spi = u->new_ike_spi;
    }
  }
  m->c.sa_update_unknown += unknown;
  if (rc != 0) {
    return rc; /* err holds the datapath's reason */
  }
  if (unknown > 0) {
    snprintf(err, errlen, "SaUpdate: %zu of %zu SAs unknown", unknown, u->n_ids);
    return -ENOENT;
  }
  return 0;
}

static void ipm_sa_del(ipm_t *m, const Ikegw__Ipsec__SaDel *d, char *err, size_t errlen)
{
  size_t unknown = 0;
  for (size_t i = 0; i < d->n_ids; i++) {
    const Ikegw__Ipsec__SaId *id = d->ids[i];
    esp_sa_t *sa = id ? ipm_find(m, id->direction, id->spi, id->child_in_spi) : NULL;
    if (sa == NULL) {
      unknown++;
      continue;
    }
    ipm_del_sa(m, sa, true);
    m->c.sa_del++;
  }
  m->c.sa_del_unknown += unknown;
  if (unknown > 0) {
    snprintf(err, errlen, "SaDel: %zu of %zu SAs unknown", unknown, d->n_ids);
  }
}

/* Does ipsecmgr hold the CHILD SA with this inbound SPI (= reqid)? */
static bool ipm_claimed(void *arg, uint32_t reqid)
{
  ipm_t *m = arg;
  return esp_table_find_in(m->tab, reqid) != NULL || omap_find(m, reqid) != UINT32_MAX;
}

/* ReplayDone: remove the slot's SAs not named since its Hello. */
static uint32_t ipm_replay_done(ipm_t *m, uint16_t slot)
{
  uint32_t n = 0;
  for (uint32_t id = 0; id < m->max; id++) {
    ipm_meta_t *mt = &m->meta[id];
    if (mt->in_use && mt->owner_slot == slot && mt->gen != m->slot_gen[slot]) {
      esp_sa_t *sa = esp_table_get(m->tab, id);
      if (sa != NULL) {
        ipm_del_sa(m, sa, true);
        n++;
      }
    }
  }
  m->c.sa_stale_removed += n;
  /* The datapath's own leftovers of this slot nobody claims (XFRM states and
   * policies of a previous incarnation, backend.h). */
  if (m->be->reconcile != NULL) {
    char err[256] = "";
    unsigned removed = 0;
    if (m->be->reconcile(m->be_ctx, slot, ipm_claimed, m, &removed, err, sizeof(err)) != 0) {
      IKE_LOG_WARN("reconcile of slot %u: %s", slot, err);
    }
    if (removed > 0) {
      IKE_LOG_INFO("reconcile of slot %u: %u unclaimed %s states/policies removed", slot,
                   removed, m->be->name);
    }
    m->c.reconcile_removed += removed;
  }
  /* Records of a previous incarnation that the slot did not replay: gone. */
  for (size_t i = 0; i < m->n_rec; i++) {
    if (!m->rec[i].del && m->rec[i].owner == slot) {
      m->rec[i].del = 1;
      ipm_stage_del(m, m->rec[i].dir, m->rec[i].spi, m->rec[i].cin);
    }
  }
  return n;
}

/* ---------------------------------------------------------------- SaQuery */

static void ipm_fill_counters(ipm_t *m, const Ikegw__Ipsec__SaId *qid, esp_sa_t *sa,
                              Ikegw__Ipsec__SaCounters *c, Ikegw__Ipsec__SaId *cid,
                              Ikegw__Types__Counter *errs, Ikegw__Types__Counter **errp)
{
  ikegw__ipsec__sa_counters__init(c);
  ikegw__ipsec__sa_id__init(cid);
  if (qid != NULL) {
    cid->direction = qid->direction;
    cid->spi = qid->spi;
    cid->child_in_spi = qid->child_in_spi;
  }
  c->id = cid;
  c->errors = errp;
  if (sa == NULL) {
    return;
  }
  const ipm_meta_t *mt = &m->meta[sa->id];
  cid->direction = (Ikegw__Ipsec__Direction)mt->dir;
  cid->spi = mt->spi;
  cid->child_in_spi = mt->child_in_spi;
  c->found = true;
  ipm_be_stats_t bs;
  if (m->be->query(m->be_ctx, sa, &bs) != 0) {
    memset(&bs, 0, sizeof(bs));
  }
  c->packets = bs.packets;
  c->bytes = bs.bytes;
  c->last_used = mt->last_used;
  c->seq = bs.seq;
  for (int e = 1; e < ESP_E_COUNT; e++) {
    if (sa->st.err[e] != 0) {
      ikegw__types__counter__init(&errs[c->n_errors]);
      errs[c->n_errors].name = (char *)esp_err_name(e);
      errs[c->n_errors].value = sa->st.err[e];
      errp[c->n_errors] = &errs[c->n_errors];
      c->n_errors++;
    }
  }
}

/* Per-SA answer storage: the SaCounters with its id and its error counters. */
typedef struct ipm_qent {
  Ikegw__Ipsec__SaCounters c;
  Ikegw__Ipsec__SaId id;
  Ikegw__Types__Counter errs[ESP_E_COUNT];
  Ikegw__Types__Counter *errp[ESP_E_COUNT];
} ipm_qent_t;

#define IPM_QUERY_MAX 4096u

static void ipm_sa_query(ipm_t *m, const uint8_t *rid, size_t rid_len, uint64_t req,
                         const Ikegw__Ipsec__SaQuery *q)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaStats st = IKEGW__IPSEC__SA_STATS__INIT;
  size_t n = q->n_ids > 0 ? q->n_ids : m->slot_sas[q->owner_slot & IKE_SLOT_MAX];
  if (n > IPM_QUERY_MAX) {
    n = IPM_QUERY_MAX;
  }
  ipm_qent_t *e = calloc(n ? n : 1, sizeof(*e));
  Ikegw__Ipsec__SaCounters **ptr = calloc(n ? n : 1, sizeof(*ptr));
  size_t k = 0;
  if (e != NULL && ptr != NULL) {
    if (q->n_ids > 0) {
      for (; k < n; k++) {
        const Ikegw__Ipsec__SaId *id = q->ids[k];
        esp_sa_t *sa = id ? ipm_find(m, id->direction, id->spi, id->child_in_spi) : NULL;
        ipm_fill_counters(m, id, sa, &e[k].c, &e[k].id, e[k].errs, e[k].errp);
        ptr[k] = &e[k].c;
      }
    } else {
      for (uint32_t id = 0; id < m->max && k < n; id++) {
        if (m->meta[id].in_use && m->meta[id].owner_slot == q->owner_slot) {
          esp_sa_t *sa = esp_table_get(m->tab, id);
          ipm_fill_counters(m, NULL, sa, &e[k].c, &e[k].id, e[k].errs, e[k].errp);
          ptr[k] = &e[k].c;
          k++;
        }
      }
    }
  }
  st.n_sas = k;
  st.sas = ptr;
  env.id = req;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_STATS;
  env.sa_stats = &st;
  ipm_send(m, IPM_CH_SESSMGR, rid, rid_len, &env.base, NULL, 0);
  free(e);
  free(ptr);
}

/* ---------------------------------------------------------------- sessmgr channel */

static void ipm_result(ipm_t *m, const uint8_t *rid, size_t rid_len, uint64_t req, int rc,
                       const char *err)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaResult res = IKEGW__IPSEC__SA_RESULT__INIT;
  res.ok = rc == 0;
  res.error = (char *)(err != NULL ? err : "");
  res.errno_value = rc < 0 ? -rc : rc;
  env.id = req;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_RESULT;
  env.sa_result = &res;
  ipm_send(m, IPM_CH_SESSMGR, rid, rid_len, &env.base, NULL, 0);
}

/* Ask sessmgr slot to replay all its SAs (ReplayRequest, one-way). */
static void ipm_ask_replay(ipm_t *m, const uint8_t *rid, size_t rid_len, int slot)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__ReplayRequest rr = IKEGW__IPSEC__REPLAY_REQUEST__INIT;
  rr.slot = (uint32_t)slot;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_REQUEST;
  env.replay_request = &rr;
  m->c.replay_request++;
  ipm_send(m, IPM_CH_SESSMGR, rid, rid_len, &env.base, NULL, 0);
}

static void ipm_hello(ipm_t *m, const uint8_t *rid, size_t rid_len,
                      const Ikegw__Ipsec__Hello *h)
{
  int slot = ike_slot_id_decode(rid, rid_len);
  if (h == NULL || slot < 0 || h->slot != (uint32_t)slot) {
    m->c.ipc_bad++;
    IKE_LOG_WARN("bad Hello from a sessmgr (routing id %zu bytes)", rid_len);
    return;
  }
  m->c.hello++;
  m->slot_gen[slot]++;
  m->slot_replayed[slot] = 0;
  IKE_LOG_INFO("sessmgr slot %d (pid %u) connected, %u SAs held for it", slot, h->pid,
               m->slot_sas[slot]);
  if (m->slot_sas[slot] == 0) {
    /* We hold nothing for it: if we restarted, it should replay its SAs. */
    ipm_ask_replay(m, rid, rid_len, slot);
  }
}

static void ipm_dispatch_sess(ipm_t *m, const uint8_t *rid, size_t rid_len,
                              const Ikegw__Ipsec__Envelope *env)
{
  char err[256] = "";
  int rc;
  switch (env->msg_case) {
  case IKEGW__IPSEC__ENVELOPE__MSG_HELLO:
    ipm_hello(m, rid, rid_len, env->hello);
    return;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD: {
    int slot = ike_slot_id_decode(rid, rid_len);
    if (env->sa_add->resync && slot >= 0) {
      m->slot_replayed[slot]++; /* checked against ReplayDone.sa_count */
    }
    rc = ipm_sa_add(m, env->sa_add, err, sizeof(err));
    if (rc == 0) {
      m->c.sa_add++;
    } else {
      m->c.sa_add_failed++;
      IKE_LOG_WARN("%s", err);
    }
    ipm_result(m, rid, rid_len, env->id, rc, err);
    return;
  }
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_UPDATE:
    m->c.sa_update++;
    rc = ipm_sa_update(m, env->sa_update, err, sizeof(err));
    ipm_result(m, rid, rid_len, env->id, rc, err);
    return;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_DEL:
    ipm_sa_del(m, env->sa_del, err, sizeof(err));
    ipm_result(m, rid, rid_len, env->id, 0, err); /* unknown is a warning, not a failure */
    return;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_QUERY:
    ipm_sa_query(m, rid, rid_len, env->id, env->sa_query);
    return;
  case IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_DONE: {
    int slot = ike_slot_id_decode(rid, rid_len);
    if (slot < 0 || env->replay_done->slot != (uint32_t)slot) {
      m->c.ipc_bad++;
      ipm_result(m, rid, rid_len, env->id, -EINVAL, "ReplayDone: slot does not match routing id");
      return;
    }
    if (env->replay_done->sa_count != m->slot_replayed[slot]) {
      /* Some of the replay never arrived: removing "unnamed" SAs now would
       * delete live tunnels. Keep everything and ask for the replay again. */
      m->c.replay_incomplete++;
      IKE_LOG_ERR("ReplayDone of slot %d: %u SaAdd sent, %u received; nothing removed, "
                  "replay asked again", slot, env->replay_done->sa_count,
                  m->slot_replayed[slot]);
      snprintf(err, sizeof(err), "replay incomplete (%u of %u SaAdd): asked again",
               m->slot_replayed[slot], env->replay_done->sa_count);
      ipm_result(m, rid, rid_len, env->id, -EAGAIN, err);
      m->slot_gen[slot]++;
      m->slot_replayed[slot] = 0;
      ipm_ask_replay(m, rid, rid_len, slot);
      return;
    }
    uint32_t n = ipm_replay_done(m, (uint16_t)slot);
    m->slot_replayed[slot] = 0;
    snprintf(err, sizeof(err), "%u stale SAs removed", n);
    ipm_result(m, rid, rid_len, env->id, 0, err);
    return;
  }
  default:
    m->c.ipc_bad++;
    if (env->id != 0) {
      ipm_result(m, rid, rid_len, env->id, -EOPNOTSUPP, "ipsecmgr: unexpected message");
    }
    return;
  }
}

/* Is every oneof member of a request present (protobuf leaves them NULL when a
 * peer sends the case with no body... it never does, but a fuzzer may)? */
static bool ipm_env_complete(const Ikegw__Ipsec__Envelope *env)
{
  switch (env->msg_case) {
  case IKEGW__IPSEC__ENVELOPE__MSG_HELLO: return env->hello != NULL;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD: return env->sa_add != NULL;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_UPDATE: return env->sa_update != NULL;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_DEL: return env->sa_del != NULL;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_QUERY: return env->sa_query != NULL;
  case IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_DONE: return env->replay_done != NULL;
  default: return true;
  }
}

void ipm_on_sessmgr(ipm_t *m, const uint8_t *id, size_t id_len, const uint8_t *hdr,
                    size_t hdr_len)
{
  uint8_t mem[4096];
  ike_ipc_arena_t a;
  ike_ipc_arena_init(&a, mem, sizeof(mem));
  ipm_now(m);
  Ikegw__Ipsec__Envelope *env = (Ikegw__Ipsec__Envelope *)ike_ipc_unpack(
      &a, &ikegw__ipsec__envelope__descriptor, hdr, hdr_len);
  if (env == NULL || !ipm_env_complete(env)) {
    m->c.ipc_bad++;
    IKE_LOG_WARN("undecodable message from a sessmgr dropped (%zu bytes)", hdr_len);
  } else {
    ipm_dispatch_sess(m, id, id_len, env);
  }
  if (env != NULL) {
    /* SaAdd carried keys: wipe them from the arena / heap copy before release. */
    if (env->msg_case == IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD && env->sa_add != NULL) {
      OPENSSL_cleanse(env->sa_add->enc_key.data, env->sa_add->enc_key.len);
      OPENSSL_cleanse(env->sa_add->integ_key.data, env->sa_add->integ_key.len);
    }
    ike_ipc_unpack_free(&a, &env->base);
  }
  OPENSSL_cleanse(mem, sizeof(mem));
}

/* ---------------------------------------------------------------- datapath */

/* Inner source of an IP packet inside one of the SA's remote selectors? */
static bool ipm_ts_ok(const ipm_meta_t *mt, const uint8_t *pkt, size_t len)
{
  if (mt->n_rts == 0) {
    return true;
  }
  uint8_t fam, src[16] = {0};
  size_t alen;
  if (len >= 20 && (pkt[0] >> 4) == 4) {
    fam = AF_INET;
    alen = 4;
    memcpy(src, pkt + 12, 4);
  } else if (len >= 40 && (pkt[0] >> 4) == 6) {
    fam = AF_INET6;
    alen = 16;
    memcpy(src, pkt + 8, 16);
  } else {
    return false;
  }
  for (unsigned i = 0; i < mt->n_rts; i++) {
    const ipm_range_t *r = &mt->rts[i];
    if (r->family == fam && memcmp(src, r->start, alen) >= 0 && memcmp(src, r->end, alen) <= 0) {
      return true;
    }
  }
  return false;
}

/* NAT rebinding: authenticated ESP-in-UDP that advanced the window, from a new
 * source: move the CHILD SA's both directions there (ipsecmgr.h). */
static void ipm_follow_nat(ipm_t *m, esp_sa_t *in, const uint8_t *esp,
                           const struct sockaddr *src)
{
  uint32_t seq_lo = (uint32_t)esp[4] << 24 | (uint32_t)esp[5] << 16 | (uint32_t)esp[6] << 8 | esp[7];
  if (!in->udp_encap || (uint32_t)in->replay.top != seq_lo ||
      ipm_same_sockaddr(&in->peer.ss, src) || src->sa_family != in->local.ss.ss_family) {
    return;
  }
  if (m->meta[in->id].no_rebind) {
    /* A MOBIKE SA moves only by UPDATE_SA_ADDRESSES, after the return
     * routability check: ESP alone must not move it (RFC 4555 3.5). */
    m->c.esp_rebind_refused++;
    return;
  }
  uint32_t i = omap_find(m, in->spi);
  esp_sa_t *out = i == UINT32_MAX ? NULL : esp_table_get(m->tab, m->omap[i].idx1 - 1u);
  char was[INET6_ADDRSTRLEN + 8];
  snprintf(was, sizeof(was), "%s:%u", in->peer.str, ipm_port(&in->peer.ss));
  if (esp_sa_update_addr(in, (const struct sockaddr *)&in->local.ss, src, true) != 0) {
    return;
  }
  if (out != NULL && out->udp_encap) {
    esp_sa_update_addr(out, (const struct sockaddr *)&out->local.ss, src, true);
  }
  m->c.esp_nat_rebind++;
  IKE_LOG_INFO("CHILD SA %08x: NAT rebinding %s -> %s:%u, ESP follows", in->spi, was,
               in->peer.str, ipm_port(&in->peer.ss));
}

void ipm_esp_in(ipm_t *m, const uint8_t *esp, size_t len, const struct sockaddr *src, bool udp)
{
  esp_sa_t *sa = NULL;
  size_t ilen = 0;
  m->c.esp_rx++;
  int r = esp_decap(m->tab, esp, len, m->buf, sizeof(m->buf), &ilen, &sa);
  if (r != 0) {
    if (r != -ESP_E_DUMMY) {
      m->c.esp_rx_dropped++;
    }
    ipm_reap(m);
    return;
  }
  ipm_meta_t *mt = &m->meta[sa->id];
  if (!ipm_ts_ok(mt, m->buf, ilen)) {
    m->c.esp_ts_mismatch++;
    ipm_reap(m);
    return;
  }
  mt->last_used = m->now;
  if (m->store != NULL && sa->replay.top >= mt->lease_end + mt->block) {
    ipm_mark_dirty(m, sa->id); /* lazy floor, committed with the next flush */
  }
  if (udp && src != NULL) {
    ipm_follow_nat(m, sa, esp, src);
  }
  if (m->ops.tun_write == NULL || m->ops.tun_write(m->ctx, m->buf, ilen) != 0) {
    m->c.tun_tx_err++;
  } else {
    m->c.esp_rx_ok++;
  }
  ipm_reap(m);
}

void ipm_tun_in(ipm_t *m, const uint8_t *pkt, size_t len)
{
  m->c.tun_rx++;
  esp_sa_t *sa = esp_table_route(m->tab, pkt, len);
  if (sa == NULL) {
    m->c.tun_no_sa++;
    return;
  }
  size_t olen = 0;
  if (esp_encap(sa, pkt, len, m->obuf, sizeof(m->obuf), &olen) != 0) {
    m->c.tun_encap_failed++;
    ipm_reap(m);
    return;
  }
  m->meta[sa->id].last_used = m->now;
  int r = -ENOTSUP;
  if (sa->udp_encap && m->ops.udp_send != NULL) {
    r = m->ops.udp_send(m->ctx, sa, m->obuf, olen);
    if (r == 0) {
      m->c.esp_tx_udp_direct++;
    }
  }
  if (r != -ENOTSUP) {
    /* sent directly, or failed doing so */
  } else if (sa->udp_encap) {
    Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
    Ikegw__Demux__Datagram dg = IKEGW__DEMUX__DATAGRAM__INIT;
    dg.src_addr = sa->local.str;
    dg.src_port = ipm_port(&sa->local.ss);
    dg.dst_addr = sa->peer.str;
    dg.dst_port = ipm_port(&sa->peer.ss);
    dg.natt = true;
    dg.non_esp_marker = false;
    env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM;
    env.datagram = &dg;
    r = ipm_send(m, IPM_CH_DEMUX, NULL, 0, &env.base, m->obuf, olen);
    if (r == 0) {
      m->c.esp_tx_udp++;
    }
  } else {
    r = m->ops.raw_send != NULL ? m->ops.raw_send(m->ctx, sa, m->obuf, olen) : -ENOSYS;
    if (r == 0) {
      m->c.esp_tx_raw++;
    }
  }
  if (r == 0) {
    m->c.esp_tx++;
  } else {
    m->c.esp_tx_err++;
  }
  ipm_reap(m);
}

/* ---------------------------------------------------------------- demux channel */

void ipm_hello_demux(ipm_t *m)
{
  Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
  Ikegw__Demux__Hello h = IKEGW__DEMUX__HELLO__INIT;
  h.slot = 0;
  h.pid = (uint32_t)getpid();
  h.role = IKEGW__DEMUX__ROLE__ROLE_IPSECMGR;
  env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_HELLO;
  env.hello = &h;
  ipm_send(m, IPM_CH_DEMUX, NULL, 0, &env.base, NULL, 0);
}

void ipm_on_demux(ipm_t *m, const uint8_t *hdr, size_t hdr_len, const uint8_t *pkt,
                  size_t pkt_len)
{
  uint8_t mem[1024];
  ike_ipc_arena_t a;
  ike_ipc_arena_init(&a, mem, sizeof(mem));
  Ikegw__Demux__Envelope *env = (Ikegw__Demux__Envelope *)ike_ipc_unpack(
      &a, &ikegw__demux__envelope__descriptor, hdr, hdr_len);
  if (env == NULL || env->msg_case != IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM ||
      env->datagram == NULL || pkt == NULL) {
    m->c.ipc_bad++;
    ike_ipc_unpack_free(&a, env != NULL ? &env->base : NULL);
    return;
  }
  const Ikegw__Demux__Datagram *dg = env->datagram;
  struct sockaddr_storage src;
  if (!dg->natt || dg->non_esp_marker || ike_addr_parse(dg->src_addr, dg->src_port, &src) != 0 ||
      dg->src_port == 0) {
    m->c.esp_rx_not_esp++;
  } else {
    ipm_esp_in(m, pkt, pkt_len, (const struct sockaddr *)&src, true);
  }
  ike_ipc_unpack_free(&a, &env->base);
}

/* ---------------------------------------------------------------- control channel */

#define IPM_N_CTR (sizeof(ipm_counters_t) / sizeof(uint64_t) + ESP_E_COUNT + 8)

typedef struct {
  Ikegw__Types__Counter c[IPM_N_CTR];
  Ikegw__Types__Counter *p[IPM_N_CTR];
  char names[ESP_E_COUNT][40];
  size_t n;
  const char *prefix;
} ipm_ctrs_t;

static void ipm_put(ipm_ctrs_t *cs, const char *name, uint64_t v)
{
  if (cs->n >= IPM_N_CTR ||
      (cs->prefix != NULL && strncmp(name, cs->prefix, strlen(cs->prefix)) != 0)) {
    return;
  }
  ikegw__types__counter__init(&cs->c[cs->n]);
  cs->c[cs->n].name = (char *)name;
  cs->c[cs->n].value = v;
  cs->p[cs->n] = &cs->c[cs->n];
  cs->n++;
}

typedef struct {
  uint64_t in, out, pk_in, pk_out, by_in, by_out;
} ipm_sa_sums_t;

static void ipm_sum_sa(esp_sa_t *sa, void *arg)
{
  ipm_sa_sums_t *s = arg;
  if (sa->dir == ESP_DIR_IN) {
    s->in++;
    s->pk_in += sa->st.packets;
    s->by_in += sa->st.bytes;
  } else {
    s->out++;
    s->pk_out += sa->st.packets;
    s->by_out += sa->st.bytes;
  }
}

static void ipm_collect(ipm_t *m, ipm_ctrs_t *cs)
{
  ipm_sa_sums_t s = {0};
  esp_table_foreach(m->tab, ipm_sum_sa, &s);
  ipm_put(cs, "sas_in", s.in);
  ipm_put(cs, "sas_out", s.out);
  ipm_put(cs, "esp_packets_in", s.pk_in);
  ipm_put(cs, "esp_bytes_in", s.by_in);
  ipm_put(cs, "esp_packets_out", s.pk_out);
  ipm_put(cs, "esp_bytes_out", s.by_out);
#define X(n, d) ipm_put(cs, #n, m->c.n);
  IPM_COUNTERS(X)
#undef X
  for (int e = 1; e < ESP_E_COUNT; e++) {
    snprintf(cs->names[e], sizeof(cs->names[e]), "esp_drop_%s", esp_err_name(e));
    ipm_put(cs, cs->names[e], ipm_drops(m, (esp_err_t)e));
  }
}

void ipm_on_ctl(ipm_t *m, const uint8_t *id, size_t id_len, const uint8_t *hdr, size_t hdr_len)
{
  Ikegw__Ctl__Envelope *req = (Ikegw__Ctl__Envelope *)ike_ipc_unpack(
      NULL, &ikegw__ctl__envelope__descriptor, hdr, hdr_len);
  Ikegw__Ctl__Envelope out = IKEGW__CTL__ENVELOPE__INIT;
  Ikegw__Ctl__StatsResponse st = IKEGW__CTL__STATS_RESPONSE__INIT;
  Ikegw__Ctl__Result res = IKEGW__CTL__RESULT__INIT;
  static ipm_ctrs_t cs; /* large; one request at a time on one loop */

  if (req == NULL) {
    m->c.ipc_bad++;
    return;
  }
  out.id = req->id;
  if (req->msg_case == IKEGW__CTL__ENVELOPE__MSG_STATS_REQUEST && req->stats_request != NULL) {
    cs.n = 0;
    cs.prefix = req->stats_request->prefix != NULL && req->stats_request->prefix[0] != '\0'
                    ? req->stats_request->prefix
                    : NULL;
    ipm_collect(m, &cs);
    st.process = "ipsecmgr";
    st.pid = (uint32_t)getpid();
    st.n_counters = cs.n;
    st.counters = cs.p;
    out.msg_case = IKEGW__CTL__ENVELOPE__MSG_STATS_RESPONSE;
    out.stats_response = &st;
    ipm_send(m, IPM_CH_CTL, id, id_len, &out.base, NULL, 0);
    if (req->stats_request->clear) {
      memset(&m->c, 0, sizeof(m->c));
    }
  } else {
    res.ok = false;
    res.error = "ipsecmgr: request not supported (StatsRequest only; per-SA counters via SaQuery)";
    out.msg_case = IKEGW__CTL__ENVELOPE__MSG_RESULT;
    out.result = &res;
    ipm_send(m, IPM_CH_CTL, id, id_len, &out.base, NULL, 0);
  }
  ike_ipc_unpack_free(NULL, &req->base);
}
