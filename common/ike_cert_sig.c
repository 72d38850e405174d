/*
 * ike_cert_sig.c - AUTH signatures with certificates: RSA_SIG (RFC 7296 3.8),
 * ECDSA methods 9-11 (RFC 4754) and Digital Signature (RFC 7427 3).
 *
 * RFC 7427 method 14 AUTH data:
 *   1 byte  ASN.1 length L of the AlgorithmIdentifier
 *   L bytes DER AlgorithmIdentifier (OID + parameters)
 *   rest    signature (RSA: modulus-sized; ECDSA: DER Ecdsa-Sig-Value)
 * RFC 4754 7: methods 9-11 carry r|s, each zero-padded to the field size.
 */
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ike_cert_int.h"
#include "ike_wire.h"

#define MAX_DER_SIG 160u  /* DER ECDSA-Sig-Value for P-521: 2 * (66 + 3) + 3 */

/* The signature scheme parsed from (or chosen for) an AUTH payload. */
typedef struct sig_alg {
  ike_cert_key_t key;   /* RSA, or the curve the method demands (NONE = any EC) */
  bool ec;
  bool pss;
  uint8_t hash;         /* IKE_HASH_* of the message digest */
  uint8_t mgf1_hash;    /* PSS */
  int salt_len;         /* PSS */
} sig_alg_t;

/* Field size in bytes of r and s (RFC 4754 7). */
static size_t ec_field_len(ike_cert_key_t k)
{
  return k == IKE_CERT_KEY_P256 ? 32 : k == IKE_CERT_KEY_P384 ? 48
         : k == IKE_CERT_KEY_P521 ? 66 : 0;
}

static uint8_t ec_hash(ike_cert_key_t k)
{
  return k == IKE_CERT_KEY_P256 ? IKE_HASH_SHA2_256
         : k == IKE_CERT_KEY_P384 ? IKE_HASH_SHA2_384 : IKE_HASH_SHA2_512;
}

/* The key class of a classic ECDSA method (9, 10, 11). */
static ike_cert_key_t ec_method_key(uint8_t method)
{
  return method == IKE_AUTH_ECDSA_256 ? IKE_CERT_KEY_P256
         : method == IKE_AUTH_ECDSA_384 ? IKE_CERT_KEY_P384
         : method == IKE_AUTH_ECDSA_521 ? IKE_CERT_KEY_P521 : IKE_CERT_KEY_NONE;
}

static uint8_t hash_of_nid(int nid)
{
  switch (nid) {
  case NID_sha256:
    return IKE_HASH_SHA2_256;
  case NID_sha384:
    return IKE_HASH_SHA2_384;
  case NID_sha512:
    return IKE_HASH_SHA2_512;
  default:
    return 0; /* SHA-1 and everything else refused */
  }
}

/* --- EVP sign / verify over pieces --- */

static int setup_pctx(EVP_PKEY_CTX *pctx, const sig_alg_t *a)
{
  if (!a->pss) {
    return (!a->ec && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
               ? -IKE_E_CRYPTO : 0;
  }
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, a->salt_len) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, ike_cert_md(a->mgf1_hash)) != 1) {
    return -IKE_E_CRYPTO;
  }
  return 0;
}

/* Sign; with algid != NULL also return the DER AlgorithmIdentifier the
 * provider reports for the scheme (RFC 7427 A). */
