#!/usr/bin/env python3
"""ratchetproof shim for python-olm (PyPI `python-olm` 3.2.16, the Matrix.org
bindings to libolm 3.2.16, bundled in the wheel): suite `olm-v1`
(docs/OLM-V1.md), operations as in the Olm contract of docs/SHIM.md §4.4.

libolm builds sessions only through Olm's key agreement, so the shim offers
the `prekey` group (`prekey_initiate`, `prekey_respond`) and the `session`
group's `encrypt` / `decrypt` / `clone_session`; there is no `init_session`.

Randomness. python-olm draws every random byte through the module-level name
`URANDOM`, looked up at call time in `olm.account` and `olm.session` (the
wheel's account.py and session.py). The shim replaces both with one function
serving a queue of injected inputs, built per call from the request's keys:

  Account()                    64 bytes: Ed25519 seed (zeros) || Curve25519 identity private
  generate_one_time_keys(1)    32 bytes: the one-time private key
  OutboundSession(...)         64 bytes: base key E_A || Alice's first ratchet key T0
  Session.encrypt              32 bytes when it starts a new sending chain, else 0

A draw of 0 bytes takes nothing. A draw the queue cannot serve with an input
of exactly the asked length is refused (`state`) instead of inventing bytes;
a call that fails gives its draws back (the queue position is restored).

Without injected keys (the live extension of docs/SHIM.md §4.4: `prekey_bundle`,
`prekey_respond` without private keys, `prekey_initiate` without them) the
queue serves the operating system's randomness (`secrets.token_bytes`).

Decryption goes through libolm's own `olm_decrypt` (the wheel's `_libolm`
module), not `Session.decrypt`, because the latter decodes the plaintext as
UTF-8 with replacement and would change non-text plaintexts. A pre-key message
on an existing session is first checked with `Session.matches`
(`olm_matches_inbound_session`), as a Matrix client routes it; libolm's
`olm_decrypt` itself reads only the inner message.

Clone is libolm's pickle / unpickle (`Session.pickle`, `Session.from_pickle`).

Protocol: docs/SHIM.md (JSON lines on stdin/stdout; logs go to stderr).
"""

import base64
import importlib.metadata
import json
import secrets
import sys
import traceback

import olm
import olm.account
import olm.session
from _libolm import ffi, lib  # the wheel's cffi module, as olm/session.py imports it
from olm import OlmAccountError, OlmSessionError

SUITE = "olm-v1"
MAX_GAP = 2000
MAX_STORED = 40
ED25519_SEED = bytes(32)  # any fixed seed: the signing key takes no part in Olm


class Refused(Exception):
    """A refusal the shim itself raises, with its ratchetproof error class."""

    def __init__(self, cls, message):
        super().__init__(message)
        self.cls = cls


# --- randomness ----------------------------------------------------------------

class Draws:
    """A queue of injected inputs; `live` serves the OS's randomness instead."""

    def __init__(self, inputs=(), live=False):
        self.inputs, self.next, self.live = list(inputs), 0, live

    def take(self, n):
        if n == 0:
            return b""
        if self.live:
            return secrets.token_bytes(n)
        if self.next >= len(self.inputs):
            raise Refused("state", f"libolm asked for {n} random bytes; the injected keys ran dry")
        item = self.inputs[self.next]
        if len(item) != n:
            raise Refused("state", f"libolm asked for {n} random bytes; the next injected input has {len(item)}")
        self.next += 1
        return item


ACTIVE = [None]


def urandom(n):
    draws = ACTIVE[0]
    if draws is None:
        raise Refused("state", f"libolm drew {n} random bytes outside an operation that injects them")
    return draws.take(n)


olm.account.URANDOM = urandom
olm.session.URANDOM = urandom


class drawing:
    """Serves `draws` to libolm for the block; on an exception gives back what it drew."""

    def __init__(self, draws):
        self.draws = draws

    def __enter__(self):
        self.start = self.draws.next
        ACTIVE[0] = self.draws

    def __exit__(self, exc_type, exc, tb):
        ACTIVE[0] = None
        if exc_type is not None:
            self.draws.next = self.start
        return False


# --- helpers ----------------------------------------------------------------------

def b64(data):
    """libolm's base64: standard alphabet, unpadded."""
    return base64.b64encode(data).decode().rstrip("=")


