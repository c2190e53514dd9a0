//! Live interoperability: a full X3DH session between the reference and a
//! real implementation, both ways, through the implementations' own session
//! builders (operation group `prekey` of [`Implementation`],
//! docs/SIGNAL-V3.md §7.1). Any implementation that offers the group takes
//! part, in process or behind a shim.
//!
//! Vectors check a peer against bytes the reference computed; this checks
//! that the two actually talk: every message one side produces, the other
//! decrypts — prekey messages out of order, replies before and after the
//! first ratchet step, messages held back across several steps. Nothing is
//! compared byte for byte, so it also catches a peer and a reference that
//! agree on the vectors but not with each other's live state.

use ratchetproof_protocol::x3dh;
use ratchetproof_protocol::{KeyPair, PrivateKey};

use crate::derive::derived_key;
use crate::implementation::{
    Decrypt, Encrypt, ImplError, Implementation, Operation, PrekeyBundle, PrekeyInitiate,
    PrekeyRespond, SessionHandle,
};
use crate::reference::{KeyQueueRng, Reference};

pub mod explore;
pub mod keys;

pub use crate::implementation::MessageType;

/// `"<name> <version>"` of an implementation, for reports.
fn name(imp: &dyn Implementation) -> String {
    let caps = imp.capabilities();
    format!("{} {}", caps.name, caps.version)
}

/// The keys of one live conversation, all derived from `label`.
struct Keys {
    alice_identity: [u8; 32],
    bob_identity: [u8; 32],
    bob_signed_prekey: [u8; 32],
    bob_one_time_prekey: [u8; 32],
    alice_ephemeral: [u8; 32],
    alice_ratchet: Vec<Vec<u8>>,
    bob_ratchet: Vec<Vec<u8>>,
    signature: [u8; 64],
    /// The 64-byte seed of Bob's one-time KEM prekey and Alice's
    /// encapsulation randomness, for suites whose agreement has a KEM.
    kem_seed: [u8; 64],
    encapsulation_seed: [u8; 32],
}

/// Bob's one-time KEM prekey of a PQXDH suite, signed with his identity key:
/// (bare public key, bare secret key, `EncodeKEM`, its signature).
struct KemPrekey {
    public: Vec<u8>,
    secret: Vec<u8>,
    encoded: Vec<u8>,
    signature: Vec<u8>,
}

/// The KEM prekey id of every live conversation.
const KEM_PREKEY_ID: u32 = 99;

impl Keys {
    fn new(label: &str) -> Self {
        Self::with_ratchet_keys(label, 64)
    }

    /// The keys of `label` with `ratchet_keys` ratchet keys for each side.
    fn with_ratchet_keys(label: &str, ratchet_keys: usize) -> Self {
        let k = |what: &str| derived_key(&format!("interop/{label}/{what}"));
        let list = |who: &str| -> Vec<Vec<u8>> {
            (0..ratchet_keys)
                .map(|i| k(&format!("{who}/ratchet/{i}")).to_vec())
                .collect()
        };
        let bob = KeyPair::from_private(PrivateKey::from_bytes(k("bob/identity")));
        let spk = KeyPair::from_private(PrivateKey::from_bytes(k("bob/signed-prekey")));
        let mut sig_rng = KeyQueueRng::new([k("signature/0"), k("signature/1")]);
        let signature = x3dh::sign_prekey(&bob, spk.public_key(), &mut sig_rng);
        Self {
            alice_identity: k("alice/identity"),
            bob_identity: k("bob/identity"),
            bob_signed_prekey: k("bob/signed-prekey"),
            bob_one_time_prekey: k("bob/one-time-prekey"),
            alice_ephemeral: k("alice/ephemeral"),
            alice_ratchet: list("alice"),
            bob_ratchet: list("bob"),
            signature,
            kem_seed: {
                let mut seed = [0u8; 64];
                let (d, z) = seed.split_at_mut(32);
                d.copy_from_slice(&k("bob/kem-prekey/d"));
                z.copy_from_slice(&k("bob/kem-prekey/z"));
                seed
            },
            encapsulation_seed: k("alice/encapsulation"),
        }
    }

