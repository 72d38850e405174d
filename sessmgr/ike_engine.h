/*
 * ike_engine.h - the IKEv2 engine of one sessmgr worker (one slot).
 *
 * The engine owns the IKE SAs of its slot and runs the responder state machine
 * plus the exchanges a gateway initiates (DPD, deletes, COOKIE2 checks). It is
 * I/O free: datagrams come in through ike_engine_recv(), time through
 * ike_engine_tick(), and everything it wants done outside (send a datagram,
 * program a CHILD SA) goes out through the callbacks in ike_engine_ops_t. So
 * the same engine runs in sessmgr, in ikeload and in unit tests.
 */
#ifndef IKE_ENGINE_H
#define IKE_ENGINE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ike_cert.h"
#include "ike_config.h"
#include "ike_crypto.h"
#include "ike_pld.h"
#include "ike_stats.h"

/* One UDP path: the peer's address/port and ours. */
typedef struct ike_path {
  struct sockaddr_storage peer;   /* remote address and port */
  struct sockaddr_storage local;  /* our address and port */
} ike_path_t;

/* A CHILD SA as ipsecmgr must program it (both directions). */
typedef struct ike_child_prog {
  uint64_t ike_spi;               /* our IKE SPI (grouping, owner lookup) */
  uint32_t spi_in, spi_out;       /* ours (inbound), the peer's (outbound) */
  ike_suite_t suite;              /* encr/integ/esn */
  uint8_t ek_in[IKE_MAX_ENCR_KEY], ak_in[IKE_MAX_INTEG_KEY];
  uint8_t ek_out[IKE_MAX_ENCR_KEY], ak_out[IKE_MAX_INTEG_KEY];
  uint8_t ek_len, ak_len;
  ike_path_t path;                /* outer addresses */
  bool encap;                     /* UDP encapsulation (NAT or port 4500 in use) */
  ike_ts_t ts_local, ts_remote;   /* narrowed selectors */
  uint64_t life_soft_bytes, life_hard_bytes;     /* 0 = none */
  uint64_t life_soft_packets, life_hard_packets; /* 0 = none */
  uint64_t life_soft_s, life_hard_s;             /* 0 = none */
  bool no_rebind;                 /* CHILD SA of a MOBIKE SA: ESP from a new source never
                                     moves it (RFC 4555 3.5); only UPDATE_SA_ADDRESSES does */
  uint32_t vip4;                  /* the peer's assigned virtual IPv4 (host order), 0 = none */
  uint8_t vip6[16];               /* its assigned virtual IPv6 if has_vip6 */
  bool has_vip6;
} ike_child_prog_t;

/* What the engine asks of the outside world. */
typedef struct ike_engine_ops {
  /* Send pkt on path (source = path->local); natt: add the non-ESP marker and
   * use port 4500. */
  void (*send)(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
               size_t len);
  /* Program, re-path (MOBIKE) and remove CHILD SAs. */
  void (*child_add)(void *ctx, const ike_child_prog_t *c);
  void (*child_update)(void *ctx, uint32_t spi_in, uint32_t spi_out,
                       const ike_path_t *path, bool encap);
  void (*child_del)(void *ctx, uint32_t spi_in, uint32_t spi_out);
} ike_engine_ops_t;

typedef struct ike_engine ike_engine_t;

/* New engine for slot `slot` with config cfg (borrowed; must outlive it). */
int ike_engine_new(uint16_t slot, const ike_config_t *cfg,
                   const ike_engine_ops_t *ops, void *ctx, ike_engine_t **out);
void ike_engine_free(ike_engine_t *e);
/* Number of workers sharing the address pools (default 1). */
void ike_engine_set_workers(ike_engine_t *e, uint16_t n);
/* Certificate stores per template (stores[i] for cfg->templates[i], NULL if
 * the template uses no certificates), loaded with ike_cert_load_config; the
 * engine borrows them (they must outlive it). */
void ike_engine_set_certs(ike_engine_t *e,
                          ike_cert_store_t *const stores[IKE_CFG_MAX_TEMPLATES]);
