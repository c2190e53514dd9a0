//! The abstract model of one session: what the Double Ratchet spec (§3.2–§3.5)
//! says must happen to a message, computed from names instead of keys.
//!
//! A ratchet key is named by who drew it and when ([`KeyName`]); a message by
//! its sender's key, `pn` and `n`. A party's state is the spec's state with
//! every secret replaced by the fact that matters: which peer key its
//! receiving chain follows, which (key, n) slots it still holds as skipped,
//! and whether its root chain is still the genuine one. From that the oracle
//! predicts acceptance or the error class, and the runner checks the
//! implementation against it after every step.
//!
//! The one cryptographic fact the oracle relies on: a new receiving chain
//! derives correctly exactly when the sender's key was built against the
//! receiver's current ratchet key and the receiver's root chain is genuine.
//! Honest parties always satisfy both; a captured copy satisfies them until
//! its first own DH ratchet step, which it takes with keys the victim never
//! used — that is post-compromise security, stated as a rule.

use std::collections::VecDeque;

use crate::implementation::ErrorClass;
use ratchetproof_protocol::consts::MAX_PREVIOUS_RECEIVING_KEYS;

/// Whose key list a ratchet key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Owner {
    Alice,
    Bob,
    /// The k-th capture, which draws from its own list once it ratchets.
    Capture(usize),
}

/// A ratchet key, by role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum KeyName {
    /// Bob's signed prekey, his ratchet key until he first receives.
    BobSignedPrekey,
    /// Entry `k` of an owner's injected list.
    Drawn(Owner, usize),
}

/// A message header as the oracle sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SeenHeader {
    /// The sender's ratchet key, or `None` for a key nobody drew (a tampered one).
    pub(crate) key: Option<KeyName>,
    /// The receiver key the sender's chain was derived against.
    pub(crate) against: Option<KeyName>,
    pub(crate) pn: u32,
    pub(crate) n: u32,
}

/// What must happen to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// It decrypts to its plaintext.
    Accept,
    /// It is rejected with `class`, or with `or` where the spec leaves the
    /// class open (two rules apply and the order between them is a convention).
    Reject {
        class: ErrorClass,
        or: Option<ErrorClass>,
    },
}

impl Expect {
    fn reject(class: ErrorClass) -> Self {
        Expect::Reject { class, or: None }
    }

    /// Whether `class` is an acceptable rejection.
    pub(crate) fn allows(&self, class: ErrorClass) -> bool {
        match self {
            Expect::Accept => false,
            Expect::Reject { class: c, or } => *c == class || *or == Some(class),
        }
    }
}

/// The header fields a send produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SentHeader {
    pub(crate) key: KeyName,
    pub(crate) against: Option<KeyName>,
    pub(crate) pn: u32,
    pub(crate) n: u32,
}

/// One session's state, abstractly.
#[derive(Clone, Debug)]
pub(crate) struct PartyState {
    owner: Owner,
    max_skip: u32,
    /// The cap on stored skipped keys: beyond it the oldest are evicted.
    max_stored: usize,
    /// Keys drawn from the owner's list so far.
    pub(crate) drawn: usize,
    /// DHs.
    own: KeyName,
    /// The peer key DHs was derived against (DHr when DHs was drawn).
    own_against: Option<KeyName>,
    /// Whether RK is the genuine root chain (false once a capture ratchets).
    genuine_root: bool,
    can_send: bool,
    ns: u32,
    pn: u32,
    /// DHr.
    dhr: Option<KeyName>,
    has_receiving_chain: bool,
    nr: u32,
    /// MKSKIPPED, by name, oldest first (the order eviction follows).
    skipped: VecDeque<(KeyName, u32)>,
    /// Earlier DHr values the reference remembers, newest last.
    previous: VecDeque<KeyName>,
    /// Whether a skipped key was ever evicted by the cap.
    pub(crate) evicted: bool,
    /// The most keys one acceptance skipped (stored).
    pub(crate) longest_gap: usize,
}

