/*
 * test_engine_mobike.c - MOBIKE (RFC 4555) between our initiator and the
 * engine over the in-memory bench: address updates with and without a NAT
 * change (3.5), retransmitted and stale updates, COOKIE2 both ways and the
 * return routability check (3.8: pass, mismatch, timeout), NO_NATS_ALLOWED
 * (3.9), ADDITIONAL_* addresses (3.6, ignored by this gateway), updates on a
 * non-MOBIKE SA, UNACCEPTABLE_ADDRESSES, answers to the old address, and an
 * update while a DPD of the gateway is outstanding. Each case asserts the
 * notifies of the gateway's datagrams and the counters moved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_harness.c"

#define MOBIKE_ON "      ikev2-ikesa mobike\n"
#define MOBIKE_RRC "      ikev2-ikesa mobike cookie-challenge\n"

static void up(hx_t *hx, const char *extra)
{
  hx_init(hx, extra);
  hx_establish(hx);
  assert_true(hx_ci(hx)->mobike || strstr(extra, "mobike") == NULL);
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

static sa_view_t gw_sa(const hx_t *hx)
{
  sa_view_t v;
  memset(&v, 0, sizeof v);
  ike_engine_foreach_sa(hx->gw, view_sa, &v);
  return v;
}

static bool gw_path_is(const hx_t *hx, const ike_path_t *want)
{
  sa_view_t v = gw_sa(hx);
  return v.n == 1 && hx_path_eq(&v.in.path, want);
}

/* The gateway's view of a client path. */
static ike_path_t gw_view(const ike_path_t *client)
{
  return (ike_path_t){.peer = client->local, .local = client->peer};
}

static ike_notify_pld_t find_notify(const hx_msg_t *m, uint16_t t)
{
  ike_notify_pld_t n;
  for (unsigned i = 0; i < m->chain.n; i++) {
    if (m->chain.pld[i].type == IKE_PLD_NOTIFY &&
        ike_pld_notify(&m->chain.pld[i], &n) == 0 && n.type == t) {
      return n;
    }
  }
  fail_msg("notify %u not found", t);
  memset(&n, 0, sizeof n);
  return n;
}

static const ike_client_move_opts_t NATT = {.natt = true};

static void update_no_nat(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  up(hx, MOBIKE_ON);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_SOURCE_IP),
   *                 N(NAT_DETECTION_DESTINATION_IP) } --> (from 127.0.2.2) */
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) } */
  const hx_pkt_t *rsp = hx_gw_sent(hx, -1);
  hx_decode(hx, rsp, &m);
  assert_true(m.h.flags & IKE_FLAG_RESPONSE);
  assert_int_equal(m.n_notify, 2);
  assert_true(hx_has(&m, IKE_N_NAT_DETECTION_SOURCE_IP));
  assert_true(hx_has(&m, IKE_N_NAT_DETECTION_DESTINATION_IP));
  assert_true(hx_path_eq(&rsp->path, &b)); /* answered to the new address */
  /* Every CHILD SA re-pathed once, encapsulated (port 4500). */
  assert_int_equal(hx->n_upd, 1);
  ike_path_t want = gw_view(&b);
  assert_true(hx_path_eq(&hx->upd[0].path, &want));
  assert_true(hx->upd[0].encap);
  assert_int_equal(hx->upd[0].spi_in, hx_ci(hx)->child[0].spi_out);
  assert_int_equal(hx->upd[0].spi_out, hx_ci(hx)->child[0].spi_in);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 1);
  assert_int_equal(hx_st(hx)->notify_rcvd_UPDATE_SA_ADDRESSES, 1);
  assert_int_equal(hx_st(hx)->mobike_nat_changed, 0);
  assert_false(hx_ci(hx)->nat_local);
  assert_false(hx_ci(hx)->nat_peer);
  assert_int_equal(hx_ci(hx)->error, 0);
  sa_view_t v = gw_sa(hx);
  assert_true(hx_path_eq(&v.in.path, &want));
  assert_false(v.in.nat_peer);
  /* The SA keeps its SPIs. */
  assert_int_equal(v.in.spi_r, hx_ci(hx)->spi_r);
  /* The next request works on the new path. */
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_run(hx);
  assert_true(hx_path_eq(&hx_gw_sent(hx, -1)->path, &b));
}

