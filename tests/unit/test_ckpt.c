/*
 * test_ckpt.c - checkpoints of IKE SAs (sessmgr/ike_ckpt.h, DESIGN.md
 * "Recovery"): the record round trip of every field, refused records, the
 * LMDB store (put/get/del/foreach/commit/abort, reopen), the engine's dirty
 * tracking, and kill-and-restore with the in-memory bench: an engine is
 * checkpointed, freed, and a new engine restored from the store answers the
 * client's retransmitted request with the same bytes (RFC 7296 2.1), answers
 * DPD, retransmits its own pending request with the same Message ID (2.2),
 * follows a MOBIKE update (RFC 4555 3.5) and rekeys a CHILD SA (1.3.3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_ckpt.h"
#include "ike_sa.h"
#include "ike_slot.h"

#define OFF_A 1700000000000ll   /* unix ms - engine ms of the first process */

typedef struct ctx {
  hx_t hx;
  char dir[64];
  ike_ckpt_store_t *st;
} ctx_t;

static int setup(void **state)
{
  ctx_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return -1;
  }
  snprintf(c->dir, sizeof c->dir, "/tmp/test_ckpt.XXXXXX");
  if (mkdtemp(c->dir) == NULL) {
    free(c);
    return -1;
  }
  *state = c;
  return 0;
}

static int teardown(void **state)
{
  ctx_t *c = *state;
  char path[128];
  if (c->hx.gw != NULL) {
    hx_fini(&c->hx);
  }
  ike_ckpt_store_close(c->st);
  for (unsigned s = 0; s < 8; s++) {
    snprintf(path, sizeof path, "%s/ckpt-sessmgr-%u.mdb", c->dir, s);
    unlink(path);
    snprintf(path, sizeof path, "%s/ckpt-sessmgr-%u.mdb-lock", c->dir, s);
    unlink(path);
  }
  rmdir(c->dir);
  free(c);
  return 0;
}

/* --- a hand-made SA with every field set --- */

static void addr4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
  hx_addr4(ss, a, port);
}

