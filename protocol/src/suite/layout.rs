//! The layout of a suite's wire messages: which byte ranges carry the
//! version, the header fields, the ciphertext and the tag.
//!
//! The harness tampers with messages field by field (vectors, the scenario
//! model, the fuzz bodies, the mutants). It asks the suite where each field
//! sits instead of knowing byte offsets itself, so a suite with another
//! layout — a protobuf encoding, a different header order, an encrypted
//! header — needs no change outside its own module.

use core::ops::Range;

/// What a span of a wire message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldRole {
    /// The version byte.
    Version,
    /// Encoding structure that carries no value of its own: a protobuf
    /// field tag or length prefix.
    Structure,
    /// The type byte in front of an encoded public key.
    KeyType,
    /// The sender's ratchet public key (`header.dh`).
    RatchetKey,
    /// The previous chain's length (`header.pn`), in the suite's encoding.
    PreviousCounter,
    /// The message number (`header.n`), in the suite's encoding.
    Counter,
    /// The encrypted plaintext (without the tag).
    Ciphertext,
    /// The authentication tag or MAC.
    Tag,
}

/// One field of a wire message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireField {
    /// What the bytes carry.
    pub role: FieldRole,
    /// Where they are in the message.
    pub range: Range<usize>,
    /// The suite's own name for the field, for reports (e.g. `tag`, `MAC`).
    pub name: &'static str,
}

impl WireField {
    /// A field of `role` at `range` named `name`.
    pub fn new(role: FieldRole, range: Range<usize>, name: &'static str) -> Self {
        Self { role, range, name }
    }
}

/// How a suite encodes its ratchet messages: the message grammar that
/// encoding-level test families (crafted protobuf fields, truncations at
/// each length) are written against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireEncoding {
    /// Fixed-size fields at fixed positions; any prefix shorter than the
    /// overhead is refused as malformed.
    Fixed,
    /// libsignal's `WhisperMessage` protobuf (fields 1–4) between a
    /// version byte and a truncated MAC (docs/SIGNAL-V3.md §3).
    WhisperProtobuf,
}

/// The fields of a message, in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageLayout {
    /// Every field, in the order they appear; the ranges do not overlap and
    /// together cover the whole message.
    pub fields: Vec<WireField>,
}

impl MessageLayout {
    /// The fields of `role`, in wire order.
    pub fn of(&self, role: FieldRole) -> impl Iterator<Item = &WireField> {
        self.fields.iter().filter(move |f| f.role == role)
    }

    /// The first field of `role`.
    pub fn first(&self, role: FieldRole) -> Option<&WireField> {
        self.of(role).next()
    }

    /// The byte range of the first field of `role`.
    pub fn range(&self, role: FieldRole) -> Option<Range<usize>> {
        self.first(role).map(|f| f.range.clone())
    }
}
