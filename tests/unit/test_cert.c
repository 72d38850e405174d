/*
 * test_cert.c - X.509 certificate authentication (common/ike_cert.h).
 *
 * The certificates are made at test time with the openssl CLI in a temporary
 * directory: an RSA CA with an intermediate, an ECDSA (P-256) CA, an RSA
 * server certificate, EC client certificates on P-256/P-384/P-521 and a
 * self-signed stranger. Then:
 *   - loading: clear "file: reason" errors (missing, garbage, key mismatch);
 *   - chains: trusted, untrusted CA, expired / not yet valid (RFC 5280 6.1.3
 *     validity checked at a chosen time), intermediate required;
 *   - AUTH round trips for method 1 (RSA_SIG, RFC 7296 3.8), 9-11 (RFC 4754)
 *     and 14 (RFC 7427) with SHA-256/384/512, PKCS#1 v1.5 and PSS, then
 *     tampered signature / data;
 *   - the AlgorithmIdentifier bytes of RFC 7427 Appendix A;
 *   - CERTREQ = SHA-1 of the CA's SubjectPublicKeyInfo (RFC 7296 3.7), against
 *     the openssl CLI;
 *   - identity matching (FQDN, RFC822, IPv4, IPv6, DN, mismatches);
 *   - malformed AUTH data: clean errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ike_cert.h"
#include "ike_crypto.h"
#include "ike_wire.h"

static char dir[64];

static const char *path(const char *name)
{
  static char buf[8][160];
  static unsigned k;
  char *p = buf[k++ % 8];
  snprintf(p, 160, "%s/%s", dir, name);
  return p;
}

/* The PKI, one shell script run once (about a second). */
static const char *mkpki =
    "set -e\n"
    "cd \"$1\"\n"
    "O=openssl\n"
    "ca() { $O req -x509 -new -key $1.key -subj \"$2\" -days 3650 -out $1.crt "
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign; }\n"
    "leaf() { # name key-of ca subject san [ca-ext]\n"
    "  $O req -new -key $1.key -subj \"$3\" -out $1.csr\n"
    "  printf 'subjectAltName=%s\\n%s\\n' \"$4\" \"$5\" > $1.ext\n"
    "  $O x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -days 30 "
    "-extfile $1.ext -out $1.crt 2>/dev/null; }\n"
    "$O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsaca.key 2>/dev/null\n"
    "$O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out srv.key 2>/dev/null\n"
    "$O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out inter.key 2>/dev/null\n"
    "for c in P-256:ecca P-256:cli P-384:c384 P-521:c521 P-256:leaf2 P-256:stranger; do\n"
    "  $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:${c%%:*} -out ${c#*:}.key\n"
    "done\n"
    "ca rsaca '/C=CH/O=Test RSA CA/CN=rsa-ca'\n"
    "ca ecca '/C=CH/O=Test EC CA/CN=ec-ca'\n"
    "ca stranger '/CN=stranger'\n"
    "leaf srv rsaca '/C=CH/O=Example/CN=gw.example.net' "
    "'DNS:gw.example.net,DNS:vpn.example.net,IP:192.0.2.1,IP:2001:db8::1,"
    "email:gw@example.net'\n"
    "leaf cli ecca '/C=CH/O=Example/CN=client' 'DNS:client.example.net,"
    "email:Alice@Example.net'\n"
    "leaf c384 ecca '/CN=c384' 'DNS:c384.example.net'\n"
    "leaf c521 ecca '/CN=c521' 'DNS:c521.example.net'\n"
    "leaf inter rsaca '/CN=intermediate' 'DNS:inter.invalid' "
    "'basicConstraints=critical,CA:TRUE'\n"
    "leaf leaf2 inter '/CN=leaf2' 'DNS:leaf2.example.net'\n"
    "cat rsaca.crt ecca.crt > cas.crt\n"
    "cat leaf2.crt inter.crt > leaf2chain.crt\n"
    "echo garbage > garbage.pem\n"
    "$O x509 -in rsaca.crt -pubkey -noout | $O pkey -pubin -outform DER "
    "| sha1sum | cut -c1-40 > rsaca.spki\n"
    "$O x509 -in ecca.crt -pubkey -noout | $O pkey -pubin -outform DER "
    "| sha1sum | cut -c1-40 > ecca.spki\n"
    /* Signatures by the CLI over msg.bin (written by setup) for cross-checks. */
    "$O dgst -sha1 -sign srv.key -out srv1.sig msg.bin\n"
    "$O dgst -sha256 -sign srv.key -out srv256.sig msg.bin\n"
    "$O dgst -sha256 -sign srv.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
    "-out srvpss.sig msg.bin\n"
    "$O dgst -sha384 -sign cli.key -out cli384.sig msg.bin\n"
    "$O dgst -sha512 -sign c521.key -out c521.sig msg.bin\n"
    /* Extended key usage of client certificates (RFC 5280 4.2.1.12, RFC 4945
     * 5.1.3.12), and a CRL of the EC CA revoking one client (RFC 5280 5). */
    "for k in ekusrv ekucli ekuike ekuany revoked; do\n"
    "  $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $k.key\n"
    "done\n"
    "leaf ekusrv ecca '/CN=eku-srv' 'DNS:ekusrv.example.net' 'extendedKeyUsage=serverAuth'\n"
    "leaf ekucli ecca '/CN=eku-cli' 'DNS:ekucli.example.net' "
    "'extendedKeyUsage=serverAuth,clientAuth'\n"
    "leaf ekuike ecca '/CN=eku-ike' 'DNS:ekuike.example.net' "
    "'extendedKeyUsage=1.3.6.1.5.5.7.3.17'\n"
    "leaf ekuany ecca '/CN=eku-any' 'DNS:ekuany.example.net' "
    "'extendedKeyUsage=emailProtection,anyExtendedKeyUsage'\n"
    "leaf revoked ecca '/CN=revoked' 'DNS:revoked.example.net'\n"
    ": > crlindex.txt\n"
    "echo 1000 > crlnumber\n"
    "printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=crlindex.txt\\ncrlnumber=crlnumber\\n"
    "default_md=sha256\\ndefault_crl_days=30\\n' > crl.cnf\n"
    "$O ca -config crl.cnf -keyfile ecca.key -cert ecca.crt -gencrl -out ecca-empty.crl\n"
    "$O ca -config crl.cnf -keyfile ecca.key -cert ecca.crt -revoke revoked.crt\n"
    "$O ca -config crl.cnf -keyfile ecca.key -cert ecca.crt -gencrl -out ecca.crl\n"
    "$O crl -in ecca.crl -outform DER -out ecca-crl.der\n";

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/test_cert.XXXXXX");
  if (mkdtemp(dir) == NULL) {
    return -1;
  }
  char sh[256];
  snprintf(sh, sizeof sh, "%s/mkpki.sh", dir);
  FILE *f = fopen(sh, "w");
  if (f == NULL) {
    return -1;
  }
  fputs(mkpki, f);
  fclose(f);
  char mb[128];
  snprintf(mb, sizeof mb, "%s/msg.bin", dir);
  f = fopen(mb, "wb");
  if (f == NULL) {
    return -1;
  }
  for (int i = 0; i < 300; i++) {
    fputc((i * 7 + 1) & 0xff, f);
  }
  fclose(f);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "sh %s %s >%s/mkpki.log 2>&1", sh, dir, dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "mkpki failed, see %s/mkpki.log\n", dir);
    return -1;
  }
  return ike_crypto_init();
}

