//! Coverage: what a run actually checked, and whether that is what was asked.
//!
//! A run in which nothing executed, or in which a capability CI relies on was
//! not declared, is not a pass: it is no verdict. [`check`] names every
//! requirement a report does not meet; `run` then exits 2.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::implementation::Operation;

use super::{Capability, Report, Status};

/// The operation groups a vector case can need, for parsing their names.
pub const OPERATIONS: [Operation; 8] = [
    Operation::Primitives,
    Operation::X3dh,
    Operation::Session,
    Operation::Clone,
    Operation::X3dhAccept,
    Operation::Prekey,
    Operation::Pqxdh,
    Operation::PqxdhAccept,
];

/// The group named `name` (as in the shim handshake), if any.
pub fn operation_named(name: &str) -> Option<Operation> {
    OPERATIONS.into_iter().find(|op| op.as_str() == name)
}

/// How many skipped cases lacked one capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkipCount {
    /// The capability.
    #[serde(flatten)]
    pub capability: Capability,
    /// Skipped cases that lack it first (see [`Report::skipped_because`]).
    pub cases: usize,
}

impl Report {
    /// Cases that ran: passed, failed or errored.
    pub fn executed(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| !matches!(c.status, Status::Skipped { .. }))
            .count()
    }

    /// Per undeclared capability, how many skipped cases lack it; the most
    /// frequent first. A case that lacks several is counted once, under the
    /// first in the order suite, operation groups, injected randomness,
    /// limits — so the counts add up to the skipped cases, and declaring the
    /// suite of a file is what comes before anything else about it.
    pub fn skipped_because(&self) -> Vec<SkipCount> {
        let mut counts: BTreeMap<&Capability, usize> = BTreeMap::new();
        for case in &self.cases {
            if let Status::Skipped { missing, .. } = &case.status
                && let Some(first) = missing.first()
            {
                *counts.entry(first).or_default() += 1;
            }
        }
        let mut out: Vec<SkipCount> = counts
            .into_iter()
            .map(|(capability, cases)| SkipCount {
                capability: capability.clone(),
                cases,
            })
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.cases));
        out
    }
}

/// What CI demands of a run beyond "no case failed".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// No selected case is skipped for lacking these suites, and at least
    /// one of each executes.
    pub suites: Vec<String>,
    /// No selected case is skipped for lacking these groups, and at least
    /// one needing each executes.
    pub operations: Vec<Operation>,
    /// Every selected case executes.
    pub all: bool,
    /// At least this many cases execute.
    pub min_executed: Option<usize>,
}

/// A requirement a run did not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// No case executed at all (always checked).
    NothingExecuted {
        /// Cases selected (all skipped).
        selected: usize,
    },
    /// `--require-suite` / `--require-operation`: some selected case was
    /// skipped for lacking the capability, or no case needing it executed.
    Capability {
        /// The capability.
        capability: Capability,
        /// Executed cases that need it.
        executed: usize,
        /// Selected cases skipped for lacking it.
        skipped: usize,
    },
    /// `--require-all`: some cases were skipped.
    NotAll {
        /// How many.
        skipped: usize,
    },
    /// `--min-executed`.
    MinExecuted {
        /// The minimum asked.
        min: usize,
        /// Cases executed.
        executed: usize,
    },
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmet::NothingExecuted { selected: 0 } => write!(f, "no case was selected"),
            Unmet::NothingExecuted { selected } => write!(
                f,
                "no case executed: all {selected} selected cases were skipped"
            ),
            Unmet::Capability {
                capability,
                executed,
                skipped: 0,
            } => write!(
                f,
                "required {capability}: {executed} selected cases that need it executed"
            ),
            Unmet::Capability {
                capability,
                skipped,
                ..
            } => write!(
                f,
                "required {capability}: {skipped} selected cases were skipped because it is not declared"
            ),
            Unmet::NotAll { skipped } => {
                write!(f, "--require-all: {skipped} selected cases were skipped")
            }
            Unmet::MinExecuted { min, executed } => {
                write!(f, "--min-executed {min}: only {executed} cases executed")
            }
        }
    }
}

