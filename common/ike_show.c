/*
 * ike_show.c - text and JSON rendering of the show commands (ike_show.h).
 */
#include "ike_show.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_config_int.h"
#include "ike_wire.h"

/* ---- sinks ----------------------------------------------------------------- */

void ike_out_file(ike_out_t *o, FILE *f) {
  memset(o, 0, sizeof(*o));
  o->f = f;
}

void ike_out_buf(ike_out_t *o, char *buf, size_t cap) {
  memset(o, 0, sizeof(*o));
  o->buf = buf;
  o->cap = cap;
  if (cap > 0) {
    buf[0] = '\0';
  }
}

void ike_out_printf(ike_out_t *o, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  if (o->f != NULL) {
    n = vfprintf(o->f, fmt, ap);
  } else {
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    n = vsnprintf(room > 0 ? o->buf + o->len : NULL, room, fmt, ap);
  }
  va_end(ap);
  if (n < 0) {
    o->err = 1;
  } else {
    o->len += (size_t)n;
  }
}

int ike_out_ok(const ike_out_t *o) {
  return !o->err && (o->f != NULL || o->len < o->cap);
}

/* ---- JSON ------------------------------------------------------------------ */

void ike_json_init(ike_json_t *j, ike_out_t *o) {
  memset(j, 0, sizeof(*j));
  j->o = o;
  j->first[0] = 1;
}

void ike_json_escape(ike_out_t *o, const char *s) {
  ike_out_printf(o, "\"");
  for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
    if (*c == '"' || *c == '\\') {
      ike_out_printf(o, "\\%c", *c);
    } else if (*c < 0x20) {
      ike_out_printf(o, "\\u%04x", *c);
    } else {
      ike_out_printf(o, "%c", *c);
    }
  }
  ike_out_printf(o, "\"");
}

/* Comma and key before a new element at the current level. */
static void jkey(ike_json_t *j, const char *key) {
  if (!j->first[j->depth]) {
    ike_out_printf(j->o, ",");
  }
  j->first[j->depth] = 0;
  if (key != NULL) {
    ike_json_escape(j->o, key);
    ike_out_printf(j->o, ":");
  }
}

static void jopen(ike_json_t *j, const char *key, char c) {
  jkey(j, key);
  ike_out_printf(j->o, "%c", c);
  if (j->depth + 1 >= IKE_JSON_DEPTH) {
    j->o->err = 1;
    return;
  }
  j->first[++j->depth] = 1;
}

static void jclose(ike_json_t *j, char c) {
  ike_out_printf(j->o, "%c", c);
  if (j->depth > 0) {
    j->depth--;
  }
}

void ike_json_obj_begin(ike_json_t *j, const char *key) { jopen(j, key, '{'); }
void ike_json_obj_end(ike_json_t *j) { jclose(j, '}'); }
void ike_json_arr_begin(ike_json_t *j, const char *key) { jopen(j, key, '['); }
void ike_json_arr_end(ike_json_t *j) { jclose(j, ']'); }

void ike_json_str(ike_json_t *j, const char *key, const char *v) {
  jkey(j, key);
  ike_json_escape(j->o, v != NULL ? v : "");
}

void ike_json_u64(ike_json_t *j, const char *key, uint64_t v) {
  jkey(j, key);
  ike_out_printf(j->o, "%" PRIu64, v);
}

void ike_json_bool(ike_json_t *j, const char *key, int v) {
  jkey(j, key);
  ike_out_printf(j->o, "%s", v ? "true" : "false");
}

/* ---- show crypto statistics ikev2 -------------------------------------------- */

/* One row of a seed block: label (with the seed's spaces), value, gap, label, value.
 * lab2 NULL: a single-cell row. */
static void seed_row(ike_out_t *o, const char *lab1, uint64_t v1, const char *gap,
                     const char *lab2, uint64_t v2) {
  if (lab2 == NULL) {
    ike_out_printf(o, "%s%" PRIu64 "\n", lab1, v1);
    return;
  }
  ike_out_printf(o, "%s%" PRIu64 "%s%s%" PRIu64 "\n", lab1, v1, gap, lab2, v2);
}

