/*
 * ike_prf.c - PRF, prf+ (RFC 7296 2.13), IKE SA keys (2.14, 2.18), CHILD SA
 * keying material (2.17), AUTH with a shared key (2.15), integrity ICVs.
 *
 * Every PRF here is HMAC (RFC 2104) over a fetched digest. For prf+ the key
 * is set once; each iteration duplicates the keyed context (copying the
 * already hashed inner/outer pads) instead of re-keying, and every context is
 * freed (wiped) at once.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ike_crypto.h"
#include "ike_crypto_int.h"

#define IKE_MAX_NONCE 256u      /* RFC 7296 3.9 */
#define IKE_PRF_PLUS_MAX 255u   /* the counter is one octet (RFC 7296 2.13) */
/* "Key Pad for IKEv2", 17 ASCII octets, no terminating NUL (RFC 7296 2.15). */
static const uint8_t key_pad[] = {'K', 'e', 'y', ' ', 'P', 'a', 'd', ' ', 'f',
                                  'o', 'r', ' ', 'I', 'K', 'E', 'v', '2'};

/* A context keyed with key (HMAC accepts any key length, RFC 2104 2). */
static EVP_MAC_CTX *hmac_keyed(int md, const uint8_t *key, size_t klen) {
  static const uint8_t empty = 0;
  EVP_MAC_CTX *c = ike_ci_hmac_new(md);
  if (c == NULL) {
    return NULL;
  }
  if (EVP_MAC_init(c, key != NULL ? key : &empty, klen, NULL) != 1) {
    EVP_MAC_CTX_free(c);
    ERR_clear_error();
    return NULL;
  }
  return c;
}

static int hmac_feed(EVP_MAC_CTX *c, const uint8_t *const *data, const size_t *dlen,
                     size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (dlen[i] > 0 && (data[i] == NULL || EVP_MAC_update(c, data[i], dlen[i]) != 1)) {
      return -IKE_E_CRYPTO;
    }
  }
  return 0;
}

static int hmac_final(EVP_MAC_CTX *c, uint8_t *out, size_t outsize) {
  size_t got = 0;
  if (EVP_MAC_final(c, out, &got, outsize) != 1 || got != outsize) {
    return -IKE_E_CRYPTO;
  }
  return 0;
}

int ike_prfv(uint16_t prf, const uint8_t *key, size_t klen,
             const uint8_t *const *data, const size_t *dlen, size_t n,
             uint8_t *out) {
  int md = ike_ci_prf_md(prf);
  size_t olen = ike_prf_len(prf);
  if (md < 0) {
    return -IKE_E_UNSUPPORTED;
  }
  if (out == NULL || (n > 0 && (data == NULL || dlen == NULL))) {
    return -IKE_E_CRYPTO;
  }
  EVP_MAC_CTX *c = hmac_keyed(md, key, klen);
  if (c == NULL) {
    return -IKE_E_CRYPTO;
  }
  int rc = hmac_feed(c, data, dlen, n);
  if (rc == 0) {
    rc = hmac_final(c, out, olen);
  }
  EVP_MAC_CTX_free(c);
  if (rc != 0) {
    ike_wipe(out, olen);
    ERR_clear_error();
  }
  return rc;
}

int ike_prf(uint16_t prf, const uint8_t *key, size_t klen, const uint8_t *data,
            size_t dlen, uint8_t *out) {
  const uint8_t *d[1] = {data};
  size_t l[1] = {dlen};
  return ike_prfv(prf, key, klen, d, l, 1, out);
}

/* prf+ (RFC 7296 2.13) over a seed given in pieces:
 * T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). */
static int prf_plus_v(uint16_t prf, const uint8_t *key, size_t klen,
                      const uint8_t *const *seed, const size_t *slen, size_t n,
                      uint8_t *out, size_t outlen) {
  int md = ike_ci_prf_md(prf);
  size_t hlen = ike_prf_len(prf);
  if (md < 0) {
    return -IKE_E_UNSUPPORTED;
  }
  if (out == NULL) {
    return -IKE_E_CRYPTO;
  }
  if (outlen > IKE_PRF_PLUS_MAX * hlen) {
    return -IKE_E_BAD_LENGTH;
  }
  EVP_MAC_CTX *keyed = hmac_keyed(md, key, klen);
  if (keyed == NULL) {
    return -IKE_E_CRYPTO;
  }
  uint8_t t[IKE_MAX_PRF_LEN];
  int rc = 0;
  size_t done = 0;
  for (unsigned i = 1; done < outlen && rc == 0; i++) {
    uint8_t ctr = (uint8_t)i;
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(keyed);
    if (c == NULL || (i > 1 && EVP_MAC_update(c, t, hlen) != 1)) {
      rc = -IKE_E_CRYPTO;
    }
    if (rc == 0) {
      rc = hmac_feed(c, seed, slen, n);
    }
    if (rc == 0 && EVP_MAC_update(c, &ctr, 1) != 1) {
      rc = -IKE_E_CRYPTO;
    }
    if (rc == 0) {
      rc = hmac_final(c, t, hlen);
    }
    EVP_MAC_CTX_free(c);
    if (rc == 0) {
      size_t take = outlen - done < hlen ? outlen - done : hlen;
      memcpy(out + done, t, take);
      done += take;
    }
  }
  EVP_MAC_CTX_free(keyed);
  ike_wipe(t, sizeof(t));
  if (rc != 0) {
    ike_wipe(out, outlen);
    ERR_clear_error();
  }
  return rc;
}

