/*
 * ike_dh.c - IKEv2 key exchange: MODP-2048/3072/4096/8192 (RFC 3526 3-5, 7,
 * groups 14, 15, 16, 18), ECP-256/384/521 (RFC 5903, groups 19-21) and
 * Curve25519 (RFC 8031, group 31).
 *
 * One parameter template per group is built at init; key generation and the
 * import of peer values use EVP_PKEY_CTX_new_from_pkey(template), which takes
 * the key manager from the template instead of fetching it by name. (The
 * key-exchange method itself is looked up by EVP_PKEY_derive_init: OpenSSL
 * 3.0 has no API that takes a pre-fetched EVP_KEYEXCH.)
 *
 * Peer validation (RFC 7296 5.12, RFC 5903 7, RFC 8031 2.2): exact length;
 * MODP 1 < y < p-1 (sufficient for a safe prime, whose only small subgroup is
 * {1, p-1}); ECP the point must decode on the curve (OpenSSL checks while
 * importing 0x04|x|y, and rejects coordinates >= p); X25519 an all-zero
 * shared secret is refused.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "ike_crypto.h"
#include "ike_crypto_int.h"

enum { G_MODP2048 = 0, G_MODP3072, G_MODP4096, G_MODP8192, G_P256, G_P384, G_P521,
       G_X25519, G_COUNT };

/* MODP private exponent lengths. OpenSSL otherwise draws x in [1, q-1]
 * (the size of the prime), making every exponentiation many times slower.
 * RFC 3526 section 8 gives the strength of each group and asks for an
 * exponent of twice that many bits: 2048: 110-160 bits (320 here, which also
 * meets NIST SP 800-56A rev 3 5.6.1.1.1's 2 x 112), 3072: 130-200 (400),
 * 4096: 150-240 (480), 8192: 200-320 (640): the upper estimate each time. */
typedef struct {
  uint16_t id;
  const char *keytype;   /* OpenSSL key type */
  const char *group;     /* OpenSSL group name, NULL for X25519 */
  int nid;               /* EC curve NID (known-answer path only) */
  size_t coord;          /* MODP prime length, ECP coordinate length, X25519 key length */
  int priv_bits;         /* MODP private exponent bits; 0 = not MODP */
} group_prop_t;

static const group_prop_t groups[G_COUNT] = {
    {IKE_DH_MODP_2048, "DH", "modp_2048", 0, 256, 320},
    {IKE_DH_MODP_3072, "DH", "modp_3072", 0, 384, 400},
    {IKE_DH_MODP_4096, "DH", "modp_4096", 0, 512, 480},
    {IKE_DH_MODP_8192, "DH", "modp_8192", 0, 1024, 640},
    {IKE_DH_ECP_256, "EC", "P-256", NID_X9_62_prime256v1, 32, 0},
    {IKE_DH_ECP_384, "EC", "P-384", NID_secp384r1, 48, 0},
    {IKE_DH_ECP_521, "EC", "P-521", NID_secp521r1, 66, 0},
    {IKE_DH_CURVE25519, "X25519", NULL, 0, 32, 0},
};

static bool is_modp(int gi) {
  return groups[gi].priv_bits != 0;
}

struct ike_dh {
  int gi;                      /* index into groups[] */
  EVP_PKEY *pkey;              /* our key pair */
  size_t pub_len;
  uint8_t pub[IKE_MAX_DH_PUB]; /* KE data */
};

static struct {
  EVP_PKEY *tmpl[G_COUNT];  /* domain parameters (X25519: any key) */
  BIGNUM *p[G_COUNT], *pm1[G_COUNT]; /* MODP groups: prime and p-1 */
} dg;

static int group_index(uint16_t group) {
  for (int i = 0; i < G_COUNT; i++) {
    if (groups[i].id == group) {
      return i;
    }
  }
  return -1;
}

/* A failed OpenSSL call leaves entries on the thread's error queue; drop
 * them so peer-triggered failures do not accumulate. */
static int ossl_fail(int err) {
  ERR_clear_error();
  return err;
}

static EVP_PKEY *make_template(int gi) {
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, groups[gi].keytype, NULL);
  if (ctx == NULL) {
    return NULL;
  }
  if (groups[gi].group != NULL) {
    OSSL_PARAM p[2];
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                            (char *)groups[gi].group, 0);
    p[1] = OSSL_PARAM_construct_end();
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, p) != 1) {
      pkey = NULL;
    }
  } else if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_generate(ctx, &pkey) != 1) {
    pkey = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  return pkey;
}

