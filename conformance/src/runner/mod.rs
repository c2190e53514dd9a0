//! The runner: validates an [`Implementation`] against vector files.
//!
//! Each case runs from a fresh state ([`Implementation::reset`]); a case that
//! needs something the implementation does not declare (a suite, an
//! operation, clone support, other exact limits) is skipped with the reason —
//! never passed, never failed.

pub mod capability;
pub mod coverage;
pub mod erasure;
pub mod known;
pub mod load;
pub mod report;
pub mod select;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::generate::primitives::run as run_primitive;
use crate::generate::x3dh::{initiate_request, respond_request};
use crate::implementation::{
    Capabilities, ImplError, Implementation, Role, SessionHandle, SessionInit, X3dhAccept,
};
use crate::vectors::{
    AcceptCase, AnyFile, CaseInfo, Outcome, PrimitiveCase, ScenarioCase, Step, X3dhCase,
};

pub use capability::Capability;
pub use load::{LoadError, collect, default_vectors_dir, load};

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
    /// The outcome.
    #[serde(flatten)]
    pub status: Status,
    /// Everything the case needs from an implementation (coverage checks).
    #[serde(skip)]
    pub needs: Vec<Capability>,
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

/// Compares an implementation's error with the vector's expected class.
fn error_matches(expected: &str, actual: &ImplError, options: &RunOptions) -> bool {
    !options.strict_errors || actual.class.as_str() == expected
}

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
}

impl CaseRef<'_> {
    /// The case's tcId, comment, flags and verdict.
    pub fn info(&self) -> &CaseInfo {
        match self {
            CaseRef::Primitive(c) => &c.info,
            CaseRef::X3dh(c) => &c.info,
            CaseRef::Scenario(c) => &c.info,
            CaseRef::X3dhAccept(c) => &c.info,
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
    let missing = capability::missing(caps, &capability::needs(suite, case));
    if !missing.is_empty() {
        return skipped(missing);
    }
    imp.reset();
    let status = match case {
        CaseRef::Primitive(c) => run_primitive_case(imp, suite, c, options),
        CaseRef::X3dh(c) => run_x3dh_case(imp, suite, c, options),
        CaseRef::Scenario(c) => run_scenario(imp, suite, c, options),
        CaseRef::X3dhAccept(c) => run_accept_case(imp, suite, c, options),
    };
    match imp.take_fault() {
        Some(fault) => Status::Errored {
            message: fault.message,
            stderr: fault.stderr,
        },
        None => status,
    }
}

fn case_result(path: &str, suite: &str, case: CaseRef<'_>, status: Status) -> CaseResult {
    let info = case.info();
    CaseResult {
        file: path.into(),
        suite: suite.into(),
        tc_id: info.tc_id,
        comment: info.comment.clone(),
        flags: info.flags.clone(),
        status,
        needs: capability::needs(suite, case),
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
        let status = run_case(imp, caps, suite, case, options);
        results.push(case_result(path, suite, case, status));
    }
}

fn run_primitive_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &PrimitiveCase,
    options: &RunOptions,
) -> Status {
    let got = run_primitive(imp, suite, &case.input);
    match (&case.expected, got) {
        (Outcome::Ok(want), Ok(got)) if *want == got => Status::Passed,
        (Outcome::Ok(want), Ok(got)) => failed(None, format!("{want:?}"), format!("{got:?}")),
        (Outcome::Ok(want), Err(e)) => failed(None, format!("{want:?}"), format!("error {e}")),
        (Outcome::Error { error }, Err(e)) if error_matches(error, &e, options) => Status::Passed,
        (Outcome::Error { error }, Err(e)) => {
            failed(None, format!("error {error}"), format!("error {e}"))
        }
        (Outcome::Error { error }, Ok(got)) => {
            failed(None, format!("error {error}"), format!("success {got:?}"))
        }
    }
}

fn run_x3dh_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &X3dhCase,
    options: &RunOptions,
) -> Status {
    let mut outputs = Vec::new();
    if let Some(i) = &case.initiator {
        outputs.push(("initiator", imp.x3dh_initiate(&initiate_request(suite, i))));
    }
    if let Some(r) = &case.responder {
        outputs.push(("responder", imp.x3dh_respond(&respond_request(suite, r))));
    }
    match &case.expected {
        Outcome::Ok(want) => {
            for (side, got) in outputs {
                match got {
                    Ok(o)
                        if o.shared_key == want.shared_key.0
                            && o.associated_data == want.associated_data.0 => {}
                    Ok(o) => {
                        return failed(
                            None,
                            format!(
                                "{side}: SK {} AD {}",
                                hex(&want.shared_key.0),
                                hex(&want.associated_data.0)
                            ),
                            format!("SK {} AD {}", hex(&o.shared_key), hex(&o.associated_data)),
                        );
                    }
                    Err(e) => {
                        return failed(None, format!("{side}: agreement"), format!("error {e}"));
                    }
                }
            }
            Status::Passed
        }
        Outcome::Error { error } => {
            // The case is invalid if the side that sees the bad input refuses it.
            let refused: Vec<&ImplError> = outputs
                .iter()
                .filter_map(|(_, o)| o.as_ref().err())
                .collect();
            match refused.first() {
                Some(e) if error_matches(error, e, options) => Status::Passed,
                Some(e) => failed(None, format!("error {error}"), format!("error {e}")),
                None => failed(None, format!("error {error}"), "the agreement succeeded"),
            }
        }
    }
}

