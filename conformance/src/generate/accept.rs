//! X3DH acceptance vectors: Bob's prekey store receiving initial messages one
//! after the other (SPEC.md §6.5). Alice's initial messages are built with
//! the protocol crate's own session builder from injected keys; what Bob must
//! make of them is asserted here and checked against the reference.
//!
//! These are the vectors that see a one-time prekey kept after use (a replay
//! re-creates the session) or deleted before the first message authenticates
//! (a forgery destroys it): both live in the store, not in a session.

pub(crate) mod v3_wire;

use std::collections::BTreeSet;

use ratchetproof_protocol::x3dh::{self, PreKeyBundle};
use ratchetproof_protocol::{KeyPair, PrivateKey, SessionConfig, Suite};

use crate::generate::flags::{self, Flag};
use crate::generate::{GenerateError, derived_key, vector_file};
use crate::implementation::{ImplResult, Implementation, X3dhAccept, X3dhAccepted};
use crate::reference::{KeyQueueRng, Reference};
use crate::vectors::ErrorClass;
use crate::vectors::{
    AcceptCase, AcceptExpected, AcceptResponder, CaseInfo, Expected, Hex, InitialDelivery, Outcome,
    PrekeyEntry, VectorFile, Verdict, X3DH_ACCEPT_SCHEMA,
};

pub(crate) type R<T> = Result<T, GenerateError>;

/// Signed prekey id in Bob's store.
pub(crate) const SPK_ID: u32 = 1;
/// One-time prekey ids in Bob's store.
pub(crate) const OPK_IDS: [u32; 2] = [7, 8];

fn pair(label: &str) -> KeyPair {
    KeyPair::from_private(PrivateKey::from_bytes(derived_key(label)))
}

/// Bob's long-term keys for one case.
pub(crate) struct Bob {
    identity: KeyPair,
    signed: KeyPair,
    one_time: Vec<(u32, KeyPair)>,
}

impl Bob {
    pub(crate) fn new(label: &str) -> Self {
        Self {
            identity: pair(&format!("{label}/bob/ik")),
            signed: pair(&format!("{label}/bob/spk")),
            one_time: OPK_IDS
                .iter()
                .map(|id| (*id, pair(&format!("{label}/bob/opk/{id}"))))
                .collect(),
        }
    }

    pub(crate) fn responder(&self, label: &str, sessions: usize) -> AcceptResponder {
        let entry = |id: u32, k: &KeyPair| PrekeyEntry {
            id,
            private_key: Hex::from(*k.private_key().to_bytes()),
        };
        AcceptResponder {
            identity_private_key: Hex::from(*self.identity.private_key().to_bytes()),
            signed_prekeys: vec![entry(SPK_ID, &self.signed)],
            one_time_prekeys: self.one_time.iter().map(|(id, k)| entry(*id, k)).collect(),
            ratchet_private_keys: (0..sessions)
                .map(|k| Hex::from(derived_key(&format!("{label}/bob/ratchet/{k}"))))
                .collect(),
        }
    }

    /// The bundle Alice fetches: the signed prekey (announced under
    /// `spk_id`), and the one-time prekey `opk` if any.
    pub(crate) fn bundle(&self, label: &str, spk_id: u32, opk: Option<u32>) -> PreKeyBundle {
        let z: [u8; 64] = [
            derived_key(&format!("{label}/bob/z0")),
            derived_key(&format!("{label}/bob/z1")),
        ]
        .concat()
        .try_into()
        .unwrap_or([0; 64]);
        let one_time = opk.map(|id| {
            let key = self.one_time.iter().find(|(i, _)| *i == id).map_or_else(
                || pair(&format!("{label}/bob/opk/{id}")),
                |(_, k)| k.clone(),
            );
            (id, *key.public_key())
        });
        PreKeyBundle {
            identity_key: *self.identity.public_key(),
            signed_prekey_id: spk_id,
            signed_prekey: *self.signed.public_key(),
            signed_prekey_signature: ratchetproof_protocol::xeddsa::sign_with_random(
                self.identity.private_key(),
                &self.signed.public_key().encode(),
                &z,
            ),
            one_time_prekey: one_time,
            kem_prekey: None,
        }
    }
}

