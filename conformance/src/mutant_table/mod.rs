//! `ratchetproof mutants`: the known-bug table of issue 9.
//!
//! Every [`Bug`] of [`crate::mutants`] is switched on alone in a [`Mutant`],
//! which then meets the whole vector suite (in-process, exactly as `run`
//! drives an implementation, default non-strict mode) and, separately, the
//! fixed seeded property checks of [`properties`]. A mutant is *caught* when
//! a vector case fails or a property breaks. The bug-free [`Mutant`] runs
//! first as the control: it must pass every vector and every property, or
//! the table proves nothing.
//!
//! Every bug class here changes what an implementation does through the
//! [`crate::Implementation`] operations, so each must be caught by the vectors
//! alone; [`expectation`] records this per bug, with the reason where a class
//! could not be (none at present). A class that differs from the spec only in
//! the error class it reports cannot fail a default-mode run (any refusal
//! satisfies an expected one); [`Expectation::strict_only`] marks it, and its
//! row also runs the vectors with `--strict-errors`, which must catch it. The
//! table fails when a mutant survives both, or when one the vectors must
//! catch survives them (in default mode, or in strict mode where marked).

pub mod properties;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::implementation::Implementation;
use crate::mutants::{Bug, ByModel, ByVectors, Mutant, Variant};
use crate::runner::{self, LoadError, RunOptions, Status};
use crate::vectors::AnyFile;

pub use properties::{Budget, PropertyFailure};

/// Whether the vectors alone must catch a bug class, and why not if not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// The bug shows through the operations the vectors drive.
    pub vector_catchable: bool,
    /// Why the vectors cannot see it, when they cannot.
    pub reason: Option<&'static str>,
    /// Only the error class differs: the vectors must catch it in strict
    /// mode (`--strict-errors`); default mode cannot.
    pub strict_only: bool,
}

/// What the table demands of `bug`, from its catalogue entry
/// ([`Bug::entry`]). Every class in the catalogue changes the bytes, verdicts
/// or plaintexts of some operation a vector drives (sessions, clone, X3DH,
/// the prekey store); see `docs/MUTANTS.md` for the classes left out of the
/// catalogue and why.
pub fn expectation(bug: Bug) -> Expectation {
    Expectation {
        vector_catchable: true,
        reason: None,
        strict_only: matches!(bug.entry().vectors, ByVectors::StrictOnly(_)),
    }
}

/// Classes of REFERENCE.md "Known bug classes" that have no mutant, with the reason.
pub const NOT_MUTANTS: [(&str, &str); 1] = [(
    "small-order-point-accepted",
    "accepting an all-zero X25519 output is not a conformance failure: rejecting it is optional hardening (RFC 7748 §6.1, SPEC.md §2.1), which neither X3DH nor the Double Ratchet requires, so no vector may fail a peer for it",
)];

/// The vector cases a run failed, by file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VectorCatch {
    /// `(suite folder/file name, tcId)` of every failed or errored case, in run order.
    pub cases: Vec<(String, u32)>,
    /// Cases run (not skipped).
    pub ran: usize,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The bug's name (`Bug::name`), or `none (control)`.
    pub mutant: String,
    /// What the bug does.
    pub summary: String,
    /// Whether the vectors must catch it.
    pub vector_catchable: bool,
    /// Why they cannot, where they cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Only the error class differs: caught in strict mode only.
    pub strict_only: bool,
    /// The vector cases it failed (default mode).
    pub vectors: VectorCatch,
    /// The vector cases it failed with `--strict-errors`; run only for
    /// strict-only rows and the control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_vectors: Option<VectorCatch>,
    /// The properties it broke.
    pub properties: Vec<PropertyFailure>,
    /// What the catalogue says of the scenario model (`ByModel`): `caught`,
    /// or why the model misses or does not run it (`tests/broken_variants.rs`
    /// checks the entries); absent for the control and the variants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Seconds spent on this row.
    pub seconds: f64,
}

impl Row {
    /// Caught by at least one vector case (default mode).
    pub fn caught_by_vectors(&self) -> bool {
        !self.vectors.cases.is_empty()
    }

    /// Caught by at least one vector case in strict mode (run for strict-only rows).
    pub fn caught_by_strict_vectors(&self) -> bool {
        self.strict_vectors
            .as_ref()
            .is_some_and(|v| !v.cases.is_empty())
    }

