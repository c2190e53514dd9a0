#!/usr/bin/env node
// Live olm-v1 conversations between libolm (this shim) and another olm-v1 shim,
// both ways, until `ratchetproof interop` speaks olm-v1:
//
//   node conformance/shims/libolm-js/interop_live.js --peer "ratchetproof-reference-shim" \
//       [--seed 1] [--cases 200] [--max-actions 40]
//
// Without --peer the peer is a second libolm process. Each case draws its keys
// and actions from the seed; even cases put libolm as Bob, odd ones as Alice.
// Actions: either side sends; the network delivers any message in flight (in
// any order, across ratchet steps), drops one, replays one already accepted,
// or delivers a copy with one bit flipped (in a pre-key message, a byte of the
// inner message: the envelope is not authenticated, README finding L1). Checks:
//
// * every genuine message delivered decrypts, once, to what was sent — except
//   on a chain with five newer chains of its sender received (five are kept),
//   a refusal counted, not failed. (A sender starts chain k + 1 only after the
//   receiver has read chain k, so no chain can first arrive behind a newer one.)
// * every replay and every tampered copy is refused;
// * a refusal changes nothing: later genuine messages still decrypt;
// * `encrypt` answers `prekey` until Alice has decrypted something, then `whisper`.
//
// Conversations stay below 40 sends, so no gap reaches the 40 stored keys.
'use strict';

const nodeCrypto = require('crypto');
const { Shim } = require('./shim_client');

const SUITE = 'olm-v1';

function arg(name, fallback) {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
}

// A deterministic stream: SHA-256(seed/case/counter).
class Rng {
    constructor(label) {
        this.label = label;
        this.n = 0;
    }

    bytes(k) {
        const out = [];
        while (out.length < k) {
            out.push(...nodeCrypto.createHash('sha256').update(`${this.label}/${this.n++}`).digest());
        }
        return Buffer.from(out.slice(0, k));
    }

    below(k) {
        return this.bytes(4).readUInt32BE(0) % k;
    }
}

function x25519Public(privHex) {
    const priv = nodeCrypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), Buffer.from(privHex, 'hex')]), format: 'der', type: 'pkcs8' });
    return nodeCrypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
}

// The fields of a protobuf-style Olm body: {field: bytes} for length-delimited ones.
function lengthFields(buf, start, end) {
    const out = {};
    let i = start;
    while (i < end) {
        const tag = buf[i++];
        let len = 0;
        let shift = 0;
        for (;;) {
            const b = buf[i++];
            len |= (b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80)) break;
        }
        if ((tag & 7) === 2) {
            out[tag >> 3] = { at: i, bytes: buf.subarray(i, i + len) };
            i += len;
        }
    }
    return out;
}

// The inner message's ratchet key (its chain) and where the inner message sits.
function anatomy(hex, type) {
    const b = Buffer.from(hex, 'hex');
    let innerAt = 0;
    let inner = b;
    if (type === 'prekey') {
        const f = lengthFields(b, 1, b.length)[4];
        innerAt = f.at;
        inner = f.bytes;
    }
    const ratchetKey = lengthFields(inner, 1, inner.length - 8)[1].bytes.toString('hex');
    return { innerAt, innerLength: inner.length, ratchetKey };
}

