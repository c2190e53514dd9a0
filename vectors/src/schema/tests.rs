//! The schemas accept every committed file and refuse broken ones for the
//! right reason. Each broken file is a committed test changed in one place:
//! the unchanged test must pass and the changed one must be refused with an
//! error at that place. The same corpus, run against a common schema whose
//! definitions are hollowed out one at a time, must notice every hollow one,
//! so a `$ref` that resolves to nothing cannot pass these tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::{Value, json};

use super::{COMMON_SCHEMA, SCHEMAS, Validators};
use crate::{AnyFile, PRIMITIVES_SCHEMA, SCENARIO_SCHEMA, X3DH_ACCEPT_SCHEMA, X3DH_SCHEMA};

const SUITES: [&str; 2] = ["x25519-sha256-aes256gcm", "signal-v3"];
const FILES: [&str; 4] = [
    "primitives.json",
    "x3dh.json",
    "x3dh_accept.json",
    "session_scenarios.json",
];

fn committed(suite: &str, file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(suite)
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn common() -> Value {
    serde_json::from_str(COMMON_SCHEMA).unwrap()
}

/// One committed test changed in one place.
struct Broken {
    what: &'static str,
    file: &'static str,
    /// Which test of the file to start from.
    pick: fn(&Value) -> bool,
    /// The change, on a file holding only the picked test (`/tests/0`).
    edit: fn(&mut Value),
    /// Where the refusal must point (a JSON pointer prefix).
    at: &'static str,
}

fn any(_: &Value) -> bool {
    true
}

fn has(pointer: &'static str) -> impl Fn(&Value) -> bool {
    move |t| t.pointer(pointer).is_some()
}

fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"))
}

/// The first deliver step whose alternatives include a refusal: (test, step).
fn alternative_refusal(t: &Value) -> Option<usize> {
    t["steps"].as_array()?.iter().position(|s| {
        s.pointer("/expected/alternatives")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|o| o.get("error").is_some()))
    })
}

