//! Correctly MACed messages that no honest Olm writes (docs/OLM-V1.md §11):
//! the edge cases libolm's findings L2–L6 and L8 (conformance/shims/libolm-js
//! README) turn on. Each is sealed here, from the keys the case's sessions
//! derive, so the MAC verifies and only the property under test can refuse
//! it; §11 says which outcomes conform and why.
//!
//! A refused message leaves the session (or, for a first message, no
//! session) unchanged, so each case goes on with the genuine messages. The
//! small-order case ends at its delivery: accepting and refusing both
//! conform and leave different states.

use aes::Aes256;
use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use ratchetproof_protocol::olm::{self, MAC_LEN, PreKeyMessage, VERSION};
use ratchetproof_protocol::{DhOutput, MessageKey};
use sha2::Sha256;

use super::builder::{Cases, Delivery, Olm, R, refused};
use crate::generate::flags::Flag;
use crate::implementation::MessageType;
use crate::vectors::{ErrorClass, Outcome, Plaintext};

pub(super) fn edge_cases(c: &mut Cases) -> R<()> {
    index_width(c)?;
    for (u, name) in [(0u8, "u = 0"), (1, "u = 1")] {
        small_order(c, u, name)?;
    }
    padding(c)?;
    ciphertext_length(c)?;
    key_length(c)
}

