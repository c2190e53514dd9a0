//! A finding as a reader follows it: who sent what, what the network
//! delivered and how, what the reference did, and where the implementation
//! did something else.

use std::fmt::Write;

use crate::model::{Event, Outcome};

use super::accepted::delivery_word;
use super::{Finding, Found};

fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(t) => format!("{t:?}"),
        Err(_) => hex::encode(bytes),
    }
}

fn result(outcome: &Outcome, alternatives: &[crate::implementation::ErrorClass]) -> String {
    match outcome {
        Ok(p) => format!("plaintext {}", text(p)),
        Err(class) => {
            let mut s = format!("error {class}");
            for alt in alternatives {
                let _ = write!(s, " (or {alt})");
            }
            s
        }
    }
}

pub(super) fn tell(finding: &Finding) -> String {
    let Found::Session {
        original,
        minimal,
        trace,
        ..
    } = &finding.found
    else {
        return String::new();
    };
    let c = &minimal.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "explore --seed {} case {}: suite {}, MAX_SKIP {}, stored-key cap {}, {:?} ratchet keys, shape {}",
        finding.seed,
        finding.index,
        c.suite_name(),
        c.max_skip,
        c.max_stored_skipped_keys,
        c.randomness,
        minimal.shape,
    );
    let _ = writeln!(
        out,
        "{} actions drawn, shrunk to {} in {} plays:",
        original.actions.len(),
        minimal.actions.len(),
        finding.shrink_plays
    );
    let mut sent = 0usize;
    for (i, event) in trace.events.iter().enumerate() {
        let line = match event {
            Event::Send {
                party,
                plaintext,
                outcome,
                ..
            } => match outcome {
                Ok(wire) => {
                    let m = sent;
                    sent += 1;
                    format!(
                        "{party} sends m{m} {} ({} bytes on the wire)",
                        text(plaintext),
                        wire.len()
                    )
                }
                Err(class) => format!("{party} cannot send: error {class}"),
            },
            Event::Deliver {
                party,
                message,
                outcome,
                alternatives,
                delivery,
                ..
            } => format!(
                "{party} ← m{message} {}: {}",
                delivery_word(*delivery),
                result(outcome, alternatives)
            ),
            Event::Capture {
                victim,
                name,
                restore,
                ..
            } => {
                if *restore {
                    format!("{victim} is saved and restored as {name}")
                } else {
                    format!("the attacker copies {victim}'s state as {name}")
                }
            }
        };
        let mark = if finding.divergence.step == Some(i) {
            "  ← diverges"
        } else {
            ""
        };
        let _ = writeln!(out, "  {i:>3}  {line}{mark}");
    }
    let d = &finding.divergence;
    match d.step {
        Some(step) => {
            let _ = writeln!(out, "step {step}: expected {}", d.expected);
        }
        None => {
            let _ = writeln!(out, "setup: expected {}", d.expected);
        }
    }
    let _ = writeln!(out, "  observed {}", d.actual);
    let _ = write!(out, "signature: {}", d.signature);
    out
}
