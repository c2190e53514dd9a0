//! # ratchetproof-protocol
//!
//! A reference implementation of the Signal protocol's key agreement (X3DH) and
//! message encryption (the Double Ratchet), written to be read beside the
//! specifications and to produce reproducible test vectors.
//!
//! * [`x3dh`] — the Extended Triple Diffie-Hellman agreement (signal.org/docs/specifications/x3dh).
//! * [`pqxdh`] — the Post-Quantum Extended Diffie-Hellman agreement
//!   (signal.org/docs/specifications/pqxdh), with its KEMs in [`kem`].
//! * [`session`] — the Double Ratchet state machine (signal.org/docs/specifications/doubleratchet §3).
//! * [`suite`] — the cipher suites: which KDFs, AEAD and encodings a session uses.
//! * [`agreement`] — the key agreement a suite starts sessions with ([`x3dh`] today).
//! * [`xeddsa`] — XEdDSA signatures with X25519 keys (signal.org/docs/specifications/xeddsa).
//! * [`olm`] — Matrix's Olm (`olm-v1`, `docs/OLM-V1.md`): its triple DH, wire
//!   messages and ratchet variant; standalone, not yet in [`suite::all`].
//!
//! The crate is a pure state machine: it performs no I/O, reads no clock and
//! owns no random number generator. Every function that needs randomness takes
//! a [`rand_core::CryptoRng`], so a caller that injects known keys gets
//! byte-identical results every time. `docs/SPEC.md` in the repository gives
//! every byte of the default suite.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod agreement;
mod chain_key;
mod codec;
pub mod consts;
mod error;
pub mod header;
pub mod kem;
pub mod keys;
pub mod olm;
pub mod pqxdh;
mod primitives;
mod root_key;
pub mod session;
mod skipped;
mod state;
pub mod suite;
pub mod x3dh;
pub mod xeddsa;

pub use agreement::KeyAgreement;
pub use chain_key::{ChainKey, MessageKey};
pub use error::{Error, ErrorClass, Result};
pub use header::Header;
pub use keys::{DhOutput, KeyPair, PrivateKey, PublicKey};
pub use root_key::{RootKey, SharedKey};
pub use session::{Role, Session, SessionConfig};
pub use suite::{
    CipherSuite, DEFAULT_SUITE, DefaultSuite, MessageCodec, RatchetKdf, SIGNAL_V3_SUITE,
    SignalV3Suite, Suite,
};

/// The RNG bound used throughout the crate.
pub use rand_core::CryptoRng;
