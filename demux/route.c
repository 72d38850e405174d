/*
 * route.c - see route.h.
 */
#include "route.h"

#include <string.h>

#include "ike_buf.h"
#include "ike_wire.h"

static const char *const drop_names[] = {
#define X(n, c, s) c,
    DMX_DROP_MAP(X)
#undef X
};

static const char *const drop_descs[] = {
#define X(n, c, s) s,
    DMX_DROP_MAP(X)
#undef X
};

const char *dmx_drop_name(dmx_drop_t why)
{
  return (unsigned)why < DMX_DROP_COUNT ? drop_names[why] : "drop_unknown";
}

const char *dmx_drop_desc(dmx_drop_t why)
{
  return (unsigned)why < DMX_DROP_COUNT ? drop_descs[why] : "unknown";
}

void dmx_slots_init(dmx_slots_t *s)
{
  s->n = 0;
}

/* Index of the first entry >= slot. */
static uint32_t slots_lower_bound(const dmx_slots_t *s, uint16_t slot)
{
  uint32_t lo = 0, hi = s->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (s->list[mid] < slot) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

bool dmx_slots_has(const dmx_slots_t *s, uint16_t slot)
{
  uint32_t i = slots_lower_bound(s, slot);
  return i < s->n && s->list[i] == slot;
}

bool dmx_slots_add(dmx_slots_t *s, uint16_t slot)
{
  uint32_t i = slots_lower_bound(s, slot);
  if (i < s->n && s->list[i] == slot) {
    return false;
  }
  memmove(&s->list[i + 1], &s->list[i], (s->n - i) * sizeof(s->list[0]));
  s->list[i] = slot;
  s->n++;
  return true;
}

bool dmx_slots_del(dmx_slots_t *s, uint16_t slot)
{
  uint32_t i = slots_lower_bound(s, slot);
  if (i >= s->n || s->list[i] != slot) {
    return false;
  }
  memmove(&s->list[i], &s->list[i + 1], (s->n - i - 1) * sizeof(s->list[0]));
  s->n--;
  return true;
}

/* 64-bit finaliser of MurmurHash3: every input bit affects every output bit. */
static uint64_t mix64(uint64_t x)
{
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= UINT64_C(0xc4ceb9fe1a85ec53);
  x ^= x >> 33;
  return x;
}

int dmx_slot_for_init(const dmx_slots_t *s, uint64_t spi_i)
{
  /* Rendezvous (highest random weight) hashing: unlike jump hashing it stays
   * consistent when an arbitrary slot leaves, not only the last one. O(n) per
   * IKE_SA_INIT, and n is the number of workers. */
  int best = -1;
  uint64_t best_score = 0;
  for (uint32_t i = 0; i < s->n; i++) {
    uint64_t score = mix64(spi_i ^ mix64((uint64_t)s->list[i] + 1u));
    if (best < 0 || score > best_score) {
      best = s->list[i];
      best_score = score;
    }
  }
  return best;
}

void dmx_count_drop(dmx_counters_t *c, dmx_drop_t why)
{
  if ((unsigned)why < DMX_DROP_COUNT) {
    c->drop[why]++;
  }
}

static void route_drop(dmx_counters_t *c, dmx_route_t *out, dmx_drop_t why)
{
  out->kind = DMX_DROP;
  out->drop = why;
  c->drop[why]++;
}

/* Route an IKE message starting at r's cursor (RFC 7296 3.1 header). */
static void route_ike(ike_rd_t *r, const dmx_slots_t *slots, dmx_counters_t *c,
                      dmx_route_t *out)
{
  uint64_t spi_i = 0, spi_r = 0;
  uint8_t next = 0, version = 0, exchange = 0, flags = 0;
  uint32_t msg_id = 0, length = 0;
  size_t avail = ike_rd_left(r);

  if (ike_rd_u64(r, &spi_i) != 0 || ike_rd_u64(r, &spi_r) != 0 || ike_rd_u8(r, &next) != 0 ||
      ike_rd_u8(r, &version) != 0 || ike_rd_u8(r, &exchange) != 0 ||
      ike_rd_u8(r, &flags) != 0 || ike_rd_u32(r, &msg_id) != 0 ||
      ike_rd_u32(r, &length) != 0) {
    route_drop(c, out, DMX_DROP_IKE_TRUNC);
    return;
  }
  if ((version >> 4) != IKE_MAJOR_VERSION) {
    route_drop(c, out, DMX_DROP_IKE_BAD_VERSION);
    return;
  }
  if (length != avail) {
    route_drop(c, out, DMX_DROP_IKE_BAD_LENGTH);
    return;
  }
  if (spi_i == 0) {
    route_drop(c, out, DMX_DROP_IKE_SPI_I_ZERO);
    return;
  }
  /* The I flag says the sender is the original initiator: then we are the
   * responder and our SPI is SPIr; otherwise ours is SPIi. */
  uint64_t ours = (flags & IKE_FLAG_INITIATOR) ? spi_r : spi_i;
  out->spi = ours;
  if (ours == 0) {
    /* Only an IKE_SA_INIT request from an initiator has SPIr 0 (RFC 7296
     * 3.1: "this value MUST be zero in the first message"). */
    if (exchange != IKE_EXCH_IKE_SA_INIT || (flags & IKE_FLAG_RESPONSE) || msg_id != 0) {
      route_drop(c, out, DMX_DROP_IKE_SPI0_NOT_INIT);
      return;
    }
    int slot = dmx_slot_for_init(slots, spi_i);
    if (slot < 0) {
      route_drop(c, out, DMX_DROP_IKE_NO_LIVE_SLOT);
      return;
    }
    out->slot = (uint16_t)slot;
    out->init = true;
    c->ike_init++;
  } else {
    out->slot = ike_slot_of_spi(ours);
  }
  out->kind = DMX_TO_SESSMGR;
  c->ike++;
}

void dmx_route(const uint8_t *pkt, size_t len, bool natt, const dmx_slots_t *slots,
               dmx_counters_t *c, dmx_route_t *out)
{
  ike_rd_t r;
  memset(out, 0, sizeof(*out));
  c->rx++;
  ike_rd_init(&r, pkt, len);
  if (len == 0) {
    route_drop(c, out, DMX_DROP_EMPTY);
    return;
  }
  if (!natt) {
    route_ike(&r, slots, c, out);
    return;
  }
  /* Port 4500 (RFC 3948 2.2/2.3): keepalive, marker + IKE, or ESP. */
  if (len == 1) {
    if (pkt[0] == 0xFF) {
      out->kind = DMX_KEEPALIVE;
      c->keepalive++;
    } else {
      route_drop(c, out, DMX_DROP_NATT_RUNT);
    }
    return;
  }
  uint32_t first = 0;
  if (ike_rd_u32(&r, &first) != 0) {
    route_drop(c, out, DMX_DROP_NATT_RUNT);
    return;
  }
  if (first == 0) {
    out->marker = true;
    out->off = IKE_NON_ESP_MARKER_LEN;
    route_ike(&r, slots, c, out);
    return;
  }
  /* ESP: SPI and sequence number at least (RFC 4303 2). */
  if (len < 8) {
    route_drop(c, out, DMX_DROP_NATT_RUNT);
    return;
  }
  if (first <= 255) {
    route_drop(c, out, DMX_DROP_ESP_RESERVED_SPI);
    return;
  }
  out->spi = first;
  out->kind = DMX_TO_IPSECMGR;
  c->esp++;
}
