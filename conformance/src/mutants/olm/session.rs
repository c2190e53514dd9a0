//! The mutant's own Olm ratchet (docs/OLM-V1.md §5), written from the page:
//! kept receiver chains, a bounded store of skipped keys, ratchet keys drawn
//! at the next send, transactional decryption. The ratchet bugs act here
//! (search for `Bug::`), and the variants libolm and vodozemac choose
//! differently (§7: `Variant::OlmPerChainKeyStore`,
//! `Variant::OlmNewChainWithoutRatchetKey`).

use hmac::{Hmac, KeyInit, Mac};
use ratchetproof_protocol::olm::{
    self, MAX_MESSAGE_GAP, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS, kdf::kdf_ck,
};
use ratchetproof_protocol::{
    ChainKey, CryptoRng, KeyPair, MessageKey, PrivateKey, PublicKey, RootKey,
};
use sha2::Sha256;

use super::agreement::dh;
use super::cipher::{open, seal};
use super::wire::{Message, PreKey};
use super::{Bug, Switches, Variant};
use crate::implementation::{ErrorClass, ImplError, ImplResult};

/// How a message travels (Matrix `type` 0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    PreKey,
    Normal,
}

#[derive(Clone)]
struct Sender {
    ratchet: KeyPair,
    chain: ChainKey,
    index: u32,
}

#[derive(Clone)]
struct Receiver {
    ratchet_key: PublicKey,
    chain: ChainKey,
    index: u32,
}

#[derive(Clone)]
struct Stored {
    ratchet_key: PublicKey,
    index: u32,
    key: MessageKey,
}

/// One Olm session of the mutant.
#[derive(Clone)]
pub(super) struct Session {
    pub id: [u8; 32],
    root: RootKey,
    sender: Option<Sender>,
    /// Newest first.
    receivers: Vec<Receiver>,
    /// Newest first.
    stored: Vec<Stored>,
    /// `Bug::OlmMessageKeysKept`: every key that decrypted a message.
    kept: Vec<Stored>,
    /// The envelope of Alice's pre-key messages, until she receives.
    envelope: Option<(PublicKey, PublicKey, PublicKey)>,
    received: bool,
    sent: bool,
    /// `Bug::OlmRatchetKeyNeverRefreshed`: the one ratchet key it ever uses.
    only_ratchet_key: Option<KeyPair>,
}

impl Session {
    pub fn outbound(
        id: [u8; 32],
        root: RootKey,
        chain: ChainKey,
        ratchet: KeyPair,
        envelope: (PublicKey, PublicKey, PublicKey),
    ) -> Self {
        Self {
            id,
            root,
            sender: Some(Sender {
                ratchet: ratchet.clone(),
                chain,
                index: 0,
            }),
            receivers: Vec::new(),
            stored: Vec::new(),
            kept: Vec::new(),
            envelope: Some(envelope),
            received: false,
            sent: false,
            only_ratchet_key: Some(ratchet),
        }
    }

    pub fn inbound(id: [u8; 32], root: RootKey, chain: ChainKey, their: PublicKey) -> Self {
        Self {
            id,
            root,
            sender: None,
            receivers: vec![Receiver {
                ratchet_key: their,
                chain,
                index: 0,
            }],
            stored: Vec::new(),
            kept: Vec::new(),
            envelope: None,
            received: true,
            sent: false,
            only_ratchet_key: None,
        }
    }

