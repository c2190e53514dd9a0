//! The default suite, `x25519-sha256-aes256gcm`: X25519, HKDF-SHA256,
//! HMAC-SHA256 chains and AES-256-GCM, with a fixed binary header.
//! `docs/SPEC.md` §3–§5 give every byte.

use crate::chain_key::{ChainKey, MessageKey, kdf_ck};
use crate::error::{Error, Result};
use crate::header::{HEADER_LEN, Header};
use crate::keys::DhOutput;
use crate::message_key::{AEAD_TAG_LEN, derive_aead_keys, open, seal};
use crate::root_key::{RootKey, SharedKey, kdf_rk, x3dh_kdf};
use crate::x3dh::InitialMessage;

use super::{CipherSuite, FieldRole, MessageLayout, WireEncoding, WireField};

/// HKDF info of the X3DH KDF.
pub const INFO_X3DH: &[u8] = b"ratchetproof/x25519-sha256-aes256gcm/x3dh";
/// HKDF info of `KDF_RK`.
pub const INFO_ROOT: &[u8] = b"ratchetproof/x25519-sha256-aes256gcm/root";
/// HKDF info of the message-key → AEAD key and nonce derivation.
pub const INFO_MESSAGE_KEYS: &[u8] = b"ratchetproof/x25519-sha256-aes256gcm/message-keys";

/// First byte of a ratchet message.
pub const MESSAGE_VERSION: u8 = 0x01;
/// First byte of an X3DH initial message.
pub const INITIAL_MESSAGE_VERSION: u8 = 0x02;

/// Bytes a ratchet message adds to its plaintext: version, header, tag.
pub const MESSAGE_OVERHEAD: usize = 1 + HEADER_LEN + AEAD_TAG_LEN;

/// The default cipher suite.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultSuite;

/// The one value of [`DefaultSuite`].
pub static DEFAULT_SUITE: DefaultSuite = DefaultSuite;

impl DefaultSuite {
    /// The AEAD associated data: `u32be(len(ad)) ‖ ad ‖ version ‖ header`.
    /// The length prefix makes the concatenation unambiguous for any `ad`.
    fn aead_ad(ad: &[u8], version_and_header: &[u8]) -> Result<Vec<u8>> {
        let len = u32::try_from(ad.len())
            .map_err(|_| Error::Malformed("associated data longer than 2^32 - 1 bytes"))?;
        let mut out = Vec::with_capacity(4 + ad.len() + version_and_header.len());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(ad);
        out.extend_from_slice(version_and_header);
        Ok(out)
    }
}

impl CipherSuite for DefaultSuite {
    fn name(&self) -> &'static str {
        "x25519-sha256-aes256gcm"
    }

    fn id(&self) -> u8 {
        1
    }

    fn kdf_rk(&self, rk: &RootKey, dh_out: &DhOutput) -> (RootKey, ChainKey) {
        kdf_rk(rk, dh_out, INFO_ROOT)
    }

    fn kdf_ck(&self, ck: &ChainKey) -> (ChainKey, MessageKey) {
        kdf_ck(ck)
    }

    fn x3dh_kdf(&self, dh_outputs: &[u8]) -> SharedKey {
        x3dh_kdf(dh_outputs, INFO_X3DH)
    }

    fn message_keys(&self, mk: &MessageKey) -> zeroize::Zeroizing<Vec<u8>> {
        let keys = derive_aead_keys(mk, INFO_MESSAGE_KEYS);
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(44));
        out.extend_from_slice(keys.key.as_slice());
        out.extend_from_slice(&keys.nonce);
        out
    }

    fn seal(
        &self,
        mk: &MessageKey,
        header: &Header,
        plaintext: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>> {
        let mut message = Vec::with_capacity(MESSAGE_OVERHEAD + plaintext.len());
        message.push(MESSAGE_VERSION);
        message.extend_from_slice(&header.encode());
        let aad = Self::aead_ad(ad, &message)?;
        let keys = derive_aead_keys(mk, INFO_MESSAGE_KEYS);
        message.extend_from_slice(&seal(&keys, plaintext, &aad)?);
        Ok(message)
    }

    fn parse_header(&self, message: &[u8]) -> Result<Header> {
        let (&version, rest) = message
            .split_first()
            .ok_or(Error::Malformed("empty message"))?;
        if version != MESSAGE_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        if message.len() < MESSAGE_OVERHEAD {
            return Err(Error::Malformed(
                "truncated: shorter than version, header and tag",
            ));
        }
        Header::decode(
            rest.get(..HEADER_LEN)
                .ok_or(Error::Malformed("truncated header"))?,
        )
    }

    fn open(&self, mk: &MessageKey, message: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        self.parse_header(message)?;
        let (prefix, body) = message
            .split_at_checked(1 + HEADER_LEN)
            .ok_or(Error::Malformed("truncated"))?;
        let aad = Self::aead_ad(ad, prefix)?;
        open(&derive_aead_keys(mk, INFO_MESSAGE_KEYS), body, &aad)
    }

    fn wire_encoding(&self) -> WireEncoding {
        WireEncoding::Fixed
    }

    fn message_layout(&self, message: &[u8]) -> Result<MessageLayout> {
        self.parse_header(message)?;
        let key_end = 1 + crate::consts::KEY_LEN;
        let body = 1 + HEADER_LEN;
        let tag = message.len() - AEAD_TAG_LEN;
        Ok(MessageLayout {
            fields: vec![
                WireField::new(FieldRole::Version, 0..1, "version byte"),
                WireField::new(FieldRole::RatchetKey, 1..key_end, "ratchet key"),
                WireField::new(FieldRole::PreviousCounter, key_end..key_end + 4, "PN"),
                WireField::new(FieldRole::Counter, key_end + 4..body, "N"),
                WireField::new(FieldRole::Ciphertext, body..tag, "ciphertext"),
                WireField::new(FieldRole::Tag, tag..message.len(), "tag"),
            ],
        })
    }

    fn encode_initial(&self, initial: &InitialMessage) -> Vec<u8> {
        initial.encode()
    }

    fn decode_initial(&self, bytes: &[u8]) -> Result<InitialMessage> {
        InitialMessage::decode(bytes)
    }
}
