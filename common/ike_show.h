/*
 * ike_show.h - pure formatting of the operator's show commands (gwctl), text and
 * JSON, from plain inputs: the config (ike_config.h), counters (ike_stats.h) and SA
 * records (ike_sa_view_t below). No I/O beyond the given sink, no state.
 *
 * Layout of the two seed blocks of "show crypto statistics ikev2" (SEED-mobike-
 * asr5500.md): every label, with the spaces after it, and the gap after a left-hand
 * number are copied from the seed, odd spacing included, so one-digit values
 * reproduce the seed byte for byte. A wider number is printed whole where the
 * seed's digit is and pushes the rest of its line right by its extra digits;
 * labels and gaps never shrink. Example (MOBIKE Notify Sent = 12345):
 *   "  MOBIKE Notify Sent:       12345   MOBIKE Notify Rcvd:        2"
 */
#ifndef IKE_SHOW_H
#define IKE_SHOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ike_config.h"
#include "ike_stats.h"

/* An output sink: a FILE, or a caller buffer (always NUL-terminated; the length
 * counts what the full text needs, like snprintf). */
typedef struct ike_out {
  FILE *f;      /* non-NULL: write here */
  char *buf;    /* else: write here */
  size_t cap;
  size_t len;   /* bytes produced (or needed) so far */
  int err;      /* 1 after a write error */
} ike_out_t;

