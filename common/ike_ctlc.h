/*
 * ike_ctlc.h - client side of the control endpoints (gwctl, the launcher's
 * bulk statistics): ask every sessmgr and aggregate.
 */
#ifndef IKE_CTLC_H
#define IKE_CTLC_H

#include "ike_stats.h"

/* Number of sessmgr workers of the gateway whose run directory is run_dir
 * (written by the launcher), or -1. */
int ike_ctlc_workers(const char *run_dir);

/* Send a packed control Envelope to sessmgr `slot` (slot -1: the launcher,
 * RUN/ctl-ikegw.sock) and wait up to timeout_ms
 * for the answer. Returns the unpacked answer (free with
 * ikegw__ctl__envelope__free_unpacked) or NULL. */
struct Ikegw__Ctl__Envelope;
struct Ikegw__Ctl__Envelope *ike_ctlc_ask(void *zctx, const char *run_dir, int slot,
                                          const struct Ikegw__Ctl__Envelope *env,
                                          int timeout_ms);

/* Sum the counters of all `workers` sessmgrs into *total. Returns the number
 * of sessmgrs that did not answer. */
int ike_ctlc_stats_total(void *zctx, const char *run_dir, int workers,
                         ike_stats_t *total, int timeout_ms);

#endif /* IKE_CTLC_H */
