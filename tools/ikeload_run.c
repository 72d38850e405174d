/*
 * ikeload_run.c - drives every client through the scenario's steps.
 *
 * Time: all client deadlines (ike_client_tick's next retransmission, a hold's
 * next DPD or end) sit in one indexed binary min-heap keyed by due_ms; one
 * uv_timer fires for the earliest. A client is looked at only when its
 * deadline passes or a datagram for it arrives, so an idle 100,000 costs
 * nothing per tick.
 *
 * Starts: connects (and, with --sync, every later step) are started by a
 * pacer from a FIFO: open loop at --rate per second counted from the phase's
 * start (a loop that fell behind catches up, so offered load stays what was
 * asked), or closed loop with at most --concurrency setups in flight. With
 * --sync a step begins for anyone only when every live client finished the
 * previous one (a barrier), e.g. "all established, then all move at once".
 */
#include <stdlib.h>
#include <string.h>

#include "ikeload.h"

#define LD_PACE_MS 1
#define LD_PACE_MAX 256 /* starts per pacer tick: the loop keeps reading */

ld_t *ld_global;

enum { POLL_RUNNING, POLL_DONE, POLL_FAILED };

/* --- Timer heap --- */

static void heap_put(ld_t *ld, uint32_t pos, uint32_t idx)
{
  ld->heap[pos] = idx;
  ld->c[idx].heap_pos = pos;
}

static void sift_up(ld_t *ld, uint32_t pos)
{
  uint32_t idx = ld->heap[pos];
  uint64_t due = ld->c[idx].due_ms;
  while (pos > 0) {
    uint32_t up = (pos - 1) / 2;
    if (ld->c[ld->heap[up]].due_ms <= due) {
      break;
    }
    heap_put(ld, pos, ld->heap[up]);
    pos = up;
  }
  heap_put(ld, pos, idx);
}

static void sift_down(ld_t *ld, uint32_t pos)
{
  uint32_t idx = ld->heap[pos];
  uint64_t due = ld->c[idx].due_ms;
  for (;;) {
    uint32_t l = 2 * pos + 1, m = pos;
    uint64_t best = due;
    if (l < ld->heap_n && ld->c[ld->heap[l]].due_ms < best) {
      m = l;
      best = ld->c[ld->heap[l]].due_ms;
    }
    if (l + 1 < ld->heap_n && ld->c[ld->heap[l + 1]].due_ms < best) {
      m = l + 1;
    }
    if (m == pos) {
      break;
    }
    heap_put(ld, pos, ld->heap[m]);
    pos = m;
  }
  heap_put(ld, pos, idx);
}

static void heap_set(ld_t *ld, uint32_t idx, uint64_t due)
{
  ld_client_t *c = &ld->c[idx];
  c->due_ms = due;
  if (c->heap_pos == LD_NO_POS) {
    heap_put(ld, ld->heap_n++, idx);
    sift_up(ld, c->heap_pos);
    return;
  }
  sift_up(ld, c->heap_pos);
  sift_down(ld, c->heap_pos);
}

static void heap_del(ld_t *ld, uint32_t idx)
{
  uint32_t pos = ld->c[idx].heap_pos;
  if (pos == LD_NO_POS) {
    return;
  }
  ld->c[idx].heap_pos = LD_NO_POS;
  uint32_t last = ld->heap[--ld->heap_n];
  if (pos == ld->heap_n) {
    return;
  }
  heap_put(ld, pos, last);
  sift_up(ld, pos);
  sift_down(ld, ld->c[last].heap_pos);
}

/* --- Steps --- */

static void drive(ld_t *ld, uint32_t i, uint64_t now);
static void pacer_fill(ld_t *ld, double rate);

static bool is_exchange(unsigned kind)
{
  return kind != LD_STEP_HOLD && kind != LD_STEP_WAIT;
}

static void check_end(ld_t *ld)
{
  if (ld->finished + ld->failed == ld->o.n && !ld->stopping) {
    ld->stopping = true;
    ld->t_end_ns = ld_now_ns();
    uv_stop(ld->loop);
  }
}

