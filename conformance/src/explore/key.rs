//! The domains beside conversations: playing an X3DH, prekey-store or sealed
//! case ([`super::x3dh`] and [`super::sealed`] draw them), naming its
//! divergence, turning it into a finding and telling it.
//!
//! Such a case is one agreement or one sequence of initial messages to one
//! store, so there is little to shrink: an X3DH finding is the case as drawn,
//! a prekey-store finding keeps the deliveries up to the one that diverged
//! (later ones cannot change it; earlier ones set up the store's state and
//! their expected outcomes depend on each other, so they stay), a sealed
//! case is a few steps and kept whole. Each is played once more before it
//! is reported, as a conversation is.

use std::fmt::Write;

use crate::implementation::{Capabilities, Implementation};
use crate::runner::{self, CaseRef, RunOptions, Status};
use crate::vectors::{
    AcceptCase, Expected, Outcome, SCENARIO_SCHEMA, ScenarioCase, X3DH_ACCEPT_SCHEMA, X3DH_SCHEMA,
    X3dhCase,
};

use super::accepted::got_word;
use super::{Case, Divergence, FINDING_FLAG, Finding, Found, Options, Verdict, finding_file};

/// What an expected outcome is, in signature words (`ok` when it succeeds).
fn expected_word<T>(expected: &Expected<T>, ok: &str) -> String {
    match &expected.outcome {
        Outcome::Ok(_) => ok.into(),
        Outcome::Error { error } => format!("error:{error}"),
    }
}

/// The signature of a divergence on a key-agreement case (see
/// [`super::accepted`]): `x3dh SHAPE expected=… got=…` or
/// `accept SHAPE expected=… got=…`.
pub(super) fn signature(case: &Case, step: Option<usize>, actual: &str) -> String {
    match case {
        Case::X3dh { shape, case, .. } => {
            let expected = expected_word(&case.expected, "agreement");
            let got = if actual.starts_with("error ") {
                got_word(actual, &expected)
            } else if actual.starts_with("the agreement succeeded") {
                "agreement".into()
            } else if actual.starts_with("SK ") {
                "other-agreement".into()
            } else {
                "other".into()
            };
            format!("x3dh {shape} expected={expected} got={got}")
        }
        Case::Accept { shape, case, .. } => match step.and_then(|k| case.initial_messages.get(k)) {
            Some(delivery) => {
                let expected = expected_word(&delivery.expected, "plaintext");
                let got = got_word(actual, &expected);
                format!("accept {shape} expected={expected} got={got}")
            }
            None => format!(
                "accept {shape} expected=store got={}",
                got_word(actual, "store")
            ),
        },
        Case::Sealed { shape, case, .. } => {
            let expected = step
                .and_then(|k| case.steps.get(k))
                .map_or_else(|| "unknown".into(), super::step_expected);
            let got = got_word(actual, &expected);
            format!("sealed {shape} expected={expected} got={got}")
        }
        Case::Session(_) => "session".into(),
    }
}

/// Runs a key-agreement `case` on `imp` as the runner runs its vector.
pub(super) fn play(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    case: &Case,
    strict: bool,
) -> Verdict {
    let options = RunOptions {
        strict_errors: strict,
        ..RunOptions::default()
    };
    let (suite, case_ref) = match case {
        Case::X3dh { suite, case, .. } => (suite, CaseRef::X3dh(case)),
        Case::Accept { suite, case, .. } => (suite, CaseRef::X3dhAccept(case)),
        Case::Sealed { suite, case, .. } => (suite, CaseRef::Scenario(case)),
        Case::Session(_) => {
            return Verdict::ReferenceRefused("a conversation is not a key-agreement case".into());
        }
    };
    match runner::run_case(imp, caps, suite.name(), case_ref, &options) {
        Status::Passed => Verdict::Agrees,
        Status::Failed {
            step,
            expected,
            actual,
        } => Verdict::Diverges(Divergence {
            step,
            signature: signature(case, step, &actual),
            expected,
            actual,
        }),
        Status::Skipped { reason, .. } => Verdict::Skipped(reason),
        Status::Errored { message, stderr } => Verdict::Errored(match stderr {
            Some(stderr) if !stderr.is_empty() => format!("{message}\nstderr:\n{stderr}"),
            _ => message,
        }),
    }
}

