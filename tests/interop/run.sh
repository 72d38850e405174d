#!/bin/bash
# tests/interop/run.sh — run the interop cases against GW=${GW:-ikegw}.
#
#   sudo GW=strongswan tests/interop/run.sh            # every case, strongSwan as gateway
#   sudo tests/interop/run.sh psk-connect 16           # cases by name or number, ikegw
#
# One line per case: "PASS name", "FAIL name (reason)" or "SKIP name (reason)"; then the
# measured figures; the last line is exactly "N passed, N failed" (", N skipped" if any).
# Exit status 1 if any case failed, 2 if the environment is unusable.
# Env: GW (ikegw|strongswan), IOP_RUN_ROOT (default /tmp/ikgw-interop), CASE_TIMEOUT (s,
# per case, default 150), KEEP=1 (keep every case's logs, not only the failed ones).
set -u
IOP_DIR=$(cd "$(dirname "$0")" && pwd)
export GW=${GW:-ikegw}

if [ "$(id -u)" != 0 ]; then
  echo "run.sh: must be run as root (network namespaces, veth, iptables)" >&2
  exit 2
fi

# command → Debian package
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2 ($1)"); }
need ip iproute2; need iptables iptables; need swanctl strongswan-swanctl; need openssl openssl
need iperf3 iperf3; need ping iputils-ping; need jq jq; need python3 python3; need unshare util-linux
need timeout coreutils; need ss iproute2; need awk gawk; need bc bc; need tshark tshark
[ -x /usr/lib/ipsec/charon ] || missing+=("strongswan-charon (/usr/lib/ipsec/charon)")
[ -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] || missing+=("libcharon-extra-plugins (kernel-libipsec plugin)")
[ -c /dev/net/tun ] || missing+=("/dev/net/tun (kernel TUN support, needed by kernel-libipsec)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: missing: ${missing[*]}" >&2
  echo "run.sh: install with: apt-get install iproute2 iptables strongswan-charon strongswan-swanctl libcharon-extra-plugins openssl iperf3 iputils-ping jq python3" >&2
  exit 2
fi

# Namespaces left by an earlier run that was killed hard (its pid, in the name, is gone).
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^ikgw-[0-9]+-'); do
  pid=${ns#ikgw-}; pid=${pid%%-*}
  kill -0 "$pid" 2>/dev/null && continue
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null && echo "run.sh: removed stale namespace $ns" >&2
done

# case selection: all, or by name / number prefix
cases=()
for f in "$IOP_DIR"/cases/[0-9][0-9]-*.sh; do
  base=$(basename "$f" .sh); name=${base#[0-9][0-9]-}; num=${base%%-*}
  if [ $# -eq 0 ]; then cases+=("$f"); continue; fi
  for a in "$@"; do
    if [ "$a" = "$name" ] || [ "$a" = "$num" ] || [ "$a" = "$base" ]; then cases+=("$f"); fi
  done
done
if [ ${#cases[@]} -eq 0 ]; then echo "run.sh: no case matches: $*" >&2; exit 2; fi

export IOP_RUN_DIR=${IOP_RUN_ROOT:-/tmp/ikgw-interop}/$(date +%Y%m%d-%H%M%S)-$GW-$$
mkdir -p "$IOP_RUN_DIR"
echo "# interop run: GW=$GW, logs: $IOP_RUN_DIR" | tee "$IOP_RUN_DIR/summary.txt"

pass=0 failn=0 skipn=0 t_start=$(date +%s)
for f in "${cases[@]}"; do
  base=$(basename "$f" .sh); name=${base#[0-9][0-9]-}
  t0=$(date +%s)
  timeout --signal=TERM --kill-after=15 "${CASE_TIMEOUT:-150}" bash "$f" </dev/null >"$IOP_RUN_DIR/$name.stdout" 2>&1
  rc=$?
  dt=$(( $(date +%s) - t0 ))
  reason=$(head -n 1 "$IOP_RUN_DIR/$name/reason" 2>/dev/null)
  case $rc in
    0)  line="PASS $name"; pass=$((pass + 1)) ;;
    77) line="SKIP $name (${reason:-no reason given})"; skipn=$((skipn + 1)) ;;
    124|137) line="FAIL $name (timed out after ${CASE_TIMEOUT:-150} s${reason:+: $reason})"; failn=$((failn + 1)) ;;
    *)  line="FAIL $name (${reason:-exit $rc, see $IOP_RUN_DIR/$name.stdout})"; failn=$((failn + 1)) ;;
  esac
  echo "$line" | tee -a "$IOP_RUN_DIR/summary.txt"
  echo "$name ${dt}s rc=$rc" >>"$IOP_RUN_DIR/durations.txt"
  if [ -f "$IOP_RUN_DIR/$name/metrics" ]; then
    sed "s/^/$name /" "$IOP_RUN_DIR/$name/metrics" >>"$IOP_RUN_DIR/metrics.txt"
  fi
  # keep logs of failed cases (and everything with KEEP=1)
  if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
    [ -n "${KEEP:-}" ] || { rm -rf "${IOP_RUN_DIR:?}/$name"; rm -f "$IOP_RUN_DIR/$name.stdout"; }
  fi
done

if [ -f "$IOP_RUN_DIR/metrics.txt" ]; then
  echo "# measured (case metric value):" | tee -a "$IOP_RUN_DIR/summary.txt"
  sed 's/^/#   /' "$IOP_RUN_DIR/metrics.txt" | tee -a "$IOP_RUN_DIR/summary.txt"
fi
echo "# total $(( $(date +%s) - t_start )) s; logs of failed cases in $IOP_RUN_DIR" | tee -a "$IOP_RUN_DIR/summary.txt"
last="$pass passed, $failn failed"
[ "$skipn" -gt 0 ] && last="$last, $skipn skipped"
echo "$last" | tee -a "$IOP_RUN_DIR/summary.txt"
[ "$failn" -eq 0 ]
