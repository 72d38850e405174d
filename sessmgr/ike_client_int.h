/*
 * ike_client_int.h - internals shared by ike_client.c (IKE_SA_INIT, IKE_AUTH,
 * message protection, retransmission) and ike_client_info.c (INFORMATIONAL,
 * CREATE_CHILD_SA, MOBIKE, the gateway's requests). Not a public API.
 */
#ifndef IKE_CLIENT_INT_H
#define IKE_CLIENT_INT_H

#include "ike_client.h"
#include "ike_sa.h" /* ike_natd_hash/put/check (task_natd.c) */

#define CLI_MAX_MSG 8192
#define CLI_NONCE_LEN 32

/* What our in-flight request is for. */
typedef enum {
  CLI_REQ_NONE = 0,
  CLI_REQ_INIT,
  CLI_REQ_AUTH,
  CLI_REQ_DPD,
  CLI_REQ_DELETE,
  CLI_REQ_DELETE_CHILD,
  CLI_REQ_REKEY_CHILD,
  CLI_REQ_REKEY_IKE,
  CLI_REQ_DELETE_OLD,   /* Delete of the old IKE SA after our IKE rekey */
  CLI_REQ_UPDATE,
  CLI_REQ_NOTIFY
} cli_req_t;

/* The keys and message counters of one IKE SA. */
typedef struct cli_sa {
  bool valid;
  uint64_t spi_i, spi_r;
  ike_suite_t suite;
  ike_keys_t keys;
  ike_sk_dir_t sk_out, sk_in;   /* us -> gateway, gateway -> us */
  uint32_t next_id;             /* Message ID of our next request */
  uint32_t peer_next_id;        /* next request ID expected from the gateway */
  uint32_t seen_next;           /* above the highest request ID seen (counting) */
  uint8_t *rsp;                 /* our last response to the gateway (cache) */
  size_t rsp_len;
  uint32_t rsp_id;
} cli_sa_t;

struct ike_client {
  ike_client_cfg_t cfg;
  char psk[IKE_CFG_PSK_MAX];
  char id[IKE_CFG_ID_MAX];
  size_t psk_len, id_len;
  ike_client_ops_t ops;
  void *ctx;
  ike_client_info_t info;
  uint64_t now;
  ike_client_answer_t answer;
  cli_sa_t sa, old;             /* current IKE SA; the rekeyed one until deleted */
  /* IKE_SA_INIT / rekey transient data. */
  ike_dh_t *dh;
  uint16_t ke_group;
  uint8_t ni[CLI_NONCE_LEN];
  uint8_t nr[256];
  uint16_t nr_len;
  uint8_t cookie[64];
  uint16_t cookie_len;
  /* IKE_SA_INIT request and response as sent / received (both AUTH payloads
   * sign them, RFC 7296 2.15); on the heap, exactly sized, freed once IKE_AUTH
   * is answered: ikeload holds 100,000 clients. */
  uint8_t *init_req, *init_rsp;
  size_t init_req_len, init_rsp_len;
  /* Our request in flight (window of one), kept for retransmission; the
   * buffer grows to the largest request and stays. */
  uint8_t *req;
  size_t req_len, req_cap;
  uint32_t req_id;
  cli_req_t req_kind;
  bool req_on_old;              /* sent on c->old */
  bool req_natt;
  ike_path_t req_path;
  uint8_t tries;
  uint64_t next_ms;
  /* Data of the request in flight. */
  unsigned req_child;           /* child index (rekey / delete) */
  uint32_t new_spi_in;          /* CHILD SA SPI offered (auth / rekey) */
  uint64_t new_spi_i;           /* IKE rekey: our new SPI */
  uint8_t cookie2[16];          /* COOKIE2 of our update */
  bool cookie2_sent;
};

/* Protected message of sa: header (our SPIs), SK, sealed into out. */
int ike_client_seal(const cli_sa_t *sa, uint8_t exchange, uint32_t msg_id,
                    uint8_t flags, ike_mb_t *inner, uint8_t *out, size_t cap,
                    size_t *out_len);
/* Seal inner as a request of ours on sa and send it (starts the timer). */
int ike_client_send_req(ike_client_t *c, cli_sa_t *sa, uint8_t exchange,
                        ike_mb_t *inner, cli_req_t kind);
/* Forget the request in flight. */
void ike_client_req_done(ike_client_t *c);
/* Decrypt rx (whole message, outer chain in *chain) into plain; on success
 * *chain holds the inner chain. */
int ike_client_open(const cli_sa_t *sa, const uint8_t *pkt, const ike_hdr_t *h,
                    ike_chain_t *chain, uint8_t *plain, size_t cap);
/* Proposal helpers. */
void ike_client_put_proposal(ike_mb_t *mb, uint8_t proto, const uint8_t *spi,
                             uint8_t spi_len, const ike_suite_t *s,
                             const uint16_t *dh, unsigned n_dh);
int ike_client_suite_of(const ike_pld_t *sa_pld, uint8_t proto, ike_suite_t *s,
                        uint8_t *spi, uint8_t *spi_len);
void ike_client_put_ts_any(ike_mb_t *mb, const ike_ts_t *tsi);
/* CHILD SA keys from KEYMAT = prf+(SK_d, Ni | Nr) (RFC 7296 2.17). */
int ike_client_child_keys(const cli_sa_t *sa, ike_client_child_t *ch,
                          const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                          size_t nr_len);
/* Record the notify types of a chain into list/n. */
void ike_client_notes(const ike_chain_t *chain, uint16_t *list, unsigned *n);
/* Fail the client with cause err. */
void ike_client_fail(ike_client_t *c, uint16_t err);

/* ike_client_info.c */
void ike_client_info_response(ike_client_t *c, cli_sa_t *sa, const ike_chain_t *ch);
void ike_client_gw_request(ike_client_t *c, cli_sa_t *sa, const uint8_t *pkt,
                           const ike_hdr_t *h, ike_chain_t *chain);
void ike_client_sa_wipe(cli_sa_t *sa);

#endif /* IKE_CLIENT_INT_H */
