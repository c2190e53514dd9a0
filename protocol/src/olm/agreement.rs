//! Olm's triple Diffie-Hellman: Alice's identity key `I_A` and fresh base key
//! `E_A` against Bob's identity key `I_B` and one of his one-time keys `E_B`.
//! There is no signed prekey and the one-time key is mandatory.
//!
//! `S = ECDH(I_A, E_B) ‖ ECDH(E_A, I_B) ‖ ECDH(E_A, E_B)`, 96 bytes, then
//! [`super::kdf::root_from_shared_secret`].

use zeroize::Zeroizing;

use crate::error::Result;
use crate::keys::{KeyPair, PublicKey};

/// The initiator's (Alice's) `S`.
pub fn initiator_secret(
    identity: &KeyPair,
    base: &KeyPair,
    their_identity: &PublicKey,
    their_one_time: &PublicKey,
) -> Result<Zeroizing<[u8; 96]>> {
    let parts = [
        identity.diffie_hellman(their_one_time)?,
        base.diffie_hellman(their_identity)?,
        base.diffie_hellman(their_one_time)?,
    ];
    Ok(concat(&parts))
}

/// The responder's (Bob's) `S`, the same bytes from the other side.
pub fn responder_secret(
    identity: &KeyPair,
    one_time: &KeyPair,
    their_identity: &PublicKey,
    their_base: &PublicKey,
) -> Result<Zeroizing<[u8; 96]>> {
    let parts = [
        one_time.diffie_hellman(their_identity)?,
        identity.diffie_hellman(their_base)?,
        one_time.diffie_hellman(their_base)?,
    ];
    Ok(concat(&parts))
}

fn concat(parts: &[crate::keys::DhOutput; 3]) -> Zeroizing<[u8; 96]> {
    let mut s = Zeroizing::new([0u8; 96]);
    for (chunk, part) in s.chunks_exact_mut(32).zip(parts) {
        chunk.copy_from_slice(part.as_bytes());
    }
    s
}
