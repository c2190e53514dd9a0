//! PQXDH: both sides agree in both PQXDH suites, the KDF input is the DHs
//! then the KEM secret, and every refusal leaves Bob's prekey store as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use hkdf::Hkdf;
use ratchetproof_protocol::kem::{KYBER1024_TYPE, Kem, ML_KEM_1024_TYPE};
use ratchetproof_protocol::suite::{
    SIGNAL_PQXDH_KYBER1024_SUITE, SIGNAL_PQXDH_MLKEM1024_SUITE, pq,
};
use ratchetproof_protocol::x3dh::{
    self, Ephemeral, KemPrekeyUse, PreKeyBundle, Responder, start_session,
};
use ratchetproof_protocol::{
    CipherSuite, Error, ErrorClass, KeyPair, PrivateKey, SIGNAL_V3_SUITE, SessionConfig, Suite,
};
use sha2::Sha256;
use zeroize::Zeroizing;

fn suites() -> [Suite; 2] {
    [&SIGNAL_PQXDH_KYBER1024_SUITE, &SIGNAL_PQXDH_MLKEM1024_SUITE]
}

fn kem(suite: Suite) -> &'static dyn Kem {
    suite.key_agreement().kem().unwrap()
}

/// Bob with SPK 1, OPK 10, a one-time KEM prekey 20 and a last-resort KEM prekey 21.
fn responder(suite: Suite, rng: &mut rand_chacha::ChaCha20Rng) -> Responder {
    let mut r = Responder::new(KeyPair::generate(rng));
    r.add_signed_prekey(1, KeyPair::generate(rng));
    r.add_one_time_prekey(10, KeyPair::generate(rng));
    r.add_kem_prekey(20, kem(suite).generate(rng), KemPrekeyUse::OneTime);
    r.add_kem_prekey(21, kem(suite).generate(rng), KemPrekeyUse::LastResort);
    r
}

