/*
 * main.c - the ipsecmgr process: the ESP datapath of the gateway (DESIGN.md
 * "Processes", ipsecmgr). Sockets and the loop only; the logic is dispatch.c
 * (ipsecmgr.h), the datapath a backend (backend.h) chosen by the config's
 * `datapath`: userspace (default; everything below) or xfrm (the kernel does
 * ESP: no TUN, no ESP sockets, ESP from demux ignored; SA and policy requests
 * go to NETLINK_XFRM, and a kernel that refuses a state fails the SaAdd with
 * the reason).
 *
 *   ipsecmgr -c CONFIG [--sessmgr-endpoint EP] [--demux-endpoint EP]
 *            [--ctl-endpoint EP] [--tun NAME] [--mtu N] [--max-sas N]
 *            [--state-dir DIR] [--log-level LEVEL]
 *   ipsecmgr --query CTL-EP [PREFIX]     print the counters of a running ipsecmgr
 *
 *  - binds a ROUTER at --sessmgr-endpoint: sessmgrs (DEALER, routing id = 2-byte
 *    slot) send Hello, SaAdd, SaUpdate, SaDel, SaQuery, ReplayDone;
 *  - connects a DEALER (routing id "ipsecmgr") to demux's ipsec endpoint and says
 *    Hello{role=ROLE_IPSECMGR} on every connect: demux then hands it ESP-in-UDP
 *    received on port 4500 and sends the ESP-in-UDP it gets back from port 4500;
 *  - binds a ROUTER at --ctl-endpoint for gwctl (StatsRequest);
 *  - opens the TUN device (default "ikegw0"), sets it up with the MTU and adds a
 *    route for every ip pool prefix of the config, so traffic to the clients'
 *    virtual addresses enters the TUN;
 *  - opens raw IPPROTO_ESP sockets (IPv4, IPv6) for ESP without UDP encapsulation;
 *  - joins demux's NAT-T port (4500) reuseport group on every bind address with
 *    a socket of its own and a BPF program that steers ESP-in-UDP to it and IKE
 *    and keepalives to demux (natt_steer.h): inbound ESP skips demux and ZMQ.
 *    Measured (tests/bench/run_e2e.sh, AES-GCM-256, medians of 3): gateway CPU
 *    per GB 12.0 -> 8.0 CPU-s;
 *  - opens the TUN with IFF_VNET_HDR and writes decrypted TCP through a
 *    userspace GRO (tun_gro.h): consecutive segments of a flow in one batch go
 *    into the kernel as one GSO packet, flushed at the end of every receive
 *    batch and loop iteration. Measured the same way: 8.0 -> 4.3 CPU-s per GB;
 *  - keeps the ESP sequence-number leases of its SAs in STATE_DIR/ipsecmgr-seq.mdb
 *    (seq_lease.h; state-directory of the config, or --state-dir) and commits
 *    them at the end of each loop iteration, so a restart never reuses a
 *    sequence number (= AEAD nonce). Without a usable store it does not start.
 * Exit status: 0 after SIGTERM/SIGINT, 1 on a set-up error, 2 on a config error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ike_config.h"
#include "ike_ipc.h"
#include "ike_log.h"
#include "ikegw_ctl.pb-c.h"
#include "ipsecmgr.h"
#include "natt_steer.h"
#include "tun.h"
#include "tun_gro.h"
#include "xfrm.h"

#define TUN_BATCH 64u         /* packets per read batch */
#define TUN_WAKE_CAP 256u     /* packets per wake-up before yielding */
#define TUN_STRIDE (65536u + TUN_GRO_VNET_LEN)
#define RAW_BATCH 32u
#define RAW_BUF 65536u
#define NATT_MAX 8u           /* port-4500 sockets of our own (one per bind address) */
#define NATT_BATCH 64u        /* datagrams per recvmmsg */
#define NATT_BUF 2048u        /* ESP-in-UDP larger than this is truncated and dropped */
#define NATT_HOLDOFF_MS 200u  /* after re-attaching, queued evidence is stale */

/* One socket of ours in a reuseport group on the NAT-T port (natt_steer.h). */
typedef struct natt_sock {
  int fd;
  uint32_t my_idx;           /* our index in the group as we believe it */
  uint64_t holdoff_until;    /* uv_now before which misroutes do not swap */
  struct sockaddr_storage addr;
  socklen_t alen;
  uv_poll_t poll;
  struct app *app;
} natt_sock_t;

