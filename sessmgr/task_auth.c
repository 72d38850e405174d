/*
 * task_auth.c - IKE_AUTH responder (RFC 7296 1.2, 2.15, 2.19; RFC 4555 4.1).
 *
 * Request:  HDR, SK {IDi, [CERT], [CERTREQ], [IDr], AUTH, [CP(CFG_REQUEST)],
 *                    SAi2, TSi, TSr, [N(MOBIKE_SUPPORTED)], ...} -->
 * Response: <-- HDR, SK {IDr, [CERT], AUTH, [CP(CFG_REPLY)], SAr2, TSi, TSr,
 *                    [N(MOBIKE_SUPPORTED)]}
 * Failure:  <-- HDR, SK {N(AUTHENTICATION_FAILED)} and the SA is deleted.
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "ike_log.h"
#include "ike_addr.h"
#include "ike_sa.h"

typedef struct auth_req {
  const ike_pld_t *idi, *auth, *cp, *eap;
  bool mobike, initial_contact;
} auth_req_t;

/* Record the facts of the request and count its notifies. */
static void collect(ike_engine_t *e, const ike_chain_t *c, auth_req_t *r)
{
  memset(r, 0, sizeof *r);
  for (unsigned i = 0; i < c->n; i++) {
    const ike_pld_t *p = &c->pld[i];
    ike_notify_pld_t n;
    switch (p->type) {
    case IKE_PLD_IDI:
      r->idi = r->idi ? r->idi : p;
      break;
    case IKE_PLD_AUTH:
      r->auth = r->auth ? r->auth : p;
      break;
    case IKE_PLD_CP:
      r->cp = r->cp ? r->cp : p;
      break;
    case IKE_PLD_EAP:
      r->eap = r->eap ? r->eap : p;
      break;
    case IKE_PLD_NOTIFY:
      if (ike_pld_notify(p, &n) == 0) {
        ike_stats_notify(&e->stats, n.type, 0);
        r->mobike |= n.type == IKE_N_MOBIKE_SUPPORTED;
        r->initial_contact |= n.type == IKE_N_INITIAL_CONTACT;
        if (n.type == IKE_N_ADDITIONAL_IP4_ADDRESS ||
            n.type == IKE_N_ADDITIONAL_IP6_ADDRESS ||
            n.type == IKE_N_NO_ADDITIONAL_ADDRESSES) {
          IKE_STAT(e, mobike_additional_ignored); /* never stored (the seed) */
        }
      }
      break;
    default:
      break;
    }
  }
}

/* Printable peer ID for show output. */
static void id_text(const ike_id_pld_t *id, char *out, size_t len)
{
  if (id->type == IKE_ID_IPV4_ADDR && id->len == 4) {
    inet_ntop(AF_INET, id->data, out, (socklen_t)len);
  } else if (id->type == IKE_ID_IPV6_ADDR && id->len == 16) {
    inet_ntop(AF_INET6, id->data, out, (socklen_t)len);
  } else if (id->type == IKE_ID_FQDN || id->type == IKE_ID_RFC822_ADDR) {
    size_t n = id->len < len - 1 ? id->len : len - 1;
    for (size_t i = 0; i < n; i++) {
      uint8_t ch = id->data[i];
      out[i] = (ch >= 0x20 && ch < 0x7F) ? (char)ch : '?';
    }
    out[n] = '\0';
  } else {
    snprintf(out, len, "%s(%u bytes)", ike_id_type_name(id->type), id->len);
  }
}

/* Verify the peer's PSK AUTH: prf(prf(psk, pad), RealMessage1 | Nr | MACedIDi).
 * Returns NULL, or why it failed (for the log; never key material). */
static const char *verify_psk(const ike_sa_t *sa, const ike_cfg_template_t *t,
                              const ike_id_pld_t *id, const ike_auth_pld_t *auth)
{
  const char *psk = ike_config_remote_psk(t, id->type, id->data, id->len);
  uint8_t maced[IKE_MAX_PRF_LEN], want[IKE_MAX_PRF_LEN];
  size_t plen = ike_prf_len(sa->suite.prf);
  if (psk == NULL) {
    return "no pre-shared key configured for this IDi";
  }
  if (auth->method != IKE_AUTH_SHARED_KEY_MIC) {
    return "AUTH method is not a shared key MIC (PSK template)";
  }
  if (auth->len != plen) {
    return "PSK AUTH length does not match the PRF";
  }
  if (ike_auth_maced_id(sa->suite.prf, sa->keys.sk_pi, sa->keys.p_len, id->body,
                        id->body_len, maced) != 0 ||
      ike_auth_psk(sa->suite.prf, (const uint8_t *)psk, strlen(psk),
                   sa->ho->init_req, sa->ho->init_req_len, sa->nr, sa->nr_len,
                   maced, want) != 0) {
    return "internal error computing the expected AUTH";
  }
  bool ok = CRYPTO_memcmp(want, auth->data, plen) == 0;
  ike_wipe(want, sizeof want);
  return ok ? NULL : "PSK mismatch (AUTH does not verify with the configured key)";
}

