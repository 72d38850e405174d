/*
 * test_engine_establish.c - IKE_SA_INIT and IKE_AUTH between our initiator
 * (sessmgr/ike_client.c) and the engine over the in-memory bench
 * (engine_harness.c): PSK with CP and MOBIKE_SUPPORTED (RFC 7296 1.2, 2.15,
 * 2.19; RFC 4555 4.1), refusals (AUTHENTICATION_FAILED, NO_PROPOSAL_CHOSEN,
 * 2.21), INVALID_KE_PAYLOAD (1.2) and COOKIE (2.6) retries, and the response
 * cache for retransmitted requests (2.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_slot.h"

#define MOBIKE_ON "      ikev2-ikesa mobike\n"

/* A clear (IKE_SA_INIT) gateway datagram: header and notify types. */
static void clear_msg(const hx_pkt_t *p, hx_msg_t *m)
{
  uint8_t bad = 0;
  memset(m, 0, sizeof *m);
  assert_int_equal(ike_msg_parse(p->data, p->len, &m->h, &m->chain, &bad), 0);
  for (unsigned i = 0; i < m->chain.n; i++) {
    ike_notify_pld_t n;
    if (m->chain.pld[i].type == IKE_PLD_NOTIFY &&
        ike_pld_notify(&m->chain.pld[i], &n) == 0) {
      m->notify[m->n_notify++] = n.type;
    }
  }
}

/* Notify data of the first notify of type t in a clear message. */
static ike_notify_pld_t clear_notify(const hx_msg_t *m, uint16_t t)
{
  ike_notify_pld_t n;
  memset(&n, 0, sizeof n);
  for (unsigned i = 0; i < m->chain.n; i++) {
    if (m->chain.pld[i].type == IKE_PLD_NOTIFY &&
        ike_pld_notify(&m->chain.pld[i], &n) == 0 && n.type == t) {
      return n;
    }
  }
  fail_msg("notify %u not found", t);
  return n;
}

static void check_child_matches(const hx_t *hx)
{
  const ike_client_child_t *cc = &hx_ci(hx)->child[0];
  const ike_child_prog_t *g = &hx->add[0];
  assert_true(cc->used);
  assert_int_equal(g->spi_in, cc->spi_out);
  assert_int_equal(g->spi_out, cc->spi_in);
  assert_int_equal(g->ek_len, cc->ek_len);
  assert_int_equal(g->ek_len, 36); /* AES-GCM-256 key + salt (RFC 4106 8.1) */
  assert_memory_equal(g->ek_in, cc->ek_out, cc->ek_len);
  assert_memory_equal(g->ek_out, cc->ek_in, cc->ek_len);
  assert_int_equal(g->suite.encr, IKE_ENCR_AES_GCM_16);
  assert_int_equal(g->ike_spi, hx_ci(hx)->spi_r);
}

static void get_vip(void *arg, const ike_sa_info_t *in)
{
  *(uint32_t *)arg = in->vip4;
}

