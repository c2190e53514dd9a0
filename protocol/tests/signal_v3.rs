//! The `signal-v3` suite (docs/SIGNAL-V3.md): wire layout, the
//! previousCounter convention, direction-ordered MAC input, the
//! PreKeyWhisperMessage, and the state machine's guarantees under this suite.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{Pair, pair_in};
use ratchetproof_protocol::suite::v3;
use ratchetproof_protocol::{
    CipherSuite, ErrorClass, Header, MessageKey, PublicKey, Role, SIGNAL_V3_SUITE, Session,
    SessionConfig,
};

const SUITE: &ratchetproof_protocol::SignalV3Suite = &SIGNAL_V3_SUITE;

fn pair(seed: u64) -> Pair {
    pair_in(SUITE, SessionConfig::default(), seed)
}

/// Reads one protobuf varint at `i`; returns (value, next index).
fn varint(bytes: &[u8], mut i: usize) -> (u64, usize) {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let b = bytes[i];
        value |= u64::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (value, i);
        }
        shift += 7;
    }
}

/// The (tag, value) fields of a protobuf body, in wire order; length-delimited
/// values as bytes, varints as their big-endian u64 bytes.
fn fields(body: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let (key, next) = varint(body, i);
        i = next;
        match key & 7 {
            0 => {
                let (v, next) = varint(body, i);
                i = next;
                out.push((key >> 3, v.to_be_bytes().to_vec()));
            }
            2 => {
                let (len, next) = varint(body, i);
                let end = next + len as usize;
                out.push((key >> 3, body[next..end].to_vec()));
                i = end;
            }
            t => panic!("unexpected wire type {t}"),
        }
    }
    out
}

fn u64_field(v: &[u8]) -> u64 {
    u64::from_be_bytes(v.try_into().unwrap())
}

#[test]
fn suite_is_registered_by_name_and_id() {
    let by_name = ratchetproof_protocol::suite::by_name("signal-v3").unwrap();
    assert_eq!(by_name.id(), 2);
    assert_eq!(
        ratchetproof_protocol::suite::by_id(2).unwrap().name(),
        "signal-v3"
    );
}

#[test]
fn whisper_message_layout_matches_libsignal() {
    let mk = MessageKey::from_bytes([7; 32]);
    let header = Header {
        dh: PublicKey::from_bytes([9; 32]),
        pn: 5,
        n: 3,
    };
    let ad = [[0x05].as_slice(), &[1; 32], &[0x05], &[2; 32]].concat();
    let wire = SUITE.seal(&mk, &header, b"sixteen byte msg", &ad).unwrap();
    assert_eq!(wire[0], 0x33);
    let body = &wire[1..wire.len() - 8];
    let f = fields(body);
    let tags: Vec<u64> = f.iter().map(|(t, _)| *t).collect();
    assert_eq!(tags, [1, 2, 3, 4], "all four fields, in field order");
    assert_eq!(f[0].1, [[0x05].as_slice(), &[9; 32]].concat());
    assert_eq!(u64_field(&f[1].1), 3);
    assert_eq!(u64_field(&f[2].1), 4, "previousCounter = PN - 1");
    assert_eq!(f[3].1.len(), 32, "CBC pads 16 bytes to 32");

    // The MAC is HMAC-SHA256(mac key, ad ‖ 0x33 ‖ protobuf), first 8 bytes.
    use hmac::{Hmac, KeyInit, Mac};
    let keys = SUITE.message_keys(&mk);
    assert_eq!(keys.len(), 80);
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&keys[32..64]).unwrap();
    mac.update(&ad);
    mac.update(&wire[..wire.len() - 8]);
    assert_eq!(&mac.finalize().into_bytes()[..8], &wire[wire.len() - 8..]);

    // A zero counter is still written (proto2 optional, as libsignal does).
    let first = Header {
        dh: PublicKey::from_bytes([9; 32]),
        pn: 0,
        n: 0,
    };
    let wire0 = SUITE.seal(&mk, &first, b"", &ad).unwrap();
    let f0 = fields(&wire0[1..wire0.len() - 8]);
    assert_eq!(f0.len(), 4);
    assert_eq!(u64_field(&f0[1].1), 0);
    assert_eq!(u64_field(&f0[2].1), 0);
    assert_eq!(
        f0[3].1.len(),
        16,
        "an empty plaintext is one block of padding"
    );
}

#[test]
fn previous_counter_is_read_back_as_pn() {
    let mk = MessageKey::from_bytes([1; 32]);
    for (pn, read_back) in [(0, 1), (1, 1), (2, 2), (2000, 2000), (u32::MAX, u32::MAX)] {
        let header = Header {
            dh: PublicKey::from_bytes([3; 32]),
            pn,
            n: 0,
        };
        let wire = SUITE.seal(&mk, &header, b"x", b"").unwrap();
        assert_eq!(SUITE.parse_header(&wire).unwrap().pn, read_back, "pn {pn}");
    }
}

