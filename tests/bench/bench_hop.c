/*
 * bench_hop.c - cost of one process hop through ike_ipc (ZMQ ipc://, DEALER ->
 * ROUTER), the per-message overhead DESIGN.md "Performance principles" asks to
 * keep well under the crypto cost.
 *
 * A forked child runs a ROUTER in its own uv loop; the parent runs a DEALER.
 * Each message is two frames, 48 + 320 bytes (an IKE header protobuf and a
 * typical IKE packet). Three runs:
 *   stream:    the parent sends N messages as fast as the pipe takes them
 *              (back-pressure through ike_ipc_set_writable), the child drains
 *              them in batches;
 *   ping-pong: one message in flight, the child echoes it (a wake-up per
 *              message on both sides);
 *   seqpacket: the same ping-pong over a plain AF_UNIX SOCK_SEQPACKET pair with
 *              blocking calls, as the floor of any hop.
 * CPU per message is user+system time from getrusage() of each side divided
 * by the messages that side handled. Loops are bounded; nothing is timed as
 * pass/fail.
 *
 *   bench_hop [stream_messages [pingpong_round_trips]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ike_ipc.h"

#define HDR_LEN 48
#define PKT_LEN 320

static uint64_t cpu_us(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
         (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static uint64_t wall_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- child: ROUTER that counts or echoes ---- */

typedef struct {
  uint64_t cpu0;
  uint64_t count;
  int echo;
} server_t;

static void server_rx(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  server_t *s = arg;
  if (m->pkt == NULL) { /* control messages have no packet frame */
    if (m->hdr_len >= 5 && memcmp(m->hdr, "BEGIN", 5) == 0) {
      s->echo = m->hdr_len > 5;
      s->count = 0;
      s->cpu0 = cpu_us();
      ike_ipc_send(ep, m->id, m->id_len, "OK", 2, NULL, 0);
    } else if (m->hdr_len == 3 && memcmp(m->hdr, "END", 3) == 0) {
      uint64_t r[2] = {cpu_us() - s->cpu0, s->count};
      ike_ipc_send(ep, m->id, m->id_len, r, sizeof(r), NULL, 0);
    } else {
      ike_ipc_close(ep, NULL, NULL); /* QUIT */
    }
    return;
  }
  s->count++;
  if (s->echo) {
    ike_ipc_send(ep, m->id, m->id_len, m->hdr, m->hdr_len, m->pkt, m->pkt_len);
  }
}

static int run_server(const char *endpoint)
{
  uv_loop_t loop;
  void *zctx = zmq_ctx_new();
  ike_ipc_t *ep = NULL;
  server_t s = {0};
  uv_loop_init(&loop);
  if (ike_ipc_router_new(&loop, zctx, endpoint, &ep) != 0) {
    return 1;
  }
  ike_ipc_set_recv(ep, server_rx, &s);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  zmq_ctx_term(zctx);
  return 0;
}

/* ---- parent: DEALER driving one run ---- */

enum { PH_BEGIN, PH_RUN, PH_END, PH_DONE };

typedef struct {
  uv_loop_t *loop;
  ike_ipc_t *ep;
  int pingpong;
  uint64_t n;        /* messages (stream) or round trips (ping-pong) */
  uint64_t sent;
  uint64_t got;
  int phase;
  uint64_t t0, c0;   /* wall and CPU at the start */
  uint64_t wall, cpu;/* parent's totals */
  uint64_t peer_cpu; /* child's CPU during the run */
  uint64_t peer_count;
  uint8_t hdr[HDR_LEN];
  uint8_t pkt[PKT_LEN];
} run_t;

static void client_send_more(ike_ipc_t *ep, void *arg)
{
  run_t *r = arg;
  while (r->sent < r->n) {
    if (ike_ipc_send(ep, NULL, 0, r->hdr, HDR_LEN, r->pkt, PKT_LEN) != 0) {
      return; /* -EAGAIN: the writable callback brings us back */
    }
    r->sent++;
    if (r->pingpong) {
      return;
    }
  }
  if (!r->pingpong && r->phase == PH_RUN) {
    r->phase = PH_END;
    ike_ipc_send(ep, NULL, 0, "END", 3, NULL, 0);
  }
}

static void client_rx(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  run_t *r = arg;
  if (r->phase == PH_BEGIN) {
    r->phase = PH_RUN;
    r->t0 = wall_us();
    r->c0 = cpu_us();
    client_send_more(ep, r);
  } else if (r->phase == PH_RUN && r->pingpong) {
    r->got++;
    if (r->got == r->n) {
      r->phase = PH_END;
      ike_ipc_send(ep, NULL, 0, "END", 3, NULL, 0);
    } else {
      client_send_more(ep, r);
    }
  } else if (r->phase == PH_END && m->pkt == NULL && m->hdr_len == 16) {
    r->wall = wall_us() - r->t0;
    r->cpu = cpu_us() - r->c0;
    memcpy(&r->peer_cpu, m->hdr, 8);
    memcpy(&r->peer_count, m->hdr + 8, 8);
    r->phase = PH_DONE;
    uv_stop(r->loop);
  }
}

