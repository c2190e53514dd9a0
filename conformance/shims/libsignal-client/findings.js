#!/usr/bin/env node
// Measures what FINDINGS.md states about @signalapp/libsignal-client (run:
// `node findings.js`, after setup.sh). Every line it prints is an observation of
// the library; nothing here is asserted from documentation. Keys are fixed
// (derived from labels) except the ones the library draws itself (Alice's base
// key and ratchet keys, the KEM encapsulation randomness): the Node API has no
// RNG hook, so message bytes differ between runs, the outcomes do not.
'use strict';

const nodeCrypto = require('crypto');
const C = require('./common');
const { S, T, hex, u8, x25519, x25519Public, hkdf, hmac } = C;
const { MlKem1024, sha3_256, shake256 } = require('crystals-kyber-js');

const seed = (label, n = 32) => hkdf(Buffer.from(label), Buffer.alloc(0), 'ratchetproof findings', n);
const out = [];
// The library's own log (initLogger): a refused message is logged with the inner
// error before the generic "decryption failed" is thrown.
const libLog = [];
module.exports.libLog = libLog;
function reasonSince(n) {
    const r = libLog.slice(n).map((l) => /Candidate session \d+ failed with '(.*?)', had \d+ receiver chains/.exec(l)).filter(Boolean).map((x) => x[1]);
    return r.length ? ` [library log: ${r.map((x) => JSON.stringify(x)).join(', ')}]` : '';
}
function say(...a) {
    const line = a.join(' ');
    out.push(line);
    console.log(line);
}
async function attempt(name, f) {
    const n = libLog.length;
    try {
        const r = await f();
        say(`${name}: OK${r === undefined ? '' : ' ' + r}`);
        return r;
    } catch (e) {
        say(`${name}: THROWS ${e.constructor.name} code=${e.code} (${S.ErrorCode[e.code]}) operation=${e.operation || ''} message=${JSON.stringify(e.message)}${reasonSince(n)}`);
        return e;
    }
}

// Round-3 Kyber1024 decapsulation for CHECKS ONLY, from an ML-KEM-1024
// implementation: for a ciphertext that decrypts consistently (every genuine one),
// ML-KEM's Decaps returns K̄' (first half of G(m'‖H(pk))) and round-3 Kyber returns
// KDF(K̄' ‖ H(c)) = SHAKE256(K̄' ‖ SHA3-256(c), 32). Key layouts are identical.
async function kyberR3Decap(ct, sk) {
    const kbar = await new MlKem1024().decap(u8(ct), u8(sk));
    return Buffer.from(shake256(Buffer.concat([Buffer.from(kbar), Buffer.from(sha3_256(u8(ct)))]), { dkLen: 32 }));
}

const ALICE = S.ProtocolAddress.new('alice', 1);
const BOB = S.ProtocolAddress.new('bob', 1);

// Bob's key material as bare bytes, as the harness sends it.
async function bobMaterial(tag = '') {
    const ik = seed('bob identity' + tag);
    const spk = seed('bob signed prekey' + tag);
    const opk = seed('bob one-time prekey' + tag);
    const [kemPk, kemSk] = await new MlKem1024().deriveKeyPair(u8(seed('bob kem prekey' + tag, 64)));
    return { ik, spk, opk, kemPk: Buffer.from(kemPk), kemSk: Buffer.from(kemSk) };
}

function bobStore(m, { kemLastResort = false, ids = { spk: 1, opk: 2, kem: 3 } } = {}) {
    const ikp = C.identityKeyPair(m.ik);
    const store = new C.MemoryStore(ikp, 4242);
    const spkPriv = C.ecPrivate(m.spk);
    store.saveSignedPreKey(ids.spk, S.SignedPreKeyRecord.new(ids.spk, 0, spkPriv.getPublicKey(), spkPriv, ikp.privateKey.sign(spkPriv.getPublicKey().serialize())));
    const opkPriv = C.ecPrivate(m.opk);
    store.savePreKey(ids.opk, S.PreKeyRecord.new(ids.opk, opkPriv.getPublicKey(), opkPriv));
    const kemSig = ikp.privateKey.sign(u8(Buffer.concat([Buffer.from([8]), m.kemPk])));
    store.saveKyberPreKey(ids.kem, C.kyberPreKeyRecord(ids.kem, m.kemPk, m.kemSk, kemSig), kemLastResort);
    return { store, ikp, kemSig };
}

function bundleFor(m, bob, over = {}) {
    const p = {
        reg: 4242, dev: 1, opkId: 2, opk: C.ecPublic(x25519Public(m.opk)), spkId: 1,
        spk: C.ecPublic(x25519Public(m.spk)), identity: bob.ikp.publicKey, kemId: 3,
        kem: S.KEMPublicKey.deserialize(u8(Buffer.concat([Buffer.from([8]), m.kemPk]))), kemSig: bob.kemSig, ...over,
    };
    if (p.spkSig === undefined) p.spkSig = bob.ikp.privateKey.sign(p.spk.serialize());
    return S.PreKeyBundle.new(p.reg, p.dev, p.opkId, p.opk, p.spkId, p.spk, p.spkSig, p.identity, p.kemId, p.kem, p.kemSig);
}

async function aliceSends(bundle, plaintexts, tag = '') {
    const aik = C.identityKeyPair(seed('alice identity' + tag));
    const alice = new C.MemoryStore(aik, 777);
    await S.processPreKeyBundle(bundle, BOB, ALICE, alice, alice);
    const msgs = [];
    for (const p of plaintexts) {
        const c = await S.signalEncrypt(u8(Buffer.from(p)), BOB, ALICE, alice, alice);
        msgs.push({ type: c.type(), bytes: Buffer.from(c.serialize()) });
    }
    return { alice, aik, msgs };
}

