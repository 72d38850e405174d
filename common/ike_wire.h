/*
 * ike_wire.h - IKEv2 wire constants (RFC 7296, 4555, 5282, 7383, 7427, 7634, 3948).
 *
 * One list per registry as X-macros, so every enum has a matching _name()
 * function for logs and show output (see ike_wire.c).
 */
#ifndef IKE_WIRE_H
#define IKE_WIRE_H

#include <stdint.h>

#define IKE_HDR_LEN        28u   /* fixed IKE header (RFC 7296 3.1) */
#define IKE_PLD_HDR_LEN    4u    /* generic payload header (RFC 7296 3.2) */
#define IKE_MAJOR_VERSION  2u
#define IKE_NON_ESP_MARKER_LEN 4u /* four zero bytes before IKE on port 4500 (RFC 3948) */
#define IKE_PORT           500u
#define IKE_NATT_PORT      4500u

/* Header flags (RFC 7296 3.1). */
#define IKE_FLAG_INITIATOR 0x08u /* I: sent by the original initiator */
#define IKE_FLAG_VERSION   0x10u /* V: higher version supported */
#define IKE_FLAG_RESPONSE  0x20u /* R: this is a response */
#define IKE_PLD_CRITICAL   0x80u /* C bit of the generic payload header */

/* Exchange types (RFC 7296 3.1). */
#define IKE_EXCHANGE_MAP(X)          \
  X(IKE_SA_INIT, 34)                 \
  X(IKE_AUTH, 35)                    \
  X(CREATE_CHILD_SA, 36)             \
  X(INFORMATIONAL, 37)

typedef enum {
#define X(n, v) IKE_EXCH_##n = v,
  IKE_EXCHANGE_MAP(X)
#undef X
} ike_exchange_t;

/* Payload types (RFC 7296 3.2, RFC 7383). */
#define IKE_PAYLOAD_MAP(X)           \
  X(NONE, 0)                         \
  X(SA, 33)                          \
  X(KE, 34)                          \
  X(IDI, 35)                         \
  X(IDR, 36)                         \
  X(CERT, 37)                        \
  X(CERTREQ, 38)                     \
  X(AUTH, 39)                        \
  X(NONCE, 40)                       \
  X(NOTIFY, 41)                      \
  X(DELETE, 42)                      \
  X(VENDOR, 43)                      \
  X(TSI, 44)                         \
  X(TSR, 45)                         \
  X(SK, 46)                          \
  X(CP, 47)                          \
  X(EAP, 48)                         \
  X(SKF, 53)

typedef enum {
#define X(n, v) IKE_PLD_##n = v,
  IKE_PAYLOAD_MAP(X)
#undef X
} ike_payload_t;

/* Transform types (RFC 7296 3.3.2). */
#define IKE_TRANSFORM_TYPE_MAP(X)    \
  X(ENCR, 1)                         \
  X(PRF, 2)                          \
  X(INTEG, 3)                        \
  X(DH, 4)                           \
  X(ESN, 5)

typedef enum {
#define X(n, v) IKE_TRANS_##n = v,
  IKE_TRANSFORM_TYPE_MAP(X)
#undef X
} ike_transform_type_t;

/* Encryption algorithms (IANA IKEv2 Transform Type 1). */
#define IKE_ENCR_MAP(X)              \
  X(AES_CBC, 12)                     \
  X(AES_GCM_8, 18)                   \
  X(AES_GCM_12, 19)                  \
  X(AES_GCM_16, 20)                  \
  X(CHACHA20_POLY1305, 28)

typedef enum {
#define X(n, v) IKE_ENCR_##n = v,
  IKE_ENCR_MAP(X)
#undef X
} ike_encr_t;

/* Pseudorandom functions (Transform Type 2). */
#define IKE_PRF_MAP(X)               \
  X(HMAC_SHA1, 2)                    \
  X(HMAC_SHA2_256, 5)                \
  X(HMAC_SHA2_384, 6)                \
  X(HMAC_SHA2_512, 7)

typedef enum {
#define X(n, v) IKE_PRF_##n = v,
  IKE_PRF_MAP(X)
#undef X
} ike_prf_t;

/* Integrity algorithms (Transform Type 3). */
#define IKE_INTEG_MAP(X)             \
  X(NONE, 0)                         \
  X(HMAC_SHA1_96, 2)                 \
  X(HMAC_SHA2_256_128, 12)           \
  X(HMAC_SHA2_384_192, 13)           \
  X(HMAC_SHA2_512_256, 14)

