#!/usr/bin/env python3
"""ratchetproof shim for vodozemac (PyPI `vodozemac` 0.10.0, matrix-nio's
Python bindings to the Rust crate vodozemac 0.10.0): suite `olm-v1`
(docs/OLM-V1.md), for LIVE conversations only.

vodozemac draws every key from the operating system (`OsRng` inside the Rust
crate); neither the crate nor the bindings take a random source. The shim
therefore says `"injectedRandomness": false` (the runner skips every vector
case) and implements the live extension of docs/SHIM.md §4.4 (olm-v1):

  prekey_bundle   {suite} -> {identityKey, oneTimePrekey}: a fresh Account with
                  one one-time key; the shim keeps it as a Bob to be.
  prekey_respond  {suite, message} -> {session, plaintext}: Bob with the bundle
                  account whose one-time key the pre-key message names
                  (vodozemac removes the key from the account on success).
                  With injected private keys it refuses (`unsupported`):
                  it cannot hold a given identity key.
  prekey_initiate {suite, peerIdentityKey, peerOneTimePrekey, ...} -> {session,
                  identityKey}: Alice with a fresh Account. Injected private
                  keys cannot be used; they are not silently ignored either:
                  `identityKey` is always the key the session really uses, and
                  a runner compares it with the one it injected.

`encrypt` / `decrypt` / `clone_session` (`Session.pickle` / `from_pickle`; the
clone draws its own keys, the request's list is unusable) as in the contract.
A pre-key message on an existing session must pass `Session.session_matches`.
vodozemac's `create_inbound_session` takes the sender's identity key as an
argument (Matrix clients pass the event's `sender_key`); the shim reads it
from the pre-key message's own field 3 after vodozemac decoded the message.

Protocol: docs/SHIM.md (JSON lines on stdin/stdout; logs go to stderr).
"""

import importlib.metadata
import json
import sys
import traceback

import vodozemac as vz

SUITE = "olm-v1"
PICKLE_KEY = bytes(32)


class Refused(Exception):
    """A refusal the shim itself raises, with its ratchetproof error class."""

    def __init__(self, cls, message):
        super().__init__(message)
        self.cls = cls


