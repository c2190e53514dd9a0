//! The message header `(dh, pn, n)` (Double Ratchet spec §3.4). How a header
//! travels on the wire is each suite's business ([`crate::suite`]).

use crate::error::Result;
use crate::keys::PublicKey;
use crate::suite::default::encoding;

/// Length of an encoded header in the default suite (kept at this path for
/// callers; defined in [`crate::suite::default`]).
pub use crate::suite::default::HEADER_LEN;

/// A Double Ratchet message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The sender's current ratchet public key.
    pub dh: PublicKey,
    /// Number of messages in the sender's previous sending chain.
    pub pn: u32,
    /// This message's number in the current sending chain.
    pub n: u32,
}

impl Header {
    /// The default suite's encoding, [`crate::suite::default::encode_header`].
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        encoding::encode_header(self)
    }

    /// The default suite's decoding, [`crate::suite::default::decode_header`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        encoding::decode_header(bytes)
    }
}
