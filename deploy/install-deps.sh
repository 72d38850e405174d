#!/usr/bin/env bash
# Installs every Debian 12 package ikegw needs to build, run and test.
# Usage: deploy/install-deps.sh [--runtime|--test]   (default: --test = everything)
set -euo pipefail
mode=${1:---test}
build_pkgs=(build-essential cmake pkg-config libssl-dev libzmq3-dev libprotobuf-c-dev
            protobuf-c-compiler libuv1-dev liblmdb-dev libcmocka-dev iproute2)
test_pkgs=(clang libclang-rt-14-dev strongswan-charon strongswan-swanctl
           libcharon-extra-plugins iperf3 tshark python3-scapy iptables iputils-ping
           procps psmisc openssl jq bc gawk python3 util-linux)
pkgs=("${build_pkgs[@]}")
[ "$mode" = "--test" ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  # Package scripts must not start daemons (strongSwan's charon would take the
  # host's ports 500/4500): a policy-rc.d for the time of this install only.
  ours=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    ours=1
  fi
  rc=0
  $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" || rc=$?
  [ -n "$ours" ] && $SUDO rm -f /usr/sbin/policy-rc.d
  exit $rc
fi
