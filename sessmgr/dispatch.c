/*
 * dispatch.c - sessmgr's IPC message handlers and the engine callbacks that
 * turn engine requests into messages for demux and ipsecmgr.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikegw_ctl.pb-c.h"
#include "ikegw_demux.pb-c.h"
#include "ikegw_ipsec.pb-c.h"

#include "ike_addr.h"
#include "ike_log.h"
#include "sessmgr.h"

static uint64_t now_ms(const sessmgr_t *sm)
{
  return uv_now(sm->loop);
}

/* --- engine callbacks --- */

static void eng_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                     size_t len)
{
  sessmgr_t *sm = ctx;
  char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
  Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
  Ikegw__Demux__Datagram dg = IKEGW__DEMUX__DATAGRAM__INIT;
  dg.src_port = ike_addr_str(&path->local, src, sizeof src);
  dg.dst_port = ike_addr_str(&path->peer, dst, sizeof dst);
  dg.src_addr = src;
  dg.dst_addr = dst;
  dg.natt = natt;
  dg.non_esp_marker = natt;
  env.id = ++sm->req_id;
  env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM;
  env.datagram = &dg;
  sessmgr_queue_pb(sm, sm->demux, &env.base, pkt, len, false);
}

static void ts_to_pb(const ike_ts_t *ts, Ikegw__Types__TrafficSelector *pb, char *a,
                     char *b)
{
  int af = ts->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6;
  inet_ntop(af, ts->start, a, INET6_ADDRSTRLEN);
  inet_ntop(af, ts->end, b, INET6_ADDRSTRLEN);
  pb->start_addr = a;
  pb->end_addr = b;
  pb->ip_proto = ts->ip_proto;
  pb->start_port = ts->start_port;
  pb->end_port = ts->end_port;
}

/* One direction of a CHILD SA as an SaAdd. */
static void send_sa_add(sessmgr_t *sm, const ike_child_prog_t *c, bool in, bool resync)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaAdd add = IKEGW__IPSEC__SA_ADD__INIT;
  Ikegw__Ipsec__SaId id = IKEGW__IPSEC__SA_ID__INIT;
  Ikegw__Types__TrafficSelector lts = IKEGW__TYPES__TRAFFIC_SELECTOR__INIT;
  Ikegw__Types__TrafficSelector rts = IKEGW__TYPES__TRAFFIC_SELECTOR__INIT;
  Ikegw__Types__Lifetime life = IKEGW__TYPES__LIFETIME__INIT;
  Ikegw__Types__TrafficSelector *lp = &lts, *rp = &rts;
  char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN], t1[4][INET6_ADDRSTRLEN];
  char vip[INET6_ADDRSTRLEN] = "";
  id.direction = in ? IKEGW__IPSEC__DIRECTION__DIR_IN : IKEGW__IPSEC__DIRECTION__DIR_OUT;
  id.spi = in ? c->spi_in : c->spi_out;
  id.child_in_spi = c->spi_in;
  add.id = &id;
  add.owner_slot = sm->slot;
  add.ike_spi = c->ike_spi;
  add.pair_spi = in ? c->spi_out : c->spi_in;
  add.encr_id = c->suite.encr;
  add.encr_key_bits = c->suite.encr_bits;
  add.integ_id = c->suite.integ;
  add.enc_key.data = (uint8_t *)(in ? c->ek_in : c->ek_out);
  add.enc_key.len = c->ek_len;
  add.integ_key.data = (uint8_t *)(in ? c->ak_in : c->ak_out);
  add.integ_key.len = c->ak_len;
  add.esn = c->suite.esn;
  add.replay_window = in ? 1024 : 0;
  uint16_t lport = ike_addr_str(&c->path.local, la, sizeof la);
  uint16_t pport = ike_addr_str(&c->path.peer, pa, sizeof pa);
  add.local_addr = la;
  add.peer_addr = pa;
  add.udp_encap = c->encap;
  add.local_port = c->encap ? lport : 0;
  add.peer_port = c->encap ? pport : 0;
  ts_to_pb(&c->ts_local, &lts, t1[0], t1[1]);
  ts_to_pb(&c->ts_remote, &rts, t1[2], t1[3]);
  add.n_local_ts = 1;
  add.local_ts = &lp;
  add.n_remote_ts = 1;
  add.remote_ts = &rp;
  /* The virtual IP (ipsecmgr's outbound route key) is only ever the address
   * the gateway assigned, never taken from a traffic selector: a peer's TSi
   * naming another client's address must not become its route. */
  if (c->vip4 != 0) {
    uint32_t v = htonl(c->vip4);
    inet_ntop(AF_INET, &v, vip, sizeof vip);
  } else if (c->has_vip6) {
    inet_ntop(AF_INET6, c->vip6, vip, sizeof vip);
  }
  add.virtual_ip = vip;
  life.soft_bytes = c->life_soft_bytes;
  life.hard_bytes = c->life_hard_bytes;
  life.soft_packets = c->life_soft_packets;
  life.hard_packets = c->life_hard_packets;
  life.soft_seconds = c->life_soft_s;
  life.hard_seconds = c->life_hard_s;
  add.lifetime = &life;
  add.resync = resync;
  add.no_rebind = c->no_rebind; /* MOBIKE SA: no NAT rebinding (RFC 4555 3.5) */
  env.id = ++sm->req_id;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD;
  env.sa_add = &add;
  if (!resync) {
    /* Remember which CHILD SA this request installs: if ipsecmgr refuses it,
     * the CHILD SA goes towards the peer too (ike_engine_child_refused). */
    sessmgr_pending_add_t *pa_ = &sm->pending_add[env.id % SESSMGR_PENDING_ADDS];
    pa_->req_id = env.id;
    pa_->ike_spi = c->ike_spi;
    pa_->spi_in = c->spi_in;
  }
  sessmgr_queue_pb(sm, sm->ipsec, &env.base, NULL, 0, true);
}

