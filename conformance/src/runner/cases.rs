//! One case of each handshake-level kind against an implementation: the
//! primitives (KDF_RK, KDF_CK, message keys, seal), X3DH from both sides,
//! and Bob's prekey store accepting initial messages. Scenarios, which play
//! a whole conversation, are in [`super::scenario`].

use super::*;

pub(super) fn run_primitive_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &PrimitiveCase,
    options: &RunOptions,
    alternatives: &mut Alternatives,
) -> Status {
    let got = run_primitive(imp, suite, &case.input);
    let expected = &case.expected;
    match judge(expected, &got, |want, got| want == got, options) {
        Some(Matched::Primary) => return Status::Passed,
        Some(Matched::Alternative) => {
            alternatives.push(0);
            return Status::Passed;
        }
        None => {}
    }
    let or = or_alternatives(expected);
    let want = match &expected.outcome {
        Outcome::Ok(want) => format!("{want:?}{or}"),
        Outcome::Error { error } => format!("error {error}{or}"),
    };
    match got {
        Ok(got) => failed(None, want, format!("success {got:?}")),
        Err(e) => failed(None, want, format!("error {e}")),
    }
}

pub(super) fn run_x3dh_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &X3dhCase,
    options: &RunOptions,
    alternatives: &mut Alternatives,
) -> Status {
    let mut outputs = Vec::new();
    if let Some(i) = &case.initiator {
        outputs.push(("initiator", imp.x3dh_initiate(&initiate_request(suite, i))));
    }
    if let Some(r) = &case.responder {
        outputs.push(("responder", imp.x3dh_respond(&respond_request(suite, r))));
    }
    // The case is refused if the side that sees the bad input refuses it:
    // the first refusal stands for the case, else every side's output does.
    let combined: Result<Vec<(&str, X3dhOutput)>, ImplError> =
        match outputs.iter().find_map(|(_, o)| o.as_ref().err()) {
            Some(e) => Err(e.clone()),
            None => Ok(outputs
                .into_iter()
                .filter_map(|(side, o)| o.ok().map(|o| (side, o)))
                .collect()),
        };
    let expected = &case.expected;
    let same = |want: &crate::vectors::X3dhExpected, got: &Vec<(&str, X3dhOutput)>| {
        got.iter().all(|(_, o)| {
            o.shared_key == want.shared_key.0 && o.associated_data == want.associated_data.0
        })
    };
    match judge(expected, &combined, same, options) {
        Some(Matched::Primary) => return Status::Passed,
        Some(Matched::Alternative) => {
            alternatives.push(0);
            return Status::Passed;
        }
        None => {}
    }
    let or = or_alternatives(expected);
    match (&expected.outcome, combined) {
        (Outcome::Ok(want), Ok(got)) => {
            let (side, o) = got
                .iter()
                .find(|(_, o)| {
                    o.shared_key != want.shared_key.0 || o.associated_data != want.associated_data.0
                })
                .or(got.first())
                .map_or(("?", None), |(side, o)| (*side, Some(o)));
            failed(
                None,
                format!(
                    "{side}: SK {} AD {}{or}",
                    hex(&want.shared_key.0),
                    hex(&want.associated_data.0)
                ),
                o.map_or_else(
                    || "no output".into(),
                    |o| format!("SK {} AD {}", hex(&o.shared_key), hex(&o.associated_data)),
                ),
            )
        }
        (Outcome::Ok(_), Err(e)) => failed(None, format!("agreement{or}"), format!("error {e}")),
        (Outcome::Error { error }, Err(e)) => {
            failed(None, format!("error {error}{or}"), format!("error {e}"))
        }
        (Outcome::Error { error }, Ok(_)) => failed(
            None,
            format!("error {error}{or}"),
            "the agreement succeeded",
        ),
    }
}

/// Bob's prekey store receives the case's initial messages in order; each
/// must give what the case states.
pub(super) fn run_accept_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &AcceptCase,
    options: &RunOptions,
    alternatives: &mut Alternatives,
) -> Status {
    let r = &case.responder;
    let prekeys = |list: &[crate::vectors::PrekeyEntry]| {
        list.iter()
            .map(|p| (p.id, p.private_key.0.clone()))
            .collect::<Vec<_>>()
    };
    let request = X3dhAccept {
        suite: suite.into(),
        identity_private_key: r.identity_private_key.0.clone(),
        signed_prekeys: prekeys(&r.signed_prekeys),
        one_time_prekeys: prekeys(&r.one_time_prekeys),
        ratchet_private_keys: r.ratchet_private_keys.iter().map(|k| k.0.clone()).collect(),
        initial_messages: case
            .initial_messages
            .iter()
            .map(|m| m.message.0.clone())
            .collect(),
    };
    let outcomes = imp.x3dh_accept(&request).map(|o| o.outcomes);
    judge_deliveries(&case.initial_messages, outcomes, options, alternatives)
}

/// Bob's PQXDH prekey store receives the case's initial messages in order.
pub(super) fn run_pqxdh_accept_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &PqxdhAcceptCase,
    options: &RunOptions,
    alternatives: &mut Alternatives,
) -> Status {
    let request = requests::pqxdh_accept_request(suite, case);
    let outcomes = imp.pqxdh_accept(&request).map(|o| o.outcomes);
    judge_deliveries(&case.initial_messages, outcomes, options, alternatives)
}

