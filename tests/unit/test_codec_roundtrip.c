/*
 * test_codec_roundtrip.c - build every IKEv2 payload with the ike_put_* builders,
 * parse it back with ike_msg_parse + the body parsers and compare every field
 * (RFC 7296 section 3, RFC 7383 2.5). Also parses a hand-assembled
 * IKE_SA_INIT request laid out as in RFC 7296 1.2 (HDR, SAi1, KEi, Ni,
 * N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ike_pld.h"

static const ike_hdr_t test_hdr = {
  .spi_i = 0x0102030405060708ull,
  .spi_r = 0x1112131415161718ull,
  .version = 0x20,
  .exchange = IKE_EXCH_IKE_AUTH,
  .flags = IKE_FLAG_INITIATOR,
  .msg_id = 0x01020304u,
};

/* Parse msg, check the header against test_hdr and the chain types. */
static void parse_expect(const uint8_t *msg, size_t len, ike_chain_t *c,
                         const uint8_t *types, unsigned n)
{
  ike_hdr_t h;
  uint8_t bad = 0;

  assert_int_equal(ike_msg_parse(msg, len, &h, c, &bad), 0);
  assert_int_equal(h.spi_i, test_hdr.spi_i);
  assert_int_equal(h.spi_r, test_hdr.spi_r);
  assert_int_equal(h.version, 0x20);
  assert_int_equal(h.exchange, test_hdr.exchange);
  assert_int_equal(h.flags, test_hdr.flags);
  assert_int_equal(h.msg_id, test_hdr.msg_id);
  assert_int_equal(h.length, len);
  assert_int_equal(h.next_payload, types[0]);
  assert_int_equal(c->n, n);
  for (unsigned i = 0; i < n; i++) {
    assert_int_equal(c->pld[i].type, types[i]);
    assert_int_equal(c->pld[i].next, i + 1 < n ? types[i + 1] : 0);
    /* body sits 4 bytes after the generic header at .off */
    assert_ptr_equal(c->pld[i].body, msg + c->pld[i].off + 4);
  }
  assert_int_equal(ike_chain_check(c, NULL), 0);
}

