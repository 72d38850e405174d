/*
 * test_engine_cookie_rng.c - issue 12 item 8, the engine's part:
 *   - the COOKIE secret is rotated (RFC 7296 2.6: every IKE_COOKIE_ROTATE_MS)
 *     and a cookie made with the previous secret still passes, one made two
 *     secrets ago does not;
 *   - every ike_random result is checked: with the RNG failing, no SA, no
 *     nonce, no SPI and no COOKIE2 of unfilled bytes goes out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_sa.h"
#include "ike_slot.h"

#define ALWAYS_COOKIE "      ikev2-ikesa cookie-threshold 0\n"

/* The client's IKE_SA_INIT is answered with a COOKIE; the client's retry with
 * it reaches the gateway `delay_ms` later. Returns whether the retry was
 * accepted (answered with SAr1, not with another COOKIE). */
static bool cookie_after(hx_t *hx, uint64_t delay_ms, unsigned i)
{
  char a[32];
  snprintf(a, sizeof a, "127.0.3.%u", i);
  hx_addr4(&hx->ccfg.path.local, a, 500);
  hx_client(hx);
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_true(hx_step_gw(hx)); /* <-- N(COOKIE) */
  hx_msg_t m;
  memset(&m, 0, sizeof m);
  const hx_pkt_t *p = hx_gw_sent(hx, -1);
  assert_int_equal(ike_msg_parse(p->data, p->len, &m.h, &m.chain, &(uint8_t){0}), 0);
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_NOTIFY));
  assert_null(ike_chain_find(&m.chain, IKE_PLD_SA));
  hx->now += delay_ms;
  assert_true(hx_step_cl(hx)); /* the client retries with the cookie --> */
  uint64_t required = hx_st(hx)->fail_cookie_required;
  assert_true(hx_step_gw(hx));
  p = hx_gw_sent(hx, -1);
  assert_int_equal(ike_msg_parse(p->data, p->len, &m.h, &m.chain, &(uint8_t){0}), 0);
  bool accepted = ike_chain_find(&m.chain, IKE_PLD_SA) != NULL;
  assert_int_equal(hx_st(hx)->fail_cookie_required, required + (accepted ? 0 : 1));
  hx_flush(hx);
  return accepted;
}

static void cookie_secret_rotates(void **state)
{
  (void)state;
  hx_t *hx = hx_new(ALWAYS_COOKIE);
  assert_true(cookie_after(hx, 10, 1));
  uint8_t ver = hx->gw->cookie_ver;
  /* Made before one rotation: the previous secret still checks it. */
  assert_true(cookie_after(hx, IKE_COOKIE_ROTATE_MS + 1000, 2));
  assert_int_equal(hx->gw->cookie_ver, (uint8_t)(ver + 1));
  /* Made two periods ago or more: refused (a new cookie is sent). */
  assert_false(cookie_after(hx, 2 * IKE_COOKIE_ROTATE_MS + 1000, 3));
  assert_true(hx_st(hx)->fail_cookie_invalid >= 1);
  hx_free(hx);
}

static void rng_failure_refused_everywhere(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  /* IKE_SA_INIT --> with no random bytes: no SA, no answer. */
  hx_client(hx);
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  size_t sent = hx->n_log;
  ike_random_test_fail(1);
  assert_true(hx_step_gw(hx));
  ike_random_test_fail(0);
  assert_int_equal(hx->n_log, sent);
  assert_int_equal(ike_engine_sa_count(hx->gw), 0);
  hx_flush(hx);
  /* Established; the peer rekeys its CHILD SA while the RNG fails: no nonce,
   * no IV - nothing is answered and nothing changes; once the RNG is back the
   * client's retransmission is answered and the rekey completes. */
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(ike_client_rekey_child(hx->cl, 0), 0);
  sent = hx->n_log;
  ike_random_test_fail(1);
  assert_true(hx_step_gw(hx));
  ike_random_test_fail(0);
  assert_int_equal(hx->n_log, sent);
  assert_int_equal(hx_st(hx)->child_sa_current, 1);
  assert_int_equal(hx->n_add, 1);
  hx_advance(hx, 1000); /* the client retransmits */
  hx_run(hx);
  assert_int_equal(hx->n_add, 2);
  assert_int_equal(hx_st(hx)->child_sa_current, 1);
  /* Our own CHILD rekey (soft lifetime) while the RNG fails: no request. */
  sent = hx->n_log;
  ike_random_test_fail(1);
  ike_engine_child_expire(hx->gw, hx->add[0].ike_spi, hx->add[0].spi_in, false, hx->now);
  ike_random_test_fail(0);
  assert_int_equal(hx->n_log, sent);
  assert_true(hx_st(hx)->fail_internal >= 3);
  hx_free(hx);
}

/* The SA table's own draws: with the RNG failing an IKE SPI is not made up
 * (before: the loop kept the unfilled value and, if an SA already held it,
 * never ended - the alarm turns that into a failure) and no CHILD SPI is
 * handed out. */
static void rng_failure_no_spis(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  ike_sa_t *sa = calloc(1, sizeof *sa);
  assert_non_null(sa);
  sa->spi_r = ike_spi_make(HX_SLOT, 0); /* what an unfilled draw gives */
  sa->spi_i = 1;
  assert_int_equal(ike_sa_insert(hx->gw, sa), 0);
  ike_random_test_fail(1);
  alarm(10);
  assert_null(ike_sa_new(hx->gw, 2));
  alarm(0);
  assert_int_equal(ike_sa_new_child_spi(hx->gw), 0);
  ike_random_test_fail(0);
  assert_int_not_equal(ike_sa_new_child_spi(hx->gw), 0);
  hx_free(hx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cookie_secret_rotates),
      cmocka_unit_test(rng_failure_refused_everywhere),
      cmocka_unit_test(rng_failure_no_spis),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
