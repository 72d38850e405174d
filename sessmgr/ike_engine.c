/*
 * ike_engine.c - entry points of the engine: datagram dispatch (RFC 7296 2.1,
 * 2.2: message IDs, response cache, retransmissions) and timers.
 */
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_log.h"
#include "ike_sa.h"

int ike_engine_new(uint16_t slot, const ike_config_t *cfg,
                   const ike_engine_ops_t *ops, void *ctx, ike_engine_t **out)
{
  if (cfg->n_templates == 0) {
    return -IKE_E_BAD_SYNTAX;
  }
  ike_engine_t *e = calloc(1, sizeof *e);
  if (e == NULL) {
    return -IKE_E_NOMEM;
  }
  e->rx = malloc(sizeof *e->rx);
  if (e->rx == NULL) {
    free(e);
    return -IKE_E_NOMEM;
  }
  e->slot = slot;
  e->cfg = cfg;
  e->ops = *ops;
  e->ctx = ctx;
  e->n_workers = 1;
  ike_index_init(&e->by_init, offsetof(ike_sa_t, ho_link));
  ike_index_init(&e->by_id, offsetof(ike_sa_t, id_link));
  if (ike_random(e->hash_key, sizeof e->hash_key) != 0) {
    free(e->rx);
    free(e);
    return -IKE_E_CRYPTO;
  }
  e->cookie_ver = 1; /* the secret itself is made at the first cookie (task_init.c) */
  *out = e;
  return 0;
}

void ike_engine_set_workers(ike_engine_t *e, uint16_t n)
{
  e->n_workers = n ? n : 1;
}

void ike_engine_set_certs(ike_engine_t *e,
                          ike_cert_store_t *const stores[IKE_CFG_MAX_TEMPLATES])
{
  for (unsigned i = 0; i < IKE_CFG_MAX_TEMPLATES; i++) {
    e->certs[i] = stores ? stores[i] : NULL;
  }
}

void ike_engine_free(ike_engine_t *e)
{
  if (e == NULL) {
    return;
  }
  e->freeing = true; /* the checkpoint keeps the SAs: a restart restores them */
  for (size_t j = 0; j < e->cap; j++) {
    while (e->tab[j] != NULL) {
      ike_sa_destroy(e, e->tab[j]); /* backward shift refills slot j */
    }
  }
  free(e->tab);
  ike_index_free(&e->by_init);
  ike_index_free(&e->by_id);
  ike_srccount_free(&e->halfopen_src);
  ike_u32set_free(&e->child_spis);
  free(e->dirty);
  free(e->gone);
  if (e->ckpt_buf != NULL) {
    ike_wipe(e->ckpt_buf, e->ckpt_cap);
    free(e->ckpt_buf);
  }
  ike_timer_free(e);
  ike_pool_free_all(e);
  ike_wipe(e->cookie_secret, sizeof e->cookie_secret);
  ike_wipe(e->cookie_prev, sizeof e->cookie_prev);
  free(e->rx);
  free(e);
}

/* SAs per template name of the running config. */
static size_t sas_of_template(const ike_engine_t *e, unsigned tmpl)
{
  size_t n = 0;
  for (size_t j = 0; j < e->cap; j++) {
    n += e->tab[j] != NULL && e->tab[j]->tmpl == tmpl;
  }
  return n;
}

int ike_engine_config_check(ike_engine_t *e, const ike_config_t *cfg, char *err,
                            size_t err_len)
{
  if (cfg->n_templates == 0) {
    snprintf(err, err_len, "the configuration must keep at least one crypto template");
    return -1;
  }
  for (unsigned i = 0; i < e->cfg->n_templates; i++) {
    const char *name = e->cfg->templates[i].name;
    size_t n = 0;
    if (ike_config_find_template(cfg, name) == NULL && (n = sas_of_template(e, i)) > 0) {
      snprintf(err, err_len, "crypto template %s: %zu IKE SAs use it, it cannot be removed "
               "(clear those sessions first)", name, n);
      return -1;
    }
  }
  return ike_pool_reconfigure(e, cfg, false, err, err_len);
}

