/*
 * ike_config.c - reader of the StarOS-style configuration (grammar: ike_config.h,
 * deploy/CONFIG.md).
 *
 * Lines are split into tokens (double quotes group, \" and \\ escape, an unquoted
 * token starting with '#' starts a comment). Each mode has one handler; a handler
 * that does not know a command answers NOT_MINE and the line is retried in the
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

#define MAX_TOKENS 40
#define NOT_MINE 1

/* The state of one line being applied. */
typedef struct pctx {
  ike_config_t *cfg;
  ike_cfg_cursor_t *cur;
  char *err;
  size_t errlen;
  int ntok;
  char *tok[MAX_TOKENS];
  char buf[IKE_CFG_LINE_MAX + 1];
} pctx_t;

/* Write "name:line: reason" (line as given) and return -1. */
static int perr_at(pctx_t *p, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr_at(pctx_t *p, uint32_t line, const char *fmt, ...) {
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

#define perr(p, ...) perr_at((p), (p)->cur->line, __VA_ARGS__)

static int tok_is(const pctx_t *p, int i, const char *s) {
  return i < p->ntok && strcmp(p->tok[i], s) == 0;
}

/* Copy src into a fixed field of size cap; error if it does not fit. */
static int set_str(pctx_t *p, char *dst, size_t cap, const char *src, const char *what) {
  size_t n = strlen(src);
  if (n == 0) {
    return perr(p, "%s must not be empty", what);
  }
  if (n >= cap) {
    return perr(p, "%s longer than %zu characters", what, cap - 1);
  }
  memset(dst, 0, cap);
  memcpy(dst, src, n);
  return 0;
}

/* A name: letters, digits, '-', '_', '.'. */
static int set_name(pctx_t *p, char *dst, const char *src, const char *what) {
  for (const char *s = src; *s != '\0'; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_' || c == '.')) {
      return perr(p, "%s '%s': only letters, digits, '-', '_' and '.' allowed", what, src);
    }
  }
  return set_str(p, dst, IKE_CFG_NAME_MAX, src, what);
}

/* Parse a decimal number in [lo, hi]. */
static int get_num(pctx_t *p, const char *s, uint64_t lo, uint64_t hi, const char *what,
                   uint64_t *out) {
  uint64_t v = 0;
  if (*s == '\0') {
    return perr(p, "%s: '' is not a number", what);
  }
  for (const char *c = s; *c != '\0'; c++) {
    if (*c < '0' || *c > '9') {
      return perr(p, "%s: '%s' is not a number", what, s);
    }
    if (v > (UINT64_MAX - 9) / 10) {
      return perr(p, "%s: '%s' not in %llu..%llu", what, s, (unsigned long long)lo,
                  (unsigned long long)hi);
    }
    v = v * 10 + (uint64_t)(*c - '0');
  }
  if (v < lo || v > hi) {
    return perr(p, "%s: '%s' not in %llu..%llu", what, s, (unsigned long long)lo,
                (unsigned long long)hi);
  }
  *out = v;
  return 0;
}

static int get_u32(pctx_t *p, const char *s, uint32_t lo, uint32_t hi, const char *what,
                   uint32_t *out) {
  uint64_t v;
  if (get_num(p, s, lo, hi, what, &v) != 0) {
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

/* Expect exactly n tokens, else "usage: ...". */
static int want(pctx_t *p, int n, const char *usage) {
  if (p->ntok != n) {
    return perr(p, "usage: %s", usage);
  }
  return 0;
}

/* ---- tokenizer ------------------------------------------------------------ */

/* Split p->buf into p->tok; 0, or -1 with the error set. */
static int tokenize(pctx_t *p) {
  char *s = p->buf;
  p->ntok = 0;
  for (char *c = s; *c != '\0'; c++) {
    unsigned char u = (unsigned char)*c;
    if ((u < 0x20 && u != '\t') || u == 0x7f) {
      return perr(p, "control character 0x%02x in line", u);
    }
  }
  while (*s != '\0') {
    while (*s == ' ' || *s == '\t') {
      s++;
    }
    if (*s == '\0' || *s == '#') {
      break; /* end of line or a trailing comment */
    }
    if (p->ntok == MAX_TOKENS) {
      return perr(p, "more than %d words in line", MAX_TOKENS);
    }
    if (*s == '"') {
      char *w = ++s, *start = s;
      for (;;) {
        if (*s == '\0') {
          return perr(p, "unterminated quoted string");
        }
        if (*s == '\\') {
          if (s[1] != '"' && s[1] != '\\') {
            return perr(p, "bad escape in quoted string (only \\\" and \\\\)");
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
        return perr(p, "text after closing quote");
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
        return perr(p, "quote inside a word");
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

static int find_tset(const ike_config_t *c, uint8_t ctx, const char *name) {
  for (int i = 0; i < c->n_tsets; i++) {
    if (c->tsets[i].ctx == ctx && strcmp(c->tsets[i].name, name) == 0) {
      return i;
    }
  }
  return -1;
}

static int find_pool(const ike_config_t *c, uint8_t ctx, const char *name) {
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
        int x = find_tset(c, t->ctx, arr[j].name);
        if (x >= 0) {
          arr[j] = c->tsets[x];
        }
      }
    }
  }
}

static void tmpl_default_tsets(ike_cfg_template_t *t, int ike) {
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
  t->child_lifetime_s = IKE_CFG_DEF_CHILD_LIFETIME_S;
  tmpl_default_tsets(t, 1);
  tmpl_default_tsets(t, 0);
}

static ike_cfg_template_t *cur_tmpl(pctx_t *p) {
  return &p->cfg->templates[p->cur->tmpl];
}

/* ---- block checks ---------------------------------------------------------- */

static int check_tset(pctx_t *p, const ike_cfg_tset_t *s) {
  const char *kind = s->kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec";
  if (s->n_encr == 0) {
    return perr(p, "%s transform-set '%s': no encryption", kind, s->name);
  }
  if (!s->aead && s->n_integ == 0) {
    return perr(p, "%s transform-set '%s': no hmac (needed by %s)", kind, s->name,
                ike_cfg_encr_name(&s->encr[0]));
  }
  if (s->aead && s->n_integ != 0) {
    return perr(p, "%s transform-set '%s': hmac not allowed with %s", kind, s->name,
                ike_cfg_encr_name(&s->encr[0]));
  }
  if (s->kind == IKE_CFG_TSET_IKE && s->n_prf == 0) {
    return perr(p, "%s transform-set '%s': no prf", kind, s->name);
  }
  if (s->kind == IKE_CFG_TSET_IKE && s->n_dh == 0) {
    return perr(p, "%s transform-set '%s': no group", kind, s->name);
  }
  return 0;
}

/* Errors name the line of the "crypto template" command. */
static int check_template(pctx_t *p, const ike_cfg_template_t *t) {
  uint32_t ln = p->cur->block_line;
  int has_default_psk = 0;
  for (int i = 0; i < t->n_psks; i++) {
    has_default_psk |= t->psks[i].id.type == 0;
  }
  if (t->auth_local == IKE_CFG_AUTH_PSK && t->local_psk[0] == '\0' && !has_default_psk) {
    return perr_at(p, ln, "crypto template '%s': authentication local pre-shared-key "
                   "needs a key", t->name);
  }
  if (t->auth_remote == IKE_CFG_AUTH_PSK && t->local_psk[0] == '\0' && t->n_psks == 0) {
    return perr_at(p, ln, "crypto template '%s': authentication remote pre-shared-key "
                   "needs a key", t->name);
  }
  if (t->auth_local == IKE_CFG_AUTH_CERT && (t->cert_file[0] == '\0' ||
                                             t->key_file[0] == '\0')) {
    return perr_at(p, ln, "crypto template '%s': authentication local certificate needs "
                   "'certificate file' and 'private-key file'", t->name);
  }
  if (t->auth_remote == IKE_CFG_AUTH_CERT && t->ca_file[0] == '\0') {
    return perr_at(p, ln, "crypto template '%s': authentication remote certificate needs "
                   "'ca-certificate file'", t->name);
  }
  return 0;
}

/* Leave the current block, running its check. */
static int pop_mode(pctx_t *p) {
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
    if (check_template(p, cur_tmpl(p)) != 0) {
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
      return perr(p, "ike udp-port and nat-t-udp-port must differ (both %u)",
                  (unsigned)p->cfg->ike_port);
    }
    c->mode = IKE_CFG_M_TOP;
    return 0;
  default:
    return perr(p, "'#exit' outside any block");
  }
}

/* ---- config mode ----------------------------------------------------------- */

static int add_bind(pctx_t *p, int neg, uint8_t ctx) {
  ike_config_t *c = p->cfg;
  ike_cfg_addr_t a;
  if (want(p, 3 + neg, "bind address <IPv4 or IPv6 address>") != 0) {
    return -1;
  }
  const char *s = p->tok[2 + neg];
  if (ike_cfg_parse_addr(s, &a) != 0) {
    return perr(p, "bind address: '%s' is not an IPv4 or IPv6 address", s);
  }
  for (int i = 0; i < c->n_bind; i++) {
    if (memcmp(&c->bind[i].parsed, &a, sizeof(a)) == 0) {
      if (neg) {
        memmove(&c->bind[i], &c->bind[i + 1], (size_t)(c->n_bind - i - 1) * sizeof(c->bind[0]));
        c->n_bind--;
        memset(&c->bind[c->n_bind], 0, sizeof(c->bind[0]));
        return 0;
      }
      return perr(p, "bind address %s given twice", s);
    }
  }
  if (neg) {
    return perr(p, "bind address %s is not configured", s);
  }
  if (c->n_bind == IKE_CFG_MAX_BIND) {
    return perr(p, "more than %u bind addresses", IKE_CFG_MAX_BIND);
  }
  ike_cfg_bind_t *b = &c->bind[c->n_bind];
  memset(b, 0, sizeof(*b));
  ike_cfg_addr_str(&a, b->addr, sizeof(b->addr));
  b->parsed = a;
  b->ctx = ctx;
  c->n_bind++;
  return 0;
}

static int h_config_global(pctx_t *p, int neg) {
  ike_config_t *c = p->cfg;
  int o = neg; /* offset of the command words */
  if (tok_is(p, o, "sessmgr") && tok_is(p, o + 1, "workers")) {
    if (neg) {
      c->sessmgr_workers = 0;
      return want(p, 3, "no sessmgr workers");
    }
    return (want(p, 3, "sessmgr workers <0-256> (0 = one per core)") ||
           get_u32(p, p->tok[2], 0, 256, "sessmgr workers", &c->sessmgr_workers)) ? -1 : 0;
  }
  if (tok_is(p, o, "datapath") && !neg) {
    if (want(p, 2, "datapath userspace|xfrm") != 0) {
      return -1;
    }
    if (strcmp(p->tok[1], "userspace") == 0) {
      c->datapath = IKE_CFG_DP_USERSPACE;
    } else if (strcmp(p->tok[1], "xfrm") == 0) {
      c->datapath = IKE_CFG_DP_XFRM;
    } else {
      return perr(p, "datapath: '%s' is not userspace or xfrm", p->tok[1]);
    }
    return 0;
  }
  if (tok_is(p, o, "state-directory") && !neg) {
    return (want(p, 2, "state-directory <path>") ||
           set_str(p, c->state_dir, sizeof(c->state_dir), p->tok[1], "state-directory")) ? -1 : 0;
  }
  if (tok_is(p, o, "logging") && tok_is(p, o + 1, "level") && !neg) {
    static const char *lv[] = {"error", "warning", "info", "debug"};
    if (want(p, 3, "logging level error|warning|info|debug") != 0) {
      return -1;
    }
    for (unsigned i = 0; i < 4; i++) {
      if (strcmp(p->tok[2], lv[i]) == 0) {
        c->log_level = (uint8_t)i;
        return 0;
      }
    }
    return perr(p, "logging level: '%s' is not error, warning, info or debug", p->tok[2]);
  }
  if (tok_is(p, o, "ike") && (tok_is(p, o + 1, "udp-port") ||
                              tok_is(p, o + 1, "nat-t-udp-port")) && !neg) {
    int natt = tok_is(p, 1, "nat-t-udp-port");
    uint32_t v;
    if (want(p, 3, natt ? "ike nat-t-udp-port <1-65535>" : "ike udp-port <1-65535>") ||
        get_u32(p, p->tok[2], 1, 65535, natt ? "ike nat-t-udp-port" : "ike udp-port", &v)) {
      return -1;
    }
    *(natt ? &c->natt_port : &c->ike_port) = (uint16_t)v;
    return 0; /* checked against each other when config mode ends */
  }
  if (tok_is(p, o, "bulkstats") && tok_is(p, o + 1, "file")) {
    if (neg) {
      memset(c->bulkstats_file, 0, sizeof(c->bulkstats_file));
      return want(p, 3, "no bulkstats file");
    }
    return (want(p, 3, "bulkstats file <path>") ||
           set_str(p, c->bulkstats_file, sizeof(c->bulkstats_file), p->tok[2],
                   "bulkstats file")) ? -1 : 0;
  }
  if (tok_is(p, o, "bulkstats") && tok_is(p, o + 1, "interval")) {
    if (neg) {
      c->bulkstats_interval_s = 0;
      return want(p, 3, "no bulkstats interval");
    }
    return (want(p, 3, "bulkstats interval <0-86400> (seconds, 0 = off)") ||
           get_u32(p, p->tok[2], 0, 86400, "bulkstats interval", &c->bulkstats_interval_s)) ? -1 : 0;
  }
  if (tok_is(p, o, "bind") && tok_is(p, o + 1, "address")) {
    return add_bind(p, neg, IKE_CFG_NONE);
  }
  return NOT_MINE;
}

static int h_config(pctx_t *p) {
  ike_config_t *c = p->cfg;
  if (tok_is(p, 0, "context")) {
    if (want(p, 2, "context <name>") != 0) {
      return -1;
    }
    int i = find_ctx(c, p->tok[1]);
    if (i < 0) {
      if (c->n_contexts == IKE_CFG_MAX_CONTEXTS) {
        return perr(p, "more than %u contexts", IKE_CFG_MAX_CONTEXTS);
      }
      i = c->n_contexts;
      if (set_name(p, c->contexts[i].name, p->tok[1], "context name") != 0) {
        return -1;
      }
      c->n_contexts++;
    }
    p->cur->ctx = (uint8_t)i;
    p->cur->mode = IKE_CFG_M_CONTEXT;
    return 0;
  }
  if (tok_is(p, 0, "no") || tok_is(p, 0, "default")) {
    if (p->ntok < 2) {
      return perr(p, "usage: %s <command>", p->tok[0]);
    }
    return h_config_global(p, 1);
  }
  return h_config_global(p, 0);
}

/* ---- context mode ---------------------------------------------------------- */

static int h_pool(pctx_t *p, int neg) {
  ike_config_t *c = p->cfg;
  uint8_t ctx = p->cur->ctx;
  if (neg) {
    if (want(p, 4, "no ip pool <name>") != 0) {
      return -1;
    }
    int i = find_pool(c, ctx, p->tok[3]);
    if (i < 0) {
      return perr(p, "ip pool '%s' does not exist", p->tok[3]);
    }
    for (int t = 0; t < c->n_templates; t++) {
      if (c->templates[t].pool4 == i || c->templates[t].pool6 == i) {
        return perr(p, "ip pool '%s' is used by crypto template '%s'", p->tok[3],
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
  if (want(p, 4, "ip pool <name> <prefix/len>") != 0) {
    return -1;
  }
  if (ike_cfg_parse_prefix(p->tok[3], &pf) != 0 || strchr(p->tok[3], '/') == NULL) {
    return perr(p, "ip pool: '%s' is not a prefix like 10.10.0.0/24 or 2001:db8::/64",
                p->tok[3]);
  }
  if ((pf.family == AF_INET && pf.plen > 30) || (pf.family == AF_INET6 && pf.plen > 126)) {
    return perr(p, "ip pool: prefix %s too small for addresses", p->tok[3]);
  }
  int i = find_pool(c, ctx, p->tok[2]);
  if (i >= 0) {
    for (int t = 0; t < c->n_templates; t++) {
      const ike_cfg_template_t *tp = &c->templates[t];
      if ((tp->pool4 == i || tp->pool6 == i) && c->pools[i].prefix.family != pf.family) {
        return perr(p, "ip pool '%s' is used by crypto template '%s': family cannot change",
                    p->tok[2], tp->name);
      }
    }
  } else {
    if (c->n_pools == IKE_CFG_MAX_POOLS) {
      return perr(p, "more than %u ip pools", IKE_CFG_MAX_POOLS);
    }
    i = c->n_pools;
    if (set_name(p, c->pools[i].name, p->tok[2], "ip pool name") != 0) {
      return -1;
    }
    c->n_pools++;
  }
  c->pools[i].ctx = ctx;
  c->pools[i].prefix = pf;
  return 0;
}

static int enter_tset(pctx_t *p, int kind) {
  ike_config_t *c = p->cfg;
  const char *name = p->tok[2];
  int i = find_tset(c, p->cur->ctx, name);
  if (i >= 0 && c->tsets[i].kind != kind) {
    return perr(p, "transform-set '%s' already exists as %s transform-set", name,
                c->tsets[i].kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec");
  }
  if (i < 0) {
    if (c->n_tsets == IKE_CFG_MAX_TSETS) {
      return perr(p, "more than %u transform sets", IKE_CFG_MAX_TSETS);
    }
    i = c->n_tsets;
    ike_cfg_tset_t *s = &c->tsets[i];
    memset(s, 0, sizeof(*s));
    if (set_name(p, s->name, name, "transform-set name") != 0) {
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

static int enter_template(pctx_t *p) {
  ike_config_t *c = p->cfg;
  if (want(p, 4, "crypto template <name> ikev2-dynamic") != 0) {
    return -1;
  }
  if (strcmp(p->tok[3], "ikev2-dynamic") != 0) {
    return perr(p, "crypto template type '%s' not supported (only ikev2-dynamic)",
                p->tok[3]);
  }
  int i = ike_config_template_index(c, p->tok[2]);
  if (i >= 0 && c->templates[i].ctx != p->cur->ctx) {
    return perr(p, "crypto template '%s' already exists in context '%s'", p->tok[2],
                c->contexts[c->templates[i].ctx].name);
  }
  if (i < 0) {
    if (c->n_templates == IKE_CFG_MAX_TEMPLATES) {
      return perr(p, "more than %u crypto templates", IKE_CFG_MAX_TEMPLATES);
    }
    i = c->n_templates;
    ike_cfg_template_t *t = &c->templates[i];
    memset(t, 0, sizeof(*t));
    if (set_name(p, t->name, p->tok[2], "crypto template name") != 0) {
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

static int tset_in_use(pctx_t *p, const char *name) {
  const ike_config_t *c = p->cfg;
  for (int t = 0; t < c->n_templates; t++) {
    const ike_cfg_template_t *tp = &c->templates[t];
    if (tp->ctx != p->cur->ctx) {
      continue;
    }
    for (int k = 0; k < tp->n_ike_tsets && !tp->ike_tset_default; k++) {
      if (strcmp(tp->ike_tsets[k].name, name) == 0) {
        return perr(p, "transform-set '%s' is used by crypto template '%s'", name, tp->name);
      }
    }
    for (int k = 0; k < tp->n_child_tsets && !tp->child_tset_default; k++) {
      if (strcmp(tp->child_tsets[k].name, name) == 0) {
        return perr(p, "transform-set '%s' is used by crypto template '%s'", name, tp->name);
      }
    }
  }
  return 0;
}

static int h_context_no(pctx_t *p) {
  ike_config_t *c = p->cfg;
  if (tok_is(p, 1, "ip") && tok_is(p, 2, "pool")) {
    return h_pool(p, 1);
  }
  if (tok_is(p, 1, "bind") && tok_is(p, 2, "address")) {
    return add_bind(p, 1, p->cur->ctx);
  }
  if ((tok_is(p, 1, "ikev2-ikesa") || tok_is(p, 1, "ipsec")) && tok_is(p, 2, "transform-set")) {
    if (want(p, 4, "no ikev2-ikesa|ipsec transform-set <name>") != 0) {
      return -1;
    }
    int i = find_tset(c, p->cur->ctx, p->tok[3]);
    if (i < 0) {
      return perr(p, "transform-set '%s' does not exist", p->tok[3]);
    }
    if (tset_in_use(p, p->tok[3]) != 0) {
      return -1;
    }
    memmove(&c->tsets[i], &c->tsets[i + 1], (size_t)(c->n_tsets - i - 1) * sizeof(c->tsets[0]));
    c->n_tsets--;
    memset(&c->tsets[c->n_tsets], 0, sizeof(c->tsets[0]));
    return 0;
  }
  if (tok_is(p, 1, "crypto") && tok_is(p, 2, "template")) {
    if (want(p, 4, "no crypto template <name>") != 0) {
      return -1;
    }
    int i = ike_config_template_index(c, p->tok[3]);
    if (i < 0 || c->templates[i].ctx != p->cur->ctx) {
      return perr(p, "crypto template '%s' does not exist", p->tok[3]);
    }
    memmove(&c->templates[i], &c->templates[i + 1],
            (size_t)(c->n_templates - i - 1) * sizeof(c->templates[0]));
    c->n_templates--;
    memset(&c->templates[c->n_templates], 0, sizeof(c->templates[0]));
    return 0;
  }
  return NOT_MINE;
}

static int h_context(pctx_t *p) {
  if (tok_is(p, 0, "no")) {
    return h_context_no(p);
  }
  if (tok_is(p, 0, "bind") && tok_is(p, 1, "address")) {
    return add_bind(p, 0, p->cur->ctx);
  }
  if (tok_is(p, 0, "ip") && tok_is(p, 1, "pool")) {
    return h_pool(p, 0);
  }
  if ((tok_is(p, 0, "ikev2-ikesa") || tok_is(p, 0, "ipsec")) && tok_is(p, 1, "transform-set") &&
      !tok_is(p, 2, "list")) {
    if (want(p, 3, tok_is(p, 0, "ipsec") ? "ipsec transform-set <name>"
                                         : "ikev2-ikesa transform-set <name>") != 0) {
      return -1;
    }
    return enter_tset(p, tok_is(p, 0, "ipsec") ? IKE_CFG_TSET_ESP : IKE_CFG_TSET_IKE);
  }
  if (tok_is(p, 0, "crypto") && tok_is(p, 1, "template")) {
    return enter_template(p);
  }
  return NOT_MINE;
}

/* ---- transform-set mode ---------------------------------------------------- */

static int h_tset(pctx_t *p) {
  ike_cfg_tset_t *s = &p->cfg->tsets[p->cur->tset];
  const char *cmd = p->tok[0];
  int is_encr = strcmp(cmd, "encryption") == 0;
  int is_prf = strcmp(cmd, "prf") == 0 && s->kind == IKE_CFG_TSET_IKE;
  int is_integ = strcmp(cmd, "hmac") == 0 || strcmp(cmd, "integrity") == 0;
  int is_dh = strcmp(cmd, "group") == 0;
  if (!is_encr && !is_prf && !is_integ && !is_dh) {
    return NOT_MINE;
  }
  if (p->ntok < 2) {
    return perr(p, "usage: %s <algorithm> [<algorithm> ...]", cmd);
  }
  if (p->ntok - 1 > (int)IKE_CFG_MAX_ALGS) {
    return perr(p, "%s: more than %u algorithms", cmd, IKE_CFG_MAX_ALGS);
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
      return perr(p, "%s: unknown algorithm '%s'", cmd, p->tok[i]);
    }
    if (is_encr) {
      if (cnt > 0 && a->aead != n.aead) {
        return perr(p, "encryption: '%s' mixes AEAD and non-AEAD ciphers in one "
                    "transform set; use two sets", p->tok[i]);
      }
      n.aead = a->aead;
      n.encr[cnt].id = a->id;
      n.encr[cnt].keylen = a->keylen;
    } else {
      uint16_t *arr = is_prf ? n.prf : is_integ ? n.integ : n.dh;
      for (uint8_t j = 0; j < cnt; j++) {
        if (arr[j] == a->id) {
          return perr(p, "%s: '%s' listed twice", cmd, p->tok[i]);
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

/* ---- template mode --------------------------------------------------------- */

/* Parse "id-type T id V" at tok[i..i+3] into *id. */
static int get_id(pctx_t *p, int i, ike_cfg_id_t *id) {
  if (p->ntok != i + 4 || !tok_is(p, i, "id-type") || !tok_is(p, i + 2, "id")) {
    return perr(p, "expected 'id-type <fqdn|ip-addr|rfc822-addr|key-id|der-asn1-dn> "
                "id <value>'");
  }
  uint8_t type = ike_cfg_id_type_by_name(p->tok[i + 1]);
  if (type == 0) {
    return perr(p, "id-type: unknown type '%s'", p->tok[i + 1]);
  }
  memset(id, 0, sizeof(*id));
  if (type == IKE_ID_IPV4_ADDR) {
    ike_cfg_addr_t a;
    if (ike_cfg_parse_addr(p->tok[i + 3], &a) != 0) {
      return perr(p, "id: '%s' is not an IP address", p->tok[i + 3]);
    }
    type = a.family == AF_INET6 ? IKE_ID_IPV6_ADDR : IKE_ID_IPV4_ADDR;
    ike_cfg_addr_str(&a, id->value, sizeof(id->value));
  } else if (set_str(p, id->value, sizeof(id->value), p->tok[i + 3], "id") != 0) {
    return -1;
  }
  id->type = type;
  return 0;
}

static int tset_list(pctx_t *p, int first, int kind) {
  ike_cfg_template_t *t = cur_tmpl(p);
  ike_cfg_tset_t *arr = kind == IKE_CFG_TSET_IKE ? t->ike_tsets : t->child_tsets;
  ike_cfg_tset_t tmp[IKE_CFG_MAX_TSET_REFS];
  int n = p->ntok - first;
  if (n < 1) {
    return perr(p, "usage: %s transform-set list <name> [<name> ...]",
                kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec");
  }
  if (n > (int)IKE_CFG_MAX_TSET_REFS) {
    return perr(p, "transform-set list: more than %u sets", IKE_CFG_MAX_TSET_REFS);
  }
  memset(tmp, 0, sizeof(tmp));
  for (int i = 0; i < n; i++) {
    const char *name = p->tok[first + i];
    int x = find_tset(p->cfg, t->ctx, name);
    if (x < 0 || p->cfg->tsets[x].kind != kind) {
      return perr(p, "transform-set list: no %s transform-set '%s' in context '%s'",
                  kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec", name,
                  p->cfg->contexts[t->ctx].name);
    }
    for (int j = 0; j < i; j++) {
      if (strcmp(tmp[j].name, name) == 0) {
        return perr(p, "transform-set list: '%s' listed twice", name);
      }
    }
    tmp[i] = p->cfg->tsets[x];
  }
  memcpy(arr, tmp, sizeof(tmp));
  if (kind == IKE_CFG_TSET_IKE) {
    t->n_ike_tsets = (uint8_t)n;
    t->ike_tset_default = 0;
  } else {
    t->n_child_tsets = (uint8_t)n;
    t->child_tset_default = 0;
  }
  return 0;
}

static int deny_addr(pctx_t *p, ike_cfg_template_t *t, const char *s, int neg) {
  ike_cfg_prefix_t pf;
  if (ike_cfg_parse_prefix(s, &pf) != 0) {
    return perr(p, "deny-address: '%s' is not an address or prefix", s);
  }
  for (int i = 0; i < t->n_mobike_deny; i++) {
    if (memcmp(&t->mobike_deny[i], &pf, sizeof(pf)) == 0) {
      if (neg) {
        memmove(&t->mobike_deny[i], &t->mobike_deny[i + 1],
                (size_t)(t->n_mobike_deny - i - 1) * sizeof(pf));
        t->n_mobike_deny--;
        memset(&t->mobike_deny[t->n_mobike_deny], 0, sizeof(pf));
      }
      return 0; /* adding a duplicate is a no-op */
    }
  }
  if (neg) {
    return perr(p, "deny-address %s is not configured", s);
  }
  if (t->n_mobike_deny == IKE_CFG_MAX_DENY) {
    return perr(p, "more than %u deny-address prefixes", IKE_CFG_MAX_DENY);
  }
  t->mobike_deny[t->n_mobike_deny++] = pf;
  return 0;
}

/* "[no|default] ikev2-ikesa mobike [cookie-challenge | deny-address P]", also with
 * the seed's prose spelling "ikesa". o = index of the "mobike" word. */
static int h_mobike(pctx_t *p, int o, int neg) {
  ike_cfg_template_t *t = cur_tmpl(p);
  if (tok_is(p, o + 1, "deny-address")) {
    if (p->ntok != o + 3) {
      return perr(p, "usage: [no] ikev2-ikesa mobike deny-address <prefix>");
    }
    return deny_addr(p, t, p->tok[o + 2], neg);
  }
  if (neg) {
    if (p->ntok != o + 1 && !(p->ntok == o + 2 && tok_is(p, o + 1, "cookie-challenge"))) {
      return perr(p, "usage: %s ikev2-ikesa mobike", p->tok[0]);
    }
    t->mobike = 0;
    t->mobike_cookie_challenge = 0;
    return 0;
  }
  if (p->ntok == o + 1) {
    t->mobike = 1;
    t->mobike_cookie_challenge = 0;
    return 0;
  }
  if (p->ntok == o + 2 && tok_is(p, o + 1, "cookie-challenge")) {
    t->mobike = 1;
    t->mobike_cookie_challenge = 1;
    return 0;
  }
  return perr(p, "usage: ikev2-ikesa mobike [cookie-challenge]");
}

static int h_ikesa(pctx_t *p, int o, int neg) {
  ike_cfg_template_t *t = cur_tmpl(p);
  const char *w = o + 1 < p->ntok ? p->tok[o + 1] : "";
  struct { const char *kw; uint32_t *v, def, lo, hi; const char *unit; } num[] = {
    {"retransmission-timeout", &t->retrans_timeout_ms, IKE_CFG_DEF_RETRANS_MS, 100, 60000,
     "<100-60000> (milliseconds)"},
    {"max-retransmission", &t->max_retrans, IKE_CFG_DEF_MAX_RETRANS, 0, 20, "<0-20>"},
    {"lifetime", &t->ike_lifetime_s, IKE_CFG_DEF_IKE_LIFETIME_S, 60, 604800,
     "<60-604800> (seconds)"},
    {"cookie-threshold", &t->cookie_threshold, IKE_CFG_DEF_COOKIE_THRESHOLD, 0, 1000000,
     "<0-1000000> (half-open SAs, 0 = always)"},
    {"keepalive-interval", &t->dpd_interval_s, IKE_CFG_DEF_DPD_S, 0, 86400,
     "<0-86400> (seconds, 0 = off)"},
  };
  if (strcmp(w, "mobike") == 0) {
    return h_mobike(p, o + 1, neg);
  }
  if (strcmp(w, "transform-set") == 0) {
    if (!tok_is(p, o + 2, "list")) {
      return NOT_MINE; /* a set definition: context mode */
    }
    if (neg) {
      tmpl_default_tsets(t, 1);
      return 0;
    }
    return tset_list(p, o + 3, IKE_CFG_TSET_IKE);
  }
  for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++) {
    if (strcmp(w, num[i].kw) != 0) {
      continue;
    }
    char what[64];
    snprintf(what, sizeof(what), "ikev2-ikesa %s", num[i].kw);
    if (neg) {
      if (p->ntok != o + 2) {
        return perr(p, "usage: %s %s", p->tok[0], what);
      }
      *num[i].v = strcmp(num[i].kw, "keepalive-interval") == 0 && tok_is(p, 0, "no")
                      ? 0 : num[i].def;
      return 0;
    }
    if (p->ntok != o + 3) {
      return perr(p, "usage: %s %s", what, num[i].unit);
    }
    return get_u32(p, p->tok[o + 2], num[i].lo, num[i].hi, what, num[i].v);
  }
  return perr(p, "unknown ikev2-ikesa option '%s'", w);
}

static int h_auth(pctx_t *p, int neg) {
  ike_cfg_template_t *t = cur_tmpl(p);
  int o = neg, remote = tok_is(p, o + 1, "remote");
  if (!remote && !tok_is(p, o + 1, "local")) {
    return perr(p, "usage: authentication local|remote pre-shared-key|certificate ...");
  }
  if (tok_is(p, o + 2, "certificate")) {
    if (p->ntok != o + 3) {
      return perr(p, "usage: authentication %s certificate", p->tok[o + 1]);
    }
    *(remote ? &t->auth_remote : &t->auth_local) =
        neg ? IKE_CFG_AUTH_PSK : IKE_CFG_AUTH_CERT;
    return 0;
  }
  if (!tok_is(p, o + 2, "pre-shared-key")) {
    return perr(p, "authentication %s: expected pre-shared-key or certificate",
                p->tok[o + 1]);
  }
  ike_cfg_psk_t e;
  memset(&e, 0, sizeof(e));
  int idpos = o + 3;
  if (!neg) {
    if (!tok_is(p, o + 3, "key") || p->ntok < o + 5) {
      return perr(p, "usage: authentication %s pre-shared-key key <secret>%s", p->tok[o + 1],
                  remote ? " [id-type <type> id <value>]" : "");
    }
    if (set_str(p, e.key, sizeof(e.key), p->tok[o + 4], "pre-shared-key") != 0) {
      return -1;
    }
    idpos = o + 5;
  }
  if (!remote) {
    if (p->ntok != idpos) {
      return perr(p, "usage: authentication local pre-shared-key key <secret>");
    }
    memcpy(t->local_psk, e.key, sizeof(t->local_psk));
    t->auth_local = IKE_CFG_AUTH_PSK;
    return 0;
  }
  if (p->ntok > idpos && get_id(p, idpos, &e.id) != 0) {
    return -1;
  }
  for (int i = 0; i < t->n_psks; i++) {
    if (memcmp(&t->psks[i].id, &e.id, sizeof(e.id)) == 0) {
      if (neg) {
        memmove(&t->psks[i], &t->psks[i + 1], (size_t)(t->n_psks - i - 1) * sizeof(e));
        t->n_psks--;
        memset(&t->psks[t->n_psks], 0, sizeof(e));
      } else {
        t->psks[i] = e;
      }
      return 0;
    }
  }
  if (neg) {
    return perr(p, "no such remote pre-shared-key");
  }
  if (t->n_psks == IKE_CFG_MAX_PSKS) {
    return perr(p, "more than %u remote pre-shared keys", IKE_CFG_MAX_PSKS);
  }
  t->psks[t->n_psks++] = e;
  t->auth_remote = IKE_CFG_AUTH_PSK;
  return 0;
}

static int h_identity(pctx_t *p, int neg) {
  ike_cfg_template_t *t = cur_tmpl(p);
  int o = neg;
  ike_cfg_id_t id;
  int remote = tok_is(p, o + 1, "remote");
  if (!remote && !tok_is(p, o + 1, "local")) {
    return perr(p, "usage: identity local|remote id-type <type> id <value>");
  }
  if (neg && p->ntok == o + 2) {
    if (remote) {
      memset(t->remote_ids, 0, sizeof(t->remote_ids));
      t->n_remote_ids = 0;
    } else {
      memset(&t->local_id, 0, sizeof(t->local_id));
    }
    return 0;
  }
  if (get_id(p, o + 2, &id) != 0) {
    return -1;
  }
  if (!remote) {
    if (neg) {
      memset(&t->local_id, 0, sizeof(t->local_id));
    } else {
      t->local_id = id;
    }
    return 0;
  }
  for (int i = 0; i < t->n_remote_ids; i++) {
    if (memcmp(&t->remote_ids[i], &id, sizeof(id)) == 0) {
      if (neg) {
        memmove(&t->remote_ids[i], &t->remote_ids[i + 1],
                (size_t)(t->n_remote_ids - i - 1) * sizeof(id));
        t->n_remote_ids--;
        memset(&t->remote_ids[t->n_remote_ids], 0, sizeof(id));
      }
      return 0;
    }
  }
  if (neg) {
    return perr(p, "identity remote: no such identity");
  }
  if (t->n_remote_ids == IKE_CFG_MAX_REMOTE_IDS) {
    return perr(p, "more than %u remote identities", IKE_CFG_MAX_REMOTE_IDS);
  }
  t->remote_ids[t->n_remote_ids++] = id;
  return 0;
}

static int h_ip(pctx_t *p, int neg) {
  ike_cfg_template_t *t = cur_tmpl(p);
  int o = neg;
  if (tok_is(p, o + 1, "name-servers")) {
    ike_cfg_addr_t tmp[IKE_CFG_MAX_DNS];
    int n = p->ntok - (o + 2);
    memset(tmp, 0, sizeof(tmp));
    if (neg) {
      memset(t->dns, 0, sizeof(t->dns));
      t->n_dns = 0;
      return 0;
    }
    if (n < 1 || n > (int)IKE_CFG_MAX_DNS) {
      return perr(p, "usage: ip name-servers <address> [up to %u addresses]", IKE_CFG_MAX_DNS);
    }
    for (int i = 0; i < n; i++) {
      if (ike_cfg_parse_addr(p->tok[o + 2 + i], &tmp[i]) != 0) {
        return perr(p, "ip name-servers: '%s' is not an IP address", p->tok[o + 2 + i]);
      }
    }
    memcpy(t->dns, tmp, sizeof(tmp));
    t->n_dns = (uint8_t)n;
    return 0;
  }
  if (tok_is(p, o + 1, "address") && tok_is(p, o + 2, "pool") && tok_is(p, o + 3, "name")) {
    if (p->ntok != o + 5) {
      return perr(p, "usage: ip address pool name <pool>");
    }
    int i = find_pool(p->cfg, t->ctx, p->tok[o + 4]);
    if (i < 0) {
      return perr(p, "ip address pool: no ip pool '%s' in context '%s'", p->tok[o + 4],
                  p->cfg->contexts[t->ctx].name);
    }
    uint8_t *slot = p->cfg->pools[i].prefix.family == AF_INET ? &t->pool4 : &t->pool6;
    if (neg) {
      if (*slot != i) {
        return perr(p, "ip address pool '%s' is not used by this template", p->tok[o + 4]);
      }
      *slot = IKE_CFG_NONE;
    } else {
      *slot = (uint8_t)i;
    }
    return 0;
  }
  return perr(p, "usage: ip name-servers <addr>... | ip address pool name <pool>");
}

static int h_file(pctx_t *p, int neg, char *dst, const char *what) {
  int o = neg;
  if (neg) {
    if (p->ntok != 1 + 1 && p->ntok != 1 + 2) {
      return perr(p, "usage: no %s file", what);
    }
    memset(dst, 0, IKE_CFG_PATH_MAX);
    return 0;
  }
  if (p->ntok != o + 3 || !tok_is(p, o + 1, "file")) {
    return perr(p, "usage: %s file <path>", what);
  }
  char w[64];
  snprintf(w, sizeof(w), "%s file", what);
  return set_str(p, dst, IKE_CFG_PATH_MAX, p->tok[o + 2], w);
}

static int enter_payload(pctx_t *p) {
  ike_cfg_template_t *t = cur_tmpl(p);
  uint8_t match = 0;
  if (p->ntok != 4 && p->ntok != 6) {
    return perr(p, "usage: payload <name> match childsa [match ipv4|ipv6|any]");
  }
  if (!tok_is(p, 2, "match") || !tok_is(p, 3, "childsa")) {
    return perr(p, "usage: payload <name> match childsa [match ipv4|ipv6|any]");
  }
  if (p->ntok == 6) {
    if (!tok_is(p, 4, "match")) {
      return perr(p, "usage: payload <name> match childsa [match ipv4|ipv6|any]");
    }
    if (tok_is(p, 5, "ipv4")) {
      match = 4;
    } else if (tok_is(p, 5, "ipv6")) {
      match = 6;
    } else if (!tok_is(p, 5, "any")) {
      return perr(p, "payload match: '%s' is not ipv4, ipv6 or any", p->tok[5]);
    }
  }
  if (t->payload_name[0] != '\0' && strcmp(t->payload_name, p->tok[1]) != 0) {
    return perr(p, "crypto template '%s' already has payload '%s' (one per template)",
                t->name, t->payload_name);
  }
  if (set_name(p, t->payload_name, p->tok[1], "payload name") != 0) {
    return -1;
  }
  t->payload_match = match;
  p->cur->mode = IKE_CFG_M_PAYLOAD;
  return 0;
}

static int h_template(pctx_t *p) {
  ike_cfg_template_t *t = cur_tmpl(p);
  int neg = tok_is(p, 0, "no") || tok_is(p, 0, "default");
  int o = neg;
  if (neg && p->ntok < 2) {
    return perr(p, "usage: %s <command>", p->tok[0]);
  }
  const char *w = p->tok[o];
  if (strcmp(w, "ikev2-ikesa") == 0 || strcmp(w, "ikesa") == 0) {
    if (strcmp(w, "ikesa") == 0 && !tok_is(p, o + 1, "mobike")) {
      return perr(p, "usage: ikesa mobike [cookie-challenge]");
    }
    return h_ikesa(p, o, neg);
  }
  if (strcmp(w, "dpd") == 0) {
    if (neg) {
      if (p->ntok != o + 1 && !(p->ntok == o + 2 && tok_is(p, o + 1, "interval"))) {
        return perr(p, "usage: %s dpd", p->tok[0]);
      }
      t->dpd_interval_s = tok_is(p, 0, "no") ? 0 : IKE_CFG_DEF_DPD_S;
      return 0;
    }
    if (p->ntok != 3 || !tok_is(p, 1, "interval")) {
      return perr(p, "usage: dpd interval <0-86400> (seconds, 0 = off)");
    }
    return get_u32(p, p->tok[2], 0, 86400, "dpd interval", &t->dpd_interval_s);
  }
  if (strcmp(w, "authentication") == 0) {
    return h_auth(p, neg);
  }
  if (strcmp(w, "identity") == 0) {
    return h_identity(p, neg);
  }
  if (strcmp(w, "ip") == 0) {
    return h_ip(p, neg);
  }
  if (strcmp(w, "certificate") == 0) {
    return h_file(p, neg, t->cert_file, "certificate");
  }
  if (strcmp(w, "private-key") == 0) {
    return h_file(p, neg, t->key_file, "private-key");
  }
  if (strcmp(w, "ca-certificate") == 0) {
    return h_file(p, neg, t->ca_file, "ca-certificate");
  }
  if (strcmp(w, "payload") == 0 && !neg) {
    return enter_payload(p);
  }
  return NOT_MINE;
}

/* ---- payload mode ---------------------------------------------------------- */

static int h_payload(pctx_t *p) {
  ike_cfg_template_t *t = cur_tmpl(p);
  int neg = tok_is(p, 0, "no") || tok_is(p, 0, "default");
  int o = neg;
  if (tok_is(p, o, "ipsec") && tok_is(p, o + 1, "transform-set") && tok_is(p, o + 2, "list")) {
    if (neg) {
      tmpl_default_tsets(t, 0);
      return 0;
    }
    return tset_list(p, 3, IKE_CFG_TSET_ESP);
  }
  if (tok_is(p, o, "lifetime")) {
    int kb = tok_is(p, o + 1, "kilo-bytes"), pk = tok_is(p, o + 1, "packets");
    if (neg) {
      if (kb) {
        t->child_lifetime_kb = 0;
      } else if (pk) {
        t->child_lifetime_packets = 0;
      } else {
        t->child_lifetime_s = IKE_CFG_DEF_CHILD_LIFETIME_S;
      }
      return 0;
    }
    if (kb || pk) {
      uint64_t max = kb ? (UINT64_MAX >> 10) : UINT64_MAX - 1;
      return (want(p, 3, kb ? "lifetime kilo-bytes <n> (0 = no limit)"
                           : "lifetime packets <n> (0 = no limit)") ||
             get_num(p, p->tok[2], 0, max, kb ? "lifetime kilo-bytes" : "lifetime packets",
                     kb ? &t->child_lifetime_kb : &t->child_lifetime_packets)) ? -1 : 0;
    }
    return (want(p, 2, "lifetime <60-604800> (seconds)") ||
           get_u32(p, p->tok[1], 60, 604800, "lifetime", &t->child_lifetime_s)) ? -1 : 0;
  }
  if (tok_is(p, o, "traffic-selector") && tok_is(p, o + 1, "local")) {
    ike_cfg_prefix_t pf;
    if (neg && p->ntok == 3) {
      memset(t->local_ts, 0, sizeof(t->local_ts));
      t->n_local_ts = 0;
      return 0;
    }
    if (p->ntok != o + 3) {
      return perr(p, "usage: traffic-selector local <prefix>");
    }
    if (ike_cfg_parse_prefix(p->tok[o + 2], &pf) != 0) {
      return perr(p, "traffic-selector local: '%s' is not a prefix", p->tok[o + 2]);
    }
    for (int i = 0; i < t->n_local_ts; i++) {
      if (memcmp(&t->local_ts[i], &pf, sizeof(pf)) == 0) {
        if (neg) {
          memmove(&t->local_ts[i], &t->local_ts[i + 1],
                  (size_t)(t->n_local_ts - i - 1) * sizeof(pf));
          t->n_local_ts--;
          memset(&t->local_ts[t->n_local_ts], 0, sizeof(pf));
        }
        return 0;
      }
    }
    if (neg) {
      return perr(p, "traffic-selector local %s is not configured", p->tok[o + 2]);
    }
    if (t->n_local_ts == IKE_CFG_MAX_TS) {
      return perr(p, "more than %u local traffic selectors", IKE_CFG_MAX_TS);
    }
    t->local_ts[t->n_local_ts++] = pf;
    return 0;
  }
  return NOT_MINE;
}

/* ---- driver ---------------------------------------------------------------- */

static int dispatch(pctx_t *p) {
  switch (p->cur->mode) {
  case IKE_CFG_M_CONFIG:
    return h_config(p);
  case IKE_CFG_M_CONTEXT:
    return h_context(p);
  case IKE_CFG_M_TEMPLATE:
    return h_template(p);
  case IKE_CFG_M_PAYLOAD:
    return h_payload(p);
  case IKE_CFG_M_TSET:
    return h_tset(p);
  default:
    return NOT_MINE;
  }
}

/* Apply p->buf (already copied, NUL-terminated) to p->cfg in place. */
static int apply_tokens(pctx_t *p) {
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
  if (tok_is(p, 0, "end") || tok_is(p, 0, "exit")) {
    int all = tok_is(p, 0, "end");
    if (p->ntok != 1) {
      return perr(p, "usage: %s", p->tok[0]);
    }
    if (p->cur->mode == IKE_CFG_M_TOP) {
      return perr(p, "'%s' outside any block", p->tok[0]);
    }
    do {
      if (pop_mode(p) != 0) {
        return -1;
      }
    } while (all && p->cur->mode != IKE_CFG_M_TOP);
    return 0;
  }
  if (p->cur->mode == IKE_CFG_M_TOP) {
    if (tok_is(p, 0, "config")) {
      p->cur->mode = IKE_CFG_M_CONFIG;
      return want(p, 1, "config");
    }
    return perr(p, "'%s' before 'config'", p->tok[0]);
  }
  for (;;) {
    int r = dispatch(p);
    if (r != NOT_MINE) {
      return r;
    }
    if (p->cur->mode == IKE_CFG_M_CONFIG) {
      if ((tok_is(p, 0, "no") || tok_is(p, 0, "default")) && p->ntok > 1) {
        return perr(p, "unknown command '%s %s'", p->tok[0], p->tok[1]);
      }
      return perr(p, "unknown command '%s'", p->tok[0]);
    }
    if (pop_mode(p) != 0) {
      return -1;
    }
  }
}

static int load_line(pctx_t *p, const char *line, size_t len) {
  if (len > IKE_CFG_LINE_MAX) {
    return perr(p, "line longer than %u bytes", IKE_CFG_LINE_MAX);
  }
  if (memchr(line, '\0', len) != NULL) {
    return perr(p, "NUL byte in line");
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
  pctx_t *p = calloc(1, sizeof(*p));
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
      perr(p, "more than %u lines", IKE_CFG_LINES_MAX);
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
  pctx_t *p = calloc(1, sizeof(*p));
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
