/*
 * test_ipc.c - ike_ipc: ROUTER and DEALER in one uv loop over ipc:// in a
 * temporary directory. Streams 10,000 two-frame messages and their echoes
 * (order and content), routes by id between two dealers that say Hello,
 * counts unroutable sends and bad framing, unpacks through an arena, and ends
 * with every handle closed (uv_loop_close succeeds; ASan checks leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "ike_ipc.h"
#include "ike_slot.h"
#include "ikegw_demux.pb-c.h"

#define STREAM_N 10000
#define HDR_LEN 48
#define PKT_LEN 320

typedef struct {
  uv_loop_t loop;
  void *zctx;
  char dir[64];
  char endpoint[128];
  uv_timer_t deadline;
  int closed;
} env_t;

static void on_deadline(uv_timer_t *t)
{
  (void)t;
  fail_msg("test did not finish within its deadline");
}

static void env_init(env_t *e)
{
  memset(e, 0, sizeof(*e));
  assert_int_equal(uv_loop_init(&e->loop), 0);
  e->zctx = zmq_ctx_new();
  assert_non_null(e->zctx);
  snprintf(e->dir, sizeof(e->dir), "/tmp/ike-ipc-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  snprintf(e->endpoint, sizeof(e->endpoint), "ipc://%s/demux.sock", e->dir);
  uv_timer_init(&e->loop, &e->deadline);
  uv_timer_start(&e->deadline, on_deadline, 20000, 0);
  uv_unref((uv_handle_t *)&e->deadline); /* fires only while the test still waits */
}

static void on_ep_closed(ike_ipc_t *ep, void *arg)
{
  assert_null(ep);
  ((env_t *)arg)->closed++;
}

/* Close the loop: every handle must be gone, as MAKE_VALGRIND_HAPPY does. */
static void env_done(env_t *e, int expect_closed)
{
  uv_close((uv_handle_t *)&e->deadline, NULL);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  assert_int_equal(e->closed, expect_closed);
  assert_int_equal(uv_loop_close(&e->loop), 0);
  assert_int_equal(zmq_ctx_term(e->zctx), 0);
  char sock[160];
  snprintf(sock, sizeof(sock), "%s/demux.sock", e->dir);
  unlink(sock);
  assert_int_equal(rmdir(e->dir), 0);
}

/* ---- streaming ---- */

typedef struct {
  env_t *env;
  ike_ipc_t *router;
  ike_ipc_t *dealer;
  uint32_t router_next;  /* next sequence number the router expects */
  uint32_t dealer_next;  /* next echo sequence number the dealer expects */
  uint32_t sent;         /* messages the dealer has sent */
  uint8_t router_id[256];
  size_t router_id_len;
} stream_t;

static void fill(uint8_t *hdr, uint8_t *pkt, uint32_t seq)
{
  memset(hdr, 0, HDR_LEN);
  memcpy(hdr, &seq, sizeof(seq));
  for (size_t i = sizeof(seq); i < HDR_LEN; i++) {
    hdr[i] = (uint8_t)(seq * 7 + i);
  }
  for (size_t i = 0; i < PKT_LEN; i++) {
    pkt[i] = (uint8_t)(seq + i * 13);
  }
}

static void check(const ike_ipc_msg_t *m, uint32_t seq)
{
  uint8_t hdr[HDR_LEN], pkt[PKT_LEN];
  fill(hdr, pkt, seq);
  assert_int_equal(m->hdr_len, HDR_LEN);
  assert_int_equal(m->pkt_len, PKT_LEN);
  assert_non_null(m->pkt);
  assert_memory_equal(m->hdr, hdr, HDR_LEN);
  assert_memory_equal(m->pkt, pkt, PKT_LEN);
}

static void stream_send_more(ike_ipc_t *ep, void *arg);

static void stream_router_rx(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  stream_t *s = arg;
  assert_non_null(m->id);
  check(m, s->router_next);
  s->router_next++;
  /* Echo from inside the callback: a send during a drain. */
  assert_int_equal(ike_ipc_send(ep, m->id, m->id_len, m->hdr, m->hdr_len, m->pkt,
                                m->pkt_len),
                   0);
}

