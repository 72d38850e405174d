/* esp.c - ESP tunnel-mode encapsulation and decapsulation, see esp.h. */
#include "esp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

/* Non-ESN outbound SAs ask for a rekey this many numbers before the end of the
 * 32-bit space (RFC 4303 3.3.3: the counter must not cycle). */
#define ESP_SEQ_SOFT_MARGIN (1u << 24)

static void put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}

/* CBC IVs must be unpredictable (RFC 3602 2.3); RAND_bytes per packet costs a
 * lock and a DRBG call, so draw them in batches, one pool per thread. */
#define ESP_IV_POOL 4096u
static _Thread_local uint8_t esp_iv_pool[ESP_IV_POOL];
static _Thread_local size_t esp_iv_left;

static int esp_random_iv(uint8_t *iv, size_t n)
{
  if (esp_iv_left < n) {
    if (RAND_bytes(esp_iv_pool, sizeof(esp_iv_pool)) != 1) {
      return -1;
    }
    esp_iv_left = sizeof(esp_iv_pool);
  }
  uint8_t *src = esp_iv_pool + sizeof(esp_iv_pool) - esp_iv_left;
  memcpy(iv, src, n);
  OPENSSL_cleanse(src, n); /* never hand out the same bytes twice */
  esp_iv_left -= n;
  return 0;
}

/* AAD of the AEAD suites (RFC 4106 5, RFC 7634 2.1): SPI | seq, or SPI | seq_hi |
 * seq_lo with ESN. Returns its length. */
static size_t esp_aad(const esp_sa_t *sa, uint64_t seq, uint8_t aad[12])
{
  put32(aad, sa->spi);
  if (sa->esn) {
    put32(aad + 4, (uint32_t)(seq >> 32));
    put32(aad + 8, (uint32_t)seq);
    return 12;
  }
  put32(aad + 4, (uint32_t)seq);
  return 8;
}

size_t esp_encap_len(const esp_sa_t *sa, size_t inner_len)
{
  size_t padded = (inner_len + 2u + sa->align - 1u) & ~(size_t)(sa->align - 1u);
  return ESP_HDR_LEN + sa->iv_len + padded + sa->icv_len;
}

/* Encrypt inner | trailer into ct and append the tag / ICV. out holds the ESP
 * header and IV already; ct = out + header + IV. */
static int esp_seal(esp_sa_t *sa, uint64_t seq, uint8_t *out, const uint8_t *inner,
                    size_t inner_len, const uint8_t *trailer, size_t tlen)
{
  EVP_CIPHER_CTX *c = sa->cctx;
  size_t hdr = ESP_HDR_LEN + sa->iv_len;
  uint8_t *ct = out + hdr;
  int l1 = 0, l2 = 0, l3 = 0;
  if (sa->aead) {
    uint8_t nonce[12], aad[12];
    memcpy(nonce, sa->salt, 4);
    memcpy(nonce + 4, out + ESP_HDR_LEN, 8);
    size_t alen = esp_aad(sa, seq, aad);
    int la;
    if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, 1) != 1 ||
        EVP_CipherUpdate(c, NULL, &la, aad, (int)alen) != 1 ||
        EVP_CipherUpdate(c, ct, &l1, inner, (int)inner_len) != 1 ||
        EVP_CipherUpdate(c, ct + l1, &l2, trailer, (int)tlen) != 1 ||
        EVP_CipherFinal_ex(c, ct + l1 + l2, &l3) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, ct + inner_len + tlen) != 1) {
      return -1;
    }
    return 0;
  }
  if (EVP_CipherInit_ex(c, NULL, NULL, NULL, out + ESP_HDR_LEN, 1) != 1 ||
      EVP_CipherUpdate(c, ct, &l1, inner, (int)inner_len) != 1 ||
      EVP_CipherUpdate(c, ct + l1, &l2, trailer, (int)tlen) != 1 ||
      EVP_CipherFinal_ex(c, ct + l1 + l2, &l3) != 1 ||
      (size_t)(l1 + l2 + l3) != inner_len + tlen) {
    return -1;
  }
  /* ICV over SPI | seq | IV | ciphertext, with seq_hi appended for ESN (2.2.1). */
  uint8_t mac[ESP_HMAC_MAX_OUT], hi[4];
  put32(hi, (uint32_t)(seq >> 32));
  esp_hmac_2(&sa->hmac, out, hdr + inner_len + tlen, hi, sa->esn ? 4u : 0u, mac);
  memcpy(ct + inner_len + tlen, mac, sa->icv_len);
  return 0;
}

static int esp_encap_fail(esp_sa_t *sa, esp_err_t cause)
{
  esp_sa_count_drop(sa, cause);
  return -(int)cause;
}

