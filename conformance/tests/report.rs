//! `ratchetproof report` end to end on real runs: the reference and a
//! known-bug mutant (state kept after a failed decryption) on the default suite's scenarios,
//! the mutant judged against a known-failures list that explains all but
//! one of its failures. Checks the JSON result's report fields (notes,
//! per-step outcomes, known-failure reasons), the site (matrix, drill-down
//! data, findings, comparison) with hostile text escaped, and — in a real
//! browser, Debian's `chromium` headless — that the page renders the matrix
//! and opens a drill-down. The browser test is skipped when chromium is
//! missing, unless `RATCHETPROOF_BROWSER_TEST=require` (CI), which makes a
//! missing browser a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ratchetproof::Implementation;
use ratchetproof::mutants::{Bug, Mutant};
use ratchetproof::reference::Reference;
use ratchetproof::report::{self, html::PageInfo};
use ratchetproof::runner::known::{Failure, Key, KnownFailures};
use ratchetproof::runner::report_json::KnownList;
use ratchetproof::runner::{self, RunInfo, RunOptions, Status};

/// A comment no page may execute: if it ran, the document would say so.
const HOSTILE: &str =
    "<script>document.documentElement.setAttribute('data-pwned','1')</script> & \"quoted\"";

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors/x25519-sha256-aes256gcm/session_scenarios.json")
}

struct Fixture {
    dir: PathBuf,
    reference: PathBuf,
    mutant: PathBuf,
    /// The mutant's failing cases, in run order.
    failing: Vec<(Key, Failure)>,
}

/// Runs `imp` on the scenarios and writes its JSON result to `out`; the
/// first failing case's comment is replaced by [`HOSTILE`].
fn run(imp: &mut dyn Implementation, list: Option<(&str, &KnownFailures)>, out: &Path) {
    let paths = vec![scenarios()];
    let loaded = runner::load_all(&paths).unwrap();
    let options = RunOptions::default();
    let (info, _) = RunInfo::gather(&imp.capabilities(), &options, &loaded);
    let mut report = runner::run_paths(imp, &paths, &options, |_, _, _| {}).unwrap();
    if let Some(case) = report
        .cases
        .iter_mut()
        .find(|c| matches!(c.status, Status::Failed { .. }))
    {
        case.comment = HOSTILE.into();
    }
    let list = list.map(|(path, list)| KnownList { path, list });
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(out, report.to_json_with(&info, list)).unwrap();
}

/// The runs, made once for every test of this file.
fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(make_fixture)
}

