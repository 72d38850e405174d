/* replay.c - ESP anti-replay window, see replay.h (RFC 4303 3.4.3, Appendix A). */
#include "replay.h"

#include <string.h>

int esp_replay_init(esp_replay_t *r, uint32_t size, bool esn)
{
  if (size == 0) {
    size = ESP_REPLAY_DEFAULT;
  }
  if (size < ESP_REPLAY_MIN || size > ESP_REPLAY_MAX || (size & (size - 1)) != 0) {
    return -1;
  }
  memset(r, 0, sizeof(*r));
  r->size = size;
  r->esn = esn ? 1 : 0;
  return 0;
}

esp_replay_res_t esp_replay_infer(const esp_replay_t *r, uint32_t seq_lo,
                                  uint64_t *seq)
{
  if (!r->esn) {
    *seq = seq_lo;
    return ESP_REPLAY_OK;
  }
  /* RFC 4303 A2.2: Tl/Th are the halves of the top of the window, W its size.
   * Case A (window inside one 2^32 sub-space, Tl >= W - 1): a number at or
   * right of the bottom (Tl - W + 1) is in sub-space Th, anything below it has
   * wrapped into Th + 1. Case B (window spans two sub-spaces): a number at or
   * above the bottom (mod 2^32) is still in Th - 1, anything else in Th. */
  uint32_t tl = (uint32_t)r->top;
  uint32_t th = (uint32_t)(r->top >> 32);
  uint32_t w = r->size;
  uint32_t bottom = tl - w + 1u; /* mod 2^32 on purpose */
  uint64_t hi;
  if (tl >= w - 1u) {
    hi = seq_lo >= bottom ? th : (uint64_t)th + 1u;
  } else if (seq_lo >= bottom) {
    if (th == 0) {
      return ESP_REPLAY_OLD; /* would be sub-space -1 */
    }
    hi = (uint64_t)th - 1u;
  } else {
    hi = th;
  }
  if (hi > 0xFFFFFFFFu) {
    return ESP_REPLAY_OLD; /* past 2^64: the SA must have been rekeyed long ago */
  }
  *seq = (hi << 32) | seq_lo;
  return ESP_REPLAY_OK;
}

esp_replay_res_t esp_replay_check(const esp_replay_t *r, uint64_t seq)
{
  if (seq == 0) {
    return ESP_REPLAY_OLD; /* the first packet of an SA carries 1 (RFC 4303 3.3.3) */
  }
  if (seq > r->top) {
    return ESP_REPLAY_OK;
  }
  if (r->top - seq >= r->size) {
    return ESP_REPLAY_OLD;
  }
  uint32_t bit = (uint32_t)(seq & (r->size - 1u));
  if (r->bits[bit / 64u] & (1ull << (bit % 64u))) {
    return ESP_REPLAY_DUP;
  }
  return ESP_REPLAY_OK;
}

/* Clear `count` ring positions starting at sequence number `from`, a word at a
 * time: these positions now stand for numbers that just entered the window. */
static void replay_clear(esp_replay_t *r, uint64_t from, uint64_t count)
{
  while (count > 0) {
    uint32_t bit = (uint32_t)(from & (r->size - 1u));
    uint32_t off = bit % 64u;
    uint64_t n = 64u - off;
    if (n > count) {
      n = count;
    }
    uint64_t mask = n == 64u ? ~0ull : ((1ull << n) - 1u) << off;
    r->bits[bit / 64u] &= ~mask;
    from += n;
    count -= n;
  }
}

void esp_replay_update(esp_replay_t *r, uint64_t seq)
{
  if (seq > r->top) {
    uint64_t diff = seq - r->top;
    if (diff >= r->size) {
      memset(r->bits, 0, r->size / 8u);
    } else {
      replay_clear(r, r->top + 1u, diff);
    }
    r->top = seq;
  }
  uint32_t bit = (uint32_t)(seq & (r->size - 1u));
  r->bits[bit / 64u] |= 1ull << (bit % 64u);
}

void esp_replay_set_floor(esp_replay_t *r, uint64_t floor)
{
  if (floor <= r->top) {
    return;
  }
  r->top = floor;
  memset(r->bits, 0xff, r->size / 8u);
}
