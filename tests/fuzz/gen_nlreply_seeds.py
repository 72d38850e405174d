#!/usr/bin/env python3
"""Write the seed corpus of fuzz_nlreply (tests/fuzz/corpus/fuzz_nlreply/).

Each seed is one whole kernel reply datagram (no selector byte: fuzz_nlreply
hands it to every parser). The request sequence number the parsers wait for
is the first message's, and its low byte is the reconcile slot: the seeds use
seq 7 and reqids 0x07xxxxxx so reconcile's sweep finds entries of its slot
(even reqids are unclaimed, odd ones claimed, in the fuzzer). Layouts are
<linux/xfrm.h> on x86-64: xfrm_usersa_info 224 bytes (id.daddr 56, spi 72,
proto 76, saddr 80, curlft 160, reqid 208, family 212), xfrm_userpolicy_info
168 (sel.family 40, priority 152, dir 160), xfrm_user_tmpl 64 (saddr 28,
family 24, reqid 44), xfrm_replay_state_esn 24 + bitmap.
Run: python3 tests/fuzz/gen_nlreply_seeds.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_nlreply")
SEQ = 7
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK = 16
XFRM_MSG_NEWSA, XFRM_MSG_NEWPOLICY = 16, 19
XFRMA_TMPL, XFRMA_REPLAY_VAL, XFRMA_REPLAY_ESN_VAL = 5, 10, 23
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS = 1, 2
NLM_F_MULTI, NLM_F_CAPPED, NLM_F_ACK_TLVS = 2, 0x100, 0x200
OWN_PRIO = 0x1E6F0
AF_INET, AF_INET6 = 2, 10


def align4(b):
    return b + bytes(-len(b) % 4)


def msg(typ, body, flags=0, seq=SEQ):
    return align4(struct.pack("=IHHII", 16 + len(body), typ, flags, seq, 4242) + body)


def attr(typ, payload):
    return align4(struct.pack("=HH", 4 + len(payload), typ) + payload)


def ack(errno_neg, seq=SEQ, echo=b"", text=None, flags=0, req_type=16):
    """NLMSG_ERROR: error, the echoed request header (+ body unless capped),
    then the extended-ACK attributes when flags has NLM_F_ACK_TLVS."""
    body = struct.pack("=i", errno_neg) + struct.pack("=IHHII", 16 + len(echo), req_type, 5, seq, 0)
    if not flags & NLM_F_CAPPED:
        body += echo
    if text is not None:
        flags |= NLM_F_ACK_TLVS
        body = align4(body) + attr(NLMSGERR_ATTR_MSG, text.encode() + b"\0") \
            + attr(NLMSGERR_ATTR_OFFS, struct.pack("=I", 20))
    return msg(NLMSG_ERROR, body, flags, seq)


def addr(fam, last):
    return bytes([192, 0, 2, last]) + bytes(12) if fam == AF_INET else \
        bytes([0x20, 0x01, 0x0d, 0xb8]) + bytes(11) + bytes([last])


def sa(spi, reqid, fam=AF_INET, proto=50):
    b = bytearray(224)
    b[56:72] = addr(fam, 1)
    struct.pack_into(">I", b, 72, spi)
    b[76] = proto
    b[80:96] = addr(fam, 9)
    struct.pack_into("=QQ", b, 160, 123456, 789)
    struct.pack_into("=I", b, 208, reqid)
    struct.pack_into("=H", b, 212, fam)
    return bytes(b)


def tmpl(reqid, fam=AF_INET):
    t = bytearray(64)
    t[0:16] = addr(fam, 9)
    t[20] = 50
    struct.pack_into("=H", t, 24, fam)
    t[28:44] = addr(fam, 1)
    struct.pack_into("=I", t, 44, reqid)
    return bytes(t)


def pol(dirn, prio, reqid, fam=AF_INET, tmpls=1):
    b = bytearray(168)
    b[0:16] = bytes([10, 10, 0, 5]) + bytes(12)
    b[16:32] = bytes([10, 0, 0, 0]) + bytes(12)
    struct.pack_into("=H", b, 40, fam)
    b[42], b[43] = 8, 32
    struct.pack_into("=I", b, 152, prio)
    b[160] = dirn
    return bytes(b) + (attr(XFRMA_TMPL, b"".join(tmpl(reqid, fam) for _ in range(tmpls))) if tmpls else b"")


def done(seq=SEQ):
    return msg(NLMSG_DONE, struct.pack("=i", 0), NLM_F_MULTI, seq)


def esn(oseq, seq, oseq_hi, seq_hi):
    return struct.pack("=IIIIII", 4, oseq, seq, oseq_hi, seq_hi, 32) + bytes(4)


SEEDS = {
    # nlm_talk / tun.c (rtnetlink): plain ACK, error with extended ACK, capped.
    "ack_ok": ack(0),
    "ack_rtnl_eexist_extack": ack(-17, echo=bytes(16), text="File exists", req_type=RTM_NEWLINK),
    "ack_xfrm_einval_capped": ack(-22, text="Invalid algorithm", flags=NLM_F_CAPPED),
    "ack_after_other": ack(-1, seq=99) + ack(0),
    # nlm_talk_batch: three ACKs in one datagram, one error.
    "acks_batch": ack(0) + ack(-2, seq=SEQ + 1) + ack(0, seq=SEQ + 2),
    # Dumps (reconcile): states of ours (own reqid = SPI), of the slot, claimed,
    # another slot's, a non-ESP state; policies of ours and someone else's.
    "dump_states": msg(XFRM_MSG_NEWSA, sa(0x07000002, 0x07000002), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWSA, sa(0xC0FFEE02, 0x07000002, AF_INET6), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWSA, sa(0x07000003, 0x07000003), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWSA, sa(0x08000004, 0x08000004), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWSA, sa(0x07000006, 0x07000006, proto=51), NLM_F_MULTI) + done(),
    "dump_policies": msg(XFRM_MSG_NEWPOLICY, pol(0, OWN_PRIO, 0x07000010), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWPOLICY, pol(1, OWN_PRIO, 0x07000010, AF_INET6), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWPOLICY, pol(2, 100, 0x07000012), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWPOLICY, pol(0, OWN_PRIO, 0x07000014, tmpls=0), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWPOLICY, pol(0, OWN_PRIO, 0x07000016, tmpls=2), NLM_F_MULTI) + done(),
    # A mixed datagram: policies and the states they own, then the end.
    "dump_mixed": msg(XFRM_MSG_NEWPOLICY, pol(0, OWN_PRIO, 0x07000020), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWSA, sa(0xAABBCC00, 0x07000020), NLM_F_MULTI)
    + msg(XFRM_MSG_NEWSA, sa(0xAABBCC02, 0x07000022), NLM_F_MULTI) + done(),
    "dump_no_done": msg(XFRM_MSG_NEWSA, sa(0x07000002, 0x07000002), NLM_F_MULTI),
    "dump_error": ack(-1),
    # xfrm_get_sa: counters with ESN replay state, with the legacy one, ENOENT.
    "getsa_esn": msg(XFRM_MSG_NEWSA, sa(0x07000002, 0x07000002)
                     + attr(XFRMA_REPLAY_ESN_VAL, esn(10, 20, 1, 2))),
    "getsa_replay": msg(XFRM_MSG_NEWSA, sa(0x07000002, 0x07000002)
                        + attr(XFRMA_REPLAY_VAL, struct.pack("=III", 5, 6, 0))),
    "getsa_enoent": ack(-2),
    # Truncated: a header that claims more than the datagram holds.
    "truncated_len": struct.pack("=IHHII", 4096, XFRM_MSG_NEWSA, 0, SEQ, 0) + sa(1, 2)[:40],
}

os.makedirs(OUT, exist_ok=True)
for name, dgram in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(dgram)
print(len(SEEDS), "seeds in", OUT)
