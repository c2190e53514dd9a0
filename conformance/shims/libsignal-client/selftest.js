#!/usr/bin/env node
// Standalone test of shim.js (run `./setup.sh` first):
//
//   node conformance/shims/libsignal-client/selftest.js
//
// The shim runs as a child process and is driven over the shim protocol, as the
// runner drives it. Alice is libsignal-client (prekey_initiate / encrypt), Bob is
// libsignal-client with injected keys (pqxdh_accept / prekey_respond). What the
// shim answers is checked against values computed HERE, independently of the
// library: X25519 and HKDF/HMAC/AES from node:crypto, Kyber1024 decapsulation from
// an ML-KEM-1024 implementation (findings.js, kyberR3Decap), SPQR's epoch-0 chain
// key (FINDINGS.md d). In particular session_keys (the decoder of the library's
// SessionRecord) must agree with:
//   * Alice's receiver chain key for Bob's signed prekey = PQXDH bytes 32–64;
//   * rootKey ‖ senderChainKey = HKDF(DH(SPK_B, Alice's ratchet key), salt = PQXDH bytes 0–32, "WhisperRatchet");
//   * the first message's MAC under HKDF(HMAC(CK,0x01), salt = SPQR key, "WhisperMessageKeys").
'use strict';

const { spawn } = require('child_process');
const readline = require('readline');
const path = require('path');
const nodeCrypto = require('crypto');
const C = require('./common');
const F = require('./findings');
const { S, T, hex, unhex, u8, x25519, x25519Public, hkdf, hmac } = C;

const SUITE = 'signal-pqxdh-kyber1024';
let passed = 0;
let failed = 0;
function check(cond, what) {
    if (cond) {
        passed++;
    } else {
        failed++;
        console.error(`FAILED: ${what}`);
    }
}
function eq(a, b, what) {
    check(a === b, `${what}: ${JSON.stringify(a)} !== ${JSON.stringify(b)}`);
}

class ShimProcess {
    constructor() {
        this.proc = spawn(process.execPath, [path.join(__dirname, 'shim.js')], { stdio: ['pipe', 'pipe', 'pipe'] });
        this.stderr = '';
        this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-8192); });
        this.waiting = [];
        this.id = 0;
        readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
            const w = this.waiting.shift();
            if (!w) throw new Error(`unexpected shim output: ${line}`);
            const r = JSON.parse(line);
            if (r.id !== w.id) w.reject(new Error(`response id ${r.id} for request ${w.id}`));
            else w.resolve(r);
        });
        this.proc.on('exit', (code) => this.waiting.forEach((w) => w.reject(new Error(`shim exited ${code}: ${this.stderr}`))));
    }
    call(op, fields = {}) {
        const id = ++this.id;
        return new Promise((resolve, reject) => {
            this.waiting.push({ id, resolve, reject });
            this.proc.stdin.write(JSON.stringify({ id, op, ...fields }) + '\n');
        });
    }
    async ok(op, fields) {
        const r = await this.call(op, fields);
        if (r.error) throw new Error(`${op}: unexpected error ${JSON.stringify(r.error)}\n${this.stderr}`);
        return r.result;
    }
    async refused(op, fields, cls, what) {
        const r = await this.call(op, fields);
        check(r.error !== undefined, `${what}: refused (got ${JSON.stringify(r.result)})`);
        if (r.error) eq(r.error.class, cls, `${what}: class (${r.error.message})`);
        return r.error;
    }
    close() {
        this.proc.stdin.end();
        return new Promise((resolve) => this.proc.on('exit', resolve));
    }
}