static int teardown(void **state)
{
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* A store with our cert+key (may be NULL names) and CA file. */
static ike_cert_store_t *load(const char *crt, const char *key, const char *ca)
{
  ike_cert_store_t *s = NULL;
  char err[256] = "";
  int rc = ike_cert_store_load(crt ? path(crt) : NULL, key ? path(key) : NULL,
                               ca ? path(ca) : NULL, &s, err, sizeof err);
  if (rc != 0) {
    fail_msg("load %s/%s/%s: %s", crt ? crt : "-", key ? key : "-", ca ? ca : "-", err);
  }
  return s;
}

/* Parse a PEM certificate file into a peer cert via a store (DER). */
static ike_cert_peer_t *peer_of(const char *crt, const char *key)
{
  ike_cert_store_t *s = load(crt, key, NULL);
  const uint8_t *der;
  size_t len;
  ike_cert_peer_t *p = NULL;
  assert_int_equal(ike_cert_own_der(s, 0, &der, &len), 0);
  assert_int_equal(ike_cert_peer_parse(der, len, &p), 0);
  ike_cert_store_free(s);
  return p;
}

/* --- Loading --- */

static void test_load_errors(void **state)
{
  (void)state;
  ike_cert_store_t *s = (ike_cert_store_t *)1;
  char err[256], want[256];
  assert_int_not_equal(ike_cert_store_load(path("nonexist.crt"), path("srv.key"), NULL,
                                           &s, err, sizeof err), 0);
  assert_null(s);
  snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
           path("nonexist.crt"));
  assert_string_equal(err, want);

  assert_int_not_equal(ike_cert_store_load(NULL, NULL, path("garbage.pem"), &s, err,
                                           sizeof err), 0);
  snprintf(want, sizeof want, "%s: no PEM certificate found", path("garbage.pem"));
  assert_string_equal(err, want);

  assert_int_not_equal(ike_cert_store_load(path("srv.crt"), path("cli.key"), NULL, &s,
                                           err, sizeof err), 0);
  snprintf(want, sizeof want, "%s: private key does not match %s", path("cli.key"),
           path("srv.crt"));
  assert_string_equal(err, want);

  assert_int_not_equal(ike_cert_store_load(path("srv.crt"), path("garbage.pem"), NULL,
                                           &s, err, sizeof err), 0);
  assert_non_null(strstr(err, "garbage.pem: bad private key"));

  assert_int_not_equal(ike_cert_store_load(path("srv.crt"), NULL, NULL, &s, err,
                                           sizeof err), 0);
  assert_non_null(strstr(err, "no private-key file configured"));

  s = load("leaf2chain.crt", "leaf2.key", "cas.crt");
  assert_int_equal(ike_cert_own_count(s), 2);
  ike_cert_store_free(s);
}

/* CERTREQ data: SHA-1 of each CA's SPKI in file order, as the CLI computes. */
static void test_certreq(void **state)
{
  (void)state;
  ike_cert_store_t *s = load(NULL, NULL, "cas.crt");
  uint8_t buf[64];
  size_t len = 0;
  assert_int_equal(ike_cert_certreq(s, buf, sizeof buf, &len), 0);
  assert_int_equal(len, 40);
  const char *files[2] = {"rsaca.spki", "ecca.spki"};
  for (int i = 0; i < 2; i++) {
    char hex[64] = "", got[41];
    FILE *f = fopen(path(files[i]), "r");
    assert_non_null(f);
    assert_non_null(fgets(hex, sizeof hex, f));
    fclose(f);
    for (int k = 0; k < 20; k++) {
      snprintf(got + 2 * k, 3, "%02x", buf[20 * i + k]);
    }
    assert_memory_equal(got, hex, 40);
  }
  assert_int_equal(ike_cert_certreq(s, buf, 39, &len), -IKE_E_NOSPACE);
  ike_cert_store_free(s);
}

/* --- Chains --- */

