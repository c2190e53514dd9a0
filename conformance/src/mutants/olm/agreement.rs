//! The mutant's own X25519 and triple DH (docs/OLM-V1.md §3), on
//! curve25519-dalek rather than the protocol crate's `KeyPair::diffie_hellman`,
//! so the all-zero check can be left out: `Variant::OlmSmallOrderAccepted`
//! (libolm, finding L3; rejecting is optional hardening, §7).
//! `Bug::OlmOneTimeKeyIgnored` computes `S` without the one-time key.

use curve25519_dalek::montgomery::MontgomeryPoint;
use ratchetproof_protocol::olm::root_from_shared_secret;
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
    let mut secret = Vec::with_capacity(96);
    for (ours, theirs) in parts {
        secret.extend_from_slice(dh(ours, theirs, on)?.as_bytes());
    }
    Ok(root_from_shared_secret(&secret))
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
