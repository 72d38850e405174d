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
if [ -z "${IKEGW_IN_NETNS:-}" ]; then
  exec env IKEGW_IN_NETNS=1 unshare --net "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/ikegw-syncbench.XXXXXX)
gwpid=
trap '[ -n "$gwpid" ] && kill $gwpid 2>/dev/null; rm -rf "$work"' EXIT

one() { # policy -> prints wall ms of the setup of n clients
  local pol=$1 d=$work/run-$pol
  rm -rf "$d"; mkdir -p "$d"
  cat >"$work/gw.conf" <<CONF
config
  sessmgr workers 2
  state-directory $d
  checkpoint sync every $pol ms
  logging level error
  context ipsec
    bind address 127.0.0.1
    ip pool pool1 10.80.0.0/16
    crypto template tmpl1 ikev2-dynamic
      ikev2-ikesa cookie-threshold 100000
      ikev2-ikesa half-open-per-peer 0
      authentication local pre-shared-key key "sync-bench-psk-01"
      ip address pool name pool1
    #exit
end
CONF
  "$bin/ikegw" -c "$work/gw.conf" >"$work/gw.log" 2>&1 &
  gwpid=$!
  for _ in $(seq 100); do
    [ -S "$d/ctl-sessmgr-1.sock" ] && [ -S "$d/ipsec.sock" ] && break
    sleep 0.1
  done
  sleep 0.3
  local t0 t1
  t0=$(date +%s%N)
  "$bin/ikeload" -n "$n" --gw 127.0.0.1 --psk sync-bench-psk-01 --timeout 120000 \
    >"$work/load.out" 2>&1 || { echo "ikeload failed (policy $pol):" >&2; tail -5 "$work/load.out" >&2; }
  t1=$(date +%s%N)
  kill "$gwpid"; wait "$gwpid" 2>/dev/null || true; gwpid=
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
