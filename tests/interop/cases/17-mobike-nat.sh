#!/bin/bash
# 17-mobike-nat — MOBIKE moves from a direct path to a path behind a NAT and back.
#
# Setup:  topology with the NAT namespace (MASQUERADE to 203.0.113.2); client cl1 starts
#         direct at A1 = 192.0.2.11.
# Action: 150 pings every 0.1 s; at ~3 s the client gets 10.99.0.11 behind the NAT (default
#         route via the NAT) and A1 is removed → update through the NAT (the gateway now
#         sees 203.0.113.2, NAT detected); at ~9 s A1 comes back on eth0 and the NAT address
#         is removed → update back to the direct path.
# Each address removal is aligned to a ping reply (ping_sync in lib.sh).
# Checks: the gateway follows (peer 203.0.113.2, then A1), IKE SPIs kept, SPIs/algorithms
#         agree after each move, at most 1 ping lost per move (2 in all); figures recorded.
. "$(dirname "$0")/../lib.sh"
case_init mobike-nat
topo_setup 1 nat
gw_start psk
client_start 1 psk
client_connect 1
spis=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
a1=$(client_addr 1)
peer_nat() { gw_peer_is "$NAT_OUT_ADDR"; }
peer_a1() { gw_peer_is "$a1"; }
ping_bg 1 150 0.1
sleep 3
client_nat_up 1
sleep 0.2
ping_sync
ip -n "$P-cl1" addr del "$a1/24" dev eth0
t_nat=$(now)
wait_until 5 peer_nat || fail "gateway did not follow the client behind the NAT (peer $(gw_show_sas_json | jq -r '.[0].remote_host'))"
check_agreement 1 behind-nat
expect "IKE SPIs kept (to NAT)" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$spis"
sleep 5
ip -n "$P-cl1" addr add "$a1/24" dev eth0
sleep 0.2
ping_sync
ip -n "$P-cl1" addr del "$(client_nat_addr 1)/24" dev eth1
ip -n "$P-cl1" route del default 2>/dev/null
wait_until 5 peer_a1 || fail "gateway did not follow the client back to the direct path"
ping_wait
check_agreement 1 direct-again
expect "IKE SPIs kept (back)" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$spis"
lost=$(ping_loss "$PING_OUT"); gap=$(ping_gap "$PING_OUT")
metric nat_moves_lost "$lost"; metric nat_moves_longest_gap_s "$gap"
u=$(gw_counter update_sa_addresses)
[ "$u" = n/a ] || expect "gateway Update SA Addresses counter" "$u" 2
[ "$lost" -le "${NAT_MAX_LOST:-2}" ] || fail "$lost of 150 pings lost across two NAT moves (max ${NAT_MAX_LOST:-2}; longest gap ${gap}s)"
