/*
 * dispatch.c - demux's IPC message handlers: Hello/Bye and outgoing datagrams
 * from sessmgrs and ipsecmgr, StatsRequest from gwctl.
 *
 * Each handler unpacks the Envelope, NULL-checks it, switches on the oneof
 * and frees it on every path (as sudo's logsrvd does). Peers are sibling
 * processes, but their messages are still checked: a bad one is counted and
 * dropped, never trusted to be well-formed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "demux.h"
#include "ike_log.h"
#include "ike_wire.h"
#include "ikegw_ctl.pb-c.h"

#include "ike_addr.h"
#include "ikegw_demux.pb-c.h"

#define ARENA_SIZE 2048

/* Parse a printable address and port into ss. Returns 0 or -EINVAL. */
/* A datagram address: text and a port that must not be 0. */
static int parse_addr(const char *text, uint32_t port, struct sockaddr_storage *ss)
{
  return (port == 0 || ike_addr_parse(text, port, ss) != 0) ? -EINVAL : 0;
}

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family) {
    return false;
  }
  if (a->ss_family == AF_INET) {
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)b)->sin_addr.s_addr;
  }
  return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* The socket to send from src: bound to exactly that address and port, else
 * a wildcard socket of the family on that port. */
static dmx_sock_t *find_sock(dmx_t *d, const struct sockaddr_storage *src, uint16_t port)
{
  dmx_sock_t *wild = NULL;
  for (unsigned i = 0; i < d->nsocks; i++) {
    dmx_sock_t *s = &d->socks[i];
    if (s->family != src->ss_family || s->port != port) {
      continue;
    }
    if (s->wildcard) {
      wild = s;
    } else if (same_ip(&s->addr, src)) {
      return s;
    }
  }
  return wild;
}

/* Send one datagram from dg->src to dg->dst with IP_PKTINFO/IPV6_PKTINFO so
 * it leaves from the address the client used. The non-ESP marker is a
 * separate iovec: the packet is never copied. Returns 0 or a negative errno. */
static int send_datagram(dmx_t *d, const Ikegw__Demux__Datagram *dg, const uint8_t *pkt,
                         size_t len)
{
  static const uint8_t marker[IKE_NON_ESP_MARKER_LEN] = {0, 0, 0, 0};
  struct sockaddr_storage src, dst;
  union {
    char buf[IKE_ADDR_CMSG_SPACE];
    struct cmsghdr align;
  } ctl;
  struct iovec iov[2];
  struct msghdr mh;
  int n = 0;

  if (parse_addr(dg->src_addr, dg->src_port, &src) != 0 ||
      parse_addr(dg->dst_addr, dg->dst_port, &dst) != 0 || src.ss_family != dst.ss_family) {
    d->tx.tx_bad_addr++;
    return -EINVAL;
  }
  dmx_sock_t *s = find_sock(d, &src, (uint16_t)dg->src_port);
  if (s == NULL) {
    d->tx.tx_no_socket++;
    return -EADDRNOTAVAIL;
  }
  if (dg->non_esp_marker) {
    iov[n].iov_base = (void *)marker;
    iov[n++].iov_len = sizeof(marker);
  }
  iov[n].iov_base = (void *)pkt;
  iov[n++].iov_len = len;

  memset(&mh, 0, sizeof(mh));
  mh.msg_name = &dst;
  mh.msg_namelen = dst.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                            : sizeof(struct sockaddr_in6);
  mh.msg_iov = iov;
  mh.msg_iovlen = (size_t)n;
  ike_addr_pktinfo(&mh, ctl.buf, &src, dg->ifindex);
  if (sendmsg(s->fd, &mh, MSG_DONTWAIT) < 0) {
    int err = errno;
    d->tx.tx_sendmsg_err++;
    IKE_LOG_DEBUG("sendmsg to %s:%u: %s", dg->dst_addr, dg->dst_port, strerror(err));
    return -err;
  }
  return 0;
}

static Ikegw__Demux__Envelope *unpack_env(dmx_t *d, ike_ipc_arena_t *a, const ike_ipc_msg_t *m)
{
  Ikegw__Demux__Envelope *env = (Ikegw__Demux__Envelope *)ike_ipc_unpack(
      a, &ikegw__demux__envelope__descriptor, m->hdr, m->hdr_len);
  if (env == NULL) {
    d->tx.ipc_bad++;
    IKE_LOG_WARN("undecodable envelope (%zu bytes)", m->hdr_len);
  }
  return env;
}