static void test_chain(void **state)
{
  (void)state;
  ike_cert_store_t *rsa = load(NULL, NULL, "rsaca.crt");
  ike_cert_store_t *ec = load(NULL, NULL, "ecca.crt");
  ike_cert_store_t *both = load(NULL, NULL, "cas.crt");
  ike_cert_peer_t *srv = peer_of("srv.crt", "srv.key");
  ike_cert_peer_t *cli = peer_of("cli.crt", "cli.key");
  ike_cert_peer_t *stranger = peer_of("stranger.crt", "stranger.key");
  ike_cert_peer_t *leaf2 = peer_of("leaf2.crt", "leaf2.key");
  ike_cert_peer_t *inter = peer_of("inter.crt", "inter.key");
  char why[128];

  assert_int_equal(ike_cert_verify_chain(rsa, srv, NULL, 0, 0, why, sizeof why), 0);
  assert_int_equal(ike_cert_verify_chain(ec, cli, NULL, 0, 0, why, sizeof why), 0);
  assert_int_equal(ike_cert_verify_chain(both, srv, NULL, 0, 0, NULL, 0), 0);
  assert_int_equal(ike_cert_verify_chain(both, cli, NULL, 0, 0, NULL, 0), 0);
  /* Wrong CA, self-signed stranger. */
  assert_int_equal(ike_cert_verify_chain(ec, srv, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_string_equal(why, "unable to get local issuer certificate");
  assert_int_equal(ike_cert_verify_chain(both, stranger, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  /* Expired: the leaf is valid 30 days; check 60 days from now. */
  int64_t later = (int64_t)time(NULL) + 60 * 86400;
  assert_int_equal(ike_cert_verify_chain(rsa, srv, NULL, 0, later, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_string_equal(why, "certificate has expired");
  /* Not yet valid: 2001. */
  assert_int_equal(ike_cert_verify_chain(rsa, srv, NULL, 0, 1000000000, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_string_equal(why, "certificate is not yet valid");
  /* Intermediate: needed, and enough. */
  const ike_cert_peer_t *im[1] = {inter};
  assert_int_equal(ike_cert_verify_chain(rsa, leaf2, im, 1, 0, why, sizeof why), 0);
  assert_int_equal(ike_cert_verify_chain(rsa, leaf2, NULL, 0, 0, NULL, 0),
                   -IKE_E_UNTRUSTED);
  /* A store without CAs trusts nothing. */
  ike_cert_store_t *own = load("srv.crt", "srv.key", NULL);
  assert_int_equal(ike_cert_verify_chain(own, srv, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_int_equal(ike_cert_verify_chain(NULL, srv, NULL, 0, 0, NULL, 0),
                   -IKE_E_UNTRUSTED);

  ike_cert_store_free(own);
  ike_cert_peer_free(srv);
  ike_cert_peer_free(cli);
  ike_cert_peer_free(stranger);
  ike_cert_peer_free(leaf2);
  ike_cert_peer_free(inter);
  ike_cert_store_free(rsa);
  ike_cert_store_free(ec);
  ike_cert_store_free(both);
}

/* --- Signatures --- */

/* The three pieces signed in IKE (RFC 7296 2.15). */
static uint8_t msg[300], nonce[32], maced[32];
static const uint8_t *const pieces[3] = {msg, nonce, maced};
static const size_t plen[3] = {sizeof msg, sizeof nonce, sizeof maced};

static void fill(void)
{
  for (size_t i = 0; i < sizeof msg; i++) {
    msg[i] = (uint8_t)(i * 7 + 1);
  }
  memset(nonce, 0x42, sizeof nonce);
  memset(maced, 0x5a, sizeof maced);
}

/* Sign with (method, hash, pss), verify OK; flip a signature byte and a data
 * byte: both fail. Returns the AUTH length. */
static size_t round_trip(ike_cert_store_t *s, ike_cert_peer_t *p, uint8_t method,
                         uint8_t hash, int pss, uint8_t *auth)
{
  size_t len = 0;
  fill();
  assert_int_equal(ike_cert_sign_method(s, method, hash, pss, pieces, plen, 3, auth,
                                        IKE_CERT_MAX_SIG, &len), 0);
  assert_true(len > 0);
  assert_int_equal(ike_cert_verify(p, method, auth, len, pieces, plen, 3), 0);
  auth[len - 1] ^= 0x01;
  assert_int_equal(ike_cert_verify(p, method, auth, len, pieces, plen, 3),
                   -IKE_E_BAD_SIGNATURE);
  auth[len - 1] ^= 0x01;
  msg[100] ^= 0x80;
  assert_int_equal(ike_cert_verify(p, method, auth, len, pieces, plen, 3),
                   -IKE_E_BAD_SIGNATURE);
  msg[100] ^= 0x80;
  return len;
}

static void test_sign_rsa(void **state)
{
  (void)state;
  ike_cert_store_t *s = load("srv.crt", "srv.key", NULL);
  ike_cert_peer_t *p = peer_of("srv.crt", "srv.key");
  ike_cert_peer_t *ec = peer_of("cli.crt", "cli.key");
  uint8_t auth[IKE_CERT_MAX_SIG];
  /* RSA_SIG: PKCS#1 v1.5 SHA-1, modulus-sized. */
  assert_int_equal(round_trip(s, p, IKE_AUTH_RSA_SIG, 0, 0, auth), 256);
  for (uint8_t h = IKE_HASH_SHA2_256; h <= IKE_HASH_SHA2_512; h++) {
    size_t len = round_trip(s, p, IKE_AUTH_DIGITAL_SIGNATURE, h, 0, auth);
    assert_int_equal(len, 1 + 15 + 256);
    /* RFC 7427 A.1: sha{256,384,512}WithRSAEncryption with NULL parameters. */
    static const uint8_t a256[16] = {0x0f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48,
                                     0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
    assert_memory_equal(auth, a256, 13);
    assert_int_equal(auth[13], 0x0b + (h - IKE_HASH_SHA2_256));
    assert_memory_equal(auth + 14, a256 + 14, 2);
    /* PSS with MGF1 and the same hash. */
    len = round_trip(s, p, IKE_AUTH_DIGITAL_SIGNATURE, h, 1, auth);
    assert_true(len > 1 + 15 + 256);
    assert_int_equal(auth[3], 0x06); /* OID id-RSASSA-PSS 1.2.840.113549.1.1.10 */
    assert_int_equal(auth[13], 0x0a);
  }
  /* Method 1 signature checked against an EC certificate: refused. */
  round_trip(s, p, IKE_AUTH_RSA_SIG, 0, 0, auth);
  assert_int_equal(ike_cert_verify(ec, IKE_AUTH_RSA_SIG, auth, 256, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  /* An RSA key cannot sign ECDSA methods. */
  size_t len;
  assert_int_equal(ike_cert_sign_method(s, IKE_AUTH_ECDSA_256, 0, 0, pieces, plen, 3,
                                        auth, sizeof auth, &len), -IKE_E_UNSUPPORTED);
  assert_int_equal(ike_cert_sign_method(s, IKE_AUTH_DIGITAL_SIGNATURE, IKE_HASH_SHA1,
                                        0, pieces, plen, 3, auth, sizeof auth, &len),
                   -IKE_E_UNSUPPORTED);
  ike_cert_peer_free(ec);
  ike_cert_peer_free(p);
  ike_cert_store_free(s);
}

static void test_sign_ecdsa(void **state)
{
  (void)state;
  static const struct {
    const char *crt, *key;
    uint8_t method;
    size_t rs_len;
  } ks[] = {{"cli.crt", "cli.key", IKE_AUTH_ECDSA_256, 64},
            {"c384.crt", "c384.key", IKE_AUTH_ECDSA_384, 96},
            {"c521.crt", "c521.key", IKE_AUTH_ECDSA_521, 132}};
  uint8_t auth[IKE_CERT_MAX_SIG];
  for (size_t k = 0; k < 3; k++) {
    ike_cert_store_t *s = load(ks[k].crt, ks[k].key, NULL);
    ike_cert_peer_t *p = peer_of(ks[k].crt, ks[k].key);
    /* RFC 4754 7: r|s of fixed size. */
    assert_int_equal(round_trip(s, p, ks[k].method, 0, 0, auth), ks[k].rs_len);
    for (uint8_t h = IKE_HASH_SHA2_256; h <= IKE_HASH_SHA2_512; h++) {
      round_trip(s, p, IKE_AUTH_DIGITAL_SIGNATURE, h, 0, auth);
      /* RFC 7427 A.3: ecdsa-with-SHA256 = 1.2.840.10045.4.3.2, no params. */
      static const uint8_t a256[13] = {0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
      assert_memory_equal(auth, a256, 12);
      assert_int_equal(auth[12], 0x02 + (h - IKE_HASH_SHA2_256));
      assert_int_equal(auth[13], 0x30); /* DER Ecdsa-Sig-Value */
    }
    /* Wrong classic method for the curve, both ways. */
    uint8_t other = ks[k].method == IKE_AUTH_ECDSA_256 ? IKE_AUTH_ECDSA_384
                                                       : IKE_AUTH_ECDSA_256;
    size_t len;
    assert_int_equal(ike_cert_sign_method(s, other, 0, 0, pieces, plen, 3, auth,
                                          sizeof auth, &len), -IKE_E_UNSUPPORTED);
    round_trip(s, p, ks[k].method, 0, 0, auth);
    assert_int_equal(ike_cert_verify(p, other, auth, ks[k].rs_len, pieces, plen, 3),
                     -IKE_E_UNSUPPORTED);
    assert_int_equal(ike_cert_sign_method(s, IKE_AUTH_RSA_SIG, 0, 0, pieces, plen, 3,
                                          auth, sizeof auth, &len), -IKE_E_UNSUPPORTED);
    ike_cert_peer_free(p);
    ike_cert_store_free(s);
  }
}

static size_t read_file(const char *name, uint8_t *buf, size_t cap)
{
  FILE *f = fopen(path(name), "rb");
  assert_non_null(f);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

/* Signatures made by the openssl CLI (an independent signer) verify, framed
 * as the AUTH data of each method with the AlgorithmIdentifiers of RFC 7427
 * Appendix A; the r|s form of RFC 4754 is cut from the CLI's DER. */
static void test_cli_signatures(void **state)
{
  (void)state;
  static const uint8_t a_rsa256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
  static const uint8_t a_ecdsa384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                       0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
  /* RSASSA-PSS: SHA-256, MGF1 with SHA-256, salt 32 (RFC 4055 3.1). */
  static const uint8_t a_pss[] = {
      0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
      0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
      0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a,
      0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60,
      0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02,
      0x01, 0x20};
  uint8_t m[300], sig[600], auth[700];
  for (int i = 0; i < 300; i++) {
    m[i] = (uint8_t)((i * 7 + 1) & 0xff);
  }
  const uint8_t *one[1] = {m};
  size_t ml[1] = {sizeof m};
  ike_cert_peer_t *srv = peer_of("srv.crt", "srv.key");
  ike_cert_peer_t *cli = peer_of("cli.crt", "cli.key");
  ike_cert_peer_t *c521 = peer_of("c521.crt", "c521.key");

  size_t n = read_file("srv1.sig", sig, sizeof sig);
  assert_int_equal(ike_cert_verify(srv, IKE_AUTH_RSA_SIG, sig, n, one, ml, 1), 0);
  const struct {
    ike_cert_peer_t *c;
    const char *file;
    const uint8_t *alg;
    size_t alen;
  } ds[] = {{srv, "srv256.sig", a_rsa256, sizeof a_rsa256},
            {srv, "srvpss.sig", a_pss, sizeof a_pss},
            {cli, "cli384.sig", a_ecdsa384, sizeof a_ecdsa384}};
  for (size_t i = 0; i < 3; i++) {
    n = read_file(ds[i].file, sig, sizeof sig);
    auth[0] = (uint8_t)ds[i].alen;
    memcpy(auth + 1, ds[i].alg, ds[i].alen);
    memcpy(auth + 1 + ds[i].alen, sig, n);
    assert_int_equal(ike_cert_verify(ds[i].c, 14, auth, 1 + ds[i].alen + n, one, ml, 1),
                     0);
    m[0] ^= 1;
    assert_int_equal(ike_cert_verify(ds[i].c, 14, auth, 1 + ds[i].alen + n, one, ml, 1),
                     -IKE_E_BAD_SIGNATURE);
    m[0] ^= 1;
  }
  /* P-521 DER -> r|s (66 bytes each) for method 11. */
  n = read_file("c521.sig", sig, sizeof sig);
  size_t i = 2 + ((sig[1] & 0x80) ? (sig[1] & 0x7f) : 0);
  uint8_t rs[132];
  memset(rs, 0, sizeof rs);
  for (int k = 0; k < 2; k++) {
    assert_int_equal(sig[i], 0x02);
    size_t l = sig[i + 1];
    const uint8_t *v = sig + i + 2;
    while (l > 66) { /* leading zero of a positive INTEGER */
      v++;
      l--;
    }
    memcpy(rs + 66 * k + (66 - l), v, l);
    i += 2 + sig[i + 1];
  }
  assert_int_equal(ike_cert_verify(c521, IKE_AUTH_ECDSA_521, rs, sizeof rs, one, ml, 1),
                   0);
  rs[70] ^= 0x10;
  assert_int_equal(ike_cert_verify(c521, IKE_AUTH_ECDSA_521, rs, sizeof rs, one, ml, 1),
                   -IKE_E_BAD_SIGNATURE);
  ike_cert_peer_free(srv);
  ike_cert_peer_free(cli);
  ike_cert_peer_free(c521);
}

/* ike_cert_sign picks the method from the peer's SIGNATURE_HASH_ALGORITHMS. */
static void test_sign_choice(void **state)
{
  (void)state;
  ike_cert_store_t *rsa = load("srv.crt", "srv.key", NULL);
  ike_cert_store_t *ec = load("c384.crt", "c384.key", NULL);
  ike_cert_peer_t *prsa = peer_of("srv.crt", "srv.key");
  ike_cert_peer_t *pec = peer_of("c384.crt", "c384.key");
  uint8_t auth[IKE_CERT_MAX_SIG], m = 0;
  size_t len = 0;
  const uint8_t all = IKE_CERT_HASH_BIT(IKE_HASH_SHA2_256) |
                      IKE_CERT_HASH_BIT(IKE_HASH_SHA2_384) |
                      IKE_CERT_HASH_BIT(IKE_HASH_SHA2_512);
  fill();
  assert_int_equal(ike_cert_sign(rsa, 0, 0, pieces, plen, 3, &m, auth, sizeof auth,
                                 &len), 0);
  assert_int_equal(m, IKE_AUTH_RSA_SIG);
  assert_int_equal(ike_cert_sign(rsa, IKE_CERT_HASH_BIT(IKE_HASH_SHA1), 0, pieces, plen,
                                 3, &m, auth, sizeof auth, &len), 0);
  assert_int_equal(m, IKE_AUTH_RSA_SIG);
  assert_int_equal(ike_cert_sign(rsa, all, 0, pieces, plen, 3, &m, auth, sizeof auth,
                                 &len), 0);
  assert_int_equal(m, IKE_AUTH_DIGITAL_SIGNATURE);
  assert_int_equal(auth[13], 0x0b); /* sha256WithRSAEncryption */
  assert_int_equal(ike_cert_verify(prsa, m, auth, len, pieces, plen, 3), 0);
  assert_int_equal(ike_cert_sign(rsa, IKE_CERT_HASH_BIT(IKE_HASH_SHA2_512), 0, pieces,
                                 plen, 3, &m, auth, sizeof auth, &len), 0);
  assert_int_equal(auth[13], 0x0d); /* sha512WithRSAEncryption */
  assert_int_equal(ike_cert_sign(ec, 0, 0, pieces, plen, 3, &m, auth, sizeof auth,
                                 &len), 0);
  assert_int_equal(m, IKE_AUTH_ECDSA_384);
  assert_int_equal(ike_cert_verify(pec, m, auth, len, pieces, plen, 3), 0);
  assert_int_equal(ike_cert_sign(ec, all, 0, pieces, plen, 3, &m, auth, sizeof auth,
                                 &len), 0);
  assert_int_equal(m, IKE_AUTH_DIGITAL_SIGNATURE);
  assert_int_equal(auth[12], 0x03); /* ecdsa-with-SHA384 for P-384 */
  assert_int_equal(ike_cert_verify(pec, m, auth, len, pieces, plen, 3), 0);
  /* No key: refused. */
  ike_cert_store_t *ca = load(NULL, NULL, "cas.crt");
  assert_int_equal(ike_cert_sign(ca, all, 0, pieces, plen, 3, &m, auth, sizeof auth,
                                 &len), -IKE_E_UNTRUSTED);
  ike_cert_store_free(ca);
  ike_cert_peer_free(prsa);
  ike_cert_peer_free(pec);
  ike_cert_store_free(rsa);
  ike_cert_store_free(ec);
}

/* --- Identities --- */

static void test_id_match(void **state)
{
  (void)state;
  ike_cert_peer_t *srv = peer_of("srv.crt", "srv.key");
  ike_cert_peer_t *cli = peer_of("cli.crt", "cli.key");
  uint8_t v4[4], v6[16], other4[4];
  inet_pton(AF_INET, "192.0.2.1", v4);
  inet_pton(AF_INET, "192.0.2.2", other4);
  inet_pton(AF_INET6, "2001:db8::1", v6);
  /* DER of the server's subject, from its own ID. */
  ike_cert_store_t *s = load("srv.crt", "srv.key", NULL);
  uint8_t dn[256], type = 0;
  size_t dn_len = 0;
  assert_int_equal(ike_cert_own_id(s, NULL, &type, dn, sizeof dn, &dn_len), 0);
  assert_int_equal(type, IKE_ID_DER_ASN1_DN);
  static const struct {
    int which; /* 0 srv, 1 cli */
    uint8_t type;
    const char *id;
    int len; /* -1: strlen */
    int want;
  } rows[] = {
      {0, IKE_ID_FQDN, "gw.example.net", -1, 0},
      {0, IKE_ID_FQDN, "VPN.Example.NET", -1, 0},          /* case-insensitive */
      {0, IKE_ID_FQDN, "gw.example.ne", -1, -IKE_E_ID_MISMATCH},
      {0, IKE_ID_FQDN, "gw.example.net.", -1, -IKE_E_ID_MISMATCH},
      {0, IKE_ID_FQDN, "", -1, -IKE_E_ID_MISMATCH},
      {0, IKE_ID_FQDN, "client.example.net", -1, -IKE_E_ID_MISMATCH},
      {0, IKE_ID_RFC822_ADDR, "gw@example.net", -1, 0},
      {0, IKE_ID_RFC822_ADDR, "gw.example.net", -1, -IKE_E_ID_MISMATCH},
      {0, IKE_ID_FQDN, "gw@example.net", -1, -IKE_E_ID_MISMATCH}, /* wrong SAN kind */
      {1, IKE_ID_RFC822_ADDR, "alice@example.net", -1, 0},
      {1, IKE_ID_FQDN, "client.example.net", -1, 0},
      {1, IKE_ID_FQDN, "client", -1, -IKE_E_ID_MISMATCH}, /* CN is not a SAN */
      {1, IKE_ID_KEY_ID, "client.example.net", -1, -IKE_E_ID_MISMATCH},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = rows[i].len < 0 ? strlen(rows[i].id) : (size_t)rows[i].len;
    int rc = ike_cert_id_match(rows[i].which ? cli : srv, rows[i].type,
                               (const uint8_t *)rows[i].id, n);
    if (rc != rows[i].want) {
      fail_msg("row %zu (%s): got %d want %d", i, rows[i].id, rc, rows[i].want);
    }
  }
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_IPV4_ADDR, v4, 4), 0);
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_IPV4_ADDR, other4, 4),
                   -IKE_E_ID_MISMATCH);
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_IPV4_ADDR, v4, 3), -IKE_E_ID_MISMATCH);
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_IPV6_ADDR, v6, 16), 0);
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_IPV6_ADDR, v6, 4), -IKE_E_ID_MISMATCH);
  assert_int_equal(ike_cert_id_match(cli, IKE_ID_IPV4_ADDR, v4, 4), -IKE_E_ID_MISMATCH);
  /* DN: equal subject only; trailing or truncated DER refused. */
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_DER_ASN1_DN, dn, dn_len), 0);
  assert_int_equal(ike_cert_id_match(cli, IKE_ID_DER_ASN1_DN, dn, dn_len),
                   -IKE_E_ID_MISMATCH);
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_DER_ASN1_DN, dn, dn_len - 1),
                   -IKE_E_ID_MISMATCH);
  dn[dn_len] = 0;
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_DER_ASN1_DN, dn, dn_len + 1),
                   -IKE_E_ID_MISMATCH);
  assert_int_equal(ike_cert_id_match(srv, IKE_ID_DER_ASN1_DN, dn, 0), -IKE_E_ID_MISMATCH);
  ike_cert_store_free(s);
  ike_cert_peer_free(srv);
  ike_cert_peer_free(cli);
}

