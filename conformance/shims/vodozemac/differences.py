#!/usr/bin/env python3
"""Where libolm (the python-olm shim) and vodozemac (this directory's shim)
answer the same olm-v1 situation differently: the evidence for the findings
in README.md and docs/OLM-V1.md §6-§7, observed through the JSON protocol.

In every scenario Alice is the python-olm shim with injected keys (so she can
be cloned with other keys, which only libolm allows) and Bob is, in turn,
python-olm and vodozemac (Bob's keys from `prekey_bundle`). Each line prints
both outcomes, `ok` or the refusal's class and message.

Usage (after both setup.sh): python3 conformance/shims/vodozemac/differences.py
"""

import os
import secrets
import sys

from live import PYTHON_OLM, VODOZEMAC, Shim

BOBS = {"libolm": PYTHON_OLM, "vodozemac": VODOZEMAC}


def outcome(r):
    if "result" in r:
        return "ok"
    return f"{r['error']['class']} ({r['error']['message'][:70]})"


def keys(n):
    return [secrets.token_hex(32) for _ in range(n)]


class Pair:
    def __init__(self, bob_cmd):
        self.a, self.b = Shim(PYTHON_OLM, "alice"), Shim(bob_cmd, "bob")
        bundle = self.b.ok("prekey_bundle", suite="olm-v1")
        self.sa = self.a.ok("prekey_initiate", suite="olm-v1", identityPrivateKey=secrets.token_hex(32),
                            ephemeralPrivateKey=secrets.token_hex(32), ratchetPrivateKeys=keys(40),
                            peerIdentityKey=bundle["identityKey"],
                            peerOneTimePrekey=bundle["oneTimePrekey"])["session"]
        first = self.send_a()
        self.sb = self.b.ok("prekey_respond", suite="olm-v1", message=first["message"])["session"]

    def send_a(self, session=None):
        return self.a.ok("encrypt", session=session or self.sa, plaintext="61", ad="")

    def send_b(self):
        return self.b.ok("encrypt", session=self.sb, plaintext="62", ad="")

    def to_b(self, m, message=None):
        return self.b("decrypt", session=self.sb, message=message or m["message"], messageType=m["messageType"], ad="")

    def to_a(self, m):
        return self.a("decrypt", session=self.sa, message=m["message"], messageType=m["messageType"], ad="")

    def round_trip(self):
        """Bob answers, Alice starts a new chain: Bob's next receive is a DH step."""
        self.to_a(self.send_b())
        m = self.send_a()
        assert "result" in self.to_b(m)

    def close(self):
        self.a.close()
        self.b.close()


def replay(p):
    m = p.send_a()
    p.to_b(m)
    return p.to_b(m)


def gap(p, n):
    ms = [p.send_a() for _ in range(n + 1)]
    return p.to_b(ms[-1])


def gap_then_index(p, skipped_late):
    ms = [p.send_a() for _ in range(2001)]
    p.to_b(ms[-1])  # index 2001 after 0: 2000 skipped
    return p.to_b(ms[skipped_late - 1])


def forty_across_chains(p):
    """30 keys stored on one chain, then 30 on the next: is the first chain's
    oldest stored key still there? (libolm: 40 for the session; vodozemac: 40 per chain)"""
    p.round_trip()
    late = [p.send_a() for _ in range(31)]
    p.to_b(late[-1])  # stores 30 keys of this chain
    p.to_a(p.send_b())
    second = [p.send_a() for _ in range(31)]
    p.to_b(second[-1])  # 30 more on a new chain
    return p.to_b(late[0])


def ratchet_twice(p):
    """A genuine, correctly keyed message on a second new chain from Alice
    while Bob holds no ratchet key: Alice's clone (libolm pickle) takes another
    key for the chain the original already started (docs/OLM-V1.md §7)."""
    p.to_a(p.send_b())
    clone = p.a.ok("clone_session", session=p.sa, ratchetPrivateKeys=keys(3))["session"]
    assert "result" in p.to_b(p.send_a())  # chain 1: Bob's ratchet key is used and deleted
    return p.to_b(p.send_a(clone))  # chain 1': another key, same root


