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

use ratchetproof_protocol::{Suite, olm, suite};

use super::{Console, Exit, ShimArgs, implementations, no_verdict, sayln};
use crate::explore::{self, Accepted, Domain, Options};
use crate::implementation::Implementation;
use crate::mutants::{Bug, ByModel, MissedByModel, Mutant};

/// The arguments of `ratchetproof explore`.
#[derive(Clone, Debug)]
pub struct ExploreArgs {
    /// The implementation behind a shim, if any.
    pub shim: Option<ShimArgs>,
    /// Or an in-process known-bug mutant, by name.
    pub mutant: Option<String>,
    /// Suites to explore (none: every suite both the implementation and the reference speak).
    pub suites: Vec<String>,
    /// Domains to draw from by name (none: every domain the implementation declares).
    pub domains: Vec<String>,
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

/// Whether `caps` can run `olm-v1` conversations: declared, built through
/// the prekey operations, with injected keys.
fn speaks_olm(caps: &crate::implementation::Capabilities) -> bool {
    caps.suites.iter().any(|d| d == olm::NAME)
        && caps
            .operations
            .contains(&crate::implementation::Operation::Prekey)
        && caps.injected_randomness
}

/// The suites named (none or `all`: every suite both the implementation
/// and the reference speak), and whether `olm-v1` is among them.
fn resolve_suites(
    given: &[String],
    imp: &dyn Implementation,
) -> Result<(Vec<Suite>, bool), String> {
    let caps = imp.capabilities();
    let declared = &caps.suites;
    if given.is_empty() || given.iter().any(|g| g == "all") {
        let suites: Vec<Suite> = suite::all()
            .into_iter()
            .filter(|s| declared.iter().any(|d| d == s.name()))
            .collect();
        let olm = speaks_olm(&caps);
        if suites.is_empty() && !olm {
            return Err(format!(
                "the implementation declares no suite the reference speaks (it declares: {})",
                declared.join(", ")
            ));
        }
        return Ok((suites, olm));
    }
    let mut olm = false;
    let mut suites = Vec::new();
    for name in given {
        if name == olm::NAME {
            if !speaks_olm(&caps) {
                return Err(format!(
                    "the implementation does not declare suite {name} with the prekey \
                     operations and injected keys its conversations need"
                ));
            }
            olm = true;
            continue;
        }
        let suite = suite::by_name(name).ok_or_else(|| {
            format!(
                "unknown suite {name:?} (known: {}, {}, all)",
                suite::all().map(|s| s.name()).join(", "),
                olm::NAME
            )
        })?;
        if !declared.iter().any(|d| d == name) {
            return Err(format!("the implementation does not declare suite {name}"));
        }
        suites.push(suite);
    }
    Ok((suites, olm))
}

/// The domains named (none: all) that `caps` declare; `Err` names what is
/// missing.
fn resolve_domains(
    given: &[String],
    caps: &crate::implementation::Capabilities,
) -> Result<Vec<Domain>, String> {
    let wanted = if given.is_empty() {
        Domain::ALL.to_vec()
    } else {
        given
            .iter()
            .map(|name| {
                Domain::from_name(name).ok_or_else(|| {
                    format!("unknown domain {name:?} (known: session, x3dh, accept, sealed)")
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let domains = explore::domains_of(caps, &wanted);
    if domains.is_empty() {
        let names = wanted
            .iter()
            .map(|d| d.name())
            .collect::<Vec<_>>()
            .join(", ");
        let hint = if caps.injected_randomness {
            ""
        } else {
            "; it does not take injected keys (`injectedRandomness`), which conversations and \
             the prekey store need so its answers can be compared with the reference's — \
             explore it live with `ratchetproof interop --explore`"
        };
        return Err(format!(
            "the implementation declares none of the operations the {names} domain(s) drive \
             (session; x3dh; x3dhAccept; session for sealed){hint}"
        ));
    }
    Ok(domains)
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
    let domains = match resolve_domains(&args.domains, &caps) {
        Ok(d) => d,
        Err(e) => return no_verdict(console, e),
    };
    let (suites, olm) = match resolve_suites(&args.suites, first.as_ref()) {
        Ok(s) => s,
        Err(e) => return no_verdict(console, e),
    };
    if suites.is_empty() && !domains.contains(&Domain::Session) {
        return no_verdict(
            console,
            "olm-v1 has conversations only: its cases come from the session domain",
        );
    }
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
        olm,
        domains,
        accepted,
        shrink_budget: args.shrink_budget,
    };
    sayln!(
        console.err,
        "exploring {} {} (suites {}; {}) with seed {}: {}{}, up to {} actions per case, {} job(s){}",
        caps.name,
        caps.version,
        options
            .suites
            .iter()
            .map(|s| s.name())
            .chain(options.olm.then_some(olm::NAME))
            .collect::<Vec<_>>()
            .join(", "),
        options
            .domains
            .iter()
            .map(|d| d.name())
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
        match finding.file_json().and_then(|json| {
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

/// One row of `explore --every-mutant`.
#[derive(Clone, Debug)]
struct MutantRow {
    name: &'static str,
    found: Option<(&'static str, String, usize)>,
    cases: u64,
    seconds: f64,
    replayed: Result<(), String>,
}

/// Replays a finding's file: it must fail on `mutant_shim` and pass on the reference.
fn replay(path: &std::path::Path, mutant_shim: &ShimArgs, strict: bool) -> Result<(), String> {
    use crate::runner::{self, RunOptions, Status};
    let file = runner::load(path).map_err(|e| e.to_string())?;
    let options = RunOptions {
        strict_errors: strict,
        ..RunOptions::default()
    };
    let run = |imp: &mut dyn Implementation| {
        let caps = imp.capabilities();
        let mut results = Vec::new();
        runner::run_file(
            imp,
            &caps,
            &path.display().to_string(),
            &file,
            &options,
            &mut results,
        );
        results
    };
    let mut imps = implementations(Some(mutant_shim), 1, &mut std::io::sink())?;
    let on_mutant = imps
        .first_mut()
        .map(|imp| run(imp.as_mut()))
        .unwrap_or_default();
    if !on_mutant
        .iter()
        .any(|r| matches!(r.status, Status::Failed { .. }))
    {
        return Err("the written vector does not fail on the mutant".into());
    }
    let on_reference = run(&mut crate::Reference::new());
    if on_reference.is_empty() || on_reference.iter().any(|r| r.status != Status::Passed) {
        return Err("the written vector does not pass on the reference".into());
    }
    Ok(())
}

/// `ratchetproof explore --every-mutant`: every known-bug mutant served by
/// the reference shim (`--mutant NAME`), explored through the shim protocol
/// for at most `time` (half in the default mode, then what is left with
/// `--strict-errors`); each finding is written to `dir` and replayed with
/// the runner, which must fail it on the mutant and pass it on the
/// reference. Exit 0 when every mutant is found and replays.
pub fn every_mutant(args: &ExploreArgs, dir: &std::path::Path, console: &mut Console<'_>) -> Exit {
    let base = match &args.shim {
        Some(shim) => shim.command.clone(),
        None => match std::env::current_exe() {
            Ok(exe) => exe
                .with_file_name("ratchetproof-reference-shim")
                .display()
                .to_string(),
            Err(e) => return no_verdict(console, format!("locating the reference shim: {e}")),
        },
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return no_verdict(console, format!("{}: {e}", dir.display()));
    }
    let budget = args.time.unwrap_or(Duration::from_secs(60));
    let mut rows = Vec::new();
    let mut unreachable = Vec::new();
    for bug in Bug::ALL {
        let name = bug.name();
        // Explore draws honest, lost, replayed and tampered messages; these
        // bugs show only in a correctly MACed message no honest Olm writes,
        // which the vectors carry (docs/MUTANTS.md, "olm-v1").
        if bug.entry().model == ByModel::Missed(MissedByModel::CraftedOlmMessage) {
            sayln!(
                console.err,
                "{name}: not explored ({}; the olm-v1 vectors catch it)",
                MissedByModel::CraftedOlmMessage.reason()
            );
            unreachable.push(name);
            continue;
        }
        let shim = ShimArgs {
            command: format!("{base} --mutant {name}"),
            timeout_ms: args.shim.as_ref().map_or(10_000, |s| s.timeout_ms),
            max_line_bytes: crate::shim::DEFAULT_MAX_LINE_BYTES,
        };
        let started = Instant::now();
        let mut row = MutantRow {
            name,
            found: None,
            cases: 0,
            seconds: 0.0,
            replayed: Err("not found".into()),
        };
        for (mode, strict, share) in [("default", false, 2u32), ("strict", true, 1)] {
            let left = budget.saturating_sub(started.elapsed());
            let mut imps = match implementations(Some(&shim), 1, &mut std::io::sink()) {
                Ok(imps) => imps,
                Err(e) => return no_verdict(console, e),
            };
            let Some(first) = imps.first() else {
                return no_verdict(console, "no implementation");
            };
            let (suites, olm) = match resolve_suites(&args.suites, first.as_ref()) {
                Ok(s) => s,
                Err(e) => return no_verdict(console, e),
            };
            // An olm-v1 mutant's Signal side is the faithful one: its cases
            // are all olm-v1 conversations (unless --suite says otherwise).
            let (suites, olm) = if bug.entry().area.is_olm() && args.suites.is_empty() && olm {
                (Vec::new(), true)
            } else {
                (suites, olm)
            };
            let options = Options {
                seed: args.seed,
                cases: args.cases,
                time: Some(left / share),
                max_actions: args.max_actions.clamp(1, crate::model::MAX_ACTIONS),
                strict,
                suites,
                olm,
                domains: Domain::ALL.to_vec(),
                accepted: Accepted::default(),
                shrink_budget: args.shrink_budget,
            };
            let report = explore::explore(&mut imps, &options, &|_| {});
            row.cases += report.cases;
            if let Some((index, why)) = report.errored.as_ref().or(report.reference_refused.first())
            {
                return no_verdict(console, format!("{name}: case {index}: {why}"));
            }
            if let Some(finding) = report.finding {
                let path = dir.join(format!("{name}.json"));
                let written = finding
                    .file_json()
                    .and_then(|json| std::fs::write(&path, json).map_err(|e| e.to_string()));
                row.replayed = written.and_then(|()| replay(&path, &shim, strict));
                row.found = Some((
                    mode,
                    finding.divergence.signature.clone(),
                    finding.minimal_len(),
                ));
                break;
            }
        }
        row.seconds = started.elapsed().as_secs_f64();
        sayln!(
            console.err,
            "{name}: {}",
            match &row.found {
                Some((mode, sig, _)) => format!("found ({mode}) in {:.1} s: {sig}", row.seconds),
                None => format!("NOT FOUND in {:.1} s", row.seconds),
            }
        );
        rows.push(row);
    }
    sayln!(
        console.out,
        "| mutant | found | mode | cases | seconds | minimal steps | replays | divergence |\n|---|---|---|---:|---:|---:|---|---|"
    );
    for r in &rows {
        let (found, mode, sig, len) = match &r.found {
            Some((mode, sig, len)) => ("yes", *mode, sig.as_str(), len.to_string()),
            None => ("**no**", "", "", String::new()),
        };
        sayln!(
            console.out,
            "| {} | {found} | {mode} | {} | {:.1} | {len} | {} | `{sig}` |",
            r.name,
            r.cases,
            r.seconds,
            match &r.replayed {
                Ok(()) => "yes".to_string(),
                Err(e) => format!("**{e}**"),
            }
        );
    }
    let found = rows.iter().filter(|r| r.found.is_some()).count();
    let replayed = rows.iter().filter(|r| r.replayed.is_ok()).count();
    let slowest = rows.iter().map(|r| r.seconds).fold(0.0, f64::max);
    sayln!(
        console.out,
        "\n{found} of {} mutants found through the shim protocol (seed {}, at most {} s each; slowest {:.1} s), {replayed} findings replay with `run`",
        rows.len(),
        args.seed,
        budget.as_secs(),
        slowest
    );
    if !unreachable.is_empty() {
        sayln!(
            console.out,
            "{} not explored ({}): {}",
            unreachable.len(),
            MissedByModel::CraftedOlmMessage.reason(),
            unreachable.join(", ")
        );
    }
    Exit::verdict(found == rows.len() && replayed == rows.len())
}
