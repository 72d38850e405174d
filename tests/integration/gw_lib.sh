# tests/integration/gw_lib.sh - sourced by the integration tests and benches that
# run the real gateway processes (ikegw -> demux, sessmgrs, [ipsecmgr]) on
# loopback. Sets: work (a fresh directory), gwpid; uses: bin (BUILD_BIN_DIR).
#
#   gwl_netns "$0" "$@"      root only (exit 77 = ctest skip), re-run in a private
#                            network namespace with lo up (ipsecmgr's TUN, ports)
#   gwl_work NAME            work=$(mktemp -d /tmp/ikegw-NAME.XXXXXX), cleaned up at
#                            exit (KEEP=1 keeps it), gateway stopped
#   gwl_conf                 write $work/gw.conf from GWL_* (defaults below)
#   gwl_start [BINDIR]       start ikegw (BINDIR: where its children are found) on
#                            $work/gw.conf and wait until its control sockets exist
#   gwl_stop                 stop it
#   gwl_sum FILE NAME        sum of every integer field NAME in a gwctl --json file
#   fail MSG                 print MSG and the gateway log's tail, exit 1

gwl_netns() {
  local self=$1; shift
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root (network namespace, TUN)"; exit 77
  fi
  if [ -z "${IKEGW_IN_NETNS:-}" ]; then
    exec env IKEGW_IN_NETNS=1 unshare --net "$self" "$@"
  fi
  ip link set lo up
}

gwpid=
gwl_stop() {
  if [ -n "$gwpid" ]; then kill "$gwpid" 2>/dev/null; wait "$gwpid" 2>/dev/null || true; fi
  gwpid=
}

gwl_work() {
  work=$(mktemp -d "/tmp/ikegw-$1.XXXXXX")
  trap 'gwl_stop; if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi' EXIT
}

fail() { echo "FAIL: $*"; echo "--- gateway log:"; tail -30 "$work/gw.log"; exit 1; }

# GWL_WORKERS (2), GWL_STATE ($work/run), GWL_GLOBAL (extra global lines),
# GWL_PORT (500; the NAT-T port is GWL_PORT + 1, or 4500 with 500), GWL_POOL
# (10.77.0.0/16), GWL_PSK, GWL_TMPL (extra template lines), GWL_LOG (warning).
gwl_conf() {
  local port=${GWL_PORT:-500} natt
  natt=$([ "$port" = 500 ] && echo 4500 || echo $((port + 1)))
  cat >"$work/gw.conf" <<CONF
config
  sessmgr workers ${GWL_WORKERS:-2}
  state-directory ${GWL_STATE:-$work/run}
  logging level ${GWL_LOG:-warning}
  ike udp-port $port
  ike nat-t-udp-port $natt
${GWL_GLOBAL:-}
  context ipsec
    bind address 127.0.0.1
    ip pool pool1 ${GWL_POOL:-10.77.0.0/16}
    crypto template tmpl1 ikev2-dynamic
      authentication local pre-shared-key key "${GWL_PSK:-gw-lib-test-psk-01}"
      ip address pool name pool1
${GWL_TMPL:-}
    #exit
end
CONF
}

gwl_start() {
  local dir=${1:-$bin} state=${GWL_STATE:-$work/run} last=$(( ${GWL_WORKERS:-2} - 1 ))
  rm -f "$state"/*.sock # a previous run's sockets would end the wait at once
  "$dir/ikegw" -c "$work/gw.conf" >"$work/gw.log" 2>&1 &
  gwpid=$!
  for _ in $(seq 100); do
    [ -S "$state/ctl-sessmgr-$last.sock" ] && [ -S "$state/ctl-ikegw.sock" ] &&
      { [ ! -x "$dir/ipsecmgr" ] || [ -S "$state/ipsec.sock" ]; } && break
    sleep 0.1
  done
  sleep 0.3
}

gwl_sum() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def total(o, name):
    if isinstance(o, dict):
        return sum(v if k == name and isinstance(v, int) else total(v, name) for k, v in o.items())
    if isinstance(o, list):
        return sum(total(v, name) for v in o)
    return 0
print(total(json.load(open(sys.argv[1])), sys.argv[2]))
PY
}
