/*
 * control.c - sessmgr's control endpoint for gwctl: counters, SA records,
 * clearing SAs and run-time configuration.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikegw_ctl.pb-c.h"

#include "ike_addr.h"
#include "ike_log.h"
#include "sessmgr.h"

static void reply(sessmgr_t *sm, const ike_ipc_msg_t *msg, Ikegw__Ctl__Envelope *env)
{
  ike_ipc_send_pb(sm->ctl, msg->id, msg->id_len, &env->base, NULL, 0);
}

static void do_stats(sessmgr_t *sm, const ike_ipc_msg_t *msg, uint64_t id)
{
  size_t n = ike_stats_count();
  const ike_stats_t *st = ike_engine_stats(sm->engine);
  Ikegw__Types__Counter *cs = calloc(n, sizeof *cs);
  Ikegw__Types__Counter **cp = calloc(n, sizeof *cp);
  if (cs == NULL || cp == NULL) {
    free(cs);
    free(cp);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    Ikegw__Types__Counter init = IKEGW__TYPES__COUNTER__INIT;
    cs[i] = init;
    cs[i].name = (char *)ike_stats_name(i);
    cs[i].value = ike_stats_get(st, i);
    cp[i] = &cs[i];
  }
  Ikegw__Ctl__StatsResponse rsp = IKEGW__CTL__STATS_RESPONSE__INIT;
  rsp.process = "sessmgr";
  rsp.slot = sm->slot;
  rsp.pid = (uint32_t)getpid();
  rsp.uptime_s = (uv_now(sm->loop) - sm->start_ms) / 1000u;
  rsp.n_counters = n;
  rsp.counters = cp;
  Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
  env.id = id;
  env.msg_case = IKEGW__CTL__ENVELOPE__MSG_STATS_RESPONSE;
  env.stats_response = &rsp;
  reply(sm, msg, &env);
  free(cs);
  free(cp);
}

/* Records under construction for ShowSaResponse. */
#define SHOW_MAX_FIELDS 40
typedef struct show_acc {
  sessmgr_t *sm;
  Ikegw__Ctl__Record *recs;
  Ikegw__Ctl__Record **rp;
  Ikegw__Ctl__Field *fields;   /* SHOW_MAX_FIELDS per record */
  Ikegw__Ctl__Field **fp;
  char *strs;                  /* string values, bump-allocated */
  size_t strs_used, strs_cap;
  size_t n, cap;
  uint64_t children;
} show_acc_t;

static void field_s(show_acc_t *a, Ikegw__Ctl__Record *r, const char *name, const char *v)
{
  if (r->n_fields >= SHOW_MAX_FIELDS) {
    return;
  }
  size_t k = (size_t)(r->fields - a->fp) + r->n_fields;
  Ikegw__Ctl__Field init = IKEGW__CTL__FIELD__INIT;
  a->fields[k] = init;
  a->fields[k].name = (char *)name;
  size_t need = strlen(v) + 1;
  if (a->strs_used + need > a->strs_cap) {
    v = "";
    need = 1;
    if (a->strs_used + need > a->strs_cap) {
      return;
    }
  }
  char *s = a->strs + a->strs_used;
  memcpy(s, v, need);
  a->strs_used += need;
  a->fields[k].value_case = IKEGW__CTL__FIELD__VALUE_S;
  a->fields[k].s = s;
  a->fp[k] = &a->fields[k];
  r->n_fields++;
}

static void field_u(show_acc_t *a, Ikegw__Ctl__Record *r, const char *name, uint64_t v)
{
  if (r->n_fields >= SHOW_MAX_FIELDS) {
    return;
  }
  size_t k = (size_t)(r->fields - a->fp) + r->n_fields;
  Ikegw__Ctl__Field init = IKEGW__CTL__FIELD__INIT;
  a->fields[k] = init;
  a->fields[k].name = (char *)name;
  a->fields[k].value_case = IKEGW__CTL__FIELD__VALUE_U;
  a->fields[k].u = v;
  a->fp[k] = &a->fields[k];
  r->n_fields++;
}

