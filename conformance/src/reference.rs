//! The reference implementation (`ratchetproof-protocol`) behind the
//! [`Implementation`] trait, and the RNG that injects a vector's keys.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use ratchetproof_protocol::consts::{DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS};
use ratchetproof_protocol::x3dh::{self, PreKeyBundle, Responder};
use ratchetproof_protocol::{
    Header, KeyPair, MessageKey, PrivateKey, PublicKey, RootKey, Session, SessionConfig, SharedKey,
    Suite, suite,
};

use crate::implementation::ErrorClass;
use zeroize::Zeroizing;

use crate::implementation::{
    Capabilities, ImplError, ImplResult, Implementation, Operation, Role, SessionHandle,
    SessionInit, X3dhAccept, X3dhAccepted, X3dhInitiate, X3dhOutput, X3dhRespond,
};

/// An RNG that hands out a fixed list of 32-byte private keys, one per
/// 32-byte request, in order. This is how vectors inject ratchet keys by role:
/// the reference draws exactly one 32-byte key per committed DH ratchet step.
///
/// Any other request, or a request after the list is exhausted, is answered
/// with zeros and recorded; [`KeyQueueRng::misused`] tells the caller the
/// vector did not supply what the implementation needed.
#[derive(Debug, Default, Clone)]
pub struct KeyQueueRng {
    keys: VecDeque<Zeroizing<[u8; 32]>>,
    misused: bool,
}

impl KeyQueueRng {
    /// A queue of the given keys.
    pub fn new(keys: impl IntoIterator<Item = [u8; 32]>) -> Self {
        Self {
            keys: keys.into_iter().map(Zeroizing::new).collect(),
            misused: false,
        }
    }

    /// Whether a request could not be served from the list.
    pub fn misused(&self) -> bool {
        self.misused
    }

    /// Keys not yet handed out.
    pub fn remaining(&self) -> usize {
        self.keys.len()
    }
}

impl TryRng for KeyQueueRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.misused = true;
        Ok(0)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.misused = true;
        Ok(0)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match (dst.len(), self.keys.pop_front()) {
            (32, Some(key)) => dst.copy_from_slice(key.as_slice()),
            _ => {
                dst.fill(0);
                self.misused = true;
            }
        }
        Ok(())
    }
}

/// The keys are chosen by the vector author; this marker only lets them
/// reach the protocol API, which asks for a `CryptoRng`.
impl TryCryptoRng for KeyQueueRng {}

/// The built-in reference implementation.
#[derive(Debug, Default)]
pub struct Reference {
    sessions: BTreeMap<u64, (Session, KeyQueueRng)>,
    next_handle: u64,
}

impl Reference {
    /// A reference with no sessions.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many injected ratchet keys session `handle` has not used yet.
    pub fn unused_injected_keys(&self, handle: SessionHandle) -> Option<usize> {
        self.sessions.get(&handle.0).map(|(_, rng)| rng.remaining())
    }

    fn add(&mut self, session: Session, rng: KeyQueueRng) -> SessionHandle {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.sessions.insert(handle, (session, rng));
        SessionHandle(handle)
    }

    fn session(&mut self, handle: SessionHandle) -> ImplResult<&mut (Session, KeyQueueRng)> {
        self.sessions
            .get_mut(&handle.0)
            .ok_or_else(|| ImplError::new(ErrorClass::State, format!("no session {}", handle.0)))
    }
}

/// The suite named `name`, or an `unsupported` error.
pub fn suite_named(name: &str) -> ImplResult<Suite> {
    suite::by_name(name).ok_or_else(|| ImplError::unsupported(format!("unknown suite {name:?}")))
}

pub(crate) fn key32(bytes: &[u8], what: &str) -> ImplResult<Zeroizing<[u8; 32]>> {
    <[u8; 32]>::try_from(bytes)
        .map(Zeroizing::new)
        .map_err(|_| {
            ImplError::new(
                ErrorClass::InvalidKey,
                format!("{what} must be 32 bytes, got {}", bytes.len()),
            )
        })
}

pub(crate) fn public(bytes: &[u8], what: &str) -> ImplResult<PublicKey> {
    Ok(PublicKey::from_bytes(*key32(bytes, what)?))
}

