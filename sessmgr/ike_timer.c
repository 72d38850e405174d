/*
 * ike_timer.c - the timers of one worker: a binary min-heap of IKE SAs keyed
 * by each SA's next deadline (expiry, retransmission, DPD). One entry per SA,
 * no timer object per SA and no scan: O(log n) per change, O(1) to find the
 * next deadline. Deadlines that move later are handled lazily (the SA is
 * checked when its old deadline comes and re-queued); every place that makes
 * a deadline earlier calls ike_timer_schedule().
 */
#include <stdlib.h>

#include "ike_sa.h"

/* The SA's earliest deadline, 0 if it has none. */
static uint64_t deadline(const ike_sa_t *sa)
{
  uint64_t d = 0;
  /* DPD runs only on an established SA (sa_timers); a rekeyed or deleting
   * one keeping an old DPD time would be due again at once, forever. */
  uint64_t c[3] = {sa->expire_ms, sa->req ? sa->req_next_ms : 0,
                   sa->state == IKE_SA_ESTABLISHED ? sa->dpd_next_ms : 0};
  for (int i = 0; i < 3; i++) {
    if (c[i] != 0 && (d == 0 || c[i] < d)) {
      d = c[i];
    }
  }
  return d;
}

static void put(ike_engine_t *e, size_t i, ike_sa_t *sa)
{
  e->heap[i] = sa;
  sa->heap_idx = (uint32_t)i + 1;
}

static void sift_up(ike_engine_t *e, size_t i)
{
  ike_sa_t *sa = e->heap[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (e->heap[p]->sched_ms <= sa->sched_ms) {
      break;
    }
    put(e, i, e->heap[p]);
    i = p;
  }
  put(e, i, sa);
}

static void sift_down(ike_engine_t *e, size_t i)
{
  ike_sa_t *sa = e->heap[i];
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    uint64_t best = sa->sched_ms;
    if (l < e->heap_n && e->heap[l]->sched_ms < best) {
      m = l;
      best = e->heap[l]->sched_ms;
    }
    if (l + 1 < e->heap_n && e->heap[l + 1]->sched_ms < best) {
      m = l + 1;
    }
    if (m == i) {
      break;
    }
    put(e, i, e->heap[m]);
    i = m;
  }
  put(e, i, sa);
}

void ike_timer_remove(ike_engine_t *e, ike_sa_t *sa)
{
  if (sa->heap_idx == 0) {
    return;
  }
  size_t i = sa->heap_idx - 1;
  sa->heap_idx = 0;
  e->heap_n--;
  if (i == e->heap_n) {
    return;
  }
  ike_sa_t *moved = e->heap[e->heap_n];
  put(e, i, moved);
  sift_up(e, i);
  sift_down(e, moved->heap_idx - 1);
}

void ike_timer_schedule(ike_engine_t *e, ike_sa_t *sa)
{
  uint64_t d = deadline(sa);
  ike_sa_mark_dirty(e, sa); /* deadlines are part of the checkpoint record */
  if (d == 0) {
    ike_timer_remove(e, sa);
    return;
  }
  if (sa->heap_idx != 0) {
    if (d >= sa->sched_ms) {
      return; /* later or equal: checked lazily at the old time */
    }
    sa->sched_ms = d;
    sift_up(e, sa->heap_idx - 1);
    return;
  }
  if (e->heap_n == e->heap_cap) {
    size_t ncap = e->heap_cap ? e->heap_cap * 2 : 1024;
    ike_sa_t **nh = realloc(e->heap, ncap * sizeof *nh);
    if (nh == NULL) {
      return; /* the SA keeps no timer: it expires when next touched */
    }
    e->heap = nh;
    e->heap_cap = ncap;
  }
  sa->sched_ms = d;
  e->heap[e->heap_n++] = sa;
  sift_up(e, e->heap_n - 1);
}

ike_sa_t *ike_timer_pop_due(ike_engine_t *e, uint64_t now_ms)
{
  if (e->heap_n == 0 || e->heap[0]->sched_ms > now_ms) {
    return NULL;
  }
  ike_sa_t *sa = e->heap[0];
  ike_timer_remove(e, sa);
  return sa;
}

uint64_t ike_timer_next(const ike_engine_t *e)
{
  return e->heap_n ? e->heap[0]->sched_ms : 0;
}

void ike_timer_free(ike_engine_t *e)
{
  free(e->heap);
  e->heap = NULL;
  e->heap_n = e->heap_cap = 0;
}
