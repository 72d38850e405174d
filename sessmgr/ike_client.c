/*
 * ike_client.c - IKEv2 initiator: IKE_SA_INIT (with COOKIE and
 * INVALID_KE_PAYLOAD retries, RFC 7296 1.2, 2.6), IKE_AUTH with PSK (2.15),
 * CP (2.19) and MOBIKE_SUPPORTED (RFC 4555 4.1), message protection, datagram
 * dispatch and retransmission of our requests (2.1, 2.4).
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "ike_client_int.h"

const char *ike_client_state_name(unsigned s)
{
  static const char *const names[] = {"idle", "init-sent", "auth-sent",
                                      "established", "closed", "failed"};
  return s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

int ike_client_new(const ike_client_cfg_t *cfg, const ike_client_ops_t *ops,
                   void *ctx, ike_client_t **out)
{
  if (cfg->psk == NULL || cfg->id == NULL || strlen(cfg->psk) >= IKE_CFG_PSK_MAX ||
      strlen(cfg->id) >= IKE_CFG_ID_MAX || ops->send == NULL) {
    return -IKE_E_BAD_SYNTAX;
  }
  ike_client_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return -IKE_E_NOMEM;
  }
  c->cfg = *cfg;
  c->psk_len = strlen(cfg->psk);
  c->id_len = strlen(cfg->id);
  memcpy(c->psk, cfg->psk, c->psk_len);
  memcpy(c->id, cfg->id, c->id_len);
  c->cfg.psk = c->psk;
  c->cfg.id = c->id;
  if (c->cfg.natt_port == 0) {
    c->cfg.natt_port = IKE_NATT_PORT;
  }
  if (c->cfg.retrans_ms == 0) {
    c->cfg.retrans_ms = 1000;
  }
  if (c->cfg.max_retrans == 0) {
    c->cfg.max_retrans = 3;
  }
  c->ops = *ops;
  c->ctx = ctx;
  c->info.path = cfg->path;
  c->ke_group = cfg->ke_group ? cfg->ke_group : cfg->ike.dh;
  *out = c;
  return 0;
}

void ike_client_sa_wipe(cli_sa_t *sa)
{
  free(sa->rsp);
  ike_wipe(sa, sizeof *sa);
}

void ike_client_free(ike_client_t *c)
{
  if (c == NULL) {
    return;
  }
  ike_dh_free(c->dh);
  ike_client_sa_wipe(&c->sa);
  ike_client_sa_wipe(&c->old);
  free(c->init_req);
  free(c->init_rsp);
  free(c->req);
  ike_wipe(c, sizeof *c);
  free(c);
}

const ike_client_info_t *ike_client_info(const ike_client_t *c)
{
  return &c->info;
}

bool ike_client_busy(const ike_client_t *c)
{
  return c->req_kind != CLI_REQ_NONE;
}

void ike_client_set_answer(ike_client_t *c, ike_client_answer_t mode)
{
  c->answer = mode;
}

void ike_client_fail(ike_client_t *c, uint16_t err)
{
  c->info.state = IKE_CLIENT_FAILED;
  c->info.error = err;
  ike_client_req_done(c);
  ike_dh_free(c->dh);
  c->dh = NULL;
}

const uint8_t *ike_client_last_request(const ike_client_t *c, size_t *len,
                                       ike_path_t *path, bool *natt)
{
  if (c->req_len == 0) {
    return NULL;
  }
  *len = c->req_len;
  if (path != NULL) {
    *path = c->req_path;
  }
  if (natt != NULL) {
    *natt = c->req_natt;
  }
  return c->req;
}

/* --- Message protection --- */