#[test]
fn parsing_rejects_malformed_messages_with_the_documented_classes() {
    let mk = MessageKey::from_bytes([1; 32]);
    let header = Header {
        dh: PublicKey::from_bytes([3; 32]),
        pn: 0,
        n: 0,
    };
    let wire = SUITE.seal(&mk, &header, b"x", b"").unwrap();
    let class = |bytes: &[u8]| SUITE.parse_header(bytes).unwrap_err().class();
    assert_eq!(class(&[]), ErrorClass::Malformed);
    assert_eq!(class(&[0x32; 40]), ErrorClass::Unsupported);
    assert_eq!(class(&[0x34]), ErrorClass::Unsupported);
    assert_eq!(class(&[0x33; 5]), ErrorClass::Malformed);
    // Cutting the protobuf short leaves a field truncated or missing.
    for cut in 1..wire.len() - 8 {
        let mut short = wire[..cut].to_vec();
        short.extend_from_slice(&[0; 8]);
        assert_eq!(class(&short), ErrorClass::Malformed, "cut at {cut}");
    }
    // A ratchet key without the 0x05 type byte.
    let mut bad_type = wire.clone();
    assert_eq!(bad_type[1..4], [0x0a, 33, 0x05]);
    bad_type[3] = 0x06;
    assert_eq!(class(&bad_type), ErrorClass::InvalidKey);
}

#[test]
fn associated_data_must_name_two_identity_keys() {
    let mut p = pair(3);
    let wire = p.alice.encrypt(b"m", &p.ad).unwrap();
    for bad in [Vec::new(), p.ad[..65].to_vec(), [&p.ad[..], &[0]].concat()] {
        let err = p.alice.encrypt(b"m", &bad).unwrap_err();
        assert_eq!(err.class(), ErrorClass::InvalidKey);
        let before = p.bob.to_bytes();
        assert_eq!(
            p.bob.decrypt(&wire, &bad, &mut p.rng).unwrap_err().class(),
            ErrorClass::InvalidKey
        );
        assert_eq!(p.bob.to_bytes(), before);
    }
    let mut wrong_prefix = p.ad.clone();
    wrong_prefix[33] = 0x06;
    assert_eq!(
        p.alice.encrypt(b"m", &wrong_prefix).unwrap_err().class(),
        ErrorClass::InvalidKey
    );
    assert_eq!(p.bob.decrypt(&wire, &p.ad, &mut p.rng).unwrap(), b"m");
}

#[test]
fn the_mac_puts_the_senders_identity_first() {
    let mut p = pair(4);
    let swapped = [&p.ad[33..], &p.ad[..33]].concat();
    // Alice → Bob: MAC over ad as it is.
    let a = p.alice.encrypt(b"to bob", &p.ad).unwrap();
    let before = p.bob.to_bytes();
    assert_eq!(
        p.bob.decrypt(&a, &swapped, &mut p.rng).unwrap_err().class(),
        ErrorClass::Authentication
    );
    assert_eq!(p.bob.to_bytes(), before);
    assert_eq!(p.bob.decrypt(&a, &p.ad, &mut p.rng).unwrap(), b"to bob");
    // Bob → Alice: the suite swaps the halves, and the MAC verifies against
    // the sender-first prefix.
    assert_eq!(p.bob.role(), Role::Bob);
    let b = p.bob.encrypt(b"to alice", &p.ad).unwrap();
    let before = p.alice.to_bytes();
    assert_eq!(
        p.alice
            .decrypt(&b, &swapped, &mut p.rng)
            .unwrap_err()
            .class(),
        ErrorClass::Authentication
    );
    assert_eq!(p.alice.to_bytes(), before);
    assert_eq!(p.alice.decrypt(&b, &p.ad, &mut p.rng).unwrap(), b"to alice");
}

#[test]
fn conversation_out_of_order_across_ratchet_steps() {
    let mut p = pair(5);
    let mut pending_to_bob = Vec::new();
    let mut pending_to_alice = Vec::new();
    for round in 0..6u8 {
        for i in 0..4u8 {
            pending_to_bob.push((vec![round, i], p.alice.encrypt(&[round, i], &p.ad).unwrap()));
        }
        // Deliver all but the first of this round, newest first; the first
        // arrives one round later.
        let held = pending_to_bob.remove(pending_to_bob.len() - 4);
        while let Some((pt, wire)) = pending_to_bob.pop() {
            assert_eq!(p.bob.decrypt(&wire, &p.ad, &mut p.rng).unwrap(), pt);
        }
        pending_to_bob.push(held);
        for i in 0..3u8 {
            pending_to_alice.push((
                vec![round, i, 0xb],
                p.bob.encrypt(&[round, i, 0xb], &p.ad).unwrap(),
            ));
        }
        for (pt, wire) in pending_to_alice.drain(..).rev() {
            assert_eq!(p.alice.decrypt(&wire, &p.ad, &mut p.rng).unwrap(), pt);
        }
    }
    // The held-back messages, each from an earlier chain, still decrypt.
    for (pt, wire) in pending_to_bob {
        assert_eq!(p.bob.decrypt(&wire, &p.ad, &mut p.rng).unwrap(), pt);
    }
}