static void test_sa(void **state)
{
  (void)state;
  ike_sa_pld_t sa, out;
  uint8_t buf[2048];
  ike_mb_t mb;
  ike_chain_t c;

  memset(&sa, 0, sizeof(sa));
  sa.n = 3;
  /* 1: IKE, AES-CBC-256 + AES-CBC-128, PRF SHA256, INTEG SHA256, ECP256 */
  sa.p[0] = (ike_proposal_t){ .num = 1, .protocol = IKE_PROTO_IKE, .n_transforms = 5 };
  sa.p[0].t[0] = (ike_transform_t){ IKE_TRANS_ENCR, IKE_ENCR_AES_CBC, 256, 0 };
  sa.p[0].t[1] = (ike_transform_t){ IKE_TRANS_ENCR, IKE_ENCR_AES_CBC, 128, 0 };
  sa.p[0].t[2] = (ike_transform_t){ IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_256, 0, 0 };
  sa.p[0].t[3] = (ike_transform_t){ IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0, 0 };
  sa.p[0].t[4] = (ike_transform_t){ IKE_TRANS_DH, IKE_DH_ECP_256, 0, 0 };
  /* 2: IKE rekey-style with an 8-byte SPI, AES-GCM-16-256 */
  sa.p[1] = (ike_proposal_t){ .num = 2, .protocol = IKE_PROTO_IKE, .spi_len = 8,
                              .spi = { 1, 2, 3, 4, 5, 6, 7, 8 }, .n_transforms = 3 };
  sa.p[1].t[0] = (ike_transform_t){ IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 256, 0 };
  sa.p[1].t[1] = (ike_transform_t){ IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_512, 0, 0 };
  sa.p[1].t[2] = (ike_transform_t){ IKE_TRANS_DH, IKE_DH_CURVE25519, 0, 0 };
  /* 3: ESP with a 4-byte SPI, ChaCha20 (no key length), ESN */
  sa.p[2] = (ike_proposal_t){ .num = 3, .protocol = IKE_PROTO_ESP, .spi_len = 4,
                              .spi = { 0xc0, 0xff, 0xee, 0x01 }, .n_transforms = 2 };
  sa.p[2].t[0] = (ike_transform_t){ IKE_TRANS_ENCR, IKE_ENCR_CHACHA20_POLY1305, 0, 0 };
  sa.p[2].t[1] = (ike_transform_t){ IKE_TRANS_ESN, IKE_ESN_YES, 0, 0 };

  ike_mb_init(&mb, buf, sizeof(buf), &test_hdr);
  ike_put_sa(&mb, &sa);
  int len = ike_mb_finish(&mb, NULL);
  /* 28 + 4 + (8+12+12+8+8+8) + (16+12+8+8) + (12+8+8) */
  assert_int_equal(len, 28 + 4 + 56 + 44 + 28);

  const uint8_t types[] = { IKE_PLD_SA };
  parse_expect(buf, (size_t)len, &c, types, 1);
  assert_int_equal(ike_pld_sa(&c.pld[0], &out), 0);
  assert_int_equal(out.n, sa.n);
  for (unsigned i = 0; i < sa.n; i++) {
    const ike_proposal_t *a = &sa.p[i], *b = &out.p[i];
    assert_int_equal(b->num, a->num);
    assert_int_equal(b->protocol, a->protocol);
    assert_int_equal(b->spi_len, a->spi_len);
    assert_memory_equal(b->spi, a->spi, a->spi_len);
    assert_int_equal(b->n_transforms, a->n_transforms);
    for (unsigned j = 0; j < a->n_transforms; j++) {
      assert_int_equal(b->t[j].type, a->t[j].type);
      assert_int_equal(b->t[j].id, a->t[j].id);
      assert_int_equal(b->t[j].key_len, a->t[j].key_len);
      assert_int_equal(b->t[j].n_unknown_attrs, 0);
    }
  }
  /* wire check: the first transform's key length attribute is TV 14 = 256
   * (RFC 7296 3.3.5): 28 hdr + 4 pld + 8 prop + 8 transform header */
  assert_int_equal(buf[48], 0x80);
  assert_int_equal(buf[49], 14);
  assert_int_equal(buf[50], 0x01);
  assert_int_equal(buf[51], 0x00);
}

