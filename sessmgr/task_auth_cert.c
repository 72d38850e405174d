/*
 * task_auth_cert.c - certificate authentication of the IKE_AUTH responder
 * (RFC 7296 2.15, 3.6, 3.8; RFC 7427; RFC 4754). Called from task_auth.c
 * when the template says "authentication remote certificate" (verify) or
 * "authentication local certificate" (put).
 *
 * The peer signs RealMessage1 | Nr | prf(SK_pi, IDi'); we sign
 * RealMessage2 | Ni | prf(SK_pr, IDr'), exactly the octets of a PSK AUTH.
 * The first CERT payload (X.509 signature encoding) is the peer's
 * end-entity certificate; further ones are intermediates (3.6).
 */
#include <string.h>

#include "ike_log.h"
#include "ike_sa.h"

#define MAX_PEER_CERTS 5u   /* end-entity + intermediates we look at */

/* Parse the X.509 CERT payloads of the chain into certs[0..*n); other
 * encodings (hash and URL) are ignored. */
static void peer_certs(const ike_chain_t *c, ike_cert_peer_t **certs, size_t *n)
{
  *n = 0;
  for (unsigned i = 0; i < c->n && *n < MAX_PEER_CERTS; i++) {
    ike_cert_pld_t cp;
    if (c->pld[i].type != IKE_PLD_CERT || ike_pld_cert(&c->pld[i], &cp) != 0 ||
        cp.encoding != IKE_CERT_X509_SIGNATURE) {
      continue;
    }
    ike_cert_peer_t *p = NULL;
    if (ike_cert_peer_parse(cp.data, cp.len, &p) == 0) {
      certs[(*n)++] = p;
    } else if (*n == 0) {
      return; /* an end-entity certificate that does not parse */
    }
  }
}

int ike_auth_cert_verify(ike_engine_t *e, ike_sa_t *sa, const ike_chain_t *c,
                         const ike_id_pld_t *idi, const ike_auth_pld_t *auth,
                         uint64_t **counter)
{
  const ike_cert_store_t *store = e->certs[sa->tmpl];
  ike_cert_peer_t *certs[MAX_PEER_CERTS] = {NULL};
  size_t n = 0;
  char why[128] = "";
  int rc = -1;
  *counter = &e->stats.fail_cert;
  peer_certs(c, certs, &n);
  if (store == NULL || n == 0) {
    IKE_LOG_INFO("SPI %016llx: IKE_AUTH refused (AUTHENTICATION_FAILED): cert chain: %s",
                 (unsigned long long)sa->spi_r,
                 store == NULL ? "no CA loaded for the template"
                               : "no usable certificate from the peer");
    goto done;
  }
  if (ike_cert_verify_chain(store, certs[0], (const ike_cert_peer_t *const *)certs + 1,
                            n - 1, 0, why, sizeof why) != 0) {
    IKE_LOG_INFO("SPI %016llx: IKE_AUTH refused (AUTHENTICATION_FAILED): cert chain: "
                 "peer certificate not trusted: %s",
                 (unsigned long long)sa->spi_r, why);
    goto done;
  }
  if (ike_cert_id_match(certs[0], idi->type, idi->data, idi->len) != 0) {
    IKE_LOG_INFO("SPI %016llx: IKE_AUTH refused (AUTHENTICATION_FAILED): ID mismatch: "
                 "IDi (%s) is not in the peer certificate",
                 (unsigned long long)sa->spi_r, ike_id_type_name(idi->type));
    *counter = &e->stats.fail_id;
    goto done;
  }
  uint8_t maced[IKE_MAX_PRF_LEN];
  if (ike_auth_maced_id(sa->suite.prf, sa->keys.sk_pi, sa->keys.p_len, idi->body,
                        idi->body_len, maced) != 0) {
    IKE_LOG_INFO("SPI %016llx: IKE_AUTH refused (AUTHENTICATION_FAILED): internal error "
                 "computing MACedIDi", (unsigned long long)sa->spi_r);
    *counter = &e->stats.fail_internal;
    goto done;
  }
  const uint8_t *pieces[3] = {sa->ho->init_req, sa->nr, maced};
  size_t lens[3] = {sa->ho->init_req_len, sa->nr_len, ike_prf_len(sa->suite.prf)};
  int vr = ike_cert_verify(certs[0], auth->method, auth->data, auth->len, pieces, lens, 3);
  if (vr != 0) {
    IKE_LOG_INFO("SPI %016llx: IKE_AUTH refused (AUTHENTICATION_FAILED): signature: "
                 "peer AUTH (method %s) does not verify: %s",
                 (unsigned long long)sa->spi_r, ike_auth_method_name(auth->method),
                 ike_strerror(vr));
    *counter = &e->stats.fail_auth;
    goto done;
  }
  if (idi->type == IKE_ID_DER_ASN1_DN) {
    ike_cert_peer_subject(certs[0], sa->peer_id, sizeof sa->peer_id);
  }
  rc = 0;
done:
  for (size_t i = 0; i < n; i++) {
    ike_cert_peer_free(certs[i]);
  }
  return rc;
}

bool ike_auth_cert_put(ike_engine_t *e, ike_sa_t *sa, const ike_cfg_template_t *t,
                       ike_tx_t *tx)
{
  const ike_cert_store_t *store = e->certs[sa->tmpl];
  uint8_t body[4 + IKE_MAX_ID], type = 0;
  size_t n = 0;
  if (ike_cert_own_id(store, &t->local_id, &type, body + 4, sizeof body - 4, &n) != 0) {
    IKE_LOG_WARN("SPI %016llx: no certificate identity for template %s",
                    (unsigned long long)sa->spi_r, t->name);
    return false;
  }
  memset(body, 0, 4);
  body[0] = type;
  ike_put_id(&tx->mb, IKE_PLD_IDR, type, body + 4, n);
  for (unsigned i = 0; i < ike_cert_own_count(store); i++) {
    const uint8_t *der;
    size_t len;
    if (ike_cert_own_der(store, i, &der, &len) == 0) {
      ike_put_cert(&tx->mb, IKE_PLD_CERT, IKE_CERT_X509_SIGNATURE, der, len);
    }
  }
  uint8_t maced[IKE_MAX_PRF_LEN], auth[IKE_CERT_MAX_SIG], method = 0;
  size_t alen = 0;
  if (ike_auth_maced_id(sa->suite.prf, sa->keys.sk_pr, sa->keys.p_len, body, n + 4,
                        maced) != 0) {
    return false;
  }
  const uint8_t *pieces[3] = {sa->ho->init_rsp, sa->ni, maced};
  size_t lens[3] = {sa->ho->init_rsp_len, sa->ni_len, ike_prf_len(sa->suite.prf)};
  int rc = ike_cert_sign(store, sa->peer_sig_hashes, 0, pieces, lens, 3, &method, auth,
                         sizeof auth, &alen);
  if (rc != 0) {
    IKE_LOG_WARN("SPI %016llx: signing AUTH failed: %s",
                    (unsigned long long)sa->spi_r, ike_strerror(rc));
    return false;
  }
  ike_put_auth(&tx->mb, method, auth, alen);
  return true;
}
