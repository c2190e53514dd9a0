//! Reading JSON results (docs/RESULTS.md) for the report: a tolerant reader
//! of `formatVersion` 1 (and of results printed before the field existed,
//! version 0) that keeps what the site shows and ignores the rest, as the
//! format's versioning rule asks of readers. A newer major version is
//! refused rather than misread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::runner::run_info::FORMAT_VERSION;

/// One run's result, as read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    /// `formatVersion`; 0 when absent.
    #[serde(default)]
    pub format_version: u32,
    /// When the run started (RFC 3339), if recorded.
    #[serde(default)]
    pub started_at: Option<String>,
    /// What the implementation declared, if recorded.
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
    /// `default` or `strict`, if recorded.
    #[serde(default)]
    pub mode: Option<String>,
    /// The vector files and their set, if recorded.
    #[serde(default)]
    pub vectors: Option<Vectors>,
    /// The known-failures comparison: absent (not recorded), `null` (no list).
    #[serde(default)]
    pub known_failures: Option<KnownFailures>,
    /// `NAME VERSION`.
    pub implementation: String,
    /// The suites of the cases.
    #[serde(default)]
    pub suites: Vec<String>,
    /// Every case.
    pub cases: Vec<Case>,
    /// The tool that ran the cases, if recorded.
    #[serde(default)]
    pub tool: Option<Tool>,
}

/// The tool that produced a result.
#[derive(Debug, Clone, Deserialize)]
pub struct Tool {
    /// `ratchetproof`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The implementation's declaration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// Name.
    pub name: String,
    /// Version (shims name their configuration here, e.g. a store mode).
    pub version: String,
}

/// The vectors a run read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vectors {
    /// The vector-set hash, if the files were one set.
    #[serde(default)]
    pub set_hash: Option<String>,
    /// The files read.
    #[serde(default)]
    pub files: Vec<VectorFile>,
}

/// One vector file a run read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorFile {
    /// As the cases' `file` gives it.
    pub path: String,
    /// Inside its set, if in one.
    #[serde(default)]
    pub set_path: Option<String>,
    /// Per flag, what it means.
    #[serde(default)]
    pub notes: BTreeMap<String, Note>,
}

/// A flag's note.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// `BasicTest`, `EdgeCase`, `KnownBug`, …
    #[serde(default)]
    pub bug_type: String,
    /// What the flagged cases check.
    #[serde(default)]
    pub description: String,
}

/// The known-failures list a run was judged against and the comparison.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownFailures {
    /// The list's path, as given.
    pub list: String,
    /// Entries.
    pub listed: usize,
    /// Entries that failed as listed.
    pub as_listed: usize,
    /// Failures not in the list.
    #[serde(default)]
    pub new: Vec<serde_json::Value>,
    /// Listed cases that failed otherwise.
    #[serde(default)]
    pub changed: Vec<serde_json::Value>,
    /// Listed cases that did not fail.
    #[serde(default)]
    pub stale: Vec<serde_json::Value>,
    /// Every entry with its reason.
    #[serde(default)]
    pub entries: Vec<KnownEntry>,
}

/// One entry of a known-failures list.
#[derive(Debug, Clone, Deserialize)]
pub struct KnownEntry {
    /// `SUITE/FILE TCID`.
    pub case: String,
    /// How it is listed to fail.
    pub listed: String,
    /// The list's comment for it.
    #[serde(default)]
    pub reason: Option<String>,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    /// Passed.
    Passed,
    /// Failed.
    Failed,
    /// Skipped.
    Skipped,
    /// Errored.
    Errored,
}

impl CaseStatus {
    /// The status as the format spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Passed => "passed",
            CaseStatus::Failed => "failed",
            CaseStatus::Skipped => "skipped",
            CaseStatus::Errored => "errored",
        }
    }

    /// Failed or errored: a case that did not pass although it ran.
    pub fn is_problem(self) -> bool {
        matches!(self, CaseStatus::Failed | CaseStatus::Errored)
    }
}

/// One case's result.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    /// The vector file.
    pub file: String,
    /// Its suite.
    pub suite: String,
    /// tcId.
    pub tc_id: u32,
    /// Comment.
    #[serde(default)]
    pub comment: String,
    /// Flags.
    #[serde(default)]
    pub flags: Vec<String>,
    /// `valid`, `invalid`, `acceptable`.
    #[serde(default)]
    pub result: String,
    /// Status.
    pub status: CaseStatus,
    /// The failed step.
    #[serde(default)]
    pub step: Option<usize>,
    /// What the vector states (failed).
    #[serde(default)]
    pub expected: Option<String>,
    /// What the implementation did (failed).
    #[serde(default)]
    pub actual: Option<String>,
    /// Why skipped.
    #[serde(default)]
    pub reason: Option<String>,
    /// What went wrong (errored).
    #[serde(default)]
    pub message: Option<String>,
    /// The shim's error stream (errored).
    #[serde(default)]
    pub stderr: Option<String>,
    /// The implementation's refusal (failed).
    #[serde(default)]
    pub refusal: Option<Refusal>,
    /// Per-step outcomes.
    #[serde(default)]
    pub steps: Vec<String>,
    /// The known-failures entry for the case.
    #[serde(default)]
    pub known_failure: Option<CaseKnown>,
}

/// An implementation's refusal.
#[derive(Debug, Clone, Deserialize)]
pub struct Refusal {
    /// Error class.
    pub class: String,
    /// Its words.
    pub message: String,
}

/// A case's known-failures entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseKnown {
    /// How it is listed.
    pub listed: String,
    /// Whether it ended so.
    pub as_listed: bool,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Case {
    /// The case's identity across results: suite, the file's name, tcId
    /// (as known-failures lists name it).
    pub fn key(&self) -> String {
        let name = Path::new(&self.file)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.file.clone());
        format!("{}/{} {}", self.suite, name, self.tc_id)
    }
}

/// A result and where it was read from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// Its content.
    pub result: RunResult,
}

impl Loaded {
    /// The file's name without `.json`: how CI names a run
    /// (`libsignal-node-live-strict`), and how comparisons pair runs.
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Reads one result; the error names the file.
pub fn read(path: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text)
        .map(|result| Loaded {
            path: path.to_path_buf(),
            result,
        })
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses one result; a version newer than this tool's is refused.
pub fn parse(text: &str) -> Result<RunResult, String> {
    let result: RunResult = serde_json::from_str(text)
        .map_err(|e| format!("not a ratchetproof JSON result (docs/RESULTS.md): {e}"))?;
    if result.format_version > FORMAT_VERSION {
        return Err(format!(
            "formatVersion {} is newer than this tool reads ({FORMAT_VERSION}); use a newer ratchetproof",
            result.format_version
        ));
    }
    Ok(result)
}

/// Reads every result; the first unreadable one is the error.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Loaded>, String> {
    paths.iter().map(|p| read(p)).collect()
}