void ike_out_file(ike_out_t *o, FILE *f);
void ike_out_buf(ike_out_t *o, char *buf, size_t cap);
void ike_out_printf(ike_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if everything produced fit (buffer) and nothing failed. */
int ike_out_ok(const ike_out_t *o);

/* A tiny JSON writer: commas and nesting handled, strings escaped (RFC 8259:
 * '"', '\\', control characters as \uXXXX; other bytes as given). key is NULL
 * inside arrays. Nesting deeper than IKE_JSON_DEPTH sets o->err. */
#define IKE_JSON_DEPTH 16
typedef struct ike_json {
  ike_out_t *o;
  int depth;
  uint8_t first[IKE_JSON_DEPTH]; /* 1 until the level has an element */
} ike_json_t;

void ike_json_init(ike_json_t *j, ike_out_t *o);
void ike_json_obj_begin(ike_json_t *j, const char *key);
void ike_json_obj_end(ike_json_t *j);
void ike_json_arr_begin(ike_json_t *j, const char *key);
void ike_json_arr_end(ike_json_t *j);
void ike_json_str(ike_json_t *j, const char *key, const char *v);
void ike_json_u64(ike_json_t *j, const char *key, uint64_t v);
void ike_json_bool(ike_json_t *j, const char *key, int v);
/* Write s as a JSON string literal (with quotes). */
void ike_json_escape(ike_out_t *o, const char *s);

/* ---- show crypto statistics ikev2 ------------------------------------------- */

/* The seed's two blocks exactly ("Total IKEv2 Notify Message Receive Statistics:"
 * ... "MOBIKE COOKIE2 Mismatch:  N\n"), a blank line between them. */
void ike_show_stats_seed_blocks(ike_out_t *o, const ike_stats_t *st);
/* The whole command: exchanges, notifies sent/received, the seed blocks, MOBIKE
 * details, failures by cause, SA counts. st is the sum over all sessmgrs. */
void ike_show_stats_ikev2(ike_out_t *o, const ike_stats_t *st);
/* JSON: {"counters":{<field>:<value>,...},"bulkstats":{<var>:<value>,...}}. */
void ike_show_stats_ikev2_json(ike_out_t *o, const ike_stats_t *st);

/* ---- show crypto template ---------------------------------------------------- */

/* One template: name, type, context, transform sets, authentication, timers, pool,
 * "IKEv2 Mobike           : Enabled|Disabled" and "Cookie Challenge       : ...". */
void ike_show_template(ike_out_t *o, const ike_config_t *cfg, const ike_cfg_template_t *t);
/* Every template, a blank line between them ("No crypto templates" if none). */
void ike_show_templates(ike_out_t *o, const ike_config_t *cfg);
/* JSON array of template objects. */
void ike_show_templates_json(ike_out_t *o, const ike_config_t *cfg);

/* ---- show crypto ikev2-ikesa security-associations --------------------------- */

#define IKE_SHOW_MAX_CHILD 4

/* One CHILD SA as ipsecmgr/sessmgr report it. */
typedef struct ike_child_view {
  uint32_t spi_in, spi_out;           /* host byte order */
  uint16_t encr, keylen, integ;       /* IKE_ENCR_*, bits, IKE_INTEG_* (0 for AEAD) */
  uint8_t udp_encap;                  /* ESP in UDP (RFC 3948) */
  char ts_local[64], ts_remote[64];   /* e.g. "0.0.0.0/0", "10.10.0.1/32" */
  uint64_t bytes_in, bytes_out, packets_in, packets_out;
  uint32_t age_s, lifetime_s;         /* since install; configured soft lifetime */
  uint8_t datapath;                   /* 0 not asked, 1 both SAs held by ipsecmgr,
                                         2 ipsecmgr lacks one or both (JSON only) */
} ike_child_view_t;

/* One IKE SA as sessmgr reports it (a plain record, no pointers). */
typedef struct ike_sa_view {
  uint16_t slot;                      /* sessmgr slot owning the SA */
  uint64_t spi_i, spi_r;              /* host byte order */
  char state[24];                     /* e.g. "ESTABLISHED", "REKEYING", "DELETING" */
  char tmpl[IKE_CFG_NAME_MAX];        /* crypto template */
  char peer_addr[IKE_CFG_ADDR_MAX];   /* current peer address (after MOBIKE moves) */
  uint16_t peer_port;
  char local_addr[IKE_CFG_ADDR_MAX];
  uint16_t local_port;
  char peer_id[IKE_CFG_ID_MAX];       /* as text, e.g. "client1.example.net" */
  char local_id[IKE_CFG_ID_MAX];
  uint16_t encr, keylen, prf, integ, dh; /* negotiated IKE SA algorithms */
  char virtual_ip4[IKE_CFG_ADDR_MAX]; /* "" if none */
  char virtual_ip6[IKE_CFG_ADDR_MAX];
  uint8_t nat_local;                  /* we are behind a NAT */
  uint8_t nat_remote;                 /* the peer is behind a NAT */
  uint8_t mobike;                     /* MOBIKE negotiated on this SA */
  uint32_t mobike_updates;            /* address updates applied */
  uint32_t age_s, lifetime_s;         /* since establishment; configured lifetime */
  uint8_t n_child;
  ike_child_view_t child[IKE_SHOW_MAX_CHILD];
} ike_sa_view_t;

/* Summary table, one line per SA, then "Total IKEv2 SAs: n". */
void ike_show_sa_summary(ike_out_t *o, const ike_sa_view_t *v, size_t n);
/* Detail of one SA, "Label<pad to 26>: value" lines, including exactly
 * "Mobike Supported          : Enabled|Disabled", then its CHILD SAs. */
void ike_show_sa_detail(ike_out_t *o, const ike_sa_view_t *v);
/* JSON array of SA objects (SPIs as 16/8 lowercase hex digits, as swanctl prints). */
void ike_show_sa_json(ike_out_t *o, const ike_sa_view_t *v, size_t n);

/* ---- bulk statistics ------------------------------------------------------------ */

/* The bulk statistics variables in the seed's order, NULL-terminated. */
extern const char *const ike_show_bulkvars[];
/* "variable = value" lines, one per seed variable. */
void ike_show_bulkstats(ike_out_t *o, const ike_stats_t *st);
/* JSON object {"<var>": value, ...}. */
void ike_show_bulkstats_json(ike_out_t *o, const ike_stats_t *st);
/* CSV header: "timestamp,<var>,<var>,...\n". */
void ike_show_bulkstats_csv_header(ike_out_t *o);
/* CSV row: "<UTC ISO 8601 time>,<value>,...\n" (e.g. 2026-11-26T21:00:00Z). */
void ike_show_bulkstats_csv_row(ike_out_t *o, time_t ts, const ike_stats_t *st);

#endif /* IKE_SHOW_H */
