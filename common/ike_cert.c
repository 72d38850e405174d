/*
 * ike_cert.c - certificate store (PEM loading), peer certificates, chain
 * verification and identity matching (RFC 7296 3.5, 3.6, 3.7).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ike_cert_int.h"
#include "ike_crypto.h"
#include "ike_crypto_int.h"
#include "ike_wire.h"

/* --- Shared helpers --- */

const EVP_MD *ike_cert_md(uint8_t hash)
{
  if (!ike_crypto_ready() && ike_crypto_init() != 0) {
    return NULL;
  }
  switch (hash) {
  case IKE_HASH_SHA1:
    return ike_ci_md(IKE_CI_MD_SHA1);
  case IKE_HASH_SHA2_256:
    return ike_ci_md(IKE_CI_MD_SHA256);
  case IKE_HASH_SHA2_384:
    return ike_ci_md(IKE_CI_MD_SHA384);
  case IKE_HASH_SHA2_512:
    return ike_ci_md(IKE_CI_MD_SHA512);
  default:
    return NULL;
  }
}

ike_cert_key_t ike_cert_key_class(const EVP_PKEY *k)
{
  if (k == NULL) {
    return IKE_CERT_KEY_NONE;
  }
  if (EVP_PKEY_is_a(k, "RSA")) {
    return EVP_PKEY_get_bits(k) >= 1024 ? IKE_CERT_KEY_RSA : IKE_CERT_KEY_NONE;
  }
  if (!EVP_PKEY_is_a(k, "EC")) {
    return IKE_CERT_KEY_NONE;
  }
  char curve[64];
  size_t n = 0;
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                     sizeof curve, &n) != 1) {
    return IKE_CERT_KEY_NONE;
  }
  if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0) {
    return IKE_CERT_KEY_P256;
  }
  if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0) {
    return IKE_CERT_KEY_P384;
  }
  if (strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0) {
    return IKE_CERT_KEY_P521;
  }
  return IKE_CERT_KEY_NONE;
}

static int set_err(char *err, size_t errlen, const char *file, const char *fmt, ...)
{
  if (err != NULL && errlen > 0) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", file, why);
  }
  return -IKE_E_UNTRUSTED;
}

/* The reason of the newest OpenSSL error, or a fallback text. */
static const char *ssl_reason(const char *fallback)
{
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  return r ? r : fallback;
}

/* Open a PEM file as a BIO; NULL with err set. */
static BIO *open_pem(const char *file, char *err, size_t errlen)
{
  FILE *f = fopen(file, "r");
  if (f == NULL) {
    set_err(err, errlen, file, "cannot open: %s", strerror(errno));
    return NULL;
  }
  BIO *b = BIO_new_fp(f, BIO_CLOSE);
  if (b == NULL) {
    fclose(f);
    set_err(err, errlen, file, "out of memory");
  }
  return b;
}

/* Read every certificate of a PEM file into xs[0..cap); returns the count
 * (0 = none, with err set), or -1 if the file holds more than cap or a bad
 * PEM block. */
static int read_certs(const char *file, X509 **xs, unsigned cap, char *err,
                      size_t errlen)
{
  BIO *b = open_pem(file, err, errlen);
  if (b == NULL) {
    return -1;
  }
  int n = 0;
  ERR_clear_error();
  for (;;) {
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (x == NULL) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error(); /* end of file */
        break;
      }
      set_err(err, errlen, file, "bad certificate: %s", ssl_reason("parse error"));
      goto fail;
    }
    if ((unsigned)n == cap) {
      X509_free(x);
      set_err(err, errlen, file, "more than %u certificates", cap);
      goto fail;
    }
    xs[n++] = x;
  }
  BIO_free(b);
  if (n == 0) {
    set_err(err, errlen, file, "no PEM certificate found");
  }
  return n;
fail:
  BIO_free(b);
  while (n > 0) {
    X509_free(xs[--n]);
  }
  return -1;
}

static int to_der(X509 *x, uint8_t **der, size_t *len)
{
  unsigned char *p = NULL;
  int n = i2d_X509(x, &p);
  if (n <= 0) {
    return -IKE_E_CRYPTO;
  }
  *der = p;
  *len = (size_t)n;
  return 0;
}