static void fill_sa(ike_sa_t *sa)
{
  memset(sa, 0, sizeof *sa);
  sa->spi_i = 0x1122334455667788ull;
  sa->spi_r = ike_spi_make(HX_SLOT, 0xABCDEF0123ull);
  sa->state = IKE_SA_ESTABLISHED;
  sa->tmpl = 0;
  sa->suite = (ike_suite_t){.encr = IKE_ENCR_AES_CBC, .encr_bits = 256,
                            .integ = IKE_INTEG_HMAC_SHA2_256_128,
                            .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_ECP_256};
  sa->keys.d_len = 32;
  sa->keys.e_len = 32;
  sa->keys.a_len = 32;
  for (int i = 0; i < 32; i++) {
    sa->keys.sk_d[i] = (uint8_t)(i + 1);
    sa->keys.sk_ei[i] = (uint8_t)(i + 40);
    sa->keys.sk_er[i] = (uint8_t)(i + 80);
    sa->keys.sk_ai[i] = (uint8_t)(i + 120);
    sa->keys.sk_ar[i] = (uint8_t)(i + 160);
  }
  assert_int_equal(ike_sk_dir_init(&sa->sk_in, &sa->suite, sa->keys.sk_ei, sa->keys.sk_ai), 0);
  assert_int_equal(ike_sk_dir_init(&sa->sk_out, &sa->suite, sa->keys.sk_er, sa->keys.sk_ar), 0);
  addr4(&sa->path.peer, "198.51.100.7", 4501);
  addr4(&sa->path.local, "192.0.2.1", 4500);
  sa->natt = true;
  sa->nat_peer = true;
  sa->nat_local = false;
  sa->mobike = true;
  sa->no_nats_allowed = true;
  sa->peer_sig_hashes = 0x1C;
  sa->peer_id_type = IKE_ID_FQDN;
  snprintf(sa->peer_id, sizeof sa->peer_id, "client.example.net");
  sa->vip4 = hx_ip4("10.10.0.8");
  sa->has_vip6 = true;
  inet_pton(AF_INET6, "2001:db8:1::15", sa->vip6);
  sa->peer_next_id = 9;
  sa->our_next_id = 4;
  sa->rsp_len = 80;
  sa->rsp = malloc(sa->rsp_len);
  sa->req_len = 96;
  sa->req = malloc(sa->req_len);
  assert_non_null(sa->rsp);
  assert_non_null(sa->req);
  for (size_t i = 0; i < 96; i++) {
    if (i < 80) {
      sa->rsp[i] = (uint8_t)(i * 3);
    }
    sa->req[i] = (uint8_t)(i * 5);
  }
  sa->rsp[18] = IKE_EXCH_INFORMATIONAL;
  sa->req[18] = IKE_EXCH_INFORMATIONAL;
  sa->rsp_id = 8;
  sa->rsp_update = true;
  sa->req_id = 3;
  sa->req_kind = IKE_REQ_COOKIE2;
  sa->req_tries = 2;
  sa->req_next_ms = 500000;
  memset(sa->cookie2, 0xC2, sizeof sa->cookie2);
  sa->rrc_pending = false;
  sa->mobike_last_id = 7;
  sa->mobike_updates = 5;
  sa->created_ms = 100000;
  sa->last_rx_ms = 400000;
  sa->dpd_next_ms = 430000;
  sa->expire_ms = 3700000;
  for (int k = 0; k < 2; k++) {
    ike_child_t *c = &sa->child[k == 0 ? 0 : 2]; /* a hole at index 1 */
    c->used = true;
    c->spi_in = (7u << 24) | (0x1234u + (uint32_t)k);
    c->spi_out = 0xC0000000u + (uint32_t)k;
    c->suite = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 128, .esn = k == 1};
    c->ek_len = 20;
    c->ak_len = 0;
    for (int i = 0; i < 20; i++) {
      c->ek_in[i] = (uint8_t)(200 + i + k);
      c->ek_out[i] = (uint8_t)(100 + i + k);
    }
    c->ts_local.type = IKE_TS_IPV4_ADDR_RANGE;
    c->ts_local.end_port = 0xFFFF;
    inet_pton(AF_INET, "10.1.0.0", c->ts_local.start);
    inet_pton(AF_INET, "10.1.255.255", c->ts_local.end);
    c->ts_remote.type = IKE_TS_IPV4_ADDR_RANGE;
    c->ts_remote.ip_proto = 17;
    c->ts_remote.start_port = 53;
    c->ts_remote.end_port = 53;
    inet_pton(AF_INET, "10.10.0.8", c->ts_remote.start);
    inet_pton(AF_INET, "10.10.0.8", c->ts_remote.end);
    c->created_ms = 200000 + (uint64_t)k;
  }
}

static void free_sa(ike_sa_t *sa)
{
  free(sa->rsp);
  free(sa->req);
}

static void same_child(const ike_child_t *a, const ike_child_t *b)
{
  assert_true(b->used);
  assert_int_equal(a->spi_in, b->spi_in);
  assert_int_equal(a->spi_out, b->spi_out);
  assert_memory_equal(&a->suite, &b->suite, sizeof a->suite);
  assert_int_equal(a->ek_len, b->ek_len);
  assert_int_equal(a->ak_len, b->ak_len);
  assert_memory_equal(a->ek_in, b->ek_in, a->ek_len);
  assert_memory_equal(a->ek_out, b->ek_out, a->ek_len);
  assert_memory_equal(&a->ts_local, &b->ts_local, sizeof a->ts_local);
  assert_memory_equal(&a->ts_remote, &b->ts_remote, sizeof a->ts_remote);
}

/* Encode with one clock offset and decode with another: every field comes
 * back, engine times shifted by the difference of the offsets. */
