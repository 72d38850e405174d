/* esp_sa.c - ESP SA records and the SA table, see esp_sa.h. */
#include "esp_sa.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ike_wire.h"

/* --- names --- */

const char *esp_err_name(int err)
{
  switch (err < 0 ? -err : err) {
  case 0: return "ok";
#define X(n, v, s, d) case v: return s;
    ESP_ERR_MAP(X)
#undef X
  default: return "unknown";
  }
}

const char *esp_strerror(int err)
{
  switch (err < 0 ? -err : err) {
  case 0: return "success";
#define X(n, v, s, d) case v: return d;
    ESP_ERR_MAP(X)
#undef X
  default: return "unknown error";
  }
}

/* --- cipher methods, fetched once per process (DESIGN.md: no per-use fetch) --- */

enum { CI_GCM128, CI_GCM256, CI_CBC128, CI_CBC256, CI_CHACHA, CI_COUNT };
static EVP_CIPHER *esp_ciphers[CI_COUNT];
static pthread_once_t esp_fetch_once = PTHREAD_ONCE_INIT;

static void esp_fetch_ciphers(void)
{
  static const char *const names[CI_COUNT] = {
    "AES-128-GCM", "AES-256-GCM", "AES-128-CBC", "AES-256-CBC", "ChaCha20-Poly1305"};
  for (int i = 0; i < CI_COUNT; i++) {
    esp_ciphers[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
  }
}

/* The cipher of a suite, and its properties; NULL if unsupported. */
static const EVP_CIPHER *esp_suite_cipher(uint16_t encr, uint16_t bits, size_t *key_len,
                                          bool *aead)
{
  pthread_once(&esp_fetch_once, esp_fetch_ciphers);
  switch (encr) {
  case IKE_ENCR_AES_GCM_16:
    if (bits != 128 && bits != 256) {
      return NULL;
    }
    *aead = true;
    *key_len = bits / 8u + 4u; /* RFC 4106 8.1: key | 4-byte salt */
    return esp_ciphers[bits == 128 ? CI_GCM128 : CI_GCM256];
  case IKE_ENCR_AES_CBC:
    if (bits != 128 && bits != 256) {
      return NULL;
    }
    *aead = false;
    *key_len = bits / 8u;
    return esp_ciphers[bits == 128 ? CI_CBC128 : CI_CBC256];
  case IKE_ENCR_CHACHA20_POLY1305:
    *aead = true;
    *key_len = 36; /* RFC 7634 2: 256-bit key | 4-byte salt */
    return esp_ciphers[CI_CHACHA];
  default:
    return NULL;
  }
}

int esp_sa_prepare(esp_sa_t *sa)
{
  size_t klen;
  bool aead;
  const EVP_CIPHER *c = esp_suite_cipher(sa->encr, sa->encr_bits, &klen, &aead);
  if (c == NULL || klen != sa->enc_key_len + (aead ? 4u : 0u)) {
    return -ESP_E_INVAL;
  }
  if (!aead && esp_hmac_init(&sa->hmac, sa->integ, sa->auth_key, sa->auth_key_len) != 0) {
    return -ESP_E_INVAL;
  }
  if (sa->cctx == NULL) {
    sa->cctx = EVP_CIPHER_CTX_new();
    if (sa->cctx == NULL) {
      return -ESP_E_NOMEM;
    }
  }
  int enc = sa->dir == ESP_DIR_OUT ? 1 : 0;
  if (EVP_CipherInit_ex(sa->cctx, c, NULL, sa->enc_key, NULL, enc) != 1) {
    return -ESP_E_CRYPTO;
  }
  if (!aead) {
    EVP_CIPHER_CTX_set_padding(sa->cctx, 0); /* ESP pads itself (RFC 4303 2.4) */
  }
  return 0;
}

/* Validate the suite of p and fill the crypto fields of sa. */
static int esp_sa_set_suite(esp_sa_t *sa, const esp_sa_params_t *p)
{
  size_t klen;
  bool aead;
  if (esp_suite_cipher(p->encr, p->encr_bits, &klen, &aead) == NULL) {
    return -ESP_E_INVAL;
  }
  if (p->enc_key == NULL || p->enc_key_len != klen) {
    return -ESP_E_INVAL;
  }
  sa->encr = p->encr;
  sa->encr_bits = p->encr == IKE_ENCR_CHACHA20_POLY1305 ? 256 : p->encr_bits;
  sa->aead = aead;
  memcpy(sa->enc_key, p->enc_key, klen);
  sa->enc_key_len = (uint8_t)klen;
  if (aead) {
    if (p->integ != IKE_INTEG_NONE) {
      return -ESP_E_INVAL; /* RFC 4106 / 7634: no separate integrity with AEAD */
    }
    memcpy(sa->salt, p->enc_key + klen - 4u, 4);
    sa->enc_key_len = (uint8_t)(klen - 4u);
    sa->iv_len = 8;
    sa->icv_len = 16;
    sa->align = 4;
    return 0;
  }
  esp_hmac_t h;
  if (p->auth_key == NULL || p->auth_key_len > ESP_MAX_AUTH_KEY ||
      esp_hmac_init(&h, p->integ, p->auth_key, p->auth_key_len) != 0 ||
      p->auth_key_len != h.md_len) { /* RFC 2404 / 4868 2.1.1: key = output size */
    esp_hmac_wipe(&h);
    return -ESP_E_INVAL;
  }
  sa->integ = p->integ;
  memcpy(sa->auth_key, p->auth_key, p->auth_key_len);
  sa->auth_key_len = (uint8_t)p->auth_key_len;
  sa->iv_len = 16;
  sa->icv_len = h.icv_len;
  sa->align = 16;
  esp_hmac_wipe(&h);
  return 0;
}

/* --- addresses --- */

static int esp_addr_set(esp_addr_t *a, const struct sockaddr *s)
{
  memset(a, 0, sizeof(*a));
  if (s == NULL) {
    return 0;
  }
  if (s->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)s;
    memcpy(&a->ss, in, sizeof(*in));
    inet_ntop(AF_INET, &in->sin_addr, a->str, sizeof(a->str));
    return 0;
  }
  if (s->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)s;
    memcpy(&a->ss, in6, sizeof(*in6));
    inet_ntop(AF_INET6, &in6->sin6_addr, a->str, sizeof(a->str));
    return 0;
  }
  return -ESP_E_INVAL;
}

