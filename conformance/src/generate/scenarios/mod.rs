//! Session-scenario vectors: scripted conversations over an adversarial
//! network. Each scenario is built by driving the reference and asserting, at
//! every step, the outcome the protocol requires; a disagreement aborts
//! generation, so the vectors never silently record a reference bug.
//!
//! A new case family can be a child module of this one (it sees the
//! builder's private items): one file, one call in `file()`.

mod session_paths;

mod builder;
mod compromise;
mod conversation;
mod known_bug_gaps;
mod malformed;
mod replay;
mod restored;
mod skip_limits;
mod tampering;

use std::collections::BTreeMap;

mod erasure;
mod forward_secrecy_copies;

use crate::generate::{GenerateError, note, vector_file};
use crate::vectors::{SCENARIO_SCHEMA, ScenarioCase, VectorFile};
use builder::{ANY_REFUSAL, Cases, R, SMALL_ORDER_CLASSES, Scenario, ping_pong};
use ratchetproof_protocol::Suite;
use ratchetproof_protocol::suite::WireEncoding;

pub(super) fn file(suite: Suite) -> Result<VectorFile<ScenarioCase>, GenerateError> {
    let mut c = Cases {
        suite,
        tests: Vec::new(),
    };
    conversation::in_order(&mut c)?;
    conversation::out_of_order(&mut c)?;
    conversation::across_ratchet(&mut c)?;
    conversation::delayed_chains(&mut c)?;
    conversation::message_loss(&mut c)?;
    compromise::forward_secrecy(&mut c)?;
    compromise::post_compromise(&mut c)?;
    tampering::tampering(&mut c)?;
    replay::replay(&mut c)?;
    skip_limits::skip_limits(&mut c)?;
    malformed::malformed(&mut c)?;
    restored::restored_sessions(&mut c)?;
    known_bug_gaps::known_bug_gaps(&mut c)?;
    forward_secrecy_copies::cases(&mut c)?;
    session_paths::cases(&mut c)?;
    let spec = "https://signal.org/docs/specifications/doubleratchet/";
    let n = |b: &str, d: &str, l: &[&str]| note(b, d, l);
    let notes = BTreeMap::from([
        (
            "InOrder".into(),
            n(
                "BasicTest",
                "Messages delivered as sent, in bursts both ways.",
                &[spec],
            ),
        ),
        (
            "OutOfOrder".into(),
            n(
                "BasicTest",
                "Messages of one chain delivered in another order; skipped keys are stored and used once.",
                &["https://signal.org/docs/specifications/doubleratchet/#out-of-order-messages"],
            ),
        ),
        (
            "AcrossRatchetSteps".into(),
            n(
                "BasicTest",
                "Late messages of a previous chain, found through the header's PN when the next chain starts.",
                &["https://signal.org/docs/specifications/doubleratchet/#out-of-order-messages"],
            ),
        ),
        (
            "DelayedChains".into(),
            n(
                "EdgeCase",
                "Messages held back from two or more chains ago arrive last.",
                &[],
            ),
        ),
        (
            "MessageLoss".into(),
            n("BasicTest", "Lost messages never block later ones.", &[]),
        ),
        (
            "ForwardSecrecy".into(),
            n(
                "Security",
                "A party's state captured after it decrypted a message cannot decrypt that message again; the capture decrypts only messages whose keys are still stored as skipped, which the case marks as expected.",
                &["https://signal.org/docs/specifications/doubleratchet/#security-considerations"],
            ),
        ),
        (
            "PostCompromise".into(),
            n(
                "Security",
                "A capture follows the conversation passively until the victim's next DH ratchet with fresh randomness, and fails from then on (strict in every mode). What it reads before healing differs between conforming implementations: one that generates its next ratchet key only when it next sends ([DR] §6.5) had none when captured, so the steps that need that key name authentication as an alternative and the case is acceptable.",
                &["https://signal.org/docs/specifications/doubleratchet/#security-considerations"],
            ),
        ),
        (
            "TamperVersion".into(),
            n(
                "Adversarial",
                "The version byte changed: refused as unsupported (or any rejection in non-strict mode).",
                &[],
            ),
        ),
        (
            "TamperRatchetKey".into(),
            n(
                "Adversarial",
                "A byte of the header's ratchet public key changed: refused, and the state is unchanged (no DH ratchet on an unauthenticated header). The message is well formed and only its tag is wrong: authentication, classFixed.",
                &[],
            ),
        ),
        (
            "TamperPreviousCounter".into(),
            n(
                "Adversarial",
                "A byte of PN changed: refused without state change (no skipped keys stored for an unauthenticated header). Like N, any of authentication, too_many_skipped and duplicate conforms (alternatives).",
                &[],
            ),
        ),
        (
            "TamperCounter".into(),
            n(
                "Adversarial",
                "A byte of N changed: refused without state change. The new value may claim a jump past MAX_SKIP, an already-used number or a fresh one: too_many_skipped, duplicate and authentication all conform (alternatives).",
                &[],
            ),
        ),
        (
            "TamperCiphertext".into(),
            n(
                "Adversarial",
                "A ciphertext byte changed: authentication failure, and classFixed: only the tag check may refuse it, so even the default mode requires authentication (a padding or parse error here means unauthenticated bytes were examined first: a padding oracle in CBC suites).",
                &[],
            ),
        ),
        (
            "TamperTag".into(),
            n(
                "Adversarial",
                "An authentication tag byte changed: authentication failure (classFixed).",
                &[],
            ),
        ),
        (
            "TamperAssociatedData".into(),
            n(
                "Adversarial",
                "Decryption under different associated data, including ambiguous re-splits of CONCAT(ad, header): authentication failure (classFixed). Where the suite reads the AD as two identity keys and refuses other bytes (signal-v3: invalid_key), an implementation that only MACs the AD fails the tag instead, and authentication is an alternative.",
                &[],
            ),
        ),
        (
            "Atomicity".into(),
            n(
                "KnownBug",
                "After a rejected message the next genuine one still decrypts: a failed decryption must leave the state exactly as it was (skip loop, DH ratchet and skipped-key deletion included).",
                &["https://signal.org/docs/specifications/doubleratchet/#decrypting-messages"],
            ),
        ),
        (
            "Replay".into(),
            n(
                "KnownBug",
                "A message delivered again after it decrypted must be refused: its key was deleted. This suite names the refusal duplicate (SPEC.md §5.4 steps 3 and 8, the latter through the optional window of recent ratchet keys, §8.3); the Double Ratchet's pseudocode derives a key that is not the message's and fails authentication, named as an alternative.",
                &[],
            ),
        ),
        (
            "SkipLimitUniversal".into(),
            n(
                "Limit",
                "Holds for any reasonable MAX_SKIP: a jump of up to 1000 is accepted, a jump of 1 000 000 refused.",
                &[],
            ),
        ),
        (
            "SkipLimitExact".into(),
            n(
                "Limit",
                "Exact boundaries for the limits stated in the case's `limits`; run only against implementations with those limits or configurable ones.",
                &[],
            ),
        ),
        (
            "Eviction".into(),
            n(
                "Limit",
                "Oldest-first eviction of stored skipped keys past the cap.",
                &[],
            ),
        ),
        (
            "Truncated".into(),
            n(
                "Adversarial",
                "A message cut short: malformed below the minimum length, otherwise an authentication failure.",
                &[],
            ),
        ),
        (
            "Malformed".into(),
            n(
                "Adversarial",
                "Bytes that are not a message of this suite. A header naming a small-order ratchet key is invalid_key where the optional all-zero check is made (SPEC.md §2.1), else authentication (alternative).",
                &[],
            ),
        ),
        (
            "RestoredSession".into(),
            n(
                "KnownBug",
                "A party's state is exported and re-imported (the `capture` step) after it sent, and the copy is used in its place: the copy's next message must take the next message key. An implementation whose saved state lags behind its sends re-uses a message key and nonce for a new plaintext (SPEC.md §11.4).",
                &["https://github.com/wireapp/wire-webapp-cryptobox/pull/11"],
            ),
        ),
        (
            "SendBeforeReceive".into(),
            n(
                "EdgeCase",
                "RatchetInitBob leaves Bob without a sending chain until Alice's first message arrives.",
                &[spec],
            ),
        ),
        (
            "EdgeCase".into(),
            n("EdgeCase", "Unusual plaintext sizes.", &[]),
        ),
    ]);
    let mut notes = notes;
    notes.extend(erasure::notes());
    if suite.wire_encoding() == WireEncoding::WhisperProtobuf {
        notes.insert(
            "TamperEncoding".into(),
            n(
                "Adversarial",
                "A protobuf tag or length byte changed: the message no longer parses as sent. In the default mode any refusal passes; the class recorded is the reference's under docs/SIGNAL-V3.md §3 (a wire-type mismatch or truncated field is malformed), which --strict-errors enforces. The state must not change.",
                &["https://github.com/signalapp/libsignal-protocol-java/blob/master/protobuf/WhisperTextProtocol.proto"],
            ),
        );
        notes.insert(
            "Truncated".into(),
            n(
                "Adversarial",
                "A message cut short: with the MAC taken from the end, every cut leaves a protobuf field truncated or missing (malformed).",
                &[],
            ),
        );
    }
    Ok(vector_file(SCENARIO_SCHEMA, suite.name(), notes, c.tests))
}
