//! What the site shows, computed from the results before any HTML is
//! written: each run's totals, per suite and per flag; the suites and the
//! flags of the matrices; the flags' notes. Runs keep their input order
//! (CI's order: a peer's default run, then its strict run).

use std::collections::BTreeMap;

use super::input::{CaseStatus, Loaded, Note};

/// Passed, failed, skipped, errored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Errored.
    pub errored: usize,
}

impl Tally {
    /// Counts one case.
    pub fn add(&mut self, status: CaseStatus) {
        match status {
            CaseStatus::Passed => self.passed += 1,
            CaseStatus::Failed => self.failed += 1,
            CaseStatus::Skipped => self.skipped += 1,
            CaseStatus::Errored => self.errored += 1,
        }
    }

    /// Cases that ran.
    pub fn executed(&self) -> usize {
        self.passed + self.failed + self.errored
    }

    /// Cases that ran and did not pass.
    pub fn problems(&self) -> usize {
        self.failed + self.errored
    }

    /// Every case.
    pub fn total(&self) -> usize {
        self.executed() + self.skipped
    }
}

/// One run, summarised.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// Its place among the runs (ids in the page).
    pub id: usize,
    /// The result.
    pub loaded: &'a Loaded,
    /// `default`, `strict`, or `unknown` (a result without provenance).
    pub mode: String,
    /// Every case.
    pub totals: Tally,
    /// Per suite.
    pub per_suite: BTreeMap<String, Tally>,
    /// Per suite, per flag.
    pub per_flag: BTreeMap<(String, String), Tally>,
}

impl Run<'_> {
    /// The implementation as it named itself (`NAME VERSION`).
    pub fn implementation(&self) -> &str {
        &self.loaded.result.implementation
    }

    /// The implementation's name (its handshake `name`, else the first word).
    pub fn name(&self) -> &str {
        match &self.loaded.result.capabilities {
            Some(c) => &c.name,
            None => self
                .implementation()
                .split_whitespace()
                .next()
                .unwrap_or_default(),
        }
    }

    /// The implementation's version, split into the version proper and what
    /// a shim adds in parentheses (its dependencies, its store mode).
    pub fn version(&self) -> (&str, &str) {
        let version = match &self.loaded.result.capabilities {
            Some(c) => c.version.as_str(),
            None => self.implementation().split_once(' ').map_or("", |(_, v)| v),
        };
        match version.split_once(" (") {
            Some((v, rest)) => (v, rest.strip_suffix(')').unwrap_or(rest)),
            None => (version, ""),
        }
    }

    /// The vector-set hash, if recorded.
    pub fn set_hash(&self) -> Option<&str> {
        self.loaded
            .result
            .vectors
            .as_ref()
            .and_then(|v| v.set_hash.as_deref())
    }
}

/// The runs and what their matrices need.
#[derive(Debug, Clone)]
pub struct Model<'a> {
    /// Every run, in input order.
    pub runs: Vec<Run<'a>>,
    /// Suites any run executed a case of, those most runs executed first.
    pub suites: Vec<String>,
    /// Per suite, its flags, sorted.
    pub flags: BTreeMap<String, Vec<String>>,
    /// Per suite and flag, its note (the first run's that has one).
    pub notes: BTreeMap<(String, String), Note>,
}

impl<'a> Model<'a> {
    /// Summarises `results`, ordered by implementation name, configuration
    /// (the file name without `-strict`), then mode (`default` before
    /// `strict`), whatever order they were given in (a shell glob puts
    /// `x-strict.json` before `x.json`).
    pub fn of(results: &'a [Loaded]) -> Model<'a> {
        let mut runs = Vec::new();
        let mut notes = BTreeMap::new();
        let mut flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let rank = |l: &Loaded| match l.result.mode.as_deref() {
            Some("default") => 0,
            Some("strict") => 1,
            _ => 2,
        };
        // A peer's configurations stay together, its default configuration
        // (the shortest file name, `x` before `x-live`) first.
        let name = |l: &Loaded| {
            l.result
                .capabilities
                .as_ref()
                .map_or_else(|| l.result.implementation.clone(), |c| c.name.clone())
        };
        let variant = |l: &Loaded| {
            let stem = l.stem();
            stem.strip_suffix("-strict")
                .map_or(stem.clone(), str::to_string)
        };
        let mut ordered: Vec<&'a Loaded> = results.iter().collect();
        ordered.sort_by(|a, b| {
            (name(a), variant(a), rank(a), a.stem()).cmp(&(name(b), variant(b), rank(b), b.stem()))
        });
        for (id, loaded) in ordered.into_iter().enumerate() {
            let r = &loaded.result;
            let mut run = Run {
                id,
                loaded,
                mode: r.mode.clone().unwrap_or_else(|| "unknown".into()),
                totals: Tally::default(),
                per_suite: BTreeMap::new(),
                per_flag: BTreeMap::new(),
            };
            let suite_of: BTreeMap<&str, &str> = r
                .cases
                .iter()
                .map(|c| (c.file.as_str(), c.suite.as_str()))
                .collect();
            for file in r.vectors.iter().flat_map(|v| &v.files) {
                let suite = suite_of.get(file.path.as_str()).copied().unwrap_or("");
                for (flag, note) in &file.notes {
                    notes
                        .entry((suite.to_string(), flag.clone()))
                        .or_insert_with(|| note.clone());
                }
            }
            for case in &r.cases {
                run.totals.add(case.status);
                run.per_suite
                    .entry(case.suite.clone())
                    .or_default()
                    .add(case.status);
                for flag in &case.flags {
                    run.per_flag
                        .entry((case.suite.clone(), flag.clone()))
                        .or_default()
                        .add(case.status);
                }
            }
            runs.push(run);
        }
        let mut suites: Vec<String> = runs
            .iter()
            .flat_map(|r| r.per_suite.iter())
            .filter(|(_, t)| t.executed() > 0)
            .map(|(s, _)| s.clone())
            .collect();
        suites.sort();
        suites.dedup();
        // The suites most runs executed first (the widest comparison).
        let ran = |suite: &str| {
            runs.iter()
                .filter(|r| r.per_suite.get(suite).is_some_and(|t| t.executed() > 0))
                .count()
        };
        suites.sort_by_key(|s| std::cmp::Reverse(ran(s)));
        for run in &runs {
            for (suite, flag) in run.per_flag.keys() {
                if suites.contains(suite) {
                    flags.entry(suite.clone()).or_default().push(flag.clone());
                }
            }
        }
        for list in flags.values_mut() {
            list.sort();
            list.dedup();
        }
        Model {
            runs,
            suites,
            flags,
            notes,
        }
    }

    /// The runs that executed a case of `suite`, in input order.
    pub fn runs_of(&self, suite: &str) -> Vec<&Run<'a>> {
        self.runs
            .iter()
            .filter(|r| r.per_suite.get(suite).is_some_and(|t| t.executed() > 0))
            .collect()
    }
}

/// `sha256:ff93a1d0…`: a hash short enough for a table.
pub fn short_hash(hash: &str) -> String {
    match hash.strip_prefix("sha256:") {
        Some(hex) => format!("sha256:{}…", hex.get(..8).unwrap_or(hex)),
        None => hash.to_string(),
    }
}