pub(super) fn put(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `0x03 ‖ ratchet key ‖ index ‖ ciphertext ‖ MAC`, the MAC correct under
/// `mk` whatever the fields say.
pub(super) fn sealed(
    mk: &MessageKey,
    ratchet_key: &[u8],
    index: u64,
    ciphertext: &[u8],
) -> Vec<u8> {
    let keys = olm::message_keys(mk);
    let mut out = vec![VERSION];
    put(&mut out, 0x0a, ratchet_key);
    out.push(0x10);
    put_varint(&mut out, index);
    put(&mut out, 0x22, ciphertext);
    if let Ok(mut h) = <Hmac<Sha256> as KeyInit>::new_from_slice(keys.get(32..64).unwrap_or(&[])) {
        h.update(&out);
        let tag = h.finalize().into_bytes();
        out.extend_from_slice(tag.get(..MAC_LEN).unwrap_or(&[]));
    }
    out
}

/// AES-256-CBC under `mk`'s keys: PKCS#7-padded, or raw (whole blocks only).
pub(super) fn ciphertext(s: &Olm, mk: &MessageKey, plaintext: &[u8], padded: bool) -> R<Vec<u8>> {
    let keys = olm::message_keys(mk);
    let cipher = cbc::Encryptor::<Aes256>::new_from_slices(
        keys.get(..32).unwrap_or(&[]),
        keys.get(64..80).unwrap_or(&[]),
    )
    .map_err(|_| s.fail("AES key".into()))?;
    if padded {
        Ok(cipher.encrypt_padded_vec::<Pkcs7>(plaintext))
    } else if plaintext.len().is_multiple_of(16) {
        Ok(cipher.encrypt_padded_vec::<NoPadding>(plaintext))
    } else {
        Err(s.fail("raw CBC needs whole blocks".into()))
    }
}

/// A first-chain message of Alice's at `index` (key of `key_index`) with
/// the given ciphertext, in her pre-key envelope.
fn first_chain(s: &Olm, key_index: u32, index: u64, ciphertext: &[u8]) -> R<Vec<u8>> {
    let mk = s.alice_first_chain_key(key_index)?;
    let t0 = s.ratchet_pair("alice", 0)?;
    s.envelope(sealed(&mk, t0.public_key().as_bytes(), index, ciphertext))
}

fn as_prekey(bytes: Vec<u8>) -> Delivery {
    Delivery::Bytes(bytes, MessageType::Prekey)
}

/// Bob answers and Alice reads it: the session goes on after the refusals.
fn round_trip(s: &mut Olm) -> R<()> {
    let b = s.say("bob")?;
    s.deliver("alice", b)
}

/// L2: indices `2^32` and `2^32 + 1`, each MACed under the key of its index
/// modulo `2^32` — first as Bob's first message, then on his session.
fn index_width(c: &mut Cases) -> R<()> {
    let mut s = c.start("index-width")?;
    let [a0, a1]: [usize; 2] = s.says("alice")?;
    let refusal = || {
        refused(ErrorClass::Malformed)
            .or_error(ErrorClass::TooManySkipped)
            .or_error(ErrorClass::Authentication)
    };
    for (k, (genuine, index)) in [(a0, 1u64 << 32), (a1, (1u64 << 32) + 1)]
        .into_iter()
        .enumerate()
    {
        let key_index = u32::try_from(k).map_err(|_| s.fail("index".into()))?;
        let mk = s.alice_first_chain_key(key_index)?;
        let ct = ciphertext(&s, &mk, format!("index {index}").as_bytes(), true)?;
        let bad = first_chain(&s, key_index, index, &ct)?;
        s.deliver_as("bob", as_prekey(bad), refusal())?;
        s.deliver("bob", genuine)?;
    }
    round_trip(&mut s)?;
    c.add(
        s,
        "pre-key messages whose inner message claims chain index 2^32, then 2^32 + 1, each correctly MACed under the key of its index modulo 2^32 (0, then 1) — first to Bob without a session, then to his session: refused (malformed, too_many_skipped or authentication), not read as index 0 or 1 (libolm finding L2); the genuine messages 0 and 1 then decrypt",
        &[Flag::OlmIndexWidth, Flag::Atomicity, Flag::OlmPreKeyMessages],
    )
}

/// L3: a new chain whose ratchet key is the small-order point `u`, MACed
/// under the keys the all-zero DH output derives from Bob's root.
fn small_order(c: &mut Cases, u: u8, name: &str) -> R<()> {
    let mut s = c.start(&format!("small-order-{u}"))?;
    let a0 = s.say("alice")?;
    s.deliver("bob", a0)?;
    let b0 = s.say("bob")?;
    s.deliver("alice", b0)?;
    // Bob's root after his send: KDF_RK(R0, ECDH(T_B1, T0)); the new chain
    // from the all-zero output.
    let (r0, _) = s.first_keys()?;
    let tb1 = s.ratchet_pair("bob", 0)?;
    let t0 = s.ratchet_pair("alice", 0)?;
    let dh = tb1
        .diffie_hellman(t0.public_key())
        .map_err(|e| s.fail(format!("DH: {e}")))?;
    let (r1, _) = olm::kdf_rk(&r0, &dh);
    let (_, chain) = olm::kdf_rk(&r1, &DhOutput::from_bytes([0; 32]));
    let (_, mk) = olm::kdf::kdf_ck(&chain);
    let mut point = [0u8; 32];
    point[0] = u;
    let plaintext = format!("a chain from the small-order point {name}").into_bytes();
    let ct = ciphertext(&s, &mk, &plaintext, true)?;
    let bad = sealed(&mk, &point, 0, &ct);
    let expected = refused(ErrorClass::InvalidKey).or(Outcome::Ok(Plaintext {
        plaintext: plaintext.into(),
    }));
    s.deliver_as("bob", Delivery::Bytes(bad, MessageType::Whisper), expected)?;
    c.add(
        s,
        &format!("a normal message on a new chain whose ratchet key is the small-order point {name}, correctly MACed under the keys the all-zero DH output derives: refused as invalid_key (the reference, vodozemac) or accepted (libolm finding L3; the check is optional hardening, docs/OLM-V1.md §11)"),
        &[Flag::OlmSmallOrderKey],
    )
}

/// L4: whole blocks whose last bytes are not PKCS#7 padding.
fn padding(c: &mut Cases) -> R<()> {
    let mut s = c.start("padding")?;
    let a0 = s.say("alice")?;
    let mk = s.alice_first_chain_key(0)?;
    let mut zero_pad = *b"sixteen bytes..\x00";
    zero_pad[15] = 0;
    let mut mixed = *b"thirteen byte\x01\x02\x03";
    mixed[15] = 3;
    for raw in [zero_pad, mixed] {
        let ct = ciphertext(&s, &mk, &raw, false)?;
        let bad = first_chain(&s, 0, 0, &ct)?;
        s.deliver_as("bob", as_prekey(bad), refused(ErrorClass::Authentication))?;
    }
    s.deliver("bob", a0)?;
    round_trip(&mut s)?;
    c.add(
        s,
        "Alice's first pre-key message correctly MACed over a block that decrypts to 16 bytes ending 00, then to 13 bytes and 01 02 03 (not PKCS#7 padding): refused, Bob has no session (libolm finding L4 accepts both); the genuine message then starts one",
        &[Flag::OlmInvalidPadding, Flag::Atomicity, Flag::OlmPreKeyMessages],
    )
}

/// L5, L8: an empty ciphertext, and one block followed by 1 and by 15 bytes.
fn ciphertext_length(c: &mut Cases) -> R<()> {
    let mut s = c.start("ciphertext-length")?;
    let a0 = s.say("alice")?;
    let mk = s.alice_first_chain_key(0)?;
    let block = ciphertext(&s, &mk, b"one block", true)?;
    let mut plus_one = block.clone();
    plus_one.push(0x00);
    let mut plus_fifteen = block;
    plus_fifteen.extend_from_slice(&[0x0f; 15]);
    for ct in [Vec::new(), plus_one, plus_fifteen] {
        let bad = first_chain(&s, 0, 0, &ct)?;
        s.deliver_as(
            "bob",
            as_prekey(bad),
            refused(ErrorClass::Authentication).or_error(ErrorClass::Malformed),
        )?;
    }
    s.deliver("bob", a0)?;
    round_trip(&mut s)?;
    c.add(
        s,
        "Alice's first pre-key message correctly MACed over an empty ciphertext, then over 17 and 31 bytes (a valid PKCS#7 block and 1 or 15 more bytes): refused as authentication or malformed, Bob has no session (libolm findings L5, L8 accept the empty one and read whole blocks past the others); the genuine message then starts one",
        &[Flag::OlmCiphertextLength, Flag::Atomicity, Flag::OlmPreKeyMessages],
    )
}

/// L6: a 33-byte ratchet key (MACed) and a 33-byte base key.
fn key_length(c: &mut Cases) -> R<()> {
    let mut s = c.start("key-length")?;
    let a0 = s.say("alice")?;
    let mk = s.alice_first_chain_key(0)?;
    let t0 = s.ratchet_pair("alice", 0)?;
    let mut long = t0.public_key().as_bytes().to_vec();
    long.push(0x00);
    let ct = ciphertext(&s, &mk, b"a long ratchet key", true)?;
    let long_ratchet = s.envelope(sealed(&mk, &long, 0, &ct))?;
    let inner = PreKeyMessage::decode(&s.wire(a0)?)
        .map_err(|e| s.fail(format!("a0: {e}")))?
        .message;
    let [one_time, base, identity] = s.envelope_keys();
    let mut long_base_key = base;
    long_base_key.push(0x00);
    let mut long_base = vec![VERSION];
    put(&mut long_base, 0x0a, &one_time);
    put(&mut long_base, 0x12, &long_base_key);
    put(&mut long_base, 0x1a, &identity);
    put(&mut long_base, 0x22, &inner);
    let expected = || refused(ErrorClass::InvalidKey).or_error(ErrorClass::Malformed);
    for bad in [long_ratchet, long_base] {
        s.deliver_as("bob", as_prekey(bad), expected())?;
    }
    s.deliver("bob", a0)?;
    round_trip(&mut s)?;
    c.add(
        s,
        "Alice's first pre-key message with a 33-byte ratchet key in its correctly MACed inner message, then with a 33-byte base key around the genuine inner message: refused as invalid_key or malformed (libolm's class, finding L6), Bob has no session; the genuine message then starts one",
        &[Flag::OlmKeyLength, Flag::Atomicity, Flag::OlmPreKeyMessages],
    )
}
