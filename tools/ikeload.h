/*
 * ikeload.h - internals shared by the parts of ikeload (the load generator):
 * ikeload.c (options, scenario, main loop), ikeload_run.c (per-client
 * scenario driving, pacing, timer heap), ikeload_net.c (shared sockets,
 * IP_PKTINFO, batched I/O, demultiplexing) and ikeload_report.c (latency
 * statistics, progress line, final table, JSON, /proc sampling).
 *
 * Scale model: 100,000+ clients in one process on one libuv loop. Every
 * client has its own source address (base + index in 127.0.0.0/8) but there
 * is one UDP socket per local port, bound to INADDR_ANY: IP_PKTINFO chooses
 * the source address of each datagram we send and tells which client address
 * a received one was for. Timers of all clients sit in one indexed min-heap.
 */
#ifndef IKELOAD_H
#define IKELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "ike_client.h"

#define LD_MAX_STEPS 32
#define LD_MAX_CLIENTS 1000000u /* one /12 of 127.0.0.0/8 per address set */
#define LD_NO_POS UINT32_MAX

/* Scenario steps. */
#define LD_STEP_MAP(X)                                                    \
  X(CONNECT, "connect")         /* IKE_SA_INIT (+COOKIE/INVALID_KE) + IKE_AUTH */ \
  X(HOLD, "hold")               /* stay ms, DPD every dpd_ms if set */      \
  X(DPD, "dpd")                 /* one empty INFORMATIONAL */               \
  X(MOVE, "move")               /* MOBIKE UPDATE_SA_ADDRESSES */            \
  X(REKEY_IKE, "rekey-ike")     /* CREATE_CHILD_SA (IKE) + Delete old */    \
  X(REKEY_CHILD, "rekey-child") /* CREATE_CHILD_SA (REKEY_SA) + Delete old */ \
  X(DISCONNECT, "disconnect")   /* INFORMATIONAL { D(IKE) } */              \
  X(WAIT, "wait")               /* stay ms, send nothing */

typedef enum {
#define X(e, s) LD_STEP_##e,
  LD_STEP_MAP(X)
#undef X
  LD_STEP_N
} ld_step_kind_t;

/* Move variants. */
#define LD_MOVE_NAT 1u     /* to the third address set, from the second port, and
                              NAT_DETECTION_SOURCE_IP over another address: the
                              gateway sees a NAT appear in front of us */
#define LD_MOVE_COOKIE2 2u /* with N(COOKIE2) (RFC 4555 3.5 return routability) */

typedef struct ld_step {
  uint8_t kind;             /* ld_step_kind_t */
  uint8_t flags;            /* LD_MOVE_* */
  uint32_t ms;              /* hold / wait duration */
} ld_step_t;

typedef struct ld_opts {
  unsigned n;
  const char *gw, *psk;
  uint16_t port, natt_port;
  bool mobike;
  double rate;              /* connect starts per second (open loop), 0 = no limit */
  unsigned concurrency;     /* > 0: at most this many setups (with --sync: exchanges of
                               the step) in flight (closed loop) */
  double step_rate;         /* --sync: starts of later steps per second, 0 = no limit */
  bool sync;                /* every step starts only when all clients finished the last */
  uint64_t duration_ms;     /* overall deadline */
  uint32_t dpd_ms;          /* DPD period while holding; 0 = none */
  uint32_t retrans_ms;
  uint8_t max_retrans;
  uint16_t dh;              /* IKE SA group */
  uint16_t ke_group;        /* first KE group (INVALID_KE test); 0 = dh */
  ike_client_answer_t answer;
  uint32_t base[3];         /* first / moved / NAT-moved address of client 0, host order */
  ld_step_t steps[LD_MAX_STEPS];
  unsigned n_steps;
  bool json;
  const char *json_file;
  double progress_s;        /* 0 = default (tty 0.25 s, else 5 s); < 0 = none */
  int watch_pid[8];         /* gateway processes (with their descendants) to sample */
  unsigned n_watch;
} ld_opts_t;

/* Client phases (ld_client_t.phase). */
enum {
  LD_PH_QUEUED = 0, /* waiting for the pacer (or a barrier) to start its step */
  LD_PH_RUN,        /* step in progress */
  LD_PH_BARRIER,    /* --sync: finished its step, waiting for the others */
  LD_PH_DONE,       /* scenario complete */
  LD_PH_FAILED
};

typedef struct ld_client {
  ike_client_t *cl;
  uint64_t due_ms;          /* heap key */
  uint64_t t0_ns;           /* start of the current step's exchange */
  uint64_t hold_end_ms, next_dpd_ms;
  uint64_t mark;            /* step-specific: SPI / updates / child SPI before */
  uint32_t heap_pos;
  uint16_t err_before;
  uint8_t step, phase;
  uint8_t at;               /* address set in use: 0, 1 or 2 */
  bool dpd_busy;            /* a hold's DPD is in flight */
  bool setup_inflight;      /* counted in the concurrency window */
} ld_client_t;

