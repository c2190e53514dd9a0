//! # Exploration: searching an implementation for deviations
//!
//! Vectors catch what their authors thought of; `ratchetproof explore`
//! searches for what nobody wrote down. It draws random adversarial cases
//! (the session domain: conversations from the scenario model,
//! [`session`]), computes what must happen by playing each case on the
//! reference under the model's oracle, writes the case as an ordinary vector
//! and runs it on the implementation under test with the ordinary runner.
//! So every observable is compared exactly as `ratchetproof run` compares
//! it — wire bytes of every send (keys are injected, so the bytes are
//! determined), plaintexts, error classes with the alternatives the oracle
//! allows, the limits the implementation declared — and a finding *is* a
//! vector that fails.
//!
//! Where the implementation declares X3DH or a prekey store, a quarter of
//! the cases come from the key-agreement domain instead ([`x3dh`]: bundles
//! with broken signatures, low-order and non-canonical keys, wrong lengths;
//! initial messages replayed, forged, misdirected, cut short), which the
//! scenario model — it starts from an agreed root key — never reaches.
//!
//! On the first divergence the case is shrunk (`shrink.rs`: delta debugging
//! over actions, then over picks and tampered bytes) to a minimal
//! conversation that still diverges, and returned as a [`Finding`] with its
//! one-case vector file.
//!
//! A run is reproducible: case `i` of seed `s` is drawn from a seed derived
//! from `(s, i)` alone, workers take cases from a shared counter, and the
//! finding reported is the one of the lowest case index that diverged, so
//! `--jobs` changes the speed, not the result (under `--time` the number of
//! cases reached varies with speed, the cases themselves do not).

pub mod accepted;
mod coverage;
mod key;
pub mod sealed;
pub mod session;
mod shrink;
mod story;
pub mod x3dh;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ratchetproof_protocol::Suite;

use crate::generate::flags::Flag;
use crate::implementation::{Capabilities, Implementation, Operation};
use crate::model::{self, Trace};
use crate::reference::Reference;
use crate::runner::{self, CaseRef, RunOptions, Status};
use crate::vectors::{
    AcceptCase, Note, Outcome as VectorOutcome, ScenarioCase, SchemaId, Step, VectorFile, X3dhCase,
};

pub use accepted::Accepted;
pub use coverage::Coverage;
use session::{Room, SessionCase};

/// The flag every written finding carries.
pub const FINDING_FLAG: &str = "ExploreFinding";

/// How to explore.
#[derive(Clone, Debug)]
pub struct Options {
    /// The run's seed.
    pub seed: u64,
    /// Stop after this many cases.
    pub cases: Option<u64>,
    /// Stop taking new cases after this long.
    pub time: Option<Duration>,
    /// The longest conversation drawn.
    pub max_actions: usize,
    /// A rejection with another class than the reference's (or an allowed
    /// alternative) is a divergence.
    pub strict: bool,
    /// Suites to draw cases in, in turn (by case index).
    pub suites: Vec<Suite>,
    /// Whether `olm-v1` takes a turn after the suites: its cases are
    /// conversations only (Olm is not a [`Suite`]; its key agreement is
    /// exercised inside every conversation).
    pub olm: bool,
    /// Domains to draw cases from (those the implementation declares).
    pub domains: Vec<Domain>,
    /// Deviations to note and explore past.
    pub accepted: Accepted,
    /// Most cases played while shrinking a finding.
    pub shrink_budget: usize,
}

impl Options {
    /// 1 000 cases of up to 60 actions in `suites`, default error classes.
    pub fn new(seed: u64, suites: Vec<Suite>) -> Self {
        Self {
            seed,
            cases: Some(1_000),
            time: None,
            max_actions: 60,
            strict: false,
            suites,
            olm: false,
            domains: Domain::ALL.to_vec(),
            accepted: Accepted::default(),
            shrink_budget: 2_000,
        }
    }
}

