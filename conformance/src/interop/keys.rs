//! The live key check of a PQXDH initiator (`ratchetproof interop
//! --check-keys`, docs/PQXDH.md §7): the implementation, as Alice, starts a
//! session from the reference's bundle and sends one initial message; the
//! reference, as Bob, derives PQXDH's output from that message and compares
//! it with the keys the implementation's own state holds (`session_keys`).
//!
//! It exists for peers that cannot take injected randomness and cannot hold
//! a conversation with the reference: `@signalapp/libsignal-client` 0.103
//! draws its own base key and encapsulation randomness, and salts every
//! message key with SPQR (docs/SPQR.md). What is compared:
//! * bytes 0–32 of the KDF (`SK`, the first root key): through Alice's first
//!   `KDF_RK` step, against her root key and sending chain key;
//! * bytes 32–64 (libsignal's initial chain key): against her receiving
//!   chain for Bob's signed prekey;
//! * the first message itself: decrypted classically (as these suites do);
//!   where it carries an SPQR field and the classical keys fail, decrypted
//!   with SPQR's epoch-0 key, which comes from bytes 64–96 alone (docs/SPQR.md
//!   §3; no ML-KEM is involved before the first epoch completes).
//!
//! The module knows no suite by name: it asks the suite for its agreement and
//! KEM, and refuses a suite without one.

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use ratchetproof_protocol::agreement::KemResponse;
use ratchetproof_protocol::kem::KemKeyPair;
use ratchetproof_protocol::{DhOutput, KeyPair, PrivateKey, PublicKey, RootKey, Suite};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{KEM_PREKEY_ID, Keys};
use crate::implementation::{Encrypt, Implementation, Operation, SessionKeys};

/// SPQR V1's label that starts the epoch-0 chains from PQXDH's bytes 64–96
/// (two spaces, as in SparsePostQuantumRatchet `src/chain.rs`).
const SPQR_CHAIN_START: &[u8] = b"Signal PQ Ratchet V1 Chain  Start";
/// SPQR V1's label of each next key of a chain, after a big-endian u32 index.
const SPQR_CHAIN_NEXT: &[u8] = b"Signal PQ Ratchet V1 Chain Next";
/// The plaintext of the checked message.
const PLAINTEXT: &[u8] = b"ratchetproof live key check";

/// One comparison of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyComparison {
    /// What was compared.
    pub what: &'static str,
    /// Whether the implementation's key equals the reference's; `None` when
    /// the implementation holds no such key (a chain only libsignal keeps).
    pub agrees: Option<bool>,
}

/// How the first message decrypted under the reference's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstMessage {
    /// Under the classical message keys (these suites' ratchet).
    Classical,
    /// Only under SPQR's epoch-0 key: the suite alone cannot read it.
    NeedsSpqr,
    /// Under neither: a disagreement.
    Refused(String),
}

/// The check's result.
#[derive(Debug, Clone)]
pub struct KeyCheckReport {
    /// `"<name> <version>"` of the implementation.
    pub implementation: String,
    /// Every comparison, in order.
    pub comparisons: Vec<KeyComparison>,
    /// The first message.
    pub first_message: FirstMessage,
}

impl KeyCheckReport {
    /// Whether every key agreed and the first message decrypted one way or
    /// the other.
    pub fn passed(&self) -> bool {
        self.comparisons.iter().all(|c| c.agrees != Some(false))
            && !matches!(self.first_message, FirstMessage::Refused(_))
    }
}

