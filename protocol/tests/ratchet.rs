//! Double Ratchet behaviour: conversations, out-of-order delivery, limits,
//! replay, transactional failure and state round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{Pair, pair, pair_with};
use ratchetproof_protocol::{Error, ErrorClass, Session, SessionConfig};

#[test]
fn thousand_messages_in_alternating_bursts() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let mut count = 0;
    let mut burst = 1;
    let mut alice_turn = true;
    while count < 1000 {
        let (tx, rx) = if alice_turn {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        for _ in 0..burst {
            let text = format!("message {count}");
            let wire = tx.encrypt(text.as_bytes(), &ad).unwrap();
            assert_eq!(rx.decrypt(&wire, &ad, &mut rng).unwrap(), text.as_bytes());
            count += 1;
        }
        burst = burst % 7 + 1;
        alice_turn = !alice_turn;
    }
}

#[test]
fn out_of_order_within_a_chain() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let wires: Vec<_> = (0..6).map(|i| alice.encrypt(&[i], &ad).unwrap()).collect();
    for i in [5usize, 0, 3, 1, 4, 2] {
        assert_eq!(bob.decrypt(&wires[i], &ad, &mut rng).unwrap(), [i as u8]);
    }
    assert_eq!(bob.skipped_key_count(), 0);
}

#[test]
fn out_of_order_across_dh_ratchet_steps() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    // Alice's chain 1: three messages, only the last arrives now.
    let a1: Vec<_> = (0..3)
        .map(|i| alice.encrypt(&[1, i], &ad).unwrap())
        .collect();
    assert_eq!(bob.decrypt(&a1[2], &ad, &mut rng).unwrap(), [1, 2]);
    let b1 = bob.encrypt(b"reply", &ad).unwrap();
    assert_eq!(alice.decrypt(&b1, &ad, &mut rng).unwrap(), b"reply");
    // Alice's chain 2 (PN = 3): two messages; the second arrives first.
    let a2: Vec<_> = (0..2)
        .map(|i| alice.encrypt(&[2, i], &ad).unwrap())
        .collect();
    assert_eq!(bob.decrypt(&a2[1], &ad, &mut rng).unwrap(), [2, 1]);
    let b2 = bob.encrypt(b"reply 2", &ad).unwrap();
    assert_eq!(alice.decrypt(&b2, &ad, &mut rng).unwrap(), b"reply 2");
    let a3 = alice.encrypt(b"chain 3", &ad).unwrap();
    assert_eq!(bob.decrypt(&a3, &ad, &mut rng).unwrap(), b"chain 3");
    // Delayed messages from two chains back, then one chain back.
    assert_eq!(bob.decrypt(&a1[0], &ad, &mut rng).unwrap(), [1, 0]);
    assert_eq!(bob.decrypt(&a2[0], &ad, &mut rng).unwrap(), [2, 0]);
    assert_eq!(bob.decrypt(&a1[1], &ad, &mut rng).unwrap(), [1, 1]);
    assert_eq!(bob.skipped_key_count(), 0);
}

fn assert_rejected_unchanged(session: &mut Session, wire: &[u8], ad: &[u8], class: ErrorClass) {
    assert_rejected_as_one_of(session, wire, ad, &[class]);
}

fn assert_rejected_as_one_of(
    session: &mut Session,
    wire: &[u8],
    ad: &[u8],
    classes: &[ErrorClass],
) {
    let before = session.to_bytes();
    let mut rng = common::rng(99);
    let err = session.decrypt(wire, ad, &mut rng).unwrap_err();
    assert!(
        classes.contains(&err.class()),
        "{err}: expected one of {classes:?}"
    );
    assert_eq!(*session.to_bytes(), *before, "state changed after {err}");
}

#[test]
fn jump_beyond_max_skip_is_rejected_and_changes_nothing() {
    let config = SessionConfig {
        max_skip: 10,
        max_stored_skipped_keys: 100,
    };
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair_with(config, 3);
    let wires: Vec<_> = (0..13).map(|i| alice.encrypt(&[i], &ad).unwrap()).collect();
    // Bob has received the X3DH message (n = 0, so Nr = 1); wires[i] has n = i + 1.
    // n = 12 would skip 11 keys, n = 11 skips exactly max_skip = 10.
    assert_rejected_unchanged(&mut bob, &wires[11], &ad, ErrorClass::TooManySkipped);
    assert_eq!(bob.decrypt(&wires[10], &ad, &mut rng).unwrap(), [10]);
    assert_eq!(bob.skipped_key_count(), 10);
}

