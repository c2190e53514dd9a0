//! One session of the independent implementation: the spec's state
//! variables and RatchetEncrypt / RatchetDecrypt (spec §3.4, §3.5), with the
//! session-level bugs switched in where they deviate (search for `Bug::`).
//! Knows nothing of X3DH or the prekey store; the wire format and AEAD come
//! from the suite, or from [`super::primitives`] under the AEAD bugs.

use std::collections::{BTreeSet, VecDeque};

use ratchetproof_protocol::consts::MAX_PREVIOUS_RECEIVING_KEYS;
use ratchetproof_protocol::{
    ChainKey, DhOutput, Error, Header, KeyPair, MessageKey, PublicKey, RootKey, SharedKey, Suite,
};
use zeroize::Zeroizing;

use super::primitives::{
    kdf_rk_swapped, open_with_bugs, own_aead, seal_with_bugs, swap_chain_outputs,
};
use super::{Bug, Bugs, Variant};
use crate::reference::KeyQueueRng;

/// `Bug::NoSkipBound` still stops here, so the harness itself stays bounded.
const NO_BOUND_GUARD: u64 = 1 << 16;

/// One session: the spec's state variables, plus what the bugs need.
#[derive(Clone, Debug)]
pub(super) struct State {
    pub(super) suite: Suite,
    max_skip: u32,
    max_stored: usize,
    pub(super) dhs: KeyPair,
    pub(super) dhr: Option<PublicKey>,
    pub(super) rk: RootKey,
    pub(super) cks: Option<ChainKey>,
    ckr: Option<ChainKey>,
    ns: u32,
    nr: u32,
    pn: u32,
    /// MKSKIPPED, oldest first.
    pub(super) skipped: Vec<(PublicKey, u32, MessageKey)>,
    /// Earlier DHr values, newest last, so replays from old chains are
    /// reported as duplicates (the harness's error classes).
    previous: VecDeque<PublicKey>,
    /// `Bug::OldChainKeysKept`: the first chain key of every receiving chain.
    chain_starts: Vec<(PublicKey, ChainKey)>,
    /// `Bug::UsedKeysRetainedInState`: used message keys and superseded
    /// chain keys.
    retained: Vec<Zeroizing<[u8; 32]>>,
    /// Legitimate variants in force.
    pub(super) variants: BTreeSet<Variant>,
    /// `Variant::DeferredKeyGeneration`: a DH ratchet's sending half waits
    /// for the next send.
    pending_sending_ratchet: bool,
    /// `Bug::NewestMessageKeyKept`: the key of the last message decrypted
    /// through the normal path.
    last: Option<(PublicKey, u32, MessageKey)>,
}

/// The chain keys for messages `nr..until`, plus the chain key for `until`.
type Skip = (Vec<(u32, MessageKey)>, ChainKey);

impl State {
    /// RatchetInitBob's state, before the role-specific part.
    pub(super) fn new(
        suite: Suite,
        max_skip: u32,
        max_stored: u32,
        sk: SharedKey,
        dhs: KeyPair,
    ) -> Self {
        State {
            suite,
            max_skip,
            max_stored: usize::try_from(max_stored).unwrap_or(usize::MAX),
            dhs,
            dhr: None,
            rk: RootKey::from(sk),
            cks: None,
            ckr: None,
            ns: 0,
            nr: 0,
            pn: 0,
            skipped: Vec::new(),
            previous: VecDeque::new(),
            chain_starts: Vec::new(),
            retained: Vec::new(),
            variants: BTreeSet::new(),
            pending_sending_ratchet: false,
            last: None,
        }
    }

    pub(super) fn has(&self, variant: Variant) -> bool {
        self.variants.contains(&variant)
    }

    /// DH, with the all-zero output check unless `Variant::NoSmallOrderCheck`
    /// (X25519 of a small-order point is exactly the all-zero output).
    fn dh(&self, own: &KeyPair, peer: &PublicKey) -> Result<DhOutput, Error> {
        match own.diffie_hellman(peer) {
            Err(Error::InvalidKey(_)) if self.has(Variant::NoSmallOrderCheck) => {
                Ok(DhOutput::from_bytes([0; 32]))
            }
            other => other,
        }
    }

    /// `Bug::UsedKeysRetainedInState`: keeps `key` in the state.
    fn retain(&mut self, bugs: &Bugs, key: &[u8; 32]) {
        if bugs.contains(&Bug::UsedKeysRetainedInState) {
            self.retained.push(Zeroizing::new(*key));
        }
    }

