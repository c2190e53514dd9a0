//! No peer number in a README is maintained by hand: every count table in
//! conformance/shims/**/README.md is a marked block generated from the
//! committed summaries in conformance/shims/results/ (docs/REPORT.md). This
//! fails when a block differs from what the summaries give — a hand edit,
//! or summaries re-recorded without regenerating the tables — and says the
//! one command that fixes it. (CI checks the other half: that a fresh run of
//! every peer gives the committed summaries.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use ratchetproof::report::{markdown, summary};

fn shims() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("shims")
}

fn readmes() -> Vec<PathBuf> {
    let mut out = vec![shims().join("README.md")];
    for entry in std::fs::read_dir(shims()).unwrap() {
        let readme = entry.unwrap().path().join("README.md");
        if readme.exists() {
            out.push(readme);
        }
    }
    out.sort();
    out
}

#[test]
fn the_readme_tables_are_the_ones_the_committed_summaries_give() {
    let summaries = summary::read_dir(&shims().join("results")).unwrap();
    assert!(!summaries.is_empty());
    let mut stale = Vec::new();
    let mut blocks = Vec::new();
    for path in readmes() {
        let text = std::fs::read_to_string(&path).unwrap();
        let generated = markdown::update(&text, &summaries)
            .unwrap_or_else(|e| panic!("{}:{e}", path.display()));
        if generated != text {
            stale.push(path.display().to_string());
        }
        blocks.extend(markdown::blocks(&text));
    }
    assert!(
        stale.is_empty(),
        "README tables differ from conformance/shims/results/: {stale:?}; regenerate with\n  \
         ratchetproof report --markdown conformance/shims/results --update conformance/shims/README.md conformance/shims/*/README.md"
    );
    // Every peer with numbers has them in the overview and in its own README.
    assert!(blocks.iter().any(|b| b == "runs:*"), "{blocks:?}");
    for s in &summaries {
        assert!(
            blocks.iter().any(|b| *b == format!("runs:{}", s.peer)),
            "no `runs:{}` table in its README",
            s.peer
        );
    }
}

#[test]
fn a_hand_edited_count_is_caught() {
    let summaries = summary::read_dir(&shims().join("results")).unwrap();
    let text = std::fs::read_to_string(shims().join("README.md")).unwrap();
    let run = &summaries[0].runs[0];
    let row = format!("| `{}` |", run.run);
    let at = text
        .find(&row)
        .expect("the first peer's first run has a row");
    let passed = format!("| {} |", run.totals.passed);
    let rest = &text[at..];
    let cell = at + rest.find(&passed).unwrap();
    let mut edited = text.clone();
    edited.replace_range(
        cell..cell + passed.len(),
        &format!("| {} |", run.totals.passed + 1),
    );
    assert_ne!(markdown::update(&edited, &summaries).unwrap(), edited);
}
