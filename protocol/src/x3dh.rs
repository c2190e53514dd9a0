//! X3DH key agreement (signal.org/docs/specifications/x3dh §3) and the initial
//! message that starts a Double Ratchet session.
//!
//! * Bob publishes a [`PreKeyBundle`]: identity key IKb, signed prekey SPKb with
//!   its XEdDSA signature over `Encode(SPKb)`, and optionally a one-time prekey OPKb.
//! * Alice [`initiate`]s: verifies the signature (aborting on failure), draws an
//!   ephemeral key EKa, and derives `SK = KDF(DH1 ‖ DH2 ‖ DH3 [‖ DH4])` and
//!   `AD = Encode(IKa) ‖ Encode(IKb)`. Her first ratchet message travels inside
//!   an [`InitialMessage`].
//! * Bob's [`Responder`] recomputes SK, starts his session with SPKb as his
//!   ratchet key pair, and decrypts the first message. Only if it decrypts is the
//!   one-time prekey deleted and the session returned; otherwise nothing changes.

use std::collections::BTreeMap;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::agreement::{KemResponse, KeyAgreement};
use crate::consts::{KEY_LEN, SIGNATURE_LEN};
use crate::error::{Error, Result};
use crate::kem::{ENCAPSULATION_SEED_LEN, Kem, KemKeyPair};
use crate::keys::{KeyPair, PublicKey};
use crate::pqxdh::{KemInitial, SignedKemPrekey};
use crate::root_key::{SharedKey, x3dh_kdf, x3dh_kdf_into};
use crate::session::{Session, SessionConfig};
use crate::suite::Suite;
use crate::suite::default::DefaultInitialCodec;
use crate::xeddsa;

/// Length of the X3DH associated data: two encoded public keys.
pub const AD_LEN: usize = 2 * (KEY_LEN + 1);

/// Bob's published prekey bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyBundle {
    /// IKb.
    pub identity_key: PublicKey,
    /// Id of SPKb.
    pub signed_prekey_id: u32,
    /// SPKb.
    pub signed_prekey: PublicKey,
    /// Sig(IKb, Encode(SPKb)), XEdDSA.
    pub signed_prekey_signature: [u8; SIGNATURE_LEN],
    /// (id, OPKb), when the server had one.
    pub one_time_prekey: Option<(u32, PublicKey)>,
    /// The signed KEM prekey of a PQXDH bundle (`None` in X3DH, which
    /// ignores it).
    pub kem_prekey: Option<SignedKemPrekey>,
}

/// What X3DH gives both parties.
#[derive(Clone, Debug)]
pub struct Agreement {
    /// SK, the Double Ratchet's first root key.
    pub shared_key: SharedKey,
    /// AD = Encode(IKa) ‖ Encode(IKb).
    pub associated_data: [u8; AD_LEN],
}

/// Alice's side of an agreement before the first message is attached.
#[derive(Clone, Debug)]
pub struct Initiation {
    /// SK and AD.
    pub agreement: Agreement,
    /// EKa's public key.
    pub ephemeral_key: PublicKey,
    /// The prekeys used, to name in the initial message.
    pub signed_prekey_id: u32,
    /// The one-time prekey used, if any.
    pub one_time_prekey_id: Option<u32>,
    /// PQXDH: the KEM prekey used and the ciphertext for it.
    pub kem: Option<KemInitial>,
}

/// The initiator's fresh secrets: EKa, and for a key agreement with a KEM
/// the 32 bytes of encapsulation randomness.
#[derive(Clone, Debug)]
pub struct Ephemeral {
    /// EKa.
    pub key: KeyPair,
    /// The KEM's encapsulation randomness (`m`), for agreements with a KEM.
    pub encapsulation: Option<Zeroizing<[u8; ENCAPSULATION_SEED_LEN]>>,
}

impl From<KeyPair> for Ephemeral {
    fn from(key: KeyPair) -> Self {
        Self {
            key,
            encapsulation: None,
        }
    }
}

