//! The `ratchetproof` command line: `run` validates an implementation (the
//! built-in reference, or any other through `--shim`, docs/SHIM.md) against
//! the vectors; `generate` writes (or with `--check`, verifies) them;
//! `mutants` shows that the vectors and the properties catch every known-bug
//! mutant (docs/MUTANTS.md).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use ratchetproof::generate;
use ratchetproof::runner::coverage::{self, Requirements};
use ratchetproof::runner::known::{self, KnownFailures};
use ratchetproof::runner::{self, Filter, Report, RunOptions};
use ratchetproof::shim::{ShimClient, ShimConfig};
use ratchetproof::{Implementation, Reference};

#[derive(Parser)]
#[command(
    name = "ratchetproof",
    version,
    about = "Conformance vectors and runner for X3DH and the Double Ratchet"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process; boxing would only obscure the clap derive"
)]
enum Command {
    /// Validate an implementation (default: the built-in reference) against vector files or folders.
    Run {
        /// Vector files or folders (default: the repository's vectors/).
        paths: Vec<PathBuf>,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also write a JUnit XML report to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Run only cases from files whose path contains this (repeatable).
        #[arg(long = "file", value_name = "SUBSTRING")]
        files: Vec<String>,
        /// Run only cases with this flag (repeatable).
        #[arg(long = "flag", value_name = "FLAG")]
        flags: Vec<String>,
        /// Run only this tcId (repeatable).
        #[arg(long = "tc-id", value_name = "N")]
        tc_ids: Vec<u32>,
        /// A rejection with the wrong error class fails the case.
        #[arg(long)]
        strict_errors: bool,
        /// Validate the implementation behind this shim command instead of the
        /// reference; run as `sh -c COMMAND` (docs/SHIM.md).
        #[arg(long, value_name = "COMMAND")]
        shim: Option<String>,
        /// Per-request timeout for the shim, handshake included.
        #[arg(long, value_name = "MS", default_value_t = 10_000)]
        timeout_ms: u64,
        /// Longest response line accepted from the shim, in bytes.
        #[arg(long, value_name = "BYTES", default_value_t = ratchetproof::shim::DEFAULT_MAX_LINE_BYTES)]
        max_line_bytes: usize,
        /// Run cases on N implementations (shim processes) in parallel.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: u16,
        /// Cases expected not to pass and how, one per line:
        /// `SUITE/FILE TCID errored` or `SUITE/FILE TCID failed [step=N]
        /// class=CLASS|accepted` (`#` starts a comment; docs/CI.md). The exit
        /// status is 0 when exactly these cases fail, exactly so.
        #[arg(long, value_name = "FILE")]
        known_failures: Option<PathBuf>,
        /// Write the cases that did not pass, and how, to FILE in the
        /// `--known-failures` format, keeping the comments of an existing FILE
        /// for the entries that remain. Exit 0 once written.
        #[arg(long, value_name = "FILE", conflicts_with = "known_failures")]
        write_known_failures: Option<PathBuf>,
        /// Exit 2 unless every selected case of this suite executed (repeatable).
        #[arg(long = "require-suite", value_name = "SUITE")]
        require_suites: Vec<String>,
        /// Exit 2 unless every selected case needing this operation group
        /// (primitives, x3dh, session, clone, x3dh_accept) executed (repeatable).
        #[arg(long = "require-operation", value_name = "GROUP")]
        require_operations: Vec<String>,
        /// Exit 2 unless every selected case executed (none skipped).
        #[arg(long)]
        require_all: bool,
        /// Exit 2 unless at least N cases executed.
        #[arg(long, value_name = "N")]
        min_executed: Option<usize>,
    },
    /// Run the vectors and the property checks against every known-bug mutant
    /// and print which catch it (docs/MUTANTS.md). Exit 1 if a mutant survives,
    /// or if the vectors miss one they must catch.
    Mutants {
        /// Vector folder or files (default: found as `run` finds them).
        #[arg(long, value_name = "DIR")]
        vectors: Vec<PathBuf>,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Only this mutant, by name (repeatable).
        #[arg(long = "mutant", value_name = "NAME")]
        mutants: Vec<String>,
        /// Seeded action sequences per model-property configuration.
        #[arg(long, value_name = "N", default_value_t = ratchetproof::mutant_table::Budget::DEFAULT.model_runs)]
        property_runs: u32,
        /// Rows computed in parallel (default: the number of CPUs).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Write every vector file from the reference, deterministically.
    Generate {
        /// Folder to write to (default: the repository's vectors/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write nothing; exit 1 if the files on disk differ from what would be generated.
        #[arg(long)]
        check: bool,
    },
    /// Live interoperability: full X3DH sessions between the reference and the
    /// implementation behind a shim, both ways (shim operation group `prekey`).
    Interop {
        /// The peer's shim command, run as `sh -c COMMAND` (docs/SHIM.md).
        #[arg(long, value_name = "COMMAND")]
        shim: String,
        /// Suite to talk in.
        #[arg(long, default_value = "signal-v3")]
        suite: String,
        /// Bob's bundle has no one-time prekey (X3DH allows it; a responder
        /// must then run X3DH without DH4).
        #[arg(long)]
        without_one_time_prekey: bool,
        /// Per-request timeout for the shim, handshake included.
        #[arg(long, value_name = "MS", default_value_t = 10_000)]
        timeout_ms: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn vectors_dir(given: Option<PathBuf>) -> Result<PathBuf, ExitCode> {
    match given {
        Some(p) => Ok(p),
        None => runner::default_vectors_dir().map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }),
    }
}

/// `jobs` implementations: shim clients (started in parallel, which must all
/// declare the same capabilities) or in-process references.
fn implementations(
    shim: Option<String>,
    timeout_ms: u64,
    max_line_bytes: usize,
    jobs: u16,
) -> Result<Vec<Box<dyn Implementation + Send>>, String> {
    let Some(command) = shim else {
        return Ok((0..jobs)
            .map(|_| Box::new(Reference::new()) as Box<dyn Implementation + Send>)
            .collect());
    };
    let mut config = ShimConfig::new(command);
    config.timeout = std::time::Duration::from_millis(timeout_ms);
    config.max_line_bytes = max_line_bytes;
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
        eprintln!(
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

fn start_panicked(command: &str) -> ratchetproof::shim::StartError {
    ratchetproof::shim::StartError {
        command: command.into(),
        message: "starting the shim panicked".into(),
        stderr: String::new(),
    }
}

fn read_known(path: &Path) -> Result<KnownFailures, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    KnownFailures::parse(&text).map_err(|e| format!("{}:{e}", path.display()))
}

/// The exit status of `run` once the report is printed: 2 when the run gives
/// no verdict (nothing executed, a coverage requirement unmet), else the
/// known-failures comparison, the recording, or pass/fail.
fn finish(
    report: &Report,
    requirements: &Requirements,
    known: Option<&KnownFailures>,
    write_to: Option<&Path>,
) -> ExitCode {
    let unmet = coverage::check(report, requirements);
    for u in &unmet {
        eprintln!("error: {u}");
    }
    if !unmet.is_empty() {
        for s in report.skipped_because() {
            eprintln!(
                "  skipped: {} not declared ({} cases)",
                s.capability, s.cases
            );
        }
        if write_to.is_some() {
            eprintln!("error: no known-failures list written: the run gave no verdict");
        }
        return ExitCode::from(2);
    }
    if let Some(path) = write_to {
        let previous = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        let header = format!(
            "Cases {} is known not to pass, and how (docs/CI.md).\nExplain each entry in a comment above it.",
            report.implementation
        );
        let recorded = match known::record(report, previous.as_deref(), &header) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {}:{e}", path.display());
                return ExitCode::from(2);
            }
        };
        if let Err(e) = std::fs::write(path, &recorded.text) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!(
            "wrote {}: {} entries ({} new, {} with another outcome than listed, {} dropped as no longer failing)",
            path.display(),
            recorded.entries,
            recorded.added,
            recorded.changed,
            recorded.removed
        );
        return ExitCode::SUCCESS;
    }
    match known {
        Some(known) => {
            let comparison = known::compare(report, known);
            for line in comparison.lines(known.entries.len()) {
                eprintln!("{line}");
            }
            if comparison.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        None if report.success() => ExitCode::SUCCESS,
        None => ExitCode::from(1),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            paths,
            format,
            junit,
            files,
            flags,
            tc_ids,
            strict_errors,
            shim,
            timeout_ms,
            max_line_bytes,
            jobs,
            known_failures,
            write_known_failures,
            require_suites,
            require_operations,
            require_all,
            min_executed,
        } => {
            let paths = if paths.is_empty() {
                match vectors_dir(None) {
                    Ok(p) => vec![p],
                    Err(code) => return code,
                }
            } else {
                paths
            };
            let options = RunOptions {
                strict_errors,
                filter: Filter {
                    files,
                    flags,
                    tc_ids,
                },
            };
            let known = match known_failures.as_deref().map(read_known).transpose() {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut requirements = Requirements {
                suites: require_suites,
                operations: Vec::new(),
                all: require_all,
                min_executed,
            };
            for name in &require_operations {
                match coverage::operation_named(name) {
                    Some(op) => requirements.operations.push(op),
                    None => {
                        let known: Vec<_> =
                            coverage::OPERATIONS.iter().map(|o| o.as_str()).collect();
                        eprintln!(
                            "error: --require-operation {name}: no such operation group; known: {}",
                            known.join(", ")
                        );
                        return ExitCode::from(2);
                    }
                }
            }
            let loaded = match runner::load_all(&paths) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let unmatched = runner::select::unmatched(&loaded, &options.filter);
            if !unmatched.is_empty() {
                for u in &unmatched {
                    eprintln!("error: {u}");
                }
                return ExitCode::from(2);
            }
            let tty = std::io::stderr().is_terminal();
            let started = Instant::now();
            let mut imps = match implementations(shim, timeout_ms, max_line_bytes, jobs) {
                Ok(imps) => imps,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let progress = |done: usize, total: usize| {
                if tty && (done.is_multiple_of(16) || done == total) {
                    eprint!("\r\x1b[K[{done}/{total}] cases");
                    let _ = std::io::stderr().flush();
                }
            };
            let report = runner::run_loaded_parallel(&mut imps, &loaded, &options, &progress);
            drop(imps);
            if tty {
                eprint!("\r\x1b[K");
            }
            match format {
                Format::Text => print!("{}", report.to_text()),
                Format::Json => println!("{}", report.to_json()),
            }
            eprintln!(
                "ran {} cases in {:.3} s ({} job{})",
                report.cases.len(),
                started.elapsed().as_secs_f64(),
                jobs,
                if jobs == 1 { "" } else { "s" }
            );
            if let Some(path) = junit {
                match report.to_junit() {
                    Ok(xml) => {
                        if let Err(e) = std::fs::write(&path, xml) {
                            eprintln!("error: writing {}: {e}", path.display());
                            return ExitCode::from(2);
                        }
                    }
                    Err(e) => {
                        eprintln!("error: JUnit report: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            finish(
                &report,
                &requirements,
                known.as_ref(),
                write_known_failures.as_deref(),
            )
        }
        Command::Interop {
            shim,
            suite,
            without_one_time_prekey,
            timeout_ms,
        } => interop(shim, &suite, !without_one_time_prekey, timeout_ms),
        Command::Mutants {
            vectors,
            format,
            mutants,
            property_runs,
            jobs,
        } => mutants_command(vectors, format, &mutants, property_runs, jobs),
        Command::Generate { out, check } => {
            let out = match vectors_dir(out) {
                Ok(p) => p,
                Err(code) => return code,
            };
            let files = match generate::generate() {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: generation failed: {e}");
                    return ExitCode::from(2);
                }
            };
            if check {
                let stale = generate::check(&out, &files);
                if stale.is_empty() {
                    println!(
                        "{} vector files in {} are up to date",
                        files.len(),
                        out.display()
                    );
                    return ExitCode::SUCCESS;
                }
                for p in &stale {
                    eprintln!(
                        "stale: {} (run `ratchetproof generate`)",
                        out.join(p).display()
                    );
                }
                return ExitCode::from(1);
            }
            if let Err(e) = generate::write(&out, &files) {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            for f in &files {
                println!("wrote {}", out.join(&f.path).display());
            }
            ExitCode::SUCCESS
        }
    }
}

/// `ratchetproof interop`: exit 0 when both conversations pass, 1 when one
/// fails, 2 when the shim cannot be started.
fn interop(shim: String, suite: &str, one_time_prekey: bool, timeout_ms: u64) -> ExitCode {
    let mut config = ShimConfig::new(shim);
    config.timeout = std::time::Duration::from_millis(timeout_ms);
    let mut peer = match ShimClient::start(config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for outcome in ratchetproof::interop::live_both_ways(&mut peer, suite, one_time_prekey) {
        match outcome {
            Ok(r) => println!(
                "passed  {}: {} messages to Bob, {} to Alice, {} DH ratchet steps, out of order and across steps",
                r.direction, r.to_bob, r.to_alice, r.ratchet_steps
            ),
            Err(e) => {
                failed = true;
                println!("FAILED  {e}");
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn mutants_command(
    vectors: Vec<PathBuf>,
    format: Format,
    names: &[String],
    property_runs: u32,
    jobs: Option<usize>,
) -> ExitCode {
    use ratchetproof::mutant_table::{self, Budget, TableOptions};
    use ratchetproof::mutants::Bug;

    let paths = if vectors.is_empty() {
        match vectors_dir(None) {
            Ok(p) => vec![p],
            Err(code) => return code,
        }
    } else {
        vectors
    };
    let mut only = Vec::new();
    for name in names {
        match Bug::from_name(name) {
            Some(bug) => only.push(bug),
            None => {
                let known: Vec<_> = Bug::ALL.iter().map(|b| b.name()).collect();
                eprintln!("error: no mutant {name:?}; known: {}", known.join(", "));
                return ExitCode::from(2);
            }
        }
    }
    let defaults = TableOptions::default();
    let options = TableOptions {
        budget: Budget {
            model_runs: property_runs,
            ..Budget::DEFAULT
        },
        jobs: jobs.unwrap_or(defaults.jobs),
        only,
    };
    let table = match mutant_table::build(&paths, &options) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match format {
        Format::Text => print!("{}", table.to_text()),
        Format::Json => println!("{}", table.to_json()),
    }
    let (caught, total) = table.score();
    eprintln!(
        "{caught}/{total} mutants caught in {:.1} s ({} job{})",
        table.seconds,
        options.jobs,
        if options.jobs == 1 { "" } else { "s" }
    );
    if table.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
