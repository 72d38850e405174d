/*
 * ikeload_net.c - ikeload's sockets: one UDP socket per local port, bound to
 * INADDR_ANY, shared by every client. The source address of a datagram is
 * chosen per datagram with IP_PKTINFO (ipi_spec_dst); the destination address
 * of a received one (IP_PKTINFO ipi_addr) names the client, because every
 * client has its own addresses: base[set] + index. Datagrams go out in
 * sendmmsg batches (flushed once per loop iteration or when LD_BATCH are
 * queued) and come in through recvmmsg.
 *
 * Every address of 127.0.0.0/8 is local on Linux (route "local 127.0.0.0/8
 * dev lo"); other sets need a local route to the range and IP_FREEBIND.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ikeload.h"

#define CLI_MAX_MSG_WIRE 8192 /* ike_client's largest message */
#define LD_SLOT (CLI_MAX_MSG_WIRE + 4)
#define LD_RX_ROUNDS 16 /* recvmmsg batches per readable event, then timers run */
#define LD_SOCKBUF (256 << 20) /* charged per skb (~1-2 KiB each on lo): room for
                                   the answers of 100,000 clients at once */

uint32_t ld_addr(const ld_t *ld, unsigned i, unsigned set)
{
  return ld->o.base[set] + i;
}

static void set_buf(int fd, int opt_force, int opt)
{
  int v = LD_SOCKBUF;
  /* FORCE works as root past net.core.[rw]mem_max; else the capped size. */
  if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof v) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v);
  }
}

static int open_sock(uint16_t *port_be)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
  socklen_t al = sizeof a;
  int one = 1;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  /* IP_FREEBIND: address sets outside 127/8 are usually AnyIP ranges ("ip route
   * add local 10.200.0.0/16 dev lo"), local for receiving but assigned to no
   * interface, and the kernel refuses them as ipi_spec_dst without it. */
  if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0 ||
      setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
    close(fd);
    return -1;
  }
  set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF);
  set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF);
  *port_be = a.sin_port;
  return fd;
}

/* Client index and address set of a local address, or -1. base[set] + i is
 * a perfect hash of (address) -> client: the address sets do not overlap
 * (checked at option parsing), so no table is needed. */
static int64_t who(const ld_t *ld, uint32_t addr_host, unsigned *set)
{
  for (unsigned k = 0; k < 3; k++) {
    uint32_t off = addr_host - ld->o.base[k];
    if (off < ld->o.n) {
      *set = k;
      return off;
    }
  }
  return -1;
}

/* One received datagram: to which client, IKE or not, then hand it over. */
static void rx_one(ld_t *ld, unsigned s, const struct msghdr *mh, uint8_t *buf, size_t n)
{
  uint32_t dst = 0;
  bool have_dst = false;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
       cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
    if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(cm), sizeof pi);
      dst = pi.ipi_addr.s_addr;
      have_dst = true;
    }
  }
  unsigned set = 0;
  int64_t i = have_dst ? who(ld, ntohl(dst), &set) : -1;
  if (i < 0) {
    ld->net.rx_unknown++;
    return;
  }
  const struct sockaddr_in *from = mh->msg_name;
  ike_path_t path;
  memset(&path, 0, sizeof path);
  memcpy(&path.peer, from, sizeof *from);
  struct sockaddr_in *loc = (struct sockaddr_in *)&path.local;
  loc->sin_family = AF_INET;
  loc->sin_addr.s_addr = dst;
  loc->sin_port = ld->net.port_be[s];
  /* From the NAT-T port: non-ESP marker, then IKE (RFC 3948 2.2); a zero SPI
   * there would be ESP with SPI 0, which does not exist. */
  bool natt = from->sin_port == ld->natt_port_be && n >= 4 && buf[0] == 0 &&
              buf[1] == 0 && buf[2] == 0 && buf[3] == 0;
  ld_client_t *c = &ld->c[i];
  uint64_t now = uv_now(ld->loop);
  if (natt) {
    ike_client_recv(c->cl, &path, true, buf + 4, n - 4, now);
  } else if (from->sin_port != ld->natt_port_be && n >= 28) {
    ike_client_recv(c->cl, &path, false, buf, n, now);
  } else {
    ld->net.rx_non_ike++; /* ESP or a keepalive: not ours to read */
    return;
  }
  ld_run_poke(ld, (uint32_t)i);
}

