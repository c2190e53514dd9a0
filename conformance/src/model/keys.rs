//! Where a scenario's keys come from. Every key is fixed before the run and
//! injected by role (entry k of a party's list is its k-th DH ratchet key, as
//! the vectors name them), so a run is reproducible and exports as a vector.
//!
//! The shared key, the associated data and Bob's signed prekey always come
//! from a seeded stream: they stand for X3DH's output and long-term keys, made
//! once with good randomness. Only the ratchet keys drawn during the
//! conversation follow [`Randomness`], which is what the bad-randomness
//! properties vary.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use ratchetproof_protocol::x3dh::AD_LEN;

/// How the parties' ratchet keys are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Randomness {
    /// ChaCha20 keyed by the scenario's public seed: good randomness as far
    /// as the protocol can tell, reproducible for the harness.
    Fresh,
    /// Predictable but never repeating: key k of role r holds r and k in
    /// clear. The attacker knows every key; healing is impossible, but
    /// correctness and authenticity must still hold.
    Counter,
    /// Every ratchet key is 32 zero bytes: a broken RNG. The receiver can no
    /// longer see a DH ratchet step (the new key equals the old one), so the
    /// spec's own algorithm loses correctness; authenticity must survive.
    AllZero,
}

impl Randomness {
    /// Whether distinct draws can repeat a key, which makes a DH ratchet step
    /// invisible to the receiver and the model unable to predict acceptance.
    pub fn repeats_keys(self) -> bool {
        matches!(self, Randomness::AllZero)
    }
}

/// Who a key stream belongs to. Distinct roles never share keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Shared key, associated data, Bob's signed prekey.
    Setup,
    Alice,
    Bob,
    /// The k-th capture.
    Capture(usize),
    /// The sessions the atomicity probe clones.
    Probe,
}

impl Role {
    fn id(self) -> u64 {
        match self {
            Role::Setup => 0,
            Role::Alice => 1,
            Role::Bob => 2,
            Role::Probe => 3,
            Role::Capture(k) => 4 + k as u64,
        }
    }
}

/// The first `count` keys of `role`'s stream under `randomness`.
pub(crate) fn ratchet_keys(
    randomness: Randomness,
    seed: u64,
    role: Role,
    count: usize,
) -> Vec<[u8; 32]> {
    match randomness {
        Randomness::Fresh => {
            let mut rng = stream(seed, role);
            (0..count).map(|_| draw(&mut rng)).collect()
        }
        Randomness::Counter => (0..count)
            .map(|k| {
                // Bytes 0..4 stay zero: X25519 clamping clears low bits of byte
                // 0, and must not merge two keys into one scalar.
                let mut key = [0u8; 32];
                let (_, rest) = key.split_at_mut(4);
                let (r, rest) = rest.split_at_mut(8);
                let (n, _) = rest.split_at_mut(8);
                r.copy_from_slice(&role.id().to_le_bytes());
                n.copy_from_slice(&(k as u64).to_le_bytes());
                key
            })
            .collect(),
        Randomness::AllZero => vec![[0u8; 32]; count],
    }
}

/// What a scenario starts from: X3DH's output and Bob's signed prekey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Secrets {
    pub(crate) shared_key: [u8; 32],
    pub(crate) associated_data: Vec<u8>,
    pub(crate) bob_ratchet_private_key: [u8; 32],
}

/// The setup secrets for `seed`, always from good randomness.
pub(crate) fn secrets(seed: u64) -> Secrets {
    let mut rng = stream(seed, Role::Setup);
    let shared_key = draw(&mut rng);
    let bob_ratchet_private_key = draw(&mut rng);
    // The shape of X3DH's AD: Encode(IKa) ‖ Encode(IKb), 0x05-prefixed keys.
    let mut associated_data = vec![0u8; AD_LEN];
    rng.fill_bytes(&mut associated_data);
    for prefix in associated_data.iter_mut().step_by(AD_LEN / 2) {
        *prefix = ratchetproof_protocol::consts::CURVE25519_KEY_TYPE;
    }
    Secrets {
        shared_key,
        associated_data,
        bob_ratchet_private_key,
    }
}

fn stream(seed: u64, role: Role) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    let (s, rest) = key.split_at_mut(8);
    let (r, _) = rest.split_at_mut(8);
    s.copy_from_slice(&seed.to_le_bytes());
    r.copy_from_slice(&role.id().to_le_bytes());
    ChaCha20Rng::from_seed(key)
}

fn draw(rng: &mut ChaCha20Rng) -> [u8; 32] {
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    key
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    use ratchetproof_protocol::{KeyPair, PrivateKey};

    fn public(k: [u8; 32]) -> [u8; 32] {
        *KeyPair::from_private(PrivateKey::from_bytes(k))
            .public_key()
            .as_bytes()
    }

    #[test]
    fn roles_never_share_keys_and_counter_keys_stay_distinct_after_clamping() {
        for randomness in [Randomness::Fresh, Randomness::Counter] {
            let mut all = std::collections::BTreeSet::new();
            for role in [Role::Alice, Role::Bob, Role::Capture(0), Role::Capture(1)] {
                for k in ratchet_keys(randomness, 7, role, 6) {
                    assert!(all.insert(public(k)), "{randomness:?} repeats a key");
                }
            }
        }
    }

    #[test]
    fn streams_are_reproducible_and_ad_has_the_x3dh_shape() {
        assert_eq!(secrets(3), secrets(3));
        assert_ne!(secrets(3).shared_key, secrets(4).shared_key);
        let ad = secrets(3).associated_data;
        assert_eq!(ad.len(), 66);
        assert_eq!((ad[0], ad[33]), (0x05, 0x05));
    }
}
