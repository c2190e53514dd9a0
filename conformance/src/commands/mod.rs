//! What each `ratchetproof` subcommand does once its arguments are parsed.
//!
//! `main.rs` only parses the command line (clap) and dispatches here, so the
//! decisions that give a run its exit status — loading, known failures,
//! coverage requirements, recording a list, the mutant table's verdict — are
//! library code with tests. Output goes to a [`Console`] instead of the
//! process's streams, so a test can read what a command would print.
//! This module knows nothing of argument syntax.

pub mod explore;
pub mod interop_explore;
pub mod report;
pub mod run;

use std::io::Write;
use std::path::PathBuf;

use crate::generate;
use crate::mutant_table::{self, Budget, TableOptions};
use crate::mutants::Bug;
use crate::runner;
use crate::shim::{ShimClient, ShimConfig};

pub use explore::ExploreArgs;
pub use report::ReportArgs;
pub use run::{RunArgs, ShimArgs, finish, implementations, read_known, requirements};

/// How a command ended; the process exits with [`Exit::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: passed, or the requested files were written.
    Success,
    /// 1: a verdict, and it is a failure.
    Failure,
    /// 2: no verdict: bad arguments, unreadable input, an unmet requirement.
    NoVerdict,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::NoVerdict => 2,
        }
    }

    /// `Success` when `passed`, else `Failure`.
    pub fn verdict(passed: bool) -> Exit {
        if passed { Exit::Success } else { Exit::Failure }
    }
}

/// Where a command writes: its results (stdout) and its diagnostics (stderr).
pub struct Console<'a> {
    /// Results: the report, the table, the files written.
    pub out: &'a mut dyn Write,
    /// Diagnostics: errors, summaries, known-failure comparisons.
    pub err: &'a mut dyn Write,
    /// Stderr is a terminal: `run` shows a progress line there.
    pub progress: bool,
}

// Output that cannot be written (a closed pipe) is dropped: the exit status
// still carries the verdict.
macro_rules! say {
    ($w:expr, $($arg:tt)*) => {{
        let _ = write!($w, $($arg)*);
    }};
}
macro_rules! sayln {
    ($w:expr, $($arg:tt)*) => {{
        let _ = writeln!($w, $($arg)*);
    }};
}
pub(crate) use {say, sayln};

/// Output format of `run` and `mutants` on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// JSON.
    Json,
}

/// The vector files or folders given, or the repository's `vectors/` when none.
pub fn vector_paths(given: Vec<PathBuf>) -> Result<Vec<PathBuf>, String> {
    if given.is_empty() {
        Ok(vec![runner::default_vectors_dir()?])
    } else {
        Ok(given)
    }
}

/// Prints `error: {e}` and gives up without a verdict.
fn no_verdict(console: &mut Console<'_>, e: impl std::fmt::Display) -> Exit {
    sayln!(console.err, "error: {e}");
    Exit::NoVerdict
}

/// `ratchetproof generate`: writes every vector file to `out` (default: the
/// repository's `vectors/`), or with `check` verifies them (1 when stale).
pub fn generate(out: Option<PathBuf>, check: bool, console: &mut Console<'_>) -> Exit {
    let out = match out.map_or_else(runner::default_vectors_dir, Ok) {
        Ok(p) => p,
        Err(e) => return no_verdict(console, e),
    };
    let files = match generate::generate() {
        Ok(f) => f,
        Err(e) => return no_verdict(console, format!("generation failed: {e}")),
    };
    if check {
        let stale = generate::check(&out, &files);
        if stale.is_empty() {
            sayln!(
                console.out,
                "{} vector files in {} are up to date",
                files.len(),
                out.display()
            );
            return Exit::Success;
        }
        for p in &stale {
            sayln!(
                console.err,
                "stale: {} (run `ratchetproof generate`)",
                out.join(p).display()
            );
        }
        return Exit::Failure;
    }
    if let Err(e) = generate::write(&out, &files) {
        return no_verdict(console, e);
    }
    for f in &files {
        sayln!(console.out, "wrote {}", out.join(&f.path).display());
    }
    Exit::Success
}

