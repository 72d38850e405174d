/*
 * test_route.c - demux's routing decision (demux/route.h) as table tests:
 * the I flag picks our SPI (RFC 7296 3.1), SPI 0 is hashed over live slots
 * (stable, spread, consistent when a slot leaves), a non-zero SPI names its
 * slot, port 4500 separates marker + IKE, keepalive and ESP (RFC 3948 2.2,
 * 2.3), and every malformed input is dropped with its own counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ike_slot.h"
#include "ike_wire.h"
#include "route.h"

static dmx_slots_t slots;

/* Build an IKE header (+ pad bytes of body) at out+off; returns total length. */
static size_t mk_ike(uint8_t *out, size_t off, uint64_t spi_i, uint64_t spi_r, uint8_t exch,
                     uint8_t flags, uint32_t msg_id, uint8_t version, size_t body)
{
  uint8_t *p = out + off;
  uint32_t len = (uint32_t)(IKE_HDR_LEN + body);
  memset(out, 0, off);
  for (int i = 0; i < 8; i++) {
    p[i] = (uint8_t)(spi_i >> (56 - 8 * i));
    p[8 + i] = (uint8_t)(spi_r >> (56 - 8 * i));
  }
  p[16] = 33; /* next payload: SA */
  p[17] = version;
  p[18] = exch;
  p[19] = flags;
  for (int i = 0; i < 4; i++) {
    p[20 + i] = (uint8_t)(msg_id >> (24 - 8 * i));
    p[24 + i] = (uint8_t)(len >> (24 - 8 * i));
  }
  memset(p + IKE_HDR_LEN, 0xab, body);
  return off + len;
}

static void live(const uint16_t *list, size_t n)
{
  dmx_slots_init(&slots);
  for (size_t i = 0; i < n; i++) {
    dmx_slots_add(&slots, list[i]);
  }
}

#define I IKE_FLAG_INITIATOR
#define R IKE_FLAG_RESPONSE
#define V2 0x20
#define INIT IKE_EXCH_IKE_SA_INIT
#define AUTH IKE_EXCH_IKE_AUTH
#define INFO IKE_EXCH_INFORMATIONAL

typedef struct {
  const char *what;
  bool natt;        /* received on 4500 */
  bool marker;      /* prepend the non-ESP marker */
  uint64_t spi_i, spi_r;
  uint8_t exch, flags;
  uint32_t msg_id;
  uint8_t version;
  size_t body;
  int len_delta;    /* add to the datagram length after building (truncate/extend) */
  dmx_kind_t kind;
  dmx_drop_t drop;  /* when kind == DMX_DROP */
  int slot;         /* expected slot, -1 = the hash of spi_i */
  uint64_t spi;     /* expected our-SPI */
} ike_case_t;

/* A constant-expression twin of ike_spi_make() for the table (low != 0). */
#define S(slot, low) (((uint64_t)(slot) << IKE_SLOT_SHIFT) | (uint64_t)(low))

