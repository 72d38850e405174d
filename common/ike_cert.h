/*
 * ike_cert.h - X.509 certificate authentication for IKEv2 (RFC 7296 2.15, 3.6,
 * 3.7, 3.8; RFC 7427 digital signatures; RFC 4754 ECDSA).
 *
 * A store (ike_cert_store_t) holds what one crypto template needs, loaded once
 * at start-up from PEM files: our certificate chain and private key (RSA or
 * EC) for "authentication local certificate", and the CA certificate(s) the
 * peer must chain to for "authentication remote certificate". A peer
 * certificate (ike_cert_peer_t) is parsed from the DER of a CERT payload.
 *
 * Signatures cover the same octets as a PSK AUTH (RFC 7296 2.15):
 * RealMessage | Nonce | prf(SK_p, ID'), passed as a list of pieces.
 *
 * AUTH methods:
 *   1  RSA_SIG            PKCS#1 v1.5 with SHA-1 (RFC 7296 3.8)
 *   9  ECDSA_256          P-256 + SHA-256, r|s 32+32 bytes (RFC 4754 7)
 *   10 ECDSA_384          P-384 + SHA-384, r|s 48+48 bytes
 *   11 ECDSA_521          P-521 + SHA-512, r|s 66+66 bytes
 *   14 DIGITAL_SIGNATURE  1-byte length | DER AlgorithmIdentifier | signature
 *                         (RFC 7427 3): sha{256,384,512}WithRSAEncryption,
 *                         RSASSA-PSS (SHA-2, MGF1 with the same hash),
 *                         ecdsa-with-SHA{256,384,512} (DER ECDSA-Sig-Value).
 * SHA-1 is refused inside method 14.
 *
 * Digests come from ike_crypto (fetched once by ike_crypto_init, which the
 * functions here call if it has not run). All functions return 0 or a
 * negative ike_err_t: -IKE_E_UNTRUSTED (chain), -IKE_E_BAD_SIGNATURE,
 * -IKE_E_ID_MISMATCH, -IKE_E_BAD_SYNTAX / -IKE_E_TRUNC (malformed AUTH data),
 * -IKE_E_UNSUPPORTED (unknown algorithm or key type).
 */
#ifndef IKE_CERT_H
#define IKE_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "ike_config.h"
#include "ike_err.h"

#define IKE_CERT_MAX_CHAIN  4u    /* our certificates sent (end-entity first) */
#define IKE_CERT_MAX_CAS    16u   /* CA certificates in the CA file */
#define IKE_CERT_MAX_SIG    1200u /* largest AUTH data we build (RSA-8192 + AlgId) */

typedef struct ike_cert_store ike_cert_store_t;
typedef struct ike_cert_peer ike_cert_peer_t;

/* Bit of a RFC 7427 hash (IKE_HASH_SHA2_256 ...) in a hash set. */
#define IKE_CERT_HASH_BIT(h) ((uint8_t)(1u << (h)))

/* --- Store --- */

/* Load a store. cert_file: PEM, our certificate first then intermediates;
 * key_file: PEM private key (RSA or EC) that must match the certificate;
 * ca_file: PEM, one or more CA certificates. Each may be NULL or "" (not
 * used). On error returns a negative code and err reads "file: reason". */
int ike_cert_store_load(const char *cert_file, const char *key_file,
                        const char *ca_file, ike_cert_store_t **out, char *err,
                        size_t errlen);
void ike_cert_store_free(ike_cert_store_t *s);
/* Add the CRLs of crl_file (PEM, one or more; or one DER CRL) to a store
 * with CAs and turn revocation checking on for the peer's certificate
 * (RFC 5280 6.3): from then on a peer certificate is refused if it is listed,
 * or if its issuer has no CRL in the store, or if that CRL expired. On error
 * returns a negative code and err reads "file: reason". */
int ike_cert_store_add_crl(ike_cert_store_t *s, const char *crl_file, char *err,
                           size_t errlen);

/* Load the stores of every template that uses certificates: stores[i] for
 * cfg->templates[i] (NULL when the template uses none). Also checks that a
 * configured local identity is contained in our certificate. On error every
 * store is freed (all set NULL) and err reads "file: reason". */
int ike_cert_load_config(const ike_config_t *cfg,
                         ike_cert_store_t *stores[IKE_CFG_MAX_TEMPLATES],
                         char *err, size_t errlen);
void ike_cert_free_config(ike_cert_store_t *stores[IKE_CFG_MAX_TEMPLATES]);

