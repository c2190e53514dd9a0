// Known answers for the olm-v1 suite, produced by libolm itself
// (npm @matrix-org/olm 3.2.15, libolm compiled to WASM), with every byte of
// randomness injected so the run is reproducible.
//
// libolm draws randomness through node's require("crypto").randomBytes at call
// time; this script replaces that function with a queue of role-named inputs and
// fails if libolm asks for a length other than the one the step expects.
//
// Usage (outside the repository; the package is never vendored):
//   mkdir /tmp/olmkat && cd /tmp/olmkat && npm install @matrix-org/olm@3.2.15
//   NODE_PATH=/tmp/olmkat/node_modules node tools/olm-kat/generate.js \
//       > protocol/tests/fixtures/olm_kat.json
"use strict";
const crypto = require("crypto");

// Role-named deterministic bytes: SHA-256("ratchetproof olm kat/" + label + "/" + i) blocks.
function bytes(label, n) {
  const out = [];
  for (let i = 0; out.length < n; i++) {
    const h = crypto.createHash("sha256").update(`ratchetproof olm kat/${label}/${i}`).digest();
    out.push(...h);
  }
  return Buffer.from(out.slice(0, n));
}

let queue = [];
const drawn = [];
crypto.randomBytes = function (n) {
  if (n === 0) return Buffer.alloc(0);
  const next = queue.shift();
  if (!next) throw new Error(`libolm asked for ${n} random bytes with nothing queued`);
  if (next.bytes.length !== n) {
    throw new Error(`libolm asked for ${n} bytes; step ${next.label} queued ${next.bytes.length}`);
  }
  drawn.push(next.label);
  return Buffer.from(next.bytes);
};
function give(label, n) {
  const b = bytes(label, n);
  queue.push({ label, bytes: b });
  return b.toString("hex");
}
function done(step) {
  if (queue.length !== 0) throw new Error(`${step}: ${queue.length} queued inputs unused`);
}
const unb64 = (s) => Buffer.from(s, "base64").toString("hex");

const Olm = require("@matrix-org/olm");

