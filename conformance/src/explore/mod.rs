//! `ratchetproof explore`: random adversarial cases instead of fixed vectors.
//! Fixed vectors only catch what their authors thought of; here every case is
//! drawn from a seed, its expected outcome computed by the reference, and run
//! through the ordinary runner, so a failing one can be written as a vector
//! that `ratchetproof run` replays. [`x3dh`] draws the key-agreement cases
//! (X3DH from both sides and Bob's prekey store), which the session-scenario
//! model does not reach.

pub mod x3dh;
