/*
 * ike_client_info.c - the initiator's exchanges after IKE_AUTH: DPD and
 * Delete (RFC 7296 1.4), CHILD and IKE SA rekey (1.3.2, 1.3.3), MOBIKE
 * address updates (RFC 4555 3.5) and the answers to the gateway's own
 * requests (DPD, COOKIE2 return routability checks, RFC 4555 3.8; Delete).
 */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "ike_client_int.h"

static bool ready(const ike_client_t *c)
{
  return c->info.state == IKE_CLIENT_ESTABLISHED && c->req_kind == CLI_REQ_NONE;
}

static uint32_t spi_be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* --- Requests --- */

int ike_client_dpd(ike_client_t *c)
{
  ike_mb_t mb;
  uint8_t inner[16];
  if (!ready(c)) {
    return -IKE_E_BAD_SYNTAX;
  }
  ike_mb_init_inner(&mb, inner, sizeof inner);
  return ike_client_send_req(c, &c->sa, IKE_EXCH_INFORMATIONAL, &mb, CLI_REQ_DPD);
}

int ike_client_delete(ike_client_t *c)
{
  ike_mb_t mb;
  uint8_t inner[64];
  if (!ready(c)) {
    return -IKE_E_BAD_SYNTAX;
  }
  ike_mb_init_inner(&mb, inner, sizeof inner);
  ike_put_delete(&mb, IKE_PROTO_IKE, 0, NULL, 0);
  return ike_client_send_req(c, &c->sa, IKE_EXCH_INFORMATIONAL, &mb, CLI_REQ_DELETE);
}

int ike_client_delete_child(ike_client_t *c, unsigned idx)
{
  ike_mb_t mb;
  uint8_t inner[64];
  if (!ready(c) || idx >= IKE_CLIENT_MAX_CHILD || !c->info.child[idx].used) {
    return -IKE_E_BAD_SYNTAX;
  }
  ike_mb_init_inner(&mb, inner, sizeof inner);
  ike_put_delete(&mb, IKE_PROTO_ESP, 4, &c->info.child[idx].spi_in, 1);
  c->req_child = idx;
  return ike_client_send_req(c, &c->sa, IKE_EXCH_INFORMATIONAL, &mb,
                             CLI_REQ_DELETE_CHILD);
}

int ike_client_rekey_child(ike_client_t *c, unsigned idx)
{
  ike_mb_t mb;
  uint8_t inner[1024], spi[4], old[4];
  if (!ready(c) || idx >= IKE_CLIENT_MAX_CHILD || !c->info.child[idx].used) {
    return -IKE_E_BAD_SYNTAX;
  }
  c->new_spi_in = 0;
  while (c->new_spi_in < 256) {
    if (ike_random(&c->new_spi_in, sizeof c->new_spi_in) != 0) {
      return -IKE_E_CRYPTO; /* never an unfilled SPI or nonce */
    }
  }
  if (ike_random(c->ni, sizeof c->ni) != 0) {
    return -IKE_E_CRYPTO;
  }
  put_be32(spi, c->new_spi_in);
  put_be32(old, c->info.child[idx].spi_in);
  ike_mb_init_inner(&mb, inner, sizeof inner);
  /* REKEY_SA names the SPI we expect inbound on the old SA (1.3.3). */
  ike_put_notify(&mb, IKE_PROTO_ESP, old, 4, IKE_N_REKEY_SA, NULL, 0);
  ike_client_put_proposal(&mb, IKE_PROTO_ESP, spi, 4, &c->info.child[idx].suite, NULL, 0);
  ike_put_nonce(&mb, c->ni, sizeof c->ni);
  ike_client_put_ts_any(&mb, &c->cfg.tsi);
  c->req_child = idx;
  return ike_client_send_req(c, &c->sa, IKE_EXCH_CREATE_CHILD_SA, &mb,
                             CLI_REQ_REKEY_CHILD);
}

