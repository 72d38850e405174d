/*
 * test_engine_info.c - exchanges after IKE_AUTH between our initiator and the
 * engine (in-memory bench): DPD both ways and the dead peer (RFC 7296 1.4,
 * 2.4), Delete of IKE and CHILD SAs (1.4.1), CHILD SA rekey (1.3.3) and IKE
 * SA rekey (1.3.2, 2.18).
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

static int setup(void **state)
{
  hx_t *hx = calloc(1, sizeof(hx_t));
  if (hx == NULL) {
    return -1;
  }
  hx_init(hx, MOBIKE_ON);
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

typedef struct sa_view {
  unsigned n;
  ike_sa_info_t in;
} sa_view_t;

static void view_sa(void *arg, const ike_sa_info_t *in)
{
  sa_view_t *v = arg;
  v->n++;
  v->in = *in;
}

static void dpd_from_client(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  uint64_t before = hx_st(hx)->exch_info_req_rcvd;
  /* INFORMATIONAL { } --> */
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_INFORMATIONAL);
  assert_true(m.h.flags & IKE_FLAG_RESPONSE);
  assert_int_equal(m.h.msg_id, 2);
  assert_int_equal(m.chain.n, 0);
  assert_false(ike_client_busy(hx->cl));
  assert_int_equal(hx_st(hx)->exch_info_req_rcvd, before + 1);
  assert_int_equal(hx_st(hx)->exch_info_rsp_sent, 1);
  assert_int_equal(hx->n_upd + hx->n_del, 0);
}

static void dpd_from_gateway(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  size_t n_log = hx->n_log;
  hx_advance(hx, 29000);
  assert_int_equal(hx->n_log, n_log); /* not yet due */
  hx_advance(hx, 1000);
  /* <-- INFORMATIONAL { } (gateway's liveness check after 30 s of silence) */
  assert_int_equal(hx->n_log, n_log + 1);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_INFORMATIONAL);
  assert_false(m.h.flags & IKE_FLAG_RESPONSE);
  assert_false(m.h.flags & IKE_FLAG_INITIATOR);
  assert_int_equal(m.h.msg_id, 0);
  assert_int_equal(m.chain.n, 0);
  assert_int_equal(hx_st(hx)->dpd_sent, 1);
  /* INFORMATIONAL { } --> (answer) */
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->gw_dpd_answered, 1);
  assert_int_equal(hx_st(hx)->exch_info_rsp_rcvd, 1);
  /* Answered: no retransmission, the SA stays. */
  hx_advance(hx, 5000);
  assert_int_equal(hx_st(hx)->retrans_req_sent, 0);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
}

static void dpd_dead_peer(void **state)
{
  hx_t *hx = *state;
  ike_client_set_answer(hx->cl, IKE_CLIENT_SILENT);
  hx_advance(hx, 30000);
  /* <-- INFORMATIONAL { } ... and its retransmissions, never answered */
  assert_int_equal(hx_st(hx)->dpd_sent, 1);
  for (int i = 0; i < 20; i++) {
    hx_run(hx);
    hx_advance(hx, 1000);
  }
  /* 1 + 2 + 4 + 8 s with max-retransmission 3, then the peer is dead. */
  assert_int_equal(hx_st(hx)->retrans_req_sent, 3);
  assert_int_equal(hx_st(hx)->fail_dead_peer, 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx_st(hx)->ike_sa_current, 0);
  assert_int_equal(hx->n_del, 1);
  assert_int_equal(hx->del[0].spi_in, hx_ci(hx)->child[0].spi_out);
  assert_int_equal(hx->del[0].spi_out, hx_ci(hx)->child[0].spi_in);
  assert_int_equal(hx_ci(hx)->gw_requests, 1); /* retransmissions are not new */
}

static void delete_ike_from_client(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  uint32_t in = hx_ci(hx)->child[0].spi_in, out = hx_ci(hx)->child[0].spi_out;
  /* INFORMATIONAL { D(IKE) } --> */
  assert_int_equal(ike_client_delete(hx->cl), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_INFORMATIONAL);
  assert_true(m.h.flags & IKE_FLAG_RESPONSE);
  assert_int_equal(m.chain.n, 0);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_CLOSED);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx->n_del, 1);
  assert_int_equal(hx->del[0].spi_in, out);
  assert_int_equal(hx->del[0].spi_out, in);
  assert_int_equal(hx_st(hx)->ike_sa_deleted, 1);
  assert_int_equal(hx_st(hx)->child_sa_deleted, 1);
  assert_int_equal(hx_st(hx)->ike_sa_current, 0);
  assert_int_equal(hx_st(hx)->child_sa_current, 0);
}

