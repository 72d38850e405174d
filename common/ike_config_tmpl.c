/*
 * ike_config_tmpl.c - the crypto template and payload modes of the config reader
 * (grammar: ike_config.h, deploy/CONFIG.md): timers, MOBIKE, authentication,
 * identities, pools, CHILD SA settings. Helpers and the driver: ike_config.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_config.h"
#include "ike_config_int.h"
#include "ike_wire.h"

/* ---- template mode --------------------------------------------------------- */

/* Parse "id-type T id V" at tok[i..i+3] into *id. */
static int get_id(ike_cfg_pctx_t *p, int i, ike_cfg_id_t *id) {
  if (p->ntok != i + 4 || !ike_cfg_tok_is(p, i, "id-type") || !ike_cfg_tok_is(p, i + 2, "id")) {
    return ike_cfg_perr(p, "expected 'id-type <fqdn|ip-addr|rfc822-addr|key-id|der-asn1-dn> "
                "id <value>'");
  }
  uint8_t type = ike_cfg_id_type_by_name(p->tok[i + 1]);
  if (type == 0) {
    return ike_cfg_perr(p, "id-type: unknown type '%s'", p->tok[i + 1]);
  }
  memset(id, 0, sizeof(*id));
  if (type == IKE_ID_IPV4_ADDR) {
    ike_cfg_addr_t a;
    if (ike_cfg_parse_addr(p->tok[i + 3], &a) != 0) {
      return ike_cfg_perr(p, "id: '%s' is not an IP address", p->tok[i + 3]);
    }
    type = a.family == AF_INET6 ? IKE_ID_IPV6_ADDR : IKE_ID_IPV4_ADDR;
    ike_cfg_addr_str(&a, id->value, sizeof(id->value));
  } else if (ike_cfg_set_str(p, id->value, sizeof(id->value), p->tok[i + 3], "id") != 0) {
    return -1;
  }
  id->type = type;
  return 0;
}

