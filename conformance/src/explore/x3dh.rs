//! Random key-agreement cases: X3DH from both sides (the vectors' `x3dh`
//! kind) and Bob's prekey store receiving initial messages (`x3dh_accept`).
//!
//! The session-scenario model starts from an agreed root key, so it never
//! sees a bundle signature, the X3DH KDF input or a one-time prekey; the bugs
//! that live there (the `NoKeyAgreement` and `NoInitialMessages` mutants)
//! are found here. Each case picks one *shape* — one of the families
//! `generate` writes (valid agreements, each XEdDSA rule broken on its own,
//! wrong lengths, replayed, forged and misdirected initial messages) plus
//! random delivery sequences to one store — and draws everything else from
//! the seed: keys, the bit flipped, the length, the prekey ids, plaintexts.
//! The builders are the generator's (`generate::x3dh`, `generate::accept`),
//! so the expected outcomes are computed and checked against the reference
//! exactly as for the shipped vectors, and the cases are what the runner
//! expects.
//!
//! Keys come from labels (`generate`'s [`derived_key`](crate::derive::derived_key))
//! whose root is 128 bits drawn from ChaCha20 seeded with the seed: every
//! seed gives fresh keys, and the same seed the same case.

use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use ratchetproof_protocol::Suite;

use crate::generate::GenerateError;
use crate::generate::accept::{self, Bob, Cases, OPK_IDS, SPK_ID, Want, v3_wire};
use crate::generate::flags::Flag;
use crate::generate::x3dh::{
    Builder, initiator_with, pair, parties, search, signatures, with_signature,
};
use crate::vectors::{AcceptCase, ErrorClass, Hex, X3dhCase};

/// A random X3DH case (vectors' `x3dh` kind) under `suite`, every choice
/// drawn from `seed`, numbered `tc_id`; expected values computed by the
/// reference. Returns the shape's name with it.
///
/// Should the reference ever disagree with the shape drawn (a bug of this
/// module, which the tests look for), the next draw of the same seed is
/// taken; after eight such draws the error says why. The caller reports
/// that as the reference's failure, never as the implementation's.
pub fn x3dh_case(suite: Suite, seed: u64, tc_id: u32) -> Result<(&'static str, X3dhCase), String> {
    let mut rng = stream(b"x3dh", seed);
    let mut last = String::new();
    for _ in 0..8 {
        match draw_x3dh(suite, &mut rng) {
            Ok((shape, mut case)) => {
                case.info.tc_id = tc_id;
                return Ok((shape.name(), case));
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "no X3DH case could be built for seed {seed}: {last}"
    ))
}

/// A random prekey-store acceptance case (vectors' `x3dh_accept` kind) under
/// `suite`, every choice drawn from `seed`, numbered `tc_id`, with its
/// shape's name; errors as [`x3dh_case`].
pub fn accept_case(
    suite: Suite,
    seed: u64,
    tc_id: u32,
) -> Result<(&'static str, AcceptCase), String> {
    let mut rng = stream(b"accept", seed);
    let mut last = String::new();
    for _ in 0..8 {
        match draw_accept(suite, &mut rng) {
            Ok((shape, mut case)) => {
                case.info.tc_id = tc_id;
                return Ok((shape.name(), case));
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "no prekey-store case could be built for seed {seed}: {last}"
    ))
}

/// ChaCha20 keyed by the kind and the seed.
fn stream(kind: &[u8], seed: u64) -> ChaCha20Rng {
    let mut key = [0u8; 32];
    for (k, b) in key.iter_mut().zip(seed.to_le_bytes().iter().chain(kind)) {
        *k = *b;
    }
    ChaCha20Rng::from_seed(key)
}

/// A uniform index below `n` (`n` > 0; the bias of the modulo is negligible).
fn pick(rng: &mut ChaCha20Rng, n: usize) -> usize {
    let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
    usize::try_from(rng.next_u64() % n).unwrap_or(0)
}

fn coin(rng: &mut ChaCha20Rng) -> bool {
    rng.next_u32() & 1 == 1
}

fn choose<T: Copy>(rng: &mut ChaCha20Rng, items: &[T]) -> Option<T> {
    items.get(pick(rng, items.len())).copied()
}

/// The root of every label of one case: 128 fresh bits.
fn root(rng: &mut ChaCha20Rng, kind: &str) -> String {
    format!(
        "explore/{kind}/{:016x}{:016x}",
        rng.next_u64(),
        rng.next_u64()
    )
}

fn bytes(rng: &mut ChaCha20Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    out
}

fn failure(comment: &str, message: &str) -> GenerateError {
    GenerateError::Disagreement {
        tc_id: 0,
        comment: comment.into(),
        message: message.into(),
    }
}

// ------------------------------------------------------------------- X3DH

/// What an X3DH case is built to check; one per family of `generate`'s
/// `x3dh` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum X3dhShape {
    /// Both sides agree, with a one-time prekey.
    WithOneTimePrekey,
    /// Both sides agree, without one.
    WithoutOneTimePrekey,
    /// One random bit of the bundle signature flipped.
    SignatureBitFlip,
    /// The signature over another signed prekey.
    SignatureOverOtherPrekey,
    /// The signature checked under another identity key.
    SignatureUnderOtherIdentity,
    /// 64 zero bytes.
    ZeroSignature,
    /// Bits 253 and/or 254 of `s` set.
    SHighBits,
    /// One key or the signature of the wrong length.
    WrongLength,
    /// libsignal's sign-bit convention: accepted.
    LibsignalSignBit,
    /// libsignal's convention with the sign bit cleared: refused.
    LibsignalSignBitCleared,
    /// `s + q` below 2^253: accepted.
    UnreducedS,
    /// `s + k·q` at or above 2^253: refused.
    SPlusKqBound,
    /// Identity key u = 9: accepted.
    KeyNine,
    /// Identity key 9 + p or 9 with bit 255: refused.
    NonCanonicalKey,
    /// Identity key p − 1 with a signature forged for `inv(0) = 0`: refused.
    KeyMinusOne,
    /// Identity key on the twist: refused.
    KeyOnTwist,
    /// R a non-canonical encoding of the identity point: refused.
    NonCanonicalR,
}

impl X3dhShape {
    /// The shape's name in signatures and coverage (`zero-signature`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            X3dhShape::WithOneTimePrekey => "with-one-time-prekey",
            X3dhShape::WithoutOneTimePrekey => "without-one-time-prekey",
            X3dhShape::SignatureBitFlip => "signature-bit-flip",
            X3dhShape::SignatureOverOtherPrekey => "signature-over-other-prekey",
            X3dhShape::SignatureUnderOtherIdentity => "signature-under-other-identity",
            X3dhShape::ZeroSignature => "zero-signature",
            X3dhShape::SHighBits => "s-high-bits",
            X3dhShape::WrongLength => "wrong-length",
            X3dhShape::LibsignalSignBit => "libsignal-sign-bit",
            X3dhShape::LibsignalSignBitCleared => "libsignal-sign-bit-cleared",
            X3dhShape::UnreducedS => "unreduced-s",
            X3dhShape::SPlusKqBound => "s-plus-kq-bound",
            X3dhShape::KeyNine => "key-nine",
            X3dhShape::NonCanonicalKey => "non-canonical-key",
            X3dhShape::KeyMinusOne => "key-minus-one",
            X3dhShape::KeyOnTwist => "key-on-twist",
            X3dhShape::NonCanonicalR => "non-canonical-r",
        }
    }

    pub(crate) const ALL: [X3dhShape; 17] = [
        X3dhShape::WithOneTimePrekey,
        X3dhShape::WithoutOneTimePrekey,
        X3dhShape::SignatureBitFlip,
        X3dhShape::SignatureOverOtherPrekey,
        X3dhShape::SignatureUnderOtherIdentity,
        X3dhShape::ZeroSignature,
        X3dhShape::SHighBits,
        X3dhShape::WrongLength,
        X3dhShape::LibsignalSignBit,
        X3dhShape::LibsignalSignBitCleared,
        X3dhShape::UnreducedS,
        X3dhShape::SPlusKqBound,
        X3dhShape::KeyNine,
        X3dhShape::NonCanonicalKey,
        X3dhShape::KeyMinusOne,
        X3dhShape::KeyOnTwist,
        X3dhShape::NonCanonicalR,
    ];
}

