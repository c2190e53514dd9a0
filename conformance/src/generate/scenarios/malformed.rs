//! Bytes that are not a message of the suite: truncations, a trailing
//! byte, other version bytes, garbage; written against the suite's wire
//! encoding.

use ratchetproof_protocol::{Header, MessageKey, PublicKey};

use super::tampering::tamper_base;
use super::{Cases, R, SMALL_ORDER_CLASSES};
use crate::generate::GenerateError;

/// Bob, mid-conversation, is handed `bad(genuine)` in place of Alice's next
/// message: he refuses it with one of `classes` (the reference's class is
/// recorded), and the genuine message and the one after it still decrypt.
pub(super) fn refused_then_genuine(
    c: &mut Cases,
    bad: impl FnOnce(Vec<u8>) -> Vec<u8>,
    classes: &[&str],
    comment: &str,
    flags: &[&str],
) -> R<()> {
    let (mut s, target, follow) = tamper_base(c, false)?;
    let bytes = bad(s.wire(target)?);
    match classes {
        [class] => s.refuse_bytes("bob", bytes, None, class)?,
        _ => s.refuse_bytes_as_one_of("bob", bytes, classes)?,
    }
    s.deliver("bob", target)?;
    s.deliver("bob", follow)?;
    s.continue_both_ways()?;
    c.add(s, comment, flags)
}

/// The genuine message cut to `len` bytes.
fn cut_to(len: usize) -> impl FnOnce(Vec<u8>) -> Vec<u8> {
    move |wire| wire.get(..len).unwrap_or_default().to_vec()
}

/// The genuine message with a zero byte appended.
fn with_trailing_byte(mut wire: Vec<u8>) -> Vec<u8> {
    wire.push(0);
    wire
}

/// The genuine message with its first byte replaced.
fn with_version(version: u8) -> impl FnOnce(Vec<u8>) -> Vec<u8> {
    move |mut wire| {
        if let Some(b) = wire.first_mut() {
            *b = version;
        }
        wire
    }
}

pub(super) fn malformed(c: &mut Cases) -> R<()> {
    if c.suite.name() == "signal-v3" {
        return malformed_v3(c);
    }
    let overhead = ratchetproof_protocol::suite::MESSAGE_OVERHEAD;
    let base_len = tamper_base(c, false)?.0.wire(1)?.len();
    let mut lengths: Vec<usize> = (0..overhead).collect();
    lengths.extend([overhead, base_len - 1]);
    for len in lengths {
        let class = if len < overhead {
            "malformed"
        } else {
            "authentication"
        };
        refused_then_genuine(
            c,
            cut_to(len),
            &[class],
            &format!("the message truncated to {len} bytes is refused"),
            &["Truncated", "Atomicity"],
        )?;
    }
    refused_then_genuine(
        c,
        with_trailing_byte,
        &["authentication"],
        "a trailing byte appended to the message is refused",
        &["Malformed", "Atomicity"],
    )?;
    for version in [0x00u8, 0x02, 0x03, 0x33, 0xff] {
        refused_then_genuine(
            c,
            with_version(version),
            &["unsupported"],
            &format!("version byte 0x{version:02x} is refused"),
            &["TamperVersion", "Atomicity"],
        )?;
    }
    for (what, bytes, class) in [
        ("64 zero bytes", vec![0u8; 64], &["unsupported"][..]),
        (
            "version byte then zeros",
            [vec![1u8], vec![0; 63]].concat(),
            SMALL_ORDER_CLASSES,
        ),
        (
            "a header naming a small-order ratchet key",
            [vec![1u8], vec![0; 40], vec![0x55; 20]].concat(),
            SMALL_ORDER_CLASSES,
        ),
    ] {
        refused_then_genuine(
            c,
            |_| bytes,
            class,
            &format!("garbage input ({what}) is refused"),
            &["Malformed", "Atomicity"],
        )?;
    }
    Ok(())
}

/// Turns the genuine message into the bytes a case delivers instead.
type BadBytes = Box<dyn FnOnce(Vec<u8>) -> Vec<u8>>;

/// [`malformed`] for `signal-v3`'s protobuf messages (docs/SIGNAL-V3.md §3).
fn malformed_v3(c: &mut Cases) -> R<()> {
    let base_len = tamper_base(c, false)?.0.wire(1)?.len();
    // Every cut leaves a field truncated or missing (the ciphertext is the
    // last field and the MAC is taken from the end), or no room for a MAC.
    let mut lengths: Vec<usize> = (0..12).collect();
    lengths.extend([20, 36, 37, 40, 42, base_len - 9, base_len - 8, base_len - 1]);
    for len in lengths {
        refused_then_genuine(
            c,
            cut_to(len),
            &["malformed"],
            &format!("the message truncated to {len} bytes is refused"),
            &["Truncated", "Atomicity"],
        )?;
    }
    // The appended byte becomes the MAC's last byte and the MAC's first byte
    // is read as protobuf: refused either way.
    refused_then_genuine(
        c,
        with_trailing_byte,
        &["malformed", "authentication"],
        "a trailing byte appended to the message is refused",
        &["Malformed", "Atomicity"],
    )?;
    for version in [0x00u8, 0x01, 0x02, 0x23, 0x32, 0x34, 0x43, 0xff] {
        refused_then_genuine(
            c,
            with_version(version),
            &["unsupported"],
            &format!("version byte 0x{version:02x} is refused"),
            &["TamperVersion", "Atomicity"],
        )?;
    }
    let small_order = {
        let header = Header {
            dh: PublicKey::from_bytes([0; 32]),
            pn: 0,
            n: 0,
        };
        c.suite
            .seal(&MessageKey::from_bytes([0x55; 32]), &header, b"x", &[])
            .map_err(|e| GenerateError::Disagreement {
                tc_id: 0,
                comment: "malformed".into(),
                message: e.to_string(),
            })?
    };
    let fixed = |bytes: Vec<u8>| -> BadBytes { Box::new(|_| bytes) };
    let garbage: [(&str, BadBytes, &[&str]); 4] = [
        ("64 zero bytes", fixed(vec![0u8; 64]), &["unsupported"]),
        (
            "version byte then zeros",
            fixed([vec![0x33u8], vec![0; 63]].concat()),
            &["malformed"],
        ),
        (
            "a WhisperMessage without its counter field",
            // The genuine message without field 2 (tag and value, 2 bytes).
            Box::new(|wire: Vec<u8>| {
                [
                    wire.get(..36).unwrap_or_default(),
                    wire.get(38..).unwrap_or_default(),
                ]
                .concat()
            }),
            &["malformed"],
        ),
        (
            "a well-formed message naming a small-order ratchet key",
            fixed(small_order),
            SMALL_ORDER_CLASSES,
        ),
    ];
    for (what, bad, class) in garbage {
        refused_then_genuine(
            c,
            bad,
            class,
            &format!("garbage input ({what}) is refused"),
            &["Malformed", "Atomicity"],
        )?;
    }
    Ok(())
}
