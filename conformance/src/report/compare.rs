//! Two result sets side by side (before and after a peer upgrade, or two
//! CI runs): per pair of runs, the cases that fail now and did not before
//! (new failures) and those that failed before and pass now (fixed).
//!
//! Runs are paired by their file name (CI names them after the peer and
//! mode: `libsignal-node-live-strict.json`), else by the implementation as
//! it names itself and the mode, else by the implementation's name alone
//! and the mode (a version upgrade), when that is unambiguous. A case is
//! the same case when its suite, file name and tcId are (as known-failures
//! lists name it); results on different vector sets are flagged, since the
//! same tcId may then be another case.

use std::collections::BTreeMap;

use super::input::{Case, CaseStatus, Loaded};

/// A case whose status changed between the two results.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// `SUITE/FILE TCID`.
    pub key: String,
    /// Its status before (`None`: not in the old result).
    pub before: Option<CaseStatus>,
    /// The case now.
    pub after: &'a Case,
}

/// The difference between one old run and one new run.
#[derive(Debug, Clone)]
pub struct Pair<'a> {
    /// The old result.
    pub old: &'a Loaded,
    /// The new result.
    pub new: &'a Loaded,
    /// Index of the new run among the new results.
    pub new_id: usize,
    /// Failing or errored now, passed, skipped or absent before.
    pub new_failures: Vec<Change<'a>>,
    /// Failed or errored before, passing now.
    pub fixed: Vec<Change<'a>>,
    /// Failing in both.
    pub still_failing: usize,
    /// Whether both name the same vector-set hash.
    pub same_vectors: bool,
}

/// The comparison of two result sets.
#[derive(Debug, Clone)]
pub struct Comparison<'a> {
    /// Paired runs, in the new results' order.
    pub pairs: Vec<Pair<'a>>,
    /// New runs without an old counterpart (file names).
    pub only_new: Vec<String>,
    /// Old runs without a new counterpart (file names).
    pub only_old: Vec<String>,
}

fn hash(l: &Loaded) -> Option<&str> {
    l.result
        .vectors
        .as_ref()
        .and_then(|v| v.set_hash.as_deref())
}

fn name(l: &Loaded) -> Option<&str> {
    l.result.capabilities.as_ref().map(|c| c.name.as_str())
}

/// Pairs the runs of `old` and `new` and compares each pair. Each rule is
/// applied to every run before the next, looser one, so that a run named
/// like an old one is never taken by another run's looser match.
pub fn compare<'a>(old: &'a [Loaded], new: &'a [Loaded]) -> Comparison<'a> {
    type Rule = fn(&Loaded, &Loaded) -> bool;
    let rules: [Rule; 3] = [
        |o, n| o.stem() == n.stem(),
        |o, n| o.result.implementation == n.result.implementation && o.result.mode == n.result.mode,
        |o, n| name(o).is_some() && name(o) == name(n) && o.result.mode == n.result.mode,
    ];
    let mut used = vec![false; old.len()];
    let mut partner: Vec<Option<usize>> = vec![None; new.len()];
    for rule in rules {
        for (j, n) in new.iter().enumerate() {
            if partner.get(j).copied().flatten().is_some() {
                continue;
            }
            let hits: Vec<usize> = old
                .iter()
                .enumerate()
                .filter(|(i, o)| !used.get(*i).copied().unwrap_or(true) && rule(o, n))
                .map(|(i, _)| i)
                .collect();
            if let [one] = hits.as_slice()
                && let (Some(u), Some(p)) = (used.get_mut(*one), partner.get_mut(j))
            {
                *u = true;
                *p = Some(*one);
            }
        }
    }
    if old.len() == 1 && new.len() == 1 && partner == [None] {
        partner = vec![Some(0)];
        used = vec![true];
    }
    let mut pairs = Vec::new();
    let mut only_new = Vec::new();
    for (new_id, (n, p)) in new.iter().zip(&partner).enumerate() {
        match p.and_then(|i| old.get(i)) {
            Some(o) => pairs.push(pair(o, n, new_id)),
            None => only_new.push(n.stem()),
        }
    }
    let only_old = old
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(o, _)| o.stem())
        .collect();
    Comparison {
        pairs,
        only_new,
        only_old,
    }
}

fn pair<'a>(old: &'a Loaded, new: &'a Loaded, new_id: usize) -> Pair<'a> {
    let before: BTreeMap<String, CaseStatus> = old
        .result
        .cases
        .iter()
        .map(|c| (c.key(), c.status))
        .collect();
    let mut p = Pair {
        old,
        new,
        new_id,
        new_failures: Vec::new(),
        fixed: Vec::new(),
        still_failing: 0,
        same_vectors: hash(old).is_some() && hash(old) == hash(new),
    };
    for case in &new.result.cases {
        let key = case.key();
        let was = before.get(&key).copied();
        let was_problem = was.is_some_and(CaseStatus::is_problem);
        if case.status.is_problem() && was_problem {
            p.still_failing += 1;
        } else if case.status.is_problem() {
            p.new_failures.push(Change {
                key,
                before: was,
                after: case,
            });
        } else if was_problem && case.status == CaseStatus::Passed {
            p.fixed.push(Change {
                key,
                before: was,
                after: case,
            });
        }
    }
    p
}
