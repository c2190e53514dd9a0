//! # ratchetproof-vectors
//!
//! The ratchetproof vector file formats: what a Rust project depends on to
//! read the vectors. The JSON Schemas in `vectors/schema/` are the contract
//! (compiled into this crate, see [`validate`]); these types mirror them, and
//! `vectors/README.md` documents every field. Unknown fields are rejected by
//! the schemas, which [`parse`] checks before these types see a file.
//! Conventions follow Wycheproof: a file names its `schema`, its `suite`, its
//! `numberOfTests` and the `notes` that explain each flag; each test has a
//! unique `tcId`, a `comment`, `flags` and a `result`.
//!
//! A vector set (a `vectors/` folder) is identified by [`set_hash`]: SHA-256
//! over the manifest of its JSON files, as CHANGELOG.md and every `ratchetproof
//! run` name it.
//!
//! This crate knows nothing of the protocols: it reads and checks files. The
//! generator and the runner in the `ratchetproof` crate build on it.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let vectors = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
//! use ratchetproof_vectors::{AnyFile, Outcome};
//!
//! // `vectors` is ratchetproof's vectors/ folder (a checkout or a copy).
//! let text = std::fs::read_to_string(vectors.join("x25519-sha256-aes256gcm/x3dh.json"))?;
//! // Checked against the JSON Schema, then typed.
//! let AnyFile::X3dh(file) = ratchetproof_vectors::parse(&text)? else {
//!     return Err("not an X3DH file".into());
//! };
//! for case in &file.tests {
//!     match &case.expected.outcome {
//!         // Run your X3DH on case.initiator / case.responder; compare.
//!         Outcome::Ok(agreed) => assert_eq!(agreed.shared_key.as_slice().len(), 32),
//!         Outcome::Error { .. } => { /* your implementation must refuse */ }
//!     }
//! }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod class;
mod hex;
mod read;
mod schema;
mod set;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use class::ErrorClass;
pub use hex::Hex;
pub use read::{ReadError, from_value, parse};
pub use schema::{COMMON_SCHEMA, COMMON_SCHEMA_ID, SCHEMAS, schema_text, validate, validate_as};
pub use set::{
    SET_HASH_PREFIX, SetError, SetFile, SetHash, check_changelog, find_root, hash_files,
    newest_named_hash, relative_path, set_files, set_hash,
};

/// Schema name of primitives files.
pub const PRIMITIVES_SCHEMA: &str = "ratchetproof-primitives";
/// Schema name of X3DH files.
pub const X3DH_SCHEMA: &str = "ratchetproof-x3dh";
/// Schema name of X3DH acceptance files (Bob's prekey store).
pub const X3DH_ACCEPT_SCHEMA: &str = "ratchetproof-x3dh-accept";
/// `schema.name` of PQXDH files.
pub const PQXDH_SCHEMA: &str = "ratchetproof-pqxdh";
/// `schema.name` of PQXDH acceptance files (a prekey store with KEM prekeys).
pub const PQXDH_ACCEPT_SCHEMA: &str = "ratchetproof-pqxdh-accept";
/// Schema name of session-scenario files.
pub const SCENARIO_SCHEMA: &str = "ratchetproof-session-scenario";
/// Current version of every schema. Version 2 added [`Expected`]'s
/// `alternatives` and `classFixed`; a version-1 file is a version-2 file
/// without them, so the loader reads both.
pub const SCHEMA_VERSION: u32 = 2;
/// Keys at the end of every injected ratchet-key list that no committed step
/// uses. One decryption takes at most one DH ratchet step, so it draws at most
/// one key; a failed decryption gives it back; so one spare always suffices.
pub const SPARE_KEYS: usize = 1;
/// Oldest version the loader still reads.
pub const OLDEST_SCHEMA_VERSION: u32 = 1;

/// Which format a file follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaId {
    /// One of the `*_SCHEMA` names.
    pub name: String,
    /// Format version.
    pub version: u32,
}

