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
#include <unistd.h>

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

/* show configuration redacts pre-shared keys unless asked (issue 12 item 7);
 * the running-config file (print without redaction) keeps them. */
static void psk_redacted(void **state)
{
  (void)state;
  char err[256], out[8192];
  ike_config_t *c = calloc(1, sizeof *c);
  assert_non_null(c);
  assert_int_equal(parse(HEAD TMPL "authentication remote pre-shared-key key s3cr3t-peer-key "
                         "id-type fqdn id a.example\nend\n", c, err, sizeof err), 0);
  assert_true(ike_config_print_buf_opts(c, out, sizeof out, 1) > 0);
  assert_null(strstr(out, "k-0123456789"));
  assert_null(strstr(out, "s3cr3t-peer-key"));
  assert_non_null(strstr(out, "pre-shared-key key " IKE_CFG_REDACTED));
  assert_true(ike_config_print_buf(c, out, sizeof out) > 0);
  assert_non_null(strstr(out, "k-0123456789"));
  assert_non_null(strstr(out, "s3cr3t-peer-key"));
  free(c);
}

/* The sample key of deploy/ikegw.conf never faces a network (issue 12 item
 * 7): refused with file:line on a non-loopback bind, fine on loopback. */
static void sample_psk_only_on_loopback(void **state)
{
  (void)state;
  char err[512], path[] = "/tmp/ikegw-sample-XXXXXX";
  ike_config_t *c = calloc(1, sizeof *c);
  assert_non_null(c);
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  static const char text[] = "config\ncontext ipsec\nbind address 192.0.2.1\n"
                             "crypto template t ikev2-dynamic\n"
                             "authentication local pre-shared-key key \"" IKE_CFG_SAMPLE_PSK "\"\n"
                             "end\n";
  assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
  close(fd);
  assert_int_equal(parse(text, c, err, sizeof err), 0);
  assert_int_equal(ike_config_sample_psk_check(c, path, err, sizeof err), -1);
  char want[300];
  snprintf(want, sizeof want, "%s:5: the sample pre-shared key", path);
  assert_non_null(strstr(err, want));
  assert_non_null(strstr(err, "192.0.2.1"));
  /* No bind line: every address - refused too. */
  assert_int_equal(parse("config\ncontext ipsec\ncrypto template t ikev2-dynamic\n"
                         "authentication local pre-shared-key key \"" IKE_CFG_SAMPLE_PSK "\"\n",
                         c, err, sizeof err), 0);
  assert_int_equal(ike_config_sample_psk_check(c, path, err, sizeof err), -1);
  /* Loopback only, or another key: fine. */
  assert_int_equal(parse("config\ncontext ipsec\nbind address 127.0.0.1\n"
                         "crypto template t ikev2-dynamic\n"
                         "authentication local pre-shared-key key \"" IKE_CFG_SAMPLE_PSK "\"\n",
                         c, err, sizeof err), 0);
  assert_int_equal(ike_config_sample_psk_check(c, path, err, sizeof err), 0);
  assert_int_equal(parse(HEAD "context ipsec\nbind address 192.0.2.1\n" TMPL "end\n", c, err,
                         sizeof err), 0);
  assert_int_equal(ike_config_sample_psk_check(c, path, err, sizeof err), 0);
  unlink(path);
  free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(set_and_print),
      cmocka_unit_test(bad_lines),
      cmocka_unit_test(psk_redacted),
      cmocka_unit_test(sample_psk_only_on_loopback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
