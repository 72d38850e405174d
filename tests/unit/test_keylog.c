/*
 * test_keylog.c - the IKEv2 key log for Wireshark (sessmgr/ike_keylog.c;
 * issue 12 item 7): its file is ours alone (created 0600, an existing one made
 * 0600, a symbolic link refused), and - in builds that compile it in
 * (-DIKEGW_KEYLOG=ON, as the interop build does) - nothing is written for a
 * peer that has not authenticated: after IKE_SA_INIT the file is empty, after
 * IKE_AUTH it holds one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_sa.h"

static char dir[] = "/tmp/ikegw-keylog-XXXXXX";

static int setup(void **state)
{
  (void)state;
  return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *p)
{
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  return st.st_mode & 0777;
}

static void file_is_ours_alone(void **state)
{
  (void)state;
  char p[256], q[256], t[256];
  snprintf(p, sizeof p, "%s/new", dir);
  FILE *f = ike_keylog_open(p);
  assert_non_null(f);
  fclose(f);
  assert_int_equal(mode_of(p), 0600);
  /* An existing file readable by others is narrowed to 0600. */
  snprintf(q, sizeof q, "%s/old", dir);
  f = fopen(q, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(chmod(q, 0644), 0);
  f = ike_keylog_open(q);
  assert_non_null(f);
  fclose(f);
  assert_int_equal(mode_of(q), 0600);
  /* A symbolic link (to a file someone else wants our keys in) is refused. */
  snprintf(t, sizeof t, "%s/link", dir);
  assert_int_equal(symlink(q, t), 0);
  assert_null(ike_keylog_open(t));
}

static long size_of(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void written_after_auth_only(void **state)
{
  (void)state;
  if (!ike_keylog_enabled()) {
    skip(); /* compiled out in this build: nothing can be written at all */
  }
  char p[256];
  snprintf(p, sizeof p, "%s/keys", dir);
  setenv("IKEGW_IKEV2_KEYLOG", p, 1);
  hx_t *hx = hx_new(NULL);
  hx_client(hx);
  /* IKE_SA_INIT --> <-- : keys exist, the peer is not authenticated yet. */
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_true(hx_step_gw(hx));
  assert_true(size_of(p) <= 0);
  /* IKE_AUTH --> <-- */
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
  assert_true(size_of(p) > 0);
  assert_int_equal(mode_of(p), 0600);
  hx_free(hx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(file_is_ours_alone),
      cmocka_unit_test(written_after_auth_only),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
