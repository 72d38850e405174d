#!/usr/bin/env bash
# ikeload_strongswan.sh - ikeload is a correct client: N simulated clients
# (default 200) connect (IKE_SA_INIT + IKE_AUTH, PSK, CP, one CHILD SA), move
# (MOBIKE UPDATE_SA_ADDRESSES from a new address), rekey the IKE SA and the
# CHILD SA and disconnect, first against Debian strongSwan's charon as the
# gateway, then against ours (ikegw: demux, ipsecmgr, 2 sessmgrs), each on
# loopback inside a network namespace of its own. Same suite on both sides:
# AES-GCM-256, PRF-HMAC-SHA2-256, ECP-256 (ESP AES-GCM-256), same PSK, same
# pool. charon runs with kernel-libipsec (its TUN lives in the namespace), in
# a private mount namespace whose /run is a directory of ours (Debian's charon
# has a fixed pid file there), as tests/interop/lib.sh does.
#
# Asserts: ikeload's exit status 0 (every client completed every step) and,
# from its JSON, every step (established, moved, ...) = N for both gateways;
# charon's own count of established IKE SAs (swanctl --list-sas) reaches N
# while the clients wait after connecting. charon's cookie threshold (10
# half-open SAs) makes clients take the COOKIE round (init-retries).
#
# usage: ikeload_strongswan.sh BUILD_BIN_DIR [CLIENTS]
# env:   IKELOAD_ARGS: more ikeload options for both runs (e.g. "--ke-group 31": the
#        first KE is X25519; charon here takes only ECP-256 -> an INVALID_KE_PAYLOAD round)
# Exit: 0 pass, 77 skip (not root, no charon/swanctl), 1 fail.
set -euo pipefail
bin=$(realpath "$1")
n=${2:-200}
charon=${CHARON:-/usr/lib/ipsec/charon}
psk=load-test-psk
# wait=3: every client holds still after connecting while the gateway's SAs are counted
scenario=connect,wait=3,move,rekey-ike,rekey-child,disconnect
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
{ [ -x "$charon" ] && command -v swanctl >/dev/null; } || { echo "SKIP: no charon/swanctl"; exit 77; }
work=$(mktemp -d /tmp/ikeload-swan.XXXXXX)
ns=ikload-$$
pids=()
cleanup() {
  local rc=$? p
  set +e
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  for p in $(ip netns pids "$ns-sw" 2>/dev/null) $(ip netns pids "$ns-gw" 2>/dev/null); do
    kill -KILL "$p" 2>/dev/null
  done
  ip netns del "$ns-sw" 2>/dev/null
  ip netns del "$ns-gw" 2>/dev/null
  [ "$rc" = 0 ] && rm -rf "$work" || echo "(files kept in $work)"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
now_s() { date +%s.%N; }

netns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

# load NS NAME [COUNT_CMD]: ikeload in NS against the gateway on 127.0.0.1:500/4500;
# checks its JSON. COUNT_CMD (optional) prints the gateway's number of
# established IKE SAs: polled while the clients wait after connecting, it must
# reach N.
load() {
  local t0 rc=0 pid seen=0 c
  t0=$(now_s)
  ip netns exec "$1" "$bin/ikeload" -n "$n" --gw 127.0.0.1 --port 500 --natt-port 4500 \
    --psk "$psk" --scenario "$scenario" --sync --concurrency 50 --duration 90 \
    --progress -1 --json="$work/$2.json" ${IKELOAD_ARGS:-} >"$work/$2.out" 2>&1 &
  pid=$!
  if [ -n "${3:-}" ]; then
    for _ in $(seq 200); do
      c=$($3 2>/dev/null) || true
      [ "${c:-0}" -gt "$seen" ] && seen=$c
      [ "$seen" = "$n" ] && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
  fi
  wait "$pid" || rc=$?
  sed "s/^/  $2: /" "$work/$2.out"
  if [ -n "${3:-}" ]; then
    [ "$seen" = "$n" ] || fail "$2: the gateway listed at most $seen established IKE SAs, want $n"
    echo "  $2: the gateway listed $seen established IKE SAs"
  fi
  python3 - "$work/$2.json" "$n" "$2" <<'PY' || fail "$2: not every client established and moved"
import json, sys
j = json.load(open(sys.argv[1])); n = int(sys.argv[2])
st = j["steps"]
bad = [f"{k} ok {v['ok']}" for k, v in st.items() if v["ok"] != n]
if j["established"] != n or st["move"]["ok"] != n or bad or j["failures"]:
    print(f"  {sys.argv[3]}: established {j['established']}, {bad}, failures {j['failures']}")
    sys.exit(1)
PY
  [ "$rc" = 0 ] || fail "$2: ikeload exit status $rc"
  echo "  $2: $n clients through $scenario in $(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }') s"
}

# --- strongSwan's charon as the gateway ---
netns "$ns-sw"
d=$work/sw
mkdir -p "$d/run" "$d/swanctl"
cat >"$d/strongswan.conf" <<EOF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey sha1 sha2 hmac gcm aes kdf kernel-libipsec kernel-netlink socket-default vici
  port = 500
  port_nat_t = 4500
  install_routes = no
  install_virtual_ip = no
  retransmit_timeout = 2.0
  retransmit_tries = 3
  filelog {
    charon {
      path = $d/charon.log
      time_format = %H:%M:%S
      default = 1
    }
  }
  syslog {
    daemon { default = -1 }
    auth { default = -1 }
  }
  plugins {
    vici { socket = unix://$d/charon.vici }
    kernel-libipsec { load = yes }
    socket-default { use_ipv6 = no }
  }
}
swanctl {
  load = pem pkcs1 x509 pubkey random nonce openssl
  socket = unix://$d/charon.vici
}
EOF
cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
  rw {
    version = 2
    local_addrs = 127.0.0.1
    pools = pool4
    mobike = yes
    proposals = aes256gcm16-prfsha256-ecp256
    unique = never
    rekey_time = 0s
    local {
      auth = psk
      id = gw.ikeload.test
    }
    remote {
      auth = psk
    }
    children {
      rw {
        local_ts = 0.0.0.0/0
        esp_proposals = aes256gcm16
        rekey_time = 0s
      }
    }
  }
}
pools {
  pool4 {
    addrs = 10.64.0.0/16
  }
}
secrets {
  ike-any {
    secret = "$psk"
  }
}
EOF
swan() {
  SWANCTL_DIR=$d/swanctl STRONGSWAN_CONF=$d/strongswan.conf timeout 30 swanctl "$@" \
    --uri "unix://$d/charon.vici"
}
# Through a symlink whose name has no "charon" in it: a `pkill charon` of
# someone else on a shared machine leaves this one alone.
ln -sf "$charon" "$work/ikload-swgw"
ip netns exec "$ns-sw" unshare --mount --propagation private \
  sh -c 'mount --bind "$1" /run && exec env STRONGSWAN_CONF="$2" SWANCTL_DIR="$3" "$4"' \
  sh "$d/run" "$d/strongswan.conf" "$d/swanctl" "$work/ikload-swgw" >"$d/charon.out" 2>&1 &