// --- Bob's keys, fixed -------------------------------------------------------------
async function bobKeys() {
    const seed = (l, n = 32) => hkdf(Buffer.from(l), Buffer.alloc(0), 'ratchetproof libsignal-client selftest', n);
    const { MlKem1024 } = require('crystals-kyber-js');
    const kem = async (l) => {
        const [pk, sk] = await new MlKem1024().deriveKeyPair(u8(seed(l, 64)));
        return { pk: Buffer.from(pk), sk: Buffer.from(sk) };
    };
    const b = {
        ik: seed('bob identity'), spk: seed('bob signed prekey'), opk: seed('bob one-time prekey'),
        opk2: seed('bob one-time prekey 2'), kem: await kem('bob kem one-time'), kemLR: await kem('bob kem last resort'),
    };
    const ikPriv = C.ecPrivate(b.ik);
    b.ikPub = x25519Public(Buffer.from(ikPriv.serialize()));
    b.spkPub = x25519Public(b.spk);
    b.spkSig = Buffer.from(ikPriv.sign(u8(Buffer.concat([Buffer.from([5]), b.spkPub]))));
    b.kemSig = Buffer.from(ikPriv.sign(u8(Buffer.concat([Buffer.from([8]), b.kem.pk]))));
    b.kemLRSig = Buffer.from(ikPriv.sign(u8(Buffer.concat([Buffer.from([8]), b.kemLR.pk]))));
    b.seed = seed;
    return b;
}

function initiateRequest(b, aliceLabel, over = {}) {
    return {
        suite: SUITE, identityPrivateKey: hex(b.seed(aliceLabel)), registrationId: 7, ephemeralPrivateKey: hex(b.seed(aliceLabel + ' base')),
        ratchetPrivateKeys: [hex(b.seed(aliceLabel + ' r0'))], peerIdentityKey: hex(b.ikPub), peerRegistrationId: 9,
        peerSignedPrekeyId: 1, peerSignedPrekey: hex(b.spkPub), peerSignedPrekeySignature: hex(b.spkSig),
        peerOneTimePrekeyId: 2, peerOneTimePrekey: hex(x25519Public(b.opk)),
        peerKemPrekeyId: 3, peerKemPrekey: hex(b.kem.pk), peerKemPrekeySignature: hex(b.kemSig), ...over,
    };
}
function acceptRequest(b, messages) {
    return {
        suite: SUITE, identityPrivateKey: hex(b.ik),
        signedPrekeys: [{ id: 1, privateKey: hex(b.spk) }],
        oneTimePrekeys: [{ id: 2, privateKey: hex(b.opk) }, { id: 5, privateKey: hex(b.opk2) }],
        kemPrekeys: [{ id: 3, publicKey: hex(b.kem.pk), privateKey: hex(b.kem.sk), lastResort: false },
            { id: 4, publicKey: hex(b.kemLR.pk), privateKey: hex(b.kemLR.sk), lastResort: true }],
        ratchetPrivateKeys: messages.map((_, i) => hex(b.seed(`bob r${i}`))),
        initialMessages: messages.map(hex),
    };
}

// Rebuild an initial message with a changed SignalMessage and a MAC computed here.
function remac(msg, changeInner, macKey, ikA33, ikB33) {
    const { pk, inner, sm } = F.fieldsOf(msg);
    const sm2 = changeInner({ ...sm });
    return F.rewrap(pk, F.reencode(inner, sm2, macKey, ikA33, ikB33));
}

