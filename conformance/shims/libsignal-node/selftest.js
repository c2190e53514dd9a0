#!/usr/bin/env node
// Standalone test of shim.js, without the ratchetproof runner.
//
//   node conformance/shims/libsignal-node/selftest.js [--peer "COMMAND"]
//
// * primitives and X3DH are checked against values computed here with node's
//   own crypto (HKDF, HMAC, AES-256-CBC, X25519) and a hand-written protobuf
//   encoder: the shim may use only libsignal's code, this test may not;
// * a prekey_initiate / prekey_respond conversation runs between two shim
//   processes: both directions, several ratchet steps, out-of-order delivery,
//   a tampered message in the middle (it must consume no injected key), a
//   replay, the skip limit, clone_session, and a rerun that must reproduce
//   every byte;
// * Alice's first PreKeyWhisperMessage and an init_session message are
//   rebuilt here byte for byte;
// * x3dh_accept: one storage receiving a forged, a genuine, a replayed and a
//   second initiator's initial message, one without a one-time prekey and its
//   replay; and, through the library directly, the replay from another address;
// * with --peer, the same conversation runs against another shim for the
//   signal-v3 suite (for example python-axolotl's) and every `seal` and
//   `encrypt` output must be identical.
'use strict';

const { spawn } = require('child_process');
const readline = require('readline');
const nodeCrypto = require('crypto');
const path = require('path');
const assert = require('assert');

const SHIM = `node ${JSON.stringify(path.join(__dirname, 'shim.js'))}`;
const SUITE = 'signal-v3';

// --- a shim process -----------------------------------------------------------------

class Shim {
    constructor(command, label, lenient = false) {
        this.label = label;
        this.lenient = lenient;   // another implementation: report, do not assert, error classes
        this.proc = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
        this.stderr = '';
        this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-8192); });
        this.pending = [];
        this.nextId = 1;
        readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
            const p = this.pending.shift();
            if (!p) {
                throw new Error(`${label}: unexpected output ${line}`);
            }
            const resp = JSON.parse(line);
            if (resp.id !== p.id) {
                p.reject(new Error(`${label}: id ${resp.id} for request ${p.id}`));
            }
            p.resolve(resp);
        });
        this.proc.on('exit', (code) => {
            for (const p of this.pending) {
                p.reject(new Error(`${label} exited (${code}); stderr:\n${this.stderr}`));
            }
        });
    }

    raw(op, fields) {
        const id = this.nextId++;
        return new Promise((resolve, reject) => {
            this.pending.push({ id, resolve, reject });
            this.proc.stdin.write(JSON.stringify(Object.assign({ id, op }, fields)) + '\n');
        });
    }

    async ok(op, fields) {
        const r = await this.raw(op, fields);
        if (r.error) {
            throw new Error(`${this.label} ${op}: unexpected error ${JSON.stringify(r.error)}`);
        }
        return r.result;
    }

    async refuse(op, fields, cls) {
        const r = await this.raw(op, fields);
        if (!r.error) {
            throw new Error(`${this.label} ${op}: expected ${cls}, got ${JSON.stringify(r.result)}`);
        }
        if (cls && r.error.class !== cls && this.lenient) {
            console.error(`${this.label} ${op}: refused as ${r.error.class} (libsignal-node: ${cls}): ${r.error.message}`);
        } else if (cls && r.error.class !== cls) {
            throw new Error(`${this.label} ${op}: expected ${cls}, got ${JSON.stringify(r.error)}`);
        }
        return r.error;
    }

    close() {
        this.proc.stdin.end();
        return new Promise((resolve) => this.proc.on('exit', resolve));
    }
}

// --- independent crypto ---------------------------------------------------------

const X_PRIV_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X_PUB_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function x25519Public(priv) {
    const key = nodeCrypto.createPrivateKey({ key: Buffer.concat([X_PRIV_PREFIX, priv]), format: 'der', type: 'pkcs8' });
    return nodeCrypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).slice(12);
}

function dh(priv, pub) {
    return nodeCrypto.diffieHellman({
        privateKey: nodeCrypto.createPrivateKey({ key: Buffer.concat([X_PRIV_PREFIX, priv]), format: 'der', type: 'pkcs8' }),
        publicKey: nodeCrypto.createPublicKey({ key: Buffer.concat([X_PUB_PREFIX, pub]), format: 'der', type: 'spki' }),
    });
}

const hkdf = (salt, ikm, info, len) => Buffer.from(nodeCrypto.hkdfSync('sha256', ikm, salt, Buffer.from(info), len));
const hmac = (key, data) => nodeCrypto.createHmac('sha256', key).update(data).digest();
const enc = (u) => Buffer.concat([Buffer.from([5]), u]);

function kdfRk(rk, dhOut) {
    const okm = hkdf(rk, dhOut, 'WhisperRatchet', 64);
    return [okm.slice(0, 32), okm.slice(32)];
}

