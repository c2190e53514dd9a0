//! Interleaved measurement, for ratios that survive a busy machine.
//!
//! Criterion measures one benchmark after another, a few seconds each. On this
//! two-core machine other builds come and go on the second core within
//! seconds, and a benchmark measured while one runs is up to 40 % slower (the
//! cores share caches and, on a VM, a physical core), so a ratio of two
//! benchmarks measured ten seconds apart mostly measures the load. Here every
//! variant of a row (reference, floor, peer) runs for about [`ROUND_TIME`] in
//! turn, in rotating order, for [`rounds`] rounds; the summary takes the median
//! over rounds of each variant's time and of each round's ratio, so a ratio
//! compares runs a few milliseconds apart.
//!
//! A variant is a [`Timed`] closure: given an iteration count it runs that many
//! iterations and returns the CPU time of the timed part (setup excluded). The
//! same closure feeds criterion (through `iter_custom`) and this module.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cpu_time::ThreadTime;

/// A benchmark variant: runs `iters` iterations, returns the timed CPU time.
pub type Timed<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// Target CPU time of one variant in one round.
pub const ROUND_TIME: Duration = Duration::from_millis(2);

/// Rounds per row: `RATCHETPROOF_BENCH_ROUNDS`, default 60.
pub fn rounds() -> usize {
    std::env::var("RATCHETPROOF_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(60)
}

/// A variant that calls `f` `iters` times; its output is dropped inside the timing.
pub fn iter<'a, O>(mut f: impl FnMut() -> O + 'a) -> Timed<'a> {
    Box::new(move |iters| {
        let start = ThreadTime::now();
        for _ in 0..iters {
            black_box(f());
        }
        start.elapsed()
    })
}

/// A variant that calls `f` `iters` times and returns the **wall** time: for
/// work done in other threads or processes (`--jobs`, a shim), which the
/// thread's CPU time would not count.
pub fn wall<'a, O>(mut f: impl FnMut() -> O + 'a) -> Timed<'a> {
    Box::new(move |iters| {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        start.elapsed()
    })
}

/// A variant whose inputs are made by an untimed `setup` on `state`, in chunks
/// of at most `chunk`, and handed in order to the timed `routine`. Outputs are
/// dropped inside the timing, as in [`iter`]; inputs after it.
pub fn batched<'a, S: 'a, I, O>(
    mut state: S,
    chunk: u64,
    mut setup: impl FnMut(&mut S) -> I + 'a,
    mut routine: impl FnMut(&mut S, &mut I) -> O + 'a,
) -> Timed<'a> {
    Box::new(move |iters| {
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(chunk);
            let mut inputs: Vec<I> = (0..n).map(|_| setup(&mut state)).collect();
            let start = ThreadTime::now();
            for input in &mut inputs {
                black_box(routine(&mut state, input));
            }
            total += start.elapsed();
            drop(inputs);
            left -= n;
        }
        total
    })
}

/// Per-iteration CPU time in nanoseconds of each variant in each round.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Paired {
    /// Variant ids, in the order of each round's entries.
    pub ids: Vec<String>,
    /// `rounds[r][v]`: nanoseconds per iteration of variant `v` in round `r`.
    pub rounds: Vec<Vec<f64>>,
    /// Items (vector cases) one iteration processes, for rows reported as a
    /// throughput; `None` for the others.
    pub items_per_iter: Option<u64>,
}

fn per_iter_ns(run: &mut Timed<'_>, iters: u64) -> f64 {
    run(iters).as_nanos() as f64 / iters as f64
}

/// Iterations that take about [`ROUND_TIME`].
fn calibrate(run: &mut Timed<'_>) -> u64 {
    let target = ROUND_TIME.as_nanos() as f64;
    let mut iters = 1u64;
    loop {
        let ns = per_iter_ns(run, iters) * iters as f64;
        if ns >= target / 4.0 || iters >= 1 << 24 {
            let per_iter = (ns / iters as f64).max(1.0);
            return ((target / per_iter).ceil() as u64).max(1);
        }
        iters *= 2;
    }
}

