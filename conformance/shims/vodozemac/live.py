#!/usr/bin/env python3
"""Live olm-v1 conversations between two shims, through the JSON protocol only.

vodozemac cannot take injected randomness, so no vector reproduces its bytes;
this driver checks it the way `ratchetproof interop` checks a live peer, against
another shim (by default the python-olm shim, i.e. libolm), in both roles:

  * Bob's keys: `prekey_bundle` when Bob's handshake says
    `"injectedRandomness": false`, otherwise injected (drawn here, their public
    keys computed with the RFC 7748 X25519 below), as the reference would.
  * Alice's `prekey_initiate` answers `identityKey`; with injected keys it must
    be the public key of the injected one.
  * Three pre-key messages delivered out of order (the second starts Bob's
    session), a replayed pre-key message and a replayed normal message
    refused, a tampered copy (one bit of the MAC, of the ciphertext, of the
    ratchet key) refused and the genuine message decrypting after it,
    `messageType` "prekey" until Alice has decrypted, "whisper" after, five
    round trips with every chain delivered in reverse order (from the third on,
    both parties are clones: `clone_session`), and messages held
    back and delivered two and four chains late (older chains the receiver still keeps).

Usage (from the repository root, after both setup.sh):
  python3 conformance/shims/vodozemac/live.py                  # vodozemac <-> python-olm, both directions
  python3 conformance/shims/vodozemac/live.py --alice CMD --bob CMD
Exit status 0 when every check holds, 1 otherwise.
"""

import argparse
import json
import os
import secrets
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHIMS = os.path.dirname(HERE)
VODOZEMAC = f"{HERE}/.venv/bin/python {HERE}/shim.py"
PYTHON_OLM = f"{SHIMS}/python-olm/.venv/bin/python {SHIMS}/python-olm/shim.py"

# --- X25519 (RFC 7748 §5), only to name the public keys of injected private keys ---
P = 2**255 - 19