function kdfCk(ck) {
    return [hmac(ck, Buffer.from([2])), hmac(ck, Buffer.from([1]))];
}

function varint(n) {
    const out = [];
    let v = BigInt(n);
    do {
        let b = Number(v & 0x7fn);
        v >>= 7n;
        if (v) b |= 0x80;
        out.push(b);
    } while (v);
    return Buffer.from(out);
}

const fieldBytes = (no, b) => Buffer.concat([varint((no << 3) | 2), varint(b.length), b]);
const fieldInt = (no, v) => Buffer.concat([varint(no << 3), varint(v)]);

function sealExpected(mk, ratchetPub, pn, n, plaintext, macPrefix) {
    const okm = hkdf(Buffer.alloc(32), mk, 'WhisperMessageKeys', 80);
    const c = nodeCrypto.createCipheriv('aes-256-cbc', okm.slice(0, 32), okm.slice(64, 80));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const proto = Buffer.concat([fieldBytes(1, enc(ratchetPub)), fieldInt(2, n), fieldInt(3, Math.max(pn - 1, 0)), fieldBytes(4, ct)]);
    const mac = hmac(okm.slice(32, 64), Buffer.concat([macPrefix, Buffer.from([0x33]), proto])).slice(0, 8);
    return Buffer.concat([Buffer.from([0x33]), proto, mac]);
}

function x3dhExpected(ika, eka, ikbPub, spkbPub, opkbPub) {
    const parts = [Buffer.alloc(32, 0xff), dh(ika, spkbPub), dh(eka, ikbPub), dh(eka, spkbPub)];
    if (opkbPub) parts.push(dh(eka, opkbPub));
    return hkdf(Buffer.alloc(32), Buffer.concat(parts), 'WhisperText', 32);
}

// Deterministic "random" keys for the test.
function key(label) {
    return nodeCrypto.createHash('sha256').update(`ratchetproof selftest ${label}`).digest();
}
const h = (b) => b.toString('hex');

// --- checks -----------------------------------------------------------------------

let checks = 0;
function check(cond, what) {
    assert.ok(cond, what);
    checks++;
}
function eq(a, b, what) {
    assert.strictEqual(a, b, what);
    checks++;
}

async function primitives(s, valuesOnly = false) {
    for (let i = 0; i < 8; i++) {
        const rk = key(`rk${i}`), dhOut = key(`dh${i}`), ck = key(`ck${i}`), mk = key(`mk${i}`);
        const r = await s.ok('kdf_rk', { suite: SUITE, rootKey: h(rk), dhOutput: h(dhOut) });
        const [rk2, ck2] = kdfRk(rk, dhOut);
        eq(r.rootKey, h(rk2), 'kdf_rk root key');
        eq(r.chainKey, h(ck2), 'kdf_rk chain key');
        const c = await s.ok('kdf_ck', { suite: SUITE, chainKey: h(ck) });
        const [ck3, mk3] = kdfCk(ck);
        eq(c.chainKey, h(ck3), 'kdf_ck chain key');
        eq(c.messageKey, h(mk3), 'kdf_ck message key');
        const m = await s.ok('message_keys', { suite: SUITE, messageKey: h(mk) });
        eq(m.keys, h(hkdf(Buffer.alloc(32), mk, 'WhisperMessageKeys', 80)), 'message_keys');
        for (const [pn, n, ptLen, adLen] of [[0, 0, 0, 66], [1, 0, 15, 66], [5, 300, 16, 0], [0xffffffff, 0xfffffffe, 33, 7]]) {
            const pt = key(`pt${i}${n}`).slice(0, Math.min(ptLen, 32));
            const plaintext = Buffer.concat([pt, Buffer.alloc(Math.max(ptLen - 32, 0), 1)]);
            const ad = Buffer.alloc(adLen, i + 1);
            const ratchet = key(`rat${i}`);
            const sealed = await s.ok('seal', { suite: SUITE, messageKey: h(mk), ratchetKey: h(ratchet), pn, n, plaintext: h(plaintext), ad: h(ad) });
            eq(sealed.message, h(sealExpected(mk, ratchet, pn, n, plaintext, ad)), `seal pn=${pn} n=${n}`);
        }
    }
    if (valuesOnly) {
        return;
    }
    for (const [op, fields] of [
        ['kdf_rk', { rootKey: h(key('a').slice(0, 31)), dhOutput: h(key('b')) }],
        ['kdf_rk', { rootKey: h(key('a')), dhOutput: h(Buffer.concat([key('b'), Buffer.from([0])])) }],
        ['kdf_ck', { chainKey: '' }],
        ['message_keys', { messageKey: h(key('m').slice(0, 16)) }],
    ]) {
        await s.refuse(op, Object.assign({ suite: SUITE }, fields), 'invalid_key');
    }
    await s.refuse('kdf_ck', { suite: 'x25519-sha256-aes256gcm', chainKey: h(key('c')) }, 'unsupported');
}

