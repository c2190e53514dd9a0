//! Turns a `session_interaction` fuzz input (a crash reproducer, once the bug
//! it found is fixed) into a session-scenario vector case, printed as JSON:
//!
//! ```sh
//! cargo run -p ratchetproof --features arbitrary --example fuzz_to_vector -- fuzz/artifacts/session_interaction/crash-…
//! ```
//!
//! The case is generated from the reference, so it records what the protocol
//! requires; while the reference still breaks an invariant on this input, the
//! command says so and exits 1. Paste the case into a scenario file (or add
//! its actions to the generator) to make it a regression test for every
//! implementation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: fuzz_to_vector FUZZ_INPUT");
        return ExitCode::from(2);
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (config, actions) = ratchetproof::fuzzing::interaction_script(&data);
    let comment = format!(
        "session_interaction fuzz input {path} ({} actions)",
        actions.len()
    );
    match ratchetproof::model::to_scenario(
        &config,
        &actions,
        1,
        &comment,
        &["FuzzRegression".into()],
    ) {
        Ok(case) => {
            println!("{}", serde_json::to_string_pretty(&case).unwrap());
            ExitCode::SUCCESS
        }
        Err(violation) => {
            eprintln!("the reference still fails on this input — fix the bug first:\n{violation}");
            eprintln!("minimal actions: {:?}", violation.effective_actions);
            ExitCode::from(1)
        }
    }
}