static uint16_t esp_sockaddr_port(const struct sockaddr *s)
{
  if (s->sa_family == AF_INET) {
    return ntohs(((const struct sockaddr_in *)s)->sin_port);
  }
  return ntohs(((const struct sockaddr_in6 *)s)->sin6_port);
}

/* Outer path sanity: one family, and ports when encapsulated. */
static int esp_path_check(const struct sockaddr *local, const struct sockaddr *peer,
                          bool udp_encap)
{
  if (local == NULL || peer == NULL) {
    return -ESP_E_INVAL;
  }
  if (local->sa_family != peer->sa_family ||
      (local->sa_family != AF_INET && local->sa_family != AF_INET6)) {
    return -ESP_E_INVAL;
  }
  if (udp_encap && (esp_sockaddr_port(local) == 0 || esp_sockaddr_port(peer) == 0)) {
    return -ESP_E_INVAL;
  }
  return 0;
}

int esp_sa_update_addr(esp_sa_t *sa, const struct sockaddr *local,
                       const struct sockaddr *peer, bool udp_encap)
{
  int rc = esp_path_check(local, peer, udp_encap);
  if (rc != 0) {
    return rc;
  }
  /* Only the outer path changes: seq, replay window, counters, lifetimes and the
   * prepared crypto stay (DESIGN.md, MOBIKE pitfalls). */
  esp_addr_set(&sa->local, local);
  esp_addr_set(&sa->peer, peer);
  sa->udp_encap = udp_encap ? 1 : 0;
  return 0;
}

int esp_inaddr_parse(esp_inaddr_t *a, const char *text)
{
  memset(a, 0, sizeof(*a));
  if (inet_pton(AF_INET, text, a->addr) == 1) {
    a->family = AF_INET;
    return 0;
  }
  if (inet_pton(AF_INET6, text, a->addr) == 1) {
    a->family = AF_INET6;
    return 0;
  }
  return -ESP_E_INVAL;
}

/* --- lifetimes --- */

void esp_sa_fire(esp_sa_t *sa, esp_life_event_t ev)
{
  if (ev == ESP_LIFE_HARD) {
    if (sa->hard_fired) {
      return;
    }
    sa->hard_fired = 1;
    sa->soft_fired = 1; /* a deleted SA needs no rekey report */
  } else {
    if (sa->soft_fired) {
      return;
    }
    sa->soft_fired = 1;
  }
  if (sa->life_cb != NULL) {
    sa->life_cb(sa, ev, sa->life_arg);
  }
}

