#!/usr/bin/env bash
# CI entry (called by tests/run-all.sh as root): every interop case against our
# gateway (build/bin/ikegw) with a real strongSwan client in network namespaces.
set -uo pipefail
cd "$(dirname "$0")/../.."
exec env GW=ikegw tests/interop/run.sh
