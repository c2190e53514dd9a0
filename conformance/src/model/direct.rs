//! What the model may ask of an implementation beyond the [`Implementation`]
//! trait, and the one implementation that answers: the reference, with its
//! protocol [`Session`]s' bytes shown.
//!
//! The trait hides session state on purpose (a shim peer has no portable state
//! format), so through it the model can only check atomicity by behaviour.
//! The issue asks for more for the reference: a failed decryption must leave
//! the state *byte-identical*, and serialization must round-trip exactly.
//! [`ProtocolSessions`] exposes the serialized state so the runner checks both
//! after every step.
//!
//! The round trip (decode, re-encode, compare) costs a scalar multiplication
//! per decode, and the checker asks for a session's bytes several times a
//! step, mostly of sessions the step did not change. Whether bytes round-trip
//! depends on the bytes alone, so [`ProtocolSessions`] remembers, per
//! session, the last bytes it verified: every call still serializes the
//! session afresh, and decodes only when those bytes differ — once per
//! changed session per step.

use std::collections::BTreeMap;

use ratchetproof_protocol::Session;

use crate::implementation::{
    Capabilities, CloneSession, Decrypt, DecryptOutput, Encrypt, EncryptOutput, ErrorClass,
    ImplError, ImplResult, Implementation, Operation, Request, Response, SessionHandle,
    SessionInit, SessionOutput,
};
use crate::reference::Reference;

/// An implementation the model can drive. The default answers only through
/// the [`Implementation`] trait; one that can show its state lets the model
/// check byte-identity instead of behaviour.
pub trait Subject: Implementation {
    /// The complete serialized state of `session`, if the implementation
    /// exposes it. An `Err` means the state failed its own consistency check
    /// (for [`ProtocolSessions`]: it did not round-trip exactly).
    fn state_bytes(&mut self, session: SessionHandle) -> Option<ImplResult<Vec<u8>>> {
        let _ = session;
        None
    }
}

/// Seen through the trait alone, so the model checks it by behaviour.
impl Subject for Reference {}

/// The reference with its sessions' bytes shown, so the model checks
/// atomicity and round-trips byte for byte. Only the session operations are
/// offered.
#[derive(Debug, Default)]
pub struct ProtocolSessions {
    reference: Reference,
    /// Per session, the last serialized state that was shown to round-trip.
    verified: BTreeMap<SessionHandle, Vec<u8>>,
}

impl ProtocolSessions {
    /// No sessions yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The sessions of `reference`, e.g. one that speaks an extra suite
    /// ([`Reference::with_suites`]).
    pub fn with(reference: Reference) -> Self {
        Self {
            reference,
            verified: BTreeMap::new(),
        }
    }
}

impl Implementation for ProtocolSessions {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "ratchetproof-protocol (direct sessions)".into(),
            operations: [Operation::Session, Operation::Clone].into(),
            ..self.reference.capabilities()
        }
    }

    // The session operations go straight to the reference, without the
    // copy of the request that `forward` takes.
    fn init_session(&mut self, request: &SessionInit) -> ImplResult<SessionOutput> {
        self.reference.init_session(request)
    }

    fn encrypt(&mut self, request: &Encrypt) -> ImplResult<EncryptOutput> {
        self.reference.encrypt(request)
    }

    fn decrypt(&mut self, request: &Decrypt) -> ImplResult<DecryptOutput> {
        self.reference.decrypt(request)
    }

    fn clone_session(&mut self, request: &CloneSession) -> ImplResult<SessionOutput> {
        self.reference.clone_session(request)
    }

    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        match request {
            Request::InitSession(_)
            | Request::Encrypt(_)
            | Request::Decrypt(_)
            | Request::CloneSession(_) => request.answer(&mut self.reference),
            _ => Err(ImplError::unsupported(
                "ProtocolSessions offers session operations only",
            )),
        }
    }

    fn reset(&mut self) {
        self.reference.reset();
        self.verified.clear();
    }
}

impl Subject for ProtocolSessions {
    fn state_bytes(&mut self, session: SessionHandle) -> Option<ImplResult<Vec<u8>>> {
        let bytes = match self.reference.session_bytes(session) {
            Ok(bytes) => bytes,
            Err(e) => return Some(Err(e)),
        };
        if self.verified.get(&session) == Some(&bytes) {
            return Some(Ok(bytes));
        }
        let again =
            Session::from_bytes_in(&bytes, &self.reference.suites()).map(|s| s.to_bytes().to_vec());
        Some(match again {
            Ok(again) if again == bytes => {
                self.verified.insert(session, bytes.clone());
                Ok(bytes)
            }
            Ok(_) => Err(ImplError::new(
                ErrorClass::State,
                "serialized state re-encodes to different bytes",
            )),
            Err(e) => Err(ImplError::new(
                ErrorClass::State,
                format!("serialized state does not decode: {e}"),
            )),
        })
    }
}