fn bundle(
    suite: Suite,
    bob: &Responder,
    opk: Option<u32>,
    kem_id: u32,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> PreKeyBundle {
    bob.pq_bundle(kem(suite), 1, opk, kem_id, rng).unwrap()
}

#[test]
fn both_sides_derive_the_same_session_in_both_suites() {
    for suite in suites() {
        let mut rng = common::rng(30);
        let alice = KeyPair::generate(&mut rng);
        let mut bob = responder(suite, &mut rng);
        for (opk, kem_id) in [(Some(10), 20), (None, 21)] {
            let bundle = bundle(suite, &bob, opk, kem_id, &mut rng);
            let (mut session, initial) = start_session(
                suite,
                SessionConfig::default(),
                &alice,
                &bundle,
                b"hello",
                &mut rng,
            )
            .unwrap();
            let wire = suite.encode_initial(&initial);
            assert_eq!(wire[0], pq::VERSION, "{}", suite.name());
            let kem_field = initial.kem.as_ref().unwrap();
            assert_eq!(kem_field.prekey_id, kem_id);
            assert_eq!(kem_field.ciphertext.len(), 1569);
            assert_eq!(kem_field.ciphertext[0], kem(suite).type_byte());
            let mut accepted = bob
                .accept(suite, SessionConfig::default(), &wire, &mut rng)
                .unwrap();
            assert_eq!(accepted.plaintext, b"hello");
            let reply = accepted
                .session
                .encrypt(b"hi", &accepted.associated_data)
                .unwrap();
            assert_eq!(reply[0], pq::VERSION);
            assert_eq!(
                session
                    .decrypt(&reply, &accepted.associated_data, &mut rng)
                    .unwrap(),
                b"hi"
            );
        }
        // The one-time KEM prekey is gone, the last-resort one kept.
        assert!(!bob.has_kem_prekey(20));
        assert!(bob.has_kem_prekey(21));
        assert!(!bob.has_one_time_prekey(10));
    }
}

/// `SK = HKDF(salt = 0^32, 0xFF^32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4 ‖ SS, info)`,
/// recomputed here from the raw DHs and a decapsulation.
#[test]
fn the_shared_key_is_hkdf_over_the_dhs_then_the_kem_secret() {
    for (suite, info) in [
        (&SIGNAL_PQXDH_KYBER1024_SUITE as Suite, pq::INFO_KYBER1024),
        (&SIGNAL_PQXDH_MLKEM1024_SUITE, pq::INFO_ML_KEM_1024),
    ] {
        let mut rng = common::rng(31);
        let k = |b: u8| KeyPair::from_private(PrivateKey::from_bytes([b; 32]));
        let (ika, ikb, spk, opk, eka) = (k(1), k(2), k(3), k(4), k(5));
        let kem_pair = kem(suite).generate_from_seed(&[6; 64]);
        let mut bob = Responder::new(ikb.clone());
        bob.add_signed_prekey(1, spk.clone());
        bob.add_one_time_prekey(7, opk.clone());
        bob.add_kem_prekey(9, kem_pair.clone(), KemPrekeyUse::OneTime);
        let bundle = bundle(suite, &bob, Some(7), 9, &mut rng);
        let ephemeral = Ephemeral {
            key: eka.clone(),
            encapsulation: Some(Zeroizing::new([8; 32])),
        };
        let init = suite
            .key_agreement()
            .initiate(&ika, &bundle, ephemeral)
            .unwrap();
        let (ct, ss) = kem(suite).encapsulate(&kem_pair.public, &[8; 32]);
        assert_eq!(
            init.kem.as_ref().unwrap().ciphertext,
            kem(suite).encode_ciphertext(&ct)
        );
        let mut ikm = vec![0xff; 32];
        for (a, b) in [(&ika, &spk), (&eka, &ikb), (&eka, &spk), (&eka, &opk)] {
            ikm.extend_from_slice(a.diffie_hellman(b.public_key()).unwrap().as_bytes());
        }
        ikm.extend_from_slice(ss.as_slice());
        let mut expected = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&[0; 32]), &ikm)
            .expand(info, &mut expected)
            .unwrap();
        assert_eq!(init.agreement.shared_key.as_bytes(), &expected);
        assert_eq!(
            init.agreement.associated_data[..33],
            ika.public_key().encode()
        );
    }
}

#[test]
fn a_bad_kem_prekey_signature_or_key_is_refused_before_anything_is_drawn() {
    for suite in suites() {
        let mut rng = common::rng(32);
        let alice = KeyPair::generate(&mut rng);
        let bob = responder(suite, &mut rng);
        let good = bundle(suite, &bob, None, 21, &mut rng);

        let mut bad_sig = good.clone();
        bad_sig.kem_prekey.as_mut().unwrap().signature[5] ^= 1;
        let err = x3dh::initiate(suite, &alice, &bad_sig, &mut rng).unwrap_err();
        assert_eq!(err, Error::InvalidSignature);

        // The EC signature is still checked, first.
        let mut bad_ec = good.clone();
        bad_ec.signed_prekey_signature[5] ^= 1;
        assert_eq!(
            x3dh::initiate(suite, &alice, &bad_ec, &mut rng).unwrap_err(),
            Error::InvalidSignature
        );

        let mut no_kem = good.clone();
        no_kem.kem_prekey = None;
        assert_eq!(
            x3dh::initiate(suite, &alice, &no_kem, &mut rng)
                .unwrap_err()
                .class(),
            ErrorClass::InvalidKey
        );

        // A correctly signed key of the other KEM's type, or of a wrong length.
        for mutate in [
            |key: &mut Vec<u8>| {
                key[0] = if key[0] == KYBER1024_TYPE {
                    ML_KEM_1024_TYPE
                } else {
                    KYBER1024_TYPE
                }
            },
            |key: &mut Vec<u8>| {
                key.pop();
            },
            |key: &mut Vec<u8>| key.push(0),
        ] {
            let mut wrong = good.clone();
            let kp = wrong.kem_prekey.as_mut().unwrap();
            mutate(&mut kp.key);
            kp.signature = ratchetproof_protocol::xeddsa::sign(
                bob.identity().private_key(),
                &kp.key,
                &mut rng,
            );
            assert_eq!(
                x3dh::initiate(suite, &alice, &wrong, &mut rng)
                    .unwrap_err()
                    .class(),
                ErrorClass::InvalidKey
            );
        }
    }
}