Olm.init().then(() => {
  const kat = {
    source: "npm @matrix-org/olm 3.2.15 (libolm 3.2.15), node " + process.version,
    generator: "tools/olm-kat/generate.js",
    randomness: "each input is SHA-256(\"ratchetproof olm kat/<label>/<i>\") blocks, truncated",
    accounts: {},
    steps: [],
  };

  function account(name) {
    const seed = give(`${name} account`, 64);
    const acct = new Olm.Account();
    acct.create();
    done(`${name} account`);
    const ids = JSON.parse(acct.identity_keys());
    kat.accounts[name] = {
      random: seed,
      curve25519_identity: unb64(ids.curve25519),
      ed25519_identity: unb64(ids.ed25519),
    };
    return acct;
  }
  const alice = account("alice");
  const bob = account("bob");

  const otkRandom = give("bob one-time key", 32);
  bob.generate_one_time_keys(1);
  done("bob one-time key");
  const otks = JSON.parse(bob.one_time_keys()).curve25519;
  const otkId = Object.keys(otks)[0];
  kat.accounts.bob.one_time_key = { random: otkRandom, key_id: otkId, public: unb64(otks[otkId]) };

  const outRandom = give("alice outbound session", 64);
  const as = new Olm.Session();
  as.create_outbound(alice, Buffer.from(kat.accounts.bob.curve25519_identity, "hex").toString("base64").replace(/=+$/, ""), otks[otkId]);
  done("alice outbound session");
  kat.outbound_session = { random: outRandom, session_id: as.session_id() };

  const wire = {};
  function send(who, session, name, plaintext, randomLabel) {
    const random = randomLabel ? give(randomLabel, 32) : null;
    const m = session.encrypt(plaintext);
    done(name);
    wire[name] = m;
    kat.steps.push({ op: "encrypt", party: who, name, plaintext, random, type: m.type, message: unb64(m.body) });
  }
  function recv(who, session, name) {
    const m = wire[name];
    const pt = session.decrypt(m.type, m.body);
    done(`decrypt ${name}`);
    kat.steps.push({ op: "decrypt", party: who, name, plaintext: pt });
  }

  // Chain 1 (Alice's initial ratchet key, no DH step): three pre-key messages.
  send("alice", as, "a1.0", "first pre-key message", null);
  send("alice", as, "a1.1", "second on the first chain", null);
  send("alice", as, "a1.2", "third on the first chain", null);

  const bs = new Olm.Session();
  bs.create_inbound(bob, wire["a1.0"].body);
  done("bob inbound session");
  kat.inbound_session = { session_id: bs.session_id() };
  bob.remove_one_time_keys(bs);
  recv("bob", bs, "a1.0");

  // Bob's first reply: his first ratchet key is drawn now (deferred generation).
  send("bob", bs, "b1.0", "bob's reply", "bob ratchet key 1");
  send("bob", bs, "b1.1", "bob again on his chain", null);
  recv("alice", as, "b1.1");
  recv("alice", as, "b1.0");

  // Alice's second chain: a DH step with a fresh key drawn on her next send.
  send("alice", as, "a2.0", "alice after the ratchet", "alice ratchet key 2");
  send("alice", as, "a2.1", "alice second on chain two", null);
  send("alice", as, "a2.2", "alice third on chain two", null);
  recv("bob", bs, "a2.2");
  recv("bob", bs, "a2.0");
  // The kept first chain: message 2 derived on demand, then message 1 from the stored key.
  recv("bob", bs, "a1.2");
  recv("bob", bs, "a1.1");
  recv("bob", bs, "a2.1");

  send("bob", bs, "b2.0", "bob's second chain", "bob ratchet key 2");
  recv("alice", as, "b2.0");
  send("alice", as, "a3.0", "alice's third chain", "alice ratchet key 3");
  recv("bob", bs, "a3.0");

  kat.draws = drawn;

  // The limits, observed (no bytes recorded): each check is an outcome the
  // reference must share. Randomness here is just as injected.
  function tryDecrypt(session, m) {
    try { session.decrypt(m.type, m.body); return "ok"; } catch (e) { return String(e.message || e); }
  }
  function fresh(tag) {
    give(`${tag} alice account`, 64); const a = new Olm.Account(); a.create();
    give(`${tag} bob account`, 64); const b = new Olm.Account(); b.create();
    give(`${tag} bob one-time key`, 32); b.generate_one_time_keys(1);
    const otk = Object.values(JSON.parse(b.one_time_keys()).curve25519)[0];
    give(`${tag} alice outbound session`, 64);
    const s = new Olm.Session();
    s.create_outbound(a, JSON.parse(b.identity_keys()).curve25519, otk);
    const first = s.encrypt("first");
    const r = new Olm.Session();
    r.create_inbound(b, first.body);
    r.decrypt(first.type, first.body);
    done(tag);
    return [s, r];
  }
  const limits = {};
  {
    const [a, b] = fresh("gap");
    const ms = [];
    for (let i = 1; i <= 2002; i++) ms.push(a.encrypt(`m${i}`));
    // ms[i] has index i + 1. Bob's next index is 1: index 2002 is a gap of
    // 2001, index 2001 one of 2000 (then indices 1..2000 were skipped).
    limits.gap_2001_from_next_index = tryDecrypt(b, ms[2001]);
    limits.gap_2000_from_next_index = tryDecrypt(b, ms[2000]);
    limits.skipped_index_2_after_2000_skipped = tryDecrypt(b, ms[1]);
    limits.skipped_index_1960 = tryDecrypt(b, ms[1959]);
    limits.skipped_index_1961 = tryDecrypt(b, ms[1960]);
    limits.replay_of_index_2001 = tryDecrypt(b, ms[2000]);
    done("gap");
  }
  {
    const [a, b] = fresh("chains");
    const lateFirst = a.encrypt("late on chain 0");
    const late = [];
    for (let round = 1; round <= 5; round++) {
      give(`chains bob ratchet ${round}`, 32);
      const p = b.encrypt("ping");
      a.decrypt(p.type, p.body);
      give(`chains alice ratchet ${round}`, 32);
      const m = a.encrypt(`chain ${round}`);
      late.push(a.encrypt(`late on chain ${round}`));
      b.decrypt(m.type, m.body);
      done(`chains round ${round}`);
    }
    limits.late_on_sixth_oldest_chain = tryDecrypt(b, lateFirst);
    limits.late_on_five_kept_chains = late.map((m) => tryDecrypt(b, m));
  }
  kat.limits = limits;
  process.stdout.write(JSON.stringify(kat, null, 2) + "\n");
});
