//! The runner: plays a sequence of [`Action`]s against a [`Subject`] and
//! checks it against the oracle after every step.
//!
//! The invariants, one [`Invariant`] each:
//! * a genuine message delivered within the limits decrypts exactly once, to
//!   its plaintext, in any order and despite losses;
//! * a replay is rejected as `duplicate`; an altered message as
//!   `authentication` (`unsupported` for the version byte, `malformed` when
//!   truncated); a jump past `MAX_SKIP` as `too_many_skipped`;
//! * every rejection leaves the session as it was — byte-identical where the
//!   subject shows its state, indistinguishable by behaviour otherwise;
//! * a captured copy decrypts no message that it, or its victim before the
//!   capture, had already processed, unless its key was still stored as
//!   skipped (forward secrecy),
//!   and decrypts exactly what the oracle says until the victim's next DH
//!   ratchet with fresh keys, then nothing after it (post-compromise security);
//! * no two messages share a keystream (distinct message keys per (ratchet key, n));
//! * where the subject shows its state, it round-trips exactly.
//!
//! With [`Randomness::AllZero`] the oracle cannot predict acceptance (see
//! [`Randomness`]); the runner then checks only what must survive bad
//! randomness: nothing altered, replayed or garbled is ever accepted.

use std::collections::BTreeSet;
use std::fmt;

use ratchetproof_protocol::consts::DEFAULT_MAX_STORED_SKIPPED_KEYS;
use ratchetproof_protocol::header::HEADER_LEN;
use ratchetproof_protocol::suite::{MESSAGE_OVERHEAD, MESSAGE_VERSION};
use ratchetproof_protocol::{CipherSuite, DEFAULT_SUITE, ErrorClass, KeyPair, PrivateKey};

use super::action::{Action, Party, Tamper};
use super::direct::Subject;
use super::keys::{self, Randomness, Role, Secrets};
use super::oracle::{Expect, PartyState, SeenHeader, SentHeader};
use crate::implementation::{
    CloneSession, Decrypt, Encrypt, ImplResult, SessionHandle, SessionInit,
};

/// The model's default `MAX_SKIP`: small, so that a jump past it takes a few
/// actions rather than a thousand.
pub const MODEL_MAX_SKIP: u32 = 3;

/// The longest action sequence a run accepts. It keeps the number of stored
/// skipped keys far below the reference's cap, because the model does not
/// model eviction.
pub const MAX_ACTIONS: usize = 1_000;

/// Everything a run depends on besides its actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelConfig {
    /// Seeds the shared key, associated data, Bob's prekey and, with
    /// [`Randomness::Fresh`], every ratchet key.
    pub seed: u64,
    /// How ratchet keys are drawn.
    pub randomness: Randomness,
    /// `MAX_SKIP` of every session.
    pub max_skip: u32,
}

impl ModelConfig {
    /// Fresh randomness from `seed`, [`MODEL_MAX_SKIP`].
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            randomness: Randomness::Fresh,
            max_skip: MODEL_MAX_SKIP,
        }
    }

    /// The same with other randomness.
    pub fn with_randomness(self, randomness: Randomness) -> Self {
        Self { randomness, ..self }
    }
}

/// The property a run broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// The run could not start, or a party could not be captured.
    Setup,
    /// Encryption failed where it must succeed, or the reverse.
    Send,
    /// A genuine message did not decrypt exactly once to its plaintext.
    Delivery,
    /// A replay was not rejected as a duplicate.
    Duplicate,
    /// An altered message was accepted or rejected with the wrong class.
    Authenticity,
    /// A jump past `MAX_SKIP` was not rejected as too many skipped.
    SkipLimit,
    /// A rejected message changed the session.
    Atomicity,
    /// Serialized state did not round-trip exactly.
    RoundTrip,
    /// Two messages were encrypted under the same key and nonce.
    DistinctMessageKeys,
    /// A capture decrypted a message already processed by its state (by the
    /// victim before the capture, or by the capture itself).
    ForwardSecrecy,
    /// A capture decrypted what it must not, or failed what it must.
    PostCompromise,
}

/// The first broken invariant of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Index of the action at fault (`None`: setup).
    pub step: Option<usize>,
    /// That action, with its picks reduced to the indexes they selected.
    pub action: Option<Action>,
    /// What was broken.
    pub invariant: Invariant,
    /// Expected and observed, in words.
    pub detail: String,
    /// The same failure as the shortest equivalent run: the actions up to
    /// and including the failing one, with every pick reduced to the index it
    /// selected and actions that did nothing left out.
    pub effective_actions: Vec<Action>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.step, &self.action) {
            (Some(step), Some(action)) => write!(f, "step {step} ({action:?}): ")?,
            _ => write!(f, "setup: ")?,
        }
        write!(f, "{:?} violated: {}", self.invariant, self.detail)
    }
}