int esp_encap(esp_sa_t *sa, const uint8_t *inner, size_t inner_len, uint8_t *out,
              size_t cap, size_t *out_len)
{
  *out_len = 0;
  if (sa == NULL || sa->dir != ESP_DIR_OUT) {
    return -ESP_E_INVAL;
  }
  if (sa->hard_fired) {
    return esp_encap_fail(sa, ESP_E_EXPIRED);
  }
  uint8_t nh;
  if (inner_len >= 20 && (inner[0] >> 4) == 4) {
    nh = ESP_NH_IPV4;
  } else if (inner_len >= 40 && (inner[0] >> 4) == 6) {
    nh = ESP_NH_IPV6;
  } else {
    return esp_encap_fail(sa, ESP_E_BAD_NEXT_HEADER);
  }
  if (!sa->esn && sa->seq >= 0xFFFFFFFFu) {
    esp_sa_fire(sa, ESP_LIFE_HARD);
    return esp_encap_fail(sa, ESP_E_SEQ_OVERFLOW);
  }
  if (sa->seq >= sa->seq_soft) {
    /* Half the durable lease used (renewal scheduled), or all of it: then the
     * owner must persist a new lease before this number goes out (seq_lease.h). */
    bool urgent = sa->seq >= sa->seq_limit;
    if (sa->lease_cb != NULL) {
      sa->lease_cb(sa, urgent, sa->lease_arg);
    }
    if (sa->seq >= sa->seq_limit) {
      return esp_encap_fail(sa, ESP_E_SEQ_LEASE);
    }
  }
  size_t total = esp_encap_len(sa, inner_len);
  if (total > cap || inner_len > 0xFFFF) {
    return esp_encap_fail(sa, ESP_E_NOSPACE);
  }
  size_t tlen = total - ESP_HDR_LEN - sa->iv_len - sa->icv_len - inner_len;
  uint8_t trailer[32];
  size_t pad = tlen - 2u;
  for (size_t i = 0; i < pad; i++) {
    trailer[i] = (uint8_t)(i + 1u); /* 1, 2, 3, ... (RFC 4303 2.4) */
  }
  trailer[pad] = (uint8_t)pad;
  trailer[pad + 1u] = nh;

  uint64_t seq = ++sa->seq; /* consumed even if sealing fails: never reuse a nonce */
  put32(out, sa->spi);
  put32(out + 4, (uint32_t)seq);
  if (sa->aead) {
    put32(out + 8, (uint32_t)(seq >> 32)); /* IV = 64-bit sequence number */
    put32(out + 12, (uint32_t)seq);
  } else if (esp_random_iv(out + ESP_HDR_LEN, sa->iv_len) != 0) {
    return esp_encap_fail(sa, ESP_E_CRYPTO);
  }
  if (esp_seal(sa, seq, out, inner, inner_len, trailer, tlen) != 0) {
    return esp_encap_fail(sa, ESP_E_CRYPTO);
  }
  *out_len = total;
  esp_sa_account(sa, inner_len);
  if (!sa->esn) {
    if (seq == 0xFFFFFFFFu) {
      esp_sa_fire(sa, ESP_LIFE_HARD); /* that was the last number */
    } else if (seq >= 0xFFFFFFFFu - ESP_SEQ_SOFT_MARGIN) {
      esp_sa_fire(sa, ESP_LIFE_SOFT);
    }
  }
  return 0;
}

/* Verify and decrypt ct[0..ct_len) of pkt into out. 0, or -1 when the ICV fails. */
static int esp_open(esp_sa_t *sa, uint64_t seq, const uint8_t *pkt, size_t ct_len,
                    uint8_t *out)
{
  EVP_CIPHER_CTX *c = sa->cctx;
  size_t hdr = ESP_HDR_LEN + sa->iv_len;
  const uint8_t *ct = pkt + hdr;
  const uint8_t *icv = ct + ct_len;
  int l1 = 0, l2 = 0;
  if (sa->aead) {
    uint8_t nonce[12], aad[12], tag[16];
    memcpy(nonce, sa->salt, 4);
    memcpy(nonce + 4, pkt + ESP_HDR_LEN, 8);
    memcpy(tag, icv, 16);
    size_t alen = esp_aad(sa, seq, aad);
    int la;
    if (EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, 0) != 1 ||
        EVP_CipherUpdate(c, NULL, &la, aad, (int)alen) != 1 ||
        EVP_CipherUpdate(c, out, &l1, ct, (int)ct_len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1 ||
        EVP_CipherFinal_ex(c, out + l1, &l2) != 1) {
      return -1;
    }
    return 0;
  }
  /* Integrity first, before any decryption (RFC 4303 3.4.4). */
  uint8_t mac[ESP_HMAC_MAX_OUT], hi[4];
  put32(hi, (uint32_t)(seq >> 32));
  esp_hmac_2(&sa->hmac, pkt, hdr + ct_len, hi, sa->esn ? 4u : 0u, mac);
  if (CRYPTO_memcmp(mac, icv, sa->icv_len) != 0) {
    return -1;
  }
  if (EVP_CipherInit_ex(c, NULL, NULL, NULL, pkt + ESP_HDR_LEN, 0) != 1 ||
      EVP_CipherUpdate(c, out, &l1, ct, (int)ct_len) != 1 ||
      EVP_CipherFinal_ex(c, out + l1, &l2) != 1) {
    return -2;
  }
  return 0;
}

