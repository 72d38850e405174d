/*
 * ike_pool.c - virtual addresses from configured pools (RFC 7296 2.19).
 *
 * A worker keeps one allocation map per pool, found by the pool's name (never
 * by its place in the config: `no ip pool X` must not hand one pool's map to
 * another). Every worker takes only the addresses whose value modulo N (the
 * number of workers) is its own class, so workers never hand out the same
 * address and share no table; the class depends on the address alone, so it
 * survives a pool being widened. IPv6 pools hand out the prefix with an offset
 * in its low 20 bits. Allocation is next-fit from a cursor: amortised O(1),
 * and a released address is not handed out again at once.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sa.h"

#define POOL_MAX_BITS 20   /* at most 1M addresses per pool and worker map */

static uint32_t base4(const ike_cfg_prefix_t *p)
{
  uint32_t a;
  memcpy(&a, p->addr, 4);
  a = ntohl(a);
  uint32_t mask = p->plen ? ~0u << (32 - p->plen) : 0;
  return a & mask;
}

static size_t hosts(const ike_cfg_prefix_t *p)
{
  unsigned bits = (p->family == AF_INET ? 32u : 128u) - p->plen;
  return (size_t)1 << (bits > POOL_MAX_BITS ? POOL_MAX_BITS : bits);
}

/* The value that decides a worker's class: the IPv4 address, or the offset
 * bits of an IPv6 one (the prefix's own low 20 bits are zero). */
static size_t class_base(const ike_cfg_prefix_t *p)
{
  return p->family == AF_INET ? base4(p) : 0;
}

static bool mine(const ike_engine_t *e, const ike_cfg_prefix_t *p, size_t off)
{
  size_t step = e->n_workers ? e->n_workers : 1;
  return (class_base(p) + off) % step == (1 + e->slot % step) % step;
}

static ike_pool_state_t *state_by_name(ike_engine_t *e, const char *name)
{
  for (size_t i = 0; i < IKE_CFG_MAX_POOLS; i++) {
    if (e->pools[i].used != NULL && strcmp(e->pools[i].name, name) == 0) {
      return &e->pools[i];
    }
  }
  return NULL;
}

static void state_free(ike_pool_state_t *st)
{
  free(st->used);
  memset(st, 0, sizeof *st);
}

/* The map of the template's pool of family, made on first use; NULL if the
 * template has none or memory is short. */
static ike_pool_state_t *state_of(ike_engine_t *e, const ike_cfg_template_t *t, int family)
{
  const ike_cfg_pool_t *p = ike_config_template_pool(e->cfg, t, family);
  if (p == NULL) {
    return NULL;
  }
  ike_pool_state_t *st = state_by_name(e, p->name);
  if (st != NULL) {
    return st;
  }
  for (size_t i = 0; i < IKE_CFG_MAX_POOLS; i++) {
    if (e->pools[i].used == NULL) {
      st = &e->pools[i];
      st->used = calloc(hosts(&p->prefix), 1);
      if (st->used == NULL) {
        return NULL;
      }
      snprintf(st->name, sizeof st->name, "%s", p->name);
      st->prefix = p->prefix;
      st->size = hosts(&p->prefix);
      return st;
    }
  }
  return NULL;
}

/* Next free offset of this worker's class, from the cursor; 0 if none.
 * Offset 0 is the network, the last one broadcast: both skipped. */
static size_t take(ike_engine_t *e, ike_pool_state_t *st)
{
  for (size_t k = 0; k < st->size; k++) {
    size_t off = (st->cursor + k) % st->size;
    if (off == 0 || off + 1 >= st->size || st->used[off] || !mine(e, &st->prefix, off)) {
      continue;
    }
    st->used[off] = 1;
    st->n_used++;
    st->cursor = off + 1;
    return off;
  }
  return 0;
}

uint32_t ike_pool_alloc(ike_engine_t *e, const ike_cfg_template_t *t)
{
  ike_pool_state_t *st = state_of(e, t, AF_INET);
  size_t off = st ? take(e, st) : 0;
  return off ? base4(&st->prefix) + (uint32_t)off : 0;
}

int ike_pool_alloc6(ike_engine_t *e, const ike_cfg_template_t *t, uint8_t out[16])
{
  ike_pool_state_t *st = state_of(e, t, AF_INET6);
  size_t off = st ? take(e, st) : 0;
  if (off == 0) {
    return -1;
  }
  memcpy(out, st->prefix.addr, 16);
  out[13] = (uint8_t)((out[13] & 0xF0u) | ((off >> 16) & 0x0Fu));
  out[14] = (uint8_t)(off >> 8);
  out[15] = (uint8_t)off;
  return 0;
}

/* Offset of addr in the map of st, or 0 if it is not one of its addresses. */
static size_t offset4(const ike_pool_state_t *st, uint32_t addr)
{
  uint32_t b = base4(&st->prefix);
  if (st->prefix.family != AF_INET || addr < b || addr - b >= st->size) {
    return 0;
  }
  return addr - b;
}

static size_t offset6(const ike_pool_state_t *st, const uint8_t a[16])
{
  const uint8_t *p = st->prefix.addr;
  if (st->prefix.family != AF_INET6 || memcmp(a, p, 13) != 0 ||
      (a[13] & 0xF0u) != (p[13] & 0xF0u)) {
    return 0;
  }
  size_t off = ((size_t)(a[13] & 0x0Fu) << 16) | ((size_t)a[14] << 8) | a[15];
  return off < st->size ? off : 0;
}