static void test_simple_payloads(void **state)
{
  (void)state;
  static const uint8_t ke[32] = { 0x11, 0x22, 0x33, [31] = 0x44 };
  static const uint8_t idi[] = "client@example.org";
  static const uint8_t idr[4] = { 192, 0, 2, 1 };
  static const uint8_t cert[] = { 0x30, 0x82, 0x01, 0x0a, 0x02 };
  static const uint8_t certreq[20] = { 0xaa, [19] = 0xbb };
  static const uint8_t auth[32] = { 9, 8, 7, [31] = 1 };
  static const uint8_t nonce[32] = { 0x5a, [31] = 0xa5 };
  static const uint8_t vid[16] = { 0x88, 0x2f, 0xe5, 0x6d, [15] = 0x01 };
  uint8_t buf[1024];
  ike_mb_t mb;
  ike_chain_t c;

  ike_mb_init(&mb, buf, sizeof(buf), &test_hdr);
  ike_put_ke(&mb, IKE_DH_CURVE25519, ke, sizeof(ke));
  ike_put_id(&mb, IKE_PLD_IDI, IKE_ID_RFC822_ADDR, idi, sizeof(idi) - 1);
  ike_put_id(&mb, IKE_PLD_IDR, IKE_ID_IPV4_ADDR, idr, sizeof(idr));
  ike_put_cert(&mb, IKE_PLD_CERT, IKE_CERT_X509_SIGNATURE, cert, sizeof(cert));
  ike_put_cert(&mb, IKE_PLD_CERTREQ, IKE_CERT_X509_SIGNATURE, certreq, sizeof(certreq));
  ike_put_auth(&mb, IKE_AUTH_SHARED_KEY_MIC, auth, sizeof(auth));
  ike_put_nonce(&mb, nonce, sizeof(nonce));
  ike_put_vendor(&mb, vid, sizeof(vid));
  int len = ike_mb_finish(&mb, NULL);
  assert_int_equal(len, 28 + (8 + 32) + (8 + 18) + (8 + 4) + (5 + 5) + (5 + 20) +
                            (8 + 32) + (4 + 32) + (4 + 16));

  const uint8_t types[] = { IKE_PLD_KE, IKE_PLD_IDI, IKE_PLD_IDR, IKE_PLD_CERT,
                            IKE_PLD_CERTREQ, IKE_PLD_AUTH, IKE_PLD_NONCE,
                            IKE_PLD_VENDOR };
  parse_expect(buf, (size_t)len, &c, types, 8);

  ike_ke_pld_t k;
  assert_int_equal(ike_pld_ke(&c.pld[0], &k), 0);
  assert_int_equal(k.group, IKE_DH_CURVE25519);
  assert_int_equal(k.len, sizeof(ke));
  assert_memory_equal(k.data, ke, sizeof(ke));

  ike_id_pld_t id;
  assert_int_equal(ike_pld_id(&c.pld[1], &id), 0);
  assert_int_equal(id.type, IKE_ID_RFC822_ADDR);
  assert_int_equal(id.len, sizeof(idi) - 1);
  assert_memory_equal(id.data, idi, sizeof(idi) - 1);
  assert_ptr_equal(id.body, c.pld[1].body);
  assert_int_equal(id.body_len, 4 + sizeof(idi) - 1);
  assert_int_equal(ike_pld_id(&c.pld[2], &id), 0);
  assert_int_equal(id.type, IKE_ID_IPV4_ADDR);
  assert_int_equal(id.len, 4);
  assert_memory_equal(id.data, idr, 4);

  ike_cert_pld_t ce;
  assert_int_equal(ike_pld_cert(&c.pld[3], &ce), 0);
  assert_int_equal(ce.encoding, IKE_CERT_X509_SIGNATURE);
  assert_int_equal(ce.len, sizeof(cert));
  assert_memory_equal(ce.data, cert, sizeof(cert));
  assert_int_equal(ike_pld_cert(&c.pld[4], &ce), 0);
  assert_int_equal(ce.len, sizeof(certreq));
  assert_memory_equal(ce.data, certreq, sizeof(certreq));

  ike_auth_pld_t au;
  assert_int_equal(ike_pld_auth(&c.pld[5], &au), 0);
  assert_int_equal(au.method, IKE_AUTH_SHARED_KEY_MIC);
  assert_int_equal(au.len, sizeof(auth));
  assert_memory_equal(au.data, auth, sizeof(auth));

  ike_nonce_pld_t no;
  assert_int_equal(ike_pld_nonce(&c.pld[6], &no), 0);
  assert_int_equal(no.len, sizeof(nonce));
  assert_memory_equal(no.data, nonce, sizeof(nonce));

  assert_int_equal(c.pld[7].body_len, sizeof(vid));
  assert_memory_equal(c.pld[7].body, vid, sizeof(vid));
}

static void test_notify_delete(void **state)
{
  (void)state;
  static const uint8_t cookie[16] = { 0xc0, 0x0c, [15] = 0x1e };
  static const uint8_t spi[4] = { 0xde, 0xad, 0xbe, 0xef };
  static const uint32_t esp_spis[3] = { 0xc1000001u, 0xc1000002u, 0xffffffffu };
  uint8_t buf[512];
  ike_mb_t mb;
  ike_chain_t c;

  ike_mb_init(&mb, buf, sizeof(buf), &test_hdr);
  ike_put_notify(&mb, 0, NULL, 0, IKE_N_COOKIE, cookie, sizeof(cookie));
  ike_put_notify(&mb, IKE_PROTO_ESP, spi, 4, IKE_N_REKEY_SA, NULL, 0);
  ike_put_delete(&mb, IKE_PROTO_IKE, 0, NULL, 0);
  ike_put_delete(&mb, IKE_PROTO_ESP, 4, esp_spis, 3);
  int len = ike_mb_finish(&mb, NULL);
  assert_int_equal(len, 28 + (8 + 16) + (8 + 4) + 8 + (8 + 12));

  const uint8_t types[] = { IKE_PLD_NOTIFY, IKE_PLD_NOTIFY, IKE_PLD_DELETE,
                            IKE_PLD_DELETE };
  parse_expect(buf, (size_t)len, &c, types, 4);

  ike_notify_pld_t n;
  assert_int_equal(ike_pld_notify(&c.pld[0], &n), 0);
  assert_int_equal(n.protocol, 0);
  assert_int_equal(n.spi_len, 0);
  assert_int_equal(n.type, IKE_N_COOKIE);
  assert_int_equal(n.len, sizeof(cookie));
  assert_memory_equal(n.data, cookie, sizeof(cookie));
  assert_int_equal(ike_pld_notify(&c.pld[1], &n), 0);
  assert_int_equal(n.protocol, IKE_PROTO_ESP);
  assert_int_equal(n.spi_len, 4);
  assert_memory_equal(n.spi, spi, 4);
  assert_int_equal(n.type, IKE_N_REKEY_SA);
  assert_int_equal(n.len, 0);

  ike_delete_pld_t d;
  assert_int_equal(ike_pld_delete(&c.pld[2], &d), 0);
  assert_int_equal(d.protocol, IKE_PROTO_IKE);
  assert_int_equal(d.spi_len, 0);
  assert_int_equal(d.n_spis, 0);
  assert_int_equal(ike_pld_delete(&c.pld[3], &d), 0);
  assert_int_equal(d.protocol, IKE_PROTO_ESP);
  assert_int_equal(d.spi_len, 4);
  assert_int_equal(d.n_spis, 3);
  for (unsigned i = 0; i < 3; i++) {
    assert_int_equal(d.spi[i], esp_spis[i]);
  }
}

