/*
 * ike_proposal.c - pick one proposal of the peer's SA payload using our
 * transform sets in preference order (RFC 7296 2.7: the responder picks one
 * proposal and one transform of each type).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ike_log.h"
#include "ike_proposal.h"

static bool offers(const ike_proposal_t *p, uint8_t type, uint16_t id,
                   uint16_t key_len)
{
  for (unsigned i = 0; i < p->n_transforms; i++) {
    const ike_transform_t *t = &p->t[i];
    if (t->type == type && t->id == id && t->key_len == key_len &&
        t->n_unknown_attrs == 0) {
      return true;
    }
  }
  return false;
}

static bool has_type(const ike_proposal_t *p, uint8_t type)
{
  for (unsigned i = 0; i < p->n_transforms; i++) {
    if (p->t[i].type == type) {
      return true;
    }
  }
  return false;
}

/* Try one of our sets against one peer proposal. */
static bool match_set(const ike_cfg_tset_t *s, const ike_proposal_t *p,
                      uint8_t proto, uint16_t ke_group, bool dh_required,
                      ike_choice_t *out)
{
  ike_suite_t su;
  memset(&su, 0, sizeof su);
  bool ok = false;
  for (unsigned i = 0; i < s->n_encr && !ok; i++) {
    if (offers(p, IKE_TRANS_ENCR, s->encr[i].id, s->encr[i].keylen) &&
        ike_encr_supported(s->encr[i].id, s->encr[i].keylen)) {
      su.encr = s->encr[i].id;
      su.encr_bits = s->encr[i].keylen;
      ok = true;
    }
  }
  if (!ok) {
    return false;
  }
  if (proto == IKE_PROTO_IKE) {
    ok = false;
    for (unsigned i = 0; i < s->n_prf && !ok; i++) {
      if (offers(p, IKE_TRANS_PRF, s->prf[i], 0)) {
        su.prf = s->prf[i];
        ok = true;
      }
    }
    if (!ok) {
      return false;
    }
  }
  if (ike_encr_is_aead(su.encr)) {
    /* AEAD: integrity must be absent or NONE (RFC 5282 8). */
    for (unsigned i = 0; i < p->n_transforms; i++) {
      if (p->t[i].type == IKE_TRANS_INTEG && p->t[i].id != IKE_INTEG_NONE) {
        return false;
      }
    }
    su.integ = IKE_INTEG_NONE;
  } else {
    ok = false;
    for (unsigned i = 0; i < s->n_integ && !ok; i++) {
      if (offers(p, IKE_TRANS_INTEG, s->integ[i], 0)) {
        su.integ = s->integ[i];
        ok = true;
      }
    }
    if (!ok) {
      return false;
    }
  }
  /* Diffie-Hellman: prefer the group of the KE payload if both accept it. */
  uint16_t first_common = 0;
  bool ke_ok = false;
  for (unsigned i = 0; i < s->n_dh; i++) {
    if (s->dh[i] != IKE_DH_NONE && offers(p, IKE_TRANS_DH, s->dh[i], 0)) {
      if (first_common == 0) {
        first_common = s->dh[i];
      }
      if (s->dh[i] == ke_group) {
        ke_ok = true;
      }
    }
  }
  out->want_dh = 0;
  if (ke_ok) {
    su.dh = ke_group;
  } else if (first_common != 0 && (dh_required || ke_group != 0)) {
    su.dh = first_common;
    out->want_dh = first_common;
  } else if (dh_required) {
    return false;
  } else {
    /* No PFS: the peer must allow "no DH" (absent or NONE). */
    if (has_type(p, IKE_TRANS_DH) && !offers(p, IKE_TRANS_DH, IKE_DH_NONE, 0)) {
      return false;
    }
    su.dh = IKE_DH_NONE;
  }
  if (proto == IKE_PROTO_ESP) {
    if (offers(p, IKE_TRANS_ESN, IKE_ESN_NO, 0) || !has_type(p, IKE_TRANS_ESN)) {
      su.esn = false;
    } else if (offers(p, IKE_TRANS_ESN, IKE_ESN_YES, 0)) {
      su.esn = true;
    } else {
      return false;
    }
  }
  out->suite = su;
  out->prop_num = p->num;
  out->spi_len = p->spi_len;
  memcpy(out->spi, p->spi, p->spi_len);
  return true;
}

int ike_proposal_select(const ike_cfg_tset_t *sets, unsigned n_sets,
                        const ike_sa_pld_t *offer, uint8_t proto,
                        uint16_t ke_group, bool dh_required, ike_choice_t *out)
{
  memset(out, 0, sizeof *out);
  for (unsigned s = 0; s < n_sets; s++) {
    for (unsigned i = 0; i < offer->n; i++) {
      const ike_proposal_t *p = &offer->p[i];
      if (p->protocol != proto) {
        continue;
      }
      if (proto == IKE_PROTO_ESP && p->spi_len != 4) {
        continue;
      }
      if (match_set(&sets[s], p, proto, ke_group, dh_required, out)) {
        return 0;
      }
    }
  }
  return -1;
}