impl Ephemeral {
    /// Draws EKa (32 bytes) and, when `agreement` has a KEM, then its
    /// encapsulation randomness (32 bytes). An agreement without a KEM
    /// draws exactly what X3DH always drew.
    pub fn draw<R: CryptoRng + ?Sized>(agreement: &dyn KeyAgreement, rng: &mut R) -> Self {
        let key = KeyPair::generate(rng);
        let encapsulation = agreement.kem().map(|_| {
            let mut m = Zeroizing::new([0u8; ENCAPSULATION_SEED_LEN]);
            rng.fill_bytes(m.as_mut_slice());
            m
        });
        Self { key, encapsulation }
    }
}

/// DH1 ‖ DH2 ‖ DH3 [‖ DH4], Alice's side (\[X3DH\] §3.3; \[PQXDH\] §3.3).
pub(crate) fn initiator_dh(
    initiator_identity: &KeyPair,
    bundle: &PreKeyBundle,
    ephemeral: &KeyPair,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut dh = Zeroizing::new(Vec::with_capacity(5 * KEY_LEN));
    dh.extend_from_slice(
        initiator_identity
            .diffie_hellman(&bundle.signed_prekey)?
            .as_bytes(),
    );
    dh.extend_from_slice(ephemeral.diffie_hellman(&bundle.identity_key)?.as_bytes());
    dh.extend_from_slice(ephemeral.diffie_hellman(&bundle.signed_prekey)?.as_bytes());
    if let Some((_, opk)) = &bundle.one_time_prekey {
        dh.extend_from_slice(ephemeral.diffie_hellman(opk)?.as_bytes());
    }
    Ok(dh)
}

/// DH1 ‖ DH2 ‖ DH3 [‖ DH4], Bob's side.
pub(crate) fn responder_dh(
    responder_identity: &KeyPair,
    signed_prekey: &KeyPair,
    one_time_prekey: Option<&KeyPair>,
    initiator_identity: &PublicKey,
    initiator_ephemeral: &PublicKey,
) -> Result<Zeroizing<Vec<u8>>> {
    let mut dh = Zeroizing::new(Vec::with_capacity(5 * KEY_LEN));
    dh.extend_from_slice(signed_prekey.diffie_hellman(initiator_identity)?.as_bytes());
    dh.extend_from_slice(
        responder_identity
            .diffie_hellman(initiator_ephemeral)?
            .as_bytes(),
    );
    dh.extend_from_slice(
        signed_prekey
            .diffie_hellman(initiator_ephemeral)?
            .as_bytes(),
    );
    if let Some(opk) = one_time_prekey {
        dh.extend_from_slice(opk.diffie_hellman(initiator_ephemeral)?.as_bytes());
    }
    Ok(dh)
}

/// Signs a signed prekey: XEdDSA over `Encode(SPK)`.
pub fn sign_prekey<R: CryptoRng + ?Sized>(
    identity: &KeyPair,
    signed_prekey: &PublicKey,
    rng: &mut R,
) -> [u8; SIGNATURE_LEN] {
    xeddsa::sign(identity.private_key(), &signed_prekey.encode(), rng)
}

/// `AD = Encode(IKa) ‖ Encode(IKb)`.
pub fn associated_data(alice_identity: &PublicKey, bob_identity: &PublicKey) -> [u8; AD_LEN] {
    let mut ad = [0u8; AD_LEN];
    let (a, b) = ad.split_at_mut(KEY_LEN + 1);
    a.copy_from_slice(&alice_identity.encode());
    b.copy_from_slice(&bob_identity.encode());
    ad
}

/// Alice's X3DH with an ephemeral key drawn from `rng` (32 bytes).
pub fn initiate<R: CryptoRng + ?Sized>(
    suite: Suite,
    alice_identity: &KeyPair,
    bundle: &PreKeyBundle,
    rng: &mut R,
) -> Result<Initiation> {
    // Verify before drawing any randomness, so a rejected bundle consumes none;
    // `agree` then skips the check, so the signature is verified once.
    let agreement = suite.key_agreement();
    agreement.verify(bundle)?;
    agreement.agree(alice_identity, bundle, Ephemeral::draw(agreement, rng))
}

