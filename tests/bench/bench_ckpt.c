/*
 * bench_ckpt.c - cost of sessmgr's checkpoints (sessmgr/ike_ckpt.h): encoding
 * one IKE SA record, a group commit of N records into the LMDB store (what
 * sessmgr does once per loop iteration), and restoring records into an engine.
 *
 *   bench_ckpt [DIR]     DIR: where the store goes (default /tmp; use the
 *                        state directory's file system for real figures)
 *
 * The SA is an established one with one CHILD SA (AES-GCM-256), a cached
 * INFORMATIONAL response and no request in flight: the common case.
 * Prints figures; never fails on time.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ike_ckpt.h"
#include "ike_config.h"
#include "ike_sa.h"
#include "ike_slot.h"

static const char conf[] =
    "config\n"
    "  context ipsec\n"
    "    ip pool pool1 10.10.0.0/16\n"
    "    ikev2-ikesa transform-set ike1\n"
    "      encryption aes-gcm-256\n"
    "      prf sha2-256\n"
    "      group 19\n"
    "    #exit\n"
    "    ipsec transform-set esp1\n"
    "      encryption aes-gcm-256\n"
    "      group none\n"
    "    #exit\n"
    "    crypto template tmpl1 ikev2-dynamic\n"
    "      ikev2-ikesa transform-set list ike1\n"
    "      ikev2-ikesa mobike\n"
    "      authentication local pre-shared-key key \"bench\"\n"
    "      ip address pool name pool1\n"
    "      payload ps1 match childsa\n"
    "        ipsec transform-set list esp1\n"
    "      #exit\n"
    "    #exit\n"
    "  #exit\n"
    "end\n";

static double now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void nop_send(void *c, const ike_path_t *p, bool n, const uint8_t *k, size_t l)
{
  (void)c, (void)p, (void)n, (void)k, (void)l;
}
static void nop_add(void *c, const ike_child_prog_t *p) { (void)c, (void)p; }
static void nop_upd(void *c, uint32_t a, uint32_t b, const ike_path_t *p, bool e)
{
  (void)c, (void)a, (void)b, (void)p, (void)e;
}
static void nop_del(void *c, uint32_t a, uint32_t b) { (void)c, (void)a, (void)b; }

static void addr4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  memset(ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  inet_pton(AF_INET, a, &in->sin_addr);
}

/* An established SA of slot 0 with one CHILD SA; k makes it unique. */
static void fill(ike_sa_t *sa, uint32_t k, uint8_t *rsp)
{
  memset(sa, 0, sizeof *sa);
  sa->spi_i = 0x1000000000000000ull + k;
  sa->spi_r = ike_spi_make(0, 0x100000000ull + k);
  sa->state = IKE_SA_ESTABLISHED;
  sa->suite = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
                            .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_ECP_256};
  sa->keys.d_len = 32;
  sa->keys.e_len = 36;
  ike_random(sa->keys.sk_d, 32);
  ike_random(sa->keys.sk_ei, 36);
  ike_random(sa->keys.sk_er, 36);
  addr4(&sa->path.peer, "198.51.100.7", 4500);
  addr4(&sa->path.local, "192.0.2.1", 4500);
  sa->natt = sa->mobike = true;
  sa->peer_id_type = 2;
  snprintf(sa->peer_id, sizeof sa->peer_id, "client-%u@example.net", k);
  sa->vip4 = 0x0A0A0000u + (k & 0xFFFFu) + 1;
  sa->peer_next_id = 5;
  sa->our_next_id = 2;
  sa->rsp = rsp;
  sa->rsp_len = 80;
  sa->rsp_id = 4;
  sa->created_ms = 1000;
  sa->last_rx_ms = 50000;
  sa->dpd_next_ms = 80000;
  sa->expire_ms = 86400000;
  ike_child_t *c = &sa->child[0];
  c->used = true;
  c->spi_in = 0x00100000u + k;
  c->spi_out = 0xC0000000u + k;
  c->suite = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256};
  c->ek_len = 36;
  ike_random(c->ek_in, 36);
  ike_random(c->ek_out, 36);
  c->ts_local.type = c->ts_remote.type = IKE_TS_IPV4_ADDR_RANGE;
  c->ts_local.end_port = c->ts_remote.end_port = 0xFFFF;
  inet_pton(AF_INET, "198.51.100.0", c->ts_local.start);
  inet_pton(AF_INET, "198.51.100.255", c->ts_local.end);
  uint32_t v = htonl(sa->vip4);
  memcpy(c->ts_remote.start, &v, 4);
  memcpy(c->ts_remote.end, &v, 4);
  c->created_ms = 1000;
}