impl std::error::Error for Violation {}

/// A decryption's or encryption's result: bytes, or the error class.
pub type Outcome = Result<Vec<u8>, ErrorClass>;

/// What the subject did, step by step, in the terms of a scenario vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `party` encrypted `plaintext`.
    Send {
        /// Sender name.
        party: String,
        /// The plaintext.
        plaintext: Vec<u8>,
        /// The wire message, or the error.
        outcome: Outcome,
    },
    /// A message (index among successful sends) reached `party`, possibly altered.
    Deliver {
        /// Recipient name.
        party: String,
        /// The genuine message it derives from.
        message: usize,
        /// The altered bytes, when they differ from the genuine ones.
        bytes: Option<Vec<u8>>,
        /// The altered associated data, when it differs.
        ad: Option<Vec<u8>>,
        /// The plaintext, or the error.
        outcome: Outcome,
    },
    /// `victim`'s state was copied as the new party `name`.
    Capture {
        /// Whose state.
        victim: String,
        /// The copy's name.
        name: String,
        /// Index of the capture (its key list in [`Trace::capture_keys`]).
        capture: usize,
    },
}

/// A completed run: what happened, and the keys the scenario needs to replay it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The configuration it ran under.
    pub config: ModelConfig,
    /// What happened, in order; dropped messages and actions that had no
    /// candidate leave no event.
    pub events: Vec<Event>,
    /// SK.
    pub shared_key: [u8; 32],
    /// AD.
    pub associated_data: Vec<u8>,
    /// Bob's initial ratchet (signed prekey) private key.
    pub bob_ratchet_private_key: [u8; 32],
    /// Alice's ratchet keys, trimmed to those she drew (untrimmed when the
    /// model could not count, under [`Randomness::AllZero`]).
    pub alice_keys: Vec<[u8; 32]>,
    /// Bob's ratchet keys, likewise.
    pub bob_keys: Vec<[u8; 32]>,
    /// Each capture's ratchet keys, likewise.
    pub capture_keys: Vec<Vec<[u8; 32]>>,
}

/// Plays `actions` against `subject` under `config`, checking every
/// invariant after every step. The subject is [`reset`](crate::Implementation::reset) first.
pub fn check<S: Subject + ?Sized>(
    subject: &mut S,
    config: &ModelConfig,
    actions: &[Action],
) -> Result<Trace, Violation> {
    if actions.len() > MAX_ACTIONS {
        return Err(setup_violation(format!(
            "{} actions, more than the model's limit of {MAX_ACTIONS}",
            actions.len()
        )));
    }
    let mut run = Run::start(subject, *config, actions.len() + 1)?;
    for (step, action) in actions.iter().enumerate() {
        run.step = Some(step);
        run.action = Some(*action);
        run.apply(*action)?;
        run.check_round_trips()?;
    }
    Ok(run.finish())
}

fn setup_violation(detail: String) -> Violation {
    Violation {
        step: None,
        action: None,
        invariant: Invariant::Setup,
        detail,
        effective_actions: Vec::new(),
    }
}

struct Session {
    name: String,
    handle: SessionHandle,
    state: PartyState,
    keys: Vec<[u8; 32]>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    InFlight,
    Accepted,
    Dropped,
}

struct Message {
    from: Party,
    /// The oracle's header; `None` where the oracle is not followed.
    header: Option<SentHeader>,
    plaintext: Vec<u8>,
    wire: Vec<u8>,
    status: Status,
}

struct Capture {
    victim: Party,
    session: Session,
    /// Messages this state has processed: those the victim had accepted
    /// when it was captured, and those the capture accepted since.
    processed: BTreeSet<usize>,
}

#[derive(Clone, Copy)]
enum Target {
    Party(Party),
    Capture(usize),
}

/// What a decryption attempt must produce.
#[derive(Clone, Copy)]
enum Want {
    /// Exactly the oracle's verdict.
    Oracle(Expect),
    /// The genuine plaintext, or any rejection (bad randomness).
    PlaintextOrRejection,
    /// A rejection, of the given class if any.
    Rejection(Option<ErrorClass>),
}

struct Tampered {
    bytes: Vec<u8>,
    ad: Option<Vec<u8>>,
    /// The header as altered, for the oracle; `None` where parsing fails first.
    header: Option<SeenHeader>,
    /// The class parsing must fail with, where it must.
    parse_error: Option<ErrorClass>,
}

