/*
 * bench_ike.c - gateway CPU per established IKE SA (IKE_SA_INIT + IKE_AUTH with
 * PSK, CP and one CHILD SA) in the engine alone, beside the crypto floor the
 * gateway cannot avoid per SA: one DH key pair + shared secret, the key
 * derivation (prf+ of 7 keys), the CHILD keymat, two AUTH values (verify the
 * peer's, compute ours) and one SK open + seal. Not a test: it prints figures.
 *
 *   bench_ike [N]    (N SAs per group, default 2000; median of 5 runs)
 *
 * Clients (sessmgr/ike_client.c) run in the same thread; only the time inside
 * ike_engine_recv() is counted (thread CPU time).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_client.h"
#include "ike_config.h"
#include "ike_crypto.h"
#include "ike_engine.h"

typedef struct net {
  uint8_t pkt[8192];
  size_t len;
  ike_path_t path;
  bool natt;
  bool full;
} net_t;

static net_t to_gw, to_cl;

static void put(net_t *q, const ike_path_t *path, bool natt, const uint8_t *p, size_t len)
{
  memcpy(q->pkt, p, len);
  q->len = len;
  q->path = *path;
  q->natt = natt;
  q->full = true;
}

static void cl_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *p, size_t len)
{
  (void)ctx;
  put(&to_gw, path, natt, p, len);
}

static void gw_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *p, size_t len)
{
  (void)ctx;
  put(&to_cl, path, natt, p, len);
}

static void gw_add(void *ctx, const ike_child_prog_t *c)
{
  (void)ctx;
  (void)c;
}

static void gw_upd(void *ctx, uint32_t a, uint32_t b, const ike_path_t *p, bool e)
{
  (void)ctx, (void)a, (void)b, (void)p, (void)e;
}

static void gw_del(void *ctx, uint32_t a, uint32_t b)
{
  (void)ctx, (void)a, (void)b;
}

static double cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void addr(struct sockaddr_storage *ss, uint32_t a, uint16_t port)
{
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  memset(ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(a);
  in->sin_port = htons(port);
}

/* Swap peer/local: the receiver's view of a path. */
static ike_path_t flip(const ike_path_t *p)
{
  ike_path_t r = {.peer = p->local, .local = p->peer};
  return r;
}

/* Establish n SAs; returns engine ns per SA, or -1 on a failure. */
static double run(const ike_config_t *cfg, uint16_t group, unsigned n)
{
  static const ike_engine_ops_t ops = {gw_send, gw_add, gw_upd, gw_del};
  static const ike_client_ops_t cops = {cl_send};
  ike_engine_t *gw = NULL;
  if (ike_engine_new(1, cfg, &ops, NULL, &gw) != 0) {
    return -1;
  }
  double engine = 0;
  uint64_t now = 1000;
  for (unsigned i = 0; i < n; i++) {
    ike_client_cfg_t cc = {.psk = "bench-psk", .id_type = IKE_ID_FQDN, .id = "bench.example",
                           .ike = {.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
                                   .prf = IKE_PRF_HMAC_SHA2_256, .dh = group},
                           .esp = {.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256},
                           .mobike = true};
    addr(&cc.path.local, 0x7f010000u + i, 500);
    addr(&cc.path.peer, 0x7f000001u, 500);
    ike_client_t *cl = NULL;
    if (ike_client_new(&cc, &cops, NULL, &cl) != 0 || ike_client_start(cl, now) != 0) {
      return -1;
    }
    for (int step = 0; step < 8 && to_gw.full; step++) {
      to_gw.full = false;
      ike_path_t p = flip(&to_gw.path);
      double t0 = cpu_ns();
      ike_engine_recv(gw, &p, to_gw.natt, to_gw.pkt, to_gw.len, now);
      engine += cpu_ns() - t0;
      if (to_cl.full) {
        to_cl.full = false;
        ike_path_t q = flip(&to_cl.path);
        ike_client_recv(cl, &q, to_cl.natt, to_cl.pkt, to_cl.len, now);
      }
    }
    bool ok = ike_client_info(cl)->state == IKE_CLIENT_ESTABLISHED;
    ike_client_free(cl);
    if (!ok) {
      ike_engine_free(gw);
      return -1;
    }
  }
  ike_engine_free(gw);
  return engine / n;
}

