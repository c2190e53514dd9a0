//! `ratchetproof report`: the site from JSON results, the committed
//! summaries of the peers' numbers (written or checked), and the README
//! tables generated from them (docs/REPORT.md). Exit 0 when written or
//! equal, 1 when a check finds a difference, 2 without a verdict
//! (unreadable input, nothing to do).

use std::path::PathBuf;

use super::{Console, Exit, no_verdict, sayln};
use crate::report::{self, html::PageInfo, markdown, summary};
use crate::runner::run_info::rfc3339_utc;

/// The arguments of `ratchetproof report`.
#[derive(Clone, Debug, Default)]
pub struct ReportArgs {
    /// JSON results (`run --format json` or `run --json FILE`).
    pub results: Vec<PathBuf>,
    /// Write the site here.
    pub out: Option<PathBuf>,
    /// Earlier results to compare with.
    pub compare: Vec<PathBuf>,
    /// The page's title.
    pub title: String,
    /// Write the results' summaries into this folder.
    pub write_summaries: Option<PathBuf>,
    /// Compare the results with the summaries in this folder.
    pub check_summaries: Option<PathBuf>,
    /// Generate the README tables from the summaries in this folder.
    pub markdown: Option<PathBuf>,
    /// Markdown files whose marked blocks to regenerate.
    pub update: Vec<PathBuf>,
    /// With `markdown`: write nothing, exit 1 if a block is stale.
    pub check: bool,
}

/// Runs `ratchetproof report`.
pub fn report(args: ReportArgs, console: &mut Console<'_>) -> Exit {
    if let Some(dir) = &args.markdown {
        return tables(&args, dir, console);
    }
    if args.results.is_empty() {
        return no_verdict(
            console,
            "no results given: ratchetproof report RESULT.json… -o DIR",
        );
    }
    if args.out.is_none() && args.write_summaries.is_none() && args.check_summaries.is_none() {
        return no_verdict(
            console,
            "nothing to do: give -o DIR, --write-summaries DIR or --check-summaries DIR",
        );
    }
    let results = match report::read_all(&args.results) {
        Ok(r) => r,
        Err(e) => return no_verdict(console, e),
    };
    let earlier = if args.compare.is_empty() {
        None
    } else {
        match report::read_all(&args.compare) {
            Ok(r) => Some(r),
            Err(e) => return no_verdict(console, e),
        }
    };
    if let Some(dir) = &args.write_summaries {
        match summary::write(&results, dir) {
            Ok(paths) => {
                for p in paths {
                    sayln!(console.out, "wrote {}", p.display());
                }
            }
            Err(e) => return no_verdict(console, e),
        }
    }
    if let Some(dir) = &args.out {
        let generated = rfc3339_utc(std::time::SystemTime::now());
        let info = PageInfo {
            title: &args.title,
            generated: &generated,
        };
        match report::write_site(dir, &results, earlier.as_deref(), &info) {
            Ok(index) => sayln!(
                console.out,
                "wrote {} ({} runs)",
                index.display(),
                results.len()
            ),
            Err(e) => return no_verdict(console, e),
        }
    }
    if let Some(dir) = &args.check_summaries {
        let committed = match summary::read_dir(dir) {
            Ok(c) => c,
            Err(e) => return no_verdict(console, e),
        };
        let diffs = summary::check(&results, &committed);
        for d in &diffs {
            sayln!(console.err, "DIFFERS: {d}");
        }
        if !diffs.is_empty() {
            sayln!(
                console.err,
                "the committed peer numbers in {} are stale: run `.ci/peers --record` and commit (docs/REPORT.md)",
                dir.display()
            );
            return Exit::Failure;
        }
        sayln!(
            console.err,
            "{} results match the committed summaries in {}",
            results.len(),
            dir.display()
        );
    }
    Exit::Success
}

/// `--markdown DIR`: print the tables of every peer, or regenerate (or with
/// `--check`, compare) the marked blocks of the `--update` files.
fn tables(args: &ReportArgs, dir: &std::path::Path, console: &mut Console<'_>) -> Exit {
    let summaries = match summary::read_dir(dir) {
        Ok(s) => s,
        Err(e) => return no_verdict(console, e),
    };
    if args.update.is_empty() {
        return match markdown::render(&markdown::Block::Runs(None), &summaries) {
            Ok(t) => {
                sayln!(console.out, "{t}");
                Exit::Success
            }
            Err(e) => no_verdict(console, e),
        };
    }
    let mut stale = 0;
    for path in &args.update {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return no_verdict(console, format!("{}: {e}", path.display())),
        };
        let new = match markdown::update(&text, &summaries) {
            Ok(t) => t,
            Err(e) => return no_verdict(console, format!("{}:{e}", path.display())),
        };
        let blocks = markdown::blocks(&text).len();
        if new == text {
            sayln!(
                console.err,
                "{}: {blocks} tables up to date",
                path.display()
            );
        } else if args.check {
            stale += 1;
            sayln!(
                console.err,
                "STALE: {} (regenerate: ratchetproof report --markdown {} --update {})",
                path.display(),
                dir.display(),
                path.display()
            );
        } else if let Err(e) = std::fs::write(path, &new) {
            return no_verdict(console, format!("{}: {e}", path.display()));
        } else {
            sayln!(console.out, "updated {} ({blocks} tables)", path.display());
        }
    }
    Exit::verdict(stale == 0)
}
