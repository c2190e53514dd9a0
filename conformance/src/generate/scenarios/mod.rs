//! Session-scenario vectors: scripted conversations over an adversarial
//! network. Each scenario is built by driving the reference and asserting, at
//! every step, the outcome the protocol requires; a disagreement aborts
//! generation, so the vectors never silently record a reference bug.
//!
//! A new case family can be a child module of this one (it sees the
//! builder's private items): one file, one call in `file()`.

mod session_paths;

use std::collections::BTreeMap;

use ratchetproof_protocol::{
    DhOutput, Header, KeyPair, MessageKey, PrivateKey, PublicKey, RootKey, Suite,
};

mod erasure;
mod forward_secrecy_copies;

use crate::generate::{GenerateError, derived_key, note, vector_file};
use crate::implementation::{
    CloneSession, Decrypt, Encrypt, Implementation, Role, SessionHandle, SessionInit,
};
use crate::reference::{Reference, suite_named};
use crate::vectors::{
    CaseInfo, Expected, Hex, Limits, Outcome, PartyKeys, Plaintext, SCENARIO_SCHEMA, SPARE_KEYS,
    ScenarioCase, ScenarioSetup, SentMessage, Step, VectorFile, Verdict,
};

/// Injected keys each party starts with; unused ones are trimmed at the end.
const KEYS_PER_PARTY: usize = 48;

struct Party {
    handle: SessionHandle,
    keys: Vec<[u8; 32]>,
}

struct Sent {
    wire: Vec<u8>,
    plaintext: Vec<u8>,
}

struct Scenario {
    label: String,
    suite: Suite,
    reference: Reference,
    limits: Option<Limits>,
    setup: ScenarioSetup,
    alice_keys: Vec<[u8; 32]>,
    parties: BTreeMap<String, Party>,
    steps: Vec<Step>,
    sent: Vec<Sent>,
    invalid: bool,
}

type R<T> = Result<T, GenerateError>;

