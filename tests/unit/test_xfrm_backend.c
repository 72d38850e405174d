/*
 * test_xfrm_backend.c - ipsecmgr's datapath backends (ipsecmgr/backend.h):
 * selection by the config's `datapath`, selector ranges as prefixes, and how
 * dispatch.c propagates backend results - driven through a recording fake
 * backend (pure) - plus the real XFRM backend against the kernel in a private
 * network namespace (root only; skipped otherwise).
 *
 * Covers: a refused SA state -> SaResult ok=false with the backend's text and
 * errno, nothing recorded, no policies; policies installed once per CHILD SA
 * when its second SA is in (reqid = inbound SPI, prefixes, outer addresses) and
 * removed with its last SA; a refused policy set removes the SA again; SaUpdate
 * goes through update_sa with the pre-move policies; ReplayDone calls reconcile
 * with the slot and a working claimed(); XFRM: state add on a kernel without
 * ESP fails with the clear sentence (or succeeds where ESP exists), the in/out/
 * fwd policies of a CHILD SA go in and out as one batch, a batch with a failing
 * member leaves nothing behind, reconcile removes our unclaimed policies and
 * leaves foreign ones.
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
#include <linux/xfrm.h>
#include <sched.h>
#include <unistd.h>

#include "backend.h"
#include "ike_config.h"
#include "ike_slot.h"
#include "ike_wire.h"
#include "ikegw_ipsec.pb-c.h"
#include "ipsecmgr.h"
#include "xfrm.h"

#define SPI_IN 0x05000101u /* slot 5 in the top byte, as sessmgr allocates */
#define SPI_OUT 0xc0ffee01u
#define VIP "10.10.0.5"
#define PEER "192.0.2.11"
#define GW "192.0.2.1"

static uint8_t key_a[36], key_b[36];
static const uint8_t slot5[IKE_SLOT_ID_LEN] = {0, 5};

/* ---------------------------------------------------------------- capture */

static uint8_t last_ok;
static int32_t last_errno;
static char last_err[512];

static int cap_send(void *ctx, ipm_ch_t ch, const uint8_t *id, size_t id_len,
                    const ProtobufCMessage *msg, const uint8_t *pkt, size_t pkt_len)
{
  (void)ctx;
  (void)id;
  (void)id_len;
  (void)pkt;
  (void)pkt_len;
  if (ch != IPM_CH_SESSMGR) {
    return 0;
  }
  uint8_t buf[2048];
  size_t n = protobuf_c_message_pack(msg, buf);
  Ikegw__Ipsec__Envelope *e = ikegw__ipsec__envelope__unpack(NULL, n, buf);
  assert_non_null(e);
  if (e->msg_case == IKEGW__IPSEC__ENVELOPE__MSG_SA_RESULT) {
    last_ok = e->sa_result->ok;
    last_errno = e->sa_result->errno_value;
    snprintf(last_err, sizeof(last_err), "%s", e->sa_result->error);
  }
  ikegw__ipsec__envelope__free_unpacked(e, NULL);
  return 0;
}

/* ---------------------------------------------------------------- fake backend */

static struct {
  int add_sa_rc, add_pol_rc, update_rc;
  int n_add_sa, n_del_sa, n_add_pol, n_del_pol, n_update, n_update_with_pol, n_reconcile;
  ipm_be_child_t pol;
  uint16_t rec_slot;
  bool claimed_in, claimed_other;
} fk;

static int fk_add_sa(void *ctx, esp_table_t *tab, const ipm_be_id_t *id, const esp_sa_params_t *p,
                     bool keep, esp_sa_t **sa, char *err, size_t errlen)
{
  (void)ctx;
  (void)keep;
  fk.n_add_sa++;
  if (fk.add_sa_rc != 0) {
    snprintf(err, errlen, "xfrm add_sa spi 0x%08x: the kernel has no ESP support (fake)",
             id->spi);
    return fk.add_sa_rc;
  }
  return esp_table_add(tab, p, sa) == 0 ? 0 : -EINVAL;
}

