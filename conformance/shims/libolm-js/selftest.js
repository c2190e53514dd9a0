#!/usr/bin/env node
// Standalone test of shim.js through its JSON line protocol, without the
// ratchetproof runner:
//
//   node conformance/shims/libolm-js/selftest.js
//
// * The conversation of protocol/tests/fixtures/olm_kat.json — made by
//   tools/olm-kat/generate.js with libolm's own Session.encrypt/decrypt and
//   injected randomness — is replayed through prekey_initiate, prekey_respond,
//   encrypt and decrypt with the same keys: every message must equal the
//   fixture's bytes and type, every plaintext the fixture's. This also checks
//   that the shim's byte route to olm_encrypt / olm_decrypt gives what the
//   binding's string API gave.
// * Refusals in the middle of it (a tampered MAC, ciphertext, version byte, a
//   truncated message, a pre-key message naming another base key, a forged
//   first message, an unknown one-time key) must be refused with the
//   contract's class, and the genuine messages after them must still decrypt
//   to the fixture's bytes; replays must be refused.
// * clone_session: the copy decrypts and encrypts exactly as the original.
// * Byte plaintexts a JS string cannot carry (NUL, invalid UTF-8, empty), and
//   inputs far larger than the binding's stack (README, finding B1).
// * The limits the handshake declares (docs/OLM-V1.md §5.5): a gap of 2000
//   accepted and 2001 refused, 40 stored keys, five kept receiver chains.
// * Requests no library call can answer (bad hex, unknown session, op or
//   suite, associated data, keys of the wrong length, garbage messages) get
//   error responses and the shim keeps answering.
'use strict';

const nodeCrypto = require('crypto');
const path = require('path');
const { Shim, check, checked } = require('./shim_client');

const KAT = require(path.join(__dirname, '..', '..', '..', 'protocol', 'tests', 'fixtures', 'olm_kat.json'));
const SUITE = 'olm-v1';

// --- bytes ------------------------------------------------------------------------

const h = (s) => Buffer.from(s, 'utf8').toString('hex');
const second = (hex64) => hex64.slice(64, 128);
const first = (hex64) => hex64.slice(0, 64);

function flip(hexMessage, byteIndex, mask = 0x01) {
    const b = Buffer.from(hexMessage, 'hex');
    const i = byteIndex < 0 ? b.length + byteIndex : byteIndex;
    b[i] ^= mask;
    return b.toString('hex');
}

// Deterministic test keys for the parts the fixture does not cover.
function testKey(label) {
    return nodeCrypto.createHash('sha256').update(`ratchetproof libolm-js selftest/${label}`).digest('hex');
}

function x25519Public(privHex) {
    const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), Buffer.from(privHex, 'hex')]);
    const pub = nodeCrypto.createPublicKey(nodeCrypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    return pub.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
}

// --- the fixture's conversation -----------------------------------------------------