impl Scenario {
    fn new(suite: Suite, label: &str, limits: Option<Limits>) -> R<Self> {
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
            reference: Reference::new(),
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

    fn fail(&self, message: String) -> GenerateError {
        GenerateError::Disagreement {
            tc_id: 0,
            comment: self.label.clone(),
            message,
        }
    }

    fn handle(&self, party: &str) -> R<SessionHandle> {
        self.parties
            .get(party)
            .map(|p| p.handle)
            .ok_or_else(|| self.fail(format!("no party {party}")))
    }

    fn ad(&self) -> Vec<u8> {
        self.setup.associated_data.0.clone()
    }

    /// `party` sends; returns the message index.
    fn send(&mut self, party: &str, plaintext: &[u8]) -> R<usize> {
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
    fn say(&mut self, party: &str) -> R<usize> {
        let text = format!("{party} #{}", self.sent.len());
        self.send(party, text.as_bytes())
    }

    fn send_fails(&mut self, party: &str, class: &str) -> R<()> {
        let h = self.handle(party)?;
        match self
            .reference
            .encrypt(&Encrypt::new(h, b"too early", &self.ad()))
            .map(|o| o.message)
        {
            Err(e) if e.class.as_str() == class => {}
            other => {
                return Err(self.fail(format!("{party} send: expected {class}, got {other:?}")));
            }
        }
        self.invalid = true;
        self.steps.push(Step::Send {
            party: party.into(),
            plaintext: Hex::from(&b"too early"[..]),
            ad: None,
            expected: Outcome::Error {
                error: class.into(),
            }
            .into(),
        });
        Ok(())
    }

    /// Delivers message `index` to `party`, which must decrypt it.
    fn deliver(&mut self, party: &str, index: usize) -> R<()> {
        let (wire, plaintext) = self.message(index)?;
        self.deliver_raw(party, Some(index), wire, None, Ok(plaintext))
    }

    /// Delivers message `index` to `party`, which must refuse it with `class`.
    fn refuse(&mut self, party: &str, index: usize, class: &str) -> R<()> {
        let (wire, _) = self.message(index)?;
        self.deliver_raw(party, Some(index), wire, None, Err(class))
    }

    /// Delivers raw bytes (tampered, forged, truncated) that must be refused.
    fn refuse_bytes(
        &mut self,
        party: &str,
        bytes: Vec<u8>,
        ad: Option<Vec<u8>>,
        class: &str,
    ) -> R<()> {
        self.deliver_raw(party, None, bytes, ad, Err(class))
    }

    /// Delivers raw bytes that must be refused with one of `classes`; the
    /// vector records the class the reference gives, and the other classes
    /// as alternatives (except for [`ANY_REFUSAL`], where the suite's
    /// document fixes the class that `--strict-errors` enforces).
    fn refuse_bytes_as_one_of(&mut self, party: &str, bytes: Vec<u8>, classes: &[&str]) -> R<()> {
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
            Err(e) if classes.contains(&e.class.as_str()) => {
                let class = e.class.as_str();
                self.refuse_bytes(party, bytes, None, class)?;
                if classes != ANY_REFUSAL {
                    for alt in classes.iter().filter(|c| **c != class) {
                        self.or_refused(alt)?;
                    }
                }
                Ok(())
            }
            other => Err(self.fail(format!(
                "deliver to {party}: expected one of {classes:?}, got {other:?}"
            ))),
        }
    }

    fn message(&self, index: usize) -> R<(Vec<u8>, Vec<u8>)> {
        self.sent
            .get(index)
            .map(|m| (m.wire.clone(), m.plaintext.clone()))
            .ok_or_else(|| self.fail(format!("no message {index}")))
    }

    fn wire(&self, index: usize) -> R<Vec<u8>> {
        Ok(self.message(index)?.0)
    }

    fn deliver_raw(
        &mut self,
        party: &str,
        index: Option<usize>,
        bytes: Vec<u8>,
        ad: Option<Vec<u8>>,
        want: Result<Vec<u8>, &str>,
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
            (Err(class), Err(e)) if e.class.as_str() == *class => {
                self.invalid = true;
                let expected = Expected::from(Outcome::Error {
                    error: e.class.as_str().into(),
                });
                // `duplicate` is this suite's name for a message whose key is
                // gone (SPEC.md §5.4 steps 3 and 8); the Double Ratchet's
                // pseudocode has no such check: it derives a key that is not
                // the message's (the current chain's next one, or a fresh DH
                // ratchet's for an older ratchet key) and fails the tag.
                if *class == "duplicate" {
                    expected.or_error("authentication")
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
            expected,
        });
        Ok(())
    }

    /// The expected outcome of the last delivery.
    fn last_delivery(&mut self) -> R<&mut Expected<Plaintext>> {
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
    fn or_refused(&mut self, class: &str) -> R<()> {
        let expected = self.last_delivery()?;
        if !expected.error_classes().contains(&class) {
            expected.alternatives.push(Outcome::Error {
                error: class.into(),
            });
        }
        Ok(())
    }

    /// The specifications fix the class of the last delivery's refusal.
    fn class_fixed(&mut self) -> R<()> {
        self.last_delivery()?.class_fixed = true;
        Ok(())
    }

    /// The attacker captures `party` as `name`, with fresh keys of its own.
    fn capture(&mut self, party: &str, name: &str) -> R<()> {
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
    fn craft_alice_first_chain(&self, n: u32, plaintext: &[u8]) -> R<Vec<u8>> {
        self.craft_alice_first_chain_pn(0, n, plaintext)
    }

    /// Message `n` of Alice's first chain, correctly sealed (the tag
    /// verifies), with the header claiming `pn`.
    fn craft_alice_first_chain_pn(&self, pn: u32, n: u32, plaintext: &[u8]) -> R<Vec<u8>> {
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
    fn continue_both_ways(&mut self) -> R<()> {
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

    fn finish(mut self, comment: &str, flags: &[&str], acceptable: bool) -> R<ScenarioCase> {
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
        self.setup.alice.ratchet_private_keys = used.get("alice").cloned().unwrap_or_default();
        self.setup.bob.ratchet_private_keys = used.get("bob").cloned().unwrap_or_default();
        for step in &mut self.steps {
            if let Step::Capture {
                name,
                ratchet_private_keys,
                ..
            } = step
            {
                *ratchet_private_keys = used.get(name.as_str()).cloned().unwrap_or_default();
            }
        }
        let erasure = erasure::annotate(self.suite, self.limits, &self.setup, &mut self.steps);
        let erasure = erasure.map_err(|e| self.fail(format!("key-erasure replay: {e}")))?;
        let flags = flags
            .iter()
            .copied()
            .chain(erasure.then_some(erasure::FLAG));
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
        Ok(ScenarioCase {
            info: CaseInfo {
                tc_id: 0,
                comment: comment.into(),
                flags: flags.map(str::to_string).collect(),
                result,
            },
            limits: self.limits,
            setup: self.setup,
            steps: self.steps,
        })
    }
}

struct Cases {
    suite: Suite,
    tests: Vec<ScenarioCase>,
}

impl Cases {
    fn start(&self, label: &str) -> R<Scenario> {
        Scenario::new(
            self.suite,
            &format!("scenario/{}/{label}", self.tests.len() + 1),
            None,
        )
    }

    fn start_limited(&self, label: &str, limits: Limits) -> R<Scenario> {
        Scenario::new(
            self.suite,
            &format!("scenario/{}/{label}", self.tests.len() + 1),
            Some(limits),
        )
    }

    fn add(&mut self, s: Scenario, comment: &str, flags: &[&str]) -> R<()> {
        self.add_case(s.finish(comment, flags, false)?)
    }

    fn add_case(&mut self, mut case: ScenarioCase) -> R<()> {
        case.info.tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        self.tests.push(case);
        Ok(())
    }
}

/// Alice sends, Bob replies, `rounds` times; every message delivered at once.
fn ping_pong(s: &mut Scenario, rounds: usize, burst: usize) -> R<()> {
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

fn in_order(c: &mut Cases) -> R<()> {
    for (rounds, burst) in [
        (1, 1),
        (2, 1),
        (3, 2),
        (1, 5),
        (4, 3),
        (6, 1),
        (2, 7),
        (10, 1),
    ] {
        let mut s = c.start("in-order")?;
        ping_pong(&mut s, rounds, burst)?;
        c.add(
            s,
            &format!("{rounds} round trips of {burst}-message bursts, delivered in order"),
            &["InOrder"],
        )?;
    }
    let mut s = c.start("one-way")?;
    for _ in 0..20 {
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
    }
    c.add(s, "twenty messages one way on a single chain", &["InOrder"])?;
    let mut s = c.start("empty")?;
    let m = s.send("alice", b"")?;
    s.deliver("bob", m)?;
    let m = s.send("bob", b"")?;
    s.deliver("alice", m)?;
    c.add(s, "empty plaintexts both ways", &["InOrder", "EdgeCase"])?;
    let mut s = c.start("large")?;
    let big: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let m = s.send("alice", &big)?;
    s.deliver("bob", m)?;
    c.add(s, "a 4096-byte plaintext", &["InOrder", "EdgeCase"])?;
    let mut s = c.start("bob-first")?;
    s.send_fails("bob", "state")?;
    let m = s.say("alice")?;
    s.deliver("bob", m)?;
    let m = s.say("bob")?;
    s.deliver("alice", m)?;
    c.add(
        s,
        "Bob cannot send before he has received Alice's first message",
        &["SendBeforeReceive"],
    )
}

fn out_of_order(c: &mut Cases) -> R<()> {
    let orders: [&[usize]; 8] = [
        &[1, 0],
        &[2, 1, 0],
        &[0, 2, 1],
        &[3, 0, 2, 1],
        &[4, 2, 0, 3, 1],
        &[5, 4, 3, 2, 1, 0],
        &[1, 3, 5, 0, 2, 4],
        &[7, 0, 6, 1, 5, 2, 4, 3],
    ];
    for order in orders {
        let mut s = c.start("ooo")?;
        let first = s.say("alice")?;
        s.deliver("bob", first)?;
        let ids: Vec<usize> = (0..order.len()).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &i in order {
            s.deliver("bob", ids.get(i).copied().unwrap_or(0))?;
        }
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("one chain delivered in order {order:?}"),
            &["OutOfOrder"],
        )?;
    }
    for order in [&[1usize, 0][..], &[2, 0, 1]] {
        let mut s = c.start("ooo-first")?;
        let ids: Vec<usize> = (0..order.len()).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &i in order {
            s.deliver("bob", ids.get(i).copied().unwrap_or(0))?;
        }
        s.continue_both_ways()?;
        c.add(s, &format!("Alice's first chain delivered in order {order:?}, before Bob has any receiving chain"), &["OutOfOrder"])?;
    }
    Ok(())
}

fn across_ratchet(c: &mut Cases) -> R<()> {
    for held in 1..=6usize {
        let mut s = c.start("pn")?;
        let a: Vec<usize> = (0..held + 1).map(|_| s.say("alice")).collect::<R<_>>()?;
        s.deliver("bob", *a.last().unwrap_or(&0))?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        for &m in a.iter().take(held) {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(s, &format!("{held} messages of Alice's previous chain arrive after her next chain's first (PN = {})", held + 1), &["AcrossRatchetSteps"])?;
    }
    for held in 1..=4usize {
        let mut s = c.start("pn-new-chain-first")?;
        let a1 = s.say("alice")?;
        s.deliver("bob", a1)?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        let a: Vec<usize> = (0..held).map(|_| s.say("alice")).collect::<R<_>>()?;
        let b2: Vec<usize> = (0..2).map(|_| s.say("bob")).collect::<R<_>>()?;
        // Alice receives Bob's second message first, then her chain's messages reach Bob late.
        s.deliver("alice", b2.get(1).copied().unwrap_or(0))?;
        let a3 = s.say("alice")?;
        s.deliver("bob", a3)?;
        for &m in &a {
            s.deliver("bob", m)?;
        }
        s.deliver("alice", b2.first().copied().unwrap_or(0))?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!(
                "a whole chain of {held} skipped via PN, delivered after the next DH ratchet step"
            ),
            &["AcrossRatchetSteps", "OutOfOrder"],
        )?;
    }
    Ok(())
}

fn delayed_chains(c: &mut Cases) -> R<()> {
    for back in 2..=5usize {
        let mut s = c.start("delayed")?;
        let mut held = Vec::new();
        for _ in 0..back {
            held.push(s.say("alice")?);
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            let r = s.say("bob")?;
            s.deliver("alice", r)?;
        }
        let last = s.say("alice")?;
        s.deliver("bob", last)?;
        for &m in held.iter().rev() {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(s, &format!("messages held back from each of the last {back} chains arrive last, newest chain first"), &["DelayedChains"])?;
    }
    Ok(())
}

fn message_loss(c: &mut Cases) -> R<()> {
    for (lost, total) in [(1usize, 3usize), (3, 5), (5, 6), (10, 12)] {
        let mut s = c.start("loss")?;
        let first = s.say("alice")?;
        s.deliver("bob", first)?;
        let ids: Vec<usize> = (0..total).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &m in ids.iter().skip(lost) {
            s.deliver("bob", m)?;
        }
        ping_pong(&mut s, 2, 1)?;
        c.add(
            s,
            &format!(
                "{lost} of {total} messages lost; later ones and the next round trips decrypt"
            ),
            &["MessageLoss"],
        )?;
    }
    let mut s = c.start("loss-whole-chain")?;
    let a = s.say("alice")?;
    s.deliver("bob", a)?;
    let _lost: Vec<usize> = (0..3).map(|_| s.say("bob")).collect::<R<_>>()?;
    let a2 = s.say("alice")?;
    s.deliver("bob", a2)?;
    let b = s.say("bob")?;
    s.deliver("alice", b)?;
    c.add(
        s,
        "Bob's whole first chain is lost; his next message still decrypts",
        &["MessageLoss"],
    )
}

fn forward_secrecy(c: &mut Cases) -> R<()> {
    for delivered in [1usize, 3, 6] {
        let mut s = c.start("fs")?;
        let ids: Vec<usize> = (0..delivered).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &m in &ids {
            s.deliver("bob", m)?;
        }
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        s.capture("bob", "eve")?;
        for &m in &ids {
            s.refuse("eve", m, "duplicate")?;
        }
        forward_secrecy_copies::working_copy(&mut s, "eve", "bob")?;
        c.add(s, &format!("state captured after {delivered} messages were decrypted cannot decrypt any of them"), &["ForwardSecrecy"])?;
    }
    for (sent, delivered) in [(4usize, &[3usize][..]), (5, &[0, 4]), (6, &[1, 5])] {
        let mut s = c.start("fs-skipped")?;
        let first = s.say("alice")?;
        s.deliver("bob", first)?;
        let ids: Vec<usize> = (0..sent).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &i in delivered {
            s.deliver("bob", ids.get(i).copied().unwrap_or(0))?;
        }
        s.capture("bob", "eve")?;
        s.refuse("eve", first, "duplicate")?;
        for (i, &m) in ids.iter().enumerate() {
            if delivered.contains(&i) {
                s.refuse("eve", m, "duplicate")?;
            } else if i < *delivered.iter().max().unwrap_or(&0) {
                // Still stored as skipped in the captured state: expected to decrypt.
                s.deliver("eve", m)?;
            }
        }
        forward_secrecy_copies::working_copy(&mut s, "eve", "bob")?;
        c.add(s, &format!("a capture decrypts only the still-skipped messages ({sent} sent, {delivered:?} delivered)"), &["ForwardSecrecy", "OutOfOrder"])?;
    }
    for rounds in [1usize, 3] {
        let mut s = c.start("fs-old-chains")?;
        let mut old = Vec::new();
        for _ in 0..rounds {
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            old.push(m);
            let r = s.say("bob")?;
            s.deliver("alice", r)?;
        }
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
        s.capture("bob", "eve")?;
        for &m in &old {
            s.refuse("eve", m, "duplicate")?;
        }
        forward_secrecy_copies::working_copy(&mut s, "eve", "bob")?;
        c.add(
            s,
            &format!("messages from {rounds} earlier chains stay secret from a later capture"),
            &["ForwardSecrecy", "DelayedChains"],
        )?;
    }
    Ok(())
}

fn post_compromise(c: &mut Cases) -> R<()> {
    for (before, burst) in [(0usize, 1usize), (1, 1), (2, 2), (3, 1), (1, 3)] {
        let mut s = c.start("pcs")?;
        ping_pong(&mut s, before, 1)?;
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
        s.capture("bob", "eve")?;
        // Eve follows Alice's current chain passively.
        for _ in 0..burst {
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            s.deliver("eve", m)?;
        }
        // Bob's current ratchet key was drawn before the capture, so Eve still
        // follows Alice's next chain; Bob's next DH ratchet (on receiving it)
        // draws a key Eve does not know, and Alice's chain after that heals.
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        s.deliver("eve", a2)?;
        // Alice's new chain is keyed to the ratchet key Bob drew on receiving
        // m. A Bob that defers drawing it until he sends ([DR] §6.5) had none
        // when captured, so Eve cannot read it: either conforms.
        s.or_refused("authentication")?;
        let r2 = s.say("bob")?;
        s.deliver("alice", r2)?;
        for _ in 0..2 {
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            s.refuse("eve", m, "authentication")?;
        }
        c.add(s, &format!("after {before} round trips Bob is captured; Eve reads {burst} more messages, then nothing after Bob's fresh DH ratchet"), &["PostCompromise"])?;
    }
    {
        let mut s = c.start("pcs-alice")?;
        ping_pong(&mut s, 1, 1)?;
        s.capture("alice", "mallory")?;
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        s.deliver("mallory", r)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        // Bob's new chain is still keyed to Alice's pre-capture ratchet key.
        let r2 = s.say("bob")?;
        s.deliver("alice", r2)?;
        s.deliver("mallory", r2)?;
        // An Alice that defers drawing her next ratchet key until she sends
        // had none when captured: Mallory cannot read this chain either.
        s.or_refused("authentication")?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        let r3 = s.say("bob")?;
        s.deliver("alice", r3)?;
        s.refuse("mallory", r3, "authentication")?;
        c.add(s, "Alice is captured; the capture reads Bob's chains until Alice's first post-capture ratchet key is in use, then nothing", &["PostCompromise"])?;
    }
    Ok(())
}

/// A session pair where Bob is mid-conversation, and the next message from
/// Alice either continues Bob's current receiving chain or starts a new one.
fn tamper_base(c: &Cases, new_chain: bool) -> R<(Scenario, usize, usize)> {
    let mut s = c.start(if new_chain {
        "tamper-new-chain"
    } else {
        "tamper-same-chain"
    })?;
    let a = s.say("alice")?;
    s.deliver("bob", a)?;
    if new_chain {
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
    }
    let target = s.send("alice", b"attack at dawn, sixteen+ bytes")?;
    let follow = s.say("alice")?;
    Ok((s, target, follow))
}

/// A change made to the associated data.
type AdChange = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// One byte position of a wire message to flip, what it is, and the
/// error classes a refusal may carry.
struct Tamper {
    pos: usize,
    flag: &'static str,
    field: &'static str,
    classes: &'static [&'static str],
    masks: &'static [u8],
}

/// A changed counter can claim a jump past MAX_SKIP (refused before
/// authentication) or an already-used number (a duplicate).
const COUNTER_CLASSES: &[&str] = &["authentication", "too_many_skipped", "duplicate"];
const BOTH_MASKS: &[u8] = &[0x01, 0x80];
const LOW_MASK: &[u8] = &[0x01];

/// The byte positions to tamper with in a message of `len` bytes, by suite.
fn tamper_positions(c: &Cases, wire: &[u8]) -> R<Vec<Tamper>> {
    let len = wire.len();
    let t = |pos, flag, field, classes, masks| Tamper {
        pos,
        flag,
        field,
        classes,
        masks,
    };
    let mut out = vec![t(
        0,
        "TamperVersion",
        "version byte",
        &["unsupported"],
        BOTH_MASKS,
    )];
    if c.suite.name() == "signal-v3" {
        // 0x33 ‖ 0a 21 05 u(32) ‖ 10 n ‖ 18 pc ‖ 22 len ct ‖ mac(8), with
        // single-byte varints (docs/SIGNAL-V3.md §3).
        let structure = [1usize, 2, 36, 38, 40, 41];
        let expect = |pos: usize, byte: u8| wire.get(pos) == Some(&byte);
        if !(expect(1, 0x0a)
            && expect(2, 0x21)
            && expect(3, 0x05)
            && expect(36, 0x10)
            && expect(38, 0x18)
            && expect(40, 0x22)
            && wire
                .get(41)
                .is_some_and(|l| usize::from(*l) + 42 + 8 == len))
        {
            return Err(GenerateError::Disagreement {
                tc_id: 0,
                comment: "tampering".into(),
                message: "a signal-v3 message does not have the expected layout".into(),
            });
        }
        for pos in structure {
            out.push(t(
                pos,
                "TamperEncoding",
                "protobuf tag or length",
                ANY_REFUSAL,
                LOW_MASK,
            ));
        }
        out.push(t(
            3,
            "TamperRatchetKey",
            "key type byte",
            &["invalid_key"],
            LOW_MASK,
        ));
        for i in 4..=35 {
            let masks = if i == 35 { BOTH_MASKS } else { LOW_MASK };
            out.push(t(
                i,
                "TamperRatchetKey",
                "ratchet key",
                &["authentication"],
                masks,
            ));
        }
        out.push(t(37, "TamperCounter", "N", COUNTER_CLASSES, LOW_MASK));
        out.push(t(
            39,
            "TamperPreviousCounter",
            "PN",
            COUNTER_CLASSES,
            LOW_MASK,
        ));
        let mac_start = len - 8;
        for i in [42, 43, mac_start - 1] {
            out.push(t(
                i,
                "TamperCiphertext",
                "ciphertext",
                &["authentication"],
                BOTH_MASKS,
            ));
        }
        for i in mac_start..len {
            out.push(t(i, "TamperTag", "MAC", &["authentication"], BOTH_MASKS));
        }
        return Ok(out);
    }
    let header = ratchetproof_protocol::header::HEADER_LEN;
    for i in 1..=32 {
        let masks = if i == 32 { BOTH_MASKS } else { LOW_MASK };
        out.push(t(
            i,
            "TamperRatchetKey",
            "ratchet key",
            &["authentication"],
            masks,
        ));
    }
    for i in 33..37 {
        out.push(t(
            i,
            "TamperPreviousCounter",
            "PN",
            COUNTER_CLASSES,
            LOW_MASK,
        ));
    }
    for i in 37..41 {
        out.push(t(i, "TamperCounter", "N", COUNTER_CLASSES, LOW_MASK));
    }
    let tag_start = len - 16;
    for i in [1 + header, 2 + header, tag_start - 1] {
        out.push(t(
            i,
            "TamperCiphertext",
            "ciphertext",
            &["authentication"],
            BOTH_MASKS,
        ));
    }
    for i in tag_start..len {
        out.push(t(i, "TamperTag", "tag", &["authentication"], BOTH_MASKS));
    }
    Ok(out)
}

/// A small-order ratchet key: refused as `invalid_key` where the optional
/// all-zero check is made (SPEC.md §2.1), else the keys derived from the
/// all-zero DH output fail the tag.
const SMALL_ORDER_CLASSES: &[&str] = &["invalid_key", "authentication"];

/// Every error class: bytes whose damage can read as any of them.
const ANY_REFUSAL: &[&str] = &[
    "authentication",
    "duplicate",
    "too_many_skipped",
    "malformed",
    "invalid_key",
    "unsupported",
];

fn tampering(c: &mut Cases) -> R<()> {
    for new_chain in [false, true] {
        let ctx = if new_chain {
            "a message that starts a new chain"
        } else {
            "a message on the current chain"
        };
        let base = tamper_base(c, new_chain)?
            .0
            .wire(1 + usize::from(new_chain))?;
        let positions = tamper_positions(c, &base)?;
        for Tamper {
            pos,
            flag,
            field,
            classes,
            masks,
        } in positions
        {
            for &mask in masks {
                let (mut s, target, follow) = tamper_base(c, new_chain)?;
                let mut bad = s.wire(target)?;
                if let Some(b) = bad.get_mut(pos) {
                    *b ^= mask;
                }
                match classes {
                    [class] => {
                        s.refuse_bytes("bob", bad, None, class)?;
                        // A well-formed message altered after sealing under
                        // a genuine key: the tag check is what refuses it.
                        if *class == "authentication" {
                            s.class_fixed()?;
                        }
                    }
                    _ => s.refuse_bytes_as_one_of("bob", bad, classes)?,
                }
                s.deliver("bob", target)?;
                s.deliver("bob", follow)?;
                s.continue_both_ways()?;
                c.add(s, &format!("{ctx}: byte {pos} ({field}) xor 0x{mask:02x} is refused; the genuine message then decrypts"), &[flag, "Atomicity"])?;
            }
        }
        let ad_variants: Vec<(&str, AdChange)> = vec![
            (
                "first AD byte flipped",
                Box::new(|ad: &[u8]| {
                    let mut v = ad.to_vec();
                    if let Some(b) = v.first_mut() {
                        *b ^= 1;
                    }
                    v
                }),
            ),
            (
                "last AD byte flipped",
                Box::new(|ad: &[u8]| {
                    let mut v = ad.to_vec();
                    if let Some(b) = v.last_mut() {
                        *b ^= 1;
                    }
                    v
                }),
            ),
            (
                "AD truncated by one byte",
                Box::new(|ad: &[u8]| {
                    ad.get(..ad.len().saturating_sub(1))
                        .unwrap_or_default()
                        .to_vec()
                }),
            ),
            (
                "AD extended by one byte",
                Box::new(|ad: &[u8]| {
                    let mut v = ad.to_vec();
                    v.push(0);
                    v
                }),
            ),
            ("empty AD", Box::new(|_: &[u8]| Vec::new())),
            (
                "AD with the two identities swapped",
                Box::new(|ad: &[u8]| {
                    let (a, b) = ad.split_at(ad.len() / 2);
                    [b, a].concat()
                }),
            ),
        ];
        for (what, f) in &ad_variants {
            let (mut s, target, follow) = tamper_base(c, new_chain)?;
            let bad_ad = f(&s.ad());
            let wire = s.wire(target)?;
            // signal-v3 reads the AD as two encoded identity keys and refuses
            // bytes that are not (docs/SIGNAL-V3.md §2).
            let names_two_keys = bad_ad.len() == 66
                && bad_ad.first() == Some(&0x05)
                && bad_ad.get(33) == Some(&0x05);
            let class = if c.suite.name() == "signal-v3" && !names_two_keys {
                "invalid_key"
            } else {
                "authentication"
            };
            s.refuse_bytes("bob", wire, Some(bad_ad), class)?;
            if class == "authentication" {
                s.class_fixed()?;
            } else {
                // When the AD's shape is checked is left open: an
                // implementation that only MACs it fails the tag.
                s.or_refused("authentication")?;
            }
            s.deliver("bob", target)?;
            s.deliver("bob", follow)?;
            s.continue_both_ways()?;
            c.add(
                s,
                &format!("{ctx} under the wrong associated data ({what}) is refused"),
                &["TamperAssociatedData", "Atomicity"],
            )?;
        }
    }
    Ok(())
}

fn replay(c: &mut Cases) -> R<()> {
    let mut s = c.start("replay-immediate")?;
    let a = s.say("alice")?;
    s.deliver("bob", a)?;
    s.refuse("bob", a, "duplicate")?;
    let b = s.say("alice")?;
    s.deliver("bob", b)?;
    s.continue_both_ways()?;
    c.add(
        s,
        "Alice's first message delivered twice",
        &["Replay", "Atomicity"],
    )?;
    for n in [2usize, 5] {
        let mut s = c.start("replay-chain")?;
        let ids: Vec<usize> = (0..n).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &m in &ids {
            s.deliver("bob", m)?;
        }
        for &m in &ids {
            s.refuse("bob", m, "duplicate")?;
        }
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("each of {n} messages replayed after the chain moved on"),
            &["Replay", "Atomicity"],
        )?;
    }
    let mut s = c.start("replay-skipped")?;
    let ids: Vec<usize> = (0..3).map(|_| s.say("alice")).collect::<R<_>>()?;
    s.deliver("bob", ids.get(2).copied().unwrap_or(0))?;
    s.deliver("bob", ids.first().copied().unwrap_or(0))?;
    s.refuse("bob", ids.first().copied().unwrap_or(0), "duplicate")?;
    s.deliver("bob", ids.get(1).copied().unwrap_or(0))?;
    s.refuse("bob", ids.get(1).copied().unwrap_or(0), "duplicate")?;
    s.continue_both_ways()?;
    c.add(
        s,
        "a message decrypted from the skipped-key store cannot be replayed",
        &["Replay", "OutOfOrder"],
    )?;
    for rounds in [1usize, 2, 4] {
        let mut s = c.start("replay-old-chain")?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        ping_pong(&mut s, rounds, 1)?;
        s.refuse("bob", a, "duplicate")?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        s.refuse("alice", b, "duplicate")?;
        ping_pong(&mut s, 1, 1)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("messages replayed {rounds} DH ratchet steps later"),
            &["Replay", "Atomicity"],
        )?;
    }
    Ok(())
}

fn skip_limits(c: &mut Cases) -> R<()> {
    for jump in [10u32, 100, 1000] {
        let mut s = c.start("jump")?;
        let m = s.craft_alice_first_chain(jump, b"far ahead")?;
        s.deliver_raw("bob", None, m, None, Ok(b"far ahead".to_vec()))?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("a jump of {jump} within one chain is accepted by every implementation"),
            &["SkipLimitUniversal"],
        )?;
    }
    {
        let jump = 1_000_000u32;
        let mut s = c.start("jump-huge")?;
        let m = s.craft_alice_first_chain(jump, b"too far")?;
        s.refuse_bytes("bob", m, None, "too_many_skipped")?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("a genuine message {jump} ahead is refused by every implementation"),
            &["SkipLimitUniversal", "Atomicity"],
        )?;
    }
    let default = Limits {
        max_skip: 2000,
        max_stored_skipped_keys: 4000,
    };
    let small = Limits {
        max_skip: 10,
        max_stored_skipped_keys: 20,
    };
    for limits in [default, small] {
        let max = limits.max_skip;
        let mut s = c.start_limited("exact", limits)?;
        let m = s.craft_alice_first_chain(max, b"at the limit")?;
        s.deliver_raw("bob", None, m, None, Ok(b"at the limit".to_vec()))?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!(
                "n = MAX_SKIP = {max} on the first chain skips exactly MAX_SKIP keys: accepted"
            ),
            &["SkipLimitExact"],
        )?;
        let mut s = c.start_limited("exact-over", limits)?;
        let m = s.craft_alice_first_chain(max + 1, b"over the limit")?;
        s.refuse_bytes("bob", m, None, "too_many_skipped")?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("n = MAX_SKIP + 1 = {} is refused", max + 1),
            &["SkipLimitExact", "Atomicity"],
        )?;
    }
    // Small limits: PN bound and eviction, where sending is cheap.
    {
        let mut s = c.start_limited("pn-bound", small)?;
        // Bob receives message 0 of Alice's first chain (his Nr = 1 there);
        // the next 12 messages of that chain are lost.
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        let _lost: Vec<usize> = (0..12).map(|_| s.say("alice")).collect::<R<_>>()?;
        // Bob replies; Alice's DH ratchet starts her second chain, whose
        // header says PN = 13 > Nr + MAX_SKIP = 11 on the chain Bob holds.
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        let a2 = s.say("alice")?;
        s.refuse("bob", a2, "too_many_skipped")?;
        // Atomicity: the refused header left Bob's state as it was.
        let a3 = s.say("alice")?;
        s.refuse("bob", a3, "too_many_skipped")?;
        c.add(s, "a new chain whose PN would skip more than MAX_SKIP keys of the previous chain is refused", &["SkipLimitExact", "Atomicity"])?;
    }
    {
        let mut s = c.start_limited("pn-bound-no-chain", small)?;
        let m = s.craft_alice_first_chain(11, b"x")?;
        s.refuse_bytes("bob", m, None, "too_many_skipped")?;
        c.add(
            s,
            "before any receiving chain exists, n = MAX_SKIP + 1 is still refused",
            &["SkipLimitExact"],
        )?;
    }
    {
        let mut s = c.start_limited("eviction", small)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        let mut skipped = Vec::new();
        for _ in 0..3 {
            let ids: Vec<usize> = (0..9).map(|_| s.say("alice")).collect::<R<_>>()?;
            s.deliver("bob", *ids.last().unwrap_or(&0))?;
            skipped.extend(ids.iter().take(8).copied());
        }
        // 24 keys were skipped with a cap of 20: the oldest four are gone.
        for &m in skipped.iter().take(4) {
            s.refuse("bob", m, "duplicate")?;
        }
        for &m in skipped.iter().skip(4) {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(
            s,
            "past the cap on stored skipped keys the oldest are evicted first",
            &["SkipLimitExact", "Eviction"],
        )?;
    }
    Ok(())
}

