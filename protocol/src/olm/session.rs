//! Olm's ratchet (libolm `ratchet.cpp`, vodozemac `olm/session/`): a Double
//! Ratchet variant that differs from the Signal algorithm in three ways.
//!
//! * **Deferred ratchet keys.** A party draws its next ratchet key when it next
//!   *sends* after receiving, not on receipt. On receiving a new ratchet key it
//!   derives the receiver chain with its current key and deletes that key.
//!   The initiator's first chain comes straight from the triple DH, no DH step.
//! * **Kept receiver chains.** Up to [`MAX_RECEIVER_CHAINS`] receiver chains
//!   keep their chain keys, so a late message on an old chain is derived on
//!   demand; headers carry no previous-chain length.
//! * **A small key store.** Keys skipped over are stored, but only the
//!   [`MAX_SKIPPED_KEYS`] most recent for the whole session (libolm), and a
//!   message may lie at most [`MAX_MESSAGE_GAP`] past its chain's next index.
//!
//! Decryption is transactional: it works on a copy and commits only when the
//! tag verifies.

use rand_core::CryptoRng;

use crate::chain_key::{ChainKey, MessageKey};
use crate::error::{Error, Result};
use crate::keys::{KeyPair, PublicKey};
use crate::root_key::RootKey;

use super::agreement::{initiator_secret, responder_secret};
use super::kdf::{kdf_ck, kdf_rk, root_from_shared_secret};
use super::message::{OlmMessage, PreKeyMessage, open, seal};
use super::{MAX_MESSAGE_GAP, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS};

/// The message kinds, numbered as Matrix numbers them (`m.olm.v1` `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// 0: a pre-key message, sent until the sender has received a message.
    PreKey,
    /// 1: a normal message.
    Normal,
}

#[derive(Clone)]
struct SenderChain {
    ratchet: KeyPair,
    chain: ChainKey,
    index: u32,
}

#[derive(Clone)]
struct ReceiverChain {
    ratchet_key: PublicKey,
    chain: ChainKey,
    index: u32,
}

#[derive(Clone)]
struct SkippedKey {
    ratchet_key: PublicKey,
    index: u32,
    key: MessageKey,
}

/// The keys a pre-key message names, kept by the initiator until it first receives.
#[derive(Clone)]
struct PreKeyFields {
    one_time_key: PublicKey,
    base_key: PublicKey,
    identity_key: PublicKey,
}

/// One Olm session.
#[derive(Clone)]
pub struct OlmSession {
    /// `SHA-256(I_A ‖ E_A ‖ E_B)`: libolm's session id before base64.
    id: [u8; 32],
    root: RootKey,
    sender: Option<SenderChain>,
    /// Newest first.
    receivers: Vec<ReceiverChain>,
    /// Newest first.
    skipped: Vec<SkippedKey>,
    prekey: Option<PreKeyFields>,
    received: bool,
}

impl OlmSession {
    /// Alice's session: her identity key, the base key `E_A` and first ratchet
    /// key she draws (libolm draws 64 bytes, base key first), Bob's identity
    /// key and the one-time key she took from his published keys.
    pub fn outbound(
        identity: &KeyPair,
        base: &KeyPair,
        ratchet: KeyPair,
        their_identity: &PublicKey,
        their_one_time: &PublicKey,
    ) -> Result<Self> {
        let secret = initiator_secret(identity, base, their_identity, their_one_time)?;
        let (root, chain) = root_from_shared_secret(&*secret);
        Ok(Self {
            id: session_id(identity.public_key(), base.public_key(), their_one_time),
            root,
            sender: Some(SenderChain {
                ratchet,
                chain,
                index: 0,
            }),
            receivers: Vec::new(),
            skipped: Vec::new(),
            prekey: Some(PreKeyFields {
                one_time_key: *their_one_time,
                base_key: *base.public_key(),
                identity_key: *identity.public_key(),
            }),
            received: false,
        })
    }

    /// Bob's session from a pre-key message, with the one-time key it names
    /// already looked up. The first message is not decrypted here; call
    /// [`OlmSession::decrypt`] with it.
    pub fn inbound(identity: &KeyPair, one_time: &KeyPair, prekey: &PreKeyMessage) -> Result<Self> {
        if prekey.one_time_key != *one_time.public_key() {
            return Err(Error::InvalidKey(
                "the pre-key message names another one-time key",
            ));
        }
        let inner = OlmMessage::decode(&prekey.message)?;
        let secret = responder_secret(identity, one_time, &prekey.identity_key, &prekey.base_key)?;
        let (root, chain) = root_from_shared_secret(&*secret);
        Ok(Self {
            id: session_id(&prekey.identity_key, &prekey.base_key, &prekey.one_time_key),
            root,
            sender: None,
            receivers: vec![ReceiverChain {
                ratchet_key: inner.ratchet_key,
                chain,
                index: 0,
            }],
            skipped: Vec::new(),
            prekey: None,
            received: true,
        })
    }

    /// The session id both sides compute: `SHA-256(I_A ‖ E_A ‖ E_B)` (libolm
    /// shows it unpadded-base64 encoded).
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// Whether this session has received a message (its messages are then normal ones).
    pub fn has_received(&self) -> bool {
        self.received
    }

