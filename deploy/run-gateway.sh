#!/usr/bin/env bash
# Sets up and runs the gateway on the default config (deploy/ikegw.conf):
# installs the Debian packages, builds, and starts ikegw in the foreground.
# Stop it with Ctrl-C (SIGINT) or SIGTERM. Needs root for ports 500/4500 and the
# TUN device of the userspace datapath.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --runtime
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
config=${1:-deploy/ikegw.conf}
mkdir -p /var/lib/ikegw
chmod 700 /var/lib/ikegw
if grep -q 'ikegw-default-psk-change-me' "$config"; then
  # The sample key must never face a network (ikegw refuses it on a
  # non-loopback address): until it is changed, serve loopback only.
  local_conf=/var/lib/ikegw/sample-loopback.conf
  sed -E 's/^([[:space:]]*bind address)[[:space:]]+[^[:space:]#]+/\1 127.0.0.1/' "$config" \
    >"$local_conf"
  grep -q '^[[:space:]]*bind address' "$local_conf" ||
    sed -i 's/^\([[:space:]]*context ipsec\)/\1\n    bind address 127.0.0.1/' "$local_conf"
  echo "ikegw: $config still has the sample pre-shared key: serving on 127.0.0.1 only" \
       "(change the key to serve the network)"
  config=$local_conf
fi
echo "ikegw: starting on $config (operator CLI: build/bin/gwctl show crypto ikev2-ikesa security-associations)"
exec build/bin/ikegw -c "$config"
