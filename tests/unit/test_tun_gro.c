/*
 * test_tun_gro.c - userspace GRO of the TUN write path (ipsecmgr/tun_gro.c) on
 * crafted TCP segments: what merges (consecutive segments of one flow, RFC 793
 * sequence numbers), what ends a merged packet (short segment, PSH, limits),
 * what never merges (SYN/FIN, other flows, gaps, IP options, bad checksums,
 * non-TCP), the headers of the merged packet (IPv4 header checksum RFC 791,
 * TCP pseudo-header sum RFC 793 3.1 / RFC 8200 8.1 for CHECKSUM_PARTIAL) and
 * its virtio_net_hdr, and that packet order is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <linux/virtio_net.h>

#include "tun_gro.h"

/* ---- reference checksum (byte-wise RFC 1071), independent of tun_gro.c */
static uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
  for (size_t i = 0; i + 1 < n; i += 2) {
    s += (uint32_t)p[i] << 8 | p[i + 1];
  }
  if (n & 1) {
    s += (uint32_t)p[n - 1] << 8;
  }
  while (s >> 16) {
    s = (s & 0xffff) + (s >> 16);
  }
  return s;
}

static uint32_t ref_pseudo(const uint8_t *ip, int v6, size_t tcp_len)
{
  uint32_t s = 6 + (uint32_t)tcp_len;
  return ref_sum(v6 ? ip + 8 : ip + 12, v6 ? 32 : 8, s);
}

/* ---- crafting */
typedef struct {
  int v6;
  uint16_t sport;
  uint32_t seq, ack;
  uint8_t flags;
  uint16_t win;
  uint32_t tsval;
  size_t plen;
  uint8_t fill;
  int bad_csum, ip_opts;
} seg_t;

static size_t mk(uint8_t *p, const seg_t *s)
{
  size_t iphl = s->v6 ? 40 : (s->ip_opts ? 24 : 20), thl = 32, len = iphl + thl + s->plen;
  memset(p, 0, iphl + thl);
  if (s->v6) {
    p[0] = 0x60;
    p[4] = (uint8_t)((len - 40) >> 8);
    p[5] = (uint8_t)(len - 40);
    p[6] = 6;
    p[7] = 64;
    p[8] = 0x20; p[9] = 0x01; p[23] = 1;  /* 2001::1 */
    p[24] = 0x20; p[25] = 0x01; p[39] = 2; /* 2001::2 */
  } else {
    p[0] = (uint8_t)(0x40 | (iphl / 4));
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[4] = 0x12;
    p[6] = 0x40; /* DF */
    p[8] = 64;
    p[9] = 6;
    p[12] = 10; p[13] = 10; p[15] = 5;  /* 10.10.0.5 */
    p[16] = 192; p[17] = 0; p[18] = 2; p[19] = 100;
    uint16_t c = (uint16_t)~ref_sum(p, iphl, 0);
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
  }
  uint8_t *t = p + iphl;
  t[0] = (uint8_t)(s->sport >> 8); t[1] = (uint8_t)s->sport;
  t[2] = 0x14; t[3] = 0x51; /* 5201 */
  for (int i = 0; i < 4; i++) {
    t[4 + i] = (uint8_t)(s->seq >> (24 - 8 * i));
    t[8 + i] = (uint8_t)(s->ack >> (24 - 8 * i));
    t[24 + i] = (uint8_t)(s->tsval >> (24 - 8 * i));
  }
  t[12] = 8 << 4;
  t[13] = s->flags;
  t[14] = (uint8_t)(s->win >> 8); t[15] = (uint8_t)s->win;
  t[20] = 1; t[21] = 1; t[22] = 8; t[23] = 10; /* NOP NOP TS */
  for (size_t i = 0; i < s->plen; i++) {
    t[thl + i] = (uint8_t)(s->fill + i);
  }
  uint16_t c = (uint16_t)~ref_sum(t, thl + s->plen, ref_pseudo(p, s->v6, thl + s->plen));
  if (s->bad_csum) {
    c ^= 0x0100;
  }
  t[16] = (uint8_t)(c >> 8);
  t[17] = (uint8_t)c;
  return len;
}

/* ---- captured frames */
#define NF 16
static struct {
  struct virtio_net_hdr vh;
  uint8_t pkt[TUN_GRO_MAX];
  size_t len;
} out[NF];
static int nout;

