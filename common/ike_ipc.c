/*
 * ike_ipc.c - see ike_ipc.h.
 *
 * Why the drain rules: libzmq signals ZMQ_FD only when its internal command
 * pipe changes, and any zmq call on the socket (recv, send, ZMQ_EVENTS) may
 * consume that signal. A message that arrived while we were sending therefore
 * leaves no trace on the fd; only ZMQ_EVENTS tells. So every send that is not
 * already inside a drain checks ZMQ_EVENTS and schedules one, and a drain that
 * stops before EAGAIN (batch cap) keeps a uv_idle running so it resumes.
 */
#include "ike_ipc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define IPC_MAX_FRAMES 3 /* [id] hdr [pkt] */

struct ike_ipc {
  uv_loop_t *loop;
  void *zctx;
  void *sock;
  int type;                 /* ZMQ_ROUTER or ZMQ_DEALER */
  uv_poll_t poll;           /* on the socket's ZMQ_FD */
  uv_idle_t idle;           /* resumes a capped or deferred drain */
  void *mon;                /* monitor PAIR socket, NULL when not monitored */
  uv_poll_t mon_poll;       /* on the monitor's ZMQ_FD */
  int open_handles;         /* uv handles not yet closed */
  bool closing;
  bool draining;
  bool want_write;          /* a send hit EAGAIN and writable_cb waits */
  bool paused;              /* ike_ipc_set_paused: input stays in the socket */
  ike_ipc_recv_cb recv_cb;
  void *recv_arg;
  ike_ipc_event_cb writable_cb;
  void *writable_arg;
  ike_ipc_event_cb connected_cb;
  void *connected_arg;
  ike_ipc_event_cb closed_cb;
  void *closed_arg;
  ike_ipc_stats_t stats;
};

/* High-water mark of every socket: IKE_IPC_HWM, or IKEGW_IPC_HWM from the
 * environment (1..IKE_IPC_HWM * 64), so tests can fill a pipe at once. */
static int ipc_hwm(void)
{
  const char *v = getenv("IKEGW_IPC_HWM");
  long n = v ? strtol(v, NULL, 10) : 0;
  return n >= 1 && n <= IKE_IPC_HWM * 64L ? (int)n : IKE_IPC_HWM;
}

static int zmq_events(void *sock)
{
  int ev = 0;
  size_t len = sizeof(ev);
  if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) != 0) {
    return 0;
  }
  return ev;
}

/* Receive one multipart message and hand it to the callback.
 * Returns 1 when a message was consumed, 0 on EAGAIN, -errno on error. */
static int ipc_recv_one(ike_ipc_t *ep)
{
  zmq_msg_t f[IPC_MAX_FRAMES];
  zmq_msg_t extra;
  int nf = 0;
  bool bad = false;
  int more = 1;

  while (more) {
    zmq_msg_t *m = nf < IPC_MAX_FRAMES ? &f[nf] : &extra;
    zmq_msg_init(m);
    if (zmq_msg_recv(m, ep->sock, ZMQ_DONTWAIT) < 0) {
      int err = errno;
      zmq_msg_close(m);
      for (int i = 0; i < nf && i < IPC_MAX_FRAMES; i++) {
        zmq_msg_close(&f[i]);
      }
      /* Later parts of a multipart message are delivered atomically with
       * the first, so EAGAIN here means nothing was pending. */
      return err == EAGAIN ? 0 : -err;
    }
    more = zmq_msg_more(m);
    if (m == &extra) {
      bad = true; /* more frames than any of our channels uses */
      zmq_msg_close(m);
    } else {
      nf++;
    }
  }

  int body = ep->type == ZMQ_ROUTER ? 1 : 0; /* index of the header frame */
  if (nf <= body) {
    bad = true;
  }
  if (bad) {
    ep->stats.rx_bad++;
  } else if (ep->recv_cb != NULL) {
    ike_ipc_msg_t msg = {0};
    if (body == 1) {
      msg.id = zmq_msg_data(&f[0]);
      msg.id_len = zmq_msg_size(&f[0]);
    }
    msg.hdr = zmq_msg_data(&f[body]);
    msg.hdr_len = zmq_msg_size(&f[body]);
    if (nf > body + 1) {
      msg.pkt = zmq_msg_data(&f[body + 1]);
      msg.pkt_len = zmq_msg_size(&f[body + 1]);
    }
    ep->stats.rx_msgs++;
    ep->recv_cb(ep, &msg, ep->recv_arg);
  } else {
    ep->stats.rx_msgs++;
  }
  for (int i = 0; i < nf; i++) {
    zmq_msg_close(&f[i]);
  }
  return 1;
}

