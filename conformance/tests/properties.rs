//! Model-based properties of the Double Ratchet and X3DH (issue 4), checked
//! against the reference.
//!
//! Each property draws action sequences from a [`Mix`] and lets the scenario
//! model (`ratchetproof::model`) check every invariant after every step; the
//! property's name says which part of the space it searches. Runs are
//! deterministic given proptest's seed, and the default case counts keep the
//! file well under a minute in a debug build on 2 cores. The deep profile
//! (about 30 CPU-minutes in release; README.md, "Deeper runs", has the
//! measured figures):
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release -p ratchetproof --test properties
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use ratchetproof::implementation::{CloneSession, Decrypt, Encrypt};
use ratchetproof::model::strategy::{self, Mix};
use ratchetproof::model::{self, Action, ModelConfig, ProtocolSessions, Randomness, Violation};
use ratchetproof::vectors::{Outcome, ScenarioCase, Step};
use ratchetproof::{Implementation, Reference, Role, SessionInit};
use ratchetproof_protocol::x3dh::{self, PreKeyBundle};
use ratchetproof_protocol::{CipherSuite, DEFAULT_SUITE, DhOutput, KeyPair, RootKey};

/// `cases` by default; proptest's own `PROPTEST_CASES` when it is set.
/// Failures are saved to `conformance/proptest-regressions/properties.txt`
/// (cargo runs tests from the package root) and replayed first on every run.
fn config(cases: u32) -> ProptestConfig {
    let base = ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_some() {
        base
    } else {
        ProptestConfig { cases, ..base }
    }
}

fn holds(result: Result<model::Trace, Violation>) -> Result<(), TestCaseError> {
    result
        .map(|_| ())
        .map_err(|v| TestCaseError::fail(v.to_string()))
}

fn on_reference(config: &ModelConfig, actions: &[Action]) -> Result<(), TestCaseError> {
    holds(model::check(&mut Reference::new(), config, actions))
}