static void delete_child_from_client(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  uint32_t in = hx_ci(hx)->child[0].spi_in, out = hx_ci(hx)->child[0].spi_out;
  /* INFORMATIONAL { D(ESP, our inbound SPI) } --> */
  assert_int_equal(ike_client_delete_child(hx->cl, 0), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { D(ESP, the gateway's inbound SPI) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  const ike_pld_t *dp = ike_chain_find(&m.chain, IKE_PLD_DELETE);
  assert_non_null(dp);
  ike_delete_pld_t d;
  assert_int_equal(ike_pld_delete(dp, &d), 0);
  assert_int_equal(d.protocol, IKE_PROTO_ESP);
  assert_int_equal(d.n_spis, 1);
  assert_int_equal(d.spi[0], out);
  assert_int_equal(hx->n_del, 1);
  assert_int_equal(hx->del[0].spi_in, out);
  assert_int_equal(hx->del[0].spi_out, in);
  assert_false(hx_ci(hx)->child[0].used);
  assert_int_equal(hx_st(hx)->child_sa_deleted, 1);
  assert_int_equal(hx_st(hx)->child_sa_current, 0);
  /* The IKE SA stays and still answers. */
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx_st(hx)->ike_sa_current, 1);
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_run(hx);
  assert_false(ike_client_busy(hx->cl));
}

static void rekey_child(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  uint32_t old_in = hx_ci(hx)->child[0].spi_in, old_out = hx_ci(hx)->child[0].spi_out;
  /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } --> */
  assert_int_equal(ike_client_rekey_child(hx->cl, 0), 0);
  assert_true(hx_step_gw(hx));
  /* <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_CREATE_CHILD_SA);
  assert_int_equal(m.n_notify, 0);
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_SA));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_NONCE));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_TSI));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_TSR));
  assert_int_equal(hx->n_add, 2);
  assert_int_equal(hx->n_del, 0); /* the old one stays until deleted */
  assert_int_equal(hx_st(hx)->child_sa_rekeyed, 1);
  /* INFORMATIONAL { D(ESP, old) } --> <-- INFORMATIONAL { D(ESP) } */
  hx_run(hx);
  const ike_client_child_t *nc = &hx_ci(hx)->child[1];
  assert_false(hx_ci(hx)->child[0].used);
  assert_true(nc->used);
  assert_int_equal(hx->add[1].spi_in, nc->spi_out);
  assert_int_equal(hx->add[1].spi_out, nc->spi_in);
  assert_memory_equal(hx->add[1].ek_in, nc->ek_out, nc->ek_len);
  assert_memory_equal(hx->add[1].ek_out, nc->ek_in, nc->ek_len);
  assert_memory_not_equal(hx->add[1].ek_in, hx->add[0].ek_in, nc->ek_len);
  assert_int_equal(hx->n_del, 1);
  assert_int_equal(hx->del[0].spi_in, old_out);
  assert_int_equal(hx->del[0].spi_out, old_in);
  assert_int_equal(hx_st(hx)->child_sa_current, 1);
  assert_int_equal(hx_st(hx)->child_sa_established, 2);
}

static void rekey_ike(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  uint64_t old_r = hx_ci(hx)->spi_r;
  uint32_t vip = hx_ci(hx)->vip4;
  /* CREATE_CHILD_SA { SA(IKE, new SPIi), Ni, KEi } --> */
  assert_int_equal(ike_client_rekey_ike(hx->cl), 0);
  assert_true(hx_step_gw(hx));
  /* <-- CREATE_CHILD_SA { SA(IKE, new SPIr), Nr, KEr } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_CREATE_CHILD_SA);
  assert_int_equal(m.h.spi_r, old_r);
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_KE));
  assert_int_equal(ike_engine_sa_count(hx->gw), 2);
  assert_int_equal(hx_st(hx)->ike_sa_rekeyed, 1);
  /* INFORMATIONAL { D(IKE) } on the old SA --> <-- INFORMATIONAL { } */
  hx_run(hx);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  uint64_t new_r = hx_ci(hx)->spi_r;
  assert_int_not_equal(new_r, old_r);
  assert_int_equal(ike_slot_of_spi(new_r), HX_SLOT);
  assert_int_equal(ike_slot_of_spi(new_r), ike_slot_of_spi(old_r));
  /* Children, address and MOBIKE carried over; nothing removed. The CHILD SA
   * is named to ipsecmgr again under the new IKE SPI (same SPIs and keys). */
  assert_int_equal(hx->n_del, 0);
  assert_int_equal(hx->n_add, 2);
  assert_int_equal(hx->add[1].ike_spi, new_r);
  assert_int_equal(hx->add[1].spi_in, hx->add[0].spi_in);
  assert_int_equal(hx_st(hx)->ike_sa_current, 1);
  assert_int_equal(hx_st(hx)->child_sa_current, 1);
  sa_view_t v = {0};
  ike_engine_foreach_sa(hx->gw, view_sa, &v);
  assert_int_equal(v.n, 1);
  assert_int_equal(v.in.spi_r, new_r);
  assert_true(v.in.mobike);
  assert_int_equal(v.in.n_child, 1);
  assert_int_equal(v.in.child[0].spi_in, hx_ci(hx)->child[0].spi_out);
  assert_int_equal(v.in.vip4, vip);
  /* The new SA works: DPD and a MOBIKE update (only a MOBIKE SA moves). */
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_run(hx);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.spi_r, new_r);
  assert_int_equal(m.h.msg_id, 0);
  ike_path_t p2 = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*) } --> */
  assert_int_equal(ike_client_move(hx->cl, &p2, &(ike_client_move_opts_t){.natt = true}), 0);
  hx_run(hx);
  assert_int_equal(hx->n_upd, 1);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 1);
}

