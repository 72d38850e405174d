/*
 * ike_buf.h - the one bounds-checked reader and the one writer for wire bytes.
 *
 * Every read of untrusted bytes goes through ike_rd_*: a getter fails (returns
 * -IKE_E_TRUNC) rather than read past the end, and never moves the cursor on
 * failure. The writer has a sticky error: once a put does not fit, every later
 * put is a no-op and ike_wr_err() reports it, so builders check once at the end.
 */
#ifndef IKE_BUF_H
#define IKE_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A read cursor over borrowed bytes. */
typedef struct ike_rd {
  const uint8_t *p;  /* start of the window */
  size_t len;        /* bytes in the window */
  size_t off;        /* next byte to read */
} ike_rd_t;

/* Make a cursor over buf[0..len). */
void ike_rd_init(ike_rd_t *r, const void *buf, size_t len);
/* Bytes not yet read. */
size_t ike_rd_left(const ike_rd_t *r);
/* Big-endian getters: 0 on success, -IKE_E_TRUNC when too short (cursor unmoved). */
int ike_rd_u8(ike_rd_t *r, uint8_t *v);
int ike_rd_u16(ike_rd_t *r, uint16_t *v);
int ike_rd_u32(ike_rd_t *r, uint32_t *v);
int ike_rd_u64(ike_rd_t *r, uint64_t *v);
/* Point *out at the next n bytes (no copy) and skip them. */
int ike_rd_ptr(ike_rd_t *r, size_t n, const uint8_t **out);
/* Copy the next n bytes into out. */
int ike_rd_copy(ike_rd_t *r, void *out, size_t n);
/* Make *sub a cursor over the next n bytes and skip them in r. */
int ike_rd_sub(ike_rd_t *r, size_t n, ike_rd_t *sub);
/* Skip n bytes. */
int ike_rd_skip(ike_rd_t *r, size_t n);

/* A write cursor over caller-owned memory. */
typedef struct ike_wr {
  uint8_t *p;   /* destination */
  size_t cap;   /* its size */
  size_t len;   /* bytes written */
  int err;      /* 0, or -IKE_E_NOSPACE once something did not fit */
} ike_wr_t;

void ike_wr_init(ike_wr_t *w, void *buf, size_t cap);
void ike_wr_u8(ike_wr_t *w, uint8_t v);
void ike_wr_u16(ike_wr_t *w, uint16_t v);
void ike_wr_u32(ike_wr_t *w, uint32_t v);
void ike_wr_u64(ike_wr_t *w, uint64_t v);
void ike_wr_bytes(ike_wr_t *w, const void *src, size_t n);
/* Reserve n bytes and return a pointer to them (NULL and sticky error if no room). */
uint8_t *ike_wr_reserve(ike_wr_t *w, size_t n);
/* Overwrite a big-endian u16 already written at offset off (for length fields). */
void ike_wr_put16_at(ike_wr_t *w, size_t off, uint16_t v);
void ike_wr_put32_at(ike_wr_t *w, size_t off, uint32_t v);
/* 0, or the sticky error. */
int ike_wr_err(const ike_wr_t *w);

#endif /* IKE_BUF_H */
