/*
 * test_config.c - the StarOS-style config reader (common/ike_config.h).
 *
 * Good configs parse to the expected struct; a table of bad configs checks the
 * exact "file:line: reason" message and that the caller's struct is untouched;
 * the MOBIKE commands of the seed (SEED-mobike-asr5500.md "Configuring ...") in
 * every spelling; print -> parse round trips; run-time lines through
 * ike_config_apply_line / ike_config_apply_buf; the shipped deploy/ files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "ike_config.h"
#include "ike_wire.h"

/* Lines 1-4: a template with the minimum it needs; line 5 onwards are the test's. */
#define T4 "config\ncontext ipsec\ncrypto template t ikev2-dynamic\n" \
           "authentication local pre-shared-key key k\n"

static ike_config_t *new_cfg(void) {
  ike_config_t *c = calloc(1, sizeof(*c));
  assert_non_null(c);
  ike_config_init(c);
  return c;
}

static int parse(const char *text, ike_config_t *c, char *err, size_t errlen) {
  return ike_config_parse_buf("t.conf", text, strlen(text), c, err, errlen);
}

static ike_config_t *parse_ok(const char *text) {
  char err[256];
  ike_config_t *c = new_cfg();
  int rc = parse(text, c, err, sizeof(err));
  if (rc != 0) {
    print_error("unexpected error: %s\n", err);
  }
  assert_int_equal(rc, 0);
  return c;
}

static const char full_text[] =
    "# a comment line\n"
    "config\n"
    "  sessmgr workers 4\n"
    "  datapath xfrm\n"
    "  state-directory \"/var/lib/ike gw\"\n"
    "  logging level debug\n"
    "  ike udp-port 1500\n"
    "  ike nat-t-udp-port 14500\n"
    "  bulkstats file /tmp/bs.csv\n"
    "  bulkstats interval 60\n"
    "  context ipsec\n"
    "    bind address 192.0.2.1\n"
    "    bind address 2001:db8::1\n"
    "    ip pool p4 10.10.0.0/24\n"
    "    ip pool p6 fd00::/112\n"
    "    ikev2-ikesa transform-set ike1\n"
    "      encryption aes-cbc-256 aes-cbc-128\n"
    "      hmac sha2-256-128\n"
    "      prf sha2-256 sha1\n"
    "      group 19 14\n"
    "    #exit\n"
    "    ikev2-ikesa transform-set ike2\n"
    "      encryption chacha20-poly1305\n"
    "      prf sha2-512\n"
    "      group 31\n"
    "    #exit\n"
    "    ipsec transform-set esp1\n"
    "      encryption aes-gcm-128\n"
    "      group 19\n"
    "    #exit\n"
    "    crypto template tmpl1 ikev2-dynamic\n"
    "      ikev2-ikesa transform-set list ike2 ike1\n"
    "      ikev2-ikesa retransmission-timeout 3000   # a trailing comment\n"
    "      ikev2-ikesa max-retransmission 7\n"
    "      ikev2-ikesa lifetime 7200\n"
    "      ikev2-ikesa cookie-threshold 0\n"
    "      dpd interval 45\n"
    "      ikev2-ikesa mobike cookie-challenge\n"
    "      ikev2-ikesa mobike deny-address 203.0.113.0/24\n"
    "      identity local id-type fqdn id gw.example.net\n"
    "      identity remote id-type fqdn id *.example.net\n"
    "      authentication local pre-shared-key key \"a \\\"quoted\\\" key\"\n"
    "      authentication remote pre-shared-key key bobkey id-type fqdn id bob.example.net\n"
    "      authentication remote pre-shared-key key ipkey id-type ip-addr id 198.51.100.7\n"
    "      ip address pool name p4\n"
    "      ip address pool name p6\n"
    "      ip name-servers 192.0.2.53 2001:db8::53\n"
    "      payload ps1 match childsa match ipv4\n"
    "        ipsec transform-set list esp1\n"
    "        lifetime 1800\n"
    "        lifetime kilo-bytes 1000000\n"
    "        lifetime packets 5000\n"
    "        traffic-selector local 10.0.0.0/8\n"
    "      #exit\n"
    "    #exit\n"
    "  #exit\n"
    "end\n";

