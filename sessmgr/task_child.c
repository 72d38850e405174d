/*
 * task_child.c - CHILD SA creation shared by IKE_AUTH and CREATE_CHILD_SA:
 * ESP proposal selection, traffic-selector narrowing (RFC 7296 2.9), keying
 * material (2.17) and programming ipsecmgr; and the CREATE_CHILD_SA responder
 * (new CHILD SA, CHILD SA rekey, IKE SA rekey; 1.3).
 */
#include <arpa/inet.h>
#include <string.h>

#include "ike_log.h"
#include "ike_proposal.h"
#include "ike_addr.h"
#include "ike_sa.h"

static int ts_alen(uint8_t type)
{
  return type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
}

/* Selector of a whole prefix. */
static void ts_from_prefix(const ike_cfg_prefix_t *p, ike_ts_t *ts)
{
  int alen = p->family == AF_INET ? 4 : 16;
  memset(ts, 0, sizeof *ts);
  ts->type = p->family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
  ts->end_port = 0xFFFF;
  for (int i = 0; i < alen; i++) {
    int bits = (int)p->plen - i * 8;
    uint8_t mask = bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t)(0xFF << (8 - bits));
    ts->start[i] = p->addr[i] & mask;
    ts->end[i] = (uint8_t)(p->addr[i] | (uint8_t)~mask);
  }
}

/* Intersection of two selectors; false if empty. */
static bool ts_intersect(const ike_ts_t *a, const ike_ts_t *b, ike_ts_t *out)
{
  if (a->type != b->type) {
    return false;
  }
  if (a->ip_proto != 0 && b->ip_proto != 0 && a->ip_proto != b->ip_proto) {
    return false;
  }
  int alen = ts_alen(a->type);
  *out = *a;
  out->ip_proto = a->ip_proto ? a->ip_proto : b->ip_proto;
  out->start_port = a->start_port > b->start_port ? a->start_port : b->start_port;
  out->end_port = a->end_port < b->end_port ? a->end_port : b->end_port;
  if (out->start_port > out->end_port) {
    return false;
  }
  memcpy(out->start, memcmp(a->start, b->start, alen) > 0 ? a->start : b->start, alen);
  memcpy(out->end, memcmp(a->end, b->end, alen) < 0 ? a->end : b->end, alen);
  return memcmp(out->start, out->end, alen) <= 0;
}

/* A remote-access template hands out inner addresses from a pool (CP,
 * RFC 7296 2.19); one without a pool is site-to-site style. */
static bool tmpl_remote_access(const ike_cfg_template_t *t)
{
  return t->pool4 != IKE_CFG_NONE || t->pool6 != IKE_CFG_NONE;
}

/* The assigned virtual IP of one family as a single-address selector. */
static bool vip_ts(const ike_sa_t *sa, uint8_t type, ike_ts_t *out)
{
  memset(out, 0, sizeof *out);
  out->type = type;
  out->end_port = 0xFFFF;
  if (type == IKE_TS_IPV4_ADDR_RANGE && sa->vip4 != 0) {
    uint32_t v = htonl(sa->vip4);
    memcpy(out->start, &v, 4);
    memcpy(out->end, &v, 4);
    return true;
  }
  if (type == IKE_TS_IPV6_ADDR_RANGE && sa->has_vip6) {
    memcpy(out->start, sa->vip6, 16);
    memcpy(out->end, sa->vip6, 16);
    return true;
  }
  return false;
}

/* TSi of a remote-access client: always exactly its assigned virtual IP
 * (DESIGN.md "Security rules"). The address part of the peer's proposal is
 * not trusted and not required to contain the VIP: clients propose
 * 0.0.0.0/0, a range, or (libreswan) their own outer address before they
 * know the VIP (RFC 7296 2.19 lets the responder pick the addresses); only
 * its protocol and ports narrow the selector. One selector pair per CHILD
 * SA: the IPv4 address if the peer proposed an IPv4 selector, else IPv6. */
