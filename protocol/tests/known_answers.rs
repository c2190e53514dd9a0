//! Known answers for every derivation of the default suite, computed by an
//! independent Python implementation (`fixtures/independent_kat.py`, using
//! hashlib/hmac and the `cryptography` package) from SPEC.md alone. The Rust
//! reference must reproduce every byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use ratchetproof_protocol::x3dh::{self, InitialMessage};
use ratchetproof_protocol::{
    ChainKey, CipherSuite, DEFAULT_SUITE, DhOutput, Header, KeyPair, MessageKey, PrivateKey,
    PublicKey, RootKey, Session, SessionConfig, SharedKey,
};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/independent_kat.json")).unwrap()
}

fn b(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn k(v: &Value) -> [u8; 32] {
    b(v).try_into().unwrap()
}

fn pair(v: &Value) -> KeyPair {
    KeyPair::from_private(PrivateKey::from_bytes(k(v)))
}

#[test]
fn kdf_rk() {
    for case in fixture()["kdfRk"].as_array().unwrap() {
        let (rk, ck) = DEFAULT_SUITE.kdf_rk(
            &RootKey::from_bytes(k(&case["rk"])),
            &DhOutput::from_bytes(k(&case["dhOut"])),
        );
        assert_eq!(rk.as_bytes().to_vec(), b(&case["nextRk"]));
        assert_eq!(ck.as_bytes().to_vec(), b(&case["chainKey"]));
    }
}

#[test]
fn kdf_ck() {
    for case in fixture()["kdfCk"].as_array().unwrap() {
        let (ck, mk) = DEFAULT_SUITE.kdf_ck(&ChainKey::from_bytes(k(&case["ck"])));
        assert_eq!(ck.as_bytes().to_vec(), b(&case["nextChainKey"]));
        assert_eq!(mk.as_bytes().to_vec(), b(&case["messageKey"]));
    }
}

#[test]
fn message_keys() {
    for case in fixture()["messageKeys"].as_array().unwrap() {
        let keys = DEFAULT_SUITE.message_keys(&MessageKey::from_bytes(k(&case["mk"])));
        assert_eq!(
            keys.to_vec(),
            [b(&case["aesKey"]), b(&case["nonce"])].concat()
        );
    }
}

#[test]
fn seal() {
    for case in fixture()["seal"].as_array().unwrap() {
        let header = Header {
            dh: PublicKey::from_bytes(k(&case["ratchetKey"])),
            pn: case["pn"].as_u64().unwrap() as u32,
            n: case["n"].as_u64().unwrap() as u32,
        };
        assert_eq!(header.encode().to_vec(), b(&case["header"]));
        let wire = DEFAULT_SUITE
            .seal(
                &MessageKey::from_bytes(k(&case["mk"])),
                &header,
                &b(&case["plaintext"]),
                &b(&case["ad"]),
            )
            .unwrap();
        assert_eq!(wire, b(&case["message"]));
    }
}

#[test]
fn x3dh_agreement() {
    for case in fixture()["x3dh"].as_array().unwrap() {
        let (ika, eka) = (
            pair(&case["alice"]["identityPrivate"]),
            pair(&case["alice"]["ephemeralPrivate"]),
        );
        let (ikb, spkb) = (
            pair(&case["bob"]["identityPrivate"]),
            pair(&case["bob"]["signedPrekeyPrivate"]),
        );
        let opkb = case["bob"]["oneTimePrekeyPrivate"]
            .as_str()
            .map(|_| pair(&case["bob"]["oneTimePrekeyPrivate"]));
        let agreement = x3dh::respond(
            &DEFAULT_SUITE,
            &ikb,
            &spkb,
            opkb.as_ref(),
            ika.public_key(),
            eka.public_key(),
        )
        .unwrap();
        assert_eq!(
            agreement.shared_key.as_bytes().to_vec(),
            b(&case["sharedKey"]),
            "{}",
            case["label"]
        );
        assert_eq!(
            agreement.associated_data.to_vec(),
            b(&case["associatedData"])
        );
    }
}

#[test]
fn initial_message_encoding() {
    for case in fixture()["initialMessage"].as_array().unwrap() {
        let msg = InitialMessage {
            identity_key: PublicKey::from_bytes(k(&case["identityKey"])),
            ephemeral_key: PublicKey::from_bytes(k(&case["ephemeralKey"])),
            signed_prekey_id: case["signedPrekeyId"].as_u64().unwrap() as u32,
            one_time_prekey_id: case["oneTimePrekeyId"].as_u64().map(|v| v as u32),
            registration_id: 0,
            kem: None,
            message: b(&case["ratchetMessage"]),
        };
        assert_eq!(msg.encode(), b(&case["encoded"]));
    }
}

#[test]
fn ratchet_conversation() {
    let r = &fixture()["ratchet"];
    let sk = SharedKey::from_bytes(k(&r["sharedKey"]));
    let bob_pair = pair(&r["bobRatchetPrivate"]);
    let keys =
        |name: &str| -> Vec<[u8; 32]> { r[name].as_array().unwrap().iter().map(k).collect() };
    let mut alice_rng = common::KeyQueueRng::new(keys("aliceRatchetPrivateKeys"));
    let mut bob_rng = common::KeyQueueRng::new(keys("bobRatchetPrivateKeys"));
    let config = SessionConfig::default();
    let mut alice = Session::init_alice(
        &DEFAULT_SUITE,
        config,
        sk.clone(),
        *bob_pair.public_key(),
        &mut alice_rng,
    )
    .unwrap();
    let mut bob = Session::init_bob(&DEFAULT_SUITE, config, sk, bob_pair).unwrap();
    let ad = b(&r["ad"]);
    for m in r["messages"].as_array().unwrap() {
        let (tx, rx, rng) = if m["from"] == "alice" {
            (&mut alice, &mut bob, &mut bob_rng)
        } else {
            (&mut bob, &mut alice, &mut alice_rng)
        };
        let wire = tx.encrypt(&b(&m["plaintext"]), &ad).unwrap();
        assert_eq!(wire, b(&m["message"]));
        assert_eq!(rx.decrypt(&wire, &ad, rng).unwrap(), b(&m["plaintext"]));
    }
    assert!(!alice_rng.misused() && !bob_rng.misused());
}

/// The default suite's layout (SPEC.md §5): version, key, PN, N, ciphertext, tag.
#[test]
fn default_message_layout() {
    use ratchetproof_protocol::suite::FieldRole::*;
    use ratchetproof_protocol::{CipherSuite, DEFAULT_SUITE, Header, MessageKey, PublicKey};
    let header = Header {
        dh: PublicKey::from_bytes([9; 32]),
        pn: 3,
        n: 5,
    };
    let wire = DEFAULT_SUITE
        .seal(&MessageKey::from_bytes([7; 32]), &header, b"hello", b"ad")
        .unwrap();
    let layout = DEFAULT_SUITE.message_layout(&wire).unwrap();
    let roles: Vec<_> = layout
        .fields
        .iter()
        .map(|f| (f.role, f.range.clone()))
        .collect();
    assert_eq!(
        roles,
        vec![
            (Version, 0..1),
            (RatchetKey, 1..33),
            (PreviousCounter, 33..37),
            (Counter, 37..41),
            (Ciphertext, 41..46),
            (Tag, 46..62),
        ]
    );
    assert!(DEFAULT_SUITE.message_layout(&wire[..56]).is_err());
}
