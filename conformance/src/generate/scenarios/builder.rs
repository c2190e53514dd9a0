//! The scenario builder: drives the reference through a scripted
//! conversation and records each step with the outcome the reference gave,
//! failing generation when that outcome is not the one the case asserts.
//! Every case family is written against this builder only.

use std::collections::{BTreeMap, BTreeSet};

use ratchetproof_protocol::{
    DhOutput, Header, KeyPair, MessageKey, PrivateKey, PublicKey, RootKey, Suite,
};

use super::erasure;
use crate::generate::flags::{self, Flag};
use crate::generate::{GenerateError, derived_key};
use crate::implementation::{
    CloneSession, Decrypt, Encrypt, Implementation, Role, SessionHandle, SessionInit,
};
use crate::reference::Reference;
use crate::vectors::ErrorClass;
use crate::vectors::{
    CaseInfo, Expected, Hex, Limits, Outcome, PartyKeys, Plaintext, SPARE_KEYS, ScenarioCase,
    ScenarioSetup, SentMessage, Step, Verdict,
};

/// Injected keys each party starts with; unused ones are trimmed at the end.
pub(super) const KEYS_PER_PARTY: usize = 48;

pub(super) struct Party {
    pub(super) handle: SessionHandle,
    pub(super) keys: Vec<[u8; 32]>,
}

pub(super) struct Sent {
    pub(super) wire: Vec<u8>,
    pub(super) plaintext: Vec<u8>,
}

pub(super) struct Scenario {
    pub(super) label: String,
    pub(super) suite: Suite,
    pub(super) reference: Reference,
    pub(super) limits: Option<Limits>,
    pub(super) setup: ScenarioSetup,
    pub(super) alice_keys: Vec<[u8; 32]>,
    pub(super) parties: BTreeMap<String, Party>,
    pub(super) steps: Vec<Step>,
    pub(super) sent: Vec<Sent>,
    pub(super) invalid: bool,
}

pub(super) type R<T> = Result<T, GenerateError>;

impl Scenario {
    pub(super) fn new(suite: Suite, label: &str, limits: Option<Limits>) -> R<Self> {
        let keys = |who: &str| -> Vec<[u8; 32]> {
            (0..KEYS_PER_PARTY)
                .map(|k| derived_key(&format!("{label}/{who}/ratchet/{k}")))
                .collect()
        };
        let bob_ratchet = KeyPair::from_private(PrivateKey::from_bytes(derived_key(&format!(
            "{label}/bob/spk"
        ))));
        let mut ad = Vec::with_capacity(66);
        for who in ["alice", "bob"] {
            let ik = KeyPair::from_private(PrivateKey::from_bytes(derived_key(&format!(
                "{label}/{who}/ik"
            ))));
            ad.extend_from_slice(&ik.public_key().encode());
        }
        let (alice_keys, bob_keys) = (keys("alice"), keys("bob"));
        let setup = ScenarioSetup {
            shared_key: Hex::from(derived_key(&format!("{label}/sk"))),
            associated_data: Hex(ad),
            bob_ratchet_private_key: Hex::from(*bob_ratchet.private_key().to_bytes()),
            bob_ratchet_public_key: Hex::from(bob_ratchet.public_key().as_bytes()),
            alice: PartyKeys::default(),
            bob: PartyKeys::default(),
        };
        let mut s = Scenario {
            label: label.into(),
            suite,
            reference: Reference::with_suites([suite]),
            limits,
            setup,
            alice_keys: alice_keys.clone(),
            parties: BTreeMap::new(),
            steps: Vec::new(),
            sent: Vec::new(),
            invalid: false,
        };
        for (name, role, keys) in [
            ("alice", Role::Alice, alice_keys),
            ("bob", Role::Bob, bob_keys),
        ] {
            let init = SessionInit {
                suite: suite.name().into(),
                role,
                shared_key: s.setup.shared_key.0.clone(),
                ratchet_key: match role {
                    Role::Alice => s.setup.bob_ratchet_public_key.0.clone(),
                    Role::Bob => s.setup.bob_ratchet_private_key.0.clone(),
                },
                ratchet_private_keys: keys.iter().map(|k| k.to_vec()).collect(),
                max_skip: limits.map(|l| l.max_skip),
                max_stored_skipped_keys: limits.map(|l| l.max_stored_skipped_keys),
            };
            let handle = s
                .reference
                .init_session(&init)
                .map(|o| o.session)
                .map_err(|e| s.fail(format!("init {name}: {e}")))?;
            s.parties.insert(name.into(), Party { handle, keys });
        }
        Ok(s)
    }

