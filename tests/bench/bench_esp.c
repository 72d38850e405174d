/*
 * bench_esp.c - in-process throughput of the userspace ESP datapath on one core,
 * beside the raw OpenSSL floor for the same cipher and sizes in the same run.
 *
 * For each suite and inner packet size (64 / 512 / 1400 bytes):
 *   ours enc : esp_encap() of one IPv4 packet, repeatedly (full ESP framing);
 *   ours dec : esp_decap() over a ring of pre-encapsulated packets (SPI lookup,
 *              replay check/update, ICV, trailer checks); the replay window is
 *              reset between passes of the ring;
 *   Runs of ours and raw alternate, so both see the same machine load; the
 *   ratio is the median of the per-pair ratios.
 *   raw enc  : a tight EVP loop with the same cipher and no ESP framing: per packet
 *              set the 12-byte nonce, 8 bytes of AAD, encrypt, final, get tag
 *              (as `openssl speed -aead`); for CBC+HMAC: set IV, encrypt, and an
 *              EVP_MAC HMAC (re-initialised per packet, the plain EVP way);
 *   raw dec  : the same decrypting over a ring of sealed buffers, tag checked.
 * Throughput counts inner bytes. Each figure is the median of 5 runs of thread
 * CPU time (CLOCK_THREAD_CPUTIME_ID), so other load on the machine does not
 * count. Usage: bench_esp [--quick]
 */
#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esp.h"
#include "esp_sa.h"
#include "ike_wire.h"

typedef struct bsuite {
  const char *name;
  uint16_t encr, bits, integ;
  const char *cipher, *digest;
} bsuite_t;

static const bsuite_t bsuites[] = {
  {"AES-GCM-128", IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, "AES-128-GCM", NULL},
  {"AES-GCM-256", IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, "AES-256-GCM", NULL},
  {"ChaCha20-Poly1305", IKE_ENCR_CHACHA20_POLY1305, 256, IKE_INTEG_NONE,
   "ChaCha20-Poly1305", NULL},
  {"AES-CBC-256/SHA256", IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, "AES-256-CBC",
   "SHA256"},
};
static const size_t bsizes[] = {64, 512, 1400};

#define RING 256
#define MAXPKT 1600

static double run_target = 0.10; /* seconds of CPU per run */
static uint8_t key[68];

static double cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* A measured operation: does `n` packets, returns 0 on success. */
typedef struct bctx bctx_t;
typedef int (*bop_t)(bctx_t *c, long n);

struct bctx {
  const bsuite_t *s;
  size_t size;
  esp_table_t *t;
  esp_sa_t *out, *in;
  uint8_t inner[MAXPKT];
  uint8_t *ring;      /* RING ESP packets of ours, slots of MAXPKT + 64 */
  uint8_t *rawring;   /* RING raw-sealed buffers for the raw decrypt loop */
  size_t ring_len[RING];
  uint8_t obuf[MAXPKT + 128];
  EVP_CIPHER *cipher;
  EVP_CIPHER_CTX *ectx, *dctx;
  EVP_MAC_CTX *mac;
  uint64_t rseq;
};

/* Iterations of op that take about run_target CPU seconds. */
static long calibrate(bctx_t *c, bop_t op)
{
  long n = 256;
  for (;;) {
    double t0 = cpu_now();
    if (op(c, n) != 0) {
      return -1;
    }
    double dt = cpu_now() - t0;
    if (dt > run_target / 4) {
      return (long)((double)n * run_target / dt) + 1;
    }
    n *= 4;
  }
}

/* Packets/s of ours and raw, median of 5 runs each, the runs interleaved
 * (ours, raw, ours, raw, ...) so both see the same machine load; *ratio is the
 * median of the 5 per-pair ratios. Returns -1 if an operation failed. */
