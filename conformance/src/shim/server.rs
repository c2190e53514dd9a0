//! The shim side of the protocol for Rust: serves any [`Implementation`] over
//! stdin/stdout. The reference shim is this loop around [`crate::Reference`];
//! a Rust implementation that cannot be linked into the runner (another
//! toolchain, a C library behind FFI, a sandbox) can use it the same way.
//!
//! It knows no operation by name: a request line is a
//! [`Request`], answered by
//! [`Request::answer`](crate::implementation::Request::answer).

use std::io::{BufRead, Write};

use serde_json::{Value, json};

use super::protocol::{Control, ErrorBody, Handshake, ResponseLine};
use crate::implementation::{ErrorClass, ImplError, ImplResult, Implementation, Request};

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
    let parsed = serde_json::from_str::<Value>(line);
    // Keep the id if there is one, so the runner sees which request failed.
    let id = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_u64));
    let outcome = match (parsed, id) {
        (Ok(value), Some(_)) => answer(imp, value),
        (Ok(_), None) => Err(not_understood("no integer id")),
        (Err(e), _) => Err(not_understood(e)),
    };
    let id = id.unwrap_or(0);
    let response = match outcome {
        Ok(result) => ResponseLine {
            id,
            result: Some(result),
            error: None,
        },
        Err(e) => ResponseLine {
            id,
            result: None,
            error: Some(ErrorBody::from(e)),
        },
    };
    serde_json::to_string(&response).unwrap_or_else(|e| {
        format!(
            r#"{{"id":0,"error":{{"class":"state","message":"cannot encode the response: {e}"}}}}"#
        )
    })
}

fn not_understood(e: impl std::fmt::Display) -> ImplError {
    ImplError::unsupported(format!("request not understood: {e}"))
}

/// The `result` of one request.
fn answer(imp: &mut dyn Implementation, line: Value) -> ImplResult<Value> {
    let op = line.get("op").and_then(Value::as_str);
    if matches!(op, Some("handshake" | "reset")) {
        return match serde_json::from_value::<Control>(line).map_err(not_understood)? {
            Control::Handshake { .. } => encode(Handshake::from_capabilities(&imp.capabilities())),
            Control::Reset {} => {
                imp.reset();
                Ok(json!({}))
            }
        };
    }
    let request: Request = serde_json::from_value(line).map_err(not_understood)?;
    encode(request.answer(imp)?)
}

fn encode(result: impl serde::Serialize) -> ImplResult<Value> {
    serde_json::to_value(result)
        .map_err(|e| ImplError::new(ErrorClass::State, format!("cannot encode the result: {e}")))
}