static void update_nat_change(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  hx_init(hx, MOBIKE_ON);
  hx->ccfg.no_float = true; /* stay on 500: no encapsulation at first */
  hx_establish(hx);
  assert_false(hx->add[0].encap);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_SOURCE_IP) (over a
   *                 NAT's address), N(NAT_DETECTION_DESTINATION_IP) } --> (4500) */
  ike_client_move_opts_t o = {.natt = true, .forge_natd_src = true};
  assert_int_equal(ike_client_move(hx->cl, &b, &o), 0);
  hx_run(hx);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_true(hx_has(&m, IKE_N_NAT_DETECTION_SOURCE_IP));
  assert_true(hx_has(&m, IKE_N_NAT_DETECTION_DESTINATION_IP));
  assert_int_equal(hx->n_upd, 1);
  assert_true(hx->upd[0].encap); /* UDP encapsulation switched on */
  assert_int_equal(hx_st(hx)->mobike_nat_changed, 1);
  assert_true(gw_sa(hx).in.nat_peer);
  /* Back to a direct path on port 500, honest hashes: encapsulation off. */
  ike_path_t a = hx_path("127.0.1.1", 500);
  ((struct sockaddr_in *)&a.peer)->sin_port = htons(500);
  assert_int_equal(ike_client_move(hx->cl, &a, NULL), 0);
  hx_run(hx);
  assert_int_equal(hx->n_upd, 2);
  assert_false(hx->upd[1].encap);
  ike_path_t want = gw_view(&a);
  assert_true(hx_path_eq(&hx->upd[1].path, &want));
  assert_int_equal(hx_st(hx)->mobike_nat_changed, 2);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 2);
  assert_false(gw_sa(hx).in.nat_peer);
}

static void update_retransmitted(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_ON);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), ... } --> <-- (response lost) */
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  assert_true(hx_step_gw(hx));
  size_t n_log = hx->n_log;
  hx_flush(hx);
  /* The client retransmits the same bytes --> */
  hx_advance(hx, 1000);
  assert_int_equal(hx_ci(hx)->retransmits, 1);
  assert_true(hx_step_gw(hx));
  /* <-- the same response, byte for byte; the update is not applied again */
  assert_int_equal(hx->n_log, n_log + 1);
  assert_int_equal(hx->log[n_log - 1].len, hx->log[n_log].len);
  assert_memory_equal(hx->log[n_log - 1].data, hx->log[n_log].data, hx->log[n_log].len);
  assert_int_equal(hx->n_upd, 1);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 1);
  assert_int_equal(hx_st(hx)->mobike_update_retransmit, 1);
  assert_int_equal(hx_st(hx)->retrans_rsp_sent, 1);
  hx_run(hx);
  assert_false(ike_client_busy(hx->cl));
  assert_int_equal(hx_ci(hx)->updates_done, 1);
}