pub(crate) fn key_pair(bytes: &[u8], what: &str) -> ImplResult<KeyPair> {
    Ok(KeyPair::from_private(PrivateKey::from_bytes(*key32(
        bytes, what,
    )?)))
}

pub(crate) fn key_queue(keys: &[Vec<u8>]) -> ImplResult<KeyQueueRng> {
    let keys = keys
        .iter()
        .map(|k| key32(k, "injected ratchet private key").map(|k| *k))
        .collect::<ImplResult<Vec<_>>>()?;
    Ok(KeyQueueRng::new(keys))
}

/// Alice's view of Bob's bundle from an X3DH request (ids are not part of
/// the request; they do not enter the agreement).
pub(crate) fn bundle_from_request(request: &X3dhInitiate) -> ImplResult<PreKeyBundle> {
    Ok(PreKeyBundle {
        identity_key: public(&request.peer_identity_key, "peer identity key")?,
        signed_prekey_id: 0,
        signed_prekey: public(&request.peer_signed_prekey, "peer signed prekey")?,
        signed_prekey_signature: request
            .peer_signed_prekey_signature
            .as_slice()
            .try_into()
            .map_err(|_| {
                ImplError::new(
                    ErrorClass::InvalidKey,
                    "a signed-prekey signature is 64 bytes",
                )
            })?,
        one_time_prekey: match &request.peer_one_time_prekey {
            Some(k) => Some((0, public(k, "peer one-time prekey")?)),
            None => None,
        },
    })
}

pub(crate) fn check_rng(rng: &KeyQueueRng) -> ImplResult<()> {
    if rng.misused() {
        return Err(ImplError::new(
            ErrorClass::State,
            "the vector supplied too few injected ratchet keys",
        ));
    }
    Ok(())
}