int ike_dh_global_init(void) {
  for (int i = 0; i < G_COUNT; i++) {
    dg.tmpl[i] = make_template(i);
    if (dg.tmpl[i] == NULL) {
      return ossl_fail(-IKE_E_CRYPTO);
    }
  }
  /* The same primes OpenSSL's named groups use (RFC 3526 3, 4, 5, 7). */
  dg.p[G_MODP2048] = BN_get_rfc3526_prime_2048(NULL);
  dg.p[G_MODP3072] = BN_get_rfc3526_prime_3072(NULL);
  dg.p[G_MODP4096] = BN_get_rfc3526_prime_4096(NULL);
  dg.p[G_MODP8192] = BN_get_rfc3526_prime_8192(NULL);
  for (int i = 0; i < G_COUNT; i++) {
    if (!is_modp(i)) {
      continue;
    }
    dg.pm1[i] = dg.p[i] != NULL ? BN_dup(dg.p[i]) : NULL;
    if (dg.pm1[i] == NULL || BN_sub_word(dg.pm1[i], 1) != 1 ||
        (size_t)BN_num_bytes(dg.p[i]) != groups[i].coord) {
      return ossl_fail(-IKE_E_CRYPTO);
    }
  }
  return 0;
}

void ike_dh_global_cleanup(void) {
  for (int i = 0; i < G_COUNT; i++) {
    EVP_PKEY_free(dg.tmpl[i]);
    BN_free(dg.p[i]);
    BN_free(dg.pm1[i]);
  }
  memset(&dg, 0, sizeof(dg));
}

/* Import key material of group gi through its template's key manager. */
static EVP_PKEY *import_key(int gi, int selection, const OSSL_PARAM *params) {
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dg.tmpl[gi], NULL);
  if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, selection, (OSSL_PARAM *)params) != 1) {
    pkey = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  return pkey;
}

/* Fill dh->pub with the KE data encoding of dh->pkey. */
static int export_public(ike_dh_t *dh) {
  const group_prop_t *g = &groups[dh->gi];
  size_t want = ike_dh_pub_len(g->id);
  if (is_modp(dh->gi)) {
    BIGNUM *y = NULL;
    int ok = EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) == 1 &&
             BN_bn2binpad(y, dh->pub, (int)want) == (int)want;
    BN_free(y);
    dh->pub_len = want;
    return ok ? 0 : ossl_fail(-IKE_E_CRYPTO);
  }
  uint8_t enc[1 + IKE_MAX_DH_PUB];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(dh->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                      enc, sizeof(enc), &len) != 1) {
    return ossl_fail(-IKE_E_CRYPTO);
  }
  if (g->id == IKE_DH_CURVE25519) {
    if (len != want) {
      return -IKE_E_CRYPTO;
    }
    memcpy(dh->pub, enc, want);
  } else {
    /* Uncompressed SEC1 point: 0x04 | x | y; KE data drops the 0x04 (RFC 5903 7). */
    if (len != want + 1 || enc[0] != 0x04) {
      return -IKE_E_CRYPTO;
    }
    memcpy(dh->pub, enc + 1, want);
  }
  dh->pub_len = want;
  return 0;
}

static int dh_wrap(int gi, EVP_PKEY *pkey, ike_dh_t **out) {
  ike_dh_t *dh = calloc(1, sizeof(*dh));
  if (dh == NULL) {
    EVP_PKEY_free(pkey);
    return -IKE_E_NOMEM;
  }
  dh->gi = gi;
  dh->pkey = pkey;
  int rc = export_public(dh);
  if (rc != 0) {
    ike_dh_free(dh);
    return rc;
  }
  *out = dh;
  return 0;
}

/* X25519 private key from 32 bytes (clamping is done by OpenSSL, RFC 7748 5). */
static EVP_PKEY *x25519_from_priv(const uint8_t *priv) {
  OSSL_PARAM p[2];
  p[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)priv, 32);
  p[1] = OSSL_PARAM_construct_end();
  return import_key(G_X25519, EVP_PKEY_KEYPAIR, p);
}

/* MODP private exponent length (group_prop_t.priv_bits). */
static int set_modp_priv_len(EVP_PKEY_CTX *ctx, int gi) {
  int bits = groups[gi].priv_bits;
  OSSL_PARAM p[2];
  p[0] = OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &bits);
  p[1] = OSSL_PARAM_construct_end();
  return EVP_PKEY_CTX_set_params(ctx, p);
}

