/*
 * ike_config_int.h - internals shared by ike_config.c (parser) and
 * ike_config_util.c (names, algorithm tables, printing, look-ups). Not for other
 * modules: use ike_config.h.
 */
#ifndef IKE_CONFIG_INT_H
#define IKE_CONFIG_INT_H

#include "ike_config.h"

/* Cursor modes (ike_cfg_cursor_t.mode). */
enum {
  IKE_CFG_M_TOP = 0,
  IKE_CFG_M_CONFIG = 1,
  IKE_CFG_M_CONTEXT = 2,
  IKE_CFG_M_TEMPLATE = 3,
  IKE_CFG_M_PAYLOAD = 4,
  IKE_CFG_M_TSET = 5
};

/* One row of an algorithm name table. */
typedef struct ike_cfg_alg {
  const char *name;   /* config-file spelling */
  uint16_t id;        /* IKE_ENCR_*, IKE_PRF_*, IKE_INTEG_*, IKE_DH_* */
  uint16_t keylen;    /* encryption only: bits, 0 if no key-length attribute */
  uint8_t aead;       /* encryption only */
} ike_cfg_alg_t;

/* Tables, each ending with a row whose name is NULL. */
extern const ike_cfg_alg_t ike_cfg_encr_tab[];
extern const ike_cfg_alg_t ike_cfg_prf_tab[];
extern const ike_cfg_alg_t ike_cfg_integ_tab[];
extern const ike_cfg_alg_t ike_cfg_dh_tab[];

/* Row of tab whose name is s, or NULL. */
const ike_cfg_alg_t *ike_cfg_alg_by_name(const ike_cfg_alg_t *tab, const char *s);
/* Name of the DH group ("19"), "?" if unknown. */
const char *ike_cfg_dh_name(unsigned v);

/* The built-in transform sets a template uses when it lists none. */
size_t ike_cfg_default_tsets(int kind, ike_cfg_tset_t *out, size_t max);

/* Parse "a.b.c.d/n" or "x::/n" (a bare address means a host prefix). 0 or -1. */
int ike_cfg_parse_prefix(const char *s, ike_cfg_prefix_t *p);
/* Parse an IPv4 or IPv6 address. 0 or -1. */
int ike_cfg_parse_addr(const char *s, ike_cfg_addr_t *a);
/* Format an address into buf; returns buf. */
char *ike_cfg_addr_str(const ike_cfg_addr_t *a, char *buf, size_t len);
/* ID type for a config keyword ("fqdn", "ip-addr", ...), 0 if unknown. For
 * "ip-addr" it returns IKE_ID_IPV4_ADDR; the caller refines by address family. */
uint8_t ike_cfg_id_type_by_name(const char *s);

/* ---- the reader's shared state (ike_config.c, ike_config_tmpl.c) ------------- */

#define IKE_CFG_MAX_TOKENS 40 /* words per line */
#define IKE_CFG_NOT_MINE 1    /* handler result: command unknown in this mode */

/* The state of one line being applied. */
typedef struct ike_cfg_pctx {
  ike_config_t *cfg;            /* config being changed */
  ike_cfg_cursor_t *cur;        /* mode, block indexes, line number */
  char *err;                    /* message buffer */
  size_t errlen;
  int ntok;                     /* words of the line */
  char *tok[IKE_CFG_MAX_TOKENS];
  char buf[IKE_CFG_LINE_MAX + 1]; /* the line, split in place */
} ike_cfg_pctx_t;

/* Write "name:line: reason" into p->err; returns -1. */
int ike_cfg_perr_at(ike_cfg_pctx_t *p, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at the current line. */
#define ike_cfg_perr(p, ...) ike_cfg_perr_at((p), (p)->cur->line, __VA_ARGS__)
/* 1 if word i exists and equals s. */
int ike_cfg_tok_is(const ike_cfg_pctx_t *p, int i, const char *s);
/* Copy a non-empty src into dst[cap] (zero-padded); -1 with a message if it does not fit. */
int ike_cfg_set_str(ike_cfg_pctx_t *p, char *dst, size_t cap, const char *src, const char *what);
/* Same for a name (letters, digits, '-', '_', '.'), IKE_CFG_NAME_MAX. */
int ike_cfg_set_name(ike_cfg_pctx_t *p, char *dst, const char *src, const char *what);
/* Decimal number in [lo, hi]; -1 with "what: 'x' ..." otherwise. */
int ike_cfg_get_num(ike_cfg_pctx_t *p, const char *s, uint64_t lo, uint64_t hi, const char *what,
                    uint64_t *out);
int ike_cfg_get_u32(ike_cfg_pctx_t *p, const char *s, uint32_t lo, uint32_t hi, const char *what,
                    uint32_t *out);
/* Exactly n words, else -1 with "usage: <usage>". */
int ike_cfg_want(ike_cfg_pctx_t *p, int n, const char *usage);
/* Index of a transform set / pool of context ctx, or -1. */
int ike_cfg_find_tset(const ike_config_t *c, uint8_t ctx, const char *name);
int ike_cfg_find_pool(const ike_config_t *c, uint8_t ctx, const char *name);
/* The template of the current block. */
ike_cfg_template_t *ike_cfg_cur_tmpl(ike_cfg_pctx_t *p);
/* Reset a template's IKE (ike = 1) or ESP transform sets to the built-in ones. */
void ike_cfg_tmpl_default_tsets(ike_cfg_template_t *t, int ike);
/* Mode handlers: 0, -1 (error set) or IKE_CFG_NOT_MINE. */
int ike_cfg_h_template(ike_cfg_pctx_t *p);
int ike_cfg_h_payload(ike_cfg_pctx_t *p);

#endif /* IKE_CONFIG_INT_H */
