/*
 * test_ipsecmgr_dispatch.c - ipsecmgr's logic (ipsecmgr/dispatch.c) without
 * sockets: every output is captured through ipm_ops_t.
 *
 * Covers: Hello -> ReplayRequest, SaAdd (both directions) -> SaResult, bad and
 * undecodable requests, the inbound path (ESP-in-UDP Datagram from demux ->
 * TUN) and the outbound path (TUN -> Datagram to demux with natt set, no
 * marker), unknown SPI, inner source outside the selectors, SaUpdate keeping
 * sequence numbers (MOBIKE), NAT rebinding, SaDel, byte/packet and second
 * lifetimes -> SaExpire to the owner slot's routing id, resync (same keys keep
 * state, new keys replace), ReplayDone removing stale SAs, SaQuery and the
 * control StatsRequest. The peer's side of the ESP is a second esp_table_t.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>

#include "esp.h"
#include "ike_slot.h"
#include "ike_wire.h"
#include "ikegw_ctl.pb-c.h"
#include "ikegw_demux.pb-c.h"
#include "ikegw_ipsec.pb-c.h"
#include "ipsecmgr.h"

#define SPI_IN 0x00010001u   /* our inbound SPI */
#define SPI_OUT 0xc0ffee01u  /* the peer's SPI */
#define VIP "10.10.0.5"
#define PEER "192.0.2.11"
#define GW "192.0.2.1"

/* ---------------------------------------------------------------- capture */

typedef struct sent {
  ipm_ch_t ch;
  uint8_t id[16];
  size_t id_len;
  uint8_t hdr[2048];
  size_t hdr_len;
  uint8_t pkt[2048];
  size_t pkt_len;
} sent_t;

static sent_t sent[64];
static size_t n_sent;
static uint8_t tun_pkt[2048];
static size_t tun_len, n_tun;
static uint64_t fake_now = 1000000;

static int cap_send(void *ctx, ipm_ch_t ch, const uint8_t *id, size_t id_len,
                    const ProtobufCMessage *msg, const uint8_t *pkt, size_t pkt_len)
{
  (void)ctx;
  assert_true(n_sent < 64);
  sent_t *s = &sent[n_sent++];
  s->ch = ch;
  assert_true(id_len <= sizeof(s->id));
  if (id_len) {
    memcpy(s->id, id, id_len);
  }
  s->id_len = id_len;
  assert_true(protobuf_c_message_get_packed_size(msg) <= sizeof(s->hdr));
  s->hdr_len = protobuf_c_message_pack(msg, s->hdr);
  assert_true(pkt_len <= sizeof(s->pkt));
  if (pkt_len) {
    memcpy(s->pkt, pkt, pkt_len);
  }
  s->pkt_len = pkt_len;
  return 0;
}

static int cap_tun(void *ctx, const uint8_t *pkt, size_t len)
{
  (void)ctx;
  assert_true(len <= sizeof(tun_pkt));
  memcpy(tun_pkt, pkt, len);
  tun_len = len;
  n_tun++;
  return 0;
}

static uint64_t cap_now(void *ctx)
{
  (void)ctx;
  return fake_now;
}

static ipm_t *mk_ipm(void)
{
  ipm_cfg_t c = {.max_sas = 64, .ops = {.send = cap_send, .tun_write = cap_tun, .now_s = cap_now}};
  ipm_t *m = NULL;
  n_sent = n_tun = 0;
  assert_int_equal(ipm_new(&c, &m), 0);
  return m;
}

static Ikegw__Ipsec__Envelope *sent_ipsec(size_t i)
{
  assert_true(i < n_sent);
  assert_int_equal(sent[i].ch, IPM_CH_SESSMGR);
  Ikegw__Ipsec__Envelope *e = ikegw__ipsec__envelope__unpack(NULL, sent[i].hdr_len, sent[i].hdr);
  assert_non_null(e);
  return e;
}

/* The SaResult of sent message i: ok flag, and the request id must match. */
static bool result_ok(size_t i, uint64_t req)
{
  Ikegw__Ipsec__Envelope *e = sent_ipsec(i);
  assert_int_equal(e->msg_case, IKEGW__IPSEC__ENVELOPE__MSG_SA_RESULT);
  assert_int_equal(e->id, req);
  bool ok = e->sa_result->ok;
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  return ok;
}

/* ---------------------------------------------------------------- requests */

static const uint8_t slot3[IKE_SLOT_ID_LEN] = {0, 3};
static uint8_t key_a[36], key_b[36];

static void feed(ipm_t *m, const Ikegw__Ipsec__Envelope *env)
{
  uint8_t buf[2048];
  size_t n = ikegw__ipsec__envelope__pack(env, buf);
  ipm_on_sessmgr(m, slot3, sizeof(slot3), buf, n);
}

/* Hello claiming slot (from slot 3's routing id: a (re)started sessmgr). */
static void send_hello_as(ipm_t *m, uint32_t slot)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__Hello h = IKEGW__IPSEC__HELLO__INIT;
  h.slot = slot;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_HELLO;
  env.hello = &h;
  feed(m, &env);
}

static void send_hello(ipm_t *m)
{
  send_hello_as(m, 3);
}

/* ReplayDone of slot 3 announcing count SaAdds, request id req. */
static void send_replay_done(ipm_t *m, uint64_t req, uint32_t count)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__ReplayDone rd = IKEGW__IPSEC__REPLAY_DONE__INIT;
  rd.slot = 3;
  rd.sa_count = count;
  env.id = req;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_DONE;
  env.replay_done = &rd;
  feed(m, &env);
}

typedef struct addreq {
  int dir;
  const uint8_t *key;
  bool resync;
  uint64_t soft_packets, hard_packets, soft_s, hard_s;
  const char *rts_start, *rts_end;
  uint32_t peer_port;
  bool no_rebind;           /* CHILD SA of a MOBIKE SA */
  uint32_t spi_in, spi_out; /* 0: SPI_IN / SPI_OUT */
  const char *vip;          /* NULL: VIP */
  uint16_t slot;            /* owner sessmgr slot (and routing id); 0: 3 */
  uint64_t ike_spi;         /* 0: 0x0003aabbccddeeff */
} addreq_t;

