//! The default suite, `x25519-sha256-aes256gcm`: X25519, HKDF-SHA256,
//! HMAC-SHA256 chains and AES-256-GCM, with a fixed binary header.
//! `docs/SPEC.md` §3–§6 give every byte. Everything the suite is lives here:
//! its KDF infos, its AEAD ([`aead`](self) module), its header and initial
//! message encodings ([`encoding`]), and the parts [`DefaultSuite`] is made
//! of, which a variant suite can reuse with other infos.

mod aead;
pub mod encoding;

use crate::agreement::KeyAgreement;
use crate::chain_key::{ChainKey, MessageKey, kdf_ck};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::keys::DhOutput;
use crate::root_key::{RootKey, kdf_rk};
use crate::x3dh::{SignatureConformance, X3dh};

use self::aead::{AEAD_TAG_LEN, derive_aead_keys, open, seal_in_place};
use super::{
    CipherSuite, FieldRole, MessageCodec, MessageLayout, RatchetKdf, WireEncoding, WireField,
};

pub use encoding::{
    DefaultInitialCodec, HEADER_LEN, INITIAL_MESSAGE_VERSION, decode_header, encode_header,
};

/// HKDF info of the X3DH KDF.
pub const INFO_X3DH: &[u8] = b"ratchetproof/x25519-sha256-aes256gcm/x3dh";
/// HKDF info of `KDF_RK`.
pub const INFO_ROOT: &[u8] = b"ratchetproof/x25519-sha256-aes256gcm/root";
/// HKDF info of the message-key → AEAD key and nonce derivation.
pub const INFO_MESSAGE_KEYS: &[u8] = b"ratchetproof/x25519-sha256-aes256gcm/message-keys";

/// First byte of a ratchet message.
pub const MESSAGE_VERSION: u8 = 0x01;

/// Bytes a ratchet message adds to its plaintext: version, header, tag.
pub const MESSAGE_OVERHEAD: usize = 1 + HEADER_LEN + AEAD_TAG_LEN;

/// The default suite's ratchet KDFs: `KDF_RK` is HKDF-SHA256 with
/// `root_info`, `KDF_CK` HMAC-SHA256, and a message key expands by HKDF with
/// `message_keys_info` to an AES-256 key and a GCM nonce.
#[derive(Debug, Clone, Copy)]
pub struct DefaultRatchet {
    /// HKDF info of `KDF_RK`.
    pub root_info: &'static [u8],
    /// HKDF info of the message-key expansion.
    pub message_keys_info: &'static [u8],
}

impl RatchetKdf for DefaultRatchet {
    fn kdf_rk(&self, rk: &RootKey, dh_out: &DhOutput) -> (RootKey, ChainKey) {
        kdf_rk(rk, dh_out, self.root_info)
    }

    fn kdf_ck(&self, ck: &ChainKey) -> (ChainKey, MessageKey) {
        kdf_ck(ck)
    }

    fn message_keys(&self, mk: &MessageKey) -> zeroize::Zeroizing<Vec<u8>> {
        let keys = derive_aead_keys(mk, self.message_keys_info);
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(44));
        out.extend_from_slice(keys.key.as_slice());
        out.extend_from_slice(&keys.nonce);
        out
    }
}

/// The default suite's ratchet message: `version ‖ header (40) ‖ AES-256-GCM
/// ciphertext ‖ tag (16)`, sealed under the key and nonce the message key
/// expands to with `message_keys_info`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultCodec {
    /// HKDF info of the message-key expansion (as in [`DefaultRatchet`]).
    pub message_keys_info: &'static [u8],
}

/// Longest AEAD associated data built on the stack; longer `ad`s use the heap.
const STACK_AAD_LEN: usize = 128;