static void stream_dealer_rx(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  stream_t *s = arg;
  assert_null(m->id);
  check(m, s->dealer_next);
  s->dealer_next++;
  if (s->dealer_next == STREAM_N) {
    ike_ipc_close(ep, on_ep_closed, s->env);
    ike_ipc_close(s->router, on_ep_closed, s->env);
  }
}

/* Send until done or the pipe is full; on -EAGAIN the writable callback
 * resumes here. */
static void stream_send_more(ike_ipc_t *ep, void *arg)
{
  stream_t *s = arg;
  uint8_t hdr[HDR_LEN], pkt[PKT_LEN];
  while (s->sent < STREAM_N) {
    fill(hdr, pkt, s->sent);
    int r = ike_ipc_send(ep, NULL, 0, hdr, sizeof(hdr), pkt, sizeof(pkt));
    if (r == -EAGAIN) {
      return;
    }
    assert_int_equal(r, 0);
    s->sent++;
  }
}

static void on_kick(uv_timer_t *t)
{
  stream_t *s = t->data;
  stream_send_more(s->dealer, s);
  uv_close((uv_handle_t *)t, NULL);
}

static void test_stream_10000(void **state)
{
  (void)state;
  env_t e;
  stream_t s = {0};
  uv_timer_t kick;
  env_init(&e);
  s.env = &e;
  assert_int_equal(ike_ipc_router_new(&e.loop, e.zctx, e.endpoint, &s.router), 0);
  assert_int_equal(ike_ipc_dealer_new(&e.loop, e.zctx, e.endpoint, "\x00\x07", 2, &s.dealer), 0);
  ike_ipc_set_recv(s.router, stream_router_rx, &s);
  ike_ipc_set_recv(s.dealer, stream_dealer_rx, &s);
  ike_ipc_set_writable(s.dealer, stream_send_more, &s);
  /* Start sending from inside the loop, like a daemon would. */
  uv_timer_init(&e.loop, &kick);
  kick.data = &s;
  uv_timer_start(&kick, on_kick, 0, 0);
  uv_run(&e.loop, UV_RUN_DEFAULT);
  assert_int_equal(s.router_next, STREAM_N);
  assert_int_equal(s.dealer_next, STREAM_N);
  env_done(&e, 2);
}

/* ---- hello and routing by id ---- */

typedef struct {
  env_t *env;
  ike_ipc_t *router;
  ike_ipc_t *dealer[2];
  int hellos;
  int connected[2];
  int got[2];           /* replies each dealer received */
  int unroutable_rc;
  uint64_t bad_before;
} route_t;

static void route_dealer_connected(ike_ipc_t *ep, void *arg)
{
  route_t *r = arg;
  int i = ep == r->dealer[0] ? 0 : 1;
  r->connected[i]++;
  /* Hello{slot, pid} on every (re)connect, as sessmgr does. */
  Ikegw__Demux__Hello hello = IKEGW__DEMUX__HELLO__INIT;
  Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
  hello.slot = (uint32_t)(i + 1);
  hello.pid = (uint32_t)getpid();
  hello.role = IKEGW__DEMUX__ROLE__ROLE_SESSMGR;
  env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_HELLO;
  env.hello = &hello;
  assert_int_equal(ike_ipc_send_pb(ep, NULL, 0, &env.base, NULL, 0), 0);
}

