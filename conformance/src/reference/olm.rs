//! The reference's `olm-v1` sessions (docs/OLM-V1.md), behind the same
//! operations as the Signal suites' prekey sessions: Olm sessions exist only
//! through the key agreement, so `prekey_initiate` / `prekey_respond` build
//! them and `encrypt` / `decrypt` / `clone_session` drive them
//! (`/work/wt/OLM-CONTRACT.md`, docs/SHIM.md §4.4).
//!
//! Olm is not a [`ratchetproof_protocol::suite::CipherSuite`]: this module is
//! the one place the harness's reference recognises its name
//! ([`ratchetproof_protocol::olm::NAME`]) and hands the request to
//! [`OlmSession`], whose behaviour it does not change. What it adds is what a
//! libolm-based shim adds around libolm: a pre-key message on an existing
//! session must name that session (libolm `matches_inbound`), and a refused
//! first message leaves no session behind.

use ratchetproof_protocol::olm::session::MessageType as OlmType;
use ratchetproof_protocol::olm::{self, OlmSession, PreKeyMessage};
use ratchetproof_protocol::{ChainKey, DhOutput, MessageKey, RootKey};
use sha2::{Digest, Sha256};

use super::{KeyQueueRng, check_rng, key_pair, key_queue, key32, public};
use crate::implementation::{
    Decrypt, DecryptOutput, Encrypt, EncryptOutput, ErrorClass, ImplError, ImplResult, KdfCk,
    KdfCkOutput, KdfRk, KdfRkOutput, MessageKeys, MessageKeysOutput, MessageType, PrekeyInitiate,
    PrekeyRespond,
};

/// Whether `suite` runs Olm's ratchet (the protocol crate's registry says).
pub(super) fn is_olm(suite: &str) -> bool {
    matches!(
        ratchetproof_protocol::suite::lookup(suite),
        Some(ratchetproof_protocol::suite::Registered::Olm)
    )
}

/// Olm's KDF_RK (`OLM_RATCHET`).
pub(super) fn kdf_rk(r: &KdfRk) -> ImplResult<KdfRkOutput> {
    let rk = RootKey::from_bytes(*key32(&r.root_key, "root key")?);
    let dh = DhOutput::from_bytes(*key32(&r.dh_output, "DH output")?);
    let (rk, ck) = olm::kdf_rk(&rk, &dh);
    Ok(KdfRkOutput {
        root_key: rk.as_bytes().to_vec(),
        chain_key: ck.as_bytes().to_vec(),
    })
}

/// Olm's KDF_CK (the Double Ratchet's).
pub(super) fn kdf_ck(r: &KdfCk) -> ImplResult<KdfCkOutput> {
    let ck = ChainKey::from_bytes(*key32(&r.chain_key, "chain key")?);
    let (ck, mk) = olm::kdf::kdf_ck(&ck);
    Ok(KdfCkOutput {
        chain_key: ck.as_bytes().to_vec(),
        message_key: mk.as_bytes().to_vec(),
    })
}

/// Olm's message-key expansion (`OLM_KEYS`, 80 bytes).
pub(super) fn message_keys(r: &MessageKeys) -> ImplResult<MessageKeysOutput> {
    let mk = MessageKey::from_bytes(*key32(&r.message_key, "message key")?);
    Ok(MessageKeysOutput {
        keys: olm::message_keys(&mk).to_vec(),
    })
}

/// One Olm session with the keys it draws at the sends that start a chain.
#[derive(Clone)]
pub(super) struct OlmEntry {
    session: OlmSession,
    pub(super) rng: KeyQueueRng,
}

impl core::fmt::Debug for OlmEntry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OlmEntry")
            .field("received", &self.session.has_received())
            .field("rng", &self.rng.remaining())
            .finish_non_exhaustive()
    }
}

/// Refuses a request that carries a field the Signal suites' builders take:
/// the runner must send exactly the contract's fields for `olm-v1`.
fn no_signal_fields(present: &[(&str, bool)]) -> ImplResult<()> {
    match present.iter().find(|(_, here)| *here) {
        Some((name, _)) => Err(ImplError::new(
            ErrorClass::Malformed,
            format!("olm-v1 takes no {name}"),
        )),
        None => Ok(()),
    }
}

fn no_ad(ad: &[u8]) -> ImplResult<()> {
    if ad.is_empty() {
        Ok(())
    } else {
        Err(ImplError::unsupported("Olm has no associated data"))
    }
}