int ike_client_seal(const cli_sa_t *sa, uint8_t exchange, uint32_t msg_id,
                    uint8_t flags, ike_mb_t *inner, uint8_t *out, size_t cap,
                    size_t *out_len)
{
  uint8_t first = IKE_PLD_NONE;
  int inner_len = ike_mb_finish(inner, &first);
  if (inner_len < 0) {
    return inner_len;
  }
  ike_hdr_t h = {.spi_i = sa->spi_i, .spi_r = sa->spi_r,
                 .version = IKE_MAJOR_VERSION << 4, .exchange = exchange,
                 .flags = flags, .msg_id = msg_id};
  ike_mb_t mb;
  ike_mb_init(&mb, out, cap, &h);
  size_t pld_off = ike_put_sk_hdr(&mb, first);
  if (ike_wr_err(&mb.w) != 0) {
    return -IKE_E_NOSPACE;
  }
  return ike_sk_seal(&sa->sk_out, out, cap, pld_off, pld_off + IKE_PLD_HDR_LEN,
                     inner->w.p, (size_t)inner_len, out_len);
}

static void send_raw(ike_client_t *c, const uint8_t *pkt, size_t len)
{
  c->info.sent++;
  c->ops.send(c->ctx, &c->info.path, c->info.natt, pkt, len);
}

/* A copy of len bytes in a heap buffer of its own (replacing *buf), or -1. */
static int keep_copy(uint8_t **buf, size_t *buf_len, const uint8_t *pkt, size_t len)
{
  uint8_t *p = malloc(len ? len : 1);
  if (p == NULL) {
    return -1;
  }
  memcpy(p, pkt, len);
  free(*buf);
  *buf = p;
  *buf_len = len;
  return 0;
}

/* The IKE_SA_INIT copies are needed only for the AUTH payloads. */
static void init_msgs_free(ike_client_t *c)
{
  free(c->init_req);
  free(c->init_rsp);
  c->init_req = c->init_rsp = NULL;
  c->init_req_len = c->init_rsp_len = 0;
}

static int req_store(ike_client_t *c, const uint8_t *pkt, size_t len, cli_req_t kind)
{
  if (len > c->req_cap) {
    uint8_t *p = realloc(c->req, len);
    if (p == NULL) {
      return -IKE_E_NOMEM;
    }
    c->req = p;
    c->req_cap = len;
  }
  memcpy(c->req, pkt, len);
  c->req_len = len;
  c->req_kind = kind;
  c->req_path = c->info.path;
  c->req_natt = c->info.natt;
  c->tries = 0;
  c->next_ms = c->now + c->cfg.retrans_ms;
  send_raw(c, c->req, len);
  return 0;
}

int ike_client_send_req(ike_client_t *c, cli_sa_t *sa, uint8_t exchange,
                        ike_mb_t *inner, cli_req_t kind)
{
  size_t len = 0;
  uint8_t out[CLI_MAX_MSG];
  if (c->req_kind != CLI_REQ_NONE) {
    return -IKE_E_BAD_SYNTAX;
  }
  int rc = ike_client_seal(sa, exchange, sa->next_id, IKE_FLAG_INITIATOR, inner, out,
                           sizeof out, &len);
  if (rc != 0) {
    return rc;
  }
  c->req_id = sa->next_id++;
  c->req_on_old = sa == &c->old;
  if (sa == &c->sa) {
    c->info.next_msg_id = sa->next_id;
  }
  return req_store(c, out, len, kind);
}

void ike_client_req_done(ike_client_t *c)
{
  c->req_kind = CLI_REQ_NONE;
  c->tries = 0;
}

int ike_client_open(const cli_sa_t *sa, const uint8_t *pkt, const ike_hdr_t *h,
                    ike_chain_t *chain, uint8_t *plain, size_t cap)
{
  if (chain->n == 0 || chain->pld[chain->n - 1].type != IKE_PLD_SK) {
    return -IKE_E_BAD_SYNTAX;
  }
  const ike_pld_t *sk = &chain->pld[chain->n - 1];
  uint8_t first = sk->next;
  size_t plain_len = 0;
  int rc = ike_sk_open(&sa->sk_in, pkt, h->length, sk->off, sk->off + IKE_PLD_HDR_LEN,
                       plain, cap, &plain_len);
  if (rc != 0) {
    return rc;
  }
  uint8_t bad = 0;
  return ike_chain_parse(first, plain, plain_len, 0, chain, &bad);
}

