/*
 * ike_config_util.c - defaults, algorithm names, address helpers, printing the
 * running configuration back in the file grammar, and look-ups used by the engine.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_config.h"
#include "ike_config_int.h"
#include "ike_wire.h"

const ike_cfg_alg_t ike_cfg_encr_tab[] = {
    {"aes-cbc-128", IKE_ENCR_AES_CBC, 128, 0},
    {"aes-cbc-192", IKE_ENCR_AES_CBC, 192, 0},
    {"aes-cbc-256", IKE_ENCR_AES_CBC, 256, 0},
    {"aes-gcm-128", IKE_ENCR_AES_GCM_16, 128, 1}, /* 16-octet ICV (RFC 4106) */
    {"aes-gcm-192", IKE_ENCR_AES_GCM_16, 192, 1},
    {"aes-gcm-256", IKE_ENCR_AES_GCM_16, 256, 1},
    {"chacha20-poly1305", IKE_ENCR_CHACHA20_POLY1305, 0, 1}, /* RFC 7634 */
    {NULL, 0, 0, 0},
};

const ike_cfg_alg_t ike_cfg_prf_tab[] = {
    {"sha1", IKE_PRF_HMAC_SHA1, 0, 0},
    {"sha2-256", IKE_PRF_HMAC_SHA2_256, 0, 0},
    {"sha2-384", IKE_PRF_HMAC_SHA2_384, 0, 0},
    {"sha2-512", IKE_PRF_HMAC_SHA2_512, 0, 0},
    {NULL, 0, 0, 0},
};

const ike_cfg_alg_t ike_cfg_integ_tab[] = {
    {"sha1-96", IKE_INTEG_HMAC_SHA1_96, 0, 0},
    {"sha2-256-128", IKE_INTEG_HMAC_SHA2_256_128, 0, 0},
    {"sha2-384-192", IKE_INTEG_HMAC_SHA2_384_192, 0, 0},
    {"sha2-512-256", IKE_INTEG_HMAC_SHA2_512_256, 0, 0},
    {NULL, 0, 0, 0},
};

const ike_cfg_alg_t ike_cfg_dh_tab[] = {
    {"14", IKE_DH_MODP_2048, 0, 0},
    {"15", IKE_DH_MODP_3072, 0, 0},
    {"16", IKE_DH_MODP_4096, 0, 0},
    {"18", IKE_DH_MODP_8192, 0, 0},
    {"19", IKE_DH_ECP_256, 0, 0},
    {"20", IKE_DH_ECP_384, 0, 0},
    {"21", IKE_DH_ECP_521, 0, 0},
    {"31", IKE_DH_CURVE25519, 0, 0},
    {NULL, 0, 0, 0},
};

const ike_cfg_alg_t *ike_cfg_alg_by_name(const ike_cfg_alg_t *tab, const char *s) {
  for (; tab->name != NULL; tab++) {
    if (strcmp(tab->name, s) == 0) {
      return tab;
    }
  }
  return NULL;
}

static const char *alg_name(const ike_cfg_alg_t *tab, unsigned id) {
  for (; tab->name != NULL; tab++) {
    if (tab->id == id) {
      return tab->name;
    }
  }
  return "?";
}

const char *ike_cfg_encr_name(const ike_cfg_encr_t *e) {
  for (const ike_cfg_alg_t *a = ike_cfg_encr_tab; a->name != NULL; a++) {
    if (a->id == e->id && a->keylen == e->keylen) {
      return a->name;
    }
  }
  return "?";
}

const char *ike_cfg_prf_name(unsigned v) { return alg_name(ike_cfg_prf_tab, v); }
const char *ike_cfg_integ_name(unsigned v) { return alg_name(ike_cfg_integ_tab, v); }
const char *ike_cfg_dh_name(unsigned v) { return alg_name(ike_cfg_dh_tab, v); }

const char *ike_cfg_datapath_name(unsigned v) {
  return v == IKE_CFG_DP_XFRM ? "xfrm" : v == IKE_CFG_DP_USERSPACE ? "userspace" : "?";
}

const char *ike_cfg_loglevel_name(unsigned v) {
  static const char *n[] = {"error", "warning", "info", "debug"};
  return v < 4 ? n[v] : "?";
}

const char *ike_cfg_auth_name(unsigned v) {
  return v == IKE_CFG_AUTH_PSK ? "pre-shared-key" : v == IKE_CFG_AUTH_CERT ? "certificate"
                                                                           : "?";
}

