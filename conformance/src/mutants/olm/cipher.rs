//! The mutant's own Olm message cipher (docs/OLM-V1.md §1, §4.1): the
//! message key expanded by `OLM_KEYS` into AES key ‖ HMAC key ‖ IV, then
//! AES-256-CBC with PKCS#7 padding and HMAC-SHA256 over the version byte and
//! fields, truncated to 8 bytes. Only the expansion comes from the protocol
//! crate (`olm::message_keys`); AES, CBC, padding and the tag are here, so
//! the cipher bugs can be: `Bug::OlmMacNotChecked`, `Bug::OlmPaddingLastByte`
//! (libolm's check of the pad length byte alone, finding L4),
//! `Bug::OlmEmptyCiphertextAccepted` (L5) and `Bug::OlmPartialBlockAccepted`
//! (trailing bytes after the last whole block ignored, L8's ciphertext).

use aes::Aes256;
use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use ratchetproof_protocol::olm::{MAC_LEN, message_keys};
use ratchetproof_protocol::{MessageKey, PublicKey};
use sha2::Sha256;

use super::wire::Message;
use super::{Bug, Switches};
use crate::implementation::{ErrorClass, ImplError, ImplResult};

fn refused(why: &str) -> ImplError {
    ImplError::new(ErrorClass::Authentication, why)
}

fn tag(mac_key: &[u8], authenticated: &[u8]) -> ImplResult<[u8; MAC_LEN]> {
    let mut h = <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key)
        .map_err(|_| ImplError::new(ErrorClass::State, "HMAC key"))?;
    h.update(authenticated);
    let full = h.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(full.get(..MAC_LEN).unwrap_or(&[0; MAC_LEN]));
    Ok(out)
}

/// The wire bytes of `plaintext` sent at `index` on the chain of `ratchet_key`.
pub(super) fn seal(
    mk: &MessageKey,
    ratchet_key: &PublicKey,
    index: u32,
    plaintext: &[u8],
) -> ImplResult<Vec<u8>> {
    let keys = message_keys(mk);
    let (aes_key, rest) = keys.split_at(32);
    let (mac_key, iv) = rest.split_at(32);
    let ciphertext = cbc::Encryptor::<Aes256>::new_from_slices(aes_key, iv)
        .map_err(|_| ImplError::new(ErrorClass::State, "AES key"))?
        .encrypt_padded_vec::<Pkcs7>(plaintext);
    let mut out = Message::body(ratchet_key, index, &ciphertext);
    let mac = tag(mac_key, &out)?;
    out.extend_from_slice(&mac);
    Ok(out)
}

/// Checks the tag, then decrypts and unpads.
pub(super) fn open(mk: &MessageKey, message: &Message, on: &Switches) -> ImplResult<Vec<u8>> {
    let keys = message_keys(mk);
    let (aes_key, rest) = keys.split_at(32);
    let (mac_key, iv) = rest.split_at(32);
    let expected = tag(mac_key, &message.authenticated)?;
    // The comparison runs over the received tag's length: 8 bytes unless
    // `Bug::OlmShortMacAccepted` let a shorter one through the parser.
    let received = message.mac.as_slice();
    let matches = expected
        .get(..received.len())
        .is_some_and(|e| e.iter().zip(received).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0);
    if !matches && !on.bug(Bug::OlmMacNotChecked) {
        return Err(refused("the tag does not verify"));
    }
    let decryptor = cbc::Decryptor::<Aes256>::new_from_slices(aes_key, iv)
        .map_err(|_| ImplError::new(ErrorClass::State, "AES key"))?;
    let mut ciphertext = message.ciphertext.as_slice();
    if ciphertext.is_empty() && on.bug(Bug::OlmEmptyCiphertextAccepted) {
        return Ok(Vec::new());
    }
    if on.bug(Bug::OlmPartialBlockAccepted) {
        ciphertext = ciphertext
            .get(..ciphertext.len() - ciphertext.len() % 16)
            .unwrap_or_default();
    }
    if on.bug(Bug::OlmPaddingLastByte) {
        let raw = decryptor
            .decrypt_padded_vec::<NoPadding>(ciphertext)
            .map_err(|_| refused("not a whole number of blocks"))?;
        let pad = usize::from(*raw.last().ok_or_else(|| refused("no block"))?);
        let keep = raw
            .len()
            .checked_sub(pad)
            .ok_or_else(|| refused("pad length beyond the plaintext"))?;
        return Ok(raw.get(..keep).unwrap_or_default().to_vec());
    }
    decryptor
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .map_err(|_| refused("bad PKCS#7 padding or length"))
}
