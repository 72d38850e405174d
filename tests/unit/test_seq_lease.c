/*
 * test_seq_lease.c - persisted ESP sequence-number leases (ipsecmgr/seq_lease.h)
 * and their use by ipsecmgr's logic (dispatch.c) across a simulated crash: the
 * manager is freed WITHOUT a final commit and a new one opens the same store.
 *
 * Why it matters: with AES-GCM (RFC 4106 3.1) and ChaCha20-Poly1305 (RFC 7634 2)
 * the ESP IV is the sequence number, so restarting an SA's counter at 1 reuses
 * nonces under the same key; and the peer's anti-replay window (RFC 4303 3.4.3)
 * drops the repeated numbers. Covers: lease arithmetic (non-ESN clamp, soft
 * point, adaptation), store round trip (puts, deletes, sorted load), restart ->
 * the next number sent is above every number sent before (also after a renewal
 * that was only asked for, and after a lease forced synchronously by the packet
 * path), an outbound resync with no record refused (ESTALE, clear text),
 * inbound floor (a pre-restart packet is rejected after the restart), SaDel and
 * ReplayDone removing records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "esp.h"
#include "ike_slot.h"
#include "ike_wire.h"
#include "ikegw_ipsec.pb-c.h"
#include "ipsecmgr.h"
#include "seq_lease.h"

#define SPI_IN 0x00030001u
#define SPI_OUT 0xc0ffee01u
#define VIP "10.10.0.5"
#define PEER "192.0.2.11"
#define GW "192.0.2.1"

static char dir_tmpl[] = "/tmp/test_seq_lease.XXXXXX";
static char store_path[256];
static uint8_t key_a[36], key_b[36];
static const uint8_t slot3[IKE_SLOT_ID_LEN] = {0, 3};

/* ---------------------------------------------------------------- capture */

static uint64_t max_seq_sent, last_seq_sent, n_esp_out;
static uint8_t last_result_ok;
static int32_t last_result_errno;
static unsigned n_soft_expire;      /* SaExpire{hard=false} sent to a sessmgr */
static uint32_t last_expire_child;  /* its CHILD SA (inbound SPI) */
static char last_result_err[512];
static int n_replay_req;

static int cap_send(void *ctx, ipm_ch_t ch, const uint8_t *id, size_t id_len,
                    const ProtobufCMessage *msg, const uint8_t *pkt, size_t pkt_len)
{
  (void)ctx;
  (void)id;
  (void)id_len;
  (void)pkt;
  (void)pkt_len;
  if (ch != IPM_CH_SESSMGR) {
    return 0;
  }
  uint8_t buf[2048];
  size_t n = protobuf_c_message_pack(msg, buf);
  Ikegw__Ipsec__Envelope *e = ikegw__ipsec__envelope__unpack(NULL, n, buf);
  assert_non_null(e);
  if (e->msg_case == IKEGW__IPSEC__ENVELOPE__MSG_SA_RESULT) {
    last_result_ok = e->sa_result->ok;
    last_result_errno = e->sa_result->errno_value;
    snprintf(last_result_err, sizeof(last_result_err), "%s", e->sa_result->error);
  } else if (e->msg_case == IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_REQUEST) {
    n_replay_req++;
  } else if (e->msg_case == IKEGW__IPSEC__ENVELOPE__MSG_SA_EXPIRE) {
    n_soft_expire += !e->sa_expire->hard;
    last_expire_child = e->sa_expire->id ? e->sa_expire->id->child_in_spi : 0;
  }
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  return 0;
}

/* ESP-in-UDP "sent directly": the sequence number is bytes 4..7 (RFC 4303 2). */
static int cap_udp(void *ctx, const esp_sa_t *sa, const uint8_t *pkt, size_t len)
{
  (void)ctx;
  (void)sa;
  assert_true(len >= 16);
  last_seq_sent = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | (uint32_t)pkt[6] << 8 | pkt[7];
  if (last_seq_sent > max_seq_sent) {
    max_seq_sent = last_seq_sent;
  }
  n_esp_out++;
  return 0;
}

static uint8_t tun_last[256];
static size_t n_tun;

static int cap_tun(void *ctx, const uint8_t *pkt, size_t len)
{
  (void)ctx;
  memcpy(tun_last, pkt, len < sizeof(tun_last) ? len : sizeof(tun_last));
  n_tun++;
  return 0;
}