static const struct { const char *name; uint8_t type; } id_names[] = {
    {"fqdn", IKE_ID_FQDN},           {"ip-addr", IKE_ID_IPV4_ADDR},
    {"rfc822-addr", IKE_ID_RFC822_ADDR}, {"key-id", IKE_ID_KEY_ID},
    {"der-asn1-dn", IKE_ID_DER_ASN1_DN},
};

uint8_t ike_cfg_id_type_by_name(const char *s) {
  for (size_t i = 0; i < sizeof(id_names) / sizeof(id_names[0]); i++) {
    if (strcmp(id_names[i].name, s) == 0) {
      return id_names[i].type;
    }
  }
  return 0;
}

const char *ike_cfg_id_type_name(unsigned v) {
  if (v == IKE_ID_IPV6_ADDR) {
    return "ip-addr";
  }
  for (size_t i = 0; i < sizeof(id_names) / sizeof(id_names[0]); i++) {
    if (id_names[i].type == v) {
      return id_names[i].name;
    }
  }
  return "?";
}

/* Built-in sets: one AEAD and one CBC+HMAC proposal each, strongest first. */
size_t ike_cfg_default_tsets(int kind, ike_cfg_tset_t *out, size_t max) {
  static const uint16_t prf[] = {IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
                                 IKE_PRF_HMAC_SHA2_512, IKE_PRF_HMAC_SHA1};
  static const uint16_t integ[] = {IKE_INTEG_HMAC_SHA2_256_128, IKE_INTEG_HMAC_SHA2_384_192,
                                   IKE_INTEG_HMAC_SHA2_512_256, IKE_INTEG_HMAC_SHA1_96};
  /* MODP-3072/4096/8192 last: slow, but real clients propose them alone. */
  static const uint16_t dh[] = {IKE_DH_CURVE25519, IKE_DH_ECP_256,  IKE_DH_ECP_384,
                                IKE_DH_ECP_521,    IKE_DH_MODP_2048, IKE_DH_MODP_3072,
                                IKE_DH_MODP_4096,  IKE_DH_MODP_8192};
  if (max < 2) {
    return 0;
  }
  memset(out, 0, 2 * sizeof(*out));
  for (int k = 0; k < 2; k++) {
    ike_cfg_tset_t *s = &out[k];
    int ike = kind == IKE_CFG_TSET_IKE;
    snprintf(s->name, sizeof(s->name), "builtin-%s-%s", ike ? "ikesa" : "ipsec",
             k == 0 ? "aead" : "cbc");
    s->kind = (uint8_t)kind;
    s->aead = k == 0;
    if (k == 0) {
      s->encr[0] = (ike_cfg_encr_t){IKE_ENCR_AES_GCM_16, 256};
      s->encr[1] = (ike_cfg_encr_t){IKE_ENCR_AES_GCM_16, 128};
      s->encr[2] = (ike_cfg_encr_t){IKE_ENCR_CHACHA20_POLY1305, 0};
      s->n_encr = 3;
    } else {
      s->encr[0] = (ike_cfg_encr_t){IKE_ENCR_AES_CBC, 256};
      s->encr[1] = (ike_cfg_encr_t){IKE_ENCR_AES_CBC, 128};
      s->n_encr = 2;
      memcpy(s->integ, integ, sizeof(integ));
      s->n_integ = 4;
    }
    if (ike) {
      memcpy(s->prf, prf, sizeof(prf));
      s->n_prf = 4;
      memcpy(s->dh, dh, sizeof(dh));
      s->n_dh = (uint8_t)(sizeof(dh) / sizeof(dh[0]));
    }
  }
  return 2;
}

void ike_config_init(ike_config_t *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->datapath = IKE_CFG_DP_USERSPACE;
  cfg->log_level = IKE_CFG_LOG_INFO;
  snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", IKE_CFG_DEF_STATE_DIR);
  cfg->ike_port = IKE_PORT;
  cfg->natt_port = IKE_NATT_PORT;
  cfg->bulkstats_interval_s = IKE_CFG_DEF_BULKSTATS_S;
  cfg->ckpt_sync_ms = IKE_CFG_DEF_CKPT_SYNC_MS;
  cfg->max_sas = IKE_CFG_DEF_MAX_SAS;
}

