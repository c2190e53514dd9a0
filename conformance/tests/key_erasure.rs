//! The key-erasure check (flag `KeyErasure`, issue 13 item 4): the mutant
//! that keeps used keys in its state passes every vector on behaviour alone,
//! and fails exactly where the check can see its export; the reference and
//! the bug-free mutant pass with the check on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};

use common::Adapted;
use ratchetproof::implementation::{Implementation, Operation};
use ratchetproof::mutants::{Bug, Mutant};
use ratchetproof::runner::{self, CaseResult, RunOptions, Status};
use ratchetproof::vectors::{AnyFile, Step};
use ratchetproof::{Reference, runner::load};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

/// `inner` with the `export` group withdrawn: the runner sees behaviour only.
fn without_export<I: Implementation>(inner: I) -> Adapted<I> {
    Adapted {
        caps: |mut caps| {
            caps.operations.remove(&Operation::Export);
            caps
        },
        ..Adapted::new(inner)
    }
}

fn run(imp: &mut dyn Implementation, strict: bool) -> Vec<CaseResult> {
    let options = RunOptions {
        strict_errors: strict,
        ..RunOptions::default()
    };
    runner::run_paths(imp, &[vectors_dir()], &options, |_, _, _| {})
        .unwrap()
        .cases
}

fn not_passed(results: &[CaseResult]) -> Vec<&CaseResult> {
    results
        .iter()
        .filter(|r| !matches!(r.status, Status::Passed | Status::Skipped { .. }))
        .collect()
}

/// Checks that the flag marks exactly the cases whose captures list
/// secrets, and counts the cases the retaining mutant must fail.
fn key_erasure_cases() -> usize {
    let path = vectors_dir().join("x25519-sha256-aes256gcm/session_scenarios.json");
    let AnyFile::Scenarios(file) = load(&path).unwrap() else {
        panic!("not a scenario file");
    };
    for case in &file.tests {
        let lists = case.steps.iter().any(
            |s| matches!(s, Step::Capture { erased_secrets, .. } if !erased_secrets.is_empty()),
        );
        assert_eq!(
            lists,
            case.info.flags.iter().any(|f| f == "KeyErasure"),
            "tcId {}: the KeyErasure flag marks exactly the cases whose captures list secrets",
            case.info.tc_id
        );
    }
    // The mutant retains message and chain keys (not root or ratchet keys):
    // the cases whose captures list one of those.
    file.tests
        .iter()
        .filter(|c| {
            c.steps.iter().any(|s| {
                matches!(s, Step::Capture { erased_secrets, .. } if erased_secrets
                    .iter()
                    .any(|e| e.role.starts_with("message key") || e.role.starts_with("chain key")))
            })
        })
        .count()
}

#[test]
fn retained_keys_pass_on_behaviour_and_fail_the_erasure_check() {
    let bug = Bug::UsedKeysRetainedInState;
    let without = run(&mut without_export(Mutant::with(bug)), true);
    assert!(
        not_passed(&without).is_empty(),
        "on behaviour alone the mutant must pass, strict: {:?}",
        not_passed(&without)
    );
    let with = run(&mut Mutant::with(bug), false);
    let failed = not_passed(&with);
    let erasure_cases = key_erasure_cases();
    assert!(erasure_cases >= 12, "{erasure_cases} KeyErasure cases");
    assert_eq!(
        failed.len(),
        erasure_cases,
        "every KeyErasure case listing a message or chain key must catch it, and only those"
    );
    for r in failed {
        assert!(r.flags.iter().any(|f| f == "KeyErasure"), "{r:?}");
        let Status::Failed {
            expected, actual, ..
        } = &r.status
        else {
            panic!("{r:?}");
        };
        assert!(
            expected.contains("exported state no longer holds"),
            "{expected}"
        );
        assert!(actual.contains("base64"), "{actual}");
    }
}

#[test]
fn the_reference_and_the_faithful_mutant_pass_with_the_check() {
    let mut reference = Reference::new();
    assert!(
        reference
            .capabilities()
            .operations
            .contains(&Operation::Export)
    );
    let results = run(&mut reference, true);
    assert!(
        not_passed(&results).is_empty(),
        "{:?}",
        not_passed(&results)
    );
    let results = run(&mut Mutant::faithful(), true);
    assert!(
        not_passed(&results).is_empty(),
        "{:?}",
        not_passed(&results)
    );
}