void ike_client_notes(const ike_chain_t *chain, uint16_t *list, unsigned *n)
{
  *n = 0;
  for (unsigned i = 0; i < chain->n && *n < IKE_CLIENT_MAX_NOTIFY; i++) {
    ike_notify_pld_t no;
    if (chain->pld[i].type == IKE_PLD_NOTIFY && ike_pld_notify(&chain->pld[i], &no) == 0) {
      list[(*n)++] = no.type;
    }
  }
}

/* --- Proposals --- */

void ike_client_put_proposal(ike_mb_t *mb, uint8_t proto, const uint8_t *spi,
                             uint8_t spi_len, const ike_suite_t *s,
                             const uint16_t *dh, unsigned n_dh)
{
  ike_sa_pld_t sa;
  memset(&sa, 0, sizeof sa);
  sa.n = 1;
  ike_proposal_t *p = &sa.p[0];
  p->num = 1;
  p->protocol = proto;
  p->spi_len = spi_len;
  if (spi_len > 0) {
    memcpy(p->spi, spi, spi_len);
  }
  unsigned n = 0;
  p->t[n++] = (ike_transform_t){.type = IKE_TRANS_ENCR, .id = s->encr,
                                .key_len = s->encr_bits};
  if (proto == IKE_PROTO_IKE) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_PRF, .id = s->prf};
  }
  if (s->integ != IKE_INTEG_NONE) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_INTEG, .id = s->integ};
  }
  for (unsigned i = 0; i < n_dh && n < IKE_MAX_TRANSFORMS - 1; i++) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_DH, .id = dh[i]};
  }
  if (proto == IKE_PROTO_ESP) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_ESN,
                                  .id = s->esn ? IKE_ESN_YES : IKE_ESN_NO};
  }
  p->n_transforms = (uint8_t)n;
  ike_put_sa(mb, &sa);
}

/* The suite of the one proposal the gateway accepted. */
int ike_client_suite_of(const ike_pld_t *sa_pld, uint8_t proto, ike_suite_t *s,
                        uint8_t *spi, uint8_t *spi_len)
{
  ike_sa_pld_t sa;
  if (sa_pld == NULL || ike_pld_sa(sa_pld, &sa) != 0 || sa.n != 1 ||
      sa.p[0].protocol != proto) {
    return -IKE_E_BAD_SYNTAX;
  }
  const ike_proposal_t *p = &sa.p[0];
  memset(s, 0, sizeof *s);
  for (unsigned i = 0; i < p->n_transforms; i++) {
    const ike_transform_t *t = &p->t[i];
    switch (t->type) {
    case IKE_TRANS_ENCR:
      s->encr = t->id;
      s->encr_bits = t->key_len;
      break;
    case IKE_TRANS_PRF:
      s->prf = t->id;
      break;
    case IKE_TRANS_INTEG:
      s->integ = t->id;
      break;
    case IKE_TRANS_DH:
      s->dh = t->id;
      break;
    case IKE_TRANS_ESN:
      s->esn = t->id == IKE_ESN_YES;
      break;
    default:
      return -IKE_E_BAD_SYNTAX;
    }
  }
  *spi_len = p->spi_len;
  memcpy(spi, p->spi, p->spi_len);
  return s->encr != 0 ? 0 : -IKE_E_BAD_SYNTAX;
}

void ike_client_put_ts_any(ike_mb_t *mb, const ike_ts_t *tsi)
{
  ike_ts_pld_t ts;
  memset(&ts, 0, sizeof ts);
  ts.n = 1;
  if (tsi != NULL && tsi->type != 0) {
    ts.ts[0] = *tsi;
  } else {
    ts.ts[0].type = IKE_TS_IPV4_ADDR_RANGE;
    ts.ts[0].end_port = 0xFFFF;
    memset(ts.ts[0].end, 0xFF, 4);
  }
  ike_put_ts(mb, IKE_PLD_TSI, &ts);
  memset(&ts.ts[0], 0, sizeof ts.ts[0]);
  ts.ts[0].type = IKE_TS_IPV4_ADDR_RANGE;
  ts.ts[0].end_port = 0xFFFF;
  memset(ts.ts[0].end, 0xFF, 4);
  ike_put_ts(mb, IKE_PLD_TSR, &ts);
}