void ike_engine_set_config(ike_engine_t *e, const ike_config_t *cfg)
{
  /* SAs name their template by its name: find each one's place in the new
   * config (templates may have been added or removed before it). */
  uint8_t map[IKE_CFG_MAX_TEMPLATES];
  for (unsigned i = 0; i < IKE_CFG_MAX_TEMPLATES; i++) {
    int k = i < e->cfg->n_templates
                ? ike_config_template_index(cfg, e->cfg->templates[i].name) : -1;
    map[i] = (uint8_t)(k < 0 ? 0 : k); /* gone: refused by the check while in use */
  }
  for (size_t j = 0; j < e->cap; j++) {
    if (e->tab[j] != NULL && e->tab[j]->tmpl < IKE_CFG_MAX_TEMPLATES) {
      e->tab[j]->tmpl = map[e->tab[j]->tmpl];
    }
  }
  char err[256];
  if (ike_pool_reconfigure(e, cfg, true, err, sizeof err) != 0) {
    IKE_LOG_ERR("configure: %s", err); /* only if memory ran out: maps unchanged */
  }
  e->cfg = cfg;
}

const ike_cfg_template_t *ike_sa_tmpl(const ike_engine_t *e, const ike_sa_t *sa)
{
  unsigned i = sa->tmpl < e->cfg->n_templates ? sa->tmpl : 0;
  return &e->cfg->templates[i];
}

void ike_engine_stat_add(ike_engine_t *e, ike_stat_id_t id, uint64_t n)
{
  ike_stats_set(&e->stats, id, ike_stats_get(&e->stats, id) + n);
}

void ike_engine_count_ipsec_failure(ike_engine_t *e)
{
  IKE_STAT(e, fail_ipsecmgr);
}

const ike_stats_t *ike_engine_stats(const ike_engine_t *e)
{
  return &e->stats;
}

size_t ike_engine_sa_count(const ike_engine_t *e)
{
  return e->n;
}

/* Decrypt the SK payload (last of the outer chain) and parse the inner chain
 * into rx->chain. Nothing about the SA changes here. */
static int decrypt(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  if (rx->chain.n == 0) {
    return -IKE_E_BAD_SYNTAX;
  }
  const ike_pld_t *sk = &rx->chain.pld[rx->chain.n - 1];
  if (sk->type != IKE_PLD_SK) {
    return -IKE_E_BAD_SYNTAX; /* SKF: we never announce fragmentation */
  }
  size_t plain_len = 0;
  uint8_t first = sk->next;
  int rc = ike_sk_open(&sa->sk_in, rx->raw, rx->h.length, sk->off,
                       sk->off + IKE_PLD_HDR_LEN, rx->plain, sizeof rx->plain,
                       &plain_len);
  if (rc != 0) {
    IKE_STAT(e, fail_integrity);
    return rc;
  }
  uint8_t bad = 0;
  rc = ike_chain_parse(first, rx->plain, plain_len, 0, &rx->chain, &bad);
  if (rc != 0) {
    IKE_STAT(e, fail_parse);
  }
  return rc;
}

/* Follow a NATed peer whose NAT mapping changed (RFC 7296 2.23), for SAs
 * without MOBIKE; MOBIKE SAs move only on UPDATE_SA_ADDRESSES. */
static void follow_nat(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx)
{
  if (sa->mobike || !sa->nat_peer || sa->nat_local ||
      ike_addr_equal(&sa->path.peer, &rx->path->peer)) {
    return;
  }
  sa->path = *rx->path;
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    if (sa->child[i].used) {
      e->ops.child_update(e->ctx, sa->child[i].spi_in, sa->child[i].spi_out,
                          &sa->path, sa->natt);
    }
  }
}

/* A request older than the one whose response we cache (RFC 7296 2.2: it
 * cannot be answered). If it is an authentic UPDATE_SA_ADDRESSES of a MOBIKE
 * SA, count it as RFC 4555 3.5 sees it: older than the newest update applied
 * (stale) or a late copy of that update; nothing changes either way. */
static void old_request(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  if (!sa->mobike || decrypt(e, sa, rx) != 0) {
    IKE_STAT(e, fail_msgid);
    return;
  }
  for (unsigned i = 0; i < rx->chain.n; i++) {
    ike_notify_pld_t n;
    if (rx->chain.pld[i].type == IKE_PLD_NOTIFY &&
        ike_pld_notify(&rx->chain.pld[i], &n) == 0 &&
        n.type == IKE_N_UPDATE_SA_ADDRESSES) {
      if (rx->h.msg_id < sa->mobike_last_id) {
        IKE_STAT(e, mobike_update_stale);
        return;
      }
      if (rx->h.msg_id == sa->mobike_last_id) {
        IKE_STAT(e, mobike_update_retransmit);
        return;
      }
      break;
    }
  }
  IKE_STAT(e, fail_msgid);
}