static void roundtrip_every_field(void **state)
{
  ctx_t *c = *state;
  hx_init(&c->hx, NULL);
  ike_sa_t sa, out;
  fill_sa(&sa);
  uint8_t *buf = NULL;
  size_t cap = 0, len = 0;
  const int64_t shift = 60000; /* the new process's clock started 60 s later */
  assert_int_equal(ike_ckpt_encode(c->hx.gw, &sa, OFF_A, &buf, &cap, &len), 0);
  assert_true(len > 300);
  assert_int_equal(ike_ckpt_decode(c->hx.gw, buf, len, OFF_A + shift, &out), 0);
  assert_int_equal(out.spi_i, sa.spi_i);
  assert_int_equal(out.spi_r, sa.spi_r);
  assert_int_equal(out.state, IKE_SA_ESTABLISHED);
  assert_int_equal(out.tmpl, 0);
  assert_memory_equal(&out.suite, &sa.suite, sizeof sa.suite);
  assert_memory_equal(&out.keys, &sa.keys, offsetof(ike_keys_t, sk_pi));
  assert_int_equal(out.keys.d_len, 32);
  assert_int_equal(out.keys.e_len, 32);
  assert_int_equal(out.keys.a_len, 32);
  assert_memory_equal(&out.sk_in, &sa.sk_in, sizeof sa.sk_in);
  assert_memory_equal(&out.sk_out, &sa.sk_out, sizeof sa.sk_out);
  assert_true(hx_path_eq(&out.path, &sa.path));
  assert_true(out.natt && out.nat_peer && !out.nat_local && out.mobike && out.no_nats_allowed);
  assert_int_equal(out.peer_sig_hashes, 0x1C);
  assert_int_equal(out.peer_id_type, IKE_ID_FQDN);
  assert_string_equal(out.peer_id, "client.example.net");
  assert_int_equal(out.vip4, sa.vip4);
  assert_true(out.has_vip6);
  assert_memory_equal(out.vip6, sa.vip6, 16);
  assert_int_equal(out.peer_next_id, 9);
  assert_int_equal(out.our_next_id, 4);
  assert_int_equal(out.rsp_len, sa.rsp_len);
  assert_memory_equal(out.rsp, sa.rsp, sa.rsp_len);
  assert_int_equal(out.rsp_id, 8);
  assert_true(out.rsp_update);
  assert_int_equal(out.req_len, sa.req_len);
  assert_memory_equal(out.req, sa.req, sa.req_len);
  assert_int_equal(out.req_id, 3);
  assert_int_equal(out.req_kind, IKE_REQ_COOKIE2);
  assert_int_equal(out.req_tries, 2);
  assert_memory_equal(out.cookie2, sa.cookie2, 16);
  assert_false(out.rrc_pending);
  assert_int_equal(out.mobike_last_id, 7);
  assert_int_equal(out.mobike_updates, 5);
  assert_int_equal(out.req_next_ms, sa.req_next_ms - shift);
  assert_int_equal(out.created_ms, sa.created_ms - shift);
  assert_int_equal(out.last_rx_ms, sa.last_rx_ms - shift);
  assert_int_equal(out.dpd_next_ms, sa.dpd_next_ms - shift);
  assert_int_equal(out.expire_ms, sa.expire_ms - shift);
  /* CHILD SAs come back packed at the front (the hole is not kept). */
  same_child(&sa.child[0], &out.child[0]);
  same_child(&sa.child[2], &out.child[1]);
  assert_false(out.child[2].used);
  assert_int_equal(out.child[0].created_ms, sa.child[0].created_ms - shift);
  assert_int_equal(out.heap_idx, 0);
  assert_int_equal(out.dirty_idx, 0);
  assert_null(out.ho);
  assert_null(out.dh);
  ike_ckpt_sa_clear(&out);

  /* A time long before the new clock's start is clamped, not wrapped. */
  assert_int_equal(ike_ckpt_decode(c->hx.gw, buf, len, OFF_A + 10000000, &out), 0);
  assert_int_equal(out.created_ms, 1);
  assert_int_equal(out.expire_ms, 1);
  ike_ckpt_sa_clear(&out);

  /* Return routability check waiting for our window: rr_state 1. */
  sa.rrc_pending = true;
  sa.req_kind = IKE_REQ_DPD;
  assert_int_equal(ike_ckpt_encode(c->hx.gw, &sa, OFF_A, &buf, &cap, &len), 0);
  assert_int_equal(ike_ckpt_decode(c->hx.gw, buf, len, OFF_A, &out), 0);
  assert_true(out.rrc_pending);
  assert_int_equal(out.req_kind, IKE_REQ_DPD);
  assert_memory_equal(out.cookie2, sa.cookie2, 16);
  ike_ckpt_sa_clear(&out);

  /* Half-open SAs are never encoded. */
  sa.state = IKE_SA_HALF_OPEN;
  assert_int_equal(ike_ckpt_encode(c->hx.gw, &sa, OFF_A, &buf, &cap, &len),
                   -IKE_E_BAD_SYNTAX);
  free(buf);
  free_sa(&sa);
}

