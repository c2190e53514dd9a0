//! What a captured Olm state can and cannot read (docs/OLM-V1.md §8): the
//! forward-secrecy rule of this suite — a capture decrypts a message iff its
//! key is stored, or it lies at or beyond the next index of a kept chain —
//! and post-compromise healing at the victim's next send.

use super::builder::{Cases, R, refused, refused_or_mac};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

pub(super) fn forward_secrecy(c: &mut Cases) -> R<()> {
    {
        let mut s = c.start("fs-received")?;
        let a0 = s.say("alice")?;
        let a1 = s.say("alice")?;
        s.deliver("bob", a0)?;
        s.deliver("bob", a1)?;
        s.capture("bob", "eve")?;
        s.refuse("eve", a0, refused_or_mac(ErrorClass::Duplicate))?;
        s.refuse("eve", a1, refused_or_mac(ErrorClass::Duplicate))?;
        let a2 = s.say("alice")?;
        s.deliver("eve", a2)?;
        s.deliver("bob", a2)?;
        c.add(
            s,
            "a copy of Bob's state taken after he decrypted two messages cannot decrypt them, and reads the next message of the chain",
            &[Flag::OlmForwardSecrecy],
        )?;
    }
    {
        let mut s = c.start("fs-kept-chain")?;
        let a: [usize; 4] = s.says("alice")?;
        s.deliver("bob", a[0])?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        s.capture("bob", "eve")?;
        // Olm's rule: messages 1..3 of Alice's first chain were never
        // received and no key of theirs was stored; the kept chain key
        // derives them. A Signal capture would read them only within the
        // previous-chain length the new chain's header announced.
        s.refuse("eve", a[0], refused_or_mac(ErrorClass::Duplicate))?;
        s.deliver("eve", a[3])?;
        s.deliver("eve", a[1])?;
        s.refuse("eve", a2, refused_or_mac(ErrorClass::Duplicate))?;
        s.deliver("bob", a[2])?;
        s.deliver("bob", a[1])?;
        c.add(
            s,
            "a copy of Bob's state, taken after Alice's second chain reached him, reads the messages of her first chain he has not received (derived from the kept chain key), never the ones he decrypted",
            &[Flag::OlmForwardSecrecy, Flag::OlmKeptChains],
        )?;
    }
    {
        let mut s = c.start("fs-stored")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let a1 = s.say("alice")?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        s.capture("bob", "eve")?;
        s.refuse("eve", a2, refused_or_mac(ErrorClass::Duplicate))?;
        s.deliver("eve", a1)?;
        s.deliver("bob", a1)?;
        c.add(
            s,
            "a copy of Bob's state reads a message whose key he stored as skipped, and not the one he decrypted",
            &[Flag::OlmForwardSecrecy],
        )?;
    }
    {
        let mut s = c.start("fs-alice")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        let b1 = s.say("bob")?;
        s.deliver("alice", b0)?;
        s.capture("alice", "eve")?;
        s.refuse("eve", b0, refused_or_mac(ErrorClass::Duplicate))?;
        s.deliver("eve", b1)?;
        s.deliver("alice", b1)?;
        c.add(
            s,
            "a copy of Alice's state taken after she decrypted Bob's first reply cannot decrypt it, and reads his next one",
            &[Flag::OlmForwardSecrecy],
        )?;
    }
    Ok(())
}

pub(super) fn post_compromise(c: &mut Cases) -> R<()> {
    {
        let mut s = c.start("pcs-after-send")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        // Bob holds the ratchet key of his sending chain when captured.
        s.capture("bob", "eve")?;
        s.deliver("alice", b0)?;
        let a1 = s.say("alice")?;
        // Alice's new chain is derived from Bob's ratchet key, which the copy holds.
        s.deliver("eve", a1)?;
        s.deliver("bob", a1)?;
        // Bob's next send draws a fresh ratchet key: Alice's answer to it heals.
        let b1 = s.say("bob")?;
        s.deliver("alice", b1)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        s.refuse("eve", a2, refused(ErrorClass::Authentication))?;
        c.add(
            s,
            "a copy of Bob taken after he sent follows Alice's next chain (derived from his ratchet key), and fails once Bob has sent with a fresh ratchet key and Alice answered",
            &[Flag::OlmPostCompromise],
        )?;
    }
    {
        let mut s = c.start("pcs-after-receive")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        let a1 = s.say("alice")?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a1)?;
        // Between a receive and the next send Bob holds no private ratchet key.
        s.capture("bob", "eve")?;
        s.deliver("eve", a2)?;
        let b1 = s.say("bob")?;
        s.deliver("alice", b1)?;
        let a3 = s.say("alice")?;
        s.deliver("bob", a3)?;
        s.refuse("eve", a3, refused(ErrorClass::Authentication))?;
        c.add(
            s,
            "a copy of Bob taken between a receive and his next send reads the rest of Alice's current chain, and nothing of her chain after Bob's next send",
            &[Flag::OlmPostCompromise, Flag::OlmForwardSecrecy],
        )?;
    }
    Ok(())
}
