//! `ratchetproof explore`: random adversarial conversations against an
//! implementation (the reference, a known-bug mutant, or a shim), compared
//! with the reference; a divergence is shrunk and written as a vector file.
//!
//! Exit status: 0 nothing found, 1 a divergence (written to `--out`), 2 no
//! verdict (bad arguments, the implementation could not be driven, nothing
//! was compared, or the reference itself broke the model on a case).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ratchetproof_protocol::{Suite, suite};

use super::{Console, Exit, ShimArgs, implementations, no_verdict, sayln};
use crate::explore::{self, Accepted, Options};
use crate::implementation::Implementation;
use crate::mutants::{Bug, Mutant};

/// The arguments of `ratchetproof explore`.
#[derive(Clone, Debug)]
pub struct ExploreArgs {
    /// The implementation behind a shim, if any.
    pub shim: Option<ShimArgs>,
    /// Or an in-process known-bug mutant, by name.
    pub mutant: Option<String>,
    /// Suites to explore (none: every suite both the implementation and the reference speak).
    pub suites: Vec<String>,
    /// The run's seed.
    pub seed: u64,
    /// Stop after N cases (default 1 000 unless `time` is given).
    pub cases: Option<u64>,
    /// Stop taking cases after this long.
    pub time: Option<Duration>,
    /// Implementations (shim processes) in parallel.
    pub jobs: u16,
    /// Longest conversation drawn.
    pub max_actions: usize,
    /// A rejection with a class the reference does not allow diverges.
    pub strict_errors: bool,
    /// Accepted deviations (signatures), one per line.
    pub accepted: Option<PathBuf>,
    /// Where to write the finding's vector file.
    pub out: Option<PathBuf>,
    /// Most plays spent shrinking.
    pub shrink_budget: usize,
}

/// Parses `60`, `60s`, `10m` or `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 60s, 10m, 1h)"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3_600),
        _ => return Err(format!("{text:?}: the unit is s, m or h")),
    };
    Ok(Duration::from_secs(seconds))
}

fn resolve_suites(given: &[String], imp: &dyn Implementation) -> Result<Vec<Suite>, String> {
    let declared = imp.capabilities().suites;
    if given.is_empty() {
        let suites: Vec<Suite> = suite::all()
            .into_iter()
            .filter(|s| declared.iter().any(|d| d == s.name()))
            .collect();
        if suites.is_empty() {
            return Err(format!(
                "the implementation declares no suite the reference speaks (it declares: {})",
                declared.join(", ")
            ));
        }
        return Ok(suites);
    }
    given
        .iter()
        .map(|name| {
            let suite = suite::by_name(name).ok_or_else(|| {
                format!(
                    "unknown suite {name:?} (known: {})",
                    suite::all().map(|s| s.name()).join(", ")
                )
            })?;
            if declared.iter().any(|d| d == name) {
                Ok(suite)
            } else {
                Err(format!("the implementation does not declare suite {name}"))
            }
        })
        .collect()
}