/* Records that do not fit the engine are refused, never half-used. */
static void refuses_bad_records(void **state)
{
  ctx_t *c = *state;
  hx_init(&c->hx, NULL);
  ike_sa_t sa, out;
  uint8_t *buf = NULL;
  size_t cap = 0, len = 0;
  fill_sa(&sa);
  assert_int_equal(ike_ckpt_encode(c->hx.gw, &sa, OFF_A, &buf, &cap, &len), 0);
  /* Truncated bytes. */
  assert_int_not_equal(ike_ckpt_decode(c->hx.gw, buf, len / 2, OFF_A, &out), 0);
  /* Another slot's engine. */
  ike_engine_t *other = NULL;
  static const ike_engine_ops_t ops = {gw_send, gw_child_add, gw_child_update, gw_child_del};
  assert_int_equal(ike_engine_new(HX_SLOT + 1, &c->hx.cfg, &ops, &c->hx, &other), 0);
  assert_int_equal(ike_ckpt_decode(other, buf, len, OFF_A, &out), -IKE_E_BAD_SYNTAX);
  ike_engine_free(other);
  /* Unknown template (the configuration lost it). */
  char saved = c->hx.cfg.templates[0].name[0];
  c->hx.cfg.templates[0].name[0] = 'X';
  assert_int_equal(ike_ckpt_decode(c->hx.gw, buf, len, OFF_A, &out), -IKE_E_BAD_SYNTAX);
  c->hx.cfg.templates[0].name[0] = saved;
  /* Encryption key of the wrong length for the suite. */
  sa.keys.e_len = 16;
  assert_int_equal(ike_ckpt_encode(c->hx.gw, &sa, OFF_A, &buf, &cap, &len), 0);
  assert_int_equal(ike_ckpt_decode(c->hx.gw, buf, len, OFF_A, &out), -IKE_E_BAD_SYNTAX);
  sa.keys.e_len = 32;
  /* A newer format: field 1 = 2 patched in place (first byte pair 08 01). */
  assert_int_equal(ike_ckpt_encode(c->hx.gw, &sa, OFF_A, &buf, &cap, &len), 0);
  assert_int_equal(buf[0], 0x08);
  assert_int_equal(buf[1], IKE_CKPT_FORMAT);
  buf[1] = IKE_CKPT_FORMAT + 1;
  assert_int_equal(ike_ckpt_decode(c->hx.gw, buf, len, OFF_A, &out), -IKE_E_BAD_VERSION);
  /* Every single-byte corruption is refused or decodes to a consistent SA;
   * none crashes (the record is as untrusted as any input). */
  buf[1] = IKE_CKPT_FORMAT;
  for (size_t i = 0; i < len; i++) {
    uint8_t keep = buf[i];
    buf[i] ^= 0xA5;
    if (ike_ckpt_decode(c->hx.gw, buf, len, OFF_A, &out) == 0) {
      ike_ckpt_sa_clear(&out);
    }
    buf[i] = keep;
  }
  free(buf);
  free_sa(&sa);
}

/* --- store --- */

typedef struct seen {
  uint64_t spi[8];
  size_t len[8];
  size_t n;
} seen_t;

static int see(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  seen_t *s = arg;
  (void)rec;
  if (s->n < 8) {
    s->spi[s->n] = spi;
    s->len[s->n++] = len;
  }
  return 0;
}

