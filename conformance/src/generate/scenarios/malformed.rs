//! Bytes that are not a message of the suite: truncations, a trailing
//! byte, other version bytes, garbage; written against the suite's wire
//! encoding.

use std::ops::Range;

use ratchetproof_protocol::suite::{FieldRole, MessageLayout, WireEncoding};
use ratchetproof_protocol::{Header, MessageKey, PublicKey};

use super::tampering::tamper_base;
use super::{Cases, R, SMALL_ORDER_CLASSES};
use crate::generate::GenerateError;
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

/// Bob, mid-conversation, is handed `bad(genuine)` in place of Alice's next
/// message: he refuses it with one of `classes` (the reference's class is
/// recorded), and the genuine message and the one after it still decrypt.
pub(super) fn refused_then_genuine(
    c: &mut Cases,
    bad: impl FnOnce(Vec<u8>) -> Vec<u8>,
    classes: &[ErrorClass],
    comment: &str,
    flags: &[Flag],
) -> R<()> {
    let (mut s, target, follow) = tamper_base(c, false)?;
    let bytes = bad(s.wire(target)?);
    match classes {
        [class] => s.refuse_bytes("bob", bytes, None, *class)?,
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
    let genuine = tamper_base(c, false)?.0.wire(1)?;
    let layout = c
        .suite
        .message_layout(&genuine)
        .map_err(|e| fail(format!("the suite cannot lay out its own message: {e}")))?;
    match c.suite.wire_encoding() {
        WireEncoding::Fixed => malformed_fixed(c, &genuine, &layout),
        WireEncoding::WhisperProtobuf => malformed_protobuf(c, &genuine, &layout),
    }
}

fn fail(message: String) -> GenerateError {
    GenerateError::Disagreement {
        tc_id: 0,
        comment: "malformed".into(),
        message,
    }
}

/// The byte range of the first field of `role` in `layout`.
fn range(layout: &MessageLayout, role: FieldRole) -> R<Range<usize>> {
    layout
        .range(role)
        .ok_or_else(|| fail(format!("the layout has no {role:?} field")))
}

/// The genuine message's version bytes.
fn version_of(genuine: &[u8], layout: &MessageLayout) -> R<Vec<u8>> {
    let version = range(layout, FieldRole::Version)?;
    Ok(genuine.get(version).unwrap_or_default().to_vec())
}

/// Version bytes to try, without the suite's own.
fn other_versions<'a>(candidates: &'a [u8], genuine: &'a [u8]) -> impl Iterator<Item = u8> + 'a {
    candidates
        .iter()
        .copied()
        .filter(move |v| genuine.first() != Some(v))
}

/// [`malformed`] for fixed-layout messages: any prefix shorter than the
/// fields around the ciphertext is malformed.
fn malformed_fixed(c: &mut Cases, genuine: &[u8], layout: &MessageLayout) -> R<()> {
    let base_len = genuine.len();
    let body = range(layout, FieldRole::Ciphertext)?;
    let overhead = base_len - body.len();
    let mut lengths: Vec<usize> = (0..overhead).collect();
    lengths.extend([overhead, base_len - 1]);
    for len in lengths {
        let class = if len < overhead {
            ErrorClass::Malformed
        } else {
            ErrorClass::Authentication
        };
        refused_then_genuine(
            c,
            cut_to(len),
            &[class],
            &format!("the message truncated to {len} bytes is refused"),
            &[Flag::Truncated, Flag::Atomicity],
        )?;
    }
    refused_then_genuine(
        c,
        with_trailing_byte,
        &[ErrorClass::Authentication],
        "a trailing byte appended to the message is refused",
        &[Flag::Malformed, Flag::Atomicity],
    )?;
    for version in other_versions(&[0x00, 0x02, 0x03, 0x33, 0xff], genuine) {
        refused_then_genuine(
            c,
            with_version(version),
            &[ErrorClass::Unsupported],
            &format!("version byte 0x{version:02x} is refused"),
            &[Flag::TamperVersion, Flag::Atomicity],
        )?;
    }
    // The version, then zeros; the same with 0x55 bytes after the header,
    // which names the all-zero (small-order) ratchet key.
    let version = version_of(genuine, layout)?;
    let zeros_to = |len: usize| {
        let mut v = version.clone();
        v.resize(len, 0);
        v
    };
    let small_order = [zeros_to(body.start), vec![0x55; 20]].concat();
    for (what, bytes, class) in [
        (
            "64 zero bytes",
            vec![0u8; 64],
            &[ErrorClass::Unsupported][..],
        ),
        ("version byte then zeros", zeros_to(64), SMALL_ORDER_CLASSES),
        (
            "a header naming a small-order ratchet key",
            small_order,
            SMALL_ORDER_CLASSES,
        ),
    ] {
        refused_then_genuine(
            c,
            |_| bytes,
            class,
            &format!("garbage input ({what}) is refused"),
            &[Flag::Malformed, Flag::Atomicity],
        )?;
    }
    Ok(())
}

/// Turns the genuine message into the bytes a case delivers instead.
type BadBytes = Box<dyn FnOnce(Vec<u8>) -> Vec<u8>>;

/// The start of the protobuf structure (field tag, length) in front of the
/// first field of `role`.
fn field_start(layout: &MessageLayout, role: FieldRole) -> R<usize> {
    let at = layout
        .fields
        .iter()
        .position(|f| f.role == role)
        .ok_or_else(|| fail(format!("the layout has no {role:?} field")))?;
    let before = layout.fields.get(..at).unwrap_or_default();
    let structure = before
        .iter()
        .rev()
        .take_while(|f| f.role == FieldRole::Structure)
        .last();
    structure
        .or_else(|| layout.fields.get(at))
        .map(|f| f.range.start)
        .ok_or_else(|| fail(format!("the layout has no {role:?} field")))
}

/// [`malformed`] for libsignal's `WhisperMessage` protobuf
/// (docs/SIGNAL-V3.md §3).
fn malformed_protobuf(c: &mut Cases, genuine: &[u8], layout: &MessageLayout) -> R<()> {
    let base_len = genuine.len();
    let key = range(layout, FieldRole::RatchetKey)?;
    let counter = range(layout, FieldRole::Counter)?;
    let counter_field = field_start(layout, FieldRole::Counter)?..counter.end;
    let body = range(layout, FieldRole::Ciphertext)?;
    let tag_len = range(layout, FieldRole::Tag)?.len();
    // Every cut leaves a field truncated or missing (the ciphertext is the
    // last field and the MAC is taken from the end), or no room for a MAC:
    // within the first bytes, inside the ratchet key, at the counter's tag
    // and value, at the ciphertext's tag and value, around the MAC.
    let mut lengths: Vec<usize> = (0..12).collect();
    lengths.extend([
        key.start + key.len() / 2,
        counter_field.start,
        counter.start,
        field_start(layout, FieldRole::Ciphertext)?,
        body.start,
        base_len - tag_len - 1,
        base_len - tag_len,
        base_len - 1,
    ]);
    for len in lengths {
        refused_then_genuine(
            c,
            cut_to(len),
            &[ErrorClass::Malformed],
            &format!("the message truncated to {len} bytes is refused"),
            &[Flag::TruncatedProtobuf, Flag::Atomicity],
        )?;
    }
    // The appended byte becomes the MAC's last byte and the MAC's first byte
    // is read as protobuf: refused either way.
    refused_then_genuine(
        c,
        with_trailing_byte,
        &[ErrorClass::Malformed, ErrorClass::Authentication],
        "a trailing byte appended to the message is refused",
        &[Flag::Malformed, Flag::Atomicity],
    )?;
    let candidates = [0x00u8, 0x01, 0x02, 0x23, 0x32, 0x34, 0x43, 0xff];
    for version in other_versions(&candidates, genuine) {
        refused_then_genuine(
            c,
            with_version(version),
            &[ErrorClass::Unsupported],
            &format!("version byte 0x{version:02x} is refused"),
            &[Flag::TamperVersion, Flag::Atomicity],
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
            .map_err(|e| fail(e.to_string()))?
    };
    let mut zeros = version_of(genuine, layout)?;
    zeros.resize(64, 0);
    let fixed = |bytes: Vec<u8>| -> BadBytes { Box::new(|_| bytes) };
    let garbage: [(&str, BadBytes, &[ErrorClass]); 4] = [
        (
            "64 zero bytes",
            fixed(vec![0u8; 64]),
            &[ErrorClass::Unsupported],
        ),
        (
            "version byte then zeros",
            fixed(zeros),
            &[ErrorClass::Malformed],
        ),
        (
            "a WhisperMessage without its counter field",
            // The genuine message without field 2 (tag and value).
            Box::new(move |wire: Vec<u8>| {
                [
                    wire.get(..counter_field.start).unwrap_or_default(),
                    wire.get(counter_field.end..).unwrap_or_default(),
                ]
                .concat()
            }),
            &[ErrorClass::Malformed],
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
            &[Flag::Malformed, Flag::Atomicity],
        )?;
    }
    Ok(())
}
