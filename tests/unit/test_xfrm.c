/*
 * test_xfrm.c - the XFRM netlink backend (ipsecmgr/xfrm.c, nlmsg.c): request
 * building checked field by field (pure), bounds of the request buffer, policy
 * add/delete in/out/fwd in a fresh network namespace, and SA add: on a kernel
 * without ESP (CONFIG_INET_ESP off, these machines) it must fail with a clear
 * error; where the kernel has ESP the state round trip runs instead. Each
 * kernel-dependent test prints why it skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/xfrm.h>
#include <sched.h>
#include <unistd.h>

#include "ike_wire.h"
#include "xfrm.h"

static uint8_t key[64];

static void sa_id(xfrm_sa_id_t *id)
{
  memset(id, 0, sizeof(*id));
  id->family = AF_INET;
  inet_pton(AF_INET, "192.0.2.1", id->src);
  inet_pton(AF_INET, "198.51.100.7", id->dst);
  id->spi = 0xc0de0001u;
}

static void sa_cfg_cbc(xfrm_sa_cfg_t *c);
static void sa_cfg_gcm(xfrm_sa_cfg_t *c)
{
  for (size_t i = 0; i < sizeof(key); i++) {
    key[i] = (uint8_t)(i + 1);
  }
  memset(c, 0, sizeof(*c));
  c->encr = IKE_ENCR_AES_GCM_16;
  c->encr_bits = 128;
  c->integ = IKE_INTEG_NONE;
  c->esn = true;
  c->enc_key = key;
  c->enc_key_len = 20;
  c->reqid = 7;
  c->udp_encap = true;
  c->encap_sport = 4500;
  c->encap_dport = 31337;
  c->life.soft_bytes = 1000000;
}

/* AES-CBC-128 + HMAC-SHA2-256: algorithms most kernels' crypto API carries. */
static void sa_cfg_cbc(xfrm_sa_cfg_t *c)
{
  sa_cfg_gcm(c);
  c->encr = IKE_ENCR_AES_CBC;
  c->enc_key_len = 16;
  c->integ = IKE_INTEG_HMAC_SHA2_256_128;
  c->auth_key = key;
  c->auth_key_len = 32;
}

/* Find attribute type in the request after the fixed body of blen bytes. */
static const struct rtattr *find_attr(nlm_msg_t *m, size_t blen, uint16_t type)
{
  struct nlmsghdr *h = nlm_hdr(m);
  const struct rtattr *a = (const struct rtattr *)((uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(blen));
  int left = (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(blen)));
  for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == type) {
      return a;
    }
  }
  return NULL;
}

