#!/usr/bin/env node
// ratchetproof shim (docs/SHIM.md, protocol 1) for the npm package
// `@privacyresearch/libsignal-protocol-typescript` 0.0.16 (a TypeScript port of
// libsignal-protocol-javascript), suite `signal-v3` (docs/SIGNAL-V3.md).
//
// The package is GPL-3.0: setup.sh installs it into node_modules/ at test time
// (exact pin, package-lock.json); nothing of it is committed here.
//
// Every cryptographic step runs in the package's own code; the shim converts
// bytes (the package works on ArrayBuffers, public keys as 0x05 || u) and builds
// key objects:
//
//   kdf_rk         Internal.HKDF(dh, rk, "WhisperRatchet")          (as calculateRatchet)
//   kdf_ck         SessionCipher.fillMessageKeys on a one-step chain
//   message_keys   Internal.HKDF(mk, 0x00*32, "WhisperMessageKeys")  (as encryptJob)
//   seal           encryptJob's own steps: HKDF, crypto.encrypt, WhisperMessage.encode, crypto.sign
//   x3dh_initiate  SessionBuilder.processPreKey (signature check included); SK is the
//                  root key startSessionAsInitiator hands to calculateSendingRatchet
//   x3dh_respond   SessionBuilder.startSessionWthPreKeyMessage; SK is its root key
//   init_session   the session object startSessionAsInitiator / ...WthPreKeyMessage build
//                  after the master key; Alice's chain by calculateSendingRatchet
//   prekey_*       SessionBuilder.processPreKey / SessionCipher.decryptPreKeyWhisperMessage
//   x3dh_accept    SessionCipher.decryptPreKeyWhisperMessage for each message in turn
//   encrypt        SessionCipher.encrypt
//   decrypt        SessionCipher.decryptWhisperMessage / decryptPreKeyWhisperMessage
//   clone_session  the stored record string (SessionRecord.serialize, the package's format)
//
// Injected randomness: the package draws every key pair through
// `Internal.crypto.createKeyPair()` without an argument (session-builder.js
// processPreKeyJob / startSessionAsInitiator, session-cipher.js maybeStepRatchet),
// which then takes 32 bytes from WebCrypto. The shim replaces that method of the
// one `Internal.crypto` object so that, called without a private key, it uses the
// session's next injected key; called with one it is unchanged.
//
// Store mode: the package's storage interface carries session records as strings
// (storeSession(address, record.serialize()), and SessionCipher.getRecord always
// runs SessionRecord.deserialize on what loadSession returns), so an application
// cannot hand the package a live record: every call works on its own copy and the
// package stores it only on success. There is therefore one mode (README, "Store
// modes"); `--store serializing` is accepted for symmetry with the other shims.
'use strict';

const readline = require('readline');

// stdout carries protocol responses only; the package logs with console.warn/error.
for (const name of ['log', 'info', 'debug', 'warn']) {
    console[name] = (...args) => console.error(...args);
}

const PKG = '@privacyresearch/libsignal-protocol-typescript';
const lib = require(PKG);
const Internal = require(`${PKG}/lib/internal`);
const { SessionRecord } = require(`${PKG}/lib/session-record`);
const { WhisperMessage, PreKeyWhisperMessage } = require('@privacyresearch/libsignal-protocol-protobuf-ts');
const { SessionBuilder, SessionCipher, SignalProtocolAddress, BaseKeyType, ChainType } = lib;
const PKG_VERSION = require(`${PKG}/package.json`).version;

const SUITE = 'signal-v3';
const VERSION_BYTE = 0x33;

// session-cipher.js fillMessageKeys: `if (counter - chain.chainKey.counter > 2000) throw`,
// with chainKey.counter = Nr - 1: refused when n - (Nr - 1) > 2000, i.e. MAX_SKIP 1999 on
// the message's own chain (2000 on the previous chain, filled up to previousCounter = PN - 1).
const MAX_SKIP = 1999;

{
    const args = process.argv.slice(2).join(' ');
    if (args !== '' && args !== '--store serializing' && args !== '--store=serializing') {
        throw new Error(`unknown arguments ${JSON.stringify(args)} (usage: shim.js [--store serializing]; the package's store interface has no live mode)`);
    }
}

class Refused extends Error {
    constructor(cls, message) {
        super(message);
        this.cls = cls;
    }
}