void ike_show_stats_seed_blocks(ike_out_t *o, const ike_stats_t *st) {
  ike_out_printf(o, "Total IKEv2 Notify Message Receive Statistics:\n");
  seed_row(o, "  MOBIKE Supported:          ", st->notify_rcvd_MOBIKE_SUPPORTED, "   ",
           "Additional IPv4 Address:    ", st->notify_rcvd_ADDITIONAL_IP4_ADDRESS);
  seed_row(o, "  Additional IPv6 Address:   ", st->notify_rcvd_ADDITIONAL_IP6_ADDRESS, "   ",
           "No Additional Address:      ", st->notify_rcvd_NO_ADDITIONAL_ADDRESSES);
  seed_row(o, "  Update SA Addresses:      ", st->notify_rcvd_UPDATE_SA_ADDRESSES, "   ",
           "COOKIE2:                    ", st->notify_rcvd_COOKIE2);
  seed_row(o, "  No NAT Allowed:           ", st->notify_rcvd_NO_NATS_ALLOWED, NULL, NULL, 0);
  ike_out_printf(o, "\n");
  ike_out_printf(o, "Total IKEv2 MOBIKE Statistics:\n");
  seed_row(o, "  MOBIKE Notify Sent:       ", st->notify_sent_MOBIKE_SUPPORTED, "   ",
           "MOBIKE Notify Rcvd:        ", st->mobike_notify_rcvd);
  seed_row(o, "  MOBIKE Ignored:           ", st->mobike_ignored, "   ",
           "MOBIKE Unexpected NAT Sent: ", st->notify_sent_UNEXPECTED_NAT_DETECTED);
  seed_row(o, "  MOBIKE Unacceptable Address Sent: ", st->notify_sent_UNACCEPTABLE_ADDRESSES,
           " ", "MOBIKE Cookie2 Rcvd:      ", st->mobike_cookie2_rcvd);
  seed_row(o, "  MOBIKE Cookie2 Sent:      ", st->notify_sent_COOKIE2, "   ",
           "MOBIKE COOKIE2 Mismatch:  ", st->mobike_cookie2_mismatch);
}

static void show_exchanges(ike_out_t *o, const ike_stats_t *st) {
  static const char *names[] = {"IKE_SA_INIT", "IKE_AUTH", "CREATE_CHILD_SA", "INFORMATIONAL"};
  const uint64_t *base[] = {&st->exch_init_req_rcvd, &st->exch_auth_req_rcvd,
                            &st->exch_child_req_rcvd, &st->exch_info_req_rcvd};
  ike_out_printf(o, "Total IKEv2 Exchange Statistics:\n");
  ike_out_printf(o, "  %-16s %14s %14s %14s %14s\n", "Exchange", "Requests Rcvd",
                 "Requests Sent", "Responses Rcvd", "Responses Sent");
  for (int i = 0; i < 4; i++) {
    ike_out_printf(o, "  %-16s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n",
                   names[i], base[i][0], base[i][1], base[i][2], base[i][3]);
  }
  ike_out_printf(o, "  Requests Retransmitted: %" PRIu64 "   Responses Resent: %" PRIu64 "\n",
                 st->retrans_req_sent, st->retrans_rsp_sent);
  ike_out_printf(o, "  Resends Refused: Not an Exact Copy: %" PRIu64 "   Rate Limited: %" PRIu64
                 "\n", st->retrans_req_mismatch, st->retrans_rsp_ratelimited);
}

/* Notify counters by type, from the field names notify_rcvd_X / notify_sent_X. */
static void show_notifies(ike_out_t *o, const ike_stats_t *st) {
  ike_out_printf(o, "Total IKEv2 Notify Statistics:\n");
  ike_out_printf(o, "  %-32s %14s %14s\n", "Notify", "Rcvd", "Sent");
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    const char *n = ike_stats_name(i);
    if (strncmp(n, "notify_rcvd_", 12) != 0) {
      continue;
    }
    char sent[64];
    snprintf(sent, sizeof(sent), "notify_sent_%s", n + 12);
    int k = ike_stats_find(sent);
    ike_out_printf(o, "  %-32s %14" PRIu64, n + 12, ike_stats_get(st, i));
    if (k >= 0) {
      ike_out_printf(o, " %14" PRIu64 "\n", ike_stats_get(st, (size_t)k));
    } else {
      ike_out_printf(o, " %14s\n", "-");
    }
  }
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    const char *n = ike_stats_name(i);
    char rcvd[64];
    if (strncmp(n, "notify_sent_", 12) != 0) {
      continue;
    }
    snprintf(rcvd, sizeof(rcvd), "notify_rcvd_%s", n + 12);
    if (ike_stats_find(rcvd) < 0) {
      ike_out_printf(o, "  %-32s %14s %14" PRIu64 "\n", n + 12, "-", ike_stats_get(st, i));
    }
  }
}

