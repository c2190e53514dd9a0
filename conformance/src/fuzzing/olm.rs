//! The `olm_untrusted` fuzz body: arbitrary bytes delivered to live `olm-v1`
//! sessions (`protocol::olm`, docs/OLM-V1.md), as a pre-key or a normal
//! message, to Bob or to Alice.
//!
//! Olm is not a [`ratchetproof_protocol::suite::CipherSuite`] (its ratchet
//! is another state machine), so it has a body of its own rather than a suite
//! of [`super::decrypt_untrusted`]. Olm sessions have no serialized form, so
//! "a refusal changes nothing" is checked by behaviour: after a refused input
//! the session decrypts every pending genuine message to the same plaintext,
//! and its next `encrypt` (same randomness) writes the same bytes, as an
//! untouched copy does.

use std::sync::OnceLock;

use ratchetproof_protocol::olm::session::MessageType;
use ratchetproof_protocol::olm::{OlmMessage, OlmSession, PreKeyMessage};

use super::{keys, pair};
use crate::reference::KeyQueueRng;

/// A message in flight and what it says.
struct Pending {
    kind: MessageType,
    wire: Vec<u8>,
    plaintext: Vec<u8>,
}

/// Alice and Bob after a few messages both ways, with messages still in
/// flight to each (pre-key and normal ones to Bob, two on Bob's chain to
/// Alice), and the randomness each would draw next.
struct OlmFixture {
    alice: OlmSession,
    bob: OlmSession,
    for_alice: Vec<Pending>,
    for_bob: Vec<Pending>,
    rng: KeyQueueRng,
}

fn send(session: &mut OlmSession, text: &str, rng: &mut KeyQueueRng) -> Option<Pending> {
    let (kind, wire) = session.encrypt(text.as_bytes(), rng).ok()?;
    Some(Pending {
        kind,
        wire,
        plaintext: text.as_bytes().to_vec(),
    })
}

fn build() -> Option<OlmFixture> {
    let (alice_id, bob_id) = (pair("fuzz/olm/alice/ik"), pair("fuzz/olm/bob/ik"));
    let one_time = pair("fuzz/olm/bob/otk");
    let mut rng = keys("fuzz/olm/ratchet", 8);
    let mut alice = OlmSession::outbound(
        &alice_id,
        &pair("fuzz/olm/alice/base"),
        pair("fuzz/olm/alice/t0"),
        bob_id.public_key(),
        one_time.public_key(),
    )
    .ok()?;
    let a0 = send(&mut alice, "a0", &mut rng)?;
    let a1 = send(&mut alice, "a1", &mut rng)?;
    let mut bob =
        OlmSession::inbound(&bob_id, &one_time, &PreKeyMessage::decode(&a0.wire).ok()?).ok()?;
    bob.decrypt(a0.kind, &a0.wire).ok()?;
    let b0 = send(&mut bob, "b0", &mut rng)?;
    let b1 = send(&mut bob, "b1", &mut rng)?;
    let b2 = send(&mut bob, "b2", &mut rng)?;
    alice.decrypt(b0.kind, &b0.wire).ok()?;
    // Alice's next message starts her second chain: a normal message.
    let a2 = send(&mut alice, "a2", &mut rng)?;
    Some(OlmFixture {
        alice,
        bob,
        for_alice: vec![b1, b2],
        for_bob: vec![a1, a2],
        rng,
    })
}

fn fixture() -> Option<&'static OlmFixture> {
    static FIXTURE: OnceLock<Option<OlmFixture>> = OnceLock::new();
    FIXTURE.get_or_init(build).as_ref()
}

/// Whether `session` behaves as `reference` does: the same plaintext for
/// every pending message (in order, on one copy each), and the same bytes
/// for its next message under the same randomness.
fn same_behaviour(
    session: &OlmSession,
    reference: &OlmSession,
    pending: &[Pending],
    rng: &KeyQueueRng,
) -> bool {
    let (mut a, mut b) = (session.clone(), reference.clone());
    let decrypts = pending.iter().all(|p| {
        let (x, y) = (a.decrypt(p.kind, &p.wire), b.decrypt(p.kind, &p.wire));
        matches!((&x, &y), (Ok(x), Ok(y)) if *x == p.plaintext && x == y)
    });
    let (x, y) = (
        a.encrypt(b"next", &mut rng.clone()),
        b.encrypt(b"next", &mut rng.clone()),
    );
    decrypts && matches!((x, y), (Ok(x), Ok(y)) if x == y)
}

