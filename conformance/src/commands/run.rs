//! `ratchetproof run`: the vectors against an implementation (the built-in
//! reference, or others through `--shim`), then the exit status from the
//! report, the coverage requirements and the known-failures list
//! (docs/CI.md). The text and JSON reports carry the run's provenance
//! ([`RunInfo`]: the vector-set hash, the implementation's declaration, the
//! mode; docs/RESULTS.md). The list's format and comparison live in
//! [`crate::runner::known`]; this module decides what a run's outcome is.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Console, Exit, Format, no_verdict, say, sayln, vector_paths};
use crate::implementation::Implementation;
use crate::reference::Reference;
use crate::runner::coverage::{self, Requirements};
use crate::runner::known::{self, KnownFailures};
use crate::runner::report_json::KnownList;
use crate::runner::{self, Report, RunInfo, RunOptions};
use crate::shim::{ShimClient, ShimConfig, StartError};

/// How to start the implementation under test behind a shim.
#[derive(Clone, Debug)]
pub struct ShimArgs {
    /// The shim command, run as `sh -c COMMAND` (docs/SHIM.md).
    pub command: String,
    /// Per-request timeout, handshake included, in milliseconds.
    pub timeout_ms: u64,
    /// Longest response line accepted, in bytes.
    pub max_line_bytes: usize,
}

/// The arguments of `ratchetproof run`.
#[derive(Clone, Debug)]
pub struct RunArgs {
    /// Vector files or folders (none: the repository's `vectors/`).
    pub paths: Vec<PathBuf>,
    /// Output format on stdout.
    pub format: Format,
    /// Also write a JUnit XML report here.
    pub junit: Option<PathBuf>,
    /// Also write the JSON result (docs/RESULTS.md) here.
    pub json: Option<PathBuf>,
    /// Strictness and case selection.
    pub options: RunOptions,
    /// The implementation behind a shim (none: the reference).
    pub shim: Option<ShimArgs>,
    /// Implementations (shim processes) run in parallel.
    pub jobs: u16,
    /// Cases expected not to pass, and how.
    pub known_failures: Option<PathBuf>,
    /// Record the cases that did not pass here instead of judging.
    pub write_known_failures: Option<PathBuf>,
    /// Suites every selected case of which must execute.
    pub require_suites: Vec<String>,
    /// Operation groups (by name) every selected case of which must execute.
    pub require_operations: Vec<String>,
    /// Every selected case must execute.
    pub require_all: bool,
    /// At least this many cases must execute.
    pub min_executed: Option<usize>,
}

