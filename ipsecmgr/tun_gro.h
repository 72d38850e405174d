/*
 * tun_gro.h - receive coalescing in userspace for the TUN write path (the way
 * Linux GRO does it in the kernel): consecutive decrypted TCP segments of one
 * flow are merged into one large packet written with a virtio_net_hdr asking
 * for GSO (IFF_VNET_HDR), so the kernel forwards, and the receiving host's TCP
 * stack processes, one packet instead of dozens.
 *
 * Rules (mirroring what Linux's tcp_gro_receive accepts): IPv4 without options
 * and not fragmented, or IPv6 without extension headers; TCP with ACK set and
 * none of SYN, FIN, RST, URG, ECE, CWR; same addresses, TOS/traffic class,
 * TTL/hop limit, DF, ports, ack number, window and option bytes; a sequence
 * number that continues the packet; every segment as long as the first (the
 * gso_size), a shorter one or one with PSH ends the packet; at most 64 KiB
 * and TUN_GRO_MAX_SEGS segments. Each segment's TCP checksum is verified
 * before it is merged (the merged packet carries only the pseudo-header sum,
 * VIRTIO_NET_HDR_F_NEEDS_CSUM, so a bad segment would otherwise go unnoticed);
 * a segment that fails, or does not qualify, is written as it is, in order.
 * Nothing is allocated: one pending packet per tun_gro_t.
 */
#ifndef TUN_GRO_H
#define TUN_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TUN_GRO_VNET_LEN 10u   /* struct virtio_net_hdr */
#define TUN_GRO_MAX 65535u     /* largest merged IP packet */
#define TUN_GRO_MAX_SEGS 64u

/* Writes one frame (iov[0] = the virtio_net_hdr, iov[1] = the IP packet) into
 * the TUN. Returns 0 or -errno. */
typedef int (*tun_gro_write_fn)(void *ctx, const struct iovec *iov, int iovcnt);

typedef struct tun_gro_stats {
  uint64_t pkts_in;      /* packets given to tun_gro_add */
  uint64_t frames_out;   /* frames written (merged or not) */
  uint64_t merged;       /* segments appended to a pending packet */
  uint64_t bad_csum;     /* TCP segments whose checksum failed (written as is) */
  uint64_t write_err;    /* frames the write callback refused */
} tun_gro_stats_t;

typedef struct tun_gro {
  tun_gro_write_fn write;
  void *ctx;
  size_t len;            /* bytes of the pending IP packet, 0 = none */
  size_t iphl, tcphl;    /* its header lengths */
  uint32_t next_seq;     /* sequence number the next segment must carry */
  uint16_t mss;          /* payload length of its first segment */
  uint16_t nsegs;
  bool v6, closed;       /* closed: nothing more may be appended */
  tun_gro_stats_t st;
  uint8_t pkt[TUN_GRO_MAX];
} tun_gro_t;

/* Start empty; frames leave through write(ctx, ...). */
void tun_gro_init(tun_gro_t *g, tun_gro_write_fn write, void *ctx);

/* One IP packet for the TUN: merged into the pending packet, or the pending
 * one is written first and this one becomes pending or is written at once.
 * Returns 0, or the write error of a frame written now (counted). */
int tun_gro_add(tun_gro_t *g, const uint8_t *pkt, size_t len);

/* Write the pending packet, if any (end of a receive batch). 0 or -errno. */
int tun_gro_flush(tun_gro_t *g);

/* Internet checksum helpers (RFC 1071), exposed for the tests: the one's
 * complement sum of data folded to 16 bits starting from `sum`. */
uint16_t tun_gro_csum_fold(const uint8_t *data, size_t len, uint32_t sum);

#endif /* TUN_GRO_H */