    /// The next ratchet key when a send starts a chain.
    fn next_ratchet_key<R: CryptoRng + ?Sized>(&mut self, on: &Switches, rng: &mut R) -> KeyPair {
        if on.bug(Bug::OlmRatchetKeyFromRoot) {
            // Derived, not drawn: whoever holds the root key knows it.
            let mut h = <Hmac<Sha256> as KeyInit>::new_from_slice(self.root.as_bytes())
                .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
            h.update(b"ratchet key");
            let bytes: [u8; 32] = h.finalize().into_bytes().into();
            return KeyPair::from_private(PrivateKey::from_bytes(bytes));
        }
        if on.bug(Bug::OlmRatchetKeyNeverRefreshed) {
            if let Some(key) = &self.only_ratchet_key {
                return key.clone();
            }
            let key = KeyPair::generate(rng);
            self.only_ratchet_key = Some(key.clone());
            return key;
        }
        KeyPair::generate(rng)
    }

    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        on: &Switches,
        rng: &mut R,
    ) -> ImplResult<(Kind, Vec<u8>)> {
        let sender = match self.sender.take() {
            Some(sender) => sender,
            None => {
                let their = self
                    .receivers
                    .first()
                    .ok_or_else(|| ImplError::new(ErrorClass::State, "no chain to send on"))?
                    .ratchet_key;
                let ratchet = self.next_ratchet_key(on, rng);
                let (root, chain) = olm::kdf_rk(&self.root, &dh(&ratchet, &their, on)?);
                self.root = root;
                Sender {
                    ratchet,
                    chain,
                    index: 0,
                }
            }
        };
        let (next, mk) = kdf_ck(&sender.chain);
        let message = seal(&mk, sender.ratchet.public_key(), sender.index, plaintext)?;
        let index = sender.index.checked_add(1).ok_or_else(|| {
            ImplError::new(ErrorClass::State, "the sender chain's index is exhausted")
        })?;
        self.sender = Some(Sender {
            ratchet: sender.ratchet,
            chain: next,
            index,
        });
        let wrap = match self.envelope {
            None => None,
            Some(_) if on.bug(Bug::OlmNoPreKeyMessages) => None,
            Some(_) if on.bug(Bug::OlmPreKeyMessagesStopEarly) && self.sent => None,
            Some(_) if self.received => None,
            Some(e) => Some(e),
        };
        self.sent = true;
        Ok(match wrap {
            Some((one_time_key, base_key, identity_key)) => (
                Kind::PreKey,
                PreKey {
                    one_time_key,
                    base_key,
                    identity_key,
                    inner: message,
                }
                .encode(),
            ),
            None => (Kind::Normal, message),
        })
    }

    /// Decrypts; on any error the session is unchanged, except under
    /// `Bug::OlmStateKeptOnFailure`.
    pub fn decrypt<R: CryptoRng + ?Sized>(
        &mut self,
        kind: Kind,
        bytes: &[u8],
        on: &Switches,
        rng: &mut R,
    ) -> ImplResult<Vec<u8>> {
        let inner = match kind {
            Kind::Normal => bytes.to_vec(),
            Kind::PreKey => PreKey::parse(bytes, on)?.inner,
        };
        let message = Message::parse(&inner, on)?;
        if on.bug(Bug::OlmStateKeptOnFailure) {
            return self.decrypt_message(&message, on, rng);
        }
        let mut next = self.clone();
        let plaintext = next.decrypt_message(&message, on, rng)?;
        *self = next;
        Ok(plaintext)
    }

    fn gap(&self, from: u32, until: u32, on: &Switches) -> ImplResult<()> {
        let limit = MAX_MESSAGE_GAP + u32::from(on.bug(Bug::OlmGap2001Accepted));
        if until.saturating_sub(from) > limit {
            return Err(ImplError::new(
                ErrorClass::TooManySkipped,
                format!("a gap from {from} to {until}, above {limit}"),
            ));
        }
        Ok(())
    }

    fn decrypt_message<R: CryptoRng + ?Sized>(
        &mut self,
        message: &Message,
        on: &Switches,
        rng: &mut R,
    ) -> ImplResult<Vec<u8>> {
        let known = self
            .receivers
            .iter()
            .position(|c| c.ratchet_key == message.ratchet_key);
        let position = match known {
            Some(position) => position,
            None => {
                self.new_chain(message, on, rng)?;
                0
            }
        };
        let chain = self
            .receivers
            .get_mut(position)
            .ok_or_else(|| ImplError::new(ErrorClass::State, "receiver chain"))?;
        if message.index < chain.index {
            return self.late(message, on);
        }
        let from = chain.index;
        self.gap(from, message.index, on)?;
        let chain = self
            .receivers
            .get_mut(position)
            .ok_or_else(|| ImplError::new(ErrorClass::State, "receiver chain"))?;
        let mut skipped = Vec::new();
        while chain.index < message.index {
            let (next, mk) = kdf_ck(&chain.chain);
            skipped.push(Stored {
                ratchet_key: chain.ratchet_key,
                index: chain.index,
                key: mk,
            });
            chain.chain = next;
            chain.index += 1;
        }
        let (next, mk) = kdf_ck(&chain.chain);
        chain.chain = next;
        chain.index = chain.index.checked_add(1).ok_or_else(|| {
            ImplError::new(ErrorClass::State, "the receiver chain's index is exhausted")
        })?;
        let plaintext = open(&mk, message, on)?;
        for key in skipped {
            self.store(key, on);
        }
        if on.bug(Bug::OlmMessageKeysKept) {
            self.kept.push(Stored {
                ratchet_key: message.ratchet_key,
                index: message.index,
                key: mk,
            });
        }
        self.received = true;
        Ok(plaintext)
    }

    /// A message whose ratchet key names no kept chain: a new chain, derived
    /// with our current ratchet key, which is then deleted.
    fn new_chain<R: CryptoRng + ?Sized>(
        &mut self,
        message: &Message,
        on: &Switches,
        rng: &mut R,
    ) -> ImplResult<()> {
        let ours = match self.sender.take() {
            Some(sender) => sender.ratchet,
            None if on.variant(Variant::OlmNewChainWithoutRatchetKey) => {
                // vodozemac: start a sender chain first, as a send would.
                let their = self
                    .receivers
                    .first()
                    .ok_or_else(|| ImplError::new(ErrorClass::State, "no chain"))?
                    .ratchet_key;
                let ratchet = self.next_ratchet_key(on, rng);
                let (root, _) = olm::kdf_rk(&self.root, &dh(&ratchet, &their, on)?);
                self.root = root;
                ratchet
            }
            None => {
                return Err(ImplError::new(
                    ErrorClass::Authentication,
                    "a new chain while this party holds no ratchet key",
                ));
            }
        };
        self.gap(0, message.index, on)?;
        let (root, chain) = olm::kdf_rk(&self.root, &dh(&ours, &message.ratchet_key, on)?);
        self.root = root;
        self.receivers.insert(
            0,
            Receiver {
                ratchet_key: message.ratchet_key,
                chain,
                index: 0,
            },
        );
        let keep = MAX_RECEIVER_CHAINS + usize::from(on.bug(Bug::OlmSixChainsKept));
        self.receivers.truncate(keep);
        if on.variant(Variant::OlmPerChainKeyStore) {
            let receivers = &self.receivers;
            self.stored
                .retain(|k| receivers.iter().any(|c| c.ratchet_key == k.ratchet_key));
        }
        Ok(())
    }

    /// An index below the chain's next: only a stored key opens it.
    fn late(&mut self, message: &Message, on: &Switches) -> ImplResult<Vec<u8>> {
        let same = |k: &Stored| k.ratchet_key == message.ratchet_key && k.index == message.index;
        if let Some(k) = self.kept.iter().find(|k| same(k)) {
            let plaintext = open(&k.key, message, on)?;
            self.received = true;
            return Ok(plaintext);
        }
        let found = self.stored.iter().position(same).ok_or_else(|| {
            ImplError::new(
                ErrorClass::Duplicate,
                format!("no key for index {} (used or never stored)", message.index),
            )
        })?;
        let key = self
            .stored
            .get(found)
            .map(|k| k.key.clone())
            .ok_or_else(|| ImplError::new(ErrorClass::State, "stored key"))?;
        let plaintext = open(&key, message, on)?;
        if !on.bug(Bug::OlmUsedKeyKept) {
            self.stored.remove(found);
        }
        self.received = true;
        Ok(plaintext)
    }

    /// Stores a skipped key, newest first, evicting the oldest beyond the cap
    /// (session-wide, or per chain under `Variant::OlmPerChainKeyStore`).
    fn store(&mut self, key: Stored, on: &Switches) {
        let cap = MAX_SKIPPED_KEYS + usize::from(on.bug(Bug::OlmFortyOneKeysStored));
        let chain = key.ratchet_key;
        self.stored.insert(0, key);
        if on.variant(Variant::OlmPerChainKeyStore) {
            let mut seen = 0;
            self.stored.retain(|k| {
                if k.ratchet_key != chain {
                    return true;
                }
                seen += 1;
                seen <= cap
            });
        } else {
            self.stored.truncate(cap);
        }
    }
}
