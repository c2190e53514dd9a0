//! The checker for `olm-v1`: plays a sequence of [`Action`]s against a
//! [`Subject`] that speaks Olm and checks every outcome against Olm's
//! oracle ([`super::oracle`]) as it happens.
//!
//! Sessions start as the `olm-v1` vectors start them: Alice with
//! `prekey_initiate` before the first action, Bob with `prekey_respond` on
//! the first pre-key message he accepts (a refused one leaves him without a
//! session; until then he can neither send nor be copied). The invariants
//! are the scenario model's ([`crate::model::Invariant`]), by Olm's rules:
//! a genuine message decrypts exactly once while its chain is kept and its
//! key derivable or stored; a replay is `duplicate`; a gap past 2000 is
//! `too_many_skipped`; an altered message is refused (every class libolm's
//! folding or vodozemac's order allows); a rejection changes nothing later
//! messages show; a captured copy reads exactly what §8 says (forward
//! secrecy for what its state had processed, post-compromise security for
//! the rest: it follows the peer's next chain until the victim's next send).

use std::collections::BTreeSet;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use ratchetproof_protocol::{KeyPair, PrivateKey};

use crate::implementation::{
    CloneSession, Decrypt, Encrypt, ErrorClass, MessageType, PrekeyInitiate, PrekeyRespond,
    SessionHandle,
};
use crate::model::action::{Action, Party};
use crate::model::checker::{class_of, lose_count, pick_from, pick_index, show};
use crate::model::config::{MAX_ACTIONS, ModelConfig};
use crate::model::direct::Subject;
use crate::model::keys::{self, Role};
use crate::model::trace::{Delivery, Event, Invariant, Outcome, Trace, Violation};
use crate::vectors::{Hex, KeyAgreementSetup, PartyKeys, SPARE_KEYS};

use super::oracle::{OlmExpect, OlmHeader, OlmParty};
use super::tamper::{Judge, tamper};

/// The triple DH's keys of a run: `I_A`, `E_A`, `I_B`, `E_B` private keys,
/// from the seed alone (they stand for long-term keys made with good
/// randomness, whatever the ratchet keys' randomness).
pub(crate) fn agreement_keys(seed: u64) -> [[u8; 32]; 4] {
    let mut key = [0u8; 32];
    let (s, rest) = key.split_at_mut(8);
    s.copy_from_slice(&seed.to_le_bytes());
    for (slot, byte) in rest.iter_mut().zip(b"olm-v1 triple DH keys") {
        *slot = *byte;
    }
    let mut rng = ChaCha20Rng::from_seed(key);
    let mut draw = || {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        k
    };
    [draw(), draw(), draw(), draw()]
}

fn public(private: &[u8; 32]) -> Vec<u8> {
    KeyPair::from_private(PrivateKey::from_bytes(*private))
        .public_key()
        .as_bytes()
        .to_vec()
}

/// Plays `actions` on `subject` under the Olm model.
pub(crate) fn check<S: Subject + ?Sized>(
    subject: &mut S,
    config: &ModelConfig,
    actions: &[Action],
) -> Result<Trace, Violation> {
    if actions.len() > MAX_ACTIONS {
        return Err(setup(format!(
            "{} actions, more than the model's limit of {MAX_ACTIONS}",
            actions.len()
        )));
    }
    let mut run = Run::start(subject, *config, actions.len() + 2 + SPARE_KEYS)?;
    for (step, action) in actions.iter().enumerate() {
        run.step = Some(step);
        run.action = Some(*action);
        run.apply(*action)?;
    }
    Ok(run.finish())
}

fn setup(detail: String) -> Violation {
    Violation {
        step: None,
        action: None,
        invariant: Invariant::Setup,
        detail,
        effective_actions: Vec::new(),
    }
}

/// Which key list of the trace a session's keys belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyList {
    Setup(Party),
    Copy(usize),
}