/// Case `index` of run `seed`'s own seed (SplitMix64 of both).
pub fn case_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(index.wrapping_add(1).wrapping_mul(0xbf58_476d_1ce4_e5b9));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where a case comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Domain {
    /// Conversations from the scenario model (`session_scenarios` vectors).
    Session,
    /// X3DH from both sides (`x3dh` vectors).
    X3dh,
    /// Bob's prekey store receiving initial messages (`x3dh_accept` vectors).
    Accept,
    /// A message sealed with the sender's keys under a chosen header
    /// (`session_scenarios` vectors).
    Sealed,
}

impl Domain {
    /// Every domain.
    pub const ALL: [Domain; 4] = [
        Domain::Session,
        Domain::X3dh,
        Domain::Accept,
        Domain::Sealed,
    ];

    /// `session`, `x3dh` or `accept`.
    pub fn name(self) -> &'static str {
        match self {
            Domain::Session => "session",
            Domain::X3dh => "x3dh",
            Domain::Accept => "accept",
            Domain::Sealed => "sealed",
        }
    }

    /// The domain named `name`.
    pub fn from_name(name: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Whether `caps` declare what the domain's cases need (the runner's
    /// capability rules: key injection for sessions and the prekey store).
    pub fn declared_by(self, caps: &Capabilities) -> bool {
        let has = |op| caps.operations.contains(&op);
        match self {
            Domain::Session | Domain::Sealed => has(Operation::Session) && caps.injected_randomness,
            Domain::X3dh => has(Operation::X3dh),
            Domain::Accept => has(Operation::X3dhAccept) && caps.injected_randomness,
        }
    }
}

/// The domains of `wanted` that `caps` declare, in [`Domain::ALL`] order.
pub fn domains_of(caps: &Capabilities, wanted: &[Domain]) -> Vec<Domain> {
    Domain::ALL
        .into_iter()
        .filter(|d| wanted.contains(d) && d.declared_by(caps))
        .collect()
}

/// A drawn case.
// Drawn, played and dropped once each: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Case {
    /// A conversation.
    Session(SessionCase),
    /// An X3DH case.
    X3dh {
        /// Its suite.
        suite: Suite,
        /// The name of its shape.
        shape: &'static str,
        /// The case.
        case: X3dhCase,
    },
    /// A prekey-store case.
    Accept {
        /// Its suite.
        suite: Suite,
        /// The name of its shape.
        shape: &'static str,
        /// The case.
        case: AcceptCase,
    },
    /// A conversation ending in a message sealed with the sender's keys.
    Sealed {
        /// Its suite.
        suite: Suite,
        /// The name of its shape.
        shape: &'static str,
        /// The case.
        case: ScenarioCase,
    },
}

impl Case {
    /// The case's suite.
    pub fn suite(&self) -> Suite {
        match self {
            Case::Session(c) => c.config.suite,
            Case::X3dh { suite, .. } | Case::Accept { suite, .. } | Case::Sealed { suite, .. } => {
                *suite
            }
        }
    }

    /// The case's domain.
    pub fn domain(&self) -> Domain {
        match self {
            Case::Session(_) => Domain::Session,
            Case::X3dh { .. } => Domain::X3dh,
            Case::Accept { .. } => Domain::Accept,
            Case::Sealed { .. } => Domain::Sealed,
        }
    }
}

/// Which domain case `index` comes from: with sessions among `domains`,
/// every fourth case comes from the others (X3DH, prekey-store and sealed
/// cases in turn, those declared); without, the domains take turns.
pub fn domain_of(domains: &[Domain], index: u64) -> Option<Domain> {
    let others: Vec<Domain> = domains
        .iter()
        .copied()
        .filter(|d| *d != Domain::Session)
        .collect();
    let turn = |list: &[Domain], i: u64| -> Option<Domain> {
        let n = u64::try_from(list.len()).ok().filter(|&n| n > 0)?;
        list.get(usize::try_from(i % n).ok()?).copied()
    };
    match (domains.contains(&Domain::Session), others.is_empty()) {
        (true, true) => Some(Domain::Session),
        (true, false) if index % 4 == 3 => turn(&others, index / 4),
        (true, false) => Some(Domain::Session),
        (false, _) => turn(&others, index),
    }
}

