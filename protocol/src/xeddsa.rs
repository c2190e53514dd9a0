//! XEdDSA: EdDSA-compatible signatures made and checked with X25519 keys
//! (signal.org/docs/specifications/xeddsa, §2.3 and §3).
//!
//! Signing follows the specification exactly: the Edwards public key A has its
//! sign bit forced to 0, negating the private scalar where needed, so every
//! signature has the top bit of byte 63 clear.
//!
//! Verification follows the specification and additionally accepts the
//! convention of libsignal's `curve25519_sign` (used by python-axolotl,
//! libsignal-protocol-c and libsignal-node): the signer keeps its real Edwards
//! key and stores that key's sign bit in the top bit of signature byte 63. Since
//! `s < 2^253`, that bit is otherwise always zero, so the two conventions never
//! collide and a spec signature verifies unchanged. The test fixture
//! `tests/fixtures/xeddsa_python_axolotl.json` holds signatures of both kinds.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use rand_core::CryptoRng;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::consts::SIGNATURE_LEN;
use crate::keys::{PrivateKey, PublicKey};

/// `hash_1` of the spec: SHA-512 prefixed with 2^256 - 1 - 1 in little endian.
const HASH1_PREFIX: [u8; 32] = {
    let mut p = [0xFF; 32];
    p[0] = 0xFE;
    p
};

/// p = 2^255 - 19, little-endian.
const FIELD_PRIME: [u8; 32] = {
    let mut p = [0xFF; 32];
    p[0] = 0xED;
    p[31] = 0x7F;
    p
};

fn scalar_from_hash(parts: &[&[u8]]) -> Scalar {
    let mut hash = Sha512::new();
    for part in parts {
        hash.update(part);
    }
    let mut wide = Zeroizing::new([0u8; 64]);
    wide.copy_from_slice(&hash.finalize());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// calculate_key_pair(k): the Edwards public key A (sign bit 0) and the
/// private scalar a with A = aB.
fn calculate_key_pair(k: &PrivateKey) -> (CompressedEdwardsY, Zeroizing<Scalar>) {
    let clamped = Zeroizing::new(clamp_integer(*k.to_bytes()));
    let k = Zeroizing::new(Scalar::from_bytes_mod_order(*clamped));
    let e = EdwardsPoint::mul_base(&k).compress();
    let mut a_bytes = e.to_bytes();
    let sign = a_bytes[31] >> 7;
    a_bytes[31] &= 0x7F;
    let a = if sign == 1 { Zeroizing::new(-*k) } else { k };
    (CompressedEdwardsY(a_bytes), a)
}

/// xeddsa_sign(k, M, Z) with the 64 bytes of `Z` drawn from `rng`.
pub fn sign<R: CryptoRng + ?Sized>(
    key: &PrivateKey,
    message: &[u8],
    rng: &mut R,
) -> [u8; SIGNATURE_LEN] {
    let mut z = Zeroizing::new([0u8; 64]);
    rng.fill_bytes(z.as_mut_slice());
    sign_with_random(key, message, &z)
}

/// xeddsa_sign(k, M, Z) with `Z` given: deterministic, for known-answer tests.
pub fn sign_with_random(key: &PrivateKey, message: &[u8], z: &[u8; 64]) -> [u8; SIGNATURE_LEN] {
    let (a_pub, a) = calculate_key_pair(key);
    let r = Zeroizing::new(scalar_from_hash(&[&HASH1_PREFIX, a.as_bytes(), message, z]));
    let r_point = EdwardsPoint::mul_base(&r).compress();
    let h = scalar_from_hash(&[r_point.as_bytes(), a_pub.as_bytes(), message]);
    let s = *r + h * *a;
    let mut signature = [0u8; SIGNATURE_LEN];
    let (r_out, s_out) = signature.split_at_mut(32);
    r_out.copy_from_slice(r_point.as_bytes());
    s_out.copy_from_slice(s.as_bytes());
    signature
}

/// Whether `u` (little-endian) is below the field prime.
fn is_canonical_field_element(u: &[u8; 32]) -> bool {
    for (x, p) in u.iter().rev().zip(FIELD_PRIME.iter().rev()) {
        if x != p {
            return x < p;
        }
    }
    false
}

/// xeddsa_verify(u, M, (R ‖ s)), accepting libsignal's sign-bit convention (module docs).
pub fn verify(public: &PublicKey, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
    let (r_bytes, s_bytes) = signature.split_at(32);
    let (Ok(r_bytes), Ok(mut s_bytes)) =
        (<[u8; 32]>::try_from(r_bytes), <[u8; 32]>::try_from(s_bytes))
    else {
        return false;
    };
    let sign = s_bytes[31] >> 7;
    s_bytes[31] &= 0x7F;
    // s ≥ 2^|q| (2^253) or u ≥ p: reject.
    if s_bytes[31] & 0xE0 != 0 || !is_canonical_field_element(public.as_bytes()) {
        return false;
    }
    let Some(a) = MontgomeryPoint(*public.as_bytes()).to_edwards(sign) else {
        return false;
    };
    let h = scalar_from_hash(&[&r_bytes, a.compress().as_bytes(), message]);
    let s = Scalar::from_bytes_mod_order(s_bytes);
    let r_check = EdwardsPoint::vartime_double_scalar_mul_basepoint(&h, &(-a), &s);
    r_check.compress().to_bytes() == r_bytes
}