impl Implementation for Reference {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            name: "ratchetproof-protocol".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            suites: suite::all().iter().map(|s| s.name().to_string()).collect(),
            operations: BTreeSet::from([
                Operation::Primitives,
                Operation::X3dh,
                Operation::Session,
                Operation::Clone,
                Operation::X3dhAccept,
                Operation::Export,
            ]),
            max_skip: Some(DEFAULT_MAX_SKIP),
            max_stored_skipped_keys: Some(DEFAULT_MAX_STORED_SKIPPED_KEYS),
            configurable_limits: true,
            injected_randomness: true,
        }
    }

    fn kdf_rk(&mut self, suite: &str, rk: &[u8], dh_out: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        let suite = suite_named(suite)?;
        let rk = RootKey::from_bytes(*key32(rk, "root key")?);
        let dh = ratchetproof_protocol::DhOutput::from_bytes(*key32(dh_out, "DH output")?);
        let (rk, ck) = suite.kdf_rk(&rk, &dh);
        Ok((rk.as_bytes().to_vec(), ck.as_bytes().to_vec()))
    }

    fn kdf_ck(&mut self, suite: &str, ck: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        let suite = suite_named(suite)?;
        let ck = ratchetproof_protocol::ChainKey::from_bytes(*key32(ck, "chain key")?);
        let (ck, mk) = suite.kdf_ck(&ck);
        Ok((ck.as_bytes().to_vec(), mk.as_bytes().to_vec()))
    }

    fn message_keys(&mut self, suite: &str, mk: &[u8]) -> ImplResult<Vec<u8>> {
        let suite = suite_named(suite)?;
        let mk = MessageKey::from_bytes(*key32(mk, "message key")?);
        Ok(suite.message_keys(&mk).to_vec())
    }

    fn seal(
        &mut self,
        suite: &str,
        mk: &[u8],
        ratchet_key: &[u8],
        pn: u32,
        n: u32,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let suite = suite_named(suite)?;
        let mk = MessageKey::from_bytes(*key32(mk, "message key")?);
        let header = Header {
            dh: public(ratchet_key, "ratchet public key")?,
            pn,
            n,
        };
        Ok(suite.seal(&mk, &header, plaintext, ad)?)
    }

    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        let suite = suite_named(&request.suite)?;
        let bundle = bundle_from_request(request)?;
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let ephemeral = key_pair(&request.ephemeral_private_key, "ephemeral private key")?;
        let initiation = x3dh::initiate_with_ephemeral(suite, &identity, &bundle, ephemeral)?;
        Ok(X3dhOutput {
            shared_key: initiation.agreement.shared_key.as_bytes().to_vec(),
            associated_data: initiation.agreement.associated_data.to_vec(),
        })
    }

    fn x3dh_respond(&mut self, request: &X3dhRespond) -> ImplResult<X3dhOutput> {
        let suite = suite_named(&request.suite)?;
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let spk = key_pair(
            &request.signed_prekey_private_key,
            "signed prekey private key",
        )?;
        let opk = match &request.one_time_prekey_private_key {
            Some(k) => Some(key_pair(k, "one-time prekey private key")?),
            None => None,
        };
        let agreement = x3dh::respond(
            suite,
            &identity,
            &spk,
            opk.as_ref(),
            &public(&request.peer_identity_key, "peer identity key")?,
            &public(&request.peer_ephemeral_key, "peer ephemeral key")?,
        )?;
        Ok(X3dhOutput {
            shared_key: agreement.shared_key.as_bytes().to_vec(),
            associated_data: agreement.associated_data.to_vec(),
        })
    }

    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<Vec<ImplResult<X3dhAccepted>>> {
        let suite = suite_named(&request.suite)?;
        let mut responder = Responder::new(key_pair(
            &request.identity_private_key,
            "identity private key",
        )?);
        for (id, key) in &request.signed_prekeys {
            responder.add_signed_prekey(*id, key_pair(key, "signed prekey private key")?);
        }
        for (id, key) in &request.one_time_prekeys {
            responder.add_one_time_prekey(*id, key_pair(key, "one-time prekey private key")?);
        }
        let mut rng = key_queue(&request.ratchet_private_keys)?;
        let mut outcomes = Vec::with_capacity(request.initial_messages.len());
        for message in &request.initial_messages {
            let outcome = responder
                .accept(suite, SessionConfig::default(), message, &mut rng)
                .map_err(ImplError::from)
                .and_then(|accepted| {
                    check_rng(&rng)?;
                    Ok(X3dhAccepted {
                        plaintext: accepted.plaintext,
                        associated_data: accepted.associated_data.to_vec(),
                        peer_identity_key: accepted.peer_identity.as_bytes().to_vec(),
                    })
                });
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionHandle> {
        let suite = suite_named(&init.suite)?;
        let config = SessionConfig {
            max_skip: init.max_skip.unwrap_or(DEFAULT_MAX_SKIP),
            max_stored_skipped_keys: init
                .max_stored_skipped_keys
                .unwrap_or(DEFAULT_MAX_STORED_SKIPPED_KEYS),
        };
        let sk = SharedKey::from_bytes(*key32(&init.shared_key, "shared key")?);
        let mut rng = key_queue(&init.ratchet_private_keys)?;
        let session = match init.role {
            Role::Alice => Session::init_alice(
                suite,
                config,
                sk,
                public(&init.ratchet_key, "peer ratchet public key")?,
                &mut rng,
            )?,
            Role::Bob => Session::init_bob(
                suite,
                config,
                sk,
                key_pair(&init.ratchet_key, "ratchet private key")?,
            )?,
        };
        check_rng(&rng)?;
        Ok(self.add(session, rng))
    }

    fn encrypt(
        &mut self,
        session: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let (session, _) = self.session(session)?;
        Ok(session.encrypt(plaintext, ad)?)
    }

    fn decrypt(
        &mut self,
        session: SessionHandle,
        message: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let (session, rng) = self.session(session)?;
        let plaintext = session.decrypt(message, ad, rng)?;
        check_rng(rng)?;
        Ok(plaintext)
    }

    fn clone_session(
        &mut self,
        session: SessionHandle,
        ratchet_private_keys: &[Vec<u8>],
    ) -> ImplResult<SessionHandle> {
        let (original, _) = self.session(session)?;
        let state = original.to_bytes();
        let copy = Session::from_bytes(&state)?;
        let rng = key_queue(ratchet_private_keys)?;
        Ok(self.add(copy, rng))
    }

    /// The protocol crate's own state encoding (SPEC.md §10).
    fn export_state(&mut self, session: SessionHandle) -> ImplResult<Vec<u8>> {
        let (session, _) = self.session(session)?;
        Ok(session.to_bytes().to_vec())
    }

    fn reset(&mut self) {
        self.sessions.clear();
    }
}
