//! The checker: plays a sequence of [`Action`]s against a [`Subject`] and
//! checks it against the oracle after every step. Atomicity and key-reuse
//! checks are in `atomicity`, the network's tampering in `tamper`.
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
//! With [`Randomness::AllZero`](super::Randomness::AllZero) the oracle cannot predict acceptance (see
//! [`Randomness`](super::Randomness)); the runner then checks only what must survive bad
//! randomness: nothing altered, replayed or garbled is ever accepted.

mod atomicity;
mod tamper;

use std::collections::BTreeSet;

use crate::implementation::ErrorClass;
use ratchetproof_protocol::{KeyPair, PrivateKey};

use super::action::{Action, Party, Tamper};
use super::config::{MAX_ACTIONS, ModelConfig};
use super::direct::Subject;
use super::keys::{self, Role, Secrets};
use super::oracle::{Expect, PartyState, SeenHeader, SentHeader};
use super::trace::{Delivery, Event, Invariant, Outcome, Trace, Violation};
use crate::implementation::{
    CloneSession, Decrypt, Encrypt, ImplResult, SessionHandle, SessionInit,
};

/// Plays `actions` against `subject` under `config`, checking every
/// invariant after every step. The subject is [`reset`](crate::Implementation::reset) first.
pub fn check<S: Subject + ?Sized>(
    subject: &mut S,
    config: &ModelConfig,
    actions: &[Action],
) -> Result<Trace, Violation> {
    if config.ratchet == super::config::Ratchet::Olm {
        return super::olm::check(subject, config, actions);
    }
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
    /// The keys this session draws from: entry k is its oracle's draw
    /// `offset + k` (a restored copy continues its party's list).
    keys: Vec<[u8; 32]>,
    offset: usize,
    /// Where its used keys go in the trace.
    list: KeyList,
}

