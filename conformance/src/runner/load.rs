//! Finding and loading vector files: JSON parse, JSON Schema validation, then
//! the typed structures. Every failure names the file and what is wrong.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::vectors::{
    AnyFile, OLDEST_SCHEMA_VERSION, PRIMITIVES_SCHEMA, SCENARIO_SCHEMA, SCHEMA_VERSION, VectorFile,
    X3DH_ACCEPT_SCHEMA, X3DH_SCHEMA,
};

/// The JSON Schemas, compiled into the binary so an installed `ratchetproof`
/// validates files without the repository at hand.
pub const SCHEMAS: [(&str, &str); 4] = [
    (
        PRIMITIVES_SCHEMA,
        include_str!("../../../vectors/schema/primitives.schema.json"),
    ),
    (
        X3DH_SCHEMA,
        include_str!("../../../vectors/schema/x3dh.schema.json"),
    ),
    (
        SCENARIO_SCHEMA,
        include_str!("../../../vectors/schema/session_scenario.schema.json"),
    ),
    (
        X3DH_ACCEPT_SCHEMA,
        include_str!("../../../vectors/schema/x3dh_accept.schema.json"),
    ),
];

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

/// The tcId of the test that a JSON pointer such as `/tests/12/steps/3` lies in.
fn tc_id_at(doc: &Value, pointer: &str) -> Option<u64> {
    let mut parts = pointer.split('/').skip(1);
    if parts.next()? != "tests" {
        return None;
    }
    let index: usize = parts.next()?.parse().ok()?;
    doc.get("tests")?.get(index)?.get("tcId")?.as_u64()
}

/// Validates `doc` against the schema for `name`.
pub fn validate(path: &Path, name: &str, doc: &Value) -> Result<(), LoadError> {
    let schema_text = SCHEMAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| invalid(path, format!("unknown schema {name:?}; known: {PRIMITIVES_SCHEMA}, {X3DH_SCHEMA}, {X3DH_ACCEPT_SCHEMA}, {SCENARIO_SCHEMA}")))?;
    let schema: Value = serde_json::from_str(schema_text)
        .map_err(|e| invalid(path, format!("built-in schema {name}: {e}")))?;
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| invalid(path, format!("built-in schema {name}: {e}")))?;
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .take(5)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            match tc_id_at(doc, &pointer) {
                Some(tc) => format!("tcId {tc}: {pointer}: {e}"),
                None => format!("{pointer}: {e}"),
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!("does not match schema {name}: {}", errors.join("; ")),
        ))
    }
}

fn typed<T: serde::de::DeserializeOwned>(
    path: &Path,
    doc: Value,
) -> Result<VectorFile<T>, LoadError> {
    let file: VectorFile<T> =
        serde_json::from_value(doc).map_err(|e| invalid(path, e.to_string()))?;
    if file.number_of_tests != file.tests.len() {
        return Err(invalid(
            path,
            format!(
                "numberOfTests is {} but the file has {} tests",
                file.number_of_tests,
                file.tests.len()
            ),
        ));
    }
    Ok(file)
}

/// Parses, validates and types one file's text.
pub fn parse(path: &Path, text: &str) -> Result<AnyFile, LoadError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| invalid(path, format!("not JSON: {e}")))?;
    let name = doc
        .pointer("/schema/name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(path, "no schema.name: not a ratchetproof vector file"))?
        .to_string();
    let version = doc.pointer("/schema/version").and_then(Value::as_u64);
    // Version 1 is version 2 without alternatives, so both read the same way.
    if !version.is_some_and(|v| {
        (u64::from(OLDEST_SCHEMA_VERSION)..=u64::from(SCHEMA_VERSION)).contains(&v)
    }) {
        return Err(invalid(
            path,
            format!(
                "schema version {version:?} is not supported (this runner reads versions {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION})"
            ),
        ));
    }
    validate(path, &name, &doc)?;
    let file = match name.as_str() {
        PRIMITIVES_SCHEMA => AnyFile::Primitives(typed(path, doc)?),
        X3DH_SCHEMA => AnyFile::X3dh(typed(path, doc)?),
        X3DH_ACCEPT_SCHEMA => AnyFile::X3dhAccept(typed(path, doc)?),
        _ => AnyFile::Scenarios(typed(path, doc)?),
    };
    let ids = file.tc_ids();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w.first() == w.get(1)) {
        return Err(invalid(
            path,
            format!(
                "tcId {} appears more than once",
                w.first().copied().unwrap_or(0)
            ),
        ));
    }
    Ok(file)
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