/// Measures `variants` interleaved: `rounds` rounds, each running every
/// variant for about [`ROUND_TIME`] (at least one iteration), starting with a
/// different one each round.
pub fn measure(variants: &mut [(&str, Timed<'_>)], rounds: usize) -> Paired {
    let iters: Vec<u64> = variants.iter_mut().map(|(_, run)| calibrate(run)).collect();
    let count = variants.len();
    let rounds = (0..rounds)
        .map(|r| {
            let mut row = vec![0.0; count];
            for k in 0..count {
                let v = (r + k) % count;
                row[v] = per_iter_ns(&mut variants[v].1, iters[v]);
            }
            row
        })
        .collect();
    Paired {
        ids: variants.iter().map(|(id, _)| (*id).to_owned()).collect(),
        rounds,
        items_per_iter: None,
    }
}

/// Median of `values` (NaN-free); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

impl Paired {
    fn column(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|i| i == id)
    }

    /// Median over rounds of `id`'s nanoseconds per iteration.
    pub fn median_ns(&self, id: &str) -> Option<f64> {
        let v = self.column(id)?;
        median(&mut self.rounds.iter().map(|r| r[v]).collect::<Vec<_>>())
    }

    /// Median over rounds of `a ÷ b`, each ratio taken within one round.
    pub fn median_ratio(&self, a: &str, b: &str) -> Option<f64> {
        let (a, b) = (self.column(a)?, self.column(b)?);
        median(
            &mut self
                .rounds
                .iter()
                .filter(|r| r[b] > 0.0)
                .map(|r| r[a] / r[b])
                .collect::<Vec<_>>(),
        )
    }

    /// The JSON stored beside criterion's results.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({ "ids": self.ids, "rounds_ns_per_iter": self.rounds });
        if let (Some(items), Some(map)) = (self.items_per_iter, json.as_object_mut()) {
            map.insert("items_per_iter".into(), items.into());
        }
        json
    }

    /// Inverse of [`Paired::to_json`].
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        let ids = value
            .get("ids")?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?;
        let rounds = value
            .get("rounds_ns_per_iter")?
            .as_array()?
            .iter()
            .map(|row| {
                row.as_array()?
                    .iter()
                    .map(serde_json::Value::as_f64)
                    .collect::<Option<Vec<_>>>()
                    .filter(|r| r.len() == ids.len())
            })
            .collect::<Option<Vec<_>>>()?;
        let items_per_iter = value
            .get("items_per_iter")
            .and_then(serde_json::Value::as_u64);
        Some(Self {
            ids,
            rounds,
            items_per_iter,
        })
    }

    /// Writes `<dir>/ratchetproof-paired/<group>.json`.
    pub fn write(&self, dir: &Path, group: &str) -> std::io::Result<()> {
        let dir = dir.join(PAIRED_DIR);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join(format!("{group}.json")),
            serde_json::to_vec_pretty(&self.to_json()).map_err(std::io::Error::other)?,
        )
    }

    /// Reads what [`Paired::write`] wrote.
    pub fn read(dir: &Path, group: &str) -> Option<Self> {
        let text = std::fs::read(dir.join(PAIRED_DIR).join(format!("{group}.json"))).ok()?;
        Self::from_json(&serde_json::from_slice(&text).ok()?)
    }
}

/// Sub-directory of the criterion directory holding the interleaved results.
pub const PAIRED_DIR: &str = "ratchetproof-paired";

/// Criterion's output directory, found the way criterion finds it:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the target
/// directory `cargo metadata` reports, else the workspace's `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()?;
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
        Some(PathBuf::from(json.get("target_directory")?.as_str()?))
    });
    from_metadata
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_taken_within_rounds() {
        let paired = Paired {
            ids: vec!["a".into(), "b".into()],
            rounds: vec![vec![2.0, 1.0], vec![20.0, 10.0], vec![4.0, 1.0]],
            items_per_iter: Some(7),
        };
        assert_eq!(paired.median_ratio("a", "b"), Some(2.0));
        assert_eq!(paired.median_ns("b"), Some(1.0));
        assert_eq!(Paired::from_json(&paired.to_json()), Some(paired));
    }

    #[test]
    fn measure_runs_every_variant_every_round() {
        let mut variants = vec![
            ("x", iter(|| black_box(1u64) + 1)),
            ("y", iter(|| black_box(2u64) * 3)),
        ];
        let paired = measure(&mut variants, 5);
        assert_eq!(paired.rounds.len(), 5);
        assert!(paired.rounds.iter().all(|r| r.len() == 2));
    }
}