// --- bytes -----------------------------------------------------------------------

// A fresh ArrayBuffer holding exactly these bytes (the package checks instanceof ArrayBuffer).
function ab(bytes) {
    const u = new Uint8Array(bytes.length);
    u.set(bytes);
    return u.buffer;
}

function toHex(x) {
    if (typeof x === 'string') {
        return Buffer.from(x, 'latin1').toString('hex');   // the package's binary strings
    }
    return Buffer.from(x instanceof ArrayBuffer ? new Uint8Array(x) : x).toString('hex');
}

function hex(field, value) {
    if (typeof value !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(value)) {
        throw new Refused('malformed', `${field} is not a hex string`);
    }
    return Buffer.from(value, 'hex');
}

function bytesN(req, field, n) {
    const b = hex(field, req[field]);
    if (b.length !== n) {
        throw new Refused('invalid_key', `${field} must be ${n} bytes, got ${b.length}`);
    }
    return b;
}

// Bare 32-byte u on the protocol; the package keeps 0x05 || u.
function publicKey(req, field) {
    return ab(Buffer.concat([Buffer.from([5]), bytesN(req, field, 32)]));
}

function privateKeys(req, field) {
    const list = req[field];
    if (!Array.isArray(list)) {
        throw new Refused('malformed', `${field} must be an array`);
    }
    return list.map((k, i) => {
        const b = hex(`${field}[${i}]`, k);
        if (b.length !== 32) {
            throw new Refused('invalid_key', `${field}[${i}] must be 32 bytes, got ${b.length}`);
        }
        return b;
    });
}

function u32(req, field) {
    const v = req[field];
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new Refused('malformed', `${field} must be a u32`);
    }
    return v;
}

function checkSuite(req) {
    if (req.suite !== SUITE) {
        throw new Refused('unsupported', `unknown suite ${JSON.stringify(req.suite)}`);
    }
}

// --- injected key generation --------------------------------------------------------

class KeyQueue {
    constructor(keys) {
        this.keys = keys;
        this.next = 0;
        this.overdrawn = false;
    }

    take() {
        const i = this.next++;
        if (i >= this.keys.length) {
            // The package draws a ratchet key before the MAC is checked; a vector lists
            // keys for committed steps only, so a refused message may need one more.
            this.overdrawn = true;
            return Buffer.alloc(32);
        }
        return this.keys[i];
    }

    mark() {
        return { next: this.next, overdrawn: this.overdrawn };
    }

    rewind(m) {
        this.next = m.next;
        this.overdrawn = m.overdrawn;
    }
}

let activeKeys = new KeyQueue([]);

const packageCreateKeyPair = Internal.crypto.createKeyPair;
Internal.crypto.createKeyPair = function injectedCreateKeyPair(privKey) {
    return packageCreateKeyPair.call(this, privKey === undefined ? ab(activeKeys.take()) : privKey);
};

function keyPairFromPrivate(priv) {
    return packageCreateKeyPair.call(Internal.crypto, ab(priv));
}

// --- storage (the interface SessionBuilder / SessionCipher call) ---------------------

class MemoryStorage {
    constructor() {
        this.identity = null;            // {pubKey: ArrayBuffer(33), privKey: ArrayBuffer(32)}
        this.registrationId = 0;
        this.records = new Map();        // address -> SessionRecord.serialize() string
        this.preKeys = new Map();        // id -> key pair
        this.signedPreKeys = new Map();  // id -> key pair
    }

    async getIdentityKeyPair() { return this.identity; }
    async getLocalRegistrationId() { return this.registrationId; }
    async isTrustedIdentity() { return true; }
    async saveIdentity() { return false; }
    async loadSession(addr) { return this.records.get(addr); }
    async storeSession(addr, record) {
        if (typeof record !== 'string') {
            throw new Error('storeSession expects the serialized record');
        }
        this.records.set(addr, record);
    }
    async loadPreKey(id) { return this.preKeys.get(id); }
    async removePreKey(id) { this.preKeys.delete(id); }
    async loadSignedPreKey(id) { return this.signedPreKeys.get(id); }
    async storePreKey(id, pair) { this.preKeys.set(id, pair); }
    async storeSignedPreKey(id, pair) { this.signedPreKeys.set(id, pair); }
    async removeSignedPreKey(id) { this.signedPreKeys.delete(id); }