fn required<'a>(field: &'a Option<Vec<u8>>, name: &str) -> ImplResult<&'a [u8]> {
    field
        .as_deref()
        .ok_or_else(|| ImplError::new(ErrorClass::Malformed, format!("olm-v1 needs {name}")))
}

/// Alice's session: identity key, base key, `T0` (entry 0 of the ratchet
/// keys), Bob's identity key and one-time key.
pub(super) fn initiate(r: &PrekeyInitiate) -> ImplResult<OlmEntry> {
    no_signal_fields(&[
        ("registrationId", r.registration_id.is_some()),
        ("peerRegistrationId", r.peer_registration_id.is_some()),
        ("peerSignedPrekeyId", r.peer_signed_prekey_id.is_some()),
        ("peerSignedPrekey", r.peer_signed_prekey.is_some()),
        (
            "peerSignedPrekeySignature",
            r.peer_signed_prekey_signature.is_some(),
        ),
        ("peerOneTimePrekeyId", r.peer_one_time_prekey_id.is_some()),
    ])?;
    let identity = key_pair(&r.identity_private_key, "identity private key")?;
    let base = key_pair(&r.ephemeral_private_key, "base (ephemeral) private key")?;
    let (first, rest) = r
        .ratchet_private_keys
        .split_first()
        .ok_or_else(|| ImplError::new(ErrorClass::State, "Alice needs a first ratchet key"))?;
    let session = OlmSession::outbound(
        &identity,
        &base,
        key_pair(first, "ratchet private key")?,
        &public(&r.peer_identity_key, "peer identity key")?,
        &public(
            required(&r.peer_one_time_prekey, "peerOneTimePrekey")?,
            "peer one-time key",
        )?,
    )?;
    Ok(OlmEntry {
        session,
        rng: key_queue(rest)?,
    })
}

/// Bob's session from a pre-key message, and its plaintext; a message that
/// does not decrypt leaves no session.
pub(super) fn respond(r: &PrekeyRespond) -> ImplResult<(OlmEntry, Vec<u8>)> {
    no_signal_fields(&[
        ("registrationId", r.registration_id.is_some()),
        ("signedPrekeyId", r.signed_prekey_id.is_some()),
        (
            "signedPrekeyPrivateKey",
            r.signed_prekey_private_key.is_some(),
        ),
        ("oneTimePrekeyId", r.one_time_prekey_id.is_some()),
    ])?;
    let identity = key_pair(&r.identity_private_key, "identity private key")?;
    let one_time = key_pair(
        required(&r.one_time_prekey_private_key, "oneTimePrekeyPrivateKey")?,
        "one-time private key",
    )?;
    let rng = key_queue(&r.ratchet_private_keys)?;
    let prekey = PreKeyMessage::decode(&r.message)?;
    let mut session = OlmSession::inbound(&identity, &one_time, &prekey)?;
    let plaintext = session.decrypt(OlmType::PreKey, &r.message)?;
    Ok((OlmEntry { session, rng }, plaintext))
}

impl OlmEntry {
    /// Encrypts; `messageType` says whether Olm wrapped it in a pre-key message.
    pub(super) fn encrypt(&mut self, r: &Encrypt) -> ImplResult<EncryptOutput> {
        no_ad(&r.ad)?;
        // Encryption is transactional too: a refused draw changes nothing.
        let mut next = self.clone();
        let (kind, message) = next.session.encrypt(&r.plaintext, &mut next.rng)?;
        check_rng(&next.rng)?;
        *self = next;
        Ok(EncryptOutput {
            message,
            message_type: Some(match kind {
                OlmType::PreKey => MessageType::Prekey,
                OlmType::Normal => MessageType::Whisper,
            }),
        })
    }

    /// Decrypts a message of the given type (absent: a normal message).
    pub(super) fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
        no_ad(&r.ad)?;
        let kind = match r.message_type.unwrap_or(MessageType::Whisper) {
            MessageType::Whisper => OlmType::Normal,
            MessageType::Prekey => {
                let prekey = PreKeyMessage::decode(&r.message)?;
                if names_session(&prekey) != self.session.id() {
                    return Err(ImplError::new(
                        ErrorClass::State,
                        "a pre-key message for another session (libolm matches_inbound)",
                    ));
                }
                OlmType::PreKey
            }
        };
        let plaintext = self.session.decrypt(kind, &r.message)?;
        Ok(DecryptOutput { plaintext })
    }

    /// A copy of the whole state drawing from `keys`.
    pub(super) fn copy_with(&self, keys: &[Vec<u8>]) -> ImplResult<OlmEntry> {
        Ok(OlmEntry {
            session: self.session.clone(),
            rng: key_queue(keys)?,
        })
    }
}

