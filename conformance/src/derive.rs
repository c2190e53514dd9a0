//! Key material derived from labels, for everything that needs fixed,
//! publicly known keys: the vector generator, live interop and the fuzz
//! bodies. It sits below all of them so none imports another for it.

use sha2::{Digest, Sha256};

/// A 32-byte key derived from a label: SHA-256("ratchetproof vectors v1/" ‖ label).
pub fn derived_key(label: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"ratchetproof vectors v1/");
    h.update(label.as_bytes());
    h.finalize().into()
}
