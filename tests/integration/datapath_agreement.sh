#!/usr/bin/env bash
# Integration: nothing is lost between processes when pipes are full (issue 8,
# "no silent loss"). The sessmgrs run with their ZMQ high-water marks at 2
# messages (IKEGW_IPC_HWM=2, set by a wrapper the launcher starts), so each
# burst of answers to demux and of SaAdd to ipsecmgr meets a full pipe at once. ikeload establishes N clients; then every
# CHILD SA sessmgr reports must be held by ipsecmgr (gwctl asks ipsecmgr for
# each one: "in_datapath"), and sessmgr's counters must show that messages were
# held back (ipc_tx_deferred > 0) and none lost (ipc_tx_lost = 0).
#
# Runs in its own network namespace (ipsecmgr opens a TUN device): needs root,
# exits 77 (ctest: skipped) otherwise.
#
# usage: ipc_backpressure.sh BUILD_BIN_DIR [CLIENTS]
set -euo pipefail
bin=$(realpath "$1")
n=${2:-300}
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (network namespace, TUN)"; exit 77
fi
if [ -z "${IKEGW_IN_NETNS:-}" ]; then
  exec env IKEGW_IN_NETNS=1 unshare --net "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/ikegw-hwm.XXXXXX)
gwpid=
cleanup() {
  [ -n "$gwpid" ] && kill "$gwpid" 2>/dev/null && wait "$gwpid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- gateway log:"; tail -30 "$work/gw.log"; exit 1; }

cat >"$work/gw.conf" <<CONF
config
  sessmgr workers 2
  datapath userspace
  state-directory $work/run
  logging level warning
  ike udp-port 500
  ike nat-t-udp-port 4500
  context ipsec
    bind address 127.0.0.1
    ip pool pool1 10.77.0.0/16
    crypto template tmpl1 ikev2-dynamic
      authentication local pre-shared-key key "hwm-test-psk-0123"
      ip address pool name pool1
    #exit
end
CONF
# The launcher starts the programs beside its own executable (/proc/self/exe):
# a copy of it, real demux and ipsecmgr, and sessmgr behind the wrapper.
mkdir -p "$work/bin"
cp "$bin/ikegw" "$work/bin/ikegw"
for p in demux ipsecmgr; do ln -s "$bin/$p" "$work/bin/$p"; done
printf '#!/bin/sh\nIKEGW_IPC_HWM=%s exec %s "$@"\n' "${HWM:-2}" "$bin/sessmgr" >"$work/bin/sessmgr"
chmod +x "$work/bin/sessmgr"
"$work/bin/ikegw" -c "$work/gw.conf" >"$work/gw.log" 2>&1 &
gwpid=$!
for _ in $(seq 100); do
  [ -S "$work/run/ctl-sessmgr-1.sock" ] && [ -S "$work/run/ctl-sessmgr-0.sock" ] &&
    [ -S "$work/run/ipsec.sock" ] && break
  sleep 0.1
done
sleep 0.5
"$bin/ikeload" -n "$n" --gw 127.0.0.1 --port 500 --natt-port 4500 --psk hwm-test-psk-0123 \
  --keep --timeout 60000 >"$work/load.out" || { cat "$work/load.out"; fail "ikeload reported failures"; }
"$bin/gwctl" --run "$work/run" --json show crypto ikev2-ikesa security-associations \
  >"$work/sas.json" || fail "gwctl show SAs"
"$bin/gwctl" --run "$work/run" --json show crypto statistics ikev2 >"$work/stats.json" ||
  fail "gwctl show stats"
python3 - "$work/sas.json" "$work/stats.json" "$n" <<'PY' || fail "checks above"
import json, sys
sas = json.load(open(sys.argv[1]))
stats = json.load(open(sys.argv[2]))
n = int(sys.argv[3])
bad = []
if len(sas) != n:
    bad.append(f"{len(sas)} SAs reported, want {n}")
children = [c for sa in sas for c in sa.get("child_sas", sa.get("children", []))]
if len(children) < n:
    bad.append(f"{len(children)} CHILD SAs reported, want {n}")
missing = [c["spi_in"] for c in children if c.get("in_datapath") is not True]
if missing:
    bad.append(f"{len(missing)} CHILD SAs not held by ipsecmgr, e.g. {missing[:5]}")
def total(obj, name):
    t = 0
    if isinstance(obj, dict):
        for k, v in obj.items():
            t += v if k == name and isinstance(v, int) else total(v, name)
    elif isinstance(obj, list):
        t += sum(total(v, name) for v in obj)
    return t
deferred, lost = total(stats, "ipc_tx_deferred"), total(stats, "ipc_tx_lost")
if deferred == 0:
    bad.append("ipc_tx_deferred = 0: the pipes never filled, the test proves nothing")
if lost != 0:
    bad.append(f"ipc_tx_lost = {lost}")
for b in bad:
    print("  " + b)
if not bad:
    print(f"{len(children)} CHILD SAs, all in ipsecmgr; messages held back and sent later: {deferred}")
sys.exit(1 if bad else 0)
PY
echo "PASS: $n clients with the pipes full: every CHILD SA reached ipsecmgr"
