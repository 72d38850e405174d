#!/bin/bash
# 07-child-rekey — client-initiated CHILD SA rekey (CREATE_CHILD_SA with REKEY_SA).
#
# Checks: `swanctl --rekey --child` gives new ESP SPIs on both ends (agreeing, one INSTALLED
#         CHILD SA each), the IKE SA is unchanged, traffic flows; done twice, once with a
#         ping running across the rekey (no packet lost).
. "$(dirname "$0")/../lib.sh"
case_init child-rekey
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
ike=$(client_field 1 .spi_i)
child_rekeyed() { client_sas 1 | jq -e --arg old "$old" '[.[0].children[] | select(.state=="INSTALLED")] | length == 1 and .[0].spi_in != $old'; }
gw_one_child() { gw_show_sas_json | jq -e '.[0].children | length == 1'; }
for round in 1 2; do
  old=$(client_field 1 '.children[0].spi_in')
  [ "$round" = 2 ] && ping_bg 1 30 0.1
  sleep 1
  swan cl1 --rekey --child home >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "swanctl --rekey --child failed"
  wait_until 10 child_rekeyed || fail "round $round: no single new INSTALLED CHILD SA after rekey"
  log "round $round: CHILD SPI in $old -> $(client_field 1 '.children[0].spi_in')"
  wait_until 5 gw_one_child || true
  check_agreement 1 "rekey$round"
  expect "IKE SA unchanged" "$(client_field 1 .spi_i)" "$ike"
  if [ "$round" = 2 ]; then
    ping_wait
    lost=$(ping_loss "$PING_OUT")
    metric child_rekey_ping_lost "$lost"
    [ "$lost" = 0 ] || fail "$lost of 30 pings lost across a CHILD rekey"
  fi
  ping_ok 1 2
done
