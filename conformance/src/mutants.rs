//! Known-bug mutants: an independent Double Ratchet with switches for the bug
//! classes real implementations have shipped.
//!
//! A conformance suite proves nothing until it is shown to fail something.
//! [`Mutant`] is a second, spec-following implementation of the Double Ratchet
//! (spec §3), written from the protocol crate's public primitives only — the
//! suite's `kdf_rk`, `kdf_ck`, `seal`, `parse_header`, `open` and the key
//! types — behind the same [`Implementation`] trait as the reference. With no
//! [`Bug`] switched on it must be indistinguishable from the reference (same
//! wire bytes, same verdicts, same error classes; a test checks this on model
//! runs). Each [`Bug`] is one small, marked deviation (search for `Bug::`),
//! taken from `REFERENCE.md` "Known bug classes" and issue 9. The reference
//! build is never touched.
//!
//! Two classes live partly outside a session and have their own hooks:
//! `Bug::OneTimePrekeyNotDeleted` and `Bug::OneTimePrekeyDeletedBeforeDecrypt`
//! act in Bob's prekey store ([`Implementation::x3dh_accept`]), and
//! `Bug::RestoredStateReusesMessageKey` in the copy of a session that
//! [`Implementation::clone_session`] exports and re-imports.

mod variants;

pub use variants::Variant;
mod x3dh;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use hkdf::Hkdf;
use ratchetproof_protocol::consts::{
    DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS, MAX_PREVIOUS_RECEIVING_KEYS,
};
use ratchetproof_protocol::suite::{INFO_ROOT, MESSAGE_VERSION};
use ratchetproof_protocol::{
    ChainKey, CipherSuite, DEFAULT_SUITE, DhOutput, Error, Header, KeyPair, MessageKey, PrivateKey,
    PublicKey, RootKey, SharedKey, Suite,
};

use crate::implementation::ErrorClass;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::implementation::{
    Capabilities, ImplError, ImplResult, Implementation, Operation, Role, SessionHandle,
    SessionInit, X3dhAccept, X3dhAccepted, X3dhInitiate, X3dhOutput, X3dhRespond,
};
use crate::model::Subject;
use crate::reference::{
    KeyQueueRng, bundle_from_request, check_rng, key_pair, key_queue, public, suite_named,
};

/// `Bug::NoSkipBound` still stops here, so the harness itself stays bounded.
const NO_BOUND_GUARD: u64 = 1 << 16;

