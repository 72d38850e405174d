/* seq_lease.c - persisted sequence-number leases, see seq_lease.h. */
#include "seq_lease.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_KEY_LEN 9u
#define SEQ_VAL_LEN 11u
#define SEQ_VAL_VERSION 1u

/* ---------------------------------------------------------------- lease arithmetic */

uint64_t seq_lease_end(uint64_t used, uint32_t block, bool esn)
{
  if (block == 0) {
    block = SEQ_LEASE_START;
  }
  uint64_t end = used > UINT64_MAX - block ? UINT64_MAX : used + block;
  if (!esn && end > SEQ_LEASE_SEQ32_MAX) {
    end = SEQ_LEASE_SEQ32_MAX;
  }
  return end < used ? used : end;
}

uint64_t seq_lease_soft(uint64_t end, uint32_t block)
{
  uint64_t half = block / 2u;
  return end > half ? end - half : 0;
}

uint32_t seq_lease_adapt(uint32_t block, uint64_t secs_since_last)
{
  if (block < SEQ_LEASE_MIN) {
    block = SEQ_LEASE_MIN;
  }
  if (secs_since_last < 1 && block < SEQ_LEASE_MAX) {
    block *= 2u;
  } else if (secs_since_last > 60 && block > SEQ_LEASE_MIN) {
    block /= 2u;
  }
  return block > SEQ_LEASE_MAX ? SEQ_LEASE_MAX : block;
}

/* ---------------------------------------------------------------- codec */

static void put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void seq_key(uint8_t k[SEQ_KEY_LEN], uint8_t dir, uint32_t spi, uint32_t cin)
{
  k[0] = dir;
  put32(k + 1, spi);
  put32(k + 5, cin);
}

static void seq_val(uint8_t v[SEQ_VAL_LEN], const seq_rec_t *r)
{
  v[0] = SEQ_VAL_VERSION;
  put32(v + 1, (uint32_t)(r->mark >> 32));
  put32(v + 5, (uint32_t)r->mark);
  v[9] = (uint8_t)(r->owner >> 8);
  v[10] = (uint8_t)r->owner;
}

static bool seq_decode(const MDB_val *k, const MDB_val *v, seq_rec_t *r)
{
  const uint8_t *kb = k->mv_data, *vb = v->mv_data;
  if (k->mv_size != SEQ_KEY_LEN || v->mv_size != SEQ_VAL_LEN || vb[0] != SEQ_VAL_VERSION ||
      (kb[0] != 1 && kb[0] != 2)) {
    return false;
  }
  memset(r, 0, sizeof(*r));
  r->dir = kb[0];
  r->spi = get32(kb + 1);
  r->cin = get32(kb + 5);
  r->mark = (uint64_t)get32(vb + 1) << 32 | get32(vb + 5);
  r->owner = (uint16_t)(vb[9] << 8 | vb[10]);
  return true;
}

/* ---------------------------------------------------------------- store */

struct seq_store {
  MDB_env *env;
  MDB_dbi dbi;
};

static int seq_fail(int rc, const char *what, char *err, size_t errlen)
{
  snprintf(err, errlen, "sequence-number store: %s: %s", what, mdb_strerror(rc));
  return rc > 0 ? -rc : -EIO; /* LMDB returns errno values or its own codes < 0 */
}

int seq_store_open(const char *path, uint32_t max_records, seq_store_t **out, char *err,
                   size_t errlen)
{
  *out = NULL;
  seq_store_t *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(err, errlen, "sequence-number store: out of memory");
    return -ENOMEM;
  }
  /* ~64 bytes per record in the B-tree with its overhead; at least 16 MiB. */
  size_t map = (size_t)max_records * 2u * 128u;
  if (map < (16u << 20)) {
    map = 16u << 20;
  }
  int rc = mdb_env_create(&s->env);
  if (rc == 0) {
    rc = mdb_env_set_mapsize(s->env, map);
  }
  if (rc == 0) {
    rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
  }
  MDB_txn *txn = NULL;
  if (rc == 0) {
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
  }
  if (rc == 0) {
    rc = mdb_dbi_open(txn, NULL, 0, &s->dbi);
  }
  if (rc == 0) {
    rc = mdb_txn_commit(txn);
    txn = NULL;
  }
  if (rc != 0) {
    char what[320];
    snprintf(what, sizeof(what), "open %s", path);
    int e = seq_fail(rc, what, err, errlen);
    if (txn != NULL) {
      mdb_txn_abort(txn);
    }
    mdb_env_close(s->env);
    free(s);
    return e;
  }
  *out = s;
  return 0;
}