proptest! {
    #![proptest_config(config(256))]

    /// Loss, reordering, holding back and duplication: every genuine message
    /// decrypts exactly once to its plaintext, replays are `duplicate`, jumps
    /// past MAX_SKIP are `too_many_skipped`.
    #[test]
    fn genuine_messages_decrypt_exactly_once_in_any_order(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::HONEST, 64),
    ) {
        on_reference(&ModelConfig::new(seed), &actions)?;
    }

    /// Tampering with every field: the right error class, and a session that
    /// behaves afterwards exactly as before (checked through the trait).
    #[test]
    fn every_rejection_has_its_class_and_changes_nothing(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::ACTIVE, 64),
    ) {
        on_reference(&ModelConfig::new(seed), &actions)?;
    }

    /// The same on the protocol's sessions directly: after a rejection the
    /// state is byte-identical, and after every step it round-trips exactly.
    #[test]
    fn rejected_messages_leave_the_state_byte_identical_and_state_round_trips(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::EVERYTHING, 64),
    ) {
        holds(model::check(&mut ProtocolSessions::new(), &ModelConfig::new(seed), &actions))?;
    }

    /// A captured copy decrypts no message its victim processed before the
    /// capture (unless still stored as skipped), follows the conversation as
    /// far as the model says, and nothing after the victim's next DH ratchet
    /// with fresh keys.
    #[test]
    fn captures_read_neither_the_past_nor_beyond_the_next_fresh_ratchet(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::COMPROMISE, 64),
    ) {
        on_reference(&ModelConfig::new(seed), &actions)?;
    }

    /// Everything at once, longer.
    #[test]
    fn everything_at_once(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::EVERYTHING, 96),
    ) {
        on_reference(&ModelConfig::new(seed), &actions)?;
    }

    /// Predictable randomness known to the attacker (every ratchet key is a
    /// counter), no compromise: correctness and authenticity still hold.
    #[test]
    fn predictable_randomness_keeps_correctness_and_authenticity(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::ACTIVE, 64),
    ) {
        let config = ModelConfig::new(seed).with_randomness(Randomness::Counter);
        on_reference(&config, &actions)?;
    }

    /// An all-zero RNG: messages may be refused (see the test below), but
    /// nothing altered, replayed or garbled is ever accepted, and refusals
    /// leave the session as it was.
    #[test]
    fn all_zero_randomness_never_accepts_a_forgery(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::ACTIVE, 64),
    ) {
        let config = ModelConfig::new(seed).with_randomness(Randomness::AllZero);
        on_reference(&config, &actions)?;
    }

    /// A run exported as a scenario vector replays step by step on a fresh
    /// reference through the Implementation trait, with the recorded outcomes
    /// (and with the implementation's default limits when the case states none).
    #[test]
    fn exported_scenarios_replay_on_the_reference(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::EVERYTHING, 48),
    ) {
        let case = model::to_scenario(&ModelConfig::new(seed), &actions, 1, "exported", &[])
            .map_err(|v| TestCaseError::fail(v.to_string()))?;
        let json = serde_json::to_string(&case).unwrap();
        let case: ScenarioCase = serde_json::from_str(&json).unwrap();
        replay(&mut Reference::new(), &case).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Every suite of `suite::all()` holds the model's properties: the model
    /// takes the suite as a value and every offset from its message layout.
    /// Tampering with the associated data is left out: `signal-v3` reads its
    /// AD as two encoded identity keys, so an AD altered in a key-type byte
    /// is refused as `invalid_key` before any authentication — a real
    /// difference of that suite, not a forgery accepted.
    #[test]
    fn every_suite_holds_the_model_s_properties(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::EVERYTHING, 64),
    ) {
        let actions: Vec<Action> = actions
            .into_iter()
            .filter(|a| !matches!(a, Action::Tamper { field: model::Tamper::AssociatedData { .. }, .. }))
            .collect();
        for suite in ratchetproof_protocol::suite::all() {
            let config = ModelConfig::new(seed).with_suite(suite);
            holds(model::check(&mut ProtocolSessions::new(), &config, &actions))
                .map_err(|e| TestCaseError::fail(format!("{}: {e}", suite.name())))?;
        }
    }

    /// Every (ratchet key, n) yields a distinct message key: chains from
    /// distinct root steps, and every position within them, never collide.
    #[test]
    fn every_ratchet_key_and_counter_yields_a_distinct_message_key(
        root in any::<[u8; 32]>(),
        dh_outputs in proptest::collection::vec(any::<[u8; 32]>(), 1..6),
        chain_len in 1usize..40,
    ) {
        let suite = &DEFAULT_SUITE;
        let mut rk = RootKey::from_bytes(root);
        let mut seen = BTreeMap::new();
        for (chain, dh) in dh_outputs.iter().enumerate() {
            let (next_rk, mut ck) = suite.kdf_rk(&rk, &DhOutput::from_bytes(*dh));
            rk = next_rk;
            for n in 0..chain_len {
                let (next_ck, mk) = suite.kdf_ck(&ck);
                let expanded = suite.message_keys(&mk).to_vec();
                if let Some(other) = seen.insert(expanded, (chain, n)) {
                    // Equal DH outputs give equal chains only from equal root keys.
                    prop_assert!(false, "({chain}, {n}) repeats the key of {other:?}");
                }
                ck = next_ck;
            }
        }
    }

    /// X3DH gives both sides the same SK and AD, with and without a one-time
    /// prekey, computed directly and through the Implementation trait.
    #[test]
    fn x3dh_gives_both_sides_the_same_secret_and_associated_data(
        keys in any::<[[u8; 32]; 6]>(),
        with_one_time_prekey in any::<bool>(),
    ) {
        let signing_seed = keys[5];
        let [ika, ikb, spk, opk, eka, _] = keys.map(|k| KeyPair::from_private(ratchetproof_protocol::PrivateKey::from_bytes(k)));
        let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(signing_seed);
        let bundle = PreKeyBundle {
            identity_key: *ikb.public_key(),
            signed_prekey_id: 1,
            signed_prekey: *spk.public_key(),
            signed_prekey_signature: x3dh::sign_prekey(&ikb, spk.public_key(), &mut rng),
            one_time_prekey: with_one_time_prekey.then(|| (7, *opk.public_key())),
            kem_prekey: None,
        };
        let alice = x3dh::initiate_with_ephemeral(&DEFAULT_SUITE, &ika, &bundle, eka.clone()).unwrap();
        let bob = x3dh::respond(
            &DEFAULT_SUITE, &ikb, &spk, with_one_time_prekey.then_some(&opk),
            ika.public_key(), eka.public_key(),
        ).unwrap();
        prop_assert_eq!(alice.agreement.shared_key.as_bytes(), bob.shared_key.as_bytes());
        prop_assert_eq!(alice.agreement.associated_data, bob.associated_data);

        let mut reference = Reference::new();
        let private = |k: &KeyPair| k.private_key().to_bytes().to_vec();
        let via_trait_alice = reference.x3dh_initiate(&ratchetproof::X3dhInitiate {
            suite: DEFAULT_SUITE.name().into(),
            identity_private_key: private(&ika),
            ephemeral_private_key: private(&eka),
            peer_identity_key: ikb.public_key().as_bytes().to_vec(),
            peer_signed_prekey: spk.public_key().as_bytes().to_vec(),
            peer_signed_prekey_signature: bundle.signed_prekey_signature.to_vec(),
            peer_one_time_prekey: with_one_time_prekey.then(|| opk.public_key().as_bytes().to_vec()),
        }).unwrap();
        let via_trait_bob = reference.x3dh_respond(&ratchetproof::X3dhRespond {
            suite: DEFAULT_SUITE.name().into(),
            identity_private_key: private(&ikb),
            signed_prekey_private_key: private(&spk),
            one_time_prekey_private_key: with_one_time_prekey.then(|| private(&opk)),
            peer_identity_key: ika.public_key().as_bytes().to_vec(),
            peer_ephemeral_key: eka.public_key().as_bytes().to_vec(),
        }).unwrap();
        prop_assert_eq!(&via_trait_alice, &via_trait_bob);
        prop_assert_eq!(via_trait_alice.shared_key.as_slice(), bob.shared_key.as_bytes().as_slice());
    }
}

