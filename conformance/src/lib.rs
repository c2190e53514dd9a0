//! # ratchetproof
//!
//! Conformance testing for X3DH and Double Ratchet implementations: the
//! vector schema and generator, the runner, and the [`Implementation`] trait
//! through which any implementation — the built-in reference, a Rust crate
//! in-process, or another language over the shim protocol — is validated.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod commands;
pub mod derive;
pub mod explore;
pub mod fuzzing;
pub mod generate;
pub mod implementation;
pub mod interop;
pub mod model;
pub mod mutant_table;
pub mod mutants;
pub mod reference;
pub mod report;
pub mod runner;
pub mod shim;

pub use implementation::{
    Capabilities, Fault, ImplError, ImplResult, Implementation, KemPrekey, Operation, PqxdhAccept,
    PqxdhInitiate, PqxdhOutput, PqxdhRespond, Role, SessionHandle, SessionInit, X3dhAccept,
    X3dhAccepted, X3dhInitiate, X3dhOutput, X3dhRespond,
};
/// The vector file formats, in their own crate so other projects can read
/// the vectors without this one; re-exported so `ratchetproof::vectors` stays.
pub use ratchetproof_vectors as vectors;
pub use reference::{KeyQueueRng, Reference};
