/*
 * ike_pld.h - IKEv2 header and payload codec (RFC 7296 3, RFC 7383 2.5).
 *
 * Parsing is zero-copy: decoded structs point into the caller's buffer, which
 * must outlive them. Every parser is paired with its validation (remaining >=
 * header, declared >= header, declared <= remaining, sub-structures
 * consistent) and returns 0 or a negative ike_err_t; on error the output is
 * unspecified and nothing was allocated. All counts are bounded by the
 * IKE_MAX_* constants below; more gives -IKE_E_TOO_MANY.
 *
 * Building goes through ike_mb_t, which chains payloads: each put patches the
 * previous payload's Next Payload byte (or the header's) and its own length.
 */
#ifndef IKE_PLD_H
#define IKE_PLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_buf.h"
#include "ike_err.h"
#include "ike_wire.h"

#define IKE_MAX_PAYLOADS    48  /* payloads in one chain */
#define IKE_MAX_PROPOSALS   16  /* proposals in one SA payload */
#define IKE_MAX_TRANSFORMS  64  /* transforms in one proposal (strongSwan 5.9 default: 36) */
#define IKE_MAX_TS          16  /* selectors in one TS payload */
#define IKE_MAX_CP_ATTRS    32  /* attributes in one CP payload */
#define IKE_MAX_DEL_SPIS    64  /* SPIs of one Delete payload we decode */
#define IKE_MAX_SPI_LEN     8   /* IKE SPI 8, ESP/AH 4 */

/* The fixed IKE header (RFC 7296 3.1). */
typedef struct ike_hdr {
  uint64_t spi_i;        /* IKE SA Initiator's SPI */
  uint64_t spi_r;        /* IKE SA Responder's SPI */
  uint8_t next_payload;  /* type of the first payload */
  uint8_t version;       /* major << 4 | minor */
  uint8_t exchange;      /* ike_exchange_t */
  uint8_t flags;         /* IKE_FLAG_* */
  uint32_t msg_id;       /* Message ID */
  uint32_t length;       /* whole message incl. header */
} ike_hdr_t;

/* Parse and validate the header: length >= 28 and <= len, major version 2.
 * Returns 0, -IKE_E_TRUNC, -IKE_E_BAD_LENGTH or -IKE_E_BAD_VERSION. */
int ike_hdr_parse(const uint8_t *buf, size_t len, ike_hdr_t *h);
/* Write the header (length is patched later by ike_mb_finish). */
void ike_hdr_write(ike_wr_t *w, const ike_hdr_t *h);

/* One payload of a chain, still undecoded. */
typedef struct ike_pld {
  uint8_t type;          /* ike_payload_t */
  bool critical;         /* C bit */
  uint8_t next;          /* Next Payload field (for SK/SKF: first inner type) */
  uint16_t off;          /* offset of the generic header in the parsed buffer */
  const uint8_t *body;   /* payload body after the 4-byte generic header */
  uint16_t body_len;     /* body length */
} ike_pld_t;

typedef struct ike_chain {
  ike_pld_t pld[IKE_MAX_PAYLOADS];
  unsigned n;
} ike_chain_t;

/* Walk a payload chain starting with type `first` over buf[0..len).
 * SK and SKF must be last: their body runs to the end of their declared length
 * and the walk stops there (the chain inside is parsed after decryption).
 * Unknown non-critical payloads are kept (type as read) and must be skipped by
 * callers; an unknown critical one gives -IKE_E_UNSUPPORTED_CRITICAL and, if
 * bad_type is not NULL, stores its type there (RFC 7296 2.5).
 * Errors: -IKE_E_TRUNC (chain runs off the end), -IKE_E_BAD_LENGTH (payload
 * length < 4, past the end, or bytes left over after the last payload),
 * -IKE_E_TOO_MANY. */
int ike_chain_parse(uint8_t first, const uint8_t *buf, size_t len,
                    size_t base_off, ike_chain_t *c, uint8_t *bad_type);
/* Parse header + outer chain of a whole datagram (offset of each payload is
 * relative to msg). */
int ike_msg_parse(const uint8_t *msg, size_t len, ike_hdr_t *h, ike_chain_t *c,
                  uint8_t *bad_type);
/* First payload of a type in a chain, or NULL. */
const ike_pld_t *ike_chain_find(const ike_chain_t *c, uint8_t type);

/* --- Decoded payload bodies --- */

typedef struct ike_transform {
  uint8_t type;          /* ike_transform_type_t */
  uint16_t id;           /* transform ID */
  uint16_t key_len;      /* Key Length attribute in bits, 0 if absent */
  uint8_t n_unknown_attrs; /* attributes other than Key Length: a proposal
                              holding such a transform MUST be rejected
                              (RFC 7296 3.3.6), it is not a syntax error */
} ike_transform_t;

