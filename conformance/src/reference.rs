//! The reference implementation (`ratchetproof-protocol`) behind the
//! [`Implementation`] trait, and the RNG that injects a vector's keys.
//!
//! Besides the sessions vectors start with injected keys, it builds prekey
//! sessions (group `prekey`) the way libsignal does, for live interop
//! (`crate::interop`): Alice wraps every message in an initial message until
//! she has decrypted one from Bob; Bob accepts later initial messages with
//! the same base key as messages of the session he has.
//!
//! Olm (`olm-v1`, not a suite of the protocol crate's seams) has sessions
//! only through its key agreement: `reference/olm.rs` builds and drives them behind the
//! same prekey operations.

mod olm;

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use ratchetproof_protocol::consts::{DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS};
use ratchetproof_protocol::kem::{self as kem_mod, Kem, KemKeyPair};
use ratchetproof_protocol::pqxdh::SignedKemPrekey;
use ratchetproof_protocol::x3dh::{
    self, Ephemeral, InitialMessage, KemPrekeyUse, PreKeyBundle, Responder,
};
use ratchetproof_protocol::{
    Header, KeyPair, MessageKey, PrivateKey, PublicKey, RootKey, Session, SessionConfig, SharedKey,
    Suite, suite,
};

use zeroize::Zeroizing;

use crate::implementation::{
    Capabilities, CloneSession, Decrypt, DecryptOutput, Encrypt, EncryptOutput, ErrorClass,
    ExportState, ExportStateOutput, ImplError, ImplResult, Implementation, KdfCk, KdfCkOutput,
    KdfRk, KdfRkOutput, MessageKeys, MessageKeysOutput, MessageType, Operation, PrekeyInitiate,
    PrekeyRespond, PrekeyRespondOutput, ReceiverChain, Role, Seal, SealOutput, SessionHandle,
    SessionInit, SessionKeys, SessionKeysOutput, SessionOutput, X3dhAccept, X3dhAcceptOutput,
    X3dhAccepted, X3dhInitiate, X3dhOutput, X3dhRespond,
};
use crate::implementation::{KemPrekey, PqxdhAccept, PqxdhInitiate, PqxdhOutput, PqxdhRespond};

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
    sessions: BTreeMap<u64, Entry>,
    /// `olm-v1` sessions; handles are shared with `sessions`.
    olm: BTreeMap<u64, olm::OlmEntry>,
    next_handle: u64,
    /// Suites beyond the protocol crate's own (`suite::all()`), e.g. one
    /// defined in a test; see [`Reference::with_suites`].
    extra_suites: Vec<Suite>,
}

/// One session, with the keys it draws from.
#[derive(Debug)]
struct Entry {
    session: Session,
    rng: KeyQueueRng,
    /// Set on sessions built from prekeys.
    prekey: Option<PrekeyState>,
}

/// What a session built from prekeys knows beyond the ratchet.
#[derive(Debug)]
struct PrekeyState {
    suite: Suite,
    /// The AD from X3DH, which the session uses whatever the caller passes
    /// (as libsignal's do).
    ad: Vec<u8>,
    /// Alice, until she has decrypted a message: the initial message her
    /// messages travel in (libsignal's "unacknowledged prekey message").
    pending: Option<InitialMessage>,
    /// Bob: EKa, which names the session in later initial messages.
    base_key: Option<PublicKey>,
}

impl Reference {
    /// A reference with no sessions, speaking the protocol crate's suites.
    pub fn new() -> Self {
        Self::default()
    }

    /// A reference that also speaks `suites` (a suite defined outside the
    /// protocol crate, such as a test's): vectors generated for it run
    /// against this reference like any built-in suite's.
    pub fn with_suites(suites: impl IntoIterator<Item = Suite>) -> Self {
        let mut reference = Self::new();
        for extra in suites {
            if !reference.suites().iter().any(|s| s.name() == extra.name()) {
                reference.extra_suites.push(extra);
            }
        }
        reference
    }

    /// Every suite this reference speaks: the built-in ones first.
    pub fn suites(&self) -> Vec<Suite> {
        suite::all()
            .into_iter()
            .chain(self.extra_suites.iter().copied())
            .collect()
    }

