/*
 * task_mobike.c - MOBIKE responder (RFC 4555 3.5, 3.8) as the seed
 * (SEED-mobike-asr5500.md) describes it: UPDATE_SA_ADDRESSES moves the IKE SA
 * and every CHILD SA to the address the authenticated request came from;
 * COOKIE2 is echoed; with cookie-challenge a return routability check follows.
 * NAT state is recomputed from the NAT_DETECTION payloads of the same message.
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <string.h>

#include "ike_log.h"
#include "ike_addr.h"
#include "ike_sa.h"

typedef struct mobike_req {
  bool update, no_nats;
  const ike_notify_pld_t *cookie2;
  ike_notify_pld_t c2;
} mobike_req_t;

static void collect(ike_engine_t *e, const ike_chain_t *c, mobike_req_t *r)
{
  memset(r, 0, sizeof *r);
  for (unsigned i = 0; i < c->n; i++) {
    ike_notify_pld_t n;
    if (c->pld[i].type != IKE_PLD_NOTIFY || ike_pld_notify(&c->pld[i], &n) != 0) {
      continue;
    }
    switch (n.type) {
    case IKE_N_UPDATE_SA_ADDRESSES:
      r->update = true;
      break;
    case IKE_N_NO_NATS_ALLOWED:
      r->no_nats = true;
      break;
    case IKE_N_COOKIE2:
      if (r->cookie2 == NULL) {
        r->c2 = n;
        r->cookie2 = &r->c2;
      }
      break;
    case IKE_N_ADDITIONAL_IP4_ADDRESS:
    case IKE_N_ADDITIONAL_IP6_ADDRESS:
    case IKE_N_NO_ADDITIONAL_ADDRESSES:
      /* The gateway has one address and stores none of the peer's (the seed). */
      IKE_STAT(e, mobike_additional_ignored);
      break;
    default:
      break;
    }
  }
}

/* May the peer move to this address? (UNACCEPTABLE_ADDRESSES otherwise) */
static bool address_ok(const ike_engine_t *e, const ike_sa_t *sa,
                       const struct sockaddr_storage *to)
{
  /* The SA's policy is of one family: its CHILD SAs' outer addresses and our
   * bound address are of that family. */
  if (to->ss_family != sa->path.peer.ss_family) {
    return false;
  }
  size_t alen = 0;
  const uint8_t *a = ike_addr_bytes(to, &alen);
  return !ike_config_mobike_denied(ike_sa_tmpl(e, sa), to->ss_family, a);
}

/* Re-path every CHILD SA of sa in the datapath. */
static void children_update(ike_engine_t *e, const ike_sa_t *sa, const ike_path_t *path,
                            bool encap)
{
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    const ike_child_t *c = &sa->child[i];
    if (c->used) {
      e->ops.child_update(e->ctx, c->spi_in, c->spi_out, path, encap);
    }
  }
}

/* Move the SA to the request's path. The CHILD SAs follow at once, or, when
 * a return routability check comes (hold), only once it passed: until then
 * ESP must not go to an address nobody has shown to receive at (RFC 4555
 * 3.5, 5.2), while IKE answers on the new path. */
static void apply_update(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx,
                         bool nat_peer, bool nat_local, bool hold)
{
  bool was_encap = sa->natt;
  if (hold && !sa->esp_hold) {
    /* The CHILD SAs stay where they are: the last verified path. */
    sa->esp_hold = true;
    sa->esp_path = sa->path;
    sa->esp_natt = sa->natt;
  }
  sa->path = *rx->path;
  sa->natt = rx->natt;
  sa->nat_peer = nat_peer;
  sa->nat_local = nat_local;
  sa->mobike_last_id = rx->h.msg_id;
  sa->mobike_updates++;
  if (!sa->esp_hold) {
    children_update(e, sa, &sa->path, sa->natt);
  }
  IKE_STAT(e, mobike_update_applied);
  if (was_encap != sa->natt) {
    IKE_STAT(e, mobike_nat_changed);
  }
  IKE_LOG_INFO("SPI %016llx: MOBIKE update applied (NAT peer %d local %d)%s",
               (unsigned long long)sa->spi_r, nat_peer, nat_local,
               sa->esp_hold ? ", CHILD SAs wait for the COOKIE2 check" : "");
}

void ike_task_mobike_esp_path(const ike_sa_t *sa, ike_path_t *path, bool *encap)
{
  *path = sa->esp_hold ? sa->esp_path : sa->path;
  *encap = sa->esp_hold ? sa->esp_natt : sa->natt;
}

void ike_task_mobike_rekeyed(ike_engine_t *e, ike_sa_t *old, ike_sa_t *nsa)
{
  bool checking = old->esp_hold || old->rrc_pending ||
                  (old->req != NULL && old->req_kind == IKE_REQ_COOKIE2);
  if (!checking) {
    return;
  }
  nsa->esp_hold = old->esp_hold;
  nsa->esp_path = old->esp_path;
  nsa->esp_natt = old->esp_natt;
  old->esp_hold = false;
  old->rrc_pending = false;
  ike_task_mobike_check(e, nsa);
}

/* The check passed: the CHILD SAs join the IKE SA on its path, unless a
 * newer update came meanwhile (its own check, pending, moves them). */
static void release_children(ike_engine_t *e, ike_sa_t *sa)
{
  if (!sa->esp_hold || sa->rrc_pending) {
    return;
  }
  sa->esp_hold = false;
  children_update(e, sa, &sa->path, sa->natt);
  ike_sa_mark_dirty(e, sa);
  IKE_LOG_INFO("SPI %016llx: return routability passed, CHILD SAs moved",
               (unsigned long long)sa->spi_r);
}

