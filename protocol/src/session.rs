//! The Double Ratchet state machine (Double Ratchet spec §3): RatchetInitAlice,
//! RatchetInitBob, RatchetEncrypt, RatchetDecrypt with skipped message keys and
//! the DH ratchet.
//!
//! Decryption is transactional (spec §3.5): the new state is computed beside the
//! old one and committed only after the AEAD tag verifies, so a message that
//! fails for any reason leaves the session byte-identical — skip loop, DH
//! ratchet and skipped-key deletion included. The new ratchet key pair of a DH
//! ratchet step is drawn from the RNG only after authentication succeeds, so a
//! rejected message consumes no randomness either; the resulting state is the
//! same as the spec's, which draws it earlier.

use std::collections::VecDeque;

use rand_core::CryptoRng;

use crate::chain_key::{ChainKey, MessageKey};
use crate::consts::{
    DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS, MAX_PREVIOUS_RECEIVING_KEYS,
};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::keys::{KeyPair, PublicKey};
use crate::root_key::{RootKey, SharedKey};
use crate::skipped::SkippedKeys;
use crate::suite::Suite;

/// Limits of a session. They are part of its state and of its serialization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// `MAX_SKIP`: the most message keys one received message may skip in one
    /// chain. A header with `n` (or `pn`) above `Nr + max_skip` is rejected.
    pub max_skip: u32,
    /// The most skipped message keys stored at once, over all chains; the
    /// oldest are evicted first. Must be at least 1.
    pub max_stored_skipped_keys: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            max_skip: DEFAULT_MAX_SKIP,
            max_stored_skipped_keys: DEFAULT_MAX_STORED_SKIPPED_KEYS,
        }
    }
}

impl SessionConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_stored_skipped_keys == 0 {
            return Err(Error::InvalidConfig(
                "max_stored_skipped_keys must be at least 1",
            ));
        }
        Ok(())
    }

    fn cap(&self) -> usize {
        usize::try_from(self.max_stored_skipped_keys).unwrap_or(usize::MAX)
    }
}

/// Which side of the conversation a session is: Alice initiated X3DH and
/// sends first; Bob's first ratchet key is his signed prekey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The initiator (RatchetInitAlice).
    Alice,
    /// The responder (RatchetInitBob).
    Bob,
}

impl Role {
    /// The other party.
    pub fn peer(self) -> Self {
        match self {
            Role::Alice => Role::Bob,
            Role::Bob => Role::Alice,
        }
    }
}

