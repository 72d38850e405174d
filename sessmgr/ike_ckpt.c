/*
 * ike_ckpt.c - an IKE SA as a checkpoint record and back (ike_ckpt.h), and
 * the engine's side of checkpointing: dirty SAs, deleted records, restore.
 *
 * Field by field the record is proto/ikegw_ckpt.proto's IkeSaRecord. What is
 * not stored is rebuilt: the SK direction keys (from SK_e/SK_a), the timer
 * heap place, the table slot. Nonces, SK_p and the IKE_SA_INIT messages are
 * only needed before IKE_AUTH, and half-open SAs are never stored.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw_ckpt.pb-c.h"

#include "ike_addr.h"
#include "ike_ckpt.h"
#include "ike_log.h"
#include "ike_sa.h"
#include "ike_slot.h"

#define ADDR_LEN 46                /* INET6_ADDRSTRLEN */
#define IKE_HDR_EXCH_OFF 18        /* exchange type byte of the IKE header */

/* --- time --- */

static uint64_t to_wall(uint64_t ms, int64_t off)
{
  if (ms == 0) {
    return 0;
  }
  int64_t w = (int64_t)ms + off;
  return w > 0 ? (uint64_t)w : 1;
}

static uint64_t from_wall(uint64_t wall, int64_t off)
{
  if (wall == 0) {
    return 0;
  }
  int64_t m = (int64_t)wall - off;
  return m > 0 ? (uint64_t)m : 1; /* long past: due at once (0 would mean unset) */
}

/* --- encode --- */

static void suite_pb(const ike_suite_t *s, Ikegw__Ckpt__Suite *pb)
{
  pb->encr_id = s->encr;
  pb->encr_key_bits = s->encr_bits;
  pb->prf_id = s->prf;
  pb->integ_id = s->integ;
  pb->dh_group = s->dh;
  pb->esn = s->esn;
}

static ProtobufCBinaryData bin(const uint8_t *p, size_t n)
{
  return (ProtobufCBinaryData){.len = n, .data = (uint8_t *)p};
}

static void ts_pb(const ike_ts_t *ts, Ikegw__Types__TrafficSelector *pb, char *a, char *b)
{
  int af = ts->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6;
  inet_ntop(af, ts->start, a, ADDR_LEN);
  inet_ntop(af, ts->end, b, ADDR_LEN);
  pb->start_addr = a;
  pb->end_addr = b;
  pb->ip_proto = ts->ip_proto;
  pb->start_port = ts->start_port;
  pb->end_port = ts->end_port;
}

/* Everything one record points at while it is packed. */
typedef struct enc_ctx {
  Ikegw__Ckpt__IkeSaRecord r;
  Ikegw__Ckpt__Suite suite, csuite[IKE_MAX_CHILD];
  Ikegw__Ckpt__CachedMessage rsp, req;
  ProtobufCBinaryData rsp_frag, req_frag;
  Ikegw__Ckpt__ChildSaRecord child[IKE_MAX_CHILD], *childp[IKE_MAX_CHILD];
  Ikegw__Types__TrafficSelector ts[IKE_MAX_CHILD][2], *tsp[IKE_MAX_CHILD][2];
  char ts_str[IKE_MAX_CHILD][4][ADDR_LEN];
  char local[ADDR_LEN], peer[ADDR_LEN], vip[2][ADDR_LEN];
  char esp_local[ADDR_LEN], esp_peer[ADDR_LEN]; /* CHILD SAs held back (esp_hold) */
  char *vipp[2];
} enc_ctx_t;