static int tset_list(ike_cfg_pctx_t *p, int first, int kind) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  ike_cfg_tset_t *arr = kind == IKE_CFG_TSET_IKE ? t->ike_tsets : t->child_tsets;
  ike_cfg_tset_t tmp[IKE_CFG_MAX_TSET_REFS];
  int n = p->ntok - first;
  if (n < 1) {
    return ike_cfg_perr(p, "usage: %s transform-set list <name> [<name> ...]",
                kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec");
  }
  if (n > (int)IKE_CFG_MAX_TSET_REFS) {
    return ike_cfg_perr(p, "transform-set list: more than %u sets", IKE_CFG_MAX_TSET_REFS);
  }
  memset(tmp, 0, sizeof(tmp));
  for (int i = 0; i < n; i++) {
    const char *name = p->tok[first + i];
    int x = ike_cfg_find_tset(p->cfg, t->ctx, name);
    if (x < 0 || p->cfg->tsets[x].kind != kind) {
      return ike_cfg_perr(p, "transform-set list: no %s transform-set '%s' in context '%s'",
                  kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec", name,
                  p->cfg->contexts[t->ctx].name);
    }
    for (int j = 0; j < i; j++) {
      if (strcmp(tmp[j].name, name) == 0) {
        return ike_cfg_perr(p, "transform-set list: '%s' listed twice", name);
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

static int deny_addr(ike_cfg_pctx_t *p, ike_cfg_template_t *t, const char *s, int neg) {
  ike_cfg_prefix_t pf;
  if (ike_cfg_parse_prefix(s, &pf) != 0) {
    return ike_cfg_perr(p, "deny-address: '%s' is not an address or prefix", s);
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
    return ike_cfg_perr(p, "deny-address %s is not configured", s);
  }
  if (t->n_mobike_deny == IKE_CFG_MAX_DENY) {
    return ike_cfg_perr(p, "more than %u deny-address prefixes", IKE_CFG_MAX_DENY);
  }
  t->mobike_deny[t->n_mobike_deny++] = pf;
  return 0;
}

/* "[no|default] ikev2-ikesa mobike [cookie-challenge | deny-address P]", also with
 * the seed's prose spelling "ikesa". o = index of the "mobike" word. */
static int h_mobike(ike_cfg_pctx_t *p, int o, int neg) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  if (ike_cfg_tok_is(p, o + 1, "deny-address")) {
    if (p->ntok != o + 3) {
      return ike_cfg_perr(p, "usage: [no] ikev2-ikesa mobike deny-address <prefix>");
    }
    return deny_addr(p, t, p->tok[o + 2], neg);
  }
  if (neg) {
    if (p->ntok != o + 1 && !(p->ntok == o + 2 && ike_cfg_tok_is(p, o + 1, "cookie-challenge"))) {
      return ike_cfg_perr(p, "usage: %s ikev2-ikesa mobike", p->tok[0]);
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
  if (p->ntok == o + 2 && ike_cfg_tok_is(p, o + 1, "cookie-challenge")) {
    t->mobike = 1;
    t->mobike_cookie_challenge = 1;
    return 0;
  }
  return ike_cfg_perr(p, "usage: ikev2-ikesa mobike [cookie-challenge]");
}

/* ikev2-ikesa identity-limit <0-1000000> [replace|refuse]: IKE SAs one
 * identity may hold (like strongSwan's uniqueids); 0 = no limit. */
static int h_identity_limit(ike_cfg_pctx_t *p, int o, int neg) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  if (neg) {
    if (p->ntok != o + 1) {
      return ike_cfg_perr(p, "usage: %s ikev2-ikesa identity-limit", p->tok[0]);
    }
    t->identity_limit = 0;
    t->identity_limit_refuse = 0;
    return 0;
  }
  int refuse = p->ntok == o + 3 && ike_cfg_tok_is(p, o + 2, "refuse");
  int replace = p->ntok == o + 3 && ike_cfg_tok_is(p, o + 2, "replace");
  if (p->ntok != o + 2 && !refuse && !replace) {
    return ike_cfg_perr(p, "usage: ikev2-ikesa identity-limit <0-1000000> [replace|refuse]");
  }
  t->identity_limit_refuse = refuse;
  return ike_cfg_get_u32(p, p->tok[o + 1], 0, 1000000, "ikev2-ikesa identity-limit",
                         &t->identity_limit);
}

static int h_ikesa(ike_cfg_pctx_t *p, int o, int neg) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
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
    {"half-open-per-peer", &t->half_open_per_peer, IKE_CFG_DEF_HALF_OPEN_PER_PEER, 0,
     1000000, "<0-1000000> (half-open SAs per source address, 0 = no limit)"},
  };
  if (strcmp(w, "mobike") == 0) {
    return h_mobike(p, o + 1, neg);
  }
  if (strcmp(w, "identity-limit") == 0) {
    return h_identity_limit(p, o + 1, neg);
  }
  if (strcmp(w, "transform-set") == 0) {
    if (!ike_cfg_tok_is(p, o + 2, "list")) {
      return IKE_CFG_NOT_MINE; /* a set definition: context mode */
    }
    if (neg) {
      ike_cfg_tmpl_default_tsets(t, 1);
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
        return ike_cfg_perr(p, "usage: %s %s", p->tok[0], what);
      }
      *num[i].v = strcmp(num[i].kw, "keepalive-interval") == 0 && ike_cfg_tok_is(p, 0, "no")
                      ? 0 : num[i].def;
      return 0;
    }
    if (p->ntok != o + 3) {
      return ike_cfg_perr(p, "usage: %s %s", what, num[i].unit);
    }
    return ike_cfg_get_u32(p, p->tok[o + 2], num[i].lo, num[i].hi, what, num[i].v);
  }
  return ike_cfg_perr(p, "unknown ikev2-ikesa option '%s'", w);
}

static int h_auth(ike_cfg_pctx_t *p, int neg) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  int o = neg, remote = ike_cfg_tok_is(p, o + 1, "remote");
  if (!remote && !ike_cfg_tok_is(p, o + 1, "local")) {
    return ike_cfg_perr(p, "usage: authentication local|remote pre-shared-key|certificate ...");
  }
  if (ike_cfg_tok_is(p, o + 2, "certificate")) {
    if (p->ntok != o + 3) {
      return ike_cfg_perr(p, "usage: authentication %s certificate", p->tok[o + 1]);
    }
    *(remote ? &t->auth_remote : &t->auth_local) =
        neg ? IKE_CFG_AUTH_PSK : IKE_CFG_AUTH_CERT;
    return 0;
  }
  if (!ike_cfg_tok_is(p, o + 2, "pre-shared-key")) {
    return ike_cfg_perr(p, "authentication %s: expected pre-shared-key or certificate",
                p->tok[o + 1]);
  }
  ike_cfg_psk_t e;
  memset(&e, 0, sizeof(e));
  int idpos = o + 3;
  if (!neg) {
    if (!ike_cfg_tok_is(p, o + 3, "key") || p->ntok < o + 5) {
      return ike_cfg_perr(p, "usage: authentication %s pre-shared-key key <secret>%s", p->tok[o + 1],
                  remote ? " [id-type <type> id <value>]" : "");
    }
    if (ike_cfg_set_str(p, e.key, sizeof(e.key), p->tok[o + 4], "pre-shared-key") != 0) {
      return -1;
    }
    /* What "show configuration" prints instead of a key (IKE_CFG_REDACTED):
     * pasted back, it would become a key anyone can read in our docs. */
    if (strcmp(e.key, "<redacted>") == 0) {
      return ike_cfg_perr(p, "pre-shared-key: \"<redacted>\" is the placeholder of show "
                             "configuration, not a key (gwctl show configuration --secrets "
                             "prints the keys)");
    }
    idpos = o + 5;
  }
  if (!remote) {
    if (p->ntok != idpos) {
      return ike_cfg_perr(p, "usage: authentication local pre-shared-key key <secret>");
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
    return ike_cfg_perr(p, "no such remote pre-shared-key");
  }
  if (t->n_psks == IKE_CFG_MAX_PSKS) {
    return ike_cfg_perr(p, "more than %u remote pre-shared keys", IKE_CFG_MAX_PSKS);
  }
  t->psks[t->n_psks++] = e;
  t->auth_remote = IKE_CFG_AUTH_PSK;
  return 0;
}

static int h_identity(ike_cfg_pctx_t *p, int neg) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  int o = neg;
  ike_cfg_id_t id;
  int remote = ike_cfg_tok_is(p, o + 1, "remote");
  if (!remote && !ike_cfg_tok_is(p, o + 1, "local")) {
    return ike_cfg_perr(p, "usage: identity local|remote id-type <type> id <value>");
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
    return ike_cfg_perr(p, "identity remote: no such identity");
  }
  if (t->n_remote_ids == IKE_CFG_MAX_REMOTE_IDS) {
    return ike_cfg_perr(p, "more than %u remote identities", IKE_CFG_MAX_REMOTE_IDS);
  }
  t->remote_ids[t->n_remote_ids++] = id;
  return 0;
}

