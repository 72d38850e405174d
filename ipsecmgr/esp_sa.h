/*
 * esp_sa.h - ESP SA records and the SA table of the userspace datapath.
 *
 * An esp_sa_t is one flat record: everything in it is plain data (keys, counters,
 * the replay window, addresses as sockaddr + text, precomputed HMAC states) except
 * the prepared cipher context `cctx`, which esp_table_add() builds once from the
 * stored key so that the per-packet path only sets an IV. A checkpoint can copy
 * the record and rebuild the context with esp_sa_prepare().
 *
 * The table holds a fixed number of SA slots allocated up front (no allocation per
 * packet, stable pointers), an open-addressing hash from inbound SPI to SA, and an
 * open-addressing hash from the client's inner (virtual) address to its newest
 * outbound SA. SAs are identified by a slot id (esp_sa_t.id) for management.
 *
 * Errors are returned as negative esp_err_t values; every packet-drop cause has a
 * counter of the same index (per SA, or per table for causes found before an SA
 * is known: unknown SPI and packets too short to carry one).
 */
#ifndef ESP_SA_H
#define ESP_SA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/types.h>

#include "esp_hmac.h"
#include "replay.h"

/* Error codes (returned negated) and, for drop causes, counter indexes. */
#define ESP_ERR_MAP(X)                                                            \
  X(UNKNOWN_SPI, 1, "unknown_spi", "no inbound SA with this SPI")                \
  X(TRUNCATED, 2, "truncated", "packet too short or ciphertext not whole blocks") \
  X(ICV_FAILED, 3, "icv_failed", "integrity check value did not verify")         \
  X(REPLAY, 4, "replay", "sequence number already received")                     \
  X(TOO_OLD, 5, "too_old", "sequence number left of the replay window")          \
  X(BAD_PADDING, 6, "bad_padding", "pad length or pad bytes wrong (RFC 4303 2.4)") \
  X(BAD_NEXT_HEADER, 7, "bad_next_header", "next header not IPv4/IPv6 or inner header mismatch") \
  X(DUMMY, 8, "dummy", "TFC dummy packet, next header 59 (RFC 4303 2.6)")        \
  X(EXPIRED, 9, "expired", "hard lifetime reached")                              \
  X(SEQ_OVERFLOW, 10, "seq_overflow", "outbound sequence number space exhausted") \
  X(NOSPACE, 11, "nospace", "output buffer too small")                           \
  X(CRYPTO, 12, "crypto", "crypto library failure")                              \
  X(INVAL, 13, "inval", "invalid parameter")                                     \
  X(EXISTS, 14, "exists", "SPI already in use")                                  \
  X(FULL, 15, "full", "SA table full")                                           \
  X(NOMEM, 16, "nomem", "out of memory")                                         \
  X(NOT_FOUND, 17, "not_found", "no such SA")                                   \
  X(SEQ_LEASE, 18, "seq_lease", "no durable sequence-number lease (store failing)")

typedef enum {
  ESP_OK = 0,
#define X(n, v, s, d) ESP_E_##n = v,
  ESP_ERR_MAP(X)
#undef X
  ESP_E_COUNT
} esp_err_t;

/* Counter name ("icv_failed", ...) and description of an error (either sign). */
const char *esp_err_name(int err);
const char *esp_strerror(int err);

typedef enum { ESP_DIR_IN = 0, ESP_DIR_OUT = 1 } esp_dir_t;

/* Lifetime events reported through the table's callback, each once per SA. */
typedef enum {
  ESP_LIFE_SOFT = 1, /* soft bytes/packets crossed (or outbound seq near exhaustion): rekey */
  ESP_LIFE_HARD = 2, /* hard bytes/packets crossed (or seq exhausted): delete; the SA
                        drops every later packet with ESP_E_EXPIRED */
} esp_life_event_t;

typedef struct esp_lifetime {
  uint64_t soft_bytes, hard_bytes;     /* inner bytes; 0 = no limit */
  uint64_t soft_packets, hard_packets; /* packets; 0 = no limit */
} esp_lifetime_t;

/* An outer address: sockaddr (with port) and its printable form. */
typedef struct esp_addr {
  struct sockaddr_storage ss;  /* AF_INET / AF_INET6 with port (4500 when encapsulated) */
  char str[INET6_ADDRSTRLEN];  /* address text without port */
} esp_addr_t;

/* An inner (virtual) address: the key of outbound lookup. */
typedef struct esp_inaddr {
  uint8_t family;    /* AF_INET, AF_INET6, 0 = none */
  uint8_t addr[16];  /* IPv4 in the first 4 bytes, rest zero */
} esp_inaddr_t;

