/*
 * test_engine_ts.c - traffic selectors and virtual IPs of CHILD SAs through
 * the engine bench (engine_harness.c), and the INFO line that says why a
 * CHILD SA or an IKE_AUTH was refused.
 *
 * Issue 12 item 1 (virtual-IP takeover): on a remote-access template (one
 * with an address pool) the remote selector of every CHILD SA is exactly the
 * virtual IP the gateway assigned (RFC 7296 2.19), whatever TSi the client
 * proposed: a client without CP gets FAILED_CP_REQUIRED (3.10.1), never a
 * CHILD SA for the TSi it names; CREATE_CHILD_SA narrows the same way; and
 * what the engine hands to ipsecmgr carries the assigned VIP, never one
 * derived from a selector. Item 10: TS_UNACCEPTABLE / FAILED_CP_REQUIRED and
 * AUTHENTICATION_FAILED log one INFO line with the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_client_int.h"
#include "ike_log.h"

/* Another client's virtual IP (pool1 is 10.10.0.0/24). */
#define OTHER_VIP "10.10.0.200"

/* The single-address selector of a host-order IPv4 address. */
static ike_ts_t ts_of(uint32_t a)
{
  ike_ts_t ts;
  uint32_t be = htonl(a);
  memset(&ts, 0, sizeof ts);
  ts.type = IKE_TS_IPV4_ADDR_RANGE;
  ts.end_port = 0xFFFF;
  memcpy(ts.start, &be, 4);
  memcpy(ts.end, &be, 4);
  return ts;
}

static void assert_ts_equal(const ike_ts_t *a, const ike_ts_t *b)
{
  assert_int_equal(a->type, b->type);
  assert_int_equal(a->ip_proto, b->ip_proto);
  assert_int_equal(a->start_port, b->start_port);
  assert_int_equal(a->end_port, b->end_port);
  assert_memory_equal(a->start, b->start, 16);
  assert_memory_equal(a->end, b->end, 16);
}

/* The first TSi selector of the gateway's last response; false if none. */
static bool last_tsi(const hx_t *hx, hx_msg_t *m, ike_ts_t *out)
{
  hx_decode(hx, hx_gw_sent(hx, -1), m);
  const ike_pld_t *p = ike_chain_find(&m->chain, IKE_PLD_TSI);
  ike_ts_pld_t ts;
  if (p == NULL) {
    return false;
  }
  assert_int_equal(ike_pld_ts(p, &ts), 0);
  assert_int_equal(ts.n, 1);
  *out = ts.ts[0];
  return true;
}

/* The CHILD SA the engine programmed carries the client's VIP as its remote
 * selector and as its virtual IP, nothing else. */
static void assert_child_is_vip(const hx_t *hx, size_t i)
{
  uint32_t vip = hx_ci(hx)->vip4;
  assert_int_not_equal(vip, 0);
  assert_true(i < hx->n_add);
  ike_ts_t want = ts_of(vip);
  assert_ts_equal(&hx->add[i].ts_remote, &want);
  assert_int_equal(hx->add[i].vip4, vip);
  assert_false(hx->add[i].has_vip6);
}

/* IKE_AUTH { no CP, TSi = another client's VIP/32 } --> FAILED_CP_REQUIRED:
 * before the fix the TSi became this client's CHILD SA (and its route). */
static void no_cp_other_vip_refused(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx->ccfg.no_vip = true;
  hx->ccfg.tsi = hx_ts4(OTHER_VIP, OTHER_VIP);
  /* IKE_AUTH { IDi, AUTH, SA, TSi(10.10.0.200), TSr } --> */
  hx_establish(hx);
  /* <-- IKE_AUTH { IDr, AUTH, N(FAILED_CP_REQUIRED) } */
  assert_false(last_tsi(hx, &m, &got));
  assert_true(hx_has(&m, IKE_N_FAILED_CP_REQUIRED));
  assert_null(ike_chain_find(&m.chain, IKE_PLD_SA));
  assert_int_equal(hx->n_add, 0);
  assert_false(hx_ci(hx)->child[0].used);
  assert_int_equal(hx_st(hx)->notify_sent_FAILED_CP_REQUIRED, 1);
  assert_int_equal(hx_st(hx)->child_sa_established, 0);
  /* The IKE SA itself stands (RFC 7296 1.2). */
  assert_int_equal(hx_st(hx)->ike_sa_current, 1);
}

/* IKE_AUTH { no CP, TSi = 0.0.0.0/0 } --> FAILED_CP_REQUIRED: before the fix
 * an inbound SA accepting any inner source was installed. */
static void no_cp_any_refused(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx->ccfg.no_vip = true;
  hx_establish(hx);
  assert_false(last_tsi(hx, &m, &got));
  assert_true(hx_has(&m, IKE_N_FAILED_CP_REQUIRED));
  assert_int_equal(hx->n_add, 0);
}