/// A known bug class. Each variant documents the deviation and what it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// The spec's pseudocode run without its transactional rule: the skip
    /// loop, the DH ratchet (including drawing the new key) and the chain step
    /// happen before the tag check and stay when it fails. A forged message
    /// can then desynchronise or exhaust a session.
    StateKeptOnFailedDecrypt,
    /// A skipped message key is deleted before its tag verifies: a forgery
    /// naming a skipped (ratchet key, n) destroys the genuine message's key.
    SkippedKeyDeletedBeforeVerify,
    /// A skipped message key is kept after it decrypted its message: the
    /// message can be replayed, and a later copy of the state reads it.
    UsedKeyNotDeleted,
    /// `SkipMessageKeys` has no bound: one header makes the receiver derive
    /// and store any number of keys.
    NoSkipBound,
    /// The bound is off by one: a jump of exactly `MAX_SKIP` is refused
    /// (`Nr + MAX_SKIP <= until` instead of `<`).
    SkipBoundOffByOne,
    /// The `pn` bound is only checked when a receiving chain exists, so the
    /// first message of a session can claim any `pn`.
    PnUnboundedWithoutReceivingChain,
    /// `KDF_CK` with its constants swapped: 0x02 gives the message key and
    /// 0x01 the next chain key.
    KdfCkConstantsSwapped,
    /// `KDF_RK` with salt and input keying material swapped.
    KdfRkSaltIkmSwapped,
    /// The header is left out of the AEAD associated data, so header fields
    /// can be altered undetected where they do not change the key.
    HeaderNotInAd,
    /// `CONCAT(ad, header)` without the length prefix that makes it parseable.
    AmbiguousAdConcat,
    /// No DH ratchet on receive: a new peer ratchet key only starts a new
    /// receiving chain; the party keeps its own ratchet key (it draws one only
    /// for its very first sending chain). The session never heals after a
    /// compromise (no post-compromise security).
    NoDhRatchetOnReceive,
    /// Old receiving chain keys are kept, so the key of a message already
    /// decrypted can be derived again: replays decrypt, and a copy of the
    /// state reads past messages (no forward secrecy).
    OldChainKeysKept,
    /// The AEAD nonce is fixed (all zero) instead of derived with the key.
    /// Harmless while every key encrypts once (spec §5.2 allows it), but not
    /// the suite's wire format.
    FixedNonce,
    /// The signed prekey's XEdDSA signature is not verified by the initiator.
    SignatureNotVerified,
    /// The session is saved only when it receives: encrypting does not update
    /// the stored copy (wire-webapp-cryptobox#11 made encryption save the
    /// session for this reason). A session restored from that copy — which
    /// is what `clone_session`, export and re-import, returns — is older than
    /// the one that sent, and seals new plaintexts under message keys (and
    /// nonces) it already used: (DHs, Ns) repeat.
    RestoredStateReusesMessageKey,
    /// Nonce reuse on re-encrypt: the sending chain key is not advanced (the
    /// new chain key is written to a copy), so every message of a sending
    /// chain is sealed under the chain's first message key and nonce, only
    /// the header counter changes.
    SendingChainKeyNotAdvanced,
    /// The responder keeps the one-time prekey after a successful first
    /// decryption (guardyn#246): a replayed initial message re-creates the
    /// session and its plaintext is delivered again, and DH4 no longer gives
    /// that session forward secrecy.
    OneTimePrekeyNotDeleted,
    /// The responder deletes the one-time prekey before the first message
    /// authenticates: a forged initial message naming it destroys it, and
    /// Alice's genuine one is then refused.
    OneTimePrekeyDeletedBeforeDecrypt,
    /// No cap on the number of stored skipped keys (status-im/doubleratchet#6,
    /// microsoft/agent-governance-toolkit#2184): a peer that keeps skipping
    /// messages across DH ratchet steps grows the store without bound.
    NoStoredKeyCap,
    /// The stored-key cap refuses new messages instead of evicting the oldest
    /// keys (status-im/doubleratchet#6 before the fix): once enough messages
    /// were lost, the session stops decrypting.
    FullStoreRefusesMessages,
    /// The keys of the previous receiving chain up to the header's PN are not
    /// stored on a DH ratchet step (the `SkipMessageKeys(header.pn)` of the
    /// spec missing; libsignal-protocol-java#54 asks about it): a late message
    /// of an earlier chain can no longer be decrypted.
    PreviousChainKeysNotStored,
    /// Every used message key and every superseded chain key stays in the
    /// session state (e.g. a cache of "keys already used" for replay
    /// detection). Replays are still refused by bookkeeping, so every
    /// behaviour matches; only the exported state shows the keys forward
    /// secrecy says are gone (the key-erasure check, flag `KeyErasure`).
    UsedKeysRetainedInState,
    // Session-level classes added for issue 13: each changes what a path
    // other than the plain in-order one leaves behind, so it shows only when
    // the conversation goes on after that path.
    /// Decrypting with a stored skipped key also runs the normal path's tail
    /// `Nr = header.n + 1`: after a late message the receiving counter no
    /// longer matches the chain key, and the chain's next message derives
    /// the wrong key (the conversation on that chain breaks for good).
    StoredKeyDecryptSetsNr,
    /// Decrypting with a stored skipped key also steps the current receiving
    /// chain (`CKr, _ = KDF_CK(CKr)`, `Nr += 1`), as if the message had come
    /// through the normal path: the next genuine message on the current
    /// chain is refused as a duplicate.
    StoredKeyDecryptAdvancesChain,
    /// Decrypting with a stored skipped key writes `DHr = header.dh`: a late
    /// message of an earlier chain makes that chain current again, and the
    /// next message of the real current chain triggers a spurious DH ratchet
    /// that never authenticates.
    StoredKeyDecryptSetsDhr,
    /// Decrypting with a stored skipped key deletes every key stored under
    /// the same ratchet key (a "chain done" clean-up): the chain's other late
    /// messages are refused.
    StoredKeyDecryptDropsChainKeys,
    /// The skipped-key lookup matches the counter only, not the ratchet key:
    /// a message whose n equals a stored key's n on another chain is opened
    /// with that wrong key and refused.
    SkippedLookupIgnoresRatchetKey,
    /// After a skip, the receiving counter restarts (guardyn#198: the skip
    /// loop ends with `Nr = 0` and the decrypt adds one): the next message
    /// re-enters the skip loop and walks the chain past its key.
    NrResetAfterSkip,
    /// `Nr` is not reset on a DH ratchet step: the new chain's skip loop
    /// starts at the old chain's counter, so a new chain whose first
    /// delivered message is not message 0 derives mislabelled keys.
    NrNotResetOnRatchet,
    /// `Ns = 0` is written before `PN = Ns`, so every header says `PN = 0`:
    /// the receiver never stores keys for the tail of the previous chain.
    PnAlwaysZero,
    /// On each DH ratchet step only the closing chain's skipped keys are
    /// kept (status-im/status-go#1261's `maxKeep` ratchet steps, with
    /// `maxKeep = 1`): late messages two chains back are refused.
    OlderChainKeysDroppedOnRatchet,
    /// A full store evicts its newest key instead of its oldest (SPEC.md
    /// §8.2): long-lost keys stay, recent late messages are refused.
    EvictionNewestFirst,
    /// The stored-key cap counts the keys of one receiving chain only
    /// (microsoft/agent-governance-toolkit#2184, libsignal's per-chain
    /// limit): a peer that skips a few messages on every chain grows the
    /// store without bound.
    StoredKeyCapPerChain,
    /// The stored-key cap is off by one: `MAX_STORED + 1` keys are kept.
    StoredKeyCapOffByOne,
    /// A full store is emptied instead of losing its oldest key: every
    /// stored late message is refused at once.
    StoreClearedWhenFull,
    /// When the store is full, every key of the oldest chain is evicted at
    /// once (chain-granular eviction, as in implementations that keep a
    /// fixed number of receiving chains): kept keys of that chain are lost.
    EvictionDropsOldestChainWhole,
    /// A refused replay deletes every key stored under its ratchet key
    /// (awslabs/mls-rs#228: a ciphertext received twice deleted the whole
    /// ratchet): the chain's genuine late messages are then refused.
    ReplayDropsChainKeys,
    /// The newest message key of the receiving chain is kept for
    /// "retransmission": a replay of the last decrypted message is accepted.
    NewestMessageKeyKept,
    /// Export and re-import (`clone_session`) loses the skipped-key store:
    /// a restored session refuses every late message.
    CloneLosesSkippedKeys,
    /// The PN bound ignores what was received of the previous chain
    /// (`MAX_SKIP < header.pn` instead of `Nr + MAX_SKIP < header.pn`): a new
    /// chain after a long, fully delivered one is refused.
    PnBoundIgnoresNr,
    /// Skipped keys derived from a header that then fails authentication
    /// stay stored (the rest of the state is rolled back; guardyn#106,
    /// consequence 2): forged headers with fresh ratchet keys fill the store
    /// and evict genuine keys.
    ForgedHeaderPlantsSkippedKeys,
    /// `n = 2^32 − 1` is not refused as malformed (SPEC.md §5.6); the mutant
    /// then refuses it through the skip bound instead, so only the error
    /// class differs.
    CounterMaxAccepted,
    /// XEdDSA without the `s < 2^253` bound (SPEC §7.2 step 2): `s` is only
    /// reduced mod q, so `s + q` verifies too — a malleable signature.
    XeddsaSBoundNotChecked,
    /// XEdDSA as the spec's pseudocode alone, without libsignal's sign-bit
    /// convention (SPEC §7.3): the Edwards key always has sign 0, so the
    /// signatures python-axolotl and libsignal-node make are refused.
    XeddsaSignBitIgnored,
    /// The identity key is reduced mod p (bit 255 masked) before the
    /// Montgomery-to-Edwards conversion, as X25519 does, instead of refusing
    /// u ≥ p (SPEC §7.2 step 3): several byte strings verify as one key.
    XeddsaNonCanonicalKeyAccepted,
    /// u = p − 1 is not refused (SPEC §7.2 step 4); the conversion divides by
    /// zero with `inv(0) = 0` and lands on a point of order 4, for which
    /// anyone can forge signatures.
    XeddsaKeyMinusOneAccepted,
    /// R is decoded and compared as a point instead of byte for byte with
    /// `encode(sB − hA)` (SPEC §7.2 step 6): non-canonical encodings of R
    /// verify, another malleability.
    XeddsaRComparedAsPoint,
    /// X3DH leaves DH4 out of the KDF input when a one-time prekey is used
    /// (SPEC §6.2 step 4): the one-time prekey adds nothing.
    X3dhDh4Omitted,
    /// X3DH's KDF input lacks the `F = 0xFF×32` prefix (SPEC §6.2 step 4),
    /// which keeps its inputs apart from XEdDSA's.
    X3dhFPrefixMissing,
    /// The X3DH associated data puts Bob's identity first (SPEC §6.3 says
    /// Alice's key first on both sides).
    X3dhAdOrderSwapped,
    /// `Encode(PK)` without the curve-type byte in the associated data: two
    /// 32-byte keys, 64 bytes (SPEC §2.3, §6.3).
    X3dhEncodeWithoutTypeByte,
    /// The responder ignores the signed-prekey id of an initial message and
    /// uses its current signed prekey (SPEC §6.5 step 1: an unknown id is
    /// `UnknownPreKey`): a message announcing a retired or unknown id is taken.
    SignedPrekeyIdIgnored,
}

