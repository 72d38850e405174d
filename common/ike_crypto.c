/*
 * ike_crypto.c - method registry of the IKEv2 crypto suite, random, wipe.
 *
 * Every OpenSSL method (EVP_MD, EVP_CIPHER, EVP_MAC and the key managers of
 * the DH groups) is fetched once in ike_crypto_init(); OpenSSL 3 fetches by
 * name are costly (method store lookup and locking), so the per-operation
 * code in ike_dh.c, ike_prf.c and ike_sk.c only uses what is held here.
 *
 * HMAC: one EVP_MAC_CTX per digest is kept as a template with its digest set
 * (setting the digest by name would fetch it again); operations duplicate the
 * template (EVP_MAC_CTX_dup copies the digest reference, no fetch) and free
 * the copy, which wipes the key state.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ike_crypto.h"
#include "ike_crypto_int.h"

/* --- Static algorithm properties (RFC 7296 3.3.2, RFC 4868, RFC 5282, RFC 7634) --- */

typedef struct {
  uint16_t id;
  uint8_t md;        /* IKE_CI_MD_* */
  uint8_t key_len;   /* integ key = digest length (RFC 4868 2.1.1; RFC 2404) */
  uint8_t icv_len;   /* truncated output */
} integ_prop_t;

static const integ_prop_t integ_props[] = {
    {IKE_INTEG_HMAC_SHA1_96, IKE_CI_MD_SHA1, 20, 12},
    {IKE_INTEG_HMAC_SHA2_256_128, IKE_CI_MD_SHA256, 32, 16},
    {IKE_INTEG_HMAC_SHA2_384_192, IKE_CI_MD_SHA384, 48, 24},
    {IKE_INTEG_HMAC_SHA2_512_256, IKE_CI_MD_SHA512, 64, 32},
};

typedef struct {
  uint16_t id;
  uint8_t md;
  uint8_t len;       /* output length = preferred key length */
} prf_prop_t;

static const prf_prop_t prf_props[] = {
    {IKE_PRF_HMAC_SHA1, IKE_CI_MD_SHA1, 20},
    {IKE_PRF_HMAC_SHA2_256, IKE_CI_MD_SHA256, 32},
    {IKE_PRF_HMAC_SHA2_384, IKE_CI_MD_SHA384, 48},
    {IKE_PRF_HMAC_SHA2_512, IKE_CI_MD_SHA512, 64},
};

static const char *const md_names[IKE_CI_MD_COUNT] = {"SHA1", "SHA2-256",
                                                      "SHA2-384", "SHA2-512"};
static const char *const cipher_names[IKE_CI_CIPHER_COUNT] = {
    "AES-128-CBC", "AES-256-CBC", "AES-128-GCM", "AES-256-GCM",
    "ChaCha20-Poly1305"};

/* The fetched methods. Written only by init/cleanup. */
static struct {
  bool ready;
  EVP_MD *md[IKE_CI_MD_COUNT];
  EVP_CIPHER *cipher[IKE_CI_CIPHER_COUNT];
  EVP_MAC *hmac;
  EVP_MAC_CTX *hmac_tmpl[IKE_CI_MD_COUNT];
} g;

static int fetch_all(void) {
  for (int i = 0; i < IKE_CI_MD_COUNT; i++) {
    g.md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
    if (g.md[i] == NULL) {
      return -IKE_E_CRYPTO;
    }
  }
  for (int i = 0; i < IKE_CI_CIPHER_COUNT; i++) {
    g.cipher[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
    if (g.cipher[i] == NULL) {
      return -IKE_E_CRYPTO;
    }
  }
  g.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (g.hmac == NULL) {
    return -IKE_E_CRYPTO;
  }
  for (int i = 0; i < IKE_CI_MD_COUNT; i++) {
    OSSL_PARAM p[2];
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                            (char *)md_names[i], 0);
    p[1] = OSSL_PARAM_construct_end();
    g.hmac_tmpl[i] = EVP_MAC_CTX_new(g.hmac);
    if (g.hmac_tmpl[i] == NULL || EVP_MAC_CTX_set_params(g.hmac_tmpl[i], p) != 1) {
      return -IKE_E_CRYPTO;
    }
  }
  return 0;
}