static void enc_msgs(enc_ctx_t *c, const ike_sa_t *sa, int64_t off)
{
  if (sa->rsp != NULL && sa->rsp_len > IKE_HDR_EXCH_OFF) {
    ikegw__ckpt__cached_message__init(&c->rsp);
    c->rsp_frag = bin(sa->rsp, sa->rsp_len);
    c->rsp.msg_id = sa->rsp_id;
    c->rsp.n_fragments = 1;
    c->rsp.fragments = &c->rsp_frag;
    c->rsp.exchange = sa->rsp[IKE_HDR_EXCH_OFF];
    if (sa->has_rsp_req_digest) {
      c->rsp.request_digest = bin(sa->rsp_req_digest, sizeof sa->rsp_req_digest);
    }
    c->r.last_response = &c->rsp;
    c->r.last_response_mobike = sa->rsp_update;
  }
  /* A CHILD rekey of ours is not stored (its nonce and new SPI are not in the
   * record): after a restore it is simply not pending; the old CHILD SA lives
   * until its hard lifetime or the peer's own rekey. */
  if (sa->req != NULL && sa->req_len > IKE_HDR_EXCH_OFF && sa->req_kind != IKE_REQ_REKEY_CHILD) {
    ikegw__ckpt__cached_message__init(&c->req);
    c->req_frag = bin(sa->req, sa->req_len);
    c->req.msg_id = sa->req_id;
    c->req.n_fragments = 1;
    c->req.fragments = &c->req_frag;
    c->req.retransmits = sa->req_tries;
    c->req.next_retransmit_at = to_wall(sa->req_next_ms, off);
    c->req.exchange = sa->req[IKE_HDR_EXCH_OFF];
    c->r.pending_request = &c->req;
    c->r.pending_request_kind = sa->req_kind;
  }
}

static void enc_children(enc_ctx_t *c, const ike_sa_t *sa, int64_t off)
{
  size_t n = 0;
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    const ike_child_t *ch = &sa->child[i];
    if (!ch->used) {
      continue;
    }
    Ikegw__Ckpt__ChildSaRecord *r = &c->child[n];
    ikegw__ckpt__child_sa_record__init(r);
    ikegw__ckpt__suite__init(&c->csuite[n]);
    suite_pb(&ch->suite, &c->csuite[n]);
    r->in_spi = ch->spi_in;
    r->out_spi = ch->spi_out;
    r->state = 1; /* installed: the only state a stored CHILD SA has */
    r->installed = true;
    r->suite = &c->csuite[n];
    r->enc_key_in = bin(ch->ek_in, ch->ek_len);
    r->integ_key_in = bin(ch->ak_in, ch->ak_len);
    r->enc_key_out = bin(ch->ek_out, ch->ek_len);
    r->integ_key_out = bin(ch->ak_out, ch->ak_len);
    for (int k = 0; k < 2; k++) {
      ikegw__types__traffic_selector__init(&c->ts[n][k]);
      ts_pb(k ? &ch->ts_remote : &ch->ts_local, &c->ts[n][k], c->ts_str[n][2 * k],
            c->ts_str[n][2 * k + 1]);
      c->tsp[n][k] = &c->ts[n][k];
    }
    r->n_local_ts = 1;
    r->local_ts = &c->tsp[n][0];
    r->n_remote_ts = 1;
    r->remote_ts = &c->tsp[n][1];
    r->created_at = to_wall(ch->created_ms, off);
    c->childp[n++] = r;
  }
  c->r.n_children = n;
  c->r.children = c->childp;
}

/* CHILD SAs held on their last verified path during a COOKIE2 check. */
static void enc_esp_hold(enc_ctx_t *c, const ike_sa_t *sa)
{
  if (!sa->esp_hold) {
    return;
  }
  c->r.esp_hold = true;
  c->r.esp_local_port = ike_addr_str(&sa->esp_path.local, c->esp_local, sizeof c->esp_local);
  c->r.esp_local_addr = c->esp_local;
  c->r.esp_peer_port = ike_addr_str(&sa->esp_path.peer, c->esp_peer, sizeof c->esp_peer);
  c->r.esp_peer_addr = c->esp_peer;
  c->r.esp_natt = sa->esp_natt;
}