static void send_add(ipm_t *m, uint64_t req, const addreq_t *r)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaAdd a = IKEGW__IPSEC__SA_ADD__INIT;
  Ikegw__Ipsec__SaId id = IKEGW__IPSEC__SA_ID__INIT;
  Ikegw__Types__TrafficSelector ts = IKEGW__TYPES__TRAFFIC_SELECTOR__INIT, *tsp = &ts;
  Ikegw__Types__Lifetime life = IKEGW__TYPES__LIFETIME__INIT;
  bool in = r->dir == IKEGW__IPSEC__DIRECTION__DIR_IN;
  id.direction = (Ikegw__Ipsec__Direction)r->dir;
  uint32_t spi_in = r->spi_in ? r->spi_in : SPI_IN, spi_out = r->spi_out ? r->spi_out : SPI_OUT;
  const char *vip = r->vip ? r->vip : VIP;
  id.spi = in ? spi_in : spi_out;
  id.child_in_spi = spi_in;
  a.id = &id;
  a.owner_slot = r->slot ? r->slot : 3;
  a.ike_spi = r->ike_spi ? r->ike_spi : 0x0003aabbccddeeffULL;
  a.encr_id = IKE_ENCR_AES_GCM_16;
  a.encr_key_bits = 256;
  a.enc_key.data = (uint8_t *)r->key;
  a.enc_key.len = 36;
  a.replay_window = in ? 1024 : 0;
  a.local_addr = GW;
  a.local_port = 4500;
  a.peer_addr = PEER;
  a.peer_port = r->peer_port ? r->peer_port : 4500;
  a.udp_encap = true;
  ts.start_addr = (char *)(r->rts_start ? r->rts_start : vip);
  ts.end_addr = (char *)(r->rts_end ? r->rts_end : vip);
  ts.end_port = 65535;
  a.n_remote_ts = 1;
  a.remote_ts = &tsp;
  a.virtual_ip = in ? "" : (char *)vip;
  life.soft_packets = r->soft_packets;
  life.hard_packets = r->hard_packets;
  life.soft_seconds = r->soft_s;
  life.hard_seconds = r->hard_s;
  a.lifetime = &life;
  a.resync = r->resync;
  a.no_rebind = r->no_rebind;
  env.id = req;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD;
  env.sa_add = &a;
  uint8_t rid[IKE_SLOT_ID_LEN] = {(uint8_t)(a.owner_slot >> 8), (uint8_t)a.owner_slot};
  uint8_t buf[2048];
  size_t n = ikegw__ipsec__envelope__pack(&env, buf);
  ipm_on_sessmgr(m, rid, sizeof(rid), buf, n);
}

static void add_pair(ipm_t *m)
{
  addreq_t in = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_a};
  addreq_t out = {.dir = IKEGW__IPSEC__DIRECTION__DIR_OUT, .key = key_b};
  size_t n0 = n_sent;
  send_add(m, 11, &in);
  send_add(m, 12, &out);
  assert_int_equal(n_sent, n0 + 2);
  assert_true(result_ok(n0, 11));
  assert_true(result_ok(n0 + 1, 12));
}

static void sa_ids(Ikegw__Ipsec__SaId ids[2], Ikegw__Ipsec__SaId *p[2])
{
  for (int i = 0; i < 2; i++) {
    ikegw__ipsec__sa_id__init(&ids[i]);
    ids[i].direction = i == 0 ? IKEGW__IPSEC__DIRECTION__DIR_IN : IKEGW__IPSEC__DIRECTION__DIR_OUT;
    ids[i].spi = i == 0 ? SPI_IN : SPI_OUT;
    ids[i].child_in_spi = SPI_IN;
    p[i] = &ids[i];
  }
}

/* ---------------------------------------------------------------- the peer */

/* The client's side: encrypts with key_a / SPI_IN, decrypts with key_b / SPI_OUT. */
typedef struct peer {
  esp_table_t *t;
  esp_sa_t *out, *in;
} peer_t;

static void mk_peer(peer_t *p)
{
  struct sockaddr_in l = {.sin_family = AF_INET, .sin_port = htons(4500)};
  struct sockaddr_in r = l;
  inet_pton(AF_INET, PEER, &l.sin_addr);
  inet_pton(AF_INET, GW, &r.sin_addr);
  assert_int_equal(esp_table_new(8, &p->t), 0);
  esp_sa_params_t q = {.spi = SPI_IN, .dir = ESP_DIR_OUT, .encr = IKE_ENCR_AES_GCM_16,
                       .encr_bits = 256, .enc_key = key_a, .enc_key_len = 36,
                       .local = (struct sockaddr *)&l, .peer = (struct sockaddr *)&r,
                       .udp_encap = true};
  esp_inaddr_parse(&q.inner, "198.51.100.10");
  assert_int_equal(esp_table_add(p->t, &q, &p->out), 0);
  q.spi = SPI_OUT;
  q.dir = ESP_DIR_IN;
  q.enc_key = key_b;
  memset(&q.inner, 0, sizeof(q.inner));
  assert_int_equal(esp_table_add(p->t, &q, &p->in), 0);
}

/* An IPv4/ICMP-ish packet src -> dst of len bytes. */
static size_t mk_ip(uint8_t *b, size_t len, const char *src, const char *dst)
{
  memset(b, 0, len);
  b[0] = 0x45;
  b[2] = (uint8_t)(len >> 8);
  b[3] = (uint8_t)len;
  b[8] = 64;
  b[9] = 1;
  inet_pton(AF_INET, src, b + 12);
  inet_pton(AF_INET, dst, b + 16);
  for (size_t i = 20; i < len; i++) {
    b[i] = (uint8_t)i;
  }
  return len;
}

/* Hand ipm an ESP-in-UDP datagram from src_port as demux would. */
static void demux_esp(ipm_t *m, const uint8_t *esp, size_t len, uint32_t src_port)
{
  Ikegw__Demux__Envelope env = IKEGW__DEMUX__ENVELOPE__INIT;
  Ikegw__Demux__Datagram dg = IKEGW__DEMUX__DATAGRAM__INIT;
  uint8_t hdr[256];
  dg.src_addr = PEER;
  dg.src_port = src_port;
  dg.dst_addr = GW;
  dg.dst_port = 4500;
  dg.natt = true;
  env.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM;
  env.datagram = &dg;
  size_t n = ikegw__demux__envelope__pack(&env, hdr);
  ipm_on_demux(m, hdr, n, esp, len);
}

/* Peer encrypts an inner packet from `src` and sends it from src_port. */
static void peer_send(ipm_t *m, peer_t *p, const char *src, uint32_t src_port)
{
  uint8_t inner[200], esp[400];
  size_t il = mk_ip(inner, 120, src, "198.51.100.10"), el;
  assert_int_equal(esp_encap(p->out, inner, il, esp, sizeof(esp), &el), 0);
  demux_esp(m, esp, el, src_port);
}