static const ike_case_t ike_cases[] = {
    {"I set: our SPI is SPIr", false, false, 0x1111, S(5, 0xabc), AUTH, I, 1, V2, 40, 0,
     DMX_TO_SESSMGR, 0, 5, S(5, 0xabc)},
    {"I clear: our SPI is SPIi", false, false, S(7, 0x77), 0x2222, INFO, R, 3, V2, 8, 0,
     DMX_TO_SESSMGR, 0, 7, S(7, 0x77)},
    {"I clear, request from responder", false, false, S(65535, 9), 0x33, INFO, 0, 0, V2, 0, 0,
     DMX_TO_SESSMGR, 0, 65535, S(65535, 9)},
    {"IKE_SA_INIT request hashed", false, false, 0x0123456789abcdefULL, 0, INIT, I, 0, V2,
     200, 0, DMX_TO_SESSMGR, 0, -1, 0},
    {"IKE_SA_INIT on 4500 with marker", true, true, 0x55aa55aa55aa55aaULL, 0, INIT, I, 0,
     V2, 100, 0, DMX_TO_SESSMGR, 0, -1, 0},
    {"marker + established SA", true, true, 0x9, S(3, 0x44), INFO, I, 9, V2, 60, 0,
     DMX_TO_SESSMGR, 0, 3, S(3, 0x44)},
    {"minor version ignored", false, false, 0x9, S(2, 1), INFO, I, 9, 0x2f, 0, 0,
     DMX_TO_SESSMGR, 0, 2, S(2, 1)},
    {"SPI 0 but IKE_AUTH", false, false, 0x99, 0, AUTH, I, 1, V2, 10, 0, DMX_DROP,
     DMX_DROP_IKE_SPI0_NOT_INIT, 0, 0},
    {"SPI 0 response", false, false, 0x99, 0, INIT, I | R, 0, V2, 10, 0, DMX_DROP,
     DMX_DROP_IKE_SPI0_NOT_INIT, 0, 0},
    {"SPI 0 message id 1", false, false, 0x99, 0, INIT, I, 1, V2, 10, 0, DMX_DROP,
     DMX_DROP_IKE_SPI0_NOT_INIT, 0, 0},
    {"SPIi zero", false, false, 0, 0, INIT, I, 0, V2, 10, 0, DMX_DROP, DMX_DROP_IKE_SPI_I_ZERO,
     0, 0},
    {"major version 1", false, false, 0x99, 0, INIT, I, 0, 0x10, 10, 0, DMX_DROP,
     DMX_DROP_IKE_BAD_VERSION, 0, 0},
    {"major version 3", false, false, 0x99, 0, INIT, I, 0, 0x30, 10, 0, DMX_DROP,
     DMX_DROP_IKE_BAD_VERSION, 0, 0},
    {"length says more than received", false, false, 0x99, 0, INIT, I, 0, V2, 10, -1,
     DMX_DROP, DMX_DROP_IKE_BAD_LENGTH, 0, 0},
    {"trailing bytes after the message", false, false, 0x99, 0, INIT, I, 0, V2, 10, 3,
     DMX_DROP, DMX_DROP_IKE_BAD_LENGTH, 0, 0},
    {"27-byte header", false, false, 0x99, 0, INIT, I, 0, V2, 0, -1, DMX_DROP,
     DMX_DROP_IKE_TRUNC, 0, 0},
    {"marker + 27-byte header", true, true, 0x99, 0, INIT, I, 0, V2, 0, -1, DMX_DROP,
     DMX_DROP_IKE_TRUNC, 0, 0},
    {"marker on port 500 is no IKE header", false, true, 0x99, 0, INIT, I, 0, V2, 0, 0,
     DMX_DROP, DMX_DROP_IKE_BAD_VERSION, 0, 0},
};

static void test_ike_table(void **state)
{
  (void)state;
  static const uint16_t set[] = {1, 2, 3, 9};
  dmx_counters_t c;
  uint64_t want_drop[DMX_DROP_COUNT] = {0};
  uint64_t want_ike = 0, want_init = 0;
  memset(&c, 0, sizeof(c));
  live(set, 4);
  for (size_t k = 0; k < sizeof(ike_cases) / sizeof(ike_cases[0]); k++) {
    const ike_case_t *t = &ike_cases[k];
    uint8_t buf[512] = {0};
    dmx_route_t rt;
    size_t off = t->marker ? IKE_NON_ESP_MARKER_LEN : 0;
    size_t len = mk_ike(buf, off, t->spi_i, t->spi_r, t->exch, t->flags, t->msg_id,
                        t->version, t->body);
    len = (size_t)((long)len + t->len_delta);
    print_message("case: %s\n", t->what);
    dmx_route(buf, len, t->natt, &slots, &c, &rt);
    assert_int_equal(rt.kind, t->kind);
    if (t->kind == DMX_DROP) {
      assert_int_equal(rt.drop, t->drop);
      want_drop[t->drop]++;
      continue;
    }
    want_ike++;
    assert_int_equal(rt.marker, t->natt && t->marker);
    assert_int_equal(rt.off, off);
    if (t->slot < 0) {
      want_init++;
      assert_true(rt.init);
      assert_int_equal(rt.spi, 0);
      assert_int_equal(rt.slot, dmx_slot_for_init(&slots, t->spi_i));
      assert_true(dmx_slots_has(&slots, rt.slot));
    } else {
      assert_false(rt.init);
      assert_int_equal(rt.slot, t->slot);
      assert_int_equal(rt.spi, t->spi);
    }
  }
  assert_int_equal(c.rx, sizeof(ike_cases) / sizeof(ike_cases[0]));
  assert_int_equal(c.ike, want_ike);
  assert_int_equal(c.ike_init, want_init);
  assert_memory_equal(c.drop, want_drop, sizeof(want_drop));
}

