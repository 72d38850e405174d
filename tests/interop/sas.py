#!/usr/bin/env python3
"""Normalize IKE SA listings for the interop harness (tests/interop).

  sas.py vici SOCKET_PATH   list a charon's SAs over its VICI socket (no swanctl parsing:
                            identities may contain spaces, the --raw text is ambiguous)
  sas.py gwctl < JSON       map `gwctl show crypto ikev2-ikesa security-associations --json`
  sas.py agree CLIENT GW    compare two such files: client SA 0 vs the gateway SA with the
                            same SPIs (IKE SPIs, algorithms, VIP, CHILD SPIs crossed)

Both print the same JSON array, one object per IKE SA:
  {"id", "name", "state", "initiator", "spi_i", "spi_r", "local_host", "local_port",
   "remote_host", "remote_port", "local_id", "remote_id", "nat",
   "encr", "encr_keysize", "integ", "prf", "dh", "vips": [...],
   "slot" (sessmgr, gwctl only), "mobike", "mobike_updates" (gwctl only),
   "children": [{"id", "name", "state", "mode", "encap", "spi_in", "spi_out",
                 "encr", "encr_keysize", "integ", "local_ts": [...], "remote_ts": [...],
                 "bytes_in", "bytes_out", "packets_in", "packets_out"}]}
SPIs are lowercase hex without 0x (IKE: 16 digits, ESP: 8). Algorithm names are
canonical: upper case, no "PRF_" prefix, no underscores (AESGCM16, HMACSHA2256128,
CURVE25519, MODP2048, ECP256); AEAD integrity is "NONE".

The VICI wire format (strongSwan src/libcharon/plugins/vici/README.md): each packet is a
32-bit big-endian length and a type byte; named types carry an 8-bit length name; message
elements are SECTION_START(1) name, SECTION_END(2), KEY_VALUE(3) name + 16-bit value,
LIST_START(4) name, LIST_ITEM(5) value, LIST_END(6).
"""
import json
import socket
import struct
import sys

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT = 3, 4, 5, 6, 7


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("vici socket closed")
        buf += chunk
    return buf


def _send(sock, ptype, name=None, body=b""):
    pkt = bytes([ptype])
    if name is not None:
        nb = name.encode()
        pkt += bytes([len(nb)]) + nb
    pkt += body
    sock.sendall(struct.pack(">I", len(pkt)) + pkt)


def _recv(sock):
    (length,) = struct.unpack(">I", _recv_exact(sock, 4))
    pkt = _recv_exact(sock, length)
    ptype, pos, name = pkt[0], 1, None
    if ptype in (EVENT,):
        nlen = pkt[1]
        name = pkt[2:2 + nlen].decode()
        pos = 2 + nlen
    return ptype, name, pkt[pos:]


def _parse_msg(data):
    """Decode a VICI message into nested dicts/lists of str."""
    root = {}
    stack = [root]
    pos = 0
    cur_list = None
    while pos < len(data):
        etype = data[pos]
        pos += 1
        if etype in (1, 3, 4):
            nlen = data[pos]
            name = data[pos + 1:pos + 1 + nlen].decode(errors="replace")
            pos += 1 + nlen
        if etype == 1:
            sect = {}
            stack[-1][name] = sect
            stack.append(sect)
        elif etype == 2:
            stack.pop()
        elif etype == 3:
            (vlen,) = struct.unpack(">H", data[pos:pos + 2])
            stack[-1][name] = data[pos + 2:pos + 2 + vlen].decode(errors="replace")
            pos += 2 + vlen
        elif etype == 4:
            cur_list = []
            stack[-1][name] = cur_list
        elif etype == 5:
            (vlen,) = struct.unpack(">H", data[pos:pos + 2])
            cur_list.append(data[pos + 2:pos + 2 + vlen].decode(errors="replace"))
            pos += 2 + vlen
        elif etype == 6:
            cur_list = None
        else:
            raise ValueError("bad vici element type %d" % etype)
    return root


