//! Limits and fixed sizes, gathered where a reader looks first. The session
//! limits are defaults of [`crate::SessionConfig`]; the harness reads them
//! from the configuration rather than hard-coding them. `docs/SPEC.md` §8
//! justifies each value.

/// Default maximum number of message keys one received message may make the
/// session skip in a single chain (the spec's `MAX_SKIP`). Matches the forward
/// limit of libsignal-node and python-axolotl and vodozemac's maximum gap, so the
/// exact-boundary vectors apply to those peers unchanged.
pub const DEFAULT_MAX_SKIP: u32 = 2_000;

/// Default cap on the total number of skipped message keys a session stores,
/// across all chains. When a decryption would exceed it, the oldest stored keys
/// are evicted first. Twice [`DEFAULT_MAX_SKIP`], so one message that skips the
/// maximum in both the old and the new chain never evicts its own keys.
pub const DEFAULT_MAX_STORED_SKIPPED_KEYS: u32 = 4_000;

/// How many previous receiving ratchet public keys a session remembers, so that
/// a replayed message from an older chain that fails to verify is reported as a
/// duplicate rather than as an authentication failure. The message is processed
/// exactly as the spec says first; only the error reported changes.
pub const MAX_PREVIOUS_RECEIVING_KEYS: usize = 16;

/// Length of an X25519 public key, private key and Diffie-Hellman output.
pub const KEY_LEN: usize = 32;

/// Length of an XEdDSA signature.
pub const SIGNATURE_LEN: usize = 64;

/// The curve-type byte of `Encode(PK)` (Signal's value for Curve25519).
pub const CURVE25519_KEY_TYPE: u8 = 0x05;