static int evp_sign(EVP_PKEY *key, const sig_alg_t *a, const uint8_t *const *data,
                    const size_t *dlen, size_t n, uint8_t *sig, size_t cap,
                    size_t *slen, uint8_t *algid, size_t acap, size_t *alen)
{
  const EVP_MD *md = ike_cert_md(a->hash);
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  int rc = -IKE_E_CRYPTO;
  if (md == NULL || mctx == NULL ||
      EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1 || setup_pctx(pctx, a) != 0) {
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    if (EVP_DigestSignUpdate(mctx, data[i], dlen[i]) != 1) {
      goto done;
    }
  }
  size_t need = 0;
  if (EVP_DigestSignFinal(mctx, NULL, &need) != 1 || need > cap) {
    rc = need > cap ? -IKE_E_NOSPACE : -IKE_E_CRYPTO;
    goto done;
  }
  *slen = cap;
  if (EVP_DigestSignFinal(mctx, sig, slen) != 1) {
    goto done;
  }
  if (algid != NULL) {
    OSSL_PARAM p[2] = {OSSL_PARAM_construct_octet_string(
                           OSSL_SIGNATURE_PARAM_ALGORITHM_ID, algid, acap),
                       OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_get_params(pctx, p) != 1 || !OSSL_PARAM_modified(&p[0]) ||
        p[0].return_size < 2 || p[0].return_size > 255) {
      goto done;
    }
    *alen = p[0].return_size;
  }
  rc = 0;
done:
  EVP_MD_CTX_free(mctx);
  ERR_clear_error();
  return rc;
}

static int evp_verify(EVP_PKEY *pub, const sig_alg_t *a, const uint8_t *sig,
                      size_t slen, const uint8_t *const *data, const size_t *dlen,
                      size_t n)
{
  const EVP_MD *md = ike_cert_md(a->hash);
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  int rc = -IKE_E_BAD_SIGNATURE;
  if (md == NULL || mctx == NULL ||
      EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pub) != 1 || setup_pctx(pctx, a) != 0) {
    rc = -IKE_E_CRYPTO;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    if (EVP_DigestVerifyUpdate(mctx, data[i], dlen[i]) != 1) {
      goto done;
    }
  }
  if (EVP_DigestVerifyFinal(mctx, sig, slen) == 1) {
    rc = 0;
  }
done:
  EVP_MD_CTX_free(mctx);
  ERR_clear_error();
  return rc;
}

/* --- ECDSA r|s <-> DER (RFC 4754 7) --- */

static int rs_to_der(const uint8_t *rs, size_t flen, uint8_t *der, size_t cap,
                     size_t *len)
{
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(rs, (int)flen, NULL);
  BIGNUM *s = BN_bin2bn(rs + flen, (int)flen, NULL);
  int rc = -IKE_E_CRYPTO;
  if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
    r = s = NULL; /* owned by es */
    int n = i2d_ECDSA_SIG(es, NULL);
    if (n > 0 && (size_t)n <= cap) {
      unsigned char *p = der;
      i2d_ECDSA_SIG(es, &p);
      *len = (size_t)n;
      rc = 0;
    }
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(es);
  return rc;
}

static int der_to_rs(const uint8_t *der, size_t len, size_t flen, uint8_t *rs)
{
  const unsigned char *p = der;
  ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
  int rc = -IKE_E_CRYPTO;
  if (es != NULL) {
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, rs, (int)flen) == (int)flen &&
        BN_bn2binpad(s, rs + flen, (int)flen) == (int)flen) {
      rc = 0;
    }
  }
  ECDSA_SIG_free(es);
  return rc;
}

/* --- Method 14 AlgorithmIdentifier parsing (RFC 7427 3, A) --- */