bool ike_resend_allowed(ike_engine_t *e, ike_sa_t *sa)
{
  uint64_t since = e->now_ms - sa->resend_refill_ms;
  if (since >= IKE_RESEND_REFILL_MS) {
    uint64_t add = since / IKE_RESEND_REFILL_MS;
    uint64_t tok = sa->resend_tokens + add;
    sa->resend_tokens = (uint8_t)(tok > IKE_RESEND_BURST ? IKE_RESEND_BURST : tok);
    sa->resend_refill_ms = e->now_ms;
  }
  if (sa->resend_tokens == 0) {
    return false;
  }
  sa->resend_tokens--;
  return true;
}

/* The request answered by the cached response, again? Only an exact copy is
 * a retransmission (RFC 7296 2.1); a header match alone is not. Returns
 * true if the datagram was handled (resent or dropped). */
static bool retransmitted_request(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx)
{
  if (sa->rsp == NULL || rx->h.msg_id != sa->rsp_id ||
      sa->peer_next_id != rx->h.msg_id + 1) {
    return false;
  }
  uint8_t d[IKE_REQ_DIGEST_LEN];
  if (!sa->has_rsp_req_digest || ike_msg_digest(rx->raw, rx->raw_len, d) != 0 ||
      CRYPTO_memcmp(d, sa->rsp_req_digest, sizeof d) != 0) {
    IKE_STAT(e, retrans_req_mismatch); /* same header, other bytes: not answered */
    return true;
  }
  if (!ike_resend_allowed(e, sa)) {
    IKE_STAT(e, retrans_rsp_ratelimited);
    return true;
  }
  IKE_STAT(e, retrans_rsp_sent);
  if (sa->rsp_update) {
    IKE_STAT(e, mobike_update_retransmit); /* not applied again */
  }
  /* The same bytes again, where the request came from (2.1). */
  e->ops.send(e->ctx, rx->path, rx->natt, sa->rsp, sa->rsp_len);
  return true;
}

static void handle_request(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  if (retransmitted_request(e, sa, rx)) {
    return;
  }
  if (rx->h.msg_id < sa->peer_next_id) {
    old_request(e, sa, rx);
    return;
  }
  if (rx->h.msg_id != sa->peer_next_id) {
    IKE_STAT(e, fail_msgid);
    return;
  }
  if (decrypt(e, sa, rx) != 0) {
    return;
  }
  ike_stats_exchange(&e->stats, rx->h.exchange, 0, 0);
  sa->last_rx_ms = e->now_ms;
  ike_sa_mark_dirty(e, sa); /* authentic: whatever it does is checkpointed */
  switch (rx->h.exchange) {
  case IKE_EXCH_IKE_AUTH:
    if (sa->state != IKE_SA_HALF_OPEN || sa->ho == NULL) {
      IKE_STAT(e, fail_state);
      return;
    }
    ike_task_auth_r(e, sa, rx);
    return;
  case IKE_EXCH_CREATE_CHILD_SA:
    if (sa->state != IKE_SA_ESTABLISHED) {
      IKE_STAT(e, fail_state);
      return;
    }
    follow_nat(e, sa, rx);
    ike_task_child_r(e, sa, rx);
    return;
  case IKE_EXCH_INFORMATIONAL:
    if (sa->state == IKE_SA_HALF_OPEN) {
      IKE_STAT(e, fail_state); /* INFORMATIONAL before IKE_AUTH */
      return;
    }
    follow_nat(e, sa, rx);
    ike_task_info_r(e, sa, rx);
    return;
  default:
    IKE_STAT(e, fail_state);
    return;
  }
}

static void handle_response(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  if (sa->req == NULL || rx->h.msg_id != sa->req_id) {
    IKE_STAT(e, fail_msgid);
    return;
  }
  if (decrypt(e, sa, rx) != 0) {
    return;
  }
  ike_stats_exchange(&e->stats, rx->h.exchange, 1, 0);
  sa->last_rx_ms = e->now_ms;
  ike_sa_mark_dirty(e, sa);
  ike_task_info_i_done(e, sa, rx);
}

void ike_engine_recv(ike_engine_t *e, const ike_path_t *path, bool natt,
                     const uint8_t *pkt, size_t len, uint64_t now_ms)
{
  ike_rx_t *rx = e->rx;
  uint8_t bad = 0;
  e->now_ms = now_ms;
  rx->path = path;
  rx->natt = natt;
  rx->raw = pkt;
  int rc = ike_msg_parse(pkt, len, &rx->h, &rx->chain, &bad);
  if (rc != 0) {
    if (rc == -IKE_E_UNSUPPORTED_CRITICAL) {
      IKE_STAT(e, fail_unsupported_critical);
    } else {
      IKE_STAT(e, fail_parse);
    }
    return;
  }
  rx->raw_len = rx->h.length;
  if (rx->h.exchange == IKE_EXCH_IKE_SA_INIT && !(rx->h.flags & IKE_FLAG_RESPONSE)) {
    ike_stats_exchange(&e->stats, IKE_EXCH_IKE_SA_INIT, 0, 0);
    ike_task_init_r(e, rx);
    return;
  }
  ike_sa_t *sa = ike_sa_find(e, rx->h.spi_r);
  if (sa == NULL || sa->spi_i != rx->h.spi_i) {
    IKE_STAT(e, fail_unknown_spi);
    return;
  }
  if (rx->h.flags & IKE_FLAG_RESPONSE) {
    handle_response(e, sa, rx);
  } else if (rx->h.flags & IKE_FLAG_INITIATOR) {
    handle_request(e, sa, rx);
  } else {
    IKE_STAT(e, fail_parse); /* a request from the responder side: not ours */
  }
}

