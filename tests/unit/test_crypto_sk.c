/*
 * test_crypto_sk.c - SK / SKF payload seal and open (RFC 7296 3.14, RFC 5282,
 * RFC 7634, RFC 7383 2.5): the whole-message vector of RFC 7634 Appendix B,
 * round trips for every suite, tampering, bad padding, truncation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "ike_crypto.h"
#include "crypto_vec.h"

/* RFC 7634 Appendix B: IKEv2 INFORMATIONAL, message ID 9, one SK payload
 * holding a Notify (SET_WINDOW_SIZE, 10). */
#define B_HDR "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e20250000000009" "00000045"
#define B_SKH "29000029"
#define B_IV "1011121314151617"
#define B_CT "610394701f8d017f7c12924889"
#define B_TAG "6b71bfe25236efd7cdc67066906315b2"
#define B_INNER "0000000c000040010000000a"
#define B_KEY "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" "a0a1a2a3"

static void chacha_dir(ike_sk_dir_t *k) {
  uint8_t key[36];
  ike_suite_t s = {.encr = IKE_ENCR_CHACHA20_POLY1305};
  UNHEX(key, B_KEY);
  assert_int_equal(ike_sk_dir_init(k, &s, key, NULL), 0);
}

static void test_rfc7634_appendix_b(void **state) {
  (void)state;
  ike_sk_dir_t k;
  uint8_t msg[69], out[64], inner[12], iv[8], sealed[128];
  size_t n = 0, len = 0;
  chacha_dir(&k);
  assert_int_equal(UNHEX(msg, B_HDR B_SKH B_IV B_CT B_TAG), 69);
  assert_int_equal(ike_sk_open(&k, msg, 69, 28, 32, out, sizeof(out), &n), 0);
  UNHEX(inner, B_INNER);
  assert_int_equal(n, 12);
  assert_memory_equal(out, inner, 12);
  /* Sealing the same inner payload with the same IV gives the RFC's bytes. */
  memset(sealed, 0, sizeof(sealed));
  memcpy(sealed, msg, 28);
  sealed[24] = sealed[25] = sealed[26] = sealed[27] = 0;  /* length: seal patches it */
  sealed[28] = 0x29;  /* SK: next payload Notify */
  UNHEX(iv, B_IV);
  assert_int_equal(ike_sk_seal_iv(&k, sealed, sizeof(sealed), 28, 32, inner, 12, iv, &len), 0);
  assert_int_equal(len, 69);
  assert_memory_equal(sealed, msg, 69);
  ike_sk_dir_wipe(&k);
}

static const ike_suite_t suites[] = {
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, 0, 0, false},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, 0, 0, false},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_384_192, 0, 0, false},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_512_256, 0, 0, false},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA1_96, 0, 0, false},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, 0, 0, false},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_384_192, 0, 0, false},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, 0, 0, false},
    {IKE_ENCR_AES_GCM_8, 128, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_AES_GCM_12, 256, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE, 0, 0, false},
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static void make_dir(const ike_suite_t *s, ike_sk_dir_t *k) {
  uint8_t ek[IKE_MAX_ENCR_KEY], ak[IKE_MAX_INTEG_KEY];
  for (size_t i = 0; i < sizeof(ek); i++) {
    ek[i] = (uint8_t)(0x31 * i + 7);
  }
  for (size_t i = 0; i < sizeof(ak); i++) {
    ak[i] = (uint8_t)(0x17 * i + 1);
  }
  assert_int_equal(ike_sk_dir_init(k, s, ek, ak), 0);
}

/* A message: IKE header, 8 bytes of a clear payload when clear is set,
 * then the SK (or SKF with its 4 fragment bytes) payload header. */
static void make_prefix(uint8_t *msg, bool clear, bool skf, size_t *pld_off,
                        size_t *body_off) {
  memset(msg, 0, 64);
  for (int i = 0; i < 16; i++) {
    msg[i] = (uint8_t)(0xa0 + i);  /* SPIs */
  }
  msg[17] = 0x20;
  msg[18] = IKE_EXCH_INFORMATIONAL;
  msg[19] = IKE_FLAG_INITIATOR;
  msg[23] = 3;  /* message ID */
  size_t off = IKE_HDR_LEN;
  if (clear) {
    msg[16] = IKE_PLD_VENDOR;
    msg[off] = skf ? IKE_PLD_SKF : IKE_PLD_SK;
    msg[off + 3] = 8;
    memcpy(msg + off + 4, "ikgw", 4);
    off += 8;
  } else {
    msg[16] = skf ? IKE_PLD_SKF : IKE_PLD_SK;
  }
  msg[off] = IKE_PLD_NOTIFY;
  *pld_off = off;
  *body_off = off + IKE_PLD_HDR_LEN;
  if (skf) {
    msg[off + 5] = 2;  /* fragment number 2 */
    msg[off + 7] = 3;  /* of 3 */
    *body_off += 4;
  }
}