/* --- Store --- */

static int load_own(ike_cert_store_t *s, const char *cert_file, char *err,
                    size_t errlen)
{
  X509 *xs[IKE_CERT_MAX_CHAIN];
  int n = read_certs(cert_file, xs, IKE_CERT_MAX_CHAIN, err, errlen);
  if (n <= 0) {
    return -IKE_E_UNTRUSTED;
  }
  s->own.x = xs[0];
  s->own.pub = X509_get0_pubkey(xs[0]);
  for (int i = 1; i < n; i++) {
    s->chain[s->n_chain++] = xs[i];
  }
  if (ike_cert_key_class(s->own.pub) == IKE_CERT_KEY_NONE) {
    return set_err(err, errlen, cert_file,
                   "unsupported public key (RSA >= 1024 bits or EC P-256/384/521)");
  }
  for (unsigned i = 0; i < 1 + s->n_chain; i++) {
    if (to_der(i == 0 ? s->own.x : s->chain[i - 1], &s->der[i], &s->der_len[i]) != 0) {
      return set_err(err, errlen, cert_file, "cannot encode certificate");
    }
  }
  return 0;
}

static int load_key(ike_cert_store_t *s, const char *key_file, const char *cert_file,
                    char *err, size_t errlen)
{
  BIO *b = open_pem(key_file, err, errlen);
  if (b == NULL) {
    return -IKE_E_UNTRUSTED;
  }
  ERR_clear_error();
  s->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
  BIO_free(b);
  if (s->key == NULL) {
    return set_err(err, errlen, key_file, "bad private key: %s",
                   ssl_reason("no PEM private key found"));
  }
  if (ike_cert_key_class(s->key) == IKE_CERT_KEY_NONE) {
    return set_err(err, errlen, key_file,
                   "unsupported key type (RSA >= 1024 bits or EC P-256/384/521)");
  }
  if (s->own.x != NULL && X509_check_private_key(s->own.x, s->key) != 1) {
    ERR_clear_error();
    return set_err(err, errlen, key_file, "private key does not match %s",
                   cert_file);
  }
  return 0;
}

/* SHA-1 of a certificate's DER SubjectPublicKeyInfo (RFC 7296 3.7). */
static int spki_sha1(X509 *x, uint8_t out[20])
{
  unsigned char *der = NULL;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
  const EVP_MD *md = ike_cert_md(IKE_HASH_SHA1);
  unsigned int olen = 0;
  int ok = n > 0 && md != NULL &&
           EVP_Digest(der, (size_t)n, out, &olen, md, NULL) == 1 && olen == 20;
  OPENSSL_free(der);
  return ok ? 0 : -IKE_E_CRYPTO;
}

static int load_cas(ike_cert_store_t *s, const char *ca_file, char *err, size_t errlen)
{
  X509 *xs[IKE_CERT_MAX_CAS];
  int n = read_certs(ca_file, xs, IKE_CERT_MAX_CAS, err, errlen);
  if (n <= 0) {
    return -IKE_E_UNTRUSTED;
  }
  int rc = 0;
  s->cas = X509_STORE_new();
  for (int i = 0; i < n; i++) {
    if (rc == 0 && (s->cas == NULL || X509_STORE_add_cert(s->cas, xs[i]) != 1 ||
                    spki_sha1(xs[i], s->ca_hash[s->n_cas]) != 0)) {
      rc = set_err(err, errlen, ca_file, "cannot add CA certificate %d: %s", i + 1,
                   ssl_reason("error"));
    }
    s->n_cas += rc == 0;
    X509_free(xs[i]); /* the store holds its own reference */
  }
  return rc;
}

static bool set(const char *s)
{
  return s != NULL && s[0] != '\0';
}

