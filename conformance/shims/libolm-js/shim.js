#!/usr/bin/env node
// ratchetproof shim (docs/SHIM.md, protocol 1) for the npm package
// `@matrix-org/olm` 3.2.15 — libolm 3.2.15 compiled to WebAssembly — suite
// `olm-v1` (docs/OLM-V1.md), operations as /work/wt/OLM-CONTRACT.md fixes them
// (prekey_initiate, prekey_respond, encrypt, decrypt, clone_session).
//
// The point is to test libolm, so every cryptographic step runs in libolm's own
// code; the shim converts hex to what libolm takes and back:
//
//   prekey_initiate  Account.create (identity key injected) + Session.create_outbound
//   prekey_respond   Account.create + Account.generate_one_time_keys(1) (both injected)
//                    + olm_create_inbound_session (Session.create_inbound's C call) + the first decrypt
//   encrypt          olm_encrypt            (the C call Session.encrypt makes; see below)
//   decrypt          olm_decrypt            (the C call Session.decrypt makes); a pre-key
//                    message on an existing session must pass olm_matches_inbound_session first
//                    (Session.matches_inbound's C call)
//   clone_session    Session.pickle / Session.unpickle (libolm's storage format)
//
// Plaintexts are bytes. The JS binding's Session.encrypt/decrypt take and return
// JS strings (UTF-8, and decrypt stops at the first NUL byte), so they cannot carry
// every byte string the vectors use. For those two operations the shim makes the
// same C calls the binding makes (same functions, same order, same buffer
// handling), with bytes instead of strings; so it does for create_inbound and
// matches_inbound, whose binding copies the message onto the module's small stack
// (README, finding B1). Everything else goes through the binding's classes. The selftest checks that both routes give identical messages
// and plaintexts where a string can carry the bytes.
//
// Injected randomness: libolm asks for randomness through node's
// require("crypto").randomBytes at call time (the binding's `g`); the shim replaces
// that function with one serving a queue, as the contract says: Account.create 64
// bytes = Ed25519 seed (fixed: 32 zero bytes) || Curve25519 identity private key;
// generate_one_time_keys(1) 32 = the one-time private key; create_outbound 64 =
// base key || first ratchet key T0; encrypt 32 only when it starts a sending chain
// (the session's next injected key). A call that fails gives its draws back.
'use strict';

const crypto = require('crypto');
const readline = require('readline');

// stdout carries protocol responses only; anything the library prints goes to stderr.
for (const name of ['log', 'info', 'debug', 'warn']) {
    console[name] = (...args) => console.error(...args);
}

const Olm = require('@matrix-org/olm');
const OLM_PACKAGE_VERSION = require('@matrix-org/olm/package.json').version;

const SUITE = 'olm-v1';
const ED25519_SEED = Buffer.alloc(32);      // any fixed bytes: Olm never uses the signing key
const PICKLE_KEY = 'ratchetproof clone';    // clone_session's pickle passphrase (never leaves the process)
const KEY_LENGTH = 32;

class Refused extends Error {
    constructor(cls, message) {
        super(message);
        this.cls = cls;
    }
}

// --- injected randomness ---------------------------------------------------------

// A list of injected byte strings served in order. `next` is the position; a failed
// call restores it.
class DrawQueue {
    constructor(entries, what) {
        this.entries = entries;
        this.what = what;
        this.next = 0;
    }

    take(n) {
        if (this.next >= this.entries.length) {
            throw new Refused('state', `libolm asked for ${n} random bytes and the injected ${this.what} are used up (${this.entries.length} given)`);
        }
        const entry = this.entries[this.next];
        if (entry.length !== n) {
            throw new Refused('state', `libolm asked for ${n} random bytes; the next injected ${this.what} entry has ${entry.length}`);
        }
        this.next++;
        return Buffer.from(entry);
    }
}

// The queue libolm draws from during the current library call, or null (a draw
// outside a call is a shim bug and refused).
let activeQueue = null;

crypto.randomBytes = function injectedRandomBytes(n, callback) {
    if (typeof callback === 'function') {
        throw new Refused('state', 'asynchronous randomBytes is not injected');
    }
    if (n === 0) {
        return Buffer.alloc(0);          // the binding asks for 0 bytes when none are needed
    }
    if (activeQueue === null) {
        throw new Refused('state', `libolm asked for ${n} random bytes outside an operation`);
    }
    return activeQueue.take(n);
};

