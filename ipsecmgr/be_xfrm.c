/* be_xfrm.c - the Linux XFRM datapath as an ipsecmgr backend, see backend.h. */
#include "backend.h"

#include <errno.h>
#include <linux/xfrm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfrm.h"

static size_t xf_alen(int family)
{
  return family == AF_INET ? 4u : family == AF_INET6 ? 16u : 0u;
}

static const uint8_t *xf_addr(const struct sockaddr_storage *ss)
{
  return ss->ss_family == AF_INET
             ? (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr
             : (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static uint16_t xf_port(const struct sockaddr_storage *ss)
{
  return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                        : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The kernel's id of an SA: inbound states go peer -> us, outbound us -> peer. */
static int xf_sa_id(bool in, uint32_t spi, const struct sockaddr_storage *local,
                    const struct sockaddr_storage *peer, xfrm_sa_id_t *id)
{
  size_t alen = xf_alen(local->ss_family);
  memset(id, 0, sizeof(*id));
  if (alen == 0 || local->ss_family != peer->ss_family) {
    return -EINVAL;
  }
  id->family = (uint8_t)local->ss_family;
  id->spi = spi;
  memcpy(id->src, xf_addr(in ? peer : local), alen);
  memcpy(id->dst, xf_addr(in ? local : peer), alen);
  return 0;
}

static int xf_fail(xfrm_t *x, int rc, char *err, size_t errlen)
{
  snprintf(err, errlen, "%s", xfrm_last_error(x));
  return rc;
}

static int xf_add_sa(void *ctx, esp_table_t *tab, const ipm_be_id_t *bid,
                     const esp_sa_params_t *p, bool keep, esp_sa_t **sa, char *err,
                     size_t errlen)
{
  xfrm_t *x = ctx;
  struct sockaddr_storage l, r;
  bool in = p->dir == ESP_DIR_IN;
  memset(&l, 0, sizeof(l));
  memset(&r, 0, sizeof(r));
  memcpy(&l, p->local, p->local->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                      : sizeof(struct sockaddr_in6));
  memcpy(&r, p->peer, p->peer->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                    : sizeof(struct sockaddr_in6));
  xfrm_sa_id_t id;
  if (xf_sa_id(in, p->spi, &l, &r, &id) != 0) {
    snprintf(err, errlen, "SaAdd %08x: bad outer addresses for XFRM", p->spi);
    return -EINVAL;
  }
  xfrm_sa_cfg_t c = {.encr = p->encr, .encr_bits = p->encr_bits, .integ = p->integ,
                     .esn = p->esn, .enc_key = p->enc_key, .enc_key_len = p->enc_key_len,
                     .auth_key = p->auth_key, .auth_key_len = p->auth_key_len,
                     .reqid = bid->cin, .replay_window = in ? p->replay_window : 0,
                     .udp_encap = p->udp_encap,
                     .encap_sport = in ? xf_port(&r) : xf_port(&l),
                     .encap_dport = in ? xf_port(&l) : xf_port(&r), .life = p->life};
  int rc = xfrm_add_sa(x, &id, &c);
  if (rc == -EEXIST && keep) {
    rc = 0; /* resync after our restart: the kernel's state, sequence numbers and all */
  }
  if (rc != 0) {
    return xf_fail(x, rc, err, errlen);
  }
  /* The kernel has it: record it (ids, owner, lifetimes in seconds). */
  rc = esp_table_add(tab, p, sa);
  if (rc != 0) {
    snprintf(err, errlen, "SaAdd %08x: %s", p->spi, esp_strerror(rc));
    (void)xfrm_del_sa(x, &id);
    return rc == -ESP_E_FULL ? -ENOSPC : rc == -ESP_E_EXISTS ? -EEXIST : -EINVAL;
  }
  return 0;
}

/* The three policies of a CHILD SA (out, in, fwd). */
static int xf_policies(const ipm_be_child_t *c, xfrm_pol_t pol[3])
{
  size_t ilen = xf_alen(c->local_ts.family), olen = xf_alen(c->local.ss_family);
  if (ilen == 0 || olen == 0 || c->remote_ts.family != c->local_ts.family ||
      c->peer.ss_family != c->local.ss_family) {
    return -EINVAL;
  }
  static const uint8_t dirs[3] = {XFRM_POLICY_OUT, XFRM_POLICY_IN, XFRM_POLICY_FWD};
  for (int i = 0; i < 3; i++) {
    bool out = dirs[i] == XFRM_POLICY_OUT;
    xfrm_pol_t *p = &pol[i];
    memset(p, 0, sizeof(*p));
    p->dir = dirs[i];
    p->family = c->local_ts.family;
    const ipm_be_prefix_t *s = out ? &c->local_ts : &c->remote_ts;
    const ipm_be_prefix_t *d = out ? &c->remote_ts : &c->local_ts;
    memcpy(p->src, s->addr, ilen);
    memcpy(p->dst, d->addr, ilen);
    p->src_len = s->plen;
    p->dst_len = d->plen;
    p->priority = XFRM_OWN_PRIORITY;
    p->reqid = c->reqid;
    p->outer_family = (uint8_t)c->local.ss_family;
    memcpy(p->outer_src, xf_addr(out ? &c->local : &c->peer), olen);
    memcpy(p->outer_dst, xf_addr(out ? &c->peer : &c->local), olen);
  }
  return 0;
}

static int xf_add_policy(void *ctx, const ipm_be_child_t *c, char *err, size_t errlen)
{
  xfrm_t *x = ctx;
  xfrm_pol_t pol[3];
  if (xf_policies(c, pol) != 0) {
    snprintf(err, errlen, "CHILD SA %08x: selectors or outer addresses unusable for XFRM",
             c->reqid);
    return -EINVAL;
  }
  int rc = xfrm_add_policies(x, pol, 3);
  return rc != 0 ? xf_fail(x, rc, err, errlen) : 0;
}

static int xf_del_policy(void *ctx, const ipm_be_child_t *c, char *err, size_t errlen)
{
  xfrm_t *x = ctx;
  xfrm_pol_t pol[3];
  if (xf_policies(c, pol) != 0) {
    snprintf(err, errlen, "CHILD SA %08x: selectors unusable for XFRM", c->reqid);
    return -EINVAL;
  }
  int rc = xfrm_del_policies(x, pol, 3);
  return rc != 0 ? xf_fail(x, rc, err, errlen) : 0;
}

/* MOBIKE: the inbound SA's turn migrates the CHILD SA (its policies and both
 * states, XFRM_MSG_MIGRATE); the outbound SA's turn only updates the record. */
static int xf_update_sa(void *ctx, esp_sa_t *sa, const ipm_be_child_t *c,
                        const struct sockaddr *local, const struct sockaddr *peer,
                        bool udp_encap, char *err, size_t errlen)
{
  xfrm_t *x = ctx;
  if (sa->dir == ESP_DIR_IN) {
    xfrm_pol_t pol[3];
    if (c == NULL || xf_policies(c, pol) != 0) {
      snprintf(err, errlen, "SaUpdate %08x: CHILD SA has no XFRM policies to migrate", sa->spi);
      return -ENOENT;
    }
    struct sockaddr_storage l, p;
    memset(&l, 0, sizeof(l));
    memset(&p, 0, sizeof(p));
    memcpy(&l, local, local->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                  : sizeof(struct sockaddr_in6));
    memcpy(&p, peer, peer->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                : sizeof(struct sockaddr_in6));
    int rc = xfrm_migrate_policies(x, pol, 3, (uint8_t)local->sa_family, xf_addr(&l),
                                   xf_addr(&p), udp_encap ? xf_port(&l) : 0,
                                   udp_encap ? xf_port(&p) : 0);
    if (rc != 0) {
      return xf_fail(x, rc, err, errlen);
    }
  }
  if (esp_sa_update_addr(sa, local, peer, udp_encap) != 0) {
    snprintf(err, errlen, "SaUpdate %08x: bad addresses", sa->spi);
    return -EINVAL;
  }
  return 0;
}

static int xf_del_sa(void *ctx, esp_table_t *tab, esp_sa_t *sa, char *err, size_t errlen)
{
  xfrm_t *x = ctx;
  xfrm_sa_id_t id;
  int rc = 0;
  if (xf_sa_id(sa->dir == ESP_DIR_IN, sa->spi, &sa->local.ss, &sa->peer.ss, &id) == 0) {
    rc = xfrm_del_sa(x, &id);
    if (rc == -ESRCH || rc == -ENOENT) {
      rc = 0; /* already gone (expired in the kernel) */
    }
    if (rc != 0) {
      xf_fail(x, rc, err, errlen);
    }
  }
  esp_table_del(tab, sa->id);
  return rc;
}

static int xf_query(void *ctx, const esp_sa_t *sa, ipm_be_stats_t *st)
{
  xfrm_t *x = ctx;
  xfrm_sa_id_t id;
  uint64_t oseq = 0, seq = 0;
  memset(st, 0, sizeof(*st));
  if (xf_sa_id(sa->dir == ESP_DIR_IN, sa->spi, &sa->local.ss, &sa->peer.ss, &id) != 0) {
    return -EINVAL;
  }
  int rc = xfrm_get_sa(x, &id, &st->packets, &st->bytes, &oseq, &seq);
  st->seq = sa->dir == ESP_DIR_OUT ? oseq : seq;
  return rc;
}

/* --- reconcile --- */

int ipm_be_xfrm_collect(const xfrm_dump_ent_t *e, void *arg)
{
  ipm_be_xfrm_list_t *l = arg;
  if (!e->policy && e->proto != IPPROTO_ESP) {
    return 0;
  }
  if (e->policy && e->pol.priority != XFRM_OWN_PRIORITY) {
    return 0;
  }
  if (l->n == l->cap) {
    size_t nc = l->cap ? 2u * l->cap : 64u;
    xfrm_dump_ent_t *ne = realloc(l->e, nc * sizeof(*ne));
    if (ne == NULL) {
      return 1;
    }
    l->e = ne;
    l->cap = nc;
  }
  l->e[l->n++] = *e;
  return 0;
}

/* Is a state with this reqid ours (backend.h): a policy of ours carries the
 * reqid, or an ESP state is its own reqid (our inbound state). */
static bool xf_owned_reqid(const ipm_be_xfrm_list_t *pol, const ipm_be_xfrm_list_t *st,
                           uint32_t reqid)
{
  if (reqid == 0) {
    return false;
  }
  for (size_t i = 0; i < pol->n; i++) {
    if (pol->e[i].reqid == reqid) {
      return true;
    }
  }
  for (size_t i = 0; i < st->n; i++) {
    if (st->e[i].sa.spi == reqid && st->e[i].reqid == reqid) {
      return true;
    }
  }
  return false;
}

unsigned ipm_be_xfrm_sweep(const ipm_be_xfrm_list_t *pol, const ipm_be_xfrm_list_t *st,
                           uint16_t slot, ipm_be_claimed_t claimed, void *carg,
                           int (*del)(void *darg, const xfrm_dump_ent_t *e), void *darg)
{
  unsigned removed = 0;
  uint8_t tag = (uint8_t)(slot & 0xffu);
  for (size_t i = 0; i < st->n; i++) {
    uint32_t q = st->e[i].reqid;
    if ((q >> 24) == tag && xf_owned_reqid(pol, st, q) && !claimed(carg, q) &&
        del(darg, &st->e[i]) == 0) {
      removed++;
    }
  }
  for (size_t i = 0; i < pol->n; i++) {
    uint32_t q = pol->e[i].reqid;
    if ((q >> 24) == tag && !claimed(carg, q) && del(darg, &pol->e[i]) == 0) {
      removed++;
    }
  }
  return removed;
}

static int xf_del_ent(void *darg, const xfrm_dump_ent_t *e)
{
  xfrm_t *x = darg;
  return e->policy ? xfrm_del_policies(x, &e->pol, 1) : xfrm_del_sa(x, &e->sa);
}

static int xf_reconcile(void *ctx, uint16_t slot, ipm_be_claimed_t claimed, void *arg,
                        unsigned *removed, char *err, size_t errlen)
{
  xfrm_t *x = ctx;
  ipm_be_xfrm_list_t pol = {0}, st = {0};
  *removed = 0;
  int rc = xfrm_dump(x, true, ipm_be_xfrm_collect, &pol);
  if (rc == 0) {
    rc = xfrm_dump(x, false, ipm_be_xfrm_collect, &st);
  }
  if (rc != 0) {
    xf_fail(x, rc, err, errlen);
  } else {
    *removed = ipm_be_xfrm_sweep(&pol, &st, slot, claimed, arg, xf_del_ent, x);
  }
  free(pol.e);
  free(st.e);
  return rc;
}

const ipm_backend_ops_t ipm_be_xfrm = {
    .name = "xfrm",
    .add_sa = xf_add_sa,
    .update_sa = xf_update_sa,
    .del_sa = xf_del_sa,
    .add_policy = xf_add_policy,
    .del_policy = xf_del_policy,
    .query = xf_query,
    .reconcile = xf_reconcile,
};
