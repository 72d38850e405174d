#!/bin/bash
# 16-mobike-mbb — MOBIKE make-before-break move A1 → A2 while pinging (RFC 4555).
#
# Setup:  PSK gateway with MOBIKE; client cl1 (mobike = yes) at A1 = 192.0.2.11.
# Action: 100 pings every 0.1 s through the tunnel; at ~3 s A2 = 192.0.2.12 is added to
#         eth0 and 0.2 s later A1 removed (promote_secondaries makes A2 primary), so
#         strongSwan sends UPDATE_SA_ADDRESSES from A2.
# Checks: the IKE SA keeps its SPIs on both ends; the gateway's peer address becomes A2;
#         the client log shows the update; at most MBB_MAX_LOST (default 1) of 100 pings
#         lost; ping loss and the longest gap between replies are recorded. With ikegw the
#         gateway's "Update SA Addresses" counter must be 1.
. "$(dirname "$0")/../lib.sh"
case_init mobike-mbb
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
spis=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
ping_bg 1 100 0.1
sleep 3
client_move 1 1 2
a2=$(client_addr 1 2)
peer_a2() { gw_peer_is "$a2"; }
wait_until 5 peer_a2 || fail "gateway's peer address did not become $a2"
ping_wait
client_log_has 1 "generating INFORMATIONAL request .*N(UPD_SA_ADDR)" || fail "client log shows no MOBIKE address update"
lost=$(ping_loss "$PING_OUT"); gap=$(ping_gap "$PING_OUT")
metric mbb_lost "$lost"; metric mbb_longest_gap_s "$gap"
expect "client IKE SPIs kept" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$spis"
check_agreement 1 after-move
expect "client local address" "$(client_field 1 .local_host)" "$a2"
u=$(gw_counter update_sa_addresses)
[ "$u" = n/a ] || expect "gateway Update SA Addresses counter" "$u" 1
[ "$lost" -le "${MBB_MAX_LOST:-1}" ] || fail "$lost of 100 pings lost across a make-before-break move (max ${MBB_MAX_LOST:-1}; longest gap ${gap}s)"
