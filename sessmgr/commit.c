/*
 * commit.c - sessmgr's checkpoints (DESIGN.md "Recovery"): restore at start,
 * and "group commit, then send" in every loop iteration.
 *
 * The engine callbacks (dispatch.c) do not send: they pack their message into
 * the output queue. A uv_prepare handle runs once per loop iteration, after
 * every callback of the iteration and before the loop blocks: it writes the
 * records of all IKE SAs the iteration changed in one LMDB transaction, and
 * only then sends the queue. So a peer never sees an answer whose state a
 * restarted sessmgr would not have, and ipsecmgr never holds a CHILD SA the
 * checkpoint does not know (a replay after restart would drop it anyway).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_crypto.h"
#include "ike_log.h"
#include "sessmgr.h"

/* CPU time of this thread in µs: a commit's cost without the time other
 * processes ran on our core meanwhile. */
static uint64_t cpu_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- output queue --- */

static bool outq_reserve(sessmgr_outq_t *q, size_t bytes)
{
  if (q->n == q->items_cap) {
    size_t ncap = q->items_cap ? q->items_cap * 2 : 256;
    sessmgr_out_t *ni = realloc(q->items, ncap * sizeof *ni);
    if (ni == NULL) {
      return false;
    }
    q->items = ni;
    q->items_cap = ncap;
  }
  if (q->len + bytes > q->cap) {
    size_t ncap = q->cap ? q->cap : 65536;
    while (ncap < q->len + bytes) {
      ncap *= 2;
    }
    uint8_t *nb = malloc(ncap);
    if (nb == NULL) {
      return false;
    }
    if (q->buf != NULL) {
      memcpy(nb, q->buf, q->len);
      ike_wipe(q->buf, q->len);
      free(q->buf);
    }
    q->buf = nb;
    q->cap = ncap;
  }
  return true;
}

void sessmgr_queue_pb(sessmgr_t *sm, ike_ipc_t *ep, const ProtobufCMessage *msg,
                      const void *pkt, size_t pkt_len, bool secret)
{
  sessmgr_outq_t *q = &sm->outq;
  size_t hlen = protobuf_c_message_get_packed_size(msg);
  if (!outq_reserve(q, hlen + pkt_len)) {
    /* No memory for the queue: send now rather than lose the message. */
    IKE_LOG_WARN("output queue: no memory, sending before the checkpoint");
    ike_ipc_send_pb(ep, NULL, 0, msg, pkt, pkt_len);
    return;
  }
  sessmgr_out_t *it = &q->items[q->n++];
  it->ep = ep;
  it->off = q->len;
  it->hdr_len = protobuf_c_message_pack(msg, q->buf + q->len);
  q->len += it->hdr_len;
  it->has_pkt = pkt != NULL;
  it->pkt_len = pkt != NULL ? pkt_len : 0;
  if (pkt != NULL && pkt_len > 0) {
    memcpy(q->buf + q->len, pkt, pkt_len);
    q->len += pkt_len;
  }
  q->secret |= secret;
}

static void outq_flush(sessmgr_outq_t *q)
{
  for (size_t i = 0; i < q->n; i++) {
    const sessmgr_out_t *it = &q->items[i];
    const uint8_t *h = q->buf + it->off;
    ike_ipc_send(it->ep, NULL, 0, h, it->hdr_len, it->has_pkt ? h + it->hdr_len : NULL,
                 it->pkt_len);
  }
  if (q->secret) {
    ike_wipe(q->buf, q->len);
    q->secret = false;
  }
  q->n = 0;
  q->len = 0;
}

/* --- group commit --- */

static int put_record(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  ike_ckpt_store_t *st = arg;
  return rec != NULL ? ike_ckpt_store_put(st, spi, rec, len) : ike_ckpt_store_del(st, spi);
}

