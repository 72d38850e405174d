/*
 * test_engine_badinput.c - hostile and broken datagrams against an engine
 * with an established SA (in-memory bench): garbage, truncation, a flipped
 * bit in the SK payload (RFC 7296 2.21.1: no answer, nothing changes),
 * INFORMATIONAL before IKE_AUTH, an unknown SPI, a Message ID outside the
 * window (2.3) and a response nobody asked for. After each, the SA is still
 * established and the next valid request is answered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_harness.c"

static int setup(void **state)
{
  hx_t *hx = calloc(1, sizeof(hx_t));
  if (hx == NULL) {
    return -1;
  }
  hx_init(hx, "      ikev2-ikesa mobike\n");
  hx_establish(hx);
  *state = hx;
  return 0;
}

static int teardown(void **state)
{
  hx_t *hx = *state;
  hx_fini(hx);
  free(hx);
  return 0;
}

/* Nothing happened at the gateway: no datagram out, no datapath change, the
 * SA still established. */
static void unchanged(const hx_t *hx, size_t n_log)
{
  assert_int_equal(hx->n_log, n_log);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx_st(hx)->ike_sa_current, 1);
  assert_int_equal(hx->n_add, 1);
  assert_int_equal(hx->n_upd + hx->n_del, 0);
}

/* The next valid request still works. */
static void still_works(hx_t *hx)
{
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_run(hx);
  assert_false(ike_client_busy(hx->cl));
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
}

/* A DPD request of the client, kept out of the network. */
static size_t held_dpd(hx_t *hx, uint8_t *buf, ike_path_t *path, bool *natt)
{
  size_t len = 0;
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  const uint8_t *raw = ike_client_last_request(hx->cl, &len, path, natt);
  memcpy(buf, raw, len);
  hx_flush(hx);
  return len;
}

static void garbage(void **state)
{
  hx_t *hx = *state;
  uint8_t junk[300];
  size_t n_log = hx->n_log;
  ike_path_t p = hx_ci(hx)->path;
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (int round = 0; round < 200; round++) {
    size_t len = (size_t)(round * 7 % (int)sizeof junk);
    for (size_t i = 0; i < len; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      junk[i] = (uint8_t)(seed >> 56);
    }
    hx_inject_gw(hx, &p, true, junk, len);
  }
  unchanged(hx, n_log);
  const ike_stats_t *st = hx_st(hx);
  assert_true(st->fail_parse + st->fail_unknown_spi + st->fail_unsupported_critical >= 200);
  still_works(hx);
}

static void truncated(void **state)
{
  hx_t *hx = *state;
  uint8_t buf[8192];
  ike_path_t p;
  bool natt = false;
  size_t len = held_dpd(hx, buf, &p, &natt);
  size_t n_log = hx->n_log;
  /* INFORMATIONAL { } cut at every length --> dropped */
  for (size_t cut = 0; cut < len; cut++) {
    hx_inject_gw(hx, &p, natt, buf, cut);
  }
  unchanged(hx, n_log);
  assert_int_equal(hx_st(hx)->fail_parse, len);
  assert_int_equal(hx_st(hx)->exch_info_req_rcvd, 0);
  /* The whole request --> <-- answered */
  hx_inject_gw(hx, &p, natt, buf, len);
  assert_int_equal(hx->n_log, n_log + 1);
  hx_run(hx);
  assert_false(ike_client_busy(hx->cl));
}

static void bitflip_sk(void **state)
{
  hx_t *hx = *state;
  uint8_t buf[8192], bad[8192];
  ike_path_t p;
  bool natt = false;
  size_t len = held_dpd(hx, buf, &p, &natt);
  size_t n_log = hx->n_log;
  /* INFORMATIONAL { } with one bit flipped in each byte of the SK payload
   * (IV, ciphertext, ICV) --> dropped: integrity */
  for (size_t i = IKE_HDR_LEN + IKE_PLD_HDR_LEN; i < len; i++) {
    memcpy(bad, buf, len);
    bad[i] ^= 0x10;
    hx_inject_gw(hx, &p, natt, bad, len);
  }
  unchanged(hx, n_log);
  assert_int_equal(hx_st(hx)->fail_integrity, len - IKE_HDR_LEN - IKE_PLD_HDR_LEN);
  /* A flipped Message ID byte (authenticated header) is caught as well. */
  memcpy(bad, buf, len);
  bad[23] ^= 0x01; /* low byte of the Message ID: 2 -> 3 */
  hx_inject_gw(hx, &p, natt, bad, len);
  unchanged(hx, n_log);
  /* The original, same Message ID --> <-- answered */
  hx_inject_gw(hx, &p, natt, buf, len);
  assert_int_equal(hx->n_log, n_log + 1);
  hx_run(hx);
  assert_false(ike_client_busy(hx->cl));
  still_works(hx);
}

