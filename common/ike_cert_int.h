/*
 * ike_cert_int.h - internals shared by ike_cert.c (store, chain, identities)
 * and ike_cert_sig.c (AUTH signatures). Not for other modules.
 */
#ifndef IKE_CERT_INT_H
#define IKE_CERT_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ike_cert.h"

struct ike_cert_peer {
  X509 *x;
  EVP_PKEY *pub;              /* borrowed from x (X509_get0_pubkey) */
};

struct ike_cert_store {
  /* Our side ("authentication local certificate"). */
  ike_cert_peer_t own;        /* own.x NULL if none */
  X509 *chain[IKE_CERT_MAX_CHAIN - 1];  /* intermediates as in the file */
  unsigned n_chain;
  uint8_t *der[IKE_CERT_MAX_CHAIN];     /* DER of own.x, then chain[] */
  size_t der_len[IKE_CERT_MAX_CHAIN];
  EVP_PKEY *key;              /* our private key */
  /* The peer's side ("authentication remote certificate"). */
  X509_STORE *cas;            /* NULL if no CA file */
  unsigned n_cas;
  uint8_t ca_hash[IKE_CERT_MAX_CAS][20]; /* SHA-1 of each CA's SPKI */
};

/* Key classes the signature code knows. */
typedef enum {
  IKE_CERT_KEY_NONE = 0,
  IKE_CERT_KEY_RSA,
  IKE_CERT_KEY_P256,
  IKE_CERT_KEY_P384,
  IKE_CERT_KEY_P521
} ike_cert_key_t;

/* The class of a key (public or private); NONE if unsupported. */
ike_cert_key_t ike_cert_key_class(const EVP_PKEY *k);
/* The fetched digest of an IKE_HASH_* value, NULL if unsupported. */
const EVP_MD *ike_cert_md(uint8_t hash);

#endif /* IKE_CERT_INT_H */
