//! PQXDH acceptance vectors (`pqxdh_accept.json`): Bob's prekey store, now
//! holding KEM prekeys (one-time ones and the signed last-resort one),
//! receiving initial messages in order (SPEC.md §6.5 with \[PQXDH\] §3.4).
//! Alice's messages are built with the protocol crate's session builder from
//! injected keys and KEM randomness; what Bob must make of them is asserted
//! here and checked against the reference's store (`accept::judge_deliveries`).
//!
//! What only these vectors see: a one-time KEM prekey deleted after (and only
//! after) the first message authenticates — a forgery, including a tampered
//! ciphertext that decapsulates to the implicit-rejection secret, must leave
//! it — and a last-resort KEM prekey that is kept.

use std::collections::BTreeSet;

use ratchetproof_protocol::kem::{Kem, KemKeyPair};
use ratchetproof_protocol::pqxdh::SignedKemPrekey;
use ratchetproof_protocol::x3dh::{self, InitialMessage, PreKeyBundle};
use ratchetproof_protocol::{CipherSuite, KeyPair, SIGNAL_V3_SUITE, SessionConfig, Suite};

use super::accept::{Bob, OPK_IDS, R, SPK_ID, Want, judge_deliveries};
use super::pqxdh::{kem_seed, sign};
use crate::generate::flags::{self, Flag};
use crate::generate::x3dh::pair;
use crate::generate::{GenerateError, derived_key, vector_file};
use crate::implementation::{Implementation, PqxdhAccept};
use crate::reference::{KeyQueueRng, Reference};
use crate::vectors::{
    CaseInfo, ErrorClass, Hex, KemPrekeyEntry, PQXDH_ACCEPT_SCHEMA, PqxdhAcceptCase,
    PqxdhAcceptResponder, VectorFile,
};

/// One-time KEM prekey ids in Bob's store.
const KEM_ONE_TIME: [u32; 2] = [20, 21];
/// The last-resort KEM prekey's id.
const KEM_LAST_RESORT: u32 = 30;

const HELLO: &[u8] = b"hello Bob";
const AGAIN: &[u8] = b"hello again";

/// Bob's EC keys (as in `x3dh_accept.json`) and his KEM prekeys.
struct PqBob {
    ec: Bob,
    identity: KeyPair,
    kem: Vec<(u32, KemKeyPair, bool)>,
}

impl PqBob {
    fn new(kem: &dyn Kem, label: &str) -> Self {
        let mut ids: Vec<(u32, bool)> = KEM_ONE_TIME.iter().map(|id| (*id, false)).collect();
        ids.push((KEM_LAST_RESORT, true));
        Self {
            ec: Bob::new(label),
            identity: pair(&format!("{label}/bob/ik")),
            kem: ids
                .into_iter()
                .map(|(id, last)| {
                    let seed = kem_seed(&format!("{label}/bob/kem/{id}"));
                    (id, kem.generate_from_seed(&seed), last)
                })
                .collect(),
        }
    }

    fn responder(&self, label: &str, sessions: usize) -> PqxdhAcceptResponder {
        let ec = self.ec.responder(label, sessions);
        PqxdhAcceptResponder {
            identity_private_key: ec.identity_private_key,
            signed_prekeys: ec.signed_prekeys,
            one_time_prekeys: ec.one_time_prekeys,
            kem_prekeys: self
                .kem
                .iter()
                .map(|(id, k, last)| KemPrekeyEntry {
                    id: *id,
                    public_key: Hex::from(k.public.as_bytes().as_slice()),
                    private_key: Hex::from(k.secret.as_bytes()),
                    last_resort: *last,
                })
                .collect(),
            ratchet_private_keys: ec.ratchet_private_keys,
        }
    }

    /// The bundle Alice fetches: SPK, the one-time EC prekey `opk`, and
    /// KEM prekey `kem_id` signed as `EncodeKEM`.
    fn bundle(&self, kem: &dyn Kem, label: &str, opk: Option<u32>, kem_id: u32) -> PreKeyBundle {
        let mut bundle = self.ec.bundle(label, SPK_ID, opk);
        let key = self
            .kem
            .iter()
            .find(|(id, _, _)| *id == kem_id)
            .map(|(_, k, _)| kem.encode_public_key(&k.public))
            .unwrap_or_default();
        bundle.kem_prekey = Some(SignedKemPrekey {
            id: kem_id,
            signature: sign(
                &self.identity,
                &key,
                &format!("{label}/bob/kem-sig/{kem_id}"),
            ),
            key,
        });
        bundle
    }
}

