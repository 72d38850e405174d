/*
 * engine_harness.h - an in-process IKEv2 test bench: one ike_client (the
 * initiator of sessmgr/ike_client.h) wired to one ike_engine (the gateway)
 * through in-memory queues, with a mock ipsecmgr that records child_add /
 * child_update / child_del and a fake clock. Nothing touches the network:
 * paths are sockaddr_storage values for 127.x (client) and 192.0.2.x
 * (gateway) addresses.
 *
 * Used by tests/unit/test_engine_*.c, which include engine_harness.c (the
 * unit test CMake globs only test_*.c, so the bench is compiled into each
 * test program).
 */
#ifndef ENGINE_HARNESS_H
#define ENGINE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_client.h"
#include "ike_engine.h"

#define HX_QMAX 64          /* datagrams queued per direction */
#define HX_LOG_MAX 128      /* datagrams of the gateway kept for inspection */
#define HX_PSK "test-psk-0123456789"
#define HX_SLOT 7

typedef struct hx_pkt {
  ike_path_t path;          /* the receiver's view: local = receiver */
  bool natt;
  size_t len;
  uint8_t data[8192];
} hx_pkt_t;

typedef struct hx_upd {
  uint32_t spi_in, spi_out;
  ike_path_t path;
  bool encap;
} hx_upd_t;

typedef struct hx_del {
  uint32_t spi_in, spi_out;
} hx_del_t;

typedef struct hx {
  ike_config_t cfg;
  ike_engine_t *gw;
  ike_client_t *cl;
  ike_client_cfg_t ccfg;    /* used by hx_client() */
  uint64_t now;
  hx_pkt_t *to_gw, *to_cl;  /* FIFO queues */
  size_t n_to_gw, n_to_cl;
  hx_pkt_t *log;            /* every datagram the gateway sent */
  size_t n_log;
  bool drop_to_gw, drop_to_cl; /* the network loses everything */
  ike_child_prog_t add[16];
  size_t n_add;
  hx_upd_t upd[32];
  size_t n_upd;
  hx_del_t del[32];
  size_t n_del;
} hx_t;

/* The decoded view of one gateway datagram. */
typedef struct hx_msg {
  ike_hdr_t h;
  ike_chain_t chain;
  uint8_t plain[8192];
  uint16_t notify[32];
  unsigned n_notify;
} hx_msg_t;

/* Config text of the test gateway: template lines `extra` added (e.g.
 * "ikev2-ikesa mobike\n"). Returns a static buffer. */
const char *hx_conf(const char *extra);
/* Parse conf, create the engine (slot HX_SLOT) and the default client
 * config. Fails the test on error. */
void hx_init(hx_t *hx, const char *extra_tmpl_lines);
void hx_fini(hx_t *hx);
/* Create the client from hx->ccfg. */
void hx_client(hx_t *hx);
/* Start the client and run until no datagram is queued. */
void hx_establish(hx_t *hx);

void hx_addr4(struct sockaddr_storage *ss, const char *a, uint16_t port);
void hx_addr6(struct sockaddr_storage *ss, const char *a, uint16_t port);
/* A client path from `local` (address, port) to the gateway's NAT-T port. */
ike_path_t hx_path(const char *local, uint16_t port);

/* Deliver the oldest queued datagram (false if none). */
bool hx_step_gw(hx_t *hx);
bool hx_step_cl(hx_t *hx);
/* Deliver until both queues are empty (bounded). */
void hx_run(hx_t *hx);
/* Remove every queued datagram towards the gateway / client. */
void hx_flush(hx_t *hx);
/* Advance the fake clock by ms and run both sides' timers (no delivery). */
void hx_advance(hx_t *hx, uint64_t ms);
/* Inject raw bytes to the gateway as if from the client on path (client's
 * view: local = client). */
void hx_inject_gw(hx_t *hx, const ike_path_t *client_path, bool natt,
                  const uint8_t *pkt, size_t len);

/* The i-th datagram the gateway sent (negative: from the end). */
const hx_pkt_t *hx_gw_sent(const hx_t *hx, int i);
/* Decode a gateway datagram with the client's keys (fails the test if it
 * does not open). */
void hx_decode(const hx_t *hx, const hx_pkt_t *p, hx_msg_t *m);
bool hx_has(const hx_msg_t *m, uint16_t notify_type);

const ike_stats_t *hx_st(const hx_t *hx);
const ike_client_info_t *hx_ci(const hx_t *hx);
/* Parse one IPv4 dotted address into host order. */
uint32_t hx_ip4(const char *a);
bool hx_path_eq(const ike_path_t *a, const ike_path_t *b);
/* Print the non-zero gateway counters and the client state to stderr. */
void hx_dump(const hx_t *hx);

/* Like hx_init, but the gateway runs the whole config text conf (e.g. a
 * template without an address pool). */
void hx_init_conf(hx_t *hx, const char *conf);
/* A single-range IPv4 selector start..end, any protocol and port. */
ike_ts_t hx_ts4(const char *start, const char *end);
/* Run fn with stderr (the log) going to a temporary file; the text it wrote
 * in out (NUL-terminated, truncated to cap). */
size_t hx_capture_log(void (*fn)(void *arg), void *arg, char *out, size_t cap);

/* cmocka group/test fixtures: *state = a zeroed hx_t for the test to
 * hx_init; the teardown finishes it if it was initialised and frees it. */
int hx_state_setup(void **state);
int hx_state_teardown(void **state);
/* A bench on the heap: calloc + hx_init (fails the test on error), and its
 * end: hx_fini + free. */
hx_t *hx_new(const char *extra_tmpl_lines);
void hx_free(hx_t *hx);

#endif /* ENGINE_HARNESS_H */
