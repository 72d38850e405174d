/*
 * ike_config.c - reader of the StarOS-style configuration (grammar: ike_config.h,
 * deploy/CONFIG.md).
 *
 * Lines are split into tokens (double quotes group, \" and \\ escape, an unquoted
 * token starting with '#' starts a comment). Each mode has one handler; a handler
 * that does not know a command answers IKE_CFG_NOT_MINE and the line is retried in the
 * enclosing mode after leaving the current block, which is how an indentation-free
 * file moves from one block to the next without "#exit". Leaving a block runs its
 * check (transform set complete, template credentials present).
 */
#include "ike_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_config_int.h"
#include "ike_wire.h"


/* Write "name:line: reason" (line as given) and return -1. */
int ike_cfg_perr_at(ike_cfg_pctx_t *p, uint32_t line, const char *fmt, ...) {
  if (p->err != NULL && p->errlen > 0) {
    int n = snprintf(p->err, p->errlen, "%s:%u: ", p->cur->name, (unsigned)line);
    if (n >= 0 && (size_t)n < p->errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return -1;
}

int ike_cfg_tok_is(const ike_cfg_pctx_t *p, int i, const char *s) {
  return i < p->ntok && strcmp(p->tok[i], s) == 0;
}

/* Copy src into a fixed field of size cap; error if it does not fit. */
int ike_cfg_set_str(ike_cfg_pctx_t *p, char *dst, size_t cap, const char *src, const char *what) {
  size_t n = strlen(src);
  if (n == 0) {
    return ike_cfg_perr(p, "%s must not be empty", what);
  }
  if (n >= cap) {
    return ike_cfg_perr(p, "%s longer than %zu characters", what, cap - 1);
  }
  memset(dst, 0, cap);
  memcpy(dst, src, n);
  return 0;
}

/* A name: letters, digits, '-', '_', '.'. */
int ike_cfg_set_name(ike_cfg_pctx_t *p, char *dst, const char *src, const char *what) {
  for (const char *s = src; *s != '\0'; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_' || c == '.')) {
      return ike_cfg_perr(p, "%s '%s': only letters, digits, '-', '_' and '.' allowed", what, src);
    }
  }
  return ike_cfg_set_str(p, dst, IKE_CFG_NAME_MAX, src, what);
}

/* Parse a decimal number in [lo, hi]. */
int ike_cfg_get_num(ike_cfg_pctx_t *p, const char *s, uint64_t lo, uint64_t hi, const char *what,
                   uint64_t *out) {
  uint64_t v = 0;
  if (*s == '\0') {
    return ike_cfg_perr(p, "%s: '' is not a number", what);
  }
  for (const char *c = s; *c != '\0'; c++) {
    if (*c < '0' || *c > '9') {
      return ike_cfg_perr(p, "%s: '%s' is not a number", what, s);
    }
    if (v > (UINT64_MAX - 9) / 10) {
      return ike_cfg_perr(p, "%s: '%s' not in %llu..%llu", what, s, (unsigned long long)lo,
                  (unsigned long long)hi);
    }
    v = v * 10 + (uint64_t)(*c - '0');
  }
  if (v < lo || v > hi) {
    return ike_cfg_perr(p, "%s: '%s' not in %llu..%llu", what, s, (unsigned long long)lo,
                (unsigned long long)hi);
  }
  *out = v;
  return 0;
}

int ike_cfg_get_u32(ike_cfg_pctx_t *p, const char *s, uint32_t lo, uint32_t hi, const char *what,
                   uint32_t *out) {
  uint64_t v = 0;
  if (ike_cfg_get_num(p, s, lo, hi, what, &v) != 0) {
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

/* Expect exactly n tokens, else "usage: ...". */
int ike_cfg_want(ike_cfg_pctx_t *p, int n, const char *usage) {
  if (p->ntok != n) {
    return ike_cfg_perr(p, "usage: %s", usage);
  }
  return 0;
}

/* ---- tokenizer ------------------------------------------------------------ */

/* Split p->buf into p->tok; 0, or -1 with the error set. */
static int tokenize(ike_cfg_pctx_t *p) {
  char *s = p->buf;
  p->ntok = 0;
  for (char *c = s; *c != '\0'; c++) {
    unsigned char u = (unsigned char)*c;
    if ((u < 0x20 && u != '\t') || u == 0x7f) {
      return ike_cfg_perr(p, "control character 0x%02x in line", u);
    }
  }
  while (*s != '\0') {
    while (*s == ' ' || *s == '\t') {
      s++;
    }
    if (*s == '\0' || *s == '#') {
      break; /* end of line or a trailing comment */
    }
    if (p->ntok == IKE_CFG_MAX_TOKENS) {
      return ike_cfg_perr(p, "more than %d words in line", IKE_CFG_MAX_TOKENS);
    }
    if (*s == '"') {
      char *w = ++s, *start = s;
      for (;;) {
        if (*s == '\0') {
          return ike_cfg_perr(p, "unterminated quoted string");
        }
        if (*s == '\\') {
          if (s[1] != '"' && s[1] != '\\') {
            return ike_cfg_perr(p, "bad escape in quoted string (only \\\" and \\\\)");
          }
          *w++ = s[1];
          s += 2;
          continue;
        }
        if (*s == '"') {
          break;
        }
        *w++ = *s++;
      }
      s++;
      if (*s != '\0' && *s != ' ' && *s != '\t') {
        return ike_cfg_perr(p, "text after closing quote");
      }
      p->tok[p->ntok++] = start;
      if (*s != '\0') {
        s++;
      }
      *w = '\0';
      continue;
    }
    p->tok[p->ntok++] = s;
    while (*s != '\0' && *s != ' ' && *s != '\t') {
      if (*s == '"') {
        return ike_cfg_perr(p, "quote inside a word");
      }
      s++;
    }
    if (*s != '\0') {
      *s++ = '\0';
    }
  }
  return 0;
}

/* ---- look-ups inside the config being built -------------------------------- */

static int find_ctx(const ike_config_t *c, const char *name) {
  for (int i = 0; i < c->n_contexts; i++) {
    if (strcmp(c->contexts[i].name, name) == 0) {
      return i;
    }
  }
  return -1;
}

int ike_cfg_find_tset(const ike_config_t *c, uint8_t ctx, const char *name) {
  for (int i = 0; i < c->n_tsets; i++) {
    if (c->tsets[i].ctx == ctx && strcmp(c->tsets[i].name, name) == 0) {
      return i;
    }
  }
  return -1;
}

int ike_cfg_find_pool(const ike_config_t *c, uint8_t ctx, const char *name) {
  for (int i = 0; i < c->n_pools; i++) {
    if (c->pools[i].ctx == ctx && strcmp(c->pools[i].name, name) == 0) {
      return i;
    }
  }
  return -1;
}

/* Re-copy every template's transform sets from the definitions (after a set
 * changed). A referenced set always exists: "no" of a referenced set is refused. */
static void refresh_tsets(ike_config_t *c) {
  for (int i = 0; i < c->n_templates; i++) {
    ike_cfg_template_t *t = &c->templates[i];
    for (int k = 0; k < 2; k++) {
      uint8_t n = k == 0 ? t->n_ike_tsets : t->n_child_tsets;
      uint8_t dflt = k == 0 ? t->ike_tset_default : t->child_tset_default;
      ike_cfg_tset_t *arr = k == 0 ? t->ike_tsets : t->child_tsets;
      if (dflt) {
        continue;
      }
      for (uint8_t j = 0; j < n; j++) {
        int x = ike_cfg_find_tset(c, t->ctx, arr[j].name);
        if (x >= 0) {
          arr[j] = c->tsets[x];
        }
      }
    }
  }
}

void ike_cfg_tmpl_default_tsets(ike_cfg_template_t *t, int ike) {
  if (ike) {
    memset(t->ike_tsets, 0, sizeof(t->ike_tsets));
    t->n_ike_tsets = (uint8_t)ike_cfg_default_tsets(IKE_CFG_TSET_IKE, t->ike_tsets,
                                                    IKE_CFG_MAX_TSET_REFS);
    t->ike_tset_default = 1;
  } else {
    memset(t->child_tsets, 0, sizeof(t->child_tsets));
    t->n_child_tsets = (uint8_t)ike_cfg_default_tsets(IKE_CFG_TSET_ESP, t->child_tsets,
                                                      IKE_CFG_MAX_TSET_REFS);
    t->child_tset_default = 1;
  }
}

static void tmpl_defaults(ike_cfg_template_t *t) {
  t->auth_local = IKE_CFG_AUTH_PSK;
  t->auth_remote = IKE_CFG_AUTH_PSK;
  t->pool4 = IKE_CFG_NONE;
  t->pool6 = IKE_CFG_NONE;
  t->retrans_timeout_ms = IKE_CFG_DEF_RETRANS_MS;
  t->max_retrans = IKE_CFG_DEF_MAX_RETRANS;
  t->dpd_interval_s = IKE_CFG_DEF_DPD_S;
  t->ike_lifetime_s = IKE_CFG_DEF_IKE_LIFETIME_S;
  t->cookie_threshold = IKE_CFG_DEF_COOKIE_THRESHOLD;
  t->half_open_per_peer = IKE_CFG_DEF_HALF_OPEN_PER_PEER;
  t->child_lifetime_s = IKE_CFG_DEF_CHILD_LIFETIME_S;
  ike_cfg_tmpl_default_tsets(t, 1);
  ike_cfg_tmpl_default_tsets(t, 0);
}

ike_cfg_template_t *ike_cfg_cur_tmpl(ike_cfg_pctx_t *p) {
  return &p->cfg->templates[p->cur->tmpl];
}

/* ---- block checks ---------------------------------------------------------- */

static int check_tset(ike_cfg_pctx_t *p, const ike_cfg_tset_t *s) {
  const char *kind = s->kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec";
  if (s->n_encr == 0) {
    return ike_cfg_perr(p, "%s transform-set '%s': no encryption", kind, s->name);
  }
  if (!s->aead && s->n_integ == 0) {
    return ike_cfg_perr(p, "%s transform-set '%s': no hmac (needed by %s)", kind, s->name,
                ike_cfg_encr_name(&s->encr[0]));
  }
  if (s->aead && s->n_integ != 0) {
    return ike_cfg_perr(p, "%s transform-set '%s': hmac not allowed with %s", kind, s->name,
                ike_cfg_encr_name(&s->encr[0]));
  }
  if (s->kind == IKE_CFG_TSET_IKE && s->n_prf == 0) {
    return ike_cfg_perr(p, "%s transform-set '%s': no prf", kind, s->name);
  }
  if (s->kind == IKE_CFG_TSET_IKE && s->n_dh == 0) {
    return ike_cfg_perr(p, "%s transform-set '%s': no group", kind, s->name);
  }
  return 0;
}

/* Errors name the line of the "crypto template" command. */
static int check_template(ike_cfg_pctx_t *p, const ike_cfg_template_t *t) {
  uint32_t ln = p->cur->block_line;
  int has_default_psk = 0;
  for (int i = 0; i < t->n_psks; i++) {
    has_default_psk |= t->psks[i].id.type == 0;
  }
  if (t->auth_local == IKE_CFG_AUTH_PSK && t->local_psk[0] == '\0' && !has_default_psk) {
    return ike_cfg_perr_at(p, ln, "crypto template '%s': authentication local pre-shared-key "
                   "needs a key", t->name);
  }
  if (t->auth_remote == IKE_CFG_AUTH_PSK && t->local_psk[0] == '\0' && t->n_psks == 0) {
    return ike_cfg_perr_at(p, ln, "crypto template '%s': authentication remote pre-shared-key "
                   "needs a key", t->name);
  }
  if (t->auth_local == IKE_CFG_AUTH_CERT && (t->cert_file[0] == '\0' ||
                                             t->key_file[0] == '\0')) {
    return ike_cfg_perr_at(p, ln, "crypto template '%s': authentication local certificate needs "
                   "'certificate file' and 'private-key file'", t->name);
  }
  if (t->auth_remote == IKE_CFG_AUTH_CERT && t->ca_file[0] == '\0') {
    return ike_cfg_perr_at(p, ln, "crypto template '%s': authentication remote certificate needs "
                   "'ca-certificate file'", t->name);
  }
  return 0;
}

/* Leave the current block, running its check. */
static int pop_mode(ike_cfg_pctx_t *p) {
  ike_cfg_cursor_t *c = p->cur;
  switch (c->mode) {
  case IKE_CFG_M_TSET:
    if (check_tset(p, &p->cfg->tsets[c->tset]) != 0) {
      return -1;
    }
    refresh_tsets(p->cfg);
    c->tset = IKE_CFG_NONE;
    c->mode = IKE_CFG_M_CONTEXT;
    return 0;
  case IKE_CFG_M_PAYLOAD:
    c->mode = IKE_CFG_M_TEMPLATE;
    return 0;
  case IKE_CFG_M_TEMPLATE:
    if (check_template(p, ike_cfg_cur_tmpl(p)) != 0) {
      return -1;
    }
    c->tmpl = IKE_CFG_NONE;
    c->mode = IKE_CFG_M_CONTEXT;
    return 0;
  case IKE_CFG_M_CONTEXT:
    c->ctx = IKE_CFG_NONE;
    c->mode = IKE_CFG_M_CONFIG;
    return 0;
  case IKE_CFG_M_CONFIG:
    if (p->cfg->ike_port == p->cfg->natt_port) {
      return ike_cfg_perr(p, "ike udp-port and nat-t-udp-port must differ (both %u)",
                  (unsigned)p->cfg->ike_port);
    }
    c->mode = IKE_CFG_M_TOP;
    return 0;
  default:
    return ike_cfg_perr(p, "'#exit' outside any block");
  }
}

/* ---- config mode ----------------------------------------------------------- */

static int add_bind(ike_cfg_pctx_t *p, int neg, uint8_t ctx) {
  ike_config_t *c = p->cfg;
  ike_cfg_addr_t a;
  if (ike_cfg_want(p, 3 + neg, "bind address <IPv4 or IPv6 address>") != 0) {
    return -1;
  }
  const char *s = p->tok[2 + neg];
  if (ike_cfg_parse_addr(s, &a) != 0) {
    return ike_cfg_perr(p, "bind address: '%s' is not an IPv4 or IPv6 address", s);
  }
  for (int i = 0; i < c->n_bind; i++) {
    if (memcmp(&c->bind[i].parsed, &a, sizeof(a)) == 0) {
      if (neg) {
        memmove(&c->bind[i], &c->bind[i + 1], (size_t)(c->n_bind - i - 1) * sizeof(c->bind[0]));
        c->n_bind--;
        memset(&c->bind[c->n_bind], 0, sizeof(c->bind[0]));
        return 0;
      }
      return ike_cfg_perr(p, "bind address %s given twice", s);
    }
  }
  if (neg) {
    return ike_cfg_perr(p, "bind address %s is not configured", s);
  }
  if (c->n_bind == IKE_CFG_MAX_BIND) {
    return ike_cfg_perr(p, "more than %u bind addresses", IKE_CFG_MAX_BIND);
  }
  ike_cfg_bind_t *b = &c->bind[c->n_bind];
  memset(b, 0, sizeof(*b));
  ike_cfg_addr_str(&a, b->addr, sizeof(b->addr));
  b->parsed = a;
  b->ctx = ctx;
  c->n_bind++;
  return 0;
}

static int h_config_global(ike_cfg_pctx_t *p, int neg) {
  ike_config_t *c = p->cfg;
  int o = neg; /* offset of the command words */
  if (ike_cfg_tok_is(p, o, "sessmgr") && ike_cfg_tok_is(p, o + 1, "workers")) {
    if (neg) {
      c->sessmgr_workers = 0;
      return ike_cfg_want(p, 3, "no sessmgr workers");
    }
    return (ike_cfg_want(p, 3, "sessmgr workers <0-256> (0 = one per core)") ||
           ike_cfg_get_u32(p, p->tok[2], 0, 256, "sessmgr workers", &c->sessmgr_workers)) ? -1 : 0;
  }
  if (ike_cfg_tok_is(p, o, "datapath") && ike_cfg_tok_is(p, o + 1, "max-sas")) {
    if (neg) {
      c->max_sas = IKE_CFG_DEF_MAX_SAS;
      return ike_cfg_want(p, 3, "default datapath max-sas");
    }
    return (ike_cfg_want(p, 3, "datapath max-sas <1024-16777216> (SAs, both directions)") ||
            ike_cfg_get_u32(p, p->tok[2], 1024, 16777216, "datapath max-sas", &c->max_sas))
               ? -1 : 0;
  }
  if (ike_cfg_tok_is(p, o, "datapath") && !neg) {
    if (ike_cfg_want(p, 2, "datapath userspace|xfrm") != 0) {
      return -1;
    }
    if (strcmp(p->tok[1], "userspace") == 0) {
      c->datapath = IKE_CFG_DP_USERSPACE;
    } else if (strcmp(p->tok[1], "xfrm") == 0) {
      c->datapath = IKE_CFG_DP_XFRM;
    } else {
      return ike_cfg_perr(p, "datapath: '%s' is not userspace or xfrm", p->tok[1]);
    }
    return 0;
  }
  if (ike_cfg_tok_is(p, o, "state-directory") && !neg) {
    return (ike_cfg_want(p, 2, "state-directory <path>") ||
           ike_cfg_set_str(p, c->state_dir, sizeof(c->state_dir), p->tok[1], "state-directory")) ? -1 : 0;
  }
  if (ike_cfg_tok_is(p, o, "checkpoint") && ike_cfg_tok_is(p, o + 1, "sync")) {
    if (neg) {
      c->ckpt_sync_ms = IKE_CFG_DEF_CKPT_SYNC_MS;
      return ike_cfg_want(p, 3, "default checkpoint sync");
    }
    if (ike_cfg_want(p, 5, "checkpoint sync every <0-60000> ms (0 = every commit)") != 0 ||
        !ike_cfg_tok_is(p, 2, "every") || !ike_cfg_tok_is(p, 4, "ms")) {
      return ike_cfg_perr(p, "usage: checkpoint sync every <0-60000> ms (0 = every commit)");
    }
    return ike_cfg_get_u32(p, p->tok[3], 0, 60000, "checkpoint sync", &c->ckpt_sync_ms);
  }
  if (ike_cfg_tok_is(p, o, "logging") && ike_cfg_tok_is(p, o + 1, "level") && !neg) {
    static const char *lv[] = {"error", "warning", "info", "debug"};
    if (ike_cfg_want(p, 3, "logging level error|warning|info|debug") != 0) {
      return -1;
    }
    for (unsigned i = 0; i < 4; i++) {
      if (strcmp(p->tok[2], lv[i]) == 0) {
        c->log_level = (uint8_t)i;
        return 0;
      }
    }
    return ike_cfg_perr(p, "logging level: '%s' is not error, warning, info or debug", p->tok[2]);
  }
  if (ike_cfg_tok_is(p, o, "ike") && (ike_cfg_tok_is(p, o + 1, "udp-port") ||
                              ike_cfg_tok_is(p, o + 1, "nat-t-udp-port")) && !neg) {
    int natt = ike_cfg_tok_is(p, 1, "nat-t-udp-port");
    uint32_t v;
    if (ike_cfg_want(p, 3, natt ? "ike nat-t-udp-port <1-65535>" : "ike udp-port <1-65535>") ||
        ike_cfg_get_u32(p, p->tok[2], 1, 65535, natt ? "ike nat-t-udp-port" : "ike udp-port", &v)) {
      return -1;
    }
    *(natt ? &c->natt_port : &c->ike_port) = (uint16_t)v;
    return 0; /* checked against each other when config mode ends */
  }
  if (ike_cfg_tok_is(p, o, "bulkstats") && ike_cfg_tok_is(p, o + 1, "file")) {
    if (neg) {
      memset(c->bulkstats_file, 0, sizeof(c->bulkstats_file));
      return ike_cfg_want(p, 3, "no bulkstats file");
    }
    return (ike_cfg_want(p, 3, "bulkstats file <path>") ||
           ike_cfg_set_str(p, c->bulkstats_file, sizeof(c->bulkstats_file), p->tok[2],
                   "bulkstats file")) ? -1 : 0;
  }
  if (ike_cfg_tok_is(p, o, "bulkstats") && ike_cfg_tok_is(p, o + 1, "interval")) {
    if (neg) {
      c->bulkstats_interval_s = 0;
      return ike_cfg_want(p, 3, "no bulkstats interval");
    }
    return (ike_cfg_want(p, 3, "bulkstats interval <0-86400> (seconds, 0 = off)") ||
           ike_cfg_get_u32(p, p->tok[2], 0, 86400, "bulkstats interval", &c->bulkstats_interval_s)) ? -1 : 0;
  }
  if (ike_cfg_tok_is(p, o, "bind") && ike_cfg_tok_is(p, o + 1, "address")) {
    return add_bind(p, neg, IKE_CFG_NONE);
  }
  return IKE_CFG_NOT_MINE;
}

static int h_config(ike_cfg_pctx_t *p) {
  ike_config_t *c = p->cfg;
  if (ike_cfg_tok_is(p, 0, "context")) {
    if (ike_cfg_want(p, 2, "context <name>") != 0) {
      return -1;
    }
    int i = find_ctx(c, p->tok[1]);
    if (i < 0) {
      if (c->n_contexts == IKE_CFG_MAX_CONTEXTS) {
        return ike_cfg_perr(p, "more than %u contexts", IKE_CFG_MAX_CONTEXTS);
      }
      i = c->n_contexts;
      if (ike_cfg_set_name(p, c->contexts[i].name, p->tok[1], "context name") != 0) {
        return -1;
      }
      c->n_contexts++;
    }
    p->cur->ctx = (uint8_t)i;
    p->cur->mode = IKE_CFG_M_CONTEXT;
    return 0;
  }
  if (ike_cfg_tok_is(p, 0, "no") || ike_cfg_tok_is(p, 0, "default")) {
    if (p->ntok < 2) {
      return ike_cfg_perr(p, "usage: %s <command>", p->tok[0]);
    }
    return h_config_global(p, 1);
  }
  return h_config_global(p, 0);
}

/* ---- context mode ---------------------------------------------------------- */

static int h_pool(ike_cfg_pctx_t *p, int neg) {
  ike_config_t *c = p->cfg;
  uint8_t ctx = p->cur->ctx;
  if (neg) {
    if (ike_cfg_want(p, 4, "no ip pool <name>") != 0) {
      return -1;
    }
    int i = ike_cfg_find_pool(c, ctx, p->tok[3]);
    if (i < 0) {
      return ike_cfg_perr(p, "ip pool '%s' does not exist", p->tok[3]);
    }
    for (int t = 0; t < c->n_templates; t++) {
      if (c->templates[t].pool4 == i || c->templates[t].pool6 == i) {
        return ike_cfg_perr(p, "ip pool '%s' is used by crypto template '%s'", p->tok[3],
                    c->templates[t].name);
      }
    }
    memmove(&c->pools[i], &c->pools[i + 1], (size_t)(c->n_pools - i - 1) * sizeof(c->pools[0]));
    c->n_pools--;
    memset(&c->pools[c->n_pools], 0, sizeof(c->pools[0]));
    for (int t = 0; t < c->n_templates; t++) {
      ike_cfg_template_t *tp = &c->templates[t];
      if (tp->pool4 != IKE_CFG_NONE && tp->pool4 > i) {
        tp->pool4--;
      }
      if (tp->pool6 != IKE_CFG_NONE && tp->pool6 > i) {
        tp->pool6--;
      }
    }
    return 0;
  }
  ike_cfg_prefix_t pf;
  if (ike_cfg_want(p, 4, "ip pool <name> <prefix/len>") != 0) {
    return -1;
  }
  if (ike_cfg_parse_prefix(p->tok[3], &pf) != 0 || strchr(p->tok[3], '/') == NULL) {
    return ike_cfg_perr(p, "ip pool: '%s' is not a prefix like 10.10.0.0/24 or 2001:db8::/64",
                p->tok[3]);
  }
  if ((pf.family == AF_INET && pf.plen > 30) || (pf.family == AF_INET6 && pf.plen > 126)) {
    return ike_cfg_perr(p, "ip pool: prefix %s too small for addresses", p->tok[3]);
  }
  int i = ike_cfg_find_pool(c, ctx, p->tok[2]);
  if (i >= 0) {
    for (int t = 0; t < c->n_templates; t++) {
      const ike_cfg_template_t *tp = &c->templates[t];
      if ((tp->pool4 == i || tp->pool6 == i) && c->pools[i].prefix.family != pf.family) {
        return ike_cfg_perr(p, "ip pool '%s' is used by crypto template '%s': family cannot change",
                    p->tok[2], tp->name);
      }
    }
  } else {
    if (c->n_pools == IKE_CFG_MAX_POOLS) {
      return ike_cfg_perr(p, "more than %u ip pools", IKE_CFG_MAX_POOLS);
    }
    i = c->n_pools;
    if (ike_cfg_set_name(p, c->pools[i].name, p->tok[2], "ip pool name") != 0) {
      return -1;
    }
    c->n_pools++;
  }
  c->pools[i].ctx = ctx;
  c->pools[i].prefix = pf;
  return 0;
}

static int enter_tset(ike_cfg_pctx_t *p, int kind) {
  ike_config_t *c = p->cfg;
  const char *name = p->tok[2];
  int i = ike_cfg_find_tset(c, p->cur->ctx, name);
  if (i >= 0 && c->tsets[i].kind != kind) {
    return ike_cfg_perr(p, "transform-set '%s' already exists as %s transform-set", name,
                c->tsets[i].kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec");
  }
  if (i < 0) {
    if (c->n_tsets == IKE_CFG_MAX_TSETS) {
      return ike_cfg_perr(p, "more than %u transform sets", IKE_CFG_MAX_TSETS);
    }
    i = c->n_tsets;
    ike_cfg_tset_t *s = &c->tsets[i];
    memset(s, 0, sizeof(*s));
    if (ike_cfg_set_name(p, s->name, name, "transform-set name") != 0) {
      return -1;
    }
    s->kind = (uint8_t)kind;
    s->ctx = p->cur->ctx;
    c->n_tsets++;
  }
  p->cur->tset = (uint8_t)i;
  p->cur->mode = IKE_CFG_M_TSET;
  return 0;
}

static int enter_template(ike_cfg_pctx_t *p) {
  ike_config_t *c = p->cfg;
  if (ike_cfg_want(p, 4, "crypto template <name> ikev2-dynamic") != 0) {
    return -1;
  }
  if (strcmp(p->tok[3], "ikev2-dynamic") != 0) {
    return ike_cfg_perr(p, "crypto template type '%s' not supported (only ikev2-dynamic)",
                p->tok[3]);
  }
  int i = ike_config_template_index(c, p->tok[2]);
  if (i >= 0 && c->templates[i].ctx != p->cur->ctx) {
    return ike_cfg_perr(p, "crypto template '%s' already exists in context '%s'", p->tok[2],
                c->contexts[c->templates[i].ctx].name);
  }
  if (i < 0) {
    if (c->n_templates == IKE_CFG_MAX_TEMPLATES) {
      return ike_cfg_perr(p, "more than %u crypto templates", IKE_CFG_MAX_TEMPLATES);
    }
    i = c->n_templates;
    ike_cfg_template_t *t = &c->templates[i];
    memset(t, 0, sizeof(*t));
    if (ike_cfg_set_name(p, t->name, p->tok[2], "crypto template name") != 0) {
      return -1;
    }
    t->ctx = p->cur->ctx;
    tmpl_defaults(t);
    c->n_templates++;
  }
  p->cur->tmpl = (uint8_t)i;
  p->cur->block_line = p->cur->line;
  p->cur->mode = IKE_CFG_M_TEMPLATE;
  return 0;
}

static int tset_in_use(ike_cfg_pctx_t *p, const char *name) {
  const ike_config_t *c = p->cfg;
  for (int t = 0; t < c->n_templates; t++) {
    const ike_cfg_template_t *tp = &c->templates[t];
    if (tp->ctx != p->cur->ctx) {
      continue;
    }
    for (int k = 0; k < tp->n_ike_tsets && !tp->ike_tset_default; k++) {
      if (strcmp(tp->ike_tsets[k].name, name) == 0) {
        return ike_cfg_perr(p, "transform-set '%s' is used by crypto template '%s'", name, tp->name);
      }
    }
    for (int k = 0; k < tp->n_child_tsets && !tp->child_tset_default; k++) {
      if (strcmp(tp->child_tsets[k].name, name) == 0) {
        return ike_cfg_perr(p, "transform-set '%s' is used by crypto template '%s'", name, tp->name);
      }
    }
  }
  return 0;
}

static int h_context_no(ike_cfg_pctx_t *p) {
  ike_config_t *c = p->cfg;
  if (ike_cfg_tok_is(p, 1, "ip") && ike_cfg_tok_is(p, 2, "pool")) {
    return h_pool(p, 1);
  }
  if (ike_cfg_tok_is(p, 1, "bind") && ike_cfg_tok_is(p, 2, "address")) {
    return add_bind(p, 1, p->cur->ctx);
  }
  if ((ike_cfg_tok_is(p, 1, "ikev2-ikesa") || ike_cfg_tok_is(p, 1, "ipsec")) && ike_cfg_tok_is(p, 2, "transform-set")) {
    if (ike_cfg_want(p, 4, "no ikev2-ikesa|ipsec transform-set <name>") != 0) {
      return -1;
    }
    int i = ike_cfg_find_tset(c, p->cur->ctx, p->tok[3]);
    if (i < 0) {
      return ike_cfg_perr(p, "transform-set '%s' does not exist", p->tok[3]);
    }
    if (tset_in_use(p, p->tok[3]) != 0) {
      return -1;
    }
    memmove(&c->tsets[i], &c->tsets[i + 1], (size_t)(c->n_tsets - i - 1) * sizeof(c->tsets[0]));
    c->n_tsets--;
    memset(&c->tsets[c->n_tsets], 0, sizeof(c->tsets[0]));
    return 0;
  }
  if (ike_cfg_tok_is(p, 1, "crypto") && ike_cfg_tok_is(p, 2, "template")) {
    if (ike_cfg_want(p, 4, "no crypto template <name>") != 0) {
      return -1;
    }
    int i = ike_config_template_index(c, p->tok[3]);
    if (i < 0 || c->templates[i].ctx != p->cur->ctx) {
      return ike_cfg_perr(p, "crypto template '%s' does not exist", p->tok[3]);
    }
    memmove(&c->templates[i], &c->templates[i + 1],
            (size_t)(c->n_templates - i - 1) * sizeof(c->templates[0]));
    c->n_templates--;
    memset(&c->templates[c->n_templates], 0, sizeof(c->templates[0]));
    return 0;
  }
  return IKE_CFG_NOT_MINE;
}

static int h_context(ike_cfg_pctx_t *p) {
  if (ike_cfg_tok_is(p, 0, "no")) {
    return h_context_no(p);
  }
  if (ike_cfg_tok_is(p, 0, "bind") && ike_cfg_tok_is(p, 1, "address")) {
    return add_bind(p, 0, p->cur->ctx);
  }
  if (ike_cfg_tok_is(p, 0, "ip") && ike_cfg_tok_is(p, 1, "pool")) {
    return h_pool(p, 0);
  }
  if ((ike_cfg_tok_is(p, 0, "ikev2-ikesa") || ike_cfg_tok_is(p, 0, "ipsec")) && ike_cfg_tok_is(p, 1, "transform-set") &&
      !ike_cfg_tok_is(p, 2, "list")) {
    if (ike_cfg_want(p, 3, ike_cfg_tok_is(p, 0, "ipsec") ? "ipsec transform-set <name>"
                                         : "ikev2-ikesa transform-set <name>") != 0) {
      return -1;
    }
    return enter_tset(p, ike_cfg_tok_is(p, 0, "ipsec") ? IKE_CFG_TSET_ESP : IKE_CFG_TSET_IKE);
  }
  if (ike_cfg_tok_is(p, 0, "crypto") && ike_cfg_tok_is(p, 1, "template")) {
    return enter_template(p);
  }
  return IKE_CFG_NOT_MINE;
}

/* ---- transform-set mode ---------------------------------------------------- */

static int h_tset(ike_cfg_pctx_t *p) {
  ike_cfg_tset_t *s = &p->cfg->tsets[p->cur->tset];
  const char *cmd = p->tok[0];
  int is_encr = strcmp(cmd, "encryption") == 0;
  int is_prf = strcmp(cmd, "prf") == 0 && s->kind == IKE_CFG_TSET_IKE;
  int is_integ = strcmp(cmd, "hmac") == 0 || strcmp(cmd, "integrity") == 0;
  int is_dh = strcmp(cmd, "group") == 0;
  if (!is_encr && !is_prf && !is_integ && !is_dh) {
    return IKE_CFG_NOT_MINE;
  }
  if (p->ntok < 2) {
    return ike_cfg_perr(p, "usage: %s <algorithm> [<algorithm> ...]", cmd);
  }
  if (p->ntok - 1 > (int)IKE_CFG_MAX_ALGS) {
    return ike_cfg_perr(p, "%s: more than %u algorithms", cmd, IKE_CFG_MAX_ALGS);
  }
  const ike_cfg_alg_t *tab = is_encr ? ike_cfg_encr_tab : is_prf ? ike_cfg_prf_tab
                             : is_integ ? ike_cfg_integ_tab : ike_cfg_dh_tab;
  ike_cfg_tset_t n = *s;
  uint8_t cnt = 0;
  if (is_dh && s->kind == IKE_CFG_TSET_ESP && p->ntok == 2 && strcmp(p->tok[1], "none") == 0) {
    memset(n.dh, 0, sizeof(n.dh));
    n.n_dh = 0;
    *s = n;
    return 0;
  }
  for (int i = 1; i < p->ntok; i++) {
    const ike_cfg_alg_t *a = ike_cfg_alg_by_name(tab, p->tok[i]);
    if (a == NULL) {
      return ike_cfg_perr(p, "%s: unknown algorithm '%s'", cmd, p->tok[i]);
    }
    if (is_encr) {
      if (cnt > 0 && a->aead != n.aead) {
        return ike_cfg_perr(p, "encryption: '%s' mixes AEAD and non-AEAD ciphers in one "
                    "transform set; use two sets", p->tok[i]);
      }
      n.aead = a->aead;
      n.encr[cnt].id = a->id;
      n.encr[cnt].keylen = a->keylen;
    } else {
      uint16_t *arr = is_prf ? n.prf : is_integ ? n.integ : n.dh;
      for (uint8_t j = 0; j < cnt; j++) {
        if (arr[j] == a->id) {
          return ike_cfg_perr(p, "%s: '%s' listed twice", cmd, p->tok[i]);
        }
      }
      arr[cnt] = a->id;
    }
    cnt++;
  }
  if (is_encr) {
    memset(&n.encr[cnt], 0, sizeof(n.encr[0]) * (IKE_CFG_MAX_ALGS - cnt));
    n.n_encr = cnt;
  } else {
    uint16_t *arr = is_prf ? n.prf : is_integ ? n.integ : n.dh;
    memset(&arr[cnt], 0, sizeof(arr[0]) * (IKE_CFG_MAX_ALGS - cnt));
    *(is_prf ? &n.n_prf : is_integ ? &n.n_integ : &n.n_dh) = cnt;
  }
  *s = n;
  return 0;
}

/* ---- driver ---------------------------------------------------------------- */

static int dispatch(ike_cfg_pctx_t *p) {
  switch (p->cur->mode) {
  case IKE_CFG_M_CONFIG:
    return h_config(p);
  case IKE_CFG_M_CONTEXT:
    return h_context(p);
  case IKE_CFG_M_TEMPLATE:
    return ike_cfg_h_template(p);
  case IKE_CFG_M_PAYLOAD:
    return ike_cfg_h_payload(p);
  case IKE_CFG_M_TSET:
    return h_tset(p);
  default:
    return IKE_CFG_NOT_MINE;
  }
}

/* Apply p->buf (already copied, NUL-terminated) to p->cfg in place. */
static int apply_tokens(ike_cfg_pctx_t *p) {
  const char *s = p->buf;
  while (*s == ' ' || *s == '\t') {
    s++;
  }
  if (*s == '#') {
    if (strncmp(s, "#exit", 5) == 0 && (s[5] == '\0' || s[5] == ' ' || s[5] == '\t')) {
      return pop_mode(p);
    }
    return 0; /* comment */
  }
  if (tokenize(p) != 0) {
    return -1;
  }
  if (p->ntok == 0) {
    return 0;
  }
  if (ike_cfg_tok_is(p, 0, "end") || ike_cfg_tok_is(p, 0, "exit")) {
    int all = ike_cfg_tok_is(p, 0, "end");
    if (p->ntok != 1) {
      return ike_cfg_perr(p, "usage: %s", p->tok[0]);
    }
    if (p->cur->mode == IKE_CFG_M_TOP) {
      return ike_cfg_perr(p, "'%s' outside any block", p->tok[0]);
    }
    do {
      if (pop_mode(p) != 0) {
        return -1;
      }
    } while (all && p->cur->mode != IKE_CFG_M_TOP);
    return 0;
  }
  if (p->cur->mode == IKE_CFG_M_CONFIG && p->ntok == 1 && ike_cfg_tok_is(p, 0, "config")) {
    /* Already in config mode (gwctl configure starts there): an operator
     * pasting a block that begins with "config", as the seed prints it. */
    return 0;
  }
  if (p->cur->mode == IKE_CFG_M_TOP) {
    if (ike_cfg_tok_is(p, 0, "config")) {
      p->cur->mode = IKE_CFG_M_CONFIG;
      return ike_cfg_want(p, 1, "config");
    }
    return ike_cfg_perr(p, "'%s' before 'config'", p->tok[0]);
  }
  for (;;) {
    int r = dispatch(p);
    if (r != IKE_CFG_NOT_MINE) {
      return r;
    }
    if (p->cur->mode == IKE_CFG_M_CONFIG) {
      if ((ike_cfg_tok_is(p, 0, "no") || ike_cfg_tok_is(p, 0, "default")) && p->ntok > 1) {
        return ike_cfg_perr(p, "unknown command '%s %s'", p->tok[0], p->tok[1]);
      }
      return ike_cfg_perr(p, "unknown command '%s'", p->tok[0]);
    }
    if (pop_mode(p) != 0) {
      return -1;
    }
  }
}

static int load_line(ike_cfg_pctx_t *p, const char *line, size_t len) {
  if (len > IKE_CFG_LINE_MAX) {
    return ike_cfg_perr(p, "line longer than %u bytes", IKE_CFG_LINE_MAX);
  }
  if (memchr(line, '\0', len) != NULL) {
    return ike_cfg_perr(p, "NUL byte in line");
  }
  if (len > 0 && line[len - 1] == '\r') {
    len--;
  }
  memcpy(p->buf, line, len);
  p->buf[len] = '\0';
  return 0;
}

void ike_cfg_cursor_init(ike_cfg_cursor_t *cur, const char *name) {
  memset(cur, 0, sizeof(*cur));
  snprintf(cur->name, sizeof(cur->name), "%s", name != NULL ? name : "config");
  cur->mode = IKE_CFG_M_CONFIG;
  cur->ctx = cur->tmpl = cur->tset = IKE_CFG_NONE;
}

/* Run lines of buf over cfg (in place) from cursor state; close all blocks at the
 * end. Used by the file parser (cursor at top) and apply_buf (cursor at config). */
static int run_buf(ike_config_t *cfg, ike_cfg_cursor_t *cur, const void *buf, size_t len,
                   char *err, size_t errlen) {
  ike_cfg_pctx_t *p = calloc(1, sizeof(*p));
  const char *s = buf, *end = s + len;
  int rc = -1;
  if (p == NULL) {
    snprintf(err, errlen, "%s:0: out of memory", cur->name);
    return -1;
  }
  p->cfg = cfg;
  p->cur = cur;
  p->err = err;
  p->errlen = errlen;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
    if (cur->line >= IKE_CFG_LINES_MAX) {
      ike_cfg_perr(p, "more than %u lines", IKE_CFG_LINES_MAX);
      goto done;
    }
    cur->line++;
    if (load_line(p, s, n) != 0 || apply_tokens(p) != 0) {
      goto done;
    }
    s += n + (nl != NULL);
  }
  while (cur->mode != IKE_CFG_M_TOP) {
    if (pop_mode(p) != 0) {
      goto done;
    }
  }
  rc = 0;
done:
  free(p);
  return rc;
}

int ike_config_parse_buf(const char *name, const void *buf, size_t len, ike_config_t *cfg,
                         char *err, size_t errlen) {
  ike_cfg_cursor_t cur;
  ike_config_t *tmp = calloc(1, sizeof(*tmp));
  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  ike_cfg_cursor_init(&cur, name);
  cur.mode = IKE_CFG_M_TOP;
  if (tmp == NULL) {
    snprintf(err, errlen, "%s:0: out of memory", cur.name);
    return -1;
  }
  ike_config_init(tmp);
  if (len > IKE_CFG_FILE_MAX) {
    snprintf(err, errlen, "%s:0: file larger than %u bytes", cur.name, IKE_CFG_FILE_MAX);
    free(tmp);
    return -1;
  }
  int rc = run_buf(tmp, &cur, buf, len, err, errlen);
  if (rc == 0) {
    memcpy(cfg, tmp, sizeof(*tmp));
  }
  free(tmp);
  return rc;
}

int ike_config_load(const char *path, ike_config_t *cfg, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *data = NULL;
  size_t len = 0;
  int rc = -1;
  if (f == NULL) {
    snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
    return -1;
  }
  data = malloc(IKE_CFG_FILE_MAX + 1);
  if (data == NULL) {
    snprintf(err, errlen, "%s:0: out of memory", path);
    goto done;
  }
  len = fread(data, 1, IKE_CFG_FILE_MAX + 1, f);
  if (ferror(f)) {
    snprintf(err, errlen, "%s:0: read error: %s", path, strerror(errno));
    goto done;
  }
  rc = ike_config_parse_buf(path, data, len, cfg, err, errlen);
done:
  free(data);
  fclose(f);
  return rc;
}

int ike_config_apply_line(ike_config_t *cfg, ike_cfg_cursor_t *cur, const char *line,
                          char *err, size_t errlen) {
  ike_config_t *tmp = malloc(sizeof(*tmp));
  ike_cfg_pctx_t *p = calloc(1, sizeof(*p));
  ike_cfg_cursor_t c2 = *cur;
  int rc = -1;
  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (tmp == NULL || p == NULL) {
    snprintf(err, errlen, "%s:%u: out of memory", cur->name, (unsigned)cur->line + 1);
    goto done;
  }
  memcpy(tmp, cfg, sizeof(*tmp));
  c2.line++;
  p->cfg = tmp;
  p->cur = &c2;
  p->err = err;
  p->errlen = errlen;
  if (load_line(p, line, strlen(line)) != 0 || apply_tokens(p) != 0) {
    cur->line = c2.line; /* the failed line still counts */
    goto done;
  }
  memcpy(cfg, tmp, sizeof(*tmp));
  *cur = c2;
  rc = 0;
done:
  free(tmp);
  free(p);
  return rc;
}

int ike_config_apply_buf(ike_config_t *cfg, const char *name, const void *buf, size_t len,
                         char *err, size_t errlen) {
  ike_cfg_cursor_t cur;
  ike_config_t *tmp = malloc(sizeof(*tmp));
  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  ike_cfg_cursor_init(&cur, name);
  if (tmp == NULL) {
    snprintf(err, errlen, "%s:0: out of memory", cur.name);
    return -1;
  }
  memcpy(tmp, cfg, sizeof(*tmp));
  int rc = len > IKE_CFG_FILE_MAX ? -1 : run_buf(tmp, &cur, buf, len, err, errlen);
  if (len > IKE_CFG_FILE_MAX) {
    snprintf(err, errlen, "%s:0: input larger than %u bytes", cur.name, IKE_CFG_FILE_MAX);
  }
  if (rc == 0) {
    memcpy(cfg, tmp, sizeof(*tmp));
  }
  free(tmp);
  return rc;
}