const AUTH: Option<ErrorClass> = Some(ErrorClass::Authentication);

/// One X3DH case of a random shape.
pub(crate) fn draw_x3dh(
    suite: Suite,
    rng: &mut ChaCha20Rng,
) -> Result<(X3dhShape, X3dhCase), GenerateError> {
    let shape = choose(rng, &X3dhShape::ALL).unwrap_or(X3dhShape::WithOneTimePrekey);
    let label = root(rng, "x3dh");
    let mut b = Builder::new(suite);
    build_x3dh(&mut b, shape, &label, rng)?;
    let case = b
        .into_cases()
        .pop()
        .ok_or_else(|| failure(&label, "no case built"))?;
    Ok((shape, case))
}

fn build_x3dh(
    b: &mut Builder,
    shape: X3dhShape,
    label: &str,
    rng: &mut ChaCha20Rng,
) -> Result<(), GenerateError> {
    let spk_of = |l: &str| pair(&format!("{l}/spkb")).public_key().encode();
    let ikb_of = |l: &str| pair(&format!("{l}/ikb"));
    let with_opk = coin(rng);
    let p = parties(label, with_opk);
    let opk = if with_opk { "with" } else { "without" };
    match shape {
        X3dhShape::WithOneTimePrekey | X3dhShape::WithoutOneTimePrekey => {
            let with = shape == X3dhShape::WithOneTimePrekey;
            let p = parties(label, with);
            let (flag, what) = if with {
                (Flag::WithOneTimePrekey, "with")
            } else {
                (Flag::WithoutOneTimePrekey, "without")
            };
            b.push(
                &format!("explore: agreement {what} a one-time prekey"),
                &[flag],
                Some(p.initiator),
                Some(p.responder),
                None,
            )
        }
        X3dhShape::SignatureBitFlip => {
            let (byte, bit) = (pick(rng, 64), pick(rng, 8));
            let mut i = p.initiator;
            if let Some(v) = i.peer_signed_prekey_signature.0.get_mut(byte) {
                *v ^= 1 << bit;
            }
            b.push(
                &format!("explore: bundle signature with bit {bit} of byte {byte} flipped"),
                &[Flag::BadSignature],
                Some(i),
                None,
                AUTH,
            )
        }
        X3dhShape::SignatureOverOtherPrekey => {
            let mut i = p.initiator;
            i.peer_signed_prekey =
                Hex::from(pair(&format!("{label}/other-spk")).public_key().as_bytes());
            b.push(
                &format!("explore: bundle ({opk} one-time prekey) whose signature is over another signed prekey"),
                &[Flag::BadSignature],
                Some(i),
                None,
                AUTH,
            )
        }
        X3dhShape::SignatureUnderOtherIdentity => {
            let mut i = p.initiator;
            i.peer_identity_key =
                Hex::from(pair(&format!("{label}/other-ik")).public_key().as_bytes());
            b.push(
                &format!("explore: bundle ({opk} one-time prekey) signature checked under another identity key"),
                &[Flag::BadSignature],
                Some(i),
                None,
                AUTH,
            )
        }
        X3dhShape::ZeroSignature => {
            let mut i = p.initiator;
            i.peer_signed_prekey_signature = Hex(vec![0; 64]);
            b.push(
                "explore: all-zero bundle signature",
                &[Flag::BadSignature],
                Some(i),
                None,
                AUTH,
            )
        }
        X3dhShape::SHighBits => {
            let bits = choose(rng, &[0x20u8, 0x40, 0x60]).unwrap_or(0x60);
            let mut i = p.initiator;
            if let Some(last) = i.peer_signed_prekey_signature.0.last_mut() {
                *last |= bits;
            }
            b.push(
                &format!("explore: bundle signature with s ≥ 2^253 (byte 63 |= {bits:#04x})"),
                &[Flag::BadSignature, Flag::XeddsaEncodingEdge],
                Some(i),
                None,
                AUTH,
            )
        }
        X3dhShape::WrongLength => wrong_length(b, p, rng),
        X3dhShape::LibsignalSignBit | X3dhShape::LibsignalSignBitCleared => {
            let (found, sig) = search(label, |l| {
                signatures::libsignal_sign(&ikb_of(l), &spk_of(l), l)
            })?;
            if shape == X3dhShape::LibsignalSignBit {
                let p = with_signature(&found, with_opk, sig);
                b.push_edge_signature(
                    &format!("explore: bundle ({opk} one-time prekey) signed in libsignal's convention (sign bit in bit 255 of s): accepted"),
                    &[Flag::LibsignalSignBit],
                    Some(p.initiator),
                    Some(p.responder),
                )
            } else {
                let mut cleared = sig;
                cleared[63] &= 0x7F;
                let p = with_signature(&found, with_opk, cleared);
                b.push(
                    "explore: libsignal-convention signature with its sign bit cleared: refused",
                    &[Flag::LibsignalSignBit, Flag::BadSignature],
                    Some(p.initiator),
                    None,
                    AUTH,
                )
            }
        }
        X3dhShape::UnreducedS => {
            let (found, sig) = search(label, |l| {
                signatures::s_plus_q(&ikb_of(l), &spk_of(l), l, 1, 0x00)
            })?;
            let p = with_signature(&found, with_opk, sig);
            b.push_edge_signature(
                &format!(
                    "explore: bundle ({opk} one-time prekey) signature with s + q < 2^253: accepted"
                ),
                &[Flag::UnreducedS],
                Some(p.initiator),
                Some(p.responder),
            )
        }
        X3dhShape::SPlusKqBound => {
            let k = 2 + u16::try_from(pick(rng, 6)).unwrap_or(0);
            let (found, sig) = search(label, |l| {
                [0x20u8, 0x40, 0x60]
                    .into_iter()
                    .find_map(|top| signatures::s_plus_q(&ikb_of(l), &spk_of(l), l, k, top))
            })?;
            let p = with_signature(&found, with_opk, sig);
            b.push(
                &format!("explore: bundle signature with s + {k}q ≥ 2^253 in place of s: refused (only the s bound rejects it)"),
                &[Flag::SBound, Flag::BadSignature],
                Some(p.initiator),
                None,
                AUTH,
            )
        }
        X3dhShape::KeyNine | X3dhShape::NonCanonicalKey => {
            let sig = signatures::sign_as_nine(&spk_of(label), label);
            if shape == X3dhShape::KeyNine {
                b.push(
                    "explore: identity key u = 9 with a valid signature: accepted (initiator only)",
                    &[Flag::NonCanonicalKey],
                    Some(initiator_with(label, signatures::NINE, sig)),
                    None,
                    None,
                )
            } else {
                let (key, what) = choose(
                    rng,
                    &[
                        (signatures::NINE_PLUS_P, "9 + p"),
                        (signatures::NINE_HIGH_BIT, "9 with bit 255 set"),
                    ],
                )
                .unwrap_or((signatures::NINE_PLUS_P, "9 + p"));
                b.push(
                    &format!(
                        "explore: identity key u = {what} with a signature valid for u = 9: refused"
                    ),
                    &[Flag::NonCanonicalKey, Flag::BadSignature],
                    Some(initiator_with(label, key, sig)),
                    None,
                    AUTH,
                )
            }
        }
        X3dhShape::KeyMinusOne => {
            let forged = signatures::forged_for_p_minus_one(&spk_of(label), label)
                .ok_or_else(|| failure(label, "no forgery found"))?;
            b.push(
                "explore: identity key u = p − 1 with a signature forged for inv(0) = 0: refused",
                &[Flag::NonCanonicalKey, Flag::BadSignature],
                Some(initiator_with(label, signatures::P_MINUS_ONE, forged)),
                None,
                AUTH,
            )
        }
        X3dhShape::KeyOnTwist => {
            let u = twist_u(rng);
            let sig = signatures::spec_sign(&ikb_of(label), &spk_of(label), label);
            b.push(
                "explore: identity key on the twist (no Edwards point): refused",
                &[Flag::NonCanonicalKey, Flag::BadSignature],
                Some(initiator_with(label, u, sig)),
                None,
                AUTH,
            )
        }
        X3dhShape::NonCanonicalR => {
            let mut negative_zero = [0u8; 32];
            negative_zero[0] = 1;
            negative_zero[31] = 0x80;
            // p + 1 = 2^255 − 18: y = 1 not reduced, with either sign bit.
            let mut one_plus_p = [0xFFu8; 32];
            one_plus_p[0] = 0xEE;
            one_plus_p[31] = 0x7F;
            let mut one_plus_p_signed = one_plus_p;
            one_plus_p_signed[31] = 0xFF;
            let (r_enc, what) = choose(
                rng,
                &[
                    (negative_zero, "x = 0 with the sign bit set"),
                    (one_plus_p, "y = p + 1"),
                    (one_plus_p_signed, "y = p + 1 with the sign bit set"),
                ],
            )
            .unwrap_or((negative_zero, "x = 0 with the sign bit set"));
            let sig = signatures::identity_r(&ikb_of(label), &spk_of(label), r_enc);
            let p = with_signature(label, with_opk, sig);
            b.push(
                &format!("explore: signature whose R is a non-canonical encoding of the identity point ({what}): refused"),
                &[Flag::NonCanonicalR, Flag::BadSignature],
                Some(p.initiator),
                None,
                AUTH,
            )
        }
    }
}

