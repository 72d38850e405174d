/*
 * ike_crypto.h - the IKEv2 crypto suite through OpenSSL 3 EVP.
 *
 * ike_crypto_init() fetches every EVP_MD / EVP_CIPHER / EVP_MAC / key-exchange
 * method once (per-operation fetches are a known OpenSSL 3 slowdown); every
 * other function uses those. Secrets are wiped when freed. All functions
 * return 0 or a negative ike_err_t (ike_err.h).
 */
#ifndef IKE_CRYPTO_H
#define IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_err.h"
#include "ike_wire.h"

#define IKE_MAX_PRF_LEN   64  /* HMAC-SHA2-512 output */
#define IKE_MAX_ENCR_KEY  36  /* AES-256 key + 4-byte GCM/ChaCha salt */
#define IKE_MAX_INTEG_KEY 64  /* HMAC-SHA2-512 key */
#define IKE_MAX_DH_PUB    1024 /* MODP-8192 = 1024; MODP-2048 = 256; ECP-521 = 132 */
#define IKE_MAX_DH_SECRET 1024 /* MODP-8192: the prime's size */

/* Fetch every method once; idempotent. Call before any other function. */
int ike_crypto_init(void);
/* Release the fetched methods (end of process / tests). */
void ike_crypto_cleanup(void);

/* Cryptographically strong random bytes. */
int ike_random(void *buf, size_t n);
/* SHA-256 of prefix | data (prefix may be empty) with the digest fetched at
 * init, into out[32]. 0 or -IKE_E_CRYPTO. */
int ike_sha256(const void *prefix, size_t plen, const void *data, size_t len,
               uint8_t out[32]);
/* Tests only: make every ike_random call fail (on != 0), as a broken or
 * exhausted RNG would, to prove each caller refuses to go on. */
void ike_random_test_fail(unsigned on);
/* Wipe memory the compiler may not elide (OPENSSL_cleanse). */
void ike_wipe(void *p, size_t n);
/* Constant-time compare: 0 if equal (CRYPTO_memcmp). */
int ike_memeq_const(const void *a, const void *b, size_t n);

/* --- Algorithms of one IKE SA or CHILD SA --- */
typedef struct ike_suite {
  uint16_t encr;        /* ike_encr_t */
  uint16_t encr_bits;   /* key length attribute: 128 / 256 (0 for ChaCha20) */
  uint16_t integ;       /* ike_integ_t, IKE_INTEG_NONE with AEAD */
  uint16_t prf;         /* ike_prf_t (IKE SA only) */
  uint16_t dh;          /* ike_dh_group_t (IKE_DH_NONE if none) */
  bool esn;             /* CHILD SA: extended sequence numbers */
} ike_suite_t;

bool ike_encr_supported(uint16_t encr, uint16_t bits);
bool ike_encr_is_aead(uint16_t encr);
size_t ike_encr_key_len(uint16_t encr, uint16_t bits); /* bytes incl. salt */
size_t ike_encr_iv_len(uint16_t encr);                 /* bytes on the wire */
size_t ike_encr_block_len(uint16_t encr);              /* padding alignment */
size_t ike_encr_icv_len(uint16_t encr);                /* AEAD tag, 0 for CBC */
bool ike_integ_supported(uint16_t integ);
size_t ike_integ_key_len(uint16_t integ);
size_t ike_integ_icv_len(uint16_t integ);              /* truncated length */
bool ike_prf_supported(uint16_t prf);
size_t ike_prf_len(uint16_t prf);                      /* output = key length */
bool ike_dh_supported(uint16_t group);
size_t ike_dh_pub_len(uint16_t group);                 /* KE data length */

/* --- Diffie-Hellman: groups 14, 19, 20, 21, 31 --- */
typedef struct ike_dh ike_dh_t;

/* New ephemeral key pair. */
int ike_dh_new(uint16_t group, ike_dh_t **out);
/* Key pair from a known private value (known-answer tests). */
int ike_dh_new_from_priv(uint16_t group, const uint8_t *priv, size_t len,
                         ike_dh_t **out);
