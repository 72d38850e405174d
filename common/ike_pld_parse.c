/*
 * ike_pld_parse.c - IKE header, payload chain and payload body parsers
 * (RFC 7296 section 3, RFC 7383 2.5).
 *
 * Every parser validates before it decodes: remaining >= fixed part,
 * declared length >= fixed part, declared length <= remaining, and every
 * sub-structure consistent with its parent. Conventions for errors:
 *   -IKE_E_TRUNC       a chain or a fixed field runs off the end of the input
 *   -IKE_E_BAD_LENGTH  a length field (or a payload body) is too small, too
 *                      large, or leaves bytes over
 *   -IKE_E_BAD_SYNTAX  a field holds a value RFC 7296 does not allow there
 *   -IKE_E_TOO_MANY    more sub-structures than our IKE_MAX_* bounds
 * All reads go through ike_rd_*; once a fixed-part length check passed, the
 * reads inside it cannot fail, but their return codes are still checked.
 */
#include <string.h>

#include "ike_pld.h"

/* Return the error of an expression when it is negative. */
#define TRY(expr)          \
  do {                     \
    int try_rc_ = (expr);  \
    if (try_rc_ < 0) {     \
      return try_rc_;      \
    }                      \
  } while (0)

/* ------------------------------------------------------------------ */
/* Header and chain                                                    */
/* ------------------------------------------------------------------ */

int ike_hdr_parse(const uint8_t *buf, size_t len, ike_hdr_t *h)
{
  ike_rd_t r;

  if (buf == NULL || len < IKE_HDR_LEN) {
    return -IKE_E_TRUNC;
  }
  ike_rd_init(&r, buf, len);
  TRY(ike_rd_u64(&r, &h->spi_i));
  TRY(ike_rd_u64(&r, &h->spi_r));
  TRY(ike_rd_u8(&r, &h->next_payload));
  TRY(ike_rd_u8(&r, &h->version));
  TRY(ike_rd_u8(&r, &h->exchange));
  TRY(ike_rd_u8(&r, &h->flags));
  TRY(ike_rd_u32(&r, &h->msg_id));
  TRY(ike_rd_u32(&r, &h->length));
  /* RFC 7296 2.5: the major version decides how the rest is read, so a
   * different major version is reported before we trust its length. */
  if ((h->version >> 4) != IKE_MAJOR_VERSION) {
    return -IKE_E_BAD_VERSION;
  }
  /* Length is the whole message; a datagram may carry more bytes than the
   * message (they are ignored), never fewer. */
  if (h->length < IKE_HDR_LEN || h->length > len) {
    return -IKE_E_BAD_LENGTH;
  }
  return 0;
}

/* Payload types of IKE_PAYLOAD_MAP (NONE is not a payload). */
static bool pld_type_known(uint8_t t)
{
  switch (t) {
#define X(n, v) case v:
    IKE_PAYLOAD_MAP(X)
#undef X
    return t != IKE_PLD_NONE;
  default:
    return false;
  }
}

/* Read one generic payload header at r and fill p (RFC 7296 3.2). */
static int chain_one(ike_rd_t *r, uint8_t type, size_t base_off, ike_pld_t *p,
                     uint8_t *bad_type)
{
  size_t start = r->off;
  uint8_t next, flags;
  uint16_t plen;
  const uint8_t *body;

  if (ike_rd_left(r) < IKE_PLD_HDR_LEN) {
    return -IKE_E_TRUNC; /* Next Payload promised a payload that is not there */
  }
  TRY(ike_rd_u8(r, &next));
  TRY(ike_rd_u8(r, &flags));
  TRY(ike_rd_u16(r, &plen));
  if (plen < IKE_PLD_HDR_LEN || plen - IKE_PLD_HDR_LEN > ike_rd_left(r)) {
    return -IKE_E_BAD_LENGTH;
  }
  if (base_off > UINT16_MAX || start > UINT16_MAX - base_off) {
    return -IKE_E_BAD_LENGTH; /* offset does not fit ike_pld_t.off */
  }
  /* RFC 7296 2.5: an unknown payload is skipped unless critical. */
  if (!pld_type_known(type) && (flags & IKE_PLD_CRITICAL) != 0) {
    if (bad_type != NULL) {
      *bad_type = type;
    }
    return -IKE_E_UNSUPPORTED_CRITICAL;
  }
  TRY(ike_rd_ptr(r, plen - IKE_PLD_HDR_LEN, &body));
  p->type = type;
  p->critical = (flags & IKE_PLD_CRITICAL) != 0;
  p->next = next;
  p->off = (uint16_t)(base_off + start);
  p->body = body;
  p->body_len = (uint16_t)(plen - IKE_PLD_HDR_LEN);
  return 0;
}

