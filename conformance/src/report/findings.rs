//! Findings per implementation: the known-failures lists' entries grouped
//! by their reason (the comment above them, docs/CI.md), so a reader sees
//! "F1: the signed-prekey signature is never verified" with the tcIds that
//! show it, and in which modes. Built from the `knownFailures.entries` a
//! run recorded (docs/RESULTS.md), so the report needs no list at hand.

use std::collections::BTreeMap;

use super::model::Run;

/// One reason and the cases listed under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The comment, as written (lines joined by newlines); empty when the
    /// list gives none.
    pub reason: String,
    /// The listed cases per vector file (`SUITE/FILE`), tcIds sorted.
    pub cases: BTreeMap<String, Vec<u32>>,
    /// The runs (ids) whose list has it.
    pub runs: Vec<usize>,
}

impl Finding {
    /// The reason's first sentence: its headline.
    pub fn headline(&self) -> String {
        headline(&self.reason)
    }
}

/// The first sentence of a (hard-wrapped) comment, its lines joined, cut
/// at a word after 160 characters if the sentence is longer.
pub fn headline(reason: &str) -> String {
    let joined = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = match joined.find(". ") {
        Some(i) => joined.get(..=i).unwrap_or(&joined),
        None => joined.as_str(),
    };
    if sentence.chars().count() <= 160 {
        return sentence.to_string();
    }
    let mut out = String::new();
    for word in sentence.split(' ') {
        if out.chars().count() + word.chars().count() > 150 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

/// An implementation's findings.
#[derive(Debug, Clone)]
pub struct Findings {
    /// The implementation as it names itself (runs of it in any mode).
    pub implementation: String,
    /// Its findings, in the order their first case is listed.
    pub findings: Vec<Finding>,
}

/// Per implementation (in the order of its first run), its findings; runs
/// without a recorded list contribute none.
pub fn of(runs: &[Run<'_>]) -> Vec<Findings> {
    let mut out: Vec<Findings> = Vec::new();
    for run in runs {
        let Some(known) = &run.loaded.result.known_failures else {
            continue;
        };
        let name = run.implementation().to_string();
        let index = match out.iter().position(|f| f.implementation == name) {
            Some(i) => i,
            None => {
                out.push(Findings {
                    implementation: name,
                    findings: Vec::new(),
                });
                out.len() - 1
            }
        };
        let Some(group) = out.get_mut(index) else {
            continue;
        };
        for entry in &known.entries {
            let reason = entry.reason.clone().unwrap_or_default();
            let Some((file, tc)) = entry.case.rsplit_once(' ') else {
                continue;
            };
            let Ok(tc) = tc.parse::<u32>() else {
                continue;
            };
            let finding = match group.findings.iter().position(|f| f.reason == reason) {
                Some(i) => group.findings.get_mut(i),
                None => {
                    group.findings.push(Finding {
                        reason,
                        cases: BTreeMap::new(),
                        runs: Vec::new(),
                    });
                    group.findings.last_mut()
                }
            };
            let Some(finding) = finding else { continue };
            let tcs = finding.cases.entry(file.to_string()).or_default();
            if !tcs.contains(&tc) {
                tcs.push(tc);
                tcs.sort_unstable();
            }
            if !finding.runs.contains(&run.id) {
                finding.runs.push(run.id);
            }
        }
    }
    out.retain(|f| !f.findings.is_empty());
    out
}

/// `25–46, 56, 57`: sorted tcIds with runs of three or more as ranges.
pub fn ranges(tcs: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(&start) = tcs.get(i) {
        let mut j = i;
        while tcs
            .get(j + 1)
            .is_some_and(|&n| Some(n) == tcs.get(j).map(|p| p + 1))
        {
            j += 1;
        }
        let end = tcs.get(j).copied().unwrap_or(start);
        if j >= i + 2 {
            parts.push(format!("{start}–{end}"));
        } else {
            for n in tcs.get(i..=j).unwrap_or_default() {
                parts.push(n.to_string());
            }
        }
        i = j + 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_are_the_first_sentence_of_the_joined_lines() {
        assert_eq!(
            headline("F1: the signature is\nnever verified. session_builder.js\nline 3."),
            "F1: the signature is never verified."
        );
        assert_eq!(headline("no full stop"), "no full stop");
        let long = "word ".repeat(60);
        let h = headline(&long);
        assert!(h.ends_with('…') && h.chars().count() <= 151, "{h}");
    }

    #[test]
    fn runs_of_three_become_ranges() {
        assert_eq!(ranges(&[]), "");
        assert_eq!(ranges(&[5]), "5");
        assert_eq!(ranges(&[1, 2, 4, 5, 6, 9]), "1, 2, 4–6, 9");
        assert_eq!(ranges(&[25, 26, 27, 28, 56, 57]), "25–28, 56, 57");
    }
}
