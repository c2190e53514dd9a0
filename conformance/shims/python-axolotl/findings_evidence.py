#!/usr/bin/env python3
"""Evidence for the python-axolotl findings that no vector shows (README.md F4, F8-F11).

Runs the package in-process (through shim.py's functions where a session is
needed) and prints what it does. Usage: .venv/bin/python findings_evidence.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shim  # noqa: E402  (sets the protobuf implementation, patches key generation)

import axolotl_curve25519 as curve  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey  # noqa: E402
from axolotl.ecc.curve import Curve  # noqa: E402
from axolotl.ecc.djbec import DjbECPrivateKey, DjbECPublicKey  # noqa: E402
from axolotl.protocol import whisperprotos_pb2 as protos  # noqa: E402
from axolotl.protocol.prekeywhispermessage import PreKeyWhisperMessage  # noqa: E402
from axolotl.protocol.whispermessage import WhisperMessage  # noqa: E402
from axolotl.state.sessionrecord import SessionRecord  # noqa: E402


def title(text):
    print(f"\n== {text}")


def k(i):
    import hashlib
    return hashlib.sha256(b"evidence %d" % i).digest()


def pub(priv):
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# F8 --------------------------------------------------------------------------
title("F8: a PreKeyWhisperMessage without field 1 (no one-time prekey) reads preKeyId 0")
body = protos.PreKeyWhisperMessage()
body.registrationId, body.signedPreKeyId = 1, 5
body.baseKey, body.identityKey = b"\x05" + pub(k(1)), b"\x05" + pub(k(2))
inner = protos.WhisperMessage()
inner.ratchetKey, inner.counter, inner.previousCounter, inner.ciphertext = b"\x05" + pub(k(4)), 0, 0, b"\x00" * 16
body.message = b"\x33" + inner.SerializeToString() + b"\x00" * 8
serialized = b"\x33" + body.SerializeToString()
print("field 1 present on the wire:", body.HasField("preKeyId"))
print("PreKeyWhisperMessage(serialized=...).getPreKeyId() ->",
      repr(PreKeyWhisperMessage(serialized=serialized).getPreKeyId()),
      "(sessionbuilder.py processV3 then calls preKeyStore.loadPreKey(0))")

# F9 --------------------------------------------------------------------------
title("F9: axolotl_curve25519 does not clamp; it relies on generatePrivateKey")
raw = bytes(range(1, 33))  # low bits of byte 0 set, bit 254 clear: not clamped
peer = pub(k(3))
library = Curve.calculateAgreement(DjbECPublicKey(peer), DjbECPrivateKey(raw))
x25519 = X25519PrivateKey.from_private_bytes(raw).exchange(X25519PublicKey.from_public_bytes(peer))
print("Curve.calculateAgreement(peer, DjbECPrivateKey(raw)) == X25519(raw, peer):", library == x25519)
print("Curve.generatePublicKey(raw) == X25519 public key:", curve.generatePublicKey(raw) == pub(raw))
victim = bytes(bytearray(raw))
before = victim.hex()
curve.generatePrivateKey(victim)
print("generatePrivateKey clamps its (immutable) bytes argument in place:", before, "->", victim.hex())

# F10 -------------------------------------------------------------------------
title("F10: stored skipped message keys have no cap (one chain, jumps of 2000)")
sk, ad = k(10), b"\x05" + pub(k(11)) + b"\x05" + pub(k(12))
a = shim.init_session({"suite": "signal-v3", "role": "alice", "sharedKey": sk.hex(), "ratchetKey": pub(k(13)).hex(),
                       "ratchetPrivateKeys": [k(14).hex()]})["session"]
b = shim.init_session({"suite": "signal-v3", "role": "bob", "sharedKey": sk.hex(), "ratchetKey": k(13).hex(),
                       "ratchetPrivateKeys": [k(15).hex()]})["session"]
messages = [shim.encrypt({"session": a, "plaintext": "00", "ad": ad.hex()})["message"] for _ in range(8001)]
for n in (2000, 4000, 6000, 8000):
    shim.decrypt({"session": b, "message": messages[n], "ad": ad.hex()})
    record = SessionRecord(serialized=shim.SESSIONS[b].store.sessions[(shim.PEER, shim.DEVICE)])
    stored = sum(len(c.messageKeys) for c in record.getSessionState().getStructure().receiverChains)
    print(f"after message n={n}: {stored} skipped message keys stored")
print("(libsignal-java caps a chain at MAX_MESSAGE_KEYS = 2000; python-axolotl's setMessageKeys appends)")

# F11 -------------------------------------------------------------------------
title("F11: a ratchet key longer than 0x05 || 32 bytes is truncated, not refused")
m = protos.WhisperMessage()
m.ratchetKey, m.counter, m.previousCounter, m.ciphertext = b"\x05" + pub(k(20)) + b"\xee", 0, 0, b"\x00" * 16
parsed = WhisperMessage(serialized=b"\x33" + m.SerializeToString() + b"\x00" * 8)
print("34-byte ratchetKey field parses; key used:", parsed.getSenderRatchetKey().getPublicKey().hex(),
      "== first 32 bytes:", parsed.getSenderRatchetKey().getPublicKey() == pub(k(20)))

# F12 -------------------------------------------------------------------------
title("F4 (beyond the vectors): the version byte's low nibble is not read")
m.ratchetKey = b"\x05" + pub(k(20))
for version in (0x30, 0x3F):
    parsed = WhisperMessage(serialized=bytes([version]) + m.SerializeToString() + b"\x00" * 8)
    print(f"version byte 0x{version:02x} parses as message version {parsed.getMessageVersion()}")
