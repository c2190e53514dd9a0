//! Known answers from libolm itself (npm `@matrix-org/olm` 3.2.15, randomness
//! injected; `tools/olm-kat/generate.js` made `fixtures/olm_kat.json`): the
//! `olm-v1` reference must reproduce every key and every message byte, and
//! decrypt every message libolm decrypted, in the same order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::KeyQueueRng;
use ratchetproof_protocol::olm::session::MessageType;
use ratchetproof_protocol::olm::{OlmSession, PreKeyMessage};
use ratchetproof_protocol::{KeyPair, PrivateKey};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/olm_kat.json")).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn key32(b: &[u8]) -> [u8; 32] {
    b.try_into().unwrap()
}

fn pair(b: &[u8]) -> KeyPair {
    KeyPair::from_private(PrivateKey::from_bytes(key32(b)))
}

/// libolm's account draws 64 bytes: the Ed25519 seed, then the Curve25519 identity key.
fn identity(kat: &Value, who: &str) -> KeyPair {
    let random = bytes(&kat["accounts"][who]["random"]);
    let identity = pair(&random[32..]);
    let expected = bytes(&kat["accounts"][who]["curve25519_identity"]);
    assert_eq!(
        identity.public_key().as_bytes().as_slice(),
        expected,
        "{who}'s identity key"
    );
    identity
}

struct Parties {
    alice: OlmSession,
    bob: Option<OlmSession>,
}

#[test]
fn libolm_identity_and_one_time_keys() {
    let kat = fixture();
    identity(&kat, "alice");
    identity(&kat, "bob");
    let otk = &kat["accounts"]["bob"]["one_time_key"];
    assert_eq!(
        pair(&bytes(&otk["random"]))
            .public_key()
            .as_bytes()
            .as_slice(),
        bytes(&otk["public"])
    );
}

#[test]
fn libolm_conversation_is_reproduced_byte_for_byte() {
    let kat = fixture();
    let alice_id = identity(&kat, "alice");
    let bob_id = identity(&kat, "bob");
    let otk = pair(&bytes(&kat["accounts"]["bob"]["one_time_key"]["random"]));
    // The outbound session's 64 bytes: base key, then the first ratchet key.
    let random = bytes(&kat["outbound_session"]["random"]);
    let alice = OlmSession::outbound(
        &alice_id,
        &pair(&random[..32]),
        pair(&random[32..]),
        bob_id.public_key(),
        otk.public_key(),
    )
    .unwrap();
    let id = kat["outbound_session"]["session_id"].as_str().unwrap();
    assert_eq!(base64_unpadded(&alice.id()), id, "session id");
    let mut parties = Parties { alice, bob: None };
    let mut sent: std::collections::HashMap<String, (MessageType, Vec<u8>)> = Default::default();
    let steps = kat["steps"].as_array().unwrap();
    for step in steps {
        let name = step["name"].as_str().unwrap().to_owned();
        let party = step["party"].as_str().unwrap();
        match step["op"].as_str().unwrap() {
            "encrypt" => {
                let mut rng = KeyQueueRng::new(
                    step["random"]
                        .as_str()
                        .map(|r| key32(&hex::decode(r).unwrap())),
                );
                let session = if party == "alice" {
                    &mut parties.alice
                } else {
                    parties.bob.as_mut().unwrap()
                };
                let (kind, message) = session
                    .encrypt(step["plaintext"].as_str().unwrap().as_bytes(), &mut rng)
                    .unwrap();
                assert!(
                    !rng.misused(),
                    "{name}: randomness drawn as libolm draws it"
                );
                let expected_kind = if step["type"] == 0 {
                    MessageType::PreKey
                } else {
                    MessageType::Normal
                };
                assert_eq!(kind, expected_kind, "{name}: message type");
                assert_eq!(
                    hex::encode(&message),
                    step["message"].as_str().unwrap(),
                    "{name}: wire bytes"
                );
                sent.insert(name, (kind, message));
            }
            "decrypt" => {
                let (kind, message) = sent[&name].clone();
                if party == "bob" && parties.bob.is_none() {
                    let prekey = PreKeyMessage::decode(&message).unwrap();
                    assert_eq!(
                        prekey.encode(),
                        message,
                        "pre-key message re-encodes identically"
                    );
                    let bob = OlmSession::inbound(&bob_id, &otk, &prekey).unwrap();
                    assert_eq!(base64_unpadded(&bob.id()), id, "Bob's session id");
                    parties.bob = Some(bob);
                }
                let session = if party == "alice" {
                    &mut parties.alice
                } else {
                    parties.bob.as_mut().unwrap()
                };
                let plaintext = session.decrypt(kind, &message).unwrap();
                assert_eq!(
                    plaintext,
                    step["plaintext"].as_str().unwrap().as_bytes(),
                    "{name}: plaintext"
                );
                // A replay is refused and leaves the session as it was.
                assert!(
                    session.decrypt(kind, &message).is_err(),
                    "{name}: replay refused"
                );
            }
            other => panic!("unknown op {other}"),
        }
    }
}

