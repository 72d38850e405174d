/*
 * ike_client.h - an IKEv2 initiator (remote-access client) built on the
 * engine's codec and crypto, for unit tests, ikeload and interop checks.
 *
 * Like the engine it is I/O free: ike_client_start() and every request
 * function hand datagrams to ops.send; responses and the gateway's requests
 * come in through ike_client_recv(); time through ike_client_tick().
 *
 *   IKE_SA_INIT:  HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*) -->
 *                 (N(COOKIE) and N(INVALID_KE_PAYLOAD) answers are retried)
 *   IKE_AUTH:     HDR, SK {IDi, AUTH(PSK), CP(CFG_REQUEST INTERNAL_IP4_ADDRESS),
 *                 SAi2(ESP), TSi 0.0.0.0/0, TSr 0.0.0.0/0, [N(MOBIKE_SUPPORTED)]} -->
 *   then DPD, Delete (IKE / CHILD), CHILD and IKE rekey, MOBIKE address
 *   updates (RFC 4555 3.5) and answers to the gateway's DPD / COOKIE2 checks.
 *
 * One request of ours is in flight at a time (window size 1, RFC 7296 2.3);
 * it is retransmitted with an exponential back-off until answered or the
 * configured number of tries is spent (then the client is FAILED).
 */
#ifndef IKE_CLIENT_H
#define IKE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_crypto.h"
#include "ike_engine.h"
#include "ike_pld.h"

#define IKE_CLIENT_MAX_CHILD 4
#define IKE_CLIENT_MAX_NOTIFY 16

typedef enum {
  IKE_CLIENT_IDLE = 0,
  IKE_CLIENT_INIT_SENT,    /* IKE_SA_INIT request in flight */
  IKE_CLIENT_AUTH_SENT,    /* IKE_AUTH request in flight */
  IKE_CLIENT_ESTABLISHED,
  IKE_CLIENT_CLOSED,       /* deleted (by us or by the gateway) */
  IKE_CLIENT_FAILED        /* refused (see error) or dead gateway */
} ike_client_state_t;

/* What we send when the gateway asks (its DPD and COOKIE2 checks). */
typedef enum {
  IKE_CLIENT_ANSWER = 0,   /* answer properly (COOKIE2 echoed as received) */
  IKE_CLIENT_SILENT,       /* never answer a request of the gateway */
  IKE_CLIENT_WRONG_COOKIE2 /* answer, but echo a different COOKIE2 value */
} ike_client_answer_t;

typedef struct ike_client_cfg {
  const char *psk;          /* shared key (also expected in the gateway's AUTH) */
  uint8_t id_type;          /* IKE_ID_FQDN, IKE_ID_RFC822_ADDR, ... */
  const char *id;           /* IDi value (text bytes) */
  ike_suite_t ike;          /* IKE SA proposal: encr, encr_bits, integ, prf, dh */
  uint16_t ke_group;        /* group of the first KE; 0 = ike.dh. When it differs
                               from ike.dh both groups are offered */
  ike_suite_t esp;          /* CHILD SA proposal: encr, encr_bits, integ, esn */
  bool mobike;              /* send N(MOBIKE_SUPPORTED) */
  bool no_vip;              /* send no CP(CFG_REQUEST) */
  bool no_float;            /* stay on the first ports unless a NAT is detected
                               (default: float to 4500 with MOBIKE, RFC 4555 3.4) */
  ike_path_t path;          /* local = ours, peer = the gateway (address + port) */
  uint16_t natt_port;       /* the gateway's NAT-T port; 0 = 4500 */
  uint32_t retrans_ms;      /* first retransmission; doubles; 0 = 1000 */
  uint8_t max_retrans;      /* retransmissions before giving up; 0 = 3 */
  bool initial_contact;     /* send N(INITIAL_CONTACT) in IKE_AUTH (RFC 7296 3.10.1) */
  ike_ts_t tsi;             /* TSi of IKE_AUTH and CHILD rekeys when tsi.type is set
                               (tests: a client proposing a chosen selector); type 0 =
                               0.0.0.0/0 */
} ike_client_cfg_t;

