/*
 * ike_ckpt_store.c - the checkpoint store of one sessmgr slot (ike_ckpt.h):
 * an LMDB environment in one file, one unnamed database, key = our IKE SPI
 * (8 bytes, big-endian), value = the IkeSaRecord bytes.
 *
 * One write transaction is open at a time (LMDB's rule, and ours: one loop
 * thread); it starts with the first put/del after a commit and ends with
 * ike_ckpt_store_commit. A full map aborts the batch and doubles the map, so
 * the caller's retry of the same batch fits.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ike_ckpt.h"
#include "ike_err.h"
#include "ike_log.h"

struct ike_ckpt_store {
  MDB_env *env;
  MDB_dbi dbi;
  MDB_txn *wtxn;            /* the open write transaction, or NULL */
  size_t map_size;
  char path[4096];
};

static void spi_key(uint64_t spi, uint8_t k[8], MDB_val *v)
{
  for (int i = 0; i < 8; i++) {
    k[i] = (uint8_t)(spi >> (56 - 8 * i));
  }
  v->mv_size = 8;
  v->mv_data = k;
}

static uint64_t key_spi(const MDB_val *v)
{
  const uint8_t *k = v->mv_data;
  uint64_t spi = 0;
  for (size_t i = 0; i < 8 && i < v->mv_size; i++) {
    spi = spi << 8 | k[i];
  }
  return spi;
}

static int store_err(const ike_ckpt_store_t *st, const char *what, int rc)
{
  IKE_LOG_ERR("checkpoint store %s: %s: %s", st->path, what, mdb_strerror(rc));
  return -IKE_E_STORE;
}

int ike_ckpt_store_open(const char *state_dir, uint16_t slot, ike_ckpt_store_t **out)
{
  ike_ckpt_store_t *st = calloc(1, sizeof *st);
  if (st == NULL) {
    return -IKE_E_NOMEM;
  }
  if (ike_ckpt_store_file(state_dir, slot, st->path, sizeof st->path) != 0) {
    free(st);
    return -IKE_E_STORE;
  }
  if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
    IKE_LOG_ERR("checkpoint store: cannot create %s: %s", state_dir, strerror(errno));
    free(st);
    return -IKE_E_STORE;
  }
  st->map_size = (size_t)IKE_CKPT_MAP_SIZE;
  MDB_txn *txn = NULL;
  int rc = mdb_env_create(&st->env);
  if (rc == 0) {
    rc = mdb_env_set_mapsize(st->env, st->map_size);
  }
  if (rc == 0) {
    /* NOSYNC: durable against a killed process, fsync left to ..._sync(). */
    rc = mdb_env_open(st->env, st->path, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOTLS, 0600);
  }
  if (rc == 0) {
    int dead = 0;
    mdb_reader_check(st->env, &dead); /* reader slots of a killed predecessor */
    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
  }
  if (rc == 0) {
    rc = mdb_dbi_open(txn, NULL, 0, &st->dbi);
  }
  if (rc == 0) {
    rc = mdb_txn_commit(txn);
    txn = NULL;
  }
  if (rc != 0) {
    /* The caller decides what follows (sessmgr: moved aside, one ERROR). */
    IKE_LOG_WARN("checkpoint store %s: open: %s", st->path, mdb_strerror(rc));
    if (txn != NULL) {
      mdb_txn_abort(txn);
    }
    if (st->env != NULL) {
      mdb_env_close(st->env);
    }
    free(st);
    return -IKE_E_STORE;
  }
  *out = st;
  return 0;
}

void ike_ckpt_store_close(ike_ckpt_store_t *st)
{
  if (st == NULL) {
    return;
  }
  ike_ckpt_store_abort(st);
  mdb_env_close(st->env);
  free(st);
}

const char *ike_ckpt_store_path(const ike_ckpt_store_t *st)
{
  return st->path;
}

void ike_ckpt_store_abort(ike_ckpt_store_t *st)
{
  if (st->wtxn != NULL) {
    mdb_txn_abort(st->wtxn);
    st->wtxn = NULL;
  }
}

/* The map is full: drop the batch and make room for its retry. */
static int map_full(ike_ckpt_store_t *st)
{
  ike_ckpt_store_abort(st);
  size_t want = st->map_size * 2;
  int rc = mdb_env_set_mapsize(st->env, want);
  if (rc != 0) {
    return store_err(st, "grow map", rc);
  }
  st->map_size = want;
  IKE_LOG_INFO("checkpoint store %s: map grown to %zu MiB", st->path, want >> 20);
  return -IKE_E_NOSPACE;
}

static int wtxn(ike_ckpt_store_t *st)
{
  if (st->wtxn != NULL) {
    return 0;
  }
  int rc = mdb_txn_begin(st->env, NULL, 0, &st->wtxn);
  if (rc != 0) {
    st->wtxn = NULL;
    return store_err(st, "begin", rc);
  }
  return 0;
}