impl PartyState {
    /// RatchetInitAlice: draws key 0, DHr is Bob's signed prekey.
    pub(crate) fn alice(max_skip: u32, max_stored: u32) -> Self {
        Self {
            max_stored: usize::try_from(max_stored).unwrap_or(usize::MAX).max(1),
            owner: Owner::Alice,
            max_skip,
            drawn: 1,
            own: KeyName::Drawn(Owner::Alice, 0),
            own_against: Some(KeyName::BobSignedPrekey),
            genuine_root: true,
            can_send: true,
            ns: 0,
            pn: 0,
            dhr: Some(KeyName::BobSignedPrekey),
            has_receiving_chain: false,
            nr: 0,
            skipped: VecDeque::new(),
            previous: VecDeque::new(),
            evicted: false,
            longest_gap: 0,
        }
    }

    /// RatchetInitBob: his signed prekey, no chains.
    pub(crate) fn bob(max_skip: u32, max_stored: u32) -> Self {
        Self {
            max_stored: usize::try_from(max_stored).unwrap_or(usize::MAX).max(1),
            owner: Owner::Bob,
            max_skip,
            drawn: 0,
            own: KeyName::BobSignedPrekey,
            own_against: None,
            genuine_root: true,
            can_send: false,
            ns: 0,
            pn: 0,
            dhr: None,
            has_receiving_chain: false,
            nr: 0,
            skipped: VecDeque::new(),
            previous: VecDeque::new(),
            evicted: false,
            longest_gap: 0,
        }
    }

    /// The state of a copy made now; it will draw from capture `index`'s list.
    pub(crate) fn captured(&self, index: usize) -> Self {
        Self {
            owner: Owner::Capture(index),
            drawn: 0,
            ..self.clone()
        }
    }

    /// RatchetEncrypt, or `None` where the session has no sending chain.
    pub(crate) fn send(&mut self) -> Option<SentHeader> {
        if !self.can_send {
            return None;
        }
        let header = SentHeader {
            key: self.own,
            against: self.own_against,
            pn: self.pn,
            n: self.ns,
        };
        self.ns = self.ns.saturating_add(1);
        Some(header)
    }

    /// What RatchetDecrypt must do with a message whose header is `h`.
    /// `authentic` is false when anything the tag covers was altered.
    ///
    /// The order of the checks is the spec's (skipped keys, then the DH
    /// ratchet with its `pn` bound, then the chain with its `n` bound). On top
    /// of it the harness reports a message whose key was already used as a
    /// `duplicate` (the spec's algorithm would fail it as a tag mismatch).
    pub(crate) fn expect(&self, h: &SeenHeader, authentic: bool) -> Expect {
        use ErrorClass::{Authentication, Duplicate, Malformed, TooManySkipped};
        if let Some(key) = h.key
            && self.skipped.contains(&(key, h.n))
        {
            return if authentic {
                Expect::Accept
            } else {
                Expect::reject(Authentication)
            };
        }
        let current = h.key.is_some() && h.key == self.dhr;
        if current && self.has_receiving_chain && h.n < self.nr {
            // An altered header may land on a used slot: then it is both.
            let or = (!authentic).then_some(Authentication);
            return Expect::Reject {
                class: Duplicate,
                or,
            };
        }
        let limit = |from: u32| u64::from(from) + u64::from(self.max_skip);
        let previous = h.key.is_some_and(|k| self.previous.contains(&k));
        if h.n == u32::MAX {
            // Never sent (SPEC.md §5.6): malformed, whatever else is wrong;
            // on an earlier chain the duplicate report may come first.
            return Expect::Reject {
                class: Malformed,
                or: previous.then_some(Duplicate),
            };
        }
        if previous {
            // A used key from an earlier chain. Whether the spec's pn bound or
            // the duplicate report comes first is the implementation's choice.
            let too_far = u64::from(h.pn) > limit(self.nr) || u64::from(h.n) > limit(0);
            return Expect::Reject {
                class: Duplicate,
                or: too_far.then_some(TooManySkipped),
            };
        }
        if !current {
            if u64::from(h.pn) > limit(self.nr) || u64::from(h.n) > limit(0) {
                return Expect::reject(TooManySkipped);
            }
            let derives = self.genuine_root && h.key.is_some() && h.against == Some(self.own);
            return if authentic && derives {
                Expect::Accept
            } else {
                Expect::reject(Authentication)
            };
        }
        if u64::from(h.n) > limit(self.nr) {
            return Expect::reject(TooManySkipped);
        }
        if authentic && self.has_receiving_chain {
            Expect::Accept
        } else {
            Expect::reject(Authentication)
        }
    }