/// The suite of case `index`: the suites in turn, then `olm-v1` if asked
/// for (`None` in its turn).
fn turn_of(options: &Options, index: u64) -> Option<Option<Suite>> {
    let count = u64::try_from(options.suites.len() + usize::from(options.olm))
        .ok()
        .filter(|&n| n > 0)?;
    let turn = usize::try_from(index % count).ok()?;
    Some(options.suites.get(turn).copied())
}

/// The Signal suite of case `index`. In `olm-v1`'s turn, a case whose
/// domain is not a conversation takes a Signal suite instead (Olm has
/// conversations only), the suites in turn, so every domain keeps its share
/// of every suite.
fn suite_of(options: &Options, index: u64) -> Option<Suite> {
    match turn_of(options, index)? {
        Some(suite) => Some(suite),
        None => {
            let turns = u64::try_from(options.suites.len() + 1).ok()?;
            let count = u64::try_from(options.suites.len())
                .ok()
                .filter(|&n| n > 0)?;
            options
                .suites
                .get(usize::try_from((index / turns) % count).ok()?)
                .copied()
        }
    }
}

/// Whether case `index` is an `olm-v1` conversation: `olm-v1`'s turn, and
/// a conversation (or no Signal suite to give the case to).
fn is_olm(options: &Options, domains: &[Domain], index: u64) -> bool {
    matches!(turn_of(options, index), Some(None))
        && domains.contains(&Domain::Session)
        && (domain_of(domains, index) == Some(Domain::Session) || options.suites.is_empty())
}

/// The suite of an X3DH-shaped case `index` whose turn fell to `suite`:
/// `suite` itself when its agreement is X3DH, else the run's X3DH suites in
/// turn (`None` without any).
fn x3dh_suite(options: &Options, suite: Suite, index: u64) -> Option<Suite> {
    if suite.key_agreement().kem().is_none() {
        return Some(suite);
    }
    let x3dh: Vec<Suite> = options
        .suites
        .iter()
        .copied()
        .filter(|s| s.key_agreement().kem().is_none())
        .collect();
    let n = u64::try_from(x3dh.len()).ok().filter(|&n| n > 0)?;
    x3dh.get(usize::try_from(index % n).ok()?).copied()
}

/// The conversation `index` of a run (whatever domain the index falls in).
pub fn draw(options: &Options, room: &Room, index: u64) -> Option<SessionCase> {
    let seed = case_seed(options.seed, index);
    match turn_of(options, index)? {
        Some(suite) => Some(session::draw(seed, suite, room, options.max_actions)),
        None => Some(session::draw_olm(seed, room, options.max_actions)),
    }
}

/// The case `index` of a run drawing from `domains`; `Err` when the
/// reference could not build a key-agreement case (its failure, never the
/// implementation's).
pub fn draw_case(
    options: &Options,
    room: &Room,
    domains: &[Domain],
    index: u64,
) -> Option<Result<Case, String>> {
    if is_olm(options, domains, index) {
        return Some(Ok(Case::Session(draw(options, room, index)?)));
    }
    let suite = suite_of(options, index)?;
    let seed = case_seed(options.seed, index);
    Some(match domain_of(domains, index)? {
        Domain::Session => Ok(Case::Session(draw(options, room, index)?)),
        // The X3DH and prekey-store shapes are X3DH's: a suite whose
        // agreement has a KEM (PQXDH) has none yet, so its turn goes to an
        // X3DH suite of the run, or with none in the run becomes a
        // conversation (docs/EXPLORE.md "What exploration does not cover").
        domain @ (Domain::X3dh | Domain::Accept) => {
            match x3dh_suite(options, suite, index) {
                None => Ok(Case::Session(draw(options, room, index)?)),
                Some(suite) if domain == Domain::X3dh => x3dh::x3dh_case(suite, seed, 1)
                    .map(|(shape, case)| Case::X3dh { suite, shape, case }),
                Some(suite) => x3dh::accept_case(suite, seed, 1)
                    .map(|(shape, case)| Case::Accept { suite, shape, case }),
            }
        }
        Domain::Sealed => sealed::sealed_case(suite, seed, room)
            .map(|(shape, case)| Case::Sealed { suite, shape, case }),
    })
}

