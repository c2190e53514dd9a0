//! The `olm-v1` suite (Matrix's Olm, libolm 3 / vodozemac), byte for byte as
//! `docs/OLM-V1.md` specifies it: the triple-DH key agreement, Olm's KDFs,
//! AES-256-CBC with an HMAC-SHA256 tag truncated to 8 bytes, the protobuf-style
//! wire messages, and Olm's ratchet variant (kept receiver chains, keys
//! derived on demand, ratchet keys generated on the next send).
//!
//! Not a [`crate::suite::CipherSuite`]: Olm's ratchet is another state
//! machine, not other parts in the Signal one (no `pn` in its header, kept
//! chains instead of a skipped-key store, a one-time key that replaces the
//! signed prekey). The registry lists it as
//! [`crate::suite::Registered::Olm`], beside the Signal suites of
//! [`crate::suite::all`]; its known answers against libolm are in
//! `protocol/tests/olm_known_answers.rs`.

pub mod agreement;
pub mod kdf;
pub mod layout;
pub mod message;
pub mod session;

pub use agreement::{initiator_secret, responder_secret};
pub use kdf::{kdf_rk, message_keys, root_from_shared_secret};
pub use message::{OlmMessage, PreKeyMessage};
pub use session::OlmSession;

/// The suite's name in vector files.
pub const NAME: &str = "olm-v1";

/// The version byte of both message kinds.
pub const VERSION: u8 = 0x03;

/// HKDF info turning the triple-DH secret into the first root and chain keys.
pub const INFO_ROOT: &[u8] = b"OLM_ROOT";
/// HKDF info of a ratchet (root) step.
pub const INFO_RATCHET: &[u8] = b"OLM_RATCHET";
/// HKDF info expanding a message key into AES key, HMAC key and IV.
pub const INFO_KEYS: &[u8] = b"OLM_KEYS";

/// Length of the tag appended to a message: HMAC-SHA256 truncated.
pub const MAC_LEN: usize = 8;
/// AES-256 key ‖ HMAC-SHA256 key ‖ CBC IV.
pub const MESSAGE_KEYS_LEN: usize = 80;

/// Receiver chains a session keeps (the oldest is dropped beyond this).
pub const MAX_RECEIVER_CHAINS: usize = 5;
/// Message keys a session stores for messages that have not arrived.
pub const MAX_SKIPPED_KEYS: usize = 40;
/// The furthest a message's index may lie beyond its chain's next index.
pub const MAX_MESSAGE_GAP: u32 = 2000;