static int fk_update_sa(void *ctx, esp_sa_t *sa, const ipm_be_child_t *c,
                        const struct sockaddr *local, const struct sockaddr *peer, bool udp,
                        char *err, size_t errlen)
{
  (void)ctx;
  fk.n_update++;
  fk.n_update_with_pol += c != NULL;
  if (fk.update_rc != 0) {
    snprintf(err, errlen, "xfrm migrate: kernel without CONFIG_XFRM_MIGRATE (fake)");
    return fk.update_rc;
  }
  return esp_sa_update_addr(sa, local, peer, udp) == 0 ? 0 : -EINVAL;
}

static int fk_del_sa(void *ctx, esp_table_t *tab, esp_sa_t *sa, char *err, size_t errlen)
{
  (void)ctx;
  (void)err;
  (void)errlen;
  fk.n_del_sa++;
  return esp_table_del(tab, sa->id) == 0 ? 0 : -ENOENT;
}

static int fk_add_pol(void *ctx, const ipm_be_child_t *c, char *err, size_t errlen)
{
  (void)ctx;
  fk.n_add_pol++;
  fk.pol = *c;
  if (fk.add_pol_rc != 0) {
    snprintf(err, errlen, "xfrm add_policies: File exists (fake)");
  }
  return fk.add_pol_rc;
}

static int fk_del_pol(void *ctx, const ipm_be_child_t *c, char *err, size_t errlen)
{
  (void)ctx;
  (void)err;
  (void)errlen;
  fk.n_del_pol++;
  fk.pol = *c;
  return 0;
}

static int fk_query(void *ctx, const esp_sa_t *sa, ipm_be_stats_t *st)
{
  (void)ctx;
  (void)sa;
  st->packets = 42;
  st->bytes = 4200;
  st->seq = 42;
  return 0;
}

static int fk_reconcile(void *ctx, uint16_t slot, ipm_be_claimed_t claimed, void *arg,
                        unsigned *removed, char *err, size_t errlen)
{
  (void)ctx;
  (void)err;
  (void)errlen;
  fk.n_reconcile++;
  fk.rec_slot = slot;
  fk.claimed_in = claimed(arg, SPI_IN);
  fk.claimed_other = claimed(arg, 0x05999999u);
  *removed = 2;
  return 0;
}

static const ipm_backend_ops_t fake_be = {
    .name = "fake", .add_sa = fk_add_sa, .update_sa = fk_update_sa, .del_sa = fk_del_sa,
    .add_policy = fk_add_pol, .del_policy = fk_del_pol, .query = fk_query,
    .reconcile = fk_reconcile};

static ipm_t *mk_ipm(void)
{
  memset(&fk, 0, sizeof(fk));
  ipm_cfg_t c = {.max_sas = 64, .be = &fake_be, .ops = {.send = cap_send}};
  ipm_t *m = NULL;
  assert_int_equal(ipm_new(&c, &m), 0);
  return m;
}

/* ---------------------------------------------------------------- requests */

static void feed(ipm_t *m, const Ikegw__Ipsec__Envelope *env)
{
  uint8_t buf[2048];
  size_t n = ikegw__ipsec__envelope__pack(env, buf);
  ipm_on_sessmgr(m, slot5, sizeof(slot5), buf, n);
}

static bool add_sa(ipm_t *m, bool in)
{
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaAdd a = IKEGW__IPSEC__SA_ADD__INIT;
  Ikegw__Ipsec__SaId id = IKEGW__IPSEC__SA_ID__INIT;
  Ikegw__Types__TrafficSelector lts = IKEGW__TYPES__TRAFFIC_SELECTOR__INIT, *lp = &lts;
  Ikegw__Types__TrafficSelector rts = IKEGW__TYPES__TRAFFIC_SELECTOR__INIT, *rp = &rts;
  id.direction = in ? IKEGW__IPSEC__DIRECTION__DIR_IN : IKEGW__IPSEC__DIRECTION__DIR_OUT;
  id.spi = in ? SPI_IN : SPI_OUT;
  id.child_in_spi = SPI_IN;
  a.id = &id;
  a.owner_slot = 5;
  a.encr_id = IKE_ENCR_AES_GCM_16;
  a.encr_key_bits = 256;
  a.enc_key.data = in ? key_a : key_b;
  a.enc_key.len = 36;
  a.replay_window = in ? 1024 : 0;
  a.local_addr = GW;
  a.local_port = 4500;
  a.peer_addr = PEER;
  a.peer_port = 4500;
  a.udp_encap = true;
  lts.start_addr = "198.51.100.0";
  lts.end_addr = "198.51.100.255";
  rts.start_addr = VIP;
  rts.end_addr = VIP;
  a.n_local_ts = 1;
  a.local_ts = &lp;
  a.n_remote_ts = 1;
  a.remote_ts = &rp;
  a.virtual_ip = in ? "" : VIP;
  env.id = 9;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_ADD;
  env.sa_add = &a;
  last_ok = 0;
  feed(m, &env);
  return last_ok;
}