proptest! {
    #![proptest_config(config(16))]

    /// PQXDH, in every suite of `suite::all()` whose agreement has a KEM:
    /// both sides derive the same SK and AD from any keys and seeds, with and
    /// without a one-time EC prekey; a ciphertext altered in any byte makes
    /// Bob derive another SK (the KEM's implicit rejection), never an error
    /// or a panic; and Bob's prekey store accepts the genuine initial
    /// message once, keeping the KEM prekey only if it is the last-resort one.
    #[test]
    fn pqxdh_gives_both_sides_the_same_secret_and_rejects_altered_ciphertexts(
        keys in any::<[[u8; 32]; 7]>(),
        kem_seed in any::<[[u8; 32]; 2]>(),
        with_one_time_prekey in any::<bool>(),
        last_resort in any::<bool>(),
        flip in (0usize..1568, 1u8..=255),
    ) {
        use ratchetproof_protocol::x3dh::{Ephemeral, KemPrekeyUse, Responder};
        use ratchetproof_protocol::agreement::KemResponse;
        for suite in ratchetproof_protocol::suite::all() {
            let Some(kem) = suite.key_agreement().kem() else { continue };
            let [ika, ikb, spk, opk, eka, m, signing] = keys;
            let pair = |k: [u8; 32]| KeyPair::from_private(ratchetproof_protocol::PrivateKey::from_bytes(k));
            let (ika, ikb, spk, opk, eka) = (pair(ika), pair(ikb), pair(spk), pair(opk), pair(eka));
            let kem_pair = kem.generate_from_seed(&[kem_seed[0], kem_seed[1]].concat().try_into().unwrap());
            let mut bob = Responder::new(ikb.clone());
            bob.add_signed_prekey(1, spk.clone());
            bob.add_one_time_prekey(7, opk.clone());
            let usage = if last_resort { KemPrekeyUse::LastResort } else { KemPrekeyUse::OneTime };
            bob.add_kem_prekey(9, kem_pair.clone(), usage);
            let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed(signing);
            let bundle = bob
                .pq_bundle(kem, 1, with_one_time_prekey.then_some(7), 9, &mut rng)
                .unwrap();
            let alice = suite
                .key_agreement()
                .initiate(&ika, &bundle, Ephemeral { key: eka.clone(), encapsulation: Some(zeroize::Zeroizing::new(m)) })
                .unwrap();
            let ciphertext = alice.kem.clone().unwrap().ciphertext;
            let respond = |ciphertext: &[u8]| {
                suite.key_agreement().respond(
                    &ikb, &spk, with_one_time_prekey.then_some(&opk),
                    Some(KemResponse { prekey: &kem_pair, ciphertext }),
                    ika.public_key(), eka.public_key(),
                )
            };
            let bob_side = respond(&ciphertext).unwrap();
            prop_assert_eq!(alice.agreement.shared_key.as_bytes(), bob_side.shared_key.as_bytes());
            prop_assert_eq!(alice.agreement.associated_data, bob_side.associated_data);
            let mut altered = ciphertext.clone();
            altered[1 + flip.0] ^= flip.1;
            let rejected = respond(&altered).unwrap();
            prop_assert_ne!(rejected.shared_key.as_bytes(), bob_side.shared_key.as_bytes());

            let (_, initial) = x3dh::start_session(
                suite, ratchetproof_protocol::SessionConfig::default(), &ika, &bundle, b"pq", &mut rng,
            ).unwrap();
            let wire = suite.encode_initial(&initial);
            let mut store = bob.clone();
            let accepted = store
                .accept(suite, ratchetproof_protocol::SessionConfig::default(), &wire, &mut rng)
                .unwrap();
            prop_assert_eq!(accepted.plaintext, b"pq".to_vec());
            prop_assert_eq!(store.has_kem_prekey(9), last_resort);
        }
    }
}