struct Run<'s, S: ?Sized> {
    subject: &'s mut S,
    config: ModelConfig,
    /// Whether the oracle's predictions hold (false under repeating keys).
    strict: bool,
    secrets: Secrets,
    alice: Session,
    bob: Session,
    messages: Vec<Message>,
    captures: Vec<Capture>,
    events: Vec<Event>,
    key_budget: usize,
    probe_keys: Vec<Vec<u8>>,
    sends_tried: usize,
    step: Option<usize>,
    action: Option<Action>,
    effective_so_far: Vec<Action>,
    /// The current action as it takes effect (see [`Run::effective`]).
    effective_now: Option<Action>,
}

impl<'s, S: Subject + ?Sized> Run<'s, S> {
    fn start(
        subject: &'s mut S,
        config: ModelConfig,
        key_budget: usize,
    ) -> Result<Self, Violation> {
        subject.reset();
        let secrets = keys::secrets(config.seed);
        let bob_public =
            *KeyPair::from_private(PrivateKey::from_bytes(secrets.bob_ratchet_private_key))
                .public_key()
                .as_bytes();
        let list = |role| keys::ratchet_keys(config.randomness, config.seed, role, key_budget);
        let (alice_keys, bob_keys) = (list(Role::Alice), list(Role::Bob));
        let init = |role: Party, ratchet_key: [u8; 32], keys: &[[u8; 32]]| SessionInit {
            suite: DEFAULT_SUITE.name().to_string(),
            role: role.role(),
            shared_key: secrets.shared_key.to_vec(),
            ratchet_key: ratchet_key.to_vec(),
            ratchet_private_keys: keys.iter().map(|k| k.to_vec()).collect(),
            max_skip: Some(config.max_skip),
            max_stored_skipped_keys: Some(DEFAULT_MAX_STORED_SKIPPED_KEYS),
        };
        let alice_init = init(Party::Alice, bob_public, &alice_keys);
        let bob_init = init(Party::Bob, secrets.bob_ratchet_private_key, &bob_keys);
        let start = |subject: &mut S, init: &SessionInit| {
            subject.init_session(init).map(|o| o.session).map_err(|e| {
                setup_violation(format!("init_session as {}: {e}", init.role.as_str()))
            })
        };
        let alice_handle = start(subject, &alice_init)?;
        let bob_handle = start(subject, &bob_init)?;
        let probe_keys = list(Role::Probe).iter().map(|k| k.to_vec()).collect();
        Ok(Self {
            subject,
            config,
            strict: !config.randomness.repeats_keys(),
            alice: Session {
                name: Party::Alice.name().into(),
                handle: alice_handle,
                state: PartyState::alice(config.max_skip),
                keys: alice_keys,
            },
            bob: Session {
                name: Party::Bob.name().into(),
                handle: bob_handle,
                state: PartyState::bob(config.max_skip),
                keys: bob_keys,
            },
            secrets,
            messages: Vec::new(),
            captures: Vec::new(),
            events: Vec::new(),
            key_budget,
            probe_keys,
            sends_tried: 0,
            step: None,
            action: None,
            effective_so_far: Vec::new(),
            effective_now: None,
        })
    }

    fn violation(&self, invariant: Invariant, detail: impl Into<String>) -> Violation {
        Violation {
            step: self.step,
            action: self.effective_now.or(self.action),
            invariant,
            detail: detail.into(),
            effective_actions: self.effective_so_far.clone(),
        }
    }

    fn state(&self, party: Party) -> &PartyState {
        match party {
            Party::Alice => &self.alice.state,
            Party::Bob => &self.bob.state,
        }
    }

    fn party(&mut self, party: Party) -> &mut Session {
        match party {
            Party::Alice => &mut self.alice,
            Party::Bob => &mut self.bob,
        }
    }

    fn session(&mut self, target: Target) -> Option<&mut Session> {
        match target {
            Target::Party(p) => Some(self.party(p)),
            Target::Capture(k) => self.captures.get_mut(k).map(|c| &mut c.session),
        }
    }

    /// Indexes of messages with `status`, in sending order.
    fn with_status(&self, status: Status) -> Vec<usize> {
        (0..self.messages.len())
            .filter(|&i| self.messages.get(i).is_some_and(|m| m.status == status))
            .collect()
    }

