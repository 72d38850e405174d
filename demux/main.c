/*
 * main.c - demux: owns the UDP sockets of the gateway (IKE 500 and NAT-T 4500,
 * IPv4 and IPv6) and routes every datagram by SPI to the sessmgr that owns
 * it, or ESP-in-UDP to ipsecmgr (DESIGN.md "Processes"). Stateless: it can be
 * killed and restarted at any time.
 *
 *   demux [--bind ADDR]... [--port-ike 500] [--port-natt 4500]
 *         [--sessmgr-endpoint ipc://...] [--ipsec-endpoint ipc://...]
 *         [--ctl-endpoint ipc://...] [--workers N] [--log-level LEVEL]
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 on a usage or set-up error, 2 when a
 * UDP port cannot be bound (taken), with one line saying which.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "demux.h"
#include "ike_config.h"
#include "ike_log.h"
#include "ikegw_demux.pb-c.h"

#define MAX_BINDS 8

typedef struct {
  const char *binds[MAX_BINDS];
  unsigned nbinds;
  uint16_t port_ike;
  uint16_t port_natt;
  const char *sess_ep;
  const char *ipsec_ep;
  const char *ctl_ep;
} opts_t;

/* The receive batch: one static set of buffers, reused every wake-up. */
static struct {
  struct mmsghdr mm[DMX_RX_BATCH];
  struct iovec iov[DMX_RX_BATCH];
  struct sockaddr_storage from[DMX_RX_BATCH];
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
  } ctl[DMX_RX_BATCH];
  uint8_t data[DMX_RX_BATCH][DMX_RX_BUF];
} rx;

static dmx_t g_dmx;

static void usage(FILE *f)
{
  fprintf(f, "usage: demux [--bind ADDR]... [--port-ike N] [--port-natt N]\n"
             "             [--sessmgr-endpoint EP] [--ipsec-endpoint EP] [--ctl-endpoint EP]\n"
             "             [--workers N] [--log-level err|warn|info|debug]\n");
}

static int parse_port(const char *s, uint16_t *out)
{
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 1 || v > 65535) {
    return -1;
  }
  *out = (uint16_t)v;
  return 0;
}

static int parse_opts(int argc, char **argv, opts_t *o, dmx_t *d)
{
  static const struct option lo[] = {
      {"bind", required_argument, NULL, 'b'},
      {"port-ike", required_argument, NULL, 'i'},
      {"port-natt", required_argument, NULL, 'n'},
      {"sessmgr-endpoint", required_argument, NULL, 's'},
      {"ipsec-endpoint", required_argument, NULL, 'p'},
      {"ctl-endpoint", required_argument, NULL, 'c'},
      {"workers", required_argument, NULL, 'w'},
      {"log-level", required_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c, lvl;
  memset(o, 0, sizeof(*o));
  o->port_ike = 500;
  o->port_natt = 4500;
  /* Defaults in the default state directory (as the launcher lays it out),
   * never in a world-writable /tmp where another user could take the name. */
  o->sess_ep = "ipc://" IKE_CFG_DEF_STATE_DIR "/demux.sock";
  o->ipsec_ep = "ipc://" IKE_CFG_DEF_STATE_DIR "/demux-esp.sock";
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
    case 'b':
      if (o->nbinds == MAX_BINDS) {
        fprintf(stderr, "demux: at most %d --bind\n", MAX_BINDS);
        return -1;
      }
      o->binds[o->nbinds++] = optarg;
      break;
    case 'i':
    case 'n':
      if (parse_port(optarg, c == 'i' ? &o->port_ike : &o->port_natt) != 0) {
        fprintf(stderr, "demux: bad port '%s'\n", optarg);
        return -1;
      }
      break;
    case 's':
      o->sess_ep = optarg;
      break;
    case 'p':
      o->ipsec_ep = optarg;
      break;
    case 'c':
      o->ctl_ep = optarg;
      break;
    case 'w':
      d->workers = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 'l':
      lvl = ike_log_level_parse(optarg);
      if (lvl < 0) {
        fprintf(stderr, "demux: bad log level '%s'\n", optarg);
        return -1;
      }
      ike_log_set_level(lvl);
      break;
    case 'h':
      usage(stdout);
      exit(0);
    default:
      usage(stderr);
      return -1;
    }
  }
  if (optind != argc || o->port_ike == o->port_natt) {
    usage(stderr);
    return -1;
  }
  return 0;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
  const void *a = ss->ss_family == AF_INET
                      ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                      : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
  if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL) {
    snprintf(buf, len, "?");
  }
  return buf;
}

