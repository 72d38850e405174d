/*
 * fuzz_cert_auth.c - libFuzzer harness for certificate AUTH verification
 * (ike_cert_verify: RFC 7296 3.8 methods 1, 9-11 and RFC 7427 method 14),
 * ID matching against a certificate and DER certificate parsing.
 *
 * Input: byte 0 bit 0 picks the fixed certificate (0 = RSA-2048, 1 = EC
 * P-256), bits 1-3 the AUTH method (1, 9, 10, 11, 14, 2, 3, 0); byte 1 is an
 * IKE ID type; the rest is the AUTH data, also matched as ID data and parsed
 * as a DER certificate. The signed octets are fixed (64 bytes i*7+1), so the
 * seeds in corpus/fuzz_cert_auth hold valid signatures made with the keys of
 * these certificates (openssl dgst -sign) to start near the accepting paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ike_cert.h"
#include "ike_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rsa_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDfjCCAmagAwIBAgIUXXG3GlinQ96IF80j9U41sx1ZERYwDQYJKoZIhvcNAQEL\n"
    "BQAwNTELMAkGA1UEBhMCWFgxEzARBgNVBAoMCmlrZWd3IGZ1enoxETAPBgNVBAMM\n"
    "CGZ1enotcnNhMCAXDTI2MTEyNjIyMDI0N1oYDzIxMjYxMTAyMjIwMjQ3WjA1MQsw\n"
    "CQYDVQQGEwJYWDETMBEGA1UECgwKaWtlZ3cgZnV6ejERMA8GA1UEAwwIZnV6ei1y\n"
    "c2EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDZm8mz4+TqweRde0q5\n"
    "fAW/IICMdqGT5IHBsRhsASNdDNex0nFtWHR7E78pEMRWknJXSrKIF352+cICJLtl\n"
    "n9mPlrzdj4QggBWTdGMYwmmzCvldI30pWJnrENJ2breuj2SuBZgQ5top4JhpWS0v\n"
    "o50zr8U9CyLE4ScSk9XROLa2Zibc+jwKl1ioHXAMnnKdFs+yhIY/frzC+cu/VWfh\n"
    "Bq2H8vs3nWXy3JSxf/Akvf2Pq4MqYi+Hjf5tecGiH8EaAs1cJ8vgl8v+kFR32jUz\n"
    "o/ZcBaHKYJIllE0fCBf2+m8TMhud3BsH7eiourYyeDwHlUDDP5FUVvibfi+H0Xwd\n"
    "e0RHAgMBAAGjgYMwgYAwHQYDVR0OBBYEFEwCfB0z5t5rRkfh4nSIw1O8iF5SMB8G\n"
    "A1UdIwQYMBaAFEwCfB0z5t5rRkfh4nSIw1O8iF5SMA8GA1UdEwEB/wQFMAMBAf8w\n"
    "LQYDVR0RBCYwJIINcnNhLmZ1enoudGVzdIcEwAACB4ENcnNhQGZ1enoudGVzdDAN\n"
    "BgkqhkiG9w0BAQsFAAOCAQEAf01gdhQ3rkvMAuboXhVXGwMSiPA1o9yLO5kEyZsf\n"
    "nO0Mw4li8MxHm0Kjjj4sCtDLxxCWrtXKTY8NjkVJXA9lVMrTLHG/82XO/g4PPm42\n"
    "ehmcjzMizZHQNW8oS8MIi7mo6jZAPr7r8onmDdb2Ng2h1Kuz568y+TD06Rh9trwm\n"
    "NCvbAC/zYawJHAxXQDkKhvkcN136RAFD12QswueozdKnEn7I+3+r2pQuPPYTu6iq\n"
    "eEdu/cwkGL3hGXxkN9cONnALng5kP/YL7RZjjSMmim4wvb+9+9wuI9K2U4E1uw+m\n"
    "xsjKLl/1j2+CSSiSZoQ17gMZyI1xES4xPSJhZd3wf0kIFw==\n"
    "-----END CERTIFICATE-----\n";

static const char ec_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBlTCCATqgAwIBAgIUDH2+WNH/9yPQGxo2lcTEfiNZJfgwCgYIKoZIzj0EAwIw\n"
    "EjEQMA4GA1UEAwwHZnV6ei1lYzAgFw0yNjExMjYyMjAyNDdaGA8yMTI2MTEwMjIy\n"
    "MDI0N1owEjEQMA4GA1UEAwwHZnV6ei1lYzBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABOLTp8ivZGYyJAHdhiHCXVF2XgF1ICzv0OYC8c+XUq1+NmqV8astQRWe1elv\n"
    "7T9Kls2lfm6b/TDbl8vwNQTH27ujbDBqMB0GA1UdDgQWBBR5VgLrw2/66IyBU9yX\n"
    "OZE1heTlDzAfBgNVHSMEGDAWgBR5VgLrw2/66IyBU9yXOZE1heTlDzAPBgNVHRMB\n"
    "Af8EBTADAQH/MBcGA1UdEQQQMA6CDGVjLmZ1enoudGVzdDAKBggqhkjOPQQDAgNJ\n"
    "ADBGAiEA+iI3nYB9TIPLCf1K17qD2ui9yEOVc9l3cHNOfu8m1EACIQD4IJt9Yi/W\n"
    "Vcu828IbZd9lk9Jywmr95XyQpJpSFIzOew==\n"
    "-----END CERTIFICATE-----\n";

static ike_cert_peer_t *certs[2];
static uint8_t msg[64];

static ike_cert_peer_t *from_pem(const char *pem)
{
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  unsigned char *der = NULL;
  int n = x ? i2d_X509(x, &der) : -1;
  ike_cert_peer_t *p = NULL;
  if (n <= 0 || ike_cert_peer_parse(der, (size_t)n, &p) != 0) {
    abort();
  }
  OPENSSL_free(der);
  X509_free(x);
  BIO_free(b);
  return p;
}

static void init_once(void)
{
  static int done;
  if (done) {
    return;
  }
  if (ike_crypto_init() != 0) {
    abort();
  }
  certs[0] = from_pem(rsa_pem);
  certs[1] = from_pem(ec_pem);
  for (size_t i = 0; i < sizeof msg; i++) {
    msg[i] = (uint8_t)(i * 7 + 1);
  }
  done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const uint8_t methods[8] = {1, 9, 10, 11, 14, 2, 3, 0};
  init_once();
  if (size < 2) {
    return 0;
  }
  const ike_cert_peer_t *c = certs[data[0] & 1];
  uint8_t method = methods[(data[0] >> 1) & 7];
  const uint8_t *auth = data + 2;
  size_t len = size - 2;
  const uint8_t *pieces[1] = {msg};
  size_t plen[1] = {sizeof msg};
  int rc = ike_cert_verify(c, method, len ? auth : NULL, len, pieces, plen, 1);
  if (rc > 0) {
    abort(); /* 0 or a negative ike_err_t only */
  }
  rc = ike_cert_id_match(c, data[1], len ? auth : NULL, len);
  if (rc != 0 && rc != -IKE_E_ID_MISMATCH) {
    abort();
  }
  ike_cert_peer_t *p = NULL;
  if (ike_cert_peer_parse(auth, len, &p) == 0) {
    char subj[256];
    ike_cert_peer_subject(p, subj, sizeof subj);
    (void)ike_cert_id_match(p, data[1], auth, len);
  }
  ike_cert_peer_free(p);
  return 0;
}
