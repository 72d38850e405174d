/*
 * esp.h - ESP (RFC 4303) tunnel-mode packet processing of the userspace datapath.
 *
 * Wire layout of an ESP packet as produced and consumed here (the UDP header of
 * RFC 3948 or the outer IP header is the caller's business):
 *   SPI(4) | Sequence Number(4) | IV | ciphertext of (inner IP packet | Padding |
 *   Pad Length(1) | Next Header(1)) | ICV
 * AES-GCM-16 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634): IV = the 64-bit sequence
 * number (8 bytes), nonce = salt | IV, AAD = SPI | seq (or SPI | seq_hi | seq_lo
 * with ESN), 16-byte tag, padding to 4 bytes. AES-CBC (RFC 3602) with HMAC-SHA1-96
 * / HMAC-SHA2 (RFC 4868): random 16-byte IV, padding to 16 bytes, ICV = truncated
 * HMAC over SPI..ciphertext (| seq_hi with ESN, RFC 4303 2.2.1).
 * Nothing is allocated per packet.
 */
#ifndef ESP_H
#define ESP_H

#include <stddef.h>
#include <stdint.h>

#include "esp_sa.h"

#define ESP_HDR_LEN 8u         /* SPI + sequence number */
#define ESP_NH_IPV4 4u         /* next header: IP-in-IP (tunnel mode, IPv4 inside) */
#define ESP_NH_IPV6 41u        /* next header: IPv6 inside */
#define ESP_NH_NONE 59u        /* no next header: TFC dummy packet (RFC 4303 2.6) */
#define ESP_MAX_OVERHEAD (ESP_HDR_LEN + 16u + 15u + 2u + 32u) /* CBC IV, pad, ICV */

/* Exact ESP packet length esp_encap() produces for an inner packet of inner_len. */
size_t esp_encap_len(const esp_sa_t *sa, size_t inner_len);

/* Encapsulate one inner IP packet (IPv4 or IPv6, next header chosen from its
 * version) with the outbound SA sa into out[0..cap). inner and out must not
 * overlap. On success *out_len is the ESP packet length, the sequence number
 * advanced and the SA's packet/byte counters and lifetimes were updated.
 * Returns 0 or -ESP_E_INVAL (not an outbound SA), -ESP_E_EXPIRED,
 * -ESP_E_SEQ_OVERFLOW, -ESP_E_BAD_NEXT_HEADER (not an IP packet),
 * -ESP_E_NOSPACE, -ESP_E_CRYPTO; each failure but INVAL is counted on the SA. */
int esp_encap(esp_sa_t *sa, const uint8_t *inner, size_t inner_len, uint8_t *out,
              size_t cap, size_t *out_len);

/* Decapsulate one ESP packet (starting at the SPI): find the inbound SA by SPI,
 * check the replay window, verify the ICV, decrypt into out[0..cap), check the
 * padding and the next header, and only then slide the replay window and count.
 * On success *inner_len bytes of out are the inner IP packet (TFC padding
 * stripped). *sa_out (may be NULL) is set whenever the SA was found, so callers
 * can notice the peer's source address (NAT rebinding) after success.
 * Returns 0 or, counted on the SA (on the table for the first two):
 * -ESP_E_TRUNCATED, -ESP_E_UNKNOWN_SPI, -ESP_E_EXPIRED, -ESP_E_TOO_OLD,
 * -ESP_E_REPLAY, -ESP_E_ICV_FAILED, -ESP_E_BAD_PADDING, -ESP_E_BAD_NEXT_HEADER,
 * -ESP_E_DUMMY (valid dummy packet, nothing to deliver), -ESP_E_NOSPACE,
 * -ESP_E_CRYPTO. Out may hold garbage after a failure. */
int esp_decap(esp_table_t *t, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
              size_t *inner_len, esp_sa_t **sa_out);

#endif /* ESP_H */
