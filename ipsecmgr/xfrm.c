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
