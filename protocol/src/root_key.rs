//! The root chain: the X3DH shared secret `SK` that seeds it, and `KDF_RK`
//! (Double Ratchet spec §2.2, §5.2).

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::chain_key::ChainKey;
use crate::consts::KEY_LEN;
use crate::keys::DhOutput;
use crate::primitives::hkdf_sha256_two_keys;

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name([u8; KEY_LEN]);

        // By hand rather than derived: the derive zeroizes the array one
        // volatile byte at a time, the slice impl in one bulk write.
        impl Zeroize for $name {
            fn zeroize(&mut self) {
                self.0.as_mut_slice().zeroize();
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.zeroize();
            }
        }

        impl ZeroizeOnDrop for $name {}

        impl $name {
            /// Wraps 32 key bytes.
            pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// The 32 key bytes.
            pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
                &self.0
            }

            /// A key copied from 32 bytes of a longer secret, with no
            /// temporary copy left behind.
            #[allow(dead_code)]
            pub(crate) fn from_array_ref(bytes: &[u8; KEY_LEN]) -> Self {
                let mut key = Self([0; KEY_LEN]);
                key.0.copy_from_slice(bytes);
                key
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl subtle::ConstantTimeEq for $name {
            fn ct_eq(&self, other: &Self) -> subtle::Choice {
                self.0.ct_eq(&other.0)
            }
        }
    };
}
pub(crate) use secret_key;

secret_key!(
    /// The 32-byte shared secret `SK` that X3DH outputs and the Double Ratchet
    /// takes as its first root key.
    SharedKey
);

secret_key!(
    /// A root key `RK`.
    RootKey
);

impl From<SharedKey> for RootKey {
    fn from(sk: SharedKey) -> Self {
        RootKey(sk.0)
    }
}

/// The X3DH KDF's prefix F: 32 bytes of 0xFF for X25519 (X3DH spec §2.2).
const X3DH_PREFIX: [u8; 32] = [0xFF; 32];

/// The X3DH KDF (X3DH spec §2.2): `SK = HKDF(salt = 0x00×32, ikm = F ‖
/// dh_outputs, info)`, 32 bytes. Suites differ only in `info`.
pub(crate) fn x3dh_kdf(dh_outputs: &[u8], info: &[u8]) -> SharedKey {
    let mut sk = SharedKey([0; KEY_LEN]);
    x3dh_kdf_into(dh_outputs, info, &mut sk.0);
    sk
}

/// The X3DH/PQXDH KDF at any output length (libsignal expands 64 bytes, 96
/// since SPQR, of which `SK` is the first 32: HKDF output is prefix-stable).
/// `okm` longer than 8160 bytes is left zero.
pub(crate) fn x3dh_kdf_into(dh_outputs: &[u8], info: &[u8], okm: &mut [u8]) {
    let mut ikm = zeroize::Zeroizing::new(Vec::with_capacity(32 + dh_outputs.len()));
    ikm.extend_from_slice(&X3DH_PREFIX);
    ikm.extend_from_slice(dh_outputs);
    let _ = hkdf::Hkdf::<sha2::Sha256>::new(Some(&[0u8; 32]), &ikm).expand(info, okm);
}

/// `KDF_RK(rk, dh_out)`: HKDF-SHA256 with salt = `rk`, ikm = `dh_out` and the
/// suite's `info`, 64 bytes of output split into the next root key (first 32)
/// and a chain key (last 32).
pub(crate) fn kdf_rk(rk: &RootKey, dh_out: &DhOutput, info: &[u8]) -> (RootKey, ChainKey) {
    let mut okm = [[0u8; KEY_LEN]; 2];
    hkdf_sha256_two_keys(rk.as_bytes(), dh_out.as_bytes(), info, &mut okm);
    let [root, chain] = &okm;
    let out = (
        RootKey::from_array_ref(root),
        ChainKey::from_array_ref(chain),
    );
    okm.as_flattened_mut().zeroize();
    out
}
