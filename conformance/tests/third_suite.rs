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

use std::collections::BTreeMap;

use proptest::prelude::*;
use ratchetproof::implementation::{
    Capabilities, CloneSession, Decrypt, DecryptOutput, Encrypt, EncryptOutput, ErrorClass,
    ImplError, ImplResult, Implementation, Operation, Role, SessionHandle, SessionInit,
    SessionOutput,
};
use ratchetproof::model::strategy::{self, Mix};
use ratchetproof::model::{self, ModelConfig, Subject};
use ratchetproof::{KeyQueueRng, fuzzing};
use ratchetproof_protocol::suite::default::{
    DefaultCodec, DefaultInitialCodec, DefaultRatchet, HEADER_LEN,
};
use ratchetproof_protocol::suite::{
    FieldRole, KeyAgreement, MessageCodec, MessageLayout, RatchetKdf, WireEncoding, WireField,
};
use ratchetproof_protocol::x3dh::{Responder, X3dh, start_session};
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

/// The protocol's sessions in any of `suites`, shown to the model with
/// their state bytes (as `ProtocolSessions` does for the built-in suites).
#[derive(Default)]
struct Sessions {
    sessions: BTreeMap<u64, (Session, KeyQueueRng)>,
    next: u64,
}

impl Sessions {
    fn add(&mut self, session: Session, rng: KeyQueueRng) -> SessionHandle {
        self.next += 1;
        self.sessions.insert(self.next, (session, rng));
        SessionHandle(self.next)
    }

    fn get(&mut self, h: SessionHandle) -> ImplResult<&mut (Session, KeyQueueRng)> {
        self.sessions
            .get_mut(&h.0)
            .ok_or_else(|| ImplError::new(ErrorClass::State, "no such session"))
    }
}

fn key32(bytes: &[u8]) -> ImplResult<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| ImplError::new(ErrorClass::InvalidKey, "not 32 bytes"))
}

fn key_queue(keys: &[Vec<u8>]) -> ImplResult<KeyQueueRng> {
    let keys = keys
        .iter()
        .map(|k| key32(k))
        .collect::<ImplResult<Vec<_>>>()?;
    Ok(KeyQueueRng::new(keys))
}

impl Implementation for Sessions {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "third-suite sessions".into(),
            version: "0".into(),
            suites: vec![THIRD.name().into()],
            operations: [Operation::Session, Operation::Clone].into(),
            max_skip: None,
            max_stored_skipped_keys: None,
            configurable_limits: true,
            injected_randomness: true,
        }
    }

    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionOutput> {
        let suite = SUITES
            .iter()
            .copied()
            .find(|s| s.name() == init.suite)
            .ok_or_else(|| ImplError::unsupported("unknown suite"))?;
        let config = SessionConfig {
            max_skip: init.max_skip.unwrap_or(SessionConfig::default().max_skip),
            max_stored_skipped_keys: init
                .max_stored_skipped_keys
                .unwrap_or(SessionConfig::default().max_stored_skipped_keys),
        };
        let sk = SharedKey::from_bytes(key32(&init.shared_key)?);
        let mut rng = key_queue(&init.ratchet_private_keys)?;
        let ratchet_key = key32(&init.ratchet_key)?;
        let session = match init.role {
            Role::Alice => Session::init_alice(
                suite,
                config,
                sk,
                PublicKey::from_bytes(ratchet_key),
                &mut rng,
            )?,
            Role::Bob => Session::init_bob(
                suite,
                config,
                sk,
                KeyPair::from_private(PrivateKey::from_bytes(ratchet_key)),
            )?,
        };
        Ok(SessionOutput {
            session: self.add(session, rng),
        })
    }

    fn encrypt(&mut self, r: &Encrypt) -> ImplResult<EncryptOutput> {
        let message = self.get(r.session)?.0.encrypt(&r.plaintext, &r.ad)?;
        Ok(EncryptOutput {
            message,
            message_type: None,
        })
    }

    fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
        let (session, rng) = self.get(r.session)?;
        let plaintext = session.decrypt(&r.message, &r.ad, rng)?;
        if rng.misused() {
            return Err(ImplError::new(ErrorClass::State, "ran out of keys"));
        }
        Ok(DecryptOutput { plaintext })
    }

    fn clone_session(&mut self, r: &CloneSession) -> ImplResult<SessionOutput> {
        let copy = Session::from_bytes_in(&self.get(r.session)?.0.to_bytes(), SUITES)?;
        Ok(SessionOutput {
            session: self.add(copy, key_queue(&r.ratchet_private_keys)?),
        })
    }

    fn reset(&mut self) {
        self.sessions.clear();
    }
}

impl Subject for Sessions {
    fn state_bytes(&mut self, h: SessionHandle) -> Option<ImplResult<Vec<u8>>> {
        let bytes = match self.get(h) {
            Ok((session, _)) => session.to_bytes().to_vec(),
            Err(e) => return Some(Err(e)),
        };
        let again = Session::from_bytes_in(&bytes, SUITES).map(|s| s.to_bytes().to_vec());
        Some(match again {
            Ok(again) if again == bytes => Ok(bytes),
            _ => Err(ImplError::new(
                ErrorClass::State,
                "state does not round-trip",
            )),
        })
    }
}

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
        if let Err(v) = model::check(&mut Sessions::default(), &config, &actions) {
            return Err(TestCaseError::fail(v.to_string()));
        }
    }
}
