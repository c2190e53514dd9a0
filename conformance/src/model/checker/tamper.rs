//! The adversarial network's tampering: one field of a genuine message
//! altered, and what the receiver must make of it.
//!
//! Every position comes from the suite's
//! [`message_layout`](ratchetproof_protocol::CipherSuite::message_layout) of
//! the genuine message, so the same [`Tamper`] means "this field" in any
//! suite. What the oracle expects is suite-independent where the field has a
//! fixed width (a counter of 4 bytes is a big-endian `u32`, so flipping a bit
//! flips that bit of the value); a counter in a variable-width encoding (a
//! protobuf varint) is read back with the suite's parser, because no value
//! can be predicted from its bytes alone.

use core::ops::Range;

use ratchetproof_protocol::Suite;
use ratchetproof_protocol::suite::{FieldRole, MessageLayout};

use crate::implementation::{ErrorClass, ImplError};

use super::super::action::Tamper;
use super::super::oracle::SeenHeader;

/// A message as the network altered it.
pub(super) struct Tampered {
    pub(super) bytes: Vec<u8>,
    pub(super) ad: Option<Vec<u8>>,
    /// The header as altered, for the oracle; `None` where parsing fails first.
    pub(super) header: Option<SeenHeader>,
    /// The class parsing must fail with, where it must.
    pub(super) parse_error: Option<ErrorClass>,
    /// The suite refuses the altered associated data itself (signal-v3 reads
    /// it as two encoded identity keys): `invalid_key`, or whatever the
    /// header earns where the implementation only MACs the AD.
    pub(super) ad_refused: bool,
}

/// The width of a fixed-size counter field: a big-endian `u32`.
const FIXED_COUNTER_LEN: usize = 4;

fn flip(bytes: &mut [u8], at: usize, mask: u8) {
    if let Some(b) = bytes.get_mut(at) {
        *b ^= mask;
    }
}

/// The position `pick` selects in `range` (which must not be empty).
fn pick_in(range: &Range<usize>, pick: u8) -> Option<usize> {
    let len = range.len();
    (len > 0).then(|| range.start + usize::from(pick) % len)
}

/// Flips bit `bit` of a counter field, counting from the least significant
/// bit of its last byte (for a 4-byte big-endian field: bit `bit % 32` of the
/// value). Returns the XOR mask of the value when the field is fixed-width.
fn flip_counter(bytes: &mut [u8], range: &Range<usize>, bit: u8) -> Option<u32> {
    let bits = range.len().checked_mul(8).filter(|&b| b > 0)?;
    let k = usize::from(bit) % bits;
    let at = range.end.checked_sub(1 + k / 8)?;
    flip(bytes, at, 1 << (k % 8));
    (range.len() == FIXED_COUNTER_LEN).then(|| 1u32 << (k % 32))
}

/// The header the suite's parser reads from altered bytes, or the class it
/// refuses them with.
fn reparse(suite: Suite, bytes: &[u8], genuine: Option<SeenHeader>) -> Reparsed {
    match suite.parse_header(bytes) {
        Ok(h) => Reparsed::Header(genuine.map(|g| SeenHeader {
            pn: h.pn,
            n: h.n,
            ..g
        })),
        Err(e) => Reparsed::Refused(ImplError::from(e).class),
    }
}

enum Reparsed {
    Header(Option<SeenHeader>),
    Refused(ErrorClass),
}