/// Runs the vectors and judges the report ([`finish`]).
pub fn run(args: RunArgs, console: &mut Console<'_>) -> Exit {
    let paths = match vector_paths(args.paths) {
        Ok(p) => p,
        Err(e) => return no_verdict(console, e),
    };
    let known = match args.known_failures.as_deref().map(read_known).transpose() {
        Ok(k) => k,
        Err(e) => return no_verdict(console, e),
    };
    let requirements = match requirements(
        args.require_suites,
        &args.require_operations,
        args.require_all,
        args.min_executed,
    ) {
        Ok(r) => r,
        Err(e) => return no_verdict(console, e),
    };
    let loaded = match runner::load_all(&paths) {
        Ok(l) => l,
        Err(e) => return no_verdict(console, e),
    };
    let unmatched = runner::select::unmatched(&loaded, &args.options.filter);
    if !unmatched.is_empty() {
        for u in &unmatched {
            sayln!(console.err, "error: {u}");
        }
        return Exit::NoVerdict;
    }
    let started = Instant::now();
    let mut imps = match implementations(args.shim.as_ref(), args.jobs, console.err) {
        Ok(imps) => imps,
        Err(e) => return no_verdict(console, e),
    };
    let Some(caps) = imps.first().map(|imp| imp.capabilities()) else {
        return no_verdict(console, "no implementation to run the cases on");
    };
    let (info, warnings) = RunInfo::gather(&caps, &args.options, &loaded);
    for w in warnings {
        sayln!(console.err, "warning: {w}");
    }
    let tty = console.progress;
    let progress = |done: usize, total: usize| {
        if tty && (done.is_multiple_of(16) || done == total) {
            let mut stderr = std::io::stderr();
            let _ = write!(stderr, "\r\x1b[K[{done}/{total}] cases");
            let _ = stderr.flush();
        }
    };
    let report = runner::run_loaded_parallel(&mut imps, &loaded, &args.options, &progress);
    drop(imps);
    if tty {
        say!(console.err, "\r\x1b[K");
    }
    let list_path = args
        .known_failures
        .as_deref()
        .map(|p| p.display().to_string());
    let list = list_path
        .as_deref()
        .zip(known.as_ref())
        .map(|(path, list)| KnownList { path, list });
    let json = (args.format == Format::Json || args.json.is_some())
        .then(|| report.to_json_with(&info, list));
    match (args.format, &json) {
        (Format::Json, Some(json)) => sayln!(console.out, "{json}"),
        _ => say!(console.out, "{}", report.to_text_with(&info)),
    }
    sayln!(
        console.err,
        "ran {} cases in {:.3} s ({} job{})",
        report.cases.len(),
        started.elapsed().as_secs_f64(),
        args.jobs,
        if args.jobs == 1 { "" } else { "s" }
    );
    if let (Some(path), Some(json)) = (&args.json, &json)
        && let Err(e) = write_creating_folders(path, &format!("{json}\n"))
    {
        return no_verdict(console, format!("writing {}: {e}", path.display()));
    }
    if let Some(path) = args.junit {
        match report.to_junit() {
            Ok(xml) => {
                if let Err(e) = std::fs::write(&path, xml) {
                    return no_verdict(console, format!("writing {}: {e}", path.display()));
                }
            }
            Err(e) => return no_verdict(console, format!("JUnit report: {e}")),
        }
    }
    finish(
        &report,
        &requirements,
        known.as_ref(),
        args.write_known_failures.as_deref(),
        console.err,
    )
}

/// Writes `text` to `path`, creating its folder if missing (`--json
/// results/peer.json` in a fresh checkout).
fn write_creating_folders(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// Reads and parses a known-failures list; errors name the file (and line).
pub fn read_known(path: &Path) -> Result<KnownFailures, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    KnownFailures::parse(&text).map_err(|e| format!("{}:{e}", path.display()))
}

/// The coverage requirements asked for; an unknown operation group is an
/// error that lists the known ones.
pub fn requirements(
    suites: Vec<String>,
    operations: &[String],
    all: bool,
    min_executed: Option<usize>,
) -> Result<Requirements, String> {
    let mut requirements = Requirements {
        suites,
        operations: Vec::new(),
        all,
        min_executed,
    };
    for name in operations {
        match coverage::operation_named(name) {
            Some(op) => requirements.operations.push(op),
            None => {
                let known: Vec<_> = coverage::OPERATIONS.iter().map(|o| o.as_str()).collect();
                return Err(format!(
                    "--require-operation {name}: no such operation group; known: {}",
                    known.join(", ")
                ));
            }
        }
    }
    Ok(requirements)
}

