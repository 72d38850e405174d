/*
 * ike_sa.h - the IKE SA record and the engine internals shared by the
 * exchange tasks (task_*.c). Not part of the engine's public API.
 *
 * An IKE SA is one flat record (no pointers but the transient half-open and
 * in-flight buffers), so it can be checkpointed and rebuilt after a restart.
 */
#ifndef IKE_SA_H
#define IKE_SA_H

#include <stdio.h>

#include "ike_engine.h"

#define IKE_MAX_CHILD      4     /* CHILD SAs per IKE SA (rekey overlap included) */
#define IKE_NONCE_LEN      32    /* our nonces */
#define IKE_MAX_NONCE      256
#define IKE_MAX_MSG        8192  /* largest message we build or cache */
#define IKE_MAX_ID         256
#define IKE_ID_DIGEST_LEN  32    /* SHA-256 */
#define IKE_REQ_DIGEST_LEN 32    /* SHA-256 */
#define IKE_RESEND_BURST   4     /* cached-response resends in a burst per SA */
#define IKE_RESEND_REFILL_MS 1000u /* one more resend allowed per this many ms */
#define IKE_COOKIE_ROTATE_MS 300000u /* a new COOKIE secret every 5 minutes */

#define IKE_SA_STATE_MAP(X)                                   \
  X(NONE, "none")                                             \
  X(HALF_OPEN, "half-open")       /* IKE_SA_INIT answered */  \
  X(ESTABLISHED, "established")                               \
  X(REKEYED, "rekeyed")           /* replaced by a new SA */  \
  X(DELETING, "deleting")         /* our Delete in flight */  \
  X(DEAD, "dead")

typedef enum {
#define X(n, s) IKE_SA_##n,
  IKE_SA_STATE_MAP(X)
#undef X
} ike_sa_state_t;

const char *ike_sa_state_name(unsigned s);

/* What our own in-flight request is for. */
typedef enum {
  IKE_REQ_NONE = 0,
  IKE_REQ_DPD,       /* empty INFORMATIONAL liveness check */
  IKE_REQ_COOKIE2,   /* MOBIKE return routability check (RFC 4555 3.8) */
  IKE_REQ_DELETE,    /* Delete of the IKE SA */
  IKE_REQ_DELETE_CHILD,
  IKE_REQ_REKEY_CHILD /* CREATE_CHILD_SA rekey of ours (soft lifetime) */
} ike_req_kind_t;

struct ike_sa;

/* A link of an SA in one secondary index (chained hash, ike_index.c). */
typedef struct ike_index_link {
  struct ike_sa *next;             /* next SA in the same bucket */
  uint32_t hash;                   /* keyed hash of the SA's key in this index */
  bool linked;
} ike_index_link_t;

/* A chained hash of SAs over one of their ike_index_link_t fields. */
typedef struct ike_index {
  struct ike_sa **b;               /* bucket heads, nb a power of two */
  size_t nb, n;
  size_t link_off;                 /* offsetof(ike_sa_t, <link>) */
} ike_index_t;

/* Half-open SAs per source address (ike_index.c), for the per-source cap. */
typedef struct ike_srccount_ent {
  uint8_t addr[16];
  uint8_t family;                  /* 0 = empty slot */
  uint32_t count;
} ike_srccount_ent_t;

typedef struct ike_srccount {
  ike_srccount_ent_t *t;           /* open addressing, cap a power of two */
  size_t cap, n;
} ike_srccount_t;

/* The addresses one worker holds of one pool (ike_pool.c). */
typedef struct ike_pool_state {
  char name[IKE_CFG_NAME_MAX];     /* the pool's name; used == NULL: entry free */
  ike_cfg_prefix_t prefix;         /* the prefix the map is laid out for */
  uint8_t *used;                   /* one byte per offset from the prefix base */
  size_t size;                     /* offsets in the map */
  size_t cursor;                   /* next offset to try (next fit) */
  size_t n_used;
} ike_pool_state_t;

/* A set of non-zero 32-bit values (ike_index.c): inbound CHILD SPIs in use. */
typedef struct ike_u32set {
  uint32_t *t;                     /* open addressing, 0 = empty */
  size_t cap, n;
} ike_u32set_t;