    /// Commits the acceptance of a message from known key `key`
    /// (after [`PartyState::expect`] said [`Expect::Accept`]).
    pub(crate) fn accept(&mut self, key: KeyName, pn: u32, n: u32) {
        if let Some(at) = self.skipped.iter().position(|s| *s == (key, n)) {
            self.skipped.remove(at);
            return;
        }
        let mut gap = 0;
        if self.dhr != Some(key) {
            if let (Some(dhr), true) = (self.dhr, self.has_receiving_chain) {
                gap += pn.saturating_sub(self.nr) as usize;
                self.store((self.nr..pn).map(|i| (dhr, i)));
            }
            if let Some(old) = self.dhr.replace(key) {
                if self.previous.len() == MAX_PREVIOUS_RECEIVING_KEYS {
                    self.previous.pop_front();
                }
                self.previous.push_back(old);
            }
            self.has_receiving_chain = true;
            self.nr = 0;
            // The sending half of the DH ratchet: a fresh key from the list.
            self.own = KeyName::Drawn(self.owner, self.drawn);
            self.own_against = Some(key);
            self.drawn += 1;
            self.pn = self.ns;
            self.ns = 0;
            self.can_send = true;
            if matches!(self.owner, Owner::Capture(_)) {
                self.genuine_root = false;
            }
        }
        gap += n.saturating_sub(self.nr) as usize;
        self.store((self.nr..n).map(|i| (key, i)));
        self.nr = n.saturating_add(1);
        self.longest_gap = self.longest_gap.max(gap);
    }

    /// Stores skipped keys as the newest, evicting the oldest beyond the cap
    /// (the reference's `MKSKIPPED`, SPEC.md §6.4).
    fn store(&mut self, keys: impl Iterator<Item = (KeyName, u32)>) {
        self.skipped.extend(keys);
        while self.skipped.len() > self.max_stored {
            self.skipped.pop_front();
            self.evicted = true;
        }
    }

    /// How many skipped keys the session holds.
    #[cfg(test)]
    pub(crate) fn skipped_count(&self) -> usize {
        self.skipped.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    use ErrorClass::*;

    fn seen(h: SentHeader) -> SeenHeader {
        SeenHeader {
            key: Some(h.key),
            against: h.against,
            pn: h.pn,
            n: h.n,
        }
    }

    #[test]
    fn a_round_trip_then_replays_and_jumps() {
        let (mut alice, mut bob) = (PartyState::alice(2, 100), PartyState::bob(2, 100));
        assert!(bob.send().is_none(), "Bob cannot send first");
        let m0 = alice.send().map(seen);
        let m1 = alice.send().map(seen);
        let (Some(m0), Some(m1)) = (m0, m1) else {
            unreachable!()
        };
        assert_eq!(bob.expect(&m1, true), Expect::Accept);
        bob.accept(KeyName::Drawn(Owner::Alice, 0), m1.pn, m1.n);
        assert_eq!(bob.skipped_count(), 1);
        assert_eq!(bob.expect(&m1, true), Expect::reject(Duplicate));
        assert_eq!(bob.expect(&m0, false), Expect::reject(Authentication));
        let far = SeenHeader { n: 9, ..m0 };
        assert_eq!(bob.expect(&far, true), Expect::reject(TooManySkipped));
    }

    #[test]
    fn a_capture_follows_one_new_chain_and_then_loses_track() {
        let (mut alice, mut bob) = (PartyState::alice(10, 100), PartyState::bob(10, 100));
        let mut copy = bob.captured(0);
        let deliver = |from: &mut PartyState, to: &mut [&mut PartyState]| {
            let h = from.send().map(seen);
            let Some(h) = h else { unreachable!() };
            let verdicts: Vec<_> = to.iter().map(|p| p.expect(&h, true)).collect();
            for p in to.iter_mut() {
                if p.expect(&h, true) == Expect::Accept
                    && let Some(k) = h.key
                {
                    p.accept(k, h.pn, h.n);
                }
            }
            verdicts
        };
        // Alice's first chain was built against the prekey the copy holds.
        assert_eq!(
            deliver(&mut alice, &mut [&mut bob, &mut copy])[1],
            Expect::Accept
        );
        deliver(&mut bob, &mut [&mut alice]);
        // Alice's next chain is built against Bob's fresh key: the copy's own
        // ratchet step drew a different one.
        let after = deliver(&mut alice, &mut [&mut bob, &mut copy]);
        assert_eq!(after, [Expect::Accept, Expect::reject(Authentication)]);
    }
}