static void test_build_add_sa_gcm(void **state)
{
  (void)state;
  nlm_msg_t m;
  xfrm_sa_id_t id;
  xfrm_sa_cfg_t c;
  sa_id(&id);
  sa_cfg_gcm(&c);
  assert_int_equal(xfrm_build_add_sa(&m, false, &id, &c), 0);
  struct nlmsghdr *h = nlm_hdr(&m);
  assert_int_equal(h->nlmsg_type, XFRM_MSG_NEWSA);
  assert_true(h->nlmsg_flags & NLM_F_ACK);
  const struct xfrm_usersa_info *sa = NLMSG_DATA(h);
  assert_int_equal(ntohl(sa->id.spi), 0xc0de0001u);
  assert_int_equal(sa->id.proto, IPPROTO_ESP);
  assert_int_equal(sa->family, AF_INET);
  assert_int_equal(sa->mode, XFRM_MODE_TUNNEL);
  assert_int_equal(sa->reqid, 7);
  assert_true(sa->flags & XFRM_STATE_ESN);
  assert_memory_equal(&sa->id.daddr, id.dst, 4);
  assert_memory_equal(&sa->saddr, id.src, 4);
  assert_true(sa->lft.soft_byte_limit == 1000000);
  assert_true(sa->lft.hard_byte_limit == XFRM_INF);
  const struct rtattr *a = find_attr(&m, sizeof(*sa), XFRMA_ALG_AEAD);
  assert_non_null(a);
  const struct xfrm_algo_aead *ae = RTA_DATA(a);
  assert_string_equal(ae->alg_name, "rfc4106(gcm(aes))");
  assert_int_equal(ae->alg_key_len, 160); /* 128-bit key + 32-bit salt (RFC 4106 8.1) */
  assert_int_equal(ae->alg_icv_len, 128);
  assert_memory_equal(ae->alg_key, key, 20);
  assert_null(find_attr(&m, sizeof(*sa), XFRMA_ALG_CRYPT));
  a = find_attr(&m, sizeof(*sa), XFRMA_REPLAY_ESN_VAL);
  assert_non_null(a);
  const struct xfrm_replay_state_esn *r = RTA_DATA(a);
  assert_int_equal(r->replay_window, 1024);
  assert_int_equal(r->bmp_len, 32);
  assert_int_equal(RTA_PAYLOAD(a), sizeof(*r) + 32 * 4);
  a = find_attr(&m, sizeof(*sa), XFRMA_ENCAP);
  assert_non_null(a);
  const struct xfrm_encap_tmpl *e = RTA_DATA(a);
  assert_int_equal(e->encap_type, 2); /* UDP_ENCAP_ESPINUDP (RFC 3948) */
  assert_int_equal(ntohs(e->encap_sport), 4500);
  assert_int_equal(ntohs(e->encap_dport), 31337);
  /* ChaCha20-Poly1305 name and key size (RFC 7634) */
  c.encr = IKE_ENCR_CHACHA20_POLY1305;
  c.enc_key_len = 36;
  assert_int_equal(xfrm_build_add_sa(&m, true, &id, &c), 0);
  assert_int_equal(nlm_hdr(&m)->nlmsg_type, XFRM_MSG_UPDSA);
  ae = RTA_DATA(find_attr(&m, sizeof(*sa), XFRMA_ALG_AEAD));
  assert_string_equal(ae->alg_name, "rfc7539esp(chacha20,poly1305)");
  assert_int_equal(ae->alg_key_len, 288);
}

static void test_build_add_sa_cbc(void **state)
{
  (void)state;
  nlm_msg_t m;
  xfrm_sa_id_t id;
  xfrm_sa_cfg_t c;
  sa_id(&id);
  sa_cfg_gcm(&c);
  c.encr = IKE_ENCR_AES_CBC;
  c.encr_bits = 256;
  c.enc_key_len = 32;
  c.integ = IKE_INTEG_HMAC_SHA2_256_128;
  c.auth_key = key;
  c.auth_key_len = 32;
  c.udp_encap = false;
  c.esn = false;
  c.replay_window = 64;
  assert_int_equal(xfrm_build_add_sa(&m, false, &id, &c), 0);
  size_t bl = sizeof(struct xfrm_usersa_info);
  const struct xfrm_algo *e = RTA_DATA(find_attr(&m, bl, XFRMA_ALG_CRYPT));
  assert_string_equal(e->alg_name, "cbc(aes)");
  assert_int_equal(e->alg_key_len, 256);
  const struct xfrm_algo_auth *au = RTA_DATA(find_attr(&m, bl, XFRMA_ALG_AUTH_TRUNC));
  assert_string_equal(au->alg_name, "hmac(sha256)");
  assert_int_equal(au->alg_key_len, 256);
  assert_int_equal(au->alg_trunc_len, 128); /* RFC 4868 2.3 */
  assert_null(find_attr(&m, bl, XFRMA_ENCAP));
  assert_null(find_attr(&m, bl, XFRMA_ALG_AEAD));
  const struct xfrm_usersa_info *sa = NLMSG_DATA(nlm_hdr(&m));
  assert_int_equal(sa->flags & XFRM_STATE_ESN, 0);
  c.integ = IKE_INTEG_HMAC_SHA1_96;
  c.auth_key_len = 20;
  assert_int_equal(xfrm_build_add_sa(&m, false, &id, &c), 0);
  au = RTA_DATA(find_attr(&m, bl, XFRMA_ALG_AUTH_TRUNC));
  assert_string_equal(au->alg_name, "hmac(sha1)");
  assert_int_equal(au->alg_trunc_len, 96); /* RFC 2404 */
  /* refused parameters */
  c.integ = IKE_INTEG_NONE;
  assert_int_equal(xfrm_build_add_sa(&m, false, &id, &c), -EINVAL);
  c.integ = IKE_INTEG_HMAC_SHA1_96;
  c.encr = IKE_ENCR_AES_GCM_8;
  assert_int_equal(xfrm_build_add_sa(&m, false, &id, &c), -EINVAL);
  c.encr = IKE_ENCR_AES_CBC;
  id.family = 0;
  assert_int_equal(xfrm_build_add_sa(&m, false, &id, &c), -EINVAL);
  /* delete request */
  sa_id(&id);
  assert_int_equal(xfrm_build_del_sa(&m, &id), 0);
  assert_int_equal(nlm_hdr(&m)->nlmsg_type, XFRM_MSG_DELSA);
  const struct xfrm_usersa_id *u = NLMSG_DATA(nlm_hdr(&m));
  assert_int_equal(ntohl(u->spi), 0xc0de0001u);
  assert_int_equal(u->proto, IPPROTO_ESP);
  assert_non_null(find_attr(&m, sizeof(*u), XFRMA_SRCADDR));
}

