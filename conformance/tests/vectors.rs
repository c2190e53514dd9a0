//! The committed vectors: schema-valid, reproducible, passed by the reference,
//! and able to catch broken implementations. Also: the runner's handling of
//! broken vector files and of implementations that lack a capability.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ratchetproof::implementation::*;
use ratchetproof::runner::{self, Report, RunOptions, Status, load};
use ratchetproof::{Reference, generate};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

fn run(imp: &mut dyn Implementation, options: &RunOptions) -> Report {
    runner::run_paths(imp, &[vectors_dir()], options, |_, _, _| {}).unwrap()
}

/// tcIds (file name, tcId) that did not pass.
fn failures(report: &Report) -> BTreeSet<(String, u32)> {
    report
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Failed { .. } | Status::Errored { .. }))
        .map(|c| {
            (
                Path::new(&c.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                c.tc_id,
            )
        })
        .collect()
}

fn failed_flags(report: &Report) -> BTreeSet<String> {
    report
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Failed { .. }))
        .flat_map(|c| c.flags.iter().cloned())
        .collect()
}

#[test]
fn committed_vectors_are_exactly_what_the_generator_writes() {
    let first = generate::generate().unwrap();
    let second = generate::generate().unwrap();
    assert_eq!(first, second, "generation must be deterministic");
    let stale = generate::check(&vectors_dir(), &first);
    assert!(
        stale.is_empty(),
        "stale vectors {stale:?}: run `cargo run -p ratchetproof -- generate`"
    );
}

/// The `olm-v1` files (not a `CipherSuite` yet, docs/OLM-V1.md §10):
/// primitives, session scenarios and the key agreement.
const OLM_FILES: usize = 3;

#[test]
fn every_committed_file_validates_against_its_schema() {
    let files = runner::collect(&[vectors_dir()]).unwrap();
    // primitives, session_scenarios and the agreement's two families (x3dh
    // and x3dh_accept, or pqxdh and pqxdh_accept for a suite with a KEM),
    // per suite; and
    // olm-v1's primitives, session_scenarios and key_agreement.
    assert_eq!(
        files.len(),
        4 * ratchetproof_protocol::suite::all().len() + OLM_FILES
    );
    for path in files {
        // load() validates with the JSON Schema before typing the file.
        load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn the_reference_passes_every_vector_strictly() {
    let report = run(
        &mut Reference::new(),
        &RunOptions {
            strict_errors: true,
            ..Default::default()
        },
    );
    let totals = report.totals();
    assert!(report.success(), "{}", report.to_text());
    assert!(totals.passed >= 500, "{totals:?}");
    assert_eq!(totals.skipped, 0);
}

#[test]
fn suite_size_and_adversarial_share_meet_the_floor() {
    let mut results = BTreeMap::<String, usize>::new();
    for path in runner::collect(&[vectors_dir()]).unwrap() {
        let file = load(&path).unwrap();
        for info in file.infos() {
            *results.entry(format!("{:?}", info.result)).or_default() += 1;
        }
    }
    let total: usize = results.values().sum();
    let invalid = results.get("Invalid").copied().unwrap_or(0);
    assert!(total >= 500 && invalid * 10 >= total * 4, "{results:?}");
}

/// Flips the last byte of everything the implementation encrypts.
struct CorruptsOutput(Reference);

/// Answers a replayed message with the plaintext it gave the first time.
struct AcceptsReplays {
    inner: Reference,
    seen: BTreeMap<(SessionHandle, Vec<u8>), Vec<u8>>,
}

/// Declares no clone support.
struct CannotClone(Reference);

impl Implementation for CorruptsOutput {
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    fn seal(&mut self, r: &Seal) -> ImplResult<SealOutput> {
        let mut out = self.0.seal(r)?;
        *out.message.last_mut().unwrap() ^= 1;
        Ok(out)
    }
    fn encrypt(&mut self, r: &Encrypt) -> ImplResult<EncryptOutput> {
        let mut out = self.0.encrypt(r)?;
        *out.message.last_mut().unwrap() ^= 1;
        Ok(out)
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.0)
    }
    fn reset(&mut self) {
        self.0.reset()
    }
}

impl Implementation for AcceptsReplays {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
        let seen = (r.session, r.message.clone());
        match self.inner.decrypt(r) {
            Ok(out) => {
                self.seen.insert(seen, out.plaintext.clone());
                Ok(out)
            }
            Err(e) => match self.seen.get(&seen) {
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
        self.inner.reset()
    }
}

impl Implementation for CannotClone {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.0.capabilities();
        caps.operations.remove(&Operation::Clone);
        caps
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.0)
    }
    fn reset(&mut self) {
        self.0.reset()
    }
}

