//! Known-failures lists: the cases an implementation is known not to pass,
//! and *how* each fails, so that CI stays green only while exactly these
//! cases fail exactly so.
//!
//! One entry per line, `#` starts a comment:
//!
//! ```text
//! SUITE/FILE TCID errored
//! SUITE/FILE TCID failed [step=N] class=CLASS
//! SUITE/FILE TCID failed [step=N] accepted
//! ```
//!
//! SUITE is the vector file's `suite` field and FILE its name, so entries of
//! two suites whose files share a name cannot stand for each other. `step` is
//! the index of the step that disagreed (scenarios, initial messages), absent
//! for single-step cases; `class=CLASS` says the implementation refused with
//! that error class, `accepted` that it returned a result (a wrong one, or one
//! where the vector expects a refusal). A listed case that fails at another
//! step or in another way is reported as changed: a new bug can hide behind a
//! known one only if it fails identically.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{CaseResult, Report, Status};

/// Which case: suite, file name, tcId.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The vector file's `suite` field.
    pub suite: String,
    /// The vector file's name, without folders.
    pub file: String,
    /// The tcId.
    pub tc_id: u32,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.suite, self.file, self.tc_id)
    }
}

impl Key {
    /// The key of a case of a report.
    pub fn of(case: &CaseResult) -> Self {
        let file = std::path::Path::new(&case.file)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| case.file.clone());
        Key {
            suite: case.suite.clone(),
            file,
            tc_id: case.tc_id,
        }
    }
}

/// What the implementation did where the vector says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Did {
    /// Refused with this error class.
    Refused(String),
    /// Returned a result.
    Accepted,
}

/// How a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// The implementation could not be driven (crash, timeout, protocol error).
    Errored,
    /// A step disagreed with the vector.
    Failed {
        /// The step, where the case has several.
        step: Option<usize>,
        /// What the implementation did there.
        did: Did,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Errored => write!(f, "errored"),
            Failure::Failed { step, did } => {
                write!(f, "failed")?;
                if let Some(step) = step {
                    write!(f, " step={step}")?;
                }
                match did {
                    Did::Refused(class) => write!(f, " class={class}"),
                    Did::Accepted => write!(f, " accepted"),
                }
            }
        }
    }
}

impl Failure {
    /// How `status` did not pass; `None` for passed and skipped cases.
    pub fn of(status: &Status) -> Option<Self> {
        match status {
            Status::Passed | Status::Skipped { .. } => None,
            Status::Errored { .. } => Some(Failure::Errored),
            Status::Failed { step, actual, .. } => Some(Failure::Failed {
                step: *step,
                did: did(actual),
            }),
        }
    }
}

/// The runner writes a refusal as `error CLASS: message`; anything else is a
/// result the implementation returned.
fn did(actual: &str) -> Did {
    match actual.strip_prefix("error ") {
        Some(rest) => Did::Refused(
            rest.split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
        None => Did::Accepted,
    }
}

/// A line of a list that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and how to write it.
    pub message: String,
}

const FORMAT: &str =
    "expected `SUITE/FILE TCID errored` or `SUITE/FILE TCID failed [step=N] class=CLASS|accepted`";

/// An entry's case as a list names it: `SUITE/FILE`, or (old lists, read
/// only to carry their comments over) a bare `FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    suite: Option<String>,
    file: String,
    tc_id: u32,
}

impl Spec {
    fn matches(&self, key: &Key) -> bool {
        self.file == key.file
            && self.tc_id == key.tc_id
            && self.suite.as_ref().is_none_or(|s| *s == key.suite)
    }
}

fn parse_spec(words: &[&str]) -> Result<Spec, String> {
    let (Some(file), Some(tc)) = (words.first(), words.get(1)) else {
        return Err(FORMAT.into());
    };
    let tc_id = tc
        .parse()
        .map_err(|_| format!("{tc:?} is not a tcId; {FORMAT}"))?;
    let (suite, file) = match file.rsplit_once('/') {
        Some((suite, name)) if !suite.is_empty() && !name.is_empty() && !suite.contains('/') => {
            (Some(suite.to_string()), name.to_string())
        }
        Some(_) => {
            return Err(format!(
                "{file:?}: name the case as SUITE/FILE (the vector file's `suite` field and its file name, e.g. signal-v3/x3dh.json)"
            ));
        }
        None => (None, (*file).to_string()),
    };
    Ok(Spec { suite, file, tc_id })
}