int ike_client_child_keys(const cli_sa_t *sa, ike_client_child_t *ch,
                          const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                          size_t nr_len)
{
  uint8_t km[2 * (IKE_MAX_ENCR_KEY + IKE_MAX_INTEG_KEY)];
  ch->ek_len = (uint8_t)ike_encr_key_len(ch->suite.encr, ch->suite.encr_bits);
  ch->ak_len = (uint8_t)ike_integ_key_len(ch->suite.integ);
  size_t len = 2u * (ch->ek_len + ch->ak_len);
  int rc = ike_child_keymat(sa->suite.prf, sa->keys.sk_d, sa->keys.d_len, NULL, 0, ni,
                            ni_len, nr, nr_len, km, len);
  if (rc == 0) {
    /* Initiator -> responder first: that is our outbound direction. */
    memcpy(ch->ek_out, km, ch->ek_len);
    memcpy(ch->ak_out, km + ch->ek_len, ch->ak_len);
    memcpy(ch->ek_in, km + ch->ek_len + ch->ak_len, ch->ek_len);
    memcpy(ch->ak_in, km + 2 * ch->ek_len + ch->ak_len, ch->ak_len);
  }
  ike_wipe(km, sizeof km);
  return rc;
}

/* A CHILD SPI >= 256 (RFC 4303 2.1: 1-255 reserved); 0 if the RNG fails
 * (then no request goes out: never an unfilled SPI). */
static uint32_t new_child_spi(void)
{
  uint32_t r = 0;
  while (r < 256) {
    if (ike_random(&r, sizeof r) != 0) {
      return 0;
    }
  }
  return r;
}

/* --- IKE_SA_INIT --- */

static int send_init(ike_client_t *c)
{
  ike_hdr_t h = {.spi_i = c->sa.spi_i, .version = IKE_MAJOR_VERSION << 4,
                 .exchange = IKE_EXCH_IKE_SA_INIT, .flags = IKE_FLAG_INITIATOR};
  ike_mb_t mb;
  uint8_t pub[IKE_MAX_DH_PUB], msg[CLI_MAX_MSG];
  size_t pub_len = 0;
  uint16_t groups[2] = {c->ke_group, c->cfg.ike.dh};
  unsigned n_groups = c->ke_group == c->cfg.ike.dh ? 1 : 2;
  if (c->dh == NULL || ike_dh_group(c->dh) != c->ke_group) {
    ike_dh_free(c->dh);
    c->dh = NULL;
    int rc = ike_dh_new(c->ke_group, &c->dh);
    if (rc != 0) {
      return rc;
    }
  }
  ike_dh_public(c->dh, pub, sizeof pub, &pub_len);
  ike_mb_init(&mb, msg, sizeof msg, &h);
  if (c->cookie_len > 0) {
    /* N(COOKIE) first (RFC 7296 2.6). */
    ike_put_notify(&mb, 0, NULL, 0, IKE_N_COOKIE, c->cookie, c->cookie_len);
  }
  ike_client_put_proposal(&mb, IKE_PROTO_IKE, NULL, 0, &c->cfg.ike, groups, n_groups);
  ike_put_ke(&mb, c->ke_group, pub, pub_len);
  ike_put_nonce(&mb, c->ni, sizeof c->ni);
  ike_natd_put(&mb, c->sa.spi_i, 0, &c->info.path);
  int n = ike_mb_finish(&mb, NULL);
  if (n < 0) {
    return n;
  }
  if (keep_copy(&c->init_req, &c->init_req_len, msg, (size_t)n) != 0) {
    return -IKE_E_NOMEM;
  }
  c->req_on_old = false;
  c->req_id = 0;
  return req_store(c, msg, (size_t)n, CLI_REQ_INIT);
}