/// `ratchetproof interop`: 0 when both conversations pass, 1 when one fails,
/// 2 when the shim cannot be started.
pub fn interop(
    shim: String,
    suite: &str,
    one_time_prekey: bool,
    timeout_ms: u64,
    console: &mut Console<'_>,
) -> Exit {
    if let Err(e) = crate::interop::check_suite(suite, one_time_prekey) {
        return no_verdict(console, e);
    }
    let mut config = ShimConfig::new(shim);
    config.timeout = std::time::Duration::from_millis(timeout_ms);
    let mut peer = match ShimClient::start(config) {
        Ok(p) => p,
        Err(e) => return no_verdict(console, e),
    };
    if let Err(e) = crate::interop::check_peer(&peer, suite) {
        return no_verdict(console, e);
    }
    let mut failed = false;
    for outcome in crate::interop::live_both_ways(&mut peer, suite, one_time_prekey) {
        match outcome {
            Ok(r) => sayln!(
                console.out,
                "passed  {}: {} messages to Bob, {} to Alice, {} DH ratchet steps, out of order and across steps",
                r.direction,
                r.to_bob,
                r.to_alice,
                r.ratchet_steps
            ),
            Err(e) => {
                failed = true;
                sayln!(console.out, "FAILED  {e}");
            }
        }
    }
    Exit::verdict(!failed)
}

/// `ratchetproof interop --check-keys`: the PQXDH live key check
/// ([`crate::interop::keys`]). Exit 0 when every key the implementation
/// holds agrees and its first message opens, 1 when one differs, 2 when the
/// check could not run.
pub fn interop_check_keys(
    shim: String,
    suite: &str,
    timeout_ms: u64,
    console: &mut Console<'_>,
) -> Exit {
    let mut config = ShimConfig::new(shim);
    config.timeout = std::time::Duration::from_millis(timeout_ms);
    let mut peer = match ShimClient::start(config) {
        Ok(p) => p,
        Err(e) => return no_verdict(console, e),
    };
    let report = match crate::interop::keys::check_keys(&mut peer, suite) {
        Ok(r) => r,
        Err(e) => return no_verdict(console, e),
    };
    sayln!(
        console.out,
        "{} as Alice in {suite}; the reference as Bob derives PQXDH from her initial message",
        report.implementation
    );
    for c in &report.comparisons {
        let verdict = match c.agrees {
            Some(true) => "agrees ",
            Some(false) => "DIFFERS",
            None => "not held",
        };
        sayln!(console.out, "{verdict}  {}", c.what);
    }
    use crate::interop::keys::FirstMessage;
    match &report.first_message {
        FirstMessage::Classical => sayln!(
            console.out,
            "opens    the first message under the suite's own message keys"
        ),
        FirstMessage::NeedsSpqr => sayln!(
            console.out,
            "skipped  the first message does not open under the suite's keys: it needs SPQR (docs/SPQR.md); it opens under SPQR's epoch-0 key derived from the same PQXDH output"
        ),
        FirstMessage::Refused(why) => sayln!(console.out, "FAILED   the first message: {why}"),
    }
    Exit::verdict(report.passed())
}

/// The arguments of `ratchetproof mutants`.
#[derive(Clone, Debug)]
pub struct MutantsArgs {
    /// Vector folder or files (none: the repository's `vectors/`).
    pub vectors: Vec<PathBuf>,
    /// Output format on stdout.
    pub format: Format,
    /// Only these mutants, by [`Bug::name`] (all when empty).
    pub names: Vec<String>,
    /// Seeded action sequences per model-property configuration.
    pub property_runs: u32,
    /// Rows computed in parallel (none: the number of CPUs).
    pub jobs: Option<usize>,
}

