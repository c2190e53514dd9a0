#!/usr/bin/env node
// ratchetproof shim (docs/SHIM.md, protocol 1) for the official Signal library,
// npm @signalapp/libsignal-client 0.103.0 (AGPL-3.0-only, installed by setup.sh,
// never vendored), suite `signal-pqxdh-kyber1024`: PQXDH with round-3 Kyber1024,
// Signal message version 4 (0x44) with the SPQR field.
//
// Every protocol step runs in the library (its native module); the shim converts
// bytes, builds key records from injected bare keys and keeps in-memory stores:
//
//   pqxdh_accept     signalDecryptPreKey for each initial message in turn, one Bob
//                    store per request (signed, one-time EC and Kyber prekeys injected)
//   prekey_initiate  PreKeyBundle.new + processPreKeyBundle (Alice)
//   prekey_respond   signalDecryptPreKey with a one-message store (Bob)
//   encrypt          signalEncrypt
//   decrypt          signalDecrypt / signalDecryptPreKey
//   session_keys     SessionRecord.serialize() of the session, decoded (common.js):
//                    the library's own root key, chain keys and ratchet keys
//
// What cannot be injected: the Node API takes no randomness source, so Alice's base
// key (ephemeralPrivateKey), every ratchet key (ratchetPrivateKeys) and the KEM
// encapsulation randomness are the library's own. Those request fields are accepted
// and ignored (README.md); the handshake says `injectedRandomness: false`, and
// prekey_initiate answers the base key the library actually used.
//
// Refusals: the library throws LibSignalErrorBase; a refused initial or whisper
// message is always "... decryption failed" and the inner reason is only in the
// library's log, so the shim installs the library's logger (initLogger) and reads
// the reason the library logged for the failed call (README.md, "Error classes").
'use strict';

const readline = require('readline');
const C = require('./common');
const { S, hex: toHex, u8 } = C;

const SUITE = 'signal-pqxdh-kyber1024';
const LIB_VERSION = require('@signalapp/libsignal-client/package.json').version;
const PEER = S.ProtocolAddress.new('peer', 1);
const SELF = S.ProtocolAddress.new('self', 1);

// The library's log, kept only to classify refusals (stderr gets warnings and errors).
const libLog = [];
S.initLogger(S.LogLevel.Info, (level, target, file, line, message) => {
    libLog.push(message);
    if (libLog.length > 200) libLog.splice(0, libLog.length - 100);
    if (level <= S.LogLevel.Warn) console.error(`[libsignal ${target}] ${message}`);
});

class Refused extends Error {
    constructor(cls, message) {
        super(message);
        this.cls = cls;
    }
}

// --- request fields --------------------------------------------------------------

function hexField(field, value) {
    if (typeof value !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(value)) {
        throw new Refused('malformed', `${field} is not a hex string`);
    }
    return Buffer.from(value, 'hex');
}
function bytesN(obj, field, n, where = field) {
    const b = hexField(where, obj[field]);
    if (b.length !== n) throw new Refused('invalid_key', `${where} must be ${n} bytes, got ${b.length}`);
    return b;
}
function u32(obj, field, where = field) {
    const v = obj[field];
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Refused('malformed', `${where} must be a u32`);
    return v;
}
function list(obj, field) {
    const l = obj[field];
    if (l === undefined) return [];
    if (!Array.isArray(l)) throw new Refused('malformed', `${field} must be an array`);
    return l;
}
function checkSuite(req) {
    if (req.suite !== SUITE) throw new Refused('unsupported', `unknown suite ${JSON.stringify(req.suite)}`);
}

// --- stores ----------------------------------------------------------------------

// The library decides when a Kyber prekey is used (markKyberPreKeyUsed, called only
// after the first message decrypted); the store decides what that means: a one-time
// Kyber prekey is deleted, a last-resort one is kept, and the (kyber id, signed
// prekey id, base key) triple it was used with is remembered so that the same
// initial message cannot build a second session once the first is gone
// (FINDINGS.md a, e).
class ShimStore extends C.MemoryStore {
    constructor(identity, registrationId) {
        super(identity, registrationId);
        this.lastResortUses = new Set();
    }
    note() {} // the callback log is for findings.js; a long session would only grow it
    async markKyberPreKeyUsed(id, signedPreKeyId, baseKey) {
        const r = this.kyberPreKeys.get(id);
        if (r && r.lastResort) {
            const use = `${id}/${signedPreKeyId}/${toHex(baseKey.serialize())}`;
            if (this.lastResortUses.has(use)) {
                throw new Error(`last-resort Kyber prekey ${id} was already used with signed prekey ${signedPreKeyId} and this base key`);
            }
            this.lastResortUses.add(use);
        } else if (r) {
            this.kyberPreKeys.delete(id);
        }
    }
    snapshot() {
        return { ...super.snapshot(), lastResortUses: new Set(this.lastResortUses) };
    }
    restore(s) {
        super.restore(s);
        this.lastResortUses = s.lastResortUses;
    }
}

