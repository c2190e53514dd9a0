//! Bodies of the fuzz targets in `fuzz/`. Each cargo-fuzz target is a thin
//! wrapper around one function here, so the same code runs on stable Rust:
//! `tests/fuzz_corpus.rs` replays every committed corpus file through it.
//!
//! A body panics only when it finds a bug (a broken invariant); it never
//! panics on input the code under test is allowed to reject.
//!
//! No suite is named here: the targets run every suite of
//! [`suite::all`], take byte offsets from each suite's message layout, and
//! each body has an `_in` form that takes the suite (or its live sessions)
//! as a value, so a suite defined in a test runs through the same checks.
//! `olm-v1`, whose ratchet is not a suite, has its own body (`olm.rs`).

use std::sync::OnceLock;

use ratchetproof_protocol::suite::{self, FieldRole, WireEncoding};
use ratchetproof_protocol::x3dh::{KemPrekeyUse, Responder, start_session};
use ratchetproof_protocol::{KeyPair, PrivateKey, Session, SessionConfig, Suite};

use zeroize::Zeroizing;

use crate::generate::derived_key;
use crate::reference::KeyQueueRng;

mod olm;
pub use olm::olm_untrusted;

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

/// The fuzz responder for `suite`: identity, signed prekey 1, one-time
/// prekey 2, and for a suite whose agreement has a KEM, one-time KEM
/// prekey 3 from a fixed seed.
fn responder(suite: Suite) -> Responder {
    let mut bob = Responder::new(pair("fuzz/bob/ik"));
    bob.add_signed_prekey(1, pair("fuzz/bob/spk"));
    bob.add_one_time_prekey(2, pair("fuzz/bob/opk"));
    if let Some(kem) = suite.key_agreement().kem() {
        let mut seed = Zeroizing::new([0u8; 64]);
        let (d, z) = seed.split_at_mut(32);
        d.copy_from_slice(&derived_key("fuzz/bob/kem/d"));
        z.copy_from_slice(&derived_key("fuzz/bob/kem/z"));
        bob.add_kem_prekey(3, kem.generate_from_seed(&seed), KemPrekeyUse::OneTime);
    }
    bob
}

/// The deterministic conversation of [`LiveSessions`] in `suite`.
pub fn build_live(suite: Suite) -> Option<LiveSessions> {
    let config = SessionConfig {
        max_skip: 64,
        max_stored_skipped_keys: 128,
    };
    let mut bob_responder = responder(suite);
    let bundle = bob_responder
        .suite_bundle(suite, 1, Some(2), &mut keys("fuzz/sig", 4))
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

/// The live sessions of every suite in [`suite::all`], in its order (built
/// once per process).
fn all_live() -> &'static [(Suite, Option<LiveSessions>)] {
    static LIVE: OnceLock<Vec<(Suite, Option<LiveSessions>)>> = OnceLock::new();
    LIVE.get_or_init(|| suite::all().map(|s| (s, build_live(s))).into())
}

/// The shared live sessions of a suite of [`suite::all`] (`None` for any
/// other suite: build those with [`build_live`]).
pub fn live_sessions(suite: Suite) -> Option<&'static LiveSessions> {
    all_live()
        .iter()
        .find(|(s, _)| s.id() == suite.id())
        .and_then(|(_, live)| live.as_ref())
}

/// `decode_message`: every wire decoder of every suite
/// ([`decode_message_in`]).
pub fn decode_message(data: &[u8]) {
    for suite in suite::all() {
        decode_message_in(suite, data);
    }
}

