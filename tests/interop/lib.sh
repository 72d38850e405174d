# shellcheck shell=bash
# tests/interop/lib.sh — shared harness for the interop cases (sourced, never run).
#
# Topology (names get a unique per-run prefix P=ikgw-<pid>):
#
#   P-cl1 ─┐ eth0 (192.0.2.11/24 = A1, A2 = 192.0.2.12)
#   P-cl2 ─┤      (clN: 192.0.2.(10N+1))          P-gw              P-srv
#   P-cl3 ─┴──── bridge br0 192.0.2.1/24 ──[gateway]── srv0 198.51.100.1/24 ── 198.51.100.10
#     │                                          │
#     │ eth1 10.99.0.(10N+1)/24                  │ nat0 203.0.113.1/24
#     └──────── P-nat (10.99.0.1 | 203.0.113.2, MASQUERADE) ─┘
#
# The gateway's IKE address is always 192.0.2.1 (GW_ADDR); the NAT namespace reaches it
# through 203.0.113.1. Clients get virtual IPs from 10.10.0.0/24 and reach the server host
# 198.51.100.10 (SRV_ADDR) through the tunnel. IPv6 is off in every namespace.
#
# Every strongSwan charon runs in its namespace inside its own mount namespace with a
# private directory bind-mounted over /run (Debian's charon has a fixed /run/charon.pid),
# a private STRONGSWAN_CONF and a VICI socket in its instance directory; swanctl talks to
# it with --uri from the host (a path-named unix socket is not tied to a netns).
#
# Case protocol: a case script sources this file, calls case_init, builds what it needs,
# and exits 0 (PASS), 77 (SKIP, reason in $CASE_DIR/reason) or anything else (FAIL, reason
# in $CASE_DIR/reason). The EXIT trap tears everything down even after a failure.
# Measured figures go to $CASE_DIR/metrics as "key value" lines (metric()).

IOP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$IOP_DIR/../.." && pwd)
GW=${GW:-ikegw}
GW_ADDR=192.0.2.1
SRV_ADDR=198.51.100.10
SRV_NET=198.51.100.0/24
POOL_NET=10.10.0.0/24
NAT_OUT_ADDR=203.0.113.2
GW_ID=gw.ikegw.test
PSK_DEFAULT="interop-secret-0123456789"
CHARON=${CHARON:-/usr/lib/ipsec/charon}
IKEGW_BIN=${IKEGW_BIN:-$REPO_DIR/build/bin/ikegw}
GWCTL_BIN=${GWCTL_BIN:-$REPO_DIR/build/bin/gwctl}

P=""            # namespace prefix of this case
CASE_DIR=""     # per-case directory: configs, logs, pids
CASE_NAME=""
declare -a IOP_PIDS=()   # background processes to kill on exit
declare -a IOP_NS=()     # namespaces to delete on exit

# ---------------------------------------------------------------- basics

log() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*" >>"$CASE_DIR/case.log"; [ -n "${IOP_VERBOSE:-}" ] && printf '%s\n' "$*" >&2; return 0; }