typedef struct esp_stats {
  uint64_t packets;             /* packets encapsulated / accepted */
  uint64_t bytes;               /* inner IP bytes of those packets */
  uint64_t err[ESP_E_COUNT];    /* drops per cause, indexed by esp_err_t */
} esp_stats_t;

#define ESP_MAX_ENC_KEY 36  /* AES-256 or ChaCha20 key + 4-byte salt */
#define ESP_MAX_AUTH_KEY 64 /* HMAC-SHA2-512 */

/* What a sessmgr hands to esp_table_add(). */
typedef struct esp_sa_params {
  uint32_t spi;              /* in: our SPI; out: the peer's SPI */
  esp_dir_t dir;
  uint16_t encr;             /* IKE_ENCR_AES_GCM_16, _AES_CBC, _CHACHA20_POLY1305 */
  uint16_t encr_bits;        /* 128 / 256 (ignored for ChaCha20) */
  uint16_t integ;            /* IKE_INTEG_* for CBC, IKE_INTEG_NONE for AEAD */
  bool esn;                  /* extended sequence numbers (RFC 4303 2.2.1) */
  const uint8_t *enc_key;    /* KEYMAT: cipher key, with the 4-byte salt for AEAD */
  size_t enc_key_len;
  const uint8_t *auth_key;   /* KEYMAT integrity key (CBC only) */
  size_t auth_key_len;
  uint32_t replay_window;    /* inbound: packets, power of two 64..4096, 0 = 1024 */
  const struct sockaddr *local, *peer; /* outer addresses with ports */
  bool udp_encap;            /* ESP in UDP (RFC 3948) */
  esp_inaddr_t inner;        /* outbound: the client's virtual IP (routing key) */
  esp_lifetime_t life;
  uint64_t owner;            /* opaque to us: who to tell (sessmgr slot, IKE SA) */
} esp_sa_params_t;

typedef struct esp_sa esp_sa_t;
typedef void (*esp_life_cb_t)(const esp_sa_t *sa, esp_life_event_t ev, void *arg);
/* Sequence-number lease callback (seq_lease.h): an outbound SA reached
 * seq_soft. urgent = it reached seq_limit too: the callback must make a new
 * lease durable now (raising seq_limit) or the packet is dropped with
 * ESP_E_SEQ_LEASE; otherwise it schedules a renewal and raises seq_soft. */
typedef void (*esp_lease_cb_t)(esp_sa_t *sa, bool urgent, void *arg);

struct esp_sa {
  uint32_t id;               /* slot in the table */
  uint32_t spi;
  uint8_t in_use, dir, esn, udp_encap;
  uint8_t aead;              /* 1 for GCM / ChaCha20-Poly1305 */
  uint8_t iv_len;            /* IV bytes on the wire: 8 AEAD, 16 CBC */
  uint8_t icv_len;           /* AEAD tag or truncated HMAC */
  uint8_t align;             /* padding alignment: 4 AEAD, 16 CBC (RFC 4303 2.4) */
  uint16_t encr, encr_bits, integ;
  uint8_t soft_fired, hard_fired;
  uint8_t enc_key_len, auth_key_len;
  uint8_t enc_key[ESP_MAX_ENC_KEY];   /* cipher key (enc_key_len, salt excluded), kept
                                         for rebuilding cctx; wiped on delete */
  uint8_t auth_key[ESP_MAX_AUTH_KEY];
  uint8_t salt[4];                    /* AEAD nonce salt (RFC 4106 4, RFC 7634 2) */
  uint64_t seq;                       /* outbound: last sequence number sent */
  uint64_t seq_limit;                 /* outbound: highest number it may use (durable
                                         lease); UINT64_MAX without a lease callback */
  uint64_t seq_soft;                  /* outbound: seq at which the lease callback runs */
  esp_replay_t replay;                /* inbound */
  esp_addr_t local, peer;             /* outer path (MOBIKE changes only these) */
  esp_inaddr_t inner;                 /* outbound routing key */
  uint32_t inner_next;                /* next older outbound SA with the same key + 1 */
  esp_lifetime_t life;
  esp_stats_t st;
  uint64_t owner;
  esp_life_cb_t life_cb;              /* copied from the table when added */
  void *life_arg;
  esp_lease_cb_t lease_cb;            /* copied from the table when added */
  void *lease_arg;
  esp_hmac_t hmac;                    /* CBC: precomputed HMAC (flat) */
  EVP_CIPHER_CTX *cctx;               /* prepared cipher context (rebuildable) */
};

