/*
 * fuzz_chain.c - libFuzzer target for the datagram payload chain and every
 * body parser (RFC 7296 3, RFC 7383 2.5).
 *
 * 1. ike_msg_parse on the input, then the body parser of every payload.
 * 2. If everything parsed: rebuild the message from the decoded structs with
 *    the ike_put_* builders, re-parse it (must succeed with the same payload
 *    types), rebuild again and require the two rebuilds to be byte-identical
 *    (build . parse is idempotent on its own output).
 * 3. The same bytes minus the first one as a decrypted inner chain whose first
 *    type is the first byte (what sessmgr does after ike_sk_open).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_pld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ok_err(int rc)
{
  return rc == -IKE_E_TRUNC || rc == -IKE_E_BAD_LENGTH ||
         rc == -IKE_E_BAD_VERSION || rc == -IKE_E_UNSUPPORTED_CRITICAL ||
         rc == -IKE_E_TOO_MANY || rc == -IKE_E_BAD_SYNTAX;
}

/* Opaque payloads: header + body bytes as they are. */
static void put_raw(ike_mb_t *mb, const ike_pld_t *p)
{
  size_t off = ike_mb_begin(mb, p->type, p->critical);
  ike_wr_bytes(&mb->w, p->body, p->body_len);
  ike_mb_end(mb, off);
}

/* Re-encode one payload from its decoded form. 0, or the parser's error. */
static int rebuild_one(ike_mb_t *mb, const ike_pld_t *p)
{
  static union {
    ike_sa_pld_t sa;
    ike_ke_pld_t ke;
    ike_id_pld_t id;
    ike_cert_pld_t cert;
    ike_auth_pld_t auth;
    ike_nonce_pld_t nonce;
    ike_notify_pld_t n;
    ike_delete_pld_t d;
    ike_ts_pld_t ts;
    ike_cp_pld_t cp;
    ike_eap_pld_t eap;
    ike_skf_pld_t skf;
  } u;
  int rc = 0;
  size_t off;

  switch (p->type) {
  case IKE_PLD_SA:
    if ((rc = ike_pld_sa(p, &u.sa)) == 0) {
      ike_put_sa(mb, &u.sa);
    }
    break;
  case IKE_PLD_KE:
    if ((rc = ike_pld_ke(p, &u.ke)) == 0) {
      ike_put_ke(mb, u.ke.group, u.ke.data, u.ke.len);
    }
    break;
  case IKE_PLD_IDI:
  case IKE_PLD_IDR:
    if ((rc = ike_pld_id(p, &u.id)) == 0) {
      ike_put_id(mb, p->type, u.id.type, u.id.data, u.id.len);
    }
    break;
  case IKE_PLD_CERT:
  case IKE_PLD_CERTREQ:
    if ((rc = ike_pld_cert(p, &u.cert)) == 0) {
      ike_put_cert(mb, p->type, u.cert.encoding, u.cert.data, u.cert.len);
    }
    break;
  case IKE_PLD_AUTH:
    if ((rc = ike_pld_auth(p, &u.auth)) == 0) {
      ike_put_auth(mb, u.auth.method, u.auth.data, u.auth.len);
    }
    break;
  case IKE_PLD_NONCE:
    if ((rc = ike_pld_nonce(p, &u.nonce)) == 0) {
      ike_put_nonce(mb, u.nonce.data, u.nonce.len);
    }
    break;
  case IKE_PLD_NOTIFY:
    if ((rc = ike_pld_notify(p, &u.n)) == 0) {
      ike_put_notify(mb, u.n.protocol, u.n.spi, u.n.spi_len, u.n.type, u.n.data,
                     u.n.len);
    }
    break;
  case IKE_PLD_DELETE:
    if ((rc = ike_pld_delete(p, &u.d)) == 0) {
      uint16_t n = u.d.n_spis;
      if (u.d.spi_len == 4 && n > IKE_MAX_DEL_SPIS) {
        n = IKE_MAX_DEL_SPIS; /* only that many were decoded */
      }
      ike_put_delete(mb, u.d.protocol, u.d.spi_len, u.d.spi, n);
    }
    break;
  case IKE_PLD_TSI:
  case IKE_PLD_TSR:
    if ((rc = ike_pld_ts(p, &u.ts)) == 0) {
      ike_put_ts(mb, p->type, &u.ts);
    }
    break;
  case IKE_PLD_CP:
    if ((rc = ike_pld_cp(p, &u.cp)) == 0) {
      ike_put_cp(mb, &u.cp);
    }
    break;
  case IKE_PLD_EAP:
    if ((rc = ike_pld_eap(p, &u.eap)) == 0) {
      ike_put_eap(mb, &u.eap);
    }
    break;
  case IKE_PLD_SK:
    off = ike_put_sk_hdr(mb, p->next);
    ike_wr_bytes(&mb->w, p->body, p->body_len);
    ike_mb_end(mb, off);
    break;
  case IKE_PLD_SKF:
    if ((rc = ike_pld_skf(p, &u.skf)) == 0) {
      off = ike_put_skf_hdr(mb, p->next, u.skf.frag_num, u.skf.total);
      ike_wr_bytes(&mb->w, u.skf.data, u.skf.len);
      ike_mb_end(mb, off);
    }
    break;
  default: /* Vendor ID, unknown non-critical */
    put_raw(mb, p);
    break;
  }
  return rc;
}

/* Rebuild a whole parsed message into out; returns its length, or -1 if a
 * body parser failed (then the input was malformed: nothing to compare). */
static long rebuild(const ike_hdr_t *h, const ike_chain_t *c, uint8_t *out,
                    size_t cap)
{
  ike_mb_t mb;

  ike_mb_init(&mb, out, cap, h);
  for (unsigned i = 0; i < c->n; i++) {
    int rc = rebuild_one(&mb, &c->pld[i]);
    if (rc != 0) {
      if (!ok_err(rc)) {
        abort();
      }
      return -1;
    }
  }
  int len = ike_mb_finish(&mb, NULL);
  if (len < 0) {
    abort(); /* a parsed message always fits a rebuild twice its size */
  }
  return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t out1[2 * 65536 + 64], out2[2 * 65536 + 64];
  static ike_chain_t c, c2;
  ike_hdr_t h, h2;
  uint8_t bad = 0;

  int rc = ike_msg_parse(data, size, &h, &c, &bad);
  if (rc == 0) {
    for (unsigned i = 0; i < c.n; i++) {
      const ike_pld_t *p = &c.pld[i];
      if (p->body < data || p->body + p->body_len > data + size ||
          p->off + 4u + p->body_len > h.length) {
        abort();
      }
    }
    long l1 = rebuild(&h, &c, out1, sizeof(out1));
    if (l1 > 0) {
      if (ike_msg_parse(out1, (size_t)l1, &h2, &c2, NULL) != 0 || c2.n != c.n) {
        abort();
      }
      for (unsigned i = 0; i < c.n; i++) {
        if (c2.pld[i].type != c.pld[i].type) {
          abort();
        }
      }
      long l2 = rebuild(&h2, &c2, out2, sizeof(out2));
      if (l2 != l1 || memcmp(out1, out2, (size_t)l1) != 0) {
        abort();
      }
    }
  } else if (!ok_err(rc)) {
    abort();
  }

  if (size > 0) {
    rc = ike_chain_parse(data[0], data + 1, size - 1, IKE_HDR_LEN, &c, NULL);
    if (rc == 0) {
      (void)ike_chain_check(&c, NULL);
    } else if (!ok_err(rc)) {
      abort();
    }
  }
  return 0;
}