static uint64_t fake_now = 2000000;

static uint64_t cap_now(void *ctx)
{
  (void)ctx;
  return fake_now;
}

static ipm_t *mk_ipm(bool with_store)
{
  ipm_cfg_t c = {.max_sas = 64,
                 .seq_store = with_store ? store_path : NULL,
                 .ops = {.send = cap_send, .tun_write = cap_tun, .udp_send = cap_udp,
                         .now_s = cap_now}};
  ipm_t *m = NULL;
  assert_int_equal(ipm_new(&c, &m), 0);
  return m;
}

/* ---------------------------------------------------------------- requests */

static void feed(ipm_t *m, const Ikegw__Ipsec__Envelope *env)
{
  uint8_t buf[2048];
  size_t n = ikegw__ipsec__envelope__pack(env, buf);
  ipm_on_sessmgr(m, slot3, sizeof(slot3), buf, n);
}

/* Resync SaAdds sent since the last Hello: what ReplayDone must announce. */
static uint32_t resync_sent;

static void hello(ipm_t *m)
{
  resync_sent = 0;
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__Hello h = IKEGW__IPSEC__HELLO__INIT;
  h.slot = 3;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_HELLO;
  env.hello = &h;
  feed(m, &env);
}

static void replay_done(ipm_t *m)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__ReplayDone d = IKEGW__IPSEC__REPLAY_DONE__INIT;
  d.slot = 3;
  d.sa_count = resync_sent;
  resync_sent = 0;
  env.id = 99;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_DONE;
  env.replay_done = &d;
  feed(m, &env);
  assert_true(last_result_ok);
}

/* SaAdd of one direction; returns the SaResult's ok. */
static bool add_sa(ipm_t *m, bool in, bool resync, uint32_t spi_in)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaAdd a = IKEGW__IPSEC__SA_ADD__INIT;
  Ikegw__Ipsec__SaId id = IKEGW__IPSEC__SA_ID__INIT;
  id.direction = in ? IKEGW__IPSEC__DIRECTION__DIR_IN : IKEGW__IPSEC__DIRECTION__DIR_OUT;
  id.spi = in ? spi_in : SPI_OUT;
  id.child_in_spi = spi_in;
  a.id = &id;
  a.owner_slot = 3;
  a.encr_id = IKE_ENCR_AES_GCM_16;
  a.encr_key_bits = 256;
  a.enc_key.data = in ? key_a : key_b;
  a.enc_key.len = 36;
  a.replay_window = in ? 1024 : 0;
  a.local_addr = GW;
  a.local_port = 4500;
  a.peer_addr = PEER;
  a.peer_port = 4500;
  a.udp_encap = true;
  a.virtual_ip = in ? "" : VIP;
  a.resync = resync;
  resync_sent += resync;
  env.id = 7;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD;
  env.sa_add = &a;
  last_result_ok = 0;
  feed(m, &env);
  return last_result_ok;
}

/* The gateway encrypts n packets to the VIP. */
static void gw_send(ipm_t *m, unsigned n)
{
  uint8_t b[100];
  memset(b, 0, sizeof(b));
  b[0] = 0x45;
  b[3] = sizeof(b);
  b[8] = 64;
  b[9] = 1;
  inet_pton(AF_INET, "198.51.100.10", b + 12);
  inet_pton(AF_INET, VIP, b + 16);
  uint64_t before = n_esp_out;
  for (unsigned i = 0; i < n; i++) {
    ipm_tun_in(m, b, sizeof(b));
  }
  assert_int_equal(n_esp_out - before, n);
}

/* The client's outbound SA (our inbound), to make ESP for ipm_esp_in. */
static esp_table_t *peer_t_;
static esp_sa_t *peer_out;

static void mk_peer(void)
{
  struct sockaddr_in l = {.sin_family = AF_INET, .sin_port = htons(4500)}, r = l;
  inet_pton(AF_INET, PEER, &l.sin_addr);
  inet_pton(AF_INET, GW, &r.sin_addr);
  assert_int_equal(esp_table_new(4, &peer_t_), 0);
  esp_sa_params_t q = {.spi = SPI_IN, .dir = ESP_DIR_OUT, .encr = IKE_ENCR_AES_GCM_16,
                       .encr_bits = 256, .enc_key = key_a, .enc_key_len = 36,
                       .local = (struct sockaddr *)&l, .peer = (struct sockaddr *)&r,
                       .udp_encap = true};
  esp_inaddr_parse(&q.inner, "198.51.100.10");
  assert_int_equal(esp_table_add(peer_t_, &q, &peer_out), 0);
}

