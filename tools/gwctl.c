/*
 * gwctl.c - operator CLI: StarOS-style show, clear and configure commands
 * against the control endpoints of every sessmgr (aggregated).
 *
 *   gwctl [--run DIR] [--json] show crypto statistics ikev2
 *   gwctl [--run DIR] [--json] show crypto ikev2-ikesa security-associations [summary]
 *   gwctl [--run DIR] [--json] show crypto template
 *   gwctl [--run DIR] show configuration [--secrets]   (pre-shared keys redacted unless --secrets)
 *   gwctl [--run DIR] [--json] show bulkstats
 *   gwctl [--run DIR] clear crypto ikev2-ikesa all | spi HEX
 *   gwctl [--run DIR] configure "LINE" ["LINE" ...]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ikegw_ctl.pb-c.h"
#include "ikegw_ipsec.pb-c.h"

#include "ike_config.h"
#include "ike_ctlc.h"
#include "ike_show.h"
#include "ike_stats.h"

#define TIMEOUT_MS 3000

static void *zctx;
static char run_dir[256] = IKE_CFG_DEF_STATE_DIR;
static int json;

static int workers(void)
{
  int n = ike_ctlc_workers(run_dir);
  if (n < 0) {
    fprintf(stderr, "gwctl: no running gateway under %s (%s/workers missing)\n", run_dir,
            run_dir);
    exit(1);
  }
  return n;
}

/* Send env to sessmgr slot and wait for the answer (caller frees). */
static Ikegw__Ctl__Envelope *ask(int slot, Ikegw__Ctl__Envelope *env)
{
  Ikegw__Ctl__Envelope *rsp = ike_ctlc_ask(zctx, run_dir, slot, env, TIMEOUT_MS);
  if (rsp == NULL) {
    if (slot < 0) {
      fprintf(stderr, "gwctl: the launcher did not answer (%s)\n", run_dir);
    } else {
      fprintf(stderr, "gwctl: sessmgr %d did not answer (%s)\n", slot, run_dir);
    }
  }
  return rsp;
}

static int show_stats(int bulk)
{
  ike_stats_t total;
  int bad = ike_ctlc_stats_total(zctx, run_dir, workers(), &total, TIMEOUT_MS);
  if (bad > 0) {
    fprintf(stderr, "gwctl: %d sessmgr(s) did not answer; totals are partial\n", bad);
  }
  ike_out_t o;
  ike_out_file(&o, stdout);
  if (bulk) {
    json ? ike_show_bulkstats_json(&o, &total) : ike_show_bulkstats(&o, &total);
  } else {
    json ? ike_show_stats_ikev2_json(&o, &total) : ike_show_stats_ikev2(&o, &total);
  }
  return bad ? 1 : 0;
}

static const Ikegw__Ctl__Field *fld(const Ikegw__Ctl__Record *r, const char *name)
{
  for (size_t i = 0; i < r->n_fields; i++) {
    if (strcmp(r->fields[i]->name, name) == 0) {
      return r->fields[i];
    }
  }
  return NULL;
}

static uint64_t fu(const Ikegw__Ctl__Record *r, const char *name)
{
  const Ikegw__Ctl__Field *f = fld(r, name);
  return (f && f->value_case == IKEGW__CTL__FIELD__VALUE_U) ? f->u : 0;
}

static void fs(const Ikegw__Ctl__Record *r, const char *name, char *out, size_t len)
{
  const Ikegw__Ctl__Field *f = fld(r, name);
  snprintf(out, len, "%s", (f && f->value_case == IKEGW__CTL__FIELD__VALUE_S) ? f->s : "");
}