    fingerprint() {
        return JSON.stringify([[...this.preKeys.keys()], [...this.signedPreKeys.keys()], [...this.records]]);
    }

    // Records are strings and key pairs are never changed in place: a shallow copy
    // of the maps is an independent storage.
    copy() {
        const c = new MemoryStorage();
        c.identity = this.identity;
        c.registrationId = this.registrationId;
        c.records = new Map(this.records);
        c.preKeys = new Map(this.preKeys);
        c.signedPreKeys = new Map(this.signedPreKeys);
        return c;
    }
}

// --- sessions ------------------------------------------------------------------------

const sessions = new Map();
let nextHandle = 1;
let addressCounter = 0;

function newAddress(tag) {
    return new SignalProtocolAddress(`${tag}${++addressCounter}`, 1);
}

function addSession(s) {
    const handle = nextHandle++;
    sessions.set(handle, s);
    return handle;
}

function getSession(handle) {
    const s = sessions.get(handle);
    if (!s) {
        throw new Refused('state', `no session with handle ${handle}`);
    }
    return s;
}

// --- error classes -------------------------------------------------------------------

// The package throws plain Errors; the class follows from the message (session-cipher.js,
// session-builder.js, internal/crypto.js, internal/curve.js, protobufjs' Reader, WebCrypto).
function classify(e) {
    if (e instanceof Refused) {
        return e.cls;
    }
    const msg = String((e && e.message) || e);
    if (e && e.name === 'MessageCounterError') {
        return 'duplicate';                  // 'Message key not found. The counter was repeated ...'
    }
    if (msg.startsWith('Over 2000 messages into the future')) {
        return 'too_many_skipped';
    }
    if (msg === 'Bad MAC' || msg === 'Bad MAC length' || msg === 'Invalid signature') {
        return 'authentication';
    }
    if (e && (e.name === 'OperationError' || /decrypt/i.test(msg) && /bad|wrong|final/i.test(msg))) {
        return 'authentication';             // AES-CBC padding, after a good MAC
    }
    if (msg.startsWith('Incompatible version number')) {
        return 'unsupported';
    }
    if (msg.startsWith('Invalid public key') || msg === 'Invalid private key' || msg.startsWith('Missing Signed PreKey')) {
        return 'invalid_key';
    }
    if (/index out of range|invalid wire type|illegal tag|invalid varint|premature end/i.test(msg)) {
        return 'malformed';                  // protobufjs Reader
    }
    if (msg.startsWith('No record for') || msg.startsWith('No session') || msg.startsWith('Tried to')) {
        return 'state';
    }
    return 'malformed';
}

// --- primitives ----------------------------------------------------------------------

async function kdfRk(req) {
    checkSuite(req);
    const rk = bytesN(req, 'rootKey', 32);
    const dh = bytesN(req, 'dhOutput', 32);
    const [root, chain] = await Internal.HKDF(ab(dh), ab(rk), 'WhisperRatchet');
    return { rootKey: toHex(root), chainKey: toHex(chain) };
}

const KDF_CIPHER = new SessionCipher(new MemoryStorage(), new SignalProtocolAddress('kdf', 1));

async function kdfCk(req) {
    checkSuite(req);
    const chain = { messageKeys: {}, chainKey: { counter: -1, key: ab(bytesN(req, 'chainKey', 32)) } };
    await KDF_CIPHER.fillMessageKeys(chain, 0);   // messageKeys[0] = HMAC(ck, 1), key = HMAC(ck, 2)
    return { chainKey: toHex(chain.chainKey.key), messageKey: toHex(chain.messageKeys[0]) };
}

function expandMessageKey(mk) {
    return Internal.HKDF(ab(mk), new ArrayBuffer(32), 'WhisperMessageKeys');
}

async function messageKeys(req) {
    checkSuite(req);
    const [enc, mac, iv] = await expandMessageKey(bytesN(req, 'messageKey', 32));
    return { keys: toHex(enc) + toHex(mac) + toHex(iv.slice(0, 16)) };
}

