//! The shim protocol: how the runner validates an implementation written in
//! any language. The implementation runs as a subprocess (its *shim*) that
//! reads one JSON request per line on stdin and writes one JSON response per
//! line on stdout; `docs/SHIM.md` is the contract a shim author reads.
//!
//! * [`protocol`]: the message types, shared by both sides.
//! * [`ShimClient`]: the runner's side, an [`crate::Implementation`] over a
//!   subprocess, with the robustness rules (timeouts, restarts, errored cases).
//! * [`server`]: the shim's side for Rust implementations; the reference shim
//!   (`ratchetproof-reference-shim`) is `server::serve` around the reference.

mod client;
mod process;
pub mod protocol;
pub mod server;

pub use client::{
    DEFAULT_MAX_FAILED_STARTS, DEFAULT_MAX_LINE_BYTES, DEFAULT_STDERR_TAIL_BYTES, DEFAULT_TIMEOUT,
    EXIT_GRACE, ShimClient, ShimConfig, StartError,
};