/* One kind of latency sample set. */
typedef struct ld_lat {
  uint32_t *us;             /* samples in microseconds */
  size_t n, cap;
  uint64_t ok, failed;
  uint64_t first_ns, last_ns;
} ld_lat_t;

#define LD_MAX_CAUSES 64
typedef struct ld_cause {
  uint8_t step;             /* ld_step_kind_t */
  uint16_t code;            /* notify type, IKE_CLIENT_ERR_*, or LD_ERR_* */
  uint64_t count;
} ld_cause_t;

#define LD_ERR_DEADLINE 0xFE01u  /* the overall duration ended first */
#define LD_ERR_CLOSED 0xFE02u    /* the gateway deleted the IKE SA */
#define LD_ERR_INCOMPLETE 0xFE03u /* answered, but the expected change is absent */
#define LD_ERR_NO_MOBIKE 0xFE04u /* move asked, gateway did not agree to MOBIKE */
#define LD_ERR_LOCAL 0xFE05u     /* the request could not be built */

/* The socket set: one UDP socket per local port. */
#define LD_BATCH 64
typedef struct ld_net {
  int fd[2];                /* [0]: first and moved addresses, [1]: NAT-moved */
  uint16_t port_be[2];      /* their local ports */
  uv_poll_t poll[2];
  unsigned n_fd;
  /* Send queue, flushed with sendmmsg. */
  unsigned q_n;
  uint8_t *q_buf;           /* LD_BATCH slots of LD_SLOT bytes */
  int q_fd[LD_BATCH];
  uint32_t q_src[LD_BATCH]; /* source address, network order */
  struct sockaddr_in q_dst[LD_BATCH];
  size_t q_len[LD_BATCH];
  /* Counters. */
  uint64_t tx, rx, tx_err, rx_unknown, rx_non_ike, tx_batches, rx_batches;
  int last_tx_errno;
} ld_net_t;

typedef struct ld {
  ld_opts_t o;
  uv_loop_t *loop;
  ld_client_t *c;
  ld_net_t net;
  struct sockaddr_in gw;
  uint16_t natt_port_be;
  /* Timer heap of client indices ordered by due_ms. */
  uint32_t *heap;
  uint32_t heap_n;
  uv_timer_t timer, pacer, progress, deadline;
  uv_prepare_t prep;
  /* Start queue (ring of client indices) drained by the pacer. */
  uint32_t *q;
  uint32_t q_head, q_n;
  uint64_t pace_t0_ms, pace_started;
  double pace_rate;
  /* Progress. */
  unsigned started, established, inflight_setup, running, alive, finished, failed;
  unsigned barrier_step, arrived[LD_MAX_STEPS];
  uint64_t t_start_ns, t_end_ns;
  ld_lat_t lat[LD_STEP_N];
  ld_cause_t cause[LD_MAX_CAUSES];
  unsigned n_cause;
  uint64_t cause_other;
  /* Report state. */
  bool tty;
  unsigned last_est;
  uint64_t last_prog_ns;
  double cur_rate;
  uint64_t gw_rss_peak_kb, gw_rss_kb_at[LD_MAX_STEPS];
  double gw_cpu0_s, gw_cpu_s;
  unsigned n_gw_proc;       /* processes of the peak sample */
  struct { int pid; char comm[16]; uint64_t rss_kb; } gw_proc[16];
  bool stopping;
} ld_t;

/* ikeload_net.c */
int ld_net_open(ld_t *ld);
void ld_net_close(ld_t *ld);
/* ike_client_ops_t.send: queue a datagram of a client. */
void ld_net_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                 size_t len);
void ld_net_flush(ld_t *ld);
uint32_t ld_addr(const ld_t *ld, unsigned i, unsigned set);

/* ikeload_run.c */
int ld_run_init(ld_t *ld);
void ld_run_free(ld_t *ld);
void ld_run_start(ld_t *ld);
/* A datagram for client i was handed to its ike_client: advance it. */
void ld_run_poke(ld_t *ld, uint32_t i);
/* Stop: everything not finished fails with LD_ERR_DEADLINE. */
void ld_run_stop(ld_t *ld);
/* Arm the heap timer for the earliest deadline (once per loop iteration). */
void ld_run_arm(ld_t *ld);
extern ld_t *ld_global;

/* ikeload_report.c */
void ld_lat_add(ld_lat_t *l, uint64_t t0_ns, uint64_t t1_ns);
void ld_cause_add(ld_t *ld, uint8_t step, uint16_t code);
const char *ld_step_name(unsigned k);
const char *ld_cause_name(uint16_t code, char *buf, size_t cap);
void ld_progress(ld_t *ld, bool final);
void ld_sample_gw(ld_t *ld, int at_step);
double ld_gw_cpu_s(const ld_t *ld);
void ld_report(ld_t *ld, FILE *out);
void ld_report_json(ld_t *ld, FILE *out);
uint64_t ld_now_ns(void);

#endif /* IKELOAD_H */