    /// `action` as it takes effect now: picks reduced to the index they
    /// select, `None` where it has no candidate and does nothing.
    fn effective(&self, action: Action) -> Option<Action> {
        let reduce =
            |pick: u8, len: usize| pick_index(len, pick).map(|i| u8::try_from(i).unwrap_or(pick));
        let in_flight = self.with_status(Status::InFlight).len();
        match action {
            Action::Send { .. } => Some(action),
            Action::Deliver { pick } => {
                reduce(pick, in_flight).map(|pick| Action::Deliver { pick })
            }
            Action::Drop { pick } => reduce(pick, in_flight).map(|pick| Action::Drop { pick }),
            Action::Tamper { pick, field } => {
                reduce(pick, in_flight).map(|pick| Action::Tamper { pick, field })
            }
            Action::Replay { pick } => reduce(pick, self.with_status(Status::Accepted).len())
                .map(|pick| Action::Replay { pick }),
            Action::Capture { .. } => self.strict.then_some(action),
            Action::Eavesdrop { capture, pick } => {
                let c = reduce(capture, self.captures.len())?;
                let victim = self.captures.get(usize::from(c))?.victim;
                let to_victim = self
                    .messages
                    .iter()
                    .filter(|m| m.from.peer() == victim)
                    .count();
                let pick = reduce(pick, to_victim)?;
                Some(Action::Eavesdrop { capture: c, pick })
            }
        }
    }

    fn apply(&mut self, action: Action) -> Result<(), Violation> {
        self.effective_now = self.effective(action);
        self.effective_so_far.extend(self.effective_now);
        match action {
            Action::Send { from } => self.send(from),
            Action::Deliver { pick } => {
                match pick_from(&self.with_status(Status::InFlight), pick) {
                    Some(m) => self.deliver(m, false),
                    None => Ok(()),
                }
            }
            Action::Replay { pick } => match pick_from(&self.with_status(Status::Accepted), pick) {
                Some(m) => self.deliver(m, true),
                None => Ok(()),
            },
            Action::Drop { pick } => {
                if let Some(m) = pick_from(&self.with_status(Status::InFlight), pick)
                    && let Some(message) = self.messages.get_mut(m)
                {
                    message.status = Status::Dropped;
                }
                Ok(())
            }
            Action::Tamper { pick, field } => {
                match pick_from(&self.with_status(Status::InFlight), pick) {
                    Some(m) => self.tamper(m, field),
                    None => Ok(()),
                }
            }
            Action::Capture { victim } => self.capture(victim),
            Action::Eavesdrop { capture, pick } => self.eavesdrop(capture, pick),
        }
    }

    fn send(&mut self, from: Party) -> Result<(), Violation> {
        let plaintext = format!("message {} from {}", self.sends_tried, from.name()).into_bytes();
        self.sends_tried += 1;
        let strict = self.strict;
        let ad = self.secrets.associated_data.clone();
        let session = self.party(from);
        let (handle, name) = (session.handle, session.name.clone());
        // The oracle's state advances only if the send succeeds.
        let mut next = session.state.clone();
        let header = next.send();
        let outcome = class_of(
            self.subject
                .encrypt(&Encrypt::new(handle, &plaintext, &ad))
                .map(|o| o.message),
        );
        self.events.push(Event::Send {
            party: name,
            plaintext: plaintext.clone(),
            outcome: outcome.clone(),
        });
        match (outcome, header) {
            (Ok(wire), Some(header)) => {
                self.party(from).state = next;
                self.check_distinct_keystream(&plaintext, &wire)?;
                self.messages.push(Message {
                    from,
                    header: Some(header),
                    plaintext,
                    wire,
                    status: Status::InFlight,
                });
                Ok(())
            }
            (Ok(wire), None) if !strict => {
                self.check_distinct_keystream(&plaintext, &wire)?;
                self.messages.push(Message {
                    from,
                    header: None,
                    plaintext,
                    wire,
                    status: Status::InFlight,
                });
                Ok(())
            }
            (Err(_), _) if !strict => Ok(()),
            (Err(ErrorClass::State), None) => Ok(()),
            (Ok(_), None) => Err(self.violation(
                Invariant::Send,
                "encrypted before the session had a sending chain; must fail with `state`",
            )),
            (Err(class), None) => Err(self.violation(
                Invariant::Send,
                format!(
                    "sending before a sending chain exists must fail with `state`, got `{class}`"
                ),
            )),
            (Err(class), Some(_)) => Err(self.violation(
                Invariant::Send,
                format!("encryption must succeed, got `{class}`"),
            )),
        }
    }