static void store_basics(void **state)
{
  ctx_t *c = *state;
  const uint8_t r1[] = "record one", r2[] = "record two, longer", r3[] = "three";
  uint8_t *got = NULL;
  size_t len = 0;
  assert_int_equal(ike_ckpt_store_open(c->dir, 3, &c->st), 0);
  assert_non_null(strstr(ike_ckpt_store_path(c->st), "ckpt-sessmgr-3.mdb"));
  assert_int_equal(ike_ckpt_store_count(c->st), 0);
  assert_int_equal(ike_ckpt_store_put(c->st, 0x0003000000000002ull, r2, sizeof r2), 0);
  assert_int_equal(ike_ckpt_store_put(c->st, 0x0003000000000001ull, r1, sizeof r1), 0);
  assert_int_equal(ike_ckpt_store_put(c->st, 0x00030000000000FFull, r3, sizeof r3), 0);
  /* The open transaction sees its own writes. */
  assert_int_equal(ike_ckpt_store_get(c->st, 0x0003000000000001ull, &got, &len), 0);
  assert_int_equal(len, sizeof r1);
  assert_memory_equal(got, r1, len);
  free(got);
  assert_int_equal(ike_ckpt_store_commit(c->st), 0);
  assert_int_equal(ike_ckpt_store_count(c->st), 3);
  /* Key order = SPI order (big-endian keys). */
  seen_t s = {0};
  assert_int_equal(ike_ckpt_store_foreach(c->st, see, &s), 3);
  assert_int_equal(s.spi[0], 0x0003000000000001ull);
  assert_int_equal(s.spi[1], 0x0003000000000002ull);
  assert_int_equal(s.spi[2], 0x00030000000000FFull);
  assert_int_equal(s.len[1], sizeof r2);
  /* Overwrite, delete, delete a missing key, then abort: nothing changes. */
  assert_int_equal(ike_ckpt_store_put(c->st, 0x0003000000000001ull, r3, sizeof r3), 0);
  assert_int_equal(ike_ckpt_store_del(c->st, 0x0003000000000002ull), 0);
  assert_int_equal(ike_ckpt_store_del(c->st, 0x0003000000000777ull), 0);
  ike_ckpt_store_abort(c->st);
  assert_int_equal(ike_ckpt_store_count(c->st), 3);
  assert_int_equal(ike_ckpt_store_get(c->st, 0x0003000000000001ull, &got, &len), 0);
  assert_memory_equal(got, r1, sizeof r1);
  free(got);
  /* The same, committed. */
  assert_int_equal(ike_ckpt_store_put(c->st, 0x0003000000000001ull, r3, sizeof r3), 0);
  assert_int_equal(ike_ckpt_store_del(c->st, 0x0003000000000002ull), 0);
  assert_int_equal(ike_ckpt_store_commit(c->st), 0);
  assert_int_equal(ike_ckpt_store_get(c->st, 0x0003000000000002ull, &got, &len),
                   -IKE_E_TRUNC);
  assert_int_equal(ike_ckpt_store_sync(c->st), 0);
  /* Reopened (a restarted process): the committed state is there. */
  ike_ckpt_store_close(c->st);
  c->st = NULL;
  assert_int_equal(ike_ckpt_store_open(c->dir, 3, &c->st), 0);
  assert_int_equal(ike_ckpt_store_count(c->st), 2);
  assert_int_equal(ike_ckpt_store_get(c->st, 0x0003000000000001ull, &got, &len), 0);
  assert_int_equal(len, sizeof r3);
  assert_memory_equal(got, r3, len);
  free(got);
  /* Another slot is another file, empty. */
  ike_ckpt_store_t *other = NULL;
  assert_int_equal(ike_ckpt_store_open(c->dir, 4, &other), 0);
  assert_int_equal(ike_ckpt_store_count(other), 0);
  ike_ckpt_store_close(other);
  /* An unusable directory is an error, not a crash. */
  assert_int_equal(ike_ckpt_store_open("/proc/no/such/dir", 0, &other), -IKE_E_STORE);
}