/* "a.b.c.d/n" when the range is a prefix, else "start-end". */
static void ts_text(const ike_ts_t *ts, char *out, size_t len)
{
  int af = ts->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6;
  int alen = af == AF_INET ? 4 : 16, plen = 0;
  char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
  inet_ntop(af, ts->start, a, sizeof a);
  while (plen < alen * 8) {
    int byte = plen / 8, bit = 7 - plen % 8;
    if (((ts->start[byte] ^ ts->end[byte]) >> bit) & 1) {
      break;
    }
    plen++;
  }
  bool prefix = true;
  for (int i = plen; i < alen * 8; i++) {
    int byte = i / 8, bit = 7 - i % 8;
    prefix &= ((ts->start[byte] >> bit) & 1) == 0 && ((ts->end[byte] >> bit) & 1) == 1;
  }
  if (prefix) {
    snprintf(out, len, "%s/%d", a, plen);
  } else {
    inet_ntop(af, ts->end, b, sizeof b);
    snprintf(out, len, "%s-%s", a, b);
  }
}

/* Fields child<i>_* of one CHILD SA. */
static void child_fields(show_acc_t *a, Ikegw__Ctl__Record *r, unsigned i,
                         const ike_child_info_t *c)
{
  /* Field names must outlive the response: a static table per index. */
  static char names[4][8][24];
  static const char *suffix[8] = {"spi_in", "spi_out", "encr", "encr_bits",
                                  "integ", "encap", "ts_local", "ts_remote"};
  for (int k = 0; k < 8; k++) {
    snprintf(names[i][k], sizeof names[i][k], "child%u_%s", i, suffix[k]);
  }
  char ts[2 * INET6_ADDRSTRLEN + 8];
  field_u(a, r, names[i][0], c->spi_in);
  field_u(a, r, names[i][1], c->spi_out);
  field_u(a, r, names[i][2], c->suite.encr);
  field_u(a, r, names[i][3], c->suite.encr_bits);
  field_u(a, r, names[i][4], c->suite.integ);
  field_u(a, r, names[i][5], c->encap);
  ts_text(&c->ts_local, ts, sizeof ts);
  field_s(a, r, names[i][6], ts);
  ts_text(&c->ts_remote, ts, sizeof ts);
  field_s(a, r, names[i][7], ts);
}

static void add_record(void *arg, const ike_sa_info_t *in)
{
  show_acc_t *a = arg;
  if (a->n >= a->cap) {
    return;
  }
  Ikegw__Ctl__Record init = IKEGW__CTL__RECORD__INIT;
  Ikegw__Ctl__Record *r = &a->recs[a->n];
  *r = init;
  r->fields = &a->fp[a->n * SHOW_MAX_FIELDS];
  a->rp[a->n] = r;
  a->n++;
  char buf[64];
  uint16_t port;
  field_u(a, r, "slot", a->sm->slot);
  field_u(a, r, "ike_spi_i", in->spi_i);
  field_u(a, r, "ike_spi_r", in->spi_r);
  field_s(a, r, "state", in->state);
  port = ike_addr_str(&in->path.peer, buf, sizeof buf);
  field_s(a, r, "peer_addr", buf);
  field_u(a, r, "peer_port", port);
  port = ike_addr_str(&in->path.local, buf, sizeof buf);
  field_s(a, r, "local_addr", buf);
  field_u(a, r, "local_port", port);
  field_s(a, r, "peer_id", in->peer_id);
  field_s(a, r, "template", in->tmpl);
  field_s(a, r, "local_id", in->local_id[0] ? in->local_id : buf);
  field_u(a, r, "mobike_updates", in->mobike_updates);
  field_u(a, r, "encr", in->suite.encr);
  field_u(a, r, "encr_bits", in->suite.encr_bits);
  field_u(a, r, "integ", in->suite.integ);
  field_u(a, r, "prf", in->suite.prf);
  field_u(a, r, "dh", in->suite.dh);
  field_s(a, r, "encr_name", ike_encr_name(in->suite.encr));
  field_s(a, r, "prf_name", ike_prf_name(in->suite.prf));
  field_s(a, r, "integ_name", ike_integ_name(in->suite.integ));
  field_s(a, r, "dh_name", ike_dh_name(in->suite.dh));
  field_u(a, r, "natt", in->natt);
  field_u(a, r, "nat_peer", in->nat_peer);
  field_u(a, r, "nat_local", in->nat_local);
  field_s(a, r, "mobike", in->mobike ? "Enabled" : "Disabled");
  uint32_t v = htonl(in->vip4);
  inet_ntop(AF_INET, &v, buf, sizeof buf);
  field_s(a, r, "virtual_ip", in->vip4 ? buf : "");
  inet_ntop(AF_INET6, in->vip6, buf, sizeof buf);
  field_s(a, r, "virtual_ip6", in->has_vip6 ? buf : "");
  field_u(a, r, "age_s", in->age_s);
  field_u(a, r, "lifetime_s", in->lifetime_s);
  field_u(a, r, "child_count", in->n_child);
  for (unsigned i = 0; i < in->n_child; i++) {
    child_fields(a, r, i, &in->child[i]);
  }
  a->children += in->n_child;
}

