/*
 * ike_config.h - the StarOS-style configuration of ikegw (DESIGN.md "Configuration").
 *
 * One text file, indentation free, modes entered by block commands and left with a
 * line starting with "#exit" (or implicitly by the next block command of an outer
 * mode, by "end", or by the end of the file). Any other line starting with '#' is a
 * comment. The grammar reference is deploy/CONFIG.md; in short:
 *
 *   config
 *     sessmgr workers 0                       # 0 = one per core
 *     datapath userspace | xfrm
 *     state-directory /var/lib/ikegw
 *     checkpoint sync every 100 ms       # fsync of the checkpoints; 0 = each commit
 *     datapath max-sas 65536             # ipsecmgr's SA table, both directions
 *     logging level error|warning|info|debug
 *     ike udp-port 500
 *     ike nat-t-udp-port 4500
 *     bulkstats file /var/lib/ikegw/bulkstats.csv
 *     bulkstats interval 300                  # seconds, 0 = off
 *     context ipsec
 *       bind address 0.0.0.0                  # repeat for more addresses (v4/v6)
 *       ip pool pool1 10.10.0.0/24            # IPv4 or IPv6 prefix
 *       ikev2-ikesa transform-set ike1         # IKE SA transform set (block)
 *         encryption aes-gcm-256 aes-cbc-256   # preference order, one kind per set
 *         prf sha2-256
 *         hmac sha2-256-128                    # omitted for AEAD ciphers
 *         group 19 14                          # DH groups, preference order
 *       #exit
 *       ipsec transform-set esp1               # CHILD (ESP) transform set (block)
 *         encryption aes-gcm-256
 *         group none                           # PFS groups on CREATE_CHILD_SA
 *       #exit
 *       crypto template tmpl1 ikev2-dynamic
 *         ikev2-ikesa transform-set list ike1
 *         ikev2-ikesa retransmission-timeout 2000    # ms, doubles each retry
 *         ikev2-ikesa max-retransmission 5
 *         ikev2-ikesa lifetime 86400                 # IKE SA, seconds
 *         ikev2-ikesa cookie-threshold 1000          # half-open SAs before COOKIE
 *         ikev2-ikesa mobike [cookie-challenge]      # also: ikesa mobike ...
 *         ikev2-ikesa mobike deny-address 192.0.2.0/24
 *         dpd interval 30                            # 0 or "no dpd" = off
 *         identity local id-type fqdn id gw.example.net
 *         identity remote id-type fqdn id *.example.net   # repeatable; none = any
 *         authentication local pre-shared-key key "secret"
 *         authentication remote pre-shared-key key "secret" [id-type T id V]
 *         authentication local certificate
 *         authentication remote certificate
 *         certificate file /etc/ikegw/gw.crt
 *         private-key file /etc/ikegw/gw.key
 *         ca-certificate file /etc/ikegw/ca.crt
 *         ip address pool name pool1                  # up to one v4 and one v6 pool
 *         ip name-servers 10.10.0.1 2001:db8::53
 *         payload ps1 match childsa [match ipv4|ipv6|any]
 *           ipsec transform-set list esp1
 *           lifetime 3600                              # CHILD SA, seconds
 *           lifetime kilo-bytes 0                      # 0 = no byte limit
 *           lifetime packets 0                         # 0 = no packet limit
 *           traffic-selector local 0.0.0.0/0           # repeatable
 *         #exit
 *       #exit
 *     #exit
 *   end
 *
 * The result is a plain struct (no pointers) so it can be copied, compared and sent
 * whole. Every parse error reads "file:line: reason"; a failed parse leaves the
 * caller's struct untouched (the partial config is discarded).
 *
 * Effect of run-time changes (gwctl configure) on existing SAs: an IKE SA keeps what
 * it negotiated (transform, MOBIKE on/off as answered in IKE_AUTH, lifetimes); timers
 * (retransmission, DPD) and the cookie-challenge flag are read from the template when
 * they are next used. New SAs use the new config.
 */