    /// Encrypts `plaintext`. Draws a new ratchet key (32 bytes from `rng`)
    /// only when the party has received since it last sent.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<(MessageType, Vec<u8>)> {
        let sender = match self.sender.take() {
            Some(sender) => sender,
            None => {
                let their = self
                    .receivers
                    .first()
                    .ok_or(Error::InvalidState("an Olm session with no chain"))?
                    .ratchet_key;
                let ratchet = KeyPair::generate(rng);
                let (root, chain) = kdf_rk(&self.root, &ratchet.diffie_hellman(&their)?);
                self.root = root;
                SenderChain {
                    ratchet,
                    chain,
                    index: 0,
                }
            }
        };
        let (next, mk) = kdf_ck(&sender.chain);
        let index = sender.index;
        let message = seal(&mk, sender.ratchet.public_key(), index, plaintext);
        self.sender = Some(SenderChain {
            ratchet: sender.ratchet,
            chain: next,
            index: index.checked_add(1).ok_or(Error::CounterExhausted)?,
        });
        match (&self.prekey, self.received) {
            (Some(p), false) => Ok((
                MessageType::PreKey,
                PreKeyMessage {
                    one_time_key: p.one_time_key,
                    base_key: p.base_key,
                    identity_key: p.identity_key,
                    message,
                }
                .encode(),
            )),
            _ => Ok((MessageType::Normal, message)),
        }
    }

    /// Decrypts a message of either type. On any error the session is unchanged.
    pub fn decrypt(&mut self, kind: MessageType, bytes: &[u8]) -> Result<Vec<u8>> {
        let inner;
        let message = match kind {
            MessageType::Normal => bytes,
            MessageType::PreKey => {
                inner = PreKeyMessage::decode(bytes)?.message;
                inner.as_slice()
            }
        };
        let message = OlmMessage::decode(message)?;
        let mut next = self.clone();
        let plaintext = next.decrypt_parsed(&message)?;
        *self = next;
        Ok(plaintext)
    }

    fn decrypt_parsed(&mut self, message: &OlmMessage) -> Result<Vec<u8>> {
        let found = self
            .receivers
            .iter()
            .position(|c| c.ratchet_key == message.ratchet_key);
        let position = match found {
            Some(position) => position,
            None => {
                // A new chain: derive it with our current ratchet key, which is then deleted.
                let ours = self.sender.take().ok_or(Error::AuthenticationFailed)?;
                check_gap(0, message.index)?;
                let (root, chain) = kdf_rk(
                    &self.root,
                    &ours.ratchet.diffie_hellman(&message.ratchet_key)?,
                );
                self.root = root;
                self.receivers.insert(
                    0,
                    ReceiverChain {
                        ratchet_key: message.ratchet_key,
                        chain,
                        index: 0,
                    },
                );
                self.receivers.truncate(MAX_RECEIVER_CHAINS);
                0
            }
        };
        let chain = self
            .receivers
            .get_mut(position)
            .ok_or(Error::InvalidState("receiver chain"))?;
        if message.index < chain.index {
            let stored = self
                .skipped
                .iter()
                .position(|k| k.ratchet_key == message.ratchet_key && k.index == message.index)
                .ok_or_else(|| Error::DuplicateMessage {
                    ratchet_key_prefix: prefix(&message.ratchet_key),
                    n: message.index,
                })?;
            let key = self.skipped.remove(stored);
            let plaintext = open(&key.key, message)?;
            self.received = true;
            return Ok(plaintext);
        }
        check_gap(chain.index, message.index)?;
        let mut skipped = Vec::new();
        while chain.index < message.index {
            let (next, mk) = kdf_ck(&chain.chain);
            skipped.push(SkippedKey {
                ratchet_key: chain.ratchet_key,
                index: chain.index,
                key: mk,
            });
            chain.chain = next;
            chain.index += 1;
        }
        let (next, mk) = kdf_ck(&chain.chain);
        chain.chain = next;
        chain.index = chain.index.checked_add(1).ok_or(Error::CounterExhausted)?;
        let plaintext = open(&mk, message)?;
        for key in skipped {
            self.skipped.insert(0, key);
            self.skipped.truncate(MAX_SKIPPED_KEYS);
        }
        self.received = true;
        Ok(plaintext)
    }

    /// The public ratchet keys of the kept receiver chains, newest first,
    /// with each chain's next index: what a captured state can still derive.
    pub fn receiver_chains(&self) -> Vec<(PublicKey, u32)> {
        self.receivers
            .iter()
            .map(|c| (c.ratchet_key, c.index))
            .collect()
    }

    /// The number of stored message keys.
    pub fn stored_keys(&self) -> usize {
        self.skipped.len()
    }

    /// Whether the session holds a private ratchet key (it does from a send
    /// until the next new chain is received).
    pub fn holds_ratchet_key(&self) -> bool {
        self.sender.is_some()
    }
}

fn session_id(identity: &PublicKey, base: &PublicKey, one_time: &PublicKey) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(identity.as_bytes())
        .chain_update(base.as_bytes())
        .chain_update(one_time.as_bytes())
        .finalize()
        .into()
}

fn check_gap(from: u32, until: u32) -> Result<()> {
    if until.saturating_sub(from) > MAX_MESSAGE_GAP {
        return Err(Error::TooManySkipped {
            from,
            until,
            limit: MAX_MESSAGE_GAP,
        });
    }
    Ok(())
}

fn prefix(key: &PublicKey) -> String {
    key.as_bytes()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}
