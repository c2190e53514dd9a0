//! Finding and loading vector files. Reading one (JSON parse, JSON Schema
//! validation, then the typed structures) is `ratchetproof-vectors`'s job;
//! this module finds the files and names the file in every failure.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::vectors::{AnyFile, ReadError};

/// The JSON Schemas, compiled into the binary so an installed `ratchetproof`
/// validates files without the repository at hand (they live in the
/// `ratchetproof-vectors` crate, with the common schema they share).
pub use crate::vectors::SCHEMAS;

/// Why a vector file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading failed.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not JSON, or not the shape the schema describes.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the JSON pointer and tcId where known.
        message: String,
    },
}

fn invalid(path: &Path, message: impl Into<String>) -> LoadError {
    LoadError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Validates `doc` against the schema for `name`.
pub fn validate(path: &Path, name: &str, doc: &Value) -> Result<(), LoadError> {
    crate::vectors::validate_as(name, doc).map_err(|errors| {
        invalid(
            path,
            ReadError::Schema {
                name: name.into(),
                errors,
            }
            .to_string(),
        )
    })
}

/// Parses, validates and types one file's text.
pub fn parse(path: &Path, text: &str) -> Result<AnyFile, LoadError> {
    crate::vectors::parse(text).map_err(|e| invalid(path, e.to_string()))
}

/// Reads and parses one file.
pub fn load(path: &Path) -> Result<AnyFile, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Expands files and folders into the vector files below them (`*.json`
/// outside `schema/` folders), sorted.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(LoadError::Io {
                path: p.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| LoadError::Io {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "schema") {
                walk(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Where the default vectors are: `$RATCHETPROOF_VECTORS`, else a `vectors/`
/// folder (holding `schema/`) in the current directory or an ancestor, else
/// the repository this binary was built from. The error lists what was tried.
pub fn default_vectors_dir() -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    if let Some(dir) = std::env::var_os("RATCHETPROOF_VECTORS") {
        let dir = PathBuf::from(dir);
        if dir.is_dir() {
            return Ok(dir);
        }
        tried.push(format!("$RATCHETPROOF_VECTORS={}", dir.display()));
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let candidate = dir.join("vectors");
            if candidate.join("schema").is_dir() {
                return Ok(candidate);
            }
        }
        tried.push(format!("vectors/ in {} and its ancestors", cwd.display()));
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("vectors");
    if built.join("schema").is_dir() {
        return Ok(built);
    }
    tried.push(built.display().to_string());
    Err(format!(
        "no vectors found (tried {}); pass vector files or folders as arguments",
        tried.join(", ")
    ))
}