static void test_ts_cp_eap(void **state)
{
  (void)state;
  ike_ts_pld_t ts = { .n = 2 }, tso;
  ts.ts[0] = (ike_ts_t){ IKE_TS_IPV4_ADDR_RANGE, 0, 0, 65535, { 10, 0, 0, 0 },
                         { 10, 0, 255, 255 } };
  ts.ts[1] = (ike_ts_t){ IKE_TS_IPV6_ADDR_RANGE, 17, 500, 4500,
                         { 0x20, 0x01, 0x0d, 0xb8 },
                         { 0x20, 0x01, 0x0d, 0xb8, [4 ... 15] = 0xff } };
  ike_ts_pld_t tsr = { .n = 1 };
  tsr.ts[0] = (ike_ts_t){ IKE_TS_IPV4_ADDR_RANGE, 6, 80, 80, { 192, 0, 2, 7 },
                          { 192, 0, 2, 7 } };
  static const uint8_t ip4[4] = { 10, 1, 2, 3 }, mask[4] = { 255, 255, 255, 0 };
  static const uint8_t ip6[17] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9, [16] = 64 };
  ike_cp_pld_t cp = { .cfg_type = IKE_CFG_REPLY, .n = 4 }, cpo;
  cp.a[0] = (ike_cp_attr_t){ IKE_CFG_ATTR_INTERNAL_IP4_ADDRESS, ip4, 4 };
  cp.a[1] = (ike_cp_attr_t){ IKE_CFG_ATTR_INTERNAL_IP4_NETMASK, mask, 4 };
  cp.a[2] = (ike_cp_attr_t){ IKE_CFG_ATTR_INTERNAL_IP6_ADDRESS, ip6, 17 };
  cp.a[3] = (ike_cp_attr_t){ IKE_CFG_ATTR_INTERNAL_IP4_DNS, NULL, 0 };
  static const uint8_t eapid[] = "user";
  ike_eap_pld_t eap = { .code = 2, .identifier = 7, .type = 1, .data = eapid,
                        .len = 4 }, eapo;
  ike_eap_pld_t eok = { .code = 3, .identifier = 8 };
  uint8_t buf[1024];
  ike_mb_t mb;
  ike_chain_t c;

  ike_mb_init(&mb, buf, sizeof(buf), &test_hdr);
  ike_put_ts(&mb, IKE_PLD_TSI, &ts);
  ike_put_ts(&mb, IKE_PLD_TSR, &tsr);
  ike_put_cp(&mb, &cp);
  ike_put_eap(&mb, &eap);
  ike_put_eap(&mb, &eok);
  int len = ike_mb_finish(&mb, NULL);
  assert_int_equal(len, 28 + (8 + 16 + 40) + (8 + 16) +
                            (8 + 8 + 8 + 21 + 4) + (4 + 9) + (4 + 4));

  const uint8_t types[] = { IKE_PLD_TSI, IKE_PLD_TSR, IKE_PLD_CP, IKE_PLD_EAP,
                            IKE_PLD_EAP };
  parse_expect(buf, (size_t)len, &c, types, 5);

  const ike_ts_pld_t *want[2] = { &ts, &tsr };
  for (unsigned k = 0; k < 2; k++) {
    assert_int_equal(ike_pld_ts(&c.pld[k], &tso), 0);
    assert_int_equal(tso.n, want[k]->n);
    for (unsigned i = 0; i < tso.n; i++) {
      const ike_ts_t *a = &want[k]->ts[i], *b = &tso.ts[i];
      size_t al = a->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
      assert_int_equal(b->type, a->type);
      assert_int_equal(b->ip_proto, a->ip_proto);
      assert_int_equal(b->start_port, a->start_port);
      assert_int_equal(b->end_port, a->end_port);
      assert_memory_equal(b->start, a->start, al);
      assert_memory_equal(b->end, a->end, al);
    }
  }

  assert_int_equal(ike_pld_cp(&c.pld[2], &cpo), 0);
  assert_int_equal(cpo.cfg_type, IKE_CFG_REPLY);
  assert_int_equal(cpo.n, cp.n);
  for (unsigned i = 0; i < cp.n; i++) {
    assert_int_equal(cpo.a[i].type, cp.a[i].type);
    assert_int_equal(cpo.a[i].len, cp.a[i].len);
    if (cp.a[i].len > 0) {
      assert_memory_equal(cpo.a[i].value, cp.a[i].value, cp.a[i].len);
    }
  }

  assert_int_equal(ike_pld_eap(&c.pld[3], &eapo), 0);
  assert_int_equal(eapo.code, 2);
  assert_int_equal(eapo.identifier, 7);
  assert_int_equal(eapo.length, 9);
  assert_int_equal(eapo.type, 1);
  assert_int_equal(eapo.len, 4);
  assert_memory_equal(eapo.data, eapid, 4);
  assert_int_equal(ike_pld_eap(&c.pld[4], &eapo), 0);
  assert_int_equal(eapo.code, 3);
  assert_int_equal(eapo.identifier, 8);
  assert_int_equal(eapo.length, 4);
  assert_int_equal(eapo.type, 0);
  assert_int_equal(eapo.len, 0);
}