/// Alice's initial message to `bundle` from her injected keys (EKa, the KEM
/// randomness, her first ratchet key), decoded so a case can alter it.
/// Alice's genuine initial message (`HELLO`) to `bob`'s bundle `label`,
/// with her keys derived from `label/alice`.
fn genuine_initial(
    suite: Suite,
    bob: &PqBob,
    label: &str,
    opk: Option<u32>,
    kem_id: u32,
) -> R<InitialMessage> {
    let kem = suite
        .key_agreement()
        .kem()
        .ok_or_else(|| GenerateError::Disagreement {
            tc_id: 0,
            comment: label.into(),
            message: "a PQXDH suite has a KEM".into(),
        })?;
    initial(
        suite,
        &format!("{label}/alice"),
        &bob.bundle(kem, label, opk, kem_id),
        HELLO,
    )
}

fn initial(
    suite: Suite,
    alice: &str,
    bundle: &PreKeyBundle,
    plaintext: &[u8],
) -> R<InitialMessage> {
    let identity = pair(&format!("{alice}/ik"));
    let mut rng = KeyQueueRng::new([
        derived_key(&format!("{alice}/ek")),
        derived_key(&format!("{alice}/m")),
        derived_key(&format!("{alice}/ratchet/0")),
    ]);
    let (_, initial) = x3dh::start_session(
        suite,
        SessionConfig::default(),
        &identity,
        bundle,
        plaintext,
        &mut rng,
    )
    .map_err(|e| GenerateError::Disagreement {
        tc_id: 0,
        comment: alice.into(),
        message: format!("Alice's start: {e}"),
    })?;
    if rng.misused() || rng.remaining() != 0 {
        return Err(GenerateError::Disagreement {
            tc_id: 0,
            comment: alice.into(),
            message: "Alice's start did not draw EKa, m and one ratchet key".into(),
        });
    }
    Ok(initial)
}

/// The initial message with its ciphertext changed by `f`.
fn with_ciphertext(initial: &InitialMessage, f: impl FnOnce(&mut Vec<u8>)) -> InitialMessage {
    let mut out = initial.clone();
    if let Some(kem) = out.kem.as_mut() {
        f(&mut kem.ciphertext);
    }
    out
}

struct Cases {
    suite: Suite,
    kem: &'static dyn Kem,
    reference: Reference,
    tests: Vec<PqxdhAcceptCase>,
    used: BTreeSet<Flag>,
}

impl Cases {
    fn encode(&self, initial: &InitialMessage) -> Vec<u8> {
        self.suite.encode_initial(initial)
    }