/// What a flag means (Wycheproof's notes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Note {
    /// `BasicTest`, `EdgeCase`, `KnownBug`, `Adversarial`, `Limit` …
    pub bug_type: String,
    /// What the flagged cases check.
    pub description: String,
    /// Specification sections or bug reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// Wycheproof's verdict on a test input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every step succeeds as stated.
    Valid,
    /// The case contains input that must be rejected.
    Invalid,
    /// A step's alternatives include both a success and a refusal: either
    /// behaviour conforms (optional hardening, or a choice the specifications
    /// leave open); the primary outcome is the reference's.
    Acceptable,
}

/// A vector file of one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VectorFile<T> {
    /// Format of this file.
    pub schema: SchemaId,
    /// Suite name, e.g. `x25519-sha256-aes256gcm`.
    pub suite: String,
    /// What produced the file.
    pub generator: String,
    /// `tests.len()`.
    pub number_of_tests: usize,
    /// Flag → meaning.
    pub notes: BTreeMap<String, Note>,
    /// The test cases.
    pub tests: Vec<T>,
}

/// Fields every test case has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseInfo {
    /// Unique within the file.
    pub tc_id: u32,
    /// What the case checks.
    pub comment: String,
    /// Keys into the file's notes.
    pub flags: Vec<String>,
    /// The verdict.
    pub result: Verdict,
}

// ---------------------------------------------------------------- primitives

/// One known-answer test of a primitive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrimitiveCase {
    /// Common fields.
    #[serde(flatten)]
    pub info: CaseInfo,
    /// The operation and its inputs.
    #[serde(flatten)]
    pub input: PrimitiveInput,
    /// The expected output, or the expected error class.
    pub expected: Expected<PrimitiveOutput>,
}

/// A primitive operation with its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "operation",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum PrimitiveInput {
    /// `KDF_RK(rootKey, dhOutput)`.
    KdfRk {
        /// RK.
        root_key: Hex,
        /// DH output.
        dh_output: Hex,
    },
    /// `KDF_CK(chainKey)`.
    KdfCk {
        /// CK.
        chain_key: Hex,
    },
    /// Message key → cipher keys.
    MessageKeys {
        /// mk.
        message_key: Hex,
    },
    /// Encryption of one message under a message key and header.
    Seal {
        /// mk.
        message_key: Hex,
        /// Header field dh.
        ratchet_key: Hex,
        /// Header field pn.
        pn: u32,
        /// Header field n.
        n: u32,
        /// Plaintext.
        plaintext: Hex,
        /// Associated data.
        ad: Hex,
    },
}

/// A primitive's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PrimitiveOutput {
    /// KDF_RK: (next root key, chain key).
    Root {
        /// RK'.
        #[serde(rename = "rootKey")]
        root_key: Hex,
        /// CK.
        #[serde(rename = "chainKey")]
        chain_key: Hex,
    },
    /// KDF_CK: (next chain key, message key).
    Chain {
        /// CK'.
        #[serde(rename = "chainKey")]
        chain_key: Hex,
        /// mk.
        #[serde(rename = "messageKey")]
        message_key: Hex,
    },
    /// The cipher keys derived from a message key.
    Keys {
        /// Suite-defined concatenation (default suite: AES key 32 ‖ nonce 12).
        keys: Hex,
    },
    /// A whole wire message.
    Message {
        /// The bytes.
        message: Hex,
    },
}

/// Either the output a valid case must produce, or the error class an invalid one must raise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Outcome<T> {
    /// Rejection.
    Error {
        /// The class of the refusal.
        error: ErrorClass,
    },
    /// Success with this output.
    Ok(T),
}

/// An object with an `error` member is a refusal, whose class must be one
/// this reader knows; anything else is the success output. (Untagged serde
/// would fall back to `T` on an unknown class.)
impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Outcome<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(deserializer)?;
        match value.get("error") {
            Some(class) => {
                let error = ErrorClass::deserialize(class).map_err(D::Error::custom)?;
                Ok(Outcome::Error { error })
            }
            None => serde_json::from_value(value)
                .map(Outcome::Ok)
                .map_err(D::Error::custom),
        }
    }
}