    /// Bob's KEM prekey in `suite`, when its agreement has a KEM.
    fn kem_prekey(&self, suite: &str) -> Option<KemPrekey> {
        let kem = ratchetproof_protocol::suite::by_name(suite)?
            .key_agreement()
            .kem()?;
        let pair = kem.generate_from_seed(&self.kem_seed);
        let encoded = kem.encode_public_key(&pair.public);
        let bob = KeyPair::from_private(PrivateKey::from_bytes(self.bob_identity));
        let mut sig_rng = KeyQueueRng::new([
            derived_key("interop/kem-signature/0"),
            derived_key("interop/kem-signature/1"),
        ]);
        let signature =
            ratchetproof_protocol::xeddsa::sign(bob.private_key(), &encoded, &mut sig_rng);
        Some(KemPrekey {
            public: pair.public.as_bytes().to_vec(),
            secret: pair.secret.as_bytes().to_vec(),
            encoded,
            signature: signature.to_vec(),
        })
    }
}

impl Keys {
    /// Alice's `prekey_initiate` from Bob's bundle (with or without his
    /// one-time prekey). For `olm-v1` the bundle is Bob's identity key and
    /// one-time key only (docs/SHIM.md §4.4): no ids, no signed prekey.
    fn initiate(&self, suite: &str, one_time_prekey: bool) -> PrekeyInitiate {
        let signal = !is_olm(suite);
        PrekeyInitiate {
            suite: suite.into(),
            identity_private_key: self.alice_identity.to_vec(),
            registration_id: signal.then_some(ALICE_REGISTRATION),
            ephemeral_private_key: self.alice_ephemeral.to_vec(),
            ratchet_private_keys: self.alice_ratchet.clone(),
            peer_identity_key: public_of(&self.bob_identity),
            peer_registration_id: signal.then_some(BOB_REGISTRATION),
            peer_signed_prekey_id: signal.then_some(11),
            peer_signed_prekey: signal.then(|| public_of(&self.bob_signed_prekey)),
            peer_signed_prekey_signature: signal.then(|| self.signature.to_vec()),
            peer_one_time_prekey_id: (signal && one_time_prekey).then_some(77),
            peer_one_time_prekey: one_time_prekey.then(|| public_of(&self.bob_one_time_prekey)),
            ..self
                .kem_prekey(suite)
                .map_or_else(PrekeyInitiate::default, |kem| PrekeyInitiate {
                    peer_kem_prekey_id: Some(KEM_PREKEY_ID),
                    peer_kem_prekey: Some(kem.encoded),
                    peer_kem_prekey_signature: Some(kem.signature),
                    encapsulation_seed: Some(self.encapsulation_seed.to_vec()),
                    ..PrekeyInitiate::default()
                })
        }
    }

    /// Bob's `prekey_respond` to the initial message `message`.
    fn respond(&self, suite: &str, one_time_prekey: bool, message: &[u8]) -> PrekeyRespond {
        let signal = !is_olm(suite);
        PrekeyRespond {
            suite: suite.into(),
            identity_private_key: self.bob_identity.to_vec(),
            registration_id: signal.then_some(BOB_REGISTRATION),
            signed_prekey_id: signal.then_some(11),
            signed_prekey_private_key: signal.then(|| self.bob_signed_prekey.to_vec()),
            one_time_prekey_id: (signal && one_time_prekey).then_some(77),
            one_time_prekey_private_key: one_time_prekey.then(|| self.bob_one_time_prekey.to_vec()),
            ratchet_private_keys: self.bob_ratchet.clone(),
            message: message.to_vec(),
            ..self
                .kem_prekey(suite)
                .map_or_else(PrekeyRespond::default, |kem| PrekeyRespond {
                    kem_prekey_id: Some(KEM_PREKEY_ID),
                    kem_prekey_public_key: Some(kem.public),
                    kem_prekey_private_key: Some(kem.secret),
                    ..PrekeyRespond::default()
                })
        }
    }

