//! Cipher suites: one value that names a session's KDFs, AEAD and encodings.
//!
//! The Double Ratchet logic in [`crate::session`] calls only this trait, so a
//! second suite (for example Signal's v3 wire format) is one new module that
//! implements it. A suite is a `&'static dyn CipherSuite`; serialized sessions
//! record the suite's [`CipherSuite::id`].

mod default;
pub mod layout;
mod signal_v3;

pub use layout::{FieldRole, MessageLayout, WireEncoding, WireField};

pub use default::{
    DEFAULT_SUITE, DefaultSuite, INFO_MESSAGE_KEYS, INFO_ROOT, INFO_X3DH, INITIAL_MESSAGE_VERSION,
    MESSAGE_OVERHEAD, MESSAGE_VERSION,
};

pub use signal_v3::{SIGNAL_V3_SUITE, SignalV3Suite};

/// Constants and key encoding of the `signal-v3` suite (`docs/SIGNAL-V3.md`).
pub mod v3 {
    pub use super::signal_v3::{
        INFO_MESSAGE_KEYS, INFO_RATCHET, INFO_TEXT, KEY_TYPE, MAC_LEN, MESSAGE_KEYS_LEN, VERSION,
        decode_key, encode_key,
    };
}

use std::borrow::Cow;

use crate::chain_key::{ChainKey, MessageKey};
use crate::error::Result;
use crate::header::Header;
use crate::keys::DhOutput;
use crate::root_key::{RootKey, SharedKey};
use crate::session::Role;
use crate::x3dh::InitialMessage;

/// A suite as sessions hold it.
pub type Suite = &'static dyn CipherSuite;

/// The primitives and encodings that make up a Double Ratchet cipher suite.
///
/// Every method is deterministic: randomness is only ever needed for key
/// generation, which the session does itself.
pub trait CipherSuite: Send + Sync + core::fmt::Debug {
    /// The suite's stable name, as used in vector files (e.g. `x25519-sha256-aes256gcm`).
    fn name(&self) -> &'static str;

    /// The byte that identifies the suite in serialized session state.
    fn id(&self) -> u8;

    /// `KDF_RK(rk, dh_out)` → (next root key, chain key).
    fn kdf_rk(&self, rk: &RootKey, dh_out: &DhOutput) -> (RootKey, ChainKey);

    /// `KDF_CK(ck)` → (next chain key, message key).
    fn kdf_ck(&self, ck: &ChainKey) -> (ChainKey, MessageKey);

    /// The X3DH KDF: `SK = KDF(DH1 ‖ DH2 ‖ DH3 [‖ DH4])`. `dh_outputs` is the
    /// concatenation; the suite adds its own prefix, salt and info.
    fn x3dh_kdf(&self, dh_outputs: &[u8]) -> SharedKey;

    /// The expansion of a message key into the cipher's keys (default suite:
    /// AES-256 key ‖ GCM nonce, 44 bytes). Exposed for known-answer tests.
    fn message_keys(&self, mk: &MessageKey) -> zeroize::Zeroizing<Vec<u8>>;

    /// The associated data a message sent by `sender` is sealed with, given
    /// the session's `ad` (the X3DH AD, the same for both parties). The
    /// default suite uses `ad` as it is; `signal-v3` puts the sender's
    /// identity first. Errors when `ad` does not have the form the suite needs.
    fn order_ad<'a>(&self, ad: &'a [u8], sender: Role) -> Result<Cow<'a, [u8]>> {
        let _ = sender;
        Ok(Cow::Borrowed(ad))
    }

    /// `ENCRYPT(mk, plaintext, CONCAT(ad, header))`, returning the whole wire
    /// message. `ad` is already ordered by [`CipherSuite::order_ad`].
    fn seal(
        &self,
        mk: &MessageKey,
        header: &Header,
        plaintext: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>>;

    /// Parses the header out of a wire message without authenticating it.
    /// Errors are [`crate::Error::Malformed`] or [`crate::Error::UnsupportedVersion`].
    fn parse_header(&self, message: &[u8]) -> Result<Header>;

    /// `DECRYPT(mk, ciphertext, CONCAT(ad, header))` of a wire message whose
    /// header [`CipherSuite::parse_header`] accepted.
    fn open(&self, mk: &MessageKey, message: &[u8], ad: &[u8]) -> Result<Vec<u8>>;

    /// The grammar of the suite's ratchet messages.
    fn wire_encoding(&self) -> WireEncoding;

    /// Where each field of a ratchet message sits, in wire order. Errors
    /// like [`CipherSuite::parse_header`] on a message the suite cannot
    /// parse; the tag is not checked.
    fn message_layout(&self, message: &[u8]) -> Result<MessageLayout>;

    /// Encodes X3DH's initial message (Alice's first message with the keys
    /// and prekey ids Bob needs).
    fn encode_initial(&self, initial: &InitialMessage) -> Vec<u8>;

    /// Parses an initial message; the embedded ratchet message is checked
    /// only when it is decrypted.
    fn decode_initial(&self, bytes: &[u8]) -> Result<InitialMessage>;
}

/// Every suite this crate implements.
pub fn all() -> [Suite; 2] {
    [&DEFAULT_SUITE, &SIGNAL_V3_SUITE]
}

/// Looks a suite up by its [`CipherSuite::id`].
pub fn by_id(id: u8) -> Option<Suite> {
    all().into_iter().find(|s| s.id() == id)
}

/// Looks a suite up by its [`CipherSuite::name`].
pub fn by_name(name: &str) -> Option<Suite> {
    all().into_iter().find(|s| s.name() == name)
}