/// `jobs` implementations: shim clients (started in parallel, which must all
/// declare the same capabilities; the first one's are logged to `log`) or,
/// without a shim, in-process references.
pub fn implementations(
    shim: Option<&ShimArgs>,
    jobs: u16,
    log: &mut dyn Write,
) -> Result<Vec<Box<dyn Implementation + Send>>, String> {
    let Some(shim) = shim else {
        return Ok((0..jobs)
            .map(|_| Box::new(Reference::new()) as Box<dyn Implementation + Send>)
            .collect());
    };
    let mut config = ShimConfig::new(shim.command.clone());
    config.timeout = std::time::Duration::from_millis(shim.timeout_ms);
    config.max_line_bytes = shim.max_line_bytes;
    let started: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|_| scope.spawn(|| ShimClient::start(config.clone())))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(start_panicked(&config.command)))
            })
            .collect()
    });
    let mut clients = Vec::new();
    for client in started {
        clients.push(client.map_err(|e| e.to_string())?);
    }
    if let Some(first) = clients.first() {
        let caps = first.capabilities();
        if clients.iter().any(|c| c.capabilities() != caps) {
            return Err("the shim processes declared different capabilities".into());
        }
        sayln!(
            log,
            "shim: {} {} (suites: {}; operations: {})",
            caps.name,
            caps.version,
            caps.suites.join(", "),
            caps.operations
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(clients
        .into_iter()
        .map(|c| Box::new(c) as Box<dyn Implementation + Send>)
        .collect())
}

fn start_panicked(command: &str) -> StartError {
    StartError {
        command: command.into(),
        message: "starting the shim panicked".into(),
        stderr: String::new(),
    }
}

/// The exit status of `run` once the report is printed: no verdict when the
/// run gives none (a coverage requirement unmet, which includes nothing
/// executed), else the recording of `write_to`, the comparison with `known`,
/// or pass/fail. Explanations go to `log`.
pub fn finish(
    report: &Report,
    requirements: &Requirements,
    known: Option<&KnownFailures>,
    write_to: Option<&Path>,
    log: &mut dyn Write,
) -> Exit {
    let unmet = coverage::check(report, requirements);
    for u in &unmet {
        sayln!(log, "error: {u}");
    }
    if !unmet.is_empty() {
        for s in report.skipped_because() {
            sayln!(
                log,
                "  skipped: {} not declared ({} cases)",
                s.capability,
                s.cases
            );
        }
        if write_to.is_some() {
            sayln!(
                log,
                "error: no known-failures list written: the run gave no verdict"
            );
        }
        return Exit::NoVerdict;
    }
    if let Some(path) = write_to {
        return record(report, path, log);
    }
    match known {
        Some(known) => {
            let comparison = known::compare(report, known);
            for line in comparison.lines(known.entries.len()) {
                sayln!(log, "{line}");
            }
            Exit::verdict(comparison.is_clean())
        }
        None => Exit::verdict(report.success()),
    }
}

/// `--write-known-failures`: the cases that did not pass, written to `path`
/// keeping the comments of the list already there.
fn record(report: &Report, path: &Path, log: &mut dyn Write) -> Exit {
    let previous = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            sayln!(log, "error: {}: {e}", path.display());
            return Exit::NoVerdict;
        }
    };
    let header = format!(
        "Cases {} is known not to pass, and how (docs/CI.md).\nExplain each entry in a comment above it.",
        report.implementation
    );
    let recorded = match known::record(report, previous.as_deref(), &header) {
        Ok(r) => r,
        Err(e) => {
            sayln!(log, "error: {}:{e}", path.display());
            return Exit::NoVerdict;
        }
    };
    if let Err(e) = std::fs::write(path, &recorded.text) {
        sayln!(log, "error: writing {}: {e}", path.display());
        return Exit::NoVerdict;
    }
    sayln!(
        log,
        "wrote {}: {} entries ({} new, {} with another outcome than listed, {} dropped as no longer failing)",
        path.display(),
        recorded.entries,
        recorded.added,
        recorded.changed,
        recorded.removed
    );
    Exit::Success
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use crate::mutants::{Bug, Mutant};

    fn primitives() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vectors/x25519-sha256-aes256gcm/primitives.json")
    }

    /// The primitives file run against `imp`.
    fn report(imp: &mut dyn Implementation) -> Report {
        runner::run_paths(imp, &[primitives()], &RunOptions::default(), |_, _, _| {}).unwrap()
    }

    fn none() -> Requirements {
        requirements(Vec::new(), &[], false, None).unwrap()
    }

    fn finish_logged(
        report: &Report,
        requirements: &Requirements,
        known: Option<&KnownFailures>,
        write_to: Option<&Path>,
    ) -> (Exit, String) {
        let mut log = Vec::new();
        let exit = finish(report, requirements, known, write_to, &mut log);
        (exit, String::from_utf8(log).unwrap())
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ratchetproof-commands-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_passing_run_succeeds_and_a_failing_one_fails() {
        let (exit, log) = finish_logged(&report(&mut Reference::new()), &none(), None, None);
        assert_eq!((exit, log.as_str()), (Exit::Success, ""));
        let failing = report(&mut Mutant::with(Bug::KdfCkConstantsSwapped));
        assert!(!failing.success());
        assert_eq!(
            finish_logged(&failing, &none(), None, None).0,
            Exit::Failure
        );
    }

    #[test]
    fn an_unmet_requirement_gives_no_verdict_and_writes_no_list() {
        let passing = report(&mut Reference::new());
        let wanted = requirements(vec!["no-such-suite".into()], &[], false, None).unwrap();
        let dir = scratch("unmet");
        let list = dir.join("known.txt");
        let (exit, log) = finish_logged(&passing, &wanted, None, Some(&list));
        assert_eq!(exit, Exit::NoVerdict);
        assert!(log.starts_with("error: "), "{log}");
        assert!(
            log.contains("error: no known-failures list written: the run gave no verdict"),
            "{log}"
        );
        assert!(!list.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_recorded_list_is_written_and_then_absorbs_exactly_those_failures() {
        let failing = report(&mut Mutant::with(Bug::KdfCkConstantsSwapped));
        let dir = scratch("record");
        let list = dir.join("known.txt");
        let (exit, log) = finish_logged(&failing, &none(), None, Some(&list));
        assert_eq!(exit, Exit::Success, "{log}");
        assert!(
            log.starts_with(&format!("wrote {}: ", list.display())),
            "{log}"
        );
        let known = read_known(&list).unwrap();
        assert!(!known.entries.is_empty());
        assert_eq!(
            finish_logged(&failing, &none(), Some(&known), None).0,
            Exit::Success
        );
        // The list no longer matches a run that passes: its entries are stale.
        let (exit, log) =
            finish_logged(&report(&mut Reference::new()), &none(), Some(&known), None);
        assert_eq!(exit, Exit::Failure);
        assert!(!log.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unreadable_lists_and_unknown_operation_groups_are_errors_naming_them() {
        let missing = Path::new("/nonexistent/known.txt");
        let e = read_known(missing).unwrap_err();
        assert!(e.starts_with("/nonexistent/known.txt: "), "{e}");
        let e = requirements(Vec::new(), &["sessions".into()], false, None).unwrap_err();
        assert!(
            e.starts_with(
                "--require-operation sessions: no such operation group; known: primitives, "
            ),
            "{e}"
        );
        let r = requirements(vec!["s".into()], &["session".into()], true, Some(3)).unwrap();
        assert_eq!(r.operations.len(), 1);
        assert!(r.all && r.min_executed == Some(3) && r.suites == ["s"]);
    }

    #[test]
    fn without_a_shim_every_job_gets_a_reference() {
        let mut log = Vec::new();
        let imps = implementations(None, 3, &mut log).unwrap();
        assert_eq!(imps.len(), 3);
        assert!(log.is_empty());
    }

    #[test]
    fn a_shim_that_cannot_start_is_an_error() {
        let shim = ShimArgs {
            command: "exit 3".into(),
            timeout_ms: 2_000,
            max_line_bytes: crate::shim::DEFAULT_MAX_LINE_BYTES,
        };
        let mut log = Vec::new();
        assert!(implementations(Some(&shim), 2, &mut log).is_err());
    }
}
