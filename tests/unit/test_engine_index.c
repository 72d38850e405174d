/*
 * test_engine_index.c - lookups that must not grow with the SA table, and the
 * rules that depend on them (issue 12 items 2, 3, 4 and the caps of item 8):
 *   - a header-only IKE_SA_INIT and INITIAL_CONTACT look at a bounded number
 *     of SAs with 10,000 SAs in the table (half-open and identity indexes);
 *   - only an exact copy of a request is answered from the response cache,
 *     and resends are rate-limited per SA (RFC 7296 2.1);
 *   - INITIAL_CONTACT compares identities by type + raw bytes (RFC 7296 3.5);
 *   - half-open SAs per source address and IKE SAs per identity are capped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_harness.c"
#include "ike_sa.h"

static unsigned count_sas(const hx_t *hx, const char *state)
{
  size_t n = 0;
  ike_engine_t *e = hx->gw;
  for (size_t j = 0; j < e->cap; j++) {
    if (e->tab[j] != NULL && strcmp(ike_sa_state_name(e->tab[j]->state), state) == 0) {
      n++;
    }
  }
  return (unsigned)n;
}

/* n established SAs with distinct identities, plus one half-open SA, put
 * straight into the table (no crypto: this is about lookups). */
static void fill_table(hx_t *hx, unsigned n)
{
  ike_engine_t *e = hx->gw;
  for (unsigned i = 0; i < n; i++) {
    ike_sa_t *sa = ike_sa_new(e, 0x1000000000ull + i);
    assert_non_null(sa);
    hx_addr4(&sa->path.peer, "10.1.0.1", (uint16_t)(1000 + i % 50000));
    ike_sa_set_identity(e, sa, IKE_ID_KEY_ID, (const uint8_t *)&i, sizeof i);
    assert_int_equal(ike_sa_set_state(e, sa, IKE_SA_ESTABLISHED), 0);
  }
  ike_sa_t *ho = ike_sa_new(e, 0x2000000000ull);
  assert_non_null(ho);
  ho->ho = calloc(1, sizeof *ho->ho);
  assert_non_null(ho->ho);
  hx_addr4(&ho->path.peer, "10.2.0.1", 500);
  assert_int_equal(ike_sa_set_state(e, ho, IKE_SA_HALF_OPEN), 0);
}

/* A 28-byte IKE_SA_INIT request header with no payload. */
static void header_only_init(uint8_t out[28], uint64_t spi_i)
{
  memset(out, 0, 28);
  for (int i = 0; i < 8; i++) {
    out[i] = (uint8_t)(spi_i >> (56 - 8 * i));
  }
  out[17] = 0x20;           /* version 2.0 */
  out[18] = IKE_EXCH_IKE_SA_INIT;
  out[19] = IKE_FLAG_INITIATOR;
  out[27] = 28;             /* length */
}

/* Item 2: with 10,000 SAs, a spoofed IKE_SA_INIT and an INITIAL_CONTACT each
 * look at a handful of SAs (before: a scan of every table slot). */
static void lookups_do_not_scan(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  fill_table(hx, 10000);
  ike_engine_t *e = hx->gw;
  assert_true(e->cap >= 20000);

  uint8_t pkt[28];
  ike_path_t p = hx_path("10.3.0.1", 500);
  uint64_t before = e->probes;
  for (unsigned i = 0; i < 100; i++) {
    header_only_init(pkt, 0x3000000000ull + i);
    hx_inject_gw(hx, &p, false, pkt, sizeof pkt);
  }
  /* 100 lookups: at most a few SAs per bucket each. */
  assert_true(e->probes - before < 100u * 8u);
  assert_int_equal(hx->n_log, 0); /* garbage is never answered */

  /* A retransmission of the half-open SA's request is still found. */
  ike_path_t hp = hx_path("10.2.0.1", 500);
  assert_non_null(ike_sa_find_init(e, 0x2000000000ull, &hp.local));
  assert_null(ike_sa_find_init(e, 0x2000000000ull, &p.local)); /* other source */

  /* INITIAL_CONTACT of a new identity touches no other SA. */
  hx->ccfg.id_type = IKE_ID_KEY_ID;
  hx->ccfg.id = "new-identity";
  hx->ccfg.initial_contact = true;
  before = e->probes;
  hx_establish(hx);
  assert_true(e->probes - before < 64u);
  assert_int_equal(count_sas(hx, "established"), 10001);
  hx_free(hx);
}

