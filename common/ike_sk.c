/*
 * ike_sk.c - the Encrypted (SK, RFC 7296 3.14) and Encrypted Fragment (SKF,
 * RFC 7383 2.5) payloads: AES-CBC + HMAC, AES-GCM (RFC 5282) and
 * ChaCha20-Poly1305 (RFC 7634).
 *
 * Layout from body_off: IV | ciphertext of (inner | padding | pad length) | ICV.
 * CBC: the ICV is the truncated HMAC over the whole message from the first
 * header octet to the last ciphertext octet; it is checked (constant time)
 * before anything is decrypted. AEAD: nonce = salt (last 4 key octets) | IV
 * (8 octets on the wire), AAD = msg[0..body_off) - the IKE header, any clear
 * payloads and the SK/SKF payload header incl. the fragment fields
 * (RFC 5282 5.1, RFC 7383 2.5.3) -, the tag follows the ciphertext.
 *
 * An EVP_CIPHER_CTX is allocated per operation and freed at once, which wipes
 * the key schedule (a long-lived context would keep it in memory between
 * messages); the cipher itself was fetched once at init.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ike_crypto.h"
#include "ike_crypto_int.h"

#define CBC_BLOCK 16u

int ike_sk_dir_init(ike_sk_dir_t *k, const ike_suite_t *s, const uint8_t *ek,
                    const uint8_t *ak) {
  if (k == NULL || s == NULL || ek == NULL) {
    return -IKE_E_CRYPTO;
  }
  memset(k, 0, sizeof(*k));
  if (!ike_encr_supported(s->encr, s->encr_bits)) {
    return -IKE_E_UNSUPPORTED;
  }
  bool aead = ike_encr_is_aead(s->encr);
  if (aead ? s->integ != IKE_INTEG_NONE : !ike_integ_supported(s->integ)) {
    return -IKE_E_UNSUPPORTED;
  }
  if (!aead && ak == NULL) {
    return -IKE_E_CRYPTO;
  }
  k->encr = s->encr;
  k->encr_bits = s->encr_bits;
  k->integ = aead ? IKE_INTEG_NONE : s->integ;
  k->ek_len = (uint8_t)ike_encr_key_len(s->encr, s->encr_bits);
  memcpy(k->ek, ek, k->ek_len);
  if (!aead) {
    k->ak_len = (uint8_t)ike_integ_key_len(s->integ);
    memcpy(k->ak, ak, k->ak_len);
  }
  return 0;
}

void ike_sk_dir_wipe(ike_sk_dir_t *k) { ike_wipe(k, k != NULL ? sizeof(*k) : 0); }

static size_t icv_len(const ike_sk_dir_t *k) {
  return ike_encr_is_aead(k->encr) ? ike_encr_icv_len(k->encr)
                                   : ike_integ_icv_len(k->integ);
}

/* Plaintext bytes after padding: inner | pad | pad length. */
static size_t padded_len(const ike_sk_dir_t *k, size_t inner_len) {
  size_t blk = ike_encr_block_len(k->encr);
  size_t n = inner_len + 1;
  return blk > 1 ? (n + blk - 1) / blk * blk : n;
}

size_t ike_sk_overhead(const ike_sk_dir_t *k, size_t inner_len) {
  if (k == NULL || ike_ci_cipher_idx(k->encr, k->encr_bits) < 0) {
    return 0;
  }
  return ike_encr_iv_len(k->encr) + (padded_len(k, inner_len) - inner_len) + icv_len(k);
}

static bool dir_ok(const ike_sk_dir_t *k) {
  if (k == NULL || ike_ci_cipher_idx(k->encr, k->encr_bits) < 0 ||
      k->ek_len != ike_encr_key_len(k->encr, k->encr_bits)) {
    return false;
  }
  return ike_encr_is_aead(k->encr) ||
         (ike_integ_supported(k->integ) && k->ak_len == ike_integ_key_len(k->integ));
}

/* --- AEAD --- */