int ike_cert_store_load(const char *cert_file, const char *key_file,
                        const char *ca_file, ike_cert_store_t **out, char *err,
                        size_t errlen)
{
  *out = NULL;
  if (!ike_crypto_ready() && ike_crypto_init() != 0) {
    return set_err(err, errlen, "crypto", "initialisation failed");
  }
  if (set(key_file) && !set(cert_file)) {
    return set_err(err, errlen, key_file, "private key without a certificate file");
  }
  ike_cert_store_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    return -IKE_E_NOMEM;
  }
  int rc = 0;
  if (set(cert_file)) {
    rc = load_own(s, cert_file, err, errlen);
    if (rc == 0 && !set(key_file)) {
      rc = set_err(err, errlen, cert_file, "no private-key file configured");
    }
    if (rc == 0) {
      rc = load_key(s, key_file, cert_file, err, errlen);
    }
  }
  if (rc == 0 && set(ca_file)) {
    rc = load_cas(s, ca_file, err, errlen);
  }
  ERR_clear_error();
  if (rc != 0) {
    ike_cert_store_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void ike_cert_store_free(ike_cert_store_t *s)
{
  if (s == NULL) {
    return;
  }
  X509_free(s->own.x);
  for (unsigned i = 0; i < s->n_chain; i++) {
    X509_free(s->chain[i]);
  }
  for (unsigned i = 0; i < IKE_CERT_MAX_CHAIN; i++) {
    OPENSSL_free(s->der[i]);
  }
  EVP_PKEY_free(s->key); /* wipes the private key */
  X509_STORE_free(s->cas);
  free(s);
}

int ike_cert_store_add_crl(ike_cert_store_t *s, const char *crl_file, char *err,
                           size_t errlen)
{
  if (s == NULL || s->cas == NULL) {
    return set_err(err, errlen, crl_file, "CRL without a ca-certificate file");
  }
  BIO *b = open_pem(crl_file, err, errlen);
  if (b == NULL) {
    return -IKE_E_UNTRUSTED;
  }
  int rc = 0, n = 0;
  ERR_clear_error();
  for (;;) {
    X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
    if (crl == NULL) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
        rc = set_err(err, errlen, crl_file, "bad CRL: %s", ssl_reason("parse error"));
      }
      break;
    }
    if (X509_STORE_add_crl(s->cas, crl) != 1) {
      rc = set_err(err, errlen, crl_file, "cannot add CRL %d: %s", n + 1,
                   ssl_reason("error"));
    }
    X509_CRL_free(crl); /* the store holds its own reference */
    n++;
    if (rc != 0) {
      break;
    }
  }
  if (rc == 0 && n == 0) {
    /* No PEM block: maybe a single DER CRL (as CAs publish them). */
    ERR_clear_error();
    X509_CRL *crl = (BIO_reset(b) == 0) ? d2i_X509_CRL_bio(b, NULL) : NULL;
    if (crl == NULL || X509_STORE_add_crl(s->cas, crl) != 1) {
      rc = set_err(err, errlen, crl_file, "no CRL found (PEM or DER)");
    }
    X509_CRL_free(crl);
  }
  BIO_free(b);
  /* Check the peer's certificate (RFC 5280 6.3); the CAs are our own
   * configuration. Fail closed: no CRL for its issuer = refused. */
  if (rc == 0 && X509_STORE_set_flags(s->cas, X509_V_FLAG_CRL_CHECK) != 1) {
    rc = set_err(err, errlen, crl_file, "cannot enable CRL checking");
  }
  ERR_clear_error();
  return rc;
}

int ike_cert_load_config(const ike_config_t *cfg,
                         ike_cert_store_t *stores[IKE_CFG_MAX_TEMPLATES],
                         char *err, size_t errlen)
{
  for (unsigned i = 0; i < IKE_CFG_MAX_TEMPLATES; i++) {
    stores[i] = NULL;
  }
  for (unsigned i = 0; i < cfg->n_templates && i < IKE_CFG_MAX_TEMPLATES; i++) {
    const ike_cfg_template_t *t = &cfg->templates[i];
    bool local = t->auth_local == IKE_CFG_AUTH_CERT;
    bool remote = t->auth_remote == IKE_CFG_AUTH_CERT;
    if (!local && !remote) {
      continue;
    }
    int rc = ike_cert_store_load(local ? t->cert_file : NULL, local ? t->key_file : NULL,
                                 remote ? t->ca_file : NULL, &stores[i], err, errlen);
    if (rc == 0 && remote && t->crl_file[0] != '\0' && stores[i]->cas != NULL) {
      rc = ike_cert_store_add_crl(stores[i], t->crl_file, err, errlen);
    }
    if (rc == 0 && local && stores[i]->own.x == NULL) {
      rc = set_err(err, errlen, t->name, "authentication local certificate needs "
                                          "certificate file and private-key file");
    }
    if (rc == 0 && remote && stores[i]->cas == NULL) {
      rc = set_err(err, errlen, t->name, "authentication remote certificate needs "
                                          "ca-certificate file");
    }
    uint8_t type, buf[IKE_CFG_ID_MAX];
    size_t len;
    if (rc == 0 && local && t->local_id.type != 0 &&
        ike_cert_own_id(stores[i], &t->local_id, &type, buf, sizeof buf, &len) != 0) {
      rc = set_err(err, errlen, t->cert_file,
                   "local identity %s %s is not contained in the certificate",
                   ike_cfg_id_type_name(t->local_id.type), t->local_id.value);
    }
    if (rc != 0) {
      ike_cert_free_config(stores);
      return rc;
    }
  }
  return 0;
}