    /// Caught by at least one property.
    pub fn caught_by_properties(&self) -> bool {
        !self.properties.is_empty()
    }

    /// Caught by any of them.
    pub fn caught(&self) -> bool {
        self.caught_by_vectors() || self.caught_by_strict_vectors() || self.caught_by_properties()
    }
}

/// The whole table.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// The vector folder or files used.
    pub vectors: Vec<String>,
    /// The bug-free mutant: must be caught by nothing.
    pub control: Row,
    /// One row per bug, in `Bug::ALL` order.
    pub rows: Vec<Row>,
    /// One control row per legitimate [`Variant`], run in strict mode
    /// against every vector: each must pass every case (no false failures).
    pub variants: Vec<Row>,
    /// Classes without a mutant, with the reason.
    pub not_mutants: Vec<(String, String)>,
    /// Wall time of the whole table, seconds.
    pub seconds: f64,
}

/// Options of a table run.
#[derive(Clone, Debug)]
pub struct TableOptions {
    /// Property budget.
    pub budget: Budget,
    /// Worker threads (rows run in parallel).
    pub jobs: usize,
    /// Only these bugs (all when empty).
    pub only: Vec<Bug>,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            budget: Budget::DEFAULT,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            only: Vec::new(),
        }
    }
}

/// Loads the vectors below `paths` (as `ratchetproof run` does) and builds the table.
pub fn build(paths: &[PathBuf], options: &TableOptions) -> Result<Table, LoadError> {
    let started = Instant::now();
    let files = runner::collect(paths)?;
    let loaded = files
        .iter()
        .map(|p| runner::load(p).map(|f| (p.clone(), f)))
        .collect::<Result<Vec<_>, _>>()?;
    let bugs: Vec<Option<Bug>> = std::iter::once(None)
        .chain(
            Bug::ALL
                .iter()
                .filter(|b| options.only.is_empty() || options.only.contains(b))
                .map(|b| Some(*b)),
        )
        .collect();
    let next = AtomicUsize::new(0);
    let mut rows: Vec<Option<Row>> = vec![None; bugs.len()];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..options.jobs.max(1))
            .map(|_| {
                let (bugs, loaded, next) = (&bugs, &loaded, &next);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(bug) = bugs.get(i) else {
                            break;
                        };
                        out.push((i, row(*bug, loaded, options.budget)));
                    }
                    out
                })
            })
            .collect();
        for worker in workers {
            if let Ok(done) = worker.join() {
                for (i, r) in done {
                    if let Some(slot) = rows.get_mut(i) {
                        *slot = Some(r);
                    }
                }
            }
        }
    });
    let mut rows = rows.into_iter();
    let lost = |name: &str| Row {
        mutant: name.into(),
        summary: "the worker running this row stopped unexpectedly".into(),
        vector_catchable: true,
        reason: None,
        strict_only: false,
        vectors: VectorCatch::default(),
        strict_vectors: None,
        properties: Vec::new(),
        model: None,
        seconds: 0.0,
    };
    let control = rows.next().flatten().unwrap_or_else(|| lost("none"));
    let rows = rows
        .zip(bugs.iter().skip(1))
        .map(|(r, b)| r.unwrap_or_else(|| lost(b.map_or("?", Bug::name))))
        .collect();
    let variants = Variant::ALL
        .iter()
        .map(|v| variant_row(*v, &loaded))
        .collect();
    Ok(Table {
        vectors: paths.iter().map(|p| p.display().to_string()).collect(),
        control,
        rows,
        variants,
        not_mutants: NOT_MUTANTS
            .iter()
            .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One row: the mutant for `bug` (`None`: the bug-free control) against the
/// loaded vectors and the properties.
fn row(bug: Option<Bug>, loaded: &[(PathBuf, AnyFile)], budget: Budget) -> Row {
    let started = Instant::now();
    let expectation = bug.map_or(
        Expectation {
            vector_catchable: false,
            reason: None,
            strict_only: false,
        },
        expectation,
    );
    let mut mutant = bug.map_or_else(Mutant::faithful, Mutant::with);
    let vectors = run_vectors(&mut mutant, loaded, false);
    // The control runs strict too, so a strict-mode catch is not a harness artefact.
    let strict_vectors = (expectation.strict_only || bug.is_none()).then(|| {
        let mut mutant = bug.map_or_else(Mutant::faithful, Mutant::with);
        run_vectors(&mut mutant, loaded, true)
    });
    let properties = properties::check(&mut mutant, budget);
    Row {
        mutant: bug.map_or("none (control)", Bug::name).into(),
        summary: bug
            .map_or(
                "the bug-free mutant: must pass every vector and property",
                Bug::summary,
            )
            .into(),
        vector_catchable: expectation.vector_catchable,
        reason: expectation.reason.map(str::to_string),
        strict_only: expectation.strict_only,
        vectors,
        strict_vectors,
        properties,
        model: bug.map(|b| match b.entry().model {
            ByModel::Caught => "caught".to_string(),
            ByModel::Missed(why) => format!("missed: {}", why.reason()),
        }),
        seconds: Duration::as_secs_f64(&started.elapsed()),
    }
}

/// A legitimate variant's control row: every vector in strict mode. Its
/// `vectors.cases` are false failures. The properties are not run: they
/// check what the known bugs break, and the variant rows are about verdicts.
fn variant_row(variant: Variant, loaded: &[(PathBuf, AnyFile)]) -> Row {
    let started = Instant::now();
    let mut mutant = Mutant::variant(variant);
    let strict = RunOptions {
        strict_errors: true,
        ..RunOptions::default()
    };
    Row {
        mutant: format!("variant {}", variant.name()),
        summary: variant.summary().into(),
        vector_catchable: false,
        reason: None,
        strict_only: false,
        vectors: run_vectors_with(&mut mutant, loaded, &strict),
        strict_vectors: None,
        properties: Vec::new(),
        model: None,
        seconds: Duration::as_secs_f64(&started.elapsed()),
    }
}

fn run_vectors(
    imp: &mut dyn Implementation,
    loaded: &[(PathBuf, AnyFile)],
    strict_errors: bool,
) -> VectorCatch {
    let options = RunOptions {
        strict_errors,
        ..RunOptions::default()
    };
    run_vectors_with(imp, loaded, &options)
}

fn run_vectors_with(
    imp: &mut dyn Implementation,
    loaded: &[(PathBuf, AnyFile)],
    options: &RunOptions,
) -> VectorCatch {
    let caps = imp.capabilities();
    let mut results = Vec::new();
    for (path, file) in loaded {
        runner::run_file(
            imp,
            &caps,
            &path.display().to_string(),
            file,
            options,
            &mut results,
        );
    }
    let mut catch = VectorCatch::default();
    for r in results {
        match r.status {
            Status::Skipped { .. } => {}
            Status::Passed => catch.ran += 1,
            Status::Failed { .. } | Status::Errored { .. } => {
                catch.ran += 1;
                let path = Path::new(&r.file);
                let name =
                    |p: Option<&std::ffi::OsStr>| p.map(|f| f.to_string_lossy().into_owned());
                let file = match (
                    name(path.parent().and_then(Path::file_name)),
                    name(path.file_name()),
                ) {
                    (Some(dir), Some(file)) => format!("{dir}/{file}"),
                    _ => r.file.clone(),
                };
                catch.cases.push((file, r.tc_id));
            }
        }
    }
    catch
}

impl Table {
    /// Everything that makes the table fail: a control that is caught, a
    /// mutant that survives both, a vector-catchable one the vectors miss.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.control.caught() {
            problems.push(format!(
                "the bug-free mutant is caught (vectors {:?}, properties {:?}): the harness or the mutant is wrong",
                self.control.vectors.cases,
                self.control
                    .properties
                    .iter()
                    .map(|p| &p.property)
                    .collect::<Vec<_>>()
            ));
        }
        if self.control.vectors.ran == 0 {
            problems.push("no vector case ran against the mutants".into());
        }
        for v in &self.variants {
            if !v.vectors.cases.is_empty() {
                problems.push(format!(
                    "the legitimate {} fails {} vector case(s) in strict mode (false failures): {:?}",
                    v.mutant,
                    v.vectors.cases.len(),
                    v.vectors.cases
                ));
            }
            if v.vectors.ran == 0 {
                problems.push(format!("no vector case ran against the {}", v.mutant));
            }
        }
        for r in &self.rows {
            if !r.caught() {
                problems.push(format!(
                    "{} survives the vectors and the properties",
                    r.mutant
                ));
            } else if r.vector_catchable && r.strict_only && !r.caught_by_strict_vectors() {
                problems.push(format!(
                    "{} differs only in error class but no vector catches it in strict mode",
                    r.mutant
                ));
            } else if r.vector_catchable && !r.strict_only && !r.caught_by_vectors() {
                problems.push(format!(
                    "{} is visible through the vectors' operations but no vector catches it",
                    r.mutant
                ));
            }
        }
        problems
    }

    /// No problems.
    pub fn success(&self) -> bool {
        self.problems().is_empty()
    }

    /// Rows caught, of all rows.
    pub fn score(&self) -> (usize, usize) {
        (
            self.rows.iter().filter(|r| r.caught()).count(),
            self.rows.len(),
        )
    }

    /// The table as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The table as text: one line per mutant, then the notes.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let (caught, total) = self.score();
        let by_vectors = self.rows.iter().filter(|r| r.caught_by_vectors()).count();
        let by_strict = self
            .rows
            .iter()
            .filter(|r| !r.caught_by_vectors() && r.caught_by_strict_vectors())
            .count();
        let by_properties = self
            .rows
            .iter()
            .filter(|r| r.caught_by_properties())
            .count();
        out.push_str(&format!(
            "{:<40} {:<8} {:<34} {:<8}\n",
            "mutant", "vectors", "failing tcIds (file:tcId)", "caught"
        ));
        for r in std::iter::once(&self.control).chain(&self.rows) {
            let cases = &r.vectors.cases;
            let shown: Vec<String> = cases
                .iter()
                .take(3)
                .map(|(f, t)| format!("{}:{t}", short_file(f)))
                .collect();
            let tc = if cases.is_empty() {
                "-".to_string()
            } else if cases.len() > shown.len() {
                format!("{} +{} more", shown.join(" "), cases.len() - shown.len())
            } else {
                shown.join(" ")
            };
            out.push_str(&format!(
                "{:<40} {:<8} {:<34} {:<8}\n",
                r.mutant,
                if r.caught_by_vectors() {
                    format!("yes {}", cases.len())
                } else if r.caught_by_strict_vectors() {
                    "strict".into()
                } else {
                    "no".into()
                },
                tc,
                if r.caught() { "yes" } else { "NO" }
            ));
            let props: Vec<&str> = r.properties.iter().map(|p| p.property.as_str()).collect();
            out.push_str(&format!(
                "{:<40} properties: {}\n",
                "",
                if props.is_empty() {
                    "-".to_string()
                } else {
                    props.join(", ")
                }
            ));
            if let Some(strict) = &r.strict_vectors {
                let shown: Vec<String> = strict
                    .cases
                    .iter()
                    .take(3)
                    .map(|(f, t)| format!("{}:{t}", short_file(f)))
                    .collect();
                out.push_str(&format!(
                    "{:<40} {}: {} case(s) fail with --strict-errors{}{}\n",
                    "",
                    if r.strict_only {
                        "strict-only (error class)"
                    } else {
                        "strict mode"
                    },
                    strict.cases.len(),
                    if shown.is_empty() { "" } else { ": " },
                    shown.join(" ")
                ));
            }
            if let Some(reason) = &r.reason {
                out.push_str(&format!("{:<40} not vector-catchable: {reason}\n", ""));
            }
        }
        out.push_str(&format!(
            "\ncaught {caught}/{total} (by vectors {by_vectors}, only in strict mode {by_strict}, by properties {by_properties}); the control ran {} vector cases\n",
            self.control.vectors.ran
        ));
        out.push_str("\nlegitimate variants (controls, strict mode: must fail nothing)\n");
        for v in &self.variants {
            let shown: Vec<String> = v
                .vectors
                .cases
                .iter()
                .take(6)
                .map(|(f, t)| format!("{f}:{t}"))
                .collect();
            out.push_str(&format!(
                "{:<40} ran {:>4}, failed {:>3} {}\n",
                v.mutant,
                v.vectors.ran,
                v.vectors.cases.len(),
                shown.join(" ")
            ));
        }
        for (name, reason) in &self.not_mutants {
            out.push_str(&format!("no mutant for {name}: {reason}\n"));
        }
        for p in self.problems() {
            out.push_str(&format!("PROBLEM: {p}\n"));
        }
        out
    }
}

/// `…/session_scenarios.json` → `scen`, for the narrow text table.
fn short_file(path: &str) -> &str {
    match path.rsplit('/').next().unwrap_or(path) {
        "session_scenarios.json" => "scen",
        "primitives.json" => "prim",
        "x3dh.json" => "x3dh",
        "x3dh_accept.json" => "acc",
        other => other,
    }
}
