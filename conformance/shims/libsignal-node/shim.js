#!/usr/bin/env node
// ratchetproof shim (docs/SHIM.md, protocol 1) for the npm package `libsignal`
// 6.0.0 (libsignal-node, WhiskeySockets), suite `signal-v3` (docs/SIGNAL-V3.md).
//
// The point is to test libsignal-node, so every cryptographic step runs in the
// library's own code; the shim only converts bytes and builds key objects:
//
//   kdf_rk         crypto.deriveSecrets(dh, rk, "WhisperRatchet", 2)      (as calculateRatchet)
//   kdf_ck         SessionCipher.prototype.fillMessageKeys on a one-step chain
//   message_keys   crypto.deriveSecrets(mk, 0x00*32, "WhisperMessageKeys") (as encrypt)
//   seal           SessionCipher.encrypt's own steps: deriveSecrets, crypto.encrypt,
//                  protobufs.WhisperMessage.encode, crypto.calculateMAC
//   x3dh_initiate  SessionBuilder.initOutgoing (its signature check included, exactly as
//                  the library does it); SK is the root key initSession computes, read
//                  when initSession hands it to calculateSendingRatchet
//   x3dh_respond   SessionBuilder.initIncoming with the keys in storage; SK is the new
//                  session's root key (Bob's initSession does not ratchet)
//   init_session   SessionRecord.createEntry + the fields initSession sets after the
//                  master key; Alice's sending chain by SessionBuilder.calculateSendingRatchet
//   prekey_*       SessionBuilder.initOutgoing / SessionCipher.decryptPreKeyWhisperMessage
//   x3dh_accept    SessionCipher.decryptPreKeyWhisperMessage for each initial message in
//                  turn, one storage holding the given signed and one-time prekeys
//   encrypt        SessionCipher.encrypt
//   decrypt        SessionCipher.decryptWhisperMessage / decryptPreKeyWhisperMessage
//   clone_session  SessionRecord.serialize / deserialize (the storage format itself)
//
// Injected randomness: the library calls `curve.generateKeyPair()` as a property
// of its curve module (session_builder.js, session_cipher.js), so the shim
// replaces that export with one that pops the session's next injected private
// key and derives the public key with the library's curve.getPublicFromPrivateKey.
// The library generates the new ratchet key in maybeStepRatchet, before the MAC
// is checked; a failed decryption therefore rewinds the key list (and, with the
// serializing store, restores the stored record, which the library itself never
// writes on failure).
//
// Storage is the library's storage interface, in memory, one per session handle.
// The application chooses how it keeps session records, and the library behaves
// differently with each choice (README, "Store modes"), so the shim offers both:
//
//   --store serializing  (default) records are kept serialized (SessionRecord.serialize /
//                        deserialize), as every application we know of stores them, so
//                        every call works on a fresh copy and a refused message leaves
//                        nothing behind (the library stores a record only on success);
//   --store live         loadSession returns the same SessionRecord object on every call
//                        (never a copy), so whatever the library changed in it before a
//                        refusal stays; the shim restores nothing but the injected key list.
//
// The handshake's `version` names the mode, so the two runs' reports differ.
'use strict';

const readline = require('readline');

// The library logs with console.info / console.warn ("Closing session: ..."); stdout
// carries protocol responses only, so everything the library prints goes to stderr.
for (const name of ['log', 'info', 'debug', 'warn']) {
    console[name] = (...args) => console.error(...args);
}

const libsignal = require('libsignal');
const { curve, crypto: lcrypto, SessionBuilder, SessionCipher, SessionRecord, ProtocolAddress } = libsignal;
const errors = require('libsignal/src/errors');
const protobufs = require('libsignal/src/protobufs');
const BaseKeyType = require('libsignal/src/base_key_type');
const LIBSIGNAL_VERSION = require('libsignal/package.json').version;

const SUITE = 'signal-v3';
const VERSION_BYTE = 0x33;
const PLACEHOLDER_KEY = Buffer.alloc(32);