static int measure_pair(bctx_t *c, bop_t ours, bop_t raw, double *po, double *pr,
                        double *ratio)
{
  long no = calibrate(c, ours), nr = calibrate(c, raw);
  if (no < 0 || nr < 0) {
    return -1;
  }
  double ro[5], rr[5], q[5];
  for (int i = 0; i < 5; i++) {
    double t0 = cpu_now();
    if (ours(c, no) != 0) {
      return -1;
    }
    double t1 = cpu_now();
    if (raw(c, nr) != 0) {
      return -1;
    }
    double t2 = cpu_now();
    ro[i] = (double)no / (t1 - t0);
    rr[i] = (double)nr / (t2 - t1);
    q[i] = ro[i] / rr[i];
  }
  qsort(ro, 5, sizeof(ro[0]), cmp_double);
  qsort(rr, 5, sizeof(rr[0]), cmp_double);
  qsort(q, 5, sizeof(q[0]), cmp_double);
  *po = ro[2];
  *pr = rr[2];
  *ratio = q[2];
  return 0;
}

/* --- ours --- */

static int op_enc(bctx_t *c, long n)
{
  size_t len;
  for (long i = 0; i < n; i++) {
    if (esp_encap(c->out, c->inner, c->size, c->obuf, sizeof(c->obuf), &len) != 0) {
      return -1;
    }
  }
  return 0;
}

static int op_dec(bctx_t *c, long n)
{
  size_t il;
  for (long i = 0; i < n; i++) {
    long k = i % RING;
    if (k == 0) { /* replay the ring: forget what was seen */
      c->in->replay.top = 0;
      memset(c->in->replay.bits, 0, sizeof(c->in->replay.bits));
    }
    if (esp_decap(c->t, c->ring + (size_t)k * (MAXPKT + 64), c->ring_len[k], c->obuf,
                  sizeof(c->obuf), &il, NULL) != 0) {
      return -1;
    }
  }
  return 0;
}

/* --- raw OpenSSL --- */

static void be64(uint8_t *p, uint64_t v)
{
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)v;
    v >>= 8;
  }
}

static int raw_seal(bctx_t *c, uint8_t *dst, uint64_t seq)
{
  uint8_t nonce[12] = {1, 2, 3, 4}, aad[8] = {0xc0, 0xde, 0, 1};
  int l, f;
  be64(nonce + 4, seq);
  memcpy(aad + 4, nonce + 8, 4);
  if (c->mac == NULL) {
    return EVP_EncryptInit_ex(c->ectx, NULL, NULL, NULL, nonce) == 1 &&
           EVP_EncryptUpdate(c->ectx, NULL, &l, aad, 8) == 1 &&
           EVP_EncryptUpdate(c->ectx, dst, &l, c->inner, (int)c->size) == 1 &&
           EVP_EncryptFinal_ex(c->ectx, dst + l, &f) == 1 &&
           EVP_CIPHER_CTX_ctrl(c->ectx, EVP_CTRL_AEAD_GET_TAG, 16, dst + c->size) == 1
         ? 0 : -1;
  }
  size_t ml;
  uint8_t md[64];
  size_t blen = (c->size + 15u) & ~(size_t)15u;
  return EVP_EncryptInit_ex(c->ectx, NULL, NULL, NULL, nonce) == 1 &&
         EVP_EncryptUpdate(c->ectx, dst, &l, c->inner, (int)blen) == 1 &&
         EVP_EncryptFinal_ex(c->ectx, dst + l, &f) == 1 &&
         EVP_MAC_init(c->mac, NULL, 0, NULL) == 1 &&
         EVP_MAC_update(c->mac, dst, blen) == 1 &&
         EVP_MAC_final(c->mac, md, &ml, sizeof(md)) == 1
       ? (memcpy(dst + blen, md, 16), 0) : -1;
}

static int op_raw_enc(bctx_t *c, long n)
{
  for (long i = 0; i < n; i++) {
    if (raw_seal(c, c->obuf, ++c->rseq) != 0) {
      return -1;
    }
  }
  return 0;
}

