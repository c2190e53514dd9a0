//! The JSON Schemas, compiled into the crate, and validation against them.
//!
//! The schemas are the contract other languages read; this crate checks every
//! file against them before typing it, so the Rust types never see a file a
//! validator elsewhere would refuse. `common.schema.json` holds what the six
//! file schemas share (file and case headers, hex, error classes, the parts of
//! an expected outcome); the file schemas reach it by `$ref`. It is registered
//! as an in-memory resource and retrieval is switched off, so resolving a
//! reference never touches the network or the disk, and a reference that is
//! not registered fails to compile instead of validating nothing.

use std::sync::OnceLock;

use serde_json::Value;

use crate::{
    PQXDH_ACCEPT_SCHEMA, PQXDH_SCHEMA, PRIMITIVES_SCHEMA, SCENARIO_SCHEMA, X3DH_ACCEPT_SCHEMA,
    X3DH_SCHEMA,
};

/// `common.schema.json`: the definitions the file schemas share.
pub const COMMON_SCHEMA: &str = include_str!("../schema/common.schema.json");

/// The `$id` of [`COMMON_SCHEMA`], against which the file schemas' relative
/// `$ref`s (`common.schema.json#/$defs/…`) resolve.
pub const COMMON_SCHEMA_ID: &str = "https://ratchetproof.invalid/schema/common.schema.json";

/// Each file schema by the name a file gives in `schema.name`.
pub const SCHEMAS: [(&str, &str); 6] = [
    (
        PRIMITIVES_SCHEMA,
        include_str!("../schema/primitives.schema.json"),
    ),
    (X3DH_SCHEMA, include_str!("../schema/x3dh.schema.json")),
    (
        SCENARIO_SCHEMA,
        include_str!("../schema/session_scenario.schema.json"),
    ),
    (
        X3DH_ACCEPT_SCHEMA,
        include_str!("../schema/x3dh_accept.schema.json"),
    ),
    (PQXDH_SCHEMA, include_str!("../schema/pqxdh.schema.json")),
    (
        PQXDH_ACCEPT_SCHEMA,
        include_str!("../schema/pqxdh_accept.schema.json"),
    ),
];

/// How many schema errors a refusal lists: the first few name the problem,
/// and a file broken throughout would otherwise give thousands.
const MAX_ERRORS: usize = 5;

/// The text of the file schema named `name`, if there is one.
pub fn schema_text(name: &str) -> Option<&'static str> {
    SCHEMAS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The six file schemas, compiled against one common schema.
pub(crate) struct Validators(Vec<(&'static str, jsonschema::Validator)>);

/// Refuses every retrieval: all the schemas are registered up front.
struct NoRetrieval;

impl jsonschema::Retrieve for NoRetrieval {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!("{uri} is not a ratchetproof schema; retrieval is off").into())
    }
}

impl Validators {
    /// Compiles the file schemas with `common` registered as [`COMMON_SCHEMA_ID`].
    /// Tests pass a broken common schema here to show they notice it.
    pub(crate) fn compile(common: Value) -> Result<Self, String> {
        let registry = jsonschema::Registry::new()
            .retriever(NoRetrieval)
            .add(
                COMMON_SCHEMA_ID,
                jsonschema::Resource::from_contents(common),
            )
            .and_then(|builder| builder.prepare())
            .map_err(|e| format!("built-in schema common: {e}"))?;
        let options = jsonschema::options()
            .offline()
            .with_retriever(NoRetrieval)
            .with_registry(&registry);
        let mut validators = Vec::with_capacity(SCHEMAS.len());
        for (name, text) in SCHEMAS {
            let schema: Value =
                serde_json::from_str(text).map_err(|e| format!("built-in schema {name}: {e}"))?;
            let validator = options
                .build(&schema)
                .map_err(|e| format!("built-in schema {name}: {e}"))?;
            validators.push((name, validator));
        }
        Ok(Validators(validators))
    }

    /// The built-in schemas, compiled once per process.
    fn builtin() -> Result<&'static Self, String> {
        static BUILTIN: OnceLock<Result<Validators, String>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let common = serde_json::from_str(COMMON_SCHEMA)
                    .map_err(|e| format!("built-in schema common: {e}"))?;
                Validators::compile(common)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Validates `doc` against the schema its `schema.name` names.
    pub(crate) fn validate(&self, doc: &Value) -> Result<(), Vec<String>> {
        let name = doc
            .pointer("/schema/name")
            .and_then(Value::as_str)
            .ok_or_else(|| vec!["no schema.name: not a ratchetproof vector file".to_string()])?;
        self.validate_as(name, doc)
    }

    /// Validates `doc` against the schema named `name`.
    pub(crate) fn validate_as(&self, name: &str, doc: &Value) -> Result<(), Vec<String>> {
        let (_, validator) = self.0.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            vec![format!(
                "unknown schema {name:?}; known: {PRIMITIVES_SCHEMA}, {X3DH_SCHEMA}, {X3DH_ACCEPT_SCHEMA}, {PQXDH_SCHEMA}, {PQXDH_ACCEPT_SCHEMA}, {SCENARIO_SCHEMA}"
            )]
        })?;
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .take(MAX_ERRORS)
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
            Err(errors)
        }
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

/// Validates a vector file against the schema its `schema.name` names.
///
/// On refusal: the first few problems, each with its JSON pointer and, inside
/// a test, the test's tcId; or why the file names no known schema.
pub fn validate(doc: &Value) -> Result<(), Vec<String>> {
    Validators::builtin().map_err(|e| vec![e])?.validate(doc)
}

/// Validates `doc` against the file schema named `name` (one of the
/// `*_SCHEMA` constants), whatever the file says it is.
pub fn validate_as(name: &str, doc: &Value) -> Result<(), Vec<String>> {
    Validators::builtin()
        .map_err(|e| vec![e])?
        .validate_as(name, doc)
}

#[cfg(test)]
mod tests;
