//! The responder's side of X3DH (SPEC §6.5): Bob's prekey store and the
//! acceptance of initial messages, where the prekey-store bugs act.

use std::collections::{BTreeMap, BTreeSet};

use ratchetproof_protocol::consts::{DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS};
use ratchetproof_protocol::{Error, KeyPair, Suite};

use super::session::State;
use super::{Bug, Bugs, Variant, x3dh};
use crate::implementation::{ErrorClass, ImplError, ImplResult, X3dhAccepted};
use crate::reference::{KeyQueueRng, check_rng};

/// Bob's prekeys for [`Implementation::x3dh_accept`].
#[derive(Default)]
pub(super) struct PrekeyStore {
    pub(super) signed: BTreeMap<u32, KeyPair>,
    pub(super) one_time: BTreeMap<u32, KeyPair>,
    /// `Variant::PerSenderResponder`: (IKa, EKa) of accepted initial messages.
    pub(super) accepted: BTreeSet<([u8; 32], [u8; 32])>,
}

/// Spec §6.5: X3DH from the initial message, RatchetInitBob, the first
/// decryption, and only then the one-time prekey's deletion (except under
/// the one-time-prekey bugs).
pub(super) fn accept(
    bugs: &Bugs,
    variants: &BTreeSet<Variant>,
    suite: Suite,
    identity: &KeyPair,
    store: &mut PrekeyStore,
    message: &[u8],
    rng: &mut KeyQueueRng,
) -> ImplResult<X3dhAccepted> {
    let initial = suite.decode_initial(message)?;
    // Variant::PerSenderResponder: the session this initial message set up
    // exists already, and its first message key is used.
    let sender = (
        *initial.identity_key.as_bytes(),
        *initial.ephemeral_key.as_bytes(),
    );
    if variants.contains(&Variant::PerSenderResponder) && store.accepted.contains(&sender) {
        return Err(ImplError::new(
            ErrorClass::Duplicate,
            "an initial message this responder already accepted",
        ));
    }
    let spk_id = initial.signed_prekey_id;
    let spk = match store.signed.get(&spk_id) {
        Some(k) => k,
        // Bug::SignedPrekeyIdIgnored: the current signed prekey whatever the id.
        None if bugs.contains(&Bug::SignedPrekeyIdIgnored) => store
            .signed
            .values()
            .next_back()
            .ok_or(Error::UnknownPreKey {
                kind: "signed",
                id: spk_id,
            })?,
        None => {
            return Err(Error::UnknownPreKey {
                kind: "signed",
                id: spk_id,
            }
            .into());
        }
    };
    let opk = match initial.one_time_prekey_id {
        Some(id) => Some(
            store
                .one_time
                .get(&id)
                .cloned()
                .ok_or(Error::UnknownPreKey {
                    kind: "one-time",
                    id,
                })?,
        ),
        None => None,
    };
    let dh = x3dh::responder_dh(
        identity,
        spk,
        opk.as_ref(),
        &initial.identity_key,
        &initial.ephemeral_key,
    )?;
    let (shared_key, associated_data) =
        x3dh::agree(bugs, &dh, &initial.identity_key, identity.public_key());
    let mut state = State::new(
        suite,
        DEFAULT_MAX_SKIP,
        DEFAULT_MAX_STORED_SKIPPED_KEYS,
        shared_key,
        spk.clone(),
    );
    state.variants.clone_from(variants);
    if bugs.contains(&Bug::OneTimePrekeyDeletedBeforeDecrypt)
        && let Some(id) = initial.one_time_prekey_id
    {
        store.one_time.remove(&id);
    }
    let queue = rng.clone();
    let plaintext = match state.decrypt(bugs, &initial.message, &associated_data, rng) {
        Ok(p) => p,
        Err(e) => {
            if variants.contains(&Variant::KeyGenerationBeforeMac) {
                *rng = queue;
            }
            return Err(e.into());
        }
    };
    check_rng(rng)?;
    store.accepted.insert(sender);
    if !bugs.contains(&Bug::OneTimePrekeyNotDeleted)
        && let Some(id) = initial.one_time_prekey_id
    {
        store.one_time.remove(&id);
    }
    Ok(X3dhAccepted {
        plaintext,
        associated_data,
        peer_identity_key: initial.identity_key.as_bytes().to_vec(),
    })
}
