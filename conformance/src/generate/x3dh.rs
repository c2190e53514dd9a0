//! X3DH vectors: agreement with and without a one-time prekey from injected
//! private keys, bundles whose signature must be refused, and keys of the
//! wrong length. Signatures in bundles are made by the reference's XEdDSA.

pub(crate) mod signatures;

use std::collections::BTreeSet;

use ratchetproof_protocol::x3dh::SignatureConformance;
use ratchetproof_protocol::{KeyPair, PrivateKey, PublicKey, Suite};

use crate::generate::flags::{self, Flag};
use crate::generate::{GenerateError, derived_key, vector_file};
use crate::implementation::{Implementation, X3dhOutput};
use crate::reference::Reference;
use crate::runner::requests::{initiate_request, respond_request};
use crate::vectors::ErrorClass;
use crate::vectors::{
    CaseInfo, Expected, Hex, Outcome, VectorFile, Verdict, X3DH_SCHEMA, X3dhCase, X3dhExpected,
    X3dhInitiator, X3dhResponder,
};

pub(crate) fn pair(label: &str) -> KeyPair {
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

/// Both sides of one agreement, all keys derived from a label.
pub(crate) struct Parties {
    pub(crate) initiator: X3dhInitiator,
    pub(crate) responder: X3dhResponder,
}

pub(crate) fn parties(label: &str, with_opk: bool) -> Parties {
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

/// Collects cases, each one's expected outcome taken from the reference and
/// checked against what the case asserts.
pub(crate) struct Builder {
    reference: Reference,
    suite: String,
    /// Which edge signatures the suite's initiator must accept (SPEC.md §7.3).
    signatures: SignatureConformance,
    tests: Vec<X3dhCase>,
    /// The flags the cases use, for the file's notes.
    used: BTreeSet<Flag>,
}

impl Builder {
    /// An empty builder for `suite`.
    pub(crate) fn new(suite: Suite) -> Self {
        Self {
            reference: Reference::with_suites([suite]),
            suite: suite.name().into(),
            signatures: suite.key_agreement().signature_conformance(),
            tests: Vec::new(),
            used: BTreeSet::new(),
        }
    }

    /// The cases built so far.
    pub(crate) fn into_cases(self) -> Vec<X3dhCase> {
        self.tests
    }

    pub(crate) fn push(
        &mut self,
        comment: &str,
        flags: &[Flag],
        initiator: Option<X3dhInitiator>,
        responder: Option<X3dhResponder>,
        want_error: Option<ErrorClass>,
    ) -> Result<(), GenerateError> {
        self.push_or(comment, flags, initiator, responder, want_error, &[])
    }

    /// A signature at the edge of XEdDSA that the reference accepts (SPEC.md
    /// §7.2, §7.3): required where the suite is libsignal's, and where the
    /// suite follows the published XEdDSA a refusal (`authentication`)
    /// conforms too, so the case is `acceptable`.
    pub(crate) fn push_edge_signature(
        &mut self,
        comment: &str,
        flags: &[Flag],
        initiator: Option<X3dhInitiator>,
        responder: Option<X3dhResponder>,
    ) -> Result<(), GenerateError> {
        self.push(comment, flags, initiator, responder, None)?;
        if self.signatures == SignatureConformance::Xeddsa
            && let Some(case) = self.tests.last_mut()
        {
            case.info.result = Verdict::Acceptable;
            case.expected = case.expected.clone().or_error(ErrorClass::Authentication);
        }
        Ok(())
    }

    /// [`Builder::push`] for a refusal whose class the specifications leave
    /// open: `alternatives` are the other classes that conform (SPEC.md §9).
    pub(crate) fn push_or(
        &mut self,
        comment: &str,
        flags: &[Flag],
        initiator: Option<X3dhInitiator>,
        responder: Option<X3dhResponder>,
        want_error: Option<ErrorClass>,
        alternatives: &[ErrorClass],
    ) -> Result<(), GenerateError> {
        let tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        let disagree = |message: String| GenerateError::Disagreement {
            tc_id,
            comment: comment.into(),
            message,
        };
        let mut outputs: Vec<Result<X3dhOutput, ErrorClass>> = Vec::new();
        if let Some(i) = &initiator {
            outputs.push(
                self.reference
                    .x3dh_initiate(&initiate_request(&self.suite, i))
                    .map_err(|e| e.class),
            );
        }
        if let Some(r) = &responder {
            outputs.push(
                self.reference
                    .x3dh_respond(&respond_request(&self.suite, r))
                    .map_err(|e| e.class),
            );
        }
        let expected = match want_error {
            Some(class) => {
                if !outputs.iter().any(|o| o.as_ref().err() == Some(&class)) {
                    return Err(disagree(format!(
                        "expected {class}, reference gave {outputs:?}"
                    )));
                }
                alternatives
                    .iter()
                    .fold(Expected::from(Outcome::Error { error: class }), |e, alt| {
                        e.or_error(*alt)
                    })
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
        self.used.extend(flags);
        self.tests.push(X3dhCase {
            info: CaseInfo {
                tc_id,
                comment: comment.into(),
                flags: flags::names(flags),
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

pub(super) fn file(suite: Suite) -> Result<VectorFile<X3dhCase>, GenerateError> {
    let mut b = Builder::new(suite);
    for i in 0..12 {
        let p = parties(&format!("x3dh/opk/{i}"), true);
        b.push(
            &format!("agreement with a one-time prekey ({i})"),
            &[Flag::WithOneTimePrekey],
            Some(p.initiator),
            Some(p.responder),
            None,
        )?;
    }
    for i in 0..12 {
        let p = parties(&format!("x3dh/no-opk/{i}"), false);
        b.push(
            &format!("agreement without a one-time prekey ({i})"),
            &[Flag::WithoutOneTimePrekey],
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
                &[Flag::BadSignature],
                Some(i),
                None,
                Some(ErrorClass::Authentication),
            )?;
        }
    }
    {
        let mut i = base.initiator.clone();
        i.peer_signed_prekey = Hex::from(pair("x3dh/badsig/other-spk").public_key().as_bytes());
        b.push(
            "signature by the identity key over a different signed prekey",
            &[Flag::BadSignature],
            Some(i),
            None,
            Some(ErrorClass::Authentication),
        )?;
        let mut i = base.initiator.clone();
        i.peer_identity_key = Hex::from(pair("x3dh/badsig/other-ik").public_key().as_bytes());
        b.push(
            "signature checked under the wrong identity key",
            &[Flag::BadSignature],
            Some(i),
            None,
            Some(ErrorClass::Authentication),
        )?;
        let mut i = base.initiator.clone();
        i.peer_signed_prekey_signature = Hex(vec![0; 64]);
        b.push(
            "all-zero signature",
            &[Flag::BadSignature],
            Some(i),
            None,
            Some(ErrorClass::Authentication),
        )?;
        let mut i = base.initiator.clone();
        // s ≥ 2^253: the top three bits of byte 63 (below the sign bit) set.
        if let Some(last) = i.peer_signed_prekey_signature.0.last_mut() {
            *last |= 0x60;
        }
        b.push(
            "signature with s ≥ 2^253",
            &[Flag::BadSignature, Flag::XeddsaEncodingEdge],
            Some(i),
            None,
            Some(ErrorClass::Authentication),
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
            &[Flag::WrongX3dhLength],
            Some(i),
            None,
            Some(ErrorClass::InvalidKey),
            &[ErrorClass::Authentication],
        )?;
        let mut i = base.initiator.clone();
        i.peer_signed_prekey = wrong(len);
        b.push_or(
            &format!("{len}-byte signed prekey"),
            &[Flag::WrongX3dhLength],
            Some(i),
            None,
            Some(ErrorClass::InvalidKey),
            &[ErrorClass::Authentication],
        )?;
        let mut i = base.initiator.clone();
        i.peer_one_time_prekey = Some(wrong(len));
        b.push(
            &format!("{len}-byte one-time prekey"),
            &[Flag::WrongX3dhLength],
            Some(i),
            None,
            Some(ErrorClass::InvalidKey),
        )?;
        let mut r = base.responder.clone();
        r.peer_ephemeral_key = wrong(len);
        b.push(
            &format!("responder given a {len}-byte ephemeral key"),
            &[Flag::WrongX3dhLength],
            None,
            Some(r),
            Some(ErrorClass::InvalidKey),
        )?;
        let mut r = base.responder.clone();
        r.peer_identity_key = wrong(len);
        b.push(
            &format!("responder given a {len}-byte peer identity key"),
            &[Flag::WrongX3dhLength],
            None,
            Some(r),
            Some(ErrorClass::InvalidKey),
        )?;
    }
    for len in [0usize, 63, 65] {
        let mut i = base.initiator.clone();
        i.peer_signed_prekey_signature = wrong(len);
        b.push_or(
            &format!("{len}-byte signature"),
            &[Flag::WrongX3dhLength],
            Some(i),
            None,
            Some(ErrorClass::InvalidKey),
            &[ErrorClass::Authentication],
        )?;
    }
    xeddsa_rules(&mut b)?;
    let notes = flags::notes(b.used)?;
    Ok(vector_file(X3DH_SCHEMA, suite.name(), notes, b.tests))
}

/// The first label `{prefix}/{i}` for which `make` gives a value.
pub(crate) fn search<T>(
    prefix: &str,
    make: impl Fn(&str) -> Option<T>,
) -> Result<(String, T), GenerateError> {
    (0..64)
        .map(|i| format!("{prefix}/{i}"))
        .find_map(|label| make(&label).map(|v| (label, v)))
        .ok_or_else(|| GenerateError::Disagreement {
            tc_id: 0,
            comment: prefix.into(),
            message: "no label gives the wanted signature".into(),
        })
}

/// Parties of `label` whose bundle carries `signature` instead of the spec one.
pub(crate) fn with_signature(label: &str, with_opk: bool, signature: [u8; 64]) -> Parties {
    let mut p = parties(label, with_opk);
    p.initiator.peer_signed_prekey_signature = Hex::from(signature);
    p
}

/// Alice's side of `label` with the identity key `ikb` and `signature`.
pub(crate) fn initiator_with(label: &str, ikb: [u8; 32], signature: [u8; 64]) -> X3dhInitiator {
    let mut i = parties(label, true).initiator;
    i.peer_identity_key = Hex::from(ikb);
    i.peer_signed_prekey_signature = Hex::from(signature);
    i
}

/// One vector per rule of XEdDSA verification (SPEC.md §7.2, §7.3), each
/// signature built so that only its rule decides (see `signatures`).
fn xeddsa_rules(b: &mut Builder) -> Result<(), GenerateError> {
    let spk_of = |label: &str| pair(&format!("{label}/spkb")).public_key().encode();
    let ikb_of = |label: &str| pair(&format!("{label}/ikb"));
    // §7.3: libsignal's sign-bit convention verifies.
    let (label, sig) = search("x3dh/libsignal", |l| {
        signatures::libsignal_sign(&ikb_of(l), &spk_of(l), l)
    })?;
    let p = with_signature(&label, true, sig);
    b.push_edge_signature(
        "signature in libsignal's convention (sign bit of the Edwards key in bit 255 of s) is accepted",
        &[Flag::LibsignalSignBit],
        Some(p.initiator),
        Some(p.responder),
    )?;
    let mut cleared = sig;
    cleared[63] &= 0x7F;
    let p = with_signature(&label, true, cleared);
    b.push(
        "the libsignal-convention signature with its sign bit cleared is refused",
        &[Flag::LibsignalSignBit, Flag::BadSignature],
        Some(p.initiator),
        None,
        Some(ErrorClass::Authentication),
    )?;
    // §7.2 step 2: s ≥ 2^253 is refused even where the equation holds.
    let (label, sig) = search("x3dh/s-unreduced", |l| {
        signatures::s_plus_q(&ikb_of(l), &spk_of(l), l, 1, 0x00)
    })?;
    let p = with_signature(&label, false, sig);
    b.push_edge_signature(
        "signature whose s is not reduced (s + q < 2^253) is accepted: XEdDSA bounds s by 2^253, not q",
        &[Flag::UnreducedS],
        Some(p.initiator),
        Some(p.responder),
    )?;
    for (k, top, what) in [(2u16, 0x20u8, "s + 2q"), (4, 0x40, "s + 4q")] {
        let (label, sig) = search(&format!("x3dh/s-bound/{k}"), |l| {
            signatures::s_plus_q(&ikb_of(l), &spk_of(l), l, k, top)
        })?;
        let p = with_signature(&label, false, sig);
        b.push(
            &format!(
                "signature with {what} ≥ 2^253 in place of s is refused (the equation holds mod q; only the s bound rejects it)"
            ),
            &[Flag::SBound, Flag::BadSignature],
            Some(p.initiator),
            None,
            Some(ErrorClass::Authentication),
        )?;
    }
    // §7.2 step 3: the key is read as 256 bits and must be below p.
    let label = "x3dh/u-nine";
    let spk = spk_of(label);
    let sig = signatures::sign_as_nine(&spk, label);
    b.push(
        "identity key u = 9 (the base point) with a valid signature is accepted (initiator only: no private key has this public key)",
        &[Flag::NonCanonicalKey],
        Some(initiator_with(label, signatures::NINE, sig)),
        None,
        None,
    )?;
    for (key, what) in [
        (signatures::NINE_PLUS_P, "u = 9 + p (not reduced mod p)"),
        (signatures::NINE_HIGH_BIT, "u = 9 with bit 255 set"),
    ] {
        b.push(
            &format!(
                "identity key {what} with a signature valid for u = 9 is refused (u ≥ p, all 256 bits)"
            ),
            &[Flag::NonCanonicalKey, Flag::BadSignature],
            Some(initiator_with(label, key, sig)),
            None,
            Some(ErrorClass::Authentication),
        )?;
    }
    // §7.2 step 4: u = p − 1 has no Edwards y; u on the twist has no point.
    let label = "x3dh/u-p-minus-one";
    let forged = signatures::forged_for_p_minus_one(&spk_of(label), label).ok_or_else(|| {
        GenerateError::Disagreement {
            tc_id: 0,
            comment: label.into(),
            message: "no forgery found".into(),
        }
    })?;
    b.push(
        "identity key u = p − 1 is refused (a signature that verifies if y = (u − 1)/(u + 1) is computed with inv(0) = 0)",
        &[Flag::NonCanonicalKey, Flag::BadSignature],
        Some(initiator_with(label, signatures::P_MINUS_ONE, forged)),
        None,
        Some(ErrorClass::Authentication),
    )?;
    let label = "x3dh/u-twist";
    let twist_sig = signatures::spec_sign(&ikb_of(label), &spk_of(label), label);
    b.push(
        "identity key u on the twist (no Edwards point) is refused",
        &[Flag::NonCanonicalKey, Flag::BadSignature],
        Some(initiator_with(label, signatures::twist_u(), twist_sig)),
        None,
        Some(ErrorClass::Authentication),
    )?;
    // §7.2 step 6: R is compared byte for byte, not as a point.
    let label = "x3dh/r-noncanonical";
    let mut negative_zero = [0u8; 32];
    negative_zero[0] = 1;
    negative_zero[31] = 0x80;
    // p + 1 = 2^255 − 18: y = 1 not reduced.
    let mut one_plus_p = [0xFFu8; 32];
    one_plus_p[0] = 0xEE;
    one_plus_p[31] = 0x7F;
    for (r_enc, what) in [
        (negative_zero, "x = 0 with the sign bit set"),
        (one_plus_p, "y = p + 1"),
    ] {
        let sig = signatures::identity_r(&ikb_of(label), &spk_of(label), r_enc);
        let p = with_signature(label, false, sig);
        b.push(
            &format!(
                "signature whose R is a non-canonical encoding of the identity point ({what}) is refused: R is compared byte for byte"
            ),
            &[Flag::NonCanonicalR, Flag::BadSignature],
            Some(p.initiator),
            None,
            Some(ErrorClass::Authentication),
        )?;
    }
    Ok(())
}