/// Each initial message's outcome against what the case states.
fn judge_deliveries(
    deliveries: &[crate::vectors::InitialDelivery],
    outcomes: Result<
        Vec<crate::implementation::ImplResult<crate::implementation::X3dhAccepted>>,
        ImplError,
    >,
    options: &RunOptions,
    alternatives: &mut Alternatives,
) -> Status {
    let outcomes = match outcomes {
        Ok(o) if o.len() == deliveries.len() => o,
        Ok(o) => {
            return failed(
                None,
                format!("{} outcomes", deliveries.len()),
                format!("{} outcomes", o.len()),
            );
        }
        Err(e) => return failed(None, "the prekey store is set up", format!("error {e}")),
    };
    for (index, (delivery, got)) in deliveries.iter().zip(outcomes).enumerate() {
        let step = Some(index);
        let expected = &delivery.expected;
        let same = |want: &crate::vectors::AcceptExpected,
                    got: &crate::implementation::X3dhAccepted| {
            got.plaintext == want.plaintext.0
                && got.associated_data == want.associated_data.0
                && got.peer_identity_key == want.peer_identity_key.0
        };
        match judge(expected, &got, same, options) {
            Some(Matched::Primary) => continue,
            Some(Matched::Alternative) => {
                alternatives.push(index);
                continue;
            }
            None => {}
        }
        let or = or_alternatives(expected);
        let want = match &expected.outcome {
            Outcome::Ok(want) => format!(
                "initial message {index} accepted: plaintext {} AD {} IKa {}{or}",
                hex(&want.plaintext.0),
                hex(&want.associated_data.0),
                hex(&want.peer_identity_key.0)
            ),
            Outcome::Error { error } => format!("initial message {index} refused ({error}){or}"),
        };
        let actual = match got {
            Ok(got) => format!(
                "accepted: plaintext {} AD {} IKa {}",
                hex(&got.plaintext),
                hex(&got.associated_data),
                hex(&got.peer_identity_key)
            ),
            Err(e) => format!("error {e}"),
        };
        return failed(step, want, actual);
    }
    Status::Passed
}

/// One PQXDH case: Alice's side, Bob's side, or both; Alice's ciphertext is
/// compared too where the case states it.
pub(super) fn run_pqxdh_case(
    imp: &mut dyn Implementation,
    suite: &str,
    case: &PqxdhCase,
    options: &RunOptions,
    alternatives: &mut Alternatives,
) -> Status {
    let mut outputs = Vec::new();
    if let Some(i) = &case.initiator {
        outputs.push((
            "initiator",
            imp.pqxdh_initiate(&pqxdh_initiate_request(suite, i)),
        ));
    }
    if let Some(r) = &case.responder {
        outputs.push((
            "responder",
            imp.pqxdh_respond(&pqxdh_respond_request(suite, r)),
        ));
    }
    let combined: Result<Vec<(&str, PqxdhOutput)>, ImplError> =
        match outputs.iter().find_map(|(_, o)| o.as_ref().err()) {
            Some(e) => Err(e.clone()),
            None => Ok(outputs
                .into_iter()
                .filter_map(|(side, o)| o.ok().map(|o| (side, o)))
                .collect()),
        };
    // The ciphertext is Alice's output only: Bob's side has none to compare.
    let agrees = |want: &crate::vectors::PqxdhExpected, side: &str, o: &PqxdhOutput| {
        o.shared_key == want.shared_key.0
            && o.associated_data == want.associated_data.0
            && (side != "initiator"
                || want
                    .kem_ciphertext
                    .as_ref()
                    .is_none_or(|ct| o.kem_ciphertext.as_deref() == Some(ct.0.as_slice())))
    };
    let same = |want: &crate::vectors::PqxdhExpected, got: &Vec<(&str, PqxdhOutput)>| {
        got.iter().all(|(side, o)| agrees(want, side, o))
    };
    let expected = &case.expected;
    match judge(expected, &combined, same, options) {
        Some(Matched::Primary) => return Status::Passed,
        Some(Matched::Alternative) => {
            alternatives.push(0);
            return Status::Passed;
        }
        None => {}
    }
    let or = or_alternatives(expected);
    let show = |sk: &[u8], ad: &[u8], ct: Option<&[u8]>| {
        let ct = ct.map_or_else(String::new, |ct| {
            let head = ct.get(..8).unwrap_or(ct);
            format!(" CT {}… ({} bytes)", hex(head), ct.len())
        });
        format!("SK {} AD {}{ct}", hex(sk), hex(ad))
    };
    match (&expected.outcome, combined) {
        (Outcome::Ok(want), Ok(got)) => {
            let (side, o) = got
                .iter()
                .find(|(side, o)| !agrees(want, side, o))
                .or(got.first())
                .map_or(("?", None), |(side, o)| (*side, Some(o)));
            failed(
                None,
                format!(
                    "{side}: {}{or}",
                    show(
                        &want.shared_key.0,
                        &want.associated_data.0,
                        want.kem_ciphertext.as_ref().map(|c| c.0.as_slice())
                    )
                ),
                o.map_or_else(
                    || "no output".into(),
                    |o| {
                        show(
                            &o.shared_key,
                            &o.associated_data,
                            o.kem_ciphertext.as_deref(),
                        )
                    },
                ),
            )
        }
        (Outcome::Ok(_), Err(e)) => failed(None, format!("agreement{or}"), format!("error {e}")),
        (Outcome::Error { error }, Err(e)) => {
            failed(None, format!("error {error}{or}"), format!("error {e}"))
        }
        (Outcome::Error { error }, Ok(_)) => failed(
            None,
            format!("error {error}{or}"),
            "the agreement succeeded",
        ),
    }
}