#[test]
fn an_implementation_that_corrupts_one_byte_fails_the_seal_and_send_vectors() {
    let report = run(
        &mut CorruptsOutput(Reference::new()),
        &RunOptions::default(),
    );
    let flags = failed_flags(&report);
    assert!(
        flags.contains("Seal") && flags.contains("InOrder"),
        "{flags:?}"
    );
    // Every primitive-seal case and every scenario with a send fails; X3DH is untouched.
    let failed = failures(&report);
    assert!(failed.iter().all(|(f, _)| f != "x3dh.json"));
    assert!(
        failed
            .iter()
            .filter(|(f, _)| f == "session_scenarios.json")
            .count()
            >= 300
    );
}

#[test]
fn an_implementation_that_accepts_replays_fails_the_replay_vectors() {
    let report = run(
        &mut AcceptsReplays {
            inner: Reference::new(),
            seen: BTreeMap::new(),
        },
        &RunOptions::default(),
    );
    let flags = failed_flags(&report);
    assert!(flags.contains("Replay"), "{flags:?}");
    // Nothing else may fail: the replay vectors pinpoint the bug.
    for c in report
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Failed { .. }))
    {
        assert!(
            c.flags
                .iter()
                .any(|f| f == "Replay" || f == "ForwardSecrecy"),
            "tcId {} {:?}",
            c.tc_id,
            c.flags
        );
    }
}

#[test]
fn missing_capabilities_skip_cases_instead_of_failing_them() {
    let report = run(&mut CannotClone(Reference::new()), &RunOptions::default());
    let t = report.totals();
    assert!(report.success());
    assert!(t.skipped >= 14, "{t:?}");
    for c in &report.cases {
        if let Status::Skipped { reason, .. } = &c.status {
            assert!(reason.contains("clone"), "{reason}");
            assert!(
                c.flags.iter().any(|f| f == "ForwardSecrecy"
                    || f == "PostCompromise"
                    || f == "RestoredSession"),
                "{:?}",
                c.flags
            );
        }
    }
}

#[test]
fn filters_select_by_file_flag_and_tc_id() {
    let options = RunOptions {
        filter: runner::Filter {
            files: vec!["session".into()],
            flags: vec!["Replay".into()],
            tc_ids: vec![],
        },
        ..Default::default()
    };
    let report = run(&mut Reference::new(), &options);
    assert!(!report.cases.is_empty());
    assert!(
        report
            .cases
            .iter()
            .all(|c| c.file.contains("session") && c.flags.iter().any(|f| f == "Replay"))
    );
    let options = RunOptions {
        filter: runner::Filter {
            tc_ids: vec![3],
            ..Default::default()
        },
        ..Default::default()
    };
    // tcId 3 of every file.
    assert_eq!(
        run(&mut Reference::new(), &options).cases.len(),
        4 * ratchetproof_protocol::suite::all().len() + OLM_FILES
    );
}

#[test]
fn reports_render_as_text_json_and_junit() {
    let options = RunOptions {
        filter: runner::Filter {
            tc_ids: vec![1, 2],
            ..Default::default()
        },
        ..Default::default()
    };
    let report = run(&mut CorruptsOutput(Reference::new()), &options);
    let text = report.to_text();
    assert!(
        text.contains("expected:") && text.contains("failed"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["cases"].as_array().unwrap().len(), report.cases.len());
    let xml = report.to_junit().unwrap();
    assert!(
        xml.contains("<testsuites") && xml.contains("<failure"),
        "{xml}"
    );
}

fn cli(args: &[&str], dir: &Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ratchetproof"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn broken_vector_files_are_usage_errors_that_name_the_problem() {
    let dir = std::env::temp_dir().join(format!("ratchetproof-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good =
        std::fs::read_to_string(vectors_dir().join("x25519-sha256-aes256gcm/x3dh.json")).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("not-json", "{".into(), "not JSON"),
        ("no-schema", "{}".into(), "no schema.name"),
        (
            "bad-hex",
            good.replacen(
                "\"identityPrivateKey\": \"",
                "\"identityPrivateKey\": \"zz",
                1,
            ),
            "tcId 1",
        ),
        (
            "upper-hex",
            good.replacen("\"sharedKey\": \"", "\"sharedKey\": \"AB", 1),
            "tcId 1",
        ),
        (
            "count",
            {
                // The count of the committed file, whatever it is, plus one.
                let n = serde_json::from_str::<serde_json::Value>(&good).unwrap()["numberOfTests"]
                    .as_u64()
                    .unwrap();
                good.replacen(
                    &format!("\"numberOfTests\": {n}"),
                    &format!("\"numberOfTests\": {}", n + 1),
                    1,
                )
            },
            "numberOfTests",
        ),
        (
            "dup-id",
            good.replacen("\"tcId\": 2,", "\"tcId\": 1,", 1),
            "tcId 1 appears more than once",
        ),
        (
            "unknown-field",
            good.replacen("\"suite\":", "\"extra\": 1, \"suite\":", 1),
            "extra",
        ),
        (
            "version",
            good.replacen("\"version\": 2", "\"version\": 9", 1),
            "schema version",
        ),
    ];
    for (name, text, needle) in cases {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, text).unwrap();
        let (code, stderr) = cli(&["run", path.to_str().unwrap()], &dir);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains(&format!("{name}.json")),
            "{name}: {stderr}"
        );
    }
    let (code, stderr) = cli(&["run", "/nonexistent/vectors"], &dir);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cli_exit_codes_follow_the_outcome() {
    let root = vectors_dir().join("..");
    let (code, stderr) = cli(&["run", "--tc-id", "1"], &root);
    assert_eq!(code, 0, "{stderr}");
    let (code, _) = cli(&["run", "--no-such-flag"], &root);
    assert_eq!(code, 2);
}

/// The reference, changed by the test: without the prekey group, or with
/// `encrypt` answering no message type.
struct OlmVariant {
    inner: Reference,
    prekey: bool,
    typed: bool,
}

impl Implementation for OlmVariant {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        if !self.prekey {
            caps.operations.remove(&Operation::Prekey);
        }
        caps
    }
    fn encrypt(&mut self, request: &Encrypt) -> ImplResult<EncryptOutput> {
        let mut out = self.inner.encrypt(request)?;
        if !self.typed {
            out.message_type = None;
        }
        Ok(out)
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.inner)
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
}