/// A random u below p with no Edwards point (about half of all u are).
fn twist_u(rng: &mut ChaCha20Rng) -> [u8; 32] {
    (0..64)
        .find_map(|_| {
            let mut u = [0u8; 32];
            rng.fill_bytes(&mut u);
            // Below 2^255 − 2^248 < p.
            u[31] &= 0x7F;
            (u[31] < 0x7F && MontgomeryPoint(u).to_edwards(0).is_none()).then_some(u)
        })
        .unwrap_or_else(signatures::twist_u)
}

/// One input of the wrong length, random bytes: a key of Alice's bundle, the
/// signature, or a key Bob is given.
fn wrong_length(
    b: &mut Builder,
    p: crate::generate::x3dh::Parties,
    rng: &mut ChaCha20Rng,
) -> Result<(), GenerateError> {
    let field = pick(rng, 6);
    let right = if field == 5 { 64 } else { 32 };
    // 0..=65 without the right length.
    let mut len = pick(rng, 65);
    if len >= right {
        len += 1;
    }
    let wrong = Hex(bytes(rng, len));
    let flags = [Flag::WrongX3dhLength];
    let (mut i, mut r) = (p.initiator, p.responder);
    let key = Some(ErrorClass::InvalidKey);
    // IKb, SPKb and the signature enter the signature check, which may come
    // before the length check: either class conforms (SPEC.md §9).
    let either = [ErrorClass::Authentication];
    match field {
        0 => {
            i.peer_identity_key = wrong;
            let c = format!("explore: {len}-byte peer identity key");
            b.push_or(&c, &flags, Some(i), None, key, &either)
        }
        1 => {
            i.peer_signed_prekey = wrong;
            let c = format!("explore: {len}-byte signed prekey");
            b.push_or(&c, &flags, Some(i), None, key, &either)
        }
        2 => {
            i.peer_one_time_prekey = Some(wrong);
            let c = format!("explore: {len}-byte one-time prekey");
            b.push(&c, &flags, Some(i), None, key)
        }
        3 => {
            r.peer_ephemeral_key = wrong;
            let c = format!("explore: responder given a {len}-byte ephemeral key");
            b.push(&c, &flags, None, Some(r), key)
        }
        4 => {
            r.peer_identity_key = wrong;
            let c = format!("explore: responder given a {len}-byte peer identity key");
            b.push(&c, &flags, None, Some(r), key)
        }
        _ => {
            i.peer_signed_prekey_signature = wrong;
            let c = format!("explore: {len}-byte bundle signature");
            b.push_or(&c, &flags, Some(i), None, key, &either)
        }
    }
}

