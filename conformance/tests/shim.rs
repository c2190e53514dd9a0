//! The shim protocol end to end: the reference over the protocol gives
//! exactly the in-process results, and a shim that misbehaves in any of the
//! ways `docs/SHIM.md` lists makes only its own case errored — the shim is
//! restarted, the run continues and never hangs (short timeouts keep these
//! tests fast).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ratchetproof::runner::{self, Filter, Report, RunOptions, Status};
use ratchetproof::shim::{ShimClient, ShimConfig};
use ratchetproof::vectors::{AnyFile, PrimitiveInput};
use ratchetproof::{Implementation, Reference};

const REFERENCE_SHIM: &str = env!("CARGO_BIN_EXE_ratchetproof-reference-shim");
const FAULTY_SHIM: &str = env!("CARGO_BIN_EXE_ratchetproof-faulty-shim");

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

fn primitives_file() -> PathBuf {
    vectors_dir().join("x25519-sha256-aes256gcm/primitives.json")
}

fn config(command: String, timeout_ms: u64) -> ShimConfig {
    let mut config = ShimConfig::new(command);
    config.timeout = Duration::from_millis(timeout_ms);
    config.max_line_bytes = 64 * 1024;
    config
}

fn clients(config: &ShimConfig, jobs: usize) -> Vec<Box<dyn Implementation + Send>> {
    (0..jobs)
        .map(|_| {
            Box::new(ShimClient::start(config.clone()).unwrap()) as Box<dyn Implementation + Send>
        })
        .collect()
}

fn statuses(report: &Report) -> Vec<(String, u32, Status)> {
    report
        .cases
        .iter()
        .map(|c| (c.file.clone(), c.tc_id, c.status.clone()))
        .collect()
}

#[test]
fn the_reference_over_the_protocol_gives_exactly_the_in_process_results() {
    let paths = [vectors_dir()];
    for (strict_errors, jobs) in [(true, 2), (false, 1)] {
        let options = RunOptions {
            strict_errors,
            ..Default::default()
        };
        let in_process =
            runner::run_paths(&mut Reference::new(), &paths, &options, |_, _, _| {}).unwrap();
        let mut shims = clients(&config(REFERENCE_SHIM.into(), 10_000), jobs);
        let over_shim =
            runner::run_paths_parallel(&mut shims, &paths, &options, &|_, _| {}).unwrap();
        assert!(in_process.cases.len() >= 500);
        assert_eq!(statuses(&in_process), statuses(&over_shim));
        assert_eq!(in_process.implementation, over_shim.implementation);
    }
}

/// kdf_ck cases of primitives.json with their chain keys (hex), by tcId.
fn kdf_ck_cases() -> BTreeMap<u32, String> {
    let AnyFile::Primitives(file) = runner::load(&primitives_file()).unwrap() else {
        panic!("not a primitives file");
    };
    file.tests
        .iter()
        .filter_map(|c| match &c.input {
            PrimitiveInput::KdfCk { chain_key } => {
                Some((c.info.tc_id, hex::encode(chain_key.as_slice())))
            }
            _ => None,
        })
        .collect()
}

fn faulty(rules: &[(&str, &str)]) -> String {
    let rules: Vec<String> = rules.iter().map(|(b, n)| format!("{b}={n}")).collect();
    format!(
        "RATCHETPROOF_FAULTS='{}' RATCHETPROOF_FAULTY_SLOW_MS=100 exec '{FAULTY_SHIM}'",
        rules.join(";")
    )
}

fn run_cases(command: String, timeout_ms: u64, jobs: usize, tc_ids: Vec<u32>) -> Report {
    let options = RunOptions {
        strict_errors: true,
        filter: Filter {
            tc_ids,
            ..Default::default()
        },
    };
    let mut shims = clients(&config(command, timeout_ms), jobs);
    runner::run_paths_parallel(&mut shims, &[primitives_file()], &options, &|_, _| {}).unwrap()
}

fn errored(report: &Report, tc_id: u32) -> (String, String) {
    let case = report.cases.iter().find(|c| c.tc_id == tc_id).unwrap();
    match &case.status {
        Status::Errored { message, stderr } => {
            (message.clone(), stderr.clone().unwrap_or_default())
        }
        other => panic!("tcId {tc_id}: expected errored, got {other:?}"),
    }
}

