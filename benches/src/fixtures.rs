//! Established sessions for the benchmarks: the reference's, built from a seeded
//! RNG, and vodozemac's Olm sessions (which draw from the OS RNG; their timing
//! does not depend on the key values).
//!
//! "Established" means both parties have sent and received, and the receiver
//! has already processed one message on the sender's current chain, so the next
//! message is a plain chain step (no DH ratchet) on both implementations.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ratchetproof_protocol::x3dh::{self, AD_LEN, PreKeyBundle, Responder, start_session};
use ratchetproof_protocol::{DEFAULT_SUITE, KeyPair, PublicKey, Session, SessionConfig, Suite};
use vodozemac::olm::{Account, InboundCreationResult, OlmMessage, SessionConfig as OlmConfig};

/// A seeded RNG (ChaCha20), the kind the protocol tests use.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Alice and Bob after X3DH (with a one-time prekey) and a full round trip.
pub struct Pair {
    /// The initiator; her sending chain is established.
    pub alice: Session,
    /// The responder; his receiving chain is Alice's current sending chain.
    pub bob: Session,
    /// The X3DH associated data both pass to every message.
    pub ad: [u8; AD_LEN],
    /// The RNG for further DH ratchet steps.
    pub rng: ChaCha20Rng,
}

/// Builds an established [`Pair`] with the default suite and limits.
pub fn established_pair(seed: u64) -> Pair {
    established_pair_in(&DEFAULT_SUITE, seed)
}

/// Builds an established [`Pair`] with `suite` and the default limits.
pub fn established_pair_in(suite: Suite, seed: u64) -> Pair {
    let config = SessionConfig::default();
    let mut rng = rng(seed);
    let alice_id = KeyPair::generate(&mut rng);
    let mut responder = Responder::new(KeyPair::generate(&mut rng));
    responder.add_signed_prekey(1, KeyPair::generate(&mut rng));
    responder.add_one_time_prekey(7, KeyPair::generate(&mut rng));
    let bundle = responder.bundle(1, Some(7), &mut rng).unwrap();
    let (mut alice, initial) =
        start_session(suite, config, &alice_id, &bundle, b"hello", &mut rng).unwrap();
    let accepted = responder
        .accept(suite, config, &suite.encode_initial(&initial), &mut rng)
        .unwrap();
    let ad = accepted.associated_data;
    let mut bob = accepted.session;
    let reply = bob.encrypt(b"reply", &ad).unwrap();
    alice.decrypt(&reply, &ad, &mut rng).unwrap();
    let next = alice.encrypt(b"next", &ad).unwrap();
    bob.decrypt(&next, &ad, &mut rng).unwrap();
    Pair {
        alice,
        bob,
        ad,
        rng,
    }
}

/// The inputs of both halves of X3DH, with a one-time prekey (four DHs).
pub struct X3dhFixture {
    /// IKa.
    pub alice_identity: KeyPair,
    /// Bob's bundle, with a valid XEdDSA signature and a one-time prekey.
    pub bundle: PreKeyBundle,
    /// IKb.
    pub bob_identity: KeyPair,
    /// SPKb.
    pub signed_prekey: KeyPair,
    /// OPKb.
    pub one_time_prekey: KeyPair,
    /// EKa's public key, as Bob receives it.
    pub alice_ephemeral: PublicKey,
}

/// Builds an [`X3dhFixture`].
pub fn x3dh_fixture(seed: u64) -> X3dhFixture {
    let mut rng = rng(seed);
    let alice_identity = KeyPair::generate(&mut rng);
    let bob_identity = KeyPair::generate(&mut rng);
    let signed_prekey = KeyPair::generate(&mut rng);
    let one_time_prekey = KeyPair::generate(&mut rng);
    let bundle = PreKeyBundle {
        identity_key: *bob_identity.public_key(),
        signed_prekey_id: 1,
        signed_prekey: *signed_prekey.public_key(),
        signed_prekey_signature: x3dh::sign_prekey(
            &bob_identity,
            signed_prekey.public_key(),
            &mut rng,
        ),
        one_time_prekey: Some((7, *one_time_prekey.public_key())),
        kem_prekey: None,
    };
    let alice_ephemeral = *KeyPair::generate(&mut rng).public_key();
    X3dhFixture {
        alice_identity,
        bundle,
        bob_identity,
        signed_prekey,
        one_time_prekey,
        alice_ephemeral,
    }
}

/// A vodozemac Olm message on the wire: (message type, bytes).
pub type OlmWire = (usize, Vec<u8>);