static void to_view(const Ikegw__Ctl__Record *r, ike_sa_view_t *v)
{
  char buf[64];
  memset(v, 0, sizeof *v);
  v->slot = (uint16_t)fu(r, "slot");
  v->spi_i = fu(r, "ike_spi_i");
  v->spi_r = fu(r, "ike_spi_r");
  fs(r, "state", buf, sizeof buf);
  for (size_t i = 0; buf[i] && i < sizeof v->state - 1; i++) {
    v->state[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
  }
  fs(r, "peer_addr", v->peer_addr, sizeof v->peer_addr);
  v->peer_port = (uint16_t)fu(r, "peer_port");
  fs(r, "local_addr", v->local_addr, sizeof v->local_addr);
  v->local_port = (uint16_t)fu(r, "local_port");
  fs(r, "peer_id", v->peer_id, sizeof v->peer_id);
  fs(r, "template", v->tmpl, sizeof v->tmpl);
  fs(r, "local_id", v->local_id, sizeof v->local_id);
  v->mobike_updates = (uint32_t)fu(r, "mobike_updates");
  v->encr = (uint16_t)fu(r, "encr");
  v->keylen = (uint16_t)fu(r, "encr_bits");
  v->prf = (uint16_t)fu(r, "prf");
  v->integ = (uint16_t)fu(r, "integ");
  v->dh = (uint16_t)fu(r, "dh");
  fs(r, "virtual_ip", v->virtual_ip4, sizeof v->virtual_ip4);
  fs(r, "virtual_ip6", v->virtual_ip6, sizeof v->virtual_ip6);
  v->nat_local = (uint8_t)fu(r, "nat_local");
  v->nat_remote = (uint8_t)fu(r, "nat_peer");
  fs(r, "mobike", buf, sizeof buf);
  v->mobike = strcmp(buf, "Enabled") == 0;
  v->age_s = (uint32_t)fu(r, "age_s");
  v->lifetime_s = (uint32_t)fu(r, "lifetime_s");
  unsigned nc = (unsigned)fu(r, "child_count");
  for (unsigned i = 0; i < nc && i < IKE_SHOW_MAX_CHILD; i++) {
    char k[32];
    snprintf(k, sizeof k, "child%u_spi_in", i);
    v->child[i].spi_in = (uint32_t)fu(r, k);
    snprintf(k, sizeof k, "child%u_spi_out", i);
    v->child[i].spi_out = (uint32_t)fu(r, k);
    snprintf(k, sizeof k, "child%u_encr", i);
    v->child[i].encr = (uint16_t)fu(r, k);
    snprintf(k, sizeof k, "child%u_encr_bits", i);
    v->child[i].keylen = (uint16_t)fu(r, k);
    snprintf(k, sizeof k, "child%u_integ", i);
    v->child[i].integ = (uint16_t)fu(r, k);
    snprintf(k, sizeof k, "child%u_encap", i);
    v->child[i].udp_encap = (uint8_t)fu(r, k);
    snprintf(k, sizeof k, "child%u_ts_local", i);
    fs(r, k, v->child[i].ts_local, sizeof v->child[i].ts_local);
    snprintf(k, sizeof k, "child%u_ts_remote", i);
    fs(r, k, v->child[i].ts_remote, sizeof v->child[i].ts_remote);
    v->n_child++;
  }
}

/* Per-SA packet/byte counters come from ipsecmgr, the one authority on what
 * is programmed (DESIGN.md): one SaQuery for every CHILD SA shown. */
static void fill_child_counters(ike_sa_view_t *views, size_t count)
{
  char ep[320];
  snprintf(ep, sizeof ep, "%s/ipsec.sock", run_dir);
  if (access(ep, F_OK) != 0) {
    return; /* no ipsecmgr (IKE only) */
  }
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    n += 2u * views[i].n_child;
  }
  if (n == 0) {
    return;
  }
  Ikegw__Ipsec__SaId *ids = calloc(n, sizeof *ids);
  Ikegw__Ipsec__SaId **idp = calloc(n, sizeof *idp);
  void *s = zmq_socket(zctx, ZMQ_DEALER);
  int linger = 0;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  snprintf(ep, sizeof ep, "ipc://%s/ipsec.sock", run_dir);
  if (ids == NULL || idp == NULL || zmq_connect(s, ep) != 0) {
    goto done;
  }
  size_t k = 0;
  for (size_t i = 0; i < count; i++) {
    for (unsigned c = 0; c < views[i].n_child; c++) {
      for (int dir = 0; dir < 2; dir++) {
        Ikegw__Ipsec__SaId init = IKEGW__IPSEC__SA_ID__INIT;
        ids[k] = init;
        ids[k].direction = dir == 0 ? IKEGW__IPSEC__DIRECTION__DIR_IN
                                    : IKEGW__IPSEC__DIRECTION__DIR_OUT;
        ids[k].spi = dir == 0 ? views[i].child[c].spi_in : views[i].child[c].spi_out;
        ids[k].child_in_spi = views[i].child[c].spi_in;
        idp[k] = &ids[k];
        k++;
      }
    }
  }
  Ikegw__Ipsec__SaQuery q = IKEGW__IPSEC__SA_QUERY__INIT;
  q.n_ids = n;
  q.ids = idp;
  Ikegw__Ipsec__Envelope env = IKEGW__IPSEC__ENVELOPE__INIT;
  env.id = 1;
  env.msg_case = IKEGW__IPSEC__ENVELOPE__MSG_SA_QUERY;
  env.sa_query = &q;
  size_t len = protobuf_c_message_get_packed_size(&env.base);
  uint8_t *buf = malloc(len);
  if (buf == NULL) {
    goto done;
  }
  protobuf_c_message_pack(&env.base, buf);
  zmq_send(s, buf, len, 0);
  free(buf);
  zmq_pollitem_t pi = {.socket = s, .events = ZMQ_POLLIN};
  if (zmq_poll(&pi, 1, TIMEOUT_MS) != 1) {
    fprintf(stderr, "gwctl: ipsecmgr did not answer; CHILD SA counters not shown\n");
    goto done;
  }
  zmq_msg_t m;
  zmq_msg_init(&m);
  if (zmq_msg_recv(&m, s, 0) >= 0) {
    Ikegw__Ipsec__Envelope *r =
        ikegw__ipsec__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    if (r != NULL && r->msg_case == IKEGW__IPSEC__ENVELOPE__MSG_SA_STATS) {
      k = 0;
      for (size_t i = 0; i < count; i++) {
        for (unsigned c = 0; c < views[i].n_child; c++, k += 2) {
          if (k + 1 < r->sa_stats->n_sas) {
            views[i].child[c].bytes_in = r->sa_stats->sas[k]->bytes;
            views[i].child[c].packets_in = r->sa_stats->sas[k]->packets;
            views[i].child[c].bytes_out = r->sa_stats->sas[k + 1]->bytes;
            views[i].child[c].packets_out = r->sa_stats->sas[k + 1]->packets;
            views[i].child[c].datapath =
                r->sa_stats->sas[k]->found && r->sa_stats->sas[k + 1]->found ? 1 : 2;
          }
        }
      }
    }
    if (r != NULL) {
      ikegw__ipsec__envelope__free_unpacked(r, NULL);
    }
  }
  zmq_msg_close(&m);
done:
  zmq_close(s);
  free(ids);
  free(idp);
}