static void enc_fields(enc_ctx_t *c, const ike_engine_t *e, const ike_sa_t *sa,
                       int64_t off)
{
  Ikegw__Ckpt__IkeSaRecord *r = &c->r;
  r->format = IKE_CKPT_FORMAT;
  r->slot = e->slot;
  r->spi_i = sa->spi_i;
  r->spi_r = sa->spi_r;
  r->state = sa->state;
  suite_pb(&sa->suite, &c->suite);
  r->suite = &c->suite;
  r->sk_d = bin(sa->keys.sk_d, sa->keys.d_len);
  r->sk_ai = bin(sa->keys.sk_ai, sa->keys.a_len);
  r->sk_ar = bin(sa->keys.sk_ar, sa->keys.a_len);
  r->sk_ei = bin(sa->keys.sk_ei, sa->keys.e_len);
  r->sk_er = bin(sa->keys.sk_er, sa->keys.e_len);
  r->next_req_msg_id = sa->our_next_id;
  r->peer_next_msg_id = sa->peer_next_id;
  enc_msgs(c, sa, off);
  r->local_port = ike_addr_str(&sa->path.local, c->local, sizeof c->local);
  r->local_addr = c->local;
  r->peer_port = ike_addr_str(&sa->path.peer, c->peer, sizeof c->peer);
  r->peer_addr = c->peer;
  r->nat_local = sa->nat_local;
  r->nat_peer = sa->nat_peer;
  r->natt = sa->natt;
  r->mobike = sa->mobike;
  r->no_nats_allowed = sa->no_nats_allowed;
  if (sa->rrc_pending || sa->req_kind == IKE_REQ_COOKIE2) {
    r->cookie2 = bin(sa->cookie2, sizeof sa->cookie2);
    r->rr_state = sa->rrc_pending ? 1 : 2; /* 1 = waits for our request, 2 = in flight */
  }
  r->peer_id_type = sa->peer_id_type;
  r->peer_id = bin((const uint8_t *)sa->peer_id, strnlen(sa->peer_id, sizeof sa->peer_id));
  if (sa->has_id_digest) {
    r->peer_id_digest = bin(sa->peer_id_digest, sizeof sa->peer_id_digest);
  }
  r->template_name = (char *)ike_sa_tmpl(e, sa)->name;
  r->virtual_ips = c->vipp;
  if (sa->vip4 != 0) {
    uint32_t v = htonl(sa->vip4);
    inet_ntop(AF_INET, &v, c->vip[r->n_virtual_ips], ADDR_LEN);
    c->vipp[r->n_virtual_ips] = c->vip[r->n_virtual_ips];
    r->n_virtual_ips++;
  }
  if (sa->has_vip6) {
    inet_ntop(AF_INET6, sa->vip6, c->vip[r->n_virtual_ips], ADDR_LEN);
    c->vipp[r->n_virtual_ips] = c->vip[r->n_virtual_ips];
    r->n_virtual_ips++;
  }
  r->created_at = to_wall(sa->created_ms, off);
  r->last_peer_rx_at = to_wall(sa->last_rx_ms, off);
  r->dpd_at = to_wall(sa->dpd_next_ms, off);
  r->expire_at = to_wall(sa->expire_ms, off);
  r->mobike_updates = sa->mobike_updates;
  r->mobike_last_msg_id = sa->mobike_last_id;
  r->peer_sig_hashes = sa->peer_sig_hashes;
  enc_esp_hold(c, sa);
  enc_children(c, sa, off);
}

int ike_ckpt_encode(const ike_engine_t *e, const ike_sa_t *sa, int64_t wall_off_ms,
                    uint8_t **buf, size_t *cap, size_t *len)
{
  if (!ike_sa_storable(sa)) {
    return -IKE_E_BAD_SYNTAX;
  }
  enc_ctx_t c;
  memset(&c, 0, sizeof c);
  ikegw__ckpt__ike_sa_record__init(&c.r);
  ikegw__ckpt__suite__init(&c.suite);
  enc_fields(&c, e, sa, wall_off_ms);
  size_t need = ikegw__ckpt__ike_sa_record__get_packed_size(&c.r);
  if (need > *cap) {
    size_t ncap = need + need / 2 + 256;
    uint8_t *nb = malloc(ncap);
    if (nb == NULL) {
      return -IKE_E_NOMEM;
    }
    if (*buf != NULL) {
      ike_wipe(*buf, *cap);
      free(*buf);
    }
    *buf = nb;
    *cap = ncap;
  }
  *len = ikegw__ckpt__ike_sa_record__pack(&c.r, *buf);
  return 0;
}