/* Gateway-initiated delete (gwctl clear). */
static void delete_from_gateway(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  assert_int_equal(ike_engine_clear(hx->gw, 0, hx->now), 1);
  /* <-- INFORMATIONAL { D(IKE) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  const ike_pld_t *dp = ike_chain_find(&m.chain, IKE_PLD_DELETE);
  assert_non_null(dp);
  assert_int_equal(hx->n_del, 1); /* CHILD SAs go at once */
  /* INFORMATIONAL { } --> */
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_CLOSED);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx_st(hx)->ike_sa_deleted, 1);
}

/* ipsecmgr reports a CHILD SA's soft lifetime: the gateway rekeys it itself;
 * the hard lifetime deletes just that CHILD SA. */
static void child_lifetimes(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  assert_int_equal(hx->n_add, 1);
  uint32_t spi_in = hx->add[0].spi_in;
  size_t sent = hx->n_log;
  /* soft --> <-- CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } */
  ike_engine_child_expire(hx->gw, hx->add[0].ike_spi, spi_in, false, hx->now);
  assert_int_equal(hx->n_log, sent + 1);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_CREATE_CHILD_SA);
  assert_int_equal(m.h.flags & IKE_FLAG_RESPONSE, 0);
  assert_true(hx_has(&m, IKE_N_REKEY_SA));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_SA));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_NONCE));
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_TSI));
  assert_int_equal(hx_st(hx)->notify_sent_REKEY_SA, 1);
  /* A second soft event while the rekey is in flight starts nothing new. */
  ike_engine_child_expire(hx->gw, hx->add[0].ike_spi, spi_in, false, hx->now);
  assert_int_equal(hx->n_log, sent + 1);
  /* hard --> <-- the CHILD SA is removed from the datapath at once */
  size_t dels = hx->n_del;
  ike_engine_child_expire(hx->gw, hx->add[0].ike_spi, spi_in, true, hx->now);
  assert_int_equal(hx->n_del, dels + 1);
  assert_int_equal(hx->del[dels].spi_in, spi_in);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1); /* the IKE SA stays */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(dpd_from_client, setup, teardown),
      cmocka_unit_test_setup_teardown(dpd_from_gateway, setup, teardown),
      cmocka_unit_test_setup_teardown(dpd_dead_peer, setup, teardown),
      cmocka_unit_test_setup_teardown(delete_ike_from_client, setup, teardown),
      cmocka_unit_test_setup_teardown(delete_child_from_client, setup, teardown),
      cmocka_unit_test_setup_teardown(rekey_child, setup, teardown),
      cmocka_unit_test_setup_teardown(rekey_ike, setup, teardown),
      cmocka_unit_test_setup_teardown(delete_from_gateway, setup, teardown),
      cmocka_unit_test_setup_teardown(child_lifetimes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
