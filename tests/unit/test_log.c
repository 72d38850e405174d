/*
 * test_log.c - ike_log: level checks, argument evaluation, line format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ike_log.h"

static int evaluations;

static int side_effect(void)
{
  evaluations++;
  return 42;
}

/* Run fn with stderr redirected into a pipe; return what it wrote. */
static size_t capture(void (*fn)(void), char *out, size_t cap)
{
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  int saved = dup(STDERR_FILENO);
  dup2(fds[1], STDERR_FILENO);
  fn();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[1]);
  ssize_t n = read(fds[0], out, cap - 1);
  close(fds[0]);
  out[n > 0 ? n : 0] = '\0';
  return n > 0 ? (size_t)n : 0;
}

static void log_debug_and_err(void)
{
  IKE_LOG_DEBUG("debug %d", side_effect());
  IKE_LOG_ERR("err %d", side_effect());
}

static void test_level_skips_formatting(void **state)
{
  (void)state;
  char buf[512];
  ike_log_set_level(IKE_LOG_LVL_WARN);
  evaluations = 0;
  capture(log_debug_and_err, buf, sizeof(buf));
  assert_int_equal(evaluations, 1); /* the DEBUG line's argument was not evaluated */
  assert_non_null(strstr(buf, "err 42\n"));
  assert_null(strstr(buf, "debug 42"));

  ike_log_set_level(IKE_LOG_LVL_DEBUG);
  evaluations = 0;
  capture(log_debug_and_err, buf, sizeof(buf));
  assert_int_equal(evaluations, 2);
  assert_non_null(strstr(buf, "debug 42\n"));
}

static void log_spi_line(void)
{
  IKE_LOG_SPI(INFO, 0x0003000000abcdefULL, "established %s", "ok");
}

static void test_line_format(void **state)
{
  (void)state;
  char buf[512];
  char want[64];
  ike_log_set_process("demux");
  ike_log_set_level(IKE_LOG_LVL_INFO);
  capture(log_spi_line, buf, sizeof(buf));
  snprintf(want, sizeof(want), " demux[%d] INFO log_spi_line: ", (int)getpid());
  assert_non_null(strstr(buf, want));
  assert_non_null(strstr(buf, "spi 0003000000abcdef: established ok\n"));
  /* Exactly one line. */
  assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void log_long_line(void)
{
  char big[3000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  IKE_LOG_WARN("%s", big);
}

static void test_long_line_truncated(void **state)
{
  (void)state;
  char buf[4096];
  ike_log_set_level(IKE_LOG_LVL_INFO);
  size_t n = capture(log_long_line, buf, sizeof(buf));
  assert_true(n <= 1024);
  assert_int_equal(buf[n - 1], '\n');
}

static void test_parse_and_clamp(void **state)
{
  (void)state;
  assert_int_equal(ike_log_level_parse("debug"), IKE_LOG_LVL_DEBUG);
  assert_int_equal(ike_log_level_parse("WARNING"), IKE_LOG_LVL_WARN);
  assert_int_equal(ike_log_level_parse("err"), IKE_LOG_LVL_ERR);
  assert_int_equal(ike_log_level_parse("loud"), -1);
  assert_int_equal(ike_log_level_parse(NULL), -1);
  ike_log_set_level(99);
  assert_int_equal(ike_log_level_g, IKE_LOG_LVL_DEBUG);
  ike_log_set_level(-5);
  assert_int_equal(ike_log_level_g, IKE_LOG_LVL_ERR);
  assert_string_equal(ike_log_level_name(IKE_LOG_LVL_INFO), "INFO");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_level_skips_formatting),
      cmocka_unit_test(test_line_format),
      cmocka_unit_test(test_long_line_truncated),
      cmocka_unit_test(test_parse_and_clamp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