/* Our certificates for CERT payloads: number, and the DER of the i-th (0 =
 * end-entity). The pointer stays valid while the store lives. */
unsigned ike_cert_own_count(const ike_cert_store_t *s);
int ike_cert_own_der(const ike_cert_store_t *s, unsigned i, const uint8_t **der,
                     size_t *len);
/* CERTREQ data (RFC 7296 3.7): the SHA-1 hashes of the SubjectPublicKeyInfo
 * of every CA, concatenated (20 bytes each). *len = 0 if no CA. */
int ike_cert_certreq(const ike_cert_store_t *s, uint8_t *out, size_t cap,
                     size_t *len);

/* Our identity (IDr): the configured local_id if it is contained in our
 * certificate (same rules as ike_cert_id_match), else -IKE_E_ID_MISMATCH;
 * with no local_id (type 0) the DER subject DN (IKE_ID_DER_ASN1_DN).
 * buf receives the ID data (IP IDs: 4/16 address bytes). */
int ike_cert_own_id(const ike_cert_store_t *s, const ike_cfg_id_t *local_id,
                    uint8_t *type, uint8_t *buf, size_t cap, size_t *len);

/* Sign the pieces with our key. hashes: the peer's SIGNATURE_HASH_ALGORITHMS
 * as a set of IKE_CERT_HASH_BIT; 0 = the peer sent none, so the classic
 * method of our key is used (RSA: 1, EC P-256/384/521: 9/10/11); else method
 * 14 with the hash of the curve (EC) or SHA-256 (RSA) if in the set, else
 * the strongest hash of the set. pss: sign RSA keys with RSASSA-PSS in method
 * 14. *method receives the AUTH method; out the AUTH data. */
int ike_cert_sign(const ike_cert_store_t *s, uint8_t hashes, int pss,
                  const uint8_t *const *data, const size_t *dlen, size_t n,
                  uint8_t *method, uint8_t *out, size_t cap, size_t *out_len);

/* Sign with an explicit method and hash (IKE_HASH_*; ignored for 1 and
 * 9-11). Tests and interop use it to produce every variant. */
int ike_cert_sign_method(const ike_cert_store_t *s, uint8_t method,
                         uint8_t hash, int pss, const uint8_t *const *data,
                         const size_t *dlen, size_t n, uint8_t *out, size_t cap,
                         size_t *out_len);

/* --- Peer certificates --- */

/* Parse a DER certificate (CERT payload encoding 4). -IKE_E_UNTRUSTED if it
 * does not parse or has trailing bytes. */
int ike_cert_peer_parse(const uint8_t *der, size_t len, ike_cert_peer_t **out);
void ike_cert_peer_free(ike_cert_peer_t *p);

/* Verify that ee chains to a CA of the store through the intermediates im
 * (any order, may be NULL): signatures, validity at `at` (Unix seconds, 0 =
 * now), purpose any; the CRLs of the store if it has any (revoked, or no CRL
 * from the issuer: refused); and, ee being a client, an extendedKeyUsage if
 * present must include clientAuth, ipsecIKE or anyExtendedKeyUsage (RFC 4945
 * 5.1.3.12). reason (may be NULL) receives why not. */
int ike_cert_verify_chain(const ike_cert_store_t *s, const ike_cert_peer_t *ee,
                          const ike_cert_peer_t *const *im, size_t n_im,
                          int64_t at, char *reason, size_t rlen);

/* 0 if the IKE ID (type IKE_ID_*, raw ID data) is contained in the
 * certificate: FQDN / RFC822 / IPv4 / IPv6 against subjectAltName dNSName /
 * rfc822Name / iPAddress (names case-insensitive), DER_ASN1_DN against the
 * subject. Else -IKE_E_ID_MISMATCH. */
int ike_cert_id_match(const ike_cert_peer_t *c, uint8_t id_type,
                      const uint8_t *id, size_t len);

/* Verify AUTH data of method 1, 9, 10, 11 or 14 over the pieces with the
 * certificate's public key. Malformed data gives an error, never a crash. */
int ike_cert_verify(const ike_cert_peer_t *c, uint8_t method,
                    const uint8_t *auth, size_t auth_len,
                    const uint8_t *const *data, const size_t *dlen, size_t n);

/* Printable subject of a certificate (RFC 2253 style) into buf. */
void ike_cert_peer_subject(const ike_cert_peer_t *c, char *buf, size_t len);

#endif /* IKE_CERT_H */
