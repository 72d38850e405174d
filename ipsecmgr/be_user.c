/* be_user.c - the userspace ESP datapath as an ipsecmgr backend, see backend.h. */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ike_config.h"

static int user_errno(int esp_rc)
{
  return esp_rc == -ESP_E_FULL ? -ENOSPC : esp_rc == -ESP_E_EXISTS ? -EEXIST : -EINVAL;
}

static int user_add_sa(void *ctx, esp_table_t *tab, const ipm_be_id_t *id,
                       const esp_sa_params_t *p, bool keep, esp_sa_t **sa, char *err,
                       size_t errlen)
{
  (void)ctx;
  (void)keep; /* a restarted ipsecmgr holds nothing from before */
  int r = esp_table_add(tab, p, sa);
  if (r != 0) {
    snprintf(err, errlen, "SaAdd %s %08x: %s", id->dir == 1 ? "in" : "out", id->spi,
             esp_strerror(r));
    return user_errno(r);
  }
  return 0;
}

static int user_update_sa(void *ctx, esp_sa_t *sa, const ipm_be_child_t *c,
                          const struct sockaddr *local, const struct sockaddr *peer,
                          bool udp_encap, char *err, size_t errlen)
{
  (void)ctx;
  (void)c;
  int r = esp_sa_update_addr(sa, local, peer, udp_encap);
  if (r != 0) {
    snprintf(err, errlen, "SaUpdate %08x: %s", sa->spi, esp_strerror(r));
    return -EINVAL;
  }
  return 0;
}

static int user_del_sa(void *ctx, esp_table_t *tab, esp_sa_t *sa, char *err, size_t errlen)
{
  (void)ctx;
  uint32_t spi = sa->spi;
  if (esp_table_del(tab, sa->id) != 0) {
    snprintf(err, errlen, "SaDel %08x: no such SA", spi);
    return -ENOENT;
  }
  return 0;
}

/* The userspace datapath has no policy database: outbound packets find their
 * SA by inner destination (the SA's virtual address, routed into the TUN by the
 * pool routes) and inbound ones are checked against the SA's remote selectors
 * after decryption (dispatch.c). Nothing to program. */
static int user_policy(void *ctx, const ipm_be_child_t *c, char *err, size_t errlen)
{
  (void)ctx;
  (void)c;
  (void)err;
  (void)errlen;
  return 0;
}

static int user_query(void *ctx, const esp_sa_t *sa, ipm_be_stats_t *st)
{
  (void)ctx;
  st->packets = sa->st.packets;
  st->bytes = sa->st.bytes;
  st->seq = sa->dir == ESP_DIR_OUT ? sa->seq : sa->replay.top;
  return 0;
}

const ipm_backend_ops_t ipm_be_userspace = {
    .name = "userspace",
    .add_sa = user_add_sa,
    .update_sa = user_update_sa,
    .del_sa = user_del_sa,
    .add_policy = user_policy,
    .del_policy = user_policy,
    .query = user_query,
    .reconcile = NULL,
};

const ipm_backend_ops_t *ipm_backend_for(unsigned datapath)
{
  switch (datapath) {
  case IKE_CFG_DP_USERSPACE: return &ipm_be_userspace;
  case IKE_CFG_DP_XFRM: return &ipm_be_xfrm;
  default: return NULL;
  }
}

bool ipm_be_range_prefix(uint8_t family, const uint8_t *start, const uint8_t *end,
                         ipm_be_prefix_t *out)
{
  size_t alen = family == AF_INET ? 4u : family == AF_INET6 ? 16u : 0u;
  if (alen == 0) {
    return false;
  }
  memset(out, 0, sizeof(*out));
  out->family = family;
  memcpy(out->addr, start, alen);
  /* The prefix length is the number of leading bits where start and end agree;
   * the rest must be all zeros in start and all ones in end. */
  unsigned plen = 0;
  while (plen < alen * 8u) {
    unsigned byte = plen / 8u, bit = 7u - plen % 8u;
    if (((start[byte] >> bit) & 1u) != ((end[byte] >> bit) & 1u)) {
      break;
    }
    plen++;
  }
  for (unsigned b = plen; b < alen * 8u; b++) {
    unsigned byte = b / 8u, bit = 7u - b % 8u;
    if (((start[byte] >> bit) & 1u) != 0 || ((end[byte] >> bit) & 1u) != 1) {
      return false;
    }
  }
  out->plen = (uint8_t)plen;
  return true;
}
