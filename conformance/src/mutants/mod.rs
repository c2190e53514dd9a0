//! Known-bug mutants: an independent Double Ratchet with switches for the bug
//! classes real implementations have shipped.
//!
//! A conformance suite proves nothing until it is shown to fail something.
//! [`Mutant`] is a second, spec-following implementation of the Double Ratchet
//! (spec §3), written from the protocol crate's public primitives only — the
//! suite's `kdf_rk`, `kdf_ck`, `seal`, `parse_header`, `open` and the key
//! types — behind the same [`Implementation`](crate::Implementation) trait as the reference. With no
//! [`Bug`] switched on it must be indistinguishable from the reference (same
//! wire bytes, same verdicts, same error classes; a test checks this on model
//! runs). Each [`Bug`] is one small, marked deviation (search for `Bug::`),
//! taken from `REFERENCE.md` "Known bug classes" and issue 9. The reference
//! build is never touched.
//!
//! Two classes live partly outside a session and have their own hooks:
//! `Bug::OneTimePrekeyNotDeleted` and `Bug::OneTimePrekeyDeletedBeforeDecrypt`
//! act in Bob's prekey store ([`Implementation::x3dh_accept`](crate::Implementation::x3dh_accept)), and
//! `Bug::RestoredStateReusesMessageKey` in the copy of a session that
//! [`Implementation::clone_session`](crate::Implementation::clone_session) exports and re-imports.

//!
//! The module follows the seams of the spec: `bugs` is the catalogue (one
//! entry per mutant, `catalogue` its shape), `session` the Double Ratchet,
//! `primitives` the KDF and AEAD deviations, `x3dh` the handshake and
//! XEdDSA, `prekeys` the responder's store, `implementation` the
//! [`Implementation`](crate::Implementation) operations, and `variants` the legitimate variants.
//!
//! `olm/` is a second implementation behind the same switches: Matrix's Olm
//! (`olm-v1`, docs/OLM-V1.md), with its own codec, cipher, triple DH and
//! ratchet, reached through the prekey operations; its bugs are the
//! catalogue's `Olm…` entries and its variants the `Olm…` variants.

mod bugs;
mod catalogue;
mod implementation;
mod olm;
mod prekeys;
mod primitives;
mod session;
mod variants;
mod x3dh;

use std::collections::{BTreeMap, BTreeSet};

pub use bugs::Bug;
pub use catalogue::{Area, ByModel, ByVectors, Entry, MissedByModel};
pub use variants::Variant;

use crate::implementation::{ErrorClass, ImplError, ImplResult, SessionHandle};
use crate::model::Subject;
use crate::reference::KeyQueueRng;
use session::State;

/// The independent implementation, with the bugs in `bugs` switched on.
#[derive(Debug, Default)]
pub struct Mutant {
    bugs: BTreeSet<Bug>,
    /// Legitimate variants switched on ([`Variant`]).
    variants: BTreeSet<Variant>,

    sessions: BTreeMap<u64, (State, KeyQueueRng)>,
    /// `olm-v1` sessions (the second implementation, `olm/`); handles are
    /// shared with `sessions`.
    olm: BTreeMap<u64, olm::Entry>,
    /// `Bug::RestoredStateReusesMessageKey`: the copy saved at the session's
    /// start and after every successful decryption, never after encryption.
    saved: BTreeMap<u64, State>,
    next_handle: u64,
}

impl Mutant {
    /// No bug: must behave exactly like the reference.
    pub fn faithful() -> Self {
        Self::default()
    }

    /// One bug.
    pub fn with(bug: Bug) -> Self {
        Self::with_bugs([bug])
    }

    /// Several bugs at once.
    pub fn with_bugs(bugs: impl IntoIterator<Item = Bug>) -> Self {
        Self {
            bugs: bugs.into_iter().collect(),
            ..Self::default()
        }
    }

    /// No bug, one legitimate variant: must pass every vector, strictly.
    pub fn variant(variant: Variant) -> Self {
        Self {
            variants: BTreeSet::from([variant]),
            ..Self::default()
        }
    }

    /// The bugs switched on.
    pub fn bugs(&self) -> &BTreeSet<Bug> {
        &self.bugs
    }

    /// The bugs and variants in force, as the Olm mutant reads them.
    fn switches(&self) -> olm::Switches<'_> {
        olm::Switches {
            bugs: &self.bugs,
            variants: &self.variants,
        }
    }

    fn get(&mut self, handle: SessionHandle) -> ImplResult<(&mut State, &mut KeyQueueRng, &Bugs)> {
        let bugs = &self.bugs;
        self.sessions
            .get_mut(&handle.0)
            .map(|(s, r)| (s, r, bugs))
            .ok_or_else(|| ImplError::new(ErrorClass::State, format!("no session {}", handle.0)))
    }

    fn add_olm(&mut self, entry: olm::Entry) -> SessionHandle {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.olm.insert(handle, entry);
        SessionHandle(handle)
    }

    fn add(&mut self, mut state: State, rng: KeyQueueRng) -> SessionHandle {
        state.variants.clone_from(&self.variants);
        let handle = self.next_handle;
        self.next_handle += 1;
        if self.bugs.contains(&Bug::RestoredStateReusesMessageKey) {
            self.saved.insert(handle, state.clone());
        }
        self.sessions.insert(handle, (state, rng));
        SessionHandle(handle)
    }
}

type Bugs = BTreeSet<Bug>;

/// A mutant is a black box to the model, like a peer behind the shim.
impl Subject for Mutant {}