void ike_cert_free_config(ike_cert_store_t *stores[IKE_CFG_MAX_TEMPLATES])
{
  for (unsigned i = 0; i < IKE_CFG_MAX_TEMPLATES; i++) {
    ike_cert_store_free(stores[i]);
    stores[i] = NULL;
  }
}

unsigned ike_cert_own_count(const ike_cert_store_t *s)
{
  return (s != NULL && s->own.x != NULL) ? 1 + s->n_chain : 0;
}

int ike_cert_own_der(const ike_cert_store_t *s, unsigned i, const uint8_t **der,
                     size_t *len)
{
  if (i >= ike_cert_own_count(s)) {
    return -IKE_E_BAD_SYNTAX;
  }
  *der = s->der[i];
  *len = s->der_len[i];
  return 0;
}

int ike_cert_certreq(const ike_cert_store_t *s, uint8_t *out, size_t cap, size_t *len)
{
  *len = 0;
  if (s == NULL) {
    return 0;
  }
  if (cap < 20u * s->n_cas) {
    return -IKE_E_NOSPACE;
  }
  for (unsigned i = 0; i < s->n_cas; i++) {
    memcpy(out + 20u * i, s->ca_hash[i], 20);
  }
  *len = 20u * s->n_cas;
  return 0;
}

/* --- Peer certificates --- */

int ike_cert_peer_parse(const uint8_t *der, size_t len, ike_cert_peer_t **out)
{
  *out = NULL;
  if (der == NULL || len == 0 || len > 65535) {
    return -IKE_E_UNTRUSTED;
  }
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (x == NULL || p != der + len || X509_get0_pubkey(x) == NULL) {
    X509_free(x);
    ERR_clear_error();
    return -IKE_E_UNTRUSTED;
  }
  ike_cert_peer_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    X509_free(x);
    return -IKE_E_NOMEM;
  }
  c->x = x;
  c->pub = X509_get0_pubkey(x);
  *out = c;
  return 0;
}

void ike_cert_peer_free(ike_cert_peer_t *p)
{
  if (p != NULL) {
    X509_free(p->x);
    free(p);
  }
}

/* RFC 5280 4.2.1.12, RFC 4945 5.1.3.12: the peer we verify is a client. A
 * certificate without extendedKeyUsage may be used for anything; one with it
 * must allow client authentication (id-kp-clientAuth), any use
 * (anyExtendedKeyUsage) or IKE (id-kp-ipsecIKE, RFC 4945). One that does not
 * parse, or appears twice, is refused. */
static bool eku_allows_client(X509 *x)
{
  int crit = 0;
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
  if (eku == NULL) {
    return crit == -1; /* -1: absent; -2: several; else undecodable */
  }
  bool ok = false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku) && !ok; i++) {
    int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
    ok = nid == NID_client_auth || nid == NID_anyExtendedKeyUsage || nid == NID_ipsec_IKE;
  }
  EXTENDED_KEY_USAGE_free(eku);
  return ok;
}

