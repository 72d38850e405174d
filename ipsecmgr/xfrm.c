/* xfrm.c - Linux XFRM backend over netlink, see xfrm.h. */
#include "xfrm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ike_wire.h"

#ifndef UDP_ENCAP_ESPINUDP
#define UDP_ENCAP_ESPINUDP 2
#endif

struct xfrm {
  int fd;
  char err[256];
};

static size_t xfrm_alen(uint8_t family)
{
  return family == AF_INET ? 4u : family == AF_INET6 ? 16u : 0u;
}

static uint64_t xfrm_lim(uint64_t v)
{
  return v == 0 ? XFRM_INF : v;
}

/* Kernel algorithm names (crypto API) of an ESP suite. */
static int xfrm_alg_names(const xfrm_sa_cfg_t *c, const char **enc, const char **auth,
                          unsigned *trunc_bits)
{
  *auth = NULL;
  *trunc_bits = 0;
  switch (c->encr) {
  case IKE_ENCR_AES_GCM_16: *enc = "rfc4106(gcm(aes))"; return 0;
  case IKE_ENCR_CHACHA20_POLY1305: *enc = "rfc7539esp(chacha20,poly1305)"; return 0;
  case IKE_ENCR_AES_CBC: *enc = "cbc(aes)"; break;
  default: return -EINVAL;
  }
  switch (c->integ) {
  case IKE_INTEG_HMAC_SHA1_96: *auth = "hmac(sha1)"; *trunc_bits = 96; return 0;
  case IKE_INTEG_HMAC_SHA2_256_128: *auth = "hmac(sha256)"; *trunc_bits = 128; return 0;
  case IKE_INTEG_HMAC_SHA2_384_192: *auth = "hmac(sha384)"; *trunc_bits = 192; return 0;
  case IKE_INTEG_HMAC_SHA2_512_256: *auth = "hmac(sha512)"; *trunc_bits = 256; return 0;
  default: return -EINVAL;
  }
}

/* Cipher (and integrity) attributes: XFRMA_ALG_AEAD or XFRMA_ALG_CRYPT + _AUTH_TRUNC. */
static int xfrm_put_algs(nlm_msg_t *m, const xfrm_sa_cfg_t *c)
{
  const char *enc, *auth;
  unsigned trunc;
  if (xfrm_alg_names(c, &enc, &auth, &trunc) != 0 || c->enc_key == NULL ||
      c->enc_key_len == 0 || c->enc_key_len > 64) {
    return -EINVAL;
  }
  if (auth == NULL) {
    struct xfrm_algo_aead *a = nlm_attr(m, XFRMA_ALG_AEAD, NULL, sizeof(*a) + c->enc_key_len);
    if (a == NULL) {
      return -ENOSPC;
    }
    snprintf(a->alg_name, sizeof(a->alg_name), "%s", enc);
    a->alg_key_len = (unsigned)c->enc_key_len * 8u; /* bits, salt included */
    a->alg_icv_len = 128;
    memcpy(a->alg_key, c->enc_key, c->enc_key_len);
    return 0;
  }
  if (c->auth_key == NULL || c->auth_key_len == 0 || c->auth_key_len > 64) {
    return -EINVAL;
  }
  struct xfrm_algo *e = nlm_attr(m, XFRMA_ALG_CRYPT, NULL, sizeof(*e) + c->enc_key_len);
  if (e == NULL) {
    return -ENOSPC;
  }
  snprintf(e->alg_name, sizeof(e->alg_name), "%s", enc);
  e->alg_key_len = (unsigned)c->enc_key_len * 8u;
  memcpy(e->alg_key, c->enc_key, c->enc_key_len);
  struct xfrm_algo_auth *h = nlm_attr(m, XFRMA_ALG_AUTH_TRUNC, NULL,
                                      sizeof(*h) + c->auth_key_len);
  if (h == NULL) {
    return -ENOSPC;
  }
  snprintf(h->alg_name, sizeof(h->alg_name), "%s", auth);
  h->alg_key_len = (unsigned)c->auth_key_len * 8u;
  h->alg_trunc_len = trunc;
  memcpy(h->alg_key, c->auth_key, c->auth_key_len);
  return 0;
}

