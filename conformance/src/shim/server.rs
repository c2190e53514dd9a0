//! The shim side of the protocol for Rust: serves any [`Implementation`] over
//! stdin/stdout. The reference shim is this loop around [`crate::Reference`];
//! a Rust implementation that cannot be linked into the runner (another
//! toolchain, a C library behind FFI, a sandbox) can use it the same way.

use std::io::{BufRead, Write};

use ratchetproof_protocol::ErrorClass;
use serde::Serialize;
use serde_json::{Value, json};

use super::protocol::{
    ChainResult, ErrorBody, Handshake, KeysResult, MessageResult, PlaintextResult, Request,
    RequestLine, ResponseLine, RootResult, SessionResult, X3dhResult,
};
use crate::implementation::{
    ImplError, ImplResult, Implementation, Role, SessionHandle, SessionInit, X3dhInitiate,
    X3dhRespond,
};
use crate::vectors::Hex;

/// Reads requests from `input` until it closes and writes one response line
/// per request to `output`, flushing after each.
pub fn serve(
    imp: &mut dyn Implementation,
    input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<()> {
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = respond(imp, &line);
        output.write_all(response.as_bytes())?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

/// The response line (without its newline) to one request line.
pub fn respond(imp: &mut dyn Implementation, line: &str) -> String {
    let response = match serde_json::from_str::<RequestLine>(line) {
        Ok(RequestLine { id, request }) => match dispatch(imp, request) {
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
        Request::Reset {} => {
            imp.reset();
            Ok(json!({}))
        }
    }
}