/// Checks Sig(IKb, Encode(SPKb)).
pub fn verify_bundle(bundle: &PreKeyBundle) -> Result<()> {
    if xeddsa::verify(
        &bundle.identity_key,
        &bundle.signed_prekey.encode(),
        &bundle.signed_prekey_signature,
    ) {
        Ok(())
    } else {
        Err(Error::InvalidSignature)
    }
}

/// Alice's X3DH with EKa given, by the suite's key agreement: verifies the
/// bundle, then agrees.
pub fn initiate_with_ephemeral(
    suite: Suite,
    alice_identity: &KeyPair,
    bundle: &PreKeyBundle,
    ephemeral: KeyPair,
) -> Result<Initiation> {
    suite
        .key_agreement()
        .initiate(alice_identity, bundle, ephemeral.into())
}

/// Bob's X3DH from the values of an initial message, by the suite's key agreement.
pub fn respond(
    suite: Suite,
    bob_identity: &KeyPair,
    signed_prekey: &KeyPair,
    one_time_prekey: Option<&KeyPair>,
    alice_identity: &PublicKey,
    alice_ephemeral: &PublicKey,
) -> Result<Agreement> {
    suite.key_agreement().respond(
        bob_identity,
        signed_prekey,
        one_time_prekey,
        None,
        alice_identity,
        alice_ephemeral,
    )
}

/// How a suite encodes X3DH's initial message.
pub trait InitialMessageCodec: Send + Sync + core::fmt::Debug {
    /// Encodes the message for the wire.
    fn encode(&self, initial: &InitialMessage) -> Vec<u8>;

    /// Parses an initial message; the embedded ratchet message is checked
    /// only when it is decrypted.
    fn decode(&self, bytes: &[u8]) -> Result<InitialMessage>;
}

/// X3DH (X3DH spec §3): `SK = KDF(DH1 ‖ DH2 ‖ DH3 [‖ DH4])` with
/// `DH1 = DH(IKa, SPKb)`, `DH2 = DH(EKa, IKb)`, `DH3 = DH(EKa, SPKb)`,
/// `DH4 = DH(EKa, OPKb)`, and `AD = Encode(IKa) ‖ Encode(IKb)`. Suites differ
/// in the KDF's info and in the initial message's encoding.
#[derive(Debug, Clone, Copy)]
pub struct X3dh {
    /// HKDF info of the KDF.
    pub info: &'static [u8],
    /// The encoding of the initial message.
    pub initial: &'static dyn InitialMessageCodec,
    /// Which bundle signatures a conforming initiator of this suite must
    /// accept (SPEC.md §7.3).
    pub signatures: SignatureConformance,
}

/// Which signatures at the edge of XEdDSA a suite's initiator must accept.
///
/// The reference verifies the same way in every suite (SPEC.md §7.2: the
/// sign of the Edwards key from bit 255 of `S`, `s` bounded by `2^253`), so
/// it accepts libsignal's signatures and an unreduced `s`. Whether a
/// verifier that refuses them conforms depends on what the suite follows;
/// the vector generator and the explorer ask the suite
/// ([`KeyAgreement::signature_conformance`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureConformance {
    /// The suite follows the published \[XEdDSA\] specification, whose
    /// verification takes sign 0 (so a signature with bit 255 of `S` set
    /// fails its `s ≥ 2^253` check) and an Ed25519-style verifier that
    /// requires `s < q` (RFC 8032). Refusing a libsignal-convention signature
    /// or an unreduced `s` conforms as well as accepting it.
    Xeddsa,
    /// The suite is libsignal's protocol: libsignal's verifier (sign bit in
    /// bit 255 of `S`, any `s < 2^253`) is the suite's definition, and a
    /// verifier that refuses its signatures fails to talk to it.
    Libsignal,
}