/// Bob's prekey store receives the case's initial messages in order; each
/// must give what the case states.
fn run_accept_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &AcceptCase,
    options: &RunOptions,
) -> Status {
    let r = &case.responder;
    let prekeys = |list: &[crate::vectors::PrekeyEntry]| {
        list.iter()
            .map(|p| (p.id, p.private_key.0.clone()))
            .collect::<Vec<_>>()
    };
    let request = X3dhAccept {
        suite: suite.into(),
        identity_private_key: r.identity_private_key.0.clone(),
        signed_prekeys: prekeys(&r.signed_prekeys),
        one_time_prekeys: prekeys(&r.one_time_prekeys),
        ratchet_private_keys: r.ratchet_private_keys.iter().map(|k| k.0.clone()).collect(),
        initial_messages: case
            .initial_messages
            .iter()
            .map(|m| m.message.0.clone())
            .collect(),
    };
    let outcomes = match imp.x3dh_accept(&request) {
        Ok(o) if o.len() == case.initial_messages.len() => o,
        Ok(o) => {
            return failed(
                None,
                format!("{} outcomes", case.initial_messages.len()),
                format!("{} outcomes", o.len()),
            );
        }
        Err(e) => return failed(None, "the prekey store is set up", format!("error {e}")),
    };
    for (index, (delivery, got)) in case.initial_messages.iter().zip(outcomes).enumerate() {
        let step = Some(index);
        match (&delivery.expected, got) {
            (Outcome::Ok(want), Ok(got))
                if got.plaintext == want.plaintext.0
                    && got.associated_data == want.associated_data.0
                    && got.peer_identity_key == want.peer_identity_key.0 => {}
            (Outcome::Ok(want), Ok(got)) => {
                return failed(
                    step,
                    format!(
                        "initial message {index} accepted: plaintext {} AD {} IKa {}",
                        hex(&want.plaintext.0),
                        hex(&want.associated_data.0),
                        hex(&want.peer_identity_key.0)
                    ),
                    format!(
                        "plaintext {} AD {} IKa {}",
                        hex(&got.plaintext),
                        hex(&got.associated_data),
                        hex(&got.peer_identity_key)
                    ),
                );
            }
            (Outcome::Ok(_), Err(e)) => {
                return failed(
                    step,
                    format!("initial message {index} accepted"),
                    format!("error {e}"),
                );
            }
            (Outcome::Error { error }, Err(e)) if error_matches(error, &e, options) => {}
            (Outcome::Error { error }, Err(e)) => {
                return failed(
                    step,
                    format!("initial message {index} refused ({error})"),
                    format!("error {e}"),
                );
            }
            (Outcome::Error { error }, Ok(got)) => {
                return failed(
                    step,
                    format!("initial message {index} refused ({error})"),
                    format!("accepted, plaintext {}", hex(&got.plaintext)),
                );
            }
        }
    }
    Status::Passed
}

