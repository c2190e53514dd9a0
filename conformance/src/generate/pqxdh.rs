//! PQXDH vectors (`pqxdh.json`): known answers from injected private keys,
//! KEM seeds and encapsulation randomness, with and without a one-time EC
//! prekey; bundles Alice must refuse (either signature bad, a KEM prekey
//! that is not the suite KEM's key); and what Bob derives from ciphertexts
//! that are not Alice's (the implicit-rejection secret) or not ciphertexts
//! of his KEM at all. Every expected value is the reference's, checked
//! against what the case asserts.

use std::collections::BTreeSet;

use ratchetproof_protocol::kem::{KYBER1024_TYPE, Kem, KemKeyPair, ML_KEM_1024_TYPE};
use ratchetproof_protocol::x3dh::SignatureConformance;
use ratchetproof_protocol::{KeyPair, Suite};

use crate::generate::flags::{self, Flag};
use crate::generate::x3dh::pair;
use crate::generate::{GenerateError, derived_key, vector_file};
use crate::implementation::{Implementation, PqxdhOutput};
use crate::reference::Reference;
use crate::runner::requests::{pqxdh_initiate_request, pqxdh_respond_request};
use crate::vectors::{
    CaseInfo, ErrorClass, Expected, Hex, Outcome, PQXDH_SCHEMA, PqxdhCase, PqxdhExpected,
    PqxdhInitiator, PqxdhResponder, VectorFile, Verdict,
};

type R<T> = Result<T, GenerateError>;

fn disagreement(comment: &str, message: String) -> GenerateError {
    GenerateError::Disagreement {
        tc_id: 0,
        comment: comment.into(),
        message,
    }
}

/// The 64-byte KEM key-generation seed of `label`.
pub(crate) fn kem_seed(label: &str) -> [u8; 64] {
    let mut seed = [0u8; 64];
    let (d, z) = seed.split_at_mut(32);
    d.copy_from_slice(&derived_key(&format!("{label}/d")));
    z.copy_from_slice(&derived_key(&format!("{label}/z")));
    seed
}

/// XEdDSA by `identity` over `message` with randomness derived from `label`.
pub(crate) fn sign(identity: &KeyPair, message: &[u8], label: &str) -> [u8; 64] {
    let mut z = [0u8; 64];
    let (z0, z1) = z.split_at_mut(32);
    z0.copy_from_slice(&derived_key(&format!("{label}/z0")));
    z1.copy_from_slice(&derived_key(&format!("{label}/z1")));
    ratchetproof_protocol::xeddsa::sign_with_random(identity.private_key(), message, &z)
}

/// Both sides of one agreement, all keys derived from a label.
#[derive(Clone)]
struct Parties {
    seed: [u8; 64],
    ikb: KeyPair,
    kem: KemKeyPair,
    initiator: PqxdhInitiator,
    responder: PqxdhResponder,
}

impl Parties {
    /// Alice's bundle with `key` as the KEM prekey, signed correctly.
    fn with_kem_key(&self, key: Vec<u8>, label: &str) -> PqxdhInitiator {
        let mut i = self.initiator.clone();
        i.peer_kem_prekey_signature = Hex::from(sign(&self.ikb, &key, &format!("{label}/kem")));
        i.peer_kem_prekey = Hex(key);
        i
    }

    /// Bob's side with `ciphertext` in place of Alice's.
    fn with_ciphertext(&self, ciphertext: Vec<u8>) -> PqxdhResponder {
        let mut r = self.responder.clone();
        r.kem_ciphertext = Hex(ciphertext);
        r
    }
}

