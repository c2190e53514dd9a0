//! The flags vector cases carry, each with the note that explains it.
//!
//! A family names its cases' flags with [`Flag`]; a file's `notes` table is
//! derived from the flags its cases use ([`notes`]), so a note cannot be
//! missing or left over. Vector files keep flags as strings (a reader must
//! tolerate flags from newer files); this enum is the generator's side.
//! Where one flag name means something different in another file or
//! encoding, it has one variant per meaning with the same name, and a file
//! may use only one of them.

// The notes cite [DR] (a private link constant) in text that is also the
// variants' documentation.
#![allow(rustdoc::private_intra_doc_links)]

use std::collections::BTreeMap;

use super::{GenerateError, note};
use crate::vectors::Note;

/// The Double Ratchet specification.
const DR: &str = "https://signal.org/docs/specifications/doubleratchet/";

/// The X3DH specification.
const X3DH: &str = "https://signal.org/docs/specifications/x3dh/";

/// X3DH: sending the initial message.
const X3DH_SEND: &str = "https://signal.org/docs/specifications/x3dh/#sending-the-initial-message";

/// The PQXDH specification.
const PQXDH: &str = "https://signal.org/docs/specifications/pqxdh/";

/// PQXDH: sending the initial message.
const PQXDH_SEND: &str =
    "https://signal.org/docs/specifications/pqxdh/#sending-the-initial-message";

/// FIPS 203 (ML-KEM).
const FIPS203: &str = "https://csrc.nist.gov/pubs/fips/203/final";

/// XEdDSA: verification.
const XEDDSA_VERIFY: &str = "https://signal.org/docs/specifications/xeddsa/#verify";

/// This project's description of the olm-v1 suite.
const OLM_V1: &str = "https://github.com/ratchetproof/ratchetproof/blob/main/docs/OLM-V1.md";

/// This project's description of the signal-v3 suite.
const SIGNAL_V3: &str = "https://github.com/ratchetproof/ratchetproof/blob/main/docs/SIGNAL-V3.md";

/// Declares [`Flag`]: each variant with its name in the vector files, its
/// bug type, its description and its links.
macro_rules! flags {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $name:literal, $bug:literal, $description:literal, [$($link:expr),* $(,)?];
    )*) => {
        /// A flag of a vector case.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Flag {
            $($(#[$doc])* #[doc = $description] $variant,)*
        }

        impl Flag {
            /// Every flag.
            pub const ALL: &'static [Flag] = &[$(Flag::$variant),*];

            /// The name written in vector files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Flag::$variant => $name,)*
                }
            }

            /// The note a file using this flag carries for it.
            pub fn note(self) -> Note {
                match self {
                    $(Flag::$variant => note($bug, $description, &[$($link),*]),)*
                }
            }
        }
    };
}