static void pol(xfrm_pol_t *p, uint8_t dir)
{
  memset(p, 0, sizeof(*p));
  p->dir = dir;
  p->family = AF_INET;
  inet_pton(AF_INET, "10.99.0.5", p->dir == XFRM_POLICY_OUT ? p->dst : p->src);
  inet_pton(AF_INET, "0.0.0.0", p->dir == XFRM_POLICY_OUT ? p->src : p->dst);
  if (p->dir == XFRM_POLICY_OUT) {
    p->dst_len = 32;
  } else {
    p->src_len = 32;
  }
  p->priority = 1000;
  p->reqid = 7;
  p->outer_family = AF_INET;
  inet_pton(AF_INET, dir == XFRM_POLICY_OUT ? "192.0.2.1" : "198.51.100.7", p->outer_src);
  inet_pton(AF_INET, dir == XFRM_POLICY_OUT ? "198.51.100.7" : "192.0.2.1", p->outer_dst);
}

static void test_build_policy(void **state)
{
  (void)state;
  nlm_msg_t m;
  xfrm_pol_t p;
  pol(&p, XFRM_POLICY_OUT);
  assert_int_equal(xfrm_build_policy(&m, true, &p), 0);
  assert_int_equal(nlm_hdr(&m)->nlmsg_type, XFRM_MSG_NEWPOLICY);
  const struct xfrm_userpolicy_info *u = NLMSG_DATA(nlm_hdr(&m));
  assert_int_equal(u->dir, XFRM_POLICY_OUT);
  assert_int_equal(u->sel.prefixlen_d, 32);
  assert_int_equal(u->sel.family, AF_INET);
  assert_int_equal(u->action, XFRM_POLICY_ALLOW);
  assert_int_equal(u->priority, 1000);
  const struct rtattr *a = find_attr(&m, sizeof(*u), XFRMA_TMPL);
  assert_non_null(a);
  const struct xfrm_user_tmpl *t = RTA_DATA(a);
  assert_int_equal(t->id.proto, IPPROTO_ESP);
  assert_int_equal(t->mode, XFRM_MODE_TUNNEL);
  assert_int_equal(t->reqid, 7);
  assert_memory_equal(&t->id.daddr, p.outer_dst, 4);
  assert_int_equal(xfrm_build_policy(&m, false, &p), 0);
  assert_int_equal(nlm_hdr(&m)->nlmsg_type, XFRM_MSG_DELPOLICY);
  const struct xfrm_userpolicy_id *d = NLMSG_DATA(nlm_hdr(&m));
  assert_int_equal(d->dir, XFRM_POLICY_OUT);
  assert_int_equal(d->sel.prefixlen_d, 32);
  /* MOBIKE migrate to a new peer address with encapsulation */
  uint8_t ns[4], nd[4];
  inet_pton(AF_INET, "192.0.2.1", ns);
  inet_pton(AF_INET, "203.0.113.9", nd);
  assert_int_equal(xfrm_build_migrate(&m, &p, AF_INET, ns, nd, 4500, 4500), 0);
  assert_int_equal(nlm_hdr(&m)->nlmsg_type, XFRM_MSG_MIGRATE);
  const struct xfrm_user_migrate *mg =
    RTA_DATA(find_attr(&m, sizeof(struct xfrm_userpolicy_id), XFRMA_MIGRATE));
  assert_memory_equal(&mg->old_daddr, p.outer_dst, 4);
  assert_memory_equal(&mg->new_daddr, nd, 4);
  assert_int_equal(mg->reqid, 7);
  assert_non_null(find_attr(&m, sizeof(struct xfrm_userpolicy_id), XFRMA_ENCAP));
  /* refused */
  p.dir = 7;
  assert_int_equal(xfrm_build_policy(&m, true, &p), -EINVAL);
  pol(&p, XFRM_POLICY_IN);
  p.src_len = 33;
  assert_int_equal(xfrm_build_policy(&m, true, &p), -EINVAL);
}

