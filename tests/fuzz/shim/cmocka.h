/*
 * shim/cmocka.h - the cmocka assertions that tests/unit/engine_harness.c uses,
 * as plain checks that abort, so a fuzzer can compile the harness unchanged
 * (#include "engine_harness.c") without linking cmocka. Only the fuzz targets
 * have tests/fuzz/shim on their include path (tests/fuzz/CMakeLists.txt).
 *
 * A failed harness assertion is a bug of the harness or of the engine (e.g. the
 * gateway sent more datagrams than the bench queues), so it aborts and
 * libFuzzer reports it with the input. Add a macro here when the harness
 * starts using another one.
 */
#ifndef IKEGW_FUZZ_CMOCKA_SHIM_H
#define IKEGW_FUZZ_CMOCKA_SHIM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define shim_fail_(...)                                                       \
  do {                                                                        \
    fprintf(stderr, "%s:%d: harness check failed: ", __FILE__, __LINE__);     \
    fprintf(stderr, __VA_ARGS__);                                             \
    fputc('\n', stderr);                                                      \
    abort();                                                                  \
  } while (0)

#define fail_msg(...) shim_fail_(__VA_ARGS__)
#define fail() shim_fail_("fail()")
#define assert_true(c)                                                        \
  do {                                                                        \
    if (!(c)) {                                                               \
      shim_fail_("%s", #c);                                                   \
    }                                                                         \
  } while (0)
#define assert_false(c) assert_true(!(c))
#define assert_non_null(p) assert_true((p) != NULL)
#define assert_null(p) assert_true((p) == NULL)
#define assert_int_equal(a, b) assert_true((intmax_t)(a) == (intmax_t)(b))
#define assert_int_not_equal(a, b) assert_true((intmax_t)(a) != (intmax_t)(b))
#define assert_ptr_equal(a, b) assert_true((const void *)(a) == (const void *)(b))
#define assert_ptr_not_equal(a, b) assert_true((const void *)(a) != (const void *)(b))
#define assert_string_equal(a, b) assert_true(strcmp((a), (b)) == 0)
#define assert_memory_equal(a, b, n) assert_true(memcmp((a), (b), (n)) == 0)
#define assert_in_range(v, lo, hi) \
  assert_true((uintmax_t)(v) >= (uintmax_t)(lo) && (uintmax_t)(v) <= (uintmax_t)(hi))

#endif /* IKEGW_FUZZ_CMOCKA_SHIM_H */
