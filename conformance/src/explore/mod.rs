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
//! On the first divergence the case is shrunk ([`shrink`]: delta debugging
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
pub mod session;
mod shrink;
mod story;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ratchetproof_protocol::Suite;

use crate::generate::flags::Flag;
use crate::implementation::{Capabilities, Implementation};
use crate::model::{self, Trace};
use crate::reference::Reference;
use crate::runner::{self, CaseRef, RunOptions, Status};
use crate::vectors::{
    Note, Outcome as VectorOutcome, SCENARIO_SCHEMA, ScenarioCase, SchemaId, Step, VectorFile,
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

/// The case `index` of a run.
pub fn draw(options: &Options, room: &Room, index: u64) -> Option<SessionCase> {
    let count = u64::try_from(options.suites.len())
        .ok()
        .filter(|&n| n > 0)?;
    let suite = *options.suites.get(usize::try_from(index % count).ok()?)?;
    Some(session::draw(
        case_seed(options.seed, index),
        suite,
        room,
        options.max_actions,
    ))
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
        case.config.suite.name(),
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
    let erasure = crate::generate::annotate_erasure(
        case.config.suite,
        scenario.limits,
        &scenario.setup,
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
    /// The case as drawn.
    pub original: SessionCase,
    /// The shrunk case.
    pub minimal: SessionCase,
    /// The reference's run of the shrunk case.
    pub trace: Trace,
    /// How the implementation diverged on it.
    pub divergence: Divergence,
    /// Cases played while shrinking.
    pub shrink_plays: usize,
    /// The one-case vector file that replays it.
    pub file: VectorFile<ScenarioCase>,
}

impl Finding {
    /// The conversation, step by step, as a reader follows it.
    pub fn story(&self) -> String {
        story::tell(self)
    }

    /// The vector file, as `generate` writes files.
    pub fn file_json(&self) -> Result<String, String> {
        crate::generate::to_json(&self.file, "finding").map_err(|e| e.to_string())
    }

    /// Steps of the minimal case.
    pub fn minimal_len(&self) -> usize {
        self.trace.events.len()
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
            let (caps, room, next, stop, lock) = (&caps, &room, &next, &stop, &lock);
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
                    let Some(case) = draw(options, room, index) else {
                        break;
                    };
                    let played = play(imp.as_mut(), caps, &case, options.strict, "");
                    let mut s = lock();
                    s.cases += 1;
                    if let Some(trace) = &played.trace {
                        s.coverage.add(&case, trace);
                    }
                    match played.verdict {
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
        && let Some(case) = draw(options, &room, index)
    {
        match shrink::shrink(imp.as_mut(), &caps, options, index, case) {
            Ok(f) => finding = Some(f),
            Err(why) => s.errored = Some((index, why)),
        }
    }
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

/// The one-case vector file of a finding.
fn finding_file(suite: &str, case: ScenarioCase) -> VectorFile<ScenarioCase> {
    let note = Note {
        bug_type: "Explored".into(),
        description: "A divergence `ratchetproof explore` found and shrank: the expected \
            outcomes are the reference's under the scenario model's oracle (docs/EXPLORE.md)."
            .into(),
        links: vec!["docs/EXPLORE.md".into()],
    };
    VectorFile {
        schema: SchemaId {
            name: SCENARIO_SCHEMA.into(),
            version: crate::vectors::SCHEMA_VERSION,
        },
        suite: suite.into(),
        generator: format!("ratchetproof explore {}", env!("CARGO_PKG_VERSION")),
        number_of_tests: 1,
        notes: case
            .info
            .flags
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
fn step_expected(step: &Step) -> String {
    match step {
        Step::Send { expected, .. } => expected_word(&expected.outcome, "sent"),
        Step::Deliver { expected, .. } => expected_word(&expected.outcome, "plaintext"),
        Step::Capture { .. } => "copied".into(),
    }
}