function bobStore(req) {
    const ikp = C.identityKeyPair(bytesN(req, 'identityPrivateKey', 32));
    const store = new ShimStore(ikp, req.registrationId === undefined ? 1 : u32(req, 'registrationId'));
    return { store, ikp };
}
function addSignedPrekey(store, ikp, id, priv) {
    const k = C.ecPrivate(priv);
    const pub = k.getPublicKey();
    store.saveSignedPreKey(id, S.SignedPreKeyRecord.new(id, 0, pub, k, ikp.privateKey.sign(pub.serialize())));
}
function addOneTimePrekey(store, id, priv) {
    const k = C.ecPrivate(priv);
    store.savePreKey(id, S.PreKeyRecord.new(id, k.getPublicKey(), k));
}
function addKemPrekey(store, ikp, id, pub, priv, lastResort, where) {
    let rec;
    try {
        const sig = ikp.privateKey.sign(u8(Buffer.concat([Buffer.from([C.KEM_TYPE_KYBER1024]), pub])));
        rec = C.kyberPreKeyRecord(id, pub, priv, sig);
    } catch (e) {
        throw new Refused('invalid_key', `${where}: the library refused the Kyber1024 key pair: ${e.message}`);
    }
    store.saveKyberPreKey(id, rec, lastResort);
}

// --- error classes -----------------------------------------------------------------

// The reason the library logged for the last failed decryption (session_management:
// "Candidate session N failed with '<reason>', had M receiver chains").
function loggedReason(since) {
    for (let i = libLog.length - 1; i >= since && i >= 0; i--) {
        const m = /Candidate session \d+ failed with '(.*?)', had \d+ receiver chains/s.exec(libLog[i]);
        if (m) return m[1];
    }
    return null;
}

// Map a library error onto a harness class (table in README.md). `reason` is the
// logged inner reason of a generic "decryption failed", if any.
function classify(e, reason) {
    if (e instanceof Refused) return e.cls;
    const msg = String((e && e.message) || e);
    if (e && e.code === S.ErrorCode.DuplicatedMessage) return 'duplicate';
    if (e && e.code === S.ErrorCode.UntrustedIdentity) return 'authentication';
    if (e && e.code === S.ErrorCode.InvalidSession) return 'state';
    const inner = reason || msg;
    // Forward limits: libsignal's own (25 000 on the DR chain) and SPQR's key jump
    // (25 000 on its chain, whose index is one ahead), FINDINGS.md h.
    if (/message from too far into the future|post-quantum ratchet error: Key jump/.test(inner)) return 'too_many_skipped';
    if (/MAC verification failed/.test(inner)) return 'authentication';
    if (/post-quantum ratchet error: (Minimum version|Version mismatch)/.test(inner)) return 'unsupported';
    if (/post-quantum ratchet error/.test(inner)) return 'malformed';
    if (/invalid signature detected/.test(msg)) return 'authentication';
    if (/X3DH no longer supported|ciphertext version was (unrecognized|too old)|unrecognized message version/.test(msg)) return 'unsupported';
    if (/'markKyberPreKeyUsed'.*already used/.test(msg)) return 'duplicate';
    if (/'load(Kyber)?(Signed)?PreKey'|invalid (Kyber |signed )?prekey identifier/i.test(msg)) return 'invalid_key';
    if (/bad KEM key type|bad KEM key length|bad key type|bad key length|no key type identifier|invalid key agreement/.test(msg)) return 'invalid_key';
    if (/bad KEM ciphertext length/.test(msg)) return 'malformed';
    if (/serialized bytes were too short|protobuf encoding was invalid|invalid (PreKey|Whisper|Signal) message|Both or neither kyber/.test(msg)) {
        // "invalid PreKey message: decryption failed" without a logged reason: every
        // candidate session failed; the library only logs why. Authentication is the
        // common case (a MAC that does not verify).
        if (/decryption failed/.test(msg)) return 'authentication';
        return 'malformed';
    }
    if (/session .*not found|no session/i.test(msg)) return 'state';
    return 'state';
}