async function seal(req) {
    checkSuite(req);
    const mk = bytesN(req, 'messageKey', 32);
    const ratchetKey = new Uint8Array(publicKey(req, 'ratchetKey'));
    const pn = u32(req, 'pn');
    const n = u32(req, 'n');
    const plaintext = hex('plaintext', req.plaintext);
    const ad = hex('ad', req.ad);
    const [enc, macKey, iv] = await expandMessageKey(mk);
    const msg = WhisperMessage.fromJSON({});
    msg.ephemeralKey = ratchetKey;
    msg.counter = n;
    msg.previousCounter = Math.max(pn - 1, 0);
    msg.ciphertext = new Uint8Array(await Internal.crypto.encrypt(enc, ab(plaintext), iv.slice(0, 16)));
    const body = Buffer.from(WhisperMessage.encode(msg).finish());
    const version = Buffer.from([VERSION_BYTE]);
    const mac = Buffer.from(await Internal.crypto.sign(macKey, ab(Buffer.concat([ad, version, body]))));
    return { message: Buffer.concat([version, body, mac.subarray(0, 8)]).toString('hex') };
}

// --- key agreement -------------------------------------------------------------------

function deviceBundle(req) {
    const device = {
        identityKey: publicKey(req, 'peerIdentityKey'),
        registrationId: req.peerRegistrationId,
        signedPreKey: {
            keyId: req.peerSignedPrekeyId,
            publicKey: publicKey(req, 'peerSignedPrekey'),
            signature: ab(hex('peerSignedPrekeySignature', req.peerSignedPrekeySignature)),
        },
    };
    if (req.peerOneTimePrekey !== undefined) {
        device.preKey = { keyId: req.peerOneTimePrekeyId, publicKey: publicKey(req, 'peerOneTimePrekey') };
    }
    return device;
}

async function x3dhInitiate(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = await keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    const device = deviceBundle(Object.assign({ peerRegistrationId: 1, peerSignedPrekeyId: 1, peerOneTimePrekeyId: 1 }, req));
    // The ephemeral key, then the first ratchet key (not part of X3DH: a placeholder).
    activeKeys = new KeyQueue([bytesN(req, 'ephemeralPrivateKey', 32)]);
    const builder = new SessionBuilder(storage, newAddress('x3dh'));
    // startSessionAsInitiator sets rootKey = HKDF(0xFF*32 || DH1..DH4, 0, "WhisperText")[0]
    // and hands the session to calculateSendingRatchet, which replaces it: read it there.
    let sk = null;
    builder.calculateSendingRatchet = function (session, remoteKey) {
        sk = session.currentRatchet.rootKey;
        return SessionBuilder.prototype.calculateSendingRatchet.call(this, session, remoteKey);
    };
    const session = await builder.processPreKey(device);
    const ad = Buffer.concat([Buffer.from(storage.identity.pubKey), Buffer.from(session.indexInfo.remoteIdentityKey)]);
    return { sharedKey: toHex(sk), associatedData: ad.toString('hex') };
}

async function x3dhRespond(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = await keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    const spk = await keyPairFromPrivate(bytesN(req, 'signedPrekeyPrivateKey', 32));
    const opk = req.oneTimePrekeyPrivateKey === undefined ? undefined : await keyPairFromPrivate(bytesN(req, 'oneTimePrekeyPrivateKey', 32));
    const message = {
        identityKey: new Uint8Array(publicKey(req, 'peerIdentityKey')),
        baseKey: new Uint8Array(publicKey(req, 'peerEphemeralKey')),
        registrationId: 1,
    };
    activeKeys = new KeyQueue([]);
    const builder = new SessionBuilder(storage, newAddress('x3dh'));
    const session = await builder.startSessionWthPreKeyMessage(opk, spk, message);
    const ad = Buffer.concat([Buffer.from(session.indexInfo.remoteIdentityKey), Buffer.from(storage.identity.pubKey)]);
    return { sharedKey: toHex(session.currentRatchet.rootKey), associatedData: ad.toString('hex') };
}

// --- sessions from a shared key --------------------------------------------------------