static int cap(void *ctx, const struct iovec *iov, int n)
{
  (void)ctx;
  assert_int_equal(n, 2);
  assert_int_equal(iov[0].iov_len, TUN_GRO_VNET_LEN);
  assert_true(nout < NF);
  memcpy(&out[nout].vh, iov[0].iov_base, sizeof(out[nout].vh));
  memcpy(out[nout].pkt, iov[1].iov_base, iov[1].iov_len);
  out[nout].len = iov[1].iov_len;
  nout++;
  return 0;
}

static tun_gro_t g;
static uint8_t buf[70000];

static int setup(void **state)
{
  (void)state;
  nout = 0;
  tun_gro_init(&g, cap, NULL);
  return 0;
}

static void add(const seg_t *s)
{
  size_t n = mk(buf, s);
  assert_int_equal(tun_gro_add(&g, buf, n), 0);
}

static seg_t base(uint32_t seq, size_t plen)
{
  seg_t s = {.sport = 40000, .seq = seq, .ack = 777, .flags = 0x10, .win = 500,
             .tsval = 42, .plen = plen, .fill = (uint8_t)seq};
  return s;
}

/* The merged frame i holds `segs` segments of mss starting at seq. */
static void check_merged(int i, int v6, uint32_t seq, size_t total_payload, uint16_t mss)
{
  size_t iphl = v6 ? 40 : 20;
  uint8_t *p = out[i].pkt, *t = p + iphl;
  assert_int_equal(out[i].len, iphl + 32 + total_payload);
  assert_int_equal(out[i].vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
  assert_int_equal(out[i].vh.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
  assert_int_equal(out[i].vh.gso_size, mss);
  assert_int_equal(out[i].vh.hdr_len, iphl + 32);
  assert_int_equal(out[i].vh.csum_start, iphl);
  assert_int_equal(out[i].vh.csum_offset, 16);
  if (v6) {
    assert_int_equal((size_t)p[4] << 8 | p[5], out[i].len - 40);
  } else {
    assert_int_equal((size_t)p[2] << 8 | p[3], out[i].len);
    assert_int_equal(ref_sum(p, 20, 0), 0xffff); /* header checksum valid */
  }
  assert_int_equal((uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7], seq);
  /* CHECKSUM_PARTIAL: the field holds the pseudo-header sum over the whole TCP length;
   * completing it over the segment gives a valid checksum. */
  uint16_t field = (uint16_t)(t[16] << 8 | t[17]);
  assert_int_equal(field, ref_pseudo(p, v6, out[i].len - iphl));
  uint16_t full = (uint16_t)~ref_sum(t, out[i].len - iphl, 0);
  t[16] = (uint8_t)(full >> 8);
  t[17] = (uint8_t)full;
  assert_int_equal(ref_sum(t, out[i].len - iphl, ref_pseudo(p, v6, out[i].len - iphl)), 0xffff);
  /* payload is the concatenation */
  for (size_t off = 0; off < total_payload; off += mss) {
    uint8_t fill = (uint8_t)(seq + off);
    assert_int_equal(t[32 + off], fill);
  }
}

static void test_merge_v4(void **state)
{
  (void)state;
  seg_t s = base(1000, 1000);
  add(&s);
  s = base(2000, 1000); add(&s);
  s = base(3000, 1000); add(&s);
  s = base(4000, 500); add(&s); /* short: ends it */
  assert_int_equal(nout, 0);
  s = base(4500, 1000); add(&s); /* cannot follow a short segment */
  assert_int_equal(nout, 1);
  check_merged(0, 0, 1000, 3500, 1000);
  assert_int_equal(tun_gro_flush(&g), 0);
  assert_int_equal(nout, 2);
  /* a lone segment goes out untouched, no GSO */
  assert_int_equal(out[1].vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
  assert_int_equal(out[1].vh.flags, 0);
  s = base(4500, 1000);
  size_t n = mk(buf, &s);
  assert_int_equal(out[1].len, n);
  assert_memory_equal(out[1].pkt, buf, n);
  assert_int_equal(g.st.merged, 3);
  assert_int_equal(tun_gro_flush(&g), 0); /* nothing pending */
  assert_int_equal(nout, 2);
}

static void test_merge_v6(void **state)
{
  (void)state;
  for (uint32_t k = 0; k < 4; k++) {
    seg_t s = base(5000 + k * 1200, 1200);
    s.v6 = 1;
    add(&s);
  }
  assert_int_equal(tun_gro_flush(&g), 0);
  assert_int_equal(nout, 1);
  check_merged(0, 1, 5000, 4800, 1200);
}

static void test_psh_ends(void **state)
{
  (void)state;
  seg_t s = base(1, 100);
  add(&s);
  s = base(101, 100);
  s.flags |= 0x08; /* PSH: merged, then closed */
  add(&s);
  s = base(201, 100);
  add(&s);
  assert_int_equal(tun_gro_flush(&g), 0);
  assert_int_equal(nout, 2);
  check_merged(0, 0, 1, 200, 100);
  assert_int_equal(out[0].pkt[20 + 13] & 0x08, 0x08); /* PSH carried */
  assert_int_equal(out[1].vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
}

static void test_no_merge(void **state)
{
  (void)state;
  seg_t s = base(1, 100);
  add(&s);
  s = base(150, 100); /* gap */
  add(&s);
  assert_int_equal(nout, 1);
  s = base(250, 100);
  s.sport = 40001; /* other flow */
  add(&s);
  s = base(350, 100);
  s.ack = 778; /* other ack */
  add(&s);
  s = base(450, 100);
  s.win = 501;
  add(&s);
  s = base(550, 100);
  s.tsval = 43; /* options differ */
  add(&s);
  s = base(650, 100);
  s.flags = 0x11; /* FIN */
  add(&s);
  s = base(750, 100);
  s.flags = 0x02; /* SYN, no ACK */
  add(&s);
  s = base(850, 100);
  s.ip_opts = 1;
  add(&s);
  s = base(950, 100);
  s.bad_csum = 1;
  add(&s);
  s = base(1050, 100);
  add(&s);
  s = base(1150, 120); /* longer than the first: new packet */
  add(&s);
  assert_int_equal(tun_gro_flush(&g), 0);
  assert_int_equal(nout, 12);
  for (int i = 0; i < 12; i++) {
    assert_int_equal(out[i].vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);
  }
  /* order kept: sequence numbers as added */
  static const uint32_t seqs[12] = {1, 150, 250, 350, 450, 550, 650, 750, 850, 950, 1050, 1150};
  for (int i = 0; i < 12; i++) {
    size_t iphl = (size_t)(out[i].pkt[0] & 0x0f) * 4;
    const uint8_t *t = out[i].pkt + iphl;
    assert_int_equal((uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7],
                     seqs[i]);
  }
  assert_int_equal(g.st.bad_csum, 1);
  assert_int_equal(g.st.merged, 0);
}

static void test_non_tcp_and_limits(void **state)
{
  (void)state;
  /* UDP and truncated packets pass through untouched, between TCP ones */
  seg_t s = base(1, 1000);
  add(&s);
  uint8_t udp[28] = {0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17};
  assert_int_equal(tun_gro_add(&g, udp, sizeof(udp)), 0);
  assert_int_equal(tun_gro_add(&g, udp, 3), 0);
  assert_int_equal(nout, 3);
  assert_int_equal(out[1].len, sizeof(udp));
  assert_int_equal(out[2].len, 3);
  /* 64 KiB bound: 1400-byte segments, at most 46 fit in 65535 with headers */
  nout = 0;
  for (uint32_t k = 0; k < 60; k++) {
    s = base(100000 + k * 1400, 1400);
    add(&s);
  }
  assert_int_equal(tun_gro_flush(&g), 0);
  assert_int_equal(nout, 2);
  assert_true(out[0].len <= TUN_GRO_MAX);
  check_merged(0, 0, 100000, out[0].len - 52, 1400);
  size_t segs0 = (out[0].len - 52) / 1400;
  assert_int_equal(segs0, (TUN_GRO_MAX - 52) / 1400);
  check_merged(1, 0, 100000 + (uint32_t)segs0 * 1400, (60 - segs0) * 1400, 1400);
}

static void test_csum_helper(void **state)
{
  (void)state;
  /* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
  static const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  assert_int_equal(tun_gro_csum_fold(ex, sizeof(ex), 0), 0xddf2);
  for (size_t n = 0; n < 40; n++) { /* every alignment and odd length */
    uint8_t b[48];
    for (size_t i = 0; i < sizeof(b); i++) {
      b[i] = (uint8_t)(i * 37 + 11);
    }
    assert_int_equal(tun_gro_csum_fold(b + (n & 3), n, 0x1234), ref_sum(b + (n & 3), n, 0x1234));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_merge_v4, setup),
      cmocka_unit_test_setup(test_merge_v6, setup),
      cmocka_unit_test_setup(test_psh_ends, setup),
      cmocka_unit_test_setup(test_no_merge, setup),
      cmocka_unit_test_setup(test_non_tcp_and_limits, setup),
      cmocka_unit_test_setup(test_csum_helper, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
