//! The interface an implementation under test offers the harness, and the
//! one list of its operations.
//!
//! Everything crosses it as bytes, exactly as vectors state them, so an
//! implementation must itself reject a key of the wrong length. Sessions live
//! inside the implementation and are named by handles.
//!
//! Each operation is defined once: a request type and an output type that
//! *are* the shim protocol's JSON objects (`docs/SHIM.md`: camelCase fields,
//! bytes as lowercase hex; in `requests.rs`), a method of [`Implementation`],
//! and a line in the `operations!` list below. The shim client serializes the request an in-process
//! caller builds, and the shim server deserializes it and calls the same
//! method; neither knows any operation by name (`crate::shim`).
//!
//! An [`ImplError`] is the implementation's *answer* (a rejection). When the
//! harness could not get an answer at all — a shim crashed, hung or broke the
//! protocol — the implementation reports a [`Fault`] through
//! [`Implementation::take_fault`] instead, and the runner marks the case
//! *errored*: a fault must never count as the rejection a vector expects.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use crate::vectors::ErrorClass;

mod requests;

pub use requests::*;

/// What an implementation reports instead of a result. On the wire:
/// `{"class": "authentication", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ErrorBody", try_from = "ErrorBody")]
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

/// The vector format's class of a protocol error class: one to one, and
/// exhaustive, so a class the protocol adds must be mapped here.
pub fn class_of(class: ratchetproof_protocol::ErrorClass) -> ErrorClass {
    use ratchetproof_protocol::ErrorClass as P;
    match class {
        P::Authentication => ErrorClass::Authentication,
        P::Duplicate => ErrorClass::Duplicate,
        P::TooManySkipped => ErrorClass::TooManySkipped,
        P::Malformed => ErrorClass::Malformed,
        P::InvalidKey => ErrorClass::InvalidKey,
        P::Unsupported => ErrorClass::Unsupported,
        P::State => ErrorClass::State,
    }
}

impl From<ratchetproof_protocol::Error> for ImplError {
    fn from(e: ratchetproof_protocol::Error) -> Self {
        Self::new(class_of(e.class()), e.to_string())
    }
}

/// An [`ImplError`] as it is written, with the class still a name (a peer
/// may send one the harness does not know).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One of the harness's error classes (`ErrorClass::as_str`).
    pub class: String,
    /// The implementation's own words.
    #[serde(default)]
    pub message: String,
}

impl From<ImplError> for ErrorBody {
    fn from(e: ImplError) -> Self {
        Self {
            class: e.class.as_str().into(),
            message: e.message,
        }
    }
}

impl TryFrom<ErrorBody> for ImplError {
    type Error = String;

    fn try_from(body: ErrorBody) -> Result<Self, String> {
        match ErrorClass::from_name(&body.class) {
            Some(class) => Ok(Self::new(class, body.message)),
            None => Err(format!(
                "unknown error class {:?} (known: {})",
                body.class,
                ErrorClass::ALL.map(ErrorClass::as_str).join(", ")
            )),
        }
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
    /// `prekey_initiate`, `prekey_respond`: sessions built by the
    /// implementation's own X3DH session builder, for live interop
    /// (`crate::interop`); `encrypt`/`decrypt` on them carry a [`MessageType`].
    Prekey,
    /// `prekey_bundle`: Bob's public keys from a shim that cannot take
    /// injected keys (live `olm-v1` interop only, docs/SHIM.md §4.4).
    PrekeyBundle,
    /// `pqxdh_initiate`, `pqxdh_respond`: PQXDH from injected keys.
    Pqxdh,
    /// `pqxdh_accept`: Bob's PQXDH prekey store (with KEM prekeys)
    /// receiving initial messages.
    PqxdhAccept,
    /// `session_keys`: the root and chain keys a session holds, read from the
    /// implementation's own state (the live key check of a PQXDH initiator,
    /// `ratchetproof interop --check-keys`).
    Inspect,
}

impl Operation {
    /// Every group.
    pub const ALL: [Operation; 11] = [
        Operation::Primitives,
        Operation::X3dh,
        Operation::Session,
        Operation::Clone,
        Operation::X3dhAccept,
        Operation::Export,
        Operation::Prekey,
        Operation::PrekeyBundle,
        Operation::Pqxdh,
        Operation::PqxdhAccept,
        Operation::Inspect,
    ];