fn broken_files() -> Vec<Broken> {
    vec![
        Broken {
            what: "bad hex",
            file: "x3dh.json",
            pick: |t| has("/initiator/identityPrivateKey")(t),
            edit: |d| *at(d, "/tests/0/initiator/identityPrivateKey") = json!("zz00"),
            at: "/tests/0/initiator/identityPrivateKey",
        },
        Broken {
            what: "odd-length hex",
            file: "session_scenarios.json",
            pick: any,
            edit: |d| *at(d, "/tests/0/setup/sharedKey") = json!("abc"),
            at: "/tests/0/setup/sharedKey",
        },
        Broken {
            what: "uppercase hex",
            file: "primitives.json",
            pick: |t| t["operation"] == "kdf_rk",
            edit: |d| *at(d, "/tests/0/rootKey") = json!("AB"),
            at: "/tests/0",
        },
        Broken {
            what: "unknown error class",
            file: "x3dh.json",
            pick: |t| has("/expected/error")(t),
            edit: |d| *at(d, "/tests/0/expected/error") = json!("bogus"),
            at: "/tests/0/expected",
        },
        Broken {
            what: "unknown error class in an alternative",
            file: "session_scenarios.json",
            pick: |t| alternative_refusal(t).is_some(),
            edit: |d| {
                let step = alternative_refusal(&d["tests"][0]).unwrap();
                let alternatives = at(d, &format!("/tests/0/steps/{step}/expected/alternatives"));
                for a in alternatives.as_array_mut().unwrap() {
                    if a.get("error").is_some() {
                        a["error"] = json!("bogus");
                    }
                }
            },
            at: "/tests/0/steps/",
        },
        Broken {
            what: "unknown message type on a delivery",
            file: "session_scenarios.json",
            pick: |t| has("/steps/1/message")(t),
            edit: |d| d["tests"][0]["steps"][1]["messageType"] = json!("bogus"),
            at: "/tests/0/steps/1",
        },
        Broken {
            what: "unknown message type on a send",
            file: "session_scenarios.json",
            pick: |t| has("/steps/0/expected/message")(t),
            edit: |d| d["tests"][0]["steps"][0]["expected"]["messageType"] = json!("bogus"),
            at: "/tests/0/steps/0",
        },
        Broken {
            what: "missing tcId (primitives)",
            file: "primitives.json",
            pick: any,
            edit: |d| drop(at(d, "/tests/0").as_object_mut().unwrap().remove("tcId")),
            at: "/tests/0",
        },
        Broken {
            what: "missing tcId (x3dh)",
            file: "x3dh.json",
            pick: any,
            edit: |d| drop(at(d, "/tests/0").as_object_mut().unwrap().remove("tcId")),
            at: "/tests/0",
        },
        Broken {
            what: "missing tcId (x3dh-accept)",
            file: "x3dh_accept.json",
            pick: any,
            edit: |d| drop(at(d, "/tests/0").as_object_mut().unwrap().remove("tcId")),
            at: "/tests/0",
        },
        Broken {
            what: "missing tcId (scenarios)",
            file: "session_scenarios.json",
            pick: any,
            edit: |d| drop(at(d, "/tests/0").as_object_mut().unwrap().remove("tcId")),
            at: "/tests/0",
        },
        Broken {
            what: "tcId 0",
            file: "x3dh_accept.json",
            pick: any,
            edit: |d| *at(d, "/tests/0/tcId") = json!(0),
            at: "/tests/0",
        },
        Broken {
            what: "unknown verdict",
            file: "x3dh.json",
            pick: any,
            edit: |d| *at(d, "/tests/0/result") = json!("maybe"),
            at: "/tests/0",
        },
        Broken {
            what: "repeated flag",
            file: "session_scenarios.json",
            pick: |t| t["flags"].as_array().is_some_and(|f| !f.is_empty()),
            edit: |d| {
                let flags = at(d, "/tests/0/flags").as_array_mut().unwrap();
                flags.push(flags[0].clone());
            },
            at: "/tests/0",
        },
        Broken {
            what: "unknown property in the file",
            file: "x3dh_accept.json",
            pick: any,
            edit: |d| d["extra"] = json!(1),
            at: "",
        },
        Broken {
            what: "unknown property in a case",
            file: "session_scenarios.json",
            pick: any,
            edit: |d| d["tests"][0]["extra"] = json!(1),
            at: "/tests/0",
        },
        Broken {
            what: "unknown property in a primitives case: another operation's input",
            file: "primitives.json",
            pick: |t| t["operation"] == "kdf_ck",
            edit: |d| d["tests"][0]["dhOutput"] = json!("00"),
            at: "/tests/0",
        },
        Broken {
            what: "unknown property in a nested object",
            file: "x3dh_accept.json",
            pick: any,
            edit: |d| d["tests"][0]["responder"]["extra"] = json!("00"),
            at: "/tests/0/responder",
        },
        Broken {
            what: "classFixed on a success",
            file: "x3dh.json",
            pick: |t| has("/expected/sharedKey")(t),
            edit: |d| d["tests"][0]["expected"]["classFixed"] = json!(true),
            at: "/tests/0/expected",
        },
        Broken {
            what: "a success missing a field",
            file: "x3dh_accept.json",
            pick: |t| has("/initialMessages/0/expected/plaintext")(t),
            edit: |d| {
                let expected = at(d, "/tests/0/initialMessages/0/expected");
                drop(expected.as_object_mut().unwrap().remove("peerIdentityKey"));
            },
            at: "/tests/0/initialMessages/0",
        },
        Broken {
            what: "empty alternatives",
            file: "x3dh.json",
            pick: |t| has("/expected/alternatives")(t),
            edit: |d| d["tests"][0]["expected"]["alternatives"] = json!([]),
            at: "/tests/0/expected",
        },
        Broken {
            what: "counter over u32",
            file: "primitives.json",
            pick: |t| t["operation"] == "seal",
            edit: |d| d["tests"][0]["pn"] = json!(4_294_967_296_u64),
            at: "/tests/0",
        },
        Broken {
            what: "limit over u32",
            file: "session_scenarios.json",
            pick: |t| has("/limits/maxSkip")(t),
            edit: |d| d["tests"][0]["limits"]["maxSkip"] = json!(4_294_967_296_u64),
            at: "/tests/0/limits/maxSkip",
        },
        Broken {
            what: "a note without bugType",
            file: "primitives.json",
            pick: any,
            edit: |d| {
                let notes = d["notes"].as_object_mut().unwrap();
                let first = notes.values_mut().next().unwrap();
                drop(first.as_object_mut().unwrap().remove("bugType"));
            },
            at: "/notes/",
        },
        Broken {
            what: "unknown schema version",
            file: "x3dh.json",
            pick: any,
            edit: |d| d["schema"]["version"] = json!(9),
            at: "/schema/version",
        },
        Broken {
            what: "an X3DH file claiming to be primitives",
            file: "x3dh.json",
            pick: any,
            edit: |d| d["schema"]["name"] = json!(PRIMITIVES_SCHEMA),
            at: "/tests/0",
        },
        Broken {
            what: "empty suite name",
            file: "session_scenarios.json",
            pick: any,
            edit: |d| d["suite"] = json!(""),
            at: "/suite",
        },
    ]
}

