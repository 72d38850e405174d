/*
 * fuzz_engine_info.c - libFuzzer harness driving an ESTABLISHED IKE SA of the
 * engine with mutated *encrypted* INFORMATIONAL exchanges: the fuzz bytes are
 * the plaintext inner payload chain, sealed with the SA's keys under the
 * Message ID the gateway expects, so every input gets past decryption into the
 * INFORMATIONAL / MOBIKE / COOKIE2 / Delete handling (RFC 7296 1.4, 1.5;
 * RFC 4555 3.5-3.8).
 *
 * The bench is the unit tests' engine_harness.c, compiled in unchanged
 * against tests/fuzz/shim/cmocka.h (assertions that abort). Once per process,
 * and again whenever the gateway no longer holds the IKE SA (deleted by the
 * input, or dead after unanswered checks) or every RESET_EVERY inputs, a
 * client establishes an SA with MOBIKE against a template with
 * "ikev2-ikesa mobike cookie-challenge".
 *
 * Input:  byte 0 = mode, byte 1 = type of the first inner payload (41 = N,
 *         42 = D, 47 = CP, 0 = none), bytes 2.. = the inner chain.
 *   mode bits 0-1, what is sent:
 *     0  a request { fuzz chain } with the next Message ID;
 *     1  a request { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_SOURCE_IP),
 *        N(NAT_DETECTION_DESTINATION_IP) (both right for the path used),
 *        fuzz chain } - an address update with extra payloads;
 *     2  a response { fuzz chain } to the gateway's outstanding request (its
 *        COOKIE2 return routability check, or its DPD); if none is
 *        outstanding one is provoked first: a valid address update from
 *        127.0.2.2 (bit 5 clear: a COOKIE2 check follows) or 31 s without
 *        traffic (bit 5 set: DPD);
 *     3  as 2, with N(COOKIE2) echoing the gateway's value in front of the
 *        fuzz chain (if it sent one).
 *   bits 2-4, the source of the datagram: 0-3 where the gateway last sent
 *     to, 4 = 127.0.2.2:4500, 5 = 127.0.3.3:4500, 6 = the first address with
 *     another port (a NAT rebinding), 7 = [2001:db8:1::5]:4500 to the
 *     gateway's IPv6 address.
 *   bit 6: no non-ESP marker (natt false);  bit 7: advance the clock by 3 s
 *     afterwards (retransmissions, RRC timeouts) and run the timers.
 *
 * Set IKEGW_FUZZ_FRESH=1 to re-establish before every input (slow, but a
 * crashing input then reproduces on its own regardless of earlier inputs);
 * IKEGW_FUZZ_DUMP=1 prints the gateway's non-zero counters after each input
 * (to check what a seed reaches).
 */
#include "../unit/engine_harness.c"

#include "ike_log.h"
#include "ike_sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RESET_EVERY 400u
#define TMPL_LINES "      ikev2-ikesa mobike cookie-challenge\n"

static hx_t hx;
static bool up;
static unsigned uses;
static bool fresh_each;
static bool dump_each;
static uint32_t mid;              /* Message ID of our next request */
static bool gw_req;               /* the gateway has a request outstanding */
static uint32_t gw_req_id;
static uint8_t gw_cookie2[64];
static size_t gw_cookie2_len;
static ike_path_t cur;            /* where the gateway last sent to (client's view) */

static void setup(void)
{
  if (up) {
    hx_fini(&hx);
  }
  hx_init(&hx, TMPL_LINES);
  hx_establish(&hx);
  mid = hx_ci(&hx)->next_msg_id;
  cur = hx_ci(&hx)->path;
  gw_req = false;
  gw_cookie2_len = 0;
  up = true;
  uses = 0;
}

static uint32_t rd32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Learn from what the gateway sent (log entries from `from` on): the answer
 * to our request mid, a request of its own (and its COOKIE2), its path. */
static void scan_gw(size_t from)
{
  for (size_t i = from; i < hx.n_log; i++) {
    const hx_pkt_t *p = &hx.log[i];
    if (p->len < IKE_HDR_LEN) {
      continue;
    }
    cur = p->path;
    uint8_t flags = p->data[19];
    uint32_t id = rd32(p->data + 20);
    if (flags & IKE_FLAG_RESPONSE) {
      if (id == mid) {
        mid++;
      }
      continue;
    }
    gw_req = true;
    gw_req_id = id;
    gw_cookie2_len = 0;
    static hx_msg_t m;
    memset(&m.h, 0, sizeof m.h);
    if (ike_client_decode(hx.cl, p->data, p->len, &m.h, &m.chain, m.plain,
                          sizeof m.plain) != 0) {
      continue;
    }
    for (unsigned k = 0; k < m.chain.n; k++) {
      ike_notify_pld_t n;
      if (m.chain.pld[k].type == IKE_PLD_NOTIFY &&
          ike_pld_notify(&m.chain.pld[k], &n) == 0 && n.type == IKE_N_COOKIE2 &&
          n.len <= sizeof gw_cookie2) {
        if (n.len > 0) {
          memcpy(gw_cookie2, n.data, n.len);
        }
        gw_cookie2_len = n.len;
      }
    }
  }
}

static ike_path_t pick_path(unsigned sel)
{
  ike_path_t p;
  switch (sel) {
  case 4:
    return hx_path("127.0.2.2", 4500);
  case 5:
    return hx_path("127.0.3.3", 4500);
  case 6:
    return hx_path("127.0.1.1", 4600);
  case 7:
    return hx_path("2001:db8:1::5", 4500);
  default:
    p = cur;
    return p;
  }
}