#[test]
fn pn_is_bounded_before_the_first_receiving_chain() {
    // Bob holds no receiving chain before Alice's first message; a header
    // claiming PN beyond MAX_SKIP must still be refused (spec SkipMessageKeys).
    let config = SessionConfig {
        max_skip: 5,
        max_stored_skipped_keys: 100,
    };
    let mut rng = common::rng(4);
    let sk = ratchetproof_protocol::SharedKey::from_bytes([7; 32]);
    let bob_pair = ratchetproof_protocol::KeyPair::generate(&mut rng);
    let mut alice = Session::init_alice(
        &ratchetproof_protocol::DEFAULT_SUITE,
        config,
        sk.clone(),
        *bob_pair.public_key(),
        &mut rng,
    )
    .unwrap();
    let mut bob =
        Session::init_bob(&ratchetproof_protocol::DEFAULT_SUITE, config, sk, bob_pair).unwrap();
    let wires: Vec<_> = (0..7)
        .map(|i| alice.encrypt(&[i], b"ad").unwrap())
        .collect();
    assert_rejected_unchanged(&mut bob, &wires[6], b"ad", ErrorClass::TooManySkipped);
    assert_eq!(bob.decrypt(&wires[5], b"ad", &mut rng).unwrap(), [5]);
}

#[test]
fn replay_is_a_duplicate_not_an_authentication_failure() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let first = alice.encrypt(b"once", &ad).unwrap();
    let second = alice.encrypt(b"twice", &ad).unwrap();
    assert_eq!(bob.decrypt(&second, &ad, &mut rng).unwrap(), b"twice");
    assert_rejected_unchanged(&mut bob, &second, &ad, ErrorClass::Duplicate);
    assert_eq!(bob.decrypt(&first, &ad, &mut rng).unwrap(), b"once");
    assert_rejected_unchanged(&mut bob, &first, &ad, ErrorClass::Duplicate);
    // A replay from an earlier chain, after a full round trip.
    let reply = bob.encrypt(b"r", &ad).unwrap();
    alice.decrypt(&reply, &ad, &mut rng).unwrap();
    let next = alice.encrypt(b"new chain", &ad).unwrap();
    bob.decrypt(&next, &ad, &mut rng).unwrap();
    assert_rejected_unchanged(&mut bob, &first, &ad, ErrorClass::Duplicate);
}

#[test]
fn every_tampered_byte_is_rejected_without_state_change() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let reply = bob.encrypt(b"ratchet", &ad).unwrap();
    alice.decrypt(&reply, &ad, &mut rng).unwrap();
    // This message starts a new chain at Bob: a forgery would trigger a DH ratchet.
    let wire = alice.encrypt(b"sixteen bytes!!!", &ad).unwrap();
    for i in 0..wire.len() {
        let mut forged = wire.clone();
        forged[i] ^= 0x01;
        // A changed pn or n can claim a jump past MAX_SKIP, which is refused
        // before authentication; a changed dh may land on a small-order point.
        let classes: &[ErrorClass] = match i {
            0 => &[ErrorClass::Unsupported],
            1..=32 => &[ErrorClass::Authentication, ErrorClass::InvalidKey],
            33..=40 => &[ErrorClass::Authentication, ErrorClass::TooManySkipped],
            _ => &[ErrorClass::Authentication],
        };
        assert_rejected_as_one_of(&mut bob, &forged, &ad, classes);
    }
    let mut other_ad = ad.clone();
    other_ad[0] ^= 1;
    assert_rejected_unchanged(&mut bob, &wire, &other_ad, ErrorClass::Authentication);
    for len in 0..wire.len() {
        let class = match len {
            0 => ErrorClass::Malformed,
            _ if len < ratchetproof_protocol::suite::MESSAGE_OVERHEAD => ErrorClass::Malformed,
            _ => ErrorClass::Authentication,
        };
        assert_rejected_unchanged(&mut bob, &wire[..len], &ad, class);
    }
    assert_eq!(
        bob.decrypt(&wire, &ad, &mut rng).unwrap(),
        b"sixteen bytes!!!"
    );
}

#[test]
fn failed_decryption_of_a_skipped_message_keeps_its_key() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let wires: Vec<_> = (0..3).map(|i| alice.encrypt(&[i], &ad).unwrap()).collect();
    bob.decrypt(&wires[2], &ad, &mut rng).unwrap();
    let mut forged = wires[0].clone();
    *forged.last_mut().unwrap() ^= 0x80;
    assert_rejected_unchanged(&mut bob, &forged, &ad, ErrorClass::Authentication);
    assert_eq!(bob.decrypt(&wires[0], &ad, &mut rng).unwrap(), [0]);
}

