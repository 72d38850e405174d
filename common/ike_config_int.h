/*
 * ike_config_int.h - internals shared by ike_config.c (parser) and
 * ike_config_util.c (names, algorithm tables, printing, look-ups). Not for other
 * modules: use ike_config.h.
 */
#ifndef IKE_CONFIG_INT_H
#define IKE_CONFIG_INT_H

#include "ike_config.h"

/* Cursor modes (ike_cfg_cursor_t.mode). */
enum {
  IKE_CFG_M_TOP = 0,
  IKE_CFG_M_CONFIG = 1,
  IKE_CFG_M_CONTEXT = 2,
  IKE_CFG_M_TEMPLATE = 3,
  IKE_CFG_M_PAYLOAD = 4,
  IKE_CFG_M_TSET = 5
};

/* One row of an algorithm name table. */
typedef struct ike_cfg_alg {
  const char *name;   /* config-file spelling */
  uint16_t id;        /* IKE_ENCR_*, IKE_PRF_*, IKE_INTEG_*, IKE_DH_* */
  uint16_t keylen;    /* encryption only: bits, 0 if no key-length attribute */
  uint8_t aead;       /* encryption only */
} ike_cfg_alg_t;

/* Tables, each ending with a row whose name is NULL. */
extern const ike_cfg_alg_t ike_cfg_encr_tab[];
extern const ike_cfg_alg_t ike_cfg_prf_tab[];
extern const ike_cfg_alg_t ike_cfg_integ_tab[];
extern const ike_cfg_alg_t ike_cfg_dh_tab[];

/* Row of tab whose name is s, or NULL. */
const ike_cfg_alg_t *ike_cfg_alg_by_name(const ike_cfg_alg_t *tab, const char *s);
/* Name of the DH group ("19"), "?" if unknown. */
const char *ike_cfg_dh_name(unsigned v);

/* The built-in transform sets a template uses when it lists none. */
size_t ike_cfg_default_tsets(int kind, ike_cfg_tset_t *out, size_t max);

/* Parse "a.b.c.d/n" or "x::/n" (a bare address means a host prefix). 0 or -1. */
int ike_cfg_parse_prefix(const char *s, ike_cfg_prefix_t *p);
/* Parse an IPv4 or IPv6 address. 0 or -1. */
int ike_cfg_parse_addr(const char *s, ike_cfg_addr_t *a);
/* Format an address into buf; returns buf. */
char *ike_cfg_addr_str(const ike_cfg_addr_t *a, char *buf, size_t len);
/* ID type for a config keyword ("fqdn", "ip-addr", ...), 0 if unknown. For
 * "ip-addr" it returns IKE_ID_IPV4_ADDR; the caller refines by address family. */
uint8_t ike_cfg_id_type_by_name(const char *s);

#endif /* IKE_CONFIG_INT_H */