async function fixtureConversation(shim) {
    const acc = KAT.accounts;
    const randomsOf = (party) => KAT.steps.filter((s) => s.op === 'encrypt' && s.party === party && s.random).map((s) => s.random);
    const spare = testKey('spare');

    // The identity public keys the fixture recorded are what the injected privates give.
    check(x25519Public(second(acc.alice.random)) === acc.alice.curve25519_identity, 'fixture: Alice identity key');
    check(x25519Public(second(acc.bob.random)) === acc.bob.curve25519_identity, 'fixture: Bob identity key');

    const alice = (await shim.ok('prekey_initiate', {
        suite: SUITE,
        identityPrivateKey: second(acc.alice.random),
        ephemeralPrivateKey: first(KAT.outbound_session.random),
        ratchetPrivateKeys: [second(KAT.outbound_session.random), ...randomsOf('alice'), spare],
        peerIdentityKey: acc.bob.curve25519_identity,
        peerOneTimePrekey: acc.bob.one_time_key.public,
    })).session;

    const bobRespond = {
        suite: SUITE,
        identityPrivateKey: second(acc.bob.random),
        oneTimePrekeyPrivateKey: acc.bob.one_time_key.random,
        ratchetPrivateKeys: [...randomsOf('bob'), spare],
    };
    let bob = null;
    const wire = {};
    const typeName = (t) => (t === 0 ? 'prekey' : 'whisper');

    for (const step of KAT.steps) {
        const session = step.party === 'alice' ? alice : bob;
        if (step.op === 'encrypt') {
            const r = await shim.ok('encrypt', { session, plaintext: h(step.plaintext), ad: '' });
            check(r.message === step.message, `${step.name}: libolm's bytes (got ${r.message})`);
            check(r.messageType === typeName(step.type), `${step.name}: type ${typeName(step.type)}`);
            wire[step.name] = { message: r.message, messageType: r.messageType };
            continue;
        }
        const m = wire[step.name];
        if (bob === null) {
            // Refusals before the session exists: they create nothing and consume nothing.
            await shim.refuse('prekey_respond', { ...bobRespond, message: flip(m.message, -1) }, 'authentication', 'a1.0 with a flipped MAC');
            await shim.refuse('prekey_respond', { ...bobRespond, message: flip(m.message, -20) }, 'authentication', 'a1.0 with a flipped ciphertext byte');
            await shim.refuse('prekey_respond', { ...bobRespond, oneTimePrekeyPrivateKey: testKey('other one-time key'), message: m.message },
                'invalid_key', 'a1.0 to an account without its one-time key');
            await shim.refuse('prekey_respond', { ...bobRespond, message: m.message.slice(0, 40) }, 'malformed', 'a truncated a1.0');
            // Finding L1 (README): libolm never reads the version byte of a pre-key
            // message (only the inner message's), so this one is accepted.
            const v4 = await shim.ok('prekey_respond', { ...bobRespond, message: '04' + m.message.slice(2) });
            check(v4.plaintext === h(step.plaintext), 'L1: a1.0 with outer version byte 4 is accepted');
            await shim.refuse('prekey_respond', { ...bobRespond, message: flip(m.message, 105, 0x07) }, 'unsupported', 'a1.0 with inner version byte 4');
            const r = await shim.ok('prekey_respond', { ...bobRespond, message: m.message });
            check(r.plaintext === h(step.plaintext), 'a1.0: first plaintext');
            bob = r.session;
            await shim.refuse('decrypt', { session: bob, ...m, ad: '' }, 'authentication', 'a1.0 replayed to its session');
            continue;
        }
        if (step.name === 'a2.2') {
            // The first message of Alice's new chain, tampered: refused, nothing changes.
            await shim.refuse('decrypt', { session, ...m, message: flip(m.message, -1), ad: '' }, 'authentication', 'a2.2 flipped MAC');
            await shim.refuse('decrypt', { session, ...m, message: flip(m.message, -12), ad: '' }, 'authentication', 'a2.2 flipped ciphertext');
            await shim.refuse('decrypt', { session, ...m, message: flip(m.message, 5), ad: '' }, 'authentication', 'a2.2 flipped ratchet key');
            await shim.refuse('decrypt', { session, ...m, message: flip(m.message, 0, 0x07), ad: '' }, 'unsupported', 'a2.2 version 4');
            await shim.refuse('decrypt', { session, ...m, message: m.message.slice(0, 30), ad: '' }, 'malformed', 'a2.2 truncated');
            await shim.refuse('decrypt', { session, ...m, message: '', ad: '' }, 'malformed', 'an empty message');
        }
        if (step.name === 'a1.2') {
            // A pre-key message whose base key (bytes 36..68) is not this session's.
            await shim.refuse('decrypt', { session, ...m, message: flip(m.message, 40), ad: '' }, 'state', 'a1.2 naming another base key');
            await shim.refuse('decrypt', { session, ...m, message: flip(m.message, -1), ad: '' }, 'authentication', 'a1.2 flipped inner MAC');
        }
        if (step.name === 'a3.0') {
            // A copy decrypts and encrypts as the original: give it the key the original draws next.
            const copy = (await shim.ok('clone_session', { session: bob, ratchetPrivateKeys: [spare] })).session;
            const c = await shim.ok('decrypt', { session: copy, ...m, ad: '' });
            check(c.plaintext === h(step.plaintext), 'clone decrypts a3.0');
            const fromCopy = await shim.ok('encrypt', { session: copy, plaintext: h('after a3.0'), ad: '' });
            const r = await shim.ok('decrypt', { session, ...m, ad: '' });
            check(r.plaintext === h(step.plaintext), 'a3.0 after the clone decrypted it');
            const fromOriginal = await shim.ok('encrypt', { session: bob, plaintext: h('after a3.0'), ad: '' });
            check(fromCopy.message === fromOriginal.message, 'clone and original send the same bytes with the same key');
            await shim.refuse('decrypt', { session: copy, ...m, ad: '' }, 'authentication', 'a3.0 replayed to the clone');
            const back = await shim.ok('decrypt', { session: alice, ...fromCopy, ad: '' });
            check(back.plaintext === h('after a3.0'), 'Alice decrypts the clone\'s message');
            continue;
        }
        const r = await shim.ok('decrypt', { session, ...m, ad: '' });
        check(r.plaintext === h(step.plaintext), `${step.name}: plaintext`);
    }
    // Replays of messages already read, on chains still kept.
    for (const name of ['a2.0', 'a2.1', 'a1.1', 'a1.2']) {
        await shim.refuse('decrypt', { session: bob, ...wire[name], ad: '' }, 'authentication', `replay of ${name}`);
    }
    await shim.refuse('decrypt', { session: alice, ...wire['b1.0'], ad: '' }, 'authentication', 'replay of b1.0');
    return { alice, bob };
}

