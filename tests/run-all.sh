#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite:
#   1. unit tests (ctest + cmocka), plain Debug build
#   2. the same under ASan+UBSan
#   3. each libFuzzer target for a bounded time (clang)
#   4. interop against a real strongSwan client in network namespaces (root only)
# Prints a closing "N passed, N failed" line; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
jobs=${JOBS:-2}
fuzz_secs=${FUZZ_SECONDS:-45}
passed=0; failed=0; skipped=0
stage() { printf '\n=== %s ===\n' "$*"; }
result() { # name rc
  if [ "$2" -eq 0 ]; then passed=$((passed+1)); echo "PASS stage $1";
  else failed=$((failed+1)); echo "FAIL stage $1 (exit $2)"; fi
}

stage "dependencies"
deploy/install-deps.sh --test || { echo "dependency install failed"; exit 1; }

stage "build + unit tests (Debug)"
rc=0
# The interop tests use this build; case 23 decrypts with the IKEv2 key log.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DIKEGW_KEYLOG=ON >/dev/null &&
  cmake --build build -j"$jobs" || rc=$?
[ $rc -eq 0 ] && { ctest --test-dir build --output-on-failure -j"$jobs" || rc=$?; }
result unit $rc

stage "build (Release, as deploy/run-gateway.sh builds it)"
rc=0
cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build-rel -j"$jobs" || rc=$?
result release-build $rc

stage "build + unit tests (ASan+UBSan)"
rc=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIKEGW_SANITIZE=ON >/dev/null &&
  cmake --build build-asan -j"$jobs" || rc=$?
[ $rc -eq 0 ] && { ctest --test-dir build-asan --output-on-failure -j"$jobs" || rc=$?; }
result sanitized $rc

stage "fuzzers (${fuzz_secs}s each)"
rc=0
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DIKEGW_FUZZ=ON >/dev/null &&
  cmake --build build-fuzz -j"$jobs" || rc=$?
if [ $rc -eq 0 ]; then
  for f in build-fuzz/bin/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=$(mktemp -d)
    seeds=tests/fuzz/corpus/$name
    [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
    if "$f" -max_total_time="$fuzz_secs" -max_len=65536 -print_final_stats=0 \
         "$corpus" >"build-fuzz/$name.log" 2>&1; then
      echo "fuzz $name: clean ($(grep -o 'Done [0-9]* runs' "build-fuzz/$name.log" | tail -1))"
    else
      echo "fuzz $name: FAILED"; tail -40 "build-fuzz/$name.log"; rc=1
    fi
    rm -rf "$corpus"
  done
fi
result fuzz $rc

if [ -x tests/interop/run-ci.sh ]; then
  stage "interop (real strongSwan client)"
  if [ "$(id -u)" -eq 0 ]; then
    rc=0; tests/interop/run-ci.sh || rc=$?
    result interop $rc
  else
    echo "SKIP stage interop (needs root for network namespaces)"; skipped=$((skipped+1))
  fi
fi

echo
if [ $skipped -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
