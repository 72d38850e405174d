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

/* Describe a refused offer in buf (always NUL-terminated, truncated to cap):
 * "offered #1 ENCR_AES_CBC/128 PRF_HMAC_SHA2_256 ... | configured ike1 {...}".
 * Returns the length written. */
size_t ike_proposal_describe(const ike_cfg_tset_t *sets, unsigned n_sets,
                             const ike_sa_pld_t *offer, uint8_t proto, char *buf,
                             size_t cap);

/* Log one INFO line saying why no proposal was chosen (issue 12 item 10:
 * offered against configured transforms). what: the exchange ("IKE_SA_INIT",
 * "CHILD SA"); spi: ours, 0 before an SA exists. At most
 * IKE_PROPOSAL_LOG_PER_S lines per second per thread: IKE_SA_INIT is
 * unauthenticated, so a flood must not become a log flood; the next line
 * logged says how many were left out. */
#define IKE_PROPOSAL_LOG_PER_S 10u
void ike_proposal_log_refused(const char *what, uint64_t spi, const ike_cfg_tset_t *sets,
                              unsigned n_sets, const ike_sa_pld_t *offer, uint8_t proto,
                              uint64_t now_ms);

/* Write the accepted proposal as a one-proposal SA payload (with our SPI if
 * spi_len > 0). */
void ike_proposal_put(ike_mb_t *mb, const ike_choice_t *c, uint8_t proto,
                      const uint8_t *our_spi, uint8_t spi_len);

#endif /* IKE_PROPOSAL_H */