static int op_raw_dec(bctx_t *c, long n)
{
  uint8_t nonce[12] = {1, 2, 3, 4}, aad[8] = {0xc0, 0xde, 0, 1}, md[64];
  int l, f;
  size_t ml, blen = (c->size + 15u) & ~(size_t)15u;
  for (long i = 0; i < n; i++) {
    long k = i % RING;
    const uint8_t *src = c->rawring + (size_t)k * (MAXPKT + 64);
    be64(nonce + 4, (uint64_t)k + 1u);
    memcpy(aad + 4, nonce + 8, 4);
    int ok;
    if (c->mac == NULL) {
      ok = EVP_DecryptInit_ex(c->dctx, NULL, NULL, NULL, nonce) == 1 &&
           EVP_DecryptUpdate(c->dctx, NULL, &l, aad, 8) == 1 &&
           EVP_DecryptUpdate(c->dctx, c->obuf, &l, src, (int)c->size) == 1 &&
           EVP_CIPHER_CTX_ctrl(c->dctx, EVP_CTRL_AEAD_SET_TAG, 16,
                               (void *)(src + c->size)) == 1 &&
           EVP_DecryptFinal_ex(c->dctx, c->obuf + l, &f) == 1;
    } else {
      ok = EVP_MAC_init(c->mac, NULL, 0, NULL) == 1 &&
           EVP_MAC_update(c->mac, src, blen) == 1 &&
           EVP_MAC_final(c->mac, md, &ml, sizeof(md)) == 1 &&
           memcmp(md, src + blen, 16) == 0 &&
           EVP_DecryptInit_ex(c->dctx, NULL, NULL, NULL, nonce) == 1 &&
           EVP_DecryptUpdate(c->dctx, c->obuf, &l, src, (int)blen) == 1 &&
           EVP_DecryptFinal_ex(c->dctx, c->obuf + l, &f) == 1;
    }
    if (!ok) {
      return -1;
    }
  }
  return 0;
}

/* --- setup --- */

static int setup(bctx_t *c, const bsuite_t *s, size_t size)
{
  memset(c, 0, sizeof(*c));
  c->s = s;
  c->size = size;
  c->ring = malloc((size_t)RING * (MAXPKT + 64));
  c->rawring = malloc((size_t)RING * (MAXPKT + 64));
  if (c->ring == NULL || c->rawring == NULL || esp_table_new(4, &c->t) != 0) {
    return -1;
  }
  bool aead = s->encr != IKE_ENCR_AES_CBC;
  struct sockaddr_in l = {.sin_family = AF_INET, .sin_port = htons(4500)};
  struct sockaddr_in r = l;
  l.sin_addr.s_addr = htonl(0xc0000201);
  r.sin_addr.s_addr = htonl(0xc6336407);
  esp_sa_params_t p = {
    .spi = 0xc0de0001u, .encr = s->encr, .encr_bits = s->bits, .integ = s->integ,
    .enc_key = key, .enc_key_len = s->bits / 8u + (aead ? 4u : 0u),
    .auth_key = key + 36, .auth_key_len = aead ? 0 : 32,
    .local = (struct sockaddr *)&l, .peer = (struct sockaddr *)&r, .udp_encap = true};
  p.dir = ESP_DIR_OUT;
  if (esp_table_add(c->t, &p, &c->out) != 0) {
    return -1;
  }
  p.dir = ESP_DIR_IN;
  if (esp_table_add(c->t, &p, &c->in) != 0) {
    return -1;
  }
  /* inner IPv4 packet */
  memset(c->inner, 0xab, sizeof(c->inner));
  c->inner[0] = 0x45;
  c->inner[2] = (uint8_t)(size >> 8);
  c->inner[3] = (uint8_t)size;
  for (int k = 0; k < RING; k++) {
    if (esp_encap(c->out, c->inner, size, c->ring + (size_t)k * (MAXPKT + 64),
                  MAXPKT + 64, &c->ring_len[k]) != 0) {
      return -1;
    }
  }
  /* raw contexts: the same cipher, keyed once */
  c->cipher = EVP_CIPHER_fetch(NULL, s->cipher, NULL);
  c->ectx = EVP_CIPHER_CTX_new();
  c->dctx = EVP_CIPHER_CTX_new();
  if (c->cipher == NULL || EVP_EncryptInit_ex(c->ectx, c->cipher, NULL, key, NULL) != 1 ||
      EVP_DecryptInit_ex(c->dctx, c->cipher, NULL, key, NULL) != 1) {
    return -1;
  }
  if (!aead) {
    EVP_CIPHER_CTX_set_padding(c->ectx, 0);
    EVP_CIPHER_CTX_set_padding(c->dctx, 0);
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    c->mac = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);
    OSSL_PARAM prm[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)s->digest, 0),
      OSSL_PARAM_construct_end()};
    if (c->mac == NULL || EVP_MAC_init(c->mac, key + 36, 32, prm) != 1) {
      return -1;
    }
  }
  return 0;
}