    /// Delivers message `m` intact to its recipient, for the first time or again.
    fn deliver(&mut self, m: usize, replay: bool) -> Result<(), Violation> {
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let to = message.from.peer();
        let seen = message.header.map(seen);
        let want = match (self.strict, seen) {
            (true, Some(seen)) => Want::Oracle(self.state(to).expect(&seen, true)),
            _ if replay => Want::Rejection(None),
            _ => Want::PlaintextOrRejection,
        };
        let invariant = match want {
            _ if replay => Invariant::Duplicate,
            Want::Oracle(Expect::Reject {
                class: ErrorClass::TooManySkipped,
                ..
            }) => Invariant::SkipLimit,
            _ => Invariant::Delivery,
        };
        let wire = message.wire.clone();
        let outcome = self.attempt(Target::Party(to), m, wire, None, want, invariant)?;
        if outcome.is_ok()
            && let Some(message) = self.messages.get_mut(m)
        {
            message.status = Status::Accepted;
        }
        Ok(())
    }

    fn tamper(&mut self, m: usize, field: Tamper) -> Result<(), Violation> {
        let Some(tampered) = self.tampered(m, field) else {
            return Ok(());
        };
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let to = message.from.peer();
        let want = match (tampered.parse_error, tampered.header) {
            (Some(class), _) => Want::Rejection(Some(class)),
            (None, Some(header)) if self.strict => {
                Want::Oracle(self.state(to).expect(&header, false))
            }
            (None, _) => Want::Rejection(None),
        };
        let bytes = tampered.bytes;
        self.attempt(
            Target::Party(to),
            m,
            bytes,
            tampered.ad,
            want,
            Invariant::Authenticity,
        )
        .map(|_| ())
    }

    fn capture(&mut self, victim: Party) -> Result<(), Violation> {
        if !self.strict {
            return Ok(());
        }
        let index = self.captures.len();
        let keys = keys::ratchet_keys(
            self.config.randomness,
            self.config.seed,
            Role::Capture(index),
            self.key_budget,
        );
        let source = self.party(victim);
        let (handle, state) = (source.handle, source.state.captured(index));
        let name = format!("{}-capture-{}", victim.name(), index + 1);
        let injected: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        let copy = self
            .subject
            .clone_session(&CloneSession::new(handle, &injected))
            .map(|o| o.session)
            .map_err(|e| self.violation(Invariant::Setup, format!("clone_session: {e}")))?;
        let processed = (0..self.messages.len())
            .filter(|&i| {
                self.messages
                    .get(i)
                    .is_some_and(|m| m.status == Status::Accepted && m.from.peer() == victim)
            })
            .collect();
        self.events.push(Event::Capture {
            victim: victim.name().into(),
            name: name.clone(),
            capture: index,
        });
        self.captures.push(Capture {
            victim,
            session: Session {
                name,
                handle: copy,
                state,
                keys,
            },
            processed,
        });
        Ok(())
    }

    fn eavesdrop(&mut self, capture: u8, pick: u8) -> Result<(), Violation> {
        let Some(index) = pick_index(self.captures.len(), capture) else {
            return Ok(());
        };
        let Some(c) = self.captures.get(index) else {
            return Ok(());
        };
        let victim = c.victim;
        let to_victim: Vec<usize> = (0..self.messages.len())
            .filter(|&i| {
                self.messages
                    .get(i)
                    .is_some_and(|m| m.from.peer() == victim)
            })
            .collect();
        let Some(m) = pick_from(&to_victim, pick) else {
            return Ok(());
        };
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let Some(header) = message.header else {
            return Ok(());
        };
        let invariant = if c.processed.contains(&m) {
            Invariant::ForwardSecrecy
        } else {
            Invariant::PostCompromise
        };
        let want = Want::Oracle(c.session.state.expect(&seen(header), true));
        let wire = message.wire.clone();
        let outcome = self.attempt(Target::Capture(index), m, wire, None, want, invariant)?;
        if outcome.is_ok()
            && let Some(c) = self.captures.get_mut(index)
        {
            c.processed.insert(m);
        }
        Ok(())
    }

