//! Known, accepted deviations: what a peer does differently on purpose (or
//! has been reported and will not change), so exploration notes it and goes
//! on looking for something else.
//!
//! A deviation is named by its *signature*: the kind of step it happens at,
//! how the message came, what the reference did and what the implementation
//! did — not by a case, because exploration draws new cases every run. For
//! example
//!
//! ```text
//! deliver tampered(counter_max) expected=error:malformed got=error:too_many_skipped
//! send expected=sent got=other-bytes
//! x3dh zero-signature expected=error:authentication got=agreement
//! accept replay-without-one-time-prekey expected=error:duplicate got=plaintext
//! ```
//!
//! A list file holds one signature per line, optionally followed by `#` and
//! the reason; blank lines and lines starting with `#` are comments. The
//! explorer prints the signature of every finding, so a list is written by
//! copying lines from its output.

use crate::model::{Delivery, Event, Trace};
use crate::vectors::{ScenarioCase, Step};

/// Accepted deviations, each with its reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    entries: Vec<(String, String)>,
}

impl Accepted {
    /// Parses a list (see the module doc).
    pub fn parse(text: &str) -> Result<Accepted, String> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (signature, reason) = match line.split_once('#') {
                Some((s, r)) => (s.trim(), r.trim()),
                None => (line, ""),
            };
            let first = signature.split_whitespace().next().unwrap_or("");
            let step = ["send", "deliver", "capture", "restore", "setup"].contains(&first);
            let domain =
                super::Domain::from_name(first).is_some_and(|d| d != super::Domain::Session);
            if !step && !domain {
                return Err(format!(
                    "line {}: {signature:?} is not a signature (it starts with send, deliver, capture, restore, setup, x3dh, accept or sealed)",
                    n + 1
                ));
            }
            entries.push((normalize(signature), reason.to_string()));
        }
        Ok(Accepted { entries })
    }

    /// The reason `signature` is accepted, if it is.
    pub fn reason(&self, signature: &str) -> Option<&str> {
        let signature = normalize(signature);
        self.entries
            .iter()
            .find(|(s, _)| *s == signature)
            .map(|(_, r)| r.as_str())
    }

    /// How many deviations are listed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn normalize(signature: &str) -> String {
    signature.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a delivery came, in signature words.
pub(super) fn delivery_word(delivery: Delivery) -> String {
    match delivery {
        Delivery::Genuine => "genuine".into(),
        Delivery::Replay => "replay".into(),
        Delivery::Eavesdrop => "eavesdrop".into(),
        Delivery::Tampered(field) => {
            let name = serde_json::to_value(field)
                .ok()
                .and_then(|v| v.get("field").and_then(|f| f.as_str().map(String::from)))
                .unwrap_or_else(|| "unknown".into());
            format!("tampered({name})")
        }
    }
}

/// The signature of a divergence at `step` of `scenario` (the reference's
/// run `trace`), where the implementation did `actual` (the runner's words).
pub(super) fn signature(
    scenario: &ScenarioCase,
    trace: &Trace,
    step: Option<usize>,
    actual: &str,
) -> String {
    let Some(index) = step else {
        return format!("setup got={}", got_word(actual, "copied"));
    };
    let expected = scenario
        .steps
        .get(index)
        .map_or_else(|| "unknown".into(), super::step_expected);
    let what = match (scenario.steps.get(index), trace.events.get(index)) {
        (Some(Step::Send { .. }), _) => "send".to_string(),
        (Some(Step::Deliver { .. }), Some(Event::Deliver { delivery, .. })) => {
            format!("deliver {}", delivery_word(*delivery))
        }
        (Some(Step::Capture { .. }), Some(Event::Capture { restore: true, .. })) => {
            "restore".into()
        }
        (Some(Step::Capture { .. }), _) => "capture".into(),
        _ => "deliver".into(),
    };
    let got = got_word(actual, &expected);
    format!("{what} expected={expected} got={got}")
}

/// What the implementation did, from the runner's description of it:
/// `error:CLASS`, `sent` / `other-bytes`, `plaintext` / `other-plaintext`,
/// `copied`.
pub(super) fn got_word(actual: &str, expected: &str) -> String {
    if let Some(rest) = actual.strip_prefix("error ") {
        let class = rest.split(':').next().unwrap_or(rest).trim();
        return format!("error:{class}");
    }
    if actual.starts_with("sent") {
        return if expected == "sent" {
            "other-bytes".into()
        } else {
            "sent".into()
        };
    }
    if actual.starts_with("found it") {
        return "secret-retained".into();
    }
    if actual.starts_with("accepted") {
        return if expected == "plaintext" {
            "other-plaintext".into()
        } else {
            "plaintext".into()
        };
    }
    "other".into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_list_parses_with_reasons_and_comments() {
        let list = Accepted::parse(
            "# peer X\n\ndeliver  tampered(counter_max) expected=error:malformed   got=error:too_many_skipped # by design\nsend expected=sent got=other-bytes\n",
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            list.reason(
                "deliver tampered(counter_max) expected=error:malformed got=error:too_many_skipped"
            ),
            Some("by design")
        );
        assert_eq!(list.reason("send expected=sent got=other-bytes"), Some(""));
        assert_eq!(list.reason("send expected=sent got=error:state"), None);
    }

    #[test]
    fn every_domain_s_signatures_parse() {
        for d in super::super::Domain::ALL {
            let line = format!("{} some-shape expected=plaintext got=error:state", d.name());
            let parsed = Accepted::parse(&line);
            // Conversations are signed by their step, not their domain.
            assert_eq!(parsed.is_ok(), d != super::super::Domain::Session, "{line}");
        }
    }

    #[test]
    fn a_line_that_is_no_signature_is_refused() {
        let err = Accepted::parse("SUITE/file.json 12\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn what_the_implementation_did_in_words() {
        assert_eq!(
            got_word("error authentication: bad tag", "plaintext"),
            "error:authentication"
        );
        assert_eq!(got_word("sent 0a0b", "sent"), "other-bytes");
        assert_eq!(got_word("sent 0a0b", "error:state"), "sent");
        assert_eq!(
            got_word("accepted, plaintext 00", "plaintext"),
            "other-plaintext"
        );
        assert_eq!(
            got_word("accepted, plaintext 00", "error:duplicate"),
            "plaintext"
        );
    }
}