/* Item 4: KEY_ID identities of equal length print alike ("KEY_ID(8 bytes)");
 * one client's INITIAL_CONTACT must not delete the other's SA. */
static void initial_contact_compares_raw_ids(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  hx->ccfg.id_type = IKE_ID_KEY_ID;
  hx->ccfg.id = "aaaaaaaa";
  hx_establish(hx);
  hx->ccfg.id = "bbbbbbbb";
  hx->ccfg.initial_contact = true;
  hx_addr4(&hx->ccfg.path.local, "127.0.1.2", 500);
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(count_sas(hx, "established"), 2);

  /* The same raw ID with INITIAL_CONTACT does replace the old SA. */
  hx->ccfg.id = "aaaaaaaa";
  hx_addr4(&hx->ccfg.path.local, "127.0.1.3", 500);
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(count_sas(hx, "established"), 2); /* a(old) gone, b, a(new) */
  hx_free(hx);
}

/* Item 3: only an exact copy of the request gets the cached response again,
 * and not more than IKE_RESEND_BURST times at once. */
static void retransmission_needs_exact_copy(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  hx_establish(hx);
  /* INFORMATIONAL { } --> (captured on its way) */
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  assert_int_equal(hx->n_to_gw, 1);
  hx_pkt_t *req = malloc(sizeof *req);
  assert_non_null(req);
  *req = hx->to_gw[0];
  hx_run(hx);
  size_t sent = hx->n_log;
  uint64_t resent = hx_st(hx)->retrans_rsp_sent;
  /* The victim's address as source. */
  ike_path_t victim = hx_path("198.51.100.77", 4500);

  /* Same header, other bytes: a spoofed header, never answered. */
  uint8_t hdr[28];
  memcpy(hdr, req->data, 28);
  hdr[16] = 0;                                   /* no payload */
  hdr[24] = hdr[25] = hdr[26] = 0;
  hdr[27] = 28;                                  /* length: the header alone */
  hx_inject_gw(hx, &victim, req->natt, hdr, sizeof hdr);
  req->data[req->len - 1] ^= 1;
  hx_inject_gw(hx, &victim, req->natt, req->data, req->len);
  req->data[req->len - 1] ^= 1;
  assert_int_equal(hx->n_log, sent);
  assert_int_equal(hx_st(hx)->retrans_req_mismatch, 2);

  /* The exact copy, ten times at once: IKE_RESEND_BURST answers. */
  for (int i = 0; i < 10; i++) {
    hx_inject_gw(hx, &victim, req->natt, req->data, req->len);
  }
  assert_int_equal(hx->n_log, sent + IKE_RESEND_BURST);
  assert_int_equal(hx_st(hx)->retrans_rsp_sent, resent + IKE_RESEND_BURST);
  assert_int_equal(hx_st(hx)->retrans_rsp_ratelimited, 10 - IKE_RESEND_BURST);
  /* A second later one more is allowed. */
  hx_advance(hx, IKE_RESEND_REFILL_MS);
  hx_flush(hx);
  size_t now_sent = hx->n_log;
  hx_inject_gw(hx, &victim, req->natt, req->data, req->len);
  hx_inject_gw(hx, &victim, req->natt, req->data, req->len);
  assert_int_equal(hx->n_log, now_sent + 1);
  free(req);
  hx_free(hx);
}

/* Item 3 for IKE_SA_INIT: a request with the SPIi of a half-open SA from its
 * address but other bytes is not a retransmission. */