/* Replay window beyond the 8-bit legacy field needs XFRMA_REPLAY_ESN_VAL. */
static int xfrm_put_replay(nlm_msg_t *m, const xfrm_sa_cfg_t *c)
{
  uint32_t w = c->replay_window ? c->replay_window : 1024u;
  uint32_t words = (w + 31u) / 32u;
  struct xfrm_replay_state_esn *r = nlm_attr(m, XFRMA_REPLAY_ESN_VAL, NULL,
                                             sizeof(*r) + words * 4u);
  if (r == NULL) {
    return -ENOSPC;
  }
  r->bmp_len = words;
  r->replay_window = w;
  return 0;
}

int xfrm_build_add_sa(nlm_msg_t *m, bool update, const xfrm_sa_id_t *id,
                      const xfrm_sa_cfg_t *c)
{
  size_t alen = xfrm_alen(id->family);
  if (alen == 0) {
    return -EINVAL;
  }
  nlm_init(m, update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, 0);
  struct xfrm_usersa_info *sa = nlm_body(m, sizeof(*sa));
  if (sa == NULL) {
    return -ENOSPC;
  }
  memcpy(&sa->id.daddr, id->dst, alen);
  memcpy(&sa->saddr, id->src, alen);
  sa->id.spi = htonl(id->spi);
  sa->id.proto = IPPROTO_ESP;
  sa->family = id->family;
  sa->mode = XFRM_MODE_TUNNEL;
  sa->reqid = c->reqid;
  sa->flags = c->esn ? XFRM_STATE_ESN : 0;
  sa->lft.soft_byte_limit = xfrm_lim(c->life.soft_bytes);
  sa->lft.hard_byte_limit = xfrm_lim(c->life.hard_bytes);
  sa->lft.soft_packet_limit = xfrm_lim(c->life.soft_packets);
  sa->lft.hard_packet_limit = xfrm_lim(c->life.hard_packets);
  int rc = xfrm_put_algs(m, c);
  if (rc == 0) {
    rc = xfrm_put_replay(m, c);
  }
  if (rc == 0 && c->udp_encap) {
    struct xfrm_encap_tmpl *e = nlm_attr(m, XFRMA_ENCAP, NULL, sizeof(*e));
    if (e == NULL) {
      return -ENOSPC;
    }
    e->encap_type = UDP_ENCAP_ESPINUDP;
    e->encap_sport = htons(c->encap_sport);
    e->encap_dport = htons(c->encap_dport);
  }
  return rc != 0 ? rc : nlm_err(m);
}

int xfrm_build_del_sa(nlm_msg_t *m, const xfrm_sa_id_t *id)
{
  size_t alen = xfrm_alen(id->family);
  if (alen == 0) {
    return -EINVAL;
  }
  nlm_init(m, XFRM_MSG_DELSA, 0);
  struct xfrm_usersa_id *u = nlm_body(m, sizeof(*u));
  if (u == NULL) {
    return -ENOSPC;
  }
  memcpy(&u->daddr, id->dst, alen);
  u->spi = htonl(id->spi);
  u->family = id->family;
  u->proto = IPPROTO_ESP;
  xfrm_address_t src;
  memset(&src, 0, sizeof(src));
  memcpy(&src, id->src, alen);
  nlm_attr(m, XFRMA_SRCADDR, &src, sizeof(src));
  return nlm_err(m);
}

static int xfrm_fill_sel(struct xfrm_selector *s, const xfrm_pol_t *p)
{
  size_t alen = xfrm_alen(p->family);
  if (alen == 0 || p->src_len > alen * 8u || p->dst_len > alen * 8u ||
      (p->dir != XFRM_POLICY_IN && p->dir != XFRM_POLICY_OUT && p->dir != XFRM_POLICY_FWD)) {
    return -EINVAL;
  }
  memcpy(&s->saddr, p->src, alen);
  memcpy(&s->daddr, p->dst, alen);
  s->prefixlen_s = p->src_len;
  s->prefixlen_d = p->dst_len;
  s->family = p->family;
  s->proto = p->proto;
  return 0;
}

