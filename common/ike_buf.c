/*
 * ike_buf.c - bounds-checked reader and sticky-error writer (see ike_buf.h).
 *
 * Every check is written as "n > left" rather than "off + n > len" so that a
 * huge n can never wrap size_t; the cursor moves only after the check passed.
 */
#include "ike_buf.h"

#include <string.h>

#include "ike_err.h"

void ike_rd_init(ike_rd_t *r, const void *buf, size_t len)
{
  r->p = buf;
  r->len = buf != NULL ? len : 0;
  r->off = 0;
}

size_t ike_rd_left(const ike_rd_t *r)
{
  /* off never exceeds len, but stay safe if a caller edited the struct. */
  return r->off < r->len ? r->len - r->off : 0;
}

/* True when n more bytes can be read. Overflow-free: compares against left. */
static int rd_has(const ike_rd_t *r, size_t n)
{
  return n <= ike_rd_left(r);
}

int ike_rd_u8(ike_rd_t *r, uint8_t *v)
{
  if (!rd_has(r, 1)) {
    return -IKE_E_TRUNC;
  }
  *v = r->p[r->off];
  r->off += 1;
  return 0;
}

int ike_rd_u16(ike_rd_t *r, uint16_t *v)
{
  if (!rd_has(r, 2)) {
    return -IKE_E_TRUNC;
  }
  const uint8_t *q = r->p + r->off;
  *v = (uint16_t)((unsigned)q[0] << 8 | q[1]);
  r->off += 2;
  return 0;
}

int ike_rd_u32(ike_rd_t *r, uint32_t *v)
{
  if (!rd_has(r, 4)) {
    return -IKE_E_TRUNC;
  }
  const uint8_t *q = r->p + r->off;
  *v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 |
       (uint32_t)q[3];
  r->off += 4;
  return 0;
}

int ike_rd_u64(ike_rd_t *r, uint64_t *v)
{
  if (!rd_has(r, 8)) {
    return -IKE_E_TRUNC;
  }
  uint64_t x = 0;
  for (size_t i = 0; i < 8; i++) {
    x = x << 8 | r->p[r->off + i];
  }
  *v = x;
  r->off += 8;
  return 0;
}

int ike_rd_ptr(ike_rd_t *r, size_t n, const uint8_t **out)
{
  if (!rd_has(r, n)) {
    return -IKE_E_TRUNC;
  }
  *out = r->p + r->off;
  r->off += n;
  return 0;
}

int ike_rd_copy(ike_rd_t *r, void *out, size_t n)
{
  if (!rd_has(r, n)) {
    return -IKE_E_TRUNC;
  }
  if (n > 0) {
    memcpy(out, r->p + r->off, n);
  }
  r->off += n;
  return 0;
}

int ike_rd_sub(ike_rd_t *r, size_t n, ike_rd_t *sub)
{
  if (!rd_has(r, n)) {
    return -IKE_E_TRUNC;
  }
  sub->p = r->p + r->off;
  sub->len = n;
  sub->off = 0;
  r->off += n;
  return 0;
}

int ike_rd_skip(ike_rd_t *r, size_t n)
{
  if (!rd_has(r, n)) {
    return -IKE_E_TRUNC;
  }
  r->off += n;
  return 0;
}

void ike_wr_init(ike_wr_t *w, void *buf, size_t cap)
{
  w->p = buf;
  w->cap = buf != NULL ? cap : 0;
  w->len = 0;
  w->err = 0;
}

uint8_t *ike_wr_reserve(ike_wr_t *w, size_t n)
{
  if (w->err != 0) {
    return NULL;
  }
  if (w->len > w->cap || n > w->cap - w->len) {
    w->err = -IKE_E_NOSPACE;
    return NULL;
  }
  uint8_t *q = w->p + w->len;
  w->len += n;
  return q;
}

void ike_wr_u8(ike_wr_t *w, uint8_t v)
{
  uint8_t *q = ike_wr_reserve(w, 1);
  if (q != NULL) {
    q[0] = v;
  }
}

void ike_wr_u16(ike_wr_t *w, uint16_t v)
{
  uint8_t *q = ike_wr_reserve(w, 2);
  if (q != NULL) {
    q[0] = (uint8_t)(v >> 8);
    q[1] = (uint8_t)v;
  }
}

void ike_wr_u32(ike_wr_t *w, uint32_t v)
{
  uint8_t *q = ike_wr_reserve(w, 4);
  if (q != NULL) {
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
  }
}

void ike_wr_u64(ike_wr_t *w, uint64_t v)
{
  uint8_t *q = ike_wr_reserve(w, 8);
  if (q != NULL) {
    for (size_t i = 0; i < 8; i++) {
      q[i] = (uint8_t)(v >> (56 - 8 * i));
    }
  }
}

void ike_wr_bytes(ike_wr_t *w, const void *src, size_t n)
{
  uint8_t *q = ike_wr_reserve(w, n);
  if (q != NULL && n > 0) {
    if (src != NULL) {
      memcpy(q, src, n);
    } else {
      memset(q, 0, n); /* NULL source writes zeros (reserved fields) */
    }
  }
}

/* Patching only touches bytes already written; anything else is a caller bug
 * reported through the sticky error rather than a write out of bounds. */
void ike_wr_put16_at(ike_wr_t *w, size_t off, uint16_t v)
{
  if (w->err != 0) {
    return;
  }
  if (off > w->len || w->len - off < 2) {
    w->err = -IKE_E_NOSPACE;
    return;
  }
  w->p[off] = (uint8_t)(v >> 8);
  w->p[off + 1] = (uint8_t)v;
}

void ike_wr_put32_at(ike_wr_t *w, size_t off, uint32_t v)
{
  if (w->err != 0) {
    return;
  }
  if (off > w->len || w->len - off < 4) {
    w->err = -IKE_E_NOSPACE;
    return;
  }
  w->p[off] = (uint8_t)(v >> 24);
  w->p[off + 1] = (uint8_t)(v >> 16);
  w->p[off + 2] = (uint8_t)(v >> 8);
  w->p[off + 3] = (uint8_t)v;
}

int ike_wr_err(const ike_wr_t *w)
{
  return w->err;
}
