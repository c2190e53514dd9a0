#!/usr/bin/env python3
"""Standalone test of shim.py, without the ratchetproof runner.

Runs two shim processes (Alice and Bob) and checks:
  * the primitives against values computed here independently (cryptography's
    X25519 / HKDF / AES-CBC, hmac, a hand-written protobuf encoder);
  * X3DH both ways against an independent X3DH, and the signature check;
  * Alice's first init_session message byte for byte against an independent
    encoding of SIGNAL-V3.md section 3;
  * prekey_initiate / prekey_respond conversations: both directions, out of
    order, several DH ratchet steps, message types, error classes;
  * that a rejected message consumes no injected key and leaves the session
    usable; clone_session;
  * x3dh_accept: one store receiving a forged, a genuine, a replayed and a
    second initiator's initial message (and F8 without a one-time prekey).

Usage: .venv/bin/python selftest.py [--shim "COMMAND"] (default: this folder's
shim through its .venv). With --shim, the same checks run against any shim
of the signal-v3 suite, e.g. the libsignal-node one. Exit 0 when all pass.
--compare "COMMAND" also checks that a second shim's seal / encrypt /
x3dh outputs are byte-identical to the first's for the same inputs.
"""

import argparse
import hashlib
import hmac
import json
import os
import shlex
import subprocess
import sys

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = "signal-v3"
FAILURES = []


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        FAILURES.append(what)


# --- independent crypto ---------------------------------------------------------

def hkdf(ikm, info, length, salt=bytes(32)):
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)


def pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def dh(priv, public):
    return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(public))


def kdf_rk(rk, dh_out):
    okm = hkdf(dh_out, b"WhisperRatchet", 64, salt=rk)
    return okm[:32], okm[32:]


def kdf_ck(ck):
    return hmac.new(ck, b"\x02", hashlib.sha256).digest(), hmac.new(ck, b"\x01", hashlib.sha256).digest()


def message_keys(mk):
    return hkdf(mk, b"WhisperMessageKeys", 80)


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_u32(num, value):
    return varint(num << 3) + varint(value)


def seal(mk, ratchet_pub, pn, n, plaintext, mac_ad):
    keys = message_keys(mk)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(keys[:32]), modes.CBC(keys[64:])).encryptor()
    ct = enc.update(padder.update(plaintext) + padder.finalize()) + enc.finalize()
    body = (field_bytes(1, b"\x05" + ratchet_pub) + field_u32(2, n)
            + field_u32(3, max(pn - 1, 0)) + field_bytes(4, ct))
    mac = hmac.new(keys[32:64], mac_ad + b"\x33" + body, hashlib.sha256).digest()[:8]
    return b"\x33" + body + mac


def x3dh(ika, eka, ikb_pub, spkb_pub, opkb_pub=None):
    dhs = dh(ika, spkb_pub) + dh(eka, ikb_pub) + dh(eka, spkb_pub)
    if opkb_pub:
        dhs += dh(eka, opkb_pub)
    return hkdf(b"\xff" * 32 + dhs, b"WhisperText", 32)


def parse_whisper(msg):
    """(ratchet key, counter, previousCounter) of a WhisperMessage."""
    body, fields, i = msg[1:-8], {}, 0
    while i < len(body):
        tag = body[i]
        i += 1
        if tag & 7 == 0:
            v, shift = 0, 0
            while True:
                b = body[i]
                i += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            fields[tag >> 3] = v
        else:
            ln = body[i]
            i += 1
            fields[tag >> 3] = body[i:i + ln]
            i += ln
    return fields[1], fields[2], fields[3]


def key(i):
    return hashlib.sha256(b"selftest key %d" % i).digest()


def sign(priv, message):
    # XEdDSA as libsignal computes it (test-side only).
    import axolotl_curve25519 as curve
    clamped = curve.generatePrivateKey(bytes(bytearray(priv)))  # curve25519_sign needs a clamped scalar
    return curve.calculateSignature(os.urandom(64), clamped, message)


# --- shim driver ----------------------------------------------------------------

