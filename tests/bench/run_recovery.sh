#!/usr/bin/env bash
# Benchmark: kill-and-recover at scale (issue 8, "kill at scale"). N clients
# established by ikeload against the real processes (2 sessmgrs, ipsecmgr with
# the userspace datapath, Release build) in a network namespace; then, one
# after the other:
#   sessmgr 0 SIGKILLed  -> time until gwctl lists all N IKE SAs again
#                           (its slot restored from the checkpoint store);
#   ipsecmgr SIGKILLed   -> time until the restarted ipsecmgr accepted the
#                           replay of every CHILD SA (2 SAs each: sa_add = 2N);
#   demux SIGKILLed      -> the IKE SAs afterwards, SPI by SPI, equal those before.
# Prints one line per kind. Not a test (figures, no pass/fail on time).
#
# usage: sudo tests/bench/run_recovery.sh [BUILD_BIN_DIR] [CLIENTS]
set -euo pipefail
bin=$(realpath "${1:-build-rel/bin}")
n=${2:-10000}
. "$(dirname "$0")/../integration/gw_lib.sh"
gwl_netns "$0" "$@"
gwl_work recovery
ms() { echo $(( $(date +%s%N) / 1000000 )); }
gwctl() { "$bin/gwctl" --run "$work/run" "$@"; }
sa_list() { gwctl --json show crypto ikev2-ikesa security-associations 2>/dev/null |
  python3 -c "import json,sys; print('\n'.join(sorted(s['spi_r'] for s in json.load(sys.stdin))))"; }
sa_count() { sa_list | grep -c . || true; }
# IKE SAs the sessmgrs hold (their counters: cheap enough to poll every 20 ms)
sa_current() { gwctl --json show crypto statistics ikev2 >"$work/st.json" 2>/dev/null
  gwl_sum "$work/st.json" ike_sa_current; }
ipsec_adds() { "$bin/ipsecmgr" --query "ipc://$work/run/ctl-ipsecmgr.sock" sa_add 2>/dev/null |
  awk '$1 == "sa_add" {print $2}'; }
pid_of() { pgrep -f -- "$1.*$work/run/running.conf${2:-}" | head -1; }

GWL_PSK=recovery-bench-psk GWL_POOL=10.64.0.0/12 GWL_LOG=error \
  GWL_GLOBAL="  datapath userspace
  datapath max-sas $(( 4 * n + 1024 ))" GWL_TMPL="      ikev2-ikesa cookie-threshold 1000000
      ikev2-ikesa half-open-per-peer 0" gwl_conf
gwl_start
t0=$(ms)
"$bin/ikeload" -n "$n" --gw 127.0.0.1 --psk recovery-bench-psk --keep --timeout 300000 \
  >"$work/load.out" 2>&1 || { tail -5 "$work/load.out"; echo "ikeload failed"; exit 1; }
echo "# $n clients established in $(( $(ms) - t0 )) ms"
[ "$(sa_count)" = "$n" ] || { echo "gateway lists $(sa_count) SAs, want $n"; exit 1; }
sa_list >"$work/before"
rss=$(for p in $(pgrep -f -- "$work/run/running.conf"); do awk '/VmRSS/ {print $2}' /proc/$p/status; done |
  awk '{s += $1} END {print s}')
echo "# gateway RSS (all processes): $rss KiB = $(( rss * 1024 / n )) bytes per IKE SA with one CHILD SA"

# sessmgr 0
p=$(pid_of sessmgr " --slot 0 ")
t0=$(ms); kill -KILL "$p"
sleep 0.05
until [ "$(sa_current)" = "$n" ]; do sleep 0.02; done
t1=$(ms)
[ "$(sa_count)" = "$n" ] || echo "sessmgr: $(sa_count) SAs listed after the restart, want $n"
printf '%-10s SIGKILL -> all %d IKE SAs held again after %5d ms\n' sessmgr "$n" $(( t1 - t0 ))

# ipsecmgr
p=$(pid_of ipsecmgr)
t0=$(ms); kill -KILL "$p"
sleep 0.05
until [ "$(ipsec_adds || echo 0)" -ge "$(( 2 * n ))" ] 2>/dev/null; do sleep 0.02; done
printf '%-10s SIGKILL -> all %d CHILD SAs (%d SAs) reprogrammed after %5d ms\n' ipsecmgr "$n" $(( 2 * n )) $(( $(ms) - t0 ))

# demux
p=$(pgrep -f -- "demux.*$work/run" | head -1)
kill -KILL "$p"; sleep 2
sa_list >"$work/after"
if cmp -s "$work/before" "$work/after"; then
  printf '%-10s SIGKILL -> the %d IKE SAs unchanged, SPI by SPI\n' demux "$n"
else
  echo "demux     SIGKILL -> IKE SAs changed: $(diff "$work/before" "$work/after" | grep -c '^[<>]') differences"
fi
