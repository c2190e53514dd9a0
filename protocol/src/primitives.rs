//! The two hash-based primitives every suite builds on: HKDF-SHA256 (RFC 5869)
//! and HMAC-SHA256 (RFC 2104), with fixed output lengths so no call can fail.

use hkdf::Hkdf;
use hmac::digest::FixedOutput;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// `N` secret bytes, zeroized when dropped. Unlike `Zeroizing<[u8; N]>`,
/// whose array impl writes one volatile byte at a time, this clears the
/// bytes in one bulk write behind zeroize's optimization barrier.
pub(crate) struct Secret<const N: usize>(pub(crate) [u8; N]);

impl<const N: usize> core::ops::Deref for Secret<N> {
    type Target = [u8; N];

    fn deref(&self) -> &[u8; N] {
        &self.0
    }
}

impl<const N: usize> core::ops::DerefMut for Secret<N> {
    fn deref_mut(&mut self) -> &mut [u8; N] {
        &mut self.0
    }
}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

/// HKDF-SHA256 with an `N`-byte output. `salt = None` is RFC 5869's default,
/// a string of 32 zero bytes.
pub(crate) fn hkdf_sha256<const N: usize>(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
) -> Secret<N> {
    const { assert!(N <= 255 * 32, "HKDF-SHA256 output is at most 8160 bytes") };
    let mut okm = Secret([0u8; N]);
    // `expand` fails only for N > 255·HashLen, excluded at compile time above.
    let _ = Hkdf::<Sha256>::new(salt, ikm).expand(info, okm.as_mut_slice());
    okm
}

/// HKDF-SHA256 into two 32-byte keys (64 bytes of output), which the
/// caller moves into its key types before zeroizing `okm`.
pub(crate) fn hkdf_sha256_two_keys(salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [[u8; 32]; 2]) {
    // 64 bytes is within HKDF-SHA256's 8160, so `expand` cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, okm.as_flattened_mut());
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