/// How the implementation's answer differed from the reference's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The step of the scenario (`None`: the sessions did not start).
    pub step: Option<usize>,
    /// What the reference did (what the vector states).
    pub expected: String,
    /// What the implementation did.
    pub actual: String,
    /// The kind of divergence, as accepted-deviation lists name it
    /// ([`accepted`]).
    pub signature: String,
}

/// What one case gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The implementation did what the reference did.
    Agrees,
    /// It did not.
    Diverges(Divergence),
    /// The reference broke the model's oracle on this case: a bug in the
    /// model or the reference, never a verdict on the implementation.
    ReferenceRefused(String),
    /// The case needs something the implementation does not declare.
    Skipped(String),
    /// The implementation could not be driven (crash, timeout).
    Errored(String),
}

/// A case played on both sides.
#[derive(Clone, Debug)]
pub struct Played {
    /// The reference's run.
    pub trace: Option<Trace>,
    /// The run as a vector case.
    pub scenario: Option<ScenarioCase>,
    /// The judgement.
    pub verdict: Verdict,
}

/// Plays `case` on the reference, then as a vector on `imp`.
pub fn play(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    case: &SessionCase,
    strict: bool,
    comment: &str,
) -> Played {
    let trace = match model::check(&mut Reference::new(), &case.config, &case.actions) {
        Ok(trace) => trace,
        Err(violation) => {
            return Played {
                trace: None,
                scenario: None,
                verdict: Verdict::ReferenceRefused(format!(
                    "{violation}; actions {:?}",
                    violation.effective_actions
                )),
            };
        }
    };
    let scenario = match scenario_of(&trace, case, comment) {
        Ok(scenario) => scenario,
        Err(e) => {
            return Played {
                trace: Some(trace),
                scenario: None,
                verdict: Verdict::ReferenceRefused(format!("key-erasure replay: {e}")),
            };
        }
    };
    let options = RunOptions {
        strict_errors: strict,
        ..RunOptions::default()
    };
    let status = runner::run_case(
        imp,
        caps,
        case.config.suite_name(),
        CaseRef::Scenario(&scenario),
        &options,
    );
    let verdict = match status {
        Status::Passed => Verdict::Agrees,
        Status::Failed {
            step,
            expected,
            actual,
        } => {
            let signature = accepted::signature(&scenario, &trace, step, &actual);
            Verdict::Diverges(Divergence {
                step,
                expected,
                actual,
                signature,
            })
        }
        Status::Skipped { reason, .. } => Verdict::Skipped(reason),
        Status::Errored { message, stderr } => Verdict::Errored(match stderr {
            Some(stderr) if !stderr.is_empty() => format!("{message}\nstderr:\n{stderr}"),
            _ => message,
        }),
    };
    Played {
        trace: Some(trace),
        scenario: Some(scenario),
        verdict,
    }
}