static void test_full(void **state) {
  (void)state;
  ike_config_t *c = parse_ok(full_text);
  assert_int_equal(c->sessmgr_workers, 4);
  assert_int_equal(c->datapath, IKE_CFG_DP_XFRM);
  assert_string_equal(c->state_dir, "/var/lib/ike gw");
  assert_int_equal(c->log_level, IKE_CFG_LOG_DEBUG);
  assert_int_equal(c->ike_port, 1500);
  assert_int_equal(c->natt_port, 14500);
  assert_string_equal(c->bulkstats_file, "/tmp/bs.csv");
  assert_int_equal(c->bulkstats_interval_s, 60);
  assert_int_equal(c->n_bind, 2);
  assert_string_equal(c->bind[1].addr, "2001:db8::1");
  assert_int_equal(c->bind[1].parsed.family, AF_INET6);
  assert_int_equal(c->n_contexts, 1);
  assert_int_equal(c->n_pools, 2);
  assert_int_equal(c->pools[1].prefix.plen, 112);
  assert_int_equal(c->n_tsets, 3);
  assert_int_equal(c->n_templates, 1);
  const ike_cfg_template_t *t = ike_config_find_template(c, "tmpl1");
  assert_non_null(t);
  assert_int_equal(t->n_ike_tsets, 2);
  assert_int_equal(t->ike_tset_default, 0);
  assert_string_equal(t->ike_tsets[0].name, "ike2");
  assert_int_equal(t->ike_tsets[0].encr[0].id, IKE_ENCR_CHACHA20_POLY1305);
  assert_int_equal(t->ike_tsets[0].aead, 1);
  assert_int_equal(t->ike_tsets[0].dh[0], IKE_DH_CURVE25519);
  assert_int_equal(t->ike_tsets[1].n_encr, 2);
  assert_int_equal(t->ike_tsets[1].encr[1].keylen, 128);
  assert_int_equal(t->ike_tsets[1].integ[0], IKE_INTEG_HMAC_SHA2_256_128);
  assert_int_equal(t->ike_tsets[1].prf[1], IKE_PRF_HMAC_SHA1);
  assert_int_equal(t->ike_tsets[1].dh[1], IKE_DH_MODP_2048);
  assert_int_equal(t->n_child_tsets, 1);
  assert_int_equal(t->child_tsets[0].encr[0].id, IKE_ENCR_AES_GCM_16);
  assert_int_equal(t->child_tsets[0].dh[0], IKE_DH_ECP_256);
  assert_int_equal(t->retrans_timeout_ms, 3000);
  assert_int_equal(t->max_retrans, 7);
  assert_int_equal(t->ike_lifetime_s, 7200);
  assert_int_equal(t->cookie_threshold, 0);
  assert_int_equal(t->dpd_interval_s, 45);
  assert_int_equal(t->mobike, 1);
  assert_int_equal(t->mobike_cookie_challenge, 1);
  assert_int_equal(t->n_mobike_deny, 1);
  assert_int_equal(t->local_id.type, IKE_ID_FQDN);
  assert_string_equal(t->local_id.value, "gw.example.net");
  assert_string_equal(t->local_psk, "a \"quoted\" key");
  assert_int_equal(t->n_psks, 2);
  assert_int_equal(t->psks[1].id.type, IKE_ID_IPV4_ADDR);
  assert_int_equal(c->pools[t->pool4].prefix.family, AF_INET);
  assert_int_equal(c->pools[t->pool6].prefix.family, AF_INET6);
  assert_int_equal(t->n_dns, 2);
  assert_string_equal(t->payload_name, "ps1");
  assert_int_equal(t->payload_match, 4);
  assert_int_equal(t->child_lifetime_s, 1800);
  assert_int_equal(t->child_lifetime_kb, 1000000);
  assert_int_equal(t->child_lifetime_packets, 5000);
  assert_int_equal(t->n_local_ts, 1);
  assert_int_equal(t->local_ts[0].plen, 8);
  free(c);
}

static void test_defaults(void **state) {
  (void)state;
  ike_config_t *c = parse_ok(T4);
  assert_int_equal(c->sessmgr_workers, 0);
  assert_int_equal(c->datapath, IKE_CFG_DP_USERSPACE);
  assert_int_equal(c->ike_port, 500);
  assert_int_equal(c->natt_port, 4500);
  const ike_cfg_template_t *t = &c->templates[0];
  assert_int_equal(t->retrans_timeout_ms, 2000);
  assert_int_equal(t->max_retrans, 5);
  assert_int_equal(t->dpd_interval_s, 30);
  assert_int_equal(t->mobike, 0); /* the seed: "By default, mobike is disabled." */
  assert_int_equal(t->mobike_cookie_challenge, 0);
  assert_int_equal(t->ike_tset_default, 1);
  assert_int_equal(t->n_ike_tsets, 2);
  assert_int_equal(t->ike_tsets[0].aead, 1);
  assert_int_equal(t->ike_tsets[1].aead, 0);
  assert_true(t->ike_tsets[1].n_integ > 0);
  assert_int_equal(t->child_tset_default, 1);
  assert_int_equal(t->pool4, IKE_CFG_NONE);
  assert_int_equal(t->pool6, IKE_CFG_NONE);
  /* An empty file is a valid (empty) configuration. */
  char err[128];
  assert_int_equal(ike_config_parse_buf("e", "", 0, c, err, sizeof(err)), 0);
  assert_int_equal(c->n_templates, 0);
  free(c);
}

