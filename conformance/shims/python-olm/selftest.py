#!/usr/bin/env python3
"""Known-answer self-test of shim.py, through its JSON protocol.

Plays the conversation of protocol/tests/fixtures/olm_kat.json (made by
libolm 3.2.15 through npm @matrix-org/olm with every random byte injected) with
the same injected keys, and requires every message byte for byte, every
message type and every plaintext; then the limits that fixture records
(gap 2000 accepted, 2001 refused, the 40 kept keys, five kept chains), a
replay, a tampered MAC, a clone that must reproduce the original's next
message, and a list running dry. Exit status 0 when all agree, 1 otherwise.

Usage: .venv/bin/python selftest.py [path/to/olm_kat.json]
"""

import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KAT = os.path.join(HERE, "..", "..", "..", "protocol", "tests", "fixtures", "olm_kat.json")


class Shim:
    def __init__(self):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "shim.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.id = 0

    def __call__(self, op, **fields):
        self.id += 1
        self.p.stdin.write(json.dumps({"id": self.id, "op": op, **fields}) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"shim exited during {op}")
        r = json.loads(line)
        assert r["id"] == self.id, r
        return r

    def ok(self, op, **fields):
        r = self(op, **fields)
        if "error" in r:
            raise Failure(f"{op} refused: {r['error']}")
        return r["result"]

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=5)


class Failure(Exception):
    pass


FAILURES = []


def check(what, cond, detail=""):
    if not cond:
        FAILURES.append(f"{what}: {detail}")
        print(f"FAIL {what} {detail}", file=sys.stderr)


def key(label, i=0):
    return hashlib.sha256(f"ratchetproof olm selftest/{label}/{i}".encode()).hexdigest()


def pair(shim, tag):
    """A fresh pair of sessions with injected keys (the limits are libolm's, any keys do)."""
    bob_id, bob_otk = key(tag, "bob identity"), key(tag, "bob otk")
    pub = shim.ok("prekey_initiate", suite="olm-v1", identityPrivateKey=bob_id,
                  ephemeralPrivateKey=key(tag, "x"), ratchetPrivateKeys=[key(tag, "y")],
                  peerIdentityKey=key(tag, "z"), peerOneTimePrekey=key(tag, "w"))
    bob_identity_pub = pub["identityKey"]
    # The one-time public key: a throwaway initiate with the otk as identity.
    otk_pub = shim.ok("prekey_initiate", suite="olm-v1", identityPrivateKey=bob_otk,
                      ephemeralPrivateKey=key(tag, "x"), ratchetPrivateKeys=[key(tag, "y")],
                      peerIdentityKey=key(tag, "z"), peerOneTimePrekey=key(tag, "w"))["identityKey"]
    alice_keys = [key(tag, f"alice ratchet {i}") for i in range(12)]
    bob_keys = [key(tag, f"bob ratchet {i}") for i in range(12)]
    a = shim.ok("prekey_initiate", suite="olm-v1", identityPrivateKey=key(tag, "alice identity"),
                ephemeralPrivateKey=key(tag, "alice base"), ratchetPrivateKeys=alice_keys,
                peerIdentityKey=bob_identity_pub, peerOneTimePrekey=otk_pub)["session"]
    first = shim.ok("encrypt", session=a, plaintext=b"first".hex(), ad="")
    b = shim.ok("prekey_respond", suite="olm-v1", identityPrivateKey=bob_id,
                oneTimePrekeyPrivateKey=bob_otk, ratchetPrivateKeys=bob_keys,
                message=first["message"])["session"]
    return a, b


def outcome(r):
    return "ok" if "result" in r else "refused"


