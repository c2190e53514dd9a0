//! A session scenario against an implementation: every step of a scripted
//! conversation (sends, deliveries, captures, replays, tampered bytes) in
//! order, judged against the outcome and alternatives the vector allows.

use super::*;
use crate::implementation::{MessageType, PrekeyInitiate, PrekeyRespond};
use crate::vectors::Setup;

/// Runs one scenario.
pub fn run_scenario(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &ScenarioCase,
    options: &RunOptions,
) -> Status {
    run_scenario_noting_alternatives(imp, suite, case, options, &mut Vec::new())
}

pub(super) fn run_scenario_noting_alternatives(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &ScenarioCase,
    options: &RunOptions,
    alternatives: &mut Alternatives,
) -> Status {
    let mut parties = match start_sessions(imp, suite, case) {
        Ok(parties) => parties,
        Err(status) => return status,
    };
    // Messages carry their type only on suites built by a key agreement; the
    // Signal suites' requests stay exactly as they were.
    let typed = matches!(case.setup, Setup::KeyAgreement(_));
    let default_ad = match &case.setup {
        Setup::Ratchet(setup) => setup.associated_data.0.clone(),
        Setup::KeyAgreement(_) => Vec::new(),
    };
    let mut sent: Vec<(Vec<u8>, Option<MessageType>)> = Vec::new();
    for (index, step) in case.steps.iter().enumerate() {
        let step_no = Some(index);
        let party_name = step_party(step);
        let handle = parties.sessions.get(party_name).copied();
        // Bob without a session: only a delivery can give him one.
        let waiting = handle.is_none() && parties.waits(party_name);
        let handle = match handle {
            Some(h) => h,
            None if waiting && matches!(step, Step::Deliver { .. }) => SessionHandle(u64::MAX),
            None => {
                let message = if waiting {
                    format!(
                        "step {index}: bob has no session yet (only a pre-key message he accepts gives him one)"
                    )
                } else {
                    format!("step {index} names unknown party {party_name:?}")
                };
                return Status::Errored {
                    message,
                    stderr: None,
                };
            }
        };
        match step {
            Step::Send {
                party,
                plaintext,
                ad,
                expected,
            } => {
                let ad = ad.as_ref().map_or(&default_ad, |a| &a.0);
                let got = imp
                    .encrypt(&Encrypt {
                        session: handle,
                        plaintext: plaintext.0.clone(),
                        ad: ad.clone(),
                    })
                    .map(|o| (o.message, o.message_type));
                let same =
                    |want: &crate::vectors::SentMessage,
                     (wire, kind): &(Vec<u8>, Option<MessageType>)| {
                        *wire == want.message.0
                            && want
                                .message_type
                                .is_none_or(|t| *kind == Some(message_type(t)))
                    };
                match judge(expected, &got, same, options) {
                    Some(matched) => {
                        if matched == Matched::Alternative {
                            alternatives.push(index);
                        }
                        if let Ok((wire, kind)) = got {
                            sent.push((wire, kind));
                        }
                    }
                    None => {
                        let or = or_alternatives(expected);
                        let want = match &expected.outcome {
                            Outcome::Ok(want) => {
                                let kind = want
                                    .message_type
                                    .map(|t| format!(" as {}", message_type(t).as_str()))
                                    .unwrap_or_default();
                                format!("{party} sends {}{kind}{or}", hex(&want.message.0))
                            }
                            Outcome::Error { error } => {
                                format!("{party} cannot send ({error}){or}")
                            }
                        };
                        return failed(step_no, want, sent_or_error(&got, typed));
                    }
                }
            }
            Step::Deliver {
                party,
                message,
                bytes,
                ad,
                message_type: given,
                expected,
            } => {
                let (wire, kind) = match (message, bytes) {
                    (Some(i), None) => match sent.get(*i) {
                        Some((w, k)) => (w.clone(), given.map(message_type).or(*k)),
                        None => {
                            return Status::Errored {
                                message: format!(
                                    "step {index} delivers message {i}, which was not sent"
                                ),
                                stderr: None,
                            };
                        }
                    },
                    (None, Some(b)) => (b.0.clone(), given.map(message_type)),
                    _ => {
                        return Status::Errored {
                            message: format!(
                                "step {index} must name exactly one of message and bytes"
                            ),
                            stderr: None,
                        };
                    }
                };
                let ad = ad.as_ref().map_or(&default_ad, |a| &a.0);
                let what = match message {
                    Some(i) => format!("message {i}"),
                    None => format!("bytes {}", hex(&wire)),
                };
                let got = if waiting {
                    // Bob's session starts with the first pre-key message he accepts.
                    parties.respond(imp, party, &wire)
                } else {
                    imp.decrypt(&Decrypt {
                        session: handle,
                        message: wire.clone(),
                        ad: ad.clone(),
                        message_type: if typed { kind } else { None },
                    })
                    .map(|o| o.plaintext)
                };
                let same = |want: &crate::vectors::Plaintext, p: &Vec<u8>| *p == want.plaintext.0;
                match judge(expected, &got, same, options) {
                    Some(Matched::Primary) => {}
                    Some(Matched::Alternative) => alternatives.push(index),
                    None => {
                        let or = or_alternatives(expected);
                        let want = match &expected.outcome {
                            Outcome::Ok(want) => {
                                format!("{party} decrypts {what} to {}{or}", hex(&want.plaintext.0))
                            }
                            Outcome::Error { error } => {
                                format!("{party} refuses {what} ({error}){or}")
                            }
                        };
                        let actual = match got {
                            Ok(p) => format!("accepted, plaintext {}", hex(&p)),
                            Err(e) => format!("error {e}"),
                        };
                        return failed(step_no, want, actual);
                    }
                }
            }
            Step::Capture {
                party,
                name,
                ratchet_private_keys,
                erased_secrets,
            } => {
                if let Some(failure) = erasure::check(imp, handle, party, index, erased_secrets) {
                    return failure;
                }
                let copy = CloneSession {
                    session: handle,
                    ratchet_private_keys: ratchet_private_keys
                        .iter()
                        .map(|k| k.0.clone())
                        .collect(),
                };
                match imp.clone_session(&copy).map(|o| o.session) {
                    Ok(h) => {
                        parties.sessions.insert(name.clone(), h);
                    }
                    Err(e) => {
                        return failed(
                            step_no,
                            format!("capture {party} as {name}"),
                            format!("error {e}"),
                        );
                    }
                }
            }
        }
    }
    Status::Passed
}