/* One run against the child at endpoint; fills r. */
static void run_one(uv_loop_t *loop, ike_ipc_t *ep, run_t *r)
{
  r->loop = loop;
  r->ep = ep;
  r->phase = PH_BEGIN;
  memset(r->hdr, 0x48, sizeof(r->hdr));
  memset(r->pkt, 0x50, sizeof(r->pkt));
  ike_ipc_set_recv(ep, client_rx, r);
  ike_ipc_set_writable(ep, client_send_more, r);
  if (r->pingpong) {
    ike_ipc_send(ep, NULL, 0, "BEGIN-PP", 8, NULL, 0);
  } else {
    ike_ipc_send(ep, NULL, 0, "BEGIN", 5, NULL, 0);
  }
  uv_run(loop, UV_RUN_DEFAULT);
}

static void print_row(const char *name, uint64_t msgs, uint64_t wall, uint64_t cpu_a,
                      uint64_t cpu_b)
{
  double s = (double)wall / 1e6;
  printf("%-22s %10llu %12.0f %14.2f %14.2f\n", name, (unsigned long long)msgs,
         s > 0 ? (double)msgs / s : 0.0, msgs ? (double)cpu_a / (double)msgs : 0.0,
         msgs ? (double)cpu_b / (double)msgs : 0.0);
}

/* Plain AF_UNIX SOCK_SEQPACKET ping-pong: the floor of a hop. */
static int run_seqpacket(uint64_t n)
{
  int sv[2];
  uint8_t buf[HDR_LEN + PKT_LEN];
  memset(buf, 0x53, sizeof(buf));
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) {
    perror("socketpair");
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    uint64_t c0 = cpu_us();
    for (uint64_t i = 0; i < n; i++) {
      if (read(sv[1], buf, sizeof(buf)) <= 0 || write(sv[1], buf, sizeof(buf)) < 0) {
        _exit(1);
      }
    }
    uint64_t c = cpu_us() - c0;
    if (write(sv[1], &c, sizeof(c)) < 0) {
      _exit(1);
    }
    _exit(0);
  }
  close(sv[1]);
  uint64_t t0 = wall_us(), c0 = cpu_us();
  for (uint64_t i = 0; i < n; i++) {
    if (write(sv[0], buf, sizeof(buf)) < 0 || read(sv[0], buf, sizeof(buf)) <= 0) {
      return -1;
    }
  }
  uint64_t wall = wall_us() - t0, cpu = cpu_us() - c0, peer = 0;
  if (read(sv[0], &peer, sizeof(peer)) != (ssize_t)sizeof(peer)) {
    return -1;
  }
  waitpid(pid, NULL, 0);
  close(sv[0]);
  print_row("seqpacket ping-pong", n, wall, cpu, peer);
  return 0;
}

int main(int argc, char **argv)
{
  uint64_t n_stream = argc > 1 ? strtoull(argv[1], NULL, 10) : 500000;
  uint64_t n_pp = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000;
  char dir[] = "/tmp/bench-hop-XXXXXX";
  char endpoint[128], path[96];

  if (n_stream == 0 || n_pp == 0 || mkdtemp(dir) == NULL) {
    fprintf(stderr, "usage: bench_hop [stream_messages [pingpong_round_trips]]\n");
    return 1;
  }
  snprintf(path, sizeof(path), "%s/hop.sock", dir);
  snprintf(endpoint, sizeof(endpoint), "ipc://%s", path);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    _exit(run_server(endpoint));
  }

  uv_loop_t loop;
  void *zctx = zmq_ctx_new();
  ike_ipc_t *ep = NULL;
  uv_loop_init(&loop);
  if (ike_ipc_dealer_new(&loop, zctx, endpoint, "bench", 5, &ep) != 0) {
    fprintf(stderr, "bench_hop: cannot connect %s\n", endpoint);
    return 1;
  }
  run_t st = {0}, pp = {0};
  st.n = n_stream;
  run_one(&loop, ep, &st);
  pp.n = n_pp;
  pp.pingpong = 1;
  run_one(&loop, ep, &pp);

  printf("one hop, 2 frames of %d + %d bytes; CPU = user+sys per message per side\n",
         HDR_LEN, PKT_LEN);
  printf("%-22s %10s %12s %14s %14s\n", "run", "messages", "msgs/s", "us CPU sender",
         "us CPU receiver");
  if (st.peer_count != st.n) {
    fprintf(stderr, "bench_hop: receiver counted %llu of %llu\n",
            (unsigned long long)st.peer_count, (unsigned long long)st.n);
  }
  print_row("ike_ipc stream", st.n, st.wall, st.cpu, st.peer_cpu);
  /* Ping-pong: each side sends and receives one message per round trip. */
  print_row("ike_ipc ping-pong (rt)", pp.n, pp.wall, pp.cpu, pp.peer_cpu);
  const ike_ipc_stats_t *s = ike_ipc_stats(ep);
  printf("sender: %llu wake-ups, %llu sends hit the high-water mark (resumed when writable)\n",
         (unsigned long long)s->rx_wakeups, (unsigned long long)s->tx_again);

  /* Let QUIT leave before the socket closes (endpoints close with linger 0). */
  int linger = 2000;
  zmq_setsockopt(ike_ipc_socket(ep), ZMQ_LINGER, &linger, sizeof(linger));
  ike_ipc_send(ep, NULL, 0, "QUIT", 4, NULL, 0);
  ike_ipc_close(ep, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  zmq_ctx_term(zctx);
  waitpid(pid, NULL, 0);
  unlink(path);
  rmdir(dir);
  return run_seqpacket(n_pp) == 0 ? 0 : 1;
}
