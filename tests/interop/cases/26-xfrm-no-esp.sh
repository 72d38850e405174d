#!/bin/bash
# 26-xfrm-no-esp — the gateway with `datapath xfrm` (ipsecmgr/be_xfrm.c) on a kernel without
# ESP (these machines: CONFIG_INET_ESP off, no gcm in the crypto API; XFRM policies work).
# The strongSwan client connects: the IKE SA establishes, the CHILD SA install is refused by
# the kernel and that failure is never silent: the clear reason is in the gateway's log
# (ipsecmgr and the sessmgr that got SaResult ok=false), gwctl's "IPsec Manager Failure"
# counter is >= 1, the client is told (the gateway deletes the CHILD SA it could not
# install: the client keeps its IKE SA and holds no CHILD SA), and no XFRM state or policy
# of ours is left in the gateway namespace.
# Reconcile: a policy planted before the start that looks like one of ours from a previous
# incarnation (priority 0x1e6f0, reqid of sessmgr slot 0) is removed once slot 0 replayed
# (ReplayDone), and a foreign policy (another priority) is left alone.
# Where the kernel HAS ESP the case is skipped with that reason (traffic over the kernel
# datapath is not checked here). ikegw only.
. "$(dirname "$0")/../lib.sh"
case_init xfrm-no-esp
[ "$GW" = ikegw ] || skip "ikegw only (its XFRM backend)"
topo_setup 1
# Can the gateway namespace's kernel take an ESP state of the suite the client will pick
# (AES-GCM-256 first in both proposals)?
key=0x$(printf '%072d' 0)
if nsx gw ip xfrm state add src 192.0.2.250 dst 192.0.2.251 proto esp spi 0x100 mode tunnel \
     aead 'rfc4106(gcm(aes))' "$key" 128 2>"$CASE_DIR/esp-probe.err"; then
  nsx gw ip xfrm state flush
  skip "the kernel has ESP (an AES-GCM state was accepted): the no-ESP path cannot be shown here"
fi
log "kernel refuses ESP states: $(head -n 1 "$CASE_DIR/esp-probe.err")"
nsx gw ip xfrm policy add src 198.51.100.0/24 dst 10.99.99.1/32 dir out priority $((0x1e6f0)) \
  tmpl src 192.0.2.1 dst 192.0.2.99 proto esp reqid 0x00abcdef mode tunnel || fail "cannot plant a stale policy"
nsx gw ip xfrm policy add src 198.51.100.0/24 dst 10.99.99.2/32 dir out priority 1000 \
  tmpl src 192.0.2.1 dst 192.0.2.98 proto esp reqid 0x00abcdef mode tunnel || fail "cannot plant a foreign policy"
GW_DATAPATH=xfrm gw_start psk
stale_gone() { ! nsx gw ip xfrm policy | grep -q "10.99.99.1/32"; }
wait_until 10 stale_gone || fail "the stale policy of a previous incarnation was not reconciled away"
nsx gw ip xfrm policy | grep -q "10.99.99.2/32" || fail "reconcile removed a foreign policy"
nsx gw ip xfrm policy delete src 198.51.100.0/24 dst 10.99.99.2/32 dir out
log "reconcile: stale policy removed, foreign policy kept"
client_start 1 psk
client_initiate 1 || fail "cl1: swanctl --initiate failed"
gwlog=$CASE_DIR/gw-ikegw.out
refused() { grep -q "ipsecmgr refused SA operation" "$gwlog"; }
wait_until 10 refused || fail "no 'ipsecmgr refused SA operation' in the gateway log: the failed CHILD SA install was silent"
why=$(grep -m1 "ipsecmgr refused SA operation" "$gwlog")
log "gateway: $why"
echo "$why" | grep -Eq "no ESP support|crypto API lacks" ||
  fail "the refusal does not say why in plain words: $why"
grep -Eq "ipsecmgr\[[0-9]+\] WARN .*(no ESP support|crypto API lacks)" "$gwlog" ||
  fail "ipsecmgr did not log the kernel's reason"
[ "$(gw_sa_count)" -ge 1 ] || fail "the IKE SA did not stay established on the gateway"
# The client was told: its CHILD SA is deleted by the gateway, its IKE SA stays.
cl_child_gone() {
  client_sas 1 | jq -e '.[0].state == "ESTABLISHED" and
      ([.[0].children[] | select(.state == "INSTALLED")] | length) == 0' >/dev/null
}
wait_until 10 cl_child_gone || fail "cl1 still holds the CHILD SA the gateway could not install"
log "cl1: IKE SA established, the refused CHILD SA deleted by the gateway"
stats=$(gwctl show crypto statistics ikev2 2>>"$CASE_DIR/gw/gwctl.err")
printf '%s\n' "$stats" >"$CASE_DIR/gw/stats.txt"
n=$(printf '%s\n' "$stats" | awk '/IPsec Manager Failure/ { print $NF; exit }')
metric xfrm_fail_ipsecmgr "${n:-none}"
[ "${n:-0}" -ge 1 ] || fail "gwctl: IPsec Manager Failure = ${n:-missing}, expected >= 1"
nsx gw ip xfrm policy >"$CASE_DIR/gw/xfrm-policy.txt" 2>&1
nsx gw ip xfrm state >"$CASE_DIR/gw/xfrm-state.txt" 2>&1
ours=$(grep -c "priority $((0x1e6f0)) " "$CASE_DIR/gw/xfrm-policy.txt")
metric xfrm_policies_left "$ours"
[ "$ours" = 0 ] || fail "$ours XFRM policies of ours left in the gateway namespace"
[ ! -s "$CASE_DIR/gw/xfrm-state.txt" ] || fail "XFRM states left: $(head -n 2 "$CASE_DIR/gw/xfrm-state.txt" | tr '\n' ' ')"
