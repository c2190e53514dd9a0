//! Result summaries: the counts of a run (totals, per suite, per flag) with
//! what they were measured on, small enough to commit. The peers' numbers
//! in the READMEs are generated from them ([`super::markdown`]), and CI
//! checks that a fresh run of every peer gives the committed numbers
//! ([`check`]), so no README number is maintained by hand and none can go
//! stale.
//!
//! One file per peer, `DIR/PEER.json`, holding its runs; PEER is the name of
//! the folder the results were read from (`.ci/peers` writes
//! `target/peers/PEER/RUN.json`) and RUN the result's file name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::input::Loaded;
use super::model::Tally;

/// Version of the summary files.
pub const SUMMARY_VERSION: u32 = 1;

/// Passed, failed, skipped, errored; written as `[passed, failed,
/// skipped, errored]` so a summary stays one line per flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[usize; 4]", into = "[usize; 4]")]
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

impl From<[usize; 4]> for Counts {
    fn from([passed, failed, skipped, errored]: [usize; 4]) -> Self {
        Counts {
            passed,
            failed,
            skipped,
            errored,
        }
    }
}

impl From<Counts> for [usize; 4] {
    fn from(c: Counts) -> Self {
        [c.passed, c.failed, c.skipped, c.errored]
    }
}

impl From<Tally> for Counts {
    fn from(t: Tally) -> Self {
        Counts {
            passed: t.passed,
            failed: t.failed,
            skipped: t.skipped,
            errored: t.errored,
        }
    }
}

/// One run's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// The run's name (its result file's name without `.json`).
    pub run: String,
    /// The implementation as it named itself.
    pub implementation: String,
    /// `default` or `strict`.
    pub mode: String,
    /// The vector-set hash the run read.
    pub set_hash: Option<String>,
    /// When the run started (informative: not compared).
    pub started_at: Option<String>,
    /// Every case.
    pub totals: Counts,
    /// Per suite.
    pub suites: BTreeMap<String, Counts>,
    /// Per `SUITE/FLAG`, for the suites the run executed a case of.
    pub flags: BTreeMap<String, Counts>,
}

/// A peer's summary file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerSummary {
    /// [`SUMMARY_VERSION`].
    pub summary_version: u32,
    /// The peer (its shim folder's name).
    pub peer: String,
    /// Its runs, by run name.
    pub runs: Vec<RunSummary>,
}

impl RunSummary {
    /// The numbers of one result.
    pub fn of(loaded: &Loaded) -> RunSummary {
        let r = &loaded.result;
        let mut totals = Tally::default();
        let mut suites: BTreeMap<String, Tally> = BTreeMap::new();
        let mut flags: BTreeMap<String, Tally> = BTreeMap::new();
        for case in &r.cases {
            totals.add(case.status);
            suites
                .entry(case.suite.clone())
                .or_default()
                .add(case.status);
            for flag in &case.flags {
                flags
                    .entry(format!("{}/{flag}", case.suite))
                    .or_default()
                    .add(case.status);
            }
        }
        let executed = |suite: &str| suites.get(suite).is_some_and(|t| t.executed() > 0);
        flags.retain(|key, _| {
            key.split_once('/')
                .is_some_and(|(suite, _)| executed(suite))
        });
        RunSummary {
            run: loaded.stem(),
            implementation: r.implementation.clone(),
            mode: r.mode.clone().unwrap_or_else(|| "unknown".into()),
            set_hash: r.vectors.as_ref().and_then(|v| v.set_hash.clone()),
            started_at: r.started_at.clone(),
            totals: totals.into(),
            suites: suites.into_iter().map(|(k, v)| (k, v.into())).collect(),
            flags: flags.into_iter().map(|(k, v)| (k, v.into())).collect(),
        }
    }

    /// What differs from `other` (everything but `startedAt`), one line each.
    pub fn differences(&self, fresh: &RunSummary) -> Vec<String> {
        let mut out = Vec::new();
        let name = &self.run;
        if self.implementation != fresh.implementation {
            out.push(format!(
                "{name}: implementation {:?}, committed {:?}",
                fresh.implementation, self.implementation
            ));
        }
        if self.mode != fresh.mode {
            out.push(format!(
                "{name}: mode {}, committed {}",
                fresh.mode, self.mode
            ));
        }
        if self.set_hash != fresh.set_hash {
            out.push(format!(
                "{name}: vector set {}, committed {}",
                fresh.set_hash.as_deref().unwrap_or("none"),
                self.set_hash.as_deref().unwrap_or("none")
            ));
        }
        if self.totals != fresh.totals {
            out.push(format!(
                "{name}: {}, committed {}",
                counts(&fresh.totals),
                counts(&self.totals)
            ));
        }
        let keys: std::collections::BTreeSet<&String> =
            self.flags.keys().chain(fresh.flags.keys()).collect();
        for key in keys {
            let (a, b) = (self.flags.get(key), fresh.flags.get(key));
            if a != b {
                out.push(format!(
                    "{name}: flag {key}: {}, committed {}",
                    b.map_or("absent".into(), counts),
                    a.map_or("absent".into(), counts)
                ));
            }
        }
        if self.suites != fresh.suites && out.is_empty() {
            out.push(format!("{name}: per-suite counts differ"));
        }
        out
    }
}

/// `488 passed, 39 failed, 15 skipped, 0 errored`.
pub fn counts(c: &Counts) -> String {
    format!(
        "{} passed, {} failed, {} skipped, {} errored",
        c.passed, c.failed, c.skipped, c.errored
    )
}

