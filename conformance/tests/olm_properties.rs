//! The scenario model's properties on `olm-v1` (docs/OLM-V1.md §5, §8),
//! checked against the reference, and against small wrapper peers that get
//! one rule wrong — which the properties and `explore` must both find.
//!
//! Olm enters the model through [`ModelConfig::olm`]: the same actions and
//! invariants, judged by Olm's own oracle (kept chains, 40 stored keys, the
//! gap of 2000, healing at the victim's next send). Default case counts keep
//! the file to seconds in a debug build on 2 cores; the deep run uses the
//! same variable as `properties.rs`:
//!
//! ```text
//! PROPTEST_CASES=10000 cargo test --release -p ratchetproof --test olm_properties
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use ratchetproof::explore::{self, Options};
use ratchetproof::implementation::{
    Capabilities, CloneSession, Decrypt, DecryptOutput, ErrorClass, ImplResult, Request, Response,
    SessionHandle, SessionOutput,
};
use ratchetproof::model::strategy::{self, Mix};
use ratchetproof::model::{self, Action, Invariant, ModelConfig, Violation};
use ratchetproof::runner::{RunOptions, Status, run_scenario};
use ratchetproof::{Implementation, Reference};

/// `cases` by default; proptest's own `PROPTEST_CASES` when it is set.
fn config(cases: u32) -> ProptestConfig {
    let base = ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/olm_properties.txt",
        ))),
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_some() {
        base
    } else {
        ProptestConfig { cases, ..base }
    }
}

fn on_reference(seed: u64, actions: &[Action]) -> Result<model::Trace, TestCaseError> {
    model::check(&mut Reference::new(), &ModelConfig::olm(seed), actions)
        .map_err(|v| TestCaseError::fail(v.to_string()))
}

proptest! {
    #![proptest_config(config(64))]

    /// Loss, reordering, holding back and duplication: every genuine message
    /// on a kept chain decrypts exactly once, replays are `duplicate`.
    #[test]
    fn olm_genuine_messages_decrypt_exactly_once_in_any_order(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::HONEST, 64),
    ) {
        on_reference(seed, &actions)?;
    }

    /// Tampering with every field of both message kinds: refused, with a
    /// class libolm or vodozemac gives, and the session goes on unchanged.
    #[test]
    fn olm_every_rejection_has_its_class_and_changes_nothing(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::ACTIVE, 64),
    ) {
        on_reference(seed, &actions)?;
    }

    /// Olm's capture rule (§8): a copy reads exactly the stored keys and
    /// what its kept chains derive, follows the peer's next chain, and
    /// nothing after the victim's next send.
    #[test]
    fn olm_captures_read_what_the_capture_rule_allows(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::COMPROMISE, 64),
    ) {
        on_reference(seed, &actions)?;
    }

    /// Every run writes an `olm-v1` scenario vector that the ordinary
    /// runner passes on the reference, class for class.
    #[test]
    fn olm_runs_replay_as_vectors(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::EVERYTHING, 48),
    ) {
        let case = on_reference(seed, &actions)?.to_scenario(1, "olm property", &[]);
        let status = run_scenario(
            &mut Reference::new(),
            "olm-v1",
            &case,
            &RunOptions { strict_errors: true, ..RunOptions::default() },
        );
        prop_assert_eq!(status, Status::Passed);
    }
}

proptest! {
    // Each loss of 2 000 messages is 2 000 encryptions: fewer cases.
    #![proptest_config(config(16))]

    /// Olm's bounds: the 40 stored keys (the oldest dropped) and the gap of
    /// 2 000 (one more is `too_many_skipped`).
    #[test]
    fn olm_bounds_hold(
        seed in any::<u64>(),
        actions in strategy::actions(Mix::BOUNDS, 32),
    ) {
        on_reference(seed, &actions)?;
    }
}

/// The first violation the model finds on `imp` among the conversations
/// `explore` draws (seed 1), within `cases`.
fn first_violation(imp: &mut dyn model::Subject, cases: u64) -> Option<Violation> {
    let options = Options {
        olm: true,
        ..Options::new(1, Vec::new())
    };
    let room = explore::session::Room::of(&Reference::new().capabilities());
    (0..cases).find_map(|i| {
        let case = explore::draw(&options, &room, i)?;
        model::check(imp, &case.config, &case.actions).err()
    })
}