function bundle(tag, withOpk) {
    const b = {
        aliceIdentity: key(`${tag} IKa`), aliceEphemeral: key(`${tag} EKa`),
        bobIdentity: key(`${tag} IKb`), bobSigned: key(`${tag} SPKb`), bobOneTime: withOpk ? key(`${tag} OPKb`) : null,
    };
    b.ikaPub = x25519Public(b.aliceIdentity);
    b.ikbPub = x25519Public(b.bobIdentity);
    b.spkbPub = x25519Public(b.bobSigned);
    b.opkbPub = withOpk ? x25519Public(b.bobOneTime) : null;
    b.ekaPub = x25519Public(b.aliceEphemeral);
    // XEdDSA signature over Encode(SPKb) with curve25519-js (installed with libsignal).
    const curveJs = require('curve25519-js');
    b.signature = Buffer.from(curveJs.sign(b.bobIdentity, enc(b.spkbPub), Buffer.concat([key(`${tag} Z1`), key(`${tag} Z2`)])));
    check(curveJs.verify(b.ikbPub, enc(b.spkbPub), b.signature), 'test signature verifies');
    return b;
}

async function x3dh(s) {
    for (const withOpk of [true, false]) {
        const b = bundle(`x3dh ${withOpk}`, withOpk);
        const req = {
            suite: SUITE, identityPrivateKey: h(b.aliceIdentity), ephemeralPrivateKey: h(b.aliceEphemeral),
            peerIdentityKey: h(b.ikbPub), peerSignedPrekey: h(b.spkbPub), peerSignedPrekeySignature: h(b.signature),
        };
        if (withOpk) req.peerOneTimePrekey = h(b.opkbPub);
        const a = await s.ok('x3dh_initiate', req);
        const sk = x3dhExpected(b.aliceIdentity, b.aliceEphemeral, b.ikbPub, b.spkbPub, b.opkbPub);
        eq(a.sharedKey, h(sk), `x3dh_initiate SK (OPK ${withOpk})`);
        eq(a.associatedData, h(Buffer.concat([enc(b.ikaPub), enc(b.ikbPub)])), 'x3dh_initiate AD');
        const respReq = {
            suite: SUITE, identityPrivateKey: h(b.bobIdentity), signedPrekeyPrivateKey: h(b.bobSigned),
            peerIdentityKey: h(b.ikaPub), peerEphemeralKey: h(b.ekaPub),
        };
        if (withOpk) respReq.oneTimePrekeyPrivateKey = h(b.bobOneTime);
        const r = await s.ok('x3dh_respond', respReq);
        eq(r.sharedKey, h(sk), 'x3dh_respond SK');
        eq(r.associatedData, a.associatedData, 'x3dh_respond AD');

        // Known finding: initOutgoing calls curve.verifySignature(..., isInit = true),
        // which returns true without verifying. A flipped bit is accepted.
        const bad = Buffer.from(b.signature);
        bad[5] ^= 1;
        const accepted = await s.raw('x3dh_initiate', Object.assign({}, req, { peerSignedPrekeySignature: h(bad) }));
        check(accepted.result && accepted.result.sharedKey === h(sk), 'libsignal-node accepts a bad signed-prekey signature (finding)');
        // Lengths are checked, though.
        await s.refuse('x3dh_initiate', Object.assign({}, req, { peerSignedPrekeySignature: h(bad.slice(0, 63)) }), 'invalid_key');
        await s.refuse('x3dh_initiate', Object.assign({}, req, { peerIdentityKey: h(b.ikbPub.slice(0, 31)) }), 'invalid_key');
        await s.refuse('x3dh_respond', Object.assign({}, respReq, { peerEphemeralKey: '' }), 'invalid_key');
    }
}

