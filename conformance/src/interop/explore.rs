//! Seeded random interleavings of live conversations
//! (`ratchetproof interop --explore`).
//!
//! The fixed conversations of [`super::live_both_ways`] follow one script.
//! This mode draws many: each case sets up a fresh X3DH session through both
//! implementations' own session builders (operation group `prekey`; no
//! session state or root key is injected — each side derives its own), the
//! reference as Alice or as Bob as the seed decides, then runs a random list
//! of [`Action`]s: either side sends, and the network delivers any message in
//! flight (so it reorders and holds back), drops one, replays one already
//! accepted, or delivers a copy with one byte flipped. The checks are the
//! ones every conformant implementation owes its peer, whatever its error
//! classes or limits:
//!
//! - every genuine message delivered decrypts, once, to what was sent
//!   (initial messages too, in any order) — except one from a receiving
//!   chain more than [`KEPT_RECEIVER_CHAINS`] DH steps old, which a
//!   libsignal-style session may have dropped;
//! - every replay and every tampered copy is refused (any error class: the
//!   live mode does not judge classes);
//! - a refusal changes nothing: later genuine messages still decrypt;
//! - the sender's message type is `prekey` until Alice has decrypted
//!   something from Bob, `whisper` after.
//!
//! A fault (a shim that crashed, hung or broke the protocol) is not a
//! refusal: it ends the exploration without a verdict. The first divergence
//! is shrunk by delta debugging over the action list ([`shrink`]) and
//! replayed once more, which tells whether the peer behaves
//! deterministically. Randomness comes only from the seed: case `n` of seed
//! `s` is the same list of actions and the same reference keys on every run.

use std::ops::Range;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use super::{Keys, name};
use crate::implementation::{
    Decrypt, Encrypt, ImplError, Implementation, MessageType, SessionHandle,
};
use crate::reference::Reference;

/// Receiving chains a libsignal-style session keeps (the newest and the
/// four before it, libsignal's and python-axolotl's constant). A genuine
/// message from a chain at least this many DH steps behind the receiver's
/// newest may be refused; every other genuine message must decrypt.
pub const KEPT_RECEIVER_CHAINS: u32 = 5;

/// Default longest action list of a case.
pub const DEFAULT_MAX_ACTIONS: usize = 60;

/// Default number of cases.
pub const DEFAULT_CASES: u64 = 200;

/// Most conversations replayed while shrinking one finding.
pub const SHRINK_BUDGET: usize = 2_000;

/// One side of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The initiator: starts X3DH from Bob's bundle.
    Alice,
    /// The responder: builds his session from Alice's first initial message.
    Bob,
}

impl Side {
    /// `"alice"` or `"bob"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Alice => "alice",
            Side::Bob => "bob",
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Alice => Side::Bob,
            Side::Bob => Side::Alice,
        }
    }
}

/// One step of a case. Messages are named by the id their [`Action::Send`]
/// gives them, so removing actions while shrinking leaves the others
/// meaning the same; an action whose message was never sent (or is not in
/// the state it needs) does nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// This side encrypts its next message, `m<id>` (Bob only once he has
    /// a session).
    Send {
        /// Who sends.
        side: Side,
        /// The message's name.
        id: u32,
    },
    /// The network delivers `m<id>`, in flight, to its recipient.
    Deliver(u32),
    /// The network loses `m<id>`, in flight.
    Drop(u32),
    /// The network delivers `m<id>`, accepted, again.
    Replay(u32),
    /// The network delivers a copy of `m<id>` (in flight or already
    /// accepted) with one byte XORed with `1 << bit`: in a whisper message
    /// any byte, in an initial message a byte of the ratchet message inside
    /// it (its other fields are not all authenticated: a registration id, a
    /// prekey id a receiver with a session ignores).
    Tamper {
        /// Which message.
        id: u32,
        /// Which byte (modulo the tamperable range).
        position: u32,
        /// Which bit (modulo 8).
        bit: u8,
    },
}

/// One drawn conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Its number under the seed.
    pub number: u64,
    /// The reference is Alice (the peer Bob), or the other way round.
    pub reference_is_alice: bool,
    /// What happens, in order.
    pub actions: Vec<Action>,
}