typedef struct app {
  uv_loop_t *loop;
  void *zctx;
  ipm_t *m;
  ike_ipc_t *sess, *demux, *ctl;
  int tun_fd, tun_ifindex;
  bool vnet;                 /* IFF_VNET_HDR: writes go through gro */
  uv_check_t flush;          /* end of each loop iteration: write what gro holds */
  char tun_name[32];
  int raw4, raw6;
  int udp4, udp6;            /* raw UDP sockets: ESP-in-UDP sent without demux */
  natt_sock_t natt[NATT_MAX]; /* inbound ESP-in-UDP straight from the kernel */
  unsigned n_natt;
  uv_poll_t tun_poll, raw4_poll, raw6_poll;
  uv_timer_t tick;
  uv_signal_t sig[2];
  bool stopping;
  xfrm_t *xfrm;              /* datapath xfrm: the kernel does ESP, no TUN/sockets */
} app_t;

static tun_gro_t g_gro;
static app_t g_app = {.tun_fd = -1, .raw4 = -1, .raw6 = -1, .udp4 = -1, .udp6 = -1};

/* Preallocated packet buffers (no allocation per packet). */
static uint8_t tun_bufs[TUN_BATCH][TUN_STRIDE];
static size_t tun_lens[TUN_BATCH];
static struct {
  struct mmsghdr mm[RAW_BATCH];
  struct iovec iov[RAW_BATCH];
  struct sockaddr_storage from[RAW_BATCH];
  uint8_t data[RAW_BATCH][RAW_BUF];
} raw;
static struct {
  struct mmsghdr mm[NATT_BATCH];
  struct iovec iov[NATT_BATCH];
  struct sockaddr_storage from[NATT_BATCH];
  uint8_t data[NATT_BATCH][NATT_BUF];
} nrx;

static void natt_probe(struct app *a);

/* ---------------------------------------------------------------- ops */

static int op_send(void *ctx, ipm_ch_t ch, const uint8_t *id, size_t id_len,
                   const ProtobufCMessage *msg, const uint8_t *pkt, size_t pkt_len)
{
  app_t *a = ctx;
  ike_ipc_t *ep = ch == IPM_CH_SESSMGR ? a->sess : ch == IPM_CH_DEMUX ? a->demux : a->ctl;
  if (ep == NULL) {
    return -ENOTCONN;
  }
  return ike_ipc_send_pb(ep, id, id_len, msg, pkt, pkt_len);
}

static int op_tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
  app_t *a = ctx;
  if (a->vnet) {
    return tun_gro_add(&g_gro, pkt, len) < 0 ? -1 : 0;
  }
  return tun_write(a->tun_fd, pkt, len) < 0 ? -1 : 0;
}

static int gro_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
  app_t *a = ctx;
  return tun_writev(a->tun_fd, iov, iovcnt);
}

/* Write what gro holds and publish its counters (end of a batch / iteration). */
static void gro_flush(app_t *a)
{
  if (!a->vnet) {
    return;
  }
  if (tun_gro_flush(&g_gro) != 0) {
    ipm_counters_rw(a->m)->tun_tx_err++;
  }
  ipm_counters_t *c = ipm_counters_rw(a->m);
  c->tun_gro_frames = g_gro.st.frames_out;
  c->tun_gro_merged = g_gro.st.merged;
  c->tun_gro_bad_csum = g_gro.st.bad_csum;
}

static void on_flush(uv_check_t *h)
{
  app_t *a = h->data;
  gro_flush(a);
  ipm_flush(a->m); /* group commit of sequence-number leases (seq_lease.h) */
}

/* Send iov[0..n) on raw socket fd from sa->local to sa->peer (port 0: raw). */
static int raw_sendv(int fd, const esp_sa_t *sa, struct iovec *iov, size_t n)
{
  bool v4 = sa->peer.ss.ss_family == AF_INET;
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } ctl;
  struct sockaddr_storage dst = sa->peer.ss;
  struct msghdr mh;
  memset(&mh, 0, sizeof(mh));
  memset(&ctl, 0, sizeof(ctl));
  if (v4) {
    ((struct sockaddr_in *)&dst)->sin_port = 0;
  } else {
    ((struct sockaddr_in6 *)&dst)->sin6_port = 0;
  }
  mh.msg_name = &dst;
  mh.msg_namelen = v4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  mh.msg_iov = iov;
  mh.msg_iovlen = n;
  mh.msg_control = ctl.buf;
  struct cmsghdr *cm;
  if (v4) { /* leave from the SA's local address */
    struct in_pktinfo pi = {0};
    pi.ipi_spec_dst = ((const struct sockaddr_in *)&sa->local.ss)->sin_addr;
    mh.msg_controllen = CMSG_SPACE(sizeof(pi));
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = IPPROTO_IP;
    cm->cmsg_type = IP_PKTINFO;
    cm->cmsg_len = CMSG_LEN(sizeof(pi));
    memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
  } else {
    struct in6_pktinfo pi = {0};
    pi.ipi6_addr = ((const struct sockaddr_in6 *)&sa->local.ss)->sin6_addr;
    mh.msg_controllen = CMSG_SPACE(sizeof(pi));
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = IPPROTO_IPV6;
    cm->cmsg_type = IPV6_PKTINFO;
    cm->cmsg_len = CMSG_LEN(sizeof(pi));
    memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
  }
  return sendmsg(fd, &mh, MSG_DONTWAIT) < 0 ? -errno : 0;
}

