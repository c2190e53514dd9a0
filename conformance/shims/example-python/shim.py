#!/usr/bin/env python3
"""A minimal ratchetproof shim: the handshake and the four primitives of the
default suite x25519-sha256-aes256gcm (docs/SPEC.md section 3), nothing else.

It shows what partial support looks like: the handshake declares only the
`primitives` operation group, so the runner reports every X3DH and session
case as *skipped* (never failed) and sends none of their requests. Protocol:
docs/SHIM.md. Needs Python 3.8+ and the `cryptography` package (AES-GCM).

    ratchetproof run --shim "python3 conformance/shims/example-python/shim.py"
"""

import hashlib
import hmac
import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SUITE = "x25519-sha256-aes256gcm"
INFO_ROOT = b"ratchetproof/x25519-sha256-aes256gcm/root"
INFO_MESSAGE_KEYS = b"ratchetproof/x25519-sha256-aes256gcm/message-keys"


class Refused(Exception):
    """An answer of the form {"error": {"class": ..., "message": ...}}."""

    def __init__(self, cls, message):
        super().__init__(message)
        self.cls = cls


def hkdf(salt, ikm, info, length):
    """RFC 5869 HKDF-SHA256."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm, counter = okm + block, counter + 1
    return okm[:length]


def key32(req, field):
    """A 32-byte input; any other length is refused as `invalid_key`."""
    value = bytes.fromhex(req[field])
    if len(value) != 32:
        raise Refused("invalid_key", f"{field} must be 32 bytes, got {len(value)}")
    return value


def check_suite(req):
    if req["suite"] != SUITE:
        raise Refused("unsupported", f"unknown suite {req['suite']!r}")


def kdf_rk(req):
    check_suite(req)
    okm = hkdf(key32(req, "rootKey"), key32(req, "dhOutput"), INFO_ROOT, 64)
    return {"rootKey": okm[:32].hex(), "chainKey": okm[32:].hex()}


def kdf_ck(req):
    check_suite(req)
    ck = key32(req, "chainKey")
    return {
        "chainKey": hmac.new(ck, b"\x02", hashlib.sha256).hexdigest(),
        "messageKey": hmac.new(ck, b"\x01", hashlib.sha256).hexdigest(),
    }


def expand(mk):
    okm = hkdf(b"\x00" * 32, mk, INFO_MESSAGE_KEYS, 44)
    return okm[:32], okm[32:]


def message_keys(req):
    check_suite(req)
    key, nonce = expand(key32(req, "messageKey"))
    return {"keys": (key + nonce).hex()}


def seal(req):
    check_suite(req)
    key, nonce = expand(key32(req, "messageKey"))
    prefix = b"\x01" + key32(req, "ratchetKey") + struct.pack(">II", req["pn"], req["n"])
    ad = bytes.fromhex(req["ad"])
    aad = struct.pack(">I", len(ad)) + ad + prefix
    sealed = AESGCM(key).encrypt(nonce, bytes.fromhex(req["plaintext"]), aad)
    return {"message": (prefix + sealed).hex()}


def handshake(req):
    return {
        "protocol": 1,
        "name": "example-python",
        "version": "0.1.0",
        "suites": [SUITE],
        "operations": ["primitives"],  # no x3dh, no session: those cases are skipped
        "maxSkip": None,
        "maxStoredSkippedKeys": None,
        "configurableLimits": False,
        "injectedRandomness": False,
        "clone": False,
    }


def reset(req):
    return {}  # no sessions to drop


OPS = {"handshake": handshake, "kdf_rk": kdf_rk, "kdf_ck": kdf_ck,
       "message_keys": message_keys, "seal": seal, "reset": reset}


def main():
    # One request per line in, one response per line out, flushed; exit when
    # stdin closes. Logs belong on stderr: stdout carries only responses.
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            op = OPS.get(req["op"])
            if op is None:
                raise Refused("unsupported", f"operation {req['op']!r} is not implemented")
            response = {"id": req["id"], "result": op(req)}
        except Refused as e:
            response = {"id": req["id"], "error": {"class": e.cls, "message": str(e)}}
        print(json.dumps(response), flush=True)


if __name__ == "__main__":
    main()
