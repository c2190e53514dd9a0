#!/usr/bin/env node
// Evidence for the live-store findings (README, "Store modes", F11-F14): the
// library driven directly, once with a store that serializes records (what
// applications do) and once with a store that hands back the same SessionRecord
// object on every call. Each scenario establishes a session (Alice initOutgoing,
// a prekey message, a reply), lets an attacker who holds no key deliver one
// forged message to Bob, then continues the conversation both ways and prints
// what each genuine message meets. Real randomness; nothing here is a vector.
//
//   node conformance/shims/libsignal-node/live_store_evidence.js
//
// It first checks the shim's --store option (the handshake names the mode, a bad
// value stops the shim). Exit status 1 if a claimed behaviour does not
// reproduce, so the README's statements stay checkable.
'use strict';

for (const name of ['log', 'info', 'debug', 'warn']) {
    console[name] = () => {};          // the library's chatter ("Closing session: ...")
}
const say = (...a) => process.stdout.write(a.join(' ') + '\n');
const realError = console.error;
console.error = () => {};              // decryptWithSessions logs every failed attempt

const { curve, keyhelper, SessionBuilder, SessionCipher, SessionRecord, ProtocolAddress } = require('libsignal');
const protobufs = require('libsignal/src/protobufs');

class Store {
    constructor(live, identity, registrationId) {
        this.live = live;
        this.identity = identity;
        this.registrationId = registrationId;
        this.records = new Map();
        this.preKeys = new Map();
        this.signedPreKeys = new Map();
    }
    async getOurIdentity() { return this.identity; }
    async getOurRegistrationId() { return this.registrationId; }
    async isTrustedIdentity() { return true; }
    async loadSession(a) {
        const r = this.records.get(a);
        return r === undefined || this.live ? r : SessionRecord.deserialize(JSON.parse(r));
    }
    async storeSession(a, record) { this.records.set(a, this.live ? record : JSON.stringify(record.serialize())); }
    async loadPreKey(id) { return this.preKeys.get(id); }
    async removePreKey(id) { this.preKeys.delete(id); }
    async loadSignedPreKey(id) { return this.signedPreKeys.get(id); }
}

// Each side's cipher is named by its peer: toBob is Alice's, toAlice is Bob's.
const ALICE = new ProtocolAddress('alice', 1);
const BOB = new ProtocolAddress('bob', 1);

// Alice and Bob with one session: Alice's prekey message and Bob's reply delivered.
async function established(live) {
    const aliceId = keyhelper.generateIdentityKeyPair();
    const bobId = keyhelper.generateIdentityKeyPair();
    const alice = new Store(live, aliceId, 1);
    const bob = new Store(live, bobId, 2);
    const spk = keyhelper.generateSignedPreKey(bobId, 1);
    const opk = keyhelper.generatePreKey(2);
    bob.signedPreKeys.set(1, spk.keyPair);
    bob.preKeys.set(2, opk.keyPair);
    await new SessionBuilder(alice, BOB).initOutgoing({
        identityKey: bobId.pubKey, registrationId: 2,
        signedPreKey: { keyId: 1, publicKey: spk.keyPair.pubKey, signature: spk.signature },
        preKey: { keyId: 2, publicKey: opk.keyPair.pubKey },
    });
    const c = {
        live, alice, bob, aliceId,
        toBob: new SessionCipher(alice, BOB), toAlice: new SessionCipher(bob, ALICE),
    };
    const first = await c.toBob.encrypt(Buffer.from('a0'));
    await c.toAlice.decryptPreKeyWhisperMessage(first.body);
    await c.toBob.decryptWhisperMessage((await c.toAlice.encrypt(Buffer.from('b0'))).body);
    return c;
}

async function outcome(p) {
    try {
        return `ok "${(await p).toString()}"`;
    } catch (e) {
        const m = (e && e.message) || String(e);
        return m.startsWith('No matching sessions') ? 'refused (no matching session)' : `refused (${m})`;
    }
}

// A WhisperMessage with some header fields replaced and the MAC left as it was
// (so it is wrong): what anyone on the network can send.
function forge(body, fields) {
    const proto = protobufs.WhisperMessage.decode(body.slice(1, -8));
    Object.assign(proto, fields);
    const buf = protobufs.WhisperMessage.encode(proto).finish();
    return Buffer.concat([body.slice(0, 1), buf, body.slice(-8)]);
}

let failures = 0;
function expect(label, actual, wanted) {
    const ok = wanted.test(actual);
    if (!ok) {
        failures++;
    }
    say(`  ${ok ? ' ' : '!'} ${label}: ${actual}`);
}

