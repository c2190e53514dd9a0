//! The primitive floor: what each ratchet operation costs if it did nothing but
//! the primitive calls the spec requires of it, counted from
//! `protocol/src/session.rs` and the default suite (`x25519-sha256-aes256gcm`).
//!
//! Each function here calls RustCrypto / dalek directly, at the versions the
//! protocol crate uses, with inputs of the same lengths (same HKDF info strings,
//! same AEAD associated-data length). No framing, no allocation beyond what the
//! AEAD API itself does, no state bookkeeping: that is the overhead the ratio
//! `operation ÷ floor` shows.
//!
//! | operation | floor |
//! | --- | --- |
//! | KDF_RK | HKDF-SHA256(salt 32 B, ikm 32 B) → 64 B |
//! | KDF_CK | 2 × HMAC-SHA256(32 B key, 1 B) |
//! | encrypt, n bytes | KDF_CK + HKDF(32 B) → 44 B + AES-256-GCM key setup + seal(n) |
//! | decrypt, n bytes | KDF_CK + HKDF(32 B) → 44 B + AES-256-GCM key setup + open(n) |
//! | ping-pong, n bytes | 2 × (encrypt + decrypt + 2 X25519 DH + 1 key generation + 2 KDF_RK) |
//! | decrypt from the skipped store | HKDF → 44 B + AES-256-GCM open(64) |
//! | 1 000-message burst | 1 000 × (KDF_CK + HKDF → 44 B + AES-256-GCM open(64)) |
//! | X3DH initiate | XEdDSA verify + 1 key generation + 4 X25519 DH + HKDF(160 B) → 32 B |
//! | X3DH respond | 4 X25519 DH + HKDF(160 B) → 32 B |
//! | state deserialize | 1 X25519 base-point multiplication (the state stores DHs's private key only) |
//!
//! The `signal-v3` suite's floors are in [`signal_v3`].

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand_core::CryptoRng;
use ratchetproof_protocol::suite::{INFO_MESSAGE_KEYS, INFO_ROOT, INFO_X3DH};
use sha2::{Digest, Sha256, Sha512};

pub mod signal_v3;

/// Length of the AEAD associated data the default suite builds for a message:
/// `u32be(len(ad)) ‖ ad ‖ version (1) ‖ header (40)`.
pub const fn aead_ad_len(ad_len: usize) -> usize {
    4 + ad_len + 1 + 40
}

/// A 32-byte value.
pub type Bytes32 = [u8; 32];

// ---------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------

/// HMAC-SHA256(key, message).
pub fn hmac_sha256(key: &Bytes32, message: &[u8]) -> Bytes32 {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(message);
    let mut out = [0u8; 32];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// HKDF-SHA256 with an `N`-byte output.
pub fn hkdf_sha256<const N: usize>(salt: Option<&[u8]>, ikm: &[u8], info: &[u8]) -> [u8; N] {
    let mut okm = [0u8; N];
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, &mut okm)
        .unwrap();
    okm
}

/// X25519(private, public).
pub fn x25519_dh(private: &Bytes32, public: &Bytes32) -> Bytes32 {
    let secret = x25519_dalek::StaticSecret::from(*private);
    secret
        .diffie_hellman(&x25519_dalek::PublicKey::from(*public))
        .to_bytes()
}

/// X25519(private, 9): the public key of a private key.
pub fn x25519_public(private: &Bytes32) -> Bytes32 {
    let secret = x25519_dalek::StaticSecret::from(*private);
    x25519_dalek::PublicKey::from(&secret).to_bytes()
}

/// GENERATE_DH(): 32 bytes from `rng` and their public key.
pub fn x25519_keygen<R: CryptoRng + ?Sized>(rng: &mut R) -> (Bytes32, Bytes32) {
    let mut private = [0u8; 32];
    rng.fill_bytes(&mut private);
    let public = x25519_public(&private);
    (private, public)
}

