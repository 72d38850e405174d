/*
 * ike_pld_build.c - IKE header and payload builders (RFC 7296 section 3,
 * RFC 7383 2.5).
 *
 * A builder never checks space itself: the writer's sticky error swallows
 * every put after the first that did not fit, and ike_mb_finish reports it.
 * ike_mb_begin links each payload into the chain by patching the Next
 * Payload byte of the previous payload (or of the IKE header).
 */
#include <string.h>

#include "ike_pld.h"

#define MB_NO_LINK SIZE_MAX /* np_off before the first payload of an inner chain */

void ike_hdr_write(ike_wr_t *w, const ike_hdr_t *h)
{
  ike_wr_u64(w, h->spi_i);
  ike_wr_u64(w, h->spi_r);
  ike_wr_u8(w, h->next_payload);
  ike_wr_u8(w, h->version);
  ike_wr_u8(w, h->exchange);
  ike_wr_u8(w, h->flags);
  ike_wr_u32(w, h->msg_id);
  ike_wr_u32(w, h->length);
}

void ike_mb_init(ike_mb_t *mb, uint8_t *buf, size_t cap, const ike_hdr_t *h)
{
  ike_hdr_t hh = *h;

  ike_wr_init(&mb->w, buf, cap);
  hh.next_payload = IKE_PLD_NONE; /* patched by the first ike_mb_begin */
  mb->hdr_off = mb->w.len;
  mb->np_off = mb->w.len + 16;    /* Next Payload byte of the header */
  mb->first_type = IKE_PLD_NONE;
  mb->last_type = IKE_PLD_NONE;
  ike_hdr_write(&mb->w, &hh);
}

void ike_mb_init_inner(ike_mb_t *mb, uint8_t *buf, size_t cap)
{
  ike_wr_init(&mb->w, buf, cap);
  mb->hdr_off = SIZE_MAX;
  mb->np_off = MB_NO_LINK;
  mb->first_type = IKE_PLD_NONE;
  mb->last_type = IKE_PLD_NONE;
}

size_t ike_mb_begin(ike_mb_t *mb, uint8_t type, bool critical)
{
  size_t off = mb->w.len;

  if (mb->w.err != 0) {
    return off;
  }
  if (mb->last_type == IKE_PLD_SK || mb->last_type == IKE_PLD_SKF) {
    mb->w.err = -IKE_E_BAD_SYNTAX; /* SK/SKF must be the last payload */
    return off;
  }
  if (mb->np_off == MB_NO_LINK) {
    mb->first_type = type;
  } else if (mb->np_off < mb->w.len) {
    mb->w.p[mb->np_off] = type;
  }
  ike_wr_u8(&mb->w, IKE_PLD_NONE); /* Next Payload, patched by the next begin */
  ike_wr_u8(&mb->w, critical ? IKE_PLD_CRITICAL : 0);
  ike_wr_u16(&mb->w, IKE_PLD_HDR_LEN); /* patched by ike_mb_end */
  if (mb->w.err == 0) {
    mb->np_off = off;
    mb->last_type = type;
  }
  return off;
}

void ike_mb_end(ike_mb_t *mb, size_t off)
{
  if (mb->w.err != 0) {
    return;
  }
  if (off > mb->w.len || mb->w.len - off > UINT16_MAX) {
    mb->w.err = -IKE_E_BAD_LENGTH; /* payload does not fit its length field */
    return;
  }
  ike_wr_put16_at(&mb->w, off + 2, (uint16_t)(mb->w.len - off));
}

int ike_mb_finish(ike_mb_t *mb, uint8_t *first_type)
{
  if (mb->w.err != 0) {
    return mb->w.err;
  }
  if (mb->hdr_off == SIZE_MAX) {
    if (mb->w.len > INT32_MAX) {
      return -IKE_E_BAD_LENGTH;
    }
    if (first_type != NULL) {
      *first_type = mb->first_type;
    }
    return (int)mb->w.len;
  }
  size_t total = mb->w.len - mb->hdr_off;
  if (total > INT32_MAX) {
    return -IKE_E_BAD_LENGTH;
  }
  ike_wr_put32_at(&mb->w, mb->hdr_off + 24, (uint32_t)total);
  if (mb->w.err != 0) {
    return mb->w.err;
  }
  if (first_type != NULL) {
    *first_type = mb->w.p[mb->hdr_off + 16];
  }
  return (int)total;
}

/* ------------------------------------------------------------------ */
/* SA (3.3)                                                            */
/* ------------------------------------------------------------------ */