static void eng_child_add(void *ctx, const ike_child_prog_t *c)
{
  sessmgr_t *sm = ctx;
  if (sm->ipsec == NULL) {
    IKE_LOG_WARN("no ipsecmgr: CHILD SA %08x/%08x not installed", c->spi_in, c->spi_out);
    return;
  }
  send_sa_add(sm, c, true, false);
  send_sa_add(sm, c, false, false);
}

static void replay_one(void *arg, const ike_child_prog_t *c)
{
  send_sa_add(arg, c, true, true);
  send_sa_add(arg, c, false, true);
}

/* ipsecmgr (re)started without our SAs: send every CHILD SA again, then
 * ReplayDone so it drops whatever of ours was not replayed. */
void sessmgr_replay_all(sessmgr_t *sm)
{
  size_t n = ike_engine_foreach_child(sm->engine, replay_one, sm);
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__ReplayDone done = IKEGW__IPSEC__REPLAY_DONE__INIT;
  done.slot = sm->slot;
  done.sa_count = (uint32_t)(2 * n);
  env.id = ++sm->req_id;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_DONE;
  env.replay_done = &done;
  sessmgr_queue_pb(sm, sm->ipsec, &env.base, NULL, 0, false);
  if (n > 0) {
    IKE_LOG_INFO("replayed %zu CHILD SAs to ipsecmgr", n);
  }
}

static void sa_ids(Ikegw__Ipsec__SaId ids[2], Ikegw__Ipsec__SaId *ptrs[2],
                   uint32_t spi_in, uint32_t spi_out)
{
  Ikegw__Ipsec__SaId init = IKEGW__IPSEC__SA_ID__INIT;
  ids[0] = init;
  ids[1] = init;
  ids[0].direction = IKEGW__IPSEC__DIRECTION__DIR_IN;
  ids[0].spi = spi_in;
  ids[0].child_in_spi = spi_in;
  ids[1].direction = IKEGW__IPSEC__DIRECTION__DIR_OUT;
  ids[1].spi = spi_out;
  ids[1].child_in_spi = spi_in;
  ptrs[0] = &ids[0];
  ptrs[1] = &ids[1];
}

static void eng_child_update(void *ctx, uint32_t spi_in, uint32_t spi_out,
                             const ike_path_t *path, bool encap)
{
  sessmgr_t *sm = ctx;
  if (sm->ipsec == NULL) {
    return;
  }
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaUpdate up = IKEGW__IPSEC__SA_UPDATE__INIT;
  Ikegw__Ipsec__SaId ids[2], *ptrs[2];
  char la[INET6_ADDRSTRLEN], pa[INET6_ADDRSTRLEN];
  sa_ids(ids, ptrs, spi_in, spi_out);
  up.n_ids = 2;
  up.ids = ptrs;
  uint16_t lport = ike_addr_str(&path->local, la, sizeof la);
  uint16_t pport = ike_addr_str(&path->peer, pa, sizeof pa);
  up.local_addr = la;
  up.peer_addr = pa;
  up.udp_encap = encap;
  up.local_port = encap ? lport : 0;
  up.peer_port = encap ? pport : 0;
  env.id = ++sm->req_id;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_UPDATE;
  env.sa_update = &up;
  sessmgr_queue_pb(sm, sm->ipsec, &env.base, NULL, 0, false);
}

