//! Shrinking a divergence to a minimal conversation: delta debugging over
//! the actions (remove halves, quarters, … single actions while the case
//! still diverges), then simpler values (picks towards 0, tampered bytes and
//! bits towards 0), repeated until neither makes progress or the budget of
//! plays is spent.
//!
//! "Still diverges" means any divergence that is not an accepted one, on
//! the same implementation; every candidate is first replaced by the actions
//! that took effect in the reference's run (picks reduced, no-ops dropped),
//! so the result is a conversation in which every action does something.

use crate::implementation::{Capabilities, Implementation};
use crate::model::{Action, Tamper};

use super::session::SessionCase;
use super::{Finding, Found, Options, Played, Verdict, finding_file, play};
use crate::vectors::SCENARIO_SCHEMA;

/// Simpler versions of `action`, simplest first.
fn simpler(action: Action) -> Vec<Action> {
    let picks = |p: u8| -> Vec<u8> {
        match p {
            0 => vec![],
            1 => vec![0],
            p => vec![0, p / 2, p - 1],
        }
    };
    match action {
        // Fewer lost messages, down to none (where the bound under test
        // lies is the shrinker's to find, one halving at a time).
        Action::Lose { from, count } => match count {
            0 => vec![],
            1 => vec![Action::Lose { from, count: 0 }],
            c => vec![
                Action::Lose { from, count: c / 2 },
                Action::Lose { from, count: c - 1 },
            ],
        },
        Action::Deliver { pick } => picks(pick)
            .into_iter()
            .map(|pick| Action::Deliver { pick })
            .collect(),
        Action::Replay { pick } => picks(pick)
            .into_iter()
            .map(|pick| Action::Replay { pick })
            .collect(),
        Action::Drop { pick } => picks(pick)
            .into_iter()
            .map(|pick| Action::Drop { pick })
            .collect(),
        Action::Eavesdrop { capture, pick } => picks(pick)
            .into_iter()
            .map(|pick| Action::Eavesdrop { capture, pick })
            .chain(
                picks(capture)
                    .into_iter()
                    .map(|capture| Action::Eavesdrop { capture, pick }),
            )
            .collect(),
        Action::Tamper { pick, field } => {
            let fields = match field {
                Tamper::Ciphertext { byte } => picks(byte)
                    .into_iter()
                    .map(|byte| Tamper::Ciphertext { byte })
                    .collect(),
                Tamper::Tag { byte } => picks(byte)
                    .into_iter()
                    .map(|byte| Tamper::Tag { byte })
                    .collect(),
                Tamper::AssociatedData { byte } => picks(byte)
                    .into_iter()
                    .map(|byte| Tamper::AssociatedData { byte })
                    .collect(),
                Tamper::RatchetKey { byte } => picks(byte)
                    .into_iter()
                    .map(|byte| Tamper::RatchetKey { byte })
                    .collect(),
                Tamper::Counter { bit } => picks(bit)
                    .into_iter()
                    .map(|bit| Tamper::Counter { bit })
                    .collect(),
                Tamper::PreviousCounter { bit } => picks(bit)
                    .into_iter()
                    .map(|bit| Tamper::PreviousCounter { bit })
                    .collect(),
                Tamper::Version { value } => picks(value)
                    .into_iter()
                    .map(|value| Tamper::Version { value })
                    .collect(),
                Tamper::Truncate { keep } => picks(keep)
                    .into_iter()
                    .map(|keep| Tamper::Truncate { keep })
                    .collect(),
                Tamper::CounterMax => Vec::new(),
            };
            picks(pick)
                .into_iter()
                .map(|pick| Action::Tamper { pick, field })
                .chain(
                    fields
                        .into_iter()
                        .map(|field| Action::Tamper { pick, field }),
                )
                .collect()
        }
        Action::Send { .. } | Action::Capture { .. } | Action::Restore { .. } => Vec::new(),
    }
}

struct Shrinker<'a> {
    imp: &'a mut dyn Implementation,
    caps: &'a Capabilities,
    options: &'a Options,
    plays: usize,
}

impl Shrinker<'_> {
    /// `case` played, if it still diverges (not as an accepted deviation).
    fn diverges(&mut self, case: &SessionCase) -> Option<Played> {
        self.plays += 1;
        let played = play(self.imp, self.caps, case, self.options.strict, "");
        match &played.verdict {
            Verdict::Diverges(d) if self.options.accepted.reason(&d.signature).is_none() => {
                Some(played)
            }
            _ => None,
        }
    }

    fn spent(&self) -> bool {
        self.plays >= self.options.shrink_budget
    }
}

/// `case` with the actions that took effect in `played`.
fn effective(case: &SessionCase, played: &Played) -> SessionCase {
    SessionCase {
        actions: played
            .trace
            .as_ref()
            .map_or_else(|| case.actions.clone(), |t| t.effective_actions.clone()),
        ..case.clone()
    }
}

/// Shrinks case `index` (`case`), which diverged. `Err` when it does not
/// diverge again: the implementation is not deterministic under injected
/// keys, or it depends on earlier cases.
pub(super) fn shrink(
    imp: &mut dyn Implementation,
    caps: &Capabilities,
    options: &Options,
    index: u64,
    case: SessionCase,
) -> Result<Finding, String> {
    let mut s = Shrinker {
        imp,
        caps,
        options,
        plays: 0,
    };
    let Some(first) = s.diverges(&case) else {
        return Err(format!(
            "case {index} diverged, but not when played again alone: the implementation's \
             answers depend on more than the case (randomness it does not take from the \
             injected keys, or state left by earlier cases)"
        ));
    };
    let mut best = effective(&case, &first);
    let mut best_played = first;
    let mut progress = true;
    while progress && !s.spent() {
        progress = false;
        let mut size = (best.actions.len() / 2).max(1);
        loop {
            let mut at = 0;
            while at < best.actions.len() && !s.spent() {
                let mut candidate = best.clone();
                let end = (at + size).min(candidate.actions.len());
                candidate.actions.drain(at..end);
                match s.diverges(&candidate) {
                    Some(played) => {
                        best = effective(&candidate, &played);
                        best_played = played;
                        progress = true;
                    }
                    None => at += size,
                }
            }
            if size == 1 || s.spent() {
                break;
            }
            size /= 2;
        }
        for at in 0..best.actions.len() {
            let Some(action) = best.actions.get(at).copied() else {
                break;
            };
            for simpler in simpler(action) {
                if s.spent() {
                    break;
                }
                let mut candidate = best.clone();
                if let Some(slot) = candidate.actions.get_mut(at) {
                    *slot = simpler;
                }
                if let Some(played) = s.diverges(&candidate) {
                    best = effective(&candidate, &played);
                    best_played = played;
                    progress = true;
                    break;
                }
            }
        }
    }
    let (Some(trace), Verdict::Diverges(divergence)) = (best_played.trace, best_played.verdict)
    else {
        return Err(format!("case {index}: the shrunk case lost its run"));
    };
    let comment = format!(
        "explore --seed {} case {index} ({} shape, {} actions shrunk to {}): {}",
        options.seed,
        best.shape,
        case.actions.len(),
        best.actions.len(),
        divergence.signature
    );
    let scenario = super::scenario_of(&trace, &best, &comment)?;
    let file = finding_file(
        SCENARIO_SCHEMA,
        best.config.suite_name(),
        &scenario.info.flags.clone(),
        scenario,
    );
    Ok(Finding {
        seed: options.seed,
        index,
        divergence,
        shrink_plays: s.plays,
        found: Found::Session {
            original: case,
            minimal: best,
            trace,
            file,
        },
    })
}
