/*
 * task_init.c - IKE_SA_INIT responder (RFC 7296 1.2, 2.6, 2.7, 2.10, 2.23).
 *
 * Request:  HDR, SAi1, KEi, Ni, [N(NAT_DETECTION_*)], [N(COOKIE)] -->
 * Response: <-- HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*), [CERTREQ]
 * Errors:   <-- N(INVALID_KE_PAYLOAD) | N(NO_PROPOSAL_CHOSEN) | N(COOKIE)
 */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "ike_log.h"
#include "ike_proposal.h"
#include "ike_addr.h"
#include "ike_sa.h"

/* The facts of an IKE_SA_INIT request. */
typedef struct init_req {
  const ike_pld_t *sa, *ke, *nonce;
  const ike_notify_pld_t *cookie;
  ike_notify_pld_t notify[8];
  unsigned n_notify;
  bool sig_hash, frag;
  uint8_t hashes;              /* RFC 7427 hash set (IKE_CERT_HASH_BIT) */
} init_req_t;

static int collect(ike_engine_t *e, const ike_chain_t *c, init_req_t *r)
{
  memset(r, 0, sizeof *r);
  for (unsigned i = 0; i < c->n; i++) {
    const ike_pld_t *p = &c->pld[i];
    switch (p->type) {
    case IKE_PLD_SA:
      r->sa = r->sa ? r->sa : p;
      break;
    case IKE_PLD_KE:
      r->ke = r->ke ? r->ke : p;
      break;
    case IKE_PLD_NONCE:
      r->nonce = r->nonce ? r->nonce : p;
      break;
    case IKE_PLD_NOTIFY: {
      ike_notify_pld_t n;
      if (ike_pld_notify(p, &n) != 0) {
        return -IKE_E_BAD_SYNTAX;
      }
      ike_stats_notify(&e->stats, n.type, 0);
      if (n.type == IKE_N_COOKIE && r->cookie == NULL && r->n_notify < 8) {
        r->notify[r->n_notify] = n;
        r->cookie = &r->notify[r->n_notify++];
      } else if (n.type == IKE_N_SIGNATURE_HASH_ALGORITHMS) {
        r->sig_hash = true;
        for (size_t k = 0; k + 1 < n.len; k += 2) {
          unsigned h = (unsigned)n.data[k] << 8 | n.data[k + 1];
          r->hashes |= h < 8 ? IKE_CERT_HASH_BIT(h) : 0;
        }
      } else if (n.type == IKE_N_IKEV2_FRAGMENTATION_SUPPORTED) {
        r->frag = true;
      }
      break;
    }
    default:
      break;
    }
  }
  return (r->sa && r->ke && r->nonce) ? 0 : -IKE_E_BAD_SYNTAX;
}

/* COOKIE = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>) (2.6),
 * with the secret of version ver (the current or the previous one). */
static void cookie_make(const ike_engine_t *e, const ike_rx_t *rx,
                        const ike_nonce_pld_t *ni, const uint8_t secret[32],
                        uint8_t ver, uint8_t out[21])
{
  uint8_t buf[IKE_MAX_NONCE + 16 + 8 + 32], md[32];
  size_t n = 0;
  (void)e;
  memcpy(buf, ni->data, ni->len);
  n += ni->len;
  size_t alen = 0;
  const uint8_t *ip = ike_addr_bytes(&rx->path->peer, &alen);
  memcpy(buf + n, ip, alen);
  n += alen;
  memcpy(buf + n, &rx->h.spi_i, sizeof rx->h.spi_i);
  n += sizeof rx->h.spi_i;
  memcpy(buf + n, secret, 32);
  n += 32;
  SHA256(buf, n, md);
  out[0] = ver;
  memcpy(out + 1, md, 20);
  ike_wipe(buf, sizeof buf);
}

/* RFC 7296 2.6: the secret changes periodically; cookies made with the one
 * before still pass (a client may be between the two messages). */
