/* esp_hmac.c - allocation-free HMAC for ESP, see esp_hmac.h (RFC 2104, 2404, 4868). */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA*_Init/Update/Final: see esp_hmac.h */
#include "esp_hmac.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "ike_wire.h"

_Static_assert(sizeof(SHA512_CTX) <= sizeof(((esp_hmac_t *)0)->in_state),
               "state buffer too small for SHA512_CTX");

typedef union {
  SHA_CTX s1;
  SHA256_CTX s256;
  SHA512_CTX s512;
} hmac_ctx_u;

/* One hash step on a union state, by algorithm. */
static void h_init(uint16_t integ, hmac_ctx_u *c)
{
  switch (integ) {
  case IKE_INTEG_HMAC_SHA1_96: SHA1_Init(&c->s1); break;
  case IKE_INTEG_HMAC_SHA2_256_128: SHA256_Init(&c->s256); break;
  case IKE_INTEG_HMAC_SHA2_384_192: SHA384_Init(&c->s512); break;
  default: SHA512_Init(&c->s512); break;
  }
}

static void h_update(uint16_t integ, hmac_ctx_u *c, const void *d, size_t n)
{
  switch (integ) {
  case IKE_INTEG_HMAC_SHA1_96: SHA1_Update(&c->s1, d, n); break;
  case IKE_INTEG_HMAC_SHA2_256_128: SHA256_Update(&c->s256, d, n); break;
  case IKE_INTEG_HMAC_SHA2_384_192: SHA384_Update(&c->s512, d, n); break;
  default: SHA512_Update(&c->s512, d, n); break;
  }
}

static void h_final(uint16_t integ, hmac_ctx_u *c, uint8_t *out)
{
  switch (integ) {
  case IKE_INTEG_HMAC_SHA1_96: SHA1_Final(out, &c->s1); break;
  case IKE_INTEG_HMAC_SHA2_256_128: SHA256_Final(out, &c->s256); break;
  case IKE_INTEG_HMAC_SHA2_384_192: SHA384_Final(out, &c->s512); break;
  default: SHA512_Final(out, &c->s512); break;
  }
}

int esp_hmac_init(esp_hmac_t *h, uint16_t integ, const uint8_t *key, size_t klen)
{
  size_t block;
  memset(h, 0, sizeof(*h));
  switch (integ) {
  case IKE_INTEG_HMAC_SHA1_96: h->md_len = 20; h->icv_len = 12; block = 64; break;
  case IKE_INTEG_HMAC_SHA2_256_128: h->md_len = 32; h->icv_len = 16; block = 64; break;
  case IKE_INTEG_HMAC_SHA2_384_192: h->md_len = 48; h->icv_len = 24; block = 128; break;
  case IKE_INTEG_HMAC_SHA2_512_256: h->md_len = 64; h->icv_len = 32; block = 128; break;
  default: return -1;
  }
  if (klen > block) {
    return -1; /* ESP keys are never longer than the block (RFC 4868 2.1.1) */
  }
  h->integ = integ;
  uint8_t pad[128];
  hmac_ctx_u c;
  memset(pad, 0x36, block);
  for (size_t i = 0; i < klen; i++) {
    pad[i] ^= key[i];
  }
  h_init(integ, &c);
  h_update(integ, &c, pad, block);
  memcpy(h->in_state, &c, sizeof(c));
  memset(pad, 0x5c, block);
  for (size_t i = 0; i < klen; i++) {
    pad[i] ^= key[i];
  }
  h_init(integ, &c);
  h_update(integ, &c, pad, block);
  memcpy(h->out_state, &c, sizeof(c));
  OPENSSL_cleanse(pad, sizeof(pad));
  OPENSSL_cleanse(&c, sizeof(c));
  return 0;
}

void esp_hmac_2(const esp_hmac_t *h, const uint8_t *a, size_t alen,
                const uint8_t *b, size_t blen, uint8_t out[ESP_HMAC_MAX_OUT])
{
  hmac_ctx_u c;
  uint8_t inner[ESP_HMAC_MAX_OUT];
  memcpy(&c, h->in_state, sizeof(c));
  h_update(h->integ, &c, a, alen);
  if (blen > 0) {
    h_update(h->integ, &c, b, blen);
  }
  h_final(h->integ, &c, inner);
  memcpy(&c, h->out_state, sizeof(c));
  h_update(h->integ, &c, inner, h->md_len);
  h_final(h->integ, &c, out);
}

void esp_hmac_wipe(esp_hmac_t *h)
{
  OPENSSL_cleanse(h, sizeof(*h));
}