// --- fresh conversations with the selftest's own keys ----------------------------------

async function conversation(shim, tag, aliceKeys, bobKeys, firstPlaintext = h('first')) {
    const bobIdentity = testKey(`${tag} bob identity`);
    const bobOneTime = testKey(`${tag} bob one-time`);
    const alice = (await shim.ok('prekey_initiate', {
        suite: SUITE,
        identityPrivateKey: testKey(`${tag} alice identity`),
        ephemeralPrivateKey: testKey(`${tag} alice base`),
        ratchetPrivateKeys: Array.from({ length: aliceKeys }, (_, i) => testKey(`${tag} alice ratchet ${i}`)),
        peerIdentityKey: x25519Public(bobIdentity),
        peerOneTimePrekey: x25519Public(bobOneTime),
    })).session;
    const m0 = await shim.ok('encrypt', { session: alice, plaintext: firstPlaintext, ad: '' });
    const r = await shim.ok('prekey_respond', {
        suite: SUITE,
        identityPrivateKey: bobIdentity,
        oneTimePrekeyPrivateKey: bobOneTime,
        ratchetPrivateKeys: Array.from({ length: bobKeys }, (_, i) => testKey(`${tag} bob ratchet ${i}`)),
        message: m0.message,
    });
    check(r.plaintext === firstPlaintext, `${tag}: first message`);
    return { alice, bob: r.session };
}

async function bytePlaintexts(shim) {
    const { alice, bob } = await conversation(shim, 'bytes', 10, 10);
    for (const pt of ['', '00', '0000ff', 'ff', 'c3', 'ed9fbf', '80818283000102', nodeCrypto.randomBytes(300).toString('hex')]) {
        const m = await shim.ok('encrypt', { session: alice, plaintext: pt, ad: '' });
        const r = await shim.ok('decrypt', { session: bob, ...m, ad: '' });
        check(r.plaintext === pt, `byte plaintext ${pt.slice(0, 16)}… round trip`);
        const back = await shim.ok('encrypt', { session: bob, plaintext: pt, ad: '' });
        const r2 = await shim.ok('decrypt', { session: alice, ...back, ad: '' });
        check(r2.plaintext === pt, `byte plaintext ${pt.slice(0, 16)}… back`);
    }
    // Inputs far beyond the binding's stack (README, B1) go through the heap.
    const big = nodeCrypto.randomBytes(300000).toString('hex');
    const bigFirst = await conversation(shim, 'big', 2, 2, big);
    const bigReply = await shim.ok('encrypt', { session: bigFirst.bob, plaintext: big, ad: '' });
    check((await shim.ok('decrypt', { session: bigFirst.alice, ...bigReply, ad: '' })).plaintext === big, 'a 300 000-byte reply');
    const junk = '03' + nodeCrypto.randomBytes(200000).toString('hex');
    await shim.refuse('decrypt', { session: bigFirst.bob, message: junk, messageType: 'prekey', ad: '' }, 'malformed', 'a 200 001-byte pre-key message on a session');
    await shim.refuse('prekey_respond', { suite: SUITE, identityPrivateKey: testKey('x'), oneTimePrekeyPrivateKey: testKey('y'), ratchetPrivateKeys: [], message: junk }, 'malformed', 'a 200 001-byte first message');
    await shim.refuse('prekey_initiate', { suite: SUITE, identityPrivateKey: testKey('x'), ephemeralPrivateKey: testKey('y'), ratchetPrivateKeys: [testKey('z')], peerIdentityKey: junk, peerOneTimePrekey: x25519Public(testKey('w')) }, 'invalid_key', 'a 200 001-byte identity key');
    const again = await shim.ok('encrypt', { session: bigFirst.alice, plaintext: '00', ad: '' });
    check((await shim.ok('decrypt', { session: bigFirst.bob, ...again, ad: '' })).plaintext === '00', 'libolm intact after the large inputs');
    // Associated data cannot be bound: refused rather than ignored.
    await shim.refuse('encrypt', { session: alice, plaintext: '00', ad: '01' }, 'unsupported', 'encrypt with associated data');
    // Bob's own key list running dry at a send that starts a chain: `state`, nothing sent.
    const { alice: a2, bob: b2 } = await conversation(shim, 'dry', 2, 0);
    await shim.refuse('encrypt', { session: b2, plaintext: '00', ad: '' }, 'state', 'a send with no injected key left');
    const copy = (await shim.ok('clone_session', { session: b2, ratchetPrivateKeys: [testKey('dry bob ratchet 0')] })).session;
    const m = await shim.ok('encrypt', { session: copy, plaintext: '00', ad: '' });
    check((await shim.ok('decrypt', { session: a2, ...m, ad: '' })).plaintext === '00', 'the clone sends with its own key');
}

