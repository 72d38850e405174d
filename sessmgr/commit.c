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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ike_crypto.h"
#include "ike_log.h"
#include "ike_store_util.h"
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
  it->deferred = false;
  it->pkt_len = pkt != NULL ? pkt_len : 0;
  if (pkt != NULL && pkt_len > 0) {
    memcpy(q->buf + q->len, pkt, pkt_len);
    q->len += pkt_len;
  }
  q->secret |= secret;
}

/* An endpoint whose pipe is full: retried when it signals room (any wake-up
 * of the loop runs the next flush). */
static void on_writable(ike_ipc_t *ep, void *arg)
{
  (void)ep;
  (void)arg; /* the loop iteration this runs in ends with a flush */
}

static bool blocked(ike_ipc_t *const *list, size_t n, const ike_ipc_t *ep)
{
  for (size_t i = 0; i < n; i++) {
    if (list[i] == ep) {
      return true;
    }
  }
  return false;
}

/* Send what the iteration queued. A message meeting a full pipe (-EAGAIN at
 * the high-water mark) stays queued, with every later one for the same
 * endpoint (order per endpoint is kept), and goes at a later flush: no state
 * change towards ipsecmgr or answer towards demux is dropped. While the queue
 * holds more than SESSMGR_OUTQ_HIGH messages, input from demux is paused (the
 * source of new work); it resumes below SESSMGR_OUTQ_LOW. */