    /// Decrypts `bytes` (derived from message `m`) at `target` under `ad` (or
    /// the session's), records the event, checks the outcome against `want`,
    /// and commits an acceptance to the oracle.
    fn attempt(
        &mut self,
        target: Target,
        m: usize,
        bytes: Vec<u8>,
        ad: Option<Vec<u8>>,
        want: Want,
        invariant: Invariant,
    ) -> Result<Outcome, Violation> {
        let Some(message) = self.messages.get(m) else {
            return Err(self.violation(Invariant::Setup, format!("no message {m}")));
        };
        let genuine_plaintext = message.plaintext.clone();
        let altered_bytes = (bytes != message.wire).then(|| bytes.clone());
        let header = message.header;
        let session_ad = self.secrets.associated_data.clone();
        let Some(session) = self.session(target) else {
            return Err(self.violation(Invariant::Setup, "no such session"));
        };
        let (handle, name) = (session.handle, session.name.clone());
        let may_fail = !matches!(want, Want::Oracle(Expect::Accept));
        let before = if may_fail {
            Some(self.snapshot(handle)?)
        } else {
            None
        };
        let outcome = class_of(
            self.subject
                .decrypt(&Decrypt::new(
                    handle,
                    &bytes,
                    ad.as_deref().unwrap_or(&session_ad),
                ))
                .map(|o| o.plaintext),
        );
        self.events.push(Event::Deliver {
            party: name,
            message: m,
            bytes: altered_bytes.clone(),
            ad: ad.clone(),
            outcome: outcome.clone(),
        });
        let shown = show(&outcome);
        match (want, &outcome) {
            (Want::Oracle(Expect::Accept) | Want::PlaintextOrRejection, Ok(pt))
                if *pt != genuine_plaintext =>
            {
                return Err(self.violation(
                    invariant,
                    format!("message {m} was accepted but decrypted to other bytes: {shown}"),
                ));
            }
            (Want::Oracle(Expect::Accept), Ok(_)) => {
                if let (Some(h), Some(session)) = (header, self.session(target)) {
                    session.state.accept(h.key, h.pn, h.n);
                }
            }
            (Want::Oracle(Expect::Accept), Err(_)) => {
                return Err(self.violation(
                    invariant,
                    format!("message {m} must decrypt to its plaintext; got {shown}"),
                ));
            }
            (Want::PlaintextOrRejection, Ok(_)) => {}
            (Want::Oracle(expect @ Expect::Reject { .. }), _) => {
                if !matches!(&outcome, Err(class) if expect.allows(*class)) {
                    return Err(self.violation(
                        invariant,
                        format!(
                            "message {m} {} must be rejected as {}; got {shown}",
                            describe(&altered_bytes, &ad),
                            expected_classes(&expect)
                        ),
                    ));
                }
            }
            (Want::Rejection(class), _) => {
                let ok = match (&outcome, class) {
                    (Err(got), Some(class)) => *got == class,
                    (Err(_), None) => true,
                    (Ok(_), _) => false,
                };
                if !ok {
                    let wanted = class.map_or("any error".to_string(), |c| format!("`{c}`"));
                    return Err(self.violation(
                        invariant,
                        format!(
                            "message {m} {} must be rejected with {wanted}; got {shown}",
                            describe(&altered_bytes, &ad)
                        ),
                    ));
                }
            }
            (Want::PlaintextOrRejection, Err(_)) => {}
        }
        if let (Err(class), Some(before)) = (&outcome, before) {
            let recipient = match target {
                Target::Party(p) => p,
                Target::Capture(k) => self.captures.get(k).map_or(Party::Alice, |c| c.victim),
            };
            if let Some(difference) = self.compare(handle, before, recipient)? {
                return Err(self.violation(
                    Invariant::Atomicity,
                    format!(
                        "message {m} was rejected (`{class}`) but the session changed: {difference}"
                    ),
                ));
            }
        }
        Ok(outcome)
    }

    /// The session's state before a decryption that may fail.
    fn snapshot(&mut self, handle: SessionHandle) -> Result<Snapshot, Violation> {
        match self.subject.state_bytes(handle) {
            Some(Ok(bytes)) => Ok(Snapshot::Bytes(bytes)),
            Some(Err(e)) => Err(self.violation(Invariant::RoundTrip, e.to_string())),
            None => self
                .subject
                .clone_session(&CloneSession::new(handle, &self.probe_keys))
                .map(|o| o.session)
                .map(Snapshot::Copy)
                .map_err(|e| self.violation(Invariant::Setup, format!("clone_session: {e}"))),
        }
    }

    /// How the session now differs from `before`, if it does.
    fn compare(
        &mut self,
        now: SessionHandle,
        before: Snapshot,
        recipient: Party,
    ) -> Result<Option<String>, Violation> {
        match before {
            Snapshot::Bytes(before) => match self.subject.state_bytes(now) {
                Some(Ok(after)) if after == before => Ok(None),
                Some(Ok(_)) => Ok(Some("its serialized state differs".into())),
                Some(Err(e)) => Err(self.violation(Invariant::RoundTrip, e.to_string())),
                None => Ok(Some("it no longer shows its state".into())),
            },
            Snapshot::Copy(before) => self.same_behaviour(now, before, recipient),
        }
    }