/// Runs the check against `peer` in `suite`. `Err` when the check cannot
/// run (unknown suite or one without a KEM, an operation the peer lacks, a
/// refused step): nothing was compared.
pub fn check_keys(peer: &mut dyn Implementation, suite: &str) -> Result<KeyCheckReport, String> {
    let s: Suite = ratchetproof_protocol::suite::by_name(suite)
        .ok_or_else(|| format!("unknown suite {suite:?}"))?;
    let agreement = s.key_agreement();
    agreement
        .kem()
        .ok_or_else(|| format!("{suite}'s key agreement has no KEM: the key check is PQXDH's"))?;
    let caps = peer.capabilities();
    for op in [Operation::Prekey, Operation::Inspect] {
        if !caps.operations.contains(&op) {
            return Err(format!(
                "{} does not declare operation group {:?}",
                caps.name,
                op.as_str()
            ));
        }
    }
    let keys = Keys::new("pqxdh-key-check");
    let kem_prekey = keys
        .kem_prekey(suite)
        .ok_or("the suite has no KEM prekey")?;
    let session = peer
        .prekey_initiate(&keys.initiate(suite, true))
        .map_err(|e| format!("prekey_initiate: {e}"))?
        .session;
    let held = peer
        .session_keys(&SessionKeys { session })
        .map_err(|e| format!("session_keys: {e}"))?;
    let ad = keys.associated_data(suite);
    let message = peer
        .encrypt(&Encrypt::new(session, PLAINTEXT, &ad))
        .map_err(|e| format!("encrypt: {e}"))?
        .message;

    // Bob's side, from the message alone and his private keys.
    let initial = s
        .decode_initial(&message)
        .map_err(|e| format!("the initial message does not decode: {e}"))?;
    let kem_field = initial.kem.as_ref().ok_or("no KEM ciphertext")?;
    if kem_field.prekey_id != KEM_PREKEY_ID {
        return Err(format!(
            "the message names KEM prekey {}",
            kem_field.prekey_id
        ));
    }
    let pair = |k: &[u8; 32]| KeyPair::from_private(PrivateKey::from_bytes(*k));
    let (bob, spk, opk) = (
        pair(&keys.bob_identity),
        pair(&keys.bob_signed_prekey),
        pair(&keys.bob_one_time_prekey),
    );
    let kem_pair = KemKeyPair::from_parts(&kem_prekey.secret, &kem_prekey.public)
        .map_err(|e| e.to_string())?;
    let secrets = agreement
        .responder_secrets(
            &bob,
            &spk,
            Some(&opk),
            Some(KemResponse {
                prekey: &kem_pair,
                ciphertext: &kem_field.ciphertext,
            }),
            &initial.identity_key,
            &initial.ephemeral_key,
        )
        .map_err(|e| format!("the reference refuses the initial message: {e}"))?;
    let mut okm = Zeroizing::new([0u8; 96]);
    agreement.kdf_into(&secrets, okm.as_mut_slice());
    let [root, chain, pq] = split96(&okm);

    let alice_ratchet = PublicKey::from_slice(&held.sender_ratchet_key)
        .map_err(|e| format!("sender ratchet key: {e}"))?;
    let dh = spk
        .diffie_hellman(&alice_ratchet)
        .map_err(|e| e.to_string())?;
    let (rk1, ck0) = s.kdf_rk(
        &RootKey::from_bytes(root),
        &DhOutput::from_bytes(*dh.as_bytes()),
    );
    let header = s
        .parse_header(&initial.message)
        .map_err(|e| e.to_string())?;
    let receiving = held
        .receiver_chains
        .iter()
        .find(|c| c.ratchet_key == spk.public_key().as_bytes());
    let comparisons = vec![
        KeyComparison {
            what: "the peer's identity key is Bob's",
            agrees: Some(held.remote_identity_key == bob.public_key().as_bytes()),
        },
        KeyComparison {
            what: "root key = KDF_RK(SK, DH(SPKb, Alice's ratchet key)), first half",
            agrees: Some(held.root_key == rk1.as_bytes()),
        },
        KeyComparison {
            what: "sending chain key = KDF_RK(SK, …), second half",
            agrees: Some(held.sender_chain_key == ck0.as_bytes() && held.sender_chain_index == 0),
        },
        KeyComparison {
            what: "the first message's ratchet key is the session's",
            agrees: Some(header.dh == alice_ratchet),
        },
        KeyComparison {
            what: "receiving chain for SPKb = KDF bytes 32–64 (libsignal keeps one)",
            agrees: receiving.map(|c| c.chain_key == chain),
        },
    ];

    // The first message: message key 0 of the sending chain.
    let (_, mk) = s.kdf_ck(&ck0);
    let ordered = s
        .order_ad(&ad, ratchetproof_protocol::Role::Alice)
        .map_err(|e| e.to_string())?;
    let first_message = match s.open(&mk, &initial.message, &ordered) {
        Ok(p) if p == PLAINTEXT => FirstMessage::Classical,
        Ok(_) => FirstMessage::Refused("decrypted to another plaintext".into()),
        Err(_) => match open_salted(
            mk.as_bytes(),
            &spqr_first_key(&pq),
            &initial.message,
            &ordered,
        ) {
            Some(p) if p == PLAINTEXT => FirstMessage::NeedsSpqr,
            Some(_) => FirstMessage::Refused("decrypted to another plaintext".into()),
            None => FirstMessage::Refused(
                "neither the classical keys nor SPQR's epoch-0 key open it".into(),
            ),
        },
    };
    Ok(KeyCheckReport {
        implementation: super::name(peer),
        comparisons,
        first_message,
    })
}

fn split96(okm: &[u8; 96]) -> [[u8; 32]; 3] {
    let mut out = [[0u8; 32]; 3];
    for (part, chunk) in out.iter_mut().zip(okm.chunks_exact(32)) {
        part.copy_from_slice(chunk);
    }
    out
}

