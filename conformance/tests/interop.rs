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