static void init_retransmission_needs_exact_copy(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  hx_client(hx);
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  assert_int_equal(hx->n_to_gw, 1);
  hx_pkt_t *req = malloc(sizeof *req);
  assert_non_null(req);
  *req = hx->to_gw[0];
  assert_true(hx_step_gw(hx));
  assert_int_equal(hx->n_log, 1);
  ike_path_t p = {.local = req->path.peer, .peer = req->path.local};
  hx_inject_gw(hx, &p, req->natt, req->data, req->len); /* exact copy */
  assert_int_equal(hx->n_log, 2);
  assert_memory_equal(hx->log[0].data, hx->log[1].data, hx->log[0].len);
  req->data[req->len - 1] ^= 1;                           /* other bytes */
  hx_inject_gw(hx, &p, req->natt, req->data, req->len);
  assert_int_equal(hx->n_log, 2);
  assert_int_equal(hx_st(hx)->retrans_req_mismatch, 1);
  assert_int_equal(count_sas(hx, "half-open"), 1);
  free(req);
  hx_free(hx);
}

/* Item 8: one source address holds at most half-open-per-peer half-open SAs. */
static void half_open_per_peer_cap(void **state)
{
  (void)state;
  hx_t *hx = hx_new("      ikev2-ikesa half-open-per-peer 2\n");
  static const char *const src[] = {"127.0.1.1", "127.0.1.1", "127.0.1.1", "127.0.1.9"};
  for (int i = 0; i < 4; i++) {
    hx_addr4(&hx->ccfg.path.local, src[i], (uint16_t)(500 + i));
    hx_client(hx);
    assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
    assert_true(hx_step_gw(hx));
    hx_flush(hx);
  }
  assert_int_equal(count_sas(hx, "half-open"), 3); /* the third from .1 dropped */
  assert_int_equal(hx_st(hx)->fail_half_open_peer, 1);
  /* Half-open SAs expire (30 s): the source may start again. */
  hx_advance(hx, 31000);
  assert_int_equal(count_sas(hx, "half-open"), 0);
  hx_addr4(&hx->ccfg.path.local, "127.0.1.1", 600);
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(hx_st(hx)->fail_half_open_peer, 1);
  hx_free(hx);
}

/* Item 8: identity-limit 1 replaces the older SA of an identity (with a
 * Delete); with "refuse" the new one gets AUTHENTICATION_FAILED. */
static void identity_limit_replace(void **state)
{
  (void)state;
  hx_t *hx = hx_new("      ikev2-ikesa identity-limit 1\n");
  hx_establish(hx);
  hx_addr4(&hx->ccfg.path.local, "127.0.1.2", 500);
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(count_sas(hx, "established"), 1);
  assert_int_equal(count_sas(hx, "deleting"), 1);
  /* The Delete (INFORMATIONAL) went to the first client's address. */
  struct sockaddr_storage first;
  hx_addr4(&first, "127.0.1.1", 4500);
  bool seen = false;
  for (int i = -3; i <= -1; i++) {
    const hx_pkt_t *pk = hx_gw_sent(hx, i);
    seen |= pk->data[18] == IKE_EXCH_INFORMATIONAL &&
            memcmp(&((const struct sockaddr_in *)&pk->path.local)->sin_addr,
                   &((const struct sockaddr_in *)&first)->sin_addr, 4) == 0;
  }
  assert_true(seen);
  hx_free(hx);
}

static void identity_limit_refuse(void **state)
{
  (void)state;
  hx_t *hx = hx_new("      ikev2-ikesa identity-limit 1 refuse\n");
  hx_establish(hx);
  hx_addr4(&hx->ccfg.path.local, "127.0.1.2", 500);
  hx_client(hx);
  assert_int_equal(ike_client_start(hx->cl, hx->now), 0);
  hx_run(hx);
  assert_int_equal(hx_ci(hx)->state, IKE_CLIENT_FAILED);
  assert_int_equal(hx_st(hx)->fail_identity_limit, 1);
  assert_int_equal(count_sas(hx, "established"), 1);
  /* Another identity is not limited by it. */
  hx->ccfg.id = "other.example.net";
  hx_addr4(&hx->ccfg.path.local, "127.0.1.3", 500);
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(count_sas(hx, "established"), 2);
  hx_free(hx);
}

typedef struct recs {
  uint8_t buf[8][16384];
  size_t len[8];
  unsigned n;
} recs_t;