static void route_router_rx(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  route_t *r = arg;
  uint8_t abuf[1024];
  ike_ipc_arena_t arena;
  ike_ipc_arena_init(&arena, abuf, sizeof(abuf));
  Ikegw__Demux__Envelope *env = (Ikegw__Demux__Envelope *)ike_ipc_unpack(
      &arena, &ikegw__demux__envelope__descriptor, m->hdr, m->hdr_len);
  assert_non_null(env);
  assert_int_equal(env->msg_case, IKEGW__DEMUX__ENVELOPE__MSG_HELLO);
  assert_null(m->pkt);
  /* The routing id is the slot the Hello names. */
  assert_int_equal(ike_slot_id_decode(m->id, m->id_len), (int)env->hello->slot);
  r->hellos++;

  /* Answer that slot by id with a datagram header + packet frame. */
  Ikegw__Demux__Datagram dg = IKEGW__DEMUX__DATAGRAM__INIT;
  Ikegw__Demux__Envelope out = IKEGW__DEMUX__ENVELOPE__INIT;
  char src[32];
  snprintf(src, sizeof(src), "192.0.2.%u", env->hello->slot);
  dg.src_addr = src;
  dg.src_port = 500;
  dg.dst_addr = "198.51.100.1";
  dg.dst_port = 500;
  out.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM;
  out.datagram = &dg;
  out.id = env->hello->slot;
  uint8_t pkt[28];
  memset(pkt, (int)env->hello->slot, sizeof(pkt));
  uint8_t id[IKE_SLOT_ID_LEN];
  ike_slot_id_encode((uint16_t)env->hello->slot, id);
  assert_int_equal(ike_ipc_send_pb(ep, id, sizeof(id), &out.base, pkt, sizeof(pkt)), 0);
  ike_ipc_unpack_free(&arena, &env->base);
  assert_int_equal(arena.used, 0);

  if (r->hellos == 2) {
    /* Nobody holds slot 9: the send must fail, not vanish. */
    ike_slot_id_encode(9, id);
    r->unroutable_rc = ike_ipc_send(ep, id, sizeof(id), "x", 1, NULL, 0);
  }
}

static void route_dealer_rx(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  route_t *r = arg;
  int i = ep == r->dealer[0] ? 0 : 1;
  unsigned slot = (unsigned)i + 1;
  Ikegw__Demux__Envelope *env = (Ikegw__Demux__Envelope *)ike_ipc_unpack(
      NULL, &ikegw__demux__envelope__descriptor, m->hdr, m->hdr_len);
  assert_non_null(env);
  assert_int_equal(env->msg_case, IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM);
  assert_int_equal(env->id, slot);
  char want[32];
  snprintf(want, sizeof(want), "192.0.2.%u", slot);
  assert_string_equal(env->datagram->src_addr, want);
  assert_int_equal(m->pkt_len, 28);
  assert_int_equal(m->pkt[0], slot);
  assert_int_equal(m->pkt[27], slot);
  ike_ipc_unpack_free(NULL, &env->base);
  r->got[i]++;
  if (r->got[0] == 1 && r->got[1] == 1) {
    /* Three body frames is no framing of ours: counted as bad. */
    void *zs = ike_ipc_socket(r->dealer[0]);
    zmq_send(zs, "a", 1, ZMQ_SNDMORE);
    zmq_send(zs, "b", 1, ZMQ_SNDMORE);
    zmq_send(zs, "c", 1, 0);
    /* Then a good one, so we know when the bad one was processed. */
    zmq_send(zs, "", 0, 0);
  }
}

static void route_router_rx_after(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  route_t *r = arg;
  (void)m;
  if (ike_ipc_stats(ep)->rx_bad == r->bad_before + 1) {
    ike_ipc_close(r->dealer[0], on_ep_closed, r->env);
    ike_ipc_close(r->dealer[1], on_ep_closed, r->env);
    ike_ipc_close(ep, on_ep_closed, r->env);
  }
}

static void route_router_dispatch(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg)
{
  route_t *r = arg;
  if (r->hellos < 2) {
    route_router_rx(ep, m, arg);
    r->bad_before = ike_ipc_stats(ep)->rx_bad;
  } else {
    route_router_rx_after(ep, m, arg);
  }
}