typedef struct bad {
  const char *text;
  const char *err;
} bad_t;

static const bad_t bad_rows[] = {
    {"sessmgr workers 2\n", "t.conf:1: 'sessmgr' before 'config'"},
    {"#exit\n", "t.conf:1: '#exit' outside any block"},
    {"config\n  sessmgr workers 300\nend\n", "t.conf:2: sessmgr workers: '300' not in 0..256"},
    {"config\n  sessmgr workers\n", "t.conf:2: usage: sessmgr workers <0-256> (0 = one per core)"},
    {"config\n datapath dpdk\n", "t.conf:2: datapath: 'dpdk' is not userspace or xfrm"},
    {"config\n  frobnicate now\n", "t.conf:2: unknown command 'frobnicate'"},
    {"config\n logging level loud\n",
     "t.conf:2: logging level: 'loud' is not error, warning, info or debug"},
    {"config\n ike udp-port 0\n", "t.conf:2: ike udp-port: '0' not in 1..65535"},
    {"config\n ike udp-port 4500\nend\n",
     "t.conf:3: ike udp-port and nat-t-udp-port must differ (both 4500)"},
    {"config\n context ipsec\n  bind address 300.1.1.1\n",
     "t.conf:3: bind address: '300.1.1.1' is not an IPv4 or IPv6 address"},
    {"config\n context ipsec\n  ip pool p1 10.10.0.0/33\n",
     "t.conf:3: ip pool: '10.10.0.0/33' is not a prefix like 10.10.0.0/24 or 2001:db8::/64"},
    {"config\n context ipsec\n  crypto template t ikev1\n",
     "t.conf:3: crypto template type 'ikev1' not supported (only ikev2-dynamic)"},
    {"config\n context bad/name\n",
     "t.conf:2: context name 'bad/name': only letters, digits, '-', '_' and '.' allowed"},
    {T4 "ikev2-ikesa mobike cookie\n", "t.conf:5: usage: ikev2-ikesa mobike [cookie-challenge]"},
    {T4 "ikev2-ikesa retransmission-timeout 50\n",
     "t.conf:5: ikev2-ikesa retransmission-timeout: '50' not in 100..60000"},
    {T4 "ikev2-ikesa max-retransmission five\n",
     "t.conf:5: ikev2-ikesa max-retransmission: 'five' is not a number"},
    {T4 "ikev2-ikesa max-retransmission 99999999999999999999999\n",
     "t.conf:5: ikev2-ikesa max-retransmission: '99999999999999999999999' not in 0..20"},
    {T4 "ikev2-ikesa frobnicate 1\n", "t.conf:5: unknown ikev2-ikesa option 'frobnicate'"},
    {T4 "dpd interval\n", "t.conf:5: usage: dpd interval <0-86400> (seconds, 0 = off)"},
    {T4 "ikev2-ikesa transform-set list nope\n",
     "t.conf:5: transform-set list: no ikev2-ikesa transform-set 'nope' in context 'ipsec'"},
    {T4 "ip address pool name nope\n",
     "t.conf:5: ip address pool: no ip pool 'nope' in context 'ipsec'"},
    {T4 "authentication local pre-shared-key key \"abc\n", "t.conf:5: unterminated quoted string"},
    {T4 "authentication local pre-shared-key key \"a\\nb\"\n",
     "t.conf:5: bad escape in quoted string (only \\\" and \\\\)"},
    {T4 "identity local id-type foo id x\n", "t.conf:5: id-type: unknown type 'foo'"},
    {T4 "identity local id-type ip-addr id gw.example.net\n",
     "t.conf:5: id: 'gw.example.net' is not an IP address"},
    {T4 "payload p match ikesa\n",
     "t.conf:5: usage: payload <name> match childsa [match ipv4|ipv6|any]"},
    {T4 "ikesa lifetime 5\n", "t.conf:5: usage: ikesa mobike [cookie-challenge]"},
    {T4 "ikev2-ikesa mobike deny-address foo\n",
     "t.conf:5: deny-address: 'foo' is not an address or prefix"},
    {T4 "payload p match childsa\nlifetime 10\n",
     "t.conf:6: lifetime: '10' not in 60..604800"},
    {"config\ncontext ipsec\ncrypto template t ikev2-dynamic\n#exit\n",
     "t.conf:3: crypto template 't': authentication local pre-shared-key needs a key"},
    {T4 "authentication local certificate\nend\n",
     "t.conf:3: crypto template 't': authentication local certificate needs "
     "'certificate file' and 'private-key file'"},
    {T4 "authentication remote certificate\n",
     "t.conf:3: crypto template 't': authentication remote certificate needs "
     "'ca-certificate file'"},
    {"config\ncontext ipsec\nikev2-ikesa transform-set x\nencryption aes-gcm-256 aes-cbc-256\n",
     "t.conf:4: encryption: 'aes-cbc-256' mixes AEAD and non-AEAD ciphers in one transform "
     "set; use two sets"},
    {"config\ncontext ipsec\nikev2-ikesa transform-set x\nencryption aes-cbc-256\n#exit\n",
     "t.conf:5: ikev2-ikesa transform-set 'x': no hmac (needed by aes-cbc-256)"},
    {"config\ncontext ipsec\nipsec transform-set x\nencryption des\n",
     "t.conf:4: encryption: unknown algorithm 'des'"},
    {"config\ncontext ipsec\nipsec transform-set x\nencryption aes-gcm-128\nhmac sha1-96\nend\n",
     "t.conf:6: ipsec transform-set 'x': hmac not allowed with aes-gcm-128"},
    {"config\ncontext ipsec\nikev2-ikesa transform-set x\ngroup 19 19\n",
     "t.conf:4: group: '19' listed twice"},
    {"config\ncontext ipsec\nikev2-ikesa transform-set x\ngroup none\n",
     "t.conf:4: group: unknown algorithm 'none'"},
    {T4 "#exit\n#exit\ncontext other\ncrypto template t ikev2-dynamic\n",
     "t.conf:8: crypto template 't' already exists in context 'ipsec'"},
    {"config\n\x01\n", "t.conf:2: control character 0x01 in line"},
    {"config\n  datapath \"xfrm\"x\n", "t.conf:2: text after closing quote"},
    {"config\nend\nend\n", "t.conf:3: 'end' outside any block"},
    {"config\n  default datapath\n", "t.conf:2: unknown command 'default datapath'"},
    {T4 "no frobnicate\n", "t.conf:5: unknown command 'no frobnicate'"},
};

