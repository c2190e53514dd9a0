//! PQXDH key agreement (signal.org/docs/specifications/pqxdh §3): X3DH's four
//! DHs plus one KEM encapsulation to Bob's signed post-quantum prekey, so that
//! `SK` stays secret from an attacker who records the handshake today and
//! breaks X25519 later ("harvest now, decrypt later").
//!
//! * Bob's bundle adds a KEM prekey PQPKb (a one-time key, or his signed
//!   last-resort key) with `Sig(IKb, EncodeKEM(PQPKb))` ([`SignedKemPrekey`]).
//! * Alice verifies both signatures and aborts if either fails, then
//!   encapsulates: `(CT, SS) = PQKEM-ENC(PQPKb)`, and derives
//!   `SK = KDF(DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS)` with X3DH's KDF (`F = 0xFF×32`,
//!   zero salt) under the suite's info; `AD` is X3DH's.
//! * Her initial message adds the KEM prekey id and `CT` ([`KemInitial`]).
//!   Bob decapsulates; a ciphertext that is not for his key decapsulates to
//!   the KEM's implicit-rejection secret, so the first message fails to
//!   authenticate and nothing is deleted ([`crate::x3dh::Responder::accept`]).
//!
//! The KEM is the suite's choice ([`crate::kem`]); everything else is
//! X3DH's, computed by the same functions. The ratchet after PQXDH is
//! classical: PQXDH protects the first root key, not what the ratchet mixes
//! in later (`docs/PQXDH.md` §8; the triple ratchet is `docs/SPQR.md`).

use zeroize::Zeroizing;

use crate::agreement::{KemResponse, KeyAgreement};
use crate::consts::SIGNATURE_LEN;
use crate::error::{Error, Result};
use crate::kem::Kem;
use crate::keys::{KeyPair, PublicKey};
use crate::root_key::{SharedKey, x3dh_kdf, x3dh_kdf_into};
use crate::x3dh::{
    Agreement, Ephemeral, InitialMessage, InitialMessageCodec, Initiation, PreKeyBundle,
    SignatureConformance, associated_data, initiator_dh, responder_dh, verify_bundle,
};
use crate::xeddsa;

/// A signed KEM prekey as a bundle carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedKemPrekey {
    /// Its id, named again by the initial message.
    pub id: u32,
    /// `EncodeKEM(PQPKb)`: the KEM's type byte and the key, as received.
    /// Kept encoded because the signature covers these bytes; the agreement
    /// decodes it after verifying.
    pub key: Vec<u8>,
    /// `Sig(IKb, EncodeKEM(PQPKb))`, XEdDSA.
    pub signature: [u8; SIGNATURE_LEN],
}

/// What an initial message adds for PQXDH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KemInitial {
    /// The id of the KEM prekey Alice encapsulated to.
    pub prekey_id: u32,
    /// `CT` as sent: the KEM's type byte and the ciphertext, as received.
    pub ciphertext: Vec<u8>,
}

/// PQXDH with a suite's KEM, KDF info and initial-message encoding.
#[derive(Debug, Clone, Copy)]
pub struct Pqxdh {
    /// HKDF info of the KDF.
    pub info: &'static [u8],
    /// The KEM (`pqkem`).
    pub kem: &'static dyn Kem,
    /// The encoding of the initial message.
    pub initial: &'static dyn InitialMessageCodec,
    /// Which EC signatures a conforming initiator must accept (SPEC.md §7.3).
    pub signatures: SignatureConformance,
}

impl KeyAgreement for Pqxdh {
    fn name(&self) -> &'static str {
        "pqxdh"
    }

    fn kem(&self) -> Option<&'static dyn Kem> {
        Some(self.kem)
    }

    fn kdf(&self, secrets: &[u8]) -> SharedKey {
        x3dh_kdf(secrets, self.info)
    }

    /// Both signatures, the EC prekey's first (\[PQXDH\] §3.3: "Alice verifies
    /// the signatures and aborts the protocol if verification fails").
    fn verify(&self, bundle: &PreKeyBundle) -> Result<()> {
        verify_bundle(bundle)?;
        let kem_prekey = bundle.kem_prekey.as_ref().ok_or(Error::InvalidKey(
            "a PQXDH bundle carries a signed KEM prekey",
        ))?;
        if xeddsa::verify(&bundle.identity_key, &kem_prekey.key, &kem_prekey.signature) {
            Ok(())
        } else {
            Err(Error::InvalidSignature)
        }
    }

    fn signature_conformance(&self) -> SignatureConformance {
        self.signatures
    }

    fn agree(
        &self,
        initiator_identity: &KeyPair,
        bundle: &PreKeyBundle,
        ephemeral: Ephemeral,
    ) -> Result<Initiation> {
        let kem_prekey = bundle.kem_prekey.as_ref().ok_or(Error::InvalidKey(
            "a PQXDH bundle carries a signed KEM prekey",
        ))?;
        let seed = ephemeral
            .encapsulation
            .as_ref()
            .ok_or(Error::InvalidConfig(
                "PQXDH needs encapsulation randomness beside the ephemeral key",
            ))?;
        let key = self.kem.decode_public_key(&kem_prekey.key)?;
        if !self.kem.check_public_key(&key) {
            return Err(Error::InvalidKey(
                "the KEM public key fails the KEM's input check",
            ));
        }
        let mut secrets = initiator_dh(initiator_identity, bundle, &ephemeral.key)?;
        let (ciphertext, shared_secret) = self.kem.encapsulate(&key, seed);
        secrets.extend_from_slice(shared_secret.as_slice());
        Ok(Initiation {
            agreement: Agreement {
                shared_key: self.kdf(&secrets),
                associated_data: associated_data(
                    initiator_identity.public_key(),
                    &bundle.identity_key,
                ),
            },
            ephemeral_key: *ephemeral.key.public_key(),
            signed_prekey_id: bundle.signed_prekey_id,
            one_time_prekey_id: bundle.one_time_prekey.map(|(id, _)| id),
            kem: Some(KemInitial {
                prekey_id: kem_prekey.id,
                ciphertext: self.kem.encode_ciphertext(&ciphertext),
            }),
        })
    }

    fn kdf_into(&self, secrets: &[u8], okm: &mut [u8]) {
        x3dh_kdf_into(secrets, self.info, okm);
    }

    fn responder_secrets(
        &self,
        responder_identity: &KeyPair,
        signed_prekey: &KeyPair,
        one_time_prekey: Option<&KeyPair>,
        kem: Option<KemResponse<'_>>,
        initiator_identity: &PublicKey,
        initiator_ephemeral: &PublicKey,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let kem = kem.ok_or(Error::Malformed(
            "a PQXDH initial message carries a KEM prekey id and ciphertext",
        ))?;
        let ciphertext = self.kem.decode_ciphertext(kem.ciphertext)?;
        let mut secrets: Zeroizing<Vec<u8>> = responder_dh(
            responder_identity,
            signed_prekey,
            one_time_prekey,
            initiator_identity,
            initiator_ephemeral,
        )?;
        let shared_secret = self.kem.decapsulate(&kem.prekey.secret, ciphertext)?;
        secrets.extend_from_slice(shared_secret.as_slice());
        Ok(secrets)
    }

    fn encode_initial(&self, initial: &InitialMessage) -> Vec<u8> {
        self.initial.encode(initial)
    }

    fn decode_initial(&self, bytes: &[u8]) -> Result<InitialMessage> {
        self.initial.decode(bytes)
    }
}