/// What a send that should have been refused did, in the report's words
/// (`error CLASS: …` is what known-failures lists read the class from).
fn sent_or_error(got: &Result<(Vec<u8>, Option<MessageType>), ImplError>, typed: bool) -> String {
    match got {
        Ok((wire, Some(kind))) if typed => format!("sent {} as {}", hex(wire), kind.as_str()),
        Ok((wire, None)) if typed => format!("sent {} without a message type", hex(wire)),
        Ok((wire, _)) => format!("sent {}", hex(wire)),
        Err(e) => format!("error {e}"),
    }
}

/// The shim protocol's spelling of a vector's message type.
fn message_type(kind: crate::vectors::MessageType) -> MessageType {
    match kind {
        crate::vectors::MessageType::Prekey => MessageType::Prekey,
        crate::vectors::MessageType::Whisper => MessageType::Whisper,
    }
}

/// The sessions of a scenario's parties, and Bob's session builder while he
/// has none (key-agreement setups).
struct Parties {
    sessions: BTreeMap<String, SessionHandle>,
    /// Bob's `prekey_respond`, its message filled in at each delivery, until
    /// one is accepted.
    respond: Option<PrekeyRespond>,
}

impl Parties {
    /// Whether `party` is Bob waiting for the pre-key message that starts
    /// his session (the handle is then not used: the delivery responds).
    fn waits(&self, party: &str) -> bool {
        party == "bob" && self.respond.is_some()
    }