static void test_bad_lines(void **state) {
  (void)state;
  ike_config_t *c = new_cfg(), *orig = new_cfg();
  assert_true(sizeof(bad_rows) / sizeof(bad_rows[0]) >= 20);
  for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
    char err[512];
    memset(err, 'X', sizeof(err));
    int rc = parse(bad_rows[i].text, c, err, sizeof(err));
    if (rc == 0 || strcmp(err, bad_rows[i].err) != 0) {
      print_error("row %zu: rc %d\n got: %s\nwant: %s\n", i, rc, err, bad_rows[i].err);
    }
    assert_int_equal(rc, -1);
    assert_string_equal(err, bad_rows[i].err);
    /* The partial config is discarded: the caller's struct is untouched. */
    assert_true(ike_config_equal(c, orig));
  }
  free(c);
  free(orig);
}

static void test_bad_bounds(void **state) {
  (void)state;
  char err[256];
  ike_config_t *c = new_cfg();
  /* A line over IKE_CFG_LINE_MAX. */
  size_t n = IKE_CFG_LINE_MAX + 20;
  char *b = malloc(n + 16);
  assert_non_null(b);
  memcpy(b, "config\n", 7);
  memset(b + 7, 'a', n);
  assert_int_equal(ike_config_parse_buf("t.conf", b, n + 7, c, err, sizeof(err)), -1);
  assert_string_equal(err, "t.conf:2: line longer than 1024 bytes");
  /* A NUL byte. */
  assert_int_equal(ike_config_parse_buf("t.conf", "config\nda\0tapath xfrm\n", 22, c, err,
                                        sizeof(err)), -1);
  assert_string_equal(err, "t.conf:2: NUL byte in line");
  free(b);
  /* Too many lines. */
  size_t lines = IKE_CFG_LINES_MAX + 1;
  b = malloc(lines);
  assert_non_null(b);
  memset(b, '\n', lines);
  assert_int_equal(ike_config_parse_buf("t.conf", b, lines, c, err, sizeof(err)), -1);
  assert_string_equal(err, "t.conf:100000: more than 100000 lines");
  free(b);
  /* A missing file. */
  assert_int_equal(ike_config_load("/nonexistent/x.conf", c, err, sizeof(err)), -1);
  assert_string_equal(err, "/nonexistent/x.conf:0: cannot open: No such file or directory");
  /* A tiny error buffer is still NUL-terminated. */
  char tiny[8];
  assert_int_equal(parse("config\n datapath dpdk\n", c, tiny, sizeof(tiny)), -1);
  assert_string_equal(tiny, "t.conf:");
  free(c);
}