typedef enum {
#define X(n, v) IKE_INTEG_##n = v,
  IKE_INTEG_MAP(X)
#undef X
} ike_integ_t;

/* Diffie-Hellman groups (Transform Type 4). */
#define IKE_DH_MAP(X)                \
  X(NONE, 0)                         \
  X(MODP_2048, 14)                   \
  X(MODP_3072, 15)                   \
  X(MODP_4096, 16)                   \
  X(MODP_8192, 18)                   \
  X(ECP_256, 19)                     \
  X(ECP_384, 20)                     \
  X(ECP_521, 21)                     \
  X(CURVE25519, 31)

typedef enum {
#define X(n, v) IKE_DH_##n = v,
  IKE_DH_MAP(X)
#undef X
} ike_dh_group_t;

/* Extended sequence numbers (Transform Type 5). */
#define IKE_ESN_NO  0u
#define IKE_ESN_YES 1u

/* Transform attribute: Key Length, always TV format (RFC 7296 3.3.5). */
#define IKE_ATTR_KEY_LENGTH 14u
#define IKE_ATTR_TV_BIT     0x8000u

/* Security protocol IDs (RFC 7296 3.3.1). */
#define IKE_PROTO_MAP(X)             \
  X(NONE, 0)                         \
  X(IKE, 1)                          \
  X(AH, 2)                           \
  X(ESP, 3)

typedef enum {
#define X(n, v) IKE_PROTO_##n = v,
  IKE_PROTO_MAP(X)
#undef X
} ike_proto_t;

/* Identification types (RFC 7296 3.5). */
#define IKE_ID_MAP(X)                \
  X(IPV4_ADDR, 1)                    \
  X(FQDN, 2)                         \
  X(RFC822_ADDR, 3)                  \
  X(IPV6_ADDR, 5)                    \
  X(DER_ASN1_DN, 9)                  \
  X(DER_ASN1_GN, 10)                 \
  X(KEY_ID, 11)

typedef enum {
#define X(n, v) IKE_ID_##n = v,
  IKE_ID_MAP(X)
#undef X
} ike_id_type_t;

/* Certificate encodings (RFC 7296 3.6). */
#define IKE_CERT_X509_SIGNATURE 4u  /* DER X.509 certificate */
#define IKE_CERT_HASH_URL_X509  12u /* Hash and URL of X.509 certificate */

/* Authentication methods (RFC 7296 3.8, RFC 7427). */
#define IKE_AUTH_MAP(X)              \
  X(RSA_SIG, 1)                      \
  X(SHARED_KEY_MIC, 2)               \
  X(DSS_SIG, 3)                      \
  X(ECDSA_256, 9)                    \
  X(ECDSA_384, 10)                   \
  X(ECDSA_521, 11)                   \
  X(DIGITAL_SIGNATURE, 14)

typedef enum {
#define X(n, v) IKE_AUTH_##n = v,
  IKE_AUTH_MAP(X)
#undef X
} ike_auth_method_t;