static void ids2(Ikegw__Ipsec__SaId ids[2], Ikegw__Ipsec__SaId *p[2])
{
  for (int i = 0; i < 2; i++) {
    ikegw__ipsec__sa_id__init(&ids[i]);
    ids[i].direction = i == 0 ? IKEGW__IPSEC__DIRECTION__DIR_IN : IKEGW__IPSEC__DIRECTION__DIR_OUT;
    ids[i].spi = i == 0 ? SPI_IN : SPI_OUT;
    ids[i].child_in_spi = SPI_IN;
    p[i] = &ids[i];
  }
}

/* ---------------------------------------------------------------- pure tests */

static void test_selection(void **state)
{
  (void)state;
  assert_ptr_equal(ipm_backend_for(IKE_CFG_DP_USERSPACE), &ipm_be_userspace);
  assert_ptr_equal(ipm_backend_for(IKE_CFG_DP_XFRM), &ipm_be_xfrm);
  assert_null(ipm_backend_for(99));
  assert_string_equal(ipm_be_xfrm.name, "xfrm");
  assert_non_null(ipm_be_xfrm.reconcile);
  assert_null(ipm_be_userspace.reconcile);
}

static void test_range_prefix(void **state)
{
  (void)state;
  uint8_t a[16], b[16];
  ipm_be_prefix_t p;
  inet_pton(AF_INET, "198.51.100.0", a);
  inet_pton(AF_INET, "198.51.100.255", b);
  assert_true(ipm_be_range_prefix(AF_INET, a, b, &p));
  assert_int_equal(p.plen, 24);
  inet_pton(AF_INET, "10.10.0.5", a);
  assert_true(ipm_be_range_prefix(AF_INET, a, a, &p));
  assert_int_equal(p.plen, 32);
  inet_pton(AF_INET, "0.0.0.0", a);
  inet_pton(AF_INET, "255.255.255.255", b);
  assert_true(ipm_be_range_prefix(AF_INET, a, b, &p));
  assert_int_equal(p.plen, 0);
  inet_pton(AF_INET, "10.0.0.1", a); /* 10.0.0.1-10.0.0.255: not a prefix */
  inet_pton(AF_INET, "10.0.0.255", b);
  assert_false(ipm_be_range_prefix(AF_INET, a, b, &p));
  inet_pton(AF_INET6, "2001:db8::", a);
  inet_pton(AF_INET6, "2001:db8::ffff:ffff", b);
  assert_true(ipm_be_range_prefix(AF_INET6, a, b, &p));
  assert_int_equal(p.plen, 96);
  assert_false(ipm_be_range_prefix(0, a, b, &p));
}

/* The state is refused: the SaAdd fails with the backend's sentence, nothing is
 * recorded, no policy is touched. */
static void test_state_refused(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  fk.add_sa_rc = -EPROTONOSUPPORT;
  assert_false(add_sa(m, true));
  assert_int_equal(last_errno, EPROTONOSUPPORT);
  assert_non_null(strstr(last_err, "no ESP support"));
  assert_false(add_sa(m, false));
  assert_null(ipm_find(m, 1, SPI_IN, SPI_IN));
  assert_null(ipm_find(m, 2, SPI_OUT, SPI_IN));
  assert_int_equal(fk.n_add_pol, 0);
  assert_int_equal(ipm_counters(m)->sa_add_failed, 2);
  assert_int_equal(ipm_counters(m)->sa_add, 0);
  ipm_free(m);
}