fn parties(kem: &dyn Kem, label: &str, with_opk: bool) -> Parties {
    let ika = pair(&format!("{label}/ika"));
    let eka = pair(&format!("{label}/eka"));
    let ikb = pair(&format!("{label}/ikb"));
    let spkb = pair(&format!("{label}/spkb"));
    let opkb = pair(&format!("{label}/opkb"));
    let seed = kem_seed(&format!("{label}/pqpkb"));
    let kem_pair = kem.generate_from_seed(&seed);
    let m = derived_key(&format!("{label}/m"));
    let encoded = kem.encode_public_key(&kem_pair.public);
    let (ct, _) = kem.encapsulate(&kem_pair.public, &m);
    Parties {
        seed,
        initiator: PqxdhInitiator {
            identity_private_key: Hex::from(*ika.private_key().to_bytes()),
            ephemeral_private_key: Hex::from(*eka.private_key().to_bytes()),
            encapsulation_seed: Hex::from(m),
            peer_identity_key: Hex::from(ikb.public_key().as_bytes()),
            peer_signed_prekey: Hex::from(spkb.public_key().as_bytes()),
            peer_signed_prekey_signature: Hex::from(sign(
                &ikb,
                &spkb.public_key().encode(),
                &format!("{label}/spk"),
            )),
            peer_kem_prekey_signature: Hex::from(sign(&ikb, &encoded, &format!("{label}/kem"))),
            peer_kem_prekey: Hex(encoded),
            peer_one_time_prekey: with_opk.then(|| Hex::from(opkb.public_key().as_bytes())),
        },
        responder: PqxdhResponder {
            identity_private_key: Hex::from(*ikb.private_key().to_bytes()),
            signed_prekey_private_key: Hex::from(*spkb.private_key().to_bytes()),
            one_time_prekey_private_key: with_opk
                .then(|| Hex::from(*opkb.private_key().to_bytes())),
            kem_prekey_private_key: Hex::from(kem_pair.secret.as_bytes()),
            peer_identity_key: Hex::from(ika.public_key().as_bytes()),
            peer_ephemeral_key: Hex::from(eka.public_key().as_bytes()),
            kem_ciphertext: Hex(kem.encode_ciphertext(&ct)),
        },
        ikb,
        kem: kem_pair,
    }
}

/// Collects cases, each one's expected outcome taken from the reference.
struct Builder {
    reference: Reference,
    suite: String,
    tests: Vec<PqxdhCase>,
    used: BTreeSet<Flag>,
}

/// What a case asserts.
enum Want<'a> {
    /// Both given sides agree on SK and AD.
    Agree,
    /// The given side(s) succeed; refusing with `.0` conforms too.
    AgreeOrRefuse(ErrorClass),
    /// Refused with the first class; the others conform too.
    Refuse(&'a [ErrorClass]),
}

impl Builder {
    fn push(
        &mut self,
        comment: &str,
        flags: &[Flag],
        p: &Parties,
        initiator: Option<PqxdhInitiator>,
        responder: Option<PqxdhResponder>,
        want: Want<'_>,
    ) -> R<PqxdhOutput> {
        let tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        let disagree = |message: String| GenerateError::Disagreement {
            tc_id,
            comment: comment.into(),
            message,
        };
        let mut outputs = Vec::new();
        if let Some(i) = &initiator {
            outputs.push(
                self.reference
                    .pqxdh_initiate(&pqxdh_initiate_request(&self.suite, i))
                    .map_err(|e| e.class),
            );
        }
        if let Some(r) = &responder {
            outputs.push(
                self.reference
                    .pqxdh_respond(&pqxdh_respond_request(&self.suite, r))
                    .map_err(|e| e.class),
            );
        }
        let (expected, result, output) =
            match want {
                Want::Refuse(classes) => {
                    let class = *classes.first().ok_or_else(|| disagree("no class".into()))?;
                    if !outputs.iter().any(|o| o.as_ref().err() == Some(&class)) {
                        return Err(disagree(format!(
                            "expected {class}, reference gave {outputs:?}"
                        )));
                    }
                    let expected = classes
                        .iter()
                        .skip(1)
                        .fold(Expected::from(Outcome::Error { error: class }), |e, alt| {
                            e.or_error(*alt)
                        });
                    let none = PqxdhOutput {
                        shared_key: Vec::new(),
                        associated_data: Vec::new(),
                        kem_ciphertext: None,
                    };
                    (expected, Verdict::Invalid, none)
                }
                Want::Agree | Want::AgreeOrRefuse(_) => {
                    let mut ok = outputs
                        .iter()
                        .map(|o| {
                            o.clone()
                                .map_err(|e| disagree(format!("reference failed: {e}")))
                        })
                        .collect::<R<Vec<_>>>()?
                        .into_iter();
                    let first = ok.next().ok_or_else(|| disagree("no side given".into()))?;
                    let kem_ciphertext =
                        if initiator.is_some() {
                            Some(first.kem_ciphertext.clone().ok_or_else(|| {
                                disagree("the initiator gave no ciphertext".into())
                            })?)
                        } else {
                            None
                        };
                    for other in ok {
                        if other.shared_key != first.shared_key
                            || other.associated_data != first.associated_data
                        {
                            return Err(disagree("initiator and responder disagree".into()));
                        }
                    }
                    let mut expected = Expected::from(Outcome::Ok(PqxdhExpected {
                        shared_key: Hex(first.shared_key.clone()),
                        associated_data: Hex(first.associated_data.clone()),
                        kem_ciphertext: kem_ciphertext.map(Hex),
                    }));
                    let mut result = Verdict::Valid;
                    if let Want::AgreeOrRefuse(class) = want {
                        expected = expected.or_error(class);
                        result = Verdict::Acceptable;
                    }
                    (expected, result, first)
                }
            };
        self.used.extend(flags);
        self.tests.push(PqxdhCase {
            info: CaseInfo {
                tc_id,
                comment: comment.into(),
                flags: flags::names(flags),
                result,
            },
            kem_prekey_seed: Hex::from(p.seed),
            initiator,
            responder,
            expected,
        });
        Ok(output)
    }
}