// Runs fn with `queue` as the randomness source; on failure the queue is rewound.
// With `exact`, every entry must be drawn (the contract's draw counts are exact).
function withDraws(queue, fn, { exact = false } = {}) {
    const start = queue.next;
    activeQueue = queue;
    try {
        const out = fn();
        if (exact && queue.next !== queue.entries.length) {
            throw new Refused('state', `libolm drew ${queue.next - start} of the ${queue.entries.length} injected ${queue.what}`);
        }
        return out;
    } catch (e) {
        queue.next = start;
        throw e;
    } finally {
        activeQueue = null;
    }
}

// --- bytes ----------------------------------------------------------------------

function hex(name, value) {
    if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) {
        throw new Refused('malformed', `${name} must be a hex string`);
    }
    return Buffer.from(value, 'hex');
}

function key(name, value) {
    const b = hex(name, value);
    if (b.length !== KEY_LENGTH) {
        throw new Refused('invalid_key', `${name} must be ${KEY_LENGTH} bytes, got ${b.length}`);
    }
    return b;
}

// A public key for the binding's create_outbound, which copies it onto the module's
// stack (finding B1): libolm refuses every length but 32 bytes itself (INVALID_BASE64),
// so the shim refuses only what could overflow that stack, with the same class.
function publicKey(name, value) {
    const b = hex(name, value);
    if (b.length > 1024) {
        throw new Refused('invalid_key', `${name} must be 32 bytes, got ${b.length} (not passed to the binding)`);
    }
    return b;
}

function privateKeys(req, name) {
    const list = req[name];
    if (!Array.isArray(list)) {
        throw new Refused('malformed', `${name} must be an array of hex strings`);
    }
    return list.map((k, i) => key(`${name}[${i}]`, k));
}

// libolm's base64: the standard alphabet without padding.
const b64 = (buf) => Buffer.from(buf).toString('base64').replace(/=+$/, '');
const unb64 = (s) => Buffer.from(s, 'base64');

function checkSuite(req) {
    if (req.suite !== undefined && req.suite !== SUITE) {
        throw new Refused('unsupported', `suite ${JSON.stringify(req.suite)} (this shim implements ${SUITE})`);
    }
}

// Olm's MAC covers the message alone: there is nothing to bind associated data to.
function checkAd(req) {
    if (req.ad !== undefined && req.ad !== '') {
        throw new Refused('unsupported', 'Olm has no associated data; ad must be ""');
    }
}

// --- libolm errors ----------------------------------------------------------------

// The binding throws Error("OLM.<code>"); the raw calls below throw the same.
// `context` says what was being read when INVALID_BASE64 came back.
const OLM_CLASSES = {
    BAD_MESSAGE_MAC: 'authentication',
    BAD_SIGNATURE: 'authentication',
    BAD_MESSAGE_VERSION: 'unsupported',
    BAD_MESSAGE_FORMAT: 'malformed',
    INPUT_BUFFER_TOO_SMALL: 'malformed',
    BAD_MESSAGE_KEY_ID: 'invalid_key',
    BAD_ACCOUNT_KEY: 'invalid_key',
    NOT_ENOUGH_RANDOM: 'state',
    OUTPUT_BUFFER_TOO_SMALL: 'state',
    UNKNOWN_PICKLE_VERSION: 'state',
    CORRUPTED_PICKLE: 'state',
    PICKLE_EXTRA_DATA: 'state',
};

function olmCode(e) {
    const m = /^OLM\.([A-Z0-9_]+)$/.exec((e && e.message) || '');
    return m ? m[1] : null;
}

function classify(e, context) {
    if (e instanceof Refused) {
        return e.cls;
    }
    const code = olmCode(e);
    if (code === 'INVALID_BASE64') {
        // The shim writes valid base64 of whatever bytes it got; libolm reports a
        // decoded length it does not accept this way (a key not 32 bytes long).
        return context === 'key' ? 'invalid_key' : 'malformed';
    }
    if (code !== null) {
        return OLM_CLASSES[code] || 'state';
    }
    return 'state';
}

