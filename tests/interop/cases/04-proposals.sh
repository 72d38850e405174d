#!/bin/bash
# 04-proposals — every DH group and cipher suite the gateway supports, one at a time.
#
# Setup:  PSK gateway offering all of them; client cl1 proposes exactly one suite per round.
# Rounds: DH 14 (modp2048), 19 (ecp256), 20 (ecp384), 21 (ecp521), 31 (curve25519) with
#         AES-GCM-16-256 / PRF-SHA256; ciphers aes128-cbc+sha256, aes256-cbc+sha512,
#         aes128gcm16, aes256gcm16, chacha20poly1305 for both IKE and ESP (X25519).
# Checks per round: connect, the negotiated IKE/ESP algorithms are the proposed ones on
#         both ends (SPIs and algorithms agree), one ping, client terminate, gateway empty.
. "$(dirname "$0")/../lib.sh"
case_init proposals
topo_setup 1
gw_start psk
client_start 1 psk
# name  ike-proposal  esp-proposal  expected: ike-encr keysize prf dh | esp-encr keysize integ
rounds="
dh14 aes256gcm16-prfsha256-modp2048 aes256gcm16 AESGCM16:256:HMACSHA2256:MODP2048 AESGCM16:256:NONE
dh19 aes256gcm16-prfsha256-ecp256 aes256gcm16 AESGCM16:256:HMACSHA2256:ECP256 AESGCM16:256:NONE
dh20 aes256gcm16-prfsha256-ecp384 aes256gcm16 AESGCM16:256:HMACSHA2256:ECP384 AESGCM16:256:NONE
dh21 aes256gcm16-prfsha256-ecp521 aes256gcm16 AESGCM16:256:HMACSHA2256:ECP521 AESGCM16:256:NONE
dh31 aes256gcm16-prfsha256-curve25519 aes256gcm16 AESGCM16:256:HMACSHA2256:CURVE25519 AESGCM16:256:NONE
aes128-cbc-sha256 aes128-sha256-curve25519 aes128-sha256 AESCBC:128:HMACSHA2256:CURVE25519 AESCBC:128:HMACSHA2256128
aes256-cbc-sha512 aes256-sha512-curve25519 aes256-sha512 AESCBC:256:HMACSHA2512:CURVE25519 AESCBC:256:HMACSHA2512256
aes128gcm16 aes128gcm16-prfsha256-curve25519 aes128gcm16 AESGCM16:128:HMACSHA2256:CURVE25519 AESGCM16:128:NONE
aes256gcm16 aes256gcm16-prfsha384-curve25519 aes256gcm16 AESGCM16:256:HMACSHA2384:CURVE25519 AESGCM16:256:NONE
chacha20poly1305 chacha20poly1305-prfsha256-curve25519 chacha20poly1305 CHACHA20POLY1305:256:HMACSHA2256:CURVE25519 CHACHA20POLY1305:256:NONE
"
echo "$rounds" | while read -r name ike esp exp_ike exp_esp; do
  [ -n "$name" ] || continue
  log "round $name: ike=$ike esp=$esp"
  client_reconf 1 psk "$ike" "$esp"
  client_initiate 1 || fail "$name: initiate failed: $(tail -n 2 "$CASE_DIR/cl1/initiate.out" | tr '\n' ' ')"
  wait_until 10 client_up 1 || fail "$name: not ESTABLISHED/INSTALLED"
  got_ike=$(client_field 1 '"\(.encr):\(.encr_keysize):\(.prf):\(.dh)"')
  # the IKE integrity of an AEAD suite is NONE; of a CBC suite the PRF's HMAC variant
  got_esp=$(client_field 1 '.children[0] | "\(.encr):\(.encr_keysize):\(.integ)"')
  expect "$name IKE suite" "$got_ike" "$exp_ike"
  expect "$name ESP suite" "$got_esp" "$exp_esp"
  check_agreement 1 "$name"
  ping_ok 1 1
  swan cl1 --terminate --ike home --timeout 10 >>"$CASE_DIR/cl1/swanctl.out" 2>&1 || fail "$name: terminate failed"
  wait_until 5 gw_has_no_sa || fail "$name: gateway kept the IKE SA after the client's delete"
done || exit 1