static void teardown(bctx_t *c)
{
  esp_table_free(c->t);
  free(c->ring);
  free(c->rawring);
  EVP_CIPHER_CTX_free(c->ectx);
  EVP_CIPHER_CTX_free(c->dctx);
  EVP_MAC_CTX_free(c->mac);
  EVP_CIPHER_free(c->cipher);
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
    run_target = 0.02;
  }
  for (size_t i = 0; i < sizeof(key); i++) {
    key[i] = (uint8_t)(i * 7 + 1);
  }
  printf("ESP userspace datapath, one core, median of 5 runs (thread CPU time);\n"
         "Gbit/s of inner bytes; ratio = ours / raw OpenSSL (same cipher, no ESP framing)\n\n");
  printf("%-19s %5s | %8s %6s %8s %6s | %8s %6s %8s %6s\n", "suite", "bytes", "enc Gb/s",
         "Mpps", "raw Gb/s", "ratio", "dec Gb/s", "Mpps", "raw Gb/s", "ratio");
  int ok = 1;
  double worst1400 = 10;
  for (size_t si = 0; si < sizeof(bsuites) / sizeof(bsuites[0]); si++) {
    for (size_t zi = 0; zi < sizeof(bsizes) / sizeof(bsizes[0]); zi++) {
      bctx_t c;
      if (setup(&c, &bsuites[si], bsizes[zi]) != 0) {
        fprintf(stderr, "setup failed: %s %zu\n", bsuites[si].name, bsizes[zi]);
        return 1;
      }
      for (int k = 0; k < RING; k++) { /* the raw decrypt loop's own ring */
        if (raw_seal(&c, c.rawring + (size_t)k * (MAXPKT + 64), (uint64_t)k + 1u) != 0) {
          ok = 0;
        }
      }
      double enc, rre, qe, dec, rde, qd;
      if (measure_pair(&c, op_enc, op_raw_enc, &enc, &rre, &qe) != 0 ||
          measure_pair(&c, op_dec, op_raw_dec, &dec, &rde, &qd) != 0) {
        ok = 0;
        enc = rre = qe = dec = rde = qd = 0;
      }
      double bits = (double)c.size * 8;
      printf("%-19s %5zu | %8.2f %6.2f %8.2f %5.0f%% | %8.2f %6.2f %8.2f %5.0f%%\n",
             bsuites[si].name, c.size, enc * bits / 1e9, enc / 1e6, rre * bits / 1e9,
             100 * qe, dec * bits / 1e9, dec / 1e6, rde * bits / 1e9, 100 * qd);
      if (c.size == 1400) {
        worst1400 = qe < worst1400 ? qe : worst1400;
        worst1400 = qd < worst1400 ? qd : worst1400;
      }
      teardown(&c);
    }
  }
  printf("\nGoal: ours >= 60%% of raw at 1400 bytes: %s (worst ratio %.0f%%)\n",
         worst1400 >= 0.6 ? "MET" : "NOT MET", worst1400 * 100);
  if (!ok) {
    fprintf(stderr, "a measured operation failed\n");
    return 1;
  }
  return 0;
}