static void on_readable(uv_poll_t *p, int status, int events)
{
  ld_t *ld = p->data;
  unsigned s = p == &ld->net.poll[0] ? 0 : 1;
  static uint8_t bufs[LD_BATCH][CLI_MAX_MSG_WIRE + 64];
  static struct sockaddr_in from[LD_BATCH];
  static uint8_t ctl[LD_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
  struct mmsghdr mm[LD_BATCH];
  struct iovec iov[LD_BATCH];
  if (status < 0 || !(events & UV_READABLE)) {
    return;
  }
  for (int round = 0; round < LD_RX_ROUNDS; round++) {
    for (unsigned k = 0; k < LD_BATCH; k++) {
      iov[k] = (struct iovec){.iov_base = bufs[k], .iov_len = sizeof bufs[k]};
      mm[k].msg_hdr = (struct msghdr){.msg_name = &from[k], .msg_namelen = sizeof from[k],
                                      .msg_iov = &iov[k], .msg_iovlen = 1,
                                      .msg_control = ctl[k],
                                      .msg_controllen = sizeof ctl[k]};
      mm[k].msg_len = 0;
    }
    int r = recvmmsg(ld->net.fd[s], mm, LD_BATCH, MSG_DONTWAIT, NULL);
    if (r <= 0) {
      return;
    }
    ld->net.rx_batches++;
    for (int k = 0; k < r; k++) {
      ld->net.rx++;
      rx_one(ld, s, &mm[k].msg_hdr, bufs[k], mm[k].msg_len);
    }
    if (r < LD_BATCH) {
      return;
    }
  }
}

int ld_net_open(ld_t *ld)
{
  ld_net_t *n = &ld->net;
  n->q_buf = malloc((size_t)LD_BATCH * LD_SLOT);
  if (n->q_buf == NULL) {
    return -1;
  }
  n->n_fd = 2;
  for (unsigned s = 0; s < n->n_fd; s++) {
    n->fd[s] = open_sock(&n->port_be[s]);
    if (n->fd[s] < 0) {
      return -1;
    }
    uv_poll_init(ld->loop, &n->poll[s], n->fd[s]);
    n->poll[s].data = ld;
    uv_poll_start(&n->poll[s], UV_READABLE, on_readable);
  }
  return 0;
}

void ld_net_close(ld_t *ld)
{
  for (unsigned s = 0; s < ld->net.n_fd; s++) {
    uv_poll_stop(&ld->net.poll[s]);
    uv_close((uv_handle_t *)&ld->net.poll[s], NULL);
  }
  uv_run(ld->loop, UV_RUN_NOWAIT);
  for (unsigned s = 0; s < ld->net.n_fd; s++) {
    close(ld->net.fd[s]);
  }
  free(ld->net.q_buf);
  ld->net.q_buf = NULL;
}

void ld_net_flush(ld_t *ld)
{
  ld_net_t *n = &ld->net;
  struct mmsghdr mm[LD_BATCH];
  struct iovec iov[LD_BATCH];
  uint8_t ctl[LD_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
  unsigned done = 0;
  while (done < n->q_n) {
    /* One sendmmsg per run of datagrams on the same socket. */
    int fd = n->q_fd[done];
    unsigned m = 0;
    for (unsigned k = done; k < n->q_n && n->q_fd[k] == fd; k++, m++) {
      iov[m] = (struct iovec){.iov_base = n->q_buf + (size_t)k * LD_SLOT,
                              .iov_len = n->q_len[k]};
      memset(ctl[m], 0, sizeof ctl[m]);
      mm[m].msg_hdr = (struct msghdr){.msg_name = &n->q_dst[k],
                                      .msg_namelen = sizeof n->q_dst[k],
                                      .msg_iov = &iov[m], .msg_iovlen = 1,
                                      .msg_control = ctl[m],
                                      .msg_controllen = sizeof ctl[m]};
      struct cmsghdr *cm = CMSG_FIRSTHDR(&mm[m].msg_hdr);
      cm->cmsg_level = IPPROTO_IP;
      cm->cmsg_type = IP_PKTINFO;
      cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
      struct in_pktinfo pi = {.ipi_ifindex = 0};
      pi.ipi_spec_dst.s_addr = n->q_src[k]; /* our source address */
      memcpy(CMSG_DATA(cm), &pi, sizeof pi);
      mm[m].msg_len = 0;
    }
    unsigned sent = 0;
    while (sent < m) {
      int r = sendmmsg(fd, mm + sent, m - sent, MSG_DONTWAIT);
      if (r < 0) {
        if (errno == EINTR) {
          continue;
        }
        /* Lost like on a real network: the retransmission timer resends. */
        n->last_tx_errno = errno;
        n->tx_err++;
        sent++;
        continue;
      }
      n->tx_batches++;
      n->tx += (unsigned)r;
      sent += (unsigned)r;
    }
    done += m;
  }
  n->q_n = 0;
}

void ld_net_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                 size_t len)
{
  ld_t *ld = ld_global;
  ld_net_t *n = &ld->net;
  (void)ctx;
  size_t off = natt ? 4 : 0;
  const struct sockaddr_in *loc = (const struct sockaddr_in *)&path->local;
  if (len + off > LD_SLOT || path->peer.ss_family != AF_INET) {
    n->tx_err++;
    return;
  }
  if (n->q_n == LD_BATCH) {
    ld_net_flush(ld);
  }
  unsigned k = n->q_n++;
  uint8_t *slot = n->q_buf + (size_t)k * LD_SLOT;
  memset(slot, 0, off); /* non-ESP marker (RFC 3948 2.2) */
  memcpy(slot + off, pkt, len);
  n->q_len[k] = len + off;
  n->q_fd[k] = loc->sin_port == n->port_be[1] ? n->fd[1] : n->fd[0];
  n->q_src[k] = loc->sin_addr.s_addr;
  memcpy(&n->q_dst[k], &path->peer, sizeof n->q_dst[k]);
}