/// Bad randomness, shown concretely: with every ratchet key all zero, Alice's
/// second sending chain carries the same ratchet key as her first, Bob takes
/// it for the old chain, and a genuine message is refused (as a replay). The model's
/// bad-randomness mode accepts that refusal; it would not accept a forgery.
#[test]
fn all_zero_randomness_breaks_correctness_but_not_authenticity() {
    use ratchetproof::model::Party::{Alice, Bob};
    let actions = [
        Action::Send { from: Alice },
        Action::Deliver { pick: 0 },
        Action::Send { from: Bob },
        Action::Deliver { pick: 0 },
        Action::Send { from: Alice },
        Action::Deliver { pick: 0 },
    ];
    let zero = ModelConfig::new(1).with_randomness(Randomness::AllZero);
    let trace = model::check(&mut Reference::new(), &zero, &actions).expect("authenticity holds");
    let last = trace.events.last().expect("an event per step");
    // Bob sees message 0 of a chain he already read message 0 of: refused
    // (as a replay), though it is new.
    match last {
        model::Event::Deliver { outcome, .. } => assert!(outcome.is_err(), "{outcome:?}"),
        other => panic!("unexpected {other:?}"),
    }
    // The same conversation with fresh randomness is fine.
    model::check(&mut Reference::new(), &ModelConfig::new(1), &actions).expect("correct");
}