/* Our IDr: the configured identity, else our address (IPv4/IPv6 ID). */
static size_t our_id(const ike_sa_t *sa, const ike_cfg_template_t *t, uint8_t *type,
                     uint8_t *buf, size_t cap)
{
  if (t->local_id.type != 0 && t->local_id.type != IKE_ID_IPV4_ADDR &&
      t->local_id.type != IKE_ID_IPV6_ADDR) {
    size_t n = strnlen(t->local_id.value, cap);
    memcpy(buf, t->local_id.value, n);
    *type = t->local_id.type;
    return n;
  }
  if (t->local_id.type != 0 &&
      inet_pton(t->local_id.type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6,
                t->local_id.value, buf) == 1) {
    *type = t->local_id.type;
    return t->local_id.type == IKE_ID_IPV4_ADDR ? 4 : 16;
  }
  size_t alen = 0;
  const uint8_t *ip = ike_addr_bytes(&sa->path.local, &alen);
  memcpy(buf, ip, alen <= cap ? alen : cap);
  *type = alen == 4 ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
  return alen;
}

/* IDr and AUTH of our response (PSK). */
static bool put_id_auth(ike_sa_t *sa, const ike_cfg_template_t *t,
                        const ike_id_pld_t *peer, ike_tx_t *tx)
{
  uint8_t body[4 + IKE_CFG_ID_MAX], type = 0;
  size_t n = our_id(sa, t, &type, body + 4, sizeof body - 4);
  memset(body, 0, 4);
  body[0] = type;
  ike_put_id(&tx->mb, IKE_PLD_IDR, type, body + 4, n);
  const char *psk = ike_config_local_psk(t, peer->type, peer->data, peer->len);
  uint8_t maced[IKE_MAX_PRF_LEN], auth[IKE_MAX_PRF_LEN];
  if (psk == NULL ||
      ike_auth_maced_id(sa->suite.prf, sa->keys.sk_pr, sa->keys.p_len, body, n + 4,
                        maced) != 0 ||
      ike_auth_psk(sa->suite.prf, (const uint8_t *)psk, strlen(psk), sa->ho->init_rsp,
                   sa->ho->init_rsp_len, sa->ni, sa->ni_len, maced, auth) != 0) {
    return false;
  }
  ike_put_auth(&tx->mb, IKE_AUTH_SHARED_KEY_MIC, auth, ike_prf_len(sa->suite.prf));
  ike_wipe(auth, sizeof auth);
  return true;
}

/* CP(CFG_REPLY) with virtual IPv4/IPv6 addresses and DNS servers (2.19). */
static int put_cp(ike_engine_t *e, ike_sa_t *sa, const ike_cfg_template_t *t,
                  const ike_pld_t *cp_pld, ike_tx_t *tx)
{
  ike_cp_pld_t req, rep;
  if (ike_pld_cp(cp_pld, &req) != 0 || req.cfg_type != IKE_CFG_REQUEST) {
    return 0;
  }
  bool want4 = false, want6 = false;
  for (unsigned i = 0; i < req.n; i++) {
    want4 |= req.a[i].type == IKE_CFG_ATTR_INTERNAL_IP4_ADDRESS;
    want6 |= req.a[i].type == IKE_CFG_ATTR_INTERNAL_IP6_ADDRESS;
  }
  if (!want4 && !want6) {
    return 0;
  }
  uint8_t v4[4], v6[17], dns[IKE_CFG_MAX_DNS][16];
  memset(&rep, 0, sizeof rep);
  rep.cfg_type = IKE_CFG_REPLY;
  if (want4 && (sa->vip4 = ike_pool_alloc(e, t)) != 0) {
    uint32_t v = htonl(sa->vip4);
    memcpy(v4, &v, 4);
    rep.a[rep.n++] = (ike_cp_attr_t){IKE_CFG_ATTR_INTERNAL_IP4_ADDRESS, v4, 4};
  }
  /* A CHILD SA carries one selector pair (task_child.c): a client asking
   * for both families gets the IPv4 address only, so no address is handed out
   * that its tunnel would not carry. An IPv6-only client gets IPv6. */
  if (want6 && rep.n == 0 && ike_pool_alloc6(e, t, v6) == 0) {
    memcpy(sa->vip6, v6, 16);
    sa->has_vip6 = true;
    v6[16] = 128; /* prefix length (RFC 7296 3.15.1) */
    rep.a[rep.n++] = (ike_cp_attr_t){IKE_CFG_ATTR_INTERNAL_IP6_ADDRESS, v6, 17};
  }
  if (rep.n == 0) {
    /* Nothing of what was asked is left (RFC 7296 3.10.1). */
    IKE_STAT(e, fail_address_pool);
    return IKE_N_INTERNAL_ADDRESS_FAILURE;
  }
  for (unsigned i = 0; i < t->n_dns && rep.n < IKE_MAX_CP_ATTRS; i++) {
    bool four = t->dns[i].family == AF_INET;
    memcpy(dns[i], t->dns[i].addr, four ? 4 : 16);
    rep.a[rep.n++] = (ike_cp_attr_t){four ? IKE_CFG_ATTR_INTERNAL_IP4_DNS
                                          : IKE_CFG_ATTR_INTERNAL_IP6_DNS,
                                     dns[i], four ? 4 : 16};
  }
  ike_put_cp(&tx->mb, &rep);
  return 0;
}