/* RSASSA-PSS-params (RFC 4055 3.1): SHA-2 hash, MGF1 with SHA-2, salt. */
static int parse_pss(const X509_ALGOR *alg, sig_alg_t *a)
{
  int ptype = 0;
  const void *pval = NULL;
  X509_ALGOR_get0(NULL, &ptype, &pval, alg);
  if (ptype != V_ASN1_SEQUENCE || pval == NULL) {
    return -IKE_E_UNSUPPORTED; /* absent = all SHA-1 defaults */
  }
  const ASN1_STRING *seq = pval;
  const unsigned char *p = ASN1_STRING_get0_data(seq);
  long plen = ASN1_STRING_length(seq);
  RSA_PSS_PARAMS *pss = d2i_RSA_PSS_PARAMS(NULL, &p, plen);
  X509_ALGOR *mgf_md = NULL;
  int rc = -IKE_E_UNSUPPORTED;
  if (pss == NULL || pss->hashAlgorithm == NULL || pss->maskGenAlgorithm == NULL ||
      OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1) {
    goto done;
  }
  a->hash = hash_of_nid(OBJ_obj2nid(pss->hashAlgorithm->algorithm));
  X509_ALGOR_get0(NULL, &ptype, &pval, pss->maskGenAlgorithm);
  if (ptype == V_ASN1_SEQUENCE && pval != NULL) {
    p = ASN1_STRING_get0_data(pval);
    mgf_md = d2i_X509_ALGOR(NULL, &p, ASN1_STRING_length(pval));
  }
  a->mgf1_hash = mgf_md ? hash_of_nid(OBJ_obj2nid(mgf_md->algorithm)) : 0;
  long salt = pss->saltLength ? ASN1_INTEGER_get(pss->saltLength) : 20;
  long trailer = pss->trailerField ? ASN1_INTEGER_get(pss->trailerField) : 1;
  if (a->hash == 0 || a->mgf1_hash == 0 || salt < 0 || salt > 512 || trailer != 1) {
    goto done;
  }
  a->salt_len = (int)salt;
  a->pss = true;
  a->key = IKE_CERT_KEY_RSA;
  rc = 0;
done:
  X509_ALGOR_free(mgf_md);
  RSA_PSS_PARAMS_free(pss);
  return rc;
}

/* Map the AlgorithmIdentifier to a scheme; -IKE_E_UNSUPPORTED if unknown. */
static int parse_algid(const X509_ALGOR *alg, sig_alg_t *a)
{
  const ASN1_OBJECT *obj = NULL;
  int ptype = 0;
  X509_ALGOR_get0(&obj, &ptype, NULL, alg);
  int nid = OBJ_obj2nid(obj);
  memset(a, 0, sizeof *a);
  switch (nid) {
  case NID_sha256WithRSAEncryption:
  case NID_sha384WithRSAEncryption:
  case NID_sha512WithRSAEncryption:
    /* Parameters NULL (RFC 4055 5) or, leniently, absent. */
    if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
      return -IKE_E_UNSUPPORTED;
    }
    a->key = IKE_CERT_KEY_RSA;
    a->hash = nid == NID_sha256WithRSAEncryption ? IKE_HASH_SHA2_256
              : nid == NID_sha384WithRSAEncryption ? IKE_HASH_SHA2_384
                                                   : IKE_HASH_SHA2_512;
    return 0;
  case NID_ecdsa_with_SHA256:
  case NID_ecdsa_with_SHA384:
  case NID_ecdsa_with_SHA512:
    if (ptype != V_ASN1_UNDEF) { /* RFC 5758 3.2: parameters absent */
      return -IKE_E_UNSUPPORTED;
    }
    a->ec = true;
    a->hash = nid == NID_ecdsa_with_SHA256 ? IKE_HASH_SHA2_256
              : nid == NID_ecdsa_with_SHA384 ? IKE_HASH_SHA2_384
                                             : IKE_HASH_SHA2_512;
    return 0;
  case NID_rsassaPss:
    return parse_pss(alg, a);
  default:
    return -IKE_E_UNSUPPORTED;
  }
}

/* The key of the certificate fits the scheme (and for 9-11 the curve). */
static bool key_fits(ike_cert_key_t have, const sig_alg_t *a)
{
  if (have == IKE_CERT_KEY_NONE) {
    return false;
  }
  if (!a->ec) {
    return have == IKE_CERT_KEY_RSA;
  }
  return have != IKE_CERT_KEY_RSA && (a->key == IKE_CERT_KEY_NONE || a->key == have);
}