int ike_cfg_parse_addr(const char *s, ike_cfg_addr_t *a) {
  memset(a, 0, sizeof(*a));
  if (inet_pton(AF_INET, s, a->addr) == 1) {
    a->family = AF_INET;
    return 0;
  }
  if (inet_pton(AF_INET6, s, a->addr) == 1) {
    a->family = AF_INET6;
    return 0;
  }
  return -1;
}

char *ike_cfg_addr_str(const ike_cfg_addr_t *a, char *buf, size_t len) {
  if (inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->addr, buf,
                (socklen_t)len) == NULL && len > 0) {
    buf[0] = '\0';
  }
  return buf;
}

int ike_cfg_parse_prefix(const char *s, ike_cfg_prefix_t *p) {
  char tmp[IKE_CFG_ADDR_MAX + 8];
  ike_cfg_addr_t a;
  const char *slash = strchr(s, '/');
  size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
  unsigned plen = 0;
  if (alen >= IKE_CFG_ADDR_MAX) {
    return -1;
  }
  memcpy(tmp, s, alen);
  tmp[alen] = '\0';
  if (ike_cfg_parse_addr(tmp, &a) != 0) {
    return -1;
  }
  unsigned maxlen = a.family == AF_INET ? 32 : 128;
  if (slash != NULL) {
    const char *d = slash + 1;
    if (*d == '\0' || strlen(d) > 3) {
      return -1;
    }
    for (; *d != '\0'; d++) {
      if (*d < '0' || *d > '9') {
        return -1;
      }
      plen = plen * 10 + (unsigned)(*d - '0');
    }
    if (plen > maxlen) {
      return -1;
    }
  } else {
    plen = maxlen;
  }
  memset(p, 0, sizeof(*p));
  p->family = a.family;
  p->plen = (uint8_t)plen;
  memcpy(p->addr, a.addr, sizeof(p->addr));
  return 0;
}

char *ike_cfg_prefix_str(const ike_cfg_prefix_t *p, char *buf, size_t len) {
  char a[IKE_CFG_ADDR_MAX];
  if (inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a)) == NULL) {
    a[0] = '\0';
  }
  snprintf(buf, len, "%s/%u", a, (unsigned)p->plen);
  return buf;
}

int ike_cfg_prefix_contains(const ike_cfg_prefix_t *p, int family, const uint8_t *addr) {
  if (p->family != family) {
    return 0;
  }
  unsigned full = p->plen / 8, rest = p->plen % 8;
  if (memcmp(p->addr, addr, full) != 0) {
    return 0;
  }
  if (rest != 0) {
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
    return (p->addr[full] & mask) == (addr[full] & mask);
  }
  return 1;
}

/* ---- look-ups -------------------------------------------------------------- */

int ike_config_template_index(const ike_config_t *cfg, const char *name) {
  for (int i = 0; i < cfg->n_templates; i++) {
    if (strcmp(cfg->templates[i].name, name) == 0) {
      return i;
    }
  }
  return -1;
}

const ike_cfg_template_t *ike_config_find_template(const ike_config_t *cfg, const char *name) {
  int i = ike_config_template_index(cfg, name);
  return i < 0 ? NULL : &cfg->templates[i];
}

const ike_cfg_pool_t *ike_config_find_pool(const ike_config_t *cfg, const char *name) {
  for (int i = 0; i < cfg->n_pools; i++) {
    if (strcmp(cfg->pools[i].name, name) == 0) {
      return &cfg->pools[i];
    }
  }
  return NULL;
}

const ike_cfg_pool_t *ike_config_template_pool(const ike_config_t *cfg,
                                               const ike_cfg_template_t *t, int family) {
  uint8_t i = family == AF_INET6 ? t->pool6 : t->pool4;
  return i < cfg->n_pools ? &cfg->pools[i] : NULL;
}

/* Does configured id c match the peer's (type, raw bytes)? Text types compare
 * bytes ('*' prefix = suffix match); IP types compare the binary address. */
static int id_match(const ike_cfg_id_t *c, uint8_t type, const uint8_t *id, size_t len) {
  if (c->type != type) {
    return 0;
  }
  if (type == IKE_ID_IPV4_ADDR || type == IKE_ID_IPV6_ADDR) {
    ike_cfg_addr_t a;
    size_t al = type == IKE_ID_IPV4_ADDR ? 4 : 16;
    return ike_cfg_parse_addr(c->value, &a) == 0 && len == al && memcmp(a.addr, id, al) == 0;
  }
  size_t vl = strlen(c->value);
  if (vl > 0 && c->value[0] == '*') {
    return len >= vl - 1 && memcmp(id + len - (vl - 1), c->value + 1, vl - 1) == 0;
  }
  return len == vl && memcmp(c->value, id, vl) == 0;
}

