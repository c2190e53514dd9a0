//! Live interoperability: a full X3DH session between the reference and a
//! real implementation, both ways, through the implementations' own session
//! builders (shim operation group `prekey`, docs/SIGNAL-V3.md §7.1).
//!
//! Vectors check a peer against bytes the reference computed; this checks
//! that the two actually talk: every message one side produces, the other
//! decrypts — prekey messages out of order, replies before and after the
//! first ratchet step, messages held back across several steps. Nothing is
//! compared byte for byte, so it also catches a peer and a reference that
//! agree on the vectors but not with each other's live state.

use std::collections::BTreeMap;

use ratchetproof_protocol::x3dh::{self, InitialMessage, PreKeyBundle, Responder};
use ratchetproof_protocol::{KeyPair, PrivateKey, PublicKey, Session, SessionConfig, Suite};

use crate::implementation::ErrorClass;
use zeroize::Zeroizing;

use crate::generate::derived_key;
use crate::implementation::{ImplError, ImplResult, SessionHandle};
use crate::reference::{KeyQueueRng, key_pair, key_queue, public, suite_named};
use crate::shim::ShimClient;
use crate::shim::protocol::{
    MessageResult, PlaintextResult, PrekeyRespondResult, Request, SessionResult,
};
use crate::vectors::Hex;

/// How a message travels: an initial message or a plain ratchet message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// A PreKeyWhisperMessage (libsignal type 3).
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

    fn parse(name: Option<&str>) -> ImplResult<Self> {
        match name {
            None | Some("whisper") => Ok(MessageType::Whisper),
            Some("prekey") => Ok(MessageType::Prekey),
            Some(other) => Err(ImplError::new(
                ErrorClass::Malformed,
                format!("unknown message type {other:?}"),
            )),
        }
    }
}

/// Alice's side: her keys and Bob's bundle (`prekey_initiate`).
#[derive(Clone, Debug)]
pub struct PrekeyInitiate {
    /// Suite name.
    pub suite: String,
    /// IKa private key.
    pub identity_private_key: Vec<u8>,
    /// Alice's registration id.
    pub registration_id: u32,
    /// EKa private key.
    pub ephemeral_private_key: Vec<u8>,
    /// Alice's ratchet keys by DH ratchet step.
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// IKb.
    pub peer_identity_key: Vec<u8>,
    /// Bob's registration id.
    pub peer_registration_id: u32,
    /// Signed prekey id.
    pub peer_signed_prekey_id: u32,
    /// SPKb.
    pub peer_signed_prekey: Vec<u8>,
    /// Signature over Encode(SPKb).
    pub peer_signed_prekey_signature: Vec<u8>,
    /// (id, OPKb), when the bundle has a one-time prekey.
    pub peer_one_time_prekey: Option<(u32, Vec<u8>)>,
}

/// Bob's side: his keys and Alice's initial message (`prekey_respond`).
#[derive(Clone, Debug)]
pub struct PrekeyRespond {
    /// Suite name.
    pub suite: String,
    /// IKb private key.
    pub identity_private_key: Vec<u8>,
    /// Bob's registration id.
    pub registration_id: u32,
    /// Signed prekey id.
    pub signed_prekey_id: u32,
    /// SPKb private key.
    pub signed_prekey_private_key: Vec<u8>,
    /// (id, OPKb private key), when Bob holds one.
    pub one_time_prekey: Option<(u32, Vec<u8>)>,
    /// Bob's ratchet keys by DH ratchet step.
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// The initial message.
    pub message: Vec<u8>,
}

/// An implementation that builds sessions from prekeys.
pub trait Peer {
    /// A name for reports.
    fn name(&self) -> String;
    /// Alice's session from Bob's bundle.
    fn prekey_initiate(&mut self, request: &PrekeyInitiate) -> ImplResult<SessionHandle>;
    /// Bob's session from Alice's initial message, and its plaintext.
    fn prekey_respond(&mut self, request: &PrekeyRespond) -> ImplResult<(SessionHandle, Vec<u8>)>;
    /// Encrypts on a prekey session.
    fn send(
        &mut self,
        session: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<(Vec<u8>, MessageType)>;
    /// Decrypts on a prekey session.
    fn receive(
        &mut self,
        session: SessionHandle,
        message: &[u8],
        kind: MessageType,
        ad: &[u8],
    ) -> ImplResult<Vec<u8>>;
}

fn hex(bytes: &[u8]) -> Hex {
    Hex(bytes.to_vec())
}

impl Peer for ShimClient {
    fn name(&self) -> String {
        let h = self.handshake();
        format!("{} {}", h.name, h.version)
    }