static int restore_one(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  (void)spi;
  return ike_engine_restore_sa(arg, rec, len, 0) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
  const char *base = argc > 1 ? argv[1] : "/tmp";
  char dir[512], err[256];
  snprintf(dir, sizeof dir, "%s/bench_ckpt.%d", base, (int)getpid());
  static ike_config_t cfg;
  ike_crypto_init();
  ike_config_init(&cfg);
  if (ike_config_parse_buf("bench.conf", conf, strlen(conf), &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "config: %s\n", err);
    return 1;
  }
  static const ike_engine_ops_t ops = {nop_send, nop_add, nop_upd, nop_del};
  ike_engine_t *e = NULL;
  ike_ckpt_store_t *st = NULL;
  if (ike_engine_new(0, &cfg, &ops, NULL, &e) != 0 || ike_ckpt_store_open(dir, 0, &st) != 0) {
    fprintf(stderr, "cannot create the engine or the store in %s\n", dir);
    return 1;
  }
  enum { NSA = 4096 };
  static ike_sa_t sas[NSA];
  static uint8_t rsp[80];
  for (uint32_t k = 0; k < NSA; k++) {
    fill(&sas[k], k, rsp);
  }
  uint8_t *buf = NULL;
  size_t cap = 0, len = 0;
  /* Encoding alone. */
  double t0 = now_us();
  for (int r = 0; r < 10; r++) {
    for (uint32_t k = 0; k < NSA; k++) {
      ike_ckpt_encode(e, &sas[k], 1700000000000ll, &buf, &cap, &len);
    }
  }
  double enc = (now_us() - t0) / (10.0 * NSA);
  printf("record: %zu bytes; encode %.2f us per SA\n", len, enc);
  /* Group commits of n records (each round rewrites the same n SAs, as a
   * busy sessmgr rewrites the SAs its iteration touched). */
  static const int batch[] = {1, 8, 64, 512, 4096};
  printf("%8s %10s %14s %12s\n", "SAs/txn", "commits", "us/commit", "us/SA");
  for (size_t b = 0; b < sizeof batch / sizeof batch[0]; b++) {
    int n = batch[b], rounds = n >= 512 ? 20 : 2000 / n + 50;
    t0 = now_us();
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < n; k++) {
        ike_ckpt_encode(e, &sas[k], 1700000000000ll, &buf, &cap, &len);
        if (ike_ckpt_store_put(st, sas[k].spi_r, buf, len) != 0) {
          ike_ckpt_store_put(st, sas[k].spi_r, buf, len); /* map grown: once more */
        }
      }
      ike_ckpt_store_commit(st);
    }
    double us = (now_us() - t0) / rounds;
    printf("%8d %10d %14.1f %12.2f\n", n, rounds, us, us / n);
  }
  /* fsync of the store (what a periodic ike_ckpt_store_sync would cost). */
  t0 = now_us();
  ike_ckpt_store_sync(st);
  printf("sync (fsync): %.0f us\n", now_us() - t0);
  /* Restore: every record back into a fresh engine. */
  ike_engine_t *e2 = NULL;
  ike_engine_new(0, &cfg, &ops, NULL, &e2);
  t0 = now_us();
  int got = ike_ckpt_store_foreach(st, restore_one, e2);
  double rus = now_us() - t0;
  printf("restore: %d SAs in %.1f ms (%.2f us per SA), engine holds %zu\n", got, rus / 1e3,
         rus / (got > 0 ? got : 1), ike_engine_sa_count(e2));
  ike_engine_free(e2);
  ike_engine_free(e);
  ike_ckpt_store_close(st);
  free(buf);
  char path[600];
  snprintf(path, sizeof path, "%s/ckpt-sessmgr-0.mdb", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/ckpt-sessmgr-0.mdb-lock", dir);
  unlink(path);
  rmdir(dir);
  return 0;
}
