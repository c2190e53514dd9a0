//! The scenario builder of the `olm-v1` families: a conversation played on
//! the reference's Olm sessions, each step recorded with the outcome the
//! family asserts; a disagreement aborts generation.

use std::collections::{BTreeMap, BTreeSet};

use ratchetproof_protocol::olm::{self, PreKeyMessage};
use ratchetproof_protocol::{ChainKey, KeyPair, MessageKey, PrivateKey, PublicKey, RootKey};

use crate::Reference;
use crate::generate::flags::{self, Flag};
use crate::generate::scenarios::write_key_lists;
use crate::generate::{GenerateError, derived_key};
use crate::implementation::{
    CloneSession, Decrypt, Encrypt, ImplError, Implementation, MessageType, PrekeyInitiate,
    PrekeyRespond, SessionHandle,
};
use crate::runner::{RunOptions, Status, run_scenario};
use crate::vectors::{
    CaseInfo, ErrorClass, Expected, Hex, KeyAgreementSetup, Limits, MessageType as WireType,
    Outcome, PartyKeys, Plaintext, SPARE_KEYS, ScenarioCase, SentMessage, Step, Verdict,
};

pub(super) type R<T> = Result<T, GenerateError>;

/// Injected keys per party and per capture: more than any case draws.
const KEYS_PER_PARTY: usize = 16;

/// The limits libolm and vodozemac share (docs/OLM-V1.md §1): the gap as
/// `maxSkip`, the stored keys as `maxStoredSkippedKeys`.
pub(super) const OLM_LIMITS: Limits = Limits {
    max_skip: olm::MAX_MESSAGE_GAP,
    max_stored_skipped_keys: olm::MAX_SKIPPED_KEYS as u32,
};

/// Every case of the file, and the flags they use.
#[derive(Default)]
pub(super) struct Cases {
    pub(super) tests: Vec<ScenarioCase>,
    pub(super) used: BTreeSet<Flag>,
}

impl Cases {
    pub(super) fn start(&self, label: &str) -> R<Olm> {
        Olm::new(
            &format!("olm/scenario/{}/{label}", self.tests.len() + 1),
            None,
        )
    }

    pub(super) fn start_limited(&self, label: &str) -> R<Olm> {
        Olm::new(
            &format!("olm/scenario/{}/{label}", self.tests.len() + 1),
            Some(OLM_LIMITS),
        )
    }

    /// A scenario whose key-agreement keys are the given private keys
    /// (by role: `alice/identity`, `alice/base`, `bob/identity`,
    /// `bob/one-time`) where named, label-derived elsewhere.
    pub(super) fn start_with(&self, label: &str, keys: &[(&str, [u8; 32])]) -> R<Olm> {
        Olm::with_keys(
            &format!("olm/scenario/{}/{label}", self.tests.len() + 1),
            None,
            keys,
        )
    }

    /// Finishes `s`, replays it through the runner on a fresh reference, and keeps it.
    pub(super) fn add(&mut self, s: Olm, comment: &str, flags: &[Flag]) -> R<()> {
        let label = s.label.clone();
        let mut case = s.finish(comment, flags)?;
        case.info.tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        let status = run_scenario(
            &mut Reference::new(),
            olm::NAME,
            &case,
            &RunOptions {
                strict_errors: true,
                ..RunOptions::default()
            },
        );
        if status != Status::Passed {
            return Err(GenerateError::Disagreement {
                tc_id: case.info.tc_id,
                comment: label,
                message: format!("the runner does not pass the reference: {status:?}"),
            });
        }
        self.used.extend(flags.iter().copied());
        self.tests.push(case);
        Ok(())
    }
}

/// A message sent in the scenario.
#[derive(Clone)]
pub(super) struct Sent {
    pub(super) wire: Vec<u8>,
    pub(super) kind: MessageType,
    pub(super) plaintext: Vec<u8>,
}

/// One scenario under construction.
pub(super) struct Olm {
    label: String,
    reference: Reference,
    setup: KeyAgreementSetup,
    /// Every party's and capture's full key list (trimmed at the end).
    keys: BTreeMap<String, Vec<Vec<u8>>>,
    handles: BTreeMap<String, SessionHandle>,
    steps: Vec<Step>,
    sent: Vec<Sent>,
    limits: Option<Limits>,
    said: usize,
    invalid: bool,
}

