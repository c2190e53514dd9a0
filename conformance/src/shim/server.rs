//! The shim side of the protocol for Rust: serves any [`Implementation`] over
//! stdin/stdout. The reference shim is this loop around [`crate::Reference`];
//! a Rust implementation that cannot be linked into the runner (another
//! toolchain, a C library behind FFI, a sandbox) can use it the same way.

use std::io::{BufRead, Write};

use crate::implementation::ErrorClass;
use serde::Serialize;
use serde_json::{Value, json};

use super::protocol::{
    AcceptOutcome, ChainResult, ErrorBody, Handshake, KeysResult, MessageResult, PlaintextResult,
    PrekeyEntry, PrekeyRespondResult, Request, RequestLine, ResponseLine, RootResult,
    SessionResult, StateResult, X3dhAcceptResult, X3dhResult,
};
use crate::implementation::{
    ImplError, ImplResult, Implementation, Role, SessionHandle, SessionInit, X3dhAccept,
    X3dhInitiate, X3dhRespond,
};
use crate::interop::{MessageType, Peer, PrekeyInitiate, PrekeyRespond};
use crate::vectors::Hex;

/// Reads requests from `input` until it closes and writes one response line
/// per request to `output`, flushing after each.
pub fn serve(
    imp: &mut dyn Implementation,
    input: impl BufRead,
    output: impl Write,
) -> std::io::Result<()> {
    serve_with_prekeys(imp, None, input, output)
}

/// Session handles of prekey sessions start here, so they never meet the
/// implementation's own handles.
const PREKEY_HANDLES: u64 = 1 << 40;

/// As [`serve`], also answering the `prekey` operation group
/// (docs/SHIM.md §4.4) with `peer` when one is given.
pub fn serve_with_prekeys(
    imp: &mut dyn Implementation,
    mut peer: Option<&mut dyn Peer>,
    input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = respond_with_prekeys(imp, peer.as_deref_mut(), &line);
        output.write_all(response.as_bytes())?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

/// The response line (without its newline) to one request line.
pub fn respond(imp: &mut dyn Implementation, line: &str) -> String {
    respond_with_prekeys(imp, None, line)
}

/// As [`respond`], with the `prekey` group served by `peer`.
pub fn respond_with_prekeys<'p>(
    imp: &mut dyn Implementation,
    peer: Option<&mut (dyn Peer + 'p)>,
    line: &str,
) -> String {
    let response = match serde_json::from_str::<RequestLine>(line) {
        Ok(RequestLine { id, request }) => match dispatch_prekeys(imp, peer, request) {
            Ok(result) => ResponseLine {
                id,
                result: Some(result),
                error: None,
            },
            Err(e) => error_line(id, &e),
        },
        // Keep the id if there is one, so the runner sees which request failed.
        Err(e) => {
            let id = serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| v.get("id").and_then(Value::as_u64))
                .unwrap_or(0);
            error_line(
                id,
                &ImplError::unsupported(format!("request not understood: {e}")),
            )
        }
    };
    serde_json::to_string(&response).unwrap_or_else(|e| {
        format!(
            r#"{{"id":0,"error":{{"class":"state","message":"cannot encode the response: {e}"}}}}"#
        )
    })
}

fn error_line(id: u64, e: &ImplError) -> ResponseLine {
    ResponseLine {
        id,
        result: None,
        error: Some(ErrorBody {
            class: e.class.as_str().into(),
            message: e.message.clone(),
        }),
    }
}

fn value(result: impl Serialize) -> ImplResult<Value> {
    serde_json::to_value(result)
        .map_err(|e| ImplError::new(ErrorClass::State, format!("cannot encode the result: {e}")))
}

fn bytes(list: Vec<Hex>) -> Vec<Vec<u8>> {
    list.into_iter().map(|h| h.0).collect()
}

