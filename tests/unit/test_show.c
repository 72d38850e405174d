/*
 * test_show.c - show command rendering (common/ike_show.h) against the seed
 * (SEED-mobike-asr5500.md, "show crypto statistics ikev2", "show crypto template",
 * "show crypto ikev2-ikesa security-associations", bulk statistics), and every
 * JSON output checked by a minimal RFC 8259 validator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ike_config.h"
#include "ike_show.h"
#include "ike_stats.h"
#include "ike_wire.h"

/* The seed's example output, copied byte for byte (its odd spacing included). */
static const char seed_blocks[] =
    "Total IKEv2 Notify Message Receive Statistics:\n"
    "  MOBIKE Supported:          2   Additional IPv4 Address:    0\n"
    "  Additional IPv6 Address:   0   No Additional Address:      0\n"
    "  Update SA Addresses:      2   COOKIE2:                    0\n"
    "  No NAT Allowed:           0\n"
    "\n"
    "Total IKEv2 MOBIKE Statistics:\n"
    "  MOBIKE Notify Sent:       2   MOBIKE Notify Rcvd:        2\n"
    "  MOBIKE Ignored:           0   MOBIKE Unexpected NAT Sent: 0\n"
    "  MOBIKE Unacceptable Address Sent: 0 MOBIKE Cookie2 Rcvd:      0\n"
    "  MOBIKE Cookie2 Sent:      0   MOBIKE COOKIE2 Mismatch:  0\n";

static char out[1 << 16];

/* ---- a minimal JSON validator (RFC 8259 grammar, no number exponents needed) -- */

static const char *js_value(const char *s, int depth);

static const char *js_ws(const char *s) {
  while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
    s++;
  }
  return s;
}

static const char *js_string(const char *s) {
  if (*s++ != '"') {
    return NULL;
  }
  while (*s != '"') {
    if ((unsigned char)*s < 0x20) {
      return NULL; /* raw control characters are not allowed */
    }
    if (*s == '\\') {
      s++;
      if (*s == 'u') {
        for (int i = 1; i <= 4; i++) {
          if (strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == '\0') {
            return NULL;
          }
        }
        s += 4;
      } else if (strchr("\"\\/bfnrt", *s) == NULL || *s == '\0') {
        return NULL;
      }
    }
    s++;
  }
  return s + 1;
}

static const char *js_seq(const char *s, int depth, char close, int obj) {
  s = js_ws(s + 1);
  if (*s == close) {
    return s + 1;
  }
  for (;;) {
    if (obj) {
      s = js_string(js_ws(s));
      if (s == NULL || *(s = js_ws(s)) != ':') {
        return NULL;
      }
      s++;
    }
    s = js_value(s, depth + 1);
    if (s == NULL) {
      return NULL;
    }
    s = js_ws(s);
    if (*s == close) {
      return s + 1;
    }
    if (*s != ',') {
      return NULL;
    }
    s++;
  }
}

static const char *js_value(const char *s, int depth) {
  s = js_ws(s);
  if (depth > 32) {
    return NULL;
  }
  if (*s == '{') {
    return js_seq(s, depth, '}', 1);
  }
  if (*s == '[') {
    return js_seq(s, depth, ']', 0);
  }
  if (*s == '"') {
    return js_string(s);
  }
  if (strncmp(s, "true", 4) == 0 || strncmp(s, "null", 4) == 0) {
    return s + 4;
  }
  if (strncmp(s, "false", 5) == 0) {
    return s + 5;
  }
  const char *d = s;
  if (*d == '-') {
    d++;
  }
  if (*d < '0' || *d > '9') {
    return NULL;
  }
  while (*d >= '0' && *d <= '9') {
    d++;
  }
  return d;
}

static int json_ok(const char *s) {
  const char *e = js_value(s, 0);
  return e != NULL && *js_ws(e) == '\0';
}

static void test_json_validator(void **state) {
  (void)state;
  /* The validator itself must reject what it should, or the checks below prove nothing. */
  assert_true(json_ok("{\"a\":[1,2,{\"b\":\"x\\\"y\"}],\"c\":true}"));
  assert_false(json_ok("{\"a\":1,}"));
  assert_false(json_ok("{\"a\" 1}"));
  assert_false(json_ok("[\"a\nb\"]"));
  assert_false(json_ok("[1] x"));
  assert_false(json_ok("{\"a\":\"\\q\"}"));
}