function errorOf(e, since) {
    const reason = loggedReason(since);
    const msg = String((e && e.message) || e);
    return { class: classify(e, reason), message: reason && !msg.includes(reason) ? `${msg} (library log: ${reason})` : msg };
}

// Run fn on the store; a refusal restores everything the store held before (the
// library writes the session only on success, but saves the peer identity before
// markKyberPreKeyUsed, FINDINGS.md a).
async function transactional(store, fn) {
    const snap = store.snapshot();
    const since = libLog.length;
    try {
        return await fn();
    } catch (e) {
        store.restore(snap);
        e.since = since;
        throw e;
    }
}

// The addresses Bob decrypts an initial message with. The library writes field 6 of
// the embedded SignalMessage (sender ServiceId ‖ device ‖ recipient ServiceId ‖
// device) when both address names are ServiceIds, and the receiver then requires its
// own addresses to match (FINDINGS.md g). A shim cannot know the peers' ServiceIds
// otherwise, so when field 6 is present and parses, Bob uses the addresses it names,
// as the application that received the message over its transport would; without it
// (or if it does not parse) the plain names 'peer' / 'self', for which the library
// writes and expects no field 6.
function addressesOf(initialMessage) {
    try {
        const pk = C.T.PreKeySignalMessage.decode(initialMessage.subarray(1));
        const inner = Buffer.from(pk.message);
        const sm = C.T.SignalMessageAddresses.decode(inner.subarray(1, inner.length - 8));
        if (!Object.prototype.hasOwnProperty.call(sm, 'addresses') || sm.addresses.length !== 36) return { peer: PEER, self: SELF };
        const a = Buffer.from(sm.addresses);
        const sender = S.ServiceId.parseFromServiceIdFixedWidthBinary(u8(a.subarray(0, 17)));
        const recipient = S.ServiceId.parseFromServiceIdFixedWidthBinary(u8(a.subarray(18, 35)));
        return { peer: S.ProtocolAddress.new(sender, a[17]), self: S.ProtocolAddress.new(recipient, a[35]) };
    } catch (e) {
        return { peer: PEER, self: SELF };
    }
}

function currentSession(store, addr) {
    const rec = store.sessions.get(addr.toString());
    if (!rec) throw new Refused('state', 'the library stored no session');
    const s = C.decodeRecord(rec).currentSession;
    if (!s) throw new Refused('state', 'the session record has no current session');
    return s;
}

// --- sessions ---------------------------------------------------------------------

const sessions = new Map();
let nextHandle = 1;
function addSession(s) {
    const h = nextHandle++;
    sessions.set(h, s);
    return h;
}
function getSession(req) {
    const s = sessions.get(req.session);
    if (!s) throw new Refused('state', `unknown session ${JSON.stringify(req.session)}`);
    return s;
}

// --- operations -------------------------------------------------------------------

function handshake() {
    return {
        protocol: 1,
        name: 'libsignal-client',
        version: LIB_VERSION,
        suites: [SUITE],
        operations: ['pqxdh_accept', 'prekey', 'inspect'],
        maxSkip: null,
        maxStoredSkippedKeys: null,
        configurableLimits: false,
        injectedRandomness: false,
        clone: false,
        // Every message key is salted by SPQR (FINDINGS.md d): cases decided by
        // decrypting a classical PQXDH-suite message are skipped (SHIM.md §3).
        spqr: true,
    };
}