async function initSession(req) {
    checkSuite(req);
    if (req.maxSkip !== undefined && req.maxSkip !== MAX_SKIP) {
        throw new Refused('unsupported', `the package's forward limit is fixed (MAX_SKIP ${MAX_SKIP}), asked for ${req.maxSkip}`);
    }
    if (req.maxStoredSkippedKeys !== undefined) {
        throw new Refused('unsupported', 'the package has no cap on stored skipped keys');
    }
    const sk = ab(bytesN(req, 'sharedKey', 32));
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    const storage = new MemoryStorage();
    // Identity keys are set from `ad` by encrypt / decrypt (SIGNAL-V3 §7).
    storage.identity = { pubKey: new ArrayBuffer(33), privKey: new ArrayBuffer(32) };
    const addr = newAddress('s');
    const session = {
        registrationId: 0,
        currentRatchet: { rootKey: sk, previousCounter: 0 },
        indexInfo: { remoteIdentityKey: new ArrayBuffer(33), closed: -1 },
        oldRatchetList: [],
        chains: {},
    };
    activeKeys = keys;
    if (req.role === 'alice') {
        // startSessionAsInitiator after the master key: a new sending key pair and
        // calculateSendingRatchet against Bob's signed prekey. The base key (the record's
        // index) would be Alice's ephemeral key, which this API does not have.
        const bobRatchet = publicKey(req, 'ratchetKey');
        const ephemeral = await Internal.crypto.createKeyPair();
        session.currentRatchet.lastRemoteEphemeralKey = bobRatchet;
        session.currentRatchet.ephemeralKeyPair = ephemeral;
        session.indexInfo.baseKey = ephemeral.pubKey;
        session.indexInfo.baseKeyType = BaseKeyType.OURS;
        await new SessionBuilder(storage, addr).calculateSendingRatchet(session, bobRatchet);
    } else if (req.role === 'bob') {
        // startSessionWthPreKeyMessage: the signed prekey is the ratchet key pair, no chain.
        // lastRemoteEphemeralKey would be Alice's base key; it is only looked up as a chain
        // id, and no chain has the all-zero id.
        const spk = await keyPairFromPrivate(bytesN(req, 'ratchetKey', 32));
        session.currentRatchet.lastRemoteEphemeralKey = new ArrayBuffer(33);
        session.currentRatchet.ephemeralKeyPair = spk;
        session.indexInfo.baseKey = spk.pubKey;
        session.indexInfo.baseKeyType = BaseKeyType.THEIRS;
    } else {
        throw new Refused('state', `unknown role ${JSON.stringify(req.role)}`);
    }
    const record = new SessionRecord();
    record.updateSessionState(session);
    await storage.storeSession(addr.toString(), record.serialize());
    return { session: addSession({ kind: 'init', role: req.role, storage, addr, keys }) };
}

// --- sessions from prekeys -------------------------------------------------------------

async function prekeyInitiate(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = await keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    storage.registrationId = u32(req, 'registrationId');
    u32(req, 'peerRegistrationId');
    u32(req, 'peerSignedPrekeyId');
    if (req.peerOneTimePrekey !== undefined) {
        u32(req, 'peerOneTimePrekeyId');
    }
    const device = deviceBundle(req);
    const keys = new KeyQueue([bytesN(req, 'ephemeralPrivateKey', 32), ...privateKeys(req, 'ratchetPrivateKeys')]);
    activeKeys = keys;
    const addr = newAddress('p');
    await new SessionBuilder(storage, addr).processPreKey(device);
    return { session: addSession({ kind: 'prekey', role: 'alice', storage, addr, keys }) };
}

async function prekeyRespond(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = await keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    storage.registrationId = u32(req, 'registrationId');
    storage.signedPreKeys.set(u32(req, 'signedPrekeyId'), await keyPairFromPrivate(bytesN(req, 'signedPrekeyPrivateKey', 32)));
    if (req.oneTimePrekeyPrivateKey !== undefined) {
        storage.preKeys.set(u32(req, 'oneTimePrekeyId'), await keyPairFromPrivate(bytesN(req, 'oneTimePrekeyPrivateKey', 32)));
    }
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    const message = ab(hex('message', req.message));
    activeKeys = keys;
    const addr = newAddress('p');
    const plaintext = await new SessionCipher(storage, addr).decryptPreKeyWhisperMessage(message);
    return { session: addSession({ kind: 'prekey', role: 'bob', storage, addr, keys }), plaintext: toHex(plaintext) };
}

function prekeyEntries(req, field) {
    const list = req[field];
    if (!Array.isArray(list)) {
        throw new Refused('malformed', `${field} must be an array`);
    }
    return list.map((e, i) => [u32(e, 'id'), bytesN(e, 'privateKey', 32)]);
}