static int show_sas(int summary)
{
  int n = workers(), bad = 0;
  size_t cap = 64, count = 0;
  ike_sa_view_t *views = malloc(cap * sizeof *views);
  for (int s = 0; s < n; s++) {
    /* Page after page (each sessmgr answers at most its page size). */
    char cursor[32] = "";
    do {
      Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
      Ikegw__Ctl__ShowSaRequest rq = IKEGW__CTL__SHOW_SA_REQUEST__INIT;
      rq.peer_addr = "";
      rq.cursor = cursor;
      env.id = 1;
      env.msg_case = IKEGW__CTL__ENVELOPE__MSG_SHOW_SA_REQUEST;
      env.show_sa_request = &rq;
      Ikegw__Ctl__Envelope *r = ask(s, &env);
      if (r == NULL || r->msg_case != IKEGW__CTL__ENVELOPE__MSG_SHOW_SA_RESPONSE) {
        bad++;
        if (r != NULL) {
          ikegw__ctl__envelope__free_unpacked(r, NULL);
        }
        break;
      }
      for (size_t i = 0; i < r->show_sa_response->n_records; i++) {
        if (count == cap) {
          cap *= 2;
          views = realloc(views, cap * sizeof *views);
        }
        to_view(r->show_sa_response->records[i], &views[count++]);
      }
      const char *nc = r->show_sa_response->next_cursor;
      snprintf(cursor, sizeof cursor, "%s", nc != NULL ? nc : "");
      ikegw__ctl__envelope__free_unpacked(r, NULL);
    } while (cursor[0] != '\0');
  }
  fill_child_counters(views, count);
  ike_out_t o;
  ike_out_file(&o, stdout);
  if (json) {
    ike_show_sa_json(&o, views, count);
  } else if (summary) {
    ike_show_sa_summary(&o, views, count);
  } else {
    for (size_t i = 0; i < count; i++) {
      ike_show_sa_detail(&o, &views[i]);
    }
    ike_out_printf(&o, "Total IKEv2 SAs: %zu\n", count);
  }
  free(views);
  return bad ? 1 : 0;
}

