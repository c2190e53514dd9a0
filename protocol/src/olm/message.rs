//! Olm's wire messages and their authenticated encryption.
//!
//! A message is `0x03 ‖ fields ‖ tag`, the fields protobuf-style (tag byte,
//! then a varint or a varint length and bytes): 1 ratchet key (32 raw bytes),
//! 2 chain index (varint), 4 ciphertext — there is no previous-counter field.
//! The tag is HMAC-SHA256 over the version byte and the fields, truncated to
//! 8 bytes; no identity keys or other associated data enter it.
//!
//! A pre-key message is `0x03 ‖ fields` with no tag of its own: 1 one-time
//! key, 2 base key, 3 identity key, 4 the whole inner message.
//!
//! Encoding writes fields in that order. Decoding follows libolm: fields in
//! any order, unknown varint and length-delimited fields skipped, the last of
//! a repeated field wins, and a missing field is malformed.

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use subtle::ConstantTimeEq;

use crate::chain_key::MessageKey;
use crate::error::{Error, Result};
use crate::keys::PublicKey;
use crate::primitives::hmac_sha256;

use super::kdf::message_keys;
use super::{MAC_LEN, VERSION};

const RATCHET_KEY_TAG: u8 = 0x0a;
const INDEX_TAG: u8 = 0x10;
const CIPHERTEXT_TAG: u8 = 0x22;

const ONE_TIME_KEY_TAG: u8 = 0x0a;
const BASE_KEY_TAG: u8 = 0x12;
const IDENTITY_KEY_TAG: u8 = 0x1a;
const MESSAGE_TAG: u8 = 0x22;

/// A normal Olm message, parsed (the tag not yet checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OlmMessage {
    /// The sender's ratchet key `T`.
    pub ratchet_key: PublicKey,
    /// The message's index in the sender's chain.
    pub index: u32,
    /// AES-256-CBC ciphertext.
    pub ciphertext: Vec<u8>,
    /// The truncated tag as received.
    pub mac: [u8; MAC_LEN],
    /// `version ‖ fields` as received: what the tag covers.
    authenticated: Vec<u8>,
}

/// A pre-key message: what Bob needs to start his side, and the first message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyMessage {
    /// Bob's one-time key `E_B` that Alice used.
    pub one_time_key: PublicKey,
    /// Alice's base key `E_A`.
    pub base_key: PublicKey,
    /// Alice's identity key `I_A`.
    pub identity_key: PublicKey,
    /// The encoded inner [`OlmMessage`].
    pub message: Vec<u8>,
}

/// Encrypts `plaintext` under `mk` as a message from ratchet key `ratchet_key`
/// at `index`, returning the wire bytes.
pub fn seal(mk: &MessageKey, ratchet_key: &PublicKey, index: u32, plaintext: &[u8]) -> Vec<u8> {
    let keys = message_keys(mk);
    let (aes_key, rest) = keys.split_at(32);
    let (mac_key, iv) = rest.split_at(32);
    let ciphertext = match cbc::Encryptor::<Aes256>::new_from_slices(aes_key, iv) {
        Ok(c) => c.encrypt_padded_vec::<Pkcs7>(plaintext),
        // Lengths are fixed by the 80-byte split: unreachable.
        Err(_) => Vec::new(),
    };
    let mut out = vec![VERSION];
    put_bytes(&mut out, RATCHET_KEY_TAG, ratchet_key.as_bytes());
    out.push(INDEX_TAG);
    put_varint(&mut out, u64::from(index));
    put_bytes(&mut out, CIPHERTEXT_TAG, &ciphertext);
    let tag = hmac_sha256(mac_key, &[&out]);
    out.extend_from_slice(tag.get(..MAC_LEN).unwrap_or_default());
    out
}

/// Checks the tag of `message` under `mk`, then decrypts it.
pub fn open(mk: &MessageKey, message: &OlmMessage) -> Result<Vec<u8>> {
    let keys = message_keys(mk);
    let (aes_key, rest) = keys.split_at(32);
    let (mac_key, iv) = rest.split_at(32);
    let tag = hmac_sha256(mac_key, &[&message.authenticated]);
    if !bool::from(tag.get(..MAC_LEN).unwrap_or_default().ct_eq(&message.mac)) {
        return Err(Error::AuthenticationFailed);
    }
    let cipher = cbc::Decryptor::<Aes256>::new_from_slices(aes_key, iv)
        .map_err(|_| Error::InvalidKey("AES-256-CBC key or IV length"))?;
    // Bad padding under a valid tag: refused like any message that does not verify.
    cipher
        .decrypt_padded_vec::<Pkcs7>(&message.ciphertext)
        .map_err(|_| Error::AuthenticationFailed)
}