static const struct { ike_stat_id_t id; const char *label; } detail_rows[] = {
    {IKE_STAT_mobike_cookie2_match, "MOBIKE COOKIE2 Match"},
    {IKE_STAT_mobike_cookie2_missing, "MOBIKE COOKIE2 Missing"},
    {IKE_STAT_mobike_update_applied, "Address Updates Applied"},
    {IKE_STAT_mobike_update_retransmit, "Address Update Retransmits"},
    {IKE_STAT_mobike_update_stale, "Stale Address Updates"},
    {IKE_STAT_mobike_update_not_mobike, "Address Updates w/o MOBIKE"},
    {IKE_STAT_mobike_nat_changed, "UDP Encapsulation Changes"},
    {IKE_STAT_mobike_rrc_started, "Return Routability Started"},
    {IKE_STAT_mobike_rrc_passed, "Return Routability Passed"},
    {IKE_STAT_mobike_rrc_failed, "Return Routability Failed"},
    {IKE_STAT_mobike_additional_ignored, "Additional Addresses Ignored"},
};

static const struct { ike_stat_id_t id; const char *label; } fail_rows[] = {
    {IKE_STAT_fail_parse, "Parse Error"},
    {IKE_STAT_fail_integrity, "Decrypt/Integrity Failure"},
    {IKE_STAT_fail_unknown_spi, "Unknown SPI"},
    {IKE_STAT_fail_msgid, "Message ID Out of Window"},
    {IKE_STAT_fail_state, "Exchange Invalid in State"},
    {IKE_STAT_fail_unsupported_critical, "Unsupported Critical Payload"},
    {IKE_STAT_fail_no_proposal, "No Proposal Chosen"},
    {IKE_STAT_fail_invalid_ke, "Invalid KE Payload"},
    {IKE_STAT_fail_cookie_required, "Cookie Required"},
    {IKE_STAT_fail_cookie_invalid, "Invalid Cookie"},
    {IKE_STAT_fail_half_open_limit, "Half-Open Limit"},
    {IKE_STAT_fail_half_open_peer, "Half-Open Limit per Peer"},
    {IKE_STAT_fail_identity_limit, "Identity Limit"},
    {IKE_STAT_fail_auth, "Authentication Failed"},
    {IKE_STAT_fail_cert, "Certificate Failure"},
    {IKE_STAT_fail_id, "Identity Not Accepted"},
    {IKE_STAT_fail_ts_unacceptable, "TS Unacceptable"},
    {IKE_STAT_fail_address_pool, "Address Pool Exhausted"},
    {IKE_STAT_fail_dead_peer, "Dead Peer (Retransmit Timeout)"},
    {IKE_STAT_fail_ipsecmgr, "IPsec Manager Failure"},
    {IKE_STAT_fail_internal, "Internal Error"},
};

static const struct { ike_stat_id_t id; const char *label; } sa_rows[] = {
    {IKE_STAT_ike_sa_current, "IKE SAs Current"},
    {IKE_STAT_ike_sa_half_open, "IKE SAs Half-Open"},
    {IKE_STAT_ike_sa_established, "IKE SAs Established"},
    {IKE_STAT_ike_sa_rekeyed, "IKE SAs Rekeyed"},
    {IKE_STAT_ike_sa_deleted, "IKE SAs Deleted"},
    {IKE_STAT_child_sa_current, "CHILD SAs Current"},
    {IKE_STAT_child_sa_established, "CHILD SAs Established"},
    {IKE_STAT_child_sa_rekeyed, "CHILD SAs Rekeyed"},
    {IKE_STAT_child_sa_deleted, "CHILD SAs Deleted"},
    {IKE_STAT_dpd_sent, "DPD Requests Sent"},
};

#define LABELLED_BLOCK(o, st, title, rows)                                         \
  do {                                                                             \
    ike_out_printf((o), "%s\n", (title));                                          \
    for (size_t i_ = 0; i_ < sizeof(rows) / sizeof(rows[0]); i_++) {               \
      ike_out_printf((o), "  %-32s %" PRIu64 "\n", rows[i_].label ,                \
                     ike_stats_get((st), rows[i_].id));                            \
    }                                                                              \
  } while (0)

void ike_show_stats_ikev2(ike_out_t *o, const ike_stats_t *st) {
  show_exchanges(o, st);
  ike_out_printf(o, "\n");
  show_notifies(o, st);
  ike_out_printf(o, "\n");
  ike_show_stats_seed_blocks(o, st);
  ike_out_printf(o, "\n");
  LABELLED_BLOCK(o, st, "Total IKEv2 MOBIKE Details:", detail_rows);
  ike_out_printf(o, "\n");
  LABELLED_BLOCK(o, st, "Total IKEv2 Failure Statistics:", fail_rows);
  ike_out_printf(o, "\n");
  LABELLED_BLOCK(o, st, "Total IKEv2 SA Statistics:", sa_rows);
}

