//! `MKSKIPPED`: message keys of skipped messages, keyed by (ratchet public key,
//! message number), with a total cap and oldest-first eviction (Double Ratchet
//! spec §3.2 and §6.4 on bounding stored keys).

use std::collections::BTreeMap;

use crate::chain_key::MessageKey;
use crate::keys::PublicKey;

/// Stored skipped keys. Lookups are by (ratchet key, n); eviction follows
/// insertion order, which a serial number records.
#[derive(Clone, Debug, Default)]
pub(crate) struct SkippedKeys {
    by_id: BTreeMap<(PublicKey, u32), (u64, MessageKey)>,
    by_age: BTreeMap<u64, (PublicKey, u32)>,
    next_serial: u64,
}

impl SkippedKeys {
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn get(&self, dh: &PublicKey, n: u32) -> Option<&MessageKey> {
        self.by_id.get(&(*dh, n)).map(|(_, mk)| mk)
    }

    pub(crate) fn remove(&mut self, dh: &PublicKey, n: u32) {
        if let Some((serial, _)) = self.by_id.remove(&(*dh, n)) {
            self.by_age.remove(&serial);
        }
    }

    /// Stores a key as the newest, then evicts the oldest keys until at most
    /// `cap` remain.
    pub(crate) fn insert(&mut self, dh: PublicKey, n: u32, mk: MessageKey, cap: usize) {
        let serial = self.next_serial;
        self.next_serial = self.next_serial.wrapping_add(1);
        if let Some((old, _)) = self.by_id.insert((dh, n), (serial, mk)) {
            self.by_age.remove(&old);
        }
        self.by_age.insert(serial, (dh, n));
        while self.by_id.len() > cap {
            let Some((_, id)) = self.by_age.pop_first() else {
                break;
            };
            self.by_id.remove(&id);
        }
    }

    /// Entries from oldest to newest.
    pub(crate) fn iter_oldest_first(&self) -> impl Iterator<Item = (&PublicKey, u32, &MessageKey)> {
        self.by_age
            .values()
            .filter_map(move |id| self.by_id.get(id).map(|(_, mk)| (&id.0, id.1, mk)))
    }
}
