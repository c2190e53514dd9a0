//! Vector inputs as the requests an implementation receives.
//!
//! The runner turns each case into calls on [`Implementation`]; the
//! generator uses the same translation to ask the reference, so a vector
//! states exactly what the runner will send. This module knows the vector
//! types and the implementation interface, nothing of how vectors are made.

use crate::implementation::{
    ImplResult, Implementation, KdfCk, KdfRk, KemPrekey, MessageKeys, PqxdhAccept, PqxdhInitiate,
    PqxdhRespond, Seal, X3dhInitiate, X3dhRespond,
};
use crate::vectors::{
    PqxdhAcceptCase, PqxdhInitiator, PqxdhResponder, PrimitiveInput, PrimitiveOutput,
    X3dhInitiator, X3dhResponder,
};

/// Runs one primitive case against an implementation.
pub fn run_primitive(
    imp: &mut dyn Implementation,
    suite: &str,
    input: &PrimitiveInput,
) -> ImplResult<PrimitiveOutput> {
    let suite = suite.to_string();
    Ok(match input {
        PrimitiveInput::KdfRk {
            root_key,
            dh_output,
        } => {
            let out = imp.kdf_rk(&KdfRk {
                suite,
                root_key: root_key.0.clone(),
                dh_output: dh_output.0.clone(),
            })?;
            PrimitiveOutput::Root {
                root_key: out.root_key.into(),
                chain_key: out.chain_key.into(),
            }
        }
        PrimitiveInput::KdfCk { chain_key } => {
            let out = imp.kdf_ck(&KdfCk {
                suite,
                chain_key: chain_key.0.clone(),
            })?;
            PrimitiveOutput::Chain {
                chain_key: out.chain_key.into(),
                message_key: out.message_key.into(),
            }
        }
        PrimitiveInput::MessageKeys { message_key } => PrimitiveOutput::Keys {
            keys: imp
                .message_keys(&MessageKeys {
                    suite,
                    message_key: message_key.0.clone(),
                })?
                .keys
                .into(),
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
                .seal(&Seal {
                    suite,
                    message_key: message_key.0.clone(),
                    ratchet_key: ratchet_key.0.clone(),
                    pn: *pn,
                    n: *n,
                    plaintext: plaintext.0.clone(),
                    ad: ad.0.clone(),
                })?
                .message
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

/// Alice's PQXDH request for an implementation.
pub fn pqxdh_initiate_request(suite: &str, i: &PqxdhInitiator) -> PqxdhInitiate {
    PqxdhInitiate {
        suite: suite.into(),
        identity_private_key: i.identity_private_key.0.clone(),
        ephemeral_private_key: i.ephemeral_private_key.0.clone(),
        encapsulation_seed: i.encapsulation_seed.0.clone(),
        peer_identity_key: i.peer_identity_key.0.clone(),
        peer_signed_prekey: i.peer_signed_prekey.0.clone(),
        peer_signed_prekey_signature: i.peer_signed_prekey_signature.0.clone(),
        peer_kem_prekey: i.peer_kem_prekey.0.clone(),
        peer_kem_prekey_signature: i.peer_kem_prekey_signature.0.clone(),
        peer_one_time_prekey: i.peer_one_time_prekey.as_ref().map(|k| k.0.clone()),
    }
}

/// Bob's PQXDH request for an implementation.
pub fn pqxdh_respond_request(suite: &str, r: &PqxdhResponder) -> PqxdhRespond {
    PqxdhRespond {
        suite: suite.into(),
        identity_private_key: r.identity_private_key.0.clone(),
        signed_prekey_private_key: r.signed_prekey_private_key.0.clone(),
        one_time_prekey_private_key: r.one_time_prekey_private_key.as_ref().map(|k| k.0.clone()),
        kem_prekey_private_key: r.kem_prekey_private_key.0.clone(),
        peer_identity_key: r.peer_identity_key.0.clone(),
        peer_ephemeral_key: r.peer_ephemeral_key.0.clone(),
        kem_ciphertext: r.kem_ciphertext.0.clone(),
    }
}

/// The `pqxdh_accept` request of a case.
pub fn pqxdh_accept_request(suite: &str, case: &PqxdhAcceptCase) -> PqxdhAccept {
    PqxdhAccept {
        initial_messages: case
            .initial_messages
            .iter()
            .map(|m| m.message.0.clone())
            .collect(),
        ..pqxdh_accept_store(suite, &case.responder)
    }
}

/// A `pqxdh_accept` request for Bob's store `r`, with no initial message yet
/// (the generator adds them one case at a time).
pub fn pqxdh_accept_store(suite: &str, r: &crate::vectors::PqxdhAcceptResponder) -> PqxdhAccept {
    let prekeys = |list: &[crate::vectors::PrekeyEntry]| {
        list.iter()
            .map(|p| (p.id, p.private_key.0.clone()))
            .collect::<Vec<_>>()
    };
    PqxdhAccept {
        suite: suite.into(),
        identity_private_key: r.identity_private_key.0.clone(),
        signed_prekeys: prekeys(&r.signed_prekeys),
        one_time_prekeys: prekeys(&r.one_time_prekeys),
        kem_prekeys: r
            .kem_prekeys
            .iter()
            .map(|k| KemPrekey {
                id: k.id,
                public_key: k.public_key.0.clone(),
                private_key: k.private_key.0.clone(),
                last_resort: k.last_resort,
            })
            .collect(),
        ratchet_private_keys: r.ratchet_private_keys.iter().map(|k| k.0.clone()).collect(),
        initial_messages: Vec::new(),
    }
}