/// What a step must give: its `outcome`, or any of the `alternatives` that
/// conform equally where the specifications allow several behaviours
/// (Wycheproof's `acceptable`). In JSON the primary outcome's fields and
/// `alternatives` / `classFixed` share one object:
/// `{"error": "duplicate", "alternatives": [{"error": "authentication"}]}`.
///
/// `class_fixed`: the specifications fix the class of the refusal (a message
/// altered after sealing under a genuine key is an authentication failure), so
/// the default, lenient mode requires it too: the class of the primary
/// outcome or of an error alternative. Without it the default mode accepts
/// any refusal where a refusal is expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected<T> {
    /// The reference's outcome.
    pub outcome: Outcome<T>,
    /// Other outcomes that conform equally (no nesting).
    pub alternatives: Vec<Outcome<T>>,
    /// The class of an expected refusal is fixed by the specifications.
    pub class_fixed: bool,
}

impl<T> From<Outcome<T>> for Expected<T> {
    fn from(outcome: Outcome<T>) -> Self {
        Expected {
            outcome,
            alternatives: Vec::new(),
            class_fixed: false,
        }
    }
}

impl<T> Expected<T> {
    /// The primary outcome, then the alternatives, in file order.
    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome<T>> {
        std::iter::once(&self.outcome).chain(&self.alternatives)
    }

    /// Adds an alternative outcome.
    pub fn or(mut self, alternative: Outcome<T>) -> Self {
        self.alternatives.push(alternative);
        self
    }

    /// Adds an alternative refusal of class `class`.
    pub fn or_error(self, class: ErrorClass) -> Self {
        self.or(Outcome::Error { error: class })
    }

    /// Marks the refusal's class as fixed by the specifications.
    pub fn class_fixed(mut self) -> Self {
        self.class_fixed = true;
        self
    }

    /// Whether both a success and a refusal conform (the case is then `acceptable`).
    pub fn success_or_refusal(&self) -> bool {
        self.outcomes().any(|o| matches!(o, Outcome::Ok(_)))
            && self.outcomes().any(|o| matches!(o, Outcome::Error { .. }))
    }

    /// The error classes that conform, in order.
    pub fn error_classes(&self) -> Vec<ErrorClass> {
        self.outcomes()
            .filter_map(|o| match o {
                Outcome::Error { error } => Some(*error),
                Outcome::Ok(_) => None,
            })
            .collect()
    }
}

/// [`Expected`] as written: the primary outcome's own fields first, in their
/// declared order, then `classFixed` and `alternatives`.
#[derive(Serialize)]
struct ExpectedOut<'a, T> {
    #[serde(flatten)]
    outcome: &'a Outcome<T>,
    #[serde(rename = "classFixed", skip_serializing_if = "std::ops::Not::not")]
    class_fixed: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    alternatives: &'a [Outcome<T>],
}

impl<T: Serialize> Serialize for Expected<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ExpectedOut {
            outcome: &self.outcome,
            class_fixed: self.class_fixed,
            alternatives: &self.alternatives,
        }
        .serialize(serializer)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Expected<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut value = serde_json::Value::deserialize(deserializer)?;
        let serde_json::Value::Object(map) = &mut value else {
            return Err(D::Error::custom(
                "an expected outcome must be a JSON object",
            ));
        };
        let class_fixed = match map.remove("classFixed") {
            None => false,
            Some(serde_json::Value::Bool(b)) => b,
            Some(_) => return Err(D::Error::custom("classFixed must be a boolean")),
        };
        let alternatives = match map.remove("alternatives") {
            None => Vec::new(),
            Some(v) => serde_json::from_value(v).map_err(D::Error::custom)?,
        };
        let outcome = serde_json::from_value(value).map_err(D::Error::custom)?;
        Ok(Expected {
            outcome,
            alternatives,
            class_fixed,
        })
    }
}

// ---------------------------------------------------------------- X3DH

/// One X3DH test: Alice's side, Bob's side, or both, from injected private keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X3dhCase {
    /// Common fields.
    #[serde(flatten)]
    pub info: CaseInfo,
    /// Alice's inputs; when present the runner calls initiate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator: Option<X3dhInitiator>,
    /// Bob's inputs; when present the runner calls respond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responder: Option<X3dhResponder>,
    /// SK and AD both sides must derive, or the error the case must raise.
    pub expected: Expected<X3dhExpected>,
}