flags! {
    InOrder => "InOrder", "BasicTest",
        "Messages delivered as sent, in bursts both ways.",
        [DR];
    OutOfOrder => "OutOfOrder", "BasicTest",
        "Messages of one chain delivered in another order; skipped keys are stored and used once.",
        ["https://signal.org/docs/specifications/doubleratchet/#out-of-order-messages"];
    AcrossRatchetSteps => "AcrossRatchetSteps", "BasicTest",
        "Late messages of a previous chain, found through the header's PN when the next chain starts.",
        ["https://signal.org/docs/specifications/doubleratchet/#out-of-order-messages"];
    DelayedChains => "DelayedChains", "EdgeCase",
        "Messages held back from two or more chains ago arrive last.",
        [];
    MessageLoss => "MessageLoss", "BasicTest",
        "Lost messages never block later ones.",
        [];
    ForwardSecrecy => "ForwardSecrecy", "Security",
        "A party's state captured after it decrypted a message cannot decrypt that message again; the capture decrypts only messages whose keys are still stored as skipped, which the case marks as expected.",
        ["https://signal.org/docs/specifications/doubleratchet/#security-considerations"];
    PostCompromise => "PostCompromise", "Security",
        "A capture follows the conversation passively until the victim's next DH ratchet with fresh randomness, and fails from then on (strict in every mode). What it reads before healing differs between conforming implementations: one that generates its next ratchet key only when it next sends ([DR] §6.5) had none when captured, so the steps that need that key name authentication as an alternative and the case is acceptable.",
        ["https://signal.org/docs/specifications/doubleratchet/#security-considerations"];
    TamperVersion => "TamperVersion", "Adversarial",
        "The version byte changed: refused as unsupported (or any rejection in non-strict mode).",
        [];
    TamperRatchetKey => "TamperRatchetKey", "Adversarial",
        "A byte of the header's ratchet public key changed: refused, and the state is unchanged (no DH ratchet on an unauthenticated header). The message is well formed and only its tag is wrong: authentication, classFixed.",
        [];
    TamperPreviousCounter => "TamperPreviousCounter", "Adversarial",
        "A byte of PN changed: refused without state change (no skipped keys stored for an unauthenticated header). Like N, any of authentication, too_many_skipped and duplicate conforms (alternatives).",
        [];
    TamperCounter => "TamperCounter", "Adversarial",
        "A byte of N changed: refused without state change. The new value may claim a jump past MAX_SKIP, an already-used number or a fresh one: too_many_skipped, duplicate and authentication all conform (alternatives).",
        [];
    TamperCiphertext => "TamperCiphertext", "Adversarial",
        "A ciphertext byte changed: authentication failure, and classFixed: only the tag check may refuse it, so even the default mode requires authentication (a padding or parse error here means unauthenticated bytes were examined first: a padding oracle in CBC suites).",
        [];
    TamperTag => "TamperTag", "Adversarial",
        "An authentication tag byte changed: authentication failure (classFixed).",
        [];
    TamperAssociatedData => "TamperAssociatedData", "Adversarial",
        "Decryption under different associated data, including ambiguous re-splits of CONCAT(ad, header): authentication failure (classFixed). Where the suite reads the AD as two identity keys and refuses other bytes (signal-v3: invalid_key), an implementation that only MACs the AD fails the tag instead, and authentication is an alternative.",
        [];
    Atomicity => "Atomicity", "KnownBug",
        "After a rejected message the next genuine one still decrypts: a failed decryption must leave the state exactly as it was (skip loop, DH ratchet and skipped-key deletion included).",
        ["https://signal.org/docs/specifications/doubleratchet/#decrypting-messages"];
    Replay => "Replay", "KnownBug",
        "A message delivered again after it decrypted must be refused: its key was deleted. This suite names the refusal duplicate (SPEC.md §5.4 steps 3 and 8, the latter through the optional window of recent ratchet keys, §8.3); the Double Ratchet's pseudocode derives a key that is not the message's and fails authentication, named as an alternative.",
        [];
    SkipLimitUniversal => "SkipLimitUniversal", "Limit",
        "Holds for any reasonable MAX_SKIP: a jump of up to 1000 is accepted, a jump of 1 000 000 refused.",
        [];
    SkipLimitExact => "SkipLimitExact", "Limit",
        "Exact boundaries for the limits stated in the case's `limits`; run only against implementations with those limits or configurable ones.",
        [];
    Eviction => "Eviction", "Limit",
        "Oldest-first eviction of stored skipped keys past the cap.",
        [];
    /// A message cut short (fixed-layout suites).
    Truncated => "Truncated", "Adversarial",
        "A message cut short: malformed below the minimum length, otherwise an authentication failure.",
        [];
    Malformed => "Malformed", "Adversarial",
        "Bytes that are not a message of this suite. A header naming a small-order ratchet key is invalid_key where the optional all-zero check is made (SPEC.md §2.1), else authentication (alternative).",
        [];
    RestoredSession => "RestoredSession", "KnownBug",
        "A party's state is exported and re-imported (the `capture` step) after it sent, and the copy is used in its place: the copy's next message must take the next message key. An implementation whose saved state lags behind its sends re-uses a message key and nonce for a new plaintext (SPEC.md §11.4).",
        ["https://github.com/wireapp/wire-webapp-cryptobox/pull/11"];
    SendBeforeReceive => "SendBeforeReceive", "EdgeCase",
        "RatchetInitBob leaves Bob without a sending chain until Alice's first message arrives.",
        [DR];
    EdgeCase => "EdgeCase", "EdgeCase",
        "Unusual plaintext sizes.",
        [];
    /// A protobuf tag or length byte changed.
    TamperEncoding => "TamperEncoding", "Adversarial",
        "A protobuf tag or length byte changed: the message no longer parses as sent. In the default mode any refusal passes; the class recorded is the reference's under docs/SIGNAL-V3.md §3 (a wire-type mismatch or truncated field is malformed), which --strict-errors enforces. The state must not change.",
        ["https://github.com/signalapp/libsignal-protocol-java/blob/master/protobuf/WhisperTextProtocol.proto"];
    /// A message cut short (protobuf encoding).
    TruncatedProtobuf => "Truncated", "Adversarial",
        "A message cut short: with the MAC taken from the end, every cut leaves a protobuf field truncated or missing (malformed).",
        [];
    KeyErasure => "KeyErasure", "Security",
        "Each capture step lists in erasedSecrets the secrets forward secrecy says are gone from the captured party's state: message keys of messages it sent or decrypted, the chain keys that yield them, replaced root keys, and ratchet private keys replaced by one it has sent under. Where the implementation exports its state (operation group export), the runner searches the exported bytes for each secret, raw and as hex or base64. This proves presence, never absence: an encrypted, compressed or otherwise transformed export hides a retained key from the check.",
        ["https://signal.org/docs/specifications/doubleratchet/#security-considerations"];
    // olm-v1 (generate/olm/): where a flag's meaning differs for Olm, a
    // variant of its own with the same name; olm-v1 files use only these.
    OlmKeptChains => "KeptChains", "BasicTest",
        "Olm keeps the chain keys of the five newest receiver chains (docs/OLM-V1.md §5): a late message on an earlier chain is derived from its kept chain key, with no previous-chain length in any header.",
        [OLM_V1];
    OlmPreKeyMessages => "PreKeyMessages", "BasicTest",
        "Alice's messages travel as pre-key messages (messageType prekey, Olm type 0) until she has decrypted one of Bob's, then as normal ones (whisper, type 1). The first pre-key message Bob accepts starts his session (prekey_respond); later ones, before or after his first reply, are decrypted by that session. A refused first message leaves him without a session.",
        [OLM_V1];
    OlmReplay => "Replay", "KnownBug",
        "A message delivered again after it decrypted is refused: its key is gone. The reference names the refusal duplicate; libolm folds every decryption failure into BAD_MESSAGE_MAC, so authentication is an alternative (docs/OLM-V1.md §6).",
        [OLM_V1];
    OlmTamperPreKey => "TamperPreKey", "Adversarial",
        "A field of the pre-key message around Bob's first message changed (one-time key, base key, identity key: no MAC covers them, they are authenticated only through the keys they derive). Another one-time key is unknown to Bob (invalid_key); another base or identity key derives other keys, so the inner MAC fails (authentication); any refusal conforms. Bob has no session afterwards, and the genuine message still starts one. On Bob's existing session, a later pre-key message with a changed field is refused as naming another session (libolm's matches_inbound, the reference: state) or, since its inner message is genuine, decrypted: both conform (result acceptable).",
        [OLM_V1];
    OlmGap => "SkipLimitExact", "Limit",
        "Olm's gap bound, which libolm and vodozemac share (docs/OLM-V1.md §5.5): a message may lie at most 2000 past its chain's next index. Gap 2000 is accepted; gap 2001 is refused, as too_many_skipped or, libolm's way, authentication (alternatives). The case's limits give maxSkip = 2000 (the gap) and maxStoredSkippedKeys = 40.",
        [OLM_V1];
    OlmStoredKeys => "Eviction", "Limit",
        "Olm stores at most 40 skipped message keys, the most recently stored kept (libolm: 40 per session, vodozemac: 40 per chain; these cases skip keys on one chain only, where both agree): after a gap of 2000 the 40 newest skipped keys decrypt and the 41st newest is refused (duplicate, or authentication the libolm way).",
        [OLM_V1];
    OlmChainLimit => "KeptChainsLimit", "Limit",
        "Olm keeps five receiver chains: with six received, a late message on the oldest is refused (duplicate, or authentication the libolm way) and late messages on the five newest decrypt (docs/OLM-V1.md §5.5, libolm and vodozemac agree).",
        [OLM_V1];
    OlmForwardSecrecy => "ForwardSecrecy", "Security",
        "olm-v1's rule, not the Signal algorithm's (docs/OLM-V1.md §8): a captured state decrypts a message iff its key is stored as skipped, or it lies at or beyond the next index of a kept receiver chain (within the gap) — so a capture also reads messages of kept chains it has not yet received, which a Signal capture reads only within the previous-chain length. It never decrypts a message the victim had already decrypted.",
        [OLM_V1];
    OlmPostCompromise => "PostCompromise", "Security",
        "olm-v1 (docs/OLM-V1.md §8): a passive capture follows the conversation — including the peer's next chain, derived from the victim's ratchet key it holds — until the victim's next send after a receive, which draws a fresh ratchet key; from the peer's reply to that send on, the capture fails (authentication). Olm draws its next ratchet key only when it sends, so the healing comes at the victim's send.",
        [OLM_V1];
    OlmTamperIndex => "TamperCounter", "Adversarial",
        "A byte of the chain index changed: refused without state change. The new index may be far ahead, already used or fresh: too_many_skipped, duplicate and authentication all conform (alternatives; libolm says authentication for all).",
        [OLM_V1];
    OlmMalformed => "Malformed", "Adversarial",
        "Bytes that are not an Olm message of the stated type: a missing field or a field running past the end is malformed; any refusal conforms, and the session is unchanged.",
        [OLM_V1];
    OlmIndexWidth => "IndexWidth", "EdgeCase",
        "A correctly MACed message whose chain index is 2^32 or more (docs/OLM-V1.md §4.1, §7 \"Index width\"): it is not the message of index modulo 2^32, so it is refused — malformed (the reference: an index above 2^32 - 1), too_many_skipped (a 64-bit reader: the gap is above 2000) or authentication (libolm's class); accepting it under the key of index modulo 2^32 is libolm's finding L2.",
        [OLM_V1];
    OlmSmallOrderKey => "SmallOrderKey", "EdgeCase",
        "A new chain whose ratchet key is a small-order point, MACed under the keys the all-zero DH output derives (docs/OLM-V1.md §7 \"Small-order keys\"): refusing it (invalid_key, vodozemac and the reference) is optional hardening, accepting it (libolm) conforms too; the case ends there, since the two outcomes leave different states.",
        [OLM_V1];
    OlmTripleDh => "TripleDh", "BasicTest",
        "A known answer of Olm's key agreement (docs/OLM-V1.md §3): the injected identity, one-time and base keys fix S = ECDH(I_A, E_B) ‖ ECDH(E_A, I_B) ‖ ECDH(E_A, E_B), R0 ‖ C0,0 = HKDF(zero salt, S, OLM_ROOT) and so the bytes of Alice's first pre-key message; Bob decrypts it and Alice his reply. The comment states S, R0 and C0,0, checked only through the messages.",
        [OLM_V1];
    OlmSmallOrderAgreementKey => "SmallOrderKey", "EdgeCase",
        "A first pre-key message whose base or identity key is a small-order point, its inner message MACed under the keys the triple DH with all-zero outputs derives (docs/OLM-V1.md §10.4): refusing it (invalid_key, vodozemac and the reference) is optional hardening, accepting it (libolm) conforms too; the case ends there.",
        [OLM_V1];
    OlmOneTimeKeyField => "OneTimeKeyField", "Adversarial",
        "A first pre-key message whose one-time key field names a key Bob holds but not as a one-time key (his identity key), correctly MACed under the triple DH with that key: Bob has no such one-time key, so it is refused (invalid_key) and leaves no session (docs/OLM-V1.md §10.4).",
        [OLM_V1];
    OlmKeyRoles => "KeyRoles", "Adversarial",
        "A first pre-key message with Alice's identity and base keys in each other's fields, MACed under the triple DH with the roles the fields give: a valid agreement with another identity, which Bob decrypts; reading the keys by position or by their genuine roles fails the MAC (docs/OLM-V1.md §10.4).",
        [OLM_V1];
    OlmInvalidPadding => "InvalidPadding", "EdgeCase",
        "A correctly MACed message whose plaintext does not end in PKCS#7 padding (docs/OLM-V1.md §1, §4.1): refused (authentication, as the reference and vodozemac; any refusal conforms). Reading only the last byte as a pad length (libolm, finding L4) accepts it.",
        [OLM_V1];
    OlmCiphertextLength => "CiphertextLength", "EdgeCase",
        "A correctly MACed message whose ciphertext is empty or not a whole number of AES blocks (docs/OLM-V1.md §1, §4.1): PKCS#7 under AES-256-CBC always yields whole blocks, at least one, so it is refused (authentication; any refusal conforms). libolm accepts an empty one (finding L5) and decrypts whole blocks past a partial one (finding L8).",
        [OLM_V1];
    OlmKeyLength => "KeyLength", "EdgeCase",
        "A key of 33 bytes where Olm's messages carry 32 (the inner message's ratchet key, correctly MACed; the pre-key message's base key): refused, invalid_key (the reference) or malformed (libolm's BAD_MESSAGE_FORMAT, finding L6, and a decoder's error), both conforming (docs/OLM-V1.md §6).",
        [OLM_V1];
    OlmKdfRk => "KdfRk", "BasicTest",
        "olm-v1's KDF_RK: HKDF-SHA256, salt = the root key, ikm = the DH output, info OLM_RATCHET, 64 bytes = next root key ‖ chain key (docs/OLM-V1.md §1).",
        [OLM_V1];
    OlmMessageKeys => "MessageKeys", "BasicTest",
        "olm-v1's expansion of a message key: HKDF-SHA256, no salt, info OLM_KEYS, 80 bytes = AES-256 key ‖ HMAC-SHA256 key ‖ CBC IV (docs/OLM-V1.md §1).",
        [OLM_V1];
    // Primitives (primitives.rs).
    KdfRk => "KdfRk", "BasicTest",
        "KDF_RK(rk, dh_out): HKDF-SHA256, salt = rk, ikm = dh_out, the suite's info, 64 bytes = next root key ‖ chain key.",
        ["https://signal.org/docs/specifications/doubleratchet/#kdf-chains", "docs/SPEC.md#3"];
    KdfCk => "KdfCk", "BasicTest",
        "KDF_CK(ck): HMAC-SHA256(ck, 0x02) is the next chain key, HMAC-SHA256(ck, 0x01) the message key. A swap of the constants fails every case.",
        ["https://signal.org/docs/specifications/doubleratchet/#recommended-cryptographic-algorithms"];
    MessageKeys => "MessageKeys", "BasicTest",
        "Expansion of a message key into the cipher keys (default suite: HKDF-SHA256, no salt, 44 bytes = AES-256 key ‖ GCM nonce).",
        ["docs/SPEC.md#3"];
    Seal => "Seal", "BasicTest",
        "A whole wire message for a given message key, header and associated data: version ‖ header ‖ AEAD ciphertext and tag.",
        ["docs/SPEC.md#4"];
    AssociatedData => "AssociatedData", "EdgeCase",
        "Associated data of unusual lengths: the length prefix must make CONCAT(ad, header) unambiguous.",
        [];
    /// Boundary values of primitive inputs.
    BoundaryValues => "EdgeCase", "EdgeCase",
        "Boundary values: all-zero keys, extreme counters.",
        [];
    /// A primitive's input of the wrong length.
    WrongPrimitiveLength => "WrongLength", "ModifiedInput",
        "A key or KDF input of the wrong length must be refused (invalid_key), not truncated or padded.",
        [];
    // Accepting initial messages (accept.rs).
    /// Bob accepts a genuine initial message.
    AcceptsInitial => "BasicTest", "BasicTest",
        "Bob accepts Alice's initial message: the plaintext, the AD and Alice's identity key.",
        [X3DH];
    OneTimePrekeyDeleted => "OneTimePrekeyDeleted", "KnownBug",
        "A one-time prekey is deleted once a session was accepted with it: a replay of that initial message, or another initiator naming the same prekey, is refused (invalid_key; a per-sender responder that recognises the replayed initial message refuses it as duplicate, which conforms too).",
        [X3DH, "https://github.com/guardyn/guardyn/issues/246"];
    OneTimePrekeyAtomicity => "OneTimePrekeyAtomicity", "KnownBug",
        "A one-time prekey is deleted only after the first message authenticates: a forgery naming it is refused and leaves it in the store.",
        [X3DH];
    ReplayWithoutOneTimePrekey => "ReplayWithoutOneTimePrekey", "EdgeCase",
        "Without a one-time prekey nothing marks an initial message as used: a stateless responder accepts a replay again as a new session (X3DH §4.2), whose replies are keyed by a fresh ratchet key; a per-sender responder (libsignal) refuses it as a duplicate of the session it already holds. Either conforms: the replay's outcome names both (result acceptable).",
        ["https://signal.org/docs/specifications/x3dh/#replay-attacks"];
    UnknownPreKey => "UnknownPreKey", "Adversarial",
        "An initial message naming a prekey id Bob does not hold is refused (invalid_key) and changes nothing.",
        [];
    /// Bytes that are not an initial message.
    MalformedInitial => "Malformed", "Adversarial",
        "Bytes that are not an initial message of this suite are refused and change nothing.",
        [];
    // signal-v3 initial messages with a correct MAC (accept/v3_wire.rs).
    V3Wire => "V3Wire", "ModifiedInput",
        "A signal-v3 initial message malformed in one field, built with Alice's real keys (SIGNAL-V3.md §3, §4).",
        [SIGNAL_V3];
    CorrectMac => "CorrectMac", "ModifiedInput",
        "The embedded WhisperMessage's MAC is correct over its bytes: only the parser can refuse it.",
        [SIGNAL_V3];
    Envelope => "Envelope", "ModifiedInput",
        "The PreKeyWhisperMessage envelope, which no MAC covers, is malformed in one field.",
        [SIGNAL_V3];
    VarintOverflow => "VarintOverflow", "EdgeCase",
        "A uint32 field whose varint is above 2^32 − 1: the reference refuses it as malformed; reading it modulo 2^32, as protobuf defines for uint32, conforms too (SIGNAL-V3.md §3). The vectors name both outcomes (result acceptable).",
        [SIGNAL_V3];
    Padding => "Padding", "KnownBug",
        "PKCS#7 padding is checked only after the MAC verified: a wrong MAC is an authentication failure whatever the padding (no padding oracle).",
        [SIGNAL_V3];
    // X3DH key agreement and XEdDSA verification (x3dh.rs).
    WithOneTimePrekey => "WithOneTimePrekey", "BasicTest",
        "SK = HKDF(0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4); both sides derive the same SK and AD = Encode(IKa) ‖ Encode(IKb).",
        [X3DH_SEND];
    WithoutOneTimePrekey => "WithoutOneTimePrekey", "BasicTest",
        "As above without DH4, when the server had no one-time prekey.",
        [X3DH_SEND];
    BadSignature => "BadSignature", "KnownBug",
        "Alice must verify Sig(IKb, Encode(SPKb)) with XEdDSA and abort on failure. libsignal-node is known to skip this check when starting a session.",
        [X3DH_SEND, "https://signal.org/docs/specifications/xeddsa/"];
    /// An X3DH key or signature of the wrong length.
    WrongX3dhLength => "WrongLength", "ModifiedInput",
        "A public key, private key or signature of the wrong length must be refused, not truncated or padded. The reference checks lengths first (invalid_key); where the wrong-length input is IKb, SPKb or the signature, an initiator that verifies the signature first refuses it as authentication, and either order conforms (SPEC.md §9): those cases name authentication as an alternative.",
        [];
    /// A signature encoding at the edge of what XEdDSA accepts.
    XeddsaEncodingEdge => "EdgeCase", "EdgeCase",
        "Encodings at the edge of what XEdDSA verification accepts.",
        [XEDDSA_VERIFY];
    LibsignalSignBit => "LibsignalSignBit", "EdgeCase",
        "SPEC.md §7.3: libsignal's curve25519_sign stores the sign of the signer's Edwards key in bit 255 of s; verification takes the sign from there. In signal-v3 (libsignal's protocol) accepting them is required: a verifier that always uses sign 0 refuses about half of the bundles libsignal signs. In the default suite, which follows the published XEdDSA, whose verification uses sign 0, a refusal (authentication) conforms too (result acceptable).",
        [XEDDSA_VERIFY];
    UnreducedS => "UnreducedS", "EdgeCase",
        "XEdDSA rejects only s ≥ 2^253; an s in [q, 2^253) satisfies the equation and the reference accepts it (SPEC.md §7.2). libsignal accepts it, so signal-v3 requires that; in the default suite an Ed25519-style verifier that requires s < q (RFC 8032) conforms too, since no honest signer makes such an s (result acceptable).",
        [XEDDSA_VERIFY];
    SBound => "SBound", "KnownBug",
        "s ≥ 2^253 must be refused even though s + kq satisfies the verification equation (signature malleability).",
        [XEDDSA_VERIFY];
    NonCanonicalKey => "NonCanonicalKey", "KnownBug",
        "XEdDSA refuses u ≥ p (all 256 bits read), u = p − 1 and a u with no Edwards point; reducing or masking the key instead accepts keys that are not the signer's encoding.",
        [XEDDSA_VERIFY];
    NonCanonicalR => "NonCanonicalR", "KnownBug",
        "R is compared with encode(sB − hA) byte for byte; decoding R and comparing points accepts other encodings of the same point.",
        [XEDDSA_VERIFY];
    // PQXDH key agreement (pqxdh.rs) and acceptance (pqxdh_accept.rs).
    PqxdhWithOneTimePrekey => "WithOneTimePrekey", "BasicTest",
        "SK = HKDF(0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4 ‖ SS) with SS the KEM secret Alice encapsulated with the injected randomness m; both sides derive the same SK and AD = Encode(IKa) ‖ Encode(IKb), and Alice's ciphertext (type byte ‖ CT) is the known one.",
        [PQXDH_SEND];
    PqxdhWithoutOneTimePrekey => "WithoutOneTimePrekey", "BasicTest",
        "As above without DH4, when the server had no one-time EC prekey.",
        [PQXDH_SEND];
    /// A bad signature over the signed EC prekey of a PQXDH bundle.
    PqxdhBadSignature => "BadSignature", "KnownBug",
        "Alice must verify Sig(IKb, Encode(SPKb)) and abort on failure (authentication), in PQXDH as in X3DH.",
        [PQXDH_SEND];
    BadKemSignature => "BadKemSignature", "KnownBug",
        "Alice must verify Sig(IKb, EncodeKEM(PQPKb)), over the KEM's type byte and the key, and abort on failure (authentication): an unchecked KEM prekey lets a server substitute its own and read SS.",
        [PQXDH_SEND];
    /// libsignal's sign-bit convention on the KEM prekey's signature.
    PqxdhLibsignalSignBit => "LibsignalSignBit", "EdgeCase",
        "SPEC.md §7.3: libsignal signs with the sign of its Edwards key in bit 255 of s, its KEM prekeys too; the PQXDH suites are libsignal's, so Alice must accept such a signature over EncodeKEM(PQPKb) (a verifier that always uses sign 0 refuses about half of libsignal's KEM prekeys).",
        [XEDDSA_VERIFY];
    WrongKemKey => "WrongKemKey", "ModifiedInput",
        "A correctly signed KEM prekey that is not this suite's KEM's encoded key (the other KEM's type byte, no type byte, a wrong length, or none at all) is refused (invalid_key), not truncated, padded or encapsulated to.",
        [PQXDH];
    KemModulusCheck => "KemModulusCheck", "EdgeCase",
        "An encapsulation key with a coefficient ≥ q = 3329. FIPS 203 §7.2 requires ML-KEM's encapsulation to refuse it (invalid_key). Round-3 Kyber defines no such check and libsignal makes none, so the kyber1024 suite's reference encapsulates to it (the known answer); no honest key generation makes such a key, so refusing it there conforms too (result acceptable).",
        [FIPS203];
    ImplicitRejection => "ImplicitRejection", "EdgeCase",
        "A ciphertext that is not Alice's (one bit flipped) decapsulates without error to the KEM's implicit-rejection secret (FIPS 203 §6.3; round-3 Kyber likewise): Bob derives a different SK, the known answer here. An initial message carrying it is refused only when its first message does not authenticate.",
        [FIPS203];
    WrongKemCiphertext => "WrongKemCiphertext", "ModifiedInput",
        "A KEM ciphertext of the wrong length or type byte is refused (invalid_key) before decapsulation. Inside an initial message a parser may refuse it as malformed, which conforms too.",
        [PQXDH];
    /// A PQXDH key, secret key or signature of the wrong length.
    WrongPqxdhLength => "WrongLength", "ModifiedInput",
        "A KEM secret key or KEM-prekey signature of the wrong length is refused (invalid_key; for the signature, an initiator that verifies first refuses it as authentication, which conforms too).",
        [];
    KemOneTimePrekeyDeleted => "KemOneTimePrekeyDeleted", "KnownBug",
        "A one-time KEM prekey is deleted once a session was accepted with it: a replay of that initial message, or another initiator naming it, is refused (invalid_key; a per-sender responder that recognises the replay refuses it as duplicate, which conforms too).",
        [PQXDH];
    KemLastResortKept => "KemLastResortKept", "BasicTest",
        "The signed last-resort KEM prekey is kept after use: two initiators who fetched it are both accepted.",
        [PQXDH];
    KemPrekeyAtomicity => "KemPrekeyAtomicity", "KnownBug",
        "A one-time KEM prekey is deleted only after the first message authenticates: a forgery naming it (a bad MAC, or a tampered ciphertext that decapsulates to the implicit-rejection secret) is refused (authentication) and leaves it in the store.",
        [PQXDH];
    X3dhToPqxdh => "X3dhToPqxdh", "Adversarial",
        "A signal-v3 PreKeyWhisperMessage (version 3, X3DH, no KEM fields) sent to a PQXDH responder is refused as unsupported: accepting it would downgrade the session to X3DH.",
        [PQXDH];
}

/// The `notes` table of a file whose cases use `used`: one note per flag
/// name. Two variants with one name in the same file are an error.
pub fn notes(
    used: impl IntoIterator<Item = Flag>,
) -> Result<BTreeMap<String, Note>, GenerateError> {
    let mut by_name: BTreeMap<&str, Flag> = BTreeMap::new();
    for flag in used {
        match by_name.insert(flag.name(), flag) {
            Some(other) if other != flag => {
                return Err(GenerateError::Disagreement {
                    tc_id: 0,
                    comment: flag.name().into(),
                    message: format!("{other:?} and {flag:?} share a name in one file"),
                });
            }
            _ => {}
        }
    }
    Ok(by_name
        .into_iter()
        .map(|(name, flag)| (name.to_string(), flag.note()))
        .collect())
}

/// The names of `flags`, as a case records them.
pub fn names(flags: &[Flag]) -> Vec<String> {
    flags.iter().map(|f| f.name().to_string()).collect()
}
