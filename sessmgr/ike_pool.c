/*
 * ike_pool.c - virtual IPv4 addresses from a configured pool (RFC 7296 2.19).
 *
 * IPv6 pools hand out the prefix with an offset in its low 20 bits.
 * Every worker takes only the offsets slot+1, slot+1+N, slot+1+2N, ... of a
 * pool (N = number of workers), so workers never hand out the same address
 * and need no shared table.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sa.h"

static int pool_index(const ike_engine_t *e, const ike_cfg_template_t *t, int family)
{
  const ike_cfg_pool_t *p = ike_config_template_pool(e->cfg, t, family);
  return p ? (int)(p - e->cfg->pools) : -1;
}

static uint32_t pool_base(const ike_cfg_pool_t *p)
{
  uint32_t a;
  memcpy(&a, p->prefix.addr, 4);
  a = ntohl(a);
  uint32_t mask = p->prefix.plen ? ~0u << (32 - p->prefix.plen) : 0;
  return a & mask;
}

static size_t pool_hosts(const ike_cfg_pool_t *p)
{
  unsigned bits = (p->prefix.family == AF_INET ? 32u : 128u) - p->prefix.plen;
  if (bits > 20) {
    bits = 20; /* cap the bitmap at 1M addresses per pool */
  }
  return (size_t)1 << bits;
}

/* The used-offset map of pool pi, allocated on first use; NULL if no memory. */
static uint8_t *pool_map(ike_engine_t *e, int pi)
{
  if (e->pool_used[pi] == NULL) {
    size_t n = pool_hosts(&e->cfg->pools[pi]);
    e->pool_used[pi] = calloc(n, 1);
    e->pool_size[pi] = e->pool_used[pi] ? n : 0;
  }
  return e->pool_used[pi];
}

/* Take a free offset of pool pi for this worker; 0 if none. */
static size_t take_offset(ike_engine_t *e, int pi)
{
  size_t n = pool_hosts(&e->cfg->pools[pi]);
  if (pool_map(e, pi) == NULL) {
    return 0;
  }
  size_t step = e->n_workers ? e->n_workers : 1;
  /* Offset 0 is the network, the last one broadcast; skip both. */
  for (size_t off = 1 + e->slot % step; off + 1 < n; off += step) {
    if (!e->pool_used[pi][off]) {
      e->pool_used[pi][off] = 1;
      return off;
    }
  }
  return 0;
}

uint32_t ike_pool_alloc(ike_engine_t *e, const ike_cfg_template_t *t)
{
  int pi = pool_index(e, t, AF_INET);
  size_t off = pi < 0 ? 0 : take_offset(e, pi);
  return off ? pool_base(&e->cfg->pools[pi]) + (uint32_t)off : 0;
}

int ike_pool_alloc6(ike_engine_t *e, const ike_cfg_template_t *t, uint8_t out[16])
{
  int pi = pool_index(e, t, AF_INET6);
  size_t off = pi < 0 ? 0 : take_offset(e, pi);
  if (off == 0) {
    return -1;
  }
  /* The pool's prefix with the offset in the low bits (at most 20 of them). */
  memcpy(out, e->cfg->pools[pi].prefix.addr, 16);
  out[13] = (uint8_t)((out[13] & 0xF0u) | ((off >> 16) & 0x0Fu));
  out[14] = (uint8_t)(off >> 8);
  out[15] = (uint8_t)off;
  return 0;
}

void ike_pool_release6(ike_engine_t *e, const ike_cfg_template_t *t, const uint8_t addr[16])
{
  int pi = pool_index(e, t, AF_INET6);
  if (pi < 0 || e->pool_used[pi] == NULL) {
    return;
  }
  size_t off = ((size_t)(addr[13] & 0x0Fu) << 16) | ((size_t)addr[14] << 8) | addr[15];
  if (off < e->pool_size[pi]) {
    e->pool_used[pi][off] = 0;
  }
}

void ike_pool_release(ike_engine_t *e, const ike_cfg_template_t *t, uint32_t addr)
{
  int pi = pool_index(e, t, AF_INET);
  if (pi < 0 || addr == 0 || e->pool_used[pi] == NULL) {
    return;
  }
  uint32_t off = addr - pool_base(&e->cfg->pools[pi]);
  if (off < e->pool_size[pi]) {
    e->pool_used[pi][off] = 0;
  }
}

void ike_pool_free_all(ike_engine_t *e)
{
  for (size_t i = 0; i < IKE_CFG_MAX_POOLS; i++) {
    free(e->pool_used[i]);
    e->pool_used[i] = NULL;
  }
}

/* Mark offset off of pool pi used if it is one this worker hands out. */
static int claim_offset(ike_engine_t *e, int pi, size_t off)
{
  size_t step = e->n_workers ? e->n_workers : 1;
  if (pi < 0 || pool_map(e, pi) == NULL || off == 0 || off + 1 >= e->pool_size[pi] ||
      off % step != (1 + e->slot % step) % step) {
    return -1;
  }
  e->pool_used[pi][off] = 1;
  return 0;
}

int ike_pool_claim(ike_engine_t *e, const ike_cfg_template_t *t, uint32_t addr)
{
  int pi = pool_index(e, t, AF_INET);
  if (pi < 0 || addr < pool_base(&e->cfg->pools[pi])) {
    return -1;
  }
  return claim_offset(e, pi, addr - pool_base(&e->cfg->pools[pi]));
}

int ike_pool_claim6(ike_engine_t *e, const ike_cfg_template_t *t, const uint8_t addr[16])
{
  int pi = pool_index(e, t, AF_INET6);
  if (pi < 0) {
    return -1;
  }
  size_t off = ((size_t)(addr[13] & 0x0Fu) << 16) | ((size_t)addr[14] << 8) | addr[15];
  return claim_offset(e, pi, off);
}
