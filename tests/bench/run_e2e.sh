#!/bin/bash
# tests/bench/run_e2e.sh — end-to-end datapath benchmark (not a test): iperf3 (TCP, client ->
# server host behind the gateway) through the tunnel from a strongSwan client (kernel-libipsec)
# once with our gateway (ikegw, userspace datapath) and once with strongSwan's charon
# (kernel-libipsec) as the gateway: same client config, same ESP suite, same run. Prints
# throughput and gateway CPU seconds per GB side by side with the ratio, and our per-process
# split (demux / ipsecmgr / sessmgr).
#
#   sudo tests/bench/run_e2e.sh [-t SECONDS] [-e ESP_PROPOSAL] [-r REPEATS] [-P STREAMS]
#
# Topology, namespaces and charon handling: tests/interop/lib.sh. Gateway CPU = sum of
# utime+stime (/proc/PID/stat) of every gateway process (ikegw: demux, ipsecmgr, sessmgrs,
# launcher; strongSwan: charon) before/after the transfer. Env: IKEGW_BIN / GWCTL_BIN (build to
# measure; use an optimised build, e.g. -DCMAKE_BUILD_TYPE=RelWithDebInfo), IOP_RUN_ROOT.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
IOP=$HERE/../interop

if [ "${1:-}" = --one ]; then
  # ---- one gateway: run inside a fresh bash with GW set; prints one "result" line.
  GW=$2 DUR=$3 ESP=$4 STREAMS=$5 OUT=$6
  export GW
  . "$IOP/lib.sh"
  case_init "e2e-$GW"
  topo_setup 1
  gw_start psk
  client_start 1 psk default "$ESP"
  client_connect 1
  bg_start iperf3-server nsx srv iperf3 -s -1 -B "$SRV_ADDR"
  srv_listening() { nsx srv ss -ltn | grep -q ":5201"; }
  wait_until 5 srv_listening || fail "iperf3 server not listening"
  declare -A c0
  for p in $(gw_pids); do c0[$p]=$(proc_cpu_s "$p"); done
  nsx cl1 timeout $((DUR + 30)) iperf3 -c "$SRV_ADDR" -t "$DUR" -P "$STREAMS" -J >"$CASE_DIR/iperf3.json" \
    2>"$CASE_DIR/iperf3.err" || fail "iperf3 failed: $(head -c 200 "$CASE_DIR/iperf3.err")"
  if [ "$GW" = ikegw ]; then # datapath counters: how many ESP packets per TUN write (GRO)
    "$(dirname "$IKEGW_BIN")/ipsecmgr" --query "ipc://$(gw_state_dir)/ctl-ipsecmgr.sock" \
      >"$CASE_DIR/ipsecmgr-counters.txt" 2>&1 || true
  fi
  total=0 split=""
  for p in $(gw_pids); do
    [ -n "${c0[$p]:-}" ] || continue
    d=$(awk -v a="${c0[$p]}" -v b="$(proc_cpu_s "$p")" 'BEGIN { printf "%.2f", b - a }')
    total=$(awk -v t="$total" -v d="$d" 'BEGIN { printf "%.2f", t + d }')
    n=$(tr -d '\n' <"/proc/$p/comm")
    split="$split $n=$d"
  done
  if [ -s "$CASE_DIR/ipsecmgr-counters.txt" ]; then
    split="$split $(awk '{ v[$1] = $2 } END { f = v["tun_gro_frames"]; t = v["tun_rx"];
      printf "rx_direct=%d/%d tun_writes=%d tun_reads=%d", v["esp_rx_direct"], v["esp_rx"], f, t }' \
      "$CASE_DIR/ipsecmgr-counters.txt")"
  fi
  bytes=$(jq '.end.sum_received.bytes' "$CASE_DIR/iperf3.json")
  secs=$(jq '.end.sum_received.seconds' "$CASE_DIR/iperf3.json")
  [ "${bytes:-0}" -gt 0 ] || fail "iperf3 moved no bytes"
  awk -v g="$GW" -v b="$bytes" -v s="$secs" -v c="$total" -v sp="$split" \
    'BEGIN { printf "result %s %.3f %.2f %.2f %.1f%s\n", g, b*8/s/1e9, c, c/s, c/(b/1e9), sp }' >>"$OUT"
  exit 0
fi

DUR=10 ESP=aes256gcm16 REPEATS=1 STREAMS=1
while getopts "t:e:r:P:" o; do
  case $o in
    t) DUR=$OPTARG ;; e) ESP=$OPTARG ;; r) REPEATS=$OPTARG ;; P) STREAMS=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-e ESP_PROPOSAL] [-r REPEATS] [-P STREAMS]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run_e2e.sh: must run as root (namespaces)" >&2; exit 2; }
export IOP_RUN_DIR=${IOP_RUN_ROOT:-/tmp/ikgw-bench}/e2e-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$IOP_RUN_DIR"
res=$IOP_RUN_DIR/results.txt
: >"$res"
for r in $(seq "$REPEATS"); do
  for gw in ikegw strongswan; do   # interleaved: machine load drifts hit both alike
    timeout $((DUR + 120)) bash "$0" --one "$gw" "$DUR" "$ESP" "$STREAMS" "$res" \
      >"$IOP_RUN_DIR/$gw-$r.log" 2>&1 \
      || echo "run_e2e.sh: $gw run $r failed: $(cat "$IOP_RUN_DIR"/e2e-$gw/reason 2>/dev/null)" >&2
  done
done

echo "# iperf3 TCP through the tunnel, ESP $ESP, ${DUR}s x $REPEATS, $STREAMS stream(s); client: strongSwan kernel-libipsec"
echo "# gateway CPU = utime+stime of all gateway processes; logs in $IOP_RUN_DIR"
printf "%-11s %10s %10s %10s %12s  %s\n" gateway Gbit/s CPU-s cores CPU-s/GB "per process (CPU-s)"
awk '$1 == "result" { printf "%-11s %10s %10s %10s %12s ", $2, $3, $4, $5, $6;
       for (i = 7; i <= NF; i++) printf " %s", $i; printf "\n" }' "$res"
awk '$1 == "result" { n[$2]++; g[$2] += $3; c[$2] += $6 }
     END { if (n["ikegw"] && n["strongswan"]) {
             gi = g["ikegw"]/n["ikegw"]; gs = g["strongswan"]/n["strongswan"]
             ci = c["ikegw"]/n["ikegw"]; cs = c["strongswan"]/n["strongswan"]
             printf "mean        ikegw %.3f Gbit/s %.1f CPU-s/GB | strongswan %.3f Gbit/s %.1f CPU-s/GB\n", gi, ci, gs, cs
             printf "ratio ikegw/strongswan: throughput %.2f, CPU-s per GB %.2f (goal <= 0.33)\n", gi/gs, ci/cs
           } else print "ratio: n/a (a run failed)" }' "$res"