/* Write the changed records; false if the commit failed (changes kept). */
static bool commit(sessmgr_t *sm)
{
  if (ike_engine_dirty_count(sm->engine) == 0) {
    return true;
  }
  if (sm->store == NULL) {
    ike_engine_take_dirty(sm->engine, false, 0);
    return true;
  }
  uint64_t t0 = cpu_us();
  int64_t off = sm->wall_off;
  int rc = ike_engine_foreach_dirty(sm->engine, off, put_record, sm->store);
  if (rc == 0) {
    rc = ike_ckpt_store_commit(sm->store);
  } else {
    ike_ckpt_store_abort(sm->store);
  }
  if (rc != 0) {
    static uint64_t last_log;
    ike_engine_count_ckpt_failure(sm->engine);
    if (uv_now(sm->loop) - last_log >= 10000 || last_log == 0) {
      last_log = uv_now(sm->loop);
      IKE_LOG_ERR("checkpoint commit failed (%s); %zu changes kept for the next try",
                  ike_strerror(rc), ike_engine_dirty_count(sm->engine));
    }
    return false;
  }
  ike_engine_take_dirty(sm->engine, true, cpu_us() - t0);
  return true;
}

void sessmgr_commit_and_flush(sessmgr_t *sm)
{
  if (!commit(sm) && ike_engine_dirty_count(sm->engine) > 0) {
    /* Retry once at once: a full map was grown for exactly this batch. */
    commit(sm);
  }
  /* Even when the store fails the sessions go on (counted: fail_checkpoint);
   * only their restart safety is at risk until a commit succeeds. */
  outq_flush(&sm->outq);
}

static void on_prepare(uv_prepare_t *h)
{
  sessmgr_commit_and_flush(h->data);
}

/* --- restore --- */

typedef struct restore_ctx {
  sessmgr_t *sm;
  size_t ok, refused;
  uint64_t *bad;          /* SPIs of refused records, deleted afterwards */
  size_t n_bad, bad_cap;
} restore_ctx_t;

static int restore_one(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  restore_ctx_t *rc = arg;
  int r = ike_engine_restore_sa(rc->sm->engine, rec, len, rc->sm->wall_off);
  if (r == 0) {
    rc->ok++;
    return 0;
  }
  rc->refused++;
  IKE_LOG_WARN("checkpoint record %016llx refused (%s); deleting it",
               (unsigned long long)spi, ike_strerror(r));
  if (rc->n_bad == rc->bad_cap) {
    size_t ncap = rc->bad_cap ? rc->bad_cap * 2 : 16;
    uint64_t *nb = realloc(rc->bad, ncap * sizeof *nb);
    if (nb == NULL) {
      return 0;
    }
    rc->bad = nb;
    rc->bad_cap = ncap;
  }
  rc->bad[rc->n_bad++] = spi;
  return 0;
}

void sessmgr_ckpt_start(sessmgr_t *sm)
{
  uv_update_time(sm->loop);
  sm->wall_off = wall_ms() - (int64_t)uv_now(sm->loop);
  if (ike_ckpt_store_open(sm->cfg.state_dir, sm->slot, &sm->store) != 0) {
    IKE_LOG_WARN("no checkpoint store in %s: sessions of this slot will not survive "
                 "a restart", sm->cfg.state_dir);
    sm->store = NULL;
  } else {
    restore_ctx_t rc = {.sm = sm};
    uint64_t t0 = uv_hrtime();
    ike_engine_set_checkpointing(sm->engine, true);
    ike_ckpt_store_foreach(sm->store, restore_one, &rc);
    for (size_t i = 0; i < rc.n_bad; i++) {
      ike_ckpt_store_del(sm->store, rc.bad[i]);
    }
    if (ike_ckpt_store_commit(sm->store) != 0) {
      ike_ckpt_store_abort(sm->store);
    }
    free(rc.bad);
    IKE_LOG_INFO("checkpoint store %s: %zu IKE SAs restored, %zu refused, in %.1f ms",
                 ike_ckpt_store_path(sm->store), rc.ok, rc.refused,
                 (double)(uv_hrtime() - t0) / 1e6);
  }
  uv_prepare_init(sm->loop, &sm->commit);
  sm->commit.data = sm;
  uv_prepare_start(&sm->commit, on_prepare);
}

void sessmgr_ckpt_stop(sessmgr_t *sm)
{
  /* What the last iteration changed was committed by its prepare callback;
   * a graceful stop keeps the records, so a restart restores the sessions. */
  ike_ckpt_store_close(sm->store);
  sm->store = NULL;
  if (sm->outq.buf != NULL) {
    ike_wipe(sm->outq.buf, sm->outq.cap);
  }
  free(sm->outq.buf);
  free(sm->outq.items);
  memset(&sm->outq, 0, sizeof sm->outq);
}
