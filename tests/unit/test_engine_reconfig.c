/*
 * test_engine_reconfig.c - `gwctl configure` against a running engine (issue 8,
 * "one owner of the running config", the engine's part): templates and pools
 * are named by their name, never by their place in the config.
 *   - widening a pool in use grows its allocation map (before: the map kept
 *     its old size and new clients were written past it, a heap overflow);
 *   - shrinking or removing a pool in use, or removing a template in use, is
 *     refused with the reason;
 *   - removing a template placed before the one an SA uses leaves the SA on
 *     its own template (before: the SA moved to the next template by index).
 * Each change goes through the same steps as sessmgr's control.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_sa.h"

/* Apply config lines the way sessmgr does; 0, or -1 with the reason in err. */
static int configure(hx_t *hx, const char *lines, char *err, size_t len)
{
  ike_config_t *next = malloc(sizeof *next);
  assert_non_null(next);
  *next = hx->cfg;
  int rc = ike_config_apply_buf(next, "gwctl", lines, strlen(lines), err, len);
  if (rc == 0) {
    rc = ike_engine_config_check(hx->gw, next, err, len);
  }
  if (rc == 0) {
    ike_engine_set_config(hx->gw, next);
    hx->cfg = *next;
    ike_engine_set_config(hx->gw, &hx->cfg);
  }
  free(next);
  return rc;
}

/* A new client from 127.0.2.i establishes; returns its virtual IPv4. */
static uint32_t connect_one(hx_t *hx, unsigned i)
{
  char a[32];
  snprintf(a, sizeof a, "127.0.2.%u", i);
  hx_addr4(&hx->ccfg.path.local, a, 500);
  hx_client(hx);
  hx_establish(hx);
  return hx_ci(hx)->vip4;
}

static void widen_pool_in_use(void **state)
{
  (void)state;
  char err[256];
  hx_t *hx = hx_new(NULL);
  assert_int_equal(configure(hx, "context ipsec\nip pool pool1 10.10.0.0/30\n", err,
                             sizeof err), 0);
  /* A /30 has two host addresses. */
  uint32_t v1 = connect_one(hx, 1), v2 = connect_one(hx, 2);
  assert_int_not_equal(v1, 0);
  assert_int_not_equal(v2, 0);
  assert_int_not_equal(v1, v2);
  hx->ccfg.no_vip = false;
  /* Widen under the sessions: new clients get new addresses, inside the map. */
  assert_int_equal(configure(hx, "context ipsec\nip pool pool1 10.10.0.0/24\n", err,
                             sizeof err), 0);
  uint32_t seen[14] = {v1, v2};
  for (unsigned i = 2; i < 14; i++) {
    seen[i] = connect_one(hx, i + 1);
    assert_true(seen[i] > hx_ip4("10.10.0.0") && seen[i] < hx_ip4("10.10.0.255"));
    for (unsigned k = 0; k < i; k++) {
      assert_int_not_equal(seen[i], seen[k]);
    }
  }
  /* Shrinking below an address in use is refused, the pool unchanged. */
  assert_int_equal(configure(hx, "context ipsec\nip pool pool1 10.10.0.0/30\n", err,
                             sizeof err), -1);
  assert_non_null(strstr(err, "pool1"));
  assert_non_null(strstr(err, "outside"));
  /* Removing it is refused too. */
  assert_int_equal(configure(hx, "context ipsec\ncrypto template tmpl1 ikev2-dynamic\n"
                                 "no ip address pool name pool1\n#exit\nno ip pool pool1\n",
                             err, sizeof err), -1);
  hx_free(hx);
}

static const char *tmpl_name_of_only_sa(const hx_t *hx)
{
  const ike_engine_t *e = hx->gw;
  for (size_t j = 0; j < e->cap; j++) {
    if (e->tab[j] != NULL) {
      return ike_sa_tmpl(e, e->tab[j])->name;
    }
  }
  return NULL;
}

static void templates_by_name(void **state)
{
  (void)state;
  char err[256];
  hx_t *hx = hx_new(NULL);
  assert_int_equal(configure(hx,
                             "context ipsec\n"
                             "crypto template tmpl2 ikev2-dynamic\n"
                             "authentication local pre-shared-key key \"k2-0123456789\"\n"
                             "#exit\n"
                             "crypto template tmpl3 ikev2-dynamic\n"
                             "authentication local pre-shared-key key \"k3-0123456789\"\n"
                             "#exit\n",
                             err, sizeof err), 0);
  assert_int_equal(hx->cfg.n_templates, 3);
  hx_establish(hx);
  /* A template in use cannot go. */
  assert_int_equal(configure(hx, "context ipsec\nno crypto template tmpl1\n", err,
                             sizeof err), -1);
  assert_non_null(strstr(err, "tmpl1"));
  /* The SA as restored from a checkpoint written for tmpl2. */
  ike_engine_t *e = hx->gw;
  for (size_t j = 0; j < e->cap; j++) {
    if (e->tab[j] != NULL) {
      e->tab[j]->tmpl = 1;
    }
  }
  assert_string_equal(tmpl_name_of_only_sa(hx), "tmpl2");
  /* tmpl1 is unused now: it goes, and the SA stays on tmpl2 (not tmpl3). */
  assert_int_equal(configure(hx, "context ipsec\nno crypto template tmpl1\n", err,
                             sizeof err), 0);
  assert_int_equal(hx->cfg.n_templates, 2);
  assert_string_equal(tmpl_name_of_only_sa(hx), "tmpl2");
  hx_free(hx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(widen_pool_in_use),
      cmocka_unit_test(templates_by_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