    /// Bob builds his session from `wire`; a refusal leaves him without one.
    fn respond(
        &mut self,
        imp: &mut dyn Implementation,
        party: &str,
        wire: &[u8],
    ) -> Result<Vec<u8>, ImplError> {
        let Some(template) = &self.respond else {
            return Err(ImplError::new(ErrorClass::State, "no session builder"));
        };
        let request = PrekeyRespond {
            message: wire.to_vec(),
            ..template.clone()
        };
        let out = imp.prekey_respond(&request)?;
        self.sessions.insert(party.into(), out.session);
        self.respond = None;
        Ok(out.plaintext)
    }
}

/// Starts the sessions a scenario begins with: both parties' from a shared
/// key, or Alice's from the key agreement (Bob's waits for her message).
fn start_sessions(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &ScenarioCase,
) -> Result<Parties, Status> {
    let keys = |list: &[crate::vectors::Hex]| list.iter().map(|k| k.0.clone()).collect::<Vec<_>>();
    let mut parties = Parties {
        sessions: BTreeMap::new(),
        respond: None,
    };
    match &case.setup {
        Setup::Ratchet(setup) => {
            for (name, role, ratchet_key, list) in [
                (
                    "alice",
                    Role::Alice,
                    &setup.bob_ratchet_public_key,
                    &setup.alice.ratchet_private_keys,
                ),
                (
                    "bob",
                    Role::Bob,
                    &setup.bob_ratchet_private_key,
                    &setup.bob.ratchet_private_keys,
                ),
            ] {
                let init = SessionInit {
                    suite: suite.into(),
                    role,
                    shared_key: setup.shared_key.0.clone(),
                    ratchet_key: ratchet_key.0.clone(),
                    ratchet_private_keys: keys(list),
                    max_skip: case.limits.map(|l| l.max_skip),
                    max_stored_skipped_keys: case.limits.map(|l| l.max_stored_skipped_keys),
                };
                match imp.init_session(&init).map(|o| o.session) {
                    Ok(h) => {
                        parties.sessions.insert(name.into(), h);
                    }
                    Err(e) => {
                        return Err(failed(
                            None,
                            format!("{name} session starts"),
                            format!("error {e}"),
                        ));
                    }
                }
            }
        }
        Setup::KeyAgreement(setup) => {
            let initiate = PrekeyInitiate {
                suite: suite.into(),
                identity_private_key: setup.alice_identity_private_key.0.clone(),
                registration_id: None,
                ephemeral_private_key: setup.alice_base_private_key.0.clone(),
                ratchet_private_keys: keys(&setup.alice.ratchet_private_keys),
                peer_identity_key: setup.bob_identity_public_key.0.clone(),
                peer_registration_id: None,
                peer_signed_prekey_id: None,
                peer_signed_prekey: None,
                peer_signed_prekey_signature: None,
                peer_one_time_prekey_id: None,
                peer_one_time_prekey: Some(setup.bob_one_time_public_key.0.clone()),
                ..PrekeyInitiate::default()
            };
            match imp.prekey_initiate(&initiate).map(|o| o.session) {
                Ok(h) => {
                    parties.sessions.insert("alice".into(), h);
                }
                Err(e) => {
                    return Err(failed(
                        None,
                        "alice's session starts (prekey_initiate)",
                        format!("error {e}"),
                    ));
                }
            }
            parties.respond = Some(PrekeyRespond {
                suite: suite.into(),
                identity_private_key: setup.bob_identity_private_key.0.clone(),
                registration_id: None,
                signed_prekey_id: None,
                signed_prekey_private_key: None,
                one_time_prekey_id: None,
                one_time_prekey_private_key: Some(setup.bob_one_time_private_key.0.clone()),
                ratchet_private_keys: keys(&setup.bob.ratchet_private_keys),
                message: Vec::new(),
                ..PrekeyRespond::default()
            });
        }
    }
    Ok(parties)
}

fn step_party(step: &Step) -> &str {
    match step {
        Step::Send { party, .. } | Step::Deliver { party, .. } | Step::Capture { party, .. } => {
            party
        }
    }
}
