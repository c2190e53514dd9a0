//! The shape of the known-bug catalogue: what one [`Entry`] says about a
//! mutant, and the `catalogue!` macro that turns the table in `bugs.rs` into
//! the [`Bug`] enum, [`Bug::ALL`] and [`Bug::entry`].
//!
//! One table instead of parallel `match` blocks: a mutant's name, summary,
//! where it deviates and which checks must catch it sit in one entry, so
//! adding a mutant is one entry there plus its behaviour (search for `Bug::`
//! in the session, AEAD, X3DH and prekey code). The compiler checks that
//! every entry fills every field.

use super::Bug;

/// Where a mutant deviates: the part of an implementation it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// `KDF_RK` or `KDF_CK` (spec §5.2), in every operation that uses them.
    Kdf,
    /// The message AEAD: its key, nonce and associated data (spec §5.2, §3.4).
    Aead,
    /// RatchetEncrypt / RatchetDecrypt: the DH ratchet, the counters and the
    /// skip bound (spec §3.4, §3.5).
    Ratchet,
    /// The store of skipped message keys (MKSKIPPED): what is stored, found,
    /// deleted and evicted.
    SkippedKeys,
    /// A session's saved copy: export, re-import and `clone_session`.
    SavedState,
    /// The initiator's check of the signed prekey's XEdDSA signature.
    Xeddsa,
    /// X3DH's key derivation and associated data (SPEC §6.2, §6.3).
    X3dh,
    /// The responder's prekey store (`x3dh_accept`, SPEC §6.5).
    PrekeyStore,
    /// `olm-v1`'s triple DH and the responder's use of the one-time key
    /// (docs/OLM-V1.md §3).
    OlmAgreement,
    /// `olm-v1`'s wire codec and message cipher (OLM-V1.md §1, §4).
    OlmMessage,
    /// `olm-v1`'s ratchet: chains, the gap bound, ratchet keys, pre-key
    /// messages, transactional decryption (OLM-V1.md §5).
    OlmRatchet,
    /// `olm-v1`'s store of skipped message keys (OLM-V1.md §5.1).
    OlmKeyStore,
}

impl Area {
    /// Whether the area is `olm-v1`'s (the mutant's second implementation).
    pub fn is_olm(self) -> bool {
        matches!(
            self,
            Area::OlmAgreement | Area::OlmMessage | Area::OlmRatchet | Area::OlmKeyStore
        )
    }
}

/// How the vectors must catch a mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByVectors {
    /// A case fails in the runner's default mode.
    DefaultMode,
    /// Only the error class differs from the spec's, which any refusal
    /// satisfies in default mode: a case fails with `--strict-errors`. The
    /// text says why nothing but the class shows.
    StrictOnly(&'static str),
}

/// Whether the scenario model's invariants catch a mutant when both parties
/// run it (`tests/broken_variants.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByModel {
    /// Some seeded model run breaks an invariant.
    Caught,
    /// The model cannot see it, for this reason; the vectors (fixed bytes
    /// from the reference) or the table's other properties do.
    Missed(MissedByModel),
}

/// Why the scenario model cannot see a mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissedByModel {
    /// The deviation is on the wire, and both parties share it consistently.
    BothSidesAgree,
    /// The model never restores a party from a saved copy.
    NeverRestores,
    /// The model starts sessions from a shared key: no X3DH, no signature.
    NoKeyAgreement,
    /// The model never accepts initial messages (no prekey store).
    NoInitialMessages,
    /// The model stays far below the stored-key cap, so no cap or eviction
    /// rule is reached.
    BelowStoredKeyCap,
    /// The model never exports a state; the mutant differs only there.
    NeverExports,
    /// The model never sends a message numbered 2^32 - 1.
    NoMaxCounter,
    /// It needs a message held back across two DH ratchet steps, which the
    /// model test's runs of the "everything" mix do not produce; the table's
    /// honest mix and the `DelayedChains` vectors do.
    NeedsTwoStepDelay,
    /// An `olm-v1` bug that only a correctly MACed message no honest Olm
    /// writes shows (an index of 2^32 or more, a plaintext not PKCS#7-padded,
    /// a ciphertext that is not whole blocks, a pre-key message naming the
    /// identity key as its one-time key): the model draws honest and
    /// tampered messages, which the MAC refuses. session_scenarios tcIds 51,
    /// 54, 55 and key_agreement tcId 17 catch them.
    CraftedOlmMessage,
    /// An `olm-v1` bound (gap 2000, 40 stored keys, five chains) that the
    /// model test's seeded Olm runs do not reach; explore's `olm-limits` and
    /// `olm-deep` shapes and the limit vectors do.
    OlmBoundNotReached,
    /// The model's captures only listen: a copy never sends, so it never
    /// computes the key the victim draws at its next send, and a ratchet key
    /// an attacker could derive from the captured root key looks fresh to it.
    /// The bytes the vectors and explore compare show it.
    PassiveCapture,
}