// ---------------------------------------------------------- prekey store

/// What an acceptance case is built to check; one per family of
/// `generate`'s `x3dh_accept` file, and random sequences mixing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AcceptShape {
    /// One genuine initial message, with or without a one-time prekey.
    Accepted,
    /// The same message with a one-time prekey twice.
    ReplayWithOneTimePrekey,
    /// A second initiator given the same one-time prekey.
    OneTimePrekeyServedTwice,
    /// The same message without a one-time prekey twice.
    ReplayWithoutOneTimePrekey,
    /// A forgery naming a one-time prekey, then the genuine message.
    ForgedFirst,
    /// A signed prekey id Bob does not hold, then a genuine message.
    UnknownSignedPrekey,
    /// A one-time prekey id Bob does not hold, then a genuine message.
    UnknownOneTimePrekey,
    /// A message cut short, then the genuine one.
    Truncated,
    /// An empty message, then a genuine one.
    Empty,
    /// Two to six deliveries of any of the above kinds, in random order.
    Sequence,
    /// One of the signal-v3 wire cases (`generate`'s `v3_wire`: a field
    /// missing, doubled, overlong or of the wrong type, with a correct MAC),
    /// for suites with that encoding.
    V3Wire,
}

impl AcceptShape {
    /// The shape's name in signatures and coverage (`forged-first`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            AcceptShape::Accepted => "accepted",
            AcceptShape::ReplayWithOneTimePrekey => "replay-with-one-time-prekey",
            AcceptShape::OneTimePrekeyServedTwice => "one-time-prekey-served-twice",
            AcceptShape::ReplayWithoutOneTimePrekey => "replay-without-one-time-prekey",
            AcceptShape::ForgedFirst => "forged-first",
            AcceptShape::UnknownSignedPrekey => "unknown-signed-prekey",
            AcceptShape::UnknownOneTimePrekey => "unknown-one-time-prekey",
            AcceptShape::Truncated => "truncated",
            AcceptShape::Empty => "empty",
            AcceptShape::Sequence => "sequence",
            AcceptShape::V3Wire => "v3-wire",
        }
    }

    pub(crate) const ALL: [AcceptShape; 11] = [
        AcceptShape::Accepted,
        AcceptShape::ReplayWithOneTimePrekey,
        AcceptShape::OneTimePrekeyServedTwice,
        AcceptShape::ReplayWithoutOneTimePrekey,
        AcceptShape::ForgedFirst,
        AcceptShape::UnknownSignedPrekey,
        AcceptShape::UnknownOneTimePrekey,
        AcceptShape::Truncated,
        AcceptShape::Empty,
        AcceptShape::Sequence,
        AcceptShape::V3Wire,
    ];

    /// The shapes `suite` has.
    pub(crate) fn of(suite: Suite) -> Vec<AcceptShape> {
        AcceptShape::ALL
            .into_iter()
            .filter(|s| *s != AcceptShape::V3Wire || v3_wire::applies(suite))
            .collect()
    }
}