static int op_raw_send(void *ctx, const esp_sa_t *sa, const uint8_t *pkt, size_t len)
{
  app_t *a = ctx;
  int fd = sa->peer.ss.ss_family == AF_INET ? a->raw4 : a->raw6;
  struct iovec iov = {.iov_base = (void *)pkt, .iov_len = len};
  return fd < 0 ? -ENOTSUP : raw_sendv(fd, sa, &iov, 1);
}

/* ESP-in-UDP straight from ipsecmgr: our UDP header (ports from the SA, the
 * checksum 0 over IPv4 as RFC 3948 2.1 recommends; over IPv6 the kernel fills
 * it, IPV6_CHECKSUM), then the ESP packet. -ENOTSUP: send through demux. */
static int op_udp_send(void *ctx, const esp_sa_t *sa, const uint8_t *pkt, size_t len)
{
  app_t *a = ctx;
  bool v4 = sa->peer.ss.ss_family == AF_INET;
  int fd = v4 ? a->udp4 : a->udp6;
  if (fd < 0 || len > 65535u - 8u) {
    return -ENOTSUP;
  }
  uint8_t uh[8];
  uint16_t sp = v4 ? ((const struct sockaddr_in *)&sa->local.ss)->sin_port
                   : ((const struct sockaddr_in6 *)&sa->local.ss)->sin6_port;
  uint16_t dp = v4 ? ((const struct sockaddr_in *)&sa->peer.ss)->sin_port
                   : ((const struct sockaddr_in6 *)&sa->peer.ss)->sin6_port;
  uint16_t ul = htons((uint16_t)(len + 8u));
  memcpy(uh, &sp, 2);
  memcpy(uh + 2, &dp, 2);
  memcpy(uh + 4, &ul, 2);
  uh[6] = uh[7] = 0;
  struct iovec iov[2] = {{.iov_base = uh, .iov_len = 8}, {.iov_base = (void *)pkt, .iov_len = len}};
  return raw_sendv(fd, sa, iov, 2);
}

static uint64_t op_now(void *ctx)
{
  (void)ctx;
  return (uint64_t)time(NULL);
}

/* ---------------------------------------------------------------- IPC callbacks */

static void on_sess(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg)
{
  app_t *a = arg;
  (void)ep;
  ipm_on_sessmgr(a->m, msg->id, msg->id_len, msg->hdr, msg->hdr_len);
}

static void on_demux(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg)
{
  app_t *a = arg;
  (void)ep;
  if (a->xfrm != NULL) {
    return; /* XFRM datapath: ESP is the kernel's, never decrypted here */
  }
  ipm_on_demux(a->m, msg->hdr, msg->hdr_len, msg->pkt, msg->pkt_len);
}

static void on_demux_connected(ike_ipc_t *ep, void *arg)
{
  app_t *a = arg;
  (void)ep;
  IKE_LOG_INFO("connected to demux, saying Hello");
  ipm_hello_demux(a->m);
  natt_probe(a); /* a new demux may have joined the NAT-T groups in a new order */
}

static void on_ctl(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg)
{
  app_t *a = arg;
  (void)ep;
  ipm_on_ctl(a->m, msg->id, msg->id_len, msg->hdr, msg->hdr_len);
}

/* ---------------------------------------------------------------- packets */

/* TUN readable: drain in batches, at most TUN_WAKE_CAP packets per wake-up (the
 * poll is level-triggered: the rest comes next loop iteration). */
static void on_tun(uv_poll_t *h, int status, int events)
{
  app_t *a = h->data;
  (void)status;
  (void)events;
  unsigned total = 0;
  while (total < TUN_WAKE_CAP) {
    int n = tun_read_batch(a->tun_fd, &tun_bufs[0][0], TUN_STRIDE, tun_lens, TUN_BATCH);
    if (n <= 0) {
      break;
    }
    for (int i = 0; i < n; i++) {
      size_t off = a->vnet ? TUN_GRO_VNET_LEN : 0;
      /* No offloads were enabled, so gso_type (byte 1) is always NONE. */
      if (tun_lens[i] > off && (off == 0 || tun_bufs[i][1] == 0)) {
        ipm_tun_in(a->m, tun_bufs[i] + off, tun_lens[i] - off);
      }
    }
    total += (unsigned)n;
    if ((unsigned)n < TUN_BATCH) {
      break;
    }
  }
}