static void seed_stats(ike_stats_t *st) {
  ike_stats_reset(st);
  st->notify_rcvd_MOBIKE_SUPPORTED = 2;
  st->notify_rcvd_UPDATE_SA_ADDRESSES = 2;
  st->notify_sent_MOBIKE_SUPPORTED = 2;
  st->mobike_notify_rcvd = 2;
}

static void test_seed_blocks(void **state) {
  (void)state;
  ike_stats_t st;
  ike_out_t o;
  seed_stats(&st);
  ike_out_buf(&o, out, sizeof(out));
  ike_show_stats_seed_blocks(&o, &st);
  assert_true(ike_out_ok(&o));
  assert_string_equal(out, seed_blocks);
  /* The full command contains the blocks verbatim, framed by blank lines. */
  ike_out_buf(&o, out, sizeof(out));
  ike_show_stats_ikev2(&o, &st);
  assert_true(ike_out_ok(&o));
  const char *p = strstr(out, seed_blocks);
  assert_non_null(p);
  assert_true(p > out && p[-1] == '\n' && p[-2] == '\n');
  assert_non_null(strstr(out, "Total IKEv2 Exchange Statistics:\n"));
  assert_non_null(strstr(out, "Total IKEv2 Failure Statistics:\n"));
}

static void test_seed_blocks_wide(void **state) {
  (void)state;
  ike_stats_t st;
  ike_out_t o;
  seed_stats(&st);
  st.notify_sent_MOBIKE_SUPPORTED = 12345;
  st.notify_sent_UNACCEPTABLE_ADDRESSES = 70;
  st.mobike_cookie2_mismatch = 18446744073709551615ull;
  ike_out_buf(&o, out, sizeof(out));
  ike_show_stats_seed_blocks(&o, &st);
  /* Wider numbers push the rest of their line right; labels and gaps stay. */
  assert_non_null(strstr(out, "\n  MOBIKE Notify Sent:       12345   MOBIKE Notify Rcvd:        2\n"));
  assert_non_null(strstr(out, "\n  MOBIKE Unacceptable Address Sent: 70 MOBIKE Cookie2 Rcvd:      0\n"));
  assert_non_null(strstr(out, "MOBIKE COOKIE2 Mismatch:  18446744073709551615\n"));
}

static const char tmpl_text[] =
    "config\ncontext ipsec\nip pool p1 10.10.0.0/24\n"
    "crypto template t1 ikev2-dynamic\n"
    "authentication local pre-shared-key key \"k\"\n"
    "ikev2-ikesa mobike cookie-challenge\n"
    "ip address pool name p1\n#exit\n"
    "crypto template t2 ikev2-dynamic\n"
    "authentication local pre-shared-key key k\n"
    "#exit\nend\n";

static void test_template(void **state) {
  (void)state;
  ike_config_t *c = calloc(1, sizeof(*c));
  char err[256];
  ike_out_t o;
  assert_non_null(c);
  assert_int_equal(ike_config_parse_buf("t", tmpl_text, strlen(tmpl_text), c, err, sizeof(err)),
                   0);
  ike_out_buf(&o, out, sizeof(out));
  ike_show_template(&o, c, &c->templates[0]);
  assert_non_null(strstr(out, "\nIKEv2 Mobike           : Enabled\n"));
  assert_non_null(strstr(out, "\nCookie Challenge       : Enabled\n"));
  assert_non_null(strstr(out, "\nIPv4 Pool              : p1\n"));
  assert_true(strncmp(out, "Crypto Template        : t1\n", 28) == 0);
  ike_out_buf(&o, out, sizeof(out));
  ike_show_template(&o, c, &c->templates[1]);
  assert_non_null(strstr(out, "\nIKEv2 Mobike           : Disabled\n"));
  assert_non_null(strstr(out, "\nCookie Challenge       : Disabled\n"));
  ike_out_buf(&o, out, sizeof(out));
  ike_show_templates_json(&o, c);
  assert_true(ike_out_ok(&o));
  assert_true(json_ok(out));
  assert_non_null(strstr(out, "\"name\":\"t1\""));
  assert_non_null(strstr(out, "\"mobike\":true,\"mobike_cookie_challenge\":true"));
  free(c);
}