typedef struct ike_client_ops {
  /* Send pkt on path (source path->local); natt: the non-ESP marker goes in
   * front (the caller adds it) and the datagram uses the NAT-T ports. */
  void (*send)(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
               size_t len);
} ike_client_ops_t;

/* A CHILD SA as the client sees it: in = gateway -> us. */
typedef struct ike_client_child {
  uint32_t spi_in, spi_out;
  ike_suite_t suite;
  uint8_t ek_in[IKE_MAX_ENCR_KEY], ak_in[IKE_MAX_INTEG_KEY];
  uint8_t ek_out[IKE_MAX_ENCR_KEY], ak_out[IKE_MAX_INTEG_KEY];
  uint8_t ek_len, ak_len;
  bool used;
} ike_client_child_t;

/* Everything a test or ikeload may look at (read only). */
typedef struct ike_client_info {
  ike_client_state_t state;
  uint16_t error;           /* notify type that failed us (AUTHENTICATION_FAILED,
                               NO_PROPOSAL_CHOSEN, UNACCEPTABLE_ADDRESSES, ...),
                               or 0; IKE_CLIENT_ERR_* for local causes */
  uint64_t spi_i, spi_r;    /* of the current IKE SA */
  ike_suite_t suite;        /* IKE SA algorithms (dh: the group used) */
  ike_path_t path;          /* current path */
  bool natt;                /* port 4500 + non-ESP marker in use */
  bool nat_local, nat_peer; /* last NAT detection: we / the gateway behind NAT */
  bool mobike;              /* the gateway answered MOBIKE_SUPPORTED */
  uint32_t vip4;            /* virtual IPv4 from CP(CFG_REPLY), host order; 0 none */
  uint32_t next_msg_id;     /* Message ID of our next request */
  ike_client_child_t child[IKE_CLIENT_MAX_CHILD];
  /* The last response to a request of ours: its notify types, in order. */
  uint16_t rsp_notify[IKE_CLIENT_MAX_NOTIFY];
  unsigned n_rsp_notify;
  bool cookie2_echo_ok;     /* our COOKIE2 came back unchanged in the last response */
  /* The last request of the gateway we received: its notify types. */
  uint16_t gw_notify[IKE_CLIENT_MAX_NOTIFY];
  unsigned n_gw_notify;
  /* Counts. */
  uint64_t sent, rcvd, retransmits, dropped;
  uint64_t gw_requests, gw_dpd_answered, gw_cookie2_answered, gw_retrans_answered;
  uint64_t init_retries;    /* IKE_SA_INIT restarts after COOKIE / INVALID_KE */
  uint64_t updates_done;    /* UPDATE_SA_ADDRESSES answered */
} ike_client_info_t;

#define IKE_CLIENT_ERR_DEAD 0xFF01u    /* no answer after the retransmissions */
#define IKE_CLIENT_ERR_AUTH 0xFF02u    /* the gateway's AUTH did not verify */
#define IKE_CLIENT_ERR_PROTO 0xFF03u   /* malformed or unexpected response */

typedef struct ike_client ike_client_t;

/* New client (cfg copied; psk and id strings copied). ike_crypto_init() must
 * have been called. */
int ike_client_new(const ike_client_cfg_t *cfg, const ike_client_ops_t *ops,
                   void *ctx, ike_client_t **out);
void ike_client_free(ike_client_t *c);

/* Send the IKE_SA_INIT request. */
int ike_client_start(ike_client_t *c, uint64_t now_ms);
/* A datagram from the gateway (non-ESP marker removed); path: local = where it
 * arrived, peer = where it came from. Bad input is dropped and counted. */
