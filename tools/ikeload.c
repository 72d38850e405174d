/*
 * ikeload.c - N simulated IKEv2 clients (sessmgr/ike_client.h) on loopback
 * addresses 127.1.x.y against a real gateway: each establishes (PSK, CP,
 * MOBIKE); with --move all then move at once to a second address 127.2.x.y
 * (MOBIKE UPDATE_SA_ADDRESSES) and every update must be answered. Prints
 * established / moved / failed counts and timings, deletes its SAs and stops
 * by itself (overall deadline).
 *
 *   ikeload [-n N] [--gw ADDR] [--port P] [--natt-port P] [--psk KEY]
 *           [--move] [--no-mobike] [--rate R] [--timeout MS] [--keep]
 *
 * Exit status: 0 if every client established (and moved), 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ike_client.h"

#define MAX_CLIENTS 16000

typedef struct lc {
  ike_client_t *cl;
  int fd[2];                      /* socket on the first / second address */
  struct sockaddr_storage addr[2];
  uint64_t updates_before;
  bool moved_ok, move_sent;
  uint16_t natt_port_be;          /* the gateway's NAT-T port, network order */
} lc_t;

typedef struct opts {
  unsigned n;
  const char *gw, *psk;
  uint16_t port, natt_port;
  bool move, mobike, keep;
  unsigned rate;                  /* clients started per 10 ms */
  uint64_t timeout_ms;
} opts_t;

static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void lc_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                    size_t len)
{
  lc_t *c = ctx;
  uint8_t buf[8192 + 4];
  const struct sockaddr_in *from = (const struct sockaddr_in *)&path->local;
  const struct sockaddr_in *a1 = (const struct sockaddr_in *)&c->addr[1];
  int fd = from->sin_addr.s_addr == a1->sin_addr.s_addr ? c->fd[1] : c->fd[0];
  size_t off = natt ? 4 : 0;
  if (fd < 0 || len + off > sizeof buf) {
    return;
  }
  memset(buf, 0, off); /* non-ESP marker (RFC 3948 2.2) */
  memcpy(buf + off, pkt, len);
  (void)sendto(fd, buf, len + off, 0, (const struct sockaddr *)&path->peer,
               sizeof(struct sockaddr_in));
}

/* A UDP socket bound to 127.<net>.x.y:0 for client i. */
static int bind_sock(unsigned net, unsigned i, struct sockaddr_storage *ss)
{
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  memset(ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(127u << 24 | net << 16 | ((i + 1) >> 8) << 8 | ((i + 1) & 0xFF));
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  socklen_t sl = sizeof *in;
  if (bind(fd, (struct sockaddr *)in, sizeof *in) != 0 ||
      getsockname(fd, (struct sockaddr *)in, &sl) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int lc_new(lc_t *c, unsigned i, const opts_t *o)
{
  ike_client_cfg_t cfg;
  char id[64];
  static const ike_client_ops_t ops = {lc_send};
  memset(&cfg, 0, sizeof cfg);
  c->fd[0] = bind_sock(1, i, &c->addr[0]);
  c->fd[1] = o->move ? bind_sock(2, i, &c->addr[1]) : -1;
  if (c->fd[0] < 0 || (o->move && c->fd[1] < 0)) {
    return -1;
  }
  snprintf(id, sizeof id, "load%u.example.net", i);
  cfg.psk = o->psk;
  cfg.id_type = IKE_ID_FQDN;
  cfg.id = id;
  cfg.ike = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
                          .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_ECP_256};
  cfg.esp = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256};
  cfg.mobike = o->mobike;
  cfg.path.local = c->addr[0];
  struct sockaddr_in *gw = (struct sockaddr_in *)&cfg.path.peer;
  gw->sin_family = AF_INET;
  gw->sin_port = htons(o->port);
  if (inet_pton(AF_INET, o->gw, &gw->sin_addr) != 1) {
    return -1;
  }
  cfg.natt_port = o->natt_port;
  c->natt_port_be = htons(o->natt_port);
  cfg.retrans_ms = 2000;
  cfg.max_retrans = 3;
  return ike_client_new(&cfg, &ops, c, &c->cl);
}

/* Read everything waiting on fd and hand it to the client. */
static void lc_read(lc_t *c, int k, uint64_t t)
{
  uint8_t buf[8192];
  for (int budget = 0; budget < 64; budget++) {
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(c->fd[k], buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      return;
    }
    ike_path_t path = {.peer = from, .local = c->addr[k]};
    /* From the NAT-T port: non-ESP marker, then IKE (a zero SPI there is ESP
     * with SPI 0, which does not exist). */
    bool natt = ((const struct sockaddr_in *)&from)->sin_port == c->natt_port_be &&
                n >= 4 && buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0;
    if (natt) {
      ike_client_recv(c->cl, &path, true, buf + 4, (size_t)n - 4, t);
    } else if (n >= 28) {
      ike_client_recv(c->cl, &path, false, buf, (size_t)n, t);
    }
  }
}

/* One poll round over all sockets (at most wait_ms), then timers. */
static void pump(lc_t *cs, unsigned n, struct pollfd *pfd, int wait_ms)
{
  unsigned m = 0;
  for (unsigned i = 0; i < n; i++) {
    for (int k = 0; k < 2; k++) {
      pfd[m].fd = cs[i].fd[k];
      pfd[m].events = POLLIN;
      pfd[m].revents = 0;
      m++;
    }
  }
  int r = poll(pfd, m, wait_ms);
  uint64_t t = now_ms();
  for (unsigned j = 0; r > 0 && j < m; j++) {
    if (pfd[j].revents & POLLIN) {
      lc_read(&cs[j / 2], (int)(j % 2), t);
    }
  }
  for (unsigned i = 0; i < n; i++) {
    ike_client_tick(cs[i].cl, t);
  }
}

static unsigned long long sum_retransmits(const lc_t *cs, unsigned n)
{
  unsigned long long k = 0;
  for (unsigned i = 0; i < n; i++) {
    k += ike_client_info(cs[i].cl)->retransmits;
  }
  return k;
}

static unsigned count_state(const lc_t *cs, unsigned n, ike_client_state_t st)
{
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++) {
    k += ike_client_info(cs[i].cl)->state == st;
  }
  return k;
}

