//! What a case needs from an implementation, as values a report can count.
//!
//! A case is skipped — never passed, never failed — when the implementation
//! does not declare something it needs. A skip that nobody notices is a false
//! pass of the whole run, so every reason is a [`Capability`] variant rather
//! than a sentence: the summary counts cases per undeclared capability, and
//! coverage requirements (`coverage.rs`) name them.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::implementation::{Capabilities, Operation};
use crate::vectors::{ErrorClass, InitialDelivery, Outcome, ScenarioCase, Setup, Step};

use super::CaseRef;

/// One thing a case needs that an implementation declares in its handshake.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "missing", rename_all = "snake_case")]
pub enum Capability {
    /// The suite the vector file is written in.
    Suite {
        /// Its name (the file's `suite` field).
        suite: String,
    },
    /// An operation group (`clone` is the handshake's `clone: true`).
    Operation {
        /// The group.
        #[serde(serialize_with = "operation_name")]
        group: Operation,
    },
    /// Ratchet keys taken from the injected lists (`injectedRandomness`).
    InjectedRandomness,
    /// The suite's own (classical) ratchet after PQXDH: an implementation
    /// that runs SPQR instead (`spqr: true`) cannot open its messages, so a
    /// case whose outcome is decided by decrypting one is skipped, never
    /// counted as passed or failed.
    ClassicalRatchet,
    /// Exactly these limits, declared or configurable (`configurableLimits`).
    Limits {
        /// MAX_SKIP the case assumes.
        #[serde(rename = "maxSkip")]
        max_skip: u32,
        /// Cap on stored skipped keys the case assumes.
        #[serde(rename = "maxStoredSkippedKeys")]
        max_stored_skipped_keys: u32,
        /// Whether the case shows eviction, so no cap at all does not do.
        #[serde(rename = "exactCap")]
        exact_cap: bool,
    },
}

fn operation_name<S: Serializer>(op: &Operation, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(op.as_str())
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::Suite { suite } => write!(f, "suite {suite}"),
            Capability::Operation {
                group: Operation::Clone,
            } => write!(f, "clone (`clone: true`)"),
            Capability::Operation { group } => write!(f, "operation group {}", group.as_str()),
            Capability::InjectedRandomness => {
                write!(f, "injected randomness (`injectedRandomness: true`)")
            }
            Capability::ClassicalRatchet => write!(
                f,
                "the suite's classical ratchet (the implementation runs SPQR, `spqr: true`; docs/SPQR.md)"
            ),
            Capability::Limits {
                max_skip,
                max_stored_skipped_keys,
                exact_cap,
            } => {
                let cap = if *exact_cap {
                    format!("exactly {max_stored_skipped_keys}")
                } else {
                    format!("{max_stored_skipped_keys} or no")
                };
                write!(
                    f,
                    "limits MAX_SKIP = {max_skip} and {cap} cap on stored skipped keys (declared, or `configurableLimits: true`)"
                )
            }
        }
    }
}

impl Capability {
    /// Whether `caps` declares it.
    pub fn declared_by(&self, caps: &Capabilities) -> bool {
        match self {
            Capability::Suite { suite } => caps.suites.iter().any(|s| s == suite),
            Capability::Operation { group } => caps.operations.contains(group),
            Capability::InjectedRandomness => caps.injected_randomness,
            Capability::ClassicalRatchet => !caps.spqr,
            Capability::Limits {
                max_skip,
                max_stored_skipped_keys,
                exact_cap,
            } => {
                // No cap on stored keys is at least any cap, except where the
                // case shows eviction: a case without the `Eviction` flag never
                // depends on a key having been evicted (tests/limits.rs).
                let cap_fits = match caps.max_stored_skipped_keys {
                    Some(cap) => cap == *max_stored_skipped_keys,
                    None => !exact_cap,
                };
                caps.configurable_limits || (caps.max_skip == Some(*max_skip) && cap_fits)
            }
        }
    }
}

fn operation(group: Operation) -> Capability {
    Capability::Operation { group }
}

/// Everything `case` of a file in `suite` needs, in a fixed order (suite,
/// operation groups, injected randomness, limits).
pub fn needs(suite: &str, case: CaseRef<'_>) -> Vec<Capability> {
    let mut needs = vec![Capability::Suite {
        suite: suite.to_string(),
    }];
    match case {
        CaseRef::Primitive(_) => needs.push(operation(Operation::Primitives)),
        CaseRef::X3dh(_) => needs.push(operation(Operation::X3dh)),
        CaseRef::X3dhAccept(_) => {
            needs.push(operation(Operation::X3dhAccept));
            needs.push(Capability::InjectedRandomness);
        }
        CaseRef::Pqxdh(_) => needs.push(operation(Operation::Pqxdh)),
        CaseRef::PqxdhAccept(c) => {
            // Bob sends nothing, so the keys he draws never show in an
            // outcome: no injected randomness needed. A case in which a first
            // message is accepted, or refused by its MAC, is decided by the
            // suite's ratchet; one refused before it (wire, ids, KEM
            // encoding, version) is not.
            needs.push(operation(Operation::PqxdhAccept));
            if c.initial_messages.iter().any(decided_by_ratchet) {
                needs.push(Capability::ClassicalRatchet);
            }
        }
        CaseRef::Scenario(c) => scenario_needs(c, &mut needs),
    }
    needs
}

fn scenario_needs(case: &ScenarioCase, needs: &mut Vec<Capability>) {
    // A key-agreement setup (olm-v1) builds its sessions with the prekey
    // operations; a shared-key setup with init_session.
    needs.push(operation(match case.setup {
        Setup::Ratchet(_) => Operation::Session,
        Setup::KeyAgreement(_) => Operation::Prekey,
    }));
    if case.steps.iter().any(|s| matches!(s, Step::Capture { .. })) {
        needs.push(operation(Operation::Clone));
    }
    needs.push(Capability::InjectedRandomness);
    if let Some(limits) = case.limits {
        needs.push(Capability::Limits {
            max_skip: limits.max_skip,
            max_stored_skipped_keys: limits.max_stored_skipped_keys,
            exact_cap: case.info.flags.iter().any(|f| f == "Eviction"),
        });
    }
}

/// Whether an initial message's outcome is decided by decrypting its first
/// message: it may be accepted, or refused by the MAC.
fn decided_by_ratchet(m: &InitialDelivery) -> bool {
    m.expected.outcomes().any(|o| {
        matches!(
            o,
            Outcome::Ok(_)
                | Outcome::Error {
                    error: ErrorClass::Authentication
                }
        )
    })
}

/// What of `needs` `caps` does not declare.
pub fn missing(caps: &Capabilities, needs: &[Capability]) -> Vec<Capability> {
    needs
        .iter()
        .filter(|n| !n.declared_by(caps))
        .cloned()
        .collect()
}