class Shim:
    def __init__(self, command):
        self.proc = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=os.path.join(HERE, "..", "..", ".."))
        self.id = 0
        self.handshake = self.call("handshake", protocol=1)["result"]

    def call(self, op, **fields):
        self.id += 1
        self.proc.stdin.write(json.dumps({"id": self.id, "op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        response = json.loads(self.proc.stdout.readline())
        assert response["id"] == self.id, response
        return response

    def ok(self, op, **fields):
        response = self.call(op, suite=SUITE, **fields)
        if "error" in response:
            raise AssertionError(f"{op} refused: {response['error']}")
        return response["result"]

    def err(self, op, **fields):
        response = self.call(op, suite=SUITE, **fields)
        return response.get("error", {}).get("class", "accepted")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(5)


def H(b):
    return b.hex()


# --- tests ----------------------------------------------------------------------

def test_primitives(s):
    rk, dh_out, ck, mk = key(1), key(2), key(3), key(4)
    r = s.ok("kdf_rk", rootKey=H(rk), dhOutput=H(dh_out))
    check((bytes.fromhex(r["rootKey"]), bytes.fromhex(r["chainKey"])) == kdf_rk(rk, dh_out), "kdf_rk")
    r = s.ok("kdf_ck", chainKey=H(ck))
    check((bytes.fromhex(r["chainKey"]), bytes.fromhex(r["messageKey"])) == kdf_ck(ck), "kdf_ck")
    r = s.ok("message_keys", messageKey=H(mk))
    check(bytes.fromhex(r["keys"]) == message_keys(mk), "message_keys (80 bytes)")
    for pn, n, pt, ad in [(0, 0, b"", b""), (1, 0, b"hello", b"\x05" * 66), (7, 300, b"x" * 33, b"abc")]:
        r = s.ok("seal", messageKey=H(mk), ratchetKey=H(pub(key(5))), pn=pn, n=n, plaintext=H(pt), ad=H(ad))
        check(bytes.fromhex(r["message"]) == seal(mk, pub(key(5)), pn, n, pt, ad),
              f"seal pn={pn} n={n} len(pt)={len(pt)} len(ad)={len(ad)}")


def test_x3dh(s):
    ika, eka, ikb, spkb, opkb = key(10), key(11), key(12), key(13), key(14)
    sig = sign(ikb, b"\x05" + pub(spkb))
    ad = b"\x05" + pub(ika) + b"\x05" + pub(ikb)
    for otk in (False, True):
        extra_i = {"peerOneTimePrekey": H(pub(opkb))} if otk else {}
        extra_r = {"oneTimePrekeyPrivateKey": H(opkb)} if otk else {}
        a = s.ok("x3dh_initiate", identityPrivateKey=H(ika), ephemeralPrivateKey=H(eka), peerIdentityKey=H(pub(ikb)),
                 peerSignedPrekey=H(pub(spkb)), peerSignedPrekeySignature=H(sig), **extra_i)
        b = s.ok("x3dh_respond", identityPrivateKey=H(ikb), signedPrekeyPrivateKey=H(spkb),
                 peerIdentityKey=H(pub(ika)), peerEphemeralKey=H(pub(eka)), **extra_r)
        want = x3dh(ika, eka, pub(ikb), pub(spkb), pub(opkb) if otk else None)
        check(a["sharedKey"] == b["sharedKey"] == H(want), f"x3dh SK, one-time prekey={otk}")
        check(a["associatedData"] == b["associatedData"] == H(ad), f"x3dh AD, one-time prekey={otk}")
    bad = bytearray(sig)
    bad[5] ^= 1
    cls = s.err("x3dh_initiate", identityPrivateKey=H(ika), ephemeralPrivateKey=H(eka), peerIdentityKey=H(pub(ikb)),
                peerSignedPrekey=H(pub(spkb)), peerSignedPrekeySignature=H(bytes(bad)))
    check(cls == "authentication", f"x3dh_initiate bad signature -> authentication ({cls})")


def test_direct_sessions(s, compare=None):
    sk = key(20)
    ad = b"\x05" + pub(key(21)) + b"\x05" + pub(key(22))
    bob_spk = key(23)
    alice_keys, bob_keys = [key(30 + i) for i in range(4)], [key(40 + i) for i in range(4)]

    def pair(shim):
        a = shim.ok("init_session", role="alice", sharedKey=H(sk), ratchetKey=H(pub(bob_spk)),
                    ratchetPrivateKeys=[H(k) for k in alice_keys])["session"]
        b = shim.ok("init_session", role="bob", sharedKey=H(sk), ratchetKey=H(bob_spk),
                    ratchetPrivateKeys=[H(k) for k in bob_keys])["session"]
        return a, b

    a, b = pair(s)
    check(s.err("encrypt", session=b, plaintext=H(b"x"), ad=H(ad)) == "state", "Bob encrypting first -> state")
    m0 = bytes.fromhex(s.ok("encrypt", session=a, plaintext=H(b"first"), ad=H(ad))["message"])
    rk1, ck = kdf_rk(sk, dh(alice_keys[0], pub(bob_spk)))
    want = seal(kdf_ck(ck)[1], pub(alice_keys[0]), 0, 0, b"first", ad)
    check(m0 == want, "Alice's first message is byte-identical to an independent encoding")
    m1 = bytes.fromhex(s.ok("encrypt", session=a, plaintext=H(b"second"), ad=H(ad))["message"])
    check(s.err("decrypt", session=b, message=H(m0), ad=H(b"\x05" * 65)) == "invalid_key", "ad of 65 bytes -> invalid_key")
    bad_ad = ad[:40] + bytes([ad[40] ^ 1]) + ad[41:]
    check(s.err("decrypt", session=b, message=H(m0), ad=H(bad_ad)) == "authentication",
          "wrong identity in ad -> authentication")
    check(s.ok("decrypt", session=b, message=H(m1), ad=H(ad))["plaintext"] == H(b"second"), "Bob decrypts out of order")
    check(s.ok("decrypt", session=b, message=H(m0), ad=H(ad))["plaintext"] == H(b"first"), "Bob decrypts the skipped one")
    check(s.err("decrypt", session=b, message=H(m0), ad=H(ad)) == "duplicate", "replay -> duplicate")
    r0 = bytes.fromhex(s.ok("encrypt", session=b, plaintext=H(b"reply"), ad=H(ad))["message"])
    rkey, n, pc = parse_whisper(r0)
    check(rkey == b"\x05" + pub(bob_keys[0]) and n == 0 and pc == 0, "Bob's reply uses ratchetPrivateKeys[0], PN 0")
    # Bob's reply is MACed with ad swapped.
    rk_b1, ckr = kdf_rk(rk1, dh(bob_keys[0], pub(alice_keys[0])))
    want = seal(kdf_ck(ckr)[1], pub(bob_keys[0]), 0, 0, b"reply", ad[33:] + ad[:33])
    check(r0 == want, "Bob's reply is byte-identical to an independent encoding (MAC-AD swapped)")
    # Tampered reply: Alice's ratchet step fails and must not use up alice_keys[1].
    tampered = bytearray(r0)
    tampered[-1] ^= 1
    check(s.err("decrypt", session=a, message=H(bytes(tampered)), ad=H(ad)) == "authentication", "bad MAC -> authentication")
    check(s.ok("decrypt", session=a, message=H(r0), ad=H(ad))["plaintext"] == H(b"reply"), "genuine after rejected")
    m2 = bytes.fromhex(s.ok("encrypt", session=a, plaintext=H(b"third"), ad=H(ad))["message"])
    rkey, n, pc = parse_whisper(m2)
    check(rkey == b"\x05" + pub(alice_keys[1]) and n == 0 and pc == 1,
          "rejected message used up no key: Alice's next ratchet key is entry 1; previousCounter = 2-1")
    # Version byte, empty, truncated, too many skipped.
    check(s.err("decrypt", session=b, message=H(b"\x43" + m2[1:]), ad=H(ad)) == "unsupported", "version 0x43 -> unsupported")
    check(s.err("decrypt", session=b, message=H(b"\x13" + m2[1:]), ad=H(ad)) == "unsupported", "version 0x13 -> unsupported")
    check(s.err("decrypt", session=b, message="", ad=H(ad)) == "malformed", "empty -> malformed")
    check(s.err("decrypt", session=b, message=H(m2[:20]), ad=H(ad)) != "accepted", "truncated -> refused")
    # clone, then both copies decrypt the same message independently.
    c = s.ok("clone_session", session=b, ratchetPrivateKeys=[H(k) for k in bob_keys[1:]])["session"]
    check(s.ok("decrypt", session=c, message=H(m2), ad=H(ad))["plaintext"] == H(b"third"), "clone decrypts")
    check(s.ok("decrypt", session=b, message=H(m2), ad=H(ad))["plaintext"] == H(b"third"), "original decrypts too")
    rc = parse_whisper(bytes.fromhex(s.ok("encrypt", session=c, plaintext="00", ad=H(ad))["message"]))
    rb = parse_whisper(bytes.fromhex(s.ok("encrypt", session=b, plaintext="00", ad=H(ad))["message"]))
    check(rc[0] == b"\x05" + pub(bob_keys[1]) and rb[0] == b"\x05" + pub(bob_keys[1]),
          "clone draws from its own list")
    # too many skipped: 2001 ahead on a fresh chain is refused; exactly 2000 ahead is not.
    s.ok("reset")
    a, b = pair(s)
    msgs = [bytes.fromhex(s.ok("encrypt", session=a, plaintext=H(b"%d" % i), ad=H(ad))["message"]) for i in range(2002)]
    check(s.err("decrypt", session=b, message=H(msgs[2001]), ad=H(ad)) == "too_many_skipped", "2001 skipped -> too_many_skipped")
    check(s.ok("decrypt", session=b, message=H(msgs[2000]), ad=H(ad))["plaintext"] == H(b"2000"), "2000 skipped accepted")
    check(s.ok("decrypt", session=b, message=H(msgs[1]), ad=H(ad))["plaintext"] == H(b"1"), "skipped key kept")

    if compare is not None:
        for shim, name in ((s, "this"), (compare, "other")):
            shim.ok("reset")
        outs = []
        for shim in (s, compare):
            a, b = pair(shim)
            seq = [shim.ok("encrypt", session=a, plaintext=H(b"m%d" % i), ad=H(ad))["message"] for i in range(3)]
            shim.ok("decrypt", session=b, message=seq[2], ad=H(ad))
            seq += [shim.ok("encrypt", session=b, plaintext=H(b"r%d" % i), ad=H(ad))["message"] for i in range(2)]
            shim.ok("decrypt", session=a, message=seq[-1], ad=H(ad))
            seq += [shim.ok("encrypt", session=a, plaintext=H(b"n%d" % i), ad=H(ad))["message"] for i in range(2)]
            outs.append(seq)
        check(outs[0] == outs[1], "init_session encrypt outputs byte-identical across the two shims")
        outs = []
        for shim in (s, compare):
            shim.ok("reset")
            a = prekey_pair(shim, compare, True, [key(60 + i) for i in range(3)], [key(70 + i) for i in range(3)])[0]
            outs.append([shim.ok("encrypt", session=a, plaintext=H(b"p%d" % i), ad="")["message"] for i in range(2)])
        check(outs[0] == outs[1], "prekey_initiate encrypt outputs byte-identical across the two shims")


def prekey_pair(s, t, with_otk, alice_ratchets, bob_ratchets, first=b"hello bob"):
    ika, eka, ikb, spkb, opkb = key(50), key(51), key(52), key(53), key(54)
    sig = sign(ikb, b"\x05" + pub(spkb))
    extra_i = {"peerOneTimePrekeyId": 77, "peerOneTimePrekey": H(pub(opkb))} if with_otk else {}
    extra_r = {"oneTimePrekeyId": 77, "oneTimePrekeyPrivateKey": H(opkb)} if with_otk else {}
    a = s.ok("prekey_initiate", identityPrivateKey=H(ika), registrationId=1234, ephemeralPrivateKey=H(eka),
             ratchetPrivateKeys=[H(k) for k in alice_ratchets], peerIdentityKey=H(pub(ikb)), peerRegistrationId=4321,
             peerSignedPrekeyId=5, peerSignedPrekey=H(pub(spkb)), peerSignedPrekeySignature=H(sig), **extra_i)["session"]
    m = s.ok("encrypt", session=a, plaintext=H(first), ad=H(b"\x05" + pub(ika) + b"\x05" + pub(ikb)))
    respond = dict(identityPrivateKey=H(ikb), registrationId=4321, signedPrekeyId=5, signedPrekeyPrivateKey=H(spkb),
                   ratchetPrivateKeys=[H(k) for k in bob_ratchets], **extra_r)
    r = t.call("prekey_respond", suite=SUITE, message=m["message"], **respond)
    r = r.get("result", r)
    return a, r.get("session"), m, r, respond, b"\x05" + pub(ika) + b"\x05" + pub(ikb), (ika, eka, ikb, spkb, opkb)


def test_prekey(s, t):
    for with_otk in (False, True):
        s.ok("reset")
        t.ok("reset")
        ar, br = [key(60 + i) for i in range(6)], [key(70 + i) for i in range(6)]
        a, b, m, r, respond, ad, (ika, eka, ikb, spkb, opkb) = prekey_pair(s, t, with_otk, ar, br)
        tag = f"(one-time prekey={with_otk})"
        if not with_otk:
            # Finding: PreKeyWhisperMessage(serialized=...) reads the absent
            # field 1 as preKeyId 0 (proto2 default), so processV3 looks up
            # one-time prekey 0 and fails.
            check(r.get("error", {}).get("class") == "invalid_key" and "prekeyRecord! 0" in r["error"]["message"],
                  f"python-axolotl refuses a prekey message without one-time prekey (preKeyId read as 0) {tag}")
            continue
        check(m["messageType"] == "prekey", f"Alice's first message is a PreKeyWhisperMessage {tag}")
        check(r["plaintext"] == H(b"hello bob"), f"prekey_respond returns the plaintext {tag}")
        # The embedded WhisperMessage against an independent derivation.
        sk = x3dh(ika, eka, pub(ikb), pub(spkb), pub(opkb) if with_otk else None)
        rk1, ck = kdf_rk(sk, dh(ar[0], pub(spkb)))
        want_inner = seal(kdf_ck(ck)[1], pub(ar[0]), 0, 0, b"hello bob", ad)
        want = b"\x33" + ((field_u32(1, 77) if with_otk else b"") + field_bytes(2, b"\x05" + pub(eka))
                          + field_bytes(3, b"\x05" + pub(ika)) + field_bytes(4, want_inner)
                          + field_u32(5, 1234) + field_u32(6, 5))
        check(bytes.fromhex(m["message"]) == want, f"PreKeyWhisperMessage byte-identical to an independent encoding {tag}")
        # Alice keeps sending prekey messages until she hears back; Bob accepts them.
        m2 = s.ok("encrypt", session=a, plaintext=H(b"again"), ad=H(ad))
        m3 = s.ok("encrypt", session=a, plaintext=H(b"and again"), ad=H(ad))
        check(m2["messageType"] == "prekey", f"second message before a reply is still prekey {tag}")
        check(t.ok("decrypt", session=b, message=m3["message"], messageType="prekey", ad=H(ad))["plaintext"] == H(b"and again"),
              f"Bob decrypts a later prekey message out of order {tag}")
        check(t.err("decrypt", session=b, message=m3["message"], messageType="prekey", ad=H(ad)) == "duplicate",
              f"prekey replay -> duplicate {tag}")
        # Bob replies: whisper type, with his ratchet key entry 0.
        r1 = t.ok("encrypt", session=b, plaintext=H(b"hi alice"), ad=H(ad))
        r2 = t.ok("encrypt", session=b, plaintext=H(b"hi again"), ad=H(ad))
        check(r1["messageType"] == "whisper", f"Bob's replies are WhisperMessages {tag}")
        check(parse_whisper(bytes.fromhex(r1["message"]))[0] == b"\x05" + pub(br[0]), f"Bob's ratchet key is entry 0 {tag}")
        check(s.ok("decrypt", session=a, message=r2["message"], messageType="whisper", ad=H(ad))["plaintext"] == H(b"hi again"),
              f"Alice decrypts Bob's second reply first {tag}")
        m4 = s.ok("encrypt", session=a, plaintext=H(b"ack"), ad=H(ad))
        check(m4["messageType"] == "whisper", f"after a reply Alice sends WhisperMessages {tag}")
        check(parse_whisper(bytes.fromhex(m4["message"]))[0] == b"\x05" + pub(ar[1]), f"Alice's second ratchet key is entry 1 {tag}")
        # Late prekey message m2 from the first chain, after Bob has ratcheted? Bob decrypts it from the kept chain.
        check(t.ok("decrypt", session=b, message=m2["message"], messageType="prekey", ad=H(ad))["plaintext"] == H(b"again"),
              f"late prekey message from the first chain {tag}")
        check(t.ok("decrypt", session=b, message=m4["message"], ad=H(ad))["plaintext"] == H(b"ack"), f"Bob ratchets {tag}")
        check(s.ok("decrypt", session=a, message=r1["message"], ad=H(ad))["plaintext"] == H(b"hi alice"),
              f"Alice decrypts the skipped reply after her own ratchet step {tag}")
        # several more rounds
        ok = True
        for round_ in range(4):
            x = s.ok("encrypt", session=a, plaintext=H(b"a%d" % round_), ad=H(ad))
            y = t.ok("decrypt", session=b, message=x["message"], ad=H(ad))
            z = t.ok("encrypt", session=b, plaintext=H(b"b%d" % round_), ad=H(ad))
            w = s.ok("decrypt", session=a, message=z["message"], ad=H(ad))
            ok &= y["plaintext"] == H(b"a%d" % round_) and w["plaintext"] == H(b"b%d" % round_)
        check(ok, f"four more round trips {tag}")
        # Clone Bob (prekey session) and continue on both.
        x = s.ok("encrypt", session=a, plaintext=H(b"to both"), ad=H(ad))
        c = t.ok("clone_session", session=b, ratchetPrivateKeys=[H(key(90))])["session"]
        check(t.ok("decrypt", session=c, message=x["message"], ad=H(ad))["plaintext"] == H(b"to both")
              and t.ok("decrypt", session=b, message=x["message"], ad=H(ad))["plaintext"] == H(b"to both"),
              f"prekey clone decrypts independently {tag}")
    # Unknown signed prekey id / one-time prekey id -> invalid_key; bad signature -> authentication.
    s.ok("reset")
    t.ok("reset")
    a, b, m, r, respond, ad, keys = prekey_pair(s, t, True, [key(1)], [key(2)])
    for field, value in (("signedPrekeyId", 6), ("oneTimePrekeyId", 78)):
        cls = t.err("prekey_respond", message=m["message"], **{**respond, field: value})
        check(cls == "invalid_key", f"prekey_respond unknown {field} -> invalid_key ({cls})")
    tampered = bytearray(bytes.fromhex(m["message"]))
    tampered[-6] ^= 1  # the embedded message's last MAC byte (fields 5 and 6 take the last 5 bytes)
    cls = t.err("prekey_respond", message=H(bytes(tampered)), **respond)
    check(cls == "authentication", f"prekey_respond bad MAC -> authentication ({cls})")
    cls = t.err("prekey_respond", message="", **respond)
    check(cls == "malformed", f"prekey_respond empty -> malformed ({cls})")
    cls = t.err("prekey_respond", message=H(b"\x43" + bytes.fromhex(m["message"])[1:]), **respond)
    check(cls == "unsupported", f"prekey_respond version 4 -> unsupported ({cls})")
    ika, eka, ikb, spkb, opkb = keys
    cls = s.err("prekey_initiate", identityPrivateKey=H(ika), registrationId=1, ephemeralPrivateKey=H(eka),
                ratchetPrivateKeys=[H(key(1))], peerIdentityKey=H(pub(ikb)), peerRegistrationId=2,
                peerSignedPrekeyId=5, peerSignedPrekey=H(pub(spkb)),
                peerSignedPrekeySignature=H(sign(ika, b"\x05" + pub(spkb))))
    check(cls == "authentication", f"prekey_initiate signature by the wrong key -> authentication ({cls})")


def alice_initial(s, ika, eka, ikb, spkb, opkb, with_otk, plaintext, ratchet):
    """Alice's first message through the shim's own session builder (prekey_initiate)."""
    sig = sign(ikb, b"\x05" + pub(spkb))
    extra = {"peerOneTimePrekeyId": 77, "peerOneTimePrekey": H(pub(opkb))} if with_otk else {}
    a = s.ok("prekey_initiate", identityPrivateKey=H(ika), registrationId=1234, ephemeralPrivateKey=H(eka),
             ratchetPrivateKeys=[H(ratchet)], peerIdentityKey=H(pub(ikb)), peerRegistrationId=4321,
             peerSignedPrekeyId=5, peerSignedPrekey=H(pub(spkb)), peerSignedPrekeySignature=H(sig), **extra)["session"]
    return s.ok("encrypt", session=a, plaintext=H(plaintext), ad=H(b"\x05" + pub(ika) + b"\x05" + pub(ikb)))["message"]


def accept_request(ikb, spkb, opkb, ratchets, messages):
    return dict(identityPrivateKey=H(ikb), signedPrekeys=[{"id": 5, "privateKey": H(spkb)}],
                oneTimePrekeys=[{"id": 77, "privateKey": H(opkb)}, {"id": 78, "privateKey": H(key(119))}],
                ratchetPrivateKeys=[H(k) for k in ratchets], initialMessages=messages)


def test_accept(s, t):
    """x3dh_accept: one store receiving several initial messages from one address."""
    def cls(outcome):
        return outcome.get("error", {}).get("class", "accepted")

    ika, ikc, ikb, spkb, opkb = key(110), key(111), key(112), key(113), key(114)
    ad = b"\x05" + pub(ika) + b"\x05" + pub(ikb)
    m1 = alice_initial(s, ika, key(115), ikb, spkb, opkb, True, b"first", key(116))
    m2 = alice_initial(s, ikc, key(117), ikb, spkb, opkb, True, b"carol", key(118))  # the same one-time prekey, served twice
    forged = bytearray(bytes.fromhex(m1))
    forged[-6] ^= 1  # the embedded message's last MAC byte (fields 5 and 6 take the last 5 bytes)
    r = t.ok("x3dh_accept", **accept_request(ikb, spkb, opkb, [key(120), key(121)], [H(bytes(forged)), m1, m1, m2]))
    r = r["outcomes"]
    check(len(r) == 4, "x3dh_accept: one outcome per initial message")
    check(cls(r[0]) == "authentication", f"x3dh_accept: forged first message -> authentication ({cls(r[0])})")
    check(r[1] == {"plaintext": H(b"first"), "associatedData": H(ad), "peerIdentityKey": H(pub(ika))},
          "x3dh_accept: the genuine message after the forgery is accepted (plaintext, AD, IKa): the prekey survived")
    # Same base key on the same address: the package decrypts it on the session it already
    # has (sessionbuilder.py:58), whose message 0 is used: duplicate (vector tcId 3 says invalid_key).
    check(cls(r[2]) == "duplicate", f"x3dh_accept: replay of the accepted message -> duplicate, the existing session's ({cls(r[2])})")
    check(cls(r[3]) == "invalid_key", f"x3dh_accept: another initiator naming the used one-time prekey -> invalid_key ({cls(r[3])})")
    m3 = alice_initial(s, ika, key(122), ikb, spkb, opkb, False, b"no otk", key(123))
    r = t.ok("x3dh_accept", **accept_request(ikb, spkb, opkb, [key(124), key(125)], [m3, m3]))["outcomes"]
    if t.handshake["name"] == "python-axolotl":
        check(all(cls(o) == "invalid_key" and "prekeyRecord! 0" in o["error"]["message"] for o in r),
              "x3dh_accept: python-axolotl refuses an initial message without one-time prekey, and its replay (F8)")
    else:
        check(cls(r[0]) == "accepted" and r[0]["plaintext"] == H(b"no otk") and cls(r[1]) == "duplicate",
              f"x3dh_accept without one-time prekey: accepted, then its replay -> duplicate ({cls(r[0])}, {cls(r[1])})")
    bad = accept_request(ikb, spkb, opkb, [key(124)], [m3])
    bad["oneTimePrekeys"] = [{"id": 77, "privateKey": H(opkb[:31])}]
    c = t.err("x3dh_accept", **bad)
    check(c == "invalid_key", f"x3dh_accept: a 31-byte one-time prekey refuses the request ({c})")


def main():
    parser = argparse.ArgumentParser()
    default = f"{shlex.quote(os.path.join(HERE, '.venv/bin/python'))} {shlex.quote(os.path.join(HERE, 'shim.py'))}"
    parser.add_argument("--shim", default=default)
    parser.add_argument("--compare")
    args = parser.parse_args()
    s, t = Shim(args.shim), Shim(args.shim)
    print(f"# {s.handshake['name']} {s.handshake['version']}")
    other = Shim(args.compare) if args.compare else None
    test_primitives(s)
    test_x3dh(s)
    test_direct_sessions(s, other)
    test_prekey(s, t)
    test_accept(s, t)
    if other is not None:
        print(f"# compared with {other.handshake['name']} {other.handshake['version']}")
        test_primitives(other)
        test_x3dh(other)
        other.close()
    s.close()
    t.close()
    print(f"{len(FAILURES)} failed" if FAILURES else "all passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