typedef struct ike_child {
  uint32_t spi_in, spi_out;
  ike_suite_t suite;
  ike_ts_t ts_local, ts_remote;
  uint8_t ek_in[IKE_MAX_ENCR_KEY], ak_in[IKE_MAX_INTEG_KEY];
  uint8_t ek_out[IKE_MAX_ENCR_KEY], ak_out[IKE_MAX_INTEG_KEY];
  uint8_t ek_len, ak_len;
  uint64_t created_ms;
  bool used;
} ike_child_t;

/* Transient data between IKE_SA_INIT and IKE_AUTH (freed at IKE_AUTH). */
typedef struct ike_halfopen {
  uint8_t init_req[IKE_MAX_MSG];   /* RealMessage1 for the initiator's AUTH */
  size_t init_req_len;
  uint8_t init_rsp[IKE_MAX_MSG];   /* RealMessage2 for our AUTH */
  size_t init_rsp_len;
  struct sockaddr_storage src;     /* the address counted in e->halfopen_src */
  bool src_counted;
} ike_halfopen_t;

typedef struct ike_sa {
  uint64_t spi_i, spi_r;           /* spi_r is ours (we are the responder) */
  ike_sa_state_t state;
  uint8_t tmpl;                    /* index of the crypto template */
  ike_suite_t suite;
  ike_keys_t keys;
  ike_sk_dir_t sk_in, sk_out;      /* initiator->us, us->initiator */
  uint8_t ni[IKE_MAX_NONCE], nr[IKE_NONCE_LEN];
  uint16_t ni_len, nr_len;
  ike_path_t path;                 /* current path of the peer */
  bool natt;                       /* using port 4500 (non-ESP marker) */
  bool nat_peer, nat_local;        /* peer behind NAT, we behind NAT */
  bool mobike;                     /* MOBIKE negotiated */
  bool no_nats_allowed;            /* peer sent NO_NATS_ALLOWED */
  uint8_t peer_sig_hashes;         /* RFC 7427 hashes the peer offered (IKE_CERT_HASH_BIT) */
  uint8_t peer_id_type;
  char peer_id[IKE_MAX_ID];        /* printable (show output, logs) */
  uint8_t peer_id_digest[IKE_ID_DIGEST_LEN]; /* of type + raw IDi bytes (ike_sa_id_digest):
                                               what identities are compared by */
  bool has_id_digest;
  uint32_t vip4;                   /* assigned virtual IPv4 (host order), 0 = none */
  uint8_t vip6[16];                /* assigned virtual IPv6 */
  bool has_vip6;
  uint32_t peer_next_id;           /* next request Message ID expected from the peer */
  uint32_t our_next_id;            /* next Message ID for our requests */
  /* Response cache: the last response, resent on a retransmitted request. */
  uint8_t *rsp;
  size_t rsp_len;
  uint32_t rsp_id;
  bool rsp_update;                 /* the cached response applied a MOBIKE update */
  uint8_t rsp_req_digest[IKE_REQ_DIGEST_LEN]; /* of the request rsp answers: only an
                                               exact copy of it is a retransmission */
  bool has_rsp_req_digest;
  uint8_t resend_tokens;           /* cached-response resends left (rate limit) */
  uint64_t resend_refill_ms;       /* when resend_tokens was last refilled */
  /* Our in-flight request. */
  uint8_t *req;
  size_t req_len;
  uint32_t req_id;
  ike_req_kind_t req_kind;
  uint8_t req_tries;
  uint64_t req_next_ms;
  uint8_t cookie2[16];             /* COOKIE2 of the in-flight check */
  bool rrc_pending;                /* return routability check waits for req */
  bool esp_hold;                   /* CHILD SAs stay on esp_path until the COOKIE2 check
                                      passes (RFC 4555 3.5, 5.2); path is the new IKE path */
  bool esp_natt;                   /*   their UDP encapsulation meanwhile */
  ike_path_t esp_path;             /*   their (last verified) path meanwhile */
  uint32_t rekey_old_in;           /* IKE_REQ_REKEY_CHILD: inbound SPI of the old */
  uint32_t rekey_new_in;           /*   CHILD SA and of its replacement */
  uint8_t rekey_ni[IKE_NONCE_LEN]; /*   our nonce */
  uint32_t mobike_last_id;         /* Message ID of the newest update applied */
  uint32_t mobike_updates;         /* updates applied (show output) */
  uint64_t created_ms, last_rx_ms, dpd_next_ms, expire_ms;
  ike_child_t child[IKE_MAX_CHILD];
  uint32_t heap_idx;               /* 1-based place in the timer heap, 0 = none */
  uint64_t sched_ms;               /* deadline the heap holds for it */
  uint32_t dirty_idx;              /* 1-based place in e->dirty, 0 = clean */
  bool stored;                     /* a checkpoint record of it exists (or is being written) */
  ike_halfopen_t *ho;
  ike_dh_t *dh;
  /* Secondary indexes (ike_index.c): transient, rebuilt by ike_sa_insert. */
  ike_index_link_t ho_link;        /* half-open SAs by (SPIi, peer address and port) */
  ike_index_link_t id_link;        /* established SAs by peer identity */
} ike_sa_t;

