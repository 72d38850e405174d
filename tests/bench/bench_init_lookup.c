/*
 * bench_init_lookup.c - engine CPU per unauthenticated IKE_SA_INIT (a 28-byte
 * header, no payloads: what a spoofing flood sends) with 0, 10,000 and
 * 100,000 IKE SAs in the table and one half-open SA. The lookup of a
 * retransmitted IKE_SA_INIT must not grow with the table (DESIGN.md
 * "Security rules"). Not a test: it prints figures.
 *
 *   bench_init_lookup [PACKETS]   (per table size, default 200000; median of 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_config.h"
#include "ike_crypto.h"
#include "ike_sa.h"

static const char conf[] =
    "config\n"
    "  context ipsec\n"
    "    ip pool pool1 10.10.0.0/16\n"
    "    crypto template tmpl1 ikev2-dynamic\n"
    "      authentication local pre-shared-key key \"bench-psk-0123456789\"\n"
    "      ip address pool name pool1\n"
    "    #exit\n"
    "end\n";

static void no_send(void *ctx, const ike_path_t *p, bool natt, const uint8_t *pkt,
                    size_t len)
{
  (void)ctx, (void)p, (void)natt, (void)pkt, (void)len;
}
static void no_add(void *ctx, const ike_child_prog_t *c) { (void)ctx, (void)c; }
static void no_upd(void *ctx, uint32_t a, uint32_t b, const ike_path_t *p, bool e)
{
  (void)ctx, (void)a, (void)b, (void)p, (void)e;
}
static void no_del(void *ctx, uint32_t a, uint32_t b) { (void)ctx, (void)a, (void)b; }

static double cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void addr4(struct sockaddr_storage *ss, uint32_t a, uint16_t port)
{
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  memset(ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(a);
  in->sin_port = htons(port);
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ns of engine CPU per header-only IKE_SA_INIT with n SAs in the table. */
static double run(const ike_config_t *cfg, unsigned n, unsigned packets)
{
  static const ike_engine_ops_t ops = {no_send, no_add, no_upd, no_del};
  ike_engine_t *e = NULL;
  if (ike_engine_new(1, cfg, &ops, NULL, &e) != 0) {
    return -1;
  }
  for (unsigned i = 0; i < n; i++) {
    ike_sa_t *sa = ike_sa_new(e, 0x1000000000ull + i);
    addr4(&sa->path.peer, 0x0A010000u + i, 4500);
    ike_sa_set_state(e, sa, IKE_SA_ESTABLISHED);
  }
  ike_sa_t *ho = ike_sa_new(e, 0x2000000000ull);
  ho->ho = calloc(1, sizeof *ho->ho);
  addr4(&ho->path.peer, 0x0A020001u, 500);
  ike_sa_set_state(e, ho, IKE_SA_HALF_OPEN);

  uint8_t pkt[28] = {0};
  pkt[17] = 0x20;
  pkt[18] = IKE_EXCH_IKE_SA_INIT;
  pkt[19] = IKE_FLAG_INITIATOR;
  pkt[27] = 28;
  ike_path_t path;
  addr4(&path.peer, 0xC6336401u, 500);
  addr4(&path.local, 0xC0000201u, 500);
  double t0 = cpu_ns();
  for (unsigned i = 0; i < packets; i++) {
    uint64_t spi = 0x3000000000ull + i;
    for (int k = 0; k < 8; k++) {
      pkt[k] = (uint8_t)(spi >> (56 - 8 * k));
    }
    ike_engine_recv(e, &path, false, pkt, sizeof pkt, 1000);
  }
  double ns = (cpu_ns() - t0) / packets;
  ike_engine_free(e);
  return ns;
}

int main(int argc, char **argv)
{
  unsigned packets = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200000u;
  ike_config_t cfg;
  char err[256];
  if (packets == 0 || ike_crypto_init() != 0) {
    return 1;
  }
  ike_config_init(&cfg);
  if (ike_config_parse_buf("bench.conf", conf, strlen(conf), &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "bench_init_lookup: %s\n", err);
    return 1;
  }
  static const unsigned sizes[] = {0, 10000, 100000};
  double med[3];
  for (int s = 0; s < 3; s++) {
    double r[5];
    for (int k = 0; k < 5; k++) {
      r[k] = run(&cfg, sizes[s], packets);
    }
    qsort(r, 5, sizeof r[0], cmp);
    med[s] = r[2];
    printf("header-only IKE_SA_INIT, %6u SAs + 1 half-open: %8.0f ns engine CPU/packet "
           "(median of 5 x %u)\n", sizes[s], med[s], packets);
  }
  printf("ratio 100000 SAs / 0 SAs: %.2f\n", med[2] / med[0]);
  ike_crypto_cleanup();
  return 0;
}