/* The gateway encrypts one packet to the VIP; returns the sent Datagram index. */
static size_t gw_send(ipm_t *m)
{
  uint8_t inner[200];
  size_t n0 = n_sent;
  ipm_tun_in(m, inner, mk_ip(inner, 100, "198.51.100.10", VIP));
  assert_int_equal(n_sent, n0 + 1);
  assert_int_equal(sent[n0].ch, IPM_CH_DEMUX);
  return n0;
}

static Ikegw__Demux__Datagram *dgram(size_t i, Ikegw__Demux__Envelope **envp)
{
  Ikegw__Demux__Envelope *e = ikegw__demux__envelope__unpack(NULL, sent[i].hdr_len, sent[i].hdr);
  assert_non_null(e);
  assert_int_equal(e->msg_case, IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM);
  *envp = e;
  return e->datagram;
}

/* ---------------------------------------------------------------- tests */

static void test_hello_add_result(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  send_hello(m);
  /* We hold nothing for slot 3: ask it to replay, addressed to its routing id. */
  assert_int_equal(n_sent, 1);
  assert_memory_equal(sent[0].id, slot3, 2);
  Ikegw__Ipsec__Envelope *e = sent_ipsec(0);
  assert_int_equal(e->msg_case, IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_REQUEST);
  assert_int_equal(e->replay_request->slot, 3);
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  /* A Hello claiming another slot than its routing id is refused. */
  send_hello_as(m, 4);
  assert_int_equal(n_sent, 1);
  assert_int_equal(ipm_counters(m)->ipc_bad, 1);

  add_pair(m);
  assert_non_null(ipm_find(m, 1, SPI_IN, SPI_IN));
  esp_sa_t *out = ipm_find(m, 2, SPI_OUT, SPI_IN);
  assert_non_null(out);
  assert_int_equal(out->udp_encap, 1);
  assert_string_equal(out->peer.str, PEER);
  assert_null(ipm_find(m, 2, SPI_OUT, SPI_IN + 1)); /* same SPI, other CHILD SA */
  assert_int_equal(ipm_counters(m)->sa_add, 2);
  /* Now slot 3 has SAs: a new Hello asks for nothing. */
  size_t n0 = n_sent;
  send_hello(m);
  assert_int_equal(n_sent, n0);
  ipm_free(m);
}

static void test_bad_input(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x0f, 0x22, 0x99};
  ipm_on_sessmgr(m, slot3, 2, junk, sizeof(junk));
  ipm_on_demux(m, junk, sizeof(junk), junk, sizeof(junk));
  ipm_on_ctl(m, slot3, 2, junk, sizeof(junk));
  assert_int_equal(ipm_counters(m)->ipc_bad, 3);
  assert_int_equal(n_sent, 0);
  /* Datagram header without the payload frame. */
  Ikegw__Demux__Envelope de = IKEGW__DEMUX__ENVELOPE__INIT;
  Ikegw__Demux__Datagram dg = IKEGW__DEMUX__DATAGRAM__INIT;
  uint8_t hdr[128];
  de.msg_case = IKEGW__DEMUX__ENVELOPE__MSG_DATAGRAM;
  de.datagram = &dg;
  ipm_on_demux(m, hdr, ikegw__demux__envelope__pack(&de, hdr), NULL, 0);
  assert_int_equal(ipm_counters(m)->ipc_bad, 4);
  /* An IKE datagram (marker set) is not ESP. */
  dg.natt = true;
  dg.non_esp_marker = true;
  dg.src_addr = PEER;
  dg.src_port = 4500;
  ipm_on_demux(m, hdr, ikegw__demux__envelope__pack(&de, hdr), junk, sizeof(junk));
  assert_int_equal(ipm_counters(m)->esp_rx_not_esp, 1);

  /* SaAdd with a wrong key length: refused with EINVAL, nothing installed. */
  uint8_t shortkey[36] = {0};
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaAdd a = IKEGW__IPSEC__SA_ADD__INIT;
  Ikegw__Ipsec__SaId id = IKEGW__IPSEC__SA_ID__INIT;
  id.direction = IKEGW__IPSEC__DIRECTION__DIR_IN;
  id.spi = SPI_IN;
  a.id = &id;
  a.encr_id = IKE_ENCR_AES_GCM_16;
  a.encr_key_bits = 256;
  a.enc_key.data = shortkey;
  a.enc_key.len = 20;
  a.local_addr = GW;
  a.peer_addr = PEER;
  env.id = 7;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD;
  env.sa_add = &a;
  feed(m, &env);
  Ikegw__Ipsec__Envelope *e = sent_ipsec(0);
  assert_int_equal(e->id, 7);
  assert_false(e->sa_result->ok);
  assert_true(e->sa_result->errno_value > 0);
  assert_true(strlen(e->sa_result->error) > 0);
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  /* Bad address, missing id, outbound without a virtual IP: all refused. */
  a.enc_key.len = 36;
  a.peer_addr = "not-an-address";
  env.id = 8;
  feed(m, &env);
  assert_false(result_ok(1, 8));
  a.id = NULL;
  env.id = 9;
  feed(m, &env);
  assert_false(result_ok(2, 9));
  a.id = &id;
  a.peer_addr = PEER;
  id.direction = IKEGW__IPSEC__DIRECTION__DIR_OUT;
  id.spi = SPI_OUT;
  id.child_in_spi = SPI_IN;
  env.id = 10;
  feed(m, &env);
  assert_false(result_ok(3, 10));
  assert_int_equal(esp_table_count(ipm_table(m)), 0);
  assert_int_equal(ipm_counters(m)->sa_add_failed, 4);
  /* An answer-type message sent to us: refused with a result, no crash. */
  Ikegw__Ipsec__SaResult r = IKEGW__IPSEC__SA_RESULT__INIT;
  env.id = 12;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_RESULT;
  env.sa_result = &r;
  feed(m, &env);
  assert_false(result_ok(4, 12));
  /* ESP: unknown SPI and a truncated packet are counted, nothing reaches the TUN. */
  uint8_t esp[64] = {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1};
  demux_esp(m, esp, sizeof(esp), 4500);
  demux_esp(m, esp, 3, 4500);
  assert_int_equal(ipm_counters(m)->esp_rx_dropped, 2);
  assert_int_equal(ipm_drops(m, ESP_E_UNKNOWN_SPI), 1);
  assert_int_equal(ipm_drops(m, ESP_E_TRUNCATED), 1);
  assert_int_equal(n_tun, 0);
  /* A TUN packet with no SA, and a runt. */
  ipm_tun_in(m, esp, sizeof(esp));
  ipm_tun_in(m, esp, 1);
  assert_int_equal(ipm_counters(m)->tun_no_sa, 2);
  ipm_free(m);
}

