//! Tampering with every field of Olm's messages (docs/OLM-V1.md §4), and
//! truncation and malformed bytes. Each refusal must leave the session
//! unchanged: the genuine message still decrypts afterwards.

use super::builder::{Cases, Delivery, Olm, R, refused, refused_or_mac};
use crate::generate::flags::Flag;
use crate::implementation::MessageType;
use crate::vectors::{ErrorClass, Expected, Outcome, Plaintext};

/// Where the fields of a normal message lie (libolm's order, a one-byte index).
const RATCHET_KEY: std::ops::Range<usize> = 3..35;
const INDEX: usize = 36;

/// Where the keys of a pre-key message lie, and its inner message.
const ONE_TIME_KEY: usize = 3;
const BASE_KEY: usize = 37;
const IDENTITY_KEY: usize = 71;
const INNER: usize = 105;

fn flipped(wire: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = wire.to_vec();
    if let Some(b) = out.get_mut(at) {
        *b ^= mask;
    }
    out
}

fn auth_fixed() -> Expected<Plaintext> {
    refused(ErrorClass::Authentication).class_fixed()
}

/// A normal message of Alice's second chain that Bob has not received yet.
fn second_chain_message(s: &mut Olm) -> R<usize> {
    let a0 = s.say("alice")?;
    s.deliver("bob", a0)?;
    let b0 = s.say("bob")?;
    s.deliver("alice", b0)?;
    s.say("alice")
}

pub(super) fn tampering(c: &mut Cases) -> R<()> {
    normal_message(c)?;
    unknown_key_without_own_key(c)?;
    prekey_message(c)?;
    prekey_on_session(c)?;
    malformed(c)
}

/// Where a changed byte lies: counted from the start, or from the end (1 = the last byte).
#[derive(Clone, Copy)]
enum At {
    Start(usize),
    End(usize),
}

impl At {
    fn index(self, len: usize) -> usize {
        match self {
            At::Start(i) => i,
            At::End(i) => len.saturating_sub(i),
        }
    }
}

/// A chain index changed may read as fresh, already used or far ahead.
fn index_classes() -> Expected<Plaintext> {
    refused(ErrorClass::Authentication)
        .or_error(ErrorClass::Duplicate)
        .or_error(ErrorClass::TooManySkipped)
}

