//! The property side of the known-bug table: a fixed, seeded set of checks
//! that need no reference bytes, run against any implementation.
//!
//! * **Model properties** — the scenario model's invariants
//!   ([`crate::model::Invariant`]) over seeded action sequences drawn with the
//!   weights of the property tests' mixes (`tests/properties.rs`): an honest
//!   network, tampering, state compromise, everything at once, and
//!   predictable (counter) ratchet keys. Both parties are the implementation
//!   under test, so a bug that both sides share consistently (a swapped KDF
//!   input, another AD encoding) is invisible here; only vectors see it.
//! * **Restored sessions continue** — a party replaced by a copy of its state
//!   (export and re-import) keeps the conversation going, and no two messages
//!   ever share a keystream (SPEC.md §11.4).
//! * **X3DH** — both sides derive the same SK and AD, and a bundle whose
//!   signature was altered is refused.
//! * **One-time prekeys are single-use** — an initial message made by the
//!   implementation itself is accepted once; its replay is refused, and a
//!   forgery naming the prekey before it leaves the prekey usable.
//!
//! Every sequence is derived from fixed seeds, so a run is reproducible and
//! the same for every implementation. The checks stop at the first failure
//! of each property.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use ratchetproof_protocol::x3dh::InitialMessage;
use ratchetproof_protocol::{CipherSuite, DEFAULT_SUITE, KeyPair, PrivateKey};
use serde::Serialize;

use crate::implementation::{
    CloneSession, Decrypt, Encrypt, Role, SessionInit, X3dhAccept, X3dhInitiate, X3dhRespond,
};
use crate::model::{self, Action, ModelConfig, Party, Randomness, Subject, Tamper};

/// How many seeded runs each property gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Action sequences per model configuration.
    pub model_runs: u32,
    /// Longest action sequence.
    pub max_actions: usize,
    /// Conversations for the restore property.
    pub restore_runs: u32,
    /// Key sets for the X3DH and one-time-prekey properties.
    pub x3dh_runs: u32,
}

impl Budget {
    /// What `ratchetproof mutants` runs.
    pub const DEFAULT: Budget = Budget {
        model_runs: 200,
        max_actions: 64,
        restore_runs: 40,
        x3dh_runs: 8,
    };
}

/// A property that failed, with its first counterexample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PropertyFailure {
    /// The property, e.g. `Atomicity (active)` or `restored-session-continues`.
    pub property: String,
    /// What went wrong, and how to reproduce it.
    pub detail: String,
}

/// Relative weights of the model's kinds of action (the property tests' `Mix`).
#[derive(Clone, Copy, Debug)]
struct Weights {
    send: u32,
    deliver: u32,
    replay: u32,
    drop: u32,
    tamper: u32,
    capture: u32,
    eavesdrop: u32,
}

const HONEST: Weights = Weights {
    send: 5,
    deliver: 7,
    replay: 1,
    drop: 1,
    tamper: 0,
    capture: 0,
    eavesdrop: 0,
};

/// The model configurations: name, weights, randomness.
const MODEL_RUNS: [(&str, Weights, Randomness); 5] = [
    ("honest", HONEST, Randomness::Fresh),
    (
        "active",
        Weights {
            tamper: 3,
            ..HONEST
        },
        Randomness::Fresh,
    ),
    (
        "compromise",
        Weights {
            capture: 1,
            eavesdrop: 4,
            ..HONEST
        },
        Randomness::Fresh,
    ),
    (
        "everything",
        Weights {
            tamper: 2,
            capture: 1,
            eavesdrop: 3,
            ..HONEST
        },
        Randomness::Fresh,
    ),
    (
        "counter keys",
        Weights {
            tamper: 3,
            ..HONEST
        },
        Randomness::Counter,
    ),
];

fn rng(domain: &str, run: u64) -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    let label = format!("ratchetproof mutant properties/{domain}/{run}");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(label.as_bytes());
    seed.copy_from_slice(&digest);
    ChaCha20Rng::from_seed(seed)
}