// x3dh_accept (docs/SHIM.md §4.5): one Bob, one storage, receives every initial message
// in order through decryptPreKeyWhisperMessage. All come from "the peer", so they meet
// one record: processV3 returns early for a base key the record holds, and the message
// is decrypted as that session's next one; a new base key archives the open session.
// Nothing is restored after a refusal (the package stores only on success, which the
// shim notes on stderr if it ever does not), only the injected keys are rewound.
async function x3dhAccept(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = await keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    storage.registrationId = 1;
    for (const [id, priv] of prekeyEntries(req, 'signedPrekeys')) {
        storage.signedPreKeys.set(id, await keyPairFromPrivate(priv));
    }
    for (const [id, priv] of prekeyEntries(req, 'oneTimePrekeys')) {
        storage.preKeys.set(id, await keyPairFromPrivate(priv));
    }
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    if (!Array.isArray(req.initialMessages)) {
        throw new Refused('malformed', 'initialMessages must be an array');
    }
    const messages = req.initialMessages.map((m, i) => hex(`initialMessages[${i}]`, m));
    const addr = new SignalProtocolAddress('peer', 1);
    const outcomes = [];
    for (const [i, data] of messages.entries()) {
        const mark = keys.mark();
        const before = storage.fingerprint();
        activeKeys = keys;
        let plaintext;
        try {
            plaintext = await new SessionCipher(storage, addr).decryptPreKeyWhisperMessage(ab(data));
        } catch (e) {
            keys.rewind(mark);
            if (storage.fingerprint() !== before) {
                console.error(`note: x3dh_accept message ${i} was refused (${(e && e.message) || e}) but the storage changed; left as it is`);
            }
            outcomes.push({ error: { class: classify(e), message: String((e && e.message) || e) } });
            continue;
        }
        // The session that decrypted it: the record's entry for the message's base key,
        // read with the package's decoder as decryptPreKeyWhisperMessage does.
        const baseKey = PreKeyWhisperMessage.decode(new Uint8Array(data.subarray(1))).baseKey;
        const record = SessionRecord.deserialize(await storage.loadSession(addr.toString()));
        const session = record.getSessionByBaseKey(ab(baseKey));
        const remote = Buffer.from(session.indexInfo.remoteIdentityKey);
        const ad = Buffer.concat([remote, Buffer.from(storage.identity.pubKey)]);
        const bare = remote.length === 33 && remote[0] === 5 ? remote.subarray(1) : remote;
        outcomes.push({ plaintext: toHex(plaintext), associatedData: ad.toString('hex'), peerIdentityKey: bare.toString('hex') });
    }
    return { outcomes };
}

// --- conversation ----------------------------------------------------------------------

// A session from init_session learns its identity keys from `ad` (SIGNAL-V3 §7).
async function applyAd(s, req) {
    if (s.kind !== 'init') {
        return;
    }
    const ad = hex('ad', req.ad);
    if (ad.length !== 66 || ad[0] !== 5 || ad[33] !== 5) {
        throw new Refused('invalid_key', `ad must be Encode(IKa) || Encode(IKb), 66 bytes with 0x05 prefixes, got ${ad.length} bytes`);
    }
    const [own, remote] = s.role === 'alice' ? [ad.subarray(0, 33), ad.subarray(33)] : [ad.subarray(33), ad.subarray(0, 33)];
    s.storage.identity = { pubKey: ab(own), privKey: new ArrayBuffer(32) };
    const addr = s.addr.toString();
    const record = SessionRecord.deserialize(await s.storage.loadSession(addr));
    for (const entry of Object.values(record.sessions)) {
        entry.indexInfo.remoteIdentityKey = ab(remote);
    }
    await s.storage.storeSession(addr, record.serialize());
}

// One package call on a session. On failure the injected key list is rewound (the
// package draws a ratchet key before the MAC) and the storage put back; the package
// never stores on failure, and the shim says so on stderr if it ever does.
async function transactional(s, req, fn) {
    const mark = s.keys.mark();
    const snapshot = s.storage.copy();
    let before;
    try {
        await applyAd(s, req);
        before = s.storage.fingerprint();
        activeKeys = s.keys;
        return await fn();
    } catch (e) {
        s.keys.rewind(mark);
        if (before !== undefined && s.storage.fingerprint() !== before) {
            console.error(`note: ${req.op} failed but the package changed the storage; restored`);
        }
        s.storage.records = snapshot.records;
        s.storage.preKeys = snapshot.preKeys;
        throw e;
    }
}