/// The PROPTEST_CASES override this file documents really reaches proptest.
#[test]
fn proptest_cases_env_var_overrides_the_default() {
    let expected = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    assert_eq!(config(256).cases, expected);
}

/// Plays a scenario case on `imp` through the Implementation trait and
/// compares every outcome with the recorded one.
fn replay(imp: &mut impl Implementation, case: &ScenarioCase) -> Result<(), String> {
    imp.reset();
    let setup = case
        .setup
        .ratchet()
        .ok_or("the model's scenarios start from a shared key")?;
    let init = |role: Role, ratchet_key: &[u8], keys: &[ratchetproof::vectors::Hex]| SessionInit {
        suite: DEFAULT_SUITE.name().into(),
        role,
        shared_key: setup.shared_key.0.clone(),
        ratchet_key: ratchet_key.to_vec(),
        ratchet_private_keys: keys.iter().map(|k| k.0.clone()).collect(),
        max_skip: case.limits.map(|l| l.max_skip),
        max_stored_skipped_keys: case.limits.map(|l| l.max_stored_skipped_keys),
    };
    let mut parties = BTreeMap::new();
    let alice = init(
        Role::Alice,
        &setup.bob_ratchet_public_key.0,
        &setup.alice.ratchet_private_keys,
    );
    let bob = init(
        Role::Bob,
        &setup.bob_ratchet_private_key.0,
        &setup.bob.ratchet_private_keys,
    );
    parties.insert(
        "alice".to_string(),
        imp.init_session(&alice)
            .map(|o| o.session)
            .map_err(|e| e.to_string())?,
    );
    parties.insert(
        "bob".to_string(),
        imp.init_session(&bob)
            .map(|o| o.session)
            .map_err(|e| e.to_string())?,
    );
    let mut sent: Vec<Vec<u8>> = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        let fail = |what: String| format!("step {i}: {what}");
        match step {
            Step::Send {
                party,
                plaintext,
                ad,
                expected,
            } => {
                let got = imp
                    .encrypt(&Encrypt::new(
                        parties[party],
                        &plaintext.0,
                        &ad.as_ref().unwrap_or(&setup.associated_data).0,
                    ))
                    .map(|o| o.message);
                match (&expected.outcome, got) {
                    (Outcome::Ok(m), Ok(wire)) if m.message.0 == wire => sent.push(wire),
                    (Outcome::Error { error }, Err(e)) if *error == e.class => {}
                    (expected, got) => {
                        return Err(fail(format!("send: expected {expected:?}, got {got:?}")));
                    }
                }
            }
            Step::Deliver {
                party,
                message,
                bytes,
                message_type: _,
                ad,
                expected,
            } => {
                let wire = match (bytes, message) {
                    (Some(bytes), _) => bytes.0.clone(),
                    (None, Some(m)) => sent[*m].clone(),
                    (None, None) => return Err(fail("deliver names no message".into())),
                };
                let got = imp
                    .decrypt(&Decrypt::new(
                        parties[party],
                        &wire,
                        &ad.as_ref().unwrap_or(&setup.associated_data).0,
                    ))
                    .map(|o| o.plaintext);
                match (&expected.outcome, got) {
                    (Outcome::Ok(p), Ok(pt)) if p.plaintext.0 == pt => {}
                    (Outcome::Error { error }, Err(e)) if *error == e.class => {}
                    (expected, got) => {
                        return Err(fail(format!("deliver: expected {expected:?}, got {got:?}")));
                    }
                }
            }
            Step::Capture {
                party,
                name,
                ratchet_private_keys,
                ..
            } => {
                let keys: Vec<Vec<u8>> = ratchet_private_keys.iter().map(|k| k.0.clone()).collect();
                let copy = imp
                    .clone_session(&CloneSession::new(parties[party], &keys))
                    .map(|o| o.session)
                    .map_err(|e| fail(e.to_string()))?;
                parties.insert(name.clone(), copy);
            }
        }
    }
    Ok(())
}
