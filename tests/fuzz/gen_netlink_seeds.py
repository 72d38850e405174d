#!/usr/bin/env python3
"""Write the seed corpus of fuzz_netlink (tests/fuzz/corpus/fuzz_netlink/).

Each seed is one mode byte (see fuzz_netlink.c) then one kernel datagram with
request sequence number 1. Layouts are those of <linux/xfrm.h> on x86-64
(xfrm_usersa_info 224 bytes, xfrm_userpolicy_info 168, xfrm_user_tmpl 64).
Run: python3 tests/fuzz/gen_netlink_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_netlink")
NLMSG_ERROR, NLMSG_DONE = 2, 3
XFRM_MSG_NEWSA, XFRM_MSG_NEWPOLICY = 16, 19
XFRMA_REPLAY_VAL, XFRMA_TMPL, XFRMA_REPLAY_ESN_VAL = 10, 5, 23
NLMSGERR_ATTR_MSG = 1
NLM_F_MULTI, NLM_F_CAPPED, NLM_F_ACK_TLVS = 2, 0x100, 0x200


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def nlmsg(typ, body, flags=0, seq=1):
    return pad4(struct.pack("<IHHII", 16 + len(body), typ, flags, seq, 0) + body)


def rta(typ, payload):
    return pad4(struct.pack("<HH", 4 + len(payload), typ) + payload)


def err(e, req=b"", ext=None, flags=0):
    echoed = struct.pack("<IHHII", 16 + len(req), 16, 5, 1, 0) + req
    body = struct.pack("<i", e) + echoed
    if ext is not None:
        flags |= NLM_F_ACK_TLVS
        body = pad4(body) + rta(NLMSGERR_ATTR_MSG, ext.encode() + b"\0")
    return nlmsg(NLMSG_ERROR, body, flags)


def usersa(spi, reqid, fam=2, proto=50):
    b = bytearray(224)
    b[56:60] = bytes([192, 0, 2, 1])
    struct.pack_into(">I", b, 72, spi)
    b[76] = proto
    b[80:84] = bytes([198, 51, 100, 7])
    struct.pack_into("<QQ", b, 160, 10, 1500)  # curlft bytes, packets
    struct.pack_into("<I", b, 208, reqid)
    struct.pack_into("<H", b, 212, fam)
    return bytes(b)


def userpol(dirn, prio, reqid, fam=2):
    b = bytearray(168)
    b[0:4] = bytes([10, 10, 0, 5])
    b[16:20] = bytes([10, 0, 0, 0])
    struct.pack_into("<H", b, 40, fam)
    b[42], b[43] = 32, 8
    struct.pack_into("<I", b, 152, prio)
    b[160] = dirn
    t = bytearray(64)
    t[0:4] = bytes([192, 0, 2, 1])
    struct.pack_into(">I", t, 16, 0)
    t[20] = 50
    struct.pack_into("<H", t, 24, fam)
    t[28:32] = bytes([198, 51, 100, 7])
    struct.pack_into("<I", t, 44, reqid)
    return bytes(b) + rta(XFRMA_TMPL, bytes(t))


SEEDS = {
    "ack_ok": (0, err(0)),
    "ack_eexist_extack": (0, err(-17, b"\0" * 8, "Another policy exists")),
    "ack_capped_extack": (0, err(-22, b"", "Invalid algorithm", NLM_F_CAPPED)),
    "ack_other_seq": (0, nlmsg(NLMSG_ERROR, struct.pack("<i", -1) + b"\0" * 16, seq=9) + err(0)),
    "acks_batch": (1, err(0) + nlmsg(NLMSG_ERROR, struct.pack("<i", -2) + b"\0" * 16, seq=2)
                   + nlmsg(NLMSG_ERROR, struct.pack("<i", 0) + b"\0" * 16, seq=3)),
    "dump_states": (2, nlmsg(XFRM_MSG_NEWSA, usersa(0xC0010203, 0x07000001), NLM_F_MULTI)
                    + nlmsg(XFRM_MSG_NEWSA, usersa(0x07000001, 0x07000001, 10), NLM_F_MULTI)
                    + nlmsg(NLMSG_DONE, struct.pack("<i", 0), NLM_F_MULTI)),
    "dump_policies": (3, nlmsg(XFRM_MSG_NEWPOLICY, userpol(0, 0x1e6f0, 0x07000001), NLM_F_MULTI)
                      + nlmsg(XFRM_MSG_NEWPOLICY, userpol(1, 0x1e6f0, 0x07000001, 10), NLM_F_MULTI)
                      + nlmsg(NLMSG_DONE, struct.pack("<i", 0), NLM_F_MULTI)),
    "dump_error": (3, nlmsg(NLMSG_ERROR, struct.pack("<i", -1) + b"\0" * 16)),
    "getsa_esn": (4, nlmsg(XFRM_MSG_NEWSA, usersa(0x07000001, 0x07000001)
                           + rta(XFRMA_REPLAY_ESN_VAL, struct.pack("<IIIIIII", 128, 5, 6, 1, 2, 32, 0) + b"\0" * 4))),
    "getsa_replay": (4, nlmsg(XFRM_MSG_NEWSA, usersa(0x07000001, 0x07000001)
                              + rta(XFRMA_REPLAY_VAL, struct.pack("<III", 5, 6, 0)))),
    "getsa_enoent": (4, err(-2)),
    "all_dump_stop": (7, nlmsg(XFRM_MSG_NEWSA, usersa(1, 2), NLM_F_MULTI) * 3
                      + nlmsg(NLMSG_DONE, struct.pack("<i", 0), NLM_F_MULTI)),
}

os.makedirs(OUT, exist_ok=True)
for name, (mode, dgram) in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([mode]) + dgram)
