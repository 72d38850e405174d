/*
 * fuzz_established.c - libFuzzer harness for the INFORMATIONAL paths of an
 * ESTABLISHED MOBIKE IKE SA: MOBIKE (RFC 4555: UPDATE_SA_ADDRESSES, COOKIE2
 * and the return routability check, NAT_DETECTION_*, ADDITIONAL_*,
 * NO_ADDITIONAL_ADDRESSES, NO_NATS_ALLOWED), Delete (IKE / ESP) and the
 * answers to the gateway's own requests (DPD, COOKIE2 check).
 *
 * The bench is a minimal copy of tests/unit/engine_harness.c without cmocka:
 * one ike_client (sessmgr/ike_client.h) and one ike_engine joined by two
 * in-memory queues and a fake clock. Template config:
 * `ikev2-ikesa mobike cookie-challenge`, DPD 30 s. The fuzz bytes never go
 * through the outer header / SK checks: they are the PLAINTEXT inner payload
 * chain, sealed with the SA's keys at the right Message ID, so the engine's
 * payload handling is what is fuzzed.
 *
 * Input: [0] mode  [1] options  [2] type of the first inner payload  [3..] chain
 *   mode bit 0 = 0: (a) a request of the client at its next Message ID,
 *                   INFORMATIONAL (options bit 6: CREATE_CHILD_SA);
 *                   options bit 0: sent from a new address 127.0.(2+k).1:4500
 *                   (k = options bits 2..4) instead of the current path.
 *   mode bit 0 = 1: (b) a response to the gateway's outstanding request at its
 *                   Message ID, after forcing one: options bit 0 = 0: a DPD
 *                   (the clock past the DPD interval), 1: the COOKIE2 check
 *                   that follows a real UPDATE_SA_ADDRESSES from a new address.
 *   options bit 1: fix-ups so static seeds stay valid for each fresh SA: the
 *                  data of a 20-byte NAT_DETECTION_SOURCE/DESTINATION_IP notify
 *                  becomes the right hash for this SA and path; the data of a
 *                  COOKIE2 notify (mode b) becomes the gateway's value; the
 *                  first SPI of a Delete(ESP) becomes the CHILD SA's.
 * After each input the clocks advance 1 s and both sides' timers run.
 *
 * The SA is re-established (fresh engine + client: deterministic enough to
 * replay a crash) when it is gone (the gateway holds no CHILD SA any more), the
 * client is not ESTABLISHED or waits for an answer, or after
 * RECREATE_EVERY inputs; with IKEGW_FUZZ_FRESH=1 in the environment before
 * every input (use it to reproduce a finding from one file); IKEGW_FUZZ_LOG=info
 * turns the engine's log on.
 * Seeds: tests/fuzz/gen_established_seeds.c.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_client.h"
#include "ike_client_int.h"
#include "ike_engine.h"
#include "ike_log.h"
#include "ike_sa.h"
#include "ike_wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QMAX 64
#define RECREATE_EVERY 16
#define PSK "fuzz-psk-0123456789"

typedef struct {
  ike_path_t path; /* receiver's view: local = receiver */
  bool natt;
  size_t len;
  uint8_t data[8192];
} pkt_t;

static struct {
  ike_config_t cfg;
  ike_engine_t *gw;
  ike_client_t *cl;
  uint64_t now;
  unsigned uses;
  bool fresh;
  bool verbose;     /* IKEGW_FUZZ_LOG set: say what the bench does */
  pkt_t to_gw[QMAX], to_cl[QMAX];
  size_t n_gw, n_cl;
  bool hold;        /* keep the gateway's next request from the client */
  bool held_valid;
  pkt_t held;
} B;

static const char conf_text[] =
    "config\n"
    "  context ipsec\n"
    "    ip pool pool1 10.10.0.0/24\n"
    "    ikev2-ikesa transform-set ike1\n"
    "      encryption aes-gcm-256\n"
    "      prf sha2-256\n"
    "      group 19 14\n"
    "    #exit\n"
    "    ipsec transform-set esp1\n"
    "      encryption aes-gcm-256\n"
    "      group none\n"
    "    #exit\n"
    "    crypto template tmpl1 ikev2-dynamic\n"
    "      ikev2-ikesa transform-set list ike1\n"
    "      ikev2-ikesa retransmission-timeout 1000\n"
    "      ikev2-ikesa max-retransmission 3\n"
    "      dpd interval 30\n"
    "      identity local id-type fqdn id gw.example.net\n"
    "      authentication local pre-shared-key key \"" PSK "\"\n"
    "      ip address pool name pool1\n"
    "      ikev2-ikesa mobike cookie-challenge\n"
    "      payload ps1 match childsa\n"
    "        ipsec transform-set list esp1\n"
    "        lifetime 3600\n"
    "      #exit\n"
    "    #exit\n"
    "  #exit\n"
    "end\n";