int ike_client_rekey_ike(ike_client_t *c)
{
  ike_mb_t mb;
  uint8_t inner[2048], spi[8], pub[IKE_MAX_DH_PUB];
  size_t pub_len = 0;
  if (!ready(c)) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (ike_random(&c->new_spi_i, sizeof c->new_spi_i) != 0 ||
      ike_random(c->ni, sizeof c->ni) != 0) {
    return -IKE_E_CRYPTO; /* never an unfilled SPI or nonce */
  }
  ike_dh_free(c->dh);
  c->dh = NULL;
  int rc = ike_dh_new(c->sa.suite.dh, &c->dh);
  if (rc != 0) {
    return rc;
  }
  ike_dh_public(c->dh, pub, sizeof pub, &pub_len);
  c->new_spi_i |= 1;
  for (int i = 0; i < 8; i++) {
    spi[i] = (uint8_t)(c->new_spi_i >> (56 - 8 * i));
  }
  ike_mb_init_inner(&mb, inner, sizeof inner);
  ike_client_put_proposal(&mb, IKE_PROTO_IKE, spi, 8, &c->sa.suite, &c->sa.suite.dh, 1);
  ike_put_nonce(&mb, c->ni, sizeof c->ni);
  ike_put_ke(&mb, c->sa.suite.dh, pub, pub_len);
  return ike_client_send_req(c, &c->sa, IKE_EXCH_CREATE_CHILD_SA, &mb,
                             CLI_REQ_REKEY_IKE);
}

int ike_client_notify(ike_client_t *c, const ike_client_notify_t *n, size_t k)
{
  ike_mb_t mb;
  uint8_t inner[2048];
  if (!ready(c)) {
    return -IKE_E_BAD_SYNTAX;
  }
  ike_mb_init_inner(&mb, inner, sizeof inner);
  for (size_t i = 0; i < k; i++) {
    ike_put_notify(&mb, 0, NULL, 0, n[i].type, n[i].data, n[i].len);
  }
  return ike_client_send_req(c, &c->sa, IKE_EXCH_INFORMATIONAL, &mb, CLI_REQ_NOTIFY);
}

/* A copy of ss with another address (a NAT's view of it). */
static void forge(const struct sockaddr_storage *ss, struct sockaddr_storage *out)
{
  *out = *ss;
  if (out->ss_family == AF_INET) {
    ((struct sockaddr_in *)out)->sin_addr.s_addr ^= htonl(0x00000101u);
  } else {
    ((struct sockaddr_in6 *)out)->sin6_addr.s6_addr[15] ^= 1;
  }
}

/* N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) (RFC 7296 2.23). */
static void put_natd(ike_client_t *c, ike_mb_t *mb, const ike_client_move_opts_t *o)
{
  ike_path_t p = c->info.path;
  if (o->forge_natd_src) {
    forge(&c->info.path.local, &p.local);
  }
  if (o->forge_natd_dst) {
    forge(&c->info.path.peer, &p.peer);
  }
  ike_natd_put(mb, c->sa.spi_i, c->sa.spi_r, &p);
}

/* Address and port of ss in wire form; returns the length. */
static size_t addr_port(const struct sockaddr_storage *ss, uint8_t *out)
{
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    memcpy(out, &in->sin_addr, 4);
    memcpy(out + 4, &in->sin_port, 2);
    return 6;
  }
  const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
  memcpy(out, &in6->sin6_addr, 16);
  memcpy(out + 16, &in6->sin6_port, 2);
  return 18;
}