// A full conversation through prekey_initiate / prekey_respond. Returns every
// message produced, so a second run (or another shim) can be compared.
async function conversation(alice, bob, log) {
    const b = bundle('conv', true);
    const aliceKeys = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => key(`alice ratchet ${i}`));
    const bobKeys = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => key(`bob ratchet ${i}`));
    const ad = h(Buffer.concat([enc(b.ikaPub), enc(b.ikbPub)]));
    const out = [];
    const pt = (label) => h(Buffer.from(label));

    const a = (await alice.ok('prekey_initiate', {
        suite: SUITE, identityPrivateKey: h(b.aliceIdentity), registrationId: 1234, ephemeralPrivateKey: h(b.aliceEphemeral),
        ratchetPrivateKeys: aliceKeys.map(h), peerIdentityKey: h(b.ikbPub), peerRegistrationId: 4321,
        peerSignedPrekeyId: 7, peerSignedPrekey: h(b.spkbPub), peerSignedPrekeySignature: h(b.signature),
        peerOneTimePrekeyId: 99, peerOneTimePrekey: h(b.opkbPub),
    })).session;
    const send = async (shim, session, label) => {
        const r = await shim.ok('encrypt', { session, plaintext: pt(label), ad });
        out.push(r.message);
        log.push(`${label}: ${r.messageType}`);
        return r;
    };
    const recv = async (shim, session, msg, label) => {
        const r = await shim.ok('decrypt', { session, message: msg.message, messageType: msg.messageType, ad });
        eq(r.plaintext, pt(label), `decrypt ${label}`);
    };

    const a0 = await send(alice, a, 'a0');
    const a1 = await send(alice, a, 'a1');
    const a2 = await send(alice, a, 'a2');
    eq(a0.messageType, 'prekey', 'Alice sends PreKeyWhisperMessages before she hears from Bob');

    // Alice's first message, rebuilt here byte for byte.
    const sk = x3dhExpected(b.aliceIdentity, b.aliceEphemeral, b.ikbPub, b.spkbPub, b.opkbPub);
    const [, cks] = kdfRk(sk, dh(aliceKeys[0], b.spkbPub));
    const [, mk0] = kdfCk(cks);
    const inner = sealExpected(mk0, x25519Public(aliceKeys[0]), 0, 0, Buffer.from('a0'), Buffer.concat([enc(b.ikaPub), enc(b.ikbPub)]));
    const pkwm = Buffer.concat([Buffer.from([0x33]), fieldInt(1, 99), fieldBytes(2, enc(b.ekaPub)), fieldBytes(3, enc(b.ikaPub)),
        fieldBytes(4, inner), fieldInt(5, 1234), fieldInt(6, 7)]);
    eq(a0.message, h(pkwm), 'first PreKeyWhisperMessage byte for byte');

    // Finding F9 in the library's own flow: the same initial message, correctly sealed,
    // but claiming PN = 1000000 (previousCounter 999999), is accepted by a fresh Bob:
    // maybeStepRatchet bounds the previous chain only if lastRemoteEphemeralKey (Alice's
    // base key) names a chain, and on Bob's first step it does not.
    if (!bob.lenient) {
        const innerPn = sealExpected(mk0, x25519Public(aliceKeys[0]), 1000000, 0, Buffer.from('a0'), Buffer.concat([enc(b.ikaPub), enc(b.ikbPub)]));
        const pkwmPn = Buffer.concat([Buffer.from([0x33]), fieldInt(1, 99), fieldBytes(2, enc(b.ekaPub)), fieldBytes(3, enc(b.ikaPub)),
            fieldBytes(4, innerPn), fieldInt(5, 1234), fieldInt(6, 7)]);
        const f9 = await bob.raw('prekey_respond', {
            suite: SUITE, identityPrivateKey: h(b.bobIdentity), registrationId: 4321, signedPrekeyId: 7, signedPrekeyPrivateKey: h(b.bobSigned),
            oneTimePrekeyId: 99, oneTimePrekeyPrivateKey: h(b.bobOneTime), ratchetPrivateKeys: bobKeys.map(h), message: h(pkwmPn),
        });
        check(f9.result && f9.result.plaintext === pt('a0'), 'finding F9: an initial message claiming PN = 1000000 is accepted');
    }

    // Bob receives a1 first (out of order): his session is created from it.
    const tampered = Buffer.from(a1.message, 'hex');
    tampered[tampered.length - 6] ^= 1;   // last MAC byte of the embedded message (fields 5 and 6 follow: 3 + 2 bytes)
    const bad = await bob.raw('prekey_respond', {
        suite: SUITE, identityPrivateKey: h(b.bobIdentity), registrationId: 4321, signedPrekeyId: 7, signedPrekeyPrivateKey: h(b.bobSigned),
        oneTimePrekeyId: 99, oneTimePrekeyPrivateKey: h(b.bobOneTime), ratchetPrivateKeys: bobKeys.map(h), message: h(tampered),
    });
    check(bad.error && (bob.lenient || bad.error.class === 'authentication'), 'tampered initial message');
    const unknownPrekey = await bob.raw('prekey_respond', {
        suite: SUITE, identityPrivateKey: h(b.bobIdentity), registrationId: 4321, signedPrekeyId: 8, signedPrekeyPrivateKey: h(b.bobSigned),
        ratchetPrivateKeys: bobKeys.map(h), message: a1.message,
    });
    check(unknownPrekey.error && (bob.lenient || unknownPrekey.error.class === 'invalid_key'), 'unknown prekey id');
    const resp = await bob.ok('prekey_respond', {
        suite: SUITE, identityPrivateKey: h(b.bobIdentity), registrationId: 4321, signedPrekeyId: 7, signedPrekeyPrivateKey: h(b.bobSigned),
        oneTimePrekeyId: 99, oneTimePrekeyPrivateKey: h(b.bobOneTime), ratchetPrivateKeys: bobKeys.map(h), message: a1.message,
    });
    eq(resp.plaintext, pt('a1'), 'prekey_respond plaintext');
    const bs = resp.session;
    await recv(bob, bs, a0, 'a0');     // earlier message, skipped key, as a prekey message on the same session
    await bob.refuse('decrypt', { session: bs, message: a0.message, messageType: 'prekey', ad }, 'duplicate');

    // Bob replies (step 1 of Bob); Alice has sent a2 meanwhile, which Bob gets later.
    const b0 = await send(bob, bs, 'b0');
    const b1 = await send(bob, bs, 'b1');
    eq(b0.messageType, 'whisper', 'Bob sends WhisperMessages');
    // A tampered b1 first: must not consume Alice's ratchet key 1.
    const tb = Buffer.from(b1.message, 'hex');
    tb[tb.length - 3] ^= 0x40;
    await alice.refuse('decrypt', { session: a, message: h(tb), messageType: 'whisper', ad }, 'authentication');
    await recv(alice, a, b1, 'b1');
    await recv(alice, a, b0, 'b0');
    await alice.refuse('decrypt', { session: a, message: b0.message, messageType: 'whisper', ad }, 'duplicate');
    const a3 = await send(alice, a, 'a3');
    eq(a3.messageType, 'whisper', 'Alice switches to WhisperMessages after she decrypted from Bob');
    // The ratchet key in a header is bytes 3..36 (0x33, tag 0x0a, length 0x21, 0x05 || u).
    const headerKey = (m) => m.message.slice(8, 72);
    eq(headerKey(b0), h(x25519Public(bobKeys[0])), "Bob's first ratchet key is his injected key 0");
    eq(headerKey(a3), h(x25519Public(aliceKeys[1])), 'the refused b1 consumed none of Alice\'s keys: her second ratchet key is key 1');
    await recv(bob, bs, a3, 'a3');
    await recv(bob, bs, a2, 'a2');      // delayed from the previous chain
    // Several more ratchet steps, with a message held back on each side.
    let heldA = null, heldB = null;
    for (let round = 0; round < 4; round++) {
        const m1 = await send(bob, bs, `b${round}x`);
        const m2 = await send(bob, bs, `b${round}y`);
        await recv(alice, a, m2, `b${round}y`);
        if (heldB) await recv(alice, a, heldB.m, heldB.l);
        heldB = { m: m1, l: `b${round}x` };
        const n1 = await send(alice, a, `a${round}x`);
        const n2 = await send(alice, a, `a${round}y`);
        await recv(bob, bs, n2, `a${round}y`);
        if (heldA) await recv(bob, bs, heldA.m, heldA.l);
        heldA = { m: n1, l: `a${round}x` };
    }
    await recv(alice, a, heldB.m, heldB.l);
    await recv(bob, bs, heldA.m, heldA.l);

    // clone_session: both copies decrypt the same next message independently.
    const c = (await bob.ok('clone_session', { session: bs, ratchetPrivateKeys: [h(key('clone ratchet 0'))] })).session;
    const z = await send(alice, a, 'z');
    await recv(bob, bs, z, 'z');
    await recv(bob, c, z, 'z');
    return { out, a, bs, ad };
}