static void test_datapath_both_ways(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  peer_t p;
  mk_peer(&p);
  add_pair(m);
  /* Inbound: client -> server, decapsulated into the TUN. */
  peer_send(m, &p, VIP, 4500);
  assert_int_equal(n_tun, 1);
  assert_int_equal(tun_len, 120);
  uint8_t want[200];
  mk_ip(want, 120, VIP, "198.51.100.10");
  assert_memory_equal(tun_pkt, want, 120);
  assert_int_equal(ipm_counters(m)->esp_rx_ok, 1);
  /* Outbound: server -> VIP, ESP-in-UDP to demux from 4500, no marker. */
  size_t i = gw_send(m);
  Ikegw__Demux__Envelope *e;
  Ikegw__Demux__Datagram *dg = dgram(i, &e);
  assert_true(dg->natt);
  assert_false(dg->non_esp_marker);
  assert_string_equal(dg->src_addr, GW);
  assert_int_equal(dg->src_port, 4500);
  assert_string_equal(dg->dst_addr, PEER);
  assert_int_equal(dg->dst_port, 4500);
  ikegw__demux__envelope__free_unpacked(e, NULL);
  uint8_t inner[300];
  size_t il;
  esp_sa_t *sa;
  assert_int_equal(esp_decap(p.t, sent[i].pkt, sent[i].pkt_len, inner, sizeof(inner), &il, &sa), 0);
  assert_int_equal(il, 100);
  assert_int_equal(ipm_counters(m)->esp_tx_udp, 1);
  /* Inner source outside the SA's selector: dropped and counted. */
  peer_send(m, &p, "10.10.0.6", 4500);
  assert_int_equal(n_tun, 1);
  assert_int_equal(ipm_counters(m)->esp_ts_mismatch, 1);
  /* A replayed packet is dropped by the ESP layer. */
  uint8_t in2[200], esp[400];
  size_t el;
  assert_int_equal(esp_encap(p.out, in2, mk_ip(in2, 60, VIP, "198.51.100.10"), esp, sizeof(esp), &el), 0);
  demux_esp(m, esp, el, 4500);
  demux_esp(m, esp, el, 4500);
  assert_int_equal(n_tun, 2);
  assert_int_equal(ipm_drops(m, ESP_E_REPLAY), 1);
  esp_table_free(p.t);
  ipm_free(m);
}

static void test_update_keeps_seq(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  add_pair(m);
  for (int k = 0; k < 3; k++) {
    gw_send(m);
  }
  esp_sa_t *out = ipm_find(m, 2, SPI_OUT, SPI_IN);
  assert_int_equal(out->seq, 3);
  /* MOBIKE: the client moved to 192.0.2.12:4501. */
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaUpdate up = IKEGW__IPSEC__SA_UPDATE__INIT;
  Ikegw__Ipsec__SaId ids[2], *ptr[2];
  sa_ids(ids, ptr);
  up.n_ids = 2;
  up.ids = ptr;
  up.local_addr = GW;
  up.local_port = 4500;
  up.peer_addr = "192.0.2.12";
  up.peer_port = 4501;
  up.udp_encap = true;
  up.new_ike_spi = 0x42;
  env.id = 20;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_UPDATE;
  env.sa_update = &up;
  size_t n0 = n_sent;
  feed(m, &env);
  assert_true(result_ok(n0, 20));
  size_t i = gw_send(m);
  Ikegw__Demux__Envelope *e;
  Ikegw__Demux__Datagram *dg = dgram(i, &e);
  assert_string_equal(dg->dst_addr, "192.0.2.12");
  assert_int_equal(dg->dst_port, 4501);
  ikegw__demux__envelope__free_unpacked(e, NULL);
  assert_int_equal(out->seq, 4); /* sequence continues, not reset */
  assert_int_equal(sent[i].pkt[7], 4);
  /* An update naming an unknown SA fails the request. */
  ids[1].spi = 0x1234;
  env.id = 21;
  feed(m, &env);
  assert_false(result_ok(n_sent - 1, 21));
  assert_int_equal(ipm_counters(m)->sa_update_unknown, 1);
  /* Bad address: refused, SA untouched. */
  up.peer_addr = "x";
  env.id = 22;
  feed(m, &env);
  assert_false(result_ok(n_sent - 1, 22));
  assert_string_equal(out->peer.str, "192.0.2.12");
  ipm_free(m);
}

static void test_nat_rebinding(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  peer_t p;
  mk_peer(&p);
  add_pair(m);
  peer_send(m, &p, VIP, 4500);
  assert_int_equal(ipm_counters(m)->esp_nat_rebind, 0);
  /* The NAT gave the client a new port: authenticated ESP from 4777. */
  peer_send(m, &p, VIP, 4777);
  assert_int_equal(n_tun, 2);
  assert_int_equal(ipm_counters(m)->esp_nat_rebind, 1);
  size_t i = gw_send(m);
  Ikegw__Demux__Envelope *e;
  Ikegw__Demux__Datagram *dg = dgram(i, &e);
  assert_int_equal(dg->dst_port, 4777);
  ikegw__demux__envelope__free_unpacked(e, NULL);
  /* Garbage "from" yet another port does not move anything (no valid ICV). */
  uint8_t esp[64] = {0};
  esp[0] = (uint8_t)(SPI_IN >> 24);
  esp[1] = (uint8_t)(SPI_IN >> 16);
  esp[2] = (uint8_t)(SPI_IN >> 8);
  esp[3] = (uint8_t)SPI_IN;
  esp[7] = 9;
  demux_esp(m, esp, sizeof(esp), 5000);
  assert_int_equal(ipm_counters(m)->esp_nat_rebind, 1);
  assert_int_equal(ipm_drops(m, ESP_E_ICV_FAILED), 1);
  i = gw_send(m);
  dg = dgram(i, &e);
  assert_int_equal(dg->dst_port, 4777);
  ikegw__demux__envelope__free_unpacked(e, NULL);
  esp_table_free(p.t);
  ipm_free(m);
}

/* The destination port of the gateway's next ESP datagram. */
static uint32_t next_dst_port(ipm_t *m)
{
  size_t i = gw_send(m);
  Ikegw__Demux__Envelope *e;
  Ikegw__Demux__Datagram *dg = dgram(i, &e);
  uint32_t port = dg->dst_port;
  ikegw__demux__envelope__free_unpacked(e, NULL);
  return port;
}

/* Issue 12 item 6: a CHILD SA of a MOBIKE SA (SaAdd.no_rebind) is not moved
 * by authenticated ESP from a new source (RFC 4555 3.5); the packet is still
 * delivered. The flag holds after a resync SaAdd (sessmgr's replay). */