/* --- engine: dirty tracking and restore --- */

static int put_rec(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  ike_ckpt_store_t *st = arg;
  return rec ? ike_ckpt_store_put(st, spi, rec, len) : ike_ckpt_store_del(st, spi);
}

/* What sessmgr does at the end of a loop iteration. */
static void checkpoint(ctx_t *c)
{
  assert_int_equal(ike_engine_foreach_dirty(c->hx.gw, OFF_A, put_rec, c->st), 0);
  assert_int_equal(ike_ckpt_store_commit(c->st), 0);
  ike_engine_take_dirty(c->hx.gw, true, 1);
  assert_int_equal(ike_engine_dirty_count(c->hx.gw), 0);
}

static int restore_rec(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  ike_engine_t *e = arg;
  (void)spi;
  assert_int_equal(ike_engine_restore_sa(e, rec, len, OFF_A), 0);
  return 0;
}

/* Kill: checkpoint, free the engine without a word to anyone; the launcher
 * restarts it after down_ms: a new engine restores the slot. */
static void kill_and_restore(ctx_t *c, uint64_t down_ms)
{
  checkpoint(c);
  size_t n_del = c->hx.n_del;
  ike_engine_free(c->hx.gw);
  c->hx.n_del = n_del; /* freeing is not a delete: ipsecmgr keeps the SAs */
  c->hx.now += down_ms;
  static const ike_engine_ops_t ops = {gw_send, gw_child_add, gw_child_update, gw_child_del};
  assert_int_equal(ike_engine_new(HX_SLOT, &c->hx.cfg, &ops, &c->hx, &c->hx.gw), 0);
  ike_engine_set_checkpointing(c->hx.gw, true);
  assert_int_equal(ike_ckpt_store_foreach(c->st, restore_rec, c->hx.gw), 1);
  assert_int_equal(ike_engine_dirty_count(c->hx.gw), 0);
  assert_int_equal(hx_st(&c->hx)->ckpt_restored, 1);
}

static void up(ctx_t *c, const char *extra)
{
  hx_init(&c->hx, extra);
  ike_engine_set_checkpointing(c->hx.gw, true);
  assert_int_equal(ike_ckpt_store_open(c->dir, HX_SLOT, &c->st), 0);
  hx_establish(&c->hx);
}

typedef struct kids {
  ike_child_prog_t p[4];
  size_t n;
} kids_t;

static void kid(void *arg, const ike_child_prog_t *p)
{
  kids_t *k = arg;
  if (k->n < 4) {
    k->p[k->n++] = *p;
  }
}

static void dirty_tracking(void **state)
{
  ctx_t *c = *state;
  up(c, NULL);
  hx_t *hx = &c->hx;
  /* IKE_AUTH established the SA: one record to write. */
  assert_int_equal(ike_engine_dirty_count(hx->gw), 1);
  checkpoint(c);
  assert_int_equal(ike_ckpt_store_count(c->st), 1);
  assert_int_equal(hx_st(hx)->ckpt_records_written, 1);
  /* A retransmitted request is answered from the cache: nothing changes. */
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_run(hx);
  assert_int_equal(ike_engine_dirty_count(hx->gw), 1); /* the DPD did change it */
  checkpoint(c);
  size_t len;
  ike_path_t path;
  bool natt;
  const uint8_t *req = ike_client_last_request(hx->cl, &len, &path, &natt);
  hx_inject_gw(hx, &path, natt, req, len);
  assert_int_equal(hx_st(hx)->retrans_rsp_sent, 1);
  assert_int_equal(ike_engine_dirty_count(hx->gw), 0);
  /* Garbage with the SA's SPIs (fails integrity) changes nothing either. */
  uint8_t bad[256];
  assert_true(len <= sizeof bad);
  memcpy(bad, req, len);
  bad[len - 1] ^= 1;
  bad[23]++; /* the next Message ID: it gets as far as the integrity check */
  hx_inject_gw(hx, &path, natt, bad, len);
  assert_int_equal(hx_st(hx)->fail_integrity, 1);
  assert_int_equal(ike_engine_dirty_count(hx->gw), 0);
  /* The client deletes the IKE SA: its record is deleted at the next commit. */
  assert_int_equal(ike_client_delete(hx->cl), 0);
  hx_run(hx);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(ike_engine_dirty_count(hx->gw), 1);
  checkpoint(c);
  assert_int_equal(ike_ckpt_store_count(c->st), 0);
  assert_int_equal(hx_st(hx)->ckpt_records_deleted, 1);
  /* Without checkpointing nothing is tracked. */
  ike_engine_set_checkpointing(hx->gw, false);
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(ike_engine_dirty_count(hx->gw), 0);
}