impl OlmMessage {
    /// Parses a normal message.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (&version, _) = bytes
            .split_first()
            .ok_or(Error::Malformed("empty message"))?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let body_end = bytes
            .len()
            .checked_sub(MAC_LEN)
            .filter(|&end| end >= 1)
            .ok_or(Error::Malformed("shorter than version and tag"))?;
        let (authenticated, mac) = bytes.split_at(body_end);
        let (mut key, mut index, mut ciphertext) = (None, None, None);
        walk(
            authenticated.get(1..).unwrap_or_default(),
            |tag, field| match (tag, field) {
                (RATCHET_KEY_TAG, Field::Bytes(b)) => key = Some(b),
                (INDEX_TAG, Field::Varint(v)) => index = Some(v),
                (CIPHERTEXT_TAG, Field::Bytes(b)) => ciphertext = Some(b),
                _ => {}
            },
        )?;
        let (Some(key), Some(index), Some(ciphertext)) = (key, index, ciphertext) else {
            return Err(Error::Malformed("a message field is missing"));
        };
        let mut tag = [0u8; MAC_LEN];
        tag.copy_from_slice(mac);
        Ok(Self {
            ratchet_key: PublicKey::from_slice(key)?,
            index: u32::try_from(index).map_err(|_| Error::Malformed("chain index above 2^32"))?,
            ciphertext: ciphertext.to_vec(),
            mac: tag,
            authenticated: authenticated.to_vec(),
        })
    }
}

impl PreKeyMessage {
    /// Encodes the pre-key message, fields in libolm's order 1, 2, 3, 4.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        put_bytes(&mut out, ONE_TIME_KEY_TAG, self.one_time_key.as_bytes());
        put_bytes(&mut out, BASE_KEY_TAG, self.base_key.as_bytes());
        put_bytes(&mut out, IDENTITY_KEY_TAG, self.identity_key.as_bytes());
        put_bytes(&mut out, MESSAGE_TAG, &self.message);
        out
    }

    /// Parses a pre-key message; the inner message is parsed when it is decrypted.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (&version, body) = bytes
            .split_first()
            .ok_or(Error::Malformed("empty message"))?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let (mut otk, mut base, mut identity, mut message) = (None, None, None, None);
        walk(body, |tag, field| {
            if let Field::Bytes(b) = field {
                match tag {
                    ONE_TIME_KEY_TAG => otk = Some(b),
                    BASE_KEY_TAG => base = Some(b),
                    IDENTITY_KEY_TAG => identity = Some(b),
                    MESSAGE_TAG => message = Some(b),
                    _ => {}
                }
            }
        })?;
        let (Some(otk), Some(base), Some(identity), Some(message)) = (otk, base, identity, message)
        else {
            return Err(Error::Malformed("a pre-key message field is missing"));
        };
        Ok(Self {
            one_time_key: PublicKey::from_slice(otk)?,
            base_key: PublicKey::from_slice(base)?,
            identity_key: PublicKey::from_slice(identity)?,
            message: message.to_vec(),
        })
    }
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Walks protobuf-style fields, handing each to `each`.
fn walk<'a>(mut body: &'a [u8], mut each: impl FnMut(u8, Field<'a>)) -> Result<()> {
    while let Some((&tag, rest)) = body.split_first() {
        body = rest;
        match tag & 0x07 {
            0 => each(tag, Field::Varint(varint(&mut body)?)),
            2 => {
                let len = usize::try_from(varint(&mut body)?)
                    .map_err(|_| Error::Malformed("field length"))?;
                let (value, rest) = body
                    .split_at_checked(len)
                    .ok_or(Error::Malformed("field longer than the message"))?;
                body = rest;
                each(tag, Field::Bytes(value));
            }
            _ => return Err(Error::Malformed("unsupported field wire type")),
        }
    }
    Ok(())
}

fn varint(body: &mut &[u8]) -> Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = body
            .split_first()
            .ok_or(Error::Malformed("truncated varint"))?;
        *body = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Error::Malformed("varint longer than 10 bytes"))
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_bytes(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}