/* A Result from slot 0..n-1; prints output lines. */
static int result_all(Ikegw__Ctl__Envelope *env, int only_first, char **text_out)
{
  /* The launcher owns the running config: configure and show configuration
   * go to it when it runs (ikegw_running.h); else to every sessmgr. */
  char lp[600];
  snprintf(lp, sizeof lp, "%s/ctl-ikegw.sock", run_dir);
  int launcher = env->msg_case == IKEGW__CTL__ENVELOPE__MSG_CONFIGURE && access(lp, F_OK) == 0;
  int n = only_first || launcher ? 1 : workers(), bad = 0;
  char *last_err = NULL;
  for (int s = 0; s < n; s++) {
    Ikegw__Ctl__Envelope *r = ask(launcher ? -1 : s, env);
    if (r == NULL || r->msg_case != IKEGW__CTL__ENVELOPE__MSG_RESULT) {
      bad++;
      continue;
    }
    if (!r->result->ok) {
      /* Every sessmgr checks the same lines: say each distinct error once. */
      if (last_err == NULL || strcmp(last_err, r->result->error) != 0) {
        fprintf(stderr, "%s\n", r->result->error);
        free(last_err);
        last_err = strdup(r->result->error);
      }
      bad++;
    } else if (text_out != NULL && r->result->n_output > 0) {
      *text_out = strdup(r->result->output[0]);
    } else if (!only_first && s == 0) {
      for (size_t i = 0; i < r->result->n_output; i++) {
        printf("%s\n", r->result->output[i]);
      }
    }
    ikegw__ctl__envelope__free_unpacked(r, NULL);
  }
  free(last_err);
  return bad ? 1 : 0;
}

static int running_config(ike_config_t *cfg, char **text, int secrets)
{
  Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
  Ikegw__Ctl__Configure c = IKEGW__CTL__CONFIGURE__INIT;
  c.show = 1;
  c.secrets = secrets; /* pre-shared keys in clear only when asked for */
  env.id = 1;
  env.msg_case = IKEGW__CTL__ENVELOPE__MSG_CONFIGURE;
  env.configure = &c;
  workers();
  if (result_all(&env, 1, text) != 0 || *text == NULL) {
    return 1;
  }
  char err[512];
  if (cfg != NULL && ike_config_parse_buf("running-config", *text, strlen(*text), cfg, err,
                                          sizeof err) != 0) {
    fprintf(stderr, "gwctl: %s\n", err);
    return 1;
  }
  return 0;
}