void ike_show_stats_ikev2_json(ike_out_t *o, const ike_stats_t *st) {
  ike_json_t j;
  ike_json_init(&j, o);
  ike_json_obj_begin(&j, NULL);
  ike_json_obj_begin(&j, "counters");
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    ike_json_u64(&j, ike_stats_name(i), ike_stats_get(st, i));
  }
  ike_json_obj_end(&j);
  ike_json_obj_begin(&j, "bulkstats");
  for (size_t i = 0; ike_show_bulkvars[i] != NULL; i++) {
    int k = ike_stats_find_bulkvar(ike_show_bulkvars[i]);
    ike_json_u64(&j, ike_show_bulkvars[i], ike_stats_get(st, (size_t)k));
  }
  ike_json_obj_end(&j);
  ike_json_obj_end(&j);
  ike_out_printf(o, "\n");
}

/* ---- show crypto template ---------------------------------------------------- */

#define TL "%-23s: " /* template labels: "IKEv2 Mobike           : " as in the seed */

static void tset_text(ike_out_t *o, const ike_cfg_tset_t *s) {
  ike_out_printf(o, "%s (", s->name);
  for (int i = 0; i < s->n_encr; i++) {
    ike_out_printf(o, "%s%s", i ? " " : "", ike_cfg_encr_name(&s->encr[i]));
  }
  if (s->n_integ > 0) {
    ike_out_printf(o, "; hmac");
    for (int i = 0; i < s->n_integ; i++) {
      ike_out_printf(o, " %s", ike_cfg_integ_name(s->integ[i]));
    }
  }
  if (s->n_prf > 0) {
    ike_out_printf(o, "; prf");
    for (int i = 0; i < s->n_prf; i++) {
      ike_out_printf(o, " %s", ike_cfg_prf_name(s->prf[i]));
    }
  }
  ike_out_printf(o, "; group");
  for (int i = 0; i < s->n_dh; i++) {
    ike_out_printf(o, " %s", ike_cfg_dh_name(s->dh[i]));
  }
  ike_out_printf(o, "%s)\n", s->n_dh == 0 ? " none" : "");
}

static void show_auth(ike_out_t *o, const ike_cfg_template_t *t) {
  ike_out_printf(o, TL "%s\n", "Local Authentication", ike_cfg_auth_name(t->auth_local));
  ike_out_printf(o, TL "%s\n", "Remote Authentication", ike_cfg_auth_name(t->auth_remote));
  if (t->local_id.type != 0) {
    ike_out_printf(o, TL "%s %s\n", "Local Identity", ike_cfg_id_type_name(t->local_id.type),
                   t->local_id.value);
  } else {
    ike_out_printf(o, TL "%s\n", "Local Identity", "ip-addr (local address)");
  }
  if (t->n_remote_ids == 0) {
    ike_out_printf(o, TL "%s\n", "Remote Identities", "any");
  }
  for (int i = 0; i < t->n_remote_ids; i++) {
    ike_out_printf(o, TL "%s %s\n", "Remote Identity", ike_cfg_id_type_name(t->remote_ids[i].type),
                   t->remote_ids[i].value);
  }
  ike_out_printf(o, TL "%u\n", "Remote Pre-shared Keys", (unsigned)t->n_psks);
  if (t->cert_file[0] != '\0') {
    ike_out_printf(o, TL "%s\n", "Certificate", t->cert_file);
  }
  if (t->ca_file[0] != '\0') {
    ike_out_printf(o, TL "%s\n", "CA Certificate", t->ca_file);
  }
  if (t->crl_file[0] != '\0') {
    ike_out_printf(o, TL "%s\n", "CRL File", t->crl_file);
  }
}