#[test]
fn a_refused_initial_message_changes_nothing_and_implicit_rejection_fails_authentication() {
    for suite in suites() {
        let mut rng = common::rng(33);
        let alice = KeyPair::generate(&mut rng);
        let bob = responder(suite, &mut rng);
        let bundle = bundle(suite, &bob, Some(10), 20, &mut rng);
        let (_, initial) = start_session(
            suite,
            SessionConfig::default(),
            &alice,
            &bundle,
            b"hello",
            &mut rng,
        )
        .unwrap();
        let refuse = |initial: &x3dh::InitialMessage, class: ErrorClass| {
            let mut store = bob.clone();
            let err = store
                .accept(
                    suite,
                    SessionConfig::default(),
                    &suite.encode_initial(initial),
                    &mut common::rng(1),
                )
                .unwrap_err();
            assert_eq!(err.class(), class, "{}: {err}", suite.name());
            assert!(store.has_kem_prekey(20) && store.has_one_time_prekey(10));
        };
        // One flipped bit: the KEM decapsulates to its implicit-rejection
        // secret, SK differs, the first message does not authenticate.
        for at in [1, 700, 1568] {
            let mut tampered = initial.clone();
            tampered.kem.as_mut().unwrap().ciphertext[at] ^= 0x01;
            refuse(&tampered, ErrorClass::Authentication);
        }
        let mut truncated = initial.clone();
        truncated.kem.as_mut().unwrap().ciphertext.pop();
        refuse(&truncated, ErrorClass::InvalidKey);
        let mut retyped = initial.clone();
        retyped.kem.as_mut().unwrap().ciphertext[0] ^= 0x02;
        refuse(&retyped, ErrorClass::InvalidKey);
        let mut unknown = initial.clone();
        unknown.kem.as_mut().unwrap().prekey_id = 99;
        refuse(&unknown, ErrorClass::InvalidKey);
        // The last-resort key instead of the one it was encapsulated to.
        let mut other_key = initial.clone();
        other_key.kem.as_mut().unwrap().prekey_id = 21;
        refuse(&other_key, ErrorClass::Authentication);
        let mut missing = initial.clone();
        missing.kem = None;
        refuse(&missing, ErrorClass::Malformed);
        // A v3 initial message to a PQXDH responder.
        let mut store = bob.clone();
        let v3 = SIGNAL_V3_SUITE.encode_initial(&initial);
        assert_eq!(
            store
                .accept(suite, SessionConfig::default(), &v3, &mut rng)
                .unwrap_err()
                .class(),
            ErrorClass::Unsupported
        );
        // And the genuine message is accepted, once.
        let mut store = bob.clone();
        let wire = suite.encode_initial(&initial);
        store
            .accept(suite, SessionConfig::default(), &wire, &mut rng)
            .unwrap();
        assert_eq!(
            store
                .accept(suite, SessionConfig::default(), &wire, &mut rng)
                .unwrap_err()
                .class(),
            ErrorClass::InvalidKey
        );
    }
}

#[test]
fn x3dh_suites_draw_exactly_what_they_drew_before() {
    // Ephemeral::draw takes encapsulation randomness only for a KEM, so the
    // X3DH vectors' RNG streams are unchanged.
    let mut a = common::rng(34);
    let mut b = common::rng(34);
    let e = Ephemeral::draw(SIGNAL_V3_SUITE.key_agreement(), &mut a);
    assert!(e.encapsulation.is_none());
    assert_eq!(e.key.public_key(), KeyPair::generate(&mut b).public_key());
    let pq = Ephemeral::draw(SIGNAL_PQXDH_KYBER1024_SUITE.key_agreement(), &mut a);
    assert!(pq.encapsulation.is_some());
}