/* --- decode --- */

/* Copy n bytes of a protobuf bytes field (data is NULL when it is empty). */
static void take(void *dst, const ProtobufCBinaryData *b, size_t n)
{
  if (n > 0) {
    memcpy(dst, b->data, n);
  }
}

/* protobuf-c allocator that wipes what it frees (records carry keys). */
static void *w_alloc(void *d, size_t n)
{
  (void)d;
  max_align_t *p = malloc(sizeof(max_align_t) + n);
  if (p == NULL) {
    return NULL;
  }
  *(size_t *)(void *)p = n;
  return p + 1;
}

static void w_free(void *d, void *ptr)
{
  (void)d;
  if (ptr != NULL) {
    max_align_t *p = (max_align_t *)ptr - 1;
    ike_wipe(p, sizeof *p + *(size_t *)(void *)p);
    free(p);
  }
}

static ProtobufCAllocator wiping = {w_alloc, w_free, NULL};

static int dec_suite(const Ikegw__Ckpt__Suite *pb, ike_suite_t *s)
{
  if (pb == NULL || pb->encr_id > 0xFFFF || pb->encr_key_bits > 0xFFFF ||
      pb->prf_id > 0xFFFF || pb->integ_id > 0xFFFF || pb->dh_group > 0xFFFF) {
    return -IKE_E_BAD_SYNTAX;
  }
  s->encr = (uint16_t)pb->encr_id;
  s->encr_bits = (uint16_t)pb->encr_key_bits;
  s->prf = (uint16_t)pb->prf_id;
  s->integ = (uint16_t)pb->integ_id;
  s->dh = (uint16_t)pb->dh_group;
  s->esn = pb->esn;
  return ike_encr_supported(s->encr, s->encr_bits) ? 0 : -IKE_E_UNSUPPORTED;
}

/* Key lengths the suite wants (encryption incl. salt; integrity 0 for AEAD). */
static void key_lens(const ike_suite_t *s, size_t *ek, size_t *ak)
{
  *ek = ike_encr_key_len(s->encr, s->encr_bits);
  *ak = ike_encr_is_aead(s->encr) ? 0 : ike_integ_key_len(s->integ);
}

static int dec_keys(const Ikegw__Ckpt__IkeSaRecord *r, ike_sa_t *sa)
{
  size_t ek, ak;
  key_lens(&sa->suite, &ek, &ak);
  ike_keys_t *k = &sa->keys;
  if (r->sk_d.len == 0 || r->sk_d.len > sizeof k->sk_d || r->sk_ei.len != ek ||
      r->sk_er.len != ek || ek > sizeof k->sk_ei || r->sk_ai.len != ak ||
      r->sk_ar.len != ak || ak > sizeof k->sk_ai) {
    return -IKE_E_BAD_SYNTAX;
  }
  take(k->sk_d, &r->sk_d, r->sk_d.len);
  take(k->sk_ei, &r->sk_ei, ek);
  take(k->sk_er, &r->sk_er, ek);
  take(k->sk_ai, &r->sk_ai, ak);
  take(k->sk_ar, &r->sk_ar, ak);
  k->d_len = (uint8_t)r->sk_d.len;
  k->e_len = (uint8_t)ek;
  k->a_len = (uint8_t)ak;
  int rc = ike_sk_dir_init(&sa->sk_in, &sa->suite, k->sk_ei, k->sk_ai);
  return rc ? rc : ike_sk_dir_init(&sa->sk_out, &sa->suite, k->sk_er, k->sk_ar);
}

