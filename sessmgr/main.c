/*
 * main.c - the sessmgr process: one worker slot.
 *
 *   sessmgr -c CONFIG --slot N --workers W --demux EP --ipsec EP --ctl EP
 *
 * Connects a DEALER (routing id = slot) to demux and to ipsecmgr, binds a
 * ROUTER for gwctl, and runs the IKE engine on one libuv loop.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ikegw_demux.pb-c.h"
#include "ikegw_ipsec.pb-c.h"

#include "ike_log.h"
#include "ike_slot.h"
#include "sessmgr.h"

static void on_timer(uv_timer_t *t)
{
  sessmgr_t *sm = t->data;
  sessmgr_rearm(sm);
}

void sessmgr_rearm(sessmgr_t *sm)
{
  int64_t next = ike_engine_tick(sm->engine, uv_now(sm->loop));
  /* Never sleep longer than a second: DPD and lifetimes are coarse anyway. */
  uint64_t ms = (next < 0 || next > 1000) ? 1000 : (uint64_t)next;
  uv_timer_start(&sm->timer, on_timer, ms ? ms : 1, 0);
}

static void hello_demux(ike_ipc_t *ep, void *arg)
{
  sessmgr_t *sm = arg;
  Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
  Ikegw__Demux__Hello h = IKEGW__DEMUX__HELLO__INIT;
  h.slot = sm->slot;
  h.pid = (uint32_t)getpid();
  h.role = IKEGW__DEMUX__ROLE__ROLE_SESSMGR;
  env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_HELLO;
  env.hello = &h;
  ike_ipc_send_pb(ep, NULL, 0, &env.base, NULL, 0);
}

static void hello_ipsec(ike_ipc_t *ep, void *arg)
{
  sessmgr_t *sm = arg;
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__Hello h = IKEGW__IPSEC__HELLO__INIT;
  h.slot = sm->slot;
  h.pid = (uint32_t)getpid();
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_HELLO;
  env.hello = &h;
  ike_ipc_send_pb(ep, NULL, 0, &env.base, NULL, 0);
  if (!sm->ipsec_synced) {
    /* A (re)started sessmgr owns only what it replays now: the SAs restored
     * from its checkpoint; ipsecmgr drops any other CHILD SA of our slot. */
    sm->ipsec_synced = true;
    sessmgr_replay_all(sm);
  }
}

static void on_signal(uv_signal_t *s, int signum)
{
  sessmgr_t *sm = s->data;
  (void)signum;
  uv_stop(sm->loop);
}

static void usage(void)
{
  fprintf(stderr, "usage: sessmgr -c CONFIG --slot N --workers W --demux ENDPOINT "
                  "--ipsec ENDPOINT --ctl ENDPOINT\n");
}

int main(int argc, char **argv)
{
  umask(077); /* sockets, stores and logs we create: ours alone */
  static sessmgr_t sm;
  const char *config = NULL, *demux_ep = NULL, *ipsec_ep = NULL, *ctl_ep = NULL;
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'}, {"slot", required_argument, NULL, 's'},
      {"workers", required_argument, NULL, 'w'}, {"demux", required_argument, NULL, 'd'},
      {"ipsec", required_argument, NULL, 'i'},  {"ctl", required_argument, NULL, 'C'},
      {NULL, 0, NULL, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
    switch (o) {
    case 'c': config = optarg; break;
    case 's': sm.slot = (uint16_t)atoi(optarg); break;
    case 'w': sm.workers = (uint16_t)atoi(optarg); break;
    case 'd': demux_ep = optarg; break;
    case 'i': ipsec_ep = optarg; break;
    case 'C': ctl_ep = optarg; break;
    default: usage(); return 2;
    }
  }
  if (config == NULL || demux_ep == NULL) {
    usage();
    return 2;
  }
  char name[32];
  snprintf(name, sizeof name, "sessmgr-%u", sm.slot);
  ike_log_set_process(name);
  char err[512];
  if (ike_config_load(config, &sm.cfg, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  ike_log_set_level(sm.cfg.log_level);
  if (ike_crypto_init() != 0) {
    fprintf(stderr, "%s: crypto initialisation failed\n", name);
    return 1;
  }
  if (ike_engine_new(sm.slot, &sm.cfg, &sessmgr_engine_ops, &sm, &sm.engine) != 0) {
    fprintf(stderr, "%s: the configuration has no crypto template\n", name);
    return 2;
  }
  ike_engine_set_workers(sm.engine, sm.workers);
  if (ike_cert_load_config(&sm.cfg, sm.certs, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n", name, err); /* "file: reason" */
    return 2;
  }
  ike_engine_set_certs(sm.engine, sm.certs);
  sm.loop = uv_default_loop();
  sm.zctx = zmq_ctx_new();
  sm.start_ms = uv_now(sm.loop);
  uint8_t id[IKE_SLOT_ID_LEN];
  ike_slot_id_encode(sm.slot, id);
  if (ike_ipc_dealer_new(sm.loop, sm.zctx, demux_ep, id, sizeof id, &sm.demux) != 0) {
    fprintf(stderr, "%s: cannot connect to demux at %s\n", name, demux_ep);
    return 1;
  }
  ike_ipc_set_recv(sm.demux, sessmgr_on_demux, &sm);
  ike_ipc_set_connected(sm.demux, hello_demux, &sm);
  if (ipsec_ep != NULL) {
    if (ike_ipc_dealer_new(sm.loop, sm.zctx, ipsec_ep, id, sizeof id, &sm.ipsec) != 0) {
      fprintf(stderr, "%s: cannot connect to ipsecmgr at %s\n", name, ipsec_ep);
      return 1;
    }
    ike_ipc_set_recv(sm.ipsec, sessmgr_on_ipsec, &sm);
    ike_ipc_set_connected(sm.ipsec, hello_ipsec, &sm);
  }
  if (ctl_ep != NULL) {
    if (ike_ipc_router_new(sm.loop, sm.zctx, ctl_ep, &sm.ctl) != 0) {
      fprintf(stderr, "%s: cannot bind control endpoint %s\n", name, ctl_ep);
      return 1;
    }
    ike_ipc_set_recv(sm.ctl, sessmgr_on_ctl, &sm);
  }
  /* Restore this slot's IKE SAs before anything can reach the engine; their
   * CHILD SAs go to ipsecmgr on the first connect (hello_ipsec: replay). */
  sessmgr_ckpt_start(&sm);
  uv_timer_init(sm.loop, &sm.timer);
  sm.timer.data = &sm;
  sessmgr_rearm(&sm);
  uv_signal_init(sm.loop, &sm.sigterm);
  uv_signal_init(sm.loop, &sm.sigint);
  sm.sigterm.data = sm.sigint.data = &sm;
  uv_signal_start(&sm.sigterm, on_signal, SIGTERM);
  uv_signal_start(&sm.sigint, on_signal, SIGINT);
  IKE_LOG_INFO("slot %u of %u running", sm.slot, sm.workers);
  uv_run(sm.loop, UV_RUN_DEFAULT);
  /* The checkpoint keeps the SAs: freeing the engine deletes no record and
   * nothing it queues is sent (ipsecmgr keeps the CHILD SAs for our restart). */
  ike_engine_free(sm.engine);
  sessmgr_ckpt_stop(&sm);
  ike_cert_free_config(sm.certs);
  ike_crypto_cleanup();
  return 0;
}