static size_t peer_esp(uint8_t *esp, size_t cap)
{
  uint8_t b[100];
  memset(b, 0, sizeof(b));
  b[0] = 0x45;
  b[3] = sizeof(b);
  b[8] = 64;
  b[9] = 1;
  inet_pton(AF_INET, VIP, b + 12);
  inet_pton(AF_INET, "198.51.100.10", b + 16);
  size_t el = 0;
  assert_int_equal(esp_encap(peer_out, b, sizeof(b), esp, cap, &el), 0);
  return el;
}

static void esp_in(ipm_t *m, const uint8_t *esp, size_t len)
{
  struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(4500)};
  inet_pton(AF_INET, PEER, &src.sin_addr);
  ipm_esp_in(m, esp, len, (const struct sockaddr *)&src, true);
}

/* ---------------------------------------------------------------- fixtures */

static int setup(void **state)
{
  (void)state;
  char *d = mkdtemp(dir_tmpl);
  assert_non_null(d);
  snprintf(store_path, sizeof(store_path), "%s/ipsecmgr-seq.mdb", d);
  for (int i = 0; i < 36; i++) {
    key_a[i] = (uint8_t)(i + 1);
    key_b[i] = (uint8_t)(0x80 + i);
  }
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  char lock[300];
  unlink(store_path);
  snprintf(lock, sizeof(lock), "%s-lock", store_path);
  unlink(lock);
  rmdir(dir_tmpl);
  return 0;
}

/* A fresh store for every test. */
static int each(void **state)
{
  (void)state;
  char lock[300];
  unlink(store_path);
  snprintf(lock, sizeof(lock), "%s-lock", store_path);
  unlink(lock);
  max_seq_sent = last_seq_sent = n_esp_out = 0;
  n_replay_req = 0;
  n_soft_expire = 0;
  last_expire_child = 0;
  return 0;
}

/* ---------------------------------------------------------------- tests */

static void test_lease_math(void **state)
{
  (void)state;
  assert_int_equal(seq_lease_end(0, 1000, false), 1000);
  assert_int_equal(seq_lease_end(100, 0, false), 100 + SEQ_LEASE_START);
  /* Without ESN never past 2^32 - 1 (RFC 4303 3.3.3: the counter must not cycle). */
  assert_int_equal(seq_lease_end(0xFFFFFF00u, 1u << 16, false), 0xFFFFFFFFull);
  assert_int_equal(seq_lease_end(0xFFFFFF00u, 1u << 16, true), 0xFFFFFF00ull + (1u << 16));
  assert_int_equal(seq_lease_end(UINT64_MAX - 5, 100, true), UINT64_MAX);
  assert_int_equal(seq_lease_soft(1000, 200), 900);
  assert_int_equal(seq_lease_soft(50, 200), 0);
  assert_int_equal(seq_lease_adapt(1u << 16, 0), 1u << 17);
  assert_int_equal(seq_lease_adapt(SEQ_LEASE_MAX, 0), SEQ_LEASE_MAX);
  assert_int_equal(seq_lease_adapt(1u << 16, 10), 1u << 16);
  assert_int_equal(seq_lease_adapt(1u << 16, 120), 1u << 15);
  assert_int_equal(seq_lease_adapt(SEQ_LEASE_MIN, 120), SEQ_LEASE_MIN);
}