/* Call the writable callback if a send is waiting and the socket has room. */
static void ipc_check_writable(ike_ipc_t *ep)
{
  if (ep->want_write && !ep->closing && (zmq_events(ep->sock) & ZMQ_POLLOUT)) {
    ike_ipc_event_cb cb = ep->writable_cb;
    ep->want_write = false;
    if (cb != NULL) {
      cb(ep, ep->writable_arg);
    }
  }
}

static void on_idle(uv_idle_t *h);

/* Receive until EAGAIN or the batch cap; schedule the rest. */
static void ipc_drain(ike_ipc_t *ep)
{
  unsigned n = 0;
  bool capped = false;

  if (ep->draining || ep->closing) {
    return; /* a send from inside our own callback: the loop below continues */
  }
  ep->draining = true;
  ep->stats.rx_wakeups++;
  while (!ep->closing && !ep->paused) {
    if (n == IKE_IPC_BATCH) {
      capped = true;
      break;
    }
    int r = ipc_recv_one(ep);
    if (r <= 0) {
      break;
    }
    n++;
  }
  ep->draining = false;
  if (ep->closing) {
    return;
  }
  if (capped) {
    ep->stats.rx_capped++;
  }
  ipc_check_writable(ep);
  if (ep->closing) {
    return;
  }
  /* A writable callback may have sent and so eaten the fd's edge. */
  if (capped || (!ep->paused && (zmq_events(ep->sock) & ZMQ_POLLIN)) ||
      (ep->want_write && (zmq_events(ep->sock) & ZMQ_POLLOUT))) {
    uv_idle_start(&ep->idle, on_idle); /* restart of a running idle is a no-op */
  } else {
    uv_idle_stop(&ep->idle);
  }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
  (void)status;
  (void)events;
  ipc_drain(h->data);
}

static void mon_drain(ike_ipc_t *ep);
static int ipc_monitor(ike_ipc_t *ep);

static void on_idle(uv_idle_t *h)
{
  ike_ipc_t *ep = h->data;
  uv_idle_stop(h);
  mon_drain(ep);
  ipc_drain(ep);
}

static void on_handle_closed(uv_handle_t *h)
{
  ike_ipc_t *ep = h->data;
  if (--ep->open_handles > 0) {
    return;
  }
  if (ep->mon != NULL) {
    zmq_socket_monitor(ep->sock, NULL, 0);
    zmq_close(ep->mon);
  }
  zmq_close(ep->sock);
  ike_ipc_event_cb cb = ep->closed_cb;
  void *arg = ep->closed_arg;
  free(ep);
  if (cb != NULL) {
    cb(NULL, arg);
  }
}

/* Start the uv handles of a fresh endpoint whose socket is set up. */
static int ipc_start(ike_ipc_t *ep)
{
  int fd;
  size_t len = sizeof(fd);
  if (zmq_getsockopt(ep->sock, ZMQ_FD, &fd, &len) != 0) {
    return -errno;
  }
  int r = uv_poll_init(ep->loop, &ep->poll, fd);
  if (r != 0) {
    return r;
  }
  ep->poll.data = ep;
  ep->open_handles++;
  uv_idle_init(ep->loop, &ep->idle);
  ep->idle.data = ep;
  ep->open_handles++;
  uv_poll_start(&ep->poll, UV_READABLE, on_poll);
  /* Messages may already be queued: drain once at start. */
  uv_idle_start(&ep->idle, on_idle);
  return 0;
}