/// One party's Double Ratchet session.
///
/// `Debug` shows public values only. Secrets zeroize when the session drops.
#[derive(Clone)]
pub struct Session {
    pub(crate) suite: Suite,
    pub(crate) config: SessionConfig,
    /// Whose session this is: suites that order the associated data by
    /// direction (`signal-v3`) need it.
    pub(crate) role: Role,
    /// DHs: our current ratchet key pair.
    pub(crate) dhs: KeyPair,
    /// DHr: the peer's current ratchet public key.
    pub(crate) dhr: Option<PublicKey>,
    pub(crate) rk: RootKey,
    pub(crate) cks: Option<ChainKey>,
    pub(crate) ckr: Option<ChainKey>,
    pub(crate) ns: u32,
    pub(crate) nr: u32,
    pub(crate) pn: u32,
    pub(crate) skipped: SkippedKeys,
    /// Earlier values of DHr, newest last, to report replays from old chains as duplicates.
    pub(crate) previous_dhr: VecDeque<PublicKey>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("suite", &self.suite.name())
            .field("config", &self.config)
            .field("role", &self.role)
            .field("dhs", self.dhs.public_key())
            .field("dhr", &self.dhr)
            .field("ns", &self.ns)
            .field("nr", &self.nr)
            .field("pn", &self.pn)
            .field("skipped_keys", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

/// The part of a decryption that is committed once the tag verifies.
struct Pending {
    /// Keys to store in MKSKIPPED, in order.
    skipped: Vec<(PublicKey, u32, MessageKey)>,
    /// The receiving chain key after this message.
    ckr: ChainKey,
    nr: u32,
    /// Set when the header starts a new receiving chain: the root key after the
    /// receiving half of the DH ratchet.
    ratchet: Option<RootKey>,
}

impl Session {
    /// RatchetInitAlice(SK, bob_dh_public_key): draws Alice's first ratchet key
    /// pair from `rng` and derives the first sending chain.
    pub fn init_alice<R: CryptoRng + ?Sized>(
        suite: Suite,
        config: SessionConfig,
        sk: SharedKey,
        bob_ratchet_key: PublicKey,
        rng: &mut R,
    ) -> Result<Self> {
        Self::init_alice_with_key_pair(suite, config, sk, bob_ratchet_key, KeyPair::generate(rng))
    }

    /// RatchetInitAlice with Alice's first ratchet key pair given.
    pub fn init_alice_with_key_pair(
        suite: Suite,
        config: SessionConfig,
        sk: SharedKey,
        bob_ratchet_key: PublicKey,
        dhs: KeyPair,
    ) -> Result<Self> {
        config.validate()?;
        let dh_out = dhs.diffie_hellman(&bob_ratchet_key)?;
        let (rk, cks) = suite.kdf_rk(&RootKey::from(sk), &dh_out);
        Ok(Self {
            suite,
            config,
            role: Role::Alice,
            dhs,
            dhr: Some(bob_ratchet_key),
            rk,
            cks: Some(cks),
            ckr: None,
            ns: 0,
            nr: 0,
            pn: 0,
            skipped: SkippedKeys::default(),
            previous_dhr: VecDeque::new(),
        })
    }

    /// RatchetInitBob(SK, bob_dh_key_pair): Bob's ratchet key pair is his
    /// signed prekey; he has no chains until Alice's first message arrives.
    pub fn init_bob(
        suite: Suite,
        config: SessionConfig,
        sk: SharedKey,
        bob_ratchet_key_pair: KeyPair,
    ) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            suite,
            config,
            role: Role::Bob,
            dhs: bob_ratchet_key_pair,
            dhr: None,
            rk: RootKey::from(sk),
            cks: None,
            ckr: None,
            ns: 0,
            nr: 0,
            pn: 0,
            skipped: SkippedKeys::default(),
            previous_dhr: VecDeque::new(),
        })
    }

    /// The session's suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Whether this is Alice's or Bob's session.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The session's limits.
    pub fn config(&self) -> SessionConfig {
        self.config
    }

    /// Our current ratchet public key (DHs).
    pub fn ratchet_public_key(&self) -> &PublicKey {
        self.dhs.public_key()
    }

    /// The peer's current ratchet public key (DHr), once known.
    pub fn peer_ratchet_public_key(&self) -> Option<&PublicKey> {
        self.dhr.as_ref()
    }

    /// Whether [`Session::encrypt`] can be called (Bob cannot before he receives).
    pub fn can_send(&self) -> bool {
        self.cks.is_some()
    }

    /// (Ns, Nr, PN).
    pub fn counters(&self) -> (u32, u32, u32) {
        (self.ns, self.nr, self.pn)
    }

    /// The root key RK, for inspection (conformance's live key check; the
    /// serialized state holds it too).
    pub fn root_key(&self) -> &RootKey {
        &self.rk
    }

    /// The sending chain key CKs, once there is a sending chain.
    pub fn sending_chain_key(&self) -> Option<&ChainKey> {
        self.cks.as_ref()
    }

    /// The receiving chain key CKr, once there is a receiving chain.
    pub fn receiving_chain_key(&self) -> Option<&ChainKey> {
        self.ckr.as_ref()
    }

    /// How many skipped message keys are stored.
    pub fn skipped_key_count(&self) -> usize {
        self.skipped.len()
    }

    /// RatchetEncrypt(state, plaintext, AD): the whole wire message.
    pub fn encrypt(&mut self, plaintext: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        let cks = self.cks.as_ref().ok_or(Error::NoSendingChain)?;
        if self.ns == u32::MAX {
            return Err(Error::CounterExhausted);
        }
        let ad = self.suite.order_ad(ad, self.role)?;
        let (next_ck, mk) = self.suite.kdf_ck(cks);
        let header = Header {
            dh: *self.dhs.public_key(),
            pn: self.pn,
            n: self.ns,
        };
        let message = self.suite.seal(&mk, &header, plaintext, &ad)?;
        self.cks = Some(next_ck);
        self.ns += 1;
        Ok(message)
    }

    /// RatchetDecrypt(state, message, AD). On success the plaintext is returned
    /// and the state advanced; on any error the state is unchanged and no
    /// randomness was drawn. A DH ratchet step draws one new key pair (32 bytes)
    /// from `rng`.
    pub fn decrypt<R: CryptoRng + ?Sized>(
        &mut self,
        message: &[u8],
        ad: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let header = self.suite.parse_header(message)?;
        let ad = self.suite.order_ad(ad, self.role.peer())?;
        let ad = ad.as_ref();
        // Only with the `planted-bug` feature: a deliberate crash on one header
        // value, which the fuzzers must find (fuzz/README.md).
        #[cfg(feature = "planted-bug")]
        #[allow(clippy::panic)]
        if header.pn == 0x5eed_f00d {
            panic!("planted bug: header pn = 0x5eedf00d");
        }

        // TrySkippedMessageKeys: the key is deleted only once the tag verifies.
        if let Some(mk) = self.skipped.get(&header.dh, header.n) {
            let plaintext = self.suite.open(mk, message, ad)?;
            self.skipped.remove(&header.dh, header.n);
            return Ok(plaintext);
        }
        self.check_not_duplicate(&header)?;

        let attempt = self.plan_receive(&header).and_then(|planned| {
            let plaintext = self.suite.open(&planned.message_key, message, ad)?;
            Ok((planned, plaintext))
        });
        match attempt {
            Ok((planned, plaintext)) => {
                self.commit(&header, planned.state, rng)?;
                Ok(plaintext)
            }
            // A message under an earlier receiving ratchet key whose key is no
            // longer stored: the spec's algorithm refuses it too (it tries a DH
            // ratchet that cannot verify); it is reported as the replay it is.
            Err(Error::AuthenticationFailed) if self.previous_dhr.contains(&header.dh) => {
                Err(duplicate(&header))
            }
            Err(e) => Err(e),
        }
    }

    /// A message whose key can no longer be derived or found was already
    /// processed (or its key evicted): report it as a duplicate.
    ///
    /// On the current receiving chain, a number below Nr without a stored key
    /// can never verify (the spec would derive the key for Nr and fail), so
    /// this changes only the error reported.
    fn check_not_duplicate(&self, header: &Header) -> Result<()> {
        let on_current_chain = self.dhr == Some(header.dh) && self.ckr.is_some();
        if on_current_chain && header.n < self.nr {
            return Err(duplicate(header));
        }
        Ok(())
    }

    /// Computes, without changing `self`, everything a successful decryption
    /// of a message with `header` would commit.
    fn plan_receive(&self, header: &Header) -> Result<Planned> {
        if header.n == u32::MAX {
            return Err(Error::Malformed("message number 2^32 - 1 is never sent"));
        }
        let mut skipped = Vec::new();
        let (new_chain, nr, ratchet) = if self.dhr != Some(header.dh) {
            // SkipMessageKeys(state, header.pn) on the current chain; the bound
            // applies even when there is no receiving chain yet.
            self.check_skip(self.nr, header.pn)?;
            if let (Some(ckr), Some(dhr)) = (&self.ckr, &self.dhr) {
                self.skip_into(ckr, dhr, self.nr, header.pn, &mut skipped);
            }
            // The receiving half of DHRatchet.
            let dh_out = self.dhs.diffie_hellman(&header.dh)?;
            let (rk, ckr) = self.suite.kdf_rk(&self.rk, &dh_out);
            (Some(ckr), 0, Some(rk))
        } else {
            (None, self.nr, None)
        };
        // Same chain: the current receiving chain key, borrowed. Alice's
        // initial DHr (Bob's signed prekey) has no receiving chain: Bob never
        // sends under it. The skip bound is still checked first, as the
        // spec's SkipMessageKeys does.
        let Some(chain) = new_chain.as_ref().or(self.ckr.as_ref()) else {
            self.check_skip(self.nr, header.n)?;
            return Err(Error::AuthenticationFailed);
        };
        self.check_skip(nr, header.n)?;
        let skipped_to = self.skip_into(chain, &header.dh, nr, header.n, &mut skipped);
        let (next_ckr, mk) = self.suite.kdf_ck(skipped_to.as_ref().unwrap_or(chain));
        Ok(Planned {
            message_key: mk,
            state: Pending {
                skipped,
                ckr: next_ckr,
                nr: header.n + 1,
                ratchet,
            },
        })
    }

    /// SkipMessageKeys' bound: `Nr + MAX_SKIP < until` is an error.
    fn check_skip(&self, nr: u32, until: u32) -> Result<()> {
        if u64::from(nr) + u64::from(self.config.max_skip) < u64::from(until) {
            return Err(Error::TooManySkipped {
                from: nr,
                until,
                limit: self.config.max_skip,
            });
        }
        Ok(())
    }

    /// Derives the keys for messages `from..until` of a chain whose key for
    /// message `from` is `ck` into `out`, returning the chain key for message
    /// `until`, or `None` when that is `ck` itself (nothing skipped).
    fn skip_into(
        &self,
        ck: &ChainKey,
        dh: &PublicKey,
        from: u32,
        until: u32,
        out: &mut Vec<(PublicKey, u32, MessageKey)>,
    ) -> Option<ChainKey> {
        // Reserved up front, so no secret is left behind in a buffer the
        // vector outgrew; capped, as MAX_SKIP may be configured very large.
        let count = usize::try_from(until.saturating_sub(from)).unwrap_or(0);
        out.reserve(count.min(MAX_SKIP_RESERVE));
        let mut next: Option<ChainKey> = None;
        for n in from..until {
            let (following, mk) = self.suite.kdf_ck(next.as_ref().unwrap_or(ck));
            out.push((*dh, n, mk));
            next = Some(following);
        }
        next
    }

    /// Applies a verified decryption. The sending half of a DH ratchet step
    /// draws the new key pair here, after authentication.
    fn commit<R: CryptoRng + ?Sized>(
        &mut self,
        header: &Header,
        pending: Pending,
        rng: &mut R,
    ) -> Result<()> {
        let Pending {
            skipped,
            ckr,
            nr,
            ratchet,
        } = pending;
        let mut sending = None;
        if let Some(rk) = &ratchet {
            let dhs = KeyPair::generate(rng);
            let dh_out = dhs.diffie_hellman(&header.dh)?;
            let (rk, cks) = self.suite.kdf_rk(rk, &dh_out);
            sending = Some((dhs, rk, cks));
        }
        // Nothing below can fail.
        let cap = self.config.cap();
        for (dh, n, mk) in skipped {
            self.skipped.insert(dh, n, mk, cap);
        }
        if let Some((dhs, rk, cks)) = sending {
            if let Some(old) = self.dhr.replace(header.dh) {
                if self.previous_dhr.len() == MAX_PREVIOUS_RECEIVING_KEYS {
                    self.previous_dhr.pop_front();
                }
                self.previous_dhr.push_back(old);
            }
            self.pn = self.ns;
            self.ns = 0;
            self.dhs = dhs;
            self.rk = rk;
            self.cks = Some(cks);
        }
        self.ckr = Some(ckr);
        self.nr = nr;
        Ok(())
    }
}

fn duplicate(header: &Header) -> Error {
    Error::DuplicateMessage {
        ratchet_key_prefix: header
            .dh
            .as_bytes()
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect(),
        n: header.n,
    }
}

/// The most skipped keys reserved at once before a skip loop.
const MAX_SKIP_RESERVE: usize = 1 << 16;

/// The message key a header selects, and the state to commit if it verifies.
struct Planned {
    message_key: MessageKey,
    state: Pending,
}
