/*
 * task_info.c - INFORMATIONAL exchanges (RFC 7296 1.4): the responder half
 * (DPD, Delete of CHILD and IKE SAs, MOBIKE notifies) and the completion of
 * our own requests (DPD, COOKIE2 check, Delete).
 *
 * Request:  HDR, SK {[N], [D], [CP], ...} -->
 * Response: <-- HDR, SK {[N], [D], [CP], ...}
 */
#include <stdlib.h>
#include <string.h>

#include "ike_log.h"
#include "ike_sa.h"

/* Remove one CHILD SA from the datapath and the SA. */
static void child_remove(ike_engine_t *e, ike_child_t *c)
{
  e->ops.child_del(e->ctx, c->spi_in, c->spi_out);
  ike_sa_child_spi_gone(e, c->spi_in);
  ike_wipe(c, sizeof *c);
  IKE_STAT(e, child_sa_deleted);
  if (e->stats.child_sa_current > 0) {
    e->stats.child_sa_current--;
  }
}

void ike_task_info_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  ike_tx_t tx;
  bool del_ike = false, rrc = false, moved = false;
  uint32_t del_in[IKE_MAX_CHILD];
  uint16_t n_del = 0;
  ike_tx_init(&tx);
  for (unsigned i = 0; i < rx->chain.n; i++) {
    const ike_pld_t *p = &rx->chain.pld[i];
    ike_notify_pld_t n;
    ike_delete_pld_t d;
    if (p->type == IKE_PLD_NOTIFY && ike_pld_notify(p, &n) == 0) {
      ike_stats_notify(&e->stats, n.type, 0);
    } else if (p->type == IKE_PLD_DELETE && ike_pld_delete(p, &d) == 0) {
      if (d.protocol == IKE_PROTO_IKE) {
        del_ike = true;
        continue;
      }
      unsigned m = d.n_spis < IKE_MAX_DEL_SPIS ? d.n_spis : IKE_MAX_DEL_SPIS;
      for (unsigned k = 0; k < m; k++) {
        ike_child_t *c = ike_sa_child_by_out(sa, d.spi[k]);
        if (c != NULL && n_del < IKE_MAX_CHILD) {
          del_in[n_del++] = c->spi_in; /* answer with our inbound SPIs (1.4.1) */
          child_remove(e, c);
        }
      }
    }
  }
  if (!del_ike) {
    moved = ike_task_mobike_r(e, sa, rx, &tx, &rrc);
  }
  if (n_del > 0) {
    ike_put_delete(&tx.mb, IKE_PROTO_ESP, 4, del_in, n_del);
  }
  ike_msg_respond(e, sa, rx, &tx);
  sa->rsp_update = moved; /* a retransmission of it counts as an update retransmit */
  if (del_ike) {
    IKE_LOG_INFO("SPI %016llx: deleted by the peer", (unsigned long long)sa->spi_r);
    ike_sa_destroy(e, sa);
    return;
  }
  if (rrc) {
    ike_task_mobike_check(e, sa);
  }
}

void ike_task_info_i_done(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  ike_req_kind_t kind = sa->req_kind;
  ike_msg_request_done(sa);
  switch (kind) {
  case IKE_REQ_REKEY_CHILD:
    ike_task_rekey_child_i_done(e, sa, rx);
    break;
  case IKE_REQ_COOKIE2:
    if (!ike_task_mobike_check_done(e, sa, rx)) {
      ike_sa_destroy(e, sa);
      return;
    }
    break;
  case IKE_REQ_DELETE:
    ike_sa_destroy(e, sa);
    return;
  default:
    break;
  }
  if (sa->rrc_pending) {
    ike_task_mobike_check(e, sa);
  }
}

/* Start a Delete of the whole IKE SA (gwctl clear, lifetime expiry). */
bool ike_task_delete_i(ike_engine_t *e, ike_sa_t *sa)
{
  ike_tx_t tx;
  ike_tx_init(&tx);
  ike_put_delete(&tx.mb, IKE_PROTO_IKE, 0, NULL, 0);
  if (sa->req != NULL) {
    /* Our window is busy: drop the pending request, the SA goes anyway. */
    ike_msg_request_done(sa);
  }
  if (ike_msg_request(e, sa, IKE_EXCH_INFORMATIONAL, &tx, IKE_REQ_DELETE) != 0) {
    ike_sa_destroy(e, sa);
    return false;
  }
  ike_sa_set_state(e, sa, IKE_SA_DELETING);
  /* Remove the CHILD SAs now: traffic stops whether or not the peer answers. */
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    if (sa->child[i].used) {
      child_remove(e, &sa->child[i]);
    }
  }
  return true;
}

/* Delete one CHILD SA of ours (hard lifetime): INFORMATIONAL { D(ESP, SPI) }.
 * The datapath entry goes at once; if our request window is busy the peer
 * learns of it from its own traffic failing (the SA is gone either way). */
void ike_task_delete_child_i(ike_engine_t *e, ike_sa_t *sa, ike_child_t *c)
{
  uint32_t spi = c->spi_in;
  child_remove(e, c);
  ike_sa_mark_dirty(e, sa);
  if (sa->req != NULL) {
    return;
  }
  ike_tx_t tx;
  ike_tx_init(&tx);
  ike_put_delete(&tx.mb, IKE_PROTO_ESP, 4, &spi, 1);
  ike_msg_request(e, sa, IKE_EXCH_INFORMATIONAL, &tx, IKE_REQ_DELETE_CHILD);
}

/* Send a DPD probe: an empty INFORMATIONAL request (2.4). */
void ike_task_dpd_i(ike_engine_t *e, ike_sa_t *sa)
{
  ike_tx_t tx;
  ike_tx_init(&tx);
  if (ike_msg_request(e, sa, IKE_EXCH_INFORMATIONAL, &tx, IKE_REQ_DPD) == 0) {
    IKE_STAT(e, dpd_sent);
  }
}