/* Forward one IKE datagram to its slot; a failed send marks the slot dead and
 * an IKE_SA_INIT is re-hashed over the remaining slots (bounded retries). */
static void forward_ike(dmx_t *d, dmx_route_t *rt, Ikegw__Demux__Envelope *env,
                        const uint8_t *pkt, size_t len, uint64_t spi_i)
{
  for (int tries = 0; tries < 4; tries++) {
    uint8_t id[IKE_SLOT_ID_LEN];
    ike_slot_id_encode(rt->slot, id);
    int r = ike_ipc_send_pb(d->sess, id, sizeof(id), &env->base, pkt, len);
    if (r == 0) {
      d->tx.to_sessmgr++;
      return;
    }
    if (r != -EHOSTUNREACH) {
      dmx_count_drop(&d->route, DMX_DROP_TX_FAILED);
      return;
    }
    dmx_slot_lost(d, rt->slot);
    int next = rt->init ? dmx_slot_for_init(&d->slots, spi_i) : -1;
    if (next < 0) {
      break;
    }
    rt->slot = (uint16_t)next;
  }
  dmx_count_drop(&d->route, DMX_DROP_IKE_SLOT_DOWN);
}

/* Local address and interface of a received datagram, from its pktinfo. */
static void local_of(struct msghdr *mh, dmx_sock_t *s, char *addr, size_t len, uint32_t *ifindex)
{
  *ifindex = 0;
  addr_str(&s->addr, addr, len);
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
    if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
      inet_ntop(AF_INET, &pi.ipi_addr, addr, (socklen_t)len);
      *ifindex = (uint32_t)pi.ipi_ifindex;
    } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
      inet_ntop(AF_INET6, &pi.ipi6_addr, addr, (socklen_t)len);
      *ifindex = pi.ipi6_ifindex;
    }
  }
}

/* Route and forward datagram i of the current batch. */
static void handle_rx(dmx_t *d, dmx_sock_t *s, unsigned i)
{
  struct msghdr *mh = &rx.mm[i].msg_hdr;
  const uint8_t *pkt = rx.data[i];
  size_t len = rx.mm[i].msg_len;
  char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
  dmx_route_t rt;

  if (mh->msg_flags & MSG_TRUNC) {
    d->tx.rx_trunc++;
    return;
  }
  dmx_route(pkt, len, s->natt, &d->slots, &d->route, &rt);
  if (rt.kind == DMX_DROP || rt.kind == DMX_KEEPALIVE) {
    return;
  }
  if (rt.kind == DMX_TO_IPSECMGR && d->ipsec_id_len == 0) {
    dmx_count_drop(&d->route, DMX_DROP_ESP_NO_DATAPATH);
    return;
  }
  Ikegw__Demux__Datagram dg = IKEGW__DEMUX__DATAGRAM__INIT;
  Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  dg.src_addr = (char *)addr_str(&rx.from[i], src, sizeof(src));
  dg.src_port = ntohs(((struct sockaddr_in *)&rx.from[i])->sin_port); /* same offset in v6 */
  local_of(mh, s, dst, sizeof(dst), &dg.ifindex);
  dg.dst_addr = dst;
  dg.dst_port = s->port;
  dg.non_esp_marker = rt.marker;
  dg.natt = s->natt;
  dg.rx_time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM;
  env.datagram = &dg;

  if (rt.kind == DMX_TO_SESSMGR) {
    uint64_t spi_i = 0;
    for (int k = 0; k < 8; k++) {
      spi_i = spi_i << 8 | pkt[rt.off + (size_t)k]; /* dmx_route checked the header */
    }
    forward_ike(d, &rt, &env, pkt + rt.off, len - rt.off, spi_i);
    return;
  }
  int r = ike_ipc_send_pb(d->ipsec, d->ipsec_id, d->ipsec_id_len, &env.base, pkt, len);
  if (r == 0) {
    d->tx.to_ipsecmgr++;
  } else {
    if (r == -EHOSTUNREACH) {
      d->ipsec_id_len = 0;
      IKE_LOG_WARN("ipsecmgr unreachable");
    }
    dmx_count_drop(&d->route, DMX_DROP_ESP_NO_DATAPATH);
  }
}