/* Our public value as KE data (MODP: zero-padded to the prime size; ECP:
 * x|y without the 0x04 prefix, RFC 5903; Curve25519: 32 bytes). */
int ike_dh_public(const ike_dh_t *dh, uint8_t *out, size_t cap, size_t *len);
/* Validate the peer's KE data (size, point on curve, 1 < y < p-1) and compute
 * the shared secret g^ir (MODP: padded to prime size; ECP: x only). */
int ike_dh_shared(ike_dh_t *dh, const uint8_t *peer, size_t peer_len,
                  uint8_t *out, size_t cap, size_t *len);
void ike_dh_free(ike_dh_t *dh);
/* The group of a key pair (IKE_DH_NONE for NULL). */
uint16_t ike_dh_group(const ike_dh_t *dh);

/* --- PRF and prf+ (RFC 7296 2.13) --- */
int ike_prf(uint16_t prf, const uint8_t *key, size_t klen, const uint8_t *data,
            size_t dlen, uint8_t *out);
/* Gather form: prf over the concatenation of n pieces. */
int ike_prfv(uint16_t prf, const uint8_t *key, size_t klen,
             const uint8_t *const *data, const size_t *dlen, size_t n,
             uint8_t *out);
int ike_prf_plus(uint16_t prf, const uint8_t *key, size_t klen,
                 const uint8_t *seed, size_t slen, uint8_t *out, size_t outlen);

/* --- IKE SA keys (RFC 7296 2.14, 2.18) --- */
typedef struct ike_keys {
  uint8_t sk_d[IKE_MAX_PRF_LEN];
  uint8_t sk_ai[IKE_MAX_INTEG_KEY], sk_ar[IKE_MAX_INTEG_KEY];
  uint8_t sk_ei[IKE_MAX_ENCR_KEY], sk_er[IKE_MAX_ENCR_KEY];
  uint8_t sk_pi[IKE_MAX_PRF_LEN], sk_pr[IKE_MAX_PRF_LEN];
  uint8_t d_len, a_len, e_len, p_len;
} ike_keys_t;

/* SKEYSEED = prf(Ni | Nr, g^ir); {SK_d...} = prf+(SKEYSEED, Ni|Nr|SPIi|SPIr).
 * For PRFs with fixed key length the nonces are truncated/used per 2.14. */
int ike_keys_derive(const ike_suite_t *s, const uint8_t *ni, size_t ni_len,
                    const uint8_t *nr, size_t nr_len, const uint8_t *g_ir,
                    size_t g_len, uint64_t spi_i, uint64_t spi_r,
                    ike_keys_t *out);
/* Rekey: SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr), old_prf keys it. */
int ike_keys_derive_rekey(const ike_suite_t *s, uint16_t old_prf,
                          const uint8_t *old_sk_d, size_t old_d_len,
                          const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                          size_t nr_len, const uint8_t *g_ir, size_t g_len,
                          uint64_t spi_i, uint64_t spi_r, ike_keys_t *out);
void ike_keys_wipe(ike_keys_t *k);

/* CHILD SA KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (2.17); g_ir may be NULL. */
int ike_child_keymat(uint16_t prf, const uint8_t *sk_d, size_t d_len,
                     const uint8_t *g_ir, size_t g_len, const uint8_t *ni,
                     size_t ni_len, const uint8_t *nr, size_t nr_len,
                     uint8_t *out, size_t outlen);

/* Integrity ICV (RFC 4868 2.3, RFC 2404): HMAC of data truncated to
 * ike_integ_icv_len(integ) bytes, written to out. */
int ike_integ_mac(uint16_t integ, const uint8_t *key, size_t klen,
                  const uint8_t *data, size_t dlen, uint8_t *out);

/* --- AUTH (RFC 7296 2.15) --- */
/* MACedIDForX = prf(SK_px, IDx') where id_body is the ID payload body. */
int ike_auth_maced_id(uint16_t prf, const uint8_t *sk_p, size_t plen,
                      const uint8_t *id_body, size_t id_len, uint8_t *out);
