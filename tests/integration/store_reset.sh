#!/usr/bin/env bash
# Integration: an unreadable store is moved aside and the process starts empty,
# saying so (issue 8, "durable checkpoints"). Three cases, each a fresh gateway
# in its own state directory:
#   1. sessmgr slot 0's checkpoint file is garbage;
#   2. slot 0's last restore never finished (marker file left by a process that
#      died while reading a damaged store: it must not crash again in a loop);
#   3. ipsecmgr's sequence-number store is garbage.
# Checks for each: the file was renamed *.bad-*, one ERROR line names it, the
# counter (ckpt_store_reset / seq_store_reset) is 1, the process did not
# restart, and a client can still connect (the gateway works).
#
# Runs in its own network namespace (ipsecmgr opens a TUN device): needs root,
# exits 77 (ctest: skipped) otherwise.
#
# usage: store_reset.sh BUILD_BIN_DIR
set -euo pipefail
bin=$(realpath "$1")
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (network namespace, TUN)"; exit 77
fi
if [ -z "${IKEGW_IN_NETNS:-}" ]; then
  exec env IKEGW_IN_NETNS=1 unshare --net "$0" "$@"
fi
ip link set lo up
work=$(mktemp -d /tmp/ikegw-store.XXXXXX)
gwpid=
stop_gw() {
  if [ -n "$gwpid" ]; then kill "$gwpid" 2>/dev/null; wait "$gwpid" 2>/dev/null || true; fi
  gwpid=
}
cleanup() { stop_gw; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- gateway log:"; tail -30 "$work/$case/gw.log"; exit 1; }

start_gw() { # dir
  local d=$1
  cat >"$d/gw.conf" <<CONF
config
  sessmgr workers 1
  datapath userspace
  state-directory $d/run
  checkpoint sync every 50 ms
  logging level info
  context ipsec
    bind address 127.0.0.1
    ip pool pool1 10.78.0.0/24
    crypto template tmpl1 ikev2-dynamic
      authentication local pre-shared-key key "store-test-psk-01"
      ip address pool name pool1
    #exit
end
CONF
  rm -f "$d"/run/*.sock # a previous run's sockets would end the wait below at once
  "$bin/ikegw" -c "$d/gw.conf" >"$d/gw.log" 2>&1 &
  gwpid=$!
  for _ in $(seq 100); do
    [ -S "$d/run/ctl-sessmgr-0.sock" ] && [ -S "$d/run/ipsec.sock" ] && break
    sleep 0.1
  done
  sleep 0.5
}

counter() { # dir name: summed over the sessmgrs (gwctl) or from ipsecmgr (--query)
  if [ "$2" = seq_store_reset ]; then
    "$bin/ipsecmgr" --query "ipc://$1/run/ctl-ipsecmgr.sock" seq_store_reset | awk '{print $2}'
  else
    "$bin/gwctl" --run "$1/run" --json show crypto statistics ikev2 |
      python3 -c "import json,sys
def t(o,n):
  if isinstance(o,dict): return sum(v if k==n and isinstance(v,int) else t(v,n) for k,v in o.items())
  if isinstance(o,list): return sum(t(v,n) for v in o)
  return 0
print(t(json.load(sys.stdin),'$2'))"
  fi
}

check() { # dir file counter
  local d=$1 f=$2 c=$3
  for _ in $(seq 100); do # slow machines (sanitizers, parallel tests)
    ls "$d/run/$f".bad-* >/dev/null 2>&1 && break
    sleep 0.1
  done
  ls "$d/run/$f".bad-* >/dev/null 2>&1 || fail "$f was not moved aside"
  [ "$(grep -c " ERR .*$f.*moved to" "$d/gw.log")" = 1 ] || fail "not one ERROR line naming $f"
  [ "$(counter "$d" "$c")" = 1 ] || fail "$c is not 1"
  if grep -q "restarting\|exited" "$d/gw.log"; then fail "a process restarted"; fi
  "$bin/ikeload" -n 3 --gw 127.0.0.1 --psk store-test-psk-01 --timeout 20000 >"$d/load.out" ||
    fail "clients could not connect afterwards"
}

case=ckpt-garbage; d=$work/$case; mkdir -p "$d/run"; chmod 700 "$d/run"
head -c 65536 /dev/urandom >"$d/run/ckpt-sessmgr-0.mdb"
start_gw "$d"; check "$d" ckpt-sessmgr-0.mdb ckpt_store_reset; stop_gw
echo "ok: garbage checkpoint store moved aside"

case=ckpt-died; d=$work/$case; mkdir -p "$d/run"; chmod 700 "$d/run"
start_gw "$d"; stop_gw                 # a real store with its data
touch "$d/run/ckpt-sessmgr-0.mdb.loading"
start_gw "$d"; check "$d" ckpt-sessmgr-0.mdb ckpt_store_reset
[ -e "$d/run/ckpt-sessmgr-0.mdb.loading" ] && fail "restore marker left behind"
stop_gw
echo "ok: checkpoint store of an unfinished restore moved aside"

case=seq-garbage; d=$work/$case; mkdir -p "$d/run"; chmod 700 "$d/run"
head -c 65536 /dev/urandom >"$d/run/ipsecmgr-seq.mdb"
start_gw "$d"; check "$d" ipsecmgr-seq.mdb seq_store_reset; stop_gw
echo "ok: garbage sequence-number store moved aside"
echo "PASS: unreadable stores are moved aside, the gateway starts and serves"
