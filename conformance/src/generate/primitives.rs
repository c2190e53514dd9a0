//! Known answers for KDF_RK, KDF_CK, message-key expansion and message
//! encryption, plus inputs of the wrong length that must be refused.

use std::collections::BTreeSet;

use ratchetproof_protocol::Suite;

use crate::generate::flags::{self, Flag};
use crate::generate::{GenerateError, derived_key, vector_file};
use crate::reference::Reference;
use crate::runner::requests::run_primitive;
use crate::vectors::{
    CaseInfo, Hex, Outcome, PRIMITIVES_SCHEMA, PrimitiveCase, PrimitiveInput, VectorFile, Verdict,
};

struct Builder {
    reference: Reference,
    suite: String,
    tests: Vec<PrimitiveCase>,
    /// The flags the cases use, for the file's notes.
    used: BTreeSet<Flag>,
}

impl Builder {
    fn push(
        &mut self,
        comment: String,
        flags: &[Flag],
        input: PrimitiveInput,
    ) -> Result<(), GenerateError> {
        let tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        let outcome = run_primitive(&mut self.reference, &self.suite, &input);
        let expected = match outcome {
            Ok(out) => Outcome::Ok(out),
            Err(e) => Outcome::Error { error: e.class },
        };
        let result = match expected {
            Outcome::Ok(_) => Verdict::Valid,
            Outcome::Error { .. } => Verdict::Invalid,
        };
        let wants_invalid = flags.contains(&Flag::WrongPrimitiveLength);
        if wants_invalid != (result == Verdict::Invalid) {
            return Err(GenerateError::Disagreement {
                tc_id,
                comment,
                message: format!("reference returned {expected:?}"),
            });
        }
        self.used.extend(flags);
        self.tests.push(PrimitiveCase {
            info: CaseInfo {
                tc_id,
                comment,
                flags: flags::names(flags),
                result,
            },
            input,
            expected: expected.into(),
        });
        Ok(())
    }
}

fn k(label: String) -> Hex {
    Hex::from(derived_key(&label))
}

fn bytes(label: &str, len: usize) -> Hex {
    let mut out = Vec::with_capacity(len);
    let mut i = 0u32;
    while out.len() < len {
        out.extend_from_slice(&derived_key(&format!("{label}/{i}")));
        i += 1;
    }
    out.truncate(len);
    Hex(out)
}

pub(super) fn file(suite: Suite) -> Result<VectorFile<PrimitiveCase>, GenerateError> {
    let mut b = Builder {
        reference: Reference::with_suites([suite]),
        suite: suite.name().into(),
        tests: Vec::new(),
        used: BTreeSet::new(),
    };
    for i in 0..32 {
        b.push(
            format!("KDF_RK known answer {i}"),
            &[Flag::KdfRk],
            PrimitiveInput::KdfRk {
                root_key: k(format!("kdf_rk/{i}/rk")),
                dh_output: k(format!("kdf_rk/{i}/dh")),
            },
        )?;
    }
    b.push(
        "KDF_RK with all-zero inputs".into(),
        &[Flag::KdfRk, Flag::BoundaryValues],
        PrimitiveInput::KdfRk {
            root_key: Hex(vec![0; 32]),
            dh_output: Hex(vec![0; 32]),
        },
    )?;
    for i in 0..32 {
        b.push(
            format!("KDF_CK known answer {i}"),
            &[Flag::KdfCk],
            PrimitiveInput::KdfCk {
                chain_key: k(format!("kdf_ck/{i}/ck")),
            },
        )?;
    }
    for i in 0..32 {
        b.push(
            format!("message key expansion known answer {i}"),
            &[Flag::MessageKeys],
            PrimitiveInput::MessageKeys {
                message_key: k(format!("message_keys/{i}/mk")),
            },
        )?;
    }
    let sizes = [0usize, 1, 15, 16, 17, 31, 32, 33, 64, 100, 255, 1024];
    for (i, len) in sizes.iter().enumerate() {
        b.push(
            format!("seal a {len}-byte plaintext"),
            &[Flag::Seal],
            PrimitiveInput::Seal {
                message_key: k(format!("seal/{i}/mk")),
                ratchet_key: k(format!("seal/{i}/dh")),
                pn: 3,
                n: u32::try_from(i).unwrap_or(0),
                plaintext: bytes(&format!("seal/{i}/pt"), *len),
                ad: bytes(&format!("seal/{i}/ad"), 66),
            },
        )?;
    }
    for (i, ad_len) in [0usize, 1, 65, 66, 67, 300].iter().enumerate() {
        b.push(
            format!("seal with {ad_len}-byte associated data"),
            &[Flag::Seal, Flag::AssociatedData],
            PrimitiveInput::Seal {
                message_key: k(format!("seal-ad/{i}/mk")),
                ratchet_key: k(format!("seal-ad/{i}/dh")),
                pn: 0,
                n: 0,
                plaintext: bytes(&format!("seal-ad/{i}/pt"), 20),
                ad: bytes(&format!("seal-ad/{i}/ad"), *ad_len),
            },
        )?;
    }
    for (pn, n) in [
        (0u32, 0u32),
        (u32::MAX, 0),
        (0, u32::MAX - 1),
        (0x0102_0304, 0x0506_0708),
    ] {
        b.push(
            format!("seal with header counters pn={pn} n={n}"),
            &[Flag::Seal, Flag::BoundaryValues],
            PrimitiveInput::Seal {
                message_key: k(format!("seal-ctr/{pn}/{n}/mk")),
                ratchet_key: k(format!("seal-ctr/{pn}/{n}/dh")),
                pn,
                n,
                plaintext: bytes("seal-ctr/pt", 8),
                ad: Hex(Vec::new()),
            },
        )?;
    }
    for len in [0usize, 16, 31, 33, 64] {
        let key = bytes(&format!("wrong/{len}"), len);
        b.push(
            format!("KDF_RK with a {len}-byte root key"),
            &[Flag::KdfRk, Flag::WrongPrimitiveLength],
            PrimitiveInput::KdfRk {
                root_key: key.clone(),
                dh_output: k("wrong/dh".into()),
            },
        )?;
        b.push(
            format!("KDF_RK with a {len}-byte DH output"),
            &[Flag::KdfRk, Flag::WrongPrimitiveLength],
            PrimitiveInput::KdfRk {
                root_key: k("wrong/rk".into()),
                dh_output: key.clone(),
            },
        )?;
        b.push(
            format!("KDF_CK with a {len}-byte chain key"),
            &[Flag::KdfCk, Flag::WrongPrimitiveLength],
            PrimitiveInput::KdfCk {
                chain_key: key.clone(),
            },
        )?;
        b.push(
            format!("message keys from a {len}-byte message key"),
            &[Flag::MessageKeys, Flag::WrongPrimitiveLength],
            PrimitiveInput::MessageKeys {
                message_key: key.clone(),
            },
        )?;
        b.push(
            format!("seal with a {len}-byte ratchet key in the header"),
            &[Flag::Seal, Flag::WrongPrimitiveLength],
            PrimitiveInput::Seal {
                message_key: k("wrong/mk".into()),
                ratchet_key: key,
                pn: 0,
                n: 0,
                plaintext: bytes("wrong/pt", 4),
                ad: Hex(Vec::new()),
            },
        )?;
    }
    let notes = flags::notes(b.used)?;
    Ok(vector_file(PRIMITIVES_SCHEMA, suite.name(), notes, b.tests))
}