static void on_udp(uv_poll_t *h, int status, int events)
{
  dmx_sock_t *s = h->data;
  dmx_t *d = s->owner;
  (void)status;
  (void)events;
  for (unsigned i = 0; i < DMX_RX_BATCH; i++) {
    rx.iov[i].iov_base = rx.data[i];
    rx.iov[i].iov_len = DMX_RX_BUF;
    memset(&rx.mm[i], 0, sizeof(rx.mm[i]));
    rx.mm[i].msg_hdr.msg_name = &rx.from[i];
    rx.mm[i].msg_hdr.msg_namelen = sizeof(rx.from[i]);
    rx.mm[i].msg_hdr.msg_iov = &rx.iov[i];
    rx.mm[i].msg_hdr.msg_iovlen = 1;
    rx.mm[i].msg_hdr.msg_control = rx.ctl[i].buf;
    rx.mm[i].msg_hdr.msg_controllen = sizeof(rx.ctl[i].buf);
  }
  /* One batch per wake-up: the poll is level-triggered, so what is left
   * comes on the next loop iteration after the other handles had a turn. */
  int n = recvmmsg(s->fd, rx.mm, DMX_RX_BATCH, MSG_DONTWAIT, NULL);
  for (int i = 0; i < n; i++) {
    handle_rx(d, s, (unsigned)i);
  }
}

/* Open, configure and bind one UDP socket. Returns 0, -1 on a set-up error,
 * -2 when the bind fails (the port is taken or the address is not ours). */
static int open_sock(dmx_t *d, const char *addr, uint16_t port, bool natt)
{
  dmx_sock_t *s = &d->socks[d->nsocks];
  struct sockaddr_in *s4 = (struct sockaddr_in *)&s->addr;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&s->addr;
  int one = 1;
  char where[INET6_ADDRSTRLEN + 16];

  memset(s, 0, sizeof(*s));
  if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    s->wildcard = s4->sin_addr.s_addr == htonl(INADDR_ANY);
    snprintf(where, sizeof(where), "%s:%u", addr, port);
  } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    s->wildcard = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
    snprintf(where, sizeof(where), "[%s]:%u", addr, port);
  } else {
    fprintf(stderr, "demux: bad bind address '%s'\n", addr);
    return -1;
  }
  s->family = s->addr.ss_family;
  s->port = port;
  s->natt = natt;
  s->owner = d;
  s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (s->fd < 0) {
    fprintf(stderr, "demux: cannot open a socket for %s: %s\n", where, strerror(errno));
    return -1;
  }
  if (s->family == AF_INET) {
    setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
  } else {
    setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
  }
  /* The NAT-T port is a reuseport group: ipsecmgr joins it with a socket of
   * its own and a BPF program that hands ESP to that socket, so only IKE and
   * keepalives reach demux (ipsecmgr/natt_steer.h). ESP that still arrives
   * here (ipsecmgr absent or re-ordering) is forwarded as before. */
  if (natt) {
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  }
  /* Thousands of clients moving at once arrive as one burst: a 4 MiB
   * receive buffer (forced past rmem_max when we may) keeps the burst. With
   * the default ~200 KiB, 1000 simultaneous updates overflowed it (ikeload). */
  int rcvbuf = 4 << 20;
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  socklen_t alen = s->family == AF_INET ? sizeof(*s4) : sizeof(*s6);
  if (bind(s->fd, (struct sockaddr *)&s->addr, alen) != 0) {
    fprintf(stderr, "demux: cannot bind %s: %s\n", where, strerror(errno));
    close(s->fd);
    return -2;
  }
  uv_poll_init(d->loop, &s->poll, s->fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_udp);
  d->nsocks++;
  return 0;
}