static void establish_psk_mobike(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, MOBIKE_ON);
  hx_client(hx);
  /* IKE_SA_INIT { SA, KE, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) } --> */
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_int_equal(hx->n_to_gw, 1);
  assert_true(hx_step_gw(hx));
  /* <-- IKE_SA_INIT { SA, KE, Nr, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) } */
  clear_msg(hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_IKE_SA_INIT);
  assert_true(m.h.flags & IKE_FLAG_RESPONSE);
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_SA));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_KE));
  assert_true(hx_has(&m, IKE_N_NAT_DETECTION_SOURCE_IP));
  assert_true(hx_has(&m, IKE_N_NAT_DETECTION_DESTINATION_IP));
  assert_int_equal(ike_engine_sa_count(hx->gw), 1); /* half-open */
  assert_int_equal(ike_slot_of_spi(m.h.spi_r), HX_SLOT);
  assert_true(hx_step_cl(hx));
  /* IKE_AUTH { IDi, AUTH, CP(CFG_REQUEST), SA, TSi, TSr, N(MOBIKE_SUPPORTED) } --> (port 4500) */
  assert_int_equal(hx->n_to_gw, 1);
  assert_true(hx->to_gw[0].natt);
  assert_true(hx_step_gw(hx));
  /* <-- IKE_AUTH { IDr, AUTH, CP(CFG_REPLY), SA, TSi, TSr, N(MOBIKE_SUPPORTED) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_IKE_AUTH);
  assert_true(hx_has(&m, IKE_N_MOBIKE_SUPPORTED));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_IDR));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_AUTH));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_CP));
  assert_true(hx_step_cl(hx));
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  assert_true(hx_ci(hx)->mobike);
  /* Counters and the datapath. */
  const ike_stats_t *st = hx_st(hx);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(st->ike_sa_established, 1);
  assert_int_equal(st->ike_sa_current, 1);
  assert_int_equal(st->child_sa_established, 1);
  assert_int_equal(st->mobike_notify_rcvd, 1);
  assert_int_equal(st->mobike_ignored, 0);
  assert_int_equal(st->notify_rcvd_MOBIKE_SUPPORTED, 1);
  assert_int_equal(st->notify_sent_MOBIKE_SUPPORTED, 1);
  assert_int_equal(hx->n_add, 1);
  check_child_matches(hx);
  assert_true(hx->add[0].encap);
  assert_true(hx_path_eq(&hx->add[0].path,
                         &(ike_path_t){.peer = hx_ci(hx)->path.local,
                                       .local = hx_ci(hx)->path.peer}));
  /* Virtual IP from pool1 (10.10.0.0/24), the same on both sides. */
  uint32_t vip = 0;
  ike_engine_foreach_sa(hx->gw, get_vip, &vip);
  assert_int_equal(hx_ci(hx)->vip4, vip);
  assert_int_equal(vip & 0xFFFFFF00u, hx_ip4("10.10.0.0"));
  assert_int_not_equal(vip & 0xFFu, 0);
  assert_int_equal(ike_slot_of_spi(hx_ci(hx)->spi_r), HX_SLOT);
}

/* Template without MOBIKE: the client's MOBIKE_SUPPORTED is counted and ignored. */
static void establish_mobike_off(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, "");
  /* IKE_SA_INIT --> <-- ; IKE_AUTH { ..., N(MOBIKE_SUPPORTED) } --> */
  hx_establish(hx);
  /* <-- IKE_AUTH { IDr, AUTH, CP, SA, TSi, TSr } (no MOBIKE_SUPPORTED) */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_IKE_AUTH);
  assert_false(hx_has(&m, IKE_N_MOBIKE_SUPPORTED));
  assert_false(hx_ci(hx)->mobike);
  assert_int_equal(hx_st(hx)->mobike_ignored, 1);
  assert_int_equal(hx_st(hx)->mobike_notify_rcvd, 0);
  assert_int_equal(hx_st(hx)->notify_sent_MOBIKE_SUPPORTED, 0);
  assert_int_equal(hx_st(hx)->notify_rcvd_MOBIKE_SUPPORTED, 1);
  assert_int_equal(hx->n_add, 1);
  check_child_matches(hx);
}

/* Template with MOBIKE, client without: nothing to answer. */
static void establish_client_no_mobike(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, MOBIKE_ON);
  hx->ccfg.mobike = false;
  hx_establish(hx);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_false(hx_has(&m, IKE_N_MOBIKE_SUPPORTED));
  assert_false(hx_ci(hx)->mobike);
  assert_int_equal(hx_st(hx)->mobike_ignored, 0);
  assert_int_equal(hx_st(hx)->mobike_notify_rcvd, 0);
  assert_int_equal(hx_st(hx)->notify_sent_MOBIKE_SUPPORTED, 0);
  /* No MOBIKE and no NAT: the client stayed on port 500. */
  assert_false(hx_ci(hx)->natt);
  assert_false(hx->add[0].encap);
}

