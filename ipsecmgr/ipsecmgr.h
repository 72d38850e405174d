/*
 * ipsecmgr.h - the ipsecmgr process's logic (dispatch.c), kept apart from its
 * sockets (main.c) so unit tests drive it without ZMQ, TUN or raw sockets.
 *
 * ipm_t owns the ESP SA table of the userspace datapath plus, per SA, what
 * the datapath itself does not need: the SaId it was installed under, the
 * owning sessmgr slot, the IKE SPI, the peer's traffic selectors (inbound
 * source check), lifetimes in seconds and the resync generation.
 *
 * Every output leaves through one callback, ipm_ops_t.send, naming the channel:
 *   IPM_CH_SESSMGR  an ikegw.ipsec.Envelope to the DEALER with routing id `id`
 *                   (answers go back to the requester's id; SaExpire and
 *                   ReplayRequest go to the owner slot's 2-byte id, ike_slot.h)
 *   IPM_CH_DEMUX    an ikegw.demux.Envelope (Hello, or a Datagram followed by
 *                   the ESP packet frame) to demux
 *   IPM_CH_CTL      an ikegw.ctl.Envelope answer to gwctl's routing id
 * and packets through tun_write / raw_send. Nothing here blocks or allocates
 * per packet.
 *
 * Datapath: SaAdd/SaUpdate/SaDel/SaQuery go through a backend (backend.h,
 * ipm_cfg_t.be): the userspace ESP datapath (default) or Linux XFRM. A backend
 * refusal (e.g. a kernel without ESP) is answered SaResult{ok=false, error =
 * the backend's sentence, errno_value} and logged; nothing is recorded.
 *
 * Route ownership (DESIGN.md "Security rules"): the inner address of an
 * outbound SA (SaAdd.virtual_ip, else a single-address remote selector) is the
 * route of one IKE SA (owner slot + ike_spi). An outbound SaAdd of another IKE
 * SA for an address that is routed already is refused (SaResult ok=false,
 * errno EADDRINUSE, counter `sa_route_owned`) and its inbound half removed, so
 * no client takes another's downlink. SAs of the same IKE SA share the route
 * (CHILD rekey: newest first); after an IKE rekey the sessmgr repeats its
 * SaAdds under the new IKE SPI (identical keys: state kept, ike_spi updated);
 * a leftover of a restarted sessmgr not named since its Hello does not count.
 *
 * Sequence numbers (seq_lease.h, ipm_cfg_t.seq_store): outbound SAs use only
 * numbers covered by a durable lease; after a restart a resync SaAdd resumes
 * after the persisted lease end, and an outbound resync with no persisted
 * record is refused (errno ESTALE, "no persisted sequence-number lease ...")
 * rather than restarted at a guessed number: a jump cannot be made safe for a
 * peer's replay window (ESN high half inferred within +-1 of its window, RFC
 * 4303 A2.2), while a restart would reuse AEAD nonces. The sessmgr logs the
 * refusal and counts fail_ipsecmgr; that CHILD SA needs a rekey.
 *
 * NAT rebinding (DESIGN.md pitfalls): when an authenticated ESP-in-UDP packet
 * that advanced the replay window arrives from another address or port than
 * the SA pair's peer, ipsecmgr moves both SAs of the CHILD SA to the new source
 * at once (outbound ESP follows from the next packet on) and counts
 * `esp_nat_rebind`. The sessmgr is not told (the ipsec channel has no message
 * for it); the IKE side follows by itself on its next IKE packet from the new
 * address (demux routes by SPI). Plain ESP (no UDP) SAs never move this way:
 * without NAT the address only changes by MOBIKE. Nor do SAs added with
 * SaAdd.no_rebind (CHILD SAs of MOBIKE SAs, RFC 4555 3.5): their ESP from a
 * new source is decapsulated but the SA stays (counted `esp_rebind_refused`).
 */
#ifndef IPM_IPSECMGR_H
#define IPM_IPSECMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <protobuf-c/protobuf-c.h>

#include "backend.h"
#include "esp_sa.h"

#define IPM_MAX_TS 4u             /* remote traffic selectors kept per SA */
#define IPM_DEF_MAX_SAS 16384u    /* SAs (both directions) by default */
#define IPM_PKT_MAX 65536u        /* largest packet handled */

typedef enum { IPM_CH_SESSMGR = 0, IPM_CH_DEMUX = 1, IPM_CH_CTL = 2 } ipm_ch_t;

/* Output callbacks (ctx is the ipm_cfg_t.ctx). send returns 0 or a negative
 * errno; failures are counted by ipm. */
