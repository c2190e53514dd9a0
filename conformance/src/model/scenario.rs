//! Turning a run into a session-scenario vector, so that a counterexample a
//! property test or a fuzzer found becomes a permanent regression case for
//! every implementation, in the same format as `vectors/`.
//!
//! The expected outcomes are the reference's, recorded while the model
//! checks it: a run on which the reference itself breaks an invariant is
//! refused rather than written down as truth.

use crate::implementation::{ErrorClass, MessageType};
use ratchetproof_protocol::{KeyPair, PrivateKey};

use super::action::Action;
use super::checker::check;
use super::config::ModelConfig;
use super::trace::{Event, Outcome, Trace, Violation};
use crate::reference::Reference;
use crate::vectors::{
    CaseInfo, Expected, Hex, KeyAgreementSetup, Limits, MessageType as WireType,
    Outcome as VectorOutcome, PartyKeys, Plaintext, ScenarioCase, ScenarioSetup, SentMessage,
    Setup, Step, Verdict,
};

/// Runs `actions` on the reference under `config` and writes the run as a
/// scenario case with the caller's `tc_id`, `comment` and `flags`. Fails if
/// the reference breaks an invariant on this run.
pub fn to_scenario(
    config: &ModelConfig,
    actions: &[Action],
    tc_id: u32,
    comment: &str,
    flags: &[String],
) -> Result<ScenarioCase, Violation> {
    let trace = check(&mut Reference::new(), config, actions)?;
    Ok(trace.to_scenario(tc_id, comment, flags))
}

impl Trace {
    /// This run as a scenario case. The verdict is `valid` when every step
    /// succeeded and `invalid` otherwise; `limits` are stated only when a
    /// step depended on them (a `too_many_skipped` rejection), so other cases
    /// hold for any `MAX_SKIP`.
    pub fn to_scenario(&self, tc_id: u32, comment: &str, flags: &[String]) -> ScenarioCase {
        let outcomes = || {
            self.events.iter().filter_map(|e| match e {
                Event::Send { outcome, .. } | Event::Deliver { outcome, .. } => Some(outcome),
                Event::Capture { .. } => None,
            })
        };
        let either = self.events.iter().any(|e| {
            matches!(
                e,
                Event::Deliver {
                    or_plaintext: true,
                    ..
                }
            )
        });
        let result = if either {
            Verdict::Acceptable
        } else if outcomes().all(Result::is_ok) {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        let depends_on_limits =
            self.evicted || outcomes().any(|o| *o == Err(ErrorClass::TooManySkipped));
        let steps = self.events.iter().map(|event| self.step(event)).collect();
        let setup = match &self.key_agreement {
            Some(agreement) => Setup::KeyAgreement(KeyAgreementSetup {
                alice: party_keys(&self.alice_keys),
                bob: party_keys(&self.bob_keys),
                ..agreement.clone()
            }),
            None => {
                let bob_public =
                    KeyPair::from_private(PrivateKey::from_bytes(self.bob_ratchet_private_key))
                        .public_key()
                        .as_bytes()
                        .to_vec();
                Setup::Ratchet(ScenarioSetup {
                    shared_key: Hex::from(self.shared_key),
                    associated_data: Hex::from(self.associated_data.as_slice()),
                    bob_ratchet_private_key: Hex::from(self.bob_ratchet_private_key),
                    bob_ratchet_public_key: Hex(bob_public),
                    alice: party_keys(&self.alice_keys),
                    bob: party_keys(&self.bob_keys),
                })
            }
        };
        ScenarioCase {
            info: CaseInfo {
                tc_id,
                comment: comment.to_string(),
                flags: flags.to_vec(),
                result,
            },
            limits: depends_on_limits.then_some(Limits {
                max_skip: self.config.max_skip,
                max_stored_skipped_keys: self.config.max_stored_skipped_keys,
            }),
            setup,
            steps,
        }
    }

    fn step(&self, event: &Event) -> Step {
        match event {
            Event::Send {
                party,
                plaintext,
                outcome,
                message_type,
            } => Step::Send {
                party: party.clone(),
                plaintext: Hex::from(plaintext.as_slice()),
                ad: None,
                expected: expected(outcome, |m| SentMessage {
                    message: Hex(m),
                    message_type: message_type.map(wire_type),
                })
                .into(),
            },
            Event::Deliver {
                party,
                message,
                bytes,
                ad,
                outcome,
                alternatives,
                or_plaintext,
                message_type,
                ..
            } => {
                let mut expected = alternatives.iter().fold(
                    Expected::from(expected(outcome, |p| Plaintext { plaintext: Hex(p) })),
                    |e, class| e.or_error(*class),
                );
                if *or_plaintext && let Some(sent) = self.plaintext_of(*message) {
                    expected = expected.or(VectorOutcome::Ok(Plaintext {
                        plaintext: Hex(sent),
                    }));
                }
                Step::Deliver {
                    party: party.clone(),
                    message: bytes.is_none().then_some(*message),
                    bytes: bytes.clone().map(Hex),
                    ad: ad.clone().map(Hex),
                    message_type: message_type.map(wire_type),
                    expected,
                }
            }
            Event::Capture {
                victim,
                name,
                capture,
                ..
            } => Step::Capture {
                party: victim.clone(),
                name: name.clone(),
                ratchet_private_keys: self
                    .capture_keys
                    .get(*capture)
                    .map(|keys| keys.iter().map(|k| Hex::from(*k)).collect())
                    .unwrap_or_default(),
                erased_secrets: Vec::new(),
            },
        }
    }
}

impl Trace {
    /// The plaintext of the `index`-th successful send.
    fn plaintext_of(&self, index: usize) -> Option<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Send {
                    plaintext,
                    outcome: Ok(_),
                    ..
                } => Some(plaintext.clone()),
                _ => None,
            })
            .nth(index)
    }
}

fn wire_type(kind: MessageType) -> WireType {
    match kind {
        MessageType::Prekey => WireType::Prekey,
        MessageType::Whisper => WireType::Whisper,
    }
}

fn party_keys(keys: &[[u8; 32]]) -> PartyKeys {
    PartyKeys {
        ratchet_private_keys: keys.iter().map(|k| Hex::from(*k)).collect(),
    }
}

fn expected<T>(outcome: &Outcome, ok: impl FnOnce(Vec<u8>) -> T) -> VectorOutcome<T> {
    match outcome {
        Ok(bytes) => VectorOutcome::Ok(ok(bytes.clone())),
        Err(class) => VectorOutcome::Error { error: *class },
    }
}
