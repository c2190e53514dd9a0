//! The interface an implementation under test offers the harness.
//!
//! Everything crosses it as bytes, exactly as vectors state them, so an
//! implementation must itself reject a key of the wrong length, and the same
//! calls map one-to-one onto the shim protocol for other languages. Sessions
//! live inside the implementation and are named by handles.
//!
//! An [`ImplError`] is the implementation's *answer* (a rejection). When the
//! harness could not get an answer at all — a shim crashed, hung or broke the
//! protocol — the implementation reports a [`Fault`] through
//! [`Implementation::take_fault`] instead, and the runner marks the case
//! *errored*: a fault must never count as the rejection a vector expects.

use std::collections::BTreeSet;

pub use crate::vectors::ErrorClass;

/// What an implementation reports instead of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplError {
    /// The harness class of the failure.
    pub class: ErrorClass,
    /// The implementation's own words.
    pub message: String,
}

impl ImplError {
    /// An error of `class` with `message`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    /// The implementation does not support what was asked.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Unsupported, message)
    }
}

impl core::fmt::Display for ImplError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

impl std::error::Error for ImplError {}

impl From<ratchetproof_protocol::ErrorClass> for ErrorClass {
    fn from(class: ratchetproof_protocol::ErrorClass) -> Self {
        use ratchetproof_protocol::ErrorClass as P;
        match class {
            P::Authentication => ErrorClass::Authentication,
            P::Duplicate => ErrorClass::Duplicate,
            P::TooManySkipped => ErrorClass::TooManySkipped,
            P::Malformed => ErrorClass::Malformed,
            P::InvalidKey => ErrorClass::InvalidKey,
            P::Unsupported => ErrorClass::Unsupported,
            P::State => ErrorClass::State,
            // `#[non_exhaustive]`: a class the protocol adds before this
            // table maps it reads as API misuse.
            _ => ErrorClass::State,
        }
    }
}

impl From<ratchetproof_protocol::Error> for ImplError {
    fn from(e: ratchetproof_protocol::Error) -> Self {
        Self::new(e.class().into(), e.to_string())
    }
}

/// The harness could not drive the implementation (a shim crashed, hung,
/// printed something that is not a response, …). Not a verdict on the
/// implementation's conformance: the case is reported as errored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What went wrong, for the report.
    pub message: String,
    /// What the implementation wrote to its error stream meanwhile, if captured.
    pub stderr: Option<String>,
}

impl core::fmt::Display for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Result of an [`Implementation`] call.
pub type ImplResult<T> = Result<T, ImplError>;

/// Groups of operations an implementation may support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// `kdf_rk`, `kdf_ck`, `message_keys`, `seal`.
    Primitives,
    /// `x3dh_initiate`, `x3dh_respond`.
    X3dh,
    /// `init_session`, `encrypt`, `decrypt`.
    Session,
    /// `clone_session` (export and re-import a session's state).
    Clone,
    /// `x3dh_accept`: Bob's prekey store receiving initial messages.
    X3dhAccept,
    /// `export_state`: the bytes of a session's exported state, which the
    /// key-erasure check searches for secrets forward secrecy says are gone.
    Export,
}

impl Operation {
    /// Stable lowercase name (shim protocol, reports).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Primitives => "primitives",
            Operation::X3dh => "x3dh",
            Operation::Session => "session",
            Operation::Clone => "clone",
            Operation::X3dhAccept => "x3dh_accept",
            Operation::Export => "export",
        }
    }
}

/// What an implementation declares about itself before a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Implementation name.
    pub name: String,
    /// Implementation version.
    pub version: String,
    /// Suite names it speaks (e.g. `x25519-sha256-aes256gcm`).
    pub suites: Vec<String>,
    /// Operation groups it supports.
    pub operations: BTreeSet<Operation>,
    /// Its `MAX_SKIP`, if it has a fixed one; vectors that assume another exact limit are skipped.
    pub max_skip: Option<u32>,
    /// Its cap on stored skipped keys, if fixed.
    pub max_stored_skipped_keys: Option<u32>,
    /// Whether it honours the limits a vector configures in `init_session`.
    pub configurable_limits: bool,
    /// Whether it takes injected keys (ratchet key lists, ephemeral keys).
    pub injected_randomness: bool,
}

/// Which side of a session to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// RatchetInitAlice: knows Bob's ratchet public key, can send first.
    Alice,
    /// RatchetInitBob: holds the ratchet key pair, receives first.
    Bob,
}

impl Role {
    /// `"alice"` or `"bob"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Alice => "alice",
            Role::Bob => "bob",
        }
    }
}

/// A session inside an implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionHandle(pub u64);

/// Everything needed to start one side of a Double Ratchet session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInit {
    /// Suite name.
    pub suite: String,
    /// Alice or Bob.
    pub role: Role,
    /// SK.
    pub shared_key: Vec<u8>,
    /// Alice: Bob's ratchet public key. Bob: his ratchet private key.
    pub ratchet_key: Vec<u8>,
    /// Private keys, in order, for this party's DH ratchet key generations:
    /// entry k is the key pair of its k-th committed ratchet step (Alice's
    /// entry 0 is the key RatchetInitAlice generates).
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// `MAX_SKIP` for this session, when the vector sets one.
    pub max_skip: Option<u32>,
    /// Cap on stored skipped keys, when the vector sets one.
    pub max_stored_skipped_keys: Option<u32>,
}