/* INITIAL_CONTACT (RFC 7296 3.10.1): the peer lost its state, so our other
 * IKE SAs with the same identity are stale; remove them without a Delete.
 * Only this worker's SAs are seen; another worker's stale SA dies by DPD. */
static void initial_contact(ike_engine_t *e, const ike_sa_t *sa)
{
  /* Same identity = same type and raw ID bytes (by_id index, no scan). */
  ike_sa_t *o;
  while ((o = ike_sa_same_id_first(e, sa)) != NULL) {
    IKE_LOG_INFO("SPI %016llx: replaced by INITIAL_CONTACT of SPI %016llx",
                 (unsigned long long)o->spi_r, (unsigned long long)sa->spi_r);
    ike_sa_destroy(e, o);
  }
}

/* The template's identity limit (like strongSwan's uniqueids): at the limit
 * either the new SA is refused (false) or the oldest SAs of the identity are
 * deleted (with a Delete: another device may still use them). Counts this
 * worker's SAs; the bound over a gateway is the limit times its sessmgrs. */
static bool identity_limit_ok(ike_engine_t *e, const ike_sa_t *sa,
                              const ike_cfg_template_t *t)
{
  if (t->identity_limit == 0) {
    return true;
  }
  for (;;) {
    uint32_t n = 0;
    ike_sa_t *oldest = NULL;
    for (ike_sa_t *o = ike_sa_same_id_first(e, sa); o != NULL;
         o = ike_sa_same_id_next(e, sa, o)) {
      n++;
      if (oldest == NULL || o->created_ms < oldest->created_ms) {
        oldest = o;
      }
    }
    if (n < t->identity_limit) {
      return true;
    }
    if (t->identity_limit_refuse) {
      IKE_LOG_INFO("SPI %016llx: identity %s already holds %u IKE SAs (limit %u): refused",
                   (unsigned long long)sa->spi_r, sa->peer_id, (unsigned)n,
                   (unsigned)t->identity_limit);
      return false;
    }
    IKE_LOG_INFO("SPI %016llx: identity %s at its limit of %u IKE SAs: SPI %016llx replaced",
                 (unsigned long long)sa->spi_r, sa->peer_id, (unsigned)t->identity_limit,
                 (unsigned long long)oldest->spi_r);
    /* DELETING takes it out of the index; its address goes at the peer's
     * answer or the retransmission timeout. */
    (void)ike_task_delete_i(e, oldest);
  }
}

/* Say why IKE_AUTH is refused: one INFO line (the peer only learns
 * AUTHENTICATION_FAILED, RFC 7296 2.21.2; the operator must learn which check
 * failed). The IDi is printed as show output prints it; secrets never. */
static void auth_log_refusal(const ike_sa_t *sa, const ike_id_pld_t *idi, const char *why)
{
  char id[96] = "?";
  if (!IKE_LOG_ON(IKE_LOG_LVL_INFO)) {
    return;
  }
  if (idi != NULL) {
    id_text(idi, id, sizeof id);
  }
  IKE_LOG_INFO("SPI %016llx: IKE_AUTH refused (AUTHENTICATION_FAILED) for IDi %s: %s",
               (unsigned long long)sa->spi_r, id, why);
}

