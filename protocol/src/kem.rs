//! Key encapsulation for PQXDH ([PQXDH] §2.2 "pqkem"): the KEMs a suite can
//! name, their key and ciphertext encodings, and deterministic key generation
//! and encapsulation so that vectors reproduce.
//!
//! Two KEMs of the same lattice, each a suite choice (`docs/PQXDH.md` §2):
//! * [`KYBER1024`] — round-3 CRYSTALS-Kyber-1024, as libsignal has used it since
//!   PQXDH shipped (key type byte `0x08`). [PQXDH] revisions 1 and 2 name
//!   "Crystals-Kyber-1024", citing the FIPS 203 draft.
//! * [`ML_KEM_1024`] — ML-KEM-1024 of FIPS 203 (key type byte `0x0A`, as in
//!   libsignal's key-type table): the standard that draft became.
//!
//! They share sizes (public key 1568, secret key 3168, ciphertext 1568,
//! shared secret 32 bytes) but not outputs: FIPS 203 dropped round 3's hash
//! of the public key into the key derivation and the hashing of the
//! encapsulation randomness, so the same seed gives the same keys and a
//! different ciphertext and secret.
//!
//! `EncodeKEM(PK) = type ‖ PK` and ciphertexts are sent as `type ‖ CT`, as in
//! libsignal; a different byte or length is refused (`InvalidKey`). The
//! arithmetic is `libcrux-ml-kem` (formally verified, the crate libsignal
//! uses); this module only names, encodes and checks.
//!
//! What the module does not know: signatures, DHs, the KDF (`crate::pqxdh`).
//!
//! [PQXDH]: https://signal.org/docs/specifications/pqxdh/

use core::fmt::Debug;

use libcrux_ml_kem::{kyber1024, mlkem1024};
use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// Length of a KEM public (encapsulation) key, without the type byte.
pub const PUBLIC_KEY_LEN: usize = 1568;
/// Length of a KEM secret (decapsulation) key, without the type byte.
pub const SECRET_KEY_LEN: usize = 3168;
/// Length of a KEM ciphertext, without the type byte.
pub const CIPHERTEXT_LEN: usize = 1568;
/// Length of the shared secret.
pub const SHARED_SECRET_LEN: usize = 32;
/// Length of the key-generation seed (`d ‖ z` of FIPS 203).
pub const KEYGEN_SEED_LEN: usize = 64;
/// Length of the encapsulation randomness (`m` of FIPS 203).
pub const ENCAPSULATION_SEED_LEN: usize = 32;

/// The libsignal key-type byte of Kyber-1024 keys and ciphertexts.
pub const KYBER1024_TYPE: u8 = 0x08;
/// The libsignal key-type byte of ML-KEM-1024 keys and ciphertexts.
pub const ML_KEM_1024_TYPE: u8 = 0x0A;

/// A KEM public key, bare (no type byte).
#[derive(Clone, PartialEq, Eq)]
pub struct KemPublicKey(Box<[u8; PUBLIC_KEY_LEN]>);

impl KemPublicKey {
    /// Wraps a bare key of exactly [`PUBLIC_KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; PUBLIC_KEY_LEN]>::try_from(bytes)
            .map(|k| Self(Box::new(k)))
            .map_err(|_| Error::InvalidKey("a KEM public key is 1568 bytes"))
    }

    /// The bare key bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }
}

impl Debug for KemPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KemPublicKey(")?;
        for b in self.0.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// A KEM secret key, bare. Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct KemSecretKey(Zeroizing<Vec<u8>>);

impl KemSecretKey {
    /// Wraps a bare key of exactly [`SECRET_KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != SECRET_KEY_LEN {
            return Err(Error::InvalidKey("a KEM secret key is 3168 bytes"));
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    /// The bare key bytes ([`SECRET_KEY_LEN`] of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Debug for KemSecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KemSecretKey(<redacted>)")
    }
}

/// A KEM key pair.
#[derive(Clone, Debug)]
pub struct KemKeyPair {
    /// The decapsulation key.
    pub secret: KemSecretKey,
    /// The encapsulation key.
    pub public: KemPublicKey,
}