const char *ike_config_remote_psk(const ike_cfg_template_t *t, uint8_t id_type,
                                  const uint8_t *id, size_t id_len) {
  const char *dflt = NULL;
  for (int i = 0; i < t->n_psks; i++) {
    if (t->psks[i].id.type == 0) {
      dflt = t->psks[i].key;
    } else if (id_match(&t->psks[i].id, id_type, id, id_len)) {
      return t->psks[i].key;
    }
  }
  if (dflt != NULL) {
    return dflt;
  }
  return t->local_psk[0] != '\0' ? t->local_psk : NULL;
}

const char *ike_config_local_psk(const ike_cfg_template_t *t, uint8_t id_type,
                                 const uint8_t *id, size_t id_len) {
  if (t->local_psk[0] != '\0') {
    return t->local_psk;
  }
  return ike_config_remote_psk(t, id_type, id, id_len);
}

int ike_config_remote_id_ok(const ike_cfg_template_t *t, uint8_t id_type, const uint8_t *id,
                            size_t id_len) {
  if (t->n_remote_ids == 0) {
    return 1;
  }
  for (int i = 0; i < t->n_remote_ids; i++) {
    if (id_match(&t->remote_ids[i], id_type, id, id_len)) {
      return 1;
    }
  }
  return 0;
}

int ike_config_mobike_denied(const ike_cfg_template_t *t, int family, const uint8_t *addr) {
  for (int i = 0; i < t->n_mobike_deny; i++) {
    if (ike_cfg_prefix_contains(&t->mobike_deny[i], family, addr)) {
      return 1;
    }
  }
  return 0;
}

int ike_config_equal(const ike_config_t *a, const ike_config_t *b) {
  return memcmp(a, b, sizeof(*a)) == 0;
}

/* ---- printing -------------------------------------------------------------- */

/* A growing output: into a FILE or into a bounded buffer. */
typedef struct pout {
  FILE *f;
  char *buf;
  size_t cap;
  size_t len; /* bytes the full text needs so far */
  int err;
  int redact; /* print pre-shared keys as IKE_CFG_REDACTED */
} pout_t;

static void outf(pout_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(pout_t *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (o->f != NULL) {
    int n = vfprintf(o->f, fmt, ap);
    if (n < 0) {
      o->err = 1;
    } else {
      o->len += (size_t)n;
    }
  } else {
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room > 0 ? o->buf + o->len : NULL, room, fmt, ap);
    if (n < 0) {
      o->err = 1;
    } else {
      o->len += (size_t)n;
    }
  }
  va_end(ap);
}

/* Quote s when it would not read back as one word. */
static const char *q(const char *s, char *buf, size_t len) {
  int plain = s[0] != '\0' && s[0] != '#';
  for (const char *c = s; *c != '\0' && plain; c++) {
    plain = *c != ' ' && *c != '\t' && *c != '"' && *c != '\\';
  }
  if (plain) {
    return s;
  }
  size_t j = 0;
  buf[j++] = '"';
  for (const char *c = s; *c != '\0' && j + 3 < len; c++) {
    if (*c == '"' || *c == '\\') {
      buf[j++] = '\\';
    }
    buf[j++] = *c;
  }
  buf[j++] = '"';
  buf[j] = '\0';
  return buf;
}

static void print_tset(pout_t *o, const ike_cfg_tset_t *s) {
  outf(o, "    %s transform-set %s\n", s->kind == IKE_CFG_TSET_IKE ? "ikev2-ikesa" : "ipsec",
       s->name);
  if (s->n_encr > 0) {
    outf(o, "      encryption");
    for (int i = 0; i < s->n_encr; i++) {
      outf(o, " %s", ike_cfg_encr_name(&s->encr[i]));
    }
    outf(o, "\n");
  }
  if (s->n_prf > 0) {
    outf(o, "      prf");
    for (int i = 0; i < s->n_prf; i++) {
      outf(o, " %s", ike_cfg_prf_name(s->prf[i]));
    }
    outf(o, "\n");
  }
  if (s->n_integ > 0) {
    outf(o, "      hmac");
    for (int i = 0; i < s->n_integ; i++) {
      outf(o, " %s", ike_cfg_integ_name(s->integ[i]));
    }
    outf(o, "\n");
  }
  if (s->n_dh > 0) {
    outf(o, "      group");
    for (int i = 0; i < s->n_dh; i++) {
      outf(o, " %s", ike_cfg_dh_name(s->dh[i]));
    }
    outf(o, "\n");
  } else if (s->kind == IKE_CFG_TSET_ESP) {
    outf(o, "      group none\n");
  }
  outf(o, "    #exit\n");
}

