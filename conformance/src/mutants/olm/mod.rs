//! The mutant's `olm-v1` (docs/OLM-V1.md): a second Olm, written from the
//! page and the protocol crate's public Olm KDFs (`olm::kdf_rk`,
//! `olm::kdf::kdf_ck`, `olm::message_keys`, `olm::root_from_shared_secret`)
//! only — its own codec (`wire`), cipher (`cipher`), X25519 and triple DH
//! (`agreement`) and ratchet (`session`), never the reference's
//! `OlmSession`. With no Olm bug on it must answer every `olm-v1` vector
//! exactly as the reference does (a test checks bytes, plaintexts and error
//! classes); each `Bug::Olm…` is one marked deviation, each `Variant::Olm…`
//! one thing libolm or vodozemac does differently that the vectors must
//! accept (§7).
//!
//! This module also adds what the reference's harness layer
//! (`conformance/src/reference/olm.rs`) adds around a session, and what a
//! libolm-based shim does: a pre-key message on an existing session must
//! name it (`state` otherwise), a refused first message leaves no session,
//! and encryption is transactional.

mod agreement;
mod cipher;
mod session;
mod wire;

use std::collections::BTreeSet;

use super::{Bug, Variant};
use crate::implementation::{
    Decrypt, DecryptOutput, Encrypt, EncryptOutput, ErrorClass, ImplError, ImplResult, MessageType,
    PrekeyInitiate, PrekeyRespond,
};
use crate::reference::{KeyQueueRng, check_rng, key_pair, key_queue, public};
use session::{Kind, Session};

/// The switches one call runs under.
pub(super) struct Switches<'a> {
    pub bugs: &'a BTreeSet<Bug>,
    pub variants: &'a BTreeSet<Variant>,
}

impl Switches<'_> {
    fn bug(&self, bug: Bug) -> bool {
        self.bugs.contains(&bug)
    }

    fn variant(&self, variant: Variant) -> bool {
        self.variants.contains(&variant)
    }
}

/// One Olm session and the keys it draws at the sends that start a chain.
#[derive(Clone)]
pub(super) struct Entry {
    session: Session,
    rng: KeyQueueRng,
}

impl core::fmt::Debug for Entry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("olm::Entry")
            .field("rng", &self.rng.remaining())
            .finish_non_exhaustive()
    }
}

fn refuse_signal_fields(present: &[(&str, bool)]) -> ImplResult<()> {
    match present.iter().find(|(_, here)| *here) {
        Some((name, _)) => Err(ImplError::new(
            ErrorClass::Malformed,
            format!("olm-v1 takes no {name}"),
        )),
        None => Ok(()),
    }
}

fn no_ad(ad: &[u8]) -> ImplResult<()> {
    if ad.is_empty() {
        Ok(())
    } else {
        Err(ImplError::unsupported("Olm has no associated data"))
    }
}

fn needed<'a>(field: &'a Option<Vec<u8>>, name: &str) -> ImplResult<&'a [u8]> {
    field
        .as_deref()
        .ok_or_else(|| ImplError::new(ErrorClass::Malformed, format!("olm-v1 needs {name}")))
}

