/*
 * ike_stats.c - tables and helpers generated from IKE_STATS_MAP (ike_stats.h).
 */
#include "ike_stats.h"

#include <stddef.h>
#include <string.h>

#include "ike_wire.h"

static const struct {
  const char *name;
  const char *desc;
  const char *bulkvar;
  size_t off;
} stat_tab[IKE_STAT_COUNT] = {
#define X(f, d, b) {#f, d, b, offsetof(ike_stats_t, f)},
    IKE_STATS_MAP(X)
#undef X
};

size_t ike_stats_count(void) { return IKE_STAT_COUNT; }

const char *ike_stats_name(size_t i) { return i < IKE_STAT_COUNT ? stat_tab[i].name : NULL; }

const char *ike_stats_desc(size_t i) { return i < IKE_STAT_COUNT ? stat_tab[i].desc : NULL; }

const char *ike_stats_bulkvar(size_t i) {
  return i < IKE_STAT_COUNT ? stat_tab[i].bulkvar : NULL;
}

/* Every field is a uint64_t, so the struct is an array of them in list order. */
static uint64_t *slot(ike_stats_t *st, size_t i) {
  return (uint64_t *)(void *)((char *)st + stat_tab[i].off);
}

uint64_t ike_stats_get(const ike_stats_t *st, size_t i) {
  if (i >= IKE_STAT_COUNT) {
    return 0;
  }
  return *(const uint64_t *)(const void *)((const char *)st + stat_tab[i].off);
}

int ike_stats_set(ike_stats_t *st, size_t i, uint64_t v) {
  if (i >= IKE_STAT_COUNT) {
    return -1;
  }
  *slot(st, i) = v;
  return 0;
}

int ike_stats_find(const char *name) {
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    if (strcmp(stat_tab[i].name, name) == 0) {
      return (int)i;
    }
  }
  return -1;
}

int ike_stats_find_bulkvar(const char *var) {
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    if (stat_tab[i].bulkvar != NULL && strcmp(stat_tab[i].bulkvar, var) == 0) {
      return (int)i;
    }
  }
  return -1;
}

void ike_stats_reset(ike_stats_t *st) { memset(st, 0, sizeof(*st)); }

void ike_stats_add(ike_stats_t *dst, const ike_stats_t *src) {
  for (size_t i = 0; i < IKE_STAT_COUNT; i++) {
    *slot(dst, i) += ike_stats_get(src, i);
  }
}

size_t ike_stats_to_pairs(const ike_stats_t *st, ike_stat_pair_t *out, size_t max) {
  size_t n = max < IKE_STAT_COUNT ? max : IKE_STAT_COUNT;
  for (size_t i = 0; i < n; i++) {
    out[i].name = stat_tab[i].name;
    out[i].value = ike_stats_get(st, i);
  }
  return n;
}

size_t ike_stats_from_pairs(ike_stats_t *st, const ike_stat_pair_t *pairs, size_t n) {
  size_t unknown = 0;
  for (size_t i = 0; i < n; i++) {
    int k = pairs[i].name != NULL ? ike_stats_find(pairs[i].name) : -1;
    if (k < 0) {
      unknown++;
      continue;
    }
    *slot(st, (size_t)k) = pairs[i].value;
  }
  return unknown;
}

void ike_stats_exchange(ike_stats_t *st, unsigned exch, int is_response, int sent) {
  uint64_t *base;
  switch (exch) {
  case IKE_EXCH_IKE_SA_INIT:
    base = &st->exch_init_req_rcvd;
    break;
  case IKE_EXCH_IKE_AUTH:
    base = &st->exch_auth_req_rcvd;
    break;
  case IKE_EXCH_CREATE_CHILD_SA:
    base = &st->exch_child_req_rcvd;
    break;
  case IKE_EXCH_INFORMATIONAL:
    base = &st->exch_info_req_rcvd;
    break;
  default:
    return;
  }
  /* Each exchange has four consecutive counters: req_rcvd, req_sent, rsp_rcvd, rsp_sent. */
  base[(is_response ? 2 : 0) + (sent ? 1 : 0)]++;
}

void ike_stats_notify(ike_stats_t *st, unsigned type, int sent) {
  switch (type) {
#define N(t)                                                                     \
  case IKE_N_##t:                                                                \
    if (sent) {                                                                  \
      st->notify_sent_##t++;                                                     \
    } else {                                                                     \
      st->notify_rcvd_##t++;                                                     \
    }                                                                            \
    return;
    N(INVALID_SYNTAX) N(INVALID_IKE_SPI) N(NO_PROPOSAL_CHOSEN) N(INVALID_KE_PAYLOAD)
    N(AUTHENTICATION_FAILED) N(TS_UNACCEPTABLE) N(TEMPORARY_FAILURE) N(CHILD_SA_NOT_FOUND)
    N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP) N(COOKIE) N(REKEY_SA)
    N(USE_TRANSPORT_MODE) N(MOBIKE_SUPPORTED) N(COOKIE2) N(UNACCEPTABLE_ADDRESSES)
    N(UNEXPECTED_NAT_DETECTED) N(IKEV2_FRAGMENTATION_SUPPORTED) N(SIGNATURE_HASH_ALGORITHMS)
    N(INITIAL_CONTACT) N(ADDITIONAL_IP4_ADDRESS) N(ADDITIONAL_IP6_ADDRESS)
    N(NO_ADDITIONAL_ADDRESSES) N(UPDATE_SA_ADDRESSES) N(NO_NATS_ALLOWED)
    N(INTERNAL_ADDRESS_FAILURE) N(FAILED_CP_REQUIRED)
#undef N
  default:
    if (sent) {
      st->notify_sent_other++;
    } else {
      st->notify_rcvd_other++;
    }
  }
}