static bool tsi_narrow_vip(const ike_sa_t *sa, const ike_ts_pld_t *tsi, ike_ts_t *remote)
{
  static const uint8_t types[2] = {IKE_TS_IPV4_ADDR_RANGE, IKE_TS_IPV6_ADDR_RANGE};
  for (int f = 0; f < 2; f++) {
    ike_ts_t want;
    if (!vip_ts(sa, types[f], &want)) {
      continue;
    }
    for (unsigned i = 0; i < tsi->n; i++) {
      ike_ts_t cand = tsi->ts[i];
      if (cand.type != want.type) {
        continue;
      }
      memcpy(cand.start, want.start, sizeof cand.start);
      memcpy(cand.end, want.end, sizeof cand.end);
      if (ts_intersect(&cand, &want, remote)) {
        return true;
      }
    }
  }
  return false;
}

/* Narrow the peer's TSi (a peer with an assigned virtual IP: to it, see
 * above; else on a site-to-site template: its first address-range selector,
 * no remote selectors are configured) and TSr to our local selectors (RFC
 * 7296 2.9). Returns 0, or the notify that refuses the CHILD SA:
 * FAILED_CP_REQUIRED when a remote-access client has no virtual IP in
 * IKE_AUTH (3.10.1: it sent no CP request; its TSi must never become its
 * inner address), else TS_UNACCEPTABLE. */
static int ts_narrow(const ike_engine_t *e, const ike_sa_t *sa, bool ike_auth,
                     const ike_ts_pld_t *tsi, const ike_ts_pld_t *tsr,
                     ike_ts_t *remote, ike_ts_t *local)
{
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  bool got = false;
  if (sa->vip4 != 0 || sa->has_vip6) {
    got = tsi_narrow_vip(sa, tsi, remote); /* an assigned VIP always rules */
  } else if (tmpl_remote_access(t)) {
    return ike_auth ? IKE_N_FAILED_CP_REQUIRED : IKE_N_TS_UNACCEPTABLE;
  } else {
    for (unsigned i = 0; i < tsi->n && !got; i++) {
      if (tsi->ts[i].type == IKE_TS_IPV4_ADDR_RANGE ||
          tsi->ts[i].type == IKE_TS_IPV6_ADDR_RANGE) {
        *remote = tsi->ts[i];
        got = true;
      }
    }
  }
  if (!got) {
    return IKE_N_TS_UNACCEPTABLE;
  }
  static const ike_cfg_prefix_t any4 = {.family = AF_INET, .plen = 0};
  static const ike_cfg_prefix_t any6 = {.family = AF_INET6, .plen = 0};
  const ike_cfg_prefix_t *loc = t->n_local_ts ? t->local_ts : NULL;
  unsigned n_loc = t->n_local_ts;
  ike_cfg_prefix_t anys[2] = {any4, any6};
  if (loc == NULL) {
    loc = anys;
    n_loc = 2;
  }
  for (unsigned i = 0; i < tsr->n; i++) {
    for (unsigned j = 0; j < n_loc; j++) {
      ike_ts_t ours;
      ts_from_prefix(&loc[j], &ours);
      /* Only selectors of the same family as the peer's side make a pair. */
      if (ours.type == remote->type && ts_intersect(&tsr->ts[i], &ours, local)) {
        return 0;
      }
    }
  }
  return IKE_N_TS_UNACCEPTABLE;
}

/* Append one selector as text ("10.0.0.1-10.0.0.9", with " proto P ports
 * A-B" when not any) to buf at *off. */