static void print_id(pout_t *o, const char *lead, const ike_cfg_id_t *id) {
  char qb[2 * IKE_CFG_ID_MAX + 4];
  outf(o, "%sid-type %s id %s", lead, ike_cfg_id_type_name(id->type),
       q(id->value, qb, sizeof(qb)));
}

static void print_auth(pout_t *o, const ike_cfg_template_t *t) {
  char qb[2 * IKE_CFG_PATH_MAX + 4];
  if (t->local_id.type != 0) {
    print_id(o, "      identity local ", &t->local_id);
    outf(o, "\n");
  }
  for (int i = 0; i < t->n_remote_ids; i++) {
    print_id(o, "      identity remote ", &t->remote_ids[i]);
    outf(o, "\n");
  }
  if (t->local_psk[0] != '\0') {
    outf(o, "      authentication local pre-shared-key key %s\n",
         o->redact ? IKE_CFG_REDACTED : q(t->local_psk, qb, sizeof(qb)));
  }
  for (int i = 0; i < t->n_psks; i++) {
    outf(o, "      authentication remote pre-shared-key key %s",
         o->redact ? IKE_CFG_REDACTED : q(t->psks[i].key, qb, sizeof(qb)));
    if (t->psks[i].id.type != 0) {
      print_id(o, " ", &t->psks[i].id);
    }
    outf(o, "\n");
  }
  if (t->auth_local == IKE_CFG_AUTH_CERT) {
    outf(o, "      authentication local certificate\n");
  }
  if (t->auth_remote == IKE_CFG_AUTH_CERT) {
    outf(o, "      authentication remote certificate\n");
  }
  if (t->cert_file[0] != '\0') {
    outf(o, "      certificate file %s\n", q(t->cert_file, qb, sizeof(qb)));
  }
  if (t->key_file[0] != '\0') {
    outf(o, "      private-key file %s\n", q(t->key_file, qb, sizeof(qb)));
  }
  if (t->ca_file[0] != '\0') {
    outf(o, "      ca-certificate file %s\n", q(t->ca_file, qb, sizeof(qb)));
  }
  if (t->crl_file[0] != '\0') {
    outf(o, "      crl file %s\n", q(t->crl_file, qb, sizeof(qb)));
  }
}

static void print_payload(pout_t *o, const ike_cfg_template_t *t) {
  char pb[64];
  static const char *m[] = {"any", "ipv4", "ipv6"};
  if (t->payload_name[0] == '\0') {
    return;
  }
  outf(o, "      payload %s match childsa match %s\n", t->payload_name,
       m[t->payload_match == 4 ? 1 : t->payload_match == 6 ? 2 : 0]);
  if (!t->child_tset_default) {
    outf(o, "        ipsec transform-set list");
    for (int i = 0; i < t->n_child_tsets; i++) {
      outf(o, " %s", t->child_tsets[i].name);
    }
    outf(o, "\n");
  }
  outf(o, "        lifetime %u\n", (unsigned)t->child_lifetime_s);
  outf(o, "        lifetime kilo-bytes %llu\n", (unsigned long long)t->child_lifetime_kb);
  outf(o, "        lifetime packets %llu\n", (unsigned long long)t->child_lifetime_packets);
  for (int i = 0; i < t->n_local_ts; i++) {
    outf(o, "        traffic-selector local %s\n",
         ike_cfg_prefix_str(&t->local_ts[i], pb, sizeof(pb)));
  }
  outf(o, "      #exit\n");
}