/* The response the client never got is resent, byte for byte, by the
 * restored engine (RFC 7296 2.1); then DPD, MOBIKE and a CHILD rekey work. */
static void restore_answers_retransmit(void **state)
{
  ctx_t *c = *state;
  up(c, "      ikev2-ikesa mobike\n");
  hx_t *hx = &c->hx;
  uint64_t spi_i = hx_ci(hx)->spi_i, spi_r = hx_ci(hx)->spi_r;
  uint32_t child_in = hx_ci(hx)->child[0].spi_in;
  kids_t before = {0}, after = {0};
  ike_engine_foreach_child(hx->gw, kid, &before);
  /* INFORMATIONAL request --> gateway answers, the answer is lost. */
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  assert_true(hx_step_gw(hx));
  hx_flush(hx);
  const hx_pkt_t *lost = hx_gw_sent(hx, -1);
  uint8_t lost_rsp[2048];
  size_t lost_len = lost->len;
  memcpy(lost_rsp, lost->data, lost_len);
  /* sessmgr is killed (after its commit), restarted 2 s later. */
  kill_and_restore(c, 2000);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx_st(hx)->ike_sa_current, 1);
  assert_int_equal(hx_st(hx)->child_sa_current, 1);
  /* The restored CHILD SA is what ipsecmgr had (replayed as is). */
  assert_int_equal(ike_engine_foreach_child(hx->gw, kid, &after), 1);
  assert_int_equal(after.p[0].spi_in, before.p[0].spi_in);
  assert_int_equal(after.p[0].spi_out, before.p[0].spi_out);
  assert_memory_equal(after.p[0].ek_in, before.p[0].ek_in, before.p[0].ek_len);
  assert_memory_equal(after.p[0].ek_out, before.p[0].ek_out, before.p[0].ek_len);
  assert_true(hx_path_eq(&after.p[0].path, &before.p[0].path));
  assert_int_equal(after.p[0].encap, before.p[0].encap);
  /* The client retransmits --> the same bytes come back. */
  size_t n_log = hx->n_log;
  hx_advance(hx, 1000);
  assert_int_equal(hx_ci(hx)->retransmits, 1);
  assert_true(hx_step_gw(hx));
  assert_int_equal(hx->n_log, n_log + 1);
  assert_int_equal(hx->log[n_log].len, lost_len);
  assert_memory_equal(hx->log[n_log].data, lost_rsp, lost_len);
  assert_int_equal(hx_st(hx)->retrans_rsp_sent, 1);
  hx_run(hx);
  assert_false(ike_client_busy(hx->cl));
  /* A new DPD of the client is answered. */
  uint64_t rcvd = hx_ci(hx)->rcvd;
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->rcvd, rcvd + 1);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  /* MOBIKE: the client moves; the restored SA and its CHILD SA follow. */
  ike_path_t b = hx_path("127.0.2.2", 4500);
  ike_client_move_opts_t natt = {.natt = true};
  size_t n_upd = hx->n_upd;
  assert_int_equal(ike_client_move(hx->cl, &b, &natt), 0);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->updates_done, 1);
  assert_int_equal(hx->n_upd, n_upd + 1);
  assert_int_equal(hx->upd[n_upd].spi_in, before.p[0].spi_in);
  assert_true(hx->upd[n_upd].encap);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 1);
  /* CHILD rekey (keys from the restored SK_d). */
  assert_int_equal(ike_client_rekey_child(hx->cl, 0), 0);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->error, 0);
  assert_int_not_equal(hx_ci(hx)->child[0].spi_in, child_in);
  /* No renegotiation: the same IKE SA throughout. */
  assert_int_equal(hx_ci(hx)->spi_i, spi_i);
  assert_int_equal(hx_ci(hx)->spi_r, spi_r);
  assert_int_equal(hx_st(hx)->ike_sa_established, 0);
  assert_int_equal(hx_st(hx)->fail_integrity + hx_st(hx)->fail_msgid, 0);
  /* The restored engine's changes are checkpointed like any. */
  assert_true(ike_engine_dirty_count(hx->gw) > 0);
  checkpoint(c);
}

