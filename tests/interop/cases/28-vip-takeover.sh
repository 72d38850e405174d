#!/bin/bash
# 28-vip-takeover — a client cannot take another client's virtual IP (issue 12 item 1).
#
# cl1 connects normally (CP, virtual IP V1). cl2 authenticates with valid credentials but
# asks for no virtual IP and proposes TSi = V1/32 (strongSwan: no "vips", local_ts = V1).
# Before the fix the gateway copied that TSi, reported V1 to ipsecmgr as cl2's virtual IP
# and ipsecmgr routed V1 to cl2 ("newest first"): cl1's pings went from 10 of 10 to 0.
#
# Checks: cl2 gets no CHILD SA (ikegw: FAILED_CP_REQUIRED, its log line says why);
#         cl1 still gets 10 of 10 pings through after cl2's attempt.
. "$(dirname "$0")/../lib.sh"
case_init vip-takeover
topo_setup 2
gw_start psk
client_start 1 psk
client_connect 1
v1=$(client_vip 1)
[ -n "$v1" ] || fail "cl1 has no virtual IP"
ping_ok 1 10
client_conf 2 psk
conf=$CASE_DIR/cl2/swanctl/swanctl.conf
sed -i -e '/^    vips = 0.0.0.0$/d' -e "s|^        remote_ts = |        local_ts = $v1/32\n        remote_ts = |" "$conf"
grep -q "local_ts = $v1/32" "$conf" || fail "could not write cl2's local_ts"
grep -q "vips" "$conf" && fail "cl2's config still asks for a virtual IP"
# The attacker holds V1 locally, so its kernel-libipsec can install the route for it.
nsx cl2 ip addr add "$v1/32" dev lo || fail "could not add $v1 to cl2"
swan_start cl2 cl2 client
swan_load cl2
# Every check is made (and cl1's pings measured) before the case fails.
bad=""
client_initiate 2 && bad+="cl2 (no CP, TSi = cl1's virtual IP $v1) got a CHILD SA; "
n2=$(client_sas 2 | jq '[.[].children[]? | select(.state == "INSTALLED")] | length')
[ "${n2:-0}" = 0 ] || bad+="cl2 has ${n2} installed CHILD SA(s); "
if [ "$GW" = ikegw ]; then
  grep -q "CHILD SA refused (FAILED_CP_REQUIRED)" "$CASE_DIR/gw-ikegw.out" \
    || bad+="gateway log has no FAILED_CP_REQUIRED reason line (see gw-ikegw.out); "
  client_log_has 2 "FAILED_CP_REQUIRED" || bad+="cl2 did not receive FAILED_CP_REQUIRED; "
fi
f=$(ping_srv 1 10 0.2)
lost=$(ping_loss "$f")
metric vip_takeover_cl1_pings_lost "$lost"
[ "$lost" = 0 ] || bad+="cl1 lost $lost of 10 pings after cl2 claimed its virtual IP $v1; "
[ -z "$bad" ] || fail "$bad"