static void test_no_rebind_mobike(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  peer_t p;
  mk_peer(&p);
  addreq_t in = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_a, .no_rebind = true};
  addreq_t out = {.dir = IKEGW__IPSEC__DIRECTION__DIR_OUT, .key = key_b, .no_rebind = true};
  size_t n0 = n_sent;
  send_add(m, 11, &in);
  send_add(m, 12, &out);
  assert_true(result_ok(n0, 11));
  assert_true(result_ok(n0 + 1, 12));
  peer_send(m, &p, VIP, 4500);
  /* Authenticated ESP from a new port: delivered, but the SA stays. */
  peer_send(m, &p, VIP, 4777);
  assert_int_equal(n_tun, 2);
  assert_int_equal(ipm_counters(m)->esp_nat_rebind, 0);
  assert_int_equal(ipm_counters(m)->esp_rebind_refused, 1);
  assert_int_equal(next_dst_port(m), 4500);
  assert_int_equal(ipm_find(m, 1, SPI_IN, SPI_IN)->peer.ss.ss_family, AF_INET);
  /* sessmgr replays (resync, same keys, flag set): still no rebinding. */
  in.resync = true;
  out.resync = true;
  n0 = n_sent;
  send_add(m, 13, &in);
  send_add(m, 14, &out);
  assert_true(result_ok(n0, 13));
  assert_true(result_ok(n0 + 1, 14));
  assert_int_equal(ipm_counters(m)->sa_resync_kept, 2);
  peer_send(m, &p, VIP, 4888);
  assert_int_equal(ipm_counters(m)->esp_nat_rebind, 0);
  assert_int_equal(ipm_counters(m)->esp_rebind_refused, 2);
  assert_int_equal(next_dst_port(m), 4500);
  /* The same SA replayed without the flag (not MOBIKE) follows the NAT again. */
  in.no_rebind = false;
  send_add(m, 15, &in);
  assert_true(result_ok(n_sent - 1, 15));
  peer_send(m, &p, VIP, 4999);
  assert_int_equal(ipm_counters(m)->esp_nat_rebind, 1);
  assert_int_equal(next_dst_port(m), 4999);
  esp_table_free(p.t);
  ipm_free(m);
}

static void test_del(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  add_pair(m);
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaDel del = IKEGW__IPSEC__SA_DEL__INIT;
  Ikegw__Ipsec__SaId ids[2], *ptr[2];
  sa_ids(ids, ptr);
  del.n_ids = 2;
  del.ids = ptr;
  env.id = 30;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_DEL;
  env.sa_del = &del;
  feed(m, &env);
  assert_true(result_ok(n_sent - 1, 30));
  assert_int_equal(esp_table_count(ipm_table(m)), 0);
  assert_int_equal(ipm_counters(m)->sa_del, 2);
  uint8_t inner[100];
  ipm_tun_in(m, inner, mk_ip(inner, 100, "198.51.100.10", VIP));
  assert_int_equal(ipm_counters(m)->tun_no_sa, 1);
  /* Deleting again: ok (resync semantics) with a warning text. */
  env.id = 31;
  feed(m, &env);
  Ikegw__Ipsec__Envelope *e = sent_ipsec(n_sent - 1);
  assert_true(e->sa_result->ok);
  assert_non_null(strstr(e->sa_result->error, "unknown"));
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  assert_int_equal(ipm_counters(m)->sa_del_unknown, 2);
  /* The table slots were freed: the pair can be installed again. */
  add_pair(m);
  ipm_free(m);
}

/* SaExpire i: direction, hard flag, sent to slot 3's routing id. */
static void expect_expire(size_t i, int dir, bool hard)
{
  assert_int_equal(sent[i].id_len, 2);
  assert_memory_equal(sent[i].id, slot3, 2);
  Ikegw__Ipsec__Envelope *e = sent_ipsec(i);
  assert_int_equal(e->msg_case, IKEGW__IPSEC__ENVELOPE__MSG_SA_EXPIRE);
  assert_int_equal(e->id, 0);
  assert_int_equal(e->sa_expire->id->direction, dir);
  assert_int_equal(e->sa_expire->id->child_in_spi, SPI_IN);
  assert_int_equal(e->sa_expire->hard, hard);
  assert_int_equal(e->sa_expire->ike_spi, 0x0003aabbccddeeffULL);
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
}

static void test_lifetime_packets(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  addreq_t out = {.dir = IKEGW__IPSEC__DIRECTION__DIR_OUT, .key = key_b, .soft_packets = 2,
                  .hard_packets = 3};
  send_add(m, 40, &out);
  assert_true(result_ok(0, 40));
  gw_send(m);
  size_t n0 = n_sent;
  uint8_t inner[100];
  ipm_tun_in(m, inner, mk_ip(inner, 100, "198.51.100.10", VIP)); /* 2nd: soft */
  assert_int_equal(n_sent, n0 + 2); /* SaExpire, then the packet */
  expect_expire(n0, IKEGW__IPSEC__DIRECTION__DIR_OUT, false);
  n0 = n_sent;
  ipm_tun_in(m, inner, mk_ip(inner, 100, "198.51.100.10", VIP)); /* 3rd: hard */
  assert_int_equal(n_sent, n0 + 2);
  expect_expire(n0, IKEGW__IPSEC__DIRECTION__DIR_OUT, true);
  /* The hard limit removed the SA: nothing more goes out. */
  assert_null(ipm_find(m, 2, SPI_OUT, SPI_IN));
  assert_int_equal(esp_table_count(ipm_table(m)), 0);
  n0 = n_sent;
  ipm_tun_in(m, inner, mk_ip(inner, 100, "198.51.100.10", VIP));
  assert_int_equal(n_sent, n0);
  assert_int_equal(ipm_counters(m)->sa_expire_soft, 1);
  assert_int_equal(ipm_counters(m)->sa_expire_hard, 1);
  ipm_free(m);
}

static void test_lifetime_seconds(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  fake_now = 2000000;
  addreq_t in = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_a, .soft_s = 10, .hard_s = 20};
  send_add(m, 50, &in);
  assert_true(result_ok(0, 50));
  ipm_tick(m);
  assert_int_equal(n_sent, 1);
  fake_now += 10;
  ipm_tick(m);
  assert_int_equal(n_sent, 2);
  expect_expire(1, IKEGW__IPSEC__DIRECTION__DIR_IN, false);
  ipm_tick(m); /* reported once */
  assert_int_equal(n_sent, 2);
  fake_now += 10;
  ipm_tick(m);
  assert_int_equal(n_sent, 3);
  expect_expire(2, IKEGW__IPSEC__DIRECTION__DIR_IN, true);
  assert_null(ipm_find(m, 1, SPI_IN, SPI_IN));
  ipm_free(m);
}