/// Bob, mid-conversation, is handed `bad(genuine)` in place of Alice's next
/// message: he refuses it with one of `classes` (the reference's class is
/// recorded), and the genuine message and the one after it still decrypt.
fn refused_then_genuine(
    c: &mut Cases,
    bad: impl FnOnce(Vec<u8>) -> Vec<u8>,
    classes: &[&str],
    comment: &str,
    flags: &[&str],
) -> R<()> {
    let (mut s, target, follow) = tamper_base(c, false)?;
    let bytes = bad(s.wire(target)?);
    match classes {
        [class] => s.refuse_bytes("bob", bytes, None, class)?,
        _ => s.refuse_bytes_as_one_of("bob", bytes, classes)?,
    }
    s.deliver("bob", target)?;
    s.deliver("bob", follow)?;
    s.continue_both_ways()?;
    c.add(s, comment, flags)
}

/// The genuine message cut to `len` bytes.
fn cut_to(len: usize) -> impl FnOnce(Vec<u8>) -> Vec<u8> {
    move |wire| wire.get(..len).unwrap_or_default().to_vec()
}

/// The genuine message with a zero byte appended.
fn with_trailing_byte(mut wire: Vec<u8>) -> Vec<u8> {
    wire.push(0);
    wire
}

/// The genuine message with its first byte replaced.
fn with_version(version: u8) -> impl FnOnce(Vec<u8>) -> Vec<u8> {
    move |mut wire| {
        if let Some(b) = wire.first_mut() {
            *b = version;
        }
        wire
    }
}

