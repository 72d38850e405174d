/*
 * test_engine_seed.c - seed conformance through the engine (issue 12 items 9
 * and 10): a template of only the seed's lines plus authentication serves a
 * client (MOBIKE, COOKIE2 check); a client proposing only MODP-3072 (group
 * 15), MODP-4096 (16) or MODP-8192 (18) gets an IKE SA with the built-in
 * transform sets (real clients propose them alone, RFC 3526); a refused
 * proposal logs one INFO line with the offered and the configured transforms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_log.h"
#include "ike_proposal.h"

/* The template uses the built-in IKE transform sets (no list). */
#define DEFAULT_IKE_SETS "      no ikev2-ikesa transform-set list\n"

/* IKE_SA_INIT { SA(AES-GCM-256, SHA2-256, group only), KE(group), Ni } -->
 * <-- IKE_SA_INIT { SA, KE(group), Nr }; IKE_AUTH --> <-- : established. */
static void establish_with_group(hx_t *hx, uint16_t group)
{
  hx_init(hx, DEFAULT_IKE_SETS);
  hx->ccfg.ike.dh = group;
  hx_client(hx);
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  assert_int_equal(hx_ci(hx)->suite.dh, group);
  assert_int_equal(hx_ci(hx)->init_retries, 0);
  assert_int_equal(hx_st(hx)->fail_no_proposal, 0);
  assert_int_equal(hx_st(hx)->ike_sa_established, 1);
  assert_int_equal(ike_engine_sa_count(hx->gw), 1);
  assert_int_equal(hx->n_add, 1);
}

static void modp3072_only(void **state)
{
  establish_with_group(*state, IKE_DH_MODP_3072);
}

static void modp4096_only(void **state)
{
  establish_with_group(*state, IKE_DH_MODP_4096);
}

static void modp8192_only(void **state)
{
  establish_with_group(*state, IKE_DH_MODP_8192);
}

/* A configured set naming group 15 takes it too. */
static void modp3072_configured(void **state)
{
  hx_t *hx = *state;
  static const char conf[] =
      "config\n"
      "  context ipsec\n"
      "    ip pool pool1 10.10.0.0/24\n"
      "    ikev2-ikesa transform-set big\n"
      "      encryption aes-gcm-256\n"
      "      prf sha2-256\n"
      "      group 15 16 18\n"
      "    #exit\n"
      "    crypto template tmpl1 ikev2-dynamic\n"
      "      ikev2-ikesa transform-set list big\n"
      "      authentication local pre-shared-key key \"" HX_PSK "\"\n"
      "      authentication remote pre-shared-key key \"" HX_PSK "\"\n"
      "      ip address pool name pool1\n"
      "    #exit\n"
      "  #exit\n"
      "end\n";
  char err[256];
  ike_config_t cfg;
  ike_config_init(&cfg);
  assert_int_equal(ike_config_parse_buf("t.conf", conf, strlen(conf), &cfg, err, sizeof err),
                   0);
  const ike_cfg_template_t *t = &cfg.templates[0];
  assert_int_equal(t->n_ike_tsets, 1);
  assert_int_equal(t->ike_tsets[0].n_dh, 3);
  assert_int_equal(t->ike_tsets[0].dh[0], IKE_DH_MODP_3072);
  assert_int_equal(t->ike_tsets[0].dh[1], IKE_DH_MODP_4096);
  assert_int_equal(t->ike_tsets[0].dh[2], IKE_DH_MODP_8192);
  (void)hx;
}

/* Run fn(hx) with stderr captured into out. */
static void capture(hx_t *hx, void (*fn)(hx_t *), char *out, size_t cap)
{
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  dup2(fds[1], STDERR_FILENO);
  fn(hx);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[1]);
  size_t n = 0;
  ssize_t r;
  while (n + 1 < cap && (r = read(fds[0], out + n, cap - 1 - n)) > 0) {
    n += (size_t)r;
  }
  close(fds[0]);
  out[n] = '\0';
}

static void run_exchange(hx_t *hx)
{
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  hx_run(hx);
}

/* IKE_SA_INIT { SA(AES-CBC-128, SHA2-256, ECP-256) } --> refused (the set has
 * AES-GCM-256 only): one INFO line names what was offered and what is
 * configured (issue 12 item 10). */