/// One delivery to Bob's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// A new initiator's genuine message naming this one-time prekey.
    Genuine(Option<u32>),
    /// Delivery `.0` (a genuine one) again.
    Replay(usize),
    /// A new initiator's message naming this one-time prekey, its tag broken.
    Forged(Option<u32>),
    /// A genuine message naming a signed prekey id Bob does not hold.
    UnknownSigned(u32, Option<u32>),
    /// A genuine message naming a one-time prekey id Bob does not hold.
    UnknownOneTime(u32),
    /// A genuine message cut to this many bytes (fewer than it has).
    Truncated(usize),
    /// Zero bytes.
    Empty,
}

const REPLAYED_OPK: &[ErrorClass] = &[ErrorClass::InvalidKey, ErrorClass::Duplicate];
const INVALID_KEY: &[ErrorClass] = &[ErrorClass::InvalidKey];
const AUTHENTICATION: &[ErrorClass] = &[ErrorClass::Authentication];
const DUPLICATE: &[ErrorClass] = &[ErrorClass::Duplicate];
const MALFORMED: &[ErrorClass] = &[ErrorClass::Malformed];
const CUT_SHORT: &[ErrorClass] = &[ErrorClass::Malformed, ErrorClass::Unsupported];

/// One acceptance case of a random shape.
pub(crate) fn draw_accept(
    suite: Suite,
    rng: &mut ChaCha20Rng,
) -> Result<(AcceptShape, AcceptCase), GenerateError> {
    let shape = choose(rng, &AcceptShape::of(suite)).unwrap_or(AcceptShape::Accepted);
    let items = accept_items(shape, rng);
    let label = root(rng, "accept");
    let mut c = Cases::new(suite);
    if shape == AcceptShape::V3Wire {
        v3_wire::cases_under(&mut c, &label)?;
    } else {
        deliver(&mut c, suite, &label, shape, &items, rng)?;
    }
    let mut cases = c.into_cases();
    let mut case = match pick(rng, cases.len()) {
        k if k < cases.len() => cases.swap_remove(k),
        _ => return Err(failure(&label, "no case built")),
    };
    if shape == AcceptShape::V3Wire {
        case.info.comment = format!("explore: v3 wire: {}", case.info.comment);
    }
    Ok((shape, case))
}

fn some_opk(rng: &mut ChaCha20Rng) -> Option<u32> {
    choose(rng, &OPK_IDS)
}

fn maybe_opk(rng: &mut ChaCha20Rng) -> Option<u32> {
    if coin(rng) { some_opk(rng) } else { None }
}

/// A signed prekey id other than Bob's.
fn unknown_spk(rng: &mut ChaCha20Rng) -> u32 {
    match rng.next_u32() {
        SPK_ID => SPK_ID.wrapping_add(1),
        id => id,
    }
}