static void fill_sa(ike_sa_view_t *v) {
  memset(v, 0, sizeof(*v));
  v->slot = 3;
  v->spi_i = 0x0123456789abcdefull;
  v->spi_r = 0x0003000000000042ull;
  snprintf(v->state, sizeof(v->state), "ESTABLISHED");
  snprintf(v->tmpl, sizeof(v->tmpl), "tmpl1");
  snprintf(v->peer_addr, sizeof(v->peer_addr), "192.0.2.10");
  v->peer_port = 4500;
  snprintf(v->local_addr, sizeof(v->local_addr), "2001:db8::1");
  v->local_port = 4500;
  snprintf(v->peer_id, sizeof(v->peer_id), "we\"ird\x01id"); /* escaped in JSON */
  v->encr = IKE_ENCR_AES_GCM_16;
  v->keylen = 256;
  v->prf = IKE_PRF_HMAC_SHA2_256;
  v->dh = IKE_DH_CURVE25519;
  snprintf(v->virtual_ip4, sizeof(v->virtual_ip4), "10.10.0.2");
  v->nat_remote = 1;
  v->mobike = 1;
  v->n_child = 1;
  v->child[0].spi_in = 0xc0ffee01;
  v->child[0].spi_out = 0x00000abc;
  v->child[0].encr = IKE_ENCR_AES_CBC;
  v->child[0].keylen = 128;
  v->child[0].integ = IKE_INTEG_HMAC_SHA2_256_128;
  v->child[0].udp_encap = 1;
  v->child[0].bytes_in = 1000;
}

static void test_sa(void **state) {
  (void)state;
  ike_sa_view_t v[2];
  ike_out_t o;
  fill_sa(&v[0]);
  fill_sa(&v[1]);
  v[1].mobike = 0;
  ike_out_buf(&o, out, sizeof(out));
  ike_show_sa_detail(&o, &v[0]);
  assert_true(ike_out_ok(&o));
  assert_non_null(strstr(out, "\nMobike Supported          : Enabled\n")); /* the seed's line */
  assert_non_null(strstr(out, "\nInitiator SPI             : 0x0123456789abcdef\n"));
  assert_non_null(strstr(out, "\nLocal Address             : [2001:db8::1]:4500\n"));
  assert_non_null(strstr(out, "\nEncryption                : aes-gcm-256\n"));
  assert_non_null(strstr(out, "\nRemote Behind NAT         : Yes\n"));
  assert_non_null(strstr(out, "0xc0ffee01 / 0x00000abc"));
  assert_non_null(strstr(out, "aes-cbc-128/sha2-256-128"));
  ike_out_buf(&o, out, sizeof(out));
  ike_show_sa_detail(&o, &v[1]);
  assert_non_null(strstr(out, "\nMobike Supported          : Disabled\n"));
  ike_out_buf(&o, out, sizeof(out));
  ike_show_sa_summary(&o, v, 2);
  assert_non_null(strstr(out, "\n    3 0123456789abcdef 0003000000000042 ESTABLISHED  "
                              "192.0.2.10:4500              [2001:db8::1]:4500           "
                              "10.10.0.2       Enabled\n"));
  assert_non_null(strstr(out, "Total IKEv2 SAs: 2\n"));
  ike_out_buf(&o, out, sizeof(out));
  ike_show_sa_json(&o, v, 2);
  assert_true(ike_out_ok(&o));
  assert_true(json_ok(out));
  assert_non_null(strstr(out, "\"spi_i\":\"0123456789abcdef\""));
  assert_non_null(strstr(out, "\"spi_out\":\"00000abc\""));
  assert_non_null(strstr(out, "\"remote_id\":\"we\\\"ird\\u0001id\""));
}