static int verify_ds(const ike_cert_peer_t *c, const uint8_t *auth, size_t auth_len,
                     const uint8_t *const *data, const size_t *dlen, size_t n)
{
  if (auth_len < 1) {
    return -IKE_E_TRUNC;
  }
  size_t l = auth[0];
  if (l < 2 || auth_len < 1 + l + 1) {
    return -IKE_E_TRUNC;
  }
  const unsigned char *p = auth + 1;
  X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, (long)l);
  sig_alg_t a;
  int rc = -IKE_E_BAD_SYNTAX;
  if (alg != NULL && p == auth + 1 + l) {
    rc = parse_algid(alg, &a);
  }
  X509_ALGOR_free(alg);
  ERR_clear_error();
  if (rc != 0) {
    return rc;
  }
  if (!key_fits(ike_cert_key_class(c->pub), &a)) {
    return -IKE_E_UNSUPPORTED;
  }
  return evp_verify(c->pub, &a, auth + 1 + l, auth_len - 1 - l, data, dlen, n);
}

int ike_cert_verify(const ike_cert_peer_t *c, uint8_t method, const uint8_t *auth,
                    size_t auth_len, const uint8_t *const *data, const size_t *dlen,
                    size_t n)
{
  if (c == NULL || (auth == NULL && auth_len > 0)) {
    return -IKE_E_BAD_SYNTAX;
  }
  ike_cert_key_t have = ike_cert_key_class(c->pub);
  sig_alg_t a;
  memset(&a, 0, sizeof a);
  switch (method) {
  case IKE_AUTH_DIGITAL_SIGNATURE:
    return verify_ds(c, auth, auth_len, data, dlen, n);
  case IKE_AUTH_RSA_SIG:
    a.key = IKE_CERT_KEY_RSA;
    a.hash = IKE_HASH_SHA1;
    if (!key_fits(have, &a)) {
      return -IKE_E_UNSUPPORTED;
    }
    return evp_verify(c->pub, &a, auth, auth_len, data, dlen, n);
  case IKE_AUTH_ECDSA_256:
  case IKE_AUTH_ECDSA_384:
  case IKE_AUTH_ECDSA_521: {
    a.ec = true;
    a.key = ec_method_key(method);
    a.hash = ec_hash(a.key);
    size_t flen = ec_field_len(a.key);
    uint8_t der[MAX_DER_SIG];
    size_t dl = 0;
    if (!key_fits(have, &a)) {
      return -IKE_E_UNSUPPORTED;
    }
    if (auth_len != 2 * flen) {
      return -IKE_E_BAD_LENGTH;
    }
    if (rs_to_der(auth, flen, der, sizeof der, &dl) != 0) {
      return -IKE_E_BAD_SIGNATURE;
    }
    return evp_verify(c->pub, &a, der, dl, data, dlen, n);
  }
  default:
    return -IKE_E_UNSUPPORTED;
  }
}

/* --- Signing --- */

static int sign_ds(EVP_PKEY *key, const sig_alg_t *a, const uint8_t *const *data,
                   const size_t *dlen, size_t n, uint8_t *out, size_t cap,
                   size_t *out_len)
{
  uint8_t algid[256];
  size_t alen = 0, slen = 0;
  uint8_t sig[IKE_CERT_MAX_SIG];
  int rc = evp_sign(key, a, data, dlen, n, sig, sizeof sig, &slen, algid,
                    sizeof algid, &alen);
  if (rc != 0) {
    return rc;
  }
  if (1 + alen + slen > cap) {
    return -IKE_E_NOSPACE;
  }
  out[0] = (uint8_t)alen;
  memcpy(out + 1, algid, alen);
  memcpy(out + 1 + alen, sig, slen);
  *out_len = 1 + alen + slen;
  return 0;
}