/* Notify message types (RFC 7296 3.10.1, RFC 4555, RFC 7383, RFC 7427). */
#define IKE_NOTIFY_MAP(X)                        \
  X(UNSUPPORTED_CRITICAL_PAYLOAD, 1)             \
  X(INVALID_IKE_SPI, 4)                          \
  X(INVALID_MAJOR_VERSION, 5)                    \
  X(INVALID_SYNTAX, 7)                           \
  X(INVALID_MESSAGE_ID, 9)                       \
  X(INVALID_SPI, 11)                             \
  X(NO_PROPOSAL_CHOSEN, 14)                      \
  X(INVALID_KE_PAYLOAD, 17)                      \
  X(AUTHENTICATION_FAILED, 24)                   \
  X(SINGLE_PAIR_REQUIRED, 34)                    \
  X(NO_ADDITIONAL_SAS, 35)                       \
  X(INTERNAL_ADDRESS_FAILURE, 36)                \
  X(FAILED_CP_REQUIRED, 37)                      \
  X(TS_UNACCEPTABLE, 38)                         \
  X(INVALID_SELECTORS, 39)                       \
  X(UNACCEPTABLE_ADDRESSES, 40)                  \
  X(UNEXPECTED_NAT_DETECTED, 41)                 \
  X(TEMPORARY_FAILURE, 43)                       \
  X(CHILD_SA_NOT_FOUND, 44)                      \
  X(INITIAL_CONTACT, 16384)                      \
  X(SET_WINDOW_SIZE, 16385)                      \
  X(ADDITIONAL_TS_POSSIBLE, 16386)               \
  X(IPCOMP_SUPPORTED, 16387)                     \
  X(NAT_DETECTION_SOURCE_IP, 16388)              \
  X(NAT_DETECTION_DESTINATION_IP, 16389)         \
  X(COOKIE, 16390)                               \
  X(USE_TRANSPORT_MODE, 16391)                   \
  X(HTTP_CERT_LOOKUP_SUPPORTED, 16392)           \
  X(REKEY_SA, 16393)                             \
  X(ESP_TFC_PADDING_NOT_SUPPORTED, 16394)        \
  X(NON_FIRST_FRAGMENTS_ALSO, 16395)             \
  X(MOBIKE_SUPPORTED, 16396)                     \
  X(ADDITIONAL_IP4_ADDRESS, 16397)               \
  X(ADDITIONAL_IP6_ADDRESS, 16398)               \
  X(NO_ADDITIONAL_ADDRESSES, 16399)              \
  X(UPDATE_SA_ADDRESSES, 16400)                  \
  X(COOKIE2, 16401)                              \
  X(NO_NATS_ALLOWED, 16402)                      \
  X(EAP_ONLY_AUTHENTICATION, 16417)              \
  X(IKEV2_FRAGMENTATION_SUPPORTED, 16430)        \
  X(SIGNATURE_HASH_ALGORITHMS, 16431)

typedef enum {
#define X(n, v) IKE_N_##n = v,
  IKE_NOTIFY_MAP(X)
#undef X
} ike_notify_t;

/* Notify types below this value are errors (RFC 7296 3.10.1). */
#define IKE_N_ERROR_MAX 16383u

/* Traffic selector types (RFC 7296 3.13.1). */
#define IKE_TS_IPV4_ADDR_RANGE 7u  /* 16-byte selector body */
#define IKE_TS_IPV6_ADDR_RANGE 8u  /* 40-byte selector body */

/* Configuration payload (RFC 7296 3.15). */
#define IKE_CFG_REQUEST 1u
#define IKE_CFG_REPLY   2u
#define IKE_CFG_SET     3u
#define IKE_CFG_ACK     4u

#define IKE_CFG_ATTR_MAP(X)          \
  X(INTERNAL_IP4_ADDRESS, 1)         \
  X(INTERNAL_IP4_NETMASK, 2)         \
  X(INTERNAL_IP4_DNS, 3)             \
  X(INTERNAL_IP4_NBNS, 4)            \
  X(INTERNAL_IP4_DHCP, 6)            \
  X(APPLICATION_VERSION, 7)          \
  X(INTERNAL_IP6_ADDRESS, 8)         \
  X(INTERNAL_IP6_DNS, 10)            \
  X(INTERNAL_IP6_DHCP, 12)           \
  X(INTERNAL_IP4_SUBNET, 13)         \
  X(SUPPORTED_ATTRIBUTES, 14)        \
  X(INTERNAL_IP6_SUBNET, 15)

typedef enum {
#define X(n, v) IKE_CFG_ATTR_##n = v,
  IKE_CFG_ATTR_MAP(X)
#undef X
} ike_cfg_attr_t;

/* RFC 7427 hash algorithms for SIGNATURE_HASH_ALGORITHMS. */
#define IKE_HASH_SHA1     1u
#define IKE_HASH_SHA2_256 2u
#define IKE_HASH_SHA2_384 3u
#define IKE_HASH_SHA2_512 4u

/* Name lookups for logs and show output; unknown values give "UNKNOWN". */
const char *ike_exchange_name(unsigned v);
const char *ike_payload_name(unsigned v);
const char *ike_transform_type_name(unsigned v);
const char *ike_encr_name(unsigned v);
const char *ike_prf_name(unsigned v);
const char *ike_integ_name(unsigned v);
const char *ike_dh_name(unsigned v);
const char *ike_proto_name(unsigned v);
const char *ike_id_type_name(unsigned v);
const char *ike_auth_method_name(unsigned v);
const char *ike_notify_name(unsigned v);
const char *ike_cfg_attr_name(unsigned v);

#endif /* IKE_WIRE_H */
