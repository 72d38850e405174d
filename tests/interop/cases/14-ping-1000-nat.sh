#!/bin/bash
# 14-ping-1000-nat — 1,000 pings through the tunnel (every 10 ms), 0 lost, for an AES-GCM and
# an AES-CBC-256/HMAC-SHA2-256 suite, client behind the NAT namespace (MASQUERADE) (ESP in UDP: kernel-libipsec always
# encapsulates). Checks: 0 lost per suite; the CHILD SA counters on the gateway saw at
# least 1,000 packets each way.
. "$(dirname "$0")/../lib.sh"
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
  pk=$(gw_esp_packets in)
  [ "${pk:-0}" -ge 1000 ] || fail "$esp: gateway CHILD SA counted only ${pk:-0} inbound packets"
  po=$(gw_esp_packets out)
  [ "${po:-0}" -ge 1000 ] || fail "$esp: gateway CHILD SA counted only ${po:-0} outbound packets"
  swan cl1 --terminate --ike home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1
  wait_until 5 gw_has_no_sa || fail "gateway kept the SA"
done