void ike_client_recv(ike_client_t *c, const ike_path_t *path, bool natt,
                     const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Retransmit if due. Returns ms until the next timer or -1. */
int64_t ike_client_tick(ike_client_t *c, uint64_t now_ms);

const ike_client_info_t *ike_client_info(const ike_client_t *c);
/* True while a request of ours waits for its response. */
bool ike_client_busy(const ike_client_t *c);

/* --- Requests (INFORMATIONAL / CREATE_CHILD_SA; ESTABLISHED only; -IKE_E_BAD_SYNTAX
 * if the window is busy) --- */
/* Empty INFORMATIONAL (liveness check). */
int ike_client_dpd(ike_client_t *c);
/* INFORMATIONAL { D(IKE) }; CLOSED when answered. */
int ike_client_delete(ike_client_t *c);
/* INFORMATIONAL { D(ESP, spi_in of child idx) }. */
int ike_client_delete_child(ike_client_t *c, unsigned idx);
/* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } for child idx; when
 * answered the new CHILD SA is recorded and the old one deleted (1.3.3). */
int ike_client_rekey_child(ike_client_t *c, unsigned idx);
/* CREATE_CHILD_SA { SA(IKE, new SPIi), Ni, KEi }; when answered the new IKE SA
 * takes over (children, MOBIKE) and the old one is deleted (1.3.2). */
int ike_client_rekey_ike(ike_client_t *c);

/* One notify of a crafted request. */
typedef struct ike_client_notify {
  uint16_t type;
  const uint8_t *data;
  uint16_t len;
} ike_client_notify_t;

/* INFORMATIONAL request with exactly these notifies. */
int ike_client_notify(ike_client_t *c, const ike_client_notify_t *n, size_t k);

/* MOBIKE address update (RFC 4555 3.5). */
typedef struct ike_client_move_opts {
  bool natt;                /* send on the NAT-T port with the marker */
  bool forge_natd_src;      /* NAT_DETECTION_SOURCE_IP over another address:
                               the gateway sees a NAT in front of us */
  bool forge_natd_dst;      /* NAT_DETECTION_DESTINATION_IP over another address */
  bool no_natd;             /* send no NAT_DETECTION payloads */
  bool no_nats_allowed;     /* add N(NO_NATS_ALLOWED) (data: our and the gateway's
                               address and port as we send the datagram) */
  bool cookie2;             /* add N(COOKIE2) with a fresh 16-byte value */
  bool additional_ip4;      /* add N(ADDITIONAL_IP4_ADDRESS) 192.0.2.200 */
  bool additional_ip6;      /* add N(ADDITIONAL_IP6_ADDRESS) 2001:db8::200 */
  bool no_additional;       /* add N(NO_ADDITIONAL_ADDRESSES) */
  bool abandon_pending;     /* forget an in-flight request of ours first */
} ike_client_move_opts_t;

/* Move to path (local = new address) and send INFORMATIONAL
 * { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_SOURCE_IP),
 *   N(NAT_DETECTION_DESTINATION_IP), [N(COOKIE2)], [N(NO_NATS_ALLOWED)],
 *   [N(ADDITIONAL_*)] } from it. o may be NULL. */
int ike_client_move(ike_client_t *c, const ike_path_t *path,
                    const ike_client_move_opts_t *o);

/* How to answer the gateway's requests from now on. */
void ike_client_set_answer(ike_client_t *c, ike_client_answer_t mode);

/* --- Raw access for retransmission / replay / tamper tests --- */
/* The last request we sent (bytes as on the wire, no marker), NULL if none. */
const uint8_t *ike_client_last_request(const ike_client_t *c, size_t *len,
                                       ike_path_t *path, bool *natt);
/* Seal inner (an inner payload chain starting with type first) into a
 * protected message of the current IKE SA with any exchange, Message ID and
 * flags (IKE_FLAG_*); nothing is sent and no state changes. */
int ike_client_craft(const ike_client_t *c, uint8_t exchange, uint32_t msg_id,
                     uint8_t flags, uint8_t first, const uint8_t *inner,
                     size_t inner_len, uint8_t *out, size_t cap, size_t *out_len);
/* Decrypt a protected message of the gateway with the keys of the IKE SA its
 * SPIs name (current or the one being deleted after a rekey): header in *h, the
 * inner chain in *chain pointing into plain. 0 or a negative ike_err_t. */
int ike_client_decode(const ike_client_t *c, const uint8_t *pkt, size_t len,
                      ike_hdr_t *h, ike_chain_t *chain, uint8_t *plain, size_t cap);

const char *ike_client_state_name(unsigned s);

#endif /* IKE_CLIENT_H */
