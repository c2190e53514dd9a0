//! The JSON result of a run: one object in the versioned format of
//! docs/RESULTS.md, which `ratchetproof report` and other tools read. It
//! says everything a reader needs without the vector files or the
//! known-failures list at hand: the run's provenance ([`RunInfo`], with each
//! vector file's notes), every case with how it ended step by step, the
//! implementation's own message where it refused, and — when the run was
//! judged against a known-failures list — each listed case's justification
//! and how the run compared with the list.

use std::collections::BTreeMap;

use serde::Serialize;

use super::coverage::SkipCount;
use super::known::{self, Key, KnownFailures, StaleBecause};
use super::report::VerdictCounts;
use super::run_info::{FORMAT_VERSION, RunInfo};
use super::{CaseResult, Report, Status};

/// A known-failures list a run was judged against, as the JSON names it.
#[derive(Debug, Clone, Copy)]
pub struct KnownList<'a> {
    /// The list's path, as given on the command line.
    pub path: &'a str,
    /// Its entries and their reasons.
    pub list: &'a KnownFailures,
}

/// How one judged step of a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepOutcome {
    /// As the vector's primary (the reference's) outcome.
    Passed,
    /// As one of the vector's alternative outcomes.
    Alternative,
    /// Disagreed with the vector: the case's `step`.
    Failed,
    /// After the failed step: a scenario stops there; an X3DH acceptance's
    /// later initial messages are not judged.
    NotJudged,
}

