//! X3DH vectors: agreement with and without a one-time prekey from injected
//! private keys, bundles whose signature must be refused, and keys of the
//! wrong length. Signatures in bundles are made by the reference's XEdDSA.

use std::collections::BTreeMap;

use ratchetproof_protocol::{KeyPair, PrivateKey, PublicKey};

use crate::generate::{GenerateError, derived_key, note, vector_file};
use crate::implementation::{Implementation, X3dhInitiate, X3dhOutput, X3dhRespond};
use crate::reference::Reference;
use crate::vectors::{
    CaseInfo, Expected, Hex, Outcome, VectorFile, Verdict, X3DH_SCHEMA, X3dhCase, X3dhExpected,
    X3dhInitiator, X3dhResponder,
};

fn pair(label: &str) -> KeyPair {
    KeyPair::from_private(PrivateKey::from_bytes(derived_key(label)))
}

fn sign(identity: &KeyPair, spk: &PublicKey, label: &str) -> [u8; 64] {
    ratchetproof_protocol::xeddsa::sign_with_random(
        identity.private_key(),
        &spk.encode(),
        &[
            derived_key(&format!("{label}/z0")),
            derived_key(&format!("{label}/z1")),
        ]
        .concat()
        .try_into()
        .unwrap_or([0; 64]),
    )
}

struct Parties {
    initiator: X3dhInitiator,
    responder: X3dhResponder,
}

fn parties(label: &str, with_opk: bool) -> Parties {
    let ika = pair(&format!("{label}/ika"));
    let eka = pair(&format!("{label}/eka"));
    let ikb = pair(&format!("{label}/ikb"));
    let spkb = pair(&format!("{label}/spkb"));
    let opkb = pair(&format!("{label}/opkb"));
    let signature = sign(&ikb, spkb.public_key(), label);
    Parties {
        initiator: X3dhInitiator {
            identity_private_key: Hex::from(*ika.private_key().to_bytes()),
            ephemeral_private_key: Hex::from(*eka.private_key().to_bytes()),
            peer_identity_key: Hex::from(ikb.public_key().as_bytes()),
            peer_signed_prekey: Hex::from(spkb.public_key().as_bytes()),
            peer_signed_prekey_signature: Hex::from(signature),
            peer_one_time_prekey: with_opk.then(|| Hex::from(opkb.public_key().as_bytes())),
        },
        responder: X3dhResponder {
            identity_private_key: Hex::from(*ikb.private_key().to_bytes()),
            signed_prekey_private_key: Hex::from(*spkb.private_key().to_bytes()),
            one_time_prekey_private_key: with_opk
                .then(|| Hex::from(*opkb.private_key().to_bytes())),
            peer_identity_key: Hex::from(ika.public_key().as_bytes()),
            peer_ephemeral_key: Hex::from(eka.public_key().as_bytes()),
        },
    }
}

/// Alice's request for an implementation.
pub fn initiate_request(suite: &str, i: &X3dhInitiator) -> X3dhInitiate {
    X3dhInitiate {
        suite: suite.into(),
        identity_private_key: i.identity_private_key.0.clone(),
        ephemeral_private_key: i.ephemeral_private_key.0.clone(),
        peer_identity_key: i.peer_identity_key.0.clone(),
        peer_signed_prekey: i.peer_signed_prekey.0.clone(),
        peer_signed_prekey_signature: i.peer_signed_prekey_signature.0.clone(),
        peer_one_time_prekey: i.peer_one_time_prekey.as_ref().map(|k| k.0.clone()),
    }
}

/// Bob's request for an implementation.
pub fn respond_request(suite: &str, r: &X3dhResponder) -> X3dhRespond {
    X3dhRespond {
        suite: suite.into(),
        identity_private_key: r.identity_private_key.0.clone(),
        signed_prekey_private_key: r.signed_prekey_private_key.0.clone(),
        one_time_prekey_private_key: r.one_time_prekey_private_key.as_ref().map(|k| k.0.clone()),
        peer_identity_key: r.peer_identity_key.0.clone(),
        peer_ephemeral_key: r.peer_ephemeral_key.0.clone(),
    }
}

struct Builder {
    reference: Reference,
    suite: String,
    tests: Vec<X3dhCase>,
}

impl Builder {
    fn push(
        &mut self,
        comment: &str,
        flags: &[&str],
        initiator: Option<X3dhInitiator>,
        responder: Option<X3dhResponder>,
        want_error: Option<&str>,
    ) -> Result<(), GenerateError> {
        self.push_or(comment, flags, initiator, responder, want_error, &[])
    }