    fn prekey_initiate(&mut self, r: &PrekeyInitiate) -> ImplResult<SessionHandle> {
        let result: SessionResult = self.call(Request::PrekeyInitiate {
            suite: r.suite.clone(),
            identity_private_key: hex(&r.identity_private_key),
            registration_id: r.registration_id,
            ephemeral_private_key: hex(&r.ephemeral_private_key),
            ratchet_private_keys: r.ratchet_private_keys.iter().map(|k| hex(k)).collect(),
            peer_identity_key: hex(&r.peer_identity_key),
            peer_registration_id: r.peer_registration_id,
            peer_signed_prekey_id: r.peer_signed_prekey_id,
            peer_signed_prekey: hex(&r.peer_signed_prekey),
            peer_signed_prekey_signature: hex(&r.peer_signed_prekey_signature),
            peer_one_time_prekey_id: r.peer_one_time_prekey.as_ref().map(|(id, _)| *id),
            peer_one_time_prekey: r.peer_one_time_prekey.as_ref().map(|(_, k)| hex(k)),
        })?;
        Ok(SessionHandle(result.session))
    }

    fn prekey_respond(&mut self, r: &PrekeyRespond) -> ImplResult<(SessionHandle, Vec<u8>)> {
        let result: PrekeyRespondResult = self.call(Request::PrekeyRespond {
            suite: r.suite.clone(),
            identity_private_key: hex(&r.identity_private_key),
            registration_id: r.registration_id,
            signed_prekey_id: r.signed_prekey_id,
            signed_prekey_private_key: hex(&r.signed_prekey_private_key),
            one_time_prekey_id: r.one_time_prekey.as_ref().map(|(id, _)| *id),
            one_time_prekey_private_key: r.one_time_prekey.as_ref().map(|(_, k)| hex(k)),
            ratchet_private_keys: r.ratchet_private_keys.iter().map(|k| hex(k)).collect(),
            message: hex(&r.message),
        })?;
        Ok((SessionHandle(result.session), result.plaintext.0))
    }

    fn send(
        &mut self,
        session: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<(Vec<u8>, MessageType)> {
        let result: MessageResult = self.call(Request::Encrypt {
            session: session.0,
            plaintext: hex(plaintext),
            ad: hex(ad),
        })?;
        let kind = MessageType::parse(result.message_type.as_deref())?;
        Ok((result.message.0, kind))
    }

    fn receive(
        &mut self,
        session: SessionHandle,
        message: &[u8],
        kind: MessageType,
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let result: PlaintextResult = self.call(Request::Decrypt {
            session: session.0,
            message: hex(message),
            ad: hex(ad),
            message_type: match kind {
                MessageType::Prekey => Some("prekey".into()),
                MessageType::Whisper => None,
            },
        })?;
        Ok(result.plaintext.0)
    }
}

/// One session of the reference built from prekeys.
struct PrekeySession {
    suite: Suite,
    session: Session,
    ad: Vec<u8>,
    rng: KeyQueueRng,
    /// Alice, until she has decrypted a message: the initial message her
    /// messages travel in (libsignal's "unacknowledged prekey message").
    pending: Option<InitialMessage>,
    /// Bob: EKa, which names the session in later initial messages.
    base_key: Option<PublicKey>,
}

/// The reference as a [`Peer`], with libsignal's behaviour around X3DH:
/// Alice wraps every message in an initial message until she has decrypted
/// one from Bob; Bob accepts later initial messages with the same base key
/// as messages of the session he has.
#[derive(Default)]
pub struct ReferencePeer {
    sessions: BTreeMap<u64, PrekeySession>,
    next: u64,
}

impl ReferencePeer {
    /// No sessions yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, s: PrekeySession) -> SessionHandle {
        self.next += 1;
        self.sessions.insert(self.next, s);
        SessionHandle(self.next)
    }

    fn get(&mut self, h: SessionHandle) -> ImplResult<&mut PrekeySession> {
        self.sessions
            .get_mut(&h.0)
            .ok_or_else(|| ImplError::new(ErrorClass::State, format!("no session {}", h.0)))
    }
}

impl Peer for ReferencePeer {
    fn name(&self) -> String {
        format!("ratchetproof-reference {}", env!("CARGO_PKG_VERSION"))
    }