static void test_resync_and_replay_done(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  peer_t p;
  mk_peer(&p);
  add_pair(m);
  gw_send(m);
  gw_send(m);
  peer_send(m, &p, VIP, 4500);
  /* sessmgr restarted: Hello, then replays only the inbound SA, same keys. */
  send_hello(m);
  addreq_t in = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_a, .resync = true};
  size_t n0 = n_sent;
  send_add(m, 60, &in);
  assert_true(result_ok(n0, 60));
  assert_int_equal(ipm_counters(m)->sa_resync_kept, 1);
  esp_sa_t *sin = ipm_find(m, 1, SPI_IN, SPI_IN);
  assert_int_equal(sin->st.packets, 1); /* counters and replay state kept */
  assert_int_equal(sin->replay.top, 1);
  /* The same SaAdd without resync but with other keys: refused. */
  addreq_t bad = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_b};
  send_add(m, 61, &bad);
  assert_false(result_ok(n_sent - 1, 61));
  /* ReplayDone: the outbound SA was not named since the Hello -> removed. */
  send_replay_done(m, 62, 1);
  assert_true(result_ok(n_sent - 1, 62));
  assert_null(ipm_find(m, 2, SPI_OUT, SPI_IN));
  assert_non_null(ipm_find(m, 1, SPI_IN, SPI_IN));
  assert_int_equal(ipm_counters(m)->sa_stale_removed, 1);
  /* Resync with new keys replaces the SA: fresh state. */
  addreq_t rk = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_b, .resync = true};
  send_add(m, 63, &rk);
  assert_true(result_ok(n_sent - 1, 63));
  sin = ipm_find(m, 1, SPI_IN, SPI_IN);
  assert_int_equal(sin->st.packets, 0);
  assert_int_equal(ipm_counters(m)->sa_replaced, 1);
  assert_int_equal(esp_table_count(ipm_table(m)), 1);
  esp_table_free(p.t);
  ipm_free(m);
}

/* ReplayDone names how many SaAdd the replay sent: if fewer arrived (lost on
 * the way), ipsecmgr removes nothing and asks for the replay again (issue 8:
 * before, every SA not received was deleted as stale). */
static void test_replay_done_count_mismatch(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  add_pair(m);
  send_hello(m);
  /* The replay sent 2 SaAdd; only the inbound one arrived. */
  addreq_t in = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_a, .resync = true};
  send_add(m, 70, &in);
  size_t n0 = n_sent;
  send_replay_done(m, 71, 2);
  assert_int_equal(n_sent, n0 + 2);
  assert_false(result_ok(n0, 71));
  Ikegw__Ipsec__Envelope *rq = sent_ipsec(n0 + 1);
  assert_int_equal(rq->msg_case, IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_REQUEST);
  ikegw__ipsec__envelope__free_unpacked(rq, NULL);
  assert_non_null(ipm_find(m, 2, SPI_OUT, SPI_IN)); /* nothing removed */
  assert_int_equal(ipm_counters(m)->replay_incomplete, 1);
  assert_int_equal(ipm_counters(m)->sa_stale_removed, 0);
  /* The replay asked for arrives whole: accepted, nothing stale. */
  addreq_t out = {.dir = IKEGW__IPSEC__DIRECTION__DIR_OUT, .key = key_b, .resync = true};
  send_add(m, 72, &in);
  send_add(m, 73, &out);
  send_replay_done(m, 74, 2);
  assert_true(result_ok(n_sent - 1, 74));
  assert_non_null(ipm_find(m, 1, SPI_IN, SPI_IN));
  assert_non_null(ipm_find(m, 2, SPI_OUT, SPI_IN));
  assert_int_equal(ipm_counters(m)->sa_stale_removed, 0);
  ipm_free(m);
}

static void test_query_and_ctl(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  peer_t p;
  mk_peer(&p);
  add_pair(m);
  peer_send(m, &p, VIP, 4500);
  peer_send(m, &p, VIP, 4500);
  gw_send(m);
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaQuery q = IKEGW__IPSEC__SA_QUERY__INIT;
  Ikegw__Ipsec__SaId ids[2], *ptr[2];
  sa_ids(ids, ptr);
  ids[1].spi = 0x999; /* unknown */
  q.n_ids = 2;
  q.ids = ptr;
  env.id = 70;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_QUERY;
  env.sa_query = &q;
  feed(m, &env);
  Ikegw__Ipsec__Envelope *e = sent_ipsec(n_sent - 1);
  assert_int_equal(e->msg_case, IKEGW__IPSEC__ENVELOPE__MSG_SA_STATS);
  assert_int_equal(e->id, 70);
  assert_int_equal(e->sa_stats->n_sas, 2);
  assert_true(e->sa_stats->sas[0]->found);
  assert_int_equal(e->sa_stats->sas[0]->packets, 2);
  assert_int_equal(e->sa_stats->sas[0]->seq, 2);
  assert_false(e->sa_stats->sas[1]->found);
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  /* By owner slot: both SAs. */
  q.n_ids = 0;
  q.owner_slot = 3;
  env.id = 71;
  feed(m, &env);
  e = sent_ipsec(n_sent - 1);
  assert_int_equal(e->sa_stats->n_sas, 2);
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  /* gwctl StatsRequest. */
  Ikegw__Ctl__Envelope ce = IKEGW__CTL__ENVELOPE__INIT;
  Ikegw__Ctl__StatsRequest sr = IKEGW__CTL__STATS_REQUEST__INIT;
  uint8_t buf[256];
  sr.prefix = "esp_";
  ce.id = 5;
  ce.msg_case = IKEGW__CTL__ENVELOPE__MSG_STATS_REQUEST;
  ce.stats_request = &sr;
  ipm_on_ctl(m, (const uint8_t *)"g", 1, buf, ikegw__ctl__envelope__pack(&ce, buf));
  assert_int_equal(sent[n_sent - 1].ch, IPM_CH_CTL);
  Ikegw__Ctl__Envelope *ca = ikegw__ctl__envelope__unpack(NULL, sent[n_sent - 1].hdr_len,
                                                          sent[n_sent - 1].hdr);
  assert_non_null(ca);
  assert_int_equal(ca->msg_case, IKEGW__CTL__ENVELOPE__MSG_STATS_RESPONSE);
  assert_string_equal(ca->stats_response->process, "ipsecmgr");
  bool seen_rx = false;
  for (size_t i = 0; i < ca->stats_response->n_counters; i++) {
    assert_memory_equal(ca->stats_response->counters[i]->name, "esp_", 4);
    if (strcmp(ca->stats_response->counters[i]->name, "esp_rx_ok") == 0) {
      assert_int_equal(ca->stats_response->counters[i]->value, 2);
      seen_rx = true;
    }
  }
  assert_true(seen_rx);
  ikegw__ctl__envelope__free_unpacked(ca, NULL);
  esp_table_free(p.t);
  ipm_free(m);
}