    /// [`Builder::push`] for a refusal whose class the specifications leave
    /// open: `alternatives` are the other classes that conform (SPEC.md §9).
    fn push_or(
        &mut self,
        comment: &str,
        flags: &[&str],
        initiator: Option<X3dhInitiator>,
        responder: Option<X3dhResponder>,
        want_error: Option<&str>,
        alternatives: &[&str],
    ) -> Result<(), GenerateError> {
        let tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        let disagree = |message: String| GenerateError::Disagreement {
            tc_id,
            comment: comment.into(),
            message,
        };
        let mut outputs: Vec<Result<X3dhOutput, String>> = Vec::new();
        if let Some(i) = &initiator {
            outputs.push(
                self.reference
                    .x3dh_initiate(&initiate_request(&self.suite, i))
                    .map_err(|e| e.class.as_str().to_string()),
            );
        }
        if let Some(r) = &responder {
            outputs.push(
                self.reference
                    .x3dh_respond(&respond_request(&self.suite, r))
                    .map_err(|e| e.class.as_str().to_string()),
            );
        }
        let expected = match want_error {
            Some(class) => {
                if !outputs
                    .iter()
                    .any(|o| o.as_ref().err().map(String::as_str) == Some(class))
                {
                    return Err(disagree(format!(
                        "expected {class}, reference gave {outputs:?}"
                    )));
                }
                alternatives.iter().fold(
                    Expected::from(Outcome::Error {
                        error: class.into(),
                    }),
                    |e, alt| e.or_error(alt),
                )
            }
            None => {
                let first = outputs
                    .first()
                    .cloned()
                    .ok_or_else(|| disagree("no side given".into()))?;
                let first = first.map_err(|e| disagree(format!("reference failed: {e}")))?;
                if outputs.iter().any(|o| o.as_ref().ok() != Some(&first)) {
                    return Err(disagree("initiator and responder disagree".into()));
                }
                Expected::from(Outcome::Ok(X3dhExpected {
                    shared_key: first.shared_key.into(),
                    associated_data: first.associated_data.into(),
                }))
            }
        };
        self.tests.push(X3dhCase {
            info: CaseInfo {
                tc_id,
                comment: comment.into(),
                flags: flags.iter().map(|f| (*f).to_string()).collect(),
                result: if want_error.is_some() {
                    Verdict::Invalid
                } else {
                    Verdict::Valid
                },
            },
            initiator,
            responder,
            expected,
        });
        Ok(())
    }
}