    /// The AD both sides pass with every message: Encode(IKa) ‖ Encode(IKb);
    /// none for `olm-v1`, whose MAC covers the message alone.
    fn associated_data(&self, suite: &str) -> Vec<u8> {
        if is_olm(suite) {
            return Vec::new();
        }
        [
            [0x05].as_slice(),
            &public_of(&self.alice_identity),
            &[0x05],
            &public_of(&self.bob_identity),
        ]
        .concat()
    }
}

/// Whether live conversations can be held in `suite` (`one_time_prekey`:
/// Bob's bundle has a one-time prekey): a suite of the reference, and for
/// `olm-v1`, whose key agreement requires it, with a one-time key.
pub fn check_suite(suite: &str, one_time_prekey: bool) -> Result<(), String> {
    if is_olm(suite) {
        return if one_time_prekey {
            Ok(())
        } else {
            Err(
                "olm-v1 has no session without a one-time key (docs/OLM-V1.md §3): \
                 --without-one-time-prekey does not apply"
                    .into(),
            )
        };
    }
    match ratchetproof_protocol::suite::by_name(suite) {
        Some(_) => Ok(()),
        None => Err(format!("unknown suite {suite}")),
    }
}

/// Whether `imp` takes no injected keys, so live `olm-v1` conversations
/// use its own keys (docs/SHIM.md §4.4); always false for other suites.
fn takes_no_keys(imp: &dyn Implementation, suite: &str) -> bool {
    is_olm(suite) && !imp.capabilities().injected_randomness
}

/// Whether `peer` can hold live conversations in `suite`: a peer that takes
/// no injected keys must be an `olm-v1` peer with `prekey_bundle`, which
/// publishes the keys it holds as Bob.
pub fn check_peer(peer: &dyn Implementation, suite: &str) -> Result<(), String> {
    let caps = peer.capabilities();
    if caps.injected_randomness {
        return Ok(());
    }
    if !is_olm(suite) {
        return Err(format!(
            "{} takes no injected randomness; live {suite} conversations need injected keys \
             (only olm-v1 has the key-less extension, docs/SHIM.md §4.4)",
            caps.name
        ));
    }
    if !caps.operations.contains(&Operation::PrekeyBundle) {
        return Err(format!(
            "{} takes no injected randomness and does not declare prekey_bundle: \
             it cannot be Bob in a live olm-v1 conversation (docs/SHIM.md §4.4)",
            caps.name
        ));
    }
    Ok(())
}

/// Whether `suite` is Olm's, whose sessions start from an identity key and a
/// mandatory one-time key (no signed prekey, no ids) and carry no AD.
pub(crate) fn is_olm(suite: &str) -> bool {
    matches!(
        ratchetproof_protocol::suite::lookup(suite),
        Some(ratchetproof_protocol::suite::Registered::Olm)
    )
}

const ALICE_REGISTRATION: u32 = 0x1234;
const BOB_REGISTRATION: u32 = 0x2345;

fn public_of(private: &[u8; 32]) -> Vec<u8> {
    KeyPair::from_private(PrivateKey::from_bytes(*private))
        .public_key()
        .as_bytes()
        .to_vec()
}

/// What one live conversation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveReport {
    /// `"<alice> → <bob>"`.
    pub direction: String,
    /// Messages decrypted by Bob.
    pub to_bob: usize,
    /// Messages decrypted by Alice.
    pub to_alice: usize,
    /// DH ratchet steps (Alice's and Bob's) the conversation went through.
    pub ratchet_steps: usize,
}

/// A failed step of a live conversation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{direction}: {step}: {message}")]
pub struct LiveFailure {
    /// `"<alice> → <bob>"`.
    pub direction: String,
    /// What was being done.
    pub step: String,
    /// What went wrong.
    pub message: String,
}

struct Conversation<'a> {
    alice: &'a mut dyn Implementation,
    bob: &'a mut dyn Implementation,
    ha: SessionHandle,
    hb: SessionHandle,
    ad: Vec<u8>,
    direction: String,
    sent: usize,
    report: LiveReport,
}

/// A message in flight.
struct Flight {
    plaintext: Vec<u8>,
    wire: Vec<u8>,
    kind: MessageType,
}