/* IKE_AUTH { CP, TSi = 0.0.0.0/0 } --> TSi narrowed to the VIP. */
static void cp_any_narrowed(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx_establish(hx);
  assert_true(last_tsi(hx, &m, &got));
  ike_ts_t want = ts_of(hx_ci(hx)->vip4);
  assert_ts_equal(&got, &want);
  assert_int_equal(hx->n_add, 1);
  assert_child_is_vip(hx, 0);
}

/* libreswan's default road warrior: CP and TSi = its own outer address.
 * Accepted, TSi narrowed to the VIP (was TS_UNACCEPTABLE). */
static void cp_outer_address_narrowed(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx->ccfg.tsi = hx_ts4("127.0.1.1", "127.0.1.1"); /* the client's outer address */
  /* IKE_AUTH { IDi, AUTH, CP(INTERNAL_IP4_ADDRESS), SA, TSi(127.0.1.1), TSr } --> */
  hx_establish(hx);
  /* <-- IKE_AUTH { IDr, AUTH, CP(10.10.0.x), SA, TSi(10.10.0.x), TSr } */
  assert_true(last_tsi(hx, &m, &got));
  assert_false(hx_has(&m, IKE_N_TS_UNACCEPTABLE));
  ike_ts_t want = ts_of(hx_ci(hx)->vip4);
  assert_ts_equal(&got, &want);
  assert_int_equal(hx->n_add, 1);
  assert_child_is_vip(hx, 0);
  assert_true(hx_ci(hx)->child[0].used);
  assert_int_equal(hx_st(hx)->fail_ts_unacceptable, 0);
}

/* The peer's protocol and ports narrow the selector; its address never. */
static void cp_ports_kept(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx->ccfg.tsi = hx_ts4("0.0.0.0", "255.255.255.255");
  hx->ccfg.tsi.ip_proto = 6;
  hx->ccfg.tsi.start_port = 80;
  hx->ccfg.tsi.end_port = 80;
  hx_establish(hx);
  assert_true(last_tsi(hx, &m, &got));
  ike_ts_t want = ts_of(hx_ci(hx)->vip4);
  want.ip_proto = 6;
  want.start_port = 80;
  want.end_port = 80;
  assert_ts_equal(&got, &want);
  assert_ts_equal(&hx->add[0].ts_remote, &want);
}

/* CP and TSi = another client's VIP: the CHILD SA gets this client's own VIP
 * (IKE_AUTH and the CREATE_CHILD_SA rekey alike); the other address never
 * appears in what ipsecmgr is given. */
static void cp_other_vip_narrowed_and_rekey(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx->ccfg.tsi = hx_ts4(OTHER_VIP, OTHER_VIP);
  hx_establish(hx);
  assert_true(last_tsi(hx, &m, &got));
  ike_ts_t want = ts_of(hx_ci(hx)->vip4);
  assert_int_not_equal(hx_ci(hx)->vip4, hx_ip4(OTHER_VIP));
  assert_ts_equal(&got, &want);
  assert_child_is_vip(hx, 0);
  /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi(10.10.0.200), TSr } --> */
  assert_int_equal(ike_client_rekey_child(hx->cl, 0), 0);
  assert_true(hx_step_gw(hx));
  /* <-- CREATE_CHILD_SA { SA, Nr, TSi(own VIP), TSr } */
  assert_true(last_tsi(hx, &m, &got));
  assert_int_equal(m.n_notify, 0);
  assert_ts_equal(&got, &want);
  assert_int_equal(hx->n_add, 2);
  assert_child_is_vip(hx, 1);
  hx_run(hx);
}

/* CREATE_CHILD_SA { SA, Ni, TSi, TSr } built by hand (a new CHILD SA, not a
 * rekey) with TSi tsi, sent as the client's next request. */
static void send_new_child(hx_t *hx, const ike_ts_t *tsi)
{
  uint8_t inner[1024], pkt[2048], first = 0, spi[4] = {0x11, 0x22, 0x33, 0x44};
  uint8_t ni[32];
  size_t len = 0;
  ike_mb_t mb;
  memset(ni, 0x5A, sizeof ni);
  ike_mb_init_inner(&mb, inner, sizeof inner);
  ike_client_put_proposal(&mb, IKE_PROTO_ESP, spi, 4, &hx->ccfg.esp, NULL, 0);
  ike_put_nonce(&mb, ni, sizeof ni);
  ike_client_put_ts_any(&mb, tsi);
  int n = ike_mb_finish(&mb, &first);
  assert_true(n > 0);
  assert_int_equal(ike_client_craft(hx->cl, IKE_EXCH_CREATE_CHILD_SA,
                                    hx_ci(hx)->next_msg_id, IKE_FLAG_INITIATOR, first,
                                    inner, (size_t)n, pkt, sizeof pkt, &len), 0);
  ike_path_t p = hx_ci(hx)->path;
  hx_inject_gw(hx, &p, hx_ci(hx)->natt, pkt, len);
}