impl Bug {
    /// Every bug class, in a stable order.
    pub const ALL: [Bug; 52] = [
        Bug::StateKeptOnFailedDecrypt,
        Bug::SkippedKeyDeletedBeforeVerify,
        Bug::UsedKeyNotDeleted,
        Bug::NoSkipBound,
        Bug::SkipBoundOffByOne,
        Bug::PnUnboundedWithoutReceivingChain,
        Bug::KdfCkConstantsSwapped,
        Bug::KdfRkSaltIkmSwapped,
        Bug::HeaderNotInAd,
        Bug::AmbiguousAdConcat,
        Bug::NoDhRatchetOnReceive,
        Bug::OldChainKeysKept,
        Bug::FixedNonce,
        Bug::SignatureNotVerified,
        Bug::RestoredStateReusesMessageKey,
        Bug::SendingChainKeyNotAdvanced,
        Bug::OneTimePrekeyNotDeleted,
        Bug::OneTimePrekeyDeletedBeforeDecrypt,
        Bug::NoStoredKeyCap,
        Bug::FullStoreRefusesMessages,
        Bug::PreviousChainKeysNotStored,
        Bug::UsedKeysRetainedInState,
        // Issue 13, session-level (helper E1).
        Bug::StoredKeyDecryptSetsNr,
        Bug::StoredKeyDecryptAdvancesChain,
        Bug::StoredKeyDecryptSetsDhr,
        Bug::StoredKeyDecryptDropsChainKeys,
        Bug::SkippedLookupIgnoresRatchetKey,
        Bug::NrResetAfterSkip,
        Bug::NrNotResetOnRatchet,
        Bug::PnAlwaysZero,
        Bug::OlderChainKeysDroppedOnRatchet,
        Bug::EvictionNewestFirst,
        Bug::StoredKeyCapPerChain,
        Bug::StoredKeyCapOffByOne,
        Bug::StoreClearedWhenFull,
        Bug::EvictionDropsOldestChainWhole,
        Bug::ReplayDropsChainKeys,
        Bug::NewestMessageKeyKept,
        Bug::CloneLosesSkippedKeys,
        Bug::PnBoundIgnoresNr,
        Bug::ForgedHeaderPlantsSkippedKeys,
        Bug::CounterMaxAccepted,
        Bug::XeddsaSBoundNotChecked,
        Bug::XeddsaSignBitIgnored,
        Bug::XeddsaNonCanonicalKeyAccepted,
        Bug::XeddsaKeyMinusOneAccepted,
        Bug::XeddsaRComparedAsPoint,
        Bug::X3dhDh4Omitted,
        Bug::X3dhFPrefixMissing,
        Bug::X3dhAdOrderSwapped,
        Bug::X3dhEncodeWithoutTypeByte,
        Bug::SignedPrekeyIdIgnored,
    ];