int ike_crypto_init(void) {
  if (g.ready) {
    return 0;
  }
  int rc = fetch_all();
  if (rc == 0) {
    rc = ike_dh_global_init();
  }
  if (rc != 0) {
    ike_crypto_cleanup();
    return rc;
  }
  g.ready = true;
  return 0;
}

void ike_crypto_cleanup(void) {
  ike_dh_global_cleanup();
  for (int i = 0; i < IKE_CI_MD_COUNT; i++) {
    EVP_MAC_CTX_free(g.hmac_tmpl[i]);
    EVP_MD_free(g.md[i]);
  }
  for (int i = 0; i < IKE_CI_CIPHER_COUNT; i++) {
    EVP_CIPHER_free(g.cipher[i]);
  }
  EVP_MAC_free(g.hmac);
  memset(&g, 0, sizeof(g));
}

bool ike_crypto_ready(void) { return g.ready; }

const EVP_MD *ike_ci_md(int idx) {
  return (idx >= 0 && idx < IKE_CI_MD_COUNT) ? g.md[idx] : NULL;
}

EVP_MAC_CTX *ike_ci_hmac_new(int md_idx) {
  if (!g.ready || md_idx < 0 || md_idx >= IKE_CI_MD_COUNT) {
    return NULL;
  }
  return EVP_MAC_CTX_dup(g.hmac_tmpl[md_idx]);
}

int ike_sha256(const void *prefix, size_t plen, const void *data, size_t len,
               uint8_t out[32]) {
  const EVP_MD *md = ike_ci_md(IKE_CI_MD_SHA256);
  EVP_MD_CTX *c = md ? EVP_MD_CTX_new() : NULL;
  unsigned n = 0;
  int ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) == 1 &&
           (plen == 0 || EVP_DigestUpdate(c, prefix, plen) == 1) &&
           (len == 0 || EVP_DigestUpdate(c, data, len) == 1) &&
           EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32;
  EVP_MD_CTX_free(c);
  return ok ? 0 : -IKE_E_CRYPTO;
}

/* Tests only: ike_random fails while this is non-zero (ike_crypto.h). */
static unsigned rng_fail;

void ike_random_test_fail(unsigned on) {
  rng_fail = on;
}

int ike_random(void *buf, size_t n) {
  if (n == 0) {
    return 0;
  }
  if (buf == NULL || n > INT32_MAX || rng_fail) {
    return -IKE_E_CRYPTO;
  }
  return RAND_bytes(buf, (int)n) == 1 ? 0 : -IKE_E_CRYPTO;
}

void ike_wipe(void *p, size_t n) {
  if (p != NULL && n > 0) {
    OPENSSL_cleanse(p, n);
  }
}

int ike_memeq_const(const void *a, const void *b, size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0 ? 0 : 1;
}

/* --- Encryption algorithms --- */

bool ike_encr_is_aead(uint16_t encr) {
  return encr == IKE_ENCR_AES_GCM_8 || encr == IKE_ENCR_AES_GCM_12 ||
         encr == IKE_ENCR_AES_GCM_16 || encr == IKE_ENCR_CHACHA20_POLY1305;
}

int ike_ci_cipher_idx(uint16_t encr, uint16_t bits) {
  switch (encr) {
    case IKE_ENCR_AES_CBC:
      return bits == 128 ? IKE_CI_AES128_CBC : bits == 256 ? IKE_CI_AES256_CBC : -1;
    case IKE_ENCR_AES_GCM_8:
    case IKE_ENCR_AES_GCM_12:
    case IKE_ENCR_AES_GCM_16:
      return bits == 128 ? IKE_CI_AES128_GCM : bits == 256 ? IKE_CI_AES256_GCM : -1;
    case IKE_ENCR_CHACHA20_POLY1305:
      /* RFC 7634 2: no Key Length attribute; the key is always 256 bits. */
      return bits == 0 ? IKE_CI_CHACHA20_POLY1305 : -1;
    default:
      return -1;
  }
}

const EVP_CIPHER *ike_ci_cipher(int idx) {
  return (idx >= 0 && idx < IKE_CI_CIPHER_COUNT) ? g.cipher[idx] : NULL;
}