int xfrm_build_policy(nlm_msg_t *m, bool add, const xfrm_pol_t *p)
{
  struct xfrm_selector sel;
  memset(&sel, 0, sizeof(sel));
  if (xfrm_fill_sel(&sel, p) != 0) {
    return -EINVAL;
  }
  if (!add) {
    nlm_init(m, XFRM_MSG_DELPOLICY, 0);
    struct xfrm_userpolicy_id *u = nlm_body(m, sizeof(*u));
    if (u == NULL) {
      return -ENOSPC;
    }
    u->sel = sel;
    u->dir = p->dir;
    return nlm_err(m);
  }
  size_t olen = xfrm_alen(p->outer_family);
  if (olen == 0) {
    return -EINVAL;
  }
  nlm_init(m, XFRM_MSG_NEWPOLICY, 0);
  struct xfrm_userpolicy_info *u = nlm_body(m, sizeof(*u));
  if (u == NULL) {
    return -ENOSPC;
  }
  u->sel = sel;
  u->dir = p->dir;
  u->priority = p->priority;
  u->action = XFRM_POLICY_ALLOW;
  u->share = XFRM_SHARE_ANY;
  u->lft.soft_byte_limit = u->lft.hard_byte_limit = XFRM_INF;
  u->lft.soft_packet_limit = u->lft.hard_packet_limit = XFRM_INF;
  struct xfrm_user_tmpl *t = nlm_attr(m, XFRMA_TMPL, NULL, sizeof(*t));
  if (t == NULL) {
    return -ENOSPC;
  }
  memcpy(&t->id.daddr, p->outer_dst, olen);
  memcpy(&t->saddr, p->outer_src, olen);
  t->id.proto = IPPROTO_ESP;
  t->family = p->outer_family;
  t->reqid = p->reqid;
  t->mode = XFRM_MODE_TUNNEL;
  t->aalgos = t->ealgos = t->calgos = ~0u;
  return nlm_err(m);
}

int xfrm_build_migrate(nlm_msg_t *m, const xfrm_pol_t *p, uint8_t new_family,
                       const uint8_t *new_src, const uint8_t *new_dst,
                       uint16_t encap_sport, uint16_t encap_dport)
{
  size_t olen = xfrm_alen(p->outer_family), nlen = xfrm_alen(new_family);
  struct xfrm_selector sel;
  memset(&sel, 0, sizeof(sel));
  if (olen == 0 || nlen == 0 || xfrm_fill_sel(&sel, p) != 0) {
    return -EINVAL;
  }
  nlm_init(m, XFRM_MSG_MIGRATE, 0);
  struct xfrm_userpolicy_id *u = nlm_body(m, sizeof(*u));
  if (u == NULL) {
    return -ENOSPC;
  }
  u->sel = sel;
  u->dir = p->dir;
  struct xfrm_user_migrate *mg = nlm_attr(m, XFRMA_MIGRATE, NULL, sizeof(*mg));
  if (mg == NULL) {
    return -ENOSPC;
  }
  memcpy(&mg->old_saddr, p->outer_src, olen);
  memcpy(&mg->old_daddr, p->outer_dst, olen);
  memcpy(&mg->new_saddr, new_src, nlen);
  memcpy(&mg->new_daddr, new_dst, nlen);
  mg->proto = IPPROTO_ESP;
  mg->mode = XFRM_MODE_TUNNEL;
  mg->reqid = p->reqid;
  mg->old_family = p->outer_family;
  mg->new_family = new_family;
  if (encap_sport != 0 || encap_dport != 0) {
    struct xfrm_encap_tmpl *e = nlm_attr(m, XFRMA_ENCAP, NULL, sizeof(*e));
    if (e == NULL) {
      return -ENOSPC;
    }
    e->encap_type = UDP_ENCAP_ESPINUDP;
    e->encap_sport = htons(encap_sport);
    e->encap_dport = htons(encap_dport);
  }
  return nlm_err(m);
}

/* --- operations --- */

int xfrm_open(xfrm_t **out)
{
  *out = NULL;
  xfrm_t *x = calloc(1, sizeof(*x));
  if (x == NULL) {
    return -ENOMEM;
  }
  x->fd = nlm_open(NETLINK_XFRM);
  if (x->fd < 0) {
    int rc = x->fd;
    free(x);
    return rc;
  }
  *out = x;
  return 0;
}

void xfrm_close(xfrm_t *x)
{
  if (x != NULL) {
    close(x->fd);
    free(x);
  }
}

const char *xfrm_last_error(const xfrm_t *x)
{
  return x->err;
}

/* Send a built request (rc = builder result); on failure leave "what: why" in
 * x->err. Wipes the request (it may carry keys). */