static void test_natt_table(void **state)
{
  (void)state;
  static const struct {
    const char *what;
    uint8_t bytes[12];
    size_t len;
    dmx_kind_t kind;
    dmx_drop_t drop;
    uint32_t spi;
  } cases[] = {
      {"keepalive", {0xff}, 1, DMX_KEEPALIVE, 0, 0},
      {"one byte not 0xff", {0xfe}, 1, DMX_DROP, DMX_DROP_NATT_RUNT, 0},
      {"empty", {0}, 0, DMX_DROP, DMX_DROP_EMPTY, 0},
      {"three bytes", {1, 2, 3}, 3, DMX_DROP, DMX_DROP_NATT_RUNT, 0},
      {"marker alone", {0, 0, 0, 0}, 4, DMX_DROP, DMX_DROP_IKE_TRUNC, 0},
      {"ESP", {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0xaa}, 9, DMX_TO_IPSECMGR, 0, 0x12345678},
      {"ESP header only", {0xc0, 0, 0, 1, 0, 0, 0, 1}, 8, DMX_TO_IPSECMGR, 0, 0xc0000001},
      {"ESP too short", {0x12, 0x34, 0x56, 0x78, 0, 0, 0}, 7, DMX_DROP, DMX_DROP_NATT_RUNT, 0},
      {"ESP reserved SPI 255", {0, 0, 0, 0xff, 0, 0, 0, 1}, 8, DMX_DROP,
       DMX_DROP_ESP_RESERVED_SPI, 0},
      {"ESP SPI 256", {0, 0, 1, 0, 0, 0, 0, 1}, 8, DMX_TO_IPSECMGR, 0, 256},
  };
  dmx_counters_t c;
  memset(&c, 0, sizeof(c));
  live(NULL, 0);
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    dmx_route_t rt;
    print_message("case: %s\n", cases[k].what);
    dmx_route(cases[k].bytes, cases[k].len, true, &slots, &c, &rt);
    assert_int_equal(rt.kind, cases[k].kind);
    if (rt.kind == DMX_DROP) {
      assert_int_equal(rt.drop, cases[k].drop);
    }
    if (rt.kind == DMX_TO_IPSECMGR) {
      assert_int_equal(rt.spi, cases[k].spi);
    }
  }
  assert_int_equal(c.rx, 10);
  assert_int_equal(c.keepalive, 1);
  assert_int_equal(c.esp, 3);
  assert_int_equal(c.drop[DMX_DROP_NATT_RUNT], 3);
  assert_int_equal(c.drop[DMX_DROP_EMPTY], 1);
  assert_int_equal(c.drop[DMX_DROP_IKE_TRUNC], 1);
  assert_int_equal(c.drop[DMX_DROP_ESP_RESERVED_SPI], 1);
  /* A lone 0xff on port 500 is no keepalive: it is a runt IKE message. */
  dmx_route_t rt;
  static const uint8_t ff = 0xff;
  dmx_route(&ff, 1, false, &slots, &c, &rt);
  assert_int_equal(rt.kind, DMX_DROP);
  assert_int_equal(rt.drop, DMX_DROP_IKE_TRUNC);
}

static void test_no_live_slot(void **state)
{
  (void)state;
  uint8_t buf[64];
  dmx_counters_t c;
  dmx_route_t rt;
  memset(&c, 0, sizeof(c));
  live(NULL, 0);
  size_t len = mk_ike(buf, 0, 0x42, 0, INIT, I, 0, V2, 4);
  dmx_route(buf, len, false, &slots, &c, &rt);
  assert_int_equal(rt.kind, DMX_DROP);
  assert_int_equal(rt.drop, DMX_DROP_IKE_NO_LIVE_SLOT);
  assert_int_equal(c.drop[DMX_DROP_IKE_NO_LIVE_SLOT], 1);
  /* An established SA still routes by its SPI: liveness is checked on send. */
  len = mk_ike(buf, 0, 0x42, S(4, 4), INFO, I, 2, V2, 4);
  dmx_route(buf, len, false, &slots, &c, &rt);
  assert_int_equal(rt.kind, DMX_TO_SESSMGR);
  assert_int_equal(rt.slot, 4);
  dmx_count_drop(&c, DMX_DROP_IKE_SLOT_DOWN);
  assert_int_equal(c.drop[DMX_DROP_IKE_SLOT_DOWN], 1);
  assert_string_equal(dmx_drop_name(DMX_DROP_IKE_SLOT_DOWN), "drop_ike_slot_down");
  assert_string_equal(dmx_drop_name(DMX_DROP_COUNT), "drop_unknown");
}

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rng(void)
{
  /* xorshift64*: deterministic, so failures reproduce. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}

static void test_hash_spread_and_consistency(void **state)
{
  (void)state;
  enum { N = 80000, NSLOTS = 8 };
  static const uint16_t set[NSLOTS] = {0, 1, 2, 3, 4, 5, 6, 7};
  static uint16_t first[N];
  static uint64_t spis[N];
  unsigned count[NSLOTS] = {0};
  live(set, NSLOTS);
  for (int i = 0; i < N; i++) {
    spis[i] = rng();
    int s = dmx_slot_for_init(&slots, spis[i]);
    assert_true(s >= 0 && s < NSLOTS);
    first[i] = (uint16_t)s;
    count[s]++;
    /* Stable: a retransmission lands on the same worker. */
    assert_int_equal(dmx_slot_for_init(&slots, spis[i]), s);
  }
  for (int s = 0; s < NSLOTS; s++) {
    assert_in_range(count[s], N / NSLOTS * 9 / 10, N / NSLOTS * 11 / 10);
  }
  /* Slot 3 leaves: only its SPIs move, and none lands on 3. */
  assert_true(dmx_slots_del(&slots, 3));
  assert_false(dmx_slots_del(&slots, 3));
  unsigned moved = 0;
  for (int i = 0; i < N; i++) {
    int s = dmx_slot_for_init(&slots, spis[i]);
    assert_int_not_equal(s, 3);
    if (first[i] != 3) {
      assert_int_equal(s, first[i]);
    } else {
      moved++;
    }
  }
  assert_int_equal(moved, count[3]);
  /* It comes back: everything returns where it was. */
  assert_true(dmx_slots_add(&slots, 3));
  for (int i = 0; i < N; i++) {
    assert_int_equal(dmx_slot_for_init(&slots, spis[i]), first[i]);
  }
  /* Order of Hellos does not matter. */
  static const uint16_t shuffled[NSLOTS] = {5, 0, 7, 3, 1, 6, 2, 4};
  live(shuffled, NSLOTS);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(dmx_slot_for_init(&slots, spis[i]), first[i]);
  }
}

