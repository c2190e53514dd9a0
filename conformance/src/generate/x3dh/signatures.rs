//! Signatures that isolate one rule of XEdDSA verification (SPEC.md §7.2,
//! §7.3): each one satisfies every rule but the one it is named after, so an
//! implementation that skips exactly that rule accepts it.
//!
//! The reference only signs the spec's way; these are built here from the
//! equation `sB = R + hA` with curve25519-dalek, choosing the scalar `a`, the
//! nonce `r` or the key directly.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use ratchetproof_protocol::KeyPair;
use sha2::{Digest, Sha512};

use crate::generate::derived_key;

/// q, the order of the base point, little-endian.
const Q: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// p − 1 = 2^255 − 20, little-endian: the one u whose Edwards y is undefined.
pub const P_MINUS_ONE: [u8; 32] = {
    let mut p = [0xFF; 32];
    p[0] = 0xEC;
    p[31] = 0x7F;
    p
};

/// p + 9 = 2^255 − 10: the base point's u plus p (a non-canonical 9).
pub const NINE_PLUS_P: [u8; 32] = {
    let mut p = [0xFF; 32];
    p[0] = 0xF6;
    p[31] = 0x7F;
    p
};

/// 9 with bit 255 set.
pub const NINE_HIGH_BIT: [u8; 32] = {
    let mut p = [0; 32];
    p[0] = 9;
    p[31] = 0x80;
    p
};

/// The Montgomery base point u = 9, whose private scalar is 1.
pub const NINE: [u8; 32] = {
    let mut p = [0; 32];
    p[0] = 9;
    p
};

fn hash_scalar(parts: &[&[u8]]) -> Scalar {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&h.finalize());
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn nonce(label: &str) -> Scalar {
    hash_scalar(&[&derived_key(&format!("{label}/r"))])
}

/// `R ‖ s` for the Edwards key `a_enc` (whose scalar is `a`), message `m`, nonce `r`.
fn sign_raw(a: &Scalar, a_enc: &[u8; 32], m: &[u8], r: &Scalar) -> [u8; 64] {
    let big_r = EdwardsPoint::mul_base(r).compress();
    let h = hash_scalar(&[big_r.as_bytes(), a_enc, m]);
    let s = r + h * a;
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(big_r.as_bytes());
    out[32..].copy_from_slice(s.as_bytes());
    out
}

/// `x + k·q` as a 256-bit little-endian integer (the caller keeps it below 2^256).
fn add_q_times(x: &[u8], k: u16) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u32;
    for (i, o) in out.iter_mut().enumerate() {
        let v = u32::from(x.get(i).copied().unwrap_or(0))
            + u32::from(k) * u32::from(Q.get(i).copied().unwrap_or(0))
            + carry;
        *o = (v & 0xFF) as u8;
        carry = v >> 8;
    }
    out
}

/// A spec signature (SPEC §7.1) of `m` by `identity`, with `Z` from `label`.
pub fn spec_sign(identity: &KeyPair, m: &[u8], label: &str) -> [u8; 64] {
    let z: [u8; 64] = [
        derived_key(&format!("{label}/z0")),
        derived_key(&format!("{label}/z1")),
    ]
    .concat()
    .try_into()
    .unwrap_or([0; 64]);
    ratchetproof_protocol::xeddsa::sign_with_random(identity.private_key(), m, &z)
}

/// The spec signature of `m` by `identity` with `s` replaced by `s + k·q`:
/// the verification equation still holds (it works mod q). `None` when the
/// result does not have the wanted top bits (`top` = byte 31 & 0xE0).
pub fn s_plus_q(identity: &KeyPair, m: &[u8], label: &str, k: u16, top: u8) -> Option<[u8; 64]> {
    let sig = spec_sign(identity, m, label);
    let s = add_q_times(sig.get(32..)?, k);
    if s[31] & 0xE0 != top {
        return None;
    }
    let mut out = sig;
    out[32..].copy_from_slice(&s);
    Some(out)
}

/// libsignal's convention (SPEC §7.3): the signer's real Edwards key E and
/// scalar k, and E's sign bit stored in bit 255 of `S`. `None` when E's sign
/// bit is 0 (the signature would equal a spec one).
pub fn libsignal_sign(identity: &KeyPair, m: &[u8], label: &str) -> Option<[u8; 64]> {
    let k = Scalar::from_bytes_mod_order(clamp_integer(*identity.private_key().to_bytes()));
    let e = EdwardsPoint::mul_base(&k).compress();
    let sign = e.as_bytes()[31] >> 7;
    if sign == 0 {
        return None;
    }
    let mut sig = sign_raw(&k, e.as_bytes(), m, &nonce(label));
    sig[63] |= 0x80;
    Some(sig)
}

/// A valid signature of `m` under u = 9 (scalar a = 1, A = B with sign 0).
pub fn sign_as_nine(m: &[u8], label: &str) -> [u8; 64] {
    sign_raw(
        &Scalar::ONE,
        ED25519_BASEPOINT_POINT.compress().as_bytes(),
        m,
        &nonce(label),
    )
}

/// A signature under u = p − 1 that verifies if that u is converted as an
/// implementation with `inv(0) = 0` does: y = 0, a point A of order 4. `s`
/// is chosen, R = sB − tA for a guess t of h mod 4, kept when the guess holds.
pub fn forged_for_p_minus_one(m: &[u8], label: &str) -> Option<[u8; 64]> {
    let a_enc = [0u8; 32];
    let a = CompressedEdwardsY(a_enc).decompress()?;
    for i in 0..256u32 {
        let s = hash_scalar(&[&derived_key(&format!("{label}/s/{i}"))]);
        for t in 0..4u8 {
            let big_r = (EdwardsPoint::mul_base(&s) - Scalar::from(t) * a).compress();
            let h = hash_scalar(&[big_r.as_bytes(), &a_enc, m]);
            if h.as_bytes()[0] & 3 == t {
                let mut out = [0u8; 64];
                out[..32].copy_from_slice(big_r.as_bytes());
                out[32..].copy_from_slice(s.as_bytes());
                return Some(out);
            }
        }
    }
    None
}

/// A signature with the nonce r = 0, so R is the identity point, whose
/// encoding is replaced by `r_enc` (a non-canonical encoding of the same
/// point); `s = h·a` is computed over those bytes. Only a byte comparison of
/// R (SPEC §7.2 step 6) refuses it.
pub fn identity_r(identity: &KeyPair, m: &[u8], r_enc: [u8; 32]) -> [u8; 64] {
    let k = Scalar::from_bytes_mod_order(clamp_integer(*identity.private_key().to_bytes()));
    let e = EdwardsPoint::mul_base(&k).compress();
    let mut a_enc = *e.as_bytes();
    let a = if a_enc[31] >> 7 == 1 { -k } else { k };
    a_enc[31] &= 0x7F;
    let h = hash_scalar(&[&r_enc, &a_enc, m]);
    let s = h * a;
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&r_enc);
    out[32..].copy_from_slice(s.as_bytes());
    out
}

/// The smallest u ≥ 2 that is on the twist (no Edwards point has its y).
pub fn twist_u() -> [u8; 32] {
    (2u8..=255)
        .map(|u| {
            let mut b = [0u8; 32];
            b[0] = u;
            b
        })
        .find(|b| MontgomeryPoint(*b).to_edwards(0).is_none())
        .unwrap_or([2; 32])
}
