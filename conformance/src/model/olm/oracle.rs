//! The abstract model of one Olm session (docs/OLM-V1.md §5): what must
//! happen to a message, computed from names instead of keys.
//!
//! A ratchet key is named by who drew it and when ([`KeyName`]). A chain is
//! named by its *root history* — the list of DH steps `(sender key, receiver
//! key)` the root chain went through before the chain was derived
//! ([`ChainId`]; Alice's first chain and Bob's first receiver chain, both from
//! the triple DH, have the empty history). A receiver derives the sender's
//! chain exactly when its own history, extended by the step it takes with its
//! held ratchet key, equals the sender's: honest parties always do, and a
//! captured copy does until the victim's next send draws a key the copy never
//! holds. That is Olm's post-compromise security, stated as a rule (§8).
//!
//! Olm's key store is scoped differently by libolm (40 keys for the whole
//! session) and vodozemac (40 per kept chain, dropped with the chain); the
//! state tracks both, and where they disagree about a late message the
//! oracle allows both outcomes (§7).

use std::collections::VecDeque;

use ratchetproof_protocol::olm::{MAX_MESSAGE_GAP, MAX_RECEIVER_CHAINS, MAX_SKIPPED_KEYS};

use crate::implementation::ErrorClass;
use crate::model::oracle::{KeyName, Owner};

/// A chain, by the DH steps of the root chain it was derived from.
pub(crate) type ChainId = Vec<(KeyName, KeyName)>;

/// A message as the oracle sees it: its sender's ratchet key (`None` for a
/// key nobody drew, a tampered one), the chain it was sealed on, its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OlmHeader {
    pub(crate) key: Option<KeyName>,
    pub(crate) chain: ChainId,
    pub(crate) index: u32,
}

/// What must happen to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OlmExpect {
    /// It decrypts to its plaintext.
    Accept,
    /// It is refused with `class` (libolm folds every refusal that is not a
    /// parse failure into `authentication`: allowed beside `duplicate` and
    /// `too_many_skipped`, §6).
    Reject(ErrorClass),
    /// libolm and vodozemac keep different keys (§7): the plaintext, or a
    /// refusal of `class`.
    Either(ErrorClass),
}

impl OlmExpect {
    /// The refusal classes allowed, the primary first.
    pub(crate) fn classes(&self) -> Vec<ErrorClass> {
        let class = match self {
            OlmExpect::Accept => return Vec::new(),
            OlmExpect::Reject(c) | OlmExpect::Either(c) => *c,
        };
        let mut classes = vec![class];
        if matches!(class, ErrorClass::Duplicate | ErrorClass::TooManySkipped) {
            classes.push(ErrorClass::Authentication);
        }
        classes
    }

    /// Whether the plaintext is an allowed outcome.
    pub(crate) fn may_accept(&self) -> bool {
        matches!(self, OlmExpect::Accept | OlmExpect::Either(_))
    }
}

#[derive(Clone, Debug)]
struct Sender {
    key: KeyName,
    chain: ChainId,
    next: u32,
}

#[derive(Clone, Debug)]
struct Receiver {
    key: KeyName,
    chain: ChainId,
    next: u32,
    /// vodozemac's per-chain store, newest first.
    stored: VecDeque<u32>,
}

/// One Olm session's state, abstractly.
#[derive(Clone, Debug)]
pub(crate) struct OlmParty {
    owner: Owner,
    /// Keys drawn from the owner's list so far.
    pub(crate) drawn: usize,
    root: ChainId,
    sender: Option<Sender>,
    /// Newest first, at most five.
    receivers: VecDeque<Receiver>,
    /// libolm's session-wide store, newest first, at most 40.
    stored: VecDeque<(KeyName, ChainId, u32)>,
    /// Whether the session has received (Alice then sends normal messages).
    pub(crate) received: bool,
    /// Whether a stored key was ever evicted or a chain dropped.
    pub(crate) evicted: bool,
    /// The most keys one acceptance skipped.
    pub(crate) longest_gap: usize,
}

impl OlmParty {
    /// Alice after `prekey_initiate`: sender chain on `T0` from the triple DH.
    pub(crate) fn alice() -> Self {
        Self {
            owner: Owner::Alice,
            drawn: 1,
            root: Vec::new(),
            sender: Some(Sender {
                key: KeyName::Drawn(Owner::Alice, 0),
                chain: Vec::new(),
                next: 0,
            }),
            receivers: VecDeque::new(),
            stored: VecDeque::new(),
            received: false,
            evicted: false,
            longest_gap: 0,
        }
    }