/* Raw ESP readable (no UDP encapsulation): IPv4 delivers the IP header, IPv6 not. */
static void on_raw(uv_poll_t *h, int status, int events)
{
  app_t *a = h->data;
  int fd = h == &a->raw4_poll ? a->raw4 : a->raw6;
  bool v4 = fd == a->raw4;
  (void)status;
  (void)events;
  for (unsigned i = 0; i < RAW_BATCH; i++) {
    raw.iov[i].iov_base = raw.data[i];
    raw.iov[i].iov_len = RAW_BUF;
    memset(&raw.mm[i], 0, sizeof(raw.mm[i]));
    raw.mm[i].msg_hdr.msg_name = &raw.from[i];
    raw.mm[i].msg_hdr.msg_namelen = sizeof(raw.from[i]);
    raw.mm[i].msg_hdr.msg_iov = &raw.iov[i];
    raw.mm[i].msg_hdr.msg_iovlen = 1;
  }
  int n = recvmmsg(fd, raw.mm, RAW_BATCH, MSG_DONTWAIT, NULL);
  for (int i = 0; i < n; i++) {
    const uint8_t *p = raw.data[i];
    size_t len = raw.mm[i].msg_len, off = 0;
    if (v4) {
      if (len < 20 || (p[0] >> 4) != 4 || (size_t)(p[0] & 0x0f) * 4u > len) {
        continue;
      }
      off = (size_t)(p[0] & 0x0f) * 4u;
    }
    ipm_esp_in(a->m, p + off, len - off, (const struct sockaddr *)&raw.from[i], false);
  }
}

/* Tell the group's program which index is ours (natt_steer.h). */
static void natt_attach(natt_sock_t *ns)
{
  int r = natt_steer_attach(ns->fd, 1u - ns->my_idx, ns->my_idx);
  if (r != 0) {
    IKE_LOG_WARN("port %u reuseport program: %s; ESP keeps coming through demux",
                 ntohs(((struct sockaddr_in *)&ns->addr)->sin_port), strerror(-r));
  }
  ns->holdoff_until = uv_now(ns->app->loop) + NATT_HOLDOFF_MS;
}

/* A keepalive or an IKE datagram reached our socket: unless we are alone in the
 * group (demux restarting), the indexes are the other way round. Swap them; the
 * datagram itself is dropped (IKE retransmits). */
static void natt_misrouted(natt_sock_t *ns)
{
  ipm_counters_rw(ns->app->m)->natt_misrouted++;
  if (uv_now(ns->app->loop) < ns->holdoff_until) {
    return;
  }
  ns->my_idx = 1u - ns->my_idx;
  ipm_counters_rw(ns->app->m)->natt_steer_swaps++;
  IKE_LOG_INFO("NAT-T port: non-ESP on the ESP socket, reuseport index now %u", ns->my_idx);
  natt_attach(ns);
}

/* Send a NAT-T keepalive to the group: demux drops it; if it reaches us
 * instead, natt_misrouted() corrects the program. Wildcard groups are reached
 * over loopback. */
static void natt_probe(struct app *a)
{
  static const uint8_t ka = 0xff;
  for (unsigned i = 0; i < a->n_natt; i++) {
    natt_sock_t *ns = &a->natt[i];
    struct sockaddr_storage to = ns->addr;
    if (to.ss_family == AF_INET) {
      struct sockaddr_in *s4 = (struct sockaddr_in *)&to;
      if (s4->sin_addr.s_addr == htonl(INADDR_ANY)) {
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      }
    } else {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&to;
      if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
        s6->sin6_addr = in6addr_loopback;
      }
    }
    int fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd >= 0) {
      ns->holdoff_until = 0;
      (void)sendto(fd, &ka, 1, MSG_DONTWAIT, (struct sockaddr *)&to, ns->alen);
      close(fd);
    }
  }
}

/* ESP-in-UDP straight from the kernel: one recvmmsg batch per wake-up. */
static void on_natt(uv_poll_t *h, int status, int events)
{
  natt_sock_t *ns = h->data;
  app_t *a = ns->app;
  (void)status;
  (void)events;
  for (unsigned i = 0; i < NATT_BATCH; i++) {
    nrx.iov[i].iov_base = nrx.data[i];
    nrx.iov[i].iov_len = NATT_BUF;
    memset(&nrx.mm[i], 0, sizeof(nrx.mm[i]));
    nrx.mm[i].msg_hdr.msg_name = &nrx.from[i];
    nrx.mm[i].msg_hdr.msg_namelen = sizeof(nrx.from[i]);
    nrx.mm[i].msg_hdr.msg_iov = &nrx.iov[i];
    nrx.mm[i].msg_hdr.msg_iovlen = 1;
  }
  int n = recvmmsg(ns->fd, nrx.mm, NATT_BATCH, MSG_DONTWAIT, NULL);
  ipm_counters_t *c = ipm_counters_rw(a->m);
  for (int i = 0; i < n; i++) {
    const uint8_t *p = nrx.data[i];
    size_t len = nrx.mm[i].msg_len;
    if (nrx.mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
      c->esp_rx_trunc++;
    } else if (!natt_steer_is_esp(p, len)) {
      natt_misrouted(ns);
    } else {
      c->esp_rx_direct++;
      ipm_esp_in(a->m, p, len, (const struct sockaddr *)&nrx.from[i], true);
    }
  }
  gro_flush(a);
}