/* Policies once per CHILD SA when its second SA is in; removed with its last. */
static void test_policies_lifecycle(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  assert_true(add_sa(m, true));
  assert_int_equal(fk.n_add_pol, 0);
  assert_true(add_sa(m, false));
  assert_int_equal(fk.n_add_pol, 1);
  assert_int_equal(fk.pol.reqid, SPI_IN);
  assert_int_equal(fk.pol.local_ts.plen, 24);
  assert_int_equal(fk.pol.remote_ts.plen, 32);
  char txt[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET, &((struct sockaddr_in *)&fk.pol.peer)->sin_addr, txt, sizeof(txt));
  assert_string_equal(txt, PEER);
  inet_ntop(AF_INET, &((struct sockaddr_in *)&fk.pol.local)->sin_addr, txt, sizeof(txt));
  assert_string_equal(txt, GW);
  assert_int_equal(ipm_counters(m)->policy_add, 1);

  /* SaUpdate (MOBIKE): through update_sa, with the policies before the move. */
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaUpdate u = IKEGW__IPSEC__SA_UPDATE__INIT;
  Ikegw__Ipsec__SaId ids[2], *ip[2];
  ids2(ids, ip);
  u.n_ids = 2;
  u.ids = ip;
  u.local_addr = GW;
  u.local_port = 4500;
  u.peer_addr = "192.0.2.99";
  u.peer_port = 4500;
  u.udp_encap = true;
  env.id = 10;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_UPDATE;
  env.sa_update = &u;
  feed(m, &env);
  assert_true(last_ok);
  assert_int_equal(fk.n_update, 2);
  assert_int_equal(fk.n_update_with_pol, 2);
  fk.update_rc = -ENOPROTOOPT; /* a refused migrate is reported, never silent */
  feed(m, &env);
  assert_false(last_ok);
  assert_non_null(strstr(last_err, "MIGRATE"));
  assert_int_equal(ipm_counters(m)->sa_update_failed, 1);

  /* SaQuery counters come from the backend. (Exercised via ipm_find only.) */
  assert_non_null(ipm_find(m, 2, SPI_OUT, SPI_IN));

  /* SaDel of both: the policies go with the last one. */
  Ikegw__Ipsec__Envelope de = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__SaDel d = IKEGW__IPSEC__SA_DEL__INIT;
  d.n_ids = 2;
  d.ids = ip;
  de.id = 11;
  de.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_DEL;
  de.sa_del = &d;
  feed(m, &de);
  assert_int_equal(fk.n_del_sa, 2);
  assert_int_equal(fk.n_del_pol, 1);
  assert_int_equal(fk.pol.reqid, SPI_IN);
  ipm_free(m);
}

/* A refused policy set removes the SA that completed the pair again. */
static void test_policy_refused(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  fk.add_pol_rc = -EEXIST;
  assert_true(add_sa(m, true));
  assert_false(add_sa(m, false));
  assert_int_equal(last_errno, EEXIST);
  assert_non_null(strstr(last_err, "add_policies"));
  assert_null(ipm_find(m, 2, SPI_OUT, SPI_IN));
  assert_non_null(ipm_find(m, 1, SPI_IN, SPI_IN));
  assert_int_equal(fk.n_del_sa, 1);
  assert_int_equal(fk.n_del_pol, 0); /* none went in: nothing to take back here */
  assert_int_equal(ipm_counters(m)->policy_add_failed, 1);
  ipm_free(m);
}

/* ReplayDone: reconcile of that slot, with claimed() knowing our CHILD SAs. */
static void test_reconcile_called(void **state)
{
  (void)state;
  ipm_t *m = mk_ipm();
  assert_true(add_sa(m, true));
  assert_true(add_sa(m, false));
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__Hello h = IKEGW__IPSEC__HELLO__INIT;
  h.slot = 5;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_HELLO;
  env.hello = &h;
  feed(m, &env);
  assert_true(add_sa(m, true)); /* replayed (same keys: kept) */
  assert_true(add_sa(m, false));
  Ikegw__Ipsec__Envelope de = IKEGW__IPSEC__ENVELOPE__INIT;
  Ikegw__Ipsec__ReplayDone d = IKEGW__IPSEC__REPLAY_DONE__INIT;
  d.slot = 5;
  de.id = 12;
  de.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_REPLAY_DONE;
  de.replay_done = &d;
  feed(m, &de);
  assert_true(last_ok);
  assert_int_equal(fk.n_reconcile, 1);
  assert_int_equal(fk.rec_slot, 5);
  assert_true(fk.claimed_in);
  assert_false(fk.claimed_other);
  assert_int_equal(ipm_counters(m)->reconcile_removed, 2);
  ipm_free(m);
}