/* The floor: what any gateway computes per SA with this suite. */
static double floor_ns(uint16_t group, unsigned n)
{
  uint8_t pub[IKE_MAX_DH_PUB], sec[IKE_MAX_DH_SECRET], ni[32] = {1}, nr[32] = {2};
  uint8_t km[128], auth[64], maced[64], msg[600] = {0}, out[700];
  size_t pl = 0, sl = 0, ol = 0;
  ike_suite_t s = {.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
                   .prf = IKE_PRF_HMAC_SHA2_256, .dh = group};
  ike_keys_t k;
  ike_sk_dir_t d;
  ike_dh_t *peer = NULL;
  ike_dh_new(group, &peer);
  ike_dh_public(peer, pub, sizeof pub, &pl);
  double t0 = cpu_ns();
  for (unsigned i = 0; i < n; i++) {
    ike_dh_t *dh = NULL;
    uint8_t mine[IKE_MAX_DH_PUB];
    size_t ml = 0;
    ike_dh_new(group, &dh);
    ike_dh_public(dh, mine, sizeof mine, &ml);
    ike_dh_shared(dh, pub, pl, sec, sizeof sec, &sl);
    ike_dh_free(dh);
    ike_keys_derive(&s, ni, 32, nr, 32, sec, sl, 1, 2, &k);
    ike_child_keymat(s.prf, k.sk_d, k.d_len, NULL, 0, ni, 32, nr, 32, km, 72);
    for (int a = 0; a < 2; a++) {
      ike_auth_maced_id(s.prf, k.sk_pi, k.p_len, msg, 20, maced);
      ike_auth_psk(s.prf, (const uint8_t *)"bench-psk", 9, msg, 500, nr, 32, maced, auth);
    }
    ike_sk_dir_init(&d, &s, k.sk_er, k.sk_ar);
    memset(msg, 0, 32);
    msg[16] = IKE_PLD_SK;
    ike_sk_seal(&d, msg, sizeof msg, 28, 32, msg + 300, 200, &ol);
    ike_sk_open(&d, msg, ol, 28, 32, out, sizeof out, &ol);
  }
  double r = (cpu_ns() - t0) / n;
  ike_dh_free(peer);
  return r;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
  unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
  static ike_config_t cfg;
  char err[256];
  static const char conf[] =
      "config\n context b\n  ip pool p 10.64.0.0/10\n"
      "  crypto template t ikev2-dynamic\n   ikev2-ikesa mobike\n"
      "   ikev2-ikesa cookie-threshold 1000000\n"
      "   authentication local pre-shared-key key \"bench-psk\"\n"
      "   ip address pool name p\n  #exit\nend\n";
  if (ike_crypto_init() != 0 ||
      ike_config_parse_buf("bench", conf, sizeof conf - 1, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "bench_ike: setup failed: %s\n", err);
    return 1;
  }
  static const uint16_t groups[] = {IKE_DH_CURVE25519, IKE_DH_ECP_256, IKE_DH_MODP_2048};
  printf("Gateway CPU per established IKE SA (IKE_SA_INIT + IKE_AUTH PSK + CP + CHILD),\n"
         "engine only, AES-GCM-256/SHA2-256, %u SAs per run, median of 5 runs\n\n", n);
  printf("%-12s %14s %14s %8s %12s\n", "DH group", "engine us/SA", "floor us/SA", "ratio",
         "SAs/s/core");
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
    unsigned m = groups[g] == IKE_DH_MODP_2048 ? n / 4 : n;
    double e[5], f[5];
    for (int r = 0; r < 5; r++) {
      e[r] = run(&cfg, groups[g], m);
      f[r] = floor_ns(groups[g], m);
      if (e[r] < 0) {
        fprintf(stderr, "bench_ike: SAs failed to establish\n");
        return 1;
      }
    }
    qsort(e, 5, sizeof e[0], cmp);
    qsort(f, 5, sizeof f[0], cmp);
    printf("%-12s %14.1f %14.1f %8.2f %12.0f\n", ike_dh_name(groups[g]), e[2] / 1e3,
           f[2] / 1e3, e[2] / f[2], 1e9 / e[2]);
  }
  ike_crypto_cleanup();
  return 0;
}
