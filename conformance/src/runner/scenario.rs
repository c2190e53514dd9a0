//! A session scenario against an implementation: every step of a scripted
//! conversation (sends, deliveries, captures, replays, tampered bytes) in
//! order, judged against the outcome and alternatives the vector allows.

use super::*;

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
    let setup = &case.setup;
    let keys = |list: &[crate::vectors::Hex]| list.iter().map(|k| k.0.clone()).collect::<Vec<_>>();
    let mut parties: BTreeMap<String, SessionHandle> = BTreeMap::new();
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
                parties.insert(name.into(), h);
            }
            Err(e) => return failed(None, format!("{name} session starts"), format!("error {e}")),
        }
    }
    let mut sent: Vec<Vec<u8>> = Vec::new();
    for (index, step) in case.steps.iter().enumerate() {
        let step_no = Some(index);
        let Some(&handle) = parties.get(step_party(step)) else {
            return Status::Errored {
                message: format!("step {index} names unknown party {:?}", step_party(step)),
                stderr: None,
            };
        };
        match step {
            Step::Send {
                party,
                plaintext,
                ad,
                expected,
            } => {
                let ad = ad.as_ref().unwrap_or(&setup.associated_data);
                let got = imp
                    .encrypt(&Encrypt {
                        session: handle,
                        plaintext: plaintext.0.clone(),
                        ad: ad.0.clone(),
                    })
                    .map(|o| o.message);
                let same =
                    |want: &crate::vectors::SentMessage, wire: &Vec<u8>| *wire == want.message.0;
                match judge(expected, &got, same, options) {
                    Some(matched) => {
                        if matched == Matched::Alternative {
                            alternatives.push(index);
                        }
                        if let Ok(wire) = got {
                            sent.push(wire);
                        }
                    }
                    None => {
                        let or = or_alternatives(expected);
                        let want = match &expected.outcome {
                            Outcome::Ok(want) => {
                                format!("{party} sends {}{or}", hex(&want.message.0))
                            }
                            Outcome::Error { error } => {
                                format!("{party} cannot send ({error}){or}")
                            }
                        };
                        return failed(step_no, want, sent_or_error(&got));
                    }
                }
            }
            Step::Deliver {
                party,
                message,
                bytes,
                ad,
                expected,
            } => {
                let wire = match (message, bytes) {
                    (Some(i), None) => match sent.get(*i) {
                        Some(w) => w.clone(),
                        None => {
                            return Status::Errored {
                                message: format!(
                                    "step {index} delivers message {i}, which was not sent"
                                ),
                                stderr: None,
                            };
                        }
                    },
                    (None, Some(b)) => b.0.clone(),
                    _ => {
                        return Status::Errored {
                            message: format!(
                                "step {index} must name exactly one of message and bytes"
                            ),
                            stderr: None,
                        };
                    }
                };
                let ad = ad.as_ref().unwrap_or(&setup.associated_data);
                let what = match message {
                    Some(i) => format!("message {i}"),
                    None => format!("bytes {}", hex(&wire)),
                };
                let got = imp
                    .decrypt(&Decrypt {
                        session: handle,
                        message: wire.clone(),
                        ad: ad.0.clone(),
                        message_type: None,
                    })
                    .map(|o| o.plaintext);
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
                    ratchet_private_keys: keys(ratchet_private_keys),
                };
                match imp.clone_session(&copy).map(|o| o.session) {
                    Ok(h) => {
                        parties.insert(name.clone(), h);
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
fn sent_or_error(got: &Result<Vec<u8>, ImplError>) -> String {
    match got {
        Ok(wire) => format!("sent {}", hex(wire)),
        Err(e) => format!("error {e}"),
    }
}

fn step_party(step: &Step) -> &str {
    match step {
        Step::Send { party, .. } | Step::Deliver { party, .. } | Step::Capture { party, .. } => {
            party
        }
    }
}
