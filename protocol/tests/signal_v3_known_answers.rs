//! Known answers for the `signal-v3` suite from an independent implementation:
//! a conversation python-axolotl 0.2.3 produced (fixtures/signal_v3_python_axolotl.json,
//! made by fixtures/make_signal_v3_fixture.py through the library's own
//! session builder and cipher). From the same keys the reference must produce
//! every one of python-axolotl's messages byte for byte — PreKeyWhisperMessage
//! framing, registration and prekey ids, protobuf field order, previousCounter,
//! CBC and the 8-byte MAC included — and decrypt them.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::needless_range_loop
)]

mod common;

use common::KeyQueueRng;
use ratchetproof_protocol::x3dh::{self, InitialMessage, PreKeyBundle, Responder};
use ratchetproof_protocol::{
    CipherSuite, KeyPair, PrivateKey, SIGNAL_V3_SUITE, Session, SessionConfig,
};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/signal_v3_python_axolotl.json")).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn key(v: &Value) -> [u8; 32] {
    bytes(v).try_into().unwrap()
}

fn pair(v: &Value) -> KeyPair {
    KeyPair::from_private(PrivateKey::from_bytes(key(v)))
}

fn keys(v: &Value) -> Vec<[u8; 32]> {
    v.as_array().unwrap().iter().map(key).collect()
}

#[test]
fn reference_reproduces_python_axolotl_conversation_byte_for_byte() {
    let f = fixture();
    let suite = &SIGNAL_V3_SUITE;
    let config = SessionConfig::default();
    let messages = f["messages"].as_array().unwrap();
    let wire = |i: usize| bytes(&messages[i]["message"]);
    let text = |i: usize| bytes(&messages[i]["plaintext"]);

    // Alice: the bundle python-axolotl's Bob published, signature included.
    let alice_identity = pair(&f["aliceIdentityPrivateKey"]);
    let bob_identity = pair(&f["bobIdentityPrivateKey"]);
    let spk = pair(&f["bobSignedPrekeyPrivateKey"]);
    let opk = pair(&f["bobOneTimePrekeyPrivateKey"]);
    let bundle = PreKeyBundle {
        identity_key: *bob_identity.public_key(),
        signed_prekey_id: 11,
        signed_prekey: *spk.public_key(),
        signed_prekey_signature: bytes(&f["bobSignedPrekeySignature"]).try_into().unwrap(),
        one_time_prekey: Some((77, *opk.public_key())),
        kem_prekey: None,
    };
    let initiation = x3dh::initiate_with_ephemeral(
        suite,
        &alice_identity,
        &bundle,
        pair(&f["aliceEphemeralPrivateKey"]),
    )
    .unwrap();
    let ad = initiation.agreement.associated_data.to_vec();
    assert_eq!(ad, bytes(&f["associatedData"]));
    let alice_keys = keys(&f["aliceRatchetPrivateKeys"]);
    let mut alice = Session::init_alice_with_key_pair(
        suite,
        config,
        initiation.agreement.shared_key.clone(),
        bundle.signed_prekey,
        KeyPair::from_private(PrivateKey::from_bytes(alice_keys[0])),
    )
    .unwrap();
    let mut alice_rng = KeyQueueRng::new(alice_keys[1..].iter().copied());
    let template = InitialMessage {
        identity_key: *alice_identity.public_key(),
        ephemeral_key: initiation.ephemeral_key,
        signed_prekey_id: 11,
        one_time_prekey_id: Some(77),
        registration_id: f["aliceRegistrationId"].as_u64().unwrap() as u32,
        kem: None,
        message: Vec::new(),
    };
    for i in 0..2 {
        assert_eq!(messages[i]["type"], "prekey");
        let inner = alice.encrypt(&text(i), &ad).unwrap();
        let framed = suite.encode_initial(&InitialMessage {
            message: inner,
            ..template.clone()
        });
        assert_eq!(hex::encode(&framed), hex::encode(wire(i)), "message {i}");
    }

    // Bob accepts python-axolotl's first initial message, then the second
    // as a message of the same session.
    let mut responder = Responder::new(bob_identity);
    responder.add_signed_prekey(11, spk);
    responder.add_one_time_prekey(77, opk);
    let mut bob_rng = KeyQueueRng::new(keys(&f["bobRatchetPrivateKeys"]));
    let accepted = responder
        .accept(suite, config, &wire(0), &mut bob_rng)
        .unwrap();
    assert_eq!(accepted.plaintext, text(0));
    assert_eq!(accepted.peer_registration_id, 1234);
    assert!(!responder.has_one_time_prekey(77));
    let mut bob = accepted.session;
    let second = suite.decode_initial(&wire(1)).unwrap();
    assert_eq!(second.ephemeral_key, accepted.base_key);
    assert_eq!(
        bob.decrypt(&second.message, &ad, &mut bob_rng).unwrap(),
        text(1)
    );

    // Bob's replies, byte for byte; Alice reads them last-first.
    for i in 2..4 {
        assert_eq!(messages[i]["from"], "bob");
        let reply = bob.encrypt(&text(i), &ad).unwrap();
        assert_eq!(hex::encode(&reply), hex::encode(wire(i)), "message {i}");
    }
    for i in [3, 2] {
        assert_eq!(
            alice.decrypt(&wire(i), &ad, &mut alice_rng).unwrap(),
            text(i)
        );
    }

    // After the first ratchet step: a plain WhisperMessage each way.
    assert_eq!(messages[4]["type"], "whisper");
    let after = alice.encrypt(&text(4), &ad).unwrap();
    assert_eq!(hex::encode(&after), hex::encode(wire(4)));
    assert_eq!(bob.decrypt(&wire(4), &ad, &mut bob_rng).unwrap(), text(4));
    let back = bob.encrypt(&text(5), &ad).unwrap();
    assert_eq!(hex::encode(&back), hex::encode(wire(5)));
    assert_eq!(
        alice.decrypt(&wire(5), &ad, &mut alice_rng).unwrap(),
        text(5)
    );
    assert!(
        !alice_rng.misused() && !bob_rng.misused(),
        "only the injected keys were drawn"
    );
}
