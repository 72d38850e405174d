/* ike_ctlc.c - control endpoint client: one request, one answer, bounded wait. */
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "ikegw_ctl.pb-c.h"

#include "ike_ctlc.h"

int ike_ctlc_workers(const char *run_dir)
{
  char path[512];
  int n = -1;
  snprintf(path, sizeof path, "%s/workers", run_dir);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return -1;
  }
  if (fscanf(f, "%d", &n) != 1) {
    n = -1;
  }
  fclose(f);
  return n;
}

Ikegw__Ctl__Envelope *ike_ctlc_ask(void *zctx, const char *run_dir, int slot,
                                   const Ikegw__Ctl__Envelope *env, int timeout_ms)
{
  char ep[600];
  if (slot < 0) {
    snprintf(ep, sizeof ep, "ipc://%s/ctl-ikegw.sock", run_dir); /* the launcher */
  } else {
    snprintf(ep, sizeof ep, "ipc://%s/ctl-sessmgr-%d.sock", run_dir, slot);
  }
  void *s = zmq_socket(zctx, ZMQ_DEALER);
  if (s == NULL) {
    return NULL;
  }
  int linger = 0;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  Ikegw__Ctl__Envelope *rsp = NULL;
  size_t len = protobuf_c_message_get_packed_size(&env->base);
  uint8_t *buf = malloc(len ? len : 1);
  if (buf != NULL && zmq_connect(s, ep) == 0) {
    protobuf_c_message_pack(&env->base, buf);
    zmq_send(s, buf, len, 0);
    zmq_pollitem_t pi = {.socket = s, .events = ZMQ_POLLIN};
    if (zmq_poll(&pi, 1, timeout_ms) == 1) {
      zmq_msg_t m;
      zmq_msg_init(&m);
      if (zmq_msg_recv(&m, s, 0) >= 0) {
        rsp = ikegw__ctl__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
      }
      zmq_msg_close(&m);
    }
  }
  free(buf);
  zmq_close(s);
  return rsp;
}

int ike_ctlc_stats_total(void *zctx, const char *run_dir, int workers,
                         ike_stats_t *total, int timeout_ms)
{
  int bad = 0;
  ike_stats_reset(total);
  for (int s = 0; s < workers; s++) {
    Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
    Ikegw__Ctl__StatsRequest rq = IKEGW__CTL__STATS_REQUEST__INIT;
    rq.prefix = "";
    env.id = 1;
    env.msg_case = IKEGW__CTL__ENVELOPE__MSG_STATS_REQUEST;
    env.stats_request = &rq;
    Ikegw__Ctl__Envelope *r = ike_ctlc_ask(zctx, run_dir, s, &env, timeout_ms);
    if (r == NULL || r->msg_case != IKEGW__CTL__ENVELOPE__MSG_STATS_RESPONSE) {
      bad++;
      if (r != NULL) {
        ikegw__ctl__envelope__free_unpacked(r, NULL);
      }
      continue;
    }
    ike_stats_t one;
    ike_stats_reset(&one);
    for (size_t i = 0; i < r->stats_response->n_counters; i++) {
      int k = ike_stats_find(r->stats_response->counters[i]->name);
      if (k >= 0) {
        ike_stats_set(&one, (size_t)k, r->stats_response->counters[i]->value);
      }
    }
    ike_stats_add(total, &one);
    ikegw__ctl__envelope__free_unpacked(r, NULL);
  }
  return bad;
}