/* SK: clear Notify, then SK whose Next Payload names the first inner payload
 * (RFC 7296 3.14). The inner chain is built with ike_mb_init_inner and parsed
 * with ike_chain_parse, as sessmgr does after ike_sk_open. */
static void test_sk_and_inner(void **state)
{
  (void)state;
  static const uint8_t nonce[16] = { 1 };
  static const uint8_t body[48] = { 0xee, [47] = 0xff }; /* stand-in ciphertext */
  uint8_t inner[256], buf[512];
  ike_mb_t mb;
  ike_chain_t c;
  uint8_t first = 0xff;

  ike_mb_init_inner(&mb, inner, sizeof(inner));
  ike_put_notify(&mb, 0, NULL, 0, IKE_N_MOBIKE_SUPPORTED, NULL, 0);
  ike_put_nonce(&mb, nonce, sizeof(nonce));
  int ilen = ike_mb_finish(&mb, &first);
  assert_int_equal(ilen, 8 + 20);
  assert_int_equal(first, IKE_PLD_NOTIFY);
  assert_int_equal(ike_chain_parse(first, inner, (size_t)ilen, 100, &c, NULL), 0);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.pld[0].type, IKE_PLD_NOTIFY);
  assert_int_equal(c.pld[0].off, 100);
  assert_int_equal(c.pld[1].type, IKE_PLD_NONCE);
  assert_int_equal(c.pld[1].off, 108);
  assert_int_equal(c.pld[1].next, 0);

  ike_mb_init(&mb, buf, sizeof(buf), &test_hdr);
  ike_put_notify(&mb, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
  size_t off = ike_put_sk_hdr(&mb, first);
  assert_int_equal(off, 36);
  ike_wr_bytes(&mb.w, body, sizeof(body));
  ike_mb_end(&mb, off);
  int len = ike_mb_finish(&mb, NULL);
  assert_int_equal(len, 28 + 8 + 4 + 48);
  /* nothing may follow SK: a further payload is refused by the builder */
  ike_put_vendor(&mb, nonce, 4);
  assert_int_equal(ike_mb_finish(&mb, NULL), -IKE_E_BAD_SYNTAX);

  ike_hdr_t h;
  assert_int_equal(ike_msg_parse(buf, (size_t)len, &h, &c, NULL), 0);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.pld[1].type, IKE_PLD_SK);
  assert_int_equal(c.pld[1].next, IKE_PLD_NOTIFY);
  assert_int_equal(c.pld[1].off, 36);
  assert_int_equal(c.pld[1].body_len, sizeof(body));
  assert_memory_equal(c.pld[1].body, body, sizeof(body));
}

