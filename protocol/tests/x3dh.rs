//! X3DH agreement, bundle verification, one-time prekey handling and XEdDSA
//! against signatures made by a deployed Signal implementation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use ratchetproof_protocol::x3dh::{self, InitialMessage, Responder, start_session};
use ratchetproof_protocol::{
    DEFAULT_SUITE, Error, ErrorClass, KeyPair, PrivateKey, PublicKey, SessionConfig, xeddsa,
};

fn responder(rng: &mut rand_chacha::ChaCha20Rng) -> Responder {
    let mut r = Responder::new(KeyPair::generate(rng));
    r.add_signed_prekey(1, KeyPair::generate(rng));
    r.add_one_time_prekey(10, KeyPair::generate(rng));
    r.add_one_time_prekey(11, KeyPair::generate(rng));
    r
}

#[test]
fn both_sides_agree_with_and_without_one_time_prekey() {
    let mut rng = common::rng(10);
    let alice = KeyPair::generate(&mut rng);
    let bob = responder(&mut rng);
    for opk in [Some(10), None] {
        let bundle = bob.bundle(1, opk, &mut rng).unwrap();
        let init = x3dh::initiate(&DEFAULT_SUITE, &alice, &bundle, &mut rng).unwrap();
        let mut bob2 = bob.clone();
        let (_, initial) = start_session(
            &DEFAULT_SUITE,
            SessionConfig::default(),
            &alice,
            &bundle,
            b"hi",
            &mut rng,
        )
        .unwrap();
        let accepted = bob2
            .accept(
                &DEFAULT_SUITE,
                SessionConfig::default(),
                &initial.encode(),
                &mut rng,
            )
            .unwrap();
        assert_eq!(accepted.plaintext, b"hi");
        assert_eq!(accepted.associated_data, init.agreement.associated_data);
        assert_eq!(accepted.associated_data[0], 0x05);
        assert_eq!(
            &accepted.associated_data[1..33],
            alice.public_key().as_bytes()
        );
        assert_eq!(
            &accepted.associated_data[34..],
            bob.identity().public_key().as_bytes()
        );
        assert_eq!(initial.one_time_prekey_id, opk);
    }
}

#[test]
fn initiator_and_responder_derive_the_same_secret() {
    let mut rng = common::rng(11);
    let alice = KeyPair::generate(&mut rng);
    let bob_id = KeyPair::generate(&mut rng);
    let spk = KeyPair::generate(&mut rng);
    let opk = KeyPair::generate(&mut rng);
    let eph = KeyPair::generate(&mut rng);
    for use_opk in [true, false] {
        let bundle = x3dh::PreKeyBundle {
            identity_key: *bob_id.public_key(),
            signed_prekey_id: 1,
            signed_prekey: *spk.public_key(),
            signed_prekey_signature: x3dh::sign_prekey(&bob_id, spk.public_key(), &mut rng),
            one_time_prekey: use_opk.then(|| (2, *opk.public_key())),
            kem_prekey: None,
        };
        let a =
            x3dh::initiate_with_ephemeral(&DEFAULT_SUITE, &alice, &bundle, eph.clone()).unwrap();
        let b = x3dh::respond(
            &DEFAULT_SUITE,
            &bob_id,
            &spk,
            use_opk.then_some(&opk),
            alice.public_key(),
            eph.public_key(),
        )
        .unwrap();
        assert_eq!(a.agreement.shared_key.as_bytes(), b.shared_key.as_bytes());
        assert_eq!(a.agreement.associated_data, b.associated_data);
    }
}

#[test]
fn bundle_with_a_bad_signature_is_rejected() {
    let mut rng = common::rng(12);
    let alice = KeyPair::generate(&mut rng);
    let bob = responder(&mut rng);
    let good = bob.bundle(1, Some(10), &mut rng).unwrap();
    for i in 0..64 {
        let mut bundle = good.clone();
        bundle.signed_prekey_signature[i] ^= 0x01;
        assert_eq!(
            x3dh::initiate(&DEFAULT_SUITE, &alice, &bundle, &mut rng).unwrap_err(),
            Error::InvalidSignature
        );
    }
    let mut other_spk = good.clone();
    other_spk.signed_prekey = *KeyPair::generate(&mut rng).public_key();
    assert_eq!(
        x3dh::initiate(&DEFAULT_SUITE, &alice, &other_spk, &mut rng)
            .unwrap_err()
            .class(),
        ErrorClass::Authentication
    );
}

#[test]
fn one_time_prekey_is_consumed_only_by_a_successful_first_message() {
    let mut rng = common::rng(13);
    let alice = KeyPair::generate(&mut rng);
    let mut bob = responder(&mut rng);
    let bundle = bob.bundle(1, Some(11), &mut rng).unwrap();
    let (_, initial) = start_session(
        &DEFAULT_SUITE,
        SessionConfig::default(),
        &alice,
        &bundle,
        b"first",
        &mut rng,
    )
    .unwrap();
    let mut wire = initial.encode();
    let last = wire.len() - 1;
    wire[last] ^= 1;
    let err = bob
        .accept(&DEFAULT_SUITE, SessionConfig::default(), &wire, &mut rng)
        .unwrap_err();
    assert_eq!(err, Error::AuthenticationFailed);
    assert!(
        bob.has_one_time_prekey(11),
        "a forged first message must not consume the prekey"
    );
    let accepted = bob
        .accept(
            &DEFAULT_SUITE,
            SessionConfig::default(),
            &initial.encode(),
            &mut rng,
        )
        .unwrap();
    assert_eq!(accepted.plaintext, b"first");
    assert!(!bob.has_one_time_prekey(11));
    // Replaying the initial message now names a deleted prekey.
    let err = bob
        .accept(
            &DEFAULT_SUITE,
            SessionConfig::default(),
            &initial.encode(),
            &mut rng,
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::UnknownPreKey {
            kind: "one-time",
            id: 11
        }
    );
}