static void test_round_trips(void **state) {
  (void)state;
  static const size_t lens[] = {0, 1, 15, 16, 17, 256, 1000};
  static uint8_t msg[1200], inner[1000], out[1200];
  for (size_t i = 0; i < sizeof(inner); i++) {
    inner[i] = (uint8_t)(i * 13 + 5);
  }
  int trips = 0;
  for (size_t s = 0; s < NSUITES; s++) {
    ike_sk_dir_t k;
    make_dir(&suites[s], &k);
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
      for (int shape = 0; shape < 3; shape++) {
        size_t pld = 0, body = 0, len = 0, n = 0;
        make_prefix(msg, shape == 1, shape == 2, &pld, &body);
        assert_int_equal(ike_sk_seal(&k, msg, sizeof(msg), pld, body, inner, lens[l], &len), 0);
        assert_int_equal(len, body + lens[l] + ike_sk_overhead(&k, lens[l]));
        /* Header and payload length fields patched. */
        assert_int_equal(((size_t)msg[24] << 24 | (size_t)msg[25] << 16 |
                          (size_t)msg[26] << 8 | msg[27]), len);
        assert_int_equal(((size_t)msg[pld + 2] << 8 | msg[pld + 3]), len - pld);
        if (!ike_encr_is_aead(suites[s].encr)) {
          assert_int_equal((len - body - 16 - ike_integ_icv_len(suites[s].integ)) % 16, 0);
        }
        memset(out, 0xcc, sizeof(out));
        assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, sizeof(out), &n), 0);
        assert_int_equal(n, lens[l]);
        assert_memory_equal(out, inner, n);
        trips++;
      }
    }
    ike_sk_dir_wipe(&k);
  }
  print_message("SK round trips: %d (%zu suites)\n", trips, NSUITES);
}

/* Flip one bit in each region: IKE header, clear payload, SK header (next
 * payload), SKF fragment number, IV, ciphertext, ICV. */
static void test_tamper(void **state) {
  (void)state;
  uint8_t msg[256], out[256], inner[40];
  memset(inner, 0x42, sizeof(inner));
  int flips = 0;
  for (size_t s = 0; s < NSUITES; s++) {
    ike_sk_dir_t k;
    make_dir(&suites[s], &k);
    size_t pld = 0, body = 0, len = 0, n = 0;
    make_prefix(msg, true, true, &pld, &body);
    assert_int_equal(ike_sk_seal(&k, msg, sizeof(msg), pld, body, inner, 40, &len), 0);
    size_t ivl = ike_encr_iv_len(suites[s].encr);
    size_t pos[] = {0, 9, 18, 23, IKE_HDR_LEN + 5, pld, pld + 5, body, body + ivl - 1,
                    body + ivl, len - ike_encr_icv_len(suites[s].encr) -
                                    ike_integ_icv_len(suites[s].integ) - 1,
                    len - 1};
    for (size_t p = 0; p < sizeof(pos) / sizeof(pos[0]); p++) {
      msg[pos[p]] ^= 0x01;
      assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, sizeof(out), &n),
                       -IKE_E_INTEGRITY);
      assert_int_equal(n, 0);
      msg[pos[p]] ^= 0x01;
      flips++;
    }
    assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, sizeof(out), &n), 0);
    /* The other direction's key does not open it. */
    ike_sk_dir_t other = k;
    other.ek[0] ^= 1;
    other.ak[0] ^= 1;
    assert_int_equal(ike_sk_open(&other, msg, len, pld, body, out, sizeof(out), &n),
                     -IKE_E_INTEGRITY);
    ike_sk_dir_wipe(&k);
  }
  print_message("tampered messages rejected: %d\n", flips);
}

static void put16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* Valid ICV, pad length larger than the plaintext allows. */
static void test_bad_padding(void **state) {
  (void)state;
  uint8_t msg[256], out[256];
  size_t pld = 0, body = 0, n = 0;
  /* AEAD: plaintext "abc" | pad length 9 (> 3). */
  ike_sk_dir_t k;
  make_dir(&suites[11], &k);
  make_prefix(msg, false, false, &pld, &body);
  uint8_t iv[8] = {1, 2, 3, 4, 5, 6, 7, 8}, pt[4] = {'a', 'b', 'c', 9};
  size_t len = body + 8 + 4 + 16;
  put16(msg + pld + 2, len - pld);
  msg[27] = (uint8_t)len;
  memcpy(msg + body, iv, 8);
  assert_int_equal(ike_aead_seal(&k, iv, msg, body, pt, 4, msg + body + 8, msg + body + 12), 0);
  assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, sizeof(out), &n),
                   -IKE_E_BAD_PADDING);
  pt[3] = 3;  /* pad length 3 = plaintext len - 1: valid, empty inner chain */
  assert_int_equal(ike_aead_seal(&k, iv, msg, body, pt, 4, msg + body + 8, msg + body + 12), 0);
  assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, sizeof(out), &n), 0);
  assert_int_equal(n, 0);
  ike_sk_dir_wipe(&k);

  /* CBC: one block whose last byte is 16 (> 15), ICV computed correctly. */
  make_dir(&suites[5], &k);  /* AES-256-CBC + HMAC-SHA2-256-128 */
  make_prefix(msg, false, false, &pld, &body);
  uint8_t civ[16] = {9}, block[16] = {0}, ct[16];
  block[15] = 16;
  int outl = 0, fin = 0;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  assert_non_null(c);
  assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, k.ek, civ), 1);
  EVP_CIPHER_CTX_set_padding(c, 0);
  assert_int_equal(EVP_EncryptUpdate(c, ct, &outl, block, 16), 1);
  assert_int_equal(EVP_EncryptFinal_ex(c, ct + outl, &fin), 1);
  EVP_CIPHER_CTX_free(c);
  len = body + 16 + 16 + 16;
  put16(msg + pld + 2, len - pld);
  msg[27] = (uint8_t)len;
  memcpy(msg + body, civ, 16);
  memcpy(msg + body + 16, ct, 16);
  assert_int_equal(ike_integ_mac(k.integ, k.ak, k.ak_len, msg, len - 16, msg + len - 16), 0);
  assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, sizeof(out), &n),
                   -IKE_E_BAD_PADDING);
  ike_sk_dir_wipe(&k);
}