typedef struct ike_proposal {
  uint8_t num;           /* Proposal Num, 1-based */
  uint8_t protocol;      /* ike_proto_t */
  uint8_t spi_len;       /* 0, 4 or 8 */
  uint8_t spi[IKE_MAX_SPI_LEN];
  uint8_t n_transforms;
  ike_transform_t t[IKE_MAX_TRANSFORMS];
} ike_proposal_t;

typedef struct ike_sa_pld {
  uint8_t n;
  ike_proposal_t p[IKE_MAX_PROPOSALS];
} ike_sa_pld_t;

typedef struct ike_ke_pld {
  uint16_t group;        /* ike_dh_group_t */
  const uint8_t *data;   /* key exchange data */
  uint16_t len;
} ike_ke_pld_t;

typedef struct ike_id_pld {    /* IDi, IDr */
  uint8_t type;                /* ike_id_type_t */
  const uint8_t *data;
  uint16_t len;
  const uint8_t *body;         /* whole body (type + 3 reserved + data) for AUTH */
  uint16_t body_len;
} ike_id_pld_t;

typedef struct ike_cert_pld {  /* CERT, CERTREQ */
  uint8_t encoding;
  const uint8_t *data;
  uint16_t len;
} ike_cert_pld_t;

typedef struct ike_auth_pld {
  uint8_t method;              /* ike_auth_method_t */
  const uint8_t *data;
  uint16_t len;
} ike_auth_pld_t;

typedef struct ike_nonce_pld { /* 16..256 bytes (RFC 7296 3.9) */
  const uint8_t *data;
  uint16_t len;
} ike_nonce_pld_t;

typedef struct ike_notify_pld {
  uint8_t protocol;            /* ike_proto_t, 0 if none */
  uint8_t spi_len;
  uint8_t spi[IKE_MAX_SPI_LEN];
  uint16_t type;               /* ike_notify_t */
  const uint8_t *data;         /* notification data */
  uint16_t len;
} ike_notify_pld_t;

typedef struct ike_delete_pld {
  uint8_t protocol;            /* ike_proto_t */
  uint8_t spi_len;             /* 0 for IKE, 4 for ESP/AH */
  uint16_t n_spis;             /* as declared; SPIs decoded up to IKE_MAX_DEL_SPIS */
  uint32_t spi[IKE_MAX_DEL_SPIS]; /* ESP/AH SPIs in host order */
} ike_delete_pld_t;

typedef struct ike_ts {
  uint8_t type;                /* IKE_TS_IPV4_ADDR_RANGE / IKE_TS_IPV6_ADDR_RANGE */
  uint8_t ip_proto;            /* 0 = any */
  uint16_t start_port, end_port;
  uint8_t start[16], end[16];  /* 4 or 16 bytes used */
} ike_ts_t;

typedef struct ike_ts_pld {    /* TSi, TSr */
  uint8_t n;
  ike_ts_t ts[IKE_MAX_TS];
} ike_ts_pld_t;

typedef struct ike_cp_attr {
  uint16_t type;               /* ike_cfg_attr_t (R bit cleared) */
  const uint8_t *value;
  uint16_t len;
} ike_cp_attr_t;

typedef struct ike_cp_pld {
  uint8_t cfg_type;            /* IKE_CFG_* */
  uint8_t n;
  ike_cp_attr_t a[IKE_MAX_CP_ATTRS];
} ike_cp_pld_t;

typedef struct ike_eap_pld {
  uint8_t code;                /* 1 request, 2 response, 3 success, 4 failure */
  uint8_t identifier;
  uint16_t length;             /* EAP length field, == body length */
  uint8_t type;                /* only for request/response, else 0 */
  const uint8_t *data;         /* type data */
  uint16_t len;
} ike_eap_pld_t;

typedef struct ike_skf_pld {   /* RFC 7383 2.5 */
  uint16_t frag_num;           /* 1..total */
  uint16_t total;
  const uint8_t *data;         /* IV | ciphertext | ICV */
  uint16_t len;
} ike_skf_pld_t;

