//! The `ratchetproof` command line: `run` validates an implementation against
//! the vectors; `generate` writes (or with `--check`, verifies) them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use ratchetproof::Reference;
use ratchetproof::generate;
use ratchetproof::runner::{self, Filter, RunOptions};

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
            let tty = std::io::stderr().is_terminal();
            let started = Instant::now();
            let mut imp = Reference::new();
            let report = match runner::run_paths(&mut imp, &paths, &options, |path, i, n| {
                if tty {
                    eprint!("\r\x1b[K[{i}/{n}] {}", path.display());
                    let _ = std::io::stderr().flush();
                }
            }) {
                Ok(r) => r,
                Err(e) => {
                    if tty {
                        eprintln!();
                    }
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            if tty {
                eprint!("\r\x1b[K");
            }
            match format {
                Format::Text => print!("{}", report.to_text()),
                Format::Json => println!("{}", report.to_json()),
            }
            eprintln!(
                "ran {} cases in {:.3} s",
                report.cases.len(),
                started.elapsed().as_secs_f64()
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
            if report.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
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
