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

/// The runner writes a refusal as `error CLASS: message`: its class and the
/// implementation's message; `None` for anything else, a result the
/// implementation returned.
pub fn refusal(actual: &str) -> Option<(&str, &str)> {
    let rest = actual.strip_prefix("error ")?;
    Some(match rest.split_once(':') {
        Some((class, message)) => (class.trim(), message.trim()),
        None => (rest.trim(), ""),
    })
}

fn did(actual: &str) -> Did {
    match refusal(actual) {
        Some((class, _)) => Did::Refused(class.to_string()),
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
    /// Why each listed case fails, where the list says: the comment lines
    /// above its entry in its paragraph (the latest run of comment lines
    /// before it, as `--write-known-failures` keeps them) and the entry's own
    /// trailing comment, `# ` removed, joined by newlines. Reports show it
    /// as the case's justification (docs/RESULTS.md, `knownFailure`).
    pub reasons: BTreeMap<Key, String>,
}

impl KnownFailures {
    /// Reads a list; bare file names and entries that do not say how the case
    /// fails are refused with a message that says how to write them.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut entries = BTreeMap::new();
        let mut reasons = BTreeMap::new();
        // The comment block the next entry belongs to, and whether the line
        // before was an entry (then a comment line starts a new block).
        let (mut comment, mut after_entry): (Vec<&str>, bool) = (Vec::new(), false);
        for (n, line) in text.lines().enumerate() {
            let words = entry_words(line);
            if words.is_empty() {
                match line.trim().strip_prefix('#') {
                    Some(c) => {
                        if after_entry {
                            comment.clear();
                        }
                        comment.push(c.strip_prefix(' ').unwrap_or(c).trim_end());
                    }
                    None => comment.clear(),
                }
                after_entry = false;
                continue;
            }
            after_entry = true;
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
            let trailing = line.split_once('#').map(|(_, c)| c.trim());
            let reason: Vec<&str> = comment
                .iter()
                .copied()
                .chain(trailing)
                .filter(|l| !l.is_empty())
                .collect();
            if !reason.is_empty() {
                reasons.insert(key, reason.join("\n"));
            }
        }
        Ok(Self { entries, reasons })
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
mod tests;
