#!/usr/bin/env python3
"""Write the seed corpus of fuzz_engine_info (tests/fuzz/corpus/fuzz_engine_info/).

A seed is: mode byte, first-payload-type byte, inner payload chain (see the
input format in fuzz_engine_info.c). The NAT_DETECTION hashes depend on the
SPIs of each fresh SA, so the valid UPDATE_SA_ADDRESSES seeds use mode 1 (the
harness puts UPDATE_SA_ADDRESSES and the right NAT_DETECTION_* in front) and
the COOKIE2 echo uses mode 3 (the harness echoes the gateway's value).
Run: python3 tests/fuzz/gen_engine_info_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_engine_info")
N, D, CP, NONE = 41, 42, 47, 0
NAT_SRC, NAT_DST = 16388, 16389
ADD4, ADD6, NO_ADD = 16397, 16398, 16399
UPDATE, COOKIE2, NO_NATS = 16400, 16401, 16402
# mode bits: 0-1 kind, 2-4 source (4 = 127.0.2.2, 5 = 127.0.3.3, 6 = new port,
# 7 = IPv6), 5 = DPD instead of COOKIE2 check, 6 = no marker, 7 = advance 3 s.
SRC_B, SRC_C, SRC_PORT, SRC_V6 = 4 << 2, 5 << 2, 6 << 2, 7 << 2


def notify(typ, data=b""):
    return (typ, data)


def chain(*plds):
    """plds: (kind, body) with kind N (notify: (type, data)) or raw (type, body)."""
    out = b""
    types = [p[0] for p in plds]
    for i, (ptype, body) in enumerate(plds):
        nxt = types[i + 1] if i + 1 < len(types) else NONE
        if ptype == N:
            ntype, data = body
            body = struct.pack(">BBH", 0, 0, ntype) + data
        out += struct.pack(">BBH", nxt, 0, 4 + len(body)) + body
    return (types[0] if types else NONE), out


def seed(mode, *plds):
    first, body = chain(*plds)
    return bytes([mode, first]) + body


def ap4(a, port):
    return bytes(a) + struct.pack(">H", port)


C2 = bytes(range(0x40, 0x50))
SEEDS = {
    "dpd_empty": seed(0),
    "cookie2_request": seed(0, (N, notify(COOKIE2, C2))),
    "delete_ike": seed(0, (D, struct.pack(">BBH", 1, 0, 0))),
    "delete_esp": seed(0, (D, struct.pack(">BBHI", 3, 4, 1, 0x11223344))),
    "delete_esp_two": seed(0, (D, struct.pack(">BBHII", 3, 4, 2, 0x11223344, 0x55667788))),
    "update_natd": bytes([1 | SRC_B, NONE]),
    "update_natd_port": bytes([1 | SRC_PORT, NONE]),
    "update_natd_v6": bytes([1 | SRC_V6, NONE]),
    "update_natd_plain": bytes([1 | SRC_C | 0x40, NONE]),
    "update_cookie2": seed(1 | SRC_C, (N, notify(COOKIE2, C2))),
    "update_add_ip4": seed(1 | SRC_B, (N, notify(ADD4, bytes([192, 0, 2, 200])))),
    "update_add_ip6": seed(1 | SRC_B, (N, notify(ADD6, bytes([0x20, 1, 0xd, 0xb8] + [0] * 11 + [2])))),
    "update_no_add": seed(1 | SRC_B, (N, notify(NO_ADD))),
    "update_no_nats": seed(1 | SRC_B, (N, notify(NO_NATS, ap4([127, 0, 2, 2], 4500) + ap4([192, 0, 2, 1], 4500)))),
    "update_no_nats_wrong": seed(1 | SRC_C, (N, notify(NO_NATS, ap4([10, 0, 0, 1], 4500) + ap4([192, 0, 2, 1], 4500)))),
    "update_raw_natd_wrong": seed(0 | SRC_B, (N, notify(UPDATE)), (N, notify(NAT_SRC, b"\x11" * 20)),
                                  (N, notify(NAT_DST, b"\x22" * 20))),
    "additional_ip4": seed(0, (N, notify(ADD4, bytes([192, 0, 2, 200])))),
    "no_additional": seed(0, (N, notify(NO_ADD))),
    "rsp_dpd": bytes([2 | 0x20, NONE]),
    "rsp_cookie2_echo": bytes([3, NONE]),
    "rsp_cookie2_wrong": seed(2, (N, notify(COOKIE2, C2))),
    "rsp_cookie2_echo_late": bytes([3 | 0x80, NONE]),
    "rsp_cookie2_from_other": bytes([3 | SRC_C, NONE]),
    "cp_request": seed(0, (CP, struct.pack(">BBH", 1, 0, 0) + struct.pack(">HH", 1, 0))),
    "vendor_then_notify": seed(0, (43, b"ikegw-fuzz"), (N, notify(COOKIE2, C2))),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