static void wrong_psk(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, MOBIKE_ON);
  hx->ccfg.psk = "not-the-right-key";
  hx_client(hx);
  /* IKE_SA_INIT --> <-- ; IKE_AUTH { IDi, AUTH(wrong key), ... } --> */
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  hx_run(hx);
  /* <-- IKE_AUTH { N(AUTHENTICATION_FAILED) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_AUTHENTICATION_FAILED);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_FAILED);
  assert_int_equal(hx_ci(hx)->error, IKE_N_AUTHENTICATION_FAILED);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx->n_add, 0);
  assert_int_equal(hx_st(hx)->fail_auth, 1);
  assert_int_equal(hx_st(hx)->notify_sent_AUTHENTICATION_FAILED, 1);
  assert_int_equal(hx_st(hx)->ike_sa_established, 0);
  assert_int_equal(hx_st(hx)->ike_sa_current, 0);
}

static void no_proposal(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, MOBIKE_ON);
  hx->ccfg.ike = (ike_suite_t){.encr = IKE_ENCR_AES_CBC, .encr_bits = 128,
                               .integ = IKE_INTEG_HMAC_SHA2_256_128,
                               .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_ECP_256};
  hx_client(hx);
  /* IKE_SA_INIT { SA(AES-CBC-128) ... } --> */
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  hx_run(hx);
  /* <-- IKE_SA_INIT { N(NO_PROPOSAL_CHOSEN) } */
  clear_msg(hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_NO_PROPOSAL_CHOSEN);
  assert_int_equal(m.h.spi_r, 0);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_FAILED);
  assert_int_equal(hx_ci(hx)->error, IKE_N_NO_PROPOSAL_CHOSEN);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx_st(hx)->fail_no_proposal, 1);
  assert_int_equal(hx_st(hx)->notify_sent_NO_PROPOSAL_CHOSEN, 1);
}

static void invalid_ke_retry(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, MOBIKE_ON);
  hx->ccfg.ke_group = IKE_DH_CURVE25519; /* offered with 19; gateway has 19 14 */
  hx_client(hx);
  /* IKE_SA_INIT { SA(groups 31, 19), KE(31), Ni } --> */
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_true(hx_step_gw(hx));
  /* <-- IKE_SA_INIT { N(INVALID_KE_PAYLOAD, 19) } */
  clear_msg(hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  ike_notify_pld_t n = clear_notify(&m, IKE_N_INVALID_KE_PAYLOAD);
  assert_int_equal(n.len, 2);
  assert_int_equal(n.data[0] << 8 | n.data[1], IKE_DH_ECP_256);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx_st(hx)->fail_invalid_ke, 1);
  /* IKE_SA_INIT { SA, KE(19), Ni } --> ... established */
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  assert_int_equal(hx_ci(hx)->suite.dh, IKE_DH_ECP_256);
  assert_int_equal(hx_ci(hx)->init_retries, 1);
  assert_int_equal(hx_st(hx)->ike_sa_established, 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  check_child_matches(hx);
}

static void cookie_retry(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, MOBIKE_ON "      ikev2-ikesa cookie-threshold 0\n");
  hx_client(hx);
  /* IKE_SA_INIT { SA, KE, Ni, N(NAT_DETECTION_*) } --> */
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_true(hx_step_gw(hx));
  /* <-- IKE_SA_INIT { N(COOKIE) } */
  clear_msg(hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_COOKIE);
  assert_int_equal(clear_notify(&m, IKE_N_COOKIE).len, 21);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx_st(hx)->fail_cookie_required, 1);
  assert_int_equal(hx_st(hx)->notify_sent_COOKIE, 1);
  /* IKE_SA_INIT { N(COOKIE), SA, KE, Ni, N(NAT_DETECTION_*) } --> ... established */
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  assert_int_equal(hx_ci(hx)->init_retries, 1);
  assert_int_equal(hx_st(hx)->fail_cookie_required, 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx->n_add, 1);
}