// The limits the handshake claims, as tools/olm-kat observed them (docs/OLM-V1.md §5.5).
async function limits(shim) {
    const { alice, bob } = await conversation(shim, 'gap', 2, 2);
    const ms = [null];   // ms[i]: Alice's message at index i (index 0 was "first")
    for (let i = 1; i <= 2002; i++) {
        ms.push(await shim.ok('encrypt', { session: alice, plaintext: h(`m${i}`), ad: '' }));
    }
    await shim.refuse('decrypt', { session: bob, ...ms[2002], ad: '' }, 'authentication', 'a gap of 2001 (libolm folds too_many_skipped)');
    check((await shim.ok('decrypt', { session: bob, ...ms[2001], ad: '' })).plaintext === h('m2001'), 'a gap of 2000 is accepted');
    await shim.refuse('decrypt', { session: bob, ...ms[1960], ad: '' }, 'authentication', 'skipped index 1960 is not among the 40 stored');
    for (let i = 1961; i <= 2000; i++) {
        check((await shim.ok('decrypt', { session: bob, ...ms[i], ad: '' })).plaintext === h(`m${i}`), `stored key ${i}`);
    }
    await shim.refuse('decrypt', { session: bob, ...ms[2001], ad: '' }, 'authentication', 'replay of index 2001');

    // Five receiver chains kept: a late message on the sixth newest is lost.
    const c = await conversation(shim, 'chains', 7, 7);
    const late = [await shim.ok('encrypt', { session: c.alice, plaintext: h('late 0'), ad: '' })];
    for (let round = 1; round <= 5; round++) {
        const ping = await shim.ok('encrypt', { session: c.bob, plaintext: h('ping'), ad: '' });
        await shim.ok('decrypt', { session: c.alice, ...ping, ad: '' });
        const m = await shim.ok('encrypt', { session: c.alice, plaintext: h(`chain ${round}`), ad: '' });
        late.push(await shim.ok('encrypt', { session: c.alice, plaintext: h(`late ${round}`), ad: '' }));
        await shim.ok('decrypt', { session: c.bob, ...m, ad: '' });
    }
    await shim.refuse('decrypt', { session: c.bob, ...late[0], ad: '' }, 'authentication', 'late message on the sixth newest chain');
    for (let round = 1; round <= 5; round++) {
        check((await shim.ok('decrypt', { session: c.bob, ...late[round], ad: '' })).plaintext === h(`late ${round}`), `late message on kept chain ${round}`);
    }
}

