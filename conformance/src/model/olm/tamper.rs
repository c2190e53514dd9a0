//! The adversarial network's tampering with Olm's two message kinds
//! (docs/OLM-V1.md §4), and what the receiver must make of it.
//!
//! Positions come from the protocol crate's Olm layout
//! ([`ratchetproof_protocol::olm::layout`]), so "the index field" means the
//! index field. Each [`Tamper`] of the shared vocabulary is read as the Olm
//! field that plays its part: the header's key, index and ciphertext and the
//! tag of the (inner) message; the `pn` Olm does not have becomes an extra
//! field 3 the MAC covers; the associated data Olm does not have becomes what
//! the MAC does not cover — the pre-key message's keys (before Bob has a
//! session) or the message type (after).

use ratchetproof_protocol::olm::layout::{MessageLayout, PreKeyLayout};

use crate::implementation::{ErrorClass, MessageType};
use crate::model::action::Tamper;

use super::oracle::OlmHeader;

/// What the receiver must do with an altered message.
pub(super) enum Judge {
    /// What the oracle says of this header, the MAC failing.
    Oracle(OlmHeader),
    /// A refusal of one of these classes, the first the reference's.
    Classes(Vec<ErrorClass>),
}

/// A message as the network altered it.
pub(super) struct Tampered {
    pub(super) bytes: Vec<u8>,
    /// The type it is delivered as.
    pub(super) kind: MessageType,
    pub(super) judge: Judge,
}

/// Any class a message damaged beyond parsing may read as (the generator's
/// wrong-type cases allow the same).
fn any_malformed() -> Vec<ErrorClass> {
    vec![
        ErrorClass::Malformed,
        ErrorClass::Authentication,
        ErrorClass::InvalidKey,
        ErrorClass::State,
        ErrorClass::Unsupported,
    ]
}

/// A changed index may read as fresh, used or far ahead, whichever the
/// implementation checks first.
fn index_classes() -> Vec<ErrorClass> {
    vec![
        ErrorClass::Authentication,
        ErrorClass::Duplicate,
        ErrorClass::TooManySkipped,
    ]
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn flip(bytes: &mut [u8], at: usize) {
    if let Some(b) = bytes.get_mut(at) {
        *b ^= 0x01;
    }
}

/// `bytes` with `range` replaced by `with`.
fn splice(bytes: &[u8], range: core::ops::Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = bytes.get(..range.start).unwrap_or_default().to_vec();
    out.extend_from_slice(with);
    out.extend_from_slice(bytes.get(range.end..).unwrap_or_default());
    out
}

/// Alters `wire` (a genuine message of type `kind` whose header is
/// `header`) as `field` says. `waiting` is true when the recipient is Bob
/// before his session exists. `None` where the message does not have the
/// encoder's layout (never for a genuine message).
pub(super) fn tamper(
    wire: &[u8],
    kind: MessageType,
    header: &OlmHeader,
    field: Tamper,
    waiting: bool,
) -> Option<Tampered> {
    let prekey = match kind {
        MessageType::Prekey => Some(PreKeyLayout::of(wire)?),
        MessageType::Whisper => None,
    };
    let inner_range = prekey.as_ref().map_or(0..wire.len(), |p| p.message.clone());
    let inner = wire.get(inner_range.clone())?;
    let layout = MessageLayout::of(inner)?;
    // The whole message with the inner one replaced.
    let rewrap = |new_inner: Vec<u8>| -> Vec<u8> {
        match &prekey {
            None => new_inner,
            Some(p) => {
                let mut length = Vec::new();
                put_varint(&mut length, new_inner.len() as u64);
                let mut out = wire
                    .get(..p.message_length.start)
                    .unwrap_or_default()
                    .to_vec();
                out.extend_from_slice(&length);
                out.extend_from_slice(&new_inner);
                out
            }
        }
    };
    let altered = |h: OlmHeader| Judge::Oracle(h);
    let modulo = |n: usize, len: usize| if len == 0 { 0 } else { n % len };
    let same = |bytes: Vec<u8>, judge: Judge| Tampered { bytes, kind, judge };
    Some(match field {
        Tamper::Version { value } => {
            let mut bytes = wire.to_vec();
            if let Some(v) = bytes.first_mut() {
                *v = if value == ratchetproof_protocol::olm::VERSION {
                    0xff
                } else {
                    value
                };
            }
            same(bytes, Judge::Classes(vec![ErrorClass::Unsupported]))
        }
        Tamper::Truncate { keep } => {
            let keep = modulo(usize::from(keep), wire.len());
            let bytes = wire.get(..keep).unwrap_or_default().to_vec();
            same(bytes, Judge::Classes(vec![ErrorClass::Malformed]))
        }
        Tamper::AssociatedData { byte } => match &prekey {
            Some(p) if waiting => {
                // The keys no MAC covers: a changed one-time key names a key
                // Bob does not hold; a changed base or identity key derives
                // other keys, and the inner MAC fails.
                let at = modulo(usize::from(byte), 96);
                let (range, class) = match at / 32 {
                    0 => (p.one_time_key.clone(), ErrorClass::InvalidKey),
                    1 => (p.base_key.clone(), ErrorClass::Authentication),
                    _ => (p.identity_key.clone(), ErrorClass::Authentication),
                };
                let mut bytes = wire.to_vec();
                flip(&mut bytes, range.start + at % 32);
                same(bytes, Judge::Classes(vec![class]))
            }
            _ => Tampered {
                bytes: wire.to_vec(),
                kind: match kind {
                    MessageType::Prekey => MessageType::Whisper,
                    MessageType::Whisper => MessageType::Prekey,
                },
                judge: Judge::Classes(any_malformed()),
            },
        },
        Tamper::RatchetKey { byte } => {
            let mut new_inner = inner.to_vec();
            flip(
                &mut new_inner,
                layout.ratchet_key.start + modulo(usize::from(byte), 32),
            );
            let h = OlmHeader {
                key: None,
                ..header.clone()
            };
            same(rewrap(new_inner), altered(h))
        }
        Tamper::Counter { .. } | Tamper::CounterMax => {
            let index = match field {
                Tamper::Counter { bit } => header.index ^ (1u32 << (bit % 32)),
                _ => u32::MAX,
            };
            let mut varint = Vec::new();
            put_varint(&mut varint, u64::from(index));
            let new_inner = splice(inner, layout.index.clone(), &varint);
            same(rewrap(new_inner), Judge::Classes(index_classes()))
        }
        Tamper::PreviousCounter { bit } => {
            // Field 3, the `pn` Olm lacks: skipped by the parser, covered by the MAC.
            let field = [0x18, bit & 0x7f];
            let at = layout.index.end;
            let new_inner = splice(inner, at..at, &field);
            same(rewrap(new_inner), altered(header.clone()))
        }
        Tamper::Ciphertext { byte } => {
            let mut new_inner = inner.to_vec();
            let len = layout.ciphertext.len();
            flip(
                &mut new_inner,
                layout.ciphertext.start + modulo(usize::from(byte), len),
            );
            same(rewrap(new_inner), altered(header.clone()))
        }
        Tamper::Tag { byte } => {
            let mut new_inner = inner.to_vec();
            let len = layout.mac.len();
            flip(
                &mut new_inner,
                layout.mac.start + modulo(usize::from(byte), len),
            );
            same(rewrap(new_inner), altered(header.clone()))
        }
    })
}
