//! Olm's key derivations ("Olm: A Cryptographic Ratchet", §The Olm Algorithm):
//! the root from the triple-DH secret, the ratchet step, and the expansion of
//! a message key. The chain step `KDF_CK` (HMAC-SHA256 with 0x01 / 0x02) is
//! the Double Ratchet's own (`chain_key.rs`).

use zeroize::Zeroizing;

use crate::chain_key::{ChainKey, MessageKey};
use crate::keys::DhOutput;
use crate::primitives::{hkdf_sha256, hkdf_sha256_two_keys};
use crate::root_key::RootKey;

use super::{INFO_KEYS, INFO_RATCHET, INFO_ROOT, MESSAGE_KEYS_LEN};

/// `R0 ‖ C0,0 = HKDF(salt = zero, S, "OLM_ROOT")`, `S` the 96-byte triple-DH secret.
/// (libolm passes an empty salt, vodozemac one zero byte: HMAC pads both to
/// the same all-zero key.)
pub fn root_from_shared_secret(secret: &[u8]) -> (RootKey, ChainKey) {
    let okm = hkdf_sha256::<64>(None, secret, INFO_ROOT);
    split(&okm)
}

/// `Ri ‖ Ci,0 = HKDF(salt = Ri-1, ECDH(Ti-1, Ti), "OLM_RATCHET")`.
pub fn kdf_rk(rk: &RootKey, dh_out: &DhOutput) -> (RootKey, ChainKey) {
    let mut okm = Zeroizing::new([[0u8; 32]; 2]);
    hkdf_sha256_two_keys(rk.as_bytes(), dh_out.as_bytes(), INFO_RATCHET, &mut okm);
    let [root, chain] = &*okm;
    (RootKey::from_bytes(*root), ChainKey::from_bytes(*chain))
}

/// `KDF_CK`: (next chain key, message key), HMAC-SHA256 with 0x02 / 0x01.
pub fn kdf_ck(ck: &ChainKey) -> (ChainKey, MessageKey) {
    crate::chain_key::kdf_ck(ck)
}

/// `AES key ‖ HMAC key ‖ IV = HKDF(salt = zero, mk, "OLM_KEYS")`, 80 bytes.
pub fn message_keys(mk: &MessageKey) -> Zeroizing<[u8; MESSAGE_KEYS_LEN]> {
    Zeroizing::new(*hkdf_sha256::<MESSAGE_KEYS_LEN>(
        None,
        mk.as_bytes(),
        INFO_KEYS,
    ))
}

fn split(okm: &[u8; 64]) -> (RootKey, ChainKey) {
    let mut root = [0u8; 32];
    let mut chain = [0u8; 32];
    let (r, c) = okm.split_at(32);
    root.copy_from_slice(r);
    chain.copy_from_slice(c);
    let keys = (RootKey::from_bytes(root), ChainKey::from_bytes(chain));
    zeroize::Zeroize::zeroize(&mut root);
    zeroize::Zeroize::zeroize(&mut chain);
    keys
}
