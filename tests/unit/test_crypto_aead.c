/*
 * test_crypto_aead.c - the AEAD ciphers as IKE uses them (nonce = 4-byte salt
 * from the key material | 8-byte IV): AES-GCM test cases 3, 4 (AES-128) and
 * 13-16 (AES-256) of McGrew & Viega, "The Galois/Counter Mode of Operation
 * (GCM)", Appendix B; ChaCha20-Poly1305 RFC 8439 section 2.8.2 and the AEAD
 * step of RFC 7634 Appendix B; truncated GCM tags (RFC 5282: 8/12 bytes);
 * tampering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike_crypto.h"
#include "crypto_vec.h"

typedef struct {
  const char *name;
  uint16_t encr, bits;
  const char *key;    /* cipher key | 4-byte salt = first 4 bytes of the 96-bit IV */
  const char *iv;     /* last 8 bytes of the 96-bit IV */
  const char *aad, *pt, *ct, *tag;
} aead_vec_t;

#define GCM_K "feffe9928665731c6d6a8f9467308308"
#define GCM_P                                                              \
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"     \
  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define GCM_P60                                                            \
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"     \
  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"

static const aead_vec_t vecs[] = {
    /* GCM spec Appendix B, test case 3 (AES-128). */
    {"gcm tc3", IKE_ENCR_AES_GCM_16, 128, GCM_K "cafebabe", "facedbaddecaf888", "", GCM_P,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    /* Test case 4 (AES-128, AAD, 60-byte plaintext). */
    {"gcm tc4", IKE_ENCR_AES_GCM_16, 128, GCM_K "cafebabe", "facedbaddecaf888", GCM_A,
     GCM_P60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    /* Test case 13 (AES-256, zero key, empty plaintext). */
    {"gcm tc13", IKE_ENCR_AES_GCM_16, 256,
     "0000000000000000000000000000000000000000000000000000000000000000" "00000000",
     "0000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    /* Test case 14. */
    {"gcm tc14", IKE_ENCR_AES_GCM_16, 256,
     "0000000000000000000000000000000000000000000000000000000000000000" "00000000",
     "0000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    /* Test case 15. */
    {"gcm tc15", IKE_ENCR_AES_GCM_16, 256, GCM_K GCM_K "cafebabe", "facedbaddecaf888", "",
     GCM_P,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    /* Test case 16. */
    {"gcm tc16", IKE_ENCR_AES_GCM_16, 256, GCM_K GCM_K "cafebabe", "facedbaddecaf888",
     GCM_A, GCM_P60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    /* GCM_8 / GCM_12 (RFC 5282 3): the tag is the leftmost 8/12 bytes. */
    {"gcm8 tc16", IKE_ENCR_AES_GCM_8, 256, GCM_K GCM_K "cafebabe", "facedbaddecaf888",
     GCM_A, GCM_P60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768"},
    {"gcm12 tc4", IKE_ENCR_AES_GCM_12, 128, GCM_K "cafebabe", "facedbaddecaf888", GCM_A,
     GCM_P60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95a"},
    /* RFC 8439 section 2.8.2: nonce 07000000 | 4041424344454647. */
    {"chacha rfc8439", IKE_ENCR_CHACHA20_POLY1305, 0,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" "07000000",
     "4041424344454647", "50515253c0c1c2c3c4c5c6c7",
     /* "Ladies and Gentlemen of the class of '99: If I could offer you only
      * one tip for the future, sunscreen would be it." */
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116",
     "1ae10b594f09e26a7e902ecbd0600691"},
    /* RFC 7634 Appendix B (IKEv2 INFORMATIONAL): key 80..9f, salt a0a1a2a3,
     * AAD = IKE header | SK payload header, plaintext = Notify | pad length. */
    {"chacha rfc7634 B", IKE_ENCR_CHACHA20_POLY1305, 0,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" "a0a1a2a3",
     "1011121314151617",
     "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e202500000000090000004529000029",
     "0000000c000040010000000a00", "610394701f8d017f7c12924889",
     "6b71bfe25236efd7cdc67066906315b2"},
};

static void dir_for(const aead_vec_t *v, ike_sk_dir_t *k) {
  uint8_t key[IKE_MAX_ENCR_KEY];
  ike_suite_t s = {.encr = v->encr, .encr_bits = v->bits, .integ = IKE_INTEG_NONE};
  size_t klen = UNHEX(key, v->key);
  assert_int_equal(klen, ike_encr_key_len(v->encr, v->bits));
  assert_int_equal(ike_sk_dir_init(k, &s, key, NULL), 0);
}

static void test_vectors(void **state) {
  (void)state;
  int n = 0;
  for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
    const aead_vec_t *v = &vecs[i];
    ike_sk_dir_t k;
    uint8_t iv[8], aad[64], pt[128], ct[128], tag[16], out[128], got_tag[16];
    dir_for(v, &k);
    assert_int_equal(UNHEX(iv, v->iv), 8);
    size_t alen = UNHEX(aad, v->aad), plen = UNHEX(pt, v->pt), clen = UNHEX(ct, v->ct),
           tlen = UNHEX(tag, v->tag);
    assert_int_equal(plen, clen);
    assert_int_equal(tlen, ike_encr_icv_len(v->encr));
    assert_int_equal(ike_aead_seal(&k, iv, aad, alen, pt, plen, out, got_tag), 0);
    if (memcmp(out, ct, clen) != 0 || memcmp(got_tag, tag, tlen) != 0) {
      fail_msg("%s: seal mismatch", v->name);
    }
    memset(out, 0, sizeof(out));
    assert_int_equal(ike_aead_open(&k, iv, aad, alen, ct, clen, tag, out), 0);
    assert_memory_equal(out, pt, plen);
    /* One flipped bit anywhere fails the tag and wipes the output. */
    tag[tlen - 1] ^= 0x01;
    assert_int_equal(ike_aead_open(&k, iv, aad, alen, ct, clen, tag, out), -IKE_E_INTEGRITY);
    tag[tlen - 1] ^= 0x01;
    iv[0] ^= 0x80;
    assert_int_equal(ike_aead_open(&k, iv, aad, alen, ct, clen, tag, out), -IKE_E_INTEGRITY);
    iv[0] ^= 0x80;
    if (alen > 0) {
      aad[alen / 2] ^= 0x04;
      assert_int_equal(ike_aead_open(&k, iv, aad, alen, ct, clen, tag, out),
                       -IKE_E_INTEGRITY);
      aad[alen / 2] ^= 0x04;
    }
    if (clen > 0) {
      ct[0] ^= 0x10;
      memset(out, 0x5a, sizeof(out));
      assert_int_equal(ike_aead_open(&k, iv, aad, alen, ct, clen, tag, out),
                       -IKE_E_INTEGRITY);
      for (size_t j = 0; j < clen; j++) {
        assert_int_equal(out[j], 0);  /* unauthenticated plaintext wiped */
      }
      ct[0] ^= 0x10;
    }
    ike_sk_dir_wipe(&k);
    n++;
  }
  print_message("AEAD vectors passed: %d\n", n);
}

static void test_dir_init_rejects(void **state) {
  (void)state;
  uint8_t key[IKE_MAX_ENCR_KEY] = {0}, ak[64] = {0};
  ike_sk_dir_t k;
  ike_suite_t s = {.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 192, .integ = IKE_INTEG_NONE};
  assert_int_equal(ike_sk_dir_init(&k, &s, key, NULL), -IKE_E_UNSUPPORTED);
  s.encr_bits = 128;
  s.integ = IKE_INTEG_HMAC_SHA2_256_128;  /* AEAD with INTEG: RFC 5282 8 */
  assert_int_equal(ike_sk_dir_init(&k, &s, key, ak), -IKE_E_UNSUPPORTED);
  s.encr = IKE_ENCR_AES_CBC;
  s.integ = IKE_INTEG_NONE;  /* CBC without INTEG */
  assert_int_equal(ike_sk_dir_init(&k, &s, key, ak), -IKE_E_UNSUPPORTED);
  /* ike_aead_* refuse a CBC direction. */
  s.integ = IKE_INTEG_HMAC_SHA1_96;
  assert_int_equal(ike_sk_dir_init(&k, &s, key, ak), 0);
  uint8_t iv[8] = {0}, tag[16], out[16];
  assert_int_equal(ike_aead_seal(&k, iv, NULL, 0, key, 16, out, tag), -IKE_E_CRYPTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_dir_init_rejects),
  };
  return cmocka_run_group_tests(tests, vec_setup, vec_teardown);
}
