/*
 * test_stats.c - the counter list (common/ike_stats.h): tables, aggregation over
 * sessmgrs, name-value conversion, and the exchange/notify helpers, including the
 * mapping of the seed's "sent" counters onto notify_sent_* fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ike_stats.h"
#include "ike_wire.h"

static void test_tables(void **state) {
  (void)state;
  assert_int_equal(ike_stats_count(), IKE_STAT_COUNT);
  assert_int_equal(sizeof(ike_stats_t), IKE_STAT_COUNT * sizeof(uint64_t));
  for (size_t i = 0; i < ike_stats_count(); i++) {
    assert_non_null(ike_stats_name(i));
    assert_non_null(ike_stats_desc(i));
    assert_int_equal(ike_stats_find(ike_stats_name(i)), (int)i);
    for (size_t k = i + 1; k < ike_stats_count(); k++) {
      assert_true(strcmp(ike_stats_name(i), ike_stats_name(k)) != 0);
      if (ike_stats_bulkvar(i) != NULL && ike_stats_bulkvar(k) != NULL) {
        assert_true(strcmp(ike_stats_bulkvar(i), ike_stats_bulkvar(k)) != 0);
      }
    }
  }
  assert_null(ike_stats_name(IKE_STAT_COUNT));
  assert_int_equal(ike_stats_find("nope"), -1);
  assert_int_equal(ike_stats_find_bulkvar("ikev2-mobike-sent"), IKE_STAT_notify_sent_MOBIKE_SUPPORTED);
  assert_int_equal(ike_stats_set(NULL, IKE_STAT_COUNT, 1), -1);
}

static void test_add_pairs(void **state) {
  (void)state;
  ike_stats_t a, b, c;
  ike_stat_pair_t pairs[IKE_STAT_COUNT];
  ike_stats_reset(&a);
  ike_stats_reset(&b);
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    ike_stats_set(&a, i, i + 1);
    ike_stats_set(&b, i, 1000 * (i + 1));
  }
  ike_stats_add(&a, &b);
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    assert_int_equal(ike_stats_get(&a, i), 1001 * (i + 1));
  }
  assert_int_equal(ike_stats_to_pairs(&a, pairs, IKE_STAT_COUNT), IKE_STAT_COUNT);
  ike_stats_reset(&c);
  assert_int_equal(ike_stats_from_pairs(&c, pairs, IKE_STAT_COUNT), 0);
  assert_memory_equal(&a, &c, sizeof(a));
  ike_stat_pair_t odd[2] = {{"no_such_counter", 5}, {"mobike_ignored", 77}};
  assert_int_equal(ike_stats_from_pairs(&c, odd, 2), 1);
  assert_int_equal(c.mobike_ignored, 77);
  assert_int_equal(ike_stats_to_pairs(&a, pairs, 3), 3);
}

static void test_helpers(void **state) {
  (void)state;
  ike_stats_t st;
  ike_stats_reset(&st);
  ike_stats_exchange(&st, IKE_EXCH_IKE_SA_INIT, 0, 0);
  ike_stats_exchange(&st, IKE_EXCH_IKE_SA_INIT, 1, 1);
  ike_stats_exchange(&st, IKE_EXCH_INFORMATIONAL, 1, 0);
  ike_stats_exchange(&st, IKE_EXCH_CREATE_CHILD_SA, 0, 1);
  ike_stats_exchange(&st, 99, 0, 0); /* unknown: ignored */
  assert_int_equal(st.exch_init_req_rcvd, 1);
  assert_int_equal(st.exch_init_rsp_sent, 1);
  assert_int_equal(st.exch_info_rsp_rcvd, 1);
  assert_int_equal(st.exch_child_req_sent, 1);
  assert_int_equal(st.exch_auth_req_rcvd + st.exch_init_req_sent + st.exch_info_req_rcvd, 0);

  ike_stats_notify(&st, IKE_N_MOBIKE_SUPPORTED, 1);
  ike_stats_notify(&st, IKE_N_MOBIKE_SUPPORTED, 0);
  ike_stats_notify(&st, IKE_N_UPDATE_SA_ADDRESSES, 0);
  ike_stats_notify(&st, IKE_N_COOKIE2, 1);
  ike_stats_notify(&st, IKE_N_UNEXPECTED_NAT_DETECTED, 1);
  ike_stats_notify(&st, IKE_N_UNACCEPTABLE_ADDRESSES, 1);
  ike_stats_notify(&st, IKE_N_ADDITIONAL_IP6_ADDRESS, 0);
  ike_stats_notify(&st, IKE_N_NO_NATS_ALLOWED, 0);
  ike_stats_notify(&st, 12345, 0);
  ike_stats_notify(&st, 54321, 1);
  assert_int_equal(st.notify_sent_MOBIKE_SUPPORTED, 1);      /* MOBIKE Notify Sent */
  assert_int_equal(st.notify_rcvd_MOBIKE_SUPPORTED, 1);      /* MOBIKE Supported */
  assert_int_equal(st.notify_rcvd_UPDATE_SA_ADDRESSES, 1);
  assert_int_equal(st.notify_sent_COOKIE2, 1);               /* MOBIKE Cookie2 Sent */
  assert_int_equal(st.notify_sent_UNEXPECTED_NAT_DETECTED, 1);
  assert_int_equal(st.notify_sent_UNACCEPTABLE_ADDRESSES, 1);
  assert_int_equal(st.notify_rcvd_ADDITIONAL_IP6_ADDRESS, 1);
  assert_int_equal(st.notify_rcvd_NO_NATS_ALLOWED, 1);
  assert_int_equal(st.notify_rcvd_other, 1);
  assert_int_equal(st.notify_sent_other, 1);
  assert_int_equal(st.mobike_notify_rcvd, 0); /* engine decisions are not notify counts */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tables),
      cmocka_unit_test(test_add_pairs),
      cmocka_unit_test(test_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
