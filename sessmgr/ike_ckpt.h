/*
 * ike_ckpt.h - checkpoints of IKE SAs (DESIGN.md "Recovery"): one record per
 * IKE SA with its CHILD SAs (Ikegw__Ckpt__IkeSaRecord, proto/ikegw_ckpt.proto),
 * and the per-slot store the records live in.
 *
 * The engine stays I/O free: it marks SAs dirty as they change and hands out
 * encoded records (ike_engine_foreach_dirty, ike_engine.h); sessmgr writes
 * them here in one transaction per loop iteration, before it sends what the
 * iteration produced (group commit, then send). A restarted sessmgr feeds the
 * records back through ike_engine_restore_sa.
 *
 * Times: the engine clock is monotonic since the process started, so records
 * hold unix milliseconds. wall_off_ms = unix ms - engine ms at the time of the
 * call; the restoring process passes its own offset.
 *
 * Store: embedded LMDB, one environment per slot, a single file
 * STATE_DIR/ckpt-sessmgr-SLOT.mdb (plus its -lock file); key = our IKE SPI as 8
 * big-endian bytes, value = the record. Opened without fsync per commit
 * (MDB_NOSYNC): a committed record survives the process being killed (it is in
 * the page cache), not a host crash unless ike_ckpt_store_sync() ran after it.
 */
#ifndef IKE_CKPT_H
#define IKE_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_CKPT_FORMAT 1u        /* IkeSaRecord.format this code writes and reads */
#define IKE_CKPT_MAP_SIZE (1ull << 30) /* initial LMDB map size; doubled when full */

struct ike_engine;
struct ike_sa;

/* --- Records (engine internals; the engine API is in ike_engine.h) --- */

/* Encode sa (an established, rekeyed or deleting SA) as a record into *buf,
 * grown with realloc (*cap its size). Returns 0 and *len, or -IKE_E_NOMEM /
 * -IKE_E_BAD_SYNTAX (a state that is never stored). The buffer holds keys:
 * the caller wipes it. */
int ike_ckpt_encode(const struct ike_engine *e, const struct ike_sa *sa,
                    int64_t wall_off_ms, uint8_t **buf, size_t *cap, size_t *len);

/* Decode and check a record into *sa (overwritten; nothing else changes):
 * format, slot, SPIs, state, algorithms and key lengths, template (by name in
 * e's config), addresses, cached messages, CHILD SAs. The SA is not inserted
 * anywhere; on success sa->rsp / sa->req are malloc'd (ike_ckpt_sa_clear frees
 * them). Returns 0 or a negative ike_err_t (-IKE_E_BAD_SYNTAX for a record
 * that does not fit this engine, -IKE_E_BAD_VERSION for a newer format). */
int ike_ckpt_decode(const struct ike_engine *e, const uint8_t *rec, size_t len,
                    int64_t wall_off_ms, struct ike_sa *sa);

/* Free what ike_ckpt_decode allocated in sa and wipe it. */
void ike_ckpt_sa_clear(struct ike_sa *sa);

/* --- Store --- */

typedef struct ike_ckpt_store ike_ckpt_store_t;

/* Open (create) the store of slot in state_dir (created if missing, mode
 * 0700). Stale reader slots of a killed process are cleared. Returns 0 and
 * *out, or -IKE_E_STORE (logged). */
int ike_ckpt_store_open(const char *state_dir, uint16_t slot, ike_ckpt_store_t **out);
/* Abort an open transaction and close. NULL is fine. */
void ike_ckpt_store_close(ike_ckpt_store_t *st);
/* The store's file name. */
const char *ike_ckpt_store_path(const ike_ckpt_store_t *st);

/* Write / delete one record in the current write transaction (begun by the
 * first put or del after a commit or abort). Deleting a missing key is fine.
 * -IKE_E_NOSPACE: the map was full; the transaction is aborted and the map
 * grown, so the caller redoes the batch. -IKE_E_STORE otherwise. */
int ike_ckpt_store_put(ike_ckpt_store_t *st, uint64_t spi, const uint8_t *rec, size_t len);
int ike_ckpt_store_del(ike_ckpt_store_t *st, uint64_t spi);
/* Commit the write transaction (0 if none is open). On failure the
 * transaction is gone and nothing of it was written. */
int ike_ckpt_store_commit(ike_ckpt_store_t *st);
/* Drop the write transaction, if any. */
void ike_ckpt_store_abort(ike_ckpt_store_t *st);

/* A copy of one record (malloc'd into *out; the caller wipes and frees it).
 * Sees the open write transaction. 0, -IKE_E_TRUNC if absent, -IKE_E_STORE. */
int ike_ckpt_store_get(ike_ckpt_store_t *st, uint64_t spi, uint8_t **out, size_t *len);

/* Visit every record in key order (the open write transaction's view if
 * any). fn returns 0 to go on, anything else to stop. Returns the number of
 * records visited, or -IKE_E_STORE. fn must not write to the store. */
typedef int (*ike_ckpt_visit_fn)(void *arg, uint64_t spi, const uint8_t *rec, size_t len);
int ike_ckpt_store_foreach(ike_ckpt_store_t *st, ike_ckpt_visit_fn fn, void *arg);

/* Number of records committed. */
size_t ike_ckpt_store_count(ike_ckpt_store_t *st);

/* Flush committed transactions to disk (fsync). Safe to call from another
 * thread while the owner commits (LMDB's env sync). */
int ike_ckpt_store_sync(ike_ckpt_store_t *st);
/* every_commit true: each commit reaches the disk before it returns (a host
 * crash loses nothing committed); false (the default after open): commits
 * are durable against a killed process only, until ike_ckpt_store_sync. */
void ike_ckpt_store_set_sync(ike_ckpt_store_t *st, bool every_commit);
/* The store file of slot in state_dir (what ike_ckpt_store_open opens). */
int ike_ckpt_store_file(const char *state_dir, uint16_t slot, char *out, size_t len);

#endif /* IKE_CKPT_H */
