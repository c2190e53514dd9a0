//! Report output: the readable summary and JUnit XML for CI systems (the
//! JSON result, docs/RESULTS.md, is [`super::report_json`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::run_info::RunInfo;
use super::{Report, Status};

/// Passed, failed, skipped and errored counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Errored.
    pub errored: usize,
}

impl Counts {
    fn add(&mut self, status: &Status) {
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed { .. } => self.failed += 1,
            Status::Skipped { .. } => self.skipped += 1,
            Status::Errored { .. } => self.errored += 1,
        }
    }
}

/// Per verdict (Wycheproof's `result`): how many cases passed, and how many
/// of those only through an alternative outcome (a behaviour the
/// specifications allow that the reference does not choose).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictCounts {
    /// Cases with this verdict that ran (not skipped).
    pub ran: usize,
    /// Of those, passed.
    pub passed: usize,
    /// Of the passed, through an alternative outcome in at least one step.
    pub passed_through_alternative: usize,
}

impl Report {
    /// Counts per verdict (`valid`, `invalid`, `acceptable`).
    pub fn per_verdict(&self) -> BTreeMap<crate::vectors::Verdict, VerdictCounts> {
        let mut out = BTreeMap::<crate::vectors::Verdict, VerdictCounts>::new();
        for case in &self.cases {
            if matches!(case.status, Status::Skipped { .. }) {
                continue;
            }
            let c = out.entry(case.result).or_default();
            c.ran += 1;
            if case.status == Status::Passed {
                c.passed += 1;
                if !case.alternative_steps.is_empty() {
                    c.passed_through_alternative += 1;
                }
            }
        }
        out
    }

    /// Totals over all cases.
    pub fn totals(&self) -> Counts {
        let mut c = Counts::default();
        for case in &self.cases {
            c.add(&case.status);
        }
        c
    }

    /// Whether every applicable case passed.
    pub fn success(&self) -> bool {
        let t = self.totals();
        t.failed == 0 && t.errored == 0
    }

    /// Counts per file and per flag.
    pub fn breakdown(&self) -> (BTreeMap<String, Counts>, BTreeMap<String, Counts>) {
        let (mut files, mut flags) = (
            BTreeMap::<String, Counts>::new(),
            BTreeMap::<String, Counts>::new(),
        );
        for case in &self.cases {
            files
                .entry(case.file.clone())
                .or_default()
                .add(&case.status);
            for flag in &case.flags {
                flags.entry(flag.clone()).or_default().add(&case.status);
            }
        }
        (files, flags)
    }

    /// The suites of the cases in the report, sorted, each once.
    pub fn suites(&self) -> Vec<&str> {
        let mut suites: Vec<&str> = self.cases.iter().map(|c| c.suite.as_str()).collect();
        suites.sort_unstable();
        suites.dedup();
        suites
    }

    /// The readable summary, without the run's provenance.
    pub fn to_text(&self) -> String {
        self.text(None)
    }

    /// The readable summary, headed by the tool, the vector-set hash, the
    /// implementation, the mode and the suites (what `ratchetproof run` prints).
    pub fn to_text_with(&self, run: &RunInfo) -> String {
        self.text(Some(run))
    }

    fn text(&self, run: Option<&RunInfo>) -> String {
        let mut out = String::new();
        let (files, flags) = self.breakdown();
        if let Some(run) = run {
            let _ = writeln!(
                out,
                "{} {}, started {}",
                run.tool.name, run.tool.version, run.started_at
            );
            let _ = writeln!(out, "vectors: {}", run.vectors.describe());
        }
        let _ = writeln!(out, "implementation: {}", self.implementation);
        if let Some(run) = run {
            let _ = writeln!(
                out,
                "mode: {}; suites: {}",
                run.mode.as_str(),
                self.suites().join(", ")
            );
        }
        let row = |out: &mut String, name: &str, c: &Counts| {
            let _ = writeln!(
                out,
                "  {name:<58} {:>5} passed {:>4} failed {:>4} skipped {:>3} errored",
                c.passed, c.failed, c.skipped, c.errored
            );
        };
        let _ = writeln!(out, "\nper file:");
        for (name, c) in &files {
            row(&mut out, name, c);
        }
        let _ = writeln!(out, "\nper flag:");
        for (name, c) in &flags {
            row(&mut out, name, c);
        }
        let _ = writeln!(out, "\nper verdict (cases that ran):");
        for (verdict, c) in self.per_verdict() {
            let name = serde_json::to_value(verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {name:<12} {:>5} passed of {:>5}, {:>4} of them through an alternative outcome",
                c.passed, c.ran, c.passed_through_alternative
            );
        }
        let problems: Vec<_> = self
            .cases
            .iter()
            .filter(|c| matches!(c.status, Status::Failed { .. } | Status::Errored { .. }))
            .collect();
        if !problems.is_empty() {
            let _ = writeln!(out, "\nfailures:");
            for c in problems.iter().take(50) {
                match &c.status {
                    Status::Failed {
                        step,
                        expected,
                        actual,
                    } => {
                        let at = step.map(|s| format!(" step {s}")).unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "  {} tcId {}{at}: {}\n    expected: {expected}\n    actual:   {actual}",
                            c.file, c.tc_id, c.comment
                        );
                    }
                    Status::Errored { message, stderr } => {
                        let _ = writeln!(out, "  {} tcId {}: errored: {message}", c.file, c.tc_id);
                        if let Some(stderr) = stderr.as_deref().filter(|s| !s.trim().is_empty()) {
                            let _ = writeln!(out, "    stderr:");
                            for line in stderr.lines() {
                                let _ = writeln!(out, "      {line}");
                            }
                        }
                    }
                    _ => {}
                }
            }
            if problems.len() > 50 {
                let _ = writeln!(
                    out,
                    "  … and {} more (use --format json for all)",
                    problems.len() - 50
                );
            }
        }
        let t = self.totals();
        if t.skipped > 0 {
            // What the implementation would have to declare to run them.
            let _ = writeln!(out, "\nskipped {}:", t.skipped);
            for s in self.skipped_because() {
                let _ = writeln!(out, "  {} not declared ({})", s.capability, s.cases);
            }
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} skipped, {} errored",
            t.passed, t.failed, t.skipped, t.errored
        );
        out
    }

    /// JUnit XML: one test suite per vector file, one test case per tcId.
    pub fn to_junit(&self) -> Result<String, quick_junit::SerializeError> {
        let mut report = quick_junit::Report::new("ratchetproof");
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for case in &self.cases {
            let status = match &case.status {
                Status::Passed => TestCaseStatus::success(),
                Status::Skipped { reason, .. } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(reason.as_str());
                    s
                }
                Status::Failed {
                    step,
                    expected,
                    actual,
                } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!("step {step:?}: expected {expected}"));
                    s.set_description(format!("expected: {expected}\nactual: {actual}"));
                    s
                }
                Status::Errored { message, .. } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(message.as_str());
                    s
                }
            };
            let mut tc = TestCase::new(format!("tcId {}: {}", case.tc_id, case.comment), status);
            if let Status::Errored {
                stderr: Some(stderr),
                ..
            } = &case.status
            {
                tc.set_system_err(stderr.as_str());
            }
            tc.set_classname(case.flags.join(","));
            suites
                .entry(case.file.as_str())
                .or_insert_with(|| TestSuite::new(case.file.as_str()))
                .add_test_case(tc);
        }
        report.add_test_suites(suites.into_values());
        report.to_string()
    }
}