// libsignal-node's forward limit, session_cipher.js fillMessageKeys:
//     if (counter - chain.chainKey.counter > 2000) throw 'Over 2000 messages into the future!'
// chainKey.counter is the index of the last key derived (-1 on a new chain), i.e.
// Nr - 1 in [DR] terms, so the refusal is `n - (Nr - 1) > 2000`, i.e. `Nr + 1999 < n`:
// MAX_SKIP = 1999 on the message's own chain. (The same function bounds the old
// chain with previousCounter = PN - 1, which makes that bound PN - Nr > 2000, i.e.
// MAX_SKIP = 2000 there; the handshake can only declare one value.)
const MAX_SKIP = 1999;

// Evidence mode (README, finding on MAX_SKIP): LIBSIGNAL_SHIM_CLAIM_SUITE_LIMITS=1 makes
// the handshake claim the suite's limits (MAX_SKIP 2000, 4000 stored keys), which is NOT
// what the library does, so that the runner sends the exact-limit cases of the suite;
// the library then answers them with its real behaviour. Never use it for CI.
const CLAIM_SUITE_LIMITS = process.env.LIBSIGNAL_SHIM_CLAIM_SUITE_LIMITS === '1';
const DECLARED_MAX_SKIP = CLAIM_SUITE_LIMITS ? 2000 : MAX_SKIP;
const DECLARED_MAX_STORED = CLAIM_SUITE_LIMITS ? 4000 : null;

// --store MODE (or --store=MODE); anything else on the command line is refused at
// start-up, so a typo cannot silently run the default mode.
function storeMode(argv) {
    let mode = 'serializing';
    for (let i = 0; i < argv.length; i++) {
        const m = /^--store(?:=(.*))?$/.exec(argv[i]);
        if (!m) {
            throw new Error(`unknown argument ${JSON.stringify(argv[i])} (usage: shim.js [--store serializing|live])`);
        }
        mode = m[1] !== undefined ? m[1] : argv[++i];
        if (mode !== 'serializing' && mode !== 'live') {
            throw new Error(`--store must be serializing or live, got ${JSON.stringify(mode)}`);
        }
    }
    return mode;
}
const STORE_MODE = storeMode(process.argv.slice(2));
const LIVE_STORE = STORE_MODE === 'live';

class Refused extends Error {
    constructor(cls, message) {
        super(message);
        this.cls = cls;
    }
}

// --- injected key generation --------------------------------------------------

class KeyQueue {
    constructor(keys) {
        this.keys = keys;
        this.next = 0;
        this.overdrawn = false;
    }

    take() {
        const i = this.next++;
        if (i >= this.keys.length) {
            // The library draws a key before the message authenticates; a vector lists
            // keys for committed steps only, so a refused message may need one more.
            this.overdrawn = true;
            return PLACEHOLDER_KEY;
        }
        return this.keys[i];
    }
}

let activeKeys = new KeyQueue([]);

const originalGenerateKeyPair = curve.generateKeyPair;
curve.generateKeyPair = function injectedGenerateKeyPair() {
    const privKey = Buffer.from(activeKeys.take());
    return { pubKey: curve.getPublicFromPrivateKey(privKey), privKey };
};
if (curve.generateKeyPair === originalGenerateKeyPair) {
    throw new Error('could not replace curve.generateKeyPair');
}

function keyPairFromPrivate(privKey) {
    return { pubKey: curve.getPublicFromPrivateKey(privKey), privKey };
}

// --- storage (the interface SessionBuilder / SessionCipher call) ---------------

class MemoryStorage {
    constructor() {
        this.identity = null;          // {pubKey (33), privKey (32)}
        this.registrationId = 0;
        // address -> JSON string of SessionRecord.serialize() (serializing store),
        // or the SessionRecord object itself (live store)
        this.records = new Map();
        this.preKeys = new Map();      // id -> key pair
        this.signedPreKeys = new Map(); // id -> key pair
    }

    async getOurIdentity() { return this.identity; }
    async getOurRegistrationId() { return this.registrationId; }
    async isTrustedIdentity() { return true; }

    async loadSession(addr) {
        const stored = this.records.get(addr);
        if (stored === undefined || LIVE_STORE) {
            return stored;
        }
        return SessionRecord.deserialize(JSON.parse(stored));
    }