struct ike_engine {
  uint16_t slot;
  const ike_config_t *cfg;
  ike_engine_ops_t ops;
  void *ctx;
  ike_stats_t stats;
  ike_sa_t **tab;                  /* open addressing on spi_r */
  size_t cap, n, n_halfopen;
  /* Lookups that must not scan the table (DESIGN.md "Security rules"). */
  ike_index_t by_init;             /* half-open SAs by (SPIi, peer) */
  ike_index_t by_id;               /* established SAs by peer identity */
  ike_srccount_t halfopen_src;     /* half-open SAs per peer address */
  ike_u32set_t child_spis;         /* inbound CHILD SPIs handed out and not yet gone */
  uint64_t hash_key[2];            /* keys of the index hashes (random per engine) */
  uint64_t probes;                 /* SA entries looked at by lookups (tests, bench) */
  uint8_t cookie_secret[32];       /* current COOKIE secret (RFC 7296 2.6) ... */
  uint8_t cookie_prev[32];         /* ... and the one before: its cookies still pass */
  uint8_t cookie_ver;              /* version byte of cookie_secret's cookies */
  bool cookie_has_prev;
  uint64_t cookie_since_ms;        /* when cookie_secret was made */
  uint16_t n_workers;              /* workers sharing the pools (interleaved) */
  ike_pool_state_t pools[IKE_CFG_MAX_POOLS]; /* address maps, by pool name (ike_pool.c) */
  ike_sa_t **heap;                 /* timer heap (ike_timer.c) */
  size_t heap_n, heap_cap;
  struct ike_rx *rx;               /* scratch for the message being handled */
  const ike_cert_store_t *certs[IKE_CFG_MAX_TEMPLATES]; /* per template, borrowed */
  uint64_t now_ms;
  /* Checkpointing (ike_ckpt.c): SAs changed since the last commit, and our
   * SPIs of stored SAs destroyed since then. */
  ike_sa_t **dirty;
  size_t n_dirty, dirty_cap;
  uint64_t *gone;
  size_t n_gone, gone_cap;
  bool ckpt_on;                    /* ike_engine_set_checkpointing */
  bool freeing;                    /* ike_engine_free: no checkpoint bookkeeping */
  uint8_t *ckpt_buf;               /* scratch for one encoded record */
  size_t ckpt_cap;
};

/* --- Secondary indexes (ike_index.c) ---
 * Chained hashes over links embedded in the SA; the caller computes the keyed
 * hash (ike_index_hash) and compares keys while walking a bucket. */
void ike_index_init(ike_index_t *x, size_t link_off);
void ike_index_free(ike_index_t *x);
/* Link sa with hash h (no-op if already linked); -IKE_E_NOMEM if the bucket
 * array cannot grow (sa is linked anyway, chains just get longer). */
int ike_index_add(ike_index_t *x, struct ike_sa *sa, uint32_t h);
void ike_index_del(ike_index_t *x, struct ike_sa *sa);
/* First SA of the bucket of h whose stored hash equals h, then the next one
 * after sa; NULL at the end. Each SA looked at counts in *probes. */
struct ike_sa *ike_index_first(const ike_index_t *x, uint32_t h, uint64_t *probes);
struct ike_sa *ike_index_next(const ike_index_t *x, const struct ike_sa *sa,
                              uint64_t *probes);
/* Keyed hash of bytes (key: the engine's random hash_key), so a peer cannot
 * aim many SAs at one bucket. */