impl KeyAgreement for X3dh {
    fn name(&self) -> &'static str {
        "x3dh"
    }

    fn kdf(&self, secrets: &[u8]) -> SharedKey {
        x3dh_kdf(secrets, self.info)
    }

    fn verify(&self, bundle: &PreKeyBundle) -> Result<()> {
        verify_bundle(bundle)
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
        let dh = initiator_dh(initiator_identity, bundle, &ephemeral.key)?;
        Ok(Initiation {
            agreement: Agreement {
                shared_key: self.kdf(&dh),
                associated_data: associated_data(
                    initiator_identity.public_key(),
                    &bundle.identity_key,
                ),
            },
            ephemeral_key: *ephemeral.key.public_key(),
            signed_prekey_id: bundle.signed_prekey_id,
            one_time_prekey_id: bundle.one_time_prekey.map(|(id, _)| id),
            kem: None,
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
        _kem: Option<KemResponse<'_>>,
        initiator_identity: &PublicKey,
        initiator_ephemeral: &PublicKey,
    ) -> Result<Zeroizing<Vec<u8>>> {
        responder_dh(
            responder_identity,
            signed_prekey,
            one_time_prekey,
            initiator_identity,
            initiator_ephemeral,
        )
    }

    fn encode_initial(&self, initial: &InitialMessage) -> Vec<u8> {
        self.initial.encode(initial)
    }

    fn decode_initial(&self, bytes: &[u8]) -> Result<InitialMessage> {
        self.initial.decode(bytes)
    }
}

/// The first message from Alice to Bob: the values X3DH's responder needs
/// and Alice's first ratchet message. Each suite encodes it its own way
/// ([`InitialMessageCodec`]; the default suite's is SPEC.md §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialMessage {
    /// IKa.
    pub identity_key: PublicKey,
    /// EKa.
    pub ephemeral_key: PublicKey,
    /// Which signed prekey Alice used.
    pub signed_prekey_id: u32,
    /// Which one-time prekey Alice used, if any.
    pub one_time_prekey_id: Option<u32>,
    /// Alice's registration id, in suites whose initial message carries one
    /// (`signal-v3`); the default suite's encoding has none and decodes it as 0.
    pub registration_id: u32,
    /// PQXDH: the KEM prekey Alice used and her ciphertext (`None` in X3DH
    /// suites, whose encodings have no such fields).
    pub kem: Option<KemInitial>,
    /// Alice's first Double Ratchet message, whole.
    pub message: Vec<u8>,
}

impl InitialMessage {
    /// The default suite's encoding ([`DefaultInitialCodec`]); other suites
    /// encode through [`crate::CipherSuite::encode_initial`].
    pub fn encode(&self) -> Vec<u8> {
        DefaultInitialCodec.encode(self)
    }

    /// The default suite's decoding ([`DefaultInitialCodec`]).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        DefaultInitialCodec.decode(bytes)
    }
}

/// Alice's complete start: X3DH, RatchetInitAlice, and the first message.
/// Draws EKa, then her first ratchet key pair, from `rng` (32 bytes each).
pub fn start_session<R: CryptoRng + ?Sized>(
    suite: Suite,
    config: SessionConfig,
    alice_identity: &KeyPair,
    bundle: &PreKeyBundle,
    first_plaintext: &[u8],
    rng: &mut R,
) -> Result<(Session, InitialMessage)> {
    let initiation = initiate(suite, alice_identity, bundle, rng)?;
    let mut session = Session::init_alice(
        suite,
        config,
        initiation.agreement.shared_key.clone(),
        bundle.signed_prekey,
        rng,
    )?;
    let message = session.encrypt(first_plaintext, &initiation.agreement.associated_data)?;
    Ok((
        session,
        InitialMessage {
            identity_key: *alice_identity.public_key(),
            ephemeral_key: initiation.ephemeral_key,
            signed_prekey_id: initiation.signed_prekey_id,
            one_time_prekey_id: initiation.one_time_prekey_id,
            registration_id: 0,
            kem: initiation.kem,
            message,
        },
    ))
}

/// Bob's identity and prekeys: what he needs to accept initial messages.
#[derive(Clone, Debug)]
pub struct Responder {
    identity: KeyPair,
    signed_prekeys: BTreeMap<u32, KeyPair>,
    one_time_prekeys: BTreeMap<u32, KeyPair>,
    /// PQXDH's KEM prekeys by id, with whether each is a last-resort key
    /// (kept after use) or a one-time key (deleted after use).
    kem_prekeys: BTreeMap<u32, (KemKeyPair, KemPrekeyUse)>,
}