def unb64(text):
    if isinstance(text, bytes):
        text = text.decode()
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hexfield(req, name, optional=False):
    value = req.get(name)
    if value is None:
        if optional:
            return None
        raise Refused("malformed", f"missing field {name}")
    if not isinstance(value, str):
        raise Refused("malformed", f"{name} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise Refused("malformed", f"{name} is not hex") from None


def private_key(req, name, optional=False):
    key = hexfield(req, name, optional)
    if key is not None and len(key) != 32:
        raise Refused("invalid_key", f"{name} must be 32 bytes, got {len(key)}")
    return key


def key_list(req, name="ratchetPrivateKeys"):
    keys = req.get(name)
    if keys is None:
        return None
    if not isinstance(keys, list):
        raise Refused("malformed", f"{name} must be an array")
    return [private_key({f"{name}[{i}]": k}, f"{name}[{i}]") for i, k in enumerate(keys)]


def check_suite(req):
    if req.get("suite") != SUITE:
        raise Refused("unsupported", f"suite {req.get('suite')!r}")


def check_ad(req):
    if req.get("ad", "") != "":
        raise Refused("unsupported", "olm-v1 has no associated data; ad must be empty")


def curve25519_identity(account):
    return unb64(account.identity_keys["curve25519"])


def new_account(identity_private, draws=None):
    """An account whose Curve25519 identity key is the injected one (or a live one)."""
    if identity_private is None:
        with drawing(draws or Draws(live=True)):
            return olm.Account()
    with drawing(Draws([ED25519_SEED + identity_private])):
        return olm.Account()


def add_one_time_key(account, one_time_private):
    draws = Draws(live=True) if one_time_private is None else Draws([one_time_private])
    with drawing(draws):
        account.generate_one_time_keys(1)
    keys = account.one_time_keys["curve25519"]
    return unb64(sorted(keys.items())[-1][1])  # the newest (ids increase)


def raw_decrypt(session, message_type, message):
    """libolm's olm_decrypt on the raw message, returning the plaintext's bytes."""
    body = b64(message).encode()
    buf = ffi.new("char[]", body)  # olm_decrypt* decode the base64 in place
    max_len = lib.olm_decrypt_max_plaintext_length(session._session, message_type, buf, len(body))
    session._check_error(max_len)
    out = ffi.new("char[]", max(max_len, 1))
    buf = ffi.new("char[]", body)
    n = lib.olm_decrypt(session._session, message_type, buf, len(body), out, max_len)
    session._check_error(n)
    return ffi.unpack(out, n)


# --- sessions ---------------------------------------------------------------------

class Session:
    def __init__(self, olm_session, draws):
        self.olm, self.draws = olm_session, draws


SESSIONS = {}
NEXT = [1]
BUNDLES = {}  # one-time public key -> account, for prekey_respond without private keys


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
        "name": "python-olm",
        "version": f"{importlib.metadata.version('python-olm')} (libolm {'.'.join(map(str, library_version()))})",
        "suites": [SUITE],
        "operations": ["prekey", "session", "prekey_bundle"],
        "maxSkip": MAX_GAP,
        "maxStoredSkippedKeys": MAX_STORED,
        "configurableLimits": False,
        "injectedRandomness": True,
        "clone": True,
    }


def library_version():
    v = [ffi.new("uint8_t *") for _ in range(3)]
    lib.olm_get_library_version(*v)
    return [x[0] for x in v]


def prekey_bundle(req):
    """Live extension (docs/SHIM.md §4.4): a fresh account with one one-time key,
    both drawn from the OS; prekey_respond without private keys answers with it."""
    check_suite(req)
    account = new_account(None)
    one_time = add_one_time_key(account, None)
    account.mark_keys_as_published()
    BUNDLES[one_time] = account
    return {"identityKey": curve25519_identity(account).hex(), "oneTimePrekey": one_time.hex()}


def prekey_initiate(req):
    check_suite(req)
    identity = private_key(req, "identityPrivateKey", optional=True)
    base = private_key(req, "ephemeralPrivateKey", optional=True)
    ratchet = key_list(req)
    peer_identity = hexfield(req, "peerIdentityKey")
    peer_one_time = hexfield(req, "peerOneTimePrekey")
    injected = identity is not None or base is not None or ratchet is not None
    if injected and (identity is None or base is None or not ratchet):
        raise Refused("state", "olm-v1 prekey_initiate needs identityPrivateKey, ephemeralPrivateKey "
                               "and ratchetPrivateKeys (T0 first) together, or none of them")
    for name, key in (("peerIdentityKey", peer_identity), ("peerOneTimePrekey", peer_one_time)):
        if len(key) != 32:
            raise Refused("invalid_key", f"{name} must be 32 bytes, got {len(key)}")
    account = new_account(identity)
    draws = Draws([base + ratchet[0]]) if injected else Draws(live=True)
    with drawing(draws):
        outbound = olm.OutboundSession(account, b64(peer_identity), b64(peer_one_time))
    own = Draws(ratchet[1:]) if injected else Draws(live=True)
    return {"session": add(Session(outbound, own)), "identityKey": curve25519_identity(account).hex()}