/// `explore` over olm-v1 only, on `imp`: the finding's signature, if any.
fn explored(imp: impl Implementation + Send + 'static, strict: bool) -> Option<String> {
    let options = Options {
        olm: true,
        cases: Some(200),
        strict,
        ..Options::new(1, Vec::new())
    };
    let mut imps: Vec<Box<dyn Implementation + Send>> = vec![Box::new(imp)];
    let report = explore::explore(&mut imps, &options, &|_| {});
    assert!(report.errored.is_none(), "{:?}", report.errored);
    assert!(
        report.reference_refused.is_empty(),
        "{:?}",
        report.reference_refused
    );
    report.finding.map(|f| {
        // The written vector fails on the peer's bug and passes on the reference.
        let file = match &f.found {
            explore::Found::Session { file, .. } => file.clone(),
            _ => panic!("an olm-v1 finding is a conversation"),
        };
        let status = run_scenario(
            &mut Reference::new(),
            "olm-v1",
            &file.tests[0],
            &RunOptions {
                strict_errors: strict,
                ..RunOptions::default()
            },
        );
        assert_eq!(status, Status::Passed, "{}", f.story());
        f.divergence.signature
    })
}

/// A peer that remembers what it decrypted and answers a replay with it.
#[derive(Default)]
struct AcceptsReplays {
    inner: Reference,
    seen: HashMap<(SessionHandle, Vec<u8>), Vec<u8>>,
}

impl Implementation for AcceptsReplays {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
        let key = (r.session, r.message.clone());
        match self.inner.decrypt(r) {
            Ok(out) => {
                self.seen.insert(key, out.plaintext.clone());
                Ok(out)
            }
            Err(e) => match self.seen.get(&key) {
                Some(plaintext) => Ok(DecryptOutput {
                    plaintext: plaintext.clone(),
                }),
                None => Err(e),
            },
        }
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.inner)
    }
    fn reset(&mut self) {
        self.inner.reset();
        self.seen.clear();
    }
}
impl model::Subject for AcceptsReplays {}

/// A peer that reports a gap past 2 000 as a malformed message.
#[derive(Default)]
struct GapAsMalformed(Reference);

impl Implementation for GapAsMalformed {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
        self.0.decrypt(r).map_err(|mut e| {
            if e.class == ErrorClass::TooManySkipped {
                e.class = ErrorClass::Malformed;
            }
            e
        })
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.0)
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}
impl model::Subject for GapAsMalformed {}

/// A peer whose "copies" are the session itself: what a copy decrypts, the
/// original can no longer.
#[derive(Default)]
struct AliasingCopies(Reference);

impl Implementation for AliasingCopies {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    fn clone_session(&mut self, r: &CloneSession) -> ImplResult<SessionOutput> {
        Ok(SessionOutput { session: r.session })
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.0)
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}
impl model::Subject for AliasingCopies {}

#[test]
fn the_reference_breaks_no_olm_invariant_in_explore_s_conversations() {
    assert_eq!(first_violation(&mut Reference::new(), 150), None);
    assert_eq!(explored(Reference::new(), true), None);
}

#[test]
fn a_peer_that_accepts_replays_is_caught() {
    let v = first_violation(&mut AcceptsReplays::default(), 150).unwrap();
    assert!(
        matches!(
            v.invariant,
            Invariant::Duplicate | Invariant::ForwardSecrecy
        ),
        "{v}"
    );
    assert!(explored(AcceptsReplays::default(), false).is_some());
}

#[test]
fn a_peer_that_misnames_the_gap_is_caught() {
    let v = first_violation(&mut GapAsMalformed::default(), 300).unwrap();
    assert_eq!(v.invariant, Invariant::SkipLimit, "{v}");
    // Only the class differs: a divergence in strict mode, not by default.
    assert!(explored(GapAsMalformed::default(), true).is_some());
    assert_eq!(explored(GapAsMalformed::default(), false), None);
}

#[test]
fn a_peer_whose_copies_are_not_copies_is_caught() {
    let v = first_violation(&mut AliasingCopies::default(), 150).unwrap();
    assert!(
        matches!(
            v.invariant,
            Invariant::Delivery | Invariant::Duplicate | Invariant::PostCompromise
        ),
        "{v}"
    );
    assert!(explored(AliasingCopies::default(), false).is_some());
}

#[test]
fn an_olm_finding_is_the_same_whatever_the_jobs() {
    let options = Options {
        olm: true,
        cases: Some(100),
        ..Options::new(3, Vec::new())
    };
    let mut one: Vec<Box<dyn Implementation + Send>> = vec![Box::new(AliasingCopies::default())];
    let mut two: Vec<Box<dyn Implementation + Send>> = vec![
        Box::new(AliasingCopies::default()),
        Box::new(AliasingCopies::default()),
    ];
    let one = explore::explore(&mut one, &options, &|_| {})
        .finding
        .unwrap();
    let two = explore::explore(&mut two, &options, &|_| {})
        .finding
        .unwrap();
    assert_eq!(one.index, two.index);
    assert_eq!(one.file_json(), two.file_json());
}