async function bobReceives(store, bytes) {
    const msg = S.PreKeySignalMessage.deserialize(u8(bytes));
    return Buffer.from(await S.signalDecryptPreKey(msg, ALICE, BOB, store, store, store, store, store));
}

function fieldsOf(bytes) {
    const pk = T.PreKeySignalMessage.decode(bytes.subarray(1));
    const inner = Buffer.from(pk.message);
    const sm = T.SignalMessage.decode(inner.subarray(1, inner.length - 8));
    return { pk, inner, sm };
}

// SPQR (Sparse Post-Quantum Ratchet) V1: the first key of Alice's A2B send chain
// of epoch 0, from the 32-byte SPQR auth key (PQXDH bytes 64–96).
function spqrFirstSendKey(authKey) {
    const next = hkdf(authKey, Buffer.alloc(32), 'Signal PQ Ratchet V1 Chain  Start', 96).subarray(32, 64);
    return hkdf(next, Buffer.alloc(32), Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('Signal PQ Ratchet V1 Chain Next')]), 64).subarray(32, 64);
}

// Signal v3 message keys and MAC (docs/SIGNAL-V3.md), computed independently.
function messageKeys(mk, salt = Buffer.alloc(32)) {
    const k = hkdf(mk, salt, 'WhisperMessageKeys', 80);
    return { aes: k.subarray(0, 32), mac: k.subarray(32, 64), iv: k.subarray(64, 80) };
}
function macOf(macKey, ikSender33, ikReceiver33, versionAndBody) {
    return hmac(macKey, Buffer.concat([ikSender33, ikReceiver33, versionAndBody])).subarray(0, 8);
}
function reencode(inner, sm, macKey, ikA, ikB) {
    const body = Buffer.concat([Buffer.from([inner[0]]), Buffer.from(T.SignalMessage.encode(sm).finish())]);
    return Buffer.concat([body, macOf(macKey, ikA, ikB, body)]);
}
function rewrap(pk, inner) {
    return Buffer.concat([Buffer.from([0x44]), Buffer.from(T.PreKeySignalMessage.encode({ ...pk, message: inner }).finish())]);
}