static void test_hello_and_routing(void **state)
{
  (void)state;
  env_t e;
  route_t r = {0};
  uint8_t id[IKE_SLOT_ID_LEN];
  env_init(&e);
  r.env = &e;
  assert_int_equal(ike_ipc_router_new(&e.loop, e.zctx, e.endpoint, &r.router), 0);
  ike_ipc_set_recv(r.router, route_router_dispatch, &r);
  for (int i = 0; i < 2; i++) {
    ike_slot_id_encode((uint16_t)(i + 1), id);
    assert_int_equal(ike_ipc_dealer_new(&e.loop, e.zctx, e.endpoint, id, sizeof(id),
                                        &r.dealer[i]),
                     0);
    ike_ipc_set_recv(r.dealer[i], route_dealer_rx, &r);
    assert_int_equal(ike_ipc_set_connected(r.dealer[i], route_dealer_connected, &r), 0);
  }
  /* A ROUTER has no connection events. */
  assert_int_equal(ike_ipc_set_connected(r.router, route_dealer_connected, &r), -EINVAL);
  uv_run(&e.loop, UV_RUN_DEFAULT);
  assert_int_equal(r.hellos, 2);
  assert_int_equal(r.connected[0], 1);
  assert_int_equal(r.connected[1], 1);
  assert_int_equal(r.got[0], 1);
  assert_int_equal(r.got[1], 1);
  assert_int_equal(r.unroutable_rc, -EHOSTUNREACH);
  env_done(&e, 3);
}

static void test_bind_conflict(void **state)
{
  (void)state;
  env_t e;
  ike_ipc_t *a = NULL, *b = NULL;
  env_init(&e);
  /* Binding a tcp port twice is the deterministic conflict (ipc:// rebinding
   * unlinks the old socket file instead). */
  assert_int_equal(ike_ipc_router_new(&e.loop, e.zctx, "tcp://127.0.0.1:0", &a), 0);
  char last[128];
  size_t len = sizeof(last);
  assert_int_equal(zmq_getsockopt(ike_ipc_socket(a), ZMQ_LAST_ENDPOINT, last, &len), 0);
  assert_int_equal(ike_ipc_router_new(&e.loop, e.zctx, last, &b), -EADDRINUSE);
  assert_null(b);
  assert_int_equal(ike_ipc_router_new(&e.loop, e.zctx, "bogus://x", &b), -EPROTONOSUPPORT);
  ike_ipc_close(a, on_ep_closed, &e);
  env_done(&e, 1);
}

static void test_arena_fallback(void **state)
{
  (void)state;
  /* A message larger than the arena: the overflow comes from malloc and is
   * freed by ike_ipc_unpack_free (ASan reports a leak otherwise). */
  Ikegw__Demux__Datagram dg = IKEGW__DEMUX__DATAGRAM__INIT;
  Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
  char big[600];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  dg.src_addr = big;
  dg.dst_addr = "2001:db8::1";
  dg.dst_port = 4500;
  dg.non_esp_marker = 1;
  env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM;
  env.datagram = &dg;
  uint8_t wire[1024];
  size_t n = protobuf_c_message_pack(&env.base, wire);
  uint8_t abuf[256];
  ike_ipc_arena_t arena;
  ike_ipc_arena_init(&arena, abuf, sizeof(abuf));
  Ikegw__Demux__Envelope *got = (Ikegw__Demux__Envelope *)ike_ipc_unpack(
      &arena, &ikegw__demux__envelope__descriptor, wire, n);
  assert_non_null(got);
  assert_true(arena.used > 0);
  assert_string_equal(got->datagram->src_addr, big);
  assert_string_equal(got->datagram->dst_addr, "2001:db8::1");
  assert_true(got->datagram->non_esp_marker);
  ike_ipc_unpack_free(&arena, &got->base);
  assert_int_equal(arena.used, 0);
  /* Junk does not parse. */
  static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
  assert_null(ike_ipc_unpack(&arena, &ikegw__demux__envelope__descriptor, junk, sizeof(junk)));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_10000),
      cmocka_unit_test(test_hello_and_routing),
      cmocka_unit_test(test_bind_conflict),
      cmocka_unit_test(test_arena_fallback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