/* Appends past the end fail, stick, never write beyond cap. */
static void test_nlm_bounds(void **state)
{
  (void)state;
  nlm_msg_t m;
  nlm_init(&m, XFRM_MSG_NEWSA, 0);
  m.cap = 400;
  assert_non_null(nlm_body(&m, sizeof(struct xfrm_usersa_info)));
  uint8_t blob[64] = {0};
  int added = 0;
  while (nlm_attr(&m, XFRMA_ALG_AEAD, blob, sizeof(blob)) != NULL) {
    added++;
  }
  assert_int_equal(nlm_err(&m), -ENOSPC);
  assert_true(nlm_hdr(&m)->nlmsg_len <= 400);
  assert_true(added == 2); /* 240 + 2 * 68 = 376; a third would need 444 */
  uint32_t len = nlm_hdr(&m)->nlmsg_len;
  assert_null(nlm_attr(&m, 1, blob, 1)); /* sticky, even when it would fit */
  assert_int_equal(nlm_hdr(&m)->nlmsg_len, len);
  char txt[80];
  assert_int_equal(nlm_talk(-1, &m, txt, sizeof(txt)), -ENOSPC);
  assert_non_null(strstr(txt, "does not fit"));
  /* nested attribute lengths */
  nlm_init(&m, XFRM_MSG_NEWSA, 0);
  struct rtattr *n = nlm_nest_begin(&m, 1);
  nlm_attr(&m, 2, blob, 6);
  nlm_attr(&m, 3, blob, 4);
  nlm_nest_end(&m, n);
  assert_int_equal(n->rta_len, 4 + 12 + 8);
}

/* Kernel tests run in their own network namespace. */
static const char *netns_reason;

static void test_policy_netns(void **state)
{
  (void)state;
  if (netns_reason != NULL) {
    print_message("SKIP reason: %s\n", netns_reason);
    skip();
  }
  xfrm_t *x;
  assert_int_equal(xfrm_open(&x), 0);
  static const uint8_t dirs[] = {XFRM_POLICY_OUT, XFRM_POLICY_IN, XFRM_POLICY_FWD};
  for (int i = 0; i < 3; i++) {
    xfrm_pol_t p;
    pol(&p, dirs[i]);
    int rc = xfrm_add_policy(x, &p);
    if (rc != 0) {
      fail_msg("add_policy: %s", xfrm_last_error(x));
    }
    assert_string_equal(xfrm_last_error(x), "");
    assert_int_equal(xfrm_add_policy(x, &p), -EEXIST);
    assert_non_null(strstr(xfrm_last_error(x), "add_policy"));
  }
  for (int i = 0; i < 3; i++) {
    xfrm_pol_t p;
    pol(&p, dirs[i]);
    assert_int_equal(xfrm_del_policy(x, &p), 0);
    assert_int_equal(xfrm_del_policy(x, &p), -ENOENT);
    assert_non_null(strstr(xfrm_last_error(x), "del_policy"));
  }
  xfrm_close(x);
}

/* -1 unknown, 0 no ESP in this kernel, 1 ESP works */
static int kernel_esp = -1;
static char esp_error[256];