pids+=($!)
disown $!  # no "Killed" notice when the cleanup has to SIGKILL it
for _ in $(seq 100); do swan --stats >/dev/null 2>&1 && break; sleep 0.1; done
swan --stats >/dev/null 2>&1 || fail "charon did not start (see $d/charon.log)"
swan --load-all --file "$d/swanctl/swanctl.conf" >"$d/swanctl.out" 2>&1 || fail "swanctl --load-all"
swan_count() { swan --list-sas --ike rw | grep -c ESTABLISHED || true; }
load "$ns-sw" strongswan swan_count

# --- our gateway ---
netns "$ns-gw"
g=$work/gw
mkdir -p "$g/bin"
cat >"$g/gw.conf" <<CONF
config
  sessmgr workers 2
  state-directory $g/run
  logging level warning
  ike udp-port 500
  ike nat-t-udp-port 4500
  context ipsec
    bind address 127.0.0.1
    ip pool pool1 10.64.0.0/16
    crypto template tmpl1 ikev2-dynamic
      ikev2-ikesa mobike
      authentication local pre-shared-key key "$psk"
      ip address pool name pool1
    #exit
end
CONF
for p in ikegw demux sessmgr ipsecmgr; do ln -sf "$bin/$p" "$g/bin/$p"; done
ip netns exec "$ns-gw" "$g/bin/ikegw" -c "$g/gw.conf" --bin "$g/bin" >"$g/gw.log" 2>&1 &
pids+=($!)
disown $!
for _ in $(seq 100); do
  [ -S "$g/run/ctl-sessmgr-0.sock" ] && [ -S "$g/run/ctl-sessmgr-1.sock" ] && break
  sleep 0.1
done
sleep 0.5
load "$ns-gw" ikegw
echo "PASS: $n clients established, moved, rekeyed and disconnected against strongSwan and ikegw"