static void test_slot_set_and_spi(void **state)
{
  (void)state;
  dmx_slots_init(&slots);
  assert_int_equal(dmx_slot_for_init(&slots, 1), -1);
  assert_true(dmx_slots_add(&slots, 40000));
  assert_true(dmx_slots_add(&slots, 2));
  assert_true(dmx_slots_add(&slots, 65535));
  assert_false(dmx_slots_add(&slots, 2));
  assert_int_equal(slots.n, 3);
  assert_int_equal(slots.list[0], 2);
  assert_int_equal(slots.list[1], 40000);
  assert_int_equal(slots.list[2], 65535);
  assert_true(dmx_slots_has(&slots, 40000));
  assert_false(dmx_slots_has(&slots, 3));

  /* ike_slot.h: the slot rides in the top 16 bits; SPI never 0. */
  assert_int_equal(ike_slot_of_spi(ike_spi_make(1234, 0xffffffffffffffffULL)), 1234);
  assert_int_equal(ike_spi_make(1234, 0xffffffffffffffffULL) & 0xffffffffffffULL,
                   0xffffffffffffULL);
  assert_int_not_equal(ike_spi_make(0, 0), 0);
  assert_int_not_equal(ike_spi_make(0, 0xffff000000000000ULL), 0);
  uint8_t id[IKE_SLOT_ID_LEN];
  ike_slot_id_encode(0x0103, id);
  assert_int_equal(id[0], 1);
  assert_int_equal(id[1], 3);
  assert_int_equal(ike_slot_id_decode(id, 2), 0x0103);
  assert_int_equal(ike_slot_id_decode(id, 1), -1);
  assert_int_equal(ike_slot_id_decode(NULL, 2), -1);
}

static void test_junk_never_misroutes(void **state)
{
  (void)state;
  static const uint16_t set[] = {0, 1};
  dmx_counters_t c;
  uint8_t buf[96];
  memset(&c, 0, sizeof(c));
  live(set, 2);
  for (int i = 0; i < 20000; i++) {
    size_t len = (size_t)(rng() % sizeof(buf));
    for (size_t k = 0; k < len; k++) {
      buf[k] = (uint8_t)rng();
    }
    if (i % 3 == 0 && len >= 4) {
      memset(buf, 0, 4); /* marker + junk */
    }
    dmx_route_t rt;
    bool natt = (i & 1) != 0;
    dmx_route(buf, len, natt, &slots, &c, &rt);
    if (rt.kind == DMX_TO_SESSMGR) {
      /* Only a consistent header gets through. */
      size_t o = rt.off;
      assert_true(len >= o + IKE_HDR_LEN);
      assert_int_equal(buf[o + 17] >> 4, 2);
      uint32_t l = (uint32_t)buf[o + 24] << 24 | (uint32_t)buf[o + 25] << 16 |
                   (uint32_t)buf[o + 26] << 8 | buf[o + 27];
      assert_int_equal(l, len - o);
    }
  }
  uint64_t sum = c.ike + c.keepalive + c.esp;
  for (int k = 0; k < DMX_DROP_COUNT; k++) {
    sum += c.drop[k];
  }
  assert_int_equal(c.rx, 20000);
  assert_int_equal(sum, c.rx);
  assert_true(c.drop[DMX_DROP_IKE_BAD_VERSION] > 0);
  assert_true(c.esp > 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ike_table),
      cmocka_unit_test(test_natt_table),
      cmocka_unit_test(test_no_live_slot),
      cmocka_unit_test(test_hash_spread_and_consistency),
      cmocka_unit_test(test_slot_set_and_spi),
      cmocka_unit_test(test_junk_never_misroutes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