bool ike_task_mobike_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx, ike_tx_t *tx,
                       bool *rrc)
{
  mobike_req_t r;
  *rrc = false;
  collect(e, &rx->chain, &r);
  if (r.cookie2 != NULL && sa->mobike) {
    if (r.cookie2->len >= 8 && r.cookie2->len <= 64) {
      /* Copied as-is into the response (RFC 4555 3.8). */
      IKE_STAT(e, mobike_cookie2_rcvd);
      ike_put_notify(&tx->mb, 0, NULL, 0, IKE_N_COOKIE2, r.cookie2->data,
                     r.cookie2->len);
      ike_stats_notify(&e->stats, IKE_N_COOKIE2, 1);
    }
  }
  if (!r.update) {
    return false;
  }
  if (!sa->mobike) {
    IKE_STAT(e, mobike_update_not_mobike);
    return false;
  }
  if (sa->nat_local) {
    /* We are behind a NAT: never follow the peer (RFC 7296 2.23). */
    return false;
  }
  if (rx->h.msg_id < sa->mobike_last_id) {
    /* Older than the newest update applied (RFC 4555 3.5). */
    IKE_STAT(e, mobike_update_stale);
    return false;
  }
  if (!address_ok(e, sa, &rx->path->peer)) {
    ike_put_notify(&tx->mb, 0, NULL, 0, IKE_N_UNACCEPTABLE_ADDRESSES, NULL, 0);
    ike_stats_notify(&e->stats, IKE_N_UNACCEPTABLE_ADDRESSES, 1);
    return false;
  }
  bool nat_peer = sa->nat_peer, nat_local = sa->nat_local;
  ike_natd_check(&rx->chain, sa->spi_i, sa->spi_r, rx->path, &nat_peer, &nat_local);
  if (r.no_nats && (nat_peer || nat_local)) {
    ike_put_notify(&tx->mb, 0, NULL, 0, IKE_N_UNEXPECTED_NAT_DETECTED, NULL, 0);
    ike_stats_notify(&e->stats, IKE_N_UNEXPECTED_NAT_DETECTED, 1);
    return false;
  }
  *rrc = ike_sa_tmpl(e, sa)->mobike_cookie_challenge != 0;
  apply_update(e, sa, rx, nat_peer, nat_local, *rrc);
  /* Our NAT_DETECTION payloads let the peer recompute its side (3.5). */
  ike_natd_put(&tx->mb, sa->spi_i, sa->spi_r, rx->path);
  return true;
}

void ike_task_mobike_check(ike_engine_t *e, ike_sa_t *sa)
{
  if (sa->req != NULL) {
    /* A request of ours is in flight (DPD, ...): check once it completes. */
    sa->rrc_pending = true;
    return;
  }
  sa->rrc_pending = false;
  ike_tx_t tx;
  ike_tx_init(&tx);
  if (ike_random(sa->cookie2, sizeof sa->cookie2) != 0) {
    /* No COOKIE2 without random bytes: the CHILD SAs stay on the verified
     * path and the check is tried again after our next exchange. */
    IKE_STAT(e, fail_internal);
    sa->rrc_pending = true;
    return;
  }
  ike_put_notify(&tx.mb, 0, NULL, 0, IKE_N_COOKIE2, sa->cookie2, sizeof sa->cookie2);
  if (ike_msg_request(e, sa, IKE_EXCH_INFORMATIONAL, &tx, IKE_REQ_COOKIE2) == 0) {
    ike_stats_notify(&e->stats, IKE_N_COOKIE2, 1);
    IKE_STAT(e, mobike_rrc_started);
  }
}

/* Check the echo of our COOKIE2 (RFC 4555 3.8): the same value back passes
 * and lets the CHILD SAs move; another value, or none, fails. Returns false
 * if the session must go (the seed: deleted on an invalid response). */
bool ike_task_mobike_check_done(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx)
{
  bool found = false;
  for (unsigned i = 0; i < rx->chain.n; i++) {
    ike_notify_pld_t n;
    if (rx->chain.pld[i].type == IKE_PLD_NOTIFY &&
        ike_pld_notify(&rx->chain.pld[i], &n) == 0 && n.type == IKE_N_COOKIE2) {
      /* The peer's echo is a COOKIE2 received too (the seed's
       * "COOKIE2" / ikev2-notifrecv-cookie2 count any exchange). */
      ike_stats_notify(&e->stats, IKE_N_COOKIE2, 0);
      IKE_STAT(e, mobike_cookie2_rcvd);
      found = true;
      if (n.len == sizeof sa->cookie2 &&
          CRYPTO_memcmp(n.data, sa->cookie2, sizeof sa->cookie2) == 0) {
        IKE_STAT(e, mobike_cookie2_match);
        IKE_STAT(e, mobike_rrc_passed);
        release_children(e, sa);
        return true;
      }
      break;
    }
  }
  IKE_STAT(e, mobike_rrc_failed);
  if (!found) {
    /* No echo at all is no mismatch: a failed check of its own. */
    IKE_STAT(e, mobike_cookie2_missing);
    IKE_LOG_INFO("SPI %016llx: response without COOKIE2, deleting the session",
                 (unsigned long long)sa->spi_r);
    return false;
  }
  IKE_STAT(e, mobike_cookie2_mismatch);
  IKE_LOG_INFO("SPI %016llx: COOKIE2 mismatch, deleting the session",
               (unsigned long long)sa->spi_r);
  return false;
}