/// olm-v1 scenarios start from Olm's key agreement: an implementation
/// without the prekey group skips every one, naming the group; one whose
/// sends report no message type fails every one that sends.
#[test]
fn olm_scenarios_need_the_prekey_group_and_the_message_type() {
    let options = RunOptions {
        filter: runner::Filter {
            files: vec!["olm-v1/session".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut without = OlmVariant {
        inner: Reference::new(),
        prekey: false,
        typed: true,
    };
    let report = run(&mut without, &options);
    assert!(report.cases.len() >= 40, "{}", report.cases.len());
    for case in &report.cases {
        let Status::Skipped { missing, .. } = &case.status else {
            panic!("tcId {} ran without the prekey group", case.tc_id);
        };
        assert!(missing.contains(&runner::Capability::Operation {
            group: Operation::Prekey
        }));
    }
    let mut untyped = OlmVariant {
        inner: Reference::new(),
        prekey: true,
        typed: false,
    };
    let report = run(&mut untyped, &options);
    assert!(
        report
            .cases
            .iter()
            .all(|c| matches!(c.status, Status::Failed { .. })),
        "a send without its message type must fail"
    );
    let mut reference = OlmVariant {
        inner: Reference::new(),
        prekey: true,
        typed: true,
    };
    assert!(failures(&run(&mut reference, &options)).is_empty());
}

/// Declares neither PQXDH group.
struct NoPqxdh(Reference);

impl Implementation for NoPqxdh {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.0.capabilities();
        caps.operations.remove(&Operation::Pqxdh);
        caps.operations.remove(&Operation::PqxdhAccept);
        caps
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.0)
    }
    fn reset(&mut self) {
        self.0.reset()
    }
}

/// A PQXDH store that keeps every KEM prekey (`keep: true`: all treated as
/// last resort) or deletes every one after use (`keep: false`).
struct KemPrekeysAll {
    inner: Reference,
    keep: bool,
}

impl Implementation for KemPrekeysAll {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn pqxdh_accept(&mut self, r: &PqxdhAccept) -> ImplResult<X3dhAcceptOutput> {
        let mut r = r.clone();
        for k in &mut r.kem_prekeys {
            k.last_resort = self.keep;
        }
        self.inner.pqxdh_accept(&r)
    }
    fn forward(&mut self, request: Request) -> ImplResult<Response> {
        request.answer(&mut self.inner)
    }
    fn reset(&mut self) {
        self.inner.reset()
    }
}

#[test]
fn pqxdh_cases_are_skipped_not_passed_without_their_groups() {
    let report = run(&mut NoPqxdh(Reference::new()), &RunOptions::default());
    let skipped: Vec<_> = report
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Skipped { .. }))
        .collect();
    assert!(!skipped.is_empty());
    assert!(
        skipped
            .iter()
            .all(|c| c.file.ends_with("pqxdh.json") || c.file.ends_with("pqxdh_accept.json"))
    );
    let pq_cases = report
        .cases
        .iter()
        .filter(|c| c.file.ends_with("pqxdh.json") || c.file.ends_with("pqxdh_accept.json"))
        .count();
    assert_eq!(skipped.len(), pq_cases);
    for c in skipped {
        let Status::Skipped { reason, .. } = &c.status else {
            unreachable!()
        };
        assert!(reason.contains("pqxdh"), "{reason}");
    }
}

#[test]
fn a_store_that_mishandles_kem_prekeys_fails_the_pqxdh_accept_vectors() {
    for (keep, flag) in [
        (true, "KemOneTimePrekeyDeleted"),
        (false, "KemLastResortKept"),
    ] {
        let report = run(
            &mut KemPrekeysAll {
                inner: Reference::new(),
                keep,
            },
            &RunOptions::default(),
        );
        let flags = failed_flags(&report);
        assert!(flags.contains(flag), "keep {keep}: {flags:?}");
        assert!(
            failures(&report)
                .iter()
                .all(|(f, _)| f == "pqxdh_accept.json"),
            "keep {keep}"
        );
    }
}