static int usage(void)
{
  fprintf(stderr,
          "usage: gwctl [--run DIR] [--json] show crypto statistics ikev2\n"
          "       gwctl [--run DIR] [--json] show crypto ikev2-ikesa security-associations [summary]\n"
          "       gwctl [--run DIR] [--json] show crypto template\n"
          "       gwctl [--run DIR] show configuration [--secrets]\n"
          "       gwctl [--run DIR] [--json] show bulkstats\n"
          "       gwctl [--run DIR] clear crypto ikev2-ikesa all|spi HEX\n"
          "       gwctl [--run DIR] configure LINE...\n");
  return 2;
}

int main(int argc, char **argv)
{
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[i], "--run") == 0 && i + 1 < argc) {
      snprintf(run_dir, sizeof run_dir, "%s", argv[++i]);
    } else {
      return usage();
    }
  }
  /* --json may also come last. */
  if (argc > i && strcmp(argv[argc - 1], "--json") == 0) {
    json = 1;
    argc--;
  }
  int n = argc - i;
  char **a = argv + i;
  zctx = zmq_ctx_new();
  int rc = 2;
  if (n == 4 && !strcmp(a[0], "show") && !strcmp(a[1], "crypto") &&
      !strcmp(a[2], "statistics") && !strcmp(a[3], "ikev2")) {
    rc = show_stats(0);
  } else if (n == 2 && !strcmp(a[0], "show") && !strcmp(a[1], "bulkstats")) {
    rc = show_stats(1);
  } else if (n >= 4 && !strcmp(a[0], "show") && !strcmp(a[1], "crypto") &&
             !strcmp(a[2], "ikev2-ikesa") && !strcmp(a[3], "security-associations")) {
    rc = show_sas(n == 5 && !strcmp(a[4], "summary"));
  } else if (n == 3 && !strcmp(a[0], "show") && !strcmp(a[1], "crypto") &&
             !strcmp(a[2], "template")) {
    static ike_config_t cfg;
    char *text = NULL;
    rc = running_config(&cfg, &text, 0);
    if (rc == 0) {
      ike_out_t o;
      ike_out_file(&o, stdout);
      json ? ike_show_templates_json(&o, &cfg) : ike_show_templates(&o, &cfg);
    }
    free(text);
  } else if ((n == 2 || (n == 3 && !strcmp(a[2], "--secrets"))) && !strcmp(a[0], "show") &&
             !strcmp(a[1], "configuration")) {
    char *text = NULL;
    rc = running_config(NULL, &text, n == 3);
    if (rc == 0) {
      fputs(text, stdout);
    }
    free(text);
  } else if (n >= 4 && !strcmp(a[0], "clear") && !strcmp(a[1], "crypto") &&
             !strcmp(a[2], "ikev2-ikesa")) {
    Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
    Ikegw__Ctl__ClearSa c = IKEGW__CTL__CLEAR_SA__INIT;
    c.peer_addr = "";
    c.notify_peer = 1;
    if (!strcmp(a[3], "all")) {
      c.all = 1;
    } else if (n == 5 && !strcmp(a[3], "spi")) {
      c.ike_spi = strtoull(a[4], NULL, 16);
    } else {
      return usage();
    }
    env.id = 1;
    env.msg_case = IKEGW__CTL__ENVELOPE__MSG_CLEAR_SA;
    env.clear_sa = &c;
    rc = result_all(&env, 0, NULL);
  } else if (n >= 2 && !strcmp(a[0], "configure")) {
    Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
    Ikegw__Ctl__Configure c = IKEGW__CTL__CONFIGURE__INIT;
    c.n_lines = (size_t)(n - 1);
    c.lines = a + 1;
    env.id = 1;
    env.msg_case = IKEGW__CTL__ENVELOPE__MSG_CONFIGURE;
    env.configure = &c;
    rc = result_all(&env, 0, NULL);
  } else {
    rc = usage();
  }
  zmq_ctx_term(zctx);
  return rc;
}