/* --sync: release step b when every live client arrived at it. */
static void check_barrier(ld_t *ld)
{
  unsigned b = ld->barrier_step + 1;
  if (!ld->o.sync || ld->stopping || b >= ld->o.n_steps || ld->alive == 0 || ld->arrived[b] < ld->alive) {
    return;
  }
  ld_sample_gw(ld, (int)b - 1);
  ld->barrier_step = b;
  for (uint32_t i = 0; i < ld->o.n; i++) {
    if (ld->c[i].phase == LD_PH_BARRIER) {
      ld->c[i].phase = LD_PH_QUEUED;
      ld->q[(ld->q_head + ld->q_n++) % ld->o.n] = i;
    }
  }
  pacer_fill(ld, ld->o.step_rate);
}

static void leave_setup(ld_t *ld, ld_client_t *c)
{
  if (c->setup_inflight) {
    c->setup_inflight = false;
    ld->inflight_setup--;
  }
}

static void fail(ld_t *ld, uint32_t i, uint16_t code)
{
  ld_client_t *c = &ld->c[i];
  unsigned kind = ld->o.steps[c->step].kind;
  if (c->phase == LD_PH_FAILED || c->phase == LD_PH_DONE) {
    return;
  }
  ld_cause_add(ld, (uint8_t)kind, code);
  ld->lat[kind].failed++;
  leave_setup(ld, c);
  if (c->phase == LD_PH_RUN) {
    ld->running--;
  }
  c->phase = LD_PH_FAILED;
  ld->failed++;
  ld->alive--;
  heap_del(ld, i);
  check_barrier(ld);
  check_end(ld);
}

static int first_child(const ike_client_info_t *in)
{
  for (int k = 0; k < IKE_CLIENT_MAX_CHILD; k++) {
    if (in->child[k].used) {
      return k;
    }
  }
  return -1;
}

static int begin_move(ld_t *ld, uint32_t i, const ld_step_t *st)
{
  ld_client_t *c = &ld->c[i];
  const ike_client_info_t *in = ike_client_info(c->cl);
  if (!in->mobike) {
    return -(int)LD_ERR_NO_MOBIKE;
  }
  bool nat = st->flags & LD_MOVE_NAT;
  unsigned to = nat ? 2 : (c->at == 1 ? 0 : 1);
  ike_path_t p = in->path;
  struct sockaddr_in *loc = (struct sockaddr_in *)&p.local;
  loc->sin_addr.s_addr = htonl(ld_addr(ld, i, to));
  loc->sin_port = ld->net.port_be[nat ? 1 : 0];
  ike_client_move_opts_t mo = {.natt = true, .forge_natd_src = nat,
                               .cookie2 = (st->flags & LD_MOVE_COOKIE2) != 0};
  c->mark = in->updates_done;
  c->at = (uint8_t)to;
  return ike_client_move(c->cl, &p, &mo) == 0 ? 0 : -(int)LD_ERR_LOCAL;
}

/* Start step c->step of client i. */
static void step_begin(ld_t *ld, uint32_t i, uint64_t now)
{
  ld_client_t *c = &ld->c[i];
  const ld_step_t *st = &ld->o.steps[c->step];
  const ike_client_info_t *in = ike_client_info(c->cl);
  int rc = 0;
  /* The request functions take no time: ike_client times a new request from
   * the last time it saw, which after a barrier or a hold is long past (the
   * request would be retransmitted at once). */
  (void)ike_client_tick(c->cl, now);
  c->phase = LD_PH_RUN;
  ld->running++;
  c->err_before = in->error;
  c->t0_ns = ld_now_ns();
  switch (st->kind) {
  case LD_STEP_CONNECT:
    ld->started++;
    ld->inflight_setup++;
    c->setup_inflight = true;
    rc = ike_client_start(c->cl, now) == 0 ? 0 : -(int)LD_ERR_LOCAL;
    break;
  case LD_STEP_HOLD:
  case LD_STEP_WAIT:
    c->hold_end_ms = now + st->ms;
    c->next_dpd_ms = st->kind == LD_STEP_HOLD && ld->o.dpd_ms ? now + ld->o.dpd_ms
                                                                : UINT64_MAX;
    c->dpd_busy = false;
    break;
  case LD_STEP_DPD:
    rc = ike_client_dpd(c->cl) == 0 ? 0 : -(int)LD_ERR_LOCAL;
    break;
  case LD_STEP_MOVE:
    rc = begin_move(ld, i, st);
    break;
  case LD_STEP_REKEY_IKE:
    c->mark = in->spi_i;
    rc = ike_client_rekey_ike(c->cl) == 0 ? 0 : -(int)LD_ERR_LOCAL;
    break;
  case LD_STEP_REKEY_CHILD: {
    int k = first_child(in);
    if (k < 0) {
      rc = -(int)LD_ERR_INCOMPLETE;
      break;
    }
    c->mark = in->child[k].spi_in;
    rc = ike_client_rekey_child(c->cl, (unsigned)k) == 0 ? 0 : -(int)LD_ERR_LOCAL;
    break;
  }
  case LD_STEP_DISCONNECT:
    rc = ike_client_delete(c->cl) == 0 ? 0 : -(int)LD_ERR_LOCAL;
    break;
  default:
    break;
  }
  if (rc != 0) {
    fail(ld, i, (uint16_t)-rc);
    return;
  }
  drive(ld, i, now);
}