/// Everything the harness knows about one mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The bug class.
    pub bug: Bug,
    /// A stable kebab-case name for tables, reports and `--mutant`.
    pub name: &'static str,
    /// One line on what the bug does, for tables.
    pub summary: &'static str,
    /// Where it deviates.
    pub area: Area,
    /// How the vectors must catch it.
    pub vectors: ByVectors,
    /// Whether the scenario model catches it.
    pub model: ByModel,
    /// A property of the table's own checks (`mutant_table::properties`)
    /// that must catch it, where one is asserted.
    pub property: Option<&'static str>,
}

/// Builds [`Bug`] (each entry's doc comment documents its variant),
/// [`Bug::ALL`] in table order and [`Bug::entry`] from the table.
macro_rules! catalogue {
    ($(
        $(#[$doc:meta])*
        $bug:ident {
            name: $name:expr,
            summary: $summary:expr,
            area: $area:expr,
            vectors: $vectors:expr,
            model: $model:expr,
            property: $property:expr $(,)?
        }
    )*) => {
        /// A known bug class; its catalogue entry ([`Bug::entry`]) says what
        /// it breaks and what must catch it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Bug {
            $( $(#[$doc])* $bug, )*
        }

        /// How many bug classes the catalogue holds.
        const COUNT: usize = [$(stringify!($bug)),*].len();

        impl Bug {
            /// Every bug class, in the catalogue's order.
            pub const ALL: [Bug; COUNT] = [$(Bug::$bug),*];

            /// This bug's catalogue entry.
            pub const fn entry(self) -> &'static Entry {
                match self {
                    $(Bug::$bug => &Entry {
                        bug: Bug::$bug,
                        name: $name,
                        summary: $summary,
                        area: $area,
                        vectors: $vectors,
                        model: $model,
                        property: $property,
                    },)*
                }
            }
        }
    };
}

pub(super) use catalogue;

impl MissedByModel {
    /// The reason, as a sentence fragment for reports.
    pub fn reason(self) -> &'static str {
        match self {
            MissedByModel::BothSidesAgree => "on the wire only, and both parties agree",
            MissedByModel::NeverRestores => "the model never restores a party",
            MissedByModel::NoKeyAgreement => "the model starts sessions from a shared key",
            MissedByModel::NoInitialMessages => "the model never accepts initial messages",
            MissedByModel::BelowStoredKeyCap => "the model stays far below the stored-key cap",
            MissedByModel::NeverExports => "the model never exports a state",
            MissedByModel::NoMaxCounter => "the model never sends message number 2^32 - 1",
            MissedByModel::NeedsTwoStepDelay => {
                "needs a message held back across two DH ratchet steps"
            }
            MissedByModel::CraftedOlmMessage => {
                "needs a correctly MACed message no honest Olm writes"
            }
            MissedByModel::OlmBoundNotReached => {
                "the model test's Olm runs do not reach this bound; explore's shapes do"
            }
            MissedByModel::PassiveCapture => {
                "the model's captures only listen and never derive the victim's next key"
            }
        }
    }
}

impl Bug {
    /// The bug with this [`Bug::name`].
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }

    /// A stable kebab-case name for tables and reports.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// One line on what the bug does, for tables.
    pub fn summary(self) -> &'static str {
        self.entry().summary
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_entry_is_its_own_bug_and_names_are_unique_kebab_case() {
        let mut names = BTreeSet::new();
        for bug in Bug::ALL {
            let entry = bug.entry();
            assert_eq!(entry.bug, bug);
            assert!(names.insert(entry.name), "{} twice", entry.name);
            assert!(
                entry
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                entry.name
            );
            assert_eq!(Bug::from_name(entry.name), Some(bug));
            assert!(!entry.summary.is_empty());
        }
        assert_eq!(Bug::from_name("no-such-bug"), None);
    }

    /// The model starts sessions from a shared key and never accepts an
    /// initial message: a key-agreement or prekey-store bug it claimed to
    /// catch would be a wrong entry.
    #[test]
    fn handshake_bugs_are_recorded_as_invisible_to_the_model() {
        for bug in Bug::ALL {
            let entry = bug.entry();
            let expected = match entry.area {
                Area::Xeddsa | Area::X3dh => Some(MissedByModel::NoKeyAgreement),
                Area::PrekeyStore => Some(MissedByModel::NoInitialMessages),
                _ => None,
            };
            if let Some(why) = expected {
                assert_eq!(entry.model, ByModel::Missed(why), "{}", entry.name);
            }
        }
    }
}