    /// Bob before his first message: a receiver chain on Alice's `T0` from
    /// the triple DH, no sender chain. (He has a session only once a pre-key
    /// message is accepted; then [`OlmParty::accept`] runs on this state.)
    pub(crate) fn bob() -> Self {
        Self {
            owner: Owner::Bob,
            drawn: 0,
            root: Vec::new(),
            sender: None,
            receivers: VecDeque::from([Receiver {
                key: KeyName::Drawn(Owner::Alice, 0),
                chain: Vec::new(),
                next: 0,
                stored: VecDeque::new(),
            }]),
            stored: VecDeque::new(),
            received: false,
            evicted: false,
            longest_gap: 0,
        }
    }

    /// A copy made now that draws from capture `index`'s list.
    pub(crate) fn captured(&self, index: usize) -> Self {
        Self {
            owner: Owner::Capture(index),
            drawn: 0,
            ..self.clone()
        }
    }

    /// Encrypt (§5.3): the header of the message sent, and whether it is a
    /// pre-key message.
    pub(crate) fn send(&mut self) -> (OlmHeader, bool) {
        let sender = match self.sender.take() {
            Some(s) => s,
            None => {
                // The deferred DH step: a fresh key against the newest chain.
                let key = KeyName::Drawn(self.owner, self.drawn);
                self.drawn += 1;
                let theirs = self
                    .receivers
                    .front()
                    .map_or(KeyName::BobSignedPrekey, |r| r.key);
                self.root.push((key, theirs));
                Sender {
                    key,
                    chain: self.root.clone(),
                    next: 0,
                }
            }
        };
        let header = OlmHeader {
            key: Some(sender.key),
            chain: sender.chain.clone(),
            index: sender.next,
        };
        self.sender = Some(Sender {
            next: sender.next.saturating_add(1),
            ..sender
        });
        let prekey = matches!(self.owner, Owner::Alice) && !self.received;
        (header, prekey)
    }

    /// What Decrypt (§5.4) must do with `h`; `authentic` is false when
    /// anything the MAC covers was altered.
    pub(crate) fn expect(&self, h: &OlmHeader, authentic: bool) -> OlmExpect {
        use ErrorClass::{Authentication, Duplicate, TooManySkipped};
        let found = h
            .key
            .and_then(|k| self.receivers.iter().find(|r| r.key == k));
        let Some(r) = found else {
            // A new chain: refused without a ratchet key to derive it with.
            let Some(ours) = &self.sender else {
                return OlmExpect::Reject(Authentication);
            };
            if h.index > MAX_MESSAGE_GAP {
                return OlmExpect::Reject(TooManySkipped);
            }
            let mut derived = self.root.clone();
            if let Some(k) = h.key {
                derived.push((k, ours.key));
            }
            return if authentic && h.key.is_some() && derived == h.chain {
                OlmExpect::Accept
            } else {
                OlmExpect::Reject(Authentication)
            };
        };
        let genuine = authentic && r.chain == h.chain;
        if h.index < r.next {
            let libolm = self
                .stored
                .iter()
                .any(|(k, c, i)| Some(*k) == h.key && *c == r.chain && *i == h.index);
            let vodozemac = r.stored.contains(&h.index);
            return match (libolm || vodozemac, libolm && vodozemac, genuine) {
                (false, _, _) => OlmExpect::Reject(Duplicate),
                (true, _, false) => OlmExpect::Reject(Authentication),
                (true, true, true) => OlmExpect::Accept,
                // Stored by one scope only: refused as duplicate by the other.
                (true, false, true) => OlmExpect::Either(Duplicate),
            };
        }
        if h.index - r.next > MAX_MESSAGE_GAP {
            return OlmExpect::Reject(TooManySkipped);
        }
        if genuine {
            OlmExpect::Accept
        } else {
            OlmExpect::Reject(Authentication)
        }
    }