static void update_stale(void **state)
{
  hx_t *hx = *state;
  static uint8_t old[8192];
  size_t len = 0;
  ike_path_t from;
  bool natt = false;
  up(hx, MOBIKE_ON);
  ike_path_t b = hx_path("127.0.2.2", 4500), c = hx_path("127.0.3.3", 4500);
  /* INFORMATIONAL (ID 2) { N(UPDATE_SA_ADDRESSES), ... } --> from B */
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  const uint8_t *raw = ike_client_last_request(hx->cl, &len, &from, &natt);
  memcpy(old, raw, len);
  hx_run(hx);
  /* INFORMATIONAL (ID 3) { N(UPDATE_SA_ADDRESSES), ... } --> from C */
  assert_int_equal(ike_client_move(hx->cl, &c, &NATT), 0);
  hx_run(hx);
  assert_int_equal(hx->n_upd, 2);
  size_t n_log = hx->n_log;
  /* A late copy of ID 2 arrives from B: older than the newest update --> */
  hx_inject_gw(hx, &from, natt, old, len);
  assert_int_equal(hx->n_log, n_log); /* not answered (RFC 7296 2.2) */
  assert_int_equal(hx->n_upd, 2);
  assert_int_equal(hx_st(hx)->mobike_update_stale, 1);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 2);
  ike_path_t want = gw_view(&c);
  assert_true(gw_path_is(hx, &want));
}

static void cookie2_from_client(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  up(hx, MOBIKE_ON);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*), N(COOKIE2) } --> */
  ike_client_move_opts_t o = {.natt = true, .cookie2 = true};
  assert_int_equal(ike_client_move(hx->cl, &b, &o), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { N(COOKIE2) (same value), N(NAT_DETECTION_*) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_true(hx_has(&m, IKE_N_COOKIE2));
  assert_int_equal(find_notify(&m, IKE_N_COOKIE2).len, 16);
  assert_true(hx_ci(hx)->cookie2_echo_ok);
  assert_int_equal(hx_st(hx)->mobike_cookie2_rcvd, 1);
  assert_int_equal(hx_st(hx)->notify_rcvd_COOKIE2, 1);
  assert_int_equal(hx_st(hx)->notify_sent_COOKIE2, 1);
  assert_int_equal(hx->n_upd, 1);
}

/* Update, then the gateway's COOKIE2 challenge: <-- INFORMATIONAL { N(COOKIE2) }. */
static void challenge(hx_t *hx, const ike_path_t *b)
{
  hx_msg_t m;
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*) } --> */
  assert_int_equal(ike_client_move(hx->cl, b, &NATT), 0);
  assert_true(hx_step_gw(hx));
  /* The IKE SA moved, its CHILD SAs wait for the check (RFC 4555 3.5, 5.2). */
  assert_int_equal(hx->n_upd, 0);
  /* <-- response, then <-- INFORMATIONAL { N(COOKIE2) } to the new address */
  const hx_pkt_t *req = hx_gw_sent(hx, -1);
  hx_decode(hx, req, &m);
  assert_false(m.h.flags & IKE_FLAG_RESPONSE);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_COOKIE2);
  assert_int_equal(find_notify(&m, IKE_N_COOKIE2).len, 16);
  assert_true(hx_path_eq(&req->path, b));
  assert_int_equal(hx_st(hx)->mobike_rrc_started, 1);
  assert_int_equal(hx_st(hx)->notify_sent_COOKIE2, 1);
}

static void rrc_pass(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_RRC);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  challenge(hx, &b);
  /* INFORMATIONAL { N(COOKIE2) (echo) } --> */
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->gw_cookie2_answered, 1);
  assert_int_equal(hx_st(hx)->mobike_cookie2_rcvd, 1);
  assert_int_equal(hx_st(hx)->mobike_cookie2_match, 1);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 1);
  assert_int_equal(hx_st(hx)->mobike_cookie2_mismatch, 0);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx->n_del, 0);
  /* Now, and only now, the CHILD SA moves to B. */
  assert_int_equal(hx->n_upd, 1);
  ike_path_t want = gw_view(&b);
  assert_true(hx_path_eq(&hx->upd[0].path, &want));
  /* Two checks never share a value. */
  ike_path_t c = hx_path("127.0.3.3", 4500);
  assert_int_equal(ike_client_move(hx->cl, &c, &NATT), 0);
  hx_run(hx);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 2);
  assert_int_equal(hx->n_upd, 2);
}