fn hex_of(key: &PublicKey) -> Hex {
    Hex::from(key.as_bytes().as_slice())
}

fn key_list(label: &str) -> Vec<Vec<u8>> {
    (0..KEYS_PER_PARTY)
        .map(|k| derived_key(&format!("{label}/{k}")).to_vec())
        .collect()
}

impl Olm {
    fn new(label: &str, limits: Option<Limits>) -> R<Self> {
        Self::with_keys(label, limits, &[])
    }

    fn with_keys(label: &str, limits: Option<Limits>, given: &[(&str, [u8; 32])]) -> R<Self> {
        // Each key pair: (private, public), given or from the label and its role.
        let key = |role: &str| {
            let private = given
                .iter()
                .find(|(r, _)| *r == role)
                .map_or_else(|| derived_key(&format!("{label}/{role}")), |(_, k)| *k);
            let public = *KeyPair::from_private(PrivateKey::from_bytes(private)).public_key();
            (Hex::from(private), hex_of(&public))
        };
        let (ia, ia_pub) = key("alice/identity");
        let (ea, ea_pub) = key("alice/base");
        let (ib, ib_pub) = key("bob/identity");
        let (eb, eb_pub) = key("bob/one-time");
        let setup = KeyAgreementSetup {
            alice_identity_private_key: ia,
            alice_identity_public_key: ia_pub,
            alice_base_private_key: ea,
            alice_base_public_key: ea_pub,
            bob_identity_private_key: ib,
            bob_identity_public_key: ib_pub,
            bob_one_time_private_key: eb,
            bob_one_time_public_key: eb_pub,
            alice: PartyKeys::default(),
            bob: PartyKeys::default(),
        };
        let mut s = Self {
            label: label.into(),
            reference: Reference::new(),
            setup,
            keys: BTreeMap::new(),
            handles: BTreeMap::new(),
            steps: Vec::new(),
            sent: Vec::new(),
            limits,
            said: 0,
            invalid: false,
        };
        for party in ["alice", "bob"] {
            s.keys
                .insert(party.into(), key_list(&format!("{label}/{party}/ratchet")));
        }
        let initiate = PrekeyInitiate {
            suite: olm::NAME.into(),
            identity_private_key: s.setup.alice_identity_private_key.0.clone(),
            registration_id: None,
            ephemeral_private_key: s.setup.alice_base_private_key.0.clone(),
            ratchet_private_keys: s.keys.get("alice").cloned().unwrap_or_default(),
            peer_identity_key: s.setup.bob_identity_public_key.0.clone(),
            peer_registration_id: None,
            peer_signed_prekey_id: None,
            peer_signed_prekey: None,
            peer_signed_prekey_signature: None,
            peer_one_time_prekey_id: None,
            peer_one_time_prekey: Some(s.setup.bob_one_time_public_key.0.clone()),
            ..PrekeyInitiate::default()
        };
        let alice = s
            .reference
            .prekey_initiate(&initiate)
            .map_err(|e| s.fail(format!("alice's session: {e}")))?
            .session;
        s.handles.insert("alice".into(), alice);
        Ok(s)
    }

    pub(super) fn fail(&self, message: String) -> GenerateError {
        GenerateError::Disagreement {
            tc_id: 0,
            comment: self.label.clone(),
            message,
        }
    }

    fn handle(&self, party: &str) -> R<SessionHandle> {
        self.handles
            .get(party)
            .copied()
            .ok_or_else(|| self.fail(format!("{party} has no session")))
    }

    /// `party` sends a fresh plaintext; the index of the message.
    pub(super) fn say(&mut self, party: &str) -> R<usize> {
        self.said += 1;
        let text = format!("{party} says {}", self.said);
        self.send(party, text.as_bytes())
    }

    /// `party` sends `N` fresh plaintexts; their indices.
    pub(super) fn says<const N: usize>(&mut self, party: &str) -> R<[usize; N]> {
        let mut out = [0; N];
        for slot in &mut out {
            *slot = self.say(party)?;
        }
        Ok(out)
    }

    /// The wire bytes of message `index`.
    pub(super) fn wire(&self, index: usize) -> R<Vec<u8>> {
        self.sent
            .get(index)
            .map(|s| s.wire.clone())
            .ok_or_else(|| self.fail(format!("no message {index}")))
    }

