// Shared by shim.js, selftest.js and findings.js (ratchetproof shim for
// @signalapp/libsignal-client, suite signal-pqxdh-kyber1024).
//
// What lives here:
//   * protobuf schemas, written for this shim from the field numbers libsignal
//     documents (rust/protocol/src/proto/{storage,wire}.proto) and checked against
//     the library's own bytes in findings.js / selftest.js: SessionRecord
//     (RecordStructure / SessionStructure), Signed/Kyber prekey records, and the
//     wire messages (SignalMessage, PreKeySignalMessage);
//   * in-memory implementations of the library's store interfaces that log every
//     callback (so findings and the shim can say what the library asked for);
//   * builders for Bob's key records from bare injected bytes;
//   * independent primitives (node:crypto X25519, HKDF, HMAC) used only to CHECK
//     the library (findings.js, selftest.js, session_keys' consistency test), never
//     to produce a shim answer.
'use strict';

const nodeCrypto = require('crypto');
const protobuf = require('protobufjs');
const S = require('@signalapp/libsignal-client');

const KEM_TYPE_KYBER1024 = 0x08;
const DJB_TYPE = 0x05;

const PROTO = `
syntax = "proto2";
package rp;
message ChainKey { optional uint32 index = 1; optional bytes key = 2; }
message MessageKey {
  optional uint32 index = 1; optional bytes cipherKey = 2; optional bytes macKey = 3;
  optional bytes iv = 4; optional bytes seed = 5;
}
message Chain {
  optional bytes senderRatchetKey = 1;
  optional bytes senderRatchetKeyPrivate = 2;
  optional ChainKey chainKey = 3;
  repeated MessageKey messageKeys = 4;
}
message PendingPreKey {
  optional uint32 preKeyId = 1; optional bytes baseKey = 2;
  optional int32 signedPreKeyId = 3; optional uint64 timestamp = 4;
}
message PendingKyberPreKey { optional uint32 preKeyId = 1; optional bytes ciphertext = 2; }
message SessionStructure {
  optional uint32 sessionVersion = 1;
  optional bytes localIdentityPublic = 2;
  optional bytes remoteIdentityPublic = 3;
  optional bytes rootKey = 4;
  optional uint32 previousCounter = 5;
  optional Chain senderChain = 6;
  repeated Chain receiverChains = 7;
  optional PendingPreKey pendingPreKey = 9;
  optional uint32 remoteRegistrationId = 10;
  optional uint32 localRegistrationId = 11;
  optional bytes aliceBaseKey = 13;
  optional PendingKyberPreKey pendingKyberPreKey = 14;
  optional bytes pqRatchetState = 15;
}
message RecordStructure {
  optional SessionStructure currentSession = 1;
  repeated bytes previousSessions = 2;
}
message SignedPreKeyRecordStructure {
  optional uint32 id = 1; optional bytes publicKey = 2; optional bytes privateKey = 3;
  optional bytes signature = 4; optional fixed64 timestamp = 5;
}
message SignalMessage {
  optional bytes ratchetKey = 1; optional uint32 counter = 2; optional uint32 previousCounter = 3;
  optional bytes ciphertext = 4; optional bytes pqRatchet = 5;
}
message SignalMessageAddresses {
  optional bytes ratchetKey = 1; optional uint32 counter = 2; optional uint32 previousCounter = 3;
  optional bytes ciphertext = 4; optional bytes pqRatchet = 5; optional bytes addresses = 6;
}
message PreKeySignalMessage {
  optional uint32 preKeyId = 1; optional bytes baseKey = 2; optional bytes identityKey = 3;
  optional bytes message = 4; optional uint32 registrationId = 5; optional uint32 signedPreKeyId = 6;
  optional uint32 kyberPreKeyId = 7; optional bytes kyberCiphertext = 8;
}
`;
const root = protobuf.parse(PROTO, { keepCase: true }).root;
const T = {
    Record: root.lookupType('rp.RecordStructure'),
    Session: root.lookupType('rp.SessionStructure'),
    SignedPreKey: root.lookupType('rp.SignedPreKeyRecordStructure'),
    SignalMessage: root.lookupType('rp.SignalMessage'),
    PreKeySignalMessage: root.lookupType('rp.PreKeySignalMessage'),
    // SignalMessage with field 6 (addresses: sender ServiceId 17 ‖ device 1 ‖ recipient
    // ServiceId 17 ‖ device 1), written by the library only when both address names are
    // ServiceIds (FINDINGS.md g). T.SignalMessage leaves it out on purpose: re-encoding
    // through it drops field 6.
    SignalMessageAddresses: root.lookupType('rp.SignalMessageAddresses'),
};

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s) => Buffer.from(s, 'hex');
const u8 = (b) => new Uint8Array(Buffer.from(b)); // a fresh ArrayBuffer-backed copy