async function limits(alice, bob) {
    // init_session sessions: Alice's first message rebuilt byte for byte, then the skip limit.
    const sk = key('limits SK');
    const bobRatchet = key('limits bob ratchet');
    const ika = enc(x25519Public(key('limits IKa'))), ikb = enc(x25519Public(key('limits IKb')));
    const ad = h(Buffer.concat([ika, ikb]));
    const aliceKeys = [key('limits alice 0'), key('limits alice 1')];
    const a = (await alice.ok('init_session', { suite: SUITE, role: 'alice', sharedKey: h(sk), ratchetKey: h(x25519Public(bobRatchet)), ratchetPrivateKeys: aliceKeys.map(h) })).session;
    const b = (await bob.ok('init_session', { suite: SUITE, role: 'bob', sharedKey: h(sk), ratchetKey: h(bobRatchet), ratchetPrivateKeys: [h(key('limits bob 0'))] })).session;
    await bob.refuse('encrypt', { session: b, plaintext: '00', ad }, 'state');
    await alice.refuse('encrypt', { session: a, plaintext: '00', ad: ad.slice(0, 130) }, 'invalid_key');
    const msgs = [];
    for (let i = 0; i <= 2001; i++) {
        msgs.push(await alice.ok('encrypt', { session: a, plaintext: h(Buffer.from(`m${i}`)), ad }));
    }
    eq(msgs[0].messageType, undefined, 'init_session messages are WhisperMessages, answered without messageType');
    const [, cks] = kdfRk(sk, dh(aliceKeys[0], x25519Public(bobRatchet)));
    const [, mk0] = kdfCk(cks);
    eq(msgs[0].message, h(sealExpected(mk0, x25519Public(aliceKeys[0]), 0, 0, Buffer.from('m0'), Buffer.concat([ika, ikb]))), 'init_session first message byte for byte');
    // Wrong ad: the MAC names other identities.
    const wrongAd = h(Buffer.concat([ikb, ika]));
    await bob.refuse('decrypt', { session: b, message: msgs[0].message, ad: wrongAd }, 'authentication');
    // libsignal-node: n = 2000 on a new chain is "Over 2000 messages into the future!",
    // n = 1999 is accepted: MAX_SKIP 1999 in [DR] terms (Nr + MAX_SKIP < n refuses).
    const e = await bob.refuse('decrypt', { session: b, message: msgs[2000].message, ad }, 'too_many_skipped');
    check(/Over 2000/.test(e.message), 'skip error message');
    const r = await bob.ok('decrypt', { session: b, message: msgs[1999].message, ad });
    eq(r.plaintext, h(Buffer.from('m1999')), 'n = 1999 accepted');
    const r0 = await bob.ok('decrypt', { session: b, message: msgs[0].message, ad });
    eq(r0.plaintext, h(Buffer.from('m0')), 'skipped key of n = 0');
    // Version byte: libsignal-node checks only the nibbles (max >= 3, min <= 3) and the
    // MAC covers a constant 0x33, so 0x43 in place of 0x33 is accepted (finding).
    const v = Buffer.from(msgs[5].message, 'hex');
    v[0] = 0x43;
    const rv = await bob.raw('decrypt', { session: b, message: h(v), ad });
    check(rv.result && rv.result.plaintext === h(Buffer.from('m5')), 'libsignal-node accepts version byte 0x43 (finding)');
    const v2 = Buffer.from(msgs[6].message, 'hex');
    v2[0] = 0x34;
    await bob.refuse('decrypt', { session: b, message: h(v2), ad }, 'unsupported');
    await bob.refuse('decrypt', { session: b, message: '', ad }, null);
    await bob.refuse('decrypt', { session: 12345, message: msgs[6].message, ad }, 'state');
}