/// Alice's X3DH inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X3dhInitiator {
    /// IKa private key.
    pub identity_private_key: Hex,
    /// EKa private key.
    pub ephemeral_private_key: Hex,
    /// IKb.
    pub peer_identity_key: Hex,
    /// SPKb.
    pub peer_signed_prekey: Hex,
    /// Sig(IKb, Encode(SPKb)).
    pub peer_signed_prekey_signature: Hex,
    /// OPKb.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_one_time_prekey: Option<Hex>,
}

/// Bob's X3DH inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X3dhResponder {
    /// IKb private key.
    pub identity_private_key: Hex,
    /// SPKb private key.
    pub signed_prekey_private_key: Hex,
    /// OPKb private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_prekey_private_key: Option<Hex>,
    /// IKa.
    pub peer_identity_key: Hex,
    /// EKa.
    pub peer_ephemeral_key: Hex,
}

/// What X3DH must produce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct X3dhExpected {
    /// SK.
    pub shared_key: Hex,
    /// AD.
    pub associated_data: Hex,
}

// ---------------------------------------------------------------- X3DH acceptance

/// Bob's prekey store receiving initial messages in order (SPEC.md §6.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptCase {
    /// Common fields.
    #[serde(flatten)]
    pub info: CaseInfo,
    /// Bob's identity, prekeys and ratchet keys.
    pub responder: AcceptResponder,
    /// What reaches him, in order, and what each must give.
    pub initial_messages: Vec<InitialDelivery>,
}

/// Bob's store at the start of an [`AcceptCase`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptResponder {
    /// IKb private key.
    pub identity_private_key: Hex,
    /// Signed prekeys.
    pub signed_prekeys: Vec<PrekeyEntry>,
    /// One-time prekeys.
    pub one_time_prekeys: Vec<PrekeyEntry>,
    /// Entry k: the ratchet private key of the DH ratchet step the k-th
    /// *accepted* session takes on its first message.
    pub ratchet_private_keys: Vec<Hex>,
}

/// A prekey in Bob's store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrekeyEntry {
    /// Its id.
    pub id: u32,
    /// Its private key.
    pub private_key: Hex,
}

/// One initial message and what accepting it must give.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitialDelivery {
    /// The initial message (SPEC.md §6.4).
    pub message: Hex,
    /// The new session's first plaintext, AD and peer identity, or the error.
    pub expected: Expected<AcceptExpected>,
}

/// What an accepted initial message gives Bob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptExpected {
    /// The first message's plaintext.
    pub plaintext: Hex,
    /// AD.
    pub associated_data: Hex,
    /// IKa.
    pub peer_identity_key: Hex,
}

// ---------------------------------------------------------------- PQXDH

/// One PQXDH test: Alice's side, Bob's side, or both, from injected private
/// keys, KEM seeds and ciphertexts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PqxdhCase {
    /// Common fields.
    #[serde(flatten)]
    pub info: CaseInfo,
    /// The 64-byte seed the KEM prekey pair was generated from (`d ‖ z`),
    /// for a reader that regenerates it; not sent to implementations.
    pub kem_prekey_seed: Hex,
    /// Alice's inputs; when present the runner calls `pqxdh_initiate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator: Option<PqxdhInitiator>,
    /// Bob's inputs; when present the runner calls `pqxdh_respond`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responder: Option<PqxdhResponder>,
    /// SK and AD both sides must derive (and Alice's ciphertext), or the
    /// error the case must raise.
    pub expected: Expected<PqxdhExpected>,
}

/// Alice's PQXDH inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PqxdhInitiator {
    /// IKa private key.
    pub identity_private_key: Hex,
    /// EKa private key.
    pub ephemeral_private_key: Hex,
    /// The KEM's encapsulation randomness `m` (32 bytes).
    pub encapsulation_seed: Hex,
    /// IKb.
    pub peer_identity_key: Hex,
    /// SPKb.
    pub peer_signed_prekey: Hex,
    /// Sig(IKb, Encode(SPKb)).
    pub peer_signed_prekey_signature: Hex,
    /// `EncodeKEM(PQPKb)`: type byte ‖ key, as signed.
    pub peer_kem_prekey: Hex,
    /// Sig(IKb, EncodeKEM(PQPKb)).
    pub peer_kem_prekey_signature: Hex,
    /// OPKb.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_one_time_prekey: Option<Hex>,
}