    /// Stable lowercase name (shim protocol, reports).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Primitives => "primitives",
            Operation::X3dh => "x3dh",
            Operation::Session => "session",
            Operation::Clone => "clone",
            Operation::X3dhAccept => "x3dh_accept",
            Operation::Export => "export",
            Operation::Prekey => "prekey",
            Operation::PrekeyBundle => "prekey_bundle",
            Operation::Pqxdh => "pqxdh",
            Operation::PqxdhAccept => "pqxdh_accept",
            Operation::Inspect => "inspect",
        }
    }

    /// The group named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
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
    /// Whether its sessions run Signal's Sparse Post-Quantum Ratchet after
    /// PQXDH (every message key salted by it, docs/SPQR.md), so that it
    /// cannot open a message of the PQXDH suites' classical ratchet; cases
    /// decided only by decrypting one are then skipped (docs/SHIM.md §3).
    pub spqr: bool,
}

/// Which side of a session to start (`"alice"` or `"bob"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// A session inside an implementation (a JSON integer below 2^53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionHandle(pub u64);

/// How a message of a prekey session travels (`"prekey"` or `"whisper"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    /// A PreKeyWhisperMessage (libsignal type 3): an initial message.
    Prekey,
    /// A WhisperMessage.
    Whisper,
}

impl MessageType {
    /// The shim protocol's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Prekey => "prekey",
            MessageType::Whisper => "whisper",
        }
    }
}

/// An implementation under test. The reference ([`crate::Reference`]) is one;
/// the shim client is another.
///
/// Every operation has a default that hands the request to
/// [`forward`](Implementation::forward), whose own default declines with
/// [`ImplError::unsupported`]: an in-process implementation overrides the
/// operations it offers (and lists their groups in
/// [`Capabilities::operations`]); one that passes every request on — the shim
/// client, a test wrapper — overrides `forward` alone.
pub trait Implementation {
    /// Declared capabilities; the runner skips vectors that need more.
    fn capabilities(&self) -> Capabilities;

    /// `KDF_RK(rk, dh_out)` → (next root key, chain key).
    fn kdf_rk(&mut self, request: &KdfRk) -> ImplResult<KdfRkOutput> {
        forwarded(self, request)
    }

    /// `KDF_CK(ck)` → (next chain key, message key).
    fn kdf_ck(&mut self, request: &KdfCk) -> ImplResult<KdfCkOutput> {
        forwarded(self, request)
    }

    /// The suite's expansion of a message key into its cipher keys (for the
    /// default suite: AES key 32 ‖ nonce 12).
    fn message_keys(&mut self, request: &MessageKeys) -> ImplResult<MessageKeysOutput> {
        forwarded(self, request)
    }

    /// One whole wire message for the given header.
    fn seal(&mut self, request: &Seal) -> ImplResult<SealOutput> {
        forwarded(self, request)
    }