/// `decode_message` in one suite. Where a ratchet message parses, its
/// layout covers it field after field; in a fixed encoding the layout's
/// fields hold exactly the parsed header (key bytes, big-endian counters),
/// i.e. the header re-encodes to the same bytes. Where an initial message
/// decodes, its re-encoding decodes to the same values, and in a fixed
/// encoding is the input itself. (Protobuf decoders accept non-canonical
/// encodings — unknown fields, long varints — so there the invariant is on
/// the decoded values.)
pub fn decode_message_in(suite: Suite, data: &[u8]) {
    let fixed = suite.wire_encoding() == WireEncoding::Fixed;
    if let Ok(header) = suite.parse_header(data) {
        let layout = suite.message_layout(data);
        assert!(
            layout.is_ok() || !fixed,
            "{}: a message that parses has no layout",
            suite.name()
        );
        if let Ok(layout) = layout {
            let mut end = 0;
            for field in &layout.fields {
                assert_eq!(field.range.start, end, "{}: layout has a gap", suite.name());
                end = field.range.end;
            }
            assert_eq!(
                end,
                data.len(),
                "{}: layout does not cover the message",
                suite.name()
            );
            if fixed {
                let bytes = |role| layout.range(role).and_then(|r| data.get(r));
                assert_eq!(
                    (
                        bytes(FieldRole::RatchetKey),
                        bytes(FieldRole::PreviousCounter),
                        bytes(FieldRole::Counter),
                    ),
                    (
                        Some(&header.dh.as_bytes()[..]),
                        Some(&header.pn.to_be_bytes()[..]),
                        Some(&header.n.to_be_bytes()[..]),
                    ),
                    "{}: header re-encodes differently",
                    suite.name()
                );
            }
        }
    }
    if let Ok(initial) = suite.decode_initial(data) {
        let encoded = suite.encode_initial(&initial);
        if fixed {
            assert_eq!(
                encoded,
                data,
                "{}: initial message re-encodes differently",
                suite.name()
            );
        }
        assert_eq!(
            suite.decode_initial(&encoded).ok(),
            Some(initial),
            "{}: initial message does not survive re-encoding",
            suite.name()
        );
    }
}

/// `state_deserialize`: arbitrary bytes to the session-state decoder; what
/// decodes must re-encode to the same bytes.
pub fn state_deserialize(data: &[u8]) {
    state_deserialize_in(&suite::all(), data);
}

/// `state_deserialize` with the suite ids resolved among `suites`.
pub fn state_deserialize_in(suites: &[Suite], data: &[u8]) {
    if let Ok(session) = Session::from_bytes_in(data, suites) {
        assert_eq!(
            &session.to_bytes()[..],
            data,
            "state re-encodes differently"
        );
    }
}

/// `decrypt_untrusted`: arbitrary bytes delivered to a live session (to Bob,
/// or to Alice when the first byte is odd, under the real or an altered AD
/// when bit 1 is set, in suite `(byte >> 2) mod n` of [`suite::all`] — bit 2
/// picks `signal-v3`). Never panics; on error the session is
/// byte-identical; a genuine pending message still decrypts afterwards.
pub fn decrypt_untrusted(data: &[u8]) {
    static FIXTURES: OnceLock<Vec<Option<DecryptFixture<'static>>>> = OnceLock::new();
    let fixtures = FIXTURES.get_or_init(|| {
        all_live()
            .iter()
            .map(|(_, live)| live.as_ref().map(DecryptFixture::new))
            .collect()
    });
    let selector = data.first().copied().unwrap_or(0);
    let Some(Some(fixture)) = fixtures.get(usize::from(selector >> 2) % fixtures.len().max(1))
    else {
        return;
    };
    decrypt_untrusted_with(fixture, data);
}

/// `decrypt_untrusted` on given live sessions (bits 0 and 1 of the first
/// byte select the recipient and the AD). Builds the fixture on every call:
/// for tests; the fuzz target keeps its fixtures for the whole process.
pub fn decrypt_untrusted_in(live: &LiveSessions, data: &[u8]) {
    decrypt_untrusted_with(&DecryptFixture::new(live), data);
}

/// What every execution of `decrypt_untrusted` would otherwise recompute:
/// both sessions' serialized states, the RNG, and whether every pending
/// genuine message decrypts on Bob's untouched session.
///
/// The state format serializes every field of a session (`state_deserialize`
/// checks that it round-trips), so a session byte-identical to the fixture's
/// behaves like it: after a refused input whose state is unchanged,
/// re-decrypting the pending messages would repeat the check made here once.
struct DecryptFixture<'a> {
    live: &'a LiveSessions,
    bob_bytes: Zeroizing<Vec<u8>>,
    alice_bytes: Zeroizing<Vec<u8>>,
    rng: KeyQueueRng,
    /// Every message of `pending_for_bob` decrypts on a copy of Bob's session.
    pending_decrypt: bool,
}