/* ---------------------------------------------------------------- real XFRM */

static bool in_netns;

static int netns_setup(void **state)
{
  (void)state;
  in_netns = getuid() == 0 && unshare(CLONE_NEWNET) == 0;
  return 0;
}

typedef struct {
  int ours, foreign;
} pol_count_t;

static int count_pol(const xfrm_dump_ent_t *e, void *arg)
{
  pol_count_t *c = arg;
  if (e->policy) {
    if (e->pol.priority == XFRM_OWN_PRIORITY) {
      c->ours++;
    } else {
      c->foreign++;
    }
  }
  return 0;
}

static pol_count_t policies(xfrm_t *x)
{
  pol_count_t c = {0, 0};
  assert_int_equal(xfrm_dump(x, true, count_pol, &c), 0);
  return c;
}

static ipm_be_child_t mk_child(uint32_t reqid)
{
  ipm_be_child_t c;
  memset(&c, 0, sizeof(c));
  c.reqid = reqid;
  c.local_ts.family = c.remote_ts.family = AF_INET;
  inet_pton(AF_INET, "198.51.100.0", c.local_ts.addr);
  c.local_ts.plen = 24;
  inet_pton(AF_INET, VIP, c.remote_ts.addr);
  c.remote_ts.plen = 32;
  struct sockaddr_in *l = (struct sockaddr_in *)&c.local, *p = (struct sockaddr_in *)&c.peer;
  l->sin_family = p->sin_family = AF_INET;
  inet_pton(AF_INET, GW, &l->sin_addr);
  inet_pton(AF_INET, PEER, &p->sin_addr);
  return c;
}

static bool never_claimed(void *arg, uint32_t reqid)
{
  (void)arg;
  (void)reqid;
  return false;
}

