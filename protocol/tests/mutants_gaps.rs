//! Tests written for the mutants that survived a `cargo mutants` run of this
//! crate (docs/MUTANTS.md, "cargo-mutants score"): each test names the
//! mutant(s) it kills. They pin behaviour the other test files left
//! unobserved: public accessors and `Debug`/`Display` output, exact error
//! values, state-decoding bounds at their edges, the previous-receiving-key
//! window and XEdDSA's canonicity checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Pair, pair, pair_in, pair_with};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::scalar::Scalar;
use ratchetproof_protocol::consts::MAX_PREVIOUS_RECEIVING_KEYS;
use ratchetproof_protocol::suite::{self, MESSAGE_OVERHEAD, v3};
use ratchetproof_protocol::{
    CipherSuite, DEFAULT_SUITE, DhOutput, Error, ErrorClass, KeyPair, PublicKey, SIGNAL_V3_SUITE,
    Session, SessionConfig, SharedKey, xeddsa,
};
use sha2::{Digest, Sha512};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Kills: error.rs `ErrorClass::as_str` → "" / "xyzzy", `from_name` → None,
/// `==` → `!=` in `from_name`, and `Display::fmt` → `Ok(Default::default())`.
#[test]
fn error_class_names_round_trip_and_display() {
    let names = [
        "authentication",
        "duplicate",
        "too_many_skipped",
        "malformed",
        "invalid_key",
        "unsupported",
        "state",
    ];
    assert_eq!(ErrorClass::ALL.len(), names.len());
    for (class, name) in ErrorClass::ALL.into_iter().zip(names) {
        assert_eq!(class.as_str(), name);
        assert_eq!(class.to_string(), name);
        assert_eq!(ErrorClass::from_name(name), Some(class));
    }
    assert_eq!(ErrorClass::from_name("xyzzy"), None);
    assert_eq!(ErrorClass::from_name(""), None);
}

/// Kills: keys.rs `Debug for PublicKey` and `Debug for DhOutput` →
/// `Ok(Default::default())`.
#[test]
fn key_debug_output() {
    let public = PublicKey::from_bytes([0xab; 32]);
    assert_eq!(
        format!("{public:?}"),
        format!("PublicKey({})", "ab".repeat(32))
    );
    let dh = DhOutput::from_bytes([0xcd; 32]);
    assert_eq!(format!("{dh:?}"), "DhOutput(<redacted>)");
}

/// Kills: session.rs `Debug for Session` → `Ok(Default::default())`.
#[test]
fn session_debug_shows_public_fields() {
    let Pair { alice, .. } = pair();
    let shown = format!("{alice:?}");
    assert!(shown.starts_with("Session {"), "{shown}");
    assert!(shown.contains("x25519-sha256-aes256gcm"), "{shown}");
    assert!(
        shown.contains(&format!("{:?}", alice.ratchet_public_key())),
        "{shown}"
    );
    assert!(shown.contains("ns: 1"), "{shown}");
}

/// Kills: session.rs `SessionConfig::validate` → `Ok(())`.
#[test]
fn a_zero_skipped_key_cap_is_refused_everywhere() {
    let bad = SessionConfig {
        max_skip: 10,
        max_stored_skipped_keys: 0,
    };
    let mut rng = common::rng(40);
    let bob_pair = KeyPair::generate(&mut rng);
    let sk = || SharedKey::from_bytes([7; 32]);
    let expected = Error::InvalidConfig("max_stored_skipped_keys must be at least 1");
    assert_eq!(
        Session::init_bob(&DEFAULT_SUITE, bad, sk(), bob_pair.clone()).unwrap_err(),
        expected
    );
    assert_eq!(
        Session::init_alice(&DEFAULT_SUITE, bad, sk(), *bob_pair.public_key(), &mut rng)
            .unwrap_err(),
        expected
    );
    // A serialized state whose cap is zero (bytes 11..15 of the layout).
    let good = Session::init_bob(&DEFAULT_SUITE, SessionConfig::default(), sk(), bob_pair)
        .unwrap()
        .to_bytes()
        .to_vec();
    let mut zero_cap = good.clone();
    zero_cap[11..15].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(
        Session::from_bytes(&zero_cap).unwrap_err(),
        Error::InvalidState("max_stored_skipped_keys is zero")
    );
    assert!(Session::from_bytes(&good).is_ok());
}