static void outq_flush(sessmgr_t *sm)
{
  sessmgr_outq_t *q = &sm->outq;
  ike_ipc_t *full[4];
  size_t n_full = 0, keep = 0, keep_len = 0;
  uint64_t deferred = 0, lost = 0;
  for (size_t i = 0; i < q->n; i++) {
    sessmgr_out_t it = q->items[i];
    const uint8_t *h = q->buf + it.off;
    int rc = blocked(full, n_full, it.ep)
                 ? -EAGAIN
                 : ike_ipc_send(it.ep, NULL, 0, h, it.hdr_len, it.has_pkt ? h + it.hdr_len : NULL,
                                it.pkt_len);
    if (rc == -EAGAIN) {
      if (!blocked(full, n_full, it.ep) && n_full < 4) {
        full[n_full++] = it.ep;
        ike_ipc_set_writable(it.ep, on_writable, sm);
      }
      /* Keep it: move its bytes to the front of what is kept. */
      size_t bytes = it.hdr_len + it.pkt_len;
      memmove(q->buf + keep_len, h, bytes);
      it.off = keep_len;
      keep_len += bytes;
      deferred += !it.deferred;
      it.deferred = true;
      q->items[keep++] = it;
    } else if (rc != 0) {
      lost++; /* no peer to take it: counted, never silent */
    }
  }
  if (q->secret) {
    /* Keys of what was sent (and stale copies) are wiped behind the kept. */
    ike_wipe(q->buf + keep_len, q->len - keep_len);
    q->secret = keep > 0;
  }
  q->n = keep;
  q->len = keep_len;
  if (deferred > 0) {
    ike_engine_stat_add(sm->engine, IKE_STAT_ipc_tx_deferred, deferred);
  }
  if (lost > 0) {
    ike_engine_stat_add(sm->engine, IKE_STAT_ipc_tx_lost, lost);
    IKE_LOG_WARN("%llu IPC messages could not be sent (peer unknown or error)",
                 (unsigned long long)lost);
  }
  if (sm->demux != NULL && !sm->demux_paused && q->n > SESSMGR_OUTQ_HIGH) {
    sm->demux_paused = true;
    ike_ipc_set_paused(sm->demux, true);
    ike_engine_stat_add(sm->engine, IKE_STAT_ipc_backpressure, 1);
    IKE_LOG_WARN("output queue at %zu messages: input from demux paused", q->n);
  } else if (sm->demux_paused && q->n < SESSMGR_OUTQ_LOW) {
    sm->demux_paused = false;
    ike_ipc_set_paused(sm->demux, false);
    IKE_LOG_INFO("output queue at %zu messages: input from demux resumed", q->n);
  }
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
  sm->sync_pending = true;
  if (sm->cfg.ckpt_sync_ms == 0) {
    ike_engine_stat_add(sm->engine, IKE_STAT_ckpt_syncs, 1); /* the commit synced */
  }
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
  outq_flush(sm);
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

/* --- durability (DESIGN.md "Recovery": a stated policy) ---
 * "checkpoint sync every N ms": commits are written without fsync and a
 * thread of libuv's pool flushes the file every N ms when something was
 * committed, so the loop never waits for the disk. A host crash loses at most
 * the last N ms of changes (those sessions' peers see an older state: a
 * retransmission or a renegotiation). N = 0: every commit is flushed before
 * the iteration's packets leave (nothing committed is lost; the loop waits
 * for the disk once per iteration). */

static void sync_work(uv_work_t *w)
{
  sessmgr_t *sm = w->data;
  sm->sync_rc = ike_ckpt_store_sync(sm->store);
}

static void sync_done(uv_work_t *w, int status)
{
  sessmgr_t *sm = w->data;
  sm->sync_busy = false;
  if (status == 0 && sm->sync_rc == 0) {
    ike_engine_stat_add(sm->engine, IKE_STAT_ckpt_syncs, 1);
  } else {
    sm->sync_pending = true; /* try again at the next tick */
    ike_engine_count_ckpt_failure(sm->engine);
  }
}

static void on_sync_timer(uv_timer_t *t)
{
  sessmgr_t *sm = t->data;
  if (sm->store == NULL || sm->sync_busy || !sm->sync_pending) {
    return;
  }
  sm->sync_pending = false;
  sm->sync_busy = true;
  sm->sync_req.data = sm;
  if (uv_queue_work(sm->loop, &sm->sync_req, sync_work, sync_done) != 0) {
    sm->sync_busy = false;
    sm->sync_pending = true;
  }
}

/* Open the store; one that cannot be opened or read, or whose last restore
 * never finished (the process died reading it), is moved aside and the slot
 * starts empty: an ERROR line and ckpt_store_reset say so. Returns the
 * number of SAs restored. */
static size_t open_and_restore(sessmgr_t *sm, restore_ctx_t *rc)
{
  char path[4096], moved[4200] = "";
  const char *why = NULL;
  if (ike_ckpt_store_file(sm->cfg.state_dir, sm->slot, path, sizeof path) != 0) {
    return 0;
  }
  if (ike_store_load_begin(path)) {
    why = "its last restore never finished";
  } else if (ike_ckpt_store_open(sm->cfg.state_dir, sm->slot, &sm->store) != 0) {
    why = "it cannot be opened";
  } else {
    ike_engine_set_checkpointing(sm->engine, true);
    if (ike_ckpt_store_foreach(sm->store, restore_one, rc) < 0) {
      why = "it cannot be read to the end";
      ike_ckpt_store_close(sm->store);
      sm->store = NULL;
    }
  }
  if (why != NULL) {
    if (ike_store_move_aside(path, moved, sizeof moved) != 0) {
      snprintf(moved, sizeof moved, "(not moved: %s)", strerror(errno));
    }
    IKE_LOG_ERR("checkpoint store %s: %s; moved to %s, this slot starts without "
                "its sessions", path, why, moved);
    ike_engine_stat_add(sm->engine, IKE_STAT_ckpt_store_reset, 1);
    /* Whatever the engine took from the bad store goes (never half a slot). */
    if (rc->ok > 0) {
      ike_engine_clear_all_silently(sm->engine);
      rc->ok = 0;
    }
    if (sm->store == NULL &&
        ike_ckpt_store_open(sm->cfg.state_dir, sm->slot, &sm->store) != 0) {
      sm->store = NULL;
    }
    ike_engine_set_checkpointing(sm->engine, sm->store != NULL);
  }
  ike_store_load_end(path);
  return rc->ok;
}

void sessmgr_ckpt_start(sessmgr_t *sm)
{
  uv_update_time(sm->loop);
  sm->wall_off = wall_ms() - (int64_t)uv_now(sm->loop);
  restore_ctx_t rc = {.sm = sm};
  uint64_t t0 = uv_hrtime();
  open_and_restore(sm, &rc);
  if (sm->store == NULL) {
    IKE_LOG_ERR("no checkpoint store in %s: sessions of this slot will not survive "
                "a restart", sm->cfg.state_dir);
  } else {
    for (size_t i = 0; i < rc.n_bad; i++) {
      ike_ckpt_store_del(sm->store, rc.bad[i]);
    }
    if (ike_ckpt_store_commit(sm->store) != 0) {
      ike_ckpt_store_abort(sm->store);
    }
    ike_ckpt_store_set_sync(sm->store, sm->cfg.ckpt_sync_ms == 0);
    IKE_LOG_INFO("checkpoint store %s: %zu IKE SAs restored, %zu refused, in %.1f ms; "
                 "sync %s", ike_ckpt_store_path(sm->store), rc.ok, rc.refused,
                 (double)(uv_hrtime() - t0) / 1e6,
                 sm->cfg.ckpt_sync_ms == 0 ? "at every commit" : "periodic");
  }
  free(rc.bad);
  uv_prepare_init(sm->loop, &sm->commit);
  sm->commit.data = sm;
  uv_prepare_start(&sm->commit, on_prepare);
  uv_timer_init(sm->loop, &sm->sync_timer);
  sm->sync_timer.data = sm;
  if (sm->store != NULL && sm->cfg.ckpt_sync_ms > 0) {
    uv_timer_start(&sm->sync_timer, on_sync_timer, sm->cfg.ckpt_sync_ms,
                   sm->cfg.ckpt_sync_ms);
  }
}

void sessmgr_ckpt_stop(sessmgr_t *sm)
{
  /* What the last iteration changed was committed by its prepare callback;
   * a graceful stop keeps the records, so a restart restores the sessions. */
  uv_timer_stop(&sm->sync_timer);
  if (sm->store != NULL && !sm->sync_busy) {
    ike_ckpt_store_sync(sm->store); /* a graceful stop leaves nothing unflushed */
  }
  ike_ckpt_store_close(sm->store);
  sm->store = NULL;
  if (sm->outq.buf != NULL) {
    ike_wipe(sm->outq.buf, sm->outq.cap);
  }
  free(sm->outq.buf);
  free(sm->outq.items);
  memset(&sm->outq, 0, sizeof sm->outq);
}