static void rrc_mismatch(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_RRC);
  ike_client_set_answer(hx->cl, IKE_CLIENT_WRONG_COOKIE2);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  challenge(hx, &b);
  /* INFORMATIONAL { N(COOKIE2) (another value) } --> : the session goes */
  hx_run(hx);
  assert_int_equal(hx_st(hx)->mobike_cookie2_mismatch, 1);
  assert_int_equal(hx_st(hx)->mobike_rrc_failed, 1);
  assert_int_equal(hx_st(hx)->mobike_cookie2_match, 0);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx->n_del, 1);
  assert_int_equal(hx->del[0].spi_in, hx_ci(hx)->child[0].spi_out);
  assert_int_equal(hx->n_upd, 0); /* ESP never went to the unverified address */
}

static void rrc_timeout(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_RRC);
  ike_client_set_answer(hx->cl, IKE_CLIENT_SILENT);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  challenge(hx, &b);
  for (int i = 0; i < 20; i++) {
    hx_run(hx);
    hx_advance(hx, 1000);
  }
  assert_int_equal(hx_st(hx)->retrans_req_sent, 3);
  assert_int_equal(hx_st(hx)->fail_dead_peer, 1);
  assert_int_equal(hx_st(hx)->mobike_rrc_failed, 1);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 0);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx->n_del, 1);
  assert_int_equal(hx->n_upd, 0);
}

static void no_nats_allowed(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  up(hx, MOBIKE_ON);
  ike_path_t a = hx_ci(hx)->path, b = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*) (NAT seen),
   *                 N(NO_NATS_ALLOWED) } --> */
  ike_client_move_opts_t o = {.natt = true, .forge_natd_src = true, .no_nats_allowed = true};
  assert_int_equal(ike_client_move(hx->cl, &b, &o), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { N(UNEXPECTED_NAT_DETECTED) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_UNEXPECTED_NAT_DETECTED);
  assert_int_equal(hx_ci(hx)->error, IKE_N_UNEXPECTED_NAT_DETECTED);
  assert_int_equal(hx->n_upd, 0);
  assert_int_equal(hx_st(hx)->notify_rcvd_NO_NATS_ALLOWED, 1);
  assert_int_equal(hx_st(hx)->notify_sent_UNEXPECTED_NAT_DETECTED, 1);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 0);
  ike_path_t want = gw_view(&a);
  assert_true(gw_path_is(hx, &want));
  /* Without a NAT the same request moves the SA. */
  ike_client_move_opts_t o2 = {.natt = true, .no_nats_allowed = true};
  assert_int_equal(ike_client_move(hx->cl, &b, &o2), 0);
  hx_run(hx);
  assert_int_equal(hx->n_upd, 1);
  assert_int_equal(hx_st(hx)->notify_sent_UNEXPECTED_NAT_DETECTED, 1);
}

static void additional_addresses_ignored(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  up(hx, MOBIKE_ON);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*),
   *   N(ADDITIONAL_IP4_ADDRESS), N(ADDITIONAL_IP6_ADDRESS), N(NO_ADDITIONAL_ADDRESSES) } --> */
  ike_client_move_opts_t o = {.natt = true, .additional_ip4 = true, .additional_ip6 = true,
                              .no_additional = true};
  assert_int_equal(ike_client_move(hx->cl, &b, &o), 0);
  hx_run(hx);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 2); /* only the NAT_DETECTION pair */
  assert_int_equal(hx_st(hx)->mobike_additional_ignored, 3);
  assert_int_equal(hx_st(hx)->notify_rcvd_ADDITIONAL_IP4_ADDRESS, 1);
  assert_int_equal(hx_st(hx)->notify_rcvd_ADDITIONAL_IP6_ADDRESS, 1);
  assert_int_equal(hx_st(hx)->notify_rcvd_NO_ADDITIONAL_ADDRESSES, 1);
  assert_int_equal(hx->n_upd, 1);
  /* Alone (no update): INFORMATIONAL { N(ADDITIONAL_IP4_ADDRESS) } --> <-- { } */
  static const uint8_t a4[4] = {198, 51, 100, 7};
  ike_client_notify_t n = {IKE_N_ADDITIONAL_IP4_ADDRESS, a4, 4};
  assert_int_equal(ike_client_notify(hx->cl, &n, 1), 0);
  hx_run(hx);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.chain.n, 0);
  assert_int_equal(hx_st(hx)->mobike_additional_ignored, 4);
  assert_int_equal(hx->n_upd, 1);
  assert_int_equal(hx_st(hx)->notify_sent_ADDITIONAL_IP4_ADDRESS, 0); /* never sent */
}