static void test_skf(void **state)
{
  (void)state;
  static const uint8_t body[40] = { 0x42, [39] = 0x24 };
  uint8_t buf[256];
  ike_mb_t mb;
  ike_chain_t c;
  ike_skf_pld_t f;
  ike_hdr_t h;

  ike_mb_init(&mb, buf, sizeof(buf), &test_hdr);
  size_t off = ike_put_skf_hdr(&mb, IKE_PLD_IDI, 1, 3);
  assert_int_equal(off, 28);
  ike_wr_bytes(&mb.w, body, sizeof(body));
  ike_mb_end(&mb, off);
  uint8_t first = 0;
  int len = ike_mb_finish(&mb, &first);
  assert_int_equal(len, 28 + 8 + 40);
  assert_int_equal(first, IKE_PLD_SKF);
  assert_int_equal(ike_msg_parse(buf, (size_t)len, &h, &c, NULL), 0);
  assert_int_equal(h.next_payload, IKE_PLD_SKF);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.pld[0].next, IKE_PLD_IDI);
  assert_int_equal(ike_pld_skf(&c.pld[0], &f), 0);
  assert_int_equal(f.frag_num, 1);
  assert_int_equal(f.total, 3);
  assert_int_equal(f.len, sizeof(body));
  assert_memory_equal(f.data, body, sizeof(body));
}

/* Sticky writer: a message that does not fit reports -IKE_E_NOSPACE once,
 * and no byte lands past cap. */
static void test_nospace(void **state)
{
  (void)state;
  static const uint8_t nonce[32] = { 0 };
  uint8_t buf[64 + 8];
  ike_mb_t mb;

  memset(buf, 0x77, sizeof(buf));
  ike_mb_init(&mb, buf, 64, &test_hdr);
  ike_put_nonce(&mb, nonce, sizeof(nonce)); /* 28 + 36 = 64: fits */
  assert_int_equal(ike_wr_err(&mb.w), 0);
  ike_put_nonce(&mb, nonce, sizeof(nonce)); /* does not */
  assert_int_equal(ike_mb_finish(&mb, NULL), -IKE_E_NOSPACE);
  for (size_t i = 64; i < sizeof(buf); i++) {
    assert_int_equal(buf[i], 0x77);
  }
}

/*
 * A hand-assembled IKE_SA_INIT request (RFC 7296 1.2: HDR, SAi1, KEi, Ni,
 * plus the two NAT detection notifies of 2.23), byte for byte as it appears
 * on the wire. SAi1 offers AES-CBC-256 / HMAC-SHA2-256 / HMAC-SHA2-256-128 /
 * ECP-256 (3.3); KE is 64 bytes x|y for group 19 (RFC 5903); Ni 32 bytes;
 * each NAT-D notify carries a 20-byte SHA-1 hash.
 */