void ike_show_template(ike_out_t *o, const ike_config_t *cfg, const ike_cfg_template_t *t) {
  char b[64];
  ike_out_printf(o, TL "%s\n", "Crypto Template", t->name);
  ike_out_printf(o, TL "%s\n", "Type", "ikev2-dynamic");
  ike_out_printf(o, TL "%s\n", "Context", t->ctx < cfg->n_contexts ? cfg->contexts[t->ctx].name
                                                                  : "?");
  for (int i = 0; i < t->n_ike_tsets; i++) {
    ike_out_printf(o, TL, i == 0 ? "IKE SA Transform Sets" : "");
    tset_text(o, &t->ike_tsets[i]);
  }
  for (int i = 0; i < t->n_child_tsets; i++) {
    ike_out_printf(o, TL, i == 0 ? "IPsec Transform Sets" : "");
    tset_text(o, &t->child_tsets[i]);
  }
  show_auth(o, t);
  const ike_cfg_pool_t *p4 = ike_config_template_pool(cfg, t, AF_INET);
  const ike_cfg_pool_t *p6 = ike_config_template_pool(cfg, t, AF_INET6);
  ike_out_printf(o, TL "%s\n", "IPv4 Pool", p4 ? p4->name : "none");
  ike_out_printf(o, TL "%s\n", "IPv6 Pool", p6 ? p6->name : "none");
  ike_out_printf(o, TL "%u ms (x%u)\n", "Retransmission Timeout",
                 (unsigned)t->retrans_timeout_ms, (unsigned)t->max_retrans);
  if (t->dpd_interval_s == 0) {
    ike_out_printf(o, TL "%s\n", "DPD Interval", "Disabled");
  } else {
    ike_out_printf(o, TL "%u s\n", "DPD Interval", (unsigned)t->dpd_interval_s);
  }
  ike_out_printf(o, TL "%u s\n", "IKE SA Lifetime", (unsigned)t->ike_lifetime_s);
  ike_out_printf(o, TL "%u s\n", "IPsec SA Lifetime", (unsigned)t->child_lifetime_s);
  ike_out_printf(o, TL "%u\n", "Cookie Threshold", (unsigned)t->cookie_threshold);
  ike_out_printf(o, TL "%s\n", "IKEv2 Mobike", t->mobike ? "Enabled" : "Disabled");
  ike_out_printf(o, TL "%s\n", "Cookie Challenge",
                 t->mobike && t->mobike_cookie_challenge ? "Enabled" : "Disabled");
  for (int i = 0; i < t->n_mobike_deny; i++) {
    ike_out_printf(o, TL "%s\n", i == 0 ? "Mobike Deny Addresses" : "",
                   ike_cfg_prefix_str(&t->mobike_deny[i], b, sizeof(b)));
  }
}

void ike_show_templates(ike_out_t *o, const ike_config_t *cfg) {
  if (cfg->n_templates == 0) {
    ike_out_printf(o, "No crypto templates\n");
  }
  for (int i = 0; i < cfg->n_templates; i++) {
    if (i > 0) {
      ike_out_printf(o, "\n");
    }
    ike_show_template(o, cfg, &cfg->templates[i]);
  }
}

static void tset_json(ike_json_t *j, const ike_cfg_tset_t *s) {
  ike_json_obj_begin(j, NULL);
  ike_json_str(j, "name", s->name);
  ike_json_arr_begin(j, "encryption");
  for (int i = 0; i < s->n_encr; i++) {
    ike_json_str(j, NULL, ike_cfg_encr_name(&s->encr[i]));
  }
  ike_json_arr_end(j);
  ike_json_arr_begin(j, "prf");
  for (int i = 0; i < s->n_prf; i++) {
    ike_json_str(j, NULL, ike_cfg_prf_name(s->prf[i]));
  }
  ike_json_arr_end(j);
  ike_json_arr_begin(j, "integrity");
  for (int i = 0; i < s->n_integ; i++) {
    ike_json_str(j, NULL, ike_cfg_integ_name(s->integ[i]));
  }
  ike_json_arr_end(j);
  ike_json_arr_begin(j, "dh");
  for (int i = 0; i < s->n_dh; i++) {
    ike_json_u64(j, NULL, s->dh[i]);
  }
  ike_json_arr_end(j);
  ike_json_obj_end(j);
}

void ike_show_templates_json(ike_out_t *o, const ike_config_t *cfg) {
  ike_json_t j;
  char b[64];
  ike_json_init(&j, o);
  ike_json_arr_begin(&j, NULL);
  for (int i = 0; i < cfg->n_templates; i++) {
    const ike_cfg_template_t *t = &cfg->templates[i];
    const ike_cfg_pool_t *p4 = ike_config_template_pool(cfg, t, AF_INET);
    const ike_cfg_pool_t *p6 = ike_config_template_pool(cfg, t, AF_INET6);
    ike_json_obj_begin(&j, NULL);
    ike_json_str(&j, "name", t->name);
    ike_json_str(&j, "type", "ikev2-dynamic");
    ike_json_str(&j, "context", t->ctx < cfg->n_contexts ? cfg->contexts[t->ctx].name : "");
    ike_json_arr_begin(&j, "ike_transform_sets");
    for (int k = 0; k < t->n_ike_tsets; k++) {
      tset_json(&j, &t->ike_tsets[k]);
    }
    ike_json_arr_end(&j);
    ike_json_arr_begin(&j, "ipsec_transform_sets");
    for (int k = 0; k < t->n_child_tsets; k++) {
      tset_json(&j, &t->child_tsets[k]);
    }
    ike_json_arr_end(&j);
    ike_json_str(&j, "auth_local", ike_cfg_auth_name(t->auth_local));
    ike_json_str(&j, "auth_remote", ike_cfg_auth_name(t->auth_remote));
    ike_json_str(&j, "ipv4_pool", p4 ? p4->name : "");
    ike_json_str(&j, "ipv6_pool", p6 ? p6->name : "");
    ike_json_u64(&j, "retransmission_timeout_ms", t->retrans_timeout_ms);
    ike_json_u64(&j, "max_retransmission", t->max_retrans);
    ike_json_u64(&j, "dpd_interval_s", t->dpd_interval_s);
    ike_json_u64(&j, "ike_lifetime_s", t->ike_lifetime_s);
    ike_json_u64(&j, "ipsec_lifetime_s", t->child_lifetime_s);
    ike_json_u64(&j, "cookie_threshold", t->cookie_threshold);
    ike_json_bool(&j, "mobike", t->mobike);
    ike_json_bool(&j, "mobike_cookie_challenge", t->mobike && t->mobike_cookie_challenge);
    ike_json_arr_begin(&j, "mobike_deny_addresses");
    for (int k = 0; k < t->n_mobike_deny; k++) {
      ike_json_str(&j, NULL, ike_cfg_prefix_str(&t->mobike_deny[k], b, sizeof(b)));
    }
    ike_json_arr_end(&j);
    ike_json_obj_end(&j);
  }
  ike_json_arr_end(&j);
  ike_out_printf(o, "\n");
}