pub(super) fn file(suite: &str) -> Result<VectorFile<X3dhCase>, GenerateError> {
    let mut b = Builder {
        reference: Reference::new(),
        suite: suite.into(),
        tests: Vec::new(),
    };
    for i in 0..12 {
        let p = parties(&format!("x3dh/opk/{i}"), true);
        b.push(
            &format!("agreement with a one-time prekey ({i})"),
            &["WithOneTimePrekey"],
            Some(p.initiator),
            Some(p.responder),
            None,
        )?;
    }
    for i in 0..12 {
        let p = parties(&format!("x3dh/no-opk/{i}"), false);
        b.push(
            &format!("agreement without a one-time prekey ({i})"),
            &["WithoutOneTimePrekey"],
            Some(p.initiator),
            Some(p.responder),
            None,
        )?;
    }
    // Flipping bit 7 of byte 63 switches to libsignal's sign-bit convention
    // with the wrong sign, so it must fail too.
    let base = parties("x3dh/badsig", true);
    for byte in [0usize, 1, 15, 31, 32, 33, 47, 62, 63] {
        for bit in [0u8, 7] {
            let mut i = base.initiator.clone();
            if let Some(b) = i.peer_signed_prekey_signature.0.get_mut(byte) {
                *b ^= 1 << bit;
            }
            b.push(
                &format!("signature with bit {bit} of byte {byte} flipped"),
                &["BadSignature"],
                Some(i),
                None,
                Some("authentication"),
            )?;
        }
    }
    {
        let mut i = base.initiator.clone();
        i.peer_signed_prekey = Hex::from(pair("x3dh/badsig/other-spk").public_key().as_bytes());
        b.push(
            "signature by the identity key over a different signed prekey",
            &["BadSignature"],
            Some(i),
            None,
            Some("authentication"),
        )?;
        let mut i = base.initiator.clone();
        i.peer_identity_key = Hex::from(pair("x3dh/badsig/other-ik").public_key().as_bytes());
        b.push(
            "signature checked under the wrong identity key",
            &["BadSignature"],
            Some(i),
            None,
            Some("authentication"),
        )?;
        let mut i = base.initiator.clone();
        i.peer_signed_prekey_signature = Hex(vec![0; 64]);
        b.push(
            "all-zero signature",
            &["BadSignature"],
            Some(i),
            None,
            Some("authentication"),
        )?;
        let mut i = base.initiator.clone();
        // s ≥ 2^253: the top three bits of byte 63 (below the sign bit) set.
        if let Some(last) = i.peer_signed_prekey_signature.0.last_mut() {
            *last |= 0x60;
        }
        b.push(
            "signature with s ≥ 2^253",
            &["BadSignature", "EdgeCase"],
            Some(i),
            None,
            Some("authentication"),
        )?;
    }
    let wrong = |len: usize| Hex(vec![0x42; len]);
    for len in [0usize, 31, 33, 64] {
        let mut i = base.initiator.clone();
        i.peer_identity_key = wrong(len);
        // IKb and SPKb both enter the signature check, which may come
        // first: either order conforms (SPEC.md §9).
        b.push_or(
            &format!("{len}-byte peer identity key"),
            &["WrongLength"],
            Some(i),
            None,
            Some("invalid_key"),
            &["authentication"],
        )?;
        let mut i = base.initiator.clone();
        i.peer_signed_prekey = wrong(len);
        b.push_or(
            &format!("{len}-byte signed prekey"),
            &["WrongLength"],
            Some(i),
            None,
            Some("invalid_key"),
            &["authentication"],
        )?;
        let mut i = base.initiator.clone();
        i.peer_one_time_prekey = Some(wrong(len));
        b.push(
            &format!("{len}-byte one-time prekey"),
            &["WrongLength"],
            Some(i),
            None,
            Some("invalid_key"),
        )?;
        let mut r = base.responder.clone();
        r.peer_ephemeral_key = wrong(len);
        b.push(
            &format!("responder given a {len}-byte ephemeral key"),
            &["WrongLength"],
            None,
            Some(r),
            Some("invalid_key"),
        )?;
        let mut r = base.responder.clone();
        r.peer_identity_key = wrong(len);
        b.push(
            &format!("responder given a {len}-byte peer identity key"),
            &["WrongLength"],
            None,
            Some(r),
            Some("invalid_key"),
        )?;
    }
    for len in [0usize, 63, 65] {
        let mut i = base.initiator.clone();
        i.peer_signed_prekey_signature = wrong(len);
        b.push_or(
            &format!("{len}-byte signature"),
            &["WrongLength"],
            Some(i),
            None,
            Some("invalid_key"),
            &["authentication"],
        )?;
    }
    let notes = BTreeMap::from([
        (
            "WithOneTimePrekey".into(),
            note(
                "BasicTest",
                "SK = HKDF(0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4); both sides derive the same SK and AD = Encode(IKa) ‖ Encode(IKb).",
                &["https://signal.org/docs/specifications/x3dh/#sending-the-initial-message"],
            ),
        ),
        (
            "WithoutOneTimePrekey".into(),
            note(
                "BasicTest",
                "As above without DH4, when the server had no one-time prekey.",
                &["https://signal.org/docs/specifications/x3dh/#sending-the-initial-message"],
            ),
        ),
        (
            "BadSignature".into(),
            note(
                "KnownBug",
                "Alice must verify Sig(IKb, Encode(SPKb)) with XEdDSA and abort on failure. libsignal-node is known to skip this check when starting a session.",
                &[
                    "https://signal.org/docs/specifications/x3dh/#sending-the-initial-message",
                    "https://signal.org/docs/specifications/xeddsa/",
                ],
            ),
        ),
        (
            "WrongLength".into(),
            note(
                "ModifiedInput",
                "A public key, private key or signature of the wrong length must be refused, not truncated or padded. The reference checks lengths first (invalid_key); where the wrong-length input is IKb, SPKb or the signature, an initiator that verifies the signature first refuses it as authentication, and either order conforms (SPEC.md §9): those cases name authentication as an alternative.",
                &[],
            ),
        ),
        (
            "EdgeCase".into(),
            note(
                "EdgeCase",
                "Encodings at the edge of what XEdDSA verification accepts.",
                &["https://signal.org/docs/specifications/xeddsa/#verify"],
            ),
        ),
    ]);
    Ok(vector_file(X3DH_SCHEMA, suite, notes, b.tests))
}
