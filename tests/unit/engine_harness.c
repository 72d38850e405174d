/*
 * engine_harness.c - see engine_harness.h. Included (not linked) by the
 * test_engine_*.c programs.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_harness.h"

const char *hx_conf(const char *extra)
{
  static char buf[4096];
  snprintf(buf, sizeof buf,
           "config\n"
           "  context ipsec\n"
           "    ip pool pool1 10.10.0.0/24\n"
           "    ikev2-ikesa transform-set ike1\n"
           "      encryption aes-gcm-256\n"
           "      prf sha2-256\n"
           "      group 19 14\n"
           "    #exit\n"
           "    ipsec transform-set esp1\n"
           "      encryption aes-gcm-256\n"
           "      group none\n"
           "    #exit\n"
           "    crypto template tmpl1 ikev2-dynamic\n"
           "      ikev2-ikesa transform-set list ike1\n"
           "      ikev2-ikesa retransmission-timeout 1000\n"
           "      ikev2-ikesa max-retransmission 3\n"
           "      dpd interval 30\n"
           "      identity local id-type fqdn id gw.example.net\n"
           "      authentication local pre-shared-key key \"" HX_PSK "\"\n"
           "      ip address pool name pool1\n"
           "%s"
           "      payload ps1 match childsa\n"
           "        ipsec transform-set list esp1\n"
           "        lifetime 3600\n"
           "      #exit\n"
           "    #exit\n"
           "  #exit\n"
           "end\n",
           extra ? extra : "");
  return buf;
}

/* --- The mock network and ipsecmgr --- */

static void q_push(hx_pkt_t *q, size_t *n, const ike_path_t *path, bool natt,
                   const uint8_t *pkt, size_t len)
{
  assert_true(*n < HX_QMAX);
  assert_true(len <= sizeof q[0].data);
  hx_pkt_t *p = &q[(*n)++];
  p->path = *path;
  p->natt = natt;
  p->len = len;
  memcpy(p->data, pkt, len);
}

static void q_pop(hx_pkt_t *q, size_t *n, hx_pkt_t *out)
{
  *out = q[0];
  memmove(q, q + 1, (*n - 1) * sizeof *q);
  (*n)--;
}

/* The gateway sends: path.peer = client, path.local = gateway. */
static void gw_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                    size_t len)
{
  hx_t *hx = ctx;
  ike_path_t view = {.peer = path->local, .local = path->peer};
  if (hx->n_log < HX_LOG_MAX) {
    hx_pkt_t *l = &hx->log[hx->n_log++];
    l->path = view;
    l->natt = natt;
    l->len = len;
    memcpy(l->data, pkt, len);
  }
  if (!hx->drop_to_cl) {
    q_push(hx->to_cl, &hx->n_to_cl, &view, natt, pkt, len);
  }
}

static void gw_child_add(void *ctx, const ike_child_prog_t *c)
{
  hx_t *hx = ctx;
  assert_true(hx->n_add < 16);
  hx->add[hx->n_add++] = *c;
}

static void gw_child_update(void *ctx, uint32_t spi_in, uint32_t spi_out,
                            const ike_path_t *path, bool encap)
{
  hx_t *hx = ctx;
  assert_true(hx->n_upd < 32);
  hx->upd[hx->n_upd++] = (hx_upd_t){spi_in, spi_out, *path, encap};
}

static void gw_child_del(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
  hx_t *hx = ctx;
  assert_true(hx->n_del < 32);
  hx->del[hx->n_del++] = (hx_del_t){spi_in, spi_out};
}

/* The client sends: path.local = client, path.peer = gateway. */
static void cl_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                    size_t len)
{
  hx_t *hx = ctx;
  ike_path_t view = {.peer = path->local, .local = path->peer};
  if (!hx->drop_to_gw) {
    q_push(hx->to_gw, &hx->n_to_gw, &view, natt, pkt, len);
  }
}

void hx_addr4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  memset(ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  assert_int_equal(inet_pton(AF_INET, a, &in->sin_addr), 1);
}