/* One cached message: a single datagram with an IKE header. */
static int dec_msg(const Ikegw__Ckpt__CachedMessage *m, uint8_t **out, size_t *len)
{
  if (m->n_fragments != 1 || m->fragments[0].len <= IKE_HDR_EXCH_OFF ||
      m->fragments[0].len > IKE_MAX_MSG) {
    return -IKE_E_BAD_SYNTAX;
  }
  *out = malloc(m->fragments[0].len);
  if (*out == NULL) {
    return -IKE_E_NOMEM;
  }
  memcpy(*out, m->fragments[0].data, m->fragments[0].len);
  *len = m->fragments[0].len;
  return 0;
}

static int dec_msgs(const Ikegw__Ckpt__IkeSaRecord *r, int64_t off, ike_sa_t *sa)
{
  int rc;
  if (r->last_response != NULL) {
    if ((rc = dec_msg(r->last_response, &sa->rsp, &sa->rsp_len)) != 0) {
      return rc;
    }
    sa->rsp_id = r->last_response->msg_id;
    sa->rsp_update = r->last_response_mobike;
    /* A record without the digest (older writer) answers no retransmission:
     * the peer's next request goes on normally. */
    sa->has_rsp_req_digest = r->last_response->request_digest.len == IKE_REQ_DIGEST_LEN;
    if (sa->has_rsp_req_digest) {
      take(sa->rsp_req_digest, &r->last_response->request_digest, IKE_REQ_DIGEST_LEN);
    }
  }
  if (r->pending_request != NULL) {
    const Ikegw__Ckpt__CachedMessage *q = r->pending_request;
    if (r->pending_request_kind == IKE_REQ_NONE ||
        r->pending_request_kind > IKE_REQ_DELETE_CHILD || q->retransmits > 255) {
      return -IKE_E_BAD_SYNTAX;
    }
    if ((rc = dec_msg(q, &sa->req, &sa->req_len)) != 0) {
      return rc;
    }
    sa->req_id = q->msg_id;
    sa->req_kind = (ike_req_kind_t)r->pending_request_kind;
    sa->req_tries = (uint8_t)q->retransmits;
    sa->req_next_ms = from_wall(q->next_retransmit_at, off);
    if (sa->req_next_ms == 0) {
      sa->req_next_ms = 1; /* a pending request always has a retransmit deadline */
    }
  }
  return 0;
}

static int dec_ts(const Ikegw__Types__TrafficSelector *pb, ike_ts_t *ts)
{
  memset(ts, 0, sizeof *ts);
  if (pb == NULL || pb->ip_proto > 255 || pb->start_port > 0xFFFF ||
      pb->end_port > 0xFFFF || pb->start_port > pb->end_port) {
    return -IKE_E_BAD_SYNTAX;
  }
  int af = strchr(pb->start_addr, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(af, pb->start_addr, ts->start) != 1 ||
      inet_pton(af, pb->end_addr, ts->end) != 1) {
    return -IKE_E_BAD_SYNTAX;
  }
  ts->type = af == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
  ts->ip_proto = (uint8_t)pb->ip_proto;
  ts->start_port = (uint16_t)pb->start_port;
  ts->end_port = (uint16_t)pb->end_port;
  return 0;
}

static int dec_child(const Ikegw__Ckpt__ChildSaRecord *r, int64_t off, ike_child_t *c)
{
  size_t ek, ak;
  memset(c, 0, sizeof *c);
  if (r->in_spi < 256 || r->out_spi == 0 || r->n_local_ts != 1 || r->n_remote_ts != 1 ||
      dec_suite(r->suite, &c->suite) != 0) {
    return -IKE_E_BAD_SYNTAX;
  }
  key_lens(&c->suite, &ek, &ak);
  if (r->enc_key_in.len != ek || r->enc_key_out.len != ek || ek > sizeof c->ek_in ||
      r->integ_key_in.len != ak || r->integ_key_out.len != ak || ak > sizeof c->ak_in ||
      dec_ts(r->local_ts[0], &c->ts_local) != 0 ||
      dec_ts(r->remote_ts[0], &c->ts_remote) != 0) {
    return -IKE_E_BAD_SYNTAX;
  }
  c->spi_in = r->in_spi;
  c->spi_out = r->out_spi;
  take(c->ek_in, &r->enc_key_in, ek);
  take(c->ek_out, &r->enc_key_out, ek);
  take(c->ak_in, &r->integ_key_in, ak);
  take(c->ak_out, &r->integ_key_out, ak);
  c->ek_len = (uint8_t)ek;
  c->ak_len = (uint8_t)ak;
  c->created_ms = from_wall(r->created_at, off);
  c->used = true;
  return 0;
}