// pqxdh_accept: one Bob, one store, every initial message in order (SHIM.md §4.5
// with a Kyber prekey list). ratchetPrivateKeys are ignored (no RNG hook).
async function pqxdhAccept(req) {
    checkSuite(req);
    const { store, ikp } = bobStore(req);
    for (const [i, e] of list(req, 'signedPrekeys').entries()) {
        addSignedPrekey(store, ikp, u32(e, 'id', `signedPrekeys[${i}].id`), bytesN(e, 'privateKey', 32, `signedPrekeys[${i}].privateKey`));
    }
    for (const [i, e] of list(req, 'oneTimePrekeys').entries()) {
        addOneTimePrekey(store, u32(e, 'id', `oneTimePrekeys[${i}].id`), bytesN(e, 'privateKey', 32, `oneTimePrekeys[${i}].privateKey`));
    }
    for (const [i, e] of list(req, 'kemPrekeys').entries()) {
        const where = `kemPrekeys[${i}]`;
        if (e.lastResort !== undefined && typeof e.lastResort !== 'boolean') throw new Refused('malformed', `${where}.lastResort must be a boolean`);
        addKemPrekey(store, ikp, u32(e, 'id', `${where}.id`), bytesN(e, 'publicKey', 1568, `${where}.publicKey`),
            bytesN(e, 'privateKey', 3168, `${where}.privateKey`), e.lastResort === true, where);
    }
    const messages = list(req, 'initialMessages').map((m, i) => hexField(`initialMessages[${i}]`, m));
    const outcomes = [];
    for (const data of messages) {
        const since = libLog.length;
        try {
            const addr = addressesOf(data);
            const plaintext = await transactional(store, async () => {
                const msg = S.PreKeySignalMessage.deserialize(u8(data));
                return Buffer.from(await S.signalDecryptPreKey(msg, addr.peer, addr.self, store, store, store, store, store));
            });
            // The session that decrypted it is the record's current one (the library
            // promotes the matching session); its identities are the library's own.
            const s = currentSession(store, addr.peer);
            const remote = Buffer.from(s.remoteIdentityPublic);
            const local = Buffer.from(s.localIdentityPublic);
            outcomes.push({
                plaintext: plaintext.toString('hex'),
                associatedData: Buffer.concat([remote, local]).toString('hex'),
                peerIdentityKey: remote.subarray(1).toString('hex'),
            });
        } catch (e) {
            outcomes.push({ error: errorOf(e, since) });
        }
    }
    return { outcomes };
}

// peerKemPrekey: the runner sends EncodeKEM(PQPKb) = type byte ‖ key (1 569 bytes, the
// bytes the signature covers; main's requests.rs); a bare 1 568-byte key is taken as
// Kyber1024 and given the 0x08 type byte. An encoded key goes to the library as it is,
// so another type byte (0x0A, ML-KEM-1024) is refused by the library itself.
function encodedKemPublic(req, field) {
    const b = hexField(field, req[field]);
    if (b.length === 1569) return b;
    if (b.length === 1568) return Buffer.concat([Buffer.from([C.KEM_TYPE_KYBER1024]), b]);
    throw new Refused('invalid_key', `${field} must be 1569 bytes (type byte ‖ Kyber1024 key) or 1568 (bare), got ${b.length}`);
}

async function prekeyInitiate(req) {
    checkSuite(req);
    const ikp = C.identityKeyPair(bytesN(req, 'identityPrivateKey', 32));
    const store = new ShimStore(ikp, u32(req, 'registrationId'));
    const hasOpk = req.peerOneTimePrekey !== undefined;
    let bundle;
    try {
        bundle = S.PreKeyBundle.new(
            u32(req, 'peerRegistrationId'), 1,
            hasOpk ? u32(req, 'peerOneTimePrekeyId') : null,
            hasOpk ? C.ecPublic(bytesN(req, 'peerOneTimePrekey', 32)) : null,
            u32(req, 'peerSignedPrekeyId'), C.ecPublic(bytesN(req, 'peerSignedPrekey', 32)),
            u8(hexField('peerSignedPrekeySignature', req.peerSignedPrekeySignature)),
            C.ecPublic(bytesN(req, 'peerIdentityKey', 32)),
            u32(req, 'peerKemPrekeyId'),
            S.KEMPublicKey.deserialize(u8(encodedKemPublic(req, 'peerKemPrekey'))),
            u8(hexField('peerKemPrekeySignature', req.peerKemPrekeySignature)));
    } catch (e) {
        if (e instanceof Refused) throw e;
        throw new Refused('invalid_key', `the library refused the bundle: ${e.message}`);
    }
    await S.processPreKeyBundle(bundle, PEER, SELF, store, store);
    const s = currentSession(store, PEER);
    const baseKey = s.pendingPreKey && s.pendingPreKey.baseKey ? Buffer.from(s.pendingPreKey.baseKey).subarray(1).toString('hex') : '';
    return { session: addSession({ role: 'alice', store, peer: PEER, self: SELF }), baseKey };
}