/* Timers of one SA; returns false if the SA was destroyed. */
static bool sa_timers(ike_engine_t *e, ike_sa_t *sa)
{
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  ike_sa_mark_dirty(e, sa); /* a deadline came: retransmit, DPD or expiry state moves */
  if (sa->expire_ms != 0 && e->now_ms >= sa->expire_ms) {
    if (sa->state == IKE_SA_ESTABLISHED) {
      /* Lifetime over: the peer rekeys before this. */
      if (!ike_task_delete_i(e, sa)) {
        return false;
      }
      sa->expire_ms = 0;
    } else {
      ike_sa_destroy(e, sa);
      return false;
    }
  }
  if (!ike_msg_retransmit(e, sa)) {
    IKE_STAT(e, fail_dead_peer);
    if (sa->req_kind == IKE_REQ_COOKIE2) {
      IKE_STAT(e, mobike_rrc_failed);
    }
    ike_sa_destroy(e, sa);
    return false;
  }
  if (sa->state == IKE_SA_ESTABLISHED && sa->dpd_next_ms != 0 &&
      e->now_ms >= sa->dpd_next_ms) {
    uint64_t iv = (uint64_t)t->dpd_interval_s * 1000u;
    if (iv == 0) {
      sa->dpd_next_ms = 0;
    } else if (e->now_ms - sa->last_rx_ms >= iv && sa->req == NULL) {
      ike_task_dpd_i(e, sa);
      sa->dpd_next_ms = e->now_ms + iv;
    } else {
      sa->dpd_next_ms = sa->last_rx_ms + iv > e->now_ms ? sa->last_rx_ms + iv
                                                        : e->now_ms + iv;
    }
  }
  ike_timer_schedule(e, sa);
  return true;
}

int64_t ike_engine_tick(ike_engine_t *e, uint64_t now_ms)
{
  e->now_ms = now_ms;
  ike_sa_t *sa;
  /* Only SAs whose deadline has come are touched (ike_timer.c), each at most
   * once per tick: an SA whose deadline did not move on cannot wedge the loop
   * (it comes again at the next tick). */
  size_t budget = e->heap_n;
  while (budget-- > 0 && (sa = ike_timer_pop_due(e, now_ms)) != NULL) {
    sa_timers(e, sa);
  }
  uint64_t next = ike_timer_next(e);
  return next == 0 ? -1 : (int64_t)(next > now_ms ? next - now_ms : 0);
}

/* The IKE SA holding the CHILD SA with inbound SPI spi_in (hint first). */
static ike_sa_t *child_owner(ike_engine_t *e, uint64_t ike_spi, uint32_t spi_in,
                             ike_child_t **out)
{
  ike_sa_t *hint = ike_sa_find(e, ike_spi);
  ike_child_t *hc = hint ? ike_sa_child_by_in(hint, spi_in) : NULL;
  ike_sa_t *owner = hc ? hint : NULL;
  for (size_t j = 0; owner == NULL && j < e->cap; j++) {
    ike_sa_t *sa = e->tab[j];
    hc = sa ? ike_sa_child_by_in(sa, spi_in) : NULL;
    owner = hc ? sa : NULL;
  }
  *out = hc;
  return owner;
}

void ike_engine_child_refused(ike_engine_t *e, uint64_t ike_spi, uint32_t spi_in,
                              uint64_t now_ms)
{
  e->now_ms = now_ms;
  ike_child_t *c = NULL;
  ike_sa_t *owner = child_owner(e, ike_spi, spi_in, &c);
  if (owner == NULL) {
    return; /* already gone (its other half was refused first) */
  }
  IKE_LOG_INFO("SPI %016llx: CHILD SA %08x refused by ipsecmgr: deleted towards the peer",
               (unsigned long long)owner->spi_r, spi_in);
  IKE_STAT(e, child_sa_refused);
  ike_task_delete_child_i(e, owner, c);
}