static bool esp_crossed(uint64_t limit, uint64_t v)
{
  return limit != 0 && v >= limit;
}

void esp_sa_account(esp_sa_t *sa, size_t inner_len)
{
  sa->st.packets++;
  sa->st.bytes += inner_len;
  if (sa->soft_fired && sa->hard_fired) {
    return;
  }
  if (esp_crossed(sa->life.hard_bytes, sa->st.bytes) ||
      esp_crossed(sa->life.hard_packets, sa->st.packets)) {
    esp_sa_fire(sa, ESP_LIFE_HARD);
  } else if (esp_crossed(sa->life.soft_bytes, sa->st.bytes) ||
             esp_crossed(sa->life.soft_packets, sa->st.packets)) {
    esp_sa_fire(sa, ESP_LIFE_SOFT);
  }
}

/* --- open-addressing maps: key -> slot id + 1, linear probing, backward-shift
 * deletion (no tombstones, so lookups never degrade after churn) --- */

typedef struct map_ent {
  uint32_t key;   /* inbound: the SPI; outbound: hash of the inner address */
  uint32_t idx1;  /* slot id + 1, 0 = empty */
} map_ent_t;

typedef struct esp_map {
  map_ent_t *e;
  uint32_t mask;
} esp_map_t;

struct esp_table {
  uint32_t max, count, nfree;
  esp_sa_t *sa;        /* max slots */
  uint32_t *freelist;  /* stack of free slot ids */
  esp_map_t in, out;
  esp_life_cb_t life_cb;
  void *life_arg;
  esp_lease_cb_t lease_cb;
  void *lease_arg;
  uint64_t err[ESP_E_COUNT];
};

static uint32_t esp_mix32(uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

static uint32_t esp_inaddr_hash(const esp_inaddr_t *a)
{
  uint32_t h = a->family;
  for (int i = 0; i < 16; i += 4) {
    uint32_t w;
    memcpy(&w, a->addr + i, 4);
    h = esp_mix32(h ^ w);
  }
  return h;
}

static bool esp_inaddr_eq(const esp_inaddr_t *a, const esp_inaddr_t *b)
{
  return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

#define MAP_NONE UINT32_MAX

/* Position of key in m (and, for the outbound map, whose SA has inner address a). */
static uint32_t map_find(const esp_table_t *t, const esp_map_t *m, uint32_t key,
                         const esp_inaddr_t *a)
{
  for (uint32_t i = esp_mix32(key) & m->mask;; i = (i + 1u) & m->mask) {
    const map_ent_t *e = &m->e[i];
    if (e->idx1 == 0) {
      return MAP_NONE;
    }
    if (e->key == key && (a == NULL || esp_inaddr_eq(&t->sa[e->idx1 - 1u].inner, a))) {
      return i;
    }
  }
}

static void map_insert(esp_map_t *m, uint32_t key, uint32_t idx1)
{
  uint32_t i = esp_mix32(key) & m->mask;
  while (m->e[i].idx1 != 0) {
    i = (i + 1u) & m->mask;
  }
  m->e[i].key = key;
  m->e[i].idx1 = idx1;
}

static void map_remove_at(esp_map_t *m, uint32_t i)
{
  uint32_t j = i;
  for (;;) {
    j = (j + 1u) & m->mask;
    if (m->e[j].idx1 == 0) {
      break;
    }
    uint32_t home = esp_mix32(m->e[j].key) & m->mask;
    /* Entry j may move into the hole at i unless its home lies cyclically in (i, j]. */
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      m->e[i] = m->e[j];
      i = j;
    }
  }
  m->e[i].key = 0;
  m->e[i].idx1 = 0;
}

static int map_alloc(esp_map_t *m, uint32_t max)
{
  uint32_t n = 16;
  while (n < 2u * max) {
    n <<= 1;
  }
  m->e = calloc(n, sizeof(*m->e));
  m->mask = n - 1u;
  return m->e != NULL ? 0 : -ESP_E_NOMEM;
}

/* --- table --- */

int esp_table_new(uint32_t max_sas, esp_table_t **out)
{
  *out = NULL;
  if (max_sas == 0 || max_sas > (1u << 28)) {
    return -ESP_E_INVAL;
  }
  esp_table_t *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    return -ESP_E_NOMEM;
  }
  t->max = max_sas;
  t->sa = calloc(max_sas, sizeof(*t->sa));
  t->freelist = calloc(max_sas, sizeof(*t->freelist));
  if (t->sa == NULL || t->freelist == NULL || map_alloc(&t->in, max_sas) != 0 ||
      map_alloc(&t->out, max_sas) != 0) {
    esp_table_free(t);
    return -ESP_E_NOMEM;
  }
  for (uint32_t i = 0; i < max_sas; i++) {
    t->freelist[i] = max_sas - 1u - i; /* pop gives 0, 1, 2, ... */
  }
  t->nfree = max_sas;
  *out = t;
  return 0;
}

