/* ike_wire.c - name tables generated from the X-macro lists of ike_wire.h. */
#include "ike_wire.h"

#define IKE_NAME_FN(fn, MAP)               \
  const char *fn(unsigned v)               \
  {                                        \
    switch (v) {                           \
      MAP(IKE_NAME_CASE)                   \
    default:                               \
      return "UNKNOWN";                    \
    }                                      \
  }
#define IKE_NAME_CASE(n, v) \
  case v:                   \
    return #n;

IKE_NAME_FN(ike_exchange_name, IKE_EXCHANGE_MAP)
IKE_NAME_FN(ike_payload_name, IKE_PAYLOAD_MAP)
IKE_NAME_FN(ike_transform_type_name, IKE_TRANSFORM_TYPE_MAP)
IKE_NAME_FN(ike_encr_name, IKE_ENCR_MAP)
IKE_NAME_FN(ike_prf_name, IKE_PRF_MAP)
IKE_NAME_FN(ike_integ_name, IKE_INTEG_MAP)
IKE_NAME_FN(ike_dh_name, IKE_DH_MAP)
IKE_NAME_FN(ike_proto_name, IKE_PROTO_MAP)
IKE_NAME_FN(ike_id_type_name, IKE_ID_MAP)
IKE_NAME_FN(ike_auth_method_name, IKE_AUTH_MAP)
IKE_NAME_FN(ike_notify_name, IKE_NOTIFY_MAP)
IKE_NAME_FN(ike_cfg_attr_name, IKE_CFG_ATTR_MAP)