/* Our own request in flight (a DPD the client did not answer yet) survives
 * the restart: retransmitted with the same bytes and Message ID, then
 * completed; the SA's DPD goes on from the restored deadline. */
static void restore_pending_request(void **state)
{
  ctx_t *c = *state;
  up(c, NULL);
  hx_t *hx = &c->hx;
  ike_client_set_answer(hx->cl, IKE_CLIENT_SILENT);
  hx_advance(hx, 30000); /* dpd interval 30 s */
  hx_run(hx);
  assert_int_equal(hx_st(hx)->dpd_sent, 1);
  const hx_pkt_t *dpd = hx_gw_sent(hx, -1);
  uint8_t dpd_req[1024];
  size_t dpd_len = dpd->len;
  memcpy(dpd_req, dpd->data, dpd_len);
  kill_and_restore(c, 100);
  ike_client_set_answer(hx->cl, IKE_CLIENT_ANSWER);
  /* Retransmission due 1 s after the first send (retransmission-timeout 1000). */
  size_t n_log = hx->n_log;
  hx_advance(hx, 899);
  assert_int_equal(hx->n_log, n_log);
  hx_advance(hx, 1);
  assert_int_equal(hx->n_log, n_log + 1);
  assert_int_equal(hx->log[n_log].len, dpd_len);
  assert_memory_equal(hx->log[n_log].data, dpd_req, dpd_len);
  assert_int_equal(hx_st(hx)->retrans_req_sent, 1);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->gw_dpd_answered, 1);
  assert_int_equal(hx_st(hx)->exch_info_rsp_rcvd, 1);
  /* The next DPD comes 30 s after the previous one, with the next ID. */
  hx_advance(hx, 30000);
  hx_run(hx);
  assert_int_equal(hx_st(hx)->dpd_sent, 1); /* counted by the new engine */
  assert_int_equal(hx_ci(hx)->gw_dpd_answered, 2);
  hx_msg_t m;
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_false(m.h.flags & IKE_FLAG_RESPONSE);
  assert_int_equal(m.h.msg_id, 1);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
}

/* A virtual IP restored is taken in the pool: the next client gets another. */
static void restore_claims_pool(void **state)
{
  ctx_t *c = *state;
  up(c, NULL);
  hx_t *hx = &c->hx;
  uint32_t vip = hx_ci(hx)->vip4;
  assert_int_not_equal(vip, 0);
  kill_and_restore(c, 0);
  hx->ccfg.id = "second.example.net";
  hx_addr4(&hx->ccfg.path.local, "127.0.1.2", 500);
  ike_client_t *first = hx->cl;
  hx->cl = NULL;
  hx_establish(hx);
  assert_int_not_equal(hx_ci(hx)->vip4, 0);
  assert_int_not_equal(hx_ci(hx)->vip4, vip);
  ike_client_free(first);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(roundtrip_every_field, setup, teardown),
      cmocka_unit_test_setup_teardown(refuses_bad_records, setup, teardown),
      cmocka_unit_test_setup_teardown(store_basics, setup, teardown),
      cmocka_unit_test_setup_teardown(dirty_tracking, setup, teardown),
      cmocka_unit_test_setup_teardown(restore_answers_retransmit, setup, teardown),
      cmocka_unit_test_setup_teardown(restore_pending_request, setup, teardown),
      cmocka_unit_test_setup_teardown(restore_claims_pool, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