static void no_proposal_logged(void **state)
{
  hx_t *hx = *state;
  static char out[8192];
  hx_init(hx, "");
  hx->ccfg.ike = (ike_suite_t){.encr = IKE_ENCR_AES_CBC, .encr_bits = 128,
                               .integ = IKE_INTEG_HMAC_SHA2_256_128,
                               .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_ECP_256};
  hx_client(hx);
  int lvl = ike_log_level_g;
  ike_log_set_level(IKE_LOG_LVL_INFO);
  capture(hx, run_exchange, out, sizeof out);
  ike_log_set_level(lvl);
  assert_int_equal(hx_ci(hx)->error, IKE_N_NO_PROPOSAL_CHOSEN);
  assert_int_equal(hx_st(hx)->fail_no_proposal, 1);
  const char *l = strstr(out, "IKE_SA_INIT: NO_PROPOSAL_CHOSEN: offered #1 ");
  assert_non_null(l);
  const char *eol = strchr(l, '\n');
  assert_non_null(eol);
  char line[2048];
  size_t n = (size_t)(eol - l) < sizeof line - 1 ? (size_t)(eol - l) : sizeof line - 1;
  memcpy(line, l, n);
  line[n] = '\0';
  assert_non_null(strstr(line, "/128"));            /* the offered key length */
  assert_non_null(strstr(line, "| configured ike1 {"));
  assert_non_null(strstr(line, "/256"));            /* the configured one */
  assert_null(strstr(eol + 1, "NO_PROPOSAL_CHOSEN: offered")); /* one line */
}

/* The description by itself: ESP offer without a proposal of that protocol. */
static void describe_empty_offer(void **state)
{
  (void)state;
  ike_sa_pld_t offer;
  ike_cfg_tset_t set;
  char buf[256];
  memset(&offer, 0, sizeof offer);
  memset(&set, 0, sizeof set);
  snprintf(set.name, sizeof set.name, "esp1");
  set.encr[0] = (ike_cfg_encr_t){IKE_ENCR_AES_GCM_16, 256};
  set.n_encr = 1;
  size_t n = ike_proposal_describe(&set, 1, &offer, IKE_PROTO_ESP, buf, sizeof buf);
  assert_int_equal(n, strlen(buf));
  assert_non_null(strstr(buf, "offered no "));
  assert_non_null(strstr(buf, "| configured esp1 {"));
  /* Truncation keeps the string terminated. */
  n = ike_proposal_describe(&set, 1, &offer, IKE_PROTO_ESP, buf, 8);
  assert_int_equal(strlen(buf), n);
  assert_true(n < 8);
}

/* The seed's template lines plus authentication, nothing else. */
static const char seed_only[] =
    "config\n"
    "  context ctx1\n"
    "    crypto template tmpl1 ikev2-dynamic\n"
    "      ikev2-ikesa mobike cookie-challenge\n"
    "      authentication local pre-shared-key key \"" HX_PSK "\"\n"
    "    end\n";

/* The template has no address pool: a client that asks for no virtual IP
 * (TSi = its own address) is served, with MOBIKE and the COOKIE2 check; one
 * asking for a virtual IP gets INTERNAL_ADDRESS_FAILURE (RFC 7296 3.15.4)
 * until an "ip pool" is configured. */
static void seed_template_serves(void **state)
{
  hx_t *hx = *state;
  hx_init_conf(hx, seed_only);
  hx->ccfg.no_vip = true;
  hx->ccfg.tsi = hx_ts4("127.0.1.1", "127.0.1.1");
  hx_establish(hx);
  assert_true(hx_ci(hx)->mobike);
  assert_int_equal(hx->n_add, 1);
  assert_int_equal(hx_st(hx)->ike_sa_established, 1);
  assert_true(hx->add[0].no_rebind);
  /* MOBIKE with the return routability check works on it. */
  ike_path_t b = hx_path("127.0.2.2", 4500);
  ike_client_move_opts_t o = {.natt = true};
  assert_int_equal(ike_client_move(hx->cl, &b, &o), 0);
  hx_run(hx);
  assert_int_equal(hx_st(hx)->mobike_rrc_passed, 1);
  assert_int_equal(hx->n_upd, 1);
}

static void seed_template_vip_needs_pool(void **state)
{
  hx_t *hx = *state;
  hx_init_conf(hx, seed_only);
  hx_establish(hx);
  assert_int_equal(hx->n_add, 0);
  assert_int_equal(hx_st(hx)->notify_sent_INTERNAL_ADDRESS_FAILURE, 1);
  assert_int_equal(hx_st(hx)->fail_address_pool, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(modp3072_only, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(modp4096_only, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(modp8192_only, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(modp3072_configured, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(no_proposal_logged, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(describe_empty_offer, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(seed_template_serves, hx_state_setup, hx_state_teardown),
      cmocka_unit_test_setup_teardown(seed_template_vip_needs_pool, hx_state_setup, hx_state_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