fn below(rng: &mut ChaCha20Rng, n: u32) -> u32 {
    if n == 0 { 0 } else { rng.next_u32() % n }
}

fn byte(rng: &mut ChaCha20Rng) -> u8 {
    rng.next_u32().to_le_bytes().first().copied().unwrap_or(0)
}

fn party(rng: &mut ChaCha20Rng) -> Party {
    if rng.next_u32() & 1 == 0 {
        Party::Alice
    } else {
        Party::Bob
    }
}

fn tamper(rng: &mut ChaCha20Rng) -> Tamper {
    let b = byte(rng);
    match below(rng, 8) {
        0 => Tamper::Ciphertext { byte: b },
        1 => Tamper::Tag { byte: b },
        2 => Tamper::AssociatedData { byte: b },
        3 => Tamper::RatchetKey { byte: b },
        4 => Tamper::Counter { bit: b },
        5 => Tamper::PreviousCounter { bit: b },
        6 => Tamper::Version { value: b },
        _ => Tamper::Truncate { keep: b },
    }
}

/// One action drawn with `w`'s weights.
fn action(rng: &mut ChaCha20Rng, w: Weights) -> Action {
    let kinds = [
        w.send,
        w.deliver,
        w.replay,
        w.drop,
        w.tamper,
        w.capture,
        w.eavesdrop,
    ];
    let mut pick = below(rng, kinds.iter().sum());
    let mut kind = 0;
    for (i, weight) in kinds.iter().enumerate() {
        if pick < *weight {
            kind = i;
            break;
        }
        pick -= weight;
    }
    match kind {
        0 => Action::Send { from: party(rng) },
        1 => Action::Deliver { pick: byte(rng) },
        2 => Action::Replay { pick: byte(rng) },
        3 => Action::Drop { pick: byte(rng) },
        4 => Action::Tamper {
            pick: byte(rng),
            field: tamper(rng),
        },
        5 => Action::Capture { victim: party(rng) },
        _ => Action::Eavesdrop {
            capture: byte(rng),
            pick: byte(rng),
        },
    }
}

/// The seeded model run `run` of configuration `name`: its seed and actions.
fn model_case(name: &str, w: Weights, run: u32, max_actions: usize) -> (u64, Vec<Action>) {
    let mut rng = rng(&format!("model/{name}"), u64::from(run));
    let seed = rng.next_u64();
    let len = below(
        &mut rng,
        u32::try_from(max_actions)
            .unwrap_or(u32::MAX)
            .saturating_add(1),
    );
    let actions = (0..len).map(|_| action(&mut rng, w)).collect();
    (seed, actions)
}

/// Runs every property against `subject` and returns those that failed.
pub fn check<S: Subject>(subject: &mut S, budget: Budget) -> Vec<PropertyFailure> {
    let mut failures = Vec::new();
    for (name, weights, randomness) in MODEL_RUNS {
        for run in 0..budget.model_runs {
            let (seed, actions) = model_case(name, weights, run, budget.max_actions);
            let config = ModelConfig::new(seed).with_randomness(randomness);
            if let Err(v) = model::check(subject, &config, &actions) {
                failures.push(PropertyFailure {
                    property: format!("{:?} ({name})", v.invariant),
                    detail: format!(
                        "run {run} (seed {seed}): {v}; the failing run in {} actions: {:?}",
                        v.effective_actions.len(),
                        v.effective_actions
                    ),
                });
                break;
            }
        }
    }
    let others: [(&str, PropertyFn<S>); 3] = [
        ("restored-session-continues", restored_session_continues),
        ("x3dh-agreement-and-signature", x3dh_agreement_and_signature),
        ("one-time-prekey-single-use", one_time_prekey_single_use),
    ];
    for (property, f) in others {
        let runs = match property {
            "restored-session-continues" => budget.restore_runs,
            _ => budget.x3dh_runs,
        };
        for run in 0..runs {
            subject.reset();
            if let Err(detail) = f(subject, u64::from(run)) {
                failures.push(PropertyFailure {
                    property: property.into(),
                    detail: format!("run {run}: {detail}"),
                });
                break;
            }
        }
    }
    failures
}