/* ---- show crypto ikev2-ikesa security-associations ----------------------------- */

/* "a.b.c.d:port" or "[v6]:port". */
static const char *hostport(const char *addr, uint16_t port, char *buf, size_t len) {
  if (strchr(addr, ':') != NULL) {
    snprintf(buf, len, "[%s]:%u", addr, (unsigned)port);
  } else {
    snprintf(buf, len, "%s:%u", addr, (unsigned)port);
  }
  return buf;
}

void ike_show_sa_summary(ike_out_t *o, const ike_sa_view_t *v, size_t n) {
  char r[80], l[80];
  ike_out_printf(o, "%5s %-16s %-16s %-12s %-28s %-28s %-15s %s\n", "Slot", "Initiator SPI",
                 "Responder SPI", "State", "Remote Address:Port", "Local Address:Port",
                 "Virtual IP", "Mobike");
  for (size_t i = 0; i < n; i++) {
    const ike_sa_view_t *s = &v[i];
    ike_out_printf(o, "%5u %016" PRIx64 " %016" PRIx64 " %-12s %-28s %-28s %-15s %s\n",
                   (unsigned)s->slot, s->spi_i, s->spi_r, s->state,
                   hostport(s->peer_addr, s->peer_port, r, sizeof(r)),
                   hostport(s->local_addr, s->local_port, l, sizeof(l)),
                   s->virtual_ip4[0] ? s->virtual_ip4 : s->virtual_ip6[0] ? s->virtual_ip6 : "-",
                   s->mobike ? "Enabled" : "Disabled");
  }
  ike_out_printf(o, "Total IKEv2 SAs: %zu\n", n);
}

#define SL "%-26s: " /* SA labels: "Mobike Supported          : " as in the seed */

static void child_detail(ike_out_t *o, const ike_child_view_t *c, int idx) {
  ike_cfg_encr_t e = {c->encr, c->keylen};
  ike_out_printf(o, "  CHILD SA %d\n", idx);
  ike_out_printf(o, "  " "%-24s: 0x%08" PRIx32 " / 0x%08" PRIx32 "\n", "SPI In / Out", c->spi_in,
                 c->spi_out);
  ike_out_printf(o, "  " "%-24s: %s%s%s\n", "Algorithms", ike_cfg_encr_name(&e),
                 c->integ ? "/" : "", c->integ ? ike_cfg_integ_name(c->integ) : "");
  ike_out_printf(o, "  " "%-24s: %s === %s\n", "Traffic Selectors", c->ts_local, c->ts_remote);
  ike_out_printf(o, "  " "%-24s: %s\n", "UDP Encapsulation", c->udp_encap ? "Yes" : "No");
  ike_out_printf(o, "  " "%-24s: %" PRIu64 " bytes, %" PRIu64 " packets\n", "Inbound",
                 c->bytes_in, c->packets_in);
  ike_out_printf(o, "  " "%-24s: %" PRIu64 " bytes, %" PRIu64 " packets\n", "Outbound",
                 c->bytes_out, c->packets_out);
  ike_out_printf(o, "  " "%-24s: %u s / %u s\n", "Age / Lifetime", (unsigned)c->age_s,
                 (unsigned)c->lifetime_s);
}