void ike_proposal_put(ike_mb_t *mb, const ike_choice_t *c, uint8_t proto,
                      const uint8_t *our_spi, uint8_t spi_len)
{
  ike_sa_pld_t sa;
  memset(&sa, 0, sizeof sa);
  sa.n = 1;
  ike_proposal_t *p = &sa.p[0];
  p->num = c->prop_num;
  p->protocol = proto;
  p->spi_len = spi_len;
  if (spi_len > 0) {
    memcpy(p->spi, our_spi, spi_len);
  }
  unsigned n = 0;
  p->t[n++] = (ike_transform_t){.type = IKE_TRANS_ENCR, .id = c->suite.encr,
                                .key_len = c->suite.encr_bits};
  if (proto == IKE_PROTO_IKE) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_PRF, .id = c->suite.prf};
  }
  if (c->suite.integ != IKE_INTEG_NONE) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_INTEG, .id = c->suite.integ};
  }
  if (c->suite.dh != IKE_DH_NONE) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_DH, .id = c->suite.dh};
  }
  if (proto == IKE_PROTO_ESP) {
    p->t[n++] = (ike_transform_t){.type = IKE_TRANS_ESN,
                                  .id = c->suite.esn ? IKE_ESN_YES : IKE_ESN_NO};
  }
  p->n_transforms = (uint8_t)n;
  ike_put_sa(mb, &sa);
}

/* --- why nothing was chosen (logs) --- */

typedef struct {
  char *buf;
  size_t cap, len;
} strb_t;

static void sb_printf(strb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strb_t *b, const char *fmt, ...)
{
  if (b->len + 1 >= b->cap) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n > 0) {
    b->len += (size_t)n;
    if (b->len >= b->cap) {
      b->len = b->cap - 1; /* truncated */
    }
  }
}

static void describe_transform(strb_t *b, const ike_transform_t *t)
{
  switch (t->type) {
  case IKE_TRANS_ENCR:
    sb_printf(b, " %s", ike_encr_name(t->id));
    if (t->key_len != 0) {
      sb_printf(b, "/%u", t->key_len);
    }
    break;
  case IKE_TRANS_PRF:
    sb_printf(b, " %s", ike_prf_name(t->id));
    break;
  case IKE_TRANS_INTEG:
    sb_printf(b, " %s", ike_integ_name(t->id));
    break;
  case IKE_TRANS_DH:
    sb_printf(b, " DH_%s", ike_dh_name(t->id));
    break;
  case IKE_TRANS_ESN:
    sb_printf(b, " ESN_%u", t->id);
    break;
  default:
    sb_printf(b, " %s_%u", ike_transform_type_name(t->type), t->id);
    break;
  }
}

static void describe_set(strb_t *b, const ike_cfg_tset_t *s, uint8_t proto)
{
  sb_printf(b, " %s {", s->name);
  for (unsigned i = 0; i < s->n_encr; i++) {
    sb_printf(b, " %s", ike_encr_name(s->encr[i].id));
    if (s->encr[i].keylen != 0) {
      sb_printf(b, "/%u", s->encr[i].keylen);
    }
  }
  for (unsigned i = 0; proto == IKE_PROTO_IKE && i < s->n_prf; i++) {
    sb_printf(b, " %s", ike_prf_name(s->prf[i]));
  }
  for (unsigned i = 0; i < s->n_integ; i++) {
    sb_printf(b, " %s", ike_integ_name(s->integ[i]));
  }
  for (unsigned i = 0; i < s->n_dh; i++) {
    sb_printf(b, " DH_%s", ike_dh_name(s->dh[i]));
  }
  sb_printf(b, " }");
}

size_t ike_proposal_describe(const ike_cfg_tset_t *sets, unsigned n_sets,
                             const ike_sa_pld_t *offer, uint8_t proto, char *buf,
                             size_t cap)
{
  strb_t b = {buf, cap, 0};
  if (cap == 0) {
    return 0;
  }
  buf[0] = '\0';
  sb_printf(&b, "offered");
  unsigned shown = 0;
  for (unsigned i = 0; i < offer->n; i++) {
    const ike_proposal_t *p = &offer->p[i];
    if (p->protocol != proto) {
      continue;
    }
    sb_printf(&b, " #%u", p->num);
    for (unsigned k = 0; k < p->n_transforms; k++) {
      describe_transform(&b, &p->t[k]);
    }
    shown++;
  }
  if (shown == 0) {
    sb_printf(&b, " no %s proposal", ike_proto_name(proto));
  }
  sb_printf(&b, " | configured");
  for (unsigned s = 0; s < n_sets; s++) {
    describe_set(&b, &sets[s], proto);
  }
  return b.len;
}

void ike_proposal_log_refused(const char *what, uint64_t spi, const ike_cfg_tset_t *sets,
                              unsigned n_sets, const ike_sa_pld_t *offer, uint8_t proto,
                              uint64_t now_ms)
{
  static _Thread_local uint64_t win_ms;
  static _Thread_local unsigned in_win, suppressed;
  if (!IKE_LOG_ON(IKE_LOG_LVL_INFO)) {
    return;
  }
  if (now_ms - win_ms >= 1000u || now_ms < win_ms) {
    win_ms = now_ms;
    in_win = 0;
  }
  if (in_win >= IKE_PROPOSAL_LOG_PER_S) {
    suppressed++;
    return;
  }
  in_win++;
  char d[1024];
  ike_proposal_describe(sets, n_sets, offer, proto, d, sizeof d);
  unsigned left_out = suppressed;
  suppressed = 0;
  if (spi != 0) {
    IKE_LOG_SPI(INFO, spi, "%s: NO_PROPOSAL_CHOSEN: %s%s", what, d,
                left_out ? " (earlier lines left out)" : "");
  } else if (left_out != 0) {
    IKE_LOG_INFO("%s: NO_PROPOSAL_CHOSEN: %s (%u like it left out)", what, d, left_out);
  } else {
    IKE_LOG_INFO("%s: NO_PROPOSAL_CHOSEN: %s", what, d);
  }
}
