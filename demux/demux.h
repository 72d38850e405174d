/*
 * demux.h - state shared by demux's main.c (sockets, loop) and dispatch.c
 * (handlers of messages from sessmgr, ipsecmgr and gwctl). Internal to demux.
 */
#ifndef DMX_DEMUX_H
#define DMX_DEMUX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "ike_ipc.h"
#include "route.h"

#define DMX_MAX_SOCKS 16   /* bound UDP sockets (addresses x 2 ports) */
#define DMX_RX_BATCH 32    /* datagrams per recvmmsg wake-up */
#define DMX_RX_BUF 65536   /* largest UDP payload + 1 */

/* One bound UDP socket. */
typedef struct dmx_sock {
  int fd;
  int family;                   /* AF_INET or AF_INET6 */
  uint16_t port;                /* bound port (host order) */
  bool natt;                    /* the NAT-T port: marker / keepalive / ESP */
  bool wildcard;                /* bound to 0.0.0.0 or :: */
  struct sockaddr_storage addr; /* bound address */
  uv_poll_t poll;
  struct dmx *owner;
} dmx_sock_t;

/* Counters of demux beyond the routing decisions. */
typedef struct dmx_tx_counters {
  uint64_t to_sessmgr;      /* IKE datagrams handed to a sessmgr */
  uint64_t to_ipsecmgr;     /* ESP datagrams handed to ipsecmgr */
  uint64_t tx_ike;          /* datagrams sent for sessmgrs */
  uint64_t tx_esp;          /* datagrams sent for ipsecmgr */
  uint64_t tx_no_socket;    /* asked to send from an address/port we do not own */
  uint64_t tx_bad_addr;     /* unparsable address in a Datagram header */
  uint64_t tx_sendmsg_err;  /* sendmsg failed */
  uint64_t ipc_bad;         /* undecodable or unexpected IPC messages */
  uint64_t hello;           /* Hello messages accepted */
  uint64_t bye;             /* Bye messages accepted */
  uint64_t slot_lost;       /* slots marked dead after a failed send */
  uint64_t rx_trunc;        /* datagrams larger than our buffer */
} dmx_tx_counters_t;

typedef struct dmx {
  uv_loop_t *loop;
  void *zctx;
  ike_ipc_t *sess;          /* ROUTER for sessmgrs */
  ike_ipc_t *ipsec;         /* ROUTER for ipsecmgr */
  ike_ipc_t *ctl;           /* ROUTER for gwctl (may be NULL) */
  dmx_sock_t socks[DMX_MAX_SOCKS];
  unsigned nsocks;
  dmx_slots_t slots;        /* live sessmgr slots */
  dmx_counters_t route;     /* routing decisions */
  dmx_tx_counters_t tx;
  uint8_t ipsec_id[255];    /* routing id of the live ipsecmgr */
  size_t ipsec_id_len;      /* 0 = no ipsecmgr */
  unsigned workers;         /* --workers (expected slots, informational) */
  uint64_t start_ms;        /* uv_now at start */
  uv_signal_t sig[2];       /* SIGTERM, SIGINT */
  bool stopping;
} dmx_t;

/* Receive callback of the sessmgr ROUTER (arg = dmx_t). */
void dmx_on_sessmgr(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg);
/* Receive callback of the ipsecmgr ROUTER (arg = dmx_t). */
void dmx_on_ipsecmgr(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg);
/* Receive callback of the control ROUTER (arg = dmx_t). */
void dmx_on_ctl(ike_ipc_t *ep, const ike_ipc_msg_t *m, void *arg);

/* Mark a slot dead after a send to it failed with EHOSTUNREACH. */
void dmx_slot_lost(dmx_t *d, uint16_t slot);

#endif /* DMX_DEMUX_H */