#ifndef IKE_CONFIG_H
#define IKE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bounds: the reader refuses input beyond these with a "file:line: reason" error. */
#define IKE_CFG_LINE_MAX       1024u   /* bytes per line, newline excluded */
#define IKE_CFG_LINES_MAX      100000u /* lines per file or buffer */
#define IKE_CFG_FILE_MAX       (4u << 20) /* bytes per file */
#define IKE_CFG_NAME_MAX       64u     /* names of contexts, templates, sets, pools (incl. NUL) */
#define IKE_CFG_PATH_MAX       256u    /* file and directory paths (incl. NUL) */
#define IKE_CFG_ID_MAX         128u    /* identity values (incl. NUL) */
#define IKE_CFG_PSK_MAX        128u    /* pre-shared key bytes (incl. NUL) */
#define IKE_CFG_ADDR_MAX       46u     /* INET6_ADDRSTRLEN */
#define IKE_CFG_MAX_CONTEXTS   4u
#define IKE_CFG_MAX_TEMPLATES  16u     /* over all contexts */
#define IKE_CFG_MAX_TSETS      32u     /* IKE + ESP transform sets over all contexts */
#define IKE_CFG_MAX_POOLS      16u     /* over all contexts */
#define IKE_CFG_MAX_BIND       8u
#define IKE_CFG_MAX_ALGS       8u      /* algorithms of one kind in one transform set */
#define IKE_CFG_MAX_TSET_REFS  4u      /* transform sets listed by one template */
#define IKE_CFG_MAX_PSKS       32u     /* remote PSK entries per template */
#define IKE_CFG_MAX_REMOTE_IDS 16u     /* "identity remote" patterns per template */
#define IKE_CFG_MAX_DNS        4u
#define IKE_CFG_MAX_TS         8u      /* local traffic selectors per template */
#define IKE_CFG_MAX_DENY       16u     /* MOBIKE deny-address prefixes per template */
#define IKE_CFG_NONE           0xFFu   /* "no index" in the uint8_t index fields */

/* Defaults (also what "default <command>" restores). */
#define IKE_CFG_DEF_RETRANS_MS      2000u  /* first retransmission after 2 s, then x2 */
#define IKE_CFG_DEF_MAX_RETRANS     5u     /* 2+4+8+16+32 s, dead after ~62 s + 64 s */
#define IKE_CFG_DEF_DPD_S           30u
#define IKE_CFG_DEF_IKE_LIFETIME_S  86400u
#define IKE_CFG_DEF_CHILD_LIFETIME_S 3600u
#define IKE_CFG_DEF_COOKIE_THRESHOLD 1000u
#define IKE_CFG_DEF_CKPT_SYNC_MS 100u     /* "checkpoint sync every 100 ms" */
#define IKE_CFG_DEF_MAX_SAS 65536u        /* "datapath max-sas": ~30,000 clients with
                                             a CHILD SA each and rekey overlap */
#define IKE_CFG_DEF_HALF_OPEN_PER_PEER 100u
#define IKE_CFG_DEF_BULKSTATS_S     300u
#define IKE_CFG_DEF_STATE_DIR       "/var/lib/ikegw"

typedef enum {
  IKE_CFG_DP_USERSPACE = 0, /* ESP in ipsecmgr, TUN device (default) */
  IKE_CFG_DP_XFRM = 1       /* Linux XFRM over netlink */
} ike_cfg_datapath_t;

typedef enum {
  IKE_CFG_LOG_ERROR = 0,
  IKE_CFG_LOG_WARNING = 1,
  IKE_CFG_LOG_INFO = 2, /* default */
  IKE_CFG_LOG_DEBUG = 3
} ike_cfg_loglevel_t;

/* An IPv4 or IPv6 prefix (address with the host bits as written). */
typedef struct ike_cfg_prefix {
  uint8_t family;    /* AF_INET or AF_INET6 */
  uint8_t plen;      /* prefix length: 0..32 or 0..128 */
  uint8_t addr[16];  /* network byte order; IPv4 uses the first 4 bytes, rest zero */
} ike_cfg_prefix_t;

/* An IPv4 or IPv6 address. */
typedef struct ike_cfg_addr {
  uint8_t family;    /* AF_INET or AF_INET6 */
  uint8_t addr[16];  /* network byte order; IPv4 uses the first 4 bytes */
} ike_cfg_addr_t;

