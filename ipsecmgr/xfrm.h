/*
 * xfrm.h - the Linux XFRM datapath backend over netlink (NETLINK_XFRM).
 *
 * Operations after strongSwan's kernel_ipsec_t: add_sa / update_sa / del_sa,
 * add_policy / del_policy, and migrate for MOBIKE (XFRM_MSG_MIGRATE: new outer
 * addresses and UDP encapsulation for a policy's states, keeping their sequence
 * numbers and replay state in the kernel). The SA id (outer addresses + SPI) is
 * separate from its parameters. Each request is built in one nlm_msg_t on the
 * stack with bounds-checked appends (xfrm_build_* are pure and tested alone) and
 * key-bearing requests are wiped after sending.
 *
 * Every failure returns -errno AND leaves a clear sentence in xfrm_last_error(),
 * e.g. when the kernel lacks ESP (CONFIG_INET_ESP off, as on these machines):
 * never a silent success.
 */
#ifndef XFRM_H
#define XFRM_H

#include <stdbool.h>
#include <stdint.h>

#include "esp_sa.h"
#include "nlmsg.h"

/* The kernel's key of an SA: outer addresses (network order) and SPI. */
typedef struct xfrm_sa_id {
  uint8_t family;          /* AF_INET / AF_INET6 */
  uint8_t src[16], dst[16];
  uint32_t spi;            /* host order */
} xfrm_sa_id_t;

typedef struct xfrm_sa_cfg {
  uint16_t encr, encr_bits, integ;  /* IKE transform ids, as esp_sa_params_t */
  bool esn;
  const uint8_t *enc_key;           /* with the 4-byte salt for AEAD */
  size_t enc_key_len;
  const uint8_t *auth_key;
  size_t auth_key_len;
  uint32_t reqid;                   /* ties states to policy templates */
  uint32_t replay_window;           /* packets (0 = 1024) */
  bool udp_encap;                   /* RFC 3948 */
  uint16_t encap_sport, encap_dport; /* host order */
  esp_lifetime_t life;              /* 0 = no limit */
} xfrm_sa_cfg_t;

typedef struct xfrm_pol {
  uint8_t dir;                      /* XFRM_POLICY_IN / _OUT / _FWD */
  uint8_t family;                   /* inner selector family */
  uint8_t src[16], dst[16];         /* selector prefixes (network order) */
  uint8_t src_len, dst_len;
  uint8_t proto;                    /* 0 = any */
  uint32_t priority;
  uint32_t reqid;
  uint8_t outer_family;             /* tunnel endpoints of the template */
  uint8_t outer_src[16], outer_dst[16];
} xfrm_pol_t;

typedef struct xfrm xfrm_t;

/* Open the backend (a NETLINK_XFRM socket). 0 or -errno. */
int xfrm_open(xfrm_t **out);
void xfrm_close(xfrm_t *x);
/* The clear text of the last failure ("" after a success). */
const char *xfrm_last_error(const xfrm_t *x);

/* Request builders (pure): 0, -EINVAL (bad parameters) or -ENOSPC. */
int xfrm_build_add_sa(nlm_msg_t *m, bool update, const xfrm_sa_id_t *id,
                      const xfrm_sa_cfg_t *c);
int xfrm_build_del_sa(nlm_msg_t *m, const xfrm_sa_id_t *id);
int xfrm_build_policy(nlm_msg_t *m, bool add, const xfrm_pol_t *p);
/* MIGRATE the states under policy p from its current template endpoints to
 * new_src/new_dst (family new_family); encap_sport/dport 0 = no encapsulation. */
int xfrm_build_migrate(nlm_msg_t *m, const xfrm_pol_t *p, uint8_t new_family,
                       const uint8_t *new_src, const uint8_t *new_dst,
                       uint16_t encap_sport, uint16_t encap_dport);

