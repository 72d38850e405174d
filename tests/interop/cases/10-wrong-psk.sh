#!/bin/bash
# 10-wrong-psk — a client with the wrong pre-shared key is refused.
#
# Checks: the initiate fails; the client log shows AUTHENTICATION_FAILED from the gateway
#         ("received AUTHENTICATION_FAILED notify error"); neither side keeps an SA
#         (gateway empty within 3 s, also no half-open SA left). A client with the right
#         key connects afterwards (the failure left nothing behind that blocks it).
. "$(dirname "$0")/../lib.sh"
case_init wrong-psk
topo_setup 1
gw_start psk
CL_PSK="definitely-not-the-right-key" client_start 1 psk
client_initiate 1 && fail "initiate with a wrong PSK succeeded"
grep -q "received AUTHENTICATION_FAILED notify error" "$CASE_DIR/cl1/charon.log" \
  || fail "client did not receive AUTHENTICATION_FAILED (see cl1/charon.log)"
wait_until 3 gw_has_no_sa || fail "gateway keeps $(gw_sa_count) SA(s) after a failed authentication"
client_has_no_sa 1 || fail "client keeps an SA after a failed authentication"
client_reconf 1 psk
client_connect 1
ping_ok 1 2