/// The `prekey` group and the encrypt/decrypt of its sessions go to `peer`;
/// everything else to [`dispatch`].
fn dispatch_prekeys<'p>(
    imp: &mut dyn Implementation,
    peer: Option<&mut (dyn Peer + 'p)>,
    request: Request,
) -> ImplResult<Value> {
    let Some(peer) = peer else {
        return dispatch(imp, request);
    };
    let prekey_handle = |session: u64| session.checked_sub(PREKEY_HANDLES).map(SessionHandle);
    match request {
        Request::Handshake { .. } => {
            let mut handshake = dispatch(imp, request)?;
            if let Some(ops) = handshake
                .get_mut("operations")
                .and_then(Value::as_array_mut)
            {
                ops.push("prekey".into());
            }
            Ok(handshake)
        }
        Request::PrekeyInitiate {
            suite,
            identity_private_key,
            registration_id,
            ephemeral_private_key,
            ratchet_private_keys,
            peer_identity_key,
            peer_registration_id,
            peer_signed_prekey_id,
            peer_signed_prekey,
            peer_signed_prekey_signature,
            peer_one_time_prekey_id,
            peer_one_time_prekey,
        } => {
            let one_time = match (peer_one_time_prekey_id, peer_one_time_prekey) {
                (Some(id), Some(key)) => Some((id, key.0)),
                (None, None) => None,
                _ => {
                    return Err(ImplError::new(
                        ErrorClass::Malformed,
                        "peerOneTimePrekeyId and peerOneTimePrekey come together",
                    ));
                }
            };
            let handle = peer.prekey_initiate(&PrekeyInitiate {
                suite,
                identity_private_key: identity_private_key.0,
                registration_id,
                ephemeral_private_key: ephemeral_private_key.0,
                ratchet_private_keys: bytes(ratchet_private_keys),
                peer_identity_key: peer_identity_key.0,
                peer_registration_id,
                peer_signed_prekey_id,
                peer_signed_prekey: peer_signed_prekey.0,
                peer_signed_prekey_signature: peer_signed_prekey_signature.0,
                peer_one_time_prekey: one_time,
            })?;
            value(SessionResult {
                session: handle.0 + PREKEY_HANDLES,
            })
        }
        Request::PrekeyRespond {
            suite,
            identity_private_key,
            registration_id,
            signed_prekey_id,
            signed_prekey_private_key,
            one_time_prekey_id,
            one_time_prekey_private_key,
            ratchet_private_keys,
            message,
        } => {
            let one_time = match (one_time_prekey_id, one_time_prekey_private_key) {
                (Some(id), Some(key)) => Some((id, key.0)),
                (None, None) => None,
                _ => {
                    return Err(ImplError::new(
                        ErrorClass::Malformed,
                        "oneTimePrekeyId and oneTimePrekeyPrivateKey come together",
                    ));
                }
            };
            let (handle, plaintext) = peer.prekey_respond(&PrekeyRespond {
                suite,
                identity_private_key: identity_private_key.0,
                registration_id,
                signed_prekey_id,
                signed_prekey_private_key: signed_prekey_private_key.0,
                one_time_prekey: one_time,
                ratchet_private_keys: bytes(ratchet_private_keys),
                message: message.0,
            })?;
            value(PrekeyRespondResult {
                session: handle.0 + PREKEY_HANDLES,
                plaintext: plaintext.into(),
            })
        }
        Request::Encrypt {
            session,
            plaintext,
            ad,
        } if session >= PREKEY_HANDLES => {
            let handle = prekey_handle(session).unwrap_or(SessionHandle(0));
            let (message, kind) = peer.send(handle, &plaintext.0, &ad.0)?;
            value(MessageResult {
                message: message.into(),
                message_type: Some(kind.as_str().into()),
            })
        }
        Request::Decrypt {
            session,
            message,
            ad,
            message_type,
        } if session >= PREKEY_HANDLES => {
            let handle = prekey_handle(session).unwrap_or(SessionHandle(0));
            let kind = match message_type.as_deref() {
                None | Some("whisper") => MessageType::Whisper,
                Some("prekey") => MessageType::Prekey,
                Some(other) => {
                    return Err(ImplError::new(
                        ErrorClass::Malformed,
                        format!("unknown messageType {other:?}"),
                    ));
                }
            };
            value(PlaintextResult {
                plaintext: peer.receive(handle, &message.0, kind, &ad.0)?.into(),
            })
        }
        other => dispatch(imp, other),
    }
}