/// Kills: session.rs `Session::config` → `Default::default()`,
/// `peer_ratchet_public_key` → None, `can_send` → true / false, and every
/// `counters` → constant 0/1 tuple.
#[test]
fn accessors_report_the_session() {
    let config = SessionConfig {
        max_skip: 17,
        max_stored_skipped_keys: 33,
    };
    let mut rng = common::rng(41);
    let bob_pair = KeyPair::generate(&mut rng);
    let sk = SharedKey::from_bytes([5; 32]);
    let mut alice = Session::init_alice(
        &DEFAULT_SUITE,
        config,
        sk.clone(),
        *bob_pair.public_key(),
        &mut rng,
    )
    .unwrap();
    let mut bob = Session::init_bob(&DEFAULT_SUITE, config, sk, bob_pair.clone()).unwrap();
    assert_eq!(alice.config(), config);
    assert_eq!(bob.config(), config);
    assert!(alice.can_send());
    assert!(!bob.can_send());
    assert_eq!(alice.peer_ratchet_public_key(), Some(bob_pair.public_key()));
    assert_eq!(bob.peer_ratchet_public_key(), None);
    assert_eq!(alice.counters(), (0, 0, 0));

    let ad = b"ad";
    let a: Vec<_> = (0..3u8).map(|i| alice.encrypt(&[i], ad).unwrap()).collect();
    assert_eq!(alice.counters(), (3, 0, 0));
    for m in &a {
        bob.decrypt(m, ad, &mut rng).unwrap();
    }
    assert!(bob.can_send());
    assert_eq!(
        bob.peer_ratchet_public_key(),
        Some(alice.ratchet_public_key())
    );
    assert_eq!(bob.counters(), (0, 3, 0));
    let b: Vec<_> = (0..2u8).map(|i| bob.encrypt(&[i], ad).unwrap()).collect();
    assert_eq!(bob.counters(), (2, 3, 0));
    alice.decrypt(&b[1], ad, &mut rng).unwrap();
    // Alice ratcheted: PN = 3, Ns = 0, Nr = 2 (message 0 skipped).
    assert_eq!(alice.counters(), (0, 2, 3));
    assert_eq!(
        alice.peer_ratchet_public_key(),
        Some(bob.ratchet_public_key())
    );
}

/// Kills: session.rs `==` → `!=` in `Session::commit` (the previous-DHr
/// window), and state.rs `>` → `>=` / `==` on the previous-key count in
/// `Session::from_bytes_with`.
#[test]
fn replays_from_the_last_sixteen_chains_are_duplicates() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair_with(SessionConfig::default(), 42);
    let rounds = MAX_PREVIOUS_RECEIVING_KEYS + 4;
    let mut from_bob = Vec::new();
    for round in 0..rounds {
        let a = alice.encrypt(&[1], &ad).unwrap();
        bob.decrypt(&a, &ad, &mut rng).unwrap();
        let b = bob.encrypt(&[2], &ad).unwrap();
        alice.decrypt(&b, &ad, &mut rng).unwrap();
        from_bob.push((round, b));
    }
    // Alice's DHr is Bob's key of the last round; the 16 before it are
    // remembered, older ones forgotten.
    let last = rounds - 1;
    for (round, b) in &from_bob {
        let class = alice.decrypt(b, &ad, &mut rng).unwrap_err().class();
        let expected = if *round == last || *round + MAX_PREVIOUS_RECEIVING_KEYS >= last {
            ErrorClass::Duplicate
        } else {
            ErrorClass::Authentication
        };
        assert_eq!(class, expected, "replay of round {round}");
    }

    // The full window (16 keys) survives serialization ...
    let state = alice.to_bytes().to_vec();
    let restored = Session::from_bytes(&state).unwrap();
    assert_eq!(*restored.to_bytes(), state);
    // ... and one key more is refused. Layout tail: count (1), keys (32 each),
    // skipped-key count (4, here zero).
    assert_eq!(alice.skipped_key_count(), 0);
    let count_at = state.len() - 4 - 32 * MAX_PREVIOUS_RECEIVING_KEYS - 1;
    assert_eq!(usize::from(state[count_at]), MAX_PREVIOUS_RECEIVING_KEYS);
    let mut too_many = state.clone();
    too_many[count_at] += 1;
    too_many.splice(count_at + 1..count_at + 1, [0x42; 32]);
    assert_eq!(
        Session::from_bytes(&too_many).unwrap_err(),
        Error::InvalidState("too many previous receiving keys")
    );
}