/// Every misbehaviour in one run: each faulty case is errored with a message
/// naming the cause, every other case (including one answered slowly) passes.
fn misbehaviours_make_only_their_case_errored(jobs: usize) {
    let cases = kdf_ck_cases();
    // 32-byte keys only: a wrong-length key could contain another case's key.
    let mut valid = cases.iter().filter(|(_, k)| k.len() == 64);
    let behaviours: [(&str, &[&str]); 11] = [
        ("crash", &["exited", "exit status: 3"]),
        ("exit", &["closed its stdout without answering"]),
        ("hang", &["no response within the timeout of 400 ms"]),
        ("garbage", &["not a response line", "this is not JSON"]),
        ("non_utf8", &["not UTF-8"]),
        ("long_line", &["longer than the limit of 65536 bytes"]),
        ("partial", &["no response within the timeout"]),
        ("wrong_id", &["has id"]),
        ("unknown_class", &["unknown error class \"mystery\""]),
        (
            "bad_result",
            &["does not have the fields of a kdf_ck result"],
        ),
        ("slow", &[]),
    ];
    let mut rules = Vec::new();
    let mut expect = Vec::new();
    for (behaviour, words) in behaviours {
        let (tc, key) = valid.next().unwrap();
        rules.push((behaviour, key.as_str()));
        expect.push((*tc, behaviour, words));
    }
    let clean: Vec<u32> = valid.take(4).map(|(tc, _)| *tc).collect();
    let mut tc_ids: Vec<u32> = expect.iter().map(|(tc, _, _)| *tc).collect();
    tc_ids.extend(&clean);

    let started = Instant::now();
    let report = run_cases(faulty(&rules), 400, jobs, tc_ids.clone());
    let elapsed = started.elapsed();
    assert_eq!(report.cases.len(), tc_ids.len());
    for (tc, behaviour, words) in expect {
        if behaviour == "slow" {
            let case = report.cases.iter().find(|c| c.tc_id == tc).unwrap();
            assert_eq!(case.status, Status::Passed, "slow but within the timeout");
            continue;
        }
        let (message, stderr) = errored(&report, tc);
        for word in words {
            assert!(
                message.contains(word),
                "{behaviour}: {message:?} lacks {word:?}"
            );
        }
        if behaviour == "crash" {
            assert!(stderr.contains("crashing on request"), "{stderr:?}");
        }
        if behaviour == "hang" {
            assert!(stderr.contains("hanging on request"), "{stderr:?}");
        }
    }
    for tc in clean {
        let case = report.cases.iter().find(|c| c.tc_id == tc).unwrap();
        assert_eq!(case.status, Status::Passed, "tcId {tc}");
    }
    // Two timeouts of 400 ms, ten restarts: seconds, not minutes.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn each_misbehaviour_errors_only_its_case_and_the_run_continues() {
    misbehaviours_make_only_their_case_errored(1);
}

#[test]
fn misbehaving_shims_never_hang_a_parallel_run() {
    misbehaviours_make_only_their_case_errored(2);
}

#[test]
fn a_crash_where_a_rejection_is_expected_is_errored_not_passed() {
    let cases = kdf_ck_cases();
    let (tc, key) = cases
        .iter()
        .find(|(_, k)| k.len() != 64 && !k.is_empty())
        .unwrap();
    let report = run_cases(faulty(&[("crash", key)]), 2_000, 1, vec![*tc]);
    let (message, _) = errored(&report, *tc);
    assert!(message.contains("kdf_ck"), "{message}");
}

#[test]
fn a_shim_that_fails_its_handshake_is_reported_at_start() {
    for (behaviour, word) in [
        ("crash", "exited"),
        ("hang", "timeout of 300 ms"),
        ("garbage", "not a response line"),
    ] {
        let started = Instant::now();
        let err = ShimClient::start(config(faulty(&[(behaviour, "handshake")]), 300)).unwrap_err();
        assert!(err.message.contains(word), "{behaviour}: {err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        if behaviour == "crash" {
            assert!(err.stderr.contains("crashing"), "{err}");
        }
    }
    let err = ShimClient::start(config("exec /nonexistent/shim".into(), 300)).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/shim"), "{err}");
}