    pub(super) fn fail(&self, message: String) -> GenerateError {
        GenerateError::Disagreement {
            tc_id: 0,
            comment: self.label.clone(),
            message,
        }
    }

    pub(super) fn handle(&self, party: &str) -> R<SessionHandle> {
        self.parties
            .get(party)
            .map(|p| p.handle)
            .ok_or_else(|| self.fail(format!("no party {party}")))
    }

    pub(super) fn ad(&self) -> Vec<u8> {
        self.setup.associated_data.0.clone()
    }

    /// `party` sends; returns the message index.
    pub(super) fn send(&mut self, party: &str, plaintext: &[u8]) -> R<usize> {
        let h = self.handle(party)?;
        let wire = self
            .reference
            .encrypt(&Encrypt::new(h, plaintext, &self.ad()))
            .map(|o| o.message)
            .map_err(|e| self.fail(format!("{party} send: {e}")))?;
        self.steps.push(Step::Send {
            party: party.into(),
            plaintext: plaintext.into(),
            ad: None,
            expected: Outcome::Ok(SentMessage {
                message: wire.clone().into(),
                message_type: None,
            })
            .into(),
        });
        self.sent.push(Sent {
            wire,
            plaintext: plaintext.to_vec(),
        });
        Ok(self.sent.len() - 1)
    }

    /// `party` sends a message with a label-derived plaintext.
    pub(super) fn say(&mut self, party: &str) -> R<usize> {
        let text = format!("{party} #{}", self.sent.len());
        self.send(party, text.as_bytes())
    }

    pub(super) fn send_fails(&mut self, party: &str, class: ErrorClass) -> R<()> {
        let h = self.handle(party)?;
        match self
            .reference
            .encrypt(&Encrypt::new(h, b"too early", &self.ad()))
            .map(|o| o.message)
        {
            Err(e) if e.class == class => {}
            other => {
                return Err(self.fail(format!("{party} send: expected {class}, got {other:?}")));
            }
        }
        self.invalid = true;
        self.steps.push(Step::Send {
            party: party.into(),
            plaintext: Hex::from(&b"too early"[..]),
            ad: None,
            expected: Outcome::Error { error: class }.into(),
        });
        Ok(())
    }

    /// Delivers message `index` to `party`, which must decrypt it.
    pub(super) fn deliver(&mut self, party: &str, index: usize) -> R<()> {
        let (wire, plaintext) = self.message(index)?;
        self.deliver_raw(party, Some(index), wire, None, Ok(plaintext))
    }

    /// Delivers message `index` to `party`, which must refuse it with `class`.
    pub(super) fn refuse(&mut self, party: &str, index: usize, class: ErrorClass) -> R<()> {
        let (wire, _) = self.message(index)?;
        self.deliver_raw(party, Some(index), wire, None, Err(class))
    }

    /// Delivers raw bytes (tampered, forged, truncated) that must be refused.
    pub(super) fn refuse_bytes(
        &mut self,
        party: &str,
        bytes: Vec<u8>,
        ad: Option<Vec<u8>>,
        class: ErrorClass,
    ) -> R<()> {
        self.deliver_raw(party, None, bytes, ad, Err(class))
    }

    /// Delivers raw bytes that must be refused with one of `classes`; the
    /// vector records the class the reference gives, and the other classes
    /// as alternatives (except for [`ANY_REFUSAL`], where the suite's
    /// document fixes the class that `--strict-errors` enforces).
    pub(super) fn refuse_bytes_as_one_of(
        &mut self,
        party: &str,
        bytes: Vec<u8>,
        classes: &[ErrorClass],
    ) -> R<()> {
        let h = self.handle(party)?;
        let probe = self
            .reference
            .clone_session(&CloneSession::new(h, &[]))
            .map(|o| o.session)
            .map_err(|e| self.fail(e.to_string()))?;
        let got = self
            .reference
            .decrypt(&Decrypt::new(probe, &bytes, &self.ad()))
            .map(|o| o.plaintext);
        match got {
            Err(e) if classes.contains(&e.class) => {
                let class = e.class;
                self.refuse_bytes(party, bytes, None, class)?;
                if classes != ANY_REFUSAL {
                    for alt in classes.iter().filter(|c| **c != class) {
                        self.or_refused(*alt)?;
                    }
                }
                Ok(())
            }
            other => Err(self.fail(format!(
                "deliver to {party}: expected one of {classes:?}, got {other:?}"
            ))),
        }
    }

