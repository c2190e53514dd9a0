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

use std::path::{Path, PathBuf};

use ratchetproof::implementation::{
    Capabilities, ImplResult, Implementation, Operation, SessionHandle, SessionInit, X3dhAccept,
    X3dhAccepted, X3dhInitiate, X3dhOutput, X3dhRespond,
};
use ratchetproof::mutants::{Bug, Mutant};
use ratchetproof::runner::{self, CaseResult, RunOptions, Status};
use ratchetproof::vectors::{AnyFile, Step};
use ratchetproof::{Reference, runner::load};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

/// `inner` with the `export` group withdrawn: the runner sees behaviour only.
struct WithoutExport<I>(I);

impl<I: Implementation> Implementation for WithoutExport<I> {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.0.capabilities();
        caps.operations.remove(&Operation::Export);
        caps
    }
    fn kdf_rk(&mut self, suite: &str, rk: &[u8], dh: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        self.0.kdf_rk(suite, rk, dh)
    }
    fn kdf_ck(&mut self, suite: &str, ck: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        self.0.kdf_ck(suite, ck)
    }
    fn message_keys(&mut self, suite: &str, mk: &[u8]) -> ImplResult<Vec<u8>> {
        self.0.message_keys(suite, mk)
    }
    fn seal(
        &mut self,
        suite: &str,
        mk: &[u8],
        ratchet_key: &[u8],
        pn: u32,
        n: u32,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        self.0.seal(suite, mk, ratchet_key, pn, n, plaintext, ad)
    }
    fn x3dh_initiate(&mut self, r: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        self.0.x3dh_initiate(r)
    }
    fn x3dh_respond(&mut self, r: &X3dhRespond) -> ImplResult<X3dhOutput> {
        self.0.x3dh_respond(r)
    }
    fn x3dh_accept(&mut self, r: &X3dhAccept) -> ImplResult<Vec<ImplResult<X3dhAccepted>>> {
        self.0.x3dh_accept(r)
    }
    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionHandle> {
        self.0.init_session(init)
    }
    fn encrypt(&mut self, s: SessionHandle, pt: &[u8], ad: &[u8]) -> ImplResult<Vec<u8>> {
        self.0.encrypt(s, pt, ad)
    }
    fn decrypt(&mut self, s: SessionHandle, m: &[u8], ad: &[u8]) -> ImplResult<Vec<u8>> {
        self.0.decrypt(s, m, ad)
    }
    fn clone_session(&mut self, s: SessionHandle, keys: &[Vec<u8>]) -> ImplResult<SessionHandle> {
        self.0.clone_session(s, keys)
    }
    fn reset(&mut self) {
        self.0.reset();
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
    let without = run(&mut WithoutExport(Mutant::with(bug)), true);
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
