#!/bin/bash
# 12-sa-agreement — swanctl --list-sas and gw_show_sas_json (gwctl --json for ikegw) agree.
#
# For two suites (AES-GCM-16-256 and AES-CBC-256/HMAC-SHA2-512) and directly and through
# the NAT: IKE SPIs, IKE algorithms (encr, key size, integ, PRF, DH), virtual IP, CHILD SPIs
# (client in = gateway out and vice versa), CHILD algorithms; the gateway's view of the
# peer address is the client's address, or the NAT's outside address through the NAT.
. "$(dirname "$0")/../lib.sh"
case_init sa-agreement
topo_setup 1 nat
gw_start psk
client_start 1 psk
for path in direct nat; do
  [ "$path" = nat ] && client_use_nat 1
  for suite in "aes256gcm16-prfsha256-ecp256 aes256gcm16" "aes256-sha512-modp2048 aes256-sha512"; do
    set -- $suite
    client_reconf 1 psk "$1" "$2"
    client_connect 1
    check_agreement 1 "$path-$2"
    if [ "$path" = nat ]; then exp_peer=$NAT_OUT_ADDR; else exp_peer=$(client_addr 1); fi
    expect "gateway's peer address ($path)" "$(gw_show_sas_json | jq -r '.[0].remote_host')" "$exp_peer"
    expect "gateway's local address ($path)" "$(gw_show_sas_json | jq -r '.[0].local_host')" "$GW_ADDR"
    expect "gateway CHILD UDP encapsulation ($path)" "$(gw_show_sas_json | jq -r '.[0].children[0].encap')" true
    ping_ok 1 2
    swan cl1 --terminate --ike home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1
    wait_until 5 gw_has_no_sa || fail "gateway kept the SA after the client's delete"
  done
done
