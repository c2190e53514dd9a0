//! The `ratchetproof` command line: `run` validates an implementation (the
//! built-in reference, or any other through `--shim`, docs/SHIM.md) against
//! the vectors; `generate` writes (or with `--check`, verifies) them;
//! `mutants` shows that the vectors and the properties catch every known-bug
//! mutant (docs/MUTANTS.md). `--version` also prints the hash of the
//! vector set a `run` without paths would read (vectors/README.md).
//!
//! This file parses the arguments and dispatches; what each command does,
//! and which exit status it ends with, is [`ratchetproof::commands`].

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use ratchetproof::commands::{
    self, Console, ExploreArgs, MutantsArgs, ReportArgs, RunArgs, ShimArgs,
};
use ratchetproof::runner::{Filter, RunOptions};

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
        /// Also write the JSON result (docs/RESULTS.md) to this file, for
        /// `ratchetproof report`.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
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
        /// (primitives, x3dh, session, clone, x3dh_accept, prekey, pqxdh, pqxdh_accept) executed (repeatable).
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
    /// Turn JSON results (`run --json FILE`) into a static site: one
    /// self-contained index.html with the runs, a matrix of implementations ×
    /// flags per suite with drill-down to the cases, the findings of the
    /// known-failures lists, and a comparison with earlier results
    /// (docs/REPORT.md). Also writes or checks the committed summaries of
    /// the peers' numbers, and the README tables generated from them.
    Report {
        /// JSON results of `ratchetproof run`.
        results: Vec<PathBuf>,
        /// Write the site into this folder (DIR/index.html).
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: Option<PathBuf>,
        /// Earlier results to compare with: new failures and fixed cases.
        #[arg(long, value_name = "OLD.json", num_args = 1..)]
        compare: Vec<PathBuf>,
        /// The page's title.
        #[arg(long, default_value = "ratchetproof compatibility report")]
        title: String,
        /// Write one summary per peer (the results' folder name) into DIR.
        #[arg(long, value_name = "DIR")]
        write_summaries: Option<PathBuf>,
        /// Exit 1 unless the results give exactly the numbers of the
        /// summaries in DIR (CI: the README tables are not stale).
        #[arg(long, value_name = "DIR")]
        check_summaries: Option<PathBuf>,
        /// Generate Markdown tables from the summaries in DIR (printed, or
        /// into the marked blocks of the --update files).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "write_summaries", "check_summaries", "compare"])]
        markdown: Option<PathBuf>,
        /// Markdown files whose marked blocks to regenerate.
        #[arg(long, value_name = "FILE", num_args = 1.., requires = "markdown")]
        update: Vec<PathBuf>,
        /// With --update: write nothing; exit 1 if a block is stale.
        #[arg(long, requires = "update")]
        check: bool,
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
    /// Search an implementation for deviations: random adversarial
    /// conversations (reordering, loss, replays, tampering with every field,
    /// limits, state capture and restore) played on the reference and the
    /// implementation, compared step by step. A divergence is shrunk to a
    /// minimal conversation and written as a vector file (docs/EXPLORE.md).
    /// Exit 0 nothing found, 1 a divergence, 2 no verdict.
    Explore {
        /// Explore the implementation behind this shim command, run as
        /// `sh -c COMMAND` (default: the built-in reference).
        #[arg(long, value_name = "COMMAND", conflicts_with = "mutant")]
        shim: Option<String>,
        /// Explore an in-process known-bug mutant instead (`ratchetproof mutants` lists them).
        #[arg(long, value_name = "NAME")]
        mutant: Option<String>,
        /// Suite to explore (repeatable; `all` or none: every suite the implementation declares, `olm-v1` included).
        #[arg(long = "suite", value_name = "SUITE")]
        suites: Vec<String>,
        /// Domain to draw cases from: session (conversations), x3dh (key
        /// agreement from both sides), accept (Bob's prekey store), sealed
        /// (a message sealed with the sender's keys under a chosen header) —
        /// repeatable; default: every domain the implementation declares.
        #[arg(long = "domain", value_name = "DOMAIN", value_parser = ["session", "x3dh", "accept", "sealed"])]
        domains: Vec<String>,
        /// Seed of the run: the same seed draws the same cases.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Stop after N cases (default: 1000, or unbounded with --time).
        #[arg(long, value_name = "N")]
        cases: Option<u64>,
        /// Stop taking new cases after this long (e.g. 60s, 10m).
        #[arg(long, value_name = "DURATION", value_parser = commands::explore::parse_duration)]
        time: Option<std::time::Duration>,
        /// Explore with N implementations (shim processes) in parallel.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: u16,
        /// Longest conversation drawn, in actions.
        #[arg(long, value_name = "N", default_value_t = 60)]
        max_actions: usize,
        /// A rejection with another error class than the reference's (or an
        /// allowed alternative) is a divergence.
        #[arg(long)]
        strict_errors: bool,
        /// Accepted deviations, one signature per line (`#` starts a reason
        /// or a comment): noted and explored past.
        #[arg(long, value_name = "FILE")]
        accepted: Option<PathBuf>,
        /// Where to write a finding's vector file (default:
        /// explore-finding-seedS-caseI.json).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Most cases played while shrinking a finding.
        #[arg(long, value_name = "N", default_value_t = 2_000)]
        shrink_budget: usize,
        /// Per-request timeout for the shim, handshake included.
        #[arg(long, value_name = "MS", default_value_t = 10_000)]
        timeout_ms: u64,
        /// Instead: explore every known-bug mutant through the reference shim
        /// (`--shim` names the shim binary to add `--mutant NAME` to; default:
        /// the one beside this binary) for at most --time each (default 60s),
        /// write each finding to DIR, replay it with the runner, print the table.
        #[arg(long, value_name = "DIR", conflicts_with = "mutant")]
        every_mutant: Option<PathBuf>,
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
        /// PQXDH suites: instead of conversations, the implementation as
        /// Alice sends one initial message and the keys its own state holds
        /// (operation group `inspect`) are compared with PQXDH's output as
        /// the reference derives it (docs/PQXDH.md §7).
        #[arg(long, conflicts_with_all = ["explore", "without_one_time_prekey"])]
        check_keys: bool,
        /// Per-request timeout for the shim, handshake included.
        #[arg(long, value_name = "MS", default_value_t = 10_000)]
        timeout_ms: u64,
        /// Instead of the fixed conversations: seeded random interleavings
        /// (sends, reordered, dropped, replayed and tampered deliveries),
        /// the first divergence shrunk (docs/SHIM.md §4.4).
        #[arg(long)]
        explore: bool,
        /// Seed of the explored cases.
        #[arg(long, value_name = "N", default_value_t = 0, requires = "explore")]
        seed: u64,
        /// Number of explored cases.
        #[arg(long, value_name = "N", default_value_t = ratchetproof::interop::explore::DEFAULT_CASES, requires = "explore")]
        cases: u64,
        /// Number of the first case (to replay one: `--first-case N --cases 1`).
        #[arg(long, value_name = "N", default_value_t = 0, requires = "explore")]
        first_case: u64,
        /// Start no case after this long (`90s`, `2m`, `500ms`).
        #[arg(long, value_name = "DURATION", value_parser = ratchetproof::interop::explore::parse_duration, requires = "explore")]
        time: Option<std::time::Duration>,
        /// Longest action list of an explored case.
        #[arg(long, value_name = "N", default_value_t = ratchetproof::interop::explore::DEFAULT_MAX_ACTIONS, requires = "explore")]
        max_actions: usize,
        /// A known deviation of the peer, by the signature a finding prints
        /// (e.g. `tampered-accepted:version`): counted, and exploration goes
        /// on past it (repeatable).
        #[arg(
            long = "accept-deviation",
            value_name = "SIGNATURE",
            requires = "explore"
        )]
        accept_deviations: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