def x25519_base(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    scalar = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in reversed(range(255)):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = x2 + z2, x2 - z2
        aa, bb = a * a % P, b * b % P
        e = aa - bb
        c, d = x3 + z3, x3 - z3
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


assert x25519_base(bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")).hex() \
    == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"  # RFC 7748 §6.1


class Shim:
    def __init__(self, cmd, role):
        self.p = subprocess.Popen(["sh", "-c", cmd], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.id, self.role = 0, role
        self.hs = self.ok("handshake", protocol=1)
        self.name = f"{self.hs['name']} {self.hs['version']}"

    def __call__(self, op, **fields):
        self.id += 1
        self.p.stdin.write(json.dumps({"id": self.id, "op": op, **fields}) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise Fault(f"{self.role} shim exited during {op}")
        r = json.loads(line)
        if r.get("id") != self.id:
            raise Fault(f"{self.role} answered id {r.get('id')} to {self.id}")
        return r

    def ok(self, op, **fields):
        r = self(op, **fields)
        if "error" in r:
            raise Fault(f"{self.role}: {op} refused: {r['error']}")
        return r["result"]

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=5)


class Fault(Exception):
    pass


class Conversation:
    def __init__(self, alice_cmd, bob_cmd):
        self.alice, self.bob = Shim(alice_cmd, "alice"), Shim(bob_cmd, "bob")
        self.failures, self.checks, self.sent = [], 0, 0
        self.session = {}

    def check(self, what, cond, detail=""):
        self.checks += 1
        if not cond:
            self.failures.append(f"{what}: {detail}")
            print(f"  FAIL {what} {detail}", file=sys.stderr)

    def send(self, who, expect_type=None):
        self.sent += 1
        text = f"{who} message {self.sent}"
        shim = getattr(self, who)
        m = shim.ok("encrypt", session=self.session[who], plaintext=text.encode().hex(), ad="")
        if expect_type:
            self.check(f"{who} send {self.sent} type", m["messageType"] == expect_type, m["messageType"])
        return {"text": text, "message": m["message"], "type": m["messageType"], "from": who, "n": self.sent}

    def deliver(self, m, tamper=None):
        to = "bob" if m["from"] == "alice" else "alice"
        shim = getattr(self, to)
        r = shim("decrypt", session=self.session[to], message=m["message"], messageType=m["type"], ad="")
        what = f"{to} receives {m['from']} message {m['n']}"
        if "error" in r:
            self.check(what, False, f"refused: {r['error']}")
        else:
            self.check(what, bytes.fromhex(r["result"]["plaintext"]).decode(errors="replace") == m["text"],
                       r["result"]["plaintext"])

    def refused(self, m, why, message=None):
        to = "bob" if m["from"] == "alice" else "alice"
        shim = getattr(self, to)
        r = shim("decrypt", session=self.session[to], message=message or m["message"], messageType=m["type"], ad="")
        self.check(f"{to} refuses {why} of {m['from']} message {m['n']}", "error" in r,
                   f"accepted: {r.get('result')}")
        return r.get("error", {}).get("class")

    def run(self):
        a, b = self.alice, self.bob
        print(f"alice: {a.name}\nbob:   {b.name}", file=sys.stderr)
        injected = bool(b.hs.get("injectedRandomness"))
        if injected:
            bob_identity, bob_one_time = secrets.token_bytes(32), secrets.token_bytes(32)
            bundle = {"identityKey": x25519_base(bob_identity).hex(), "oneTimePrekey": x25519_base(bob_one_time).hex()}
        else:
            bundle = b.ok("prekey_bundle", suite="olm-v1")
        init = {"suite": "olm-v1", "peerIdentityKey": bundle["identityKey"], "peerOneTimePrekey": bundle["oneTimePrekey"]}
        if a.hs.get("injectedRandomness"):
            identity = secrets.token_bytes(32)
            init.update(identityPrivateKey=identity.hex(), ephemeralPrivateKey=secrets.token_hex(32),
                        ratchetPrivateKeys=[secrets.token_hex(32) for _ in range(40)])
        r = a.ok("prekey_initiate", **init)
        self.session["alice"] = r["session"]
        if a.hs.get("injectedRandomness"):
            self.check("alice's identityKey is the injected one", r.get("identityKey") == x25519_base(identity).hex(), r)
        else:
            self.check("alice answers identityKey", len(r.get("identityKey", "")) == 64, r)

        # Three pre-key messages on Alice's first chain, the second arriving first.
        p0, p1, p2 = (self.send("alice", "prekey") for _ in range(3))
        respond = {"suite": "olm-v1", "message": p1["message"]}
        if injected:
            respond.update(identityPrivateKey=bob_identity.hex(), oneTimePrekeyPrivateKey=bob_one_time.hex(),
                           ratchetPrivateKeys=[secrets.token_hex(32) for _ in range(40)])
        r = b.ok("prekey_respond", **respond)
        self.session["bob"] = r["session"]
        self.check("bob's first plaintext", bytes.fromhex(r["plaintext"]).decode() == p1["text"], r["plaintext"])
        if not injected:
            r = b("prekey_respond", suite="olm-v1", message=p0["message"])
            self.check("a second session from the used one-time key refused", "error" in r, r)
        self.refused(p1, "a replay (pre-key)")
        self.deliver(p2)
        self.deliver(p0)
        tampered = bytearray.fromhex(p2["message"])
        tampered[-1] ^= 0x01
        self.refused(p2, "a copy with a MAC bit flipped", tampered.hex())

        # Bob replies; Alice gets them in reverse order, then sends normal messages.
        replies = [self.send("bob", "whisper") for _ in range(3)]
        for m in reversed(replies):
            self.deliver(m)
        held = {}
        for rnd in range(1, 6):
            if rnd == 3:  # both go on from clones (the library's pickle round trip)
                for who in ("alice", "bob"):
                    shim = getattr(self, who)
                    fields = {"ratchetPrivateKeys": [secrets.token_hex(32) for _ in range(40)]} \
                        if shim.hs.get("injectedRandomness") else {}
                    self.session[who] = shim.ok("clone_session", session=self.session[who], **fields)["session"]
            sent = [self.send("alice", "whisper") for _ in range(3)]
            held[("alice", rnd)] = sent.pop(1)  # the middle one arrives later
            body = bytearray.fromhex(sent[0]["message"])
            body[-12] ^= 0x80  # a ciphertext byte (before the 8-byte MAC)
            self.refused(sent[0], "a copy with a ciphertext bit flipped", body.hex())
            body = bytearray.fromhex(sent[0]["message"])
            body[5] ^= 0x01  # inside the ratchet key (0x03 0x0a 0x20 then 32 bytes)
            self.refused(sent[0], "a copy with a ratchet-key bit flipped", body.hex())
            for m in reversed(sent):
                self.deliver(m)
            self.refused(sent[-1], "a replay")
            sent = [self.send("bob", "whisper") for _ in range(3)]
            held[("bob", rnd)] = sent.pop(0)
            for m in reversed(sent):
                self.deliver(m)
            if rnd == 4:  # late messages, two chains behind
                for who in ("alice", "bob"):
                    m = held.pop((who, 2))
                    self.deliver(m)
                    self.refused(m, "a replay of a late message")
        # The rest: round 1's four chains behind (libolm and vodozemac keep five), then 3, 4, 5.
        for key in sorted(held, key=lambda k: k[1]):
            self.deliver(held[key])
            self.refused(held[key], "a replay of a late message")
        a.close()
        b.close()
        return not self.failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alice")
    ap.add_argument("--bob")
    args = ap.parse_args()
    if bool(args.alice) != bool(args.bob):
        ap.error("give both --alice and --bob, or neither")
    pairs = [(args.alice, args.bob)] if args.alice else [(VODOZEMAC, PYTHON_OLM), (PYTHON_OLM, VODOZEMAC)]
    ok = True
    for alice, bob in pairs:
        c = Conversation(alice, bob)
        try:
            passed = c.run()
        except Fault as e:
            print(f"  FAULT {e}", file=sys.stderr)
            passed = False
        print(f"{'PASS' if passed else 'FAIL'}  {c.checks} checks, {c.sent} messages, "
              f"{len(c.failures)} failed", file=sys.stderr)
        ok &= passed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
