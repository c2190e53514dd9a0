//! A third suite, defined only here, through the protocol, the scenario
//! model's properties and the fuzz bodies — the proof that a suite is one
//! module (issue 14): nothing outside this file knows it.
//!
//! It is the default suite with its header fields in the opposite order
//! (`version ‖ n ‖ pn ‖ dh`), its own version byte and its own KDF infos,
//! built from the default suite's public parts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use proptest::prelude::*;
use ratchetproof::Implementation;
use ratchetproof::generate;
use ratchetproof::model::ProtocolSessions;
use ratchetproof::model::strategy::{self, Mix};
use ratchetproof::model::{self, ModelConfig};
use ratchetproof::reference::Reference;
use ratchetproof::runner::{self, Report, RunOptions, Status};
use ratchetproof::{KeyQueueRng, fuzzing};
use ratchetproof_protocol::suite::default::{
    DefaultCodec, DefaultInitialCodec, DefaultRatchet, HEADER_LEN,
};
use ratchetproof_protocol::suite::{
    FieldRole, KeyAgreement, MessageCodec, MessageLayout, RatchetKdf, WireEncoding, WireField,
};
use ratchetproof_protocol::x3dh::{Responder, SignatureConformance, X3dh, start_session};
use ratchetproof_protocol::{
    CipherSuite, DEFAULT_SUITE, Error, Header, KeyPair, MessageKey, PrivateKey, PublicKey, Session,
    SessionConfig, SharedKey, Suite,
};

// ---- The suite -------------------------------------------------------------

const INFO_X3DH: &[u8] = b"third-suite/x3dh";
const INFO_ROOT: &[u8] = b"third-suite/root";
const INFO_MESSAGE_KEYS: &[u8] = b"third-suite/message-keys";
const VERSION: u8 = 0x03;
/// The default suite's version byte, which the wrapped codec expects.
const INNER_VERSION: u8 = 0x01;
const TAG_LEN: usize = 16;

static RATCHET: DefaultRatchet = DefaultRatchet {
    root_info: INFO_ROOT,
    message_keys_info: INFO_MESSAGE_KEYS,
};
static INNER: DefaultCodec = DefaultCodec {
    message_keys_info: INFO_MESSAGE_KEYS,
};
static AGREEMENT: X3dh = X3dh {
    info: INFO_X3DH,
    initial: &DefaultInitialCodec,
    signatures: SignatureConformance::Xeddsa,
};

/// `version ‖ n (4) ‖ pn (4) ‖ dh (32) ‖ ciphertext ‖ tag`: the default
/// message with its header reversed and its own version byte. The AEAD
/// covers the default order, which is the same information.
#[derive(Debug)]
struct ReversedCodec;

/// Default order → this suite's.
fn reverse(inner: &[u8]) -> Vec<u8> {
    let mut out = vec![VERSION];
    out.extend_from_slice(&inner[37..41]);
    out.extend_from_slice(&inner[33..37]);
    out.extend_from_slice(&inner[1..33]);
    out.extend_from_slice(&inner[41..]);
    out
}

/// This suite's order → the default's, for the wrapped codec to judge.
fn restore(message: &[u8]) -> Result<Vec<u8>, Error> {
    match message.first() {
        None => return Err(Error::Malformed("empty message")),
        Some(&VERSION) => {}
        Some(&other) => return Err(Error::UnsupportedVersion(other)),
    }
    let mut out = vec![INNER_VERSION];
    if message.len() < 1 + HEADER_LEN {
        out.extend_from_slice(&message[1..]);
        return Ok(out);
    }
    out.extend_from_slice(&message[9..41]);
    out.extend_from_slice(&message[5..9]);
    out.extend_from_slice(&message[1..5]);
    out.extend_from_slice(&message[41..]);
    Ok(out)
}

impl MessageCodec for ReversedCodec {
    fn seal(
        &self,
        mk: &MessageKey,
        header: &Header,
        plaintext: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>, Error> {
        Ok(reverse(&INNER.seal(mk, header, plaintext, ad)?))
    }

    fn parse_header(&self, message: &[u8]) -> Result<Header, Error> {
        INNER.parse_header(&restore(message)?)
    }

    fn open(&self, mk: &MessageKey, message: &[u8], ad: &[u8]) -> Result<Vec<u8>, Error> {
        INNER.open(mk, &restore(message)?, ad)
    }

    fn wire_encoding(&self) -> WireEncoding {
        WireEncoding::Fixed
    }

    fn message_layout(&self, message: &[u8]) -> Result<MessageLayout, Error> {
        self.parse_header(message)?;
        let tag = message.len() - TAG_LEN;
        Ok(MessageLayout {
            fields: vec![
                WireField::new(FieldRole::Version, 0..1, "version"),
                WireField::new(FieldRole::Counter, 1..5, "n"),
                WireField::new(FieldRole::PreviousCounter, 5..9, "pn"),
                WireField::new(FieldRole::RatchetKey, 9..41, "dh"),
                WireField::new(FieldRole::Ciphertext, 41..tag, "ciphertext"),
                WireField::new(FieldRole::Tag, tag..message.len(), "tag"),
            ],
        })
    }
}

#[derive(Debug)]
struct ThirdSuite;

static THIRD: ThirdSuite = ThirdSuite;

impl CipherSuite for ThirdSuite {
    fn name(&self) -> &'static str {
        "test-third-suite"
    }