// Finding F5 (README): one-time prekey id 0. SessionCipher.encrypt writes preKeyId only
// `if (session.pendingPreKey.preKeyId)`, so id 0 is left out of the PreKeyWhisperMessage
// although the one-time prekey was used; protobufjs decodes the missing field as 0, so a
// libsignal-node Bob holding prekey 0 still agrees, but decryptPreKeyWhisperMessage removes
// the prekey only `if (preKeyId)`: prekey 0 is never removed after use.
async function prekeyIdZero(alice, bob) {
    const b = bundle('opk0', true);
    const a = (await alice.ok('prekey_initiate', {
        suite: SUITE, identityPrivateKey: h(b.aliceIdentity), registrationId: 5, ephemeralPrivateKey: h(b.aliceEphemeral),
        ratchetPrivateKeys: [h(key('opk0 a0'))], peerIdentityKey: h(b.ikbPub), peerRegistrationId: 6,
        peerSignedPrekeyId: 1, peerSignedPrekey: h(b.spkbPub), peerSignedPrekeySignature: h(b.signature),
        peerOneTimePrekeyId: 0, peerOneTimePrekey: h(b.opkbPub),
    })).session;
    const m = await alice.ok('encrypt', { session: a, plaintext: '00', ad: '' });
    const bytes = Buffer.from(m.message, 'hex');
    check(bytes[1] === 0x12, 'finding F5: with one-time prekey id 0 the PreKeyWhisperMessage has no field 1 (starts with field 2, baseKey)');
    const r = await bob.ok('prekey_respond', {
        suite: SUITE, identityPrivateKey: h(b.bobIdentity), registrationId: 6, signedPrekeyId: 1, signedPrekeyPrivateKey: h(b.bobSigned),
        oneTimePrekeyId: 0, oneTimePrekeyPrivateKey: h(b.bobOneTime), ratchetPrivateKeys: [h(key('opk0 b0'))], message: m.message,
    });
    eq(r.plaintext, '00', 'a libsignal-node Bob holding prekey 0 still decrypts it');
    // The converse: Alice's bundle had no one-time prekey, Bob holds a prekey 0. The
    // missing preKeyId decodes as 0, Bob loads prekey 0 and computes DH4, Alice did not.
    const a3 = (await alice.ok('prekey_initiate', {
        suite: SUITE, identityPrivateKey: h(b.aliceIdentity), registrationId: 5, ephemeralPrivateKey: h(key('opk0 eka2')),
        ratchetPrivateKeys: [h(key('opk0 a0'))], peerIdentityKey: h(b.ikbPub), peerRegistrationId: 6,
        peerSignedPrekeyId: 1, peerSignedPrekey: h(b.spkbPub), peerSignedPrekeySignature: h(b.signature),
    })).session;
    const m3 = await alice.ok('encrypt', { session: a3, plaintext: '00', ad: '' });
    const respond3 = {
        suite: SUITE, identityPrivateKey: h(b.bobIdentity), registrationId: 6, signedPrekeyId: 1, signedPrekeyPrivateKey: h(b.bobSigned),
        ratchetPrivateKeys: [h(key('opk0 b0'))], message: m3.message,
    };
    eq((await bob.ok('prekey_respond', respond3)).plaintext, '00', 'a 3-DH initial message is accepted by a Bob without prekey 0');
    await bob.refuse('prekey_respond', Object.assign({ oneTimePrekeyId: 0, oneTimePrekeyPrivateKey: h(b.bobOneTime) }, respond3), 'authentication');
    checks++; // finding F5: a Bob holding prekey 0 cannot accept a 3-DH initial message
    // The library directly: prekey 0 is not removed after use.
    const { SessionCipher, ProtocolAddress, curve } = require('libsignal');
    let removed = [];
    const pair = (priv) => ({ privKey: priv, pubKey: curve.getPublicFromPrivateKey(priv) });
    const storage = {
        getOurIdentity: async () => pair(b.bobIdentity), getOurRegistrationId: async () => 6, isTrustedIdentity: async () => true,
        loadSession: async () => undefined, storeSession: async () => {},
        loadPreKey: async (id) => (id === 0 ? pair(b.bobOneTime) : undefined), removePreKey: async (id) => { removed.push(id); },
        loadSignedPreKey: async (id) => (id === 1 ? pair(b.bobSigned) : undefined),
    };
    const realGenerate = curve.generateKeyPair;
    curve.generateKeyPair = () => pair(key('opk0 b0'));
    try {
        const pt = await new SessionCipher(storage, new ProtocolAddress('alice', 1)).decryptPreKeyWhisperMessage(bytes);
        eq(pt.toString('hex'), '00', 'direct library decrypt');
    } finally {
        curve.generateKeyPair = realGenerate;
    }
    eq(removed.length, 0, 'finding F5: removePreKey is never called for prekey id 0 (one-time prekey stays usable)');
}