static int aead_run(const ike_sk_dir_t *k, int enc, const uint8_t *iv,
                    const uint8_t *aad, size_t alen, const uint8_t *in, size_t len,
                    uint8_t *out, uint8_t *tag) {
  if (!dir_ok(k) || !ike_encr_is_aead(k->encr) || iv == NULL || tag == NULL ||
      len > INT32_MAX || alen > INT32_MAX || (len > 0 && (in == NULL || out == NULL))) {
    return -IKE_E_CRYPTO;
  }
  const EVP_CIPHER *cipher = ike_ci_cipher(ike_ci_cipher_idx(k->encr, k->encr_bits));
  size_t klen = k->ek_len - IKE_AEAD_SALT_LEN;
  size_t tlen = ike_encr_icv_len(k->encr);
  uint8_t nonce[12];
  memcpy(nonce, k->ek + klen, IKE_AEAD_SALT_LEN);  /* RFC 5282 4, RFC 7634 2 */
  memcpy(nonce + IKE_AEAD_SALT_LEN, iv, 8);
  int rc = -IKE_E_CRYPTO, n = 0;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (c == NULL || cipher == NULL ||
      EVP_CipherInit_ex2(c, cipher, k->ek, nonce, enc, NULL) != 1) {
    goto done;
  }
  if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tlen, tag) != 1) {
    goto done;
  }
  if ((alen > 0 && EVP_CipherUpdate(c, NULL, &n, aad, (int)alen) != 1) ||
      (len > 0 && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)) {
    goto done;
  }
  int fin = 0;
  uint8_t scratch[16];  /* AEAD final writes nothing; never pass NULL */
  if (EVP_CipherFinal_ex(c, len > 0 ? out + n : scratch, &fin) != 1) {
    rc = enc ? -IKE_E_CRYPTO : -IKE_E_INTEGRITY;
    goto done;
  }
  if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, (int)tlen, tag) != 1) {
    goto done;
  }
  rc = 0;
done:
  EVP_CIPHER_CTX_free(c);
  ike_wipe(nonce, sizeof(nonce));
  if (rc != 0) {
    if (len > 0 && out != NULL) {
      ike_wipe(out, len);
    }
    ERR_clear_error();
  }
  return rc;
}

int ike_aead_seal(const ike_sk_dir_t *k, const uint8_t *iv, const uint8_t *aad,
                  size_t alen, const uint8_t *in, size_t len, uint8_t *out,
                  uint8_t *tag) {
  return aead_run(k, 1, iv, aad, alen, in, len, out, tag);
}

int ike_aead_open(const ike_sk_dir_t *k, const uint8_t *iv, const uint8_t *aad,
                  size_t alen, const uint8_t *in, size_t len, const uint8_t *tag,
                  uint8_t *out) {
  return aead_run(k, 0, iv, aad, alen, in, len, out, (uint8_t *)tag);
}

/* --- CBC --- */

static int cbc_run(const ike_sk_dir_t *k, int enc, const uint8_t *iv, const uint8_t *in,
                   size_t len, uint8_t *out) {
  const EVP_CIPHER *cipher = ike_ci_cipher(ike_ci_cipher_idx(k->encr, k->encr_bits));
  int rc = -IKE_E_CRYPTO, n = 0, fin = 0;
  if (len % CBC_BLOCK != 0 || len > INT32_MAX) {
    return -IKE_E_BAD_LENGTH;
  }
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (c != NULL && cipher != NULL &&
      EVP_CipherInit_ex2(c, cipher, k->ek, iv, enc, NULL) == 1 &&
      EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
      EVP_CipherUpdate(c, out, &n, in, (int)len) == 1 &&
      EVP_CipherFinal_ex(c, out + n, &fin) == 1 && (size_t)(n + fin) == len) {
    rc = 0;
  }
  EVP_CIPHER_CTX_free(c);
  if (rc != 0) {
    ike_wipe(out, len);
    ERR_clear_error();
  }
  return rc;
}

/* --- SK payload --- */

static void put16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