fn parse_failure(words: &[&str]) -> Result<Failure, String> {
    match words {
        ["errored"] => Ok(Failure::Errored),
        ["failed", rest @ ..] => {
            let (step, rest) = match rest {
                [first, rest @ ..] if first.starts_with("step=") => {
                    let n = first
                        .trim_start_matches("step=")
                        .parse()
                        .map_err(|_| format!("{first:?}: step=N takes a step index"))?;
                    (Some(n), rest)
                }
                _ => (None, rest),
            };
            let did = match rest {
                ["accepted"] => Did::Accepted,
                [class] if class.starts_with("class=") && class.len() > 6 => {
                    Did::Refused(class.trim_start_matches("class=").to_string())
                }
                [] => {
                    return Err(format!(
                        "say how the case fails: `failed [step=N] class=CLASS` or `failed [step=N] accepted` (`ratchetproof run … --write-known-failures FILE` records it); {FORMAT}"
                    ));
                }
                _ => return Err(FORMAT.into()),
            };
            Ok(Failure::Failed { step, did })
        }
        _ => Err(FORMAT.into()),
    }
}

/// The content of one line: nothing (blank or comment), or an entry.
fn entry_words(line: &str) -> Vec<&str> {
    line.split('#')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect()
}

/// A parsed known-failures list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    /// Each listed case and how it fails.
    pub entries: BTreeMap<Key, Failure>,
}

impl KnownFailures {
    /// Reads a list; bare file names and entries that do not say how the case
    /// fails are refused with a message that says how to write them.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut entries = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let words = entry_words(line);
            if words.is_empty() {
                continue;
            }
            let error = |message: String| ParseError {
                line: n + 1,
                message,
            };
            let spec = parse_spec(&words).map_err(error)?;
            let Some(suite) = spec.suite else {
                return Err(error(format!(
                    "{:?}: name the file with its suite, SUITE/{} (SUITE is the vector file's `suite` field, e.g. signal-v3/{} or x25519-sha256-aes256gcm/{}), so the suites' files of the same name cannot stand for each other",
                    spec.file, spec.file, spec.file, spec.file
                )));
            };
            let failure = parse_failure(words.get(2..).unwrap_or_default()).map_err(error)?;
            let key = Key {
                suite,
                file: spec.file,
                tc_id: spec.tc_id,
            };
            if entries.insert(key.clone(), failure).is_some() {
                return Err(error(format!("{key} is listed twice")));
            }
        }
        Ok(Self { entries })
    }
}

/// Why a listed case is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleBecause {
    /// It passed.
    Passed,
    /// It was skipped.
    Skipped,
    /// It was not among the cases run.
    NotRun,
}

/// How a report differs from a list. Clean only when all are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Cases listed and failing exactly as listed.
    pub matched: usize,
    /// Cases that did not pass and are not listed.
    pub new: Vec<(Key, Failure)>,
    /// Listed cases that failed otherwise: (case, listed, actual).
    pub changed: Vec<(Key, Failure, Failure)>,
    /// Listed cases that did not fail.
    pub stale: Vec<(Key, Failure, StaleBecause)>,
    /// Cases that two files of the report share (same suite, file name and
    /// tcId): a list cannot tell them apart.
    pub ambiguous: Vec<Key>,
}

impl Comparison {
    /// Whether the report fails exactly as the list says.
    pub fn is_clean(&self) -> bool {
        self.new.is_empty()
            && self.changed.is_empty()
            && self.stale.is_empty()
            && self.ambiguous.is_empty()
    }

    /// One line per difference, then a summary line.
    pub fn lines(&self, listed: usize) -> Vec<String> {
        let mut out = Vec::new();
        for key in &self.ambiguous {
            out.push(format!(
                "AMBIGUOUS: {key} is in two vector files of the run; run each copy separately"
            ));
        }
        for (key, failure) in &self.new {
            out.push(format!(
                "NEW: {key} {failure} (not in the known-failures list)"
            ));
        }
        for (key, listed, actual) in &self.changed {
            out.push(format!(
                "CHANGED: {key} is listed as `{listed}` but ended `{actual}`"
            ));
        }
        for (key, failure, why) in &self.stale {
            let why = match why {
                StaleBecause::Passed => "passed",
                StaleBecause::Skipped => "was skipped",
                StaleBecause::NotRun => "was not run",
            };
            out.push(format!(
                "STALE: {key} is listed as `{failure}` but {why}; update the list"
            ));
        }
        out.push(format!(
            "known failures: {listed} listed, {} as listed, {} new, {} changed, {} stale",
            self.matched,
            self.new.len(),
            self.changed.len(),
            self.stale.len()
        ));
        out
    }
}