void hx_addr6(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  memset(ss, 0, sizeof *ss);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  assert_int_equal(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
}

ike_path_t hx_path(const char *local, uint16_t port)
{
  ike_path_t p;
  if (strchr(local, ':') != NULL) {
    hx_addr6(&p.local, local, port);
    hx_addr6(&p.peer, "2001:db8::1", 4500);
  } else {
    hx_addr4(&p.local, local, port);
    hx_addr4(&p.peer, "192.0.2.1", 4500);
  }
  return p;
}

uint32_t hx_ip4(const char *a)
{
  struct in_addr in;
  assert_int_equal(inet_pton(AF_INET, a, &in), 1);
  return ntohl(in.s_addr);
}

bool hx_path_eq(const ike_path_t *a, const ike_path_t *b)
{
  return memcmp(&a->peer, &b->peer, sizeof(struct sockaddr_in6)) == 0 &&
         memcmp(&a->local, &b->local, sizeof(struct sockaddr_in6)) == 0;
}

void hx_init(hx_t *hx, const char *extra)
{
  char err[256];
  const char *text = hx_conf(extra);
  memset(hx, 0, sizeof *hx);
  assert_int_equal(ike_crypto_init(), 0);
  ike_config_init(&hx->cfg);
  int rc = ike_config_parse_buf("test.conf", text, strlen(text), &hx->cfg, err, sizeof err);
  if (rc != 0) {
    fail_msg("config: %s", err);
  }
  hx->to_gw = calloc(HX_QMAX, sizeof *hx->to_gw);
  hx->to_cl = calloc(HX_QMAX, sizeof *hx->to_cl);
  hx->log = calloc(HX_LOG_MAX, sizeof *hx->log);
  assert_non_null(hx->to_gw);
  assert_non_null(hx->to_cl);
  assert_non_null(hx->log);
  static const ike_engine_ops_t ops = {gw_send, gw_child_add, gw_child_update,
                                       gw_child_del};
  assert_int_equal(ike_engine_new(HX_SLOT, &hx->cfg, &ops, hx, &hx->gw), 0);
  hx->now = 100000;
  ike_client_cfg_t *c = &hx->ccfg;
  c->psk = HX_PSK;
  c->id_type = IKE_ID_FQDN;
  c->id = "client.example.net";
  c->ike = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
                         .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_ECP_256};
  c->esp = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256};
  c->mobike = true;
  hx_addr4(&c->path.local, "127.0.1.1", 500);
  hx_addr4(&c->path.peer, "192.0.2.1", 500);
  c->retrans_ms = 1000;
  c->max_retrans = 3;
}

void hx_fini(hx_t *hx)
{
  ike_client_free(hx->cl);
  ike_engine_free(hx->gw);
  free(hx->to_gw);
  free(hx->to_cl);
  free(hx->log);
  ike_crypto_cleanup();
}

void hx_client(hx_t *hx)
{
  static const ike_client_ops_t ops = {cl_send};
  ike_client_free(hx->cl);
  hx->cl = NULL;
  assert_int_equal(ike_client_new(&hx->ccfg, &ops, hx, &hx->cl), 0);
}

bool hx_step_gw(hx_t *hx)
{
  static hx_pkt_t p;
  if (hx->n_to_gw == 0) {
    return false;
  }
  q_pop(hx->to_gw, &hx->n_to_gw, &p);
  ike_engine_recv(hx->gw, &p.path, p.natt, p.data, p.len, hx->now);
  return true;
}

bool hx_step_cl(hx_t *hx)
{
  static hx_pkt_t p;
  if (hx->n_to_cl == 0) {
    return false;
  }
  q_pop(hx->to_cl, &hx->n_to_cl, &p);
  ike_client_recv(hx->cl, &p.path, p.natt, p.data, p.len, hx->now);
  return true;
}

void hx_run(hx_t *hx)
{
  for (int i = 0; i < 1000 && (hx->n_to_gw > 0 || hx->n_to_cl > 0); i++) {
    while (hx_step_gw(hx)) {
    }
    while (hx_step_cl(hx)) {
    }
  }
  assert_int_equal(hx->n_to_gw + hx->n_to_cl, 0);
}

void hx_flush(hx_t *hx)
{
  hx->n_to_gw = 0;
  hx->n_to_cl = 0;
}

void hx_establish(hx_t *hx)
{
  if (hx->cl == NULL) {
    hx_client(hx);
  }
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  hx_run(hx);
  if (hx_ci(hx)->state != IKE_CLIENT_ESTABLISHED) {
    hx_dump(hx);
  }
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_ESTABLISHED);
}

void hx_advance(hx_t *hx, uint64_t ms)
{
  hx->now += ms;
  ike_engine_tick(hx->gw, hx->now);
  if (hx->cl != NULL) {
    ike_client_tick(hx->cl, hx->now);
  }
}