static void push(pkt_t *q, size_t *n, const ike_path_t *path, bool natt, const uint8_t *pkt,
                 size_t len)
{
  if (*n >= QMAX || len > sizeof q[0].data) {
    return; /* the network loses it */
  }
  pkt_t *p = &q[(*n)++];
  /* The sender's view (local = sender) becomes the receiver's. */
  p->path.peer = path->local;
  p->path.local = path->peer;
  p->natt = natt;
  p->len = len;
  memcpy(p->data, pkt, len);
}

static void pop(pkt_t *q, size_t *n, pkt_t *out)
{
  *out = q[0];
  memmove(q, q + 1, (*n - 1) * sizeof *q);
  (*n)--;
}

static void gw_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                    size_t len)
{
  (void)ctx;
  push(B.to_cl, &B.n_cl, path, natt, pkt, len);
}

static void gw_child_add(void *ctx, const ike_child_prog_t *c)
{
  (void)ctx;
  (void)c;
}

static void gw_child_update(void *ctx, uint32_t spi_in, uint32_t spi_out,
                            const ike_path_t *path, bool encap)
{
  (void)ctx;
  (void)spi_in;
  (void)spi_out;
  (void)path;
  (void)encap;
}

static void gw_child_del(void *ctx, uint32_t spi_in, uint32_t spi_out)
{
  (void)ctx;
  (void)spi_in;
  (void)spi_out;
}

static void cl_send(void *ctx, const ike_path_t *path, bool natt, const uint8_t *pkt,
                    size_t len)
{
  (void)ctx;
  push(B.to_gw, &B.n_gw, path, natt, pkt, len);
}

/* A request of the gateway (no R flag) towards the client? */
static bool is_gw_request(const pkt_t *p)
{
  return p->len >= IKE_HDR_LEN && (p->data[19] & IKE_FLAG_RESPONSE) == 0 &&
         p->data[18] != IKE_EXCH_IKE_SA_INIT;
}

static void run(void)
{
  static pkt_t p;
  for (int i = 0; i < 200 && (B.n_gw > 0 || B.n_cl > 0); i++) {
    while (B.n_gw > 0) {
      pop(B.to_gw, &B.n_gw, &p);
      ike_engine_recv(B.gw, &p.path, p.natt, p.data, p.len, B.now);
    }
    while (B.n_cl > 0) {
      pop(B.to_cl, &B.n_cl, &p);
      if (B.hold && !B.held_valid && is_gw_request(&p)) {
        B.held = p;
        B.held_valid = true;
        continue;
      }
      ike_client_recv(B.cl, &p.path, p.natt, p.data, p.len, B.now);
    }
  }
  B.n_gw = B.n_cl = 0;
}

static void addr4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  memset(ss, 0, sizeof *ss);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  if (inet_pton(AF_INET, a, &in->sin_addr) != 1) {
    abort();
  }
}

static void teardown(void)
{
  ike_client_free(B.cl);
  B.cl = NULL;
  ike_engine_free(B.gw);
  B.gw = NULL;
}