    /// Alice's X3DH: verifies the bundle and derives SK and AD.
    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        forwarded(self, request)
    }

    /// Bob's X3DH.
    fn x3dh_respond(&mut self, request: &X3dhRespond) -> ImplResult<X3dhOutput> {
        forwarded(self, request)
    }

    /// Bob receiving initial messages with a prekey store (spec §6.5): one
    /// outcome per message, in order. The outer error means the request
    /// itself was refused (e.g. a prekey of the wrong length). Group
    /// [`Operation::X3dhAccept`].
    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<X3dhAcceptOutput> {
        forwarded(self, request)
    }

    /// Alice's PQXDH: verifies both bundle signatures, encapsulates with
    /// the injected randomness, derives SK and AD. Group [`Operation::Pqxdh`].
    fn pqxdh_initiate(&mut self, request: &PqxdhInitiate) -> ImplResult<PqxdhOutput> {
        forwarded(self, request)
    }

    /// Bob's PQXDH: decapsulates and derives SK and AD.
    fn pqxdh_respond(&mut self, request: &PqxdhRespond) -> ImplResult<PqxdhOutput> {
        forwarded(self, request)
    }

    /// [`Implementation::x3dh_accept`] for a PQXDH suite, whose store holds
    /// KEM prekeys too. Group [`Operation::PqxdhAccept`].
    fn pqxdh_accept(&mut self, request: &PqxdhAccept) -> ImplResult<X3dhAcceptOutput> {
        forwarded(self, request)
    }

    /// Starts one side of a session.
    fn init_session(&mut self, request: &SessionInit) -> ImplResult<SessionOutput> {
        forwarded(self, request)
    }

    /// RatchetEncrypt.
    fn encrypt(&mut self, request: &Encrypt) -> ImplResult<EncryptOutput> {
        forwarded(self, request)
    }

    /// RatchetDecrypt.
    fn decrypt(&mut self, request: &Decrypt) -> ImplResult<DecryptOutput> {
        forwarded(self, request)
    }

    /// A new, independent session with a copy of the whole state. Group
    /// [`Operation::Clone`].
    fn clone_session(&mut self, request: &CloneSession) -> ImplResult<SessionOutput> {
        forwarded(self, request)
    }

    /// The session's whole state as the implementation itself serializes it
    /// (for storage or export). The key-erasure check searches these bytes
    /// for secrets that must be gone; it never parses them. Group
    /// [`Operation::Export`].
    fn export_state(&mut self, request: &ExportState) -> ImplResult<ExportStateOutput> {
        forwarded(self, request)
    }

    /// The keys a session holds, as the implementation's own serialized
    /// state has them. Group [`Operation::Inspect`].
    fn session_keys(&mut self, request: &SessionKeys) -> ImplResult<SessionKeysOutput> {
        forwarded(self, request)
    }

    /// Alice's session built from Bob's bundle by the implementation's own
    /// session builder; her messages travel as initial messages until she
    /// has decrypted one. Group [`Operation::Prekey`].
    fn prekey_initiate(&mut self, request: &PrekeyInitiate) -> ImplResult<SessionOutput> {
        forwarded(self, request)
    }

    /// Bob's session from Alice's initial message, and its plaintext. Group
    /// [`Operation::Prekey`].
    fn prekey_respond(&mut self, request: &PrekeyRespond) -> ImplResult<PrekeyRespondOutput> {
        forwarded(self, request)
    }

    /// Bob's public keys, whose private halves the implementation keeps for
    /// a later `prekey_respond` without keys. Group
    /// [`Operation::PrekeyBundle`].
    fn prekey_bundle(&mut self, request: &PrekeyBundle) -> ImplResult<PrekeyBundleOutput> {
        forwarded(self, request)
    }

    /// Answers any operation this implementation does not answer itself.
    /// Must not call [`Request::answer`] on `self` (that would come back
    /// here); a wrapper calls it on what it wraps.
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        Err(ImplError::unsupported(format!(
            "{} is not implemented",
            request.op()
        )))
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

/// One operation's request type: its wire name, its output, and how it
/// travels inside [`Request`] and [`Response`] (implemented by
/// the `operations!` list).
pub trait Call: Clone {
    /// The wire `op`.
    const OP: &'static str;
    /// What the implementation answers.
    type Output;
    /// This request as a [`Request`].
    fn to_request(&self) -> Request;
    /// The output inside `response`, if it is this operation's.
    fn output(response: Response) -> Option<Self::Output>;
}

/// The default of every operation method: hand the request to
/// [`Implementation::forward`].
fn forwarded<R: Call, I: Implementation + ?Sized>(
    imp: &mut I,
    request: &R,
) -> ImplResult<R::Output> {
    let response = imp.forward(request.to_request())?;
    R::output(response).ok_or_else(|| {
        ImplError::new(
            ErrorClass::State,
            format!("{}: answered with another operation's output", R::OP),
        )
    })
}

