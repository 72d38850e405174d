#!/bin/bash
# 29-cert-eku-crl — client certificates: extendedKeyUsage and CRLs (issue 12 item 8).
#
# Setup:  RSA PKI. cl2's certificate is re-issued with extendedKeyUsage = serverAuth only;
#         cl1 and cl3 keep serverAuth,clientAuth. A CRL of the CA (openssl ca) revokes cl3.
# Checks: cl2 is refused with AUTHENTICATION_FAILED (RFC 4945 5.1.3.12: an EKU must allow
#         clientAuth, ipsecIKE or any) and the gateway logs the reason; `gwctl configure`
#         with `crl file` (certificate files are re-read on configure) makes the gateway
#         refuse cl3 (revoked); cl1 (not revoked) connects with the CRL in place; a CRL file
#         that does not parse is refused by `gwctl configure`, naming the file; the
#         "Certificate Failure" counter counts both refusals.
. "$(dirname "$0")/../lib.sh"
case_init cert-eku-crl
[ "$GW" = ikegw ] || skip "ikegw only (gwctl configure of the crl line)"
topo_setup 3
pki_setup rsa
d=$CASE_DIR/pki/rsa
(
  cd "$d" || exit 1
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nsubjectAltName=email:cl2@ikegw.test\nextendedKeyUsage=serverAuth\n' >cl2-srv.ext
  openssl x509 -req -in cl2.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 \
    -extfile cl2-srv.ext -out cl2.pem 2>/dev/null || exit 1
  : >index.txt
  echo 1000 >crlnumber
  printf '[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=30\n' >crl.cnf
  openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -revoke cl3.pem || exit 1
  openssl ca -config crl.cnf -keyfile ca.key -cert ca.pem -gencrl -out ca.crl || exit 1
  echo "not a CRL" >garbage.crl
) >>"$CASE_DIR/pki.log" 2>&1 || fail "openssl: EKU certificate or CRL generation failed (see pki.log)"
openssl x509 -in "$d/cl2.pem" -noout -ext extendedKeyUsage | grep -q "Client" \
  && fail "cl2's certificate still allows clientAuth"
gw_start rsa
cert_failures() {
  gwctl show crypto statistics ikev2 2>>"$CASE_DIR/gw/gwctl.err" |
    awk '/Certificate Failure/ { print $NF; exit }'
}
bad=""

# 1. EKU serverAuth only: refused.
client_start 2 rsa
client_initiate 2 && bad+="cl2 (EKU serverAuth only) connected; "
client_log_has 2 "received AUTHENTICATION_FAILED notify error" \
  || bad+="cl2 did not receive AUTHENTICATION_FAILED; "
grep -q "IKE_AUTH refused (AUTHENTICATION_FAILED).*extended key usage" "$CASE_DIR/gw-ikegw.out" \
  || bad+="gateway log has no EKU reason line (see gw-ikegw.out); "
wait_until 3 gw_has_no_sa || bad+="gateway keeps $(gw_sa_count) SA(s) after the EKU refusal; "

# 2. A CRL that does not parse: gwctl configure refused, naming the file.
if gwctl configure "context ipsec" "crypto template rw ikev2-dynamic" "crl file $d/garbage.crl" \
  >"$CASE_DIR/gw/configure-garbage.out" 2>&1; then
  bad+="gwctl configure accepted an unparsable CRL file; "
fi
grep -q "garbage.crl" "$CASE_DIR/gw/configure-garbage.out" \
  || bad+="the configure error does not name the CRL file ($(head -c 200 "$CASE_DIR/gw/configure-garbage.out")); "

# 3. The real CRL, re-read on configure: cl3 (revoked) refused, cl1 connects.
gwctl configure "context ipsec" "crypto template rw ikev2-dynamic" "crl file $d/ca.crl" \
  >"$CASE_DIR/gw/configure-crl.out" 2>&1 \
  || fail "gwctl configure with crl file failed: $(head -c 300 "$CASE_DIR/gw/configure-crl.out")"
gwctl show configuration 2>/dev/null | grep -q "crl file $d/ca.crl" \
  || bad+="show configuration does not print the crl line; "
client_start 3 rsa
client_initiate 3 && bad+="cl3 (revoked in the CRL) connected; "
client_log_has 3 "received AUTHENTICATION_FAILED notify error" \
  || bad+="cl3 did not receive AUTHENTICATION_FAILED; "
grep -q "IKE_AUTH refused (AUTHENTICATION_FAILED).*certificate revoked" "$CASE_DIR/gw-ikegw.out" \
  || bad+="gateway log has no 'certificate revoked' reason line; "
client_start 1 rsa
client_initiate 1 || bad+="cl1 (not revoked) refused with the CRL in place; "
n=$(cert_failures)
metric cert_failures "${n:-missing}"
[ "${n:-0}" = 2 ] || bad+="Certificate Failure = ${n:-missing}, expected 2; "
[ -z "$bad" ] || fail "$bad"
wait_until 10 client_up 1 || fail "cl1: no ESTABLISHED IKE SA with INSTALLED child and virtual IP"
ping_ok 1 3
