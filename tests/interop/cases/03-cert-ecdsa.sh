#!/bin/bash
# 03-cert-ecdsa — X.509 authentication with ECDSA P-256 certificates (RFC 7427 signatures).
#
# Setup:  openssl CLI makes a CA, a gateway certificate (SAN DNS:gw.ikegw.test) and a
#         client certificate (SAN email:cl1@ikegw.test) in the run directory; gateway with
#         certificate auth trusting that CA; client cl1 with its certificate.
# Checks: ESTABLISHED + INSTALLED + virtual IP, identities are the certificate SANs on
#         both ends, SPIs/algorithms agree, pings pass.
. "$(dirname "$0")/../lib.sh"
case_init cert-ecdsa
topo_setup 1
pki_setup ecdsa
gw_start ecdsa
client_start 1 ecdsa
client_connect 1
expect "client sees gateway id" "$(client_field 1 .remote_id)" "$GW_ID"
expect "gateway sees client id" "$(gw_show_sas_json | jq -r '.[0].remote_id')" "cl1@ikegw.test"
check_agreement 1
ping_ok 1 3