static void update_not_mobike(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  up(hx, ""); /* template without MOBIKE */
  assert_false(hx_ci(hx)->mobike);
  ike_path_t a = hx_ci(hx)->path, b = hx_path("127.0.2.2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*), N(COOKIE2) } --> */
  ike_client_move_opts_t o = {.natt = true, .cookie2 = true};
  assert_int_equal(ike_client_move(hx->cl, &b, &o), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { } : nothing moves, COOKIE2 not honoured either */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 0);
  assert_int_equal(hx->n_upd, 0);
  assert_int_equal(hx_st(hx)->mobike_update_not_mobike, 1);
  assert_int_equal(hx_st(hx)->mobike_update_applied, 0);
  assert_int_equal(hx_st(hx)->mobike_cookie2_rcvd, 0);
  ike_path_t want = gw_view(&a);
  assert_true(gw_path_is(hx, &want));
}

static void unacceptable_denied(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  up(hx, MOBIKE_ON "      ikev2-ikesa mobike deny-address 127.0.9.0/24\n");
  ike_path_t b = hx_path("127.0.9.9", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*) } --> (denied address) */
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { N(UNACCEPTABLE_ADDRESSES) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_UNACCEPTABLE_ADDRESSES);
  assert_int_equal(hx_ci(hx)->error, IKE_N_UNACCEPTABLE_ADDRESSES);
  assert_int_equal(hx->n_upd, 0);
  assert_int_equal(hx_st(hx)->notify_sent_UNACCEPTABLE_ADDRESSES, 1);
  /* An allowed address still works. */
  ike_path_t ok = hx_path("127.0.8.8", 4500);
  assert_int_equal(ike_client_move(hx->cl, &ok, &NATT), 0);
  hx_run(hx);
  assert_int_equal(hx->n_upd, 1);
}

static void unacceptable_family(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  up(hx, MOBIKE_ON);
  ike_path_t b6 = hx_path("2001:db8:1::2", 4500);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*) } --> (from IPv6) */
  assert_int_equal(ike_client_move(hx->cl, &b6, &NATT), 0);
  hx_run(hx);
  /* <-- INFORMATIONAL { N(UNACCEPTABLE_ADDRESSES) } */
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.n_notify, 1);
  assert_int_equal(m.notify[0], IKE_N_UNACCEPTABLE_ADDRESSES);
  assert_int_equal(hx->n_upd, 0);
  assert_int_equal(gw_sa(hx).in.path.peer.ss_family, AF_INET);
  assert_int_equal(hx_st(hx)->notify_sent_UNACCEPTABLE_ADDRESSES, 1);
}