fn case_rng(seed: u64, number: u64) -> ChaCha20Rng {
    let label = format!("ratchetproof interop explore/{seed}/{number}");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(label.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    ChaCha20Rng::from_seed(key)
}

fn below(rng: &mut ChaCha20Rng, n: u32) -> u32 {
    if n == 0 { 0 } else { rng.next_u32() % n }
}

/// Case `number` of `seed`: between half of `max_actions` and all of them
/// (at least one), weighted towards sending and delivering. The draw follows
/// what a conformant pair makes of the actions (which messages are in
/// flight, which accepted, whether Bob has a session), so nearly every action
/// acts.
pub fn draw_case(seed: u64, number: u64, max_actions: usize) -> Case {
    let mut rng = case_rng(seed, number);
    let reference_is_alice = rng.next_u32() & 1 == 0;
    let max = u32::try_from(max_actions.max(1)).unwrap_or(u32::MAX);
    let len = (max / 2 + below(&mut rng, max - max / 2) + 1).min(max);
    let mut actions = Vec::new();
    // (id, sender) in flight; ids accepted; every id sent.
    let mut in_flight: Vec<(u32, Side)> = Vec::new();
    let (mut accepted, mut sent): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
    let mut bob_has_session = false;
    // Sends alternate more often than not, so conversations go through many
    // DH ratchet steps.
    let mut sender = Side::Bob;
    while actions.len() < usize::try_from(len).unwrap_or(usize::MAX) {
        let roll = below(&mut rng, 100);
        let pick = |rng: &mut ChaCha20Rng, n: usize| {
            usize::try_from(below(rng, u32::try_from(n).unwrap_or(u32::MAX))).unwrap_or(0)
        };
        let action = match roll {
            36..71 if !in_flight.is_empty() => {
                let (id, from) = in_flight.remove(pick(&mut rng, in_flight.len()));
                bob_has_session |= from == Side::Alice;
                accepted.push(id);
                Action::Deliver(id)
            }
            71..76 if !in_flight.is_empty() => {
                let (id, _) = in_flight.remove(pick(&mut rng, in_flight.len()));
                Action::Drop(id)
            }
            76..86 if !accepted.is_empty() => Action::Replay(
                accepted
                    .get(pick(&mut rng, accepted.len()))
                    .copied()
                    .unwrap_or(0),
            ),
            86.. if !sent.is_empty() => Action::Tamper {
                id: sent.get(pick(&mut rng, sent.len())).copied().unwrap_or(0),
                position: rng.next_u32(),
                bit: u8::try_from(below(&mut rng, 8)).unwrap_or(0),
            },
            _ => {
                if below(&mut rng, 3) != 0 {
                    sender = sender.other();
                }
                let side = if bob_has_session { sender } else { Side::Alice };
                let id = u32::try_from(sent.len() + 1).unwrap_or(u32::MAX);
                sent.push(id);
                in_flight.push((id, side));
                Action::Send { side, id }
            }
        };
        actions.push(action);
    }
    Case {
        number,
        reference_is_alice,
        actions,
    }
}

/// What the cases did, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Messages encrypted.
    pub sends: usize,
    /// Genuine messages delivered and decrypted.
    pub deliveries: usize,
    /// Of those, initial (prekey) messages.
    pub prekey_deliveries: usize,
    /// Genuine messages delivered after a later one of the same sender.
    pub out_of_order: usize,
    /// Messages lost.
    pub drops: usize,
    /// Replays refused.
    pub replays: usize,
    /// Tampered copies refused.
    pub tampered: usize,
    /// Genuine messages from a chain beyond [`KEPT_RECEIVER_CHAINS`] that
    /// the receiver refused (allowed).
    pub allowed_refusals: usize,
    /// Most DH ratchet steps one side went through in a case.
    pub deepest_chain: u32,
    /// Cases that ended in an accepted deviation, by signature.
    pub accepted_deviations: std::collections::BTreeMap<String, u64>,
}

impl Coverage {
    fn add(&mut self, other: &Coverage) {
        self.sends += other.sends;
        self.deliveries += other.deliveries;
        self.prekey_deliveries += other.prekey_deliveries;
        self.out_of_order += other.out_of_order;
        self.drops += other.drops;
        self.replays += other.replays;
        self.tampered += other.tampered;
        self.allowed_refusals += other.allowed_refusals;
        self.deepest_chain = self.deepest_chain.max(other.deepest_chain);
        for (k, v) in &other.accepted_deviations {
            *self.accepted_deviations.entry(k.clone()).or_default() += v;
        }
    }
}

/// The first check a conversation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Which check, and for a tampered copy which field: `set-up-refused`,
    /// `encrypt-refused`, `wrong-message-type`, `initial-refused` (Bob's
    /// first initial message), `genuine-refused` (a receiver that had refused
    /// nothing before), `genuine-refused-after-refusal` (one that had: the
    /// refusal changed its state), `genuine-refused-after-sender-refusal`
    /// (the sender had: the refusal changed what it sends), `wrong-plaintext`, `replay-accepted`,
    /// `tampered-accepted:<field>`
    /// (the suite's layout role of the flipped byte: `version`,
    /// `ratchet-key`, `counter`, `tag`, …). What `--accept-deviation` names.
    pub signature: String,
    /// `"<alice> → <bob>"`.
    pub direction: String,
    /// What happened before, one line per action that did something.
    pub transcript: Vec<String>,
    /// The index of the failing action in the case's list (`None`: the set-up).
    pub action: Option<usize>,
    /// What was being done.
    pub step: String,
    /// What a conformant peer does.
    pub expected: String,
    /// What happened.
    pub observed: String,
}

/// How one case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseOutcome {
    /// Every check held.
    Passed(Coverage),
    /// A check failed.
    Diverged(Divergence),
    /// The harness could not drive an implementation (no verdict).
    Fault(String),
}

/// What replaying the shrunk conversation once more gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replayed {
    /// The same divergence at the same step.
    Same,
    /// Another divergence, or none: the peer does not behave the same on the
    /// same inputs (its own randomness, or state outside the sessions).
    Different(String),
}

/// A divergence and its shrunk conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The case as drawn.
    pub original: Case,
    /// The smallest failing action list shrinking reached.
    pub minimal: Case,
    /// How the minimal case diverged.
    pub divergence: Divergence,
    /// Conversations replayed while shrinking.
    pub shrink_runs: usize,
    /// Why shrinking stopped early, if it did.
    pub shrink_note: Option<String>,
    /// What a final replay of the minimal case gave.
    pub replayed: Replayed,
}

/// How an exploration ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No case diverged.
    NothingFound,
    /// A case diverged.
    Found(Box<Finding>),
    /// Case `case` could not be driven (no verdict).
    Fault {
        /// Its number.
        case: u64,
        /// What went wrong.
        message: String,
    },
}

