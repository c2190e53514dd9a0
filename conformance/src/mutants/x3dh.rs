//! The mutant's own X3DH and XEdDSA verification, written from SPEC.md §6
//! and §7.2 with curve25519-dalek and HKDF, not from the protocol crate's
//! `x3dh` and `xeddsa` modules — so each X3DH/XEdDSA [`Bug`] is one visible
//! deviation (search for `Bug::`) from the spec's steps.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use hkdf::Hkdf;
use ratchetproof_protocol::suite::INFO_X3DH;
use ratchetproof_protocol::x3dh::AD_LEN;
use ratchetproof_protocol::{Error, KeyPair, PublicKey, SharedKey};
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use std::collections::BTreeSet;

use super::{Bug, Bugs, Variant};

/// p = 2^255 − 19, little-endian.
const P: [u8; 32] = {
    let mut p = [0xFF; 32];
    p[0] = 0xED;
    p[31] = 0x7F;
    p
};

/// p − 1, little-endian.
const P_MINUS_ONE: [u8; 32] = {
    let mut p = P;
    p[0] = 0xEC;
    p
};

/// `x < y` for 256-bit little-endian integers.
fn less(x: &[u8; 32], y: &[u8; 32]) -> bool {
    x.iter().rev().cmp(y.iter().rev()) == std::cmp::Ordering::Less
}

/// SPEC §7.2: xeddsa_verify(u, M, R ‖ S), with libsignal's sign bit (§7.3)
/// unless `Variant::XeddsaSignZero`, and `s < q` required under
/// `Variant::XeddsaCanonicalS`.
pub(super) fn verify(
    bugs: &Bugs,
    variants: &BTreeSet<Variant>,
    u: &[u8; 32],
    m: &[u8],
    signature: &[u8],
) -> bool {
    let (Some(r_bytes), Some(s_bytes)) = (signature.get(..32), signature.get(32..64)) else {
        return false;
    };
    let (Ok(r_bytes), Ok(mut s)) = (<[u8; 32]>::try_from(r_bytes), <[u8; 32]>::try_from(s_bytes))
    else {
        return false;
    };
    // Step 1: the sign of A from bit 255 of S.
    let sign = if variants.contains(&Variant::XeddsaSignZero) {
        0
    } else {
        let sign = s[31] >> 7;
        s[31] &= 0x7F;
        sign
    };
    // Step 2: s < 2^253.
    if !bugs.contains(&Bug::XeddsaSBoundNotChecked) && s[31] & 0xE0 != 0 {
        return false;
    }
    // Variant::XeddsaCanonicalS: RFC 8032's s < q as well.
    if variants.contains(&Variant::XeddsaCanonicalS)
        && Option::<Scalar>::from(Scalar::from_canonical_bytes(s)).is_none()
    {
        return false;
    }
    // Step 3: u < p over all 256 bits.
    if !bugs.contains(&Bug::XeddsaNonCanonicalKeyAccepted) && !less(u, &P) {
        return false;
    }
    // Step 4: u = p − 1 has no y; otherwise y = (u − 1)/(u + 1) on the curve.
    let a = if *u == P_MINUS_ONE {
        if !bugs.contains(&Bug::XeddsaKeyMinusOneAccepted) {
            return false;
        }
        // What a field inversion by exponentiation gives: inv(0) = 0, y = 0.
        let mut y = [0u8; 32];
        y[31] = sign << 7;
        CompressedEdwardsY(y).decompress()
    } else {
        MontgomeryPoint(*u).to_edwards(sign)
    };
    let Some(a) = a else {
        return false;
    };
    // Step 5: h = SHA-512(R ‖ encode(A) ‖ M) mod q.
    let mut hash = Sha512::new();
    hash.update(r_bytes);
    hash.update(a.compress().as_bytes());
    hash.update(m);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&hash.finalize());
    let h = Scalar::from_bytes_mod_order_wide(&wide);
    // Step 6: encode(sB − hA) = R, byte for byte.
    let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &h,
        &(-a),
        &Scalar::from_bytes_mod_order(s),
    );
    if bugs.contains(&Bug::XeddsaRComparedAsPoint) {
        return CompressedEdwardsY(r_bytes).decompress() == Some(check);
    }
    check.compress().to_bytes() == r_bytes
}

/// SPEC §6.2 step 1.
pub(super) fn verify_bundle(
    bugs: &Bugs,
    variants: &BTreeSet<Variant>,
    identity: &PublicKey,
    signed_prekey: &PublicKey,
    signature: &[u8],
) -> Result<(), Error> {
    if verify(
        bugs,
        variants,
        identity.as_bytes(),
        &signed_prekey.encode(),
        signature,
    ) {
        Ok(())
    } else {
        Err(Error::InvalidSignature)
    }
}

/// The DH outputs of SPEC §6.2 step 3, as either party computes them:
/// `dh1`, `dh2`, `dh3` and the optional `dh4` closures give one output each.
pub(super) struct DhOutputs {
    pub(super) dh1: [u8; 32],
    pub(super) dh2: [u8; 32],
    pub(super) dh3: [u8; 32],
    pub(super) dh4: Option<[u8; 32]>,
}