uint32_t ike_index_hash(const uint64_t key[2], const void *data, size_t len);
/* Half-open count of a peer address (port ignored): get, +1, -1. */
uint32_t ike_srccount_get(const ike_srccount_t *s, const struct sockaddr_storage *ss);
int ike_srccount_inc(ike_srccount_t *s, const struct sockaddr_storage *ss);
void ike_srccount_dec(ike_srccount_t *s, const struct sockaddr_storage *ss);
void ike_srccount_free(ike_srccount_t *s);
bool ike_u32set_has(const ike_u32set_t *s, uint32_t v);
int ike_u32set_add(ike_u32set_t *s, uint32_t v);
void ike_u32set_del(ike_u32set_t *s, uint32_t v);
void ike_u32set_free(ike_u32set_t *s);

/* --- SA table (ike_sa.c) --- */
ike_sa_t *ike_sa_new(ike_engine_t *e, uint64_t spi_i);
ike_sa_t *ike_sa_find(const ike_engine_t *e, uint64_t spi_r);
/* Find a half-open SA by the initiator's SPI and peer (IKE_SA_INIT retransmit);
 * O(1) through e->by_init. */
ike_sa_t *ike_sa_find_init(ike_engine_t *e, uint64_t spi_i,
                           const struct sockaddr_storage *peer);
/* Digest of an identity (type + raw ID bytes, RFC 7296 3.5) into out;
 * 0 or -IKE_E_CRYPTO. */
int ike_sa_id_digest(uint8_t type, const uint8_t *data, size_t len,
                     uint8_t out[IKE_ID_DIGEST_LEN]);
/* Established SAs with sa's identity other than sa itself, via e->by_id:
 * first, then next after o. NULL at the end. */
ike_sa_t *ike_sa_same_id_first(ike_engine_t *e, const ike_sa_t *sa);
ike_sa_t *ike_sa_same_id_next(ike_engine_t *e, const ike_sa_t *sa, const ike_sa_t *o);
/* Set the peer identity of sa (digest; indexed once established). */
void ike_sa_set_identity(ike_engine_t *e, ike_sa_t *sa, uint8_t type,
                         const uint8_t *data, size_t len);
/* Remove CHILD SAs from the datapath, wipe and free. */
void ike_sa_destroy(ike_engine_t *e, ike_sa_t *sa);
/* Move an SA to a new state (logs old -> new, rejects illegal moves). */
int ike_sa_set_state(ike_engine_t *e, ike_sa_t *sa, ike_sa_state_t st);
/* Insert a restored SA (ike_ckpt.c) into the table; -IKE_E_BAD_SYNTAX if its
 * SPI is taken, -IKE_E_NOMEM. */
int ike_sa_insert(ike_engine_t *e, ike_sa_t *sa);
/* The SA changed: its record is written at the next checkpoint commit
 * (ike_engine_foreach_dirty). Call wherever a field of the record changes;
 * idempotent and O(1). */
void ike_sa_mark_dirty(ike_engine_t *e, ike_sa_t *sa);
/* Take sa off the dirty list (its record is current). */
void ike_sa_mark_clean(ike_engine_t *e, ike_sa_t *sa);
/* States whose SAs are checkpointed: established, rekeyed, deleting. */
bool ike_sa_storable(const ike_sa_t *sa);
/* Re-key the table slot of an SA whose spi_r changed (IKE rekey). */
void ike_sa_rehash(ike_engine_t *e, ike_sa_t *sa, uint64_t new_spi_r);
/* A new inbound CHILD SPI of this slot, unique among those in use (ESP is
 * routed by it: two CHILD SAs must never share one); it stays taken until
 * ike_sa_child_spi_gone. 0 (create no CHILD SA) without random bytes. */
uint32_t ike_sa_new_child_spi(ike_engine_t *e);
/* The CHILD SA with inbound SPI spi is gone (deleted, or never created). */
void ike_sa_child_spi_gone(ike_engine_t *e, uint32_t spi);
ike_child_t *ike_sa_child_by_out(ike_sa_t *sa, uint32_t spi_out);
ike_child_t *ike_sa_child_by_in(ike_sa_t *sa, uint32_t spi_in);
ike_child_t *ike_sa_child_free_slot(ike_sa_t *sa);
const ike_cfg_template_t *ike_sa_tmpl(const ike_engine_t *e, const ike_sa_t *sa);

/* Builds with IKEGW_KEYLOG: append the keys of an authenticated SA to
 * $IKEGW_IKEV2_KEYLOG for tshark (ike_keylog.c); a no-op otherwise. */