    pub(super) fn message(&self, index: usize) -> R<(Vec<u8>, Vec<u8>)> {
        self.sent
            .get(index)
            .map(|m| (m.wire.clone(), m.plaintext.clone()))
            .ok_or_else(|| self.fail(format!("no message {index}")))
    }

    pub(super) fn wire(&self, index: usize) -> R<Vec<u8>> {
        Ok(self.message(index)?.0)
    }

    pub(super) fn deliver_raw(
        &mut self,
        party: &str,
        index: Option<usize>,
        bytes: Vec<u8>,
        ad: Option<Vec<u8>>,
        want: Result<Vec<u8>, ErrorClass>,
    ) -> R<()> {
        let h = self.handle(party)?;
        let got = self
            .reference
            .decrypt(&Decrypt::new(
                h,
                &bytes,
                ad.as_deref().unwrap_or(&self.ad()),
            ))
            .map(|o| o.plaintext);
        let expected = match (&want, got) {
            (Ok(p), Ok(q)) if *p == q => Expected::from(Outcome::Ok(Plaintext {
                plaintext: q.into(),
            })),
            (Err(class), Err(e)) if e.class == *class => {
                self.invalid = true;
                let expected = Expected::from(Outcome::Error { error: e.class });
                // `duplicate` is this suite's name for a message whose key is
                // gone (SPEC.md §5.4 steps 3 and 8); the Double Ratchet's
                // pseudocode has no such check: it derives a key that is not
                // the message's (the current chain's next one, or a fresh DH
                // ratchet's for an older ratchet key) and fails the tag.
                if *class == ErrorClass::Duplicate {
                    expected.or_error(ErrorClass::Authentication)
                } else {
                    expected
                }
            }
            (_, got) => {
                return Err(self.fail(format!(
                    "deliver to {party} (message {index:?}): expected {want:?}, got {got:?}"
                )));
            }
        };
        self.steps.push(Step::Deliver {
            party: party.into(),
            message: index,
            bytes: if index.is_none() {
                Some(bytes.into())
            } else {
                None
            },
            ad: ad.map(Hex),
            message_type: None,
            expected,
        });
        Ok(())
    }

    /// The expected outcome of the last delivery.
    pub(super) fn last_delivery(&mut self) -> R<&mut Expected<Plaintext>> {
        match self.steps.last_mut() {
            Some(Step::Deliver { expected, .. }) => Ok(expected),
            _ => Err(GenerateError::Disagreement {
                tc_id: 0,
                comment: self.label.clone(),
                message: "the last step is not a delivery".into(),
            }),
        }
    }

    /// The last delivery may also be refused with `class` (another behaviour
    /// the specifications allow).
    pub(super) fn or_refused(&mut self, class: ErrorClass) -> R<()> {
        let expected = self.last_delivery()?;
        if !expected.error_classes().contains(&class) {
            expected.alternatives.push(Outcome::Error { error: class });
        }
        Ok(())
    }

    /// The specifications fix the class of the last delivery's refusal.
    pub(super) fn class_fixed(&mut self) -> R<()> {
        self.last_delivery()?.class_fixed = true;
        Ok(())
    }

    /// The attacker captures `party` as `name`, with fresh keys of its own.
    pub(super) fn capture(&mut self, party: &str, name: &str) -> R<()> {
        let h = self.handle(party)?;
        let keys: Vec<[u8; 32]> = (0..KEYS_PER_PARTY)
            .map(|k| derived_key(&format!("{}/{name}/ratchet/{k}", self.label)))
            .collect();
        let lists: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        let handle = self
            .reference
            .clone_session(&CloneSession::new(h, &lists))
            .map(|o| o.session)
            .map_err(|e| self.fail(format!("capture {party}: {e}")))?;
        self.parties.insert(name.into(), Party { handle, keys });
        self.steps.push(Step::Capture {
            party: party.into(),
            name: name.into(),
            ratchet_private_keys: Vec::new(),
            erased_secrets: Vec::new(),
        });
        Ok(())
    }