/// What `validators` gets wrong on the broken-file corpus; empty when right.
fn problems(validators: &Validators) -> Vec<String> {
    let mut out = Vec::new();
    for b in broken_files() {
        let mut control = committed(SUITES[0], b.file);
        let picked = control["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| (b.pick)(t))
            .unwrap_or_else(|| panic!("{}: no such test in {}", b.what, b.file))
            .clone();
        control["tests"] = json!([picked]);
        control["numberOfTests"] = json!(1);
        if let Err(e) = validators.validate(&control) {
            out.push(format!("{}: the unchanged test is refused: {e:?}", b.what));
            continue;
        }
        let mut broken = control.clone();
        (b.edit)(&mut broken);
        match validators.validate(&broken) {
            Ok(()) => out.push(format!("{}: accepted", b.what)),
            Err(errors) => {
                // Each error reads `[tcId N: ]<pointer>: <message>`.
                let points_there = errors.iter().any(|e| {
                    let pointer = e.split(": ").find(|p| p.is_empty() || p.starts_with('/'));
                    pointer.is_some_and(|p| p.starts_with(b.at))
                });
                if !points_there {
                    out.push(format!(
                        "{}: refused elsewhere than {}: {errors:?}",
                        b.what, b.at
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn every_committed_file_validates_and_reads() {
    for suite in SUITES {
        for file in FILES {
            let doc = committed(suite, file);
            crate::validate(&doc).unwrap_or_else(|e| panic!("{suite}/{file}: {e:?}"));
            let typed = crate::from_value(doc).unwrap_or_else(|e| panic!("{suite}/{file}: {e}"));
            assert_eq!(typed.suite(), suite);
        }
    }
}

#[test]
fn broken_files_are_refused_where_they_are_broken() {
    let validators = Validators::builtin().unwrap();
    let problems = problems(validators);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn hollowing_out_any_common_definition_is_noticed() {
    let common = common();
    let defs = common["$defs"].as_object().unwrap();
    assert!(defs.len() >= 10, "{defs:?}");
    for name in defs.keys() {
        let mut hollow = common.clone();
        hollow["$defs"][name] = json!({});
        let validators = Validators::compile(hollow).unwrap();
        assert!(
            !problems(&validators).is_empty(),
            "nothing notices common.schema.json#/$defs/{name} validating nothing"
        );
    }
}

#[test]
fn an_empty_or_missing_common_schema_does_not_compile() {
    // An empty document (what a lenient retriever might hand back) leaves the
    // file schemas' references unresolved: compiling fails, nothing passes.
    assert!(Validators::compile(json!({})).is_err());
    // Registered under another URI, the common schema is not found, and
    // nothing is fetched instead.
    let mut elsewhere = common();
    elsewhere["$id"] = json!("https://elsewhere.invalid/common.schema.json");
    let registry = jsonschema::Registry::new()
        .retriever(super::NoRetrieval)
        .add(
            "https://elsewhere.invalid/common.schema.json",
            jsonschema::Resource::from_contents(elsewhere),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let options = jsonschema::options()
        .offline()
        .with_retriever(super::NoRetrieval)
        .with_registry(&registry);
    for (name, text) in SCHEMAS {
        let schema: Value = serde_json::from_str(text).unwrap();
        assert!(options.build(&schema).is_err(), "{name} compiled");
    }
}

#[test]
fn every_file_schema_uses_the_common_one_and_no_other_reference() {
    for (name, text) in SCHEMAS {
        let refs: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("\"$ref\": \""))
            .map(|r| r.trim_end_matches([',', '"']))
            .collect();
        assert!(
            refs.iter()
                .any(|r| r.starts_with("common.schema.json#/$defs/")),
            "{name}"
        );
        for r in refs {
            assert!(
                r.starts_with("common.schema.json#/$defs/") || r.starts_with("#/$defs/"),
                "{name}: {r}"
            );
        }
    }
}

#[test]
fn validation_chooses_the_schema_the_file_names() {
    let doc = committed(SUITES[0], "x3dh.json");
    assert!(crate::validate_as(X3DH_SCHEMA, &doc).is_ok());
    for other in [PRIMITIVES_SCHEMA, X3DH_ACCEPT_SCHEMA, SCENARIO_SCHEMA] {
        assert!(crate::validate_as(other, &doc).is_err(), "{other}");
    }
    let unknown = crate::validate_as("ratchetproof-nonsense", &doc).unwrap_err();
    assert!(unknown[0].contains("unknown schema"), "{unknown:?}");
    let nameless = crate::validate(&json!({})).unwrap_err();
    assert!(nameless[0].contains("no schema.name"), "{nameless:?}");
}

#[test]
fn reading_refuses_what_the_schema_cannot_see() {
    let doc = committed(SUITES[0], "x3dh_accept.json");
    let mut count = doc.clone();
    count["numberOfTests"] = json!(count["tests"].as_array().unwrap().len() + 1);
    assert!(matches!(
        crate::from_value(count),
        Err(crate::ReadError::Count { .. })
    ));
    let mut dup = doc.clone();
    let first = dup["tests"][0]["tcId"].clone();
    dup["tests"][1]["tcId"] = first;
    assert!(matches!(
        crate::from_value(dup),
        Err(crate::ReadError::DuplicateTcId(_))
    ));
    let mut version = doc.clone();
    version["schema"]["version"] = json!(3);
    let e = crate::from_value(version).unwrap_err();
    assert!(e.to_string().contains("schema version"), "{e}");
    assert!(matches!(
        crate::parse("{"),
        Err(crate::ReadError::NotJson(_))
    ));
    let AnyFile::X3dhAccept(file) = crate::from_value(doc).unwrap() else {
        panic!("not an x3dh-accept file")
    };
    assert_eq!(file.number_of_tests, file.tests.len());
}

#[test]
fn olm_files_validate_and_a_broken_key_agreement_setup_is_refused() {
    for file in ["primitives.json", "session_scenarios.json"] {
        let doc = committed("olm-v1", file);
        crate::validate(&doc).unwrap_or_else(|e| panic!("olm-v1/{file}: {e:?}"));
        let typed = crate::from_value(doc).unwrap();
        assert_eq!(typed.suite(), "olm-v1");
    }
    let mut doc = committed("olm-v1", "session_scenarios.json");
    let AnyFile::Scenarios(typed) = crate::from_value(doc.clone()).unwrap() else {
        panic!("not a scenario file")
    };
    assert!(matches!(
        typed.tests[0].setup,
        crate::Setup::KeyAgreement(_)
    ));
    doc["tests"] = json!([doc["tests"][0].clone()]);
    doc["numberOfTests"] = json!(1);
    crate::validate(&doc).unwrap();
    for (what, edit) in [
        (
            "no one-time key",
            (|d: &mut Value| {
                d["tests"][0]["setup"]
                    .as_object_mut()
                    .unwrap()
                    .remove("bobOneTimePrivateKey");
            }) as fn(&mut Value),
        ),
        ("odd hex", |d| {
            d["tests"][0]["setup"]["aliceBasePrivateKey"] = json!("abc")
        }),
        ("a Signal field", |d| {
            d["tests"][0]["setup"]["associatedData"] = json!("")
        }),
        ("an unknown message type", |d| {
            d["tests"][0]["steps"][0]["expected"]["messageType"] = json!("normal")
        }),
    ] {
        let mut broken = doc.clone();
        edit(&mut broken);
        let errors = crate::validate(&broken).expect_err(what);
        assert!(
            errors.iter().any(|e| e.contains("/tests/0/s")),
            "{what}: {errors:?}"
        );
    }
}

/// The PQXDH files (their suites have no x3dh files): each committed test
/// validates, and each edit is refused where it is made.
#[test]
fn pqxdh_files_refuse_what_their_schemas_forbid() {
    type Edit = fn(&mut Value);
    let cases: [(&str, &str, Edit, &str); 8] = [
        (
            "pqxdh.json",
            "an unknown initiator field",
            |d| {
                at(d, "/tests/0/initiator")
                    .as_object_mut()
                    .unwrap()
                    .insert("peerKemPrekeyId".into(), json!(1));
            },
            "/tests/0/initiator",
        ),
        (
            "pqxdh.json",
            "no KEM seed",
            |d| {
                drop(
                    at(d, "/tests/0")
                        .as_object_mut()
                        .unwrap()
                        .remove("kemPrekeySeed"),
                )
            },
            "/tests/0",
        ),
        (
            "pqxdh.json",
            "no responder ciphertext",
            |d| {
                drop(
                    at(d, "/tests/0/responder")
                        .as_object_mut()
                        .unwrap()
                        .remove("kemCiphertext"),
                )
            },
            "/tests/0/responder",
        ),
        (
            "pqxdh.json",
            "bad hex in the expected ciphertext",
            |d| *at(d, "/tests/0/expected/kemCiphertext") = json!("0g"),
            "/tests/0/expected",
        ),
        (
            "pqxdh.json",
            "an unknown expected field",
            |d| {
                at(d, "/tests/0/expected")
                    .as_object_mut()
                    .unwrap()
                    .insert("foo".into(), json!("00"));
            },
            "/tests/0/expected",
        ),
        (
            "pqxdh_accept.json",
            "no kemPrekeys",
            |d| {
                drop(
                    at(d, "/tests/0/responder")
                        .as_object_mut()
                        .unwrap()
                        .remove("kemPrekeys"),
                )
            },
            "/tests/0/responder",
        ),
        (
            "pqxdh_accept.json",
            "lastResort not a boolean",
            |d| *at(d, "/tests/0/responder/kemPrekeys/0/lastResort") = json!("yes"),
            "/tests/0/responder/kemPrekeys/0",
        ),
        (
            "pqxdh_accept.json",
            "a KEM prekey without its public key",
            |d| {
                drop(
                    at(d, "/tests/0/responder/kemPrekeys/0")
                        .as_object_mut()
                        .unwrap()
                        .remove("publicKey"),
                )
            },
            "/tests/0/responder/kemPrekeys/0",
        ),
    ];
    for suite in ["signal-pqxdh-kyber1024", "signal-pqxdh-mlkem1024"] {
        for (file, what, edit, pointer) in cases {
            let doc = committed(suite, file);
            assert!(crate::validate(&doc).is_ok(), "{suite}/{file}");
            let mut broken = doc.clone();
            edit(&mut broken);
            let errors = crate::validate(&broken).unwrap_err();
            assert!(
                errors.iter().any(|e| e.contains(&format!(": {pointer}"))),
                "{suite}/{file} {what}: {errors:?}"
            );
        }
    }
}