static void test_mobike(void **state) {
  (void)state;
  static const struct { const char *lines; int on, cc; } rows[] = {
      {"", 0, 0},
      {"ikev2-ikesa mobike\n", 1, 0},
      {"ikev2-ikesa mobike cookie-challenge\n", 1, 1},
      {"ikesa mobike\n", 1, 0},                    /* the seed's prose spelling */
      {"ikesa mobike cookie-challenge\n", 1, 1},
      {"ikev2-ikesa mobike cookie-challenge\nno ikev2-ikesa mobike\n", 0, 0},
      {"ikev2-ikesa mobike cookie-challenge\ndefault ikev2-ikesa mobike\n", 0, 0},
      {"ikesa mobike\nno ikesa mobike\n", 0, 0},
      {"ikev2-ikesa mobike cookie-challenge\nikev2-ikesa mobike\n", 1, 0},
      {"ikev2-ikesa mobike\nikev2-ikesa mobike cookie-challenge\n", 1, 1},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    char text[512];
    snprintf(text, sizeof(text), T4 "%s", rows[i].lines);
    ike_config_t *c = parse_ok(text);
    assert_int_equal(c->templates[0].mobike, rows[i].on);
    assert_int_equal(c->templates[0].mobike_cookie_challenge, rows[i].cc);
    free(c);
  }
  /* Deny list: add, duplicate is a no-op, remove, lookup. */
  ike_config_t *c = parse_ok(T4 "ikev2-ikesa mobike deny-address 203.0.113.0/24\n"
                                "ikev2-ikesa mobike deny-address 203.0.113.0/24\n"
                                "ikev2-ikesa mobike deny-address 2001:db8:bad::/48\n"
                                "ikev2-ikesa mobike deny-address 198.51.100.9\n"
                                "no ikev2-ikesa mobike deny-address 198.51.100.9\n");
  const ike_cfg_template_t *t = &c->templates[0];
  uint8_t a4[4], a6[16];
  assert_int_equal(t->n_mobike_deny, 2);
  assert_int_equal(t->mobike, 0); /* the deny list alone does not enable MOBIKE */
  inet_pton(AF_INET, "203.0.113.77", a4);
  assert_true(ike_config_mobike_denied(t, AF_INET, a4));
  inet_pton(AF_INET, "203.0.114.1", a4);
  assert_false(ike_config_mobike_denied(t, AF_INET, a4));
  inet_pton(AF_INET, "198.51.100.9", a4);
  assert_false(ike_config_mobike_denied(t, AF_INET, a4));
  inet_pton(AF_INET6, "2001:db8:bad:1::5", a6);
  assert_true(ike_config_mobike_denied(t, AF_INET6, a6));
  inet_pton(AF_INET6, "2001:db8:bae::5", a6);
  assert_false(ike_config_mobike_denied(t, AF_INET6, a6));
  free(c);
}

static void test_roundtrip(void **state) {
  (void)state;
  static char b1[65536], b2[65536];
  const char *texts[] = {full_text, T4, T4 "ikesa mobike\nauthentication local certificate\n"
                                          "certificate file /a\nprivate-key file /b\n"};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    char err[256];
    ike_config_t *c = parse_ok(texts[i]), *d = new_cfg();
    int n = ike_config_print_buf(c, b1, sizeof(b1));
    assert_true(n > 0 && (size_t)n < sizeof(b1));
    assert_int_equal(ike_config_parse_buf("print", b1, (size_t)n, d, err, sizeof(err)), 0);
    assert_true(ike_config_equal(c, d));
    assert_int_equal(ike_config_print_buf(d, b2, sizeof(b2)), n);
    assert_string_equal(b1, b2);
    free(c);
    free(d);
  }
  /* print_buf reports the length it needs when the buffer is short. */
  ike_config_t *c = parse_ok(full_text);
  char small[32];
  int need = ike_config_print_buf(c, small, sizeof(small));
  assert_true(need > (int)sizeof(small));
  assert_int_equal(strlen(small), sizeof(small) - 1);
  assert_non_null(strstr(b1, "ikev2-ikesa mobike"));
  free(c);
}

