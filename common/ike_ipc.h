/*
 * ike_ipc.h - libuv + ZeroMQ glue: one endpoint = one ZMQ socket in a uv loop.
 *
 * ZMQ_FD is edge-triggered: it signals "something changed", not "a message is
 * waiting". So an endpoint drains the socket (receives until EAGAIN) after
 * every wake-up of its uv_poll, after every send that finds input pending, and
 * once at start. Work per wake-up is capped (IKE_IPC_BATCH messages); the rest
 * is picked up by a uv_idle handle on the next loop iteration, so one busy
 * peer cannot starve the loop's other handles (libuv's UDP reader stops at 32
 * datagrams for the same reason).
 *
 * Framing (DESIGN.md "Inter-process messages"): a message is a header frame
 * (a protobuf) and an optional packet frame; on a ROUTER the peer's routing id
 * comes first. Sends never block: ZMQ_DONTWAIT always, and a full pipe or an
 * unknown peer is an error the caller counts.
 *
 * Handles are freed only in their close callbacks: ike_ipc_close() starts the
 * close and the endpoint is gone once its callback ran.
 */
#ifndef IKE_IPC_H
#define IKE_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <uv.h>

#define IKE_IPC_BATCH 256u   /* messages received per wake-up before yielding */
#define IKE_IPC_HWM 16384    /* ZMQ send/receive high-water marks, in messages */

typedef struct ike_ipc ike_ipc_t;

/* One received message; every pointer is valid only during the callback. */
typedef struct ike_ipc_msg {
  const uint8_t *id;    /* routing id of the sender (ROUTER only; else NULL) */
  size_t id_len;        /* its length */
  const uint8_t *hdr;   /* header frame (a packed protobuf) */
  size_t hdr_len;       /* its length (may be 0) */
  const uint8_t *pkt;   /* packet frame, NULL when the message has none */
  size_t pkt_len;       /* its length */
} ike_ipc_msg_t;

/* Counters of one endpoint. */
typedef struct ike_ipc_stats {
  uint64_t rx_msgs;        /* messages handed to the receive callback */
  uint64_t rx_bad;         /* dropped: no header frame or too many frames */
  uint64_t rx_wakeups;     /* drains run (poll, idle or post-send) */
  uint64_t rx_capped;      /* drains that stopped at IKE_IPC_BATCH */
  uint64_t tx_msgs;        /* messages sent */
  uint64_t tx_unroutable;  /* ROUTER: no peer with that routing id (EHOSTUNREACH) */
  uint64_t tx_again;       /* pipe full (high-water mark): message dropped */
  uint64_t tx_err;         /* other send failures */
} ike_ipc_stats_t;

/* Receive callback: one call per message, in arrival order. The callback may
 * send, and may close the endpoint (no further calls follow). */
typedef void (*ike_ipc_recv_cb)(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg);
/* Event callback (writable again, connected, closed). For the close callback
 * ep is NULL: the endpoint is already freed. */
typedef void (*ike_ipc_event_cb)(ike_ipc_t *ep, void *arg);

/* Create a ROUTER bound to endpoint ("ipc:///run/x.sock", "tcp://0.0.0.0:5555") in
 * loop, on ZMQ context zctx (one per process; zmq_ctx_new()). Unroutable sends
 * fail (ZMQ_ROUTER_MANDATORY) instead of vanishing. Returns 0 and *out, or a
 * negative errno (-EADDRINUSE, -EINVAL, ...). */
int ike_ipc_router_new(uv_loop_t *loop, void *zctx, const char *endpoint, ike_ipc_t **out);

/* Create a DEALER connected to endpoint with routing id id[0..id_len) (1..255
 * bytes; NULL/0 lets ZMQ pick one). ZMQ reconnects by itself if the peer goes
 * away. Returns 0 and *out, or a negative errno. */
int ike_ipc_dealer_new(uv_loop_t *loop, void *zctx, const char *endpoint,
                       const void *id, size_t id_len, ike_ipc_t **out);

/* Set the receive callback (NULL: messages are received and dropped). */
void ike_ipc_set_recv(ike_ipc_t *ep, ike_ipc_recv_cb cb, void *arg);

/* Call cb once, the next time the socket can send, after a send failed with
 * -EAGAIN (back-pressure). NULL cancels. */
void ike_ipc_set_writable(ike_ipc_t *ep, ike_ipc_event_cb cb, void *arg);

/* Pause (true) or resume receiving: while paused, messages stay queued in the
 * socket (and the peer meets our high-water mark: back-pressure up to it). */
void ike_ipc_set_paused(ike_ipc_t *ep, bool paused);

/* DEALER: call cb every time the connection to the peer is (re)established,
 * so the caller can say Hello again (a restarted peer forgets it). Uses a ZMQ
 * socket monitor polled in the same loop. Returns 0 or a negative errno. */
int ike_ipc_set_connected(ike_ipc_t *ep, ike_ipc_event_cb cb, void *arg);

/* Send one message: [id] hdr [pkt]. id/id_len is required on a ROUTER and
 * ignored on a DEALER; pkt NULL sends no packet frame. Never blocks.
 * Returns 0, -EHOSTUNREACH (ROUTER: peer unknown), -EAGAIN (pipe full), or
 * another negative errno. Each failure is counted in the endpoint's stats. */
int ike_ipc_send(ike_ipc_t *ep, const void *id, size_t id_len, const void *hdr,
                 size_t hdr_len, const void *pkt, size_t pkt_len);

/* As ike_ipc_send, with the header frame packed from msg straight into the
 * ZMQ message buffer (no intermediate copy). */
int ike_ipc_send_pb(ike_ipc_t *ep, const void *id, size_t id_len,
                    const ProtobufCMessage *msg, const void *pkt, size_t pkt_len);

/* The endpoint's counters (never NULL for a live endpoint). */
const ike_ipc_stats_t *ike_ipc_stats(const ike_ipc_t *ep);

/* The underlying ZMQ socket, for options this API does not cover. */
void *ike_ipc_socket(ike_ipc_t *ep);

/* Stop receiving, close the uv handles and the ZMQ socket (linger 0), then
 * free the endpoint and call cb (may be NULL). No callback of ep runs after
 * this returns, except cb. Safe to call from inside ep's own callbacks. */
void ike_ipc_close(ike_ipc_t *ep, ike_ipc_event_cb cb, void *arg);

/*
 * Unpacking without a malloc per message: an arena is a caller-provided
 * buffer that protobuf-c allocates from; requests that do not fit fall back
 * to malloc. ike_ipc_unpack_free() releases a message and resets the arena.
 * One arena holds one message at a time.
 */
typedef struct ike_ipc_arena {
  ProtobufCAllocator alloc;  /* handed to protobuf_c_message_unpack */
  uint8_t *buf;              /* the caller's buffer */
  size_t cap;                /* its size */
  size_t used;               /* bytes handed out since the last reset */
} ike_ipc_arena_t;

/* Make an arena over buf[0..cap). buf must stay valid while it is used. */
void ike_ipc_arena_init(ike_ipc_arena_t *a, void *buf, size_t cap);

/* Unpack data[0..len) as a message of type desc, allocating from arena a (NULL:
 * malloc). Returns the message, or NULL when the bytes do not parse. */
ProtobufCMessage *ike_ipc_unpack(ike_ipc_arena_t *a, const ProtobufCMessageDescriptor *desc,
                                 const void *data, size_t len);

/* Free a message from ike_ipc_unpack (NULL is fine) and reset the arena. */
void ike_ipc_unpack_free(ike_ipc_arena_t *a, ProtobufCMessage *msg);

#endif /* IKE_IPC_H */