/* An identity: IKE ID type (IKE_ID_* of ike_wire.h) and its text value.
 * fqdn, rfc822-addr, key-id: the text as bytes; ip-addr: the address (v4 or v6,
 * type IKE_ID_IPV4_ADDR or IKE_ID_IPV6_ADDR chosen by the address);
 * der-asn1-dn: an RFC 4514 string such as "CN=gw,O=Example" (matching is the
 * engine's business). A remote pattern may start with '*' to match any prefix. */
typedef struct ike_cfg_id {
  uint8_t type;                 /* IKE_ID_*, 0 = not set */
  char value[IKE_CFG_ID_MAX];
} ike_cfg_id_t;

/* One encryption algorithm with its key length. */
typedef struct ike_cfg_encr {
  uint16_t id;      /* IKE_ENCR_* */
  uint16_t keylen;  /* bits: 128/192/256; 0 for ciphers without a key-length attribute */
} ike_cfg_encr_t;

/* A transform set. kind IKE: all four lists used (integ empty for AEAD sets).
 * kind ESP: encr, integ (empty for AEAD), dh = PFS groups (empty = no PFS);
 * prf unused. One set holds only AEAD or only non-AEAD ciphers, so it maps to one
 * IKEv2 proposal. */
typedef enum { IKE_CFG_TSET_IKE = 1, IKE_CFG_TSET_ESP = 2 } ike_cfg_tset_kind_t;

typedef struct ike_cfg_tset {
  char name[IKE_CFG_NAME_MAX];
  uint8_t kind;                            /* ike_cfg_tset_kind_t */
  uint8_t ctx;                             /* owning context index */
  uint8_t aead;                            /* 1 if its ciphers are AEAD */
  uint8_t n_encr, n_prf, n_integ, n_dh;
  ike_cfg_encr_t encr[IKE_CFG_MAX_ALGS];   /* preference order */
  uint16_t prf[IKE_CFG_MAX_ALGS];          /* IKE_PRF_* */
  uint16_t integ[IKE_CFG_MAX_ALGS];        /* IKE_INTEG_* */
  uint16_t dh[IKE_CFG_MAX_ALGS];           /* IKE_DH_* */
} ike_cfg_tset_t;

/* An IP pool for virtual addresses. */
typedef struct ike_cfg_pool {
  char name[IKE_CFG_NAME_MAX];
  uint8_t ctx;                /* owning context index */
  ike_cfg_prefix_t prefix;
} ike_cfg_pool_t;

/* A remote pre-shared key: for peers whose IDi equals id, or for any peer when
 * id.type == 0. */
typedef struct ike_cfg_psk {
  ike_cfg_id_t id;
  char key[IKE_CFG_PSK_MAX];
} ike_cfg_psk_t;

typedef enum {
  IKE_CFG_AUTH_PSK = 1,   /* pre-shared key */
  IKE_CFG_AUTH_CERT = 2   /* X.509 certificate (RSA/ECDSA, RFC 7427 signatures) */
} ike_cfg_auth_t;

