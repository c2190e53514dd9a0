//! Live interop through the shim protocol's `prekey` group: the reference
//! talks to the reference shim (a separate process, over JSON lines), both
//! ways, in both suites — the same path `ratchetproof interop` takes with a
//! real peer. Also `ratchetproof interop`'s exit status.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ratchetproof::interop::live_both_ways;
use ratchetproof::shim::{ShimClient, ShimConfig};

const REFERENCE_SHIM: &str = env!("CARGO_BIN_EXE_ratchetproof-reference-shim");

#[test]
fn reference_shim_declares_prekey_and_talks_both_ways_in_every_suite() {
    let mut peer = ShimClient::start(ShimConfig::new(REFERENCE_SHIM)).unwrap();
    assert!(peer.handshake().operations.iter().any(|o| o == "prekey"));
    for suite in ratchetproof_protocol::suite::all() {
        for one_time_prekey in [true, false] {
            for outcome in live_both_ways(&mut peer, suite.name(), one_time_prekey) {
                let report = outcome.unwrap();
                assert_eq!(
                    (report.to_bob, report.to_alice),
                    (18, 13),
                    "{}",
                    suite.name()
                );
            }
        }
    }
}

#[test]
fn interop_command_reports_a_peer_without_prekey_sessions_and_a_dead_shim() {
    // The faulty shim without fault rules is the reference over the plain
    // server, which answers `unsupported` to prekey_initiate.
    let run = |shim: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ratchetproof"))
            .args(["interop", "--shim", shim])
            .output()
            .unwrap()
    };
    let out = run(env!("CARGO_BIN_EXE_ratchetproof-faulty-shim"));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("FAILED").count(), 2, "{stdout}");
    assert!(
        stdout.contains("unsupported") || stdout.contains("prekey"),
        "{stdout}"
    );

    let out = run("exit 3");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explore_through_the_reference_shim_finds_nothing() {
    use ratchetproof::interop::explore::{ExploreOptions, Verdict, explore};
    let mut peer = ShimClient::start(ShimConfig::new(REFERENCE_SHIM)).unwrap();
    let e = explore(
        &mut peer,
        &ExploreOptions::new("signal-v3", 11, 25),
        &mut |_| {},
    );
    assert_eq!(e.verdict, Verdict::NothingFound);
    assert_eq!(e.cases, 25);
    assert!(e.coverage.replays > 0 && e.coverage.tampered > 0);
}

#[test]
fn interop_explore_command_exit_status() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ratchetproof"))
            .arg("interop")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "--shim",
        REFERENCE_SHIM,
        "--explore",
        "--seed",
        "5",
        "--cases",
        "10",
        "--time",
        "60s",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("nothing found: 10 cases of seed 5"),
        "{stdout}"
    );
    // A peer without the prekey group gives no verdict.
    let out = run(&[
        "--shim",
        env!("CARGO_BIN_EXE_ratchetproof-faulty-shim"),
        "--explore",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prekey"));
    // Exploration options need --explore.
    let out = run(&["--shim", REFERENCE_SHIM, "--seed", "5"]);
    assert_eq!(out.status.code(), Some(2));
}