/* Operations: 0 or -errno with xfrm_last_error() set. */
int xfrm_add_sa(xfrm_t *x, const xfrm_sa_id_t *id, const xfrm_sa_cfg_t *c);
int xfrm_update_sa(xfrm_t *x, const xfrm_sa_id_t *id, const xfrm_sa_cfg_t *c);
int xfrm_del_sa(xfrm_t *x, const xfrm_sa_id_t *id);
int xfrm_add_policy(xfrm_t *x, const xfrm_pol_t *p);
int xfrm_del_policy(xfrm_t *x, const xfrm_pol_t *p);
int xfrm_migrate(xfrm_t *x, const xfrm_pol_t *p, uint8_t new_family, const uint8_t *new_src,
                 const uint8_t *new_dst, uint16_t encap_sport, uint16_t encap_dport);

/* Priority of every policy ipsecmgr installs: also its ownership mark for
 * reconcile (backend.h). */
#define XFRM_OWN_PRIORITY 0x1e6f0u

/* Batched policy operations: the n policies (normally in, out and fwd of one
 * CHILD SA) go in one sendmsg (nlm_talk_batch). add: if any fails, those that
 * went in are removed again and the first failure is returned. del: a policy
 * already gone (ENOENT) is not an error. */
int xfrm_add_policies(xfrm_t *x, const xfrm_pol_t *p, size_t n);
int xfrm_del_policies(xfrm_t *x, const xfrm_pol_t *p, size_t n);
/* MIGRATE (MOBIKE) the states and templates of n policies to new endpoints in
 * one sendmsg. Each policy's own template direction is kept: for an inbound or
 * forward policy the new peer is the source, for an outbound one our side is. */
int xfrm_migrate_policies(xfrm_t *x, const xfrm_pol_t *p, size_t n, uint8_t new_family,
                          const uint8_t *new_local, const uint8_t *new_peer,
                          uint16_t encap_local, uint16_t encap_peer);

/* Counters of one state (XFRM_MSG_GETSA): packets and bytes of its current
 * lifetime, the last outbound sequence number and the highest inbound one
 * (ESN replay state). 0 or -errno with xfrm_last_error() set. */
int xfrm_get_sa(xfrm_t *x, const xfrm_sa_id_t *id, uint64_t *packets, uint64_t *bytes,
                uint64_t *oseq, uint64_t *seq);

/* One entry of a state or policy dump. */
typedef struct xfrm_dump_ent {
  bool policy;             /* false: a state (sa valid); true: a policy (pol valid) */
  xfrm_sa_id_t sa;         /* state: outer addresses and SPI */
  uint8_t proto;           /* state: IPPROTO_ESP, ... */
  xfrm_pol_t pol;          /* policy: selector, direction, priority, template */
  uint32_t reqid;          /* state's reqid, or the policy's first template's */
} xfrm_dump_ent_t;

/* Dump every state (policies = false) or policy and call cb for each (non-zero
 * stops). 0 or -errno with xfrm_last_error() set. */
int xfrm_dump(xfrm_t *x, bool policies, int (*cb)(const xfrm_dump_ent_t *e, void *arg),
              void *arg);

/* Reply parsers of xfrm_dump and xfrm_get_sa on one received datagram (buf
 * aligned to 4, len as recv returned), for the fuzzer (tests/fuzz/
 * fuzz_netlink.c); the kernel's lengths are bounds-checked. xfrm_parse_dump:
 * as nlm_parse_dump, with each XFRM_MSG_NEWSA / NEWPOLICY answer decoded into
 * an xfrm_dump_ent_t for cb. xfrm_parse_get_sa: the answer to GETSA request
 * req_seq; returns 1 when done (*rc = 0 with the counters set, or -errno), 0
 * when the datagram did not hold it. */
int xfrm_parse_dump(const void *buf, size_t len, uint32_t seq, bool policies,
                    int (*cb)(const xfrm_dump_ent_t *e, void *arg), void *arg, bool *stop,
                    int *rc);
int xfrm_parse_get_sa(const void *buf, size_t len, uint32_t req_seq, uint64_t *packets,
                      uint64_t *bytes, uint64_t *oseq, uint64_t *seq, int *rc);

#endif /* XFRM_H */