    /// Behavioural comparison: copies of both sessions, given the same keys,
    /// must encrypt the same bytes and treat every message sent to
    /// `recipient` alike.
    fn same_behaviour(
        &mut self,
        now: SessionHandle,
        before: SessionHandle,
        recipient: Party,
    ) -> Result<Option<String>, Violation> {
        let probe_keys = self.probe_keys.clone();
        let copy = |subject: &mut S, h| {
            subject
                .clone_session(&CloneSession::new(h, &probe_keys))
                .map(|o| o.session)
        };
        let pair = copy(self.subject, now).and_then(|a| Ok((a, copy(self.subject, before)?)));
        let (a, b) =
            pair.map_err(|e| self.violation(Invariant::Setup, format!("clone_session: {e}")))?;
        let ad = self.secrets.associated_data.clone();
        let probe = b"atomicity probe";
        let (sa, sb) = (
            class_of(
                self.subject
                    .encrypt(&Encrypt::new(a, probe, &ad))
                    .map(|o| o.message),
            ),
            class_of(
                self.subject
                    .encrypt(&Encrypt::new(b, probe, &ad))
                    .map(|o| o.message),
            ),
        );
        if sa != sb {
            return Ok(Some(format!(
                "it now encrypts differently ({} instead of {})",
                show(&sa),
                show(&sb)
            )));
        }
        let to_recipient: Vec<(usize, Vec<u8>)> = self
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.from.peer() == recipient)
            .map(|(i, m)| (i, m.wire.clone()))
            .collect();
        for (i, wire) in to_recipient {
            let da = class_of(
                self.subject
                    .decrypt(&Decrypt::new(a, &wire, &ad))
                    .map(|o| o.plaintext),
            );
            let db = class_of(
                self.subject
                    .decrypt(&Decrypt::new(b, &wire, &ad))
                    .map(|o| o.plaintext),
            );
            if da != db {
                return Ok(Some(format!(
                    "message {i} now gives {} instead of {}",
                    show(&da),
                    show(&db)
                )));
            }
        }
        Ok(None)
    }

    fn check_round_trips(&mut self) -> Result<(), Violation> {
        let mut handles = vec![self.alice.handle, self.bob.handle];
        handles.extend(self.captures.iter().map(|c| c.session.handle));
        for handle in handles {
            if let Some(Err(e)) = self.subject.state_bytes(handle) {
                return Err(self.violation(Invariant::RoundTrip, e.to_string()));
            }
        }
        Ok(())
    }

    /// Two messages under one key and nonce have ciphertexts whose XOR is the
    /// XOR of their plaintexts (the default suite's AES-GCM is a stream
    /// cipher with a tag). With distinct plaintexts of 8 bytes or more, a
    /// match is no accident.
    fn check_distinct_keystream(&self, plaintext: &[u8], wire: &[u8]) -> Result<(), Violation> {
        let Some(body) = ciphertext(plaintext, wire) else {
            return Ok(());
        };
        for (i, other) in self.messages.iter().enumerate() {
            let Some(other_body) = ciphertext(&other.plaintext, &other.wire) else {
                continue;
            };
            let len = body.len().min(other_body.len());
            if len < 8 {
                continue;
            }
            let same = (0..len).all(|j| {
                let c = body.get(j).zip(other_body.get(j)).map(|(a, b)| a ^ b);
                let p = plaintext
                    .get(j)
                    .zip(other.plaintext.get(j))
                    .map(|(a, b)| a ^ b);
                c == p
            });
            if same {
                return Err(self.violation(
                    Invariant::DistinctMessageKeys,
                    format!("the new message reuses message {i}'s key and nonce (same keystream)"),
                ));
            }
        }
        Ok(())
    }

    /// The altered copy of message `m`.
    fn tampered(&self, m: usize, field: Tamper) -> Option<Tampered> {
        let message = self.messages.get(m)?;
        let mut bytes = message.wire.clone();
        let genuine = message.header.map(seen);
        let mut ad = None;
        let mut header = genuine;
        let mut parse_error = None;
        let prefix = 1 + HEADER_LEN;
        let tag_len = MESSAGE_OVERHEAD - prefix;
        let body_len = bytes.len().checked_sub(MESSAGE_OVERHEAD)?;
        let flip = |bytes: &mut Vec<u8>, at: usize, mask: u8| {
            if let Some(b) = bytes.get_mut(at) {
                *b ^= mask;
            }
        };
        match field {
            Tamper::Version { value } => {
                let value = if value == MESSAGE_VERSION {
                    0xff
                } else {
                    value
                };
                if let Some(b) = bytes.get_mut(0) {
                    *b = value;
                }
                parse_error = Some(ErrorClass::Unsupported);
            }
            Tamper::RatchetKey { byte } => {
                flip(&mut bytes, 1 + usize::from(byte) % 32, 0x01);
                header = genuine.map(|h| SeenHeader {
                    key: None,
                    against: None,
                    ..h
                });
            }
            Tamper::PreviousCounter { bit } => {
                let mask = 1u32 << (bit % 32);
                for (i, b) in mask.to_be_bytes().into_iter().enumerate() {
                    flip(&mut bytes, 33 + i, b);
                }
                header = genuine.map(|h| SeenHeader {
                    pn: h.pn ^ mask,
                    ..h
                });
            }
            Tamper::Counter { bit } => {
                let mask = 1u32 << (bit % 32);
                for (i, b) in mask.to_be_bytes().into_iter().enumerate() {
                    flip(&mut bytes, 37 + i, b);
                }
                header = genuine.map(|h| SeenHeader { n: h.n ^ mask, ..h });
            }
            Tamper::Ciphertext { byte } => {
                let at = match body_len {
                    0 => prefix + usize::from(byte) % tag_len,
                    len => prefix + usize::from(byte) % len,
                };
                flip(&mut bytes, at, 0x01);
            }
            Tamper::Tag { byte } => {
                flip(
                    &mut bytes,
                    prefix + body_len + usize::from(byte) % tag_len,
                    0x01,
                );
            }
            Tamper::AssociatedData { byte } => {
                let mut altered = self.secrets.associated_data.clone();
                let len = altered.len().max(1);
                if let Some(b) = altered.get_mut(usize::from(byte) % len) {
                    *b ^= 0x01;
                }
                ad = Some(altered);
            }
            Tamper::Truncate { keep } => {
                bytes.truncate(usize::from(keep) % MESSAGE_OVERHEAD);
                parse_error = Some(ErrorClass::Malformed);
            }
        }
        Some(Tampered {
            bytes,
            ad,
            header,
            parse_error,
        })
    }

    fn finish(self) -> Trace {
        let strict = self.strict;
        let used = |s: &Session| -> Vec<[u8; 32]> {
            if strict {
                s.keys.iter().take(s.state.drawn).copied().collect()
            } else {
                s.keys.clone()
            }
        };
        Trace {
            config: self.config,
            shared_key: self.secrets.shared_key,
            associated_data: self.secrets.associated_data.clone(),
            bob_ratchet_private_key: self.secrets.bob_ratchet_private_key,
            alice_keys: used(&self.alice),
            bob_keys: used(&self.bob),
            capture_keys: self.captures.iter().map(|c| used(&c.session)).collect(),
            events: self.events,
        }
    }
}