fn malformed(c: &mut Cases) -> R<()> {
    if c.suite.name() == "signal-v3" {
        return malformed_v3(c);
    }
    let overhead = ratchetproof_protocol::suite::MESSAGE_OVERHEAD;
    let base_len = tamper_base(c, false)?.0.wire(1)?.len();
    let mut lengths: Vec<usize> = (0..overhead).collect();
    lengths.extend([overhead, base_len - 1]);
    for len in lengths {
        let class = if len < overhead {
            "malformed"
        } else {
            "authentication"
        };
        refused_then_genuine(
            c,
            cut_to(len),
            &[class],
            &format!("the message truncated to {len} bytes is refused"),
            &["Truncated", "Atomicity"],
        )?;
    }
    refused_then_genuine(
        c,
        with_trailing_byte,
        &["authentication"],
        "a trailing byte appended to the message is refused",
        &["Malformed", "Atomicity"],
    )?;
    for version in [0x00u8, 0x02, 0x03, 0x33, 0xff] {
        refused_then_genuine(
            c,
            with_version(version),
            &["unsupported"],
            &format!("version byte 0x{version:02x} is refused"),
            &["TamperVersion", "Atomicity"],
        )?;
    }
    for (what, bytes, class) in [
        ("64 zero bytes", vec![0u8; 64], &["unsupported"][..]),
        (
            "version byte then zeros",
            [vec![1u8], vec![0; 63]].concat(),
            SMALL_ORDER_CLASSES,
        ),
        (
            "a header naming a small-order ratchet key",
            [vec![1u8], vec![0; 40], vec![0x55; 20]].concat(),
            SMALL_ORDER_CLASSES,
        ),
    ] {
        refused_then_genuine(
            c,
            |_| bytes,
            class,
            &format!("garbage input ({what}) is refused"),
            &["Malformed", "Atomicity"],
        )?;
    }
    Ok(())
}

