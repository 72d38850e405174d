/*
 * ike_msg.c - protected messages of an IKE SA: sealing into SK, the response
 * cache (RFC 7296 2.1: a retransmitted request gets the same bytes again) and
 * the retransmission of our own requests.
 */
#include <stdlib.h>
#include <string.h>

#include "ike_log.h"
#include "ike_sa.h"

void ike_tx_init(ike_tx_t *tx)
{
  ike_mb_init_inner(&tx->mb, tx->inner, sizeof tx->inner);
}

int ike_msg_seal(ike_sa_t *sa, const ike_hdr_t *h, ike_tx_t *tx, uint8_t *out,
                 size_t cap, size_t *out_len)
{
  uint8_t first = IKE_PLD_NONE;
  int inner_len = ike_mb_finish(&tx->mb, &first);
  if (inner_len < 0) {
    return inner_len;
  }
  ike_mb_t mb;
  ike_mb_init(&mb, out, cap, h);
  size_t pld_off = ike_put_sk_hdr(&mb, first);
  if (ike_wr_err(&mb.w) != 0) {
    return -IKE_E_NOSPACE;
  }
  return ike_sk_seal(&sa->sk_out, out, cap, pld_off, pld_off + IKE_PLD_HDR_LEN,
                     tx->inner, (size_t)inner_len, out_len);
}

static void msg_hdr(const ike_sa_t *sa, ike_hdr_t *h, uint8_t exchange,
                    uint8_t flags, uint32_t msg_id)
{
  memset(h, 0, sizeof *h);
  h->spi_i = sa->spi_i;
  h->spi_r = sa->spi_r;
  h->version = IKE_MAJOR_VERSION << 4;
  h->exchange = exchange;
  h->flags = flags; /* never I: the peer is the original initiator */
  h->msg_id = msg_id;
}

void ike_msg_respond(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx,
                     ike_tx_t *tx)
{
  ike_hdr_t h;
  uint8_t out[IKE_MAX_MSG];
  size_t len = 0;
  msg_hdr(sa, &h, rx->h.exchange, IKE_FLAG_RESPONSE, rx->h.msg_id);
  int rc = ike_msg_seal(sa, &h, tx, out, sizeof out, &len);
  if (rc != 0) {
    IKE_LOG_ERR("SPI %016llx: cannot seal %s response: %s",
                (unsigned long long)sa->spi_r, ike_exchange_name(h.exchange),
                ike_strerror(rc));
    IKE_STAT(e, fail_internal);
    return;
  }
  uint8_t *copy = realloc(sa->rsp, len);
  if (copy != NULL) {
    memcpy(copy, out, len);
    sa->rsp = copy;
    sa->rsp_len = len;
    sa->rsp_id = rx->h.msg_id;
    sa->rsp_update = false; /* set by the INFORMATIONAL task after this */
    sa->has_rsp_req_digest =
        ike_msg_digest(rx->raw, rx->raw_len, sa->rsp_req_digest) == 0;
  }
  sa->peer_next_id = rx->h.msg_id + 1;
  ike_sa_mark_dirty(e, sa);
  ike_stats_exchange(&e->stats, h.exchange, 1, 1);
  /* Answer where the request came from, even if that is an old address after
   * a MOBIKE move (RFC 4555 3.5). */
  e->ops.send(e->ctx, rx->path, rx->natt, out, len);
}

int ike_msg_digest(const uint8_t *msg, size_t len, uint8_t out[IKE_REQ_DIGEST_LEN])
{
  return ike_sha256(NULL, 0, msg, len, out);
}

static uint64_t retransmit_delay(const ike_engine_t *e, const ike_sa_t *sa)
{
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  uint64_t base = t->retrans_timeout_ms ? t->retrans_timeout_ms : 2000;
  unsigned shift = sa->req_tries < 6 ? sa->req_tries : 6;
  return base << shift; /* exponential back-off (RFC 7296 2.4) */
}

int ike_msg_request(ike_engine_t *e, ike_sa_t *sa, uint8_t exchange,
                    ike_tx_t *tx, ike_req_kind_t kind)
{
  ike_hdr_t h;
  uint8_t out[IKE_MAX_MSG];
  size_t len = 0;
  if (sa->req != NULL) {
    return -IKE_E_BAD_SYNTAX; /* window of one: one request of ours at a time */
  }
  msg_hdr(sa, &h, exchange, 0, sa->our_next_id);
  int rc = ike_msg_seal(sa, &h, tx, out, sizeof out, &len);
  if (rc != 0) {
    return rc;
  }
  sa->req = malloc(len);
  if (sa->req == NULL) {
    return -IKE_E_NOMEM;
  }
  memcpy(sa->req, out, len);
  sa->req_len = len;
  sa->req_id = sa->our_next_id++;
  sa->req_kind = kind;
  sa->req_tries = 0;
  sa->req_next_ms = e->now_ms + retransmit_delay(e, sa);
  ike_timer_schedule(e, sa);
  ike_sa_mark_dirty(e, sa);
  ike_stats_exchange(&e->stats, exchange, 0, 1);
  e->ops.send(e->ctx, &sa->path, sa->natt, out, len);
  return 0;
}

/* Our request is answered: forget it. */
void ike_msg_request_done(ike_sa_t *sa)
{
  free(sa->req);
  sa->req = NULL;
  sa->req_len = 0;
  sa->req_kind = IKE_REQ_NONE;
}

/* Retransmit our request if due. Returns false if the peer is dead. */
bool ike_msg_retransmit(ike_engine_t *e, ike_sa_t *sa)
{
  if (sa->req == NULL || e->now_ms < sa->req_next_ms) {
    return true;
  }
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  if (sa->req_tries >= t->max_retrans) {
    IKE_LOG_INFO("SPI %016llx: no answer after %u retransmissions, peer is dead",
                 (unsigned long long)sa->spi_r, (unsigned)sa->req_tries);
    return false;
  }
  sa->req_tries++;
  sa->req_next_ms = e->now_ms + retransmit_delay(e, sa);
  ike_sa_mark_dirty(e, sa);
  IKE_STAT(e, retrans_req_sent);
  /* Always to the current path: after a move, pending requests follow it. */
  e->ops.send(e->ctx, &sa->path, sa->natt, sa->req, sa->req_len);
  return true;
}

void ike_msg_init_error(ike_engine_t *e, const ike_rx_t *rx, uint16_t notify,
                        const uint8_t *data, size_t len)
{
  ike_hdr_t h;
  uint8_t out[512];
  ike_mb_t mb;
  memset(&h, 0, sizeof h);
  h.spi_i = rx->h.spi_i;
  h.version = IKE_MAJOR_VERSION << 4;
  h.exchange = IKE_EXCH_IKE_SA_INIT;
  h.flags = IKE_FLAG_RESPONSE;
  ike_mb_init(&mb, out, sizeof out, &h);
  ike_put_notify(&mb, 0, NULL, 0, notify, data, len);
  int n = ike_mb_finish(&mb, NULL);
  if (n < 0) {
    return;
  }
  ike_stats_notify(&e->stats, notify, 1);
  ike_stats_exchange(&e->stats, IKE_EXCH_IKE_SA_INIT, 1, 1);
  e->ops.send(e->ctx, rx->path, rx->natt, out, (size_t)n);
}