int ike_cert_verify_chain(const ike_cert_store_t *s, const ike_cert_peer_t *ee,
                          const ike_cert_peer_t *const *im, size_t n_im,
                          int64_t at, char *reason, size_t rlen)
{
  if (reason != NULL && rlen > 0) {
    reason[0] = '\0';
  }
  if (s == NULL || s->cas == NULL || ee == NULL) {
    if (reason != NULL && rlen > 0) {
      snprintf(reason, rlen, "no CA configured");
    }
    return -IKE_E_UNTRUSTED;
  }
  int rc = -IKE_E_UNTRUSTED;
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (untrusted == NULL || ctx == NULL) {
    rc = -IKE_E_NOMEM;
    goto done;
  }
  for (size_t i = 0; i < n_im; i++) {
    if (im[i] != NULL && sk_X509_push(untrusted, im[i]->x) <= 0) {
      rc = -IKE_E_NOMEM;
      goto done;
    }
  }
  if (X509_STORE_CTX_init(ctx, s->cas, ee->x, untrusted) != 1) {
    goto done;
  }
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
  if (at != 0) {
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
  }
  if (X509_verify_cert(ctx) == 1) {
    if (eku_allows_client(ee->x)) {
      rc = 0;
    } else if (reason != NULL && rlen > 0) {
      snprintf(reason, rlen, "extended key usage does not allow client "
                             "authentication (clientAuth, ipsecIKE or any)");
    }
  } else if (reason != NULL && rlen > 0) {
    snprintf(reason, rlen, "%s",
             X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
  }
done:
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted); /* the certificates belong to the peers */
  ERR_clear_error();
  return rc;
}

/* --- Identities --- */

static bool eq_nocase(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
  if (alen != blen) {
    return false;
  }
  for (size_t i = 0; i < alen; i++) {
    uint8_t x = a[i], y = b[i];
    x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
    y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
    if (x != y) {
      return false;
    }
  }
  return true;
}

/* 0 if a subjectAltName of kind gen_type equals the ID data. */
static int san_match(X509 *x, int gen_type, const uint8_t *id, size_t len, bool nocase)
{
  GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  int rc = -IKE_E_ID_MISMATCH;
  for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    const ASN1_STRING *v = GENERAL_NAME_get0_value(g, &type);
    if (type != gen_type || v == NULL) {
      continue;
    }
    const uint8_t *d = ASN1_STRING_get0_data(v);
    size_t n = (size_t)ASN1_STRING_length(v);
    if (nocase ? eq_nocase(d, n, id, len) : (n == len && memcmp(d, id, n) == 0)) {
      rc = 0;
      break;
    }
  }
  GENERAL_NAMES_free(names);
  ERR_clear_error();
  return rc;
}

static int dn_match(X509 *x, const uint8_t *id, size_t len)
{
  if (len == 0 || len > 65535) {
    return -IKE_E_ID_MISMATCH;
  }
  const unsigned char *p = id;
  X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)len);
  int rc = -IKE_E_ID_MISMATCH;
  if (n != NULL && p == id + len && X509_NAME_cmp(n, X509_get_subject_name(x)) == 0) {
    rc = 0;
  }
  X509_NAME_free(n);
  ERR_clear_error();
  return rc;
}

int ike_cert_id_match(const ike_cert_peer_t *c, uint8_t id_type, const uint8_t *id,
                      size_t len)
{
  if (c == NULL || c->x == NULL || (id == NULL && len > 0)) {
    return -IKE_E_ID_MISMATCH;
  }
  switch (id_type) {
  case IKE_ID_FQDN:
    return san_match(c->x, GEN_DNS, id, len, true);
  case IKE_ID_RFC822_ADDR:
    return san_match(c->x, GEN_EMAIL, id, len, true);
  case IKE_ID_IPV4_ADDR:
    return len == 4 ? san_match(c->x, GEN_IPADD, id, len, false) : -IKE_E_ID_MISMATCH;
  case IKE_ID_IPV6_ADDR:
    return len == 16 ? san_match(c->x, GEN_IPADD, id, len, false) : -IKE_E_ID_MISMATCH;
  case IKE_ID_DER_ASN1_DN:
    return dn_match(c->x, id, len);
  default:
    return -IKE_E_ID_MISMATCH;
  }
}

/* Parse "C=CH, O=Example, CN=gw" (RDNs in encoding order, no escapes) into a
 * name; reversed = build it in the opposite order (RFC 4514 order). */