/// Bob's PQXDH inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PqxdhResponder {
    /// IKb private key.
    pub identity_private_key: Hex,
    /// SPKb private key.
    pub signed_prekey_private_key: Hex,
    /// OPKb private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_prekey_private_key: Option<Hex>,
    /// The KEM prekey's decapsulation key, bare.
    pub kem_prekey_private_key: Hex,
    /// IKa.
    pub peer_identity_key: Hex,
    /// EKa.
    pub peer_ephemeral_key: Hex,
    /// The ciphertext as sent: type byte ‖ CT.
    pub kem_ciphertext: Hex,
}

/// What PQXDH must produce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PqxdhExpected {
    /// SK.
    pub shared_key: Hex,
    /// AD.
    pub associated_data: Hex,
    /// Alice's ciphertext (type byte ‖ CT), when the case has an initiator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kem_ciphertext: Option<Hex>,
}

// ---------------------------------------------------------------- PQXDH acceptance

/// Bob's PQXDH prekey store receiving initial messages in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PqxdhAcceptCase {
    /// Common fields.
    #[serde(flatten)]
    pub info: CaseInfo,
    /// Bob's identity, prekeys (EC and KEM) and ratchet keys.
    pub responder: PqxdhAcceptResponder,
    /// What reaches him, in order, and what each must give.
    pub initial_messages: Vec<InitialDelivery>,
}

/// Bob's store at the start of a [`PqxdhAcceptCase`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PqxdhAcceptResponder {
    /// IKb private key.
    pub identity_private_key: Hex,
    /// Signed prekeys.
    pub signed_prekeys: Vec<PrekeyEntry>,
    /// One-time prekeys.
    pub one_time_prekeys: Vec<PrekeyEntry>,
    /// KEM prekeys.
    pub kem_prekeys: Vec<KemPrekeyEntry>,
    /// Entry k: the ratchet private key of the DH ratchet step the k-th
    /// *accepted* session takes on its first message.
    pub ratchet_private_keys: Vec<Hex>,
}

/// A KEM prekey in Bob's store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KemPrekeyEntry {
    /// Its id.
    pub id: u32,
    /// The encapsulation key, bare.
    pub public_key: Hex,
    /// The decapsulation key, bare.
    pub private_key: Hex,
    /// Kept after use (the last-resort key) or deleted (a one-time key).
    pub last_resort: bool,
}

// ---------------------------------------------------------------- scenarios

/// A scripted conversation between Alice, Bob and captured copies of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioCase {
    /// Common fields.
    #[serde(flatten)]
    pub info: CaseInfo,
    /// Exact limits the case assumes. Absent: the case holds for any
    /// `MAX_SKIP` ≥ 1000 (universal); present: the runner runs it only on an
    /// implementation that declares or accepts these limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    /// Key material: what the sessions start from.
    pub setup: Setup,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

/// Session limits a case depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// `MAX_SKIP`.
    pub max_skip: u32,
    /// Cap on stored skipped keys.
    pub max_stored_skipped_keys: u32,
}

/// What a scenario's sessions start from: a shared key for the Signal
/// suites' RatchetInitAlice / RatchetInitBob, or, for suites whose sessions
/// exist only through their key agreement (`olm-v1`), the keys of that
/// agreement. In JSON the two are told apart by their fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Setup {
    /// SK, AD and Bob's ratchet key pair (every Signal-algorithm suite).
    Ratchet(ScenarioSetup),
    /// The key agreement's keys (`olm-v1`): Alice's session is built with
    /// `prekey_initiate` at the start, Bob's from the first pre-key message
    /// he accepts (`prekey_respond`).
    KeyAgreement(KeyAgreementSetup),
}

impl Setup {
    /// The Signal setup, if this is one.
    pub fn ratchet(&self) -> Option<&ScenarioSetup> {
        match self {
            Setup::Ratchet(s) => Some(s),
            Setup::KeyAgreement(_) => None,
        }
    }

    /// The Signal setup, mutably, if this is one.
    pub fn ratchet_mut(&mut self) -> Option<&mut ScenarioSetup> {
        match self {
            Setup::Ratchet(s) => Some(s),
            Setup::KeyAgreement(_) => None,
        }
    }

