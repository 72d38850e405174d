#!/bin/bash
# 22-ipsecmgr-restart — the datapath process is killed (SIGKILL) while a client's tunnel is
# up. The launcher restarts ipsecmgr; it finds no SAs and asks every sessmgr to replay; the
# sessmgr sends its CHILD SAs again (SaAdd resync) and ReplayDone. Checks: the client's
# IKE SA and CHILD SA are untouched (same SPIs, no renegotiation) and pings flow again
# within 10 s of the kill. ikegw only (strongSwan's gateway has no separate datapath process).
. "$(dirname "$0")/../lib.sh"
case_init ipsecmgr-restart
[ "${GW:-ikegw}" = ikegw ] || skip "ikegw only: no separate datapath process to kill"
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
ping_ok 1 3
spi_before=$(client_field 1 '.children[0].spi_in // empty')
ike_before=$(client_field 1 '.spi_i // empty')
pid=$(pgrep -f "ipsecmgr .*$(gw_state_dir)" | head -n 1)
[ -n "$pid" ] || fail "no ipsecmgr process found"
kill -9 "$pid"
log "killed ipsecmgr pid $pid"
t0=$(now)
# One ping a second until one comes back (bounded by wait_until).
ping_one() { local f; f=$(ping_srv 1 1 0.2); [ "$(ping_loss "$f")" = 0 ]; }
wait_until 15 ping_one || fail "no ping reply within 15 s of killing ipsecmgr"
t1=$(now)
metric ipsecmgr_restart_recovery_s "$(echo "$t1 - $t0" | bc -l | cut -c1-5)"
newpid=$(pgrep -f "ipsecmgr .*$(gw_state_dir)" | head -n 1)
[ -n "$newpid" ] && [ "$newpid" != "$pid" ] || fail "ipsecmgr was not restarted"
[ "$(client_field 1 '.spi_i // empty')" = "$ike_before" ] || fail "the IKE SA changed"
[ "$(client_field 1 '.children[0].spi_in // empty')" = "$spi_before" ] ||
  fail "the CHILD SA was renegotiated"
ping_ok 1 5