    fn prekey_initiate(&mut self, r: &PrekeyInitiate) -> ImplResult<SessionHandle> {
        let suite = suite_named(&r.suite)?;
        let identity = key_pair(&r.identity_private_key, "identity private key")?;
        let signature: [u8; 64] = r
            .peer_signed_prekey_signature
            .as_slice()
            .try_into()
            .map_err(|_| ImplError::new(ErrorClass::InvalidKey, "a signature is 64 bytes"))?;
        let bundle = PreKeyBundle {
            identity_key: public(&r.peer_identity_key, "peer identity key")?,
            signed_prekey_id: r.peer_signed_prekey_id,
            signed_prekey: public(&r.peer_signed_prekey, "peer signed prekey")?,
            signed_prekey_signature: signature,
            one_time_prekey: match &r.peer_one_time_prekey {
                Some((id, key)) => Some((*id, public(key, "peer one-time prekey")?)),
                None => None,
            },
        };
        let ephemeral = key_pair(&r.ephemeral_private_key, "ephemeral private key")?;
        let initiation = x3dh::initiate_with_ephemeral(suite, &identity, &bundle, ephemeral)?;
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
        Ok(self.insert(PrekeySession {
            suite,
            session,
            ad: initiation.agreement.associated_data.to_vec(),
            rng: key_queue(rest)?,
            pending: Some(InitialMessage {
                identity_key: *identity.public_key(),
                ephemeral_key: initiation.ephemeral_key,
                signed_prekey_id: initiation.signed_prekey_id,
                one_time_prekey_id: initiation.one_time_prekey_id,
                registration_id: r.registration_id,
                message: Vec::new(),
            }),
            base_key: None,
        }))
    }

    fn prekey_respond(&mut self, r: &PrekeyRespond) -> ImplResult<(SessionHandle, Vec<u8>)> {
        let suite = suite_named(&r.suite)?;
        let mut responder = Responder::new(key_pair(&r.identity_private_key, "identity")?);
        responder.add_signed_prekey(
            r.signed_prekey_id,
            key_pair(&r.signed_prekey_private_key, "signed prekey")?,
        );
        if let Some((id, key)) = &r.one_time_prekey {
            responder.add_one_time_prekey(*id, key_pair(key, "one-time prekey")?);
        }
        let mut rng = key_queue(&r.ratchet_private_keys)?;
        let accepted = responder.accept(suite, SessionConfig::default(), &r.message, &mut rng)?;
        let handle = self.insert(PrekeySession {
            suite,
            session: accepted.session,
            ad: accepted.associated_data.to_vec(),
            rng,
            pending: None,
            base_key: Some(accepted.base_key),
        });
        Ok((handle, accepted.plaintext))
    }

