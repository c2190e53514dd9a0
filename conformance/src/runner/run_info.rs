//! What a result must say besides its cases so that two results can be
//! compared: which tool produced it, on which vector set (by its hash,
//! `ratchetproof_vectors::set_hash`), against which implementation (as it
//! declared itself), in which mode and selection, and when. `ratchetproof
//! run` gathers it, and the text and JSON reports print it; the JSON form is
//! the versioned format of docs/RESULTS.md, which `ratchetproof report` and
//! other tools read.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::RunOptions;
use crate::implementation::Capabilities;
use crate::vectors::{self, SetHash};

/// Version of the JSON result format (docs/RESULTS.md). Adding a field keeps
/// it; removing, renaming or changing the meaning of one raises it.
pub const FORMAT_VERSION: u32 = 1;

/// This tool's name, as results and `--version` give it.
pub const TOOL_NAME: &str = "ratchetproof";

/// This tool's version (the crate's).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything a result says about how it was produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunInfo {
    /// The tool that ran the cases.
    pub tool: Tool,
    /// When the run started, RFC 3339 UTC to the second.
    pub started_at: String,
    /// What the implementation declared (the shim's handshake, or the
    /// in-process implementation's own declaration).
    pub capabilities: DeclaredCapabilities,
    /// `default` (any refusal satisfies an expected refusal unless the class
    /// is fixed) or `strict` (`--strict-errors`).
    pub mode: Mode,
    /// The case selection (empty lists select everything).
    pub filter: FilterInfo,
    /// The vector files read and the set they belong to.
    pub vectors: VectorsInfo,
}

/// A tool's name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    /// `ratchetproof`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Tool {
    /// This tool.
    pub fn this() -> Tool {
        Tool {
            name: TOOL_NAME.into(),
            version: TOOL_VERSION.into(),
        }
    }
}

/// The run's strictness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Any refusal satisfies an expected refusal, unless `classFixed`.
    Default,
    /// `--strict-errors`: the class must match.
    Strict,
}

impl Mode {
    /// The mode `options` run in.
    pub fn of(options: &RunOptions) -> Mode {
        if options.strict_errors {
            Mode::Strict
        } else {
            Mode::Default
        }
    }

    /// `default` or `strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Strict => "strict",
        }
    }
}

/// The implementation's declaration, as the result records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclaredCapabilities {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Suites it speaks.
    pub suites: Vec<String>,
    /// Operation groups it supports, by name.
    pub operations: Vec<String>,
    /// Its fixed `MAX_SKIP`, if any.
    pub max_skip: Option<u32>,
    /// Its fixed cap on stored skipped keys, if any.
    pub max_stored_skipped_keys: Option<u32>,
    /// Whether it honours the limits a vector configures.
    pub configurable_limits: bool,
    /// Whether it takes injected keys.
    pub injected_randomness: bool,
}

impl From<&Capabilities> for DeclaredCapabilities {
    fn from(caps: &Capabilities) -> Self {
        DeclaredCapabilities {
            name: caps.name.clone(),
            version: caps.version.clone(),
            suites: caps.suites.clone(),
            operations: caps
                .operations
                .iter()
                .map(|o| o.as_str().to_string())
                .collect(),
            max_skip: caps.max_skip,
            max_stored_skipped_keys: caps.max_stored_skipped_keys,
            configurable_limits: caps.configurable_limits,
            injected_randomness: caps.injected_randomness,
        }
    }
}

/// The case selection of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterInfo {
    /// `--file` substrings.
    pub files: Vec<String>,
    /// `--flag` flags.
    pub flags: Vec<String>,
    /// `--tc-id` tcIds.
    pub tc_ids: Vec<u32>,
}

/// The vector files a run read and the vector set they belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorsInfo {
    /// The hash of the whole vector set (every file of the folder, not only
    /// those read) when every file read belongs to one set, else `null`.
    #[serde(serialize_with = "hash_or_null")]
    pub set_hash: Option<SetHash>,
    /// That set's folder, as given on this machine, else `null`.
    pub root: Option<String>,
    /// Every file read, in run order.
    pub files: Vec<VectorFileInfo>,
}

/// One vector file a run read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorFileInfo {
    /// The path as the cases' `file` field gives it.
    pub path: String,
    /// The path inside its vector set (`signal-v3/x3dh.json`), as the set's
    /// manifest spells it; `null` for a file outside any set.
    pub set_path: Option<String>,
    /// SHA-256 of the file's bytes, lowercase hex (`null` if it could not
    /// be read again after loading).
    pub sha256: Option<String>,
    /// The file's `notes`: per flag its bug type and description (and
    /// links), so a report can explain a case's flags without the file.
    pub notes: BTreeMap<String, vectors::Note>,
}

fn hash_or_null<S: serde::Serializer>(h: &Option<SetHash>, s: S) -> Result<S::Ok, S::Error> {
    match h {
        Some(h) => s.serialize_str(&h.to_string()),
        None => s.serialize_none(),
    }
}

