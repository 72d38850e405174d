/*
 * test_crypto_dh.c - key exchange: RFC 3526 group 14, RFC 5903 section 8
 * ECP vectors, RFC 7748 section 6.1 X25519, peer value validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>

#include "ike_crypto.h"
#include "crypto_vec.h"

/* RFC 3526 section 3, the 2048-bit MODP group prime, as printed in the RFC
 * (tests/unit/vectors/modp2048.py checks it against the RFC's formula). */
static const char *modp_p = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff";

/* Known-answer vector from tests/unit/vectors/modp2048.py (generator 2). */
static const char *modp_i = "79ade10eb0612219c5778971513edaac0257dab385895533f087447e9d3262e5";
static const char *modp_gi = "3d0bf60e6463e67c7368fef61327df7d4406c6debb013f525e889fab03cc8e116fb624c3692580d7df5e6b0373b45aaf70fcd99021623db38bc9253572765b667eb943c396efcd3175eb9784a5fc86ac9f2339d6794ba34feb29bd17b4c5a4a748b4acbdb939fe7e92509d7649fe07d8f947c89eb1f9bb377c6b5f1dd3444f18d3f9c305c948e194fda385b9f6e0fc4f2030dc4e5a7bb9da3167f314c6d668e2f6e3003abd9a7a532d9441d3bdfd7ff2cbf0247b889d776ea06ca776a51dbeb3481bea0f70beb98a5aa0969ddb105e33227d9bdab1b43082f434ba8695be77a58a1780e7ea49a7e1f35b3975ec6e678722fbd43a72c7da0303ecbb2df86512a5";
static const char *modp_r = "90b063af890a213a123decbb0bfba3d2efc1a6cf734e2cb83e0485b86e5613a7";
static const char *modp_gr = "929714769028548ba7322e032f076c1882fb6fc5e530cf2bbdb66d4fae3bc83938a003363a5fc4a4e87fa188bc1561f5218c5f2a32d053368f487b77f7d539c2909c7fe64707fcd35025958d152af977a852807e2c79dcde90be29a8ecc26183c9cc269ba00886165ed6ab3e12df8fca7292895a616370896db53d22fed14624e7f046bdfe2626719635699732cc67c07ac413811119d5624bc2481d7163e6158341d2fd4a657de9b0b3b659433fa24b8ccd2673fed6562ac39a90c767a4151fdb3851cbdb98db3e57c5df8e110b0ca583ee3b59b9f860e267b45558b1909a0c5ae502eb477aabd6f82aa1025be871f47942c8714225c10d916c974637ade727";
static const char *modp_gir = "3a30242e44491e1ec793ea26a93b98b9813faeb85643e39028f6fdd69ed4918db364c42f6cab4dcb952955ef4ea6c7bf65d6139c0894e2508e87749960c136bbfdd634b14cc301d1154efbf9a86c847d382a622221e33b81223dbfdd71df29feb779f735b61209b4922d03315c5f49de433dea7f15f995ad396babe5ec4b63ba15992fde59c290cab1b70728b2666c8ec3d4d1710209529c13be4f96b103db28b6fa767edf8ab294eb5cbc488f4615abf54951b1bf3762e3e4e294bbd22e62eaa80f3797983822f711271224d723cd05ad878004ae6b56c0c3200217245b341483df8fd1dd8fe9d4d419c6c4baa5ad5aff858c4cf2ad643f4ffa13ffaead7783";

static void test_modp_prime_rfc3526(void **state) {
  (void)state;
  uint8_t p[256], ours[256];
  assert_int_equal(UNHEX(p, modp_p), 256);
  BIGNUM *bp = BN_get_rfc3526_prime_2048(NULL);
  assert_non_null(bp);
  assert_int_equal(BN_bn2binpad(bp, ours, 256), 256);
  BN_free(bp);
  assert_memory_equal(p, ours, 256);
}

