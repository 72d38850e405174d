#!/bin/bash
# 23-tshark-decode — Wireshark (tshark) decodes every IKE message our gateway sends, the
# encrypted ones included, without a malformed warning.
#
# Setup:  PSK gateway with MOBIKE and cookie-challenge; a gateway built with
#         -DIKEGW_KEYLOG=ON (tests/run-all.sh's build) writes its IKE SA keys in Wireshark's
#         ikev2_decryption_table format (IKEGW_IKEV2_KEYLOG); tshark captures IKE on the
#         gateway's client-side bridge.
# Action: connect (AES-CBC-256/SHA2-256: Wireshark 4.0 cannot decrypt ChaCha20), CHILD
#         rekey, IKE rekey, a MOBIKE move (UPDATE_SA_ADDRESSES, COOKIE2 check), DPD, and
#         a client delete.
# Checks: no frame is malformed; every IKE message from the gateway is decoded and every
#         encrypted one decrypted (the decrypted payloads are visible), including the
#         gateway's COOKIE2 request and its answer to UPDATE_SA_ADDRESSES.
. "$(dirname "$0")/../lib.sh"
case_init tshark-decode
[ "${GW:-ikegw}" = ikegw ] || skip "ikegw only: checks the messages our gateway sends"
command -v tshark >/dev/null || skip "tshark not installed"
# The key log is compiled in only with -DIKEGW_KEYLOG=ON (issue 12 item 7): its
# environment variable's name is in sessmgr only then.
grep -q IKEGW_IKEV2_KEYLOG "$(dirname "$IKEGW_BIN")/sessmgr" 2>/dev/null ||
  skip "gateway built without -DIKEGW_KEYLOG=ON: no IKEv2 key log to decrypt with"
topo_setup 1
mkdir -p "$CASE_DIR/gw" "$CASE_DIR/wshome/.config/wireshark"
keylog=$CASE_DIR/wshome/.config/wireshark/ikev2_decryption_table
export IKEGW_IKEV2_KEYLOG=$keylog
GW_MOBIKE=cookie-challenge GW_DPD=2s gw_start psk
bg_start tshark nsx gw tshark -q -n -i br0 -w "$CASE_DIR/ike.pcap" \
  -f "udp port 500 or (udp port 4500 and udp[8:4] = 0)"
sleep 2
client_start 1 psk
client_reconf 1 psk aes256-sha256-modp2048 aes256-sha256
client_connect 1
ping_ok 1 3
swan cl1 --rekey --child home >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "CHILD rekey"
sleep 1
swan cl1 --rekey --ike home >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "IKE rekey"
sleep 1
client_move 1 1 2
sleep 6 # the update, COOKIE2 check, the rekey that follows, and a DPD round
swan cl1 --terminate --ike home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1
sleep 1
kill_pid "$(cat "$CASE_DIR/tshark.pid")"
[ -s "$keylog" ] || fail "the gateway wrote no key log"
export HOME=$CASE_DIR/wshome
ts() { tshark -n -r "$CASE_DIR/ike.pcap" "$@" 2>>"$CASE_DIR/tshark.err"; }
ts -V >"$CASE_DIR/decode.txt"
gw_frames=$(ts -Y "isakmp && ip.src == $GW_ADDR" | wc -l)
metric tshark_gw_frames "$gw_frames"
[ "$gw_frames" -ge 10 ] || fail "only $gw_frames IKE frames from the gateway captured"
malformed=$(grep -ciE "malformed|\[incorrect" "$CASE_DIR/decode.txt")
[ "$malformed" = 0 ] || fail "$malformed malformed-frame warnings (see decode.txt)"
# Every encrypted message from the gateway must decrypt: count the SK payloads and the
# decrypted ones.
sk=$(ts -Y "isakmp && ip.src == $GW_ADDR && isakmp.nextpayload == 46" | wc -l)
dec=$(ts -Y "isakmp && ip.src == $GW_ADDR && isakmp.enc.decrypted" | wc -l)
metric tshark_gw_encrypted "$sk"; metric tshark_gw_decrypted "$dec"
[ "$sk" -gt 0 ] && [ "$dec" = "$sk" ] || fail "$dec of $sk encrypted gateway messages decrypted"
c2=$(ts -Y "ip.src == $GW_ADDR && isakmp.notify.msgtype == 16401" | wc -l)
[ "$c2" -ge 2 ] || fail "gateway's COOKIE2 (echo and challenge) not decoded: $c2"
