//! Prints the benchmark summary as one Markdown table.
//!
//! Usage: `bench-summary [--criterion [--stat median|mean|slope]] [CRITERION_DIR]`.
//!
//! By default each row comes from the interleaved pass the benchmark writes to
//! `<criterion dir>/ratchetproof-paired/<group>.json`: times are the median
//! over rounds, ratios the median of the per-round ratios. With `--criterion`
//! (or for a row without interleaved results) it reads criterion's own
//! `<group>/<id>/new/estimates.json` instead, and ratios divide those
//! estimates. A second table shows the vector suite's throughput (in process
//! and through the reference shim) in cases per second, from wall time. The
//! directory defaults to criterion's own choice
//! (`$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`, or the workspace target).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ratchetproof_benches::paired::{Paired, criterion_dir};
use ratchetproof_benches::report::{
    FLOOR, IN_PROCESS, OPERATIONS, PEER, PRIMITIVES, REFERENCE, THROUGHPUT, THROUGHPUT_IDS,
};

/// criterion's estimate in nanoseconds for `group/id`, if it has one.
fn estimate(dir: &Path, group: &str, id: &str, stat: &str) -> Option<f64> {
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get(stat)?.get("point_estimate")?.as_f64()
}

/// One row's numbers: times of reference, floor, peer; ratios to floor and peer.
struct Cells {
    ours: Option<f64>,
    floor: Option<f64>,
    peer: Option<f64>,
    to_floor: Option<f64>,
    to_peer: Option<f64>,
}

fn cells(dir: &Path, group: &str, criterion_only: bool, stat: &str) -> Cells {
    if !criterion_only && let Some(p) = Paired::read(dir, group) {
        return Cells {
            ours: p.median_ns(REFERENCE),
            floor: p.median_ns(FLOOR),
            peer: p.median_ns(PEER),
            to_floor: p.median_ratio(REFERENCE, FLOOR),
            to_peer: p.median_ratio(REFERENCE, PEER),
        };
    }
    let ours = estimate(dir, group, REFERENCE, stat);
    let floor = estimate(dir, group, FLOOR, stat);
    let peer = estimate(dir, group, PEER, stat);
    let div = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    Cells {
        ours,
        floor,
        peer,
        to_floor: div(ours, floor),
        to_peer: div(ours, peer),
    }
}

fn time(ns: Option<f64>) -> String {
    match ns {
        None => "—".to_owned(),
        Some(ns) if ns < 1e3 => format!("{ns:.0} ns"),
        Some(ns) if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        Some(ns) if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        Some(ns) => format!("{:.2} s", ns / 1e9),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×"))
}

/// The vector-suite throughput table: wall time per run, cases per second,
/// and time relative to the in-process run (within rounds, as the ratios above).
fn throughput_table(dir: &Path, criterion_only: bool, stat: &str) -> String {
    let paired = Paired::read(dir, THROUGHPUT.group);
    let cases = paired.as_ref().and_then(|p| p.items_per_iter);
    let paired = paired.filter(|_| !criterion_only);
    let mut out = format!(
        "| {} ({} cases), wall time | time per run | cases/s | time ÷ in process |\n",
        THROUGHPUT.label,
        cases.map_or_else(|| "?".to_owned(), |n| n.to_string())
    );
    out.push_str("| --- | ---: | ---: | ---: |\n");
    for &(id, label) in THROUGHPUT_IDS {
        let (ns, to_in_process) = match &paired {
            Some(p) => (p.median_ns(id), p.median_ratio(id, IN_PROCESS)),
            None => {
                let ns = estimate(dir, THROUGHPUT.group, id, stat);
                let base = estimate(dir, THROUGHPUT.group, IN_PROCESS, stat);
                let r = match (ns, base) {
                    (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                    _ => None,
                };
                (ns, r)
            }
        };
        let per_second = match (cases, ns) {
            (Some(n), Some(ns)) if ns > 0.0 => format!("{:.0}", n as f64 / (ns / 1e9)),
            _ => "—".to_owned(),
        };
        out.push_str(&format!(
            "| {label} | {} | {per_second} | {} |\n",
            time(ns),
            ratio(to_in_process)
        ));
    }
    out
}

fn main() -> ExitCode {
    let mut stat = "median".to_owned();
    let mut criterion_only = false;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--criterion" => criterion_only = true,
            "--stat" => match args.next() {
                Some(s) if ["median", "mean", "slope"].contains(&s.as_str()) => stat = s,
                _ => {
                    eprintln!("--stat takes median, mean or slope");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!(
                    "usage: bench-summary [--criterion [--stat median|mean|slope]] [CRITERION_DIR]"
                );
                return ExitCode::SUCCESS;
            }
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    let dir = dir.unwrap_or_else(criterion_dir);
    if !dir.is_dir() {
        eprintln!(
            "no criterion results in {}: run `cargo bench -p ratchetproof-benches` first",
            dir.display()
        );
        return ExitCode::from(1);
    }

    let mut out = String::new();
    out.push_str(
        "| operation | ratchetproof | floor | ratio to floor | vodozemac | ratio to vodozemac |\n",
    );
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for row in OPERATIONS {
        let c = cells(&dir, row.group, criterion_only, &stat);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.label,
            time(c.ours),
            time(c.floor),
            ratio(c.to_floor),
            time(c.peer),
            ratio(c.to_peer)
        ));
    }
    for row in PRIMITIVES {
        let c = cells(&dir, row.group, criterion_only, &stat);
        out.push_str(&format!(
            "| primitive: {} | — | {} | — | — | — |\n",
            row.label,
            time(c.floor)
        ));
    }
    out.push('\n');
    out.push_str(&throughput_table(&dir, criterion_only, &stat));
    // One write, so a closed pipe (`| head`) is an error, not a panic.
    use std::io::Write;
    match std::io::stdout().write_all(out.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}
