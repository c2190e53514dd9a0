#!/usr/bin/env node
// Writes sample-pqxdh-accept.json: initial messages made by libsignal-client 0.103.0
// (as Alice) for a Bob with fixed keys, in the shape of a pqxdh_accept request, with
// the outcomes libsignal-client (as Bob, through shim.js) gives them and, per
// accepted message, every intermediate value of its key schedule computed here
// independently (FINDINGS.md d). Purpose: a reference implementation of the suite
// can check its PQXDH + SPQR key schedule and its Bob against real library bytes.
//
//   node conformance/shims/libsignal-client/sample.js [OUT]
//
// The library draws Alice's keys itself, so each run writes other messages; the
// committed file is one run. Its checks (MAC, decryption, shim outcomes) are
// asserted here before anything is written.
'use strict';

const { spawn } = require('child_process');
const path = require('path');
const fs = require('fs');
const nodeCrypto = require('crypto');
const C = require('./common');
const F = require('./findings');
const { S, T, hex, u8, x25519, hkdf, hmac } = C;

const SUITE = 'signal-pqxdh-kyber1024';

async function shimCall(requests) {
    const p = spawn(process.execPath, [path.join(__dirname, 'shim.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stdin.end(requests.map((r, i) => JSON.stringify({ id: i + 1, ...r })).join('\n') + '\n');
    await new Promise((resolve) => p.on('exit', resolve));
    return out.trim().split('\n').map((l) => JSON.parse(l));
}

async function main() {
    const outPath = process.argv[2] || path.join(__dirname, 'sample-pqxdh-accept.json');
    const m = await F.bobMaterial(' sample');
    const bobLR = await F.bobMaterial(' sample last resort');
    const bob = F.bobStore(m); // ids: spk 1, opk 2, kem 3
    const ikB33 = Buffer.from(bob.ikp.publicKey.serialize());
    const lrSig = bob.ikp.privateKey.sign(u8(Buffer.concat([Buffer.from([8]), bobLR.kemPk])));

    // Alice 1: one-time EC and one-time Kyber prekey, two messages. Alice 2: no
    // one-time EC prekey, the last-resort Kyber prekey 4.
    const alices = [
        { label: 'alice one', over: {}, texts: ['first message', 'second message'], kemSk: m.kemSk, opk: m.opk },
        { label: 'alice two', over: { opkId: null, opk: null, kemId: 4, kem: S.KEMPublicKey.deserialize(u8(Buffer.concat([Buffer.from([8]), bobLR.kemPk]))), kemSig: lrSig }, texts: ['no one-time prekey'], kemSk: bobLR.kemSk, opk: null },
    ];
    const messages = [];
    const derivations = [];
    let reply = null;
    for (const a of alices) {
        const aik = C.identityKeyPair(F.seed(a.label));
        const store = new C.MemoryStore(aik, 777);
        await S.processPreKeyBundle(F.bundleFor(m, bob, a.over), F.BOB, F.ALICE, store, store);
        const rec = C.decodeRecord(store.sessions.get(F.BOB.toString())).currentSession;
        const ck0 = Buffer.from(rec.senderChain.chainKey.key);
        let ck = ck0;
        for (const [i, text] of a.texts.entries()) {
            const bytes = Buffer.from((await S.signalEncrypt(u8(Buffer.from(text)), F.BOB, F.ALICE, store, store)).serialize());
            const { pk, inner, sm } = F.fieldsOf(bytes);
            const ikA33 = Buffer.from(pk.identityKey);
            const base = Buffer.from(pk.baseKey).subarray(1);
            const spkPriv = Buffer.from(C.ecPrivate(m.spk).serialize());
            const dh = [x25519(spkPriv, ikA33.subarray(1)), x25519(Buffer.from(bob.ikp.privateKey.serialize()), base), x25519(spkPriv, base)];
            if (a.opk) dh.push(x25519(Buffer.from(C.ecPrivate(a.opk).serialize()), base));
            const ss = await F.kyberR3Decap(Buffer.from(pk.kyberCiphertext).subarray(1), a.kemSk);
            const sec = hkdf(Buffer.concat([Buffer.alloc(32, 0xff), ...dh, ss]), Buffer.alloc(32), 'WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024', 96);
            const ratchetPub = Buffer.from(sm.ratchetKey).subarray(1);
            const step = hkdf(x25519(spkPriv, ratchetPub), sec.subarray(0, 32), 'WhisperRatchet', 64);
            if (!step.subarray(32).equals(ck0)) throw new Error('KDF_RK does not give the recorded sender chain key');
            // SPQR: epoch 0, A2B send chain, key number i + 1.
            let next = hkdf(sec.subarray(64), Buffer.alloc(32), 'Signal PQ Ratchet V1 Chain  Start', 96).subarray(32, 64);
            let spqrKey;
            for (let n = 1; n <= i + 1; n++) {
                const g = hkdf(next, Buffer.alloc(32), Buffer.concat([Buffer.from([0, 0, 0, n]), Buffer.from('Signal PQ Ratchet V1 Chain Next')]), 64);
                next = g.subarray(0, 32);
                spqrKey = g.subarray(32, 64);
            }
            const mk = hmac(ck, Buffer.from([1]));
            const keys = F.messageKeys(mk, spqrKey);
            const body = inner.subarray(0, inner.length - 8);
            if (!F.macOf(keys.mac, ikA33, ikB33, body).equals(inner.subarray(inner.length - 8))) throw new Error(`MAC of ${a.label} message ${i} does not verify here`);
            const d = nodeCrypto.createDecipheriv('aes-256-cbc', keys.aes, keys.iv);
            const pt = Buffer.concat([d.update(Buffer.from(sm.ciphertext)), d.final()]).toString();
            if (pt !== text) throw new Error('decryption here differs');
            messages.push(bytes);
            derivations.push({
                message: messages.length - 1, alice: a.label, chainIndex: i,
                dh: dh.map(hex), kemSharedSecret: hex(ss), pqxdhOutput: hex(sec),
                rootKey0: hex(sec.subarray(0, 32)), initialReceiverChainKey: hex(sec.subarray(32, 64)), spqrAuthKey: hex(sec.subarray(64)),
                aliceRatchetKey: hex(ratchetPub), rootKey1: hex(step.subarray(0, 32)), sendingChainKey0: hex(ck0),
                chainKey: hex(ck), messageKeySeed: hex(mk), spqrMessageKey: hex(spqrKey),
                messageKeys: hex(Buffer.concat([keys.aes, keys.mac, keys.iv])), plaintext: hex(Buffer.from(text)),
            });
            ck = hmac(ck, Buffer.from([2]));
            if (a.label === 'alice one' && i === a.texts.length - 1) {
                // Bob's first reply, from a library Bob (this process, same injected keys)
                // that has received Alice one's last message (`answers`):
                // salted with key 1 of SPQR's B2A chain of epoch 0 (the third third of
                // "Chain  Start"), MAC ordered Bob ‖ Alice.
                const b2 = F.bobStore(m);
                await F.bobReceives(b2.store, bytes);
                const brec = C.decodeRecord(b2.store.sessions.get(F.ALICE.toString())).currentSession;
                const bck = Buffer.from(brec.senderChain.chainKey.key);
                const rbytes = Buffer.from((await S.signalEncrypt(u8(Buffer.from('reply from bob')), F.ALICE, F.BOB, b2.store, b2.store)).serialize());
                const rsm = T.SignalMessage.decode(rbytes.subarray(1, rbytes.length - 8));
                const b2a = hkdf(sec.subarray(64), Buffer.alloc(32), 'Signal PQ Ratchet V1 Chain  Start', 96).subarray(64, 96);
                const rkey = hkdf(b2a, Buffer.alloc(32), Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('Signal PQ Ratchet V1 Chain Next')]), 64).subarray(32, 64);
                const rkeys = F.messageKeys(hmac(bck, Buffer.from([1])), rkey);
                if (!F.macOf(rkeys.mac, ikB33, ikA33, rbytes.subarray(0, rbytes.length - 8)).equals(rbytes.subarray(rbytes.length - 8))) throw new Error('reply MAC does not verify here');
                const rd = nodeCrypto.createDecipheriv('aes-256-cbc', rkeys.aes, rkeys.iv);
                if (Buffer.concat([rd.update(Buffer.from(rsm.ciphertext)), rd.final()]).toString() !== 'reply from bob') throw new Error('reply decryption here differs');
                const got = Buffer.from(await S.signalDecrypt(S.SignalMessage.deserialize(u8(rbytes)), F.BOB, F.ALICE, store, store)).toString();
                if (got !== 'reply from bob') throw new Error('Alice does not decrypt the reply');
                reply = {
                    message: hex(rbytes), answers: messages.length - 1, spqrField: hex(Buffer.from(rsm.pqRatchet)),
                    bobRatchetKey: hex(Buffer.from(rsm.ratchetKey).subarray(1)), bobRootKey: hex(Buffer.from(brec.rootKey)),
                    bobSendingChainKey0: hex(bck), messageKeySeed: hex(hmac(bck, Buffer.from([1]))),
                    spqrB2aChainNext0: hex(b2a), spqrMessageKey: hex(rkey),
                    messageKeys: hex(Buffer.concat([rkeys.aes, rkeys.mac, rkeys.iv])), plaintext: hex(Buffer.from('reply from bob')),
                };
            }
        }
    }
    messages.push(messages[0]); // a replay of the first message
    const request = {
        suite: SUITE, identityPrivateKey: hex(m.ik),
        signedPrekeys: [{ id: 1, privateKey: hex(m.spk) }],
        oneTimePrekeys: [{ id: 2, privateKey: hex(m.opk) }],
        kemPrekeys: [{ id: 3, publicKey: hex(m.kemPk), privateKey: hex(m.kemSk), lastResort: false },
            { id: 4, publicKey: hex(bobLR.kemPk), privateKey: hex(bobLR.kemSk), lastResort: true }],
        ratchetPrivateKeys: [],
        initialMessages: messages.map(hex),
    };
    const [hs, res] = await shimCall([{ op: 'handshake', protocol: 1 }, { op: 'pqxdh_accept', ...request }]);
    if (res.error) throw new Error(`shim refused the request: ${JSON.stringify(res.error)}`);
    const want = ['first message', 'second message', 'no one-time prekey'];
    res.result.outcomes.forEach((o, i) => {
        if (i < 3 && (!o.plaintext || Buffer.from(o.plaintext, 'hex').toString() !== want[i])) throw new Error(`outcome ${i}: ${JSON.stringify(o)}`);
        if (i === 3 && !(o.error && o.error.class === 'duplicate')) throw new Error(`replay: ${JSON.stringify(o)}`);
    });
    const doc = {
        description: 'Initial messages made by @signalapp/libsignal-client (Alice) for a Bob with these keys; outcomes are libsignal-client as Bob (shim.js pqxdh_accept); derivations computed independently (FINDINGS.md d). Keys are bare; the Kyber1024 keys use the standard layout.',
        library: `${hs.result.name} ${hs.result.version}`,
        generator: 'conformance/shims/libsignal-client/sample.js',
        request,
        outcomes: res.result.outcomes,
        derivations,
        reply,
    };
    fs.writeFileSync(outPath, JSON.stringify(doc, null, 1) + '\n');
    console.log(`wrote ${outPath}: ${messages.length} initial messages, outcomes ${res.result.outcomes.map((o) => (o.error ? o.error.class : 'accepted')).join(', ')}`);
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