/// Kills: state.rs `>` → `>=` / `==` on the skipped-key count in
/// `Session::from_bytes_with`.
#[test]
fn a_full_skipped_key_table_round_trips_and_one_over_the_cap_is_refused() {
    let config = SessionConfig {
        max_skip: 100,
        max_stored_skipped_keys: 3,
    };
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair_with(config, 43);
    let sent: Vec<_> = (0..4u8)
        .map(|i| alice.encrypt(&[i], &ad).unwrap())
        .collect();
    bob.decrypt(&sent[3], &ad, &mut rng).unwrap();
    assert_eq!(bob.skipped_key_count(), 3);
    let state = bob.to_bytes().to_vec();
    let mut restored = Session::from_bytes(&state).unwrap();
    assert_eq!(*restored.to_bytes(), state);
    assert_eq!(restored.decrypt(&sent[0], &ad, &mut rng).unwrap(), [0]);
    // The same table under a cap of 2 (bytes 11..15).
    let mut over = state;
    over[11..15].copy_from_slice(&2u32.to_be_bytes());
    assert_eq!(
        Session::from_bytes(&over).unwrap_err(),
        Error::InvalidState("more skipped keys than the configured cap")
    );
}

/// Kills: suite/default.rs `name` → "" / "xyzzy" and `id` → 0.
#[test]
fn default_suite_name_and_id() {
    assert_eq!(DEFAULT_SUITE.name(), "x25519-sha256-aes256gcm");
    assert_eq!(DEFAULT_SUITE.id(), 1);
    assert_eq!(suite::by_id(1).unwrap().name(), "x25519-sha256-aes256gcm");
    assert!(suite::by_id(0).is_none());
    assert_eq!(suite::by_name("x25519-sha256-aes256gcm").unwrap().id(), 1);
    // The state encoding records the id at byte 5 (SPEC.md §10).
    assert_eq!(pair().alice.to_bytes()[5], 1);
    let v3 = pair_in(&SIGNAL_V3_SUITE, SessionConfig::default(), 44);
    assert_eq!(v3.alice.to_bytes()[5], 2);
}

/// Kills: suite/default.rs `+` → `*` in `MESSAGE_OVERHEAD` (1 + 40 + 16).
#[test]
fn message_overhead_is_version_header_and_tag() {
    assert_eq!(MESSAGE_OVERHEAD, 57);
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let empty = alice.encrypt(b"", &ad).unwrap();
    assert_eq!(empty.len(), MESSAGE_OVERHEAD);
    // One byte short of a tag: malformed, not a failed authentication.
    let err = bob
        .decrypt(&empty[..MESSAGE_OVERHEAD - 1], &ad, &mut rng)
        .unwrap_err();
    assert_eq!(
        err,
        Error::Malformed("truncated: shorter than version, header and tag")
    );
    assert_eq!(bob.decrypt(&empty, &ad, &mut rng).unwrap(), b"");
}