typedef struct esp_table esp_table_t;

/* A table of up to max_sas SAs (both directions). Returns 0 or -ESP_E_NOMEM/-INVAL. */
int esp_table_new(uint32_t max_sas, esp_table_t **out);
/* Delete every SA (wiping keys) and free the table; NULL is fine. */
void esp_table_free(esp_table_t *t);
/* Lifetime callback for SAs added from now on (cb may be NULL). */
void esp_table_set_life_cb(esp_table_t *t, esp_life_cb_t cb, void *arg);
/* Sequence-number lease callback for outbound SAs added from now on. With one,
 * a new outbound SA starts with seq_limit = seq_soft = 0 (no number usable
 * before the owner grants a lease); without one (NULL, the default) both are
 * UINT64_MAX (no leases: tests, benchmarks). */
void esp_table_set_lease_cb(esp_table_t *t, esp_lease_cb_t cb, void *arg);

/* Add an SA: validates the suite and key lengths, prepares the cipher context,
 * and indexes it (inbound by SPI, outbound by p->inner, the newest outbound SA of
 * an inner address wins, as after a make-before-break rekey). *sa_out may be NULL.
 * Returns 0, -ESP_E_INVAL, -ESP_E_EXISTS (inbound SPI in use), -ESP_E_FULL,
 * -ESP_E_CRYPTO. */
int esp_table_add(esp_table_t *t, const esp_sa_params_t *p, esp_sa_t **sa_out);
/* Remove an SA by id (wipes its keys, frees its context). 0 or -ESP_E_NOT_FOUND. */
int esp_table_del(esp_table_t *t, uint32_t id);
/* SA by slot id, NULL if free. */
esp_sa_t *esp_table_get(esp_table_t *t, uint32_t id);
/* Inbound SA by SPI (the per-packet lookup), NULL if none. */
esp_sa_t *esp_table_find_in(const esp_table_t *t, uint32_t spi);
/* Newest outbound SA for an inner address, NULL if none. */
esp_sa_t *esp_table_find_out(const esp_table_t *t, const esp_inaddr_t *inner);
/* Outbound SA for an inner IP packet (by its destination address), NULL if none
 * or the packet is not a whole IPv4/IPv6 header. */
esp_sa_t *esp_table_route(const esp_table_t *t, const uint8_t *pkt, size_t len);
/* Number of SAs in the table. */
uint32_t esp_table_count(const esp_table_t *t);
/* Table-level drop counters (indexed by esp_err_t: UNKNOWN_SPI, TRUNCATED). */
const uint64_t *esp_table_errors(const esp_table_t *t);
/* Count a table-level drop (used by esp_decap). */
void esp_table_count_drop(esp_table_t *t, esp_err_t cause);
/* Call fn for every SA in slot order. */
void esp_table_foreach(esp_table_t *t, void (*fn)(esp_sa_t *sa, void *arg), void *arg);

/* (Re)build sa->cctx and the HMAC state from the stored keys, e.g. after a
 * record was restored from a checkpoint. 0 or -ESP_E_CRYPTO/-ESP_E_INVAL. */
int esp_sa_prepare(esp_sa_t *sa);

/* MOBIKE (RFC 4555) / NAT-T port float: change ONLY the outer path of an SA -
 * addresses, ports, UDP encapsulation. Sequence numbers, the replay window,
 * counters, lifetimes and keys are kept, so traffic continues on the new path
 * from the next packet. local/peer must be of one family with a port when
 * udp_encap is set. Returns 0 or -ESP_E_INVAL (SA untouched). */
int esp_sa_update_addr(esp_sa_t *sa, const struct sockaddr *local,
                       const struct sockaddr *peer, bool udp_encap);

/* Account one processed packet of inner_len bytes on sa and fire lifetime
 * callbacks (used by esp.c). */
void esp_sa_account(esp_sa_t *sa, size_t inner_len);
/* Report a lifetime event once (no-op if already reported); HARD implies SOFT. */
void esp_sa_fire(esp_sa_t *sa, esp_life_event_t ev);
/* Count a drop on sa. */
static inline void esp_sa_count_drop(esp_sa_t *sa, esp_err_t cause)
{
  sa->st.err[cause]++;
}

/* Fill an esp_inaddr_t from an IPv4/IPv6 address text. 0 or -ESP_E_INVAL. */
int esp_inaddr_parse(esp_inaddr_t *a, const char *text);

#endif /* ESP_SA_H */