    fn send(
        &mut self,
        h: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<(Vec<u8>, MessageType)> {
        // A prekey session knows its AD from X3DH, as libsignal's do; the
        // caller's copy is not needed.
        let _ = ad;
        let s = self.get(h)?;
        let message = s.session.encrypt(plaintext, &s.ad)?;
        Ok(match &s.pending {
            Some(initial) => {
                let wrapped = InitialMessage {
                    message,
                    ..initial.clone()
                };
                (s.suite.encode_initial(&wrapped), MessageType::Prekey)
            }
            None => (message, MessageType::Whisper),
        })
    }

    fn receive(
        &mut self,
        h: SessionHandle,
        message: &[u8],
        kind: MessageType,
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let s = self.get(h)?;
        let inner = match kind {
            MessageType::Whisper => Zeroizing::new(message.to_vec()),
            MessageType::Prekey => {
                let initial = s.suite.decode_initial(message)?;
                if s.base_key != Some(initial.ephemeral_key) {
                    return Err(ImplError::new(
                        ErrorClass::State,
                        "an initial message for another session",
                    ));
                }
                Zeroizing::new(initial.message)
            }
        };
        let _ = ad;
        let plaintext = s.session.decrypt(&inner, &s.ad, &mut s.rng)?;
        s.pending = None;
        Ok(plaintext)
    }
}

/// The keys of one live conversation, all derived from `label`.
struct Keys {
    alice_identity: [u8; 32],
    bob_identity: [u8; 32],
    bob_signed_prekey: [u8; 32],
    bob_one_time_prekey: [u8; 32],
    alice_ephemeral: [u8; 32],
    alice_ratchet: Vec<Vec<u8>>,
    bob_ratchet: Vec<Vec<u8>>,
    signature: [u8; 64],
}

impl Keys {
    fn new(label: &str) -> Self {
        let k = |what: &str| derived_key(&format!("interop/{label}/{what}"));
        let list = |who: &str| -> Vec<Vec<u8>> {
            (0..64)
                .map(|i| k(&format!("{who}/ratchet/{i}")).to_vec())
                .collect()
        };
        let bob = KeyPair::from_private(PrivateKey::from_bytes(k("bob/identity")));
        let spk = KeyPair::from_private(PrivateKey::from_bytes(k("bob/signed-prekey")));
        let mut sig_rng = KeyQueueRng::new([k("signature/0"), k("signature/1")]);
        let signature = x3dh::sign_prekey(&bob, spk.public_key(), &mut sig_rng);
        Self {
            alice_identity: k("alice/identity"),
            bob_identity: k("bob/identity"),
            bob_signed_prekey: k("bob/signed-prekey"),
            bob_one_time_prekey: k("bob/one-time-prekey"),
            alice_ephemeral: k("alice/ephemeral"),
            alice_ratchet: list("alice"),
            bob_ratchet: list("bob"),
            signature,
        }
    }
}

fn public_of(private: &[u8; 32]) -> Vec<u8> {
    KeyPair::from_private(PrivateKey::from_bytes(*private))
        .public_key()
        .as_bytes()
        .to_vec()
}

/// What one live conversation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveReport {
    /// `"<alice> → <bob>"`.
    pub direction: String,
    /// Messages decrypted by Bob.
    pub to_bob: usize,
    /// Messages decrypted by Alice.
    pub to_alice: usize,
    /// DH ratchet steps (Alice's and Bob's) the conversation went through.
    pub ratchet_steps: usize,
}

/// A failed step of a live conversation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{direction}: {step}: {message}")]
pub struct LiveFailure {
    /// `"<alice> → <bob>"`.
    pub direction: String,
    /// What was being done.
    pub step: String,
    /// What went wrong.
    pub message: String,
}

struct Conversation<'a> {
    alice: &'a mut dyn Peer,
    bob: &'a mut dyn Peer,
    ha: SessionHandle,
    hb: SessionHandle,
    ad: Vec<u8>,
    direction: String,
    sent: usize,
    report: LiveReport,
}

/// A message in flight.
struct Flight {
    plaintext: Vec<u8>,
    wire: Vec<u8>,
    kind: MessageType,
}

impl Conversation<'_> {
    fn fail(&self, step: &str, message: impl Into<String>) -> LiveFailure {
        LiveFailure {
            direction: self.direction.clone(),
            step: step.into(),
            message: message.into(),
        }
    }

    fn send(
        &mut self,
        from_alice: bool,
        expect: Option<MessageType>,
    ) -> Result<Flight, LiveFailure> {
        self.sent += 1;
        let who = if from_alice { "alice" } else { "bob" };
        let plaintext = format!("{who} message {} of the live test", self.sent).into_bytes();
        let (peer, h) = if from_alice {
            (&mut *self.alice, self.ha)
        } else {
            (&mut *self.bob, self.hb)
        };
        let step = format!("{who} sends message {}", self.sent);
        let (wire, kind) = peer
            .send(h, &plaintext, &self.ad)
            .map_err(|e| self.fail(&step, e.to_string()))?;
        if let Some(expected) = expect
            && kind != expected
        {
            return Err(self.fail(
                &step,
                format!(
                    "sent a {} message, expected {}",
                    kind.as_str(),
                    expected.as_str()
                ),
            ));
        }
        Ok(Flight {
            plaintext,
            wire,
            kind,
        })
    }

    fn deliver(&mut self, to_alice: bool, flight: &Flight) -> Result<(), LiveFailure> {
        let (peer, h, who) = if to_alice {
            (&mut *self.alice, self.ha, "alice")
        } else {
            (&mut *self.bob, self.hb, "bob")
        };
        let step = format!(
            "{who} receives {:?}",
            String::from_utf8_lossy(&flight.plaintext)
        );
        let got = peer
            .receive(h, &flight.wire, flight.kind, &self.ad)
            .map_err(|e| self.fail(&step, e.to_string()))?;
        if got != flight.plaintext {
            return Err(self.fail(&step, "decrypted to a different plaintext"));
        }
        if to_alice {
            self.report.to_alice += 1;
        } else {
            self.report.to_bob += 1;
        }
        Ok(())
    }

    fn refuse_replay(&mut self, to_alice: bool, flight: &Flight) -> Result<(), LiveFailure> {
        let (peer, h, who) = if to_alice {
            (&mut *self.alice, self.ha, "alice")
        } else {
            (&mut *self.bob, self.hb, "bob")
        };
        let step = format!("{who} gets a replayed message");
        match peer.receive(h, &flight.wire, flight.kind, &self.ad) {
            Ok(_) => Err(self.fail(&step, "the replay decrypted again")),
            Err(_) => Ok(()),
        }
    }
}

