/*
 * test_crypto_prf.c - HMAC PRFs and integrity ICVs against published vectors:
 * RFC 4231 section 4 (HMAC-SHA-256/384/512, test cases 1-4, 6, 7),
 * RFC 2202 section 3 (HMAC-SHA-1, test cases 1-4, 6, 7), RFC 4868 section
 * 2.7.2 (HMAC-SHA-256/384/512 with full-length keys, truncated to 128/192/
 * 256 bits) and RFC 2404 (HMAC-SHA-1-96); prf+ (RFC 7296 2.13) against
 * tests/unit/vectors/ike_keys.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike_crypto.h"
#include "crypto_vec.h"

/* The key and data of an RFC 4231 / RFC 2202 test case. */
static size_t tc_input(int tc, bool rfc2202, uint8_t *key, uint8_t *data, size_t *dlen) {
  static const char tc6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
  static const char tc7_4231[] =
      "This is a test using a larger than block-size key and a larger than block-size "
      "data. The key needs to be hashed before being used by the HMAC algorithm.";
  static const char tc7_2202[] =
      "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
  size_t klen = 0;
  switch (tc) {
    case 1:
      memset(key, 0x0b, klen = 20);
      memcpy(data, "Hi There", *dlen = 8);
      break;
    case 2:
      memcpy(key, "Jefe", klen = 4);
      memcpy(data, "what do ya want for nothing?", *dlen = 28);
      break;
    case 3:
      memset(key, 0xaa, klen = 20);
      memset(data, 0xdd, *dlen = 50);
      break;
    case 4:
      for (klen = 0; klen < 25; klen++) {
        key[klen] = (uint8_t)(klen + 1);
      }
      memset(data, 0xcd, *dlen = 50);
      break;
    case 6:
      memset(key, 0xaa, klen = rfc2202 ? 80 : 131);
      memcpy(data, tc6, *dlen = sizeof(tc6) - 1);
      break;
    case 7:
      memset(key, 0xaa, klen = rfc2202 ? 80 : 131);
      if (rfc2202) {
        memcpy(data, tc7_2202, *dlen = sizeof(tc7_2202) - 1);
      } else {
        memcpy(data, tc7_4231, *dlen = sizeof(tc7_4231) - 1);
      }
      break;
    default:
      fail();
  }
  return klen;
}

