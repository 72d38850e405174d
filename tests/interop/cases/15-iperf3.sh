#!/bin/bash
# 15-iperf3 — bulk TCP transfer through the tunnel (iperf3, 8 s, client → server host
# behind the gateway), AES-GCM-16-256. Records throughput (Gbit/s), gateway CPU seconds
# (all gateway processes, from /proc/<pid>/stat) and CPU-s per GB; the client charon's
# CPU too. Check: the transfer completes with more than 0 bytes (the figure is recorded,
# not judged here: tests/bench compares gateways).
. "$(dirname "$0")/../lib.sh"
case_init iperf3
topo_setup 1
gw_start psk
client_start 1 psk default aes256gcm16
client_connect 1
bg_start iperf3-server nsx srv iperf3 -s -1 -B "$SRV_ADDR"
srv_listening() { nsx srv ss -ltn | grep -q ":5201"; }
wait_until 5 srv_listening || fail "iperf3 server not listening"
dur=${IPERF_SECONDS:-8}
g0=$(gw_cpu_s); c0=$(proc_cpu_s "$(swan_pid cl1)")
nsx cl1 timeout $((dur + 20)) iperf3 -c "$SRV_ADDR" -t "$dur" -J >"$CASE_DIR/iperf3.json" 2>"$CASE_DIR/iperf3.err" \
  || fail "iperf3 client failed: $(jq -r '.error // empty' "$CASE_DIR/iperf3.json" 2>/dev/null) $(head -c 200 "$CASE_DIR/iperf3.err")"
g1=$(gw_cpu_s); c1=$(proc_cpu_s "$(swan_pid cl1)")
bytes=$(jq '.end.sum_received.bytes' "$CASE_DIR/iperf3.json")
secs=$(jq '.end.sum_received.seconds' "$CASE_DIR/iperf3.json")
[ "${bytes:-0}" -gt 0 ] || fail "iperf3 moved no bytes"
read -r gbps gwcpu gwcores cpu_per_gb clcpu < <(awk -v b="$bytes" -v s="$secs" -v g0="$g0" -v g1="$g1" -v c0="$c0" -v c1="$c1" \
  'BEGIN { printf "%.3f %.2f %.2f %.1f %.2f\n", b*8/s/1e9, g1-g0, (g1-g0)/s, (g1-g0)/(b/1e9), c1-c0 }')
metric iperf3_gbps "$gbps"
metric iperf3_bytes "$bytes"
metric iperf3_gw_cpu_s "$gwcpu"
metric iperf3_gw_cores "$gwcores"
metric iperf3_gw_cpu_s_per_gb "$cpu_per_gb"
metric iperf3_client_charon_cpu_s "$clcpu"
metric iperf3_retransmits "$(jq '.end.sum_sent.retransmits // 0' "$CASE_DIR/iperf3.json")"
