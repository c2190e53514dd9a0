#!/usr/bin/env python3
"""Evidence for finding V3 (README.md): a forged message on a new chain changes
an inactive vodozemac session, though its decryption fails.

vodozemac's pickle is deterministic for an unchanged session (checked first),
so comparing pickles before and after a refused message shows whether the
refusal changed the state. A tampered message on a known chain does not; a
forged one naming a new ratchet key does (`DoubleRatchet::advance` activates
the inactive ratchet, drawing a key, before the MAC is checked). Exit status
0 when both observations hold, 1 otherwise.

Usage: conformance/shims/vodozemac/.venv/bin/python conformance/shims/vodozemac/inactive_advance.py
"""

import os
import sys

import vodozemac as vz

KEY = bytes(32)


def refused(session, message):
    try:
        session.decrypt(message)
    except vz.OlmDecryptionException as e:
        return str(e)
    return None


alice, bob = vz.Account(), vz.Account()
bob.generate_one_time_keys(1)
(one_time,) = bob.one_time_keys.values()
a = alice.create_outbound_session(bob.curve25519_key, one_time)
b, _ = bob.create_inbound_session(alice.curve25519_key, a.encrypt(b"first").to_pre_key())
before = b.pickle(KEY)  # Bob is inactive: he has received and not yet sent
ok = before == b.pickle(KEY)
print(f"pickle deterministic: {ok}")

kind, body = a.encrypt(b"second").to_parts()
tampered = body[:-1] + bytes([body[-1] ^ 1])
print(f"tampered, known chain: {refused(b, vz.AnyOlmMessage.from_parts(kind, tampered))}")
same = before == b.pickle(KEY)
print(f"  state unchanged: {same}")

forged = b"\x03\x0a\x20" + os.urandom(32) + b"\x10\x00\x22\x10" + os.urandom(16) + os.urandom(8)
print(f"forged, new chain: {refused(b, vz.AnyOlmMessage.normal(forged))}")
changed = before != b.pickle(KEY)
print(f"  state changed: {changed}")
print(f"Bob still talks to Alice: {a.decrypt(b.encrypt(b'reply')) == b'reply'}")
sys.exit(0 if ok and same and changed else 1)