#[test]
fn last_message_of_a_chain_survives_a_ratchet_step() {
    // libsignal writes previousCounter = index of the last message; reading
    // it as PN - 1 keeps that message's key (docs/SIGNAL-V3.md §3).
    let mut p = pair(6);
    let m0 = p.alice.encrypt(b"a0", &p.ad).unwrap();
    let m1 = p.alice.encrypt(b"a1", &p.ad).unwrap();
    assert_eq!(p.bob.decrypt(&m0, &p.ad, &mut p.rng).unwrap(), b"a0");
    let r = p.bob.encrypt(b"b0", &p.ad).unwrap();
    assert_eq!(p.alice.decrypt(&r, &p.ad, &mut p.rng).unwrap(), b"b0");
    let m2 = p.alice.encrypt(b"a2", &p.ad).unwrap();
    assert_eq!(p.bob.decrypt(&m2, &p.ad, &mut p.rng).unwrap(), b"a2");
    assert_eq!(p.bob.decrypt(&m1, &p.ad, &mut p.rng).unwrap(), b"a1");
}

#[test]
fn every_tampered_byte_is_rejected_without_state_change() {
    let mut p = pair(7);
    let wire = p.alice.encrypt(b"tamper me", &p.ad).unwrap();
    for i in 0..wire.len() {
        for flip in [0x01u8, 0x80] {
            let mut bad = wire.clone();
            bad[i] ^= flip;
            let before = p.bob.to_bytes();
            assert!(p.bob.decrypt(&bad, &p.ad, &mut p.rng).is_err(), "byte {i}");
            assert_eq!(p.bob.to_bytes(), before, "byte {i} changed the state");
        }
    }
    for len in 0..wire.len() {
        assert!(p.bob.decrypt(&wire[..len], &p.ad, &mut p.rng).is_err());
    }
    assert_eq!(
        p.bob.decrypt(&wire, &p.ad, &mut p.rng).unwrap(),
        b"tamper me"
    );
    let replay = p.bob.decrypt(&wire, &p.ad, &mut p.rng).unwrap_err();
    assert_eq!(replay.class(), ErrorClass::Duplicate);
}

#[test]
fn skip_bound_is_2000() {
    let mut p = pair(8);
    let ad = p.ad.clone();
    let mut burst: Vec<Vec<u8>> = (0..2002)
        .map(|_| p.alice.encrypt(b"", &ad).unwrap())
        .collect();
    let too_far = burst.pop().unwrap();
    let before = p.bob.to_bytes();
    let err = p.bob.decrypt(&too_far, &ad, &mut p.rng).unwrap_err();
    assert_eq!(err.class(), ErrorClass::TooManySkipped);
    assert_eq!(p.bob.to_bytes(), before);
    // n = Nr + 2000 (Nr = 1 after the initial message) is the last accepted.
    assert!(
        p.bob
            .decrypt(burst.last().unwrap(), &ad, &mut p.rng)
            .is_ok()
    );
}

#[test]
fn prekey_whisper_message_round_trips_in_field_order() {
    let initial = ratchetproof_protocol::x3dh::InitialMessage {
        identity_key: PublicKey::from_bytes([1; 32]),
        ephemeral_key: PublicKey::from_bytes([2; 32]),
        signed_prekey_id: 300,
        one_time_prekey_id: Some(5),
        registration_id: 16_383,
        kem: None,
        message: vec![0x33, 1, 2, 3],
    };
    let wire = SUITE.encode_initial(&initial);
    assert_eq!(wire[0], 0x33);
    let f = fields(&wire[1..]);
    let tags: Vec<u64> = f.iter().map(|(t, _)| *t).collect();
    assert_eq!(tags, [1, 2, 3, 4, 5, 6]);
    assert_eq!(u64_field(&f[0].1), 5);
    assert_eq!(f[1].1, v3::encode_key(&initial.ephemeral_key));
    assert_eq!(f[2].1, v3::encode_key(&initial.identity_key));
    assert_eq!(u64_field(&f[4].1), 16_383);
    assert_eq!(u64_field(&f[5].1), 300);
    assert_eq!(SUITE.decode_initial(&wire).unwrap(), initial);

    let without_opk = ratchetproof_protocol::x3dh::InitialMessage {
        one_time_prekey_id: None,
        ..initial.clone()
    };
    let wire = SUITE.encode_initial(&without_opk);
    assert_eq!(fields(&wire[1..]).first().unwrap().0, 2, "no field 1");
    assert_eq!(SUITE.decode_initial(&wire).unwrap(), without_opk);

    for cut in 0..wire.len() {
        assert!(SUITE.decode_initial(&wire[..cut]).is_err(), "cut {cut}");
    }
    let mut bad_version = wire.clone();
    bad_version[0] = 0x23;
    assert_eq!(
        SUITE.decode_initial(&bad_version).unwrap_err().class(),
        ErrorClass::Unsupported
    );
}

