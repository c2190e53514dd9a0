#!/usr/bin/env node
// Evidence for finding B1 (README): the JS binding of @matrix-org/olm 3.2.15 copies
// a message given to Session.matches_inbound (and create_inbound, create_outbound's
// keys, unpickle, ...) onto the WebAssembly module's stack with stackAlloc. The
// stack is about 64 KiB deep and libolm's static data lies below it, so a longer
// input is written over that data; the calls after it trap.
//
//   node conformance/shims/libolm-js/binding_stack_evidence.js
//
// Each size runs in a fresh process: one binding call with an input of that many
// base64 characters (its content is irrelevant: matches_inbound just answers
// false), then the fixture's first message is made again through the binding
// with the fixture's randomness and compared with libolm's recorded bytes.
// shim.js never passes a message through these binding calls (it makes their C
// calls on the heap), so the finding is the binding's, not the shim's.
'use strict';

const { spawnSync } = require('child_process');
const path = require('path');

const KAT = path.join(__dirname, '..', '..', '..', 'protocol', 'tests', 'fixtures', 'olm_kat.json');

function probe(n) {
    const script = `
const crypto = require('crypto');
const KAT = require(${JSON.stringify(KAT)});
let q = [];
crypto.randomBytes = (k) => { if (k === 0) return Buffer.alloc(0); const b = q.shift(); if (!b || b.length !== k) throw new Error('randomness'); return b; };
const Olm = require('@matrix-org/olm');
const b64 = (hex) => Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '');
Olm.init().then(() => {
  let call = 'returned';
  try { new Olm.Session().matches_inbound('A'.repeat(${n})); } catch (e) { call = 'threw ' + e.message; }
  let after;
  try {
    const acc = KAT.accounts;
    q = [Buffer.from(acc.alice.random, 'hex')];
    const a = new Olm.Account(); a.create();
    q = [Buffer.from(KAT.outbound_session.random, 'hex')];
    const s = new Olm.Session(); s.create_outbound(a, b64(acc.bob.curve25519_identity), b64(acc.bob.one_time_key.public));
    after = Buffer.from(s.encrypt(KAT.steps[0].plaintext).body, 'base64').toString('hex') === KAT.steps[0].message ? 'identical' : 'different';
  } catch (e) { after = 'trapped: ' + e.message; }
  console.log(JSON.stringify({ call, after }));
});`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: __dirname, encoding: 'utf8', env: { ...process.env, NODE_PATH: path.join(__dirname, 'node_modules') } });
    return JSON.parse(r.stdout.trim());
}

let failed = false;
for (const [n, expectAfter] of [[1000, 'identical'], [60000, 'identical'], [66000, 'identical'], [67000, 'trapped'], [100000, 'trapped'], [1000000, 'identical']]) {
    const r = probe(n);
    console.log(`${String(n).padStart(8)} characters: matches_inbound ${r.call}; the fixture's a1.0 afterwards: ${r.after}`);
    if (!r.after.startsWith(expectAfter)) {
        failed = true;
        console.log(`         expected ${expectAfter}`);
    }
}
// (1 000 000 characters reach below address 0, so stackAlloc's view throws a RangeError
// before anything is written; between about 66 500 and 103 584 the write succeeds.)
console.log(failed ? 'binding_stack_evidence: CHANGED' : 'binding_stack_evidence: as recorded');
process.exit(failed ? 1 : 0);