# fail REASON: record the reason and stop the case (the EXIT trap cleans up). A charon of
# this case that died meanwhile is named: its death is usually the real cause.
fail() {
  local msg=$* f inst
  for f in "$CASE_DIR"/*/charon.pid; do
    [ -f "$f" ] || continue
    inst=$(basename "$(dirname "$f")")
    kill -0 "$(cat "$f")" 2>/dev/null && continue
    msg="$msg [charon $inst is gone: $(grep -h 'SIGTERM\|SIGKILL\|SIGSEGV\|killing ourself' "$CASE_DIR/$inst/charon.log" | tail -n 1 | cut -c1-60)]"
  done
  printf '%s\n' "$msg" >"$CASE_DIR/reason"; log "FAIL: $msg"; exit 1
}

# skip REASON
skip() { printf '%s\n' "$*" >"$CASE_DIR/reason"; log "SKIP: $*"; exit 77; }

# metric KEY VALUE: a measured figure, collected by run.sh.
metric() { printf '%s %s\n' "$1" "$2" >>"$CASE_DIR/metrics"; log "metric $1 = $2"; }

# nsx NS CMD...: run a command in a namespace of this case (NS without prefix: gw, cl1, ...).
nsx() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }

# wait_until TIMEOUT_S CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
  local t=$1; shift
  local end=$(( $(date +%s%N) + ${t%.*} * 1000000000 ))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(date +%s%N)" -ge "$end" ] && return 1
    sleep 0.1
  done
}

# expect DESCRIPTION ACTUAL EXPECTED: compare and fail with both values.
expect() {
  if [ "$2" != "$3" ]; then fail "$1: got '$2', expected '$3'"; fi
  log "ok: $1 = '$2'"
}

now() { date +%s.%N; }

# ---------------------------------------------------------------- case life cycle

# case_init NAME: per-case directory, prefix, traps. Needs IOP_RUN_DIR (run.sh sets it).
case_init() {
  CASE_NAME=$1
  : "${IOP_RUN_DIR:=/tmp/ikgw-interop/manual-$(date +%Y%m%d-%H%M%S)-$$}"
  CASE_DIR=$IOP_RUN_DIR/$CASE_NAME
  rm -rf "$CASE_DIR"; mkdir -p "$CASE_DIR"
  P=ikgw-$$
  trap 'case_cleanup' EXIT
  trap 'fail "interrupted"' INT TERM
  log "case $CASE_NAME, GW=$GW, prefix $P"
  [ "$(id -u)" = 0 ] || fail "must run as root"
  if [ "$GW" = ikegw ]; then
    [ -x "$IKEGW_BIN" ] || fail "ikegw binary missing ($IKEGW_BIN)"
    [ -x "$GWCTL_BIN" ] || fail "gwctl binary missing ($GWCTL_BIN)"
  elif [ "$GW" != strongswan ]; then
    fail "unknown GW=$GW (ikegw or strongswan)"
  fi
}

# kill_pid PID: TERM, wait up to 3 s, then KILL (only processes this case started).
kill_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null; sleep 0.1
}

case_cleanup() {
  local rc=$? pid ns i
  trap - EXIT INT TERM
  set +e
  [ "$GW" = ikegw ] && declare -F gw_collect >/dev/null && gw_collect 2>/dev/null
  for (( i=${#IOP_PIDS[@]}-1; i>=0; i-- )); do kill_pid "${IOP_PIDS[$i]}"; done
  # anything still running inside our namespaces (ping, iperf3 ...)
  for ns in "${IOP_NS[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  for ns in "${IOP_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  log "cleanup done (rc $rc)"
  exit "$rc"
}

# bg_start NAME CMD...: start a background command, log to $CASE_DIR/NAME.out.
bg_start() {
  local name=$1; shift
  "$@" >"$CASE_DIR/$name.out" 2>&1 &
  local pid=$!
  disown "$pid"   # no "Killed" job notices when a case kills it on purpose
  IOP_PIDS+=("$pid")
  echo "$pid" >"$CASE_DIR/$name.pid"
  log "started $name (pid $pid): $*"
}

# ---------------------------------------------------------------- topology

ns_add() {
  local ns=$P-$1
  ip netns add "$ns" || fail "ip netns add $ns"
  IOP_NS+=("$ns")
  ip -n "$ns" link set lo up
  nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
      net.ipv4.conf.all.promote_secondaries=1 net.ipv4.conf.default.promote_secondaries=1 \
      || fail "sysctl in $ns"
}

# link NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up.
link() {
  ip link add "$2" netns "$P-$1" type veth peer name "$4" netns "$P-$3" || fail "veth $1/$2-$3/$4"
  ip -n "$P-$1" link set "$2" up; ip -n "$P-$3" link set "$4" up
}

# client_addr N [SLOT]: client N's direct address; SLOT 1 = A1 (default), 2 = A2, ...
client_addr() { echo "192.0.2.$(( 10 * $1 + ${2:-1} ))"; }
client_nat_addr() { echo "10.99.0.$(( 10 * $1 + ${2:-1} ))"; }

# topo_setup NCLIENTS [nat]: gateway, server, N clients (direct path up with A1),
# optionally the NAT namespace (each client then also has eth1 to it, no address yet).
topo_setup() {
  local n=$1 nat=${2:-} i
  ns_add gw; ns_add srv
  nsx gw sysctl -qw net.ipv4.ip_forward=1
  ip -n "$P-gw" link add br0 type bridge || fail "bridge"
  ip -n "$P-gw" link set br0 up
  ip -n "$P-gw" addr add "$GW_ADDR/24" dev br0
  link gw srv0 srv eth0
  ip -n "$P-gw" addr add 198.51.100.1/24 dev srv0
  ip -n "$P-srv" addr add "$SRV_ADDR/24" dev eth0
  ip -n "$P-srv" route add default via 198.51.100.1
  if [ -n "$nat" ]; then
    ns_add nat
    nsx nat sysctl -qw net.ipv4.ip_forward=1
    ip -n "$P-nat" link add br0 type bridge; ip -n "$P-nat" link set br0 up
    ip -n "$P-nat" addr add 10.99.0.1/24 dev br0
    link nat out0 gw nat0
    ip -n "$P-nat" addr add "$NAT_OUT_ADDR/24" dev out0
    ip -n "$P-gw" addr add 203.0.113.1/24 dev nat0
    ip -n "$P-nat" route add "$GW_ADDR/32" via 203.0.113.1
    nsx nat iptables -t nat -A POSTROUTING -o out0 -j MASQUERADE || fail "iptables MASQUERADE in nat namespace"
  fi
  for i in $(seq "$n"); do
    ns_add "cl$i"
    link "cl$i" eth0 gw "c$i"
    ip -n "$P-gw" link set "c$i" master br0
    ip -n "$P-cl$i" addr add "$(client_addr "$i")/24" dev eth0
    if [ -n "$nat" ]; then
      link "cl$i" eth1 nat "c$i"
      ip -n "$P-nat" link set "c$i" master br0
    fi
  done
  # the bridge ports need a moment before they forward
  wait_until 5 nsx cl1 ping -c1 -W1 "$GW_ADDR" || fail "topology: cl1 cannot reach $GW_ADDR"
  log "topology up: $n client(s)${nat:+, nat}"
}

# client_nat_up N [SLOT]: give client N its NAT-side address and a default route via the
# NAT (metric 100: a direct 192.0.2.0/24 route, while present, still wins). Packets from
# the NAT-side address always leave through the NAT (source routing, table 100): without
# it, an IKE packet strongSwan still sends from that address would leave directly, un-NATed,
# once the direct path is back, and the gateway's answer would go nowhere.
client_nat_up() {
  ip -n "$P-cl$1" addr add "$(client_nat_addr "$1" "${2:-1}")/24" dev eth1 || fail "nat addr"
  ip -n "$P-cl$1" route replace default via 10.99.0.1 dev eth1 metric 100 || fail "nat route"
  ip -n "$P-cl$1" route replace default via 10.99.0.1 dev eth1 table 100 || fail "nat route (table 100)"
  ip -n "$P-cl$1" rule show | grep -q "from 10.99.0.0/24 lookup 100" \
    || ip -n "$P-cl$1" rule add from 10.99.0.0/24 lookup 100 pref 100 || fail "nat rule"
}

# client_use_nat N: client N reaches the gateway only through the NAT namespace.
client_use_nat() {
  client_nat_up "$1"
  ip -n "$P-cl$1" addr del "$(client_addr "$1")/24" dev eth0 || fail "addr del"
  wait_until 5 nsx "cl$1" ping -c1 -W1 "$GW_ADDR" || fail "cl$1 cannot reach $GW_ADDR through the NAT"
}

# ---------------------------------------------------------------- strongSwan instances

# swan_conf_write INST ROLE: strongswan.conf for an instance (ROLE gw|client).
swan_conf_write() {
  local d=$CASE_DIR/$1 rt rn
  if [ "$2" = gw ]; then rt=${GW_RETRANSMIT_TIMEOUT:-2.0}; rn=${GW_RETRANSMIT_TRIES:-4}
  else rt=${CL_RETRANSMIT_TIMEOUT:-2.0}; rn=${CL_RETRANSMIT_TRIES:-4}; fi
  cat >"$d/strongswan.conf" <<EOF
# generated by tests/interop/lib.sh for instance $1 ($2)
charon {
  load = random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey sha1 sha2 hmac gcm aes kdf kernel-libipsec kernel-netlink socket-default vici counters
  install_routes = yes
  install_virtual_ip = yes
  retransmit_timeout = $rt
  retransmit_tries = $rn
  retransmit_base = 1.4
  keep_alive = 5s
  port = 500
  port_nat_t = 4500
  filelog {
    charon {
      path = $d/charon.log
      time_format = %H:%M:%S
      time_add_ms = yes
      ike_name = yes
      append = no
      flush_line = yes
      default = 1
      ike = 2
      cfg = 2
      knl = ${SWAN_LOG_KNL:-1}
      mgr = 1
      net = ${SWAN_LOG_NET:-1}
    }
  }
  syslog {
    identifier = charon-$1
    daemon { default = -1 }
    auth { default = -1 }
  }
  $( [ "$2" = gw ] && echo "interfaces_use = br0" )
  plugins {
    vici { socket = unix://$d/charon.vici }
    kernel-libipsec { load = yes }
    kernel-netlink { roam_events = yes }
    socket-default { use_ipv6 = no }
  }
}
swanctl {
  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints
  socket = unix://$d/charon.vici
}
EOF
}

# swan_start INST NS ROLE: start charon for INST in namespace NS (no prefix).
swan_start() {
  local inst=$1 ns=$2 role=$3 d=$CASE_DIR/$1
  mkdir -p "$d/run" "$d/swanctl"/{x509,x509ca,private,rsa,ecdsa,pubkey}
  [ -f "$d/swanctl/swanctl.conf" ] || : >"$d/swanctl/swanctl.conf"
  swan_conf_write "$inst" "$role"
  echo "$ns" >"$d/netns"
  # charon runs through a symlink whose name and path do not contain "charon": other
  # people's `pkill -f charon` on a shared machine then leaves the test's daemons alone.
  local bin=$IOP_RUN_DIR/.bin/iop-ikev2d
  [ -L "$bin" ] || { mkdir -p "$IOP_RUN_DIR/.bin"; ln -sf "$CHARON" "$bin"; }
  # ip netns exec → unshare (own mount namespace) → sh → exec charon: one pid throughout.
  bg_start "$inst-charon" ip netns exec "$P-$ns" unshare --mount --propagation private \
    sh -c 'mount --bind "$1" /run && exec env STRONGSWAN_CONF="$2" SWANCTL_DIR="$3" "$4"' \
    sh "$d/run" "$d/strongswan.conf" "$d/swanctl" "$bin"
  echo "$(cat "$CASE_DIR/$inst-charon.pid")" >"$d/charon.pid"
  wait_until 10 test -S "$d/charon.vici" || fail "charon $inst: no vici socket (see $d/charon.log)"
  wait_until 10 swan "$inst" --stats || fail "charon $inst: vici not answering"
  log "charon $inst up in $ns (pid $(cat "$d/charon.pid"))"
}

swan_pid() { cat "$CASE_DIR/$1/charon.pid"; }

# swan INST ARGS...: swanctl against that instance.
swan() {
  local inst=$1; shift
  SWANCTL_DIR=$CASE_DIR/$inst/swanctl STRONGSWAN_CONF=$CASE_DIR/$inst/strongswan.conf \
    timeout 30 swanctl "$@" --uri "unix://$CASE_DIR/$inst/charon.vici"
}

swan_load() {
  local inst=$1
  swan "$inst" --load-all --file "$CASE_DIR/$inst/swanctl/swanctl.conf" \
    >>"$CASE_DIR/$inst/swanctl.out" 2>&1 || fail "swanctl --load-all for $inst failed (see $inst/swanctl.out)"
}

# swan_sas_json INST: the instance's SAs in the normalized JSON of sas.py.
swan_sas_json() {
  timeout 15 python3 "$IOP_DIR/sas.py" vici "$CASE_DIR/$1/charon.vici" 2>>"$CASE_DIR/$1/swanctl.out"
}

# ---------------------------------------------------------------- credentials

# pki_setup KIND (rsa|ecdsa): CA, gateway and client certificates under $CASE_DIR/pki/KIND,
# plus an untrusted CA ("evil") that signs a client certificate with the same identity.
pki_setup() {
  local kind=$1 d=$CASE_DIR/pki/$1 keyopt name
  mkdir -p "$d"
  case $kind in
    rsa) keyopt=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
    ecdsa) keyopt=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
    *) fail "pki_setup: unknown kind $kind" ;;
  esac
  (
    cd "$d" || exit 1
    for name in ca evilca gw cl1 cl2 cl3 evilcl1; do
      openssl genpkey "${keyopt[@]}" -out "$name.key" 2>/dev/null || exit 1
    done
    openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/C=XX/O=ikegw interop/CN=Interop CA $kind" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem || exit 1
    openssl req -x509 -new -key evilca.key -sha256 -days 30 -subj "/C=XX/O=ikegw interop/CN=Interop CA $kind" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out evilca.pem || exit 1
    _leaf() { # name cn san ca
      openssl req -new -key "$1.key" -subj "/C=XX/O=ikegw interop/CN=$2" -out "$1.csr" || return 1
      printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nsubjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -days 30 -sha256 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    }
    _leaf gw "$GW_ID" "DNS:$GW_ID" ca || exit 1
    for name in cl1 cl2 cl3; do _leaf "$name" "$name@ikegw.test" "email:$name@ikegw.test" ca || exit 1; done
    _leaf evilcl1 "cl1@ikegw.test" "email:cl1@ikegw.test" evilca || exit 1
  ) >>"$CASE_DIR/pki.log" 2>&1 || fail "openssl: certificate generation failed (see pki.log)"
  log "pki $kind ready in $d"
}

# swan_install_cert INST KIND NAME [CA]: copy NAME's key+cert and CA cert into INST's swanctl dir.
swan_install_cert() {
  local inst=$1 kind=$2 name=$3 ca=${4:-ca} d=$CASE_DIR/pki/$2 s=$CASE_DIR/$1/swanctl
  mkdir -p "$s"/{x509,x509ca,private}
  cp "$d/$name.pem" "$s/x509/$name.pem"
  cp "$d/$name.key" "$s/private/$name.key"
  cp "$d/$ca.pem" "$s/x509ca/$ca.pem"
}

# ---------------------------------------------------------------- strongSwan client

# client_conf N AUTH [ike-proposals] [esp-proposals]: swanctl.conf for client N
# (AUTH psk|rsa|ecdsa|evil-rsa). Env: CL_PSK, CL_MOBIKE (yes), CL_DPD (0s), CL_REKEY (0s).
client_conf() {
  local n=$1 auth=$2 ike=${3:-default} esp=${4:-default} inst=cl$1 localauth remote
  mkdir -p "$CASE_DIR/$inst/swanctl"
  case $auth in
    psk) localauth="auth = psk" ;;
    rsa|ecdsa) localauth="auth = pubkey
        certs = cl$n.pem"; swan_install_cert "$inst" "$auth" "cl$n" ;;
    evil-rsa) localauth="auth = pubkey
        certs = evilcl$n.pem"; swan_install_cert "$inst" rsa "evilcl$n" ca ;;
    *) fail "client_conf: auth $auth" ;;
  esac
  if [ "$auth" = psk ]; then remote="remote {
      auth = psk
      id = $GW_ID
    }"
  else remote="remote {
      auth = pubkey
      id = $GW_ID
    }"
  fi
  cat >"$CASE_DIR/$inst/swanctl/swanctl.conf" <<EOF
connections {
  home {
    version = 2
    remote_addrs = $GW_ADDR
    vips = 0.0.0.0
    mobike = ${CL_MOBIKE:-yes}
    proposals = $ike
    dpd_delay = ${CL_DPD:-0s}
    rekey_time = ${CL_REKEY:-0s}
    keyingtries = 1
    local {
      $localauth
      id = cl$n@ikegw.test
    }
    $remote
    children {
      home {
        remote_ts = $SRV_NET
        esp_proposals = $esp
        rekey_time = ${CL_CHILD_REKEY:-0s}
        start_action = none
        dpd_action = clear
      }
    }
  }
}
secrets {
  ike-gw {
    id = $GW_ID
    secret = "${CL_PSK:-$PSK_DEFAULT}"
  }
}
EOF
}

# client_start N AUTH [ike] [esp]: start client N's charon and load its config.
client_start() {
  local n=$1; shift
  client_conf "$n" "$@"
  [ -f "$CASE_DIR/cl$n/charon.pid" ] && kill -0 "$(swan_pid "cl$n")" 2>/dev/null || swan_start "cl$n" "cl$n" client
  swan_load "cl$n"
}

# client_reconf N AUTH [ike] [esp]: new swanctl.conf for a running client, reloaded.
client_reconf() { client_conf "$@"; swan_load "cl$1"; }

# client_initiate N: initiate the child; 0 on success. Output in clN/initiate.out.
client_initiate() {
  swan "cl$1" --initiate --child home --timeout 20 >"$CASE_DIR/cl$1/initiate.out" 2>&1
}

# client_sas N: normalized JSON of client N's SAs.
client_sas() { swan_sas_json "cl$1"; }

# client_connect N: initiate and wait for ESTABLISHED + INSTALLED + a virtual IP, or fail.
client_connect() {
  client_initiate "$1" || fail "cl$1: swanctl --initiate failed: $(tail -n 3 "$CASE_DIR/cl$1/initiate.out" | tr '\n' ' ')"
  wait_until 10 client_up "$1" || fail "cl$1: no ESTABLISHED IKE SA with INSTALLED child and virtual IP"
  log "cl$1 connected, vip $(client_vip "$1")"
}

client_up() {
  client_sas "$1" | jq -e '.[0] | .state == "ESTABLISHED" and (.vips|length) > 0 and
      ([.children[] | select(.state == "INSTALLED")] | length) > 0' >/dev/null
}
client_vip() { client_sas "$1" | jq -r '.[0].vips[0] // empty'; }

# ---------------------------------------------------------------- traffic

# ping_srv N COUNT INTERVAL [extra ping args]: ping the server from client N's VIP;
# output in $CASE_DIR/ping-cl<N>.<seq>.out; prints the file name.
ping_seq=0
ping_srv() {
  local n=$1 count=$2 ival=$3; shift 3
  ping_seq=$((ping_seq + 1))
  local out=$CASE_DIR/ping-cl$n.$ping_seq.out
  nsx "cl$n" timeout $(( count / 5 + 30 )) ping -n -D -O -c "$count" -i "$ival" -W 1 "$@" "$SRV_ADDR" >"$out" 2>&1
  echo "$out"
}

# ping_loss FILE: packets lost ("transmitted - received").
ping_loss() {
  awk '/packets transmitted/ { for (i=1;i<=NF;i++) { if ($(i+1) ~ /^packets/) tx=$i; if ($(i+1) ~ /^received/) rx=$i } }
       END { if (tx == "") print "nan"; else print tx - rx }' "$1"
}

# ping_gap FILE: longest interval in seconds between consecutive replies (ms precision).
ping_gap() {
  awk '/bytes from/ { gsub(/[\[\]]/, "", $1); t=$1+0; if (last) { d=t-last; if (d>max) max=d }; last=t }
       END { printf "%.3f\n", max }' "$1"
}

# ping_first_reply_after FILE T: seconds from T to the first reply received after T.
ping_first_reply_after() {
  awk -v t0="$2" '/bytes from/ { gsub(/[\[\]]/, "", $1); if ($1+0 > t0+0) { printf "%.3f\n", $1 - t0; found=1; exit } }
       END { if (!found) print "nan" }' "$1"
}

# proc_cpu_s PID: user+system CPU seconds of a process so far.
proc_cpu_s() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}

# ---------------------------------------------------------------- checks shared by cases

# check_agreement N [TAG]: client N's IKE SA and the gateway's agree on SPIs, algorithms,
# VIP and crossed CHILD SPIs (swanctl view vs gw_show_sas_json). Files kept as TAG.*.json.
check_agreement() {
  local n=$1 tag=${2:-agree} out
  client_sas "$n" >"$CASE_DIR/$tag.client.json"
  gw_show_sas_json >"$CASE_DIR/$tag.gw.json" || fail "gw_show_sas_json failed"
  out=$(python3 "$IOP_DIR/sas.py" agree "$CASE_DIR/$tag.client.json" "$CASE_DIR/$tag.gw.json") \
    || fail "client and gateway disagree ($tag): $(echo "$out" | head -n 3 | tr '\n' ';')"
  log "ok: client cl$n and gateway agree ($tag)"
}

# gw_sa_count: number of IKE SAs on the gateway.
gw_sa_count() { gw_show_sas_json | jq 'length'; }
gw_has_no_sa() { [ "$(gw_sa_count)" = 0 ]; }
client_has_no_sa() { [ "$(client_sas "$1" | jq 'length')" = 0 ]; }

# client_field N JQ: a jq expression over client N's first IKE SA.
client_field() { client_sas "$1" | jq -r ".[0] | $2"; }

# ping_ok N [COUNT]: a few pings through the tunnel all answered.
ping_ok() {
  local f; f=$(ping_srv "$1" "${2:-3}" 0.2)
  [ "$(ping_loss "$f")" = 0 ] || fail "cl$1: ping through the tunnel lost packets ($(tail -n 2 "$f" | head -n 1))"
}

# ping_bg N COUNT INTERVAL: start a timestamped ping in the background; sets PING_OUT.
ping_bg() {
  ping_seq=$((ping_seq + 1))
  PING_OUT=$CASE_DIR/ping-cl$1.$ping_seq.out
  nsx "cl$1" timeout $(( $2 / 5 + 60 )) ping -n -D -O -c "$2" -i "$3" -W 1 "$SRV_ADDR" >"$PING_OUT" 2>&1 &
  PING_PID=$!
  IOP_PIDS+=("$PING_PID")
}

# ping_wait: wait for the background ping (bounded by its own timeout).
ping_wait() { wait "$PING_PID" 2>/dev/null; return 0; }

# client_log_has N REGEX: client N's charon log matches.
client_log_has() { grep -q "$2" "$CASE_DIR/cl$1/charon.log"; }

# ping_sync: wait (at most 1 s) until the background ping (PING_OUT) prints its next reply.
# Moves are phase-aligned to the ping train this way: strongSwan's client reacts ~0.1 s
# after an address disappears (its kernel-netlink roam delay) and pings come every 0.1 s,
# so an unaligned move loses 1 or 2 pings by chance; aligned, the count depends on the
# gateway only (a gateway that answers the update within ~80 ms loses at most one).
ping_sync() {
  local n0 i
  n0=$(grep -c "bytes from" "$PING_OUT")
  for i in $(seq 200); do
    [ "$(grep -c "bytes from" "$PING_OUT")" -gt "$n0" ] && return 0
    sleep 0.005
  done
  return 0
}

# client_move N FROM_SLOT TO_SLOT: make-before-break on eth0 (add the new address, then,
# right after the next ping reply, drop the old one).
client_move() {
  ip -n "$P-cl$1" addr add "$(client_addr "$1" "$3")/24" dev eth0 || fail "addr add"
  sleep "${MOVE_OVERLAP:-0.2}"
  ping_sync
  ip -n "$P-cl$1" addr del "$(client_addr "$1" "$2")/24" dev eth0 || fail "addr del"
  log "cl$1 moved $(client_addr "$1" "$2") -> $(client_addr "$1" "$3")"
}

# gw_peer_is ADDR: the gateway's (only) IKE SA has peer address ADDR.
gw_peer_is() { [ "$(gw_show_sas_json | jq -r '.[0].remote_host')" = "$1" ]; }

# gw_cpu_s: CPU seconds used so far by all gateway processes.
gw_cpu_s() {
  local p
  for p in $(gw_pids); do proc_cpu_s "$p"; done | awk '{ s += $1 } END { printf "%.2f\n", s }'
}

# ---------------------------------------------------------------- gateway abstraction

# shellcheck source=gw_strongswan.sh
case $GW in
  strongswan|ikegw) . "$IOP_DIR/gw_$GW.sh" ;;
esac
