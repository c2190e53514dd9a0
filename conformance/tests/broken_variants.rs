//! The properties catch real bugs (issue 4's done-when, groundwork for issue 9).
//!
//! `Mutant` is an independent Double Ratchet with bug switches. Without bugs it
//! must match the reference byte for byte on model runs; with each of the three
//! bugs issue 4 names, the property that targets it must fail, and proptest's
//! shrinking must bring the counterexample down to a few actions. The runner
//! is driven directly (`TestRunner`) to get the minimal failing case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use ratchetproof::Reference;
use ratchetproof::model::strategy::{self, Mix};
use ratchetproof::model::{self, Action, Invariant, ModelConfig, Randomness};
use ratchetproof::mutants::{Bug, ByModel, Mutant};

/// Longest counterexample accepted after shrinking.
const SHORT: usize = 8;

/// `cases` by default; proptest's `PROPTEST_CASES` when set.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Searches `mix` for a run on which `bug` breaks an invariant, shrinks it,
/// and returns the minimal actions with the violation they cause.
fn shrunk_counterexample(bug: Bug, mix: Mix) -> (u64, Vec<Action>, model::Violation) {
    let config = Config {
        cases: cases(512),
        failure_persistence: None,
        max_shrink_iters: 100_000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = (any::<u64>(), strategy::actions(mix, 48));
    let result = runner.run(&strategy, |(seed, actions)| {
        model::check(&mut Mutant::with(bug), &ModelConfig::new(seed), &actions)
            .map(|_| ())
            .map_err(|v| TestCaseError::fail(v.to_string()))
    });
    match result {
        Err(TestError::Fail(_, (seed, actions))) => {
            let violation = model::check(&mut Mutant::with(bug), &ModelConfig::new(seed), &actions)
                .expect_err("the shrunk case still fails");
            // The same run with picks spelled as the indexes they select.
            let readable = violation.effective_actions.clone();
            let again = model::check(&mut Mutant::with(bug), &ModelConfig::new(seed), &readable)
                .expect_err("the effective actions fail the same way");
            assert_eq!(
                (again.invariant, &again.detail),
                (violation.invariant, &violation.detail)
            );
            (seed, readable, violation)
        }
        Err(e) => panic!("{bug:?}: {e}"),
        Ok(()) => panic!("{bug:?} survived {mix:?}"),
    }
}

fn assert_caught(bug: Bug, mix: Mix, invariants: &[Invariant]) {
    let (seed, actions, violation) = shrunk_counterexample(bug, mix);
    println!(
        "{}: {} actions (seed {seed}): {actions:?}\n  -> {violation}",
        bug.name(),
        actions.len()
    );
    assert!(
        actions.len() <= SHORT,
        "{bug:?}: counterexample of {} actions is not short: {actions:?}",
        actions.len()
    );
    assert!(
        invariants.contains(&violation.invariant),
        "{bug:?} broke {:?}, expected one of {invariants:?}",
        violation.invariant
    );
    // The counterexample becomes a regression vector that the reference
    // passes; the mutant is then caught by every implementation's suite.
    model::to_scenario(&ModelConfig::new(seed), &actions, 1, bug.name(), &[])
        .expect("the reference passes the counterexample");
}

#[test]
fn state_kept_after_a_failed_decrypt_breaks_atomicity() {
    assert_caught(
        Bug::StateKeptOnFailedDecrypt,
        Mix::ACTIVE,
        &[Invariant::Atomicity, Invariant::Delivery],
    );
}

#[test]
fn no_dh_ratchet_on_receive_breaks_post_compromise_security() {
    assert_caught(
        Bug::NoDhRatchetOnReceive,
        Mix::COMPROMISE,
        &[Invariant::PostCompromise],
    );
}

#[test]
fn used_message_keys_not_deleted_break_duplicate_detection() {
    assert_caught(Bug::UsedKeyNotDeleted, Mix::HONEST, &[Invariant::Duplicate]);
}

#[test]
fn used_message_keys_not_deleted_break_forward_secrecy() {
    // Without replays, only a capture can notice.
    let mix = Mix {
        replay: 0,
        ..Mix::COMPROMISE
    };
    assert_caught(Bug::UsedKeyNotDeleted, mix, &[Invariant::ForwardSecrecy]);
}

#[test]
fn old_chain_keys_kept_break_forward_secrecy() {
    let mix = Mix {
        replay: 0,
        ..Mix::COMPROMISE
    };
    assert_caught(Bug::OldChainKeysKept, mix, &[Invariant::ForwardSecrecy]);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(128),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/broken_variants.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Without bugs the mutant is the reference, seen from outside: the same
    /// wire bytes, verdicts, error classes and plaintexts at every step.
    #[test]
    fn the_mutant_without_bugs_matches_the_reference_exactly(
        seed in any::<u64>(),
        counter_keys in any::<bool>(),
        actions in strategy::actions(Mix::EVERYTHING, 64),
    ) {
        let randomness = if counter_keys { Randomness::Counter } else { Randomness::Fresh };
        let config = ModelConfig::new(seed).with_randomness(randomness);
        let reference = model::check(&mut Reference::new(), &config, &actions);
        let mutant = model::check(&mut Mutant::faithful(), &config, &actions);
        prop_assert_eq!(reference, mutant);
    }
}

/// Which properties catch which bug, for the issue-9 table (informational;
/// printed with `--nocapture`). The three bugs above are asserted there.
#[test]
fn every_bug_is_caught_by_a_model_property_or_needs_vectors() {
    // Each catalogue entry says whether the model sees its bug
    // (`ByModel`). Those it misses deviate only on the wire or outside what
    // the model drives: both parties run the same mutant, so the model's runs
    // stay self-consistent and only vectors (fixed bytes from the reference)
    // or the table's other properties can tell (`ratchetproof mutants`,
    // docs/MUTANTS.md). The model never restores a party, never accepts
    // initial messages, stays far below the stored-key cap, never sends a
    // message numbered 2^32 - 1, never exports a state, and these 128 runs of
    // the "everything" mix hold no message back across two DH ratchet steps.
    let seen = Bug::ALL
        .iter()
        .filter(|b| b.entry().model == ByModel::Caught)
        .count();
    assert!(
        seen >= 24,
        "only {seen} bugs are expected to be seen by the model"
    );
    for bug in Bug::ALL {
        let config = Config {
            cases: cases(128),
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
        // An olm-v1 mutant's Signal side is the faithful one: it runs on the
        // Olm model (ModelConfig::olm): the "everything" mix, the compromise
        // mix, and the mix that reaches Olm's bounds (40 stored keys, gaps of
        // 2000, five chains).
        let failed = |e: TestError<(u64, Vec<Action>)>| match e {
            TestError::Fail(reason, (_, actions)) => {
                format!("{reason} in {} actions", actions.len())
            }
            TestError::Abort(reason) => format!("aborted: {reason}"),
        };
        let check = |config: ModelConfig, actions: Vec<Action>| {
            model::check(&mut Mutant::with(bug), &config, &actions)
                .map(|_| ())
                .map_err(|v| TestCaseError::fail(format!("{:?}", v.invariant)))
        };
        let caught = if bug.entry().area.is_olm() {
            let everything = (any::<u64>(), strategy::actions(Mix::EVERYTHING, 48));
            let bounds = (any::<u64>(), strategy::actions(Mix::BOUNDS, 32));
            let compromise = (any::<u64>(), strategy::actions(Mix::COMPROMISE, 48));
            runner
                .run(&everything, |(seed, a)| check(ModelConfig::olm(seed), a))
                .err()
                .or_else(|| {
                    runner
                        .run(&compromise, |(seed, a)| check(ModelConfig::olm(seed), a))
                        .err()
                })
                .or_else(|| {
                    runner
                        .run(&bounds, |(seed, a)| check(ModelConfig::olm(seed), a))
                        .err()
                })
                .map(failed)
        } else {
            let strategy = (any::<u64>(), strategy::actions(Mix::EVERYTHING, 64));
            runner
                .run(&strategy, |(seed, a)| check(ModelConfig::new(seed), a))
                .err()
                .map(failed)
        };
        println!(
            "{:40} {}",
            bug.name(),
            caught.as_deref().unwrap_or("not caught by the model")
        );
        if bug.entry().model == ByModel::Caught {
            assert!(caught.is_some(), "{bug:?} survived the model");
        }
    }
}
