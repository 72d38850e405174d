/*
 * ike_stats.h - every IKEv2 counter of a sessmgr, from one X-macro list.
 *
 * IKE_STATS_MAP(X) lists X(field, "description", "bulkstats-variable" or NULL).
 * It generates the plain struct ike_stats_t (one uint64_t per field), the name and
 * description tables, the name-value conversion and the bulk statistics of the
 * seed (SEED-mobike-asr5500.md; descriptions of the seed's variables are the seed's
 * own Description cells). Every counter is monotonic except the ones marked
 * "(gauge)", which hold a current value; ike_stats_add() sums both (a gauge summed
 * over sessmgrs is the system total).
 *
 * Who increments what:
 *  - ike_stats_exchange(st, exch, is_response, sent) for every IKE message we send or
 *    accept (after decryption and authentication, or after IKE_SA_INIT parsing);
 *  - ike_stats_notify(st, type, sent) for every notify payload we send or receive in
 *    an accepted message. It counts the seed's "sent" counters too: MOBIKE Notify
 *    Sent = notify_sent_MOBIKE_SUPPORTED, MOBIKE Cookie2 Sent = notify_sent_COOKIE2,
 *    MOBIKE Unexpected NAT Sent = notify_sent_UNEXPECTED_NAT_DETECTED, MOBIKE
 *    Unacceptable Address Sent = notify_sent_UNACCEPTABLE_ADDRESSES; and the seed's
 *    "Notify Message Receive" block = the notify_rcvd_* fields;
 *  - the engine increments the mobike_* decisions (processed, ignored, COOKIE2 decoded,
 *    match, mismatch) and the fail_* causes directly: st->fail_auth++.
 */
#ifndef IKE_STATS_H
#define IKE_STATS_H

#include <stddef.h>
#include <stdint.h>

