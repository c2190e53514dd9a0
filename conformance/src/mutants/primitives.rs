//! The KDF and AEAD bugs: `KDF_RK` and `KDF_CK` with swapped inputs or
//! outputs, and the message AEAD with its associated data or nonce altered.
//! Each function is the spec's step with its [`Bug`] applied; without one,
//! the suite's own primitive is used instead (see [`own_aead`]).

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use hkdf::Hkdf;
use ratchetproof_protocol::suite::{INFO_ROOT, MESSAGE_VERSION};
use ratchetproof_protocol::{ChainKey, DhOutput, Error, Header, MessageKey, RootKey, Suite};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{Bug, Bugs};

/// `Bug::KdfCkConstantsSwapped`: HMAC(ck, 0x01) becomes the chain key and
/// HMAC(ck, 0x02) the message key.
pub(super) fn swap_chain_outputs(next: ChainKey, mk: MessageKey) -> (ChainKey, MessageKey) {
    (
        ChainKey::from_bytes(*mk.as_bytes()),
        MessageKey::from_bytes(*next.as_bytes()),
    )
}

/// `Bug::KdfRkSaltIkmSwapped`: HKDF(salt = dh_out, ikm = rk).
pub(super) fn kdf_rk_swapped(rk: &RootKey, dh: &DhOutput) -> (RootKey, ChainKey) {
    let mut okm = Zeroizing::new([0u8; 64]);
    // 64 bytes is far below HKDF-SHA256's limit, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(dh.as_bytes()), rk.as_bytes())
        .expand(INFO_ROOT, okm.as_mut_slice());
    let (root, chain) = okm.split_at(32);
    let mut r = [0u8; 32];
    let mut c = [0u8; 32];
    r.copy_from_slice(root);
    c.copy_from_slice(chain);
    (RootKey::from_bytes(r), ChainKey::from_bytes(c))
}

pub(super) fn own_aead(bugs: &Bugs) -> bool {
    [Bug::HeaderNotInAd, Bug::AmbiguousAdConcat, Bug::FixedNonce]
        .iter()
        .any(|b| bugs.contains(b))
}

/// The associated data the AEAD covers, with the AD bugs applied.
pub(super) fn aead_ad(bugs: &Bugs, ad: &[u8], version_and_header: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    if !bugs.contains(&Bug::AmbiguousAdConcat) {
        let len =
            u32::try_from(ad.len()).map_err(|_| Error::Malformed("associated data too long"))?;
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(ad);
    if !bugs.contains(&Bug::HeaderNotInAd) {
        out.extend_from_slice(version_and_header);
    }
    Ok(out)
}

/// The AES-256-GCM key and nonce for `mk`, with `Bug::FixedNonce` applied.
pub(super) fn aead_keys(
    suite: Suite,
    bugs: &Bugs,
    mk: &MessageKey,
) -> Result<(Aes256Gcm, [u8; 12]), Error> {
    let keys = suite.message_keys(mk);
    let (key, nonce) = keys
        .split_at_checked(32)
        .ok_or(Error::InvalidKey("message keys too short"))?;
    let cipher =
        Aes256Gcm::new_from_slice(key).map_err(|_| Error::InvalidKey("AES-256 key length"))?;
    let mut n = [0u8; 12];
    if !bugs.contains(&Bug::FixedNonce) {
        n.copy_from_slice(
            nonce
                .get(..12)
                .ok_or(Error::InvalidKey("nonce too short"))?,
        );
    }
    Ok((cipher, n))
}

pub(super) fn seal_with_bugs(
    suite: Suite,
    bugs: &Bugs,
    mk: &MessageKey,
    header: &Header,
    pt: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut message = vec![MESSAGE_VERSION];
    message.extend_from_slice(&header.encode());
    let aad = aead_ad(bugs, ad, &message)?;
    let (cipher, nonce) = aead_keys(suite, bugs, mk)?;
    let nonce: &Nonce<Aes256Gcm> = (&nonce).into();
    let sealed = cipher
        .encrypt(nonce, Payload { msg: pt, aad: &aad })
        .map_err(|_| Error::Malformed("plaintext too long"))?;
    message.extend_from_slice(&sealed);
    Ok(message)
}

pub(super) fn open_with_bugs(
    suite: Suite,
    bugs: &Bugs,
    mk: &MessageKey,
    message: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>, Error> {
    suite.parse_header(message)?;
    let (prefix, body) = message
        .split_at_checked(41)
        .ok_or(Error::Malformed("truncated"))?;
    let aad = aead_ad(bugs, ad, prefix)?;
    let (cipher, nonce) = aead_keys(suite, bugs, mk)?;
    let nonce: &Nonce<Aes256Gcm> = (&nonce).into();
    cipher
        .decrypt(
            nonce,
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map_err(|_| Error::AuthenticationFailed)
}