static void ts_text(const ike_ts_t *ts, char *buf, size_t cap, size_t *off)
{
  char a[INET6_ADDRSTRLEN] = "?", b[INET6_ADDRSTRLEN] = "?";
  int af = ts->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6;
  int n;
  if (ts->type == IKE_TS_IPV4_ADDR_RANGE || ts->type == IKE_TS_IPV6_ADDR_RANGE) {
    inet_ntop(af, ts->start, a, sizeof a);
    inet_ntop(af, ts->end, b, sizeof b);
    n = snprintf(buf + *off, cap - *off, "%s%s-%s", *off ? ", " : "", a, b);
  } else {
    n = snprintf(buf + *off, cap - *off, "%stype %u", *off ? ", " : "", ts->type);
  }
  if (n > 0 && (ts->ip_proto != 0 || ts->start_port != 0 || ts->end_port != 0xFFFF)) {
    size_t o = *off + (size_t)n < cap ? *off + (size_t)n : cap - 1;
    int m = snprintf(buf + o, cap - o, " proto %u ports %u-%u", ts->ip_proto,
                     ts->start_port, ts->end_port);
    n += m > 0 ? m : 0;
  }
  if (n > 0) {
    *off = *off + (size_t)n < cap ? *off + (size_t)n : cap - 1;
  }
}

static void ts_list_text(const ike_ts_pld_t *p, char *buf, size_t cap)
{
  size_t off = 0;
  buf[0] = '\0';
  for (unsigned i = 0; i < p->n && i < 4; i++) {
    ts_text(&p->ts[i], buf, cap, &off);
  }
  if (p->n > 4) {
    snprintf(buf + off, cap - off, " (+%u more)", p->n - 4u);
  } else if (p->n == 0) {
    snprintf(buf, cap, "none");
  }
}

/* Say why a CHILD SA was refused (one INFO line): what the peer proposed
 * against what the template allows. Selectors are not secret. */
static void ts_log_refusal(const ike_engine_t *e, const ike_sa_t *sa, int err,
                           const ike_ts_pld_t *tsi, const ike_ts_pld_t *tsr)
{
  if (!IKE_LOG_ON(IKE_LOG_LVL_INFO)) {
    return;
  }
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  char pi[256], pr[256], ai[96], ar[256];
  ike_ts_t v;
  size_t off = 0;
  ts_list_text(tsi, pi, sizeof pi);
  ts_list_text(tsr, pr, sizeof pr);
  if (sa->vip4 == 0 && !sa->has_vip6) {
    snprintf(ai, sizeof ai, "%s", tmpl_remote_access(t)
                                      ? "none (no virtual IP assigned: no CP request)"
                                      : "any (no address pool)");
  } else {
    ai[0] = '\0';
    if (vip_ts(sa, IKE_TS_IPV4_ADDR_RANGE, &v)) {
      ts_text(&v, ai, sizeof ai, &off);
    }
    if (vip_ts(sa, IKE_TS_IPV6_ADDR_RANGE, &v)) {
      ts_text(&v, ai, sizeof ai, &off);
    }
    snprintf(ai + off, sizeof ai - off, " (virtual IP)");
  }
  off = 0;
  ar[0] = '\0';
  for (unsigned j = 0; j < t->n_local_ts; j++) {
    ts_from_prefix(&t->local_ts[j], &v);
    ts_text(&v, ar, sizeof ar, &off);
  }
  if (t->n_local_ts == 0) {
    snprintf(ar, sizeof ar, "any");
  }
  IKE_LOG_INFO("SPI %016llx: CHILD SA refused (%s): proposed TSi [%s] TSr [%s]; "
               "template %s allows TSi [%s] TSr [%s]",
               (unsigned long long)sa->spi_r, ike_notify_name((uint16_t)err), pi, pr,
               t->name, ai, ar);
}

