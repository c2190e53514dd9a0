//! Forward secrecy against a *working* copy.
//!
//! A forward-secrecy case that only expects the captured copy to refuse
//! passes a shim whose copy refuses everything. So every capture here (and
//! the older `ForwardSecrecy` cases, through [`working_copy`]) also shows the
//! copy is a real one: it decrypts what the party legitimately could (the
//! next message on the captured chain, keys still stored as skipped). The
//! copy does not send: its first message's bytes depend on whether the
//! party generates its next ratchet key on receipt (the spec's pseudocode)
//! or when it next sends (allowed, and what Olm does) — a copy captured in
//! between draws that key from its own list in one variant and holds it in
//! the other, so no single byte string is right. The cases add the two captures the
//! older ones miss: right after a stored skipped key was used, and right
//! after the last message of the current chain was decrypted.

use super::{Cases, R, Scenario};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

/// After a capture of Bob as `copy`: Alice sends on (or starts) the chain
/// the capture holds, and both Bob and the copy decrypt it (the copy's own
/// sends are left out: see the module doc). Appended after a case's own
/// steps, so earlier steps (and tcIds) stay as they were.
pub(super) fn working_copy(s: &mut Scenario, copy: &str, bob: &str) -> R<()> {
    let a = s.say("alice")?;
    s.deliver(bob, a)?;
    s.deliver(copy, a)?;
    Ok(())
}

pub(super) fn cases(c: &mut Cases) -> R<()> {
    stored_key_used(c)?;
    last_of_chain(c)?;
    Ok(())
}

/// Bob decrypts a message from his skipped-key store, then is captured: the
/// copy cannot decrypt that message again, but still decrypts the messages
/// whose keys are still stored, on the current chain and on a previous one.
fn stored_key_used(c: &mut Cases) -> R<()> {
    // Current chain: 0..4 sent, 4 arrives first (0..3 stored), then 1.
    let mut s = c.start("fs-stored-key-used")?;
    let ids: Vec<usize> = (0..5).map(|_| s.say("alice")).collect::<R<_>>()?;
    let [m0, m1, m2, m3, m4] = ids[..] else {
        return Err(s.fail("five messages".into()));
    };
    s.deliver("bob", m4)?;
    s.deliver("bob", m1)?;
    s.capture("bob", "eve")?;
    s.refuse("eve", m1, ErrorClass::Duplicate)?;
    s.refuse("eve", m4, ErrorClass::Duplicate)?;
    for m in [m0, m2, m3] {
        s.deliver("eve", m)?;
    }
    for m in [m3, m0] {
        s.deliver("bob", m)?;
    }
    working_copy(&mut s, "eve", "bob")?;
    s.deliver("bob", m2)?;
    c.add(
        s,
        "Bob decrypts message 1 with its stored skipped key and is captured: the copy cannot decrypt message 1 (or 4) again but decrypts 0, 2 and 3, whose keys are still stored, and goes on as a working copy",
        &[Flag::ForwardSecrecy, Flag::OutOfOrder],
    )?;
    // Previous chain: Alice's 1..3 are stored through PN when her next chain
    // starts; Bob then decrypts 2 from the store.
    let mut s = c.start("fs-stored-key-used-previous-chain")?;
    let a0 = s.say("alice")?;
    s.deliver("bob", a0)?;
    let held: Vec<usize> = (0..3).map(|_| s.say("alice")).collect::<R<_>>()?;
    let [h1, h2, h3] = held[..] else {
        return Err(s.fail("three messages".into()));
    };
    let b0 = s.say("bob")?;
    s.deliver("alice", b0)?;
    let a4 = s.say("alice")?;
    s.deliver("bob", a4)?;
    s.deliver("bob", h2)?;
    s.capture("bob", "eve")?;
    s.refuse("eve", h2, ErrorClass::Duplicate)?;
    s.refuse("eve", a4, ErrorClass::Duplicate)?;
    for m in [h3, h1] {
        s.deliver("eve", m)?;
    }
    s.deliver("bob", h1)?;
    working_copy(&mut s, "eve", "bob")?;
    s.deliver("bob", h3)?;
    c.add(
        s,
        "Bob decrypts a late message of Alice's previous chain with a key stored through PN and is captured: the copy cannot decrypt it again but decrypts the other stored ones, and goes on as a working copy",
        &[Flag::ForwardSecrecy, Flag::OutOfOrder, Flag::AcrossRatchetSteps],
    )?;
    Ok(())
}

/// Bob is captured right after decrypting the last message of his current
/// receiving chain: the chain key has moved past it, so the copy refuses it
/// and still reads the chain's next message.
fn last_of_chain(c: &mut Cases) -> R<()> {
    for after_ratchet in [false, true] {
        let mut s = c.start("fs-last-of-chain")?;
        let first = s.say("alice")?;
        s.deliver("bob", first)?;
        let mut chain = Vec::new();
        if after_ratchet {
            let b0 = s.say("bob")?;
            s.deliver("alice", b0)?;
            chain.push(s.say("alice")?);
        } else {
            chain.push(first);
            for _ in 0..2 {
                chain.push(s.say("alice")?);
            }
        }
        for &m in chain.iter().skip(usize::from(!after_ratchet)) {
            s.deliver("bob", m)?;
        }
        s.capture("bob", "eve")?;
        for &m in chain.iter().rev() {
            s.refuse("eve", m, ErrorClass::Duplicate)?;
        }
        working_copy(&mut s, "eve", "bob")?;
        let what = if after_ratchet {
            "the first and only message of a chain that began with a DH ratchet"
        } else {
            "message 2, the last of Alice's first chain"
        };
        c.add(
            s,
            &format!("Bob is captured right after decrypting {what}: the copy refuses it, reads the chain's next message, and Alice reads the copy"),
            &[Flag::ForwardSecrecy],
        )?;
    }
    Ok(())
}