const OK = /^ok /;
const REFUSED = /^refused/;
const both = (live) => (live ? REFUSED : OK);

// F11: one forged message with a new ratchet key (any valid public key) ends the
// session for good in both directions.
async function newRatchetKey(live) {
    const c = await established(live);
    const a1 = (await c.toBob.encrypt(Buffer.from('a1'))).body;      // Alice's new chain
    const a2 = (await c.toBob.encrypt(Buffer.from('a2'))).body;
    const forged = forge(a1, { ephemeralKey: keyhelper.generateIdentityKeyPair().pubKey });
    expect('forged message with a new ratchet key', await outcome(c.toAlice.decryptWhisperMessage(forged)), REFUSED);
    expect('genuine a1', await outcome(c.toAlice.decryptWhisperMessage(a1)), both(live));
    expect('genuine a2', await outcome(c.toAlice.decryptWhisperMessage(a2)), both(live));
    const b1 = (await c.toAlice.encrypt(Buffer.from('b1'))).body;
    expect('Bob replies b1, Alice decrypts', await outcome(c.toBob.decryptWhisperMessage(b1)), both(live));
    const a3 = (await c.toBob.encrypt(Buffer.from('a3'))).body;
    expect('genuine a3 (after Alice read b1, or tried)', await outcome(c.toAlice.decryptWhisperMessage(a3)), both(live));
}

// F11 on the current chain: flipping a byte of the ratchet key of a message on the
// chain Bob is reading closes that chain (and replaces the root key).
async function currentChainKeyFlip(live) {
    const c = await established(live);
    const a1 = (await c.toBob.encrypt(Buffer.from('a1'))).body;
    await c.toAlice.decryptWhisperMessage(a1);                         // Bob now reads Alice's chain
    const a2 = (await c.toBob.encrypt(Buffer.from('a2'))).body;
    const a3 = (await c.toBob.encrypt(Buffer.from('a3'))).body;
    const key = Buffer.from(protobufs.WhisperMessage.decode(a2.slice(1, -8)).ephemeralKey);
    key[5] ^= 1;
    expect('copy of a2 with one ratchet-key bit flipped', await outcome(c.toAlice.decryptWhisperMessage(forge(a2, { ephemeralKey: key }))), REFUSED);
    expect('genuine a2', await outcome(c.toAlice.decryptWhisperMessage(a2)), both(live));
    expect('genuine a3', await outcome(c.toAlice.decryptWhisperMessage(a3)), both(live));
    const b1 = (await c.toAlice.encrypt(Buffer.from('b1'))).body;
    expect('Bob replies b1, Alice decrypts', await outcome(c.toBob.decryptWhisperMessage(b1)), both(live));
}

// F12: a copy of a pending message with any byte changed (here: the MAC) deletes
// that message's key; the genuine message is then refused as already used.
async function deletesMessageKey(live) {
    const c = await established(live);
    const a1 = (await c.toBob.encrypt(Buffer.from('a1'))).body;
    const a2 = (await c.toBob.encrypt(Buffer.from('a2'))).body;
    const a3 = (await c.toBob.encrypt(Buffer.from('a3'))).body;
    expect('genuine a3 first (a1, a2 stored as skipped)', await outcome(c.toAlice.decryptWhisperMessage(a3)), OK);
    const bad = Buffer.from(a1);
    bad[bad.length - 1] ^= 1;
    expect('copy of a1 with a MAC bit flipped', await outcome(c.toAlice.decryptWhisperMessage(bad)), REFUSED);
    expect('genuine a1', await outcome(c.toAlice.decryptWhisperMessage(a1)), both(live));
    const bad2 = Buffer.from(a2);
    bad2[bad2.length - 1] ^= 1;
    expect('copy of a2 with a MAC bit flipped', await outcome(c.toAlice.decryptWhisperMessage(bad2)), REFUSED);
    expect('genuine a2', await outcome(c.toAlice.decryptWhisperMessage(a2)), both(live));
    const a4 = (await c.toBob.encrypt(Buffer.from('a4'))).body;
    expect('genuine a4 (the session itself goes on)', await outcome(c.toAlice.decryptWhisperMessage(a4)), OK);
}