    /// The whole state as JSON with base64 keys: this mutant's export.
    pub(super) fn export(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = |k: &[u8]| base64::engine::general_purpose::STANDARD.encode(k);
        let opt = |k: Option<&[u8; 32]>| k.map(|k| b64(k));
        let state = serde_json::json!({
            "dhs": b64(&*self.dhs.private_key().to_bytes()),
            "dhr": opt(self.dhr.as_ref().map(PublicKey::as_bytes)),
            "rk": b64(self.rk.as_bytes()),
            "cks": opt(self.cks.as_ref().map(ChainKey::as_bytes)),
            "ckr": opt(self.ckr.as_ref().map(ChainKey::as_bytes)),
            "ns": self.ns,
            "nr": self.nr,
            "pn": self.pn,
            "skipped": self.skipped.iter().map(|(dh, n, mk)| {
                serde_json::json!({"dh": b64(dh.as_bytes()), "n": n, "mk": b64(mk.as_bytes())})
            }).collect::<Vec<_>>(),
            "previous": self.previous.iter().map(|k| b64(k.as_bytes())).collect::<Vec<_>>(),
            "chainStarts": self.chain_starts.iter().map(|(dh, ck)| {
                serde_json::json!({"dh": b64(dh.as_bytes()), "ck": b64(ck.as_bytes())})
            }).collect::<Vec<_>>(),
            "usedKeys": self.retained.iter().map(|k| b64(&**k)).collect::<Vec<_>>(),
        });
        state.to_string().into_bytes()
    }

    fn kdf_ck(&self, bugs: &Bugs, ck: &ChainKey) -> (ChainKey, MessageKey) {
        let (next, mk) = self.suite.kdf_ck(ck);
        if bugs.contains(&Bug::KdfCkConstantsSwapped) {
            return swap_chain_outputs(next, mk);
        }
        (next, mk)
    }

    pub(super) fn kdf_rk(&self, bugs: &Bugs, rk: &RootKey, dh: &DhOutput) -> (RootKey, ChainKey) {
        if bugs.contains(&Bug::KdfRkSaltIkmSwapped) {
            return kdf_rk_swapped(rk, dh);
        }
        self.suite.kdf_rk(rk, dh)
    }

    /// SkipMessageKeys' bound.
    fn check_skip(&self, bugs: &Bugs, nr: u32, until: u32) -> Result<(), Error> {
        let limit = u64::from(nr) + u64::from(self.max_skip);
        let too_far = if bugs.contains(&Bug::NoSkipBound) {
            // The bug has no bound; the mutant keeps one far above any
            // MAX_SKIP a test uses, so a forged 2^31 jump cannot hang the harness.
            u64::from(nr) + NO_BOUND_GUARD < u64::from(until)
        } else if bugs.contains(&Bug::SkipBoundOffByOne) {
            limit <= u64::from(until) && until > nr
        } else {
            limit < u64::from(until)
        };
        if too_far {
            return Err(Error::TooManySkipped {
                from: nr,
                until,
                limit: self.max_skip,
            });
        }
        Ok(())
    }

    fn skip(&self, bugs: &Bugs, mut ck: ChainKey, from: u32, until: u32) -> Skip {
        let mut keys = Vec::new();
        for n in from..until {
            let (next, mk) = self.kdf_ck(bugs, &ck);
            keys.push((n, mk));
            ck = next;
        }
        (keys, ck)
    }

    fn store_skipped(
        &mut self,
        bugs: &Bugs,
        dh: PublicKey,
        keys: Vec<(u32, MessageKey)>,
    ) -> Result<(), Error> {
        if bugs.contains(&Bug::FullStoreRefusesMessages)
            && self.skipped.len() + keys.len() > self.max_stored
        {
            return Err(Error::TooManySkipped {
                from: self.nr,
                until: self.nr,
                limit: self.max_skip,
            });
        }
        // Bug::StoredKeyCapOffByOne: one key more than the cap.
        let cap = if bugs.contains(&Bug::StoredKeyCapOffByOne) {
            self.max_stored.saturating_add(1)
        } else {
            self.max_stored
        };
        for (n, mk) in keys {
            self.skipped.retain(|(d, i, _)| !(*d == dh && *i == n));
            if bugs.contains(&Bug::StoreClearedWhenFull) && self.skipped.len() >= cap {
                self.skipped.clear();
            }
            self.skipped.push((dh, n, mk));
            if bugs.contains(&Bug::NoStoredKeyCap) {
                continue;
            }
            if bugs.contains(&Bug::StoredKeyCapPerChain) {
                // Only this chain's keys count, and only they are evicted.
                while self.skipped.iter().filter(|(d, _, _)| *d == dh).count() > cap {
                    if let Some(at) = self.skipped.iter().position(|(d, _, _)| *d == dh) {
                        self.skipped.remove(at);
                    }
                }
                continue;
            }
            while self.skipped.len() > cap {
                if bugs.contains(&Bug::EvictionNewestFirst) {
                    // The newest key before the one just inserted.
                    let at = self.skipped.len().saturating_sub(2);
                    self.skipped.remove(at);
                } else if bugs.contains(&Bug::EvictionDropsOldestChainWhole) {
                    let oldest = self.skipped.first().map(|(d, _, _)| *d);
                    self.skipped.retain(|(d, _, _)| Some(*d) != oldest);
                } else {
                    self.skipped.remove(0);
                }
            }
        }
        Ok(())
    }