typedef struct ipm_ops {
  int (*send)(void *ctx, ipm_ch_t ch, const uint8_t *id, size_t id_len,
              const ProtobufCMessage *msg, const uint8_t *pkt, size_t pkt_len);
  int (*tun_write)(void *ctx, const uint8_t *pkt, size_t len);
  /* Plain ESP (IP protocol 50) from sa->local to sa->peer. */
  int (*raw_send)(void *ctx, const esp_sa_t *sa, const uint8_t *pkt, size_t len);
  /* Optional: ESP-in-UDP sent directly from sa->local (port 4500) to sa->peer,
   * bypassing demux (main.c: a raw UDP socket). NULL, or a return of -ENOTSUP,
   * sends it as a Datagram through demux instead. */
  int (*udp_send)(void *ctx, const esp_sa_t *sa, const uint8_t *pkt, size_t len);
  /* Unix time in seconds (lifetimes in seconds, last_used). */
  uint64_t (*now_s)(void *ctx);
} ipm_ops_t;

typedef struct ipm_cfg {
  uint32_t max_sas;   /* 0 = IPM_DEF_MAX_SAS */
  /* File of the persisted sequence-number leases (seq_lease.h), normally
   * STATE_DIR/ipsecmgr-seq.mdb. NULL = none: outbound SAs start at 1 and a
   * restart would reuse sequence numbers (unit tests of other things only). */
  const char *seq_store;
  /* Datapath backend (backend.h); NULL = ipm_be_userspace. be_ctx is its ctx
   * (the xfrm_t for ipm_be_xfrm). */
  const ipm_backend_ops_t *be;
  void *be_ctx;
  ipm_ops_t ops;
  void *ctx;
} ipm_cfg_t;

/* Process-level counters (per-SA ones live in the SA table). */
#define IPM_COUNTERS(X)                                                               \
  X(ipc_bad, "undecodable or malformed IPC messages")                                 \
  X(ipc_tx_err, "IPC sends that failed")                                              \
  X(sa_add, "SaAdd accepted")                                                         \
  X(sa_add_failed, "SaAdd refused")                                                   \
  X(sa_resync_kept, "SaAdd resync of an identical SA: state kept")                    \
  X(sa_replaced, "SaAdd that replaced an existing SA (resync with new keys)")         \
  X(sa_update, "SaUpdate requests")                                                   \
  X(sa_update_unknown, "SaUpdate ids not found")                                      \
  X(sa_del, "SAs deleted by SaDel")                                                   \
  X(sa_del_unknown, "SaDel ids not found")                                            \
  X(sa_expire_soft, "soft lifetime reports sent")                                     \
  X(sa_expire_hard, "hard lifetime reports sent (SA removed)")                        \
  X(sa_stale_removed, "SAs removed after ReplayDone (not replayed)")                  \
  X(hello, "sessmgr Hello received")                                                  \
  X(replay_request, "ReplayRequest sent")                                             \
  X(esp_rx, "ESP packets received (UDP and raw)")                                     \
  X(esp_rx_direct, "ESP-in-UDP received on ipsecmgr's own NAT-T socket (not via demux)") \
  X(esp_rx_trunc, "ESP-in-UDP datagrams too large for the receive buffer")             \
  X(natt_misrouted, "keepalives/IKE that reached ipsecmgr's NAT-T socket (dropped)")   \
  X(natt_steer_swaps, "reuseport program re-attached with the indexes swapped")       \
  X(esp_rx_ok, "ESP packets decapsulated and written to the TUN")                     \
  X(esp_rx_not_esp, "datagrams from demux that are not ESP-in-UDP")                   \
  X(esp_rx_dropped, "ESP packets dropped by the ESP layer (causes per SA)")           \
  X(esp_ts_mismatch, "decapsulated packets whose inner source is outside the SA's selectors") \
  X(esp_nat_rebind, "NAT rebinding followed (authenticated ESP from a new address/port)") \
  X(esp_rebind_refused, "ESP of a MOBIKE SA from a new address/port: not followed (RFC 4555 3.5)") \
  X(tun_rx, "packets read from the TUN")                                              \
  X(tun_no_sa, "TUN packets with no outbound SA for their destination")               \
  X(tun_encap_failed, "TUN packets the ESP layer refused (causes per SA)")            \
  X(tun_tx_err, "writes to the TUN that failed")                                      \
  X(tun_gro_frames, "frames written to the TUN by the userspace GRO (merged or not)")  \
  X(tun_gro_merged, "TCP segments merged into a preceding one (GSO write)")           \
  X(tun_gro_bad_csum, "decrypted TCP segments with a bad checksum (not merged)")                                      \
  X(esp_tx, "ESP packets sent (UDP via demux and raw)")                               \
  X(esp_tx_udp, "ESP-in-UDP packets handed to demux")                                 \
  X(esp_tx_udp_direct, "ESP-in-UDP packets sent directly (raw UDP socket)")             \
  X(esp_tx_raw, "plain ESP packets sent on the raw socket")                           \
  X(esp_tx_err, "ESP packets that could not be sent")                                 \
  X(seq_lease_commits, "sequence-number store transactions committed")                \
  X(seq_store_reset, "sequence-number store unreadable at start: moved aside, started empty") \
  X(sa_table_full, "SaAdd refused: the SA table is full (datapath max-sas)")            \
  X(replay_incomplete, "ReplayDone with fewer SaAdd received than sent: nothing removed, replay asked again") \
  X(seq_lease_records, "records written or deleted by those transactions")            \
  X(seq_lease_commit_us, "microseconds spent in those commits (sum)")                 \
  X(seq_lease_sync, "commits forced by the packet path (lease ran out before the loop's commit)") \
  X(seq_lease_fail, "failed commits (packets past the durable lease are dropped)")    \
  X(seq_lease_resumed, "outbound SAs resumed after their persisted lease end")        \
  X(seq_lease_refused, "outbound resyncs refused: no persisted lease (state lost)")   \
  X(seq_floor_restored, "inbound SAs whose replay window restarted at a persisted floor") \
  X(policy_add, "CHILD SA policy sets installed (in/out/fwd)")                        \
  X(policy_add_failed, "CHILD SA policy sets refused by the datapath (SA removed again)") \
  X(policy_del, "CHILD SA policy sets removed")                                       \
  X(sa_update_failed, "SaUpdate requests the datapath refused")                       \
  X(reconcile_removed, "datapath states/policies of ours no sessmgr claimed (removed at ReplayDone)") \
  X(sa_route_owned, "outbound SaAdd refused: its inner address is the route of another IKE SA")