/// The session id a pre-key message names: `SHA-256(I_A ‖ E_A ‖ E_B)`.
fn names_session(prekey: &PreKeyMessage) -> [u8; 32] {
    Sha256::new()
        .chain_update(prekey.identity_key.as_bytes())
        .chain_update(prekey.base_key.as_bytes())
        .chain_update(prekey.one_time_key.as_bytes())
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::HashMap;

    use serde_json::Value;

    use crate::Reference;
    use crate::implementation::{
        CloneSession, Decrypt, Encrypt, ErrorClass, Implementation, MessageType, PrekeyInitiate,
        PrekeyRespond, SessionHandle,
    };

    /// libolm's own conversation (npm `@matrix-org/olm` 3.2.15, randomness injected).
    fn kat() -> Value {
        serde_json::from_str(include_str!(
            "../../../protocol/tests/fixtures/olm_kat.json"
        ))
        .unwrap()
    }

    fn bytes(v: &Value) -> Vec<u8> {
        hex::decode(v.as_str().unwrap()).unwrap()
    }

    fn public_of(private: &[u8]) -> Vec<u8> {
        super::key_pair(private, "test")
            .unwrap()
            .public_key()
            .as_bytes()
            .to_vec()
    }

    struct Keys {
        alice_identity: Vec<u8>,
        bob_identity: Vec<u8>,
        one_time: Vec<u8>,
        base: Vec<u8>,
        alice_ratchet: Vec<Vec<u8>>,
        bob_ratchet: Vec<Vec<u8>>,
    }

    /// The keys libolm drew, by the contract's roles: each account's
    /// identity key is bytes 32..64 of its draw, the outbound session's draw
    /// is base key ‖ T0, and every encrypt that starts a chain draws one key.
    fn keys(kat: &Value) -> Keys {
        let account = |who: &str| bytes(&kat["accounts"][who]["random"])[32..].to_vec();
        let outbound = bytes(&kat["outbound_session"]["random"]);
        let draws = |who: &str| {
            kat["steps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["op"] == "encrypt" && s["party"] == who && s["random"].is_string())
                .map(|s| bytes(&s["random"]))
                .collect::<Vec<_>>()
        };
        let spare = vec![0x5a; 32];
        let mut alice_ratchet = vec![outbound[32..].to_vec()];
        alice_ratchet.extend(draws("alice"));
        alice_ratchet.push(spare.clone());
        let mut bob_ratchet = draws("bob");
        bob_ratchet.push(spare);
        Keys {
            alice_identity: account("alice"),
            bob_identity: account("bob"),
            one_time: bytes(&kat["accounts"]["bob"]["one_time_key"]["random"]),
            base: outbound[..32].to_vec(),
            alice_ratchet,
            bob_ratchet,
        }
    }

    fn initiate(k: &Keys) -> PrekeyInitiate {
        PrekeyInitiate {
            suite: "olm-v1".into(),
            identity_private_key: k.alice_identity.clone(),
            registration_id: None,
            ephemeral_private_key: k.base.clone(),
            ratchet_private_keys: k.alice_ratchet.clone(),
            peer_identity_key: public_of(&k.bob_identity),
            peer_registration_id: None,
            peer_signed_prekey_id: None,
            peer_signed_prekey: None,
            peer_signed_prekey_signature: None,
            peer_one_time_prekey_id: None,
            peer_one_time_prekey: Some(public_of(&k.one_time)),
            ..PrekeyInitiate::default()
        }
    }

    fn respond(k: &Keys, message: &[u8]) -> PrekeyRespond {
        PrekeyRespond {
            suite: "olm-v1".into(),
            identity_private_key: k.bob_identity.clone(),
            registration_id: None,
            signed_prekey_id: None,
            signed_prekey_private_key: None,
            one_time_prekey_id: None,
            one_time_prekey_private_key: Some(k.one_time.clone()),
            ratchet_private_keys: k.bob_ratchet.clone(),
            message: message.to_vec(),
            ..PrekeyRespond::default()
        }
    }

    fn decrypt(session: SessionHandle, message: &[u8], kind: MessageType) -> Decrypt {
        Decrypt {
            session,
            message: message.to_vec(),
            ad: Vec::new(),
            message_type: Some(kind),
        }
    }

    #[test]
    fn the_libolm_conversation_through_the_implementation_trait() {
        let kat = kat();
        let k = keys(&kat);
        let mut imp = Reference::new();
        assert!(
            imp.capabilities()
                .suites
                .iter()
                .any(|s| s == ratchetproof_protocol::olm::NAME)
        );
        let alice = imp.prekey_initiate(&initiate(&k)).unwrap().session;
        let mut bob: Option<SessionHandle> = None;
        let mut sent: HashMap<String, (MessageType, Vec<u8>)> = HashMap::new();
        for step in kat["steps"].as_array().unwrap() {
            let name = step["name"].as_str().unwrap().to_owned();
            let plaintext = step["plaintext"].as_str().unwrap().as_bytes();
            let party = if step["party"] == "alice" {
                Some(alice)
            } else {
                bob
            };
            if step["op"] == "encrypt" {
                let out = imp
                    .encrypt(&Encrypt::new(party.unwrap(), plaintext, &[]))
                    .unwrap();
                let kind = if step["type"] == 0 {
                    MessageType::Prekey
                } else {
                    MessageType::Whisper
                };
                assert_eq!(out.message_type, Some(kind), "{name}: message type");
                assert_eq!(
                    out.message,
                    bytes(&step["message"]),
                    "{name}: libolm's bytes"
                );
                sent.insert(name, (kind, out.message));
                continue;
            }
            let (kind, message) = sent[&name].clone();
            let got = match party {
                Some(session) => {
                    imp.decrypt(&decrypt(session, &message, kind))
                        .unwrap()
                        .plaintext
                }
                None => {
                    let out = imp.prekey_respond(&respond(&k, &message)).unwrap();
                    bob = Some(out.session);
                    out.plaintext
                }
            };
            assert_eq!(got, plaintext, "{name}: plaintext");
            // A replay is refused and changes nothing (later steps still match libolm).
            let session = if step["party"] == "alice" {
                alice
            } else {
                bob.unwrap()
            };
            assert!(imp.decrypt(&decrypt(session, &message, kind)).is_err());
        }
        // Every injected key but the spare was drawn, by the sends that start chains.
        assert_eq!(imp.unused_injected_keys(alice), Some(1));
        assert_eq!(imp.unused_injected_keys(bob.unwrap()), Some(1));
    }

    #[test]
    fn a_refused_first_message_leaves_no_session_and_a_copy_is_whole() {
        let k = keys(&kat());
        let mut imp = Reference::new();
        let alice = imp.prekey_initiate(&initiate(&k)).unwrap().session;
        let first = imp.encrypt(&Encrypt::new(alice, b"one", &[])).unwrap();
        let mut tampered = first.message.clone();
        *tampered.last_mut().unwrap() ^= 1;
        let refused = imp.prekey_respond(&respond(&k, &tampered)).unwrap_err();
        assert_eq!(refused.class, ErrorClass::Authentication);
        // No handle was given out for the refused message.
        assert_eq!(imp.unused_injected_keys(SessionHandle(1)), None);
        let bob = imp.prekey_respond(&respond(&k, &first.message)).unwrap();
        assert_eq!(bob.plaintext, b"one");
        // Signal-only fields are refused for olm-v1, and Olm takes no AD.
        let mut signal = initiate(&k);
        signal.registration_id = Some(1);
        assert!(imp.prekey_initiate(&signal).is_err());
        assert!(imp.encrypt(&Encrypt::new(alice, b"x", b"ad")).is_err());
        // A copy of Bob reads what Bob reads, from its own keys.
        let copy = imp
            .clone_session(&CloneSession::new(bob.session, &k.bob_ratchet))
            .unwrap()
            .session;
        let second = imp.encrypt(&Encrypt::new(alice, b"two", &[])).unwrap();
        for session in [bob.session, copy] {
            let got = imp
                .decrypt(&decrypt(session, &second.message, MessageType::Prekey))
                .unwrap();
            assert_eq!(got.plaintext, b"two");
        }
        let (a, b) = (
            imp.encrypt(&Encrypt::new(bob.session, b"r", &[])).unwrap(),
            imp.encrypt(&Encrypt::new(copy, b"r", &[])).unwrap(),
        );
        assert_eq!(a, b, "the copy draws the same injected key");
        assert_eq!(a.message_type, Some(MessageType::Whisper));
        // A pre-key message naming another session is refused by an existing one.
        let mut other = initiate(&k);
        other.ephemeral_private_key = vec![7; 32];
        let stranger = imp.prekey_initiate(&other).unwrap().session;
        let foreign = imp.encrypt(&Encrypt::new(stranger, b"?", &[])).unwrap();
        let err = imp
            .decrypt(&decrypt(bob.session, &foreign.message, MessageType::Prekey))
            .unwrap_err();
        assert_eq!(err.class, ErrorClass::State);
    }
}