static void auth_failed(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx,
                        uint64_t *counter)
{
  ike_tx_t tx;
  (*counter)++;
  ike_tx_init(&tx);
  ike_put_notify(&tx.mb, 0, NULL, 0, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
  ike_stats_notify(&e->stats, IKE_N_AUTHENTICATION_FAILED, 1);
  ike_msg_respond(e, sa, rx, &tx);
  /* No SA is left behind (RFC 7296 2.21.2). */
  ike_sa_destroy(e, sa);
}

void ike_task_auth_r(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  auth_req_t r;
  ike_id_pld_t idi;
  ike_auth_pld_t auth;
  collect(e, &rx->chain, &r);
  if (r.idi == NULL || ike_pld_id(r.idi, &idi) != 0) {
    auth_log_refusal(sa, NULL, "no valid IDi payload");
    auth_failed(e, sa, rx, &e->stats.fail_parse);
    return;
  }
  if (r.auth == NULL || ike_pld_auth(r.auth, &auth) != 0) {
    /* EAP is not offered yet: a request without AUTH cannot succeed. */
    auth_log_refusal(sa, &idi, "no valid AUTH payload (EAP is not offered)");
    auth_failed(e, sa, rx, &e->stats.fail_auth);
    return;
  }
  if (!ike_config_remote_id_ok(t, idi.type, idi.data, idi.len)) {
    auth_log_refusal(sa, &idi, "ID mismatch (IDi not accepted by the template)");
    auth_failed(e, sa, rx, &e->stats.fail_id);
    return;
  }
  uint64_t *fail = &e->stats.fail_auth;
  if (t->auth_remote == IKE_CFG_AUTH_CERT) {
    /* ike_auth_cert_verify logs its own reason (chain, ID, signature). */
    if (ike_auth_cert_verify(e, sa, &rx->chain, &idi, &auth, &fail) != 0) {
      auth_failed(e, sa, rx, fail);
      return;
    }
  } else {
    const char *why = t->auth_remote != IKE_CFG_AUTH_PSK
                          ? "the template's remote authentication method is not available"
                          : verify_psk(sa, t, &idi, &auth);
    if (why != NULL) {
      auth_log_refusal(sa, &idi, why);
      auth_failed(e, sa, rx, fail);
      return;
    }
  }
  ike_sa_set_identity(e, sa, idi.type, idi.data, idi.len);
  if (sa->peer_id[0] == '\0') { /* a DN ID already printed from the certificate */
    id_text(&idi, sa->peer_id, sizeof sa->peer_id);
  }
  if (r.initial_contact) {
    initial_contact(e, sa);
  }
  if (!identity_limit_ok(e, sa, t)) {
    auth_failed(e, sa, rx, &e->stats.fail_identity_limit);
    return;
  }
  /* The client floats to port 4500 here (RFC 3948, RFC 4555 requires it with
   * MOBIKE): the SA follows the authenticated request. */
  sa->path = *rx->path;
  sa->natt = rx->natt;

  ike_tx_t tx;
  ike_tx_init(&tx);
  if (t->auth_local == IKE_CFG_AUTH_CERT ? !ike_auth_cert_put(e, sa, t, &tx)
                                         : !put_id_auth(sa, t, &idi, &tx)) {
    auth_log_refusal(sa, &idi, "our own IDr/AUTH could not be built (local key or "
                               "certificate missing)");
    auth_failed(e, sa, rx, &e->stats.fail_auth);
    return;
  }
  int cp_err = r.cp ? put_cp(e, sa, t, r.cp, &tx) : 0;
  ike_child_t *child = NULL;
  int err = cp_err;
  if (err == 0) {
    err = ike_child_create(e, sa, rx, &tx, sa->ni, sa->ni_len, sa->nr, sa->nr_len,
                           NULL, &child);
  }
  if (err != 0) {
    /* The IKE SA stands without a CHILD SA (RFC 7296 1.2). */
    ike_put_notify(&tx.mb, 0, NULL, 0, (uint16_t)err, NULL, 0);
    ike_stats_notify(&e->stats, (unsigned)err, 1);
  }
  if (r.mobike && t->mobike) {
    sa->mobike = true;
    IKE_STAT(e, mobike_notify_rcvd);
    ike_put_notify(&tx.mb, 0, NULL, 0, IKE_N_MOBIKE_SUPPORTED, NULL, 0);
    ike_stats_notify(&e->stats, IKE_N_MOBIKE_SUPPORTED, 1);
  } else if (r.mobike) {
    IKE_STAT(e, mobike_ignored);
  }
  ike_sa_set_state(e, sa, IKE_SA_ESTABLISHED);
  IKE_STAT(e, ike_sa_current);
  ike_keylog_write(sa); /* debug builds only: keys of an authenticated peer */
  ike_msg_respond(e, sa, rx, &tx);
  if (child != NULL) {
    ike_child_program(e, sa, child);
  }
  ike_wipe(sa->ho, sizeof *sa->ho);
  free(sa->ho);
  sa->ho = NULL;
  sa->expire_ms = t->ike_lifetime_s ? e->now_ms + (uint64_t)t->ike_lifetime_s * 1000u : 0;
  sa->dpd_next_ms = t->dpd_interval_s ? e->now_ms + (uint64_t)t->dpd_interval_s * 1000u : 0;
  ike_timer_schedule(e, sa);
  IKE_LOG_INFO("SPI %016llx: IKE SA established with %s, MOBIKE %s",
               (unsigned long long)sa->spi_r, sa->peer_id, sa->mobike ? "on" : "off");
}
