/*
 * sessmgr.h - the sessmgr process: one IKE engine (one slot) on a libuv loop,
 * wired to demux (datagrams), ipsecmgr (CHILD SAs) and gwctl (control).
 */
#ifndef SESSMGR_H
#define SESSMGR_H

#include <uv.h>

#include "ike_config.h"
#include "ike_engine.h"
#include "ike_ipc.h"

typedef struct sessmgr {
  uv_loop_t *loop;
  void *zctx;
  uint16_t slot, workers;
  ike_config_t cfg;
  ike_engine_t *engine;
  ike_ipc_t *demux, *ipsec, *ctl;
  uv_timer_t timer;
  uv_signal_t sigterm, sigint;
  uint64_t req_id;
  uint64_t start_ms;
  bool ipsec_synced;   /* the first replay after our start is done */
} sessmgr_t;

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

#endif /* SESSMGR_H */