int ike_cert_sign_method(const ike_cert_store_t *s, uint8_t method, uint8_t hash,
                         int pss, const uint8_t *const *data, const size_t *dlen,
                         size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
  if (s == NULL || s->key == NULL) {
    return -IKE_E_UNTRUSTED;
  }
  ike_cert_key_t have = ike_cert_key_class(s->key);
  sig_alg_t a;
  memset(&a, 0, sizeof a);
  a.ec = have != IKE_CERT_KEY_RSA;
  a.key = have;
  switch (method) {
  case IKE_AUTH_DIGITAL_SIGNATURE:
    a.hash = hash;
    if (hash < IKE_HASH_SHA2_256 || hash > IKE_HASH_SHA2_512) {
      return -IKE_E_UNSUPPORTED;
    }
    if (pss && !a.ec) {
      a.pss = true;
      a.mgf1_hash = hash;
      a.salt_len = EVP_MD_get_size(ike_cert_md(hash)); /* RFC 7427 A.4 style */
    }
    return sign_ds(s->key, &a, data, dlen, n, out, cap, out_len);
  case IKE_AUTH_RSA_SIG:
    if (have != IKE_CERT_KEY_RSA) {
      return -IKE_E_UNSUPPORTED;
    }
    a.hash = IKE_HASH_SHA1;
    return evp_sign(s->key, &a, data, dlen, n, out, cap, out_len, NULL, 0, NULL);
  case IKE_AUTH_ECDSA_256:
  case IKE_AUTH_ECDSA_384:
  case IKE_AUTH_ECDSA_521: {
    if (ec_method_key(method) != have) {
      return -IKE_E_UNSUPPORTED;
    }
    size_t flen = ec_field_len(have), dl = 0;
    uint8_t der[MAX_DER_SIG];
    a.hash = ec_hash(have);
    if (cap < 2 * flen) {
      return -IKE_E_NOSPACE;
    }
    int rc = evp_sign(s->key, &a, data, dlen, n, der, sizeof der, &dl, NULL, 0, NULL);
    if (rc == 0) {
      rc = der_to_rs(der, dl, flen, out);
    }
    *out_len = 2 * flen;
    return rc;
  }
  default:
    return -IKE_E_UNSUPPORTED;
  }
}

int ike_cert_sign(const ike_cert_store_t *s, uint8_t hashes, int pss,
                  const uint8_t *const *data, const size_t *dlen, size_t n,
                  uint8_t *method, uint8_t *out, size_t cap, size_t *out_len)
{
  if (s == NULL || s->key == NULL) {
    return -IKE_E_UNTRUSTED;
  }
  ike_cert_key_t have = ike_cert_key_class(s->key);
  const uint8_t sha2 = IKE_CERT_HASH_BIT(IKE_HASH_SHA2_256) |
                       IKE_CERT_HASH_BIT(IKE_HASH_SHA2_384) |
                       IKE_CERT_HASH_BIT(IKE_HASH_SHA2_512);
  if ((hashes & sha2) == 0) {
    /* No RFC 7427 support (or only SHA-1): the classic method of the key. */
    *method = have == IKE_CERT_KEY_RSA ? IKE_AUTH_RSA_SIG
              : have == IKE_CERT_KEY_P256 ? IKE_AUTH_ECDSA_256
              : have == IKE_CERT_KEY_P384 ? IKE_AUTH_ECDSA_384 : IKE_AUTH_ECDSA_521;
    return ike_cert_sign_method(s, *method, 0, 0, data, dlen, n, out, cap, out_len);
  }
  uint8_t want = have == IKE_CERT_KEY_RSA ? IKE_HASH_SHA2_256 : ec_hash(have);
  if (!(hashes & IKE_CERT_HASH_BIT(want))) {
    want = (hashes & IKE_CERT_HASH_BIT(IKE_HASH_SHA2_512)) ? IKE_HASH_SHA2_512
           : (hashes & IKE_CERT_HASH_BIT(IKE_HASH_SHA2_384)) ? IKE_HASH_SHA2_384
                                                              : IKE_HASH_SHA2_256;
  }
  *method = IKE_AUTH_DIGITAL_SIGNATURE;
  return ike_cert_sign_method(s, *method, want, pss, data, dlen, n, out, cap, out_len);
}