/* AUTH = prf(prf(psk, "Key Pad for IKEv2"), msg | nonce | maced_id);
 * out receives ike_prf_len(prf) bytes. */
int ike_auth_psk(uint16_t prf, const uint8_t *psk, size_t psk_len,
                 const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
                 size_t nonce_len, const uint8_t *maced_id, uint8_t *out);

/* --- SK / SKF payload protection (RFC 7296 3.14, RFC 5282, RFC 7634, RFC 7383) --- */
typedef struct ike_sk_dir {      /* keys of one direction */
  uint16_t encr, encr_bits, integ;
  uint8_t ek[IKE_MAX_ENCR_KEY];
  uint8_t ak[IKE_MAX_INTEG_KEY];
  uint8_t ek_len, ak_len;
} ike_sk_dir_t;

/* Fill a direction from a suite and key bytes (ak ignored for AEAD). */
int ike_sk_dir_init(ike_sk_dir_t *k, const ike_suite_t *s, const uint8_t *ek,
                    const uint8_t *ak);
void ike_sk_dir_wipe(ike_sk_dir_t *k);
/* Bytes sealing adds for inner_len plaintext bytes: IV + padding + pad length
 * + ICV, so the sealed message is body_off + inner_len + overhead long. */
size_t ike_sk_overhead(const ike_sk_dir_t *k, size_t inner_len);
/* Seal: msg[0..body_off) holds the IKE header, any clear payloads and the SK
 * (or SKF) payload header starting at pld_off. Writes IV | ciphertext | pad |
 * pad length | ICV from body_off, patches the payload length and the IKE
 * header length, and computes the ICV (CBC: HMAC over the whole message
 * without the ICV; AEAD: AAD = msg[0..body_off)). *msg_len = total. */
int ike_sk_seal(const ike_sk_dir_t *k, uint8_t *msg, size_t cap, size_t pld_off,
                size_t body_off, const uint8_t *inner, size_t inner_len,
                size_t *msg_len);
/* ike_sk_seal with a caller-chosen IV (ike_encr_iv_len bytes; NULL = random):
 * for a per-SA counter as AEAD IV (RFC 5282 3.1) and for known-answer tests.
 * An AEAD IV must never repeat under one key. */
int ike_sk_seal_iv(const ike_sk_dir_t *k, uint8_t *msg, size_t cap, size_t pld_off,
                   size_t body_off, const uint8_t *inner, size_t inner_len,
                   const uint8_t *iv, size_t *msg_len);
/* Open: msg is the whole message (msg_len = header length), the SK/SKF
 * payload at pld_off runs to the end (its length field must say so). Checks
 * the ICV in constant time first, then decrypts and checks padding; out
 * receives the inner payload chain. cap must be at least the ciphertext
 * length (msg_len - body_off is always enough).
 * Errors: -IKE_E_TRUNC, -IKE_E_BAD_LENGTH, -IKE_E_INTEGRITY, -IKE_E_BAD_PADDING,
 * -IKE_E_NOSPACE. */
int ike_sk_open(const ike_sk_dir_t *k, const uint8_t *msg, size_t msg_len,
                size_t pld_off, size_t body_off, uint8_t *out, size_t cap,
                size_t *out_len);

/* Raw AEAD of one direction's key (AES-GCM-8/12/16, ChaCha20-Poly1305):
 * nonce = salt (last 4 key bytes) | iv (8 bytes); tag is
 * ike_encr_icv_len(encr) bytes. For IKE known-answer tests and the ESP
 * datapath (RFC 4106 / RFC 7634 use the same construction). open returns
 * -IKE_E_INTEGRITY on a bad tag and then wipes out. */
int ike_aead_seal(const ike_sk_dir_t *k, const uint8_t *iv, const uint8_t *aad,
                  size_t alen, const uint8_t *in, size_t len, uint8_t *out,
                  uint8_t *tag);
int ike_aead_open(const ike_sk_dir_t *k, const uint8_t *iv, const uint8_t *aad,
                  size_t alen, const uint8_t *in, size_t len, const uint8_t *tag,
                  uint8_t *out);

#endif /* IKE_CRYPTO_H */