/// What `explore` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exploration {
    /// Cases that ran to the end (the diverging one not included).
    pub cases: u64,
    /// What they did.
    pub coverage: Coverage,
    /// Wall time, shrinking included.
    pub elapsed: Duration,
    /// The outcome.
    pub verdict: Verdict,
}

/// What to explore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreOptions {
    /// Suite to talk in.
    pub suite: String,
    /// Bob's bundle carries a one-time prekey.
    pub one_time_prekey: bool,
    /// The seed every case derives from.
    pub seed: u64,
    /// Case numbers to run (`first..first + cases`).
    pub first_case: u64,
    /// How many cases at most.
    pub cases: u64,
    /// Stop starting new cases after this long.
    pub time: Option<Duration>,
    /// Longest action list of a case.
    pub max_actions: usize,
    /// Known deviations of the peer, by [`Divergence::signature`]: a case
    /// that ends in one counts it and exploration goes on.
    pub accepted: Vec<String>,
}

impl ExploreOptions {
    /// `cases` cases of `seed` in `suite`, with a one-time prekey, the
    /// default case length, no time limit.
    pub fn new(suite: &str, seed: u64, cases: u64) -> Self {
        Self {
            suite: suite.into(),
            one_time_prekey: true,
            seed,
            first_case: 0,
            cases,
            time: None,
            max_actions: DEFAULT_MAX_ACTIONS,
            accepted: Vec::new(),
        }
    }
}

/// Runs the cases of `options` against `peer`, each with a fresh reference
/// and after `peer.reset()`, until one diverges or faults, the cases run out
/// or the time does; shrinks a divergence. `progress` hears each case
/// number before it runs.
pub fn explore(
    peer: &mut dyn Implementation,
    options: &ExploreOptions,
    progress: &mut dyn FnMut(u64),
) -> Exploration {
    let start = Instant::now();
    let mut coverage = Coverage::default();
    let mut cases = 0;
    let mut verdict = Verdict::NothingFound;
    for number in options.first_case..options.first_case.saturating_add(options.cases) {
        if options.time.is_some_and(|t| start.elapsed() >= t) {
            break;
        }
        progress(number);
        let case = draw_case(options.seed, number, options.max_actions);
        match run_case(peer, options, &case) {
            CaseOutcome::Passed(c) => {
                coverage.add(&c);
                cases += 1;
            }
            CaseOutcome::Fault(message) => {
                verdict = Verdict::Fault {
                    case: number,
                    message,
                };
                break;
            }
            CaseOutcome::Diverged(d) if options.accepted.contains(&d.signature) => {
                *coverage.accepted_deviations.entry(d.signature).or_default() += 1;
                cases += 1;
            }
            CaseOutcome::Diverged(divergence) => {
                verdict = Verdict::Found(Box::new(shrink(peer, options, case, divergence)));
                break;
            }
        }
    }
    Exploration {
        cases,
        coverage,
        elapsed: start.elapsed(),
        verdict,
    }
}

/// Delta debugging over `case`'s actions: cut everything after the failing
/// action, then remove chunks (halves, quarters, … single actions) while the
/// conversation still diverges with the same signature, at most
/// [`SHRINK_BUDGET`] replays; a fault stops shrinking. The result is replayed
/// once more to see whether the peer is deterministic.
pub fn shrink(
    peer: &mut dyn Implementation,
    options: &ExploreOptions,
    case: Case,
    divergence: Divergence,
) -> Finding {
    let original = case.clone();
    let cut = |mut c: Case, d: &Divergence| {
        c.actions.truncate(d.action.map_or(0, |a| a + 1));
        c
    };
    let mut best = cut(case, &divergence);
    let mut best_divergence = divergence;
    let mut runs = 0;
    let mut note = None;
    let mut n = 2usize;
    'outer: while best.actions.len() >= 2 {
        let len = best.actions.len();
        let chunk = len.div_ceil(n);
        let mut start = 0;
        let mut reduced = false;
        while start < len {
            if runs >= SHRINK_BUDGET {
                note = Some(format!("stopped after {runs} replays"));
                break 'outer;
            }
            let end = (start + chunk).min(len);
            let candidate = Case {
                actions: best
                    .actions
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i < start || *i >= end)
                    .map(|(_, a)| *a)
                    .collect(),
                ..best.clone()
            };
            runs += 1;
            match run_case(peer, options, &candidate) {
                CaseOutcome::Diverged(d) if d.signature == best_divergence.signature => {
                    best = cut(candidate, &d);
                    best_divergence = d;
                    n = n.saturating_sub(1).max(2);
                    reduced = true;
                    break;
                }
                CaseOutcome::Passed(_) | CaseOutcome::Diverged(_) => {}
                CaseOutcome::Fault(f) => {
                    note = Some(format!("stopped by a fault: {f}"));
                    break 'outer;
                }
            }
            start = end;
        }
        if !reduced {
            if n >= len {
                break;
            }
            n = (n * 2).min(len);
        }
    }
    let replayed = match run_case(peer, options, &best) {
        CaseOutcome::Diverged(d)
            if d.action == best_divergence.action && d.signature == best_divergence.signature =>
        {
            Replayed::Same
        }
        CaseOutcome::Diverged(d) => {
            Replayed::Different(format!("diverged elsewhere: {}: {}", d.step, d.observed))
        }
        CaseOutcome::Passed(_) => Replayed::Different("passed".into()),
        CaseOutcome::Fault(f) => Replayed::Different(format!("fault: {f}")),
    };
    Finding {
        original,
        minimal: best,
        divergence: best_divergence,
        shrink_runs: runs,
        shrink_note: note,
        replayed,
    }
}