/* A crypto template (StarOS "crypto template NAME ikev2-dynamic"). */
typedef struct ike_cfg_template {
  char name[IKE_CFG_NAME_MAX];
  uint8_t ctx;                               /* owning context index */

  /* IKE SA transform sets, resolved copies in "transform-set list" order. If the
   * template lists none, the built-in default sets are copied here and
   * ike_tset_default is 1 (then "show configuration" prints no list line). */
  uint8_t n_ike_tsets, ike_tset_default;
  ike_cfg_tset_t ike_tsets[IKE_CFG_MAX_TSET_REFS];
  /* CHILD SA (ESP) transform sets, same rules. */
  uint8_t n_child_tsets, child_tset_default;
  ike_cfg_tset_t child_tsets[IKE_CFG_MAX_TSET_REFS];

  /* Authentication. */
  uint8_t auth_local;                        /* ike_cfg_auth_t, default PSK */
  uint8_t auth_remote;                       /* ike_cfg_auth_t, default PSK */
  ike_cfg_id_t local_id;                     /* type 0: our address (IP ID) */
  char local_psk[IKE_CFG_PSK_MAX];           /* "" = use the remote PSK for the peer */
  uint8_t n_psks;
  ike_cfg_psk_t psks[IKE_CFG_MAX_PSKS];      /* remote PSKs, per ID or default */
  uint8_t n_remote_ids;
  ike_cfg_id_t remote_ids[IKE_CFG_MAX_REMOTE_IDS]; /* accepted IDi; none = any */
  char cert_file[IKE_CFG_PATH_MAX];          /* PEM, our certificate (chain) */
  char key_file[IKE_CFG_PATH_MAX];           /* PEM, our private key */
  char ca_file[IKE_CFG_PATH_MAX];            /* PEM, CA(s) the peer must chain to */
  char crl_file[IKE_CFG_PATH_MAX];           /* PEM/DER CRLs ("" = no revocation check) */

  /* Addresses handed out in the configuration payload. */
  uint8_t pool4, pool6;                      /* index into cfg->pools, IKE_CFG_NONE */
  uint8_t n_dns;
  ike_cfg_addr_t dns[IKE_CFG_MAX_DNS];

  /* Timers and limits. */
  uint32_t retrans_timeout_ms;               /* first retransmission; doubles each time */
  uint32_t max_retrans;                      /* retransmissions before the peer is dead */
  uint32_t dpd_interval_s;                   /* 0 = DPD off */
  uint32_t ike_lifetime_s;                   /* IKE SA rekey/expiry */
  uint32_t cookie_threshold;                 /* half-open SAs before COOKIE is demanded;
                                                0 = always demand a COOKIE */
  uint32_t half_open_per_peer;               /* half-open SAs one source address may
                                                hold per sessmgr, 0 = no limit */
  uint32_t identity_limit;                   /* established IKE SAs (and so virtual
                                                IPs) one identity may hold per
                                                sessmgr, 0 = no limit */
  uint8_t identity_limit_refuse;             /* at the limit: 1 refuse the new SA,
                                                0 replace the oldest */

  /* CHILD SA ("payload NAME match childsa" block). */
  char payload_name[IKE_CFG_NAME_MAX];       /* "" = no payload block written */
  uint8_t payload_match;                     /* 0 any, 4 ipv4, 6 ipv6 */
  uint32_t child_lifetime_s;
  uint64_t child_lifetime_kb;                /* 0 = no limit */
  uint64_t child_lifetime_packets;           /* 0 = no limit */
  uint8_t n_local_ts;
  ike_cfg_prefix_t local_ts[IKE_CFG_MAX_TS]; /* none = 0.0.0.0/0 and ::/0 */

  /* MOBIKE (RFC 4555, the seed). */
  uint8_t mobike;                            /* "ikev2-ikesa mobike" */
  uint8_t mobike_cookie_challenge;           /* return routability check after update */
  uint8_t n_mobike_deny;
  ike_cfg_prefix_t mobike_deny[IKE_CFG_MAX_DENY]; /* new peer addresses answered
                                                     with UNACCEPTABLE_ADDRESSES */
} ike_cfg_template_t;

typedef struct ike_cfg_context {
  char name[IKE_CFG_NAME_MAX];
} ike_cfg_context_t;

typedef struct ike_cfg_bind {
  char addr[IKE_CFG_ADDR_MAX];  /* as written (validated), e.g. "0.0.0.0", "::" */
  ike_cfg_addr_t parsed;
  uint8_t ctx;                  /* context it was written in, IKE_CFG_NONE = config level */
} ike_cfg_bind_t;

/* The whole configuration. Plain data: copy with '=' or memcpy. */
typedef struct ike_config {
  /* Global. */
  uint32_t sessmgr_workers;                 /* 0 = number of cores */
  uint8_t datapath;                         /* ike_cfg_datapath_t */
  uint8_t log_level;                        /* ike_cfg_loglevel_t */
  char state_dir[IKE_CFG_PATH_MAX];
  uint32_t ckpt_sync_ms;                    /* checkpoint fsync period; 0 = every commit */
  uint32_t max_sas;                         /* ipsecmgr's SA table (both directions) */
  uint16_t ike_port;                        /* default 500 */
  uint16_t natt_port;                       /* default 4500 */
  char bulkstats_file[IKE_CFG_PATH_MAX];    /* "" = no CSV file */
  uint32_t bulkstats_interval_s;            /* 0 = off */
  uint8_t n_bind;
  ike_cfg_bind_t bind[IKE_CFG_MAX_BIND];    /* none = 0.0.0.0 and :: */

  uint8_t n_contexts, n_templates, n_tsets, n_pools;
  ike_cfg_context_t contexts[IKE_CFG_MAX_CONTEXTS];
  ike_cfg_template_t templates[IKE_CFG_MAX_TEMPLATES];
  ike_cfg_tset_t tsets[IKE_CFG_MAX_TSETS];  /* definitions, IKE and ESP */
  ike_cfg_pool_t pools[IKE_CFG_MAX_POOLS];
} ike_config_t;