/// A one-time prekey id Bob never held.
fn unknown_opk(rng: &mut ChaCha20Rng) -> u32 {
    let id = rng.next_u32();
    if OPK_IDS.contains(&id) {
        id.wrapping_add(OPK_IDS.len() as u32)
    } else {
        id
    }
}

/// The cut length is filled in once the message exists; `usize::MAX` means
/// "draw it then".
const CUT_LATER: usize = usize::MAX;

fn accept_items(shape: AcceptShape, rng: &mut ChaCha20Rng) -> Vec<Item> {
    match shape {
        AcceptShape::Accepted => vec![Item::Genuine(maybe_opk(rng))],
        AcceptShape::ReplayWithOneTimePrekey => vec![Item::Genuine(some_opk(rng)), Item::Replay(0)],
        AcceptShape::OneTimePrekeyServedTwice => {
            let opk = some_opk(rng);
            vec![Item::Genuine(opk), Item::Genuine(opk)]
        }
        AcceptShape::ReplayWithoutOneTimePrekey => vec![Item::Genuine(None), Item::Replay(0)],
        AcceptShape::ForgedFirst => {
            let opk = some_opk(rng);
            vec![Item::Forged(opk), Item::Genuine(opk)]
        }
        AcceptShape::UnknownSignedPrekey => vec![
            Item::UnknownSigned(unknown_spk(rng), maybe_opk(rng)),
            Item::Genuine(maybe_opk(rng)),
        ],
        AcceptShape::UnknownOneTimePrekey => vec![
            Item::UnknownOneTime(unknown_opk(rng)),
            Item::Genuine(maybe_opk(rng)),
        ],
        AcceptShape::Truncated => vec![Item::Truncated(CUT_LATER), Item::Genuine(maybe_opk(rng))],
        AcceptShape::Empty => vec![Item::Empty, Item::Genuine(maybe_opk(rng))],
        AcceptShape::Sequence => {
            let n = 2 + pick(rng, 5);
            let mut items: Vec<Item> = Vec::new();
            for _ in 0..n {
                let genuine: Vec<usize> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| matches!(it, Item::Genuine(_)))
                    .map(|(k, _)| k)
                    .collect();
                let item = match pick(rng, 8) {
                    0 | 1 => Item::Genuine(maybe_opk(rng)),
                    2 => match choose(rng, &genuine) {
                        Some(k) => Item::Replay(k),
                        None => Item::Genuine(maybe_opk(rng)),
                    },
                    3 => Item::Forged(maybe_opk(rng)),
                    4 => Item::UnknownSigned(unknown_spk(rng), maybe_opk(rng)),
                    5 => Item::UnknownOneTime(unknown_opk(rng)),
                    6 => Item::Truncated(CUT_LATER),
                    _ => Item::Empty,
                };
                items.push(item);
            }
            items
        }
        AcceptShape::V3Wire => Vec::new(),
    }
}