/// Which key list of the trace a session's keys belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyList {
    Setup(Party),
    /// Entry k of [`Trace::capture_keys`].
    Copy(usize),
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
    /// Copies made so far (captures and restores).
    copies: usize,
    /// Used keys of sessions no longer in play (replaced by a restore).
    retired: Vec<(KeyList, Vec<[u8; 32]>)>,
    /// Whether a retired session had evicted a stored key, and its longest gap.
    retired_evicted: bool,
    retired_gap: usize,
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
            suite: config.suite.name().to_string(),
            role: role.role(),
            shared_key: secrets.shared_key.to_vec(),
            ratchet_key: ratchet_key.to_vec(),
            ratchet_private_keys: keys.iter().map(|k| k.to_vec()).collect(),
            max_skip: Some(config.max_skip),
            max_stored_skipped_keys: Some(config.max_stored_skipped_keys),
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
                state: PartyState::alice(config.max_skip, config.max_stored_skipped_keys),
                keys: alice_keys,
                offset: 0,
                list: KeyList::Setup(Party::Alice),
            },
            bob: Session {
                name: Party::Bob.name().into(),
                handle: bob_handle,
                state: PartyState::bob(config.max_skip, config.max_stored_skipped_keys),
                keys: bob_keys,
                offset: 0,
                list: KeyList::Setup(Party::Bob),
            },
            secrets,
            messages: Vec::new(),
            captures: Vec::new(),
            copies: 0,
            retired: Vec::new(),
            retired_evicted: false,
            retired_gap: 0,
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
            Action::Lose { from, count } => Some(Action::Lose {
                from,
                count: lose_count(count),
            }),
            Action::Deliver { pick } => {
                reduce(pick, in_flight).map(|pick| Action::Deliver { pick })
            }
            Action::Drop { pick } => reduce(pick, in_flight).map(|pick| Action::Drop { pick }),
            Action::Tamper { pick, field } => {
                reduce(pick, in_flight).map(|pick| Action::Tamper { pick, field })
            }
            Action::Replay { pick } => reduce(pick, self.with_status(Status::Accepted).len())
                .map(|pick| Action::Replay { pick }),
            Action::Capture { .. } | Action::Restore { .. } => self.strict.then_some(action),
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
            Action::Lose { from, count } => {
                for _ in 0..lose_count(count) {
                    let before = self.messages.len();
                    self.send(from)?;
                    if self.messages.len() > before
                        && let Some(message) = self.messages.last_mut()
                    {
                        message.status = Status::Dropped;
                    }
                }
                Ok(())
            }
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
            Action::Restore { party } => self.restore(party),
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
            message_type: None,
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
        let delivery = if replay {
            Delivery::Replay
        } else {
            Delivery::Genuine
        };
        let outcome = self.attempt(
            Target::Party(to),
            m,
            (wire, None),
            want,
            (invariant, delivery),
        )?;
        if outcome.is_ok()
            && let Some(message) = self.messages.get_mut(m)
        {
            message.status = Status::Accepted;
        }
        Ok(())
    }

    fn tamper(&mut self, m: usize, field: Tamper) -> Result<(), Violation> {
        let Some(tampered) = self.messages.get(m).and_then(|message| {
            tamper::tampered(
                self.config.suite,
                &message.wire,
                message.header.map(seen),
                &self.secrets.associated_data,
                field,
            )
        }) else {
            return Ok(());
        };
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let to = message.from.peer();
        let want = match (tampered.parse_error, tampered.header) {
            (Some(class), _) => Want::Rejection(Some(class)),
            (None, Some(header)) if self.strict => {
                let expect = self.state(to).expect(&header, false);
                match expect {
                    Expect::Reject { class, .. } if tampered.ad_refused => {
                        Want::Oracle(Expect::Reject {
                            class: ErrorClass::InvalidKey,
                            or: Some(class),
                        })
                    }
                    _ => Want::Oracle(expect),
                }
            }
            (None, _) => Want::Rejection(None),
        };
        self.attempt(
            Target::Party(to),
            m,
            (tampered.bytes, tampered.ad),
            want,
            (Invariant::Authenticity, Delivery::Tampered(field)),
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
        let copy_index = self.copies;
        self.copies += 1;
        let victim_name = self.party(victim).name.clone();
        self.events.push(Event::Capture {
            victim: victim_name,
            name: name.clone(),
            capture: copy_index,
            restore: false,
        });
        self.captures.push(Capture {
            victim,
            session: Session {
                name,
                handle: copy,
                state,
                keys,
                offset: 0,
                list: KeyList::Copy(copy_index),
            },
            processed,
        });
        Ok(())
    }

    /// Replaces `party`'s session by a copy of it that draws the keys the
    /// party would have drawn next.
    fn restore(&mut self, party: Party) -> Result<(), Violation> {
        if !self.strict {
            return Ok(());
        }
        let copy_index = self.copies;
        let source = self.party(party);
        let drawn = source.state.drawn;
        let remaining: Vec<[u8; 32]> = source
            .keys
            .get(drawn.saturating_sub(source.offset)..)
            .unwrap_or_default()
            .to_vec();
        let (handle, old_name) = (source.handle, source.name.clone());
        let injected: Vec<Vec<u8>> = remaining.iter().map(|k| k.to_vec()).collect();
        let copy = self
            .subject
            .clone_session(&CloneSession::new(handle, &injected))
            .map(|o| o.session)
            .map_err(|e| self.violation(Invariant::Setup, format!("clone_session: {e}")))?;
        self.copies += 1;
        let name = format!("{}-restored-{}", party.name(), copy_index + 1);
        self.events.push(Event::Capture {
            victim: old_name,
            name: name.clone(),
            capture: copy_index,
            restore: true,
        });
        let strict = self.strict;
        let session = self.party(party);
        let state = session.state.clone();
        let old = std::mem::replace(
            session,
            Session {
                name,
                handle: copy,
                state,
                keys: remaining,
                offset: drawn,
                list: KeyList::Copy(copy_index),
            },
        );
        self.retired_evicted |= old.state.evicted;
        self.retired_gap = self.retired_gap.max(old.state.longest_gap);
        self.retired.push((old.list, used_keys(&old, strict)));
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
        let outcome = self.attempt(
            Target::Capture(index),
            m,
            (wire, None),
            want,
            (invariant, Delivery::Eavesdrop),
        )?;
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
        (bytes, ad): (Vec<u8>, Option<Vec<u8>>),
        want: Want,
        (invariant, delivery): (Invariant, Delivery),
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
        // The classes the oracle also allows, beside the one observed.
        // `duplicate` is the harness's name for a message whose key is gone;
        // the Double Ratchet's pseudocode derives another key and fails the
        // tag, so `authentication` is allowed wherever `duplicate` is — the
        // rule the generator's vectors follow (SPEC.md §5.4 steps 3 and 8).
        let alternatives: Vec<ErrorClass> = match (want, &outcome) {
            (Want::Oracle(Expect::Reject { class, or }), Err(got)) => {
                let mut allowed = vec![class];
                allowed.extend(or);
                if allowed.contains(&ErrorClass::Duplicate) {
                    allowed.push(ErrorClass::Authentication);
                }
                // A changed counter may read as a jump past the bound, a used
                // number or a bad tag, whichever the implementation checks
                // first: the classes the shipped tampering vectors allow
                // (generate/scenarios/tampering.rs, COUNTER_CLASSES).
                if let Delivery::Tampered(Tamper::Counter { .. } | Tamper::PreviousCounter { .. }) =
                    delivery
                {
                    allowed.extend([
                        ErrorClass::Authentication,
                        ErrorClass::TooManySkipped,
                        ErrorClass::Duplicate,
                    ]);
                }
                let mut others: Vec<ErrorClass> = Vec::new();
                for c in allowed {
                    if c != *got && !others.contains(&c) {
                        others.push(c);
                    }
                }
                others
            }
            _ => Vec::new(),
        };
        self.events.push(Event::Deliver {
            party: name,
            message: m,
            bytes: altered_bytes.clone(),
            ad: ad.clone(),
            outcome: outcome.clone(),
            alternatives,
            or_plaintext: false,
            message_type: None,
            delivery,
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

    fn finish(self) -> Trace {
        let strict = self.strict;
        let mut lists = self.retired;
        let live = [&self.alice, &self.bob]
            .into_iter()
            .chain(self.captures.iter().map(|c| &c.session));
        let mut evicted = self.retired_evicted;
        let mut longest_gap = self.retired_gap;
        for session in live {
            evicted |= session.state.evicted;
            longest_gap = longest_gap.max(session.state.longest_gap);
            lists.push((session.list, used_keys(session, strict)));
        }
        let take = |list: KeyList| -> Vec<[u8; 32]> {
            lists
                .iter()
                .find(|(l, _)| *l == list)
                .map(|(_, keys)| keys.clone())
                .unwrap_or_default()
        };
        Trace {
            config: self.config,
            shared_key: self.secrets.shared_key,
            associated_data: self.secrets.associated_data.clone(),
            bob_ratchet_private_key: self.secrets.bob_ratchet_private_key,
            alice_keys: take(KeyList::Setup(Party::Alice)),
            bob_keys: take(KeyList::Setup(Party::Bob)),
            capture_keys: (0..self.copies).map(|i| take(KeyList::Copy(i))).collect(),
            evicted,
            longest_gap,
            key_agreement: None,
            effective_actions: self.effective_so_far,
            events: self.events,
        }
    }
}

/// The keys `session` drew (all of its list where the oracle cannot count).
fn used_keys(session: &Session, strict: bool) -> Vec<[u8; 32]> {
    if strict {
        let drawn = session.state.drawn.saturating_sub(session.offset);
        session.keys.iter().take(drawn).copied().collect()
    } else {
        session.keys.clone()
    }
}

fn seen(h: SentHeader) -> SeenHeader {
    SeenHeader {
        key: Some(h.key),
        against: h.against,
        pn: h.pn,
        n: h.n,
    }
}

/// The messages an [`Action::Lose`] of `count` sends.
pub(crate) fn lose_count(count: u16) -> u16 {
    count % (super::action::MAX_LOSE + 1)
}

pub(crate) fn pick_index(len: usize, pick: u8) -> Option<usize> {
    (len > 0).then(|| usize::from(pick) % len)
}

pub(crate) fn pick_from(candidates: &[usize], pick: u8) -> Option<usize> {
    pick_index(candidates.len(), pick).and_then(|i| candidates.get(i).copied())
}

pub(crate) fn class_of(result: ImplResult<Vec<u8>>) -> Outcome {
    result.map_err(|e| e.class)
}

pub(crate) fn show(outcome: &Outcome) -> String {
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