/* An IKE_SA_INIT flood: over the cookie threshold every new request gets a
 * COOKIE and no state; the number of half-open SAs stays at the threshold. */
static void init_flood_bounded(void **state)
{
  hx_t *hx = *state;
  hx_init(hx, MOBIKE_ON "      ikev2-ikesa cookie-threshold 5\n");
  hx_client(hx);
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  size_t len = 0;
  ike_path_t path;
  bool natt = false;
  const uint8_t *req = ike_client_last_request(hx->cl, &len, &path, &natt);
  assert_non_null(req);
  uint8_t copy[8192];
  assert_true(len <= sizeof copy);
  memcpy(copy, req, len);
  hx->n_to_gw = 0;
  /* 50 x IKE_SA_INIT from 50 "initiators" (distinct SPIi) --> */
  for (int i = 0; i < 50; i++) {
    copy[0] = (uint8_t)(0xA0 + i);
    hx_inject_gw(hx, &path, natt, copy, len);
  }
  assert_int_equal(ike_engine_sa_count(hx->gw), 5);
  assert_int_equal(hx_st(hx)->fail_cookie_required, 45);
  assert_int_equal(hx_st(hx)->notify_sent_COOKIE, 45);
  /* <-- the last answer is a clear N(COOKIE), not an SA */
  hx_msg_t m;
  clear_msg(hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_COOKIE);
  /* Half-open SAs expire when IKE_AUTH never comes. */
  hx_advance(hx, 31000);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
}

static void retransmitted_requests(void **state)
{
  hx_t *hx = *state;
  hx_init(hx, MOBIKE_ON);
  hx_client(hx);
  /* IKE_SA_INIT --> <-- (response held in the network) */
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_true(hx_step_gw(hx));
  assert_int_equal(hx->n_log, 1);
  /* The client times out: IKE_SA_INIT again (same bytes) --> */
  hx_advance(hx, 1000);
  assert_int_equal(hx_ci(hx)->retransmits, 1);
  assert_int_equal(hx->n_to_gw, 1);
  assert_true(hx_step_gw(hx));
  /* <-- the same IKE_SA_INIT response, byte for byte; no second SA */
  assert_int_equal(hx->n_log, 2);
  assert_int_equal(hx->log[0].len, hx->log[1].len);
  assert_memory_equal(hx->log[0].data, hx->log[1].data, hx->log[0].len);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx_st(hx)->retrans_rsp_sent, 1);
  /* Both responses reach the client: the second is a stray and dropped. */
  assert_true(hx_step_cl(hx));
  assert_true(hx_step_cl(hx));
  assert_int_equal(hx_ci(hx)->dropped, 1);
  /* IKE_AUTH --> <-- (held) */
  assert_true(hx_step_gw(hx));
  assert_int_equal(hx->n_log, 3);
  size_t len = 0;
  ike_path_t path;
  bool natt = false;
  const uint8_t *raw = ike_client_last_request(hx->cl, &len, &path, &natt);
  assert_non_null(raw);
  /* IKE_AUTH again (a replay of the same bytes) --> */
  hx_inject_gw(hx, &path, natt, raw, len);
  /* <-- the same IKE_AUTH response; nothing new created */
  assert_int_equal(hx->n_log, 4);
  assert_int_equal(hx->log[2].len, hx->log[3].len);
  assert_memory_equal(hx->log[2].data, hx->log[3].data, hx->log[2].len);
  assert_int_equal(hx_st(hx)->retrans_rsp_sent, 2);
  assert_int_equal(hx_st(hx)->ike_sa_established, 1);
  assert_int_equal(hx_st(hx)->child_sa_established, 1);
  assert_int_equal(hx->n_add, 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  check_child_matches(hx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(establish_psk_mobike, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(establish_mobike_off, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(establish_client_no_mobike, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(wrong_psk, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(no_proposal, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(invalid_ke_retry, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(cookie_retry, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(init_flood_bounded, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(retransmitted_requests, hx_state_setup, hx_state_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
