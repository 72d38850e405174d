/*
 * test_crypto_keys.c - IKE SA key derivation (RFC 7296 2.14), IKE SA rekey
 * (2.18), CHILD SA keying material (2.17) and shared-key AUTH (2.15) against
 * an independent computation: tests/unit/vectors/ike_keys.py (Python hmac /
 * hashlib only) with the same fixed nonces, g^ir and SPIs. Re-run the script
 * to regenerate the hex below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ike_crypto.h"
#include "crypto_vec.h"

static uint8_t ni[32], nr[48], gir[256];
static const uint64_t spi_i = 0x0123456789ABCDEFull, spi_r = 0xFEDCBA9876543210ull;

static void fill_inputs(void) {
  for (int i = 0; i < 32; i++) {
    ni[i] = (uint8_t)(0x10 + i);
  }
  for (int i = 0; i < 48; i++) {
    nr[i] = (uint8_t)(0x80 + 3 * i);
  }
  for (int i = 0; i < 256; i++) {
    gir[i] = (uint8_t)(7 * i + 3);
  }
}

/* Expected SKEYSEED (documentation only: not exported) and
 * SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr. */
static const struct {
  const char *name;
  ike_suite_t s;
  const char *skeyseed, *keymat;
} vecs[] = {
    {"cbc256_sha256", {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, IKE_DH_NONE, false},
     "47acf7813a5f32ca062b8407c4c0068af284bdba8f6e60e3e7bfc2980ae59263",
     "dc7b7204ca69c6223e3d3ae2aaf5f8468936031bcd4af91fe4504e7f480310dc"
     "d0f4cd4d9310c6943cc56ac31433d8a68918d248e92ec3d31bb8c0c5fc8ac1e2"
     "88d52830b8eaace4eccad1189c23b0ad80b39733f6867c02e8c52bf2d3349b1a"
     "cc99a6c755b62ba60a350faedf0a4e16c6860f446391ab812aa45e0c18735f08"
     "a0b29f729f3e401d38b867b0b26ec12ff1805f493ba2ff8a5930e03a4197e20a"
     "be1fdec9f5d0d19cca7323c211c09231cf89a957d6f3607342d7c85aa2d8fdea"
     "c6c3fc836c3ceaa0e8444816e325857a5af4a5099eb9e3edae262e2d9f3bf4ed"},
    {"cbc128_sha1", {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1, IKE_DH_NONE, false},
     "ddd107a26f4eabff6079fe701f0a65e8b1da2be9",
     "3c2268ddd21db8aefd7dc10675454f3142fe56b6567452bdc06a68e970e24de3"
     "e19a9f3471b0fce53e486a5e0ae58c3c3590fa376bc22de4a7c48da406ca307e"
     "0dfa8c8ad14efb4111fc399e61faf059f60f83b8699f0f5645fb67930e89f8bb"
     "06c501d180dc4424925dcf9e84a6fce2e652d1c701645c159a2b88b256163695"
     "655a9b3a"},
    {"gcm256_prf384", {IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_384, IKE_DH_NONE, false},
     "848bccb70bef8c6ba30631605a441cc3d8032f1701d9cf1571823203b0b40b16"
     "6b0a43c147de47aeb219ab730211d52a",
     "f9bb8d002445e599603d0659ef3ddc11e4557b33e398f0247df18b9c1f6093cb"
     "6af8908b32f8b2f2680c9cafe16ca0d4e8e67ac57c2919191e40b46ab7ca478a"
     "8d5cdb414b688d081a94b44a32db484e79c1f3621c45475bac37a14d00ff37d9"
     "52f62a0ff83771abde6fc8c69c174e4d271ffb10fd65c4673c412748b4722fe5"
     "9ddc90ac970420284a8ce1fd342a60bf2b7935eefa674ad70197d648e4dc62de"
     "8bc27f5a60c925baeffedb1ac397709890157cd187abab2f6049ae6eb3a6469a"
     "be96dd86c1d4344ca9caf262ecf478deea43921ddf79e457"},
    {"chacha_prf512", {IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_512, IKE_DH_NONE, false},
     "39f3ccf1c52402aa05e78a5cc15d85df7c9d701e20367a95188982447f1715f6"
     "fd7a5b578866e2ad0af6691a7c10c5b1a9cac166dcd3478c58283170bf10e26b",
     "43d8f0c89e875824fcdf344485b4f78da006aad2a52c848660fd3b8fbb69c93f"
     "539780ae164889503fd8ec60a353e7cd397315693dfff492094e5838854ccf8f"
     "4101475fa7ed3ad0d24df5642202e732e22677c55faadbbbad1bac4020559a28"
     "77b70fd5389ff13bf7cf2b63a27cb19425d61a565182c3bd41385033b1dd1bfd"
     "6abec2d4cf9d0a90bdc57c3106badd26143c2fdbaf85dd964fbf369006391b5a"
     "c5b3a0449b59c12f83bdac4f183313c9de503c5e29faec72ce2c17af71167f82"
     "1af17fb5aa535e57267e8acf39c06db085be1624687f44408a7cc2d587c64b30"
     "bb37522c0bba353e35ee1b5631fbec421aef8c231f5ab76373d5d805b9645323"
     "6a03cb9b115d25d3"},
    {"cbc256_sha512", {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512, IKE_DH_NONE, false},
     "39f3ccf1c52402aa05e78a5cc15d85df7c9d701e20367a95188982447f1715f6"
     "fd7a5b578866e2ad0af6691a7c10c5b1a9cac166dcd3478c58283170bf10e26b",
     "43d8f0c89e875824fcdf344485b4f78da006aad2a52c848660fd3b8fbb69c93f"
     "539780ae164889503fd8ec60a353e7cd397315693dfff492094e5838854ccf8f"
     "4101475fa7ed3ad0d24df5642202e732e22677c55faadbbbad1bac4020559a28"
     "77b70fd5389ff13bf7cf2b63a27cb19425d61a565182c3bd41385033b1dd1bfd"
     "6abec2d4cf9d0a90bdc57c3106badd26143c2fdbaf85dd964fbf369006391b5a"
     "c5b3a0449b59c12f83bdac4f183313c9de503c5e29faec72ce2c17af71167f82"
     "1af17fb5aa535e57267e8acf39c06db085be1624687f44408a7cc2d587c64b30"
     "bb37522c0bba353e35ee1b5631fbec421aef8c231f5ab76373d5d805b9645323"
     "6a03cb9b115d25d3baab827459c1aa9923b7dfcaeab5fa94b1945bb7e3251e98"
     "d8525aa20ad6224ef8a94e69ced00fec7490a04d9fdbc865ef7b4387e9f446f4"
     "ce976ab249be09855a6bdce1edd260c90e014b12c6daae098ebe0a735b675637"
     "b31da15a1502be2fb86e9fff7ddf2285fa80cbeb6828ba7964816527a9233f10"},
};