fn dispatch(imp: &mut dyn Implementation, request: Request) -> ImplResult<Value> {
    match request {
        Request::Handshake { .. } => value(Handshake::from_capabilities(&imp.capabilities())),
        Request::KdfRk {
            suite,
            root_key,
            dh_output,
        } => {
            let (rk, ck) = imp.kdf_rk(&suite, &root_key.0, &dh_output.0)?;
            value(RootResult {
                root_key: rk.into(),
                chain_key: ck.into(),
            })
        }
        Request::KdfCk { suite, chain_key } => {
            let (ck, mk) = imp.kdf_ck(&suite, &chain_key.0)?;
            value(ChainResult {
                chain_key: ck.into(),
                message_key: mk.into(),
            })
        }
        Request::MessageKeys { suite, message_key } => value(KeysResult {
            keys: imp.message_keys(&suite, &message_key.0)?.into(),
        }),
        Request::Seal {
            suite,
            message_key,
            ratchet_key,
            pn,
            n,
            plaintext,
            ad,
        } => value(MessageResult {
            message: imp
                .seal(
                    &suite,
                    &message_key.0,
                    &ratchet_key.0,
                    pn,
                    n,
                    &plaintext.0,
                    &ad.0,
                )?
                .into(),
            message_type: None,
        }),
        Request::X3dhInitiate {
            suite,
            identity_private_key,
            ephemeral_private_key,
            peer_identity_key,
            peer_signed_prekey,
            peer_signed_prekey_signature,
            peer_one_time_prekey,
        } => {
            let out = imp.x3dh_initiate(&X3dhInitiate {
                suite,
                identity_private_key: identity_private_key.0,
                ephemeral_private_key: ephemeral_private_key.0,
                peer_identity_key: peer_identity_key.0,
                peer_signed_prekey: peer_signed_prekey.0,
                peer_signed_prekey_signature: peer_signed_prekey_signature.0,
                peer_one_time_prekey: peer_one_time_prekey.map(|h| h.0),
            })?;
            value(X3dhResult {
                shared_key: out.shared_key.into(),
                associated_data: out.associated_data.into(),
            })
        }
        Request::X3dhRespond {
            suite,
            identity_private_key,
            signed_prekey_private_key,
            one_time_prekey_private_key,
            peer_identity_key,
            peer_ephemeral_key,
        } => {
            let out = imp.x3dh_respond(&X3dhRespond {
                suite,
                identity_private_key: identity_private_key.0,
                signed_prekey_private_key: signed_prekey_private_key.0,
                one_time_prekey_private_key: one_time_prekey_private_key.map(|h| h.0),
                peer_identity_key: peer_identity_key.0,
                peer_ephemeral_key: peer_ephemeral_key.0,
            })?;
            value(X3dhResult {
                shared_key: out.shared_key.into(),
                associated_data: out.associated_data.into(),
            })
        }
        Request::InitSession {
            suite,
            role,
            shared_key,
            ratchet_key,
            ratchet_private_keys,
            max_skip,
            max_stored_skipped_keys,
        } => {
            let role = match role.as_str() {
                "alice" => Role::Alice,
                "bob" => Role::Bob,
                other => {
                    return Err(ImplError::unsupported(format!(
                        "role {other:?} (expected \"alice\" or \"bob\")"
                    )));
                }
            };
            let handle = imp.init_session(&SessionInit {
                suite,
                role,
                shared_key: shared_key.0,
                ratchet_key: ratchet_key.0,
                ratchet_private_keys: bytes(ratchet_private_keys),
                max_skip,
                max_stored_skipped_keys,
            })?;
            value(SessionResult { session: handle.0 })
        }
        Request::Encrypt {
            session,
            plaintext,
            ad,
        } => value(MessageResult {
            message: imp
                .encrypt(SessionHandle(session), &plaintext.0, &ad.0)?
                .into(),
            message_type: None,
        }),
        Request::X3dhAccept {
            suite,
            identity_private_key,
            signed_prekeys,
            one_time_prekeys,
            ratchet_private_keys,
            initial_messages,
        } => {
            let entries = |list: Vec<PrekeyEntry>| {
                list.into_iter()
                    .map(|e| (e.id, e.private_key.0))
                    .collect::<Vec<_>>()
            };
            let outcomes = imp.x3dh_accept(&X3dhAccept {
                suite,
                identity_private_key: identity_private_key.0,
                signed_prekeys: entries(signed_prekeys),
                one_time_prekeys: entries(one_time_prekeys),
                ratchet_private_keys: bytes(ratchet_private_keys),
                initial_messages: bytes(initial_messages),
            })?;
            value(X3dhAcceptResult {
                outcomes: outcomes
                    .into_iter()
                    .map(|o| match o {
                        Ok(a) => AcceptOutcome::Accepted {
                            plaintext: a.plaintext.into(),
                            associated_data: a.associated_data.into(),
                            peer_identity_key: a.peer_identity_key.into(),
                        },
                        Err(e) => AcceptOutcome::Refused {
                            error: ErrorBody {
                                class: e.class.as_str().into(),
                                message: e.message,
                            },
                        },
                    })
                    .collect(),
            })
        }
        Request::PrekeyInitiate { .. } | Request::PrekeyRespond { .. } => Err(
            ImplError::unsupported("this shim does not offer the prekey operations"),
        ),
        Request::Decrypt {
            session,
            message,
            ad,
            message_type: None,
        } => value(PlaintextResult {
            plaintext: imp
                .decrypt(SessionHandle(session), &message.0, &ad.0)?
                .into(),
        }),
        Request::Decrypt { .. } => Err(ImplError::unsupported(
            "prekey messages need the prekey operations, which this shim does not offer",
        )),
        Request::CloneSession {
            session,
            ratchet_private_keys,
        } => {
            let handle = imp.clone_session(SessionHandle(session), &bytes(ratchet_private_keys))?;
            value(SessionResult { session: handle.0 })
        }
        Request::ExportState { session } => value(StateResult {
            state: imp.export_state(SessionHandle(session))?.into(),
        }),
        Request::Reset {} => {
            imp.reset();
            Ok(json!({}))
        }
    }
}
