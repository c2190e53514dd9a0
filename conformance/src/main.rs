//! The `ratchetproof` command line: `run` validates an implementation (the
//! built-in reference, or any other through `--shim`, docs/SHIM.md) against
//! the vectors; `generate` writes (or with `--check`, verifies) them;
//! `mutants` shows that the vectors and the properties catch every known-bug
//! mutant (docs/MUTANTS.md).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use ratchetproof::generate;
use ratchetproof::runner::{self, Filter, Report, RunOptions, Status};
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
        /// Cases expected not to pass, one `FILE TCID failed|errored` per line
        /// (`#` starts a comment; FILE is the vector file's name, or
        /// `SUITE/NAME` where suites share file names). The exit status is 0
        /// when exactly these cases do not pass.
        #[arg(long, value_name = "FILE")]
        known_failures: Option<PathBuf>,
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

/// (file name, tcId) → expected status ("failed" or "errored").
type Known = std::collections::BTreeMap<(String, u32), String>;

fn read_known_failures(path: &std::path::Path) -> Result<Known, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut known = Known::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "{}:{}: expected `FILE TCID failed|errored`, got {line:?}",
                path.display(),
                n + 1
            )
        };
        let mut words = line.split_whitespace();
        let (Some(file), Some(tc), Some(status), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(bad());
        };
        let tc_id: u32 = tc.parse().map_err(|_| bad())?;
        if status != "failed" && status != "errored" {
            return Err(bad());
        }
        known.insert((file.to_string(), tc_id), status.to_string());
    }
    Ok(known)
}

/// Exit 0 iff the cases that did not pass are exactly the known ones.
fn compare_known(report: &Report, known: &Known) -> ExitCode {
    let mut actual = Known::new();
    for case in &report.cases {
        let status = match case.status {
            Status::Failed { .. } => "failed",
            Status::Errored { .. } => "errored",
            _ => continue,
        };
        // An entry names the file as `name.json`, or as `suite/name.json`
        // where two suites' files share a name; the longer form wins.
        let path = std::path::Path::new(&case.file);
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| case.file.clone());
        let with_suite = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|suite| format!("{}/{name}", suite.to_string_lossy()));
        let file = match with_suite {
            Some(long) if known.contains_key(&(long.clone(), case.tc_id)) => long,
            _ => name,
        };
        actual.insert((file, case.tc_id), status.to_string());
    }
    let new: Vec<_> = actual
        .iter()
        .filter(|(k, v)| known.get(*k) != Some(*v))
        .collect();
    let fixed: Vec<_> = known
        .iter()
        .filter(|(k, v)| actual.get(*k) != Some(*v))
        .collect();
    for ((file, tc), status) in &new {
        eprintln!("NEW: {file} tcId {tc} {status} (not in the known-failures list)");
    }
    for ((file, tc), status) in &fixed {
        eprintln!(
            "STALE: {file} tcId {tc} is listed as {status} but did not end so; update the list"
        );
    }
    eprintln!(
        "known failures: {} listed, {} new, {} stale",
        known.len(),
        new.len(),
        fixed.len()
    );
    if new.is_empty() && fixed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
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
            let known = match known_failures
                .as_deref()
                .map(read_known_failures)
                .transpose()
            {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
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
            let report = match runner::run_paths_parallel(&mut imps, &paths, &options, &progress) {
                Ok(r) => r,
                Err(e) => {
                    if tty {
                        eprintln!();
                    }
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
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
            match known {
                Some(known) => compare_known(&report, &known),
                None if report.success() => ExitCode::SUCCESS,
                None => ExitCode::from(1),
            }
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