    fn seal(
        &self,
        bugs: &Bugs,
        mk: &MessageKey,
        header: &Header,
        pt: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>, Error> {
        if own_aead(bugs) {
            return seal_with_bugs(self.suite, bugs, mk, header, pt, ad);
        }
        self.suite.seal(mk, header, pt, ad)
    }

    fn open(
        &self,
        bugs: &Bugs,
        mk: &MessageKey,
        message: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>, Error> {
        if own_aead(bugs) {
            return open_with_bugs(self.suite, bugs, mk, message, ad);
        }
        self.suite.open(mk, message, ad)
    }

    /// RatchetEncrypt.
    pub(super) fn encrypt(
        &mut self,
        bugs: &Bugs,
        plaintext: &[u8],
        ad: &[u8],
        rng: &mut KeyQueueRng,
    ) -> Result<Vec<u8>, Error> {
        if self.pending_sending_ratchet {
            let dhr = self.dhr.ok_or(Error::NoSendingChain)?;
            let mut next = self.clone();
            next.pending_sending_ratchet = false;
            next.ratchet_sending(bugs, &dhr, rng)?;
            *self = next;
        }
        let cks = self.cks.as_ref().ok_or(Error::NoSendingChain)?;
        if self.ns == u32::MAX {
            return Err(Error::CounterExhausted);
        }
        let (next, mk) = self.kdf_ck(bugs, cks);
        let header = Header {
            dh: *self.dhs.public_key(),
            pn: self.pn,
            n: self.ns,
        };
        let message = self.seal(bugs, &mk, &header, plaintext, ad)?;
        let used = (*cks.as_bytes(), *mk.as_bytes());
        self.retain(bugs, &used.0);
        self.retain(bugs, &used.1);
        if !bugs.contains(&Bug::SendingChainKeyNotAdvanced) {
            self.cks = Some(next);
        }
        self.ns += 1;
        Ok(message)
    }

    /// RatchetDecrypt. Transactional: the new state is built in a copy and
    /// committed only after the tag verifies (except under
    /// `Bug::StateKeptOnFailedDecrypt`).
    pub(super) fn decrypt(
        &mut self,
        bugs: &Bugs,
        message: &[u8],
        ad: &[u8],
        rng: &mut KeyQueueRng,
    ) -> Result<Vec<u8>, Error> {
        let header = self.suite.parse_header(message)?;

        // TrySkippedMessageKeys.
        let any_chain = bugs.contains(&Bug::SkippedLookupIgnoresRatchetKey);
        if let Some(at) = self
            .skipped
            .iter()
            .position(|(d, n, _)| (any_chain || *d == header.dh) && *n == header.n)
        {
            if bugs.contains(&Bug::SkippedKeyDeletedBeforeVerify) {
                let (_, _, mk) = self.skipped.remove(at);
                return self.open(bugs, &mk, message, ad);
            }
            let plaintext = match self.skipped.get(at) {
                Some((_, _, mk)) => self.open(bugs, mk, message, ad)?,
                None => return Err(Error::InvalidState("skipped key vanished")),
            };
            if !bugs.contains(&Bug::UsedKeyNotDeleted) {
                let (_, _, mk) = self.skipped.remove(at);
                self.retain(bugs, mk.as_bytes());
            }
            self.after_stored_key(bugs, &header);
            return Ok(plaintext);
        }
        if bugs.contains(&Bug::NewestMessageKeyKept)
            && let Some((_, _, mk)) = self
                .last
                .as_ref()
                .filter(|(d, n, _)| *d == header.dh && *n == header.n)
        {
            return self.open(bugs, mk, message, ad);
        }
        if bugs.contains(&Bug::OldChainKeysKept)
            && let Some(plaintext) = self.open_from_kept_chain(bugs, &header, message, ad)
        {
            return Ok(plaintext);
        }

        let on_current_chain = self.dhr == Some(header.dh) && self.ckr.is_some();
        if on_current_chain && header.n < self.nr && !self.has(Variant::NoDuplicateCheck) {
            if bugs.contains(&Bug::ReplayDropsChainKeys) {
                self.skipped.retain(|(d, _, _)| *d != header.dh);
            }
            return Err(duplicate(&header));
        }
        if header.n == u32::MAX && !bugs.contains(&Bug::CounterMaxAccepted) {
            return Err(Error::Malformed("message number 2^32 - 1 is never sent"));
        }

        let keep_on_failure = bugs.contains(&Bug::StateKeptOnFailedDecrypt);
        let draw_first = keep_on_failure || self.has(Variant::KeyGenerationBeforeMac);
        let mut next = self.clone();
        let result = next.receive(bugs, &header, message, ad, rng, draw_first);
        match result {
            Ok(plaintext) => {
                *self = next;
                Ok(plaintext)
            }
            Err(e) => {
                if keep_on_failure {
                    *self = next;
                } else if bugs.contains(&Bug::ForgedHeaderPlantsSkippedKeys) {
                    self.skipped = next.skipped;
                }
                match e {
                    Error::AuthenticationFailed
                        if self.previous.contains(&header.dh)
                            && !self.has(Variant::NoPreviousKeyWindow)
                            && !self.has(Variant::NoDuplicateCheck) =>
                    {
                        if bugs.contains(&Bug::ReplayDropsChainKeys) {
                            self.skipped.retain(|(d, _, _)| *d != header.dh);
                        }
                        Err(duplicate(&header))
                    }
                    e => Err(e),
                }
            }
        }
    }

    /// Steps (2) and (3) of RatchetDecrypt on `self` (a copy the caller
    /// commits or discards).
    fn receive(
        &mut self,
        bugs: &Bugs,
        header: &Header,
        message: &[u8],
        ad: &[u8],
        rng: &mut KeyQueueRng,
        draw_before_verify: bool,
    ) -> Result<Vec<u8>, Error> {
        let mut ratcheted = false;
        if self.dhr != Some(header.dh) {
            let unbounded_pn =
                bugs.contains(&Bug::PnUnboundedWithoutReceivingChain) && self.ckr.is_none();
            if !unbounded_pn {
                let from = if bugs.contains(&Bug::PnBoundIgnoresNr) {
                    0
                } else {
                    self.nr
                };
                self.check_skip(bugs, from, header.pn)?;
            }
            if bugs.contains(&Bug::OlderChainKeysDroppedOnRatchet) {
                let closing = self.dhr;
                self.skipped.retain(|(d, _, _)| Some(*d) == closing);
            }
            if let (Some(ckr), Some(dhr)) = (self.ckr.clone(), self.dhr)
                && !bugs.contains(&Bug::PreviousChainKeysNotStored)
            {
                let (keys, _) = self.skip(bugs, ckr, self.nr, header.pn);
                self.store_skipped(bugs, dhr, keys)?;
            }
            // DHRatchet, receiving half.
            let dh_out = self.dh(&self.dhs, &header.dh)?;
            let (rk, ckr) = self.kdf_rk(bugs, &self.rk, &dh_out);
            if let Some(old) = self.dhr.replace(header.dh) {
                if self.previous.len() == MAX_PREVIOUS_RECEIVING_KEYS {
                    self.previous.pop_front();
                }
                self.previous.push_back(old);
            }
            self.rk = rk;
            if bugs.contains(&Bug::OldChainKeysKept) {
                self.chain_starts.push((header.dh, ckr.clone()));
            }
            self.ckr = Some(ckr);
            if !bugs.contains(&Bug::NrNotResetOnRatchet) {
                self.nr = 0;
            }
            ratcheted = true;
            if draw_before_verify {
                self.ratchet_sending(bugs, &header.dh, rng)?;
            }
        }
        let Some(ckr) = self.ckr.clone() else {
            self.check_skip(bugs, self.nr, header.n)?;
            return Err(Error::AuthenticationFailed);
        };
        self.check_skip(bugs, self.nr, header.n)?;
        let (keys, ck) = self.skip(bugs, ckr, self.nr, header.n);
        let skipped_any = !keys.is_empty();
        self.store_skipped(bugs, header.dh, keys)?;
        let (next_ck, mk) = self.kdf_ck(bugs, &ck);
        if let Some(old) = self.ckr.clone() {
            self.retain(bugs, old.as_bytes());
        }
        self.retain(bugs, ck.as_bytes());
        self.retain(bugs, mk.as_bytes());
        self.ckr = Some(next_ck);
        // Bug::NrResetAfterSkip: the skip loop's counter was reset to 0.
        self.nr = if skipped_any && bugs.contains(&Bug::NrResetAfterSkip) {
            1
        } else {
            header.n.saturating_add(1)
        };
        let plaintext = self.open(bugs, &mk, message, ad)?;
        if bugs.contains(&Bug::NewestMessageKeyKept) {
            self.last = Some((header.dh, header.n, mk));
        }
        if ratcheted && !draw_before_verify {
            if self.has(Variant::DeferredKeyGeneration) {
                // The sending half waits for the next send; until then
                // there is no sending chain.
                self.cks = None;
                self.pending_sending_ratchet = true;
            } else {
                self.ratchet_sending(bugs, &header.dh, rng)?;
            }
        }
        Ok(plaintext)
    }

    /// DHRatchet, sending half: a fresh key pair and a new sending chain.
    fn ratchet_sending(
        &mut self,
        bugs: &Bugs,
        peer: &PublicKey,
        rng: &mut KeyQueueRng,
    ) -> Result<(), Error> {
        // Bug::NoDhRatchetOnReceive: keep the current key pair once a
        // sending chain exists; only the first one is ever created.
        if bugs.contains(&Bug::NoDhRatchetOnReceive) && self.cks.is_some() {
            return Ok(());
        }
        let dhs = KeyPair::generate(rng);
        if self.has(Variant::KeyGenerationBeforeMac) && rng.misused() {
            // A shim's injected RNG fails when its list is exhausted.
            return Err(Error::InvalidState("no injected ratchet key left"));
        }
        let dh_out = self.dh(&dhs, peer)?;
        let (rk, cks) = self.kdf_rk(bugs, &self.rk, &dh_out);
        // Bug::PnAlwaysZero: Ns is reset first, then copied into PN.
        self.pn = if bugs.contains(&Bug::PnAlwaysZero) {
            0
        } else {
            self.ns
        };
        self.ns = 0;
        self.dhs = dhs;
        self.rk = rk;
        self.cks = Some(cks);
        Ok(())
    }

    /// What the stored-key bugs do after a message decrypted with a stored
    /// key; the spec changes nothing else there (SPEC.md §5.4 step 2).
    fn after_stored_key(&mut self, bugs: &Bugs, header: &Header) {
        if bugs.contains(&Bug::StoredKeyDecryptDropsChainKeys) {
            self.skipped.retain(|(d, _, _)| *d != header.dh);
        }
        if bugs.contains(&Bug::StoredKeyDecryptSetsNr) {
            self.nr = header.n.saturating_add(1);
        }
        if bugs.contains(&Bug::StoredKeyDecryptAdvancesChain)
            && let Some(ckr) = self.ckr.take()
        {
            let (next, _) = self.kdf_ck(bugs, &ckr);
            self.ckr = Some(next);
            self.nr = self.nr.saturating_add(1);
        }
        if bugs.contains(&Bug::StoredKeyDecryptSetsDhr) {
            self.dhr = Some(header.dh);
        }
    }

    /// `Bug::OldChainKeysKept`: re-derives a used key from a kept chain start.
    fn open_from_kept_chain(
        &self,
        bugs: &Bugs,
        header: &Header,
        message: &[u8],
        ad: &[u8],
    ) -> Option<Vec<u8>> {
        let (_, start) = self
            .chain_starts
            .iter()
            .rev()
            .find(|(dh, _)| *dh == header.dh)?;
        if header.n > self.max_skip.saturating_mul(4).max(64) {
            return None;
        }
        let (_, ck) = self.skip(bugs, start.clone(), 0, header.n);
        let (_, mk) = self.kdf_ck(bugs, &ck);
        self.open(bugs, &mk, message, ad).ok()
    }
}

fn duplicate(header: &Header) -> Error {
    Error::DuplicateMessage {
        ratchet_key_prefix: hex::encode(header.dh.as_bytes().get(..4).unwrap_or_default()),
        n: header.n,
    }
}