def prekey_respond(req):
    check_suite(req)
    identity = private_key(req, "identityPrivateKey", optional=True)
    one_time = private_key(req, "oneTimePrekeyPrivateKey", optional=True)
    ratchet = key_list(req)
    message = hexfield(req, "message")
    if (identity is None) != (one_time is None):
        raise Refused("state", "identityPrivateKey and oneTimePrekeyPrivateKey come together")
    if identity is None:
        return respond_live(message)
    # A transient account holding exactly the injected keys: a refusal consumes nothing.
    account = new_account(identity)
    add_one_time_key(account, one_time)
    inbound = inbound_session(account, message)
    plaintext = raw_decrypt(inbound, 0, message)
    draws = Draws(ratchet if ratchet is not None else [])
    return {"session": add(Session(inbound, draws)), "plaintext": plaintext.hex()}


def inbound_session(account, message):
    if not message:
        raise Refused("malformed", "empty pre-key message")
    return olm.InboundSession(account, olm.OlmPreKeyMessage(b64(message)))


def respond_live(message):
    """Bob with the account of an earlier prekey_bundle: the one the message names."""
    for one_time, account in BUNDLES.items():
        try:
            inbound = inbound_session(account, message)
        except OlmSessionError as e:
            if str(e) == "BAD_MESSAGE_KEY_ID":
                continue  # not this account's one-time key
            raise
        plaintext = raw_decrypt(inbound, 0, message)
        # The application's step: the used one-time key goes (libolm leaves it to us).
        account.remove_one_time_keys(inbound)
        del BUNDLES[one_time]
        return {"session": add(Session(inbound, Draws(live=True))), "plaintext": plaintext.hex()}
    raise Refused("invalid_key", "the pre-key message names no one-time key of a prekey_bundle")


def encrypt(req):
    s = session(req)
    check_ad(req)
    plaintext = hexfield(req, "plaintext")
    with drawing(s.draws):
        m = s.olm.encrypt(plaintext)
    kind = "prekey" if isinstance(m, olm.OlmPreKeyMessage) else "whisper"
    return {"message": unb64(m.ciphertext).hex(), "messageType": kind}


def decrypt(req):
    s = session(req)
    check_ad(req)
    message = hexfield(req, "message")
    kind = req.get("messageType", "whisper")  # absent: a normal message (docs/SHIM.md §4.4)
    if kind not in ("prekey", "whisper"):
        raise Refused("malformed", f"messageType must be \"prekey\" or \"whisper\", got {kind!r}")
    if not message:
        raise Refused("malformed", "empty message")
    with drawing(s.draws):  # libolm draws nothing here; any draw would be given back
        if kind == "prekey":
            if not s.olm.matches(olm.OlmPreKeyMessage(b64(message))):
                raise Refused("state", "a pre-key message for another session "
                                       "(olm_matches_inbound_session)")
            plaintext = raw_decrypt(s.olm, 0, message)
        else:
            plaintext = raw_decrypt(s.olm, 1, message)
    return {"plaintext": plaintext.hex()}


def clone_session(req):
    s = session(req)
    keys = key_list(req)
    copy = olm.Session.from_pickle(s.olm.pickle(""), "")
    draws = Draws(live=True) if s.draws.live and keys is None else Draws(keys or [])
    return {"session": add(Session(copy, draws))}


def reset(req):
    SESSIONS.clear()
    BUNDLES.clear()
    return {}


OPS = {f.__name__: f for f in (handshake, prekey_bundle, prekey_initiate, prekey_respond,
                                encrypt, decrypt, clone_session, reset)}

# libolm's error names (olm_session_last_error / olm_account_last_error), mapped
# to ratchetproof's classes as the Olm contract says (docs/OLM-V1.md §6).
LIBOLM_CLASSES = {
    "BAD_MESSAGE_MAC": "authentication",
    "BAD_MESSAGE_VERSION": "unsupported",
    "BAD_MESSAGE_FORMAT": "malformed",
    "BAD_MESSAGE_KEY_ID": "invalid_key",
    "INVALID_BASE64": "invalid_key",  # only keys reach libolm as base64 the shim did not write
    "BAD_ACCOUNT_KEY": "invalid_key",
    "NOT_ENOUGH_RANDOM": "state",
    "OUTPUT_BUFFER_TOO_SMALL": "state",
    "CORRUPTED_PICKLE": "state",
    "UNKNOWN_PICKLE_VERSION": "state",
}


def classify(e):
    if isinstance(e, Refused):
        return e.cls
    if isinstance(e, (OlmSessionError, OlmAccountError)):
        cls = LIBOLM_CLASSES.get(str(e))
        if cls is not None:
            return cls
    elif isinstance(e, ValueError):
        return "malformed"  # python-olm's own checks: empty keys or ciphertexts
    # Anything else is still a refusal; log where it came from.
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
    except BaseException as e:  # every input gets an answer, never a crash
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