/// Alice's X3DH inputs, all private keys injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X3dhInitiate {
    /// Suite name.
    pub suite: String,
    /// IKa private key.
    pub identity_private_key: Vec<u8>,
    /// EKa private key.
    pub ephemeral_private_key: Vec<u8>,
    /// IKb.
    pub peer_identity_key: Vec<u8>,
    /// SPKb.
    pub peer_signed_prekey: Vec<u8>,
    /// Sig(IKb, Encode(SPKb)).
    pub peer_signed_prekey_signature: Vec<u8>,
    /// OPKb, if used.
    pub peer_one_time_prekey: Option<Vec<u8>>,
}

/// Bob's X3DH inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X3dhRespond {
    /// Suite name.
    pub suite: String,
    /// IKb private key.
    pub identity_private_key: Vec<u8>,
    /// SPKb private key.
    pub signed_prekey_private_key: Vec<u8>,
    /// OPKb private key, if used.
    pub one_time_prekey_private_key: Option<Vec<u8>>,
    /// IKa.
    pub peer_identity_key: Vec<u8>,
    /// EKa.
    pub peer_ephemeral_key: Vec<u8>,
}

/// Bob's prekey store and the initial messages it receives, in order (spec
/// §6.5). The store persists from one message to the next, so a replayed
/// message meets the store its first copy left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X3dhAccept {
    /// Suite name.
    pub suite: String,
    /// IKb private key.
    pub identity_private_key: Vec<u8>,
    /// Signed prekeys: (id, private key).
    pub signed_prekeys: Vec<(u32, Vec<u8>)>,
    /// One-time prekeys: (id, private key).
    pub one_time_prekeys: Vec<(u32, Vec<u8>)>,
    /// Injected ratchet private keys: entry k is the key of the DH ratchet
    /// step that the k-th *accepted* session takes on its first message
    /// (a refused message draws none).
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// The initial messages (spec §6.4), accepted one after the other.
    pub initial_messages: Vec<Vec<u8>>,
}

/// One initial message accepted: what Bob's new session learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X3dhAccepted {
    /// The first message's plaintext.
    pub plaintext: Vec<u8>,
    /// AD.
    pub associated_data: Vec<u8>,
    /// IKa, for the application to check.
    pub peer_identity_key: Vec<u8>,
}

/// What X3DH produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X3dhOutput {
    /// SK.
    pub shared_key: Vec<u8>,
    /// AD.
    pub associated_data: Vec<u8>,
}

/// An implementation under test. The reference ([`crate::Reference`]) is one;
/// the shim client is another. Methods an implementation does not offer
/// should return [`ImplError::unsupported`] and leave the operation out of
/// [`Capabilities::operations`].
pub trait Implementation {
    /// Declared capabilities; the runner skips vectors that need more.
    fn capabilities(&self) -> Capabilities;

    /// `KDF_RK(rk, dh_out)` → (next root key, chain key).
    fn kdf_rk(&mut self, suite: &str, rk: &[u8], dh_out: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)>;

    /// `KDF_CK(ck)` → (next chain key, message key).
    fn kdf_ck(&mut self, suite: &str, ck: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)>;

    /// The suite's expansion of a message key into its cipher keys (for the
    /// default suite: AES key 32 ‖ nonce 12).
    fn message_keys(&mut self, suite: &str, mk: &[u8]) -> ImplResult<Vec<u8>>;

    /// `ENCRYPT(mk, plaintext, CONCAT(ad, header))` of one message with the
    /// given header fields: the whole wire message.
    #[allow(clippy::too_many_arguments)]
    fn seal(
        &mut self,
        suite: &str,
        mk: &[u8],
        ratchet_key: &[u8],
        pn: u32,
        n: u32,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>>;

    /// Alice's X3DH: verifies the bundle and derives SK and AD.
    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput>;

    /// Bob's X3DH.
    fn x3dh_respond(&mut self, request: &X3dhRespond) -> ImplResult<X3dhOutput>;

    /// Bob receiving initial messages with a prekey store (spec §6.5): one
    /// outcome per message, in order. The outer error means the request
    /// itself was refused (e.g. a prekey of the wrong length). Optional: the
    /// default declines, and implementations that offer it list
    /// [`Operation::X3dhAccept`] in their capabilities.
    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<Vec<ImplResult<X3dhAccepted>>> {
        let _ = request;
        Err(ImplError::unsupported("x3dh_accept is not implemented"))
    }

    /// Starts one side of a session.
    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionHandle>;

    /// RatchetEncrypt.
    fn encrypt(
        &mut self,
        session: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>>;

    /// RatchetDecrypt.
    fn decrypt(&mut self, session: SessionHandle, message: &[u8], ad: &[u8])
    -> ImplResult<Vec<u8>>;

    /// Captures a session's complete state into a new, independent session that
    /// draws its ratchet keys from `ratchet_private_keys`.
    fn clone_session(
        &mut self,
        session: SessionHandle,
        ratchet_private_keys: &[Vec<u8>],
    ) -> ImplResult<SessionHandle>;

    /// The session's whole state as the implementation itself serializes it
    /// (for storage or export). The key-erasure check searches these bytes
    /// for secrets that must be gone; it never parses them. Optional: the
    /// default declines, and implementations that offer it list
    /// [`Operation::Export`] in their capabilities.
    fn export_state(&mut self, session: SessionHandle) -> ImplResult<Vec<u8>> {
        let _ = session;
        Err(ImplError::unsupported("export_state is not implemented"))
    }

    /// Drops every session (called before each test case that runs).
    fn reset(&mut self) {}

    /// The fault that interrupted a call since the last `take_fault`, if any.
    /// The runner asks after every case; a fault makes the case errored, not
    /// failed, whatever the calls returned. In-process implementations never
    /// fault.
    fn take_fault(&mut self) -> Option<Fault> {
        None
    }
}
