//! `ratchetproof report`: the JSON results of any number of runs
//! (docs/RESULTS.md) turned into what people look at — a static site, one
//! self-contained `index.html` with the runs, a matrix of implementations ×
//! flags per suite whose failing cells open the cases' details, the
//! implementations' findings from their known-failures lists, and
//! optionally a comparison with earlier results — and into the committed
//! summaries and README tables of the peers' numbers, so that no number in
//! a README is written by hand (docs/REPORT.md).
//!
//! The site is rendered in Rust with every piece of result data escaped
//! ([`escape`]); its small script only sorts and shows what is already on
//! the page, so the page needs no network and opens from `file://`.

pub mod compare;
pub mod escape;
pub mod findings;
pub mod html;
pub mod input;
pub mod markdown;
pub mod model;
pub mod summary;

use std::path::{Path, PathBuf};

pub use input::{Loaded, read, read_all};

/// The site's page for `results`, compared with `earlier` when given.
pub fn site(results: &[Loaded], earlier: Option<&[Loaded]>, info: &html::PageInfo<'_>) -> String {
    let model = model::Model::of(results);
    let findings = findings::of(&model.runs);
    let comparison = earlier.map(|old| compare::compare(old, results));
    html::page(&model, &findings, comparison.as_ref(), info)
}

/// Writes the site into `dir` (created if missing): `dir/index.html`.
pub fn write_site(
    dir: &Path,
    results: &[Loaded],
    earlier: Option<&[Loaded]>,
    info: &html::PageInfo<'_>,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let index = dir.join("index.html");
    std::fs::write(&index, site(results, earlier, info))
        .map_err(|e| format!("{}: {e}", index.display()))?;
    Ok(index)
}