void ike_keylog_write(const ike_sa_t *sa);
/* Open path for appending as the key log may be: created 0600, an existing
 * file made 0600, a symbolic link or non-regular file refused (NULL). */
FILE *ike_keylog_open(const char *path);
/* Is the key log compiled in (IKEGW_KEYLOG)? */
bool ike_keylog_enabled(void);

/* --- Timers (ike_timer.c) --- */
/* (Re)queue an SA at its earliest deadline; call wherever a deadline is set
 * earlier than before. */
void ike_timer_schedule(ike_engine_t *e, ike_sa_t *sa);
void ike_timer_remove(ike_engine_t *e, ike_sa_t *sa);
/* Dequeue the next SA whose deadline is <= now, or NULL. */
ike_sa_t *ike_timer_pop_due(ike_engine_t *e, uint64_t now_ms);
/* Earliest deadline queued, 0 if none. */
uint64_t ike_timer_next(const ike_engine_t *e);
void ike_timer_free(ike_engine_t *e);

/* --- Virtual IP pools (ike_pool.c) --- */
/* Take a free IPv4 address of the template's pool (host order), 0 if none.
 * Workers take interleaved addresses (offset = slot + k * n_workers), so no
 * two workers ever hand out the same one. */
uint32_t ike_pool_alloc(ike_engine_t *e, const ike_cfg_template_t *t);
/* Give an address back to whichever pool map holds it (the template's pool
 * may have changed since it was taken). */
void ike_pool_release(ike_engine_t *e, uint32_t addr);
/* The same for the template's IPv6 pool: 0 and the address in out, or -1. */
int ike_pool_alloc6(ike_engine_t *e, const ike_cfg_template_t *t, uint8_t out[16]);
void ike_pool_release6(ike_engine_t *e, const uint8_t addr[16]);
/* A new config is coming: check (apply false) that no pool in use is removed,
 * changes family or shrinks/moves away from an address in use (-1 and err);
 * with apply true also re-lay the maps of widened pools for next's prefixes
 * and drop the maps of removed, unused pools. */
int ike_pool_reconfigure(ike_engine_t *e, const ike_config_t *next, bool apply,
                         char *err, size_t err_len);
void ike_pool_free_all(ike_engine_t *e);
/* Mark an address of the template's pool used (a restored SA holds it).
 * Returns 0, or -1 if it is not one of this worker's pool addresses. */
int ike_pool_claim(ike_engine_t *e, const ike_cfg_template_t *t, uint32_t addr);
int ike_pool_claim6(ike_engine_t *e, const ike_cfg_template_t *t, const uint8_t addr[16]);
bool ike_addr_equal(const struct sockaddr_storage *a,
                    const struct sockaddr_storage *b);
void ike_msg_request_done(ike_sa_t *sa);
bool ike_msg_retransmit(ike_engine_t *e, ike_sa_t *sa);

/* --- Messages (ike_msg.c) --- */
/* A decoded request/response after decryption. */
typedef struct ike_rx {
  ike_hdr_t h;
  const ike_path_t *path;
  bool natt;
  const uint8_t *raw;              /* whole datagram */
  size_t raw_len;
  ike_chain_t chain;               /* inner (decrypted) or outer payloads */
  uint8_t plain[IKE_MAX_MSG];      /* decrypted inner chain */
} ike_rx_t;

/* A response or request under construction (inner payloads of SK). */
typedef struct ike_tx {
  ike_mb_t mb;
  uint8_t inner[IKE_MAX_MSG];
} ike_tx_t;

void ike_tx_init(ike_tx_t *tx);
/* Seal tx into a full message with header h for sa; result in out/out_len. */
int ike_msg_seal(ike_sa_t *sa, const ike_hdr_t *h, ike_tx_t *tx, uint8_t *out,
                 size_t cap, size_t *out_len);
/* May a cached response be resent now? IKE_RESEND_BURST in a row, then one
 * per IKE_RESEND_REFILL_MS: a captured request replayed from spoofed sources
 * must not turn us into a reflector. Takes a token when it says yes. */
bool ike_resend_allowed(ike_engine_t *e, ike_sa_t *sa);
/* SHA-256 of a whole IKE message (request digests); 0 or -IKE_E_INTERNAL. */
int ike_msg_digest(const uint8_t *msg, size_t len, uint8_t out[IKE_REQ_DIGEST_LEN]);
/* Send a response to the request rx and cache it for retransmissions (with
 * the digest of rx, so only an exact copy of rx is answered from the cache). */