/* A Datagram from a peer process: send it, or count why not. */
static void handle_datagram(dmx_t *d, const Ikegw__Demux__Envelope *env, const ike_ipc_msg_t *m,
                            bool esp)
{
  if (env->datagram == NULL || m->pkt == NULL) {
    d->tx.ipc_bad++;
    return;
  }
  if (send_datagram(d, env->datagram, m->pkt, m->pkt_len) != 0) {
    dmx_count_drop(&d->route, DMX_DROP_TX_FAILED);
    return;
  }
  if (esp) {
    d->tx.tx_esp++;
  } else {
    d->tx.tx_ike++;
  }
}

void dmx_slot_lost(dmx_t *d, uint16_t slot)
{
  if (dmx_slots_del(&d->slots, slot)) {
    d->tx.slot_lost++;
    IKE_LOG_WARN("sessmgr slot %u unreachable, %u slots live", slot, d->slots.n);
  }
}

void dmx_on_sessmgr(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  dmx_t *d = arg;
  uint8_t abuf[ARENA_SIZE];
  ike_ipc_arena_t arena;
  (void)ep;
  ike_ipc_arena_init(&arena, abuf, sizeof(abuf));
  Ikegw__Demux__Envelope *env = unpack_env(d, &arena, m);
  if (env == NULL) {
    return;
  }
  int slot = ike_slot_id_decode(m->id, m->id_len);
  switch (env->msg_case) {
  case IKEGW__DEMUX__ENVELOPE__MSG_HELLO:
    /* The slot a worker claims must be the routing id it connected with,
     * or replies for that slot would go elsewhere. */
    if (env->hello == NULL || slot < 0 || env->hello->slot != (uint32_t)slot ||
        env->hello->role != IKEGW__DEMUX__ROLE__ROLE_SESSMGR) {
      d->tx.ipc_bad++;
      IKE_LOG_WARN("bad Hello (routing id %zu bytes)", m->id_len);
      break;
    }
    d->tx.hello++;
    if (dmx_slots_add(&d->slots, (uint16_t)slot)) {
      IKE_LOG_INFO("sessmgr slot %d (pid %u) live, %u of %u expected", slot,
                   env->hello->pid, d->slots.n, d->workers);
    }
    break;
  case IKEGW__DEMUX__ENVELOPE__MSG_BYE:
    if (slot < 0) {
      d->tx.ipc_bad++;
      break;
    }
    d->tx.bye++;
    if (dmx_slots_del(&d->slots, (uint16_t)slot)) {
      IKE_LOG_INFO("sessmgr slot %d left, %u slots live", slot, d->slots.n);
    }
    break;
  case IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM:
    handle_datagram(d, env, m, false);
    break;
  default:
    d->tx.ipc_bad++;
    break;
  }
  ike_ipc_unpack_free(&arena, &env->base);
}

void dmx_on_ipsecmgr(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  dmx_t *d = arg;
  uint8_t abuf[ARENA_SIZE];
  ike_ipc_arena_t arena;
  (void)ep;
  ike_ipc_arena_init(&arena, abuf, sizeof(abuf));
  Ikegw__Demux__Envelope *env = unpack_env(d, &arena, m);
  if (env == NULL) {
    return;
  }
  switch (env->msg_case) {
  case IKEGW__DEMUX__ENVELOPE__MSG_HELLO:
    if (env->hello == NULL || env->hello->role != IKEGW__DEMUX__ROLE__ROLE_IPSECMGR ||
        m->id_len == 0 || m->id_len > sizeof(d->ipsec_id)) {
      d->tx.ipc_bad++;
      break;
    }
    d->tx.hello++;
    memcpy(d->ipsec_id, m->id, m->id_len);
    d->ipsec_id_len = m->id_len;
    IKE_LOG_INFO("ipsecmgr (pid %u) live", env->hello->pid);
    break;
  case IKEGW__DEMUX__ENVELOPE__MSG_BYE:
    d->tx.bye++;
    d->ipsec_id_len = 0;
    IKE_LOG_INFO("ipsecmgr left");
    break;
  case IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM:
    handle_datagram(d, env, m, true);
    break;
  default:
    d->tx.ipc_bad++;
    break;
  }
  ike_ipc_unpack_free(&arena, &env->base);
}

/* ---- control: StatsRequest ---- */

#define MAX_COUNTERS (DMX_DROP_COUNT + 32)

typedef struct {
  Ikegw__Types__Counter c[MAX_COUNTERS];
  Ikegw__Types__Counter *p[MAX_COUNTERS];
  size_t n;
  const char *prefix;
} counters_t;