/* The ipsecmgr view of one CHILD SA. */
static void child_prog_fill(const ike_engine_t *e, const ike_sa_t *sa,
                            const ike_child_t *c, ike_child_prog_t *out)
{
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  ike_child_prog_t p;
  memset(&p, 0, sizeof p);
  p.ike_spi = sa->spi_r;
  p.spi_in = c->spi_in;
  p.spi_out = c->spi_out;
  p.suite = c->suite;
  memcpy(p.ek_in, c->ek_in, sizeof p.ek_in);
  memcpy(p.ak_in, c->ak_in, sizeof p.ak_in);
  memcpy(p.ek_out, c->ek_out, sizeof p.ek_out);
  memcpy(p.ak_out, c->ak_out, sizeof p.ak_out);
  p.ek_len = c->ek_len;
  p.ak_len = c->ak_len;
  ike_task_mobike_esp_path(sa, &p.path, &p.encap); /* held back during a COOKIE2 check */
  p.no_rebind = sa->mobike; /* RFC 4555 3.5: no NAT rebinding for MOBIKE SAs */
  p.ts_local = c->ts_local;
  p.ts_remote = c->ts_remote;
  p.life_hard_bytes = t->child_lifetime_kb * 1024u;
  p.life_soft_bytes = p.life_hard_bytes - p.life_hard_bytes / 10;
  p.life_hard_packets = t->child_lifetime_packets;
  p.life_soft_packets = p.life_hard_packets - p.life_hard_packets / 10;
  p.life_hard_s = t->child_lifetime_s;
  p.life_soft_s = p.life_hard_s - p.life_hard_s / 10;
  /* The inner address ipsecmgr routes to this client: only ever the one the
   * gateway assigned, never one from a traffic selector. */
  p.vip4 = sa->vip4;
  memcpy(p.vip6, sa->vip6, sizeof p.vip6);
  p.has_vip6 = sa->has_vip6;
  *out = p;
  ike_wipe(&p, sizeof p);
}

void ike_child_program(ike_engine_t *e, ike_sa_t *sa, ike_child_t *c)
{
  ike_child_prog_t p;
  child_prog_fill(e, sa, c, &p);
  e->ops.child_add(e->ctx, &p);
  ike_wipe(&p, sizeof p);
}

size_t ike_engine_foreach_child(const ike_engine_t *e,
                                void (*fn)(void *arg, const ike_child_prog_t *c),
                                void *arg)
{
  size_t n = 0;
  ike_child_prog_t p;
  for (size_t j = 0; j < e->cap; j++) {
    const ike_sa_t *sa = e->tab[j];
    for (int i = 0; sa != NULL && i < IKE_MAX_CHILD; i++) {
      if (sa->child[i].used) {
        child_prog_fill(e, sa, &sa->child[i], &p);
        fn(arg, &p);
        n++;
      }
    }
  }
  ike_wipe(&p, sizeof p);
  return n;
}

/* The CHILD SA payloads of a request. */
typedef struct child_req {
  const ike_pld_t *sa, *tsi, *tsr;
} child_req_t;

static void child_collect(const ike_chain_t *c, child_req_t *r)
{
  memset(r, 0, sizeof *r);
  for (unsigned i = 0; i < c->n; i++) {
    const ike_pld_t *p = &c->pld[i];
    if (p->type == IKE_PLD_SA && r->sa == NULL) {
      r->sa = p;
    } else if (p->type == IKE_PLD_TSI && r->tsi == NULL) {
      r->tsi = p;
    } else if (p->type == IKE_PLD_TSR && r->tsr == NULL) {
      r->tsr = p;
    }
  }
}