/// Alice's initial message to `bundle`, from her own injected keys; with
/// `forge`, the last byte of the embedded ratchet message (its tag or MAC)
/// is flipped.
pub(crate) fn initial_message(
    suite: Suite,
    alice: &str,
    bundle: &PreKeyBundle,
    plaintext: &[u8],
    forge: bool,
) -> R<Vec<u8>> {
    let identity = pair(&format!("{alice}/ik"));
    let mut rng = KeyQueueRng::new([
        derived_key(&format!("{alice}/ek")),
        derived_key(&format!("{alice}/ratchet/0")),
    ]);
    let (_, mut initial) = x3dh::start_session(
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
    if forge && let Some(last) = initial.message.last_mut() {
        *last ^= 0x01;
    }
    Ok(suite.encode_initial(&initial))
}

pub(crate) struct Cases {
    suite: Suite,
    reference: Reference,
    tests: Vec<AcceptCase>,
    /// The flags the cases use, for the file's notes.
    used: BTreeSet<Flag>,
}

/// What one delivered message must give: accepted with this plaintext, or
/// refused with one of `classes` (the reference's class is the primary
/// outcome, the others are alternatives that conform equally), or either:
/// accepted, or alternatively refused with one of the classes; or refused
/// (the reference's choice) with the alternative of being read as the
/// genuine message `.1` is — what an implementation whose parser is more
/// lenient in a way the wire format allows gives (its outcome is taken from
/// a fresh store receiving the genuine message).
pub(crate) enum Want<'a> {
    Accept(&'a [u8]),
    Refuse(&'a [ErrorClass]),
    AcceptOrRefuse(&'a [u8], &'a [ErrorClass]),
    RefuseOrReadAs(&'a [ErrorClass], Vec<u8>),
    /// Refused with exactly this class, which the specifications fix
    /// (`classFixed`: even the default mode requires it).
    RefuseFixed(ErrorClass),
}

impl Cases {
    /// No cases yet, for `suite`.
    pub(crate) fn new(suite: Suite) -> Self {
        Self {
            suite,
            reference: Reference::with_suites([suite]),
            tests: Vec::new(),
            used: BTreeSet::new(),
        }
    }

    /// The cases built so far.
    pub(crate) fn into_cases(self) -> Vec<AcceptCase> {
        self.tests
    }

    pub(crate) fn add(
        &mut self,
        label: &str,
        comment: &str,
        flags: &[Flag],
        bob: &Bob,
        deliveries: Vec<(Vec<u8>, Want<'_>)>,
    ) -> R<()> {
        let tc_id = u32::try_from(self.tests.len() + 1).unwrap_or(u32::MAX);
        // One ratchet key per message, though a refused one draws none: an
        // implementation that wrongly accepts it must not fail merely for
        // lack of a key (which would look like the expected refusal).
        let responder = bob.responder(label, deliveries.len());
        let entries = |list: &[PrekeyEntry]| {
            list.iter()
                .map(|p| (p.id, p.private_key.0.clone()))
                .collect::<Vec<_>>()
        };
        let request = X3dhAccept {
            suite: self.suite.name().into(),
            identity_private_key: responder.identity_private_key.0.clone(),
            signed_prekeys: entries(&responder.signed_prekeys),
            one_time_prekeys: entries(&responder.one_time_prekeys),
            ratchet_private_keys: responder
                .ratchet_private_keys
                .iter()
                .map(|k| k.0.clone())
                .collect(),
            initial_messages: deliveries.iter().map(|(m, _)| m.clone()).collect(),
        };
        let (initial_messages, result) = judge_deliveries(
            &mut self.reference,
            tc_id,
            comment,
            deliveries,
            |r, messages| {
                r.x3dh_accept(&X3dhAccept {
                    initial_messages: messages,
                    ..request.clone()
                })
                .map(|o| o.outcomes)
            },
        )?;
        self.used.extend(flags);
        self.tests.push(AcceptCase {
            info: CaseInfo {
                tc_id,
                comment: comment.into(),
                flags: flags::names(flags),
                result,
            },
            responder,
            initial_messages,
        });
        Ok(())
    }
}

/// What each delivery must give, checked against the reference's store
/// (`run` hands it the messages, from a fresh store), and the case's verdict.
pub(crate) fn judge_deliveries(
    reference: &mut Reference,
    tc_id: u32,
    comment: &str,
    deliveries: Vec<(Vec<u8>, Want<'_>)>,
    mut run: impl FnMut(&mut Reference, Vec<Vec<u8>>) -> ImplResult<Vec<ImplResult<X3dhAccepted>>>,
) -> R<(Vec<InitialDelivery>, Verdict)> {
    let disagree = |message: String| GenerateError::Disagreement {
        tc_id,
        comment: comment.into(),
        message,
    };
    reference.reset();
    let outcomes = run(
        reference,
        deliveries.iter().map(|(m, _)| m.clone()).collect(),
    )
    .map_err(|e| disagree(format!("the store: {e}")))?;
    let mut initial_messages = Vec::new();
    let mut invalid = false;
    let mut acceptable = false;
    for (i, ((message, want), got)) in deliveries.iter().zip(outcomes).enumerate() {
        let expected = match (want, got) {
            (Want::Accept(plaintext), Ok(got)) if got.plaintext == *plaintext => {
                Expected::from(Outcome::Ok(AcceptExpected {
                    plaintext: Hex::from(*plaintext),
                    associated_data: Hex(got.associated_data),
                    peer_identity_key: Hex(got.peer_identity_key),
                }))
            }
            (Want::AcceptOrRefuse(plaintext, classes), Ok(got)) if got.plaintext == *plaintext => {
                acceptable = true;
                classes.iter().fold(
                    Expected::from(Outcome::Ok(AcceptExpected {
                        plaintext: Hex::from(*plaintext),
                        associated_data: Hex(got.associated_data),
                        peer_identity_key: Hex(got.peer_identity_key),
                    })),
                    |e, class| e.or_error(*class),
                )
            }
            (Want::Refuse(classes), Err(e)) if classes.contains(&e.class) => {
                invalid = true;
                let class = e.class;
                classes
                    .iter()
                    .filter(|c| **c != class)
                    .fold(Expected::from(Outcome::Error { error: class }), |e, alt| {
                        e.or_error(*alt)
                    })
            }
            (Want::RefuseFixed(class), Err(e)) if e.class == *class => {
                invalid = true;
                Expected::from(Outcome::Error { error: *class }).class_fixed()
            }
            (Want::RefuseOrReadAs(classes, genuine), Err(e)) if classes.contains(&e.class) => {
                acceptable = true;
                reference.reset();
                let read = run(reference, vec![genuine.clone()])
                    .map_err(|e| disagree(format!("the store: {e}")))?
                    .into_iter()
                    .next()
                    .and_then(Result::ok)
                    .ok_or_else(|| {
                        disagree(format!("initial message {i}: the genuine one is refused"))
                    })?;
                let class = e.class;
                classes
                    .iter()
                    .filter(|c| **c != class)
                    .fold(Expected::from(Outcome::Error { error: class }), |e, alt| {
                        e.or_error(*alt)
                    })
                    .or(Outcome::Ok(AcceptExpected {
                        plaintext: Hex(read.plaintext),
                        associated_data: Hex(read.associated_data),
                        peer_identity_key: Hex(read.peer_identity_key),
                    }))
            }
            (_, got) => {
                return Err(disagree(format!(
                    "initial message {i}: the reference gave {got:?}"
                )));
            }
        };
        initial_messages.push(InitialDelivery {
            message: Hex(message.clone()),
            expected,
        });
    }
    let result = if acceptable {
        Verdict::Acceptable
    } else if invalid {
        Verdict::Invalid
    } else {
        Verdict::Valid
    };
    Ok((initial_messages, result))
}

fn cases(c: &mut Cases) -> R<()> {
    let suite = c.suite;
    let hello = b"hello Bob".as_slice();
    let again = b"hello again".as_slice();
    let first_opk = OPK_IDS.first().copied();

    // Accepted with and without a one-time prekey.
    for opk in [first_opk, None] {
        let label = format!("accept/plain/{opk:?}");
        let bob = Bob::new(&label);
        let m = initial_message(
            suite,
            &format!("{label}/alice"),
            &bob.bundle(&label, SPK_ID, opk),
            hello,
            false,
        )?;
        let with = if opk.is_some() { "with" } else { "without" };
        c.add(
            &label,
            &format!("an initial message {with} a one-time prekey is accepted"),
            &[Flag::AcceptsInitial],
            &bob,
            vec![(m, Want::Accept(hello))],
        )?;
    }

    // A replay with a one-time prekey meets the store without it.
    let label = "accept/replay-opk";
    let bob = Bob::new(label);
    let m = initial_message(
        suite,
        &format!("{label}/alice"),
        &bob.bundle(label, SPK_ID, first_opk),
        hello,
        false,
    )?;
    c.add(
        label,
        "the same initial message again, after it was accepted, is refused: its one-time prekey was deleted",
        &[Flag::OneTimePrekeyDeleted],
        &bob,
        vec![
            (m.clone(), Want::Accept(hello)),
            // A per-sender responder (libsignal) finds the session this
            // initial message already set up, whose first message key is used.
            (m, Want::Refuse(&[ErrorClass::InvalidKey, ErrorClass::Duplicate])),
        ],
    )?;

    // A second initiator given the same one-time prekey (a server that serves
    // it twice) is refused once the first used it.
    let label = "accept/opk-served-twice";
    let bob = Bob::new(label);
    let bundle = bob.bundle(label, SPK_ID, first_opk);
    let m1 = initial_message(suite, &format!("{label}/alice"), &bundle, hello, false)?;
    let m2 = initial_message(suite, &format!("{label}/carol"), &bundle, again, false)?;
    c.add(
        label,
        "a second initiator naming a one-time prekey that an accepted session already used is refused",
        &[Flag::OneTimePrekeyDeleted],
        &bob,
        vec![(m1, Want::Accept(hello)), (m2, Want::Refuse(&[ErrorClass::InvalidKey]))],
    )?;

    // Without a one-time prekey a replay is a new session ([X3DH] §4.2).
    let label = "accept/replay-no-opk";
    let bob = Bob::new(label);
    let m = initial_message(
        suite,
        &format!("{label}/alice"),
        &bob.bundle(label, SPK_ID, None),
        hello,
        false,
    )?;
    c.add(
        label,
        "without a one-time prekey a replayed initial message is accepted again, as a new session (X3DH §4.2)",
        &[Flag::ReplayWithoutOneTimePrekey],
        &bob,
        // A stateless responder accepts the replay as a new session; a
        // per-sender one (libsignal, docs/SIGNAL-V3.md) refuses it as a duplicate.
        vec![
            (m.clone(), Want::Accept(hello)),
            (m, Want::AcceptOrRefuse(hello, &[ErrorClass::Duplicate])),
        ],
    )?;

    // A forgery naming the one-time prekey must not consume it.
    let label = "accept/forged-first";
    let bob = Bob::new(label);
    let bundle = bob.bundle(label, SPK_ID, first_opk);
    let alice = format!("{label}/alice");
    let forged = initial_message(suite, &alice, &bundle, hello, true)?;
    let genuine = initial_message(suite, &alice, &bundle, hello, false)?;
    c.add(
        label,
        "a forged initial message naming a one-time prekey is refused and leaves the prekey: the genuine one is then accepted",
        &[Flag::OneTimePrekeyAtomicity],
        &bob,
        vec![
            (forged, Want::Refuse(&[ErrorClass::Authentication])),
            (genuine, Want::Accept(hello)),
        ],
    )?;

    // Prekey ids Bob does not hold.
    let unknown = [
        ("signed", SPK_ID + 1, first_opk),
        ("one-time", SPK_ID, Some(99)),
    ];
    for (kind, spk_id, opk) in unknown {
        let label = format!("accept/unknown-{kind}");
        let bob = Bob::new(&label);
        let alice = format!("{label}/alice");
        let m = initial_message(
            suite,
            &alice,
            &bob.bundle(&label, spk_id, opk),
            hello,
            false,
        )?;
        let genuine = initial_message(
            suite,
            &alice,
            &bob.bundle(&label, SPK_ID, first_opk),
            again,
            false,
        )?;
        c.add(
            &label,
            &format!(
                "an initial message naming a {kind} prekey id Bob does not hold is refused; the store is unchanged"
            ),
            &[Flag::UnknownPreKey],
            &bob,
            vec![
                (m, Want::Refuse(&[ErrorClass::InvalidKey])),
                (genuine, Want::Accept(again)),
            ],
        )?;
    }

    // Garbage: cut short, then the genuine message.
    let label = "accept/truncated";
    let bob = Bob::new(label);
    let m = initial_message(
        suite,
        &format!("{label}/alice"),
        &bob.bundle(label, SPK_ID, first_opk),
        hello,
        false,
    )?;
    let cut = m.get(..m.len().min(20)).unwrap_or_default().to_vec();
    c.add(
        label,
        "an initial message cut short is refused; the genuine one is then accepted",
        &[Flag::MalformedInitial],
        &bob,
        vec![
            (
                cut,
                Want::Refuse(&[ErrorClass::Malformed, ErrorClass::Unsupported]),
            ),
            (m, Want::Accept(hello)),
        ],
    )?;
    empty(c)
}

/// SPEC.md §6.4 / SIGNAL-V3.md §4 [R-X3DH-EMPTY]: an empty initial message
/// is `malformed` (not `unsupported`: there is no version byte to judge).
fn empty(c: &mut Cases) -> R<()> {
    let label = "accept/empty";
    let bob = Bob::new(label);
    let m = initial_message(
        c.suite,
        &format!("{label}/alice"),
        &bob.bundle(label, SPK_ID, OPK_IDS.first().copied()),
        b"hello Bob",
        false,
    )?;
    c.add(
        label,
        "an empty initial message is refused as malformed; the genuine one is then accepted",
        &[Flag::MalformedInitial],
        &bob,
        vec![
            (Vec::new(), Want::Refuse(&[ErrorClass::Malformed])),
            (m, Want::Accept(b"hello Bob")),
        ],
    )
}

pub(super) fn file(suite: Suite) -> R<VectorFile<AcceptCase>> {
    let mut c = Cases::new(suite);
    cases(&mut c)?;
    v3_wire::cases(&mut c)?;
    let notes = flags::notes(c.used)?;
    Ok(vector_file(
        X3DH_ACCEPT_SCHEMA,
        suite.name(),
        notes,
        c.tests,
    ))
}