void ike_msg_respond(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx,
                     ike_tx_t *tx);
/* Send a request of ours (INFORMATIONAL) and start its retransmission timer. */
int ike_msg_request(ike_engine_t *e, ike_sa_t *sa, uint8_t exchange,
                    ike_tx_t *tx, ike_req_kind_t kind);
/* Send a clear (unencrypted) IKE_SA_INIT error response. */
void ike_msg_init_error(ike_engine_t *e, const ike_rx_t *rx, uint16_t notify,
                        const uint8_t *data, size_t len);

/* --- Tasks --- */
void ike_task_init_r(ike_engine_t *e, ike_rx_t *rx);                /* task_init.c */
void ike_task_auth_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx);  /* task_auth.c */
/* Certificate authentication of IKE_AUTH (task_auth_cert.c). verify: the
 * peer's CERT payloads, chain, IDi in the certificate and AUTH (methods 1,
 * 9-11, 14); returns 0, or -1 with *counter set to the failure counter.
 * put: our IDr, CERT payload(s) and AUTH signature into tx. */
int ike_auth_cert_verify(ike_engine_t *e, ike_sa_t *sa, const ike_chain_t *c,
                         const ike_id_pld_t *idi, const ike_auth_pld_t *auth,
                         uint64_t **counter);
bool ike_auth_cert_put(ike_engine_t *e, ike_sa_t *sa, const ike_cfg_template_t *t,
                       ike_tx_t *tx);
void ike_task_child_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx); /* task_child.c */
void ike_task_info_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx);  /* task_info.c */
void ike_task_info_i_done(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx);
/* Start a Delete of the IKE SA; false if the SA was destroyed at once. */
bool ike_task_delete_i(ike_engine_t *e, ike_sa_t *sa);
void ike_task_dpd_i(ike_engine_t *e, ike_sa_t *sa);
void ike_task_delete_child_i(ike_engine_t *e, ike_sa_t *sa, ike_child_t *c);
/* Rekey a CHILD SA of ours (soft lifetime, RFC 7296 1.3.3, 2.8); the
 * response is handled by ike_task_rekey_child_i_done. */
void ike_task_rekey_child_i(ike_engine_t *e, ike_sa_t *sa, ike_child_t *c);
void ike_task_rekey_child_i_done(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx);
/* MOBIKE (task_mobike.c). Returns true if the request carried an update. */
bool ike_task_mobike_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx, ike_tx_t *tx,
                       bool *rrc);
void ike_task_mobike_check(ike_engine_t *e, ike_sa_t *sa);
bool ike_task_mobike_check_done(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx);
/* Where the CHILD SAs of sa are (or go) in the datapath: the IKE path, or
 * the last verified one while a return routability check holds them. */
void ike_task_mobike_esp_path(const ike_sa_t *sa, ike_path_t *path, bool *encap);
/* IKE rekey (old -> nsa, before nsa's CHILD SAs are named to ipsecmgr): CHILD
 * SAs held for a return routability check stay held under nsa, and nsa runs
 * the check again (the old SA's check goes with the old SA). */
void ike_task_mobike_rekeyed(ike_engine_t *e, ike_sa_t *old, ike_sa_t *nsa);
/* NAT detection (task_natd.c). */
void ike_natd_hash(uint64_t spi_i, uint64_t spi_r,
                   const struct sockaddr_storage *ss, uint8_t out[20]);
/* Compare the NAT_DETECTION payloads of chain with the path; sets *nat_peer
 * (source hash mismatch) and *nat_local. Returns false if none present. */
bool ike_natd_check(const ike_chain_t *c, uint64_t spi_i, uint64_t spi_r,
                    const ike_path_t *path, bool *nat_peer, bool *nat_local);
void ike_natd_put(ike_mb_t *mb, uint64_t spi_i, uint64_t spi_r,
                  const ike_path_t *path);
/* Traffic selectors and CHILD SA creation (task_child.c). */
int ike_child_create(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx, ike_tx_t *tx,
                     const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                     size_t nr_len, const ike_ke_pld_t *ke, ike_child_t **out);
void ike_child_program(ike_engine_t *e, ike_sa_t *sa, ike_child_t *c);

#define IKE_STAT(e, name) ((e)->stats.name++)

#endif /* IKE_SA_H */
