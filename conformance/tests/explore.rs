//! `ratchetproof explore` end to end: the reference gives nothing; known-bug
//! mutants served by the reference shim (`--mutant`) are found through the
//! shim protocol, and the vector each finding writes fails `run` on that
//! mutant and passes on the reference. The whole table, with times, is
//! `ratchetproof explore --every-mutant` (docs/EXPLORE.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::process::{Command, Output};

use ratchetproof::explore::{self, Accepted, Domain, Found, Options};
use ratchetproof::mutants::{Bug, Mutant};
use ratchetproof::{Implementation, Reference};
use ratchetproof_protocol::suite;

const CLI: &str = env!("CARGO_BIN_EXE_ratchetproof");
const SHIM: &str = env!("CARGO_BIN_EXE_ratchetproof-reference-shim");

fn cli(args: &[&str]) -> Output {
    Command::new(CLI).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ratchetproof-explore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn boxed<I: Implementation + Send + 'static>(imp: I) -> Vec<Box<dyn Implementation + Send>> {
    vec![Box::new(imp)]
}

#[test]
fn the_reference_diverges_from_nothing_in_either_suite() {
    let options = Options {
        cases: Some(400),
        ..Options::new(7, suite::all().to_vec())
    };
    let report = explore::explore(&mut boxed(Reference::new()), &options, &|_| {});
    assert_eq!(report.cases, 400);
    assert!(
        report.finding.is_none(),
        "{:?}",
        report.finding.map(|f| f.story())
    );
    assert!(
        report.reference_refused.is_empty(),
        "{:?}",
        report.reference_refused
    );
    assert!(report.errored.is_none() && report.skipped.is_empty());
    // The run looked at what it claims to: every kind of action took effect.
    for kind in [
        "send",
        "deliver",
        "replay",
        "drop",
        "capture",
        "eavesdrop",
        "restore",
    ] {
        assert!(
            report.coverage.actions.get(kind).copied().unwrap_or(0) > 0,
            "{kind}: {:?}",
            report.coverage.actions
        );
    }
    assert!(report.coverage.evicting_cases > 0 && report.coverage.longest_gap >= 4);
    // A quarter of the cases come from the other domains, each of them.
    let key_cases: u64 = report.coverage.key_agreement.values().sum();
    assert_eq!(key_cases, 100, "{:?}", report.coverage.key_agreement);
    for domain in ["x3dh ", "accept ", "sealed "] {
        assert!(
            report
                .coverage
                .key_agreement
                .keys()
                .any(|k| k.starts_with(domain)),
            "{domain}: {:?}",
            report.coverage.key_agreement
        );
    }
}

#[test]
fn cases_come_from_the_domains_asked_for() {
    let options = Options {
        cases: Some(40),
        domains: vec![Domain::X3dh],
        ..Options::new(5, suite::all().to_vec())
    };
    let report = explore::explore(&mut boxed(Reference::new()), &options, &|_| {});
    assert!(report.finding.is_none() && report.reference_refused.is_empty());
    assert_eq!(report.coverage.key_agreement.values().sum::<u64>(), 40);
    assert!(report.coverage.actions.is_empty());
    let all = [
        Domain::Session,
        Domain::X3dh,
        Domain::Accept,
        Domain::Sealed,
    ];
    assert_eq!(explore::domain_of(&all, 3), Some(Domain::X3dh));
    assert_eq!(explore::domain_of(&all, 7), Some(Domain::Accept));
    assert_eq!(explore::domain_of(&all, 11), Some(Domain::Sealed));
    assert_eq!(explore::domain_of(&all, 15), Some(Domain::X3dh));
    assert_eq!(
        explore::domain_of(&[Domain::Session, Domain::Accept], 5),
        Some(Domain::Session)
    );
}

#[test]
fn a_run_is_the_same_for_a_seed_whatever_the_jobs() {
    let options = Options {
        cases: Some(200),
        ..Options::new(3, vec![&ratchetproof_protocol::DEFAULT_SUITE])
    };
    let bug = Bug::StoredKeyDecryptSetsNr;
    let one = explore::explore(&mut boxed(Mutant::with(bug)), &options, &|_| {});
    let mut two: Vec<Box<dyn Implementation + Send>> =
        vec![Box::new(Mutant::with(bug)), Box::new(Mutant::with(bug))];
    let two = explore::explore(&mut two, &options, &|_| {});
    let (one, two) = (one.finding.unwrap(), two.finding.unwrap());
    assert_eq!(one.index, two.index);
    assert_eq!(one.file_json(), two.file_json());
    let Found::Session {
        original, minimal, ..
    } = &one.found
    else {
        panic!("a session bug is found in a conversation: {}", one.story());
    };
    assert!(minimal.actions.len() <= original.actions.len());
}