    fn id(&self) -> u8 {
        0xf3
    }

    fn ratchet(&self) -> &dyn RatchetKdf {
        &RATCHET
    }

    fn codec(&self) -> &dyn MessageCodec {
        &ReversedCodec
    }

    fn key_agreement(&self) -> &dyn KeyAgreement {
        &AGREEMENT
    }
}

const SUITES: &[Suite] = &[&THIRD];

// ---- The protocol ------------------------------------------------------------

fn pair(seed: u8) -> KeyPair {
    KeyPair::from_private(PrivateKey::from_bytes([seed; 32]))
}

fn queue(from: u8) -> KeyQueueRng {
    KeyQueueRng::new((from..from + 8).map(|k| [k; 32]))
}

/// X3DH and a conversation in the third suite; sessions export and restore
/// through `Session::from_bytes_in`.
#[test]
fn the_protocol_speaks_the_third_suite() {
    let mut bob = Responder::new(pair(1));
    bob.add_signed_prekey(1, pair(2));
    bob.add_one_time_prekey(7, pair(3));
    let bundle = bob.bundle(1, Some(7), &mut queue(10)).unwrap();
    let config = SessionConfig::default();
    let (mut alice, initial) =
        start_session(&THIRD, config, &pair(4), &bundle, b"hi", &mut queue(20)).unwrap();
    let wire = THIRD.encode_initial(&initial);
    let accepted = bob.accept(&THIRD, config, &wire, &mut queue(40)).unwrap();
    assert_eq!(accepted.plaintext, b"hi");
    let (mut bob, ad) = (accepted.session, accepted.associated_data);

    // Its own infos: the same keys under the default suite agree on nothing.
    let default_start = start_session(
        &DEFAULT_SUITE,
        config,
        &pair(4),
        &bundle,
        b"hi",
        &mut queue(20),
    )
    .unwrap();
    assert_ne!(default_start.1.message, initial.message);

    let reply = bob.encrypt(b"reply", &ad).unwrap();
    assert_eq!(reply[0], VERSION);
    let header = THIRD.parse_header(&reply).unwrap();
    assert_eq!(&reply[9..41], header.dh.as_bytes());
    assert_eq!(reply[1..5], header.n.to_be_bytes());
    assert_eq!(
        alice.decrypt(&reply, &ad, &mut queue(60)).unwrap(),
        b"reply"
    );
    assert_eq!(
        DEFAULT_SUITE.parse_header(&reply).unwrap_err(),
        Error::UnsupportedVersion(VERSION)
    );

    // State: restored among the caller's suites, refused without them.
    let bytes = bob.to_bytes();
    assert!(Session::from_bytes(&bytes).is_err());
    let mut restored = Session::from_bytes_in(&bytes, SUITES).unwrap();
    assert_eq!(*restored.to_bytes(), *bytes);
    let next = alice.encrypt(b"again", &ad).unwrap();
    assert_eq!(
        restored.decrypt(&next, &ad, &mut queue(80)).unwrap(),
        b"again"
    );
    let _ = SharedKey::from_bytes([0; 32]);
    let _ = PublicKey::from_bytes([9; 32]);
}

// ---- The fuzz bodies -----------------------------------------------------------

#[test]
fn the_fuzz_bodies_run_on_the_third_suite() {
    let live = fuzzing::build_live(&THIRD).expect("a live conversation");
    let messages: Vec<Vec<u8>> = live
        .pending_for_bob
        .iter()
        .chain(&live.future_for_bob)
        .cloned()
        .collect();
    for m in &messages {
        fuzzing::decode_message_in(&THIRD, m);
        for cut in 0..m.len() {
            fuzzing::decode_message_in(&THIRD, &m[..cut]);
        }
        for selector in 0..4u8 {
            fuzzing::decrypt_untrusted_in(&live, &[&[selector][..], m].concat());
            let mut tampered = m.clone();
            tampered[6] ^= 1;
            fuzzing::decrypt_untrusted_in(&live, &[&[selector][..], &tampered].concat());
        }
        fuzzing::x3dh_initial_message_in(&THIRD, m);
    }
    for session in [&live.alice, &live.bob] {
        let bytes = session.to_bytes();
        fuzzing::state_deserialize_in(SUITES, &bytes);
        fuzzing::state_deserialize_in(SUITES, &bytes[..bytes.len() / 2]);
    }
}

