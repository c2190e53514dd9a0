//! The mutant's own Olm wire codec (docs/OLM-V1.md §4), written from the
//! page, not from `protocol::olm::message`: version byte, protobuf-style
//! fields in any order (the last of a repeated field wins, unknown varint and
//! length-delimited fields skipped), an 8-byte truncated tag after the fields.
//!
//! The codec bugs live here: `Bug::OlmVersionUnchecked` (neither message
//! kind's version byte is read), `Bug::OlmIndexModulo32` (a 64-bit index
//! kept modulo 2^32, libolm's `uint32_t`, finding L2) and
//! `Bug::OlmShortMacAccepted` (the tag is whatever follows the ciphertext
//! field, compared over its own length). `Variant::OlmKeyLengthMalformed`
//! reports a key of the wrong length as `malformed` (libolm, finding L6).

use ratchetproof_protocol::PublicKey;
use ratchetproof_protocol::olm::{MAC_LEN, VERSION};

use super::{Bug, Switches, Variant};
use crate::implementation::{ErrorClass, ImplError, ImplResult};

const RATCHET_KEY: u8 = 0x0a;
const INDEX: u8 = 0x10;
const CIPHERTEXT: u8 = 0x22;
const ONE_TIME_KEY: u8 = 0x0a;
const BASE_KEY: u8 = 0x12;
const IDENTITY_KEY: u8 = 0x1a;
const INNER: u8 = 0x22;

fn malformed(what: &str) -> ImplError {
    ImplError::new(ErrorClass::Malformed, what)
}

/// A normal message as parsed; the tag is not yet checked.
#[derive(Clone, Debug)]
pub(super) struct Message {
    pub ratchet_key: PublicKey,
    pub index: u32,
    pub ciphertext: Vec<u8>,
    /// The tag as received (8 bytes, or fewer under `Bug::OlmShortMacAccepted`).
    pub mac: Vec<u8>,
    /// Version byte and fields: what the tag covers.
    pub authenticated: Vec<u8>,
}

/// A pre-key message's envelope.
#[derive(Clone, Debug)]
pub(super) struct PreKey {
    pub one_time_key: PublicKey,
    pub base_key: PublicKey,
    pub identity_key: PublicKey,
    pub inner: Vec<u8>,
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Reads one field at the front of `body`; `None` at its end.
fn field<'a>(body: &mut &'a [u8]) -> ImplResult<Option<(u8, Value<'a>)>> {
    let Some((&tag, rest)) = body.split_first() else {
        return Ok(None);
    };
    *body = rest;
    let value = match tag & 7 {
        0 => Value::Varint(varint(body)?),
        2 => {
            let len = usize::try_from(varint(body)?).map_err(|_| malformed("field length"))?;
            if len > body.len() {
                return Err(malformed("a field runs past the message"));
            }
            let (bytes, rest) = body.split_at(len);
            *body = rest;
            Value::Bytes(bytes)
        }
        _ => return Err(malformed("a field of an unknown wire type")),
    };
    Ok(Some((tag, value)))
}

fn varint(body: &mut &[u8]) -> ImplResult<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let Some((&byte, rest)) = body.split_first() else {
            return Err(malformed("a varint runs past the message"));
        };
        *body = rest;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(malformed("a varint of more than 10 bytes"))
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn key(bytes: &[u8], on: &Switches) -> ImplResult<PublicKey> {
    let array = <[u8; 32]>::try_from(bytes).map_err(|_| {
        let class = if on.variant(Variant::OlmKeyLengthMalformed) {
            ErrorClass::Malformed
        } else {
            ErrorClass::InvalidKey
        };
        ImplError::new(
            class,
            format!("a key of {} bytes in a message", bytes.len()),
        )
    })?;
    Ok(PublicKey::from_bytes(array))
}

fn version(bytes: &[u8], on: &Switches) -> ImplResult<()> {
    match bytes.first() {
        None => Err(malformed("an empty message")),
        Some(_) if on.bug(Bug::OlmVersionUnchecked) => Ok(()),
        Some(&VERSION) => Ok(()),
        Some(v) => Err(ImplError::unsupported(format!("version byte 0x{v:02x}"))),
    }
}