/* Our own socket in each NAT-T reuseport group demux made (natt_steer.h). A
 * failure leaves ESP on the demux path. */
static void setup_natt(app_t *a, const ike_config_t *cfg)
{
  static const char *const defaults[] = {"0.0.0.0", "::"};
  unsigned n = cfg->n_bind > 0 ? cfg->n_bind : 2;
  for (unsigned i = 0; i < n && a->n_natt < NATT_MAX; i++) {
    const char *txt = cfg->n_bind > 0 ? cfg->bind[i].addr : defaults[i];
    natt_sock_t *ns = &a->natt[a->n_natt];
    memset(ns, 0, sizeof(*ns));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ns->addr;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ns->addr;
    if (inet_pton(AF_INET, txt, &s4->sin_addr) == 1) {
      s4->sin_family = AF_INET;
      s4->sin_port = htons(cfg->natt_port);
      ns->alen = sizeof(*s4);
    } else if (inet_pton(AF_INET6, txt, &s6->sin6_addr) == 1) {
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(cfg->natt_port);
      ns->alen = sizeof(*s6);
    } else {
      continue;
    }
    int busy = natt_steer_group_busy((struct sockaddr *)&ns->addr, ns->alen);
    ns->fd = natt_steer_open((struct sockaddr *)&ns->addr, ns->alen, 4 << 20);
    if (ns->fd < 0) {
      IKE_LOG_WARN("NAT-T socket %s:%u: %s; its ESP comes through demux", txt, cfg->natt_port,
                   strerror(-ns->fd));
      continue;
    }
    ns->app = a;
    ns->my_idx = busy == 1 ? 1u : 0u; /* demux there first, or joining after us */
    natt_attach(ns);
    uv_poll_init(a->loop, &ns->poll, ns->fd);
    ns->poll.data = ns;
    uv_poll_start(&ns->poll, UV_READABLE, on_natt);
    a->n_natt++;
    IKE_LOG_INFO("NAT-T %s:%u: ESP received directly (reuseport index %u)", txt,
                 cfg->natt_port, ns->my_idx);
  }
}

static void on_tick(uv_timer_t *t)
{
  app_t *a = t->data;
  ipm_tick(a->m);
}

/* ---------------------------------------------------------------- set-up */

static int setup_tun(app_t *a, const ike_config_t *cfg, const char *name, unsigned mtu)
{
  a->tun_fd = tun_open_vnet(name, a->tun_name, &a->tun_ifindex, true);
  a->vnet = a->tun_fd >= 0;
  if (a->tun_fd < 0) { /* no IFF_VNET_HDR: plain packets, no GRO */
    a->tun_fd = tun_open(name, a->tun_name, &a->tun_ifindex);
  }
  if (a->tun_fd < 0) {
    fprintf(stderr, "ipsecmgr: cannot open TUN device %s: %s\n", name, strerror(-a->tun_fd));
    return -1;
  }
  int r = tun_set_up(a->tun_ifindex, mtu);
  if (r != 0) {
    fprintf(stderr, "ipsecmgr: cannot set %s up: %s\n", a->tun_name, strerror(-r));
    return -1;
  }
  for (unsigned i = 0; i < cfg->n_pools; i++) {
    const ike_cfg_prefix_t *p = &cfg->pools[i].prefix;
    char txt[64];
    ike_cfg_prefix_str(p, txt, sizeof(txt));
    r = tun_add_route(a->tun_ifindex, p->family, p->addr, p->plen);
    if (r != 0 && p->family == AF_INET6 && (r == -EACCES || r == -EPERM)) {
      /* IPv6 is disabled on this host: an IPv6 pool cannot carry traffic,
       * but dying here would only restart us in a loop. Say so and go on. */
      IKE_LOG_ERR("cannot route pool %s via %s: %s (IPv6 disabled?); IPv6 clients of "
                  "this pool get no traffic", txt, a->tun_name, strerror(-r));
      continue;
    }
    if (r != 0) {
      fprintf(stderr, "ipsecmgr: cannot route pool %s via %s: %s\n", txt, a->tun_name,
              strerror(-r));
      return -1;
    }
    IKE_LOG_INFO("pool %s routed via %s", txt, a->tun_name);
  }
  uv_poll_init(a->loop, &a->tun_poll, a->tun_fd);
  a->tun_poll.data = a;
  uv_poll_start(&a->tun_poll, UV_READABLE, on_tun);
  tun_gro_init(&g_gro, gro_writev, a);
  uv_check_init(a->loop, &a->flush);
  a->flush.data = a;
  uv_check_start(&a->flush, on_flush);
  return 0;
}

