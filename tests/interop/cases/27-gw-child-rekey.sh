#!/bin/bash
# 27-gw-child-rekey — the gateway rekeys a CHILD SA itself when ipsecmgr reports its soft
# byte lifetime (issue 4: soft -> rekey, hard -> delete; RFC 7296 1.3.3).
#
# Setup:  gateway CHILD SA lifetime 400 KB (soft at 90%); client without its own limit.
# Action: 1,000 pings of 1,000 bytes every 10 ms (~1 MB each way through the tunnel).
# Checks: the gateway sent CREATE_CHILD_SA with REKEY_SA (client log: "parsed
#         CREATE_CHILD_SA request"), the client's CHILD SA SPIs changed, the old CHILD SA was
#         deleted by the gateway (one CHILD SA left on both sides), the IKE SA kept its SPIs,
#         and at most 1 of the 1,000 pings was lost across the rekeys.
. "$(dirname "$0")/../lib.sh"
case_init gw-child-rekey
[ "${GW:-ikegw}" = ikegw ] || skip "ikegw only (the harness's strongSwan gateway has no byte lifetime)"
topo_setup 1
GW_CHILD_KB=400 gw_start psk
client_start 1 psk
client_connect 1
ike=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
child=$(client_field 1 '.children[0].spi_in')
f=$(ping_srv 1 1000 0.01 -q -s 1000)
lost=$(ping_loss "$f")
metric gw_child_rekey_lost "$lost"
client_log_has 1 "parsed CREATE_CHILD_SA request .*N(REKEY_SA)" ||
  fail "the gateway sent no CHILD SA rekey (client log)"
sleep 1
expect "client IKE SPIs kept" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$ike"
now_child=$(client_field 1 '[.children[] | select(.state == "INSTALLED")][0].spi_in')
[ -n "$now_child" ] && [ "$now_child" != "$child" ] || fail "client CHILD SA not rekeyed ($child)"
expect "gateway CHILD SAs after the rekeys" "$(gw_show_sas_json | jq '.[0].children | length')" 1
[ "$lost" -le 1 ] || fail "$lost of 1000 pings lost across gateway-initiated CHILD rekeys"