/* ESP-in-UDP sent directly (main.c's raw UDP socket) instead of via demux. */
static int udp_rc;
static size_t n_udp;
static char udp_dst[64];

static int cap_udp(void *ctx, const esp_sa_t *sa, const uint8_t *pkt, size_t len)
{
  (void)ctx;
  (void)pkt;
  assert_true(len > 8);
  snprintf(udp_dst, sizeof(udp_dst), "%s", sa->peer.str);
  n_udp++;
  return udp_rc;
}

static void test_direct_udp_send(void **state)
{
  (void)state;
  ipm_cfg_t c = {.max_sas = 8,
                 .ops = {.send = cap_send, .tun_write = cap_tun, .udp_send = cap_udp, .now_s = cap_now}};
  ipm_t *m = NULL;
  n_sent = n_tun = n_udp = 0;
  assert_int_equal(ipm_new(&c, &m), 0);
  add_pair(m);
  size_t n0 = n_sent;
  uint8_t inner[100];
  udp_rc = 0;
  ipm_tun_in(m, inner, mk_ip(inner, 100, "198.51.100.10", VIP));
  assert_int_equal(n_udp, 1);
  assert_string_equal(udp_dst, PEER);
  assert_int_equal(n_sent, n0); /* nothing through demux */
  assert_int_equal(ipm_counters(m)->esp_tx_udp_direct, 1);
  /* Not available (-ENOTSUP): falls back to a Datagram through demux. */
  udp_rc = -ENOTSUP;
  gw_send(m);
  assert_int_equal(ipm_counters(m)->esp_tx_udp, 1);
  /* Failed otherwise: counted, not retried through demux. */
  udp_rc = -EPERM;
  ipm_tun_in(m, inner, mk_ip(inner, 100, "198.51.100.10", VIP));
  assert_int_equal(n_sent, n0 + 1);
  assert_int_equal(ipm_counters(m)->esp_tx_err, 1);
  assert_int_equal(ipm_counters(m)->esp_tx, 2);
  ipm_free(m);
}

/* ---------------------------------------------------------------- route ownership
 * Issue 12 item 1: an inner address (virtual IP) is the outbound route of one
 * IKE SA. Another IKE SA's SaAdd claiming it is refused (before: "newest
 * first" took the route, and the first client's downlink with it). */

#define OWN_VIP "10.10.0.7"

typedef struct ownreq {
  uint16_t slot;
  uint64_t ike_spi;
  uint32_t spi_in, spi_out;   /* the CHILD SA */
  const uint8_t *key;
  bool resync;
} ownreq_t;

/* One SaAdd of the CHILD SA r (direction dir) from sessmgr slot r->slot. */
static void own_add(ipm_t *m, uint64_t req, const ownreq_t *r, int dir)
{
  addreq_t a = {.dir = dir, .key = r->key, .resync = r->resync, .spi_in = r->spi_in,
                .spi_out = r->spi_out, .vip = OWN_VIP, .slot = r->slot,
                .ike_spi = r->ike_spi};
  send_add(m, req, &a);
}

/* Both SAs of CHILD SA r; the SaResults' ok flags in *in_ok / *out_ok. */
static void own_pair(ipm_t *m, uint64_t req, const ownreq_t *r, bool *in_ok, bool *out_ok)
{
  size_t n0 = n_sent;
  own_add(m, req, r, IKEGW__IPSEC__DIRECTION__DIR_IN);
  own_add(m, req + 1, r, IKEGW__IPSEC__DIRECTION__DIR_OUT);
  assert_int_equal(n_sent, n0 + 2);
  *in_ok = result_ok(n0, req);
  *out_ok = result_ok(n0 + 1, req + 1);
}

/* The first owner's CHILD SA of the route tests. */
#define OWN_A {3, 0x0003000000000a01ULL, 0x03000001u, 0xa0000001u, key_a, false}

/* A fresh ipsecmgr holding CHILD SA a (both SaAdds accepted). */
static ipm_t *mk_owned(uint64_t req, const ownreq_t *a)
{
  ipm_t *m = mk_ipm();
  bool in_ok, out_ok;
  own_pair(m, req, a, &in_ok, &out_ok);
  assert_true(in_ok && out_ok);
  return m;
}

/* The outbound SA that traffic to OWN_VIP takes now. */
static uint32_t route_spi(ipm_t *m)
{
  esp_inaddr_t a;
  assert_int_equal(esp_inaddr_parse(&a, OWN_VIP), 0);
  esp_sa_t *sa = esp_table_find_out(ipm_table(m), &a);
  return sa != NULL ? sa->spi : 0;
}

static void test_route_owned_other_ike_sa(void **state)
{
  (void)state;
  bool in_ok, out_ok;
  ownreq_t a = OWN_A;
  ipm_t *m = mk_owned(100, &a);
  assert_int_equal(route_spi(m), a.spi_out);
  /* Another IKE SA of the same slot claims the same inner address: refused,
   * and its inbound half goes too. */
  ownreq_t b = {3, 0x0003000000000b02ULL, 0x03000002u, 0xb0000002u, key_b, false};
  own_pair(m, 110, &b, &in_ok, &out_ok);
  assert_false(out_ok);
  assert_int_equal(ipm_counters(m)->sa_route_owned, 1);
  assert_null(ipm_find(m, 2, b.spi_out, b.spi_in));
  assert_null(ipm_find(m, 1, b.spi_in, b.spi_in));
  assert_int_equal(route_spi(m), a.spi_out); /* A keeps its downlink */
  /* ... and from another slot (sessmgr), the same. */
  ownreq_t c = {4, 0x0004000000000c03ULL, 0x04000003u, 0xc0000003u, key_b, false};
  own_pair(m, 120, &c, &in_ok, &out_ok);
  assert_false(out_ok);
  assert_int_equal(ipm_counters(m)->sa_route_owned, 2);
  assert_int_equal(route_spi(m), a.spi_out);
  /* Once A's CHILD SA is gone the address is free for another IKE SA. */
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaDel d = IKEGW__IPSEC__SA_DEL__INIT;
  Ikegw__Ipsec__SaId ids[2] = {IKEGW__IPSEC__SA_ID__INIT, IKEGW__IPSEC__SA_ID__INIT};
  Ikegw__Ipsec__SaId *idp[2] = {&ids[0], &ids[1]};
  ids[0].direction = IKEGW__IPSEC__DIRECTION__DIR_IN;
  ids[0].spi = a.spi_in;
  ids[0].child_in_spi = a.spi_in;
  ids[1].direction = IKEGW__IPSEC__DIRECTION__DIR_OUT;
  ids[1].spi = a.spi_out;
  ids[1].child_in_spi = a.spi_in;
  d.n_ids = 2;
  d.ids = idp;
  env.id = 130;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_DEL;
  env.sa_del = &d;
  feed(m, &env);
  own_pair(m, 140, &b, &in_ok, &out_ok);
  assert_true(in_ok && out_ok);
  assert_int_equal(route_spi(m), b.spi_out);
  ipm_free(m);
}