static void eng_child_del(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
  sessmgr_t *sm = ctx;
  if (sm->ipsec == NULL) {
    return;
  }
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaDel del = IKEGW__IPSEC__SA_DEL__INIT;
  Ikegw__Ipsec__SaId ids[2], *ptrs[2];
  sa_ids(ids, ptrs, spi_in, spi_out);
  del.n_ids = 2;
  del.ids = ptrs;
  env.id = ++sm->req_id;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_DEL;
  env.sa_del = &del;
  sessmgr_queue_pb(sm, sm->ipsec, &env.base, NULL, 0, false);
}

const ike_engine_ops_t sessmgr_engine_ops = {
    .send = eng_send,
    .child_add = eng_child_add,
    .child_update = eng_child_update,
    .child_del = eng_child_del,
};

/* --- from demux --- */

void sessmgr_on_demux(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg)
{
  sessmgr_t *sm = arg;
  uint8_t mem[2048];
  ike_ipc_arena_t a;
  (void)ep;
  ike_ipc_arena_init(&a, mem, sizeof mem);
  Ikegw__Demux__Envelope *env = (Ikegw__Demux__Envelope *)ike_ipc_unpack(
      &a, &ikegw__demux__envelope__descriptor, msg->hdr, msg->hdr_len);
  if (env == NULL) {
    IKE_LOG_WARN("undecodable message from demux dropped");
    return;
  }
  if (env->msg_case == IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM && msg->pkt != NULL) {
    const Ikegw__Demux__Datagram *dg = env->datagram;
    ike_path_t path;
    if (ike_addr_parse(dg->src_addr, dg->src_port, &path.peer) == 0 &&
        ike_addr_parse(dg->dst_addr, dg->dst_port, &path.local) == 0) {
      ike_engine_recv(sm->engine, &path, dg->natt, msg->pkt, msg->pkt_len, now_ms(sm));
      sessmgr_rearm(sm);
    }
  }
  ike_ipc_unpack_free(&a, &env->base);
}

/* --- from ipsecmgr --- */

void sessmgr_on_ipsec(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg)
{
  sessmgr_t *sm = arg;
  uint8_t mem[4096];
  ike_ipc_arena_t a;
  (void)ep;
  ike_ipc_arena_init(&a, mem, sizeof mem);
  Ikegw__Ipsec__Envelope *env = (Ikegw__Ipsec__Envelope *)ike_ipc_unpack(
      &a, &ikegw__ipsec__envelope__descriptor, msg->hdr, msg->hdr_len);
  if (env == NULL) {
    return;
  }
  switch (env->msg_case) {
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_RESULT:
  {
    sessmgr_pending_add_t *pa_ = &sm->pending_add[env->id % SESSMGR_PENDING_ADDS];
    bool mine = pa_->req_id == env->id && env->id != 0;
    if (!env->sa_result->ok) {
      /* Never a silent success: the log, and gwctl's fail_ipsecmgr counter. */
      IKE_LOG_ERR("ipsecmgr refused SA operation %llu: %s",
                  (unsigned long long)env->id, env->sa_result->error);
      ike_engine_count_ipsec_failure(sm->engine);
      if (mine) {
        /* The peer was told the CHILD SA exists: tell it otherwise. */
        ike_engine_child_refused(sm->engine, pa_->ike_spi, pa_->spi_in, uv_now(sm->loop));
        sessmgr_rearm(sm);
      }
    }
    if (mine) {
      pa_->req_id = 0;
    }
    break;
  }
  case IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_REQUEST:
    sessmgr_replay_all(sm);
    break;
  case IKEGW__IPSEC__ENVELOPE__MSG_SA_EXPIRE:
    if (env->sa_expire->id != NULL) {
      ike_engine_child_expire(sm->engine, env->sa_expire->ike_spi,
                              env->sa_expire->id->child_in_spi,
                              env->sa_expire->hard, now_ms(sm));
      sessmgr_rearm(sm);
    }
    break;
  default:
    break;
  }
  ike_ipc_unpack_free(&a, &env->base);
}