static void test_store_roundtrip(void **state)
{
  (void)state;
  seq_store_t *s;
  char err[256];
  assert_int_equal(seq_store_open(store_path, 16, &s, err, sizeof(err)), 0);
  seq_rec_t ops[4] = {
      {.dir = 2, .spi = 0x20, .cin = 0x10, .owner = 3, .mark = 0x100000001ull},
      {.dir = 1, .spi = 0x10, .cin = 0x10, .owner = 3, .mark = 77},
      {.dir = 2, .spi = 0x05, .cin = 0x11, .owner = 4, .mark = 5},
      {.dir = 1, .del = 1, .spi = 0x99, .cin = 0x99}, /* missing key: fine */
  };
  assert_int_equal(seq_store_write(s, ops, 4, err, sizeof(err)), 0);
  seq_rec_t del = {.dir = 2, .del = 1, .spi = 0x05, .cin = 0x11};
  assert_int_equal(seq_store_write(s, &del, 1, err, sizeof(err)), 0);
  seq_store_close(s);

  assert_int_equal(seq_store_open(store_path, 16, &s, err, sizeof(err)), 0);
  seq_rec_t *r;
  size_t n, bad;
  assert_int_equal(seq_store_load(s, &r, &n, &bad, err, sizeof(err)), 0);
  assert_int_equal(n, 2);
  assert_int_equal(bad, 0);
  assert_int_equal(r[0].dir, 1); /* sorted: direction first */
  assert_int_equal(r[0].mark, 77);
  seq_rec_t *f = seq_rec_find(r, n, 2, 0x20, 0x10);
  assert_non_null(f);
  assert_int_equal(f->mark, 0x100000001ull);
  assert_int_equal(f->owner, 3);
  assert_null(seq_rec_find(r, n, 2, 0x05, 0x11));
  free(r);
  seq_store_close(s);

  /* A store that cannot be opened says why. */
  assert_true(seq_store_open("/nonexistent-dir/x.mdb", 16, &s, err, sizeof(err)) < 0);
  assert_non_null(strstr(err, "/nonexistent-dir/x.mdb"));
}

/* Install, send, "crash" (free without ipm_flush), restart, resync: the first
 * number sent after the restart is above every number sent before. */
static void crash_and_resume(unsigned before, bool flush_before_crash)
{
  ipm_t *m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, false, false, SPI_IN));
  ipm_flush(m);
  gw_send(m, before);
  uint64_t used = max_seq_sent;
  assert_int_equal(used, before);
  if (flush_before_crash) {
    ipm_flush(m);
  }
  ipm_free(m); /* SIGKILL: nothing more is written */

  m = mk_ipm(true);
  hello(m);
  assert_int_equal(n_replay_req, 2);
  assert_true(add_sa(m, false, true, SPI_IN));
  assert_int_equal(ipm_counters(m)->seq_lease_resumed, 1);
  replay_done(m);
  gw_send(m, 3);
  assert_true(last_seq_sent > used);
  assert_true(last_seq_sent - 3 >= used); /* the 3 packets: used < s1 < s2 < s3 */
  ipm_flush(m);
  /* And once more: the second restart resumes above the first one's numbers. */
  used = max_seq_sent;
  ipm_free(m);
  m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, false, true, SPI_IN));
  gw_send(m, 1);
  assert_true(last_seq_sent > used);
  ipm_free(m);
}

static void test_restart_resumes_above(void **state)
{
  (void)state;
  crash_and_resume(200, false);
}

/* More than half a block: a renewal was asked for but never committed. */
static void test_restart_after_renewal_request(void **state)
{
  (void)state;
  crash_and_resume(SEQ_LEASE_START / 2 + 100, false);
}

/* More than a whole block without a loop-end commit: the packet path commits
 * synchronously; the restart resumes above all of them. */
static void test_restart_after_sync_lease(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, false, false, SPI_IN));
  gw_send(m, SEQ_LEASE_START + 500); /* no ipm_flush at all */
  assert_true(ipm_counters(m)->seq_lease_sync >= 2); /* first packet, then block end */
  assert_int_equal(ipm_counters(m)->seq_lease_fail, 0);
  assert_int_equal(ipm_drops(m, ESP_E_SEQ_LEASE), 0);
  uint64_t used = max_seq_sent;
  ipm_free(m);
  m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, false, true, SPI_IN));
  gw_send(m, 1);
  assert_true(last_seq_sent > used);
  ipm_free(m);
}

/* An outbound resync with no record: refused with a clear error, not
 * installed with a guessed number. A fresh (non-resync) SaAdd starts at 1. */