#define IKE_STATS_MAP(X)                                                                    \
  /* Exchanges (RFC 7296 1.2-1.5): requests and responses, each direction. */               \
  X(exch_init_req_rcvd, "IKE_SA_INIT requests received", NULL)                              \
  X(exch_init_req_sent, "IKE_SA_INIT requests sent", NULL)                                  \
  X(exch_init_rsp_rcvd, "IKE_SA_INIT responses received", NULL)                             \
  X(exch_init_rsp_sent, "IKE_SA_INIT responses sent", NULL)                                 \
  X(exch_auth_req_rcvd, "IKE_AUTH requests received", NULL)                                 \
  X(exch_auth_req_sent, "IKE_AUTH requests sent", NULL)                                     \
  X(exch_auth_rsp_rcvd, "IKE_AUTH responses received", NULL)                                \
  X(exch_auth_rsp_sent, "IKE_AUTH responses sent", NULL)                                    \
  X(exch_child_req_rcvd, "CREATE_CHILD_SA requests received", NULL)                         \
  X(exch_child_req_sent, "CREATE_CHILD_SA requests sent", NULL)                             \
  X(exch_child_rsp_rcvd, "CREATE_CHILD_SA responses received", NULL)                        \
  X(exch_child_rsp_sent, "CREATE_CHILD_SA responses sent", NULL)                            \
  X(exch_info_req_rcvd, "INFORMATIONAL requests received", NULL)                            \
  X(exch_info_req_sent, "INFORMATIONAL requests sent", NULL)                                \
  X(exch_info_rsp_rcvd, "INFORMATIONAL responses received", NULL)                           \
  X(exch_info_rsp_sent, "INFORMATIONAL responses sent", NULL)                               \
  X(retrans_req_sent, "our requests retransmitted", NULL)                                   \
  X(retrans_rsp_sent, "cached responses resent for retransmitted requests", NULL)           \
  X(retrans_req_mismatch,                                                                   \
    "requests dropped: header of the cached exchange, other bytes (not a retransmission)",  \
    NULL)                                                                                   \
  X(retrans_rsp_ratelimited, "retransmitted requests not answered: resend rate limit", NULL) \
  /* Notify payloads received (in accepted messages). */                                    \
  X(notify_rcvd_INVALID_SYNTAX, "INVALID_SYNTAX notify received", NULL)                     \
  X(notify_rcvd_INVALID_IKE_SPI, "INVALID_IKE_SPI notify received", NULL)                   \
  X(notify_rcvd_NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN notify received", NULL)             \
  X(notify_rcvd_INVALID_KE_PAYLOAD, "INVALID_KE_PAYLOAD notify received", NULL)             \
  X(notify_rcvd_AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED notify received", NULL)       \
  X(notify_rcvd_TS_UNACCEPTABLE, "TS_UNACCEPTABLE notify received", NULL)                   \
  X(notify_rcvd_TEMPORARY_FAILURE, "TEMPORARY_FAILURE notify received", NULL)               \
  X(notify_rcvd_CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND notify received", NULL)             \
  X(notify_rcvd_INITIAL_CONTACT, "INITIAL_CONTACT notify received", NULL)                   \
  X(notify_rcvd_NAT_DETECTION_SOURCE_IP, "NAT_DETECTION_SOURCE_IP notify received", NULL)   \
  X(notify_rcvd_NAT_DETECTION_DESTINATION_IP,                                               \
    "NAT_DETECTION_DESTINATION_IP notify received", NULL)                                   \
  X(notify_rcvd_COOKIE, "COOKIE notify received", NULL)                                     \
  X(notify_rcvd_REKEY_SA, "REKEY_SA notify received", NULL)                                 \
  X(notify_rcvd_USE_TRANSPORT_MODE, "USE_TRANSPORT_MODE notify received", NULL)             \
  X(notify_rcvd_MOBIKE_SUPPORTED,                                                           \
    "Total number of MOBIKE_SUPPORTED notify payload received.",                            \
    "ikev2-notifrecv-mobikesupp")                                                           \
  X(notify_rcvd_ADDITIONAL_IP4_ADDRESS,                                                     \
    "Total number of additional IPv4 addresses received from the peers.", NULL)             \
  X(notify_rcvd_ADDITIONAL_IP6_ADDRESS,                                                     \
    "Total number of additional IPv6 addresses received from the peers.", NULL)             \
  X(notify_rcvd_NO_ADDITIONAL_ADDRESSES,                                                    \
    "Total number of NO_ADDITIONAL_ADDRESSES notify payload received.", NULL)               \
  X(notify_rcvd_UPDATE_SA_ADDRESSES,                                                        \
    "Total number of UPDATE_SA_ADDRESSES notify payload received.",                         \
    "ikev2-notifrecv-updsaaddr")                                                            \
  X(notify_rcvd_COOKIE2, "Total number of COOKIE2 notify payload received.",                \
    "ikev2-notifrecv-cookie2")                                                              \
  X(notify_rcvd_NO_NATS_ALLOWED,                                                            \
    "Total number of NO_NATS_ALLOWED notify payload received.",                             \
    "ikev2-notifrecv-nonatallow")                                                           \
  X(notify_rcvd_UNACCEPTABLE_ADDRESSES, "UNACCEPTABLE_ADDRESSES notify received", NULL)     \
  X(notify_rcvd_UNEXPECTED_NAT_DETECTED, "UNEXPECTED_NAT_DETECTED notify received", NULL)   \
  X(notify_rcvd_IKEV2_FRAGMENTATION_SUPPORTED,                                              \
    "IKEV2_FRAGMENTATION_SUPPORTED notify received", NULL)                                  \
  X(notify_rcvd_SIGNATURE_HASH_ALGORITHMS,                                                  \
    "SIGNATURE_HASH_ALGORITHMS notify received", NULL)                                      \
  X(notify_rcvd_INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE notify received", NULL) \
  X(notify_rcvd_FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED notify received", NULL)             \
  X(notify_rcvd_other, "notify of another type received", NULL)                             \
  /* Notify payloads sent. */                                                               \
  X(notify_sent_INVALID_SYNTAX, "INVALID_SYNTAX notify sent", NULL)                         \
  X(notify_sent_INVALID_IKE_SPI, "INVALID_IKE_SPI notify sent", NULL)                       \
  X(notify_sent_NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN notify sent", NULL)                 \
  X(notify_sent_INVALID_KE_PAYLOAD, "INVALID_KE_PAYLOAD notify sent", NULL)                 \
  X(notify_sent_AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED notify sent", NULL)           \
  X(notify_sent_TS_UNACCEPTABLE, "TS_UNACCEPTABLE notify sent", NULL)                       \
  X(notify_sent_INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE notify sent", NULL)     \
  X(notify_sent_FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED notify sent", NULL)                 \
  X(notify_sent_TEMPORARY_FAILURE, "TEMPORARY_FAILURE notify sent", NULL)                   \
  X(notify_sent_CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND notify sent", NULL)                 \
  X(notify_sent_NAT_DETECTION_SOURCE_IP, "NAT_DETECTION_SOURCE_IP notify sent", NULL)       \
  X(notify_sent_NAT_DETECTION_DESTINATION_IP, "NAT_DETECTION_DESTINATION_IP notify sent",   \
    NULL)                                                                                   \
  X(notify_sent_COOKIE, "COOKIE notify sent", NULL)                                         \
  X(notify_sent_REKEY_SA, "REKEY_SA notify sent", NULL)                                     \
  X(notify_sent_USE_TRANSPORT_MODE, "USE_TRANSPORT_MODE notify sent", NULL)                 \
  X(notify_sent_MOBIKE_SUPPORTED,                                                           \
    "Total number of MOBIKE_SUPPORTED notify payload sent from Gateway.",                   \
    "ikev2-mobike-sent")                                                                    \
  X(notify_sent_COOKIE2, "Total number of COOKIE2 notify payload sent.",                    \
    "ikev2-mobike-cookie2-sent")                                                            \
  X(notify_sent_UNEXPECTED_NAT_DETECTED,                                                    \
    "Total number of UNEXPECTED_NAT_DETECTED notify payload sent.",                         \
    "ikev2-mobike-unexpected-natt-detected-sent")                                           \
  X(notify_sent_UNACCEPTABLE_ADDRESSES,                                                     \
    "Total number of UNACCEPTABLE_ADDRESSES notify payload sent by the Gateway.", NULL)     \
  X(notify_sent_IKEV2_FRAGMENTATION_SUPPORTED,                                              \
    "IKEV2_FRAGMENTATION_SUPPORTED notify sent", NULL)                                      \
  X(notify_sent_SIGNATURE_HASH_ALGORITHMS, "SIGNATURE_HASH_ALGORITHMS notify sent", NULL)   \
  X(notify_sent_INITIAL_CONTACT, "INITIAL_CONTACT notify sent (initiator)", NULL)           \
  X(notify_sent_ADDITIONAL_IP4_ADDRESS, "ADDITIONAL_IP4_ADDRESS notify sent (initiator)",    \
    NULL)                                                                                   \
  X(notify_sent_ADDITIONAL_IP6_ADDRESS, "ADDITIONAL_IP6_ADDRESS notify sent (initiator)",    \
    NULL)                                                                                   \
  X(notify_sent_NO_ADDITIONAL_ADDRESSES, "NO_ADDITIONAL_ADDRESSES notify sent (initiator)",  \
    NULL)                                                                                   \
  X(notify_sent_UPDATE_SA_ADDRESSES, "UPDATE_SA_ADDRESSES notify sent (initiator)", NULL)   \
  X(notify_sent_NO_NATS_ALLOWED, "NO_NATS_ALLOWED notify sent (initiator)", NULL)           \
  X(notify_sent_other, "notify of another type sent", NULL)                                 \
  /* MOBIKE decisions (RFC 4555; the seed's "Total IKEv2 MOBIKE Statistics"). */            \
  X(mobike_notify_rcvd,                                                                     \
    "Total number of MOBIKE_SUPPORTED notify payload received and processed successfully.", \
    "ikev2-mobike-recv")                                                                    \
  X(mobike_ignored,                                                                         \
    "Total number of MOBIKE_SUPPORTED notify payload received, processed and ignored.",     \
    "ikev2-mobike-ignored")                                                                 \
  X(mobike_cookie2_rcvd,                                                                    \
    "Total number of COOKIE2 notify payload received and decoded successfully.",            \
    "ikev2-mobike-cookie2-rvcd")                                                            \
  X(mobike_cookie2_mismatch,                                                                \
    "Total number of Cookie2 mismatch occurrences at the Gateway.",                         \
    "ikev2-mobike-cookie2-mismatch")                                                        \
  X(mobike_cookie2_match, "Total number of Cookie2 matched.", "ikev2-mobike-cookie2-match") \
  X(mobike_cookie2_missing,                                                                 \
    "responses to our COOKIE2 check without a COOKIE2 (failed check, not a mismatch)",      \
    NULL)                                                                                   \
  X(mobike_update_applied, "UPDATE_SA_ADDRESSES applied to an IKE SA and its CHILD SAs",    \
    NULL)                                                                                   \
  X(mobike_update_retransmit, "UPDATE_SA_ADDRESSES retransmissions (no new update)", NULL)  \
  X(mobike_update_stale, "UPDATE_SA_ADDRESSES older than the newest applied (ignored)",     \
    NULL)                                                                                   \
  X(mobike_update_not_mobike, "UPDATE_SA_ADDRESSES on an SA without MOBIKE (ignored)",      \
    NULL)                                                                                   \
  X(mobike_nat_changed, "address updates that switched UDP encapsulation on or off", NULL)  \
  X(mobike_rrc_started, "return routability checks started (COOKIE2 challenge)", NULL)      \
  X(mobike_rrc_passed, "return routability checks passed", NULL)                            \
  X(mobike_rrc_failed, "return routability checks failed (mismatch or no answer)", NULL)    \
  X(mobike_additional_ignored, "ADDITIONAL_*_ADDRESS / NO_ADDITIONAL_ADDRESSES ignored",    \
    NULL)                                                                                   \
  /* Failures by cause. */                                                                  \
  X(fail_parse, "messages dropped: header or payload parse error", NULL)                    \
  X(fail_integrity, "messages dropped: decryption or integrity check failed", NULL)         \
  X(fail_unknown_spi, "messages dropped: no IKE SA for the SPI", NULL)                      \
  X(fail_msgid, "messages dropped: message ID outside the window", NULL)                    \
  X(fail_state, "messages dropped: exchange not allowed in the SA state", NULL)             \
  X(fail_unsupported_critical, "messages refused: unsupported critical payload", NULL)      \
  X(fail_no_proposal, "negotiations failed: no acceptable proposal", NULL)                  \
  X(fail_invalid_ke, "IKE_SA_INIT answered with INVALID_KE_PAYLOAD", NULL)                  \
  X(fail_cookie_required, "IKE_SA_INIT answered with COOKIE (half-open over threshold)",    \
    NULL)                                                                                   \
  X(fail_cookie_invalid, "IKE_SA_INIT dropped: wrong COOKIE", NULL)                         \
  X(fail_half_open_limit, "IKE_SA_INIT dropped: half-open hard limit reached", NULL)        \
  X(fail_half_open_peer, "IKE_SA_INIT dropped: half-open limit of its source address", NULL) \
  X(fail_identity_limit, "IKE_AUTH refused: identity holds its limit of IKE SAs", NULL)     \
  X(fail_auth, "IKE_AUTH failed: authentication failed", NULL)                              \
  X(fail_cert, "IKE_AUTH failed: certificate missing, invalid or untrusted", NULL)          \
  X(fail_id, "IKE_AUTH failed: peer identity not accepted", NULL)                           \
  X(fail_ts_unacceptable, "CHILD SA refused: traffic selectors unacceptable", NULL)         \
  X(fail_address_pool, "CHILD SA refused: no virtual address left", NULL)                   \
  X(fail_dead_peer, "SAs deleted: no answer after the retransmissions (dead peer)", NULL)   \
  X(fail_ipsecmgr, "CHILD SA operations refused or failed in ipsecmgr", NULL)               \
  X(child_sa_refused, "CHILD SAs deleted towards the peer: ipsecmgr refused to install them", \
    NULL)                                                                                   \
  X(fail_internal, "internal errors (memory, checkpoint store)", NULL)                      \
  X(ipc_tx_deferred, "IPC messages held back by a full pipe, sent when it drained", NULL)   \
  X(ipc_tx_lost, "IPC messages not sent: peer unknown or send error", NULL)                \
  X(ipc_backpressure, "times input from demux was paused (output queue over its bound)",   \
    NULL)                                                                                   \
  /* SA life cycle. */                                                                      \
  X(ike_sa_established, "IKE SAs established", NULL)                                        \
  X(ike_sa_rekeyed, "IKE SAs rekeyed", NULL)                                                \
  X(ike_sa_deleted, "IKE SAs deleted", NULL)                                                \
  X(child_sa_established, "CHILD SAs established", NULL)                                    \
  X(child_sa_rekeyed, "CHILD SAs rekeyed", NULL)                                            \
  X(child_sa_deleted, "CHILD SAs deleted", NULL)                                            \
  X(dpd_sent, "DPD (empty INFORMATIONAL) requests sent", NULL)                              \
  X(ike_sa_current, "IKE SAs established now (gauge)", NULL)                                \
  X(ike_sa_half_open, "half-open IKE SAs now (gauge)", NULL)                                \
  X(child_sa_current, "CHILD SAs now (gauge)", NULL)                                        \
  /* Checkpoints (sessmgr/ike_ckpt.h): group commits of changed IKE SA records. */          \
  X(ckpt_commits, "checkpoint transactions committed", NULL)                                \
  X(ckpt_records_written, "checkpoint records written (changed IKE SAs)", NULL)             \
  X(ckpt_records_deleted, "checkpoint records deleted (IKE SAs gone)", NULL)                \
  X(ckpt_commit_us, "CPU microseconds spent encoding, writing and committing checkpoints", NULL) \
  X(ckpt_restored, "IKE SAs restored from the checkpoint store at start", NULL)             \
  X(ckpt_syncs, "checkpoint store flushes to disk (fsync, per the sync policy)", NULL)       \
  X(ckpt_store_reset,                                                                      \
    "checkpoint store unreadable at start: moved aside, the slot started empty", NULL)      \
  X(fail_checkpoint, "checkpoint commits failed (changes kept and retried)", NULL)