static void put_move_extras(ike_client_t *c, ike_mb_t *mb, const ike_client_move_opts_t *o)
{
  if (o->cookie2) {
    c->cookie2_sent = true; /* filled by ike_client_move */
    ike_put_notify(mb, 0, NULL, 0, IKE_N_COOKIE2, c->cookie2, sizeof c->cookie2);
  }
  if (o->no_nats_allowed) {
    /* Data: the addresses and ports of this datagram as we send it. */
    uint8_t d[36];
    size_t n = addr_port(&c->info.path.local, d);
    n += addr_port(&c->info.path.peer, d + n);
    ike_put_notify(mb, 0, NULL, 0, IKE_N_NO_NATS_ALLOWED, d, n);
  }
  if (o->additional_ip4) {
    static const uint8_t a4[4] = {192, 0, 2, 200};
    ike_put_notify(mb, 0, NULL, 0, IKE_N_ADDITIONAL_IP4_ADDRESS, a4, sizeof a4);
  }
  if (o->additional_ip6) {
    static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0x02, [15] = 0x00};
    ike_put_notify(mb, 0, NULL, 0, IKE_N_ADDITIONAL_IP6_ADDRESS, a6, sizeof a6);
  }
  if (o->no_additional) {
    ike_put_notify(mb, 0, NULL, 0, IKE_N_NO_ADDITIONAL_ADDRESSES, NULL, 0);
  }
}

