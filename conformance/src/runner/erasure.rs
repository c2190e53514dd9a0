//! The key-erasure check (flag `KeyErasure`): at a capture step, the
//! captured party's exported state must not contain any secret the vector
//! lists as erased.
//!
//! The export is the implementation's own serialization, so the check only
//! searches it, in the spellings a state file commonly uses: the raw bytes,
//! lowercase and uppercase hex, standard and URL-safe base64 at each of the
//! three byte alignments a secret can have inside a longer encoded string
//! (padding never matters: only whole 3-byte groups are searched), a list
//! of decimal bytes as JSON writes a byte array, and the bytes as Latin-1
//! characters of a JSON string (what python-doubleratchet's exported model
//! holds once `json.dumps` writes it). It proves presence,
//! never absence: an encrypted, compressed or otherwise transformed export
//! hides a retained key.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use super::{Status, failed};
use crate::implementation::{ExportState, Implementation, Operation, SessionHandle};
use crate::vectors::ErasedSecret;

/// Where `secret` occurs in `export`, if it does: the spelling found.
pub fn find(export: &[u8], secret: &[u8]) -> Option<&'static str> {
    if secret.is_empty() {
        return None;
    }
    if contains(export, secret) {
        return Some("raw bytes");
    }
    let lower = hex::encode(secret);
    if contains(export, lower.as_bytes()) {
        return Some("lowercase hex");
    }
    if contains(export, lower.to_uppercase().as_bytes()) {
        return Some("uppercase hex");
    }
    for shift in 0..3 {
        // The whole 3-byte groups of the secret when its byte `shift` starts
        // a group of the surrounding encoding.
        let Some(rest) = secret.get(shift..) else {
            continue;
        };
        let Some(core) = rest.get(..rest.len() / 3 * 3) else {
            continue;
        };
        if core.len() < 15 {
            continue;
        }
        if contains(export, STANDARD_NO_PAD.encode(core).as_bytes()) {
            return Some("base64");
        }
        if contains(export, URL_SAFE_NO_PAD.encode(core).as_bytes()) {
            return Some("URL-safe base64");
        }
    }
    for (spelling, ascii, upper) in [
        ("Latin-1 characters of a JSON string", true, false),
        ("Latin-1 characters of a JSON string", true, true),
        ("Latin-1 characters of a JSON string, UTF-8", false, false),
        ("Latin-1 characters of a JSON string, UTF-8", false, true),
    ] {
        if contains(export, json_latin1(secret, ascii, upper).as_bytes()) {
            return Some(spelling);
        }
    }
    for separator in [",", ", "] {
        let list: Vec<String> = secret.iter().map(u8::to_string).collect();
        if contains(export, list.join(separator).as_bytes()) {
            return Some("a list of decimal bytes");
        }
    }
    None
}

/// The bytes as the characters U+0000..U+00FF of a JSON string, as Python's
/// `json.dumps` writes a bytes value decoded as Latin-1 (`ascii`: `\u00e9`
/// escapes, as with its default `ensure_ascii`; otherwise raw UTF-8, as
/// JavaScript's `JSON.stringify` writes it); `upper`: `\u00E9`.
fn json_latin1(secret: &[u8], ascii: bool, upper: bool) -> String {
    let mut out = String::new();
    for &b in secret {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(char::from(b)),
            0x7f..=0xff if !ascii => out.push(char::from(b)),
            _ if upper => out.push_str(&format!("\\u{b:04X}")),
            _ => out.push_str(&format!("\\u{b:04x}")),
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The check at capture step `step` of `party`: `None` when it passes or
/// cannot run (no secrets listed, or the implementation exports no state).
pub(super) fn check(
    imp: &mut dyn Implementation,
    handle: SessionHandle,
    party: &str,
    step: usize,
    secrets: &[ErasedSecret],
) -> Option<Status> {
    if secrets.is_empty() || !imp.capabilities().operations.contains(&Operation::Export) {
        return None;
    }
    let export = match imp.export_state(&ExportState { session: handle }) {
        Ok(out) => out.state,
        Err(e) => {
            return Some(failed(
                Some(step),
                format!("{party}'s state is exported"),
                format!("error {e}"),
            ));
        }
    };
    secrets.iter().find_map(|s| {
        find(&export, &s.secret.0).map(|how| {
            failed(
                Some(step),
                format!("{party}'s exported state no longer holds the {}", s.role),
                format!("found it ({how}) in the {} exported bytes", export.len()),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn secret() -> Vec<u8> {
        (1..=32u8).map(|b| b.wrapping_mul(37)).collect()
    }

    #[test]
    fn finds_every_spelling_at_every_offset() {
        let s = secret();
        for pad in 0..4usize {
            let mut raw = vec![0xeeu8; pad];
            raw.extend_from_slice(&s);
            raw.push(7);
            assert_eq!(find(&raw, &s), Some("raw bytes"));
            let hex_text = format!("{{\"rk\":\"{}\"}}", hex::encode(&raw));
            assert_eq!(find(hex_text.as_bytes(), &s), Some("lowercase hex"));
            let upper = hex_text.to_uppercase();
            assert_eq!(find(upper.as_bytes(), &s), Some("uppercase hex"));
            for engine in [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
                STANDARD_NO_PAD,
            ] {
                let text = format!("\"{}\"", engine.encode(&raw));
                let how = find(text.as_bytes(), &s);
                assert!(
                    matches!(how, Some("base64" | "URL-safe base64")),
                    "pad {pad}: {how:?}"
                );
            }
            let list = format!("{:?}", raw);
            assert_eq!(find(list.as_bytes(), &s), Some("a list of decimal bytes"));
        }
    }

    /// What Python's `json.dumps` and an `ensure_ascii=False` (or
    /// JavaScript) encoder write for bytes decoded as Latin-1, as
    /// python-doubleratchet's exported model holds them.
    #[test]
    fn finds_latin1_json_strings_as_python_writes_them() {
        let s = hex::decode("052a4f7499bee3082d52779cc1e60b30557a9fc4e90e33587da2c7ec11365b80")
            .unwrap();
        let python = r#""pre\u0005*Ot\u0099\u00be\u00e3\b-Rw\u009c\u00c1\u00e6\u000b0Uz\u009f\u00c4\u00e9\u000e3X}\u00a2\u00c7\u00ec\u00116[\u0080post""#;
        assert_eq!(
            find(python.as_bytes(), &s),
            Some("Latin-1 characters of a JSON string")
        );
        let upper = python.replace("\\u00be", "\\u00BE");
        assert_ne!(upper, python);
        assert_eq!(
            find(upper.as_bytes(), &s),
            None,
            "mixed case is not a spelling"
        );
        let utf8 = hex::decode("225c75303030352a4f74c299c2bec3a35c622d5277c29cc381c3a65c753030306230557ac29fc384c3a95c753030306533587dc2a2c387c3ac5c7530303131365bc28022").unwrap();
        assert_eq!(
            find(&utf8, &s),
            Some("Latin-1 characters of a JSON string, UTF-8")
        );
    }

    #[test]
    fn absent_secret_is_not_found() {
        let s = secret();
        let mut other = s.clone();
        if let Some(b) = other.get_mut(16) {
            *b ^= 1;
        }
        let export = format!(
            "{}{}{}",
            hex::encode(&other),
            STANDARD_NO_PAD.encode(&other),
            String::from_utf8_lossy(&other)
        );
        assert_eq!(find(export.as_bytes(), &s), None);
        assert_eq!(find(&other, &s), None);
    }
}
