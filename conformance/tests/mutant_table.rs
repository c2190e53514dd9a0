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
use ratchetproof::mutants::{Bug, Variant};
use ratchetproof::vectors::AnyFile;

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
    // Every legitimate variant passes every case in strict mode.
    assert_eq!(table.variants.len(), Variant::ALL.len(), "{text}");
    for v in &table.variants {
        assert!(v.vectors.ran >= 500, "{}: {text}", v.mutant);
        assert!(v.vectors.cases.is_empty(), "{}: {text}", v.mutant);
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
    // The properties see what needs no reference bytes (a restore that lags
    // behind the sends, a one-time prekey that outlives its use, an
    // unverified signature): each catalogue entry naming a property must
    // break it.
    let broke = |bug: Bug, property: &str| {
        table
            .rows
            .iter()
            .find(|r| r.mutant == bug.name())
            .is_some_and(|r| r.properties.iter().any(|p| p.property == property))
    };
    let with_property: Vec<_> = Bug::ALL
        .iter()
        .filter_map(|b| b.entry().property.map(|p| (*b, p)))
        .collect();
    assert!(with_property.len() >= 3, "{with_property:?}");
    for (bug, property) in with_property {
        assert!(broke(bug, property), "{}: {property}: {text}", bug.name());
    }
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

/// The variant controls fail the table when a vector enforces the
/// reference's own choice: with every `alternatives` and `classFixed`
/// removed (the version-1 vectors), the variants that choose differently
/// fail cases, and `mutants` would exit 1.
#[test]
fn the_table_fails_when_a_vector_fails_a_legitimate_variant() {
    let dir = std::env::temp_dir().join(format!(
        "ratchetproof-no-alternatives-{}",
        std::process::id()
    ));
    for path in ratchetproof::runner::collect(&[vectors_dir()]).unwrap() {
        let text = match ratchetproof::runner::load(&path).unwrap() {
            AnyFile::Primitives(mut f) => {
                f.tests.iter_mut().for_each(|t| {
                    t.expected.alternatives.clear();
                    t.expected.class_fixed = false;
                });
                serde_json::to_string(&f)
            }
            AnyFile::X3dh(mut f) => {
                f.tests.iter_mut().for_each(|t| {
                    t.expected.alternatives.clear();
                    t.expected.class_fixed = false;
                });
                serde_json::to_string(&f)
            }
            AnyFile::X3dhAccept(mut f) => {
                f.tests
                    .iter_mut()
                    .flat_map(|t| &mut t.initial_messages)
                    .for_each(|m| {
                        m.expected.alternatives.clear();
                        m.expected.class_fixed = false;
                    });
                serde_json::to_string(&f)
            }
            AnyFile::Pqxdh(mut f) => {
                f.tests.iter_mut().for_each(|t| {
                    t.expected.alternatives.clear();
                    t.expected.class_fixed = false;
                });
                serde_json::to_string(&f)
            }
            AnyFile::PqxdhAccept(mut f) => {
                f.tests
                    .iter_mut()
                    .flat_map(|t| &mut t.initial_messages)
                    .for_each(|m| {
                        m.expected.alternatives.clear();
                        m.expected.class_fixed = false;
                    });
                serde_json::to_string(&f)
            }
            AnyFile::Scenarios(mut f) => {
                f.tests
                    .iter_mut()
                    .flat_map(|t| &mut t.steps)
                    .for_each(|s| match s {
                        ratchetproof::vectors::Step::Send { expected, .. } => {
                            expected.alternatives.clear();
                            expected.class_fixed = false;
                        }
                        ratchetproof::vectors::Step::Deliver { expected, .. } => {
                            expected.alternatives.clear();
                            expected.class_fixed = false;
                        }
                        ratchetproof::vectors::Step::Capture { .. } => {}
                    });
                serde_json::to_string(&f)
            }
        }
        .unwrap();
        let out = dir.join(path.strip_prefix(vectors_dir()).unwrap());
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(&out, text).unwrap();
    }
    let table = mutant_table::build(
        std::slice::from_ref(&dir),
        &TableOptions {
            budget: Budget {
                model_runs: 1,
                ..SMALL
            },
            jobs: 1,
            only: vec![Bug::FixedNonce],
        },
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let failing: Vec<&str> = table
        .variants
        .iter()
        .filter(|v| !v.vectors.cases.is_empty())
        .map(|v| v.mutant.as_str())
        .collect();
    for v in [
        Variant::DeferredKeyGeneration,
        Variant::NoPreviousKeyWindow,
        Variant::NoDuplicateCheck,
        Variant::NoSmallOrderCheck,
        Variant::PerSenderResponder,
        Variant::SignatureCheckedFirst,
        // olm-v1: libolm's classes and its missing small-order check pass
        // only through the alternatives of docs/OLM-V1.md §6 and §11.
        Variant::OlmErrorsAsAuthentication,
        Variant::OlmSmallOrderAccepted,
        Variant::OlmKeyLengthMalformed,
    ] {
        assert!(
            failing.iter().any(|f| f.ends_with(v.name())),
            "{}: {}",
            v.name(),
            table.to_text()
        );
    }
    assert!(!table.success());
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