int ike_client_move(ike_client_t *c, const ike_path_t *path,
                    const ike_client_move_opts_t *o)
{
  static const ike_client_move_opts_t none;
  ike_mb_t mb;
  uint8_t inner[1024];
  o = o ? o : &none;
  if (o->abandon_pending && c->req_kind != CLI_REQ_NONE) {
    ike_client_req_done(c);
  }
  if (!ready(c)) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (o->cookie2 && ike_random(c->cookie2, sizeof c->cookie2) != 0) {
    return -IKE_E_CRYPTO; /* not moved, nothing sent */
  }
  c->info.path = *path;
  c->info.natt = o->natt;
  c->cookie2_sent = false;
  ike_mb_init_inner(&mb, inner, sizeof inner);
  ike_put_notify(&mb, 0, NULL, 0, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  if (!o->no_natd) {
    put_natd(c, &mb, o);
  }
  put_move_extras(c, &mb, o);
  return ike_client_send_req(c, &c->sa, IKE_EXCH_INFORMATIONAL, &mb, CLI_REQ_UPDATE);
}

/* --- Responses to our requests --- */

static uint16_t first_error(const ike_client_t *c)
{
  for (unsigned i = 0; i < c->info.n_rsp_notify; i++) {
    if (c->info.rsp_notify[i] <= IKE_N_ERROR_MAX) {
      return c->info.rsp_notify[i];
    }
  }
  return 0;
}

static int free_child(ike_client_t *c)
{
  for (int i = 0; i < IKE_CLIENT_MAX_CHILD; i++) {
    if (!c->info.child[i].used) {
      return i;
    }
  }
  return -1;
}

static void child_rekeyed(ike_client_t *c, const cli_sa_t *sa, const ike_chain_t *ch)
{
  ike_client_child_t *old = &c->info.child[c->req_child];
  ike_nonce_pld_t nr;
  uint8_t spi[IKE_MAX_SPI_LEN], spi_len = 0;
  int slot = free_child(c);
  const ike_pld_t *np = ike_chain_find(ch, IKE_PLD_NONCE);
  if (first_error(c) != 0 || slot < 0 || np == NULL || ike_pld_nonce(np, &nr) != 0) {
    c->info.error = first_error(c) ? first_error(c) : IKE_CLIENT_ERR_PROTO;
    return;
  }
  ike_client_child_t *nc = &c->info.child[slot];
  memset(nc, 0, sizeof *nc);
  if (ike_client_suite_of(ike_chain_find(ch, IKE_PLD_SA), IKE_PROTO_ESP, &nc->suite, spi,
                          &spi_len) != 0 || spi_len != 4 ||
      ike_client_child_keys(sa, nc, c->ni, sizeof c->ni, nr.data, nr.len) != 0) {
    c->info.error = IKE_CLIENT_ERR_PROTO;
    return;
  }
  nc->spi_in = c->new_spi_in;
  nc->spi_out = spi_be32(spi);
  nc->used = true;
  /* The initiator of a rekey deletes the old CHILD SA (1.3.3). */
  ike_client_delete_child(c, (unsigned)(old - c->info.child));
}

/* The new IKE SA of our rekey (2.18); then Delete of the old one. */
static void ike_rekeyed(ike_client_t *c, const ike_chain_t *ch)
{
  ike_ke_pld_t ke;
  ike_nonce_pld_t nr;
  cli_sa_t nsa;
  uint8_t spi[IKE_MAX_SPI_LEN], spi_len = 0, g_ir[IKE_MAX_DH_SECRET];
  size_t g_len = 0;
  const ike_pld_t *kp = ike_chain_find(ch, IKE_PLD_KE), *np = ike_chain_find(ch, IKE_PLD_NONCE);
  memset(&nsa, 0, sizeof nsa);
  int rc = first_error(c) ? -IKE_E_BAD_SYNTAX : 0;
  if (rc == 0 && (kp == NULL || np == NULL || ike_pld_ke(kp, &ke) != 0 ||
                  ike_pld_nonce(np, &nr) != 0 ||
                  ike_client_suite_of(ike_chain_find(ch, IKE_PLD_SA), IKE_PROTO_IKE,
                                      &nsa.suite, spi, &spi_len) != 0 || spi_len != 8)) {
    rc = -IKE_E_BAD_SYNTAX;
  }
  if (rc == 0) {
    rc = ike_dh_shared(c->dh, ke.data, ke.len, g_ir, sizeof g_ir, &g_len);
  }
  if (rc == 0) {
    nsa.spi_i = c->new_spi_i;
    for (int i = 0; i < 8; i++) {
      nsa.spi_r = nsa.spi_r << 8 | spi[i];
    }
    rc = ike_keys_derive_rekey(&nsa.suite, c->sa.suite.prf, c->sa.keys.sk_d,
                               c->sa.keys.d_len, c->ni, sizeof c->ni, nr.data, nr.len,
                               g_ir, g_len, nsa.spi_i, nsa.spi_r, &nsa.keys);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&nsa.sk_out, &nsa.suite, nsa.keys.sk_ei, nsa.keys.sk_ai);
  }
  if (rc == 0) {
    rc = ike_sk_dir_init(&nsa.sk_in, &nsa.suite, nsa.keys.sk_er, nsa.keys.sk_ar);
  }
  ike_wipe(g_ir, sizeof g_ir);
  ike_dh_free(c->dh);
  c->dh = NULL;
  if (rc != 0) {
    c->info.error = first_error(c) ? first_error(c) : IKE_CLIENT_ERR_PROTO;
    ike_wipe(&nsa, sizeof nsa);
    return;
  }
  nsa.valid = true;
  ike_client_sa_wipe(&c->old);
  c->old = c->sa;
  c->sa = nsa;
  c->info.spi_i = nsa.spi_i;
  c->info.spi_r = nsa.spi_r;
  c->info.suite = nsa.suite;
  c->info.next_msg_id = 0;
  ike_mb_t mb;
  uint8_t inner[64];
  ike_mb_init_inner(&mb, inner, sizeof inner);
  ike_put_delete(&mb, IKE_PROTO_IKE, 0, NULL, 0);
  ike_client_send_req(c, &c->old, IKE_EXCH_INFORMATIONAL, &mb, CLI_REQ_DELETE_OLD);
}

static void update_done(ike_client_t *c, const ike_chain_t *ch)
{
  uint16_t err = first_error(c);
  c->info.updates_done++;
  c->info.cookie2_echo_ok = false;
  for (unsigned i = 0; i < ch->n; i++) {
    ike_notify_pld_t n;
    if (ch->pld[i].type == IKE_PLD_NOTIFY && ike_pld_notify(&ch->pld[i], &n) == 0 &&
        n.type == IKE_N_COOKIE2 && c->cookie2_sent && n.len == sizeof c->cookie2 &&
        CRYPTO_memcmp(n.data, c->cookie2, sizeof c->cookie2) == 0) {
      c->info.cookie2_echo_ok = true;
    }
  }
  if (err != 0) {
    c->info.error = err;
    return;
  }
  ike_natd_check(ch, c->sa.spi_i, c->sa.spi_r, &c->info.path, &c->info.nat_peer,
                 &c->info.nat_local);
}