    /// The bug with this [`Bug::name`].
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }

    /// One line on what the bug does, for tables.
    pub fn summary(self) -> &'static str {
        match self {
            Bug::StateKeptOnFailedDecrypt => {
                "skip loop and DH ratchet run before the tag check and stay when it fails"
            }
            Bug::SkippedKeyDeletedBeforeVerify => {
                "a stored skipped key is deleted before its tag verifies"
            }
            Bug::UsedKeyNotDeleted => "a used skipped key is kept: replays decrypt",
            Bug::NoSkipBound => "SkipMessageKeys has no MAX_SKIP bound",
            Bug::SkipBoundOffByOne => "a jump of exactly MAX_SKIP is refused",
            Bug::PnUnboundedWithoutReceivingChain => {
                "PN is not bounded while there is no receiving chain"
            }
            Bug::KdfCkConstantsSwapped => {
                "KDF_CK uses 0x02 for the message key, 0x01 for the chain"
            }
            Bug::KdfRkSaltIkmSwapped => "KDF_RK with salt and input keying material swapped",
            Bug::HeaderNotInAd => "the header is left out of the AEAD associated data",
            Bug::AmbiguousAdConcat => "CONCAT(ad, header) without the length prefix",
            Bug::NoDhRatchetOnReceive => "no DH ratchet on receive: no post-compromise security",
            Bug::OldChainKeysKept => "old receiving chain keys are kept: no forward secrecy",
            Bug::FixedNonce => "the AEAD nonce is fixed instead of derived from the message key",
            Bug::SignatureNotVerified => "the signed prekey's signature is not verified",
            Bug::RestoredStateReusesMessageKey => {
                "the saved state lags behind sends: a restored copy re-uses (DHs, Ns)"
            }
            Bug::SendingChainKeyNotAdvanced => {
                "nonce reuse on re-encrypt: every message of a chain under one message key"
            }
            Bug::OneTimePrekeyNotDeleted => {
                "the one-time prekey is kept after use: a replayed initial message is accepted"
            }
            Bug::OneTimePrekeyDeletedBeforeDecrypt => {
                "the one-time prekey is deleted before the first message authenticates"
            }
            Bug::NoStoredKeyCap => "no cap on stored skipped keys",
            Bug::FullStoreRefusesMessages => "a full skipped-key store refuses instead of evicting",
            Bug::PreviousChainKeysNotStored => {
                "keys of the previous chain up to PN are not stored on a DH ratchet step"
            }
            Bug::UsedKeysRetainedInState => {
                "used message keys and superseded chain keys stay in the exported state"
            }
            Bug::StoredKeyDecryptSetsNr => "decrypting with a stored key also sets Nr = n + 1",
            Bug::StoredKeyDecryptAdvancesChain => {
                "decrypting with a stored key also steps CKr and Nr"
            }
            Bug::StoredKeyDecryptSetsDhr => {
                "decrypting with a stored key makes its chain current (DHr)"
            }
            Bug::StoredKeyDecryptDropsChainKeys => {
                "decrypting with a stored key deletes the chain's other stored keys"
            }
            Bug::SkippedLookupIgnoresRatchetKey => "the skipped-key lookup ignores the ratchet key",
            Bug::NrResetAfterSkip => "after a skip the receiving counter restarts at 1",
            Bug::NrNotResetOnRatchet => "Nr is not reset on a DH ratchet step",
            Bug::PnAlwaysZero => "Ns is reset before PN = Ns: every header says PN = 0",
            Bug::OlderChainKeysDroppedOnRatchet => {
                "a DH ratchet step keeps only the closing chain's stored keys"
            }
            Bug::EvictionNewestFirst => "a full store evicts its newest key, not its oldest",
            Bug::StoredKeyCapPerChain => "the stored-key cap is per chain, not per session",
            Bug::StoredKeyCapOffByOne => "the stored-key cap keeps MAX_STORED + 1 keys",
            Bug::StoreClearedWhenFull => "a full store is emptied instead of losing its oldest key",
            Bug::EvictionDropsOldestChainWhole => {
                "a full store evicts the oldest chain's keys all at once"
            }
            Bug::ReplayDropsChainKeys => "a refused replay deletes the keys stored for its chain",
            Bug::NewestMessageKeyKept => "the newest message key is kept: its replay decrypts",
            Bug::CloneLosesSkippedKeys => "export and re-import loses the skipped-key store",
            Bug::PnBoundIgnoresNr => "the PN bound ignores Nr (MAX_SKIP < pn)",
            Bug::ForgedHeaderPlantsSkippedKeys => "keys skipped for a forged header stay stored",
            Bug::CounterMaxAccepted => "n = 2^32 - 1 is not refused as malformed",
            Bug::XeddsaSBoundNotChecked => "XEdDSA accepts s >= 2^253 (s reduced mod q)",
            Bug::XeddsaSignBitIgnored => "XEdDSA ignores libsignal's sign bit in s",
            Bug::XeddsaNonCanonicalKeyAccepted => {
                "XEdDSA reduces a key u >= p instead of refusing it"
            }
            Bug::XeddsaKeyMinusOneAccepted => "XEdDSA accepts u = p - 1 (y = 0 via inv(0) = 0)",
            Bug::XeddsaRComparedAsPoint => "XEdDSA compares R as a point, not byte for byte",
            Bug::X3dhDh4Omitted => "X3DH leaves DH4 out when a one-time prekey is used",
            Bug::X3dhFPrefixMissing => "X3DH KDF input without the 0xFF x 32 prefix",
            Bug::X3dhAdOrderSwapped => "X3DH AD with Bob's identity first",
            Bug::X3dhEncodeWithoutTypeByte => "X3DH AD with bare 32-byte keys (no 0x05 type byte)",
            Bug::SignedPrekeyIdIgnored => "the responder ignores the signed-prekey id",
        }
    }

    /// A stable kebab-case name for tables and reports.
    pub fn name(self) -> &'static str {
        match self {
            Bug::StateKeptOnFailedDecrypt => "state-kept-on-failed-decrypt",
            Bug::SkippedKeyDeletedBeforeVerify => "skipped-key-deleted-before-verify",
            Bug::UsedKeyNotDeleted => "used-key-not-deleted",
            Bug::NoSkipBound => "no-skip-bound",
            Bug::SkipBoundOffByOne => "skip-bound-off-by-one",
            Bug::PnUnboundedWithoutReceivingChain => "pn-unbounded-without-receiving-chain",
            Bug::KdfCkConstantsSwapped => "kdf-ck-constants-swapped",
            Bug::KdfRkSaltIkmSwapped => "kdf-rk-salt-ikm-swapped",
            Bug::HeaderNotInAd => "header-not-in-ad",
            Bug::AmbiguousAdConcat => "ambiguous-ad-concat",
            Bug::NoDhRatchetOnReceive => "no-dh-ratchet-on-receive",
            Bug::OldChainKeysKept => "old-chain-keys-kept",
            Bug::FixedNonce => "fixed-nonce",
            Bug::SignatureNotVerified => "signature-not-verified",
            Bug::RestoredStateReusesMessageKey => "restored-state-reuses-message-key",
            Bug::SendingChainKeyNotAdvanced => "sending-chain-key-not-advanced",
            Bug::OneTimePrekeyNotDeleted => "one-time-prekey-not-deleted",
            Bug::OneTimePrekeyDeletedBeforeDecrypt => "one-time-prekey-deleted-before-decrypt",
            Bug::NoStoredKeyCap => "no-stored-key-cap",
            Bug::FullStoreRefusesMessages => "full-store-refuses-messages",
            Bug::PreviousChainKeysNotStored => "previous-chain-keys-not-stored",
            Bug::UsedKeysRetainedInState => "used-keys-retained-in-state",
            Bug::StoredKeyDecryptSetsNr => "stored-key-decrypt-sets-nr",
            Bug::StoredKeyDecryptAdvancesChain => "stored-key-decrypt-advances-chain",
            Bug::StoredKeyDecryptSetsDhr => "stored-key-decrypt-sets-dhr",
            Bug::StoredKeyDecryptDropsChainKeys => "stored-key-decrypt-drops-chain-keys",
            Bug::SkippedLookupIgnoresRatchetKey => "skipped-lookup-ignores-ratchet-key",
            Bug::NrResetAfterSkip => "nr-reset-after-skip",
            Bug::NrNotResetOnRatchet => "nr-not-reset-on-ratchet",
            Bug::PnAlwaysZero => "pn-always-zero",
            Bug::OlderChainKeysDroppedOnRatchet => "older-chain-keys-dropped-on-ratchet",
            Bug::EvictionNewestFirst => "eviction-newest-first",
            Bug::StoredKeyCapPerChain => "stored-key-cap-per-chain",
            Bug::StoredKeyCapOffByOne => "stored-key-cap-off-by-one",
            Bug::StoreClearedWhenFull => "store-cleared-when-full",
            Bug::EvictionDropsOldestChainWhole => "eviction-drops-oldest-chain-whole",
            Bug::ReplayDropsChainKeys => "replay-drops-chain-keys",
            Bug::NewestMessageKeyKept => "newest-message-key-kept",
            Bug::CloneLosesSkippedKeys => "clone-loses-skipped-keys",
            Bug::PnBoundIgnoresNr => "pn-bound-ignores-nr",
            Bug::ForgedHeaderPlantsSkippedKeys => "forged-header-plants-skipped-keys",
            Bug::CounterMaxAccepted => "counter-max-accepted",
            Bug::XeddsaSBoundNotChecked => "xeddsa-s-bound-not-checked",
            Bug::XeddsaSignBitIgnored => "xeddsa-sign-bit-ignored",
            Bug::XeddsaNonCanonicalKeyAccepted => "xeddsa-non-canonical-key-accepted",
            Bug::XeddsaKeyMinusOneAccepted => "xeddsa-key-minus-one-accepted",
            Bug::XeddsaRComparedAsPoint => "xeddsa-r-compared-as-point",
            Bug::X3dhDh4Omitted => "x3dh-dh4-omitted",
            Bug::X3dhFPrefixMissing => "x3dh-f-prefix-missing",
            Bug::X3dhAdOrderSwapped => "x3dh-ad-order-swapped",
            Bug::X3dhEncodeWithoutTypeByte => "x3dh-encode-without-type-byte",
            Bug::SignedPrekeyIdIgnored => "signed-prekey-id-ignored",
        }
    }
}