/* The hold step: DPD every dpd_ms until its end. */
static int poll_hold(ld_t *ld, ld_client_t *c, uint64_t now, bool busy)
{
  if (c->dpd_busy && !busy) {
    c->dpd_busy = false;
    ld_lat_add(&ld->lat[LD_STEP_DPD], c->t0_ns, ld_now_ns());
    c->next_dpd_ms = now + ld->o.dpd_ms;
  }
  if (busy) {
    return POLL_RUNNING;
  }
  if (now >= c->hold_end_ms) {
    return POLL_DONE;
  }
  if (now >= c->next_dpd_ms) {
    c->t0_ns = ld_now_ns();
    c->dpd_busy = ike_client_dpd(c->cl) == 0;
    c->next_dpd_ms = c->dpd_busy ? UINT64_MAX : now + ld->o.dpd_ms;
  }
  return POLL_RUNNING;
}

static bool child_rekeyed(const ike_client_info_t *in, uint32_t old_spi)
{
  bool fresh = false;
  for (int k = 0; k < IKE_CLIENT_MAX_CHILD; k++) {
    if (in->child[k].used && in->child[k].spi_in == old_spi) {
      return false;
    }
    fresh |= in->child[k].used;
  }
  return fresh;
}

/* Where step c->step stands; *code: the cause of a failure. */
static int step_poll(ld_t *ld, ld_client_t *c, uint64_t now, uint16_t *code)
{
  const ike_client_info_t *in = ike_client_info(c->cl);
  unsigned kind = ld->o.steps[c->step].kind;
  bool busy = ike_client_busy(c->cl);
  if (in->state == IKE_CLIENT_FAILED) {
    *code = in->error ? in->error : LD_ERR_INCOMPLETE;
    return POLL_FAILED;
  }
  if (kind == LD_STEP_CONNECT) {
    if (in->state == IKE_CLIENT_CLOSED) {
      *code = LD_ERR_CLOSED;
      return POLL_FAILED;
    }
    return in->state == IKE_CLIENT_ESTABLISHED ? POLL_DONE : POLL_RUNNING;
  }
  if (in->state == IKE_CLIENT_CLOSED) {
    *code = LD_ERR_CLOSED;
    return kind == LD_STEP_DISCONNECT && !busy ? POLL_DONE : POLL_FAILED;
  }
  if (in->error != c->err_before) {
    *code = in->error;
    return POLL_FAILED;
  }
  *code = LD_ERR_INCOMPLETE;
  switch (kind) {
  case LD_STEP_HOLD:
    return poll_hold(ld, c, now, busy);
  case LD_STEP_WAIT:
    return now >= c->hold_end_ms ? POLL_DONE : POLL_RUNNING;
  case LD_STEP_DPD:
    return busy ? POLL_RUNNING : POLL_DONE;
  case LD_STEP_MOVE:
    return busy ? POLL_RUNNING : in->updates_done > c->mark ? POLL_DONE : POLL_FAILED;
  case LD_STEP_REKEY_IKE:
    return busy ? POLL_RUNNING : in->spi_i != c->mark ? POLL_DONE : POLL_FAILED;
  case LD_STEP_REKEY_CHILD:
    return busy ? POLL_RUNNING
                : child_rekeyed(in, (uint32_t)c->mark) ? POLL_DONE : POLL_FAILED;
  default: /* disconnect answered without closing */
    return busy ? POLL_RUNNING : POLL_FAILED;
  }
}