type PropertyFn<S> = fn(&mut S, u64) -> Result<(), String>;

fn key(rng: &mut ChaCha20Rng) -> [u8; 32] {
    let mut k = [0u8; 32];
    rng.fill_bytes(&mut k);
    k
}

fn public(private: &[u8; 32]) -> Vec<u8> {
    KeyPair::from_private(PrivateKey::from_bytes(*private))
        .public_key()
        .as_bytes()
        .to_vec()
}

/// The ciphertext part of a default-suite message (plaintext-long), if any.
fn body<'a>(plaintext: &[u8], wire: &'a [u8]) -> Option<&'a [u8]> {
    let overhead = ratchetproof_protocol::suite::MESSAGE_OVERHEAD;
    let start = 1 + ratchetproof_protocol::header::HEADER_LEN;
    (wire.len() == plaintext.len() + overhead)
        .then(|| wire.get(start..start + plaintext.len()))
        .flatten()
}

/// Whether two messages were sealed with the same keystream: their
/// ciphertexts XOR to the XOR of their plaintexts (AES-GCM is a stream
/// cipher). With distinct plaintexts of 16 bytes or more, no accident.
fn same_keystream(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> bool {
    let (Some(ca), Some(cb)) = (body(a.0, a.1), body(b.0, b.1)) else {
        return false;
    };
    let len = ca.len().min(cb.len());
    len >= 16
        && a.0 != b.0
        && (0..len).all(|i| {
            let c = ca.get(i).zip(cb.get(i)).map(|(x, y)| x ^ y);
            let p = a.0.get(i).zip(b.0.get(i)).map(|(x, y)| x ^ y);
            c == p
        })
}

/// Alice and Bob over an in-order network; before some sends the sender is
/// replaced by a copy of its state (what restoring the latest backup does).
/// Every message must decrypt, in order, to its plaintext, and no two
/// messages may share a keystream.
fn restored_session_continues<S: Subject>(subject: &mut S, run: u64) -> Result<(), String> {
    let mut rng = rng("restore", run);
    let (sk, bob_spk) = (key(&mut rng), key(&mut rng));
    let mut ad = vec![0u8; 66];
    rng.fill_bytes(&mut ad);
    let keys = |rng: &mut ChaCha20Rng| (0..64).map(|_| key(rng).to_vec()).collect::<Vec<_>>();
    let init = |role: Role, ratchet_key: Vec<u8>, keys: Vec<Vec<u8>>| SessionInit {
        suite: DEFAULT_SUITE.name().into(),
        role,
        shared_key: sk.to_vec(),
        ratchet_key,
        ratchet_private_keys: keys,
        max_skip: None,
        max_stored_skipped_keys: None,
    };
    let err = |what: &str, e: crate::ImplError| format!("{what}: {e}");
    let alice_init = init(Role::Alice, public(&bob_spk), keys(&mut rng));
    let bob_init = init(Role::Bob, bob_spk.to_vec(), keys(&mut rng));
    let mut alice = subject
        .init_session(&alice_init)
        .map(|o| o.session)
        .map_err(|e| err("init Alice", e))?;
    let mut bob = subject
        .init_session(&bob_init)
        .map(|o| o.session)
        .map_err(|e| err("init Bob", e))?;
    // (plaintext, wire) of every message, and each direction's queue.
    let mut sent: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut to_bob: Vec<usize> = Vec::new();
    let mut to_alice: Vec<usize> = Vec::new();
    let mut bob_received = false;
    let mut restores = 0;
    for step in 0..26u32 {
        let alice_turn = step == 0 || below(&mut rng, 2) == 0;
        let last = step == 25;
        if !alice_turn && !bob_received && to_bob.is_empty() {
            continue;
        }
        let (me, queue) = if alice_turn {
            (&mut alice, &mut to_alice)
        } else {
            (&mut bob, &mut to_bob)
        };
        // Everything in flight to this party arrives, in order.
        for m in queue.drain(..) {
            let Some((plaintext, wire)) = sent.get(m) else {
                continue;
            };
            match subject
                .decrypt(&Decrypt::new(*me, wire, &ad))
                .map(|o| o.plaintext)
            {
                Ok(p) if p == *plaintext => {}
                other => {
                    return Err(format!(
                        "message {m}, delivered in order, gave {other:?} instead of its plaintext ({restores} restores so far)"
                    ));
                }
            }
        }
        bob_received |= !alice_turn;
        if last {
            break;
        }
        if step > 0 && below(&mut rng, 3) == 0 {
            *me = subject
                .clone_session(&CloneSession::new(*me, &keys(&mut rng)))
                .map(|o| o.session)
                .map_err(|e| err("restore", e))?;
            restores += 1;
        }
        let plaintext = format!(
            "message {} from {}, long enough to compare keystreams",
            sent.len(),
            if alice_turn { "alice" } else { "bob" }
        )
        .into_bytes();
        let wire = subject
            .encrypt(&Encrypt::new(*me, &plaintext, &ad))
            .map(|o| o.message)
            .map_err(|e| err("send", e))?;
        if let Some(i) = sent
            .iter()
            .position(|(p, w)| same_keystream((p, w), (&plaintext, &wire)))
        {
            return Err(format!(
                "message {} reuses message {i}'s key and nonce (same keystream; {restores} restores so far)",
                sent.len()
            ));
        }
        let index = sent.len();
        sent.push((plaintext, wire));
        if alice_turn {
            to_bob.push(index);
        } else {
            to_alice.push(index);
        }
    }
    Ok(())
}

struct X3dhKeys {
    ika: [u8; 32],
    eka: [u8; 32],
    ikb: [u8; 32],
    spkb: [u8; 32],
    opkb: [u8; 32],
    signature: [u8; 64],
}

fn x3dh_keys(domain: &str, run: u64) -> X3dhKeys {
    let mut rng = rng(domain, run);
    let [ika, eka, ikb, spkb, opkb, z0, z1] = [(); 7].map(|()| key(&mut rng));
    let z: [u8; 64] = [z0, z1].concat().try_into().unwrap_or([0; 64]);
    let ikb_pair = KeyPair::from_private(PrivateKey::from_bytes(ikb));
    let spk_pair = KeyPair::from_private(PrivateKey::from_bytes(spkb));
    let signature = ratchetproof_protocol::xeddsa::sign_with_random(
        ikb_pair.private_key(),
        &spk_pair.public_key().encode(),
        &z,
    );
    X3dhKeys {
        ika,
        eka,
        ikb,
        spkb,
        opkb,
        signature,
    }
}

impl X3dhKeys {
    fn initiate(&self, with_opk: bool) -> X3dhInitiate {
        X3dhInitiate {
            suite: DEFAULT_SUITE.name().into(),
            identity_private_key: self.ika.to_vec(),
            ephemeral_private_key: self.eka.to_vec(),
            peer_identity_key: public(&self.ikb),
            peer_signed_prekey: public(&self.spkb),
            peer_signed_prekey_signature: self.signature.to_vec(),
            peer_one_time_prekey: with_opk.then(|| public(&self.opkb)),
        }
    }
}

/// Alice's and Bob's X3DH agree, with and without a one-time prekey; a
/// bundle with one bit of its signature flipped is refused.
fn x3dh_agreement_and_signature<S: Subject>(subject: &mut S, run: u64) -> Result<(), String> {
    let k = x3dh_keys("x3dh", run);
    for with_opk in [false, true] {
        let alice = subject
            .x3dh_initiate(&k.initiate(with_opk))
            .map_err(|e| format!("Alice's X3DH (one-time prekey: {with_opk}): {e}"))?;
        let bob = subject
            .x3dh_respond(&X3dhRespond {
                suite: DEFAULT_SUITE.name().into(),
                identity_private_key: k.ikb.to_vec(),
                signed_prekey_private_key: k.spkb.to_vec(),
                one_time_prekey_private_key: with_opk.then(|| k.opkb.to_vec()),
                peer_identity_key: public(&k.ika),
                peer_ephemeral_key: public(&k.eka),
            })
            .map_err(|e| format!("Bob's X3DH (one-time prekey: {with_opk}): {e}"))?;
        if alice != bob {
            return Err(format!(
                "Alice and Bob derive different SK or AD (one-time prekey: {with_opk})"
            ));
        }
    }
    let mut forged = k.initiate(false);
    let bit = usize::try_from(run % 512).unwrap_or(0);
    if let Some(b) = forged.peer_signed_prekey_signature.get_mut(bit / 8) {
        *b ^= 1 << (bit % 8);
    }
    match subject.x3dh_initiate(&forged) {
        Err(_) => Ok(()),
        Ok(_) => Err(format!(
            "a bundle whose signature has bit {bit} flipped was accepted"
        )),
    }
}

/// An initial message made by the implementation itself (X3DH, Alice's
/// session, her first message, SPEC.md §6.4 framing) is accepted once by a
/// store holding the one-time prekey; a forgery naming that prekey is
/// refused first and leaves it usable; the replay is refused.
fn one_time_prekey_single_use<S: Subject>(subject: &mut S, run: u64) -> Result<(), String> {
    let k = x3dh_keys("one-time prekey", run);
    let mut rng = rng("one-time prekey/ratchet", run);
    let agreement = subject
        .x3dh_initiate(&k.initiate(true))
        .map_err(|e| format!("Alice's X3DH: {e}"))?;
    let alice = subject
        .init_session(&SessionInit {
            suite: DEFAULT_SUITE.name().into(),
            role: Role::Alice,
            shared_key: agreement.shared_key.clone(),
            ratchet_key: public(&k.spkb),
            ratchet_private_keys: vec![key(&mut rng).to_vec()],
            max_skip: None,
            max_stored_skipped_keys: None,
        })
        .map(|o| o.session)
        .map_err(|e| format!("Alice's session: {e}"))?;
    let plaintext = b"the first message".to_vec();
    let first = subject
        .encrypt(&Encrypt::new(alice, &plaintext, &agreement.associated_data))
        .map(|o| o.message)
        .map_err(|e| format!("Alice's first message: {e}"))?;
    let frame = |message: Vec<u8>| {
        DEFAULT_SUITE.encode_initial(&InitialMessage {
            identity_key: ratchetproof_protocol::PublicKey::from_bytes(
                <[u8; 32]>::try_from(public(&k.ika).as_slice()).unwrap_or([0; 32]),
            ),
            ephemeral_key: ratchetproof_protocol::PublicKey::from_bytes(
                <[u8; 32]>::try_from(public(&k.eka).as_slice()).unwrap_or([0; 32]),
            ),
            signed_prekey_id: 1,
            one_time_prekey_id: Some(7),
            registration_id: 0,
            kem: None,
            message,
        })
    };
    let genuine = frame(first.clone());
    let mut altered = first;
    if let Some(last) = altered.last_mut() {
        *last ^= 1;
    }
    let forged = frame(altered);
    let outcomes = subject
        .x3dh_accept(&X3dhAccept {
            suite: DEFAULT_SUITE.name().into(),
            identity_private_key: k.ikb.to_vec(),
            signed_prekeys: vec![(1, k.spkb.to_vec())],
            one_time_prekeys: vec![(7, k.opkb.to_vec())],
            ratchet_private_keys: vec![key(&mut rng).to_vec(), key(&mut rng).to_vec()],
            initial_messages: vec![forged, genuine.clone(), genuine],
        })
        .map(|o| o.outcomes)
        .map_err(|e| format!("x3dh_accept: {e}"))?;
    let accepted: Vec<bool> = outcomes.iter().map(Result::is_ok).collect();
    let plaintext_ok = outcomes
        .get(1)
        .and_then(|o| o.as_ref().ok())
        .is_some_and(|a| {
            a.plaintext == plaintext && a.associated_data == agreement.associated_data
        });
    if accepted != [false, true, false] || !plaintext_ok {
        return Err(format!(
            "forgery, genuine message, replay: accepted {accepted:?} (must be [false, true, false] with the genuine plaintext)"
        ));
    }
    Ok(())
}
