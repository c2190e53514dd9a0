//! The two hash-based primitives every suite builds on: HKDF-SHA256 (RFC 5869)
//! and HMAC-SHA256 (RFC 2104), with fixed output lengths so no call can fail.

use hkdf::Hkdf;
use hmac::digest::FixedOutput;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// HKDF-SHA256 with an `N`-byte output. `salt = None` is RFC 5869's default,
/// a string of 32 zero bytes.
pub(crate) fn hkdf_sha256<const N: usize>(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
) -> Zeroizing<[u8; N]> {
    const { assert!(N <= 255 * 32, "HKDF-SHA256 output is at most 8160 bytes") };
    let mut okm = Zeroizing::new([0u8; N]);
    // `expand` fails only for N > 255·HashLen, excluded at compile time above.
    let _ = Hkdf::<Sha256>::new(salt, ikm).expand(info, okm.as_mut_slice());
    okm
}

/// HMAC-SHA256 over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        for part in parts {
            mac.update(part);
        }
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

/// HMAC-SHA256 keyed once by `key` and applied to two messages: the key
/// schedule (two SHA-256 blocks) is computed once and its state cloned.
/// Each output is written straight into its destination, so no secret
/// temporary is left to zeroize.
pub(crate) fn hmac_sha256_twice(
    key: &[u8],
    (first, first_out): (&[u8], &mut [u8; 32]),
    (second, second_out): (&[u8], &mut [u8; 32]),
) {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    if let Ok(keyed) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        let mut mac = keyed.clone();
        mac.update(first);
        FixedOutput::finalize_into(mac, first_out.into());
        let mut mac = keyed;
        mac.update(second);
        FixedOutput::finalize_into(mac, second_out.into());
    }
}