enum Snapshot {
    Bytes(Vec<u8>),
    Copy(SessionHandle),
}

fn seen(h: SentHeader) -> SeenHeader {
    SeenHeader {
        key: Some(h.key),
        against: h.against,
        pn: h.pn,
        n: h.n,
    }
}

fn pick_index(len: usize, pick: u8) -> Option<usize> {
    (len > 0).then(|| usize::from(pick) % len)
}

fn pick_from(candidates: &[usize], pick: u8) -> Option<usize> {
    pick_index(candidates.len(), pick).and_then(|i| candidates.get(i).copied())
}

fn class_of(result: ImplResult<Vec<u8>>) -> Outcome {
    result.map_err(|e| e.class)
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Ok(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => format!("plaintext {text:?}"),
            Err(_) => format!("bytes {}", hex::encode(bytes)),
        },
        Err(class) => format!("error `{class}`"),
    }
}

fn describe(altered_bytes: &Option<Vec<u8>>, ad: &Option<Vec<u8>>) -> &'static str {
    match (altered_bytes, ad) {
        (Some(_), _) => "(altered)",
        (None, Some(_)) => "(under altered AD)",
        (None, None) => "(intact)",
    }
}

fn expected_classes(expect: &Expect) -> String {
    match expect {
        Expect::Accept => "nothing".into(),
        Expect::Reject { class, or: None } => format!("`{class}`"),
        Expect::Reject {
            class,
            or: Some(or),
        } => format!("`{class}` or `{or}`"),
    }
}

/// The ciphertext part of a default-suite message, if `wire` has that layout.
fn ciphertext<'a>(plaintext: &[u8], wire: &'a [u8]) -> Option<&'a [u8]> {
    if wire.len() != plaintext.len() + MESSAGE_OVERHEAD {
        return None;
    }
    wire.get(1 + HEADER_LEN..1 + HEADER_LEN + plaintext.len())
}
