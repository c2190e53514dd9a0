//! The `olm-v1` reference's behaviour beyond the libolm known answers: its
//! limits (kept chains, stored keys, gap), transactional decryption, and the
//! wire grammar's edges.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use ratchetproof_protocol::olm::message::OlmMessage;
use ratchetproof_protocol::olm::session::MessageType;
use ratchetproof_protocol::olm::{
    MAX_MESSAGE_GAP, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS, OlmSession, PreKeyMessage,
};
use ratchetproof_protocol::{ErrorClass, KeyPair};

/// Alice and Bob after Alice's first pre-key message was received.
fn pair(seed: u64) -> (OlmSession, OlmSession, rand_chacha::ChaCha20Rng) {
    let mut rng = common::rng(seed);
    let alice_id = KeyPair::generate(&mut rng);
    let bob_id = KeyPair::generate(&mut rng);
    let otk = KeyPair::generate(&mut rng);
    let base = KeyPair::generate(&mut rng);
    let ratchet = KeyPair::generate(&mut rng);
    let mut alice = OlmSession::outbound(
        &alice_id,
        &base,
        ratchet,
        bob_id.public_key(),
        otk.public_key(),
    )
    .unwrap();
    let (kind, first) = alice.encrypt(b"hello", &mut rng).unwrap();
    assert_eq!(kind, MessageType::PreKey);
    let prekey = PreKeyMessage::decode(&first).unwrap();
    let mut bob = OlmSession::inbound(&bob_id, &otk, &prekey).unwrap();
    assert_eq!(bob.decrypt(kind, &first).unwrap(), b"hello");
    (alice, bob, rng)
}

fn send(
    s: &mut OlmSession,
    rng: &mut rand_chacha::ChaCha20Rng,
    text: &str,
) -> (MessageType, Vec<u8>) {
    s.encrypt(text.as_bytes(), rng).unwrap()
}

#[test]
fn ratchet_key_is_drawn_on_the_next_send_and_deleted_on_the_next_new_chain() {
    let (mut alice, mut bob, mut rng) = pair(1);
    assert!(
        !bob.holds_ratchet_key(),
        "the responder draws its key when it first sends"
    );
    let (k, m) = send(&mut bob, &mut rng, "reply");
    assert_eq!(k, MessageType::Normal);
    assert!(bob.holds_ratchet_key());
    assert_eq!(alice.decrypt(k, &m).unwrap(), b"reply");
    assert!(
        !alice.holds_ratchet_key(),
        "a new chain deletes the receiver's ratchet key"
    );
    let (k, m) = send(&mut alice, &mut rng, "after");
    assert_eq!(
        k,
        MessageType::Normal,
        "Alice sends normal messages once she has received"
    );
    assert!(alice.holds_ratchet_key());
    assert_eq!(bob.decrypt(k, &m).unwrap(), b"after");
}

#[test]
fn gap_limit_is_inclusive_at_2000() {
    let (mut alice, mut bob, mut rng) = pair(2);
    let mut messages = Vec::new();
    for i in 0..=(MAX_MESSAGE_GAP + 1) {
        messages.push(send(&mut alice, &mut rng, &format!("m{i}")));
    }
    // Bob's next index on Alice's chain is 1; index 1 + 2000 is the furthest allowed.
    let (k, too_far) = &messages[(MAX_MESSAGE_GAP + 1) as usize];
    let err = bob.decrypt(*k, too_far).unwrap_err();
    assert_eq!(err.class(), ErrorClass::TooManySkipped);
    let (k, furthest) = &messages[MAX_MESSAGE_GAP as usize];
    assert_eq!(
        bob.decrypt(*k, furthest).unwrap(),
        format!("m{MAX_MESSAGE_GAP}").as_bytes()
    );
    assert_eq!(
        bob.stored_keys(),
        MAX_SKIPPED_KEYS,
        "only the newest 40 skipped keys are kept"
    );
    // The oldest skipped messages are lost; the newest 40 still decrypt.
    let (k, lost) = &messages[1];
    assert_eq!(
        bob.decrypt(*k, lost).unwrap_err().class(),
        ErrorClass::Duplicate
    );
    let (k, kept) = &messages[(MAX_MESSAGE_GAP - 1) as usize];
    assert!(bob.decrypt(*k, kept).is_ok());
}

