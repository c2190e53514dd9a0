//! # ratchetproof-benches
//!
//! Shared code of the benchmarks in `benches/ratchet.rs` and of the
//! `bench-summary` printer:
//!
//! * [`fixtures`] — established sessions of the reference and of the peer
//!   (vodozemac's Olm), and the X3DH inputs, built deterministically.
//! * [`floor`] — the primitive floor: each ratchet operation rewritten as the
//!   bare primitive calls the Double Ratchet spec (and `protocol/src/session.rs`)
//!   requires of it, so `operation ÷ floor` is the reference's overhead.
//! * [`paired`] — interleaved re-measurement of each row's variants, for
//!   ratios that hold on a machine shared with other builds.
//! * [`report`] — the rows of the summary table, so the benchmark ids and the
//!   printer cannot drift apart.
//!
//! Nothing here asserts a duration; the unit tests only check that each floor
//! computes the same bytes as the protocol crate, i.e. does the same work.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod fixtures;
pub mod floor;
pub mod paired;
pub mod report;

/// The message sizes of the encrypt, decrypt and ping-pong benchmarks.
pub const SIZES: [(&str, usize); 3] = [("64B", 64), ("1KiB", 1024), ("64KiB", 64 * 1024)];

/// A plaintext of `len` bytes.
pub fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}
