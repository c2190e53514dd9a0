//! What the model may ask of an implementation beyond the [`Implementation`]
//! trait, and the one implementation that answers: the reference protocol's
//! [`Session`] driven directly.
//!
//! The trait hides session state on purpose (a shim peer has no portable state
//! format), so through it the model can only check atomicity by behaviour.
//! The issue asks for more for the reference: a failed decryption must leave
//! the state *byte-identical*, and serialization must round-trip exactly.
//! [`ProtocolSessions`] exposes the serialized state so the runner checks both
//! after every step.

use std::collections::BTreeMap;

use ratchetproof_protocol::consts::{DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS};
use ratchetproof_protocol::{KeyPair, PrivateKey, PublicKey, Session, SessionConfig, SharedKey};

use crate::implementation::ErrorClass;

use crate::implementation::{
    Capabilities, ImplError, ImplResult, Implementation, Operation, Role, SessionHandle,
    SessionInit, X3dhInitiate, X3dhOutput, X3dhRespond,
};
use crate::reference::{KeyQueueRng, Reference, key_queue, suite_named};

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

impl Subject for Reference {}

/// The reference's sessions, held as [`Session`] values so their bytes can be
/// compared. Only the session operations are offered.
#[derive(Debug, Default)]
pub struct ProtocolSessions {
    sessions: BTreeMap<u64, (Session, KeyQueueRng)>,
    next_handle: u64,
}

impl ProtocolSessions {
    /// No sessions yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, session: Session, rng: KeyQueueRng) -> SessionHandle {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.sessions.insert(handle, (session, rng));
        SessionHandle(handle)
    }

    fn get(&mut self, handle: SessionHandle) -> ImplResult<&mut (Session, KeyQueueRng)> {
        self.sessions
            .get_mut(&handle.0)
            .ok_or_else(|| ImplError::new(ErrorClass::State, format!("no session {}", handle.0)))
    }
}

/// A 32-byte input as a plain array (the reference's helper zeroizes it).
fn key32(bytes: &[u8], what: &str) -> ImplResult<[u8; 32]> {
    Ok(*crate::reference::key32(bytes, what)?)
}

fn unsupported<T>() -> ImplResult<T> {
    Err(ImplError::unsupported(
        "ProtocolSessions offers session operations only",
    ))
}

impl Implementation for ProtocolSessions {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "ratchetproof-protocol (direct sessions)".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            suites: ratchetproof_protocol::suite::all()
                .iter()
                .map(|s| s.name().to_string())
                .collect(),
            operations: [Operation::Session, Operation::Clone].into(),
            max_skip: Some(DEFAULT_MAX_SKIP),
            max_stored_skipped_keys: Some(DEFAULT_MAX_STORED_SKIPPED_KEYS),
            configurable_limits: true,
            injected_randomness: true,
        }
    }

    fn kdf_rk(&mut self, _: &str, _: &[u8], _: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        unsupported()
    }

    fn kdf_ck(&mut self, _: &str, _: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        unsupported()
    }

    fn message_keys(&mut self, _: &str, _: &[u8]) -> ImplResult<Vec<u8>> {
        unsupported()
    }

    fn seal(
        &mut self,
        _: &str,
        _: &[u8],
        _: &[u8],
        _: u32,
        _: u32,
        _: &[u8],
        _: &[u8],
    ) -> ImplResult<Vec<u8>> {
        unsupported()
    }

    fn x3dh_initiate(&mut self, _: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        unsupported()
    }

    fn x3dh_respond(&mut self, _: &X3dhRespond) -> ImplResult<X3dhOutput> {
        unsupported()
    }

    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionHandle> {
        let suite = suite_named(&init.suite)?;
        let config = SessionConfig {
            max_skip: init.max_skip.unwrap_or(DEFAULT_MAX_SKIP),
            max_stored_skipped_keys: init
                .max_stored_skipped_keys
                .unwrap_or(DEFAULT_MAX_STORED_SKIPPED_KEYS),
        };
        let sk = SharedKey::from_bytes(key32(&init.shared_key, "shared key")?);
        let mut rng = key_queue(&init.ratchet_private_keys)?;
        let session = match init.role {
            Role::Alice => Session::init_alice(
                suite,
                config,
                sk,
                PublicKey::from_bytes(key32(&init.ratchet_key, "peer ratchet key")?),
                &mut rng,
            )?,
            Role::Bob => Session::init_bob(
                suite,
                config,
                sk,
                KeyPair::from_private(PrivateKey::from_bytes(key32(
                    &init.ratchet_key,
                    "ratchet private key",
                )?)),
            )?,
        };
        Ok(self.add(session, rng))
    }

    fn encrypt(
        &mut self,
        session: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        Ok(self.get(session)?.0.encrypt(plaintext, ad)?)
    }

    fn decrypt(
        &mut self,
        session: SessionHandle,
        message: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let (session, rng) = self.get(session)?;
        let plaintext = session.decrypt(message, ad, rng)?;
        if rng.misused() {
            return Err(ImplError::new(
                ErrorClass::State,
                "ran out of injected ratchet keys",
            ));
        }
        Ok(plaintext)
    }

    fn clone_session(
        &mut self,
        session: SessionHandle,
        ratchet_private_keys: &[Vec<u8>],
    ) -> ImplResult<SessionHandle> {
        let copy = Session::from_bytes(&self.get(session)?.0.to_bytes())?;
        let rng = key_queue(ratchet_private_keys)?;
        Ok(self.add(copy, rng))
    }

    fn reset(&mut self) {
        self.sessions.clear();
    }
}

impl Subject for ProtocolSessions {
    fn state_bytes(&mut self, session: SessionHandle) -> Option<ImplResult<Vec<u8>>> {
        let session = match self.get(session) {
            Ok((session, _)) => session,
            Err(e) => return Some(Err(e)),
        };
        let bytes = session.to_bytes().to_vec();
        let again = Session::from_bytes(&bytes).map(|s| s.to_bytes().to_vec());
        Some(match again {
            Ok(again) if again == bytes => Ok(bytes),
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
