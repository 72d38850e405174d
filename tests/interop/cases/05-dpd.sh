#!/bin/bash
# 05-dpd — dead peer detection in both directions.
#
# Setup:  PSK gateway with a 2 s DPD interval and short retransmissions (1 s, 2 tries).
# Checks: (1) client cl1 with a 1 s DPD interval: over 4 idle seconds the client sends DPDs
#         (empty INFORMATIONAL requests) and the gateway answers them (client charon log:
#         "parsed INFORMATIONAL response"); the IKE SA stays, same SPIs.
#         (2) client reconnected without DPD: the gateway's own DPDs reach the client within
#         5 s ("parsed INFORMATIONAL request") and the SA stays.
#         (3) the client's charon is SIGKILLed: the gateway's DPD goes unanswered and the
#         gateway deletes the IKE SA within 20 s.
# (DPD is only sent on an idle SA: with both sides at the same interval whichever side fires
#  first keeps the other one quiet, hence the different intervals.)
. "$(dirname "$0")/../lib.sh"
case_init dpd
topo_setup 1
GW_DPD=2s GW_RETRANSMIT_TIMEOUT=1 GW_RETRANSMIT_TRIES=2 gw_start psk
CL_DPD=1s client_start 1 psk
client_connect 1
spi=$(client_field 1 .spi_i)
sleep 4
resp=$(grep -c "parsed INFORMATIONAL response" "$CASE_DIR/cl1/charon.log")
log "client: $resp answers to its DPDs in 4 s"
[ "$resp" -ge 2 ] || fail "client received $resp INFORMATIONAL responses to its DPDs in 4 s (expected >= 2)"
expect "IKE SA kept" "$(client_field 1 .spi_i)" "$spi"
expect "IKE state" "$(client_field 1 .state)" ESTABLISHED

swan cl1 --terminate --ike home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1
wait_until 5 gw_has_no_sa || fail "gateway kept the SA after the client's delete"
CL_DPD=0s client_reconf 1 psk
client_connect 1
spi=$(client_field 1 .spi_i)
before=$(grep -c "parsed INFORMATIONAL request" "$CASE_DIR/cl1/charon.log")
sleep 5
reqs=$(( $(grep -c "parsed INFORMATIONAL request" "$CASE_DIR/cl1/charon.log") - before ))
log "client: $reqs gateway DPD requests in 5 s"
[ "$reqs" -ge 1 ] || fail "client received no DPD (INFORMATIONAL request) from the gateway in 5 s"
expect "IKE SA kept" "$(client_field 1 .spi_i)" "$spi"

kill -KILL "$(swan_pid cl1)"
t0=$(now)
wait_until 20 gw_has_no_sa || fail "gateway kept the IKE SA of a dead peer for more than 20 s"
metric dpd_dead_peer_cleared_s "$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}')"