/// Alice's session.
pub(super) fn initiate(r: &PrekeyInitiate, on: &Switches) -> ImplResult<Entry> {
    refuse_signal_fields(&[
        ("registrationId", r.registration_id.is_some()),
        ("peerRegistrationId", r.peer_registration_id.is_some()),
        ("peerSignedPrekeyId", r.peer_signed_prekey_id.is_some()),
        ("peerSignedPrekey", r.peer_signed_prekey.is_some()),
        (
            "peerSignedPrekeySignature",
            r.peer_signed_prekey_signature.is_some(),
        ),
        ("peerOneTimePrekeyId", r.peer_one_time_prekey_id.is_some()),
    ])?;
    let identity = key_pair(&r.identity_private_key, "identity private key")?;
    let base = key_pair(&r.ephemeral_private_key, "base private key")?;
    let (first, rest) = r
        .ratchet_private_keys
        .split_first()
        .ok_or_else(|| ImplError::new(ErrorClass::State, "Alice needs a first ratchet key"))?;
    let ratchet = key_pair(first, "ratchet private key")?;
    let their_identity = public(&r.peer_identity_key, "peer identity key")?;
    let their_one_time = public(
        needed(&r.peer_one_time_prekey, "peerOneTimePrekey")?,
        "peer one-time key",
    )?;
    let (root, chain) =
        agreement::initiator(&identity, &base, &their_identity, &their_one_time, on)?;
    let id = agreement::session_id(identity.public_key(), base.public_key(), &their_one_time);
    let envelope = (their_one_time, *base.public_key(), *identity.public_key());
    Ok(Entry {
        session: Session::outbound(id, root, chain, ratchet, envelope),
        rng: key_queue(rest)?,
    })
}

/// Bob's session from a pre-key message, and its plaintext.
pub(super) fn respond(r: &PrekeyRespond, on: &Switches) -> ImplResult<(Entry, Vec<u8>)> {
    refuse_signal_fields(&[
        ("registrationId", r.registration_id.is_some()),
        ("signedPrekeyId", r.signed_prekey_id.is_some()),
        (
            "signedPrekeyPrivateKey",
            r.signed_prekey_private_key.is_some(),
        ),
        ("oneTimePrekeyId", r.one_time_prekey_id.is_some()),
    ])?;
    let identity = key_pair(&r.identity_private_key, "identity private key")?;
    let one_time = key_pair(
        needed(&r.one_time_prekey_private_key, "oneTimePrekeyPrivateKey")?,
        "one-time private key",
    )?;
    let mut rng = key_queue(&r.ratchet_private_keys)?;
    let envelope = wire::PreKey::parse(&r.message, on)?;
    // An identity key named as the one-time key: used as one.
    let one_time = if on.bug(Bug::OlmIdentityKeyAsOneTimeKey)
        && envelope.one_time_key == *identity.public_key()
    {
        identity.clone()
    } else {
        one_time
    };
    if envelope.one_time_key != *one_time.public_key() && !on.bug(Bug::OlmOneTimeKeyNotMatched) {
        return Err(ImplError::new(
            ErrorClass::InvalidKey,
            "the pre-key message names another one-time key",
        ));
    }
    let first = wire::Message::parse(&envelope.inner, on)?;
    let (root, chain) = agreement::responder(
        &identity,
        &one_time,
        &envelope.identity_key,
        &envelope.base_key,
        on,
    )?;
    let id = agreement::session_id(
        &envelope.identity_key,
        &envelope.base_key,
        &envelope.one_time_key,
    );
    let mut session = Session::inbound(id, root, chain, first.ratchet_key);
    let plaintext = session.decrypt(Kind::PreKey, &r.message, on, &mut rng)?;
    Ok((Entry { session, rng }, plaintext))
}

/// libolm's errors other than parse failures are all `BAD_MESSAGE_MAC`
/// (`Variant::OlmErrorsAsAuthentication`).
fn fold(e: ImplError, on: &Switches) -> ImplError {
    let folded = matches!(e.class, ErrorClass::Duplicate | ErrorClass::TooManySkipped);
    if folded && on.variant(Variant::OlmErrorsAsAuthentication) {
        ImplError::new(ErrorClass::Authentication, e.message)
    } else {
        e
    }
}

impl Entry {
    pub(super) fn encrypt(&mut self, r: &Encrypt, on: &Switches) -> ImplResult<EncryptOutput> {
        no_ad(&r.ad)?;
        let mut next = self.clone();
        let (kind, message) = next.session.encrypt(&r.plaintext, on, &mut next.rng)?;
        check_rng(&next.rng)?;
        *self = next;
        Ok(EncryptOutput {
            message,
            message_type: Some(match kind {
                Kind::PreKey => MessageType::Prekey,
                Kind::Normal => MessageType::Whisper,
            }),
        })
    }

