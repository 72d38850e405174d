#!/bin/bash
# 21-mobike-cookie-challenge — make-before-break move with the return routability check
# on (`ikev2-ikesa mobike cookie-challenge`): after the update the gateway sends an
# INFORMATIONAL with COOKIE2 to the new address, strongSwan echoes it, the check passes.
# Checks: as 16-mobike-mbb (SPIs kept; at most 3 of 100 pings lost: the CHILD SAs move
#         only once the check passed, RFC 4555 3.5 / 5.2, so replies sent while it runs
#         still go to the old address, which the move removes) plus: the client log
#         shows the gateway's INFORMATIONAL request after the move, and the gateway's
#         return-routability counters show one check passed.
# strongSwan as the gateway has no such option: SKIP there.
. "$(dirname "$0")/../lib.sh"
case_init mobike-cookie-challenge
[ "$GW" = strongswan ] && skip "strongSwan's gateway has no return-routability (cookie-challenge) option"
topo_setup 1
GW_MOBIKE=cookie-challenge gw_start psk
client_start 1 psk
client_connect 1
spis=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
ping_bg 1 100 0.1
sleep 3
before=$(grep -c "parsed INFORMATIONAL request" "$CASE_DIR/cl1/charon.log")
client_move 1 1 2
a2=$(client_addr 1 2)
peer_a2() { gw_peer_is "$a2"; }
wait_until 5 peer_a2 || fail "gateway's peer address did not become $a2"
ping_wait
after=$(grep -c "parsed INFORMATIONAL request" "$CASE_DIR/cl1/charon.log")
[ "$after" -gt "$before" ] || fail "no INFORMATIONAL request (COOKIE2 check) from the gateway after the move"
lost=$(ping_loss "$PING_OUT"); gap=$(ping_gap "$PING_OUT")
metric cookie_mbb_lost "$lost"; metric cookie_mbb_longest_gap_s "$gap"
expect "IKE SPIs kept" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$spis"
expect "gateway return routability checks passed" "$(gw_counter rr_passed)" 1
[ "$lost" -le 3 ] || fail "$lost of 100 pings lost (longest gap ${gap}s)"