int ike_chain_parse(uint8_t first, const uint8_t *buf, size_t len,
                    size_t base_off, ike_chain_t *c, uint8_t *bad_type)
{
  ike_rd_t r;
  uint8_t type = first;

  c->n = 0;
  ike_rd_init(&r, buf, len);
  while (type != IKE_PLD_NONE) {
    if (c->n >= IKE_MAX_PAYLOADS) {
      return -IKE_E_TOO_MANY;
    }
    ike_pld_t *p = &c->pld[c->n];
    TRY(chain_one(&r, type, base_off, p, bad_type));
    c->n++;
    if (type == IKE_PLD_SK || type == IKE_PLD_SKF) {
      /* RFC 7296 3.14 / RFC 7383 2.5: SK(F) is last and its Next Payload
       * names the first inner payload, so the walk ends here. */
      break;
    }
    type = p->next;
  }
  if (ike_rd_left(&r) != 0) {
    return -IKE_E_BAD_LENGTH; /* bytes after the last payload */
  }
  return 0;
}

int ike_msg_parse(const uint8_t *msg, size_t len, ike_hdr_t *h, ike_chain_t *c,
                  uint8_t *bad_type)
{
  c->n = 0;
  TRY(ike_hdr_parse(msg, len, h));
  return ike_chain_parse(h->next_payload, msg + IKE_HDR_LEN,
                         h->length - IKE_HDR_LEN, IKE_HDR_LEN, c, bad_type);
}