// x3dh_accept: one Bob (one storage, one address "peer") receiving several initial
// messages through decryptPreKeyWhisperMessage. Alice's messages come from the shim's
// own prekey_initiate (the library's initOutgoing + encrypt).
async function accept(alice, bob) {
    const b = bundle('accept', true);
    const initial = async (identity, ephemeral, withOpk, plaintext, ratchet) => {
        const req = {
            suite: SUITE, identityPrivateKey: h(identity), registrationId: 5, ephemeralPrivateKey: h(ephemeral),
            ratchetPrivateKeys: [h(ratchet)], peerIdentityKey: h(b.ikbPub), peerRegistrationId: 6,
            peerSignedPrekeyId: 1, peerSignedPrekey: h(b.spkbPub), peerSignedPrekeySignature: h(b.signature),
        };
        if (withOpk) {
            req.peerOneTimePrekeyId = 7;
            req.peerOneTimePrekey = h(b.opkbPub);
        }
        const a = (await alice.ok('prekey_initiate', req)).session;
        return (await alice.ok('encrypt', { session: a, plaintext: h(Buffer.from(plaintext)), ad: '' })).message;
    };
    const request = (messages, ratchets) => ({
        suite: SUITE, identityPrivateKey: h(b.bobIdentity), signedPrekeys: [{ id: 1, privateKey: h(b.bobSigned) }],
        oneTimePrekeys: [{ id: 7, privateKey: h(b.bobOneTime) }, { id: 8, privateKey: h(key('accept OPK 8')) }],
        ratchetPrivateKeys: ratchets.map((r) => h(key(r))), initialMessages: messages,
    });
    const cls = (o) => (o.error ? o.error.class : 'accepted');
    const m1 = await initial(b.aliceIdentity, b.aliceEphemeral, true, 'first', key('accept a0'));
    const m2 = await initial(key('accept IKc'), key('accept EKc'), true, 'carol', key('accept c0'));
    const forged = Buffer.from(m1, 'hex');
    forged[forged.length - 5] ^= 1;   // the embedded message's last MAC byte (fields 5 and 6 take 4 bytes)
    const r = (await bob.ok('x3dh_accept', request([h(forged), m1, m1, m2], ['accept b0', 'accept b1']))).outcomes;
    eq(r.length, 4, 'x3dh_accept: one outcome per initial message');
    eq(cls(r[0]), 'authentication', 'x3dh_accept: forged first message -> authentication');
    eq(JSON.stringify(r[1]), JSON.stringify({
        plaintext: h(Buffer.from('first')), associatedData: h(Buffer.concat([enc(b.ikaPub), enc(b.ikbPub)])), peerIdentityKey: h(b.ikaPub),
    }), 'x3dh_accept: the genuine message after the forgery is accepted (plaintext, AD, IKa): the prekey survived');
    // initIncoming: `if (record.getSession(message.baseKey)) return;` -- decrypted on the
    // existing session, whose message 0 is used (vector tcId 3 says invalid_key).
    eq(cls(r[2]), 'duplicate', 'x3dh_accept: replay of the accepted message -> duplicate, the existing session\'s');
    eq(cls(r[3]), 'invalid_key', 'x3dh_accept: another initiator naming the used one-time prekey -> invalid_key');
    const m3 = await initial(b.aliceIdentity, key('accept EKa3'), false, 'no otk', key('accept a3'));
    const r3 = (await bob.ok('x3dh_accept', request([m3, m3], ['accept b2', 'accept b3']))).outcomes;
    eq(`${cls(r3[0])} ${r3[0].plaintext} ${cls(r3[1])}`, `accepted ${h(Buffer.from('no otk'))} duplicate`,
        'x3dh_accept without one-time prekey: accepted, its replay on the same address -> duplicate');
    const bad = request([m3], ['accept b2']);
    bad.oneTimePrekeys = [{ id: 7, privateKey: h(b.bobOneTime.slice(0, 31)) }];
    await bob.refuse('x3dh_accept', bad, 'invalid_key');
    // The library directly: the same bytes from a second address meet an empty record
    // and are accepted again as a new session -- the duplicate above comes only from the
    // per-address SessionRecord, not from anything that marks a base key as used.
    const { SessionCipher, ProtocolAddress, SessionRecord, curve } = require('libsignal');
    const pair = (priv) => ({ privKey: priv, pubKey: curve.getPublicFromPrivateKey(priv) });
    const records = new Map();
    const storage = {
        getOurIdentity: async () => pair(b.bobIdentity), getOurRegistrationId: async () => 6, isTrustedIdentity: async () => true,
        loadSession: async (a) => (records.has(a) ? SessionRecord.deserialize(JSON.parse(records.get(a))) : undefined),
        storeSession: async (a, rec) => { records.set(a, JSON.stringify(rec.serialize())); },
        loadPreKey: async () => undefined, removePreKey: async () => {},
        loadSignedPreKey: async (id) => (id === 1 ? pair(b.bobSigned) : undefined),
    };
    const realGenerate = curve.generateKeyPair;
    curve.generateKeyPair = () => pair(key('accept direct'));
    const outcome = async (name) => {
        try {
            return (await new SessionCipher(storage, new ProtocolAddress(name, 1)).decryptPreKeyWhisperMessage(Buffer.from(m3, 'hex'))).toString();
        } catch (e) {
            return `${e.name}: ${e.message}`;
        }
    };
    try {
        eq(await outcome('peer'), 'no otk', 'direct library: accepted from address peer');
        eq(await outcome('peer'), 'MessageCounterError: Key used already or never filled', 'direct library: replay from the same address -> MessageCounterError');
        eq(await outcome('other'), 'no otk', 'direct library: the same bytes from another address are accepted again (new session)');
    } finally {
        curve.generateKeyPair = realGenerate;
    }
}