/// A message one side sent.
struct Message {
    id: u32,
    from: Side,
    /// The sender's DH ratchet step when it sent this (its sending chain).
    chain: u32,
    /// Sent after how many messages of the same sender.
    index: usize,
    plaintext: Vec<u8>,
    wire: Vec<u8>,
    kind: MessageType,
}

/// What the harness knows of one side.
#[derive(Default)]
struct Party {
    label: String,
    session: Option<SessionHandle>,
    /// Has refused a replay or a tampered copy.
    refused: bool,
    /// The newest peer sending chain received from.
    newest_chain: Option<u32>,
    /// DH ratchet steps taken on receiving (each newer chain is one).
    steps: u32,
    /// Highest message index of the peer delivered so far.
    newest_index: Option<usize>,
    /// Alice: has decrypted something, so sends whisper messages.
    acknowledged: bool,
}

/// Why a case stopped.
enum Stop {
    Diverged {
        signature: String,
        step: String,
        expected: String,
        observed: String,
    },
    Fault(String),
}

struct Run<'a> {
    alice: &'a mut dyn Implementation,
    bob: &'a mut dyn Implementation,
    keys: Keys,
    suite: String,
    one_time_prekey: bool,
    ad: Vec<u8>,
    parties: [Party; 2],
    messages: Vec<Message>,
    /// Indices into `messages` of those in flight.
    in_flight: Vec<usize>,
    /// Indices into `messages` of those accepted.
    accepted: Vec<usize>,
    transcript: Vec<String>,
    coverage: Coverage,
}

fn quoted(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn refused(e: &ImplError) -> String {
    format!("refused ({e})")
}

/// Runs one case against `peer` with a fresh reference.
pub fn run_case(
    peer: &mut dyn Implementation,
    options: &ExploreOptions,
    case: &Case,
) -> CaseOutcome {
    peer.reset();
    let _ = peer.take_fault();
    let mut reference = Reference::new();
    let (alice, bob): (&mut dyn Implementation, &mut dyn Implementation) =
        if case.reference_is_alice {
            (&mut reference, peer)
        } else {
            (peer, &mut reference)
        };
    let (alice_name, bob_name) = (name(&*alice), name(&*bob));
    let direction = format!("{alice_name} → {bob_name}");
    let parties = [
        Party {
            label: format!("alice ({alice_name})"),
            ..Party::default()
        },
        Party {
            label: format!("bob ({bob_name})"),
            ..Party::default()
        },
    ];
    // Spare ratchet keys: the reference may draw one for a refused message.
    let keys = Keys::with_ratchet_keys(
        &format!("explore/{}/{}", options.seed, case.number),
        case.actions.len() * 2 + 8,
    );
    let ad = keys.associated_data(&options.suite);
    let mut run = Run {
        alice,
        bob,
        keys,
        suite: options.suite.clone(),
        one_time_prekey: options.one_time_prekey,
        ad,
        parties,
        messages: Vec::new(),
        in_flight: Vec::new(),
        accepted: Vec::new(),
        transcript: Vec::new(),
        coverage: Coverage::default(),
    };
    let diverged = |run: Run<'_>, action, signature, step, expected, observed| {
        CaseOutcome::Diverged(Divergence {
            signature,
            direction: direction.clone(),
            transcript: run.transcript,
            action,
            step,
            expected,
            observed,
        })
    };
    match run.set_up() {
        Ok(()) => {}
        Err(Stop::Fault(f)) => return CaseOutcome::Fault(f),
        Err(Stop::Diverged {
            signature,
            step,
            expected,
            observed,
        }) => return diverged(run, None, signature, step, expected, observed),
    }
    for (i, action) in case.actions.iter().enumerate() {
        match run.act(*action) {
            Ok(()) => {}
            Err(Stop::Fault(f)) => return CaseOutcome::Fault(f),
            Err(Stop::Diverged {
                signature,
                step,
                expected,
                observed,
            }) => return diverged(run, Some(i), signature, step, expected, observed),
        }
    }
    run.coverage.deepest_chain = run.parties.iter().map(|p| p.steps).max().unwrap_or(0);
    CaseOutcome::Passed(run.coverage)
}

