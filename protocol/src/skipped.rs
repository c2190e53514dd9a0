//! `MKSKIPPED`: message keys of skipped messages, keyed by (ratchet public key,
//! message number), with a total cap and oldest-first eviction (Double Ratchet
//! spec §3.2 and §6.4 on bounding stored keys).
//!
//! Keys are grouped by chain: a lookup compares the 32-byte ratchet key once
//! per chain (a session rarely holds more than a few) and then only counters.
//! Eviction and serialization follow insertion order over all chains, which an
//! age queue records. Removing a key does not touch the queue: its entry goes
//! stale (its serial no longer matches a stored key) and is skipped, and the
//! queue is compacted once stale entries outnumber live ones, so every
//! operation stays amortized O(log n).

use std::collections::{BTreeMap, VecDeque};

use crate::chain_key::MessageKey;
use crate::keys::PublicKey;

/// A stored key and the serial of its insertion.
#[derive(Clone, Debug)]
struct Slot {
    serial: u64,
    mk: MessageKey,
}

/// One entry of the age queue: which key was inserted with `serial`.
#[derive(Clone, Debug)]
struct Aged {
    serial: u64,
    dh: PublicKey,
    n: u32,
}

/// Stored skipped keys: per chain, by counter; eviction follows insertion
/// order, which a serial number records.
#[derive(Clone, Debug, Default)]
pub(crate) struct SkippedKeys {
    chains: BTreeMap<PublicKey, BTreeMap<u32, Slot>>,
    /// Insertions, oldest first, including stale entries of removed keys.
    ages: VecDeque<Aged>,
    len: usize,
    next_serial: u64,
}

/// Stale queue entries tolerated beyond the live ones before compaction.
const STALE_SLACK: usize = 32;

impl SkippedKeys {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, dh: &PublicKey, n: u32) -> Option<&Slot> {
        self.chains.get(dh)?.get(&n)
    }

    /// Whether a queue entry still names a stored key.
    fn is_live(&self, aged: &Aged) -> bool {
        self.slot(&aged.dh, aged.n)
            .is_some_and(|slot| slot.serial == aged.serial)
    }

    pub(crate) fn get(&self, dh: &PublicKey, n: u32) -> Option<&MessageKey> {
        self.slot(dh, n).map(|slot| &slot.mk)
    }

    /// Removes a key, returning its serial.
    fn take(&mut self, dh: &PublicKey, n: u32) -> Option<u64> {
        let chain = self.chains.get_mut(dh)?;
        let slot = chain.remove(&n)?;
        if chain.is_empty() {
            self.chains.remove(dh);
        }
        self.len = self.len.saturating_sub(1);
        Some(slot.serial)
    }

    pub(crate) fn remove(&mut self, dh: &PublicKey, n: u32) {
        if self.take(dh, n).is_some() {
            self.compact_if_stale();
        }
    }

    /// Stores a key as the newest, then evicts the oldest keys until at most
    /// `cap` remain. Returns whether a key with this (ratchet key, n) was
    /// already stored (it is replaced).
    pub(crate) fn insert(&mut self, dh: PublicKey, n: u32, mk: MessageKey, cap: usize) -> bool {
        let serial = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1);
        // A replaced key's queue entry goes stale: its serial no longer matches.
        let replaced = self
            .chains
            .entry(dh)
            .or_default()
            .insert(n, Slot { serial, mk })
            .is_some();
        if !replaced {
            self.len = self.len.saturating_add(1);
        }
        self.ages.push_back(Aged { serial, dh, n });
        while self.len > cap {
            let Some(oldest) = self.ages.pop_front() else {
                break;
            };
            if self.is_live(&oldest) {
                self.take(&oldest.dh, oldest.n);
            }
        }
        self.compact_if_stale();
        replaced
    }

    /// Drops stale queue entries once they outnumber the live ones.
    fn compact_if_stale(&mut self) {
        if self.ages.len() > self.len.saturating_mul(2).saturating_add(STALE_SLACK) {
            let mut ages = core::mem::take(&mut self.ages);
            ages.retain(|aged| self.is_live(aged));
            self.ages = ages;
        }
    }

    /// Entries from oldest to newest.
    pub(crate) fn iter_oldest_first(&self) -> impl Iterator<Item = (&PublicKey, u32, &MessageKey)> {
        self.ages.iter().filter_map(move |aged| {
            self.slot(&aged.dh, aged.n)
                .filter(|slot| slot.serial == aged.serial)
                .map(|slot| (&aged.dh, aged.n, &slot.mk))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> PublicKey {
        PublicKey::from_bytes([b; 32])
    }

    fn mk(b: u8) -> MessageKey {
        MessageKey::from_bytes([b; 32])
    }

    fn order(s: &SkippedKeys) -> Vec<(u8, u32, u8)> {
        s.iter_oldest_first()
            .map(|(dh, n, mk)| (dh.as_bytes()[0], n, mk.as_bytes()[0]))
            .collect()
    }

    #[test]
    fn eviction_is_oldest_first_across_chains() {
        let mut s = SkippedKeys::default();
        s.insert(key(1), 5, mk(10), 3);
        s.insert(key(2), 0, mk(20), 3);
        s.insert(key(1), 2, mk(11), 3);
        s.insert(key(2), 1, mk(21), 3);
        assert_eq!(order(&s), vec![(2, 0, 20), (1, 2, 11), (2, 1, 21)]);
        assert!(s.get(&key(1), 5).is_none());
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn reinsert_moves_a_key_to_newest_and_removal_skips_it() {
        let mut s = SkippedKeys::default();
        s.insert(key(1), 0, mk(1), 10);
        s.insert(key(1), 1, mk(2), 10);
        s.insert(key(1), 0, mk(3), 10);
        assert_eq!(order(&s), vec![(1, 1, 2), (1, 0, 3)]);
        s.remove(&key(1), 1);
        assert_eq!(order(&s), vec![(1, 0, 3)]);
        assert_eq!(s.len(), 1);
        s.insert(key(1), 7, mk(4), 1);
        assert_eq!(order(&s), vec![(1, 7, 4)]);
    }

    #[test]
    fn stale_entries_are_compacted() {
        let mut s = SkippedKeys::default();
        for n in 0..1000 {
            s.insert(key(1), n, mk(1), 2000);
        }
        for n in 0..990 {
            s.remove(&key(1), n);
        }
        assert_eq!(s.len(), 10);
        assert!(s.ages.len() <= 2 * s.len() + STALE_SLACK);
        assert_eq!(
            order(&s),
            (990..1000).map(|n| (1, n, 1)).collect::<Vec<_>>()
        );
        for n in 990..1000 {
            s.remove(&key(1), n);
        }
        assert!(s.chains.is_empty());
    }
}