int ike_ckpt_store_put(ike_ckpt_store_t *st, uint64_t spi, const uint8_t *rec, size_t len)
{
  uint8_t k[8];
  MDB_val key, val = {.mv_size = len, .mv_data = (void *)rec};
  int rc = wtxn(st);
  if (rc != 0) {
    return rc;
  }
  spi_key(spi, k, &key);
  rc = mdb_put(st->wtxn, st->dbi, &key, &val, 0);
  if (rc == MDB_MAP_FULL) {
    return map_full(st);
  }
  if (rc != 0) {
    ike_ckpt_store_abort(st);
    return store_err(st, "put", rc);
  }
  return 0;
}

int ike_ckpt_store_del(ike_ckpt_store_t *st, uint64_t spi)
{
  uint8_t k[8];
  MDB_val key;
  int rc = wtxn(st);
  if (rc != 0) {
    return rc;
  }
  spi_key(spi, k, &key);
  rc = mdb_del(st->wtxn, st->dbi, &key, NULL);
  if (rc == MDB_NOTFOUND) {
    return 0;
  }
  if (rc == MDB_MAP_FULL) {
    return map_full(st);
  }
  if (rc != 0) {
    ike_ckpt_store_abort(st);
    return store_err(st, "del", rc);
  }
  return 0;
}

int ike_ckpt_store_commit(ike_ckpt_store_t *st)
{
  if (st->wtxn == NULL) {
    return 0;
  }
  int rc = mdb_txn_commit(st->wtxn); /* frees the transaction either way */
  st->wtxn = NULL;
  if (rc == MDB_MAP_FULL) {
    return map_full(st);
  }
  return rc == 0 ? 0 : store_err(st, "commit", rc);
}

/* The transaction reads go through: the write one if open, else a read one. */
static int rtxn(ike_ckpt_store_t *st, MDB_txn **txn, bool *own)
{
  *own = st->wtxn == NULL;
  if (!*own) {
    *txn = st->wtxn;
    return 0;
  }
  int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
  return rc == 0 ? 0 : store_err(st, "begin read", rc);
}

int ike_ckpt_store_get(ike_ckpt_store_t *st, uint64_t spi, uint8_t **out, size_t *len)
{
  MDB_txn *txn;
  bool own;
  uint8_t k[8];
  MDB_val key, val;
  if (rtxn(st, &txn, &own) != 0) {
    return -IKE_E_STORE;
  }
  spi_key(spi, k, &key);
  int rc = mdb_get(txn, st->dbi, &key, &val);
  int ret = 0;
  if (rc == MDB_NOTFOUND) {
    ret = -IKE_E_TRUNC;
  } else if (rc != 0) {
    ret = store_err(st, "get", rc);
  } else if ((*out = malloc(val.mv_size ? val.mv_size : 1)) == NULL) {
    ret = -IKE_E_NOMEM;
  } else {
    memcpy(*out, val.mv_data, val.mv_size);
    *len = val.mv_size;
  }
  if (own) {
    mdb_txn_abort(txn);
  }
  return ret;
}

int ike_ckpt_store_foreach(ike_ckpt_store_t *st, ike_ckpt_visit_fn fn, void *arg)
{
  MDB_txn *txn;
  MDB_cursor *cur;
  bool own;
  MDB_val key, val;
  if (rtxn(st, &txn, &own) != 0) {
    return -IKE_E_STORE;
  }
  int rc = mdb_cursor_open(txn, st->dbi, &cur);
  if (rc != 0) {
    if (own) {
      mdb_txn_abort(txn);
    }
    return store_err(st, "cursor", rc);
  }
  int n = 0;
  for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
    n++;
    if (fn(arg, key_spi(&key), val.mv_data, val.mv_size) != 0) {
      break;
    }
  }
  mdb_cursor_close(cur);
  if (own) {
    mdb_txn_abort(txn);
  }
  return (rc == 0 || rc == MDB_NOTFOUND) ? n : store_err(st, "iterate", rc);
}

size_t ike_ckpt_store_count(ike_ckpt_store_t *st)
{
  MDB_txn *txn;
  bool own;
  MDB_stat s;
  if (rtxn(st, &txn, &own) != 0) {
    return 0;
  }
  size_t n = mdb_stat(txn, st->dbi, &s) == 0 ? s.ms_entries : 0;
  if (own) {
    mdb_txn_abort(txn);
  }
  return n;
}

int ike_ckpt_store_file(const char *state_dir, uint16_t slot, char *out, size_t len)
{
  int n = snprintf(out, len, "%s/ckpt-sessmgr-%u.mdb", state_dir, slot);
  return n < 0 || (size_t)n >= len ? -IKE_E_STORE : 0;
}

void ike_ckpt_store_set_sync(ike_ckpt_store_t *st, bool every_commit)
{
  mdb_env_set_flags(st->env, MDB_NOSYNC, every_commit ? 0 : 1);
}

int ike_ckpt_store_sync(ike_ckpt_store_t *st)
{
  int rc = mdb_env_sync(st->env, 1);
  return rc == 0 ? 0 : store_err(st, "sync", rc);
}