int ike_client_start(ike_client_t *c, uint64_t now_ms)
{
  c->now = now_ms;
  if (c->info.state != IKE_CLIENT_IDLE) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (ike_random(&c->sa.spi_i, sizeof c->sa.spi_i) != 0 ||
      ike_random(c->ni, sizeof c->ni) != 0) {
    return -IKE_E_CRYPTO; /* still idle: nothing sent, may start again */
  }
  c->sa.spi_i |= 1; /* never 0 */
  c->info.spi_i = c->sa.spi_i;
  c->info.state = IKE_CLIENT_INIT_SENT;
  int rc = send_init(c);
  if (rc != 0) {
    ike_client_fail(c, IKE_CLIENT_ERR_PROTO);
  }
  return rc;
}

/* COOKIE or INVALID_KE_PAYLOAD: start IKE_SA_INIT again. True if handled. */
static bool init_retry(ike_client_t *c, const ike_chain_t *ch)
{
  for (unsigned i = 0; i < ch->n; i++) {
    ike_notify_pld_t n;
    if (ch->pld[i].type != IKE_PLD_NOTIFY || ike_pld_notify(&ch->pld[i], &n) != 0) {
      continue;
    }
    if (n.type == IKE_N_COOKIE && n.len > 0 && n.len <= sizeof c->cookie) {
      memcpy(c->cookie, n.data, n.len);
      c->cookie_len = n.len;
    } else if (n.type == IKE_N_INVALID_KE_PAYLOAD && n.len == 2) {
      uint16_t g = (uint16_t)(n.data[0] << 8 | n.data[1]);
      if (g == c->ke_group || !ike_dh_supported(g)) {
        ike_client_fail(c, IKE_N_INVALID_KE_PAYLOAD);
        return true;
      }
      c->ke_group = g;
    } else {
      continue;
    }
    c->info.init_retries++;
    ike_client_req_done(c);
    if (send_init(c) != 0) {
      ike_client_fail(c, IKE_CLIENT_ERR_PROTO);
    }
    return true;
  }
  return false;
}

/* Keys from the IKE_SA_INIT response (2.14). */
static int init_keys(ike_client_t *c, const ike_pld_t *ke_pld, const ike_pld_t *nr_pld)
{
  ike_ke_pld_t ke;
  ike_nonce_pld_t nr;
  uint8_t g_ir[IKE_MAX_DH_SECRET];
  size_t g_len = 0;
  if (ke_pld == NULL || nr_pld == NULL || ike_pld_ke(ke_pld, &ke) != 0 ||
      ike_pld_nonce(nr_pld, &nr) != 0 || ke.group != c->ke_group) {
    return -IKE_E_BAD_SYNTAX;
  }
  memcpy(c->nr, nr.data, nr.len);
  c->nr_len = nr.len;
  int rc = ike_dh_shared(c->dh, ke.data, ke.len, g_ir, sizeof g_ir, &g_len);
  if (rc == 0) {
    rc = ike_keys_derive(&c->sa.suite, c->ni, sizeof c->ni, c->nr, c->nr_len, g_ir,
                         g_len, c->sa.spi_i, c->sa.spi_r, &c->sa.keys);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&c->sa.sk_out, &c->sa.suite, c->sa.keys.sk_ei, c->sa.keys.sk_ai);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&c->sa.sk_in, &c->sa.suite, c->sa.keys.sk_er, c->sa.keys.sk_ar);
  }
  ike_wipe(g_ir, sizeof g_ir);
  return rc;
}

static int send_auth(ike_client_t *c);