// F13: a forged counter 2000 ahead stores 2000 message keys, every time.
async function storedKeysGrow(live) {
    const c = await established(live);
    const a1 = (await c.toBob.encrypt(Buffer.from('a1'))).body;
    await c.toAlice.decryptWhisperMessage(a1);
    const count = async () => {
        const rec = await c.bob.loadSession(ALICE.toString());
        let n = 0;
        for (const s of Object.values(rec.sessions)) {
            for (const [, chain] of s.chains()) {
                n += Object.keys(chain.messageKeys).length;
            }
        }
        return n;
    };
    let counter = 0;
    const rounds = 10;
    for (let i = 0; i < rounds; i++) {
        counter += 2000;
        await outcome(c.toAlice.decryptWhisperMessage(forge(a1, { counter })));
    }
    const n = await count();
    expect(`message keys Bob stores after ${rounds} forged messages, counter +2000 each`, String(n), live ? /^(19|20)\d\d\d$/ : /^0$/);
    const a2 = (await c.toBob.encrypt(Buffer.from('a2'))).body;
    expect('genuine a2', await outcome(c.toAlice.decryptWhisperMessage(a2)), OK);
}

// F14: a forged PreKeyWhisperMessage (Alice's public identity key, a new base key,
// Bob's public signed-prekey id, no one-time prekey, any inner message) closes Bob's
// open session and opens the forged one; Bob's replies then go to a session Alice
// does not have, while Alice's messages still decrypt on the closed one -- until
// Alice tries one of those replies: its unknown ratchet key steps her live session
// as in F11, and from then on nothing decrypts either way.
async function forgedPreKeyMessage(live) {
    const c = await established(live);
    const a1 = (await c.toBob.encrypt(Buffer.from('a1'))).body;
    const pk = protobufs.PreKeyWhisperMessage.create({
        identityKey: c.aliceId.pubKey, registrationId: 1,
        baseKey: keyhelper.generateIdentityKeyPair().pubKey, signedPreKeyId: 1, message: a1,
    });
    const forged = Buffer.concat([Buffer.from([0x33]), Buffer.from(protobufs.PreKeyWhisperMessage.encode(pk).finish())]);
    expect('forged PreKeyWhisperMessage', await outcome(c.toAlice.decryptPreKeyWhisperMessage(forged)), REFUSED);
    expect('genuine a1', await outcome(c.toAlice.decryptWhisperMessage(a1)), OK);
    const a2 = (await c.toBob.encrypt(Buffer.from('a2'))).body;
    expect('genuine a2 (on the session Bob has closed)', await outcome(c.toAlice.decryptWhisperMessage(a2)), OK);
    for (const label of ['b1', 'b2']) {
        const b = (await c.toAlice.encrypt(Buffer.from(label))).body;
        expect(`Bob replies ${label}, Alice decrypts`, await outcome(c.toBob.decryptWhisperMessage(b)), both(live));
        const a = (await c.toBob.encrypt(Buffer.from(`a-after-${label}`))).body;
        expect(`genuine a-after-${label}`, await outcome(c.toAlice.decryptWhisperMessage(a)), both(live));
    }
}

// The shim's --store option: the handshake names the mode, and a bad value stops it.
function handshakeVersion(args) {
    const { spawnSync } = require('child_process');
    const r = spawnSync(process.execPath, [require('path').join(__dirname, 'shim.js'), ...args],
        { input: '{"id":1,"op":"handshake"}\n', encoding: 'utf8' });
    return r.status === 0 && r.stdout ? JSON.parse(r.stdout).result.version : 'refused to start';
}

async function main() {
    say('the shim\'s --store option');
    expect('shim.js handshake version', handshakeVersion([]), /^6\.0\.0 \(serializing store\)$/);
    expect('shim.js --store serializing', handshakeVersion(['--store', 'serializing']), /^6\.0\.0 \(serializing store\)$/);
    expect('shim.js --store live', handshakeVersion(['--store', 'live']), /^6\.0\.0 \(live store\)$/);
    expect('shim.js --store=live', handshakeVersion(['--store=live']), /^6\.0\.0 \(live store\)$/);
    expect('shim.js --store copy', handshakeVersion(['--store', 'copy']), /^refused to start$/);
    const scenarios = [
        ['F11 forged message with a new ratchet key', newRatchetKey],
        ['F11 forged ratchet key on the chain Bob reads', currentChainKeyFlip],
        ['F12 forged copy of a pending message', deletesMessageKey],
        ['F13 forged counters', storedKeysGrow],
        ['F14 forged PreKeyWhisperMessage on an established session', forgedPreKeyMessage],
    ];
    for (const [title, run] of scenarios) {
        for (const live of [false, true]) {
            say(`${title} -- ${live ? 'live' : 'serializing'} store`);
            await run(live);
        }
    }
    say(failures === 0 ? 'every claim reproduced' : `${failures} claim(s) did not reproduce`);
    process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
    realError(e && e.stack ? e.stack : e);
    process.exit(1);
});
