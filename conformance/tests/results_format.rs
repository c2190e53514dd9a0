//! What `ratchetproof run` records about a run, so two results can be
//! compared (docs/RESULTS.md): the JSON result's `formatVersion`, the tool,
//! the implementation's name and version as its handshake declared them,
//! the mode, the filter, the suites, and the vector files with the hash of
//! their set; the text summary's header; and `ratchetproof --version`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ratchetproof::vectors::set_hash;

const CLI: &str = env!("CARGO_BIN_EXE_ratchetproof");
const DEFAULT: &str = "x25519-sha256-aes256gcm";

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

/// A shim whose handshake names an implementation the reference is not
/// (`elsewhere 9.8.7`), refusing every operation with `authentication`.
const SHIM: &str = r#"
import json, sys
handshake = {"protocol": 1, "name": "elsewhere", "version": "9.8.7",
             "suites": ["x25519-sha256-aes256gcm"], "operations": ["primitives"],
             "maxSkip": 1000, "configurableLimits": False, "injectedRandomness": True}
for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    if req["op"] == "handshake":
        out = {"id": req["id"], "result": handshake}
    elif req["op"] == "reset":
        out = {"id": req["id"], "result": {}}
    else:
        out = {"id": req["id"], "error": {"class": "authentication", "message": "no"}}
    print(json.dumps(out), flush=True)
"#;

fn shim_command() -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("results-format");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shim.py");
    std::fs::write(&path, SHIM).unwrap();
    format!("python3 {}", path.display())
}

/// The CLI's stdout; its stderr when it printed nothing there.
fn stdout_of(args: &[&str]) -> String {
    let out = Command::new(CLI).args(args).output().unwrap();
    assert!(
        !out.stdout.is_empty(),
        "no output; stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_json_result_names_the_format_tool_implementation_mode_and_vector_set() {
    let root = vectors();
    let primitives = root.join(DEFAULT).join("primitives.json");
    let shim = shim_command();
    let out = stdout_of(&[
        "run",
        &primitives.display().to_string(),
        "--format",
        "json",
        "--strict-errors",
        "--flag",
        "WrongLength",
        "--shim",
        &shim,
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["formatVersion"], 1);
    assert_eq!(json["tool"]["name"], "ratchetproof");
    assert_eq!(json["tool"]["version"], env!("CARGO_PKG_VERSION"));
    // The implementation as its handshake declared it.
    assert_eq!(json["implementation"], "elsewhere 9.8.7");
    let caps = &json["capabilities"];
    assert_eq!(
        (&caps["name"], &caps["version"]),
        (&"elsewhere".into(), &"9.8.7".into())
    );
    assert_eq!(caps["suites"], serde_json::json!([DEFAULT]));
    assert_eq!(caps["operations"], serde_json::json!(["primitives"]));
    assert_eq!(caps["maxSkip"], 1000);
    assert!(caps["maxStoredSkippedKeys"].is_null());
    assert_eq!(json["mode"], "strict");
    assert_eq!(json["filter"]["flags"], serde_json::json!(["WrongLength"]));
    assert_eq!(json["suites"], serde_json::json!([DEFAULT]));
    // The whole set's hash, though one of its files was read.
    let want = set_hash(&root).unwrap().to_string();
    assert_eq!(json["vectors"]["setHash"], want.as_str());
    let files = json["vectors"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["setPath"], format!("{DEFAULT}/primitives.json"));
    assert_eq!(files[0]["path"], json["cases"][0]["file"]);
    assert_eq!(files[0]["sha256"].as_str().unwrap().len(), 64);
    let started = json["startedAt"].as_str().unwrap();
    assert!(started.len() == 20 && started.ends_with('Z'), "{started}");
    // Every case came from the filter, and the shim refused them all.
    assert!(json["cases"].as_array().unwrap().iter().all(|c| {
        c["flags"]
            .as_array()
            .unwrap()
            .contains(&"WrongLength".into())
    }));
}

#[test]
fn the_default_mode_and_the_text_header_name_the_vector_set() {
    let root = vectors();
    let want = set_hash(&root).unwrap().to_string();
    let x3dh = root
        .join("signal-v3")
        .join("x3dh.json")
        .display()
        .to_string();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "run", &x3dh, "--format", "json", "--tc-id", "1",
    ]))
    .unwrap();
    assert_eq!(json["mode"], "default");
    assert_eq!(json["filter"]["tcIds"], serde_json::json!([1]));
    assert_eq!(json["vectors"]["setHash"], want.as_str());
    let text = stdout_of(&["run", &x3dh, "--tc-id", "1"]);
    let head: Vec<&str> = text.lines().take(4).collect();
    assert!(
        head[0].starts_with(&format!(
            "ratchetproof {}, started ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert_eq!(head[1], format!("vectors: {want} (1 file read)"));
    assert!(head[2].starts_with("implementation: "), "{text}");
    assert_eq!(head[3], "mode: default; suites: signal-v3");
}

#[test]
fn a_file_outside_a_vector_set_has_no_set_hash() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("results-format-lone");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let lone = dir.join("x3dh.json");
    std::fs::copy(vectors().join(DEFAULT).join("x3dh.json"), &lone).unwrap();
    let lone = lone.display().to_string();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "run", &lone, "--format", "json", "--tc-id", "1",
    ]))
    .unwrap();
    assert!(json["vectors"]["setHash"].is_null(), "{}", json["vectors"]);
    assert!(json["vectors"]["files"][0]["setPath"].is_null());
    let text = stdout_of(&["run", &lone, "--tc-id", "1"]);
    assert!(
        text.contains("vectors: no set hash: 1 file read, not all inside one vectors/ folder"),
        "{text}"
    );
}

#[test]
fn version_names_the_vector_set_it_finds() {
    let root = vectors();
    let out = Command::new(CLI)
        .arg("--version")
        .env("RATCHETPROOF_VECTORS", &root)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim_end(),
        format!(
            "ratchetproof {} (vectors {})",
            env!("CARGO_PKG_VERSION"),
            set_hash(&root).unwrap()
        )
    );
}