int ike_prf_plus(uint16_t prf, const uint8_t *key, size_t klen,
                 const uint8_t *seed, size_t slen, uint8_t *out, size_t outlen) {
  const uint8_t *d[1] = {seed};
  size_t l[1] = {slen};
  return prf_plus_v(prf, key, klen, d, l, 1, out, outlen);
}

/* Key lengths of a suite; -IKE_E_UNSUPPORTED for an incomplete one. */
static int suite_lengths(const ike_suite_t *s, ike_keys_t *k) {
  if (!ike_prf_supported(s->prf) || !ike_encr_supported(s->encr, s->encr_bits)) {
    return -IKE_E_UNSUPPORTED;
  }
  if (ike_encr_is_aead(s->encr)) {
    if (s->integ != IKE_INTEG_NONE) {
      return -IKE_E_UNSUPPORTED;  /* RFC 5282 8: no INTEG with an AEAD */
    }
    k->a_len = 0;
  } else {
    if (!ike_integ_supported(s->integ)) {
      return -IKE_E_UNSUPPORTED;
    }
    k->a_len = (uint8_t)ike_integ_key_len(s->integ);
  }
  k->d_len = k->p_len = (uint8_t)ike_prf_len(s->prf);
  k->e_len = (uint8_t)ike_encr_key_len(s->encr, s->encr_bits);
  return 0;
}

static void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
 * prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) (RFC 7296 2.14). */
static int expand_keys(uint16_t prf, const uint8_t *skeyseed, size_t sklen,
                       const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                       size_t nr_len, uint64_t spi_i, uint64_t spi_r, ike_keys_t *k) {
  uint8_t spis[16];
  put_be64(spis, spi_i);
  put_be64(spis + 8, spi_r);
  const uint8_t *seed[3] = {ni, nr, spis};
  size_t slen[3] = {ni_len, nr_len, sizeof(spis)};
  uint8_t km[IKE_MAX_PRF_LEN * 3 + IKE_MAX_INTEG_KEY * 2 + IKE_MAX_ENCR_KEY * 2];
  size_t total = (size_t)k->d_len + 2u * k->a_len + 2u * k->e_len + 2u * k->p_len;
  int rc = prf_plus_v(prf, skeyseed, sklen, seed, slen, 3, km, total);
  if (rc == 0) {
    const uint8_t *p = km;
    memcpy(k->sk_d, p, k->d_len), p += k->d_len;
    memcpy(k->sk_ai, p, k->a_len), p += k->a_len;
    memcpy(k->sk_ar, p, k->a_len), p += k->a_len;
    memcpy(k->sk_ei, p, k->e_len), p += k->e_len;
    memcpy(k->sk_er, p, k->e_len), p += k->e_len;
    memcpy(k->sk_pi, p, k->p_len), p += k->p_len;
    memcpy(k->sk_pr, p, k->p_len);
  }
  ike_wipe(km, sizeof(km));
  return rc;
}

static bool nonces_ok(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len) {
  return ni != NULL && nr != NULL && ni_len > 0 && nr_len > 0 &&
         ni_len <= IKE_MAX_NONCE && nr_len <= IKE_MAX_NONCE;
}

int ike_keys_derive(const ike_suite_t *s, const uint8_t *ni, size_t ni_len,
                    const uint8_t *nr, size_t nr_len, const uint8_t *g_ir,
                    size_t g_len, uint64_t spi_i, uint64_t spi_r,
                    ike_keys_t *out) {
  if (s == NULL || out == NULL || g_ir == NULL) {
    return -IKE_E_CRYPTO;
  }
  memset(out, 0, sizeof(*out));
  int rc = suite_lengths(s, out);
  if (rc != 0) {
    return rc;
  }
  if (!nonces_ok(ni, ni_len, nr, nr_len)) {
    return -IKE_E_BAD_LENGTH;
  }
  /* SKEYSEED = prf(Ni | Nr, g^ir): HMAC PRFs take the nonces whole (2.14). */
  uint8_t nn[2 * IKE_MAX_NONCE];
  uint8_t skeyseed[IKE_MAX_PRF_LEN];
  memcpy(nn, ni, ni_len);
  memcpy(nn + ni_len, nr, nr_len);
  rc = ike_prf(s->prf, nn, ni_len + nr_len, g_ir, g_len, skeyseed);
  if (rc == 0) {
    rc = expand_keys(s->prf, skeyseed, ike_prf_len(s->prf), ni, ni_len, nr, nr_len,
                     spi_i, spi_r, out);
  }
  ike_wipe(skeyseed, sizeof(skeyseed));
  ike_wipe(nn, sizeof(nn));
  if (rc != 0) {
    ike_keys_wipe(out);
  }
  return rc;
}