static int h_ip(ike_cfg_pctx_t *p, int neg) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  int o = neg;
  if (ike_cfg_tok_is(p, o + 1, "name-servers")) {
    ike_cfg_addr_t tmp[IKE_CFG_MAX_DNS];
    int n = p->ntok - (o + 2);
    memset(tmp, 0, sizeof(tmp));
    if (neg) {
      memset(t->dns, 0, sizeof(t->dns));
      t->n_dns = 0;
      return 0;
    }
    if (n < 1 || n > (int)IKE_CFG_MAX_DNS) {
      return ike_cfg_perr(p, "usage: ip name-servers <address> [up to %u addresses]", IKE_CFG_MAX_DNS);
    }
    for (int i = 0; i < n; i++) {
      if (ike_cfg_parse_addr(p->tok[o + 2 + i], &tmp[i]) != 0) {
        return ike_cfg_perr(p, "ip name-servers: '%s' is not an IP address", p->tok[o + 2 + i]);
      }
    }
    memcpy(t->dns, tmp, sizeof(tmp));
    t->n_dns = (uint8_t)n;
    return 0;
  }
  if (ike_cfg_tok_is(p, o + 1, "address") && ike_cfg_tok_is(p, o + 2, "pool") && ike_cfg_tok_is(p, o + 3, "name")) {
    if (p->ntok != o + 5) {
      return ike_cfg_perr(p, "usage: ip address pool name <pool>");
    }
    int i = ike_cfg_find_pool(p->cfg, t->ctx, p->tok[o + 4]);
    if (i < 0) {
      return ike_cfg_perr(p, "ip address pool: no ip pool '%s' in context '%s'", p->tok[o + 4],
                  p->cfg->contexts[t->ctx].name);
    }
    uint8_t *slot = p->cfg->pools[i].prefix.family == AF_INET ? &t->pool4 : &t->pool6;
    if (neg) {
      if (*slot != i) {
        return ike_cfg_perr(p, "ip address pool '%s' is not used by this template", p->tok[o + 4]);
      }
      *slot = IKE_CFG_NONE;
    } else {
      *slot = (uint8_t)i;
    }
    return 0;
  }
  return ike_cfg_perr(p, "usage: ip name-servers <addr>... | ip address pool name <pool>");
}