/* Append one notify payload (next payload patched by the caller). */
static size_t put_notify(uint8_t *b, uint8_t next, uint16_t type, const uint8_t *d,
                         size_t dlen)
{
  size_t len = 8 + dlen;
  b[0] = next;
  b[1] = 0;
  b[2] = (uint8_t)(len >> 8);
  b[3] = (uint8_t)len;
  b[4] = 0; /* protocol: none (IKE SA) */
  b[5] = 0; /* SPI size */
  b[6] = (uint8_t)(type >> 8);
  b[7] = (uint8_t)type;
  if (dlen > 0) {
    memcpy(b + 8, d, dlen); /* d may be NULL for an empty notify (UBSan) */
  }
  return len;
}

/* Seal inner (first payload type `first`) and deliver it from path. */
static void send_sealed(uint32_t id, uint8_t flags, uint8_t first, const uint8_t *inner,
                        size_t len, const ike_path_t *path, bool natt)
{
  static uint8_t pkt[70000];
  size_t out = 0;
  size_t before = hx.n_log;
  if (ike_client_craft(hx.cl, IKE_EXCH_INFORMATIONAL, id, flags, first, inner, len, pkt,
                       sizeof pkt, &out) != 0) {
    return;
  }
  hx_flush(&hx);
  hx_inject_gw(&hx, path, natt, pkt, out);
  scan_gw(before);
}

/* A valid MOBIKE update from path (UPDATE_SA_ADDRESSES and the right NAT
 * detection hashes for it) followed by the chain `first`/rest. */
static size_t build_update(uint8_t *b, size_t cap, const ike_path_t *path, uint8_t first,
                           const uint8_t *rest, size_t rest_len)
{
  const ike_client_info_t *ci = hx_ci(&hx);
  uint8_t h_src[20], h_dst[20];
  if (rest_len + 3 * 28 > cap) {
    return 0;
  }
  ike_natd_hash(ci->spi_i, ci->spi_r, &path->local, h_src);
  ike_natd_hash(ci->spi_i, ci->spi_r, &path->peer, h_dst);
  size_t n = put_notify(b, IKE_PLD_NOTIFY, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  n += put_notify(b + n, IKE_PLD_NOTIFY, IKE_N_NAT_DETECTION_SOURCE_IP, h_src, 20);
  n += put_notify(b + n, first, IKE_N_NAT_DETECTION_DESTINATION_IP, h_dst, 20);
  if (rest_len > 0) {
    memcpy(b + n, rest, rest_len); /* rest may be NULL when empty (UBSan) */
  }
  return n + rest_len;
}

static void provoke_gw_request(bool dpd)
{
  static uint8_t b[256];
  if (dpd) {
    size_t before = hx.n_log;
    hx_advance(&hx, 31000);
    hx_flush(&hx);
    scan_gw(before);
    return;
  }
  ike_path_t p = hx_path("127.0.2.2", 4500);
  if (hx_path_eq(&p, &cur)) {
    p = hx_path("127.0.3.3", 4500);
  }
  size_t n = build_update(b, sizeof b, &p, IKE_PLD_NONE, NULL, 0);
  send_sealed(mid, IKE_FLAG_INITIATOR, IKE_PLD_NOTIFY, b, n, &p, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t inner[70000];
  static bool env_read;
  if (!env_read) {
    const char *f = getenv("IKEGW_FUZZ_FRESH");
    fresh_each = f != NULL && f[0] == '1';
    f = getenv("IKEGW_FUZZ_DUMP");
    dump_each = f != NULL && f[0] == '1';
    env_read = true;
    /* The engine logs every exchange at INFO: only errors, for speed. */
    ike_log_set_level(IKE_LOG_LVL_ERR);
  }
  if (size < 2 || size > 60000) {
    return 0;
  }
  if (!up || fresh_each || uses >= RESET_EVERY || ike_engine_sa_count(hx.gw) == 0) {
    setup();
  }
  uses++;
  hx.n_log = 0;
  hx.n_add = hx.n_upd = hx.n_del = 0;
  hx_flush(&hx);

  unsigned kind = data[0] & 3u;
  ike_path_t path = pick_path((data[0] >> 2) & 7u);
  bool natt = !(data[0] & 0x40u);
  uint8_t first = data[1];
  const uint8_t *rest = data + 2;
  size_t rest_len = size - 2;

  switch (kind) {
  case 0:
    send_sealed(mid, IKE_FLAG_INITIATOR, first, rest, rest_len, &path, natt);
    break;
  case 1: {
    size_t n = build_update(inner, sizeof inner, &path, first, rest, rest_len);
    if (n > 0) {
      send_sealed(mid, IKE_FLAG_INITIATOR, IKE_PLD_NOTIFY, inner, n, &path, natt);
    }
    break;
  }
  default:
    if (!gw_req) {
      provoke_gw_request((data[0] & 0x20u) != 0);
    }
    if (!gw_req || ike_engine_sa_count(hx.gw) == 0) {
      break;
    }
    if (kind == 3 && gw_cookie2_len > 0 && rest_len + 8 + gw_cookie2_len <= sizeof inner) {
      size_t n = put_notify(inner, first, IKE_N_COOKIE2, gw_cookie2, gw_cookie2_len);
      if (rest_len > 0) {
        memcpy(inner + n, rest, rest_len);
      }
      send_sealed(gw_req_id, IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE, IKE_PLD_NOTIFY, inner,
                  n + rest_len, &path, natt);
    } else {
      send_sealed(gw_req_id, IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE, first, rest, rest_len,
                  &path, natt);
    }
    gw_req = false;
    break;
  }
  if (data[0] & 0x80u) {
    size_t before = hx.n_log;
    hx_advance(&hx, 3000);
    hx_flush(&hx);
    scan_gw(before);
  }
  if (dump_each) {
    hx_dump(&hx);
  }
  return 0;
}
