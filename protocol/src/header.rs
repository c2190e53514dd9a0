//! The message header `(dh, pn, n)` (Double Ratchet spec §3.4) and its
//! fixed 40-byte encoding in the default suite.

use crate::consts::KEY_LEN;
use crate::error::{Error, Result};
use crate::keys::PublicKey;

/// Length of an encoded header in the default suite: dh ‖ pn ‖ n.
pub const HEADER_LEN: usize = KEY_LEN + 4 + 4;

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
    /// The default suite's encoding: `dh (32) ‖ pn (u32 big-endian) ‖ n (u32 big-endian)`.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (dh, rest) = out.split_at_mut(KEY_LEN);
        let (pn, n) = rest.split_at_mut(4);
        dh.copy_from_slice(self.dh.as_bytes());
        pn.copy_from_slice(&self.pn.to_be_bytes());
        n.copy_from_slice(&self.n.to_be_bytes());
        out
    }

    /// Inverse of [`Header::encode`]; the input must be exactly 40 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let bytes: &[u8; HEADER_LEN] = bytes
            .try_into()
            .map_err(|_| Error::Malformed("a header is 40 bytes"))?;
        let (dh, rest) = bytes.split_at(KEY_LEN);
        let (pn, n) = rest.split_at(4);
        Ok(Header {
            dh: PublicKey::from_slice(dh)?,
            pn: u32::from_be_bytes(pn.try_into().map_err(|_| Error::Malformed("pn"))?),
            n: u32::from_be_bytes(n.try_into().map_err(|_| Error::Malformed("n"))?),
        })
    }
}