/* RFC 4231 section 4.2-4.8 (test case 5 is a truncation case, left out). */
static const struct {
  int tc;
  const char *sha256, *sha384, *sha512;
} rfc4231[] = {
    {1,
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
     "faea9ea9076ede7f4af152e8b2fa9cb6",
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
     "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
    {2,
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
     "8e2240ca5e69e2c78b3239ecfab21649",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
     "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    {3,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
     "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
     "2a5ab39dc13814b94e3ab6e101a34f27",
     "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
     "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
    {4,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
     "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
     "6801dd23c4a7d679ccf8a386c674cffb",
     "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
     "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
    {6,
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
     "0c2ef6ab4030fe8296248df163f44952",
     "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
     "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
    {7,
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
     "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
     "a678cc31e799176d3860e6110c46523e",
     "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
     "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
};

static int vectors_run;

static void check_prf(uint16_t prf, const uint8_t *key, size_t klen, const uint8_t *data,
                      size_t dlen, const char *hex) {
  uint8_t want[64], got[64];
  size_t n = vec_unhex(hex, want, sizeof(want));
  assert_int_equal(n, ike_prf_len(prf));
  assert_int_equal(ike_prf(prf, key, klen, data, dlen, got), 0);
  assert_memory_equal(got, want, n);
  vectors_run++;
}

static void test_rfc4231(void **state) {
  (void)state;
  uint8_t key[131], data[160];
  for (size_t i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++) {
    size_t dlen = 0, klen = tc_input(rfc4231[i].tc, false, key, data, &dlen);
    check_prf(IKE_PRF_HMAC_SHA2_256, key, klen, data, dlen, rfc4231[i].sha256);
    check_prf(IKE_PRF_HMAC_SHA2_384, key, klen, data, dlen, rfc4231[i].sha384);
    check_prf(IKE_PRF_HMAC_SHA2_512, key, klen, data, dlen, rfc4231[i].sha512);
  }
}

/* RFC 2202 section 3. */
static const struct {
  int tc;
  const char *sha1;
} rfc2202[] = {
    {1, "b617318655057264e28bc0b6fb378c8ef146be00"},
    {2, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
    {3, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
    {4, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
    {6, "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
    {7, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
};

static void test_rfc2202(void **state) {
  (void)state;
  uint8_t key[131], data[160];
  for (size_t i = 0; i < sizeof(rfc2202) / sizeof(rfc2202[0]); i++) {
    size_t dlen = 0, klen = tc_input(rfc2202[i].tc, true, key, data, &dlen);
    check_prf(IKE_PRF_HMAC_SHA1, key, klen, data, dlen, rfc2202[i].sha1);
    /* RFC 2404: HMAC-SHA-1-96 is the first 12 bytes. */
    uint8_t want[20], icv[32];
    UNHEX(want, rfc2202[i].sha1);
    assert_int_equal(ike_integ_mac(IKE_INTEG_HMAC_SHA1_96, key, klen, data, dlen, icv), 0);
    assert_memory_equal(icv, want, 12);
    vectors_run++;
  }
}

/* RFC 4868 section 2.7.2.1-2.7.2.3, test cases 1 and 2: keys of the full
 * integrity key length; the ICV is the leftmost 128/192/256 bits. */
static void test_rfc4868_truncation(void **state) {
  (void)state;
  static const struct {
    uint16_t integ, prf;
    size_t klen, icv;
    const char *tc1, *tc2;
  } v[] = {
      {IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, 32, 16,
       "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7",
       "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6"},
      {IKE_INTEG_HMAC_SHA2_384_192, IKE_PRF_HMAC_SHA2_384, 48, 24,
       "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc"
       "4c5df61d5b3297b4fb68dab9f1b582c2",
       "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184da86a368e9b8e16f5"
       "349524ca4e82400cbde0686d403371c9"},
      {IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512, 64, 32,
       "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"
       "ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b",
       "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454"
       "6aa334ae9fb9afc2184932d8695e397bfa0ffb93466cfcceaae38c833b7dba38"},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    uint8_t key[64], want[64], icv[64] = {0};
    assert_int_equal(ike_integ_key_len(v[i].integ), v[i].klen);
    assert_int_equal(ike_integ_icv_len(v[i].integ), v[i].icv);
    /* Test case 1: key = 0x0b repeated, data "Hi There". */
    memset(key, 0x0b, v[i].klen);
    UNHEX(want, v[i].tc1);
    assert_int_equal(ike_integ_mac(v[i].integ, key, v[i].klen,
                                   (const uint8_t *)"Hi There", 8, icv), 0);
    assert_memory_equal(icv, want, v[i].icv);
    assert_int_equal(icv[v[i].icv], 0);  /* nothing written past the ICV */
    check_prf(v[i].prf, key, v[i].klen, (const uint8_t *)"Hi There", 8, v[i].tc1);
    /* Test case 2: key = "Jefe" repeated to the key length. */
    for (size_t j = 0; j < v[i].klen; j++) {
      key[j] = (uint8_t)"Jefe"[j % 4];
    }
    UNHEX(want, v[i].tc2);
    assert_int_equal(ike_integ_mac(v[i].integ, key, v[i].klen,
                                   (const uint8_t *)"what do ya want for nothing?", 28, icv),
                     0);
    assert_memory_equal(icv, want, v[i].icv);
    vectors_run++;
  }
}

/* prfv over pieces equals prf over their concatenation. */
static void test_prfv_gather(void **state) {
  (void)state;
  const uint8_t *d[3] = {(const uint8_t *)"Hi", (const uint8_t *)"", (const uint8_t *)" There"};
  size_t l[3] = {2, 0, 6};
  uint8_t key[20], a[64], b[64];
  memset(key, 0x0b, sizeof(key));
  assert_int_equal(ike_prfv(IKE_PRF_HMAC_SHA2_256, key, 20, d, l, 3, a), 0);
  assert_int_equal(ike_prf(IKE_PRF_HMAC_SHA2_256, key, 20, (const uint8_t *)"Hi There", 8, b), 0);
  assert_memory_equal(a, b, 32);
  assert_int_equal(ike_prf(99, key, 20, d[0], 2, a), -IKE_E_UNSUPPORTED);
}

/* prf+ (RFC 7296 2.13), 100 bytes = 5 SHA-1 blocks, from ike_keys.py. */
static void test_prf_plus(void **state) {
  (void)state;
  uint8_t want[100], got[101];
  UNHEX(want, "0a4dd4d286ae93c5e1d24f24f3756216b533dd67ad15d19cef25f483bcc5300fd5487404a2c5000664d807a67dba048c69ac226939eb01a5b44c634ad5b79dcd667a4120a8eab5b472d4316d27b4059ba4f3f28c7dd1c3152892d94bce8e01506c3b5ded");
  memset(got, 0xee, sizeof(got));
  assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA1, (const uint8_t *)"key", 3,
                                (const uint8_t *)"seed", 4, got, 100), 0);
  assert_memory_equal(got, want, 100);
  assert_int_equal(got[100], 0xee);
  /* A prefix of the output is the output of a shorter request. */
  uint8_t shorter[33];
  assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA1, (const uint8_t *)"key", 3,
                                (const uint8_t *)"seed", 4, shorter, 33), 0);
  assert_memory_equal(shorter, want, 33);
  /* The one-octet counter caps the output at 255 blocks. */
  static uint8_t big[255 * 20 + 1];
  assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA1, (const uint8_t *)"k", 1,
                                (const uint8_t *)"s", 1, big, 255 * 20), 0);
  assert_int_equal(ike_prf_plus(IKE_PRF_HMAC_SHA1, (const uint8_t *)"k", 1,
                                (const uint8_t *)"s", 1, big, 255 * 20 + 1),
                   -IKE_E_BAD_LENGTH);
  vectors_run++;
}

static void test_registry(void **state) {
  (void)state;
  assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA1), 20);
  assert_int_equal(ike_prf_len(IKE_PRF_HMAC_SHA2_512), 64);
  assert_false(ike_prf_supported(1));  /* PRF_HMAC_MD5 */
  assert_false(ike_integ_supported(IKE_INTEG_NONE));
  assert_int_equal(ike_integ_icv_len(IKE_INTEG_HMAC_SHA1_96), 12);
  assert_true(ike_encr_supported(IKE_ENCR_AES_CBC, 128));
  assert_false(ike_encr_supported(IKE_ENCR_AES_CBC, 192));
  assert_false(ike_encr_supported(IKE_ENCR_CHACHA20_POLY1305, 256));
  assert_int_equal(ike_encr_key_len(IKE_ENCR_AES_CBC, 256), 32);
  assert_int_equal(ike_encr_key_len(IKE_ENCR_AES_GCM_16, 128), 20);
  assert_int_equal(ike_encr_key_len(IKE_ENCR_CHACHA20_POLY1305, 0), 36);
  assert_int_equal(ike_encr_iv_len(IKE_ENCR_AES_CBC), 16);
  assert_int_equal(ike_encr_iv_len(IKE_ENCR_AES_GCM_8), 8);
  assert_int_equal(ike_encr_icv_len(IKE_ENCR_AES_GCM_12), 12);
  assert_int_equal(ike_encr_block_len(IKE_ENCR_CHACHA20_POLY1305), 1);
  assert_true(ike_encr_is_aead(IKE_ENCR_AES_GCM_16));
  assert_false(ike_encr_is_aead(IKE_ENCR_AES_CBC));
}

static int report(void **state) {
  print_message("published/independent vectors checked: %d\n", vectors_run);
  return vec_teardown(state);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc4231),            cmocka_unit_test(test_rfc2202),
      cmocka_unit_test(test_rfc4868_truncation), cmocka_unit_test(test_prfv_gather),
      cmocka_unit_test(test_prf_plus),           cmocka_unit_test(test_registry),
  };
  return cmocka_run_group_tests(tests, vec_setup, report);
}
