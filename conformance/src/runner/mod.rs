//! The runner: validates an [`Implementation`] against vector files.
//!
//! Each case runs from a fresh state ([`Implementation::reset`]); a case that
//! needs something the implementation does not declare (a suite, an
//! operation, clone support, other exact limits) is skipped with the reason —
//! never passed, never failed.

pub mod capability;
mod cases;
pub mod coverage;
pub mod erasure;
pub mod known;
pub mod load;
pub mod report;
pub mod report_json;
pub mod requests;
pub mod run_info;
mod scenario;
pub mod select;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use requests::{
    initiate_request, pqxdh_initiate_request, pqxdh_respond_request, respond_request, run_primitive,
};

use crate::implementation::{
    Capabilities, CloneSession, Decrypt, Encrypt, ImplError, Implementation, PqxdhOutput, Role,
    SessionHandle, SessionInit, X3dhAccept, X3dhOutput,
};
use crate::vectors::{
    AcceptCase, AnyFile, CaseInfo, ErrorClass, Expected, Outcome, PqxdhAcceptCase, PqxdhCase,
    PrimitiveCase, ScenarioCase, Step, Verdict, X3dhCase,
};

use cases::{
    run_accept_case, run_pqxdh_accept_case, run_pqxdh_case, run_primitive_case, run_x3dh_case,
};
use scenario::run_scenario_noting_alternatives;

pub use capability::Capability;
pub use load::{LoadError, collect, default_vectors_dir, load};
pub use run_info::RunInfo;
pub use scenario::run_scenario;

/// What to run and how strictly.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// A wrong error class fails the case (by default any rejection satisfies an expected one).
    pub strict_errors: bool,
    /// Run only cases matching every given filter.
    pub filter: Filter,
}

/// Case selection. Empty lists match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substrings of the file path.
    pub files: Vec<String>,
    /// Flags (a case matches if it has any of them).
    pub flags: Vec<String>,
    /// tcIds.
    pub tc_ids: Vec<u32>,
}

impl Filter {
    fn file_matches(&self, path: &str) -> bool {
        self.files.is_empty() || self.files.iter().any(|f| path.contains(f.as_str()))
    }

    fn case_matches(&self, info: &CaseInfo) -> bool {
        (self.flags.is_empty() || info.flags.iter().any(|f| self.flags.contains(f)))
            && (self.tc_ids.is_empty() || self.tc_ids.contains(&info.tc_id))
    }
}

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    /// Every step as the vector states.
    Passed,
    /// A step disagreed with the vector.
    Failed {
        /// Index of the step (scenarios), if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
        /// What the vector states.
        expected: String,
        /// What the implementation did.
        actual: String,
    },
    /// Not applicable to this implementation.
    Skipped {
        /// Why, for readers.
        reason: String,
        /// What the implementation does not declare (never empty), for counting.
        missing: Vec<Capability>,
    },
    /// The implementation could not be driven (crash, timeout, protocol error).
    Errored {
        /// What happened.
        message: String,
        /// What the implementation wrote to its error stream, if captured.
        #[serde(skip_serializing_if = "Option::is_none")]
        stderr: Option<String>,
    },
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// The vector file.
    pub file: String,
    /// The file's suite (its `suite` field).
    pub suite: String,
    /// tcId.
    pub tc_id: u32,
    /// The case's comment.
    pub comment: String,
    /// Its flags.
    pub flags: Vec<String>,
    /// The case's verdict (`valid`, `invalid`, `acceptable`).
    pub result: Verdict,
    /// Steps (scenarios; initial messages for X3DH acceptance; 0 for a
    /// single-outcome case) that passed through an alternative outcome
    /// rather than the reference's: empty when the case did not pass so.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternative_steps: Vec<usize>,
    /// The outcome.
    #[serde(flatten)]
    pub status: Status,
    /// Everything the case needs from an implementation (coverage checks).
    #[serde(skip)]
    pub needs: Vec<Capability>,
    /// How many steps the case has (scenario steps, initial messages of an
    /// X3DH acceptance); 0 for a single-outcome case. The JSON result derives
    /// the per-step outcomes from it (docs/RESULTS.md, `steps`).
    #[serde(skip)]
    pub step_count: usize,
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The implementation's name and version.
    pub implementation: String,
    /// Per case, in run order.
    pub cases: Vec<CaseResult>,
}