async function encrypt(req) {
    const s = getSession(req.session);
    const plaintext = ab(hex('plaintext', req.plaintext));
    return await transactional(s, req, async () => {
        let out;
        try {
            out = await new SessionCipher(s.storage, s.addr).encrypt(plaintext);
        } catch (e) {
            // prepareChain has no check for a session without a sending chain (Bob before
            // he received): it reads `chain.chainKey` of undefined (README, finding F8).
            if (e instanceof TypeError && /reading 'chainKey'/.test(e.message)) {
                throw new Refused('state', `no sending chain (the package: ${e.message})`);
            }
            throw e;
        }
        const result = { message: toHex(out.body) };
        if (s.kind === 'prekey') {
            result.messageType = out.type === 3 ? 'prekey' : 'whisper';
        } else if (out.type !== 1) {
            throw new Error(`init_session session produced message type ${out.type}`);
        }
        return result;
    });
}

async function decrypt(req) {
    const s = getSession(req.session);
    const message = ab(hex('message', req.message));
    const type = req.messageType === undefined ? 'whisper' : req.messageType;
    if (type !== 'whisper' && type !== 'prekey') {
        throw new Refused('unsupported', `unknown messageType ${JSON.stringify(type)}`);
    }
    return await transactional(s, req, async () => {
        const cipher = new SessionCipher(s.storage, s.addr);
        // decryptWhisperMessage tries every session of the record and rejects with the
        // first one's error (decryptWithSessionList), so the error is the cause itself.
        const plaintext = type === 'prekey'
            ? await cipher.decryptPreKeyWhisperMessage(message)
            : await cipher.decryptWhisperMessage(message);
        if (s.keys.overdrawn) {
            console.error('note: a decryption succeeded after drawing past the injected ratchet keys');
        }
        return { plaintext: toHex(plaintext) };
    });
}

function cloneSession(req) {
    const s = getSession(req.session);
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    return { session: addSession({ kind: s.kind, role: s.role, storage: s.storage.copy(), addr: s.addr, keys }) };
}

function handshake() {
    return {
        protocol: 1,
        name: 'libsignal-protocol-typescript',
        version: `${PKG_VERSION} (serializing store)`,
        suites: [SUITE],
        operations: ['primitives', 'x3dh', 'session', 'prekey', 'x3dh_accept'],
        maxSkip: MAX_SKIP,
        maxStoredSkippedKeys: null,
        configurableLimits: false,
        injectedRandomness: true,
        clone: true,
    };
}

const OPS = {
    kdf_rk: kdfRk,
    kdf_ck: kdfCk,
    message_keys: messageKeys,
    seal,
    x3dh_initiate: x3dhInitiate,
    x3dh_respond: x3dhRespond,
    init_session: initSession,
    prekey_initiate: prekeyInitiate,
    prekey_respond: prekeyRespond,
    x3dh_accept: x3dhAccept,
    encrypt,
    decrypt,
    clone_session: cloneSession,
    reset: () => { sessions.clear(); return {}; },
};

async function handle(req) {
    if (req.op === 'handshake') {
        if (req.protocol !== undefined && req.protocol !== 1) {
            throw new Refused('unsupported', `protocol ${req.protocol}`);
        }
        return handshake();
    }
    const fn = OPS[req.op];
    if (!fn) {
        throw new Refused('unsupported', `unknown op ${JSON.stringify(req.op)}`);
    }
    return await fn(req);
}

async function main() {
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    for await (const line of rl) {
        if (line.trim() === '') {
            continue;
        }
        let req;
        try {
            req = JSON.parse(line);
        } catch (e) {
            console.error(`unparseable request: ${line.slice(0, 200)}`);
            continue;
        }
        let response;
        try {
            response = { id: req.id, result: await handle(req) };
        } catch (e) {
            if (!(e instanceof Refused)) {
                console.error(`${req.op} (id ${req.id}) refused by the package: ${e && e.stack ? e.stack : e}`);
            }
            response = { id: req.id, error: { class: classify(e), message: String((e && e.message) || e) } };
        }
        process.stdout.write(JSON.stringify(response) + '\n');
    }
}

main().then(() => process.exit(0), (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
