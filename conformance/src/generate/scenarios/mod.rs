//! Session-scenario vectors: scripted conversations over an adversarial
//! network. Each scenario is built by driving the reference and asserting, at
//! every step, the outcome the protocol requires; a disagreement aborts
//! generation, so the vectors never silently record a reference bug.
//!
//! A new case family can be a child module of this one (it sees the
//! builder's private items): one file, one call in `file()`.

mod session_paths;

mod builder;

pub(crate) use builder::write_key_lists;
mod compromise;
mod conversation;
mod known_bug_gaps;
mod malformed;
mod replay;
mod restored;
pub(crate) mod sealed;
mod skip_limits;
mod tampering;

use std::collections::BTreeSet;

mod erasure;
mod forward_secrecy_copies;

use crate::generate::{GenerateError, flags, vector_file};
use crate::vectors::{SCENARIO_SCHEMA, ScenarioCase, VectorFile};
use builder::{ANY_REFUSAL, Cases, R, SMALL_ORDER_CLASSES, Scenario, ping_pong};
use ratchetproof_protocol::Suite;

pub(super) fn file(suite: Suite) -> Result<VectorFile<ScenarioCase>, GenerateError> {
    let mut c = Cases {
        suite,
        tests: Vec::new(),
        used: BTreeSet::new(),
    };
    conversation::in_order(&mut c)?;
    conversation::out_of_order(&mut c)?;
    conversation::across_ratchet(&mut c)?;
    conversation::delayed_chains(&mut c)?;
    conversation::message_loss(&mut c)?;
    compromise::forward_secrecy(&mut c)?;
    compromise::post_compromise(&mut c)?;
    tampering::tampering(&mut c)?;
    replay::replay(&mut c)?;
    skip_limits::skip_limits(&mut c)?;
    malformed::malformed(&mut c)?;
    restored::restored_sessions(&mut c)?;
    known_bug_gaps::known_bug_gaps(&mut c)?;
    forward_secrecy_copies::cases(&mut c)?;
    session_paths::cases(&mut c)?;
    let notes = flags::notes(c.used)?;
    Ok(vector_file(SCENARIO_SCHEMA, suite.name(), notes, c.tests))
}

/// Fills in every capture's `erasedSecrets` by replaying `steps` on a fresh
/// reference (see `erasure`); whether any capture lists a secret. The
/// explorer annotates its cases with it exactly as the generator does.
pub(crate) fn annotate_erasure(
    suite: ratchetproof_protocol::Suite,
    limits: Option<crate::vectors::Limits>,
    setup: &crate::vectors::ScenarioSetup,
    steps: &mut [crate::vectors::Step],
) -> Result<bool, String> {
    erasure::annotate(suite, limits, setup, steps)
}
