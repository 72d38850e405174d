/*
 * ike_slot.h - sessmgr slots: how an IKE SPI names its owning worker and how a
 * slot is spelled as a ZMQ routing id.
 *
 * A sessmgr worker is identified by a stable slot number (0..65535). Every IKE
 * SPI it allocates carries the slot in its top IKE_SLOT_BITS bits, so demux
 * routes any message of an established IKE SA by looking at our SPI alone: no
 * table, and routing survives worker restarts and scale-out (DESIGN.md
 * "Processes"). On the ZMQ channels a slot is the routing id of the worker's
 * DEALER socket: the slot as 2 bytes big-endian ("\x00\x03" for slot 3).
 */
#ifndef IKE_SLOT_H
#define IKE_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define IKE_SLOT_BITS 16u                     /* slot bits at the top of an IKE SPI */
#define IKE_SLOT_MAX ((1u << IKE_SLOT_BITS) - 1u) /* highest slot number */
#define IKE_SLOT_SHIFT (64u - IKE_SLOT_BITS)  /* position of the slot in an SPI */
#define IKE_SLOT_ID_LEN 2u                    /* bytes of a slot routing id */

/* The slot that owns IKE SPI spi (one of ours, nonzero). */
static inline uint16_t ike_slot_of_spi(uint64_t spi)
{
  return (uint16_t)(spi >> IKE_SLOT_SHIFT);
}

/* A fresh IKE SPI for slot from 64 random bits: the slot in the top bits, the
 * low 48 bits from rnd. Never returns 0 (an SPI of 0 means "not yet chosen",
 * RFC 7296 3.1): if rnd's low bits are all zero the lowest bit is set. */
static inline uint64_t ike_spi_make(uint16_t slot, uint64_t rnd)
{
  uint64_t low = rnd & ((UINT64_C(1) << IKE_SLOT_SHIFT) - 1u);
  if (low == 0) {
    low = 1;
  }
  return ((uint64_t)slot << IKE_SLOT_SHIFT) | low;
}

/* Write slot's routing id (IKE_SLOT_ID_LEN bytes, big-endian) into out. */
static inline void ike_slot_id_encode(uint16_t slot, uint8_t out[IKE_SLOT_ID_LEN])
{
  out[0] = (uint8_t)(slot >> 8);
  out[1] = (uint8_t)slot;
}

/* Read a routing id of len bytes. Returns the slot (0..65535), or -1 when the
 * id is not IKE_SLOT_ID_LEN bytes long (not a sessmgr). */
static inline int ike_slot_id_decode(const void *id, size_t len)
{
  const uint8_t *b = (const uint8_t *)id;
  if (b == NULL || len != IKE_SLOT_ID_LEN) {
    return -1;
  }
  return (int)(((unsigned)b[0] << 8) | b[1]);
}

#endif /* IKE_SLOT_H */