static void test_apply_line(void **state) {
  (void)state;
  char err[256];
  ike_config_t *c = parse_ok(T4 "ikev2-ikesa mobike\n");
  ike_cfg_cursor_t cur;
  ike_cfg_cursor_init(&cur, "gwctl");
  assert_int_equal(ike_config_apply_line(c, &cur, "context ipsec", err, sizeof(err)), 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "crypto template t ikev2-dynamic", err,
                                         sizeof(err)), 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "ikev2-ikesa mobike cookie-challenge", err,
                                         sizeof(err)), 0);
  assert_int_equal(c->templates[0].mobike_cookie_challenge, 1);
  /* A bad run-time line: exact message, nothing changes. */
  ike_config_t *before = new_cfg();
  memcpy(before, c, sizeof(*c));
  assert_int_equal(ike_config_apply_line(c, &cur, "ikev2-ikesa max-retransmission 21", err,
                                         sizeof(err)), -1);
  assert_string_equal(err, "gwctl:4: ikev2-ikesa max-retransmission: '21' not in 0..20");
  assert_true(ike_config_equal(c, before));
  assert_int_equal(ike_config_apply_line(c, &cur, "no ikev2-ikesa mobike", err, sizeof(err)), 0);
  assert_int_equal(c->templates[0].mobike, 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "default ikev2-ikesa retransmission-timeout",
                                         err, sizeof(err)), 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "#exit", err, sizeof(err)), 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "end", err, sizeof(err)), 0);
  /* A new template without credentials is refused when its block is left. */
  ike_cfg_cursor_init(&cur, "gwctl");
  assert_int_equal(ike_config_apply_line(c, &cur, "context ipsec", err, sizeof(err)), 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "crypto template t2 ikev2-dynamic", err,
                                         sizeof(err)), 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "#exit", err, sizeof(err)), -1);
  assert_string_equal(err, "gwctl:2: crypto template 't2': authentication local "
                           "pre-shared-key needs a key");
  free(before);
  /* apply_buf is all or nothing. */
  memcpy(before = new_cfg(), c, sizeof(*c));
  const char *frag = "context ipsec\ncrypto template t ikev2-dynamic\nikesa mobike\n"
                     "dpd interval nope\n";
  assert_int_equal(ike_config_apply_buf(c, "gwctl", frag, strlen(frag), err, sizeof(err)), -1);
  assert_string_equal(err, "gwctl:4: dpd interval: 'nope' is not a number");
  assert_true(ike_config_equal(c, before));
  frag = "context ipsec\ncrypto template t ikev2-dynamic\nikesa mobike cookie-challenge\n"
         "dpd interval 90\n";
  assert_int_equal(ike_config_apply_buf(c, "gwctl", frag, strlen(frag), err, sizeof(err)), 0);
  assert_int_equal(c->templates[0].mobike_cookie_challenge, 1);
  assert_int_equal(c->templates[0].dpd_interval_s, 90);
  free(before);
  free(c);
}

/* Issue 12 item 9: gwctl configure takes the seed's block as printed, with
 * its leading "config" line and closing "end" (the lines start in config
 * mode); after "end", "config" enters again. */
static void test_apply_leading_config(void **state) {
  (void)state;
  char err[256];
  ike_config_t *c = parse_ok(T4);
  const char *frag = "config\n"
                     "  context ipsec\n"
                     "    crypto template t ikev2-dynamic\n"
                     "      ikev2-ikesa mobike cookie-challenge\n"
                     "    end\n";
  assert_int_equal(ike_config_apply_buf(c, "gwctl", frag, strlen(frag), err, sizeof(err)), 0);
  assert_int_equal(c->templates[0].mobike, 1);
  assert_int_equal(c->templates[0].mobike_cookie_challenge, 1);
  ike_cfg_cursor_t cur;
  ike_cfg_cursor_init(&cur, "gwctl");
  static const char *const lines[] = {"config", "context ipsec",
                                      "crypto template t ikev2-dynamic",
                                      "no ikev2-ikesa mobike", "end", "config",
                                      "context ipsec", "end"};
  for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
    if (ike_config_apply_line(c, &cur, lines[i], err, sizeof(err)) != 0) {
      fail_msg("line %zu '%s': %s", i, lines[i], err);
    }
  }
  assert_int_equal(c->templates[0].mobike, 0);
  /* "config" with arguments, or inside a block, is still an error. */
  ike_cfg_cursor_init(&cur, "gwctl");
  assert_int_equal(ike_config_apply_line(c, &cur, "config x", err, sizeof(err)), -1);
  assert_int_equal(ike_config_apply_line(c, &cur, "context ipsec", err, sizeof(err)), 0);
  assert_int_equal(ike_config_apply_line(c, &cur, "config", err, sizeof(err)), -1);
  free(c);
}

/* Issue 12 item 9: a template of only the seed's lines plus authentication
 * is complete; everything else has a default (transform sets, timers, DPD,
 * CHILD SA lifetime, selectors). */
static const char seed_only[] =
    "config\n"
    "  context ctx1\n"
    "    crypto template tmpl1 ikev2-dynamic\n"
    "      ikev2-ikesa mobike cookie-challenge\n"
    "      authentication local pre-shared-key key \"s3cret-psk\"\n"
    "    end\n";

