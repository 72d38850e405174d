/*
 * test_config_limits.c - config lines of the durability and abuse limits:
 *   checkpoint sync every <0-60000> ms            (global; default 100)
 *   ikev2-ikesa half-open-per-peer <0-1000000>    (template; default 100)
 *   ikev2-ikesa identity-limit <N> [replace|refuse] (template; default none)
 * Each parses, prints back (show configuration) and re-parses to the same
 * value; bad forms stop with "file:line: reason".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ike_config.h"

#define HEAD "config\n"
#define TMPL "context ipsec\ncrypto template t ikev2-dynamic\n" \
             "authentication local pre-shared-key key k-0123456789\n"

static int parse(const char *text, ike_config_t *c, char *err, size_t len)
{
  ike_config_init(c);
  return ike_config_parse_buf("t.conf", text, strlen(text), c, err, len);
}

/* print -> parse gives an equal config. */
static void round_trip(const ike_config_t *c)
{
  char err[256];
  int need = ike_config_print_buf(c, NULL, 0);
  assert_true(need > 0);
  char *text = malloc((size_t)need + 1);
  assert_non_null(text);
  ike_config_print_buf(c, text, (size_t)need + 1);
  ike_config_t *back = calloc(1, sizeof *back);
  assert_non_null(back);
  if (parse(text, back, err, sizeof err) != 0) {
    fail_msg("printed config does not parse: %s\n%s", err, text);
  }
  assert_true(ike_config_equal(c, back));
  free(back);
  free(text);
}

static void defaults(void **state)
{
  (void)state;
  char err[256];
  ike_config_t *c = calloc(1, sizeof *c);
  assert_non_null(c);
  assert_int_equal(parse(HEAD TMPL "end\n", c, err, sizeof err), 0);
  assert_int_equal(c->ckpt_sync_ms, 100);
  assert_int_equal(c->templates[0].half_open_per_peer, 100);
  assert_int_equal(c->templates[0].identity_limit, 0);
  round_trip(c);
  free(c);
}

static void set_and_print(void **state)
{
  (void)state;
  char err[256];
  ike_config_t *c = calloc(1, sizeof *c);
  assert_non_null(c);
  assert_int_equal(parse(HEAD "checkpoint sync every 0 ms\n" TMPL
                         "ikev2-ikesa half-open-per-peer 5\n"
                         "ikev2-ikesa identity-limit 2 refuse\nend\n",
                         c, err, sizeof err), 0);
  assert_int_equal(c->ckpt_sync_ms, 0);
  assert_int_equal(c->templates[0].half_open_per_peer, 5);
  assert_int_equal(c->templates[0].identity_limit, 2);
  assert_int_equal(c->templates[0].identity_limit_refuse, 1);
  round_trip(c);
  assert_int_equal(parse(HEAD TMPL "ikev2-ikesa identity-limit 1\nend\n", c, err, sizeof err), 0);
  assert_int_equal(c->templates[0].identity_limit_refuse, 0); /* replace by default */
  round_trip(c);
  /* Back to the defaults at run time. */
  assert_int_equal(ike_config_apply_buf(c, "gwctl",
                                        "default checkpoint sync\ncontext ipsec\n"
                                        "crypto template t ikev2-dynamic\n"
                                        "no ikev2-ikesa identity-limit\n",
                                        strlen("default checkpoint sync\ncontext ipsec\n"
                                               "crypto template t ikev2-dynamic\n"
                                               "no ikev2-ikesa identity-limit\n"),
                                        err, sizeof err), 0);
  assert_int_equal(c->ckpt_sync_ms, 100);
  assert_int_equal(c->templates[0].identity_limit, 0);
  free(c);
}

static void bad_lines(void **state)
{
  (void)state;
  static const struct { const char *text, *want; } bad[] = {
      {HEAD "checkpoint sync every 70000 ms\n", "t.conf:2:"},
      {HEAD "checkpoint sync every 10\n", "t.conf:2: usage: checkpoint sync every"},
      {HEAD "checkpoint sync each 10 ms\n", "t.conf:2: usage: checkpoint sync every"},
      {HEAD TMPL "ikev2-ikesa half-open-per-peer\n", "t.conf:5: usage:"},
      {HEAD TMPL "ikev2-ikesa identity-limit 2 sometimes\n", "t.conf:5: usage:"},
      {HEAD TMPL "ikev2-ikesa identity-limit -1\n", "t.conf:5:"},
  };
  char err[256];
  ike_config_t *c = calloc(1, sizeof *c);
  assert_non_null(c);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    assert_int_equal(parse(bad[i].text, c, err, sizeof err), -1);
    if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0) {
      fail_msg("case %zu: got '%s', want '%s...'", i, err, bad[i].want);
    }
  }
  free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(set_and_print),
      cmocka_unit_test(bad_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