impl Run<'_> {
    fn party(&mut self, side: Side) -> &mut Party {
        let [alice, bob] = &mut self.parties;
        match side {
            Side::Alice => alice,
            Side::Bob => bob,
        }
    }

    fn label(&self, side: Side) -> &str {
        let [alice, bob] = &self.parties;
        match side {
            Side::Alice => &alice.label,
            Side::Bob => &bob.label,
        }
    }

    fn imp(&mut self, side: Side) -> &mut dyn Implementation {
        match side {
            Side::Alice => &mut *self.alice,
            Side::Bob => &mut *self.bob,
        }
    }

    /// A fault on either side since the last call.
    fn fault(&mut self) -> Result<(), Stop> {
        match self.alice.take_fault().or_else(|| self.bob.take_fault()) {
            Some(f) => Err(Stop::Fault(f.to_string())),
            None => Ok(()),
        }
    }

    fn set_up(&mut self) -> Result<(), Stop> {
        let request = self.keys.initiate(&self.suite, self.one_time_prekey);
        let result = self.alice.prekey_initiate(&request);
        self.fault()?;
        let step = format!(
            "{} starts X3DH from Bob's bundle{}",
            self.label(Side::Alice),
            if self.one_time_prekey {
                ""
            } else {
                " (no one-time prekey)"
            }
        );
        match result {
            Ok(out) => {
                self.party(Side::Alice).session = Some(out.session);
                self.transcript.push(step);
                Ok(())
            }
            Err(e) => Err(Stop::Diverged {
                signature: "set-up-refused".into(),
                step,
                expected: "a session".into(),
                observed: refused(&e),
            }),
        }
    }

    fn act(&mut self, action: Action) -> Result<(), Stop> {
        match action {
            Action::Send { side, id } => self.send(side, id),
            Action::Deliver(id) => self.deliver(id),
            Action::Drop(id) => {
                if let Some(m) = self.find(id)
                    && remove(&mut self.in_flight, m)
                {
                    self.transcript.push(format!("network drops m{id}"));
                    self.coverage.drops += 1;
                }
                Ok(())
            }
            Action::Replay(id) => self.replay(id),
            Action::Tamper { id, position, bit } => self.tamper(id, position, bit),
        }
    }

    /// The index in `messages` of `m<id>`, if it was sent.
    fn find(&self, id: u32) -> Option<usize> {
        self.messages.iter().position(|m| m.id == id)
    }

    /// The sending chain `side` is on (Bob's first comes with his session).
    fn chain(&self, side: Side) -> u32 {
        let [alice, bob] = &self.parties;
        match side {
            Side::Alice => alice.steps,
            Side::Bob => bob.steps.saturating_sub(1),
        }
    }

    fn send(&mut self, side: Side, id: u32) -> Result<(), Stop> {
        let party = self.party(side);
        let Some(session) = party.session else {
            // Bob cannot send before he has a session.
            return Ok(());
        };
        let expected_kind = if side == Side::Alice && !party.acknowledged {
            MessageType::Prekey
        } else {
            MessageType::Whisper
        };
        if self.find(id).is_some() {
            return Ok(());
        }
        let index = self.messages.iter().filter(|m| m.from == side).count();
        let plaintext = format!("{} message {id}", side.as_str()).into_bytes();
        let request = Encrypt {
            session,
            plaintext: plaintext.clone(),
            ad: self.ad.clone(),
        };
        let result = self.imp(side).encrypt(&request);
        self.fault()?;
        let step = format!("{} sends m{id} {}", self.label(side), quoted(&plaintext));
        let out = result.map_err(|e| Stop::Diverged {
            signature: "encrypt-refused".into(),
            step: step.clone(),
            expected: "a message".into(),
            observed: refused(&e),
        })?;
        let kind = out.message_type.unwrap_or(MessageType::Whisper);
        if kind != expected_kind {
            return Err(Stop::Diverged {
                signature: "wrong-message-type".into(),
                step,
                expected: format!("a {} message", expected_kind.as_str()),
                observed: format!("a {} message", kind.as_str()),
            });
        }
        let chain = self.chain(side);
        self.transcript.push(format!(
            "{step} [{}, {} bytes, chain {chain}]",
            kind.as_str(),
            out.message.len()
        ));
        self.in_flight.push(self.messages.len());
        self.messages.push(Message {
            id,
            from: side,
            chain,
            index,
            plaintext,
            wire: out.message,
            kind,
        });
        self.coverage.sends += 1;
        Ok(())
    }

    /// Hands `wire` to `to`: Bob's first initial message builds his session
    /// (`prekey_respond`), everything else is a `decrypt`. `None` when there
    /// is nothing to hand it to.
    fn receive(
        &mut self,
        to: Side,
        wire: &[u8],
        kind: MessageType,
    ) -> Result<Option<Result<Vec<u8>, ImplError>>, Stop> {
        let result = match self.party(to).session {
            None if to == Side::Bob && kind == MessageType::Prekey => {
                let request = self.keys.respond(&self.suite, self.one_time_prekey, wire);
                let result = self.bob.prekey_respond(&request);
                self.fault()?;
                result.map(|out| {
                    self.party(Side::Bob).session = Some(out.session);
                    out.plaintext
                })
            }
            None => return Ok(None),
            Some(session) => {
                let request = Decrypt {
                    session,
                    message: wire.to_vec(),
                    ad: self.ad.clone(),
                    message_type: (kind == MessageType::Prekey).then_some(MessageType::Prekey),
                };
                let result = self.imp(to).decrypt(&request);
                self.fault()?;
                result.map(|out| out.plaintext)
            }
        };
        Ok(Some(result))
    }

    fn deliver(&mut self, id: u32) -> Result<(), Stop> {
        let Some(m) = self.find(id).filter(|m| remove(&mut self.in_flight, *m)) else {
            return Ok(());
        };
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let (to, chain, index, kind) = (
            message.from.other(),
            message.chain,
            message.index,
            message.kind,
        );
        let (wire, plaintext) = (message.wire.clone(), message.plaintext.clone());
        let step = format!(
            "{} receives m{} {}{}",
            self.label(to),
            message.id,
            quoted(&plaintext),
            if kind == MessageType::Prekey {
                " [prekey]"
            } else {
                ""
            }
        );
        let had_session = self.party(to).session.is_some();
        let Some(result) = self.receive(to, &wire, kind)? else {
            // Cannot happen for a genuine message; keep it in flight.
            self.in_flight.push(m);
            return Ok(());
        };
        let expected = format!("decrypts to {}", quoted(&plaintext));
        match result {
            Ok(got) if got == plaintext => {
                let party = self.party(to);
                if party.newest_chain.is_none_or(|c| chain > c) {
                    party.newest_chain = Some(chain);
                    party.steps += 1;
                }
                let late = party.newest_index.is_some_and(|i| index < i);
                party.newest_index = Some(party.newest_index.map_or(index, |i| i.max(index)));
                if to == Side::Alice {
                    party.acknowledged = true;
                }
                self.accepted.push(m);
                self.coverage.deliveries += 1;
                self.coverage.out_of_order += usize::from(late);
                self.coverage.prekey_deliveries += usize::from(kind == MessageType::Prekey);
                self.transcript.push(format!("{step}: decrypted"));
                Ok(())
            }
            Ok(got) => Err(Stop::Diverged {
                signature: "wrong-plaintext".into(),
                step,
                expected,
                observed: format!("decrypted to {}", quoted(&got)),
            }),
            Err(e) => {
                let newest = self.party(to).newest_chain;
                match newest {
                    Some(n) if n.saturating_sub(chain) >= KEPT_RECEIVER_CHAINS => {
                        self.coverage.allowed_refusals += 1;
                        self.transcript.push(format!(
                            "{step}: {} — allowed: chain {chain} is {} steps behind the newest",
                            refused(&e),
                            n - chain
                        ));
                        Ok(())
                    }
                    _ => Err(Stop::Diverged {
                        signature: if !had_session {
                            "initial-refused"
                        } else if self.party(to).refused {
                            "genuine-refused-after-refusal"
                        } else if self.party(to.other()).refused {
                            "genuine-refused-after-sender-refusal"
                        } else {
                            "genuine-refused"
                        }
                        .into(),
                        step,
                        expected,
                        observed: refused(&e),
                    }),
                }
            }
        }
    }

    fn replay(&mut self, id: u32) -> Result<(), Stop> {
        let Some(m) = self.find(id).filter(|m| self.accepted.contains(m)) else {
            return Ok(());
        };
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let (to, kind, wire) = (message.from.other(), message.kind, message.wire.clone());
        let step = format!("{} receives a replay of m{}", self.label(to), message.id);
        match self.receive(to, &wire, kind)? {
            None => Ok(()),
            Some(Err(e)) => {
                self.party(to).refused = true;
                self.coverage.replays += 1;
                self.transcript.push(format!("{step}: {}", refused(&e)));
                Ok(())
            }
            Some(Ok(got)) => Err(Stop::Diverged {
                signature: "replay-accepted".into(),
                step,
                expected: "refused (a replay)".into(),
                observed: format!("decrypted again to {}", quoted(&got)),
            }),
        }
    }

    /// The bytes of `message` a flip must make it refused.
    fn tamperable(&self, message: &Message) -> Option<Range<usize>> {
        if message.kind == MessageType::Whisper {
            return Some(0..message.wire.len());
        }
        let inner = if crate::interop::is_olm(&self.suite) {
            ratchetproof_protocol::olm::PreKeyMessage::decode(&message.wire)
                .ok()?
                .message
        } else {
            let suite = ratchetproof_protocol::suite::by_name(&self.suite)?;
            suite.decode_initial(&message.wire).ok()?.message
        };
        let start = message
            .wire
            .windows(inner.len().max(1))
            .position(|w| w == inner.as_slice())?;
        Some(start..start + inner.len())
    }

    /// The role, in the suite's layout, of byte `at` of the ratchet message
    /// that spans `range` of `wire` (`unknown` where the layout says nothing).
    fn field_at(&self, wire: &[u8], range: &Range<usize>, at: usize) -> &'static str {
        let layout = ratchetproof_protocol::suite::by_name(&self.suite)
            .and_then(|suite| suite.message_layout(wire.get(range.clone())?).ok());
        let offset = at.saturating_sub(range.start);
        let role = layout.and_then(|l| {
            l.fields
                .iter()
                .find(|f| f.range.contains(&offset))
                .map(|f| f.role)
        });
        use ratchetproof_protocol::suite::FieldRole as R;
        match role {
            Some(R::Version) => "version",
            Some(R::Structure) => "structure",
            Some(R::KeyType) => "key-type",
            Some(R::RatchetKey) => "ratchet-key",
            Some(R::PreviousCounter) => "previous-counter",
            Some(R::Counter) => "counter",
            Some(R::Ciphertext) => "ciphertext",
            Some(R::Tag) => "tag",
            None => "unknown",
        }
    }

    fn tamper(&mut self, id: u32, position: u32, bit: u8) -> Result<(), Stop> {
        let Some(m) = self.find(id) else {
            return Ok(());
        };
        let state = if self.in_flight.contains(&m) {
            "(in flight)"
        } else if self.accepted.contains(&m) {
            "(already accepted)"
        } else {
            "(lost)"
        };
        let Some(message) = self.messages.get(m) else {
            return Ok(());
        };
        let Some(range) = self.tamperable(message).filter(|r| !r.is_empty()) else {
            return Ok(());
        };
        let offset = usize::try_from(position).unwrap_or(0) % range.len();
        let at = range.start + offset;
        let mask = 1u8 << (bit % 8);
        let field = self.field_at(&message.wire, &range, at);
        let mut wire = message.wire.clone();
        let Some(byte) = wire.get_mut(at) else {
            return Ok(());
        };
        *byte ^= mask;
        let (to, kind) = (message.from.other(), message.kind);
        let step = format!(
            "{} receives m{} {} with byte {at} ({field}) XOR {mask:#04x}",
            self.label(to),
            message.id,
            state
        );
        match self.receive(to, &wire, kind)? {
            None => Ok(()),
            Some(Err(e)) => {
                self.party(to).refused = true;
                self.coverage.tampered += 1;
                self.transcript.push(format!("{step}: {}", refused(&e)));
                Ok(())
            }
            Some(Ok(got)) => Err(Stop::Diverged {
                signature: format!("tampered-accepted:{field}"),
                step,
                expected: "refused (a tampered copy)".into(),
                observed: format!("decrypted to {}", quoted(&got)),
            }),
        }
    }
}