    /// The plaintext of message `index`.
    pub(super) fn plaintext(&self, index: usize) -> R<Vec<u8>> {
        self.sent
            .get(index)
            .map(|s| s.plaintext.clone())
            .ok_or_else(|| self.fail(format!("no message {index}")))
    }

    /// `party` sends `plaintext`; the message's index.
    pub(super) fn send(&mut self, party: &str, plaintext: &[u8]) -> R<usize> {
        let h = self.handle(party)?;
        let out = self
            .reference
            .encrypt(&Encrypt::new(h, plaintext, &[]))
            .map_err(|e| self.fail(format!("{party} send: {e}")))?;
        let kind = out
            .message_type
            .ok_or_else(|| self.fail("an Olm send without a type".into()))?;
        self.steps.push(Step::Send {
            party: party.into(),
            plaintext: plaintext.into(),
            ad: None,
            expected: Outcome::Ok(SentMessage {
                message: out.message.clone().into(),
                message_type: Some(wire_type(kind)),
            })
            .into(),
        });
        self.sent.push(Sent {
            wire: out.message,
            kind,
            plaintext: plaintext.to_vec(),
        });
        Ok(self.sent.len() - 1)
    }

    /// What the reference does with `wire` at `party` (Bob without a
    /// session responds to it), changing the state as the runner would.
    fn attempt(
        &mut self,
        party: &str,
        wire: &[u8],
        kind: MessageType,
    ) -> Result<Vec<u8>, ImplError> {
        match self.handles.get(party) {
            Some(&h) => self
                .reference
                .decrypt(&Decrypt {
                    session: h,
                    message: wire.to_vec(),
                    ad: Vec::new(),
                    message_type: Some(kind),
                })
                .map(|o| o.plaintext),
            None => {
                let out = self.reference.prekey_respond(&PrekeyRespond {
                    suite: olm::NAME.into(),
                    identity_private_key: self.setup.bob_identity_private_key.0.clone(),
                    registration_id: None,
                    signed_prekey_id: None,
                    signed_prekey_private_key: None,
                    one_time_prekey_id: None,
                    one_time_prekey_private_key: Some(
                        self.setup.bob_one_time_private_key.0.clone(),
                    ),
                    ratchet_private_keys: self.keys.get("bob").cloned().unwrap_or_default(),
                    message: wire.to_vec(),
                    ..PrekeyRespond::default()
                })?;
                self.handles.insert(party.into(), out.session);
                Ok(out.plaintext)
            }
        }
    }

    /// Delivers message `index` (or `bytes` of type `kind`) to `party` and
    /// records `expected`, which must be the reference's outcome.
    pub(super) fn deliver_as(
        &mut self,
        party: &str,
        what: Delivery,
        expected: Expected<Plaintext>,
    ) -> R<()> {
        if !self.handles.contains_key(party) && party != "bob" {
            return Err(self.fail(format!("{party} has no session")));
        }
        let (wire, kind, message, bytes, given) = match what {
            Delivery::Message(i) => {
                let sent = self
                    .sent
                    .get(i)
                    .cloned()
                    .ok_or_else(|| self.fail(format!("no message {i}")))?;
                (sent.wire, sent.kind, Some(i), None, None)
            }
            Delivery::Bytes(b, kind) => (b.clone(), kind, None, Some(b), Some(kind)),
        };
        let got = self.attempt(party, &wire, kind);
        let agrees = match (&expected.outcome, &got) {
            (Outcome::Ok(p), Ok(g)) => p.plaintext.0 == *g,
            (Outcome::Error { error }, Err(e)) => e.class == *error,
            _ => false,
        };
        if !agrees {
            return Err(self.fail(format!(
                "deliver to {party} (message {message:?}): expected {:?}, got {got:?}",
                expected.outcome
            )));
        }
        if matches!(expected.outcome, Outcome::Error { .. }) {
            self.invalid = true;
        }
        self.steps.push(Step::Deliver {
            party: party.into(),
            message,
            bytes: bytes.map(Hex),
            ad: None,
            message_type: given.map(wire_type),
            expected,
        });
        Ok(())
    }

