#!/bin/bash
# 22-ipsecmgr-restart — the datapath process is killed (SIGKILL) while a client's tunnel is
# up and busy. The launcher restarts ipsecmgr; it finds no SAs and asks every sessmgr to
# replay; the sessmgr sends its CHILD SAs again (SaAdd resync) and ReplayDone. The restarted
# ipsecmgr resumes each outbound SA after its persisted sequence-number lease
# (ipsecmgr/seq_lease.h), so no ESP sequence number (= AES-GCM nonce) is sent twice and the
# client's anti-replay window accepts the packets at once.
# Checks: 200 pings at 0.01 s before the kill (well past strongSwan's default replay window
# of 32, so a counter restarted at 1 would be dropped); after the kill a reply comes back
# within 2 s; the client's IKE SA and CHILD SA are untouched (same SPIs, no renegotiation);
# 100 more pings at 0.01 s lose none; the client's charon never logged "sequence number
# verification failed"; ipsecmgr counted the resumed lease. ikegw only (strongSwan's gateway
# has no separate datapath process).
. "$(dirname "$0")/../lib.sh"
case_init ipsecmgr-restart
[ "${GW:-ikegw}" = ikegw ] || skip "ikegw only: no separate datapath process to kill"
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
ipm_ctr() {
  "$(dirname "$IKEGW_BIN")/ipsecmgr" --query "ipc://$(gw_state_dir)/ctl-ipsecmgr.sock" "$1" \
    2>>"$CASE_DIR/gw/gwctl.err" | awk -v n="$1" '$1 == n { print $2 }'
}
f=$(ping_srv 1 200 0.01 -q)
[ "$(ping_loss "$f")" = 0 ] || fail "pings lost before the kill: $(tail -n 2 "$f" | head -n 1)"
spi_before=$(client_field 1 '.children[0].spi_in // empty')
ike_before=$(client_field 1 '.spi_i // empty')
pid=$(pgrep -f "ipsecmgr .*$(gw_state_dir)" | head -n 1)
[ -n "$pid" ] || fail "no ipsecmgr process found"
ping_bg 1 300 0.02
sleep 0.3
t0=$(date +%s.%N)
kill -9 "$pid"
log "killed ipsecmgr pid $pid at $t0"
first_reply() { [ "$(ping_first_reply_after "$PING_OUT" "$t0")" != nan ]; }
wait_until 10 first_reply || fail "no ping reply within 10 s of killing ipsecmgr"
rec=$(ping_first_reply_after "$PING_OUT" "$t0")
metric ipsecmgr_restart_recovery_s "$rec"
ping_wait
metric ipsecmgr_restart_pings_lost "$(ping_loss "$PING_OUT")"
[ "$(echo "$rec <= 2" | bc -l)" = 1 ] || fail "first reply ${rec} s after the kill (limit 2 s)"
newpid=$(pgrep -f "ipsecmgr .*$(gw_state_dir)" | head -n 1)
[ -n "$newpid" ] && [ "$newpid" != "$pid" ] || fail "ipsecmgr was not restarted"
[ "$(client_field 1 '.spi_i // empty')" = "$ike_before" ] || fail "the IKE SA changed"
[ "$(client_field 1 '.children[0].spi_in // empty')" = "$spi_before" ] ||
  fail "the CHILD SA was renegotiated"
f=$(ping_srv 1 100 0.01 -q)
[ "$(ping_loss "$f")" = 0 ] || fail "pings lost after the restart: $(tail -n 2 "$f" | head -n 1)"
if grep -qi "sequence number verification failed" "$CASE_DIR/cl1/charon.log"; then
  fail "client dropped our ESP as replays: $(grep -ci 'sequence number verification failed' "$CASE_DIR/cl1/charon.log") x 'sequence number verification failed' in its charon log"
fi
res=$(ipm_ctr seq_lease_resumed)
metric ipsecmgr_restart_leases_resumed "${res:-0}"
[ "${res:-0}" -ge 1 ] || fail "the restarted ipsecmgr resumed no persisted lease (seq_lease_resumed=${res:-none})"
