/*
 * esp_hmac.h - HMAC-SHA1/SHA2 for the ESP datapath without per-packet allocation.
 *
 * OpenSSL 3.0's EVP_MAC and EVP_MD_CTX_copy_ex() duplicate the provider digest
 * context with a malloc on every re-initialisation. The ESP hot path instead keeps
 * the HMAC inner and outer hash states after absorbing K^ipad / K^opad (RFC 2104
 * section 4, "precomputed") and copies those plain structs per packet, using the
 * low-level SHA functions (deprecated in 3.0 but present and equally fast; they
 * are confined to esp_hmac.c). The struct is flat.
 */
#ifndef ESP_HMAC_H
#define ESP_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define ESP_HMAC_MAX_OUT 64 /* SHA-512 */

typedef struct esp_hmac {
  uint16_t integ;    /* ike_integ_t */
  uint8_t md_len;    /* full digest length */
  uint8_t icv_len;   /* truncated ICV length (RFC 2404, RFC 4868) */
  /* Precomputed states; sized for the largest (SHA512_CTX is 216 bytes). */
  _Alignas(8) uint8_t in_state[224];
  _Alignas(8) uint8_t out_state[224];
} esp_hmac_t;

/* Key an HMAC for integ (IKE_INTEG_HMAC_SHA1_96, _SHA2_256_128, _384_192,
 * _512_256). Returns 0, or -1 for another algorithm or a key longer than 128. */
int esp_hmac_init(esp_hmac_t *h, uint16_t integ, const uint8_t *key, size_t klen);

/* HMAC over a | b (b may be NULL with blen 0); writes md_len bytes to out
 * (callers compare or copy the first icv_len). */
void esp_hmac_2(const esp_hmac_t *h, const uint8_t *a, size_t alen,
                const uint8_t *b, size_t blen, uint8_t out[ESP_HMAC_MAX_OUT]);

/* Wipe the keyed states. */
void esp_hmac_wipe(esp_hmac_t *h);

#endif /* ESP_HMAC_H */