static bool cookie_rotate(ike_engine_t *e)
{
  uint64_t age = e->now_ms - e->cookie_since_ms;
  if (e->cookie_since_ms != 0 && age < IKE_COOKIE_ROTATE_MS) {
    return true;
  }
  uint8_t next[32];
  if (ike_random(next, sizeof next) != 0) {
    return false; /* keep the current one rather than use unfilled bytes */
  }
  if (e->cookie_since_ms != 0) {
    /* After two periods without a cookie both secrets are too old: a cookie
     * is good for one to two periods, never for longer. */
    bool keep_prev = age < 2u * IKE_COOKIE_ROTATE_MS;
    memcpy(e->cookie_prev, e->cookie_secret, sizeof e->cookie_prev);
    e->cookie_has_prev = keep_prev;
    e->cookie_ver = (uint8_t)(e->cookie_ver + (keep_prev ? 1 : 2));
  }
  memcpy(e->cookie_secret, next, sizeof next);
  ike_wipe(next, sizeof next);
  e->cookie_since_ms = e->now_ms ? e->now_ms : 1;
  return true;
}

/* Under load demand a cookie (2.6); returns true if the request may proceed. */
static bool cookie_ok(ike_engine_t *e, const ike_rx_t *rx, const init_req_t *r,
                      const ike_nonce_pld_t *ni, const ike_cfg_template_t *t)
{
  if (e->n_halfopen < t->cookie_threshold) {
    return true;
  }
  if (!cookie_rotate(e)) {
    IKE_STAT(e, fail_internal);
    return false;
  }
  uint8_t want[21];
  if (r->cookie != NULL && r->cookie->len == sizeof want) {
    uint8_t ver = r->cookie->data[0];
    bool cur = ver == e->cookie_ver;
    bool prev = e->cookie_has_prev && ver == (uint8_t)(e->cookie_ver - 1);
    if (cur || prev) {
      cookie_make(e, rx, ni, cur ? e->cookie_secret : e->cookie_prev, ver, want);
      if (CRYPTO_memcmp(r->cookie->data, want, sizeof want) == 0) {
        return true;
      }
    }
    IKE_STAT(e, fail_cookie_invalid); /* answered with a fresh cookie below */
  }
  cookie_make(e, rx, ni, e->cookie_secret, e->cookie_ver, want);
  IKE_STAT(e, fail_cookie_required);
  ike_msg_init_error(e, rx, IKE_N_COOKIE, want, sizeof want);
  return false;
}

/* Compute keys and store the transient data; false on failure. */
static bool sa_keys(ike_engine_t *e, ike_sa_t *sa, const ike_ke_pld_t *ke,
                    const ike_nonce_pld_t *ni)
{
  uint8_t g_ir[IKE_MAX_DH_SECRET];
  size_t g_len = 0;
  int rc = ike_dh_new(sa->suite.dh, &sa->dh);
  if (rc == 0) {
    rc = ike_dh_shared(sa->dh, ke->data, ke->len, g_ir, sizeof g_ir, &g_len);
  }
  if (rc == 0) {
    memcpy(sa->ni, ni->data, ni->len);
    sa->ni_len = ni->len;
    sa->nr_len = IKE_NONCE_LEN;
    rc = ike_random(sa->nr, sa->nr_len);
  }
  if (rc == 0) {
    rc = ike_keys_derive(&sa->suite, sa->ni, sa->ni_len, sa->nr, sa->nr_len, g_ir,
                         g_len, sa->spi_i, sa->spi_r, &sa->keys);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&sa->sk_in, &sa->suite, sa->keys.sk_ei, sa->keys.sk_ai);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&sa->sk_out, &sa->suite, sa->keys.sk_er, sa->keys.sk_ar);
  }
  ike_wipe(g_ir, sizeof g_ir); /* keys are logged (debug builds) after IKE_AUTH */
  if (rc != 0) {
    IKE_LOG_INFO("SPI %016llx: IKE_SA_INIT key exchange failed: %s",
                 (unsigned long long)sa->spi_r, ike_strerror(rc));
    (void)e;
    return false;
  }
  return true;
}