/// Runs one scenario.
pub fn run_scenario(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &ScenarioCase,
    options: &RunOptions,
) -> Status {
    let setup = &case.setup;
    let keys = |list: &[crate::vectors::Hex]| list.iter().map(|k| k.0.clone()).collect::<Vec<_>>();
    let mut parties: BTreeMap<String, SessionHandle> = BTreeMap::new();
    for (name, role, ratchet_key, list) in [
        (
            "alice",
            Role::Alice,
            &setup.bob_ratchet_public_key,
            &setup.alice.ratchet_private_keys,
        ),
        (
            "bob",
            Role::Bob,
            &setup.bob_ratchet_private_key,
            &setup.bob.ratchet_private_keys,
        ),
    ] {
        let init = SessionInit {
            suite: suite.into(),
            role,
            shared_key: setup.shared_key.0.clone(),
            ratchet_key: ratchet_key.0.clone(),
            ratchet_private_keys: keys(list),
            max_skip: case.limits.map(|l| l.max_skip),
            max_stored_skipped_keys: case.limits.map(|l| l.max_stored_skipped_keys),
        };
        match imp.init_session(&init) {
            Ok(h) => {
                parties.insert(name.into(), h);
            }
            Err(e) => return failed(None, format!("{name} session starts"), format!("error {e}")),
        }
    }
    let mut sent: Vec<Vec<u8>> = Vec::new();
    for (index, step) in case.steps.iter().enumerate() {
        let step_no = Some(index);
        let Some(&handle) = parties.get(step_party(step)) else {
            return Status::Errored {
                message: format!("step {index} names unknown party {:?}", step_party(step)),
                stderr: None,
            };
        };
        match step {
            Step::Send {
                party,
                plaintext,
                ad,
                expected,
            } => {
                let ad = ad.as_ref().unwrap_or(&setup.associated_data);
                let got = imp.encrypt(handle, plaintext.as_slice(), ad.as_slice());
                match (expected, got) {
                    (Outcome::Ok(want), Ok(wire)) if wire == want.message.0 => sent.push(wire),
                    (Outcome::Ok(want), Ok(wire)) => {
                        return failed(
                            step_no,
                            format!("{party} sends {}", hex(&want.message.0)),
                            format!("sent {}", hex(&wire)),
                        );
                    }
                    (Outcome::Ok(_), Err(e)) => {
                        return failed(step_no, format!("{party} sends"), format!("error {e}"));
                    }
                    (Outcome::Error { error }, Err(e)) if error_matches(error, &e, options) => {}
                    (Outcome::Error { error }, other) => {
                        return failed(
                            step_no,
                            format!("{party} cannot send ({error})"),
                            sent_or_error(&other),
                        );
                    }
                }
            }
            Step::Deliver {
                party,
                message,
                bytes,
                ad,
                expected,
            } => {
                let wire = match (message, bytes) {
                    (Some(i), None) => match sent.get(*i) {
                        Some(w) => w.clone(),
                        None => {
                            return Status::Errored {
                                message: format!(
                                    "step {index} delivers message {i}, which was not sent"
                                ),
                                stderr: None,
                            };
                        }
                    },
                    (None, Some(b)) => b.0.clone(),
                    _ => {
                        return Status::Errored {
                            message: format!(
                                "step {index} must name exactly one of message and bytes"
                            ),
                            stderr: None,
                        };
                    }
                };
                let ad = ad.as_ref().unwrap_or(&setup.associated_data);
                let what = match message {
                    Some(i) => format!("message {i}"),
                    None => format!("bytes {}", hex(&wire)),
                };
                let got = imp.decrypt(handle, &wire, ad.as_slice());
                match (expected, got) {
                    (Outcome::Ok(want), Ok(p)) if p == want.plaintext.0 => {}
                    (Outcome::Ok(want), Ok(p)) => {
                        return failed(
                            step_no,
                            format!("{party} decrypts {what} to {}", hex(&want.plaintext.0)),
                            format!("plaintext {}", hex(&p)),
                        );
                    }
                    (Outcome::Ok(want), Err(e)) => {
                        return failed(
                            step_no,
                            format!("{party} decrypts {what} to {}", hex(&want.plaintext.0)),
                            format!("error {e}"),
                        );
                    }
                    (Outcome::Error { error }, Err(e)) if error_matches(error, &e, options) => {}
                    (Outcome::Error { error }, Err(e)) => {
                        return failed(
                            step_no,
                            format!("{party} refuses {what} ({error})"),
                            format!("error {e}"),
                        );
                    }
                    (Outcome::Error { error }, Ok(p)) => {
                        return failed(
                            step_no,
                            format!("{party} refuses {what} ({error})"),
                            format!("accepted, plaintext {}", hex(&p)),
                        );
                    }
                }
            }
            Step::Capture {
                party,
                name,
                ratchet_private_keys,
                erased_secrets,
            } => {
                if let Some(failure) = erasure::check(imp, handle, party, index, erased_secrets) {
                    return failure;
                }
                match imp.clone_session(handle, &keys(ratchet_private_keys)) {
                    Ok(h) => {
                        parties.insert(name.clone(), h);
                    }
                    Err(e) => {
                        return failed(
                            step_no,
                            format!("capture {party} as {name}"),
                            format!("error {e}"),
                        );
                    }
                }
            }
        }
    }
    Status::Passed
}

/// What a send that should have been refused did, in the report's words
/// (`error CLASS: …` is what known-failures lists read the class from).
fn sent_or_error(got: &Result<Vec<u8>, ImplError>) -> String {
    match got {
        Ok(wire) => format!("sent {}", hex(wire)),
        Err(e) => format!("error {e}"),
    }
}

fn step_party(step: &Step) -> &str {
    match step {
        Step::Send { party, .. } | Step::Deliver { party, .. } | Step::Capture { party, .. } => {
            party
        }
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
                    Status::Errored {
                        message: "no implementation to run the case on".into(),
                        stderr: None,
                    },
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
    let mut statuses: Vec<Option<Status>> = vec![None; total];
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
                        out.push((i, run_case(imp.as_mut(), caps, suite, *case, options)));
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
            let status = status.unwrap_or_else(|| Status::Errored {
                message: "the worker running this case stopped unexpectedly".into(),
                stderr: None,
            });
            case_result(path, suite, *case, status)
        })
        .collect();
    Report {
        implementation: format!("{} {}", caps.name, caps.version),
        cases,
    }
}