async function main() {
    const b = await bobKeys();
    const shim = new ShimProcess();
    const hs = await shim.ok('handshake', { protocol: 1 });
    eq(JSON.stringify(hs.suites), JSON.stringify([SUITE]), 'handshake suites');
    eq(hs.injectedRandomness, false, 'handshake: no injected randomness (the Node API has no RNG hook)');
    check(hs.operations.includes('pqxdh_accept') && hs.operations.includes('inspect') && hs.operations.includes('prekey'), 'handshake operations');
    await shim.refused('prekey_initiate', { ...initiateRequest(b, 'alice'), suite: 'signal-v3' }, 'unsupported', 'another suite');

    // --- Alice's bundle checks --------------------------------------------------------
    const flip = (h, i = 3) => { const x = unhex(h); x[i] ^= 1; return hex(x); };
    const base = initiateRequest(b, 'alice');
    await shim.refused('prekey_initiate', { ...base, peerKemPrekeySignature: flip(base.peerKemPrekeySignature) }, 'authentication', 'Kyber prekey signature with a flipped bit');
    await shim.refused('prekey_initiate', { ...base, peerSignedPrekeySignature: flip(base.peerSignedPrekeySignature) }, 'authentication', 'signed prekey signature with a flipped bit');
    await shim.refused('prekey_initiate', { ...base, peerKemPrekeySignature: hex(C.ecPrivate(b.ik).sign(u8(b.kem.pk))) }, 'authentication', 'Kyber signature over the bare key (no 0x08)');
    await shim.refused('prekey_initiate', { ...base, peerKemPrekey: hex(b.kem.pk.subarray(1)) }, 'invalid_key', 'Kyber prekey of 1567 bytes');
    await shim.refused('prekey_initiate', { ...base, peerKemPrekey: '0a' + hex(b.kem.pk) }, 'invalid_key', 'KEM prekey encoded with type 0x0A (ML-KEM-1024)');
    const encoded = await shim.ok('prekey_initiate', { ...base, peerKemPrekey: '08' + hex(b.kem.pk) });
    check(encoded.session !== undefined, 'KEM prekey encoded with its type byte (EncodeKEM, as the runner sends it)');

    // --- Alice: session, keys, first message -------------------------------------------
    const a = await shim.ok('prekey_initiate', base);
    eq(a.baseKey.length, 64, 'prekey_initiate answers the base key the library drew');
    check(a.baseKey !== hex(x25519Public(b.seed('alice base'))), 'the library did not use the injected ephemeral key (it cannot)');
    const k0 = await shim.ok('session_keys', { session: a.session });
    eq(k0.remoteIdentityKey, hex(b.ikPub), 'session_keys: remote identity = Bob');
    eq(k0.senderChainIndex, 0, 'session_keys: sender chain index 0 before any message');
    eq(k0.receiverChains.length, 1, 'session_keys: one receiver chain (Bob\'s signed prekey)');
    eq(k0.receiverChains[0].ratchetKey, hex(b.spkPub), 'session_keys: receiver chain ratchet key = Bob\'s signed prekey');
    check(k0.pqRatchetState.length > 0, 'session_keys: a non-empty SPQR state');
    const e0 = await shim.ok('encrypt', { session: a.session, plaintext: hex(Buffer.from('m0')), ad: '' });
    eq(e0.messageType, 'prekey', 'first message is a prekey message');
    const m0 = unhex(e0.message);
    eq(m0[0], 0x44, 'version byte 0x44');
    const { pk, inner, sm } = F.fieldsOf(m0);
    eq(hex(Buffer.from(pk.baseKey)), '05' + a.baseKey, 'message base key = the reported base key');
    eq(pk.kyberPreKeyId, 3, 'kyberPreKeyId');
    eq(pk.kyberCiphertext.length, 1569, 'kyberCiphertext 0x08 ‖ 1568');
    eq(pk.kyberCiphertext[0], 8, 'kyberCiphertext type byte');
    const ikA33 = Buffer.from(pk.identityKey);
    const ikB33 = Buffer.concat([Buffer.from([5]), b.ikPub]);
    eq(hex(ikA33.subarray(1)), hex(x25519Public(Buffer.from(C.ecPrivate(b.seed('alice')).serialize()))), 'Alice\'s identity is the injected one');

    // Independent PQXDH: Bob's private keys, Alice's public ones, SS by decapsulation.
    const baseKey = unhex(a.baseKey);
    const spkPriv = Buffer.from(C.ecPrivate(b.spk).serialize());
    const dhs = [x25519(spkPriv, ikA33.subarray(1)), x25519(Buffer.from(C.ecPrivate(b.ik).serialize()), baseKey), x25519(spkPriv, baseKey), x25519(Buffer.from(C.ecPrivate(b.opk).serialize()), baseKey)];
    const ss = await F.kyberR3Decap(Buffer.from(pk.kyberCiphertext).subarray(1), b.kem.sk);
    const sec = hkdf(Buffer.concat([Buffer.alloc(32, 0xff), ...dhs, ss]), Buffer.alloc(32), 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024', 96);
    eq(k0.receiverChains[0].chainKey, hex(sec.subarray(32, 64)), 'decoder: Alice\'s receiver chain key = PQXDH bytes 32–64');
    const step = hkdf(x25519(spkPriv, unhex(k0.senderRatchetKey)), sec.subarray(0, 32), 'WhisperRatchet', 64);
    eq(k0.rootKey, hex(step.subarray(0, 32)), 'decoder: root key = KDF_RK(PQXDH bytes 0–32, DH(Alice ratchet, SPK_B))[0..32]');
    eq(k0.senderChainKey, hex(step.subarray(32)), 'decoder: sender chain key = KDF_RK(…)[32..64]');
    const ck0 = unhex(k0.senderChainKey);
    const mk0 = hmac(ck0, Buffer.from([1]));
    const keys = F.messageKeys(mk0, F.spqrFirstSendKey(sec.subarray(64)));
    const keys0 = F.messageKeys(mk0);
    const body = inner.subarray(0, inner.length - 8);
    const tag = inner.subarray(inner.length - 8);
    check(F.macOf(keys.mac, ikA33, ikB33, body).equals(tag), 'first message MAC under SPQR-salted message keys');
    check(!F.macOf(keys0.mac, ikA33, ikB33, body).equals(tag), 'first message MAC NOT under zero-salt message keys (SPQR matters)');
    const d = nodeCrypto.createDecipheriv('aes-256-cbc', keys.aes, keys.iv);
    eq(Buffer.concat([d.update(Buffer.from(sm.ciphertext)), d.final()]).toString(), 'm0', 'first message decrypts here');
    const k1 = await shim.ok('session_keys', { session: a.session });
    eq(k1.senderChainIndex, 1, 'session_keys: index 1 after one message');
    eq(k1.senderChainKey, hex(hmac(ck0, Buffer.from([2]))), 'session_keys: chain key = HMAC(CK0, 0x02)');
    const e1 = await shim.ok('encrypt', { session: a.session, plaintext: hex(Buffer.from('m1')), ad: '' });
    eq(e1.messageType, 'prekey', 'second message is still a prekey message');

    // Variants of m0, MACs computed here.
    const tampered = Buffer.from(m0); tampered[tampered.length - 1] ^= 1; // last byte of the inner MAC
    const noField5 = remac(m0, (x) => { delete x.pqRatchet; return x; }, keys0.mac, ikA33, ikB33);
    const emptyField5 = remac(m0, (x) => ({ ...x, pqRatchet: Buffer.alloc(0) }), keys0.mac, ikA33, ikB33);
    const ctFlip = (() => { const c = Buffer.from(pk.kyberCiphertext); c[200] ^= 1; return F.rewrap({ ...pk, kyberCiphertext: c }, inner); })();
    const ct0a = (() => { const c = Buffer.from(pk.kyberCiphertext); c[0] = 0x0a; return F.rewrap({ ...pk, kyberCiphertext: c }, inner); })();
    const ctShort = F.rewrap({ ...pk, kyberCiphertext: Buffer.from(pk.kyberCiphertext).subarray(0, 1568) }, inner);
    const unknownKem = F.rewrap({ ...pk, kyberPreKeyId: 99 }, inner);
    const v3 = Buffer.from(m0); v3[0] = 0x33;

    // Other Alices: one on the same one-time Kyber prekey, two on the last-resort one.
    const a2 = await shim.ok('prekey_initiate', initiateRequest(b, 'alice two', { peerOneTimePrekeyId: 5, peerOneTimePrekey: hex(x25519Public(b.opk2)) }));
    const m2 = unhex((await shim.ok('encrypt', { session: a2.session, plaintext: hex(Buffer.from('m2')) })).message);
    const lr = { peerKemPrekeyId: 4, peerKemPrekey: hex(b.kemLR.pk), peerKemPrekeySignature: hex(b.kemLRSig) };
    const a3 = await shim.ok('prekey_initiate', initiateRequest(b, 'alice three', { ...lr, peerOneTimePrekeyId: undefined, peerOneTimePrekey: undefined }));
    const m3 = unhex((await shim.ok('encrypt', { session: a3.session, plaintext: hex(Buffer.from('m3')) })).message);
    const a4 = await shim.ok('prekey_initiate', initiateRequest(b, 'alice four', { ...lr, peerOneTimePrekeyId: undefined, peerOneTimePrekey: undefined }));
    const m4 = unhex((await shim.ok('encrypt', { session: a4.session, plaintext: hex(Buffer.from('m4')) })).message);
    check(!Object.prototype.hasOwnProperty.call(F.fieldsOf(m3).pk, 'preKeyId'), 'no one-time EC prekey: field 1 absent');

    const expect = [
        ['inner MAC bit flipped', tampered, 'authentication'],
        ['no field 5 (zero-salt MAC)', noField5, 'unsupported'],
        ['empty field 5 (zero-salt MAC)', emptyField5, 'unsupported'],
        ['kyberCiphertext bit flipped', ctFlip, 'authentication'],
        ['kyberCiphertext type 0x0A', ct0a, 'invalid_key'],
        ['kyberCiphertext 1568 bytes', ctShort, 'malformed'],
        ['unknown kyberPreKeyId', unknownKem, 'invalid_key'],
        ['version 0x33', v3, 'unsupported'],
        ['empty', Buffer.alloc(0), 'malformed'],
        ['genuine m0', m0, 'm0'],
        ['replay of m0', m0, 'duplicate'],
        ['another Alice on the used one-time Kyber prekey', m2, 'invalid_key'],
        ['Alice three on the last-resort Kyber prekey', m3, 'm3'],
        ['Alice four on the last-resort Kyber prekey', m4, 'm4'],
        ['replay of m3 (its session is archived)', m3, 'duplicate'],
        ['m1, Alice one\'s second message, after two newer sessions (an archived session decrypts it)', unhex(e1.message), 'm1'],
    ];
    const { outcomes } = await shim.ok('pqxdh_accept', acceptRequest(b, expect.map((x) => x[1])));
    eq(outcomes.length, expect.length, 'one outcome per initial message');
    for (const [i, [name, , want]] of expect.entries()) {
        const o = outcomes[i] || {};
        if (/^m\d$/.test(want)) {
            eq(o.plaintext && Buffer.from(o.plaintext, 'hex').toString(), want, `pqxdh_accept ${name}: accepted`);
            const ikA = F.fieldsOf(expect[i][1]).pk.identityKey;
            eq(o.associatedData, hex(Buffer.concat([Buffer.from(ikA), ikB33])), `pqxdh_accept ${name}: AD = 0x05‖IK_A ‖ 0x05‖IK_B`);
            eq(o.peerIdentityKey, hex(Buffer.from(ikA).subarray(1)), `pqxdh_accept ${name}: peer identity`);
        } else {
            eq(o.error && o.error.class, want, `pqxdh_accept ${name}: ${o.error ? o.error.message : JSON.stringify(o)}`);
        }
    }
    // A bad request is refused as a whole.
    const badReq = acceptRequest(b, [m0]);
    badReq.kemPrekeys[0].publicKey = hex(b.kem.pk.subarray(0, 1000));
    await shim.refused('pqxdh_accept', badReq, 'invalid_key', 'a Kyber prekey of the wrong length');

    // --- a conversation: prekey_respond, replies, message types --------------------------
    const a5 = await shim.ok('prekey_initiate', initiateRequest(b, 'alice five'));
    const f0 = await shim.ok('encrypt', { session: a5.session, plaintext: hex(Buffer.from('hello bob')) });
    const bob = await shim.ok('prekey_respond', {
        suite: SUITE, identityPrivateKey: hex(b.ik), registrationId: 9, signedPrekeyId: 1, signedPrekeyPrivateKey: hex(b.spk),
        oneTimePrekeyId: 2, oneTimePrekeyPrivateKey: hex(b.opk), kemPrekeyId: 3, kemPrekeyPublicKey: hex(b.kem.pk), kemPrekeyPrivateKey: hex(b.kem.sk),
        ratchetPrivateKeys: [], message: f0.message,
    });
    eq(Buffer.from(bob.plaintext, 'hex').toString(), 'hello bob', 'prekey_respond decrypts');
    const r0 = await shim.ok('encrypt', { session: bob.session, plaintext: hex(Buffer.from('hello alice')) });
    eq(r0.messageType, 'whisper', 'Bob replies with a whisper message');
    eq(Buffer.from((await shim.ok('decrypt', { session: a5.session, message: r0.message, messageType: 'whisper' })).plaintext, 'hex').toString(), 'hello alice', 'Alice decrypts the reply');
    await shim.refused('decrypt', { session: a5.session, message: r0.message, messageType: 'whisper' }, 'duplicate', 'replayed reply');
    const r1 = await shim.ok('encrypt', { session: bob.session, plaintext: hex(Buffer.from('second reply')) });
    const r1t = unhex(r1.message); r1t[r1t.length - 2] ^= 4;
    await shim.refused('decrypt', { session: a5.session, message: hex(r1t), messageType: 'whisper' }, 'authentication', 'tampered reply (MAC)');
    eq(Buffer.from((await shim.ok('decrypt', { session: a5.session, message: r1.message, messageType: 'whisper' })).plaintext, 'hex').toString(), 'second reply', 'the genuine reply still decrypts after the refusal');
    const ka = await shim.ok('session_keys', { session: a5.session });
    eq(ka.receiverChains.length, 2, 'Alice now has a receiver chain for Bob\'s new ratchet key');
    const f1 = await shim.ok('encrypt', { session: a5.session, plaintext: hex(Buffer.from('after the reply')) });
    eq(f1.messageType, 'whisper', 'Alice sends whisper messages after she decrypted one');
    eq(Buffer.from((await shim.ok('decrypt', { session: bob.session, message: f1.message })).plaintext, 'hex').toString(), 'after the reply', 'Bob decrypts it');
    // The committed sample (sample.js): libsignal-client's own messages from an earlier
    // run must still give the committed outcomes, and the committed derivations must
    // hold for them (recomputed here from the sample's keys and messages).
    const sample = require('./sample-pqxdh-accept.json');
    const again = await shim.ok('pqxdh_accept', sample.request);
    eq(JSON.stringify(again.outcomes), JSON.stringify(sample.outcomes), 'sample-pqxdh-accept.json: the committed outcomes');
    for (const dv of sample.derivations) {
        const msg = unhex(sample.request.initialMessages[dv.message]);
        const f = F.fieldsOf(msg);
        const kem = sample.request.kemPrekeys.find((k) => k.id === f.pk.kyberPreKeyId);
        const ssHere = await F.kyberR3Decap(Buffer.from(f.pk.kyberCiphertext).subarray(1), unhex(kem.privateKey));
        eq(hex(ssHere), dv.kemSharedSecret, `sample message ${dv.message}: KEM shared secret`);
        const priv = (h) => Buffer.from(C.ecPrivate(unhex(h)).serialize());
        const spkP = priv(sample.request.signedPrekeys.find((x) => x.id === f.pk.signedPreKeyId).privateKey);
        const baseHere = Buffer.from(f.pk.baseKey).subarray(1);
        const dhHere = [x25519(spkP, Buffer.from(f.pk.identityKey).subarray(1)), x25519(priv(sample.request.identityPrivateKey), baseHere), x25519(spkP, baseHere)];
        if (Object.prototype.hasOwnProperty.call(f.pk, 'preKeyId')) {
            dhHere.push(x25519(priv(sample.request.oneTimePrekeys.find((x) => x.id === f.pk.preKeyId).privateKey), baseHere));
        }
        eq(JSON.stringify(dhHere.map(hex)), JSON.stringify(dv.dh), `sample message ${dv.message}: DH1..DH${dhHere.length}`);
        const secHere = hkdf(Buffer.concat([Buffer.alloc(32, 0xff), ...dhHere, ssHere]), Buffer.alloc(32), 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024', 96);
        eq(hex(secHere), dv.pqxdhOutput, `sample message ${dv.message}: PQXDH output`);
        const k = unhex(dv.messageKeys);
        const innerHere = f.inner;
        check(F.macOf(k.subarray(32, 64), Buffer.from(f.pk.identityKey), Buffer.concat([Buffer.from([5]), x25519Public(Buffer.from(C.ecPrivate(unhex(sample.request.identityPrivateKey)).serialize()))]), innerHere.subarray(0, innerHere.length - 8)).equals(innerHere.subarray(innerHere.length - 8)), `sample message ${dv.message}: MAC under the committed message keys`);
        eq(hex(F.messageKeys(unhex(dv.messageKeySeed), unhex(dv.spqrMessageKey)).aes), hex(k.subarray(0, 32)), `sample message ${dv.message}: message keys = HKDF(seed, salt = SPQR key)`);
    }
    // Field 6 (addresses): an Alice with ServiceId address names (made in this process
    // with the library) writes it; the shim's Bob takes his addresses from it.
    {
        const fm = await F.bobMaterial(' selftest field 6');
        const fb = F.bobStore(fm);
        const A = S.ProtocolAddress.new(S.Aci.fromUuid('0e1d2c3b-4a59-4687-9a5b-6c7d8e9fa0b1'), 1);
        const B = S.ProtocolAddress.new(S.Aci.fromUuid('f0e1d2c3-b4a5-4687-8a5b-6c7d8e9fa0b2'), 7);
        const al = new C.MemoryStore(C.identityKeyPair(b.seed('alice field 6')), 1);
        await S.processPreKeyBundle(F.bundleFor(fm, fb), B, A, al, al);
        const g0 = Buffer.from((await S.signalEncrypt(u8(Buffer.from('g0')), B, A, al, al)).serialize());
        const inner6 = Buffer.from(F.fieldsOf(g0).pk.message);
        const sm6 = T.SignalMessageAddresses.decode(inner6.subarray(1, inner6.length - 8));
        eq(sm6.addresses && sm6.addresses.length, 36, 'ServiceId addresses: field 6 is written (36 bytes)');
        const g0t = Buffer.from(g0);
        const at = g0t.indexOf(Buffer.from(sm6.addresses));
        g0t[at + 35] ^= 1; // recipient device 7 -> 6, MAC not recomputed
        const req6 = {
            suite: SUITE, identityPrivateKey: hex(fm.ik), signedPrekeys: [{ id: 1, privateKey: hex(fm.spk) }], oneTimePrekeys: [{ id: 2, privateKey: hex(fm.opk) }],
            kemPrekeys: [{ id: 3, publicKey: hex(fm.kemPk), privateKey: hex(fm.kemSk), lastResort: false }], ratchetPrivateKeys: [], initialMessages: [hex(g0t), hex(g0)],
        };
        const r6 = await shim.ok('pqxdh_accept', req6);
        eq(r6.outcomes[0].error && r6.outcomes[0].error.class, 'authentication', 'field 6 altered (recipient device), MAC not recomputed: refused');
        eq(r6.outcomes[1].plaintext && Buffer.from(r6.outcomes[1].plaintext, 'hex').toString(), 'g0', 'field 6 present: the shim\'s Bob uses its addresses and accepts');
    }
    {
        const rp = sample.reply;
        const rb = unhex(rp.message);
        const ikA0 = Buffer.from(F.fieldsOf(unhex(sample.request.initialMessages[rp.answers])).pk.identityKey);
        const ikB0 = Buffer.concat([Buffer.from([5]), x25519Public(Buffer.from(C.ecPrivate(unhex(sample.request.identityPrivateKey)).serialize()))]);
        const rk = F.messageKeys(unhex(rp.messageKeySeed), unhex(rp.spqrMessageKey));
        eq(hex(Buffer.concat([rk.aes, rk.mac, rk.iv])), rp.messageKeys, 'sample reply: message keys = HKDF(seed, salt = SPQR B2A key 1)');
        check(F.macOf(rk.mac, ikB0, ikA0, rb.subarray(0, rb.length - 8)).equals(rb.subarray(rb.length - 8)), 'sample reply: MAC (Bob ‖ Alice) under the committed keys');
        eq(hex(hkdf(unhex(rp.spqrB2aChainNext0), Buffer.alloc(32), Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('Signal PQ Ratchet V1 Chain Next')]), 64).subarray(32)), rp.spqrMessageKey, 'sample reply: SPQR key 1 of the B2A chain');
        eq(hex(hkdf(unhex(sample.derivations[0].spqrAuthKey), Buffer.alloc(32), 'Signal PQ Ratchet V1 Chain  Start', 96).subarray(64)), rp.spqrB2aChainNext0, 'sample reply: B2A chain = bytes 64–96 of "Chain  Start"');
    }
    await shim.refused('session_keys', { session: 12345 }, 'state', 'unknown session');
    await shim.ok('reset', {});
    await shim.refused('encrypt', { session: a5.session, plaintext: '' }, 'state', 'sessions are gone after reset');
    await shim.close();

    // --- the store's last-resort rule, directly -------------------------------------------
    const { ShimStore } = require('./shim');
    const st = new ShimStore(C.identityKeyPair(b.ik), 1);
    st.saveKyberPreKey(4, C.kyberPreKeyRecord(4, b.kemLR.pk, b.kemLR.sk, b.kemLRSig), true);
    st.saveKyberPreKey(3, C.kyberPreKeyRecord(3, b.kem.pk, b.kem.sk, b.kemSig), false);
    const bk = C.ecPublic(baseKey);
    await st.markKyberPreKeyUsed(4, 1, bk);
    let threw = false;
    try { await st.markKyberPreKeyUsed(4, 1, bk); } catch (e) { threw = true; }
    check(threw, 'store: a last-resort Kyber prekey with the same signed prekey and base key is refused');
    await st.markKyberPreKeyUsed(4, 1, C.ecPublic(x25519Public(b.seed('other base'))));
    check(st.kyberPreKeys.has(4), 'store: a last-resort Kyber prekey is kept');
    await st.markKyberPreKeyUsed(3, 1, bk);
    check(!st.kyberPreKeys.has(3), 'store: a one-time Kyber prekey is removed');

    // The classes of refusals whose reason only the library's log names (FINDINGS.md e, h).
    const { classify } = require('./shim');
    const generic = new Error('invalid PreKey message: decryption failed');
    for (const [reason, cls] of [
        ['invalid PreKey message: MAC verification failed', 'authentication'],
        ['invalid PreKey message: post-quantum ratchet error: Minimum version', 'unsupported'],
        ['invalid PreKey message: post-quantum ratchet error: message decode failed', 'malformed'],
        ['invalid PreKey message: post-quantum ratchet error: MAC verification failed', 'authentication'],
        ['invalid PreKey message: post-quantum ratchet error: Key jump: 1 - 25002', 'too_many_skipped'],
        ['invalid PreKey message: message from too far into the future', 'too_many_skipped'],
        [null, 'authentication'],
    ]) {
        eq(classify(generic, reason), cls, `class of "decryption failed" logged as ${JSON.stringify(reason)}`);
    }

    console.log(`selftest (libsignal-client ${hs.version}): ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