fn failed(step: Option<usize>, expected: impl Into<String>, actual: impl Into<String>) -> Status {
    Status::Failed {
        step,
        expected: expected.into(),
        actual: actual.into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    const MAX: usize = 96;
    let h = hex::encode(bytes);
    if h.len() > MAX {
        format!(
            "{}… ({} bytes)",
            h.get(..MAX).unwrap_or_default(),
            bytes.len()
        )
    } else {
        h
    }
}

/// Compares an implementation's refusal with one expected refusal: in
/// strict mode, or where the specifications fix the class (`classFixed`),
/// the class must be the expected one; otherwise any refusal will do.
fn error_matches(
    expected: ErrorClass,
    actual: &ImplError,
    class_fixed: bool,
    options: &RunOptions,
) -> bool {
    !(options.strict_errors || class_fixed) || actual.class == expected
}

/// Which of a step's conforming outcomes an implementation's result matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched {
    /// The primary (the reference's) outcome.
    Primary,
    /// One of the alternatives.
    Alternative,
}

/// Matches `got` against the step's outcome, then its alternatives, in file
/// order; `same` compares a success with an expected output.
fn judge<T, G>(
    expected: &Expected<T>,
    got: &Result<G, ImplError>,
    same: impl Fn(&T, &G) -> bool,
    options: &RunOptions,
) -> Option<Matched> {
    let hit = |o: &Outcome<T>| match (o, got) {
        (Outcome::Ok(want), Ok(g)) => same(want, g),
        (Outcome::Error { error }, Err(e)) => {
            error_matches(*error, e, expected.class_fixed, options)
        }
        _ => false,
    };
    if hit(&expected.outcome) {
        Some(Matched::Primary)
    } else if expected.alternatives.iter().any(hit) {
        Some(Matched::Alternative)
    } else {
        None
    }
}

/// ` or error authentication, or …`: the alternatives, for a failure message.
fn or_alternatives<T: std::fmt::Debug>(expected: &Expected<T>) -> String {
    expected
        .alternatives
        .iter()
        .map(|o| match o {
            Outcome::Error { error } => format!(" or error {error}"),
            Outcome::Ok(v) => format!(" or success {v:?}"),
        })
        .collect()
}

/// Step indices (or initial-message indices) that passed through an
/// alternative outcome, collected while a case runs.
type Alternatives = Vec<usize>;

/// A skipped case's status; `missing` is not empty.
fn skipped(missing: Vec<Capability>) -> Status {
    let reason = missing
        .iter()
        .map(|m| format!("{m} not declared"))
        .collect::<Vec<_>>()
        .join("; ");
    Status::Skipped { reason, missing }
}