static int grab(void *arg, uint64_t spi, const uint8_t *rec, size_t len)
{
  recs_t *r = arg;
  (void)spi;
  if (rec != NULL && r->n < 8 && len <= sizeof r->buf[0]) {
    memcpy(r->buf[r->n], rec, len);
    r->len[r->n++] = len;
  }
  return 0;
}

/* The identity digest and the request digest survive a checkpoint: after a
 * restore, the exact retransmission is answered, a spoofed one is not, and
 * INITIAL_CONTACT still finds the restored SA. */
static void digests_survive_checkpoint(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  recs_t *r = calloc(1, sizeof *r);
  assert_non_null(r);
  ike_engine_set_checkpointing(hx->gw, true);
  hx_establish(hx);
  assert_int_equal(ike_client_dpd(hx->cl), 0);
  hx_pkt_t *req = malloc(sizeof *req);
  assert_non_null(req);
  *req = hx->to_gw[0];
  hx_run(hx);
  assert_int_equal(ike_engine_foreach_dirty(hx->gw, 0, grab, r), 0);
  assert_int_equal(r->n, 1);

  /* A new engine (the restarted sessmgr) restores the record. */
  static const ike_engine_ops_t ops = {gw_send, gw_child_add, gw_child_update,
                                       gw_child_del};
  ike_engine_free(hx->gw);
  assert_int_equal(ike_engine_new(HX_SLOT, &hx->cfg, &ops, hx, &hx->gw), 0);
  assert_int_equal(ike_engine_restore_sa(hx->gw, r->buf[0], r->len[0], 0), 0);
  size_t sent = hx->n_log;
  ike_path_t p = {.local = req->path.peer, .peer = req->path.local};
  hx_inject_gw(hx, &p, req->natt, req->data, req->len);
  assert_int_equal(hx->n_log, sent + 1);
  req->data[req->len - 1] ^= 1;
  hx_inject_gw(hx, &p, req->natt, req->data, req->len);
  assert_int_equal(hx->n_log, sent + 1);

  hx->ccfg.initial_contact = true;
  hx_addr4(&hx->ccfg.path.local, "127.0.1.2", 500);
  hx_client(hx);
  hx_establish(hx);
  assert_int_equal(count_sas(hx, "established"), 1); /* the restored one replaced */
  free(req);
  free(r);
  hx_free(hx);
}

static void count_visit(void *arg, const ike_sa_info_t *in)
{
  uint8_t *seen = arg;
  uint64_t k = in->spi_i - 0x1000000000ull;
  assert_true(k < 10000);
  seen[k]++;
}

/* gwctl pages through a worker's SAs: every SA exactly once, pages of 1000
 * (before, one page of 1000 was all gwctl ever showed per sessmgr). */
static void sa_pages_visit_each_once(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  uint8_t *seen = calloc(10000, 1);
  assert_non_null(seen);
  fill_table(hx, 10000);
  size_t pos = 0, pages = 0;
  do {
    pos = ike_engine_foreach_sa_page(hx->gw, pos, 1000, count_visit, seen);
    pages++;
  } while (pos != 0 && pages < 100);
  for (unsigned k = 0; k < 10000; k++) {
    assert_int_equal(seen[k], 1);
  }
  assert_true(pages >= 10 && pages <= 11);
  free(seen);
  hx_free(hx);
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Inbound CHILD SPIs of a slot are unique while in use: 200,000 of them from
 * the slot's 24-bit space (by chance ~1,190 would repeat; ipsecmgr routes
 * ESP by them, so a repeat breaks a tunnel), then one given back is free. */
static void child_spis_unique(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  uint32_t *v = calloc(200000, sizeof *v);
  assert_non_null(v);
  for (size_t i = 0; i < 200000; i++) {
    v[i] = ike_sa_new_child_spi(hx->gw);
    assert_int_equal(v[i] >> 24, HX_SLOT);
  }
  uint32_t first = v[0];
  qsort(v, 200000, sizeof *v, cmp_u32);
  for (size_t i = 1; i < 200000; i++) {
    assert_int_not_equal(v[i], v[i - 1]);
  }
  assert_true(ike_u32set_has(&hx->gw->child_spis, first));
  ike_sa_child_spi_gone(hx->gw, first);
  assert_false(ike_u32set_has(&hx->gw->child_spis, first));
  assert_int_equal(hx->gw->child_spis.n, 199999);
  free(v);
  hx_free(hx);
}

