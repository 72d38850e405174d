#!/bin/bash
# 25-sessmgr-kill — the sessmgr that owns a client's IKE SA is killed (SIGKILL), twice, and
# the client notices nothing (DESIGN.md "Recovery"). The launcher restarts it at once; the
# new sessmgr restores its slot from the checkpoint store (LMDB in the state directory) and
# replays the CHILD SAs to ipsecmgr. ikegw only.
#
# Setup:  PSK gateway with MOBIKE; client cl1 (mobike = yes) at A1, pinging every 0.1 s.
# Kill 1: while pinging. Checks: a new sessmgr pid on the same slot; gwctl shows the SA
#         again on that slot with the same IKE and CHILD SPIs; the client's IKE and CHILD
#         SPIs are unchanged (no renegotiation); pings lost across the kill are recorded
#         (the datapath is ipsecmgr's: at most KILL_MAX_LOST, default 2).
# Kill 2: with a request of the client in flight whose answer was lost: the gateway's
#         IKE datagrams to the client are dropped (iptables), the client starts a CHILD
#         rekey, the gateway handles it (2 CHILD SAs in gwctl), sessmgr is killed, the drop
#         is lifted. The client's retransmission must be answered by the restored sessmgr
#         from its restored response cache (retrans_rsp_sent >= 1 on the new sessmgr, no
#         second CHILD SA created) and the rekey completes.
# Then:   a MOBIKE move A1 -> A2 (UPDATE_SA_ADDRESSES, an INFORMATIONAL) is answered, the
#         gateway's peer becomes A2, pings flow, and the IKE SPIs are still the first ones.
. "$(dirname "$0")/../lib.sh"
case_init sessmgr-kill
[ "$GW" = ikegw ] || skip "ikegw only (its sessmgr process and checkpoint store)"
topo_setup 1
gw_start psk
client_start 1 psk
client_connect 1
ping_ok 1 3

gw_stat() { # gw_stat NAME: counter NAME summed over the sessmgrs
  gwctl --json show crypto statistics ikev2 2>>"$CASE_DIR/gw/gwctl.err" | jq -r --arg n "$1" '.counters[$n] // "missing"'
}
gw_sa() { gw_show_sas_json | jq -c '.[0] // empty'; }
sessmgr_pid() { pgrep -f "sessmgr .*--slot $1 .*$(gw_state_dir)" | head -n 1; }
gw_child_count() { gw_show_sas_json | jq '.[0].children | length'; }

ike=$(client_field 1 '"\(.spi_i)/\(.spi_r)"')
child=$(client_field 1 '"\(.children[0].spi_in)/\(.children[0].spi_out)"')
slot=$(gw_sa | jq -r '.slot')
[ -n "$slot" ] && [ "$slot" != null ] || fail "gwctl shows no slot for the SA"
gw_ike=$(gw_sa | jq -r '"\(.spi_i)/\(.spi_r)"')
expect "gateway and client IKE SPIs" "$gw_ike" "$ike"
log "IKE SA $ike on sessmgr slot $slot, CHILD SA $child"

# ---- kill 1: while pinging
pid=$(sessmgr_pid "$slot")
[ -n "$pid" ] || fail "no sessmgr process for slot $slot"
ping_bg 1 80 0.1
sleep 2
t0=$(now)
kill -9 "$pid"
log "killed sessmgr slot $slot pid $pid"
restarted() { local p; p=$(sessmgr_pid "$slot"); [ -n "$p" ] && [ "$p" != "$pid" ]; }
wait_until 10 restarted || fail "sessmgr of slot $slot was not restarted"
sa_back() { [ "$(gw_sa | jq -r '"\(.slot) \(.spi_i)/\(.spi_r)"')" = "$slot $ike" ]; }
wait_until 10 sa_back || fail "gwctl does not show IKE SA $ike on slot $slot after the restart"
t1=$(now)
metric sessmgr_restore_s "$(echo "$t1 - $t0" | bc -l | cut -c1-5)"
ping_wait
lost=$(ping_loss "$PING_OUT")
metric sessmgr_kill_pings_lost "$lost"
expect "client IKE SPIs after kill 1" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$ike"
expect "client CHILD SPIs after kill 1" \
  "$(client_field 1 '"\(.children[0].spi_in)/\(.children[0].spi_out)"')" "$child"