/* Check the trailer of the plaintext pt[0..n) and the inner IP header: returns 0
 * and the inner length, or a negative esp_err_t. */
static int esp_check_inner(const uint8_t *pt, size_t n, size_t *inner_len)
{
  uint8_t padlen = pt[n - 2u], nh = pt[n - 1u];
  if ((size_t)padlen + 2u > n) {
    return -ESP_E_BAD_PADDING;
  }
  size_t plen = n - 2u - padlen;
  for (size_t i = 0; i < padlen; i++) {
    if (pt[plen + i] != (uint8_t)(i + 1u)) { /* RFC 4303 2.4: 1, 2, 3, ... */
      return -ESP_E_BAD_PADDING;
    }
  }
  if (nh == ESP_NH_NONE) {
    return -ESP_E_DUMMY;
  }
  /* The inner header's own length trims TFC padding (RFC 4303 2.7). */
  if (nh == ESP_NH_IPV4 && plen >= 20 && (pt[0] >> 4) == 4) {
    size_t tot = get16(pt + 2);
    if (tot < 20 || tot > plen) {
      return -ESP_E_BAD_NEXT_HEADER;
    }
    *inner_len = tot;
    return 0;
  }
  if (nh == ESP_NH_IPV6 && plen >= 40 && (pt[0] >> 4) == 6) {
    size_t tot = 40u + get16(pt + 4);
    if (tot > plen) {
      return -ESP_E_BAD_NEXT_HEADER;
    }
    *inner_len = tot;
    return 0;
  }
  return -ESP_E_BAD_NEXT_HEADER;
}

static int esp_decap_fail(esp_sa_t *sa, int err)
{
  esp_sa_count_drop(sa, (esp_err_t)-err);
  return err;
}

int esp_decap(esp_table_t *t, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
              size_t *inner_len, esp_sa_t **sa_out)
{
  *inner_len = 0;
  if (sa_out != NULL) {
    *sa_out = NULL;
  }
  if (len < ESP_HDR_LEN) {
    esp_table_count_drop(t, ESP_E_TRUNCATED);
    return -ESP_E_TRUNCATED;
  }
  esp_sa_t *sa = esp_table_find_in(t, get32(pkt));
  if (sa == NULL) {
    esp_table_count_drop(t, ESP_E_UNKNOWN_SPI);
    return -ESP_E_UNKNOWN_SPI;
  }
  if (sa_out != NULL) {
    *sa_out = sa;
  }
  if (sa->hard_fired) {
    return esp_decap_fail(sa, -ESP_E_EXPIRED);
  }
  size_t hdr = ESP_HDR_LEN + sa->iv_len;
  if (len < hdr + sa->icv_len + 2u) {
    return esp_decap_fail(sa, -ESP_E_TRUNCATED);
  }
  size_t ct_len = len - hdr - sa->icv_len;
  if (!sa->aead && (ct_len == 0 || ct_len % 16u != 0)) {
    return esp_decap_fail(sa, -ESP_E_TRUNCATED);
  }
  if (ct_len > cap) {
    return esp_decap_fail(sa, -ESP_E_NOSPACE);
  }
  /* Replay check before the (expensive) ICV (RFC 4303 3.4.3). */
  uint64_t seq;
  esp_replay_res_t rr = esp_replay_infer(&sa->replay, get32(pkt + 4), &seq);
  if (rr == ESP_REPLAY_OK) {
    rr = esp_replay_check(&sa->replay, seq);
  }
  if (rr != ESP_REPLAY_OK) {
    return esp_decap_fail(sa, rr == ESP_REPLAY_DUP ? -ESP_E_REPLAY : -ESP_E_TOO_OLD);
  }
  int rc = esp_open(sa, seq, pkt, ct_len, out);
  if (rc != 0) {
    return esp_decap_fail(sa, rc == -1 ? -ESP_E_ICV_FAILED : -ESP_E_CRYPTO);
  }
  size_t ilen = 0;
  rc = esp_check_inner(out, ct_len, &ilen);
  if (rc == -ESP_E_DUMMY) {
    esp_replay_update(&sa->replay, seq); /* authentic, just nothing to deliver */
  }
  if (rc != 0) {
    return esp_decap_fail(sa, rc);
  }
  /* Accepted: only now does the window move (RFC 4303 3.4.3). */
  esp_replay_update(&sa->replay, seq);
  *inner_len = ilen;
  esp_sa_account(sa, ilen);
  return 0;
}