void ike_client_info_response(ike_client_t *c, cli_sa_t *sa, const ike_chain_t *ch)
{
  cli_req_t kind = c->req_kind;
  ike_client_req_done(c);
  switch (kind) {
  case CLI_REQ_DELETE:
    c->info.state = IKE_CLIENT_CLOSED;
    memset(c->info.child, 0, sizeof c->info.child);
    break;
  case CLI_REQ_DELETE_CHILD:
    ike_wipe(&c->info.child[c->req_child], sizeof c->info.child[0]);
    break;
  case CLI_REQ_DELETE_OLD:
    /* Keys stay for ike_client_decode(); the SA takes no more requests. */
    free(c->old.rsp);
    c->old.rsp = NULL;
    c->old.valid = false;
    break;
  case CLI_REQ_REKEY_CHILD:
    child_rekeyed(c, sa, ch);
    break;
  case CLI_REQ_REKEY_IKE:
    ike_rekeyed(c, ch);
    break;
  case CLI_REQ_UPDATE:
    update_done(c, ch);
    break;
  default:
    if (first_error(c) != 0) {
      c->info.error = first_error(c);
    }
    break;
  }
}

/* --- The gateway's requests --- */

/* Build our answer to the gateway's INFORMATIONAL request. Returns false if
 * the IKE SA is to be closed after answering. */
static bool gw_answer(ike_client_t *c, const ike_chain_t *ch, ike_mb_t *mb)
{
  bool keep = true;
  uint32_t del[IKE_CLIENT_MAX_CHILD];
  uint16_t n_del = 0;
  for (unsigned i = 0; i < ch->n; i++) {
    ike_notify_pld_t n;
    ike_delete_pld_t d;
    if (ch->pld[i].type == IKE_PLD_NOTIFY && ike_pld_notify(&ch->pld[i], &n) == 0 &&
        n.type == IKE_N_COOKIE2 && n.len >= 8 && n.len <= 64) {
      uint8_t v[64];
      memcpy(v, n.data, n.len);
      if (c->answer == IKE_CLIENT_WRONG_COOKIE2) {
        v[0] ^= 0xFF;
      }
      ike_put_notify(mb, 0, NULL, 0, IKE_N_COOKIE2, v, n.len);
      c->info.gw_cookie2_answered++;
    } else if (ch->pld[i].type == IKE_PLD_DELETE && ike_pld_delete(&ch->pld[i], &d) == 0) {
      if (d.protocol == IKE_PROTO_IKE) {
        keep = false;
        continue;
      }
      for (unsigned k = 0; k < d.n_spis && k < IKE_MAX_DEL_SPIS; k++) {
        for (int j = 0; j < IKE_CLIENT_MAX_CHILD; j++) {
          ike_client_child_t *cc = &c->info.child[j];
          if (cc->used && cc->spi_out == d.spi[k] && n_del < IKE_CLIENT_MAX_CHILD) {
            del[n_del++] = cc->spi_in;
            ike_wipe(cc, sizeof *cc);
          }
        }
      }
    }
  }
  if (n_del > 0) {
    ike_put_delete(mb, IKE_PROTO_ESP, 4, del, n_del);
  }
  return keep;
}

