#!/usr/bin/env python3
"""Evidence for finding F1 in ../README.md: drives any shim (argv[1:], a
command) through one conversation over the shim protocol and prints what the
receiver says to a *genuine* message whose PN skips more than MAX_SKIP keys of
the receiver's current chain. [DR] SkipMessageKeys raises there.

    python3 pn_bound_evidence.py ratchetproof-reference-shim
    .venv/bin/python pn_bound_evidence.py .venv/bin/python shim.py

Standard library only; the keys are fixed, so every run prints the same.
"""

import hashlib
import json
import subprocess
import sys

# Bob's signed prekey (his first ratchet key pair), from the vectors' first case.
BOB_PRIV = "5c2f2323284ade08bfa6d5bdcfe67d8901b919050ac447e5eafa056e74e7b95b"
BOB_PUB = "fa95002b2999c44b5d0198a26b897e2ff5582266e9bcb95b6d2489f9b4d1ff7f"
MAX_SKIP, MAX_STORED = 10, 20


def key(label):
    return hashlib.sha256(label.encode()).hexdigest()


def main():
    shim = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ids = iter(range(1, 1 << 30))

    def call(op, **fields):
        shim.stdin.write(json.dumps({"id": next(ids), "op": op, **fields}) + "\n")
        shim.stdin.flush()
        response = json.loads(shim.stdout.readline())
        return response.get("result", response.get("error"))

    print("shim:", call("handshake", protocol=1)["name"])
    common = dict(suite="x25519-sha256-aes256gcm", sharedKey=key("sk"),
                  maxSkip=MAX_SKIP, maxStoredSkippedKeys=MAX_STORED)
    alice = call("init_session", role="alice", ratchetKey=BOB_PUB,
                 ratchetPrivateKeys=[key(f"alice/{i}") for i in range(3)], **common)["session"]
    bob = call("init_session", role="bob", ratchetKey=BOB_PRIV,
               ratchetPrivateKeys=[key(f"bob/{i}") for i in range(3)], **common)["session"]
    ad = "ad".encode().hex()

    def send(who, text):
        return call("encrypt", session=who, plaintext=text.encode().hex(), ad=ad)["message"]

    def deliver(who, message):
        return call("decrypt", session=who, message=message, ad=ad)

    print("bob receives Alice's message 0:", deliver(bob, send(alice, "a0")))
    lost = [send(alice, f"a{i}") for i in range(1, 13)]
    print(f"alice sends {len(lost)} more on the same chain; all are lost (bob's Nr = 1)")
    print("alice receives Bob's reply (her DH ratchet):", deliver(alice, send(bob, "b0")))
    late = send(alice, "a13")
    pn = int(late[2 + 64:2 + 72], 16)  # after the version byte and the 32-byte key
    print(f"alice's next message starts a new chain with PN = {pn}; Nr + MAX_SKIP = {1 + MAX_SKIP} < {pn}")
    print("bob receives it:", deliver(bob, late))
    shim.stdin.close()
    shim.wait()


if __name__ == "__main__":
    main()
