//! Bodies of the fuzz targets in `fuzz/`. Each cargo-fuzz target is a thin
//! wrapper around one function here, so the same code runs on stable Rust:
//! `tests/fuzz_corpus.rs` replays every committed corpus file through it.
//!
//! A body panics only when it finds a bug (a broken invariant); it never
//! panics on input the code under test is allowed to reject.

use std::sync::OnceLock;

use ratchetproof_protocol::x3dh::{InitialMessage, Responder, start_session};
use ratchetproof_protocol::{
    CipherSuite, DEFAULT_SUITE, Header, KeyPair, PrivateKey, SIGNAL_V3_SUITE, Session,
    SessionConfig, Suite,
};

use crate::generate::derived_key;
use crate::reference::KeyQueueRng;

fn pair(label: &str) -> KeyPair {
    KeyPair::from_private(PrivateKey::from_bytes(derived_key(label)))
}

fn keys(label: &str, n: usize) -> KeyQueueRng {
    KeyQueueRng::new((0..n).map(|i| derived_key(&format!("{label}/{i}"))))
}

/// A live, deterministic conversation: Alice and Bob after X3DH and a few
/// messages both ways, Bob holding skipped keys, plus the AD.
pub struct LiveSessions {
    /// Alice's session.
    pub alice: Session,
    /// Bob's session.
    pub bob: Session,
    /// X3DH associated data.
    pub ad: Vec<u8>,
    /// Genuine messages from Alice that Bob has not received yet.
    pub pending_for_bob: Vec<Vec<u8>>,
    /// The next messages Alice would send (from a copy of her state): genuine
    /// too, so Bob may accept them.
    pub future_for_bob: Vec<Vec<u8>>,
}

fn responder() -> Responder {
    let mut bob = Responder::new(pair("fuzz/bob/ik"));
    bob.add_signed_prekey(1, pair("fuzz/bob/spk"));
    bob.add_one_time_prekey(2, pair("fuzz/bob/opk"));
    bob
}

fn build_live(suite: Suite) -> Option<LiveSessions> {
    let config = SessionConfig {
        max_skip: 64,
        max_stored_skipped_keys: 128,
    };
    let mut bob_responder = responder();
    let bundle = bob_responder
        .bundle(1, Some(2), &mut keys("fuzz/sig", 2))
        .ok()?;
    let mut alice_rng = keys("fuzz/alice", 8);
    let mut bob_rng = keys("fuzz/bob", 8);
    let (mut alice, initial) = start_session(
        suite,
        config,
        &pair("fuzz/alice/ik"),
        &bundle,
        b"hi",
        &mut alice_rng,
    )
    .ok()?;
    let accepted = bob_responder
        .accept(suite, config, &suite.encode_initial(&initial), &mut bob_rng)
        .ok()?;
    let (mut bob, ad) = (accepted.session, accepted.associated_data.to_vec());
    let reply = bob.encrypt(b"hello", &ad).ok()?;
    alice.decrypt(&reply, &ad, &mut alice_rng).ok()?;
    let mut pending = Vec::new();
    for i in 0..4u8 {
        pending.push(alice.encrypt(&[i; 5], &ad).ok()?);
    }
    // Bob receives the last one: three keys of the chain become skipped.
    let last = pending.pop()?;
    bob.decrypt(&last, &ad, &mut bob_rng).ok()?;
    let mut next = alice.clone();
    let future = (0..2)
        .map(|_| next.encrypt(&[0x55; 40], &ad).ok())
        .collect::<Option<Vec<_>>>()?;
    Some(LiveSessions {
        alice,
        bob,
        ad,
        pending_for_bob: pending,
        future_for_bob: future,
    })
}

/// The shared live sessions of the default suite (built once per process).
pub fn live_sessions() -> Option<&'static LiveSessions> {
    static LIVE: OnceLock<Option<LiveSessions>> = OnceLock::new();
    LIVE.get_or_init(|| build_live(&DEFAULT_SUITE)).as_ref()
}

/// The same conversation in the `signal-v3` suite.
pub fn live_sessions_v3() -> Option<&'static LiveSessions> {
    static LIVE: OnceLock<Option<LiveSessions>> = OnceLock::new();
    LIVE.get_or_init(|| build_live(&SIGNAL_V3_SUITE)).as_ref()
}