/* Check k against the concatenated key material km. */
static void check_keys(const ike_keys_t *k, const uint8_t *km, size_t total) {
  const uint8_t *p = km;
  assert_int_equal((size_t)k->d_len + 2u * k->a_len + 2u * k->e_len + 2u * k->p_len, total);
  assert_memory_equal(k->sk_d, p, k->d_len);
  p += k->d_len;
  if (k->a_len > 0) {
    assert_memory_equal(k->sk_ai, p, k->a_len);
    assert_memory_equal(k->sk_ar, p + k->a_len, k->a_len);
  }
  p += 2u * k->a_len;
  assert_memory_equal(k->sk_ei, p, k->e_len);
  assert_memory_equal(k->sk_er, p + k->e_len, k->e_len);
  p += 2u * k->e_len;
  assert_memory_equal(k->sk_pi, p, k->p_len);
  assert_memory_equal(k->sk_pr, p + k->p_len, k->p_len);
}

static void test_ike_sa_keys(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
    uint8_t km[512], sks[64];
    size_t total = UNHEX(km, vecs[i].keymat);
    size_t sklen = UNHEX(sks, vecs[i].skeyseed);
    ike_keys_t k;
    assert_int_equal(ike_keys_derive(&vecs[i].s, ni, sizeof(ni), nr, sizeof(nr), gir,
                                     sizeof(gir), spi_i, spi_r, &k), 0);
    assert_int_equal(k.d_len, ike_prf_len(vecs[i].s.prf));
    assert_int_equal(k.p_len, sklen);
    assert_int_equal(k.e_len, ike_encr_key_len(vecs[i].s.encr, vecs[i].s.encr_bits));
    check_keys(&k, km, total);
    /* SKEYSEED itself is internal; re-derive it with the public PRF. */
    uint8_t nn[80], got[64];
    memcpy(nn, ni, 32);
    memcpy(nn + 32, nr, 48);
    assert_int_equal(ike_prf(vecs[i].s.prf, nn, 80, gir, 256, got), 0);
    assert_memory_equal(got, sks, sklen);
    ike_keys_wipe(&k);
    uint8_t zero[sizeof(k)];
    memset(zero, 0, sizeof(zero));
    assert_memory_equal(&k, zero, sizeof(k));
    print_message("%s: %zu bytes of key material match\n", vecs[i].name, total);
  }
}

