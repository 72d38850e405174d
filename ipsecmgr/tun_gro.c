/* tun_gro.c - userspace GRO for the TUN write path, see tun_gro.h. */
#include "tun_gro.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u
#define TCP_URG 0x20u
#define TCP_ECE 0x40u
#define TCP_CWR 0x80u

static uint32_t rd32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

uint16_t tun_gro_csum_fold(const uint8_t *data, size_t len, uint32_t sum)
{
  /* Sum native-order 32-bit words (RFC 1071 1.2: byte order independent),
   * swap to network meaning at the end. */
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t w;
    memcpy(&w, data + i, 4);
    acc += w;
  }
  uint8_t tail[4] = {0, 0, 0, 0};
  memcpy(tail, data + i, len - i);
  uint32_t w;
  memcpy(&w, tail, 4);
  acc += w;
  while (acc >> 16) {
    acc = (acc & 0xffffu) + (acc >> 16);
  }
  uint32_t r = ntohs((uint16_t)acc) + sum;
  while (r >> 16) {
    r = (r & 0xffffu) + (r >> 16);
  }
  return (uint16_t)r;
}

/* Pseudo-header sum (RFC 793 3.1, RFC 8200 8.1) for a TCP length. */
static uint32_t pseudo_sum(const uint8_t *ip, bool v6, size_t tcp_len)
{
  uint32_t s = 6u + (uint32_t)(tcp_len & 0xffffu) + (uint32_t)(tcp_len >> 16);
  return tun_gro_csum_fold(v6 ? ip + 8 : ip + 12, v6 ? 32 : 8, s);
}

/* Header lengths of a TCP segment that qualifies for merging (tun_gro.h
 * rules), or false. */
static bool tcp_candidate(const uint8_t *p, size_t len, bool *v6, size_t *iphl, size_t *tcphl)
{
  if (len >= 40 && (p[0] >> 4) == 4) {
    if (p[0] != 0x45 || p[9] != 6 || ((size_t)p[2] << 8 | p[3]) != len ||
        (p[6] & 0x3f) != 0 || p[7] != 0) { /* options, not TCP, length, MF/offset */
      return false;
    }
    *v6 = false;
    *iphl = 20;
  } else if (len >= 60 && (p[0] >> 4) == 6) {
    if (p[6] != 6 || ((size_t)p[4] << 8 | p[5]) + 40u != len) {
      return false;
    }
    *v6 = true;
    *iphl = 40;
  } else {
    return false;
  }
  const uint8_t *th = p + *iphl;
  *tcphl = (size_t)(th[12] >> 4) * 4u;
  uint8_t fl = th[13];
  return *tcphl >= 20 && *iphl + *tcphl < len && (fl & TCP_ACK) != 0 &&
         (fl & (TCP_FIN | TCP_SYN | TCP_RST | TCP_URG | TCP_ECE | TCP_CWR)) == 0;
}

static bool csum_ok(const uint8_t *p, size_t len, bool v6, size_t iphl)
{
  return tun_gro_csum_fold(p + iphl, len - iphl, pseudo_sum(p, v6, len - iphl)) == 0xffffu;
}

/* Can segment s (qualified, headers iphl/tcphl) be appended to the pending one? */
static bool mergeable(const tun_gro_t *g, const uint8_t *s, size_t len, bool v6, size_t iphl,
                      size_t tcphl)
{
  const uint8_t *p = g->pkt;
  if (g->len == 0 || g->closed || v6 != g->v6 || tcphl != g->tcphl ||
      g->nsegs >= TUN_GRO_MAX_SEGS || g->len + (len - iphl - tcphl) > TUN_GRO_MAX ||
      len - iphl - tcphl > g->mss) {
    return false;
  }
  if (v6) { /* version/class/flow, next header + hop limit, addresses */
    if (memcmp(p, s, 4) != 0 || memcmp(p + 6, s + 6, 34) != 0) {
      return false;
    }
  } else if (p[1] != s[1] || (p[6] & 0x40) != (s[6] & 0x40) || p[8] != s[8] ||
             memcmp(p + 12, s + 12, 8) != 0) { /* TOS, DF, TTL, addresses */
    return false;
  }
  const uint8_t *pt = p + iphl, *st = s + iphl;
  return memcmp(pt, st, 4) == 0 &&                       /* ports */
         rd32(st + 4) == g->next_seq &&                  /* continues */
         memcmp(pt + 8, st + 8, 5) == 0 &&               /* ack, data offset */
         ((pt[13] ^ st[13]) & (uint8_t)~TCP_PSH) == 0 && /* flags but PSH */
         memcmp(pt + 14, st + 14, 2) == 0 &&             /* window */
         memcmp(pt + 20, st + 20, tcphl - 20) == 0;      /* options */
}