impl<'a> DecryptFixture<'a> {
    fn new(live: &'a LiveSessions) -> Self {
        let rng = keys("fuzz/decrypt", 2);
        let pending_decrypt = live.pending_for_bob.iter().all(|m| {
            live.bob
                .clone()
                .decrypt(m, &live.ad, &mut rng.clone())
                .is_ok()
        });
        Self {
            live,
            bob_bytes: live.bob.to_bytes(),
            alice_bytes: live.alice.to_bytes(),
            rng,
            pending_decrypt,
        }
    }
}

/// One execution of `decrypt_untrusted`. Checks per input: no panic; a
/// refused input leaves the state byte-identical to the fixture's; an
/// accepted one is a genuine message for Bob under the real AD; Bob's pending
/// genuine messages still decrypt (re-decrypted after an accepted input;
/// after a refused one implied by byte identity, see [`DecryptFixture`]).
fn decrypt_untrusted_with(fixture: &DecryptFixture<'_>, data: &[u8]) {
    let live = fixture.live;
    let (selector, message) = data.split_first().unwrap_or((&0, &[]));
    let to_bob = selector & 1 == 0;
    let (mut session, before) = if to_bob {
        (live.bob.clone(), &fixture.bob_bytes)
    } else {
        (live.alice.clone(), &fixture.alice_bytes)
    };
    let ad: &[u8] = if selector & 2 == 0 { &live.ad } else { &[] };
    let mut rng = fixture.rng.clone();
    match session.decrypt(message, ad, &mut rng) {
        Err(_) => {
            assert_eq!(
                *session.to_bytes(),
                **before,
                "a rejected message changed the state"
            );
            // The state is the fixture's: its pending messages decrypt.
            assert!(
                !to_bob || fixture.pending_decrypt,
                "a genuine message stopped decrypting"
            );
        }
        Ok(_) => {
            // Only genuine messages can decrypt; each genuine pending message
            // for Bob is accepted at most once.
            let genuine = live
                .pending_for_bob
                .iter()
                .chain(&live.future_for_bob)
                .any(|m| m == message);
            assert!(genuine && selector & 3 == 0, "forged message accepted");
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
}

/// `x3dh_initial_message`: arbitrary initial messages to a responder with
/// real prekeys. A rejected message leaves the one-time prekey in place.
pub fn x3dh_initial_message(data: &[u8]) {
    for suite in suite::all() {
        x3dh_initial_message_in(suite, data);
    }
}

/// The fuzz responder of a suite of [`suite::all`] and its RNG, derived once
/// per process (deriving the key pairs costs three X25519 base-point
/// multiplications, and a KEM key generation); any other suite gets its own.
fn responder_fixture(suite: Suite) -> (Responder, KeyQueueRng) {
    static FIXTURE: OnceLock<Vec<(u8, Responder)>> = OnceLock::new();
    let built = FIXTURE.get_or_init(|| suite::all().map(|s| (s.id(), responder(s))).into());
    let bob = built
        .iter()
        .find(|(id, _)| *id == suite.id())
        .map_or_else(|| responder(suite), |(_, bob)| bob.clone());
    (bob, keys("fuzz/x3dh", 2))
}

/// `x3dh_initial_message` in one suite: a copy of the fuzz responder (one
/// one-time prekey, and a one-time KEM prekey where the suite's agreement
/// has a KEM) accepts `data`; if it refuses, both prekeys must remain.
pub fn x3dh_initial_message_in(suite: Suite, data: &[u8]) {
    let (mut bob, mut rng) = responder_fixture(suite);
    let result = bob.accept(suite, SessionConfig::default(), data, &mut rng);
    if result.is_err() {
        assert!(
            bob.has_one_time_prekey(2),
            "a rejected initial message consumed the one-time prekey"
        );
        assert!(
            suite.key_agreement().kem().is_none() || bob.has_kem_prekey(3),
            "a rejected initial message consumed the one-time KEM prekey"
        );
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

/// The prefix of a suite's seed names: none for the first suite of
/// [`suite::all`] (the default; its seeds predate the others), the suite's
/// name for every other.
fn seed_prefix(index: usize, suite: Suite) -> String {
    if index == 0 {
        String::new()
    } else {
        format!("{}-", suite.name())
    }
}

/// Seeds from a live conversation: its genuine ratchet messages, and
/// truncated, re-addressed and tampered copies (offsets from the layout).
fn message_seeds(live: &LiveSessions, suite: Suite, prefix: &str, selector: u8) -> Vec<Seed> {
    let mut out = Vec::new();
    let mut push = |target: &'static str, name: String, bytes: Vec<u8>| {
        out.push((target, format!("{prefix}{name}"), bytes));
    };
    for (i, m) in live
        .pending_for_bob
        .iter()
        .chain(&live.future_for_bob)
        .enumerate()
    {
        push("decode_message", format!("message-{i}"), m.clone());
        push(
            "decrypt_untrusted",
            format!("bob-genuine-{i}"),
            [&[selector][..], m].concat(),
        );
        push(
            "decrypt_untrusted",
            format!("alice-{i}"),
            [&[selector | 1][..], m].concat(),
        );
        push(
            "decrypt_untrusted",
            format!("bob-wrong-ad-{i}"),
            [&[selector | 2][..], m].concat(),
        );
        let Ok(layout) = suite.message_layout(m) else {
            continue;
        };
        // Empty, the version byte alone, everything before the ciphertext,
        // and one byte short of the overhead.
        let start = |role| layout.range(role).map(|r| r.start);
        let overhead = layout
            .range(FieldRole::Ciphertext)
            .map(|c| m.len() - c.len());
        let cuts = [
            Some(0),
            layout.range(FieldRole::Version).map(|r| r.end),
            start(FieldRole::Ciphertext),
            overhead.and_then(|o| o.checked_sub(1)),
        ];
        for cut in cuts.into_iter().flatten() {
            push(
                "decode_message",
                format!("message-{i}-cut-{cut}"),
                m.get(..cut).unwrap_or_default().to_vec(),
            );
        }
        // A byte of PN: the third of a fixed field, the last of a shorter one.
        if let Some(pn) = layout.range(FieldRole::PreviousCounter) {
            let mut tampered = m.clone();
            if let Some(b) = tampered.get_mut((pn.start + 2).min(pn.end.saturating_sub(1))) {
                *b ^= 1;
            }
            push(
                "decrypt_untrusted",
                format!("bob-tampered-pn-{i}"),
                [&[selector][..], &tampered].concat(),
            );
        }
    }
    out
}

/// One seed file: (target, file name, bytes).
type Seed = (&'static str, String, Vec<u8>);

/// The committed seed corpora: (target, file name, bytes), deterministic.
/// Every suite of [`suite::all`] contributes the same families.
pub fn seed_corpus() -> Vec<Seed> {
    let mut out = Vec::new();
    for (index, suite) in suite::all().into_iter().enumerate() {
        let (Some(live), Ok(selector)) = (live_sessions(suite), u8::try_from(index << 2)) else {
            continue;
        };
        out.extend(message_seeds(
            live,
            suite,
            &seed_prefix(index, suite),
            selector,
        ));
    }
    let mut push =
        |target: &'static str, name: String, bytes: Vec<u8>| out.push((target, name, bytes));

    // Initial messages for the fuzz responder, genuine and tampered, in
    // every suite's encoding.
    let mut rng = keys("fuzz/seed-x3dh", 8);
    for (index, suite) in suite::all().into_iter().enumerate() {
        let bob = responder(suite);
        let prefix = seed_prefix(index, suite);
        for (i, opk) in [Some(2u32), None].into_iter().enumerate() {
            let Ok(bundle) = bob.suite_bundle(suite, 1, opk, &mut rng) else {
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
    }

    // Serialized states.
    for (index, suite) in suite::all().into_iter().enumerate() {
        let Some(live) = live_sessions(suite) else {
            continue;
        };
        let prefix = seed_prefix(index, suite);
        for (name, session) in [("alice", &live.alice), ("bob", &live.bob)] {
            let bytes = session.to_bytes().to_vec();
            push(
                "state_deserialize",
                format!("{prefix}{name}"),
                bytes.clone(),
            );
            push(
                "state_deserialize",
                format!("{prefix}{name}-cut"),
                bytes.get(..bytes.len() / 2).unwrap_or_default().to_vec(),
            );
        }
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
    for (name, bytes) in olm::seeds() {
        push("olm_untrusted", name, bytes);
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
    session_interaction_in(&ratchetproof_protocol::DEFAULT_SUITE, data);
}

/// `session_interaction` in `suite` (which the reference's sessions must
/// know by name).
#[cfg(feature = "arbitrary")]
pub fn session_interaction_in(suite: Suite, data: &[u8]) {
    let (config, actions) = interaction_script(data);
    let config = config.with_suite(suite);
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