/* Fresh gateway and client, IKE SA with MOBIKE established. */
static void setup(void)
{
  static const ike_engine_ops_t gops = {gw_send, gw_child_add, gw_child_update, gw_child_del};
  static const ike_client_ops_t cops = {cl_send};
  teardown();
  B.n_gw = B.n_cl = 0;
  B.hold = B.held_valid = false;
  B.uses = 0;
  B.now = 100000;
  if (ike_engine_new(7, &B.cfg, &gops, NULL, &B.gw) != 0) {
    abort();
  }
  ike_client_cfg_t c;
  memset(&c, 0, sizeof c);
  c.psk = PSK;
  c.id_type = IKE_ID_FQDN;
  c.id = "client.example.net";
  c.ike = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256,
                        .prf = IKE_PRF_HMAC_SHA2_256, .dh = IKE_DH_ECP_256};
  c.esp = (ike_suite_t){.encr = IKE_ENCR_AES_GCM_16, .encr_bits = 256};
  c.mobike = true;
  addr4(&c.path.local, "127.0.1.1", 500);
  addr4(&c.path.peer, "192.0.2.1", 500);
  c.retrans_ms = 1000;
  c.max_retrans = 3;
  if (ike_client_new(&c, &cops, NULL, &B.cl) != 0 || ike_client_start(B.cl, B.now) != 0) {
    abort();
  }
  run();
  const ike_client_info_t *ci = ike_client_info(B.cl);
  /* A fresh pair must always come up: anything else is a bench or engine bug. */
  if (ci->state != IKE_CLIENT_ESTABLISHED || !ci->mobike) {
    fprintf(stderr, "fuzz_established: setup failed (client %s, error %u)\n",
            ike_client_state_name(ci->state), ci->error);
    abort();
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  char err[256];
  /* Quiet by default (speed); IKEGW_FUZZ_LOG=info|debug shows what the engine did. */
  const char *lv = getenv("IKEGW_FUZZ_LOG");
  int level = lv != NULL ? ike_log_level_parse(lv) : -1;
  ike_log_set_level(level >= 0 ? level : IKE_LOG_LVL_ERR);
  B.verbose = level >= 0;
  if (ike_crypto_init() != 0) {
    abort();
  }
  ike_config_init(&B.cfg);
  if (ike_config_parse_buf("fuzz.conf", conf_text, strlen(conf_text), &B.cfg, err,
                           sizeof err) != 0) {
    fprintf(stderr, "fuzz_established: config: %s\n", err);
    abort();
  }
  const char *f = getenv("IKEGW_FUZZ_FRESH");
  B.fresh = f != NULL && f[0] == '1';
  return 0;
}

/* Fix-ups of a copy of the inner chain (options bit 1): walk the generic
 * payload headers (RFC 7296 3.2) and patch Notify data in place. Lengths are
 * checked against the buffer; a malformed chain is left as it is. */
static void fixup(uint8_t *in, size_t len, uint8_t first, const ike_path_t *cl_path,
                  const uint8_t *cookie2, size_t cookie2_len)
{
  const ike_client_info_t *ci = ike_client_info(B.cl);
  uint8_t type = first;
  size_t off = 0;
  while (type != IKE_PLD_NONE && off + 4 <= len) {
    size_t plen = (size_t)in[off + 2] << 8 | in[off + 3];
    if (plen < 4 || off + plen > len) {
      return;
    }
    if (type == IKE_PLD_NOTIFY && plen >= 8) {
      size_t spi_len = in[off + 5];
      uint16_t nt = (uint16_t)(in[off + 6] << 8 | in[off + 7]);
      size_t doff = off + 8 + spi_len;
      size_t dlen = doff <= off + plen ? off + plen - doff : 0;
      if (doff <= off + plen) {
        if (nt == IKE_N_NAT_DETECTION_SOURCE_IP && dlen == 20) {
          ike_natd_hash(ci->spi_i, ci->spi_r, &cl_path->local, in + doff);
        } else if (nt == IKE_N_NAT_DETECTION_DESTINATION_IP && dlen == 20) {
          ike_natd_hash(ci->spi_i, ci->spi_r, &cl_path->peer, in + doff);
        } else if (nt == IKE_N_COOKIE2 && cookie2 != NULL && dlen == cookie2_len) {
          memcpy(in + doff, cookie2, cookie2_len);
        }
      }
    }
    if (type == IKE_PLD_DELETE && plen >= 12 && in[off + 4] == IKE_PROTO_ESP &&
        in[off + 5] == 4) {
      /* The first SPI becomes the client's inbound SPI of its first CHILD SA. */
      uint32_t spi = ci->child[0].spi_in;
      in[off + 8] = (uint8_t)(spi >> 24);
      in[off + 9] = (uint8_t)(spi >> 16);
      in[off + 10] = (uint8_t)(spi >> 8);
      in[off + 11] = (uint8_t)spi;
    }
    type = in[off];
    off += plen;
  }
}

/* Seal inner as a message of the client's IKE SA and hand it to the gateway
 * from cl_path (client's view). */
static void inject(uint8_t exchange, uint32_t msg_id, uint8_t flags, uint8_t first,
                   const uint8_t *inner, size_t inner_len, const ike_path_t *cl_path,
                   bool natt)
{
  static uint8_t out[8192 + 512];
  size_t out_len = 0;
  if (ike_client_craft(B.cl, exchange, msg_id, flags, first, inner, inner_len, out,
                       sizeof out, &out_len) != 0) {
    return;
  }
  ike_path_t view = {.peer = cl_path->local, .local = cl_path->peer};
  ike_engine_recv(B.gw, &view, natt, out, out_len, B.now);
}