/// Runs one live conversation: `alice` starts X3DH from Bob's bundle (with
/// or without a one-time prekey), `bob` accepts, and they talk (the script
/// is fixed; keys derive from `label`). Returns what happened, or the first
/// step that failed.
pub fn live_conversation(
    alice: &mut dyn Peer,
    bob: &mut dyn Peer,
    suite: &str,
    label: &str,
    one_time_prekey: bool,
) -> Result<LiveReport, LiveFailure> {
    let direction = format!(
        "{} → {}{}",
        alice.name(),
        bob.name(),
        if one_time_prekey {
            ""
        } else {
            " (bundle without a one-time prekey)"
        }
    );
    let early = |step: &str, e: ImplError| LiveFailure {
        direction: direction.clone(),
        step: step.into(),
        message: e.to_string(),
    };
    let keys = Keys::new(label);
    let (alice_reg, bob_reg) = (0x1234, 0x2345);
    let ha = alice
        .prekey_initiate(&PrekeyInitiate {
            suite: suite.into(),
            identity_private_key: keys.alice_identity.to_vec(),
            registration_id: alice_reg,
            ephemeral_private_key: keys.alice_ephemeral.to_vec(),
            ratchet_private_keys: keys.alice_ratchet.clone(),
            peer_identity_key: public_of(&keys.bob_identity),
            peer_registration_id: bob_reg,
            peer_signed_prekey_id: 11,
            peer_signed_prekey: public_of(&keys.bob_signed_prekey),
            peer_signed_prekey_signature: keys.signature.to_vec(),
            peer_one_time_prekey: one_time_prekey
                .then(|| (77, public_of(&keys.bob_one_time_prekey))),
        })
        .map_err(|e| early("alice starts X3DH from the bundle", e))?;
    let ad = [
        [0x05].as_slice(),
        &public_of(&keys.alice_identity),
        &[0x05],
        &public_of(&keys.bob_identity),
    ]
    .concat();
    let mut c = Conversation {
        alice,
        bob,
        ha,
        hb: SessionHandle(0),
        ad,
        direction: direction.clone(),
        sent: 0,
        report: LiveReport {
            direction,
            to_bob: 0,
            to_alice: 0,
            ratchet_steps: 0,
        },
    };
    // Three initial messages; Bob sees the last one first.
    let first: Vec<Flight> = (0..3)
        .map(|_| c.send(true, Some(MessageType::Prekey)))
        .collect::<Result<_, _>>()?;
    let [p0, p1, p2] = <[Flight; 3]>::try_from(first)
        .map_err(|_| c.fail("alice's initial messages", "not three"))?;
    let (hb, plaintext) = c
        .bob
        .prekey_respond(&PrekeyRespond {
            suite: suite.into(),
            identity_private_key: keys.bob_identity.to_vec(),
            registration_id: bob_reg,
            signed_prekey_id: 11,
            signed_prekey_private_key: keys.bob_signed_prekey.to_vec(),
            one_time_prekey: one_time_prekey.then(|| (77, keys.bob_one_time_prekey.to_vec())),
            ratchet_private_keys: keys.bob_ratchet.clone(),
            message: p2.wire.clone(),
        })
        .map_err(|e| c.fail("bob accepts alice's third initial message", e.to_string()))?;
    if plaintext != p2.plaintext {
        return Err(c.fail(
            "bob accepts alice's third initial message",
            "decrypted to a different plaintext",
        ));
    }
    c.hb = hb;
    c.report.to_bob += 1;
    c.report.ratchet_steps += 1;
    c.deliver(false, &p0)?;
    c.deliver(false, &p1)?;
    c.refuse_replay(false, &p1)?;

    // Bob replies; Alice gets the last reply first and one much later.
    let replies: Vec<Flight> = (0..3)
        .map(|_| c.send(false, Some(MessageType::Whisper)))
        .collect::<Result<_, _>>()?;
    let [r0, r1, r2] =
        <[Flight; 3]>::try_from(replies).map_err(|_| c.fail("bob's replies", "not three"))?;
    c.deliver(true, &r2)?;
    c.deliver(true, &r0)?;
    c.report.ratchet_steps += 1;
    let mut held_for_alice = Some(r1);
    let mut held_for_bob = None;

    // Several round trips, each a DH ratchet step on both sides, with
    // reordering inside each chain and messages held across steps.
    for round in 0..5 {
        let batch: Vec<Flight> = (0..3)
            .map(|_| c.send(true, Some(MessageType::Whisper)))
            .collect::<Result<_, _>>()?;
        let mut batch = batch.into_iter();
        let a0 = batch.next();
        let rest: Vec<Flight> = batch.collect();
        for f in rest.iter().rev() {
            c.deliver(false, f)?;
        }
        if round == 0 {
            held_for_bob = a0;
        } else if let Some(f) = a0 {
            c.deliver(false, &f)?;
        }
        c.report.ratchet_steps += 1;
        let answers: Vec<Flight> = (0..2)
            .map(|_| c.send(false, Some(MessageType::Whisper)))
            .collect::<Result<_, _>>()?;
        for f in answers.iter().rev() {
            c.deliver(true, f)?;
        }
        c.report.ratchet_steps += 1;
        if round == 3 {
            if let Some(f) = held_for_alice.take() {
                c.deliver(true, &f)?;
                c.refuse_replay(true, &f)?;
            }
            if let Some(f) = held_for_bob.take() {
                c.deliver(false, &f)?;
            }
        }
    }
    Ok(c.report)
}