void seq_store_close(seq_store_t *s)
{
  if (s != NULL) {
    mdb_env_close(s->env);
    free(s);
  }
}

int seq_store_write(seq_store_t *s, const seq_rec_t *ops, size_t n, char *err, size_t errlen)
{
  MDB_txn *txn;
  int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
  if (rc != 0) {
    return seq_fail(rc, "begin", err, errlen);
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    uint8_t kb[SEQ_KEY_LEN], vb[SEQ_VAL_LEN];
    seq_key(kb, ops[i].dir, ops[i].spi, ops[i].cin);
    MDB_val k = {.mv_size = sizeof(kb), .mv_data = kb};
    if (ops[i].del) {
      rc = mdb_del(txn, s->dbi, &k, NULL);
      if (rc == MDB_NOTFOUND) {
        rc = 0;
      }
    } else {
      seq_val(vb, &ops[i]);
      MDB_val v = {.mv_size = sizeof(vb), .mv_data = vb};
      rc = mdb_put(txn, s->dbi, &k, &v, 0);
    }
  }
  if (rc != 0) {
    mdb_txn_abort(txn);
    return seq_fail(rc, "write", err, errlen);
  }
  rc = mdb_txn_commit(txn);
  return rc != 0 ? seq_fail(rc, "commit", err, errlen) : 0;
}

int seq_store_load(seq_store_t *s, seq_rec_t **out, size_t *n, size_t *bad, char *err,
                   size_t errlen)
{
  *out = NULL;
  *n = *bad = 0;
  MDB_txn *txn;
  MDB_cursor *cur;
  MDB_stat st;
  int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
  if (rc != 0) {
    return seq_fail(rc, "begin", err, errlen);
  }
  if ((rc = mdb_stat(txn, s->dbi, &st)) != 0 ||
      (rc = mdb_cursor_open(txn, s->dbi, &cur)) != 0) {
    mdb_txn_abort(txn);
    return seq_fail(rc, "read", err, errlen);
  }
  seq_rec_t *r = calloc(st.ms_entries ? st.ms_entries : 1, sizeof(*r));
  if (r == NULL) {
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    snprintf(err, errlen, "sequence-number store: out of memory");
    return -ENOMEM;
  }
  MDB_val k, v;
  size_t i = 0;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && i < st.ms_entries;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (seq_decode(&k, &v, &r[i])) {
      i++; /* key order = (dir, spi, cin) big-endian: already sorted */
    } else {
      (*bad)++;
    }
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  *out = r;
  *n = i;
  return 0;
}

static int seq_cmp(uint8_t d1, uint32_t s1, uint32_t c1, const seq_rec_t *b)
{
  if (d1 != b->dir) {
    return d1 < b->dir ? -1 : 1;
  }
  if (s1 != b->spi) {
    return s1 < b->spi ? -1 : 1;
  }
  if (c1 != b->cin) {
    return c1 < b->cin ? -1 : 1;
  }
  return 0;
}

seq_rec_t *seq_rec_find(seq_rec_t *recs, size_t n, uint8_t dir, uint32_t spi, uint32_t cin)
{
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2u;
    int c = seq_cmp(dir, spi, cin, &recs[mid]);
    if (c == 0) {
      return &recs[mid];
    }
    if (c < 0) {
      hi = mid;
    } else {
      lo = mid + 1u;
    }
  }
  return NULL;
}
