//! X25519 keys as distinct types: a public key, a private key that zeroizes on
//! drop and never prints, a key pair, and the Diffie-Hellman output.
//!
//! Key generation draws exactly 32 bytes from the caller's RNG and uses them as
//! the private key; X25519 clamps them when they are used (RFC 7748 §5), and the
//! unclamped bytes are what serialization stores. An RNG that hands out known
//! 32-byte keys therefore injects exactly those keys.

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::consts::{CURVE25519_KEY_TYPE, KEY_LEN};
use crate::error::{Error, Result};

/// An X25519 public key: the 32-byte little-endian Montgomery u-coordinate.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// Wraps 32 bytes. Every 32-byte string is accepted here; small-order
    /// points are rejected when a Diffie-Hellman output comes out all zero.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses a key from a slice, rejecting any length but 32.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; KEY_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| Error::InvalidKey("an X25519 public key is 32 bytes"))
    }

    /// The 32 key bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// `Encode(PK)` from the X3DH spec: the curve-type byte 0x05 followed by the u-coordinate.
    pub fn encode(&self) -> [u8; KEY_LEN + 1] {
        let mut out = [0u8; KEY_LEN + 1];
        let (kind, key) = out.split_at_mut(1);
        kind.copy_from_slice(&[CURVE25519_KEY_TYPE]);
        key.copy_from_slice(&self.0);
        out
    }
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// An X25519 private key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PrivateKey([u8; KEY_LEN]);

impl PrivateKey {
    /// Wraps 32 private key bytes (unclamped; clamping happens on use).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Draws a fresh private key: exactly 32 bytes from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill_bytes(&mut bytes);
        let key = Self(bytes);
        bytes.zeroize();
        key
    }

    /// The private key bytes as given (unclamped).
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.0)
    }

    /// The matching public key: X25519(clamp(k), 9).
    pub fn public_key(&self) -> PublicKey {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }

    /// X25519(clamp(k), their u). Fails with [`Error::InvalidKey`] when the
    /// output is all zero, i.e. `their` is a small-order point — optional
    /// hardening that the X3DH and Double Ratchet specs allow (SPEC.md §2).
    pub fn diffie_hellman(&self, their: &PublicKey) -> Result<DhOutput> {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(their.0));
        if !shared.was_contributory() {
            return Err(Error::InvalidKey(
                "small-order public key: the Diffie-Hellman output is all zero",
            ));
        }
        Ok(DhOutput(shared.to_bytes()))
    }
}

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// A private key with its public key.
#[derive(Clone, Debug)]
pub struct KeyPair {
    private: PrivateKey,
    public: PublicKey,
}

impl KeyPair {
    /// Derives the public key from `private`.
    pub fn from_private(private: PrivateKey) -> Self {
        let public = private.public_key();
        Self { private, public }
    }

    /// GENERATE_DH(): a fresh key pair from exactly 32 bytes of `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_private(PrivateKey::generate(rng))
    }

    /// The private half.
    pub fn private_key(&self) -> &PrivateKey {
        &self.private
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// DH(self, their).
    pub fn diffie_hellman(&self, their: &PublicKey) -> Result<DhOutput> {
        self.private.diffie_hellman(their)
    }
}

/// The 32-byte output of X25519. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DhOutput([u8; KEY_LEN]);

impl DhOutput {
    /// Wraps raw bytes (for known-answer tests of the KDFs).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 output bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl core::fmt::Debug for DhOutput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DhOutput(<redacted>)")
    }
}