static void put(counters_t *cs, const char *name, uint64_t v)
{
  if (cs->n >= MAX_COUNTERS ||
      (cs->prefix != NULL && strncmp(name, cs->prefix, strlen(cs->prefix)) != 0)) {
    return;
  }
  Ikegw__Types__Counter *c = &cs->c[cs->n];
  ikegw__types__counter__init(c);
  c->name = (char *)name;
  c->value = v;
  cs->p[cs->n] = c;
  cs->n++;
}

static void collect(dmx_t *d, counters_t *cs)
{
  const ike_ipc_stats_t *ss = ike_ipc_stats(d->sess);
  put(cs, "rx_datagrams", d->route.rx);
  put(cs, "rx_ike", d->route.ike);
  put(cs, "rx_ike_init", d->route.ike_init);
  put(cs, "rx_natt_keepalive", d->route.keepalive);
  put(cs, "rx_esp", d->route.esp);
  put(cs, "rx_trunc", d->tx.rx_trunc);
  for (int i = 0; i < DMX_DROP_COUNT; i++) {
    put(cs, dmx_drop_name((dmx_drop_t)i), d->route.drop[i]);
  }
  put(cs, "to_sessmgr", d->tx.to_sessmgr);
  put(cs, "to_ipsecmgr", d->tx.to_ipsecmgr);
  put(cs, "tx_ike", d->tx.tx_ike);
  put(cs, "tx_esp", d->tx.tx_esp);
  put(cs, "tx_no_socket", d->tx.tx_no_socket);
  put(cs, "tx_bad_addr", d->tx.tx_bad_addr);
  put(cs, "tx_sendmsg_err", d->tx.tx_sendmsg_err);
  put(cs, "ipc_bad", d->tx.ipc_bad);
  put(cs, "ipc_hello", d->tx.hello);
  put(cs, "ipc_bye", d->tx.bye);
  put(cs, "slots_lost", d->tx.slot_lost);
  put(cs, "slots_live", d->slots.n);
  put(cs, "workers_expected", d->workers);
  put(cs, "ipsecmgr_live", d->ipsec_id_len > 0);
  put(cs, "ipc_sessmgr_rx", ss->rx_msgs);
  put(cs, "ipc_sessmgr_tx", ss->tx_msgs);
  put(cs, "ipc_sessmgr_tx_unroutable", ss->tx_unroutable);
  put(cs, "ipc_sessmgr_tx_again", ss->tx_again);
  put(cs, "ipc_sessmgr_wakeups", ss->rx_wakeups);
}

void dmx_on_ctl(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  dmx_t *d = arg;
  Ikegw__Ctl__Envelope *req = (Ikegw__Ctl__Envelope *)ike_ipc_unpack(
      NULL, &ikegw__ctl__envelope__descriptor, m->hdr, m->hdr_len);
  Ikegw__Ctl__Envelope out = IKEGW__CTL__ENVELOPE__INIT;
  Ikegw__Ctl__StatsResponse st = IKEGW__CTL__STATS_RESPONSE__INIT;
  Ikegw__Ctl__Result res = IKEGW__CTL__RESULT__INIT;
  counters_t cs;

  if (req == NULL) {
    d->tx.ipc_bad++;
    return;
  }
  out.id = req->id;
  if (req->msg_case == IKEGW__CTL__ENVELOPE__MSG_STATS_REQUEST && req->stats_request != NULL) {
    cs.n = 0;
    cs.prefix = req->stats_request->prefix[0] != '\0' ? req->stats_request->prefix : NULL;
    collect(d, &cs);
    st.process = "demux";
    st.pid = (uint32_t)getpid();
    st.uptime_s = (uv_now(d->loop) - d->start_ms) / 1000u;
    st.n_counters = cs.n;
    st.counters = cs.p;
    out.msg_case = IKEGW__CTL__ENVELOPE__MSG_STATS_RESPONSE;
    out.stats_response = &st;
    if (req->stats_request->clear) {
      memset(&d->route, 0, sizeof(d->route));
      memset(&d->tx, 0, sizeof(d->tx));
    }
  } else {
    res.ok = 0;
    res.error = "demux: request not supported";
    out.msg_case = IKEGW__CTL__ENVELOPE__MSG_RESULT;
    out.result = &res;
  }
  ike_ipc_send_pb(ep, m->id, m->id_len, &out.base, NULL, 0);
  ike_ipc_unpack_free(NULL, &req->base);
}
