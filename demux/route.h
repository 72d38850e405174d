/*
 * route.h - demux's routing decision for one received UDP datagram.
 *
 * Pure functions over bytes (no sockets, no globals), so tests/unit/test_route.c
 * drives them with tables. DESIGN.md "Processes" gives the rules:
 *  - port 500: always IKE;
 *  - port 4500 (RFC 3948 2.2): four zero bytes (the non-ESP marker) then IKE;
 *    a lone 0xFF byte is a NAT-T keepalive; anything else is ESP-in-UDP;
 *  - our SPI = SPIr if the Initiator flag is set (the peer is the original
 *    initiator, so we are the responder), else SPIi (RFC 7296 3.1);
 *  - our SPI 0 (an IKE_SA_INIT request): worker = rendezvous hash of SPIi over
 *    the live slots, so retransmissions land on the same worker and a slot
 *    coming or going only moves the SPIs that hashed to it;
 *  - otherwise slot = top IKE_SLOT_BITS bits of our SPI (common/ike_slot.h).
 * Every drop has a reason with its own counter.
 */
#ifndef DMX_ROUTE_H
#define DMX_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_slot.h"

/* Why a datagram was dropped: X(name, counter name, description). */
#define DMX_DROP_MAP(X)                                                                                        \
  X(EMPTY, "drop_empty", "zero-length datagram")                                                               \
  X(IKE_TRUNC, "drop_ike_trunc", "IKE message shorter than the 28-byte header")                                \
  X(IKE_BAD_VERSION, "drop_ike_bad_version", "IKE major version is not 2")                                     \
  X(IKE_BAD_LENGTH, "drop_ike_bad_length", "IKE header length differs from the datagram length")               \
  X(IKE_SPI_I_ZERO, "drop_ike_spi_i_zero", "initiator SPI is zero")                                            \
  X(IKE_SPI0_NOT_INIT, "drop_ike_spi0_not_init", "our SPI is zero but the message is no IKE_SA_INIT request")  \
  X(IKE_NO_LIVE_SLOT, "drop_ike_no_live_slot", "IKE_SA_INIT request while no sessmgr is live")                 \
  X(IKE_SLOT_DOWN, "drop_ike_slot_down", "the owning sessmgr is not connected")                                \
  X(NATT_RUNT, "drop_natt_runt", "port 4500 datagram too short for ESP or the non-ESP marker")                 \
  X(ESP_RESERVED_SPI, "drop_esp_reserved_spi", "ESP SPI in the reserved range 1..255 (RFC 4303 2.1)")          \
  X(ESP_NO_DATAPATH, "drop_esp_no_datapath", "ESP-in-UDP while ipsecmgr is not connected")                     \
  X(TX_FAILED, "drop_tx_failed", "sending to a peer process or to the network failed")

typedef enum {
#define X(n, c, s) DMX_DROP_##n,
  DMX_DROP_MAP(X)
#undef X
  DMX_DROP_COUNT
} dmx_drop_t;

/* What to do with a datagram. */
typedef enum {
  DMX_TO_SESSMGR = 0, /* IKE message for slot `slot` */
  DMX_KEEPALIVE,      /* NAT-T keepalive: count and drop (RFC 3948 2.3) */
  DMX_TO_IPSECMGR,    /* ESP-in-UDP for the datapath */
  DMX_DROP            /* malformed or unroutable: count `drop` */
} dmx_kind_t;

/* The decision for one datagram. */
typedef struct dmx_route {
  dmx_kind_t kind;
  dmx_drop_t drop;     /* DMX_DROP: why */
  uint16_t slot;       /* DMX_TO_SESSMGR: destination slot */
  bool marker;         /* a non-ESP marker was present (and is skipped by off) */
  size_t off;          /* DMX_TO_SESSMGR: where the IKE message starts (0 or 4) */
  bool init;           /* DMX_TO_SESSMGR: our SPI was 0 (routed by hash) */
  uint64_t spi;        /* DMX_TO_SESSMGR: our SPI; DMX_TO_IPSECMGR: the ESP SPI */
} dmx_route_t;

/* The set of live sessmgr slots (Hello seen, no Bye or failed send since).
 * Kept sorted so the hash result does not depend on arrival order. */
typedef struct dmx_slots {
  uint16_t list[IKE_SLOT_MAX + 1u]; /* live slots, ascending */
  uint32_t n;                       /* how many */
} dmx_slots_t;

/* Counters of the routing decisions. */
typedef struct dmx_counters {
  uint64_t rx;                      /* datagrams examined */
  uint64_t ike;                     /* routed to a sessmgr */
  uint64_t ike_init;                /* of which by hash (our SPI 0) */
  uint64_t keepalive;               /* NAT-T keepalives */
  uint64_t esp;                     /* routed to ipsecmgr */
  uint64_t drop[DMX_DROP_COUNT];    /* drops by reason */
} dmx_counters_t;

/* Empty the set. */
void dmx_slots_init(dmx_slots_t *s);
/* Add slot (no-op if present). Returns true when it was added. */
bool dmx_slots_add(dmx_slots_t *s, uint16_t slot);
/* Remove slot (no-op if absent). Returns true when it was removed. */
bool dmx_slots_del(dmx_slots_t *s, uint16_t slot);
/* True when slot is live. */
bool dmx_slots_has(const dmx_slots_t *s, uint16_t slot);

/* The slot among the live ones that owns IKE_SA_INIT requests with initiator
 * SPI spi_i (rendezvous hashing: highest score wins). Returns -1 when no slot
 * is live. */
int dmx_slot_for_init(const dmx_slots_t *s, uint64_t spi_i);

/* Decide what to do with pkt[0..len) received on the NAT-T port (natt) or
 * the IKE port (!natt), given the live slots. Fills *out and counts the
 * decision in *c (rx, and one of ike/keepalive/esp/drop[]). Never reads past
 * len. */
void dmx_route(const uint8_t *pkt, size_t len, bool natt, const dmx_slots_t *slots,
               dmx_counters_t *c, dmx_route_t *out);

/* Count a drop decided after routing (slot down, no datapath, send failed). */
void dmx_count_drop(dmx_counters_t *c, dmx_drop_t why);

/* Counter name of a drop reason ("drop_ike_trunc"), for stats output. */
const char *dmx_drop_name(dmx_drop_t why);
/* Human description of a drop reason. */
const char *dmx_drop_desc(dmx_drop_t why);

#endif /* DMX_ROUTE_H */