struct Session {
    name: String,
    handle: SessionHandle,
    state: OlmParty,
    keys: Vec<[u8; 32]>,
    /// Entry k of `keys` is the oracle's draw `offset + k`.
    offset: usize,
    list: KeyList,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    InFlight,
    Accepted,
    Dropped,
}

struct Message {
    from: Party,
    header: OlmHeader,
    kind: MessageType,
    plaintext: Vec<u8>,
    wire: Vec<u8>,
    status: Status,
}

struct Capture {
    victim: Party,
    session: Session,
    processed: BTreeSet<usize>,
}

#[derive(Clone, Copy)]
enum Target {
    Party(Party),
    Capture(usize),
}

enum Want {
    Oracle(OlmExpect),
    Classes(Vec<ErrorClass>),
}

struct Run<'s, S: ?Sized> {
    subject: &'s mut S,
    config: ModelConfig,
    agreement: [[u8; 32]; 4],
    alice: Session,
    /// Bob's session, once a pre-key message started it.
    bob: Option<Session>,
    /// Bob's oracle and keys while he waits for his first message.
    bob_waiting: (OlmParty, Vec<[u8; 32]>),
    messages: Vec<Message>,
    captures: Vec<Capture>,
    copies: usize,
    retired: Vec<(KeyList, Vec<[u8; 32]>)>,
    retired_evicted: bool,
    retired_gap: usize,
    events: Vec<Event>,
    key_budget: usize,
    sends_tried: usize,
    step: Option<usize>,
    action: Option<Action>,
    effective_so_far: Vec<Action>,
    effective_now: Option<Action>,
}

