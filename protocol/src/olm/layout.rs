//! Where each field of an Olm wire message lies, by name: what a tamperer
//! (the scenario model, interop's tamper signatures) needs to alter one
//! field and say which it altered, without re-implementing the parser.
//!
//! The layout follows the encoder's field order (docs/OLM-V1.md §4): it
//! describes messages as the reference, libolm and vodozemac write them, and
//! answers `None` for anything else (the decoder, not this, is what judges
//! arbitrary bytes).

use core::ops::Range;

use super::{MAC_LEN, VERSION};

/// The fields of a normal message (type 1), as byte ranges of its encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageLayout {
    /// The version byte (`0..1`).
    pub version: Range<usize>,
    /// Field 1's value: the 32-byte ratchet key.
    pub ratchet_key: Range<usize>,
    /// Field 2's value: the chain index, a varint.
    pub index: Range<usize>,
    /// Field 4's value: the AES-256-CBC ciphertext.
    pub ciphertext: Range<usize>,
    /// The truncated HMAC, the last [`MAC_LEN`] bytes.
    pub mac: Range<usize>,
}

/// The fields of a pre-key message (type 0), as byte ranges of its encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyLayout {
    /// The version byte (`0..1`).
    pub version: Range<usize>,
    /// Field 1's value: Bob's one-time key.
    pub one_time_key: Range<usize>,
    /// Field 2's value: Alice's base key.
    pub base_key: Range<usize>,
    /// Field 3's value: Alice's identity key.
    pub identity_key: Range<usize>,
    /// Field 4's length varint.
    pub message_length: Range<usize>,
    /// Field 4's value: the inner normal message.
    pub message: Range<usize>,
}

/// Reads a tag byte `tag` at `at`, then a varint; the varint's range.
fn varint_after(bytes: &[u8], at: usize, tag: u8) -> Option<Range<usize>> {
    if *bytes.get(at)? != tag {
        return None;
    }
    let start = at + 1;
    let len = bytes.get(start..)?.iter().position(|b| b & 0x80 == 0)? + 1;
    (len <= 10).then_some(start..start + len)
}

fn varint_value(bytes: &[u8], range: &Range<usize>) -> Option<usize> {
    let mut value = 0usize;
    for (i, b) in bytes.get(range.clone())?.iter().enumerate() {
        value |= usize::from(b & 0x7f).checked_shl(u32::try_from(7 * i).ok()?)?;
    }
    Some(value)
}

/// A length-delimited field with tag `tag` at `at`: (length varint, value).
fn bytes_after(bytes: &[u8], at: usize, tag: u8) -> Option<(Range<usize>, Range<usize>)> {
    let length = varint_after(bytes, at, tag)?;
    let len = varint_value(bytes, &length)?;
    let value = length.end..length.end.checked_add(len)?;
    (value.end <= bytes.len()).then_some((length, value))
}

impl MessageLayout {
    /// The layout of `bytes`, a normal message in the encoder's field order.
    pub fn of(bytes: &[u8]) -> Option<Self> {
        if *bytes.first()? != VERSION || bytes.len() < 1 + MAC_LEN {
            return None;
        }
        let (_, ratchet_key) = bytes_after(bytes, 1, 0x0a)?;
        let index = varint_after(bytes, ratchet_key.end, 0x10)?;
        let (_, ciphertext) = bytes_after(bytes, index.end, 0x22)?;
        let mac = ciphertext.end..ciphertext.end + MAC_LEN;
        (mac.end == bytes.len()).then_some(Self {
            version: 0..1,
            ratchet_key,
            index,
            ciphertext,
            mac,
        })
    }
}

impl PreKeyLayout {
    /// The layout of `bytes`, a pre-key message in the encoder's field order.
    pub fn of(bytes: &[u8]) -> Option<Self> {
        if *bytes.first()? != VERSION {
            return None;
        }
        let (_, one_time_key) = bytes_after(bytes, 1, 0x0a)?;
        let (_, base_key) = bytes_after(bytes, one_time_key.end, 0x12)?;
        let (_, identity_key) = bytes_after(bytes, base_key.end, 0x1a)?;
        let (message_length, message) = bytes_after(bytes, identity_key.end, 0x22)?;
        (message.end == bytes.len()).then_some(Self {
            version: 0..1,
            one_time_key,
            base_key,
            identity_key,
            message_length,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::chain_key::MessageKey;
    use crate::keys::PublicKey;
    use crate::olm::{OlmMessage, PreKeyMessage, message::seal};

    #[test]
    fn the_layout_names_the_fields_the_decoder_reads() {
        let key = PublicKey::from_bytes([9; 32]);
        let wire = seal(&MessageKey::from_bytes([1; 32]), &key, 300, b"hello");
        let l = MessageLayout::of(&wire).unwrap();
        assert_eq!(&wire[l.ratchet_key.clone()], key.as_bytes());
        assert_eq!(&wire[l.index.clone()], &[0xac, 0x02]);
        let parsed = OlmMessage::decode(&wire).unwrap();
        assert_eq!(&wire[l.ciphertext.clone()], parsed.ciphertext.as_slice());
        assert_eq!(&wire[l.mac.clone()], &parsed.mac);
        let prekey = PreKeyMessage {
            one_time_key: PublicKey::from_bytes([1; 32]),
            base_key: PublicKey::from_bytes([2; 32]),
            identity_key: PublicKey::from_bytes([3; 32]),
            message: wire.clone(),
        }
        .encode();
        let p = PreKeyLayout::of(&prekey).unwrap();
        assert_eq!(&prekey[p.base_key.clone()], &[2; 32]);
        assert_eq!(&prekey[p.message.clone()], wire.as_slice());
        assert!(MessageLayout::of(&prekey).is_none());
        assert!(MessageLayout::of(&wire[..wire.len() - 1]).is_none());
    }
}
