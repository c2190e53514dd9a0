//! Message encryption in the default suite (Double Ratchet spec §3.1 ENCRYPT,
//! §5.2): AES-256-GCM under a key and nonce derived from the message key.
//!
//! A message key encrypts exactly one message, so a nonce derived together with
//! the key is never reused (spec §3.1 allows a fixed or derived nonce; see
//! SPEC.md §11 on restored state re-using a key).

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, Nonce, Tag};

use crate::chain_key::MessageKey;
use crate::error::{Error, Result};
use crate::primitives::{Secret, hkdf_sha256};

/// AES-256 key length.
pub(crate) const AEAD_KEY_LEN: usize = 32;
/// AES-GCM nonce length.
pub(crate) const AEAD_NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const AEAD_TAG_LEN: usize = 16;

/// The AEAD key and nonce for one message key.
pub(crate) struct AeadKeys {
    pub(crate) key: Secret<AEAD_KEY_LEN>,
    pub(crate) nonce: [u8; AEAD_NONCE_LEN],
}

/// HKDF-SHA256(salt = none, ikm = mk, info) → 44 bytes = key (32) ‖ nonce (12).
pub(crate) fn derive_aead_keys(mk: &MessageKey, info: &[u8]) -> AeadKeys {
    let okm = hkdf_sha256::<{ AEAD_KEY_LEN + AEAD_NONCE_LEN }>(None, mk.as_bytes(), info);
    let (k, n) = okm.split_at(AEAD_KEY_LEN);
    let mut key = Secret([0u8; AEAD_KEY_LEN]);
    let mut nonce = [0u8; AEAD_NONCE_LEN];
    key.copy_from_slice(k);
    nonce.copy_from_slice(n);
    AeadKeys { key, nonce }
}

impl AeadKeys {
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.key).into())
    }

    fn nonce(&self) -> &Nonce<Aes256Gcm> {
        (&self.nonce).into()
    }
}

/// AES-256-GCM encryption in place: `message[body..]` holds the plaintext,
/// which becomes the ciphertext, and the 16-byte tag is appended. With the
/// tag's capacity reserved, the message is neither copied nor reallocated.
pub(crate) fn seal_in_place(
    keys: &AeadKeys,
    message: &mut Vec<u8>,
    body: usize,
    aad: &[u8],
) -> Result<()> {
    let plaintext = message
        .get_mut(body..)
        .ok_or(Error::Malformed("message shorter than its header"))?;
    // AES-GCM refuses plaintexts over 2^36 - 32 bytes.
    let tag = keys
        .cipher()
        .encrypt_inout_detached(keys.nonce(), aad, plaintext.into())
        .map_err(|_| Error::Malformed("plaintext too long for AES-GCM"))?;
    message.extend_from_slice(&tag);
    Ok(())
}

/// AES-256-GCM decryption of ciphertext ‖ tag. The tag is checked before
/// anything is decrypted.
pub(crate) fn open(keys: &AeadKeys, ciphertext_and_tag: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let (ciphertext, tag) = ciphertext_and_tag
        .split_at_checked(
            ciphertext_and_tag
                .len()
                .checked_sub(AEAD_TAG_LEN)
                .ok_or(Error::AuthenticationFailed)?,
        )
        .ok_or(Error::AuthenticationFailed)?;
    let tag = Tag::<Aes256Gcm>::try_from(tag).map_err(|_| Error::AuthenticationFailed)?;
    let mut plaintext = ciphertext.to_vec();
    keys.cipher()
        .decrypt_inout_detached(keys.nonce(), aad, plaintext.as_mut_slice().into(), &tag)
        .map_err(|_| Error::AuthenticationFailed)?;
    Ok(plaintext)
}