static void init_response(ike_client_t *c, const uint8_t *pkt, const ike_hdr_t *h,
                          const ike_chain_t *ch)
{
  if (c->req_kind != CLI_REQ_INIT || h->spi_i != c->sa.spi_i || h->msg_id != 0) {
    c->info.dropped++;
    return;
  }
  if (init_retry(c, ch)) {
    return;
  }
  uint16_t err = 0;
  unsigned n = 0;
  ike_client_notes(ch, c->info.rsp_notify, &n);
  c->info.n_rsp_notify = n;
  for (unsigned i = 0; i < n && err == 0; i++) {
    err = c->info.rsp_notify[i] <= IKE_N_ERROR_MAX ? c->info.rsp_notify[i] : 0;
  }
  uint8_t spi[IKE_MAX_SPI_LEN], spi_len = 0;
  if (err != 0) {
    ike_client_fail(c, err);
    return;
  }
  if (h->spi_r == 0 || h->length > CLI_MAX_MSG ||
      ike_client_suite_of(ike_chain_find(ch, IKE_PLD_SA), IKE_PROTO_IKE, &c->sa.suite,
                          spi, &spi_len) != 0) {
    ike_client_fail(c, IKE_CLIENT_ERR_PROTO);
    return;
  }
  c->sa.spi_r = h->spi_r;
  if (init_keys(c, ike_chain_find(ch, IKE_PLD_KE), ike_chain_find(ch, IKE_PLD_NONCE)) != 0) {
    ike_client_fail(c, IKE_CLIENT_ERR_PROTO);
    return;
  }
  c->sa.valid = true;
  c->sa.next_id = 1; /* IKE_SA_INIT was Message ID 0 */
  c->info.spi_r = h->spi_r;
  c->info.suite = c->sa.suite;
  if (keep_copy(&c->init_rsp, &c->init_rsp_len, pkt, h->length) != 0) {
    ike_client_fail(c, IKE_CLIENT_ERR_PROTO);
    return;
  }
  ike_natd_check(ch, c->sa.spi_i, c->sa.spi_r, &c->info.path, &c->info.nat_peer,
                 &c->info.nat_local);
  ike_client_req_done(c);
  ike_dh_free(c->dh);
  c->dh = NULL;
  if ((c->cfg.mobike && !c->cfg.no_float) || c->info.nat_local || c->info.nat_peer) {
    /* Float to the NAT-T port (RFC 7296 2.23, RFC 4555 3.4). */
    c->info.natt = true;
    ike_path_t *p = &c->info.path;
    ((struct sockaddr_in *)&p->peer)->sin_port = htons(c->cfg.natt_port);
    if (ntohs(((struct sockaddr_in *)&p->local)->sin_port) == IKE_PORT) {
      ((struct sockaddr_in *)&p->local)->sin_port = htons(IKE_NATT_PORT);
    }
  }
  c->info.state = IKE_CLIENT_AUTH_SENT;
  if (send_auth(c) != 0) {
    ike_client_fail(c, IKE_CLIENT_ERR_PROTO);
  }
}

/* --- IKE_AUTH --- */