/// `olm_untrusted`: bit 0 of the first byte picks the recipient (Bob, or
/// Alice when set), bit 1 the message type (normal, or pre-key when set);
/// the rest is the message. Checks: no panic; the decoders' round trip
/// (a pre-key message that decodes re-encodes to one that decodes equal);
/// a refused input leaves the session behaving exactly as before; an
/// accepted one is a genuine pending message of that type (for a pre-key
/// message: its authenticated inner message), decrypted to its plaintext.
pub fn olm_untrusted(data: &[u8]) {
    let Some(f) = fixture() else {
        return;
    };
    let (selector, message) = data.split_first().unwrap_or((&0, &[]));
    if let Ok(p) = PreKeyMessage::decode(message) {
        assert_eq!(
            PreKeyMessage::decode(&p.encode()).ok(),
            Some(p),
            "a pre-key message does not survive re-encoding"
        );
    }
    let _ = OlmMessage::decode(message);
    let to_alice = selector & 1 == 1;
    let kind = if selector & 2 == 0 {
        MessageType::Normal
    } else {
        MessageType::PreKey
    };
    let (reference, pending) = if to_alice {
        (&f.alice, &f.for_alice)
    } else {
        (&f.bob, &f.for_bob)
    };
    let mut session = reference.clone();
    match session.decrypt(kind, message) {
        Err(_) => assert!(
            same_behaviour(&session, reference, pending, &f.rng),
            "a refused message changed the session"
        ),
        Ok(plaintext) => {
            // A pre-key message's envelope (one-time, base and identity key)
            // has no MAC: on an existing session only the inner message
            // counts, and the application's `matches_inbound` check is what
            // refuses another session's envelope (OLM-V1.md §4.2; the
            // vectors accept both outcomes there).
            let ratchet_part = |kind: MessageType, wire: &[u8]| match kind {
                MessageType::Normal => Some(wire.to_vec()),
                MessageType::PreKey => PreKeyMessage::decode(wire).ok().map(|p| p.message),
            };
            let inner = ratchet_part(kind, message);
            let genuine = pending.iter().find(|p| {
                p.kind == kind && inner.is_some() && ratchet_part(p.kind, &p.wire) == inner
            });
            assert!(
                genuine.is_some_and(|p| p.plaintext == plaintext),
                "a message that was never sent decrypted"
            );
        }
    }
}

/// Seeds for `olm_untrusted`: each pending message to its recipient, with
/// its type and with the other, and tampered copies (last byte, first byte).
pub(super) fn seeds() -> Vec<(String, Vec<u8>)> {
    let Some(f) = fixture() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (to_alice, pending) in [(false, &f.for_bob), (true, &f.for_alice)] {
        let who = if to_alice { "alice" } else { "bob" };
        for (i, p) in pending.iter().enumerate() {
            let genuine = u8::from(to_alice) | if p.kind == MessageType::PreKey { 2 } else { 0 };
            let with = |selector: u8, bytes: &[u8]| [&[selector][..], bytes].concat();
            out.push((format!("{who}-{i}-genuine"), with(genuine, &p.wire)));
            out.push((format!("{who}-{i}-other-type"), with(genuine ^ 2, &p.wire)));
            let mut tag = p.wire.clone();
            if let Some(b) = tag.last_mut() {
                *b ^= 1;
            }
            out.push((format!("{who}-{i}-bad-tag"), with(genuine, &tag)));
            let mut version = p.wire.clone();
            if let Some(b) = version.first_mut() {
                *b ^= 0x07;
            }
            out.push((format!("{who}-{i}-version"), with(genuine, &version)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn genuine_messages_pass_and_forgeries_are_refused_without_change() {
        for (name, seed) in seeds() {
            let outcome = std::panic::catch_unwind(|| olm_untrusted(&seed));
            assert!(outcome.is_ok(), "{name}");
        }
        // The fixture has messages in flight both ways, of both types.
        let f = fixture().unwrap();
        assert!(f.for_bob.iter().any(|p| p.kind == MessageType::PreKey));
        assert!(f.for_bob.iter().any(|p| p.kind == MessageType::Normal));
        assert_eq!(f.for_alice.len(), 2);
    }

    #[test]
    fn the_behaviour_check_sees_a_changed_session() {
        // A session that consumed a pending message no longer behaves as the
        // fixture: the check the body relies on can fail.
        let f = fixture().unwrap();
        let mut changed = f.bob.clone();
        let p = &f.for_bob[1];
        changed.decrypt(p.kind, &p.wire).unwrap();
        assert!(!same_behaviour(&changed, &f.bob, &f.for_bob, &f.rng));
        assert!(same_behaviour(&f.bob.clone(), &f.bob, &f.for_bob, &f.rng));
        // Nor does one whose sender chain moved on.
        let mut sent = f.alice.clone();
        sent.encrypt(b"x", &mut f.rng.clone()).unwrap();
        assert!(!same_behaviour(&sent, &f.alice, &f.for_alice, &f.rng));
    }
}