static void build_response(ike_engine_t *e, ike_sa_t *sa, const ike_rx_t *rx,
                           const ike_choice_t *ch, const init_req_t *r)
{
  ike_hdr_t h = {.spi_i = sa->spi_i, .spi_r = sa->spi_r,
                 .version = IKE_MAJOR_VERSION << 4,
                 .exchange = IKE_EXCH_IKE_SA_INIT, .flags = IKE_FLAG_RESPONSE};
  ike_mb_t mb;
  uint8_t pub[IKE_MAX_DH_PUB];
  size_t pub_len = 0;
  ike_mb_init(&mb, sa->ho->init_rsp, sizeof sa->ho->init_rsp, &h);
  ike_proposal_put(&mb, ch, IKE_PROTO_IKE, NULL, 0);
  ike_dh_public(sa->dh, pub, sizeof pub, &pub_len);
  ike_put_ke(&mb, sa->suite.dh, pub, pub_len);
  ike_put_nonce(&mb, sa->nr, sa->nr_len);
  ike_natd_put(&mb, sa->spi_i, sa->spi_r, rx->path);
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  uint8_t certreq[20 * IKE_CERT_MAX_CAS];
  size_t creq_len = 0;
  if (t->auth_remote == IKE_CFG_AUTH_CERT &&
      ike_cert_certreq(e->certs[sa->tmpl], certreq, sizeof certreq, &creq_len) == 0 &&
      creq_len > 0) {
    /* CERTREQ: the CAs we trust (3.7); clients may send CERT only if asked. */
    ike_put_cert(&mb, IKE_PLD_CERTREQ, IKE_CERT_X509_SIGNATURE, certreq, creq_len);
  }
  if (r->sig_hash && (t->auth_local == IKE_CFG_AUTH_CERT ||
                      t->auth_remote == IKE_CFG_AUTH_CERT)) {
    static const uint8_t algs[] = {0, IKE_HASH_SHA2_256, 0, IKE_HASH_SHA2_384,
                                   0, IKE_HASH_SHA2_512};
    ike_put_notify(&mb, 0, NULL, 0, IKE_N_SIGNATURE_HASH_ALGORITHMS, algs,
                   sizeof algs);
  }
  int n = ike_mb_finish(&mb, NULL);
  if (n < 0) {
    sa->ho->init_rsp_len = 0;
    return;
  }
  sa->ho->init_rsp_len = (size_t)n;
}