static void print_template(pout_t *o, const ike_config_t *cfg, const ike_cfg_template_t *t) {
  char pb[64];
  outf(o, "    crypto template %s ikev2-dynamic\n", t->name);
  if (!t->ike_tset_default) {
    outf(o, "      ikev2-ikesa transform-set list");
    for (int i = 0; i < t->n_ike_tsets; i++) {
      outf(o, " %s", t->ike_tsets[i].name);
    }
    outf(o, "\n");
  }
  outf(o, "      ikev2-ikesa retransmission-timeout %u\n", (unsigned)t->retrans_timeout_ms);
  outf(o, "      ikev2-ikesa max-retransmission %u\n", (unsigned)t->max_retrans);
  outf(o, "      ikev2-ikesa lifetime %u\n", (unsigned)t->ike_lifetime_s);
  outf(o, "      ikev2-ikesa cookie-threshold %u\n", (unsigned)t->cookie_threshold);
  outf(o, "      ikev2-ikesa half-open-per-peer %u\n", (unsigned)t->half_open_per_peer);
  if (t->identity_limit != 0) {
    outf(o, "      ikev2-ikesa identity-limit %u %s\n", (unsigned)t->identity_limit,
         t->identity_limit_refuse ? "refuse" : "replace");
  }
  outf(o, "      dpd interval %u\n", (unsigned)t->dpd_interval_s);
  if (t->mobike) {
    outf(o, "      ikev2-ikesa mobike%s\n", t->mobike_cookie_challenge ? " cookie-challenge" : "");
  } else {
    outf(o, "      no ikev2-ikesa mobike\n");
  }
  for (int i = 0; i < t->n_mobike_deny; i++) {
    outf(o, "      ikev2-ikesa mobike deny-address %s\n",
         ike_cfg_prefix_str(&t->mobike_deny[i], pb, sizeof(pb)));
  }
  print_auth(o, t);
  if (t->pool4 < cfg->n_pools) {
    outf(o, "      ip address pool name %s\n", cfg->pools[t->pool4].name);
  }
  if (t->pool6 < cfg->n_pools) {
    outf(o, "      ip address pool name %s\n", cfg->pools[t->pool6].name);
  }
  if (t->n_dns > 0) {
    outf(o, "      ip name-servers");
    for (int i = 0; i < t->n_dns; i++) {
      outf(o, " %s", ike_cfg_addr_str(&t->dns[i], pb, sizeof(pb)));
    }
    outf(o, "\n");
  }
  print_payload(o, t);
  outf(o, "    #exit\n");
}

static void print_all(pout_t *o, const ike_config_t *cfg) {
  char qb[2 * IKE_CFG_PATH_MAX + 4], pb[64];
  outf(o, "config\n");
  outf(o, "  sessmgr workers %u\n", (unsigned)cfg->sessmgr_workers);
  outf(o, "  datapath %s\n", ike_cfg_datapath_name(cfg->datapath));
  outf(o, "  datapath max-sas %u\n", (unsigned)cfg->max_sas);
  outf(o, "  state-directory %s\n", q(cfg->state_dir, qb, sizeof(qb)));
  outf(o, "  checkpoint sync every %u ms\n", (unsigned)cfg->ckpt_sync_ms);
  outf(o, "  logging level %s\n", ike_cfg_loglevel_name(cfg->log_level));
  /* NAT-T port first so that a changed IKE port never equals the old NAT-T port. */
  outf(o, "  ike nat-t-udp-port %u\n", (unsigned)cfg->natt_port);
  outf(o, "  ike udp-port %u\n", (unsigned)cfg->ike_port);
  if (cfg->bulkstats_file[0] != '\0') {
    outf(o, "  bulkstats file %s\n", q(cfg->bulkstats_file, qb, sizeof(qb)));
  }
  outf(o, "  bulkstats interval %u\n", (unsigned)cfg->bulkstats_interval_s);
  for (int i = 0; i < cfg->n_bind; i++) {
    if (cfg->bind[i].ctx == IKE_CFG_NONE) {
      outf(o, "  bind address %s\n", cfg->bind[i].addr);
    }
  }
  for (int c = 0; c < cfg->n_contexts; c++) {
    outf(o, "  context %s\n", cfg->contexts[c].name);
    for (int i = 0; i < cfg->n_bind; i++) {
      if (cfg->bind[i].ctx == c) {
        outf(o, "    bind address %s\n", cfg->bind[i].addr);
      }
    }
    for (int i = 0; i < cfg->n_pools; i++) {
      if (cfg->pools[i].ctx == c) {
        outf(o, "    ip pool %s %s\n", cfg->pools[i].name,
             ike_cfg_prefix_str(&cfg->pools[i].prefix, pb, sizeof(pb)));
      }
    }
    for (int i = 0; i < cfg->n_tsets; i++) {
      if (cfg->tsets[i].ctx == c) {
        print_tset(o, &cfg->tsets[i]);
      }
    }
    for (int i = 0; i < cfg->n_templates; i++) {
      if (cfg->templates[i].ctx == c) {
        print_template(o, cfg, &cfg->templates[i]);
      }
    }
    outf(o, "  #exit\n");
  }
  outf(o, "end\n");
}