impl From<Format> for commands::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => commands::Format::Text,
            Format::Json => commands::Format::Json,
        }
    }
}

fn main() -> ExitCode {
    let mut command = Cli::command();
    // `--version` names the vector set too (`ratchetproof 0.1.0 (vectors
    // sha256:…)`); hashing it is left to the runs that ask.
    if std::env::args_os()
        .skip(1)
        .any(|a| a == "--version" || a == "-V")
    {
        command = command.version(ratchetproof::runner::run_info::version_line());
    }
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
    let progress = stderr.is_terminal();
    let mut console = Console {
        out: &mut stdout,
        err: &mut stderr,
        progress,
    };
    let exit = match cli.command {
        Command::Run {
            paths,
            format,
            junit,
            json,
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
        } => commands::run::run(
            RunArgs {
                paths,
                format: format.into(),
                junit,
                json,
                options: RunOptions {
                    strict_errors,
                    filter: Filter {
                        files,
                        flags,
                        tc_ids,
                    },
                },
                shim: shim.map(|command| ShimArgs {
                    command,
                    timeout_ms,
                    max_line_bytes,
                }),
                jobs,
                known_failures,
                write_known_failures,
                require_suites,
                require_operations,
                require_all,
                min_executed,
            },
            &mut console,
        ),
        Command::Explore {
            shim,
            mutant,
            suites,
            domains,
            seed,
            cases,
            time,
            jobs,
            max_actions,
            strict_errors,
            accepted,
            out,
            shrink_budget,
            timeout_ms,
            every_mutant,
        } => {
            let args = ExploreArgs {
                shim: shim.map(|command| ShimArgs {
                    command,
                    timeout_ms,
                    max_line_bytes: ratchetproof::shim::DEFAULT_MAX_LINE_BYTES,
                }),
                mutant,
                suites,
                domains,
                seed,
                cases,
                time,
                jobs,
                max_actions,
                strict_errors,
                accepted,
                out,
                shrink_budget,
            };
            match every_mutant {
                Some(dir) => commands::explore::every_mutant(&args, &dir, &mut console),
                None => commands::explore::explore(args, &mut console),
            }
        }
        Command::Interop {
            shim,
            suite,
            timeout_ms,
            check_keys: true,
            ..
        } => commands::interop_check_keys(shim, &suite, timeout_ms, &mut console),
        Command::Interop {
            shim,
            suite,
            without_one_time_prekey,
            timeout_ms,
            explore: true,
            seed,
            cases,
            first_case,
            time,
            max_actions,
            accept_deviations,
            check_keys: false,
        } => commands::interop_explore::interop_explore(
            commands::interop_explore::InteropExploreArgs {
                shim,
                timeout_ms,
                options: ratchetproof::interop::explore::ExploreOptions {
                    suite,
                    one_time_prekey: !without_one_time_prekey,
                    seed,
                    first_case,
                    cases,
                    time,
                    max_actions,
                    accepted: accept_deviations,
                },
            },
            &mut console,
        ),
        Command::Interop {
            shim,
            suite,
            without_one_time_prekey,
            timeout_ms,
            ..
        } => commands::interop(
            shim,
            &suite,
            !without_one_time_prekey,
            timeout_ms,
            &mut console,
        ),
        Command::Mutants {
            vectors,
            format,
            mutants,
            property_runs,
            jobs,
        } => commands::mutants(
            MutantsArgs {
                vectors,
                format: format.into(),
                names: mutants,
                property_runs,
                jobs,
            },
            &mut console,
        ),
        Command::Generate { out, check } => commands::generate(out, check, &mut console),
        Command::Report {
            results,
            out,
            compare,
            title,
            write_summaries,
            check_summaries,
            markdown,
            update,
            check,
        } => commands::report::report(
            ReportArgs {
                results,
                out,
                compare,
                title,
                write_summaries,
                check_summaries,
                markdown,
                update,
                check,
            },
            &mut console,
        ),
    };
    ExitCode::from(exit.code())
}