/* RFC 7296 2.18: old PRF (SHA-384) keys SKEYSEED, the new PRF expands. */
static void test_rekey(void **state) {
  (void)state;
  ike_keys_t old, k;
  assert_int_equal(ike_keys_derive(&vecs[2].s, ni, sizeof(ni), nr, sizeof(nr), gir,
                                   sizeof(gir), spi_i, spi_r, &old), 0);
  uint8_t ni2[16], nr2[24], gir2[32], km[512];
  for (int i = 0; i < 16; i++) {
    ni2[i] = (uint8_t)(0xA0 + i);
  }
  for (int i = 0; i < 24; i++) {
    nr2[i] = (uint8_t)(0x33 * i + 1);
  }
  for (int i = 0; i < 32; i++) {
    gir2[i] = (uint8_t)(0x55 + 11 * i);
  }
  size_t total = UNHEX(km,
      "68e84bca07337c87ea96d7d4db82c76ef316b5096352a2a3be9e463ad0fdb4fe"
      "3ce5e3601ec28aa49080e007616c688e57a1c826639f45e6222d7ad92912912b"
      "ddf90ddf597793be1b14e965319ba19d9493f2cf64817c31fed21b8ee70c8ddf"
      "69fd3d7fa62d77773571df523be153df91787253d63f88e591c1e7feda30e358"
      "782586844e8bf5c6c04506edb9474c57ee8ed1b1ef7399426434202586dd5659"
      "80d36c5eefe79099a5a46df57a2020920bf785b558d2b41aecb3c08e84bdcc9a"
      "1e9a8b869a06bf395886b1ea941888ee0190d2cc261bb021b6156cfc70f13c12");
  assert_int_equal(ike_keys_derive_rekey(&vecs[0].s, IKE_PRF_HMAC_SHA2_384, old.sk_d,
                                         old.d_len, ni2, sizeof(ni2), nr2, sizeof(nr2),
                                         gir2, sizeof(gir2), 0x1111222233334444ull,
                                         0x5555666677778888ull, &k), 0);
  check_keys(&k, km, total);
  /* Expected SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). */
  uint8_t sks[48], got[48];
  UNHEX(sks, "7586c0b034ef9f73a0e323c0871cb923e762b6398ba5f66cf53f4aece5388797"
      "1d653c562269aa32c3340bfdfe42c91b");
  const uint8_t *d[3] = {gir2, ni2, nr2};
  size_t l[3] = {32, 16, 24};
  assert_int_equal(ike_prfv(IKE_PRF_HMAC_SHA2_384, old.sk_d, old.d_len, d, l, 3, got), 0);
  assert_memory_equal(got, sks, 48);
  ike_keys_wipe(&old);
  ike_keys_wipe(&k);
}

/* RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr), or with g^ir (new) first. */
static void test_child_keymat(void **state) {
  (void)state;
  ike_keys_t k;
  assert_int_equal(ike_keys_derive(&vecs[0].s, ni, sizeof(ni), nr, sizeof(nr), gir,
                                   sizeof(gir), spi_i, spi_r, &k), 0);
  uint8_t want[128], got[128];
  UNHEX(want, "b34a2da6db338bfa385ef3c1fbfe294f2e3304b865bea8782d96ed854c0e4c6e"
      "6fcbd23749dabf313e338cc81bc181c486777d1640abdb7c8cd89d7c9a1e4d71"
      "5935b07860597509ef76b561c09c32fa579e706508b4136f85f0a81649c770d7"
      "dbadab3d3113de796773b00e74c56d0efc3c2e12177f1c05e8a81a4de4b284cb");
  assert_int_equal(ike_child_keymat(IKE_PRF_HMAC_SHA2_256, k.sk_d, k.d_len, NULL, 0, ni,
                                    sizeof(ni), nr, sizeof(nr), got, sizeof(got)), 0);
  assert_memory_equal(got, want, 128);
  UNHEX(want, "3e3b447daf813b967e8d15008382e5ac6f31f64d95a7f6b0a5654432c7cb9f5f"
      "b68d5ed65dfb92c11e67703fefb96a4c3c80ec6d89073f7e0a6d25aecce63aed"
      "3f010f06b76f8004a148f4d62ebaba921177205c71180e3fdcbf45408520181e"
      "23ec3195c91a2456b08665cc86c6eaa23fddb04e4c5740255ede8db4e674f63a");
  assert_int_equal(ike_child_keymat(IKE_PRF_HMAC_SHA2_256, k.sk_d, k.d_len, gir, 32, ni,
                                    sizeof(ni), nr, sizeof(nr), got, sizeof(got)), 0);
  assert_memory_equal(got, want, 128);
  ike_keys_wipe(&k);
}