impl Flight {
    /// Its delivery to session `h` (a whisper message goes without a type,
    /// as on sessions that are not prekey sessions).
    fn decrypt(&self, h: SessionHandle, ad: &[u8]) -> Decrypt {
        Decrypt {
            session: h,
            message: self.wire.clone(),
            ad: ad.to_vec(),
            message_type: (self.kind == MessageType::Prekey).then_some(MessageType::Prekey),
        }
    }
}

impl Conversation<'_> {
    fn fail(&self, step: &str, message: impl Into<String>) -> LiveFailure {
        LiveFailure {
            direction: self.direction.clone(),
            step: step.into(),
            message: message.into(),
        }
    }

    fn send(
        &mut self,
        from_alice: bool,
        expect: Option<MessageType>,
    ) -> Result<Flight, LiveFailure> {
        self.sent += 1;
        let who = if from_alice { "alice" } else { "bob" };
        let plaintext = format!("{who} message {} of the live test", self.sent).into_bytes();
        let (peer, h) = if from_alice {
            (&mut *self.alice, self.ha)
        } else {
            (&mut *self.bob, self.hb)
        };
        let step = format!("{who} sends message {}", self.sent);
        let sent = peer
            .encrypt(&Encrypt {
                session: h,
                plaintext: plaintext.clone(),
                ad: self.ad.clone(),
            })
            .map_err(|e| self.fail(&step, e.to_string()))?;
        let (wire, kind) = (
            sent.message,
            sent.message_type.unwrap_or(MessageType::Whisper),
        );
        if let Some(expected) = expect
            && kind != expected
        {
            return Err(self.fail(
                &step,
                format!(
                    "sent a {} message, expected {}",
                    kind.as_str(),
                    expected.as_str()
                ),
            ));
        }
        Ok(Flight {
            plaintext,
            wire,
            kind,
        })
    }

    fn deliver(&mut self, to_alice: bool, flight: &Flight) -> Result<(), LiveFailure> {
        let (peer, h, who) = if to_alice {
            (&mut *self.alice, self.ha, "alice")
        } else {
            (&mut *self.bob, self.hb, "bob")
        };
        let step = format!(
            "{who} receives {:?}",
            String::from_utf8_lossy(&flight.plaintext)
        );
        let got = peer
            .decrypt(&flight.decrypt(h, &self.ad))
            .map_err(|e| self.fail(&step, e.to_string()))?;
        if got.plaintext != flight.plaintext {
            return Err(self.fail(&step, "decrypted to a different plaintext"));
        }
        if to_alice {
            self.report.to_alice += 1;
        } else {
            self.report.to_bob += 1;
        }
        Ok(())
    }

    fn refuse_replay(&mut self, to_alice: bool, flight: &Flight) -> Result<(), LiveFailure> {
        let (peer, h, who) = if to_alice {
            (&mut *self.alice, self.ha, "alice")
        } else {
            (&mut *self.bob, self.hb, "bob")
        };
        let step = format!("{who} gets a replayed message");
        match peer.decrypt(&flight.decrypt(h, &self.ad)) {
            Ok(_) => Err(self.fail(&step, "the replay decrypted again")),
            Err(_) => Ok(()),
        }
    }
}