void ike_show_sa_detail(ike_out_t *o, const ike_sa_view_t *s) {
  char b[80];
  ike_cfg_encr_t e = {s->encr, s->keylen};
  ike_out_printf(o, SL "%u\n", "Sessmgr Slot", (unsigned)s->slot);
  ike_out_printf(o, SL "0x%016" PRIx64 "\n", "Initiator SPI", s->spi_i);
  ike_out_printf(o, SL "0x%016" PRIx64 "\n", "Responder SPI", s->spi_r);
  ike_out_printf(o, SL "%s\n", "State", s->state);
  ike_out_printf(o, SL "%s\n", "Crypto Template", s->tmpl);
  ike_out_printf(o, SL "%s\n", "Remote Address", hostport(s->peer_addr, s->peer_port, b, sizeof(b)));
  ike_out_printf(o, SL "%s\n", "Local Address", hostport(s->local_addr, s->local_port, b, sizeof(b)));
  ike_out_printf(o, SL "%s\n", "Remote ID", s->peer_id);
  ike_out_printf(o, SL "%s\n", "Local ID", s->local_id);
  ike_out_printf(o, SL "%s\n", "Encryption", ike_cfg_encr_name(&e));
  ike_out_printf(o, SL "%s\n", "Integrity", s->integ ? ike_cfg_integ_name(s->integ) : "none");
  ike_out_printf(o, SL "%s\n", "PRF", ike_cfg_prf_name(s->prf));
  ike_out_printf(o, SL "%s\n", "DH Group", ike_cfg_dh_name(s->dh));
  ike_out_printf(o, SL "%s\n", "Virtual IPv4 Address", s->virtual_ip4[0] ? s->virtual_ip4 : "none");
  ike_out_printf(o, SL "%s\n", "Virtual IPv6 Address", s->virtual_ip6[0] ? s->virtual_ip6 : "none");
  ike_out_printf(o, SL "%s\n", "Local Behind NAT", s->nat_local ? "Yes" : "No");
  ike_out_printf(o, SL "%s\n", "Remote Behind NAT", s->nat_remote ? "Yes" : "No");
  ike_out_printf(o, SL "%s\n", "Mobike Supported", s->mobike ? "Enabled" : "Disabled");
  ike_out_printf(o, SL "%u\n", "Mobike Address Updates", (unsigned)s->mobike_updates);
  ike_out_printf(o, SL "%u s / %u s\n", "Age / Lifetime", (unsigned)s->age_s,
                 (unsigned)s->lifetime_s);
  ike_out_printf(o, SL "%u\n", "CHILD SAs", (unsigned)s->n_child);
  for (int i = 0; i < s->n_child && i < IKE_SHOW_MAX_CHILD; i++) {
    child_detail(o, &s->child[i], i + 1);
  }
}

static void hex(char *b, size_t len, uint64_t v, int digits) {
  snprintf(b, len, "%0*" PRIx64, digits, v);
}

static void child_json(ike_json_t *j, const ike_child_view_t *c) {
  char b[24];
  ike_cfg_encr_t e = {c->encr, c->keylen};
  ike_json_obj_begin(j, NULL);
  hex(b, sizeof(b), c->spi_in, 8);
  ike_json_str(j, "spi_in", b);
  hex(b, sizeof(b), c->spi_out, 8);
  ike_json_str(j, "spi_out", b);
  ike_json_str(j, "encryption", ike_cfg_encr_name(&e));
  ike_json_str(j, "integrity", c->integ ? ike_cfg_integ_name(c->integ) : "none");
  ike_json_str(j, "ts_local", c->ts_local);
  ike_json_str(j, "ts_remote", c->ts_remote);
  ike_json_bool(j, "udp_encap", c->udp_encap);
  ike_json_u64(j, "bytes_in", c->bytes_in);
  ike_json_u64(j, "bytes_out", c->bytes_out);
  ike_json_u64(j, "packets_in", c->packets_in);
  ike_json_u64(j, "packets_out", c->packets_out);
  if (c->datapath != 0) {
    ike_json_bool(j, "in_datapath", c->datapath == 1);
  }
  ike_json_u64(j, "age_s", c->age_s);
  ike_json_u64(j, "lifetime_s", c->lifetime_s);
  ike_json_obj_end(j);
}