fn normal_message(c: &mut Cases) -> R<()> {
    type Edit = (&'static str, At, u8, Flag, fn() -> Expected<Plaintext>);
    let unsupported = || refused(ErrorClass::Unsupported);
    let edits: [Edit; 10] = [
        (
            "the version byte 0x03 -> 0x02",
            At::Start(0),
            0x01,
            Flag::TamperVersion,
            unsupported,
        ),
        (
            "the version byte 0x03 -> 0x83",
            At::Start(0),
            0x80,
            Flag::TamperVersion,
            unsupported,
        ),
        (
            "the first byte of the ratchet key",
            At::Start(RATCHET_KEY.start),
            0x01,
            Flag::TamperRatchetKey,
            auth_fixed,
        ),
        (
            "the last byte of the ratchet key",
            At::Start(RATCHET_KEY.end - 1),
            0x40,
            Flag::TamperRatchetKey,
            auth_fixed,
        ),
        (
            "the chain index, +1",
            At::Start(INDEX),
            0x01,
            Flag::OlmTamperIndex,
            index_classes,
        ),
        (
            "the chain index, +64",
            At::Start(INDEX),
            0x40,
            Flag::OlmTamperIndex,
            index_classes,
        ),
        (
            "the first ciphertext byte",
            At::Start(INDEX + 3),
            0x01,
            Flag::TamperCiphertext,
            auth_fixed,
        ),
        (
            "the last ciphertext byte",
            At::End(9),
            0x01,
            Flag::TamperCiphertext,
            auth_fixed,
        ),
        (
            "the first byte of the MAC",
            At::End(8),
            0x01,
            Flag::TamperTag,
            auth_fixed,
        ),
        (
            "the last byte of the MAC",
            At::End(1),
            0x80,
            Flag::TamperTag,
            auth_fixed,
        ),
    ];
    for (what, at, mask, flag, expected) in edits {
        let mut s = c.start("tamper")?;
        let m = second_chain_message(&mut s)?;
        let wire = s.wire(m)?;
        let at = at.index(wire.len());
        let bad = flipped(&wire, at, mask);
        s.deliver_as(
            "bob",
            Delivery::Bytes(bad, MessageType::Whisper),
            expected(),
        )?;
        s.deliver("bob", m)?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        c.add(
            s,
            &format!("{what} of a normal message changed (byte {at}): refused; the genuine message still decrypts"),
            &[flag, Flag::Atomicity],
        )?;
    }
    Ok(())
}

/// docs/OLM-V1.md §7: a new ratchet key while the receiver holds no ratchet
/// key of its own is refused by libolm and derived by vodozemac after it
/// draws one; under a changed key it fails the MAC either way.
fn unknown_key_without_own_key(c: &mut Cases) -> R<()> {
    let mut s = c.start("tamper-no-own-key")?;
    let m = second_chain_message(&mut s)?;
    // Receiving Alice's new chain deleted Bob's ratchet key.
    s.deliver("bob", m)?;
    let next = s.say("alice")?;
    let bad = flipped(&s.wire(next)?, RATCHET_KEY.start + 7, 0x10);
    s.deliver_as(
        "bob",
        Delivery::Bytes(bad, MessageType::Whisper),
        auth_fixed(),
    )?;
    s.deliver("bob", next)?;
    let b = s.say("bob")?;
    s.deliver("alice", b)?;
    c.add(
        s,
        "a normal message whose ratchet key was changed reaches Bob while he holds no ratchet key of his own (between a receive and his next send): refused; the genuine message still decrypts",
        &[Flag::TamperRatchetKey, Flag::Atomicity],
    )
}

fn prekey_message(c: &mut Cases) -> R<()> {
    type Edit = (&'static str, usize, Expected<Plaintext>, Flag);
    let edits: Vec<Edit> = vec![
        (
            "the version byte",
            0,
            refused(ErrorClass::Unsupported),
            Flag::TamperVersion,
        ),
        (
            "the one-time key",
            ONE_TIME_KEY,
            refused(ErrorClass::InvalidKey),
            Flag::OlmTamperPreKey,
        ),
        (
            "the base key",
            BASE_KEY + 5,
            refused(ErrorClass::Authentication),
            Flag::OlmTamperPreKey,
        ),
        (
            "the identity key",
            IDENTITY_KEY + 31,
            refused(ErrorClass::Authentication),
            Flag::OlmTamperPreKey,
        ),
        (
            "the inner message's ratchet key",
            INNER + 3,
            refused(ErrorClass::Authentication).class_fixed(),
            Flag::TamperRatchetKey,
        ),
        (
            "the inner message's ciphertext",
            INNER + 40,
            refused(ErrorClass::Authentication).class_fixed(),
            Flag::TamperCiphertext,
        ),
        (
            "the inner message's MAC",
            usize::MAX,
            refused(ErrorClass::Authentication).class_fixed(),
            Flag::TamperTag,
        ),
    ];
    for (what, at, expected, flag) in edits {
        let mut s = c.start("tamper-prekey")?;
        let a0 = s.say("alice")?;
        let wire = s.wire(a0)?;
        let at = if at == usize::MAX { wire.len() - 1 } else { at };
        let bad = flipped(&wire, at, 0x01);
        s.deliver_as("bob", Delivery::Bytes(bad, MessageType::Prekey), expected)?;
        s.deliver("bob", a0)?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        c.add(
            s,
            &format!("{what} of Alice's first pre-key message changed (byte {at}): Bob refuses it and has no session; the genuine message then starts one"),
            &[flag, Flag::Atomicity, Flag::OlmPreKeyMessages],
        )?;
    }
    Ok(())
}

fn prekey_on_session(c: &mut Cases) -> R<()> {
    let mut s = c.start("tamper-prekey-on-session")?;
    let a0 = s.say("alice")?;
    s.deliver("bob", a0)?;
    // Alice has not received anything: her next messages are pre-key messages too.
    let later: [usize; 3] = s.says("alice")?;
    // The one-time key, the base key, the identity key.
    for (m, at) in later
        .into_iter()
        .zip([ONE_TIME_KEY, BASE_KEY + 5, IDENTITY_KEY + 31])
    {
        let bad = flipped(&s.wire(m)?, at, 0x01);
        let plaintext = s.plaintext(m)?;
        // A session that checks the pre-key message names it (libolm
        // matches_inbound) refuses; one that decrypts the inner message,
        // which is genuine, accepts it.
        let expected = refused(ErrorClass::State).or(Outcome::Ok(Plaintext {
            plaintext: plaintext.into(),
        }));
        s.deliver_as("bob", Delivery::Bytes(bad, MessageType::Prekey), expected)?;
    }
    let next = s.say("alice")?;
    s.deliver("bob", next)?;
    let b = s.say("bob")?;
    s.deliver("alice", b)?;
    c.add(
        s,
        "Alice's later pre-key messages reach Bob's session with the one-time, base or identity key changed (fields no MAC covers; the inner message is genuine): refused as naming another session (libolm's matches_inbound, the reference) or decrypted (acceptable); the session goes on",
        &[Flag::OlmTamperPreKey, Flag::OlmPreKeyMessages],
    )
}

fn malformed(c: &mut Cases) -> R<()> {
    // Truncations of a normal message: with the MAC taken from the end,
    // every cut leaves the ciphertext field running past the body.
    {
        let mut s = c.start("truncated")?;
        let m = second_chain_message(&mut s)?;
        let wire = s.wire(m)?;
        for cut in [1usize, 8, 9, wire.len() / 2, wire.len() - 1, wire.len()] {
            let short = wire.get(..wire.len() - cut).unwrap_or_default().to_vec();
            s.deliver_as(
                "bob",
                Delivery::Bytes(short, MessageType::Whisper),
                refused(ErrorClass::Malformed),
            )?;
        }
        s.deliver("bob", m)?;
        c.add(
            s,
            "a normal message cut short by 1, 8, 9, half, all but one and all of its bytes: refused; the genuine message still decrypts",
            &[Flag::TruncatedProtobuf, Flag::Atomicity],
        )?;
    }
    {
        let mut s = c.start("truncated-prekey")?;
        let a0 = s.say("alice")?;
        let wire = s.wire(a0)?;
        for cut in [1usize, 9, wire.len() - INNER, wire.len() - 1] {
            let short = wire.get(..wire.len() - cut).unwrap_or_default().to_vec();
            s.deliver_as(
                "bob",
                Delivery::Bytes(short, MessageType::Prekey),
                refused(ErrorClass::Malformed),
            )?;
        }
        s.deliver("bob", a0)?;
        c.add(
            s,
            "Alice's first pre-key message cut short: refused, Bob has no session; the genuine message then starts one",
            &[Flag::TruncatedProtobuf, Flag::Atomicity, Flag::OlmPreKeyMessages],
        )?;
    }
    {
        let mut s = c.start("wrong-type")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        let a1 = s.say("alice")?;
        let wire = s.wire(a1)?;
        s.deliver_as(
            "bob",
            Delivery::Bytes(wire, MessageType::Prekey),
            refused_any_malformed(),
        )?;
        let a2 = s.say("alice")?;
        let prekey_wire = {
            // Alice's first message, a pre-key message, delivered as a normal one.
            s.wire(a0)?
        };
        s.deliver_as(
            "bob",
            Delivery::Bytes(prekey_wire, MessageType::Whisper),
            refused_any_malformed(),
        )?;
        s.deliver("bob", a1)?;
        s.deliver("bob", a2)?;
        c.add(
            s,
            "a normal message delivered as a pre-key message, and a pre-key message as a normal one: refused; the genuine messages still decrypt",
            &[Flag::OlmMalformed, Flag::Atomicity],
        )?;
    }
    Ok(())
}

/// A refusal the reference calls malformed, where the damage can read as
/// any class.
fn refused_any_malformed() -> Expected<Plaintext> {
    refused_or_mac(ErrorClass::Malformed)
        .or_error(ErrorClass::InvalidKey)
        .or_error(ErrorClass::State)
        .or_error(ErrorClass::Unsupported)
}