/// Both directions against `peer`: the reference as Alice and the peer as
/// Bob, then the peer as Alice and the reference as Bob.
pub fn live_both_ways(
    peer: &mut dyn Peer,
    suite: &str,
    one_time_prekey: bool,
) -> Vec<Result<LiveReport, LiveFailure>> {
    let mut reference = ReferencePeer::new();
    let forward = live_conversation(
        &mut reference,
        peer,
        suite,
        "reference-to-peer",
        one_time_prekey,
    );
    let mut reference = ReferencePeer::new();
    let backward = live_conversation(
        peer,
        &mut reference,
        suite,
        "peer-to-reference",
        one_time_prekey,
    );
    vec![forward, backward]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_reference_talks_to_itself_in_both_suites() {
        for suite in ratchetproof_protocol::suite::all() {
            let mut peer = ReferencePeer::new();
            for one_time_prekey in [true, false] {
                for outcome in live_both_ways(&mut peer, suite.name(), one_time_prekey) {
                    let report = outcome.unwrap();
                    assert_eq!(report.to_bob, 3 + 15);
                    assert_eq!(report.to_alice, 3 + 10);
                }
            }
        }
    }

    #[test]
    fn a_peer_that_garbles_one_message_fails_the_conversation() {
        struct Garbling(ReferencePeer, usize);
        impl Peer for Garbling {
            fn name(&self) -> String {
                "garbling".into()
            }
            fn prekey_initiate(&mut self, r: &PrekeyInitiate) -> ImplResult<SessionHandle> {
                self.0.prekey_initiate(r)
            }
            fn prekey_respond(
                &mut self,
                r: &PrekeyRespond,
            ) -> ImplResult<(SessionHandle, Vec<u8>)> {
                self.0.prekey_respond(r)
            }
            fn send(
                &mut self,
                h: SessionHandle,
                pt: &[u8],
                ad: &[u8],
            ) -> ImplResult<(Vec<u8>, MessageType)> {
                self.1 += 1;
                let (mut wire, kind) = self.0.send(h, pt, ad)?;
                if self.1 == 7 {
                    *wire.last_mut().unwrap() ^= 1;
                }
                Ok((wire, kind))
            }
            fn receive(
                &mut self,
                h: SessionHandle,
                m: &[u8],
                k: MessageType,
                ad: &[u8],
            ) -> ImplResult<Vec<u8>> {
                self.0.receive(h, m, k, ad)
            }
        }
        let mut peer = Garbling(ReferencePeer::new(), 0);
        let outcomes = live_both_ways(&mut peer, "signal-v3", true);
        assert!(outcomes.iter().any(Result::is_err));
    }
}