/* Start every client (rate per 10 ms) and wait for all to settle. */
static uint64_t phase_establish(lc_t *cs, unsigned n, struct pollfd *pfd,
                                const opts_t *o, uint64_t deadline)
{
  uint64_t t0 = now_ms();
  unsigned started = 0;
  while (now_ms() < deadline) {
    for (unsigned k = 0; k < o->rate && started < n; k++, started++) {
      ike_client_start(cs[started].cl, now_ms());
    }
    pump(cs, n, pfd, 10);
    unsigned settled = count_state(cs, n, IKE_CLIENT_ESTABLISHED) +
                       count_state(cs, n, IKE_CLIENT_FAILED);
    if (started == n && settled == n) {
      break;
    }
  }
  return now_ms() - t0;
}

/* All established clients move at once; wait for every answer. */
static uint64_t phase_move(lc_t *cs, unsigned n, struct pollfd *pfd, uint64_t deadline)
{
  uint64_t t0 = now_ms();
  ike_client_move_opts_t mo = {.natt = true};
  for (unsigned i = 0; i < n; i++) {
    const ike_client_info_t *in = ike_client_info(cs[i].cl);
    if (in->state != IKE_CLIENT_ESTABLISHED || ike_client_busy(cs[i].cl)) {
      continue;
    }
    ike_path_t p = in->path;
    p.local = cs[i].addr[1];
    cs[i].updates_before = in->updates_done;
    cs[i].move_sent = ike_client_move(cs[i].cl, &p, &mo) == 0;
  }
  while (now_ms() < deadline) {
    pump(cs, n, pfd, 10);
    unsigned pending = 0;
    for (unsigned i = 0; i < n; i++) {
      const ike_client_info_t *in = ike_client_info(cs[i].cl);
      cs[i].moved_ok = cs[i].move_sent && in->updates_done > cs[i].updates_before &&
                       in->error == 0 && in->state == IKE_CLIENT_ESTABLISHED;
      pending += cs[i].move_sent && in->state == IKE_CLIENT_ESTABLISHED &&
                 in->updates_done == cs[i].updates_before;
    }
    if (pending == 0) {
      break;
    }
  }
  return now_ms() - t0;
}