impl KemKeyPair {
    /// A key pair from its two bare halves. The halves are not checked
    /// against each other: a responder holds what it was given.
    pub fn from_parts(secret: &[u8], public: &[u8]) -> Result<Self> {
        Ok(Self {
            secret: KemSecretKey::from_slice(secret)?,
            public: KemPublicKey::from_slice(public)?,
        })
    }
}

/// The shared secret of one encapsulation. Zeroized on drop.
pub type KemSharedSecret = Zeroizing<[u8; SHARED_SECRET_LEN]>;

/// A KEM a suite names: its identity on the wire and its three algorithms.
/// Every method is deterministic; randomness enters as seeds.
pub trait Kem: Send + Sync + Debug {
    /// The KEM's name, for reports and `docs/PQXDH.md` (`kyber1024`, `ml-kem-1024`).
    fn name(&self) -> &'static str;

    /// The type byte of `EncodeKEM` and of ciphertexts on the wire.
    fn type_byte(&self) -> u8;

    /// Key generation from a 64-byte seed (FIPS 203 `d ‖ z`; round-3 Kyber's
    /// `d ‖ z` in the same order).
    fn generate_from_seed(&self, seed: &[u8; KEYGEN_SEED_LEN]) -> KemKeyPair;

    /// Whether an encapsulation key passes the KEM's input check before
    /// encapsulation (FIPS 203 §7.2, the modulus check for ML-KEM; round-3
    /// Kyber defines none and accepts every key of the right length).
    fn check_public_key(&self, key: &KemPublicKey) -> bool;

    /// Encapsulation with the 32-byte randomness `m`: (bare ciphertext, SS).
    fn encapsulate(
        &self,
        key: &KemPublicKey,
        seed: &[u8; ENCAPSULATION_SEED_LEN],
    ) -> (Vec<u8>, KemSharedSecret);

    /// Decapsulation of a bare ciphertext of exactly [`CIPHERTEXT_LEN`]
    /// bytes. A ciphertext that was not made for `key` gives the KEM's
    /// implicit-rejection secret, never an error.
    fn decapsulate(&self, key: &KemSecretKey, ciphertext: &[u8]) -> Result<KemSharedSecret>;

    /// `EncodeKEM(PK) = type ‖ PK`.
    fn encode_public_key(&self, key: &KemPublicKey) -> Vec<u8> {
        prefixed(self.type_byte(), key.as_bytes())
    }

    /// Inverse of [`Kem::encode_public_key`]: this KEM's type byte and
    /// exactly [`PUBLIC_KEY_LEN`] bytes after it.
    fn decode_public_key(&self, bytes: &[u8]) -> Result<KemPublicKey> {
        KemPublicKey::from_slice(strip_type(self.type_byte(), bytes, "KEM public key")?)
    }

    /// A ciphertext as sent: `type ‖ CT`.
    fn encode_ciphertext(&self, ciphertext: &[u8]) -> Vec<u8> {
        prefixed(self.type_byte(), ciphertext)
    }

    /// Inverse of [`Kem::encode_ciphertext`]: this KEM's type byte and
    /// exactly [`CIPHERTEXT_LEN`] bytes after it.
    fn decode_ciphertext<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8]> {
        let ct = strip_type(self.type_byte(), bytes, "KEM ciphertext")?;
        if ct.len() == CIPHERTEXT_LEN {
            Ok(ct)
        } else {
            Err(Error::InvalidKey("a KEM ciphertext is 1568 bytes"))
        }
    }

    /// Draws a key pair: 64 bytes from `rng`, then [`Kem::generate_from_seed`].
    fn generate(&self, rng: &mut dyn CryptoRngDyn) -> KemKeyPair {
        let mut seed = Zeroizing::new([0u8; KEYGEN_SEED_LEN]);
        rng.fill(seed.as_mut_slice());
        self.generate_from_seed(&seed)
    }
}

/// Object-safe access to a [`CryptoRng`], so that trait objects can draw.
pub trait CryptoRngDyn {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);
}

impl<R: CryptoRng + ?Sized> CryptoRngDyn for R {
    fn fill(&mut self, dest: &mut [u8]) {
        self.fill_bytes(dest);
    }
}

fn prefixed(type_byte: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + bytes.len());
    out.push(type_byte);
    out.extend_from_slice(bytes);
    out
}