/// `decode_message`: every wire decoder of the default suite. Where the input
/// decodes, encoding the result must give the input back.
pub fn decode_message(data: &[u8]) {
    if let Ok(header) = DEFAULT_SUITE.parse_header(data) {
        let encoded = header.encode();
        assert_eq!(
            data.get(1..1 + encoded.len()),
            Some(&encoded[..]),
            "header re-encodes differently"
        );
        assert_eq!(Header::decode(&encoded).ok(), Some(header));
    }
    if let Ok(initial) = InitialMessage::decode(data) {
        assert_eq!(
            initial.encode(),
            data,
            "initial message re-encodes differently"
        );
    }
    // signal-v3's protobuf decoders accept non-canonical encodings (unknown
    // fields, long varints), so the invariant is on the decoded values: the
    // canonical re-encoding decodes to the same thing.
    let v3 = &SIGNAL_V3_SUITE;
    let _ = v3.parse_header(data);
    if let Ok(initial) = v3.decode_initial(data) {
        assert_eq!(
            v3.decode_initial(&v3.encode_initial(&initial)).ok(),
            Some(initial),
            "signal-v3 initial message does not survive re-encoding"
        );
    }
}

/// `state_deserialize`: arbitrary bytes to the session-state decoder; what
/// decodes must re-encode to the same bytes.
pub fn state_deserialize(data: &[u8]) {
    if let Ok(session) = Session::from_bytes(data) {
        assert_eq!(
            &session.to_bytes()[..],
            data,
            "state re-encodes differently"
        );
    }
}

/// `decrypt_untrusted`: arbitrary bytes delivered to a live session (to Bob,
/// or to Alice when the first byte is odd, under the real or an altered AD
/// when bit 1 is set, in the `signal-v3` suite when bit 2 is set).
/// Never panics; on error the session is byte-identical; a genuine pending
/// message still decrypts afterwards.
pub fn decrypt_untrusted(data: &[u8]) {
    let (selector, message) = data.split_first().unwrap_or((&0, &[]));
    let live = if selector & 4 == 0 {
        live_sessions()
    } else {
        live_sessions_v3()
    };
    let Some(live) = live else { return };
    let mut session = if selector & 1 == 0 {
        live.bob.clone()
    } else {
        live.alice.clone()
    };
    let ad: &[u8] = if selector & 2 == 0 { &live.ad } else { &[] };
    let before = session.to_bytes();
    let mut rng = keys("fuzz/decrypt", 2);
    match session.decrypt(message, ad, &mut rng) {
        Err(_) => assert_eq!(
            *session.to_bytes(),
            *before,
            "a rejected message changed the state"
        ),
        Ok(_) => {
            // Only genuine messages can decrypt; each genuine pending message
            // for Bob is accepted at most once.
            let genuine = live
                .pending_for_bob
                .iter()
                .chain(&live.future_for_bob)
                .any(|m| m == message);
            assert!(genuine && selector & 3 == 0, "forged message accepted");
        }
    }
    if selector & 1 == 0 {
        for m in &live.pending_for_bob {
            if m != message {
                assert!(
                    session.clone().decrypt(m, &live.ad, &mut rng).is_ok(),
                    "a genuine message stopped decrypting"
                );
            }
        }
    }
}

/// `x3dh_initial_message`: arbitrary initial messages to a responder with
/// real prekeys. A rejected message leaves the one-time prekey in place.
pub fn x3dh_initial_message(data: &[u8]) {
    for suite in [&DEFAULT_SUITE as Suite, &SIGNAL_V3_SUITE] {
        let mut bob = responder();
        let mut rng = keys("fuzz/x3dh", 2);
        let result = bob.accept(suite, SessionConfig::default(), data, &mut rng);
        if result.is_err() {
            assert!(
                bob.has_one_time_prekey(2),
                "a rejected initial message consumed the one-time prekey"
            );
        }
    }
}

/// Bound on what a fuzzed vector file may ask the reference to do, so the
/// target measures robustness, not patience.
const MAX_FUZZ_LIMIT: u32 = 4096;