static void old_address_answered(void **state)
{
  hx_t *hx = *state;
  uint8_t pkt[512];
  size_t len = 0;
  up(hx, MOBIKE_ON);
  ike_path_t a = hx_ci(hx)->path, b = hx_path("127.0.2.2", 4500);
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  hx_run(hx);
  assert_int_equal(hx->n_upd, 1);
  /* INFORMATIONAL { } --> from the OLD address A, next Message ID */
  assert_int_equal(ike_client_craft(hx->cl, IKE_EXCH_INFORMATIONAL,
                                    hx_ci(hx)->next_msg_id, IKE_FLAG_INITIATOR,
                                    IKE_PLD_NONE, NULL, 0, pkt, sizeof pkt, &len),
                   0);
  size_t n_log = hx->n_log;
  hx_inject_gw(hx, &a, true, pkt, len);
  /* <-- INFORMATIONAL { } to A, where it came from; the SA stays on B */
  assert_int_equal(hx->n_log, n_log + 1);
  assert_true(hx_path_eq(&hx_gw_sent(hx, -1)->path, &a));
  ike_path_t want = gw_view(&b);
  assert_true(gw_path_is(hx, &want));
  assert_int_equal(hx->n_upd, 1);
}

/* A DPD of the gateway in flight does not wedge an update: the COOKIE2
 * check waits for the DPD to complete, then runs. */
static void update_during_gateway_dpd(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_RRC);
  ike_client_set_answer(hx->cl, IKE_CLIENT_SILENT);
  /* <-- INFORMATIONAL { } (DPD), unanswered: the client is between networks */
  hx_advance(hx, 30000);
  hx_run(hx);
  assert_int_equal(hx_st(hx)->dpd_sent, 1);
  ike_client_set_answer(hx->cl, IKE_CLIENT_ANSWER);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*) } --> <-- */
  ike_path_t b = hx_path("127.0.2.2", 4500);
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->updates_done, 1);
  assert_int_equal(hx->n_upd, 0); /* CHILD SAs wait for the check */
  assert_int_equal(hx_st(hx)->mobike_rrc_started, 0); /* waits for the DPD */
  /* <-- INFORMATIONAL { } (DPD retransmission, now to B) --> answered;
   * <-- INFORMATIONAL { N(COOKIE2) } --> echoed */
  hx_advance(hx, 1000);
  assert_true(hx_path_eq(&hx_gw_sent(hx, -1)->path, &b));
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->gw_dpd_answered, 1);
  assert_int_equal(hx_st(hx)->mobike_rrc_started, 1);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx->n_del, 0);
  assert_int_equal(hx->n_upd, 1);
}

/* --- issue 12 item 5: the return routability check runs before ESP moves --- */

typedef struct child_view {
  unsigned n;
  ike_child_prog_t c;
} child_view_t;

static void view_child(void *arg, const ike_child_prog_t *c)
{
  child_view_t *v = arg;
  v->n++;
  v->c = *c;
}

static child_view_t gw_child(const hx_t *hx)
{
  child_view_t v;
  memset(&v, 0, sizeof v);
  ike_engine_foreach_child(hx->gw, view_child, &v);
  return v;
}

/* With cookie-challenge, UPDATE_SA_ADDRESSES moves the IKE SA at once but no
 * child_update is issued until the COOKIE2 echo came back; then exactly one,
 * to the new path. A CHILD SA replayed meanwhile stays on the old path. */
static void rrc_children_wait_for_echo(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_RRC);
  ike_path_t a = hx_ci(hx)->path, b = hx_path("127.0.2.2", 4500);
  ike_path_t old = gw_view(&a), want = gw_view(&b);
  /* The gateway's CHILD SAs of a MOBIKE SA never rebind on ESP (item 6). */
  assert_true(hx->add[0].no_rebind);
  /* INFORMATIONAL { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_*) } --> from B */
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  assert_true(hx_step_gw(hx));
  assert_true(gw_path_is(hx, &want)); /* IKE answers on the new path */
  assert_int_equal(hx->n_upd, 0);
  child_view_t v = gw_child(hx);
  assert_int_equal(v.n, 1);
  assert_true(hx_path_eq(&v.c.path, &old)); /* a replay keeps ESP where it was */
  assert_true(v.c.no_rebind);
  /* <-- response, <-- INFORMATIONAL { N(COOKIE2) } reach the client; nothing
   * comes back yet: still no move. */
  assert_true(hx_step_cl(hx));
  assert_int_equal(hx->n_upd, 0);
  assert_true(hx_step_cl(hx));
  assert_int_equal(hx->n_upd, 0);
  /* INFORMATIONAL { N(COOKIE2) (echo) } --> : exactly one move, to B */
  assert_true(hx_step_gw(hx));
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 1);
  assert_int_equal(hx->n_upd, 1);
  assert_true(hx_path_eq(&hx->upd[0].path, &want));
  assert_true(hx->upd[0].encap);
  assert_int_equal(hx->upd[0].spi_in, hx_ci(hx)->child[0].spi_out);
  v = gw_child(hx);
  assert_true(hx_path_eq(&v.c.path, &want));
  hx_run(hx);
  assert_int_equal(hx->n_upd, 1);
}