/// Every requirement `report` does not meet; a run in which nothing executed
/// never meets them.
pub fn check(report: &Report, req: &Requirements) -> Vec<Unmet> {
    let executed = report.executed();
    let skipped = report.cases.len() - executed;
    let mut out = Vec::new();
    if executed == 0 {
        out.push(Unmet::NothingExecuted {
            selected: report.cases.len(),
        });
    }
    let required = req
        .suites
        .iter()
        .map(|suite| Capability::Suite {
            suite: suite.clone(),
        })
        .chain(
            req.operations
                .iter()
                .map(|&group| Capability::Operation { group }),
        );
    for capability in required {
        // Cases skipped for another reason (another suite's files, say) do
        // not count against it.
        let (mut executed, mut skipped) = (0, 0);
        for case in report
            .cases
            .iter()
            .filter(|c| c.needs.contains(&capability))
        {
            match &case.status {
                Status::Skipped { missing, .. } => {
                    skipped += usize::from(missing.contains(&capability));
                }
                _ => executed += 1,
            }
        }
        if executed == 0 || skipped > 0 {
            out.push(Unmet::Capability {
                capability,
                executed,
                skipped,
            });
        }
    }
    if req.all && skipped > 0 {
        out.push(Unmet::NotAll { skipped });
    }
    if let Some(min) = req.min_executed
        && executed < min
    {
        out.push(Unmet::MinExecuted { min, executed });
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::runner::CaseResult;

    fn suite(s: &str) -> Capability {
        Capability::Suite { suite: s.into() }
    }

    fn session() -> Capability {
        Capability::Operation {
            group: Operation::Session,
        }
    }

    fn case(s: &str, status: Status) -> CaseResult {
        CaseResult {
            file: format!("{s}/session_scenarios.json"),
            suite: s.into(),
            tc_id: 1,
            comment: String::new(),
            flags: Vec::new(),
            result: crate::vectors::Verdict::Valid,
            alternative_steps: Vec::new(),
            status,
            needs: vec![suite(s), session()],
            step_count: 0,
        }
    }

    fn skipped(missing: Vec<Capability>) -> Status {
        Status::Skipped {
            reason: String::new(),
            missing,
        }
    }

    fn report(cases: Vec<CaseResult>) -> Report {
        Report {
            implementation: "t".into(),
            cases,
        }
    }

    fn requiring_session() -> Requirements {
        Requirements {
            operations: vec![Operation::Session],
            ..Requirements::default()
        }
    }

    #[test]
    fn nothing_executed_is_never_met() {
        let r = report(vec![case("a", skipped(vec![suite("a")]))]);
        assert_eq!(
            check(&r, &Requirements::default()),
            [Unmet::NothingExecuted { selected: 1 }]
        );
        assert_eq!(
            check(&report(Vec::new()), &Requirements::default()),
            [Unmet::NothingExecuted { selected: 0 }]
        );
    }

    #[test]
    fn a_case_skipped_for_another_capability_does_not_count_against_a_requirement() {
        let r = report(vec![
            case("a", Status::Passed),
            case("b", skipped(vec![suite("b")])),
        ]);
        assert!(check(&r, &requiring_session()).is_empty());
        let r = report(vec![
            case("a", Status::Passed),
            case("b", skipped(vec![suite("b"), session()])),
        ]);
        assert_eq!(
            check(&r, &requiring_session()),
            [Unmet::Capability {
                capability: session(),
                executed: 1,
                skipped: 1
            }]
        );
        let all = Requirements {
            all: true,
            min_executed: Some(2),
            ..Requirements::default()
        };
        assert_eq!(
            check(&r, &all),
            [
                Unmet::NotAll { skipped: 1 },
                Unmet::MinExecuted {
                    min: 2,
                    executed: 1
                }
            ]
        );
    }

    #[test]
    fn skips_are_counted_per_capability() {
        let r = report(vec![
            case("b", skipped(vec![suite("b"), session()])),
            case("b", skipped(vec![suite("b")])),
        ]);
        let counts = r.skipped_because();
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].capability, suite("b"));
        assert_eq!(counts[0].cases, 2);
        let r = report(vec![
            case("b", skipped(vec![suite("b"), session()])),
            case("a", skipped(vec![session()])),
            case("c", skipped(vec![session()])),
        ]);
        let counts = r.skipped_because();
        assert_eq!(counts[0].capability, session());
        assert_eq!(counts[0].cases, 2);
        assert_eq!(counts[1].capability, suite("b"));
        assert_eq!(counts[1].cases, 1);
    }
}