/// SPQR V1's first sending key of Alice's epoch-0 chain: `next =
/// HKDF(0^32, pq, "…Chain  Start", 96)[32..64]` (the A→B half), then
/// `HKDF(0^32, next, u32be(1) ‖ "…Chain Next", 64)[32..64]`.
pub fn spqr_first_key(pq: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut start = Zeroizing::new([0u8; 96]);
    let _ =
        Hkdf::<Sha256>::new(Some(&[0u8; 32]), pq).expand(SPQR_CHAIN_START, start.as_mut_slice());
    let next = start.get(32..64).unwrap_or_default();
    let mut info = 1u32.to_be_bytes().to_vec();
    info.extend_from_slice(SPQR_CHAIN_NEXT);
    let mut out = Zeroizing::new([0u8; 64]);
    let _ = Hkdf::<Sha256>::new(Some(&[0u8; 32]), next).expand(&info, out.as_mut_slice());
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(out.get(32..64).unwrap_or_default());
    key
}

/// libsignal's v4 message decryption with a salted message-key expansion:
/// `HKDF(salt, mk, "WhisperMessageKeys", 80)` = AES key ‖ MAC key ‖ IV, the
/// truncated MAC over `ad ‖ message without MAC`, then AES-256-CBC. `None`
/// when the MAC does not verify or the padding is wrong.
fn open_salted(mk: &[u8; 32], salt: &[u8; 32], message: &[u8], ad: &[u8]) -> Option<Vec<u8>> {
    let mut keys = Zeroizing::new([0u8; 80]);
    Hkdf::<Sha256>::new(Some(salt), mk)
        .expand(b"WhisperMessageKeys", keys.as_mut_slice())
        .ok()?;
    let (aes_key, rest) = keys.split_at(32);
    let (mac_key, iv) = rest.split_at(32);
    let (authenticated, tag) = message.split_at_checked(message.len().checked_sub(8)?)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(mac_key).ok()?;
    mac.update(ad);
    mac.update(authenticated);
    if mac.finalize().into_bytes().get(..8)? != tag {
        return None;
    }
    let ciphertext = whisper_ciphertext(authenticated.get(1..)?)?;
    cbc::Decryptor::<Aes256>::new_from_slices(aes_key, iv)
        .ok()?
        .decrypt_padded_vec::<Pkcs7>(&ciphertext)
        .ok()
}

/// Field 4 (the ciphertext) of a `SignalMessage` protobuf; other fields,
/// SPQR's field 5 among them, are skipped.
fn whisper_ciphertext(body: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 0usize;
    let mut found = None;
    while pos < body.len() {
        let tag = varint(body, &mut pos)?;
        match tag & 7 {
            0 => {
                varint(body, &mut pos)?;
            }
            2 => {
                let len = usize::try_from(varint(body, &mut pos)?).ok()?;
                let value = body.get(pos..pos.checked_add(len)?)?;
                if tag >> 3 == 4 {
                    found = Some(value.to_vec());
                }
                pos += len;
            }
            _ => return None,
        }
    }
    found
}

fn varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// The first SPQR key of an auth key of 0x29×32, as spqr v1.5.3 itself
    /// gives it (measured, docs/SPQR.md).
    #[test]
    fn spqr_first_key_matches_the_measured_value() {
        let key = spqr_first_key(&[0x29; 32]);
        let hex = hex::encode(key.as_slice());
        assert!(
            hex.starts_with("9bcdfae0") && hex.ends_with("d9a9db5d"),
            "{hex}"
        );
    }

    #[test]
    fn the_reference_passes_in_both_pqxdh_suites_and_x3dh_is_refused() {
        for suite in ["signal-pqxdh-kyber1024", "signal-pqxdh-mlkem1024"] {
            let report = check_keys(&mut crate::Reference::new(), suite).unwrap();
            assert!(report.passed(), "{report:?}");
            assert_eq!(report.first_message, FirstMessage::Classical);
            assert_eq!(
                report
                    .comparisons
                    .iter()
                    .filter(|c| c.agrees == Some(true))
                    .count(),
                4
            );
        }
        let err = check_keys(&mut crate::Reference::new(), "signal-v3").unwrap_err();
        assert!(err.contains("no KEM"), "{err}");
    }

    /// A peer whose stored root key differs in one bit fails the check.
    #[test]
    fn a_wrong_root_key_fails_the_check() {
        use crate::implementation::{
            Capabilities, ImplResult, Request, Response, SessionKeysOutput,
        };
        struct Bent(crate::Reference);
        impl Implementation for Bent {
            fn capabilities(&self) -> Capabilities {
                self.0.capabilities()
            }
            fn forward(&mut self, request: Request) -> ImplResult<Response> {
                let mut out = request.answer(&mut self.0)?;
                if let Response::SessionKeys(SessionKeysOutput { root_key, .. }) = &mut out {
                    root_key[0] ^= 1;
                }
                Ok(out)
            }
        }
        let report =
            check_keys(&mut Bent(crate::Reference::new()), "signal-pqxdh-kyber1024").unwrap();
        assert!(!report.passed());
        assert_eq!(report.comparisons[1].agrees, Some(false));
    }
}