/// Runs one live conversation: `alice` starts X3DH from Bob's bundle (with
/// or without a one-time prekey), `bob` accepts, and they talk (the script
/// is fixed; keys derive from `label`). Returns what happened, or the first
/// step that failed.
pub fn live_conversation(
    alice: &mut dyn Implementation,
    bob: &mut dyn Implementation,
    suite: &str,
    label: &str,
    one_time_prekey: bool,
) -> Result<LiveReport, LiveFailure> {
    let direction = format!(
        "{} → {}{}",
        name(alice),
        name(bob),
        if one_time_prekey {
            ""
        } else {
            " (bundle without a one-time prekey)"
        }
    );
    let early = |step: &str, e: ImplError| LiveFailure {
        direction: direction.clone(),
        step: step.into(),
        message: e.to_string(),
    };
    let keys = Keys::new(label);
    let alice_keyless = takes_no_keys(alice, suite);
    let bob_keyless = takes_no_keys(bob, suite);
    let mut initiate = keys.initiate(suite, one_time_prekey);
    if bob_keyless {
        // Bob publishes his own keys; Alice (with her injected keys) builds
        // the session from them.
        let bundle = bob
            .prekey_bundle(&PrekeyBundle {
                suite: suite.into(),
            })
            .map_err(|e| early("bob publishes his prekey bundle", e))?;
        initiate.peer_identity_key = bundle.identity_key;
        initiate.peer_one_time_prekey = Some(bundle.one_time_prekey);
    }
    if alice_keyless {
        // Alice draws her own keys; empty fields are absent on the wire.
        initiate.identity_private_key = Vec::new();
        initiate.ephemeral_private_key = Vec::new();
        initiate.ratchet_private_keys = Vec::new();
    }
    let ha = alice
        .prekey_initiate(&initiate)
        .map_err(|e| early("alice starts X3DH from the bundle", e))?
        .session;
    let ad = keys.associated_data(suite);
    let mut c = Conversation {
        alice,
        bob,
        ha,
        hb: SessionHandle(0),
        ad,
        direction: direction.clone(),
        sent: 0,
        report: LiveReport {
            direction,
            to_bob: 0,
            to_alice: 0,
            ratchet_steps: 0,
        },
    };
    // Three initial messages; Bob sees the last one first.
    let first: Vec<Flight> = (0..3)
        .map(|_| c.send(true, Some(MessageType::Prekey)))
        .collect::<Result<_, _>>()?;
    let [p0, p1, p2] = <[Flight; 3]>::try_from(first)
        .map_err(|_| c.fail("alice's initial messages", "not three"))?;
    let mut respond = keys.respond(suite, one_time_prekey, &p2.wire);
    if bob_keyless {
        // Bob answers with the private halves of his own bundle.
        respond.identity_private_key = Vec::new();
        respond.one_time_prekey_private_key = None;
        respond.ratchet_private_keys = Vec::new();
    }
    let accepted = c
        .bob
        .prekey_respond(&respond)
        .map_err(|e| c.fail("bob accepts alice's third initial message", e.to_string()))?;
    let (hb, plaintext) = (accepted.session, accepted.plaintext);
    if plaintext != p2.plaintext {
        return Err(c.fail(
            "bob accepts alice's third initial message",
            "decrypted to a different plaintext",
        ));
    }
    c.hb = hb;
    c.report.to_bob += 1;
    c.report.ratchet_steps += 1;
    c.deliver(false, &p0)?;
    c.deliver(false, &p1)?;
    c.refuse_replay(false, &p1)?;

    // Bob replies; Alice gets the last reply first and one much later.
    let replies: Vec<Flight> = (0..3)
        .map(|_| c.send(false, Some(MessageType::Whisper)))
        .collect::<Result<_, _>>()?;
    let [r0, r1, r2] =
        <[Flight; 3]>::try_from(replies).map_err(|_| c.fail("bob's replies", "not three"))?;
    c.deliver(true, &r2)?;
    c.deliver(true, &r0)?;
    c.report.ratchet_steps += 1;
    let mut held_for_alice = Some(r1);
    let mut held_for_bob = None;

    // Several round trips, each a DH ratchet step on both sides, with
    // reordering inside each chain and messages held across steps.
    for round in 0..5 {
        let batch: Vec<Flight> = (0..3)
            .map(|_| c.send(true, Some(MessageType::Whisper)))
            .collect::<Result<_, _>>()?;
        let mut batch = batch.into_iter();
        let a0 = batch.next();
        let rest: Vec<Flight> = batch.collect();
        for f in rest.iter().rev() {
            c.deliver(false, f)?;
        }
        if round == 0 {
            held_for_bob = a0;
        } else if let Some(f) = a0 {
            c.deliver(false, &f)?;
        }
        c.report.ratchet_steps += 1;
        let answers: Vec<Flight> = (0..2)
            .map(|_| c.send(false, Some(MessageType::Whisper)))
            .collect::<Result<_, _>>()?;
        for f in answers.iter().rev() {
            c.deliver(true, f)?;
        }
        c.report.ratchet_steps += 1;
        if round == 3 {
            if let Some(f) = held_for_alice.take() {
                c.deliver(true, &f)?;
                c.refuse_replay(true, &f)?;
            }
            if let Some(f) = held_for_bob.take() {
                c.deliver(false, &f)?;
            }
        }
    }
    Ok(c.report)
}