/* An IKE SA without a virtual IP (no CP in IKE_AUTH) asks for a CHILD SA with
 * CREATE_CHILD_SA: refused, nothing programmed. */
static void new_child_without_vip_refused(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx->ccfg.no_vip = true;
  hx_establish(hx);
  assert_int_equal(hx->n_add, 0);
  /* CREATE_CHILD_SA { SA, Ni, TSi(10.10.0.200), TSr } --> */
  ike_ts_t other = hx_ts4(OTHER_VIP, OTHER_VIP);
  send_new_child(hx, &other);
  /* <-- CREATE_CHILD_SA { N(TS_UNACCEPTABLE) } */
  assert_false(last_tsi(hx, &m, &got));
  assert_int_equal(m.h.exchange, IKE_EXCH_CREATE_CHILD_SA);
  assert_true(hx_has(&m, IKE_N_TS_UNACCEPTABLE));
  assert_int_equal(hx->n_add, 0);
}

/* A new CHILD SA of a client with a VIP proposing 0.0.0.0/0: narrowed. */
static void new_child_narrowed(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  hx_init(hx, "");
  hx_establish(hx);
  ike_ts_t any = hx_ts4("0.0.0.0", "255.255.255.255");
  send_new_child(hx, &any);
  assert_true(last_tsi(hx, &m, &got));
  ike_ts_t want = ts_of(hx_ci(hx)->vip4);
  assert_ts_equal(&got, &want);
  assert_int_equal(hx->n_add, 2);
  assert_child_is_vip(hx, 1);
}

/* A template without an address pool (site-to-site style): the peer's TSi is
 * kept (no remote selectors are configured), but it is never a virtual IP. */
static void no_pool_template_no_vip(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  ike_ts_t got;
  char conf[4096];
  snprintf(conf, sizeof conf, "%s", hx_conf(NULL));
  char *pool = strstr(conf, "      ip address pool name pool1\n");
  assert_non_null(pool);
  memmove(pool, pool + strlen("      ip address pool name pool1\n"),
          strlen(pool + strlen("      ip address pool name pool1\n")) + 1);
  hx_init_conf(hx, conf);
  hx->ccfg.no_vip = true;
  hx->ccfg.tsi = hx_ts4(OTHER_VIP, OTHER_VIP);
  hx_establish(hx);
  assert_true(last_tsi(hx, &m, &got));
  assert_ts_equal(&got, &hx->ccfg.tsi);
  assert_int_equal(hx->n_add, 1);
  assert_int_equal(hx->add[0].vip4, 0);
  assert_false(hx->add[0].has_vip6);
}

/* After an IKE rekey the CHILD SAs are named to ipsecmgr again under the new
 * IKE SPI (same SPIs and keys: ipsecmgr keeps them and records the new
 * owner), so a later CHILD rekey of the new IKE SA may use the same VIP. */
static void ike_rekey_names_new_owner(void **state)
{
  hx_t *hx = *state;
  hx_init(hx, "");
  hx_establish(hx);
  uint64_t old_r = hx_ci(hx)->spi_r;
  assert_int_equal(hx->add[0].ike_spi, old_r);
  /* CREATE_CHILD_SA { SA(IKE), Ni, KEi } --> <-- ; Delete of the old SA */
  assert_int_equal(ike_client_rekey_ike(hx->cl), 0);
  hx_run(hx);
  uint64_t new_r = hx_ci(hx)->spi_r;
  assert_int_not_equal(new_r, old_r);
  assert_int_equal(hx->n_add, 2);
  assert_int_equal(hx->add[1].ike_spi, new_r);
  assert_int_equal(hx->add[1].spi_in, hx->add[0].spi_in);
  assert_int_equal(hx->add[1].spi_out, hx->add[0].spi_out);
  assert_memory_equal(hx->add[1].ek_in, hx->add[0].ek_in, hx->add[0].ek_len);
  assert_child_is_vip(hx, 1);
  assert_int_equal(hx->n_del, 0);
}

/* --- Item 10: say why --- */

static void run_establish(void *arg)
{
  hx_establish(arg);
}

static void run_failed_auth(void *arg)
{
  hx_t *hx = arg;
  hx_client(hx);
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  hx_run(hx);
}

