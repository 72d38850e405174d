#!/bin/bash
# 22-natt-steer-restart — the NAT-T port split (ipsecmgr/natt_steer.h) survives restarts of
# either member of the port-4500 reuseport group. ikegw only (skipped for strongSwan).
# Checks: inbound ESP reaches ipsecmgr's own socket (esp_rx_direct grows); after demux is
# killed (SIGKILL) and restarted by the launcher, the group order has flipped and ipsecmgr
# corrects its program (natt_steer_swaps >= 1), ESP is received directly again and IKE still
# reaches demux (an IKE rekey by the client succeeds); after ipsecmgr is killed and restarted,
# inbound ESP is received directly and decrypted again, and replies flow (outbound sequence
# numbers resume after their persisted lease: at most 5 of 100 pings lost, no "sequence
# number verification failed" at the client). Pings lost are recorded.
. "$(dirname "$0")/../lib.sh"
case_init natt-steer-restart
[ "$GW" = ikegw ] || skip "ikegw only (its ipsecmgr/demux split of port 4500)"
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1

ipm_ctr() {
  "$(dirname "$IKEGW_BIN")/ipsecmgr" --query "ipc://$(gw_state_dir)/ctl-ipsecmgr.sock" "$1" \
    2>>"$CASE_DIR/gw/gwctl.err" | awk -v n="$1" '$1 == n { print $2 }'
}
# gw_child NAME: pid of the launcher's child NAME in the gateway namespace.
gw_child() {
  local p
  for p in $(gw_pids); do
    [ "$(tr -d '\n' <"/proc/$p/comm" 2>/dev/null)" = "$1" ] && { echo "$p"; return 0; }
  done
  return 1
}
direct_grows() { # direct_grows BEFORE: esp_rx_direct went past BEFORE + 20
  local v; v=$(ipm_ctr esp_rx_direct); [ "${v:-0}" -ge $(( $1 + 20 )) ]
}

f=$(ping_srv 1 50 0.01 -q)
[ "$(ping_loss "$f")" = 0 ] || fail "pings lost before any restart"
d0=$(ipm_ctr esp_rx_direct)
[ "${d0:-0}" -ge 50 ] || fail "ESP not received on ipsecmgr's own socket (esp_rx_direct=${d0:-none})"

# ---- demux restart: the group order flips (ipsecmgr now first).
old=$(gw_child demux) || fail "no demux process"
kill -9 "$old"
new_demux() { local p; p=$(gw_child demux) && [ "$p" != "$old" ]; }
wait_until 10 new_demux || fail "launcher did not restart demux"
sleep 1
f=$(ping_srv 1 200 0.01 -q)
metric demux_restart_pings_lost "$(ping_loss "$f")"
[ "$(ping_loss "$f")" -le 5 ] || fail "$(ping_loss "$f") of 200 pings lost after the demux restart"
sw=$(ipm_ctr natt_steer_swaps)
metric demux_restart_steer_swaps "${sw:-0}"
[ "${sw:-0}" -ge 1 ] || fail "ipsecmgr did not swap the reuseport indexes after demux rejoined"
d1=$(ipm_ctr esp_rx_direct)
f=$(ping_srv 1 50 0.01 -q)
direct_grows "$d1" || fail "ESP not received directly after the demux restart"
swan cl1 --rekey --ike home >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "IKE rekey after the demux restart failed (IKE not reaching demux?)"
f=$(ping_srv 1 50 0.01 -q)
[ "$(ping_loss "$f")" = 0 ] || fail "pings lost after the IKE rekey"

# ---- ipsecmgr restart: it joins second again, SAs replayed by the sessmgrs.
old=$(gw_child ipsecmgr) || fail "no ipsecmgr process"
kill -9 "$old"
new_ipm() { local p; p=$(gw_child ipsecmgr) && [ "$p" != "$old" ]; }
wait_until 10 new_ipm || fail "launcher did not restart ipsecmgr"
has_sa() { local v; v=$(ipm_ctr sas_in); [ "${v:-0}" -ge 1 ]; }
wait_until 15 has_sa || fail "the restarted ipsecmgr got no SA back from the sessmgrs"
# The restarted ipsecmgr resumes its outbound SAs after their persisted sequence-number
# leases (ipsecmgr/seq_lease.h): replies must flow at once, with no replay drops at the client.
f=$(ping_srv 1 100 0.01 -q)
metric ipsecmgr_restart_pings_lost "$(ping_loss "$f")"
[ "$(ping_loss "$f")" -le 5 ] || fail "$(ping_loss "$f") of 100 pings lost after the ipsecmgr restart"
d2=$(ipm_ctr esp_rx_direct)
[ "${d2:-0}" -ge 100 ] || fail "ESP not received directly after the ipsecmgr restart (esp_rx_direct=${d2:-none})"
ok=$(ipm_ctr esp_rx_ok)
[ "${ok:-0}" -ge 100 ] || fail "ESP received after the ipsecmgr restart not decrypted (esp_rx_ok=${ok:-none})"
res=$(ipm_ctr seq_lease_resumed)
[ "${res:-0}" -ge 1 ] || fail "the restarted ipsecmgr resumed no persisted lease (seq_lease_resumed=${res:-none})"
if grep -qi "sequence number verification failed" "$CASE_DIR/cl1/charon.log"; then
  fail "client dropped our ESP as replays after the ipsecmgr restart ('sequence number verification failed' in its charon log)"
fi
