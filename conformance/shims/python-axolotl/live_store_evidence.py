#!/usr/bin/env python3
"""Evidence for the live-store finding F14 (README.md, "Store modes").

The package driven directly, once with shim.py's Store serializing records
(what the package's InMemorySessionStore and yowsup's SQLite store do) and
once with it handing back the same SessionRecord object on every call. Alice
and Bob establish a session (a prekey message, a reply); an attacker who holds
no key sends Bob one forged PreKeyWhisperMessage; the conversation goes on
both ways and the script prints what each genuine message meets. Real
randomness; nothing here is a vector.

It first checks the shim's --store option (the handshake names the mode, a
bad value stops the shim).

Usage: .venv/bin/python live_store_evidence.py  (exit status 1 if a claim
does not reproduce).
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shim  # noqa: E402  (sets the protobuf implementation, patches key generation)

from axolotl.ecc.curve import Curve  # noqa: E402
from axolotl.protocol import whisperprotos_pb2 as protos  # noqa: E402
from axolotl.protocol.prekeywhispermessage import PreKeyWhisperMessage  # noqa: E402
from axolotl.protocol.whispermessage import WhisperMessage  # noqa: E402
from axolotl.sessionbuilder import SessionBuilder  # noqa: E402
from axolotl.sessioncipher import SessionCipher  # noqa: E402
from axolotl.state.prekeybundle import PreKeyBundle  # noqa: E402
from axolotl.state.prekeyrecord import PreKeyRecord  # noqa: E402
from axolotl.state.signedprekeyrecord import SignedPreKeyRecord  # noqa: E402
from axolotl.util.keyhelper import KeyHelper  # noqa: E402


class FreshKeys:
    """os.urandom for every key the package draws (the shim injects vector keys)."""

    def take(self):
        return os.urandom(32)


shim.ACTIVE_KEYS[0] = FreshKeys()
failures = 0


def expect(label, actual, ok, refused=None):
    """`ok`, or (ok None) whether `actual` is a refusal must equal `refused`."""
    global failures
    if ok is None:
        ok = actual.startswith("refused") == refused
    failures += 0 if ok else 1
    print(f"  {' ' if ok else '!'} {label}: {actual}")


def outcome(fn):
    try:
        return f"ok {bytes(fn())!r}"
    except Exception as e:  # the package's refusals, reported as text
        return f"refused ({type(e).__name__}: {e})"


def established():
    alice_id, bob_id = KeyHelper.generateIdentityKeyPair(), KeyHelper.generateIdentityKeyPair()
    alice, bob = shim.Store(alice_id, 1), shim.Store(bob_id, 2)
    spk = KeyHelper.generateSignedPreKey(bob_id, 1)
    bob.storeSignedPreKey(1, spk)
    for pid in (2, 3):  # an application uploads many one-time prekeys; 3 stays unused
        bob.storePreKey(pid, PreKeyRecord(pid, Curve.generateKeyPair()))
    otk = bob.loadPreKey(2).getKeyPair().getPublicKey()
    SessionBuilder(alice, alice, alice, alice, "bob", 1).processPreKeyBundle(PreKeyBundle(
        2, 1, 2, otk, 1, spk.getKeyPair().getPublicKey(), spk.getSignature(), bob_id.getPublicKey()))
    to_bob = SessionCipher(alice, alice, alice, alice, "bob", 1)      # Alice's cipher
    to_alice = SessionCipher(bob, bob, bob, bob, "alice", 1)          # Bob's cipher
    to_alice.decryptPkmsg(PreKeyWhisperMessage(serialized=to_bob.encrypt(b"a0").serialize()))
    to_bob.decryptMsg(WhisperMessage(serialized=to_alice.encrypt(b"b0").serialize()))
    return alice_id, to_bob, to_alice


def forged_prekey_message(alice_id, inner):
    """Alice's public identity key, a new base key, Bob's public signed-prekey id
    and an unused one-time prekey id; the inner message's MAC is wrong."""
    body = protos.PreKeyWhisperMessage()
    body.registrationId, body.preKeyId, body.signedPreKeyId = 1, 3, 1
    body.baseKey = Curve.generateKeyPair().getPublicKey().serialize()
    body.identityKey = alice_id.getPublicKey().serialize()
    body.message = inner[:-1] + bytes([inner[-1] ^ 1])
    return PreKeyWhisperMessage(serialized=b"\x33" + body.SerializeToString())


def scenario(live):
    shim.LIVE_STORE = live
    alice_id, to_bob, to_alice = established()
    bob_store = to_alice.sessionStore
    record = bob_store.loadSession("alice", 1)
    print(f"    Bob's record: isFresh() {record.isFresh()}, {len(record.getPreviousSessionStates())} archived state(s)")
    a1 = to_bob.encrypt(b"a1").serialize()
    expect("forged PreKeyWhisperMessage", outcome(lambda: to_alice.decryptPkmsg(forged_prekey_message(alice_id, a1))),
           True)
    record = bob_store.loadSession("alice", 1)
    print(f"    Bob's record: isFresh() {record.isFresh()}, {len(record.getPreviousSessionStates())} archived state(s)")
    # Serializing: nothing was stored, every genuine message goes through. Live: the
    # forged state replaced the genuine one (no archive, the record is still "fresh"),
    # so nothing decrypts in either direction any more.
    expect("genuine a1", outcome(lambda: to_alice.decryptMsg(WhisperMessage(serialized=a1))), None, live)
    for label in (b"b1", b"b2"):
        b = to_alice.encrypt(label).serialize()
        expect(f"Bob replies {label.decode()}, Alice decrypts",
               outcome(lambda: to_bob.decryptMsg(WhisperMessage(serialized=b))), None, live)
    a2 = to_bob.encrypt(b"a2").serialize()
    expect("genuine a2", outcome(lambda: to_alice.decryptMsg(WhisperMessage(serialized=a2))), None, live)


def handshake_version(*args):
    """The shim's handshake version when started with `args` (None if it refuses to start)."""
    proc = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "shim.py"), *args],
                          input='{"id": 1, "op": "handshake"}\n', capture_output=True, text=True, check=False)
    return json.loads(proc.stdout)["result"]["version"] if proc.returncode == 0 and proc.stdout else None


print("the shim's --store option")
for args, want in (((), "; serializing store)"), (("--store", "serializing"), "; serializing store)"),
                   (("--store", "live"), "; live store)"), (("--store", "copy"), None)):
    got = handshake_version(*args)
    expect(f"shim.py {' '.join(args)}".rstrip() + " handshake version", got,
           got is None if want is None else got is not None and got.endswith(want))

for live in (False, True):
    print(f"F14 forged PreKeyWhisperMessage on an established session -- {'live' if live else 'serializing'} store")
    scenario(live)
print("every claim reproduced" if failures == 0 else f"{failures} claim(s) did not reproduce")
sys.exit(1 if failures else 0)
