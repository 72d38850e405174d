#!/usr/bin/env python3
"""Independent IKEv2 key derivation (RFC 7296 2.13-2.18) with the Python
standard library only (hmac, hashlib), to cross-check common/ike_prf.c.

Prints the expected values that tests/unit/test_crypto_keys.c embeds as hex.
Re-run: python3 tests/unit/vectors/ike_keys.py
"""
import hashlib
import hmac
import struct

PRF = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256,
       "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}


def prf(alg, key, data):
    return hmac.new(key, data, PRF[alg]).digest()


def prf_plus(alg, key, seed, n):
    """RFC 7296 2.13: T1 = prf(K, S|0x01), Tn = prf(K, Tn-1|S|n)."""
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(alg, key, t + seed + bytes([i]))
        out += t
        i += 1
    return out[:n]


# Fixed inputs (same bytes as in the C test).
NI = bytes((0x10 + i) & 0xFF for i in range(32))
NR = bytes((0x80 + 3 * i) & 0xFF for i in range(48))
GIR = bytes((7 * i + 3) & 0xFF for i in range(256))
SPII = 0x0123456789ABCDEF
SPIR = 0xFEDCBA9876543210

# name, prf, SK_a length, SK_e length (incl. 4-byte salt for AEAD)
SUITES = [
    ("cbc256_sha256", "SHA256", 32, 32),
    ("cbc128_sha1", "SHA1", 20, 16),
    ("gcm256_prf384", "SHA384", 0, 36),
    ("chacha_prf512", "SHA512", 0, 36),
    ("cbc256_sha512", "SHA512", 64, 32),
]


def ike_keys(alg, a_len, e_len, ni, nr, gir, spii, spir, skeyseed=None):
    if skeyseed is None:
        skeyseed = prf(alg, ni + nr, gir)  # 2.14: HMAC PRFs take Ni|Nr whole
    plen = PRF[alg]().digest_size
    total = plen + 2 * a_len + 2 * e_len + 2 * plen
    seed = ni + nr + struct.pack(">QQ", spii, spir)
    return skeyseed, prf_plus(alg, skeyseed, seed, total)


def main():
    res = {}
    for name, alg, a, e in SUITES:
        sks, km = ike_keys(alg, a, e, NI, NR, GIR, SPII, SPIR)
        res[name] = km
        print(f'/* {name} */ "{sks.hex()}",\n  "{km.hex()}",')

    # Rekey (2.18): old PRF SHA384 with the old SK_d of gcm256_prf384; new
    # suite cbc256_sha256 (PRF SHA256), new nonces, g^ir and SPIs.
    old_skd = res["gcm256_prf384"][:48]
    ni2 = bytes((0xA0 + i) & 0xFF for i in range(16))
    nr2 = bytes((0x33 * i + 1) & 0xFF for i in range(24))
    gir2 = bytes((0x55 + 11 * i) & 0xFF for i in range(32))
    sks = prf("SHA384", old_skd, gir2 + ni2 + nr2)
    _, km = ike_keys("SHA256", 32, 32, ni2, nr2, gir2, 0x1111222233334444,
                     0x5555666677778888, skeyseed=sks)
    print(f'/* rekey */ "{sks.hex()}",\n  "{km.hex()}",')

    # CHILD SA KEYMAT (2.17) from SK_d of cbc256_sha256.
    skd = res["cbc256_sha256"][:32]
    print(f'/* child no PFS */ "{prf_plus("SHA256", skd, NI + NR, 128).hex()}",')
    print(f'/* child PFS */ "{prf_plus("SHA256", skd, GIR[:32] + NI + NR, 128).hex()}",')

    # AUTH with a shared key (2.15).
    km = res["cbc256_sha256"]
    sk_pr = km[32 + 64 + 64 + 32:32 + 64 + 64 + 64]
    id_body = bytes([1, 0, 0, 0, 192, 168, 0, 1])  # ID_IPV4_ADDR 192.168.0.1
    msg = bytes((5 * i + 9) & 0xFF for i in range(200))
    psk = b"test-psk-0123"
    maced = prf("SHA256", sk_pr, id_body)
    auth = prf("SHA256", prf("SHA256", psk, b"Key Pad for IKEv2"), msg + NI + maced)
    print(f'/* maced id */ "{maced.hex()}",\n/* auth psk */ "{auth.hex()}",')

    # Plain prf+ with a short key, 5 iterations of SHA1 (100 bytes).
    print(f'/* prf+ sha1 */ "{prf_plus("SHA1", b"key", b"seed", 100).hex()}",')


if __name__ == "__main__":
    main()