// --- independent primitives (checks only) -------------------------------------
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
function x25519(priv, pub) {
    return nodeCrypto.diffieHellman({
        privateKey: nodeCrypto.createPrivateKey({ key: Buffer.concat([X25519_PKCS8, priv]), format: 'der', type: 'pkcs8' }),
        publicKey: nodeCrypto.createPublicKey({ key: Buffer.concat([X25519_SPKI, pub]), format: 'der', type: 'spki' }),
    });
}
function x25519Public(priv) {
    const k = nodeCrypto.createPrivateKey({ key: Buffer.concat([X25519_PKCS8, priv]), format: 'der', type: 'pkcs8' });
    return nodeCrypto.createPublicKey(k).export({ format: 'der', type: 'spki' }).subarray(12);
}
function hkdf(ikm, salt, info, len) {
    return Buffer.from(nodeCrypto.hkdfSync('sha256', ikm, salt, Buffer.from(info), len));
}
function hmac(key, data) {
    return nodeCrypto.createHmac('sha256', key).update(data).digest();
}

// --- protobuf helpers ---------------------------------------------------------
function decodeRecord(bytes) {
    const rec = T.Record.decode(Buffer.from(bytes));
    return rec;
}
function b(x) {
    return x == null ? null : Buffer.from(x);
}

// The library's session record, as the shim reports it (session_keys).
function sessionKeys(recordBytes) {
    const rec = decodeRecord(recordBytes);
    const s = rec.currentSession;
    if (!s) throw new Error('the session record has no current session');
    const bare = (k) => {
        const kb = b(k);
        if (!kb || kb.length !== 33 || kb[0] !== DJB_TYPE) throw new Error(`unexpected key encoding ${kb ? hex(kb) : 'absent'}`);
        return hex(kb.subarray(1));
    };
    const out = {
        sessionVersion: s.sessionVersion,
        rootKey: hex(b(s.rootKey) || []),
        senderRatchetKey: s.senderChain && s.senderChain.senderRatchetKey ? bare(s.senderChain.senderRatchetKey) : '',
        senderChainKey: s.senderChain && s.senderChain.chainKey ? hex(b(s.senderChain.chainKey.key) || []) : '',
        senderChainIndex: s.senderChain && s.senderChain.chainKey ? (s.senderChain.chainKey.index || 0) : 0,
        receiverChains: (s.receiverChains || []).map((c) => ({
            ratchetKey: bare(c.senderRatchetKey),
            chainKey: hex(b(c.chainKey && c.chainKey.key) || []),
            index: (c.chainKey && c.chainKey.index) || 0,
        })),
        remoteIdentityKey: s.remoteIdentityPublic ? bare(s.remoteIdentityPublic) : '',
        localIdentityKey: s.localIdentityPublic ? bare(s.localIdentityPublic) : '',
        pqRatchetState: hex(b(s.pqRatchetState) || []),
    };
    return out;
}

// --- key builders from injected bare bytes -------------------------------------
function ecPrivate(bare32) {
    if (bare32.length !== 32) throw new RangeError(`EC private key must be 32 bytes, got ${bare32.length}`);
    return S.PrivateKey.deserialize(u8(bare32));
}
function ecPublic(bare32) {
    if (bare32.length !== 32) throw new RangeError(`EC public key must be 32 bytes, got ${bare32.length}`);
    return S.PublicKey.deserialize(u8(Buffer.concat([Buffer.from([DJB_TYPE]), bare32])));
}
function identityKeyPair(bare32) {
    const priv = ecPrivate(bare32);
    return new S.IdentityKeyPair(priv.getPublicKey(), priv);
}
// A KyberPreKeyRecord from bare Kyber1024 bytes. The Node API has no
// KEMKeyPair-from-parts (KEMKeyPair has only generate()), so the record is
// written in the library's own storage layout (SignedPreKeyRecordStructure with
// 0x08-prefixed keys, the layout KyberPreKeyRecord.new(...).serialize() produces,
// checked byte for byte in findings.js) and read back with
// KyberPreKeyRecord.deserialize, which makes the library parse both keys.
function kyberPreKeyRecord(id, bareKemPublic, bareKemSecret, signature, timestamp = 0) {
    if (bareKemPublic.length !== 1568) throw new RangeError(`Kyber1024 public key must be 1568 bytes, got ${bareKemPublic.length}`);
    if (bareKemSecret.length !== 3168) throw new RangeError(`Kyber1024 secret key must be 3168 bytes, got ${bareKemSecret.length}`);
    const bytes = T.SignedPreKey.encode({
        id,
        publicKey: Buffer.concat([Buffer.from([KEM_TYPE_KYBER1024]), bareKemPublic]),
        privateKey: Buffer.concat([Buffer.from([KEM_TYPE_KYBER1024]), bareKemSecret]),
        signature: Buffer.from(signature),
        timestamp,
    }).finish();
    const rec = S.KyberPreKeyRecord.deserialize(u8(bytes));
    // Make the library parse the keys now (deserialize may be lazy): a bad key is
    // then refused when the store is built, not in the middle of a decryption.
    rec.publicKey();
    rec.secretKey();
    return rec;
}