static int dec_vips(const Ikegw__Ckpt__IkeSaRecord *r, ike_sa_t *sa)
{
  if (r->n_virtual_ips > 2) {
    return -IKE_E_BAD_SYNTAX;
  }
  for (size_t i = 0; i < r->n_virtual_ips; i++) {
    uint32_t v4;
    if (sa->vip4 == 0 && inet_pton(AF_INET, r->virtual_ips[i], &v4) == 1 && v4 != 0) {
      sa->vip4 = ntohl(v4);
    } else if (!sa->has_vip6 && inet_pton(AF_INET6, r->virtual_ips[i], sa->vip6) == 1) {
      sa->has_vip6 = true;
    } else {
      return -IKE_E_BAD_SYNTAX;
    }
  }
  return 0;
}

/* The held CHILD SA path of a COOKIE2 check in progress: a MOBIKE SA's,
 * of the IKE path's family. */
static int dec_esp_hold(const Ikegw__Ckpt__IkeSaRecord *r, ike_sa_t *sa)
{
  sa->esp_hold = false;
  if (!r->esp_hold) {
    return 0;
  }
  if (!r->mobike || r->esp_local_port > 0xFFFF ||
      r->esp_peer_port > 0xFFFF ||
      ike_addr_parse(r->esp_local_addr, r->esp_local_port, &sa->esp_path.local) != 0 ||
      ike_addr_parse(r->esp_peer_addr, r->esp_peer_port, &sa->esp_path.peer) != 0 ||
      sa->esp_path.local.ss_family != sa->path.local.ss_family ||
      sa->esp_path.peer.ss_family != sa->path.peer.ss_family) {
    return -IKE_E_BAD_SYNTAX;
  }
  sa->esp_hold = true;
  sa->esp_natt = r->esp_natt;
  return 0;
}

/* Identity, template, addresses and flags. */
static int dec_peer(const ike_engine_t *e, const Ikegw__Ckpt__IkeSaRecord *r,
                    ike_sa_t *sa)
{
  unsigned t;
  for (t = 0; t < e->cfg->n_templates; t++) {
    if (strcmp(e->cfg->templates[t].name, r->template_name) == 0) {
      break;
    }
  }
  if (t == e->cfg->n_templates || r->peer_id.len >= sizeof sa->peer_id ||
      (r->peer_id.len > 0 && memchr(r->peer_id.data, 0, r->peer_id.len) != NULL) || r->peer_id_type > 255 ||
      r->peer_sig_hashes > 255 || (r->cookie2.len != 0 && r->cookie2.len != 16) ||
      r->rr_state > 2 || r->local_port > 0xFFFF || r->peer_port > 0xFFFF ||
      ike_addr_parse(r->local_addr, r->local_port, &sa->path.local) != 0 ||
      ike_addr_parse(r->peer_addr, r->peer_port, &sa->path.peer) != 0) {
    return -IKE_E_BAD_SYNTAX;
  }
  sa->tmpl = (uint8_t)t;
  sa->peer_id_type = (uint8_t)r->peer_id_type;
  take(sa->peer_id, &r->peer_id, r->peer_id.len);
  sa->peer_id[r->peer_id.len] = '\0';
  sa->peer_sig_hashes = (uint8_t)r->peer_sig_hashes;
  if (r->peer_id_digest.len != 0 && r->peer_id_digest.len != IKE_ID_DIGEST_LEN) {
    return -IKE_E_BAD_SYNTAX;
  }
  sa->has_id_digest = r->peer_id_digest.len == IKE_ID_DIGEST_LEN;
  if (sa->has_id_digest) {
    take(sa->peer_id_digest, &r->peer_id_digest, IKE_ID_DIGEST_LEN);
  }
  sa->natt = r->natt;
  sa->nat_peer = r->nat_peer;
  sa->nat_local = r->nat_local;
  sa->mobike = r->mobike;
  sa->no_nats_allowed = r->no_nats_allowed;
  if (r->cookie2.len == 16) {
    take(sa->cookie2, &r->cookie2, 16);
  }
  sa->rrc_pending = r->rr_state == 1;
  sa->mobike_updates = r->mobike_updates;
  sa->mobike_last_id = r->mobike_last_msg_id;
  if (dec_esp_hold(r, sa) != 0) {
    return -IKE_E_BAD_SYNTAX;
  }
  return dec_vips(r, sa);
}

