/*
 * task_rekey.c - CHILD SA rekey started by the gateway when a CHILD SA
 * reaches its soft lifetime in ipsecmgr (RFC 7296 1.3.3, 2.8).
 *
 * Request:  HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} -->
 * Response: <-- HDR, SK {SA, Nr, TSi, TSr}
 * then:     HDR, SK {D(ESP, old SPI)} -->  (the old CHILD SA goes)
 *
 * We are the initiator of this exchange: TSi is our side, and the keys of the
 * initiator-to-responder direction (ours outbound) come first in KEYMAT.
 */
#include <string.h>

#include "ike_log.h"
#include "ike_proposal.h"
#include "ike_sa.h"

static void spi_be(uint32_t spi, uint8_t out[4])
{
  out[0] = (uint8_t)(spi >> 24);
  out[1] = (uint8_t)(spi >> 16);
  out[2] = (uint8_t)(spi >> 8);
  out[3] = (uint8_t)spi;
}

void ike_task_rekey_child_i(ike_engine_t *e, ike_sa_t *sa, ike_child_t *c)
{
  if (sa->req != NULL || sa->state != IKE_SA_ESTABLISHED) {
    return; /* window busy: the peer's rekey or the hard lifetime will do */
  }
  ike_tx_t tx;
  uint8_t old_be[4], new_be[4];
  ike_choice_t ch;
  memset(&ch, 0, sizeof ch);
  ch.suite = c->suite;
  ch.suite.dh = IKE_DH_NONE; /* no PFS on our rekeys */
  ch.prop_num = 1;
  uint32_t new_in = ike_sa_new_child_spi(e);
  if (new_in == 0 || ike_random(sa->rekey_ni, sizeof sa->rekey_ni) != 0) {
    /* No random bytes: no rekey now (the hard lifetime or the peer's rekey
     * takes over), never a predictable nonce or SPI. */
    ike_sa_child_spi_gone(e, new_in);
    IKE_STAT(e, fail_internal);
    return;
  }
  sa->rekey_old_in = c->spi_in;
  sa->rekey_new_in = new_in;
  spi_be(c->spi_in, old_be);
  spi_be(sa->rekey_new_in, new_be);
  ike_tx_init(&tx);
  ike_put_notify(&tx.mb, IKE_PROTO_ESP, old_be, 4, IKE_N_REKEY_SA, NULL, 0);
  ike_proposal_put(&tx.mb, &ch, IKE_PROTO_ESP, new_be, 4);
  ike_put_nonce(&tx.mb, sa->rekey_ni, sizeof sa->rekey_ni);
  ike_ts_pld_t one = {.n = 1};
  one.ts[0] = c->ts_local;
  ike_put_ts(&tx.mb, IKE_PLD_TSI, &one);
  one.ts[0] = c->ts_remote;
  ike_put_ts(&tx.mb, IKE_PLD_TSR, &one);
  if (ike_msg_request(e, sa, IKE_EXCH_CREATE_CHILD_SA, &tx, IKE_REQ_REKEY_CHILD) == 0) {
    ike_stats_notify(&e->stats, IKE_N_REKEY_SA, 1);
    IKE_LOG_INFO("SPI %016llx: rekeying CHILD SA %08x (soft lifetime)",
                 (unsigned long long)sa->spi_r, c->spi_in);
  }
}

/* The peer's answer: its SPI and nonce, and the same suite we offered. */
static int parse_answer(const ike_rx_t *rx, const ike_child_t *old, uint32_t *peer_spi,
                        ike_nonce_pld_t *nr)
{
  const ike_pld_t *sa_p = ike_chain_find(&rx->chain, IKE_PLD_SA);
  const ike_pld_t *n_p = ike_chain_find(&rx->chain, IKE_PLD_NONCE);
  ike_sa_pld_t sa;
  if (sa_p == NULL || n_p == NULL || ike_pld_sa(sa_p, &sa) != 0 || ike_pld_nonce(n_p, nr) != 0 ||
      sa.n != 1 || sa.p[0].protocol != IKE_PROTO_ESP || sa.p[0].spi_len != 4) {
    return -1;
  }
  for (unsigned i = 0; i < sa.p[0].n_transforms; i++) {
    const ike_transform_t *t = &sa.p[0].t[i];
    if (t->type == IKE_TRANS_ENCR && (t->id != old->suite.encr || t->key_len != old->suite.encr_bits)) {
      return -1; /* not what we offered */
    }
  }
  *peer_spi = (uint32_t)sa.p[0].spi[0] << 24 | (uint32_t)sa.p[0].spi[1] << 16 |
              (uint32_t)sa.p[0].spi[2] << 8 | sa.p[0].spi[3];
  return 0;
}

void ike_task_rekey_child_i_done(ike_engine_t *e, ike_sa_t *sa, ike_rx_t *rx)
{
  ike_child_t *old = ike_sa_child_by_in(sa, sa->rekey_old_in);
  ike_child_t *c = ike_sa_child_free_slot(sa);
  ike_nonce_pld_t nr;
  uint32_t peer_spi = 0;
  if (old == NULL || c == NULL || parse_answer(rx, old, &peer_spi, &nr) != 0) {
    /* Refused (a notify), or the peer rekeyed or deleted it meanwhile. */
    IKE_LOG_INFO("SPI %016llx: CHILD SA rekey not done (refused or overtaken)",
                 (unsigned long long)sa->spi_r);
    return;
  }
  memset(c, 0, sizeof *c);
  c->suite = old->suite;
  c->ts_local = old->ts_local;
  c->ts_remote = old->ts_remote;
  c->spi_in = sa->rekey_new_in;
  c->spi_out = peer_spi;
  c->ek_len = old->ek_len;
  c->ak_len = old->ak_len;
  uint8_t km[2 * (IKE_MAX_ENCR_KEY + IKE_MAX_INTEG_KEY)];
  size_t km_len = 2u * (c->ek_len + c->ak_len);
  if (ike_child_keymat(sa->suite.prf, sa->keys.sk_d, sa->keys.d_len, NULL, 0, sa->rekey_ni,
                       sizeof sa->rekey_ni, nr.data, nr.len, km, km_len) != 0) {
    ike_wipe(km, sizeof km);
    return;
  }
  /* Initiator (us) -> responder first: our outbound keys. */
  memcpy(c->ek_out, km, c->ek_len);
  memcpy(c->ak_out, km + c->ek_len, c->ak_len);
  memcpy(c->ek_in, km + c->ek_len + c->ak_len, c->ek_len);
  memcpy(c->ak_in, km + 2 * c->ek_len + c->ak_len, c->ak_len);
  ike_wipe(km, sizeof km);
  c->created_ms = e->now_ms;
  c->used = true;
  IKE_STAT(e, child_sa_established);
  IKE_STAT(e, child_sa_current);
  IKE_STAT(e, child_sa_rekeyed);
  ike_child_program(e, sa, c);
  /* The old CHILD SA goes now that the new one carries the traffic (1.3.3). */
  ike_task_delete_child_i(e, sa, old);
}