fn strip_type<'a>(type_byte: u8, bytes: &'a [u8], what: &'static str) -> Result<&'a [u8]> {
    match bytes.split_first() {
        Some((&t, rest)) if t == type_byte => Ok(rest),
        Some(_) => Err(Error::InvalidKey(match what {
            "KEM ciphertext" => "KEM ciphertext type byte is not the suite's KEM",
            _ => "KEM key type byte is not the suite's KEM",
        })),
        None => Err(Error::InvalidKey("empty KEM key or ciphertext")),
    }
}

/// Round-3 CRYSTALS-Kyber-1024 (libsignal's `kyber1024`, type `0x08`).
#[derive(Debug, Clone, Copy)]
pub struct Kyber1024;

/// ML-KEM-1024, FIPS 203 (type `0x0A`).
#[derive(Debug, Clone, Copy)]
pub struct MlKem1024;

/// The one value of [`Kyber1024`].
pub static KYBER1024: Kyber1024 = Kyber1024;
/// The one value of [`MlKem1024`].
pub static ML_KEM_1024: MlKem1024 = MlKem1024;

type Pk = mlkem1024::MlKem1024PublicKey;
type Sk = mlkem1024::MlKem1024PrivateKey;
type Ct = mlkem1024::MlKem1024Ciphertext;

fn split(pair: mlkem1024::MlKem1024KeyPair) -> KemKeyPair {
    let (sk, pk) = pair.into_parts();
    let mut secret: [u8; SECRET_KEY_LEN] = sk.into();
    let key = KemKeyPair {
        secret: KemSecretKey(Zeroizing::new(secret.to_vec())),
        public: KemPublicKey(Box::new(pk.into())),
    };
    secret.zeroize();
    key
}

fn ciphertext(bytes: &[u8]) -> Result<Ct> {
    Ct::try_from(bytes).map_err(|_| Error::InvalidKey("a KEM ciphertext is 1568 bytes"))
}

/// libcrux takes its keys by value type; the copy it needs is wiped here.
fn with_secret<T>(key: &KemSecretKey, f: impl FnOnce(&Sk) -> T) -> Result<T> {
    let sk = Sk::try_from(key.as_bytes())
        .map_err(|_| Error::InvalidKey("a KEM secret key is 3168 bytes"))?;
    let out = f(&sk);
    let mut bytes: [u8; SECRET_KEY_LEN] = sk.into();
    bytes.zeroize();
    Ok(out)
}

impl Kem for Kyber1024 {
    fn name(&self) -> &'static str {
        "kyber1024"
    }

    fn type_byte(&self) -> u8 {
        KYBER1024_TYPE
    }

    fn generate_from_seed(&self, seed: &[u8; KEYGEN_SEED_LEN]) -> KemKeyPair {
        split(kyber1024::generate_key_pair(*seed))
    }

    fn check_public_key(&self, _key: &KemPublicKey) -> bool {
        true
    }

    fn encapsulate(
        &self,
        key: &KemPublicKey,
        seed: &[u8; ENCAPSULATION_SEED_LEN],
    ) -> (Vec<u8>, KemSharedSecret) {
        let (ct, ss) = kyber1024::encapsulate(&Pk::from(key.as_bytes()), *seed);
        (ct.as_ref().to_vec(), Zeroizing::new(ss))
    }

    fn decapsulate(&self, key: &KemSecretKey, ct: &[u8]) -> Result<KemSharedSecret> {
        let ct = ciphertext(ct)?;
        with_secret(key, |sk| Zeroizing::new(kyber1024::decapsulate(sk, &ct)))
    }
}