/// The divergence of `case` on `imp`, if it diverges in a way not accepted.
fn diverges(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    options: &Options,
    case: &Case,
) -> Option<Divergence> {
    match play(imp, caps, case, options.strict) {
        Verdict::Diverges(d) if options.accepted.reason(&d.signature).is_none() => Some(d),
        _ => None,
    }
}

/// Case `index` (`case`), which diverged, as a finding: played again
/// (`Err` if it no longer diverges), a prekey-store case cut after the
/// diverging delivery, written as a one-case vector file.
pub(super) fn finding(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    options: &Options,
    index: u64,
    case: Case,
) -> Result<Finding, String> {
    let Some(first) = diverges(imp, caps, options, &case) else {
        return Err(format!(
            "case {index} diverged, but not when played again alone: the implementation's \
             answers depend on more than the case (state left by earlier cases?)"
        ));
    };
    let mut plays = 1;
    let (case, divergence) = match (&case, first.step) {
        (
            Case::Accept {
                suite,
                shape,
                case: c,
            },
            Some(k),
        ) if k + 1 < c.initial_messages.len() => {
            let mut cut = c.clone();
            cut.initial_messages.truncate(k + 1);
            let cut = Case::Accept {
                suite: *suite,
                shape,
                case: cut,
            };
            plays += 1;
            match diverges(imp, caps, options, &cut) {
                Some(d) => (cut, d),
                None => (case, first),
            }
        }
        _ => (case, first),
    };
    let comment = |shape: &str, what: &str, original: &str| {
        format!(
            "explore --seed {} case {index} ({what} shape {shape}): {} — {original}",
            options.seed, divergence.signature
        )
    };
    let flagged = |flags: &[String]| {
        let mut flags = flags.to_vec();
        flags.push(FINDING_FLAG.into());
        flags
    };
    let found = match case {
        Case::X3dh {
            suite,
            shape,
            mut case,
        } => {
            case.info.comment = comment(shape, "X3DH", &case.info.comment);
            case.info.flags = flagged(&case.info.flags);
            let flags = case.info.flags.clone();
            Found::X3dh {
                shape,
                file: finding_file(X3DH_SCHEMA, suite.name(), &flags, case),
            }
        }
        Case::Accept {
            suite,
            shape,
            mut case,
        } => {
            case.info.comment = comment(shape, "prekey-store", &case.info.comment);
            case.info.flags = flagged(&case.info.flags);
            let flags = case.info.flags.clone();
            Found::Accept {
                shape,
                file: finding_file(X3DH_ACCEPT_SCHEMA, suite.name(), &flags, case),
            }
        }
        Case::Sealed {
            suite,
            shape,
            mut case,
        } => {
            case.info.comment = comment(shape, "sealed", &case.info.comment);
            case.info.flags = flagged(&case.info.flags);
            let flags = case.info.flags.clone();
            Found::Sealed {
                shape,
                file: finding_file(SCENARIO_SCHEMA, suite.name(), &flags, case),
            }
        }
        Case::Session(_) => return Err(format!("case {index} is a conversation")),
    };
    Ok(Finding {
        seed: options.seed,
        index,
        divergence,
        shrink_plays: plays,
        found,
    })
}

fn outcome_text<T>(expected: &Expected<T>, ok: &str) -> String {
    let word = |o: &Outcome<T>| match o {
        Outcome::Ok(_) => ok.to_string(),
        Outcome::Error { error } => format!("error {error}"),
    };
    let mut s = word(&expected.outcome);
    for alt in &expected.alternatives {
        let _ = write!(s, " (or {})", word(alt));
    }
    s
}