    /// Commits an accepted message (after [`OlmParty::expect`] allowed it).
    pub(crate) fn accept(&mut self, h: &OlmHeader) {
        let Some(key) = h.key else { return };
        self.received = true;
        let position = match self.receivers.iter().position(|r| r.key == key) {
            Some(p) => p,
            None => {
                let Some(ours) = self.sender.take() else {
                    return;
                };
                self.root.push((key, ours.key));
                self.receivers.push_front(Receiver {
                    key,
                    chain: self.root.clone(),
                    next: 0,
                    stored: VecDeque::new(),
                });
                if self.receivers.len() > MAX_RECEIVER_CHAINS {
                    self.receivers.truncate(MAX_RECEIVER_CHAINS);
                    self.evicted = true;
                }
                0
            }
        };
        let Some(r) = self.receivers.get_mut(position) else {
            return;
        };
        if h.index < r.next {
            r.stored.retain(|i| *i != h.index);
            let chain = r.chain.clone();
            self.stored
                .retain(|(k, c, i)| !(*k == key && *c == chain && *i == h.index));
            return;
        }
        let gap = (h.index - r.next) as usize;
        self.longest_gap = self.longest_gap.max(gap);
        for i in r.next..h.index {
            r.stored.push_front(i);
            self.stored.push_front((key, r.chain.clone(), i));
        }
        if r.stored.len() > MAX_SKIPPED_KEYS {
            r.stored.truncate(MAX_SKIPPED_KEYS);
            self.evicted = true;
        }
        if self.stored.len() > MAX_SKIPPED_KEYS {
            self.stored.truncate(MAX_SKIPPED_KEYS);
            self.evicted = true;
        }
        r.next = h.index.saturating_add(1);
    }

    /// After an [`OlmExpect::Either`] the subject refused: the scope that
    /// held the key would have used it, so neither holds it from now on.
    pub(crate) fn forget(&mut self, h: &OlmHeader) {
        let Some(key) = h.key else { return };
        if let Some(r) = self.receivers.iter_mut().find(|r| r.key == key) {
            r.stored.retain(|i| *i != h.index);
            let chain = r.chain.clone();
            self.stored
                .retain(|(k, c, i)| !(*k == key && *c == chain && *i == h.index));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    use ErrorClass::*;

    #[test]
    fn a_round_trip_a_late_message_and_a_replay() {
        let (mut alice, mut bob) = (OlmParty::alice(), OlmParty::bob());
        let (a0, prekey) = alice.send();
        let (a1, _) = alice.send();
        assert!(prekey);
        assert_eq!(bob.expect(&a1, true), OlmExpect::Accept);
        bob.accept(&a1);
        assert_eq!(bob.expect(&a1, true), OlmExpect::Reject(Duplicate));
        assert_eq!(bob.expect(&a0, false), OlmExpect::Reject(Authentication));
        let (b0, prekey) = bob.send();
        assert!(!prekey);
        assert_eq!(alice.expect(&b0, true), OlmExpect::Accept);
        alice.accept(&b0);
        // Alice's next chain is built against Bob's key: Bob derives it, and
        // still reads the late message of her first chain.
        let (a2, prekey) = alice.send();
        assert!(!prekey);
        assert_eq!(bob.expect(&a2, true), OlmExpect::Accept);
        bob.accept(&a2);
        assert_eq!(bob.expect(&a0, true), OlmExpect::Accept);
    }

    #[test]
    fn a_capture_follows_until_the_victim_sends() {
        let (mut alice, mut bob) = (OlmParty::alice(), OlmParty::bob());
        let (a0, _) = alice.send();
        bob.accept(&a0);
        let (b0, _) = bob.send();
        let copy = bob.captured(0);
        alice.accept(&b0);
        let (a1, _) = alice.send();
        // The copy holds Bob's ratchet key: it derives Alice's new chain.
        assert_eq!(copy.expect(&a1, true), OlmExpect::Accept);
        bob.accept(&a1);
        let (b1, _) = bob.send();
        alice.accept(&b1);
        let (a2, _) = alice.send();
        assert_eq!(bob.expect(&a2, true), OlmExpect::Accept);
        let mut copy = copy;
        copy.accept(&a1);
        assert_eq!(copy.expect(&a2, true), OlmExpect::Reject(Authentication));
    }

    #[test]
    fn the_gap_and_the_store_are_bounded() {
        let (mut alice, mut bob) = (OlmParty::alice(), OlmParty::bob());
        let sent: Vec<_> = (0..43).map(|_| alice.send().0).collect();
        let far = OlmHeader {
            index: 2001,
            ..sent[0].clone()
        };
        assert_eq!(bob.expect(&far, true), OlmExpect::Reject(TooManySkipped));
        bob.accept(&sent[42]);
        assert_eq!(bob.expect(&sent[1], true), OlmExpect::Reject(Duplicate));
        assert_eq!(bob.expect(&sent[2], true), OlmExpect::Accept);
        assert!(bob.evicted);
    }
}