/// Removes `item` from `list`; whether it was there.
fn remove(list: &mut Vec<usize>, item: usize) -> bool {
    match list.iter().position(|x| *x == item) {
        Some(i) => {
            list.remove(i);
            true
        }
        None => false,
    }
}

/// Parses a duration: `90`, `90s`, `500ms`, `2m` or `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with an optional unit (ms, s, m, h)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        _ => Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h)")),
    }
}

/// The action list of `case` as it ran, with the failing step, for a report.
pub fn describe(finding: &Finding) -> Vec<String> {
    let d = &finding.divergence;
    let mut lines: Vec<String> = d
        .transcript
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{i:>4}. {t}"))
        .collect();
    lines.push(format!("{:>4}. {}", d.transcript.len(), d.step));
    lines.push(format!("        expected: {}", d.expected));
    lines.push(format!("        observed: {}", d.observed));
    lines
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use crate::implementation::{
        Capabilities, DecryptOutput, ImplResult, PrekeyRespond, PrekeyRespondOutput, Request,
        Response,
    };

    #[test]
    fn the_reference_against_itself_finds_nothing_in_either_suite() {
        for suite in ratchetproof_protocol::suite::all() {
            for one_time_prekey in [true, false] {
                let mut options = ExploreOptions::new(suite.name(), 7, 100);
                options.one_time_prekey = one_time_prekey;
                let mut peer = Reference::new();
                let e = explore(&mut peer, &options, &mut |_| {});
                assert_eq!(e.verdict, Verdict::NothingFound, "{}", suite.name());
                assert_eq!(e.cases, 100);
                // The cases exercise what the mode is for.
                let c = &e.coverage;
                assert!(c.prekey_deliveries > 100, "{c:?}");
                assert!(c.out_of_order > 50, "{c:?}");
                assert!(c.replays > 50 && c.tampered > 50 && c.drops > 20, "{c:?}");
                assert!(c.deepest_chain >= 6, "{c:?}");
            }
        }
    }

    #[test]
    fn cases_are_seeded() {
        assert_eq!(draw_case(3, 9, 40), draw_case(3, 9, 40));
        assert_ne!(draw_case(3, 9, 40), draw_case(4, 9, 40));
        assert_ne!(draw_case(3, 9, 40), draw_case(3, 10, 40));
        let sides: Vec<bool> = (0..20)
            .map(|n| draw_case(1, n, 40).reference_is_alice)
            .collect();
        assert!(sides.contains(&true) && sides.contains(&false));
        assert!((0..50).all(|n| (20..=40).contains(&draw_case(1, n, 40).actions.len())));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("s").is_err());
    }

    /// The reference with one misbehaviour, in process.
    struct Buggy {
        inner: Reference,
        bug: Bug,
        /// Every message decrypted, with its plaintext.
        seen: Vec<(Vec<u8>, Vec<u8>)>,
        /// Sessions that have refused a message.
        broken: Vec<SessionHandle>,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Bug {
        /// A cache of decrypted messages answers a replay with its plaintext.
        AcceptsReplays,
        /// A refused message leaves the session unable to decrypt.
        RefusalBreaksSession,
        /// A tampered copy of a message seen before decrypts (the cache is
        /// keyed by the message without its last 8 bytes, signal-v3's MAC).
        TamperedCacheHit,
    }

    impl Buggy {
        fn new(bug: Bug) -> Self {
            Self {
                inner: Reference::new(),
                bug,
                seen: Vec::new(),
                broken: Vec::new(),
            }
        }
        fn cached(&self, message: &[u8]) -> Option<Vec<u8>> {
            let key = |m: &[u8]| -> Vec<u8> {
                match self.bug {
                    Bug::TamperedCacheHit => {
                        m.iter().take(m.len().saturating_sub(8)).copied().collect()
                    }
                    _ => m.to_vec(),
                }
            };
            self.seen
                .iter()
                .find(|(m, _)| {
                    key(m) == key(message) && (m != message || self.bug == Bug::AcceptsReplays)
                })
                .map(|(_, p)| p.clone())
        }
    }

    impl Implementation for Buggy {
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                name: "buggy".into(),
                ..self.inner.capabilities()
            }
        }
        fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
            if self.bug != Bug::RefusalBreaksSession
                && let Some(plaintext) = self.cached(&r.message)
            {
                return Ok(DecryptOutput { plaintext });
            }
            if self.broken.contains(&r.session) {
                return Err(ImplError::new(
                    crate::implementation::ErrorClass::State,
                    "session broken",
                ));
            }
            match self.inner.decrypt(r) {
                Ok(out) => {
                    self.seen.push((r.message.clone(), out.plaintext.clone()));
                    Ok(out)
                }
                Err(e) => {
                    if self.bug == Bug::RefusalBreaksSession {
                        self.broken.push(r.session);
                    }
                    Err(e)
                }
            }
        }
        fn prekey_respond(&mut self, r: &PrekeyRespond) -> ImplResult<PrekeyRespondOutput> {
            let out = self.inner.prekey_respond(r)?;
            self.seen.push((r.message.clone(), out.plaintext.clone()));
            Ok(out)
        }
        fn forward(&mut self, request: Request) -> ImplResult<Response> {
            request.answer(&mut self.inner)
        }
        fn reset(&mut self) {
            self.inner.reset();
            self.seen.clear();
            self.broken.clear();
        }
    }

    fn find(bug: Bug) -> Finding {
        find_in(bug, "signal-v3")
    }

    fn find_in(bug: Bug, suite: &str) -> Finding {
        let mut peer = Buggy::new(bug);
        let e = explore(&mut peer, &ExploreOptions::new(suite, 1, 200), &mut |_| {});
        match e.verdict {
            Verdict::Found(f) => *f,
            other => panic!("not found: {other:?}"),
        }
    }

    #[test]
    fn olm_the_reference_finds_nothing_and_each_bug_is_found() {
        let olm = ratchetproof_protocol::olm::NAME;
        let mut peer = Reference::new();
        let e = explore(&mut peer, &ExploreOptions::new(olm, 7, 100), &mut |_| {});
        assert_eq!(e.verdict, Verdict::NothingFound);
        assert!(
            e.coverage.tampered > 0 && e.coverage.replays > 0,
            "{:?}",
            e.coverage
        );
        for (bug, signature) in [
            (Bug::AcceptsReplays, "replay-accepted"),
            (Bug::RefusalBreaksSession, "genuine-refused-after-refusal"),
            (Bug::TamperedCacheHit, "tampered-accepted:unknown"),
        ] {
            let f = find_in(bug, olm);
            assert_eq!(f.replayed, Replayed::Same);
            assert_eq!(f.divergence.signature, signature, "{bug:?}");
        }
    }

    #[test]
    fn finds_and_shrinks_a_peer_that_accepts_replays() {
        let f = find(Bug::AcceptsReplays);
        assert_eq!(f.replayed, Replayed::Same);
        assert!(f.divergence.step.contains("replay"), "{f:?}");
        assert_eq!(f.divergence.expected, "refused (a replay)");
        assert_eq!(f.divergence.signature, "replay-accepted");
        // Minimal: send, deliver, replay (and, when the peer is Alice, a
        // reply for her to decrypt first).
        assert!(f.minimal.actions.len() <= 5, "{:#?}", describe(&f));
        assert!(f.minimal.actions.len() < f.original.actions.len());
    }

    #[test]
    fn finds_and_shrinks_a_peer_whose_session_breaks_on_a_refusal() {
        let f = find(Bug::RefusalBreaksSession);
        assert_eq!(f.replayed, Replayed::Same);
        assert!(f.divergence.expected.starts_with("decrypts to"), "{f:?}");
        assert_eq!(f.divergence.signature, "genuine-refused-after-refusal");
        // A refused message, then a genuine one: at most a handful of actions.
        assert!(f.minimal.actions.len() <= 7, "{:#?}", describe(&f));
        assert!(f.minimal.actions.len() < f.original.actions.len());
        let text = describe(&f).join("\n");
        assert!(text.contains("refused"), "{text}");
    }

    #[test]
    fn finds_a_peer_that_accepts_a_tampered_copy() {
        let f = find(Bug::TamperedCacheHit);
        assert_eq!(f.replayed, Replayed::Same);
        assert!(f.divergence.step.contains("XOR"), "{f:?}");
        assert_eq!(f.divergence.signature, "tampered-accepted:tag");
        assert!(f.minimal.actions.len() <= 6, "{:#?}", describe(&f));
    }

    #[test]
    fn an_accepted_deviation_is_counted_and_exploration_goes_on() {
        let mut options = ExploreOptions::new("signal-v3", 1, 60);
        options.accepted = vec!["replay-accepted".into()];
        let mut peer = Buggy::new(Bug::AcceptsReplays);
        let e = explore(&mut peer, &options, &mut |_| {});
        assert_eq!(e.verdict, Verdict::NothingFound);
        assert_eq!(e.cases, 60);
        assert!(e.coverage.accepted_deviations["replay-accepted"] > 10);
        // Another bug is still found past it.
        let mut peer = Buggy::new(Bug::RefusalBreaksSession);
        let e = explore(&mut peer, &options, &mut |_| {});
        assert!(
            matches!(e.verdict, Verdict::Found(f) if f.divergence.signature == "genuine-refused-after-refusal")
        );
    }

    #[test]
    fn a_crashing_peer_is_a_fault_not_a_divergence() {
        struct Crashing(Reference, Option<crate::implementation::Fault>, usize);
        impl Implementation for Crashing {
            fn capabilities(&self) -> Capabilities {
                self.0.capabilities()
            }
            fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
                self.2 += 1;
                if self.2 == 3 {
                    self.1 = Some(crate::implementation::Fault {
                        message: "the shim exited".into(),
                        stderr: None,
                    });
                    return Err(ImplError::new(
                        crate::implementation::ErrorClass::State,
                        "no answer",
                    ));
                }
                self.0.decrypt(r)
            }
            fn forward(&mut self, request: Request) -> ImplResult<Response> {
                request.answer(&mut self.0)
            }
            fn take_fault(&mut self) -> Option<crate::implementation::Fault> {
                self.1.take()
            }
        }
        let mut peer = Crashing(Reference::new(), None, 0);
        let e = explore(
            &mut peer,
            &ExploreOptions::new("signal-v3", 1, 50),
            &mut |_| {},
        );
        assert!(
            matches!(&e.verdict, Verdict::Fault { message, .. } if message.contains("exited")),
            "{:?}",
            e.verdict
        );
    }
}