/// The reference's run as a vector case: every capture lists the secrets
/// its victim must have erased (the key-erasure check, flag `KeyErasure`),
/// computed exactly as the generator does.
pub(crate) fn scenario_of(
    trace: &Trace,
    case: &SessionCase,
    comment: &str,
) -> Result<ScenarioCase, String> {
    let mut scenario = trace.to_scenario(1, comment, &[FINDING_FLAG.to_string()]);
    if case.config.ratchet == model::Ratchet::Olm {
        // Olm's key erasure is stated by its capture rule, which the
        // model's eavesdropping checks (docs/OLM-V1.md §8).
        return Ok(scenario);
    }
    let erasure = crate::generate::annotate_erasure(
        case.config.suite,
        scenario.limits,
        scenario
            .setup
            .ratchet()
            .ok_or("the explorer's scenarios start from a shared key")?,
        &mut scenario.steps,
    )?;
    if erasure {
        scenario.info.flags.push("KeyErasure".into());
    }
    Ok(scenario)
}

/// A divergence, shrunk, with everything needed to reproduce it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The run's seed and the case's index in it.
    pub seed: u64,
    /// Index of the case that first diverged.
    pub index: u64,
    /// How the implementation diverged (on the shrunk case).
    pub divergence: Divergence,
    /// Cases played while shrinking (or replaying) it.
    pub shrink_plays: usize,
    /// The case itself and its one-case vector file.
    pub found: Found,
}

/// The case of a finding, by domain.
// One per run at most: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Found {
    /// A conversation, shrunk.
    Session {
        /// The case as drawn.
        original: SessionCase,
        /// The shrunk case.
        minimal: SessionCase,
        /// The reference's run of the shrunk case.
        trace: Trace,
        /// The one-case vector file that replays it.
        file: VectorFile<ScenarioCase>,
    },
    /// An X3DH case (one agreement: nothing to shrink).
    X3dh {
        /// Its shape.
        shape: &'static str,
        /// The one-case vector file that replays it.
        file: VectorFile<X3dhCase>,
    },
    /// A prekey-store case (its deliveries up to the diverging one).
    Accept {
        /// Its shape.
        shape: &'static str,
        /// The one-case vector file that replays it.
        file: VectorFile<AcceptCase>,
    },
    /// A conversation ending in a sealed message.
    Sealed {
        /// Its shape.
        shape: &'static str,
        /// The one-case vector file that replays it.
        file: VectorFile<ScenarioCase>,
    },
}

impl Finding {
    /// The case, step by step, as a reader follows it.
    pub fn story(&self) -> String {
        match &self.found {
            Found::Session { .. } => story::tell(self),
            Found::X3dh { .. } | Found::Accept { .. } | Found::Sealed { .. } => key::tell(self),
        }
    }

    /// The vector file, as `generate` writes files.
    pub fn file_json(&self) -> Result<String, String> {
        let json = match &self.found {
            Found::Session { file, .. } => crate::generate::to_json(file, "finding"),
            Found::X3dh { file, .. } => crate::generate::to_json(file, "finding"),
            Found::Accept { file, .. } => crate::generate::to_json(file, "finding"),
            Found::Sealed { file, .. } => crate::generate::to_json(file, "finding"),
        };
        json.map_err(|e| e.to_string())
    }

    /// Steps of the minimal case (sides run for X3DH, deliveries for a
    /// prekey store).
    pub fn minimal_len(&self) -> usize {
        match &self.found {
            Found::Session { trace, .. } => trace.events.len(),
            Found::X3dh { file, .. } => file.tests.first().map_or(0, |c| {
                usize::from(c.initiator.is_some()) + usize::from(c.responder.is_some())
            }),
            Found::Accept { file, .. } => {
                file.tests.first().map_or(0, |c| c.initial_messages.len())
            }
            Found::Sealed { file, .. } => file.tests.first().map_or(0, |c| c.steps.len()),
        }
    }

    /// The domain the finding is in.
    pub fn domain(&self) -> Domain {
        match &self.found {
            Found::Session { .. } => Domain::Session,
            Found::X3dh { .. } => Domain::X3dh,
            Found::Accept { .. } => Domain::Accept,
            Found::Sealed { .. } => Domain::Sealed,
        }
    }
}