// --- in-memory stores (one object implements all six interfaces) --------------
class MemoryStore {
    constructor(identity, registrationId) {
        this.identity = identity; // IdentityKeyPair
        this.registrationId = registrationId;
        this.sessions = new Map(); // address string -> serialized record (Buffer)
        this.identities = new Map(); // address string -> serialized PublicKey
        this.preKeys = new Map(); // id -> PreKeyRecord
        this.signedPreKeys = new Map(); // id -> SignedPreKeyRecord
        this.kyberPreKeys = new Map(); // id -> {record, lastResort}
        this.log = []; // callbacks the library made
    }
    note(entry) {
        this.log.push(entry);
    }
    // IdentityKeyStore
    async getIdentityKey() {
        this.note('getIdentityKey');
        return this.identity.privateKey;
    }
    async getIdentityKeyPair() {
        return this.identity;
    }
    async getLocalRegistrationId() {
        this.note('getLocalRegistrationId');
        return this.registrationId;
    }
    async saveIdentity(name, key) {
        this.note(`saveIdentity(${name.toString()}, ${hex(key.serialize())})`);
        const prev = this.identities.get(name.toString());
        this.identities.set(name.toString(), Buffer.from(key.serialize()));
        return prev && !prev.equals(Buffer.from(key.serialize())) ? S.IdentityChange.ReplacedExisting : S.IdentityChange.NewOrUnchanged;
    }
    async isTrustedIdentity(name, key, direction) {
        this.note(`isTrustedIdentity(${name.toString()}, ${hex(key.serialize())}, ${direction})`);
        return true;
    }
    async getIdentity(name) {
        this.note(`getIdentity(${name.toString()})`);
        const k = this.identities.get(name.toString());
        return k ? S.PublicKey.deserialize(u8(k)) : null;
    }
    // SessionStore
    async saveSession(name, record) {
        this.note(`saveSession(${name.toString()})`);
        this.sessions.set(name.toString(), Buffer.from(record.serialize()));
    }
    async getSession(name) {
        this.note(`getSession(${name.toString()})`);
        const r = this.sessions.get(name.toString());
        return r ? S.SessionRecord.deserialize(u8(r)) : null;
    }
    async getExistingSessions(addresses) {
        return Promise.all(addresses.map((a) => this.getSession(a)));
    }
    // PreKeyStore
    async savePreKey(id, record) {
        this.preKeys.set(id, record);
    }
    async getPreKey(id) {
        this.note(`getPreKey(${id})`);
        const r = this.preKeys.get(id);
        if (!r) throw new Error(`no one-time prekey with id ${id}`);
        return r;
    }
    async removePreKey(id) {
        this.note(`removePreKey(${id})`);
        this.preKeys.delete(id);
    }
    // SignedPreKeyStore
    async saveSignedPreKey(id, record) {
        this.signedPreKeys.set(id, record);
    }
    async getSignedPreKey(id) {
        this.note(`getSignedPreKey(${id})`);
        const r = this.signedPreKeys.get(id);
        if (!r) throw new Error(`no signed prekey with id ${id}`);
        return r;
    }
    // KyberPreKeyStore
    async saveKyberPreKey(id, record, lastResort = false) {
        this.kyberPreKeys.set(id, { record, lastResort });
    }
    async getKyberPreKey(id) {
        this.note(`getKyberPreKey(${id})`);
        const r = this.kyberPreKeys.get(id);
        if (!r) throw new Error(`no Kyber prekey with id ${id}`);
        return r.record;
    }
    async markKyberPreKeyUsed(id, signedPreKeyId, baseKey) {
        this.note(`markKyberPreKeyUsed(${id}, ${signedPreKeyId}, ${hex(baseKey.serialize())})`);
        const r = this.kyberPreKeys.get(id);
        if (r && !r.lastResort) this.kyberPreKeys.delete(id);
    }
    // Snapshot / restore of everything the library can change (a refused message
    // must change nothing; the library itself writes only on success, but the
    // shim does not rely on that).
    snapshot() {
        return {
            sessions: new Map(this.sessions),
            identities: new Map(this.identities),
            preKeys: new Map(this.preKeys),
            signedPreKeys: new Map(this.signedPreKeys),
            kyberPreKeys: new Map(this.kyberPreKeys),
        };
    }
    restore(s) {
        this.sessions = s.sessions;
        this.identities = s.identities;
        this.preKeys = s.preKeys;
        this.signedPreKeys = s.signedPreKeys;
        this.kyberPreKeys = s.kyberPreKeys;
    }
}

module.exports = {
    S,
    T,
    KEM_TYPE_KYBER1024,
    DJB_TYPE,
    hex,
    unhex,
    u8,
    x25519,
    x25519Public,
    hkdf,
    hmac,
    decodeRecord,
    sessionKeys,
    ecPrivate,
    ecPublic,
    identityKeyPair,
    kyberPreKeyRecord,
    MemoryStore,
};