    /// The suite named `name`, or an `unsupported` error.
    fn suite(&self, name: &str) -> ImplResult<Suite> {
        self.suites()
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| ImplError::unsupported(format!("unknown suite {name:?}")))
    }

    /// How many injected ratchet keys session `handle` has not used yet.
    pub fn unused_injected_keys(&self, handle: SessionHandle) -> Option<usize> {
        match self.olm.get(&handle.0) {
            Some(e) => Some(e.rng.remaining()),
            None => self.sessions.get(&handle.0).map(|e| e.rng.remaining()),
        }
    }

    /// The protocol crate's serialization of session `handle` (SPEC.md §10).
    pub fn session_bytes(&self, handle: SessionHandle) -> ImplResult<Vec<u8>> {
        self.sessions
            .get(&handle.0)
            .map(|e| e.session.to_bytes().to_vec())
            .ok_or_else(|| no_session(handle))
    }

    fn add_olm(&mut self, entry: olm::OlmEntry) -> SessionOutput {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.olm.insert(handle, entry);
        SessionOutput {
            session: SessionHandle(handle),
        }
    }

    fn add(
        &mut self,
        session: Session,
        rng: KeyQueueRng,
        prekey: Option<PrekeyState>,
    ) -> SessionOutput {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.sessions.insert(
            handle,
            Entry {
                session,
                rng,
                prekey,
            },
        );
        SessionOutput {
            session: SessionHandle(handle),
        }
    }

    fn entry(&mut self, handle: SessionHandle) -> ImplResult<&mut Entry> {
        self.sessions
            .get_mut(&handle.0)
            .ok_or_else(|| no_session(handle))
    }
}

fn no_session(handle: SessionHandle) -> ImplError {
    ImplError::new(ErrorClass::State, format!("no session {}", handle.0))
}

/// An (id, key) pair whose two halves travel as separate optional fields.
fn one_time_prekey<'a>(
    id: Option<u32>,
    key: Option<&'a [u8]>,
    names: &str,
) -> ImplResult<Option<(u32, &'a [u8])>> {
    match (id, key) {
        (Some(id), Some(key)) => Ok(Some((id, key))),
        (None, None) => Ok(None),
        _ => Err(ImplError::new(
            ErrorClass::Malformed,
            format!("{names} come together"),
        )),
    }
}

/// A field the Signal suites' prekey builders need (absent only for
/// `olm-v1`): a request without it is refused, never defaulted.
fn signal_field<T>(field: Option<T>, name: &str, suite: &str) -> ImplResult<T> {
    field.ok_or_else(|| {
        ImplError::new(
            ErrorClass::Malformed,
            format!("{suite} prekey sessions need {name}"),
        )
    })
}

/// The built-in suite named `name`, or an `unsupported` error.
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
        kem_prekey: None,
    })
}

/// The signed KEM prekey of a PQXDH `prekey_initiate` (`None` when the
/// request names none: an X3DH suite, or a PQXDH bundle the agreement
/// refuses for lacking it).
fn signed_kem_prekey(r: &PrekeyInitiate) -> ImplResult<Option<SignedKemPrekey>> {
    match (
        r.peer_kem_prekey_id,
        &r.peer_kem_prekey,
        &r.peer_kem_prekey_signature,
    ) {
        (None, None, None) => Ok(None),
        (Some(id), Some(key), Some(signature)) => Ok(Some(SignedKemPrekey {
            id,
            key: key.clone(),
            signature: signature
                .as_slice()
                .try_into()
                .map_err(|_| ImplError::new(ErrorClass::InvalidKey, "a signature is 64 bytes"))?,
        })),
        _ => Err(ImplError::new(
            ErrorClass::State,
            "peerKemPrekeyId, peerKemPrekey and peerKemPrekeySignature come together",
        )),
    }
}

/// The KEM of a PQXDH suite; a suite without one does not speak PQXDH.
fn suite_kem(suite: Suite) -> ImplResult<&'static dyn Kem> {
    suite.key_agreement().kem().ok_or_else(|| {
        ImplError::unsupported(format!("suite {} has no KEM (not PQXDH)", suite.name()))
    })
}