/// AES-256-GCM key setup and encryption: ciphertext ‖ tag.
pub fn aes256gcm_seal(key: &Bytes32, nonce: &[u8; 12], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key).unwrap();
    let nonce: &Nonce<Aes256Gcm> = nonce.into();
    cipher
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap()
}

/// AES-256-GCM key setup and decryption of ciphertext ‖ tag.
pub fn aes256gcm_open(key: &Bytes32, nonce: &[u8; 12], ciphertext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key).unwrap();
    let nonce: &Nonce<Aes256Gcm> = nonce.into();
    cipher
        .decrypt(
            nonce,
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .unwrap()
}

/// XEdDSA verification (XEdDSA spec §3.2) of a signature whose sign bit is 0:
/// u → Edwards point, SHA-512(R ‖ A ‖ M), one double-scalar multiplication and
/// two point compressions — the curve work any verifier must do.
pub fn xeddsa_verify(public: &Bytes32, message: &[u8], signature: &[u8; 64]) -> bool {
    let (r, s) = signature.split_at(32);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(s);
    s_bytes[31] &= 0x7F;
    let Some(a) = MontgomeryPoint(*public).to_edwards(0) else {
        return false;
    };
    let mut hash = Sha512::new();
    hash.update(r);
    hash.update(a.compress().as_bytes());
    hash.update(message);
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&hash.finalize());
    let h = Scalar::from_bytes_mod_order_wide(&wide);
    let s = Scalar::from_bytes_mod_order(s_bytes);
    EdwardsPoint::vartime_double_scalar_mul_basepoint(&h, &(-a), &s)
        .compress()
        .as_bytes()
        == r
}

// ---------------------------------------------------------------------------
// The spec's functions, as primitive calls
// ---------------------------------------------------------------------------

/// KDF_RK(rk, dh_out) → 64 bytes = next root key ‖ chain key.
pub fn kdf_rk(rk: &Bytes32, dh_out: &Bytes32) -> [u8; 64] {
    hkdf_sha256::<64>(Some(rk), dh_out, INFO_ROOT)
}

/// KDF_CK(ck) → (next chain key, message key).
pub fn kdf_ck(ck: &Bytes32) -> (Bytes32, Bytes32) {
    (hmac_sha256(ck, &[0x02]), hmac_sha256(ck, &[0x01]))
}

/// The message key's expansion: AES-256 key (32) ‖ GCM nonce (12).
pub fn message_keys(mk: &Bytes32) -> [u8; 44] {
    hkdf_sha256::<44>(None, mk, INFO_MESSAGE_KEYS)
}

fn split_keys(keys: &[u8; 44]) -> (Bytes32, [u8; 12]) {
    let mut key = [0u8; 32];
    let mut nonce = [0u8; 12];
    key.copy_from_slice(&keys[..32]);
    nonce.copy_from_slice(&keys[32..]);
    (key, nonce)
}

/// ENCRYPT(mk, plaintext, aad): message-key expansion and AES-256-GCM.
pub fn seal_with(mk: &Bytes32, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let (key, nonce) = split_keys(&message_keys(mk));
    aes256gcm_seal(&key, &nonce, plaintext, aad)
}

/// DECRYPT(mk, ciphertext, aad): message-key expansion and AES-256-GCM.
pub fn open_with(mk: &Bytes32, ciphertext: &[u8], aad: &[u8]) -> Vec<u8> {
    let (key, nonce) = split_keys(&message_keys(mk));
    aes256gcm_open(&key, &nonce, ciphertext, aad)
}

/// RatchetEncrypt on an established chain: KDF_CK + ENCRYPT.
pub fn encrypt(ck: &Bytes32, plaintext: &[u8], aad: &[u8]) -> (Bytes32, Vec<u8>) {
    let (next, mk) = kdf_ck(ck);
    (next, seal_with(&mk, plaintext, aad))
}