/// Builds the messages of `items`, follows Bob's store through them to say
/// what each must give, and adds the case.
fn deliver(
    c: &mut Cases,
    suite: Suite,
    label: &str,
    shape: AcceptShape,
    items: &[Item],
    rng: &mut ChaCha20Rng,
) -> Result<(), GenerateError> {
    let bob = Bob::new(label);
    let plaintexts: Vec<Vec<u8>> = items
        .iter()
        .map(|_| {
            let len = 1 + pick(rng, 48);
            bytes(rng, len)
        })
        .collect();
    // Bob's one-time prekeys still in the store, and whether each delivery
    // was accepted.
    let mut store: Vec<u32> = OPK_IDS.to_vec();
    let mut accepted: Vec<bool> = Vec::new();
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut deliveries: Vec<(Vec<u8>, Want<'_>)> = Vec::new();
    let mut described: Vec<String> = Vec::new();
    let mut flags: Vec<Flag> = Vec::new();
    let empty: &[u8] = &[];
    for (k, (item, plaintext)) in items.iter().zip(&plaintexts).enumerate() {
        let alice = format!("{label}/alice/{k}");
        let message = |spk: u32, opk: Option<u32>, forge: bool| {
            accept::initial_message(
                suite,
                &alice,
                &bob.bundle(label, spk, opk),
                plaintext,
                forge,
            )
        };
        let held = |id: &Option<u32>, store: &[u32]| id.is_none_or(|id| store.contains(&id));
        let (bytes_out, want, ok, what, flag) = match *item {
            Item::Genuine(opk) => {
                let m = message(SPK_ID, opk, false)?;
                if held(&opk, &store) {
                    store.retain(|id| Some(*id) != opk);
                    (
                        m,
                        Want::Accept(plaintext),
                        true,
                        format!("genuine ({})", opk_name(opk)),
                        Flag::AcceptsInitial,
                    )
                } else {
                    (
                        m,
                        Want::Refuse(INVALID_KEY),
                        false,
                        format!("genuine naming the used {}", opk_name(opk)),
                        Flag::OneTimePrekeyDeleted,
                    )
                }
            }
            Item::Replay(of) => {
                let item = items.get(of).copied();
                let m = messages.get(of).cloned().unwrap_or_default();
                let was = accepted.get(of).copied().unwrap_or(false);
                let first = plaintexts.get(of).map_or(empty, Vec::as_slice);
                match item {
                    Some(Item::Genuine(None)) => (
                        m,
                        Want::AcceptOrRefuse(first, DUPLICATE),
                        true,
                        format!("replay of #{of} (no one-time prekey)"),
                        Flag::ReplayWithoutOneTimePrekey,
                    ),
                    Some(Item::Genuine(Some(_))) if was => (
                        m,
                        Want::Refuse(REPLAYED_OPK),
                        false,
                        format!("replay of #{of} (its one-time prekey used)"),
                        Flag::OneTimePrekeyDeleted,
                    ),
                    _ => (
                        m,
                        Want::Refuse(INVALID_KEY),
                        false,
                        format!("replay of refused #{of}"),
                        Flag::OneTimePrekeyDeleted,
                    ),
                }
            }
            Item::Forged(opk) => {
                let m = message(SPK_ID, opk, true)?;
                let classes = if held(&opk, &store) {
                    AUTHENTICATION
                } else {
                    INVALID_KEY
                };
                (
                    m,
                    Want::Refuse(classes),
                    false,
                    format!("forged ({})", opk_name(opk)),
                    Flag::OneTimePrekeyAtomicity,
                )
            }
            Item::UnknownSigned(spk, opk) => {
                let m = message(spk, opk, false)?;
                (
                    m,
                    Want::Refuse(INVALID_KEY),
                    false,
                    format!("naming unknown signed prekey {spk}"),
                    Flag::UnknownPreKey,
                )
            }
            Item::UnknownOneTime(opk) => {
                let m = message(SPK_ID, Some(opk), false)?;
                (
                    m,
                    Want::Refuse(INVALID_KEY),
                    false,
                    format!("naming unknown one-time prekey {opk}"),
                    Flag::UnknownPreKey,
                )
            }
            Item::Truncated(_) => {
                let m = message(SPK_ID, some_opk(rng), false)?;
                let cut = 1 + pick(rng, cut_limit(suite, &m));
                let m = m.get(..cut).unwrap_or_default().to_vec();
                (
                    m,
                    Want::Refuse(CUT_SHORT),
                    false,
                    format!("cut to {cut} bytes"),
                    Flag::MalformedInitial,
                )
            }
            Item::Empty => (
                Vec::new(),
                Want::Refuse(MALFORMED),
                false,
                "empty".to_string(),
                Flag::MalformedInitial,
            ),
        };
        messages.push(bytes_out.clone());
        accepted.push(ok);
        deliveries.push((bytes_out, want));
        described.push(format!("#{k} {what}"));
        if !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    let comment = format!(
        "explore: {}: the store receives {}",
        shape_name(shape),
        described.join(", ")
    );
    c.add(label, &comment, &flags, &bob, deliveries)
}

/// How far a cut still leaves a message the suite refuses as malformed or
/// unsupported: within the fields around Alice's ratchet message (whose own
/// ciphertext, cut, could just fail its tag). Asked of the suite's decoder,
/// so no layout is assumed.
fn cut_limit(suite: Suite, message: &[u8]) -> usize {
    let embedded = suite.decode_initial(message).map_or(0, |i| i.message.len());
    message.len().saturating_sub(embedded).max(1)
}

fn opk_name(opk: Option<u32>) -> String {
    opk.map_or_else(
        || "no one-time prekey".into(),
        |id| format!("one-time prekey {id}"),
    )
}

fn shape_name(shape: AcceptShape) -> &'static str {
    match shape {
        AcceptShape::Accepted => "an initial message accepted",
        AcceptShape::ReplayWithOneTimePrekey => "a replay with a one-time prekey",
        AcceptShape::OneTimePrekeyServedTwice => "a one-time prekey served twice",
        AcceptShape::ReplayWithoutOneTimePrekey => "a replay without a one-time prekey",
        AcceptShape::ForgedFirst => "a forgery before the genuine message",
        AcceptShape::UnknownSignedPrekey => "an unknown signed prekey id",
        AcceptShape::UnknownOneTimePrekey => "an unknown one-time prekey id",
        AcceptShape::Truncated => "a message cut short",
        AcceptShape::Empty => "an empty message",
        AcceptShape::Sequence => "a random sequence",
        AcceptShape::V3Wire => "a signal-v3 wire case",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use std::collections::BTreeSet;

    use ratchetproof_protocol::suite::{self, DEFAULT_SUITE};

    use super::*;
    use crate::implementation::Implementation;
    use crate::mutants::{Bug, ByModel, ByVectors, MissedByModel, Mutant, Variant};
    use crate::runner::{CaseRef, RunOptions, Status, run_case};

    const SEEDS: u64 = 500;
    /// Every mutant of the key-agreement domain is found within this many seeds.
    const K: u64 = 200;

    fn modes() -> [RunOptions; 2] {
        [
            RunOptions::default(),
            RunOptions {
                strict_errors: true,
                ..RunOptions::default()
            },
        ]
    }

    /// The first failing kind of seed `seed` for `imp`, if any.
    fn failure_of(
        imp: &mut dyn Implementation,
        suite: Suite,
        seed: u64,
        options: &RunOptions,
    ) -> Option<String> {
        let caps = imp.capabilities();
        let (_, x) = x3dh_case(suite, seed, 1).unwrap_or_else(|e| panic!("{e}"));
        let (_, a) = accept_case(suite, seed, 1).unwrap_or_else(|e| panic!("{e}"));
        let cases = [CaseRef::X3dh(&x), CaseRef::X3dhAccept(&a)];
        cases.into_iter().find_map(
            |case| match run_case(imp, &caps, suite.name(), case, options) {
                Status::Passed => None,
                other => Some(format!("{}: {other:?}", case.info().comment)),
            },
        )
    }

    #[test]
    fn every_shape_builds_and_the_reference_passes_every_case() {
        for suite in suite::all()
            .into_iter()
            .filter(|s| s.key_agreement().kem().is_none())
        {
            let mut x3dh_shapes = BTreeSet::new();
            let mut accept_shapes = BTreeSet::new();
            for seed in 0..SEEDS {
                // The draws themselves never disagree with the reference.
                let (shape, _) = draw_x3dh(suite, &mut stream(b"x3dh", seed))
                    .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", suite.name()));
                x3dh_shapes.insert(shape);
                let (shape, _) = draw_accept(suite, &mut stream(b"accept", seed))
                    .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", suite.name()));
                accept_shapes.insert(shape);
                for options in modes() {
                    let mut reference = crate::Reference::new();
                    if let Some(f) = failure_of(&mut reference, suite, seed, &options) {
                        panic!(
                            "{} seed {seed} (strict {}): {f}",
                            suite.name(),
                            options.strict_errors
                        );
                    }
                }
            }
            assert_eq!(
                x3dh_shapes,
                X3dhShape::ALL.into_iter().collect(),
                "{}",
                suite.name()
            );
            assert_eq!(
                accept_shapes,
                AcceptShape::of(suite).into_iter().collect(),
                "{}",
                suite.name()
            );
        }
    }

    /// The verifiers the default suite allows besides the reference's
    /// (SPEC.md §7.3 "What conforms") meet no divergence: the libsignal
    /// sign-bit and unreduced-s shapes accept their refusal.
    #[test]
    fn the_strict_xeddsa_verifiers_pass_every_case() {
        for variant in [Variant::XeddsaSignZero, Variant::XeddsaCanonicalS] {
            for seed in 0..K {
                for options in modes() {
                    let mut m = Mutant::variant(variant);
                    if let Some(f) = failure_of(&mut m, &DEFAULT_SUITE, seed, &options) {
                        panic!("{}: seed {seed}: {f}", variant.name());
                    }
                }
            }
        }
    }

    #[test]
    fn a_faithful_mutant_passes_every_case() {
        // The mutants' failures below are their bugs', not the mutant's.
        for seed in 0..K {
            for options in modes() {
                let mut m = Mutant::faithful();
                if let Some(f) = failure_of(&mut m, &DEFAULT_SUITE, seed, &options) {
                    panic!("seed {seed}: {f}");
                }
            }
        }
    }

    /// The mutants of this domain: those the scenario model misses for want
    /// of key agreement or initial messages, and the signed-prekey id.
    fn domain() -> Vec<Bug> {
        Bug::ALL
            .into_iter()
            .filter(|b| {
                matches!(
                    b.entry().model,
                    ByModel::Missed(
                        MissedByModel::NoKeyAgreement | MissedByModel::NoInitialMessages
                    )
                ) || *b == Bug::SignedPrekeyIdIgnored
            })
            .collect()
    }

    #[test]
    fn every_key_agreement_mutant_is_found_within_k_seeds() {
        let bugs = domain();
        assert_eq!(bugs.len(), 12, "{bugs:?}");
        let mut missed = Vec::new();
        for bug in bugs {
            // Where only a strict run tells the bug apart, explore runs strictly.
            let options = RunOptions {
                strict_errors: matches!(bug.entry().vectors, ByVectors::StrictOnly(_)),
                ..RunOptions::default()
            };
            let found = (0..K).find_map(|seed| {
                let mut m = Mutant::with(bug);
                failure_of(&mut m, &DEFAULT_SUITE, seed, &options).map(|f| (seed, f))
            });
            match found {
                Some((seed, f)) => println!("{}: seed {seed}: {f}", bug.name()),
                None => missed.push(bug.name()),
            }
        }
        assert!(missed.is_empty(), "not found within {K} seeds: {missed:?}");
    }

    #[test]
    fn a_seed_gives_one_case_and_seeds_differ() {
        for suite in suite::all()
            .into_iter()
            .filter(|s| s.key_agreement().kem().is_none())
        {
            assert_eq!(x3dh_case(suite, 7, 3), x3dh_case(suite, 7, 3));
            assert_eq!(accept_case(suite, 7, 3), accept_case(suite, 7, 3));
            assert_ne!(x3dh_case(suite, 7, 3), x3dh_case(suite, 8, 3));
            assert_ne!(accept_case(suite, 7, 3), accept_case(suite, 8, 3));
            let (_, case) = x3dh_case(suite, 7, 3).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(case.info.tc_id, 3);
            assert!(case.info.comment.starts_with("explore: "));
        }
    }
}