def vici_list_sas(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path)
    _send(sock, EVENT_REGISTER, "list-sa")
    ptype, _, _ = _recv(sock)
    if ptype != EVENT_CONFIRM:
        raise RuntimeError("vici: list-sa event registration refused")
    _send(sock, CMD_REQUEST, "list-sas")
    sas = []
    while True:
        ptype, name, body = _recv(sock)
        if ptype == EVENT and name == "list-sa":
            sas.append(_parse_msg(body))
        elif ptype == CMD_RESPONSE:
            break
        elif ptype == CMD_UNKNOWN:
            raise RuntimeError("vici: list-sas unknown")
    _send(sock, EVENT_UNREGISTER, "list-sa")
    sock.close()
    return sas


def canon_alg(name):
    if name is None or name == "":
        return "NONE"
    n = str(name).upper()
    if n.startswith("PRF_"):
        n = n[4:]
    return n.replace("_", "").replace("-", "")


def _finish(sas):
    """ChaCha20-Poly1305 has a fixed 256-bit key and no Key Length attribute: report 256."""
    for sa in sas:
        for x in [sa] + sa["children"]:
            if x["encr"] == "CHACHA20POLY1305":
                x["encr_keysize"] = 256
    return sas


def _int(v, default=0):
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def from_vici(events):
    out = []
    for ev in events:
        for name, sa in ev.items():
            initiator = sa.get("initiator") == "yes"
            vips = sa.get("local-vips", []) + sa.get("remote-vips", [])
            children = []
            for cname, ch in sa.get("child-sas", {}).items():
                children.append({
                    "id": _int(ch.get("uniqueid")), "name": ch.get("name", cname),
                    "state": ch.get("state", ""), "mode": ch.get("mode", ""),
                    "encap": ch.get("encap") == "yes",
                    "spi_in": ch.get("spi-in", "").lower(), "spi_out": ch.get("spi-out", "").lower(),
                    "encr": canon_alg(ch.get("encr-alg")), "encr_keysize": _int(ch.get("encr-keysize")),
                    "integ": canon_alg(ch.get("integ-alg")),
                    "local_ts": ch.get("local-ts", []), "remote_ts": ch.get("remote-ts", []),
                    "bytes_in": _int(ch.get("bytes-in")), "bytes_out": _int(ch.get("bytes-out")),
                    "packets_in": _int(ch.get("packets-in")), "packets_out": _int(ch.get("packets-out")),
                })
            out.append({
                "id": _int(sa.get("uniqueid")), "name": name, "state": sa.get("state", ""),
                "initiator": initiator,
                "spi_i": sa.get("initiator-spi", "").lower(), "spi_r": sa.get("responder-spi", "").lower(),
                "local_host": sa.get("local-host", ""), "local_port": _int(sa.get("local-port")),
                "remote_host": sa.get("remote-host", ""), "remote_port": _int(sa.get("remote-port")),
                "local_id": sa.get("local-id", ""), "remote_id": sa.get("remote-id", ""),
                "nat": sa.get("nat-any") == "yes",
                "encr": canon_alg(sa.get("encr-alg")), "encr_keysize": _int(sa.get("encr-keysize")),
                "integ": canon_alg(sa.get("integ-alg")), "prf": canon_alg(sa.get("prf-alg")),
                "dh": canon_alg(sa.get("dh-group")), "vips": vips, "children": children,
                "slot": None, "mobike": None, "mobike_updates": None,
            })
    return _finish(out)


# ---- gwctl --json: field names are looked up through aliases, so small naming choices in
# gwctl do not break the harness. tests/interop/README.md lists the preferred names.

def _pick(d, *keys, default=None):
    for k in keys:
        if isinstance(d, dict) and k in d and d[k] is not None:
            return d[k]
    return default


def _hex(v, width):
    if v is None:
        return ""
    if isinstance(v, int):
        return "%0*x" % (width, v)
    s = str(v).lower()
    if s.startswith("0x"):
        s = s[2:]
    return s.replace(":", "").zfill(width)