int ike_child_create(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx, ike_tx_t *tx,
                     const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                     size_t nr_len, const ike_ke_pld_t *ke, ike_child_t **out)
{
  uint8_t g_ir[IKE_MAX_DH_SECRET];
  size_t g_len = 0;
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  child_req_t r;
  ike_sa_pld_t offer;
  ike_ts_pld_t tsi, tsr;
  ike_choice_t ch;
  child_collect(&rx->chain, &r);
  if (r.sa == NULL || r.tsi == NULL || r.tsr == NULL || ike_pld_sa(r.sa, &offer) != 0 ||
      ike_pld_ts(r.tsi, &tsi) != 0 || ike_pld_ts(r.tsr, &tsr) != 0) {
    return IKE_N_INVALID_SYNTAX;
  }
  if (ike_proposal_select(t->child_tsets, t->n_child_tsets, &offer, IKE_PROTO_ESP,
                          ke ? ke->group : IKE_DH_NONE, false, &ch) != 0) {
    IKE_STAT(e, fail_no_proposal);
    ike_proposal_log_refused("CHILD SA", sa->spi_r, t->child_tsets, t->n_child_tsets,
                             &offer, IKE_PROTO_ESP, e->now_ms);
    return IKE_N_NO_PROPOSAL_CHOSEN;
  }
  if (ch.want_dh != 0) {
    return IKE_N_INVALID_KE_PAYLOAD; /* caller adds the group we want */
  }
  if (ch.suite.dh != IKE_DH_NONE) {
    /* PFS (RFC 7296 1.3.1): our KE goes into the response here. */
    ike_dh_t *dh = NULL;
    uint8_t pub[IKE_MAX_DH_PUB];
    size_t pub_len = 0;
    int rc = ike_dh_new(ch.suite.dh, &dh);
    if (rc == 0) {
      rc = ike_dh_shared(dh, ke->data, ke->len, g_ir, sizeof g_ir, &g_len);
    }
    if (rc == 0) {
      rc = ike_dh_public(dh, pub, sizeof pub, &pub_len);
    }
    ike_dh_free(dh);
    if (rc != 0) {
      return IKE_N_NO_PROPOSAL_CHOSEN;
    }
    ike_put_ke(&tx->mb, ch.suite.dh, pub, pub_len);
  }
  ike_child_t *c = ike_sa_child_free_slot(sa);
  if (c == NULL) {
    return IKE_N_NO_ADDITIONAL_SAS;
  }
  memset(c, 0, sizeof *c);
  int ts_err = ts_narrow(e, sa, rx->h.exchange == IKE_EXCH_IKE_AUTH, &tsi, &tsr,
                         &c->ts_remote, &c->ts_local);
  if (ts_err != 0) {
    if (ts_err == IKE_N_TS_UNACCEPTABLE) {
      IKE_STAT(e, fail_ts_unacceptable);
    }
    ts_log_refusal(e, sa, ts_err, &tsi, &tsr);
    return ts_err;
  }
  c->suite = ch.suite;
  c->spi_out = (uint32_t)ch.spi[0] << 24 | (uint32_t)ch.spi[1] << 16 |
               (uint32_t)ch.spi[2] << 8 | ch.spi[3];
  c->spi_in = ike_sa_new_child_spi(e);
  if (c->spi_in == 0) {
    ike_wipe(g_ir, sizeof g_ir);
    IKE_STAT(e, fail_internal); /* no random bytes: no SPI, no CHILD SA */
    return IKE_N_TEMPORARY_FAILURE;
  }
  c->ek_len = (uint8_t)ike_encr_key_len(ch.suite.encr, ch.suite.encr_bits);
  c->ak_len = (uint8_t)ike_integ_key_len(ch.suite.integ);
  /* KEYMAT: initiator->responder keys first, encryption before integrity. */
  uint8_t km[2 * (IKE_MAX_ENCR_KEY + IKE_MAX_INTEG_KEY)];
  size_t km_len = 2u * (c->ek_len + c->ak_len);
  int krc = ike_child_keymat(sa->suite.prf, sa->keys.sk_d, sa->keys.d_len,
                             g_len ? g_ir : NULL, g_len, ni, ni_len, nr, nr_len, km,
                             km_len);
  ike_wipe(g_ir, sizeof g_ir);
  if (krc != 0) {
    ike_wipe(km, sizeof km);
    c->used = false;
    ike_sa_child_spi_gone(e, c->spi_in);
    return IKE_N_NO_PROPOSAL_CHOSEN;
  }
  memcpy(c->ek_in, km, c->ek_len);
  memcpy(c->ak_in, km + c->ek_len, c->ak_len);
  memcpy(c->ek_out, km + c->ek_len + c->ak_len, c->ek_len);
  memcpy(c->ak_out, km + 2 * c->ek_len + c->ak_len, c->ak_len);
  ike_wipe(km, sizeof km);
  c->created_ms = e->now_ms;
  c->used = true;
  uint8_t spi_be[4] = {(uint8_t)(c->spi_in >> 24), (uint8_t)(c->spi_in >> 16),
                       (uint8_t)(c->spi_in >> 8), (uint8_t)c->spi_in};
  ike_proposal_put(&tx->mb, &ch, IKE_PROTO_ESP, spi_be, 4);
  ike_ts_pld_t one = {.n = 1};
  one.ts[0] = c->ts_remote;
  ike_put_ts(&tx->mb, IKE_PLD_TSI, &one);
  one.ts[0] = c->ts_local;
  ike_put_ts(&tx->mb, IKE_PLD_TSR, &one);
  IKE_STAT(e, child_sa_established);
  IKE_STAT(e, child_sa_current);
  *out = c;
  return 0;
}