#[test]
fn a_shim_that_cannot_restart_errors_the_remaining_cases_at_once() {
    let cases = kdf_ck_cases();
    let keys: Vec<(u32, String)> = cases
        .into_iter()
        .filter(|(_, k)| k.len() == 64)
        .take(8)
        .collect();
    let marker =
        std::env::temp_dir().join(format!("ratchetproof-shim-restart-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    // Starts once; every later start exits before the handshake.
    let command = format!(
        "if [ -e '{m}' ]; then echo 'will not start again' >&2; exit 4; fi; touch '{m}'; {shim}",
        m = marker.display(),
        shim = faulty(&[("crash", &keys[2].1)]),
    );
    let started = Instant::now();
    let report = run_cases(command, 2_000, 1, keys.iter().map(|(tc, _)| *tc).collect());
    let _ = std::fs::remove_file(&marker);
    assert!(started.elapsed() < Duration::from_secs(10));
    let status: Vec<&Status> = report.cases.iter().map(|c| &c.status).collect();
    assert_eq!(status[0], &Status::Passed);
    assert_eq!(status[1], &Status::Passed);
    let (crash, _) = errored(&report, keys[2].0);
    assert!(crash.contains("exited"), "{crash}");
    let (first_restart, stderr) = errored(&report, keys[3].0);
    assert!(
        first_restart.contains("restarting the shim failed"),
        "{first_restart}"
    );
    assert!(stderr.contains("will not start again"), "{stderr}");
    let (gave_up, _) = errored(&report, keys[7].0);
    assert!(gave_up.contains("not restarted again"), "{gave_up}");
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ratchetproof"))
        .args(args)
        .current_dir(vectors_dir().join(".."))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_runs_shims_and_checks_known_failures() {
    let primitives = primitives_file();
    let primitives = primitives.to_str().unwrap();
    let (code, stdout, stderr) = cli(&["run", "--shim", REFERENCE_SHIM, "--jobs", "2", primitives]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("144 passed, 0 failed"), "{stdout}");

    let cases = kdf_ck_cases();
    let (tc, key) = cases.iter().find(|(_, k)| k.len() == 64).unwrap();
    let shim = faulty(&[("crash", key)]);
    let tc = tc.to_string();
    let args = [
        "run",
        "--shim",
        &shim,
        "--timeout-ms",
        "2000",
        "--flag",
        "KdfCk",
        primitives,
    ];
    let (code, stdout, _) = cli(&args);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("errored") && stdout.contains("crashing on request"),
        "{stdout}"
    );

    let list = std::env::temp_dir().join(format!("ratchetproof-known-{}", std::process::id()));
    let with_list = |text: String| {
        std::fs::write(&list, text).unwrap();
        let mut a = args.to_vec();
        a.extend(["--known-failures", list.to_str().unwrap()]);
        cli(&a)
    };
    let d = "x25519-sha256-aes256gcm";
    let (code, _, stderr) = with_list(format!(
        "# a known crash\n{d}/primitives.json {tc} errored\n"
    ));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = with_list(String::new());
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("NEW: {d}/primitives.json {tc} errored")),
        "{stderr}"
    );
    let (code, _, stderr) = with_list(format!(
        "{d}/primitives.json {tc} errored\n{d}/primitives.json 1 failed accepted\n"
    ));
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("STALE: {d}/primitives.json 1 ")),
        "{stderr}"
    );
    // A crash listed as a failure is a change, not a match.
    let (code, _, stderr) = with_list(format!("{d}/primitives.json {tc} failed class=state\n"));
    assert_eq!(code, 1);
    assert!(stderr.contains("CHANGED: "), "{stderr}");
    // An entry names its case in one suite only.
    let (code, _, stderr) = with_list(format!("signal-v3/primitives.json {tc} errored\n"));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("STALE: signal-v3/primitives.json"),
        "{stderr}"
    );
    // A bare file name no longer names a case.
    let (code, _, stderr) = with_list(format!("primitives.json {tc} errored\n"));
    assert_eq!(code, 2);
    assert!(stderr.contains("SUITE/primitives.json"), "{stderr}");
    let (code, _, _) = with_list("primitives.json x".into());
    assert_eq!(code, 2);
    let _ = std::fs::remove_file(&list);

    let (code, _, stderr) = cli(&["run", "--shim", "exit 7", primitives]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("handshake"), "{stderr}");
}