/// Turns the genuine message into the bytes a case delivers instead.
type BadBytes = Box<dyn FnOnce(Vec<u8>) -> Vec<u8>>;

/// [`malformed`] for `signal-v3`'s protobuf messages (docs/SIGNAL-V3.md §3).
fn malformed_v3(c: &mut Cases) -> R<()> {
    let base_len = tamper_base(c, false)?.0.wire(1)?.len();
    // Every cut leaves a field truncated or missing (the ciphertext is the
    // last field and the MAC is taken from the end), or no room for a MAC.
    let mut lengths: Vec<usize> = (0..12).collect();
    lengths.extend([20, 36, 37, 40, 42, base_len - 9, base_len - 8, base_len - 1]);
    for len in lengths {
        refused_then_genuine(
            c,
            cut_to(len),
            &["malformed"],
            &format!("the message truncated to {len} bytes is refused"),
            &["Truncated", "Atomicity"],
        )?;
    }
    // The appended byte becomes the MAC's last byte and the MAC's first byte
    // is read as protobuf: refused either way.
    refused_then_genuine(
        c,
        with_trailing_byte,
        &["malformed", "authentication"],
        "a trailing byte appended to the message is refused",
        &["Malformed", "Atomicity"],
    )?;
    for version in [0x00u8, 0x01, 0x02, 0x23, 0x32, 0x34, 0x43, 0xff] {
        refused_then_genuine(
            c,
            with_version(version),
            &["unsupported"],
            &format!("version byte 0x{version:02x} is refused"),
            &["TamperVersion", "Atomicity"],
        )?;
    }
    let small_order = {
        let header = Header {
            dh: PublicKey::from_bytes([0; 32]),
            pn: 0,
            n: 0,
        };
        c.suite
            .seal(&MessageKey::from_bytes([0x55; 32]), &header, b"x", &[])
            .map_err(|e| GenerateError::Disagreement {
                tc_id: 0,
                comment: "malformed".into(),
                message: e.to_string(),
            })?
    };
    let fixed = |bytes: Vec<u8>| -> BadBytes { Box::new(|_| bytes) };
    let garbage: [(&str, BadBytes, &[&str]); 4] = [
        ("64 zero bytes", fixed(vec![0u8; 64]), &["unsupported"]),
        (
            "version byte then zeros",
            fixed([vec![0x33u8], vec![0; 63]].concat()),
            &["malformed"],
        ),
        (
            "a WhisperMessage without its counter field",
            // The genuine message without field 2 (tag and value, 2 bytes).
            Box::new(|wire: Vec<u8>| {
                [
                    wire.get(..36).unwrap_or_default(),
                    wire.get(38..).unwrap_or_default(),
                ]
                .concat()
            }),
            &["malformed"],
        ),
        (
            "a well-formed message naming a small-order ratchet key",
            fixed(small_order),
            SMALL_ORDER_CLASSES,
        ),
    ];
    for (what, bad, class) in garbage {
        refused_then_genuine(
            c,
            bad,
            class,
            &format!("garbage input ({what}) is refused"),
            &["Malformed", "Atomicity"],
        )?;
    }
    Ok(())
}