/// The independent implementation, with the bugs in `bugs` switched on.
#[derive(Debug, Default)]
pub struct Mutant {
    bugs: BTreeSet<Bug>,
    /// Legitimate variants switched on ([`Variant`]).
    variants: BTreeSet<Variant>,

    sessions: BTreeMap<u64, (State, KeyQueueRng)>,
    /// `Bug::RestoredStateReusesMessageKey`: the copy saved at the session's
    /// start and after every successful decryption, never after encryption.
    saved: BTreeMap<u64, State>,
    next_handle: u64,
}

impl Mutant {
    /// No bug: must behave exactly like the reference.
    pub fn faithful() -> Self {
        Self::default()
    }

    /// One bug.
    pub fn with(bug: Bug) -> Self {
        Self::with_bugs([bug])
    }

    /// Several bugs at once.
    pub fn with_bugs(bugs: impl IntoIterator<Item = Bug>) -> Self {
        Self {
            bugs: bugs.into_iter().collect(),
            ..Self::default()
        }
    }

    /// No bug, one legitimate variant: must pass every vector, strictly.
    pub fn variant(variant: Variant) -> Self {
        Self {
            variants: BTreeSet::from([variant]),
            ..Self::default()
        }
    }

    /// The bugs switched on.
    pub fn bugs(&self) -> &BTreeSet<Bug> {
        &self.bugs
    }

    fn get(&mut self, handle: SessionHandle) -> ImplResult<(&mut State, &mut KeyQueueRng, &Bugs)> {
        let bugs = &self.bugs;
        self.sessions
            .get_mut(&handle.0)
            .map(|(s, r)| (s, r, bugs))
            .ok_or_else(|| ImplError::new(ErrorClass::State, format!("no session {}", handle.0)))
    }

    fn add(&mut self, mut state: State, rng: KeyQueueRng) -> SessionHandle {
        state.variants.clone_from(&self.variants);
        let handle = self.next_handle;
        self.next_handle += 1;
        if self.bugs.contains(&Bug::RestoredStateReusesMessageKey) {
            self.saved.insert(handle, state.clone());
        }
        self.sessions.insert(handle, (state, rng));
        SessionHandle(handle)
    }
}

type Bugs = BTreeSet<Bug>;