/// Compares `report` with `known`.
pub fn compare(report: &Report, known: &KnownFailures) -> Comparison {
    let mut c = Comparison::default();
    let mut seen: BTreeMap<Key, &Status> = BTreeMap::new();
    let mut ambiguous = BTreeSet::new();
    for case in &report.cases {
        let key = Key::of(case);
        if seen.insert(key.clone(), &case.status).is_some() {
            ambiguous.insert(key);
        }
    }
    c.ambiguous = ambiguous.into_iter().collect();
    for (key, status) in &seen {
        let actual = Failure::of(status);
        match (known.entries.get(key), actual) {
            (Some(listed), Some(actual)) if *listed == actual => c.matched += 1,
            (Some(listed), Some(actual)) => c.changed.push((key.clone(), listed.clone(), actual)),
            (None, Some(actual)) => c.new.push((key.clone(), actual)),
            (Some(listed), None) => {
                let why = if matches!(status, Status::Skipped { .. }) {
                    StaleBecause::Skipped
                } else {
                    StaleBecause::Passed
                };
                c.stale.push((key.clone(), listed.clone(), why));
            }
            (None, None) => {}
        }
    }
    for (key, listed) in &known.entries {
        if !seen.contains_key(key) {
            c.stale
                .push((key.clone(), listed.clone(), StaleBecause::NotRun));
        }
    }
    c
}

/// What [`record`] changed relative to the previous list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The new list.
    pub text: String,
    /// Entries written.
    pub entries: usize,
    /// Of those, not in the previous list.
    pub added: usize,
    /// Of those, in the previous list with another outcome (or without one).
    pub changed: usize,
    /// Previous entries whose case no longer fails, dropped.
    pub removed: usize,
}

