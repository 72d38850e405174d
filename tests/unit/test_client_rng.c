/*
 * test_client_rng.c - the test/load client (sessmgr/ike_client*.c) checks
 * every ike_random result too (issue 12 item 8): with the RNG failing it
 * sends nothing rather than a request with an unfilled SPI, nonce or COOKIE2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "engine_harness.c"
#include "ike_crypto.h"


static void client_start_needs_rng(void **state)
{
  (void)state;
  hx_t *hx = hx_new("ikev2-ikesa mobike\n");
  hx_client(hx);
  ike_random_test_fail(1);
  int rc = ike_client_start(hx->cl, hx->now);
  ike_random_test_fail(0);
  assert_int_not_equal(rc, 0);
  assert_int_equal(hx->n_to_gw, 0);
  hx_free(hx);
}

static void client_requests_need_rng(void **state)
{
  (void)state;
  hx_t *hx = hx_new("ikev2-ikesa mobike\n");
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  assert_int_equal(hx->n_to_gw, 0);
  ike_random_test_fail(1);
  int rc_child = ike_client_rekey_child(hx->cl, 0);
  int rc_ike = ike_client_rekey_ike(hx->cl);
  ike_client_move_opts_t o = {.cookie2 = true};
  ike_path_t p = hx_path("192.0.2.99", 4500);
  int rc_move = ike_client_move(hx->cl, &p, &o);
  ike_random_test_fail(0);
  assert_int_not_equal(rc_child, 0);
  assert_int_not_equal(rc_ike, 0);
  assert_int_not_equal(rc_move, 0);
  assert_int_equal(hx->n_to_gw, 0);
  /* With random bytes again the same requests go out. */
  assert_int_equal(ike_client_rekey_child(hx->cl, 0), 0);
  assert_int_equal(hx->n_to_gw, 1);
  hx_free(hx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(client_start_needs_rng),
      cmocka_unit_test(client_requests_need_rng),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