/// A session copied after it sent (export and re-import: the `capture`
/// step) and then used in place of the original continues from its latest
/// state: its next message takes the next message key, never one it already
/// used (SPEC.md §11.4). Catches an implementation whose saved or exported
/// state lags behind its sends (the mutant `restored-state-reuses-message-key`).
/// Added at the end so earlier tcIds stay stable.
fn restored_sessions(c: &mut Cases) -> R<()> {
    // Alice has only sent; her copy sends next.
    let mut s = c.start("restore/sender")?;
    let m0 = s.say("alice")?;
    let m1 = s.say("alice")?;
    s.deliver("bob", m0)?;
    s.deliver("bob", m1)?;
    s.capture("alice", "alice-restored")?;
    let m2 = s.say("alice-restored")?;
    s.deliver("bob", m2)?;
    let b0 = s.say("bob")?;
    s.deliver("alice-restored", b0)?;
    let m3 = s.say("alice-restored")?;
    s.deliver("bob", m3)?;
    c.add(
        s,
        "Alice's state is exported and re-imported after two sends; the restored copy continues with message 2 under the next message key, and the conversation goes on",
        &["RestoredSession"],
    )?;
    // Sends after the last decryption, some still in flight, then a restore.
    let mut s = c.start("restore/after-receive")?;
    let m0 = s.say("alice")?;
    s.deliver("bob", m0)?;
    let b0 = s.say("bob")?;
    s.deliver("alice", b0)?;
    let m1 = s.say("alice")?;
    let m2 = s.say("alice")?;
    s.capture("alice", "alice-restored")?;
    let m3 = s.say("alice-restored")?;
    for m in [m1, m2, m3] {
        s.deliver("bob", m)?;
    }
    let b1 = s.say("bob")?;
    let b2 = s.say("bob")?;
    s.capture("bob", "bob-restored")?;
    let b3 = s.say("bob-restored")?;
    for b in [b1, b2, b3] {
        s.deliver("alice-restored", b)?;
    }
    c.add(
        s,
        "both parties are restored from states exported after sends that followed their last decryption; each restored copy seals its next message under a key it never used",
        &["RestoredSession"],
    )?;
    Ok(())
}

