#!/usr/bin/env bash
# Benchmark: what the checkpoint durability policy costs in setup rate.
# For each policy - "checkpoint sync every 0 ms" (fsync at every commit),
# "every 100 ms" (the default: fsync on a worker thread), "every 60000 ms"
# (practically never during the run: durable against a killed process only) -
# a fresh gateway (2 sessmgrs, ipsecmgr, Release build) on loopback in its own
# network namespace and ikeload establishing N clients; wall time from ikeload's
# start to its end. Runs are interleaved (policy A, B, C, A, B, C, ...); prints
# the median per policy and the ratio to "every 60000 ms". Not a test.
#
# usage: sudo tests/bench/run_ckpt_sync.sh [BUILD_BIN_DIR] [CLIENTS] [RUNS]
set -euo pipefail
bin=$(realpath "${1:-build-rel/bin}")
n=${2:-2000}
runs=${3:-3}
. "$(dirname "$0")/../integration/gw_lib.sh"
gwl_netns "$0" "$@"
gwl_work syncbench
export GWL_PSK=sync-bench-psk-01 GWL_POOL=10.80.0.0/16 GWL_LOG=error
export GWL_TMPL="      ikev2-ikesa cookie-threshold 100000
      ikev2-ikesa half-open-per-peer 0"

one() { # policy -> prints wall ms of the setup of n clients
  local pol=$1
  export GWL_STATE=$work/run-$pol
  rm -rf "$GWL_STATE"; mkdir -m 700 "$GWL_STATE"
  GWL_GLOBAL="  checkpoint sync every $pol ms" gwl_conf
  gwl_start
  local t0 t1
  t0=$(date +%s%N)
  "$bin/ikeload" -n "$n" --gw 127.0.0.1 --psk sync-bench-psk-01 --timeout 120000 \
    >"$work/load.out" 2>&1 || { echo "ikeload failed (policy $pol):" >&2; tail -5 "$work/load.out" >&2; }
  t1=$(date +%s%N)
  gwl_stop
  echo $(( (t1 - t0) / 1000000 ))
}

declare -A res
for r in $(seq "$runs"); do
  for pol in 0 100 60000; do
    res[$pol]="${res[$pol]:-} $(one $pol)"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${res[60000]}" | median)
printf '%-28s %12s %14s %10s\n' "policy" "median ms" "setups/s" "vs 60000"
for pol in 0 100 60000; do
  m=$(echo "${res[$pol]}" | median)
  printf '%-28s %12s %14s %10s\n' "checkpoint sync every $pol ms" "$m" \
    "$(awk -v n="$n" -v m="$m" 'BEGIN { printf "%.0f", n * 1000 / m }')" \
    "$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
done
echo "($n clients, $runs interleaved runs per policy, wall time of ikeload incl. its own CPU)"