/// `vector_file`: arbitrary text to the vector loader; a file that loads is
/// run against the reference. Errors are fine; panics are bugs.
pub fn vector_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = std::path::Path::new("fuzz.json");
    let Ok(file) = crate::runner::load::parse(path, text) else {
        return;
    };
    if let crate::vectors::AnyFile::Scenarios(f) = &file {
        let too_big = f.tests.iter().any(|t| {
            t.limits.is_some_and(|l| {
                l.max_skip > MAX_FUZZ_LIMIT || l.max_stored_skipped_keys > MAX_FUZZ_LIMIT
            })
        });
        if too_big {
            return;
        }
    }
    let mut reference = crate::Reference::new();
    let caps = crate::Implementation::capabilities(&reference);
    let mut results = Vec::new();
    crate::runner::run_file(
        &mut reference,
        &caps,
        "fuzz.json",
        &file,
        &crate::runner::RunOptions::default(),
        &mut results,
    );
}

/// The committed seed corpora: (target, file name, bytes), deterministic.
pub fn seed_corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let Some(live) = live_sessions() else {
        return out;
    };
    let mut push =
        |target: &'static str, name: String, bytes: Vec<u8>| out.push((target, name, bytes));

    // Genuine, truncated and re-versioned ratchet messages.
    let messages: Vec<Vec<u8>> = live
        .pending_for_bob
        .iter()
        .chain(&live.future_for_bob)
        .cloned()
        .collect();
    for (i, m) in messages.iter().enumerate() {
        push("decode_message", format!("message-{i}"), m.clone());
        push(
            "decrypt_untrusted",
            format!("bob-genuine-{i}"),
            [&[0u8][..], m].concat(),
        );
        push(
            "decrypt_untrusted",
            format!("alice-{i}"),
            [&[1u8][..], m].concat(),
        );
        push(
            "decrypt_untrusted",
            format!("bob-wrong-ad-{i}"),
            [&[2u8][..], m].concat(),
        );
        for cut in [0usize, 1, 41, 56] {
            push(
                "decode_message",
                format!("message-{i}-cut-{cut}"),
                m.get(..cut).unwrap_or_default().to_vec(),
            );
        }
        let mut tampered = m.clone();
        if let Some(b) = tampered.get_mut(35) {
            *b ^= 1;
        }
        push(
            "decrypt_untrusted",
            format!("bob-tampered-pn-{i}"),
            [&[0u8][..], &tampered].concat(),
        );
    }

    // The same for the signal-v3 conversation (selector bit 2).
    if let Some(v3) = live_sessions_v3() {
        for (i, m) in v3
            .pending_for_bob
            .iter()
            .chain(&v3.future_for_bob)
            .enumerate()
        {
            push("decode_message", format!("v3-message-{i}"), m.clone());
            push(
                "decrypt_untrusted",
                format!("v3-bob-genuine-{i}"),
                [&[4u8][..], m].concat(),
            );
            push(
                "decrypt_untrusted",
                format!("v3-alice-{i}"),
                [&[5u8][..], m].concat(),
            );
            let mut tampered = m.clone();
            if let Some(b) = tampered.get_mut(39) {
                *b ^= 1;
            }
            push(
                "decrypt_untrusted",
                format!("v3-bob-tampered-pn-{i}"),
                [&[4u8][..], &tampered].concat(),
            );
        }
    }

    // Initial messages for the fuzz responder, genuine and tampered, in
    // both suites' encodings.
    let bob = responder();
    let mut rng = keys("fuzz/seed-x3dh", 8);
    let runs = [
        (&DEFAULT_SUITE as Suite, Some(2u32), ""),
        (&DEFAULT_SUITE, None, ""),
        (&SIGNAL_V3_SUITE, Some(2), "v3-"),
        (&SIGNAL_V3_SUITE, None, "v3-"),
    ];
    for (i, (suite, opk, prefix)) in runs.into_iter().enumerate() {
        let i = i % 2;
        let Ok(bundle) = bob.bundle(1, opk, &mut rng) else {
            continue;
        };
        let Ok((_, initial)) = start_session(
            suite,
            SessionConfig::default(),
            &pair("fuzz/seed/alice"),
            &bundle,
            b"seed",
            &mut rng,
        ) else {
            continue;
        };
        let wire = suite.encode_initial(&initial);
        push(
            "x3dh_initial_message",
            format!("{prefix}genuine-{i}"),
            wire.clone(),
        );
        push(
            "decode_message",
            format!("{prefix}initial-{i}"),
            wire.clone(),
        );
        let mut bad = wire.clone();
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        push("x3dh_initial_message", format!("{prefix}bad-tag-{i}"), bad);
        push(
            "x3dh_initial_message",
            format!("{prefix}truncated-{i}"),
            wire.get(..70).unwrap_or_default().to_vec(),
        );
    }

    // Serialized states.
    let mut states = vec![("alice", &live.alice), ("bob", &live.bob)];
    if let Some(v3) = live_sessions_v3() {
        states.extend([("v3-alice", &v3.alice), ("v3-bob", &v3.bob)]);
    }
    for (name, session) in states {
        let bytes = session.to_bytes().to_vec();
        push("state_deserialize", name.to_string(), bytes.clone());
        push(
            "state_deserialize",
            format!("{name}-cut"),
            bytes.get(..bytes.len() / 2).unwrap_or_default().to_vec(),
        );
    }

    // Small vector files of every kind: the first cases of each generated file.
    if let Ok(files) = crate::generate::generate() {
        for f in files {
            let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(&f.contents) else {
                continue;
            };
            // `suite/kind.json` → `suite-kind`, so both suites' files are seeds.
            let stem = f
                .path
                .with_extension("")
                .to_string_lossy()
                .replace(['/', '\\'], "-");
            if let Some(tests) = doc.get_mut("tests").and_then(|t| t.as_array_mut()) {
                tests.truncate(2);
            }
            if let Some(n) = doc.get_mut("numberOfTests") {
                *n = 2.into();
            }
            if let Ok(text) = serde_json::to_string_pretty(&doc) {
                push(
                    "vector_file",
                    format!("{stem}-2-cases.json"),
                    text.into_bytes(),
                );
            }
        }
    }
    #[cfg(feature = "arbitrary")]
    for (i, script) in interaction_seeds().into_iter().enumerate() {
        push("session_interaction", format!("script-{i}"), script);
    }
    push(
        "vector_file",
        "not-a-vector.json".into(),
        b"{\"schema\": {\"name\": \"x\", \"version\": 1}}".to_vec(),
    );
    out
}