static void test_bulkstats(void **state) {
  (void)state;
  ike_stats_t st;
  ike_out_t o;
  size_t nvars = 0;
  seed_stats(&st);
  st.mobike_cookie2_match = 7;
  st.notify_rcvd_NO_NATS_ALLOWED = 9;
  /* Every seed variable maps to a counter, and every counter's variable is listed. */
  for (; ike_show_bulkvars[nvars] != NULL; nvars++) {
    assert_true(ike_stats_find_bulkvar(ike_show_bulkvars[nvars]) >= 0);
  }
  assert_int_equal(nvars, 12);
  size_t with_var = 0;
  for (size_t i = 0; i < ike_stats_count(); i++) {
    with_var += ike_stats_bulkvar(i) != NULL;
  }
  assert_int_equal(with_var, nvars);
  /* Descriptions follow the seed's Description cells (not its shifted Triggers). */
  assert_string_equal(
      ike_stats_desc((size_t)ike_stats_find_bulkvar("ikev2-notifrecv-updsaaddr")),
      "Total number of UPDATE_SA_ADDRESSES notify payload received.");
  assert_string_equal(
      ike_stats_desc((size_t)ike_stats_find_bulkvar("ikev2-mobike-cookie2-rvcd")),
      "Total number of COOKIE2 notify payload received and decoded successfully.");
  ike_out_buf(&o, out, sizeof(out));
  ike_show_bulkstats(&o, &st);
  assert_true(strncmp(out, "ikev2-mobike-sent = 2\nikev2-mobike-recv = 2\n", 44) == 0);
  assert_non_null(strstr(out, "\nikev2-mobike-cookie2-match = 7\n"));
  assert_non_null(strstr(out, "\nikev2-notifrecv-updsaaddr = 2\n"));
  assert_non_null(strstr(out, "\nikev2-notifrecv-nonatallow = 9\n"));
  ike_out_buf(&o, out, sizeof(out));
  ike_show_bulkstats_csv_header(&o);
  ike_show_bulkstats_csv_row(&o, 1700000000, &st);
  assert_string_equal(out,
      "timestamp,ikev2-mobike-sent,ikev2-mobike-recv,ikev2-mobike-ignored,"
      "ikev2-mobike-unexpected-natt-detected-sent,ikev2-mobike-cookie2-rvcd,"
      "ikev2-mobike-cookie2-sent,ikev2-mobike-cookie2-mismatch,ikev2-mobike-cookie2-match,"
      "ikev2-notifrecv-mobikesupp,ikev2-notifrecv-updsaaddr,ikev2-notifrecv-cookie2,"
      "ikev2-notifrecv-nonatallow\n"
      "2023-11-14T22:13:20Z,2,2,0,0,0,0,0,7,2,2,0,9\n");
  ike_out_buf(&o, out, sizeof(out));
  ike_show_bulkstats_json(&o, &st);
  assert_true(json_ok(out));
  assert_non_null(strstr(out, "\"ikev2-mobike-cookie2-match\":7"));
  ike_out_buf(&o, out, sizeof(out));
  ike_show_stats_ikev2_json(&o, &st);
  assert_true(ike_out_ok(&o));
  assert_true(json_ok(out));
  assert_non_null(strstr(out, "\"notify_rcvd_MOBIKE_SUPPORTED\":2"));
}

static void test_out_bounds(void **state) {
  (void)state;
  ike_stats_t st;
  ike_out_t o;
  char small[40];
  seed_stats(&st);
  ike_out_buf(&o, small, sizeof(small));
  ike_show_stats_seed_blocks(&o, &st);
  assert_false(ike_out_ok(&o));              /* truncated, and says so */
  assert_int_equal(o.len, strlen(seed_blocks)); /* but knows the size it needs */
  assert_int_equal(strlen(small), sizeof(small) - 1);
  /* JSON nesting deeper than the writer's bound is an error, not an overflow. */
  ike_json_t j;
  ike_out_buf(&o, out, sizeof(out));
  ike_json_init(&j, &o);
  for (int i = 0; i < IKE_JSON_DEPTH + 2; i++) {
    ike_json_arr_begin(&j, NULL);
  }
  assert_true(o.err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_validator), cmocka_unit_test(test_seed_blocks),
      cmocka_unit_test(test_seed_blocks_wide), cmocka_unit_test(test_template),
      cmocka_unit_test(test_sa),             cmocka_unit_test(test_bulkstats),
      cmocka_unit_test(test_out_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
