/*
 * replay.h - ESP anti-replay window (RFC 4303 3.4.3 and Appendix A).
 *
 * The window is a ring bitmap of `size` bits (a power of two, 64..4096) indexed by
 * the sequence number modulo size, plus the highest sequence number accepted so
 * far (`top`, always 64-bit: with ESN it is the full number, without ESN its high
 * half stays 0). Use it in this order for every inbound packet:
 *   1. esp_replay_infer()  - the full 64-bit number from the 32 bits on the wire
 *                            (ESN: RFC 4303 Appendix A2.2),
 *   2. esp_replay_check()  - before the ICV is verified: drop duplicates and
 *                            numbers left of the window cheaply,
 *   3. esp_replay_update() - only after the ICV verified and the packet was
 *                            accepted (RFC 4303 3.4.3: "the receive window is
 *                            updated only if the integrity verification succeeds").
 * The struct is flat (no pointers): it is copied as-is by a checkpoint.
 */
#ifndef ESP_REPLAY_H
#define ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define ESP_REPLAY_MIN     64u
#define ESP_REPLAY_MAX     4096u
#define ESP_REPLAY_DEFAULT 1024u

typedef struct esp_replay {
  uint64_t top;                          /* highest accepted sequence number, 0 = none */
  uint32_t size;                         /* window size in packets (power of two) */
  uint32_t esn;                          /* 1: extended sequence numbers */
  uint64_t bits[ESP_REPLAY_MAX / 64];    /* ring: bit (seq % size) set = seen */
} esp_replay_t;

/* Results of esp_replay_infer() / esp_replay_check(). */
typedef enum {
  ESP_REPLAY_OK = 0,   /* new number inside or right of the window */
  ESP_REPLAY_DUP = 1,  /* already received */
  ESP_REPLAY_OLD = 2,  /* left of the window (or 0, never a valid number) */
} esp_replay_res_t;

/* Start an empty window of `size` packets (0 = ESP_REPLAY_DEFAULT). Returns 0, or
 * -1 when size is not a power of two between ESP_REPLAY_MIN and ESP_REPLAY_MAX. */
int esp_replay_init(esp_replay_t *r, uint32_t size, bool esn);

/* The full sequence number of a packet whose wire field is seq_lo. Without ESN
 * that is seq_lo. With ESN the high half is guessed from the window position
 * (RFC 4303 A2.2); a wrong guess later fails the ICV, which covers seq_hi.
 * Returns ESP_REPLAY_OK and *seq, or ESP_REPLAY_OLD when the number would lie
 * below 0 (high half -1). */
esp_replay_res_t esp_replay_infer(const esp_replay_t *r, uint32_t seq_lo,
                                  uint64_t *seq);

/* Is seq acceptable? ESP_REPLAY_OK, ESP_REPLAY_DUP or ESP_REPLAY_OLD. Pure. */
esp_replay_res_t esp_replay_check(const esp_replay_t *r, uint64_t seq);

/* Restart a window after a process restart at a persisted floor (seq_lease.h):
 * top = floor and every position marked as seen, so nothing at or below the
 * floor is accepted again; numbers above it are. */
void esp_replay_set_floor(esp_replay_t *r, uint64_t floor);

/* Record seq as received (call only after esp_replay_check() said OK and the
 * packet was authenticated): slides the window when seq > top. */
void esp_replay_update(esp_replay_t *r, uint64_t seq);

#endif /* ESP_REPLAY_H */