// libolm itself failing (a WebAssembly trap) is not a refusal: the shim exits without
// answering, so the runner records a fault rather than a verdict.
function isLibraryCrash(e) {
    return e instanceof WebAssembly.RuntimeError || (e && /^Aborted\(/.test(String(e.message || '')));
}

// --- raw session calls (bytes in, bytes out) ---------------------------------------

let M = null;    // the Emscripten module behind the binding (its C exports and heap)

function lastSessionError(ptr) {
    return new Error('OLM.' + M.UTF8ToString(M._olm_session_last_error(ptr)));
}

function sessionPtr(session) {
    const ptr = session.$b;
    if (typeof ptr !== 'number' || ptr === 0) {
        throw new Refused('state', 'no libolm session behind this handle');
    }
    return ptr;
}

// libolm's AES-CBC decryption works in whole 16-byte blocks whatever the ciphertext's
// length (README, finding L8): it reads and writes up to 15 bytes past the buffers it
// is given. Every buffer the shim hands it has that much zeroed slack, so those
// accesses stay inside the shim's own allocations.
const SLACK = 16;

function heapCopy(buf) {
    const ptr = M._malloc(buf.length + SLACK);
    M.HEAPU8.fill(0, ptr, ptr + buf.length + SLACK);
    M.HEAPU8.set(buf, ptr);
    return ptr;
}

function heapWipeFree(ptr, length) {
    if (ptr) {
        M.HEAPU8.fill(0, ptr, ptr + length);
        M._free(ptr);
    }
}

// Session.encrypt with a byte plaintext: olm_encrypt_random_length, olm_encrypt_message_type,
// olm_encrypt_message_length, the random bytes from crypto.randomBytes, olm_encrypt.
function rawEncrypt(session, plaintext) {
    const ptr = sessionPtr(session);
    const err = M._olm_error();
    const randomLength = M._olm_encrypt_random_length(ptr);
    const type = M._olm_encrypt_message_type(ptr);
    if (randomLength === err || type === err) {
        throw lastSessionError(ptr);
    }
    const messageLength = M._olm_encrypt_message_length(ptr, plaintext.length);
    if (messageLength === err) {
        throw lastSessionError(ptr);
    }
    const random = crypto.randomBytes(randomLength);   // the injected queue
    let r = 0;
    let p = 0;
    let out = 0;
    try {
        r = heapCopy(random);
        p = heapCopy(plaintext);
        out = M._malloc(messageLength + 1);
        const n = M._olm_encrypt(ptr, p, plaintext.length, r, randomLength, out, messageLength);
        if (n === err) {
            throw lastSessionError(ptr);
        }
        const body = Buffer.from(M.HEAPU8.subarray(out, out + n)).toString('latin1');
        return { type, message: unb64(body) };
    } finally {
        heapWipeFree(r, random.length + SLACK);
        heapWipeFree(p, plaintext.length + SLACK);
        if (out) {
            M._free(out);
        }
    }
}

// Session.decrypt with byte output: olm_decrypt_max_plaintext_length, then olm_decrypt
// (both decode the base64 in place, so the message is written twice, as the binding does).
function rawDecrypt(session, type, message) {
    const ptr = sessionPtr(session);
    const err = M._olm_error();
    const body = Buffer.from(b64(message), 'latin1');
    let m = 0;
    let out = 0;
    let max = 0;
    try {
        m = heapCopy(body);
        max = M._olm_decrypt_max_plaintext_length(ptr, type, m, body.length);
        if (max === err) {
            throw lastSessionError(ptr);
        }
        M.HEAPU8.set(body, m);
        out = M._malloc(max + SLACK);
        M.HEAPU8.fill(0xa5, out, out + max + SLACK);
        const n = M._olm_decrypt(ptr, type, m, body.length, out, max);
        const past = M.HEAPU8.subarray(out + max, out + max + SLACK).some((b) => b !== 0xa5);
        if (past) {
            console.error(`note: olm_decrypt wrote past the ${max}-byte plaintext buffer it was given (README, L8)`);
        }
        if (n === err) {
            throw lastSessionError(ptr);
        }
        return Buffer.from(M.HEAPU8.subarray(out, out + n));
    } finally {
        if (m) {
            M._free(m);
        }
        heapWipeFree(out, max + SLACK);
    }
}

// --- accounts ------------------------------------------------------------------------

// An account whose Curve25519 identity private key is `identity` (Account.create's 64
// random bytes are the Ed25519 seed then the Curve25519 key), with one one-time key
// whose private key is `oneTime` when given.
function account(identity, oneTime) {
    const acct = new Olm.Account();
    try {
        withDraws(new DrawQueue([Buffer.concat([ED25519_SEED, identity])], 'account bytes'), () => acct.create(), { exact: true });
        if (oneTime) {
            withDraws(new DrawQueue([oneTime], 'one-time key bytes'), () => acct.generate_one_time_keys(1), { exact: true });
        }
    } catch (e) {
        acct.free();
        throw e;
    }
    return acct;
}

// --- sessions ----------------------------------------------------------------------

const sessions = new Map();   // handle -> {session: Olm.Session, keys: DrawQueue}
let nextHandle = 1;

function addSession(session, keys) {
    const handle = nextHandle++;
    sessions.set(handle, { session, keys });
    return handle;
}

function getSession(handle) {
    const s = sessions.get(handle);
    if (s === undefined) {
        throw new Refused('state', `unknown session ${JSON.stringify(handle)}`);
    }
    return s;
}

function messageTypeName(type) {
    if (type === 0) return 'prekey';
    if (type === 1) return 'whisper';
    throw new Refused('state', `libolm produced message type ${type}`);
}

function messageTypeNumber(name) {
    if (name === undefined || name === 'whisper') return 1;
    if (name === 'prekey') return 0;
    throw new Refused('unsupported', `unknown messageType ${JSON.stringify(name)}`);
}

function prekeyInitiate(req) {
    checkSuite(req);
    const identity = key('identityPrivateKey', req.identityPrivateKey);
    const base = key('ephemeralPrivateKey', req.ephemeralPrivateKey);
    const ratchet = privateKeys(req, 'ratchetPrivateKeys');
    const peerIdentity = publicKey('peerIdentityKey', req.peerIdentityKey);
    const peerOneTime = publicKey('peerOneTimePrekey', req.peerOneTimePrekey);
    if (ratchet.length === 0) {
        throw new Refused('state', 'ratchetPrivateKeys is empty: create_outbound needs the first ratchet key');
    }
    const acct = account(identity, null);
    const session = new Olm.Session();
    try {
        // create_outbound draws base key || T0; later chains draw from the rest of the list.
        withDraws(new DrawQueue([Buffer.concat([base, ratchet[0]])], 'base key || first ratchet key'),
            () => session.create_outbound(acct, b64(peerIdentity), b64(peerOneTime)), { exact: true });
    } catch (e) {
        session.free();
        if (e && typeof e === 'object') {
            e.context = 'key';     // INVALID_BASE64 here is a public key libolm did not accept
        }
        throw e;
    } finally {
        acct.free();
    }
    const keys = new DrawQueue(ratchet.slice(1), 'ratchet private keys');
    return { session: addSession(session, keys) };
}

function prekeyRespond(req) {
    checkSuite(req);
    const identity = key('identityPrivateKey', req.identityPrivateKey);
    const oneTime = key('oneTimePrekeyPrivateKey', req.oneTimePrekeyPrivateKey);
    const ratchet = privateKeys(req, 'ratchetPrivateKeys');
    const message = hex('message', req.message);
    const acct = account(identity, oneTime);
    const session = new Olm.Session();
    const keys = new DrawQueue(ratchet, 'ratchet private keys');
    let plaintext;
    try {
        withDraws(keys, () => rawCreateInbound(session, acct, message));
        plaintext = withDraws(keys, () => rawDecrypt(session, 0, message));
        acct.remove_one_time_keys(session);
    } catch (e) {
        session.free();
        throw e;
    } finally {
        acct.free();
    }
    return { session: addSession(session, keys), plaintext: plaintext.toString('hex') };
}

function encrypt(req) {
    checkSuite(req);
    const s = getSession(req.session);
    const plaintext = hex('plaintext', req.plaintext);
    checkAd(req);
    const out = withDraws(s.keys, () => rawEncrypt(s.session, plaintext));
    return { message: out.message.toString('hex'), messageType: messageTypeName(out.type) };
}

function decrypt(req) {
    checkSuite(req);
    const s = getSession(req.session);
    const message = hex('message', req.message);
    const type = messageTypeNumber(req.messageType);
    checkAd(req);
    return withDraws(s.keys, () => {
        if (type === 0 && !rawMatchesInbound(s.session, message)) {
            // libolm would decrypt the inner message whatever the outer keys say;
            // an application first asks whether the pre-key message is this session's.
            // Say why it is not: libolm's own parse error, else it is another session's
            // message delivered here (an application's routing error: `state`, as the
            // reference answers it).
            rawDecryptCheck(s.session, message);
            throw new Refused('state', 'a pre-key message for another session (Session.matches_inbound is false)');
        }
        return { plaintext: rawDecrypt(s.session, type, message).toString('hex') };
    });
}

// Session.create_inbound and Session.matches_inbound on the heap. The binding copies
// their message onto the module's stack (stackAlloc), which is about 64 KiB deep with
// libolm's static data below it: a longer message overwrites that data (README,
// finding B1). The C calls and their error handling are the binding's.
function withHeapMessage(session, message, fn) {
    const ptr = sessionPtr(session);
    const body = Buffer.from(b64(message), 'latin1');
    const m = heapCopy(body);
    try {
        const r = fn(ptr, m, body.length);
        if (r === M._olm_error()) {
            throw lastSessionError(ptr);
        }
        return r;
    } finally {
        heapWipeFree(m, body.length + SLACK);
    }
}

function rawCreateInbound(session, acct, message) {
    const acctPtr = acct.$b;
    if (typeof acctPtr !== 'number' || acctPtr === 0) {
        throw new Refused('state', 'no libolm account');
    }
    withHeapMessage(session, message, (ptr, m, len) => M._olm_create_inbound_session(ptr, acctPtr, m, len));
}

function rawMatchesInbound(session, message) {
    return withHeapMessage(session, message, (ptr, m, len) => M._olm_matches_inbound_session(ptr, m, len)) !== 0;
}

// olm_decrypt_max_plaintext_length only parses (it changes no state): it throws the
// format and version errors libolm would give for this pre-key message.
function rawDecryptCheck(session, message) {
    const ptr = sessionPtr(session);
    const body = Buffer.from(b64(message), 'latin1');
    const m = heapCopy(body);
    try {
        if (M._olm_decrypt_max_plaintext_length(ptr, 0, m, body.length) === M._olm_error()) {
            throw lastSessionError(ptr);
        }
    } finally {
        M._free(m);
    }
}

function cloneSession(req) {
    checkSuite(req);
    const s = getSession(req.session);
    const keys = new DrawQueue(privateKeys(req, 'ratchetPrivateKeys'), 'ratchet private keys');
    const copy = new Olm.Session();
    try {
        copy.unpickle(PICKLE_KEY, s.session.pickle(PICKLE_KEY));
    } catch (e) {
        copy.free();
        throw e;
    }
    return { session: addSession(copy, keys) };
}

function reset() {
    for (const s of sessions.values()) {
        s.session.free();
    }
    sessions.clear();
    return {};
}

function handshake(req) {
    if (req.protocol !== undefined && req.protocol !== 1) {
        throw new Refused('unsupported', `protocol ${req.protocol}`);
    }
    return {
        protocol: 1,
        name: 'libolm (npm @matrix-org/olm)',
        version: `${OLM_PACKAGE_VERSION} (libolm ${Olm.get_library_version().join('.')})`,
        suites: [SUITE],
        operations: ['prekey', 'session'],
        // libolm's fixed limits (docs/OLM-V1.md §5.5, observed in this build by
        // tools/olm-kat and checked again by selftest.js): a gap of at most 2000
        // indices, 40 stored message keys for the whole session.
        maxSkip: 2000,
        maxStoredSkippedKeys: 40,
        configurableLimits: false,
        injectedRandomness: true,
        clone: true,
    };
}

const OPS = {
    prekey_initiate: prekeyInitiate,
    prekey_respond: prekeyRespond,
    encrypt,
    decrypt,
    clone_session: cloneSession,
    reset,
};

function handle(req) {
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
        throw new Refused('malformed', 'a request must be a JSON object');
    }
    if (req.op === 'handshake') {
        return handshake(req);
    }
    const fn = Object.prototype.hasOwnProperty.call(OPS, req.op) ? OPS[req.op] : null;
    if (!fn) {
        throw new Refused('unsupported', `unknown op ${JSON.stringify(req.op)}`);
    }
    return fn(req);
}