/// Whether a KEM prekey may start one session or many (\[PQXDH\] §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KemPrekeyUse {
    /// A one-time KEM prekey: deleted once a session was accepted with it.
    OneTime,
    /// The signed last-resort KEM prekey: kept, like the signed EC prekey.
    LastResort,
}

/// A session accepted from an initial message.
#[derive(Debug)]
pub struct Accepted {
    /// Bob's new session.
    pub session: Session,
    /// The first message's plaintext.
    pub plaintext: Vec<u8>,
    /// AD, for the rest of the conversation.
    pub associated_data: [u8; AD_LEN],
    /// IKa, for the application to check against what it expects.
    pub peer_identity: PublicKey,
    /// Alice's registration id (0 in suites whose initial message has none).
    pub peer_registration_id: u32,
    /// EKa: names the session when more initial messages of it arrive.
    pub base_key: PublicKey,
}

impl Responder {
    /// A responder with identity key IKb and no prekeys yet.
    pub fn new(identity: KeyPair) -> Self {
        Self {
            identity,
            signed_prekeys: BTreeMap::new(),
            one_time_prekeys: BTreeMap::new(),
            kem_prekeys: BTreeMap::new(),
        }
    }

    /// IKb.
    pub fn identity(&self) -> &KeyPair {
        &self.identity
    }

    /// Adds (or replaces) a signed prekey.
    pub fn add_signed_prekey(&mut self, id: u32, key: KeyPair) {
        self.signed_prekeys.insert(id, key);
    }

    /// Adds (or replaces) a one-time prekey.
    pub fn add_one_time_prekey(&mut self, id: u32, key: KeyPair) {
        self.one_time_prekeys.insert(id, key);
    }

    /// Whether one-time prekey `id` is still held.
    pub fn has_one_time_prekey(&self, id: u32) -> bool {
        self.one_time_prekeys.contains_key(&id)
    }

    /// Adds (or replaces) a KEM prekey (PQXDH).
    pub fn add_kem_prekey(&mut self, id: u32, key: KemKeyPair, usage: KemPrekeyUse) {
        self.kem_prekeys.insert(id, (key, usage));
    }

    /// Whether KEM prekey `id` is still held.
    pub fn has_kem_prekey(&self, id: u32) -> bool {
        self.kem_prekeys.contains_key(&id)
    }

    /// The bundle a server hands out for `suite`: signed prekey
    /// `signed_prekey_id`, the one-time prekey asked for, and when the suite's
    /// agreement has a KEM, a one-time KEM prekey if one is held (the lowest
    /// id), else the last-resort one (\[PQXDH\] §3.2 "If Bob's one-time
    /// pqkem prekeys are exhausted, the last-resort pqkem prekey").
    pub fn suite_bundle<R: CryptoRng + ?Sized>(
        &self,
        suite: Suite,
        signed_prekey_id: u32,
        one_time_prekey_id: Option<u32>,
        rng: &mut R,
    ) -> Result<PreKeyBundle> {
        let Some(kem) = suite.key_agreement().kem() else {
            return self.bundle(signed_prekey_id, one_time_prekey_id, rng);
        };
        let pick = |wanted| {
            self.kem_prekeys
                .iter()
                .find(|(_, (_, usage))| *usage == wanted)
                .map(|(id, _)| *id)
        };
        let id = pick(KemPrekeyUse::OneTime)
            .or_else(|| pick(KemPrekeyUse::LastResort))
            .ok_or(Error::InvalidConfig(
                "a PQXDH responder holds no KEM prekey",
            ))?;
        self.pq_bundle(kem, signed_prekey_id, one_time_prekey_id, id, rng)
    }

    /// A PQXDH bundle: [`Responder::bundle`] plus KEM prekey `kem_prekey_id`
    /// encoded by `kem` and signed with IKb (signed after SPKb).
    pub fn pq_bundle<R: CryptoRng + ?Sized>(
        &self,
        kem: &dyn Kem,
        signed_prekey_id: u32,
        one_time_prekey_id: Option<u32>,
        kem_prekey_id: u32,
        rng: &mut R,
    ) -> Result<PreKeyBundle> {
        let mut bundle = self.bundle(signed_prekey_id, one_time_prekey_id, rng)?;
        let (pair, _) = self.kem_prekey(kem_prekey_id)?;
        let key = kem.encode_public_key(&pair.public);
        bundle.kem_prekey = Some(SignedKemPrekey {
            id: kem_prekey_id,
            signature: xeddsa::sign(self.identity.private_key(), &key, rng),
            key,
        });
        Ok(bundle)
    }