/// RatchetDecrypt on an established chain: KDF_CK + DECRYPT.
pub fn decrypt(ck: &Bytes32, ciphertext: &[u8], aad: &[u8]) -> (Bytes32, Vec<u8>) {
    let (next, mk) = kdf_ck(ck);
    (next, open_with(&mk, ciphertext, aad))
}

/// DHRatchet on receiving a new ratchet key: DH + KDF_RK (receiving chain),
/// GENERATE_DH, DH + KDF_RK (sending chain). Returns the new root key.
pub fn dh_ratchet<R: CryptoRng + ?Sized>(
    rng: &mut R,
    rk: &Bytes32,
    own_private: &Bytes32,
    their_public: &Bytes32,
) -> [u8; 64] {
    let receiving = kdf_rk(rk, &x25519_dh(own_private, their_public));
    let (private, _public) = x25519_keygen(rng);
    let mut rk = [0u8; 32];
    rk.copy_from_slice(&receiving[..32]);
    kdf_rk(&rk, &x25519_dh(&private, their_public))
}

/// Fixed inputs of the composite floors.
pub struct FloorInputs {
    /// A chain key.
    pub ck: Bytes32,
    /// A root key.
    pub rk: Bytes32,
    /// Alice's ratchet private key and public key.
    pub alice: (Bytes32, Bytes32),
    /// Bob's ratchet private key and public key.
    pub bob: (Bytes32, Bytes32),
    /// AEAD associated data of the reference's length for the X3DH AD.
    pub aad: Vec<u8>,
}

impl FloorInputs {
    /// Inputs drawn from `rng`, with an AEAD AD as long as the reference's.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, ad_len: usize) -> Self {
        Self::with_aad_len(rng, aead_ad_len(ad_len))
    }

    /// Inputs drawn from `rng`, with `aad_len` bytes of AEAD AD (or MAC prefix).
    pub fn with_aad_len<R: CryptoRng + ?Sized>(rng: &mut R, aad_len: usize) -> Self {
        let mut ck = [0u8; 32];
        let mut rk = [0u8; 32];
        rng.fill_bytes(&mut ck);
        rng.fill_bytes(&mut rk);
        Self {
            ck,
            rk,
            alice: x25519_keygen(rng),
            bob: x25519_keygen(rng),
            aad: vec![0xAD; aad_len],
        }
    }
}

/// One round trip: Alice encrypts, Bob DH-ratchets and decrypts, Bob encrypts,
/// Alice DH-ratchets and decrypts.
pub fn ping_pong<R: CryptoRng + ?Sized>(
    inputs: &FloorInputs,
    rng: &mut R,
    plaintext: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let (_, to_bob) = encrypt(&inputs.ck, plaintext, &inputs.aad);
    let bob_rk = dh_ratchet(rng, &inputs.rk, &inputs.bob.0, &inputs.alice.1);
    let (_, at_bob) = decrypt(&inputs.ck, &to_bob, &inputs.aad);
    let (_, to_alice) = encrypt(&inputs.ck, &at_bob, &inputs.aad);
    let alice_rk = dh_ratchet(rng, &inputs.rk, &inputs.alice.0, &inputs.bob.1);
    let (_, at_alice) = decrypt(&inputs.ck, &to_alice, &inputs.aad);
    std::hint::black_box((bob_rk, alice_rk));
    (at_bob, at_alice)
}

/// A 1 000-message burst received in any order: every message key of the chain
/// is derived once (KDF_CK) and every message opened once.
pub fn burst(ck: &Bytes32, ciphertexts: &[Vec<u8>], aad: &[u8]) -> usize {
    let mut ck = *ck;
    let mut total = 0;
    for ciphertext in ciphertexts {
        let (next, plaintext) = decrypt(&ck, ciphertext, aad);
        total += plaintext.len();
        ck = next;
    }
    total
}