void ike_show_sa_json(ike_out_t *o, const ike_sa_view_t *v, size_t n) {
  ike_json_t j;
  char b[24];
  ike_json_init(&j, o);
  ike_json_arr_begin(&j, NULL);
  for (size_t i = 0; i < n; i++) {
    const ike_sa_view_t *s = &v[i];
    ike_cfg_encr_t e = {s->encr, s->keylen};
    ike_json_obj_begin(&j, NULL);
    ike_json_u64(&j, "slot", s->slot);
    hex(b, sizeof(b), s->spi_i, 16);
    ike_json_str(&j, "spi_i", b);
    hex(b, sizeof(b), s->spi_r, 16);
    ike_json_str(&j, "spi_r", b);
    ike_json_str(&j, "state", s->state);
    ike_json_str(&j, "template", s->tmpl);
    ike_json_str(&j, "remote_addr", s->peer_addr);
    ike_json_u64(&j, "remote_port", s->peer_port);
    ike_json_str(&j, "local_addr", s->local_addr);
    ike_json_u64(&j, "local_port", s->local_port);
    ike_json_str(&j, "remote_id", s->peer_id);
    ike_json_str(&j, "local_id", s->local_id);
    ike_json_str(&j, "encryption", ike_cfg_encr_name(&e));
    ike_json_str(&j, "integrity", s->integ ? ike_cfg_integ_name(s->integ) : "none");
    ike_json_str(&j, "prf", ike_cfg_prf_name(s->prf));
    ike_json_u64(&j, "dh_group", s->dh);
    ike_json_str(&j, "virtual_ip4", s->virtual_ip4);
    ike_json_str(&j, "virtual_ip6", s->virtual_ip6);
    ike_json_bool(&j, "nat_local", s->nat_local);
    ike_json_bool(&j, "nat_remote", s->nat_remote);
    ike_json_bool(&j, "mobike", s->mobike);
    ike_json_u64(&j, "mobike_updates", s->mobike_updates);
    ike_json_u64(&j, "age_s", s->age_s);
    ike_json_u64(&j, "lifetime_s", s->lifetime_s);
    ike_json_arr_begin(&j, "child_sas");
    for (int k = 0; k < s->n_child && k < IKE_SHOW_MAX_CHILD; k++) {
      child_json(&j, &s->child[k]);
    }
    ike_json_arr_end(&j);
    ike_json_obj_end(&j);
  }
  ike_json_arr_end(&j);
  ike_out_printf(o, "\n");
}

/* ---- bulk statistics ------------------------------------------------------------ */

/* The seed's order (its table of variables). */
const char *const ike_show_bulkvars[] = {
    "ikev2-mobike-sent",
    "ikev2-mobike-recv",
    "ikev2-mobike-ignored",
    "ikev2-mobike-unexpected-natt-detected-sent",
    "ikev2-mobike-cookie2-rvcd",
    "ikev2-mobike-cookie2-sent",
    "ikev2-mobike-cookie2-mismatch",
    "ikev2-mobike-cookie2-match",
    "ikev2-notifrecv-mobikesupp",
    "ikev2-notifrecv-updsaaddr",
    "ikev2-notifrecv-cookie2",
    "ikev2-notifrecv-nonatallow",
    NULL,
};

static uint64_t bulk_value(const ike_stats_t *st, const char *var) {
  int k = ike_stats_find_bulkvar(var);
  return k < 0 ? 0 : ike_stats_get(st, (size_t)k);
}

void ike_show_bulkstats(ike_out_t *o, const ike_stats_t *st) {
  for (size_t i = 0; ike_show_bulkvars[i] != NULL; i++) {
    ike_out_printf(o, "%s = %" PRIu64 "\n", ike_show_bulkvars[i],
                   bulk_value(st, ike_show_bulkvars[i]));
  }
}

void ike_show_bulkstats_json(ike_out_t *o, const ike_stats_t *st) {
  ike_json_t j;
  ike_json_init(&j, o);
  ike_json_obj_begin(&j, NULL);
  for (size_t i = 0; ike_show_bulkvars[i] != NULL; i++) {
    ike_json_u64(&j, ike_show_bulkvars[i], bulk_value(st, ike_show_bulkvars[i]));
  }
  ike_json_obj_end(&j);
  ike_out_printf(o, "\n");
}

void ike_show_bulkstats_csv_header(ike_out_t *o) {
  ike_out_printf(o, "timestamp");
  for (size_t i = 0; ike_show_bulkvars[i] != NULL; i++) {
    ike_out_printf(o, ",%s", ike_show_bulkvars[i]);
  }
  ike_out_printf(o, "\n");
}

void ike_show_bulkstats_csv_row(ike_out_t *o, time_t ts, const ike_stats_t *st) {
  struct tm tm;
  char tb[32] = "1970-01-01T00:00:00Z";
  if (gmtime_r(&ts, &tm) != NULL) {
    strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  ike_out_printf(o, "%s", tb);
  for (size_t i = 0; ike_show_bulkvars[i] != NULL; i++) {
    ike_out_printf(o, ",%" PRIu64, bulk_value(st, ike_show_bulkvars[i]));
  }
  ike_out_printf(o, "\n");
}