/* Seed conformance (item 9): the echo counts as a COOKIE2 received
 * (ikev2-notifrecv-cookie2), and a response without any COOKIE2 is a
 * failed check of its own, not a mismatch. */
static void rrc_echo_counted_as_received(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_RRC);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  challenge(hx, &b);
  assert_int_equal(hx_st(hx)->notify_rcvd_COOKIE2, 0);
  hx_run(hx);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 1);
  assert_int_equal(hx_st(hx)->notify_rcvd_COOKIE2, 1);
  assert_int_equal(hx_st(hx)->mobike_cookie2_rcvd, 1);
}

static void rrc_response_without_cookie2(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  uint8_t pkt[512];
  size_t len = 0;
  up(hx, MOBIKE_RRC);
  ike_client_set_answer(hx->cl, IKE_CLIENT_SILENT);
  ike_path_t b = hx_path("127.0.2.2", 4500);
  challenge(hx, &b);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  hx_run(hx); /* the client takes the update's response, ignores the check */
  /* <-- INFORMATIONAL { N(COOKIE2) }   INFORMATIONAL { } --> (response, no echo) */
  assert_int_equal(ike_client_craft(hx->cl, IKE_EXCH_INFORMATIONAL, m.h.msg_id,
                                    IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE, IKE_PLD_NONE,
                                    NULL, 0, pkt, sizeof pkt, &len),
                   0);
  hx_inject_gw(hx, &b, true, pkt, len);
  assert_int_equal(hx_st(hx)->mobike_cookie2_missing, 1);
  assert_int_equal(hx_st(hx)->mobike_cookie2_mismatch, 0);
  assert_int_equal(hx_st(hx)->mobike_rrc_failed, 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  assert_int_equal(hx->n_upd, 0);
  assert_int_equal(hx->n_del, 1);
}

/* --- a checkpoint taken while the CHILD SAs wait for the check --- */

static uint8_t ck_rec[65536];
static size_t ck_len;

static int ck_put(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  (void)arg;
  (void)spi;
  if (rec != NULL) {
    assert_true(len <= sizeof ck_rec);
    memcpy(ck_rec, rec, len);
    ck_len = len;
  }
  return 0;
}

/* Kill the gateway after the update was checkpointed (its answers are out),
 * restore a new engine from the record: it still holds the CHILD SAs on the
 * old path, replays them there, and moves them once the echo comes. */
static void rrc_hold_survives_checkpoint(void **state)
{
  hx_t *hx = *state;
  hx_init(hx, MOBIKE_RRC);
  ike_engine_set_checkpointing(hx->gw, true);
  hx_establish(hx);
  ike_path_t a = hx_ci(hx)->path, b = hx_path("127.0.2.2", 4500);
  ike_path_t old = gw_view(&a), want = gw_view(&b);
  assert_int_equal(ike_client_move(hx->cl, &b, &NATT), 0);
  assert_true(hx_step_gw(hx));
  assert_int_equal(hx->n_upd, 0);
  ck_len = 0;
  assert_int_equal(ike_engine_foreach_dirty(hx->gw, 0, ck_put, NULL), 0);
  ike_engine_take_dirty(hx->gw, true, 1);
  assert_true(ck_len > 0);
  ike_engine_free(hx->gw);
  static const ike_engine_ops_t ops = {gw_send, gw_child_add, gw_child_update,
                                       gw_child_del};
  assert_int_equal(ike_engine_new(HX_SLOT, &hx->cfg, &ops, hx, &hx->gw), 0);
  assert_int_equal(ike_engine_restore_sa(hx->gw, ck_rec, ck_len, 0), 0);
  assert_true(gw_path_is(hx, &want));
  child_view_t v = gw_child(hx);
  assert_int_equal(v.n, 1);
  assert_true(hx_path_eq(&v.c.path, &old)); /* the checkpointed replay: old path */
  assert_true(v.c.no_rebind);
  /* The client echoes the COOKIE2 of the check sent before the kill. */
  hx_run(hx);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 1);
  assert_int_equal(hx->n_upd, 1);
  assert_true(hx_path_eq(&hx->upd[0].path, &want));
  v = gw_child(hx);
  assert_true(hx_path_eq(&v.c.path, &want));
  ike_wipe(ck_rec, sizeof ck_rec);
}

