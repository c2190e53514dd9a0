//! Key agreement: how two parties reach the Double Ratchet's first root key
//! `SK` and the associated data `AD`, and how the initiator's first message
//! carries what the responder needs.
//!
//! It is a trait apart from the ratchet's suite because agreements and
//! ratchets vary independently: X3DH ([`crate::x3dh::X3dh`]); PQXDH
//! ([`crate::pqxdh::Pqxdh`]) adds a KEM encapsulation beside the DHs (a
//! signed KEM prekey in the bundle, a ciphertext in the initial message, its
//! shared secret last in the KDF input);
//! Olm's triple DH drops the signed prekey and uses a one-time key in its
//! place. Each is one implementation of [`KeyAgreement`] that a suite names
//! ([`crate::CipherSuite::key_agreement`]); the session code never sees the DHs.

use core::fmt::Debug;

use crate::error::Result;
use crate::kem::{Kem, KemKeyPair};
use crate::keys::{KeyPair, PublicKey};
use crate::root_key::SharedKey;
use zeroize::Zeroizing;

use crate::x3dh::{
    Agreement, Ephemeral, InitialMessage, Initiation, PreKeyBundle, SignatureConformance,
    associated_data,
};

/// What a PQXDH responder decapsulates: its KEM prekey and the ciphertext
/// the initial message carries, as sent (`type ‖ CT`).
#[derive(Clone, Copy, Debug)]
pub struct KemResponse<'a> {
    /// The KEM prekey the initial message names.
    pub prekey: &'a KemKeyPair,
    /// The encoded ciphertext.
    pub ciphertext: &'a [u8],
}

/// A key agreement protocol: its secret schedule, its KDF and the encoding
/// of its initial message.
pub trait KeyAgreement: Send + Sync + Debug {
    /// The protocol's name, for reports (e.g. `x3dh`).
    fn name(&self) -> &'static str;

    /// The KEM the agreement encapsulates to, if it has one (PQXDH). The
    /// initiator then draws encapsulation randomness after EKa
    /// ([`Ephemeral::draw`]), bundles carry a signed KEM prekey and initial
    /// messages a ciphertext.
    fn kem(&self) -> Option<&'static dyn Kem> {
        None
    }

    /// The agreement's KDF: the concatenated secrets (DH outputs, and KEM
    /// shared secrets where the protocol has them) → `SK`.
    fn kdf(&self, secrets: &[u8]) -> SharedKey;

    /// The same KDF at any output length: `SK` is its first 32 bytes.
    /// libsignal expands 64 bytes (96 since SPQR) and keys its initial chain
    /// and the post-quantum ratchet with the rest; a live check compares them.
    fn kdf_into(&self, secrets: &[u8], okm: &mut [u8]);

    /// Checks the bundle's signature(s): the initiator's first step, before
    /// any randomness is drawn.
    fn verify(&self, bundle: &PreKeyBundle) -> Result<()>;

    /// Which signatures at the edge of XEdDSA a conforming initiator of the
    /// suite must accept, beyond what [`KeyAgreement::verify`] does
    /// (SPEC.md §7.3). It changes no verification; it says which outcomes
    /// the vectors allow.
    fn signature_conformance(&self) -> SignatureConformance;

    /// The initiator's side once [`KeyAgreement::verify`] has accepted the
    /// bundle: computes the secrets and returns `SK`, `AD` and what the
    /// initial message must name. Callers that have not verified the bundle
    /// use [`KeyAgreement::initiate`].
    fn agree(
        &self,
        initiator_identity: &KeyPair,
        bundle: &PreKeyBundle,
        ephemeral: Ephemeral,
    ) -> Result<Initiation>;

    /// The initiator's side, with its ephemeral key given: verifies the
    /// bundle, then [`KeyAgreement::agree`].
    fn initiate(
        &self,
        initiator_identity: &KeyPair,
        bundle: &PreKeyBundle,
        ephemeral: Ephemeral,
    ) -> Result<Initiation> {
        self.verify(bundle)?;
        self.agree(initiator_identity, bundle, ephemeral)
    }

    /// The responder's side from the values of an initial message, with the
    /// prekeys it names already looked up. `kem` is the KEM prekey and
    /// ciphertext for an agreement with a KEM (an agreement without one
    /// ignores it; one with a KEM refuses its absence).
    fn respond(
        &self,
        responder_identity: &KeyPair,
        signed_prekey: &KeyPair,
        one_time_prekey: Option<&KeyPair>,
        kem: Option<KemResponse<'_>>,
        initiator_identity: &PublicKey,
        initiator_ephemeral: &PublicKey,
    ) -> Result<Agreement> {
        let secrets = self.responder_secrets(
            responder_identity,
            signed_prekey,
            one_time_prekey,
            kem,
            initiator_identity,
            initiator_ephemeral,
        )?;
        Ok(Agreement {
            shared_key: self.kdf(&secrets),
            associated_data: associated_data(initiator_identity, responder_identity.public_key()),
        })
    }

    /// The responder's KDF input (`DH1 ‖ DH2 ‖ DH3 [‖ DH4] [‖ SS]`), which
    /// [`KeyAgreement::respond`] derives `SK` from.
    fn responder_secrets(
        &self,
        responder_identity: &KeyPair,
        signed_prekey: &KeyPair,
        one_time_prekey: Option<&KeyPair>,
        kem: Option<KemResponse<'_>>,
        initiator_identity: &PublicKey,
        initiator_ephemeral: &PublicKey,
    ) -> Result<Zeroizing<Vec<u8>>>;

    /// Encodes the initial message (the initiator's first message with the
    /// keys and prekey ids the responder needs).
    fn encode_initial(&self, initial: &InitialMessage) -> Vec<u8>;

    /// Parses an initial message; the embedded ratchet message is checked
    /// only when it is decrypted.
    fn decode_initial(&self, bytes: &[u8]) -> Result<InitialMessage>;
}
