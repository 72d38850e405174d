/*
 * bench_crypto.c - cost of the IKE crypto floor through our ike_crypto API:
 * DH key generation and shared secret per group, the IKE SA key derivation
 * (SKEYSEED + prf+ for the 7 keys) per suite, SK seal + open of a 256-byte
 * inner payload per suite. Prints ns/op, the median of 5 runs.
 * tests/bench/run_crypto.sh puts `openssl speed` figures beside these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_crypto.h"

#define RUNS 5

typedef int (*op_fn)(void *arg);

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  /* CPU time, like openssl speed */
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median over RUNS of the mean ns/op of `iters` calls. */
static double measure(op_fn fn, void *arg, long iters) {
  double r[RUNS];
  if (fn(arg) != 0) {  /* warm-up, and fail loudly on a broken op */
    fprintf(stderr, "bench op failed\n");
    exit(1);
  }
  for (int i = 0; i < RUNS; i++) {
    double t0 = now_ns();
    for (long j = 0; j < iters; j++) {
      if (fn(arg) != 0) {
        fprintf(stderr, "bench op failed\n");
        exit(1);
      }
    }
    r[i] = (now_ns() - t0) / (double)iters;
  }
  qsort(r, RUNS, sizeof(r[0]), cmp_double);
  return r[RUNS / 2];
}

/* Iterations so that one run lasts about target_ms. */
static long calibrate(op_fn fn, void *arg, double target_ms) {
  double t0 = now_ns();
  long n = 0;
  while (now_ns() - t0 < target_ms * 1e6 / 10) {
    if (fn(arg) != 0) {
      return 1;
    }
    n++;
  }
  return n * 10 > 0 ? n * 10 : 1;
}

static void row(const char *group, const char *name, double ns) {
  printf("%-8s %-34s %12.0f %12.0f\n", group, name, ns, 1e9 / ns);
}

/* --- DH --- */
typedef struct {
  uint16_t group;
  uint8_t peer[IKE_MAX_DH_PUB];
  size_t peer_len;
  ike_dh_t *mine;
} dh_arg_t;

static int op_dh_keygen(void *p) {
  dh_arg_t *a = p;
  ike_dh_t *dh = NULL;
  int rc = ike_dh_new(a->group, &dh);
  ike_dh_free(dh);
  return rc;
}

static int op_dh_shared(void *p) {
  dh_arg_t *a = p;
  uint8_t s[IKE_MAX_DH_SECRET];
  size_t n = 0;
  return ike_dh_shared(a->mine, a->peer, a->peer_len, s, sizeof(s), &n);
}

static int op_dh_both(void *p) {
  dh_arg_t *a = p;
  ike_dh_t *dh = NULL;
  uint8_t s[IKE_MAX_DH_SECRET];
  size_t n = 0;
  int rc = ike_dh_new(a->group, &dh);
  if (rc == 0) {
    rc = ike_dh_shared(dh, a->peer, a->peer_len, s, sizeof(s), &n);
  }
  ike_dh_free(dh);
  return rc;
}

static void bench_dh(void) {
  static const struct {
    uint16_t g;
    const char *name;
  } groups[] = {{IKE_DH_MODP_2048, "modp2048"}, {IKE_DH_ECP_256, "ecp256"},
                {IKE_DH_ECP_384, "ecp384"},     {IKE_DH_ECP_521, "ecp521"},
                {IKE_DH_CURVE25519, "x25519"}};
  for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
    dh_arg_t a = {.group = groups[i].g};
    ike_dh_t *peer = NULL;
    if (ike_dh_new(a.group, &peer) != 0 || ike_dh_new(a.group, &a.mine) != 0 ||
        ike_dh_public(peer, a.peer, sizeof(a.peer), &a.peer_len) != 0) {
      fprintf(stderr, "dh setup failed\n");
      exit(1);
    }
    char name[64];
    double kg = measure(op_dh_keygen, &a, calibrate(op_dh_keygen, &a, 150));
    double sh = measure(op_dh_shared, &a, calibrate(op_dh_shared, &a, 150));
    double both = measure(op_dh_both, &a, calibrate(op_dh_both, &a, 150));
    snprintf(name, sizeof(name), "%s keygen", groups[i].name);
    row("dh", name, kg);
    snprintf(name, sizeof(name), "%s shared", groups[i].name);
    row("dh", name, sh);
    snprintf(name, sizeof(name), "%s keygen+shared", groups[i].name);
    row("dh", name, both);
    ike_dh_free(peer);
    ike_dh_free(a.mine);
  }
}

/* --- key derivation --- */
typedef struct {
  ike_suite_t s;
  uint8_t ni[32], nr[32], gir[256];
} kd_arg_t;

static int op_keys(void *p) {
  kd_arg_t *a = p;
  ike_keys_t k;
  int rc = ike_keys_derive(&a->s, a->ni, 32, a->nr, 32, a->gir, 256, 1, 2, &k);
  ike_keys_wipe(&k);
  return rc;
}

static const struct {
  const char *name;
  ike_suite_t s;
} suites[] = {
    {"aes128cbc-sha1-prfsha1", {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, IKE_PRF_HMAC_SHA1, 0, false}},
    {"aes256cbc-sha256-prfsha256", {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, IKE_PRF_HMAC_SHA2_256, 0, false}},
    {"aes256cbc-sha512-prfsha512", {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, IKE_PRF_HMAC_SHA2_512, 0, false}},
    {"aes128gcm16-prfsha256", {IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256, 0, false}},
    {"aes256gcm16-prfsha384", {IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_384, 0, false}},
    {"chacha20poly1305-prfsha256", {IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE, IKE_PRF_HMAC_SHA2_256, 0, false}},
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static void bench_keys(void) {
  for (size_t i = 0; i < NSUITES; i++) {
    kd_arg_t a = {.s = suites[i].s};
    memset(a.ni, 1, 32);
    memset(a.nr, 2, 32);
    memset(a.gir, 3, 256);
    row("keys", suites[i].name, measure(op_keys, &a, calibrate(op_keys, &a, 100)));
  }
}

/* --- SK seal + open --- */
typedef struct {
  ike_sk_dir_t k;
  uint8_t inner[256], msg[512], out[512];
} sk_arg_t;

static int op_sk(void *p) {
  sk_arg_t *a = p;
  size_t len = 0, n = 0;
  int rc = ike_sk_seal(&a->k, a->msg, sizeof(a->msg), 28, 32, a->inner, 256, &len);
  if (rc == 0) {
    rc = ike_sk_open(&a->k, a->msg, len, 28, 32, a->out, sizeof(a->out), &n);
  }
  return rc == 0 && n == 256 ? 0 : -1;
}

static void bench_sk(void) {
  for (size_t i = 0; i < NSUITES; i++) {
    static sk_arg_t a;
    uint8_t ek[IKE_MAX_ENCR_KEY], ak[IKE_MAX_INTEG_KEY];
    memset(ek, 0x11, sizeof(ek));
    memset(ak, 0x22, sizeof(ak));
    memset(&a, 0, sizeof(a));
    if (ike_sk_dir_init(&a.k, &suites[i].s, ek, ak) != 0) {
      exit(1);
    }
    row("sk256", suites[i].name, measure(op_sk, &a, calibrate(op_sk, &a, 100)));
  }
}

int main(void) {
  if (ike_crypto_init() != 0) {
    fprintf(stderr, "ike_crypto_init failed\n");
    return 1;
  }
  printf("%-8s %-34s %12s %12s\n", "what", "operation", "ns/op", "op/s");
  bench_dh();
  bench_keys();
  bench_sk();
  ike_crypto_cleanup();
  return 0;
}