void ike_task_init_r(ike_engine_t *e, ike_rx_t *rx)
{
  init_req_t r;
  ike_sa_pld_t offer;
  ike_ke_pld_t ke;
  ike_nonce_pld_t ni;
  ike_choice_t ch;
  const ike_cfg_template_t *t = &e->cfg->templates[0];

  if (rx->h.spi_r != 0 || rx->h.msg_id != 0 || !(rx->h.flags & IKE_FLAG_INITIATOR)) {
    IKE_STAT(e, fail_parse);
    return;
  }
  /* A retransmitted request gets the same response (2.1). */
  ike_sa_t *old = ike_sa_find_init(e, rx->h.spi_i, &rx->path->peer);
  if (old != NULL && old->ho != NULL && old->ho->init_rsp_len > 0) {
    /* Only an exact copy of the request is a retransmission; anything else
     * with its SPIi from its address is dropped (a new SA would collide). */
    if (rx->raw_len != old->ho->init_req_len ||
        memcmp(rx->raw, old->ho->init_req, rx->raw_len) != 0) {
      IKE_STAT(e, retrans_req_mismatch);
      return;
    }
    if (!ike_resend_allowed(e, old)) {
      IKE_STAT(e, retrans_rsp_ratelimited);
      return;
    }
    IKE_STAT(e, retrans_rsp_sent);
    e->ops.send(e->ctx, rx->path, rx->natt, old->ho->init_rsp,
                old->ho->init_rsp_len);
    return;
  }
  if (old != NULL) {
    IKE_STAT(e, retrans_req_mismatch); /* its response is being built or failed */
    return;
  }
  if (collect(e, &rx->chain, &r) != 0 || ike_pld_sa(r.sa, &offer) != 0 ||
      ike_pld_ke(r.ke, &ke) != 0 || ike_pld_nonce(r.nonce, &ni) != 0) {
    /* Unauthenticated garbage: drop, never answer (2.21.1). */
    IKE_STAT(e, fail_parse);
    return;
  }
  if (!cookie_ok(e, rx, &r, &ni, t)) {
    return;
  }
  /* Even with valid cookies, half-open state is bounded: beyond ten times the
   * cookie threshold (at least 10000) new requests are dropped. */
  size_t hard = t->cookie_threshold ? (size_t)t->cookie_threshold * 10u : 10000u;
  if (e->n_halfopen >= (hard < 10000u ? 10000u : hard)) {
    IKE_STAT(e, fail_half_open_limit);
    return;
  }
  /* One source may hold only so many half-open SAs (a peer that returns
   * cookies can still fill the table from its own address). */
  if (t->half_open_per_peer != 0 &&
      ike_srccount_get(&e->halfopen_src, &rx->path->peer) >= t->half_open_per_peer) {
    IKE_STAT(e, fail_half_open_peer);
    return;
  }
  if (ike_proposal_select(t->ike_tsets, t->n_ike_tsets, &offer, IKE_PROTO_IKE,
                          ke.group, true, &ch) != 0) {
    IKE_STAT(e, fail_no_proposal);
    ike_proposal_log_refused("IKE_SA_INIT", 0, t->ike_tsets, t->n_ike_tsets, &offer,
                             IKE_PROTO_IKE, e->now_ms);
    ike_msg_init_error(e, rx, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
    return;
  }
  if (ch.want_dh != 0 || ke.len != ike_dh_pub_len(ke.group)) {
    uint8_t g[2] = {(uint8_t)(ch.suite.dh >> 8), (uint8_t)ch.suite.dh};
    IKE_STAT(e, fail_invalid_ke);
    ike_msg_init_error(e, rx, IKE_N_INVALID_KE_PAYLOAD, g, sizeof g);
    return;
  }
  ike_sa_t *sa = ike_sa_new(e, rx->h.spi_i);
  if (sa == NULL) {
    IKE_STAT(e, fail_internal);
    return;
  }
  sa->suite = ch.suite;
  sa->tmpl = 0;
  sa->peer_sig_hashes = r.hashes;
  sa->path = *rx->path;
  sa->natt = rx->natt;
  sa->peer_next_id = 1;
  sa->ho = calloc(1, sizeof *sa->ho);
  ike_sa_set_state(e, sa, IKE_SA_HALF_OPEN);
  if (sa->ho == NULL || rx->raw_len > sizeof sa->ho->init_req ||
      !sa_keys(e, sa, &ke, &ni)) {
    IKE_STAT(e, fail_internal);
    ike_sa_destroy(e, sa);
    return;
  }
  memcpy(sa->ho->init_req, rx->raw, rx->raw_len);
  sa->ho->init_req_len = rx->raw_len;
  ike_natd_check(&rx->chain, sa->spi_i, 0, rx->path, &sa->nat_peer, &sa->nat_local);
  build_response(e, sa, rx, &ch, &r);
  if (sa->ho->init_rsp_len == 0) {
    IKE_STAT(e, fail_internal);
    ike_sa_destroy(e, sa);
    return;
  }
  /* The private key is no longer needed once g^ir is known. */
  ike_dh_free(sa->dh);
  sa->dh = NULL;
  /* Half-open SAs expire if IKE_AUTH never comes. */
  sa->expire_ms = e->now_ms + 30000;
  ike_timer_schedule(e, sa);
  ike_stats_exchange(&e->stats, IKE_EXCH_IKE_SA_INIT, 1, 1);
  e->ops.send(e->ctx, rx->path, rx->natt, sa->ho->init_rsp, sa->ho->init_rsp_len);
}