/// Cases the known-bug table (`ratchetproof mutants`, docs/MUTANTS.md) found
/// missing: each catches a mutant no earlier case did. Added at the end so
/// earlier tcIds stay stable.
fn known_bug_gaps(c: &mut Cases) -> R<()> {
    // skipped-key-deleted-before-verify: a forgery under a stored skipped
    // key's (ratchet key, n) must leave that key in place.
    for tamper_ad in [false, true] {
        let mut s = c.start("forged-skipped")?;
        let a0 = s.say("alice")?;
        let a1 = s.say("alice")?;
        s.deliver("bob", a1)?;
        if tamper_ad {
            let mut ad = s.ad();
            if let Some(b) = ad.get_mut(10) {
                *b ^= 0x01;
            }
            s.deliver_raw(
                "bob",
                Some(a0),
                s.wire(a0)?,
                Some(ad),
                Err("authentication"),
            )?;
            s.class_fixed()?;
        } else {
            let mut forged = s.wire(a0)?;
            if let Some(b) = forged.last_mut() {
                *b ^= 0x01;
            }
            s.refuse_bytes("bob", forged, None, "authentication")?;
            s.class_fixed()?;
        }
        s.deliver("bob", a0)?;
        s.refuse("bob", a0, "duplicate")?;
        let (what, flag) = if tamper_ad {
            ("under altered associated data", "TamperAssociatedData")
        } else {
            ("with an altered tag", "TamperTag")
        };
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("a copy of a message whose key is stored as skipped, {what}, is refused and leaves the key: the genuine message then decrypts once"),
            &["OutOfOrder", "Atomicity", flag, "Replay"],
        )?;
    }
    // previous-chain-keys-not-stored: the keys of Alice's previous chain
    // past the last message Bob received from it come only from PN.
    for late in [1usize, 3] {
        let mut s = c.start("pn-skip")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let held: Vec<usize> = (0..late).map(|_| s.say("alice")).collect::<R<_>>()?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        for &m in held.iter().rev() {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("the last {late} messages of Alice's previous chain, after the last one Bob received from it, arrive after her next chain's first: their keys come from its PN"),
            &["AcrossRatchetSteps", "OutOfOrder"],
        )?;
    }
    // pn-unbounded-without-receiving-chain: a correctly sealed first-chain
    // message whose header claims a PN past the bound, before Bob has any
    // receiving chain (the bound holds even then, SPEC.md §5.4 step 5.1).
    let small = Limits {
        max_skip: 10,
        max_stored_skipped_keys: 20,
    };
    let pn_cases: [(Option<Limits>, u32, bool); 3] = [
        (None, 1_000_000, false),
        (Some(small), 11, false),
        (Some(small), 10, true),
    ];
    for (limits, pn, accepted) in pn_cases {
        let mut s = match limits {
            Some(l) => c.start_limited("pn-bound-no-chain-sealed", l)?,
            None => c.start("pn-bound-no-chain-sealed")?,
        };
        let m = s.craft_alice_first_chain_pn(pn, 0, b"claims a long previous chain")?;
        if accepted {
            s.deliver_raw(
                "bob",
                None,
                m,
                None,
                Ok(b"claims a long previous chain".to_vec()),
            )?;
        } else {
            s.refuse_bytes("bob", m, None, "too_many_skipped")?;
            let a0 = s.say("alice")?;
            s.deliver("bob", a0)?;
        }
        let (flag, verdict) = match (limits, accepted) {
            (None, _) => ("SkipLimitUniversal", "is refused"),
            (Some(_), false) => ("SkipLimitExact", "is refused"),
            (Some(_), true) => ("SkipLimitExact", "is accepted"),
        };
        // The accepted message stands in for Alice's own message 0.
        if !accepted {
            s.continue_both_ways()?;
        }
        c.add(
            s,
            &format!("before Bob has a receiving chain, a correctly sealed message whose header claims PN = {pn} {verdict} (the PN bound holds without a receiving chain)"),
            &[flag, "Atomicity"],
        )?;
    }
    Ok(())
}