/// Writes the list of `report`'s non-passing cases. With a `previous` list
/// (in this format, or an older one naming bare files), its comments are
/// kept: each blank-line-separated paragraph keeps its comment lines and
/// its entries' places, entries are rewritten with how they fail now, and a
/// paragraph whose entries all pass now is dropped; new failures go to a
/// last paragraph asking for an explanation. `header` opens a list written
/// from scratch.
pub fn record(
    report: &Report,
    previous: Option<&str>,
    header: &str,
) -> Result<Recorded, ParseError> {
    let mut current: Vec<(Key, Failure)> = Vec::new();
    for case in &report.cases {
        if let Some(failure) = Failure::of(&case.status) {
            current.push((Key::of(case), failure));
        }
    }
    let mut used = vec![false; current.len()];
    let mut r = Recorded::default();
    let mut paragraphs: Vec<Vec<String>> = Vec::new();
    match previous {
        None => paragraphs.push(header.lines().map(|l| format!("# {l}")).collect()),
        Some(text) => {
            // Paragraphs: runs of non-blank lines.
            let mut paragraph: Vec<(usize, &str)> = Vec::new();
            for (n, line) in text.lines().chain(std::iter::once("")).enumerate() {
                if !line.trim().is_empty() {
                    paragraph.push((n + 1, line));
                    continue;
                }
                if paragraph.is_empty() {
                    continue;
                }
                let mut lines = Vec::new();
                let (mut had_entries, mut kept) = (false, 0);
                for (line_no, line) in paragraph.drain(..) {
                    let words = entry_words(line);
                    if words.is_empty() {
                        lines.push(line.to_string());
                        continue;
                    }
                    had_entries = true;
                    let spec = parse_spec(&words).map_err(|message| ParseError {
                        line: line_no,
                        message,
                    })?;
                    let listed = parse_failure(words.get(2..).unwrap_or_default()).ok();
                    let trailing = line
                        .split_once('#')
                        .map(|(_, c)| format!("  #{c}"))
                        .unwrap_or_default();
                    let mut found = false;
                    for (i, (key, failure)) in current.iter().enumerate() {
                        let Some(slot) = used.get_mut(i) else {
                            continue;
                        };
                        if *slot || !spec.matches(key) {
                            continue;
                        }
                        *slot = true;
                        found = true;
                        kept += 1;
                        r.changed += usize::from(listed.as_ref() != Some(failure));
                        lines.push(format!("{key} {failure}{trailing}"));
                    }
                    r.removed += usize::from(!found);
                }
                if !had_entries || kept > 0 {
                    paragraphs.push(lines);
                }
            }
        }
    }
    let new: Vec<String> = current
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|((key, failure), _)| format!("{key} {failure}"))
        .collect();
    r.added = new.len();
    if !new.is_empty() {
        let mut lines = Vec::new();
        if previous.is_some() {
            lines.push(
                "# Not in the previous list: explain each (finding id, cause) or fix it."
                    .to_string(),
            );
        }
        lines.extend(new);
        paragraphs.push(lines);
    }
    r.entries = current.len();
    r.text = paragraphs
        .iter()
        .map(|p| p.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n");
    r.text.push('\n');
    Ok(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use crate::runner::CaseResult;

    const DEFAULT: &str = "x25519-sha256-aes256gcm";

    fn case(suite: &str, file: &str, tc_id: u32, status: Status) -> CaseResult {
        CaseResult {
            file: format!("vectors/{suite}/{file}"),
            suite: suite.into(),
            tc_id,
            comment: String::new(),
            flags: Vec::new(),
            result: crate::vectors::Verdict::Valid,
            alternative_steps: Vec::new(),
            status,
            needs: Vec::new(),
        }
    }

    fn refused(step: Option<usize>, class: &str) -> Status {
        Status::Failed {
            step,
            expected: "x".into(),
            actual: format!("error {class}: no"),
        }
    }

    fn accepted(step: Option<usize>) -> Status {
        Status::Failed {
            step,
            expected: "x".into(),
            actual: "accepted, plaintext 00".into(),
        }
    }

    fn report(cases: Vec<CaseResult>) -> Report {
        Report {
            implementation: "test 1".into(),
            cases,
        }
    }

    #[test]
    fn entries_say_suite_file_tcid_and_how() {
        let k = KnownFailures::parse(
            "# F1\nsignal-v3/x3dh.json 25 failed accepted  # trailing\n\
             x25519-sha256-aes256gcm/session_scenarios.json 178 failed step=12 class=authentication\n\
             signal-v3/primitives.json 3 errored\n",
        )
        .unwrap();
        assert_eq!(k.entries.len(), 3);
        let key = Key {
            suite: DEFAULT.into(),
            file: "session_scenarios.json".into(),
            tc_id: 178,
        };
        assert_eq!(
            k.entries[&key],
            Failure::Failed {
                step: Some(12),
                did: Did::Refused("authentication".into())
            }
        );
        assert_eq!(
            k.entries[&key].to_string(),
            "failed step=12 class=authentication"
        );
    }

    #[test]
    fn bare_file_names_and_entries_without_the_how_are_refused_with_the_fix() {
        let e = KnownFailures::parse("# x\nx3dh.json 25 failed accepted\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("SUITE/x3dh.json"), "{}", e.message);
        let e = KnownFailures::parse("signal-v3/x3dh.json 25 failed\n").unwrap_err();
        assert!(
            e.message.contains("--write-known-failures"),
            "{}",
            e.message
        );
        for bad in [
            "signal-v3/x3dh.json x failed accepted",
            "signal-v3/x3dh.json 1 failed step=a accepted",
            "signal-v3/x3dh.json 1 failed class=",
            "signal-v3/x3dh.json 1 passed",
            "a/b/x3dh.json 1 errored",
            "signal-v3/x3dh.json 1 errored\nsignal-v3/x3dh.json 1 errored",
        ] {
            assert!(KnownFailures::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_list_of_one_suite_does_not_absorb_the_same_tcids_of_another() {
        let known =
            KnownFailures::parse(&format!("{DEFAULT}/x3dh.json 25 failed accepted\n")).unwrap();
        let r = report(vec![
            case(DEFAULT, "x3dh.json", 25, accepted(None)),
            case("signal-v3", "x3dh.json", 25, accepted(None)),
        ]);
        let c = compare(&r, &known);
        assert_eq!(c.matched, 1);
        assert_eq!(c.new.len(), 1);
        assert_eq!(c.new[0].0.suite, "signal-v3");
        assert!(!c.is_clean());
    }

    #[test]
    fn a_listed_case_failing_otherwise_is_changed() {
        let known = KnownFailures::parse(&format!(
            "{DEFAULT}/s.json 1 failed step=3 class=authentication\n{DEFAULT}/s.json 2 failed accepted\n{DEFAULT}/s.json 3 errored\n"
        ))
        .unwrap();
        // Same as listed: clean.
        let same = report(vec![
            case(DEFAULT, "s.json", 1, refused(Some(3), "authentication")),
            case(DEFAULT, "s.json", 2, accepted(None)),
            case(
                DEFAULT,
                "s.json",
                3,
                Status::Errored {
                    message: "x".into(),
                    stderr: None,
                },
            ),
        ]);
        assert!(compare(&same, &known).is_clean());
        // Another step, another class, accepted instead of refused, failed instead of errored.
        for (tc, status) in [
            (1, refused(Some(4), "authentication")),
            (1, refused(Some(3), "malformed")),
            (1, accepted(Some(3))),
            (2, refused(None, "state")),
            (3, accepted(None)),
        ] {
            let mut cases = same.cases.clone();
            cases[tc as usize - 1].status = status;
            let c = compare(&report(cases), &known);
            assert_eq!(c.changed.len(), 1, "tc {tc}");
            assert!(!c.is_clean());
            assert!(c.lines(3)[0].starts_with("CHANGED:"));
        }
    }

    #[test]
    fn listed_cases_that_pass_are_skipped_or_absent_are_stale() {
        let known = KnownFailures::parse(&format!(
            "{DEFAULT}/s.json 1 errored\n{DEFAULT}/s.json 2 errored\n{DEFAULT}/s.json 3 errored\n"
        ))
        .unwrap();
        let skipped = Status::Skipped {
            reason: String::new(),
            missing: Vec::new(),
        };
        let r = report(vec![
            case(DEFAULT, "s.json", 1, Status::Passed),
            case(DEFAULT, "s.json", 2, skipped),
        ]);
        let c = compare(&r, &known);
        let why: Vec<_> = c.stale.iter().map(|s| s.2).collect();
        assert_eq!(
            why,
            [
                StaleBecause::Passed,
                StaleBecause::Skipped,
                StaleBecause::NotRun
            ]
        );
    }

    #[test]
    fn two_copies_of_a_file_in_one_run_are_ambiguous() {
        let mut a = case(DEFAULT, "s.json", 1, Status::Passed);
        let mut b = a.clone();
        a.file = "one/s.json".into();
        b.file = "two/s.json".into();
        let c = compare(&report(vec![a, b]), &KnownFailures::default());
        assert_eq!(c.ambiguous.len(), 1);
        assert!(!c.is_clean());
    }

    #[test]
    fn recording_keeps_comments_of_remaining_entries_and_drops_fixed_paragraphs() {
        let previous = "# header\n# about the list\n\n\
                        # F1: kept\nx3dh.json 25 failed  # why\nx3dh.json 26 failed\n\n\
                        # F2: fixed since\nx3dh.json 40 failed\n";
        let r = report(vec![
            case("signal-v3", "x3dh.json", 25, accepted(None)),
            case("signal-v3", "x3dh.json", 26, Status::Passed),
            case("signal-v3", "x3dh.json", 40, Status::Passed),
            case("signal-v3", "s.json", 7, refused(Some(2), "duplicate")),
        ]);
        let rec = record(&r, Some(previous), "unused").unwrap();
        assert_eq!(
            rec.text,
            "# header\n# about the list\n\n\
             # F1: kept\nsignal-v3/x3dh.json 25 failed accepted  # why\n\n\
             # Not in the previous list: explain each (finding id, cause) or fix it.\n\
             signal-v3/s.json 7 failed step=2 class=duplicate\n"
        );
        assert_eq!((rec.entries, rec.added, rec.removed), (2, 1, 2));
        // The written list reads back and matches the run exactly.
        let known = KnownFailures::parse(&rec.text).unwrap();
        assert!(compare(&r, &known).is_clean());
        // Re-recording from it changes nothing.
        assert_eq!(
            record(&r, Some(&rec.text), "unused").unwrap().text,
            rec.text
        );
    }

    #[test]
    fn recording_from_scratch_writes_the_header() {
        let r = report(vec![case(
            DEFAULT,
            "s.json",
            1,
            Status::Errored {
                message: "x".into(),
                stderr: None,
            },
        )]);
        let rec = record(&r, None, "line one\nline two").unwrap();
        assert_eq!(
            rec.text,
            format!("# line one\n# line two\n\n{DEFAULT}/s.json 1 errored\n")
        );
    }
}