void ike_client_gw_request(ike_client_t *c, cli_sa_t *sa, const uint8_t *pkt,
                           const ike_hdr_t *h, ike_chain_t *chain)
{
  uint8_t plain[CLI_MAX_MSG], out[CLI_MAX_MSG], inner[1024];
  size_t len = 0;
  if (sa->rsp != NULL && h->msg_id == sa->rsp_id && h->msg_id + 1 == sa->peer_next_id) {
    if (c->answer != IKE_CLIENT_SILENT) {
      c->info.gw_retrans_answered++;
      c->info.sent++;
      c->ops.send(c->ctx, &c->info.path, c->info.natt, sa->rsp, sa->rsp_len);
    }
    return;
  }
  if (h->msg_id != sa->peer_next_id ||
      ike_client_open(sa, pkt, h, chain, plain, sizeof plain) != 0) {
    c->info.dropped++;
    return;
  }
  c->info.rcvd++;
  if (h->msg_id >= sa->seen_next) {
    c->info.gw_requests++; /* a new one, not a retransmission we ignored */
    sa->seen_next = h->msg_id + 1;
  }
  ike_client_notes(chain, c->info.gw_notify, &c->info.n_gw_notify);
  if (c->answer == IKE_CLIENT_SILENT) {
    return;
  }
  ike_mb_t mb;
  ike_mb_init_inner(&mb, inner, sizeof inner);
  bool keep = true;
  if (h->exchange == IKE_EXCH_INFORMATIONAL) {
    keep = gw_answer(c, chain, &mb);
  } else {
    ike_put_notify(&mb, 0, NULL, 0, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
  }
  if (chain->n == 0 && h->exchange == IKE_EXCH_INFORMATIONAL) {
    c->info.gw_dpd_answered++;
  }
  if (ike_client_seal(sa, h->exchange, h->msg_id, IKE_FLAG_RESPONSE | IKE_FLAG_INITIATOR,
                      &mb, out, sizeof out, &len) != 0) {
    return;
  }
  uint8_t *copy = realloc(sa->rsp, len);
  if (copy != NULL) {
    memcpy(copy, out, len);
    sa->rsp = copy;
    sa->rsp_len = len;
    sa->rsp_id = h->msg_id;
  }
  sa->peer_next_id = h->msg_id + 1;
  c->info.sent++;
  c->ops.send(c->ctx, &c->info.path, c->info.natt, out, len);
  if (!keep && sa == &c->sa) {
    c->info.state = IKE_CLIENT_CLOSED;
    memset(c->info.child, 0, sizeof c->info.child);
  }
}

/* --- Raw access --- */

int ike_client_craft(const ike_client_t *c, uint8_t exchange, uint32_t msg_id,
                     uint8_t flags, uint8_t first, const uint8_t *inner,
                     size_t inner_len, uint8_t *out, size_t cap, size_t *out_len)
{
  static const uint8_t empty[1];
  if (!c->sa.valid) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (inner == NULL) {
    inner = empty; /* ike_sk_seal copies from it even for 0 bytes */
    inner_len = 0;
  }
  ike_hdr_t h = {.spi_i = c->sa.spi_i, .spi_r = c->sa.spi_r,
                 .version = IKE_MAJOR_VERSION << 4, .exchange = exchange,
                 .flags = flags, .msg_id = msg_id};
  ike_mb_t mb;
  ike_mb_init(&mb, out, cap, &h);
  size_t pld_off = ike_put_sk_hdr(&mb, first);
  if (ike_wr_err(&mb.w) != 0) {
    return -IKE_E_NOSPACE;
  }
  return ike_sk_seal(&c->sa.sk_out, out, cap, pld_off, pld_off + IKE_PLD_HDR_LEN, inner,
                     inner_len, out_len);
}

int ike_client_decode(const ike_client_t *c, const uint8_t *pkt, size_t len,
                      ike_hdr_t *h, ike_chain_t *chain, uint8_t *plain, size_t cap)
{
  uint8_t bad = 0;
  int rc = ike_msg_parse(pkt, len, h, chain, &bad);
  if (rc != 0) {
    return rc;
  }
  const cli_sa_t *sa = NULL;
  if (c->sa.valid && h->spi_i == c->sa.spi_i && h->spi_r == c->sa.spi_r) {
    sa = &c->sa;
  } else if (c->old.spi_i != 0 && h->spi_i == c->old.spi_i && h->spi_r == c->old.spi_r) {
    sa = &c->old;
  }
  if (sa == NULL) {
    return -IKE_E_BAD_SYNTAX;
  }
  return ike_client_open(sa, pkt, h, chain, plain, cap);
}
