//! Vector inputs as the requests an implementation receives.
//!
//! The runner turns each case into calls on [`Implementation`]; the
//! generator uses the same translation to ask the reference, so a vector
//! states exactly what the runner will send. This module knows the vector
//! types and the implementation interface, nothing of how vectors are made.

use crate::implementation::{ImplResult, Implementation, X3dhInitiate, X3dhRespond};
use crate::vectors::{PrimitiveInput, PrimitiveOutput, X3dhInitiator, X3dhResponder};

/// Runs one primitive case against an implementation.
pub fn run_primitive(
    imp: &mut dyn Implementation,
    suite: &str,
    input: &PrimitiveInput,
) -> ImplResult<PrimitiveOutput> {
    Ok(match input {
        PrimitiveInput::KdfRk {
            root_key,
            dh_output,
        } => {
            let (rk, ck) = imp.kdf_rk(suite, root_key.as_slice(), dh_output.as_slice())?;
            PrimitiveOutput::Root {
                root_key: rk.into(),
                chain_key: ck.into(),
            }
        }
        PrimitiveInput::KdfCk { chain_key } => {
            let (ck, mk) = imp.kdf_ck(suite, chain_key.as_slice())?;
            PrimitiveOutput::Chain {
                chain_key: ck.into(),
                message_key: mk.into(),
            }
        }
        PrimitiveInput::MessageKeys { message_key } => PrimitiveOutput::Keys {
            keys: imp.message_keys(suite, message_key.as_slice())?.into(),
        },
        PrimitiveInput::Seal {
            message_key,
            ratchet_key,
            pn,
            n,
            plaintext,
            ad,
        } => PrimitiveOutput::Message {
            message: imp
                .seal(
                    suite,
                    message_key.as_slice(),
                    ratchet_key.as_slice(),
                    *pn,
                    *n,
                    plaintext.as_slice(),
                    ad.as_slice(),
                )?
                .into(),
        },
    })
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