/* The payloads of a CREATE_CHILD_SA request. */
typedef struct ccs_req {
  const ike_pld_t *sa, *nonce, *ke;
  bool rekey;
  uint8_t rekey_proto;
  uint32_t rekey_spi;
} ccs_req_t;

static void ccs_collect(ike_engine_t *e, const ike_chain_t *c, ccs_req_t *r)
{
  memset(r, 0, sizeof *r);
  for (unsigned i = 0; i < c->n; i++) {
    const ike_pld_t *p = &c->pld[i];
    ike_notify_pld_t n;
    if (p->type == IKE_PLD_SA && r->sa == NULL) {
      r->sa = p;
    } else if (p->type == IKE_PLD_NONCE && r->nonce == NULL) {
      r->nonce = p;
    } else if (p->type == IKE_PLD_KE && r->ke == NULL) {
      r->ke = p;
    } else if (p->type == IKE_PLD_NOTIFY && ike_pld_notify(p, &n) == 0) {
      ike_stats_notify(&e->stats, n.type, 0);
      if (n.type == IKE_N_REKEY_SA && n.spi_len == 4) {
        r->rekey = true;
        r->rekey_proto = n.protocol;
        r->rekey_spi = (uint32_t)n.spi[0] << 24 | (uint32_t)n.spi[1] << 16 |
                       (uint32_t)n.spi[2] << 8 | n.spi[3];
      }
    }
  }
}

static void respond_error(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx, uint16_t type,
                          uint16_t group)
{
  ike_tx_t tx;
  uint8_t g[2] = {(uint8_t)(group >> 8), (uint8_t)group};
  ike_tx_init(&tx);
  ike_put_notify(&tx.mb, 0, NULL, 0, type, group ? g : NULL, group ? 2 : 0);
  ike_stats_notify(&e->stats, type, 1);
  ike_msg_respond(e, sa, rx, &tx);
}

/* IKE SA rekey (RFC 7296 1.3.2, 2.18): a new IKE SA of this slot takes over
 * the CHILD SAs and every per-SA setting (MOBIKE flag included). */