bool ike_encr_supported(uint16_t encr, uint16_t bits) {
  return ike_ci_cipher_idx(encr, bits) >= 0;
}

size_t ike_encr_key_len(uint16_t encr, uint16_t bits) {
  if (!ike_encr_supported(encr, bits)) {
    return 0;
  }
  if (encr == IKE_ENCR_CHACHA20_POLY1305) {
    return 32 + IKE_AEAD_SALT_LEN;  /* RFC 7634 2 */
  }
  size_t k = bits / 8u;
  return encr == IKE_ENCR_AES_CBC ? k : k + IKE_AEAD_SALT_LEN;  /* RFC 5282 7.1 */
}

size_t ike_encr_iv_len(uint16_t encr) {
  if (encr == IKE_ENCR_AES_CBC) {
    return 16;
  }
  return ike_encr_is_aead(encr) ? 8u : 0u;  /* RFC 5282 3.1, RFC 7634 2 */
}

size_t ike_encr_block_len(uint16_t encr) {
  if (encr == IKE_ENCR_AES_CBC) {
    return 16;
  }
  return ike_encr_is_aead(encr) ? 1u : 0u;  /* RFC 5282 3: any padding, 1-byte alignment */
}

size_t ike_encr_icv_len(uint16_t encr) {
  switch (encr) {
    case IKE_ENCR_AES_GCM_8:
      return 8;
    case IKE_ENCR_AES_GCM_12:
      return 12;
    case IKE_ENCR_AES_GCM_16:
    case IKE_ENCR_CHACHA20_POLY1305:
      return 16;
    default:
      return 0;
  }
}

/* --- Integrity and PRF --- */

static const integ_prop_t *integ_find(uint16_t integ) {
  for (size_t i = 0; i < sizeof(integ_props) / sizeof(integ_props[0]); i++) {
    if (integ_props[i].id == integ) {
      return &integ_props[i];
    }
  }
  return NULL;
}

static const prf_prop_t *prf_find(uint16_t prf) {
  for (size_t i = 0; i < sizeof(prf_props) / sizeof(prf_props[0]); i++) {
    if (prf_props[i].id == prf) {
      return &prf_props[i];
    }
  }
  return NULL;
}

bool ike_integ_supported(uint16_t integ) { return integ_find(integ) != NULL; }

size_t ike_integ_key_len(uint16_t integ) {
  const integ_prop_t *p = integ_find(integ);
  return p != NULL ? p->key_len : 0;
}

size_t ike_integ_icv_len(uint16_t integ) {
  const integ_prop_t *p = integ_find(integ);
  return p != NULL ? p->icv_len : 0;
}

int ike_ci_integ_md(uint16_t integ) {
  const integ_prop_t *p = integ_find(integ);
  return p != NULL ? p->md : -1;
}

bool ike_prf_supported(uint16_t prf) { return prf_find(prf) != NULL; }

size_t ike_prf_len(uint16_t prf) {
  const prf_prop_t *p = prf_find(prf);
  return p != NULL ? p->len : 0;
}

int ike_ci_prf_md(uint16_t prf) {
  const prf_prop_t *p = prf_find(prf);
  return p != NULL ? p->md : -1;
}

/* --- DH groups --- */

bool ike_dh_supported(uint16_t group) { return ike_dh_pub_len(group) != 0; }

size_t ike_dh_pub_len(uint16_t group) {
  switch (group) {
    case IKE_DH_MODP_2048:
      return 256;  /* RFC 3526 3, zero-padded to the prime (RFC 7296 3.4) */
    case IKE_DH_MODP_3072:
      return 384;  /* RFC 3526 4 */
    case IKE_DH_MODP_4096:
      return 512;  /* RFC 3526 5 */
    case IKE_DH_MODP_8192:
      return 1024; /* RFC 3526 7 */
    case IKE_DH_ECP_256:
      return 64;   /* RFC 5903 7: x | y */
    case IKE_DH_ECP_384:
      return 96;
    case IKE_DH_ECP_521:
      return 132;
    case IKE_DH_CURVE25519:
      return 32;   /* RFC 8031 2 */
    default:
      return 0;
  }
}