/// The ciphertexts [`burst`] opens: the chain from `ck`, `count` messages.
pub fn burst_ciphertexts(ck: &Bytes32, count: usize, plaintext: &[u8], aad: &[u8]) -> Vec<Vec<u8>> {
    let mut ck = *ck;
    (0..count)
        .map(|_| {
            let (next, ciphertext) = encrypt(&ck, plaintext, aad);
            ck = next;
            ciphertext
        })
        .collect()
}

/// The X3DH KDF over `F ‖ DH1 ‖ … ‖ DHk`.
pub fn x3dh_kdf(dh_outputs: &[Bytes32]) -> Bytes32 {
    x3dh_kdf_with(INFO_X3DH, dh_outputs)
}

/// The X3DH KDF over `F ‖ DH1 ‖ … ‖ DHk` with the HKDF info `info`.
pub fn x3dh_kdf_with(info: &[u8], dh_outputs: &[Bytes32]) -> Bytes32 {
    let mut ikm = Vec::with_capacity(32 * (dh_outputs.len() + 1));
    ikm.extend_from_slice(&[0xFF; 32]);
    for dh in dh_outputs {
        ikm.extend_from_slice(dh);
    }
    hkdf_sha256::<32>(Some(&[0u8; 32]), &ikm, info)
}

/// Alice's X3DH with a one-time prekey: verify SPKb's signature, generate EKa,
/// four DHs, the KDF.
pub fn x3dh_initiate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    alice_identity_private: &Bytes32,
    bob_identity: &Bytes32,
    signed_prekey: &Bytes32,
    signed_prekey_encoded: &[u8; 33],
    signature: &[u8; 64],
    one_time_prekey: &Bytes32,
) -> Bytes32 {
    x3dh_initiate_with(
        INFO_X3DH,
        rng,
        alice_identity_private,
        bob_identity,
        signed_prekey,
        signed_prekey_encoded,
        signature,
        one_time_prekey,
    )
}

/// [`x3dh_initiate`] with the HKDF info `info`.
#[allow(clippy::too_many_arguments)]
pub fn x3dh_initiate_with<R: CryptoRng + ?Sized>(
    info: &[u8],
    rng: &mut R,
    alice_identity_private: &Bytes32,
    bob_identity: &Bytes32,
    signed_prekey: &Bytes32,
    signed_prekey_encoded: &[u8; 33],
    signature: &[u8; 64],
    one_time_prekey: &Bytes32,
) -> Bytes32 {
    assert!(xeddsa_verify(
        bob_identity,
        signed_prekey_encoded,
        signature
    ));
    let (ephemeral, _) = x25519_keygen(rng);
    x3dh_kdf_with(
        info,
        &[
            x25519_dh(alice_identity_private, signed_prekey),
            x25519_dh(&ephemeral, bob_identity),
            x25519_dh(&ephemeral, signed_prekey),
            x25519_dh(&ephemeral, one_time_prekey),
        ],
    )
}

/// Bob's X3DH with a one-time prekey: four DHs, the KDF.
pub fn x3dh_respond(
    bob_identity_private: &Bytes32,
    signed_prekey_private: &Bytes32,
    one_time_prekey_private: &Bytes32,
    alice_identity: &Bytes32,
    alice_ephemeral: &Bytes32,
) -> Bytes32 {
    x3dh_respond_with(
        INFO_X3DH,
        bob_identity_private,
        signed_prekey_private,
        one_time_prekey_private,
        alice_identity,
        alice_ephemeral,
    )
}

/// [`x3dh_respond`] with the HKDF info `info`.
pub fn x3dh_respond_with(
    info: &[u8],
    bob_identity_private: &Bytes32,
    signed_prekey_private: &Bytes32,
    one_time_prekey_private: &Bytes32,
    alice_identity: &Bytes32,
    alice_ephemeral: &Bytes32,
) -> Bytes32 {
    x3dh_kdf_with(
        info,
        &[
            x25519_dh(signed_prekey_private, alice_identity),
            x25519_dh(bob_identity_private, alice_ephemeral),
            x25519_dh(signed_prekey_private, alice_ephemeral),
            x25519_dh(one_time_prekey_private, alice_ephemeral),
        ],
    )
}