static int h_file(ike_cfg_pctx_t *p, int neg, char *dst, const char *what) {
  int o = neg;
  if (neg) {
    if (p->ntok != 1 + 1 && p->ntok != 1 + 2) {
      return ike_cfg_perr(p, "usage: no %s file", what);
    }
    memset(dst, 0, IKE_CFG_PATH_MAX);
    return 0;
  }
  if (p->ntok != o + 3 || !ike_cfg_tok_is(p, o + 1, "file")) {
    return ike_cfg_perr(p, "usage: %s file <path>", what);
  }
  char w[64];
  snprintf(w, sizeof(w), "%s file", what);
  return ike_cfg_set_str(p, dst, IKE_CFG_PATH_MAX, p->tok[o + 2], w);
}

static int enter_payload(ike_cfg_pctx_t *p) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  uint8_t match = 0;
  if (p->ntok != 4 && p->ntok != 6) {
    return ike_cfg_perr(p, "usage: payload <name> match childsa [match ipv4|ipv6|any]");
  }
  if (!ike_cfg_tok_is(p, 2, "match") || !ike_cfg_tok_is(p, 3, "childsa")) {
    return ike_cfg_perr(p, "usage: payload <name> match childsa [match ipv4|ipv6|any]");
  }
  if (p->ntok == 6) {
    if (!ike_cfg_tok_is(p, 4, "match")) {
      return ike_cfg_perr(p, "usage: payload <name> match childsa [match ipv4|ipv6|any]");
    }
    if (ike_cfg_tok_is(p, 5, "ipv4")) {
      match = 4;
    } else if (ike_cfg_tok_is(p, 5, "ipv6")) {
      match = 6;
    } else if (!ike_cfg_tok_is(p, 5, "any")) {
      return ike_cfg_perr(p, "payload match: '%s' is not ipv4, ipv6 or any", p->tok[5]);
    }
  }
  if (t->payload_name[0] != '\0' && strcmp(t->payload_name, p->tok[1]) != 0) {
    return ike_cfg_perr(p, "crypto template '%s' already has payload '%s' (one per template)",
                t->name, t->payload_name);
  }
  if (ike_cfg_set_name(p, t->payload_name, p->tok[1], "payload name") != 0) {
    return -1;
  }
  t->payload_match = match;
  p->cur->mode = IKE_CFG_M_PAYLOAD;
  return 0;
}