static void put_transform(ike_wr_t *w, const ike_transform_t *t, bool last)
{
  size_t off = w->len;

  ike_wr_u8(w, last ? 0 : 3); /* Last Substruc */
  ike_wr_u8(w, 0);
  ike_wr_u16(w, 0);           /* Transform Length, patched below */
  ike_wr_u8(w, t->type);
  ike_wr_u8(w, 0);
  ike_wr_u16(w, t->id);
  if (t->key_len != 0) {
    ike_wr_u16(w, (uint16_t)(IKE_ATTR_TV_BIT | IKE_ATTR_KEY_LENGTH));
    ike_wr_u16(w, t->key_len);
  }
  ike_wr_put16_at(w, off + 2, (uint16_t)(w->len - off));
}

static void put_proposal(ike_wr_t *w, const ike_proposal_t *p, uint8_t num,
                         bool last)
{
  size_t off = w->len;
  unsigned nt = p->n_transforms <= IKE_MAX_TRANSFORMS ? p->n_transforms
                                                      : IKE_MAX_TRANSFORMS;
  uint8_t spi_len = p->spi_len <= IKE_MAX_SPI_LEN ? p->spi_len : 0;

  ike_wr_u8(w, last ? 0 : 2); /* Last Substruc */
  ike_wr_u8(w, 0);
  ike_wr_u16(w, 0);           /* Proposal Length, patched below */
  ike_wr_u8(w, num);
  ike_wr_u8(w, p->protocol);
  ike_wr_u8(w, spi_len);
  ike_wr_u8(w, (uint8_t)nt);
  ike_wr_bytes(w, p->spi, spi_len);
  for (unsigned i = 0; i < nt; i++) {
    put_transform(w, &p->t[i], i + 1 == nt);
  }
  ike_wr_put16_at(w, off + 2, (uint16_t)(w->len - off));
}

void ike_put_sa(ike_mb_t *mb, const ike_sa_pld_t *sa)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_SA, false);
  unsigned n = sa->n <= IKE_MAX_PROPOSALS ? sa->n : IKE_MAX_PROPOSALS;

  for (unsigned i = 0; i < n; i++) {
    /* Proposal Num 0 is not valid (3.3.1): treat it as "number them 1, 2..". */
    uint8_t num = sa->p[i].num != 0 ? sa->p[i].num : (uint8_t)(i + 1);
    put_proposal(&mb->w, &sa->p[i], num, i + 1 == n);
  }
  ike_mb_end(mb, off);
}

/* ------------------------------------------------------------------ */
/* Simple payloads                                                     */
/* ------------------------------------------------------------------ */

void ike_put_ke(ike_mb_t *mb, uint16_t group, const uint8_t *data, size_t len)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_KE, false);

  ike_wr_u16(&mb->w, group);
  ike_wr_u16(&mb->w, 0);
  ike_wr_bytes(&mb->w, data, len);
  ike_mb_end(mb, off);
}

/* Type octet + 3 reserved + data: shared by ID, AUTH. */
static void put_t3(ike_mb_t *mb, uint8_t pld, uint8_t t, const uint8_t *data,
                   size_t len)
{
  size_t off = ike_mb_begin(mb, pld, false);

  ike_wr_u8(&mb->w, t);
  ike_wr_bytes(&mb->w, NULL, 3);
  ike_wr_bytes(&mb->w, data, len);
  ike_mb_end(mb, off);
}

void ike_put_id(ike_mb_t *mb, uint8_t pld_type, uint8_t id_type,
                const uint8_t *data, size_t len)
{
  put_t3(mb, pld_type, id_type, data, len);
}

void ike_put_auth(ike_mb_t *mb, uint8_t method, const uint8_t *data, size_t len)
{
  put_t3(mb, IKE_PLD_AUTH, method, data, len);
}

void ike_put_cert(ike_mb_t *mb, uint8_t pld_type, uint8_t encoding,
                  const uint8_t *data, size_t len)
{
  size_t off = ike_mb_begin(mb, pld_type, false);

  ike_wr_u8(&mb->w, encoding);
  ike_wr_bytes(&mb->w, data, len);
  ike_mb_end(mb, off);
}

void ike_put_nonce(ike_mb_t *mb, const uint8_t *data, size_t len)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_NONCE, false);

  ike_wr_bytes(&mb->w, data, len);
  ike_mb_end(mb, off);
}

void ike_put_notify(ike_mb_t *mb, uint8_t protocol, const uint8_t *spi,
                    uint8_t spi_len, uint16_t type, const uint8_t *data,
                    size_t len)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_NOTIFY, false);

  if (spi_len > IKE_MAX_SPI_LEN && mb->w.err == 0) {
    mb->w.err = -IKE_E_BAD_SYNTAX;
  }
  ike_wr_u8(&mb->w, protocol);
  ike_wr_u8(&mb->w, spi_len);
  ike_wr_u16(&mb->w, type);
  ike_wr_bytes(&mb->w, spi, spi_len);
  ike_wr_bytes(&mb->w, data, len);
  ike_mb_end(mb, off);
}

