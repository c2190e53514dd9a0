#!/usr/bin/env python3
"""Evidence for the python-axolotl findings beyond what the vectors show (README.md F4, F8-F12).

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

# F4 --------------------------------------------------------------------------
title("F4 (beyond the vectors): the version byte's low nibble is not read")
m.ratchetKey = b"\x05" + pub(k(20))
for version in (0x30, 0x3F):
    parsed = WhisperMessage(serialized=bytes([version]) + m.SerializeToString() + b"\x00" * 8)
    print(f"version byte 0x{version:02x} parses as message version {parsed.getMessageVersion()}")

# F8 and x3dh_accept tcId 5 ----------------------------------------------------
title("x3dh_accept tcId 5 (replay without a one-time prekey): as shipped, and were F8 fixed")
import json  # noqa: E402
from axolotl.protocol import whisperprotos_pb2  # noqa: E402
from axolotl.sessioncipher import SessionCipher  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "vectors", "signal-v3", "x3dh_accept.json")
case = next(t for t in json.load(open(VECTORS))["tests"] if t["tcId"] == 5)
request = {"suite": "signal-v3", **{k: case["responder"][k] for k in ("identityPrivateKey", "signedPrekeys",
                                                                     "oneTimePrekeys", "ratchetPrivateKeys")},
           "initialMessages": [m["message"] for m in case["initialMessages"]]}


def show(outcomes):
    for i, o in enumerate(outcomes):
        print(f"  message {i}:", f"refused {o['error']['class']}: {o['error']['message']}" if "error" in o
              else f"accepted {bytes.fromhex(o['plaintext'])!r}")


print("as shipped (shim.x3dh_accept):")
show(shim.x3dh_accept(request)["outcomes"])


def fixed_get_prekey_id(self):
    # What libsignal-java does (hasPreKeyId() ? Optional.of(id) : Optional.absent()):
    # an absent field 1 is None. COUNTERFACTUAL: not the package's code.
    body = whisperprotos_pb2.PreKeyWhisperMessage()
    body.ParseFromString(self.serialized[1:])
    return body.preKeyId if body.HasField("preKeyId") else None


saved_get = PreKeyWhisperMessage.getPreKeyId
PreKeyWhisperMessage.getPreKeyId = fixed_get_prekey_id
try:
    print("were F8 fixed (getPreKeyId() -> None without field 1), one address as in the shim:")
    show(shim.x3dh_accept(request)["outcomes"])
    print("  (sessionbuilder.py:58 finds the base key in the record and lets the message fall through to")
    print("   that session; sessioncipher.py:172 raises DuplicateMessageException for its used counter 0)")
    print("were F8 fixed, the replay arriving from a second address (its own, empty SessionRecord):")
    store = shim.AcceptStore(shim.identity_key_pair(bytes.fromhex(request["identityPrivateKey"])), 1)
    for e in request["signedPrekeys"]:
        store.storeSignedPreKey(e["id"], shim.SignedPreKeyRecord(e["id"], 0, shim.key_pair(bytes.fromhex(e["privateKey"])), b""))
    shim.ACTIVE_KEYS[0] = shim.KeyList([bytes.fromhex(k) for k in request["ratchetPrivateKeys"]])
    for i, address in enumerate(("peer", "other")):
        message = PreKeyWhisperMessage(serialized=bytes.fromhex(request["initialMessages"][i]))
        plaintext = SessionCipher(store, store, store, store, address, 1).decryptPkmsg(message)
        print(f"  message {i} from {address!r}: accepted {bytes(plaintext)!r}")
finally:
    PreKeyWhisperMessage.getPreKeyId = saved_get

# F12 -------------------------------------------------------------------------
title("F12: a refused initial message still saves its sender's identity (TOFU store)")
from axolotl.invalidmessageexception import InvalidMessageException  # noqa: E402

case = next(t for t in json.load(open(VECTORS))["tests"] if t["tcId"] == 6)  # forged first, then genuine
store = shim.Store(shim.identity_key_pair(bytes.fromhex(case["responder"]["identityPrivateKey"])), 1)  # pins per address
for e in case["responder"]["signedPrekeys"]:
    store.storeSignedPreKey(e["id"], shim.SignedPreKeyRecord(e["id"], 0, shim.key_pair(bytes.fromhex(e["privateKey"])), b""))
for e in case["responder"]["oneTimePrekeys"]:
    store.storePreKey(e["id"], shim.PreKeyRecord(e["id"], shim.key_pair(bytes.fromhex(e["privateKey"]))))
shim.ACTIVE_KEYS[0] = shim.KeyList([bytes.fromhex(k) for k in case["responder"]["ratchetPrivateKeys"]])
forged = PreKeyWhisperMessage(serialized=bytes.fromhex(case["initialMessages"][0]["message"]))
print("saved identity for 'peer' before:", store.trusted.get("peer"))
try:
    SessionCipher(store, store, store, store, "peer", 1).decryptPkmsg(forged)
except InvalidMessageException as e:
    print("forged initial message refused:", e)
saved = store.trusted.get("peer")
print("saved identity for 'peer' after the refusal:", saved and saved.serialize().hex(),
      "== the forged message's claimed identity:", saved == forged.getIdentityKey())
print("(SessionBuilder.process, sessionbuilder.py:44-46, saves it before decryptPkmsg checks the MAC;")
print(" one-time prekey and session record stay as they were:", sorted(store.prekeys), list(store.sessions), ")")