int ike_sk_seal_iv(const ike_sk_dir_t *k, uint8_t *msg, size_t cap, size_t pld_off,
                   size_t body_off, const uint8_t *inner, size_t inner_len,
                   const uint8_t *iv, size_t *msg_len) {
  if (!dir_ok(k) || msg == NULL || msg_len == NULL || (inner_len > 0 && inner == NULL)) {
    return -IKE_E_CRYPTO;
  }
  if (pld_off < IKE_HDR_LEN || body_off < pld_off + IKE_PLD_HDR_LEN || body_off > cap) {
    return -IKE_E_BAD_LENGTH;
  }
  bool aead = ike_encr_is_aead(k->encr);
  size_t ivl = ike_encr_iv_len(k->encr), icv = icv_len(k);
  size_t plen = padded_len(k, inner_len);
  if (inner_len > 65535 || cap - body_off < ivl + plen + icv) {
    return -IKE_E_NOSPACE;
  }
  size_t total = body_off + ivl + plen + icv;
  if (total - pld_off > 65535) {
    return -IKE_E_BAD_LENGTH;
  }
  uint8_t *ivp = msg + body_off, *ct = ivp + ivl, *icvp = ct + plen;
  int rc = iv != NULL ? (memcpy(ivp, iv, ivl), 0) : ike_random(ivp, ivl);
  if (rc != 0) {
    return rc;
  }
  /* inner | zero padding | pad length (RFC 7296 3.14), encrypted in place. */
  memmove(ct, inner, inner_len);
  memset(ct + inner_len, 0, plen - inner_len - 1);
  ct[plen - 1] = (uint8_t)(plen - inner_len - 1);
  put16(msg + pld_off + 2, total - pld_off);  /* payload length */
  put32(msg + 24, total);                      /* IKE header length */
  if (aead) {
    rc = aead_run(k, 1, ivp, msg, body_off, ct, plen, ct, icvp);
  } else {
    rc = cbc_run(k, 1, ivp, ct, plen, ct);
    if (rc == 0) {
      rc = ike_integ_mac(k->integ, k->ak, k->ak_len, msg, total - icv, icvp);
    }
  }
  if (rc != 0) {
    ike_wipe(msg + body_off, total - body_off);
    return rc;
  }
  *msg_len = total;
  return 0;
}

int ike_sk_seal(const ike_sk_dir_t *k, uint8_t *msg, size_t cap, size_t pld_off,
                size_t body_off, const uint8_t *inner, size_t inner_len,
                size_t *msg_len) {
  return ike_sk_seal_iv(k, msg, cap, pld_off, body_off, inner, inner_len, NULL, msg_len);
}

int ike_sk_open(const ike_sk_dir_t *k, const uint8_t *msg, size_t msg_len,
                size_t pld_off, size_t body_off, uint8_t *out, size_t cap,
                size_t *out_len) {
  if (!dir_ok(k) || msg == NULL || out_len == NULL) {
    return -IKE_E_CRYPTO;
  }
  *out_len = 0;
  if (pld_off < IKE_HDR_LEN || body_off < pld_off + IKE_PLD_HDR_LEN) {
    return -IKE_E_BAD_LENGTH;
  }
  if (msg_len < body_off) {
    return -IKE_E_TRUNC;
  }
  /* The SK/SKF payload is the last one: its length runs to the end. */
  size_t plen_field = ((size_t)msg[pld_off + 2] << 8) | msg[pld_off + 3];
  if (plen_field != msg_len - pld_off) {
    return -IKE_E_BAD_LENGTH;
  }
  bool aead = ike_encr_is_aead(k->encr);
  size_t ivl = ike_encr_iv_len(k->encr), icv = icv_len(k);
  size_t min_ct = aead ? 1u : CBC_BLOCK;
  size_t body = msg_len - body_off;
  if (body < ivl + icv + min_ct) {
    return -IKE_E_TRUNC;
  }
  size_t ct_len = body - ivl - icv;
  if (!aead && ct_len % CBC_BLOCK != 0) {
    return -IKE_E_BAD_LENGTH;
  }
  if (out == NULL || cap < ct_len) {
    return -IKE_E_NOSPACE;
  }
  const uint8_t *iv = msg + body_off, *ct = iv + ivl, *tag = ct + ct_len;
  int rc;
  if (aead) {
    rc = aead_run(k, 0, iv, msg, body_off, ct, ct_len, out, (uint8_t *)tag);
  } else {
    uint8_t mac[IKE_MAX_INTEG_KEY];
    rc = ike_integ_mac(k->integ, k->ak, k->ak_len, msg, msg_len - icv, mac);
    if (rc == 0 && ike_memeq_const(mac, tag, icv) != 0) {
      rc = -IKE_E_INTEGRITY;  /* checked before decrypting (RFC 7296 3.14) */
    }
    ike_wipe(mac, sizeof(mac));
    if (rc == 0) {
      rc = cbc_run(k, 0, iv, ct, ct_len, out);
    }
  }
  if (rc != 0) {
    return rc;
  }
  size_t pad = out[ct_len - 1];
  if (pad > ct_len - 1) {
    ike_wipe(out, ct_len);
    return -IKE_E_BAD_PADDING;
  }
  *out_len = ct_len - 1 - pad;
  ike_wipe(out + *out_len, ct_len - *out_len);  /* padding is not payload */
  return 0;
}