static void phase_delete(lc_t *cs, unsigned n, struct pollfd *pfd)
{
  for (unsigned i = 0; i < n; i++) {
    if (ike_client_info(cs[i].cl)->state == IKE_CLIENT_ESTABLISHED &&
        !ike_client_busy(cs[i].cl)) {
      ike_client_delete(cs[i].cl);
    }
  }
  uint64_t end = now_ms() + 2000;
  while (now_ms() < end && count_state(cs, n, IKE_CLIENT_CLOSED) <
                               count_state(cs, n, IKE_CLIENT_ESTABLISHED) +
                                   count_state(cs, n, IKE_CLIENT_CLOSED)) {
    pump(cs, n, pfd, 10);
  }
}

static void usage(void)
{
  fprintf(stderr, "usage: ikeload [-n N] [--gw ADDR] [--port P] [--natt-port P] "
                  "[--psk KEY] [--move] [--no-mobike] [--rate R] [--timeout MS] "
                  "[--keep]\n");
}

static int parse_opts(int argc, char **argv, opts_t *o)
{
  static const struct option lo[] = {
      {"gw", 1, NULL, 'g'},      {"port", 1, NULL, 'p'},   {"natt-port", 1, NULL, 'P'},
      {"psk", 1, NULL, 'k'},     {"move", 0, NULL, 'm'},   {"no-mobike", 0, NULL, 'M'},
      {"rate", 1, NULL, 'r'},    {"timeout", 1, NULL, 't'}, {"keep", 0, NULL, 'K'},
      {"help", 0, NULL, 'h'},    {NULL, 0, NULL, 0}};
  *o = (opts_t){.n = 10, .gw = "127.0.0.1", .psk = "ikegw-default-psk-change-me",
                .port = 500, .natt_port = 4500, .mobike = true, .rate = 50,
                .timeout_ms = 30000};
  int ch;
  while ((ch = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
    switch (ch) {
    case 'n': o->n = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'g': o->gw = optarg; break;
    case 'p': o->port = (uint16_t)strtoul(optarg, NULL, 10); break;
    case 'P': o->natt_port = (uint16_t)strtoul(optarg, NULL, 10); break;
    case 'k': o->psk = optarg; break;
    case 'm': o->move = true; break;
    case 'M': o->mobike = false; break;
    case 'r': o->rate = (unsigned)strtoul(optarg, NULL, 10); break;
    case 't': o->timeout_ms = strtoull(optarg, NULL, 10); break;
    case 'K': o->keep = true; break;
    default: usage(); return -1;
    }
  }
  if (o->n == 0 || o->n > MAX_CLIENTS || o->rate == 0) {
    usage();
    return -1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  opts_t o;
  if (parse_opts(argc, argv, &o) != 0 || ike_crypto_init() != 0) {
    return 2;
  }
  lc_t *cs = calloc(o.n, sizeof *cs);
  struct pollfd *pfd = calloc(2u * o.n, sizeof *pfd);
  if (cs == NULL || pfd == NULL) {
    return 2;
  }
  for (unsigned i = 0; i < o.n; i++) {
    if (lc_new(&cs[i], i, &o) != 0) {
      fprintf(stderr, "ikeload: client %u: cannot bind 127.1/127.2 address: %s\n", i,
              strerror(errno));
      return 2;
    }
  }
  uint64_t deadline = now_ms() + o.timeout_ms;
  uint64_t t_est = phase_establish(cs, o.n, pfd, &o, deadline);
  unsigned est = count_state(cs, o.n, IKE_CLIENT_ESTABLISHED);
  unsigned long long rt = sum_retransmits(cs, o.n);
  printf("established %u/%u in %llu ms (failed %u, retransmissions %llu)\n", est, o.n,
         (unsigned long long)t_est, o.n - est, rt);
  unsigned moved = 0;
  if (o.move) {
    uint64_t t_mv = phase_move(cs, o.n, pfd, deadline);
    for (unsigned i = 0; i < o.n; i++) {
      moved += cs[i].moved_ok;
    }
    printf("moved %u/%u in %llu ms (failed %u, retransmissions %llu)\n", moved, est,
           (unsigned long long)t_mv, est - moved, sum_retransmits(cs, o.n) - rt);
  }
  if (!o.keep) {
    phase_delete(cs, o.n, pfd);
  }
  for (unsigned i = 0; i < o.n; i++) {
    ike_client_free(cs[i].cl);
    close(cs[i].fd[0]);
    if (cs[i].fd[1] >= 0) {
      close(cs[i].fd[1]);
    }
  }
  free(cs);
  free(pfd);
  ike_crypto_cleanup();
  return est == o.n && (!o.move || moved == est) ? 0 : 1;
}
