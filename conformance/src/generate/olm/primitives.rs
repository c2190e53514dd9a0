//! `olm-v1` primitives: Olm's ratchet step (`OLM_RATCHET`), the chain step
//! and the 80-byte message-key expansion (`OLM_KEYS`), through the same
//! `kdf_rk` / `kdf_ck` / `message_keys` operations as the Signal suites.
//! There is no `seal` case: Olm's message has no previous-chain length and no
//! associated data, so the operation's header does not fit it.

use std::collections::BTreeSet;

use ratchetproof_protocol::olm::NAME;

use crate::generate::flags::{self, Flag};
use crate::generate::{GenerateError, derived_key, vector_file};
use crate::reference::Reference;
use crate::runner::requests::run_primitive;
use crate::vectors::{
    CaseInfo, Hex, Outcome, PRIMITIVES_SCHEMA, PrimitiveCase, PrimitiveInput, VectorFile, Verdict,
};

fn k(label: String) -> Hex {
    Hex::from(derived_key(&label))
}

pub(super) fn file() -> Result<VectorFile<PrimitiveCase>, GenerateError> {
    let mut reference = Reference::new();
    let mut tests = Vec::new();
    let mut used = BTreeSet::new();
    let mut push = |comment: String, flag: Flag, input: PrimitiveInput, invalid: bool| {
        let tc_id = u32::try_from(tests.len() + 1).unwrap_or(u32::MAX);
        let expected = match run_primitive(&mut reference, NAME, &input) {
            Ok(out) => Outcome::Ok(out),
            Err(e) => Outcome::Error { error: e.class },
        };
        let result = match expected {
            Outcome::Ok(_) => Verdict::Valid,
            Outcome::Error { .. } => Verdict::Invalid,
        };
        if invalid != (result == Verdict::Invalid) {
            return Err(GenerateError::Disagreement {
                tc_id,
                comment,
                message: format!("reference returned {expected:?}"),
            });
        }
        let flags = if invalid {
            vec![flag, Flag::WrongPrimitiveLength]
        } else {
            vec![flag]
        };
        used.extend(flags.iter().copied());
        tests.push(PrimitiveCase {
            info: CaseInfo {
                tc_id,
                comment,
                flags: flags::names(&flags),
                result,
            },
            input,
            expected: expected.into(),
        });
        Ok(())
    };
    for i in 0..6 {
        push(
            format!("KDF_RK with OLM_RATCHET, derived inputs {i}"),
            Flag::OlmKdfRk,
            PrimitiveInput::KdfRk {
                root_key: k(format!("olm/kdf_rk/{i}/rk")),
                dh_output: k(format!("olm/kdf_rk/{i}/dh")),
            },
            false,
        )?;
    }
    push(
        "KDF_RK with OLM_RATCHET, all-zero inputs".into(),
        Flag::OlmKdfRk,
        PrimitiveInput::KdfRk {
            root_key: Hex(vec![0; 32]),
            dh_output: Hex(vec![0; 32]),
        },
        false,
    )?;
    for i in 0..6 {
        push(
            format!("KDF_CK, derived chain key {i}"),
            Flag::KdfCk,
            PrimitiveInput::KdfCk {
                chain_key: k(format!("olm/kdf_ck/{i}")),
            },
            false,
        )?;
    }
    for i in 0..6 {
        push(
            format!("message keys with OLM_KEYS (80 bytes), derived message key {i}"),
            Flag::OlmMessageKeys,
            PrimitiveInput::MessageKeys {
                message_key: k(format!("olm/message_keys/{i}")),
            },
            false,
        )?;
    }
    for len in [0usize, 31, 33] {
        push(
            format!("KDF_RK with a {len}-byte root key"),
            Flag::OlmKdfRk,
            PrimitiveInput::KdfRk {
                root_key: Hex(vec![1; len]),
                dh_output: k("olm/wrong/dh".into()),
            },
            true,
        )?;
        push(
            format!("KDF_CK with a {len}-byte chain key"),
            Flag::KdfCk,
            PrimitiveInput::KdfCk {
                chain_key: Hex(vec![2; len]),
            },
            true,
        )?;
        push(
            format!("message keys from a {len}-byte message key"),
            Flag::OlmMessageKeys,
            PrimitiveInput::MessageKeys {
                message_key: Hex(vec![3; len]),
            },
            true,
        )?;
    }
    let notes = flags::notes(used)?;
    Ok(vector_file(PRIMITIVES_SCHEMA, NAME, notes, tests))
}