/// An accepted deviation met during the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedHit {
    /// Its signature.
    pub signature: String,
    /// The list's reason.
    pub reason: String,
    /// Cases that showed it.
    pub cases: u64,
    /// The first of them.
    pub first_index: u64,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// `"<name> <version>"`.
    pub implementation: String,
    /// The seed.
    pub seed: u64,
    /// Cases played (each completely, on both sides).
    pub cases: u64,
    /// Wall time, shrinking included.
    pub elapsed: Duration,
    /// What the cases exercised.
    pub coverage: Coverage,
    /// The first divergence, shrunk.
    pub finding: Option<Finding>,
    /// Accepted deviations met.
    pub accepted: Vec<AcceptedHit>,
    /// Cases the reference itself could not play under the oracle (index, why).
    pub reference_refused: Vec<(u64, String)>,
    /// Cases skipped for a capability (index, why).
    pub skipped: Vec<(u64, String)>,
    /// The implementation could not be driven (index, what happened).
    pub errored: Option<(u64, String)>,
}

struct Shared {
    coverage: Coverage,
    cases: u64,
    first_divergence: Option<u64>,
    accepted: Vec<AcceptedHit>,
    reference_refused: Vec<(u64, String)>,
    skipped: Vec<(u64, String)>,
    errored: Option<(u64, String)>,
}