/// Kills: suite/signal_v3.rs match guard `u.len() == KEY_LEN` → true in
/// `decode_key` (the wrong-length error would come from `PublicKey::from_slice`
/// with another message).
#[test]
fn signal_v3_key_length_error() {
    let expected = Error::InvalidKey("an encoded key is 33 bytes");
    for len in [1, 20, 32, 34] {
        let mut bytes = vec![0x09; len];
        bytes[0] = v3::KEY_TYPE;
        assert_eq!(v3::decode_key(&bytes).unwrap_err(), expected, "{len} bytes");
    }
    let mut ok = vec![0x09; 33];
    ok[0] = v3::KEY_TYPE;
    assert_eq!(
        v3::decode_key(&ok).unwrap(),
        PublicKey::from_bytes([0x09; 32])
    );
}

/// p = 2^255 - 19 plus `v` (v < 19), little-endian: a non-canonical encoding
/// of the u-coordinate `v`.
fn p_plus(v: u8) -> [u8; 32] {
    let mut u = [0xff; 32];
    u[0] = 0xed + v;
    u[31] = 0x7f;
    u
}

/// An XEdDSA signature by the key whose Edwards point is the base point B
/// (scalar a = 1, u-coordinate 9, sign bit 0): R = rB, s = r + h.
fn signature_by_base_point(message: &[u8]) -> [u8; 64] {
    let a = ED25519_BASEPOINT_POINT.compress();
    assert_eq!(a.as_bytes()[31] >> 7, 0);
    let r = Scalar::from(0x1234_5678_9abc_u64);
    let big_r = (ED25519_BASEPOINT_POINT * r).compress();
    let mut hash = Sha512::new();
    hash.update(big_r.as_bytes());
    hash.update(a.as_bytes());
    hash.update(message);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&hash.finalize());
    let h = Scalar::from_bytes_mod_order_wide(&wide);
    let s = r + h;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// Kills: xeddsa.rs `is_canonical_field_element` → true. The existing
/// non-canonical-u check in x3dh.rs only applies when u + p < 2^255, which a
/// random key almost never meets; u = 9 (the base point) does.
#[test]
fn xeddsa_rejects_a_non_canonical_u_of_a_valid_signature() {
    let sig = signature_by_base_point(b"m");
    let mut nine = [0u8; 32];
    nine[0] = 9;
    assert!(xeddsa::verify(&PublicKey::from_bytes(nine), b"m", &sig));
    assert!(!xeddsa::verify(
        &PublicKey::from_bytes(p_plus(9)),
        b"m",
        &sig
    ));
    // u = p (the value 0, a point of order 2) is refused as well.
    assert!(!xeddsa::verify(
        &PublicKey::from_bytes(p_plus(0)),
        b"m",
        &sig
    ));
}

/// Kills: xeddsa.rs `||` → `&&` in `verify`: s + 4q reduces to the same
/// scalar, so only the s < 2^253 check refuses it (the existing test sets bit
/// 253 of s, which changes the scalar and fails anyway).
#[test]
fn xeddsa_rejects_a_non_canonical_s() {
    // q = 2^252 + 27742317777372353535851937790883648493, little-endian.
    let q = unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut rng = common::rng(45);
    let k = KeyPair::generate(&mut rng);
    let sig = xeddsa::sign(k.private_key(), b"m", &mut rng);
    assert!(xeddsa::verify(k.public_key(), b"m", &sig));
    let mut s_plus_4q = sig;
    for _ in 0..4 {
        let mut carry = 0u16;
        for (i, qi) in q.iter().enumerate() {
            let sum = u16::from(s_plus_4q[32 + i]) + u16::from(*qi) + carry;
            s_plus_4q[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
    }
    assert_eq!(s_plus_4q[63] & 0x80, 0);
    assert_ne!(s_plus_4q[63] & 0x60, 0);
    assert!(!xeddsa::verify(k.public_key(), b"m", &s_plus_4q));
}
