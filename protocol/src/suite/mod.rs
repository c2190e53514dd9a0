//! Cipher suites: one value that names everything a session's bytes depend on.
//!
//! A suite has three jobs, each a trait of its own so suites can share parts:
//! * [`RatchetKdf`] — the ratchet's KDFs (`KDF_RK`, `KDF_CK`, the message-key
//!   expansion);
//! * [`MessageCodec`] — the ratchet message's encoding, its AEAD and the
//!   [layout] of its wire bytes;
//! * [`KeyAgreement`] — how the first root key is agreed (X3DH today) and how
//!   its initial message is encoded.
//!
//! [`CipherSuite`] names one of each, plus the suite's name and id. The
//! Double Ratchet logic in [`crate::session`] calls only these traits, so a
//! new suite is one new module (`default/`, `signal_v3.rs`), listed once in
//! [`all`]. A suite is a `&'static dyn CipherSuite`; serialized sessions
//! record the suite's [`CipherSuite::id`], and a suite defined outside this
//! crate restores through [`crate::Session::from_bytes_in`].

pub mod default;
pub mod layout;
mod signal_pqxdh;
mod signal_v3;

pub use crate::agreement::KeyAgreement;

pub use layout::{FieldRole, MessageLayout, WireEncoding, WireField};

pub use default::{
    DEFAULT_SUITE, DefaultSuite, INFO_MESSAGE_KEYS, INFO_ROOT, INFO_X3DH, INITIAL_MESSAGE_VERSION,
    MESSAGE_OVERHEAD, MESSAGE_VERSION,
};

pub use signal_v3::{SIGNAL_V3_SUITE, SignalV3Suite};

pub use signal_pqxdh::{
    SIGNAL_PQXDH_KYBER1024_SUITE, SIGNAL_PQXDH_MLKEM1024_SUITE, SignalPqxdhSuite,
};

/// Constants of the PQXDH suites (`docs/PQXDH.md`).
pub mod pq {
    pub use super::signal_pqxdh::{INFO_KYBER1024, INFO_ML_KEM_1024, VERSION};
}

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

use core::fmt::Debug;

/// A suite as sessions hold it.
pub type Suite = &'static dyn CipherSuite;

/// The ratchet's key derivations (Double Ratchet spec §5.2).
///
/// Every method is deterministic: randomness is only ever needed for key
/// generation, which the session does itself.
pub trait RatchetKdf: Send + Sync + Debug {
    /// `KDF_RK(rk, dh_out)` → (next root key, chain key).
    fn kdf_rk(&self, rk: &RootKey, dh_out: &DhOutput) -> (RootKey, ChainKey);

    /// `KDF_CK(ck)` → (next chain key, message key).
    fn kdf_ck(&self, ck: &ChainKey) -> (ChainKey, MessageKey);

    /// The expansion of a message key into the cipher's keys (default suite:
    /// AES-256 key ‖ GCM nonce, 44 bytes). Exposed for known-answer tests.
    fn message_keys(&self, mk: &MessageKey) -> zeroize::Zeroizing<Vec<u8>>;
}

/// A ratchet message's encoding and encryption (Double Ratchet spec §3.1
/// ENCRYPT/DECRYPT, §3.4 headers), and where its fields sit on the wire.
pub trait MessageCodec: Send + Sync + Debug {
    /// The associated data a message sent by `sender` is sealed with, given
    /// the session's `ad` (the X3DH AD, the same for both parties). The
    /// default suite uses `ad` as it is; `signal-v3` puts the sender's
    /// identity first. Errors when `ad` does not have the form the suite needs.
    fn order_ad<'a>(&self, ad: &'a [u8], sender: Role) -> Result<Cow<'a, [u8]>> {
        let _ = sender;
        Ok(Cow::Borrowed(ad))
    }

    /// `ENCRYPT(mk, plaintext, CONCAT(ad, header))`, returning the whole wire
    /// message. `ad` is already ordered by [`MessageCodec::order_ad`].
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
    /// header [`MessageCodec::parse_header`] accepted.
    fn open(&self, mk: &MessageKey, message: &[u8], ad: &[u8]) -> Result<Vec<u8>>;

    /// The grammar of the suite's ratchet messages.
    fn wire_encoding(&self) -> WireEncoding;

    /// Where each field of a ratchet message sits, in wire order. Errors
    /// like [`MessageCodec::parse_header`] on a message the suite cannot
    /// parse; the tag is not checked.
    fn message_layout(&self, message: &[u8]) -> Result<MessageLayout>;
}

/// A Double Ratchet cipher suite: its name and id, and the three parts it is
/// made of. The provided methods forward to the parts, so callers write
/// `suite.parse_header(..)` without knowing which part answers; a suite
/// implements only the first five.
pub trait CipherSuite: Send + Sync + Debug {
    /// The suite's stable name, as used in vector files (e.g. `x25519-sha256-aes256gcm`).
    fn name(&self) -> &'static str;

    /// The byte that identifies the suite in serialized session state.
    fn id(&self) -> u8;

    /// The ratchet's KDFs.
    fn ratchet(&self) -> &dyn RatchetKdf;

    /// The message encoding and AEAD.
    fn codec(&self) -> &dyn MessageCodec;

    /// The key agreement that starts a session, with its initial message.
    fn key_agreement(&self) -> &dyn KeyAgreement;

    /// [`RatchetKdf::kdf_rk`].
    fn kdf_rk(&self, rk: &RootKey, dh_out: &DhOutput) -> (RootKey, ChainKey) {
        self.ratchet().kdf_rk(rk, dh_out)
    }

