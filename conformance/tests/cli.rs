//! `ratchetproof run` never ends green when nothing, or not what was asked,
//! was checked: a run that executed no case, a filter value that selects
//! nothing and an unmet coverage requirement exit 2; a known-failures list
//! cannot absorb another suite's failures nor a case that fails otherwise.
//! The shims here are a few lines of Python that declare what a test needs
//! and refuse every operation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLI: &str = env!("CARGO_BIN_EXE_ratchetproof");
const DEFAULT: &str = "x25519-sha256-aes256gcm";

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

fn suite_dir(suite: &str) -> String {
    vectors().join(suite).display().to_string()
}

/// A folder of its own for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const REFUSING_SHIM: &str = r#"
import json, os, sys
handshake = json.loads(os.environ["TEST_HANDSHAKE"])
refuse = os.environ.get("TEST_REFUSE", "authentication")
for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    if req["op"] == "handshake":
        out = {"id": req["id"], "result": handshake}
    elif req["op"] == "reset":
        out = {"id": req["id"], "result": {}}
    else:
        out = {"id": req["id"], "error": {"class": refuse, "message": "refuses everything"}}
    print(json.dumps(out), flush=True)
"#;

/// A shim declaring `suites` and `operations` (and injected randomness,
/// clone and configurable limits as asked) that refuses every operation with
/// `refuse`.
struct Shim {
    command: String,
    handshake: String,
    refuse: &'static str,
}

impl Shim {
    fn new(dir: &Path, suites: &[&str], operations: &[&str], randomness: bool) -> Self {
        let path = dir.join("shim.py");
        std::fs::write(&path, REFUSING_SHIM).unwrap();
        let handshake = serde_json::json!({
            "protocol": 1,
            "name": "refuses-everything",
            "version": "0",
            "suites": suites,
            "operations": operations,
            "configurableLimits": true,
            "injectedRandomness": randomness,
            "clone": operations.contains(&"clone"),
        });
        Shim {
            command: format!("python3 {}", path.display()),
            handshake: handshake.to_string(),
            refuse: "authentication",
        }
    }