def main():
    kat = json.load(open(sys.argv[1] if len(sys.argv) > 1 else KAT))
    shim = Shim()
    hs = shim.ok("handshake", protocol=1)
    print(f"shim: {hs['name']} {hs['version']}", file=sys.stderr)
    acc = kat["accounts"]
    by_label = {s["name"]: s for s in kat["steps"] if s["op"] == "encrypt"}
    alice_random = [by_label[n]["random"] for n in ("a2.0", "a3.0")]
    bob_random = [by_label[n]["random"] for n in ("b1.0", "b2.0")]
    out = kat["outbound_session"]["random"]
    spare = "00" * 32
    r = shim.ok("prekey_initiate", suite="olm-v1", identityPrivateKey=acc["alice"]["random"][64:],
                ephemeralPrivateKey=out[:64], ratchetPrivateKeys=[out[64:]] + alice_random + [spare],
                peerIdentityKey=acc["bob"]["curve25519_identity"],
                peerOneTimePrekey=acc["bob"]["one_time_key"]["public"])
    check("alice identity key", r["identityKey"] == acc["alice"]["curve25519_identity"], r["identityKey"])
    sessions = {"alice": r["session"]}
    bob_keys = bob_random + [spare]
    for step in kat["steps"]:
        who, name = step["party"], step["name"]
        if step["op"] == "encrypt":
            if who == "bob" and name == "b2.0":
                # A clone taken now must send exactly what the original sends.
                c = shim.ok("clone_session", session=sessions["bob"], ratchetPrivateKeys=bob_random[1:] + [spare])["session"]
                m = shim.ok("encrypt", session=c, plaintext=step["plaintext"].encode().hex(), ad="")
                check("clone reproduces b2.0", m["message"] == step["message"], m["message"])
            m = shim.ok("encrypt", session=sessions[who], plaintext=step["plaintext"].encode().hex(), ad="")
            check(f"encrypt {name} bytes", m["message"] == step["message"], m["message"])
            want = "prekey" if step["type"] == 0 else "whisper"
            check(f"encrypt {name} type", m["messageType"] == want, m["messageType"])
            continue
        sent = by_label[name]
        kind = "prekey" if sent["type"] == 0 else "whisper"
        if who == "bob" and "bob" not in sessions:
            r = shim.ok("prekey_respond", suite="olm-v1", identityPrivateKey=acc["bob"]["random"][64:],
                        oneTimePrekeyPrivateKey=acc["bob"]["one_time_key"]["random"],
                        ratchetPrivateKeys=bob_keys, message=sent["message"])
            sessions["bob"] = r["session"]
            got = r["plaintext"]
        else:
            got = shim.ok("decrypt", session=sessions[who], message=sent["message"], messageType=kind,
                          ad="")["plaintext"]
        check(f"decrypt {name}", bytes.fromhex(got).decode() == step["plaintext"], got)

    # Refusals, each with libolm's class mapped by the contract.
    a30 = by_label["a3.0"]["message"]
    r = shim("decrypt", session=sessions["bob"], message=a30, messageType="whisper", ad="")
    check("replay refused", r.get("error", {}).get("class") == "authentication", r)
    tampered = bytearray.fromhex(by_label["a1.0"]["message"])
    tampered[-1] ^= 1
    r = shim("prekey_respond", suite="olm-v1", identityPrivateKey=acc["bob"]["random"][64:],
             oneTimePrekeyPrivateKey=acc["bob"]["one_time_key"]["random"], ratchetPrivateKeys=[spare],
             message=tampered.hex())
    check("tampered pre-key message refused", r.get("error", {}).get("class") == "authentication", r)
    r = shim("prekey_respond", suite="olm-v1", identityPrivateKey=acc["bob"]["random"][64:],
             oneTimePrekeyPrivateKey=spare, ratchetPrivateKeys=[spare], message=by_label["a1.0"]["message"])
    check("unknown one-time key refused", r.get("error", {}).get("class") == "invalid_key", r)
    outer = bytearray.fromhex(by_label["a1.2"]["message"])
    outer[5] ^= 1  # the one-time key field, which no MAC covers
    r = shim("decrypt", session=sessions["bob"], message=outer.hex(), messageType="prekey", ad="")
    check("pre-key message not matching the session refused", r.get("error", {}).get("class") == "state", r)
    version = bytearray.fromhex(by_label["b2.0"]["message"])
    version[0] = 2
    r = shim("decrypt", session=sessions["alice"], message=version.hex(), messageType="whisper", ad="")
    check("version 2 refused", r.get("error", {}).get("class") == "unsupported", r)
    r = shim("decrypt", session=sessions["alice"], message="03", messageType="whisper", ad="")
    check("truncated refused", r.get("error", {}).get("class") == "malformed", r)
    r = shim("decrypt", session=sessions["alice"], message="zz", messageType="whisper", ad="")
    check("non-hex refused", "error" in r, r)
    # Bob's list is spent but for the spare: Alice sends, Bob answers with the spare,
    # then the list runs dry at his next new chain.
    a = shim.ok("encrypt", session=sessions["alice"], plaintext="", ad="")
    shim.ok("decrypt", session=sessions["bob"], message=a["message"], messageType=a["messageType"], ad="")
    shim.ok("encrypt", session=sessions["bob"], plaintext="", ad="")
    check("no draw on the same chain", "result" in shim("encrypt", session=sessions["bob"], plaintext="", ad=""))
    b = shim.ok("encrypt", session=sessions["bob"], plaintext="", ad="")
    shim.ok("decrypt", session=sessions["alice"], message=b["message"], messageType="whisper", ad="")
    a = shim.ok("encrypt", session=sessions["alice"], plaintext="", ad="")  # Alice's spare
    shim.ok("decrypt", session=sessions["bob"], message=a["message"], messageType="whisper", ad="")
    r = shim("encrypt", session=sessions["bob"], plaintext="", ad="")
    check("dry list refused with state", r.get("error", {}).get("class") == "state", r)

    # The limits libolm showed when the fixture was made.
    lim = kat["limits"]
    a, b = pair(shim, "gap")
    ms = [shim.ok("encrypt", session=a, plaintext=f"m{i}".encode().hex(), ad="") for i in range(1, 2003)]
    got = {}
    for label, i in (("gap_2001_from_next_index", 2001), ("gap_2000_from_next_index", 2000),
                     ("skipped_index_2_after_2000_skipped", 1), ("skipped_index_1960", 1959),
                     ("skipped_index_1961", 1960), ("replay_of_index_2001", 2000)):
        got[label] = outcome(shim("decrypt", session=b, message=ms[i]["message"],
                                  messageType=ms[i]["messageType"], ad=""))
        want = "ok" if lim[label] == "ok" else "refused"
        check(f"limit {label}", got[label] == want, got[label])
    a, b = pair(shim, "chains")
    late_first = shim.ok("encrypt", session=a, plaintext="late".encode().hex(), ad="")
    late = []
    for _ in range(5):
        p = shim.ok("encrypt", session=b, plaintext="ping".encode().hex(), ad="")
        shim.ok("decrypt", session=a, message=p["message"], messageType=p["messageType"], ad="")
        m = shim.ok("encrypt", session=a, plaintext="chain".encode().hex(), ad="")
        late.append(shim.ok("encrypt", session=a, plaintext="late".encode().hex(), ad=""))
        shim.ok("decrypt", session=b, message=m["message"], messageType=m["messageType"], ad="")
    r = outcome(shim("decrypt", session=b, message=late_first["message"], messageType="whisper", ad=""))
    check("limit late_on_sixth_oldest_chain", r == "refused", r)
    for i, m in enumerate(late):
        r = outcome(shim("decrypt", session=b, message=m["message"], messageType="whisper", ad=""))
        check(f"limit late_on_five_kept_chains[{i}]", r == "ok", r)
    shim.close()
    if FAILURES:
        print(f"selftest: {len(FAILURES)} FAILED", file=sys.stderr)
        sys.exit(1)
    print("selftest: the olm_kat.json conversation byte for byte, its limits, refusals and clone: ok",
          file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"selftest FAILED: {e}", file=sys.stderr)
        sys.exit(1)