fn x3dh_lines(out: &mut String, case: &X3dhCase) {
    if let Some(i) = &case.initiator {
        let _ = writeln!(
            out,
            "  initiator (Alice) gets Bob's bundle: IK {} B, SPK {} B, signature {} B, {}",
            i.peer_identity_key.0.len(),
            i.peer_signed_prekey.0.len(),
            i.peer_signed_prekey_signature.0.len(),
            i.peer_one_time_prekey.as_ref().map_or_else(
                || "no one-time prekey".into(),
                |k| format!("OPK {} B", k.0.len())
            )
        );
    }
    if let Some(r) = &case.responder {
        let _ = writeln!(
            out,
            "  responder (Bob) gets Alice's IK {} B and ephemeral key {} B, {}",
            r.peer_identity_key.0.len(),
            r.peer_ephemeral_key.0.len(),
            if r.one_time_prekey_private_key.is_some() {
                "with a one-time prekey"
            } else {
                "without a one-time prekey"
            }
        );
    }
}

fn accept_lines(out: &mut String, case: &AcceptCase, failed: Option<usize>) {
    let r = &case.responder;
    let _ = writeln!(
        out,
        "  Bob's store: signed prekeys {:?}, one-time prekeys {:?}",
        r.signed_prekeys.iter().map(|p| p.id).collect::<Vec<_>>(),
        r.one_time_prekeys.iter().map(|p| p.id).collect::<Vec<_>>()
    );
    for (k, delivery) in case.initial_messages.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {k}. initial message of {} B → reference: {}{}",
            delivery.message.0.len(),
            outcome_text(&delivery.expected, "accepted"),
            if Some(k) == failed {
                "   ← diverges here"
            } else {
                ""
            }
        );
    }
}

fn sealed_lines(out: &mut String, case: &ScenarioCase, failed: Option<usize>) {
    if let Some(limits) = case.limits {
        let _ = writeln!(
            out,
            "  MAX_SKIP {}, stored-key cap {}",
            limits.max_skip, limits.max_stored_skipped_keys
        );
    }
    for (k, step) in case.steps.iter().enumerate() {
        let what = match step {
            crate::vectors::Step::Send { party, .. } => format!("{party} sends"),
            crate::vectors::Step::Deliver {
                party,
                message: Some(m),
                ..
            } => format!("{party} ← message {m}"),
            crate::vectors::Step::Deliver { party, .. } => format!("{party} ← the sealed message"),
            crate::vectors::Step::Capture { party, name, .. } => {
                format!("the attacker copies {party} as {name}")
            }
        };
        let _ = writeln!(
            out,
            "  {k:>3}  {what}: {}{}",
            super::step_expected(step),
            if Some(k) == failed {
                "  ← diverges"
            } else {
                ""
            }
        );
    }
}

/// A finding outside the conversation domain, as a reader follows it.
pub(super) fn tell(finding: &Finding) -> String {
    let mut out = String::new();
    let (suite, what, shape, comment) = match &finding.found {
        Found::X3dh { shape, file } => (
            &file.suite,
            "X3DH case",
            *shape,
            file.tests.first().map(|c| c.info.comment.as_str()),
        ),
        Found::Accept { shape, file } => (
            &file.suite,
            "prekey-store case",
            *shape,
            file.tests.first().map(|c| c.info.comment.as_str()),
        ),
        Found::Sealed { shape, file } => (
            &file.suite,
            "sealed case",
            *shape,
            file.tests.first().map(|c| c.info.comment.as_str()),
        ),
        Found::Session { .. } => return String::new(),
    };
    let _ = writeln!(
        out,
        "explore --seed {} case {}: suite {suite}, {what} of shape {shape}",
        finding.seed, finding.index
    );
    if let Some(comment) = comment {
        let _ = writeln!(out, "  {comment}");
    }
    match &finding.found {
        Found::X3dh { file, .. } => file.tests.iter().for_each(|c| x3dh_lines(&mut out, c)),
        Found::Accept { file, .. } => file
            .tests
            .iter()
            .for_each(|c| accept_lines(&mut out, c, finding.divergence.step)),
        Found::Sealed { file, .. } => file
            .tests
            .iter()
            .for_each(|c| sealed_lines(&mut out, c, finding.divergence.step)),
        Found::Session { .. } => {}
    }
    let d = &finding.divergence;
    let _ = writeln!(out, "  expected: {}", d.expected);
    let _ = writeln!(out, "  got:      {}", d.actual);
    let _ = write!(out, "signature: {}", d.signature);
    out
}