static void do_show(sessmgr_t *sm, const ike_ipc_msg_t *msg, uint64_t id,
                    const Ikegw__Ctl__ShowSaRequest *rq)
{
  show_acc_t a;
  memset(&a, 0, sizeof a);
  a.sm = sm;
  a.cap = rq->limit ? rq->limit : 1000;
  if (a.cap > ike_engine_sa_count(sm->engine)) {
    a.cap = ike_engine_sa_count(sm->engine);
  }
  size_t nf = a.cap * SHOW_MAX_FIELDS;
  a.recs = calloc(a.cap + 1, sizeof *a.recs);
  a.rp = calloc(a.cap + 1, sizeof *a.rp);
  a.fields = calloc(nf + 1, sizeof *a.fields);
  a.fp = calloc(nf + 1, sizeof *a.fp);
  a.strs_cap = (a.cap + 1) * 2048u; /* ~12 text fields per SA, IDs up to 255 */
  a.strs = malloc(a.strs_cap);
  Ikegw__Ctl__ShowSaResponse rsp = IKEGW__CTL__SHOW_SA_RESPONSE__INIT;
  /* Pages of at most cap SAs; the cursor is the table position to go on from
   * (gwctl asks page after page until next_cursor is ""). */
  char next[24] = "";
  if (a.recs && a.rp && a.fields && a.fp && a.strs && !rq->summary) {
    size_t from = rq->cursor != NULL ? (size_t)strtoull(rq->cursor, NULL, 10) : 0;
    size_t pos = ike_engine_foreach_sa_page(sm->engine, from, a.cap, add_record, &a);
    if (pos != 0) {
      snprintf(next, sizeof next, "%zu", pos);
    }
  }
  rsp.n_records = a.n;
  rsp.records = a.rp;
  rsp.next_cursor = next;
  rsp.total_ike_sas = ike_engine_stats(sm->engine)->ike_sa_current;
  rsp.total_child_sas = ike_engine_stats(sm->engine)->child_sa_current;
  Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
  env.id = id;
  env.msg_case = IKEGW__CTL__ENVELOPE__MSG_SHOW_SA_RESPONSE;
  env.show_sa_response = &rsp;
  reply(sm, msg, &env);
  free(a.recs);
  free(a.rp);
  free(a.fields);
  free(a.fp);
  free(a.strs);
}

static void do_result(sessmgr_t *sm, const ike_ipc_msg_t *msg, uint64_t id, bool ok,
                      const char *err, const char *out)
{
  Ikegw__Ctl__Result res = IKEGW__CTL__RESULT__INIT;
  char *lines[1] = {(char *)out};
  res.ok = ok;
  res.error = (char *)(err ? err : "");
  res.n_output = out ? 1 : 0;
  res.output = lines;
  Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
  env.id = id;
  env.msg_case = IKEGW__CTL__ENVELOPE__MSG_RESULT;
  env.result = &res;
  reply(sm, msg, &env);
}

/* Make next the running config: certificate files are read again (a failure
 * refuses the whole change), SAs keep their template and pool by name. */