static void test_seed_template_only(void **state) {
  (void)state;
  ike_config_t *c = parse_ok(seed_only);
  assert_int_equal(c->n_templates, 1);
  const ike_cfg_template_t *t = &c->templates[0];
  assert_string_equal(t->name, "tmpl1");
  assert_int_equal(t->mobike, 1);
  assert_int_equal(t->mobike_cookie_challenge, 1);
  assert_int_equal(t->ike_tset_default, 1);
  assert_true(t->n_ike_tsets > 0);
  assert_int_equal(t->child_tset_default, 1);
  assert_true(t->n_child_tsets > 0);
  assert_int_equal(t->retrans_timeout_ms, 2000);
  assert_int_equal(t->max_retrans, 5);
  assert_int_equal(t->dpd_interval_s, 30);
  assert_true(t->child_lifetime_s >= 60);
  /* The built-in IKE sets accept MODP-3072/4096/8192 (clients propose them alone). */
  int seen = 0;
  for (unsigned k = 0; k < t->n_ike_tsets; k++) {
    for (unsigned i = 0; i < t->ike_tsets[k].n_dh; i++) {
      uint16_t g = t->ike_tsets[k].dh[i];
      seen |= (g == IKE_DH_MODP_3072) | (g == IKE_DH_MODP_4096) << 1 |
              (g == IKE_DH_MODP_8192) << 2;
    }
  }
  assert_int_equal(seen, 7);
  /* Printed back it parses to the same config. */
  char buf[8192];
  assert_true(ike_config_print_buf(c, buf, sizeof(buf)) > 0);
  ike_config_t *c2 = parse_ok(buf);
  assert_true(ike_config_equal(c, c2));
  free(c2);
  free(c);
}

/* Issue 12 item 9: MOBIKE with timers below the seed's advice (our defaults)
 * gives one warning line naming the templates; otherwise none. */