#define B8(x) x, x, x, x, x, x, x, x
#define B32(x) B8(x), B8(x), B8(x), B8(x)
static const uint8_t sa_init_req[] = {
  /* IKE header (3.1) */
  0x6a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, /* SPIi */
  0, 0, 0, 0, 0, 0, 0, 0,                         /* SPIr = 0 */
  33, 0x20, 34, 0x08,                             /* next SA, v2.0, IKE_SA_INIT, I */
  0, 0, 0, 0,                                     /* Message ID 0 */
  0, 0, 0, 240,                                   /* Length */
  /* SA (3.3): 4 + proposal 44 */
  34, 0, 0, 48,
  0, 0, 0, 44, 1, 1, 0, 4,                        /* last, len 44, #1, IKE, SPI 0, 4 T */
  3, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 0x01, 0x00, /* ENCR AES-CBC, KeyLen 256 */
  3, 0, 0, 8, 2, 0, 0, 5,                         /* PRF HMAC-SHA2-256 */
  3, 0, 0, 8, 3, 0, 0, 12,                        /* INTEG HMAC-SHA2-256-128 */
  0, 0, 0, 8, 4, 0, 0, 19,                        /* DH ECP-256 */
  /* KE (3.4): group 19, 64 bytes */
  40, 0, 0, 72, 0, 19, 0, 0,
  B32(0xa1), B32(0xb2),
  /* Nonce (3.9): 32 bytes */
  41, 0, 0, 36, B32(0x5c),
  /* N(NAT_DETECTION_SOURCE_IP) (3.10, 2.23) */
  41, 0, 0, 28, 0, 0, 0x40, 0x04, B8(0x11), B8(0x12), 0x13, 0x13, 0x13, 0x13,
  /* N(NAT_DETECTION_DESTINATION_IP) */
  0, 0, 0, 28, 0, 0, 0x40, 0x05, B8(0x21), B8(0x22), 0x23, 0x23, 0x23, 0x23,
};

static void test_sa_init_request(void **state)
{
  (void)state;
  ike_hdr_t h;
  ike_chain_t c;
  uint8_t bad = 0;

  assert_int_equal(sizeof(sa_init_req), 240);
  assert_int_equal(ike_msg_parse(sa_init_req, sizeof(sa_init_req), &h, &c, &bad), 0);
  assert_int_equal(h.spi_i, 0x6a1b2c3d4e5f6071ull);
  assert_int_equal(h.spi_r, 0);
  assert_int_equal(h.exchange, IKE_EXCH_IKE_SA_INIT);
  assert_int_equal(h.flags, IKE_FLAG_INITIATOR);
  assert_int_equal(h.msg_id, 0);
  assert_int_equal(h.length, 240);
  const uint8_t types[] = { IKE_PLD_SA, IKE_PLD_KE, IKE_PLD_NONCE, IKE_PLD_NOTIFY,
                            IKE_PLD_NOTIFY };
  assert_int_equal(c.n, 5);
  for (unsigned i = 0; i < 5; i++) {
    assert_int_equal(c.pld[i].type, types[i]);
  }
  assert_int_equal(c.pld[1].off, 28 + 48);
  assert_int_equal(ike_chain_check(&c, NULL), 0);

  ike_sa_pld_t sa;
  assert_int_equal(ike_pld_sa(&c.pld[0], &sa), 0);
  assert_int_equal(sa.n, 1);
  assert_int_equal(sa.p[0].protocol, IKE_PROTO_IKE);
  assert_int_equal(sa.p[0].n_transforms, 4);
  assert_int_equal(sa.p[0].t[0].id, IKE_ENCR_AES_CBC);
  assert_int_equal(sa.p[0].t[0].key_len, 256);
  assert_int_equal(sa.p[0].t[3].type, IKE_TRANS_DH);
  assert_int_equal(sa.p[0].t[3].id, IKE_DH_ECP_256);
  ike_ke_pld_t ke;
  assert_int_equal(ike_pld_ke(&c.pld[1], &ke), 0);
  assert_int_equal(ke.group, IKE_DH_ECP_256);
  assert_int_equal(ke.len, 64);
  ike_notify_pld_t n;
  assert_int_equal(ike_pld_notify(&c.pld[4], &n), 0);
  assert_int_equal(n.type, IKE_N_NAT_DETECTION_DESTINATION_IP);
  assert_int_equal(n.len, 20);
  assert_ptr_equal(ike_chain_find(&c, IKE_PLD_NONCE), &c.pld[2]);
  assert_null(ike_chain_find(&c, IKE_PLD_AUTH));

  /* Rebuild it with the builders: the bytes must be identical. */
  uint8_t buf[512];
  ike_mb_t mb;
  ike_nonce_pld_t ni;
  ike_notify_pld_t n1;
  assert_int_equal(ike_pld_nonce(&c.pld[2], &ni), 0);
  assert_int_equal(ike_pld_notify(&c.pld[3], &n1), 0);
  h.next_payload = 0;
  ike_mb_init(&mb, buf, sizeof(buf), &h);
  ike_put_sa(&mb, &sa);
  ike_put_ke(&mb, ke.group, ke.data, ke.len);
  ike_put_nonce(&mb, ni.data, ni.len);
  ike_put_notify(&mb, 0, NULL, 0, n1.type, n1.data, n1.len);
  ike_put_notify(&mb, 0, NULL, 0, n.type, n.data, n.len);
  assert_int_equal(ike_mb_finish(&mb, NULL), 240);
  assert_memory_equal(buf, sa_init_req, 240);
}