    async storeSession(addr, record) {
        this.records.set(addr, LIVE_STORE ? record : JSON.stringify(record.serialize()));
    }

    // The stored record in its serialized form, whatever the mode (for comparisons).
    recordJson(addr) {
        const stored = this.records.get(addr);
        return stored === undefined || !LIVE_STORE ? stored : JSON.stringify(stored.serialize());
    }

    recordsJson() {
        return JSON.stringify([...this.records.keys()].map((addr) => [addr, this.recordJson(addr)]));
    }

    async loadPreKey(id) { return this.preKeys.get(id); }
    async removePreKey(id) { this.preKeys.delete(id); }
    async loadSignedPreKey(id) { return this.signedPreKeys.get(id); }

    copy() {
        const c = new MemoryStorage();
        c.identity = this.identity && { pubKey: Buffer.from(this.identity.pubKey), privKey: Buffer.from(this.identity.privKey) };
        c.registrationId = this.registrationId;
        // A copy is an independent session in both modes: a live record is copied
        // through the library's own format, never shared.
        c.records = LIVE_STORE
            ? new Map([...this.records].map(([a, r]) => [a, SessionRecord.deserialize(JSON.parse(JSON.stringify(r.serialize())))]))
            : new Map(this.records);
        const copyPairs = (m) => new Map([...m].map(([k, p]) => [k, { pubKey: Buffer.from(p.pubKey), privKey: Buffer.from(p.privKey) }]));
        c.preKeys = copyPairs(this.preKeys);
        c.signedPreKeys = copyPairs(this.signedPreKeys);
        return c;
    }
}

// --- sessions -----------------------------------------------------------------

const sessions = new Map();
let nextHandle = 1;
let scratchCounter = 0;

