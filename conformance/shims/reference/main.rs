//! `ratchetproof-reference-shim`: the reference implementation served over
//! the shim protocol (`docs/SHIM.md`).
//!
//! It exists to prove the protocol and the runner's shim client: running the
//! vectors through it must give exactly the in-process results (see
//! `tests/shim.rs`). It is also a working shim to copy from, and a stand-in
//! peer when testing a CI setup: `ratchetproof run --shim ratchetproof-reference-shim`.
//!
//! With `--mutant NAME` it serves a known-bug mutant instead
//! (`ratchetproof mutants` lists them), so the harness's own search —
//! `ratchetproof explore` — can be tested over the shim protocol exactly as
//! it meets a real peer; with `--variant NAME`, a legitimate variant (which
//! must pass every vector).
//!
//! The source lives beside the other shims in `conformance/shims/` rather
//! than in `src/bin/`, so every shim in the repository is in one place.

use std::io::{BufWriter, stdin, stdout};
use std::process::ExitCode;

use ratchetproof::mutants::{Bug, Mutant, Variant};
use ratchetproof::shim::server;
use ratchetproof::{Implementation, Reference};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut imp: Box<dyn Implementation> = match args.as_slice() {
        [] => Box::new(Reference::new()),
        [flag, name] if flag == "--mutant" => match Bug::from_name(name) {
            Some(bug) => Box::new(Mutant::with(bug)),
            None => {
                eprintln!("ratchetproof-reference-shim: unknown mutant {name:?}");
                return ExitCode::from(2);
            }
        },
        [flag, name] if flag == "--variant" => match Variant::from_name(name) {
            Some(variant) => Box::new(Mutant::variant(variant)),
            None => {
                eprintln!("ratchetproof-reference-shim: unknown variant {name:?}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: ratchetproof-reference-shim [--mutant NAME | --variant NAME]");
            return ExitCode::from(2);
        }
    };
    let out = BufWriter::new(stdout().lock());
    match server::serve(imp.as_mut(), stdin().lock(), out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ratchetproof-reference-shim: {e}");
            ExitCode::FAILURE
        }
    }
}