static void rekey_ike(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx, const ccs_req_t *r,
                      const ike_sa_pld_t *offer)
{
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  ike_ke_pld_t ke;
  ike_nonce_pld_t ni;
  ike_choice_t ch;
  if (r->ke == NULL || r->nonce == NULL || ike_pld_ke(r->ke, &ke) != 0 ||
      ike_pld_nonce(r->nonce, &ni) != 0) {
    respond_error(e, sa, rx, IKE_N_INVALID_SYNTAX, 0);
    return;
  }
  if (ike_proposal_select(t->ike_tsets, t->n_ike_tsets, offer, IKE_PROTO_IKE, ke.group,
                          true, &ch) != 0 || ch.spi_len != 8) {
    respond_error(e, sa, rx, IKE_N_NO_PROPOSAL_CHOSEN, 0);
    return;
  }
  if (ch.want_dh != 0) {
    respond_error(e, sa, rx, IKE_N_INVALID_KE_PAYLOAD, ch.suite.dh);
    return;
  }
  uint64_t spi_i = 0;
  for (int i = 0; i < 8; i++) {
    spi_i = spi_i << 8 | ch.spi[i];
  }
  ike_sa_t *nsa = ike_sa_new(e, spi_i);
  if (nsa == NULL) {
    respond_error(e, sa, rx, IKE_N_TEMPORARY_FAILURE, 0);
    return;
  }
  uint8_t g_ir[IKE_MAX_DH_SECRET], pub[IKE_MAX_DH_PUB];
  size_t g_len = 0, pub_len = 0;
  ike_dh_t *dh = NULL;
  nsa->suite = ch.suite;
  nsa->ni_len = ni.len;
  memcpy(nsa->ni, ni.data, ni.len);
  nsa->nr_len = IKE_NONCE_LEN;
  int rc = ike_random(nsa->nr, nsa->nr_len);
  if (rc == 0) {
    rc = ike_dh_new(ch.suite.dh, &dh);
  }
  if (rc == 0) {
    rc = ike_dh_shared(dh, ke.data, ke.len, g_ir, sizeof g_ir, &g_len);
  }
  if (rc == 0) {
    rc = ike_dh_public(dh, pub, sizeof pub, &pub_len);
  }
  if (rc == 0) {
    rc = ike_keys_derive_rekey(&nsa->suite, sa->suite.prf, sa->keys.sk_d, sa->keys.d_len,
                               nsa->ni, nsa->ni_len, nsa->nr, nsa->nr_len, g_ir, g_len,
                               nsa->spi_i, nsa->spi_r, &nsa->keys);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&nsa->sk_in, &nsa->suite, nsa->keys.sk_ei, nsa->keys.sk_ai);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&nsa->sk_out, &nsa->suite, nsa->keys.sk_er, nsa->keys.sk_ar);
  }
  ike_dh_free(dh);
  ike_wipe(g_ir, sizeof g_ir);
  if (rc == 0) {
    ike_keylog_write(nsa);
  }
  if (rc != 0) {
    ike_sa_destroy(e, nsa);
    respond_error(e, sa, rx, IKE_N_NO_PROPOSAL_CHOSEN, 0);
    return;
  }
  ike_tx_t tx;
  uint8_t spi_be[8];
  for (int i = 0; i < 8; i++) {
    spi_be[i] = (uint8_t)(nsa->spi_r >> (56 - 8 * i));
  }
  ike_tx_init(&tx);
  ike_proposal_put(&tx.mb, &ch, IKE_PROTO_IKE, spi_be, 8);
  ike_put_nonce(&tx.mb, nsa->nr, nsa->nr_len);
  ike_put_ke(&tx.mb, ch.suite.dh, pub, pub_len);
  ike_msg_respond(e, sa, rx, &tx);
  /* Carry everything over: path, NAT, MOBIKE, identity, address, CHILD SAs. */
  nsa->tmpl = sa->tmpl;
  nsa->path = sa->path;
  nsa->natt = sa->natt;
  nsa->nat_peer = sa->nat_peer;
  nsa->nat_local = sa->nat_local;
  nsa->mobike = sa->mobike;
  nsa->no_nats_allowed = sa->no_nats_allowed;
  nsa->peer_id_type = sa->peer_id_type;
  memcpy(nsa->peer_id, sa->peer_id, sizeof nsa->peer_id);
  memcpy(nsa->peer_id_digest, sa->peer_id_digest, sizeof nsa->peer_id_digest);
  nsa->has_id_digest = sa->has_id_digest; /* indexed when it is established */
  nsa->vip4 = sa->vip4;
  sa->vip4 = 0;
  memcpy(nsa->vip6, sa->vip6, 16);
  nsa->has_vip6 = sa->has_vip6;
  sa->has_vip6 = false;
  memcpy(nsa->child, sa->child, sizeof nsa->child);
  memset(sa->child, 0, sizeof sa->child);
  nsa->dpd_next_ms = sa->dpd_next_ms;
  nsa->expire_ms = t->ike_lifetime_s ? e->now_ms + (uint64_t)t->ike_lifetime_s * 1000u : 0;
  ike_sa_set_state(e, nsa, IKE_SA_ESTABLISHED);
  ike_sa_set_state(e, sa, IKE_SA_REKEYED);
  IKE_STAT(e, ike_sa_rekeyed);
  /* The old SA waits for the peer's Delete; it expires anyway. */
  sa->expire_ms = e->now_ms + 60000;
  ike_timer_schedule(e, nsa);
  ike_timer_schedule(e, sa);
  ike_task_mobike_rekeyed(e, sa, nsa); /* a pending COOKIE2 check holds ESP back */
  /* Name the new owner to ipsecmgr: an identical SaAdd keeps the installed
   * SAs and only updates their IKE SPI, which is what ipsecmgr checks when a
   * later CHILD rekey claims the same virtual IP. */
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    if (nsa->child[i].used) {
      ike_child_program(e, nsa, &nsa->child[i]);
    }
  }
  IKE_LOG_INFO("SPI %016llx: rekeyed to SPI %016llx", (unsigned long long)sa->spi_r,
               (unsigned long long)nsa->spi_r);
}