function newAddress(tag) {
    return new ProtocolAddress(`${tag}${++scratchCounter}`, 1);
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

// --- byte helpers -----------------------------------------------------------------

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

// The shim protocol carries bare 32-byte public keys; libsignal keeps them as
// 0x05 || u (33 bytes). A value that is not 32 bytes cannot be converted.
function publicKey(req, field) {
    return Buffer.concat([Buffer.from([5]), bytesN(req, field, 32)]);
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

// --- error classes ------------------------------------------------------------

// Map an exception the library threw onto a harness error class, from the
// library's own error types and messages (session_cipher.js, session_builder.js,
// curve.js, crypto.js, protobufjs, node's crypto).
function classify(e, op) {
    if (e instanceof Refused) {
        return e.cls;
    }
    const msg = String((e && e.message) || e);
    if (e instanceof errors.MessageCounterError) {
        return 'duplicate';                          // 'Key used already or never filled'
    }
    if (e instanceof errors.PreKeyError) {
        return 'invalid_key';                        // 'Invalid PreKey ID', 'Missing SignedPreKey'
    }
    if (msg.startsWith('Over 2000 messages into the future')) {
        return 'too_many_skipped';
    }
    if (msg.startsWith('Bad MAC')) {
        return 'authentication';                     // crypto.verifyMAC
    }
    if (e && (e.code === 'ERR_OSSL_BAD_DECRYPT' || e.code === 'ERR_OSSL_WRONG_FINAL_BLOCK_LENGTH')) {
        return 'authentication';                     // AES-CBC padding, after a good MAC
    }
    if (msg.startsWith('Incompatible version number')) {
        return 'unsupported';
    }
    if (e && e.code === 'ERR_OSSL_FAILED_DURING_DERIVATION') {
        return 'invalid_key';                        // X25519 with a small-order point
    }
    if (msg === 'Invalid public key' || msg.startsWith('Incorrect private key length') ||
        msg === 'Invalid signature' || msg === 'Got salt of incorrect length' ||
        msg.startsWith('Invalid public key type') || msg.startsWith('Invalid private key type')) {
        return 'invalid_key';                        // curve.js / crypto.js argument checks
    }
    // protobufjs reader: 'index out of range: ...', 'invalid wire type ...', 'illegal ...'
    if (e instanceof RangeError || /^(index out of range|invalid wire type|illegal )/.test(msg)) {
        return 'malformed';
    }
    if (e instanceof errors.SessionError || msg.startsWith('Tried to ') ||
        msg === 'Overwrite attempt' || msg === 'session required') {
        return 'state';                              // 'No sessions', 'Chain closed', 'Tried to encrypt on a receiving chain', ...
    }
    if (op === 'encrypt' && e instanceof TypeError) {
        return 'state';                              // encrypt with no sending chain: chain is undefined
    }
    return 'state';
}

// --- operations -----------------------------------------------------------------

function handshake() {
    return {
        protocol: 1,
        name: 'libsignal-node',
        version: `${LIBSIGNAL_VERSION} (${STORE_MODE} store)`,
        suites: [SUITE],
        operations: ['primitives', 'x3dh', 'session', 'prekey', 'x3dh_accept'],
        maxSkip: DECLARED_MAX_SKIP,
        maxStoredSkippedKeys: DECLARED_MAX_STORED,
        configurableLimits: false,
        injectedRandomness: true,
        clone: true,
    };
}

function kdfRk(req) {
    checkSuite(req);
    const rk = bytesN(req, 'rootKey', 32);
    const dh = bytesN(req, 'dhOutput', 32);
    // session_cipher.js calculateRatchet / session_builder.js calculateSendingRatchet
    const masterKey = lcrypto.deriveSecrets(dh, rk, Buffer.from('WhisperRatchet'), 2);
    return { rootKey: masterKey[0].toString('hex'), chainKey: masterKey[1].toString('hex') };
}

const KDF_CIPHER = new SessionCipher(new MemoryStorage(), new ProtocolAddress('kdf', 1));

function kdfCk(req) {
    checkSuite(req);
    const ck = bytesN(req, 'chainKey', 32);
    const chain = { messageKeys: {}, chainKey: { counter: -1, key: ck } };
    KDF_CIPHER.fillMessageKeys(chain, 0);   // one step: messageKeys[0] = HMAC(ck, 1), key = HMAC(ck, 2)
    return { chainKey: chain.chainKey.key.toString('hex'), messageKey: chain.messageKeys[0].toString('hex') };
}

function expandMessageKey(mk) {
    // session_cipher.js encrypt / doDecryptWhisperMessage
    return lcrypto.deriveSecrets(mk, Buffer.alloc(32), Buffer.from('WhisperMessageKeys'));
}

function messageKeys(req) {
    checkSuite(req);
    const keys = expandMessageKey(bytesN(req, 'messageKey', 32));
    // cipher key 32 || MAC key 32 || IV 16 (the library uses keys[2].slice(0, 16))
    return { keys: Buffer.concat([keys[0], keys[1], keys[2].slice(0, 16)]).toString('hex') };
}

function seal(req) {
    checkSuite(req);
    const mk = bytesN(req, 'messageKey', 32);
    const ratchetKey = publicKey(req, 'ratchetKey');
    const pn = u32(req, 'pn');
    const n = u32(req, 'n');
    const plaintext = hex('plaintext', req.plaintext);
    const ad = hex('ad', req.ad);
    // The steps of SessionCipher.encrypt after it has the message key, with the
    // MAC prefix given (encrypt writes our identity || their identity there).
    const keys = expandMessageKey(mk);
    const msg = protobufs.WhisperMessage.create();
    msg.ephemeralKey = ratchetKey;
    msg.counter = n;
    msg.previousCounter = Math.max(pn - 1, 0);
    msg.ciphertext = lcrypto.encrypt(keys[0], plaintext, keys[2].slice(0, 16));
    const msgBuf = protobufs.WhisperMessage.encode(msg).finish();
    const macInput = Buffer.concat([ad, Buffer.from([VERSION_BYTE]), msgBuf]);
    const mac = lcrypto.calculateMAC(keys[1], macInput);
    const result = Buffer.concat([Buffer.from([VERSION_BYTE]), msgBuf, mac.slice(0, 8)]);
    return { message: result.toString('hex') };
}

function deviceBundle(req) {
    const device = {
        identityKey: publicKey(req, 'peerIdentityKey'),
        registrationId: req.peerRegistrationId,
        signedPreKey: {
            keyId: req.peerSignedPrekeyId,
            publicKey: publicKey(req, 'peerSignedPrekey'),
            signature: hex('peerSignedPrekeySignature', req.peerSignedPrekeySignature),
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
    storage.identity = keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    const device = deviceBundle(Object.assign({ peerRegistrationId: 1, peerSignedPrekeyId: 1, peerOneTimePrekeyId: 1 }, req));
    activeKeys = new KeyQueue([bytesN(req, 'ephemeralPrivateKey', 32)]);
    const addr = newAddress('x3dh');
    const builder = new SessionBuilder(storage, addr);
    // initSession computes masterKey = deriveSecrets(0xFF*32 || DH1..DH4, 0, "WhisperText")
    // and sets currentRatchet.rootKey = masterKey[0], then calls calculateSendingRatchet,
    // which replaces the root key: read it at that call.
    let sk = null;
    const calculateSendingRatchet = builder.calculateSendingRatchet;
    builder.calculateSendingRatchet = function (session, remoteKey) {
        sk = Buffer.from(session.currentRatchet.rootKey);
        return calculateSendingRatchet.call(this, session, remoteKey);
    };
    await builder.initOutgoing(device);
    const record = await storage.loadSession(addr.toString());
    const session = record.getOpenSession();
    const ad = Buffer.concat([storage.identity.pubKey, session.indexInfo.remoteIdentityKey]);
    return { sharedKey: sk.toString('hex'), associatedData: ad.toString('hex') };
}

async function x3dhRespond(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    storage.signedPreKeys.set(1, keyPairFromPrivate(bytesN(req, 'signedPrekeyPrivateKey', 32)));
    const message = {
        identityKey: publicKey(req, 'peerIdentityKey'),
        baseKey: publicKey(req, 'peerEphemeralKey'),
        signedPreKeyId: 1,
        registrationId: 1,
    };
    if (req.oneTimePrekeyPrivateKey !== undefined) {
        storage.preKeys.set(1, keyPairFromPrivate(bytesN(req, 'oneTimePrekeyPrivateKey', 32)));
        message.preKeyId = 1;
    }
    activeKeys = new KeyQueue([]);
    const builder = new SessionBuilder(storage, newAddress('x3dh'));
    const record = new SessionRecord();
    await builder.initIncoming(record, message);
    const session = record.getSession(message.baseKey);
    // Bob's initSession sets rootKey = masterKey[0] and derives no chain.
    const ad = Buffer.concat([session.indexInfo.remoteIdentityKey, storage.identity.pubKey]);
    return { sharedKey: session.currentRatchet.rootKey.toString('hex'), associatedData: ad.toString('hex') };
}

async function initSession(req) {
    checkSuite(req);
    if (req.maxSkip !== undefined && req.maxSkip !== DECLARED_MAX_SKIP) {
        throw new Refused('unsupported', `libsignal-node's forward limit is fixed (MAX_SKIP ${MAX_SKIP}), asked for ${req.maxSkip}`);
    }
    if (req.maxStoredSkippedKeys !== undefined && req.maxStoredSkippedKeys !== DECLARED_MAX_STORED) {
        throw new Refused('unsupported', 'libsignal-node has no cap on stored skipped keys');
    }
    const sk = bytesN(req, 'sharedKey', 32);
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    const storage = new MemoryStorage();
    // The identity keys are not known yet: encrypt / decrypt set them from `ad`.
    storage.identity = { pubKey: Buffer.alloc(33), privKey: Buffer.alloc(32) };
    const addr = newAddress('s');
    const builder = new SessionBuilder(storage, addr);
    const now = Date.now();
    const session = SessionRecord.createEntry();
    session.registrationId = 0;
    activeKeys = keys;
    if (req.role === 'alice') {
        // initSession(true, ...) after the master key: ephemeralKeyPair = generateKeyPair(),
        // lastRemoteEphemeralKey = their signed prekey, then calculateSendingRatchet.
        const bobRatchet = publicKey(req, 'ratchetKey');
        const ephemeral = curve.generateKeyPair();
        session.currentRatchet = {
            rootKey: sk,
            ephemeralKeyPair: ephemeral,
            lastRemoteEphemeralKey: bobRatchet,
            previousCounter: 0,
        };
        session.indexInfo = {
            created: now, used: now, remoteIdentityKey: Buffer.alloc(33),
            baseKey: ephemeral.pubKey, baseKeyType: BaseKeyType.OURS, closed: -1,
        };
        builder.calculateSendingRatchet(session, bobRatchet);
    } else if (req.role === 'bob') {
        // initSession(false, ...): ephemeralKeyPair = our signed prekey, no chain.
        // lastRemoteEphemeralKey would be Alice's base key, which this API does not
        // have; it is only looked up as a chain id, and no chain has an empty id.
        const spk = keyPairFromPrivate(bytesN(req, 'ratchetKey', 32));
        session.currentRatchet = {
            rootKey: sk,
            ephemeralKeyPair: spk,
            lastRemoteEphemeralKey: Buffer.alloc(0),
            previousCounter: 0,
        };
        session.indexInfo = {
            created: now, used: now, remoteIdentityKey: Buffer.alloc(33),
            baseKey: spk.pubKey, baseKeyType: BaseKeyType.THEIRS, closed: -1,
        };
    } else {
        throw new Refused('state', `unknown role ${JSON.stringify(req.role)}`);
    }
    const record = new SessionRecord();
    record.setSession(session);
    await storage.storeSession(addr.toString(), record);
    return { session: addSession({ kind: 'init', role: req.role, storage, addr, keys }) };
}

async function prekeyInitiate(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
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
    await new SessionBuilder(storage, addr).initOutgoing(device);
    return { session: addSession({ kind: 'prekey', role: 'alice', storage, addr, keys }) };
}

async function prekeyRespond(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    storage.registrationId = u32(req, 'registrationId');
    storage.signedPreKeys.set(u32(req, 'signedPrekeyId'), keyPairFromPrivate(bytesN(req, 'signedPrekeyPrivateKey', 32)));
    if (req.oneTimePrekeyPrivateKey !== undefined) {
        storage.preKeys.set(u32(req, 'oneTimePrekeyId'), keyPairFromPrivate(bytesN(req, 'oneTimePrekeyPrivateKey', 32)));
    }
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    const message = hex('message', req.message);
    activeKeys = keys;
    const addr = newAddress('p');
    const plaintext = await new SessionCipher(storage, addr).decryptPreKeyWhisperMessage(message);
    if (keys.overdrawn) {
        console.error(`note: prekey_respond succeeded after drawing past the injected ratchet keys`);
    }
    return { session: addSession({ kind: 'prekey', role: 'bob', storage, addr, keys }), plaintext: plaintext.toString('hex') };
}

// x3dh_accept (docs/SHIM.md §4.5): one Bob -- one storage, one identity -- receives
// every initial message of the request, in order, through the library's own
// SessionCipher.decryptPreKeyWhisperMessage. The library keys session records by
// the sender's address and all these messages come from "the peer", so they all
// meet one SessionRecord: initIncoming returns early for a base key the record
// already holds ("This just means we haven't replied", session_builder.js:60-63)
// and the message is decrypted as that session's next one; a new base key closes
// the open session and adds a new one. The library stores the record and calls
// storage.removePreKey(preKeyId) only after the first message decrypted
// (session_cipher.js:207-211). The storage is NOT restored after a refusal --
// whether the library leaves it as it was is what the cases test; the shim only
// rewinds the injected ratchet keys (the library draws one before the MAC) and
// notes on stderr if the storage changed.
function prekeyEntries(req, field) {
    const list = req[field];
    if (!Array.isArray(list)) {
        throw new Refused('malformed', `${field} must be an array`);
    }
    return list.map((e, i) => [u32(e, 'id'), keyPairFromPrivate(bytesN(e, 'privateKey', 32))]);
}

async function x3dhAccept(req) {
    checkSuite(req);
    const storage = new MemoryStorage();
    storage.identity = keyPairFromPrivate(bytesN(req, 'identityPrivateKey', 32));
    storage.registrationId = 1;
    for (const [id, pair] of prekeyEntries(req, 'signedPrekeys')) {
        storage.signedPreKeys.set(id, pair);
    }
    for (const [id, pair] of prekeyEntries(req, 'oneTimePrekeys')) {
        storage.preKeys.set(id, pair);
    }
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    if (!Array.isArray(req.initialMessages)) {
        throw new Refused('malformed', 'initialMessages must be an array');
    }
    const messages = req.initialMessages.map((m, i) => hex(`initialMessages[${i}]`, m));
    const addr = new ProtocolAddress('peer', 1);
    const fingerprint = () => JSON.stringify([[...storage.preKeys.keys()], [...storage.signedPreKeys.keys()], storage.recordsJson()]);
    const outcomes = [];
    for (const [i, data] of messages.entries()) {
        const rewind = { next: keys.next, overdrawn: keys.overdrawn };
        const before = fingerprint();
        activeKeys = keys;
        let plaintext;
        try {
            plaintext = await new SessionCipher(storage, addr).decryptPreKeyWhisperMessage(data);
        } catch (e) {
            keys.next = rewind.next;
            keys.overdrawn = rewind.overdrawn;
            if (fingerprint() !== before) {
                console.error(`note: x3dh_accept message ${i} was refused (${(e && e.message) || e}) but the library changed the storage; left as the library left it`);
            }
            outcomes.push({ error: { class: classify(e, 'decrypt'), message: String((e && e.message) || e) } });
            continue;
        }
        if (keys.overdrawn) {
            console.error(`note: x3dh_accept message ${i} was accepted after drawing past the injected ratchet keys`);
        }
        // The session that decrypted it: the record's entry for the message's base key
        // (read with the library's own decoder, as decryptPreKeyWhisperMessage does).
        const baseKey = protobufs.PreKeyWhisperMessage.decode(data.slice(1)).baseKey;
        const session = (await storage.loadSession(addr.toString())).getSession(baseKey);
        const remote = session.indexInfo.remoteIdentityKey;
        // The MAC the library just checked covers remote || ours exactly as stored.
        const ad = Buffer.concat([remote, storage.identity.pubKey]);
        const bare = remote.length === 33 && remote[0] === 5 ? remote.slice(1) : remote;
        outcomes.push({ plaintext: plaintext.toString('hex'), associatedData: ad.toString('hex'), peerIdentityKey: Buffer.from(bare).toString('hex') });
    }
    return { outcomes };
}

// A session made by init_session learns its identity keys from `ad` (SIGNAL-V3 §7):
// Alice's own key is ad[0..33], Bob's own key ad[33..66], remote the other half.
async function applyAd(s, req) {
    if (s.kind !== 'init') {
        return;                      // prekey sessions know both identities
    }
    const ad = hex('ad', req.ad);
    if (ad.length !== 66 || ad[0] !== 5 || ad[33] !== 5) {
        throw new Refused('invalid_key', `ad must be Encode(IKa) || Encode(IKb), 66 bytes with 0x05 prefixes, got ${ad.length} bytes`);
    }
    const [own, remote] = s.role === 'alice' ? [ad.slice(0, 33), ad.slice(33)] : [ad.slice(33), ad.slice(0, 33)];
    s.storage.identity = { pubKey: Buffer.from(own), privKey: Buffer.alloc(32) };
    const record = await s.storage.loadSession(s.addr.toString());
    for (const entry of Object.values(record.sessions)) {
        entry.indexInfo.remoteIdentityKey = Buffer.from(remote);
    }
    await s.storage.storeSession(s.addr.toString(), record);
}

// Run one library call on a session. On failure the injected key list goes back to
// where it was (the library draws a ratchet key before the MAC; a vector lists keys
// for committed steps only). With the serializing store the stored record and
// prekeys are put back too, so a refused message changes nothing (the library never
// stores a record when a call fails; the shim notes it on stderr if it ever does).
// With the live store nothing else is put back: the record object the library
// changed before refusing IS the stored record, which is what that mode observes.
async function transactional(s, req, fn) {
    const addr = s.addr.toString();
    const snapshot = { next: s.keys.next, overdrawn: s.keys.overdrawn, records: new Map(s.storage.records), preKeys: new Map(s.storage.preKeys) };
    let beforeCall;
    try {
        await applyAd(s, req);
        beforeCall = s.storage.recordJson(addr);
        activeKeys = s.keys;
        return await fn();
    } catch (e) {
        s.keys.next = snapshot.next;
        s.keys.overdrawn = snapshot.overdrawn;
        const changed = beforeCall !== undefined && s.storage.recordJson(addr) !== beforeCall;
        if (LIVE_STORE) {
            if (changed) {
                console.error(`note: ${req.op} was refused (${(e && e.message) || e}) but the library changed the live record; kept`);
            }
        } else {
            if (changed) {
                console.error('note: the library stored a changed record during a call that failed; restored');
            }
            s.storage.records = snapshot.records;
            s.storage.preKeys = snapshot.preKeys;
        }
        throw e;
    }
}

async function encrypt(req) {
    const s = getSession(req.session);
    const plaintext = hex('plaintext', req.plaintext);
    return await transactional(s, req, async () => {
        const out = await new SessionCipher(s.storage, s.addr).encrypt(plaintext);
        const result = { message: out.body.toString('hex') };
        if (s.kind === 'prekey') {
            // SessionCipher.encrypt's type: 3 = PreKeyWhisperMessage, 1 = WhisperMessage
            result.messageType = out.type === 3 ? 'prekey' : 'whisper';
        } else if (out.type !== 1) {
            throw new Error(`init_session session produced message type ${out.type}`);
        }
        return result;
    });
}

// SessionCipher.decryptWhisperMessage tries every session of the record through
// doDecryptWhisperMessage and, when all fail, throws one SessionError("No matching
// sessions found for message"), logging the causes. The cipher below only watches
// those calls (it rethrows unchanged), so the refusal can be classified by its cause.
function watchedCipher(storage, addr, causes) {
    const cipher = new SessionCipher(storage, addr);
    cipher.doDecryptWhisperMessage = async function (...args) {
        try {
            return await SessionCipher.prototype.doDecryptWhisperMessage.apply(this, args);
        } catch (e) {
            causes.push(e);
            throw e;
        }
    };
    return cipher;
}

async function decrypt(req) {
    const s = getSession(req.session);
    const message = hex('message', req.message);
    const type = req.messageType === undefined ? 'whisper' : req.messageType;
    if (type !== 'whisper' && type !== 'prekey') {
        throw new Refused('unsupported', `unknown messageType ${JSON.stringify(type)}`);
    }
    return await transactional(s, req, async () => {
        const causes = [];
        const cipher = watchedCipher(s.storage, s.addr, causes);
        let plaintext;
        try {
            plaintext = type === 'prekey'
                ? await cipher.decryptPreKeyWhisperMessage(message)
                : await cipher.decryptWhisperMessage(message);
        } catch (e) {
            if (e instanceof errors.SessionError && e.message === 'No matching sessions found for message' && causes.length === 1) {
                const cause = causes[0];
                const r = new Refused(classify(cause, 'decrypt'), `${e.message}: ${cause.message || cause}`);
                throw r;
            }
            throw e;
        }
        if (s.keys.overdrawn) {
            console.error('note: a decryption succeeded after drawing past the injected ratchet keys');
        }
        return { plaintext: plaintext.toString('hex') };
    });
}

function cloneSession(req) {
    const s = getSession(req.session);
    const keys = new KeyQueue(privateKeys(req, 'ratchetPrivateKeys'));
    const storage = s.storage.copy();
    return { session: addSession({ kind: s.kind, role: s.role, storage, addr: s.addr, keys }) };
}

function reset() {
    sessions.clear();
    return {};
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
    reset,
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
            const cls = classify(e, req.op);
            if (!(e instanceof Refused)) {
                console.error(`${req.op} (id ${req.id}) refused by the library: ${e && e.stack ? e.stack : e}`);
            }
            response = { id: req.id, error: { class: cls, message: String((e && e.message) || e) } };
        }
        process.stdout.write(JSON.stringify(response) + '\n');
    }
}

main().then(() => process.exit(0), (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