/* Step finished: record it, go on (or wait at the barrier / finish). */
static void step_done(ld_t *ld, uint32_t i, uint64_t now)
{
  ld_client_t *c = &ld->c[i];
  unsigned kind = ld->o.steps[c->step].kind;
  if (is_exchange(kind)) {
    ld_lat_add(&ld->lat[kind], c->t0_ns, ld_now_ns());
  } else {
    ld->lat[kind].ok++;
  }
  if (kind == LD_STEP_CONNECT) {
    ld->established++;
    leave_setup(ld, c);
  }
  ld->running--;
  c->step++;
  if (c->step == ld->o.n_steps) {
    c->step--; /* stays on its last step for reporting */
    c->phase = LD_PH_DONE;
    ld->finished++;
    heap_del(ld, i);
    check_end(ld);
    return;
  }
  if (ld->o.sync) {
    c->phase = LD_PH_BARRIER;
    heap_del(ld, i);
    ld->arrived[c->step]++;
    check_barrier(ld);
    return;
  }
  step_begin(ld, i, now);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
  return a < b ? a : b;
}

/* Look at client i now: retransmit if due, advance its steps, reschedule. */
static void drive(ld_t *ld, uint32_t i, uint64_t now)
{
  ld_client_t *c = &ld->c[i];
  if (c->phase != LD_PH_RUN) {
    return;
  }
  int64_t t = ike_client_tick(c->cl, now);
  uint16_t code = 0;
  int r = step_poll(ld, c, now, &code);
  if (r == POLL_FAILED) {
    fail(ld, i, code);
    return;
  }
  if (r == POLL_DONE) {
    step_done(ld, i, now); /* may begin the next step, which drives again */
    return;
  }
  t = ike_client_tick(c->cl, now); /* a hold may just have sent a DPD */
  uint64_t due = t >= 0 ? now + (uint64_t)t : UINT64_MAX;
  unsigned kind = ld->o.steps[c->step].kind;
  if (kind == LD_STEP_HOLD || kind == LD_STEP_WAIT) {
    due = min_u64(due, min_u64(c->hold_end_ms, c->next_dpd_ms));
  }
  if (due == UINT64_MAX) {
    heap_del(ld, i); /* waits for a datagram (or the deadline) */
    return;
  }
  heap_set(ld, i, due > now ? due : now + 1);
}

void ld_run_poke(ld_t *ld, uint32_t i)
{
  drive(ld, i, uv_now(ld->loop));
}

static void on_timer(uv_timer_t *t)
{
  ld_t *ld = t->data;
  uv_update_time(ld->loop);
  uint64_t now = uv_now(ld->loop);
  while (ld->heap_n > 0 && ld->c[ld->heap[0]].due_ms <= now && !ld->stopping) {
    uint32_t i = ld->heap[0];
    heap_del(ld, i);
    drive(ld, i, now);
  }
}

void ld_run_arm(ld_t *ld)
{
  if (ld->heap_n == 0 || ld->stopping) {
    uv_timer_stop(&ld->timer);
    return;
  }
  uint64_t now = uv_now(ld->loop), due = ld->c[ld->heap[0]].due_ms;
  uv_timer_start(&ld->timer, on_timer, due > now ? due - now : 0, 0);
}

/* --- Pacer --- */

static void on_pacer(uv_timer_t *t)
{
  ld_t *ld = t->data;
  uv_update_time(ld->loop);
  uint64_t now = uv_now(ld->loop);
  uint64_t budget = LD_PACE_MAX;
  if (ld->pace_rate > 0) {
    uint64_t allowed = (uint64_t)(ld->pace_rate * (double)(now - ld->pace_t0_ms) / 1000.0) + 1;
    budget = allowed > ld->pace_started ? min_u64(allowed - ld->pace_started, budget) : 0;
  }
  /* Closed loop: connects, and with --sync every exchange step, keep at most
   * --concurrency exchanges in flight. */
  unsigned kind = ld->o.steps[ld->barrier_step].kind;
  unsigned busy = ld->barrier_step == 0 ? ld->inflight_setup : ld->running;
  if (ld->o.concurrency > 0 && is_exchange(kind)) {
    budget = min_u64(budget, busy < ld->o.concurrency ? ld->o.concurrency - busy : 0);
  }
  while (budget-- > 0 && ld->q_n > 0 && !ld->stopping) {
    uint32_t i = ld->q[ld->q_head];
    ld->q_head = (ld->q_head + 1) % ld->o.n;
    ld->q_n--;
    ld->pace_started++;
    step_begin(ld, i, now);
  }
  if (ld->q_n == 0) {
    uv_timer_stop(&ld->pacer);
  }
}