static void unknown_spi(void **state)
{
  hx_t *hx = *state;
  uint8_t buf[8192];
  ike_path_t p;
  bool natt = false;
  size_t len = held_dpd(hx, buf, &p, &natt);
  size_t n_log = hx->n_log;
  buf[12] ^= 0x5A; /* a byte of SPIr */
  hx_inject_gw(hx, &p, natt, buf, len);
  buf[12] ^= 0x5A;
  buf[3] ^= 0x5A; /* a byte of SPIi */
  hx_inject_gw(hx, &p, natt, buf, len);
  unchanged(hx, n_log);
  assert_int_equal(hx_st(hx)->fail_unknown_spi, 2);
  buf[3] ^= 0x5A;
  hx_inject_gw(hx, &p, natt, buf, len);
  assert_int_equal(hx->n_log, n_log + 1);
}

static void wrong_message_id(void **state)
{
  hx_t *hx = *state;
  uint8_t pkt[512];
  size_t len = 0;
  size_t n_log = hx->n_log;
  ike_path_t p = hx_ci(hx)->path;
  uint32_t next = hx_ci(hx)->next_msg_id;
  /* INFORMATIONAL (ID next + 5) { } --> outside the window: dropped */
  assert_int_equal(ike_client_craft(hx->cl, IKE_EXCH_INFORMATIONAL, next + 5,
                                    IKE_FLAG_INITIATOR, IKE_PLD_NONE, NULL, 0, pkt,
                                    sizeof pkt, &len), 0);
  hx_inject_gw(hx, &p, true, pkt, len);
  /* INFORMATIONAL (ID 0, long answered and no longer cached) { } --> dropped */
  assert_int_equal(ike_client_craft(hx->cl, IKE_EXCH_INFORMATIONAL, 0, IKE_FLAG_INITIATOR,
                                    IKE_PLD_NONE, NULL, 0, pkt, sizeof pkt, &len), 0);
  hx_inject_gw(hx, &p, true, pkt, len);
  unchanged(hx, n_log);
  assert_int_equal(hx_st(hx)->fail_msgid, 2);
  /* A "response" to a request the gateway never sent --> dropped */
  assert_int_equal(ike_client_craft(hx->cl, IKE_EXCH_INFORMATIONAL, 0,
                                    IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE, IKE_PLD_NONE,
                                    NULL, 0, pkt, sizeof pkt, &len), 0);
  hx_inject_gw(hx, &p, true, pkt, len);
  unchanged(hx, n_log);
  assert_int_equal(hx_st(hx)->fail_msgid, 3);
  still_works(hx);
}

static void info_before_auth(void **state)
{
  hx_t *hx = *state;
  uint8_t pkt[512];
  size_t len = 0;
  /* A second client: IKE_SA_INIT --> <-- ; IKE_AUTH held back */
  hx_client(hx);
  size_t n_add = hx->n_add;
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_true(hx_step_gw(hx));
  assert_true(hx_step_cl(hx));
  assert_int_equal(hx->n_to_gw, 1);
  ike_path_t p = hx_ci(hx)->path;
  size_t n_log = hx->n_log;
  /* INFORMATIONAL (ID 1) { N(UPDATE_SA_ADDRESSES) } --> before IKE_AUTH: dropped */
  uint8_t inner[8] = {0, 0, 0, 8, 0, 0, 0x40, 0x10}; /* Notify UPDATE_SA_ADDRESSES */
  assert_int_equal(ike_client_craft(hx->cl, IKE_EXCH_INFORMATIONAL, 1, IKE_FLAG_INITIATOR,
                                    IKE_PLD_NOTIFY, inner, sizeof inner, pkt, sizeof pkt,
                                    &len), 0);
  hx_inject_gw(hx, &p, true, pkt, len);
  assert_int_equal(hx->n_log, n_log);
  assert_int_equal(hx_st(hx)->fail_state, 1);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 0);
  assert_int_equal(hx->n_upd, 0);
  /* IKE_AUTH --> <-- : still fine */
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  assert_int_equal(hx->n_add, n_add + 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 2);
}

/* The client side drops replays and tampering as well. */
static void client_drops_replays(void **state)
{
  hx_t *hx = *state;
  const hx_pkt_t *old = hx_gw_sent(hx, -1); /* the IKE_AUTH response */
  uint64_t dropped = hx_ci(hx)->dropped;
  ike_client_recv(hx->cl, &old->path, old->natt, old->data, old->len, hx->now);
  assert_int_equal(hx_ci(hx)->dropped, dropped + 1);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  still_works(hx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(bitflip_sk, setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_spi, setup, teardown),
      cmocka_unit_test_setup_teardown(wrong_message_id, setup, teardown),
      cmocka_unit_test_setup_teardown(info_before_auth, setup, teardown),
      cmocka_unit_test_setup_teardown(client_drops_replays, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