/* Body parsers: decode pld->body. 0 or negative ike_err_t. */
int ike_pld_sa(const ike_pld_t *p, ike_sa_pld_t *out);
int ike_pld_ke(const ike_pld_t *p, ike_ke_pld_t *out);
int ike_pld_id(const ike_pld_t *p, ike_id_pld_t *out);
int ike_pld_cert(const ike_pld_t *p, ike_cert_pld_t *out);
int ike_pld_auth(const ike_pld_t *p, ike_auth_pld_t *out);
int ike_pld_nonce(const ike_pld_t *p, ike_nonce_pld_t *out);
int ike_pld_notify(const ike_pld_t *p, ike_notify_pld_t *out);
int ike_pld_delete(const ike_pld_t *p, ike_delete_pld_t *out);
int ike_pld_ts(const ike_pld_t *p, ike_ts_pld_t *out);
int ike_pld_cp(const ike_pld_t *p, ike_cp_pld_t *out);
int ike_pld_eap(const ike_pld_t *p, ike_eap_pld_t *out);
int ike_pld_skf(const ike_pld_t *p, ike_skf_pld_t *out);
/* Vendor ID and SK bodies are opaque: use p->body / p->body_len. */

/* Run the body parser that matches p->type into scratch space and return its
 * result (0 for Vendor ID, SK and unknown non-critical payloads). */
int ike_pld_check(const ike_pld_t *p);
/* ike_pld_check on every payload of c; on error *bad_idx (if not NULL)
 * receives the index of the first failing payload. */
int ike_chain_check(const ike_chain_t *c, unsigned *bad_idx);

/* --- Building --- */

/* A message (or inner chain) under construction. */
typedef struct ike_mb {
  ike_wr_t w;
  size_t np_off;   /* offset of the Next Payload byte to patch for the next put */
  size_t hdr_off;  /* offset of the IKE header, or SIZE_MAX for an inner chain */
  uint8_t first_type; /* inner chain: type of the first payload (0 if none) */
  uint8_t last_type;  /* type of the last payload begun (0 if none); nothing
                         may follow SK/SKF */
} ike_mb_t;

/* Start a message with header h in buf. */
void ike_mb_init(ike_mb_t *mb, uint8_t *buf, size_t cap, const ike_hdr_t *h);
/* Start an inner chain (for SK): *first_type receives the first payload type
 * when ike_mb_finish is called. */
void ike_mb_init_inner(ike_mb_t *mb, uint8_t *buf, size_t cap);
/* Begin a payload of `type`: writes the generic header, links it into the
 * chain, returns its offset for ike_mb_end. */
size_t ike_mb_begin(ike_mb_t *mb, uint8_t type, bool critical);
/* Patch the payload length of the payload begun at off. */
void ike_mb_end(ike_mb_t *mb, size_t off);
/* Patch the header length; returns total length, or negative on overflow. For
 * inner chains returns the chain length and stores the first type. */
int ike_mb_finish(ike_mb_t *mb, uint8_t *first_type);

/* Payload builders (each begin+body+end). */
/* SA: proposals are written with their .num (an answer echoes the accepted
 * number, RFC 7296 3.3.1); a .num of 0 is written as its 1-based position. */
void ike_put_sa(ike_mb_t *mb, const ike_sa_pld_t *sa);
void ike_put_ke(ike_mb_t *mb, uint16_t group, const uint8_t *data, size_t len);
void ike_put_id(ike_mb_t *mb, uint8_t pld_type, uint8_t id_type,
                const uint8_t *data, size_t len);
void ike_put_cert(ike_mb_t *mb, uint8_t pld_type, uint8_t encoding,
                  const uint8_t *data, size_t len);
void ike_put_auth(ike_mb_t *mb, uint8_t method, const uint8_t *data, size_t len);
void ike_put_nonce(ike_mb_t *mb, const uint8_t *data, size_t len);
void ike_put_notify(ike_mb_t *mb, uint8_t protocol, const uint8_t *spi,
                    uint8_t spi_len, uint16_t type, const uint8_t *data,
                    size_t len);
void ike_put_delete(ike_mb_t *mb, uint8_t protocol, uint8_t spi_len,
                    const uint32_t *spis, uint16_t n);
void ike_put_vendor(ike_mb_t *mb, const uint8_t *data, size_t len);
void ike_put_ts(ike_mb_t *mb, uint8_t pld_type, const ike_ts_pld_t *ts);
void ike_put_cp(ike_mb_t *mb, const ike_cp_pld_t *cp);
void ike_put_eap(ike_mb_t *mb, const ike_eap_pld_t *eap);
/* SK / SKF: writes only the generic header (+ SKF fragment fields); the body
 * is filled by ike_sk_seal (ike_crypto.h). Returns the payload offset. */
size_t ike_put_sk_hdr(ike_mb_t *mb, uint8_t first_inner);
size_t ike_put_skf_hdr(ike_mb_t *mb, uint8_t first_inner, uint16_t frag_num,
                       uint16_t total);

#endif /* IKE_PLD_H */