/// The altered copy of `wire` (whose oracle header is `genuine`, if the
/// oracle follows it) with `field` tampered, or `None` if the suite cannot
/// lay the message out.
pub(super) fn tampered(
    suite: Suite,
    wire: &[u8],
    genuine: Option<SeenHeader>,
    associated_data: &[u8],
    field: Tamper,
) -> Option<Tampered> {
    let layout = suite.message_layout(wire).ok()?;
    let range = |role| layout.range(role);
    let mut bytes = wire.to_vec();
    let mut ad = None;
    let mut header = genuine;
    let mut parse_error = None;
    let mut ad_refused = false;
    match field {
        Tamper::Version { value } => {
            let at = range(FieldRole::Version)?.start;
            let genuine_version = *wire.get(at)?;
            let value = if value == genuine_version {
                0xff
            } else {
                value
            };
            if let Some(b) = bytes.get_mut(at) {
                *b = value;
            }
            parse_error = Some(ErrorClass::Unsupported);
        }
        Tamper::RatchetKey { byte } => {
            flip(
                &mut bytes,
                pick_in(&range(FieldRole::RatchetKey)?, byte)?,
                0x01,
            );
            header = genuine.map(|h| SeenHeader {
                key: None,
                against: None,
                ..h
            });
        }
        Tamper::PreviousCounter { bit } => {
            match flip_counter(&mut bytes, &range(FieldRole::PreviousCounter)?, bit) {
                Some(mask) => {
                    header = genuine.map(|h| SeenHeader {
                        pn: h.pn ^ mask,
                        ..h
                    });
                }
                None => match reparse(suite, &bytes, genuine) {
                    Reparsed::Header(h) => header = h,
                    Reparsed::Refused(class) => parse_error = Some(class),
                },
            }
        }
        Tamper::Counter { bit } => match flip_counter(&mut bytes, &range(FieldRole::Counter)?, bit)
        {
            Some(mask) => header = genuine.map(|h| SeenHeader { n: h.n ^ mask, ..h }),
            None => match reparse(suite, &bytes, genuine) {
                Reparsed::Header(h) => header = h,
                Reparsed::Refused(class) => parse_error = Some(class),
            },
        },
        Tamper::CounterMax => {
            let counter = range(FieldRole::Counter)?;
            if counter.len() != FIXED_COUNTER_LEN {
                return None;
            }
            for at in counter {
                if let Some(b) = bytes.get_mut(at) {
                    *b = 0xff;
                }
            }
            header = genuine.map(|h| SeenHeader { n: u32::MAX, ..h });
        }
        Tamper::Ciphertext { byte } => {
            // An empty ciphertext leaves only the tag to alter.
            let ciphertext = range(FieldRole::Ciphertext)?;
            let target = if ciphertext.is_empty() {
                range(FieldRole::Tag)?
            } else {
                ciphertext
            };
            flip(&mut bytes, pick_in(&target, byte)?, 0x01);
        }
        Tamper::Tag { byte } => {
            flip(&mut bytes, pick_in(&range(FieldRole::Tag)?, byte)?, 0x01);
        }
        Tamper::AssociatedData { byte } => {
            let mut altered = associated_data.to_vec();
            let len = altered.len().max(1);
            if let Some(b) = altered.get_mut(usize::from(byte) % len) {
                *b ^= 0x01;
            }
            ad_refused = suite
                .order_ad(&altered, ratchetproof_protocol::Role::Alice)
                .is_err();
            ad = Some(altered);
        }
        Tamper::Truncate { keep } => {
            bytes.truncate(usize::from(keep) % overhead(&layout)?);
            parse_error = Some(ErrorClass::Malformed);
        }
    }
    Some(Tampered {
        bytes,
        ad,
        header,
        parse_error,
        ad_refused,
    })
}

/// What a message adds to its ciphertext: every byte outside the
/// ciphertext field. Any shorter prefix is refused as malformed.
fn overhead(layout: &MessageLayout) -> Option<usize> {
    let total = layout.fields.last()?.range.end;
    let ciphertext = layout.range(FieldRole::Ciphertext)?.len();
    total.checked_sub(ciphertext).filter(|&o| o > 0)
}

/// The ciphertext field of `wire`, when it is exactly as long as `plaintext`
/// (a stream cipher: the default suite's AES-GCM).
pub(super) fn ciphertext<'a>(suite: Suite, plaintext: &[u8], wire: &'a [u8]) -> Option<&'a [u8]> {
    let range = suite
        .message_layout(wire)
        .ok()?
        .range(FieldRole::Ciphertext)?;
    (range.len() == plaintext.len())
        .then(|| wire.get(range))
        .flatten()
}
