//! The shim protocol's messages (`docs/SHIM.md`), as serde types shared by
//! the client (the runner's side) and the server (a Rust implementation's
//! side), so both sides read and write exactly one spelling.
//!
//! One request or response per line, JSON, bytes as lowercase hex, field
//! names in camelCase as in the vector files. Requests carry an `id` and an
//! `op`; a response echoes the `id` and holds either `result` or `error`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::implementation::{Capabilities, Operation};
use crate::vectors::Hex;

/// Version of the protocol this crate speaks (the handshake's `protocol`).
pub const PROTOCOL_VERSION: u32 = 1;

/// A request line: `{"id": N, "op": "...", ...fields}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLine {
    /// Echoed in the response.
    pub id: u64,
    /// The operation and its fields.
    #[serde(flatten)]
    pub request: Request,
}

/// Every operation, mirroring [`crate::Implementation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Request {
    /// First request on every process: the shim answers with [`Handshake`].
    Handshake {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
    },
    /// `KDF_RK(rk, dh_out)` → [`RootResult`].
    KdfRk {
        /// Suite name.
        suite: String,
        /// RK.
        root_key: Hex,
        /// The DH output.
        dh_output: Hex,
    },
    /// `KDF_CK(ck)` → [`ChainResult`].
    KdfCk {
        /// Suite name.
        suite: String,
        /// CK.
        chain_key: Hex,
    },
    /// The suite's message-key expansion → [`KeysResult`].
    MessageKeys {
        /// Suite name.
        suite: String,
        /// mk.
        message_key: Hex,
    },
    /// One whole wire message for the given header → [`MessageResult`].
    Seal {
        /// Suite name.
        suite: String,
        /// mk.
        message_key: Hex,
        /// The header's ratchet public key.
        ratchet_key: Hex,
        /// The header's PN.
        pn: u32,
        /// The header's N.
        n: u32,
        /// Plaintext.
        plaintext: Hex,
        /// Associated data.
        ad: Hex,
    },
    /// Alice's X3DH → [`X3dhResult`].
    X3dhInitiate {
        /// Suite name.
        suite: String,
        /// IKa private key.
        identity_private_key: Hex,
        /// EKa private key.
        ephemeral_private_key: Hex,
        /// IKb.
        peer_identity_key: Hex,
        /// SPKb.
        peer_signed_prekey: Hex,
        /// Sig(IKb, Encode(SPKb)).
        peer_signed_prekey_signature: Hex,
        /// OPKb, absent when no one-time prekey is used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_one_time_prekey: Option<Hex>,
    },
    /// Bob's X3DH → [`X3dhResult`].
    X3dhRespond {
        /// Suite name.
        suite: String,
        /// IKb private key.
        identity_private_key: Hex,
        /// SPKb private key.
        signed_prekey_private_key: Hex,
        /// OPKb private key, absent when none is used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        one_time_prekey_private_key: Option<Hex>,
        /// IKa.
        peer_identity_key: Hex,
        /// EKa.
        peer_ephemeral_key: Hex,
    },
    /// RatchetInitAlice or RatchetInitBob → [`SessionResult`].
    InitSession {
        /// Suite name.
        suite: String,
        /// `"alice"` or `"bob"`.
        role: String,
        /// SK.
        shared_key: Hex,
        /// Alice: Bob's ratchet public key. Bob: his ratchet private key.
        ratchet_key: Hex,
        /// Injected ratchet private keys, by committed DH ratchet step.
        ratchet_private_keys: Vec<Hex>,
        /// `MAX_SKIP`, when the vector sets one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_skip: Option<u32>,
        /// The stored skipped-key cap, when the vector sets one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_stored_skipped_keys: Option<u32>,
    },
    /// RatchetEncrypt → [`MessageResult`].
    Encrypt {
        /// Session handle.
        session: u64,
        /// Plaintext.
        plaintext: Hex,
        /// Associated data.
        ad: Hex,
    },
    /// RatchetDecrypt → [`PlaintextResult`].
    Decrypt {
        /// Session handle.
        session: u64,
        /// The wire message.
        message: Hex,
        /// Associated data.
        ad: Hex,
        /// `"prekey"` for an initial message on an existing prekey session
        /// (group `prekey`, docs/SIGNAL-V3.md §7.1); absent means `"whisper"`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_type: Option<String>,
    },
    /// Bob's prekey store receiving initial messages in order → [`X3dhAcceptResult`]
    /// (group `x3dh_accept`).
    X3dhAccept {
        /// Suite name.
        suite: String,
        /// IKb private key.
        identity_private_key: Hex,
        /// Bob's signed prekeys.
        signed_prekeys: Vec<PrekeyEntry>,
        /// Bob's one-time prekeys.
        one_time_prekeys: Vec<PrekeyEntry>,
        /// Entry k: the ratchet key of the k-th accepted session's first step.
        ratchet_private_keys: Vec<Hex>,
        /// The initial messages, accepted one after the other.
        initial_messages: Vec<Hex>,
    },
    /// Alice's session from Bob's bundle, through the implementation's own
    /// session builder → [`SessionResult`] (group `prekey`).
    PrekeyInitiate {
        /// Suite name.
        suite: String,
        /// IKa private key.
        identity_private_key: Hex,
        /// Alice's registration id.
        registration_id: u32,
        /// EKa private key (the base key).
        ephemeral_private_key: Hex,
        /// Alice's ratchet keys by DH ratchet step (entry 0: her first).
        ratchet_private_keys: Vec<Hex>,
        /// IKb.
        peer_identity_key: Hex,
        /// Bob's registration id.
        peer_registration_id: u32,
        /// Signed prekey id.
        peer_signed_prekey_id: u32,
        /// SPKb.
        peer_signed_prekey: Hex,
        /// XEdDSA signature of IKb over Encode(SPKb).
        peer_signed_prekey_signature: Hex,
        /// One-time prekey id, when the bundle has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_one_time_prekey_id: Option<u32>,
        /// OPKb, when the bundle has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_one_time_prekey: Option<Hex>,
    },
    /// Bob's session from Alice's initial message → [`PrekeyRespondResult`]
    /// (group `prekey`).
    PrekeyRespond {
        /// Suite name.
        suite: String,
        /// IKb private key.
        identity_private_key: Hex,
        /// Bob's registration id.
        registration_id: u32,
        /// Signed prekey id.
        signed_prekey_id: u32,
        /// SPKb private key.
        signed_prekey_private_key: Hex,
        /// One-time prekey id, when Bob holds one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        one_time_prekey_id: Option<u32>,
        /// OPKb private key, when Bob holds one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        one_time_prekey_private_key: Option<Hex>,
        /// Bob's ratchet keys by DH ratchet step.
        ratchet_private_keys: Vec<Hex>,
        /// The initial message.
        message: Hex,
    },
    /// Copy a session's whole state into a new session → [`SessionResult`].
    CloneSession {
        /// Session handle to copy.
        session: u64,
        /// The copy's own injected ratchet private keys.
        ratchet_private_keys: Vec<Hex>,
    },
    /// A session's exported state, in the implementation's own
    /// serialization → [`StateResult`] (group `export`).
    ExportState {
        /// Session handle.
        session: u64,
    },
    /// Drop every session → `{}`.
    Reset {},
}