    /// Alice's injected keys.
    pub fn alice(&self) -> &PartyKeys {
        match self {
            Setup::Ratchet(s) => &s.alice,
            Setup::KeyAgreement(s) => &s.alice,
        }
    }

    /// Bob's injected keys.
    pub fn bob(&self) -> &PartyKeys {
        match self {
            Setup::Ratchet(s) => &s.bob,
            Setup::KeyAgreement(s) => &s.bob,
        }
    }

    /// Both parties' injected keys, mutably (Alice's, Bob's).
    pub fn parties_mut(&mut self) -> (&mut PartyKeys, &mut PartyKeys) {
        match self {
            Setup::Ratchet(s) => (&mut s.alice, &mut s.bob),
            Setup::KeyAgreement(s) => (&mut s.alice, &mut s.bob),
        }
    }
}

impl From<KeyAgreementSetup> for Setup {
    fn from(setup: KeyAgreementSetup) -> Self {
        Setup::KeyAgreement(setup)
    }
}

impl From<ScenarioSetup> for Setup {
    fn from(setup: ScenarioSetup) -> Self {
        Setup::Ratchet(setup)
    }
}

/// The keys of Olm's triple DH (docs/OLM-V1.md §3) and the keys each party
/// draws later. Alice's `ratchetPrivateKeys` entry 0 is her first ratchet
/// key `T0` (drawn with the base key); every later entry, and every entry of
/// Bob's, is the key drawn at the send that starts the party's next chain;
/// each list ends with [`SPARE_KEYS`] spare keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyAgreementSetup {
    /// `I_A` private key.
    pub alice_identity_private_key: Hex,
    /// `I_A`.
    pub alice_identity_public_key: Hex,
    /// `E_A` private key: Alice's base key.
    pub alice_base_private_key: Hex,
    /// `E_A`.
    pub alice_base_public_key: Hex,
    /// `I_B` private key.
    pub bob_identity_private_key: Hex,
    /// `I_B`.
    pub bob_identity_public_key: Hex,
    /// `E_B` private key: the one-time key Alice's session names.
    pub bob_one_time_private_key: Hex,
    /// `E_B`.
    pub bob_one_time_public_key: Hex,
    /// Alice's injected keys.
    pub alice: PartyKeys,
    /// Bob's injected keys.
    pub bob: PartyKeys,
}

/// The material RatchetInitAlice and RatchetInitBob take, and the keys each
/// party's RNG hands out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScenarioSetup {
    /// SK.
    pub shared_key: Hex,
    /// AD passed to every encrypt and decrypt unless a step overrides it.
    pub associated_data: Hex,
    /// Bob's initial ratchet key pair (his signed prekey): private half.
    pub bob_ratchet_private_key: Hex,
    /// … and public half, which Alice's RatchetInitAlice takes.
    pub bob_ratchet_public_key: Hex,
    /// Alice's injected keys.
    pub alice: PartyKeys,
    /// Bob's injected keys.
    pub bob: PartyKeys,
}

/// A party's injected ratchet keys, by role: entry k is the private key of the
/// key pair generated at the party's k-th committed DH ratchet step (Alice's
/// entry 0 is the one RatchetInitAlice generates). The list ends with
/// [`SPARE_KEYS`] keys no committed step uses: an implementation that draws
/// its new key before authenticating (and gives a drawn key back when the
/// decryption fails, docs/SHIM.md §4.3) needs one past the last committed step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartyKeys {
    /// Private keys in order of use.
    pub ratchet_private_keys: Vec<Hex>,
}

