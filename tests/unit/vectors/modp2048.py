#!/usr/bin/env python3
"""RFC 3526 section 3 (group 14, 2048-bit MODP): checks the prime as printed
in the RFC against its defining formula
    p = 2^2048 - 2^1984 - 1 + 2^64 * { [2^1918 pi] + 124476 }
and prints a known-answer DH vector (generator 2) for test_crypto_dh.c.
Standard library only. Re-run: python3 tests/unit/vectors/modp2048.py
"""
from decimal import Decimal, getcontext
import hashlib

P_HEX = ("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
         "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
         "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
         "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
         "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
         "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
         "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
         "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
         "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
         "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
         "15728E5A8AACAA68FFFFFFFFFFFFFFFF")


def arctan_inv(n, prec):
    getcontext().prec = prec
    x = Decimal(1) / n
    x2, term, s, k = x * x, x, x, 1
    while True:
        term *= -x2
        t = term / (2 * k + 1)
        if t == 0 or abs(t) < Decimal(10) ** (-prec):
            return s
        s += t
        k += 1


def pi(prec):
    return 4 * (4 * arctan_inv(5, prec) - arctan_inv(239, prec))  # Machin


def main():
    p = int(P_HEX, 16)
    getcontext().prec = 700
    f = int((Decimal(2) ** 1918) * pi(700))
    assert p == 2**2048 - 2**1984 - 1 + 2**64 * (f + 124476), "prime != RFC 3526 formula"
    x = int.from_bytes(hashlib.sha256(b"ikegw modp i").digest(), "big")
    r = int.from_bytes(hashlib.sha256(b"ikegw modp r").digest(), "big")
    gx, gr = pow(2, x, p), pow(2, r, p)
    print("p", P_HEX.lower())
    print("i", f"{x:064x}")
    print("gi", f"{gx:0512x}")
    print("r", f"{r:064x}")
    print("gr", f"{gr:0512x}")
    print("gir", f"{pow(gr, x, p):0512x}")


if __name__ == "__main__":
    main()
