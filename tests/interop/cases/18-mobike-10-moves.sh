#!/bin/bash
# 18-mobike-10-moves — ten make-before-break moves in a row (A1 → A2 → A1 ...), one every
# 1.5 s, while pinging every 0.1 s.
# Checks: the gateway follows every move (its peer address is the new one within 1.4 s),
#         IKE SPIs kept, at most 1 ping lost per move (10 in all), agreement at the end;
#         loss and longest gap recorded.
. "$(dirname "$0")/../lib.sh"
case_init mobike-10-moves
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
spis=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
ping_bg 1 180 0.1
sleep 2
from=1; to=2
for i in $(seq 10); do
  client_move 1 "$from" "$to"
  target=$(client_addr 1 "$to")
  peer_ok() { gw_peer_is "$target"; }
  wait_until 1.4 peer_ok || fail "move $i: gateway peer is not $target after 1.4 s"
  sleep 1.3
  t=$from; from=$to; to=$t
done
ping_wait
lost=$(ping_loss "$PING_OUT"); gap=$(ping_gap "$PING_OUT")
metric moves10_lost "$lost"; metric moves10_longest_gap_s "$gap"
expect "IKE SPIs kept over 10 moves" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$spis"
check_agreement 1 after-10
u=$(gw_counter update_sa_addresses)
[ "$u" = n/a ] || expect "gateway Update SA Addresses counter" "$u" 10
[ "$lost" -le "${MOVES_MAX_LOST:-10}" ] || fail "$lost of 180 pings lost over 10 moves (max ${MOVES_MAX_LOST:-10}; longest gap ${gap}s)"