/* May cfg replace the running config? Refused (-1, reason in err) when a
 * template that IKE SAs use would go, or a pool in use would be removed,
 * change family or no longer contain an address in use. 0 otherwise. */
int ike_engine_config_check(ike_engine_t *e, const ike_config_t *cfg, char *err,
                            size_t err_len);
/* Replace the config (gwctl configure; run ike_engine_config_check first).
 * The old config must still be readable during the call. SAs keep their
 * template by name and their negotiated MOBIKE state; new SAs use the new
 * settings; pool maps follow their pools by name (a widened pool's map grows).
 * Certificate stores are per template index: set them again after this. */
void ike_engine_set_config(ike_engine_t *e, const ike_config_t *cfg);

/* A datagram for us (non-ESP marker already removed); natt: it came on 4500.
 * now_ms: monotonic milliseconds. */
void ike_engine_recv(ike_engine_t *e, const ike_path_t *path, bool natt,
                     const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Run due timers (retransmissions, DPD, lifetimes). Returns ms until the next
 * timer, or -1 if none. */
int64_t ike_engine_tick(ike_engine_t *e, uint64_t now_ms);

/* ipsecmgr reported a CHILD SA lifetime event (soft → rekey, hard → delete).
 * ike_spi: the IKE SPI ipsecmgr was given (a hint: after an IKE rekey the
 * CHILD SA belongs to the new IKE SA and a scan finds it). */
void ike_engine_child_expire(ike_engine_t *e, uint64_t ike_spi, uint32_t spi_in,
                             bool hard, uint64_t now_ms);

/* Visit every CHILD SA as ipsecmgr must hold it (replay after an ipsecmgr
 * restart). Returns the number visited. */
size_t ike_engine_foreach_child(const ike_engine_t *e,
                                void (*fn)(void *arg, const ike_child_prog_t *c),
                                void *arg);

/* Add n to counter id of this worker (counters of the process around the
 * engine, e.g. its IPC output queue, live with the engine's). */
void ike_engine_stat_add(ike_engine_t *e, ike_stat_id_t id, uint64_t n);

/* ipsecmgr refused to install the CHILD SA with inbound SPI spi_in (its
 * SaAdd failed: table full, route owned by another SA, ...) after the peer
 * was told it exists: it is deleted towards the peer (INFORMATIONAL Delete)
 * and counted in child_sa_refused. ike_spi: a hint, as for child_expire. */
void ike_engine_child_refused(ike_engine_t *e, uint64_t ike_spi, uint32_t spi_in,
                              uint64_t now_ms);

/* ipsecmgr refused or failed an SA operation (counted as fail_ipsecmgr). */
void ike_engine_count_ipsec_failure(ike_engine_t *e);

/* --- Checkpoints (DESIGN.md "Recovery"; records: ike_ckpt.h) ---
 * With checkpointing on, the engine marks every IKE SA it changes (state,
 * message IDs, response cache, our request, path, NAT/MOBIKE flags, CHILD
 * SAs, deadlines) and remembers the SPIs of stored SAs that went away. The
 * caller writes them out at the end of each loop iteration:
 *   ike_engine_foreach_dirty(e, off, put_or_del, store);  commit;
 *   ike_engine_take_dirty(e, true, commit_us);
 * and only then sends what the engine asked to send in that iteration.
 * Half-open SAs are never stored (a client retries IKE_SA_INIT). */

/* Turn change tracking on (off by default: ikeload and tests pay nothing). */
void ike_engine_set_checkpointing(ike_engine_t *e, bool on);
/* Changes waiting for a commit: dirty SAs plus deleted records. */
size_t ike_engine_dirty_count(const ike_engine_t *e);
/* Visit the pending changes: fn(arg, spi, rec, len) with the encoded record
 * of each changed SA, and with rec NULL / len 0 for each SA gone (delete the
 * record). rec is valid only during the call and is wiped after it.
 * wall_off_ms = unix ms - engine ms now. fn returns 0 to go on; anything else
 * stops the visit and is returned. Returns 0 when all were visited. Nothing
 * is cleared: call ike_engine_take_dirty once the records are committed. */
int ike_engine_foreach_dirty(ike_engine_t *e, int64_t wall_off_ms,
                             int (*fn)(void *arg, uint64_t spi, const uint8_t *rec,
                                       size_t len),
                             void *arg);
/* The changes visited by the last ike_engine_foreach_dirty are durable (or,
 * committed false, given up): clear them. committed counts a checkpoint
 * commit of commit_us microseconds in the ckpt_* counters. */
void ike_engine_take_dirty(ike_engine_t *e, bool committed, uint64_t commit_us);
/* A commit failed; the changes stay pending (counted as fail_checkpoint). */
void ike_engine_count_ckpt_failure(ike_engine_t *e);
/* Rebuild one IKE SA with its CHILD SAs from a record (a restarted sessmgr):
 * table, timers (deadlines converted with wall_off_ms = unix ms - engine ms
 * now; past ones fire at the next tick), virtual IPs marked used in the pools,
 * counters. The record's SPI must carry this engine's slot. Nothing is sent
 * and no CHILD SA is programmed (ike_engine_foreach_child replays them).
 * Returns 0, or a negative ike_err_t when the record is refused (the caller
 * deletes it). */
int ike_engine_restore_sa(ike_engine_t *e, const uint8_t *rec, size_t len,
                          int64_t wall_off_ms);

/* Counters of this worker. */
const ike_stats_t *ike_engine_stats(const ike_engine_t *e);
/* Number of IKE SAs (established and half-open). */
size_t ike_engine_sa_count(const ike_engine_t *e);
/* A plain snapshot of one CHILD SA for show output. */
typedef struct ike_child_info {
  uint32_t spi_in, spi_out;
  ike_suite_t suite;
  uint64_t age_s, lifetime_s;
  bool encap;                     /* ESP in UDP */
  ike_ts_t ts_local, ts_remote;
} ike_child_info_t;

/* A plain snapshot of one IKE SA for show output. */
typedef struct ike_sa_info {
  uint64_t spi_i, spi_r;          /* initiator's SPI, ours */
  const char *state;              /* "established", ... */
  ike_path_t path;                /* current peer/local addresses and ports */
  ike_suite_t suite;              /* IKE SA algorithms */
  bool natt, nat_peer, nat_local; /* port 4500 in use; NAT in front of peer / us */
  bool mobike;                    /* MOBIKE negotiated ("Mobike Supported") */
  const char *peer_id;            /* printable IDi */
  const char *tmpl;               /* crypto template name */
  uint32_t mobike_updates;        /* UPDATE_SA_ADDRESSES applied */
  uint32_t vip4;                  /* virtual IPv4 (host order), 0 = none */
  uint8_t vip6[16];               /* virtual IPv6 if has_vip6 */
  bool has_vip6;
  uint64_t age_s, lifetime_s;     /* seconds since creation; configured lifetime */
  unsigned n_child;
  const char *local_id;           /* configured local ID, "" = our address */
  ike_child_info_t child[4];
} ike_sa_info_t;

/* Visit every IKE SA (established ones and those being deleted). */
void ike_engine_foreach_sa(const ike_engine_t *e,
                           void (*fn)(void *arg, const ike_sa_info_t *info),
                           void *arg);
/* The same a page at a time: visit at most max SAs from table position from
 * (0 = the start). Returns the position to continue from, 0 when the table is
 * done. SAs added or removed between pages may be missed or seen twice. */
size_t ike_engine_foreach_sa_page(const ike_engine_t *e, size_t from, size_t max,
                                  void (*fn)(void *arg, const ike_sa_info_t *info),
                                  void *arg);

/* Delete an SA (gwctl clear): sends Delete, removes CHILD SAs. spi 0 = all.
 * Returns the number of SAs deleted. */
int ike_engine_clear(ike_engine_t *e, uint64_t spi, uint64_t now_ms);

/* Forget every SA at once: nothing is sent, no CHILD SA operation goes out,
 * no checkpoint record changes (a restore from a store found bad midway is
 * undone this way). */
void ike_engine_clear_all_silently(ike_engine_t *e);

#endif /* IKE_ENGINE_H */
