//! The known-bug table of issue 9 (`ratchetproof mutants`): every mutant is
//! caught, the vectors alone catch every one, and the bug-free mutant passes
//! everything. The full vector suite runs; the property budget is smaller
//! than the CLI's so a debug build stays well under a minute on 2 cores
//! (CI also runs the full table with the release binary).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use ratchetproof::mutant_table::{self, Budget, TableOptions};
use ratchetproof::mutants::Bug;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

const SMALL: Budget = Budget {
    model_runs: 6,
    max_actions: 40,
    restore_runs: 12,
    x3dh_runs: 2,
};

#[test]
fn every_known_bug_mutant_is_caught_and_the_vectors_alone_catch_each() {
    let table = mutant_table::build(
        &[vectors_dir()],
        &TableOptions {
            budget: SMALL,
            jobs: 2,
            only: Vec::new(),
        },
    )
    .unwrap();
    let text = table.to_text();
    println!("{text}");
    assert!(table.success(), "{text}");
    assert_eq!(table.score(), (Bug::ALL.len(), Bug::ALL.len()), "{text}");
    assert!(table.control.vectors.ran >= 500, "{text}");
    for row in &table.rows {
        if row.strict_only {
            // Only the error class differs: strict mode must catch it.
            assert!(row.caught_by_strict_vectors(), "{}: {text}", row.mutant);
        } else {
            assert!(row.caught_by_vectors(), "{}: {text}", row.mutant);
        }
    }
    // The control passes strict mode too, so a strict-only catch is real.
    let control_strict = table.control.strict_vectors.as_ref().unwrap();
    assert!(control_strict.cases.is_empty(), "{text}");
    assert!(control_strict.ran >= 500, "{text}");
    assert!(
        table
            .rows
            .iter()
            .any(|r| r.mutant == Bug::CounterMaxAccepted.name() && r.strict_only),
        "{text}"
    );
    // The properties see what needs no reference bytes: a restore that lags
    // behind the sends, and a one-time prekey that outlives its use.
    let broke = |bug: Bug, property: &str| {
        table
            .rows
            .iter()
            .find(|r| r.mutant == bug.name())
            .is_some_and(|r| r.properties.iter().any(|p| p.property == property))
    };
    assert!(broke(
        Bug::RestoredStateReusesMessageKey,
        "restored-session-continues"
    ));
    assert!(broke(
        Bug::OneTimePrekeyNotDeleted,
        "one-time-prekey-single-use"
    ));
    assert!(broke(
        Bug::SignatureNotVerified,
        "x3dh-agreement-and-signature"
    ));
}

/// The table fails when the vectors miss a mutant: with only the primitives
/// file, the stale-restore mutant is still caught by a property, but the
/// vectors miss it, and that is a problem the table reports.
#[test]
fn the_table_fails_when_the_vectors_miss_a_mutant() {
    let primitives = vectors_dir().join("x25519-sha256-aes256gcm/primitives.json");
    let table = mutant_table::build(
        &[primitives],
        &TableOptions {
            budget: Budget {
                model_runs: 1,
                ..SMALL
            },
            jobs: 1,
            only: vec![Bug::RestoredStateReusesMessageKey],
        },
    )
    .unwrap();
    let row = &table.rows[0];
    assert!(
        row.caught() && !row.caught_by_vectors(),
        "{}",
        table.to_text()
    );
    assert!(!table.success());
    assert!(
        table
            .problems()
            .iter()
            .any(|p| p.contains("restored-state-reuses-message-key")),
        "{:?}",
        table.problems()
    );
}

/// A strict-only mutant (it differs only in error class) that strict mode
/// does not catch either is a problem: with only the primitives file, no
/// case sends it a message numbered 2^32 - 1.
#[test]
fn the_table_fails_when_strict_mode_misses_a_strict_only_mutant() {
    let primitives = vectors_dir().join("x25519-sha256-aes256gcm/primitives.json");
    let table = mutant_table::build(
        &[primitives],
        &TableOptions {
            budget: Budget {
                model_runs: 1,
                ..SMALL
            },
            jobs: 1,
            only: vec![Bug::CounterMaxAccepted],
        },
    )
    .unwrap();
    let row = &table.rows[0];
    assert!(row.strict_only && !row.caught_by_strict_vectors());
    assert!(!table.success());
    assert!(
        table
            .problems()
            .iter()
            .any(|p| p.contains("counter-max-accepted")),
        "{:?}",
        table.problems()
    );
}