    fn all(dir: &Path) -> Self {
        Self::new(
            dir,
            &[DEFAULT, "signal-v3"],
            &["primitives", "x3dh", "session", "clone", "x3dh_accept"],
            true,
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(CLI)
            .arg("run")
            .args(args)
            .args(["--shim", &self.command, "--jobs", "2"])
            .env("TEST_HANDSHAKE", &self.handshake)
            .env("TEST_REFUSE", self.refuse)
            .output()
            .unwrap()
    }
}

/// The reference, in process.
fn reference(args: &[&str]) -> Output {
    Command::new(CLI).arg("run").args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[track_caller]
fn assert_exit(out: &Output, want: i32) {
    assert_eq!(
        code(out),
        want,
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_shim_declaring_no_operation_group_gets_exit_2_and_the_reasons() {
    let dir = scratch("no-groups");
    let shim = Shim::new(&dir, &[DEFAULT], &[], false);
    let all = vectors().display().to_string();
    let out = shim.run(&[&all]);
    assert_exit(&out, 2);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no case executed"), "{stderr}");
    for reason in [
        "suite signal-v3 not declared (",
        "operation group session not declared (",
        "operation group primitives not declared (",
        "operation group x3dh not declared (",
        "operation group x3dh_accept not declared (",
    ] {
        assert!(stdout.contains(reason), "{reason} missing in\n{stdout}");
    }
    // The JSON report counts them too, as structured values.
    let out = shim.run(&[&all, "--format", "json"]);
    assert_exit(&out, 2);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &json["summary"];
    assert_eq!(summary["executed"], 0);
    let because = summary["skippedBecause"].as_array().unwrap();
    let session = because
        .iter()
        .find(|b| b["missing"] == "operation" && b["group"] == "session")
        .unwrap();
    let scenarios = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["suite"] == DEFAULT
                && c["file"]
                    .as_str()
                    .unwrap()
                    .ends_with("session_scenarios.json")
        })
        .count();
    // Each skipped case is counted once, under the first thing it lacks.
    assert_eq!(session["cases"], scenarios);
    let counted: u64 = because.iter().map(|b| b["cases"].as_u64().unwrap()).sum();
    assert_eq!(summary["skipped"], counted);
    assert_eq!(json["cases"].as_array().unwrap().len() as u64, counted);
    assert!(
        because
            .iter()
            .any(|b| b["missing"] == "suite" && b["suite"] == "signal-v3")
    );
}

#[test]
fn a_shim_without_injected_randomness_is_told_what_it_misses() {
    let dir = scratch("no-randomness");
    let shim = Shim::new(&dir, &[DEFAULT], &["session"], false);
    let file = vectors().join(DEFAULT).join("session_scenarios.json");
    let out = shim.run(&[&file.display().to_string()]);
    assert_exit(&out, 2);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("injected randomness (`injectedRandomness: true`) not declared ("),
        "{stdout}"
    );
}

#[test]
fn filter_values_that_select_nothing_exit_2_and_are_named() {
    let default = suite_dir(DEFAULT);
    let out = reference(&[&default, "--flag", "ForwardSecrity"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--flag ForwardSecrity") && stderr.contains("did you mean ForwardSecrecy?"),
        "{stderr}"
    );
    let out = reference(&[&default, "--tc-id", "99999", "--tc-id", "1"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--tc-id 99999"), "{stderr}");
    assert!(!stderr.contains("--tc-id 1 "), "{stderr}");
    let out = reference(&[&default, "--file", "no_such_file"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("--file \"no_such_file\""));
    // Each value is checked together with the other filters: primitives has
    // no ForwardSecrecy case.
    let out = reference(&[&default, "--file", "primitives", "--flag", "ForwardSecrecy"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("--flag ForwardSecrecy is no flag of the selected files"));
    // tcId 1 is a case of every file, but none is a ForwardSecrecy case.
    let out = reference(&[&default, "--flag", "ForwardSecrecy", "--tc-id", "1"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--tc-id 1 matches no selected case"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--flag ForwardSecrecy matches no case selected by the other filters"),
        "{stderr}"
    );
    // Values that do select run normally.
    let out = reference(&[&default, "--flag", "ForwardSecrecy", "--tc-id", "42"]);
    assert_exit(&out, 0);
    let out = reference(&[&default, "--file", "primitives", "--tc-id", "1"]);
    assert_exit(&out, 0);
}

#[test]
fn coverage_requirements_exit_2_naming_what_is_missing() {
    let default = suite_dir(DEFAULT);
    let dir = scratch("coverage");
    // Declares the default suite's primitives only, and passes nothing: its
    // refusals fail the primitives cases (exit 1) unless coverage is unmet.
    let shim = Shim::new(&dir, &[DEFAULT], &["primitives"], false);
    let primitives = vectors()
        .join(DEFAULT)
        .join("primitives.json")
        .display()
        .to_string();
    assert_exit(&shim.run(&[&primitives]), 1);
    let out = shim.run(&[&default, "--require-operation", "session"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("required operation group session:")
            && stderr.contains("selected cases were skipped because it is not declared"),
        "{stderr}"
    );
    let out = shim.run(&[&default, "--require-all"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("--require-all:"));
    let out = shim.run(&[&primitives, "--require-suite", "signal-v3"]);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr)
            .contains("required suite signal-v3: 0 selected cases that need it executed")
    );
    let out = shim.run(&[&primitives, "--min-executed", "100000"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("--min-executed 100000: only"));
    let out = shim.run(&[&primitives, "--require-operation", "sesion"]);
    assert_exit(&out, 2);
    // The reference meets every requirement.
    let out = reference(&[
        &default,
        "--require-all",
        "--require-suite",
        DEFAULT,
        "--require-operation",
        "clone",
        "--min-executed",
        "10",
    ]);
    assert_exit(&out, 0);
}

#[test]
fn a_list_recorded_on_one_suite_does_not_absorb_the_other_suites_failures() {
    let dir = scratch("collision");
    let mut shim = Shim::all(&dir);
    let list = dir.join("known.txt");
    let list_arg = list.display().to_string();
    let default = suite_dir(DEFAULT);
    let signal = suite_dir("signal-v3");
    // Recorded on the default suite, the list holds every one of its cases.
    let out = shim.run(&[&default, "--write-known-failures", &list_arg]);
    assert_exit(&out, 0);
    let recorded = std::fs::read_to_string(&list).unwrap();
    assert!(
        recorded
            .lines()
            .all(|l| l.starts_with('#') || l.is_empty() || l.starts_with(&format!("{DEFAULT}/")))
    );
    assert_exit(&shim.run(&[&default, "--known-failures", &list_arg]), 0);
    // signal-v3 shares file names and tcIds; its failures are all new.
    let out = shim.run(&[&default, &signal, "--known-failures", &list_arg]);
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("NEW: signal-v3/x3dh.json 1 "), "{stderr}");
    assert!(!stderr.contains(&format!("NEW: {DEFAULT}/")), "{stderr}");
    // The same cases failing with another class are changed.
    shim.refuse = "malformed";
    let out = shim.run(&[&default, "--known-failures", &list_arg]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("CHANGED: "));
}

#[test]
fn old_style_lists_are_refused_with_the_way_to_write_them() {
    let dir = scratch("old-list");
    let list = dir.join("known.txt");
    std::fs::write(&list, "# old\nx3dh.json 25 failed\n").unwrap();
    let out = reference(&[
        &suite_dir(DEFAULT),
        "--known-failures",
        &list.display().to_string(),
    ]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("SUITE/x3dh.json"));
}

#[test]
fn a_stale_entry_fails_the_comparison() {
    let dir = scratch("stale");
    let list = dir.join("known.txt");
    std::fs::write(
        &list,
        format!("# the reference passes this\n{DEFAULT}/primitives.json 1 failed accepted\n"),
    )
    .unwrap();
    let out = reference(&[
        &suite_dir(DEFAULT),
        "--known-failures",
        &list.display().to_string(),
    ]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("STALE: x25519-sha256-aes256gcm/primitives.json 1"));
}