/* RFC 7296 2.15: AUTH = prf(prf(psk, "Key Pad for IKEv2"), msg | Ni | MACedID). */
static void test_auth_psk(void **state) {
  (void)state;
  ike_keys_t k;
  assert_int_equal(ike_keys_derive(&vecs[0].s, ni, sizeof(ni), nr, sizeof(nr), gir,
                                   sizeof(gir), spi_i, spi_r, &k), 0);
  static const uint8_t id_body[] = {1, 0, 0, 0, 192, 168, 0, 1};  /* ID_IPV4_ADDR */
  uint8_t msg[200], maced[64], auth[64], want[32];
  for (int i = 0; i < 200; i++) {
    msg[i] = (uint8_t)(5 * i + 9);
  }
  assert_int_equal(ike_auth_maced_id(IKE_PRF_HMAC_SHA2_256, k.sk_pr, k.p_len, id_body,
                                     sizeof(id_body), maced), 0);
  UNHEX(want, "ed49feadead79d6d88e0d53d3e4d9be1b18c2eedcf223b374cbe20290f179d7d");
  assert_memory_equal(maced, want, 32);
  assert_int_equal(ike_auth_psk(IKE_PRF_HMAC_SHA2_256, (const uint8_t *)"test-psk-0123", 13,
                                msg, sizeof(msg), ni, sizeof(ni), maced, auth), 0);
  UNHEX(want, "3f009d434a93ad46aab0a92196967ee7c97bbd2833f2cac01e8aa1d1ae71b5a9");
  assert_memory_equal(auth, want, 32);
  /* A different PSK gives a different AUTH. */
  assert_int_equal(ike_auth_psk(IKE_PRF_HMAC_SHA2_256, (const uint8_t *)"test-psk-0124", 13,
                                msg, sizeof(msg), ni, sizeof(ni), maced, auth), 0);
  assert_memory_not_equal(auth, want, 32);
  ike_keys_wipe(&k);
}

static void test_rejects(void **state) {
  (void)state;
  ike_keys_t k;
  ike_suite_t s = vecs[0].s;
  uint8_t big[257] = {0};
  assert_int_equal(ike_keys_derive(&s, big, 257, nr, 16, gir, 32, 1, 2, &k), -IKE_E_BAD_LENGTH);
  assert_int_equal(ike_keys_derive(&s, ni, 0, nr, 16, gir, 32, 1, 2, &k), -IKE_E_BAD_LENGTH);
  assert_int_equal(ike_keys_derive(&s, big, 256, big, 256, gir, 32, 1, 2, &k), 0);
  s.prf = 1;  /* HMAC-MD5 */
  assert_int_equal(ike_keys_derive(&s, ni, 32, nr, 16, gir, 32, 1, 2, &k), -IKE_E_UNSUPPORTED);
  s = vecs[2].s;
  s.integ = IKE_INTEG_HMAC_SHA1_96;  /* AEAD + INTEG */
  assert_int_equal(ike_keys_derive(&s, ni, 32, nr, 16, gir, 32, 1, 2, &k), -IKE_E_UNSUPPORTED);
  s = vecs[0].s;
  s.integ = IKE_INTEG_NONE;  /* CBC without INTEG */
  assert_int_equal(ike_keys_derive(&s, ni, 32, nr, 16, gir, 32, 1, 2, &k), -IKE_E_UNSUPPORTED);
  s = vecs[0].s;
  assert_int_equal(ike_keys_derive_rekey(&s, 99, gir, 32, ni, 32, nr, 16, gir, 32, 1, 2, &k),
                   -IKE_E_UNSUPPORTED);
}

int main(void) {
  fill_inputs();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ike_sa_keys), cmocka_unit_test(test_rekey),
      cmocka_unit_test(test_child_keymat), cmocka_unit_test(test_auth_psk),
      cmocka_unit_test(test_rejects),
  };
  return cmocka_run_group_tests(tests, vec_setup, vec_teardown);
}