int ike_config_print(const ike_config_t *cfg, FILE *out) {
  pout_t o = {.f = out};
  print_all(&o, cfg);
  return o.err ? -1 : (int)o.len;
}

int ike_config_print_buf(const ike_config_t *cfg, char *buf, size_t len) {
  return ike_config_print_buf_opts(cfg, buf, len, 0);
}

int ike_config_print_buf_opts(const ike_config_t *cfg, char *buf, size_t len, int redact) {
  pout_t o = {.buf = buf, .cap = len, .redact = redact};
  if (len > 0) {
    buf[0] = '\0';
  }
  print_all(&o, cfg);
  return o.err ? -1 : (int)o.len;
}

int ike_config_mobike_advice(const ike_config_t *cfg, char *buf, size_t cap) {
  pout_t o = {.buf = buf, .cap = cap};
  int n = 0;
  if (cap > 0) {
    buf[0] = '\0';
  }
  for (int i = 0; i < cfg->n_templates; i++) {
    const ike_cfg_template_t *t = &cfg->templates[i];
    int low_dpd = t->dpd_interval_s != 0 && t->dpd_interval_s < IKE_CFG_DEF_DPD_S;
    if (!t->mobike || (t->retrans_timeout_ms >= IKE_CFG_DEF_RETRANS_MS &&
                       t->max_retrans >= IKE_CFG_DEF_MAX_RETRANS && !low_dpd)) {
      continue;
    }
    outf(&o, "%s%s (retransmission-timeout %u ms, max-retransmission %u, dpd interval %u s)",
         n == 0 ? "MOBIKE template with timers below the seed's advice: " : "; ", t->name,
         (unsigned)t->retrans_timeout_ms, (unsigned)t->max_retrans,
         (unsigned)t->dpd_interval_s);
    n++;
  }
  if (n > 0) {
    outf(&o, "; a client between networks is declared dead sooner (the seed: larger "
             "timers with MOBIKE, here at least %u ms, %u retransmissions, DPD %u s)",
         IKE_CFG_DEF_RETRANS_MS, IKE_CFG_DEF_MAX_RETRANS, IKE_CFG_DEF_DPD_S);
  }
  return n;
}

/* Is a the loopback address (127.0.0.0/8, ::1)? */
static int is_loopback(const ike_cfg_addr_t *a) {
  static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a->family == AF_INET ? a->addr[0] == 127 : memcmp(a->addr, v6lo, 16) == 0;
}

int ike_config_sample_psk_check(const ike_config_t *cfg, const char *file, char *err,
                                size_t len) {
  int sample = 0;
  for (int t = 0; t < cfg->n_templates; t++) {
    const ike_cfg_template_t *tp = &cfg->templates[t];
    sample |= strcmp(tp->local_psk, IKE_CFG_SAMPLE_PSK) == 0;
    for (int i = 0; i < tp->n_psks; i++) {
      sample |= strcmp(tp->psks[i].key, IKE_CFG_SAMPLE_PSK) == 0;
    }
  }
  if (!sample) {
    return 0;
  }
  const char *public = cfg->n_bind == 0 ? "0.0.0.0 and ::" : NULL;
  for (int i = 0; public == NULL && i < cfg->n_bind; i++) {
    if (!is_loopback(&cfg->bind[i].parsed)) {
      public = cfg->bind[i].addr;
    }
  }
  if (public == NULL) {
    return 0; /* loopback only: the demo and tests */
  }
  /* Name the line of the key, as every config error does. */
  unsigned line = 0, n = 0;
  FILE *f = fopen(file, "r");
  char buf[1024];
  while (f != NULL && fgets(buf, sizeof buf, f) != NULL) {
    n++;
    if (strstr(buf, IKE_CFG_SAMPLE_PSK) != NULL) {
      line = n;
      break;
    }
  }
  if (f != NULL) {
    fclose(f);
  }
  snprintf(err, len, "%s:%u: the sample pre-shared key \"%s\" would be served on %s: "
           "change it first (or bind a loopback address only)", file, line,
           IKE_CFG_SAMPLE_PSK, public);
  return -1;
}
