//! What a run of the model depends on besides its actions: the suite under
//! test, the seed of its keys, how ratchet keys are drawn, and `MAX_SKIP`.

use std::hash::{Hash, Hasher};

use ratchetproof_protocol::consts::DEFAULT_MAX_STORED_SKIPPED_KEYS;
use ratchetproof_protocol::{DEFAULT_SUITE, Suite};

use super::keys::Randomness;

/// The model's default `MAX_SKIP`: small, so that a jump past it takes a few
/// actions rather than a thousand.
pub const MODEL_MAX_SKIP: u32 = 3;

/// The longest action sequence a run accepts.
pub const MAX_ACTIONS: usize = 1_000;

/// Which ratchet the sessions run: the Signal algorithm of the suite, or
/// Olm's (`olm-v1`, not a [`ratchetproof_protocol::CipherSuite`]:
/// docs/OLM-V1.md §10.4), whose sessions start from its triple DH and whose
/// oracle follows its own rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ratchet {
    /// The Double Ratchet of `SPEC.md`, in [`ModelConfig::suite`].
    Signal,
    /// Olm (docs/OLM-V1.md); the suite field is then unused.
    Olm,
}

/// Everything a run depends on besides its actions.
///
/// The suite is a value, not a name: the model takes every byte offset from
/// its [`message_layout`](ratchetproof_protocol::CipherSuite::message_layout),
/// so any suite — one of [`ratchetproof_protocol::suite::all`] or one
/// defined in a test — runs through the same properties.
#[derive(Clone, Copy, Debug)]
pub struct ModelConfig {
    /// The suite both parties' sessions use (with [`Ratchet::Signal`]).
    pub suite: Suite,
    /// The ratchet: the suite's Signal algorithm, or Olm's.
    pub ratchet: Ratchet,
    /// Seeds the shared key, associated data, Bob's prekey and, with
    /// [`Randomness::Fresh`], every ratchet key.
    pub seed: u64,
    /// How ratchet keys are drawn.
    pub randomness: Randomness,
    /// `MAX_SKIP` of every session.
    pub max_skip: u32,
    /// The cap on stored skipped keys of every session; the oracle evicts
    /// the oldest keys beyond it, as the reference does.
    pub max_stored_skipped_keys: u32,
}

impl ModelConfig {
    /// The default suite, fresh randomness from `seed`, [`MODEL_MAX_SKIP`].
    pub fn new(seed: u64) -> Self {
        Self {
            suite: &DEFAULT_SUITE,
            ratchet: Ratchet::Signal,
            seed,
            randomness: Randomness::Fresh,
            max_skip: MODEL_MAX_SKIP,
            max_stored_skipped_keys: DEFAULT_MAX_STORED_SKIPPED_KEYS,
        }
    }

    /// An `olm-v1` run from `seed`: fresh randomness, Olm's fixed limits
    /// (the gap of 2000 as `max_skip`, the 40 stored keys as the cap; they
    /// are Olm's constants, not settings).
    pub fn olm(seed: u64) -> Self {
        Self {
            ratchet: Ratchet::Olm,
            max_skip: ratchetproof_protocol::olm::MAX_MESSAGE_GAP,
            max_stored_skipped_keys: ratchetproof_protocol::olm::MAX_SKIPPED_KEYS as u32,
            ..Self::new(seed)
        }
    }

    /// The name of the suite the run is in (`olm-v1` for Olm).
    pub fn suite_name(&self) -> &'static str {
        match self.ratchet {
            Ratchet::Signal => self.suite.name(),
            Ratchet::Olm => ratchetproof_protocol::olm::NAME,
        }
    }

    /// The same with other limits.
    pub fn with_limits(self, max_skip: u32, max_stored_skipped_keys: u32) -> Self {
        Self {
            max_skip,
            max_stored_skipped_keys,
            ..self
        }
    }

    /// The same with other randomness.
    pub fn with_randomness(self, randomness: Randomness) -> Self {
        Self { randomness, ..self }
    }

    /// The same in another suite.
    pub fn with_suite(self, suite: Suite) -> Self {
        Self { suite, ..self }
    }
}

/// Suites compare by id and name (a suite is a `&'static dyn` value).
impl PartialEq for ModelConfig {
    fn eq(&self, other: &Self) -> bool {
        (self.suite.id(), self.suite.name()) == (other.suite.id(), other.suite.name())
            && self.ratchet == other.ratchet
            && (
                self.seed,
                self.randomness,
                self.max_skip,
                self.max_stored_skipped_keys,
            ) == (
                other.seed,
                other.randomness,
                other.max_skip,
                other.max_stored_skipped_keys,
            )
    }
}

impl Eq for ModelConfig {}

impl Hash for ModelConfig {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.suite.id(), self.suite.name(), self.ratchet).hash(state);
        (
            self.seed,
            self.randomness,
            self.max_skip,
            self.max_stored_skipped_keys,
        )
            .hash(state);
    }
}