/// The table options `mutants` asks for; an unknown mutant name is an error
/// that lists the known ones.
pub fn table_options(
    names: &[String],
    property_runs: u32,
    jobs: Option<usize>,
) -> Result<TableOptions, String> {
    let mut only = Vec::new();
    for name in names {
        match Bug::from_name(name) {
            Some(bug) => only.push(bug),
            None => {
                let known: Vec<_> = Bug::ALL.iter().map(|b| b.name()).collect();
                return Err(format!("no mutant {name:?}; known: {}", known.join(", ")));
            }
        }
    }
    let defaults = TableOptions::default();
    Ok(TableOptions {
        budget: Budget {
            model_runs: property_runs,
            ..Budget::DEFAULT
        },
        jobs: jobs.unwrap_or(defaults.jobs),
        only,
    })
}

/// `ratchetproof mutants`: prints the known-bug table; 1 when a mutant
/// survives or the vectors miss one they must catch (docs/MUTANTS.md).
pub fn mutants(args: MutantsArgs, console: &mut Console<'_>) -> Exit {
    let paths = match vector_paths(args.vectors) {
        Ok(p) => p,
        Err(e) => return no_verdict(console, e),
    };
    let options = match table_options(&args.names, args.property_runs, args.jobs) {
        Ok(o) => o,
        Err(e) => return no_verdict(console, e),
    };
    let table = match mutant_table::build(&paths, &options) {
        Ok(t) => t,
        Err(e) => return no_verdict(console, e),
    };
    match args.format {
        Format::Text => say!(console.out, "{}", table.to_text()),
        Format::Json => sayln!(console.out, "{}", table.to_json()),
    }
    let (caught, total) = table.score();
    sayln!(
        console.err,
        "{caught}/{total} mutants caught in {:.1} s ({} job{})",
        table.seconds,
        options.jobs,
        if options.jobs == 1 { "" } else { "s" }
    );
    Exit::verdict(table.success())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Failure.code(), 1);
        assert_eq!(Exit::NoVerdict.code(), 2);
        assert_eq!(Exit::verdict(true), Exit::Success);
        assert_eq!(Exit::verdict(false), Exit::Failure);
    }

    #[test]
    fn table_options_take_known_names_and_refuse_others_listing_the_known() {
        let names = vec!["fixed-nonce".to_string(), "no-skip-bound".to_string()];
        let options = table_options(&names, 7, Some(3)).unwrap();
        assert_eq!(options.only, vec![Bug::FixedNonce, Bug::NoSkipBound]);
        assert_eq!(options.jobs, 3);
        assert_eq!(
            options.budget,
            Budget {
                model_runs: 7,
                ..Budget::DEFAULT
            }
        );
        assert_eq!(
            table_options(&[], 1, None).unwrap().jobs,
            TableOptions::default().jobs
        );
        let e = table_options(&["fixed-nonse".to_string()], 1, None).unwrap_err();
        assert!(e.starts_with("no mutant \"fixed-nonse\"; known: "), "{e}");
        assert!(e.contains("state-kept-on-failed-decrypt, "), "{e}");
    }

    #[test]
    fn given_vector_paths_are_kept() {
        let given = vec![PathBuf::from("a"), PathBuf::from("b")];
        assert_eq!(vector_paths(given.clone()).unwrap(), given);
    }

    #[test]
    fn mutants_with_an_unknown_name_gives_no_verdict_and_says_why() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut console = Console {
            out: &mut out,
            err: &mut err,
            progress: false,
        };
        let args = MutantsArgs {
            vectors: vec![PathBuf::from("unused")],
            format: Format::Text,
            names: vec!["nope".into()],
            property_runs: 1,
            jobs: Some(1),
        };
        assert_eq!(mutants(args, &mut console), Exit::NoVerdict);
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.starts_with("error: no mutant \"nope\"; known: "),
            "{err}"
        );
        assert!(out.is_empty());
    }
}