static int dec_record(const ike_engine_t *e, const Ikegw__Ckpt__IkeSaRecord *r,
                      int64_t off, ike_sa_t *sa)
{
  if (r->format == 0 || r->format > IKE_CKPT_FORMAT) {
    return -IKE_E_BAD_VERSION; /* a newer writer: refuse rather than half-read */
  }
  if (r->slot != e->slot || r->spi_i == 0 || r->spi_r == 0 ||
      ike_slot_of_spi(r->spi_r) != e->slot || r->we_initiated ||
      (r->state != IKE_SA_ESTABLISHED && r->state != IKE_SA_REKEYED &&
       r->state != IKE_SA_DELETING) ||
      r->n_children > IKE_MAX_CHILD) {
    return -IKE_E_BAD_SYNTAX;
  }
  sa->spi_i = r->spi_i;
  sa->spi_r = r->spi_r;
  sa->state = (ike_sa_state_t)r->state;
  int rc = dec_suite(r->suite, &sa->suite);
  if (rc == 0 && (sa->suite.prf == 0 || sa->suite.prf > 0xFF)) {
    rc = -IKE_E_BAD_SYNTAX;
  }
  if (rc == 0) {
    rc = dec_keys(r, sa);
  }
  if (rc == 0) {
    rc = dec_peer(e, r, sa);
  }
  if (rc == 0) {
    rc = dec_msgs(r, off, sa);
  }
  for (size_t i = 0; rc == 0 && i < r->n_children; i++) {
    rc = dec_child(r->children[i], off, &sa->child[i]);
  }
  sa->our_next_id = r->next_req_msg_id;
  sa->peer_next_id = r->peer_next_msg_id;
  sa->created_ms = from_wall(r->created_at, off);
  sa->last_rx_ms = from_wall(r->last_peer_rx_at, off);
  sa->dpd_next_ms = from_wall(r->dpd_at, off);
  sa->expire_ms = from_wall(r->expire_at, off);
  return rc;
}

int ike_ckpt_decode(const ike_engine_t *e, const uint8_t *rec, size_t len,
                    int64_t wall_off_ms, ike_sa_t *sa)
{
  memset(sa, 0, sizeof *sa);
  Ikegw__Ckpt__IkeSaRecord *r = ikegw__ckpt__ike_sa_record__unpack(&wiping, len, rec);
  if (r == NULL) {
    return -IKE_E_BAD_SYNTAX;
  }
  int rc = dec_record(e, r, wall_off_ms, sa);
  ikegw__ckpt__ike_sa_record__free_unpacked(r, &wiping);
  if (rc != 0) {
    ike_ckpt_sa_clear(sa);
  }
  return rc;
}

void ike_ckpt_sa_clear(ike_sa_t *sa)
{
  if (sa->rsp != NULL) {
    ike_wipe(sa->rsp, sa->rsp_len);
    free(sa->rsp);
  }
  free(sa->req);
  ike_wipe(sa, sizeof *sa);
}

/* --- the engine's checkpoint API (ike_engine.h) --- */

void ike_engine_set_checkpointing(ike_engine_t *e, bool on)
{
  e->ckpt_on = on;
}

size_t ike_engine_dirty_count(const ike_engine_t *e)
{
  return e->n_dirty + e->n_gone;
}