static int xfrm_do(xfrm_t *x, nlm_msg_t *m, int rc, const char *what)
{
  char why[160] = "";
  x->err[0] = '\0';
  if (rc == 0) {
    rc = nlm_talk(x->fd, m, why, sizeof(why));
  } else {
    snprintf(why, sizeof(why), "%s", rc == -ENOSPC ? "request too large" : "invalid parameters");
  }
  OPENSSL_cleanse(m->buf, sizeof(m->buf));
  if (rc != 0) {
    snprintf(x->err, sizeof(x->err), "%s: %s (%s)", what, why, strerror(-rc));
  }
  return rc;
}

/* Turn the two ways a kernel refuses an ESP state into plain words: no ESP at
 * all (EPROTONOSUPPORT: CONFIG_INET_ESP / CONFIG_INET6_ESP off, as on these
 * machines), or a missing crypto algorithm (ENOSYS / ENOENT from the crypto API). */
static int xfrm_sa_op(xfrm_t *x, bool update, const xfrm_sa_id_t *id, const xfrm_sa_cfg_t *c)
{
  nlm_msg_t m;
  char what[64];
  snprintf(what, sizeof(what), "xfrm %s spi 0x%08x", update ? "update_sa" : "add_sa", id->spi);
  int rc = xfrm_do(x, &m, xfrm_build_add_sa(&m, update, id, c), what);
  if (rc == -EPROTONOSUPPORT) {
    snprintf(x->err, sizeof(x->err),
             "%s: the kernel has no ESP support (CONFIG_INET_ESP/CONFIG_INET6_ESP off); "
             "use the userspace datapath (%s)", what, strerror(-rc));
  } else if (rc == -ENOSYS || rc == -ENOENT) {
    const char *enc = "?", *auth = NULL;
    unsigned trunc;
    (void)xfrm_alg_names(c, &enc, &auth, &trunc);
    char kernel[sizeof(x->err)];
    size_t wl = strlen(what) + 2u; /* x->err is "what: kernel text (errno text)" */
    snprintf(kernel, sizeof(kernel), "%s", strlen(x->err) > wl ? x->err + wl : x->err);
    snprintf(x->err, sizeof(x->err), "%s: the kernel crypto API lacks %s%s%s - %.150s", what,
             enc, auth ? " or " : "", auth ? auth : "", kernel);
  }
  return rc;
}

int xfrm_add_sa(xfrm_t *x, const xfrm_sa_id_t *id, const xfrm_sa_cfg_t *c)
{
  return xfrm_sa_op(x, false, id, c);
}

int xfrm_update_sa(xfrm_t *x, const xfrm_sa_id_t *id, const xfrm_sa_cfg_t *c)
{
  return xfrm_sa_op(x, true, id, c);
}

int xfrm_del_sa(xfrm_t *x, const xfrm_sa_id_t *id)
{
  nlm_msg_t m;
  char what[64];
  snprintf(what, sizeof(what), "xfrm del_sa spi 0x%08x", id->spi);
  return xfrm_do(x, &m, xfrm_build_del_sa(&m, id), what);
}

static const char *xfrm_dir_name(uint8_t dir)
{
  return dir == XFRM_POLICY_IN ? "in" : dir == XFRM_POLICY_OUT ? "out" : "fwd";
}

int xfrm_add_policy(xfrm_t *x, const xfrm_pol_t *p)
{
  nlm_msg_t m;
  char what[64];
  snprintf(what, sizeof(what), "xfrm add_policy %s", xfrm_dir_name(p->dir));
  return xfrm_do(x, &m, xfrm_build_policy(&m, true, p), what);
}

int xfrm_del_policy(xfrm_t *x, const xfrm_pol_t *p)
{
  nlm_msg_t m;
  char what[64];
  snprintf(what, sizeof(what), "xfrm del_policy %s", xfrm_dir_name(p->dir));
  return xfrm_do(x, &m, xfrm_build_policy(&m, false, p), what);
}

int xfrm_migrate(xfrm_t *x, const xfrm_pol_t *p, uint8_t new_family, const uint8_t *new_src,
                 const uint8_t *new_dst, uint16_t encap_sport, uint16_t encap_dport)
{
  nlm_msg_t m;
  char what[64];
  snprintf(what, sizeof(what), "xfrm migrate %s reqid %u", xfrm_dir_name(p->dir), p->reqid);
  return xfrm_do(x, &m, xfrm_build_migrate(&m, p, new_family, new_src, new_dst, encap_sport,
                                           encap_dport), what);
}