/// A 64-byte signature, or `invalid_key`.
fn signature64(bytes: &[u8], what: &str) -> ImplResult<[u8; 64]> {
    bytes.try_into().map_err(|_| {
        ImplError::new(
            ErrorClass::InvalidKey,
            format!("{what} is 64 bytes, got {}", bytes.len()),
        )
    })
}

/// A KEM key pair from a bare decapsulation key alone: FIPS 203 (and
/// round-3 Kyber) lay the decapsulation key out as `dk_PKE ‖ ek ‖ H(ek) ‖ z`,
/// so the encapsulation key is bytes 1536..3104 of it. Decapsulation uses
/// only the decapsulation key; the public half is for the type only.
fn kem_pair_from_secret(secret: &[u8]) -> ImplResult<KemKeyPair> {
    const EK_AT: usize = kem_mod::SECRET_KEY_LEN - kem_mod::PUBLIC_KEY_LEN - 64;
    if secret.len() != kem_mod::SECRET_KEY_LEN {
        return Err(ImplError::new(
            ErrorClass::InvalidKey,
            format!(
                "a KEM decapsulation key is {} bytes, got {}",
                kem_mod::SECRET_KEY_LEN,
                secret.len()
            ),
        ));
    }
    let public = secret
        .get(EK_AT..EK_AT + kem_mod::PUBLIC_KEY_LEN)
        .unwrap_or_default();
    Ok(KemKeyPair::from_parts(secret, public)?)
}

/// Bob's prekey store from an acceptance request: EC prekeys, and KEM
/// prekeys for PQXDH.
fn responder_from(
    identity_private_key: &[u8],
    signed_prekeys: &[(u32, Vec<u8>)],
    one_time_prekeys: &[(u32, Vec<u8>)],
    kem_prekeys: &[KemPrekey],
) -> ImplResult<Responder> {
    let mut responder = Responder::new(key_pair(identity_private_key, "identity private key")?);
    for (id, key) in signed_prekeys {
        responder.add_signed_prekey(*id, key_pair(key, "signed prekey private key")?);
    }
    for (id, key) in one_time_prekeys {
        responder.add_one_time_prekey(*id, key_pair(key, "one-time prekey private key")?);
    }
    for k in kem_prekeys {
        let usage = if k.last_resort {
            KemPrekeyUse::LastResort
        } else {
            KemPrekeyUse::OneTime
        };
        responder.add_kem_prekey(
            k.id,
            KemKeyPair::from_parts(&k.private_key, &k.public_key)?,
            usage,
        );
    }
    Ok(responder)
}