/// The peer a result belongs to: the name of the folder it was read from.
pub fn peer_of(loaded: &Loaded) -> String {
    loaded
        .path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The summaries of `results`, per peer, each configuration's default run
/// before its strict one.
pub fn summarise(results: &[Loaded]) -> BTreeMap<String, PeerSummary> {
    let mut out: BTreeMap<String, PeerSummary> = BTreeMap::new();
    for loaded in results {
        let peer = peer_of(loaded);
        out.entry(peer.clone())
            .or_insert_with(|| PeerSummary {
                summary_version: SUMMARY_VERSION,
                peer,
                runs: Vec::new(),
            })
            .runs
            .push(RunSummary::of(loaded));
    }
    // A configuration's default run, then its strict one (`x`, `x-strict`,
    // `x-live`, `x-live-strict`), as the site orders them.
    let key = |r: &RunSummary| {
        (
            r.run.strip_suffix("-strict").unwrap_or(&r.run).to_string(),
            r.mode != "default",
            r.run.clone(),
        )
    };
    for p in out.values_mut() {
        p.runs.sort_by_key(key);
    }
    out
}

/// Every summary file of `dir` (`*.json`), sorted by peer.
pub fn read_dir(dir: &Path) -> Result<Vec<PeerSummary>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let s: PeerSummary =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if s.summary_version != SUMMARY_VERSION {
            return Err(format!(
                "{}: summaryVersion {}, this tool writes {SUMMARY_VERSION}",
                path.display(),
                s.summary_version
            ));
        }
        out.push(s);
    }
    Ok(out)
}

/// Writes one file per peer of `results` into `dir`; returns the paths.
pub fn write(results: &[Loaded], dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (peer, summary) in summarise(results) {
        if peer.is_empty() {
            return Err(
                "a result is not inside a peer's folder (target/peers/PEER/RUN.json)".into(),
            );
        }
        let path = dir.join(format!("{peer}.json"));
        let text = to_text(&summary).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// How fresh `results` differ from the committed summaries of their peers:
/// every run of a committed peer must be among the results with the same
/// numbers, and every result's run must be committed. Empty when equal.
pub fn check(results: &[Loaded], committed: &[PeerSummary]) -> Vec<String> {
    let fresh = summarise(results);
    let mut out = Vec::new();
    for (peer, f) in &fresh {
        let Some(c) = committed.iter().find(|c| &c.peer == peer) else {
            out.push(format!("{peer}: no committed summary"));
            continue;
        };
        for run in &f.runs {
            match c.runs.iter().find(|r| r.run == run.run) {
                Some(committed) => out.extend(committed.differences(run)),
                None => out.push(format!("{peer}: run {} is not committed", run.run)),
            }
        }
        for run in &c.runs {
            if !f.runs.iter().any(|r| r.run == run.run) {
                out.push(format!("{peer}: committed run {} did not run", run.run));
            }
        }
    }
    out
}

/// A summary as its file holds it: JSON with one line per run field and per
/// flag, so that a change of numbers is a readable diff.
pub fn to_text(s: &PeerSummary) -> Result<String, serde_json::Error> {
    fn j<T: Serialize + ?Sized>(v: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(v)
    }
    let map = |m: &BTreeMap<String, Counts>, indent: &str| -> Result<String, serde_json::Error> {
        let lines = m
            .iter()
            .map(|(k, v)| Ok(format!("{indent}  {}: {}", j(k)?, j(v)?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        Ok(if lines.is_empty() {
            "{}".to_string()
        } else {
            format!("{{\n{}\n{indent}}}", lines.join(",\n"))
        })
    };
    let mut runs = Vec::new();
    for r in &s.runs {
        runs.push(format!(
            "    {{\n      \"run\": {},\n      \"implementation\": {},\n      \"mode\": {},\n      \"setHash\": {},\n      \"startedAt\": {},\n      \"totals\": {},\n      \"suites\": {},\n      \"flags\": {}\n    }}",
            j(&r.run)?,
            j(&r.implementation)?,
            j(&r.mode)?,
            j(&r.set_hash)?,
            j(&r.started_at)?,
            j(&r.totals)?,
            map(&r.suites, "      ")?,
            map(&r.flags, "      ")?
        ));
    }
    Ok(format!(
        "{{\n  \"summaryVersion\": {},\n  \"peer\": {},\n  \"runs\": [\n{}\n  ]\n}}\n",
        s.summary_version,
        j(&s.peer)?,
        runs.join(",\n")
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    #[test]
    fn the_file_form_reads_back_to_the_same_summary() {
        let c = |p| Counts {
            passed: p,
            failed: 1,
            skipped: 2,
            errored: 0,
        };
        let s = PeerSummary {
            summary_version: SUMMARY_VERSION,
            peer: "p\"q".into(),
            runs: vec![RunSummary {
                run: "p".into(),
                implementation: "p 1.0".into(),
                mode: "default".into(),
                set_hash: None,
                started_at: Some("2026-12-01T00:00:00Z".into()),
                totals: c(9),
                suites: BTreeMap::from([("s".to_string(), c(9))]),
                flags: BTreeMap::from([("s/A".to_string(), c(3)), ("s/B".to_string(), c(4))]),
            }],
        };
        let text = to_text(&s).unwrap();
        assert!(text.contains("\n        \"s/A\": [3,1,2,0],\n"), "{text}");
        let back: PeerSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        let mut fresh = s.runs[0].clone();
        fresh.flags.insert("s/A".into(), c(4));
        fresh.started_at = None;
        let d = s.runs[0].differences(&fresh);
        assert_eq!(
            d,
            [
                "p: flag s/A: 4 passed, 1 failed, 2 skipped, 0 errored, committed 3 passed, 1 failed, 2 skipped, 0 errored"
            ]
        );
    }
}