impl DefaultCodec {
    /// Calls `f` with the AEAD associated data: `u32be(len(ad)) ‖ ad ‖
    /// version ‖ header`. The length prefix makes the concatenation
    /// unambiguous for any `ad`. It is built on the stack when it fits
    /// (the X3DH AD does), so a message allocates nothing for it.
    fn with_aead_ad<T>(
        ad: &[u8],
        version_and_header: &[u8],
        f: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<T> {
        let len = u32::try_from(ad.len())
            .map_err(|_| Error::Malformed("associated data longer than 2^32 - 1 bytes"))?;
        let total = ad.len().saturating_add(4 + version_and_header.len());
        let mut stack = [0u8; STACK_AAD_LEN];
        let mut heap = Vec::new();
        let buf = match stack.get_mut(..total) {
            Some(buf) => buf,
            None => {
                heap.resize(total, 0);
                heap.as_mut_slice()
            }
        };
        let (prefix, rest) = buf.split_at_mut(4);
        prefix.copy_from_slice(&len.to_be_bytes());
        let (ad_part, header_part) = rest.split_at_mut(ad.len());
        ad_part.copy_from_slice(ad);
        header_part.copy_from_slice(version_and_header);
        f(buf)
    }
}

impl MessageCodec for DefaultCodec {
    fn seal(
        &self,
        mk: &MessageKey,
        header: &Header,
        plaintext: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>> {
        let mut prefix = [0u8; 1 + HEADER_LEN];
        let (version, encoded) = prefix.split_at_mut(1);
        version.copy_from_slice(&[MESSAGE_VERSION]);
        encoded.copy_from_slice(&encode_header(header));
        // One buffer with room for the tag: the plaintext is copied in once
        // and encrypted where it lies.
        let mut message = Vec::with_capacity(MESSAGE_OVERHEAD + plaintext.len());
        message.extend_from_slice(&prefix);
        message.extend_from_slice(plaintext);
        let keys = derive_aead_keys(mk, self.message_keys_info);
        Self::with_aead_ad(ad, &prefix, |aad| {
            seal_in_place(&keys, &mut message, prefix.len(), aad)
        })?;
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
        decode_header(
            rest.get(..HEADER_LEN)
                .ok_or(Error::Malformed("truncated header"))?,
        )
    }

    fn open(&self, mk: &MessageKey, message: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        self.parse_header(message)?;
        let (prefix, body) = message
            .split_at_checked(1 + HEADER_LEN)
            .ok_or(Error::Malformed("truncated"))?;
        let keys = derive_aead_keys(mk, self.message_keys_info);
        Self::with_aead_ad(ad, prefix, |aad| open(&keys, body, aad))
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
}

/// The default suite's ratchet KDFs.
pub static RATCHET: DefaultRatchet = DefaultRatchet {
    root_info: INFO_ROOT,
    message_keys_info: INFO_MESSAGE_KEYS,
};

/// The default suite's message codec.
pub static CODEC: DefaultCodec = DefaultCodec {
    message_keys_info: INFO_MESSAGE_KEYS,
};

/// The default suite's key agreement: X3DH with [`INFO_X3DH`] and the
/// default initial message. The suite follows the published X3DH and XEdDSA
/// specifications, so a verifier that refuses libsignal's sign-bit
/// signatures or an unreduced `s` conforms too (SPEC.md §7.3).
pub static X3DH: X3dh = X3dh {
    info: INFO_X3DH,
    initial: &DefaultInitialCodec,
    signatures: SignatureConformance::Xeddsa,
};

/// The default cipher suite.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultSuite;

/// The one value of [`DefaultSuite`].
pub static DEFAULT_SUITE: DefaultSuite = DefaultSuite;

impl CipherSuite for DefaultSuite {
    fn name(&self) -> &'static str {
        "x25519-sha256-aes256gcm"
    }

    fn id(&self) -> u8 {
        1
    }

    fn ratchet(&self) -> &dyn RatchetKdf {
        &RATCHET
    }

    fn codec(&self) -> &dyn MessageCodec {
        &CODEC
    }

    fn key_agreement(&self) -> &dyn KeyAgreement {
        &X3DH
    }
}