static void setup_raw(app_t *a)
{
  int one = 1;
  a->raw4 = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
  a->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
  if (a->raw4 < 0 || a->raw6 < 0) {
    IKE_LOG_WARN("raw ESP socket: %s; ESP without UDP encapsulation unavailable",
                 strerror(errno));
  }
  /* Raw UDP sockets only send: a filter that accepts nothing keeps the copies
   * of every UDP packet the kernel hands raw sockets out of their queues. */
  struct sock_filter none = BPF_STMT(BPF_RET | BPF_K, 0);
  struct sock_fprog prog = {.len = 1, .filter = &none};
  int off = 6, small = 1;
  a->udp4 = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  a->udp6 = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  for (int i = 0; i < 2; i++) {
    int fd = i == 0 ? a->udp4 : a->udp6;
    if (fd >= 0) {
      setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    }
  }
  if (a->udp6 >= 0) {
    setsockopt(a->udp6, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off));
  }
  if (a->udp4 < 0 || a->udp6 < 0) {
    IKE_LOG_WARN("raw UDP socket: %s; ESP-in-UDP goes out through demux", strerror(errno));
  }
  if (a->raw4 >= 0) {
    setsockopt(a->raw4, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    uv_poll_init(a->loop, &a->raw4_poll, a->raw4);
    a->raw4_poll.data = a;
    uv_poll_start(&a->raw4_poll, UV_READABLE, on_raw);
  }
  if (a->raw6 >= 0) {
    uv_poll_init(a->loop, &a->raw6_poll, a->raw6);
    a->raw6_poll.data = a;
    uv_poll_start(&a->raw6_poll, UV_READABLE, on_raw);
  }
}

static int setup_ipc(app_t *a, const char *sess_ep, const char *demux_ep, const char *ctl_ep)
{
  int r = ike_ipc_router_new(a->loop, a->zctx, sess_ep, &a->sess);
  if (r != 0) {
    fprintf(stderr, "ipsecmgr: cannot bind %s: %s\n", sess_ep, zmq_strerror(-r));
    return -1;
  }
  ike_ipc_set_recv(a->sess, on_sess, a);
  static const char id[] = "ipsecmgr";
  r = ike_ipc_dealer_new(a->loop, a->zctx, demux_ep, id, sizeof(id) - 1u, &a->demux);
  if (r != 0) {
    fprintf(stderr, "ipsecmgr: cannot connect to demux at %s: %s\n", demux_ep, zmq_strerror(-r));
    return -1;
  }
  ike_ipc_set_recv(a->demux, on_demux, a);
  ike_ipc_set_connected(a->demux, on_demux_connected, a);
  if (ctl_ep != NULL) {
    r = ike_ipc_router_new(a->loop, a->zctx, ctl_ep, &a->ctl);
    if (r != 0) {
      fprintf(stderr, "ipsecmgr: cannot bind %s: %s\n", ctl_ep, zmq_strerror(-r));
      return -1;
    }
    ike_ipc_set_recv(a->ctl, on_ctl, a);
  }
  return 0;
}

static void shutdown_all(app_t *a)
{
  if (a->stopping) {
    return;
  }
  a->stopping = true;
  if (a->tun_fd >= 0 && a->tun_poll.loop != NULL) {
    uv_close((uv_handle_t *)&a->tun_poll, NULL);
  }
  if (a->raw4 >= 0 && a->raw4_poll.loop != NULL) {
    uv_close((uv_handle_t *)&a->raw4_poll, NULL);
  }
  if (a->raw6 >= 0 && a->raw6_poll.loop != NULL) {
    uv_close((uv_handle_t *)&a->raw6_poll, NULL);
  }
  for (unsigned i = 0; i < a->n_natt; i++) {
    uv_close((uv_handle_t *)&a->natt[i].poll, NULL);
  }
  if (a->flush.loop != NULL) {
    uv_close((uv_handle_t *)&a->flush, NULL);
  }
  if (a->tick.loop != NULL) {
    uv_close((uv_handle_t *)&a->tick, NULL);
  }
  ike_ipc_close(a->sess, NULL, NULL);
  ike_ipc_close(a->demux, NULL, NULL);
  ike_ipc_close(a->ctl, NULL, NULL);
  for (int i = 0; i < 2; i++) {
    if (a->sig[i].loop != NULL) {
      uv_close((uv_handle_t *)&a->sig[i], NULL);
    }
  }
}