def wide_index(p):
    """The chain index rewritten to 2^32 + 1 (a 5-byte varint): libolm keeps
    the low 32 bits, vodozemac reads 64 (the MAC no longer verifies either way)."""
    p.to_a(p.send_b())  # Alice now sends normal messages, on a new chain
    p.to_b(p.send_a())  # index 0
    m = p.send_a()  # index 1
    body = bytes.fromhex(m["message"])
    assert body[35:37] == b"\x10\x01", body[:40].hex()
    wide = body[:36] + bytes([0x81, 0x80, 0x80, 0x80, 0x10]) + body[37:]
    return p.to_b(m, wide.hex())


def zero_ratchet_key(p):
    """A new chain under the all-zero (small-order) ratchet key."""
    p.to_a(p.send_b())
    m = p.send_a()
    body = bytearray.fromhex(m["message"])
    body[3:35] = bytes(32)
    return p.to_b(m, body.hex())


def edited(edit):
    """A normal message from Alice, edited before Bob gets it."""
    def scenario(p):
        p.to_a(p.send_b())
        m = p.send_a()
        return p.to_b(m, edit(bytes.fromhex(m["message"])).hex())
    return scenario


class FirstMessage:
    """Alice's first pre-key message, edited, as the message that starts Bob's session."""

    def __init__(self, bob_cmd):
        self.a, self.b = Shim(PYTHON_OLM, "alice"), Shim(bob_cmd, "bob")
        self.bundle = self.b.ok("prekey_bundle", suite="olm-v1")
        self.sa = self.a.ok("prekey_initiate", suite="olm-v1", identityPrivateKey=secrets.token_hex(32),
                            ephemeralPrivateKey=secrets.token_hex(32), ratchetPrivateKeys=keys(40),
                            peerIdentityKey=self.bundle["identityKey"],
                            peerOneTimePrekey=self.bundle["oneTimePrekey"])["session"]

    def close(self):
        self.a.close()
        self.b.close()


def first_prekey_version(version):
    def scenario(p):
        m = bytearray.fromhex(p.a.ok("encrypt", session=p.sa, plaintext="61", ad="")["message"])
        m[0] = version
        return p.b("prekey_respond", suite="olm-v1", message=m.hex())
    return scenario


def later_prekey_version(p):
    """The same on a session: Alice's second pre-key message, outer version 0x02."""
    m = p.send_a()
    body = bytearray.fromhex(m["message"])
    body[0] = 2
    return p.to_b(m, body.hex())


FIRST = [
    ("first pre-key message, outer version byte 0x02 (tcId 29)", first_prekey_version(2)),
    ("first pre-key message, outer version byte 0x04", first_prekey_version(4)),
]

SCENARIOS = [
    ("second pre-key message on the session, outer version byte 0x02", later_prekey_version),
    ("version byte 0x04 (vodozemac's untruncated-MAC version)", edited(lambda b: b"\x04" + b[1:])),
    ("version byte 0x02", edited(lambda b: b"\x02" + b[1:])),
    ("ratchet key of 31 bytes", edited(lambda b: b[:2] + b"\x1f" + b[3:34] + b[35:])),
    ("MAC cut to 7 bytes", edited(lambda b: b[:-1])),
    ("replay of a decrypted message", replay),
    ("gap of 2000 after index 0", lambda p: gap(p, 2000)),
    ("gap of 2001 after index 0", lambda p: gap(p, 2001)),
    ("skipped index 1 after a gap of 2000", lambda p: gap_then_index(p, 1)),
    ("skipped index 1961 after a gap of 2000", lambda p: gap_then_index(p, 1961)),
    ("30 + 30 stored keys on two chains, the first chain's oldest", forty_across_chains),
    ("a second new chain while Bob holds no ratchet key", ratchet_twice),
    ("chain index 2^32 + 1", wide_index),
    ("new chain under the all-zero ratchet key", zero_ratchet_key),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    for title, scenario, make in [(t, s, FirstMessage) for t, s in FIRST] + [(t, s, Pair) for t, s in SCENARIOS]:
        line = [title]
        for name, cmd in BOBS.items():
            p = make(cmd)
            line.append(f"{name}: {outcome(scenario(p))}")
            p.close()
        print("\n    ".join(line))


if __name__ == "__main__":
    main()
