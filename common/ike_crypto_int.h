/*
 * ike_crypto_int.h - internals shared by ike_crypto.c, ike_dh.c, ike_prf.c
 * and ike_sk.c (not for other modules: use ike_crypto.h).
 */
#ifndef IKE_CRYPTO_INT_H
#define IKE_CRYPTO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#define IKE_AEAD_SALT_LEN 4u  /* RFC 5282 4, RFC 7634 2 */

/* Indexes of the fetched digests. */
enum {
  IKE_CI_MD_SHA1 = 0,
  IKE_CI_MD_SHA256,
  IKE_CI_MD_SHA384,
  IKE_CI_MD_SHA512,
  IKE_CI_MD_COUNT
};

/* Indexes of the fetched ciphers. */
enum {
  IKE_CI_AES128_CBC = 0,
  IKE_CI_AES256_CBC,
  IKE_CI_AES128_GCM,
  IKE_CI_AES256_GCM,
  IKE_CI_CHACHA20_POLY1305,
  IKE_CI_CIPHER_COUNT
};

/* True once ike_crypto_init() succeeded. */
bool ike_crypto_ready(void);
/* A fetched digest by index, NULL if out of range or not initialised. */
const EVP_MD *ike_ci_md(int idx);
/* A fresh HMAC context with the digest set (no key yet); caller frees it
 * with EVP_MAC_CTX_free (which wipes). NULL on failure. */
EVP_MAC_CTX *ike_ci_hmac_new(int md_idx);
/* Cipher index for an ENCR transform + key length, -1 if unsupported. */
int ike_ci_cipher_idx(uint16_t encr, uint16_t bits);
const EVP_CIPHER *ike_ci_cipher(int idx);
/* Digest index of an INTEG / PRF transform, -1 if unsupported. */
int ike_ci_integ_md(uint16_t integ);
int ike_ci_prf_md(uint16_t prf);

/* ike_dh.c: group templates created once (called by ike_crypto_init). */
int ike_dh_global_init(void);
void ike_dh_global_cleanup(void);

#endif /* IKE_CRYPTO_INT_H */