expect "restored sessmgr counts the restored SA" "$(gw_stat ckpt_restored)" 1
expect "no IKE SA established since (no renegotiation)" "$(gw_stat ike_sa_established)" 0
check_agreement 1 after-kill1
[ "$lost" -le "${KILL_MAX_LOST:-2}" ] || fail "$lost of 80 pings lost across the sessmgr kill"
ping_ok 1 5

# ---- kill 2: the client's CHILD rekey is answered, the answer lost, sessmgr killed
pid=$(sessmgr_pid "$slot")
a1=$(client_addr 1 1)
drop=(OUTPUT -p udp -d "$a1" -j DROP)
nsx gw iptables -I "${drop[@]}" || fail "iptables in the gateway namespace"
swan cl1 --rekey --child home >"$CASE_DIR/cl1/rekey.out" 2>&1 &
rekey_pid=$!
IOP_PIDS+=("$rekey_pid")
two_children() { [ "$(gw_child_count)" = 2 ]; }
wait_until 10 two_children || { nsx gw iptables -D "${drop[@]}"; fail "the gateway did not handle the CHILD rekey request"; }
sleep 0.5 # the answer was committed before it was (not) sent; make sure gwctl is not early
kill -9 "$pid"
log "killed sessmgr slot $slot pid $pid with the rekey answer lost"
wait_until 10 restarted || { nsx gw iptables -D "${drop[@]}"; fail "sessmgr of slot $slot was not restarted (kill 2)"; }
wait_until 10 sa_back || { nsx gw iptables -D "${drop[@]}"; fail "SA not back after kill 2"; }
nsx gw iptables -D "${drop[@]}"
wait "$rekey_pid" # swanctl only queues the rekey
# Done when the client holds exactly one CHILD SA and it is not the old one.
rekey_done() {
  local ins; ins=$(client_sas 1 | jq -r '[.[0].children[] | select(.state == "INSTALLED") | .spi_in] | join(",")')
  [ -n "$ins" ] && [ "${ins#*,}" = "$ins" ] && [ "$ins" != "${child%/*}" ]
}
wait_until 20 rekey_done || fail "client CHILD rekey did not complete after the restart"
client_log_has 1 "retransmit [0-9] of request with message ID" || fail "the client never retransmitted (answer not lost?)"
resent=$(gw_stat retrans_rsp_sent)
metric sessmgr_kill_cached_answers_resent "$resent"
[ "$resent" -ge 1 ] 2>/dev/null || fail "the restored sessmgr did not answer from its response cache (retrans_rsp_sent = $resent)"
expect "no second CHILD SA created for the retransmission" "$(gw_stat child_sa_established)" 0
new_child=$(client_field 1 '[.children[] | select(.state == "INSTALLED")][0] | "\(.spi_in)/\(.spi_out)"')
[ "$new_child" != "$child" ] || fail "the client's CHILD SA was not rekeyed"
one_child() { [ "$(gw_child_count)" = 1 ]; }
wait_until 10 one_child || fail "the old CHILD SA was not deleted on the gateway"
check_agreement 1 after-kill2
ping_ok 1 5

# ---- MOBIKE still works on the restored SA
ping_bg 1 60 0.1
sleep 1
client_move 1 1 2
a2=$(client_addr 1 2)
peer_a2() { gw_peer_is "$a2"; }
wait_until 5 peer_a2 || fail "gateway's peer address did not become $a2 after the restart"
ping_wait
metric sessmgr_kill_move_pings_lost "$(ping_loss "$PING_OUT")"
expect "client IKE SPIs at the end" "$(client_field 1 '"\(.spi_i)/\(.spi_r)"')" "$ike"
check_agreement 1 after-move
ping_ok 1 5
metric sessmgr_ckpt_commits "$(gw_stat ckpt_commits)"
metric sessmgr_ckpt_commit_us "$(gw_stat ckpt_commit_us)"