/// SPEC §6.2 steps 4 and 5: SK and AD.
pub(super) fn agree(
    bugs: &Bugs,
    dh: &DhOutputs,
    alice: &PublicKey,
    bob: &PublicKey,
) -> (SharedKey, Vec<u8>) {
    let mut ikm = Zeroizing::new(Vec::with_capacity(160));
    if !bugs.contains(&Bug::X3dhFPrefixMissing) {
        ikm.extend_from_slice(&[0xFF; 32]);
    }
    ikm.extend_from_slice(&dh.dh1);
    ikm.extend_from_slice(&dh.dh2);
    ikm.extend_from_slice(&dh.dh3);
    if let Some(dh4) = &dh.dh4
        && !bugs.contains(&Bug::X3dhDh4Omitted)
    {
        ikm.extend_from_slice(dh4);
    }
    let mut sk = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit.
    let _ = Hkdf::<Sha256>::new(Some(&[0; 32]), &ikm).expand(INFO_X3DH, sk.as_mut_slice());
    let encode = |k: &PublicKey| -> Vec<u8> {
        if bugs.contains(&Bug::X3dhEncodeWithoutTypeByte) {
            k.as_bytes().to_vec()
        } else {
            k.encode().to_vec()
        }
    };
    let (first, second) = if bugs.contains(&Bug::X3dhAdOrderSwapped) {
        (bob, alice)
    } else {
        (alice, bob)
    };
    let mut ad = Vec::with_capacity(AD_LEN);
    ad.extend(encode(first));
    ad.extend(encode(second));
    (SharedKey::from_bytes(*sk), ad)
}

/// Alice's DH outputs (SPEC §6.2 step 3, left column).
pub(super) fn initiator_dh(
    identity: &KeyPair,
    ephemeral: &KeyPair,
    ikb: &PublicKey,
    spkb: &PublicKey,
    opkb: Option<&PublicKey>,
) -> Result<DhOutputs, Error> {
    Ok(DhOutputs {
        dh1: *identity.diffie_hellman(spkb)?.as_bytes(),
        dh2: *ephemeral.diffie_hellman(ikb)?.as_bytes(),
        dh3: *ephemeral.diffie_hellman(spkb)?.as_bytes(),
        dh4: match opkb {
            Some(k) => Some(*ephemeral.diffie_hellman(k)?.as_bytes()),
            None => None,
        },
    })
}

/// Bob's DH outputs (SPEC §6.2 step 3, right column).
pub(super) fn responder_dh(
    identity: &KeyPair,
    signed: &KeyPair,
    one_time: Option<&KeyPair>,
    ika: &PublicKey,
    eka: &PublicKey,
) -> Result<DhOutputs, Error> {
    Ok(DhOutputs {
        dh1: *signed.diffie_hellman(ika)?.as_bytes(),
        dh2: *identity.diffie_hellman(eka)?.as_bytes(),
        dh3: *signed.diffie_hellman(eka)?.as_bytes(),
        dh4: match one_time {
            Some(k) => Some(*k.diffie_hellman(eka)?.as_bytes()),
            None => None,
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::generate::x3dh::signatures;

    /// The two verifier variants refuse exactly the edge signature each is
    /// about, which the faithful path accepts, and nothing the spec signs.
    #[test]
    fn each_xeddsa_variant_refuses_only_its_edge_signature() {
        let m = b"message";
        let bugs = Bugs::new();
        let only = |v: Variant| BTreeSet::from([v]);
        let none = BTreeSet::new();
        let (identity, libsignal) = (0..64)
            .find_map(|i| {
                let pair = crate::generate::x3dh::pair(&format!("variant/{i}"));
                signatures::libsignal_sign(&pair, m, "t").map(|sig| (pair, sig))
            })
            .unwrap();
        let u = *identity.public_key().as_bytes();
        let unreduced = (0..64)
            .find_map(|i| signatures::s_plus_q(&identity, m, &format!("t{i}"), 1, 0))
            .unwrap();
        let spec = signatures::spec_sign(&identity, m, "t0");
        for sig in [&libsignal, &unreduced, &spec] {
            assert!(verify(&bugs, &none, &u, m, sig));
        }
        assert!(!verify(
            &bugs,
            &only(Variant::XeddsaSignZero),
            &u,
            m,
            &libsignal
        ));
        assert!(verify(
            &bugs,
            &only(Variant::XeddsaSignZero),
            &u,
            m,
            &unreduced
        ));
        assert!(verify(&bugs, &only(Variant::XeddsaSignZero), &u, m, &spec));
        assert!(!verify(
            &bugs,
            &only(Variant::XeddsaCanonicalS),
            &u,
            m,
            &unreduced
        ));
        assert!(verify(
            &bugs,
            &only(Variant::XeddsaCanonicalS),
            &u,
            m,
            &libsignal
        ));
        assert!(verify(
            &bugs,
            &only(Variant::XeddsaCanonicalS),
            &u,
            m,
            &spec
        ));
    }

    /// Each XEdDSA switch accepts exactly the signature built to isolate its
    /// rule, which the faithful path refuses (the vectors rely on this).
    #[test]
    fn each_xeddsa_switch_accepts_its_isolating_signature() {
        let m = b"message";
        let on = |bug: Bug| Bugs::from([bug]);
        let off = Bugs::new();
        let none = BTreeSet::new();
        let verify =
            |bugs: &Bugs, u: &[u8; 32], m: &[u8], sig: &[u8]| verify(bugs, &none, u, m, sig);
        let nine = signatures::sign_as_nine(m, "t");
        assert!(verify(&off, &signatures::NINE, m, &nine));
        for key in [signatures::NINE_PLUS_P, signatures::NINE_HIGH_BIT] {
            assert!(!verify(&off, &key, m, &nine));
            assert!(verify(
                &on(Bug::XeddsaNonCanonicalKeyAccepted),
                &key,
                m,
                &nine
            ));
        }
        let forged = signatures::forged_for_p_minus_one(m, "t").unwrap();
        assert!(!verify(&off, &signatures::P_MINUS_ONE, m, &forged));
        assert!(verify(
            &on(Bug::XeddsaKeyMinusOneAccepted),
            &signatures::P_MINUS_ONE,
            m,
            &forged
        ));
    }
}