static void test_own_id(void **state)
{
  (void)state;
  ike_cert_store_t *s = load("srv.crt", "srv.key", NULL);
  uint8_t buf[256], type = 0;
  size_t len = 0;
  ike_cfg_id_t id = {IKE_ID_FQDN, "vpn.example.net"};
  assert_int_equal(ike_cert_own_id(s, &id, &type, buf, sizeof buf, &len), 0);
  assert_int_equal(type, IKE_ID_FQDN);
  assert_int_equal(len, 15);
  assert_memory_equal(buf, "vpn.example.net", 15);
  id = (ike_cfg_id_t){IKE_ID_FQDN, "other.example.net"};
  assert_int_equal(ike_cert_own_id(s, &id, &type, buf, sizeof buf, &len),
                   -IKE_E_ID_MISMATCH);
  id = (ike_cfg_id_t){IKE_ID_IPV4_ADDR, "192.0.2.1"};
  assert_int_equal(ike_cert_own_id(s, &id, &type, buf, sizeof buf, &len), 0);
  assert_int_equal(len, 4);
  assert_int_equal(buf[3], 1);
  id = (ike_cfg_id_t){IKE_ID_IPV6_ADDR, "2001:db8::1"};
  assert_int_equal(ike_cert_own_id(s, &id, &type, buf, sizeof buf, &len), 0);
  assert_int_equal(len, 16);
  /* DN text in either order gives the certificate's DER subject. */
  uint8_t dn[256];
  size_t dn_len = 0;
  assert_int_equal(ike_cert_own_id(s, NULL, &type, dn, sizeof dn, &dn_len), 0);
  const char *dns[] = {"C=CH, O=Example, CN=gw.example.net",
                       "CN=gw.example.net,O=Example,C=CH"};
  for (int i = 0; i < 2; i++) {
    id.type = IKE_ID_DER_ASN1_DN;
    snprintf(id.value, sizeof id.value, "%s", dns[i]);
    assert_int_equal(ike_cert_own_id(s, &id, &type, buf, sizeof buf, &len), 0);
    assert_int_equal(type, IKE_ID_DER_ASN1_DN);
    assert_int_equal(len, dn_len);
    assert_memory_equal(buf, dn, len);
  }
  id = (ike_cfg_id_t){IKE_ID_DER_ASN1_DN, "C=CH, O=Other, CN=gw.example.net"};
  assert_int_equal(ike_cert_own_id(s, &id, &type, buf, sizeof buf, &len),
                   -IKE_E_ID_MISMATCH);
  id = (ike_cfg_id_t){IKE_ID_DER_ASN1_DN, "garbage"};
  assert_int_equal(ike_cert_own_id(s, &id, &type, buf, sizeof buf, &len),
                   -IKE_E_ID_MISMATCH);
  /* Subject text for show output. */
  ike_cert_peer_t *p = peer_of("srv.crt", "srv.key");
  char text[128];
  ike_cert_peer_subject(p, text, sizeof text);
  assert_string_equal(text, "CN=gw.example.net,O=Example,C=CH");
  ike_cert_peer_free(p);
  ike_cert_store_free(s);
}

