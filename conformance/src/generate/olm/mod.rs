//! `olm-v1` vectors (docs/OLM-V1.md): session scenarios that start from
//! Olm's key agreement, and the primitives Olm shares with the vector kind.
//!
//! Olm is not a `CipherSuite` (its ratchet does not fit the Signal-shaped
//! seams, docs/OLM-V1.md §10), so the suite-generic families of
//! `generate/scenarios/` cannot build it; these families play
//! `protocol::olm::OlmSession` through the reference's `olm-v1` sessions
//! (`crate::reference`, the same operations a shim answers), with keys
//! derived from labels. Every case is replayed through the runner against a
//! fresh reference before it is kept, so a file never states what the
//! harness would judge differently.
//!
//! One file per family; [`files`] lists them in order. The key agreement's
//! own cases (`agreement.rs`) go to `key_agreement.json`, the counterpart of
//! the Signal suites' `x3dh.json`.

mod agreement;
mod builder;
mod compromise;
mod conversation;
mod edge;
mod limits;
mod primitives;
mod replay;
mod tampering;

use std::path::PathBuf;

use ratchetproof_protocol::olm::NAME;

use super::{GenerateError, GeneratedFile, flags, to_json, vector_file};
use crate::vectors::SCENARIO_SCHEMA;
use builder::Cases;

/// The `olm-v1` vector files, in the folder named after the suite.
pub fn files() -> Result<Vec<GeneratedFile>, GenerateError> {
    let dir = PathBuf::from(NAME);
    let mut c = Cases::default();
    conversation::in_order(&mut c)?;
    conversation::out_of_order(&mut c)?;
    conversation::loss(&mut c)?;
    conversation::prekey_messages(&mut c)?;
    replay::replay(&mut c)?;
    tampering::tampering(&mut c)?;
    limits::limits(&mut c)?;
    compromise::forward_secrecy(&mut c)?;
    compromise::post_compromise(&mut c)?;
    // Appended, so the earlier families keep their tcIds.
    edge::edge_cases(&mut c)?;
    let notes = flags::notes(c.used.iter().copied())?;
    let scenarios = vector_file(SCENARIO_SCHEMA, NAME, notes, c.tests);
    let mut k = Cases::default();
    agreement::cases(&mut k)?;
    let notes = flags::notes(k.used.iter().copied())?;
    let key_agreement = vector_file(SCENARIO_SCHEMA, NAME, notes, k.tests);
    Ok(vec![
        GeneratedFile {
            path: dir.join("primitives.json"),
            contents: to_json(&primitives::file()?, "olm primitives")?,
        },
        GeneratedFile {
            path: dir.join("session_scenarios.json"),
            contents: to_json(&scenarios, "olm session_scenarios")?,
        },
        GeneratedFile {
            path: dir.join("key_agreement.json"),
            contents: to_json(&key_agreement, "olm key_agreement")?,
        },
    ])
}