/* Generator 2 (RFC 3526 section 3): x = 1 gives 2, x = 5 gives 32. */
static void test_modp_generator(void **state) {
  (void)state;
  uint8_t one = 1, five = 5, pub[256], want[256] = {0};
  size_t len = 0;
  ike_dh_t *dh = NULL;
  assert_int_equal(ike_dh_new_from_priv(IKE_DH_MODP_2048, &one, 1, &dh), 0);
  assert_int_equal(ike_dh_public(dh, pub, sizeof(pub), &len), 0);
  assert_int_equal(len, 256);
  want[255] = 2;
  assert_memory_equal(pub, want, 256);
  ike_dh_free(dh);
  assert_int_equal(ike_dh_new_from_priv(IKE_DH_MODP_2048, &five, 1, &dh), 0);
  assert_int_equal(ike_dh_public(dh, pub, sizeof(pub), &len), 0);
  want[255] = 32;
  assert_memory_equal(pub, want, 256);
  ike_dh_free(dh);
}

static void kat(uint16_t group, const char *i, const char *gi, const char *r,
                const char *gr, const char *gir) {
  uint8_t bi[132], bgi[264], br[132], bgr[264], bgir[256], pub[IKE_MAX_DH_PUB],
      sec[IKE_MAX_DH_SECRET];
  size_t li = UNHEX(bi, i), lgi = UNHEX(bgi, gi), lr = UNHEX(br, r), lgr = UNHEX(bgr, gr),
         lgir = UNHEX(bgir, gir), len = 0;
  ike_dh_t *a = NULL, *b = NULL;
  assert_int_equal(ike_dh_new_from_priv(group, bi, li, &a), 0);
  assert_int_equal(ike_dh_new_from_priv(group, br, lr, &b), 0);
  assert_int_equal(ike_dh_group(a), group);
  assert_int_equal(ike_dh_public(a, pub, sizeof(pub), &len), 0);
  assert_int_equal(len, lgi);
  assert_int_equal(len, ike_dh_pub_len(group));
  assert_memory_equal(pub, bgi, lgi);
  assert_int_equal(ike_dh_public(b, pub, sizeof(pub), &len), 0);
  assert_int_equal(len, lgr);
  assert_memory_equal(pub, bgr, lgr);
  assert_int_equal(ike_dh_shared(a, bgr, lgr, sec, sizeof(sec), &len), 0);
  assert_int_equal(len, lgir);
  assert_memory_equal(sec, bgir, lgir);
  assert_int_equal(ike_dh_shared(b, bgi, lgi, sec, sizeof(sec), &len), 0);
  assert_int_equal(len, lgir);
  assert_memory_equal(sec, bgir, lgir);
  ike_dh_free(a);
  ike_dh_free(b);
}

static void test_modp_kat(void **state) {
  (void)state;
  kat(IKE_DH_MODP_2048, modp_i, modp_gi, modp_r, modp_gr, modp_gir);
}

/* RFC 5903 section 8.1, 256-bit random ECP group. */
static void test_ecp256_rfc5903(void **state) {
  (void)state;
  kat(IKE_DH_ECP_256, "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
      "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
      "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
      "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
      "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
      "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
      "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE");
}

/* RFC 5903 section 8.2, 384-bit random ECP group. */
static void test_ecp384_rfc5903(void **state) {
  (void)state;
  kat(IKE_DH_ECP_384,
      "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194",
      "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA"
      "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
      "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
      "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571"
      "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
      "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746");
}

/* RFC 5903 section 8.3, 521-bit random ECP group. */
static void test_ecp521_rfc5903(void **state) {
  (void)state;
  kat(IKE_DH_ECP_521,
      "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A095AA85A30FE1C2952C6771D937BA9777"
      "F5957B2639BAB072462F68C27A57382D4A52",
      "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBEE1E3BF42E00B8E380AEAE57C2D107564"
      "941885942AF5A7F4601723C4195D176CED3E"
      "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10AD8A788015AC405D7799DC75E7B7D5B6C"
      "F2261A6A7F1507438BF01BEB6CA3926F9582",
      "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E9C677D600B343757A3BDBF2A3163E4C2"
      "F869CCA7458AA4A4EFFC311F5CB151685EB9",
      "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A219B97C356436ADC6E95BB0352F6BE64A6"
      "C2912D4EF2D0433CED2B6171640012D9460F"
      "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87220B6536C5C408A1D2AEBB8E86D678AE"
      "49CB57091F4732296579AB44FCD17F0FC56A",
      "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04D1427E73CA4BAA240A34786859810C06"
      "B3C715A3A8CC3151F2BEE417996D19F3DDEA");
}