/// Explores `imps` (one per job, all the same implementation) under
/// `options`. `progress(cases)` is called after each case from the workers.
pub fn explore(
    imps: &mut [Box<dyn Implementation + Send>],
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Report {
    let start = Instant::now();
    let Some(caps) = imps.first().map(|i| i.capabilities()) else {
        return Report {
            implementation: "none".into(),
            seed: options.seed,
            cases: 0,
            elapsed: start.elapsed(),
            coverage: Coverage::default(),
            finding: None,
            accepted: Vec::new(),
            reference_refused: Vec::new(),
            skipped: Vec::new(),
            errored: Some((0, "no implementation to explore".into())),
        };
    };
    let room = Room::of(&caps);
    let domains = domains_of(&caps, &options.domains);
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let shared = Mutex::new(Shared {
        coverage: Coverage::default(),
        cases: 0,
        first_divergence: None,
        accepted: Vec::new(),
        reference_refused: Vec::new(),
        skipped: Vec::new(),
        errored: None,
    });
    let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());
    std::thread::scope(|scope| {
        for imp in imps.iter_mut() {
            let (caps, room, domains, next, stop, lock) =
                (&caps, &room, &domains, &next, &stop, &lock);
            scope.spawn(move || {
                loop {
                    if stop.load(Ordering::Relaxed)
                        || options.time.is_some_and(|t| start.elapsed() >= t)
                    {
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if options.cases.is_some_and(|n| index >= n)
                        || lock().first_divergence.is_some_and(|f| index > f)
                    {
                        break;
                    }
                    let Some(drawn) = draw_case(options, room, domains, index) else {
                        break;
                    };
                    let verdict = match &drawn {
                        Ok(Case::Session(case)) => {
                            let played = play(imp.as_mut(), caps, case, options.strict, "");
                            if let Some(trace) = &played.trace {
                                lock().coverage.add(case, trace);
                            }
                            played.verdict
                        }
                        Ok(case) => {
                            lock().coverage.add_key(case);
                            key::play(imp.as_mut(), caps, case, options.strict)
                        }
                        Err(why) => Verdict::ReferenceRefused(why.clone()),
                    };
                    let mut s = lock();
                    s.cases += 1;
                    match verdict {
                        Verdict::Agrees => {}
                        Verdict::Diverges(d) => match options.accepted.reason(&d.signature) {
                            Some(reason) => {
                                note_accepted(&mut s.accepted, &d.signature, reason, index)
                            }
                            None => {
                                if s.first_divergence.is_none_or(|f| index < f) {
                                    s.first_divergence = Some(index);
                                }
                            }
                        },
                        Verdict::ReferenceRefused(why) => s.reference_refused.push((index, why)),
                        Verdict::Skipped(why) => s.skipped.push((index, why)),
                        Verdict::Errored(why) => {
                            if s.errored.as_ref().is_none_or(|(i, _)| index < *i) {
                                s.errored = Some((index, why));
                            }
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    let done = s.cases;
                    drop(s);
                    progress(done);
                }
            });
        }
    });
    let mut s = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut finding = None;
    if let (Some(index), None, Some(imp)) = (s.first_divergence, &s.errored, imps.first_mut())
        && let Some(Ok(case)) = draw_case(options, &room, &domains, index)
    {
        let found = match case {
            Case::Session(case) => shrink::shrink(imp.as_mut(), &caps, options, index, case),
            case => key::finding(imp.as_mut(), &caps, options, index, case),
        };
        match found {
            Ok(f) => finding = Some(f),
            Err(why) => s.errored = Some((index, why)),
        }
    }
    s.reference_refused.sort_by_key(|(i, _)| *i);
    s.skipped.sort_by_key(|(i, _)| *i);
    let mut accepted = s.accepted;
    accepted.sort_by(|a, b| a.signature.cmp(&b.signature));
    Report {
        implementation: format!("{} {}", caps.name, caps.version),
        seed: options.seed,
        cases: s.cases,
        elapsed: start.elapsed(),
        coverage: s.coverage,
        finding,
        accepted,
        reference_refused: s.reference_refused,
        skipped: s.skipped,
        errored: s.errored,
    }
}

fn note_accepted(hits: &mut Vec<AcceptedHit>, signature: &str, reason: &str, index: u64) {
    match hits.iter_mut().find(|h| h.signature == signature) {
        Some(hit) => {
            hit.cases += 1;
            hit.first_index = hit.first_index.min(index);
        }
        None => hits.push(AcceptedHit {
            signature: signature.into(),
            reason: reason.into(),
            cases: 1,
            first_index: index,
        }),
    }
}

/// The one-case vector file of a finding (`schema` names the case's kind).
fn finding_file<T>(schema: &str, suite: &str, flags: &[String], case: T) -> VectorFile<T> {
    let note = Note {
        bug_type: "Explored".into(),
        description: "A divergence `ratchetproof explore` found (and, for a conversation, \
            shrank): the expected outcomes are the reference's — under the scenario model's \
            oracle for a conversation, the generator's for key agreement (docs/EXPLORE.md)."
            .into(),
        links: vec!["docs/EXPLORE.md".into()],
    };
    VectorFile {
        schema: SchemaId {
            name: schema.into(),
            version: crate::vectors::SCHEMA_VERSION,
        },
        suite: suite.into(),
        generator: format!("ratchetproof explore {}", env!("CARGO_PKG_VERSION")),
        number_of_tests: 1,
        notes: flags
            .iter()
            .map(|flag| match Flag::ALL.iter().find(|f| f.name() == flag) {
                Some(f) => (flag.clone(), f.note()),
                None => (flag.clone(), note.clone()),
            })
            .collect(),
        tests: vec![case],
    }
}

/// What a step of a scenario expects, in the words of a signature.
fn expected_word<T>(outcome: &VectorOutcome<T>, ok: &str) -> String {
    match outcome {
        VectorOutcome::Ok(_) => ok.into(),
        VectorOutcome::Error { error } => format!("error:{error}"),
    }
}

/// The primary expected outcome of `step`, in signature words.
pub(super) fn step_expected(step: &Step) -> String {
    match step {
        Step::Send { expected, .. } => expected_word(&expected.outcome, "sent"),
        Step::Deliver { expected, .. } => expected_word(&expected.outcome, "plaintext"),
        Step::Capture { .. } => "copied".into(),
    }
}