    /// [`RatchetKdf::kdf_ck`].
    fn kdf_ck(&self, ck: &ChainKey) -> (ChainKey, MessageKey) {
        self.ratchet().kdf_ck(ck)
    }

    /// [`RatchetKdf::message_keys`].
    fn message_keys(&self, mk: &MessageKey) -> zeroize::Zeroizing<Vec<u8>> {
        self.ratchet().message_keys(mk)
    }

    /// [`KeyAgreement::kdf`]: for X3DH, `SK = KDF(DH1 ‖ DH2 ‖ DH3 [‖ DH4])`;
    /// the suite adds its own prefix, salt and info.
    fn x3dh_kdf(&self, dh_outputs: &[u8]) -> SharedKey {
        self.key_agreement().kdf(dh_outputs)
    }

    /// [`MessageCodec::order_ad`].
    fn order_ad<'a>(&self, ad: &'a [u8], sender: Role) -> Result<Cow<'a, [u8]>> {
        self.codec().order_ad(ad, sender)
    }

    /// [`MessageCodec::seal`].
    fn seal(
        &self,
        mk: &MessageKey,
        header: &Header,
        plaintext: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>> {
        self.codec().seal(mk, header, plaintext, ad)
    }

    /// [`MessageCodec::parse_header`].
    fn parse_header(&self, message: &[u8]) -> Result<Header> {
        self.codec().parse_header(message)
    }

    /// [`MessageCodec::open`].
    fn open(&self, mk: &MessageKey, message: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        self.codec().open(mk, message, ad)
    }

    /// [`MessageCodec::wire_encoding`].
    fn wire_encoding(&self) -> WireEncoding {
        self.codec().wire_encoding()
    }

    /// [`MessageCodec::message_layout`].
    fn message_layout(&self, message: &[u8]) -> Result<MessageLayout> {
        self.codec().message_layout(message)
    }

    /// [`KeyAgreement::encode_initial`].
    fn encode_initial(&self, initial: &InitialMessage) -> Vec<u8> {
        self.key_agreement().encode_initial(initial)
    }

    /// [`KeyAgreement::decode_initial`].
    fn decode_initial(&self, bytes: &[u8]) -> Result<InitialMessage> {
        self.key_agreement().decode_initial(bytes)
    }
}

/// Every suite of the Signal ratchet algorithm this crate implements. The
/// harness iterates it where it drives [`crate::Session`]s (vectors, fuzz
/// seeds, the scenario model); [`registry`] lists every suite, Olm's too.
pub fn all() -> [Suite; 4] {
    [
        &DEFAULT_SUITE,
        &SIGNAL_V3_SUITE,
        &SIGNAL_PQXDH_KYBER1024_SUITE,
        &SIGNAL_PQXDH_MLKEM1024_SUITE,
    ]
}

/// A suite by the ratchet algorithm its sessions run.
///
/// The Signal-algorithm suites differ only in their parts, so each is a
/// [`CipherSuite`] driving the one [`crate::Session`]. Olm's ratchet is a
/// different state machine (kept receiver chains, no previous-counter field,
/// a session-wide store of 40 keys, ratchet keys drawn at the next send;
/// `docs/OLM-V1.md` §10.3), driven by [`crate::olm::OlmSession`]. Code that
/// runs sessions matches on this enum instead of comparing names, so a new
/// algorithm (Olm's today, a triple ratchet tomorrow) makes the compiler
/// point at every place that has to learn it.
#[derive(Clone, Copy, Debug)]
pub enum Registered {
    /// A suite of the Signal Double Ratchet ([`all`]).
    DoubleRatchet(Suite),
    /// `olm-v1`: Matrix's Olm ([`crate::olm`]).
    Olm,
}

impl Registered {
    /// The suite's name in vector files.
    pub fn name(self) -> &'static str {
        match self {
            Registered::DoubleRatchet(suite) => suite.name(),
            Registered::Olm => crate::olm::NAME,
        }
    }
}

/// Every suite this crate implements, whatever its ratchet: the registry.
/// Adding a suite of a known algorithm is one line here (and, for a Signal
/// one, in [`all`]).
pub fn registry() -> [Registered; 5] {
    [
        Registered::DoubleRatchet(&DEFAULT_SUITE),
        Registered::DoubleRatchet(&SIGNAL_V3_SUITE),
        Registered::DoubleRatchet(&SIGNAL_PQXDH_KYBER1024_SUITE),
        Registered::DoubleRatchet(&SIGNAL_PQXDH_MLKEM1024_SUITE),
        Registered::Olm,
    ]
}

/// Looks a suite of any algorithm up by name.
pub fn lookup(name: &str) -> Option<Registered> {
    registry().into_iter().find(|s| s.name() == name)
}

/// Looks a suite up by its [`CipherSuite::id`].
pub fn by_id(id: u8) -> Option<Suite> {
    all().into_iter().find(|s| s.id() == id)
}

/// Looks a suite up by its [`CipherSuite::name`].
pub fn by_name(name: &str) -> Option<Suite> {
    all().into_iter().find(|s| s.name() == name)
}

/// Looks `id` up among `suites`: for restoring sessions of suites defined
/// outside this crate (see [`crate::Session::from_bytes_in`]).
pub fn find_id(suites: &[Suite], id: u8) -> Option<Suite> {
    suites.iter().copied().find(|s| s.id() == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_names_every_suite_once_and_holds_all() {
        let names: Vec<_> = registry().into_iter().map(Registered::name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for suite in all() {
            assert!(
                matches!(lookup(suite.name()), Some(Registered::DoubleRatchet(s)) if s.id() == suite.id())
            );
        }
        assert!(matches!(lookup(crate::olm::NAME), Some(Registered::Olm)));
        assert!(lookup("olm-v2").is_none());
    }
}