    /// Delivers message `index` to `party`, which must decrypt it.
    pub(super) fn deliver(&mut self, party: &str, index: usize) -> R<()> {
        let plaintext = self
            .sent
            .get(index)
            .map(|s| s.plaintext.clone())
            .ok_or_else(|| self.fail(format!("no message {index}")))?;
        self.deliver_as(party, Delivery::Message(index), ok(plaintext))
    }

    /// Delivers message `index` to `party`, which must refuse it.
    pub(super) fn refuse(
        &mut self,
        party: &str,
        index: usize,
        expected: Expected<Plaintext>,
    ) -> R<()> {
        self.deliver_as(party, Delivery::Message(index), expected)
    }

    /// An attacker copies `party`'s state as `name`.
    pub(super) fn capture(&mut self, party: &str, name: &str) -> R<()> {
        let h = self.handle(party)?;
        let keys = key_list(&format!("{}/{name}/ratchet", self.label));
        let copy = self
            .reference
            .clone_session(&CloneSession::new(h, &keys))
            .map_err(|e| self.fail(format!("capture {party}: {e}")))?
            .session;
        self.handles.insert(name.into(), copy);
        self.keys.insert(name.into(), keys);
        self.steps.push(Step::Capture {
            party: party.into(),
            name: name.into(),
            ratchet_private_keys: Vec::new(),
            erased_secrets: Vec::new(),
        });
        Ok(())
    }

    /// The private key of `hex`, and the public key of `hex`.
    fn pair_of(&self, hex: &Hex) -> R<KeyPair> {
        <[u8; 32]>::try_from(hex.as_slice())
            .map(|k| KeyPair::from_private(PrivateKey::from_bytes(k)))
            .map_err(|_| self.fail("a 32-byte key".into()))
    }

    fn public_of(&self, hex: &Hex) -> R<PublicKey> {
        <[u8; 32]>::try_from(hex.as_slice())
            .map(PublicKey::from_bytes)
            .map_err(|_| self.fail("a 32-byte key".into()))
    }

    /// `party`'s `k`-th injected ratchet key pair (Alice's 0th is `T0`).
    pub(super) fn ratchet_pair(&self, party: &str, k: usize) -> R<KeyPair> {
        let key = self
            .keys
            .get(party)
            .and_then(|keys| keys.get(k))
            .ok_or_else(|| self.fail(format!("{party}'s ratchet key {k}")))?;
        self.pair_of(&Hex::from(key.as_slice()))
    }

    /// `R0` and `C0,0` of the triple DH, as Alice computes them.
    pub(super) fn first_keys(&self) -> R<(RootKey, ChainKey)> {
        Ok(self.triple_dh()?.1)
    }

    /// `S`, and `R0` and `C0,0` from it, as Alice computes them.
    pub(super) fn triple_dh(&self) -> R<(Vec<u8>, (RootKey, ChainKey))> {
        let identity = self.pair_of(&self.setup.alice_identity_private_key)?;
        let base = self.pair_of(&self.setup.alice_base_private_key)?;
        let secret = olm::initiator_secret(
            &identity,
            &base,
            &self.public_of(&self.setup.bob_identity_public_key)?,
            &self.public_of(&self.setup.bob_one_time_public_key)?,
        )
        .map_err(|e| self.fail(format!("triple DH: {e}")))?;
        Ok((secret.to_vec(), olm::root_from_shared_secret(&*secret)))
    }

    /// Bob's one-time public key, and Alice's base and identity key pairs.
    pub(super) fn envelope_pairs(&self) -> R<([u8; 32], KeyPair, KeyPair)> {
        Ok((
            *self
                .public_of(&self.setup.bob_one_time_public_key)?
                .as_bytes(),
            self.pair_of(&self.setup.alice_base_private_key)?,
            self.pair_of(&self.setup.alice_identity_private_key)?,
        ))
    }

    /// Bob's identity public key.
    pub(super) fn bob_identity_public(&self) -> R<[u8; 32]> {
        Ok(*self
            .public_of(&self.setup.bob_identity_public_key)?
            .as_bytes())
    }

    /// The message key of index `index` on Alice's first chain.
    pub(super) fn alice_first_chain_key(&self, index: u32) -> R<MessageKey> {
        let (_, mut chain) = self.first_keys()?;
        for _ in 0..index {
            chain = olm::kdf::kdf_ck(&chain).0;
        }
        Ok(olm::kdf::kdf_ck(&chain).1)
    }