/* RFC 7748 section 6.1, X25519 Alice and Bob. */
static void test_x25519_rfc7748(void **state) {
  (void)state;
  kat(IKE_DH_CURVE25519, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
      "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
      "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

/* Fresh key pairs of every group agree with each other. */
static void test_random_pairs_agree(void **state) {
  (void)state;
  static const uint16_t groups[] = {IKE_DH_MODP_2048, IKE_DH_ECP_256, IKE_DH_ECP_384,
                                    IKE_DH_ECP_521, IKE_DH_CURVE25519};
  for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
    ike_dh_t *a = NULL, *b = NULL;
    uint8_t pa[IKE_MAX_DH_PUB], pb[IKE_MAX_DH_PUB], sa[IKE_MAX_DH_SECRET],
        sb[IKE_MAX_DH_SECRET];
    size_t la = 0, lb = 0, ls = 0, lt = 0;
    assert_true(ike_dh_supported(groups[g]));
    assert_int_equal(ike_dh_new(groups[g], &a), 0);
    assert_int_equal(ike_dh_new(groups[g], &b), 0);
    assert_int_equal(ike_dh_public(a, pa, sizeof(pa), &la), 0);
    assert_int_equal(ike_dh_public(b, pb, sizeof(pb), &lb), 0);
    assert_int_equal(la, ike_dh_pub_len(groups[g]));
    assert_int_equal(lb, la);
    assert_memory_not_equal(pa, pb, la);
    assert_int_equal(ike_dh_shared(a, pb, lb, sa, sizeof(sa), &ls), 0);
    assert_int_equal(ike_dh_shared(b, pa, la, sb, sizeof(sb), &lt), 0);
    assert_int_equal(ls, lt);
    assert_memory_equal(sa, sb, ls);
    ike_dh_free(a);
    ike_dh_free(b);
  }
}

static void expect_shared_err(ike_dh_t *dh, const uint8_t *peer, size_t n, int err) {
  uint8_t sec[IKE_MAX_DH_SECRET];
  size_t len = 99;
  assert_int_equal(ike_dh_shared(dh, peer, n, sec, sizeof(sec), &len), err);
  assert_int_equal(len, 0);
}

/* Issue 12 item 9: MODP-3072/4096/8192 (RFC 3526 sections 4, 5, 7; IKEv2
 * groups 15, 16, 18). For each: the KE data is the prime's size; x = 5 gives
 * 2^5 zero-padded (generator 2); two fixed private values agree, and the
 * shared secret equals g^(xa*xb) mod p computed here with BIGNUM alone from
 * the RFC's prime (its first and last 64 bits are ones, RFC 3526); a fresh
 * pair agrees; p - 1 and 1 are refused as peer values. */
static void test_modp_large_groups(void **state) {
  (void)state;
  static const struct {
    uint16_t id;
    size_t len;
    BIGNUM *(*prime)(BIGNUM *);
  } g[] = {{IKE_DH_MODP_3072, 384, BN_get_rfc3526_prime_3072},
           {IKE_DH_MODP_4096, 512, BN_get_rfc3526_prime_4096},
           {IKE_DH_MODP_8192, 1024, BN_get_rfc3526_prime_8192}};
  static uint8_t pa[IKE_MAX_DH_PUB], pb[IKE_MAX_DH_PUB], sa[IKE_MAX_DH_SECRET],
      sb[IKE_MAX_DH_SECRET], want[IKE_MAX_DH_SECRET];
  uint8_t xa[40], xb[40];
  for (size_t i = 0; i < sizeof(xa); i++) {
    xa[i] = (uint8_t)(0xa5 ^ (i * 7));
    xb[i] = (uint8_t)(0x3c + i * 13);
  }
  for (size_t k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
    size_t n = g[k].len, la = 0, lb = 0, ls = 0;
    assert_true(ike_dh_supported(g[k].id));
    assert_int_equal(ike_dh_pub_len(g[k].id), n);
    ike_dh_t *a = NULL, *b = NULL;
    uint8_t five = 5;
    assert_int_equal(ike_dh_new_from_priv(g[k].id, &five, 1, &a), 0);
    assert_int_equal(ike_dh_group(a), g[k].id);
    assert_int_equal(ike_dh_public(a, pa, sizeof(pa), &la), 0);
    assert_int_equal(la, n);
    memset(want, 0, n);
    want[n - 1] = 32;
    assert_memory_equal(pa, want, n);
    ike_dh_free(a);
    /* Fixed private values: both sides agree, and with BIGNUM's answer. */
    assert_int_equal(ike_dh_new_from_priv(g[k].id, xa, sizeof(xa), &a), 0);
    assert_int_equal(ike_dh_new_from_priv(g[k].id, xb, sizeof(xb), &b), 0);
    assert_int_equal(ike_dh_public(a, pa, sizeof(pa), &la), 0);
    assert_int_equal(ike_dh_public(b, pb, sizeof(pb), &lb), 0);
    assert_int_equal(ike_dh_shared(a, pb, lb, sa, sizeof(sa), &ls), 0);
    assert_int_equal(ls, n);
    assert_int_equal(ike_dh_shared(b, pa, la, sb, sizeof(sb), &ls), 0);
    assert_memory_equal(sa, sb, n);
    BIGNUM *p = g[k].prime(NULL), *ya = BN_bin2bn(pa, (int)n, NULL);
    BIGNUM *x = BN_bin2bn(xb, sizeof(xb), NULL), *z = BN_new();
    BN_CTX *bc = BN_CTX_new();
    assert_non_null(p);
    assert_int_equal(BN_num_bytes(p), (int)n);
    uint8_t pbytes[1024];
    assert_int_equal(BN_bn2binpad(p, pbytes, (int)n), (int)n);
    for (size_t j = 0; j < 8; j++) {
      assert_int_equal(pbytes[j], 0xff);
      assert_int_equal(pbytes[n - 1 - j], 0xff);
    }
    assert_int_equal(BN_mod_exp(z, ya, x, p, bc), 1);
    assert_int_equal(BN_bn2binpad(z, want, (int)n), (int)n);
    assert_memory_equal(sa, want, n);
    /* Peer values 1 and p - 1 refused; wrong length refused. */
    memset(pb, 0, n);
    pb[n - 1] = 1;
    expect_shared_err(a, pb, n, -IKE_E_BAD_SYNTAX);
    assert_int_equal(BN_sub_word(p, 1), 1);
    assert_int_equal(BN_bn2binpad(p, pb, (int)n), (int)n);
    expect_shared_err(a, pb, n, -IKE_E_BAD_SYNTAX);
    expect_shared_err(a, pb, n - 1, -IKE_E_BAD_LENGTH);
    BN_free(p);
    BN_free(ya);
    BN_free(x);
    BN_free(z);
    BN_CTX_free(bc);
    ike_dh_free(a);
    ike_dh_free(b);
    /* Fresh key pairs agree. */
    assert_int_equal(ike_dh_new(g[k].id, &a), 0);
    assert_int_equal(ike_dh_new(g[k].id, &b), 0);
    assert_int_equal(ike_dh_public(a, pa, sizeof(pa), &la), 0);
    assert_int_equal(ike_dh_public(b, pb, sizeof(pb), &lb), 0);
    assert_memory_not_equal(pa, pb, n);
    assert_int_equal(ike_dh_shared(a, pb, lb, sa, sizeof(sa), &ls), 0);
    assert_int_equal(ike_dh_shared(b, pa, la, sb, sizeof(sb), &ls), 0);
    assert_memory_equal(sa, sb, n);
    ike_dh_free(a);
    ike_dh_free(b);
  }
}

/* MODP peer value must satisfy 1 < y < p-1 and be exactly 256 bytes. */
static void test_modp_rejects(void **state) {
  (void)state;
  ike_dh_t *dh = NULL;
  uint8_t y[257] = {0};
  assert_int_equal(ike_dh_new(IKE_DH_MODP_2048, &dh), 0);
  expect_shared_err(dh, y, 256, -IKE_E_BAD_SYNTAX);        /* 0 */
  y[255] = 1;
  expect_shared_err(dh, y, 256, -IKE_E_BAD_SYNTAX);        /* 1 */
  assert_int_equal(UNHEX(y, modp_p), 256);
  expect_shared_err(dh, y, 256, -IKE_E_BAD_SYNTAX);        /* p */
  y[255] -= 1;
  expect_shared_err(dh, y, 256, -IKE_E_BAD_SYNTAX);        /* p - 1 */
  memset(y, 0xff, 256);
  expect_shared_err(dh, y, 256, -IKE_E_BAD_SYNTAX);        /* > p */
  memset(y, 0, sizeof(y));
  y[255] = 2;
  expect_shared_err(dh, y, 255, -IKE_E_BAD_LENGTH);
  expect_shared_err(dh, y, 257, -IKE_E_BAD_LENGTH);
  uint8_t sec[IKE_MAX_DH_SECRET];
  size_t len = 0;
  assert_int_equal(ike_dh_shared(dh, y, 256, sec, sizeof(sec), &len), 0); /* y = 2 ok */
  assert_int_equal(ike_dh_shared(dh, y, 256, sec, 255, &len), -IKE_E_NOSPACE);
  ike_dh_free(dh);
}

/* ECP: point not on the curve, coordinate >= p, wrong size. */
static void test_ecp_rejects(void **state) {
  (void)state;
  ike_dh_t *dh = NULL;
  uint8_t pt[64], bad[64];
  assert_int_equal(ike_dh_new(IKE_DH_ECP_256, &dh), 0);
  UNHEX(pt, "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
            "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB");
  memcpy(bad, pt, 64);
  bad[63] ^= 1;  /* y off by one: not on the curve */
  expect_shared_err(dh, bad, 64, -IKE_E_BAD_SYNTAX);
  memset(bad, 0, 64);  /* (0, 0) is not on P-256 (b != 0) */
  expect_shared_err(dh, bad, 64, -IKE_E_BAD_SYNTAX);
  /* x = p (P-256 prime, SEC 2 2.4.2): out of range even if reduced. */
  UNHEX(bad, "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF"
             "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB");
  expect_shared_err(dh, bad, 64, -IKE_E_BAD_SYNTAX);
  expect_shared_err(dh, pt, 63, -IKE_E_BAD_LENGTH);
  expect_shared_err(dh, pt, 65 - 1 - 32, -IKE_E_BAD_LENGTH);
  ike_dh_free(dh);
}

/* X25519: low-order points give an all-zero secret and must be refused
 * (RFC 7748 section 6.1 note, RFC 8031 section 2.3). */
static void test_x25519_rejects(void **state) {
  (void)state;
  ike_dh_t *dh = NULL;
  uint8_t u[33] = {0};
  assert_int_equal(ike_dh_new(IKE_DH_CURVE25519, &dh), 0);
  expect_shared_err(dh, u, 32, -IKE_E_BAD_SYNTAX);  /* u = 0 */
  u[0] = 1;
  expect_shared_err(dh, u, 32, -IKE_E_BAD_SYNTAX);  /* u = 1 (order 1... 4) */
  expect_shared_err(dh, u, 31, -IKE_E_BAD_LENGTH);
  expect_shared_err(dh, u, 33, -IKE_E_BAD_LENGTH);
  ike_dh_free(dh);
}

static void test_unsupported_and_bad_priv(void **state) {
  (void)state;
  ike_dh_t *dh = (ike_dh_t *)1;
  uint8_t zero[32] = {0};
  assert_int_equal(ike_dh_new(2, &dh), -IKE_E_UNSUPPORTED);  /* MODP-1024 */
  assert_null(dh);
  assert_false(ike_dh_supported(IKE_DH_NONE));
  assert_int_equal(ike_dh_pub_len(17), 0);  /* MODP-6144: not offered */
  assert_int_equal(ike_dh_new_from_priv(IKE_DH_ECP_256, zero, 32, &dh), -IKE_E_BAD_SYNTAX);
  assert_int_equal(ike_dh_new_from_priv(IKE_DH_CURVE25519, zero, 31, &dh), -IKE_E_BAD_LENGTH);
  ike_dh_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_modp_prime_rfc3526), cmocka_unit_test(test_modp_generator),
      cmocka_unit_test(test_modp_kat),           cmocka_unit_test(test_ecp256_rfc5903),
      cmocka_unit_test(test_ecp384_rfc5903),     cmocka_unit_test(test_ecp521_rfc5903),
      cmocka_unit_test(test_x25519_rfc7748),     cmocka_unit_test(test_random_pairs_agree),
      cmocka_unit_test(test_modp_rejects),       cmocka_unit_test(test_ecp_rejects),
      cmocka_unit_test(test_x25519_rejects),     cmocka_unit_test(test_unsupported_and_bad_priv),
      cmocka_unit_test(test_modp_large_groups),
  };
  return cmocka_run_group_tests(tests, vec_setup, vec_teardown);
}
