/*
 * task_natd.c - NAT detection (RFC 7296 2.23): NAT_DETECTION_SOURCE_IP and
 * NAT_DETECTION_DESTINATION_IP hashes, reused by IKE_SA_INIT and by MOBIKE's
 * UPDATE_SA_ADDRESSES (RFC 4555 3.5).
 */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "ike_addr.h"
#include "ike_sa.h"

/* SHA-1(SPIi | SPIr | IP | Port), SPIs and port in network order. */
void ike_natd_hash(uint64_t spi_i, uint64_t spi_r,
                   const struct sockaddr_storage *ss, uint8_t out[20])
{
  uint8_t buf[8 + 8 + 16 + 2];
  size_t n = 0;
  for (int i = 7; i >= 0; i--) {
    buf[n++] = (uint8_t)(spi_i >> (i * 8));
  }
  for (int i = 7; i >= 0; i--) {
    buf[n++] = (uint8_t)(spi_r >> (i * 8));
  }
  size_t alen = 0;
  const uint8_t *a = ike_addr_bytes(ss, &alen);
  memcpy(buf + n, a, alen);
  n += alen;
  /* The port follows the address in both sockaddr layouts' network order. */
  uint16_t port = ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                           : ((const struct sockaddr_in6 *)ss)->sin6_port;
  memcpy(buf + n, &port, 2);
  n += 2;
  SHA1(buf, n, out);
}

bool ike_natd_check(const ike_chain_t *c, uint64_t spi_i, uint64_t spi_r,
                    const ike_path_t *path, bool *nat_peer, bool *nat_local)
{
  uint8_t h_peer[20], h_local[20];
  bool seen_src = false, src_match = false, seen_dst = false;
  ike_natd_hash(spi_i, spi_r, &path->peer, h_peer);
  ike_natd_hash(spi_i, spi_r, &path->local, h_local);
  for (unsigned i = 0; i < c->n; i++) {
    ike_notify_pld_t n;
    if (c->pld[i].type != IKE_PLD_NOTIFY || ike_pld_notify(&c->pld[i], &n) != 0) {
      continue;
    }
    if (n.type == IKE_N_NAT_DETECTION_SOURCE_IP) {
      /* Several source payloads are allowed (multi-homed initiator): any match
       * means no NAT in front of the peer. */
      seen_src = true;
      if (n.len == 20 && CRYPTO_memcmp(n.data, h_peer, 20) == 0) {
        src_match = true;
      }
    } else if (n.type == IKE_N_NAT_DETECTION_DESTINATION_IP) {
      seen_dst = true;
      *nat_local = !(n.len == 20 && CRYPTO_memcmp(n.data, h_local, 20) == 0);
    }
  }
  if (!seen_src || !seen_dst) {
    return false;
  }
  *nat_peer = !src_match;
  return true;
}

void ike_natd_put(ike_mb_t *mb, uint64_t spi_i, uint64_t spi_r,
                  const ike_path_t *path)
{
  uint8_t h[20];
  /* Our source is path->local, the destination is the peer. */
  ike_natd_hash(spi_i, spi_r, &path->local, h);
  ike_put_notify(mb, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, h, sizeof h);
  ike_natd_hash(spi_i, spi_r, &path->peer, h);
  ike_put_notify(mb, 0, NULL, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, h, sizeof h);
  /* Counted by the caller (ike_stats_notify) where it has the stats. */
}