/* --- batched policies, dumps --- */

#define XFRM_BATCH_MAX 8u

/* Build one request per policy with build(i) and send them as one batch. */
static int xfrm_pol_batch(xfrm_t *x, const xfrm_pol_t *p, size_t n, bool add, int *errs,
                          const char *what)
{
  static nlm_msg_t msgs[XFRM_BATCH_MAX];
  nlm_msg_t *mp[XFRM_BATCH_MAX];
  char why[160] = "";
  x->err[0] = '\0';
  if (n > XFRM_BATCH_MAX) {
    snprintf(x->err, sizeof(x->err), "%s: more than %u policies in one batch", what,
             XFRM_BATCH_MAX);
    return -E2BIG;
  }
  for (size_t i = 0; i < n; i++) {
    int rc = xfrm_build_policy(&msgs[i], add, &p[i]);
    if (rc != 0) {
      snprintf(x->err, sizeof(x->err), "%s %s: invalid parameters (%s)", what,
               xfrm_dir_name(p[i].dir), strerror(-rc));
      return rc;
    }
    mp[i] = &msgs[i];
  }
  int rc = nlm_talk_batch(x->fd, mp, n, errs, why, sizeof(why));
  if (rc != 0) {
    snprintf(x->err, sizeof(x->err), "%s: %s (%s)", what, why, strerror(-rc));
  }
  return rc;
}

int xfrm_add_policies(xfrm_t *x, const xfrm_pol_t *p, size_t n)
{
  int errs[XFRM_BATCH_MAX] = {0};
  int rc = xfrm_pol_batch(x, p, n, true, errs, "xfrm add_policies");
  if (rc == 0 || n > XFRM_BATCH_MAX) {
    return rc;
  }
  /* Take back the ones that went in (keep the first failure's text). */
  char keep[sizeof(x->err)];
  memcpy(keep, x->err, sizeof(keep));
  xfrm_pol_t back[XFRM_BATCH_MAX];
  size_t nb = 0;
  for (size_t i = 0; i < n; i++) {
    if (errs[i] == 0) {
      back[nb++] = p[i];
    }
  }
  if (nb > 0) {
    (void)xfrm_del_policies(x, back, nb);
  }
  memcpy(x->err, keep, sizeof(keep));
  return rc;
}

int xfrm_del_policies(xfrm_t *x, const xfrm_pol_t *p, size_t n)
{
  int errs[XFRM_BATCH_MAX] = {0};
  int rc = xfrm_pol_batch(x, p, n, false, errs, "xfrm del_policies");
  if (rc == 0 || n > XFRM_BATCH_MAX) {
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    if (errs[i] != 0 && errs[i] != -ENOENT) {
      return errs[i];
    }
  }
  x->err[0] = '\0';
  return 0;
}

int xfrm_migrate_policies(xfrm_t *x, const xfrm_pol_t *p, size_t n, uint8_t new_family,
                          const uint8_t *new_local, const uint8_t *new_peer,
                          uint16_t encap_local, uint16_t encap_peer)
{
  static nlm_msg_t msgs[XFRM_BATCH_MAX];
  nlm_msg_t *mp[XFRM_BATCH_MAX];
  char why[160] = "";
  x->err[0] = '\0';
  if (n > XFRM_BATCH_MAX) {
    return -E2BIG;
  }
  for (size_t i = 0; i < n; i++) {
    bool out = p[i].dir == XFRM_POLICY_OUT;
    int rc = xfrm_build_migrate(&msgs[i], &p[i], new_family, out ? new_local : new_peer,
                                out ? new_peer : new_local, out ? encap_local : encap_peer,
                                out ? encap_peer : encap_local);
    if (rc != 0) {
      snprintf(x->err, sizeof(x->err), "xfrm migrate: invalid parameters (%s)", strerror(-rc));
      return rc;
    }
    mp[i] = &msgs[i];
  }
  int rc = nlm_talk_batch(x->fd, mp, n, NULL, why, sizeof(why));
  if (rc != 0) {
    snprintf(x->err, sizeof(x->err), "xfrm migrate: %s (%s)%s", why, strerror(-rc),
             rc == -ENOPROTOOPT ? " - kernel without CONFIG_XFRM_MIGRATE" : "");
  }
  return rc;
}

