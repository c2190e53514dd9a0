//! What a run exercised, so a green exploration says how much it looked at:
//! actions by kind (as they took effect), tampered fields, outcomes by
//! class, the deepest conversation (DH ratchet keys drawn), the longest gap
//! one message skipped, evictions, and the limits and shapes drawn.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{Action, Event, Trace};

use super::Case;
use super::accepted::delivery_word;
use super::session::SessionCase;

/// Counts over the cases of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Effective actions by kind (`tamper(field)` by field).
    pub actions: BTreeMap<String, u64>,
    /// Delivery outcomes: `genuine → plaintext`, `tampered(tag) → error:authentication`, …
    pub outcomes: BTreeMap<String, u64>,
    /// Cases by shape.
    pub shapes: BTreeMap<String, u64>,
    /// Cases by suite.
    pub suites: BTreeMap<String, u64>,
    /// Cases by `MAX_SKIP`.
    pub max_skip: BTreeMap<u32, u64>,
    /// Cases by stored-key cap.
    pub max_stored: BTreeMap<u32, u64>,
    /// The most DH ratchet keys drawn in one case (both parties and their copies).
    pub deepest_ratchet: usize,
    /// The most message keys one decryption skipped.
    pub longest_gap: usize,
    /// Cases in which the stored-key cap evicted a key.
    pub evicting_cases: u64,
    /// The longest conversation, in steps.
    pub longest_case: usize,
    /// Cases of the other domains by domain and shape (`x3dh zero-signature`).
    pub key_agreement: BTreeMap<String, u64>,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K) {
    *map.entry(key).or_insert(0) += 1;
}

fn kind(action: &Action) -> String {
    match action {
        Action::Send { .. } => "send".into(),
        Action::Lose { .. } => "lose".into(),
        Action::Deliver { .. } => "deliver".into(),
        Action::Replay { .. } => "replay".into(),
        Action::Drop { .. } => "drop".into(),
        Action::Tamper { field, .. } => {
            delivery_word(crate::model::Delivery::Tampered(*field)).replace("tampered", "tamper")
        }
        Action::Capture { .. } => "capture".into(),
        Action::Eavesdrop { .. } => "eavesdrop".into(),
        Action::Restore { .. } => "restore".into(),
    }
}

impl Coverage {
    /// Counts a key-agreement case.
    pub fn add_key(&mut self, case: &Case) {
        let (domain, shape) = match case {
            Case::X3dh { shape, .. } => ("x3dh", *shape),
            Case::Accept { shape, .. } => ("accept", *shape),
            Case::Sealed { shape, .. } => ("sealed", *shape),
            Case::Session(_) => return,
        };
        bump(&mut self.key_agreement, format!("{domain} {shape}"));
        bump(&mut self.suites, case.suite().name().to_string());
    }

    /// Counts `case`, whose reference run is `trace`.
    pub fn add(&mut self, case: &SessionCase, trace: &Trace) {
        for action in &trace.effective_actions {
            bump(&mut self.actions, kind(action));
        }
        for event in &trace.events {
            if let Event::Deliver {
                outcome, delivery, ..
            } = event
            {
                let result = match outcome {
                    Ok(_) => "plaintext".to_string(),
                    Err(class) => format!("error:{class}"),
                };
                bump(
                    &mut self.outcomes,
                    format!("{} → {result}", delivery_word(*delivery)),
                );
            }
        }
        bump(&mut self.shapes, case.shape.to_string());
        bump(&mut self.suites, case.config.suite_name().to_string());
        bump(&mut self.max_skip, case.config.max_skip);
        bump(&mut self.max_stored, case.config.max_stored_skipped_keys);
        let drawn = trace.alice_keys.len()
            + trace.bob_keys.len()
            + trace.capture_keys.iter().map(Vec::len).sum::<usize>();
        self.deepest_ratchet = self.deepest_ratchet.max(drawn);
        self.longest_gap = self.longest_gap.max(trace.longest_gap);
        self.evicting_cases += u64::from(trace.evicted);
        self.longest_case = self.longest_case.max(trace.events.len());
    }
}

fn list<K: fmt::Display>(map: &BTreeMap<K, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  suites:    {}", list(&self.suites))?;
        if !self.key_agreement.is_empty() {
            let of = |domain: &str| {
                let (cases, shapes) = self
                    .key_agreement
                    .iter()
                    .filter(|(k, _)| k.split(' ').next() == Some(domain))
                    .fold((0, 0), |(c, s), (_, n)| (c + n, s + 1));
                format!("{domain} {cases} cases in {shapes} shapes")
            };
            writeln!(
                f,
                "  other domains: {}, {}, {}: {}",
                of("x3dh"),
                of("accept"),
                of("sealed"),
                list(&self.key_agreement)
            )?;
        }
        if self.shapes.is_empty() {
            return write!(f, "  conversations: none");
        }
        writeln!(f, "  actions:   {}", list(&self.actions))?;
        writeln!(f, "  outcomes:  {}", list(&self.outcomes))?;
        writeln!(f, "  shapes:    {}", list(&self.shapes))?;
        writeln!(
            f,
            "  limits:    MAX_SKIP {}; stored-key cap {}",
            list(&self.max_skip),
            list(&self.max_stored)
        )?;
        write!(
            f,
            "  deepest:   {} DH ratchet keys in one case, longest gap {} skipped keys, \
             {} cases evicted stored keys, longest case {} steps",
            self.deepest_ratchet, self.longest_gap, self.evicting_cases, self.longest_case
        )
    }
}