#[test]
fn at_most_five_receiver_chains_are_kept() {
    let (mut alice, mut bob, mut rng) = pair(3);
    // Alice's first chain: a message Bob will only see late.
    let late_first = send(&mut alice, &mut rng, "late on chain 0");
    let mut late = Vec::new();
    for round in 0..MAX_RECEIVER_CHAINS {
        let (k, m) = send(&mut bob, &mut rng, "ping");
        alice.decrypt(k, &m).unwrap();
        let (k, m) = send(&mut alice, &mut rng, &format!("chain {}", round + 1));
        late.push(send(
            &mut alice,
            &mut rng,
            &format!("late on chain {}", round + 1),
        ));
        bob.decrypt(k, &m).unwrap();
    }
    assert_eq!(bob.receiver_chains().len(), MAX_RECEIVER_CHAINS);
    // Chain 0 was dropped: its late message now looks like a new chain and fails.
    assert!(bob.decrypt(late_first.0, &late_first.1).is_err());
    // Chains 1..=5 are kept: their late messages are derived on demand.
    for (k, m) in &late {
        assert!(bob.decrypt(*k, m).is_ok());
    }
}

#[test]
fn a_forged_message_changes_nothing() {
    let (mut alice, mut bob, mut rng) = pair(4);
    let (k, m) = send(&mut bob, &mut rng, "reply");
    let mut forged = m.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(
        alice.decrypt(k, &forged).unwrap_err().class(),
        ErrorClass::Authentication
    );
    assert!(
        alice.holds_ratchet_key(),
        "the failed new chain did not delete the ratchet key"
    );
    assert_eq!(alice.receiver_chains().len(), 0);
    assert_eq!(alice.decrypt(k, &m).unwrap(), b"reply");
    // A forged skip on a known chain stores nothing.
    let (_, m1) = send(&mut bob, &mut rng, "one");
    let (_, m2) = send(&mut bob, &mut rng, "two");
    let mut forged = m2.clone();
    forged[5] ^= 1;
    assert!(alice.decrypt(k, &forged).is_err());
    assert_eq!(alice.stored_keys(), 0);
    assert_eq!(alice.decrypt(k, &m1).unwrap(), b"one");
}

#[test]
fn wire_grammar_edges() {
    let (_, mut bob, mut rng) = pair(5);
    let (_, m) = send(&mut bob, &mut rng, "x");
    let parsed = OlmMessage::decode(&m).unwrap();
    assert_eq!(parsed.index, 0);
    let mut wrong_version = m.clone();
    wrong_version[0] = 0x04;
    assert_eq!(
        OlmMessage::decode(&wrong_version).unwrap_err().class(),
        ErrorClass::Unsupported
    );
    assert_eq!(
        OlmMessage::decode(&[0x03]).unwrap_err().class(),
        ErrorClass::Malformed
    );
    // Ratchet key field of 31 bytes.
    let mut short_key = vec![0x03, 0x0a, 31];
    short_key.extend([7u8; 31]);
    short_key.extend([0x10, 0x00, 0x22, 0x00]);
    short_key.extend([0u8; 8]);
    assert!(OlmMessage::decode(&short_key).is_err());
    // Missing index field.
    let mut no_index = vec![0x03, 0x0a, 32];
    no_index.extend([7u8; 32]);
    no_index.extend([0x22, 0x00]);
    no_index.extend([0u8; 8]);
    assert_eq!(
        OlmMessage::decode(&no_index).unwrap_err().class(),
        ErrorClass::Malformed
    );
}

/// The forward-secrecy difference OLM-V1.md §8 states: a captured state reads
/// undelivered messages on a kept older chain from the chain key itself, with
/// no stored key for them; messages it already received stay unreadable.
#[test]
fn a_captured_state_derives_late_messages_on_kept_chains() {
    let (mut alice, mut bob, mut rng) = pair(6);
    let late1 = send(&mut alice, &mut rng, "late one");
    let late2 = send(&mut alice, &mut rng, "late two");
    let (k, m) = send(&mut bob, &mut rng, "reply");
    alice.decrypt(k, &m).unwrap();
    let (k, next_chain) = send(&mut alice, &mut rng, "new chain");
    assert_eq!(bob.decrypt(k, &next_chain).unwrap(), b"new chain");
    assert_eq!(bob.stored_keys(), 0, "no key stored for the late messages");
    assert_eq!(bob.receiver_chains().len(), 2, "the first chain is kept");

    let mut captured = bob.clone();
    assert_eq!(captured.decrypt(late2.0, &late2.1).unwrap(), b"late two");
    assert_eq!(captured.decrypt(late1.0, &late1.1).unwrap(), b"late one");
    assert_eq!(
        captured.decrypt(k, &next_chain).unwrap_err().class(),
        ErrorClass::Duplicate,
        "a message received before the capture stays unreadable"
    );
}
