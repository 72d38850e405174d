/*
 * fuzz_route.c - demux's routing decision (demux/route.h) on arbitrary
 * datagrams: the first byte picks the port (IKE / NAT-T) and the live slot
 * set; the decision must stay inside the datagram and be self-consistent.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ike_slot.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static dmx_slots_t slots;
  dmx_counters_t c = {0};
  dmx_route_t r;
  if (size < 1) {
    return 0;
  }
  dmx_slots_init(&slots);
  for (unsigned i = 0; i < (data[0] & 0x0Fu); i++) {
    dmx_slots_add(&slots, (uint16_t)(i * 3u));
  }
  bool natt = (data[0] & 0x80u) != 0;
  dmx_route(data + 1, size - 1, natt, &slots, &c, &r);
  if (c.rx != 1) {
    abort();
  }
  if (r.kind == DMX_TO_SESSMGR) {
    if (r.off > size - 1 || (r.init && !dmx_slots_has(&slots, r.slot))) {
      abort(); /* outside the datagram, or a new SA hashed to a dead slot (an
                  established SA goes to the slot in its SPI, live or not:
                  demux counts "slot down" after routing) */
    }
    if (!r.init && ike_slot_of_spi(r.spi) != r.slot) {
      abort(); /* an established SA's message must go to the slot in its SPI */
    }
  }
  return 0;
}