/* Give back offset off of st; a map whose pool left the config goes with its
 * last address. */
static void give_back(ike_engine_t *e, ike_pool_state_t *st, size_t off)
{
  if (!st->used[off]) {
    return;
  }
  st->used[off] = 0;
  st->n_used--;
  if (st->n_used == 0 && ike_config_find_pool(e->cfg, st->name) == NULL) {
    state_free(st);
  }
}

void ike_pool_release(ike_engine_t *e, uint32_t addr)
{
  for (size_t i = 0; addr != 0 && i < IKE_CFG_MAX_POOLS; i++) {
    size_t off = e->pools[i].used ? offset4(&e->pools[i], addr) : 0;
    if (off != 0) {
      give_back(e, &e->pools[i], off);
      return;
    }
  }
}

void ike_pool_release6(ike_engine_t *e, const uint8_t addr[16])
{
  for (size_t i = 0; i < IKE_CFG_MAX_POOLS; i++) {
    size_t off = e->pools[i].used ? offset6(&e->pools[i], addr) : 0;
    if (off != 0) {
      give_back(e, &e->pools[i], off);
      return;
    }
  }
}

void ike_pool_free_all(ike_engine_t *e)
{
  for (size_t i = 0; i < IKE_CFG_MAX_POOLS; i++) {
    state_free(&e->pools[i]);
  }
}

static int claim(ike_engine_t *e, ike_pool_state_t *st, size_t off)
{
  if (st == NULL || off == 0 || off + 1 >= st->size || !mine(e, &st->prefix, off)) {
    return -1;
  }
  if (!st->used[off]) {
    st->used[off] = 1;
    st->n_used++;
  }
  return 0;
}

int ike_pool_claim(ike_engine_t *e, const ike_cfg_template_t *t, uint32_t addr)
{
  ike_pool_state_t *st = state_of(e, t, AF_INET);
  return claim(e, st, st ? offset4(st, addr) : 0);
}

int ike_pool_claim6(ike_engine_t *e, const ike_cfg_template_t *t, const uint8_t addr[16])
{
  ike_pool_state_t *st = state_of(e, t, AF_INET6);
  return claim(e, st, st ? offset6(st, addr) : 0);
}

/* The address at offset off of prefix p, as a prefix-sized byte string. */
static void addr_at(const ike_cfg_prefix_t *p, size_t off, uint8_t out[16])
{
  memset(out, 0, 16);
  if (p->family == AF_INET) {
    uint32_t a = htonl(base4(p) + (uint32_t)off);
    memcpy(out, &a, 4);
    return;
  }
  memcpy(out, p->addr, 16);
  out[13] = (uint8_t)((out[13] & 0xF0u) | ((off >> 16) & 0x0Fu));
  out[14] = (uint8_t)(off >> 8);
  out[15] = (uint8_t)off;
}

/* Offset of address a (as addr_at writes it) under prefix p, 0 if outside. */
static size_t offset_in(const ike_cfg_prefix_t *p, const uint8_t a[16])
{
  ike_pool_state_t tmp = {.prefix = *p, .size = hosts(p)};
  if (p->family == AF_INET) {
    uint32_t v;
    memcpy(&v, a, 4);
    return offset4(&tmp, ntohl(v));
  }
  return offset6(&tmp, a);
}

int ike_pool_reconfigure(ike_engine_t *e, const ike_config_t *next, bool apply,
                         char *err, size_t err_len)
{
  for (size_t i = 0; i < IKE_CFG_MAX_POOLS; i++) {
    ike_pool_state_t *st = &e->pools[i];
    if (st->used == NULL) {
      continue;
    }
    const ike_cfg_pool_t *np = ike_config_find_pool(next, st->name);
    if (np == NULL || np->prefix.family != st->prefix.family) {
      if (st->n_used > 0) {
        snprintf(err, err_len, "ip pool %s: %zu addresses in use, it cannot be removed "
                 "or change family (clear those sessions first)", st->name, st->n_used);
        return -1;
      }
      if (apply) {
        state_free(st);
      }
      continue;
    }
    if (memcmp(&np->prefix, &st->prefix, sizeof np->prefix) == 0) {
      continue;
    }
    /* Every address in use must stay inside the new prefix (widening is
     * fine, shrinking or moving under a session is not). */
    size_t nsize = hosts(&np->prefix), outside = 0;
    uint8_t *map = apply ? calloc(nsize, 1) : NULL;
    if (apply && map == NULL) {
      snprintf(err, err_len, "ip pool %s: out of memory for %zu addresses", st->name, nsize);
      return -1;
    }
    for (size_t off = 1; off < st->size; off++) {
      if (!st->used[off]) {
        continue;
      }
      uint8_t a[16];
      addr_at(&st->prefix, off, a);
      size_t noff = offset_in(&np->prefix, a);
      if (noff == 0 || noff + 1 >= nsize) {
        outside++;
      } else if (map != NULL) {
        map[noff] = 1;
      }
    }
    if (outside > 0) {
      free(map);
      snprintf(err, err_len, "ip pool %s: %zu addresses in use fall outside the new prefix "
               "(a pool in use can only be widened)", st->name, outside);
      return -1;
    }
    if (apply) {
      free(st->used);
      st->used = map; /* n_used is unchanged: every address moved over */
      st->size = nsize;
      st->prefix = np->prefix;
      st->cursor = 0;
    }
  }
  return 0;
}