static void on_signal(uv_signal_t *h, int signum)
{
  IKE_LOG_INFO("signal %d, stopping", signum);
  shutdown_all(h->data);
}

/* ---------------------------------------------------------------- --query */

/* Ask a running ipsecmgr for its counters and print "name value" lines. */
static int query(const char *ep, const char *prefix)
{
  void *z = zmq_ctx_new();
  void *s = zmq_socket(z, ZMQ_DEALER);
  int tmo = 3000, linger = 0, rc = 1;
  zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
  Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
  Ikegw__Ctl__StatsRequest sr = IKEGW__CTL__STATS_REQUEST__INIT;
  sr.prefix = (char *)(prefix != NULL ? prefix : "");
  env.id = 1;
  env.msg_case = IKEGW__CTL__ENVELOPE__MSG_STATS_REQUEST;
  env.stats_request = &sr;
  uint8_t out[256], in[65536];
  size_t n = ikegw__ctl__envelope__pack(&env, out);
  if (zmq_connect(s, ep) == 0 && zmq_send(s, out, n, 0) == (int)n) {
    int got = zmq_recv(s, in, sizeof(in), 0);
    Ikegw__Ctl__Envelope *ans =
        got > 0 && (size_t)got <= sizeof(in) ? ikegw__ctl__envelope__unpack(NULL, (size_t)got, in) : NULL;
    if (ans != NULL && ans->msg_case == IKEGW__CTL__ENVELOPE__MSG_STATS_RESPONSE) {
      for (size_t i = 0; i < ans->stats_response->n_counters; i++) {
        printf("%s %llu\n", ans->stats_response->counters[i]->name,
               (unsigned long long)ans->stats_response->counters[i]->value);
      }
      rc = 0;
    } else {
      fprintf(stderr, "ipsecmgr: no answer from %s\n", ep);
    }
    if (ans != NULL) {
      ikegw__ctl__envelope__free_unpacked(ans, NULL);
    }
  }
  zmq_close(s);
  zmq_ctx_term(z);
  return rc;
}

/* ---------------------------------------------------------------- main */

typedef struct {
  const char *config, *sess_ep, *demux_ep, *ctl_ep, *tun, *query, *state_dir;
  unsigned mtu, max_sas;
} opts_t;

static void usage(FILE *f)
{
  fprintf(f, "usage: ipsecmgr -c CONFIG [--sessmgr-endpoint EP] [--demux-endpoint EP]\n"
             "                [--ctl-endpoint EP] [--tun NAME] [--mtu N] [--max-sas N]\n"
             "                [--state-dir DIR] [--log-level err|warn|info|debug]\n"
             "       ipsecmgr --query CTL-EP [PREFIX]\n");
}