impl VectorsInfo {
    /// The files at `paths` (as loaded, in run order) and their set. Files
    /// are read again to hash them; what cannot be hashed is `null`, and
    /// why is in the returned warnings (a run still has a verdict without).
    pub fn of(paths: &[&str]) -> (VectorsInfo, Vec<String>) {
        let mut warnings = Vec::new();
        let mut roots = Vec::new();
        let mut files = Vec::new();
        for &shown in paths {
            let path = Path::new(shown);
            let root = vectors::find_root(path);
            let set_path = root
                .as_deref()
                .and_then(|r| vectors::relative_path(r, path));
            if set_path.is_none() {
                roots.push(None);
            } else if !roots.contains(&root) {
                roots.push(root);
            }
            let sha256 = match std::fs::read(path) {
                Ok(bytes) => Some(hex::encode(Sha256::digest(&bytes))),
                Err(e) => {
                    warnings.push(format!("{shown}: cannot hash: {e}"));
                    None
                }
            };
            files.push(VectorFileInfo {
                path: shown.to_string(),
                set_path,
                sha256,
                notes: BTreeMap::new(),
            });
        }
        let (set_hash, root) = match roots.as_slice() {
            [Some(root)] => match vectors::set_hash(root) {
                Ok(h) => (Some(h), Some(root.display().to_string())),
                Err(e) => {
                    warnings.push(format!("no vector-set hash: {e}"));
                    (None, Some(root.display().to_string()))
                }
            },
            _ => (None, None),
        };
        (
            VectorsInfo {
                set_hash,
                root,
                files,
            },
            warnings,
        )
    }

    /// One line for the text summary: the set's hash, or why there is none.
    pub fn describe(&self) -> String {
        let n = self.files.len();
        let files = format!("{n} file{}", if n == 1 { "" } else { "s" });
        match &self.set_hash {
            Some(h) => format!("{h} ({files} read)"),
            None if self.files.iter().any(|f| f.set_path.is_none()) => {
                format!("no set hash: {files} read, not all inside one vectors/ folder")
            }
            None => format!("no set hash: {files} read from several vector sets"),
        }
    }
}

impl RunInfo {
    /// The provenance of a run of `options` against an implementation that
    /// declared `caps`, over the `loaded` files (path as shown, content),
    /// with each file's notes; warnings as [`VectorsInfo::of`].
    pub fn gather(
        caps: &Capabilities,
        options: &RunOptions,
        loaded: &[(String, vectors::AnyFile)],
    ) -> (RunInfo, Vec<String>) {
        let paths: Vec<&str> = loaded.iter().map(|(p, _)| p.as_str()).collect();
        let (mut vectors, warnings) = VectorsInfo::of(&paths);
        for (info, (_, file)) in vectors.files.iter_mut().zip(loaded) {
            info.notes = file.notes().clone();
        }
        let info = RunInfo {
            tool: Tool::this(),
            started_at: rfc3339_utc(std::time::SystemTime::now()),
            capabilities: caps.into(),
            mode: Mode::of(options),
            filter: FilterInfo {
                files: options.filter.files.clone(),
                flags: options.filter.flags.clone(),
                tc_ids: options.filter.tc_ids.clone(),
            },
            vectors,
        };
        (info, warnings)
    }
}

/// `ratchetproof 0.1.0 (vectors sha256:…)`: this tool's version and the hash
/// of the vectors a `run` without paths would read, or why there are none.
pub fn version_line() -> String {
    let vectors = match super::default_vectors_dir() {
        Ok(dir) => match vectors::set_hash(&dir) {
            Ok(h) => format!("vectors {h}"),
            Err(e) => format!("vectors: {e}"),
        },
        Err(_) => "no vectors found".to_string(),
    };
    format!("{TOOL_VERSION} ({vectors})")
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (a time before 1970 reads as 1970).
pub fn rfc3339_utc(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_are_rfc3339_utc() {
        let at = |s: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_796_083_199), "2026-11-30T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    fn repo_vectors() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
    }

    #[test]
    fn files_of_one_set_name_the_set_and_their_place_in_it() {
        let root = repo_vectors();
        let a = root.join("signal-v3/x3dh.json").display().to_string();
        let b = root
            .join("x25519-sha256-aes256gcm/primitives.json")
            .display()
            .to_string();
        let (info, warnings) = VectorsInfo::of(&[&a, &b]);
        assert!(warnings.is_empty(), "{warnings:?}");
        // The whole set's hash, though only two of its files were read.
        assert_eq!(info.set_hash, Some(vectors::set_hash(&root).unwrap()));
        let places: Vec<_> = info.files.iter().map(|f| f.set_path.as_deref()).collect();
        assert_eq!(
            places,
            [
                Some("signal-v3/x3dh.json"),
                Some("x25519-sha256-aes256gcm/primitives.json")
            ]
        );
        let listed = vectors::set_files(&root).unwrap();
        let want = listed
            .iter()
            .find(|f| f.path == "signal-v3/x3dh.json")
            .map(|f| hex::encode(f.sha256));
        assert_eq!(info.files[0].sha256, want);
        assert!(
            info.describe().starts_with("sha256:"),
            "{}",
            info.describe()
        );
    }

    #[test]
    fn a_file_outside_a_set_leaves_the_set_hash_null() {
        let dir = std::env::temp_dir().join(format!("ratchetproof-runinfo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lone = dir.join("finding.json");
        std::fs::write(&lone, "{}").unwrap();
        let shown = lone.display().to_string();
        let inside = repo_vectors()
            .join("signal-v3/x3dh.json")
            .display()
            .to_string();
        let (info, warnings) = VectorsInfo::of(&[&inside, &shown]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!((info.set_hash, info.root), (None, None));
        assert_eq!(info.files[1].set_path, None);
        assert!(info.files[1].sha256.is_some());
        let json = serde_json::to_value(&VectorsInfo::of(&[&shown]).0).unwrap();
        assert!(json["setHash"].is_null(), "{json}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