/// The list of operations: `Variant(Request) -> Output = "op" by method`,
/// and whether the operation may leave sessions behind (then a shim client
/// sends `reset` before the next case).
macro_rules! operations {
    ($( $variant:ident($request:ident) -> $output:ident = $op:literal by $method:ident, sessions: $sessions:literal; )*) => {
        /// Every operation's request, as the shim protocol writes it
        /// (`{"op": "kdf_ck", ...fields}`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "op")]
        pub enum Request {
            $(
                #[doc = concat!("`", $op, "`.")]
                #[serde(rename = $op)]
                $variant($request),
            )*
        }

        /// Every operation's output; serialized, the `result` of a response.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum Response {
            $(
                #[doc = concat!("`", $op, "`.")]
                $variant($output),
            )*
        }

        impl Request {
            /// The wire `op`.
            pub fn op(&self) -> &'static str {
                match self {
                    $( Request::$variant(_) => $op, )*
                }
            }

            /// Whether answering may leave sessions in the implementation.
            pub fn touches_sessions(&self) -> bool {
                match self {
                    $( Request::$variant(_) => $sessions, )*
                }
            }

            /// Asks `imp` through its method for this operation.
            pub fn answer<I: Implementation + ?Sized>(self, imp: &mut I) -> ImplResult<Response> {
                match self {
                    $( Request::$variant(r) => imp.$method(&r).map(Response::$variant), )*
                }
            }

            /// Reads this operation's output from a response's `result`.
            pub fn decode(&self, result: serde_json::Value) -> Result<Response, serde_json::Error> {
                match self {
                    $( Request::$variant(_) => serde_json::from_value(result).map(Response::$variant), )*
                }
            }
        }

        $(
            impl Call for $request {
                const OP: &'static str = $op;
                type Output = $output;

                fn to_request(&self) -> Request {
                    Request::$variant(self.clone())
                }

                fn output(response: Response) -> Option<$output> {
                    match response {
                        Response::$variant(output) => Some(output),
                        _ => None,
                    }
                }
            }
        )*
    };
}

operations! {
    KdfRk(KdfRk) -> KdfRkOutput = "kdf_rk" by kdf_rk, sessions: false;
    KdfCk(KdfCk) -> KdfCkOutput = "kdf_ck" by kdf_ck, sessions: false;
    MessageKeys(MessageKeys) -> MessageKeysOutput = "message_keys" by message_keys, sessions: false;
    Seal(Seal) -> SealOutput = "seal" by seal, sessions: false;
    X3dhInitiate(X3dhInitiate) -> X3dhOutput = "x3dh_initiate" by x3dh_initiate, sessions: false;
    X3dhRespond(X3dhRespond) -> X3dhOutput = "x3dh_respond" by x3dh_respond, sessions: false;
    X3dhAccept(X3dhAccept) -> X3dhAcceptOutput = "x3dh_accept" by x3dh_accept, sessions: true;
    PqxdhInitiate(PqxdhInitiate) -> PqxdhOutput = "pqxdh_initiate" by pqxdh_initiate, sessions: false;
    PqxdhRespond(PqxdhRespond) -> PqxdhOutput = "pqxdh_respond" by pqxdh_respond, sessions: false;
    PqxdhAccept(PqxdhAccept) -> X3dhAcceptOutput = "pqxdh_accept" by pqxdh_accept, sessions: true;
    InitSession(SessionInit) -> SessionOutput = "init_session" by init_session, sessions: true;
    Encrypt(Encrypt) -> EncryptOutput = "encrypt" by encrypt, sessions: true;
    Decrypt(Decrypt) -> DecryptOutput = "decrypt" by decrypt, sessions: true;
    CloneSession(CloneSession) -> SessionOutput = "clone_session" by clone_session, sessions: true;
    ExportState(ExportState) -> ExportStateOutput = "export_state" by export_state, sessions: false;
    SessionKeys(SessionKeys) -> SessionKeysOutput = "session_keys" by session_keys, sessions: false;
    PrekeyInitiate(PrekeyInitiate) -> SessionOutput = "prekey_initiate" by prekey_initiate, sessions: true;
    PrekeyRespond(PrekeyRespond) -> PrekeyRespondOutput = "prekey_respond" by prekey_respond, sessions: true;
    PrekeyBundle(PrekeyBundle) -> PrekeyBundleOutput = "prekey_bundle" by prekey_bundle, sessions: true;
}