/// One case of a loaded file, whatever its kind.
#[derive(Debug, Clone, Copy)]
pub enum CaseRef<'a> {
    /// A primitives case.
    Primitive(&'a PrimitiveCase),
    /// An X3DH case.
    X3dh(&'a X3dhCase),
    /// A session scenario.
    Scenario(&'a ScenarioCase),
    /// A prekey store receiving initial messages.
    X3dhAccept(&'a AcceptCase),
    /// A PQXDH case.
    Pqxdh(&'a PqxdhCase),
    /// A PQXDH prekey store receiving initial messages.
    PqxdhAccept(&'a PqxdhAcceptCase),
}

impl CaseRef<'_> {
    /// How many judged steps the case has: a scenario's steps, an X3DH
    /// acceptance's initial messages, 0 for a single-outcome case.
    pub fn step_count(&self) -> usize {
        match self {
            CaseRef::Primitive(_) | CaseRef::X3dh(_) | CaseRef::Pqxdh(_) => 0,
            CaseRef::Scenario(c) => c.steps.len(),
            CaseRef::X3dhAccept(c) => c.initial_messages.len(),
            CaseRef::PqxdhAccept(c) => c.initial_messages.len(),
        }
    }

    /// The case's tcId, comment, flags and verdict.
    pub fn info(&self) -> &CaseInfo {
        match self {
            CaseRef::Primitive(c) => &c.info,
            CaseRef::X3dh(c) => &c.info,
            CaseRef::Scenario(c) => &c.info,
            CaseRef::X3dhAccept(c) => &c.info,
            CaseRef::Pqxdh(c) => &c.info,
            CaseRef::PqxdhAccept(c) => &c.info,
        }
    }
}

/// The cases of `file` that `filter` selects, in file order.
pub fn selected_cases<'a>(file: &'a AnyFile, filter: &Filter) -> Vec<CaseRef<'a>> {
    let cases: Vec<CaseRef<'a>> = match file {
        AnyFile::Primitives(f) => f.tests.iter().map(CaseRef::Primitive).collect(),
        AnyFile::X3dh(f) => f.tests.iter().map(CaseRef::X3dh).collect(),
        AnyFile::Scenarios(f) => f.tests.iter().map(CaseRef::Scenario).collect(),
        AnyFile::X3dhAccept(f) => f.tests.iter().map(CaseRef::X3dhAccept).collect(),
        AnyFile::Pqxdh(f) => f.tests.iter().map(CaseRef::Pqxdh).collect(),
        AnyFile::PqxdhAccept(f) => f.tests.iter().map(CaseRef::PqxdhAccept).collect(),
    };
    cases
        .into_iter()
        .filter(|c| filter.case_matches(c.info()))
        .collect()
}

/// Runs one case from a fresh state ([`Implementation::reset`]). A case that
/// needs an undeclared capability is skipped without touching the
/// implementation; a case during which the implementation reported a
/// [`crate::Fault`] is errored, whatever its calls returned.
pub fn run_case(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    suite: &str,
    case: CaseRef<'_>,
    options: &RunOptions,
) -> Status {
    run_case_noting_alternatives(imp, caps, suite, case, options).0
}

/// [`run_case`], also returning the steps of a passed case that matched an
/// alternative outcome rather than the reference's.
pub fn run_case_noting_alternatives(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    suite: &str,
    case: CaseRef<'_>,
    options: &RunOptions,
) -> (Status, Alternatives) {
    let missing = capability::missing(caps, &capability::needs(suite, case));
    if !missing.is_empty() {
        return (skipped(missing), Vec::new());
    }
    imp.reset();
    let mut alternatives = Vec::new();
    let status = match case {
        CaseRef::Primitive(c) => run_primitive_case(imp, suite, c, options, &mut alternatives),
        CaseRef::X3dh(c) => run_x3dh_case(imp, suite, c, options, &mut alternatives),
        CaseRef::Scenario(c) => {
            run_scenario_noting_alternatives(imp, suite, c, options, &mut alternatives)
        }
        CaseRef::X3dhAccept(c) => run_accept_case(imp, suite, c, options, &mut alternatives),
        CaseRef::Pqxdh(c) => run_pqxdh_case(imp, suite, c, options, &mut alternatives),
        CaseRef::PqxdhAccept(c) => run_pqxdh_accept_case(imp, suite, c, options, &mut alternatives),
    };
    match imp.take_fault() {
        Some(fault) => (
            Status::Errored {
                message: fault.message,
                stderr: fault.stderr,
            },
            Vec::new(),
        ),
        None if status == Status::Passed => (status, alternatives),
        None => (status, Vec::new()),
    }
}

fn case_result(
    path: &str,
    suite: &str,
    case: CaseRef<'_>,
    (status, alternative_steps): (Status, Alternatives),
) -> CaseResult {
    let info = case.info();
    CaseResult {
        file: path.into(),
        suite: suite.into(),
        tc_id: info.tc_id,
        comment: info.comment.clone(),
        flags: info.flags.clone(),
        result: info.result,
        alternative_steps,
        status,
        needs: capability::needs(suite, case),
        step_count: case.step_count(),
    }
}

/// Runs every selected case of one loaded file.
pub fn run_file(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    path: &str,
    file: &AnyFile,
    options: &RunOptions,
    results: &mut Vec<CaseResult>,
) {
    if !options.filter.file_matches(path) {
        return;
    }
    let suite = file.suite();
    for case in selected_cases(file, &options.filter) {
        let outcome = run_case_noting_alternatives(imp, caps, suite, case, options);
        results.push(case_result(path, suite, case, outcome));
    }
}

/// Loads and runs every file below `paths`. Load errors are returned, not run.
pub fn run_paths(
    imp: &mut dyn Implementation,
    paths: &[std::path::PathBuf],
    options: &RunOptions,
    mut progress: impl FnMut(&Path, usize, usize),
) -> Result<Report, LoadError> {
    let files = collect(paths)?;
    let loaded = files
        .iter()
        .map(|p| load(p).map(|f| (p, f)))
        .collect::<Result<Vec<_>, _>>()?;
    let caps = imp.capabilities();
    let mut cases = Vec::new();
    for (i, (path, file)) in loaded.iter().enumerate() {
        progress(path, i + 1, loaded.len());
        run_file(
            imp,
            &caps,
            &path.display().to_string(),
            file,
            options,
            &mut cases,
        );
    }
    Ok(Report {
        implementation: format!("{} {}", caps.name, caps.version),
        cases,
    })
}

/// Loads every file below `paths` and runs the selected cases on several
/// implementations at once, one thread each: the `--jobs` mode, meant for
/// shims (one subprocess per implementation). Workers take the next case from
/// a shared queue, so a slow case does not hold back the others; the report
/// lists cases in file order, exactly as [`run_paths`] would. Skip decisions
/// use the first implementation's capabilities (callers check they agree).
/// `progress(done, total)` is called after each case, from worker threads.
pub fn run_paths_parallel(
    imps: &mut [Box<dyn Implementation + Send>],
    paths: &[std::path::PathBuf],
    options: &RunOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Report, LoadError> {
    let loaded = load_all(paths)?;
    Ok(run_loaded_parallel(imps, &loaded, options, progress))
}

/// Every vector file below `paths`, loaded, with its path as reports show it.
pub fn load_all(paths: &[std::path::PathBuf]) -> Result<Vec<(String, AnyFile)>, LoadError> {
    collect(paths)?
        .iter()
        .map(|p| load(p).map(|f| (p.display().to_string(), f)))
        .collect()
}

/// [`run_paths_parallel`] on files already loaded ([`load_all`]), so a caller
/// can check its filter against them first ([`select::unmatched`]).
pub fn run_loaded_parallel(
    imps: &mut [Box<dyn Implementation + Send>],
    loaded: &[(String, AnyFile)],
    options: &RunOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Report {
    use std::sync::atomic::{AtomicUsize, Ordering};

    let jobs: Vec<(&str, &str, CaseRef<'_>)> = loaded
        .iter()
        .filter(|(path, _)| options.filter.file_matches(path))
        .flat_map(|(path, file)| {
            selected_cases(file, &options.filter)
                .into_iter()
                .map(move |case| (path.as_str(), file.suite(), case))
        })
        .collect();
    let Some(first) = imps.first() else {
        let cases = jobs
            .iter()
            .map(|(path, suite, case)| {
                case_result(
                    path,
                    suite,
                    *case,
                    (
                        Status::Errored {
                            message: "no implementation to run the case on".into(),
                            stderr: None,
                        },
                        Vec::new(),
                    ),
                )
            })
            .collect();
        return Report {
            implementation: "none".into(),
            cases,
        };
    };
    let caps = first.capabilities();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let total = jobs.len();
    let mut statuses: Vec<Option<(Status, Alternatives)>> = vec![None; total];
    std::thread::scope(|scope| {
        let workers: Vec<_> = imps
            .iter_mut()
            .map(|imp| {
                let (jobs, caps, next, done) = (&jobs, &caps, &next, &done);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((_, suite, case)) = jobs.get(i) else {
                            break;
                        };
                        out.push((
                            i,
                            run_case_noting_alternatives(imp.as_mut(), caps, suite, *case, options),
                        ));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    }
                    out
                })
            })
            .collect();
        for worker in workers {
            // A worker that panicked leaves its cases without a status; they
            // are reported as errored below.
            if let Ok(results) = worker.join() {
                for (i, status) in results {
                    if let Some(slot) = statuses.get_mut(i) {
                        *slot = Some(status);
                    }
                }
            }
        }
    });
    let cases = jobs
        .iter()
        .zip(statuses)
        .map(|((path, suite, case), status)| {
            let status = status.unwrap_or_else(|| {
                (
                    Status::Errored {
                        message: "the worker running this case stopped unexpectedly".into(),
                        stderr: None,
                    },
                    Vec::new(),
                )
            });
            case_result(path, suite, *case, status)
        })
        .collect();
    Report {
        implementation: format!("{} {}", caps.name, caps.version),
        cases,
    }
}