static int gro_write(tun_gro_t *g, const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len)
{
  struct iovec iov[2] = {{.iov_base = (void *)vh, .iov_len = TUN_GRO_VNET_LEN},
                         {.iov_base = (void *)pkt, .iov_len = len}};
  g->st.frames_out++;
  int r = g->write(g->ctx, iov, 2);
  if (r != 0) {
    g->st.write_err++;
  }
  return r;
}

void tun_gro_init(tun_gro_t *g, tun_gro_write_fn write, void *ctx)
{
  memset(g, 0, offsetof(tun_gro_t, pkt));
  g->write = write;
  g->ctx = ctx;
}

int tun_gro_flush(tun_gro_t *g)
{
  if (g->len == 0) {
    return 0;
  }
  struct virtio_net_hdr vh;
  memset(&vh, 0, sizeof(vh));
  uint8_t *p = g->pkt;
  size_t len = g->len;
  g->len = 0;
  if (g->nsegs > 1) { /* headers of the merged packet; checksum left to the kernel */
    uint8_t *th = p + g->iphl;
    if (g->v6) {
      wr16(p + 4, (uint16_t)(len - 40u));
    } else {
      wr16(p + 2, (uint16_t)len);
      wr16(p + 10, 0);
      wr16(p + 10, (uint16_t)~tun_gro_csum_fold(p, 20, 0));
    }
    wr16(th + 16, 0);
    wr16(th + 16, (uint16_t)pseudo_sum(p, g->v6, len - g->iphl));
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    vh.hdr_len = (uint16_t)(g->iphl + g->tcphl);
    vh.gso_size = g->mss;
    vh.csum_start = (uint16_t)g->iphl;
    vh.csum_offset = 16;
  }
  return gro_write(g, &vh, p, len);
}

int tun_gro_add(tun_gro_t *g, const uint8_t *pkt, size_t len)
{
  bool v6 = false;
  size_t iphl = 0, tcphl = 0;
  g->st.pkts_in++;
  bool cand = len <= TUN_GRO_MAX && tcp_candidate(pkt, len, &v6, &iphl, &tcphl);
  if (cand && !csum_ok(pkt, len, v6, iphl)) {
    g->st.bad_csum++;
    cand = false;
  }
  size_t pl = cand ? len - iphl - tcphl : 0;
  uint8_t fl = cand ? pkt[iphl + 13] : 0;
  if (cand && mergeable(g, pkt, len, v6, iphl, tcphl)) {
    memcpy(g->pkt + g->len, pkt + iphl + tcphl, pl);
    g->len += pl;
    g->nsegs++;
    g->next_seq += (uint32_t)pl;
    g->pkt[g->iphl + 13] |= fl & TCP_PSH;
    g->closed = pl < g->mss || (fl & TCP_PSH) != 0;
    g->st.merged++;
    return 0;
  }
  int r = tun_gro_flush(g);
  if (!cand || (fl & TCP_PSH) != 0) {
    struct virtio_net_hdr vh;
    memset(&vh, 0, sizeof(vh));
    int w = gro_write(g, &vh, pkt, len);
    return r != 0 ? r : w;
  }
  memcpy(g->pkt, pkt, len);
  g->len = len;
  g->v6 = v6;
  g->iphl = iphl;
  g->tcphl = tcphl;
  g->mss = (uint16_t)pl;
  g->nsegs = 1;
  g->next_seq = rd32(pkt + iphl + 4) + (uint32_t)pl;
  g->closed = false;
  return r;
}