async function badRequests(shim, sessions) {
    const { alice, bob } = sessions;
    const key = testKey('k');
    await shim.refuse('encrypt', { session: 999, plaintext: '', ad: '' }, 'state', 'unknown session');
    await shim.refuse('encrypt', { session: 'x', plaintext: '', ad: '' }, 'state', 'session that is not a number');
    await shim.refuse('decrypt', { session: bob, message: 'zz', messageType: 'whisper', ad: '' }, 'malformed', 'bad hex');
    await shim.refuse('decrypt', { session: bob, message: '030', messageType: 'whisper', ad: '' }, 'malformed', 'odd hex');
    await shim.refuse('decrypt', { session: bob, message: null, messageType: 'whisper', ad: '' }, 'malformed', 'null message');
    await shim.refuse('decrypt', { session: bob, message: '03', messageType: 'other', ad: '' }, 'unsupported', 'unknown messageType');
    await shim.refuse('decrypt', { session: bob, message: '03', messageType: 'whisper', ad: '' }, 'malformed', 'a version byte alone');
    await shim.refuse('decrypt', { session: bob, message: '03', messageType: 'prekey', ad: '' }, 'malformed', 'a pre-key version byte alone');
    for (let i = 0; i < 20; i++) {
        const junk = nodeCrypto.randomBytes(1 + i * 7).toString('hex');
        const r = await shim.raw('decrypt', { session: bob, message: junk, messageType: i % 2 ? 'prekey' : 'whisper', ad: '' });
        check(r.error !== undefined, `random bytes ${junk.slice(0, 12)}… refused`);
    }
    await shim.refuse('nonsense', {}, 'unsupported', 'unknown op');
    await shim.refuse('init_session', { suite: SUITE }, 'unsupported', 'init_session (Olm has none)');
    await shim.refuse('prekey_initiate', { suite: 'signal-v3' }, 'unsupported', 'another suite');
    const base = { suite: SUITE, identityPrivateKey: key, ephemeralPrivateKey: key, ratchetPrivateKeys: [key, key], peerIdentityKey: x25519Public(key), peerOneTimePrekey: x25519Public(key) };
    await shim.refuse('prekey_initiate', { ...base, identityPrivateKey: key.slice(2) }, 'invalid_key', 'a 31-byte identity private key');
    await shim.refuse('prekey_initiate', { ...base, peerIdentityKey: key.slice(2) }, 'invalid_key', 'a 31-byte peer identity key (libolm)');
    await shim.refuse('prekey_initiate', { ...base, peerOneTimePrekey: key + '00' }, 'invalid_key', 'a 33-byte one-time key (libolm)');
    await shim.refuse('prekey_initiate', { ...base, peerOneTimePrekey: '' }, 'invalid_key', 'an empty one-time key (libolm)');
    await shim.refuse('prekey_initiate', { ...base, ratchetPrivateKeys: [] }, 'state', 'no first ratchet key');
    await shim.refuse('prekey_initiate', { ...base, ratchetPrivateKeys: 'x' }, 'malformed', 'ratchetPrivateKeys not a list');
    await shim.refuse('prekey_respond', { suite: SUITE, identityPrivateKey: key, oneTimePrekeyPrivateKey: key, ratchetPrivateKeys: [], message: '' }, 'malformed', 'an empty pre-key message');
    await shim.refuse('clone_session', { session: 12345, ratchetPrivateKeys: [] }, 'state', 'clone of an unknown session');
    // After all that the shim still works, and reset forgets every session.
    check((await shim.ok('encrypt', { session: alice, plaintext: '00', ad: '' })).message.length > 0, 'still answering');
    check(Object.keys(await shim.ok('reset', {})).length === 0, 'reset');
    await shim.refuse('encrypt', { session: alice, plaintext: '00', ad: '' }, 'state', 'a session after reset');
}

async function main() {
    const shim = new Shim();
    const hs = await shim.ok('handshake', { protocol: 1 });
    check(hs.protocol === 1 && hs.suites.length === 1 && hs.suites[0] === SUITE, 'handshake: suite olm-v1');
    check(hs.operations.includes('prekey') && hs.injectedRandomness === true && hs.clone === true, 'handshake: prekey, injected randomness, clone');
    check(hs.maxSkip === 2000 && hs.maxStoredSkippedKeys === 40, 'handshake: limits 2000 / 40 (checked below)');

    const sessions = await fixtureConversation(shim);
    await bytePlaintexts(shim);
    await limits(shim);
    await badRequests(shim, sessions);
    await shim.close();
    console.log(`selftest: ${checked()} checks passed (npm @matrix-org/olm ${hs.version})`);
}

main().catch((e) => {
    console.error(`selftest FAILED: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