/// Per-step outcomes of a case with steps that was judged step by step: a
/// passed case (each step primary or alternative) or a case failed at a
/// step. Empty for single-outcome cases, skipped and errored cases, and a
/// case that failed before its first step (its setup).
pub fn step_outcomes(case: &CaseResult) -> Vec<StepOutcome> {
    let n = case.step_count;
    match &case.status {
        Status::Passed => (0..n)
            .map(|i| {
                if case.alternative_steps.contains(&i) {
                    StepOutcome::Alternative
                } else {
                    StepOutcome::Passed
                }
            })
            .collect(),
        Status::Failed {
            step: Some(failed), ..
        } if *failed < n => (0..n)
            .map(|i| match i.cmp(failed) {
                std::cmp::Ordering::Less => StepOutcome::Passed,
                std::cmp::Ordering::Equal => StepOutcome::Failed,
                std::cmp::Ordering::Greater => StepOutcome::NotJudged,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Refusal<'a> {
    class: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseKnown<'a> {
    /// The entry: how the list says the case fails.
    listed: String,
    /// Whether it ended exactly so.
    as_listed: bool,
    /// The comment the list gives for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseJson<'a> {
    #[serde(flatten)]
    case: &'a CaseResult,
    /// `failed` cases where the implementation refused: its class and words.
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Refusal<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    steps: Vec<StepOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    known_failure: Option<CaseKnown<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed<'a> {
    case: String,
    listed: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewFailure {
    case: String,
    actual: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Changed {
    case: String,
    listed: String,
    actual: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Stale {
    case: String,
    listed: String,
    because: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KnownJson<'a> {
    list: &'a str,
    listed: usize,
    as_listed: usize,
    new: Vec<NewFailure>,
    changed: Vec<Changed>,
    stale: Vec<Stale>,
    ambiguous: Vec<String>,
    /// Entries in the list, with their reasons, whatever the run did.
    entries: Vec<Listed<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    passed: usize,
    failed: usize,
    skipped: usize,
    errored: usize,
    executed: usize,
    skipped_because: Vec<SkipCount>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Json<'a> {
    format_version: u32,
    #[serde(flatten)]
    run: Option<&'a RunInfo>,
    /// `null` when the run had no list; absent without a run.
    #[serde(skip_serializing_if = "Option::is_none")]
    known_failures: Option<Option<KnownJson<'a>>>,
    implementation: &'a str,
    suites: Vec<&'a str>,
    summary: Summary,
    per_verdict: BTreeMap<String, VerdictCounts>,
    cases: Vec<CaseJson<'a>>,
}

impl Report {
    /// JSON without the run's provenance (for library callers and tests):
    /// [`Report::to_json_with`]'s object without the fields of [`RunInfo`]
    /// and without `knownFailures`.
    pub fn to_json(&self) -> String {
        self.json(None, None)
    }

    /// JSON, one object in the versioned format of docs/RESULTS.md
    /// (`formatVersion`): the run's provenance ([`RunInfo`]: tool, start
    /// time, the implementation's declaration, mode, filter, the vector
    /// files with their notes and their set's hash), the known-failures list
    /// it was judged against (`known`; `null` without one) and how it
    /// compared, the implementation, the suites run, the totals with what
    /// skipped cases lack (`skippedBecause`), the counts per verdict
    /// (`perVerdict`), and every case.
    pub fn to_json_with(&self, run: &RunInfo, known: Option<KnownList<'_>>) -> String {
        self.json(Some(run), Some(known))
    }

    fn json(&self, run: Option<&RunInfo>, known: Option<Option<KnownList<'_>>>) -> String {
        let t = self.totals();
        let list = known.flatten();
        let cases =
            self.cases
                .iter()
                .map(|case| {
                    let refusal = match &case.status {
                        Status::Failed { actual, .. } => known::refusal(actual)
                            .map(|(class, message)| Refusal { class, message }),
                        _ => None,
                    };
                    let known_failure = list.and_then(|l| {
                        let key = Key::of(case);
                        let listed = l.list.entries.get(&key)?;
                        Some(CaseKnown {
                            listed: listed.to_string(),
                            as_listed: known::Failure::of(&case.status).as_ref() == Some(listed),
                            reason: l.list.reasons.get(&key).map(String::as_str),
                        })
                    });
                    CaseJson {
                        case,
                        refusal,
                        steps: step_outcomes(case),
                        known_failure,
                    }
                })
                .collect();
        let json = Json {
            format_version: FORMAT_VERSION,
            run,
            known_failures: known.map(|k| k.map(|l| self.known_json(l))),
            implementation: &self.implementation,
            suites: self.suites(),
            summary: Summary {
                passed: t.passed,
                failed: t.failed,
                skipped: t.skipped,
                errored: t.errored,
                executed: self.executed(),
                skipped_because: self.skipped_because(),
            },
            per_verdict: self
                .per_verdict()
                .into_iter()
                .filter_map(|(k, c)| {
                    serde_json::to_value(k)
                        .ok()
                        .and_then(|k| k.as_str().map(|s| (s.to_string(), c)))
                })
                .collect(),
            cases,
        };
        serde_json::to_string_pretty(&json).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    fn known_json<'a>(&self, l: KnownList<'a>) -> KnownJson<'a> {
        let c = known::compare(self, l.list);
        KnownJson {
            list: l.path,
            listed: l.list.entries.len(),
            as_listed: c.matched,
            new: c
                .new
                .iter()
                .map(|(k, f)| NewFailure {
                    case: k.to_string(),
                    actual: f.to_string(),
                })
                .collect(),
            changed: c
                .changed
                .iter()
                .map(|(k, listed, actual)| Changed {
                    case: k.to_string(),
                    listed: listed.to_string(),
                    actual: actual.to_string(),
                })
                .collect(),
            stale: c
                .stale
                .iter()
                .map(|(k, listed, why)| Stale {
                    case: k.to_string(),
                    listed: listed.to_string(),
                    because: match why {
                        StaleBecause::Passed => "passed",
                        StaleBecause::Skipped => "skipped",
                        StaleBecause::NotRun => "notRun",
                    },
                })
                .collect(),
            ambiguous: c.ambiguous.iter().map(ToString::to_string).collect(),
            entries: l
                .list
                .entries
                .iter()
                .map(|(k, f)| Listed {
                    case: k.to_string(),
                    listed: f.to_string(),
                    reason: l.list.reasons.get(k).map(String::as_str),
                })
                .collect(),
        }
    }
}