static void test_mobike_timer_advice(void **state) {
  (void)state;
  char buf[1024];
  ike_config_t *c = parse_ok(T4 "ikev2-ikesa mobike\n");
  assert_int_equal(ike_config_mobike_advice(c, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "");
  free(c);
  c = parse_ok(T4 "ikev2-ikesa mobike\nikev2-ikesa retransmission-timeout 500\n#exit\n"
               "crypto template u ikev2-dynamic\nauthentication local pre-shared-key key k\n"
               "ikev2-ikesa mobike\ndpd interval 10\n#exit\n"
               "crypto template v ikev2-dynamic\nauthentication local pre-shared-key key k\n"
               "ikev2-ikesa max-retransmission 1\n#exit\n"
               "crypto template w ikev2-dynamic\nauthentication local pre-shared-key key k\n"
               "ikev2-ikesa mobike\nno dpd\nikev2-ikesa retransmission-timeout 4000\n");
  assert_int_equal(ike_config_mobike_advice(c, buf, sizeof(buf)), 2);
  assert_null(strchr(buf, '\n')); /* one line */
  assert_non_null(strstr(buf, "t (retransmission-timeout 500 ms"));
  assert_non_null(strstr(buf, "; u (retransmission-timeout 2000 ms, max-retransmission 5, "
                              "dpd interval 10 s)"));
  assert_null(strstr(buf, " v ("));  /* no MOBIKE: no advice */
  assert_null(strstr(buf, " w ("));  /* DPD off and larger timers: fine */
  /* Truncated, still terminated. */
  assert_int_equal(ike_config_mobike_advice(c, buf, 16), 2);
  assert_true(strlen(buf) < 16);
  free(c);
}

static void test_lookups(void **state) {
  (void)state;
  ike_config_t *c = parse_ok(full_text);
  const ike_cfg_template_t *t = &c->templates[0];
  const uint8_t ip[4] = {198, 51, 100, 7};
  assert_string_equal(ike_config_remote_psk(t, IKE_ID_FQDN, (const uint8_t *)"bob.example.net",
                                            15), "bobkey");
  assert_string_equal(ike_config_remote_psk(t, IKE_ID_IPV4_ADDR, ip, 4), "ipkey");
  /* No per-ID entry and no default entry: the local key serves both ways. */
  assert_string_equal(ike_config_remote_psk(t, IKE_ID_FQDN, (const uint8_t *)"eve", 3),
                      "a \"quoted\" key");
  assert_string_equal(ike_config_local_psk(t, IKE_ID_FQDN, (const uint8_t *)"bob.example.net",
                                           15), "a \"quoted\" key");
  assert_true(ike_config_remote_id_ok(t, IKE_ID_FQDN, (const uint8_t *)"a.example.net", 13));
  assert_false(ike_config_remote_id_ok(t, IKE_ID_FQDN, (const uint8_t *)"a.example.org", 13));
  assert_false(ike_config_remote_id_ok(t, IKE_ID_RFC822_ADDR, (const uint8_t *)"a.example.net",
                                       13));
  assert_non_null(ike_config_template_pool(c, t, AF_INET));
  assert_null(ike_config_find_template(c, "nope"));
  free(c);
}

static void test_deploy_files(void **state) {
  (void)state;
  const char *src = getenv("IKEGW_SRC");
  const char *files[] = {"deploy/ikegw.conf", "deploy/examples/psk.conf",
                         "deploy/examples/cert.conf"};
  assert_non_null(src);
  for (size_t i = 0; i < 3; i++) {
    char path[1024], err[512];
    ike_config_t *c = new_cfg();
    snprintf(path, sizeof(path), "%s/%s", src, files[i]);
    int rc = ike_config_load(path, c, err, sizeof(err));
    if (rc != 0) {
      print_error("%s\n", err);
    }
    assert_int_equal(rc, 0);
    assert_true(c->n_templates >= 1);
    assert_true(c->n_bind >= 1);
    const ike_cfg_template_t *t = &c->templates[0];
    assert_int_equal(t->mobike, 1);
    assert_non_null(ike_config_template_pool(c, t, AF_INET));
    if (i == 0) {
      assert_string_equal(t->local_psk, "ikegw-default-psk-change-me");
      assert_string_equal(c->bind[0].addr, "0.0.0.0");
      assert_int_equal(c->sessmgr_workers, 0);
      char pb[64];
      assert_string_equal(ike_cfg_prefix_str(&ike_config_template_pool(c, t, AF_INET)->prefix,
                                             pb, sizeof(pb)), "10.10.0.0/24");
    }
    if (i == 2) {
      assert_int_equal(t->auth_local, IKE_CFG_AUTH_CERT);
      assert_int_equal(t->auth_remote, IKE_CFG_AUTH_CERT);
    }
    free(c);
  }
}

/* "crl file PATH" (issue 12 item 8): parsed into the template, printed back in
 * the running configuration, cleared with "no crl file". */
static void test_crl_line(void **state) {
  (void)state;
  static char b1[65536];
  char err[256];
  ike_config_t *c = parse_ok(T4 "authentication remote certificate\n"
                                "ca-certificate file /etc/ikegw/ca.crt\n"
                                "crl file /etc/ikegw/ca.crl\n");
  const ike_cfg_template_t *t = ike_config_find_template(c, "t");
  assert_non_null(t);
  assert_string_equal(t->crl_file, "/etc/ikegw/ca.crl");
  int n = ike_config_print_buf(c, b1, sizeof(b1));
  assert_true(n > 0 && (size_t)n < sizeof(b1));
  assert_non_null(strstr(b1, "crl file /etc/ikegw/ca.crl\n"));
  ike_config_t *d = new_cfg();
  assert_int_equal(ike_config_parse_buf("print", b1, (size_t)n, d, err, sizeof(err)), 0);
  assert_true(ike_config_equal(c, d));
  free(d);
  free(c);
  c = parse_ok(T4 "crl file /x.crl\nno crl file\n");
  assert_string_equal(ike_config_find_template(c, "t")->crl_file, "");
  free(c);
  c = new_cfg();
  assert_int_equal(parse(T4 "crl /x.crl\n", c, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "usage: crl file <path>"));
  free(c);
}

/* Pasting "show configuration" output back must not make the redaction
 * placeholder a pre-shared key everyone knows (issue 12 item 7). */
static void test_redacted_psk_refused(void **state) {
  (void)state;
  char err[256];
  ike_config_t *c = new_cfg();
  assert_int_equal(parse("config\ncontext ipsec\ncrypto template t ikev2-dynamic\n"
                         "authentication local pre-shared-key key " IKE_CFG_REDACTED "\n",
                         c, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "t.conf:4: "));
  assert_non_null(strstr(err, "redacted"));
  assert_int_equal(parse(T4 "authentication remote pre-shared-key key <redacted> "
                            "id-type fqdn id a.example\n", c, err, sizeof(err)), -1);
  free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full),        cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_bad_lines),   cmocka_unit_test(test_bad_bounds),
      cmocka_unit_test(test_mobike),      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_apply_line),  cmocka_unit_test(test_lookups),
      cmocka_unit_test(test_deploy_files),
      cmocka_unit_test(test_apply_leading_config),
      cmocka_unit_test(test_seed_template_only),
      cmocka_unit_test(test_mobike_timer_advice),
      cmocka_unit_test(test_crl_line),
      cmocka_unit_test(test_redacted_psk_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