    /// A genuine message on Alice's first sending chain with number `n`,
    /// made from the primitives (so no one has to send `n` messages first).
    pub(super) fn craft_alice_first_chain(&self, n: u32, plaintext: &[u8]) -> R<Vec<u8>> {
        self.craft_alice_first_chain_pn(0, n, plaintext)
    }

    /// Message `n` of Alice's first chain, correctly sealed (the tag
    /// verifies), with the header claiming `pn`.
    pub(super) fn craft_alice_first_chain_pn(
        &self,
        pn: u32,
        n: u32,
        plaintext: &[u8],
    ) -> R<Vec<u8>> {
        let a0 = KeyPair::from_private(PrivateKey::from_bytes(
            *self
                .alice_keys
                .first()
                .ok_or_else(|| self.fail("no keys".into()))?,
        ));
        let bob = PublicKey::from_slice(self.setup.bob_ratchet_public_key.as_slice())
            .map_err(|e| self.fail(e.to_string()))?;
        let dh: DhOutput = a0
            .diffie_hellman(&bob)
            .map_err(|e| self.fail(e.to_string()))?;
        let sk: [u8; 32] = self
            .setup
            .shared_key
            .0
            .as_slice()
            .try_into()
            .map_err(|_| self.fail("sk".into()))?;
        let (_, mut ck) = self.suite.kdf_rk(&RootKey::from_bytes(sk), &dh);
        let mut mk = MessageKey::from_bytes([0; 32]);
        for _ in 0..=n {
            let (next, key) = self.suite.kdf_ck(&ck);
            ck = next;
            mk = key;
        }
        let header = Header {
            dh: *a0.public_key(),
            pn,
            n,
        };
        self.suite
            .seal(&mk, &header, plaintext, &self.ad())
            .map_err(|e| self.fail(e.to_string()))
    }

    /// After an unusual path — a late message from the skipped-key store, a
    /// limit, an eviction, a refusal — the conversation goes on (issue 13):
    /// both parties send two messages on their current sending chains before
    /// either hears from the other, so each receiving chain that was in use
    /// gets further messages; then a round trip and a half, so both DH
    /// ratchets step again and both parties send and receive. Appended after
    /// a scenario's own steps so those (and the tcIds) stay as they were.
    pub(super) fn continue_both_ways(&mut self) -> R<()> {
        let from_alice = [self.say("alice")?, self.say("alice")?];
        let from_bob = [self.say("bob")?, self.say("bob")?];
        for m in from_alice {
            self.deliver("bob", m)?;
        }
        for m in from_bob {
            self.deliver("alice", m)?;
        }
        for (from, to) in [("alice", "bob"), ("bob", "alice"), ("alice", "bob")] {
            let m = self.say(from)?;
            self.deliver(to, m)?;
        }
        Ok(())
    }