impl Message {
    /// `0x03 ‖ T ‖ index ‖ ciphertext`, the fields the tag covers.
    pub fn body(ratchet_key: &PublicKey, index: u32, ciphertext: &[u8]) -> Vec<u8> {
        let mut out = vec![VERSION];
        put_bytes(&mut out, RATCHET_KEY, ratchet_key.as_bytes());
        out.push(INDEX);
        put_varint(&mut out, u64::from(index));
        put_bytes(&mut out, CIPHERTEXT, ciphertext);
        out
    }

    pub fn parse(bytes: &[u8], on: &Switches) -> ImplResult<Self> {
        version(bytes, on)?;
        let (authenticated, mac) = if on.bug(Bug::OlmShortMacAccepted) {
            split_after_ciphertext(bytes)?
        } else {
            if bytes.len() < 1 + MAC_LEN {
                return Err(malformed("shorter than a version byte and a tag"));
            }
            bytes.split_at(bytes.len() - MAC_LEN)
        };
        let mut body = authenticated.get(1..).unwrap_or_default();
        let (mut ratchet_key, mut index, mut ciphertext) = (None, None, None);
        while let Some((tag, value)) = field(&mut body)? {
            match (tag, value) {
                (RATCHET_KEY, Value::Bytes(b)) => ratchet_key = Some(b),
                (INDEX, Value::Varint(v)) => index = Some(v),
                (CIPHERTEXT, Value::Bytes(b)) => ciphertext = Some(b),
                _ => {}
            }
        }
        let (Some(ratchet_key), Some(index), Some(ciphertext)) = (ratchet_key, index, ciphertext)
        else {
            return Err(malformed("a message field is missing"));
        };
        let ratchet_key = key(ratchet_key, on)?;
        let index = if on.bug(Bug::OlmIndexModulo32) {
            (index & u64::from(u32::MAX)) as u32
        } else {
            u32::try_from(index).map_err(|_| malformed("a chain index of 2^32 or more"))?
        };
        Ok(Self {
            ratchet_key,
            index,
            ciphertext: ciphertext.to_vec(),
            mac: mac.to_vec(),
            authenticated: authenticated.to_vec(),
        })
    }
}

/// `Bug::OlmShortMacAccepted`: the fields end where the ciphertext field
/// ends; whatever follows, up to 8 bytes, is the tag.
fn split_after_ciphertext(bytes: &[u8]) -> ImplResult<(&[u8], &[u8])> {
    let mut body = bytes.get(1..).unwrap_or_default();
    while let Some((tag, _)) = field(&mut body)? {
        if tag == CIPHERTEXT {
            let end = bytes.len() - body.len();
            if body.len() > MAC_LEN {
                return Err(malformed("more than a tag after the ciphertext"));
            }
            return Ok(bytes.split_at(end));
        }
    }
    Err(malformed("a message field is missing"))
}

impl PreKey {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        put_bytes(&mut out, ONE_TIME_KEY, self.one_time_key.as_bytes());
        put_bytes(&mut out, BASE_KEY, self.base_key.as_bytes());
        put_bytes(&mut out, IDENTITY_KEY, self.identity_key.as_bytes());
        put_bytes(&mut out, INNER, &self.inner);
        out
    }

    pub fn parse(bytes: &[u8], on: &Switches) -> ImplResult<Self> {
        version(bytes, on)?;
        let mut body = bytes.get(1..).unwrap_or_default();
        let (mut one_time, mut base, mut identity, mut inner) = (None, None, None, None);
        while let Some((tag, value)) = field(&mut body)? {
            if let Value::Bytes(b) = value {
                match tag {
                    ONE_TIME_KEY => one_time = Some(b),
                    BASE_KEY => base = Some(b),
                    IDENTITY_KEY => identity = Some(b),
                    INNER => inner = Some(b),
                    _ => {}
                }
            }
        }
        let (Some(one_time), Some(base), Some(identity), Some(inner)) =
            (one_time, base, identity, inner)
        else {
            return Err(malformed("a pre-key message field is missing"));
        };
        Ok(Self {
            one_time_key: key(one_time, on)?,
            base_key: key(base, on)?,
            identity_key: key(identity, on)?,
            inner: inner.to_vec(),
        })
    }
}