DH_NUM = {1: "MODP768", 2: "MODP1024", 5: "MODP1536", 14: "MODP2048", 15: "MODP3072",
          16: "MODP4096", 19: "ECP256", 20: "ECP384", 21: "ECP521", 31: "CURVE25519",
          32: "CURVE448", 0: "NONE"}


def _cfg_encr(v):
    """deploy/CONFIG.md names: aes-cbc-128, aes-gcm-256, chacha20-poly1305 → (alg, bits)."""
    v = str(v).lower()
    if v.startswith("aes-gcm-"):
        return "AESGCM16", _int(v[8:])
    if v.startswith("aes-cbc-"):
        return "AESCBC", _int(v[8:])
    if v.startswith("chacha20"):
        return "CHACHA20POLY1305", 256
    return canon_alg(v), 0


def _cfg_integ(v):
    """sha1-96, sha2-256-128, ..., none → HMACSHA196, HMACSHA2256128, ..., NONE."""
    v = str(v).lower()
    if v in ("", "none"):
        return "NONE"
    return canon_alg("hmac-" + v if not v.startswith("hmac") else v)


def _alg(d, *keys):
    v = _pick(d, *keys)
    if isinstance(v, dict):  # {"name": ..., "keysize": ...}
        v = _pick(v, "name", "alg", "id")
    if isinstance(v, int) and "dh_group" in keys:
        return DH_NUM.get(v, str(v))
    if isinstance(v, str) and "-" in v and v == v.lower():
        if "encryption" in keys:
            return _cfg_encr(v)[0]
        if "integrity" in keys or "prf" in keys:
            return _cfg_integ(v)
    return canon_alg(v)


def _keysize(d, *keys):
    v = _pick(d, *keys)
    if v is None:
        e = _pick(d, "encr", "encryption", "encr_alg")
        if isinstance(e, dict):
            v = _pick(e, "keysize", "key_size", "key_len", "keylen")
        elif isinstance(e, str):
            v = _cfg_encr(e)[1]
    return _int(v)


def _ts_list(v):
    if v is None:
        return []
    if isinstance(v, list):
        return v
    return [t for t in str(v).replace(",", " ").split() if t]


def from_gwctl(doc):
    sas = doc
    if isinstance(doc, dict):
        sas = _pick(doc, "security_associations", "ike_sas", "sas", "ikesas", "ikev2_ikesa", default=[])
    out = []
    for sa in sas:
        children = []
        for ch in _pick(sa, "children", "child_sas", "childsas", "ipsec_sas", default=[]):
            children.append({
                "id": _int(_pick(ch, "id", "uniqueid")), "name": _pick(ch, "name", default=""),
                # gwctl lists only installed CHILD SAs unless it says otherwise
                "state": str(_pick(ch, "state", default="INSTALLED")).upper(),
                "mode": str(_pick(ch, "mode", default="TUNNEL")).upper(),
                "encap": bool(_pick(ch, "encap", "udp_encap", "nat", default=False)),
                "spi_in": _hex(_pick(ch, "spi_in", "inbound_spi", "spi_inbound"), 8),
                "spi_out": _hex(_pick(ch, "spi_out", "outbound_spi", "spi_outbound"), 8),
                "encr": _alg(ch, "encr", "encr_alg", "encryption"),
                "encr_keysize": _keysize(ch, "encr_keysize", "encr_key_size", "keysize"),
                "integ": _alg(ch, "integ", "integ_alg", "integrity"),
                "local_ts": _ts_list(_pick(ch, "local_ts", "ts_local")),
                "remote_ts": _ts_list(_pick(ch, "remote_ts", "ts_remote")),
                "bytes_in": _int(_pick(ch, "bytes_in")), "bytes_out": _int(_pick(ch, "bytes_out")),
                "packets_in": _int(_pick(ch, "packets_in")), "packets_out": _int(_pick(ch, "packets_out")),
            })
        vip = _pick(sa, "vips", "virtual_ips", "virtual_ip", "vip", default=[])
        if isinstance(vip, str):
            vip = [vip] if vip else []
        vip = vip + [x for x in (_pick(sa, "virtual_ip4"), _pick(sa, "virtual_ip6")) if x]
        out.append({
            "slot": _pick(sa, "slot", "sessmgr"),
            "id": _int(_pick(sa, "id", "uniqueid", "sa_id")), "name": _pick(sa, "name", "template", default=""),
            "state": str(_pick(sa, "state", default="")).upper(),
            "initiator": bool(_pick(sa, "initiator", default=False)),
            "spi_i": _hex(_pick(sa, "spi_i", "initiator_spi", "ispi"), 16),
            "spi_r": _hex(_pick(sa, "spi_r", "responder_spi", "rspi"), 16),
            "mobike": bool(_pick(sa, "mobike", default=False)),
            "mobike_updates": _int(_pick(sa, "mobike_updates")),
            "local_host": _pick(sa, "local_host", "local_address", "local_addr", default=""),
            "local_port": _int(_pick(sa, "local_port")),
            "remote_host": _pick(sa, "remote_host", "remote_addr", "peer_address", "peer_addr", "remote_address", default=""),
            "remote_port": _int(_pick(sa, "remote_port", "peer_port")),
            "local_id": _pick(sa, "local_id", default=""), "remote_id": _pick(sa, "remote_id", "peer_id", default=""),
            "nat": bool(_pick(sa, "nat", "nat_any", "nat_detected", default=False)
                        or _pick(sa, "nat_local", default=False) or _pick(sa, "nat_remote", default=False)),
            "encr": _alg(sa, "encr", "encr_alg", "encryption"),
            "encr_keysize": _keysize(sa, "encr_keysize", "encr_key_size", "keysize"),
            "integ": _alg(sa, "integ", "integ_alg", "integrity"),
            "prf": _alg(sa, "prf", "prf_alg"), "dh": _alg(sa, "dh", "dh_group", "ke"),
            "vips": vip, "children": children,
        })
    return _finish(out)


