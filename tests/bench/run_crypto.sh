#!/bin/sh
# run_crypto.sh - our crypto bench beside `openssl speed` for the same
# primitives (builds nothing: build bench_crypto first, Release preferred).
#   tests/bench/run_crypto.sh [build-dir]      (default: build)
# Both sides report CPU time per operation. openssl speed times the bare
# primitive with keys and contexts prepared outside the loop; ours include
# per-call key import, context setup and (for DH) peer validation, so the
# ratio is the overhead of our API over the floor.
set -eu
B=${1:-build}
BENCH="$B/bin/bench_crypto"
[ -x "$BENCH" ] || { echo "no $BENCH: build it first" >&2; exit 1; }
OURS=$(mktemp); OSSL=$(mktemp)
trap 'rm -f "$OURS" "$OSSL"' EXIT

echo "== $BENCH (median of 5 runs, CPU ns/op)"
"$BENCH" | tee "$OURS"

echo
echo "== openssl speed ($(openssl version)), 1 s per test"
# PKI: "+F5:<n>:<bits>:<op/s>:<s/op>" (ECDH), "+F8:..." (FFDH).
openssl speed -mr -seconds 1 ecdhp256 ecdhp384 ecdhp521 ecdhx25519 ffdh2048 \
  2>/dev/null | grep '^+F[58]:' > "$OSSL.pki" || true
# Symmetric, one buffer size per call: "+F:<n>:<name>:<bytes/s>".
for spec in "272 -evp aes-128-gcm" "272 -evp aes-256-gcm" "272 -evp chacha20-poly1305" \
            "272 -evp aes-128-cbc" "272 -evp aes-256-cbc" \
            "320 -hmac sha1" "320 -hmac sha256" "320 -hmac sha512" \
            "96 -hmac sha1" "96 -hmac sha256" "96 -hmac sha384" "96 -hmac sha512"; do
  set -- $spec
  n=$1; shift
  openssl speed -mr -seconds 1 -bytes "$n" "$@" 2>/dev/null |
    awk -F: -v n="$n" '/^\+F:/ { printf "%s %s %.1f\n", $3, n, 1e9 * n / $4 }' >> "$OSSL"
done

awk -F: '{ printf "%-28s %10.0f ns/op derive\n", ($1 == "+F8" ? "ffdh" : "ecdh") $3, 1e9 / $4 }' \
  "$OSSL.pki"
awk '{ printf "%-28s %10.0f ns/op (%s bytes)\n", $1, $3, $2 }' "$OSSL"

# Ratios where the operations correspond.
ours() { awk -v k="$1" '$0 ~ k { print $(NF-1); exit }' "$OURS"; }
ossl_pki() { awk -F: -v t="$1" -v b="$2" '$1 == t && $3 == b { print 1e9 / $4; exit }' "$OSSL.pki"; }
ossl_sym() { awk -v a="$1" -v n="$2" '$1 == a && $2 == n { print $3; exit }' "$OSSL"; }
ratio() { # label ours floor
  if [ -n "$2" ] && [ -n "$3" ]; then
    awk -v l="$1" -v o="$2" -v f="$3" 'BEGIN { printf "%-44s %10.0f %10.0f %6.2fx\n", l, o, f, o / f }'
  fi
}
echo
echo "== ours vs floor                                  ours ns    floor ns  ratio"
ratio "ecp256 shared (import+check+derive)" "$(ours 'ecp256 shared')" "$(ossl_pki +F5 256)"
ratio "ecp384 shared" "$(ours 'ecp384 shared')" "$(ossl_pki +F5 384)"
ratio "ecp521 shared" "$(ours 'ecp521 shared')" "$(ossl_pki +F5 521)"
ratio "x25519 shared" "$(ours 'x25519 shared')" "$(ossl_pki +F5 253)"
ratio "modp2048 shared (vs ffdhe2048 derive)" "$(ours 'modp2048 shared')" "$(ossl_pki +F8 2048)"
G128=$(ossl_sym AES-128-GCM 272); G256=$(ossl_sym AES-256-GCM 272)
CH=$(ossl_sym ChaCha20-Poly1305 272)
C256=$(ossl_sym AES-256-CBC 272); H256=$(ossl_sym 'hmac(sha256)' 320)
x2() { [ -n "$1" ] && awk -v a="$1" 'BEGIN { print 2 * a }'; }
ratio "sk256 aes128gcm16 (vs 2 x gcm 272 B)" "$(ours 'sk256 +aes128gcm16')" "$(x2 "$G128")"
ratio "sk256 aes256gcm16 (vs 2 x gcm 272 B)" "$(ours 'sk256 +aes256gcm16')" "$(x2 "$G256")"
ratio "sk256 chacha (vs 2 x chapoly 272 B)" "$(ours 'sk256 +chacha20')" "$(x2 "$CH")"
if [ -n "$C256" ] && [ -n "$H256" ]; then
  ratio "sk256 aes256cbc-sha256 (2 x (cbc + hmac))" "$(ours 'sk256 +aes256cbc-sha256')" \
    "$(awk -v c="$C256" -v h="$H256" 'BEGIN { print 2 * (c + h) }')"
fi
# Key derivation = SKEYSEED + ceil(total/hlen) HMACs of ~100 bytes.
HS=$(ossl_sym 'hmac(sha256)' 96)
[ -n "$HS" ] && ratio "keys aes256cbc-sha256 (vs 8 x hmac 96 B)" \
  "$(ours 'keys +aes256cbc-sha256')" "$(awk -v h="$HS" 'BEGIN { print 8 * h }')"
rm -f "$OSSL.pki"