    pub(super) fn finish(
        mut self,
        comment: &str,
        flags: &[Flag],
        acceptable: bool,
    ) -> R<(ScenarioCase, Vec<Flag>)> {
        // Keep only the injected keys each party used, so the vector states exactly what it needs.
        let mut used = BTreeMap::new();
        for (name, party) in &self.parties {
            let unused = self
                .reference
                .unused_injected_keys(party.handle)
                .unwrap_or(0);
            let n = party.keys.len().saturating_sub(unused);
            // The keys of committed steps, then the spares (docs/SHIM.md §4.3).
            if n + SPARE_KEYS > party.keys.len() {
                return Err(self.fail(format!(
                    "{name} used {n} injected keys, leaving fewer than {SPARE_KEYS} spare; raise KEYS_PER_PARTY"
                )));
            }
            used.insert(
                name.clone(),
                party
                    .keys
                    .iter()
                    .take(n + SPARE_KEYS)
                    .map(Hex::from)
                    .collect::<Vec<_>>(),
            );
        }
        write_key_lists(
            &mut self.setup.alice.ratchet_private_keys,
            &mut self.setup.bob.ratchet_private_keys,
            &mut self.steps,
            &used,
        );
        let erasure = erasure::annotate(self.suite, self.limits, &self.setup, &mut self.steps);
        let erasure = erasure.map_err(|e| self.fail(format!("key-erasure replay: {e}")))?;
        let flags: Vec<Flag> = flags
            .iter()
            .copied()
            .chain(erasure.then_some(Flag::KeyErasure))
            .collect();
        let either = self.steps.iter().any(|step| match step {
            Step::Send { expected, .. } => expected.success_or_refusal(),
            Step::Deliver { expected, .. } => expected.success_or_refusal(),
            Step::Capture { .. } => false,
        });
        let result = if acceptable || either {
            Verdict::Acceptable
        } else if self.invalid {
            Verdict::Invalid
        } else {
            Verdict::Valid
        };
        let case = ScenarioCase {
            info: CaseInfo {
                tc_id: 0,
                comment: comment.into(),
                flags: flags::names(&flags),
                result,
            },
            limits: self.limits,
            setup: self.setup.into(),
            steps: self.steps,
        };
        Ok((case, flags))
    }
}

pub(super) struct Cases {
    pub(super) suite: Suite,
    pub(super) tests: Vec<ScenarioCase>,
    /// The flags the cases use, for the file's notes.
    pub(super) used: BTreeSet<Flag>,
}

impl Cases {
    pub(super) fn start(&self, label: &str) -> R<Scenario> {
        Scenario::new(
            self.suite,
            &format!("scenario/{}/{label}", self.tests.len() + 1),
            None,
        )
    }

    pub(super) fn start_limited(&self, label: &str, limits: Limits) -> R<Scenario> {
        Scenario::new(
            self.suite,
            &format!("scenario/{}/{label}", self.tests.len() + 1),
            Some(limits),
        )
    }

    pub(super) fn add(&mut self, s: Scenario, comment: &str, flags: &[Flag]) -> R<()> {
        let (case, flags) = s.finish(comment, flags, false)?;
        self.used.extend(flags);
        self.add_case(case)
    }

    pub(super) fn add_case(&mut self, mut case: ScenarioCase) -> R<()> {
        case.info.tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        self.tests.push(case);
        Ok(())
    }
}

/// Alice sends, Bob replies, `rounds` times; every message delivered at once.
pub(super) fn ping_pong(s: &mut Scenario, rounds: usize, burst: usize) -> R<()> {
    for _ in 0..rounds {
        for (from, to) in [("alice", "bob"), ("bob", "alice")] {
            for _ in 0..burst {
                let m = s.say(from)?;
                s.deliver(to, m)?;
            }
        }
    }
    Ok(())
}

/// A small-order ratchet key: refused as `invalid_key` where the optional
/// all-zero check is made (SPEC.md §2.1), else the keys derived from the
/// all-zero DH output fail the tag.
pub(super) const SMALL_ORDER_CLASSES: &[ErrorClass] =
    &[ErrorClass::InvalidKey, ErrorClass::Authentication];

/// Every error class: bytes whose damage can read as any of them.
pub(super) const ANY_REFUSAL: &[ErrorClass] = &[
    ErrorClass::Authentication,
    ErrorClass::Duplicate,
    ErrorClass::TooManySkipped,
    ErrorClass::Malformed,
    ErrorClass::InvalidKey,
    ErrorClass::Unsupported,
];

/// Writes the key lists `used` (party or capture name → the keys it drew,
/// then the spares) into the setup's two parties and every capture step.
pub(crate) fn write_key_lists(
    alice: &mut Vec<Hex>,
    bob: &mut Vec<Hex>,
    steps: &mut [Step],
    used: &BTreeMap<String, Vec<Hex>>,
) {
    *alice = used.get("alice").cloned().unwrap_or_default();
    *bob = used.get("bob").cloned().unwrap_or_default();
    for step in steps {
        if let Step::Capture {
            name,
            ratchet_private_keys,
            ..
        } = step
        {
            *ratchet_private_keys = used.get(name.as_str()).cloned().unwrap_or_default();
        }
    }
}