void ike_engine_child_expire(ike_engine_t *e, uint64_t ike_spi, uint32_t spi_in,
                             bool hard, uint64_t now_ms)
{
  e->now_ms = now_ms;
  ike_child_t *hc = NULL;
  ike_sa_t *owner = child_owner(e, ike_spi, spi_in, &hc);
  if (owner == NULL) {
    return;
  }
  /* Soft: we rekey it (unless our request window is busy: then the peer's
   * rekey or the hard limit takes over); hard: that CHILD SA goes. */
  if (hard) {
    ike_task_delete_child_i(e, owner, hc);
  } else {
    ike_task_rekey_child_i(e, owner, hc);
  }
}

static void no_child_del(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
  (void)ctx, (void)spi_in, (void)spi_out;
}

void ike_engine_clear_all_silently(ike_engine_t *e)
{
  ike_engine_ops_t ops = e->ops;
  bool freeing = e->freeing;
  e->ops.child_del = no_child_del;
  e->freeing = true;
  for (size_t j = 0; j < e->cap; j++) {
    while (e->tab[j] != NULL) {
      ike_sa_destroy(e, e->tab[j]); /* backward shift refills slot j */
    }
  }
  e->n_gone = 0;
  e->ops = ops;
  e->freeing = freeing;
}

int ike_engine_clear(ike_engine_t *e, uint64_t spi, uint64_t now_ms)
{
  int n = 0;
  e->now_ms = now_ms;
  for (size_t j = 0; j < e->cap; j++) {
    ike_sa_t *sa = e->tab[j];
    if (sa == NULL || (spi != 0 && sa->spi_r != spi && sa->spi_i != spi)) {
      continue;
    }
    if (sa->state == IKE_SA_ESTABLISHED) {
      if (!ike_task_delete_i(e, sa)) {
        j--; /* destroyed at once: another SA may have moved into slot j */
      }
      n++;
    } else if (sa->state == IKE_SA_HALF_OPEN) {
      ike_sa_destroy(e, sa);
      j--;
      n++;
    }
  }
  return n;
}

void ike_engine_foreach_sa(const ike_engine_t *e,
                           void (*fn)(void *arg, const ike_sa_info_t *info),
                           void *arg)
{
  ike_engine_foreach_sa_page(e, 0, SIZE_MAX, fn, arg);
}

size_t ike_engine_foreach_sa_page(const ike_engine_t *e, size_t from, size_t max,
                                  void (*fn)(void *arg, const ike_sa_info_t *info),
                                  void *arg)
{
  size_t j, seen = 0;
  for (j = from; j < e->cap && seen < max; j++) {
    const ike_sa_t *sa = e->tab[j];
    if (sa == NULL || sa->state == IKE_SA_HALF_OPEN) {
      continue;
    }
    ike_sa_info_t in;
    memset(&in, 0, sizeof in);
    in.spi_i = sa->spi_i;
    in.spi_r = sa->spi_r;
    in.state = ike_sa_state_name(sa->state);
    in.path = sa->path;
    in.suite = sa->suite;
    in.natt = sa->natt;
    in.nat_peer = sa->nat_peer;
    in.nat_local = sa->nat_local;
    in.mobike = sa->mobike;
    in.peer_id = sa->peer_id;
    in.tmpl = ike_sa_tmpl(e, sa)->name;
    in.local_id = ike_sa_tmpl(e, sa)->local_id.value;
    in.mobike_updates = sa->mobike_updates;
    in.vip4 = sa->vip4;
    memcpy(in.vip6, sa->vip6, 16);
    in.has_vip6 = sa->has_vip6;
    in.age_s = (e->now_ms - sa->created_ms) / 1000u;
    in.lifetime_s = ike_sa_tmpl(e, sa)->ike_lifetime_s;
    for (int i = 0; i < IKE_MAX_CHILD && in.n_child < 4; i++) {
      const ike_child_t *c = &sa->child[i];
      if (c->used) {
        in.child[in.n_child].spi_in = c->spi_in;
        in.child[in.n_child].spi_out = c->spi_out;
        in.child[in.n_child].suite = c->suite;
        in.child[in.n_child].age_s = (e->now_ms - c->created_ms) / 1000u;
        in.child[in.n_child].lifetime_s = ike_sa_tmpl(e, sa)->child_lifetime_s;
        in.child[in.n_child].encap = sa->natt;
        in.child[in.n_child].ts_local = c->ts_local;
        in.child[in.n_child].ts_remote = c->ts_remote;
        in.n_child++;
      }
    }
    fn(arg, &in);
    seen++;
  }
  return j < e->cap ? j : 0;
}
