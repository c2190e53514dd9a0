//! The scenario model for `olm-v1` (docs/OLM-V1.md): the same actions, trace
//! and invariants as the Signal model, played on Olm's sessions — started by
//! its triple DH, judged by Olm's own oracle (kept receiver chains, a
//! session-wide store of 40 keys beside vodozemac's per-chain one, the gap
//! of 2000, deferred ratchet keys, no `pn`), tampered with through Olm's
//! message layouts, and written as `olm-v1` scenario vectors.
//!
//! Olm is not a [`CipherSuite`](ratchetproof_protocol::CipherSuite), so it
//! enters the model through [`Ratchet::Olm`](super::Ratchet::Olm) in the
//! [`ModelConfig`](super::ModelConfig), and [`check`](super::check)
//! dispatches here: property tests, `explore` and the shrinker use it
//! unchanged.

mod checker;
mod oracle;
mod tamper;

pub(crate) use checker::check;