static void probe_esp(void)
{
  xfrm_t *x;
  xfrm_sa_id_t id;
  xfrm_sa_cfg_t c;
  if (netns_reason != NULL || xfrm_open(&x) != 0) {
    return;
  }
  sa_id(&id);
  sa_cfg_cbc(&c);
  int rc = xfrm_add_sa(x, &id, &c);
  if (rc == 0) {
    kernel_esp = 1;
    xfrm_del_sa(x, &id);
  } else {
    kernel_esp = 0;
    snprintf(esp_error, sizeof(esp_error), "%s", xfrm_last_error(x));
  }
  xfrm_close(x);
}

/* Where ESP is missing: a clear error code and text, nothing installed; for an
 * AEAD the kernel may refuse the algorithm first - that must be as clear. */
static void test_state_error(void **state)
{
  (void)state;
  if (netns_reason != NULL) {
    print_message("SKIP reason: %s\n", netns_reason);
    skip();
  }
  if (kernel_esp == 1) {
    print_message("SKIP reason: this kernel has ESP; the error path is not reachable\n");
    skip();
  }
  xfrm_t *x;
  xfrm_sa_id_t id;
  xfrm_sa_cfg_t c;
  assert_int_equal(xfrm_open(&x), 0);
  sa_id(&id);
  sa_cfg_cbc(&c);
  int rc = xfrm_add_sa(x, &id, &c);
  print_message("add_sa (cbc) here: %d %s\n", rc, xfrm_last_error(x));
  assert_int_equal(rc, -EPROTONOSUPPORT);
  assert_non_null(strstr(xfrm_last_error(x), "add_sa spi 0xc0de0001"));
  assert_non_null(strstr(xfrm_last_error(x), "no ESP support"));
  assert_true(xfrm_del_sa(x, &id) < 0); /* nothing was installed */
  assert_true(strlen(xfrm_last_error(x)) > 0);
  sa_cfg_gcm(&c);
  rc = xfrm_add_sa(x, &id, &c);
  print_message("add_sa (gcm) here: %d %s\n", rc, xfrm_last_error(x));
  assert_true(rc < 0);
  if (rc == -ENOSYS || rc == -ENOENT) {
    assert_non_null(strstr(xfrm_last_error(x), "rfc4106(gcm(aes))"));
  } else {
    assert_int_equal(rc, -EPROTONOSUPPORT);
    assert_non_null(strstr(xfrm_last_error(x), "no ESP support"));
  }
  xfrm_close(x);
}

/* Where ESP exists: add, update, delete a state. */
static void test_state_ops(void **state)
{
  (void)state;
  if (netns_reason != NULL) {
    print_message("SKIP reason: %s\n", netns_reason);
    skip();
  }
  if (kernel_esp != 1) {
    print_message("SKIP reason: kernel lacks ESP states: %s\n", esp_error);
    skip();
  }
  xfrm_t *x;
  xfrm_sa_id_t id;
  xfrm_sa_cfg_t c;
  assert_int_equal(xfrm_open(&x), 0);
  sa_id(&id);
  sa_cfg_cbc(&c);
  assert_int_equal(xfrm_add_sa(x, &id, &c), 0);
  assert_int_equal(xfrm_add_sa(x, &id, &c), -EEXIST);
  c.life.hard_bytes = 5000000;
  assert_int_equal(xfrm_update_sa(x, &id, &c), 0);
  assert_int_equal(xfrm_del_sa(x, &id), 0);
  assert_int_equal(xfrm_del_sa(x, &id), -ESRCH);
  xfrm_close(x);
}

int main(void)
{
  if (geteuid() != 0) {
    netns_reason = "not root (XFRM and unshare(CLONE_NEWNET) need CAP_NET_ADMIN)";
  } else if (unshare(CLONE_NEWNET) != 0) {
    netns_reason = "unshare(CLONE_NEWNET) failed";
  }
  probe_esp();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_build_add_sa_gcm),
    cmocka_unit_test(test_build_add_sa_cbc),
    cmocka_unit_test(test_build_policy),
    cmocka_unit_test(test_nlm_bounds),
    cmocka_unit_test(test_policy_netns),
    cmocka_unit_test(test_state_error),
    cmocka_unit_test(test_state_ops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