/* A rekeyed IKE SA whose peer never sends the Delete must not wedge the
 * timers: its DPD time passes while it waits (RFC 7296 2.8: the old SA is
 * only kept for the peer's Delete), and before the fix its deadline stayed
 * in the past, so ike_engine_tick() re-popped it forever (seen at 100,000
 * clients: both sessmgrs stopped answering). The alarm turns a hang into a
 * failure. */
static void rekeyed_sa_does_not_wedge_timers(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  hx_establish(hx);
  /* CREATE_CHILD_SA { SA(IKE), Ni, KEi } --> <-- answer; the client's Delete
   * of the old SA is lost. */
  assert_int_equal(ike_client_rekey_ike(hx->cl), 0);
  assert_true(hx_step_gw(hx));
  assert_true(hx_step_cl(hx));
  hx_flush(hx);
  assert_int_equal(ike_engine_sa_count(hx->gw), 2);
  alarm(20);
  hx_advance(hx, 31000); /* past the DPD interval (30 s) */
  hx_advance(hx, 31000);
  alarm(0);
  /* The old SA waited for the Delete and expired (60 s); the new one lives. */
  assert_int_equal(count_sas(hx, "established"), 1);
  assert_int_equal(count_sas(hx, "rekeyed"), 0);
  hx_free(hx);
}

/* ipsecmgr refused a CHILD SA the peer was told about (SaAdd failed): the
 * gateway deletes it towards the peer and counts it (issue 13 item 7: "every
 * CHILD SA a client is told about exists"). */
static void refused_child_deleted_towards_peer(void **state)
{
  (void)state;
  hx_t *hx = hx_new(NULL);
  hx_establish(hx);
  assert_int_equal(hx->n_add, 1);
  uint32_t spi_in = hx->add[0].spi_in;
  size_t sent = hx->n_log;
  ike_engine_child_refused(hx->gw, hx->add[0].ike_spi, spi_in, hx->now);
  /* <-- INFORMATIONAL { D(ESP, spi_in) } */
  assert_int_equal(hx->n_log, sent + 1);
  hx_msg_t m;
  hx_decode(hx, hx_gw_sent(hx, -1), &m);
  assert_int_equal(m.h.exchange, IKE_EXCH_INFORMATIONAL);
  assert_non_null(ike_chain_find(&m.chain, IKE_PLD_DELETE));
  assert_int_equal(hx->n_del, 1);
  assert_int_equal(hx->del[0].spi_in, spi_in);
  assert_int_equal(hx_st(hx)->child_sa_refused, 1);
  assert_int_equal(hx_st(hx)->child_sa_current, 0);
  /* Its other half refused too: nothing more happens. */
  ike_engine_child_refused(hx->gw, hx->add[0].ike_spi, spi_in, hx->now);
  assert_int_equal(hx->n_log, sent + 1);
  assert_int_equal(hx_st(hx)->child_sa_refused, 1);
  hx_run(hx); /* the client answers the Delete */
  assert_int_equal(count_sas(hx, "established"), 1); /* the IKE SA stays */
  hx_free(hx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lookups_do_not_scan),
      cmocka_unit_test(initial_contact_compares_raw_ids),
      cmocka_unit_test(retransmission_needs_exact_copy),
      cmocka_unit_test(init_retransmission_needs_exact_copy),
      cmocka_unit_test(half_open_per_peer_cap),
      cmocka_unit_test(identity_limit_replace),
      cmocka_unit_test(identity_limit_refuse),
      cmocka_unit_test(digests_survive_checkpoint),
      cmocka_unit_test(sa_pages_visit_each_once),
      cmocka_unit_test(child_spis_unique),
      cmocka_unit_test(rekeyed_sa_does_not_wedge_timers),
      cmocka_unit_test(refused_child_deleted_towards_peer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