/// Bob's store accepting `messages` in order, one outcome each.
fn accept_all(
    suite: Suite,
    responder: &mut Responder,
    ratchet_private_keys: &[Vec<u8>],
    messages: &[Vec<u8>],
) -> ImplResult<X3dhAcceptOutput> {
    let mut rng = key_queue(ratchet_private_keys)?;
    let mut outcomes = Vec::with_capacity(messages.len());
    for message in messages {
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
    Ok(X3dhAcceptOutput { outcomes })
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
            // Every suite of the registry, then those added by `with_suites`.
            suites: suite::registry()
                .into_iter()
                .map(|s| s.name())
                .chain(self.extra_suites.iter().map(|s| s.name()))
                .map(str::to_string)
                .collect(),
            // Every group but `prekey_bundle`, which only shims that cannot
            // take injected keys need.
            operations: Operation::ALL
                .into_iter()
                .filter(|op| *op != Operation::PrekeyBundle)
                .collect(),
            max_skip: Some(DEFAULT_MAX_SKIP),
            max_stored_skipped_keys: Some(DEFAULT_MAX_STORED_SKIPPED_KEYS),
            configurable_limits: true,
            injected_randomness: true,
            spqr: false,
        }
    }

    fn kdf_rk(&mut self, r: &KdfRk) -> ImplResult<KdfRkOutput> {
        if olm::is_olm(&r.suite) {
            return olm::kdf_rk(r);
        }
        let suite = self.suite(&r.suite)?;
        let rk = RootKey::from_bytes(*key32(&r.root_key, "root key")?);
        let dh = ratchetproof_protocol::DhOutput::from_bytes(*key32(&r.dh_output, "DH output")?);
        let (rk, ck) = suite.kdf_rk(&rk, &dh);
        Ok(KdfRkOutput {
            root_key: rk.as_bytes().to_vec(),
            chain_key: ck.as_bytes().to_vec(),
        })
    }

    fn kdf_ck(&mut self, r: &KdfCk) -> ImplResult<KdfCkOutput> {
        if olm::is_olm(&r.suite) {
            return olm::kdf_ck(r);
        }
        let suite = self.suite(&r.suite)?;
        let ck = ratchetproof_protocol::ChainKey::from_bytes(*key32(&r.chain_key, "chain key")?);
        let (ck, mk) = suite.kdf_ck(&ck);
        Ok(KdfCkOutput {
            chain_key: ck.as_bytes().to_vec(),
            message_key: mk.as_bytes().to_vec(),
        })
    }

    fn message_keys(&mut self, r: &MessageKeys) -> ImplResult<MessageKeysOutput> {
        if olm::is_olm(&r.suite) {
            return olm::message_keys(r);
        }
        let suite = self.suite(&r.suite)?;
        let mk = MessageKey::from_bytes(*key32(&r.message_key, "message key")?);
        Ok(MessageKeysOutput {
            keys: suite.message_keys(&mk).to_vec(),
        })
    }

    fn seal(&mut self, r: &Seal) -> ImplResult<SealOutput> {
        let suite = self.suite(&r.suite)?;
        let mk = MessageKey::from_bytes(*key32(&r.message_key, "message key")?);
        let header = Header {
            dh: public(&r.ratchet_key, "ratchet public key")?,
            pn: r.pn,
            n: r.n,
        };
        Ok(SealOutput {
            message: suite.seal(&mk, &header, &r.plaintext, &r.ad)?,
        })
    }

    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        let suite = self.suite(&request.suite)?;
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
        let suite = self.suite(&request.suite)?;
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

    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<X3dhAcceptOutput> {
        let suite = self.suite(&request.suite)?;
        let mut responder = responder_from(
            &request.identity_private_key,
            &request.signed_prekeys,
            &request.one_time_prekeys,
            &[],
        )?;
        accept_all(
            suite,
            &mut responder,
            &request.ratchet_private_keys,
            &request.initial_messages,
        )
    }

    fn pqxdh_initiate(&mut self, request: &PqxdhInitiate) -> ImplResult<PqxdhOutput> {
        let suite = self.suite(&request.suite)?;
        suite_kem(suite)?;
        let mut bundle = bundle_from_request(&X3dhInitiate {
            suite: request.suite.clone(),
            identity_private_key: request.identity_private_key.clone(),
            ephemeral_private_key: request.ephemeral_private_key.clone(),
            peer_identity_key: request.peer_identity_key.clone(),
            peer_signed_prekey: request.peer_signed_prekey.clone(),
            peer_signed_prekey_signature: request.peer_signed_prekey_signature.clone(),
            peer_one_time_prekey: request.peer_one_time_prekey.clone(),
        })?;
        bundle.kem_prekey = Some(SignedKemPrekey {
            id: 0,
            key: request.peer_kem_prekey.clone(),
            signature: signature64(&request.peer_kem_prekey_signature, "a KEM-prekey signature")?,
        });
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let ephemeral = Ephemeral {
            key: key_pair(&request.ephemeral_private_key, "ephemeral private key")?,
            encapsulation: Some(key32(&request.encapsulation_seed, "encapsulation seed")?),
        };
        let initiation = suite
            .key_agreement()
            .initiate(&identity, &bundle, ephemeral)?;
        Ok(PqxdhOutput {
            shared_key: initiation.agreement.shared_key.as_bytes().to_vec(),
            associated_data: initiation.agreement.associated_data.to_vec(),
            kem_ciphertext: initiation.kem.map(|k| k.ciphertext),
        })
    }

    fn pqxdh_respond(&mut self, request: &PqxdhRespond) -> ImplResult<PqxdhOutput> {
        let suite = self.suite(&request.suite)?;
        suite_kem(suite)?;
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let spk = key_pair(
            &request.signed_prekey_private_key,
            "signed prekey private key",
        )?;
        let opk = match &request.one_time_prekey_private_key {
            Some(k) => Some(key_pair(k, "one-time prekey private key")?),
            None => None,
        };
        let kem_prekey = kem_pair_from_secret(&request.kem_prekey_private_key)?;
        let agreement = suite.key_agreement().respond(
            &identity,
            &spk,
            opk.as_ref(),
            Some(ratchetproof_protocol::agreement::KemResponse {
                prekey: &kem_prekey,
                ciphertext: &request.kem_ciphertext,
            }),
            &public(&request.peer_identity_key, "peer identity key")?,
            &public(&request.peer_ephemeral_key, "peer ephemeral key")?,
        )?;
        Ok(PqxdhOutput {
            shared_key: agreement.shared_key.as_bytes().to_vec(),
            associated_data: agreement.associated_data.to_vec(),
            kem_ciphertext: None,
        })
    }

    fn pqxdh_accept(&mut self, request: &PqxdhAccept) -> ImplResult<X3dhAcceptOutput> {
        let suite = self.suite(&request.suite)?;
        suite_kem(suite)?;
        let mut responder = responder_from(
            &request.identity_private_key,
            &request.signed_prekeys,
            &request.one_time_prekeys,
            &request.kem_prekeys,
        )?;
        accept_all(
            suite,
            &mut responder,
            &request.ratchet_private_keys,
            &request.initial_messages,
        )
    }

    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionOutput> {
        let suite = self.suite(&init.suite)?;
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
        Ok(self.add(session, rng, None))
    }

    fn encrypt(&mut self, r: &Encrypt) -> ImplResult<EncryptOutput> {
        if let Some(olm) = self.olm.get_mut(&r.session.0) {
            return olm.encrypt(r);
        }
        let entry = self.entry(r.session)?;
        let Some(prekey) = &entry.prekey else {
            return Ok(EncryptOutput {
                message: entry.session.encrypt(&r.plaintext, &r.ad)?,
                message_type: None,
            });
        };
        let message = entry.session.encrypt(&r.plaintext, &prekey.ad)?;
        Ok(match &prekey.pending {
            Some(initial) => {
                let wrapped = InitialMessage {
                    message,
                    ..initial.clone()
                };
                EncryptOutput {
                    message: prekey.suite.encode_initial(&wrapped),
                    message_type: Some(MessageType::Prekey),
                }
            }
            None => EncryptOutput {
                message,
                message_type: Some(MessageType::Whisper),
            },
        })
    }

    fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
        if let Some(olm) = self.olm.get_mut(&r.session.0) {
            return olm.decrypt(r);
        }
        let entry = self.entry(r.session)?;
        let Some(prekey) = &mut entry.prekey else {
            if r.message_type == Some(MessageType::Prekey) {
                return Err(ImplError::unsupported(
                    "a prekey message for a session not built from prekeys",
                ));
            }
            let plaintext = entry.session.decrypt(&r.message, &r.ad, &mut entry.rng)?;
            check_rng(&entry.rng)?;
            return Ok(DecryptOutput { plaintext });
        };
        let inner = match r.message_type.unwrap_or(MessageType::Whisper) {
            MessageType::Whisper => Zeroizing::new(r.message.clone()),
            MessageType::Prekey => {
                let initial = prekey.suite.decode_initial(&r.message)?;
                if prekey.base_key != Some(initial.ephemeral_key) {
                    return Err(ImplError::new(
                        ErrorClass::State,
                        "an initial message for another session",
                    ));
                }
                Zeroizing::new(initial.message)
            }
        };
        let plaintext = entry.session.decrypt(&inner, &prekey.ad, &mut entry.rng)?;
        prekey.pending = None;
        Ok(DecryptOutput { plaintext })
    }

    fn clone_session(&mut self, r: &CloneSession) -> ImplResult<SessionOutput> {
        if let Some(olm) = self.olm.get(&r.session.0) {
            let copy = olm.copy_with(&r.ratchet_private_keys)?;
            return Ok(self.add_olm(copy));
        }
        let state = self.entry(r.session)?.session.to_bytes();
        let copy = Session::from_bytes_in(&state, &self.suites())?;
        let rng = key_queue(&r.ratchet_private_keys)?;
        Ok(self.add(copy, rng, None))
    }

    /// The protocol crate's own state encoding (SPEC.md §10).
    fn export_state(&mut self, r: &ExportState) -> ImplResult<ExportStateOutput> {
        if self.olm.contains_key(&r.session.0) {
            return Err(ImplError::unsupported(
                "olm-v1 sessions have no serialized state format yet",
            ));
        }
        Ok(ExportStateOutput {
            state: self.session_bytes(r.session)?,
        })
    }

    /// The session's keys as the protocol crate holds them. The AD of a
    /// prekey session names the peer's identity key; other sessions have
    /// none to report (empty).
    fn session_keys(&mut self, r: &SessionKeys) -> ImplResult<SessionKeysOutput> {
        let entry = self
            .sessions
            .get(&r.session.0)
            .ok_or_else(|| no_session(r.session))?;
        let s = &entry.session;
        let remote_identity_key = entry
            .prekey
            .as_ref()
            .and_then(|p| match s.role() {
                ratchetproof_protocol::Role::Alice => p.ad.get(34..66),
                ratchetproof_protocol::Role::Bob => p.ad.get(1..33),
            })
            .unwrap_or_default()
            .to_vec();
        let (ns, nr, _) = s.counters();
        Ok(SessionKeysOutput {
            root_key: s.root_key().as_bytes().to_vec(),
            sender_ratchet_key: s.ratchet_public_key().as_bytes().to_vec(),
            sender_chain_key: s
                .sending_chain_key()
                .map(|k| k.as_bytes().to_vec())
                .unwrap_or_default(),
            sender_chain_index: ns,
            receiver_chains: match (s.peer_ratchet_public_key(), s.receiving_chain_key()) {
                (Some(key), Some(chain)) => vec![ReceiverChain {
                    ratchet_key: key.as_bytes().to_vec(),
                    chain_key: chain.as_bytes().to_vec(),
                    index: nr,
                }],
                _ => Vec::new(),
            },
            remote_identity_key,
            pq_ratchet_state: Vec::new(),
        })
    }

    fn prekey_initiate(&mut self, r: &PrekeyInitiate) -> ImplResult<SessionOutput> {
        if olm::is_olm(&r.suite) {
            let entry = olm::initiate(r)?;
            return Ok(self.add_olm(entry));
        }
        let one_time = one_time_prekey(
            r.peer_one_time_prekey_id,
            r.peer_one_time_prekey.as_deref(),
            "peerOneTimePrekeyId and peerOneTimePrekey",
        )?;
        let suite = self.suite(&r.suite)?;
        let identity = key_pair(&r.identity_private_key, "identity private key")?;
        let signature: [u8; 64] = signal_field(
            r.peer_signed_prekey_signature.as_deref(),
            "peerSignedPrekeySignature",
            &r.suite,
        )?
        .try_into()
        .map_err(|_| ImplError::new(ErrorClass::InvalidKey, "a signature is 64 bytes"))?;
        let bundle = PreKeyBundle {
            identity_key: public(&r.peer_identity_key, "peer identity key")?,
            signed_prekey_id: signal_field(
                r.peer_signed_prekey_id,
                "peerSignedPrekeyId",
                &r.suite,
            )?,
            signed_prekey: public(
                signal_field(
                    r.peer_signed_prekey.as_deref(),
                    "peerSignedPrekey",
                    &r.suite,
                )?,
                "peer signed prekey",
            )?,
            signed_prekey_signature: signature,
            one_time_prekey: match one_time {
                Some((id, key)) => Some((id, public(key, "peer one-time prekey")?)),
                None => None,
            },
            kem_prekey: signed_kem_prekey(r)?,
        };
        let ephemeral = Ephemeral {
            key: key_pair(&r.ephemeral_private_key, "ephemeral private key")?,
            encapsulation: match &r.encapsulation_seed {
                Some(seed) => Some(Zeroizing::new(
                    <[u8; 32]>::try_from(seed.as_slice()).map_err(|_| {
                        ImplError::new(ErrorClass::InvalidKey, "encapsulationSeed is 32 bytes")
                    })?,
                )),
                None => None,
            },
        };
        let initiation = suite
            .key_agreement()
            .initiate(&identity, &bundle, ephemeral)?;
        let (first, rest) = r
            .ratchet_private_keys
            .split_first()
            .ok_or_else(|| ImplError::new(ErrorClass::State, "Alice needs a first ratchet key"))?;
        let session = Session::init_alice_with_key_pair(
            suite,
            SessionConfig::default(),
            initiation.agreement.shared_key.clone(),
            bundle.signed_prekey,
            key_pair(first, "ratchet private key")?,
        )?;
        let prekey = PrekeyState {
            suite,
            ad: initiation.agreement.associated_data.to_vec(),
            pending: Some(InitialMessage {
                identity_key: *identity.public_key(),
                ephemeral_key: initiation.ephemeral_key,
                signed_prekey_id: initiation.signed_prekey_id,
                one_time_prekey_id: initiation.one_time_prekey_id,
                registration_id: signal_field(r.registration_id, "registrationId", &r.suite)?,
                kem: initiation.kem.clone(),
                message: Vec::new(),
            }),
            base_key: None,
        };
        Ok(self.add(session, key_queue(rest)?, Some(prekey)))
    }

    fn prekey_respond(&mut self, r: &PrekeyRespond) -> ImplResult<PrekeyRespondOutput> {
        if olm::is_olm(&r.suite) {
            let (entry, plaintext) = olm::respond(r)?;
            let SessionOutput { session } = self.add_olm(entry);
            return Ok(PrekeyRespondOutput { session, plaintext });
        }
        // Bob's registration id enters nothing the reference checks; it is
        // still part of the Signal request.
        signal_field(r.registration_id, "registrationId", &r.suite)?;
        let one_time = one_time_prekey(
            r.one_time_prekey_id,
            r.one_time_prekey_private_key.as_deref(),
            "oneTimePrekeyId and oneTimePrekeyPrivateKey",
        )?;
        let suite = self.suite(&r.suite)?;
        let mut responder = Responder::new(key_pair(&r.identity_private_key, "identity")?);
        responder.add_signed_prekey(
            signal_field(r.signed_prekey_id, "signedPrekeyId", &r.suite)?,
            key_pair(
                signal_field(
                    r.signed_prekey_private_key.as_deref(),
                    "signedPrekeyPrivateKey",
                    &r.suite,
                )?,
                "signed prekey",
            )?,
        );
        if let Some((id, key)) = one_time {
            responder.add_one_time_prekey(id, key_pair(key, "one-time prekey")?);
        }
        if let (Some(id), Some(public), Some(secret)) = (
            r.kem_prekey_id,
            &r.kem_prekey_public_key,
            &r.kem_prekey_private_key,
        ) {
            responder.add_kem_prekey(
                id,
                KemKeyPair::from_parts(secret, public)?,
                KemPrekeyUse::OneTime,
            );
        }
        let mut rng = key_queue(&r.ratchet_private_keys)?;
        let accepted = responder.accept(suite, SessionConfig::default(), &r.message, &mut rng)?;
        let prekey = PrekeyState {
            suite,
            ad: accepted.associated_data.to_vec(),
            pending: None,
            base_key: Some(accepted.base_key),
        };
        let SessionOutput { session } = self.add(accepted.session, rng, Some(prekey));
        Ok(PrekeyRespondOutput {
            session,
            plaintext: accepted.plaintext,
        })
    }

    fn reset(&mut self) {
        self.sessions.clear();
        self.olm.clear();
    }
}