fn make_fixture() -> Fixture {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    let _ = std::fs::remove_dir_all(&dir);
    let reference = dir.join("peers/reference/reference.json");
    run(&mut Reference::new(), None, &reference);
    // The mutant's failures, to list all but the last with a reason.
    let mut mutant_imp = Mutant::with(Bug::StateKeptOnFailedDecrypt);
    let report = runner::run_paths(
        &mut mutant_imp,
        &[scenarios()],
        &RunOptions::default(),
        |_, _, _| {},
    )
    .unwrap();
    let failing: Vec<(Key, Failure)> = report
        .cases
        .iter()
        .filter_map(|c| Failure::of(&c.status).map(|f| (Key::of(c), f)))
        .collect();
    assert!(
        failing.len() >= 3,
        "the mutant fails {} cases",
        failing.len()
    );
    let mut text = String::from(
        "# Header: not a reason.\n\n# NB1: state kept after a failed decryption <b>bold</b>.\n# Second line.\n",
    );
    for (key, failure) in &failing[..failing.len() - 1] {
        text.push_str(&format!("{key} {failure}\n"));
    }
    let list = KnownFailures::parse(&text).unwrap();
    let mutant = dir.join("peers/mutant/mutant.json");
    run(
        &mut Mutant::with(Bug::StateKeptOnFailedDecrypt),
        Some(("known.txt", &list)),
        &mutant,
    );
    Fixture {
        dir,
        reference,
        mutant,
        failing,
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_json_result_carries_notes_steps_and_known_failure_reasons() {
    let f = fixture();
    let j = json(&f.mutant);
    let notes = &j["vectors"]["files"][0]["notes"];
    assert!(
        !notes["SkipLimitExact"]["bugType"]
            .as_str()
            .unwrap()
            .is_empty(),
        "{notes}"
    );
    let failed: Vec<&serde_json::Value> = j["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), f.failing.len());
    for case in &failed {
        let step = case["step"].as_u64().unwrap() as usize;
        let steps: Vec<&str> = case["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(steps[step], "failed", "{case}");
        assert!(
            steps[..step]
                .iter()
                .all(|s| *s == "passed" || *s == "alternative")
        );
        assert!(steps[step + 1..].iter().all(|s| *s == "notJudged"));
    }
    // Every listed case carries its reason; the last failure is new.
    let listed = failed
        .iter()
        .filter(|c| c["knownFailure"].is_object())
        .count();
    assert_eq!(listed, f.failing.len() - 1);
    let first = &failed[0]["knownFailure"];
    assert_eq!(first["asListed"], true);
    assert_eq!(
        first["reason"],
        "NB1: state kept after a failed decryption <b>bold</b>.\nSecond line."
    );
    let k = &j["knownFailures"];
    assert_eq!(k["list"], "known.txt");
    assert_eq!(k["new"].as_array().unwrap().len(), 1);
    assert_eq!(
        k["asListed"].as_u64().unwrap() as usize,
        f.failing.len() - 1
    );
    // A passed scenario has one outcome per step, and no failure fields.
    let passed = j["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "passed")
        .unwrap();
    assert!(passed["steps"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(passed.get("knownFailure").is_none() && passed.get("step").is_none());
    // Without a list, `knownFailures` is null.
    assert!(json(&f.reference)["knownFailures"].is_null());
}

fn site(f: &Fixture, earlier: Option<&[report::Loaded]>) -> String {
    let results = report::read_all(&[f.reference.clone(), f.mutant.clone()]).unwrap();
    let info = PageInfo {
        title: "test <report>",
        generated: "2026-12-01T00:00:00Z",
    };
    report::site(&results, earlier, &info)
}

#[test]
fn the_site_escapes_result_text_and_shows_matrix_findings_and_comparison() {
    let f = fixture();
    // The run before, under the same name: the reference's result.
    let before = f.dir.join("before/mutant.json");
    std::fs::create_dir_all(before.parent().unwrap()).unwrap();
    std::fs::copy(&f.reference, &before).unwrap();
    let old = report::read_all(&[before]).unwrap();
    let html = site(f, Some(&old));
    assert!(
        !html.contains("<script>document"),
        "a comment's markup reached the page"
    );
    assert!(html.contains(
        "&lt;script&gt;document.documentElement.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"
    ));
    assert!(html.contains("<title>test &lt;report&gt;</title>"));
    // One script element: the page's own.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );
    assert!(html.contains("<table class=\"matrix sortable\">"));
    // The suite's capture rules, from the ForwardSecrecy note of its file.
    let capture = &html[html.find("<section id=\"capture\">").unwrap()..];
    assert!(
        capture[..capture.find("</section>").unwrap()]
            .contains("cannot decrypt that message again"),
        "{capture:.800}"
    );
    let drills = html.matches("class=\"drill\"").count();
    assert!(drills > 0);
    // Findings: the reason, escaped, with the listed tcIds.
    assert!(html.contains("NB1: state kept after a failed decryption &lt;b&gt;bold&lt;/b&gt;."));
    let articles = html.matches("<article class=\"case failed\"").count();
    assert_eq!(articles, f.failing.len());
    assert!(html.contains("Not in the known-failures list: a new failure."));
    // Comparison with the reference alone: every failure is new.
    assert!(html.contains(&format!(
        "<span class=\"chip bad\">{} new failures</span> <span class=\"chip\">0 fixed</span>",
        f.failing.len()
    )));
}

#[test]
fn comparisons_pair_runs_and_find_new_and_fixed_cases() {
    let f = fixture();
    let reference = report::read_all(std::slice::from_ref(&f.reference)).unwrap();
    let mutant = report::read_all(std::slice::from_ref(&f.mutant)).unwrap();
    let worse = report::compare::compare(&reference, &mutant);
    assert_eq!(worse.pairs.len(), 1);
    assert_eq!(worse.pairs[0].new_failures.len(), f.failing.len());
    assert_eq!(worse.pairs[0].fixed.len(), 0);
    assert!(worse.pairs[0].same_vectors);
    let better = report::compare::compare(&mutant, &reference);
    assert_eq!(better.pairs[0].fixed.len(), f.failing.len());
    assert_eq!(better.pairs[0].new_failures.len(), 0);
    let same = report::compare::compare(&mutant, &mutant);
    assert_eq!(same.pairs[0].still_failing, f.failing.len());
    assert!(same.pairs[0].new_failures.is_empty() && same.pairs[0].fixed.is_empty());
}

/// The browser, if there is one: `RATCHETPROOF_CHROMIUM`, else `chromium`.
fn chromium() -> Option<String> {
    let bin = std::env::var("RATCHETPROOF_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then_some(bin)
}

/// Runs chromium headless with `args` on `url`, within a minute.
fn headless(bin: &str, args: &[&str], url: &str) -> String {
    let profile = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-chromium-profile");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read the DOM while chromium writes it (it is larger than a pipe holds).
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut dom);
        dom
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

#[test]
fn the_page_renders_the_matrix_and_a_drill_down_in_chromium() {
    let required = std::env::var("RATCHETPROOF_BROWSER_TEST").is_ok_and(|v| v == "require");
    let Some(bin) = chromium() else {
        assert!(
            !required,
            "RATCHETPROOF_BROWSER_TEST=require but no chromium (apt-get install -y chromium)"
        );
        eprintln!("skipped: no chromium (RATCHETPROOF_BROWSER_TEST=require makes this a failure)");
        return;
    };
    let f = fixture();
    let results = report::read_all(&[f.reference.clone(), f.mutant.clone()]).unwrap();
    let info = PageInfo {
        title: "browser test",
        generated: "2026-12-01T00:00:00Z",
    };
    let index = report::write_site(&f.dir.join("site"), &results, None, &info).unwrap();
    let html = std::fs::read_to_string(&index).unwrap();
    // The matrix's failing cells: the suite's "all cases" cell (flag `*`)
    // and the first flag's.
    let drills: Vec<&str> = html
        .split("class=\"drill\" data-drill=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    let all = drills.iter().find(|d| d.ends_with("/*")).unwrap();
    let flag = drills
        .iter()
        .find(|d| d.split('/').nth(1) != Some("*") && !d.ends_with("/*"))
        .unwrap();
    for drill in [all, flag] {
        drill_down(&bin, &index, drill);
    }
}

/// Opens the page at the drill-down `drill` and checks the drawer shows the
/// failing cases.
fn drill_down(bin: &str, index: &Path, drill: &str) {
    let url = format!("file://{}#drill={drill}", index.display());
    let dom = headless(bin, &["--dump-dom"], &url);
    assert!(
        dom.contains("<table class=\"matrix sortable\">"),
        "no matrix:\n{dom:.2000}"
    );
    // The comment is on the page as text; had it run, the root would carry the attribute.
    assert!(
        dom.contains("setAttribute('data-pwned','1')"),
        "the hostile comment is not shown"
    );
    assert!(
        !dom.contains("data-pwned=\"1\""),
        "a case comment ran as a script"
    );
    // The drawer is open and holds the cell's failing cases, copied from the store.
    let drawer = &dom[dom.find("<aside id=\"drill\"").unwrap()..];
    let drawer = &drawer[..drawer.find("</aside>").unwrap()];
    assert!(
        !drawer[..drawer.find('>').unwrap()].contains("hidden"),
        "drawer closed:\n{drawer:.600}"
    );
    assert!(
        drawer.contains("<article class=\"case failed\""),
        "empty drawer:\n{drawer:.2000}"
    );
    assert!(drawer.contains("not passing"), "{drawer:.600}");
    assert!(
        drawer.contains("NB1: state kept after a failed decryption"),
        "{drawer:.3000}"
    );
    // And a screenshot of it is an image.
    let png = index.with_file_name(format!("shot-{}.png", drill.replace(['/', '*'], "_")));
    headless(
        bin,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,900",
        ],
        &url,
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"),
        "{} bytes",
        bytes.len()
    );
}

const CLI: &str = env!("CARGO_BIN_EXE_ratchetproof");

#[test]
fn the_cli_writes_json_into_new_folders_and_reports_with_documented_exit_codes() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-cli");
    let _ = std::fs::remove_dir_all(&dir);
    let json = dir.join("results/reference.json");
    let primitives = scenarios().with_file_name("primitives.json");
    let run = Command::new(CLI)
        .arg("run")
        .arg(&primitives)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("ratchetproof "));
    let site = dir.join("site");
    let report = Command::new(CLI)
        .arg("report")
        .arg(&json)
        .arg("-o")
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(site.join("index.html").exists());
    // Nothing to do, or nothing to read: no verdict.
    let nothing = Command::new(CLI).arg("report").arg(&json).output().unwrap();
    assert_eq!(nothing.status.code(), Some(2));
    let missing = Command::new(CLI)
        .args(["report", "/nonexistent.json", "-o"])
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    // The committed peer tables print.
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("shims/results");
    let tables = Command::new(CLI)
        .arg("report")
        .arg("--markdown")
        .arg(&results)
        .output()
        .unwrap();
    assert!(tables.status.success());
    assert!(String::from_utf8_lossy(&tables.stdout).starts_with("| peer | run | implementation |"));
}
