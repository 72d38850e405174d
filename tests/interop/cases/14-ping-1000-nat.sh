#!/bin/bash
# 14-ping-1000-nat — 1,000 pings through the tunnel (every 10 ms), 0 lost, for an AES-GCM and
# an AES-CBC-256/HMAC-SHA2-256 suite, client behind the NAT namespace (MASQUERADE) (ESP in UDP: kernel-libipsec always
# encapsulates). Checks: 0 lost per suite; the CHILD SA counters on the gateway saw at
# least 1,000 packets each way.
. "$(dirname "$0")/../lib.sh"
# CHILD SA packet counters of the gateway. ikegw: the ESP SAs' counters as ipsecmgr, the
# datapath's single authority, reports them (summed over the live SAs: one CHILD SA here).
ipsecmgr_ctr() {
  "$(dirname "$IKEGW_BIN")/ipsecmgr" --query "ipc://$(gw_state_dir)/ctl-ipsecmgr.sock" "$1" \
    | awk -v n="$1" '$1 == n { print $2 }'
}
esp_packets_in() {
  if [ "$GW" = ikegw ]; then ipsecmgr_ctr esp_packets_in
  else gw_show_sas_json | jq '[.[0].children[] | .packets_in] | add'; fi
}
esp_packets_out() {
  if [ "$GW" = ikegw ]; then ipsecmgr_ctr esp_packets_out
  else gw_show_sas_json | jq '[.[0].children[] | .packets_out] | add'; fi
}
case_init ping-1000-nat
topo_setup 1 nat
client_use_nat 1
gw_start psk
client_start 1 psk
for esp in aes256gcm16 aes256-sha256; do
  client_reconf 1 psk default "$esp"
  client_connect 1
  f=$(ping_srv 1 1000 0.01 -q)
  lost=$(ping_loss "$f")
  metric "ping1000_nat_${esp}_lost" "$lost"
  [ "$lost" = 0 ] || fail "$esp: $lost of 1000 pings lost ($(grep 'packets transmitted' "$f"))"
  pk=$(esp_packets_in)
  [ "${pk:-0}" -ge 1000 ] || fail "$esp: gateway CHILD SA counted only ${pk:-0} inbound packets"
  po=$(esp_packets_out)
  [ "${po:-0}" -ge 1000 ] || fail "$esp: gateway CHILD SA counted only ${po:-0} outbound packets"
  swan cl1 --terminate --ike home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1
  wait_until 5 gw_has_no_sa || fail "gateway kept the SA"
done