def agree(client, gw):
    """Mismatches between a client's first IKE SA and the gateway's SA with the same SPIs."""
    if not client:
        return ["client has no IKE SA"]
    c = client[0]
    g = [s for s in gw if s["spi_i"] == c["spi_i"]]
    if not g:
        return ["gateway has no IKE SA with SPIi %s (gateway SPIs: %s)"
                % (c["spi_i"], ", ".join(s["spi_i"] + "/" + s["spi_r"] for s in gw) or "none")]
    g = g[0]
    bad = []
    for k in ("spi_r", "state", "encr", "encr_keysize", "integ", "prf", "dh"):
        if c[k] != g[k]:
            bad.append("IKE %s: client %s, gateway %s" % (k, c[k], g[k]))
    if sorted(c["vips"]) != sorted(g["vips"]):
        bad.append("virtual IP: client %s, gateway %s" % (c["vips"], g["vips"]))
    cch = [x for x in c["children"] if x["state"] == "INSTALLED"]
    if not cch:
        bad.append("client has no INSTALLED CHILD SA")
    for ch in cch:
        m = [x for x in g["children"] if x["spi_in"] == ch["spi_out"] and x["spi_out"] == ch["spi_in"]]
        if not m:
            bad.append("CHILD SPIs in/out %s/%s not on the gateway (gateway: %s)" % (
                ch["spi_in"], ch["spi_out"],
                ", ".join(x["spi_in"] + "/" + x["spi_out"] for x in g["children"]) or "none"))
            continue
        for k in ("state", "encr", "encr_keysize", "integ"):
            if ch[k] != m[0][k]:
                bad.append("CHILD %s: client %s, gateway %s" % (k, ch[k], m[0][k]))
    return bad


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "agree":
        with open(sys.argv[2]) as f1, open(sys.argv[3]) as f2:
            bad = agree(json.load(f1), json.load(f2))
        for b in bad:
            print(b)
        return 1 if bad else 0
    if len(sys.argv) >= 3 and sys.argv[1] == "vici":
        print(json.dumps(from_vici(vici_list_sas(sys.argv[2])), indent=1))
    elif len(sys.argv) == 2 and sys.argv[1] == "gwctl":
        print(json.dumps(from_gwctl(json.load(sys.stdin)), indent=1))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