static int open_socks(dmx_t *d, const opts_t *o)
{
  static const char *const defaults[] = {"0.0.0.0", "::"};
  const char *const *binds = o->nbinds > 0 ? o->binds : defaults;
  unsigned n = o->nbinds > 0 ? o->nbinds : 2;
  for (unsigned i = 0; i < n; i++) {
    for (int natt = 0; natt < 2; natt++) {
      if (d->nsocks == DMX_MAX_SOCKS) {
        fprintf(stderr, "demux: too many sockets\n");
        return -1;
      }
      int r = open_sock(d, binds[i], natt ? o->port_natt : o->port_ike, natt != 0);
      if (r != 0) {
        return r;
      }
    }
  }
  return 0;
}

static void on_sock_closed(uv_handle_t *h)
{
  dmx_sock_t *s = h->data;
  close(s->fd);
}

static void shutdown_all(dmx_t *d)
{
  if (d->stopping) {
    return;
  }
  d->stopping = true;
  for (unsigned i = 0; i < d->nsocks; i++) {
    uv_poll_stop(&d->socks[i].poll);
    uv_close((uv_handle_t *)&d->socks[i].poll, on_sock_closed);
  }
  ike_ipc_close(d->sess, NULL, NULL);
  ike_ipc_close(d->ipsec, NULL, NULL);
  ike_ipc_close(d->ctl, NULL, NULL);
  for (int i = 0; i < 2; i++) {
    if (d->sig[i].loop != NULL) { /* initialised */
      uv_close((uv_handle_t *)&d->sig[i], NULL);
    }
  }
}

static void on_signal(uv_signal_t *h, int signum)
{
  IKE_LOG_INFO("signal %d, stopping", signum);
  shutdown_all(h->data);
}

static int open_ipc(dmx_t *d, const opts_t *o)
{
  int r = ike_ipc_router_new(d->loop, d->zctx, o->sess_ep, &d->sess);
  if (r == 0) {
    ike_ipc_set_recv(d->sess, dmx_on_sessmgr, d);
    r = ike_ipc_router_new(d->loop, d->zctx, o->ipsec_ep, &d->ipsec);
    if (r != 0) {
      fprintf(stderr, "demux: cannot bind %s: %s\n", o->ipsec_ep, zmq_strerror(-r));
      return -1;
    }
    ike_ipc_set_recv(d->ipsec, dmx_on_ipsecmgr, d);
  } else {
    fprintf(stderr, "demux: cannot bind %s: %s\n", o->sess_ep, zmq_strerror(-r));
    return -1;
  }
  if (o->ctl_ep != NULL) {
    r = ike_ipc_router_new(d->loop, d->zctx, o->ctl_ep, &d->ctl);
    if (r != 0) {
      fprintf(stderr, "demux: cannot bind %s: %s\n", o->ctl_ep, zmq_strerror(-r));
      return -1;
    }
    ike_ipc_set_recv(d->ctl, dmx_on_ctl, d);
  }
  return 0;
}

int main(int argc, char **argv)
{
  umask(077); /* sockets, stores and logs we create: ours alone */
  dmx_t *d = &g_dmx;
  opts_t o;
  int rc = 0;

  ike_log_set_process("demux");
  signal(SIGPIPE, SIG_IGN);
  if (parse_opts(argc, argv, &o, d) != 0) {
    return 1;
  }
  d->loop = uv_default_loop();
  d->start_ms = uv_now(d->loop);
  dmx_slots_init(&d->slots);
  int r = open_socks(d, &o);
  if (r != 0) {
    rc = r == -2 ? 2 : 1;
    goto done;
  }
  d->zctx = zmq_ctx_new();
  if (d->zctx == NULL || open_ipc(d, &o) != 0) {
    rc = 1;
    goto done;
  }
  for (int i = 0; i < 2; i++) {
    uv_signal_init(d->loop, &d->sig[i]);
    d->sig[i].data = d;
    uv_signal_start(&d->sig[i], on_signal, i == 0 ? SIGTERM : SIGINT);
  }
  IKE_LOG_INFO("routing UDP %u/%u on %u sockets to %s, ESP to %s", o.port_ike, o.port_natt,
               d->nsocks, o.sess_ep, o.ipsec_ep);
  uv_run(d->loop, UV_RUN_DEFAULT);
  IKE_LOG_INFO("stopped");
done:
  if (!d->stopping) {
    /* Set-up failed: close what was opened and let the close callbacks run. */
    shutdown_all(d);
    uv_run(d->loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(d->loop);
  if (d->zctx != NULL) {
    zmq_ctx_term(d->zctx);
  }
  return rc;
}