void ike_task_child_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  ccs_req_t r;
  ike_sa_pld_t offer;
  ike_nonce_pld_t ni;
  ike_ke_pld_t ke;
  ccs_collect(e, &rx->chain, &r);
  if (r.sa == NULL || r.nonce == NULL || ike_pld_sa(r.sa, &offer) != 0 ||
      ike_pld_nonce(r.nonce, &ni) != 0 || offer.n == 0 ||
      (r.ke != NULL && ike_pld_ke(r.ke, &ke) != 0)) {
    respond_error(e, sa, rx, IKE_N_INVALID_SYNTAX, 0);
    return;
  }
  if (offer.p[0].protocol == IKE_PROTO_IKE) {
    rekey_ike(e, sa, rx, &r, &offer);
    return;
  }
  ike_child_t *old = NULL;
  if (r.rekey) {
    old = ike_sa_child_by_out(sa, r.rekey_spi);
    if (old == NULL) {
      respond_error(e, sa, rx, IKE_N_CHILD_SA_NOT_FOUND, 0);
      return;
    }
  }
  uint8_t nr[IKE_NONCE_LEN];
  if (ike_random(nr, sizeof nr) != 0) {
    IKE_STAT(e, fail_internal); /* never a nonce of unfilled bytes */
    respond_error(e, sa, rx, IKE_N_TEMPORARY_FAILURE, 0);
    return;
  }
  ike_tx_t tx;
  ike_tx_init(&tx);
  ike_put_nonce(&tx.mb, nr, sizeof nr);
  ike_child_t *c = NULL;
  int err = ike_child_create(e, sa, rx, &tx, ni.data, ni.len, nr, sizeof nr,
                             r.ke ? &ke : NULL, &c);
  if (err == IKE_N_INVALID_KE_PAYLOAD) {
    const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
    uint16_t g = t->n_child_tsets && t->child_tsets[0].n_dh ? t->child_tsets[0].dh[0] : 0;
    respond_error(e, sa, rx, IKE_N_INVALID_KE_PAYLOAD, g);
    return;
  }
  if (err != 0) {
    respond_error(e, sa, rx, (uint16_t)err, 0);
    return;
  }
  ike_msg_respond(e, sa, rx, &tx);
  ike_child_program(e, sa, c);
  if (old != NULL) {
    /* The old CHILD SA stays until the peer deletes it (1.3.3). */
    IKE_STAT(e, child_sa_rekeyed);
  }
}