impl Kem for MlKem1024 {
    fn name(&self) -> &'static str {
        "ml-kem-1024"
    }

    fn type_byte(&self) -> u8 {
        ML_KEM_1024_TYPE
    }

    fn generate_from_seed(&self, seed: &[u8; KEYGEN_SEED_LEN]) -> KemKeyPair {
        split(mlkem1024::generate_key_pair(*seed))
    }

    fn check_public_key(&self, key: &KemPublicKey) -> bool {
        mlkem1024::validate_public_key(&Pk::from(key.as_bytes()))
    }

    fn encapsulate(
        &self,
        key: &KemPublicKey,
        seed: &[u8; ENCAPSULATION_SEED_LEN],
    ) -> (Vec<u8>, KemSharedSecret) {
        let (ct, ss) = mlkem1024::encapsulate(&Pk::from(key.as_bytes()), *seed);
        (ct.as_ref().to_vec(), Zeroizing::new(ss))
    }

    fn decapsulate(&self, key: &KemSecretKey, ct: &[u8]) -> Result<KemSharedSecret> {
        let ct = ciphertext(ct)?;
        with_secret(key, |sk| Zeroizing::new(mlkem1024::decapsulate(sk, &ct)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kems() -> [&'static dyn Kem; 2] {
        [&KYBER1024, &ML_KEM_1024]
    }

    #[test]
    fn encapsulation_round_trips_and_is_deterministic() {
        for kem in kems() {
            let pair = kem.generate_from_seed(&[7; 64]);
            assert_eq!(pair.public, kem.generate_from_seed(&[7; 64]).public);
            let (ct, ss) = kem.encapsulate(&pair.public, &[9; 32]);
            assert_eq!(ct.len(), CIPHERTEXT_LEN);
            assert_eq!(
                kem.decapsulate(&pair.secret, &ct).ok().as_deref(),
                Some(&*ss)
            );
            let (ct2, ss2) = kem.encapsulate(&pair.public, &[9; 32]);
            assert_eq!((ct2, *ss2), (ct.clone(), *ss));
            // Implicit rejection: a flipped bit decapsulates to another secret.
            let mut bad = ct;
            if let Some(b) = bad.get_mut(100) {
                *b ^= 1;
            }
            let rejected = kem.decapsulate(&pair.secret, &bad).ok();
            assert!(rejected.is_some_and(|r| *r != *ss), "{}", kem.name());
        }
    }

    #[test]
    fn the_two_kems_differ_on_the_same_seeds() {
        let a = KYBER1024.generate_from_seed(&[1; 64]);
        let b = ML_KEM_1024.generate_from_seed(&[1; 64]);
        let (ca, sa) = KYBER1024.encapsulate(&a.public, &[2; 32]);
        let (cb, sb) = ML_KEM_1024.encapsulate(&b.public, &[2; 32]);
        assert_ne!(ca, cb);
        assert_ne!(*sa, *sb);
    }

    #[test]
    fn encodings_carry_the_type_byte_and_refuse_others() {
        let pair = KYBER1024.generate_from_seed(&[3; 64]);
        let encoded = KYBER1024.encode_public_key(&pair.public);
        assert_eq!(encoded.first(), Some(&KYBER1024_TYPE));
        assert_eq!(encoded.len(), 1 + PUBLIC_KEY_LEN);
        assert!(KYBER1024.decode_public_key(&encoded).is_ok());
        assert!(ML_KEM_1024.decode_public_key(&encoded).is_err());
        assert!(
            KYBER1024
                .decode_public_key(encoded.get(..PUBLIC_KEY_LEN).unwrap_or_default())
                .is_err()
        );
        assert!(KYBER1024.decode_public_key(&[]).is_err());
        let ct = KYBER1024.encode_ciphertext(&[0; CIPHERTEXT_LEN]);
        assert!(KYBER1024.decode_ciphertext(&ct).is_ok());
        assert!(ML_KEM_1024.decode_ciphertext(&ct).is_err());
        assert!(
            KYBER1024
                .decode_ciphertext(&[KYBER1024_TYPE; 1568])
                .is_err()
        );
        assert!(KYBER1024.decapsulate(&pair.secret, &[0; 10]).is_err());
    }

    #[test]
    fn ml_kem_checks_the_modulus_and_kyber_does_not() {
        let pair = ML_KEM_1024.generate_from_seed(&[4; 64]);
        assert!(ML_KEM_1024.check_public_key(&pair.public));
        // The first coefficient set to 4095 ≥ q = 3329 (12-bit little-endian).
        let mut bytes = *pair.public.as_bytes();
        let [b0, b1, ..] = &mut bytes;
        *b0 = 0xff;
        *b1 |= 0x0f;
        let bad = KemPublicKey(Box::new(bytes));
        assert!(!ML_KEM_1024.check_public_key(&bad));
        assert!(KYBER1024.check_public_key(&bad));
    }
}
