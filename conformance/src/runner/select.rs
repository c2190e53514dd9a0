//! Checking a case selection before a run: every filter value must select at
//! least one case. A typo in `--flag` or a tcId that does not exist would
//! otherwise run nothing of what was asked and still end green.

use std::fmt;

use crate::vectors::AnyFile;

use super::{Filter, selected_cases};

/// A filter value that selects no case, together with the other filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// A `--file` substring.
    File(String),
    /// A `--flag`, with the closest flag the files' notes know, if any.
    Flag {
        /// The value given.
        flag: String,
        /// Whether some file's notes define it (it then selects nothing only
        /// together with the other filters).
        known: bool,
        /// The closest known flag, for a typo.
        suggestion: Option<String>,
    },
    /// A `--tc-id`.
    TcId(u32),
}

impl fmt::Display for Unmatched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmatched::File(s) => write!(f, "--file {s:?} matches no selected case"),
            Unmatched::Flag {
                flag, known: true, ..
            } => write!(
                f,
                "--flag {flag} matches no case selected by the other filters"
            ),
            Unmatched::Flag {
                flag,
                suggestion: Some(s),
                ..
            } => write!(
                f,
                "--flag {flag} is no flag of the selected files; did you mean {s}?"
            ),
            Unmatched::Flag { flag, .. } => {
                write!(f, "--flag {flag} is no flag of the selected files")
            }
            Unmatched::TcId(n) => write!(f, "--tc-id {n} matches no selected case"),
        }
    }
}

/// Every value of `filter` that selects no case of `loaded` when combined
/// with the other filters (empty: every value selects something).
pub fn unmatched(loaded: &[(String, AnyFile)], filter: &Filter) -> Vec<Unmatched> {
    let only = |files: Vec<String>, flags: Vec<String>, tc_ids: Vec<u32>| Filter {
        files,
        flags,
        tc_ids,
    };
    let selects = |f: &Filter| {
        loaded
            .iter()
            .filter(|(path, _)| f.file_matches(path))
            .any(|(_, file)| !selected_cases(file, f).is_empty())
    };
    let mut out = Vec::new();
    for file in &filter.files {
        let f = only(
            vec![file.clone()],
            filter.flags.clone(),
            filter.tc_ids.clone(),
        );
        if !selects(&f) {
            out.push(Unmatched::File(file.clone()));
        }
    }
    let in_files = loaded.iter().filter(|(path, _)| filter.file_matches(path));
    let known_flags: Vec<&String> = in_files.flat_map(|(_, file)| file.notes().keys()).collect();
    for flag in &filter.flags {
        let f = only(
            filter.files.clone(),
            vec![flag.clone()],
            filter.tc_ids.clone(),
        );
        if !selects(&f) {
            out.push(Unmatched::Flag {
                flag: flag.clone(),
                known: known_flags.contains(&flag),
                suggestion: closest(flag, known_flags.iter().map(|s| s.as_str())),
            });
        }
    }
    for tc in &filter.tc_ids {
        let f = only(filter.files.clone(), filter.flags.clone(), vec![*tc]);
        if !selects(&f) {
            out.push(Unmatched::TcId(*tc));
        }
    }
    out
}

/// The candidate nearest to `word` by edit distance (case-insensitive), if
/// near enough to be a typo of it.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let word_lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .map(|c| (edit_distance(&word_lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut left = i + 1;
        let mut next = Vec::with_capacity(row.len());
        next.push(left);
        for (j, cb) in b.iter().enumerate() {
            let up = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let cost = usize::from(ca != *cb);
            let value = (diagonal + cost).min(up + 1).min(left + 1);
            next.push(value);
            diagonal = up;
            left = value;
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("forwardsecrity", "forwardsecrecy"), 2);
    }

    #[test]
    fn a_typo_gets_the_nearest_flag_and_nonsense_gets_none() {
        let flags = ["ForwardSecrecy", "PostCompromise", "OutOfOrder"];
        assert_eq!(
            closest("ForwardSecrity", flags.into_iter()).as_deref(),
            Some("ForwardSecrecy")
        );
        assert_eq!(
            closest("outoforder", flags.into_iter()).as_deref(),
            Some("OutOfOrder")
        );
        assert_eq!(closest("Zebra", flags.into_iter()), None);
    }
}