async function prekeyRespond(req) {
    checkSuite(req);
    const { store, ikp } = bobStore(req);
    addSignedPrekey(store, ikp, u32(req, 'signedPrekeyId'), bytesN(req, 'signedPrekeyPrivateKey', 32));
    if (req.oneTimePrekeyPrivateKey !== undefined) {
        addOneTimePrekey(store, u32(req, 'oneTimePrekeyId'), bytesN(req, 'oneTimePrekeyPrivateKey', 32));
    }
    addKemPrekey(store, ikp, u32(req, 'kemPrekeyId'), bytesN(req, 'kemPrekeyPublicKey', 1568), bytesN(req, 'kemPrekeyPrivateKey', 3168),
        req.kemPrekeyLastResort === true, 'kemPrekey');
    const data = hexField('message', req.message);
    const addr = addressesOf(data);
    const plaintext = await transactional(store, async () => {
        const msg = S.PreKeySignalMessage.deserialize(u8(data));
        return Buffer.from(await S.signalDecryptPreKey(msg, addr.peer, addr.self, store, store, store, store, store));
    });
    return { session: addSession({ role: 'bob', store, peer: addr.peer, self: addr.self }), plaintext: plaintext.toString('hex') };
}

async function encrypt(req) {
    const s = getSession(req);
    const plaintext = hexField('plaintext', req.plaintext);
    return transactional(s.store, async () => {
        const c = await S.signalEncrypt(u8(plaintext), s.peer, s.self, s.store, s.store);
        const t = c.type();
        const messageType = t === S.CiphertextMessageType.PreKey ? 'prekey' : t === S.CiphertextMessageType.Whisper ? 'whisper' : null;
        if (!messageType) throw new Error(`signalEncrypt produced message type ${t}`);
        return { message: Buffer.from(c.serialize()).toString('hex'), messageType };
    });
}

async function decrypt(req) {
    const s = getSession(req);
    const data = hexField('message', req.message);
    const type = req.messageType === undefined ? 'whisper' : req.messageType;
    if (type !== 'whisper' && type !== 'prekey') throw new Refused('unsupported', `unknown messageType ${JSON.stringify(type)}`);
    return transactional(s.store, async () => {
        const pt = type === 'prekey'
            ? await S.signalDecryptPreKey(S.PreKeySignalMessage.deserialize(u8(data)), s.peer, s.self, s.store, s.store, s.store, s.store, s.store)
            : await S.signalDecrypt(S.SignalMessage.deserialize(u8(data)), s.peer, s.self, s.store, s.store);
        return { plaintext: Buffer.from(pt).toString('hex') };
    });
}

// session_keys (group `inspect`): the library's serialized SessionRecord, decoded.
// senderChainIndex / index are the library's stored chain-key index: the number of
// the next message key that chain will derive.
function sessionKeys(req) {
    const s = getSession(req);
    const rec = s.store.sessions.get(s.peer.toString());
    if (!rec) throw new Refused('state', 'the session has no stored record');
    const k = C.sessionKeys(rec);
    return {
        rootKey: k.rootKey,
        senderRatchetKey: k.senderRatchetKey,
        senderChainKey: k.senderChainKey,
        senderChainIndex: k.senderChainIndex,
        receiverChains: k.receiverChains,
        remoteIdentityKey: k.remoteIdentityKey,
        pqRatchetState: k.pqRatchetState,
    };
}

function reset() {
    sessions.clear();
    return {};
}

const OPS = {
    pqxdh_accept: pqxdhAccept,
    prekey_initiate: prekeyInitiate,
    prekey_respond: prekeyRespond,
    encrypt,
    decrypt,
    session_keys: sessionKeys,
    reset,
};

async function handle(req) {
    if (req.op === 'handshake') {
        if (req.protocol !== undefined && req.protocol !== 1) throw new Refused('unsupported', `protocol ${req.protocol}`);
        return handshake();
    }
    const fn = OPS[req.op];
    if (!fn) throw new Refused('unsupported', `unknown op ${JSON.stringify(req.op)}`);
    return await fn(req);
}

async function main() {
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    for await (const line of rl) {
        if (line.trim() === '') continue;
        let req;
        try {
            req = JSON.parse(line);
        } catch (e) {
            console.error(`unparseable request: ${line.slice(0, 200)}`);
            continue;
        }
        let response;
        const since = libLog.length;
        try {
            response = { id: req.id, result: await handle(req) };
        } catch (e) {
            const err = errorOf(e, e && e.since !== undefined ? e.since : since);
            if (!(e instanceof Refused)) console.error(`${req.op} (id ${req.id}) refused by the library: ${e && e.stack ? e.stack : e}`);
            response = { id: req.id, error: err };
        }
        process.stdout.write(JSON.stringify(response) + '\n');
    }
}

module.exports = { handle, classify, ShimStore, SUITE };
if (require.main === module) {
    main().then(() => process.exit(0), (e) => {
        console.error(e && e.stack ? e.stack : e);
        process.exit(1);
    });
}