/// `ratchetproof explore`.
pub fn explore(args: ExploreArgs, console: &mut Console<'_>) -> Exit {
    let accepted = match &args.accepted {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|text| Accepted::parse(&text).map_err(|e| format!("{}: {e}", path.display())))
        {
            Ok(list) => list,
            Err(e) => return no_verdict(console, e),
        },
        None => Accepted::default(),
    };
    let mut imps: Vec<Box<dyn Implementation + Send>> = match &args.mutant {
        Some(name) => match Bug::from_name(name) {
            Some(bug) => (0..args.jobs)
                .map(|_| Box::new(Mutant::with(bug)) as Box<dyn Implementation + Send>)
                .collect(),
            None => {
                return no_verdict(
                    console,
                    format!("unknown mutant {name:?} (`ratchetproof mutants` lists them)"),
                );
            }
        },
        None => match implementations(args.shim.as_ref(), args.jobs, console.err) {
            Ok(imps) => imps,
            Err(e) => return no_verdict(console, e),
        },
    };
    let Some(first) = imps.first() else {
        return no_verdict(console, "no implementation to explore");
    };
    let caps = first.capabilities();
    if !caps.injected_randomness {
        return no_verdict(
            console,
            "the implementation does not take injected keys (`injectedRandomness`), so its \
             sends cannot be compared with the reference's; explore it live with \
             `ratchetproof interop --explore`",
        );
    }
    if !caps
        .operations
        .contains(&crate::implementation::Operation::Session)
    {
        return no_verdict(
            console,
            "the implementation does not offer the `session` operations exploration drives",
        );
    }
    let suites = match resolve_suites(&args.suites, first.as_ref()) {
        Ok(s) => s,
        Err(e) => return no_verdict(console, e),
    };
    let options = Options {
        seed: args.seed,
        cases: args.cases.or(if args.time.is_some() {
            None
        } else {
            Some(1_000)
        }),
        time: args.time,
        max_actions: args.max_actions.clamp(1, crate::model::MAX_ACTIONS),
        strict: args.strict_errors,
        suites,
        accepted,
        shrink_budget: args.shrink_budget,
    };
    sayln!(
        console.err,
        "exploring {} {} (suites {}) with seed {}: {}{}, up to {} actions per case, {} job(s){}",
        caps.name,
        caps.version,
        options
            .suites
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", "),
        options.seed,
        options
            .cases
            .map_or_else(|| "unbounded cases".to_string(), |n| format!("{n} cases")),
        options
            .time
            .map_or_else(String::new, |t| format!(" for at most {} s", t.as_secs())),
        options.max_actions,
        args.jobs,
        if options.accepted.is_empty() {
            String::new()
        } else {
            format!(", {} accepted deviation(s)", options.accepted.len())
        }
    );
    let tty = console.progress;
    let started = Instant::now();
    let last = std::sync::Mutex::new(Instant::now());
    let progress = |done: u64| {
        if !tty {
            return;
        }
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < Duration::from_millis(200) {
            return;
        }
        *last = Instant::now();
        let secs = started.elapsed().as_secs_f64().max(0.001);
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\rexplore: {done} cases, {:.0}/s, {:.0} s   ",
            done as f64 / secs,
            secs
        );
        let _ = err.flush();
    };
    let report = explore::explore(&mut imps, &options, &progress);
    if tty {
        sayln!(console.err, "");
    }
    let secs = report.elapsed.as_secs_f64();
    sayln!(
        console.out,
        "{}: {} cases in {:.1} s ({:.0} cases/s), seed {}",
        report.implementation,
        report.cases,
        secs,
        report.cases as f64 / secs.max(0.001),
        report.seed
    );
    sayln!(console.out, "covered:\n{}", report.coverage);
    for hit in &report.accepted {
        sayln!(
            console.out,
            "accepted deviation in {} case(s), first case {}: {}{}",
            hit.cases,
            hit.first_index,
            hit.signature,
            if hit.reason.is_empty() {
                String::new()
            } else {
                format!("  # {}", hit.reason)
            }
        );
    }
    if !report.skipped.is_empty() {
        sayln!(
            console.out,
            "{} case(s) skipped; first: case {} ({})",
            report.skipped.len(),
            report.skipped.first().map_or(0, |s| s.0),
            report.skipped.first().map_or("", |s| s.1.as_str())
        );
    }
    if let Some((index, why)) = &report.errored {
        sayln!(console.err, "error: case {index}: {why}");
        return Exit::NoVerdict;
    }
    if let Some((index, why)) = report.reference_refused.first() {
        sayln!(
            console.err,
            "error: the reference broke the scenario model on {} case(s) — a bug in the model \
             or the reference, not in the implementation; first, case {index}: {why}",
            report.reference_refused.len()
        );
        return Exit::NoVerdict;
    }
    let compared = report.cases - report.skipped.len() as u64;
    if let Some(finding) = &report.finding {
        sayln!(console.out, "\nDIVERGENCE\n{}", finding.story());
        let path = args.out.clone().unwrap_or_else(|| {
            PathBuf::from(format!(
                "explore-finding-seed{}-case{}.json",
                finding.seed, finding.index
            ))
        });
        match crate::generate::to_json(&finding.file, "finding")
            .map_err(|e| e.to_string())
            .and_then(|json| {
                std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))
            }) {
            Ok(()) => {
                let shim = args
                    .shim
                    .as_ref()
                    .map_or_else(String::new, |s| format!(" --shim '{}'", s.command));
                sayln!(
                    console.out,
                    "wrote {} — replay it with `ratchetproof run {}{shim}{}`",
                    path.display(),
                    path.display(),
                    if args.strict_errors {
                        " --strict-errors"
                    } else {
                        ""
                    }
                );
            }
            Err(e) => return no_verdict(console, format!("writing the finding: {e}")),
        }
        return Exit::Failure;
    }
    if compared == 0 {
        sayln!(
            console.err,
            "error: no case was compared ({} skipped): no verdict",
            report.skipped.len()
        );
        return Exit::NoVerdict;
    }
    sayln!(console.out, "no divergence in {compared} compared case(s)");
    Exit::Success
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3_600)));
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("s").is_err());
    }
}
