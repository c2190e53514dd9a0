//! What can happen in a scenario: the actions of the two parties, of the
//! network the adversary controls, and of the attacker who steals state.
//!
//! Actions are plain data so that three different producers can make them:
//! proptest strategies ([`super::strategy`]), fuzzers (`arbitrary`), and people
//! writing a regression case by hand. Every action is meaningful in every
//! state: an index such as `pick` selects among the candidates that exist at
//! that point (modulo their number), and an action with no candidate does
//! nothing. So any sequence is a valid scenario, and a shrinker may delete any
//! action without making the rest invalid.

use serde::{Deserialize, Serialize};

use crate::implementation::Role;

/// The most messages one [`Action::Lose`] sends: one past Olm's gap bound.
pub const MAX_LOSE: u16 = 2_002;

/// One of the two honest parties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The initiator (RatchetInitAlice).
    Alice,
    /// The responder (RatchetInitBob).
    Bob,
}

impl Party {
    /// The other party.
    pub fn peer(self) -> Party {
        match self {
            Party::Alice => Party::Bob,
            Party::Bob => Party::Alice,
        }
    }

    /// `"alice"` or `"bob"`, as scenario vectors name them.
    pub fn name(self) -> &'static str {
        self.role().as_str()
    }

    /// The session role.
    pub fn role(self) -> Role {
        match self {
            Party::Alice => Role::Alice,
            Party::Bob => Role::Bob,
        }
    }
}

/// One step of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `from` encrypts its next plaintext and hands the message to the network.
    Send {
        /// The sender.
        from: Party,
    },
    /// `from` sends `count` messages (at most [`MAX_LOSE`]) that the network
    /// loses at once: its next message lies `count` indexes further on. One
    /// action reaches what many sends would: long gaps (Olm's bound of 2000)
    /// and key stores past their cap (Olm's 40).
    Lose {
        /// The sender.
        from: Party,
        /// Messages sent and lost (modulo `MAX_LOSE + 1`).
        count: u16,
    },
    /// The network delivers one message still in flight to its recipient.
    /// Choosing any in-flight message, not the oldest, is what reorders and
    /// holds back messages.
    Deliver {
        /// Index among the messages in flight, in sending order.
        pick: u8,
    },
    /// The network delivers again a message its recipient already accepted.
    Replay {
        /// Index among the accepted messages, in sending order.
        pick: u8,
    },
    /// The network loses a message in flight for good.
    Drop {
        /// Index among the messages in flight.
        pick: u8,
    },
    /// The network delivers an altered copy of a message in flight; the genuine
    /// message stays in flight.
    Tamper {
        /// Index among the messages in flight.
        pick: u8,
        /// What is altered.
        field: Tamper,
    },
    /// The attacker copies a party's complete state. The copy is passive: it
    /// only ever tries to decrypt (see [`Action::Eavesdrop`]).
    Capture {
        /// Whose state is copied.
        victim: Party,
    },
    /// `party`'s state is saved and restored (what `clone_session` does:
    /// export and re-import), and the conversation goes on with the restored
    /// copy in its place. The copy draws the ratchet keys the party would
    /// have drawn next, so a faithful restore changes nothing.
    Restore {
        /// Whose state is restored.
        party: Party,
    },
    /// A captured copy tries to decrypt a message sent to its victim.
    Eavesdrop {
        /// Index among the captures made so far.
        capture: u8,
        /// Index among all messages sent to the capture's victim, in sending order.
        pick: u8,
    },
}

/// How a tampered copy differs from the genuine message. Every part of the
/// wire message is covered: version byte, each header field, ciphertext, tag,
/// the associated data it is checked under, and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum Tamper {
    /// The version byte is replaced by `value` (by 0xff where `value` is the genuine one).
    Version {
        /// The new version byte.
        value: u8,
    },
    /// One bit of the header's ratchet public key is flipped.
    RatchetKey {
        /// Byte index (modulo 32); bit 0 of that byte is flipped.
        byte: u8,
    },
    /// One bit of the header's `pn` is flipped.
    PreviousCounter {
        /// Bit index (modulo 32).
        bit: u8,
    },
    /// One bit of the header's `n` is flipped.
    Counter {
        /// Bit index (modulo 32).
        bit: u8,
    },
    /// One ciphertext byte is flipped (the tag, when the plaintext is empty).
    Ciphertext {
        /// Byte index (modulo the ciphertext length).
        byte: u8,
    },
    /// One byte of the authentication tag is flipped.
    Tag {
        /// Byte index (modulo the tag length).
        byte: u8,
    },
    /// The message is intact but delivered under altered associated data.
    AssociatedData {
        /// Byte index (modulo the AD length); the byte is flipped.
        byte: u8,
    },
    /// The header's `n` is set to 2^32 - 1, the number no sender ever uses
    /// (a fixed-width counter only; a varint counter is left alone).
    CounterMax,
    /// The message is cut short, below the length of version, header and tag.
    Truncate {
        /// Bytes kept (modulo that minimum length).
        keep: u8,
    },
}
