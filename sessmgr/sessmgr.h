/*
 * sessmgr.h - the sessmgr process: one IKE engine (one slot) on a libuv loop,
 * wired to demux (datagrams), ipsecmgr (CHILD SAs) and gwctl (control).
 */
#ifndef SESSMGR_H
#define SESSMGR_H

#include <uv.h>

#include "ike_ckpt.h"
#include "ike_config.h"
#include "ike_engine.h"
#include "ike_ipc.h"

/* One message held back until the checkpoint of its loop iteration is
 * committed (commit.c): header and packet bytes in the queue's buffer. */
typedef struct sessmgr_out {
  ike_ipc_t *ep;
  size_t off, hdr_len, pkt_len;
  bool has_pkt;
  bool deferred;         /* met a full pipe once already (counted once) */
} sessmgr_out_t;

typedef struct sessmgr_outq {
  uint8_t *buf;
  size_t len, cap;
  sessmgr_out_t *items;
  size_t n, items_cap;
  bool secret;           /* holds CHILD SA keys: wiped after the flush */
} sessmgr_outq_t;

/* A CHILD SA installation (SaAdd) waiting for ipsecmgr's answer. */
typedef struct sessmgr_pending_add {
  uint64_t req_id;       /* 0 = free */
  uint64_t ike_spi;
  uint32_t spi_in;
} sessmgr_pending_add_t;

/* SaAdds remembered by request id (a ring: beyond this many unanswered, the
 * oldest are forgotten and a refusal is only counted). */
#define SESSMGR_PENDING_ADDS 16384

typedef struct sessmgr {
  uv_loop_t *loop;
  void *zctx;
  uint16_t slot, workers;
  ike_config_t cfg;
  ike_engine_t *engine;
  ike_cert_store_t *certs[IKE_CFG_MAX_TEMPLATES]; /* per template of cfg (borrowed by
                                                     the engine), reloaded on configure */
  ike_ipc_t *demux, *ipsec, *ctl;
  uv_timer_t timer;
  uv_signal_t sigterm, sigint;
  uint64_t req_id;
  uint64_t start_ms;
  bool ipsec_synced;   /* the first replay after our start is done */
  ike_ckpt_store_t *store; /* this slot's checkpoint store, NULL = none */
  int64_t wall_off;    /* unix ms - uv_now(loop) (checkpoint times) */
  uv_prepare_t commit; /* end of each loop iteration: commit, then send */
  sessmgr_outq_t outq;
  bool demux_paused;   /* back-pressure: outq over SESSMGR_OUTQ_HIGH */
  sessmgr_pending_add_t pending_add[SESSMGR_PENDING_ADDS];
  uv_timer_t sync_timer; /* "checkpoint sync every N ms" */
  uv_work_t sync_req;  /* the fsync, on libuv's thread pool */
  int sync_rc;
  bool sync_busy;      /* sync_req running */
  bool sync_pending;   /* committed since the last sync started */
} sessmgr_t;

/* Output queue bounds (messages) for back-pressure towards demux. */
#define SESSMGR_OUTQ_HIGH 20000
#define SESSMGR_OUTQ_LOW 5000

/* Engine callbacks (dispatch.c). */
extern const ike_engine_ops_t sessmgr_engine_ops;
/* IPC receive handlers (dispatch.c). */
void sessmgr_on_demux(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg);
void sessmgr_on_ipsec(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg);
void sessmgr_on_ctl(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg);
/* Send every CHILD SA to ipsecmgr again (resync), then ReplayDone, so
 * ipsecmgr drops what this slot no longer owns (dispatch.c). */
void sessmgr_replay_all(sessmgr_t *sm);
/* Re-arm the engine timer after anything that may have added a timer. */
void sessmgr_rearm(sessmgr_t *sm);

/* --- Checkpoints and the output queue (commit.c) --- */
/* Open the slot's store and restore its IKE SAs into the engine (before the
 * loop runs); then start the per-iteration commit. Without a usable store the
 * sessmgr runs without checkpoints (logged). */
void sessmgr_ckpt_start(sessmgr_t *sm);
/* Queue msg (+ pkt) for ep; sent after this iteration's commit. secret: the
 * message carries keys (the queue is wiped after sending). */
void sessmgr_queue_pb(sessmgr_t *sm, ike_ipc_t *ep, const ProtobufCMessage *msg,
                      const void *pkt, size_t pkt_len, bool secret);
/* Write every changed SA record in one transaction, then send the queue. */
void sessmgr_commit_and_flush(sessmgr_t *sm);
/* Close the store (the records stay for the next start) and drop the queue. */
void sessmgr_ckpt_stop(sessmgr_t *sm);

#endif /* SESSMGR_H */