#[cfg(test)]
mod tests {
    //! Each floor computes the protocol crate's bytes, so it does the same work.

    use super::*;
    use crate::fixtures::{rng, x3dh_fixture};
    use ratchetproof_protocol::header::Header;
    use ratchetproof_protocol::x3dh;
    use ratchetproof_protocol::{
        ChainKey, CipherSuite, DEFAULT_SUITE, DhOutput, KeyPair, MessageKey, RootKey,
    };

    #[test]
    fn kdfs_match_the_default_suite() {
        let (rk, dh, ck) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let (next_rk, chain) =
            DEFAULT_SUITE.kdf_rk(&RootKey::from_bytes(rk), &DhOutput::from_bytes(dh));
        let okm = kdf_rk(&rk, &dh);
        assert_eq!(&okm[..32], next_rk.as_bytes());
        assert_eq!(&okm[32..], chain.as_bytes());

        let (next_ck, mk) = DEFAULT_SUITE.kdf_ck(&ChainKey::from_bytes(ck));
        assert_eq!(kdf_ck(&ck), (*next_ck.as_bytes(), *mk.as_bytes()));
        assert_eq!(
            message_keys(mk.as_bytes()).as_slice(),
            DEFAULT_SUITE.message_keys(&mk).as_slice()
        );
    }

    #[test]
    fn seal_matches_the_default_suite() {
        let mk = [4u8; 32];
        let ad = [5u8; x3dh::AD_LEN];
        let header = Header {
            dh: *KeyPair::generate(&mut rng(1)).public_key(),
            pn: 3,
            n: 9,
        };
        let message = DEFAULT_SUITE
            .seal(&MessageKey::from_bytes(mk), &header, b"plaintext", &ad)
            .unwrap();
        let (prefix, body) = message.split_at(41);
        let mut aad = (ad.len() as u32).to_be_bytes().to_vec();
        aad.extend_from_slice(&ad);
        aad.extend_from_slice(prefix);
        assert_eq!(aad.len(), aead_ad_len(ad.len()));
        assert_eq!(seal_with(&mk, b"plaintext", &aad), body);
    }

    #[test]
    fn x3dh_floors_match_the_protocol() {
        let f = x3dh_fixture(2);
        assert!(xeddsa_verify(
            f.bundle.identity_key.as_bytes(),
            &f.bundle.signed_prekey.encode(),
            &f.bundle.signed_prekey_signature,
        ));
        let agreement = x3dh::respond(
            &DEFAULT_SUITE,
            &f.bob_identity,
            &f.signed_prekey,
            Some(&f.one_time_prekey),
            f.alice_identity.public_key(),
            &f.alice_ephemeral,
        )
        .unwrap();
        let sk = x3dh_respond(
            &f.bob_identity.private_key().to_bytes(),
            &f.signed_prekey.private_key().to_bytes(),
            &f.one_time_prekey.private_key().to_bytes(),
            f.alice_identity.public_key().as_bytes(),
            f.alice_ephemeral.as_bytes(),
        );
        assert_eq!(&sk, agreement.shared_key.as_bytes());
    }

    #[test]
    fn burst_floor_opens_its_chain() {
        let inputs = FloorInputs::new(&mut rng(3), x3dh::AD_LEN);
        let cts = burst_ciphertexts(&inputs.ck, 10, &[7u8; 64], &inputs.aad);
        assert_eq!(burst(&inputs.ck, &cts, &inputs.aad), 640);
        let (a, b) = ping_pong(&inputs, &mut rng(4), &[8u8; 64]);
        assert_eq!((a.len(), b.len()), (64, 64));
    }
}
