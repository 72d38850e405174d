#!/usr/bin/env bash
# ikeload_scale.sh - measurement, not a CI test: our gateway (ikegw: demux,
# ipsecmgr, 2 sessmgrs) on loopback inside a private network namespace (its
# TUN and ports stay out of the host's way), driven by ikeload with N clients.
# ikeload samples the RSS and CPU of the gateway's processes (--watch-pid) and
# prints its table (and --json if asked); afterwards this prints the gateway's
# own view (gwctl show crypto statistics / ipsecmgr counters) and any error
# lines of its log.
#
# usage: ikeload_scale.sh BIN_DIR N [ikeload args...]
#   e.g. ikeload_scale.sh build-rel/bin 100000 --scenario connect,move,rekey-ike,rekey-child,disconnect --sync --rate 3000
# env:   POOL (default 10.64.0.0/12)   MAX_SAS (config "datapath max-sas"; unset = default)
#        GW_TMPL (extra template lines, e.g. "ikev2-ikesa keepalive-interval 0")
#        WORK (keep the gateway's files there; default: a temp dir, removed)
set -euo pipefail
if [ -z "${IKELOAD_IN_NETNS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "ikeload_scale.sh: needs root (network namespace)" >&2; exit 2; }
  exec env IKELOAD_IN_NETNS=1 unshare -n -- "$0" "$@"
fi
bin=$(realpath "$1")
n=$2
shift 2
ip link set lo up
keep=${WORK:+1}
work=${WORK:-$(mktemp -d /tmp/ikeload-scale.XXXXXX)}
mkdir -p "$work/bin"
port=500
gwpid=
cleanup() {
  [ -n "$gwpid" ] && kill "$gwpid" 2>/dev/null && wait "$gwpid" 2>/dev/null
  [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/gw.conf" <<CONF
config
  sessmgr workers 2
  ${MAX_SAS:+datapath max-sas $MAX_SAS}
  state-directory $work/run
  logging level warning
  ike udp-port $port
  ike nat-t-udp-port 4500
  context ipsec
    bind address 127.0.0.1
    ip pool pool1 ${POOL:-10.64.0.0/12}
    crypto template tmpl1 ikev2-dynamic
      ikev2-ikesa mobike
      ikev2-ikesa cookie-threshold 1000000
      ikev2-ikesa half-open-per-peer 0
      ${GW_TMPL:-}
      authentication local pre-shared-key key "load-test-psk"
      ip address pool name pool1
    #exit
end
CONF
for p in ikegw demux sessmgr ipsecmgr gwctl; do ln -sf "$bin/$p" "$work/bin/$p"; done
"$work/bin/ikegw" -c "$work/gw.conf" --bin "$work/bin" >"$work/gw.log" 2>&1 &
gwpid=$!
for _ in $(seq 100); do
  [ -S "$work/run/ctl-sessmgr-1.sock" ] && [ -S "$work/run/ctl-sessmgr-0.sock" ] &&
    [ -S "$work/run/ctl-ipsecmgr.sock" ] && break
  sleep 0.1
done
sleep 0.5
echo "# gateway: ikegw pid $gwpid, $(nproc) cores, work dir $work"
echo "# ikeload -n $n --port $port --natt-port 4500 --psk load-test-psk --watch-pid $gwpid $*"
rc=0
"$bin/ikeload" -n "$n" --port $port --natt-port 4500 --psk load-test-psk \
  --watch-pid "$gwpid" "$@" || rc=$?
echo "# gateway counters (non-zero failures / drops):"
"$bin/gwctl" --run "$work/run" show crypto statistics ikev2 2>/dev/null |
  grep -iE "fail|drop|refus|error|full|reject|cookie|half|retransmit|resent|dpd" |
  grep -vE "[[:space:]]0$" | head -30 || true
"$bin/ipsecmgr" --query "ipc://$work/run/ctl-ipsecmgr.sock" 2>/dev/null |
  grep -iE "fail|drop|full|refus|err|^sa" | grep -vE "[[:space:]]0$" | head -20 || true
echo "# gateway log (errors, first 10 distinct):"
grep -E "ERROR|WARN" "$work/gw.log" | sed -E 's/^[0-9:.]+ //; s/\[[0-9]+\]//' | sort | uniq -c |
  sort -rn | head -10 || true
exit $rc
