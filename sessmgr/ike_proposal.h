/*
 * ike_proposal.h - proposal selection from configured transform sets
 * (RFC 7296 2.7, 3.3) for IKE and ESP SAs.
 */
#ifndef IKE_PROPOSAL_H
#define IKE_PROPOSAL_H

#include "ike_config.h"
#include "ike_crypto.h"
#include "ike_pld.h"

/* The result of a selection. */
typedef struct ike_choice {
  ike_suite_t suite;         /* chosen algorithms (dh: chosen group or NONE) */
  uint8_t prop_num;          /* the peer's proposal number we accept */
  uint8_t spi_len;           /* the peer's SPI in that proposal */
  uint8_t spi[IKE_MAX_SPI_LEN];
  uint16_t want_dh;          /* if != 0: the group we want instead of ke_group */
} ike_choice_t;

/* Select from offer the first acceptable proposal of protocol proto, our
 * transform sets in preference order. ke_group: the group of the KE payload
 * sent (0 if none); a group both sides accept equal to ke_group is preferred,
 * otherwise our most preferred common group is returned in want_dh.
 * dh_required: false for a CHILD SA without PFS (DH transforms may be absent
 * or NONE). Returns 0 or -1 (no proposal chosen). */
int ike_proposal_select(const ike_cfg_tset_t *sets, unsigned n_sets,
                        const ike_sa_pld_t *offer, uint8_t proto,
                        uint16_t ke_group, bool dh_required, ike_choice_t *out);

/* Write the accepted proposal as a one-proposal SA payload (with our SPI if
 * spi_len > 0). */
void ike_proposal_put(ike_mb_t *mb, const ike_choice_t *c, uint8_t proto,
                      const uint8_t *our_spi, uint8_t spi_len);

#endif /* IKE_PROPOSAL_H */