async function main() {
    // Only when run as a program: selftest.js requires this file for its helpers
    // and the library accepts one logger per process.
    S.initLogger(S.LogLevel.Info, (level, target, file, line, message) => libLog.push(message));
    say(`# findings.js — node ${process.version}, @signalapp/libsignal-client ${require('@signalapp/libsignal-client/package.json').version}, protobufjs ${require('protobufjs/package.json').version}`);

    say('\n## a. key injection');
    const m = await bobMaterial();
    const kp = S.KEMKeyPair.generate();
    const genPk = Buffer.from(kp.getPublicKey().serialize());
    const genSk = Buffer.from(kp.getSecretKey().serialize());
    say(`KEMKeyPair.generate(): publicKey().serialize() ${genPk.length} B first byte 0x${genPk[0].toString(16)}; secretKey().serialize() ${genSk.length} B first byte 0x${genSk[0].toString(16)}`);
    say(`KEMKeyPair own names: ${Object.getOwnPropertyNames(S.KEMKeyPair).join(',')} / prototype: ${Object.getOwnPropertyNames(S.KEMKeyPair.prototype).join(',')} (no from-parts constructor)`);
    await attempt('KEMPublicKey.deserialize(0x08‖pk) round trip', () => hex(S.KEMPublicKey.deserialize(u8(Buffer.concat([Buffer.from([8]), m.kemPk]))).serialize()) === '08' + hex(m.kemPk));
    await attempt('KEMSecretKey.deserialize(0x08‖sk) round trip', () => hex(S.KEMSecretKey.deserialize(u8(Buffer.concat([Buffer.from([8]), m.kemSk]))).serialize()) === '08' + hex(m.kemSk));
    await attempt('KEMPublicKey.deserialize(bare pk)', () => S.KEMPublicKey.deserialize(u8(m.kemPk)));
    await attempt('KEMPublicKey.deserialize(0x0A‖pk)', () => S.KEMPublicKey.deserialize(u8(Buffer.concat([Buffer.from([0x0a]), m.kemPk]))));
    await attempt('KEMSecretKey.deserialize(0x0A‖sk)', () => S.KEMSecretKey.deserialize(u8(Buffer.concat([Buffer.from([0x0a]), m.kemSk]))));
    await attempt('KEMPublicKey.deserialize(0x08‖pk[0..1567])', () => S.KEMPublicKey.deserialize(u8(Buffer.concat([Buffer.from([8]), m.kemPk.subarray(0, 1567)]))));
    // Layout of KyberPreKeyRecord.serialize() vs our encoding of the same fields.
    const libRec = S.KyberPreKeyRecord.new(3, 1234, kp, u8(Buffer.alloc(64, 0xab)));
    const ours = T.SignedPreKey.encode({ id: 3, publicKey: genPk, privateKey: genSk, signature: Buffer.alloc(64, 0xab), timestamp: 1234 }).finish();
    say(`KyberPreKeyRecord.new(3, 1234, kp, sig).serialize() (${libRec.serialize().length} B) == SignedPreKeyRecordStructure{1 id, 2 0x08‖pk, 3 0x08‖sk, 4 sig, 5 fixed64 ts} encoded here: ${Buffer.from(libRec.serialize()).equals(Buffer.from(ours))}`);
    const injected = C.kyberPreKeyRecord(3, m.kemPk, m.kemSk, Buffer.alloc(64, 1));
    say(`KyberPreKeyRecord.deserialize(our bytes from bare ML-KEM-derived pk/sk): id ${injected.id()}, publicKey ${injected.publicKey().serialize().length} B, secretKey ${injected.secretKey().serialize().length} B, keyPair() ${typeof injected.keyPair()}`);
    await attempt('KyberPreKeyRecord.deserialize with 0x0A-typed keys', () => S.KyberPreKeyRecord.deserialize(u8(T.SignedPreKey.encode({ id: 3, publicKey: Buffer.concat([Buffer.from([0x0a]), m.kemPk]), privateKey: Buffer.concat([Buffer.from([0x0a]), m.kemSk]), signature: Buffer.alloc(64), timestamp: 0 }).finish())).publicKey());
    const ff = C.ecPrivate(Buffer.alloc(32, 0xff));
    say(`PrivateKey.deserialize(0xff×32).serialize() = ${hex(ff.serialize())} (the library clamps on import)`);

    say('\n## b. Alice from a bundle; the PreKeySignalMessage');
    const bob = bobStore(m);
    const { alice, aik, msgs } = await aliceSends(bundleFor(m, bob), ['first message', 'second message']);
    const first = msgs[0].bytes;
    const { pk, inner, sm } = fieldsOf(first);
    say(`signalEncrypt type ${msgs[0].type} (PreKey = ${S.CiphertextMessageType.PreKey}); ${first.length} B; version byte 0x${first[0].toString(16)}`);
    say(`PreKeySignalMessage fields: 1 preKeyId=${pk.preKeyId} 2 baseKey ${pk.baseKey.length} B 3 identityKey ${pk.identityKey.length} B 4 message ${pk.message.length} B 5 registrationId=${pk.registrationId} 6 signedPreKeyId=${pk.signedPreKeyId} 7 kyberPreKeyId=${pk.kyberPreKeyId} 8 kyberCiphertext ${pk.kyberCiphertext.length} B first byte 0x${pk.kyberCiphertext[0].toString(16)}`);
    say(`inner SignalMessage: version 0x${inner[0].toString(16)}, ratchetKey ${sm.ratchetKey.length} B, counter ${sm.counter}, previousCounter ${sm.previousCounter}, ciphertext ${sm.ciphertext.length} B, field 5 pqRatchet ${sm.pqRatchet ? sm.pqRatchet.length + ' B' : 'absent'}; MAC 8 B`);
    say(`second message: ${msgs[1].bytes.length} B, inner field 5 ${fieldsOf(msgs[1].bytes).sm.pqRatchet ? fieldsOf(msgs[1].bytes).sm.pqRatchet.length + ' B' : 'absent'}`);
    say(`Alice's callbacks: ${alice.log.join('; ')}`);
    // Signature checks in processPreKeyBundle.
    const flip = (sig) => { const s = Buffer.from(sig); s[5] ^= 1; return u8(s); };
    await attempt('processPreKeyBundle, Kyber signature with one bit flipped', () => aliceSends(bundleFor(m, bob, { kemSig: flip(bob.kemSig) }), []));
    await attempt('processPreKeyBundle, EC signed-prekey signature with one bit flipped', () => aliceSends(bundleFor(m, bob, { spkSig: flip(bob.ikp.privateKey.sign(C.ecPublic(x25519Public(m.spk)).serialize())) }), []));
    await attempt('processPreKeyBundle, Kyber signature over the bare pk (no 0x08)', () => aliceSends(bundleFor(m, bob, { kemSig: bob.ikp.privateKey.sign(u8(m.kemPk)) }), []));
    await attempt('processPreKeyBundle, Kyber signature over 0x08‖pk (genuine)', () => aliceSends(bundleFor(m, bob), []).then(() => 'accepted'));
    await attempt('processPreKeyBundle, EC signature over the bare spk (no 0x05)', () => aliceSends(bundleFor(m, bob, { spkSig: bob.ikp.privateKey.sign(u8(x25519Public(m.spk))) }), []));
    await attempt('processPreKeyBundle, Kyber signature made with another identity key', () => aliceSends(bundleFor(m, bob, { kemSig: C.ecPrivate(seed('mallory')).sign(u8(Buffer.concat([Buffer.from([8]), m.kemPk]))) }), []));

    say('\n## c. SessionRecord layout (Alice, after two encrypts)');
    const aRecBytes = alice.sessions.get(BOB.toString());
    const aRec = C.decodeRecord(aRecBytes).currentSession;
    say(`record ${aRecBytes.length} B; SessionStructure fields present: ${Object.keys(T.Session.toObject(aRec)).join(',')}`);
    say(`sessionVersion ${aRec.sessionVersion}; rootKey ${aRec.rootKey.length} B; senderChain: ratchetKey ${aRec.senderChain.senderRatchetKey.length} B, private ${aRec.senderChain.senderRatchetKeyPrivate.length} B, chainKey index ${aRec.senderChain.chainKey.index} ${aRec.senderChain.chainKey.key.length} B; receiverChains ${aRec.receiverChains.length}`);
    say(`pendingPreKey: preKeyId ${aRec.pendingPreKey.preKeyId} signedPreKeyId ${aRec.pendingPreKey.signedPreKeyId} baseKey ${aRec.pendingPreKey.baseKey.length} B timestamp ${aRec.pendingPreKey.timestamp}; pendingKyberPreKey ${aRec.pendingKyberPreKey ? `preKeyId ${aRec.pendingKyberPreKey.preKeyId} ciphertext ${aRec.pendingKyberPreKey.ciphertext.length} B` : 'absent'}; pqRatchetState ${aRec.pqRatchetState ? aRec.pqRatchetState.length : 0} B; aliceBaseKey ${aRec.aliceBaseKey ? aRec.aliceBaseKey.length : 0} B`);
    say(`pendingPreKey.baseKey == message baseKey: ${Buffer.from(aRec.pendingPreKey.baseKey).equals(Buffer.from(pk.baseKey))}; pendingKyberPreKey.ciphertext == message field 8: ${aRec.pendingKyberPreKey ? Buffer.from(aRec.pendingKyberPreKey.ciphertext).equals(Buffer.from(pk.kyberCiphertext)) : 'n/a'}`);
    // Unknown fields: re-encode with our schema and compare lengths.
    const reenc = T.Record.encode(C.decodeRecord(aRecBytes)).finish();
    say(`our schema re-encodes Alice's record to identical bytes: ${Buffer.from(reenc).equals(aRecBytes)}`);

    say('\n## d. the first message\'s keys');
    // Alice's sender chain now has index 2 (two messages sent). Re-derive chain key 0
    // is impossible (one-way); use a fresh Alice that sent one message only.
    const bob1 = bobStore(m);
    const one = await aliceSends(bundleFor(m, bob1), ['first message']);
    const rec1 = C.decodeRecord(one.alice.sessions.get(BOB.toString())).currentSession;
    const f1 = fieldsOf(one.msgs[0].bytes);
    // After one encrypt the stored chain key is index 1: CK1 = HMAC(CK0, 0x02); we need
    // CK0. Take it from the record Alice had BEFORE encrypting (processPreKeyBundle).
    const pre = new C.MemoryStore(C.identityKeyPair(seed('alice identity pre')), 777);
    await S.processPreKeyBundle(bundleFor(m, bob1), BOB, ALICE, pre, pre);
    const preRec = C.decodeRecord(pre.sessions.get(BOB.toString())).currentSession;
    const c = await S.signalEncrypt(u8(Buffer.from('first message')), BOB, ALICE, pre, pre);
    const fm = fieldsOf(Buffer.from(c.serialize()));
    const ck0 = Buffer.from(preRec.senderChain.chainKey.key);
    say(`Alice's record after processPreKeyBundle: sender chain index ${preRec.senderChain.chainKey.index}, receiver chains ${preRec.receiverChains.length}`);
    const mk0 = hmac(ck0, Buffer.from([1]));
    const ikA = Buffer.from(fm.pk.identityKey);
    const ikB = Buffer.from(bob1.ikp.publicKey.serialize());
    const body = fm.inner.subarray(0, fm.inner.length - 8);
    const tag = fm.inner.subarray(fm.inner.length - 8);
    const tryKeys = (label, keys) => {
        const macOk = macOf(keys.mac, ikA, ikB, body).equals(tag);
        let pt;
        try {
            const d = nodeCrypto.createDecipheriv('aes-256-cbc', keys.aes, keys.iv);
            pt = JSON.stringify(Buffer.concat([d.update(Buffer.from(fm.sm.ciphertext)), d.final()]).toString());
        } catch (e) {
            pt = 'fails (' + e.message + ')';
        }
        say(`${label}: MAC (HMAC(mac key, 0x05‖IK_A ‖ 0x05‖IK_B ‖ 0x44‖protobuf)[0..8]) verifies: ${macOk}; AES-256-CBC decryption of field 4: ${pt}`);
    };
    tryKeys('message keys = HKDF(HMAC(CK0,0x01), salt 0×32, "WhisperMessageKeys", 80) (no SPQR)', messageKeys(mk0));
    say(`stored chain key after the encrypt == HMAC(CK0, 0x02): ${hmac(ck0, Buffer.from([2])).equals(Buffer.from(C.decodeRecord(pre.sessions.get(BOB.toString())).currentSession.senderChain.chainKey.key))}`);
    // The 96-byte PQXDH secret, from Bob's private keys and the KEM shared secret.
    const baseKey = Buffer.from(fm.pk.baseKey).subarray(1);
    const ikAbare = ikA.subarray(1);
    const dh1 = x25519(C.ecPrivate(m.spk).serialize(), ikAbare);
    const dh2 = x25519(Buffer.from(bob1.ikp.privateKey.serialize()), baseKey);
    const dh3 = x25519(C.ecPrivate(m.spk).serialize(), baseKey);
    const dh4 = x25519(C.ecPrivate(m.opk).serialize(), baseKey);
    const ct = Buffer.from(fm.pk.kyberCiphertext);
    say(`Node API exposes Kyber decapsulation: ${['decapsulate', 'decap'].some((n) => n in S.KEMSecretKey.prototype || n in S)} (KEMSecretKey prototype: ${Object.getOwnPropertyNames(S.KEMSecretKey.prototype).join(',')})`);
    const ss = await kyberR3Decap(ct.subarray(1), m.kemSk);
    const ikm = Buffer.concat([Buffer.alloc(32, 0xff), dh1, dh2, dh3, dh4, ss]);
    const sec = hkdf(ikm, Buffer.alloc(32), 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024', 96);
    const rk0 = sec.subarray(0, 32), ckInit = sec.subarray(32, 64);
    {
        // Round 3 or ML-KEM? ML-KEM-1024's own Decaps output as SS gives another secret.
        const ssMlKem = Buffer.from(await new MlKem1024().decap(u8(ct.subarray(1)), u8(m.kemSk)));
        const secMl = hkdf(Buffer.concat([Buffer.alloc(32, 0xff), dh1, dh2, dh3, dh4, ssMlKem]), Buffer.alloc(32), 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024', 96);
        say(`SS as ML-KEM-1024 Decaps returns it: receiver chain key matches ${Buffer.from(preRec.receiverChains[0].chainKey.key).equals(secMl.subarray(32, 64))}; SS = SHAKE256(that ‖ SHA3-256(c), 32) (round-3 Kyber): matches ${Buffer.from(preRec.receiverChains[0].chainKey.key).equals(ckInit)}`);
    }
    const rcv = preRec.receiverChains[0];
    say(`Alice's receiver chain (Bob's SPK ${Buffer.from(rcv.senderRatchetKey).subarray(1).equals(x25519Public(m.spk))}) key == HKDF bytes 32–64: ${Buffer.from(rcv.chainKey.key).equals(ckInit)} (index ${rcv.chainKey.index})`);
    const aRatchetPriv = Buffer.from(preRec.senderChain.senderRatchetKeyPrivate);
    const step = hkdf(x25519(aRatchetPriv, x25519Public(m.spk)), rk0, 'WhisperRatchet', 64);
    say(`HKDF(DH(alice ratchet, Bob SPK), salt = RK0 (bytes 0–32), "WhisperRatchet", 64): root key == record rootKey ${step.subarray(0, 32).equals(Buffer.from(preRec.rootKey))}, chain key == record sender chain key 0 ${step.subarray(32).equals(ck0)}`);
    const pqKey = spqrFirstSendKey(sec.subarray(64));
    tryKeys('message keys = HKDF(HMAC(CK0,0x01), salt = SPQR key 1 of epoch 0, "WhisperMessageKeys", 80)', messageKeys(mk0, pqKey));
    say(`  where SPQR key = HKDF(salt 0×32, ikm = next, info = BE32(1) ‖ "Signal PQ Ratchet V1 Chain Next", 64)[32..64], next = HKDF(salt 0×32, ikm = PQXDH bytes 64–96, "Signal PQ Ratchet V1 Chain  Start" (two spaces), 96)[32..64] (A2B)`);
    say(`inner field 5 (SPQR message) of the first message: ${fm.sm.pqRatchet.length} B, starts ${hex(fm.sm.pqRatchet).slice(0, 16)}`);
    say(`bytes 64–96 (SPQR key) found anywhere in Alice's serialized record: ${Buffer.from(pre.sessions.get(BOB.toString())).indexOf(sec.subarray(64)) >= 0}; pqRatchetState ${preRec.pqRatchetState ? preRec.pqRatchetState.length : 0} B`);
    // Bob decrypts it (so the message is genuine), and we check what Bob keeps.
    const bob2 = bobStore(m);
    const pt2 = await bobReceives(bob2.store, Buffer.from(c.serialize()));
    say(`Bob (injected keys) decrypts it: ${JSON.stringify(pt2.toString())}; Bob's callbacks: ${bob2.store.log.join('; ')}`);
    say(`Kyber prekey 3 still in Bob's store after markKyberPreKeyUsed (one-time policy in this store): ${bob2.store.kyberPreKeys.has(3)}; one-time EC prekey 2 still there: ${bob2.store.preKeys.has(2)}`);
    await partE({ m, bytes: Buffer.from(c.serialize()), keys: messageKeys(mk0, pqKey), keys0: messageKeys(mk0), ikA, ikB, fm });
    await partF();
    await partG();
    await partH();
    require('fs').writeFileSync(process.env.FINDINGS_OUT || '/dev/null', out.join('\n') + '\n');
}

async function partE(ctx) {
    const { m, bytes, keys, ikA, ikB, fm } = ctx;
    say('\n## e. what Bob does with altered initial messages');
    const tryBob = async (name, msgBytes, opts) => {
        const bob = bobStore(m, opts);
        const before = JSON.stringify([...bob.store.kyberPreKeys.keys(), ...bob.store.preKeys.keys()]);
        const r = await attempt(name, async () => JSON.stringify((await bobReceives(bob.store, msgBytes)).toString()));
        say(`    callbacks: ${bob.store.log.join('; ')}; session saved: ${bob.store.sessions.size > 0}; prekeys before ${before} after ${JSON.stringify([...bob.store.kyberPreKeys.keys(), ...bob.store.preKeys.keys()])}`);
        return r;
    };
    const { keys0 } = ctx;
    const sm = { ...fm.sm };
    const noField5 = { ...sm };
    delete noField5.pqRatchet;
    await tryBob('control: the library message re-encoded here, MAC recomputed with the SPQR-salted keys', rewrap(fm.pk, reencode(fm.inner, sm, keys.mac, ikA, ikB)));
    await tryBob('SignalMessage without field 5, MAC with SPQR-salted keys', rewrap(fm.pk, reencode(fm.inner, noField5, keys.mac, ikA, ikB)));
    await tryBob('SignalMessage without field 5, MAC with zero-salt keys (what a V0 sender would use)', rewrap(fm.pk, reencode(fm.inner, noField5, keys0.mac, ikA, ikB)));
    await tryBob('SignalMessage with empty field 5, MAC with zero-salt keys', rewrap(fm.pk, reencode(fm.inner, { ...sm, pqRatchet: Buffer.alloc(0) }, keys0.mac, ikA, ikB)));
    await tryBob('SignalMessage with empty field 5, MAC with SPQR-salted keys', rewrap(fm.pk, reencode(fm.inner, { ...sm, pqRatchet: Buffer.alloc(0) }, keys.mac, ikA, ikB)));
    const f5 = Buffer.from(sm.pqRatchet);
    const f5a = Buffer.from(f5); f5a[f5a.length - 1] ^= 1;
    await tryBob('field 5 last bit flipped, MAC recomputed (SPQR-salted keys)', rewrap(fm.pk, reencode(fm.inner, { ...sm, pqRatchet: f5a }, keys.mac, ikA, ikB)));
    for (const v of [0x00, 0x02, 0xff]) {
        const f5b = Buffer.from(f5); f5b[0] = v;
        await tryBob(`field 5 version byte 0x${v.toString(16).padStart(2, '0')}, MAC recomputed with SPQR-salted keys`, rewrap(fm.pk, reencode(fm.inner, { ...sm, pqRatchet: f5b }, keys.mac, ikA, ikB)));
        await tryBob(`field 5 version byte 0x${v.toString(16).padStart(2, '0')}, MAC recomputed with zero-salt keys`, rewrap(fm.pk, reencode(fm.inner, { ...sm, pqRatchet: f5b }, keys0.mac, ikA, ikB)));
    }
    await tryBob('field 5 truncated to 1 byte (0x01), MAC recomputed', rewrap(fm.pk, reencode(fm.inner, { ...sm, pqRatchet: f5.subarray(0, 1) }, keys.mac, ikA, ikB)));
    const ct = Buffer.from(fm.pk.kyberCiphertext);
    const ctFlip = Buffer.from(ct); ctFlip[100] ^= 1;
    await tryBob('kyberCiphertext one bit flipped (byte 100)', rewrap({ ...fm.pk, kyberCiphertext: ctFlip }, fm.inner));
    await tryBob('kyberCiphertext truncated by one byte', rewrap({ ...fm.pk, kyberCiphertext: ct.subarray(0, ct.length - 1) }, fm.inner));
    await tryBob('kyberCiphertext bare (no type byte, 1568 B)', rewrap({ ...fm.pk, kyberCiphertext: ct.subarray(1) }, fm.inner));
    const ct0a = Buffer.from(ct); ct0a[0] = 0x0a;
    await tryBob('kyberCiphertext type byte 0x0A', rewrap({ ...fm.pk, kyberCiphertext: ct0a }, fm.inner));
    const noCt = { ...fm.pk }; delete noCt.kyberCiphertext;
    await tryBob('kyberCiphertext absent', rewrap(noCt, fm.inner));
    const noKid = { ...fm.pk }; delete noKid.kyberPreKeyId;
    await tryBob('kyberPreKeyId absent', rewrap(noKid, fm.inner));
    await tryBob('kyberPreKeyId unknown (99)', rewrap({ ...fm.pk, kyberPreKeyId: 99 }, fm.inner));
    await tryBob('preKeyId unknown (98)', rewrap({ ...fm.pk, preKeyId: 98 }, fm.inner));
    await tryBob('signedPreKeyId unknown (97)', rewrap({ ...fm.pk, signedPreKeyId: 97 }, fm.inner));
    const tagFlip = Buffer.from(fm.inner); tagFlip[tagFlip.length - 1] ^= 1;
    await tryBob('inner MAC last bit flipped', rewrap(fm.pk, tagFlip));
    const v3 = Buffer.from(bytes); v3[0] = 0x33;
    await tryBob('outer version byte 0x33', v3);
    const v5 = Buffer.from(bytes); v5[0] = 0x55;
    await tryBob('outer version byte 0x55', v5);
    await tryBob('empty message', Buffer.alloc(0));

    say('\n### replays on one store');
    for (const lastResort of [false, true]) {
        const bob = bobStore(m, { kemLastResort: lastResort });
        await attempt(`[${lastResort ? 'last-resort' : 'one-time'} Kyber prekey] first delivery`, async () => JSON.stringify((await bobReceives(bob.store, bytes)).toString()));
        await attempt(`[${lastResort ? 'last-resort' : 'one-time'} Kyber prekey] same message again`, async () => JSON.stringify((await bobReceives(bob.store, bytes)).toString()));
        say(`    callbacks: ${bob.store.log.join('; ')}`);
        // A second, different initial message (a new Alice) on the same prekeys.
        const other = await aliceSends(bundleFor(m, bob, {}), ['from alice two'], ' two');
        await attempt(`[${lastResort ? 'last-resort' : 'one-time'} Kyber prekey] another Alice, same prekey ids`, async () => JSON.stringify((await bobReceives(bob.store, other.msgs[0].bytes)).toString()));
        const noOpk = await aliceSends(bundleFor(m, bob, { opkId: null, opk: null }), ['from alice three'], ' three');
        await attempt(`[${lastResort ? 'last-resort' : 'one-time'} Kyber prekey] another Alice without one-time EC prekey`, async () => JSON.stringify((await bobReceives(bob.store, noOpk.msgs[0].bytes)).toString()));
        say(`    store after: kyber ${JSON.stringify([...bob.store.kyberPreKeys.keys()])} ec one-time ${JSON.stringify([...bob.store.preKeys.keys()])}`);
    }
    // Last-resort Kyber prekey and no one-time EC prekey: the library leaves replay
    // detection to the store (markKyberPreKeyUsed gets signedPreKeyId and baseKey).
    {
        const bob = bobStore(m, { kemLastResort: true });
        const a = await aliceSends(bundleFor(m, bob, { opkId: null, opk: null }), ['no one-time EC prekey'], ' four');
        say(`initial message without a one-time EC prekey: field 1 present: ${Object.prototype.hasOwnProperty.call(fieldsOf(a.msgs[0].bytes).pk, 'preKeyId')}`);
        await attempt('[last-resort Kyber, no EC one-time prekey] first delivery', async () => JSON.stringify((await bobReceives(bob.store, a.msgs[0].bytes)).toString()));
        bob.store.sessions.clear();
        await attempt('[last-resort Kyber, no EC one-time prekey] same message after Bob lost the session', async () => JSON.stringify((await bobReceives(bob.store, a.msgs[0].bytes)).toString()));
        say(`    markKyberPreKeyUsed calls: ${bob.store.log.filter((l) => l.startsWith('mark')).join('; ')}`);
        const bob2 = bobStore(m, { kemLastResort: true });
        bob2.store.markKyberPreKeyUsed = async (id, spk) => {
            bob2.store.note(`markKyberPreKeyUsed(${id}, ${spk}, …) -> throws`);
            throw new Error(`Kyber prekey ${id} already used with signed prekey ${spk} and this base key`);
        };
        await attempt('[a store whose markKyberPreKeyUsed throws] delivery', async () => JSON.stringify((await bobReceives(bob2.store, a.msgs[0].bytes)).toString()));
        say(`    callbacks: ${bob2.store.log.join('; ')}; session saved: ${bob2.store.sessions.size > 0}; identity saved: ${bob2.store.identities.size > 0}`);
    }
    // Replay after the one-time Kyber prekey is gone but the session exists: session
    // store emptied (as if a fresh device) -> fresh session must be built.
    const bob = bobStore(m, { kemLastResort: true });
    await bobReceives(bob.store, bytes);
    bob.store.sessions.clear();
    await attempt('[last-resort Kyber, EC one-time prekey already removed] same message after the session was deleted', async () => JSON.stringify((await bobReceives(bob.store, bytes)).toString()));
}

// f. One SPQR chunk altered under a good MAC (what only a holder of the message keys
// can send): Alice sends 60 initial messages without a reply; Bob receives them in
// order, once genuine, once with byte 20 of the first message's field 5 flipped.
async function partF() {
    say('\n## f. one altered SPQR chunk under a good MAC');
    const m = await bobMaterial(' poison');
    const bob = bobStore(m);
    const alice = new C.MemoryStore(C.identityKeyPair(seed('alice poison')), 777);
    await S.processPreKeyBundle(bundleFor(m, bob), BOB, ALICE, alice, alice);
    const ck0 = Buffer.from(C.decodeRecord(alice.sessions.get(BOB.toString())).currentSession.senderChain.chainKey.key);
    const N = 60;
    const msgs = [];
    for (let i = 0; i < N; i++) msgs.push(Buffer.from((await S.signalEncrypt(u8(Buffer.from('m' + i)), BOB, ALICE, alice, alice)).serialize()));
    const f5 = msgs.map((x) => Buffer.from(fieldsOf(x).sm.pqRatchet));
    say(`field 5 of m0..m3: ${f5.slice(0, 4).map((x) => hex(x.subarray(0, 6)) + '… ' + x.length + ' B').join(', ')}; SPQR message type byte (offset 3) of all ${N}: ${[...new Set(f5.map((x) => x[3]))].join(',')} (1 = Hdr chunk)`);
    const { pk, inner, sm } = fieldsOf(msgs[0]);
    const ikA = Buffer.from(pk.identityKey);
    const ikB = Buffer.from(bob.ikp.publicKey.serialize());
    const base = Buffer.from(pk.baseKey).subarray(1);
    const spkPriv = Buffer.from(C.ecPrivate(m.spk).serialize());
    const dh = [x25519(spkPriv, ikA.subarray(1)), x25519(Buffer.from(bob.ikp.privateKey.serialize()), base), x25519(spkPriv, base), x25519(Buffer.from(C.ecPrivate(m.opk).serialize()), base)];
    const ss = await kyberR3Decap(Buffer.from(pk.kyberCiphertext).subarray(1), m.kemSk);
    const sec = hkdf(Buffer.concat([Buffer.alloc(32, 0xff), ...dh, ss]), Buffer.alloc(32), 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024', 96);
    const keys = messageKeys(hmac(ck0, Buffer.from([1])), spqrFirstSendKey(sec.subarray(64)));
    const t = Buffer.from(sm.pqRatchet);
    t[20] ^= 1;
    const poisoned = rewrap(pk, reencode(inner, { ...sm, pqRatchet: t }, keys.mac, ikA, ikB));
    for (const [label, first] of [['genuine m0', msgs[0]], ['m0 with field 5 byte 20 flipped (MAC recomputed)', poisoned]]) {
        const b = bobStore(m);
        const res = [];
        for (const [i, x] of [first, ...msgs.slice(1)].entries()) {
            const n = libLog.length;
            try {
                await bobReceives(b.store, x);
                res.push(null);
            } catch (e) {
                res.push(`m${i}: ${e.message}${reasonSince(n)}`);
            }
        }
        const refused = res.filter(Boolean);
        say(`Bob receives ${label}, then m1..m${N - 1}: accepted ${N - refused.length} of ${N}${refused.length ? `; first refusal ${refused[0]}; refused: m${res.findIndex(Boolean)}..m${N - 1} (${refused.length})` : ''}`);
    }
}

// g. Field 6 of the SignalMessage: addresses, written when both address names are
// ServiceIds.
async function partG() {
    say('\n## g. field 6 (addresses) with ServiceId address names');
    const aciA = S.Aci.fromUuid('11111111-2222-4333-8444-555555555555');
    const aciB = S.Aci.fromUuid('66666666-7777-4888-9999-aaaaaaaaaaaa');
    const A = S.ProtocolAddress.new(aciA, 1);
    const B = S.ProtocolAddress.new(aciB, 2);
    const m = await bobMaterial(' field 6');
    const bob = bobStore(m);
    const alice = new C.MemoryStore(C.identityKeyPair(seed('alice field 6')), 777);
    await S.processPreKeyBundle(bundleFor(m, bob), B, A, alice, alice);
    const ck0 = Buffer.from(C.decodeRecord(alice.sessions.get(B.toString())).currentSession.senderChain.chainKey.key);
    const msgs = [];
    for (let i = 0; i < 2; i++) msgs.push(Buffer.from((await S.signalEncrypt(u8(Buffer.from('g' + i)), B, A, alice, alice)).serialize()));
    const f6 = (x) => {
        const inner = Buffer.from(fieldsOf(x).pk.message);
        const sm = T.SignalMessageAddresses.decode(inner.subarray(1, inner.length - 8));
        return Object.prototype.hasOwnProperty.call(sm, 'addresses') ? Buffer.from(sm.addresses) : null;
    };
    say(`Alice ${A.toString()} → Bob ${B.toString()}: field 6 of message 0: ${f6(msgs[0]) ? f6(msgs[0]).length + ' B ' + hex(f6(msgs[0])) : 'absent'}; of message 1: ${f6(msgs[1]) ? f6(msgs[1]).length + ' B' : 'absent'}`);
    say(`  = ServiceId fixed-width binary of A ${hex(aciA.getServiceIdFixedWidthBinary())} ‖ 01 ‖ of B ${hex(aciB.getServiceIdFixedWidthBinary())} ‖ 02`);
    const { pk, inner, sm } = fieldsOf(msgs[0]);
    const ikA = Buffer.from(pk.identityKey);
    const ikB = Buffer.from(bob.ikp.publicKey.serialize());
    const base = Buffer.from(pk.baseKey).subarray(1);
    const spkPriv = Buffer.from(C.ecPrivate(m.spk).serialize());
    const dh = [x25519(spkPriv, ikA.subarray(1)), x25519(Buffer.from(bob.ikp.privateKey.serialize()), base), x25519(spkPriv, base), x25519(Buffer.from(C.ecPrivate(m.opk).serialize()), base)];
    const ss = await kyberR3Decap(Buffer.from(pk.kyberCiphertext).subarray(1), m.kemSk);
    const sec = hkdf(Buffer.concat([Buffer.alloc(32, 0xff), ...dh, ss]), Buffer.alloc(32), 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024', 96);
    const keys = messageKeys(hmac(ck0, Buffer.from([1])), spqrFirstSendKey(sec.subarray(64)));
    say(`the MAC covers field 6 (HMAC over the whole body with it): ${macOf(keys.mac, ikA, ikB, inner.subarray(0, inner.length - 8)).equals(inner.subarray(inner.length - 8))}`);
    const withoutF6 = rewrap(pk, reencode(inner, sm, keys.mac, ikA, ikB));
    const receive = async (label, from, to, x) => {
        const b = bobStore(m);
        await attempt(label, async () => JSON.stringify(Buffer.from(await S.signalDecryptPreKey(S.PreKeySignalMessage.deserialize(u8(x)), from, to, b.store, b.store, b.store, b.store, b.store)).toString()));
    };
    await receive('Bob with the same addresses', A, B, msgs[0]);
    await receive('Bob: sender device 3', S.ProtocolAddress.new(aciA, 3), B, msgs[0]);
    await receive('Bob: another local address', A, S.ProtocolAddress.new(aciA, 2), msgs[0]);
    await receive('Bob: plain address names (alice.1, bob.1)', ALICE, BOB, msgs[0]);
    await receive('field 6 removed (MAC recomputed), Bob with ServiceId addresses', A, B, withoutF6);
    await receive('field 6 removed (MAC recomputed), Bob with plain names', ALICE, BOB, withoutF6);
    const alicePlain = await aliceSends(bundleFor(m, bobStore(m)), ['plain'], ' plain names');
    say(`plain address names (alice.1 → bob.1): field 6 ${f6(alicePlain.msgs[0].bytes) ? 'present' : 'absent'}`);
}

// h. The forward limit: Alice sends m0 … m25002 without a reply; a Bob that has
// decrypted m0 receives m25000, m25001 or m25002 next.
async function partH() {
    say('\n## h. how far ahead a message may be');
    const m = await bobMaterial(' skip');
    const bob = bobStore(m);
    const alice = new C.MemoryStore(C.identityKeyPair(seed('alice skip')), 777);
    await S.processPreKeyBundle(bundleFor(m, bob), BOB, ALICE, alice, alice);
    const N = 25000;
    const msgs = [];
    for (let i = 0; i <= N + 2; i++) {
        const c = Buffer.from((await S.signalEncrypt(u8(Buffer.from('s' + i)), BOB, ALICE, alice, alice)).serialize());
        if (i === 0 || i >= N - 1) msgs[i] = c;
    }
    for (const j of [N, N + 1, N + 2]) {
        const b = bobStore(m);
        await bobReceives(b.store, msgs[0]);
        await attempt(`after m0, m${j} (${j - 1} messages skipped)`, async () => JSON.stringify((await bobReceives(b.store, msgs[j])).toString()));
    }
    for (const j of [N - 1, N]) {
        const b = bobStore(m);
        await attempt(`m${j} as the first message Bob gets (${j} skipped)`, async () => JSON.stringify((await bobReceives(b.store, msgs[j])).toString()));
    }
}

Object.assign(module.exports, { spqrFirstSendKey, bobMaterial, bobStore, bundleFor, aliceSends, bobReceives, fieldsOf, messageKeys, macOf, reencode, rewrap, kyberR3Decap, seed, ALICE, BOB });
if (require.main === module) {
    main().catch((e) => {
        console.error(e);
        process.exit(1);
    });
}
