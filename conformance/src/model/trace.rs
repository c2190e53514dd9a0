//! What a run reports: the events it played, the keys that replay it, and
//! the first invariant it broke.

use std::fmt;

use crate::implementation::{ErrorClass, MessageType};
use crate::vectors::KeyAgreementSetup;

use super::action::{Action, Tamper};
use super::config::ModelConfig;

/// The property a run broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// The run could not start, or a party could not be captured.
    Setup,
    /// Encryption failed where it must succeed, or the reverse.
    Send,
    /// A genuine message did not decrypt exactly once to its plaintext.
    Delivery,
    /// A replay was not rejected as a duplicate.
    Duplicate,
    /// An altered message was accepted or rejected with the wrong class.
    Authenticity,
    /// A jump past `MAX_SKIP` was not rejected as too many skipped.
    SkipLimit,
    /// A rejected message changed the session.
    Atomicity,
    /// Serialized state did not round-trip exactly.
    RoundTrip,
    /// Two messages were encrypted under the same key and nonce.
    DistinctMessageKeys,
    /// A capture decrypted a message already processed by its state (by the
    /// victim before the capture, or by the capture itself).
    ForwardSecrecy,
    /// A capture decrypted what it must not, or failed what it must.
    PostCompromise,
}

/// The first broken invariant of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Index of the action at fault (`None`: setup).
    pub step: Option<usize>,
    /// That action, with its picks reduced to the indexes they selected.
    pub action: Option<Action>,
    /// What was broken.
    pub invariant: Invariant,
    /// Expected and observed, in words.
    pub detail: String,
    /// The same failure as the shortest equivalent run: the actions up to
    /// and including the failing one, with every pick reduced to the index it
    /// selected and actions that did nothing left out.
    pub effective_actions: Vec<Action>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.step, &self.action) {
            (Some(step), Some(action)) => write!(f, "step {step} ({action:?}): ")?,
            _ => write!(f, "setup: ")?,
        }
        write!(f, "{:?} violated: {}", self.invariant, self.detail)
    }
}

impl std::error::Error for Violation {}

/// A decryption's or encryption's result: bytes, or the error class.
pub type Outcome = Result<Vec<u8>, ErrorClass>;

/// How a delivered message came to its recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The genuine message, for the first time.
    Genuine,
    /// The genuine message again, after it was accepted.
    Replay,
    /// An altered copy.
    Tampered(Tamper),
    /// The genuine message, to a captured copy of its recipient.
    Eavesdrop,
}

/// What the subject did, step by step, in the terms of a scenario vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `party` encrypted `plaintext`.
    Send {
        /// Sender name.
        party: String,
        /// The plaintext.
        plaintext: Vec<u8>,
        /// The wire message, or the error.
        outcome: Outcome,
        /// The message's type where the suite types its messages (`olm-v1`).
        message_type: Option<MessageType>,
    },
    /// A message (index among successful sends) reached `party`, possibly altered.
    Deliver {
        /// Recipient name.
        party: String,
        /// The genuine message it derives from.
        message: usize,
        /// The altered bytes, when they differ from the genuine ones.
        bytes: Option<Vec<u8>>,
        /// The altered associated data, when it differs.
        ad: Option<Vec<u8>>,
        /// The plaintext, or the error.
        outcome: Outcome,
        /// Further error classes the oracle allows instead of `outcome`'s.
        alternatives: Vec<ErrorClass>,
        /// Whether the genuine plaintext is allowed too where `outcome` is
        /// a refusal (`olm-v1`: libolm and vodozemac keep different keys).
        or_plaintext: bool,
        /// The type the message was delivered as, where it differs from the
        /// type it was sent with or the bytes are not a sent message's.
        message_type: Option<MessageType>,
        /// How the message came.
        delivery: Delivery,
    },
    /// `victim`'s state was copied as the new party `name` (a capture, or a
    /// restore that then replaces the victim).
    Capture {
        /// Whose state.
        victim: String,
        /// The copy's name.
        name: String,
        /// Index of the copy (its key list in [`Trace::capture_keys`]).
        capture: usize,
        /// Whether the copy replaces its victim ([`Action::Restore`]).
        restore: bool,
    },
}

/// A completed run: what happened, and the keys the scenario needs to replay it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The configuration it ran under.
    pub config: ModelConfig,
    /// What happened, in order; dropped messages and actions that had no
    /// candidate leave no event.
    pub events: Vec<Event>,
    /// SK.
    pub shared_key: [u8; 32],
    /// AD.
    pub associated_data: Vec<u8>,
    /// Bob's initial ratchet (signed prekey) private key.
    pub bob_ratchet_private_key: [u8; 32],
    /// Alice's ratchet keys, trimmed to those she drew (untrimmed when the
    /// model could not count, under [`Randomness::AllZero`](super::keys::Randomness::AllZero)).
    pub alice_keys: Vec<[u8; 32]>,
    /// Bob's ratchet keys, likewise.
    pub bob_keys: Vec<[u8; 32]>,
    /// Each copy's ratchet keys (captures and restores, in the order they
    /// were made), likewise.
    pub capture_keys: Vec<Vec<[u8; 32]>>,
    /// Whether a stored skipped key was evicted (the cap was reached), so
    /// the run depends on the cap.
    pub evicted: bool,
    /// The most message keys one decryption skipped.
    pub longest_gap: usize,
    /// `olm-v1`: the triple DH's keys, from which the scenario starts (the
    /// shared key, AD and Bob's ratchet key above are then unused zeros).
    pub key_agreement: Option<KeyAgreementSetup>,
    /// The actions as they took effect: picks reduced to the index they
    /// selected, actions that did nothing left out. Replaying them gives
    /// the same run.
    pub effective_actions: Vec<Action>,
}
