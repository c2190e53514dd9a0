//! The mutant's own X25519 and triple DH (docs/OLM-V1.md §3), on
//! curve25519-dalek rather than the protocol crate's `KeyPair::diffie_hellman`,
//! so the all-zero check can be left out: `Variant::OlmSmallOrderAccepted`
//! (libolm, finding L3; rejecting is optional hardening, §7).
//! `Bug::OlmOneTimeKeyIgnored` computes `S` without the one-time key;
//! `Bug::OlmKeyRolesSwapped` (Alice's identity and base keys in each
//! other's roles), `Bug::OlmTripleDhOrderSwapped`, `Bug::OlmRootInfoWrong` and
//! `Bug::OlmRootHalvesSwapped` get `S`'s order, the root HKDF's info or the
//! split of its output wrong on both sides, so the mutant talks to itself
//! and only known answers catch it.

use curve25519_dalek::montgomery::MontgomeryPoint;
use hkdf::Hkdf;
use ratchetproof_protocol::olm::{INFO_RATCHET, root_from_shared_secret};
use ratchetproof_protocol::{ChainKey, DhOutput, KeyPair, PublicKey, RootKey};
use sha2::{Digest, Sha256};

use super::{Bug, Switches, Variant};
use crate::implementation::{ErrorClass, ImplError, ImplResult};

/// X25519(clamp(ours), theirs), refusing an all-zero output unless libolm's
/// variant is on.
pub(super) fn dh(ours: &KeyPair, theirs: &PublicKey, on: &Switches) -> ImplResult<DhOutput> {
    let out = MontgomeryPoint(*theirs.as_bytes())
        .mul_clamped(*ours.private_key().to_bytes())
        .to_bytes();
    if out == [0; 32] && !on.variant(Variant::OlmSmallOrderAccepted) {
        return Err(ImplError::new(
            ErrorClass::InvalidKey,
            "a small-order key: the DH output is all zero",
        ));
    }
    Ok(DhOutput::from_bytes(out))
}

/// The three DH outputs in `S`'s order, each as (our key, their key).
fn root(parts: [(&KeyPair, &PublicKey); 3], on: &Switches) -> ImplResult<(RootKey, ChainKey)> {
    let mut outputs = Vec::with_capacity(3);
    for (ours, theirs) in parts {
        outputs.push(dh(ours, theirs, on)?);
    }
    if on.bug(Bug::OlmTripleDhOrderSwapped) {
        // ECDH(E_A, I_B) first, ECDH(I_A, E_B) second.
        outputs.swap(0, 1);
    }
    let secret: Vec<u8> = outputs.iter().flat_map(|d| *d.as_bytes()).collect();
    let (root, chain) = if on.bug(Bug::OlmRootInfoWrong) {
        let mut okm = [0u8; 64];
        let _ = Hkdf::<Sha256>::new(None, &secret).expand(INFO_RATCHET, &mut okm);
        let (r, c) = okm.split_at(32);
        (
            RootKey::from_bytes(r.try_into().unwrap_or([0; 32])),
            ChainKey::from_bytes(c.try_into().unwrap_or([0; 32])),
        )
    } else {
        root_from_shared_secret(&secret)
    };
    if on.bug(Bug::OlmRootHalvesSwapped) {
        return Ok((
            RootKey::from_bytes(*chain.as_bytes()),
            ChainKey::from_bytes(*root.as_bytes()),
        ));
    }
    Ok((root, chain))
}

/// Alice: `ECDH(I_A, E_B) ‖ ECDH(E_A, I_B) ‖ ECDH(E_A, E_B)`.
pub(super) fn initiator(
    identity: &KeyPair,
    base: &KeyPair,
    their_identity: &PublicKey,
    their_one_time: &PublicKey,
    on: &Switches,
) -> ImplResult<(RootKey, ChainKey)> {
    if on.bug(Bug::OlmOneTimeKeyIgnored) {
        return root(
            [
                (identity, their_identity),
                (base, their_identity),
                (identity, their_identity),
            ],
            on,
        );
    }
    if on.bug(Bug::OlmKeyRolesSwapped) {
        return root(
            [
                (base, their_one_time),
                (identity, their_identity),
                (identity, their_one_time),
            ],
            on,
        );
    }
    root(
        [
            (identity, their_one_time),
            (base, their_identity),
            (base, their_one_time),
        ],
        on,
    )
}

/// Bob: the same bytes from his side.
pub(super) fn responder(
    identity: &KeyPair,
    one_time: &KeyPair,
    their_identity: &PublicKey,
    their_base: &PublicKey,
    on: &Switches,
) -> ImplResult<(RootKey, ChainKey)> {
    if on.bug(Bug::OlmOneTimeKeyIgnored) {
        return root(
            [
                (identity, their_identity),
                (identity, their_base),
                (identity, their_identity),
            ],
            on,
        );
    }
    if on.bug(Bug::OlmKeyRolesSwapped) {
        return root(
            [
                (one_time, their_base),
                (identity, their_identity),
                (one_time, their_identity),
            ],
            on,
        );
    }
    root(
        [
            (one_time, their_identity),
            (identity, their_base),
            (one_time, their_base),
        ],
        on,
    )
}

/// `SHA-256(I_A ‖ E_A ‖ E_B)`.
pub(super) fn session_id(identity: &PublicKey, base: &PublicKey, one_time: &PublicKey) -> [u8; 32] {
    Sha256::new()
        .chain_update(identity.as_bytes())
        .chain_update(base.as_bytes())
        .chain_update(one_time.as_bytes())
        .finalize()
        .into()
}