static void pacer_fill(ld_t *ld, double rate)
{
  ld->pace_rate = rate;
  uv_update_time(ld->loop); /* the cached time may predate creating every client */
  ld->pace_t0_ms = uv_now(ld->loop);
  ld->pace_started = 0;
  if (ld->q_n > 0) {
    uv_timer_start(&ld->pacer, on_pacer, 0, LD_PACE_MS);
  }
}

/* --- Setup --- */

static int client_new(ld_t *ld, uint32_t i)
{
  static const ike_client_ops_t ops = {ld_net_send};
  ike_client_cfg_t cfg;
  char id[64];
  memset(&cfg, 0, sizeof cfg);
  snprintf(id, sizeof id, "load%u.example.net", i);
  cfg.psk = ld->o.psk;
  cfg.id_type = IKE_ID_FQDN;
  cfg.id = id;
  cfg.ike = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
                          .prf = IKE_PRF_HMAC_SHA2_256, .dh = ld->o.dh};
  cfg.ke_group = ld->o.ke_group;
  cfg.esp = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256};
  cfg.mobike = ld->o.mobike;
  struct sockaddr_in *loc = (struct sockaddr_in *)&cfg.path.local;
  loc->sin_family = AF_INET;
  loc->sin_addr.s_addr = htonl(ld_addr(ld, i, 0));
  loc->sin_port = ld->net.port_be[0];
  memcpy(&cfg.path.peer, &ld->gw, sizeof ld->gw);
  cfg.natt_port = ld->o.natt_port;
  cfg.retrans_ms = ld->o.retrans_ms;
  cfg.max_retrans = ld->o.max_retrans;
  ld_client_t *c = &ld->c[i];
  c->heap_pos = LD_NO_POS;
  if (ike_client_new(&cfg, &ops, c, &c->cl) != 0) {
    return -1;
  }
  ike_client_set_answer(c->cl, ld->o.answer);
  return 0;
}

int ld_run_init(ld_t *ld)
{
  ld_global = ld;
  ld->c = calloc(ld->o.n, sizeof *ld->c);
  ld->heap = calloc(ld->o.n, sizeof *ld->heap);
  ld->q = calloc(ld->o.n, sizeof *ld->q);
  if (ld->c == NULL || ld->heap == NULL || ld->q == NULL) {
    return -1;
  }
  for (uint32_t i = 0; i < ld->o.n; i++) {
    if (client_new(ld, i) != 0) {
      return -1;
    }
  }
  uv_timer_init(ld->loop, &ld->timer);
  uv_timer_init(ld->loop, &ld->pacer);
  ld->timer.data = ld->pacer.data = ld;
  ld->alive = ld->o.n;
  return 0;
}

void ld_run_start(ld_t *ld)
{
  for (uint32_t i = 0; i < ld->o.n; i++) {
    ld->q[i] = i;
  }
  ld->q_head = 0;
  ld->q_n = ld->o.n;
  ld->t_start_ns = ld_now_ns();
  pacer_fill(ld, ld->o.rate);
}

void ld_run_stop(ld_t *ld)
{
  ld->stopping = true; /* no barrier releases, no second uv_stop */
  for (uint32_t i = 0; i < ld->o.n; i++) {
    if (ld->c[i].phase != LD_PH_DONE && ld->c[i].phase != LD_PH_FAILED) {
      fail(ld, i, LD_ERR_DEADLINE);
    }
  }
  if (ld->t_end_ns == 0) {
    ld->t_end_ns = ld_now_ns();
  }
  uv_stop(ld->loop);
}

void ld_run_free(ld_t *ld)
{
  if (ld->c != NULL) {
    for (uint32_t i = 0; i < ld->o.n; i++) {
      ike_client_free(ld->c[i].cl);
    }
  }
  free(ld->c);
  free(ld->heap);
  free(ld->q);
  for (unsigned k = 0; k < LD_STEP_N; k++) {
    free(ld->lat[k].us);
  }
}
