//! The shim protocol's framing (`docs/SHIM.md`), shared by the client (the
//! runner's side) and the server (a Rust implementation's side).
//!
//! One request or response per line, JSON. A request line is `{"id": N,
//! "op": "...", ...fields}`: the operations and their fields are
//! [`crate::implementation::Request`] (the one list of them); this module
//! adds only what every line has — the `id`, the handshake, `reset`, and
//! the response's `result` or `error`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::implementation::{Capabilities, Operation};

pub use crate::implementation::{ErrorBody, Request, Response};

/// Version of the protocol this crate speaks (the handshake's `protocol`).
pub const PROTOCOL_VERSION: u32 = 1;

/// The requests that are not operations of an implementation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Control {
    /// First request on every process: the shim answers with [`Handshake`].
    Handshake {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
    },
    /// Drop every session → `{}`.
    Reset {},
}

/// A request line as written: the `id` and the request's own fields
/// (a [`Request`] or a [`Control`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestLine<'a, T> {
    /// Echoed in the response.
    pub id: u64,
    /// The operation and its fields.
    #[serde(flatten)]
    pub request: &'a T,
}

/// A response line, as read: exactly one of `result` and `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseLine {
    /// The request's id.
    pub id: u64,
    /// The operation's output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The implementation's refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The handshake result: what the shim declares about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    /// Protocol version the shim speaks; absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u32>,
    /// Implementation name.
    pub name: String,
    /// Implementation version.
    pub version: String,
    /// Suite names.
    pub suites: Vec<String>,
    /// Operation groups ([`Operation::as_str`]; unknown names are ignored).
    pub operations: Vec<String>,
    /// Fixed `MAX_SKIP`, if any.
    #[serde(default)]
    pub max_skip: Option<u32>,
    /// Fixed stored-skipped-key cap, if any.
    #[serde(default)]
    pub max_stored_skipped_keys: Option<u32>,
    /// Honours `maxSkip`/`maxStoredSkippedKeys` in `init_session`.
    #[serde(default)]
    pub configurable_limits: bool,
    /// Takes injected ratchet private keys.
    #[serde(default)]
    pub injected_randomness: bool,
    /// Supports `clone_session`.
    #[serde(default)]
    pub clone: bool,
    /// Runs SPQR after PQXDH ([`Capabilities::spqr`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spqr: bool,
}

impl Handshake {
    /// The runner's view of the declaration.
    pub fn capabilities(&self) -> Capabilities {
        let mut operations: std::collections::BTreeSet<Operation> = self
            .operations
            .iter()
            .filter_map(|name| Operation::from_name(name))
            .collect();
        if self.clone {
            operations.insert(Operation::Clone);
        }
        Capabilities {
            name: self.name.clone(),
            version: self.version.clone(),
            suites: self.suites.clone(),
            operations,
            max_skip: self.max_skip,
            max_stored_skipped_keys: self.max_stored_skipped_keys,
            configurable_limits: self.configurable_limits,
            injected_randomness: self.injected_randomness,
            spqr: self.spqr,
        }
    }

    /// The declaration that states `caps` (`clone` as its own flag).
    pub fn from_capabilities(caps: &Capabilities) -> Self {
        Self {
            protocol: Some(PROTOCOL_VERSION),
            name: caps.name.clone(),
            version: caps.version.clone(),
            suites: caps.suites.clone(),
            operations: caps
                .operations
                .iter()
                .filter(|op| **op != Operation::Clone)
                .map(|op| op.as_str().to_string())
                .collect(),
            max_skip: caps.max_skip,
            max_stored_skipped_keys: caps.max_stored_skipped_keys,
            configurable_limits: caps.configurable_limits,
            injected_randomness: caps.injected_randomness,
            clone: caps.operations.contains(&Operation::Clone),
            spqr: caps.spqr,
        }
    }
}