static int ipc_new(uv_loop_t *loop, void *zctx, int type, ike_ipc_t **out)
{
  ike_ipc_t *ep = calloc(1, sizeof(*ep));
  if (ep == NULL) {
    return -ENOMEM;
  }
  ep->loop = loop;
  ep->zctx = zctx;
  ep->type = type;
  ep->sock = zmq_socket(zctx, type);
  if (ep->sock == NULL) {
    int err = errno;
    free(ep);
    return -err;
  }
  int linger = 0;
  int hwm = ipc_hwm();
  zmq_setsockopt(ep->sock, ZMQ_LINGER, &linger, sizeof(linger));
  zmq_setsockopt(ep->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
  zmq_setsockopt(ep->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
  *out = ep;
  return 0;
}

void ike_ipc_set_paused(ike_ipc_t *ep, bool paused)
{
  if (ep->paused == paused) {
    return;
  }
  ep->paused = paused;
  if (!paused && !ep->closing) {
    /* Input kept while paused gave no new fd edge: drain now. */
    uv_idle_start(&ep->idle, on_idle);
  }
}

/* Undo ipc_new before any uv handle exists. */
static void ipc_abort(ike_ipc_t *ep)
{
  zmq_close(ep->sock);
  free(ep);
}

int ike_ipc_router_new(uv_loop_t *loop, void *zctx, const char *endpoint, ike_ipc_t **out)
{
  ike_ipc_t *ep = NULL;
  int r = ipc_new(loop, zctx, ZMQ_ROUTER, &ep);
  if (r != 0) {
    return r;
  }
  int one = 1;
  zmq_setsockopt(ep->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
  if (zmq_bind(ep->sock, endpoint) != 0) {
    r = -errno;
    ipc_abort(ep);
    return r;
  }
  r = ipc_start(ep);
  if (r != 0) {
    ipc_abort(ep);
    return r;
  }
  *out = ep;
  return 0;
}

int ike_ipc_dealer_new(uv_loop_t *loop, void *zctx, const char *endpoint,
                       const void *id, size_t id_len, ike_ipc_t **out)
{
  ike_ipc_t *ep = NULL;
  int r;
  if (id_len > 255 || (id_len > 0 && id == NULL)) {
    return -EINVAL;
  }
  r = ipc_new(loop, zctx, ZMQ_DEALER, &ep);
  if (r != 0) {
    return r;
  }
  if (id_len > 0 && zmq_setsockopt(ep->sock, ZMQ_ROUTING_ID, id, id_len) != 0) {
    r = -errno;
    ipc_abort(ep);
    return r;
  }
  r = ipc_start(ep);
  if (r != 0) {
    ipc_abort(ep);
    return r;
  }
  /* From here on the uv handles exist: failures close asynchronously. */
  r = ipc_monitor(ep);
  if (r == 0 && zmq_connect(ep->sock, endpoint) != 0) {
    r = -errno;
  }
  if (r != 0) {
    ike_ipc_close(ep, NULL, NULL);
    return r;
  }
  *out = ep;
  return 0;
}

void ike_ipc_set_recv(ike_ipc_t *ep, ike_ipc_recv_cb cb, void *arg)
{
  ep->recv_cb = cb;
  ep->recv_arg = arg;
}

void ike_ipc_set_writable(ike_ipc_t *ep, ike_ipc_event_cb cb, void *arg)
{
  ep->writable_cb = cb;
  ep->writable_arg = arg;
}

/* Monitor events arrive as [u16 event, u32 value][endpoint address]. They
 * are rare, so the monitor is drained to EAGAIN without a cap. */
static void mon_drain(ike_ipc_t *ep)
{
  while (ep->mon != NULL && !ep->closing) {
    zmq_msg_t ev;
    zmq_msg_init(&ev);
    if (zmq_msg_recv(&ev, ep->mon, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&ev);
      return;
    }
    uint16_t code = 0;
    if (zmq_msg_size(&ev) >= sizeof(code)) {
      memcpy(&code, zmq_msg_data(&ev), sizeof(code));
    }
    while (zmq_msg_more(&ev)) {
      zmq_msg_close(&ev);
      zmq_msg_init(&ev);
      if (zmq_msg_recv(&ev, ep->mon, ZMQ_DONTWAIT) < 0) {
        break;
      }
    }
    zmq_msg_close(&ev);
    if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && ep->connected_cb != NULL) {
      ep->connected_cb(ep, ep->connected_arg);
    }
  }
}

static void on_mon_poll(uv_poll_t *h, int status, int events)
{
  (void)status;
  (void)events;
  mon_drain(h->data);
}

/* DEALER: watch handshakes from before the connect, so none is missed. */
static int ipc_monitor(ike_ipc_t *ep)
{
  char addr[64];
  int fd;
  size_t len = sizeof(fd);
  int linger = 0;

  snprintf(addr, sizeof(addr), "inproc://ike-ipc-mon-%p", (void *)ep);
  if (zmq_socket_monitor(ep->sock, addr, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0) {
    return -errno;
  }
  ep->mon = zmq_socket(ep->zctx, ZMQ_PAIR);
  if (ep->mon == NULL) {
    return -errno;
  }
  zmq_setsockopt(ep->mon, ZMQ_LINGER, &linger, sizeof(linger));
  if (zmq_connect(ep->mon, addr) != 0 ||
      zmq_getsockopt(ep->mon, ZMQ_FD, &fd, &len) != 0) {
    return -errno;
  }
  int r = uv_poll_init(ep->loop, &ep->mon_poll, fd);
  if (r != 0) {
    return r;
  }
  ep->mon_poll.data = ep;
  ep->open_handles++;
  uv_poll_start(&ep->mon_poll, UV_READABLE, on_mon_poll);
  return 0;
}

int ike_ipc_set_connected(ike_ipc_t *ep, ike_ipc_event_cb cb, void *arg)
{
  if (ep->mon == NULL) {
    return -EINVAL; /* not a DEALER */
  }
  ep->connected_cb = cb;
  ep->connected_arg = arg;
  return 0;
}

/* Count a send failure and turn errno into our return value. */
static int ipc_send_failed(ike_ipc_t *ep, int err)
{
  if (err == EHOSTUNREACH) {
    ep->stats.tx_unroutable++;
  } else if (err == EAGAIN) {
    ep->stats.tx_again++;
    ep->want_write = ep->writable_cb != NULL;
  } else {
    ep->stats.tx_err++;
  }
  return -err;
}

/* After a send: input that arrived meanwhile may have lost its fd edge.
 * Rather than ask ZMQ_EVENTS after every send (a syscall-free but costly
 * command-pipe check), schedule one drain for this loop iteration: the idle
 * handle keeps the next poll from blocking, and the drain's receive-until-
 * EAGAIN is the same check, done once per iteration instead of per send. */
static void ipc_after_send(ike_ipc_t *ep)
{
  if (!ep->draining && !ep->closing) {
    uv_idle_start(&ep->idle, on_idle);
  }
}

/* Send the routing id frame if this is a ROUTER. */
static int ipc_send_id(ike_ipc_t *ep, const void *id, size_t id_len)
{
  if (ep->type != ZMQ_ROUTER) {
    return 0;
  }
  if (id == NULL || id_len == 0) {
    ep->stats.tx_err++;
    return -EINVAL;
  }
  if (zmq_send(ep->sock, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
    return ipc_send_failed(ep, errno);
  }
  return 0;
}

int ike_ipc_send(ike_ipc_t *ep, const void *id, size_t id_len, const void *hdr,
                 size_t hdr_len, const void *pkt, size_t pkt_len)
{
  int r = ipc_send_id(ep, id, id_len);
  if (r != 0) {
    return r;
  }
  /* Once the first frame is accepted, the rest of the message is too. */
  int more = pkt != NULL ? ZMQ_SNDMORE : 0;
  if (zmq_send(ep->sock, hdr, hdr_len, more | ZMQ_DONTWAIT) < 0 ||
      (pkt != NULL && zmq_send(ep->sock, pkt, pkt_len, ZMQ_DONTWAIT) < 0)) {
    r = ipc_send_failed(ep, errno);
    ipc_after_send(ep);
    return r;
  }
  ep->stats.tx_msgs++;
  ipc_after_send(ep);
  return 0;
}

int ike_ipc_send_pb(ike_ipc_t *ep, const void *id, size_t id_len,
                    const ProtobufCMessage *msg, const void *pkt, size_t pkt_len)
{
  zmq_msg_t m;
  size_t n = protobuf_c_message_get_packed_size(msg);
  if (zmq_msg_init_size(&m, n) != 0) {
    ep->stats.tx_err++;
    return -ENOMEM;
  }
  protobuf_c_message_pack(msg, zmq_msg_data(&m));
  int r = ipc_send_id(ep, id, id_len);
  if (r != 0) {
    zmq_msg_close(&m);
    return r;
  }
  int more = pkt != NULL ? ZMQ_SNDMORE : 0;
  if (zmq_msg_send(&m, ep->sock, more | ZMQ_DONTWAIT) < 0 ||
      (pkt != NULL && zmq_send(ep->sock, pkt, pkt_len, ZMQ_DONTWAIT) < 0)) {
    r = ipc_send_failed(ep, errno);
    zmq_msg_close(&m); /* no-op after a successful zmq_msg_send */
    ipc_after_send(ep);
    return r;
  }
  zmq_msg_close(&m);
  ep->stats.tx_msgs++;
  ipc_after_send(ep);
  return 0;
}

const ike_ipc_stats_t *ike_ipc_stats(const ike_ipc_t *ep)
{
  return &ep->stats;
}

void *ike_ipc_socket(ike_ipc_t *ep)
{
  return ep->sock;
}

void ike_ipc_close(ike_ipc_t *ep, ike_ipc_event_cb cb, void *arg)
{
  if (ep == NULL || ep->closing) {
    return;
  }
  ep->closing = true;
  ep->closed_cb = cb;
  ep->closed_arg = arg;
  uv_poll_stop(&ep->poll);
  uv_idle_stop(&ep->idle);
  uv_close((uv_handle_t *)&ep->poll, on_handle_closed);
  uv_close((uv_handle_t *)&ep->idle, on_handle_closed);
  if (ep->mon_poll.data == ep) { /* initialised */
    uv_poll_stop(&ep->mon_poll);
    uv_close((uv_handle_t *)&ep->mon_poll, on_handle_closed);
  }
}

/* --- arena allocator for protobuf-c unpacking --- */

static void *arena_alloc(void *data, size_t size)
{
  ike_ipc_arena_t *a = data;
  size_t need = (size + 15u) & ~(size_t)15u;
  if (need >= size && a->cap - a->used >= need) {
    void *p = a->buf + a->used;
    a->used += need;
    return p;
  }
  return malloc(size);
}

static void arena_free(void *data, void *ptr)
{
  ike_ipc_arena_t *a = data;
  uint8_t *p = ptr;
  if (p != NULL && (p < a->buf || p >= a->buf + a->cap)) {
    free(p);
  }
}

void ike_ipc_arena_init(ike_ipc_arena_t *a, void *buf, size_t cap)
{
  /* Align the start so every block handed out is 16-byte aligned. */
  uintptr_t start = ((uintptr_t)buf + 15u) & ~(uintptr_t)15u;
  size_t skip = (size_t)(start - (uintptr_t)buf);
  a->buf = (uint8_t *)start;
  a->cap = cap > skip ? cap - skip : 0;
  a->used = 0;
  a->alloc.alloc = arena_alloc;
  a->alloc.free = arena_free;
  a->alloc.allocator_data = a;
}

ProtobufCMessage *ike_ipc_unpack(ike_ipc_arena_t *a, const ProtobufCMessageDescriptor *desc,
                                 const void *data, size_t len)
{
  return protobuf_c_message_unpack(desc, a != NULL ? &a->alloc : NULL, len, data);
}

void ike_ipc_unpack_free(ike_ipc_arena_t *a, ProtobufCMessage *msg)
{
  if (msg != NULL) {
    protobuf_c_message_free_unpacked(msg, a != NULL ? &a->alloc : NULL);
  }
  if (a != NULL) {
    a->used = 0;
  }
}