typedef struct ipm_counters {
#define X(n, d) uint64_t n;
  IPM_COUNTERS(X)
#undef X
} ipm_counters_t;

typedef struct ipm ipm_t;

/* Create the manager; with cfg->seq_store, open the store and load its
 * records (a store that cannot be opened fails the start: running without it
 * would reuse nonces after the next restart). Returns 0 and *out, or a
 * negative errno (the reason logged). */
int ipm_new(const ipm_cfg_t *cfg, ipm_t **out);
/* Free everything (keys wiped); NULL is fine. */
void ipm_free(ipm_t *m);

/* A message from a sessmgr (routing id id[0..id_len), header frame hdr). */
void ipm_on_sessmgr(ipm_t *m, const uint8_t *id, size_t id_len, const uint8_t *hdr,
                    size_t hdr_len);
/* A message from demux: an Envelope header and, for a Datagram, its payload. */
void ipm_on_demux(ipm_t *m, const uint8_t *hdr, size_t hdr_len, const uint8_t *pkt,
                  size_t pkt_len);
/* A control request from gwctl: StatsRequest -> StatsResponse, ShowSaRequest ->
 * one record per ESP SA; anything else -> Result{ok=false}. */
void ipm_on_ctl(ipm_t *m, const uint8_t *id, size_t id_len, const uint8_t *hdr,
                size_t hdr_len);
/* Build the demux Hello{role=ROLE_IPSECMGR} and send it (on every connect). */
void ipm_hello_demux(ipm_t *m);

/* One ESP packet (starting at the SPI) from src (port 0 for plain ESP). */
void ipm_esp_in(ipm_t *m, const uint8_t *esp, size_t len, const struct sockaddr *src,
                bool udp);
/* One inner packet read from the TUN: encapsulate and send. */
void ipm_tun_in(ipm_t *m, const uint8_t *pkt, size_t len);
/* Lifetimes in seconds and deferred removals; call about once a second. */
void ipm_tick(ipm_t *m);
/* Group commit of the sequence-number leases (seq_lease.h): renewals asked for
 * by the datapath, leases of SAs added, floors of inbound SAs and records of
 * removed SAs, in one durable transaction. Call at the end of every loop
 * iteration (cheap when nothing changed); ipm_tick calls it too. */
void ipm_flush(ipm_t *m);

const ipm_counters_t *ipm_counters(const ipm_t *m);
/* The same counters, for the socket layer (main.c) to count its own events. */
ipm_counters_t *ipm_counters_rw(ipm_t *m);
esp_table_t *ipm_table(ipm_t *m);
/* SA by SaId fields (dir 1 = in, 2 = out as in the proto), NULL if none. */
esp_sa_t *ipm_find(ipm_t *m, int dir, uint32_t spi, uint32_t child_in_spi);
/* Sum of a drop cause over every SA and the table (for the stats). */
uint64_t ipm_drops(ipm_t *m, esp_err_t cause);

#endif /* IPM_IPSECMGR_H */
