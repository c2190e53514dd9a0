#!/usr/bin/env node
// Standalone checks of the shim, no runner needed (after setup.sh):
//
//   node conformance/shims/libsignal-protocol-typescript/selftest.js
//
// 1. The package's createKeyPair(priv), which the injected key generation calls,
//    gives 0x05 || X25519(priv, 9), checked against node's own X25519: so an
//    injected private key yields exactly the public key the vectors expect.
// 2. A prekey conversation through the shim process (handshake, prekey_initiate with
//    a bundle signed by the package, prekey_respond, replies both ways, a replay
//    refused as `duplicate`, clone_session independent of its origin).
// 3. The shim refuses `--store live` at start-up (the package has no live store).
// Exit status 1 on the first failed check.
'use strict';

const assert = require('assert');
const crypto = require('crypto');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const PKG = '@privacyresearch/libsignal-protocol-typescript';
const Internal = require(`${PKG}/lib/internal`);
const SHIM = path.join(__dirname, 'shim.js');
let checks = 0;

function check(cond, what) {
    assert.ok(cond, what);
    checks++;
}

function x25519Public(priv) {
    const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), priv]);
    const key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32);
}

function ab(b) {
    return new Uint8Array(b).buffer;
}

// A shim process answering one request at a time.
function startShim(args) {
    const child = spawn(process.execPath, [SHIM, ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
    let buffer = '';
    const waiting = [];
    child.stdout.on('data', (d) => {
        buffer += d;
        let i;
        while ((i = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, i);
            buffer = buffer.slice(i + 1);
            waiting.shift()(JSON.parse(line));
        }
    });
    let id = 0;
    return {
        call(req) {
            return new Promise((resolve) => {
                waiting.push(resolve);
                child.stdin.write(JSON.stringify(Object.assign({ id: ++id }, req)) + '\n');
            });
        },
        close() { child.stdin.end(); },
    };
}

async function main() {
    // 1. injected keys
    for (let i = 0; i < 20; i++) {
        const priv = crypto.randomBytes(32);
        const pair = await Internal.crypto.createKeyPair(ab(priv));
        const expected = Buffer.concat([Buffer.from([5]), x25519Public(priv)]);
        check(Buffer.from(pair.pubKey).equals(expected), `createKeyPair(${priv.toString('hex')}) is 0x05 || X25519`);
    }

    // 2. a prekey conversation through the shim
    const key = (b) => crypto.createHash('sha256').update(`selftest ${b}`).digest();
    const bobIdentity = key('bob identity'), bobSpk = key('bob spk'), bobOpk = key('bob opk');
    const pub = (priv) => x25519Public(priv).toString('hex');
    const spkPair = await Internal.crypto.createKeyPair(ab(bobSpk));
    const idPair = await Internal.crypto.createKeyPair(ab(bobIdentity));
    const signature = Buffer.from(await Internal.crypto.Ed25519Sign(idPair.privKey, spkPair.pubKey)).toString('hex');
    const shim = startShim([]);
    const hs = await shim.call({ op: 'handshake', protocol: 1 });
    check(hs.result && hs.result.suites[0] === 'signal-v3' && hs.result.injectedRandomness === true, 'handshake');
    const alice = await shim.call({
        op: 'prekey_initiate', suite: 'signal-v3', identityPrivateKey: key('alice identity').toString('hex'), registrationId: 1234,
        ephemeralPrivateKey: key('alice ephemeral').toString('hex'), ratchetPrivateKeys: [key('alice r0').toString('hex'), key('alice r1').toString('hex')],
        peerIdentityKey: pub(bobIdentity), peerRegistrationId: 99, peerSignedPrekeyId: 7, peerSignedPrekey: pub(bobSpk),
        peerSignedPrekeySignature: signature, peerOneTimePrekeyId: 42, peerOneTimePrekey: pub(bobOpk),
    });
    check(alice.result, `prekey_initiate: ${JSON.stringify(alice.error)}`);
    const m0 = await shim.call({ op: 'encrypt', session: alice.result.session, plaintext: Buffer.from('hello Bob').toString('hex') });
    check(m0.result && m0.result.messageType === 'prekey', 'the first message is a PreKeyWhisperMessage');
    const bob = await shim.call({
        op: 'prekey_respond', suite: 'signal-v3', identityPrivateKey: bobIdentity.toString('hex'), registrationId: 99,
        signedPrekeyId: 7, signedPrekeyPrivateKey: bobSpk.toString('hex'), oneTimePrekeyId: 42, oneTimePrekeyPrivateKey: bobOpk.toString('hex'),
        ratchetPrivateKeys: [key('bob r0').toString('hex')], message: m0.result.message,
    });
    check(bob.result && Buffer.from(bob.result.plaintext, 'hex').toString() === 'hello Bob', 'Bob decrypts the initial message');
    const b0 = await shim.call({ op: 'encrypt', session: bob.result.session, plaintext: Buffer.from('hi Alice').toString('hex') });
    check(b0.result && b0.result.messageType === 'whisper', 'Bob answers with a WhisperMessage');
    const copy = await shim.call({ op: 'clone_session', session: alice.result.session, ratchetPrivateKeys: [key('alice r1').toString('hex')] });
    check(copy.result, 'clone_session');
    const a0 = await shim.call({ op: 'decrypt', session: alice.result.session, message: b0.result.message });
    check(a0.result && Buffer.from(a0.result.plaintext, 'hex').toString() === 'hi Alice', 'Alice decrypts the reply');
    const again = await shim.call({ op: 'decrypt', session: alice.result.session, message: b0.result.message });
    check(again.error && again.error.class === 'duplicate', `a replay is refused as duplicate: ${JSON.stringify(again)}`);
    const viaCopy = await shim.call({ op: 'decrypt', session: copy.result.session, message: b0.result.message });
    check(viaCopy.result && Buffer.from(viaCopy.result.plaintext, 'hex').toString() === 'hi Alice', 'the clone is independent of its origin');
    const a1 = await shim.call({ op: 'encrypt', session: alice.result.session, plaintext: Buffer.from('after').toString('hex') });
    check(a1.result && a1.result.messageType === 'whisper', 'Alice sends WhisperMessages once she has decrypted');
    const b1 = await shim.call({ op: 'decrypt', session: bob.result.session, message: a1.result.message });
    check(b1.result && Buffer.from(b1.result.plaintext, 'hex').toString() === 'after', 'Bob decrypts across the ratchet step');
    // The injected ephemeral key is the one used: Alice's SK is reproducible and equals
    // the SK Bob derives from her public ephemeral key.
    const x3dh = {
        op: 'x3dh_initiate', suite: 'signal-v3', identityPrivateKey: key('alice identity').toString('hex'),
        ephemeralPrivateKey: key('alice ephemeral').toString('hex'), peerIdentityKey: pub(bobIdentity),
        peerSignedPrekey: pub(bobSpk), peerSignedPrekeySignature: signature, peerOneTimePrekey: pub(bobOpk),
    };
    const sk1 = await shim.call(x3dh);
    const sk2 = await shim.call(x3dh);
    const skBob = await shim.call({
        op: 'x3dh_respond', suite: 'signal-v3', identityPrivateKey: bobIdentity.toString('hex'), signedPrekeyPrivateKey: bobSpk.toString('hex'),
        oneTimePrekeyPrivateKey: bobOpk.toString('hex'), peerIdentityKey: pub(key('alice identity')), peerEphemeralKey: pub(key('alice ephemeral')),
    });
    check(sk1.result && sk2.result && sk1.result.sharedKey === sk2.result.sharedKey, 'x3dh_initiate is deterministic (the injected ephemeral key is used)');
    check(skBob.result && skBob.result.sharedKey === sk1.result.sharedKey && skBob.result.associatedData === sk1.result.associatedData, 'x3dh_respond agrees');
    shim.close();

    // 3. no live store
    const live = spawnSync(process.execPath, [SHIM, '--store', 'live'], { input: '', encoding: 'utf8' });
    check(live.status !== 0 && /no live mode/.test(live.stderr), '--store live is refused');

    console.log(`selftest: ${checks} checks passed`);
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