    /// `inner` in the pre-key envelope Alice's session writes.
    pub(super) fn envelope(&self, inner: Vec<u8>) -> R<Vec<u8>> {
        Ok(PreKeyMessage {
            one_time_key: self.public_of(&self.setup.bob_one_time_public_key)?,
            base_key: self.public_of(&self.setup.alice_base_public_key)?,
            identity_key: self.public_of(&self.setup.alice_identity_public_key)?,
            message: inner,
        }
        .encode())
    }

    /// The public keys of the envelope: one-time, base, identity.
    pub(super) fn envelope_keys(&self) -> [Vec<u8>; 3] {
        [
            self.setup.bob_one_time_public_key.0.clone(),
            self.setup.alice_base_public_key.0.clone(),
            self.setup.alice_identity_public_key.0.clone(),
        ]
    }

    /// A pre-key message carrying a message of Alice's first chain at
    /// `index`, sealed with the keys her session derives there: a genuine
    /// message far ahead without sending every one before it.
    pub(super) fn craft_alice_first_chain(&self, index: u32, plaintext: &[u8]) -> R<Vec<u8>> {
        let mk = self.alice_first_chain_key(index)?;
        let t0 = self.ratchet_pair("alice", 0)?;
        let inner = olm::message::seal(&mk, t0.public_key(), index, plaintext);
        self.envelope(inner)
    }

    fn finish(mut self, comment: &str, flags: &[Flag]) -> R<ScenarioCase> {
        // Keep only the keys each party and capture drew, then the spare.
        let mut used = BTreeMap::new();
        for (name, keys) in &self.keys {
            let unused = self
                .handles
                .get(name)
                .and_then(|h| self.reference.unused_injected_keys(*h))
                .unwrap_or(keys.len());
            let n = keys.len().saturating_sub(unused);
            if n + SPARE_KEYS > keys.len() {
                return Err(self.fail(format!("{name} drew all {n} injected keys")));
            }
            used.insert(
                name.clone(),
                keys.iter()
                    .take(n + SPARE_KEYS)
                    .map(|k| Hex::from(k.as_slice()))
                    .collect::<Vec<_>>(),
            );
        }
        write_key_lists(
            &mut self.setup.alice.ratchet_private_keys,
            &mut self.setup.bob.ratchet_private_keys,
            &mut self.steps,
            &used,
        );
        let either = self.steps.iter().any(|step| match step {
            Step::Send { expected, .. } => expected.success_or_refusal(),
            Step::Deliver { expected, .. } => expected.success_or_refusal(),
            Step::Capture { .. } => false,
        });
        let result = if either {
            Verdict::Acceptable
        } else if self.invalid {
            Verdict::Invalid
        } else {
            Verdict::Valid
        };
        Ok(ScenarioCase {
            info: CaseInfo {
                tc_id: 0,
                comment: comment.into(),
                flags: flags::names(flags),
                result,
            },
            limits: self.limits,
            setup: self.setup.into(),
            steps: self.steps,
        })
    }
}

/// What a delivery hands over.
pub(super) enum Delivery {
    /// An earlier send, with its type.
    Message(usize),
    /// Raw bytes, with the type they are delivered as.
    Bytes(Vec<u8>, MessageType),
}

fn wire_type(kind: MessageType) -> WireType {
    match kind {
        MessageType::Prekey => WireType::Prekey,
        MessageType::Whisper => WireType::Whisper,
    }
}

/// A success with `plaintext`.
pub(super) fn ok(plaintext: Vec<u8>) -> Expected<Plaintext> {
    Outcome::Ok(Plaintext {
        plaintext: plaintext.into(),
    })
    .into()
}

/// A refusal of `class`.
pub(super) fn refused(class: ErrorClass) -> Expected<Plaintext> {
    Outcome::Error { error: class }.into()
}

/// A refusal of `class`, or `authentication` the libolm way (libolm folds
/// every decryption failure that is not a parse failure into
/// BAD_MESSAGE_MAC, docs/OLM-V1.md §6).
pub(super) fn refused_or_mac(class: ErrorClass) -> Expected<Plaintext> {
    let e = refused(class);
    if class == ErrorClass::Authentication {
        e
    } else {
        e.or_error(ErrorClass::Authentication)
    }
}