void ike_put_delete(ike_mb_t *mb, uint8_t protocol, uint8_t spi_len,
                    const uint32_t *spis, uint16_t n)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_DELETE, false);

  /* Only the two sizes RFC 7296 3.11 allows: 0 (IKE) and 4 (AH/ESP). */
  if (spi_len != 0 && spi_len != 4 && mb->w.err == 0) {
    mb->w.err = -IKE_E_BAD_SYNTAX;
  }
  ike_wr_u8(&mb->w, protocol);
  ike_wr_u8(&mb->w, spi_len);
  ike_wr_u16(&mb->w, n);
  for (unsigned i = 0; i < n && spi_len == 4; i++) {
    ike_wr_u32(&mb->w, spis[i]);
  }
  ike_mb_end(mb, off);
}

void ike_put_vendor(ike_mb_t *mb, const uint8_t *data, size_t len)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_VENDOR, false);

  ike_wr_bytes(&mb->w, data, len);
  ike_mb_end(mb, off);
}

/* ------------------------------------------------------------------ */
/* TS, CP, EAP, SK, SKF                                                */
/* ------------------------------------------------------------------ */

void ike_put_ts(ike_mb_t *mb, uint8_t pld_type, const ike_ts_pld_t *ts)
{
  size_t off = ike_mb_begin(mb, pld_type, false);
  unsigned n = ts->n <= IKE_MAX_TS ? ts->n : IKE_MAX_TS;

  ike_wr_u8(&mb->w, (uint8_t)n);
  ike_wr_bytes(&mb->w, NULL, 3);
  for (unsigned i = 0; i < n; i++) {
    const ike_ts_t *t = &ts->ts[i];
    size_t alen = t->type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 4;

    if (t->type != IKE_TS_IPV4_ADDR_RANGE &&
        t->type != IKE_TS_IPV6_ADDR_RANGE && mb->w.err == 0) {
      mb->w.err = -IKE_E_BAD_SYNTAX;
    }
    ike_wr_u8(&mb->w, t->type);
    ike_wr_u8(&mb->w, t->ip_proto);
    ike_wr_u16(&mb->w, (uint16_t)(8 + 2 * alen));
    ike_wr_u16(&mb->w, t->start_port);
    ike_wr_u16(&mb->w, t->end_port);
    ike_wr_bytes(&mb->w, t->start, alen);
    ike_wr_bytes(&mb->w, t->end, alen);
  }
  ike_mb_end(mb, off);
}

void ike_put_cp(ike_mb_t *mb, const ike_cp_pld_t *cp)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_CP, false);
  unsigned n = cp->n <= IKE_MAX_CP_ATTRS ? cp->n : IKE_MAX_CP_ATTRS;

  ike_wr_u8(&mb->w, cp->cfg_type);
  ike_wr_bytes(&mb->w, NULL, 3);
  for (unsigned i = 0; i < n; i++) {
    ike_wr_u16(&mb->w, cp->a[i].type & 0x7fffu);
    ike_wr_u16(&mb->w, cp->a[i].len);
    ike_wr_bytes(&mb->w, cp->a[i].value, cp->a[i].len);
  }
  ike_mb_end(mb, off);
}

void ike_put_eap(ike_mb_t *mb, const ike_eap_pld_t *eap)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_EAP, false);
  bool has_type = eap->code == 1 || eap->code == 2; /* Request, Response */
  size_t elen = 4 + (has_type ? 1u + eap->len : 0u);

  ike_wr_u8(&mb->w, eap->code);
  ike_wr_u8(&mb->w, eap->identifier);
  ike_wr_u16(&mb->w, (uint16_t)elen); /* EAP Length is computed, not copied */
  if (has_type) {
    ike_wr_u8(&mb->w, eap->type);
    ike_wr_bytes(&mb->w, eap->data, eap->len);
  }
  ike_mb_end(mb, off);
}

size_t ike_put_sk_hdr(ike_mb_t *mb, uint8_t first_inner)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_SK, false);

  if (mb->w.err == 0) {
    mb->w.p[off] = first_inner; /* Next Payload of SK = first inner type */
  }
  return off;
}

size_t ike_put_skf_hdr(ike_mb_t *mb, uint8_t first_inner, uint16_t frag_num,
                       uint16_t total)
{
  size_t off = ike_mb_begin(mb, IKE_PLD_SKF, false);

  if (mb->w.err == 0) {
    mb->w.p[off] = first_inner; /* RFC 7383 2.5: 0 in all but fragment 1 */
  }
  ike_wr_u16(&mb->w, frag_num);
  ike_wr_u16(&mb->w, total);
  ike_mb_end(mb, off);
  return off;
}