/* CHILD rekeys of the owner still work, also after an IKE rekey (the sessmgr
 * names the new IKE SPI with an identical SaAdd first, engine rekey_ike). */
static void test_route_owner_rekeys(void **state)
{
  (void)state;
  bool in_ok, out_ok;
  ownreq_t a = OWN_A;
  ipm_t *m = mk_owned(200, &a);
  /* CHILD rekey: a new CHILD SA of the same IKE SA (make before break). */
  ownreq_t a2 = {3, a.ike_spi, 0x03000011u, 0xa0000011u, key_b, false};
  own_pair(m, 210, &a2, &in_ok, &out_ok);
  assert_true(in_ok && out_ok);
  assert_int_equal(route_spi(m), a2.spi_out);
  /* IKE rekey: both CHILD SAs named again under the new IKE SPI, same keys. */
  uint64_t new_ike = 0x0003000000000a99ULL;
  ownreq_t a_n = a, a2_n = a2;
  a_n.ike_spi = new_ike;
  a2_n.ike_spi = new_ike;
  own_pair(m, 220, &a_n, &in_ok, &out_ok);
  assert_true(in_ok && out_ok);
  own_pair(m, 230, &a2_n, &in_ok, &out_ok);
  assert_true(in_ok && out_ok);
  assert_int_equal(ipm_counters(m)->sa_resync_kept, 4);
  /* A CHILD rekey of the new IKE SA takes the route. */
  ownreq_t a3 = {3, new_ike, 0x03000021u, 0xa0000021u, key_a, false};
  own_pair(m, 240, &a3, &in_ok, &out_ok);
  assert_true(in_ok && out_ok);
  assert_int_equal(route_spi(m), a3.spi_out);
  assert_int_equal(ipm_counters(m)->sa_route_owned, 0);
  ipm_free(m);
}

/* A leftover of a restarted sessmgr that its replay did not name (it is
 * removed at ReplayDone) does not block the slot's new owner. */
static void test_route_stale_leftover(void **state)
{
  (void)state;
  bool in_ok, out_ok;
  ownreq_t a = OWN_A;
  ipm_t *m = mk_owned(300, &a);
  send_hello(m);
  ownreq_t b = {3, 0x0003000000000b02ULL, 0x03000002u, 0xb0000002u, key_b, false};
  own_pair(m, 310, &b, &in_ok, &out_ok);
  assert_true(in_ok && out_ok);
  assert_int_equal(route_spi(m), b.spi_out);
  /* But not another slot's leftover: slot 4 has not restarted. */
  ownreq_t c = {4, 0x0004000000000c03ULL, 0x04000003u, 0xc0000003u, key_a, false};
  own_pair(m, 320, &c, &in_ok, &out_ok);
  assert_false(out_ok);
  ipm_free(m);
}

/* A full SA table is named as such, with the remedy (issue 13 item 7: it
 * once read "an SA with this id and other keys exists"). */
static void test_table_full_named(void **state)
{
  (void)state;
  ipm_cfg_t c = {.max_sas = 4, .ops = {.send = cap_send, .tun_write = cap_tun, .now_s = cap_now}};
  ipm_t *m = NULL;
  n_sent = n_tun = 0;
  assert_int_equal(ipm_new(&c, &m), 0);
  static const char *const vips[] = {"10.10.0.5", "10.10.0.6", "10.10.0.7"};
  for (uint32_t k = 0; k < 3; k++) {
    addreq_t in = {.dir = IKEGW__IPSEC__DIRECTION__DIR_IN, .key = key_a,
                   .spi_in = SPI_IN + k, .spi_out = SPI_OUT + k, .vip = vips[k]};
    addreq_t out = in;
    out.dir = IKEGW__IPSEC__DIRECTION__DIR_OUT;
    out.key = key_b;
    send_add(m, 100 + 2 * k, &in);
    send_add(m, 101 + 2 * k, &out);
  }
  assert_int_equal(n_sent, 6);
  for (size_t i = 0; i < 4; i++) {
    assert_true(result_ok(i, 100 + i));
  }
  Ikegw__Ipsec__Envelope *e = sent_ipsec(4);
  assert_int_equal(e->msg_case, IKEGW__IPSEC__ENVELOPE__MSG_SA_RESULT);
  assert_false(e->sa_result->ok);
  assert_non_null(strstr(e->sa_result->error, "SA table is full (4 SAs"));
  assert_non_null(strstr(e->sa_result->error, "datapath max-sas"));
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  assert_int_equal(ipm_counters(m)->sa_table_full, 2);
  ipm_free(m);
}

int main(void)
{
  for (size_t i = 0; i < sizeof(key_a); i++) {
    key_a[i] = (uint8_t)(i + 1);
    key_b[i] = (uint8_t)(0x80 + i);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello_add_result),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_datapath_both_ways),
      cmocka_unit_test(test_update_keeps_seq),
      cmocka_unit_test(test_nat_rebinding),
      cmocka_unit_test(test_no_rebind_mobike),
      cmocka_unit_test(test_del),
      cmocka_unit_test(test_lifetime_packets),
      cmocka_unit_test(test_lifetime_seconds),
      cmocka_unit_test(test_resync_and_replay_done),
      cmocka_unit_test(test_query_and_ctl),
      cmocka_unit_test(test_direct_udp_send),
      cmocka_unit_test(test_route_owned_other_ike_sa),
      cmocka_unit_test(test_route_owner_rekeys),
      cmocka_unit_test(test_route_stale_leftover),
      cmocka_unit_test(test_table_full_named),
      cmocka_unit_test(test_replay_done_count_mismatch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