/* An IKE rekey while the CHILD SAs wait for the check: the new IKE SA names
 * them to ipsecmgr on the old (verified) path, runs the check itself, and
 * only its echo moves them. */
static void rrc_hold_survives_ike_rekey(void **state)
{
  hx_t *hx = *state;
  up(hx, MOBIKE_RRC);
  ike_path_t a = hx_ci(hx)->path, b = hx_path("127.0.2.2", 4500);
  ike_path_t old = gw_view(&a), want = gw_view(&b);
  ike_client_set_answer(hx->cl, IKE_CLIENT_SILENT);
  challenge(hx, &b);
  hx_run(hx); /* the client ignores the first check */
  assert_int_equal(hx->n_upd, 0);
  ike_client_set_answer(hx->cl, IKE_CLIENT_ANSWER);
  /* CREATE_CHILD_SA { SA(IKE), Ni, KEi } --> */
  assert_int_equal(ike_client_rekey_ike(hx->cl), 0);
  assert_true(hx_step_gw(hx));
  assert_int_equal(hx->n_add, 2);
  assert_true(hx_path_eq(&hx->add[1].path, &old)); /* not to the unverified B */
  assert_true(hx->add[1].no_rebind);
  assert_int_equal(hx->n_upd, 0);
  assert_int_equal(hx_st(hx)->mobike_rrc_started, 2);
  /* <-- INFORMATIONAL { N(COOKIE2) } from the new IKE SA --> echoed */
  hx_run(hx);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 1);
  assert_int_equal(hx->n_upd, 1);
  assert_true(hx_path_eq(&hx->upd[0].path, &want));
  child_view_t v = gw_child(hx);
  assert_true(hx_path_eq(&v.c.path, &want));
}

/* Without MOBIKE the CHILD SAs keep NAT rebinding (no_rebind off). */
static void no_rebind_only_for_mobike(void **state)
{
  hx_t *hx = *state;
  up(hx, "");
  assert_false(hx->add[0].no_rebind);
  assert_false(gw_child(hx).c.no_rebind);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(update_no_nat, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(update_nat_change, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(update_retransmitted, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(update_stale, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(cookie2_from_client, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_pass, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_mismatch, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_timeout, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(no_nats_allowed, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(additional_addresses_ignored, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(update_not_mobike, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(unacceptable_denied, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(unacceptable_family, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(old_address_answered, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(update_during_gateway_dpd, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_children_wait_for_echo, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_echo_counted_as_received, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_response_without_cookie2, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_hold_survives_checkpoint, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(no_rebind_only_for_mobike, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(rrc_hold_survives_ike_rekey, hx_state_setup, hx_state_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