void esp_table_free(esp_table_t *t)
{
  if (t == NULL) {
    return;
  }
  if (t->sa != NULL) {
    for (uint32_t i = 0; i < t->max; i++) {
      if (t->sa[i].in_use) {
        esp_table_del(t, i);
      }
    }
  }
  free(t->sa);
  free(t->freelist);
  free(t->in.e);
  free(t->out.e);
  free(t);
}

void esp_table_set_life_cb(esp_table_t *t, esp_life_cb_t cb, void *arg)
{
  t->life_cb = cb;
  t->life_arg = arg;
}

void esp_table_set_lease_cb(esp_table_t *t, esp_lease_cb_t cb, void *arg)
{
  t->lease_cb = cb;
  t->lease_arg = arg;
}

/* Fill slot sa from p (no indexing). */
static int esp_sa_fill(esp_table_t *t, esp_sa_t *sa, const esp_sa_params_t *p)
{
  int rc = esp_sa_set_suite(sa, p);
  if (rc != 0) {
    return rc;
  }
  sa->spi = p->spi;
  sa->dir = (uint8_t)p->dir;
  sa->esn = p->esn ? 1 : 0;
  if (p->dir == ESP_DIR_IN && esp_replay_init(&sa->replay, p->replay_window, p->esn) != 0) {
    return -ESP_E_INVAL;
  }
  if (p->local != NULL || p->peer != NULL) {
    rc = esp_path_check(p->local, p->peer, p->udp_encap);
    if (rc != 0) {
      return rc;
    }
  }
  esp_addr_set(&sa->local, p->local);
  esp_addr_set(&sa->peer, p->peer);
  sa->udp_encap = p->udp_encap ? 1 : 0;
  sa->inner = p->inner;
  sa->life = p->life;
  sa->owner = p->owner;
  sa->life_cb = t->life_cb;
  sa->life_arg = t->life_arg;
  if (p->dir == ESP_DIR_OUT && t->lease_cb != NULL) {
    sa->lease_cb = t->lease_cb;
    sa->lease_arg = t->lease_arg;
    sa->seq_limit = sa->seq_soft = 0;
  } else {
    sa->seq_limit = sa->seq_soft = UINT64_MAX;
  }
  return esp_sa_prepare(sa);
}

/* Wipe keys and free the context of a slot, leaving it free. */
static void esp_sa_clear(esp_sa_t *sa)
{
  EVP_CIPHER_CTX_free(sa->cctx);
  OPENSSL_cleanse(sa, sizeof(*sa));
}

int esp_table_add(esp_table_t *t, const esp_sa_params_t *p, esp_sa_t **sa_out)
{
  if (sa_out != NULL) {
    *sa_out = NULL;
  }
  if (p->dir != ESP_DIR_IN && p->dir != ESP_DIR_OUT) {
    return -ESP_E_INVAL;
  }
  if (p->dir == ESP_DIR_IN && map_find(t, &t->in, p->spi, NULL) != MAP_NONE) {
    return -ESP_E_EXISTS;
  }
  if (p->dir == ESP_DIR_OUT && p->inner.family != 0 && p->inner.family != AF_INET &&
      p->inner.family != AF_INET6) {
    return -ESP_E_INVAL;
  }
  if (t->nfree == 0) {
    return -ESP_E_FULL;
  }
  uint32_t id = t->freelist[t->nfree - 1u];
  esp_sa_t *sa = &t->sa[id];
  memset(sa, 0, sizeof(*sa));
  int rc = esp_sa_fill(t, sa, p);
  if (rc != 0) {
    esp_sa_clear(sa);
    return rc;
  }
  t->nfree--;
  sa->id = id;
  sa->in_use = 1;
  t->count++;
  if (p->dir == ESP_DIR_IN) {
    map_insert(&t->in, sa->spi, id + 1u);
  } else if (sa->inner.family != 0) {
    uint32_t h = esp_inaddr_hash(&sa->inner);
    uint32_t pos = map_find(t, &t->out, h, &sa->inner);
    if (pos == MAP_NONE) {
      map_insert(&t->out, h, id + 1u);
    } else { /* newest first: the rekeyed SA takes over the route */
      sa->inner_next = t->out.e[pos].idx1;
      t->out.e[pos].idx1 = id + 1u;
    }
  }
  if (sa_out != NULL) {
    *sa_out = sa;
  }
  return 0;
}

