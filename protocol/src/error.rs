//! The one error type of the crate, and the coarse classes the harness compares.

/// Result alias used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Every way an operation of this crate can fail. Matching on the variant tells
/// the caller the cause; [`Error::class`] folds causes into the classes that
/// the conformance harness compares across implementations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The AEAD tag did not verify: the message, its header or the associated
    /// data was altered, or it was not encrypted under this session.
    #[error("authentication failed: the message does not verify under this session")]
    AuthenticationFailed,
    /// The message key for this (ratchet key, message number) was already used
    /// or is otherwise no longer held: the message is a replay.
    #[error(
        "duplicate message: the key for ratchet key {ratchet_key_prefix} message {n} was already used"
    )]
    DuplicateMessage {
        /// First four bytes of the sender ratchet key, hex, for diagnostics.
        ratchet_key_prefix: String,
        /// The message number from the header.
        n: u32,
    },
    /// Accepting the message would skip more message keys than the session's
    /// `max_skip` allows in one chain.
    #[error("too many skipped messages: would skip from {from} to {until}, limit {limit}")]
    TooManySkipped {
        /// Next expected message number in the chain.
        from: u32,
        /// The message number the header asks to skip to.
        until: u32,
        /// The configured `max_skip`.
        limit: u32,
    },
    /// The bytes do not parse as a message of this suite.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// The message's version byte is not one this suite speaks.
    #[error("unsupported version byte 0x{0:02x}")]
    UnsupportedVersion(u8),
    /// A public key is of the wrong length, or produced an all-zero
    /// Diffie-Hellman output (a small-order point).
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The signed prekey's XEdDSA signature does not verify under the identity key.
    #[error("invalid signature on the signed prekey")]
    InvalidSignature,
    /// An initial message names a signed or one-time prekey id the responder does not hold.
    #[error("unknown {kind} prekey id {id}")]
    UnknownPreKey {
        /// `"signed"` or `"one-time"`.
        kind: &'static str,
        /// The id from the message.
        id: u32,
    },
    /// The session has no sending chain yet (the responder must receive first).
    #[error("the session cannot send yet: no sending chain until the first message is received")]
    NoSendingChain,
    /// The message counter would overflow its 32-bit field.
    #[error("message counter exhausted: the chain has sent 2^32 - 1 messages")]
    CounterExhausted,
    /// Serialized session state could not be decoded.
    #[error("invalid session state: {0}")]
    InvalidState(&'static str),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

/// The failure classes the harness distinguishes. Implementations word their
/// errors differently; the class is what vectors and shims agree on.
///
/// Exhaustive on purpose: the harness maps each class to the vector
/// format's class one to one, and a new class must fail to compile there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// Tag or signature verification failed.
    Authentication,
    /// Replay of an already-decrypted message.
    Duplicate,
    /// A skip limit was exceeded.
    TooManySkipped,
    /// Bytes that do not parse.
    Malformed,
    /// A bad public key (length, small order), signature length or prekey reference.
    InvalidKey,
    /// A version or feature the implementation does not support.
    Unsupported,
    /// Misuse of the API (sending before a chain exists, bad state bytes, bad configuration).
    State,
}

impl ErrorClass {
    /// The stable lowercase name used in vector files and the shim protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Authentication => "authentication",
            ErrorClass::Duplicate => "duplicate",
            ErrorClass::TooManySkipped => "too_many_skipped",
            ErrorClass::Malformed => "malformed",
            ErrorClass::InvalidKey => "invalid_key",
            ErrorClass::Unsupported => "unsupported",
            ErrorClass::State => "state",
        }
    }

    /// Parses the name produced by [`ErrorClass::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Every class, in a stable order.
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Authentication,
        ErrorClass::Duplicate,
        ErrorClass::TooManySkipped,
        ErrorClass::Malformed,
        ErrorClass::InvalidKey,
        ErrorClass::Unsupported,
        ErrorClass::State,
    ];
}

impl core::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The harness class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::AuthenticationFailed => ErrorClass::Authentication,
            Error::InvalidSignature => ErrorClass::Authentication,
            Error::DuplicateMessage { .. } => ErrorClass::Duplicate,
            Error::TooManySkipped { .. } => ErrorClass::TooManySkipped,
            Error::Malformed(_) => ErrorClass::Malformed,
            Error::UnsupportedVersion(_) => ErrorClass::Unsupported,
            Error::InvalidKey(_) | Error::UnknownPreKey { .. } => ErrorClass::InvalidKey,
            Error::NoSendingChain
            | Error::CounterExhausted
            | Error::InvalidState(_)
            | Error::InvalidConfig(_) => ErrorClass::State,
        }
    }
}