static void test_xfrm_kernel(void **state)
{
  (void)state;
  if (!in_netns) {
    skip(); /* needs root for a private network namespace */
  }
  xfrm_t *x;
  assert_int_equal(xfrm_open(&x), 0);
  char err[512];
  esp_table_t *tab;
  assert_int_equal(esp_table_new(8, &tab), 0);

  /* A state: fails with the clear sentence where the kernel has no ESP. */
  struct sockaddr_in l = {.sin_family = AF_INET, .sin_port = htons(4500)}, r = l;
  inet_pton(AF_INET, GW, &l.sin_addr);
  inet_pton(AF_INET, PEER, &r.sin_addr);
  esp_sa_params_t p = {.spi = SPI_IN, .dir = ESP_DIR_IN, .encr = IKE_ENCR_AES_GCM_16,
                       .encr_bits = 256, .enc_key = key_a, .enc_key_len = 36,
                       .replay_window = 1024, .local = (struct sockaddr *)&l,
                       .peer = (struct sockaddr *)&r, .udp_encap = true};
  ipm_be_id_t id = {1, SPI_IN, SPI_IN};
  esp_sa_t *sa = NULL;
  int rc = ipm_be_xfrm.add_sa(x, tab, &id, &p, false, &sa, err, sizeof(err));
  if (rc != 0) {
    print_message("xfrm state refused (expected without kernel ESP): %s\n", err);
    assert_true(strlen(err) > 10);
    if (rc == -EPROTONOSUPPORT) {
      assert_non_null(strstr(err, "no ESP support"));
    }
    assert_int_equal(esp_table_count(tab), 0); /* nothing recorded */
  } else {
    print_message("kernel has ESP: state installed\n");
    assert_int_equal(esp_table_count(tab), 1);
    assert_int_equal(ipm_be_xfrm.del_sa(x, tab, sa, err, sizeof(err)), 0);
    assert_int_equal(esp_table_count(tab), 0);
  }

  /* Policies of a CHILD SA: in, out, fwd as one batch; out again. */
  ipm_be_child_t c = mk_child(SPI_IN);
  assert_int_equal(policies(x).ours, 0);
  assert_int_equal(ipm_be_xfrm.add_policy(x, &c, err, sizeof(err)), 0);
  assert_int_equal(policies(x).ours, 3);
  /* The same set again: every member fails (EEXIST), nothing is left extra. */
  assert_int_equal(ipm_be_xfrm.add_policy(x, &c, err, sizeof(err)), -EEXIST);
  assert_non_null(strstr(err, "add_policies"));
  assert_int_equal(policies(x).ours, 3);
  assert_int_equal(ipm_be_xfrm.del_policy(x, &c, err, sizeof(err)), 0);
  assert_int_equal(policies(x).ours, 0);

  /* A batch whose last member fails (the first again): the ones that went in
   * are removed again. */
  xfrm_pol_t pol[3];
  ipm_be_child_t c2 = mk_child(SPI_IN + 1);
  inet_pton(AF_INET, "10.10.0.6", c2.remote_ts.addr);
  assert_int_equal(ipm_be_xfrm.add_policy(x, &c2, err, sizeof(err)), 0);
  assert_int_equal(policies(x).ours, 3);
  assert_int_equal(ipm_be_xfrm.del_policy(x, &c2, err, sizeof(err)), 0);
  memset(pol, 0, sizeof(pol));
  for (int i = 0; i < 3; i++) {
    pol[i].dir = i == 0 ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
    pol[i].family = AF_INET;
    inet_pton(AF_INET, "198.51.100.0", pol[i].src);
    inet_pton(AF_INET, i == 1 ? "10.10.0.7" : "10.10.0.8", pol[i].dst);
    pol[i].src_len = 24;
    pol[i].dst_len = 32;
    pol[i].priority = XFRM_OWN_PRIORITY;
    pol[i].reqid = SPI_IN + 2;
    pol[i].outer_family = AF_INET;
    inet_pton(AF_INET, GW, pol[i].outer_src);
    inet_pton(AF_INET, PEER, pol[i].outer_dst);
  }
  pol[2] = pol[1]; /* duplicate of the second: EEXIST */
  assert_int_equal(xfrm_add_policies(x, pol, 3), -EEXIST);
  assert_int_equal(policies(x).ours, 0);

  /* Reconcile: our unclaimed policies of slot 5 go, a foreign one stays. */
  assert_int_equal(ipm_be_xfrm.add_policy(x, &c, err, sizeof(err)), 0);
  xfrm_pol_t foreign = pol[0];
  foreign.priority = 1000;
  foreign.reqid = SPI_IN;
  inet_pton(AF_INET, "10.10.0.9", foreign.dst);
  assert_int_equal(xfrm_add_policies(x, &foreign, 1), 0);
  unsigned removed = 0;
  assert_int_equal(ipm_be_xfrm.reconcile(x, 6, never_claimed, NULL, &removed, err, sizeof(err)), 0);
  assert_int_equal(removed, 0); /* another slot's reqids are not touched */
  assert_int_equal(ipm_be_xfrm.reconcile(x, 5, never_claimed, NULL, &removed, err, sizeof(err)), 0);
  assert_int_equal(removed, 3);
  pol_count_t pc = policies(x);
  assert_int_equal(pc.ours, 0);
  assert_int_equal(pc.foreign, 1);
  assert_int_equal(xfrm_del_policies(x, &foreign, 1), 0);

  esp_table_free(tab);
  xfrm_close(x);
}

int main(void)
{
  for (int i = 0; i < 36; i++) {
    key_a[i] = (uint8_t)(i + 1);
    key_b[i] = (uint8_t)(0x80 + i);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_selection),
      cmocka_unit_test(test_range_prefix),
      cmocka_unit_test(test_state_refused),
      cmocka_unit_test(test_policies_lifecycle),
      cmocka_unit_test(test_policy_refused),
      cmocka_unit_test(test_reconcile_called),
      cmocka_unit_test(test_xfrm_kernel),
  };
  return cmocka_run_group_tests(tests, netns_setup, NULL);
}