/* Start-up loading per template, with the local identity check. */
static void test_load_config(void **state)
{
  (void)state;
  static ike_config_t cfg;
  ike_cert_store_t *st[IKE_CFG_MAX_TEMPLATES];
  char err[512];
  ike_config_init(&cfg);
  cfg.n_templates = 2;
  ike_cfg_template_t *t = &cfg.templates[1];
  snprintf(t->name, sizeof t->name, "tmpl2");
  cfg.templates[0].auth_local = cfg.templates[0].auth_remote = IKE_CFG_AUTH_PSK;
  t->auth_local = t->auth_remote = IKE_CFG_AUTH_CERT;
  snprintf(t->cert_file, sizeof t->cert_file, "%s", path("srv.crt"));
  snprintf(t->key_file, sizeof t->key_file, "%s", path("srv.key"));
  snprintf(t->ca_file, sizeof t->ca_file, "%s", path("ecca.crt"));
  t->local_id = (ike_cfg_id_t){IKE_ID_FQDN, "gw.example.net"};
  assert_int_equal(ike_cert_load_config(&cfg, st, err, sizeof err), 0);
  assert_null(st[0]);
  assert_non_null(st[1]);
  assert_int_equal(ike_cert_own_count(st[1]), 1);
  ike_cert_free_config(st);
  assert_null(st[1]);

  t->local_id = (ike_cfg_id_t){IKE_ID_FQDN, "nope.example.net"};
  assert_int_not_equal(ike_cert_load_config(&cfg, st, err, sizeof err), 0);
  char want[512];
  snprintf(want, sizeof want,
           "%s: local identity fqdn nope.example.net is not contained in the certificate",
           path("srv.crt"));
  assert_string_equal(err, want);
  assert_null(st[1]);

  t->local_id.type = 0;
  snprintf(t->ca_file, sizeof t->ca_file, "%s", path("missing-ca.crt"));
  assert_int_not_equal(ike_cert_load_config(&cfg, st, err, sizeof err), 0);
  assert_non_null(strstr(err, "missing-ca.crt: cannot open"));
}