/* TS_UNACCEPTABLE: the proposed selectors and what the template allows. */
static void log_ts_unacceptable(void **state)
{
  hx_t *hx = *state;
  hx_msg_t m;
  char log[8192];
  hx_init(hx, "");
  /* CP asks for IPv4, TSi offers IPv6 only: no selector pair is possible. */
  memset(&hx->ccfg.tsi, 0, sizeof hx->ccfg.tsi);
  hx->ccfg.tsi.type = IKE_TS_IPV6_ADDR_RANGE;
  hx->ccfg.tsi.end_port = 0xFFFF;
  memset(hx->ccfg.tsi.end, 0xFF, 16);
  ike_log_set_level(IKE_LOG_LVL_INFO);
  hx_capture_log(run_establish, hx, log, sizeof log);
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_true(hx_has(&m, IKE_N_TS_UNACCEPTABLE));
  assert_int_equal(hx_st(hx)->fail_ts_unacceptable, 1);
  char vip[INET_ADDRSTRLEN], want[256];
  uint32_t be = htonl(hx_ci(hx)->vip4);
  inet_ntop(AF_INET, &be, vip, sizeof vip);
  const char *line = strstr(log, "CHILD SA refused (TS_UNACCEPTABLE)");
  if (line == NULL) {
    fail_msg("no refusal line in the log:\n%s", log);
  }
  assert_non_null(strstr(line, "proposed TSi [::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"));
  assert_non_null(strstr(line, "TSr [0.0.0.0-255.255.255.255]"));
  snprintf(want, sizeof want, "template tmpl1 allows TSi [%s-%s (virtual IP)] TSr [any]",
           vip, vip);
  assert_non_null(strstr(line, want));
  /* One line. */
  assert_null(strstr(strstr(log, "CHILD SA refused") + 1, "CHILD SA refused"));
}

/* FAILED_CP_REQUIRED says the client sent no CP request. */
static void log_cp_required(void **state)
{
  hx_t *hx = *state;
  char log[8192];
  hx_init(hx, "");
  hx->ccfg.no_vip = true;
  hx->ccfg.tsi = hx_ts4(OTHER_VIP, OTHER_VIP);
  ike_log_set_level(IKE_LOG_LVL_INFO);
  hx_capture_log(run_establish, hx, log, sizeof log);
  const char *line = strstr(log, "CHILD SA refused (FAILED_CP_REQUIRED)");
  if (line == NULL) {
    fail_msg("no refusal line in the log:\n%s", log);
  }
  assert_non_null(strstr(line, "proposed TSi [" OTHER_VIP "-" OTHER_VIP "]"));
  assert_non_null(strstr(line, "allows TSi [none (no virtual IP assigned: no CP request)]"));
}

/* AUTHENTICATION_FAILED with a wrong PSK: "PSK mismatch", no key printed. */
static void log_auth_psk_mismatch(void **state)
{
  hx_t *hx = *state;
  char log[8192];
  hx_init(hx, "");
  hx->ccfg.psk = "not-the-right-key";
  ike_log_set_level(IKE_LOG_LVL_DEBUG);
  hx_capture_log(run_failed_auth, hx, log, sizeof log);
  assert_int_equal(hx_ci(hx)->error, IKE_N_AUTHENTICATION_FAILED);
  const char *line = strstr(log, "IKE_AUTH refused (AUTHENTICATION_FAILED)");
  if (line == NULL) {
    fail_msg("no refusal line in the log:\n%s", log);
  }
  assert_non_null(strstr(line, "for IDi client.example.net: PSK mismatch"));
  assert_null(strstr(log, HX_PSK));
  assert_null(strstr(log, "not-the-right-key"));
  assert_null(strstr(line + 1, "IKE_AUTH refused"));
  ike_log_set_level(IKE_LOG_LVL_INFO);
}

/* AUTHENTICATION_FAILED for an identity the template does not accept. */
static void log_auth_id_mismatch(void **state)
{
  hx_t *hx = *state;
  char log[8192];
  hx_init(hx, "      identity remote id-type fqdn id only.example.net\n");
  ike_log_set_level(IKE_LOG_LVL_INFO);
  hx_capture_log(run_failed_auth, hx, log, sizeof log);
  assert_int_equal(hx_ci(hx)->error, IKE_N_AUTHENTICATION_FAILED);
  assert_int_equal(hx_st(hx)->fail_id, 1);
  const char *line = strstr(log, "IKE_AUTH refused (AUTHENTICATION_FAILED)");
  if (line == NULL) {
    fail_msg("no refusal line in the log:\n%s", log);
  }
  assert_non_null(strstr(line, "for IDi client.example.net: ID mismatch"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(no_cp_other_vip_refused, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(no_cp_any_refused, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(cp_any_narrowed, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(cp_outer_address_narrowed, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(cp_ports_kept, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(cp_other_vip_narrowed_and_rekey, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(new_child_without_vip_refused, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(new_child_narrowed, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(no_pool_template_no_vip, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(ike_rekey_names_new_owner, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(log_ts_unacceptable, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(log_cp_required, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(log_auth_psk_mismatch, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(log_auth_id_mismatch, hx_state_setup, hx_state_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