async function main() {
    const args = process.argv.slice(2);
    const peerIdx = args.indexOf('--peer');
    const peer = peerIdx >= 0 ? args[peerIdx + 1] : null;

    const s = new Shim(SHIM, 'shim');
    const hs = await s.ok('handshake', { protocol: 1 });
    eq(hs.name, 'libsignal-node', 'handshake name');
    eq(hs.maxSkip, 1999, 'handshake maxSkip');
    await primitives(s);
    await x3dh(s);
    await s.close();

    const runOnce = async (command, isPeer = false) => {
        const alice = new Shim(command, 'alice', isPeer), bob = new Shim(command, 'bob', isPeer);
        await alice.ok('handshake', { protocol: 1 });
        await bob.ok('handshake', { protocol: 1 });
        const log = [];
        const res = await conversation(alice, bob, log);
        if (!isPeer) {
            await prekeyIdZero(alice, bob);
            await accept(alice, bob);
        }
        if (!isPeer) {
            await limits(alice, bob);   // libsignal-node's own limits and findings
        }
        await alice.close();
        await bob.close();
        for (const p of [alice, bob]) {
            check(isPeer || !/note:/.test(p.stderr), `no shim notes on stderr: ${p.stderr.match(/note:.*/g)}`);
        }
        return { out: res.out, log };
    };
    const first = await runOnce(SHIM);
    const second = await runOnce(SHIM);
    eq(JSON.stringify(second.out), JSON.stringify(first.out), 'a rerun reproduces every message byte for byte');
    console.error(`conversation: ${first.out.length} messages (${first.log.slice(0, 6).join(', ')}, ...)`);

    if (peer) {
        const p = new Shim(peer, 'peer', true);
        await p.ok('handshake', { protocol: 1 });
        await primitives(p, true);
        await p.close();
        const other = await runOnce(peer, true);
        eq(JSON.stringify(other.out), JSON.stringify(first.out), 'the peer shim produces the same messages byte for byte');
        console.error('peer: every seal and encrypt output identical');
    }
    console.error(`selftest: ${checks} checks passed`);
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