static void new_path(ike_path_t *p, unsigned k)
{
  char a[32];
  snprintf(a, sizeof a, "127.0.%u.1", 2u + (k & 7u));
  addr4(&p->local, a, 4500);
  addr4(&p->peer, "192.0.2.1", 4500);
}

/* (a) A request of the client at its next Message ID. */
static void mode_request(uint8_t opt, uint8_t first, uint8_t *inner, size_t len)
{
  const ike_client_info_t *ci = ike_client_info(B.cl);
  ike_path_t path = ci->path;
  bool natt = ci->natt;
  if (opt & 1u) {
    new_path(&path, opt >> 2);
    natt = true;
  }
  if (opt & 2u) {
    fixup(inner, len, first, &path, NULL, 0);
  }
  uint8_t exch = (opt & 0x40u) ? IKE_EXCH_CREATE_CHILD_SA : IKE_EXCH_INFORMATIONAL;
  /* Our Message ID advances as if the client had sent it itself (its answer
   * is then dropped by the client as one it did not ask for). */
  uint32_t id = B.cl->sa.next_id++;
  B.cl->info.next_msg_id = B.cl->sa.next_id;
  inject(exch, id, IKE_FLAG_INITIATOR, first, inner, len, &path, natt);
  run();
}

/* (b) A response to the gateway's outstanding request. */
static void mode_response(uint8_t opt, uint8_t first, uint8_t *inner, size_t len)
{
  B.hold = true;
  B.held_valid = false;
  if (opt & 1u) {
    ike_path_t path;
    new_path(&path, opt >> 2);
    ike_client_move_opts_t mo = {.natt = true};
    if (ike_client_move(B.cl, &path, &mo) == 0) {
      run();
    }
  } else {
    B.now += 31000; /* past the DPD interval */
    ike_engine_tick(B.gw, B.now);
    run();
  }
  B.hold = false;
  if (!B.held_valid) {
    return;
  }
  const pkt_t *h = &B.held;
  uint32_t id = (uint32_t)h->data[20] << 24 | (uint32_t)h->data[21] << 16 |
                (uint32_t)h->data[22] << 8 | h->data[23];
  if (B.verbose) {
    fprintf(stderr, "fuzz_established: answering the gateway's request %u\n", id);
  }
  if (opt & 2u) {
    static uint8_t plain[8192];
    ike_hdr_t hdr;
    ike_chain_t ch;
    const uint8_t *c2 = NULL;
    size_t c2_len = 0;
    if (ike_client_decode(B.cl, h->data, h->len, &hdr, &ch, plain, sizeof plain) == 0) {
      for (unsigned i = 0; i < ch.n; i++) {
        ike_notify_pld_t n;
        if (ch.pld[i].type == IKE_PLD_NOTIFY && ike_pld_notify(&ch.pld[i], &n) == 0 &&
            n.type == IKE_N_COOKIE2) {
          c2 = n.data;
          c2_len = n.len;
        }
      }
    }
    fixup(inner, len, first, &h->path, c2, c2_len);
  }
  /* The client now counts the gateway's request as answered. */
  B.cl->sa.peer_next_id = id + 1;
  inject(IKE_EXCH_INFORMATIONAL, id, IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE, first, inner,
         len, &h->path, h->natt);
  run();
}

static void count_child(void *arg, const ike_child_prog_t *c)
{
  (void)c;
  (*(size_t *)arg)++;
}

/* Is the SA still usable: the client in step and the gateway still holding
 * a CHILD SA (a Delete of the IKE SA or of its CHILD SA ends it)? */
static bool usable(void)
{
  size_t n = 0;
  if (B.gw == NULL || ike_client_info(B.cl)->state != IKE_CLIENT_ESTABLISHED ||
      ike_client_busy(B.cl) || !B.cl->sa.valid) {
    return false;
  }
  ike_engine_foreach_child(B.gw, count_child, &n);
  return n > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t inner[8192];
  if (size < 3 || size - 3 > 4096) {
    return 0;
  }
  if (B.fresh || B.uses >= RECREATE_EVERY || !usable()) {
    setup();
  }
  B.uses++;
  size_t len = size - 3;
  if (B.verbose) {
    fprintf(stderr, "fuzz_established: input mode %u options 0x%02x first %u, %zu bytes\n",
            data[0] & 1u, data[1], data[2], len);
  }
  memcpy(inner, data + 3, len);
  if ((data[0] & 1u) == 0) {
    mode_request(data[1], data[2], inner, len);
  } else {
    mode_response(data[1], data[2], inner, len);
  }
  B.now += 1000;
  ike_engine_tick(B.gw, B.now);
  ike_client_tick(B.cl, B.now);
  run();
  return 0;
}