/// One session: the spec's state variables, plus what the bugs need.
#[derive(Clone, Debug)]
struct State {
    suite: Suite,
    max_skip: u32,
    max_stored: usize,
    dhs: KeyPair,
    dhr: Option<PublicKey>,
    rk: RootKey,
    cks: Option<ChainKey>,
    ckr: Option<ChainKey>,
    ns: u32,
    nr: u32,
    pn: u32,
    /// MKSKIPPED, oldest first.
    skipped: Vec<(PublicKey, u32, MessageKey)>,
    /// Earlier DHr values, newest last, so replays from old chains are
    /// reported as duplicates (the harness's error classes).
    previous: VecDeque<PublicKey>,
    /// `Bug::OldChainKeysKept`: the first chain key of every receiving chain.
    chain_starts: Vec<(PublicKey, ChainKey)>,
    /// `Bug::UsedKeysRetainedInState`: used message keys and superseded
    /// chain keys.
    retained: Vec<Zeroizing<[u8; 32]>>,
    /// Legitimate variants in force.
    variants: BTreeSet<Variant>,
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
    fn new(suite: Suite, max_skip: u32, max_stored: u32, sk: SharedKey, dhs: KeyPair) -> Self {
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

    fn has(&self, variant: Variant) -> bool {
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
    fn export(&self) -> Vec<u8> {
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

    fn kdf_rk(&self, bugs: &Bugs, rk: &RootKey, dh: &DhOutput) -> (RootKey, ChainKey) {
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
    fn encrypt(
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
    fn decrypt(
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

/// `Bug::KdfCkConstantsSwapped`: HMAC(ck, 0x01) becomes the chain key and
/// HMAC(ck, 0x02) the message key.
fn swap_chain_outputs(next: ChainKey, mk: MessageKey) -> (ChainKey, MessageKey) {
    (
        ChainKey::from_bytes(*mk.as_bytes()),
        MessageKey::from_bytes(*next.as_bytes()),
    )
}

/// `Bug::KdfRkSaltIkmSwapped`: HKDF(salt = dh_out, ikm = rk).
fn kdf_rk_swapped(rk: &RootKey, dh: &DhOutput) -> (RootKey, ChainKey) {
    let mut okm = Zeroizing::new([0u8; 64]);
    // 64 bytes is far below HKDF-SHA256's limit, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(dh.as_bytes()), rk.as_bytes())
        .expand(INFO_ROOT, okm.as_mut_slice());
    let (root, chain) = okm.split_at(32);
    let mut r = [0u8; 32];
    let mut c = [0u8; 32];
    r.copy_from_slice(root);
    c.copy_from_slice(chain);
    (RootKey::from_bytes(r), ChainKey::from_bytes(c))
}

fn own_aead(bugs: &Bugs) -> bool {
    [Bug::HeaderNotInAd, Bug::AmbiguousAdConcat, Bug::FixedNonce]
        .iter()
        .any(|b| bugs.contains(b))
}

/// The associated data the AEAD covers, with the AD bugs applied.
fn aead_ad(bugs: &Bugs, ad: &[u8], version_and_header: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    if !bugs.contains(&Bug::AmbiguousAdConcat) {
        let len =
            u32::try_from(ad.len()).map_err(|_| Error::Malformed("associated data too long"))?;
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(ad);
    if !bugs.contains(&Bug::HeaderNotInAd) {
        out.extend_from_slice(version_and_header);
    }
    Ok(out)
}

/// The AES-256-GCM key and nonce for `mk`, with `Bug::FixedNonce` applied.
fn aead_keys(suite: Suite, bugs: &Bugs, mk: &MessageKey) -> Result<(Aes256Gcm, [u8; 12]), Error> {
    let keys = suite.message_keys(mk);
    let (key, nonce) = keys
        .split_at_checked(32)
        .ok_or(Error::InvalidKey("message keys too short"))?;
    let cipher =
        Aes256Gcm::new_from_slice(key).map_err(|_| Error::InvalidKey("AES-256 key length"))?;
    let mut n = [0u8; 12];
    if !bugs.contains(&Bug::FixedNonce) {
        n.copy_from_slice(
            nonce
                .get(..12)
                .ok_or(Error::InvalidKey("nonce too short"))?,
        );
    }
    Ok((cipher, n))
}

fn seal_with_bugs(
    suite: Suite,
    bugs: &Bugs,
    mk: &MessageKey,
    header: &Header,
    pt: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut message = vec![MESSAGE_VERSION];
    message.extend_from_slice(&header.encode());
    let aad = aead_ad(bugs, ad, &message)?;
    let (cipher, nonce) = aead_keys(suite, bugs, mk)?;
    let nonce: &Nonce<Aes256Gcm> = (&nonce).into();
    let sealed = cipher
        .encrypt(nonce, Payload { msg: pt, aad: &aad })
        .map_err(|_| Error::Malformed("plaintext too long"))?;
    message.extend_from_slice(&sealed);
    Ok(message)
}

fn open_with_bugs(
    suite: Suite,
    bugs: &Bugs,
    mk: &MessageKey,
    message: &[u8],
    ad: &[u8],
) -> Result<Vec<u8>, Error> {
    suite.parse_header(message)?;
    let (prefix, body) = message
        .split_at_checked(41)
        .ok_or(Error::Malformed("truncated"))?;
    let aad = aead_ad(bugs, ad, prefix)?;
    let (cipher, nonce) = aead_keys(suite, bugs, mk)?;
    let nonce: &Nonce<Aes256Gcm> = (&nonce).into();
    cipher
        .decrypt(
            nonce,
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map_err(|_| Error::AuthenticationFailed)
}

/// Bob's prekeys for [`Implementation::x3dh_accept`].
#[derive(Default)]
struct PrekeyStore {
    signed: BTreeMap<u32, KeyPair>,
    one_time: BTreeMap<u32, KeyPair>,
    /// `Variant::PerSenderResponder`: (IKa, EKa) of accepted initial messages.
    accepted: BTreeSet<([u8; 32], [u8; 32])>,
}

/// Spec §6.5: X3DH from the initial message, RatchetInitBob, the first
/// decryption, and only then the one-time prekey's deletion (except under
/// the one-time-prekey bugs).
fn accept(
    bugs: &Bugs,
    variants: &BTreeSet<Variant>,
    suite: Suite,
    identity: &KeyPair,
    store: &mut PrekeyStore,
    message: &[u8],
    rng: &mut KeyQueueRng,
) -> ImplResult<X3dhAccepted> {
    let initial = suite.decode_initial(message)?;
    // Variant::PerSenderResponder: the session this initial message set up
    // exists already, and its first message key is used.
    let sender = (
        *initial.identity_key.as_bytes(),
        *initial.ephemeral_key.as_bytes(),
    );
    if variants.contains(&Variant::PerSenderResponder) && store.accepted.contains(&sender) {
        return Err(ImplError::new(
            ErrorClass::Duplicate,
            "an initial message this responder already accepted",
        ));
    }
    let spk_id = initial.signed_prekey_id;
    let spk = match store.signed.get(&spk_id) {
        Some(k) => k,
        // Bug::SignedPrekeyIdIgnored: the current signed prekey whatever the id.
        None if bugs.contains(&Bug::SignedPrekeyIdIgnored) => store
            .signed
            .values()
            .next_back()
            .ok_or(Error::UnknownPreKey {
                kind: "signed",
                id: spk_id,
            })?,
        None => {
            return Err(Error::UnknownPreKey {
                kind: "signed",
                id: spk_id,
            }
            .into());
        }
    };
    let opk = match initial.one_time_prekey_id {
        Some(id) => Some(
            store
                .one_time
                .get(&id)
                .cloned()
                .ok_or(Error::UnknownPreKey {
                    kind: "one-time",
                    id,
                })?,
        ),
        None => None,
    };
    let dh = x3dh::responder_dh(
        identity,
        spk,
        opk.as_ref(),
        &initial.identity_key,
        &initial.ephemeral_key,
    )?;
    let (shared_key, associated_data) =
        x3dh::agree(bugs, &dh, &initial.identity_key, identity.public_key());
    let mut state = State::new(
        suite,
        DEFAULT_MAX_SKIP,
        DEFAULT_MAX_STORED_SKIPPED_KEYS,
        shared_key,
        spk.clone(),
    );
    state.variants.clone_from(variants);
    if bugs.contains(&Bug::OneTimePrekeyDeletedBeforeDecrypt)
        && let Some(id) = initial.one_time_prekey_id
    {
        store.one_time.remove(&id);
    }
    let queue = rng.clone();
    let plaintext = match state.decrypt(bugs, &initial.message, &associated_data, rng) {
        Ok(p) => p,
        Err(e) => {
            if variants.contains(&Variant::KeyGenerationBeforeMac) {
                *rng = queue;
            }
            return Err(e.into());
        }
    };
    check_rng(rng)?;
    store.accepted.insert(sender);
    if !bugs.contains(&Bug::OneTimePrekeyNotDeleted)
        && let Some(id) = initial.one_time_prekey_id
    {
        store.one_time.remove(&id);
    }
    Ok(X3dhAccepted {
        plaintext,
        associated_data,
        peer_identity_key: initial.identity_key.as_bytes().to_vec(),
    })
}

/// A 32-byte input as a plain array (the reference's helper zeroizes it).
fn key32(bytes: &[u8], what: &str) -> ImplResult<[u8; 32]> {
    Ok(*crate::reference::key32(bytes, what)?)
}

impl Implementation for Mutant {
    fn capabilities(&self) -> Capabilities {
        let bugs: Vec<_> = self
            .bugs
            .iter()
            .map(|b| b.name())
            .chain(self.variants.iter().map(|v| v.name()))
            .collect();
        Capabilities {
            name: format!("ratchetproof-mutant[{}]", bugs.join(",")),
            version: env!("CARGO_PKG_VERSION").into(),
            // Written from SPEC.md, the default suite only: signal-v3's
            // direction-dependent MAC input is not modelled here.
            suites: vec![DEFAULT_SUITE.name().to_string()],
            operations: [
                Operation::Primitives,
                Operation::X3dh,
                Operation::Session,
                Operation::Clone,
                Operation::X3dhAccept,
                Operation::Export,
            ]
            .into(),
            max_skip: Some(DEFAULT_MAX_SKIP),
            max_stored_skipped_keys: Some(DEFAULT_MAX_STORED_SKIPPED_KEYS),
            configurable_limits: true,
            injected_randomness: true,
        }
    }

    fn kdf_rk(&mut self, suite: &str, rk: &[u8], dh_out: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        let suite = suite_named(suite)?;
        let rk = RootKey::from_bytes(key32(rk, "root key")?);
        let dh = DhOutput::from_bytes(key32(dh_out, "DH output")?);
        let (rk, ck) = if self.bugs.contains(&Bug::KdfRkSaltIkmSwapped) {
            kdf_rk_swapped(&rk, &dh)
        } else {
            suite.kdf_rk(&rk, &dh)
        };
        Ok((rk.as_bytes().to_vec(), ck.as_bytes().to_vec()))
    }

    fn kdf_ck(&mut self, suite: &str, ck: &[u8]) -> ImplResult<(Vec<u8>, Vec<u8>)> {
        let suite = suite_named(suite)?;
        let (next, mk) = suite.kdf_ck(&ChainKey::from_bytes(key32(ck, "chain key")?));
        let (next, mk) = if self.bugs.contains(&Bug::KdfCkConstantsSwapped) {
            swap_chain_outputs(next, mk)
        } else {
            (next, mk)
        };
        Ok((next.as_bytes().to_vec(), mk.as_bytes().to_vec()))
    }

    fn message_keys(&mut self, suite: &str, mk: &[u8]) -> ImplResult<Vec<u8>> {
        let suite = suite_named(suite)?;
        let mut keys = suite
            .message_keys(&MessageKey::from_bytes(key32(mk, "message key")?))
            .to_vec();
        if self.bugs.contains(&Bug::FixedNonce) {
            keys.iter_mut().skip(32).for_each(|b| *b = 0);
        }
        Ok(keys)
    }

    fn seal(
        &mut self,
        suite: &str,
        mk: &[u8],
        ratchet_key: &[u8],
        pn: u32,
        n: u32,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let suite = suite_named(suite)?;
        let mk = MessageKey::from_bytes(key32(mk, "message key")?);
        let header = Header {
            dh: public(ratchet_key, "ratchet public key")?,
            pn,
            n,
        };
        if own_aead(&self.bugs) {
            return Ok(seal_with_bugs(
                suite, &self.bugs, &mk, &header, plaintext, ad,
            )?);
        }
        Ok(suite.seal(&mk, &header, plaintext, ad)?)
    }

    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        let suite = suite_named(&request.suite)?;
        // Variant::SignatureCheckedFirst: a key or signature of the wrong
        // length cannot verify, and the signature is checked first.
        if self.variants.contains(&Variant::SignatureCheckedFirst)
            && !self.bugs.contains(&Bug::SignatureNotVerified)
            && (request.peer_identity_key.len() != 32
                || request.peer_signed_prekey.len() != 32
                || request.peer_signed_prekey_signature.len() != 64)
        {
            return Err(ImplError::new(
                ErrorClass::Authentication,
                "the signed prekey's signature does not verify",
            ));
        }
        let bundle = bundle_from_request(request)?;
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let ephemeral = key_pair(&request.ephemeral_private_key, "ephemeral private key")?;
        if !self.bugs.contains(&Bug::SignatureNotVerified) {
            x3dh::verify_bundle(
                &self.bugs,
                &bundle.identity_key,
                &bundle.signed_prekey,
                &request.peer_signed_prekey_signature,
            )?;
        }
        let dh = x3dh::initiator_dh(
            &identity,
            &ephemeral,
            &bundle.identity_key,
            &bundle.signed_prekey,
            bundle.one_time_prekey.as_ref().map(|(_, k)| k),
        )?;
        let (shared_key, associated_data) =
            x3dh::agree(&self.bugs, &dh, identity.public_key(), &bundle.identity_key);
        let _ = suite;
        Ok(X3dhOutput {
            shared_key: shared_key.as_bytes().to_vec(),
            associated_data,
        })
    }

    fn x3dh_respond(&mut self, request: &X3dhRespond) -> ImplResult<X3dhOutput> {
        let suite = suite_named(&request.suite)?;
        let opk = match &request.one_time_prekey_private_key {
            Some(k) => Some(key_pair(k, "one-time prekey private key")?),
            None => None,
        };
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let alice = public(&request.peer_identity_key, "peer identity key")?;
        let dh = x3dh::responder_dh(
            &identity,
            &key_pair(
                &request.signed_prekey_private_key,
                "signed prekey private key",
            )?,
            opk.as_ref(),
            &alice,
            &public(&request.peer_ephemeral_key, "peer ephemeral key")?,
        )?;
        let (shared_key, associated_data) =
            x3dh::agree(&self.bugs, &dh, &alice, identity.public_key());
        let _ = suite;
        Ok(X3dhOutput {
            shared_key: shared_key.as_bytes().to_vec(),
            associated_data,
        })
    }

    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<Vec<ImplResult<X3dhAccepted>>> {
        let suite = suite_named(&request.suite)?;
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let mut store = PrekeyStore::default();
        for (id, key) in &request.signed_prekeys {
            store
                .signed
                .insert(*id, key_pair(key, "signed prekey private key")?);
        }
        for (id, key) in &request.one_time_prekeys {
            store
                .one_time
                .insert(*id, key_pair(key, "one-time prekey private key")?);
        }
        let mut rng = key_queue(&request.ratchet_private_keys)?;
        Ok(request
            .initial_messages
            .iter()
            .map(|m| {
                accept(
                    &self.bugs,
                    &self.variants,
                    suite,
                    &identity,
                    &mut store,
                    m,
                    &mut rng,
                )
            })
            .collect())
    }

    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionHandle> {
        let suite = suite_named(&init.suite)?;
        let max_stored = init
            .max_stored_skipped_keys
            .unwrap_or(DEFAULT_MAX_STORED_SKIPPED_KEYS);
        if max_stored == 0 {
            return Err(ImplError::new(
                ErrorClass::State,
                "max_stored_skipped_keys must be at least 1",
            ));
        }
        let sk = SharedKey::from_bytes(key32(&init.shared_key, "shared key")?);
        let mut rng = key_queue(&init.ratchet_private_keys)?;
        let mut state = State::new(
            suite,
            init.max_skip.unwrap_or(DEFAULT_MAX_SKIP),
            max_stored,
            sk,
            KeyPair::from_private(PrivateKey::from_bytes([0; 32])),
        );
        match init.role {
            // RatchetInitAlice.
            Role::Alice => {
                let bob = public(&init.ratchet_key, "peer ratchet public key")?;
                state.dhs = KeyPair::generate(&mut rng);
                let dh_out = state.dhs.diffie_hellman(&bob)?;
                let (rk, cks) = state.kdf_rk(&self.bugs, &state.rk, &dh_out);
                state.rk = rk;
                state.cks = Some(cks);
                state.dhr = Some(bob);
            }
            // RatchetInitBob.
            Role::Bob => state.dhs = key_pair(&init.ratchet_key, "ratchet private key")?,
        }
        check_rng(&rng)?;
        Ok(self.add(state, rng))
    }

    fn encrypt(
        &mut self,
        session: SessionHandle,
        plaintext: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let (state, rng, bugs) = self.get(session)?;
        let message = state.encrypt(bugs, plaintext, ad, rng)?;
        check_rng(rng)?;
        Ok(message)
    }

    fn decrypt(
        &mut self,
        session: SessionHandle,
        message: &[u8],
        ad: &[u8],
    ) -> ImplResult<Vec<u8>> {
        let (state, rng, bugs) = self.get(session)?;
        // Variant::KeyGenerationBeforeMac: a failed decryption gives back the
        // key it drew (docs/SHIM.md §4.3).
        let queue = state
            .has(Variant::KeyGenerationBeforeMac)
            .then(|| rng.clone());
        let plaintext = match state.decrypt(bugs, message, ad, rng) {
            Ok(p) => p,
            Err(e) => {
                if let Some(queue) = queue {
                    *rng = queue;
                }
                return Err(e.into());
            }
        };
        check_rng(rng)?;
        if bugs.contains(&Bug::RestoredStateReusesMessageKey) {
            let copy = state.clone();
            self.saved.insert(session.0, copy);
        }
        Ok(plaintext)
    }

    fn clone_session(
        &mut self,
        session: SessionHandle,
        ratchet_private_keys: &[Vec<u8>],
    ) -> ImplResult<SessionHandle> {
        let (state, _, bugs) = self.get(session)?;
        let mut copy = state.clone();
        if bugs.contains(&Bug::CloneLosesSkippedKeys) {
            copy.skipped.clear();
        }
        if bugs.contains(&Bug::RestoredStateReusesMessageKey)
            && let Some(saved) = self.saved.get(&session.0)
        {
            copy = saved.clone();
        }
        let rng = key_queue(ratchet_private_keys)?;
        Ok(self.add(copy, rng))
    }

    fn export_state(&mut self, session: SessionHandle) -> ImplResult<Vec<u8>> {
        let (state, _, _) = self.get(session)?;
        Ok(state.export())
    }

    fn reset(&mut self) {
        self.sessions.clear();
        self.saved.clear();
    }
}

/// A mutant is a black box to the model, like a peer behind the shim.
impl Subject for Mutant {}
