/*
 * seq_lease.h - persisted high-water marks of ESP sequence numbers, so that a
 * restarted ipsecmgr never sends a sequence number (and, for AES-GCM and
 * ChaCha20-Poly1305, the IV/nonce = that number, RFC 4106 3.1, RFC 7634 2)
 * twice under the same key.
 *
 * Lease scheme. For every outbound SA ipsecmgr reserves sequence numbers in
 * blocks and persists "reserved up to END" BEFORE the datapath may use any
 * number of the block: the datapath (esp_encap) never sends a number above the
 * durable END. Renewal is asked for when half the block is used and written at
 * the end of the loop iteration (group commit: one LMDB transaction for every
 * SA that needs one, plus the records of deleted SAs); only when a block runs
 * out before that commit happened does the packet path commit synchronously.
 * After a restart, a resync SaAdd of an outbound SA starts at the persisted END
 * + 1 (the numbers reserved but never used are skipped: at most one block). The
 * block adapts to the SA's packet rate: doubled when renewals come less than a
 * second apart, halved when more than a minute apart, within
 * SEQ_LEASE_MIN..SEQ_LEASE_MAX, so a busy SA costs about one commit a second
 * and a restart skips at most a few seconds' worth of numbers.
 *
 * Inbound SAs persist a floor: the highest sequence number accepted, written
 * lazily (every block of packets, never synchronously). A restarted ipsecmgr
 * starts the replay window at that floor with every position marked as seen,
 * so a packet captured before the restart at or below the floor is rejected;
 * packets above the floor (at most one block that arrived before the restart)
 * are accepted once more - the window is conservative, not exact.
 *
 * Store: one LMDB file (MDB_NOSUBDIR) under the state directory; key = the SA
 * id (direction, SPI, inbound SPI of its CHILD SA) as 9 bytes big-endian; value
 * = version, mark (END or floor) and owner slot. Every commit is durable
 * (LMDB's default fsync), so a host crash does not lose a lease either.
 */
#ifndef SEQ_LEASE_H
#define SEQ_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEQ_LEASE_START (1u << 16) /* first block of a new SA */
#define SEQ_LEASE_MIN (1u << 12)
#define SEQ_LEASE_MAX (1u << 24)
#define SEQ_LEASE_SEQ32_MAX 0xFFFFFFFFull /* last number of a non-ESN SA */

/* The durable end of a new lease for an SA that has used numbers up to `used`:
 * used + block, never past 2^32 - 1 without ESN. */
uint64_t seq_lease_end(uint64_t used, uint32_t block, bool esn);
/* Where the datapath asks for a renewal: half a block before the end. */
uint64_t seq_lease_soft(uint64_t end, uint32_t block);
/* The next block size given the seconds since the previous renewal. */
uint32_t seq_lease_adapt(uint32_t block, uint64_t secs_since_last);

/* One record (an operation when written). */
typedef struct seq_rec {
  uint8_t dir;          /* 1 = in, 2 = out (proto Direction) */
  uint8_t del;          /* in seq_store_write: delete this key */
  uint16_t owner;       /* sessmgr slot */
  uint32_t spi, cin;    /* SPI, inbound SPI of the CHILD SA */
  uint64_t mark;        /* out: lease end; in: replay floor */
} seq_rec_t;

typedef struct seq_store seq_store_t;

/* Open (create) the store file at path for up to max_records records. 0 or
 * -errno with the reason in err. */
int seq_store_open(const char *path, uint32_t max_records, seq_store_t **out, char *err,
                   size_t errlen);
void seq_store_close(seq_store_t *s);
/* Apply ops[0..n) (puts and deletes; deleting a missing key is fine) in ONE
 * durable transaction. 0 or -errno with the reason in err. */
int seq_store_write(seq_store_t *s, const seq_rec_t *ops, size_t n, char *err, size_t errlen);
/* Every stored record, sorted by (dir, spi, cin), in a malloc'd array (*out,
 * *n; free() it). Records that do not decode are skipped and counted in
 * *bad. 0 or -errno with the reason in err. */
int seq_store_load(seq_store_t *s, seq_rec_t **out, size_t *n, size_t *bad, char *err,
                   size_t errlen);
/* Find (dir, spi, cin) in a sorted array from seq_store_load; NULL if absent. */
seq_rec_t *seq_rec_find(seq_rec_t *recs, size_t n, uint8_t dir, uint32_t spi, uint32_t cin);

#endif /* SEQ_LEASE_H */