/* --- Extended key usage and CRLs --- */

/* RFC 4945 5.1.3.12 / RFC 5280 4.2.1.12: a peer (client) certificate with an
 * extendedKeyUsage must allow client authentication: id-kp-clientAuth,
 * anyExtendedKeyUsage or id-kp-ipsecIKE (RFC 4945); none at all is fine. */
static void test_chain_eku(void **state)
{
  (void)state;
  ike_cert_store_t *ec = load(NULL, NULL, "ecca.crt");
  const char *ok[] = {"cli", "ekucli", "ekuike", "ekuany"};
  char why[128];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    char crt[32], key[32];
    snprintf(crt, sizeof crt, "%s.crt", ok[i]);
    snprintf(key, sizeof key, "%s.key", ok[i]);
    ike_cert_peer_t *p = peer_of(crt, key);
    if (ike_cert_verify_chain(ec, p, NULL, 0, 0, why, sizeof why) != 0) {
      fail_msg("%s refused: %s", ok[i], why);
    }
    ike_cert_peer_free(p);
  }
  ike_cert_peer_t *srvonly = peer_of("ekusrv.crt", "ekusrv.key");
  assert_int_equal(ike_cert_verify_chain(ec, srvonly, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_non_null(strstr(why, "extended key usage"));
  ike_cert_peer_free(srvonly);
  ike_cert_store_free(ec);
}

/* CRLs from a file (RFC 5280 6.3): a revoked client is refused, the others
 * of that CA still pass; a CA without a CRL in the file fails closed. */
static void test_chain_crl(void **state)
{
  (void)state;
  char why[128], err[256];
  ike_cert_peer_t *cli = peer_of("cli.crt", "cli.key");
  ike_cert_peer_t *revoked = peer_of("revoked.crt", "revoked.key");
  ike_cert_peer_t *srv = peer_of("srv.crt", "srv.key");

  /* Without a CRL the revoked certificate still chains. */
  ike_cert_store_t *ec = load(NULL, NULL, "ecca.crt");
  assert_int_equal(ike_cert_verify_chain(ec, revoked, NULL, 0, 0, why, sizeof why), 0);
  ike_cert_store_free(ec);

  ec = load(NULL, NULL, "ecca.crt");
  assert_int_equal(ike_cert_store_add_crl(ec, path("ecca.crl"), err, sizeof err), 0);
  assert_int_equal(ike_cert_verify_chain(ec, cli, NULL, 0, 0, why, sizeof why), 0);
  assert_int_equal(ike_cert_verify_chain(ec, revoked, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_string_equal(why, "certificate revoked");
  ike_cert_store_free(ec);

  /* The same CRL in DER, as CAs publish them. */
  ec = load(NULL, NULL, "ecca.crt");
  assert_int_equal(ike_cert_store_add_crl(ec, path("ecca-crl.der"), err, sizeof err), 0);
  assert_int_equal(ike_cert_verify_chain(ec, revoked, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_int_equal(ike_cert_verify_chain(ec, cli, NULL, 0, 0, why, sizeof why), 0);
  ike_cert_store_free(ec);

  /* An older CRL (before the revocation) does not list it. */
  ec = load(NULL, NULL, "ecca.crt");
  assert_int_equal(ike_cert_store_add_crl(ec, path("ecca-empty.crl"), err, sizeof err), 0);
  assert_int_equal(ike_cert_verify_chain(ec, revoked, NULL, 0, 0, why, sizeof why), 0);
  ike_cert_store_free(ec);

  /* Both CAs trusted, a CRL only from the EC CA: the RSA CA's server
   * certificate has no CRL to be checked against and is refused. */
  ike_cert_store_t *both = load(NULL, NULL, "cas.crt");
  assert_int_equal(ike_cert_store_add_crl(both, path("ecca.crl"), err, sizeof err), 0);
  assert_int_equal(ike_cert_verify_chain(both, srv, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_int_equal(ike_cert_verify_chain(both, cli, NULL, 0, 0, why, sizeof why), 0);

  /* Bad files: "file: reason". */
  assert_int_not_equal(ike_cert_store_add_crl(both, path("garbage.pem"), err, sizeof err), 0);
  assert_non_null(strstr(err, "garbage.pem: "));
  assert_int_not_equal(ike_cert_store_add_crl(both, path("nope.crl"), err, sizeof err), 0);
  assert_non_null(strstr(err, "nope.crl: cannot open"));
  ike_cert_store_free(both);

  /* Through the configuration: "crl file PATH" of a template. */
  static ike_config_t cfg;
  ike_cert_store_t *st[IKE_CFG_MAX_TEMPLATES];
  ike_config_init(&cfg);
  cfg.n_templates = 1;
  ike_cfg_template_t *t = &cfg.templates[0];
  t->auth_local = IKE_CFG_AUTH_PSK;
  t->auth_remote = IKE_CFG_AUTH_CERT;
  snprintf(t->ca_file, sizeof t->ca_file, "%s", path("ecca.crt"));
  snprintf(t->crl_file, sizeof t->crl_file, "%s", path("ecca.crl"));
  assert_int_equal(ike_cert_load_config(&cfg, st, err, sizeof err), 0);
  assert_int_equal(ike_cert_verify_chain(st[0], revoked, NULL, 0, 0, why, sizeof why),
                   -IKE_E_UNTRUSTED);
  assert_int_equal(ike_cert_verify_chain(st[0], cli, NULL, 0, 0, why, sizeof why), 0);
  ike_cert_free_config(st);
  snprintf(t->crl_file, sizeof t->crl_file, "%s", path("missing.crl"));
  assert_int_not_equal(ike_cert_load_config(&cfg, st, err, sizeof err), 0);
  assert_non_null(strstr(err, "missing.crl: cannot open"));
  assert_null(st[0]);

  ike_cert_peer_free(cli);
  ike_cert_peer_free(revoked);
  ike_cert_peer_free(srv);
}

/* --- Malformed AUTH data --- */

static void test_malformed(void **state)
{
  (void)state;
  ike_cert_peer_t *rsa = peer_of("srv.crt", "srv.key");
  ike_cert_peer_t *ec = peer_of("cli.crt", "cli.key");
  ike_cert_store_t *srsa = load("srv.crt", "srv.key", NULL);
  uint8_t a[IKE_CERT_MAX_SIG];
  fill();
  /* Method 14: empty, zero / short AlgorithmIdentifier length, length past the
   * end, no signature after it. */
  assert_int_equal(ike_cert_verify(rsa, 14, a, 0, pieces, plen, 3), -IKE_E_TRUNC);
  a[0] = 0;
  assert_int_equal(ike_cert_verify(rsa, 14, a, 1, pieces, plen, 3), -IKE_E_TRUNC);
  a[0] = 200;
  assert_int_equal(ike_cert_verify(rsa, 14, a, 50, pieces, plen, 3), -IKE_E_TRUNC);
  size_t len = round_trip(srsa, rsa, 14, IKE_HASH_SHA2_256, 0, a);
  assert_int_equal(ike_cert_verify(rsa, 14, a, 16, pieces, plen, 3), -IKE_E_TRUNC);
  /* AlgorithmIdentifier length one short / one long: DER does not fit. */
  a[0] = 14;
  assert_int_equal(ike_cert_verify(rsa, 14, a, len, pieces, plen, 3), -IKE_E_BAD_SYNTAX);
  a[0] = 16;
  assert_int_equal(ike_cert_verify(rsa, 14, a, len, pieces, plen, 3), -IKE_E_BAD_SYNTAX);
  a[0] = 15;
  /* Garbage AlgorithmIdentifier. */
  uint8_t g[64];
  memset(g, 0xff, sizeof g);
  g[0] = 20;
  assert_int_equal(ike_cert_verify(rsa, 14, g, sizeof g, pieces, plen, 3),
                   -IKE_E_BAD_SYNTAX);
  /* Unknown and refused OIDs: sha1WithRSAEncryption (1.2.840.113549.1.1.5),
   * md5WithRSAEncryption (.4), an arbitrary OID 1.2.3.4. */
  uint8_t u[16 + 256];
  memcpy(u, a, len);
  u[13] = 0x05;
  assert_int_equal(ike_cert_verify(rsa, 14, u, len, pieces, plen, 3), -IKE_E_UNSUPPORTED);
  u[13] = 0x04;
  assert_int_equal(ike_cert_verify(rsa, 14, u, len, pieces, plen, 3), -IKE_E_UNSUPPORTED);
  static const uint8_t arb[] = {9, 0x30, 0x07, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x05, 0x00, 1};
  assert_int_equal(ike_cert_verify(rsa, 14, arb, sizeof arb, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  /* RSA PKCS#1 with parameters other than NULL. */
  static const uint8_t badp[] = {16, 0x30, 0x0e, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x01, 0x01, 0xff, 1};
  assert_int_equal(ike_cert_verify(rsa, 14, badp, sizeof badp, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  /* RSASSA-PSS with absent parameters (SHA-1 defaults): refused. */
  static const uint8_t pss0[] = {13, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                 0xf7, 0x0d, 0x01, 0x01, 0x0a, 1, 2, 3};
  assert_int_equal(ike_cert_verify(rsa, 14, pss0, sizeof pss0, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  /* An RSA signature against an EC certificate, and the reverse. */
  assert_int_equal(ike_cert_verify(ec, 14, a, len, pieces, plen, 3), -IKE_E_UNSUPPORTED);
  static const uint8_t ecsig[] = {12, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                  0x3d, 0x04, 0x03, 0x02, 0x30, 0x06, 0x02, 0x01,
                                  0x01, 0x02, 0x01, 0x01};
  assert_int_equal(ike_cert_verify(rsa, 14, ecsig, sizeof ecsig, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  /* ECDSA: well-formed but wrong DER sig; truncated DER sig; ECDSA OID with
   * parameters present. */
  assert_int_equal(ike_cert_verify(ec, 14, ecsig, sizeof ecsig, pieces, plen, 3),
                   -IKE_E_BAD_SIGNATURE);
  assert_int_equal(ike_cert_verify(ec, 14, ecsig, sizeof ecsig - 3, pieces, plen, 3),
                   -IKE_E_BAD_SIGNATURE);
  static const uint8_t ecp[] = {14, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                0x3d, 0x04, 0x03, 0x02, 0x05, 0x00, 0x30, 0x00};
  assert_int_equal(ike_cert_verify(ec, 14, ecp, sizeof ecp, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  /* Classic ECDSA: wrong length, all-zero r|s. */
  memset(g, 0, sizeof g);
  assert_int_equal(ike_cert_verify(ec, IKE_AUTH_ECDSA_256, g, 63, pieces, plen, 3),
                   -IKE_E_BAD_LENGTH);
  assert_int_equal(ike_cert_verify(ec, IKE_AUTH_ECDSA_256, g, 64, pieces, plen, 3),
                   -IKE_E_BAD_SIGNATURE);
  /* RSA_SIG: short signature, garbage. */
  assert_int_equal(ike_cert_verify(rsa, IKE_AUTH_RSA_SIG, g, 64, pieces, plen, 3),
                   -IKE_E_BAD_SIGNATURE);
  /* Methods we do not verify with certificates. */
  assert_int_equal(ike_cert_verify(rsa, IKE_AUTH_SHARED_KEY_MIC, g, 32, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  assert_int_equal(ike_cert_verify(rsa, IKE_AUTH_DSS_SIG, g, 40, pieces, plen, 3),
                   -IKE_E_UNSUPPORTED);
  /* Certificates that do not parse. */
  ike_cert_peer_t *bad = NULL;
  assert_int_equal(ike_cert_peer_parse(g, sizeof g, &bad), -IKE_E_UNTRUSTED);
  assert_null(bad);
  const uint8_t *der;
  size_t dl;
  assert_int_equal(ike_cert_own_der(srsa, 0, &der, &dl), 0);
  assert_int_equal(ike_cert_peer_parse(der, dl - 1, &bad), -IKE_E_UNTRUSTED);
  uint8_t longer[4096];
  memcpy(longer, der, dl);
  longer[dl] = 0;
  assert_int_equal(ike_cert_peer_parse(longer, dl + 1, &bad), -IKE_E_UNTRUSTED);
  assert_int_equal(ike_cert_own_der(srsa, 1, &der, &dl), -IKE_E_BAD_SYNTAX);
  ike_cert_store_free(srsa);
  ike_cert_peer_free(rsa);
  ike_cert_peer_free(ec);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_errors), cmocka_unit_test(test_certreq),
      cmocka_unit_test(test_chain),       cmocka_unit_test(test_sign_rsa),
      cmocka_unit_test(test_sign_ecdsa),  cmocka_unit_test(test_sign_choice),
      cmocka_unit_test(test_cli_signatures),
      cmocka_unit_test(test_id_match),    cmocka_unit_test(test_own_id),
      cmocka_unit_test(test_load_config), cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_chain_eku),   cmocka_unit_test(test_chain_crl),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