impl Request {
    /// The `op` name, for messages.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Handshake { .. } => "handshake",
            Request::KdfRk { .. } => "kdf_rk",
            Request::KdfCk { .. } => "kdf_ck",
            Request::MessageKeys { .. } => "message_keys",
            Request::Seal { .. } => "seal",
            Request::X3dhInitiate { .. } => "x3dh_initiate",
            Request::X3dhRespond { .. } => "x3dh_respond",
            Request::InitSession { .. } => "init_session",
            Request::Encrypt { .. } => "encrypt",
            Request::Decrypt { .. } => "decrypt",
            Request::CloneSession { .. } => "clone_session",
            Request::X3dhAccept { .. } => "x3dh_accept",
            Request::PrekeyInitiate { .. } => "prekey_initiate",
            Request::PrekeyRespond { .. } => "prekey_respond",
            Request::ExportState { .. } => "export_state",
            Request::Reset {} => "reset",
        }
    }
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

/// `{"class": "authentication", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One of the harness's error classes (`ErrorClass::as_str`).
    pub class: String,
    /// The implementation's own words.
    #[serde(default)]
    pub message: String,
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
    /// Operation groups: `primitives`, `x3dh`, `session` (unknown names are ignored).
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
}

impl Handshake {
    /// The runner's view of the declaration.
    pub fn capabilities(&self) -> Capabilities {
        let mut operations = std::collections::BTreeSet::new();
        for op in &self.operations {
            match op.as_str() {
                "primitives" => operations.insert(Operation::Primitives),
                "x3dh" => operations.insert(Operation::X3dh),
                "session" => operations.insert(Operation::Session),
                "clone" => operations.insert(Operation::Clone),
                "x3dh_accept" => operations.insert(Operation::X3dhAccept),
                "export" => operations.insert(Operation::Export),
                _ => false,
            };
        }
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
        }
    }

    /// The declaration that states `caps`.
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
        }
    }
}

/// `kdf_rk` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootResult {
    /// RK'.
    pub root_key: Hex,
    /// CK.
    pub chain_key: Hex,
}

/// `kdf_ck` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainResult {
    /// CK'.
    pub chain_key: Hex,
    /// mk.
    pub message_key: Hex,
}

/// `message_keys` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysResult {
    /// The expansion (default suite: AES key 32 ‖ nonce 12).
    pub keys: Hex,
}

/// `seal` and `encrypt` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageResult {
    /// The whole wire message.
    pub message: Hex,
    /// On prekey sessions: `"prekey"` or `"whisper"` (absent: `"whisper"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
}

/// A prekey in an `x3dh_accept` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrekeyEntry {
    /// The prekey id.
    pub id: u32,
    /// Its private key.
    pub private_key: Hex,
}

/// `x3dh_accept` result: one outcome per initial message, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct X3dhAcceptResult {
    /// The outcomes.
    pub outcomes: Vec<AcceptOutcome>,
}

/// One initial message's outcome: Bob's refusal, or what he learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AcceptOutcome {
    /// The message was refused.
    Refused {
        /// Class and words, as in an error response.
        error: ErrorBody,
    },
    /// The message was accepted.
    #[serde(rename_all = "camelCase")]
    Accepted {
        /// The first message's plaintext.
        plaintext: Hex,
        /// AD.
        associated_data: Hex,
        /// IKa.
        peer_identity_key: Hex,
    },
}

/// `prekey_respond` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrekeyRespondResult {
    /// Bob's new session.
    pub session: u64,
    /// The initial message's plaintext.
    pub plaintext: Hex,
}

/// `decrypt` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaintextResult {
    /// The plaintext.
    pub plaintext: Hex,
}

/// `x3dh_initiate` and `x3dh_respond` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X3dhResult {
    /// SK.
    pub shared_key: Hex,
    /// AD.
    pub associated_data: Hex,
}

/// `init_session` and `clone_session` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionResult {
    /// The new session's handle (a JSON integer below 2^53).
    pub session: u64,
}

/// `export_state` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateResult {
    /// The exported state, exactly the bytes the implementation writes.
    pub state: Hex,
}
