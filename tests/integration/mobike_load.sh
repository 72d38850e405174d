#!/usr/bin/env bash
# Integration: ikeload's simulated mobile clients against the real processes
# (ikegw -> demux + 2 sessmgrs + ipsecmgr) on loopback. All clients establish
# across the sessmgrs (first addresses 127.16.0.1 + i), then all move at once
# (MOBIKE UPDATE_SA_ADDRESSES from 127.32.0.1 + i, --sync: a barrier).
# Checks: every client established and moved; every SA is reported by the
# sessmgr whose slot is encoded in its SPI (routing by SPI, not by
# address); each SA applied exactly one update and now has its new address;
# both sessmgrs own SAs; the aggregated counters agree.
#
# usage: mobike_load.sh BUILD_BIN_DIR [CLIENTS]
set -euo pipefail
bin=$1
n=${2:-500}
. "$(dirname "$0")/gw_lib.sh"
gwl_work load
port=$((20000 + RANDOM % 20000))
GWL_PORT=$port GWL_PSK=load-test-psk GWL_TMPL="      ikev2-ikesa mobike" gwl_conf
# ikegw starts the children beside its own executable (/proc/self/exe): a copy
# of it with demux and sessmgr only, no ipsecmgr (this test is about IKE
# routing; the datapath has its own tests).
mkdir -p "$work/bin"
cp "$(realpath "$bin/ikegw")" "$work/bin/ikegw"
for p in demux sessmgr; do ln -s "$(realpath "$bin/$p")" "$work/bin/$p"; done
gwl_start "$work/bin"
sleep 0.5
"$bin/ikeload" -n "$n" --gw 127.0.0.1 --port "$port" --natt-port $((port + 1)) \
  --psk load-test-psk --scenario connect,move --sync --rate 2000 --duration 60 \
  --progress 5 | tee "$work/load.out" ||
  fail "ikeload reported failures"
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
slots = {}
for sa in sas:
    owner = int(sa["spi_r"], 16) >> 48
    if owner != sa["slot"]:
        bad.append(f"SA {sa['spi_r']} reported by slot {sa['slot']}, SPI says {owner}")
    if sa["mobike_updates"] != 1:
        bad.append(f"SA {sa['spi_r']}: {sa['mobike_updates']} updates applied, want 1")
    if not sa["remote_addr"].startswith("127.32."):
        bad.append(f"SA {sa['spi_r']}: peer still at {sa['remote_addr']}")
    slots[sa["slot"]] = slots.get(sa["slot"], 0) + 1
if len(slots) < 2:
    bad.append(f"all SAs on one sessmgr: {slots}")
def counter(obj, name):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == name and isinstance(v, int):
                return v
            r = counter(v, name)
            if r is not None:
                return r
    if isinstance(obj, list):
        for v in obj:
            r = counter(v, name)
            if r is not None:
                return r
    return None
upd = counter(stats, "notify_rcvd_UPDATE_SA_ADDRESSES")
if upd is None or upd < n:
    bad.append(f"UPDATE_SA_ADDRESSES received = {upd}, want >= {n}")
for b in bad[:20]:
    print("  " + b)
print(f"SAs per sessmgr slot: {dict(sorted(slots.items()))}; updates counted: {upd}")
sys.exit(1 if bad else 0)
PY
echo "PASS: $n clients established across both sessmgrs and moved"
