#!/bin/bash
# 11-untrusted-cert — a client certificate from an untrusted CA is refused.
#
# Setup:  RSA PKI; a second CA ("evil") with the very same subject DN as the real CA signs
#         a client certificate with the same identity (cl1@ikegw.test); the gateway trusts
#         only the real CA.
# Checks: initiate fails with AUTHENTICATION_FAILED from the gateway, no SA remains on
#         either side; the genuine certificate then connects.
. "$(dirname "$0")/../lib.sh"
case_init untrusted-cert
topo_setup 1
pki_setup rsa
gw_start rsa
client_start 1 evil-rsa
client_initiate 1 && fail "initiate with an untrusted certificate succeeded"
grep -q "received AUTHENTICATION_FAILED notify error" "$CASE_DIR/cl1/charon.log" \
  || fail "client did not receive AUTHENTICATION_FAILED (see cl1/charon.log)"
wait_until 3 gw_has_no_sa || fail "gateway keeps $(gw_sa_count) SA(s) after refusing the certificate"
client_has_no_sa 1 || fail "client keeps an SA after the refusal"
rm -f "$CASE_DIR/cl1/swanctl/x509/"*.pem "$CASE_DIR/cl1/swanctl/private/"*.key
swan cl1 --load-creds --clear >>"$CASE_DIR/cl1/swanctl.out" 2>&1
client_reconf 1 rsa
client_connect 1
ping_ok 1 2
