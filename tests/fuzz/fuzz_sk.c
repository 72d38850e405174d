/*
 * fuzz_sk.c - libFuzzer harness for ike_sk_open (SK/SKF decryption of
 * untrusted messages) and, as a self-check, seal -> open round trips.
 *
 * Input: byte 0 picks the suite (low 3 bits), SK vs SKF (bit 3) and the mode
 * (bit 4: treat the rest as a received message; else seal the rest as the
 * inner payload and require that open returns it unchanged). Keys are fixed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ike_suite_t suites[8] = {
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, 0, 0, false},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, 0, 0, false},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, 0, 0, false},
    {IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_AES_GCM_8, 256, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE, 0, 0, false},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_384_192, 0, 0, false},
};

static ike_sk_dir_t dirs[8];

static void init_once(void) {
  static int done;
  if (done) {
    return;
  }
  if (ike_crypto_init() != 0) {
    abort();
  }
  uint8_t ek[IKE_MAX_ENCR_KEY], ak[IKE_MAX_INTEG_KEY];
  for (size_t i = 0; i < sizeof(ek); i++) {
    ek[i] = (uint8_t)(i * 3 + 1);
  }
  for (size_t i = 0; i < sizeof(ak); i++) {
    ak[i] = (uint8_t)(i * 5 + 2);
  }
  for (int i = 0; i < 8; i++) {
    if (ike_sk_dir_init(&dirs[i], &suites[i], ek, ak) != 0) {
      abort();
    }
  }
  done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t msg[70000], out[70000];
  init_once();
  if (size < 1) {
    return 0;
  }
  const ike_sk_dir_t *k = &dirs[data[0] & 7];
  size_t pld = IKE_HDR_LEN, body = pld + ((data[0] & 8) ? 8 : 4);
  const uint8_t *rest = data + 1;
  size_t n = size - 1, out_len = 0;
  if (data[0] & 16) {
    /* Received message: must fail cleanly or succeed within bounds. */
    int rc = ike_sk_open(k, rest, n, pld, body, out, sizeof(out), &out_len);
    if (rc == 0 && out_len > n) {
      abort();
    }
    return 0;
  }
  /* Round trip of rest as the inner payload. */
  size_t len = 0;
  memset(msg, 0, body);
  if (ike_sk_seal(k, msg, sizeof(msg), pld, body, rest, n, &len) != 0) {
    if (n <= 65000) {
      abort();  /* sealing a fitting payload must work */
    }
    return 0;
  }
  if (ike_sk_open(k, msg, len, pld, body, out, sizeof(out), &out_len) != 0 ||
      out_len != n || memcmp(out, rest, n) != 0) {
    abort();
  }
  return 0;
}