#[test]
fn state_round_trip_keeps_the_role() {
    let mut p = pair(10);
    let wire = p.bob.encrypt(b"x", &p.ad).unwrap();
    let restored = Session::from_bytes(&p.alice.to_bytes()).unwrap();
    assert_eq!(restored.role(), Role::Alice);
    assert_eq!(restored.suite().name(), "signal-v3");
    let mut restored = restored;
    assert_eq!(restored.decrypt(&wire, &p.ad, &mut p.rng).unwrap(), b"x");
    let bob = Session::from_bytes(&p.bob.to_bytes()).unwrap();
    assert_eq!(bob.role(), Role::Bob);
}

/// Appends a protobuf varint.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A WhisperMessage body with the given counter values (as varints).
fn whisper_body(counter: u64, previous: u64) -> Vec<u8> {
    let mut body = vec![0x0a, 33, 0x05];
    body.extend_from_slice(&[9; 32]);
    body.push(0x10);
    put_varint(&mut body, counter);
    body.push(0x18);
    put_varint(&mut body, previous);
    body.extend_from_slice(&[0x22, 16]);
    body.extend_from_slice(&[0; 16]);
    body
}

/// [R-V3-VARINT]: a counter varint above 2^32 − 1 is `Malformed`, never
/// read modulo 2^32 (which would turn 2^32 into counter 0).
#[test]
fn counter_varints_above_u32_are_malformed() {
    let message = |counter: u64, previous: u64| {
        let mut m = vec![v3::VERSION];
        m.extend(whisper_body(counter, previous));
        m.extend_from_slice(&[0; 8]);
        m
    };
    let header = |c, p| SUITE.parse_header(&message(c, p));
    assert_eq!(header(u64::from(u32::MAX) - 1, 0).unwrap().n, u32::MAX - 1);
    assert_eq!(header(0, u64::from(u32::MAX)).unwrap().pn, u32::MAX);
    for big in [1u64 << 32, (1 << 32) + 5, u64::MAX] {
        assert_eq!(header(big, 0).unwrap_err().class(), ErrorClass::Malformed);
        assert_eq!(header(0, big).unwrap_err().class(), ErrorClass::Malformed);
    }
}

/// The layout the harness tampers by: contiguous fields covering the whole
/// message, at the positions docs/SIGNAL-V3.md §3 gives for single-byte varints.
#[test]
fn message_layout_names_every_byte() {
    use ratchetproof_protocol::suite::FieldRole::*;
    let header = Header {
        dh: PublicKey::from_bytes([9; 32]),
        pn: 3,
        n: 5,
    };
    let mk = MessageKey::from_bytes([7; 32]);
    let ad = [[0x05u8; 33], [0x05u8; 33]].concat();
    let wire = SIGNAL_V3_SUITE.seal(&mk, &header, b"hello", &ad).unwrap();
    let layout = SIGNAL_V3_SUITE.message_layout(&wire).unwrap();
    let mut next = 0;
    for f in &layout.fields {
        assert_eq!(f.range.start, next, "{f:?}");
        next = f.range.end;
    }
    assert_eq!(next, wire.len());
    let roles: Vec<_> = layout
        .fields
        .iter()
        .map(|f| (f.role, f.range.clone()))
        .collect();
    let len = wire.len();
    assert_eq!(
        roles,
        vec![
            (Version, 0..1),
            (Structure, 1..2),
            (Structure, 2..3),
            (KeyType, 3..4),
            (RatchetKey, 4..36),
            (Structure, 36..37),
            (Counter, 37..38),
            (Structure, 38..39),
            (PreviousCounter, 39..40),
            (Structure, 40..41),
            (Structure, 41..42),
            (Ciphertext, 42..len - 8),
            (Tag, len - 8..len),
        ]
    );
    let mut cut = wire.clone();
    cut.truncate(30);
    assert!(SIGNAL_V3_SUITE.message_layout(&cut).is_err());
}
