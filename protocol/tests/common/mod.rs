//! Helpers shared by the protocol tests: deterministic RNGs and a ready session pair.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::convert::Infallible;

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};
use ratchetproof_protocol::x3dh::{Responder, start_session};
use ratchetproof_protocol::{DEFAULT_SUITE, KeyPair, Session, SessionConfig, Suite};

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Alice and Bob after X3DH (with a one-time prekey) and Alice's first message.
pub struct Pair {
    pub alice: Session,
    pub bob: Session,
    pub ad: Vec<u8>,
    pub rng: ChaCha20Rng,
}

pub fn pair_with(config: SessionConfig, seed: u64) -> Pair {
    pair_in(&DEFAULT_SUITE, config, seed)
}

/// As [`pair_with`], in any suite; the initial message goes through the
/// suite's own encoding.
pub fn pair_in(suite: Suite, config: SessionConfig, seed: u64) -> Pair {
    let mut rng = rng(seed);
    let alice_id = KeyPair::generate(&mut rng);
    let mut responder = Responder::new(KeyPair::generate(&mut rng));
    responder.add_signed_prekey(1, KeyPair::generate(&mut rng));
    responder.add_one_time_prekey(7, KeyPair::generate(&mut rng));
    let bundle = responder.bundle(1, Some(7), &mut rng).unwrap();
    let (alice, initial) =
        start_session(suite, config, &alice_id, &bundle, b"hello", &mut rng).unwrap();
    let accepted = responder
        .accept(suite, config, &suite.encode_initial(&initial), &mut rng)
        .unwrap();
    assert_eq!(accepted.plaintext, b"hello");
    Pair {
        alice,
        bob: accepted.session,
        ad: accepted.associated_data.to_vec(),
        rng,
    }
}

pub fn pair() -> Pair {
    pair_with(SessionConfig::default(), 1)
}

/// An RNG that hands out a fixed list of 32-byte private keys, one per 32-byte
/// request, in order (the protocol draws one per DH ratchet step). Any other
/// request, or one after the list runs out, gets zeros and sets `misused`.
/// The same contract as the conformance crate's `KeyQueueRng`, kept here so
/// the protocol tests do not depend on the conformance crate.
#[derive(Debug, Default, Clone)]
pub struct KeyQueueRng {
    keys: VecDeque<[u8; 32]>,
    misused: bool,
}

impl KeyQueueRng {
    pub fn new(keys: impl IntoIterator<Item = [u8; 32]>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            misused: false,
        }
    }

    /// Whether a request could not be served from the list.
    pub fn misused(&self) -> bool {
        self.misused
    }
}

impl TryRng for KeyQueueRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.misused = true;
        Ok(0)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.misused = true;
        Ok(0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match (dst.len(), self.keys.pop_front()) {
            (32, Some(key)) => dst.copy_from_slice(&key),
            _ => {
                dst.fill(0);
                self.misused = true;
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for KeyQueueRng {}