static X509_NAME *dn_from_text(const char *text, bool reversed)
{
  char buf[IKE_CFG_ID_MAX];
  char *parts[32];
  unsigned n = 0;
  snprintf(buf, sizeof buf, "%s", text);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL && n < 32;
       tok = strtok_r(NULL, ",", &save)) {
    parts[n++] = tok;
  }
  X509_NAME *name = X509_NAME_new();
  for (unsigned k = 0; name != NULL && k < n; k++) {
    char *rdn = parts[reversed ? n - 1 - k : k];
    while (*rdn == ' ') {
      rdn++;
    }
    char *eq = strchr(rdn, '=');
    if (eq == NULL || eq == rdn) {
      X509_NAME_free(name);
      return NULL;
    }
    *eq = '\0';
    for (char *e = eq - 1; e > rdn && *e == ' '; e--) {
      *e = '\0';
    }
    if (X509_NAME_add_entry_by_txt(name, rdn, MBSTRING_UTF8,
                                   (const unsigned char *)eq + 1, -1, -1, 0) != 1) {
      X509_NAME_free(name);
      return NULL;
    }
  }
  return name;
}

static int subject_der(X509 *x, uint8_t *buf, size_t cap, size_t *len)
{
  int n = i2d_X509_NAME(X509_get_subject_name(x), NULL);
  if (n <= 0 || (size_t)n > cap) {
    return -IKE_E_NOSPACE;
  }
  unsigned char *p = buf;
  i2d_X509_NAME(X509_get_subject_name(x), &p);
  *len = (size_t)n;
  return 0;
}

static int own_dn_id(const ike_cert_store_t *s, const char *text, uint8_t *buf,
                     size_t cap, size_t *len)
{
  int rc = -IKE_E_ID_MISMATCH;
  for (int rev = 0; rev < 2 && rc != 0; rev++) {
    X509_NAME *n = dn_from_text(text, rev != 0);
    if (n != NULL && X509_NAME_cmp(n, X509_get_subject_name(s->own.x)) == 0) {
      rc = 0;
    }
    X509_NAME_free(n);
  }
  ERR_clear_error();
  return rc == 0 ? subject_der(s->own.x, buf, cap, len) : rc;
}

int ike_cert_own_id(const ike_cert_store_t *s, const ike_cfg_id_t *local_id,
                    uint8_t *type, uint8_t *buf, size_t cap, size_t *len)
{
  if (s == NULL || s->own.x == NULL) {
    return -IKE_E_UNTRUSTED;
  }
  if (local_id == NULL || local_id->type == 0) {
    *type = IKE_ID_DER_ASN1_DN;
    return subject_der(s->own.x, buf, cap, len);
  }
  *type = local_id->type;
  size_t n = strnlen(local_id->value, sizeof local_id->value);
  switch (local_id->type) {
  case IKE_ID_DER_ASN1_DN:
    return own_dn_id(s, local_id->value, buf, cap, len);
  case IKE_ID_IPV4_ADDR:
  case IKE_ID_IPV6_ADDR:
    n = local_id->type == IKE_ID_IPV4_ADDR ? 4 : 16;
    if (cap < 16 || inet_pton(local_id->type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6,
                              local_id->value, buf) != 1) {
      return -IKE_E_ID_MISMATCH;
    }
    break;
  case IKE_ID_FQDN:
  case IKE_ID_RFC822_ADDR:
    if (n > cap) {
      return -IKE_E_NOSPACE;
    }
    memcpy(buf, local_id->value, n);
    break;
  default:
    return -IKE_E_ID_MISMATCH;
  }
  *len = n;
  return ike_cert_id_match(&s->own, *type, buf, n);
}

void ike_cert_peer_subject(const ike_cert_peer_t *c, char *buf, size_t len)
{
  if (len == 0) {
    return;
  }
  buf[0] = '\0';
  if (c == NULL || c->x == NULL) {
    return;
  }
  BIO *b = BIO_new(BIO_s_mem());
  if (b == NULL) {
    return;
  }
  X509_NAME_print_ex(b, X509_get_subject_name(c->x), 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  int n = BIO_read(b, buf, (int)(len - 1));
  buf[n > 0 ? n : 0] = '\0';
  BIO_free(b);
}
