/*
 * ike_err.h - error codes of the codec and crypto layers (returned negated).
 *
 * Each parse error says what RFC 7296 wants a responder to do with the message,
 * through ike_err_action().
 */
#ifndef IKE_ERR_H
#define IKE_ERR_H

#define IKE_ERR_MAP(X)                                                        \
  X(TRUNC, 1, "input shorter than a field or length says")                    \
  X(BAD_LENGTH, 2, "length field too small, too large or inconsistent")       \
  X(BAD_VERSION, 3, "IKE major version is not 2")                             \
  X(UNSUPPORTED_CRITICAL, 4, "unknown payload type with the critical bit")    \
  X(TOO_MANY, 5, "more payloads or sub-structures than our bound")            \
  X(BAD_SYNTAX, 6, "field value not allowed here")                            \
  X(NOSPACE, 7, "output buffer too small")                                    \
  X(CRYPTO, 8, "crypto library failure")                                      \
  X(INTEGRITY, 9, "integrity check or AEAD tag failed")                       \
  X(UNSUPPORTED, 10, "algorithm or feature not supported")                    \
  X(BAD_PADDING, 11, "bad padding")                                           \
  X(NOMEM, 12, "out of memory")                                               \
  X(UNTRUSTED, 13, "certificate not trusted (chain, validity or format)")     \
  X(BAD_SIGNATURE, 14, "signature does not verify")                           \
  X(ID_MISMATCH, 15, "identity not contained in the certificate")            \
  X(STORE, 16, "checkpoint store failure")

typedef enum {
  IKE_OK = 0,
#define X(n, v, s) IKE_E_##n = v,
  IKE_ERR_MAP(X)
#undef X
} ike_err_t;

/* What a responder does with a message that failed to parse (RFC 7296 2.21). */
typedef enum {
  IKE_ACT_DROP = 0,            /* silently discard (and count) */
  IKE_ACT_INVALID_SYNTAX,      /* answer INVALID_SYNTAX if the message was authenticated */
  IKE_ACT_UNSUPPORTED_CRITICAL /* answer UNSUPPORTED_CRITICAL_PAYLOAD */
} ike_err_action_t;

/* Short text for an error code (positive or negative). */
const char *ike_strerror(int err);
/* The responder action for a parse error (positive or negative). */
ike_err_action_t ike_err_action(int err);

#endif /* IKE_ERR_H */
