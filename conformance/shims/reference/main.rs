//! `ratchetproof-reference-shim`: the reference implementation served over
//! the shim protocol (`docs/SHIM.md`).
//!
//! It exists to prove the protocol and the runner's shim client: running the
//! vectors through it must give exactly the in-process results (see
//! `tests/shim.rs`). It is also a working shim to copy from, and a stand-in
//! peer when testing a CI setup: `ratchetproof run --shim ratchetproof-reference-shim`.
//!
//! The source lives beside the other shims in `conformance/shims/` rather
//! than in `src/bin/`, so every shim in the repository is in one place.

use std::io::{BufWriter, stdin, stdout};
use std::process::ExitCode;

use ratchetproof::Reference;
use ratchetproof::shim::server;

fn main() -> ExitCode {
    let mut reference = Reference::new();
    let out = BufWriter::new(stdout().lock());
    match server::serve(&mut reference, stdin().lock(), out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ratchetproof-reference-shim: {e}");
            ExitCode::FAILURE
        }
    }
}