int ike_dh_new(uint16_t group, ike_dh_t **out) {
  int gi = group_index(group);
  if (out == NULL) {
    return -IKE_E_CRYPTO;
  }
  *out = NULL;
  if (gi < 0) {
    return -IKE_E_UNSUPPORTED;
  }
  if (!ike_crypto_ready()) {
    return -IKE_E_CRYPTO;
  }
  EVP_PKEY *pkey = NULL;
  if (gi == G_X25519) {
    uint8_t priv[32];
    if (ike_random(priv, sizeof(priv)) == 0) {
      pkey = x25519_from_priv(priv);
    }
    ike_wipe(priv, sizeof(priv));
  } else {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dg.tmpl[gi], NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
        (is_modp(gi) && set_modp_priv_len(ctx, gi) != 1) ||
        EVP_PKEY_generate(ctx, &pkey) != 1) {
      pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
  }
  if (pkey == NULL) {
    return ossl_fail(-IKE_E_CRYPTO);
  }
  return dh_wrap(gi, pkey, out);
}

/* MODP key pair from x: y = 2^x mod p (RFC 3526, generator 2). */
static EVP_PKEY *modp_from_priv(int gi, const uint8_t *priv, size_t len) {
  EVP_PKEY *pkey = NULL;
  BN_CTX *bctx = BN_CTX_new();
  BIGNUM *x = BN_secure_new(), *y = BN_new(), *two = BN_new();
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  if (bctx == NULL || x == NULL || y == NULL || two == NULL || bld == NULL ||
      BN_bin2bn(priv, (int)len, x) == NULL || BN_is_zero(x) ||
      BN_cmp(x, dg.pm1[gi]) >= 0 || BN_set_word(two, 2) != 1 ||
      BN_mod_exp(y, two, x, dg.p[gi], bctx) != 1) {
    goto done;
  }
  if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, groups[gi].group,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) != 1 ||
      (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
    goto done;
  }
  pkey = import_key(gi, EVP_PKEY_KEYPAIR, params);
done:
  OSSL_PARAM_free(params);  /* clears the secure block holding x */
  OSSL_PARAM_BLD_free(bld);
  BN_clear_free(x);
  BN_free(y);
  BN_free(two);
  BN_CTX_free(bctx);
  return pkey;
}

/* ECP key pair from the scalar: Q = d*G computed with EC_POINT_mul. */
static EVP_PKEY *ecp_from_priv(int gi, const uint8_t *priv, size_t len) {
  EVP_PKEY *pkey = NULL;
  EC_GROUP *grp = EC_GROUP_new_by_curve_name(groups[gi].nid);
  EC_POINT *q = grp != NULL ? EC_POINT_new(grp) : NULL;
  BIGNUM *d = BN_secure_new();
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  uint8_t enc[1 + 2 * 66];
  size_t enc_len = 1 + 2 * groups[gi].coord;
  if (q == NULL || d == NULL || bld == NULL || BN_bin2bn(priv, (int)len, d) == NULL ||
      BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0 ||
      EC_POINT_mul(grp, q, d, NULL, NULL, NULL) != 1 ||
      EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, enc, enc_len, NULL) !=
          enc_len) {
    goto done;
  }
  if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                      groups[gi].group, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, enc, enc_len) != 1 ||
      (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
    goto done;
  }
  pkey = import_key(gi, EVP_PKEY_KEYPAIR, params);
done:
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_clear_free(d);
  EC_POINT_free(q);
  EC_GROUP_free(grp);
  return pkey;
}

int ike_dh_new_from_priv(uint16_t group, const uint8_t *priv, size_t len,
                         ike_dh_t **out) {
  int gi = group_index(group);
  if (out == NULL || priv == NULL) {
    return -IKE_E_CRYPTO;
  }
  *out = NULL;
  if (gi < 0) {
    return -IKE_E_UNSUPPORTED;
  }
  if (!ike_crypto_ready()) {
    return -IKE_E_CRYPTO;
  }
  EVP_PKEY *pkey = NULL;
  if (gi == G_X25519) {
    if (len != 32) {
      return -IKE_E_BAD_LENGTH;
    }
    pkey = x25519_from_priv(priv);
  } else {
    if (len == 0 || len > groups[gi].coord) {
      return -IKE_E_BAD_LENGTH;
    }
    pkey = is_modp(gi) ? modp_from_priv(gi, priv, len) : ecp_from_priv(gi, priv, len);
  }
  if (pkey == NULL) {
    return ossl_fail(-IKE_E_BAD_SYNTAX);
  }
  return dh_wrap(gi, pkey, out);
}

