//! Reading a vector file: JSON, then the schema, then the typed structures,
//! then the checks a schema cannot express (the test count, unique tcIds).
//! Whoever reads a file through here sees only files the schemas accept.

use serde_json::Value;

use crate::{
    AnyFile, OLDEST_SCHEMA_VERSION, PQXDH_ACCEPT_SCHEMA, PQXDH_SCHEMA, PRIMITIVES_SCHEMA,
    SCHEMA_VERSION, VectorFile, X3DH_ACCEPT_SCHEMA, X3DH_SCHEMA,
};

/// Why a text is not a usable vector file. The messages name the problem but
/// not the file; a caller that knows the path adds it.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
    /// JSON without `schema.name`.
    #[error("no schema.name: not a ratchetproof vector file")]
    NoSchemaName,
    /// A schema version this crate does not read.
    #[error(
        "schema version {0:?} is not supported (this runner reads versions {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION})"
    )]
    UnsupportedVersion(Option<u64>),
    /// Refused by the JSON Schema, or a schema this crate does not know.
    #[error("{}", schema_message(.name, .errors))]
    Schema {
        /// The schema the file names.
        name: String,
        /// The first problems, with JSON pointers and tcIds.
        errors: Vec<String>,
    },
    /// Accepted by the schema but not by the types (a gap between the two).
    #[error("{0}")]
    Shape(serde_json::Error),
    /// `numberOfTests` disagrees with `tests`.
    #[error("numberOfTests is {declared} but the file has {actual} tests")]
    Count {
        /// `numberOfTests`.
        declared: usize,
        /// `tests.len()`.
        actual: usize,
    },
    /// Two tests share a tcId.
    #[error("tcId {0} appears more than once")]
    DuplicateTcId(u32),
}

/// A schema refusal as one line; an unknown schema is its own message.
fn schema_message(name: &str, errors: &[String]) -> String {
    if crate::schema_text(name).is_none() {
        errors.join("; ")
    } else {
        format!("does not match schema {name}: {}", errors.join("; "))
    }
}

/// Parses, validates and types the text of one vector file.
pub fn parse(text: &str) -> Result<AnyFile, ReadError> {
    from_value(serde_json::from_str(text).map_err(ReadError::NotJson)?)
}

/// Validates and types one vector file already parsed as JSON.
pub fn from_value(doc: Value) -> Result<AnyFile, ReadError> {
    let name = doc
        .pointer("/schema/name")
        .and_then(Value::as_str)
        .ok_or(ReadError::NoSchemaName)?
        .to_string();
    let version = doc.pointer("/schema/version").and_then(Value::as_u64);
    // Version 1 is version 2 without alternatives, so both read the same way.
    if !version.is_some_and(|v| {
        (u64::from(OLDEST_SCHEMA_VERSION)..=u64::from(SCHEMA_VERSION)).contains(&v)
    }) {
        return Err(ReadError::UnsupportedVersion(version));
    }
    if let Err(errors) = crate::validate_as(&name, &doc) {
        return Err(ReadError::Schema { name, errors });
    }
    let file = match name.as_str() {
        PRIMITIVES_SCHEMA => AnyFile::Primitives(typed(doc)?),
        X3DH_SCHEMA => AnyFile::X3dh(typed(doc)?),
        X3DH_ACCEPT_SCHEMA => AnyFile::X3dhAccept(typed(doc)?),
        PQXDH_SCHEMA => AnyFile::Pqxdh(typed(doc)?),
        PQXDH_ACCEPT_SCHEMA => AnyFile::PqxdhAccept(typed(doc)?),
        _ => AnyFile::Scenarios(typed(doc)?),
    };
    let mut ids = file.tc_ids();
    ids.sort_unstable();
    if let Some(id) = ids
        .windows(2)
        .find_map(|w| w.first().filter(|first| w.get(1) == Some(*first)))
    {
        return Err(ReadError::DuplicateTcId(*id));
    }
    Ok(file)
}

fn typed<T: serde::de::DeserializeOwned>(doc: Value) -> Result<VectorFile<T>, ReadError> {
    let file: VectorFile<T> = serde_json::from_value(doc).map_err(ReadError::Shape)?;
    if file.number_of_tests != file.tests.len() {
        return Err(ReadError::Count {
            declared: file.number_of_tests,
            actual: file.tests.len(),
        });
    }
    Ok(file)
}
