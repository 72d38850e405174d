/*
 * fuzz_esp.c - libFuzzer target for esp_decap() with a fixed SA table.
 *
 * Input: byte 0 selects the mode and the SA.
 *   mode 0: bytes 1.. are an ESP packet whose SPI is replaced by the chosen SA's
 *           (so every suite's length and ICV paths are reached);
 *   mode 1: bytes 3.. are a plaintext (inner packet | padding | pad length | next
 *           header, all fuzzer-chosen) sealed correctly for the AES-GCM SA with the
 *           sequence number in bytes 1-2: the trailer and inner-header checks after
 *           a valid ICV are fuzzed too.
 * The replay windows are reset for every input so runs are reproducible.
 */
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "esp.h"
#include "esp_sa.h"
#include "ike_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSA 5
static esp_table_t *tbl;
static esp_sa_t *sas[NSA];
static uint8_t key[68];
static EVP_CIPHER_CTX *gcm;

static void fuzz_init(void)
{
  static const struct {
    uint16_t encr, bits, integ;
    bool esn;
  } s[NSA] = {
    {IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, false},
    {IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, true},
    {IKE_ENCR_CHACHA20_POLY1305, 256, IKE_INTEG_NONE, false},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, false},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, true},
  };
  for (size_t i = 0; i < sizeof(key); i++) {
    key[i] = (uint8_t)(i + 1);
  }
  if (esp_table_new(8, &tbl) != 0) {
    __builtin_trap();
  }
  for (int i = 0; i < NSA; i++) {
    bool aead = s[i].encr != IKE_ENCR_AES_CBC;
    size_t alen = s[i].integ == IKE_INTEG_HMAC_SHA1_96 ? 20u : 64u;
    esp_sa_params_t p = {
      .spi = 0x1000u + (uint32_t)i, .dir = ESP_DIR_IN, .encr = s[i].encr,
      .encr_bits = s[i].bits, .integ = s[i].integ, .esn = s[i].esn, .enc_key = key,
      .enc_key_len = s[i].bits / 8u + (aead ? 4u : 0u), .auth_key = key,
      .auth_key_len = aead ? 0 : alen, .replay_window = 64};
    if (esp_table_add(tbl, &p, &sas[i]) != 0) {
      __builtin_trap();
    }
  }
  gcm = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(gcm, EVP_aes_128_gcm(), NULL, key, NULL);
}

/* Seal pt as an ESP packet for SA 0 (AES-GCM-128, salt = key[16..20]). */
static size_t seal(uint16_t seq, const uint8_t *pt, size_t n, uint8_t *pkt)
{
  uint8_t nonce[12] = {0};
  memcpy(nonce, key + 16, 4);
  nonce[10] = (uint8_t)(seq >> 8), nonce[11] = (uint8_t)seq;
  memset(pkt, 0, 16);
  pkt[2] = 0x10; /* SPI 0x1000 */
  pkt[6] = nonce[10], pkt[7] = nonce[11];
  memcpy(pkt + 8, nonce + 4, 8);
  int l, f;
  EVP_EncryptInit_ex(gcm, NULL, NULL, NULL, nonce);
  EVP_EncryptUpdate(gcm, NULL, &l, pkt, 8);
  EVP_EncryptUpdate(gcm, pkt + 16, &l, pt, (int)n);
  EVP_EncryptFinal_ex(gcm, pkt + 16 + l, &f);
  EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_AEAD_GET_TAG, 16, pkt + 16 + n);
  return 16 + n + 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t pkt[70000], out[70000];
  if (tbl == NULL) {
    fuzz_init();
  }
  if (size < 1 || size > 65000) {
    return 0;
  }
  for (int i = 0; i < NSA; i++) {
    esp_replay_init(&sas[i]->replay, 64, sas[i]->esn);
  }
  size_t n, il = 0;
  if ((data[0] & 0x80) == 0) {
    n = size - 1;
    memcpy(pkt, data + 1, n);
    if (n >= 4) {
      uint32_t spi = sas[(data[0] & 0x7f) % NSA]->spi;
      pkt[0] = (uint8_t)(spi >> 24), pkt[1] = (uint8_t)(spi >> 16);
      pkt[2] = (uint8_t)(spi >> 8), pkt[3] = (uint8_t)spi;
    }
  } else {
    if (size < 3) {
      return 0;
    }
    n = seal((uint16_t)(data[1] << 8 | data[2]), data + 3, size - 3, pkt);
  }
  int rc = esp_decap(tbl, pkt, n, out, sizeof(out), &il, NULL);
  if (rc == 0 && (il > n || il < 20)) {
    __builtin_trap(); /* an accepted inner packet is a whole IP header within bounds */
  }
  return 0;
}