static int send_auth(ike_client_t *c)
{
  ike_mb_t mb;
  uint8_t inner[CLI_MAX_MSG];
  uint8_t body[4 + IKE_CFG_ID_MAX];
  uint8_t maced[IKE_MAX_PRF_LEN], auth[IKE_MAX_PRF_LEN];
  memset(body, 0, 4);
  body[0] = c->cfg.id_type;
  memcpy(body + 4, c->id, c->id_len);
  int rc = ike_auth_maced_id(c->sa.suite.prf, c->sa.keys.sk_pi, c->sa.keys.p_len, body,
                             4 + c->id_len, maced);
  if (rc == 0) {
    rc = ike_auth_psk(c->sa.suite.prf, (const uint8_t *)c->psk, c->psk_len, c->init_req,
                      c->init_req_len, c->nr, c->nr_len, maced, auth);
  }
  if (rc != 0) {
    return rc;
  }
  ike_mb_init_inner(&mb, inner, sizeof inner);
  ike_put_id(&mb, IKE_PLD_IDI, c->cfg.id_type, (const uint8_t *)c->id, c->id_len);
  ike_put_auth(&mb, IKE_AUTH_SHARED_KEY_MIC, auth, ike_prf_len(c->sa.suite.prf));
  ike_wipe(auth, sizeof auth);
  if (!c->cfg.no_vip) {
    ike_cp_pld_t cp;
    memset(&cp, 0, sizeof cp);
    cp.cfg_type = IKE_CFG_REQUEST;
    cp.n = 1;
    cp.a[0].type = IKE_CFG_ATTR_INTERNAL_IP4_ADDRESS;
    ike_put_cp(&mb, &cp);
  }
  c->new_spi_in = new_child_spi();
  if (c->new_spi_in == 0) {
    return -IKE_E_CRYPTO;
  }
  uint8_t spi[4] = {(uint8_t)(c->new_spi_in >> 24), (uint8_t)(c->new_spi_in >> 16),
                    (uint8_t)(c->new_spi_in >> 8), (uint8_t)c->new_spi_in};
  ike_client_put_proposal(&mb, IKE_PROTO_ESP, spi, 4, &c->cfg.esp, NULL, 0);
  ike_client_put_ts_any(&mb, &c->cfg.tsi);
  if (c->cfg.mobike) {
    ike_put_notify(&mb, 0, NULL, 0, IKE_N_MOBIKE_SUPPORTED, NULL, 0);
  }
  if (c->cfg.initial_contact) {
    ike_put_notify(&mb, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
  }
  return ike_client_send_req(c, &c->sa, IKE_EXCH_IKE_AUTH, &mb, CLI_REQ_AUTH);
}

/* The gateway's AUTH: prf(prf(psk, pad), RealMessage2 | Ni | MACedIDForR). */
static bool verify_gw(ike_client_t *c, const ike_chain_t *ch)
{
  ike_id_pld_t idr;
  ike_auth_pld_t auth;
  const ike_pld_t *ip = ike_chain_find(ch, IKE_PLD_IDR);
  const ike_pld_t *ap = ike_chain_find(ch, IKE_PLD_AUTH);
  uint8_t maced[IKE_MAX_PRF_LEN], want[IKE_MAX_PRF_LEN];
  size_t plen = ike_prf_len(c->sa.suite.prf);
  if (ip == NULL || ap == NULL || ike_pld_id(ip, &idr) != 0 ||
      ike_pld_auth(ap, &auth) != 0 || auth.method != IKE_AUTH_SHARED_KEY_MIC ||
      auth.len != plen) {
    return false;
  }
  if (ike_auth_maced_id(c->sa.suite.prf, c->sa.keys.sk_pr, c->sa.keys.p_len, idr.body,
                        idr.body_len, maced) != 0 ||
      ike_auth_psk(c->sa.suite.prf, (const uint8_t *)c->psk, c->psk_len, c->init_rsp,
                   c->init_rsp_len, c->ni, sizeof c->ni, maced, want) != 0) {
    return false;
  }
  bool ok = CRYPTO_memcmp(want, auth.data, plen) == 0;
  ike_wipe(want, sizeof want);
  return ok;
}

static void auth_cp(ike_client_t *c, const ike_chain_t *ch)
{
  ike_cp_pld_t cp;
  const ike_pld_t *p = ike_chain_find(ch, IKE_PLD_CP);
  if (p == NULL || ike_pld_cp(p, &cp) != 0 || cp.cfg_type != IKE_CFG_REPLY) {
    return;
  }
  for (unsigned i = 0; i < cp.n; i++) {
    if (cp.a[i].type == IKE_CFG_ATTR_INTERNAL_IP4_ADDRESS && cp.a[i].len == 4) {
      uint32_t v;
      memcpy(&v, cp.a[i].value, 4);
      c->info.vip4 = ntohl(v);
    }
  }
}

static void auth_response(ike_client_t *c, const ike_chain_t *ch)
{
  ike_client_req_done(c);
  for (unsigned i = 0; i < c->info.n_rsp_notify; i++) {
    if (c->info.rsp_notify[i] == IKE_N_AUTHENTICATION_FAILED) {
      ike_client_fail(c, IKE_N_AUTHENTICATION_FAILED);
      return;
    }
    if (c->info.rsp_notify[i] == IKE_N_MOBIKE_SUPPORTED) {
      c->info.mobike = true;
    }
  }
  bool ok = verify_gw(c, ch);
  init_msgs_free(c);
  if (!ok) {
    ike_client_fail(c, IKE_CLIENT_ERR_AUTH);
    return;
  }
  auth_cp(c, ch);
  ike_client_child_t *child = &c->info.child[0];
  uint8_t spi[IKE_MAX_SPI_LEN], spi_len = 0;
  memset(child, 0, sizeof *child);
  if (ike_client_suite_of(ike_chain_find(ch, IKE_PLD_SA), IKE_PROTO_ESP, &child->suite,
                          spi, &spi_len) == 0 && spi_len == 4 &&
      ike_client_child_keys(&c->sa, child, c->ni, sizeof c->ni, c->nr, c->nr_len) == 0) {
    child->spi_in = c->new_spi_in;
    child->spi_out = (uint32_t)spi[0] << 24 | (uint32_t)spi[1] << 16 |
                     (uint32_t)spi[2] << 8 | spi[3];
    child->used = true;
  }
  c->info.state = IKE_CLIENT_ESTABLISHED;
}

/* --- Dispatch --- */

static void on_response(ike_client_t *c, const uint8_t *pkt, const ike_hdr_t *h,
                        ike_chain_t *ch)
{
  cli_sa_t *sa = c->req_on_old ? &c->old : &c->sa;
  uint8_t plain[CLI_MAX_MSG];
  if (c->req_kind == CLI_REQ_NONE || h->msg_id != c->req_id || h->spi_i != sa->spi_i ||
      h->spi_r != sa->spi_r || !(h->flags & IKE_FLAG_RESPONSE) ||
      (h->flags & IKE_FLAG_INITIATOR) ||
      ike_client_open(sa, pkt, h, ch, plain, sizeof plain) != 0) {
    c->info.dropped++;
    return;
  }
  c->info.rcvd++;
  ike_client_notes(ch, c->info.rsp_notify, &c->info.n_rsp_notify);
  if (c->req_kind == CLI_REQ_AUTH) {
    auth_response(c, ch);
  } else {
    ike_client_info_response(c, sa, ch);
  }
}

void ike_client_recv(ike_client_t *c, const ike_path_t *path, bool natt,
                     const uint8_t *pkt, size_t len, uint64_t now_ms)
{
  ike_hdr_t h;
  ike_chain_t ch;
  uint8_t bad = 0;
  (void)path;
  (void)natt;
  c->now = now_ms;
  if (ike_msg_parse(pkt, len, &h, &ch, &bad) != 0) {
    c->info.dropped++;
    return;
  }
  if (h.exchange == IKE_EXCH_IKE_SA_INIT) {
    if ((h.flags & IKE_FLAG_RESPONSE) && c->info.state == IKE_CLIENT_INIT_SENT) {
      c->info.rcvd++;
      init_response(c, pkt, &h, &ch);
    } else {
      c->info.dropped++;
    }
    return;
  }
  if (h.flags & IKE_FLAG_RESPONSE) {
    on_response(c, pkt, &h, &ch);
    return;
  }
  cli_sa_t *sa = NULL;
  if (c->sa.valid && h.spi_i == c->sa.spi_i && h.spi_r == c->sa.spi_r) {
    sa = &c->sa;
  } else if (c->old.valid && h.spi_i == c->old.spi_i && h.spi_r == c->old.spi_r) {
    sa = &c->old;
  }
  if (sa == NULL || (h.flags & IKE_FLAG_INITIATOR) ||
      c->info.state != IKE_CLIENT_ESTABLISHED) {
    c->info.dropped++;
    return;
  }
  ike_client_gw_request(c, sa, pkt, &h, &ch);
}

int64_t ike_client_tick(ike_client_t *c, uint64_t now_ms)
{
  c->now = now_ms;
  if (c->req_kind == CLI_REQ_NONE) {
    return -1;
  }
  if (now_ms < c->next_ms) {
    return (int64_t)(c->next_ms - now_ms);
  }
  if (c->tries >= c->cfg.max_retrans) {
    ike_client_fail(c, IKE_CLIENT_ERR_DEAD);
    return -1;
  }
  c->tries++;
  unsigned shift = c->tries < 6 ? c->tries : 6;
  c->next_ms = now_ms + ((uint64_t)c->cfg.retrans_ms << shift);
  c->info.retransmits++;
  /* Always on the current path: after a move, retransmissions follow it. */
  send_raw(c, c->req, c->req_len);
  return (int64_t)(c->next_ms - now_ms);
}