    /// Builds the bundle for a signed prekey (signing it with IKb) and an optional one-time prekey.
    pub fn bundle<R: CryptoRng + ?Sized>(
        &self,
        signed_prekey_id: u32,
        one_time_prekey_id: Option<u32>,
        rng: &mut R,
    ) -> Result<PreKeyBundle> {
        let spk = self.signed_prekey(signed_prekey_id)?;
        let opk = match one_time_prekey_id {
            Some(id) => Some((id, *self.one_time_prekey(id)?.public_key())),
            None => None,
        };
        Ok(PreKeyBundle {
            identity_key: *self.identity.public_key(),
            signed_prekey_id,
            signed_prekey: *spk.public_key(),
            signed_prekey_signature: sign_prekey(&self.identity, spk.public_key(), rng),
            one_time_prekey: opk,
            kem_prekey: None,
        })
    }

    fn signed_prekey(&self, id: u32) -> Result<&KeyPair> {
        self.signed_prekeys
            .get(&id)
            .ok_or(Error::UnknownPreKey { kind: "signed", id })
    }

    fn kem_prekey(&self, id: u32) -> Result<&(KemKeyPair, KemPrekeyUse)> {
        self.kem_prekeys
            .get(&id)
            .ok_or(Error::UnknownPreKey { kind: "KEM", id })
    }

    fn one_time_prekey(&self, id: u32) -> Result<&KeyPair> {
        self.one_time_prekeys.get(&id).ok_or(Error::UnknownPreKey {
            kind: "one-time",
            id,
        })
    }

    /// Accepts an encoded initial message: the suite's key agreement (X3DH
    /// or PQXDH), RatchetInitBob and the first decryption. The one-time
    /// prekeys (EC, and a one-time KEM prekey) are deleted only if that
    /// decryption succeeds; on any error the responder is unchanged.
    pub fn accept<R: CryptoRng + ?Sized>(
        &mut self,
        suite: Suite,
        config: SessionConfig,
        initial_message: &[u8],
        rng: &mut R,
    ) -> Result<Accepted> {
        let initial = suite.decode_initial(initial_message)?;
        let spk = self.signed_prekey(initial.signed_prekey_id)?;
        let opk = match initial.one_time_prekey_id {
            Some(id) => Some(self.one_time_prekey(id)?),
            None => None,
        };
        let key_agreement = suite.key_agreement();
        let kem = match (key_agreement.kem(), &initial.kem) {
            (Some(_), Some(kem)) => Some((kem, self.kem_prekey(kem.prekey_id)?)),
            (Some(_), None) => {
                return Err(Error::Malformed(
                    "a PQXDH initial message carries a KEM prekey id and ciphertext",
                ));
            }
            (None, _) => None,
        };
        let agreement = key_agreement.respond(
            &self.identity,
            spk,
            opk,
            kem.map(|(initial, (pair, _))| KemResponse {
                prekey: pair,
                ciphertext: &initial.ciphertext,
            }),
            &initial.identity_key,
            &initial.ephemeral_key,
        )?;
        let last_resort = kem.map(|(_, (_, usage))| *usage == KemPrekeyUse::LastResort);
        let mut session = Session::init_bob(suite, config, agreement.shared_key, spk.clone())?;
        let plaintext = session.decrypt(&initial.message, &agreement.associated_data, rng)?;
        if let Some(id) = initial.one_time_prekey_id {
            self.one_time_prekeys.remove(&id);
        }
        if let (Some(kem), Some(false)) = (&initial.kem, last_resort) {
            self.kem_prekeys.remove(&kem.prekey_id);
        }
        Ok(Accepted {
            session,
            plaintext,
            associated_data: agreement.associated_data,
            peer_identity: initial.identity_key,
            peer_registration_id: initial.registration_id,
            base_key: initial.ephemeral_key,
        })
    }
}