/// Both directions against `peer`: the reference as Alice and the peer as
/// Bob, then the peer as Alice and the reference as Bob.
pub fn live_both_ways(
    peer: &mut dyn Implementation,
    suite: &str,
    one_time_prekey: bool,
) -> Vec<Result<LiveReport, LiveFailure>> {
    let mut reference = Reference::new();
    let forward = live_conversation(
        &mut reference,
        peer,
        suite,
        "reference-to-peer",
        one_time_prekey,
    );
    let mut reference = Reference::new();
    let backward = live_conversation(
        peer,
        &mut reference,
        suite,
        "peer-to-reference",
        one_time_prekey,
    );
    vec![forward, backward]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::implementation::{
        Capabilities, EncryptOutput, ImplResult, PrekeyBundleOutput, PrekeyRespondOutput, Request,
        Response, SessionOutput,
    };

    /// The reference, but the last byte of its 7th message is flipped.
    struct Garbling(Reference, usize);
    impl Implementation for Garbling {
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                name: "garbling".into(),
                ..self.0.capabilities()
            }
        }
        fn encrypt(&mut self, r: &Encrypt) -> ImplResult<EncryptOutput> {
            self.1 += 1;
            let mut out = self.0.encrypt(r)?;
            if self.1 == 7 {
                *out.message.last_mut().unwrap() ^= 1;
            }
            Ok(out)
        }
        fn forward(&mut self, request: Request) -> ImplResult<Response> {
            request.answer(&mut self.0)
        }
    }

    #[test]
    fn the_reference_talks_to_itself_in_both_suites() {
        for suite in ratchetproof_protocol::suite::all() {
            let mut peer = Reference::new();
            for one_time_prekey in [true, false] {
                for outcome in live_both_ways(&mut peer, suite.name(), one_time_prekey) {
                    let report = outcome.unwrap();
                    assert_eq!(report.to_bob, 3 + 15);
                    assert_eq!(report.to_alice, 3 + 10);
                }
            }
        }
    }

    #[test]
    fn the_reference_talks_to_itself_in_olm() {
        let olm = ratchetproof_protocol::olm::NAME;
        let mut peer = Reference::new();
        for outcome in live_both_ways(&mut peer, olm, true) {
            let report = outcome.unwrap();
            assert_eq!(report.to_bob, 3 + 15);
            assert_eq!(report.to_alice, 3 + 10);
        }
        assert!(check_suite(olm, false).is_err());
        assert!(check_suite(olm, true).is_ok());
        assert!(check_suite("no-such-suite", true).is_err());
    }

    /// An `olm-v1` peer like vodozemac: it refuses injected keys, draws its
    /// own (here from a seeded stream) and publishes Bob's with
    /// `prekey_bundle`; every `garble_every`-th message it sends is garbled.
    struct Keyless {
        inner: Reference,
        drawn: u32,
        bundle: Option<([u8; 32], [u8; 32])>,
        sent: usize,
        garble_every: usize,
    }

    impl Keyless {
        fn new(garble_every: usize) -> Self {
            Self {
                inner: Reference::new(),
                drawn: 0,
                bundle: None,
                sent: 0,
                garble_every,
            }
        }
        fn draw(&mut self) -> [u8; 32] {
            self.drawn += 1;
            derived_key(&format!("test/keyless/{}", self.drawn))
        }
        fn ratchet_keys(&mut self) -> Vec<Vec<u8>> {
            (0..64).map(|_| self.draw().to_vec()).collect()
        }
    }

    impl Implementation for Keyless {
        fn capabilities(&self) -> Capabilities {
            let mut caps = self.inner.capabilities();
            caps.name = "keyless".into();
            caps.injected_randomness = false;
            caps.operations.insert(Operation::PrekeyBundle);
            caps
        }
        fn prekey_bundle(&mut self, _: &PrekeyBundle) -> ImplResult<PrekeyBundleOutput> {
            let keys = (self.draw(), self.draw());
            self.bundle = Some(keys);
            Ok(PrekeyBundleOutput {
                identity_key: public_of(&keys.0),
                one_time_prekey: public_of(&keys.1),
            })
        }
        fn prekey_initiate(&mut self, r: &PrekeyInitiate) -> ImplResult<SessionOutput> {
            assert!(r.identity_private_key.is_empty() && r.ephemeral_private_key.is_empty());
            let mut r = r.clone();
            r.identity_private_key = self.draw().to_vec();
            r.ephemeral_private_key = self.draw().to_vec();
            r.ratchet_private_keys = self.ratchet_keys();
            self.inner.prekey_initiate(&r)
        }
        fn prekey_respond(&mut self, r: &PrekeyRespond) -> ImplResult<PrekeyRespondOutput> {
            assert!(r.identity_private_key.is_empty() && r.one_time_prekey_private_key.is_none());
            let (identity, one_time) = self.bundle.take().unwrap();
            let mut r = r.clone();
            r.identity_private_key = identity.to_vec();
            r.one_time_prekey_private_key = Some(one_time.to_vec());
            r.ratchet_private_keys = self.ratchet_keys();
            self.inner.prekey_respond(&r)
        }
        fn encrypt(&mut self, r: &Encrypt) -> ImplResult<EncryptOutput> {
            self.sent += 1;
            let mut out = self.inner.encrypt(r)?;
            if self.garble_every > 0 && self.sent.is_multiple_of(self.garble_every) {
                *out.message.last_mut().unwrap() ^= 1;
            }
            Ok(out)
        }
        fn forward(&mut self, request: Request) -> ImplResult<Response> {
            request.answer(&mut self.inner)
        }
    }

    #[test]
    fn a_peer_without_injected_keys_talks_both_ways_with_its_own_bundle() {
        let olm = ratchetproof_protocol::olm::NAME;
        let mut peer = Keyless::new(0);
        assert!(check_peer(&peer, olm).is_ok());
        for outcome in live_both_ways(&mut peer, olm, true) {
            let report = outcome.unwrap();
            assert_eq!((report.to_bob, report.to_alice), (3 + 15, 3 + 10));
        }
        assert!(check_peer(&peer, "signal-v3").is_err());
        let mut garbling = Keyless::new(7);
        let outcomes = live_both_ways(&mut garbling, olm, true);
        assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
    }

    #[test]
    fn a_peer_without_injected_keys_or_prekey_bundle_gets_no_verdict() {
        struct NoBundle(Keyless);
        impl Implementation for NoBundle {
            fn capabilities(&self) -> Capabilities {
                let mut caps = self.0.capabilities();
                caps.operations.remove(&Operation::PrekeyBundle);
                caps
            }
            fn forward(&mut self, request: Request) -> ImplResult<Response> {
                request.answer(&mut self.0)
            }
        }
        let err =
            check_peer(&NoBundle(Keyless::new(0)), ratchetproof_protocol::olm::NAME).unwrap_err();
        assert!(err.contains("prekey_bundle"), "{err}");
        assert!(check_peer(&Reference::new(), ratchetproof_protocol::olm::NAME).is_ok());
    }

    #[test]
    fn a_peer_that_garbles_one_olm_message_fails_the_conversation() {
        let mut peer = Garbling(Reference::new(), 0);
        let outcomes = live_both_ways(&mut peer, ratchetproof_protocol::olm::NAME, true);
        assert!(outcomes.iter().any(Result::is_err));
    }

    #[test]
    fn a_peer_that_garbles_one_message_fails_the_conversation() {
        let mut peer = Garbling(Reference::new(), 0);
        let outcomes = live_both_ways(&mut peer, "signal-v3", true);
        assert!(outcomes.iter().any(Result::is_err));
    }
}