static void test_reader_bounds(void **state)
{
  (void)state;
  static const uint8_t b[5] = { 1, 2, 3, 4, 5 };
  ike_rd_t r, s;
  uint32_t v32;
  uint64_t v64;
  const uint8_t *p;

  ike_rd_init(&r, b, sizeof(b));
  assert_int_equal(ike_rd_u64(&r, &v64), -IKE_E_TRUNC);
  assert_int_equal(r.off, 0);
  assert_int_equal(ike_rd_u32(&r, &v32), 0);
  assert_int_equal(v32, 0x01020304u);
  assert_int_equal(ike_rd_u32(&r, &v32), -IKE_E_TRUNC);
  assert_int_equal(r.off, 4);
  /* a huge n must not wrap off + n */
  assert_int_equal(ike_rd_ptr(&r, SIZE_MAX, &p), -IKE_E_TRUNC);
  assert_int_equal(ike_rd_skip(&r, SIZE_MAX - 2), -IKE_E_TRUNC);
  assert_int_equal(ike_rd_sub(&r, 2, &s), -IKE_E_TRUNC);
  assert_int_equal(r.off, 4);
  assert_int_equal(ike_rd_sub(&r, 1, &s), 0);
  assert_int_equal(ike_rd_left(&r), 0);
  assert_int_equal(ike_rd_left(&s), 1);

  uint8_t out[4];
  ike_wr_t w;
  ike_wr_init(&w, out, sizeof(out));
  ike_wr_u16(&w, 0x0102);
  ike_wr_bytes(&w, b, SIZE_MAX); /* must not wrap len + n */
  assert_int_equal(ike_wr_err(&w), -IKE_E_NOSPACE);
  ike_wr_u8(&w, 9); /* sticky: no-op */
  assert_int_equal(w.len, 2);
}

static void test_err_text(void **state)
{
  (void)state;
  assert_string_equal(ike_strerror(-IKE_E_TRUNC),
                      "input shorter than a field or length says");
  assert_string_equal(ike_strerror(IKE_E_NOMEM), "out of memory");
  assert_string_equal(ike_strerror(0), "success");
  assert_string_equal(ike_strerror(-999), "unknown error");
  assert_int_equal(ike_err_action(-IKE_E_TRUNC), IKE_ACT_INVALID_SYNTAX);
  assert_int_equal(ike_err_action(-IKE_E_BAD_LENGTH), IKE_ACT_INVALID_SYNTAX);
  assert_int_equal(ike_err_action(-IKE_E_BAD_SYNTAX), IKE_ACT_INVALID_SYNTAX);
  assert_int_equal(ike_err_action(-IKE_E_TOO_MANY), IKE_ACT_INVALID_SYNTAX);
  assert_int_equal(ike_err_action(-IKE_E_UNSUPPORTED_CRITICAL),
                   IKE_ACT_UNSUPPORTED_CRITICAL);
  assert_int_equal(ike_err_action(-IKE_E_BAD_VERSION), IKE_ACT_DROP);
  assert_int_equal(ike_err_action(-IKE_E_INTEGRITY), IKE_ACT_DROP);
  assert_int_equal(ike_err_action(-IKE_E_NOSPACE), IKE_ACT_DROP);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sa),
    cmocka_unit_test(test_simple_payloads),
    cmocka_unit_test(test_notify_delete),
    cmocka_unit_test(test_ts_cp_eap),
    cmocka_unit_test(test_sk_and_inner),
    cmocka_unit_test(test_skf),
    cmocka_unit_test(test_nospace),
    cmocka_unit_test(test_sa_init_request),
    cmocka_unit_test(test_reader_bounds),
    cmocka_unit_test(test_err_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