#[test]
fn skipped_keys_are_capped_with_oldest_first_eviction() {
    let config = SessionConfig {
        max_skip: 10,
        max_stored_skipped_keys: 4,
    };
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair_with(config, 5);
    let wires: Vec<_> = (0..8).map(|i| alice.encrypt(&[i], &ad).unwrap()).collect();
    // wires[i] has n = i + 1 (the X3DH message was n = 0); n = 8 skips n = 1..=7.
    bob.decrypt(&wires[7], &ad, &mut rng).unwrap();
    assert_eq!(bob.skipped_key_count(), 4);
    // The oldest three (wires 0..3) were evicted; wires 3..7 remain.
    for wire in &wires[..3] {
        assert_rejected_unchanged(&mut bob, wire, &ad, ErrorClass::Duplicate);
    }
    for (i, wire) in wires.iter().enumerate().take(7).skip(3) {
        assert_eq!(bob.decrypt(wire, &ad, &mut rng).unwrap(), [i as u8]);
    }
}

#[test]
fn state_round_trip_is_byte_identical() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let wires: Vec<_> = (0..5).map(|i| alice.encrypt(&[i], &ad).unwrap()).collect();
    bob.decrypt(&wires[4], &ad, &mut rng).unwrap();
    for session in [&alice, &bob] {
        let bytes = session.to_bytes();
        let restored = Session::from_bytes(&bytes).unwrap();
        assert_eq!(*restored.to_bytes(), *bytes);
    }
    // A restored copy behaves like the original.
    let mut copy = Session::from_bytes(&bob.to_bytes()).unwrap();
    assert_eq!(copy.decrypt(&wires[1], &ad, &mut rng).unwrap(), [1]);
}

#[test]
fn state_decoding_rejects_every_truncation_and_trailing_byte() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let wires: Vec<_> = (0..3).map(|i| alice.encrypt(&[i], &ad).unwrap()).collect();
    bob.decrypt(&wires[2], &ad, &mut rng).unwrap();
    let bytes = bob.to_bytes();
    for len in 0..bytes.len() {
        assert!(matches!(
            Session::from_bytes(&bytes[..len]),
            Err(Error::InvalidState(_))
        ));
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(matches!(
        Session::from_bytes(&longer),
        Err(Error::InvalidState(_))
    ));
}

#[test]
fn responder_cannot_send_before_receiving() {
    let mut rng = common::rng(6);
    let bob_pair = ratchetproof_protocol::KeyPair::generate(&mut rng);
    let sk = ratchetproof_protocol::SharedKey::from_bytes([1; 32]);
    let mut bob = Session::init_bob(
        &ratchetproof_protocol::DEFAULT_SUITE,
        SessionConfig::default(),
        sk,
        bob_pair,
    )
    .unwrap();
    assert_eq!(bob.encrypt(b"x", b"").unwrap_err(), Error::NoSendingChain);
}

#[test]
fn debug_output_shows_no_secrets() {
    let Pair { alice, .. } = pair();
    let shown = format!("{alice:?}");
    let state = alice.to_bytes();
    // The private ratchet key sits at bytes 14..46 of the state encoding.
    let private_hex = common::hex(&state[14..46]);
    assert!(!shown.contains(&private_hex));
    assert!(
        format!(
            "{:?}",
            ratchetproof_protocol::PrivateKey::from_bytes([3; 32])
        )
        .contains("redacted")
    );
}

#[test]
fn a_reused_earlier_ratchet_key_is_processed_as_the_spec_says() {
    // Alice's RNG hands out A0, A1, then A0 again. The spec accepts her third
    // chain (it performs a DH ratchet because header.dh != DHr); remembering
    // A0 as an earlier receiving key must not turn that into a duplicate.
    let k = |b: u8| [b; 32];
    let mut alice_rng = common::KeyQueueRng::new([k(10), k(11), k(10), k(12)]);
    let mut bob_rng = common::KeyQueueRng::new([k(20), k(21), k(22)]);
    let suite = &ratchetproof_protocol::DEFAULT_SUITE;
    let sk = ratchetproof_protocol::SharedKey::from_bytes([9; 32]);
    let bob_pair = ratchetproof_protocol::KeyPair::from_private(
        ratchetproof_protocol::PrivateKey::from_bytes(k(30)),
    );
    let config = SessionConfig::default();
    let mut alice = Session::init_alice(
        suite,
        config,
        sk.clone(),
        *bob_pair.public_key(),
        &mut alice_rng,
    )
    .unwrap();
    let mut bob = Session::init_bob(suite, config, sk, bob_pair).unwrap();
    for round in 0..3 {
        let a = alice.encrypt(&[round], b"ad").unwrap();
        assert_eq!(
            bob.decrypt(&a, b"ad", &mut bob_rng).unwrap(),
            [round],
            "round {round}"
        );
        let b = bob.encrypt(&[round], b"ad").unwrap();
        assert_eq!(alice.decrypt(&b, b"ad", &mut alice_rng).unwrap(), [round]);
    }
    // Round 2 was Alice's third chain, under A0 again.
    assert!(!bob_rng.misused() && !alice_rng.misused());
}