const ike_pld_t *ike_chain_find(const ike_chain_t *c, uint8_t type)
{
  for (unsigned i = 0; i < c->n && i < IKE_MAX_PAYLOADS; i++) {
    if (c->pld[i].type == type) {
      return &c->pld[i];
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* SA payload (RFC 7296 3.3)                                           */
/* ------------------------------------------------------------------ */

#define SA_PROP_HDR_LEN  8u /* last, reserved, length, num, proto, spi size, #t */
#define SA_TRANS_HDR_LEN 8u /* last, reserved, length, type, reserved, id */
#define SA_LAST_PROP     0u /* Last Substruc: this is the last proposal */
#define SA_MORE_PROP     2u /* Last Substruc: another proposal follows */
#define SA_MORE_TRANS    3u /* Last Substruc: another transform follows */
#define SA_LAST_TRANS    0u /* Last Substruc: this is the last transform */

/* Transform attributes (RFC 7296 3.3.5). Only Key Length is defined; it is
 * TV. Any other attribute is counted: the proposal must then be rejected. */
static int sa_attrs(ike_rd_t *r, ike_transform_t *t)
{
  while (ike_rd_left(r) > 0) {
    uint16_t af_type, lv;
    const uint8_t *val;

    if (ike_rd_left(r) < 4) {
      return -IKE_E_BAD_LENGTH;
    }
    TRY(ike_rd_u16(r, &af_type));
    TRY(ike_rd_u16(r, &lv));
    bool tv = (af_type & IKE_ATTR_TV_BIT) != 0;
    uint16_t atype = af_type & (uint16_t)~IKE_ATTR_TV_BIT;
    if (!tv) {
      if (ike_rd_ptr(r, lv, &val) < 0) {
        return -IKE_E_BAD_LENGTH; /* TLV value longer than the transform */
      }
    }
    if (atype == IKE_ATTR_KEY_LENGTH) {
      if (!tv || lv == 0 || t->key_len != 0) {
        return -IKE_E_BAD_SYNTAX; /* must be TV, non-zero, once */
      }
      t->key_len = lv;
    } else if (t->n_unknown_attrs < UINT8_MAX) {
      t->n_unknown_attrs++;
    }
  }
  return 0;
}

/* One transform; is_last says whether the count says it is the last one. */
static int sa_transform(ike_rd_t *r, bool is_last, ike_transform_t *t)
{
  uint8_t last, rsv, type, rsv2;
  uint16_t tlen, id;
  ike_rd_t attrs;

  if (ike_rd_left(r) < SA_TRANS_HDR_LEN) {
    return -IKE_E_BAD_LENGTH; /* proposal length too small for #transforms */
  }
  TRY(ike_rd_u8(r, &last));
  TRY(ike_rd_u8(r, &rsv));
  TRY(ike_rd_u16(r, &tlen));
  if (tlen < SA_TRANS_HDR_LEN || tlen - 4u > ike_rd_left(r)) {
    return -IKE_E_BAD_LENGTH;
  }
  if (last != (is_last ? SA_LAST_TRANS : SA_MORE_TRANS)) {
    return -IKE_E_BAD_SYNTAX;
  }
  TRY(ike_rd_u8(r, &type));
  TRY(ike_rd_u8(r, &rsv2));
  TRY(ike_rd_u16(r, &id));
  TRY(ike_rd_sub(r, tlen - SA_TRANS_HDR_LEN, &attrs));
  memset(t, 0, sizeof(*t));
  t->type = type;
  t->id = id;
  return sa_attrs(&attrs, t);
}

/* Proposal numbering (RFC 7296 3.3.1): an offer numbers its proposals 1, 2,
 * ...; an answer holds one proposal carrying the number of the accepted one.
 * So: numbers are consecutive, and start at 1 unless there is one proposal. */
static int sa_proposal(ike_rd_t *r, unsigned idx, uint8_t first_num,
                       ike_proposal_t *p)
{
  uint8_t last, rsv, ntrans;
  uint16_t plen;
  ike_rd_t body;

  if (ike_rd_left(r) < SA_PROP_HDR_LEN) {
    return -IKE_E_BAD_LENGTH;
  }
  TRY(ike_rd_u8(r, &last));
  TRY(ike_rd_u8(r, &rsv));
  TRY(ike_rd_u16(r, &plen));
  if (plen < SA_PROP_HDR_LEN || plen - 4u > ike_rd_left(r)) {
    return -IKE_E_BAD_LENGTH;
  }
  TRY(ike_rd_sub(r, plen - 4u, &body));
  TRY(ike_rd_u8(&body, &p->num));
  TRY(ike_rd_u8(&body, &p->protocol));
  TRY(ike_rd_u8(&body, &p->spi_len));
  TRY(ike_rd_u8(&body, &ntrans));
  if (p->num == 0 || (idx == 0 && p->num != 1 && ike_rd_left(r) != 0) ||
      (idx > 0 && p->num != (unsigned)first_num + idx)) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (p->protocol < IKE_PROTO_IKE || p->protocol > IKE_PROTO_ESP) {
    return -IKE_E_BAD_SYNTAX;
  }
  /* SPI size: IKE 0 (IKE_SA_INIT) or 8 (rekey), AH/ESP 4 (3.3.1). */
  if (p->protocol == IKE_PROTO_IKE ? (p->spi_len != 0 && p->spi_len != 8)
                                   : p->spi_len != 4) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (ike_rd_copy(&body, p->spi, p->spi_len) < 0) {
    return -IKE_E_BAD_LENGTH;
  }
  if (ntrans > IKE_MAX_TRANSFORMS) {
    return -IKE_E_TOO_MANY;
  }
  p->n_transforms = ntrans;
  for (unsigned i = 0; i < ntrans; i++) {
    TRY(sa_transform(&body, i + 1 == ntrans, &p->t[i]));
  }
  if (ike_rd_left(&body) != 0) {
    return -IKE_E_BAD_LENGTH; /* proposal longer than its transforms */
  }
  /* Last Substruc must agree with whether bytes follow this proposal
   * (checked after the lengths, so a wrong length reads as a length error). */
  if (last != (ike_rd_left(r) == 0 ? SA_LAST_PROP : SA_MORE_PROP)) {
    return -IKE_E_BAD_SYNTAX;
  }
  return 0;
}

int ike_pld_sa(const ike_pld_t *p, ike_sa_pld_t *out)
{
  ike_rd_t r;

  out->n = 0;
  if (p->body_len == 0) {
    return -IKE_E_BAD_LENGTH; /* an SA payload holds at least one proposal */
  }
  ike_rd_init(&r, p->body, p->body_len);
  while (ike_rd_left(&r) > 0) {
    if (out->n >= IKE_MAX_PROPOSALS) {
      return -IKE_E_TOO_MANY;
    }
    uint8_t first = out->n > 0 ? out->p[0].num : 0;
    TRY(sa_proposal(&r, out->n, first, &out->p[out->n]));
    out->n++;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Simple payloads                                                     */
/* ------------------------------------------------------------------ */

/* Rest of the reader as (data, len); len fits u16 because bodies do. */
static void rd_rest(ike_rd_t *r, const uint8_t **data, uint16_t *len)
{
  size_t n = ike_rd_left(r);
  *len = (uint16_t)n;
  *data = r->p + r->off;
  r->off = r->len;
}

int ike_pld_ke(const ike_pld_t *p, ike_ke_pld_t *out)
{
  ike_rd_t r;
  uint16_t rsv;

  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* group + reserved (3.4) */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u16(&r, &out->group));
  TRY(ike_rd_u16(&r, &rsv));
  rd_rest(&r, &out->data, &out->len);
  return 0;
}

int ike_pld_id(const ike_pld_t *p, ike_id_pld_t *out)
{
  ike_rd_t r;

  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* type + 3 reserved (3.5) */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u8(&r, &out->type));
  TRY(ike_rd_skip(&r, 3));
  rd_rest(&r, &out->data, &out->len);
  out->body = p->body;
  out->body_len = p->body_len;
  return 0;
}

int ike_pld_cert(const ike_pld_t *p, ike_cert_pld_t *out)
{
  ike_rd_t r;

  if (p->body_len < 1) {
    return -IKE_E_BAD_LENGTH; /* encoding (3.6, 3.7) */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u8(&r, &out->encoding));
  rd_rest(&r, &out->data, &out->len);
  return 0;
}

int ike_pld_auth(const ike_pld_t *p, ike_auth_pld_t *out)
{
  ike_rd_t r;

  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* method + 3 reserved (3.8) */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u8(&r, &out->method));
  TRY(ike_rd_skip(&r, 3));
  rd_rest(&r, &out->data, &out->len);
  return 0;
}

int ike_pld_nonce(const ike_pld_t *p, ike_nonce_pld_t *out)
{
  /* RFC 7296 3.9: the nonce is 16..256 octets. */
  if (p->body_len < 16 || p->body_len > 256) {
    return -IKE_E_BAD_SYNTAX;
  }
  out->data = p->body;
  out->len = p->body_len;
  return 0;
}

int ike_pld_notify(const ike_pld_t *p, ike_notify_pld_t *out)
{
  ike_rd_t r;

  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* proto, spi size, type (3.10) */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u8(&r, &out->protocol));
  TRY(ike_rd_u8(&r, &out->spi_len));
  TRY(ike_rd_u16(&r, &out->type));
  if (out->spi_len > IKE_MAX_SPI_LEN) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (ike_rd_copy(&r, out->spi, out->spi_len) < 0) {
    return -IKE_E_BAD_LENGTH;
  }
  rd_rest(&r, &out->data, &out->len);
  return 0;
}

int ike_pld_delete(const ike_pld_t *p, ike_delete_pld_t *out)
{
  ike_rd_t r;

  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* proto, spi size, #spis (3.11) */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u8(&r, &out->protocol));
  TRY(ike_rd_u8(&r, &out->spi_len));
  TRY(ike_rd_u16(&r, &out->n_spis));
  if (out->protocol < IKE_PROTO_IKE || out->protocol > IKE_PROTO_ESP) {
    return -IKE_E_BAD_SYNTAX;
  }
  /* SPI size MUST be zero for IKE (SPIs are in the header), four for AH/ESP. */
  if (out->spi_len != (out->protocol == IKE_PROTO_IKE ? 0u : 4u)) {
    return -IKE_E_BAD_SYNTAX;
  }
  /* size_t product of two small numbers: cannot overflow. */
  if ((size_t)out->spi_len * out->n_spis != ike_rd_left(&r)) {
    return -IKE_E_BAD_LENGTH;
  }
  for (unsigned i = 0; i < out->n_spis && out->spi_len == 4; i++) {
    uint32_t spi;
    TRY(ike_rd_u32(&r, &spi));
    if (i < IKE_MAX_DEL_SPIS) {
      out->spi[i] = spi;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Traffic selectors (3.13), CP (3.15), EAP (3.16), SKF (RFC 7383 2.5)  */
/* ------------------------------------------------------------------ */

static int ts_one(ike_rd_t *r, ike_ts_t *t)
{
  uint16_t slen;
  size_t alen;

  if (ike_rd_left(r) < 4) {
    return -IKE_E_BAD_LENGTH; /* Number of TSs larger than the payload */
  }
  TRY(ike_rd_u8(r, &t->type));
  TRY(ike_rd_u8(r, &t->ip_proto));
  TRY(ike_rd_u16(r, &slen));
  if (t->type == IKE_TS_IPV4_ADDR_RANGE) {
    alen = 4;
  } else if (t->type == IKE_TS_IPV6_ADDR_RANGE) {
    alen = 16;
  } else {
    return -IKE_E_BAD_SYNTAX;
  }
  /* Selector Length covers the whole selector: 8 + 2 addresses. */
  if (slen != 8 + 2 * alen || slen - 4u > ike_rd_left(r)) {
    return -IKE_E_BAD_LENGTH;
  }
  TRY(ike_rd_u16(r, &t->start_port));
  TRY(ike_rd_u16(r, &t->end_port));
  memset(t->start, 0, sizeof(t->start));
  memset(t->end, 0, sizeof(t->end));
  TRY(ike_rd_copy(r, t->start, alen));
  TRY(ike_rd_copy(r, t->end, alen));
  return 0;
}

int ike_pld_ts(const ike_pld_t *p, ike_ts_pld_t *out)
{
  ike_rd_t r;

  out->n = 0;
  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* #TSs + 3 reserved */
  }
  ike_rd_init(&r, p->body, p->body_len);
  uint8_t n;
  TRY(ike_rd_u8(&r, &n));
  TRY(ike_rd_skip(&r, 3));
  if (n == 0) {
    return -IKE_E_BAD_SYNTAX;
  }
  if (n > IKE_MAX_TS) {
    return -IKE_E_TOO_MANY;
  }
  for (unsigned i = 0; i < n; i++) {
    TRY(ts_one(&r, &out->ts[i]));
  }
  if (ike_rd_left(&r) != 0) {
    return -IKE_E_BAD_LENGTH; /* bytes after the declared selectors */
  }
  out->n = n;
  return 0;
}

int ike_pld_cp(const ike_pld_t *p, ike_cp_pld_t *out)
{
  ike_rd_t r;

  out->n = 0;
  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* CFG type + 3 reserved */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u8(&r, &out->cfg_type));
  TRY(ike_rd_skip(&r, 3));
  if (out->cfg_type < IKE_CFG_REQUEST || out->cfg_type > IKE_CFG_ACK) {
    return -IKE_E_BAD_SYNTAX;
  }
  while (ike_rd_left(&r) > 0) {
    uint16_t type, len;

    if (out->n >= IKE_MAX_CP_ATTRS) {
      return -IKE_E_TOO_MANY;
    }
    if (ike_rd_left(&r) < 4) {
      return -IKE_E_BAD_LENGTH;
    }
    TRY(ike_rd_u16(&r, &type));
    TRY(ike_rd_u16(&r, &len));
    ike_cp_attr_t *a = &out->a[out->n];
    if (ike_rd_ptr(&r, len, &a->value) < 0) {
      return -IKE_E_BAD_LENGTH;
    }
    a->type = type & 0x7fffu; /* R bit is reserved (3.15.1) */
    a->len = len;
    out->n++;
  }
  return 0;
}

int ike_pld_eap(const ike_pld_t *p, ike_eap_pld_t *out)
{
  ike_rd_t r;

  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* code, identifier, length (RFC 3748 4) */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u8(&r, &out->code));
  TRY(ike_rd_u8(&r, &out->identifier));
  TRY(ike_rd_u16(&r, &out->length));
  if (out->length != p->body_len) {
    return -IKE_E_BAD_LENGTH;
  }
  out->type = 0;
  out->data = NULL;
  out->len = 0;
  switch (out->code) {
  case 1: /* Request */
  case 2: /* Response */
    if (ike_rd_u8(&r, &out->type) < 0) {
      return -IKE_E_BAD_LENGTH;
    }
    rd_rest(&r, &out->data, &out->len);
    return 0;
  case 3: /* Success */
  case 4: /* Failure: no data (RFC 3748 4.2) */
    return out->length == 4 ? 0 : -IKE_E_BAD_LENGTH;
  default:
    return -IKE_E_BAD_SYNTAX;
  }
}

int ike_pld_skf(const ike_pld_t *p, ike_skf_pld_t *out)
{
  ike_rd_t r;

  if (p->body_len < 4) {
    return -IKE_E_BAD_LENGTH; /* Fragment Number + Total Fragments */
  }
  ike_rd_init(&r, p->body, p->body_len);
  TRY(ike_rd_u16(&r, &out->frag_num));
  TRY(ike_rd_u16(&r, &out->total));
  /* RFC 7383 2.5: numbers start at 1; Total Fragments >= Fragment Number. */
  if (out->total == 0 || out->frag_num == 0 || out->frag_num > out->total) {
    return -IKE_E_BAD_SYNTAX;
  }
  rd_rest(&r, &out->data, &out->len);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Whole-chain validation                                              */
/* ------------------------------------------------------------------ */

int ike_pld_check(const ike_pld_t *p)
{
  union {
    ike_sa_pld_t sa;
    ike_ke_pld_t ke;
    ike_id_pld_t id;
    ike_cert_pld_t cert;
    ike_auth_pld_t auth;
    ike_nonce_pld_t nonce;
    ike_notify_pld_t notify;
    ike_delete_pld_t del;
    ike_ts_pld_t ts;
    ike_cp_pld_t cp;
    ike_eap_pld_t eap;
    ike_skf_pld_t skf;
  } u;

  switch (p->type) {
  case IKE_PLD_SA:
    return ike_pld_sa(p, &u.sa);
  case IKE_PLD_KE:
    return ike_pld_ke(p, &u.ke);
  case IKE_PLD_IDI:
  case IKE_PLD_IDR:
    return ike_pld_id(p, &u.id);
  case IKE_PLD_CERT:
  case IKE_PLD_CERTREQ:
    return ike_pld_cert(p, &u.cert);
  case IKE_PLD_AUTH:
    return ike_pld_auth(p, &u.auth);
  case IKE_PLD_NONCE:
    return ike_pld_nonce(p, &u.nonce);
  case IKE_PLD_NOTIFY:
    return ike_pld_notify(p, &u.notify);
  case IKE_PLD_DELETE:
    return ike_pld_delete(p, &u.del);
  case IKE_PLD_TSI:
  case IKE_PLD_TSR:
    return ike_pld_ts(p, &u.ts);
  case IKE_PLD_CP:
    return ike_pld_cp(p, &u.cp);
  case IKE_PLD_EAP:
    return ike_pld_eap(p, &u.eap);
  case IKE_PLD_SKF:
    return ike_pld_skf(p, &u.skf);
  default:
    return 0; /* Vendor ID, SK and unknown non-critical payloads are opaque */
  }
}

int ike_chain_check(const ike_chain_t *c, unsigned *bad_idx)
{
  for (unsigned i = 0; i < c->n && i < IKE_MAX_PAYLOADS; i++) {
    int rc = ike_pld_check(&c->pld[i]);
    if (rc < 0) {
      if (bad_idx != NULL) {
        *bad_idx = i;
      }
      return rc;
    }
  }
  return 0;
}