static int apply_config(sessmgr_t *sm, const ike_config_t *next, bool dry, char *err,
                        size_t len)
{
  ike_cert_store_t *certs[IKE_CFG_MAX_TEMPLATES] = {0};
  if (ike_cert_load_config(next, certs, err, len) != 0) {
    return -1;
  }
  if (dry) { /* the files can be read: that is all a check needs */
    ike_cert_free_config(certs);
    return 0;
  }
  ike_engine_set_config(sm->engine, next); /* remaps while sm->cfg is the old one */
  sm->cfg = *next;
  ike_engine_set_config(sm->engine, &sm->cfg); /* the engine keeps &sm->cfg */
  ike_engine_set_certs(sm->engine, certs);
  ike_cert_free_config(sm->certs);
  memcpy(sm->certs, certs, sizeof certs);
  return 0;
}

static void do_configure(sessmgr_t *sm, const ike_ipc_msg_t *msg, uint64_t id,
                         const Ikegw__Ctl__Configure *c)
{
  char err[512] = "";
  if (c->show) {
    int need = ike_config_print_buf_opts(&sm->cfg, NULL, 0, !c->secrets);
    char *text = need > 0 ? malloc((size_t)need + 1) : NULL;
    if (text != NULL) {
      ike_config_print_buf_opts(&sm->cfg, text, (size_t)need + 1, !c->secrets);
    }
    do_result(sm, msg, id, text != NULL, text ? NULL : "out of memory", text);
    free(text);
    return;
  }
  size_t len = 0;
  for (size_t i = 0; i < c->n_lines; i++) {
    len += strlen(c->lines[i]) + 1;
  }
  char *buf = malloc(len + 1);
  if (buf == NULL) {
    return;
  }
  buf[0] = '\0';
  size_t off = 0;
  for (size_t i = 0; i < c->n_lines; i++) {
    off += (size_t)sprintf(buf + off, "%s\n", c->lines[i]);
  }
  ike_config_t *next = malloc(sizeof *next);
  int rc = -1;
  if (next != NULL) {
    *next = sm->cfg;
    rc = ike_config_apply_buf(next, "gwctl", buf, off, err, sizeof err);
    if (rc == 0) {
      rc = ike_engine_config_check(sm->engine, next, err, sizeof err);
    }
    if (rc == 0) {
      rc = apply_config(sm, next, c->dry_run, err, sizeof err);
    }
  }
  do_result(sm, msg, id, rc == 0, rc == 0 ? NULL : err, rc == 0 ? "configuration applied" : NULL);
  free(next);
  free(buf);
}

void sessmgr_on_ctl(ike_ipc_t *ep, const ike_ipc_msg_t *msg, void *arg)
{
  sessmgr_t *sm = arg;
  (void)ep;
  Ikegw__Ctl__Envelope *env =
      ikegw__ctl__envelope__unpack(NULL, msg->hdr_len, msg->hdr);
  if (env == NULL) {
    return;
  }
  switch (env->msg_case) {
  case IKEGW__CTL__ENVELOPE__MSG_STATS_REQUEST:
    do_stats(sm, msg, env->id);
    break;
  case IKEGW__CTL__ENVELOPE__MSG_SHOW_SA_REQUEST:
    do_show(sm, msg, env->id, env->show_sa_request);
    break;
  case IKEGW__CTL__ENVELOPE__MSG_CLEAR_SA: {
    char out[64];
    int n = 0;
    if (env->clear_sa->all || env->clear_sa->ike_spi != 0) {
      n = ike_engine_clear(sm->engine, env->clear_sa->all ? 0 : env->clear_sa->ike_spi,
                           uv_now(sm->loop));
    }
    snprintf(out, sizeof out, "%d SAs cleared", n);
    do_result(sm, msg, env->id, true, NULL, out);
    sessmgr_rearm(sm);
    break;
  }
  case IKEGW__CTL__ENVELOPE__MSG_CONFIGURE:
    do_configure(sm, msg, env->id, env->configure);
    break;
  default:
    break;
  }
  ikegw__ctl__envelope__free_unpacked(env, NULL);
}
