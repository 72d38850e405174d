#!/bin/bash
# 06-ike-rekey — client-initiated IKE SA rekey (CREATE_CHILD_SA, RFC 7296 1.3.2).
#
# Checks: `swanctl --rekey --ike` gives new IKE SPIs on both ends (agreeing), the old SA is
#         gone from the gateway, the CHILD SA survives (same SPIs) and traffic still flows;
#         a second rekey works as well.
. "$(dirname "$0")/../lib.sh"
case_init ike-rekey
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
ike_spis() { client_field 1 'select(.state=="ESTABLISHED") | "\(.spi_i)/\(.spi_r)"'; }
ike_changed() { [ "$(ike_spis)" != "$old" ] && [ -n "$(ike_spis)" ]; }
gw_one_sa() { [ "$(gw_sa_count)" = 1 ]; }
for round in 1 2; do
  old=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
  oldchild=$(client_field 1 '.children[0].spi_in')
  swan cl1 --rekey --ike home >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "swanctl --rekey --ike failed"
  wait_until 10 ike_changed || fail "round $round: client IKE SPIs unchanged after rekey"
  new=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
  log "round $round: IKE SPIs $old -> $new"
  wait_until 5 gw_one_sa || true
  expect "gateway IKE SAs after rekey" "$(gw_sa_count)" 1
  check_agreement 1 "rekey$round"
  expect "CHILD SA kept across IKE rekey" "$(client_field 1 '.children[0].spi_in')" "$oldchild"
  ping_ok 1 3
done
