/*
 * backend.h - the datapath backends of ipsecmgr behind one operations table,
 * after strongSwan's kernel_ipsec_t: an SA is named by its id (direction, SPI,
 * inbound SPI of its CHILD SA) and its parameters travel separately; the
 * policies of a CHILD SA (in, out, fwd) are added and removed as one set.
 * dispatch.c calls these for SaAdd / SaUpdate / SaDel / SaQuery / ReplayDone;
 * the config's `datapath userspace | xfrm` picks the table (ipm_backend_for).
 *
 *  - ipm_be_userspace (be_user.c): the userspace ESP datapath. add_sa puts the
 *    SA into the ESP SA table that esp_encap/esp_decap use; policies are the
 *    SA's own inner address (outbound routing) and the selector check on
 *    decapsulated packets, so add_policy/del_policy have nothing to program.
 *  - ipm_be_xfrm (be_xfrm.c): Linux XFRM over netlink (xfrm.h). add_sa programs
 *    the kernel state first and only then records the SA in the same table (ids,
 *    owner, lifetimes; the kernel does the ESP); a kernel that refuses the state
 *    (no ESP, missing algorithm) fails the SaAdd with xfrm.c's clear sentence.
 *    The policies of a CHILD SA go in one sendmsg once both its states are in;
 *    if any of them fails, the ones that went in are removed again. MOBIKE
 *    (update_sa) is XFRM_MSG_MIGRATE of the CHILD SA's policies and states.
 *
 * Ownership in the kernel (reconcile): every state and policy ipsecmgr installs
 * carries reqid = the CHILD SA's inbound SPI (unique on the gateway, stable
 * across restarts; its top byte is the owning sessmgr slot & 0xff,
 * sessmgr/ike_sa.c), and every policy carries the priority XFRM_OWN_PRIORITY.
 * A policy is ours when its priority is XFRM_OWN_PRIORITY; a state is ours when
 * its reqid is that of one of our policies, or equals its own SPI (our inbound
 * state), or equals the SPI of such an inbound state (its outbound partner).
 */
#ifndef IPM_BACKEND_H
#define IPM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_sa.h"

/* An SA's id (as the proto's SaId). */
typedef struct ipm_be_id {
  uint8_t dir;          /* 1 = in, 2 = out */
  uint32_t spi, cin;    /* SPI; inbound SPI of the CHILD SA */
} ipm_be_id_t;

/* A traffic selector as an address prefix (XFRM selectors are prefixes). */
typedef struct ipm_be_prefix {
  uint8_t family;       /* AF_INET / AF_INET6 */
  uint8_t addr[16];
  uint8_t plen;
} ipm_be_prefix_t;

/* The policies of one CHILD SA: our side's selector, the peer's, the outer
 * (tunnel) addresses and the reqid tying them to the states. */
typedef struct ipm_be_child {
  uint32_t reqid;
  ipm_be_prefix_t local_ts, remote_ts;
  struct sockaddr_storage local, peer; /* outer, ports ignored */
} ipm_be_child_t;

/* Counters of one SA as the backend has them. */
typedef struct ipm_be_stats {
  uint64_t packets, bytes, seq;  /* seq: out = last sent, in = highest received */
} ipm_be_stats_t;

/* Is the CHILD SA with this reqid (inbound SPI) held by ipsecmgr? */
typedef bool (*ipm_be_claimed_t)(void *arg, uint32_t reqid);

/* Every function returns 0 or -errno and, on failure, a sentence in err. */
typedef struct ipm_backend_ops {
  const char *name;      /* "userspace" / "xfrm" */
  /* Install the SA id with parameters p (reqid = id->cin) and record it in the
   * table tab (*sa: the record). Nothing is left behind on failure. keep: a
   * resync - an SA the datapath still holds from before an ipsecmgr restart is
   * kept as it is (the kernel keeps XFRM states, and their sequence numbers,
   * across our restarts). */
  int (*add_sa)(void *ctx, esp_table_t *tab, const ipm_be_id_t *id, const esp_sa_params_t *p,
                bool keep, esp_sa_t **sa, char *err, size_t errlen);
  /* Move the SA to new outer addresses / encapsulation, keeping sequence
   * numbers and replay state (MOBIKE, RFC 4555). c: its CHILD SA's policies
   * (before the move) when installed, else NULL. */
  int (*update_sa)(void *ctx, esp_sa_t *sa, const ipm_be_child_t *c, const struct sockaddr *local,
                   const struct sockaddr *peer, bool udp_encap, char *err, size_t errlen);
  /* Remove the SA from the datapath and the table. */
  int (*del_sa)(void *ctx, esp_table_t *tab, esp_sa_t *sa, char *err, size_t errlen);
  /* Add / remove the in, out and fwd policies of a CHILD SA as one set. */
  int (*add_policy)(void *ctx, const ipm_be_child_t *c, char *err, size_t errlen);
  int (*del_policy)(void *ctx, const ipm_be_child_t *c, char *err, size_t errlen);
  /* Counters of an SA. */
  int (*query)(void *ctx, const esp_sa_t *sa, ipm_be_stats_t *st);
  /* Remove what we own in the datapath for CHILD SAs of this slot (reqid top
   * byte == slot & 0xff) that claimed() does not know; *removed counts them.
   * NULL when the backend keeps nothing outside the table. */
  int (*reconcile)(void *ctx, uint16_t slot, ipm_be_claimed_t claimed, void *arg,
                   unsigned *removed, char *err, size_t errlen);
} ipm_backend_ops_t;

extern const ipm_backend_ops_t ipm_be_userspace; /* ctx unused (NULL) */
extern const ipm_backend_ops_t ipm_be_xfrm;      /* ctx = xfrm_t * (xfrm.h) */

/* The XFRM backend's reconcile pass over the kernel's dumps, apart from the
 * socket (tests/fuzz/fuzz_nlreply.c feeds it parsed replies).
 * ipm_be_xfrm_collect: the xfrm_dump / xfrm_parse_dump callback that keeps
 * our entries (ESP states; policies of priority XFRM_OWN_PRIORITY) in the
 * ipm_be_xfrm_list_t arg (grown with realloc; free(list.e) after). Returns 1
 * (stop) when out of memory. ipm_be_xfrm_sweep: calls del(darg, e) for every
 * entry, states first, whose reqid's top byte is slot & 0xff and that
 * claimed(carg, reqid) does not claim; a state only when it is ours (a policy
 * of ours carries its reqid, or its reqid is its own SPI). Returns how many
 * del() returned 0 for. */
struct xfrm_dump_ent;
typedef struct ipm_be_xfrm_list {
  struct xfrm_dump_ent *e;
  size_t n, cap;
} ipm_be_xfrm_list_t;
int ipm_be_xfrm_collect(const struct xfrm_dump_ent *e, void *arg);
unsigned ipm_be_xfrm_sweep(const ipm_be_xfrm_list_t *pol, const ipm_be_xfrm_list_t *st,
                           uint16_t slot, ipm_be_claimed_t claimed, void *carg,
                           int (*del)(void *darg, const struct xfrm_dump_ent *e), void *darg);

/* The backend of a config `datapath` value (ike_cfg_datapath_t), NULL if none. */
const ipm_backend_ops_t *ipm_backend_for(unsigned datapath);

/* An inclusive address range as a prefix; false if it is not exactly one. */
bool ipm_be_range_prefix(uint8_t family, const uint8_t *start, const uint8_t *end,
                         ipm_be_prefix_t *out);

#endif /* IPM_BACKEND_H */