/// Two vodozemac Olm sessions in the same established state as [`Pair`].
pub struct OlmPair {
    /// The session that created the outbound session.
    pub alice: vodozemac::olm::Session,
    /// The session created from Alice's pre-key message.
    pub bob: vodozemac::olm::Session,
}

/// Builds an established [`OlmPair`] (Olm v1, vodozemac's default).
pub fn olm_established_pair() -> OlmPair {
    let alice_account = Account::new();
    let mut bob_account = Account::new();
    bob_account.generate_one_time_keys(1);
    let one_time_key = *bob_account.one_time_keys().values().next().unwrap();
    bob_account.mark_keys_as_published();
    let mut alice = alice_account
        .create_outbound_session(
            OlmConfig::version_1(),
            bob_account.curve25519_key(),
            one_time_key,
        )
        .unwrap();
    let OlmMessage::PreKey(pre_key) = alice.encrypt(b"hello").unwrap() else {
        panic!("the first Olm message is a pre-key message");
    };
    let InboundCreationResult {
        session: mut bob, ..
    } = bob_account
        .create_inbound_session(
            OlmConfig::version_1(),
            alice_account.curve25519_key(),
            &pre_key,
        )
        .unwrap();
    let reply = bob.encrypt(b"reply").unwrap();
    alice.decrypt(&reply).unwrap();
    let next = alice.encrypt(b"next").unwrap();
    bob.decrypt(&next).unwrap();
    OlmPair { alice, bob }
}

/// vodozemac's encrypt, to wire bytes (the reference's `encrypt` returns wire bytes too).
pub fn olm_encrypt(session: &mut vodozemac::olm::Session, plaintext: &[u8]) -> OlmWire {
    session.encrypt(plaintext).unwrap().to_parts()
}

/// vodozemac's decrypt, from wire bytes (the reference's `decrypt` parses too).
pub fn olm_decrypt(session: &mut vodozemac::olm::Session, wire: &OlmWire) -> Vec<u8> {
    let message = OlmMessage::from_parts(wire.0, &wire.1).unwrap();
    session.decrypt(&message).unwrap()
}

/// DHs's private key as [`Session::to_bytes`] stores it, found in the bytes
/// rather than at a fixed offset: the first 32-byte window whose X25519 public
/// key is the session's ratchet public key. A layout change (state format v2
/// moved it) then cannot make the state floor read the wrong bytes; if the
/// state stops storing the key, this panics and says so.
pub fn state_ratchet_private_key(session: &Session) -> [u8; 32] {
    let bytes = session.to_bytes();
    let public = session.ratchet_public_key().as_bytes();
    bytes
        .windows(32)
        .find_map(|w| {
            let mut private = [0u8; 32];
            private.copy_from_slice(w);
            (&crate::floor::x25519_public(&private) == public).then_some(private)
        })
        .unwrap_or_else(|| {
            panic!(
                "the serialized session state ({} bytes, format version {}) holds no private key \
                 of the session's ratchet public key: the state layout changed (docs/SPEC.md §10); \
                 update the state-deserialize floor in benches/src/floor.rs",
                bytes.len(),
                bytes.get(4).copied().unwrap_or_default()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratchetproof_protocol::SIGNAL_V3_SUITE;

    #[test]
    fn the_state_holds_the_ratchet_private_key() {
        for suite in [&DEFAULT_SUITE as Suite, &SIGNAL_V3_SUITE] {
            let mut pair = established_pair_in(suite, 5);
            let private = state_ratchet_private_key(&pair.bob);
            assert_eq!(
                &crate::floor::x25519_public(&private),
                pair.bob.ratchet_public_key().as_bytes()
            );
            // Still found with skipped keys and previous chains stored.
            let pt = crate::plaintext(16);
            let late: Vec<_> = (0..3)
                .map(|_| pair.alice.encrypt(&pt, &pair.ad).unwrap())
                .collect();
            pair.bob.decrypt(&late[2], &pair.ad, &mut pair.rng).unwrap();
            let reply = pair.bob.encrypt(&pt, &pair.ad).unwrap();
            pair.alice.decrypt(&reply, &pair.ad, &mut pair.rng).unwrap();
            assert_eq!(pair.bob.skipped_key_count(), 2);
            for session in [&pair.alice, &pair.bob] {
                assert_eq!(
                    &crate::floor::x25519_public(&state_ratchet_private_key(session)),
                    session.ratchet_public_key().as_bytes()
                );
            }
        }
    }
}
