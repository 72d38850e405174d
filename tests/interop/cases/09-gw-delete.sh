#!/bin/bash
# 09-gw-delete — gateway-initiated delete (gw_clear_sa: `gwctl clear crypto ikev2-ikesa`
# for ikegw, `swanctl --terminate` for strongSwan).
#
# Checks: the client receives the Delete (charon log "received DELETE for IKE_SA") and drops
#         its IKE SA within 5 s; the gateway has none. With two clients connected, clearing
#         one SA (by its SPI) leaves the other one up and passing traffic.
. "$(dirname "$0")/../lib.sh"
case_init gw-delete
topo_setup 2
gw_start psk
client_start 1 psk
client_connect 1
gw_clear_sa || fail "gw_clear_sa failed"
wait_until 5 client_has_no_sa 1 || fail "client still has its IKE SA 5 s after the gateway's delete"
grep -q "received DELETE for IKE_SA" "$CASE_DIR/cl1/charon.log" || fail "client log shows no received DELETE for IKE_SA"
wait_until 5 gw_has_no_sa || fail "gateway still lists an IKE SA after clearing it"
# two clients, clear only the first one's SA
client_connect 1
client_start 2 psk
client_connect 2
spi=$(client_field 1 .spi_r)
gw_clear_sa "$spi" || fail "gw_clear_sa $spi (cl1's SA, by the gateway's SPI) failed"
wait_until 5 client_has_no_sa 1 || fail "cl1 still has its IKE SA after the gateway cleared it"
expect "cl2 untouched" "$(client_field 2 .state)" ESTABLISHED
expect "gateway SAs left" "$(gw_sa_count)" 1
ping_ok 2 2