pub(super) fn file(suite_name: &str) -> Result<VectorFile<ScenarioCase>, GenerateError> {
    let suite = suite_named(suite_name).map_err(|e| GenerateError::Disagreement {
        tc_id: 0,
        comment: suite_name.into(),
        message: e.to_string(),
    })?;
    let mut c = Cases {
        suite,
        tests: Vec::new(),
    };
    in_order(&mut c)?;
    out_of_order(&mut c)?;
    across_ratchet(&mut c)?;
    delayed_chains(&mut c)?;
    message_loss(&mut c)?;
    forward_secrecy(&mut c)?;
    post_compromise(&mut c)?;
    tampering(&mut c)?;
    replay(&mut c)?;
    skip_limits(&mut c)?;
    malformed(&mut c)?;
    restored_sessions(&mut c)?;
    known_bug_gaps(&mut c)?;
    forward_secrecy_copies::cases(&mut c)?;
    session_paths::cases(&mut c)?;
    let spec = "https://signal.org/docs/specifications/doubleratchet/";
    let n = |b: &str, d: &str, l: &[&str]| note(b, d, l);
    let notes = BTreeMap::from([
        (
            "InOrder".into(),
            n(
                "BasicTest",
                "Messages delivered as sent, in bursts both ways.",
                &[spec],
            ),
        ),
        (
            "OutOfOrder".into(),
            n(
                "BasicTest",
                "Messages of one chain delivered in another order; skipped keys are stored and used once.",
                &["https://signal.org/docs/specifications/doubleratchet/#out-of-order-messages"],
            ),
        ),
        (
            "AcrossRatchetSteps".into(),
            n(
                "BasicTest",
                "Late messages of a previous chain, found through the header's PN when the next chain starts.",
                &["https://signal.org/docs/specifications/doubleratchet/#out-of-order-messages"],
            ),
        ),
        (
            "DelayedChains".into(),
            n(
                "EdgeCase",
                "Messages held back from two or more chains ago arrive last.",
                &[],
            ),
        ),
        (
            "MessageLoss".into(),
            n("BasicTest", "Lost messages never block later ones.", &[]),
        ),
        (
            "ForwardSecrecy".into(),
            n(
                "Security",
                "A party's state captured after it decrypted a message cannot decrypt that message again; the capture decrypts only messages whose keys are still stored as skipped, which the case marks as expected.",
                &["https://signal.org/docs/specifications/doubleratchet/#security-considerations"],
            ),
        ),
        (
            "PostCompromise".into(),
            n(
                "Security",
                "A capture follows the conversation passively until the victim's next DH ratchet with fresh randomness, and fails from then on (strict in every mode). What it reads before healing differs between conforming implementations: one that generates its next ratchet key only when it next sends ([DR] §6.5) had none when captured, so the steps that need that key name authentication as an alternative and the case is acceptable.",
                &["https://signal.org/docs/specifications/doubleratchet/#security-considerations"],
            ),
        ),
        (
            "TamperVersion".into(),
            n(
                "Adversarial",
                "The version byte changed: refused as unsupported (or any rejection in non-strict mode).",
                &[],
            ),
        ),
        (
            "TamperRatchetKey".into(),
            n(
                "Adversarial",
                "A byte of the header's ratchet public key changed: refused, and the state is unchanged (no DH ratchet on an unauthenticated header). The message is well formed and only its tag is wrong: authentication, classFixed.",
                &[],
            ),
        ),
        (
            "TamperPreviousCounter".into(),
            n(
                "Adversarial",
                "A byte of PN changed: refused without state change (no skipped keys stored for an unauthenticated header). Like N, any of authentication, too_many_skipped and duplicate conforms (alternatives).",
                &[],
            ),
        ),
        (
            "TamperCounter".into(),
            n(
                "Adversarial",
                "A byte of N changed: refused without state change. The new value may claim a jump past MAX_SKIP, an already-used number or a fresh one: too_many_skipped, duplicate and authentication all conform (alternatives).",
                &[],
            ),
        ),
        (
            "TamperCiphertext".into(),
            n(
                "Adversarial",
                "A ciphertext byte changed: authentication failure, and classFixed: only the tag check may refuse it, so even the default mode requires authentication (a padding or parse error here means unauthenticated bytes were examined first: a padding oracle in CBC suites).",
                &[],
            ),
        ),
        (
            "TamperTag".into(),
            n(
                "Adversarial",
                "An authentication tag byte changed: authentication failure (classFixed).",
                &[],
            ),
        ),
        (
            "TamperAssociatedData".into(),
            n(
                "Adversarial",
                "Decryption under different associated data, including ambiguous re-splits of CONCAT(ad, header): authentication failure (classFixed). Where the suite reads the AD as two identity keys and refuses other bytes (signal-v3: invalid_key), an implementation that only MACs the AD fails the tag instead, and authentication is an alternative.",
                &[],
            ),
        ),
        (
            "Atomicity".into(),
            n(
                "KnownBug",
                "After a rejected message the next genuine one still decrypts: a failed decryption must leave the state exactly as it was (skip loop, DH ratchet and skipped-key deletion included).",
                &["https://signal.org/docs/specifications/doubleratchet/#decrypting-messages"],
            ),
        ),
        (
            "Replay".into(),
            n(
                "KnownBug",
                "A message delivered again after it decrypted must be refused: its key was deleted. This suite names the refusal duplicate (SPEC.md §5.4 steps 3 and 8, the latter through the optional window of recent ratchet keys, §8.3); the Double Ratchet's pseudocode derives a key that is not the message's and fails authentication, named as an alternative.",
                &[],
            ),
        ),
        (
            "SkipLimitUniversal".into(),
            n(
                "Limit",
                "Holds for any reasonable MAX_SKIP: a jump of up to 1000 is accepted, a jump of 1 000 000 refused.",
                &[],
            ),
        ),
        (
            "SkipLimitExact".into(),
            n(
                "Limit",
                "Exact boundaries for the limits stated in the case's `limits`; run only against implementations with those limits or configurable ones.",
                &[],
            ),
        ),
        (
            "Eviction".into(),
            n(
                "Limit",
                "Oldest-first eviction of stored skipped keys past the cap.",
                &[],
            ),
        ),
        (
            "Truncated".into(),
            n(
                "Adversarial",
                "A message cut short: malformed below the minimum length, otherwise an authentication failure.",
                &[],
            ),
        ),
        (
            "Malformed".into(),
            n(
                "Adversarial",
                "Bytes that are not a message of this suite. A header naming a small-order ratchet key is invalid_key where the optional all-zero check is made (SPEC.md §2.1), else authentication (alternative).",
                &[],
            ),
        ),
        (
            "RestoredSession".into(),
            n(
                "KnownBug",
                "A party's state is exported and re-imported (the `capture` step) after it sent, and the copy is used in its place: the copy's next message must take the next message key. An implementation whose saved state lags behind its sends re-uses a message key and nonce for a new plaintext (SPEC.md §11.4).",
                &["https://github.com/wireapp/wire-webapp-cryptobox/pull/11"],
            ),
        ),
        (
            "SendBeforeReceive".into(),
            n(
                "EdgeCase",
                "RatchetInitBob leaves Bob without a sending chain until Alice's first message arrives.",
                &[spec],
            ),
        ),
        (
            "EdgeCase".into(),
            n("EdgeCase", "Unusual plaintext sizes.", &[]),
        ),
    ]);
    let mut notes = notes;
    notes.extend(erasure::notes());
    if suite_name == "signal-v3" {
        notes.insert(
            "TamperEncoding".into(),
            n(
                "Adversarial",
                "A protobuf tag or length byte changed: the message no longer parses as sent. In the default mode any refusal passes; the class recorded is the reference's under docs/SIGNAL-V3.md §3 (a wire-type mismatch or truncated field is malformed), which --strict-errors enforces. The state must not change.",
                &["https://github.com/signalapp/libsignal-protocol-java/blob/master/protobuf/WhisperTextProtocol.proto"],
            ),
        );
        notes.insert(
            "Truncated".into(),
            n(
                "Adversarial",
                "A message cut short: with the MAC taken from the end, every cut leaves a protobuf field truncated or missing (malformed).",
                &[],
            ),
        );
    }
    Ok(vector_file(SCENARIO_SCHEMA, suite_name, notes, c.tests))
}