    pub(super) fn decrypt(&mut self, r: &Decrypt, on: &Switches) -> ImplResult<DecryptOutput> {
        no_ad(&r.ad)?;
        let kind = match r.message_type.unwrap_or(MessageType::Whisper) {
            MessageType::Whisper => Kind::Normal,
            MessageType::Prekey => {
                let envelope = wire::PreKey::parse(&r.message, on)?;
                if names(&envelope) != self.session.id {
                    return Err(ImplError::new(
                        ErrorClass::State,
                        "a pre-key message for another session",
                    ));
                }
                Kind::PreKey
            }
        };
        // A draw made by a refused decryption is given back.
        let queue = self.rng.clone();
        match self.session.decrypt(kind, &r.message, on, &mut self.rng) {
            Ok(plaintext) => {
                check_rng(&self.rng)?;
                Ok(DecryptOutput { plaintext })
            }
            Err(e) => {
                self.rng = queue;
                Err(fold(e, on))
            }
        }
    }

    pub(super) fn copy_with(&self, keys: &[Vec<u8>]) -> ImplResult<Entry> {
        Ok(Entry {
            session: self.session.clone(),
            rng: key_queue(keys)?,
        })
    }
}

fn names(envelope: &wire::PreKey) -> [u8; 32] {
    agreement::session_id(
        &envelope.identity_key,
        &envelope.base_key,
        &envelope.one_time_key,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::path::Path;

    use crate::implementation::Implementation;
    use crate::mutants::{Bug, Mutant, Variant};
    use crate::runner::{self, CaseResult, RunOptions, Status};

    /// Every `olm-v1` vector case through `imp` in strict mode.
    fn run(imp: &mut dyn Implementation) -> Vec<CaseResult> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/olm-v1");
        let caps = imp.capabilities();
        let options = RunOptions {
            strict_errors: true,
            ..RunOptions::default()
        };
        let mut results = Vec::new();
        for path in runner::collect(&[dir]).unwrap() {
            let file = runner::load(&path).unwrap();
            let name = path.display().to_string();
            runner::run_file(imp, &caps, &name, &file, &options, &mut results);
        }
        results
    }

    /// With no bug on, the second Olm answers every `olm-v1` case with the
    /// reference's own outcome: the vectors' bytes (which are the
    /// reference's), its plaintexts and its error classes — never through an
    /// alternative the vector allows other implementations.
    #[test]
    fn the_faithful_olm_is_the_reference_on_every_olm_vector() {
        let results = run(&mut Mutant::faithful());
        assert!(results.len() >= 78, "{}", results.len());
        for r in &results {
            assert_eq!(r.status, Status::Passed, "tcId {} {}", r.tc_id, r.file);
            assert!(
                r.alternative_steps.is_empty(),
                "tcId {} {} passed through alternatives at steps {:?}",
                r.tc_id,
                r.file,
                r.alternative_steps
            );
        }
    }

    /// The comparison can fail: a mutant with one Olm bug on is caught by
    /// the same loop.
    #[test]
    fn the_comparison_fails_a_mutant() {
        let results = run(&mut Mutant::with(Bug::OlmMacNotChecked));
        assert!(results.iter().any(|r| r.status != Status::Passed));
    }

    /// The variants whose choice the vectors meet are exercised: each passes
    /// some step only through an alternative outcome, so a vector without
    /// that alternative would fail it (libolm's classes and checks).
    #[test]
    fn libolm_variants_pass_through_alternatives() {
        for variant in [
            Variant::OlmErrorsAsAuthentication,
            Variant::OlmSmallOrderAccepted,
            Variant::OlmKeyLengthMalformed,
        ] {
            let results = run(&mut Mutant::variant(variant));
            assert!(
                results.iter().all(|r| r.status == Status::Passed),
                "{}",
                variant.name()
            );
            assert!(
                results.iter().any(|r| !r.alternative_steps.is_empty()),
                "{} never needed an alternative",
                variant.name()
            );
        }
    }
}
