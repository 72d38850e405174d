#!/usr/bin/env bash
# Integration: the launcher owns the running config (issue 8, "one owner of
# the running config"). With the real processes (ikegw -> demux + 2 sessmgrs)
# on loopback:
#   1. the children run on STATE/running.conf (0600), not on the file given;
#   2. `gwctl configure` turning MOBIKE on reaches both sessmgrs (ikeload's
#      clients, spread over both slots, can move) and running.conf;
#   3. sessmgr 0 killed (SIGKILL) after the configure comes back with MOBIKE on
#      (new clients on it move too): it loaded the running config;
#   4. a bad line, a setting read only at start, and shrinking a pool in use
#      are refused with the reason, and running.conf is unchanged.
#
# usage: running_config.sh BUILD_BIN_DIR [CLIENTS]
set -euo pipefail
bin=$(realpath "$1")
n=${2:-100}
. "$(dirname "$0")/gw_lib.sh"
gwl_work running
port=$((20000 + RANDOM % 20000))
gwctl() { "$bin/gwctl" --run "$work/run" "$@"; }
load() { # what: ikeload with MOBIKE moves, n clients
  "$bin/ikeload" -n "$n" --gw 127.0.0.1 --port "$port" --natt-port $((port + 1)) \
    --psk running-test-psk-01 --move --keep --timeout 30000 >"$work/load-$1.out" 2>&1
}

GWL_PORT=$port GWL_POOL=10.79.0.0/16 GWL_PSK=running-test-psk-01 gwl_conf
# The launcher starts what is beside its executable: no ipsecmgr here (IKE only).
mkdir -p "$work/bin"
cp "$bin/ikegw" "$work/bin/ikegw"
for p in demux sessmgr; do ln -s "$bin/$p" "$work/bin/$p"; done
gwl_start "$work/bin"

# 1. children on the running config
rc=$work/run/running.conf
[ -f "$rc" ] || fail "no $rc"
[ "$(stat -c %a "$rc")" = 600 ] || fail "$rc mode $(stat -c %a "$rc"), want 600"
# (matched by this gateway's run directory: other gateways may be running)
s0=$(pgrep -f -- "-c $rc --slot 0 " | head -1 || true)
[ -n "$s0" ] || fail "sessmgr 0 not started on $rc: $(pgrep -af "sessmgr.*$work" || true)"

# show configuration hides the pre-shared key unless asked (the file keeps it)
gwctl show configuration >"$work/show.out" || fail "show configuration"
grep -q "running-test-psk-01" "$work/show.out" && fail "show configuration prints the PSK"
gwctl show configuration --secrets | grep -q "running-test-psk-01" || fail "--secrets lacks the PSK"
grep -q "running-test-psk-01" "$rc" || fail "running.conf lost the PSK"
# processes run with umask 077: their sockets are theirs alone
[ "$(stat -c %a "$work/run/ctl-sessmgr-0.sock")" = 700 ] ||
  fail "ctl-sessmgr-0.sock mode $(stat -c %a "$work/run/ctl-sessmgr-0.sock"), want 700"

# 2. MOBIKE off: moves fail; configure it on: every client (both slots) moves
if load before; then fail "clients moved with MOBIKE off"; fi
gwctl configure "context ipsec" "crypto template tmpl1 ikev2-dynamic" "ikev2-ikesa mobike" \
  >"$work/conf.out" 2>&1 || { cat "$work/conf.out"; fail "configure refused"; }
grep -q "ikev2-ikesa mobike" "$rc" || fail "running.conf lacks the change"
load after || { tail -3 "$work/load-after.out"; fail "clients could not move after configure"; }

# 3. sessmgr 0 killed: back on the running config, MOBIKE still on
kill -KILL "$s0"
for _ in $(seq 50); do
  s0b=$(pgrep -f -- "-c $rc --slot 0 " | head -1 || true)
  [ -n "$s0b" ] && [ "$s0b" != "$s0" ] && gwctl show crypto statistics ikev2 >/dev/null 2>&1 &&
    break
  sleep 0.1
done
[ -n "$s0b" ] && [ "$s0b" != "$s0" ] || fail "sessmgr 0 did not come back"
sleep 0.5 # its Hello reaches demux
load restarted || { tail -3 "$work/load-restarted.out"; fail "clients could not move after sessmgr 0 restarted"; }

# 4. refusals leave the running config as it is
sum=$(sha256sum "$rc")
if gwctl configure "context ipsec" "crypto template tmpl1 ikev2-dynamic" "ikev2-ikesa bogus" \
     2>"$work/bad.err"; then fail "a bad line was accepted"; fi
grep -q "gwctl:3:" "$work/bad.err" || fail "no file:line reason: $(cat "$work/bad.err")"
if gwctl configure "ike udp-port 600" 2>"$work/port.err"; then fail "a port change was accepted"; fi
grep -q "read only at start" "$work/port.err" || fail "port refusal: $(cat "$work/port.err")"
if gwctl configure "context ipsec" "ip pool pool1 10.79.0.0/30" 2>"$work/pool.err"; then
  fail "shrinking a pool in use was accepted"
fi
grep -q "outside" "$work/pool.err" || fail "pool refusal: $(cat "$work/pool.err")"
[ "$(sha256sum "$rc")" = "$sum" ] || fail "a refused configure changed running.conf"
# widening is fine, and survives in the file
gwctl configure "context ipsec" "ip pool pool1 10.79.0.0/15" >/dev/null 2>&1 ||
  fail "widening the pool was refused"
grep -q "10.79.0.0/15\|10.78.0.0/15" "$rc" || fail "running.conf lacks the widened pool"
echo "PASS: running config owned by the launcher: applied everywhere, survives a kill, refusals change nothing"