/// The longest action script the stateful target plays.
pub const MAX_FUZZ_ACTIONS: usize = 64;

/// Decodes a fuzzer input into a model configuration and an action script:
/// the first byte seeds the run, the rest are `arbitrary` actions.
#[cfg(feature = "arbitrary")]
pub fn interaction_script(data: &[u8]) -> (crate::model::ModelConfig, Vec<crate::model::Action>) {
    let mut u = arbitrary::Unstructured::new(data);
    let seed = u.arbitrary::<u8>().unwrap_or(0);
    let actions = u
        .arbitrary_iter::<crate::model::Action>()
        .map(|it| it.take(MAX_FUZZ_ACTIONS).filter_map(Result::ok).collect())
        .unwrap_or_default();
    (crate::model::ModelConfig::new(u64::from(seed)), actions)
}

/// `session_interaction`: an `arbitrary`-derived action script between two
/// parties over the model's adversarial network (deliver, drop, replay,
/// reorder, tamper, capture, eavesdrop), with every invariant of the model
/// checked after every step on the reference's sessions — the same checks as
/// the property tests.
#[cfg(feature = "arbitrary")]
pub fn session_interaction(data: &[u8]) {
    let (config, actions) = interaction_script(data);
    let mut subject = crate::model::ProtocolSessions::new();
    if let Err(violation) = crate::model::check(&mut subject, &config, &actions) {
        #[allow(clippy::panic)]
        {
            panic!(
                "{violation}\nminimal actions: {:?}",
                violation.effective_actions
            );
        }
    }
}

/// Seed scripts for `session_interaction`: fixed pseudo-random byte strings
/// whose decoded scripts are at least 8 actions long — deterministic, varied,
/// and a starting point the fuzzer mutates from.
#[cfg(feature = "arbitrary")]
fn interaction_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut i = 0u32;
    while seeds.len() < 12 && i < 1000 {
        let mut bytes = Vec::new();
        for j in 0..16 {
            bytes.extend_from_slice(&derived_key(&format!("fuzz/interaction/{i}/{j}")));
        }
        let (_, actions) = interaction_script(&bytes);
        if actions.len() >= 8 {
            seeds.push(bytes);
        }
        i += 1;
    }
    seeds
}
