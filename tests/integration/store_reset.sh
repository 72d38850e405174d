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
. "$(dirname "$0")/gw_lib.sh"
gwl_netns "$0" "$@"
gwl_work store
export GWL_WORKERS=1 GWL_PSK=store-test-psk-01 GWL_POOL=10.78.0.0/24 GWL_LOG=info
export GWL_GLOBAL="  datapath userspace
  checkpoint sync every 50 ms"

start_gw() { # state directory of the case
  GWL_STATE=$1 gwl_conf
  GWL_STATE=$1 gwl_start
}

counter() { # state name: summed over the sessmgrs (gwctl) or from ipsecmgr (--query)
  if [ "$2" = seq_store_reset ]; then
    "$bin/ipsecmgr" --query "ipc://$1/ctl-ipsecmgr.sock" seq_store_reset | awk '{print $2}'
  else
    "$bin/gwctl" --run "$1" --json show crypto statistics ikev2 >"$work/stats.json"
    gwl_sum "$work/stats.json" "$2"
  fi
}

check() { # state file counter
  local d=$1 f=$2 c=$3
  for _ in $(seq 100); do # slow machines (sanitizers, parallel tests)
    ls "$d/$f".bad-* >/dev/null 2>&1 && break
    sleep 0.1
  done
  ls "$d/$f".bad-* >/dev/null 2>&1 || fail "$f was not moved aside"
  [ "$(grep -c " ERR .*$f.*moved to" "$work/gw.log")" = 1 ] || fail "not one ERROR line naming $f"
  [ "$(counter "$d" "$c")" = 1 ] || fail "$c is not 1"
  if grep -q "restarting\|exited" "$work/gw.log"; then fail "a process restarted"; fi
  "$bin/ikeload" -n 3 --gw 127.0.0.1 --psk store-test-psk-01 --timeout 20000 >"$work/load.out" ||
    fail "clients could not connect afterwards"
}

d=$work/ckpt-garbage; mkdir -m 700 "$d"
head -c 65536 /dev/urandom >"$d/ckpt-sessmgr-0.mdb"
start_gw "$d"; check "$d" ckpt-sessmgr-0.mdb ckpt_store_reset; gwl_stop
echo "ok: garbage checkpoint store moved aside"

d=$work/ckpt-died; mkdir -m 700 "$d"
start_gw "$d"; gwl_stop                 # a real store with its data
touch "$d/ckpt-sessmgr-0.mdb.loading"
start_gw "$d"; check "$d" ckpt-sessmgr-0.mdb ckpt_store_reset
[ -e "$d/ckpt-sessmgr-0.mdb.loading" ] && fail "restore marker left behind"
gwl_stop
echo "ok: checkpoint store of an unfinished restore moved aside"

d=$work/seq-garbage; mkdir -m 700 "$d"
head -c 65536 /dev/urandom >"$d/ipsecmgr-seq.mdb"
start_gw "$d"; check "$d" ipsecmgr-seq.mdb seq_store_reset; gwl_stop
echo "ok: garbage sequence-number store moved aside"
echo "PASS: unreadable stores are moved aside, the gateway starts and serves"
