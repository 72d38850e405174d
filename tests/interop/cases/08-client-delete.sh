#!/bin/bash
# 08-client-delete — client-initiated delete (INFORMATIONAL with Delete of the IKE SA).
#
# Checks: `swanctl --terminate --ike` completes (the gateway answered the Delete), the
#         gateway has no IKE SA within 5 s, the client has none, and the client can connect
#         again afterwards (new SPIs, a virtual IP again). Then a CHILD-only delete:
#         `swanctl --terminate --child` removes the CHILD SA on both ends, the IKE SA stays.
. "$(dirname "$0")/../lib.sh"
case_init client-delete
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
old=$(client_field 1 .spi_i)
swan cl1 --terminate --ike home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "swanctl --terminate --ike failed (no Delete response?)"
grep -q "IKE_SA .*deleted\|deleting IKE_SA" "$CASE_DIR/cl1/charon.log" || fail "client log shows no IKE_SA deletion"
wait_until 5 gw_has_no_sa || fail "gateway still has $(gw_sa_count) IKE SA(s) 5 s after the client's Delete"
client_has_no_sa 1 || fail "client still lists an IKE SA after terminate"
client_connect 1
[ "$(client_field 1 .spi_i)" != "$old" ] || fail "reconnect reused the old SPI"
check_agreement 1 reconnect
ping_ok 1 2
# CHILD SA only
swan cl1 --terminate --child home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "swanctl --terminate --child failed"
gw_no_child() { gw_show_sas_json | jq -e 'length == 1 and (.[0].children | length) == 0'; }
wait_until 5 gw_no_child || fail "gateway did not remove the CHILD SA (or dropped the IKE SA) after a CHILD Delete"
expect "client IKE SA kept" "$(client_field 1 .state)" ESTABLISHED
expect "client CHILD SAs" "$(client_field 1 '.children | length')" 0
