//! `ratchetproof generate`: writes every vector file from the reference,
//! deterministically. All key material is derived from fixed labels
//! ([`derived_key`]), so regenerating gives byte-identical files and
//! `--check` can compare them with what is committed.

pub(crate) mod accept;
pub mod flags;
mod olm;
mod pqxdh;
mod pqxdh_accept;
pub(crate) mod primitives;
pub mod rules;
mod scenarios;

pub(crate) use scenarios::{annotate_erasure, sealed};
pub(crate) mod x3dh;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratchetproof_protocol::Suite;
use serde::Serialize;

use crate::vectors::{Note, SCHEMA_VERSION, SchemaId, VectorFile};

/// One generated file: where it goes below the vectors folder, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the vectors folder.
    pub path: PathBuf,
    /// Pretty-printed JSON with a trailing newline.
    pub contents: String,
}

/// Errors of generation: the reference disagreed with what a vector asserts,
/// or a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The reference did not behave as the vector under construction states.
    #[error("vector tcId {tc_id} ({comment}): {message}")]
    Disagreement {
        /// The case being built.
        tc_id: u32,
        /// Its comment.
        comment: String,
        /// What went wrong.
        message: String,
    },
    /// Serialization failed.
    #[error("serializing {0}: {1}")]
    Json(String, serde_json::Error),
    /// Writing failed.
    #[error("writing {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

pub use crate::derive::derived_key;

/// The generator string recorded in every file.
pub fn generator_name() -> String {
    format!("ratchetproof-protocol {}", env!("CARGO_PKG_VERSION"))
}

pub(crate) fn note(bug_type: &str, description: &str, links: &[&str]) -> Note {
    Note {
        bug_type: bug_type.into(),
        description: description.into(),
        links: links.iter().map(|l| (*l).to_string()).collect(),
    }
}

pub(crate) fn vector_file<T>(
    schema: &str,
    suite: &str,
    notes: BTreeMap<String, Note>,
    tests: Vec<T>,
) -> VectorFile<T> {
    VectorFile {
        schema: SchemaId {
            name: schema.into(),
            version: SCHEMA_VERSION,
        },
        suite: suite.into(),
        generator: generator_name(),
        number_of_tests: tests.len(),
        notes,
        tests,
    }
}

/// Pretty JSON (two-space indent) with a trailing newline.
pub fn to_json<T: Serialize>(value: &T, name: &str) -> Result<String, GenerateError> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| GenerateError::Json(name.into(), e))?;
    text.push('\n');
    Ok(text)
}

/// Builds every vector file in memory: each suite's files, then the
/// rule table over all of them.
pub fn generate() -> Result<Vec<GeneratedFile>, GenerateError> {
    let mut files = Vec::new();
    for suite in ratchetproof_protocol::suite::all() {
        files.extend(suite_files(suite)?);
    }
    let table = rules::render(&files)?;
    files.push(table);
    // olm-v1 is not a CipherSuite (docs/OLM-V1.md §10): its own families,
    // outside the rule table, which cites only SPEC.md and SIGNAL-V3.md.
    files.extend(olm::files()?);
    Ok(files)
}

/// The vector files of one suite, in the folder named after it. Works for
/// any suite: every family asks the suite (its wire encoding, its message
/// layout, what it refuses) rather than knowing it.
///
/// The key-agreement families follow the suite's agreement: X3DH's
/// (`x3dh.json`, `x3dh_accept.json`) for an agreement without a KEM,
/// PQXDH's (`pqxdh.json`, `pqxdh_accept.json`) for one with a KEM.
pub fn suite_files(suite: Suite) -> Result<Vec<GeneratedFile>, GenerateError> {
    let dir = PathBuf::from(suite.name());
    let mut files = vec![GeneratedFile {
        path: dir.join("primitives.json"),
        contents: to_json(&primitives::file(suite)?, "primitives")?,
    }];
    let x3dh = suite.key_agreement().kem().is_none();
    if x3dh {
        files.push(GeneratedFile {
            path: dir.join("x3dh.json"),
            contents: to_json(&x3dh::file(suite)?, "x3dh")?,
        });
    } else {
        files.push(GeneratedFile {
            path: dir.join("pqxdh.json"),
            contents: to_json(&pqxdh::file(suite)?, "pqxdh")?,
        });
    }
    files.push(GeneratedFile {
        path: dir.join("session_scenarios.json"),
        contents: to_json(&scenarios::file(suite)?, "session_scenarios")?,
    });
    if x3dh {
        files.push(GeneratedFile {
            path: dir.join("x3dh_accept.json"),
            contents: to_json(&accept::file(suite)?, "x3dh_accept")?,
        });
    } else {
        files.push(GeneratedFile {
            path: dir.join("pqxdh_accept.json"),
            contents: to_json(&pqxdh_accept::file(suite)?, "pqxdh_accept")?,
        });
    }
    Ok(files)
}

/// Writes the generated files below `out`.
pub fn write(out: &Path, files: &[GeneratedFile]) -> Result<(), GenerateError> {
    for f in files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| GenerateError::Io(parent.into(), e))?;
        }
        std::fs::write(&path, &f.contents).map_err(|e| GenerateError::Io(path.clone(), e))?;
    }
    Ok(())
}

/// The generated files whose committed copy below `out` differs or is missing.
pub fn check(out: &Path, files: &[GeneratedFile]) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|f| std::fs::read_to_string(out.join(&f.path)).ok().as_deref() != Some(&f.contents))
        .map(|f| f.path.clone())
        .collect()
}