/* Reset *cfg to the defaults: no contexts, no templates, defaults above. */
void ike_config_init(ike_config_t *cfg);

/* Parse the file at path into *cfg. Returns 0, or -1 with "path:line: reason" in
 * err (always NUL-terminated when errlen > 0); *cfg is unchanged on error.
 * Missing file: "path:0: cannot open: <strerror>". */
int ike_config_load(const char *path, ike_config_t *cfg, char *err, size_t errlen);

/* Parse len bytes of buf (not NUL-terminated, any bytes) as a config file named
 * name (used only in messages). Same results as ike_config_load. NUL bytes and
 * lines longer than IKE_CFG_LINE_MAX are errors. */
int ike_config_parse_buf(const char *name, const void *buf, size_t len,
                         ike_config_t *cfg, char *err, size_t errlen);

/* Where a sequence of run-time lines stands: the current mode. Start with
 * ike_cfg_cursor_init (config mode, as after the "config" line). */
typedef struct ike_cfg_cursor {
  char name[32];      /* source name for messages, e.g. "gwctl" */
  uint32_t line;      /* lines seen so far */
  uint8_t mode;       /* internal: 0 top, 1 config, 2 context, 3 template,
                         4 payload, 5 transform set */
  uint8_t ctx, tmpl, tset; /* indexes of the current blocks, IKE_CFG_NONE */
  uint32_t block_line; /* internal: line of the current template block */
} ike_cfg_cursor_t;

/* Start a run-time session at config mode; name labels the error messages. */
void ike_cfg_cursor_init(ike_cfg_cursor_t *cur, const char *name);

/* Apply one run-time line (any line of the file grammar, e.g. "context ipsec",
 * "crypto template tmpl1 ikev2-dynamic", "ikev2-ikesa mobike cookie-challenge",
 * "#exit", "end") to the running config. The line is applied completely or not at
 * all: on error *cfg is unchanged and err reads "name:line: reason". Leaving a
 * template block ("#exit", "end", a new outer block) checks the template as at
 * the end of a file. Returns 0 or -1. */
int ike_config_apply_line(ike_config_t *cfg, ike_cfg_cursor_t *cur, const char *line,
                          char *err, size_t errlen);

/* Apply a fragment of lines atomically (what gwctl configure sends): the lines are
 * applied in order from config mode to a copy, open blocks are closed and checked
 * at the end, and only if all succeed does *cfg change. Returns 0 or -1 with
 * "name:line: reason". */
int ike_config_apply_buf(ike_config_t *cfg, const char *name, const void *buf,
                         size_t len, char *err, size_t errlen);

/* Print cfg in the file grammar ("show configuration"). Parsing the output gives
 * back an equal config: ike_config_equal(parse(print(c)), c). Returns bytes
 * written or -1 on a write error. */
int ike_config_print(const ike_config_t *cfg, FILE *out);

/* Same into buf (always NUL-terminated when len > 0). Returns the length the full
 * text needs (like snprintf); the text is complete iff the result < len. */
int ike_config_print_buf(const ike_config_t *cfg, char *buf, size_t len);
/* The same with redact non-zero: pre-shared keys printed as IKE_CFG_REDACTED
 * (show configuration; the running-config file keeps them). */
int ike_config_print_buf_opts(const ike_config_t *cfg, char *buf, size_t len, int redact);
#define IKE_CFG_REDACTED "\"<redacted>\""

/* 1 if a and b hold the same configuration, else 0. */
int ike_config_equal(const ike_config_t *a, const ike_config_t *b);