typedef struct {
  bool policies;
  int (*cb)(const xfrm_dump_ent_t *e, void *arg);
  void *arg;
} xfrm_dump_ctx_t;

static void xfrm_dump_tmpl(const struct nlmsghdr *h, size_t body, xfrm_dump_ent_t *e)
{
  const struct rtattr *a = (const struct rtattr *)((const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(body));
  int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(body));
  for (; left > 0 && RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == XFRMA_TMPL && RTA_PAYLOAD(a) >= sizeof(struct xfrm_user_tmpl)) {
      const struct xfrm_user_tmpl *t = RTA_DATA(a);
      size_t olen = xfrm_alen((uint8_t)t->family);
      e->reqid = t->reqid;
      e->pol.reqid = t->reqid;
      e->pol.outer_family = (uint8_t)t->family;
      if (olen != 0) {
        memcpy(e->pol.outer_src, &t->saddr, olen);
        memcpy(e->pol.outer_dst, &t->id.daddr, olen);
      }
      return;
    }
  }
}

static int xfrm_dump_one(const struct nlmsghdr *h, void *arg)
{
  xfrm_dump_ctx_t *c = arg;
  xfrm_dump_ent_t e;
  memset(&e, 0, sizeof(e));
  if (c->policies && h->nlmsg_type == XFRM_MSG_NEWPOLICY &&
      h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct xfrm_userpolicy_info))) {
    /* Copied out: a message after another in a dump may be only 4-byte
     * aligned while the struct holds 64-bit fields (UBSan, fuzz_nlreply). */
    struct xfrm_userpolicy_info ub;
    memcpy(&ub, NLMSG_DATA(h), sizeof(ub));
    const struct xfrm_userpolicy_info *u = &ub;
    size_t alen = xfrm_alen((uint8_t)u->sel.family);
    e.policy = true;
    e.pol.dir = u->dir;
    e.pol.family = (uint8_t)u->sel.family;
    if (alen != 0) {
      memcpy(e.pol.src, &u->sel.saddr, alen);
      memcpy(e.pol.dst, &u->sel.daddr, alen);
    }
    e.pol.src_len = u->sel.prefixlen_s;
    e.pol.dst_len = u->sel.prefixlen_d;
    e.pol.proto = u->sel.proto;
    e.pol.priority = u->priority;
    xfrm_dump_tmpl(h, sizeof(*u), &e);
    return c->cb(&e, c->arg);
  }
  if (!c->policies && h->nlmsg_type == XFRM_MSG_NEWSA &&
      h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct xfrm_usersa_info))) {
    struct xfrm_usersa_info ub; /* copied out: see the policy case */
    memcpy(&ub, NLMSG_DATA(h), sizeof(ub));
    const struct xfrm_usersa_info *u = &ub;
    size_t alen = xfrm_alen((uint8_t)u->family);
    e.sa.family = (uint8_t)u->family;
    if (alen != 0) {
      memcpy(e.sa.src, &u->saddr, alen);
      memcpy(e.sa.dst, &u->id.daddr, alen);
    }
    e.sa.spi = ntohl(u->id.spi);
    e.proto = u->id.proto;
    e.reqid = u->reqid;
    return c->cb(&e, c->arg);
  }
  return 0;
}

int xfrm_parse_dump(const void *buf, size_t len, uint32_t seq, bool policies,
                    int (*cb)(const xfrm_dump_ent_t *e, void *arg), void *arg, bool *stop,
                    int *rc)
{
  xfrm_dump_ctx_t c = {policies, cb, arg};
  return nlm_parse_dump(buf, len, seq, xfrm_dump_one, &c, stop, rc);
}

int xfrm_dump(xfrm_t *x, bool policies, int (*cb)(const xfrm_dump_ent_t *e, void *arg), void *arg)
{
  nlm_msg_t m;
  xfrm_dump_ctx_t c = {policies, cb, arg};
  x->err[0] = '\0';
  nlm_init(&m, policies ? XFRM_MSG_GETPOLICY : XFRM_MSG_GETSA, 0);
  /* The kernel's dump handlers accept an empty body. */
  int rc = nlm_dump(x->fd, &m, xfrm_dump_one, &c);
  if (rc != 0) {
    snprintf(x->err, sizeof(x->err), "xfrm dump %s: %s", policies ? "policies" : "states",
             strerror(-rc));
  }
  return rc;
}

