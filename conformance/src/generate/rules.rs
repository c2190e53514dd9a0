//! The rule → tcIds table: every normative rule of `docs/SPEC.md` and
//! `docs/SIGNAL-V3.md` that carries an id like `[R-XED-SBOUND]`, with a
//! selector over the generated vector cases. `generate` renders it to
//! `vectors/RULES.md` with the tcIds computed from the files it has just
//! built, so `generate --check` keeps it fresh and no tcId is written by
//! hand. Generation fails when a rule selects no case in a suite it applies
//! to; a test checks that the ids in the documents and in [`RULES`] agree.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ratchetproof_protocol::suite::{self, WireEncoding};
use serde_json::Value;

use super::{GenerateError, GeneratedFile};

/// Which cases show a rule.
#[derive(Clone, Copy, Debug)]
pub enum Select {
    /// Cases of `file` carrying this flag.
    Flag(&'static str),
    /// Cases of `file` whose comment contains this text.
    Comment(&'static str),
    /// No vector can show it; the reason is printed in the table.
    Exempt(&'static str),
}

/// One rule.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The id written in the documents, without brackets.
    pub id: &'static str,
    /// Document and section.
    pub source: &'static str,
    /// The rule in one line.
    pub text: &'static str,
    /// Vector file name (e.g. `x3dh.json`).
    pub file: &'static str,
    /// The wire encoding of the suites it applies to (`None`: every
    /// suite): the rules of docs/SIGNAL-V3.md hold for libsignal's
    /// protobuf encoding.
    pub only_encoding: Option<WireEncoding>,
    /// The selector.
    pub select: Select,
}

const fn rule(
    id: &'static str,
    source: &'static str,
    text: &'static str,
    file: &'static str,
    only_encoding: Option<WireEncoding>,
    select: Select,
) -> Rule {
    Rule {
        id,
        source,
        text,
        file,
        only_encoding,
        select,
    }
}

const X3DH: &str = "x3dh.json";
const ACCEPT: &str = "x3dh_accept.json";
const SCEN: &str = "session_scenarios.json";
const V3: Option<WireEncoding> = Some(WireEncoding::WhisperProtobuf);

/// Every rule with an id in the documents.
pub const RULES: &[Rule] = &[
    rule(
        "R-XED-SIGNBIT",
        "SPEC §7.2 step 1, §7.3",
        "the sign of A is bit 255 of S (libsignal's convention verifies; required in signal-v3, refusal acceptable in the default suite)",
        X3DH,
        None,
        Select::Flag("LibsignalSignBit"),
    ),
    rule(
        "R-XED-SBOUND",
        "SPEC §7.2 step 2",
        "s ≥ 2^253 is refused even where the equation holds",
        X3DH,
        None,
        Select::Flag("SBound"),
    ),
    rule(
        "R-XED-UNREDUCED",
        "SPEC §7.2",
        "s in [q, 2^253) is accepted (required in signal-v3, refusal acceptable in the default suite)",
        X3DH,
        None,
        Select::Flag("UnreducedS"),
    ),
    rule(
        "R-XED-UCANON",
        "SPEC §7.2 step 3",
        "u ≥ p (all 256 bits) is refused",
        X3DH,
        None,
        Select::Comment("(u ≥ p, all 256 bits)"),
    ),
    rule(
        "R-XED-UMINUS1",
        "SPEC §7.2 step 4",
        "u = p − 1 is refused",
        X3DH,
        None,
        Select::Comment("u = p − 1 is refused"),
    ),
    rule(
        "R-XED-ONCURVE",
        "SPEC §7.2 step 4",
        "a u with no Edwards point is refused",
        X3DH,
        None,
        Select::Comment("on the twist"),
    ),
    rule(
        "R-XED-EQUATION",
        "SPEC §7.2 steps 5–6",
        "accept iff encode(sB − hA) = R",
        X3DH,
        None,
        Select::Comment("signature with bit"),
    ),
    rule(
        "R-XED-RBYTES",
        "SPEC §7.2 step 6",
        "R is compared byte for byte",
        X3DH,
        None,
        Select::Flag("NonCanonicalR"),
    ),
    rule(
        "R-X3DH-VERIFY",
        "SPEC §6.2 step 1",
        "Alice verifies the signed prekey's signature and aborts on failure",
        X3DH,
        None,
        Select::Flag("BadSignature"),
    ),
    rule(
        "R-X3DH-KDF",
        "SPEC §6.2 step 4",
        "SK = HKDF(F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4])",
        X3DH,
        None,
        Select::Flag("WithOneTimePrekey"),
    ),
    rule(
        "R-X3DH-AD",
        "SPEC §6.3",
        "AD = Encode(IKa) ‖ Encode(IKb), Alice first",
        X3DH,
        None,
        Select::Flag("WithoutOneTimePrekey"),
    ),
    rule(
        "R-X3DH-EMPTY",
        "SPEC §6.4, SIGNAL-V3 §4",
        "an empty initial message is malformed",
        ACCEPT,
        None,
        Select::Comment("an empty initial message"),
    ),
    rule(
        "R-X3DH-UNKNOWN",
        "SPEC §6.5 step 1",
        "an unknown prekey id is invalid_key",
        ACCEPT,
        None,
        Select::Flag("UnknownPreKey"),
    ),
    rule(
        "R-X3DH-OPKDEL",
        "SPEC §6.5 step 5",
        "the one-time prekey is deleted after, and only after, the first message authenticates",
        ACCEPT,
        None,
        Select::Flag("OneTimePrekeyDeleted"),
    ),
    rule(
        "R-X3DH-IKA",
        "SPEC §6.5 step 5, §11.2",
        "the application checks IKa (the responder returns it)",
        ACCEPT,
        None,
        Select::Flag("BasicTest"),
    ),
    rule(
        "R-AD-LEN",
        "SPEC §4.3",
        "len(ad) below 2^32",
        SCEN,
        None,
        Select::Exempt("a 4 GiB associated data cannot be carried in a vector"),
    ),
    rule(
        "R-NO-RESTORE",
        "SPEC §11.4",
        "an application does not send from a restored older state",
        SCEN,
        None,
        Select::Exempt(
            "an obligation of the application, not of the library; the mutant restored-state-reuses-message-key shows what breaks",
        ),
    ),
    rule(
        "R-V3-ADSHAPE",
        "SIGNAL-V3 §2",
        "ad is 66 bytes with 0x05 at 0 and 33, checked after parsing and before any key derivation",
        SCEN,
        V3,
        Select::Comment("(AD truncated by one byte)"),
    ),
    rule(
        "R-V3-FIELDS",
        "SIGNAL-V3 §3",
        "a missing WhisperMessage field is malformed, even under a correct MAC",
        ACCEPT,
        V3,
        Select::Comment("embedded WhisperMessage without field"),
    ),
    rule(
        "R-V3-PROTOBUF",
        "SIGNAL-V3 §3",
        "wrong wire type, over-long varint or length, trailing garbage: malformed",
        ACCEPT,
        V3,
        Select::Comment("MAC correct: malformed"),
    ),
    rule(
        "R-V3-UNKNOWN",
        "SIGNAL-V3 §3, §4",
        "unknown fields are skipped",
        ACCEPT,
        V3,
        Select::Comment("unknown field 9"),
    ),
    rule(
        "R-V3-REPEATED",
        "SIGNAL-V3 §3, §4",
        "a repeated field takes its last value",
        ACCEPT,
        V3,
        Select::Comment("the last value counts"),
    ),
    rule(
        "R-V3-KEYTYPE",
        "SIGNAL-V3 §3, §4",
        "a key that is not 0x05 ‖ 32 bytes is invalid_key",
        ACCEPT,
        V3,
        Select::Comment("invalid_key"),
    ),
    rule(
        "R-V3-VARINT",
        "SIGNAL-V3 §3",
        "a uint32 field above 2^32 − 1 is malformed, or read modulo 2^32 as protobuf does",
        ACCEPT,
        V3,
        Select::Flag("VarintOverflow"),
    ),
    rule(
        "R-V3-PADDING",
        "SIGNAL-V3 §3",
        "padding is checked only after the MAC; a wrong MAC is authentication whatever the padding",
        ACCEPT,
        V3,
        Select::Flag("Padding"),
    ),
    rule(
        "R-V3-ENVELOPE",
        "SIGNAL-V3 §4",
        "a PreKeyWhisperMessage missing field 2, 3, 4 or 6 is malformed",
        ACCEPT,
        V3,
        Select::Comment("PreKeyWhisperMessage without field"),
    ),
];

/// `(suite folder, file name)` → the parsed cases of one generated file.
fn parsed(files: &[GeneratedFile]) -> BTreeMap<(String, String), Vec<Value>> {
    let mut out = BTreeMap::new();
    for f in files {
        let mut parts = f.path.iter().map(|p| p.to_string_lossy().into_owned());
        let (Some(suite), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<Value>(&f.contents) else {
            continue;
        };
        let tests = json
            .get("tests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        out.insert((suite, name), tests);
    }
    out
}

fn selects(select: Select, case: &Value) -> bool {
    match select {
        Select::Flag(flag) => case
            .get("flags")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|v| v.as_str() == Some(flag))),
        Select::Comment(text) => case
            .get("comment")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains(text)),
        Select::Exempt(_) => false,
    }
}

/// Suite folder → tcIds.
pub type PerSuite = BTreeMap<String, Vec<u64>>;

/// The tcIds each rule selects, per suite; an error names a rule that
/// selects nothing in a suite it applies to.
pub fn tc_ids(files: &[GeneratedFile]) -> Result<Vec<(Rule, PerSuite)>, GenerateError> {
    let cases = parsed(files);
    let suites: Vec<String> = cases.keys().map(|(s, _)| s.clone()).collect();
    let mut out = Vec::new();
    for r in RULES {
        let mut per_suite = BTreeMap::new();
        for suite in &suites {
            let applies = match r.only_encoding {
                None => true,
                Some(encoding) => {
                    suite::by_name(suite).is_some_and(|s| s.wire_encoding() == encoding)
                }
            };
            // A suite without the rule's file (the PQXDH suites have no
            // x3dh.json: their agreement's families are pqxdh*.json) is
            // outside the rule.
            let has_file = cases.contains_key(&(suite.clone(), r.file.to_string()));
            if !applies || !has_file || per_suite.contains_key(suite) {
                continue;
            }
            let ids: Vec<u64> = cases
                .get(&(suite.clone(), r.file.to_string()))
                .map(|tests| {
                    tests
                        .iter()
                        .filter(|c| selects(r.select, c))
                        .filter_map(|c| c.get("tcId").and_then(Value::as_u64))
                        .collect()
                })
                .unwrap_or_default();
            if ids.is_empty() && !matches!(r.select, Select::Exempt(_)) {
                return Err(GenerateError::Disagreement {
                    tc_id: 0,
                    comment: r.id.into(),
                    message: format!("rule {} selects no case of {suite}/{}", r.id, r.file),
                });
            }
            per_suite.insert(suite.clone(), ids);
        }
        out.push((*r, per_suite));
    }
    Ok(out)
}

/// `vectors/RULES.md`.
pub fn render(files: &[GeneratedFile]) -> Result<GeneratedFile, GenerateError> {
    let mut md = String::from(
        "# Rules → vector cases\n\n\
         Generated by `ratchetproof generate` from `conformance/src/generate/rules.rs`; \
         do not edit. Each rule id appears in `docs/SPEC.md` or `docs/SIGNAL-V3.md` \
         beside the rule; the tcIds are computed from the vector files, so they follow \
         any renumbering. Generation fails when a rule selects no case.\n\n\
         | Rule | Where | Rule in one line | File | tcIds |\n| --- | --- | --- | --- | --- |\n",
    );
    for (r, per_suite) in tc_ids(files)? {
        let ids = match r.select {
            Select::Exempt(reason) => format!("none: {reason}"),
            _ => per_suite
                .iter()
                .map(|(suite, ids)| {
                    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
                    format!("{suite}: {}", list.join(", "))
                })
                .collect::<Vec<_>>()
                .join("<br>"),
        };
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | `{}` | {} |",
            r.id, r.source, r.text, r.file, ids
        );
    }
    Ok(GeneratedFile {
        path: "RULES.md".into(),
        contents: md,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::collections::BTreeSet;

    use super::*;

    /// Every `[R-…]` id in the two documents is in [`RULES`], and every
    /// rule's id is in a document: the table cannot drift from the text.
    #[test]
    fn document_rule_ids_and_the_table_agree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut in_docs = BTreeSet::new();
        for doc in ["docs/SPEC.md", "docs/SIGNAL-V3.md"] {
            let text = std::fs::read_to_string(root.join(doc)).unwrap();
            for piece in text.split("[R-").skip(1) {
                let id = piece.split(']').next().unwrap();
                in_docs.insert(format!("R-{id}"));
            }
        }
        let in_table: BTreeSet<String> = RULES.iter().map(|r| r.id.to_string()).collect();
        assert_eq!(in_docs, in_table);
        assert_eq!(in_table.len(), RULES.len(), "a rule id is listed twice");
    }
}
