#!/bin/bash
# 01-psk-connect — PSK remote access: a strongSwan client (kernel-libipsec) connects.
#
# Setup:  gateway (GW=...) with PSK auth, pool 10.10.0.0/24, local_ts 198.51.100.0/24;
#         client cl1 at 192.0.2.11, mobike = yes, default proposals.
# Checks: swanctl on the client shows ESTABLISHED, the CHILD SA INSTALLED (tunnel mode,
#         UDP-encapsulated: kernel-libipsec always encapsulates), a virtual IP from the
#         pool; the gateway shows one IKE SA with the same SPIs; 3 pings through the tunnel.
# Teardown: EXIT trap (lib.sh).
. "$(dirname "$0")/../lib.sh"
case_init psk-connect
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
expect "IKE state" "$(client_field 1 .state)" ESTABLISHED
expect "CHILD state" "$(client_field 1 '.children[0].state')" INSTALLED
expect "CHILD mode" "$(client_field 1 '.children[0].mode')" TUNNEL
expect "CHILD UDP encapsulation" "$(client_field 1 '.children[0].encap')" true
vip=$(client_vip 1)
case $vip in 10.10.0.*) log "ok: vip $vip in pool" ;; *) fail "virtual IP '$vip' not from 10.10.0.0/24" ;; esac
expect "client remote_ts" "$(client_field 1 '.children[0].remote_ts | join(",")')" "$SRV_NET"
expect "gateway IKE SA count" "$(gw_sa_count)" 1
check_agreement 1
ping_ok 1 3
