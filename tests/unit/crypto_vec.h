/*
 * crypto_vec.h - helpers shared by the test_crypto_*.c programs (include
 * after cmocka.h): hex decoding of test vectors.
 */
#ifndef CRYPTO_VEC_H
#define CRYPTO_VEC_H

#include <stdint.h>
#include <string.h>

static inline int vec_nib(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Decode hex (spaces ignored) into out; fails the test on bad input. */
static inline size_t vec_unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = hex; *p != '\0'; p++) {
    if (*p == ' ') {
      continue;
    }
    int v = vec_nib(*p);
    assert_true(v >= 0);
    if (hi < 0) {
      hi = v;
    } else {
      assert_true(n < cap);
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  assert_int_equal(hi, -1);
  return n;
}

#define UNHEX(buf, hex) vec_unhex((hex), (buf), sizeof(buf))

static inline int vec_setup(void **state) {
  (void)state;
  return ike_crypto_init();
}

static inline int vec_teardown(void **state) {
  (void)state;
  ike_crypto_cleanup();
  return 0;
}

#endif /* CRYPTO_VEC_H */
