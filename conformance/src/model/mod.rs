//! # The scenario model
//!
//! Vectors check the scenarios someone wrote down; this model searches for the
//! ones nobody did. It is the one interaction model shared by the property
//! tests, the fuzz targets and the vector generator, so that whatever one of
//! them finds replays in the others (libsignal keeps its `test-support` crate
//! for the same reason).
//!
//! * [`Action`] — what can happen: Alice and Bob send; the adversarial network
//!   delivers in any order, holds back, drops, replays and tampers with any
//!   field; an attacker captures a party's state and listens with the copy.
//!   Actions are plain data: proptest generates them (`strategy`, feature
//!   `proptest`), fuzzers derive them (feature `arbitrary`).
//! * [`check`] — plays actions against any [`Subject`] (any
//!   [`Implementation`](crate::Implementation): the reference, a mutant, later
//!   the shim client) and checks the oracle's invariants after every step
//!   (listed in [`checker`]); the first one broken is a [`Violation`]. The
//!   suite is part of the [`ModelConfig`]: every byte offset comes from its
//!   message layout, so the properties run on any suite.
//! * [`to_scenario`] — writes a run as a session-scenario vector
//!   ([`ScenarioCase`](crate::vectors::ScenarioCase)).
//! * [`ProtocolSessions`] — the reference's sessions with their state bytes
//!   showing, for the byte-identity and round-trip checks.
//!
//! Specification: Double Ratchet §3 (the oracle follows its decryption order)
//! and the security properties of Alwen–Coretti–Dodis and Cohn-Gordon et al.
//! as stated in `docs/SPEC.md`.

mod action;
pub mod checker;
mod config;
mod direct;
mod keys;
mod olm;
mod oracle;
mod scenario;
#[cfg(feature = "proptest")]
pub mod strategy;
mod trace;

pub use action::{Action, MAX_LOSE, Party, Tamper};
pub use checker::check;
pub use config::{MAX_ACTIONS, MODEL_MAX_SKIP, ModelConfig, Ratchet};
pub use direct::{ProtocolSessions, Subject};
pub use keys::Randomness;
pub use scenario::to_scenario;
pub use trace::{Delivery, Event, Invariant, Outcome, Trace, Violation};