static void test_resync_without_record_refused(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm(true);
  hello(m);
  assert_false(add_sa(m, false, true, SPI_IN));
  assert_int_equal(last_result_errno, ESTALE);
  assert_non_null(strstr(last_result_err, "no persisted sequence-number lease"));
  assert_non_null(strstr(last_result_err, "nonces"));
  assert_null(ipm_find(m, 2, SPI_OUT, SPI_IN));
  assert_int_equal(ipm_counters(m)->seq_lease_refused, 1);
  /* ... and the owner is asked to rekey that CHILD SA (a soft expiry). */
  assert_int_equal(n_soft_expire, 1);
  assert_int_equal(last_expire_child, SPI_IN);
  /* Inbound resync with no record is fine (empty window). */
  assert_true(add_sa(m, true, true, SPI_IN));
  assert_true(add_sa(m, false, false, SPI_IN));
  gw_send(m, 1);
  assert_int_equal(last_seq_sent, 1);
  ipm_free(m);
  /* Without a store (tests of other things) a resync is installed at 1 as before. */
  m = mk_ipm(false);
  assert_true(add_sa(m, false, true, SPI_IN));
  ipm_free(m);
}

/* Inbound: a packet captured before the restart is rejected after it. */
static void test_inbound_floor(void **state)
{
  (void)state;
  mk_peer();
  ipm_t *m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, true, false, SPI_IN));
  uint8_t old[256], esp[256];
  size_t old_len = peer_esp(old, sizeof(old));
  esp_in(m, old, old_len);
  assert_int_equal(n_tun, 1);
  for (unsigned i = 0; i < SEQ_LEASE_START + 10; i++) {
    size_t l = peer_esp(esp, sizeof(esp));
    esp_in(m, esp, l);
  }
  ipm_flush(m); /* the lazy floor commit */
  ipm_free(m);

  m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, true, true, SPI_IN));
  assert_int_equal(ipm_counters(m)->seq_floor_restored, 1);
  size_t t0 = n_tun;
  esp_in(m, old, old_len); /* replayed capture of packet 1 */
  assert_int_equal(n_tun, t0);
  assert_int_equal(ipm_drops(m, ESP_E_TOO_OLD), 1);
  size_t l = peer_esp(esp, sizeof(esp)); /* the peer goes on */
  esp_in(m, esp, l);
  assert_int_equal(n_tun, t0 + 1);
  ipm_free(m);
  esp_table_free(peer_t_);
}

static size_t stored_records(void)
{
  seq_store_t *s;
  char err[256];
  seq_rec_t *r;
  size_t n, bad;
  assert_int_equal(seq_store_open(store_path, 16, &s, err, sizeof(err)), 0);
  assert_int_equal(seq_store_load(s, &r, &n, &bad, err, sizeof(err)), 0);
  free(r);
  seq_store_close(s);
  return n;
}

/* SaDel removes the record; ReplayDone drops the records nobody replayed.
 * (The store is inspected only while no manager holds it open: LMDB allows one
 * environment per file and process.) */
static void test_records_removed(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, false, false, SPI_IN));
  assert_true(add_sa(m, false, false, SPI_IN + 1)); /* a second CHILD SA */
  ipm_flush(m);
  ipm_free(m);
  assert_int_equal(stored_records(), 2);

  m = mk_ipm(true);
  hello(m);
  assert_true(add_sa(m, false, true, SPI_IN));
  assert_true(add_sa(m, false, true, SPI_IN + 1));
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaDel d = IKEGW__IPSEC__SA_DEL__INIT;
  Ikegw__Ipsec__SaId id = IKEGW__IPSEC__SA_ID__INIT, *idp = &id;
  id.direction = IKEGW__IPSEC__DIRECTION__DIR_OUT;
  id.spi = SPI_OUT;
  id.child_in_spi = SPI_IN + 1;
  d.n_ids = 1;
  d.ids = &idp;
  env.id = 5;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_DEL;
  env.sa_del = &d;
  feed(m, &env);
  ipm_flush(m);
  ipm_free(m);
  assert_int_equal(stored_records(), 1);

  /* Restart; the slot replays nothing: its record is dropped at ReplayDone. */
  m = mk_ipm(true);
  hello(m);
  replay_done(m);
  ipm_flush(m);
  ipm_free(m);
  assert_int_equal(stored_records(), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lease_math),
      cmocka_unit_test_setup(test_store_roundtrip, each),
      cmocka_unit_test_setup(test_restart_resumes_above, each),
      cmocka_unit_test_setup(test_restart_after_renewal_request, each),
      cmocka_unit_test_setup(test_restart_after_sync_lease, each),
      cmocka_unit_test_setup(test_resync_without_record_refused, each),
      cmocka_unit_test_setup(test_inbound_floor, each),
      cmocka_unit_test_setup(test_records_removed, each),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