#[test]
fn initial_message_round_trips_and_rejects_malformed_input() {
    let msg = InitialMessage {
        identity_key: PublicKey::from_bytes([1; 32]),
        ephemeral_key: PublicKey::from_bytes([2; 32]),
        signed_prekey_id: 0x0102_0304,
        one_time_prekey_id: Some(7),
        registration_id: 0,
        kem: None,
        message: vec![0x01, 9, 9],
    };
    let wire = msg.encode();
    assert_eq!(InitialMessage::decode(&wire).unwrap(), msg);
    for len in 0..74 {
        assert!(InitialMessage::decode(&wire[..len]).is_err());
    }
    let mut bad_flag = wire.clone();
    bad_flag[69] = 2;
    assert_eq!(
        InitialMessage::decode(&bad_flag).unwrap_err().class(),
        ErrorClass::Malformed
    );
    let mut bad_version = wire;
    bad_version[0] = 0x01;
    assert_eq!(
        InitialMessage::decode(&bad_version).unwrap_err(),
        Error::UnsupportedVersion(1)
    );
}

#[test]
fn small_order_keys_are_rejected() {
    let mut rng = common::rng(14);
    let k = KeyPair::generate(&mut rng);
    for point in [[0u8; 32], {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    }] {
        assert_eq!(
            k.diffie_hellman(&PublicKey::from_bytes(point))
                .unwrap_err()
                .class(),
            ErrorClass::InvalidKey
        );
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PeerCase {
    label: String,
    identity_private_key: String,
    identity_public_key: String,
    message: String,
    signature: String,
}

#[derive(serde::Deserialize)]
struct PeerFixture {
    cases: Vec<PeerCase>,
}

fn bytes32(h: &str) -> [u8; 32] {
    hex::decode(h).unwrap().try_into().unwrap()
}

#[test]
fn xeddsa_accepts_signatures_from_python_axolotl() {
    let fixture: PeerFixture =
        serde_json::from_str(include_str!("fixtures/xeddsa_python_axolotl.json")).unwrap();
    assert!(fixture.cases.len() >= 10);
    let mut saw_sign_bit = false;
    for case in &fixture.cases {
        let public = PublicKey::from_bytes(bytes32(&case.identity_public_key));
        assert_eq!(
            PrivateKey::from_bytes(bytes32(&case.identity_private_key)).public_key(),
            public
        );
        let message = hex::decode(&case.message).unwrap();
        let signature: [u8; 64] = hex::decode(&case.signature).unwrap().try_into().unwrap();
        saw_sign_bit |= signature[63] & 0x80 != 0;
        assert!(
            xeddsa::verify(&public, &message, &signature),
            "{}",
            case.label
        );
        for i in [0, 31, 32, 62, 63] {
            let mut bad = signature;
            bad[i] ^= 0x01;
            assert!(
                !xeddsa::verify(&public, &message, &bad),
                "{} byte {i}",
                case.label
            );
        }
        let mut other = message.clone();
        other.push(0);
        assert!(
            !xeddsa::verify(&public, &other, &signature),
            "{}",
            case.label
        );
    }
    assert!(
        saw_sign_bit,
        "the fixture must include libsignal's sign-bit convention"
    );
}

#[test]
fn xeddsa_signatures_verify_and_keep_the_sign_bit_clear() {
    let mut rng = common::rng(15);
    for _ in 0..32 {
        let k = KeyPair::generate(&mut rng);
        let sig = xeddsa::sign(k.private_key(), b"message", &mut rng);
        assert_eq!(sig[63] & 0x80, 0);
        assert!(xeddsa::verify(k.public_key(), b"message", &sig));
        assert!(!xeddsa::verify(k.public_key(), b"messagf", &sig));
    }
}

#[test]
fn xeddsa_rejects_non_canonical_inputs() {
    let mut rng = common::rng(16);
    let k = KeyPair::generate(&mut rng);
    let sig = xeddsa::sign(k.private_key(), b"m", &mut rng);
    // s ≥ 2^253.
    let mut big_s = sig;
    big_s[63] |= 0x20;
    assert!(!xeddsa::verify(k.public_key(), b"m", &big_s));
    // u ≥ p: the same point with p added to its u-coordinate.
    let mut u = *k.public_key().as_bytes();
    let mut carry = 0u16;
    let p = {
        let mut p = [0xFFu8; 32];
        p[0] = 0xED;
        p[31] = 0x7F;
        p
    };
    for i in 0..32 {
        let s = u16::from(u[i]) + u16::from(p[i]) + carry;
        u[i] = s as u8;
        carry = s >> 8;
    }
    if carry == 0 && u[31] & 0x80 == 0 {
        assert!(!xeddsa::verify(&PublicKey::from_bytes(u), b"m", &sig));
    }
}