void hx_inject_gw(hx_t *hx, const ike_path_t *client_path, bool natt,
                  const uint8_t *pkt, size_t len)
{
  ike_path_t view = {.peer = client_path->local, .local = client_path->peer};
  ike_engine_recv(hx->gw, &view, natt, pkt, len, hx->now);
}

const hx_pkt_t *hx_gw_sent(const hx_t *hx, int i)
{
  size_t k = i < 0 ? hx->n_log - (size_t)(-i) : (size_t)i;
  assert_true(k < hx->n_log);
  return &hx->log[k];
}

void hx_decode(const hx_t *hx, const hx_pkt_t *p, hx_msg_t *m)
{
  memset(m, 0, sizeof *m);
  int rc = ike_client_decode(hx->cl, p->data, p->len, &m->h, &m->chain, m->plain,
                             sizeof m->plain);
  assert_int_equal(rc, 0);
  for (unsigned i = 0; i < m->chain.n && m->n_notify < 32; i++) {
    ike_notify_pld_t n;
    if (m->chain.pld[i].type == IKE_PLD_NOTIFY &&
        ike_pld_notify(&m->chain.pld[i], &n) == 0) {
      m->notify[m->n_notify++] = n.type;
    }
  }
}

bool hx_has(const hx_msg_t *m, uint16_t type)
{
  for (unsigned i = 0; i < m->n_notify; i++) {
    if (m->notify[i] == type) {
      return true;
    }
  }
  return false;
}

const ike_stats_t *hx_st(const hx_t *hx)
{
  return ike_engine_stats(hx->gw);
}

const ike_client_info_t *hx_ci(const hx_t *hx)
{
  return ike_client_info(hx->cl);
}

void hx_dump(const hx_t *hx)
{
  const ike_stats_t *st = hx_st(hx);
  for (size_t i = 0; i < ike_stats_count(); i++) {
    if (ike_stats_get(st, i) != 0) {
      fprintf(stderr, "  gw %s = %llu\n", ike_stats_name(i),
              (unsigned long long)ike_stats_get(st, i));
    }
  }
  if (hx->cl != NULL) {
    const ike_client_info_t *ci = hx_ci(hx);
    fprintf(stderr, "  client %s error %u sent %llu rcvd %llu dropped %llu\n",
            ike_client_state_name(ci->state), ci->error, (unsigned long long)ci->sent,
            (unsigned long long)ci->rcvd, (unsigned long long)ci->dropped);
  }
}

void hx_init_conf(hx_t *hx, const char *conf)
{
  static const ike_engine_ops_t ops = {gw_send, gw_child_add, gw_child_update,
                                       gw_child_del};
  char err[256];
  hx_init(hx, NULL);
  ike_engine_free(hx->gw);
  hx->gw = NULL;
  ike_config_init(&hx->cfg);
  if (ike_config_parse_buf("test.conf", conf, strlen(conf), &hx->cfg, err, sizeof err) != 0) {
    fail_msg("config: %s", err);
  }
  assert_int_equal(ike_engine_new(HX_SLOT, &hx->cfg, &ops, hx, &hx->gw), 0);
}

ike_ts_t hx_ts4(const char *start, const char *end)
{
  ike_ts_t ts;
  memset(&ts, 0, sizeof ts);
  ts.type = IKE_TS_IPV4_ADDR_RANGE;
  ts.end_port = 0xFFFF;
  assert_int_equal(inet_pton(AF_INET, start, ts.start), 1);
  assert_int_equal(inet_pton(AF_INET, end, ts.end), 1);
  return ts;
}

size_t hx_capture_log(void (*fn)(void *arg), void *arg, char *out, size_t cap)
{
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  assert_true(saved >= 0);
  assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
  fn(arg);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  rewind(tmp);
  size_t n = fread(out, 1, cap - 1, tmp);
  out[n] = '\0';
  fclose(tmp);
  return n;
}

hx_t *hx_new(const char *extra)
{
  hx_t *hx = calloc(1, sizeof *hx);
  assert_non_null(hx);
  hx_init(hx, extra);
  return hx;
}

void hx_free(hx_t *hx)
{
  hx_fini(hx);
  free(hx);
}

int hx_state_setup(void **state)
{
  *state = calloc(1, sizeof(hx_t));
  return *state ? 0 : -1;
}

int hx_state_teardown(void **state)
{
  hx_t *hx = *state;
  if (hx->gw != NULL) {
    hx_fini(hx);
  }
  free(hx);
  return 0;
}