async function runCase(libolm, peer, seed, n, maxActions, stats) {
    const rng = new Rng(`ratchetproof libolm-js interop/${seed}/${n}`);
    const key = () => rng.bytes(32).toString('hex');
    const libolmIsBob = n % 2 === 0;
    const shims = { alice: libolmIsBob ? peer : libolm, bob: libolmIsBob ? libolm : peer };
    const names = { alice: libolmIsBob ? 'peer' : 'libolm', bob: libolmIsBob ? 'libolm' : 'peer' };
    const bobIdentity = key();
    const bobOneTime = key();
    const keyList = () => Array.from({ length: maxActions + 2 }, key);
    const bobKeys = keyList();
    const log = [];
    const fail = (what) => {
        throw new Error(`case ${n} of seed ${seed} (alice: ${names.alice}, bob: ${names.bob}): ${what}\n  ${log.join('\n  ')}`);
    };

    const party = {
        alice: { session: (await shims.alice.ok('prekey_initiate', {
            suite: SUITE, identityPrivateKey: key(), ephemeralPrivateKey: key(), ratchetPrivateKeys: keyList(),
            peerIdentityKey: x25519Public(bobIdentity), peerOneTimePrekey: x25519Public(bobOneTime),
        })).session, received: false, chains: [], got: new Set() },
        bob: { session: null, received: false, chains: [], got: new Set() },
    };
    const peerOf = { alice: 'bob', bob: 'alice' };
    const inFlight = [];
    const accepted = [];
    let sends = 0;

    const deliver = async (to, m, kind) => {
        const p = party[to];
        const req = p.session === null
            ? ['prekey_respond', { suite: SUITE, identityPrivateKey: bobIdentity, oneTimePrekeyPrivateKey: bobOneTime, ratchetPrivateKeys: bobKeys, message: m.message }]
            : ['decrypt', { session: p.session, message: m.message, messageType: m.messageType, ad: '' }];
        if (p.session === null && m.messageType !== 'prekey') {
            return null;   // Bob cannot take a normal message before his session exists
        }
        const r = await shims[to].raw(...req);
        log.push(`${to} (${names[to]}) receives ${m.name} [${kind}] -> ${r.error ? `refused ${r.error.class}` : 'decrypted'}`);
        if (r.result && p.session === null) {
            p.session = r.result.session;
        }
        return r;
    };

    for (let step = 0; step < maxActions; step++) {
        const action = rng.below(10);
        if (action < 4 && sends < 38) {
            const from = action < 2 || party.bob.session === null ? 'alice' : 'bob';
            const p = party[from];
            const name = `m${sends++}`;
            const plaintext = Buffer.from(`${from} ${name}`).toString('hex');
            const r = await shims[from].raw('encrypt', { session: p.session, plaintext, ad: '' });
            if (r.error) fail(`${from} (${names[from]}) could not send ${name}: ${JSON.stringify(r.error)}`);
            const expectType = from === 'alice' && !p.received ? 'prekey' : 'whisper';
            if (r.result.messageType !== expectType) fail(`${from} sent ${name} as ${r.result.messageType}, expected ${expectType}`);
            const a = anatomy(r.result.message, r.result.messageType);
            if (!p.chains.includes(a.ratchetKey)) p.chains.push(a.ratchetKey);
            const m = { name, from, to: peerOf[from], plaintext, ...r.result, ...a, chain: p.chains.indexOf(a.ratchetKey) };
            inFlight.push(m);
            stats.chains = Math.max(stats.chains, m.chain + 1);
            log.push(`${from} (${names[from]}) sends ${name} [${m.messageType}, chain ${m.chain}]`);
        } else if (action < 7 && inFlight.length > 0) {
            const m = inFlight.splice(rng.below(inFlight.length), 1)[0];
            const to = party[m.to];
            const newer = [...to.got].filter((c) => c > m.chain);
            const mayFail = newer.length >= 5;
            const r = await deliver(m.to, m, 'genuine');
            if (r === null) {
                inFlight.push(m);
                continue;
            }
            if (r.error) {
                if (!mayFail) fail(`genuine ${m.name} refused: ${JSON.stringify(r.error)}`);
                stats.allowedRefusals++;
                continue;
            }
            if (r.result.plaintext !== m.plaintext) fail(`${m.name} decrypted to ${r.result.plaintext}`);
            to.got.add(m.chain);
            to.received = true;
            accepted.push(m);
            stats.delivered++;
        } else if (action === 7 && accepted.length > 0) {
            const m = accepted[rng.below(accepted.length)];
            if (party[m.to].session === null) continue;
            const r = await deliver(m.to, m, 'replay');
            if (!r.error) fail(`replay of ${m.name} accepted`);
            stats.replays++;
        } else if (action === 8 && inFlight.length + accepted.length > 0) {
            const pool = inFlight.concat(accepted);
            const m = pool[rng.below(pool.length)];
            const b = Buffer.from(m.message, 'hex');
            const at = m.innerAt + rng.below(m.innerLength);
            b[at] ^= 1 << rng.below(8);
            const r = await deliver(m.to, { ...m, name: `${m.name} with byte ${at} flipped`, message: b.toString('hex') }, 'tampered');
            if (r === null) continue;
            if (!r.error) fail(`tampered copy of ${m.name} (byte ${at}) accepted`);
            stats.tampered++;
        } else if (action === 9 && inFlight.length > 0) {
            const m = inFlight.splice(rng.below(inFlight.length), 1)[0];
            log.push(`network drops ${m.name}`);
        }
    }
    await libolm.ok('reset', {});
    await peer.ok('reset', {});
}

async function main() {
    const seed = Number(arg('--seed', '1'));
    const cases = Number(arg('--cases', '100'));
    const maxActions = Number(arg('--max-actions', '40'));
    const peerCommand = arg('--peer', null);
    const libolm = new Shim();
    const peer = new Shim(peerCommand || undefined);
    const hs = await libolm.ok('handshake', { protocol: 1 });
    const phs = await peer.ok('handshake', { protocol: 1 });
    if (!phs.suites.includes(SUITE) || !phs.operations.includes('prekey')) {
        throw new Error(`the peer ${phs.name} does not offer ${SUITE} with the prekey group`);
    }
    const stats = { delivered: 0, allowedRefusals: 0, replays: 0, tampered: 0, chains: 0 };
    for (let n = 0; n < cases; n++) {
        await runCase(libolm, peer, seed, n, maxActions, stats);
    }
    await libolm.close();
    await peer.close();
    console.log(`interop_live: ${cases} cases of seed ${seed}, ${hs.name} ${hs.version} with ${phs.name} ${phs.version}, both roles: ` +
        `${stats.delivered} genuine messages decrypted, ${stats.replays} replays and ${stats.tampered} tampered copies refused, ` +
        `${stats.allowedRefusals} refusals on a chain five behind, up to ${stats.chains} sending chains per party; no divergence`);
}

main().catch((e) => {
    console.error(`interop_live DIVERGED: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
});