typedef struct {
  uint64_t *packets, *bytes, *oseq, *seq;
  bool found;
} xfrm_get_ctx_t;

static int xfrm_get_one(const struct nlmsghdr *h, void *arg)
{
  xfrm_get_ctx_t *g = arg;
  if (h->nlmsg_type != XFRM_MSG_NEWSA ||
      h->nlmsg_len < NLMSG_LENGTH(sizeof(struct xfrm_usersa_info))) {
    return 0;
  }
  struct xfrm_usersa_info ub; /* copied out: the reply may be only 4-byte aligned */
  memcpy(&ub, NLMSG_DATA(h), sizeof(ub));
  const struct xfrm_usersa_info *u = &ub;
  *g->packets = u->curlft.packets;
  *g->bytes = u->curlft.bytes;
  g->found = true;
  const struct rtattr *a =
      (const struct rtattr *)((const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(*u)));
  int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*u)));
  for (; left > 0 && RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == XFRMA_REPLAY_ESN_VAL &&
        RTA_PAYLOAD(a) >= sizeof(struct xfrm_replay_state_esn)) {
      struct xfrm_replay_state_esn r;
      memcpy(&r, RTA_DATA(a), sizeof(r));
      *g->oseq = (uint64_t)r.oseq_hi << 32 | r.oseq;
      *g->seq = (uint64_t)r.seq_hi << 32 | r.seq;
    } else if (a->rta_type == XFRMA_REPLAY_VAL &&
               RTA_PAYLOAD(a) >= sizeof(struct xfrm_replay_state)) {
      struct xfrm_replay_state r;
      memcpy(&r, RTA_DATA(a), sizeof(r));
      *g->oseq = r.oseq;
      *g->seq = r.seq;
    }
  }
  return 1;
}

int xfrm_parse_get_sa(const void *buf, size_t len, uint32_t req_seq, uint64_t *packets,
                      uint64_t *bytes, uint64_t *oseq, uint64_t *seq, int *rc)
{
  xfrm_get_ctx_t g = {packets, bytes, oseq, seq, false};
  int left = nlm_left(len);
  for (const struct nlmsghdr *h = buf; nlm_ok(h, left); h = NLMSG_NEXT(h, left)) {
    if (h->nlmsg_seq != req_seq) {
      continue;
    }
    if (h->nlmsg_type == NLMSG_ERROR) {
      *rc = nlm_reply_error(h);
      return 1;
    }
    if (xfrm_get_one(h, &g) != 0) {
      *rc = 0;
      return 1;
    }
  }
  return 0;
}

int xfrm_get_sa(xfrm_t *x, const xfrm_sa_id_t *id, uint64_t *packets, uint64_t *bytes,
                uint64_t *oseq, uint64_t *seq)
{
  nlm_msg_t m;
  *packets = *bytes = *oseq = *seq = 0;
  x->err[0] = '\0';
  int rc = xfrm_build_del_sa(&m, id); /* same body: xfrm_usersa_id + XFRMA_SRCADDR */
  if (rc != 0) {
    snprintf(x->err, sizeof(x->err), "xfrm get_sa: invalid parameters");
    return rc;
  }
  nlm_hdr(&m)->nlmsg_type = XFRM_MSG_GETSA;
  nlm_hdr(&m)->nlmsg_flags = NLM_F_REQUEST;
  nlm_hdr(&m)->nlmsg_seq = 0x7fff0000u ^ id->spi;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(x->fd, m.buf, nlm_hdr(&m)->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
    rc = -errno;
    snprintf(x->err, sizeof(x->err), "xfrm get_sa spi 0x%08x: %s", id->spi, strerror(-rc));
    return rc;
  }
  _Alignas(8) uint8_t rb[8192];
  for (;;) {
    ssize_t r = recv(x->fd, rb, sizeof(rb), 0);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      rc = -errno;
      break;
    }
    if (xfrm_parse_get_sa(rb, (size_t)r, nlm_hdr(&m)->nlmsg_seq, packets, bytes, oseq, seq,
                          &rc) != 0) {
      break;
    }
  }
  if (rc != 0) {
    snprintf(x->err, sizeof(x->err), "xfrm get_sa spi 0x%08x: %s", id->spi, strerror(-rc));
  }
  return rc;
}