int ike_dh_public(const ike_dh_t *dh, uint8_t *out, size_t cap, size_t *len) {
  if (dh == NULL || out == NULL || len == NULL) {
    return -IKE_E_CRYPTO;
  }
  if (cap < dh->pub_len) {
    return -IKE_E_NOSPACE;
  }
  memcpy(out, dh->pub, dh->pub_len);
  *len = dh->pub_len;
  return 0;
}

/* Import the peer's KE data as a public key after the range/size checks. */
static EVP_PKEY *import_peer(int gi, const uint8_t *peer, size_t n) {
  if (is_modp(gi)) {
    EVP_PKEY *pkey = NULL;
    BIGNUM *y = BN_bin2bn(peer, (int)n, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    /* RFC 7296 5.12 / NIST SP 800-56A 5.6.2.3.1: 1 < y < p-1. */
    if (y != NULL && bld != NULL && BN_cmp(y, BN_value_one()) > 0 &&
        BN_cmp(y, dg.pm1[gi]) < 0 &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, groups[gi].group,
                                        0) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL) {
      pkey = import_key(gi, EVP_PKEY_PUBLIC_KEY, params);
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(y);
    return pkey;
  }
  OSSL_PARAM p[3];
  int np = 0;
  uint8_t enc[1 + 2 * 66];
  const uint8_t *pub = peer;
  size_t pub_len = n;
  if (gi != G_X25519) {
    enc[0] = 0x04;  /* uncompressed point (RFC 5903 7 omits the prefix) */
    memcpy(enc + 1, peer, n);
    pub = enc;
    pub_len = n + 1;
    p[np++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                               (char *)groups[gi].group, 0);
  }
  p[np++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub,
                                              pub_len);
  p[np] = OSSL_PARAM_construct_end();
  return import_key(gi, EVP_PKEY_PUBLIC_KEY, p);
}

static bool all_zero(const uint8_t *b, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc |= b[i];
  }
  return acc == 0;
}

int ike_dh_shared(ike_dh_t *dh, const uint8_t *peer, size_t peer_len, uint8_t *out,
                  size_t cap, size_t *len) {
  if (dh == NULL || peer == NULL || out == NULL || len == NULL) {
    return -IKE_E_CRYPTO;
  }
  *len = 0;
  const group_prop_t *g = &groups[dh->gi];
  size_t want = g->coord;  /* MODP: prime size; ECP: x only (RFC 5903 7); X25519: 32 */
  if (peer_len != dh->pub_len) {
    return -IKE_E_BAD_LENGTH;
  }
  if (cap < want) {
    return -IKE_E_NOSPACE;
  }
  EVP_PKEY *peer_key = import_peer(dh->gi, peer, peer_len);
  if (peer_key == NULL) {
    return ossl_fail(-IKE_E_BAD_SYNTAX);
  }
  int rc = -IKE_E_CRYPTO;
  size_t slen = want;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
  if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
      (is_modp(dh->gi) && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1)) {
    goto done;
  }
  /* Validation was done above (import checks); skip OpenSSL's full public
   * key check, which for DH costs another full-size exponentiation. */
  if (EVP_PKEY_derive_set_peer_ex(ctx, peer_key, 0) != 1) {
    rc = -IKE_E_BAD_SYNTAX;
    goto done;
  }
  if (EVP_PKEY_derive(ctx, out, &slen) != 1) {
    /* X25519: OpenSSL refuses a low-order peer (all-zero result). */
    rc = dh->gi == G_X25519 ? -IKE_E_BAD_SYNTAX : -IKE_E_CRYPTO;
    goto done;
  }
  if (slen < want) {  /* left-pad to the fixed size (RFC 7296 2.14 for MODP) */
    memmove(out + (want - slen), out, slen);
    memset(out, 0, want - slen);
  } else if (slen > want) {
    goto done;
  }
  if (dh->gi == G_X25519 && all_zero(out, want)) {
    rc = -IKE_E_BAD_SYNTAX;  /* RFC 8031 2.3 */
    goto done;
  }
  *len = want;
  rc = 0;
done:
  if (rc != 0) {
    ike_wipe(out, want);
    ERR_clear_error();
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer_key);
  return rc;
}

void ike_dh_free(ike_dh_t *dh) {
  if (dh == NULL) {
    return;
  }
  EVP_PKEY_free(dh->pkey);  /* providers clear private key material on free */
  ike_wipe(dh, sizeof(*dh));
  free(dh);
}

uint16_t ike_dh_group(const ike_dh_t *dh) {
  return dh != NULL ? groups[dh->gi].id : IKE_DH_NONE;
}
