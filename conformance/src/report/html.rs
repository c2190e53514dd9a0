//! The page: one self-contained `index.html` (inline CSS and script, no
//! request to anywhere, so it opens from `file://` and offline). Everything
//! is rendered here, in Rust, with every piece of result data escaped
//! ([`super::escape::html`]); the script only sorts tables and moves the
//! case details already on the page into the drill-down drawer.

use std::fmt::Write as _;

use super::compare::{Comparison, Pair};
use super::escape::{html as esc, id};
use super::findings::{self, Findings};
use super::input::{Case, CaseStatus};
use super::model::{Model, Run, Tally, short_hash};

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

/// What the page says about itself.
#[derive(Debug, Clone)]
pub struct PageInfo<'a> {
    /// The page's title.
    pub title: &'a str,
    /// When it was generated (RFC 3339).
    pub generated: &'a str,
}

/// The whole page.
pub fn page(
    model: &Model<'_>,
    findings: &[Findings],
    comparison: Option<&Comparison<'_>>,
    info: &PageInfo<'_>,
) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"ratchetproof {}\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(crate::runner::run_info::TOOL_VERSION),
        esc(info.title)
    );
    header(&mut out, model, comparison.is_some(), info);
    out.push_str("<main>\n");
    // Who passes what first; how each run was made below it.
    for suite in &model.suites {
        matrix(&mut out, model, suite);
    }
    capture_rules(&mut out, model);
    runs_table(&mut out, model);
    findings_section(&mut out, model, findings);
    if let Some(c) = comparison {
        compare_section(&mut out, model, c);
    }
    out.push_str("</main>\n");
    drawer(&mut out);
    case_store(&mut out, model);
    let _ = write!(
        out,
        "<footer>Generated {} by ratchetproof {} from {} result file{}: {}.</footer>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        esc(info.generated),
        esc(crate::runner::run_info::TOOL_VERSION),
        model.runs.len(),
        if model.runs.len() == 1 { "" } else { "s" },
        model
            .runs
            .iter()
            .map(|r| format!("<code>{}</code>", esc(&r.loaded.stem())))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

fn header(out: &mut String, model: &Model<'_>, compare: bool, info: &PageInfo<'_>) {
    let mut implementations: Vec<&str> = model.runs.iter().map(|r| r.name()).collect();
    implementations.sort_unstable();
    implementations.dedup();
    let mut hashes: Vec<&str> = model.runs.iter().filter_map(|r| r.set_hash()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let vectors = match hashes.as_slice() {
        [] => "vector set not recorded".to_string(),
        [one] => format!(
            "vector set <code title=\"{}\">{}</code>",
            esc(one),
            esc(&short_hash(one))
        ),
        many => format!(
            "<strong class=\"warn\">{} different vector sets</strong>",
            many.len()
        ),
    };
    let _ = writeln!(
        out,
        "<header class=\"top\">\n<h1>{}</h1>\n<p class=\"sub\">{} run{} of {} implementation{} · {vectors} · generated {}</p>",
        esc(info.title),
        model.runs.len(),
        if model.runs.len() == 1 { "" } else { "s" },
        implementations.len(),
        if implementations.len() == 1 { "" } else { "s" },
        esc(info.generated)
    );
    out.push_str("<nav>");
    for suite in &model.suites {
        let _ = write!(out, "<a href=\"#matrix-{}\">{}</a>", id(suite), esc(suite));
    }
    if model.suites.iter().any(|s| has_capture_rules(model, s)) {
        out.push_str("<a href=\"#capture\">Capture rules</a>");
    }
    out.push_str("<a href=\"#runs\">Runs</a><a href=\"#findings\">Findings</a>");
    if compare {
        out.push_str("<a href=\"#compare\">Comparison</a>");
    }
    out.push_str("</nav>\n</header>\n");
}

/// The flags whose notes state what a captured state can and cannot read.
const CAPTURE_FLAGS: [(&str, &str); 2] = [
    (
        "ForwardSecrecy",
        "Forward secrecy: what a state captured now can decrypt",
    ),
    (
        "PostCompromise",
        "Post-compromise security: when a capture stops reading",
    ),
];

fn has_capture_rules(model: &Model<'_>, suite: &str) -> bool {
    CAPTURE_FLAGS.iter().any(|(flag, _)| {
        model
            .notes
            .contains_key(&(suite.to_string(), (*flag).to_string()))
    })
}

/// The suites side by side on what a captured state can read: the notes the
/// vector files give the `ForwardSecrecy` and `PostCompromise` flags, which
/// each suite states by its own rule (olm-v1's capture reads more than a
/// Signal one, docs/OLM-V1.md §8). Generated from the results, like the rest.
fn capture_rules(out: &mut String, model: &Model<'_>) {
    let suites: Vec<&String> = model
        .suites
        .iter()
        .filter(|s| has_capture_rules(model, s))
        .collect();
    if suites.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"capture\">\n<h2>Capture rules</h2>\n<p class=\"lead\">What the vectors of each \
         suite require of a stolen state, in the words of their flag notes: the suites differ, and a pass \
         means the implementation keeps its own suite's promise, not another's.</p>\n\
         <div class=\"scroll\"><table class=\"runs capture\">\n<thead><tr><th>Suite</th>",
    );
    for (_, title) in CAPTURE_FLAGS {
        let _ = write!(out, "<th>{}</th>", esc(title));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for suite in suites {
        let _ = write!(
            out,
            "<tr><th><a href=\"#matrix-{}\">{}</a></th>",
            id(suite),
            esc(suite)
        );
        for (flag, _) in CAPTURE_FLAGS {
            let note = model
                .notes
                .get(&(suite.to_string(), flag.to_string()))
                .map_or("—", |n| n.description.as_str());
            let _ = write!(out, "<td class=\"note\">{}</td>", esc(note));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// A stacked bar of a tally, for the runs table.
fn bar(t: &Tally) -> String {
    let total = t.total().max(1) as f64;
    let part = |n: usize, class: &str| {
        if n == 0 {
            String::new()
        } else {
            format!(
                "<i class=\"{class}\" style=\"width:{:.2}%\"></i>",
                100.0 * n as f64 / total
            )
        }
    };
    format!(
        "<span class=\"bar\" aria-hidden=\"true\">{}{}{}{}</span>",
        part(t.passed, "p"),
        part(t.failed, "f"),
        part(t.errored, "e"),
        part(t.skipped, "s")
    )
}

fn known_cell(run: &Run<'_>) -> String {
    let Some(k) = &run.loaded.result.known_failures else {
        return "<td class=\"muted\" data-v=\"-1\">no list</td>".into();
    };
    let off = k.new.len() + k.changed.len() + k.stale.len();
    let list = std::path::Path::new(&k.list)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| k.list.clone());
    if off == 0 {
        format!(
            "<td data-v=\"{}\" title=\"{}\"><span class=\"ok\">✓</span> {} listed, all as listed</td>",
            k.listed,
            esc(&k.list),
            k.listed
        )
    } else {
        format!(
            "<td data-v=\"{}\" title=\"{}\"><span class=\"bad\">✗ {} new, {} changed, {} stale</span> <small>({} listed in {})</small></td>",
            k.listed,
            esc(&k.list),
            k.new.len(),
            k.changed.len(),
            k.stale.len(),
            k.listed,
            esc(&list)
        )
    }
}

/// **name** version, and what the shim adds (store mode, dependencies)
/// below it in small print.
fn implementation_html(run: &Run<'_>) -> String {
    let (version, detail) = run.version();
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!("<small class=\"detail\">{}</small>", esc(detail))
    };
    format!(
        "<span class=\"name\">{}</span> {}{detail}",
        esc(run.name()),
        esc(version)
    )
}

fn runs_table(out: &mut String, model: &Model<'_>) {
    out.push_str(
        "<section id=\"runs\">\n<h2>Runs</h2>\n<p class=\"lead\">One row per result file. \
         Click a column to sort; click a run's failures to see them.</p>\n\
         <div class=\"scroll\"><table class=\"runs sortable\">\n<thead><tr>\
         <th data-col=\"0\">Implementation</th><th data-col=\"1\">Mode</th>\
         <th data-col=\"2\">Suites run</th><th data-col=\"3\">Started</th>\
         <th data-col=\"4\">Vectors</th><th data-col=\"5\" class=\"num\">Passed</th>\
         <th data-col=\"6\" class=\"num\">Failed</th><th data-col=\"7\" class=\"num\">Errored</th>\
         <th data-col=\"8\" class=\"num\">Skipped</th><th data-col=\"9\">Cases</th>\
         <th data-col=\"10\">Known failures</th></tr></thead>\n<tbody>\n",
    );
    for run in &model.runs {
        let t = &run.totals;
        let suites: Vec<&str> = run
            .per_suite
            .iter()
            .filter(|(_, t)| t.executed() > 0)
            .map(|(s, _)| s.as_str())
            .collect();
        let started = run
            .loaded
            .result
            .started_at
            .as_deref()
            .map_or("—".to_string(), |s| {
                s.get(..16).unwrap_or(s).replace('T', " ")
            });
        let vectors = match run.set_hash() {
            Some(h) => format!("<code title=\"{}\">{}</code>", esc(h), esc(&short_hash(h))),
            None => "<span class=\"muted\">—</span>".into(),
        };
        let failed = if t.problems() > 0 {
            format!(
                "<a href=\"#drill={}/*/*\" class=\"drill bad\" data-drill=\"{}/*/*\">{}</a>",
                run.id, run.id, t.failed
            )
        } else {
            t.failed.to_string()
        };
        let _ = writeln!(
            out,
            "<tr id=\"run-{}\"><th scope=\"row\" data-v=\"{}\">{}</th><td><span class=\"mode {}\">{}</span></td>\
             <td class=\"suites\">{}</td><td data-v=\"{}\">{}</td><td>{vectors}</td><td class=\"num\">{}</td>\
             <td class=\"num\" data-v=\"{}\">{failed}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td data-v=\"{}\">{}</td>{}</tr>",
            run.id,
            esc(run.implementation()),
            implementation_html(run),
            esc(&run.mode),
            esc(&run.mode),
            esc(&suites.join(", ")),
            esc(run.loaded.result.started_at.as_deref().unwrap_or("")),
            esc(&started),
            t.passed,
            t.failed,
            t.errored,
            t.skipped,
            t.total(),
            bar(t),
            known_cell(run)
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// Runs grouped by implementation (consecutive or not), in first-seen order.
fn groups<'m, 'a>(runs: &[&'m Run<'a>]) -> Vec<(&'m str, Vec<&'m Run<'a>>)> {
    let mut out: Vec<(&str, Vec<&Run<'a>>)> = Vec::new();
    for run in runs {
        match out
            .iter_mut()
            .find(|(name, _)| *name == run.implementation())
        {
            Some((_, list)) => list.push(run),
            None => out.push((run.implementation(), vec![run])),
        }
    }
    out
}

fn cell(run: &Run<'_>, suite: &str, flag: Option<&str>) -> String {
    let t = match flag {
        Some(f) => run
            .per_flag
            .get(&(suite.to_string(), f.to_string()))
            .copied(),
        None => run.per_suite.get(suite).copied(),
    };
    let Some(t) = t else {
        return "<td class=\"c none\" data-v=\"-1\"></td>".into();
    };
    let title = format!(
        "{} passed, {} failed, {} errored, {} skipped",
        t.passed, t.failed, t.errored, t.skipped
    );
    let class = if t.failed > 0 {
        "fail"
    } else if t.errored > 0 {
        "err"
    } else if t.passed > 0 {
        "pass"
    } else {
        "skip"
    };
    let mut text = String::new();
    if t.failed > 0 {
        let _ = write!(text, "<b>{}✗</b>", t.failed);
    }
    if t.errored > 0 {
        let _ = write!(text, "<b>{}!</b>", t.errored);
    }
    if t.passed > 0 {
        let _ = write!(text, "<span>{}✓</span>", t.passed);
    }
    if t.skipped > 0 {
        let _ = write!(text, "<small>{}s</small>", t.skipped);
    }
    if t.problems() > 0 {
        // `*`: every flag (the suite's "all cases" row).
        let drill = format!("{}/{}/{}", run.id, id(suite), flag.map_or("*".into(), id));
        format!(
            "<td class=\"c {class}\" data-v=\"{}\" title=\"{title}\"><a href=\"#drill={drill}\" class=\"drill\" data-drill=\"{drill}\">{text}</a></td>",
            t.problems()
        )
    } else {
        format!("<td class=\"c {class}\" data-v=\"0\" title=\"{title}\">{text}</td>")
    }
}

fn matrix(out: &mut String, model: &Model<'_>, suite: &str) {
    let runs = model.runs_of(suite);
    let groups = groups(&runs);
    let ordered: Vec<&Run<'_>> = groups.iter().flat_map(|(_, r)| r.iter().copied()).collect();
    let flags = model.flags.get(suite).cloned().unwrap_or_default();
    let _ = writeln!(
        out,
        "<section id=\"matrix-{}\" class=\"matrix-section\">\n<h2>{} <small>{} flags × {} runs</small></h2>\n\
         <p class=\"lead\">Each cell counts the cases of a flag in one run: <span class=\"key fail\">failed ✗</span> \
         <span class=\"key err\">errored !</span> <span class=\"key pass\">passed ✓</span> <span class=\"key skip\">skipped s</span>. \
         Click a red cell for its cases; click a heading to sort.</p>",
        id(suite),
        esc(suite),
        flags.len(),
        ordered.len()
    );
    out.push_str("<div class=\"scroll\"><table class=\"matrix sortable\">\n<thead><tr><th rowspan=\"2\" data-col=\"0\" class=\"flagcol\">Flag</th><th rowspan=\"2\" data-col=\"1\" class=\"num\">Cases</th>");
    for (name, runs) in &groups {
        let html = runs
            .first()
            .map(|r| implementation_html(r))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<th colspan=\"{}\" class=\"impl\" title=\"{}\">{html}</th>",
            runs.len(),
            esc(name)
        );
    }
    out.push_str("</tr>\n<tr>");
    for (i, run) in ordered.iter().enumerate() {
        let _ = write!(
            out,
            "<th data-col=\"{}\" class=\"mode-h\" title=\"{}\">{}</th>",
            i + 2,
            esc(&run.loaded.stem()),
            esc(&run.mode)
        );
    }
    out.push_str("</tr></thead>\n<tbody class=\"totals\"><tr><th scope=\"row\">all cases</th>");
    let total = ordered
        .iter()
        .map(|r| r.per_suite.get(suite).map_or(0, Tally::total))
        .max()
        .unwrap_or(0);
    let _ = write!(out, "<td class=\"num\">{total}</td>");
    for run in &ordered {
        out.push_str(&cell(run, suite, None));
    }
    out.push_str("</tr></tbody>\n<tbody>\n");
    for flag in &flags {
        let note = model.notes.get(&(suite.to_string(), flag.clone()));
        let cases = ordered
            .iter()
            .filter_map(|r| r.per_flag.get(&(suite.to_string(), flag.clone())))
            .map(Tally::total)
            .max()
            .unwrap_or(0);
        let _ = write!(
            out,
            "<tr data-suite=\"{}\" data-flag=\"{}\"><th scope=\"row\" data-v=\"{}\"><span class=\"flag\">{}</span>{}{}</th><td class=\"num\" data-v=\"{cases}\">{cases}</td>",
            id(suite),
            id(flag),
            esc(flag),
            esc(flag),
            note.map(|n| format!(" <small class=\"bt\">{}</small>", esc(&n.bug_type)))
                .unwrap_or_default(),
            note.map(|n| format!("<div class=\"note\" hidden>{}</div>", esc(&n.description)))
                .unwrap_or_default(),
        );
        for run in &ordered {
            out.push_str(&cell(run, suite, Some(flag)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn findings_section(out: &mut String, model: &Model<'_>, all: &[Findings]) {
    out.push_str(
        "<section id=\"findings\">\n<h2>Findings</h2>\n<p class=\"lead\">From each implementation's \
         known-failures lists: the comment above each group of entries, and the cases listed under it. \
         A list holds exactly the cases the implementation fails, so CI fails when one changes.</p>\n",
    );
    if all.is_empty() {
        out.push_str("<p class=\"muted\">No run was judged against a known-failures list.</p>\n");
    }
    for f in all {
        let _ = writeln!(
            out,
            "<div class=\"impl-findings\"><h3>{} <small>{} finding{}</small></h3>\n<ul class=\"findings\">",
            esc(&f.implementation),
            f.findings.len(),
            if f.findings.len() == 1 { "" } else { "s" }
        );
        for finding in &f.findings {
            let cases: Vec<String> = finding
                .cases
                .iter()
                .map(|(file, tcs)| {
                    format!(
                        "<span class=\"tcs\"><code>{}</code> tcId {}</span>",
                        esc(file),
                        esc(&findings::ranges(tcs))
                    )
                })
                .collect();
            let modes: Vec<String> = finding
                .runs
                .iter()
                .filter_map(|id| model.runs.get(*id))
                .map(|r| {
                    format!(
                        "<span class=\"mode {}\">{}</span>",
                        esc(&r.mode),
                        esc(&r.mode)
                    )
                })
                .collect();
            let headline = if finding.reason.is_empty() {
                "<span class=\"muted\">(the list gives no reason)</span>".to_string()
            } else {
                esc(&finding.headline())
            };
            let body = if finding.reason.is_empty() {
                String::new()
            } else {
                format!("<pre>{}</pre>", esc(&finding.reason))
            };
            let _ = writeln!(
                out,
                "<li><details><summary><span class=\"headline\">{headline}</span> {} <span class=\"cases\">{}</span></summary>{body}</details></li>",
                modes.join(""),
                cases.join(" ")
            );
        }
        out.push_str("</ul></div>\n");
    }
    out.push_str("</section>\n");
}

fn change_rows(out: &mut String, changes: &[super::compare::Change<'_>]) {
    for c in changes {
        let before = c.before.map_or("absent", CaseStatus::as_str);
        let detail = c
            .after
            .actual
            .as_deref()
            .or(c.after.message.as_deref())
            .unwrap_or("");
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td><span class=\"st {before}\">{before}</span> → <span class=\"st {}\">{}</span></td><td class=\"detail\">{}</td></tr>",
            esc(&c.key),
            esc(&c.after.comment),
            c.after.status.as_str(),
            c.after.status.as_str(),
            esc(detail)
        );
    }
}

fn pair_block(out: &mut String, model: &Model<'_>, p: &Pair<'_>) {
    let mode = model.runs.get(p.new_id).map_or("", |r| r.mode.as_str());
    let _ = writeln!(
        out,
        "<div class=\"pair\"><h3>{} <span class=\"mode {}\">{}</span> <small>before: {} ({})</small></h3>",
        esc(&p.new.result.implementation),
        esc(mode),
        esc(mode),
        esc(&p.old.result.implementation),
        esc(&p.old.stem())
    );
    let _ = writeln!(
        out,
        "<p class=\"chips\"><span class=\"chip{}\">{} new failure{}</span> <span class=\"chip{}\">{} fixed</span> <span class=\"chip\">{} still failing</span>{}</p>",
        if p.new_failures.is_empty() {
            ""
        } else {
            " bad"
        },
        p.new_failures.len(),
        if p.new_failures.len() == 1 { "" } else { "s" },
        if p.fixed.is_empty() { "" } else { " ok" },
        p.fixed.len(),
        p.still_failing,
        if p.same_vectors {
            ""
        } else {
            " <span class=\"chip warn\">different or unrecorded vector sets: a tcId may name another case</span>"
        }
    );
    for (title, changes) in [("New failures", &p.new_failures), ("Fixed", &p.fixed)] {
        if changes.is_empty() {
            continue;
        }
        // Long lists start closed; new failures always open.
        let open = if title == "New failures" || changes.len() <= 10 {
            " open"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<details class=\"changes\"{open}><summary>{title} ({})</summary>\
             <table class=\"changes\"><thead><tr><th>Case</th><th>Comment</th><th>Status</th><th>Now</th></tr></thead><tbody>",
            changes.len()
        );
        change_rows(out, changes);
        out.push_str("</tbody></table></details>\n");
    }
    out.push_str("</div>\n");
}

fn compare_section(out: &mut String, model: &Model<'_>, c: &Comparison<'_>) {
    out.push_str(
        "<section id=\"compare\">\n<h2>Comparison</h2>\n<p class=\"lead\">Against the results \
         given with <code>--compare</code>: cases failing now that did not before, and cases \
         fixed since. Runs are paired by file name, else by implementation and mode.</p>\n",
    );
    for p in &c.pairs {
        pair_block(out, model, p);
    }
    if !c.only_new.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Without an earlier result: {}</p>",
            esc(&c.only_new.join(", "))
        );
    }
    if !c.only_old.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"muted\">Only in the earlier results: {}</p>",
            esc(&c.only_old.join(", "))
        );
    }
    out.push_str("</section>\n");
}

fn drawer(out: &mut String) {
    out.push_str(
        "<aside id=\"drill\" class=\"drawer\" hidden aria-label=\"Cases\">\n\
         <div class=\"drawer-head\"><div><h2 id=\"drill-title\">Cases</h2><p id=\"drill-meta\"></p></div>\
         <a href=\"#\" id=\"drill-close\" aria-label=\"Close\">×</a></div>\n\
         <div id=\"drill-body\"></div>\n</aside>\n",
    );
}

fn steps_bar(case: &Case) -> String {
    if case.steps.is_empty() {
        return String::new();
    }
    let items: String = case
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let class = match s.as_str() {
                "passed" => "p",
                "alternative" => "a",
                "failed" => "f",
                _ => "n",
            };
            format!("<i class=\"{class}\" title=\"step {i}: {}\"></i>", esc(s))
        })
        .collect();
    format!(
        "<dt>steps</dt><dd><span class=\"steps\">{items}</span> <small>{} passed · failed at {} · {} not judged</small></dd>",
        case.steps
            .iter()
            .filter(|s| *s == "passed" || *s == "alternative")
            .count(),
        case.step.map_or("—".into(), |s| s.to_string()),
        case.steps.iter().filter(|s| *s == "notJudged").count()
    )
}

fn case_article(out: &mut String, model: &Model<'_>, run: &Run<'_>, n: usize, case: &Case) {
    let flags: String = case
        .flags
        .iter()
        .map(|f| {
            let note = model.notes.get(&(case.suite.clone(), f.clone()));
            match note {
                Some(note) => format!(
                    "<span class=\"chip\" title=\"{}\">{} <small>{}</small></span>",
                    esc(&note.description),
                    esc(f),
                    esc(&note.bug_type)
                ),
                None => format!("<span class=\"chip\">{}</span>", esc(f)),
            }
        })
        .collect();
    let file = std::path::Path::new(&case.file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| case.file.clone());
    let status = case.status.as_str();
    let _ = write!(
        out,
        "<article class=\"case {status}\" id=\"case-{}-{n}\" data-run=\"{}\" data-suite=\"{}\" data-flags=\" {} \">\n\
         <h3><span class=\"st {status}\">{status}</span> <code>{}/{}</code> tcId {} <small>{}</small></h3>\n\
         <p class=\"comment\">{}</p>\n<dl>",
        run.id,
        run.id,
        id(&case.suite),
        case.flags
            .iter()
            .map(|f| id(f))
            .collect::<Vec<_>>()
            .join(" "),
        esc(&case.suite),
        esc(&file),
        case.tc_id,
        esc(&case.result),
        esc(&case.comment)
    );
    if let Some(step) = case.step {
        let _ = write!(out, "<dt>failed at</dt><dd>step {step}</dd>");
    }
    out.push_str(&steps_bar(case));
    if let Some(e) = &case.expected {
        let _ = write!(out, "<dt>expected</dt><dd><code>{}</code></dd>", esc(e));
    }
    if let Some(a) = &case.actual {
        let _ = write!(out, "<dt>actual</dt><dd><code>{}</code></dd>", esc(a));
    }
    if let Some(r) = &case.refusal {
        let _ = write!(
            out,
            "<dt>implementation said</dt><dd><span class=\"class\">{}</span> {}</dd>",
            esc(&r.class),
            esc(&r.message)
        );
    }
    if let Some(m) = &case.message {
        let _ = write!(out, "<dt>error</dt><dd>{}</dd>", esc(m));
    }
    if let Some(s) = &case.stderr {
        let _ = write!(out, "<dt>stderr</dt><dd><pre>{}</pre></dd>", esc(s));
    }
    if !flags.is_empty() {
        let _ = write!(out, "<dt>flags</dt><dd class=\"chips\">{flags}</dd>");
    }
    out.push_str("</dl>\n");
    match &case.known_failure {
        Some(k) => {
            let reason = k.reason.as_deref().unwrap_or_default();
            let headline = findings::headline(reason);
            let _ = writeln!(
                out,
                "<details class=\"known {}\"><summary><b>{}</b> <code>{}</code>{}</summary>{}</details>",
                if k.as_listed { "as-listed" } else { "changed" },
                if k.as_listed {
                    "Known failure, as listed:"
                } else {
                    "Listed as a known failure, but it ended otherwise; listed:"
                },
                esc(&k.listed),
                if headline.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", esc(&headline))
                },
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("<pre>{}</pre>", esc(reason))
                }
            );
        }
        None if run.loaded.result.known_failures.is_some() => {
            out.push_str("<div class=\"known new\"><b>Not in the known-failures list: a new failure.</b></div>\n");
        }
        None => {}
    }
    out.push_str("</article>\n");
}

fn case_store(out: &mut String, model: &Model<'_>) {
    out.push_str("<div id=\"cases\" hidden>\n");
    for run in &model.runs {
        for (n, case) in run.loaded.result.cases.iter().enumerate() {
            if case.status.is_problem() {
                case_article(out, model, run, n, case);
            }
        }
    }
    out.push_str("</div>\n");
}