impl Request {
    /// Whether `response` fits this request beyond its fields (a shim whose
    /// answer does not has faulted).
    pub fn check(&self, response: &Response) -> Result<(), String> {
        match (self, response) {
            (Request::X3dhAccept(r), Response::X3dhAccept(out))
                if out.outcomes.len() != r.initial_messages.len() =>
            {
                Err(format!(
                    "{} outcomes for {} initial messages",
                    out.outcomes.len(),
                    r.initial_messages.len()
                ))
            }
            (Request::PqxdhAccept(r), Response::PqxdhAccept(out))
                if out.outcomes.len() != r.initial_messages.len() =>
            {
                Err(format!(
                    "{} outcomes for {} initial messages",
                    out.outcomes.len(),
                    r.initial_messages.len()
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// The PQXDH requests' field names, as docs/SHIM.md §4.7 and §4.8 give
    /// them (shims in other languages are written against these).
    #[test]
    fn pqxdh_requests_are_the_wire_objects_of_docs_shim_md() {
        let accept: Request = serde_json::from_str(
            r#"{"id":1,"op":"pqxdh_accept","suite":"s","identityPrivateKey":"00","signedPrekeys":[{"id":1,"privateKey":"02"}],"oneTimePrekeys":[],"kemPrekeys":[{"id":20,"publicKey":"0a","privateKey":"0b","lastResort":true}],"ratchetPrivateKeys":["03"],"initialMessages":["44"]}"#,
        )
        .unwrap();
        let Request::PqxdhAccept(accept) = accept else {
            panic!("not pqxdh_accept")
        };
        assert_eq!(
            accept.kem_prekeys,
            vec![KemPrekey {
                id: 20,
                public_key: vec![0x0a],
                private_key: vec![0x0b],
                last_resort: true,
            }]
        );
        let initiate = Request::PqxdhInitiate(PqxdhInitiate {
            suite: "s".into(),
            identity_private_key: vec![1],
            ephemeral_private_key: vec![2],
            encapsulation_seed: vec![3],
            peer_identity_key: vec![4],
            peer_signed_prekey: vec![5],
            peer_signed_prekey_signature: vec![6],
            peer_kem_prekey: vec![7],
            peer_kem_prekey_signature: vec![8],
            peer_one_time_prekey: None,
        });
        assert_eq!(
            serde_json::to_string(&initiate).unwrap(),
            r#"{"op":"pqxdh_initiate","suite":"s","identityPrivateKey":"01","ephemeralPrivateKey":"02","encapsulationSeed":"03","peerIdentityKey":"04","peerSignedPrekey":"05","peerSignedPrekeySignature":"06","peerKemPrekey":"07","peerKemPrekeySignature":"08"}"#
        );
        let respond: Request = serde_json::from_str(
            r#"{"op":"pqxdh_respond","suite":"s","identityPrivateKey":"01","signedPrekeyPrivateKey":"02","kemPrekeyPrivateKey":"03","peerIdentityKey":"04","peerEphemeralKey":"05","kemCiphertext":"0806"}"#,
        )
        .unwrap();
        let Request::PqxdhRespond(respond) = respond else {
            panic!("not pqxdh_respond")
        };
        assert_eq!(respond.kem_ciphertext, vec![8, 6]);
        assert_eq!(respond.one_time_prekey_private_key, None);
    }

    #[test]
    fn requests_are_the_wire_objects_of_docs_shim_md() {
        let seal = Request::Seal(Seal {
            suite: "s".into(),
            message_key: vec![0xab],
            ratchet_key: vec![1],
            pn: 2,
            n: 3,
            plaintext: vec![],
            ad: vec![0xff],
        });
        assert_eq!(
            serde_json::to_string(&seal).unwrap(),
            r#"{"op":"seal","suite":"s","messageKey":"ab","ratchetKey":"01","pn":2,"n":3,"plaintext":"","ad":"ff"}"#
        );
        let accept: Request = serde_json::from_str(
            r#"{"id":9,"op":"x3dh_accept","suite":"s","identityPrivateKey":"00","signedPrekeys":[{"id":1,"privateKey":"02"}],"oneTimePrekeys":[],"ratchetPrivateKeys":["03"],"initialMessages":[]}"#,
        )
        .unwrap();
        let Request::X3dhAccept(accept) = accept else {
            panic!("not x3dh_accept")
        };
        assert_eq!(accept.signed_prekeys, vec![(1, vec![2])]);
        let out = X3dhAcceptOutput {
            outcomes: vec![
                Err(ImplError::new(ErrorClass::Duplicate, "again")),
                Ok(X3dhAccepted {
                    plaintext: vec![1],
                    associated_data: vec![2],
                    peer_identity_key: vec![3],
                }),
            ],
        };
        let text = serde_json::to_string(&out).unwrap();
        assert_eq!(
            text,
            r#"{"outcomes":[{"error":{"class":"duplicate","message":"again"}},{"plaintext":"01","associatedData":"02","peerIdentityKey":"03"}]}"#
        );
        assert_eq!(
            serde_json::from_str::<X3dhAcceptOutput>(&text).unwrap(),
            out
        );
        let decrypt = Request::Decrypt(Decrypt {
            session: SessionHandle(4),
            message: vec![],
            ad: vec![],
            message_type: Some(MessageType::Prekey),
        });
        assert_eq!(
            serde_json::to_string(&decrypt).unwrap(),
            r#"{"op":"decrypt","session":4,"message":"","ad":"","messageType":"prekey"}"#
        );
    }

    #[test]
    fn prekey_bundle_is_a_group_and_declined_by_default() {
        assert_eq!(
            Operation::from_name("prekey_bundle"),
            Some(Operation::PrekeyBundle)
        );
        let request: Request =
            serde_json::from_str(r#"{"op":"prekey_bundle","suite":"olm-v1"}"#).unwrap();
        assert_eq!(
            request,
            Request::PrekeyBundle(PrekeyBundle {
                suite: "olm-v1".into()
            })
        );
        let out: PrekeyBundleOutput =
            serde_json::from_str(r#"{"identityKey":"01","oneTimePrekey":"02"}"#).unwrap();
        assert_eq!((out.identity_key, out.one_time_prekey), (vec![1], vec![2]));
        let mut reference = crate::Reference::new();
        assert!(
            !reference
                .capabilities()
                .operations
                .contains(&Operation::PrekeyBundle)
        );
        let err = reference
            .prekey_bundle(&PrekeyBundle {
                suite: "olm-v1".into(),
            })
            .unwrap_err();
        assert_eq!(err.class, ErrorClass::Unsupported);
    }

    #[test]
    fn prekey_requests_keep_the_signal_fields_and_drop_them_for_olm() {
        let signal = PrekeyRespond {
            suite: "signal-v3".into(),
            identity_private_key: vec![1],
            registration_id: Some(7),
            signed_prekey_id: Some(11),
            signed_prekey_private_key: Some(vec![2]),
            one_time_prekey_id: Some(77),
            one_time_prekey_private_key: Some(vec![3]),
            ratchet_private_keys: vec![vec![4]],
            message: vec![5],
            ..PrekeyRespond::default()
        };
        let text = r#"{"suite":"signal-v3","identityPrivateKey":"01","registrationId":7,"signedPrekeyId":11,"signedPrekeyPrivateKey":"02","oneTimePrekeyId":77,"oneTimePrekeyPrivateKey":"03","ratchetPrivateKeys":["04"],"message":"05"}"#;
        assert_eq!(serde_json::to_string(&signal).unwrap(), text);
        assert_eq!(serde_json::from_str::<PrekeyRespond>(text).unwrap(), signal);
        let olm = PrekeyRespond {
            suite: "olm-v1".into(),
            registration_id: None,
            signed_prekey_id: None,
            signed_prekey_private_key: None,
            one_time_prekey_id: None,
            ..signal
        };
        assert_eq!(
            serde_json::to_string(&olm).unwrap(),
            r#"{"suite":"olm-v1","identityPrivateKey":"01","oneTimePrekeyPrivateKey":"03","ratchetPrivateKeys":["04"],"message":"05"}"#
        );
        // A Signal request without its fields is read, then refused by the reference.
        let bare: PrekeyInitiate = serde_json::from_str(
            &format!(
                r#"{{"suite":"signal-v3","identityPrivateKey":"{k}","ephemeralPrivateKey":"{k}","ratchetPrivateKeys":["{k}"],"peerIdentityKey":"{k}"}}"#,
                k = "09".repeat(32)
            ),
        )
        .unwrap();
        let err = crate::Reference::new().prekey_initiate(&bare).unwrap_err();
        assert_eq!(err.class, ErrorClass::Malformed, "{err}");
        assert!(err.message.contains("need"), "{err}");
    }

    #[test]
    fn an_operation_nobody_implements_is_declined_by_name() {
        struct Nothing;
        impl Implementation for Nothing {
            fn capabilities(&self) -> Capabilities {
                Capabilities {
                    name: String::new(),
                    version: String::new(),
                    suites: Vec::new(),
                    operations: BTreeSet::new(),
                    max_skip: None,
                    max_stored_skipped_keys: None,
                    configurable_limits: false,
                    injected_randomness: false,
                    spqr: false,
                }
            }
        }
        let err = Nothing
            .export_state(&ExportState {
                session: SessionHandle(0),
            })
            .unwrap_err();
        assert_eq!(err.class, ErrorClass::Unsupported);
        assert!(err.message.contains("export_state"), "{err}");
    }
}