// ---- The model -----------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every invariant of the model, with tampering at the third suite's
    /// offsets (from its layout), on its sessions.
    #[test]
    fn the_model_s_properties_hold_in_the_third_suite(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::EVERYTHING, 64),
    ) {
        let config = ModelConfig::new(seed).with_suite(&THIRD);
        if let Err(v) = model::check(&mut third_suite_sessions(), &config, &actions) {
            return Err(TestCaseError::fail(v.to_string()));
        }
    }
}

/// The reference's own sessions, told of the third suite: nothing in the
/// reference names it.
fn third_suite_sessions() -> ProtocolSessions {
    ProtocolSessions::with(Reference::with_suites([&THIRD as Suite]))
}

// ---- The generator and the runner ----------------------------------------------

/// A copy of the third suite with one thing wrong (the default suite's
/// root-chain info): an implementation that must fail the generated vectors.
#[derive(Debug)]
struct WrongRootInfo;

static WRONG_ROOT_INFO: WrongRootInfo = WrongRootInfo;
static DEFAULT_RATCHET: DefaultRatchet = DefaultRatchet {
    root_info: ratchetproof_protocol::suite::INFO_ROOT,
    message_keys_info: INFO_MESSAGE_KEYS,
};

impl CipherSuite for WrongRootInfo {
    fn name(&self) -> &'static str {
        THIRD.name()
    }

    fn id(&self) -> u8 {
        THIRD.id()
    }

    fn ratchet(&self) -> &dyn RatchetKdf {
        &DEFAULT_RATCHET
    }

    fn codec(&self) -> &dyn MessageCodec {
        THIRD.codec()
    }

    fn key_agreement(&self) -> &dyn KeyAgreement {
        THIRD.key_agreement()
    }
}

/// The third suite's vector files, written where the runner reads them.
fn third_suite_vectors() -> Vec<PathBuf> {
    let files = generate::suite_files(&THIRD).expect("the generator takes any suite");
    assert_eq!(files.len(), 4, "every vector kind");
    let dir = std::env::temp_dir().join(format!("ratchetproof-third-suite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for f in &files {
        assert!(f.path.starts_with(THIRD.name()), "{}", f.path.display());
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &f.contents).unwrap();
    }
    vec![dir]
}

fn run(imp: &mut dyn Implementation, paths: &[std::path::PathBuf], strict: bool) -> Report {
    let options = RunOptions {
        strict_errors: strict,
        ..RunOptions::default()
    };
    runner::run_paths(imp, paths, &options, |_, _, _| {}).unwrap()
}

fn count(report: &Report, what: fn(&Status) -> bool) -> usize {
    report.cases.iter().filter(|c| what(&c.status)).count()
}

/// The generator writes every vector kind for the third suite (its tampering
/// from the suite's layout, its malformed family from its encoding), and the
/// reference, told of the suite, passes every case even with strict error
/// classes; a reference that does not speak it runs nothing; an
/// implementation with one info string wrong fails.
#[test]
fn the_generator_and_the_runner_take_the_third_suite() {
    let paths = third_suite_vectors();

    let report = run(&mut Reference::with_suites([&THIRD as Suite]), &paths, true);
    let total = report.cases.len();
    assert!(total > 300, "only {total} cases");
    let passed = count(&report, |s| matches!(s, Status::Passed));
    let failures: Vec<_> = report
        .cases
        .iter()
        .filter(|c| !matches!(c.status, Status::Passed))
        .map(|c| format!("{} {}: {:?}", c.file, c.tc_id, c.status))
        .take(5)
        .collect();
    assert_eq!(passed, total, "{failures:#?}");
    // The tampering family follows the suite's own layout: a case per field.
    let tampered = report
        .cases
        .iter()
        .filter(|c| c.flags.iter().any(|f| f == "TamperCounter"))
        .count();
    assert!(tampered > 0, "no counter tampering for the third suite");

    let unknown = run(&mut Reference::new(), &paths, false);
    assert_eq!(count(&unknown, |s| matches!(s, Status::Passed)), 0);
    assert_eq!(
        count(&unknown, |s| matches!(s, Status::Skipped { .. })),
        total
    );

    let wrong = run(
        &mut Reference::with_suites([&WRONG_ROOT_INFO as Suite]),
        &paths,
        false,
    );
    let failed = count(&wrong, |s| matches!(s, Status::Failed { .. }));
    assert!(
        failed > total / 4,
        "a wrong root info failed only {failed} of {total}"
    );
    eprintln!("third suite: {total} cases, all passed; wrong root info: {failed} failed");
    let _ = std::fs::remove_dir_all(&paths[0]);
}