    fn add(
        &mut self,
        label: &str,
        comment: &str,
        flags: &[Flag],
        bob: &PqBob,
        deliveries: Vec<(Vec<u8>, Want<'_>)>,
    ) -> R<()> {
        // A refusal decided before any decryption (wire, ids, KEM encoding,
        // version), followed by the genuine message: the pair shows the store
        // unchanged, which only an implementation of the suite's ratchet can
        // show. The refusal alone follows as a case of its own, which an
        // implementation running SPQR can run too (`spqr`, docs/SHIM.md §3).
        let alone = match deliveries.first() {
            Some((bytes, Want::Refuse(classes)))
                if deliveries.len() > 1 && !classes.contains(&ErrorClass::Authentication) =>
            {
                Some((bytes.clone(), *classes))
            }
            _ => None,
        };
        let tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        let responder = bob.responder(label, deliveries.len());
        let request = crate::runner::requests::pqxdh_accept_store(self.suite.name(), &responder);
        let (initial_messages, result) = judge_deliveries(
            &mut self.reference,
            tc_id,
            comment,
            deliveries,
            |r, messages| {
                r.pqxdh_accept(&PqxdhAccept {
                    initial_messages: messages,
                    ..request.clone()
                })
                .map(|o| o.outcomes)
            },
        )?;
        self.used.extend(flags);
        self.tests.push(PqxdhAcceptCase {
            info: CaseInfo {
                tc_id,
                comment: comment.into(),
                flags: flags::names(flags),
                result,
            },
            responder,
            initial_messages,
        });
        if let Some((bytes, classes)) = alone {
            let refusal = comment
                .split("; the ")
                .next()
                .unwrap_or(comment)
                .to_string();
            self.add(
                &format!("{label}/alone"),
                &format!("{refusal}, alone: decided before any decryption"),
                flags,
                bob,
                vec![(bytes, Want::Refuse(classes))],
            )?;
        }
        Ok(())
    }
}

fn cases(c: &mut Cases) -> R<()> {
    let (suite, kem) = (c.suite, c.kem);
    let opk = OPK_IDS.first().copied();
    let one_time = KEM_ONE_TIME[0];

    // Accepted, with each kind of KEM prekey, with and without an EC one.
    for (ec, kem_id, what) in [
        (
            opk,
            one_time,
            "a one-time EC prekey and a one-time KEM prekey",
        ),
        (
            None,
            one_time,
            "a one-time KEM prekey and no one-time EC prekey",
        ),
        (
            opk,
            KEM_LAST_RESORT,
            "a one-time EC prekey and the last-resort KEM prekey",
        ),
        (
            None,
            KEM_LAST_RESORT,
            "the last-resort KEM prekey and no one-time EC prekey",
        ),
    ] {
        let label = format!("pqaccept/plain/{ec:?}/{kem_id}");
        let bob = PqBob::new(kem, &label);
        let m = genuine_initial(suite, &bob, &label, ec, kem_id)?;
        let m = c.encode(&m);
        c.add(
            &label,
            &format!("an initial message with {what} is accepted"),
            &[Flag::AcceptsInitial],
            &bob,
            vec![(m, Want::Accept(HELLO))],
        )?;
    }

    // A one-time KEM prekey is gone after use: the replay, and another
    // initiator naming it. No one-time EC prekey, so only the KEM prekey
    // can refuse them.
    let label = "pqaccept/replay-kem";
    let bob = PqBob::new(kem, label);
    let m = c.encode(&genuine_initial(suite, &bob, label, None, one_time)?);
    c.add(
        label,
        "the same initial message again, after it was accepted, is refused: its one-time KEM prekey was deleted",
        &[Flag::KemOneTimePrekeyDeleted],
        &bob,
        vec![
            (m.clone(), Want::Accept(HELLO)),
            (m, Want::Refuse(&[ErrorClass::InvalidKey, ErrorClass::Duplicate])),
        ],
    )?;
    let label = "pqaccept/kem-served-twice";
    let bob = PqBob::new(kem, label);
    let bundle = bob.bundle(kem, label, None, one_time);
    let m1 = c.encode(&initial(suite, &format!("{label}/alice"), &bundle, HELLO)?);
    let m2 = c.encode(&initial(suite, &format!("{label}/carol"), &bundle, AGAIN)?);
    c.add(
        label,
        "a second initiator naming a one-time KEM prekey that an accepted session already used is refused",
        &[Flag::KemOneTimePrekeyDeleted],
        &bob,
        vec![(m1, Want::Accept(HELLO)), (m2, Want::Refuse(&[ErrorClass::InvalidKey]))],
    )?;
    let label = "pqaccept/both-deleted";
    let bob = PqBob::new(kem, label);
    let m = c.encode(&genuine_initial(suite, &bob, label, opk, one_time)?);
    c.add(
        label,
        "a replay naming a one-time EC prekey and a one-time KEM prekey, both used, is refused",
        &[Flag::KemOneTimePrekeyDeleted],
        &bob,
        vec![
            (m.clone(), Want::Accept(HELLO)),
            (
                m,
                Want::Refuse(&[ErrorClass::InvalidKey, ErrorClass::Duplicate]),
            ),
        ],
    )?;

    // The last-resort KEM prekey is kept.
    let label = "pqaccept/last-resort-kept";
    let bob = PqBob::new(kem, label);
    let bundle = bob.bundle(kem, label, None, KEM_LAST_RESORT);
    let m1 = c.encode(&initial(suite, &format!("{label}/alice"), &bundle, HELLO)?);
    let m2 = c.encode(&initial(suite, &format!("{label}/carol"), &bundle, AGAIN)?);
    c.add(
        label,
        "two initiators who fetched the last-resort KEM prekey are both accepted: it is kept after use",
        &[Flag::KemLastResortKept],
        &bob,
        vec![(m1, Want::Accept(HELLO)), (m2, Want::Accept(AGAIN))],
    )?;
    let label = "pqaccept/replay-last-resort";
    let bob = PqBob::new(kem, label);
    let m = c.encode(&genuine_initial(suite, &bob, label, None, KEM_LAST_RESORT)?);
    c.add(
        label,
        "without one-time prekeys (EC or KEM) a replayed initial message is accepted again as a new session, or refused as a duplicate by a per-sender responder",
        &[Flag::ReplayWithoutOneTimePrekey, Flag::KemLastResortKept],
        &bob,
        vec![
            (m.clone(), Want::Accept(HELLO)),
            (m, Want::AcceptOrRefuse(HELLO, &[ErrorClass::Duplicate])),
        ],
    )?;

    // Forgeries naming the one-time KEM prekey must not consume it.
    let label = "pqaccept/forged-mac";
    let bob = PqBob::new(kem, label);
    let genuine = genuine_initial(suite, &bob, label, None, one_time)?;
    let mut forged = genuine.clone();
    if let Some(last) = forged.message.last_mut() {
        *last ^= 0x01;
    }
    c.add(
        label,
        "a forged initial message (bad MAC) naming a one-time KEM prekey is refused and leaves the prekey: the genuine one is then accepted",
        &[Flag::KemPrekeyAtomicity],
        &bob,
        vec![
            (c.encode(&forged), Want::Refuse(&[ErrorClass::Authentication])),
            (c.encode(&genuine), Want::Accept(HELLO)),
        ],
    )?;
    for (at, what) in [(1usize, "first"), (1568, "last")] {
        let label = format!("pqaccept/tampered-ct/{at}");
        let bob = PqBob::new(kem, &label);
        let genuine = genuine_initial(suite, &bob, &label, None, one_time)?;
        let tampered = with_ciphertext(&genuine, |ct| {
            if let Some(b) = ct.get_mut(at) {
                *b ^= 0x01;
            }
        });
        c.add(
            &label,
            &format!(
                "an initial message whose ciphertext has one bit of its {what} byte flipped decapsulates to the implicit-rejection secret and is refused (authentication), leaving the one-time KEM prekey: the genuine one is then accepted"
            ),
            &[Flag::KemPrekeyAtomicity, Flag::ImplicitRejection],
            &bob,
            vec![
                (c.encode(&tampered), Want::Refuse(&[ErrorClass::Authentication])),
                (c.encode(&genuine), Want::Accept(HELLO)),
            ],
        )?;
    }
    let label = "pqaccept/other-kem-key";
    let bob = PqBob::new(kem, label);
    let genuine = genuine_initial(suite, &bob, label, None, one_time)?;
    let mut renamed = genuine.clone();
    if let Some(k) = renamed.kem.as_mut() {
        k.prekey_id = KEM_LAST_RESORT;
    }
    c.add(
        label,
        "an initial message naming the last-resort KEM prekey with a ciphertext for a one-time one is refused (authentication); the genuine one is then accepted",
        &[Flag::ImplicitRejection],
        &bob,
        vec![
            (c.encode(&renamed), Want::Refuse(&[ErrorClass::Authentication])),
            (c.encode(&genuine), Want::Accept(HELLO)),
        ],
    )?;

    // Ciphertexts that are not this KEM's, and a KEM prekey Bob does not hold.
    let other_type = c.kem.type_byte() ^ 0x02;
    type Alter = Box<dyn Fn(&mut Vec<u8>)>;
    let alterations: [(&str, &str, Alter); 4] = [
        (
            "truncated",
            "is one byte short",
            Box::new(|ct| {
                ct.pop();
            }),
        ),
        (
            "extended",
            "is one byte too long",
            Box::new(|ct| ct.push(0)),
        ),
        (
            "retyped",
            "has the other KEM's type byte",
            Box::new(move |ct| {
                if let Some(t) = ct.first_mut() {
                    *t = other_type;
                }
            }),
        ),
        ("empty", "is empty", Box::new(Vec::clear)),
    ];
    for (name, what, alter) in alterations {
        let label = format!("pqaccept/ciphertext-{name}");
        let bob = PqBob::new(kem, &label);
        let genuine = genuine_initial(suite, &bob, &label, None, one_time)?;
        let bad = with_ciphertext(&genuine, |ct| alter(ct));
        c.add(
            &label,
            &format!(
                "an initial message whose KEM ciphertext {what} is refused (invalid_key, or malformed by a parser that checks it); the genuine one is then accepted"
            ),
            &[Flag::WrongKemCiphertext],
            &bob,
            vec![
                (c.encode(&bad), Want::Refuse(&[ErrorClass::InvalidKey, ErrorClass::Malformed])),
                (c.encode(&genuine), Want::Accept(HELLO)),
            ],
        )?;
    }
    let label = "pqaccept/unknown-kem";
    let bob = PqBob::new(kem, label);
    let genuine = genuine_initial(suite, &bob, label, None, one_time)?;
    let mut unknown = genuine.clone();
    if let Some(k) = unknown.kem.as_mut() {
        k.prekey_id = 99;
    }
    c.add(
        label,
        "an initial message naming a KEM prekey id Bob does not hold is refused; the store is unchanged",
        &[Flag::UnknownPreKey],
        &bob,
        vec![
            (c.encode(&unknown), Want::Refuse(&[ErrorClass::InvalidKey])),
            (c.encode(&genuine), Want::Accept(HELLO)),
        ],
    )?;

    // Not a PQXDH initial message at all.
    let label = "pqaccept/no-kem-fields";
    let bob = PqBob::new(kem, label);
    let genuine = genuine_initial(suite, &bob, label, None, one_time)?;
    let mut stripped = genuine.clone();
    stripped.kem = None;
    c.add(
        label,
        "a version-4 initial message without fields 7 and 8 (KEM prekey id and ciphertext) is refused as malformed; the genuine one is then accepted",
        &[Flag::MalformedInitial],
        &bob,
        vec![
            (c.encode(&stripped), Want::Refuse(&[ErrorClass::Malformed])),
            (c.encode(&genuine), Want::Accept(HELLO)),
        ],
    )?;
    let label = "pqaccept/x3dh-message";
    let bob = PqBob::new(kem, label);
    let genuine = genuine_initial(suite, &bob, label, opk, one_time)?;
    c.add(
        label,
        "a signal-v3 PreKeyWhisperMessage (version 3) carrying the same fields is refused as unsupported; the genuine one is then accepted",
        &[Flag::X3dhToPqxdh],
        &bob,
        vec![
            (SIGNAL_V3_SUITE.encode_initial(&genuine), Want::Refuse(&[ErrorClass::Unsupported])),
            (c.encode(&genuine), Want::Accept(HELLO)),
        ],
    )?;
    let label = "pqaccept/empty";
    let bob = PqBob::new(kem, label);
    let genuine = genuine_initial(suite, &bob, label, opk, one_time)?;
    c.add(
        label,
        "an empty initial message is refused as malformed; the genuine one is then accepted",
        &[Flag::MalformedInitial],
        &bob,
        vec![
            (Vec::new(), Want::Refuse(&[ErrorClass::Malformed])),
            (c.encode(&genuine), Want::Accept(HELLO)),
        ],
    )
}

pub(super) fn file(suite: Suite) -> R<VectorFile<PqxdhAcceptCase>> {
    let kem = suite
        .key_agreement()
        .kem()
        .ok_or_else(|| GenerateError::Disagreement {
            tc_id: 0,
            comment: suite.name().into(),
            message: "not a PQXDH suite".into(),
        })?;
    let mut c = Cases {
        suite,
        kem,
        reference: Reference::with_suites([suite]),
        tests: Vec::new(),
        used: BTreeSet::new(),
    };
    cases(&mut c)?;
    let notes = flags::notes(c.used)?;
    Ok(vector_file(
        PQXDH_ACCEPT_SCHEMA,
        suite.name(),
        notes,
        c.tests,
    ))
}