int ike_engine_foreach_dirty(ike_engine_t *e, int64_t wall_off_ms,
                             int (*fn)(void *arg, uint64_t spi, const uint8_t *rec,
                                       size_t len),
                             void *arg)
{
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < e->n_gone; i++) {
    rc = fn(arg, e->gone[i], NULL, 0);
  }
  for (size_t i = 0; rc == 0 && i < e->n_dirty; i++) {
    const ike_sa_t *sa = e->dirty[i];
    size_t len = 0;
    if (!ike_sa_storable(sa)) {
      continue;
    }
    if (ike_ckpt_encode(e, sa, wall_off_ms, &e->ckpt_buf, &e->ckpt_cap, &len) != 0) {
      IKE_STAT(e, fail_internal); /* memory: retried at the next commit */
      return -IKE_E_NOMEM;
    }
    rc = fn(arg, sa->spi_r, e->ckpt_buf, len);
    ike_wipe(e->ckpt_buf, len);
  }
  return rc;
}

void ike_engine_take_dirty(ike_engine_t *e, bool committed, uint64_t commit_us)
{
  size_t written = 0;
  for (size_t i = 0; i < e->n_dirty; i++) {
    ike_sa_t *sa = e->dirty[i];
    sa->dirty_idx = 0;
    if (ike_sa_storable(sa)) {
      sa->stored = true;
      written++;
    }
  }
  if (committed) {
    IKE_STAT(e, ckpt_commits);
    e->stats.ckpt_records_written += written;
    e->stats.ckpt_records_deleted += e->n_gone;
    e->stats.ckpt_commit_us += commit_us;
  }
  e->n_dirty = 0;
  e->n_gone = 0;
}

void ike_engine_count_ckpt_failure(ike_engine_t *e)
{
  IKE_STAT(e, fail_checkpoint);
}

/* Pools and counters of a restored SA. */
static void restore_account(ike_engine_t *e, ike_sa_t *sa)
{
  const ike_cfg_template_t *t = ike_sa_tmpl(e, sa);
  if (sa->vip4 != 0 && ike_pool_claim(e, t, sa->vip4) != 0) {
    IKE_LOG_WARN("SPI %016llx: restored virtual IP is not in this worker's pool "
                 "(configuration changed?); kept for the session",
                 (unsigned long long)sa->spi_r);
  }
  if (sa->has_vip6 && ike_pool_claim6(e, t, sa->vip6) != 0) {
    IKE_LOG_WARN("SPI %016llx: restored virtual IPv6 is not in this worker's pool",
                 (unsigned long long)sa->spi_r);
  }
  if (sa->state != IKE_SA_REKEYED) {
    IKE_STAT(e, ike_sa_current); /* as ike_sa_destroy counts it down */
  }
  for (int i = 0; i < IKE_MAX_CHILD; i++) {
    if (sa->child[i].used) {
      IKE_STAT(e, child_sa_current);
      ike_u32set_add(&e->child_spis, sa->child[i].spi_in); /* never handed out again */
    }
  }
  if (sa->rekey_new_in != 0) {
    ike_u32set_add(&e->child_spis, sa->rekey_new_in);
  }
  IKE_STAT(e, ckpt_restored);
}

int ike_engine_restore_sa(ike_engine_t *e, const uint8_t *rec, size_t len,
                          int64_t wall_off_ms)
{
  ike_sa_t *sa = malloc(sizeof *sa);
  if (sa == NULL) {
    return -IKE_E_NOMEM;
  }
  int rc = ike_ckpt_decode(e, rec, len, wall_off_ms, sa);
  if (rc == 0) {
    rc = ike_sa_insert(e, sa);
    if (rc != 0) {
      ike_ckpt_sa_clear(sa);
    }
  }
  if (rc != 0) {
    free(sa);
    return rc;
  }
  restore_account(e, sa);
  sa->stored = true;
  ike_timer_schedule(e, sa);
  ike_sa_mark_clean(e, sa); /* the record is what we just read */
  IKE_LOG_DEBUG("SPI %016llx: restored (%s, peer %s)", (unsigned long long)sa->spi_r,
                ike_sa_state_name(sa->state), sa->peer_id);
  return 0;
}