impl<'s, S: Subject + ?Sized> Run<'s, S> {
    fn start(
        subject: &'s mut S,
        config: ModelConfig,
        key_budget: usize,
    ) -> Result<Self, Violation> {
        subject.reset();
        let agreement = agreement_keys(config.seed);
        let [ia, ea, ib, eb] = agreement;
        let list = |role| keys::ratchet_keys(config.randomness, config.seed, role, key_budget);
        let alice_keys = list(Role::Alice);
        let initiate = PrekeyInitiate {
            suite: ratchetproof_protocol::olm::NAME.into(),
            identity_private_key: ia.to_vec(),
            registration_id: None,
            ephemeral_private_key: ea.to_vec(),
            ratchet_private_keys: alice_keys.iter().map(|k| k.to_vec()).collect(),
            peer_identity_key: public(&ib),
            peer_registration_id: None,
            peer_signed_prekey_id: None,
            peer_signed_prekey: None,
            peer_signed_prekey_signature: None,
            peer_one_time_prekey_id: None,
            peer_one_time_prekey: Some(public(&eb)),
            ..PrekeyInitiate::default()
        };
        let handle = subject
            .prekey_initiate(&initiate)
            .map_err(|e| setup(format!("prekey_initiate as alice: {e}")))?
            .session;
        Ok(Self {
            subject,
            config,
            agreement,
            alice: Session {
                name: Party::Alice.name().into(),
                handle,
                state: OlmParty::alice(),
                keys: alice_keys,
                offset: 0,
                list: KeyList::Setup(Party::Alice),
            },
            bob: None,
            bob_waiting: (OlmParty::bob(), list(Role::Bob)),
            messages: Vec::new(),
            captures: Vec::new(),
            copies: 0,
            retired: Vec::new(),
            retired_evicted: false,
            retired_gap: 0,
            events: Vec::new(),
            key_budget,
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

    fn party(&mut self, party: Party) -> Option<&mut Session> {
        match party {
            Party::Alice => Some(&mut self.alice),
            Party::Bob => self.bob.as_mut(),
        }
    }

    fn session(&mut self, target: Target) -> Option<&mut Session> {
        match target {
            Target::Party(p) => self.party(p),
            Target::Capture(k) => self.captures.get_mut(k).map(|c| &mut c.session),
        }
    }

    fn with_status(&self, status: Status) -> Vec<usize> {
        (0..self.messages.len())
            .filter(|&i| self.messages.get(i).is_some_and(|m| m.status == status))
            .collect()
    }

    fn effective(&self, action: Action) -> Option<Action> {
        let reduce =
            |pick: u8, len: usize| pick_index(len, pick).map(|i| u8::try_from(i).unwrap_or(pick));
        let in_flight = self.with_status(Status::InFlight).len();
        let has_session = |p: Party| p == Party::Alice || self.bob.is_some();
        match action {
            Action::Send { from } => has_session(from).then_some(action),
            Action::Lose { from, count } => {
                (has_session(from) && lose_count(count) > 0).then_some(Action::Lose {
                    from,
                    count: lose_count(count),
                })
            }
            Action::Deliver { pick } => {
                reduce(pick, in_flight).map(|pick| Action::Deliver { pick })
            }
            Action::Drop { pick } => reduce(pick, in_flight).map(|pick| Action::Drop { pick }),
            Action::Tamper { pick, field } => {
                reduce(pick, in_flight).map(|pick| Action::Tamper { pick, field })
            }
            Action::Replay { pick } => reduce(pick, self.with_status(Status::Accepted).len())
                .map(|pick| Action::Replay { pick }),
            Action::Capture { victim } | Action::Restore { party: victim } => {
                has_session(victim).then_some(action)
            }
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
        let Some(effective) = self.effective_now else {
            return Ok(());
        };
        self.effective_so_far.push(effective);
        match effective {
            Action::Send { from } => self.send(from),
            Action::Lose { from, count } => {
                for _ in 0..count {
                    self.send(from)?;
                    if let Some(m) = self.messages.last_mut() {
                        m.status = Status::Dropped;
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
            Action::Capture { victim } => self.copy(victim, false),
            Action::Restore { party } => self.copy(party, true),
            Action::Eavesdrop { capture, pick } => self.eavesdrop(capture, pick),
        }
    }

    fn send(&mut self, from: Party) -> Result<(), Violation> {
        let plaintext = format!("message {} from {}", self.sends_tried, from.name()).into_bytes();
        self.sends_tried += 1;
        let Some(session) = self.party(from) else {
            return Ok(());
        };
        let (handle, name) = (session.handle, session.name.clone());
        let mut next = session.state.clone();
        let (header, prekey) = next.send();
        let result = self.subject.encrypt(&Encrypt::new(handle, &plaintext, &[]));
        let kind = result.as_ref().ok().and_then(|o| o.message_type);
        let outcome = class_of(result.map(|o| o.message));
        self.events.push(Event::Send {
            party: name,
            plaintext: plaintext.clone(),
            outcome: outcome.clone(),
            message_type: kind,
        });
        let want = if prekey {
            MessageType::Prekey
        } else {
            MessageType::Whisper
        };
        match outcome {
            Ok(wire) if kind == Some(want) => {
                if let Some(session) = self.party(from) {
                    session.state = next;
                }
                self.messages.push(Message {
                    from,
                    header,
                    kind: want,
                    plaintext,
                    wire,
                    status: Status::InFlight,
                });
                Ok(())
            }
            Ok(_) => Err(self.violation(
                Invariant::Send,
                format!(
                    "the message must be sent as {} (a pre-key message until the sender has received), got {}",
                    want.as_str(),
                    kind.map_or("no type", |k| k.as_str())
                ),
            )),
            Err(class) => Err(self.violation(
                Invariant::Send,
                format!("encryption must succeed, got `{class}`"),
            )),
        }
    }

    fn deliver(&mut self, m: usize, replay: bool) -> Result<(), Violation> {
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let to = message.from.peer();
        let header = message.header.clone();
        let expect = self.recipient_state(to).expect(&header, true);
        let invariant = if replay {
            Invariant::Duplicate
        } else {
            match expect {
                OlmExpect::Reject(ErrorClass::TooManySkipped) => Invariant::SkipLimit,
                OlmExpect::Reject(ErrorClass::Duplicate) => Invariant::Duplicate,
                _ => Invariant::Delivery,
            }
        };
        let delivery = if replay {
            Delivery::Replay
        } else {
            Delivery::Genuine
        };
        let wire = message.wire.clone();
        let kind = message.kind;
        let outcome = self.attempt(
            Target::Party(to),
            m,
            (wire, kind),
            Want::Oracle(expect),
            (invariant, delivery),
        )?;
        if outcome.is_ok()
            && let Some(message) = self.messages.get_mut(m)
        {
            message.status = Status::Accepted;
        }
        Ok(())
    }

    /// The oracle state of `party` (Bob's before his session, while he waits).
    fn recipient_state(&self, party: Party) -> &OlmParty {
        match (party, &self.bob) {
            (Party::Alice, _) => &self.alice.state,
            (Party::Bob, Some(bob)) => &bob.state,
            (Party::Bob, None) => &self.bob_waiting.0,
        }
    }

    fn tamper(&mut self, m: usize, field: crate::model::Tamper) -> Result<(), Violation> {
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let to = message.from.peer();
        let waiting = to == Party::Bob && self.bob.is_none();
        let Some(t) = tamper(&message.wire, message.kind, &message.header, field, waiting) else {
            return Err(self.violation(
                Invariant::Setup,
                format!("message {m} does not have Olm's layout"),
            ));
        };
        let want = match t.judge {
            Judge::Oracle(h) => Want::Oracle(self.recipient_state(to).expect(&h, false)),
            Judge::Classes(c) => Want::Classes(c),
        };
        self.attempt(
            Target::Party(to),
            m,
            (t.bytes, t.kind),
            want,
            (Invariant::Authenticity, Delivery::Tampered(field)),
        )
        .map(|_| ())
    }

    /// A copy of `party` drawing its own keys (a capture), or the rest of
    /// the party's keys in its place (a restore).
    fn copy(&mut self, party: Party, restore: bool) -> Result<(), Violation> {
        let index = self.captures.len();
        let copy_index = self.copies;
        let capture_keys = (!restore).then(|| {
            keys::ratchet_keys(
                self.config.randomness,
                self.config.seed,
                Role::Capture(index),
                self.key_budget,
            )
        });
        let Some(source) = self.party(party) else {
            return Ok(());
        };
        let drawn = source.state.drawn;
        let keys = capture_keys.unwrap_or_else(|| {
            source
                .keys
                .get(drawn.saturating_sub(source.offset)..)
                .unwrap_or_default()
                .to_vec()
        });
        let (handle, old_name) = (source.handle, source.name.clone());
        let state = if restore {
            source.state.clone()
        } else {
            source.state.captured(index)
        };
        let injected: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        let copy = self
            .subject
            .clone_session(&CloneSession::new(handle, &injected))
            .map(|o| o.session)
            .map_err(|e| self.violation(Invariant::Setup, format!("clone_session: {e}")))?;
        self.copies += 1;
        let name = if restore {
            format!("{}-restored-{}", party.name(), copy_index + 1)
        } else {
            format!("{}-capture-{}", party.name(), index + 1)
        };
        self.events.push(Event::Capture {
            victim: old_name,
            name: name.clone(),
            capture: copy_index,
            restore,
        });
        let session = Session {
            name,
            handle: copy,
            state,
            keys,
            offset: if restore { drawn } else { 0 },
            list: KeyList::Copy(copy_index),
        };
        if restore {
            let slot = match party {
                Party::Alice => Some(&mut self.alice),
                Party::Bob => self.bob.as_mut(),
            };
            if let Some(slot) = slot {
                let old = std::mem::replace(slot, session);
                self.retired_evicted |= old.state.evicted;
                self.retired_gap = self.retired_gap.max(old.state.longest_gap);
                self.retired.push((old.list, used_keys(&old)));
            }
        } else {
            let processed = (0..self.messages.len())
                .filter(|&i| {
                    self.messages
                        .get(i)
                        .is_some_and(|m| m.status == Status::Accepted && m.from.peer() == party)
                })
                .collect();
            self.captures.push(Capture {
                victim: party,
                session,
                processed,
            });
        }
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
        let invariant = if c.processed.contains(&m) {
            Invariant::ForwardSecrecy
        } else {
            Invariant::PostCompromise
        };
        let want = Want::Oracle(c.session.state.expect(&message.header, true));
        let (wire, kind) = (message.wire.clone(), message.kind);
        let outcome = self.attempt(
            Target::Capture(index),
            m,
            (wire, kind),
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

    /// Decrypts `bytes` (from message `m`, delivered as `kind`) at
    /// `target`, records the event, checks the outcome against `want`, and
    /// commits an acceptance to the oracle. Bob without a session responds.
    fn attempt(
        &mut self,
        target: Target,
        m: usize,
        (bytes, kind): (Vec<u8>, MessageType),
        want: Want,
        (invariant, delivery): (Invariant, Delivery),
    ) -> Result<Outcome, Violation> {
        let Some(message) = self.messages.get(m) else {
            return Err(self.violation(Invariant::Setup, format!("no message {m}")));
        };
        let genuine_plaintext = message.plaintext.clone();
        let altered = (bytes != message.wire).then(|| bytes.clone());
        let retyped = kind != message.kind;
        let header = message.header.clone();
        let waiting = matches!(target, Target::Party(Party::Bob)) && self.bob.is_none();
        let (result, name, responded) = if waiting {
            let [_, _, ib, eb] = self.agreement;
            let request = PrekeyRespond {
                suite: ratchetproof_protocol::olm::NAME.into(),
                identity_private_key: ib.to_vec(),
                registration_id: None,
                signed_prekey_id: None,
                signed_prekey_private_key: None,
                one_time_prekey_id: None,
                one_time_prekey_private_key: Some(eb.to_vec()),
                ratchet_private_keys: self.bob_waiting.1.iter().map(|k| k.to_vec()).collect(),
                message: bytes.clone(),
                ..PrekeyRespond::default()
            };
            let out = self.subject.prekey_respond(&request);
            let handle = out.as_ref().ok().map(|o| o.session);
            (
                out.map(|o| o.plaintext),
                Party::Bob.name().to_string(),
                handle,
            )
        } else {
            let Some(session) = self.session(target) else {
                return Err(self.violation(Invariant::Setup, "no such session"));
            };
            let (handle, name) = (session.handle, session.name.clone());
            let result = self
                .subject
                .decrypt(&Decrypt {
                    session: handle,
                    message: bytes.clone(),
                    ad: Vec::new(),
                    message_type: Some(kind),
                })
                .map(|o| o.plaintext);
            (result, name, None)
        };
        let outcome = class_of(result);
        let (classes, may_accept) = match &want {
            Want::Oracle(e) => (e.classes(), e.may_accept()),
            Want::Classes(c) => (c.clone(), false),
        };
        let alternatives: Vec<ErrorClass> = match &outcome {
            Err(got) => classes.iter().copied().filter(|c| c != got).collect(),
            Ok(_) => Vec::new(),
        };
        let either = matches!(want, Want::Oracle(OlmExpect::Either(_)));
        self.events.push(Event::Deliver {
            party: name,
            message: m,
            bytes: altered.clone(),
            ad: None,
            outcome: outcome.clone(),
            alternatives,
            or_plaintext: either && outcome.is_err(),
            message_type: (altered.is_some() || retyped).then_some(kind),
            delivery,
        });
        let shown = show(&outcome);
        let what = if altered.is_some() || retyped {
            "(altered)"
        } else {
            "(intact)"
        };
        match &outcome {
            Ok(pt) if *pt != genuine_plaintext => {
                return Err(self.violation(
                    invariant,
                    format!(
                        "message {m} {what} was accepted but decrypted to other bytes: {shown}"
                    ),
                ));
            }
            Ok(_) if !may_accept => {
                let wanted = classes
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                return Err(self.violation(
                    invariant,
                    format!("message {m} {what} must be refused as {wanted}; got {shown}"),
                ));
            }
            Ok(_) => {
                if let Some(handle) = responded {
                    let (state, keys) =
                        std::mem::replace(&mut self.bob_waiting, (OlmParty::bob(), Vec::new()));
                    self.bob = Some(Session {
                        name: Party::Bob.name().into(),
                        handle,
                        state,
                        keys,
                        offset: 0,
                        list: KeyList::Setup(Party::Bob),
                    });
                }
                let state = match target {
                    Target::Party(p) => self.party(p).map(|s| &mut s.state),
                    Target::Capture(k) => self.captures.get_mut(k).map(|c| &mut c.session.state),
                };
                if let Some(state) = state {
                    state.accept(&header);
                }
            }
            Err(got) if classes.contains(got) => {
                if either && let Some(s) = self.session(target) {
                    s.state.forget(&header);
                }
            }
            Err(_) => {
                let wanted = if may_accept && !either {
                    "must decrypt to its plaintext".to_string()
                } else {
                    format!(
                        "must be {}refused as {}",
                        if either { "decrypted or " } else { "" },
                        classes
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                };
                return Err(self.violation(
                    invariant,
                    format!("message {m} {what} {wanted}; got {shown}"),
                ));
            }
        }
        Ok(outcome)
    }

    fn finish(self) -> Trace {
        let mut lists = self.retired;
        let mut evicted = self.retired_evicted;
        let mut longest_gap = self.retired_gap;
        let waiting_bob = Session {
            name: String::new(),
            handle: SessionHandle(u64::MAX),
            state: self.bob_waiting.0.clone(),
            keys: self.bob_waiting.1.clone(),
            offset: 0,
            list: KeyList::Setup(Party::Bob),
        };
        let bob = self.bob.as_ref().unwrap_or(&waiting_bob);
        let live = [&self.alice, bob]
            .into_iter()
            .chain(self.captures.iter().map(|c| &c.session));
        for session in live {
            evicted |= session.state.evicted;
            longest_gap = longest_gap.max(session.state.longest_gap);
            lists.push((session.list, used_keys(session)));
        }
        let take = |list: KeyList| -> Vec<[u8; 32]> {
            lists
                .iter()
                .find(|(l, _)| *l == list)
                .map(|(_, keys)| keys.clone())
                .unwrap_or_default()
        };
        let [ia, ea, ib, eb] = self.agreement;
        let hex = |k: &[u8; 32]| Hex::from(*k);
        let key_agreement = KeyAgreementSetup {
            alice_identity_private_key: hex(&ia),
            alice_identity_public_key: Hex(public(&ia)),
            alice_base_private_key: hex(&ea),
            alice_base_public_key: Hex(public(&ea)),
            bob_identity_private_key: hex(&ib),
            bob_identity_public_key: Hex(public(&ib)),
            bob_one_time_private_key: hex(&eb),
            bob_one_time_public_key: Hex(public(&eb)),
            alice: PartyKeys::default(),
            bob: PartyKeys::default(),
        };
        Trace {
            config: self.config,
            shared_key: [0; 32],
            associated_data: Vec::new(),
            bob_ratchet_private_key: [0; 32],
            alice_keys: take(KeyList::Setup(Party::Alice)),
            bob_keys: take(KeyList::Setup(Party::Bob)),
            capture_keys: (0..self.copies).map(|i| take(KeyList::Copy(i))).collect(),
            evicted,
            longest_gap,
            key_agreement: Some(key_agreement),
            effective_actions: self.effective_so_far,
            events: self.events,
        }
    }
}

/// The keys `session` drew, then the spare the `olm-v1` vectors list
/// (docs/OLM-V1.md §10.1).
fn used_keys(session: &Session) -> Vec<[u8; 32]> {
    let drawn = session.state.drawn.saturating_sub(session.offset);
    session
        .keys
        .iter()
        .take(drawn + SPARE_KEYS)
        .copied()
        .collect()
}