/// A fresh pair after Alice's first message, keys from a seeded RNG.
fn fresh(seed: u64) -> (OlmSession, OlmSession, rand_chacha::ChaCha20Rng) {
    let mut rng = common::rng(seed);
    let ids = [KeyPair::generate(&mut rng), KeyPair::generate(&mut rng)];
    let otk = KeyPair::generate(&mut rng);
    let base = KeyPair::generate(&mut rng);
    let ratchet = KeyPair::generate(&mut rng);
    let mut alice = OlmSession::outbound(
        &ids[0],
        &base,
        ratchet,
        ids[1].public_key(),
        otk.public_key(),
    )
    .unwrap();
    let (k, m) = alice.encrypt(b"first", &mut rng).unwrap();
    let mut bob = OlmSession::inbound(&ids[1], &otk, &PreKeyMessage::decode(&m).unwrap()).unwrap();
    bob.decrypt(k, &m).unwrap();
    (alice, bob, rng)
}

fn outcome(r: ratchetproof_protocol::Result<Vec<u8>>) -> bool {
    r.is_ok()
}

/// libolm's observed limits (`limits` in the fixture), replayed on the
/// reference: the same scenarios succeed and fail at the same points.
#[test]
fn libolm_limits_are_the_reference_limits() {
    let kat = fixture();
    let limits = &kat["limits"];
    let libolm = |key: &str| limits[key].as_str().unwrap() == "ok";

    let (mut a, mut b, mut rng) = fresh(11);
    let ms: Vec<_> = (1..=2002)
        .map(|i| a.encrypt(format!("m{i}").as_bytes(), &mut rng).unwrap())
        .collect();
    let mut check = |key: &str, i: usize| {
        let (k, m) = &ms[i];
        assert_eq!(outcome(b.decrypt(*k, m)), libolm(key), "{key}");
    };
    check("gap_2001_from_next_index", 2001);
    check("gap_2000_from_next_index", 2000);
    check("skipped_index_2_after_2000_skipped", 1);
    check("skipped_index_1960", 1959);
    check("skipped_index_1961", 1960);
    check("replay_of_index_2001", 2000);

    let (mut a, mut b, mut rng) = fresh(12);
    let late_first = a.encrypt(b"late on chain 0", &mut rng).unwrap();
    let mut late = Vec::new();
    for round in 1..=5 {
        let (k, m) = b.encrypt(b"ping", &mut rng).unwrap();
        a.decrypt(k, &m).unwrap();
        let (k, m) = a
            .encrypt(format!("chain {round}").as_bytes(), &mut rng)
            .unwrap();
        late.push(
            a.encrypt(format!("late on chain {round}").as_bytes(), &mut rng)
                .unwrap(),
        );
        b.decrypt(k, &m).unwrap();
    }
    assert_eq!(
        outcome(b.decrypt(late_first.0, &late_first.1)),
        libolm("late_on_sixth_oldest_chain")
    );
    let kept = limits["late_on_five_kept_chains"].as_array().unwrap();
    for ((k, m), expected) in late.iter().zip(kept) {
        assert_eq!(outcome(b.decrypt(*k, m)), expected == "ok");
    }
}

/// Unpadded standard base64, as libolm prints keys and session ids.
fn base64_unpadded(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