def hexfield(req, name):
    value = req.get(name)
    if not isinstance(value, str):
        raise Refused("malformed", f"{name} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise Refused("malformed", f"{name} is not hex") from None


def check_suite(req):
    if req.get("suite") != SUITE:
        raise Refused("unsupported", f"suite {req.get('suite')!r}")


def check_ad(req):
    if req.get("ad", "") != "":
        raise Refused("unsupported", "olm-v1 has no associated data; ad must be empty")


def public_key(data, name):
    if len(data) != 32:
        raise Refused("invalid_key", f"{name} must be 32 bytes, got {len(data)}")
    return vz.Curve25519PublicKey.from_bytes(data)


def varint(data, pos):
    value, shift = 0, 0
    while pos < len(data) and shift < 70:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise Refused("malformed", "bad varint in the pre-key message")


def prekey_identity_key(data):
    """Field 3 (the sender's identity key) of a pre-key message (docs/OLM-V1.md §4.2)."""
    pos, found = 1, None  # after the version byte
    while pos < len(data):
        tag, pos = varint(data, pos)
        if tag & 7 == 0:
            _, pos = varint(data, pos)
        elif tag & 7 == 2:
            length, pos = varint(data, pos)
            if tag >> 3 == 3:
                found = data[pos:pos + length]
            pos += length
        else:
            break
    if found is None:
        raise Refused("malformed", "the pre-key message has no identity key")
    return public_key(found, "the pre-key message's identity key")


SESSIONS = {}
NEXT = [1]
BUNDLES = {}  # one-time public key (bytes) -> Account


def add(s):
    handle = NEXT[0]
    NEXT[0] += 1
    SESSIONS[handle] = s
    return handle


def session(req):
    handle = req.get("session")
    if not isinstance(handle, int) or handle not in SESSIONS:
        raise Refused("state", f"unknown session {handle!r}")
    return SESSIONS[handle]


def handshake(req):
    return {
        "protocol": 1,
        "name": "vodozemac",
        "version": f"{importlib.metadata.version('vodozemac')} (Python bindings, crate vodozemac 0.10.0)",
        "suites": [SUITE],
        "operations": ["prekey", "session", "prekey_bundle"],
        "maxSkip": 2000,
        "maxStoredSkippedKeys": 40,  # per receiver chain (docs/OLM-V1.md §7)
        "configurableLimits": False,
        "injectedRandomness": False,
        "clone": True,
    }


def prekey_bundle(req):
    check_suite(req)
    account = vz.Account()
    account.generate_one_time_keys(1)
    (one_time,) = account.one_time_keys.values()
    account.mark_keys_as_published()
    BUNDLES[one_time.to_bytes()] = account
    return {"identityKey": account.curve25519_key.to_bytes().hex(), "oneTimePrekey": one_time.to_bytes().hex()}


def prekey_initiate(req):
    check_suite(req)
    peer_identity = public_key(hexfield(req, "peerIdentityKey"), "peerIdentityKey")
    peer_one_time = public_key(hexfield(req, "peerOneTimePrekey"), "peerOneTimePrekey")
    account = vz.Account()
    s = account.create_outbound_session(peer_identity, peer_one_time)
    if any(k in req for k in ("identityPrivateKey", "ephemeralPrivateKey", "ratchetPrivateKeys")):
        print("prekey_initiate: injected keys cannot be used; identityKey names the session's own",
              file=sys.stderr)
    return {"session": add(s), "identityKey": account.curve25519_key.to_bytes().hex()}


def prekey_respond(req):
    check_suite(req)
    if any(k in req for k in ("identityPrivateKey", "oneTimePrekeyPrivateKey")):
        raise Refused("unsupported", "vodozemac cannot take injected keys; "
                                     "publish Bob's keys with prekey_bundle and respond without them")
    message = hexfield(req, "message")
    prekey = vz.AnyOlmMessage.pre_key(message).to_pre_key()  # vodozemac's own decoding first
    sender = prekey_identity_key(message)
    for one_time, account in BUNDLES.items():
        try:
            s, plaintext = account.create_inbound_session(sender, prekey)
        except vz.SessionCreationException as e:
            if "unknown one-time key" in str(e):
                continue
            raise
        if not account.one_time_keys:
            del BUNDLES[one_time]  # vodozemac removed the used key itself
        return {"session": add(s), "plaintext": plaintext.hex()}
    raise Refused("invalid_key", "the pre-key message names no one-time key of a prekey_bundle")


def encrypt(req):
    s = session(req)
    check_ad(req)
    kind, body = s.encrypt(hexfield(req, "plaintext")).to_parts()
    return {"message": body.hex(), "messageType": "prekey" if kind == 0 else "whisper"}


def decrypt(req):
    s = session(req)
    check_ad(req)
    message = hexfield(req, "message")
    kind = req.get("messageType", "whisper")  # absent: a normal message (docs/SHIM.md §4.4)
    if kind == "prekey":
        any_message = vz.AnyOlmMessage.pre_key(message)
        if not s.session_matches(any_message.to_pre_key()):
            raise Refused("state", "a pre-key message for another session (session_matches)")
    elif kind == "whisper":
        any_message = vz.AnyOlmMessage.normal(message)
    else:
        raise Refused("malformed", f"messageType must be \"prekey\" or \"whisper\", got {kind!r}")
    return {"plaintext": s.decrypt(any_message).hex()}


def clone_session(req):
    s = session(req)
    return {"session": add(vz.Session.from_pickle(s.pickle(PICKLE_KEY), PICKLE_KEY))}


def reset(req):
    SESSIONS.clear()
    BUNDLES.clear()
    return {}


OPS = {f.__name__: f for f in (handshake, prekey_bundle, prekey_initiate, prekey_respond,
                                encrypt, decrypt, clone_session, reset)}

# vodozemac's errors reach Python as one exception type per module with the
# crate's Display text; the class follows the text (docs/OLM-V1.md §6).
TEXT_CLASSES = [
    ("invalid MAC", "authentication"),
    # SessionCreationException::Decryption: the first message did not decrypt
    # (the Display text hides which check failed; its MAC is the only one left
    # once the message decoded and named a known one-time key).
    ("used to establish the Session couldn't be decrypted", "authentication"),
    ("invalid padding", "authentication"),
    ("message key with the given key can't be created", "duplicate"),  # MissingMessageKey
    ("message gap was too big", "too_many_skipped"),
    ("contributory", "invalid_key"),
    ("unknown one-time key", "invalid_key"),
    ("identity key doesn't match", "invalid_key"),
    ("public key", "invalid_key"),
    ("version", "unsupported"),
]


def classify(e):
    if isinstance(e, Refused):
        return e.cls
    text = str(e)
    for needle, cls in TEXT_CLASSES:
        if needle in text:
            return cls
    if isinstance(e, vz.KeyException):
        return "invalid_key"
    if isinstance(e, vz.DecodeException):
        return "malformed"
    traceback.print_exc(file=sys.stderr)
    return "state"


def answer(req):
    if not isinstance(req, dict):
        return {"id": None, "error": {"class": "malformed", "message": "request is not an object"}}
    rid = req.get("id")
    try:
        op = OPS.get(req.get("op"))
        if op is None:
            raise Refused("unsupported", f"operation {req.get('op')!r}")
        return {"id": rid, "result": op(req)}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # pyo3's PanicException is a BaseException: still a refusal
        return {"id": rid, "error": {"class": classify(e), "message": f"{type(e).__name__}: {e}"}}


def main():
    for raw in sys.stdin.buffer:  # bytes: a line that is not UTF-8 must not end the loop
        line = raw.decode("utf-8", errors="replace")
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            req = None
            print(f"unparseable request: {e}", file=sys.stderr)
        sys.stdout.write(json.dumps(answer(req)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
