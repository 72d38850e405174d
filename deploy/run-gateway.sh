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
echo "ikegw: starting on $config (operator CLI: build/bin/gwctl show crypto ikev2-ikesa security-associations)"
exec build/bin/ikegw -c "$config"