/// One step of a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Step {
    /// `party` encrypts `plaintext`; the result is message number k, where k
    /// counts earlier successful `send` steps.
    Send {
        /// `alice`, `bob` or a capture's name.
        party: String,
        /// Plaintext.
        plaintext: Hex,
        /// AD override.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ad: Option<Hex>,
        /// The exact wire message, or the error sending must raise.
        expected: Expected<SentMessage>,
    },
    /// A message reaches `party`: an earlier message by index, or raw bytes.
    Deliver {
        /// Recipient.
        party: String,
        /// Index of an earlier sent message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<usize>,
        /// Raw bytes instead (tampered, truncated, forged).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<Hex>,
        /// How the message travels, on suites with message types (`olm-v1`):
        /// given with `bytes`; with `message`, the send's type unless given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_type: Option<MessageType>,
        /// AD override.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ad: Option<Hex>,
        /// The plaintext, or the error decryption must raise.
        expected: Expected<Plaintext>,
    },
    /// An attacker captures `party`'s complete state as a new party `name`,
    /// which from then on draws ratchet keys from its own list.
    Capture {
        /// The victim.
        party: String,
        /// Name of the copy.
        name: String,
        /// The copy's injected keys.
        ratchet_private_keys: Vec<Hex>,
        /// Secrets forward secrecy says are gone from `party`'s state at
        /// this point; the key-erasure check searches its exported state.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        erased_secrets: Vec<ErasedSecret>,
    },
}

/// A secret that must no longer be in a party's state, and what it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErasedSecret {
    /// The secret's bytes.
    pub secret: Hex,
    /// Its role, for the report (`message key of message 3`, …).
    pub role: String,
}

/// A sent message as the vector fixes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SentMessage {
    /// The wire bytes.
    pub message: Hex,
    /// How it travels, on suites with message types (`olm-v1`): the send
    /// must report this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
}

/// How a message travels where a suite has two kinds (`olm-v1`: `prekey`
/// is Olm type 0, a pre-key message; `whisper` type 1, a normal message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    /// A pre-key (initial) message.
    Prekey,
    /// A normal message.
    Whisper,
}

/// A decrypted plaintext.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plaintext {
    /// The bytes.
    pub plaintext: Hex,
}

/// Any vector file, by its schema.
#[derive(Clone, Debug, PartialEq)]
pub enum AnyFile {
    /// Primitives.
    Primitives(VectorFile<PrimitiveCase>),
    /// X3DH.
    X3dh(VectorFile<X3dhCase>),
    /// X3DH acceptance by a prekey store.
    X3dhAccept(VectorFile<AcceptCase>),
    /// PQXDH.
    Pqxdh(VectorFile<PqxdhCase>),
    /// PQXDH acceptance by a prekey store.
    PqxdhAccept(VectorFile<PqxdhAcceptCase>),
    /// Session scenarios.
    Scenarios(VectorFile<ScenarioCase>),
}

impl AnyFile {
    /// The file's suite.
    pub fn suite(&self) -> &str {
        match self {
            AnyFile::Primitives(f) => &f.suite,
            AnyFile::X3dh(f) => &f.suite,
            AnyFile::X3dhAccept(f) => &f.suite,
            AnyFile::Pqxdh(f) => &f.suite,
            AnyFile::PqxdhAccept(f) => &f.suite,
            AnyFile::Scenarios(f) => &f.suite,
        }
    }

    /// The common fields of every test, in file order.
    pub fn infos(&self) -> Vec<&CaseInfo> {
        match self {
            AnyFile::Primitives(f) => f.tests.iter().map(|t| &t.info).collect(),
            AnyFile::X3dh(f) => f.tests.iter().map(|t| &t.info).collect(),
            AnyFile::X3dhAccept(f) => f.tests.iter().map(|t| &t.info).collect(),
            AnyFile::Pqxdh(f) => f.tests.iter().map(|t| &t.info).collect(),
            AnyFile::PqxdhAccept(f) => f.tests.iter().map(|t| &t.info).collect(),
            AnyFile::Scenarios(f) => f.tests.iter().map(|t| &t.info).collect(),
        }
    }

    /// Every tcId, in file order.
    pub fn tc_ids(&self) -> Vec<u32> {
        self.infos().iter().map(|i| i.tc_id).collect()
    }

    /// The flag notes.
    pub fn notes(&self) -> &BTreeMap<String, Note> {
        match self {
            AnyFile::Primitives(f) => &f.notes,
            AnyFile::X3dh(f) => &f.notes,
            AnyFile::X3dhAccept(f) => &f.notes,
            AnyFile::Pqxdh(f) => &f.notes,
            AnyFile::PqxdhAccept(f) => &f.notes,
            AnyFile::Scenarios(f) => &f.notes,
        }
    }
}