static void test_truncated_and_lengths(void **state) {
  (void)state;
  uint8_t msg[256], out[256], inner[20] = {0};
  for (size_t s = 0; s < NSUITES; s++) {
    ike_sk_dir_t k;
    size_t pld = 0, body = 0, len = 0, n = 0;
    make_dir(&suites[s], &k);
    make_prefix(msg, false, false, &pld, &body);
    assert_int_equal(ike_sk_seal(&k, msg, sizeof(msg), pld, body, inner, 20, &len), 0);
    bool aead = ike_encr_is_aead(suites[s].encr);
    size_t ivl = ike_encr_iv_len(suites[s].encr);
    size_t icv = aead ? ike_encr_icv_len(suites[s].encr) : ike_integ_icv_len(suites[s].integ);
    /* Payload length disagreeing with the message end. */
    assert_int_equal(ike_sk_open(&k, msg, len - 1, pld, body, out, sizeof(out), &n),
                     -IKE_E_BAD_LENGTH);
    /* Shorter than IV + ICV + minimal ciphertext, length field consistent. */
    size_t short_len = body + ivl + icv + (aead ? 0 : 15);
    put16(msg + pld + 2, short_len - pld);
    assert_int_equal(ike_sk_open(&k, msg, short_len, pld, body, out, sizeof(out), &n),
                     -IKE_E_TRUNC);
    if (!aead) {  /* ciphertext not a multiple of the block */
      put16(msg + pld + 2, short_len + 2 - pld);
      assert_int_equal(ike_sk_open(&k, msg, short_len + 2, pld, body, out, sizeof(out), &n),
                       -IKE_E_BAD_LENGTH);
    } else {  /* AEAD with a cut ciphertext: the tag no longer verifies */
      put16(msg + pld + 2, len - 1 - pld);
      assert_int_equal(ike_sk_open(&k, msg, len - 1, pld, body, out, sizeof(out), &n),
                       -IKE_E_INTEGRITY);
    }
    put16(msg + pld + 2, len - pld);
    assert_int_equal(ike_sk_open(&k, msg, body - 1, pld, body, out, sizeof(out), &n),
                     -IKE_E_TRUNC);
    assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, 5, &n), -IKE_E_NOSPACE);
    assert_int_equal(ike_sk_open(&k, msg, len, 20, 24, out, sizeof(out), &n),
                     -IKE_E_BAD_LENGTH);
    assert_int_equal(ike_sk_open(&k, msg, len, pld, body, out, sizeof(out), &n), 0);
    /* Seal: no room, bad offsets. */
    assert_int_equal(ike_sk_seal(&k, msg, len - 1, pld, body, inner, 20, &len),
                     -IKE_E_NOSPACE);
    assert_int_equal(ike_sk_seal(&k, msg, sizeof(msg), 10, 14, inner, 20, &len),
                     -IKE_E_BAD_LENGTH);
    assert_int_equal(ike_sk_seal(&k, msg, sizeof(msg), pld, pld + 2, inner, 20, &len),
                     -IKE_E_BAD_LENGTH);
    ike_sk_dir_wipe(&k);
  }
}

/* Two seals of the same message use different random IVs. */
static void test_random_iv(void **state) {
  (void)state;
  uint8_t a[128], b[128], inner[8] = {0};
  size_t pld = 0, body = 0, la = 0, lb = 0;
  ike_sk_dir_t k;
  make_dir(&suites[12], &k);
  make_prefix(a, false, false, &pld, &body);
  make_prefix(b, false, false, &pld, &body);
  assert_int_equal(ike_sk_seal(&k, a, sizeof(a), pld, body, inner, 8, &la), 0);
  assert_int_equal(ike_sk_seal(&k, b, sizeof(b), pld, body, inner, 8, &lb), 0);
  assert_int_equal(la, lb);
  assert_memory_not_equal(a + body, b + body, 8);
  ike_sk_dir_wipe(&k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc7634_appendix_b), cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_tamper),             cmocka_unit_test(test_bad_padding),
      cmocka_unit_test(test_truncated_and_lengths), cmocka_unit_test(test_random_iv),
  };
  return cmocka_run_group_tests(tests, vec_setup, vec_teardown);
}