/* The counters: one uint64_t per entry of IKE_STATS_MAP, in list order. */
typedef struct ike_stats {
#define X(f, d, b) uint64_t f;
  IKE_STATS_MAP(X)
#undef X
} ike_stats_t;

/* Index of each counter in list order: IKE_STAT_<field>. */
typedef enum {
#define X(f, d, b) IKE_STAT_##f,
  IKE_STATS_MAP(X)
#undef X
  IKE_STAT_COUNT
} ike_stat_id_t;

/* A name-value pair for IPC and bulk statistics. */
typedef struct ike_stat_pair {
  const char *name;  /* field name (static string) */
  uint64_t value;
} ike_stat_pair_t;

/* Number of counters (IKE_STAT_COUNT). */
size_t ike_stats_count(void);
/* Field name of counter i ("notify_rcvd_COOKIE2"), NULL if i is out of range. */
const char *ike_stats_name(size_t i);
/* Description of counter i, NULL if out of range. */
const char *ike_stats_desc(size_t i);
/* Bulk statistics variable of counter i ("ikev2-mobike-sent") or NULL. */
const char *ike_stats_bulkvar(size_t i);
/* Value of counter i (0 if out of range). */
uint64_t ike_stats_get(const ike_stats_t *st, size_t i);
/* Set counter i; -1 if out of range. */
int ike_stats_set(ike_stats_t *st, size_t i, uint64_t v);
/* Index of the counter with this field name, or -1. */
int ike_stats_find(const char *name);
/* Index of the counter with this bulk statistics variable, or -1. */
int ike_stats_find_bulkvar(const char *var);

/* Zero all counters. */
void ike_stats_reset(ike_stats_t *st);
/* dst += src, field by field (aggregation over sessmgrs). */
void ike_stats_add(ike_stats_t *dst, const ike_stats_t *src);

/* Write up to max pairs (all counters in list order); returns the number written
 * (IKE_STAT_COUNT when max is large enough). */
size_t ike_stats_to_pairs(const ike_stats_t *st, ike_stat_pair_t *out, size_t max);
/* Set the counters named in pairs (unknown names are skipped and counted).
 * Returns the number of unknown names (0 = all known). Counters not named keep
 * their value. */
size_t ike_stats_from_pairs(ike_stats_t *st, const ike_stat_pair_t *pairs, size_t n);

/* Count one message: exch is IKE_EXCH_*, is_response 0/1, sent 1 = we sent it,
 * 0 = we received and accepted it. Unknown exchange types are ignored. */
void ike_stats_exchange(ike_stats_t *st, unsigned exch, int is_response, int sent);
/* Count one notify payload of type `type` sent (sent = 1) or received (sent = 0);
 * types without their own counter go to notify_*_other. */
void ike_stats_notify(ike_stats_t *st, unsigned type, int sent);

#endif /* IKE_STATS_H */