function respond(req, line) {
    const id = req !== null && typeof req === 'object' ? req.id : undefined;
    let response;
    try {
        response = { id, result: handle(req) };
    } catch (e) {
        if (isLibraryCrash(e)) {
            console.error(`libolm crashed during ${line.slice(0, 200)}: ${e && e.stack ? e.stack : e}`);
            process.exit(3);
        }
        const cls = classify(e, e && e.context);
        if (!(e instanceof Refused)) {
            console.error(`${req && req.op} (id ${id}) refused by libolm: ${(e && e.message) || e}`);
        }
        response = { id, error: { class: cls, message: String((e && e.message) || e) } };
    }
    process.stdout.write(JSON.stringify(response) + '\n');
}

async function main() {
    await Olm.init({ postRun: [(module) => { M = module; }] });
    const probe = new Olm.Session();
    const reachable = M !== null && typeof probe.$b === 'number' && typeof M._olm_encrypt === 'function';
    probe.free();
    if (!reachable) {
        throw new Error('could not reach the libolm module behind @matrix-org/olm (the shim is written for 3.2.15)');
    }
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
    for await (const raw of rl) {
        const line = raw.replace(/\r$/, '');
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
        respond(req, line);
    }
}

if (require.main === module) {
    main().then(() => process.exit(0), (e) => {
        console.error(e && e.stack ? e.stack : e);
        process.exit(1);
    });
}