int ike_keys_derive_rekey(const ike_suite_t *s, uint16_t old_prf,
                          const uint8_t *old_sk_d, size_t old_d_len,
                          const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                          size_t nr_len, const uint8_t *g_ir, size_t g_len,
                          uint64_t spi_i, uint64_t spi_r, ike_keys_t *out) {
  if (s == NULL || out == NULL || old_sk_d == NULL || g_ir == NULL) {
    return -IKE_E_CRYPTO;
  }
  memset(out, 0, sizeof(*out));
  int rc = suite_lengths(s, out);
  if (rc != 0) {
    return rc;
  }
  if (!ike_prf_supported(old_prf)) {
    return -IKE_E_UNSUPPORTED;
  }
  if (!nonces_ok(ni, ni_len, nr, nr_len)) {
    return -IKE_E_BAD_LENGTH;
  }
  /* SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the old SA's PRF;
   * the new SA's PRF runs prf+ (RFC 7296 2.18). */
  uint8_t skeyseed[IKE_MAX_PRF_LEN];
  const uint8_t *d[3] = {g_ir, ni, nr};
  size_t l[3] = {g_len, ni_len, nr_len};
  rc = ike_prfv(old_prf, old_sk_d, old_d_len, d, l, 3, skeyseed);
  if (rc == 0) {
    rc = expand_keys(s->prf, skeyseed, ike_prf_len(old_prf), ni, ni_len, nr, nr_len,
                     spi_i, spi_r, out);
  }
  ike_wipe(skeyseed, sizeof(skeyseed));
  if (rc != 0) {
    ike_keys_wipe(out);
  }
  return rc;
}

void ike_keys_wipe(ike_keys_t *k) { ike_wipe(k, k != NULL ? sizeof(*k) : 0); }

int ike_child_keymat(uint16_t prf, const uint8_t *sk_d, size_t d_len,
                     const uint8_t *g_ir, size_t g_len, const uint8_t *ni,
                     size_t ni_len, const uint8_t *nr, size_t nr_len,
                     uint8_t *out, size_t outlen) {
  if (sk_d == NULL || out == NULL) {
    return -IKE_E_CRYPTO;
  }
  if (!nonces_ok(ni, ni_len, nr, nr_len)) {
    return -IKE_E_BAD_LENGTH;
  }
  /* KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 2.17). */
  const uint8_t *d[3] = {g_ir, ni, nr};
  size_t l[3] = {g_ir != NULL ? g_len : 0, ni_len, nr_len};
  return prf_plus_v(prf, sk_d, d_len, d, l, 3, out, outlen);
}

int ike_auth_maced_id(uint16_t prf, const uint8_t *sk_p, size_t plen,
                      const uint8_t *id_body, size_t id_len, uint8_t *out) {
  return ike_prf(prf, sk_p, plen, id_body, id_len, out);
}

int ike_auth_psk(uint16_t prf, const uint8_t *psk, size_t psk_len,
                 const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
                 size_t nonce_len, const uint8_t *maced_id, uint8_t *out) {
  if (maced_id == NULL || out == NULL) {
    return -IKE_E_CRYPTO;
  }
  /* AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
   * with SignedOctets = message | Nonce(peer) | MACedIDForX (2.15). */
  uint8_t k[IKE_MAX_PRF_LEN];
  size_t hlen = ike_prf_len(prf);
  int rc = ike_prf(prf, psk, psk_len, key_pad, sizeof(key_pad), k);
  if (rc == 0) {
    const uint8_t *d[3] = {msg, nonce, maced_id};
    size_t l[3] = {msg_len, nonce_len, hlen};
    rc = ike_prfv(prf, k, hlen, d, l, 3, out);
  }
  ike_wipe(k, sizeof(k));
  return rc;
}

int ike_integ_mac(uint16_t integ, const uint8_t *key, size_t klen, const uint8_t *data,
                  size_t dlen, uint8_t *out) {
  int md = ike_ci_integ_md(integ);
  if (md < 0) {
    return -IKE_E_UNSUPPORTED;
  }
  if (out == NULL || (dlen > 0 && data == NULL)) {
    return -IKE_E_CRYPTO;
  }
  EVP_MAC_CTX *c = hmac_keyed(md, key, klen);
  if (c == NULL) {
    return -IKE_E_CRYPTO;
  }
  uint8_t full[IKE_MAX_PRF_LEN];
  size_t flen = EVP_MAC_CTX_get_mac_size(c);
  size_t got = 0;
  int rc = -IKE_E_CRYPTO;
  if ((dlen == 0 || EVP_MAC_update(c, data, dlen) == 1) && flen <= sizeof(full) &&
      EVP_MAC_final(c, full, &got, sizeof(full)) == 1 && got == flen) {
    /* RFC 4868 2.3 / RFC 2404 2: the ICV is the leftmost bits. */
    memcpy(out, full, ike_integ_icv_len(integ));
    rc = 0;
  }
  EVP_MAC_CTX_free(c);
  ike_wipe(full, sizeof(full));
  if (rc != 0) {
    ERR_clear_error();
  }
  return rc;
}