fn flip(bytes: &Hex, at: usize, bit: u8) -> Hex {
    let mut out = bytes.clone();
    if let Some(b) = out.0.get_mut(at) {
        *b ^= 1 << bit;
    }
    out
}

pub(super) fn file(suite: Suite) -> R<VectorFile<PqxdhCase>> {
    let kem = suite
        .key_agreement()
        .kem()
        .ok_or_else(|| disagreement(suite.name(), "not a PQXDH suite".into()))?;
    let mut b = Builder {
        reference: Reference::with_suites([suite]),
        suite: suite.name().into(),
        tests: Vec::new(),
        used: BTreeSet::new(),
    };
    // Known answers, both sides.
    for (with_opk, flag, what) in [
        (true, Flag::PqxdhWithOneTimePrekey, "with"),
        (false, Flag::PqxdhWithoutOneTimePrekey, "without"),
    ] {
        for i in 0..6 {
            let p = parties(kem, &format!("pqxdh/{what}-opk/{i}"), with_opk);
            b.push(
                &format!("agreement {what} a one-time prekey ({i})"),
                &[flag],
                &p,
                Some(p.initiator.clone()),
                Some(p.responder.clone()),
                Want::Agree,
            )?;
        }
    }
    // libsignal's XEdDSA convention (SPEC.md §7.3) over EncodeKEM: the
    // PQXDH suites are libsignal's, so accepting it is required.
    let libsignal = (0..64).find_map(|i| {
        let label = format!("pqxdh/libsignal/{i}");
        let p = parties(kem, &label, false);
        let key = p.initiator.peer_kem_prekey.0.clone();
        crate::generate::x3dh::signatures::libsignal_sign(&p.ikb, &key, &label).map(|sig| (p, sig))
    });
    let (p, sig) = libsignal.ok_or_else(|| {
        disagreement(
            "pqxdh/libsignal",
            "no label gives a libsignal signature".into(),
        )
    })?;
    let mut i = p.initiator.clone();
    i.peer_kem_prekey_signature = Hex::from(sig);
    if suite.key_agreement().signature_conformance() != SignatureConformance::Libsignal {
        return Err(disagreement(
            "pqxdh/libsignal",
            "a PQXDH suite that is not libsignal's: decide what its KEM-prekey signatures must accept".into(),
        ));
    }
    b.push(
        "KEM-prekey signature in libsignal's convention (sign bit of the Edwards key in bit 255 of s) is accepted",
        &[Flag::PqxdhLibsignalSignBit],
        &p,
        Some(i),
        Some(p.responder.clone()),
        Want::Agree,
    )?;
    let base = parties(kem, "pqxdh/refused", true);
    let auth: &[ErrorClass] = &[ErrorClass::Authentication];
    let invalid_key: &[ErrorClass] = &[ErrorClass::InvalidKey];

    // The EC signature, still checked.
    for (byte, bit) in [(0usize, 0u8), (32, 3), (63, 7)] {
        let mut i = base.initiator.clone();
        i.peer_signed_prekey_signature = flip(&i.peer_signed_prekey_signature, byte, bit);
        b.push(
            &format!("signed-prekey signature with bit {bit} of byte {byte} flipped"),
            &[Flag::PqxdhBadSignature],
            &base,
            Some(i),
            None,
            Want::Refuse(auth),
        )?;
    }
    // The KEM prekey's signature.
    for (byte, bit) in [(0usize, 0u8), (31, 5), (32, 0), (63, 7)] {
        let mut i = base.initiator.clone();
        i.peer_kem_prekey_signature = flip(&i.peer_kem_prekey_signature, byte, bit);
        b.push(
            &format!("KEM-prekey signature with bit {bit} of byte {byte} flipped"),
            &[Flag::BadKemSignature],
            &base,
            Some(i),
            None,
            Want::Refuse(auth),
        )?;
    }
    {
        let mut i = base.initiator.clone();
        i.peer_kem_prekey = flip(&i.peer_kem_prekey, 700, 0);
        b.push(
            "KEM prekey with one bit flipped under the original signature",
            &[Flag::BadKemSignature],
            &base,
            Some(i),
            None,
            Want::Refuse(auth),
        )?;
        let mut i = base.initiator.clone();
        let bare = base.kem.public.as_bytes().to_vec();
        i.peer_kem_prekey_signature = Hex::from(sign(&base.ikb, &bare, "pqxdh/refused/bare"));
        b.push(
            "KEM-prekey signature over the bare key, without the type byte (EncodeKEM includes it)",
            &[Flag::BadKemSignature],
            &base,
            Some(i),
            None,
            Want::Refuse(auth),
        )?;
        let mut i = base.initiator.clone();
        i.peer_kem_prekey_signature = i.peer_signed_prekey_signature.clone();
        b.push(
            "the signed EC prekey's signature in place of the KEM prekey's",
            &[Flag::BadKemSignature],
            &base,
            Some(i),
            None,
            Want::Refuse(auth),
        )?;
        let mut i = base.initiator.clone();
        i.peer_kem_prekey_signature = Hex(vec![0; 64]);
        b.push(
            "all-zero KEM-prekey signature",
            &[Flag::BadKemSignature],
            &base,
            Some(i),
            None,
            Want::Refuse(auth),
        )?;
    }
    // Correctly signed keys that are not this KEM's encoded key.
    let encoded = base.initiator.peer_kem_prekey.0.clone();
    let bare = base.kem.public.as_bytes().to_vec();
    let other_type = if kem.type_byte() == KYBER1024_TYPE {
        ML_KEM_1024_TYPE
    } else {
        KYBER1024_TYPE
    };
    let retyped = |t: u8| {
        let mut k = encoded.clone();
        if let Some(first) = k.first_mut() {
            *first = t;
        }
        k
    };
    let mut longer = encoded.clone();
    longer.push(0);
    let shorter = encoded
        .get(..encoded.len() - 1)
        .unwrap_or_default()
        .to_vec();
    for (key, what) in [
        (
            retyped(other_type),
            format!("the other KEM's type byte 0x{other_type:02x}"),
        ),
        (
            retyped(0x05),
            "type byte 0x05 (an X25519 key's) in place of the KEM's".into(),
        ),
        (bare, "no type byte (the bare 1568-byte key)".into()),
        (shorter, "its last byte cut (1568 bytes)".into()),
        (longer, "one byte appended (1570 bytes)".into()),
        (vec![kem.type_byte()], "the type byte alone".into()),
        (
            Vec::new(),
            "nothing: an empty KEM prekey (a bundle without one)".into(),
        ),
    ] {
        let i = base.with_kem_key(key, &format!("pqxdh/refused/{what}"));
        b.push(
            &format!("correctly signed KEM prekey with {what} is refused"),
            &[Flag::WrongKemKey],
            &base,
            Some(i),
            None,
            Want::Refuse(invalid_key),
        )?;
    }
    // A key failing FIPS 203's modulus check: coefficient 0 set to 4095.
    {
        let mut key = encoded.clone();
        if let [_, b0, b1, ..] = key.as_mut_slice() {
            *b0 = 0xff;
            *b1 |= 0x0f;
        }
        let i = base.with_kem_key(key, "pqxdh/refused/modulus");
        let comment = "correctly signed KEM prekey with a coefficient ≥ q (4095)";
        if kem.type_byte() == ML_KEM_1024_TYPE {
            b.push(
                &format!("{comment} is refused: FIPS 203's encapsulation-key check"),
                &[Flag::KemModulusCheck],
                &base,
                Some(i),
                None,
                Want::Refuse(invalid_key),
            )?;
        } else {
            b.push(
                &format!(
                    "{comment} is encapsulated to: round-3 Kyber has no key check (refusing conforms too)"
                ),
                &[Flag::KemModulusCheck],
                &base,
                Some(i),
                None,
                Want::AgreeOrRefuse(ErrorClass::InvalidKey),
            )?;
        }
    }
    for len in [0usize, 63, 65] {
        let mut i = base.initiator.clone();
        i.peer_kem_prekey_signature = Hex(vec![0x42; len]);
        b.push(
            &format!("{len}-byte KEM-prekey signature"),
            &[Flag::WrongPqxdhLength],
            &base,
            Some(i),
            None,
            Want::Refuse(&[ErrorClass::InvalidKey, ErrorClass::Authentication]),
        )?;
    }

    // Bob's side: ciphertexts that are not Alice's.
    let genuine = b.push(
        "Bob's side alone: the genuine ciphertext gives Alice's SK",
        &[Flag::PqxdhWithOneTimePrekey],
        &base,
        None,
        Some(base.responder.clone()),
        Want::Agree,
    )?;
    let ct = base.responder.kem_ciphertext.clone();
    for (at, bit) in [(1usize, 0u8), (700, 4), (1568, 7)] {
        let r = base.with_ciphertext(flip(&ct, at, bit).0);
        let got = b.push(
            &format!(
                "ciphertext with bit {bit} of byte {at} flipped decapsulates to the implicit-rejection secret: another SK, no error"
            ),
            &[Flag::ImplicitRejection],
            &base,
            None,
            Some(r),
            Want::Agree,
        )?;
        if got.shared_key == genuine.shared_key {
            return Err(disagreement(
                "implicit rejection",
                "a tampered ciphertext gave Alice's SK".into(),
            ));
        }
    }
    let mut longer = ct.0.clone();
    longer.push(0);
    let mut retyped_ct = ct.0.clone();
    if let Some(first) = retyped_ct.first_mut() {
        *first = other_type;
    }
    for (c, what) in [
        (
            ct.0.get(..ct.0.len() - 1).unwrap_or_default().to_vec(),
            "its last byte cut (1568 bytes)".to_string(),
        ),
        (longer, "one byte appended (1570 bytes)".into()),
        (
            ct.0.get(1..).unwrap_or_default().to_vec(),
            "no type byte (the bare 1568-byte ciphertext)".into(),
        ),
        (
            retyped_ct,
            format!("the other KEM's type byte 0x{other_type:02x}"),
        ),
        (Vec::new(), "nothing (empty)".into()),
    ] {
        b.push(
            &format!("Bob given a ciphertext with {what} refuses it"),
            &[Flag::WrongKemCiphertext],
            &base,
            None,
            Some(base.with_ciphertext(c)),
            Want::Refuse(invalid_key),
        )?;
    }
    let mut r = base.responder.clone();
    r.kem_prekey_private_key = Hex(r
        .kem_prekey_private_key
        .0
        .get(..r.kem_prekey_private_key.0.len() - 1)
        .unwrap_or_default()
        .to_vec());
    b.push(
        "Bob given a 3167-byte KEM decapsulation key refuses it",
        &[Flag::WrongPqxdhLength],
        &base,
        None,
        Some(r),
        Want::Refuse(invalid_key),
    )?;
    let notes = flags::notes(b.used)?;
    Ok(vector_file(PQXDH_SCHEMA, suite.name(), notes, b.tests))
}
