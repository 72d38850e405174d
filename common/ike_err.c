/* ike_err.c - error texts and the RFC 7296 2.21 responder action per error. */
#include "ike_err.h"

const char *ike_strerror(int err)
{
  if (err < 0) {
    err = -err;
  }
  switch (err) {
  case IKE_OK:
    return "success";
#define X(n, v, s) \
  case v:          \
    return s;
    IKE_ERR_MAP(X)
#undef X
  default:
    return "unknown error";
  }
}

/*
 * RFC 7296 2.21.1/2.21.2: a syntactically broken message gets INVALID_SYNTAX
 * (only if it was authenticated; the caller knows that), an unknown critical
 * payload gets UNSUPPORTED_CRITICAL_PAYLOAD, and everything else (wrong
 * version is answered separately by the caller with INVALID_MAJOR_VERSION,
 * failed integrity, local failures) is dropped and counted.
 */
ike_err_action_t ike_err_action(int err)
{
  if (err < 0) {
    err = -err;
  }
  switch (err) {
  case IKE_E_TRUNC:
  case IKE_E_BAD_LENGTH:
  case IKE_E_BAD_SYNTAX:
  case IKE_E_TOO_MANY:
    return IKE_ACT_INVALID_SYNTAX;
  case IKE_E_UNSUPPORTED_CRITICAL:
    return IKE_ACT_UNSUPPORTED_CRITICAL;
  default:
    return IKE_ACT_DROP;
  }
}