static int parse_opts(int argc, char **argv, opts_t *o)
{
  static const struct option lo[] = {
      {"config", required_argument, NULL, 'c'},
      {"sessmgr-endpoint", required_argument, NULL, 's'},
      {"demux-endpoint", required_argument, NULL, 'd'},
      {"ctl-endpoint", required_argument, NULL, 'C'},
      {"tun", required_argument, NULL, 't'},
      {"mtu", required_argument, NULL, 'm'},
      {"max-sas", required_argument, NULL, 'x'},
      {"log-level", required_argument, NULL, 'l'},
      {"query", required_argument, NULL, 'q'},
      {"state-dir", required_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c, lvl;
  memset(o, 0, sizeof(*o));
  /* Defaults in the default state directory (as the launcher lays it out),
   * never in a world-writable /tmp where another user could take the name. */
  o->sess_ep = "ipc://" IKE_CFG_DEF_STATE_DIR "/ipsec.sock";
  o->demux_ep = "ipc://" IKE_CFG_DEF_STATE_DIR "/demux-esp.sock";
  o->tun = "ikegw0";
  o->mtu = 1400;
  while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
    switch (c) {
    case 'c': o->config = optarg; break;
    case 's': o->sess_ep = optarg; break;
    case 'd': o->demux_ep = optarg; break;
    case 'C': o->ctl_ep = optarg; break;
    case 't': o->tun = optarg; break;
    case 'm': o->mtu = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'x': o->max_sas = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'q': o->query = optarg; break;
    case 'S': o->state_dir = optarg; break;
    case 'l':
      lvl = ike_log_level_parse(optarg);
      if (lvl < 0) {
        fprintf(stderr, "ipsecmgr: bad log level '%s'\n", optarg);
        return -1;
      }
      ike_log_set_level(lvl);
      break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (o->query == NULL && (o->config == NULL || optind != argc)) {
    usage(stderr);
    return -1;
  }
  if (o->mtu != 0 && (o->mtu < 576 || o->mtu > 65000)) {
    fprintf(stderr, "ipsecmgr: bad --mtu %u\n", o->mtu);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  umask(077); /* sockets, stores and logs we create: ours alone */
  static ike_config_t cfg;
  app_t *a = &g_app;
  opts_t o;
  char err[512];
  int rc = 0;

  ike_log_set_process("ipsecmgr");
  signal(SIGPIPE, SIG_IGN);
  if (parse_opts(argc, argv, &o) != 0) {
    return 1;
  }
  if (o.query != NULL) {
    return query(o.query, optind < argc ? argv[optind] : NULL);
  }
  if (ike_config_load(o.config, &cfg, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  ike_log_set_level(cfg.log_level);
  const ipm_backend_ops_t *be = ipm_backend_for(cfg.datapath);
  if (be == NULL) {
    fprintf(stderr, "ipsecmgr: datapath %u unknown\n", cfg.datapath);
    return 2;
  }
  bool xfrm = be == &ipm_be_xfrm;
  if (xfrm) {
    int xr = xfrm_open(&a->xfrm);
    if (xr != 0) {
      fprintf(stderr, "ipsecmgr: datapath xfrm: cannot open NETLINK_XFRM: %s\n", strerror(-xr));
      return 1;
    }
  }
  char seq_path[IKE_CFG_PATH_MAX + 32];
  const char *sdir = o.state_dir != NULL ? o.state_dir : cfg.state_dir;
  if (mkdir(sdir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "ipsecmgr: cannot create state directory %s: %s\n", sdir, strerror(errno));
    return 1;
  }
  snprintf(seq_path, sizeof(seq_path), "%s/ipsecmgr-seq.mdb", sdir);
  /* XFRM: the kernel keeps states (and their sequence numbers) across our
   * restarts, so no leases; the userspace datapath needs them. */
  ipm_cfg_t mc = {.max_sas = o.max_sas != 0 ? o.max_sas : cfg.max_sas,
                  .seq_store = xfrm ? NULL : seq_path,
                  .be = be,
                  .be_ctx = a->xfrm,
                  .ops = {.send = op_send, .tun_write = op_tun_write,
                          .raw_send = op_raw_send, .udp_send = op_udp_send,
                          .now_s = op_now},
                  .ctx = a};
  int nr = ipm_new(&mc, &a->m);
  if (nr != 0) {
    fprintf(stderr, "ipsecmgr: cannot start: %s (sequence-number store %s)\n", strerror(-nr),
            seq_path);
    return 1;
  }
  a->loop = uv_default_loop();
  a->zctx = zmq_ctx_new();
  if (a->zctx == NULL || (!xfrm && setup_tun(a, &cfg, o.tun, o.mtu) != 0) ||
      setup_ipc(a, o.sess_ep, o.demux_ep, o.ctl_ep) != 0) {
    rc = 1;
    goto done;
  }
  if (!xfrm) {
    setup_raw(a);
    setup_natt(a, &cfg);
  } else {
    uv_check_init(a->loop, &a->flush); /* lease commits: none with xfrm, kept uniform */
    a->flush.data = a;
    uv_check_start(&a->flush, on_flush);
  }
  uv_timer_init(a->loop, &a->tick);
  a->tick.data = a;
  uv_timer_start(&a->tick, on_tick, 1000, 1000);
  for (int i = 0; i < 2; i++) {
    uv_signal_init(a->loop, &a->sig[i]);
    a->sig[i].data = a;
    uv_signal_start(&a->sig[i], on_signal, i == 0 ? SIGTERM : SIGINT);
  }
  if (xfrm) {
    IKE_LOG_INFO("xfrm datapath (kernel ESP over netlink), sessmgrs at %s", o.sess_ep);
  } else {
    IKE_LOG_INFO("userspace datapath on %s (mtu %u), sessmgrs at %s, demux at %s", a->tun_name,
                 o.mtu, o.sess_ep, o.demux_ep);
  }
  uv_run(a->loop, UV_RUN_DEFAULT);
  IKE_LOG_INFO("stopped");
done:
  if (!a->stopping) {
    shutdown_all(a);
    uv_run(a->loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(a->loop);
  if (a->tun_fd >= 0) {
    close(a->tun_fd);
  }
  if (a->raw4 >= 0) {
    close(a->raw4);
  }
  if (a->raw6 >= 0) {
    close(a->raw6);
  }
  if (a->udp4 >= 0) {
    close(a->udp4);
  }
  if (a->udp6 >= 0) {
    close(a->udp6);
  }
  for (unsigned i = 0; i < a->n_natt; i++) {
    close(a->natt[i].fd);
  }
  if (a->zctx != NULL) {
    zmq_ctx_term(a->zctx);
  }
  ipm_free(a->m);
  xfrm_close(a->xfrm);
  return rc;
}