int ike_cfg_h_template(ike_cfg_pctx_t *p) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  int neg = ike_cfg_tok_is(p, 0, "no") || ike_cfg_tok_is(p, 0, "default");
  int o = neg;
  if (neg && p->ntok < 2) {
    return ike_cfg_perr(p, "usage: %s <command>", p->tok[0]);
  }
  const char *w = p->tok[o];
  if (strcmp(w, "ikev2-ikesa") == 0 || strcmp(w, "ikesa") == 0) {
    if (strcmp(w, "ikesa") == 0 && !ike_cfg_tok_is(p, o + 1, "mobike")) {
      return ike_cfg_perr(p, "usage: ikesa mobike [cookie-challenge]");
    }
    return h_ikesa(p, o, neg);
  }
  if (strcmp(w, "dpd") == 0) {
    if (neg) {
      if (p->ntok != o + 1 && !(p->ntok == o + 2 && ike_cfg_tok_is(p, o + 1, "interval"))) {
        return ike_cfg_perr(p, "usage: %s dpd", p->tok[0]);
      }
      t->dpd_interval_s = ike_cfg_tok_is(p, 0, "no") ? 0 : IKE_CFG_DEF_DPD_S;
      return 0;
    }
    if (p->ntok != 3 || !ike_cfg_tok_is(p, 1, "interval")) {
      return ike_cfg_perr(p, "usage: dpd interval <0-86400> (seconds, 0 = off)");
    }
    return ike_cfg_get_u32(p, p->tok[2], 0, 86400, "dpd interval", &t->dpd_interval_s);
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
  if (strcmp(w, "crl") == 0) {
    /* CRLs of the CAs (RFC 5280 6.3), checked with the peer's certificate. */
    return h_file(p, neg, t->crl_file, "crl");
  }
  if (strcmp(w, "payload") == 0 && !neg) {
    return enter_payload(p);
  }
  return IKE_CFG_NOT_MINE;
}

/* ---- payload mode ---------------------------------------------------------- */

int ike_cfg_h_payload(ike_cfg_pctx_t *p) {
  ike_cfg_template_t *t = ike_cfg_cur_tmpl(p);
  int neg = ike_cfg_tok_is(p, 0, "no") || ike_cfg_tok_is(p, 0, "default");
  int o = neg;
  if (ike_cfg_tok_is(p, o, "ipsec") && ike_cfg_tok_is(p, o + 1, "transform-set") && ike_cfg_tok_is(p, o + 2, "list")) {
    if (neg) {
      ike_cfg_tmpl_default_tsets(t, 0);
      return 0;
    }
    return tset_list(p, 3, IKE_CFG_TSET_ESP);
  }
  if (ike_cfg_tok_is(p, o, "lifetime")) {
    int kb = ike_cfg_tok_is(p, o + 1, "kilo-bytes"), pk = ike_cfg_tok_is(p, o + 1, "packets");
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
      return (ike_cfg_want(p, 3, kb ? "lifetime kilo-bytes <n> (0 = no limit)"
                           : "lifetime packets <n> (0 = no limit)") ||
             ike_cfg_get_num(p, p->tok[2], 0, max, kb ? "lifetime kilo-bytes" : "lifetime packets",
                     kb ? &t->child_lifetime_kb : &t->child_lifetime_packets)) ? -1 : 0;
    }
    return (ike_cfg_want(p, 2, "lifetime <60-604800> (seconds)") ||
           ike_cfg_get_u32(p, p->tok[1], 60, 604800, "lifetime", &t->child_lifetime_s)) ? -1 : 0;
  }
  if (ike_cfg_tok_is(p, o, "traffic-selector") && ike_cfg_tok_is(p, o + 1, "local")) {
    ike_cfg_prefix_t pf;
    if (neg && p->ntok == 3) {
      memset(t->local_ts, 0, sizeof(t->local_ts));
      t->n_local_ts = 0;
      return 0;
    }
    if (p->ntok != o + 3) {
      return ike_cfg_perr(p, "usage: traffic-selector local <prefix>");
    }
    if (ike_cfg_parse_prefix(p->tok[o + 2], &pf) != 0) {
      return ike_cfg_perr(p, "traffic-selector local: '%s' is not a prefix", p->tok[o + 2]);
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
      return ike_cfg_perr(p, "traffic-selector local %s is not configured", p->tok[o + 2]);
    }
    if (t->n_local_ts == IKE_CFG_MAX_TS) {
      return ike_cfg_perr(p, "more than %u local traffic selectors", IKE_CFG_MAX_TS);
    }
    t->local_ts[t->n_local_ts++] = pf;
    return 0;
  }
  return IKE_CFG_NOT_MINE;
}