#[test]
fn an_accepted_deviation_is_noted_and_explored_past() {
    let bug = Bug::UsedKeyNotDeleted;
    let options = Options {
        cases: Some(300),
        ..Options::new(1, vec![&ratchetproof_protocol::DEFAULT_SUITE])
    };
    let found = explore::explore(&mut boxed(Mutant::with(bug)), &options, &|_| {});
    let signature = found.finding.unwrap().divergence.signature;
    let accepted = Accepted::parse(&format!("{signature} # known\n")).unwrap();
    let options = Options {
        accepted,
        ..options
    };
    let report = explore::explore(&mut boxed(Mutant::with(bug)), &options, &|_| {});
    let hit = report
        .accepted
        .iter()
        .find(|h| h.signature == signature)
        .unwrap();
    assert!(hit.cases > 0 && hit.reason == "known");
    // Past it, exploration goes on: to the end, or to the same bug showing
    // another way (a later copy reads the message).
    match report.finding {
        Some(f) => assert_ne!(f.divergence.signature, signature),
        None => assert_eq!(report.cases, 300),
    }
}

/// Explores `mutant` through the reference shim, then replays the written
/// vector: it must fail on the mutant and pass on the reference.
fn found_through_the_shim(mutant: &str, strict: bool) {
    let shim = format!("{SHIM} --mutant {mutant}");
    let out = scratch(&format!("{mutant}.json"));
    let out_arg = out.to_str().unwrap();
    let mut args = vec![
        "explore", "--shim", &shim, "--seed", "1", "--cases", "3000", "--out", out_arg,
    ];
    if strict {
        args.push("--strict-errors");
    }
    let explored = cli(&args);
    assert_eq!(explored.status.code(), Some(1), "{}", text(&explored));
    assert!(
        text(&explored).contains("signature: "),
        "{}",
        text(&explored)
    );
    let mut replay = vec!["run", out_arg, "--shim", &shim];
    if strict {
        replay.push("--strict-errors");
    }
    let on_mutant = cli(&replay);
    assert_eq!(on_mutant.status.code(), Some(1), "{}", text(&on_mutant));
    let mut on_reference = vec!["run", out_arg, "--require-all"];
    if strict {
        on_reference.push("--strict-errors");
    }
    let on_reference = cli(&on_reference);
    assert_eq!(
        on_reference.status.code(),
        Some(0),
        "{}",
        text(&on_reference)
    );
}

#[test]
fn a_wire_bug_both_sides_share_is_found_through_the_shim() {
    found_through_the_shim("kdf-ck-constants-swapped", false);
}

#[test]
fn a_non_atomic_decrypt_is_found_through_the_shim() {
    found_through_the_shim("state-kept-on-failed-decrypt", false);
}

#[test]
fn a_restore_bug_is_found_through_the_shim() {
    found_through_the_shim("restored-state-reuses-message-key", false);
}

#[test]
fn an_eviction_bug_is_found_through_the_shim() {
    found_through_the_shim("eviction-newest-first", false);
}

#[test]
fn retained_keys_are_found_through_the_shim() {
    found_through_the_shim("used-keys-retained-in-state", false);
}

#[test]
fn an_unverified_bundle_signature_is_found_through_the_shim() {
    found_through_the_shim("signature-not-verified", false);
}

#[test]
fn a_prekey_store_bug_is_found_through_the_shim() {
    found_through_the_shim("one-time-prekey-not-deleted", false);
}

#[test]
fn a_bound_only_an_authentic_header_shows_is_found_through_the_shim() {
    // The network attacker cannot show it; the sealed domain can.
    found_through_the_shim("pn-unbounded-without-receiving-chain", false);
}

#[test]
fn a_class_only_bug_is_found_in_strict_mode() {
    found_through_the_shim("counter-max-accepted", true);
}

#[test]
fn nothing_compared_is_no_verdict() {
    // A mutant speaks only the default suite: asking for signal-v3 is refused.
    let o = cli(&[
        "explore",
        "--mutant",
        "fixed-nonce",
        "--suite",
        "signal-v3",
        "--cases",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = cli(&["explore", "--mutant", "no-such-bug"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