/* Look-ups. Each returns NULL / -1 when not found. */
/* Template by name (in any context; first match). */
const ike_cfg_template_t *ike_config_find_template(const ike_config_t *cfg, const char *name);
/* The sample key of deploy/ikegw.conf: with it, the gateway may only listen
 * on loopback addresses. Returns 0, or -1 and "FILE:LINE: reason" in err when
 * cfg (read from file) uses it and binds a non-loopback address. */
#define IKE_CFG_SAMPLE_PSK "ikegw-default-psk-change-me"
int ike_config_sample_psk_check(const ike_config_t *cfg, const char *file, char *err,
                                size_t len);
/* Pool by name. */
const ike_cfg_pool_t *ike_config_find_pool(const ike_config_t *cfg, const char *name);
/* Index of a template by name, or -1. */
int ike_config_template_index(const ike_config_t *cfg, const char *name);
/* Pool of a template for family AF_INET / AF_INET6, or NULL. */
const ike_cfg_pool_t *ike_config_template_pool(const ike_config_t *cfg,
                                               const ike_cfg_template_t *t, int family);

/* The remote PSK for a peer ID (type IKE_ID_*, raw value bytes as in the ID
 * payload; IP IDs as 4/16 address bytes; for IKE_ID_DER_ASN1_DN the engine passes
 * the DN rendered as RFC 4514 text, compared byte for byte): the entry whose id
 * matches, else the default entry (id.type 0), else the local PSK, else NULL. */
const char *ike_config_remote_psk(const ike_cfg_template_t *t, uint8_t id_type,
                                  const uint8_t *id, size_t id_len);
/* The PSK we sign our AUTH with for this peer: local_psk if set, else the remote
 * PSK for the peer's ID. NULL if none. */
const char *ike_config_local_psk(const ike_cfg_template_t *t, uint8_t id_type,
                                 const uint8_t *id, size_t id_len);
/* 1 if the peer ID is accepted by the template's "identity remote" patterns (or
 * there are none), else 0. Patterns "*suffix" match any ID ending in suffix. */
int ike_config_remote_id_ok(const ike_cfg_template_t *t, uint8_t id_type,
                            const uint8_t *id, size_t id_len);
/* 1 if addr (family AF_INET/AF_INET6, 4 or 16 bytes) is in the template's MOBIKE
 * deny list (answer UNACCEPTABLE_ADDRESSES), else 0. */
int ike_config_mobike_denied(const ike_cfg_template_t *t, int family, const uint8_t *addr);
/* The seed: "Retransmission/Dead Peer Detection (DPD) timeout must be
 * configured with a larger value when the MOBIKE feature is enabled." Our
 * defaults are that larger value (2 s doubling over 5 retries, DPD 30 s: a
 * client between networks keeps its SA about two minutes). For templates with
 * MOBIKE whose retransmission-timeout, max-retransmission or DPD interval
 * (when on) is below its default, write one line naming them and their timers
 * into buf (NUL-terminated, truncated to cap) for a WARN at start. Returns the
 * number of such templates (0: buf is ""). */
int ike_config_mobike_advice(const ike_config_t *cfg, char *buf, size_t cap);
/* 1 if addr is inside prefix p (same family), else 0. */
int ike_cfg_prefix_contains(const ike_cfg_prefix_t *p, int family, const uint8_t *addr);

/* Names for show output: "userspace"/"xfrm", "error".."debug", "pre-shared-key"/
 * "certificate", "fqdn"/"ip-addr"/"rfc822-addr"/"key-id"/"der-asn1-dn". */
const char *ike_cfg_datapath_name(unsigned v);
const char *ike_cfg_loglevel_name(unsigned v);
const char *ike_cfg_auth_name(unsigned v);
const char *ike_cfg_id_type_name(unsigned v);
/* Config-file names of algorithms ("aes-cbc-256", "sha2-256", "sha2-256-128", "19");
 * "?" for unknown values. */
const char *ike_cfg_encr_name(const ike_cfg_encr_t *e);
const char *ike_cfg_prf_name(unsigned v);
const char *ike_cfg_integ_name(unsigned v);
/* Format a prefix as "a.b.c.d/n" or "x::/n" into buf; returns buf. */
char *ike_cfg_prefix_str(const ike_cfg_prefix_t *p, char *buf, size_t len);

#endif /* IKE_CONFIG_H */
