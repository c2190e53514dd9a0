//! The runner applies an exact-limits scenario to an implementation without
//! a cap on stored skipped keys unless the case is flagged `Eviction`. That
//! is sound only if no other case depends on a key having been evicted: this
//! checks it, by running every such case against the reference with its
//! `MAX_SKIP` and an unbounded store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ratchetproof::Reference;
use ratchetproof::runner::{RunOptions, Status, load};
use ratchetproof::vectors::{AnyFile, Limits};

#[test]
fn exact_limit_cases_without_eviction_pass_with_an_unbounded_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let mut checked = 0;
    for suite in ratchetproof_protocol::suite::all() {
        let path = root.join(suite.name()).join("session_scenarios.json");
        let AnyFile::Scenarios(file) = load::load(&path).unwrap() else {
            panic!("{} is not a scenario file", path.display());
        };
        for case in &file.tests {
            let Some(limits) = case.limits else { continue };
            if case.info.flags.iter().any(|f| f == "Eviction") {
                continue;
            }
            let mut unbounded = case.clone();
            unbounded.limits = Some(Limits {
                max_skip: limits.max_skip,
                max_stored_skipped_keys: u32::MAX,
            });
            let status = ratchetproof::runner::run_scenario(
                &mut Reference::new(),
                &file.suite,
                &unbounded,
                &RunOptions {
                    strict_errors: true,
                    ..RunOptions::default()
                },
            );
            assert!(
                matches!(status, Status::Passed),
                "{} tcId {}: {status:?}",
                suite.name(),
                case.info.tc_id
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} cases checked");
}