/* Unlink an outbound SA from its inner-address chain. */
static void esp_table_unroute(esp_table_t *t, esp_sa_t *sa)
{
  uint32_t h = esp_inaddr_hash(&sa->inner);
  uint32_t pos = map_find(t, &t->out, h, &sa->inner);
  if (pos == MAP_NONE) {
    return;
  }
  uint32_t me = sa->id + 1u;
  if (t->out.e[pos].idx1 == me) {
    if (sa->inner_next != 0) {
      t->out.e[pos].idx1 = sa->inner_next;
    } else {
      map_remove_at(&t->out, pos);
    }
    return;
  }
  for (uint32_t cur = t->out.e[pos].idx1; cur != 0; cur = t->sa[cur - 1u].inner_next) {
    if (t->sa[cur - 1u].inner_next == me) {
      t->sa[cur - 1u].inner_next = sa->inner_next;
      return;
    }
  }
}

int esp_table_del(esp_table_t *t, uint32_t id)
{
  esp_sa_t *sa = esp_table_get(t, id);
  if (sa == NULL) {
    return -ESP_E_NOT_FOUND;
  }
  if (sa->dir == ESP_DIR_IN) {
    uint32_t pos = map_find(t, &t->in, sa->spi, NULL);
    if (pos != MAP_NONE) {
      map_remove_at(&t->in, pos);
    }
  } else if (sa->inner.family != 0) {
    esp_table_unroute(t, sa);
  }
  esp_sa_clear(sa);
  t->freelist[t->nfree++] = id;
  t->count--;
  return 0;
}

esp_sa_t *esp_table_get(esp_table_t *t, uint32_t id)
{
  if (id >= t->max || !t->sa[id].in_use) {
    return NULL;
  }
  return &t->sa[id];
}

esp_sa_t *esp_table_find_in(const esp_table_t *t, uint32_t spi)
{
  uint32_t pos = map_find(t, &t->in, spi, NULL);
  return pos == MAP_NONE ? NULL : &t->sa[t->in.e[pos].idx1 - 1u];
}

esp_sa_t *esp_table_find_out(const esp_table_t *t, const esp_inaddr_t *inner)
{
  uint32_t pos = map_find(t, &t->out, esp_inaddr_hash(inner), inner);
  return pos == MAP_NONE ? NULL : &t->sa[t->out.e[pos].idx1 - 1u];
}

esp_sa_t *esp_table_route(const esp_table_t *t, const uint8_t *pkt, size_t len)
{
  esp_inaddr_t a;
  memset(&a, 0, sizeof(a));
  if (len >= 20 && (pkt[0] >> 4) == 4) {
    a.family = AF_INET;
    memcpy(a.addr, pkt + 16, 4); /* IPv4 destination (RFC 791) */
  } else if (len >= 40 && (pkt[0] >> 4) == 6) {
    a.family = AF_INET6;
    memcpy(a.addr, pkt + 24, 16); /* IPv6 destination (RFC 8200) */
  } else {
    return NULL;
  }
  return esp_table_find_out(t, &a);
}

uint32_t esp_table_count(const esp_table_t *t)
{
  return t->count;
}

const uint64_t *esp_table_errors(const esp_table_t *t)
{
  return t->err;
}

void esp_table_count_drop(esp_table_t *t, esp_err_t cause)
{
  t->err[cause]++;
}

void esp_table_foreach(esp_table_t *t, void (*fn)(esp_sa_t *sa, void *arg), void *arg)
{
  for (uint32_t i = 0; i < t->max; i++) {
    if (t->sa[i].in_use) {
      fn(&t->sa[i], arg);
    }
  }
}
