//! The known-bug catalogue: one entry per mutant, in the order of the table
//! `ratchetproof mutants` prints. Each entry's doc comment says what the
//! deviation is and what it breaks (taken from `REFERENCE.md` "Known bug
//! classes", issues 9 and 13); its fields say where it acts and what must
//! catch it ([`super::Entry`]). Adding a mutant: one entry here, its
//! behaviour where its [`Area`] lives.

use super::catalogue::{Area, ByModel, ByVectors, Entry, MissedByModel, catalogue};

catalogue! {
    /// The spec's pseudocode run without its transactional rule: the skip
    /// loop, the DH ratchet (including drawing the new key) and the chain step
    /// happen before the tag check and stay when it fails. A forged message
    /// can then desynchronise or exhaust a session.
    StateKeptOnFailedDecrypt {
        name: "state-kept-on-failed-decrypt",
        summary: "skip loop and DH ratchet run before the tag check and stay when it fails",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// A skipped message key is deleted before its tag verifies: a forgery
    /// naming a skipped (ratchet key, n) destroys the genuine message's key.
    SkippedKeyDeletedBeforeVerify {
        name: "skipped-key-deleted-before-verify",
        summary: "a stored skipped key is deleted before its tag verifies",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// A skipped message key is kept after it decrypted its message: the
    /// message can be replayed, and a later copy of the state reads it.
    UsedKeyNotDeleted {
        name: "used-key-not-deleted",
        summary: "a used skipped key is kept: replays decrypt",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// `SkipMessageKeys` has no bound: one header makes the receiver derive
    /// and store any number of keys.
    NoSkipBound {
        name: "no-skip-bound",
        summary: "SkipMessageKeys has no MAX_SKIP bound",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The bound is off by one: a jump of exactly `MAX_SKIP` is refused
    /// (`Nr + MAX_SKIP <= until` instead of `<`).
    SkipBoundOffByOne {
        name: "skip-bound-off-by-one",
        summary: "a jump of exactly MAX_SKIP is refused",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The `pn` bound is only checked when a receiving chain exists, so the
    /// first message of a session can claim any `pn`.
    PnUnboundedWithoutReceivingChain {
        name: "pn-unbounded-without-receiving-chain",
        summary: "PN is not bounded while there is no receiving chain",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// `KDF_CK` with its constants swapped: 0x02 gives the message key and
    /// 0x01 the next chain key.
    KdfCkConstantsSwapped {
        name: "kdf-ck-constants-swapped",
        summary: "KDF_CK uses 0x02 for the message key, 0x01 for the chain",
        area: Area::Kdf,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// `KDF_RK` with salt and input keying material swapped.
    KdfRkSaltIkmSwapped {
        name: "kdf-rk-salt-ikm-swapped",
        summary: "KDF_RK with salt and input keying material swapped",
        area: Area::Kdf,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// The header is left out of the AEAD associated data, so header fields
    /// can be altered undetected where they do not change the key.
    HeaderNotInAd {
        name: "header-not-in-ad",
        summary: "the header is left out of the AEAD associated data",
        area: Area::Aead,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// `CONCAT(ad, header)` without the length prefix that makes it parseable.
    AmbiguousAdConcat {
        name: "ambiguous-ad-concat",
        summary: "CONCAT(ad, header) without the length prefix",
        area: Area::Aead,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// No DH ratchet on receive: a new peer ratchet key only starts a new
    /// receiving chain; the party keeps its own ratchet key (it draws one only
    /// for its very first sending chain). The session never heals after a
    /// compromise (no post-compromise security).
    NoDhRatchetOnReceive {
        name: "no-dh-ratchet-on-receive",
        summary: "no DH ratchet on receive: no post-compromise security",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Old receiving chain keys are kept, so the key of a message already
    /// decrypted can be derived again: replays decrypt, and a copy of the
    /// state reads past messages (no forward secrecy).
    OldChainKeysKept {
        name: "old-chain-keys-kept",
        summary: "old receiving chain keys are kept: no forward secrecy",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The AEAD nonce is fixed (all zero) instead of derived with the key.
    /// Harmless while every key encrypts once (spec §5.2 allows it), but not
    /// the suite's wire format.
    FixedNonce {
        name: "fixed-nonce",
        summary: "the AEAD nonce is fixed instead of derived from the message key",
        area: Area::Aead,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// The signed prekey's XEdDSA signature is not verified by the initiator.
    SignatureNotVerified {
        name: "signature-not-verified",
        summary: "the signed prekey's signature is not verified",
        area: Area::Xeddsa,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: Some("x3dh-agreement-and-signature"),
    }
    /// The session is saved only when it receives: encrypting does not update
    /// the stored copy (wire-webapp-cryptobox#11 made encryption save the
    /// session for this reason). A session restored from that copy — which
    /// is what `clone_session`, export and re-import, returns — is older than
    /// the one that sent, and seals new plaintexts under message keys (and
    /// nonces) it already used: (DHs, Ns) repeat.
    RestoredStateReusesMessageKey {
        name: "restored-state-reuses-message-key",
        summary: "the saved state lags behind sends: a restored copy re-uses (DHs, Ns)",
        area: Area::SavedState,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NeverRestores),
        property: Some("restored-session-continues"),
    }
    /// Nonce reuse on re-encrypt: the sending chain key is not advanced (the
    /// new chain key is written to a copy), so every message of a sending
    /// chain is sealed under the chain's first message key and nonce, only
    /// the header counter changes.
    SendingChainKeyNotAdvanced {
        name: "sending-chain-key-not-advanced",
        summary: "nonce reuse on re-encrypt: every message of a chain under one message key",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The responder keeps the one-time prekey after a successful first
    /// decryption (guardyn#246): a replayed initial message re-creates the
    /// session and its plaintext is delivered again, and DH4 no longer gives
    /// that session forward secrecy.
    OneTimePrekeyNotDeleted {
        name: "one-time-prekey-not-deleted",
        summary: "the one-time prekey is kept after use: a replayed initial message is accepted",
        area: Area::PrekeyStore,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoInitialMessages),
        property: Some("one-time-prekey-single-use"),
    }
    /// The responder deletes the one-time prekey before the first message
    /// authenticates: a forged initial message naming it destroys it, and
    /// Alice's genuine one is then refused.
    OneTimePrekeyDeletedBeforeDecrypt {
        name: "one-time-prekey-deleted-before-decrypt",
        summary: "the one-time prekey is deleted before the first message authenticates",
        area: Area::PrekeyStore,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoInitialMessages),
        property: None,
    }
    /// No cap on the number of stored skipped keys (status-im/doubleratchet#6,
    /// microsoft/agent-governance-toolkit#2184): a peer that keeps skipping
    /// messages across DH ratchet steps grows the store without bound.
    NoStoredKeyCap {
        name: "no-stored-key-cap",
        summary: "no cap on stored skipped keys",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BelowStoredKeyCap),
        property: None,
    }
    /// The stored-key cap refuses new messages instead of evicting the oldest
    /// keys (status-im/doubleratchet#6 before the fix): once enough messages
    /// were lost, the session stops decrypting.
    FullStoreRefusesMessages {
        name: "full-store-refuses-messages",
        summary: "a full skipped-key store refuses instead of evicting",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BelowStoredKeyCap),
        property: None,
    }
    /// The keys of the previous receiving chain up to the header's PN are not
    /// stored on a DH ratchet step (the `SkipMessageKeys(header.pn)` of the
    /// spec missing; libsignal-protocol-java#54 asks about it): a late message
    /// of an earlier chain can no longer be decrypted.
    PreviousChainKeysNotStored {
        name: "previous-chain-keys-not-stored",
        summary: "keys of the previous chain up to PN are not stored on a DH ratchet step",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Every used message key and every superseded chain key stays in the
    /// session state (e.g. a cache of "keys already used" for replay
    /// detection). Replays are still refused by bookkeeping, so every
    /// behaviour matches; only the exported state shows the keys forward
    /// secrecy says are gone (the key-erasure check, flag `KeyErasure`).
    UsedKeysRetainedInState {
        name: "used-keys-retained-in-state",
        summary: "used message keys and superseded chain keys stay in the exported state",
        area: Area::SavedState,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NeverExports),
        property: None,
    }
    // Session-level classes added for issue 13: each changes what a path
    // other than the plain in-order one leaves behind, so it shows only when
    // the conversation goes on after that path.
    /// Decrypting with a stored skipped key also runs the normal path's tail
    /// `Nr = header.n + 1`: after a late message the receiving counter no
    /// longer matches the chain key, and the chain's next message derives
    /// the wrong key (the conversation on that chain breaks for good).
    StoredKeyDecryptSetsNr {
        name: "stored-key-decrypt-sets-nr",
        summary: "decrypting with a stored key also sets Nr = n + 1",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Decrypting with a stored skipped key also steps the current receiving
    /// chain (`CKr, _ = KDF_CK(CKr)`, `Nr += 1`), as if the message had come
    /// through the normal path: the next genuine message on the current
    /// chain is refused as a duplicate.
    StoredKeyDecryptAdvancesChain {
        name: "stored-key-decrypt-advances-chain",
        summary: "decrypting with a stored key also steps CKr and Nr",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Decrypting with a stored skipped key writes `DHr = header.dh`: a late
    /// message of an earlier chain makes that chain current again, and the
    /// next message of the real current chain triggers a spurious DH ratchet
    /// that never authenticates.
    StoredKeyDecryptSetsDhr {
        name: "stored-key-decrypt-sets-dhr",
        summary: "decrypting with a stored key makes its chain current (DHr)",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Decrypting with a stored skipped key deletes every key stored under
    /// the same ratchet key (a "chain done" clean-up): the chain's other late
    /// messages are refused.
    StoredKeyDecryptDropsChainKeys {
        name: "stored-key-decrypt-drops-chain-keys",
        summary: "decrypting with a stored key deletes the chain's other stored keys",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The skipped-key lookup matches the counter only, not the ratchet key:
    /// a message whose n equals a stored key's n on another chain is opened
    /// with that wrong key and refused.
    SkippedLookupIgnoresRatchetKey {
        name: "skipped-lookup-ignores-ratchet-key",
        summary: "the skipped-key lookup ignores the ratchet key",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// After a skip, the receiving counter restarts (guardyn#198: the skip
    /// loop ends with `Nr = 0` and the decrypt adds one): the next message
    /// re-enters the skip loop and walks the chain past its key.
    NrResetAfterSkip {
        name: "nr-reset-after-skip",
        summary: "after a skip the receiving counter restarts at 1",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// `Nr` is not reset on a DH ratchet step: the new chain's skip loop
    /// starts at the old chain's counter, so a new chain whose first
    /// delivered message is not message 0 derives mislabelled keys.
    NrNotResetOnRatchet {
        name: "nr-not-reset-on-ratchet",
        summary: "Nr is not reset on a DH ratchet step",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// `Ns = 0` is written before `PN = Ns`, so every header says `PN = 0`:
    /// the receiver never stores keys for the tail of the previous chain.
    PnAlwaysZero {
        name: "pn-always-zero",
        summary: "Ns is reset before PN = Ns: every header says PN = 0",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// On each DH ratchet step only the closing chain's skipped keys are
    /// kept (status-im/status-go#1261's `maxKeep` ratchet steps, with
    /// `maxKeep = 1`): late messages two chains back are refused.
    OlderChainKeysDroppedOnRatchet {
        name: "older-chain-keys-dropped-on-ratchet",
        summary: "a DH ratchet step keeps only the closing chain's stored keys",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NeedsTwoStepDelay),
        property: None,
    }
    /// A full store evicts its newest key instead of its oldest (SPEC.md
    /// §8.2): long-lost keys stay, recent late messages are refused.
    EvictionNewestFirst {
        name: "eviction-newest-first",
        summary: "a full store evicts its newest key, not its oldest",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BelowStoredKeyCap),
        property: None,
    }
    /// The stored-key cap counts the keys of one receiving chain only
    /// (microsoft/agent-governance-toolkit#2184, libsignal's per-chain
    /// limit): a peer that skips a few messages on every chain grows the
    /// store without bound.
    StoredKeyCapPerChain {
        name: "stored-key-cap-per-chain",
        summary: "the stored-key cap is per chain, not per session",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BelowStoredKeyCap),
        property: None,
    }
    /// The stored-key cap is off by one: `MAX_STORED + 1` keys are kept.
    StoredKeyCapOffByOne {
        name: "stored-key-cap-off-by-one",
        summary: "the stored-key cap keeps MAX_STORED + 1 keys",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BelowStoredKeyCap),
        property: None,
    }
    /// A full store is emptied instead of losing its oldest key: every
    /// stored late message is refused at once.
    StoreClearedWhenFull {
        name: "store-cleared-when-full",
        summary: "a full store is emptied instead of losing its oldest key",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BelowStoredKeyCap),
        property: None,
    }
    /// When the store is full, every key of the oldest chain is evicted at
    /// once (chain-granular eviction, as in implementations that keep a
    /// fixed number of receiving chains): kept keys of that chain are lost.
    EvictionDropsOldestChainWhole {
        name: "eviction-drops-oldest-chain-whole",
        summary: "a full store evicts the oldest chain's keys all at once",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BelowStoredKeyCap),
        property: None,
    }
    /// A refused replay deletes every key stored under its ratchet key
    /// (awslabs/mls-rs#228: a ciphertext received twice deleted the whole
    /// ratchet): the chain's genuine late messages are then refused.
    ReplayDropsChainKeys {
        name: "replay-drops-chain-keys",
        summary: "a refused replay deletes the keys stored for its chain",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The newest message key of the receiving chain is kept for
    /// "retransmission": a replay of the last decrypted message is accepted.
    NewestMessageKeyKept {
        name: "newest-message-key-kept",
        summary: "the newest message key is kept: its replay decrypts",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Export and re-import (`clone_session`) loses the skipped-key store:
    /// a restored session refuses every late message.
    CloneLosesSkippedKeys {
        name: "clone-loses-skipped-keys",
        summary: "export and re-import loses the skipped-key store",
        area: Area::SavedState,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The PN bound ignores what was received of the previous chain
    /// (`MAX_SKIP < header.pn` instead of `Nr + MAX_SKIP < header.pn`): a new
    /// chain after a long, fully delivered one is refused.
    PnBoundIgnoresNr {
        name: "pn-bound-ignores-nr",
        summary: "the PN bound ignores Nr (MAX_SKIP < pn)",
        area: Area::Ratchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Skipped keys derived from a header that then fails authentication
    /// stay stored (the rest of the state is rolled back; guardyn#106,
    /// consequence 2): forged headers with fresh ratchet keys fill the store
    /// and evict genuine keys.
    ForgedHeaderPlantsSkippedKeys {
        name: "forged-header-plants-skipped-keys",
        summary: "keys skipped for a forged header stay stored",
        area: Area::SkippedKeys,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// `n = 2^32 − 1` is not refused as malformed (SPEC.md §5.6); the mutant
    /// then refuses it through the skip bound instead, so only the error
    /// class differs.
    CounterMaxAccepted {
        name: "counter-max-accepted",
        summary: "n = 2^32 - 1 is not refused as malformed",
        area: Area::Ratchet,
        vectors: ByVectors::StrictOnly(
            "refuses n = 2^32 - 1 through the skip bound (`too_many_skipped`) instead of as `malformed`: no MAX_SKIP a vector can use lets such a message through, so only the class shows",
        ),
        model: ByModel::Missed(MissedByModel::NoMaxCounter),
        property: None,
    }
    /// XEdDSA without the `s < 2^253` bound (SPEC §7.2 step 2): `s` is only
    /// reduced mod q, so `s + q` verifies too — a malleable signature.
    XeddsaSBoundNotChecked {
        name: "xeddsa-s-bound-not-checked",
        summary: "XEdDSA accepts s >= 2^253 (s reduced mod q)",
        area: Area::Xeddsa,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// The identity key is reduced mod p (bit 255 masked) before the
    /// Montgomery-to-Edwards conversion, as X25519 does, instead of refusing
    /// u ≥ p (SPEC §7.2 step 3): several byte strings verify as one key.
    XeddsaNonCanonicalKeyAccepted {
        name: "xeddsa-non-canonical-key-accepted",
        summary: "XEdDSA reduces a key u >= p instead of refusing it",
        area: Area::Xeddsa,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// u = p − 1 is not refused (SPEC §7.2 step 4); the conversion divides by
    /// zero with `inv(0) = 0` and lands on a point of order 4, for which
    /// anyone can forge signatures.
    XeddsaKeyMinusOneAccepted {
        name: "xeddsa-key-minus-one-accepted",
        summary: "XEdDSA accepts u = p - 1 (y = 0 via inv(0) = 0)",
        area: Area::Xeddsa,
        vectors: ByVectors::StrictOnly(
            "the u = p - 1 identity key is small-order: DH2 is all zero and refused as `invalid_key` after the forged signature was accepted, where the vector says `authentication`",
        ),
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// R is decoded and compared as a point instead of byte for byte with
    /// `encode(sB − hA)` (SPEC §7.2 step 6): non-canonical encodings of R
    /// verify, another malleability.
    XeddsaRComparedAsPoint {
        name: "xeddsa-r-compared-as-point",
        summary: "XEdDSA compares R as a point, not byte for byte",
        area: Area::Xeddsa,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// X3DH leaves DH4 out of the KDF input when a one-time prekey is used
    /// (SPEC §6.2 step 4): the one-time prekey adds nothing.
    X3dhDh4Omitted {
        name: "x3dh-dh4-omitted",
        summary: "X3DH leaves DH4 out when a one-time prekey is used",
        area: Area::X3dh,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// X3DH's KDF input lacks the `F = 0xFF×32` prefix (SPEC §6.2 step 4),
    /// which keeps its inputs apart from XEdDSA's.
    X3dhFPrefixMissing {
        name: "x3dh-f-prefix-missing",
        summary: "X3DH KDF input without the 0xFF x 32 prefix",
        area: Area::X3dh,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// The X3DH associated data puts Bob's identity first (SPEC §6.3 says
    /// Alice's key first on both sides).
    X3dhAdOrderSwapped {
        name: "x3dh-ad-order-swapped",
        summary: "X3DH AD with Bob's identity first",
        area: Area::X3dh,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// `Encode(PK)` without the curve-type byte in the associated data: two
    /// 32-byte keys, 64 bytes (SPEC §2.3, §6.3).
    X3dhEncodeWithoutTypeByte {
        name: "x3dh-encode-without-type-byte",
        summary: "X3DH AD with bare 32-byte keys (no 0x05 type byte)",
        area: Area::X3dh,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoKeyAgreement),
        property: None,
    }
    /// The responder ignores the signed-prekey id of an initial message and
    /// uses its current signed prekey (SPEC §6.5 step 1: an unknown id is
    /// `UnknownPreKey`): a message announcing a retired or unknown id is taken.
    SignedPrekeyIdIgnored {
        name: "signed-prekey-id-ignored",
        summary: "the responder ignores the signed-prekey id",
        area: Area::PrekeyStore,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::NoInitialMessages),
        property: None,
    }
    /// The Olm message tag is computed but never compared (docs/OLM-V1.md §4.1): any
    /// change to a keyed message's fields or ciphertext is accepted.
    OlmMacNotChecked {
        name: "olm-mac-not-checked",
        summary: "Olm: the truncated HMAC tag is never compared",
        area: Area::OlmMessage,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The tag is whatever follows the ciphertext field and is compared over
    /// its own length: a message with its tag cut to 7, 1 or 0 bytes verifies
    /// (§4.1 fixes 8 bytes).
    OlmShortMacAccepted {
        name: "olm-short-mac-accepted",
        summary: "Olm: a tag shorter than 8 bytes (even none) is compared over its own length",
        area: Area::OlmMessage,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Neither message kind's version byte is read (§4, §6: not `0x03` is
    /// `unsupported`); the pre-key envelope's byte has no MAC, so anyone on
    /// the path can change it (libolm's finding L1).
    OlmVersionUnchecked {
        name: "olm-version-unchecked",
        summary: "Olm: the version byte of neither message kind is read",
        area: Area::OlmMessage,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// A chain index of `2^32` or more is kept modulo `2^32` (libolm's
    /// `uint32_t`, finding L2) instead of being refused: a message claiming
    /// index `2^32` is opened with the key of index 0 (§4.1).
    OlmIndexModulo32 {
        name: "olm-index-modulo-2-32",
        summary: "Olm: a chain index of 2^32 or more is kept modulo 2^32 (libolm L2)",
        area: Area::OlmMessage,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::CraftedOlmMessage),
        property: None,
    }
    /// Only the last byte of the PKCS#7 padding is read, as a length (libolm,
    /// finding L4): a padding of `00`, or `01 02 03`, is accepted (§1: PKCS#7).
    OlmPaddingLastByte {
        name: "olm-padding-last-byte",
        summary: "Olm: only the last plaintext byte of the padding is read (libolm L4)",
        area: Area::OlmMessage,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::CraftedOlmMessage),
        property: None,
    }
    /// An empty ciphertext field decrypts to an empty plaintext (libolm,
    /// finding L5); PKCS#7 always yields at least one block.
    OlmEmptyCiphertextAccepted {
        name: "olm-empty-ciphertext-accepted",
        summary: "Olm: an empty ciphertext field decrypts to an empty plaintext (libolm L5)",
        area: Area::OlmMessage,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::CraftedOlmMessage),
        property: None,
    }
    /// A ciphertext that is not a whole number of AES blocks is decrypted over
    /// its whole blocks, the rest ignored (libolm, finding L8, which also
    /// writes past its output buffer).
    OlmPartialBlockAccepted {
        name: "olm-partial-block-accepted",
        summary: "Olm: bytes after the last whole AES block are ignored (libolm L8)",
        area: Area::OlmMessage,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::CraftedOlmMessage),
        property: None,
    }
    /// The gap bound is off by one: a message 2001 past its chain's next index
    /// is accepted (§5.4, §5.5: at most 2000).
    OlmGap2001Accepted {
        name: "olm-gap-2001-accepted",
        summary: "Olm: a gap of 2001 is accepted (bound off by one)",
        area: Area::OlmRatchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::OlmBoundNotReached),
        property: None,
    }
    /// Six receiver chains are kept instead of five (§5.1, §5.5): a late message
    /// on the sixth-newest chain decrypts.
    OlmSixChainsKept {
        name: "olm-six-chains-kept",
        summary: "Olm: six receiver chains are kept instead of five",
        area: Area::OlmRatchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::OlmBoundNotReached),
        property: None,
    }
    /// Decryption is not transactional (§5.4): the chain steps, the new receiver
    /// chain and the deleted ratchet key of a refused message stay.
    OlmStateKeptOnFailure {
        name: "olm-state-kept-on-failure",
        summary: "Olm: decryption is not transactional: a refused message changes the state",
        area: Area::OlmRatchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// 41 skipped message keys are kept instead of 40 (§5.1, §5.5).
    OlmFortyOneKeysStored {
        name: "olm-41-keys-stored",
        summary: "Olm: 41 skipped keys are stored instead of 40",
        area: Area::OlmKeyStore,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::OlmBoundNotReached),
        property: None,
    }
    /// A stored skipped key is kept after it decrypted its message: the late
    /// message can be replayed, and a later copy of the state reads it.
    OlmUsedKeyKept {
        name: "olm-used-key-kept",
        summary: "Olm: a stored key is kept after it decrypted its message: late replays decrypt",
        area: Area::OlmKeyStore,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Every message key is kept after it decrypted its message (in order or
    /// not): replays decrypt and a captured state reads every past message
    /// (§8's forward-secrecy rule).
    OlmMessageKeysKept {
        name: "olm-message-keys-kept",
        summary: "Olm: every message key is kept after use (no forward secrecy, replays decrypt)",
        area: Area::OlmKeyStore,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The responder does not check that the pre-key message names the one-time
    /// key it holds (§3, §4.2) and uses its own.
    OlmOneTimeKeyNotMatched {
        name: "olm-one-time-key-not-matched",
        summary: "Olm: Bob ignores which one-time key a pre-key message names",
        area: Area::OlmAgreement,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// The triple DH leaves the one-time key out (`ECDH(I_A, I_B)` in its
    /// place, §3): the session no longer depends on a key the responder
    /// deletes, so the first messages lose forward secrecy.
    OlmOneTimeKeyIgnored {
        name: "olm-one-time-key-ignored",
        summary: "Olm: the triple DH leaves the one-time key out",
        area: Area::OlmAgreement,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// Alice's identity and base keys in each other's roles in the triple DH
    /// (`ECDH(E_A, E_B) ‖ ECDH(I_A, I_B) ‖ ECDH(I_A, E_B)`, §3), on both sides.
    OlmKeyRolesSwapped {
        name: "olm-key-roles-swapped",
        summary: "Olm: the triple DH uses Alice's base key where her identity key belongs and back",
        area: Area::OlmAgreement,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// `S`'s first two DH outputs in the other order (`ECDH(E_A, I_B)` first,
    /// §3), on both sides: the mutant agrees with itself, not with Olm.
    OlmTripleDhOrderSwapped {
        name: "olm-triple-dh-order-swapped",
        summary: "Olm: the triple DH's first two outputs are concatenated in the other order",
        area: Area::OlmAgreement,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// The root HKDF uses the ratchet step's info `OLM_RATCHET` instead of
    /// `OLM_ROOT` (§3), on both sides.
    OlmRootInfoWrong {
        name: "olm-root-info-wrong",
        summary: "Olm: R0 and C0,0 are derived with info OLM_RATCHET instead of OLM_ROOT",
        area: Area::OlmAgreement,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// The 64 bytes of the root HKDF split the other way round: `C0,0 ‖ R0`
    /// (§3), on both sides.
    OlmRootHalvesSwapped {
        name: "olm-root-halves-swapped",
        summary: "Olm: the root HKDF's output is split as chain key first, root key second",
        area: Area::OlmAgreement,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::BothSidesAgree),
        property: None,
    }
    /// Bob takes a pre-key message naming his identity key as the one-time key
    /// and uses his identity key pair as one (§3: the one-time key is one of
    /// his one-time keys; docs/OLM-V1.md §10.4).
    OlmIdentityKeyAsOneTimeKey {
        name: "olm-identity-key-as-one-time-key",
        summary: "Olm: Bob accepts his identity key named as the one-time key",
        area: Area::OlmAgreement,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::CraftedOlmMessage),
        property: None,
    }
    /// Alice never wraps her messages in pre-key messages (§4.2): Bob cannot
    /// start the session, and a lost first message loses the session.
    OlmNoPreKeyMessages {
        name: "olm-no-pre-key-messages",
        summary: "Olm: Alice never wraps her messages in pre-key messages",
        area: Area::OlmRatchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// Alice stops sending pre-key messages after her first instead of when she
    /// first receives (§4.2, §5.3): if the first is lost, Bob cannot start.
    OlmPreKeyMessagesStopEarly {
        name: "olm-pre-key-messages-stop-early",
        summary: "Olm: Alice stops sending pre-key messages after her first, before she has received",
        area: Area::OlmRatchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
    /// A new ratchet key is derived from the root key instead of drawn (§5.3):
    /// whoever captured the state computes every future key, so the session
    /// never heals (§8, post-compromise security).
    OlmRatchetKeyFromRoot {
        name: "olm-ratchet-key-from-root",
        summary: "Olm: a new ratchet key is derived from the root key, not drawn (no post-compromise security)",
        area: Area::OlmRatchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Missed(MissedByModel::PassiveCapture),
        property: None,
    }
    /// A party reuses its first ratchet key for every chain it starts (§5.3):
    /// a captured private key reads every future chain.
    OlmRatchetKeyNeverRefreshed {
        name: "olm-ratchet-key-never-refreshed",
        summary: "Olm: a party reuses its first ratchet key for every chain (no post-compromise security)",
        area: Area::OlmRatchet,
        vectors: ByVectors::DefaultMode,
        model: ByModel::Caught,
        property: None,
    }
}
