//! A party's state captured by an attacker: what the capture can no longer
//! read (forward secrecy) and when it stops following the conversation
//! (post-compromise security).

use super::{Cases, R, forward_secrecy_copies, ping_pong};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

pub(super) fn forward_secrecy(c: &mut Cases) -> R<()> {
    for delivered in [1usize, 3, 6] {
        let mut s = c.start("fs")?;
        let ids: Vec<usize> = (0..delivered).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &m in &ids {
            s.deliver("bob", m)?;
        }
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        s.capture("bob", "eve")?;
        for &m in &ids {
            s.refuse("eve", m, ErrorClass::Duplicate)?;
        }
        forward_secrecy_copies::working_copy(&mut s, "eve", "bob")?;
        c.add(s, &format!("state captured after {delivered} messages were decrypted cannot decrypt any of them"), &[Flag::ForwardSecrecy])?;
    }
    for (sent, delivered) in [(4usize, &[3usize][..]), (5, &[0, 4]), (6, &[1, 5])] {
        let mut s = c.start("fs-skipped")?;
        let first = s.say("alice")?;
        s.deliver("bob", first)?;
        let ids: Vec<usize> = (0..sent).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &i in delivered {
            s.deliver("bob", ids.get(i).copied().unwrap_or(0))?;
        }
        s.capture("bob", "eve")?;
        s.refuse("eve", first, ErrorClass::Duplicate)?;
        for (i, &m) in ids.iter().enumerate() {
            if delivered.contains(&i) {
                s.refuse("eve", m, ErrorClass::Duplicate)?;
            } else if i < *delivered.iter().max().unwrap_or(&0) {
                // Still stored as skipped in the captured state: expected to decrypt.
                s.deliver("eve", m)?;
            }
        }
        forward_secrecy_copies::working_copy(&mut s, "eve", "bob")?;
        c.add(s, &format!("a capture decrypts only the still-skipped messages ({sent} sent, {delivered:?} delivered)"), &[Flag::ForwardSecrecy, Flag::OutOfOrder])?;
    }
    for rounds in [1usize, 3] {
        let mut s = c.start("fs-old-chains")?;
        let mut old = Vec::new();
        for _ in 0..rounds {
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            old.push(m);
            let r = s.say("bob")?;
            s.deliver("alice", r)?;
        }
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
        s.capture("bob", "eve")?;
        for &m in &old {
            s.refuse("eve", m, ErrorClass::Duplicate)?;
        }
        forward_secrecy_copies::working_copy(&mut s, "eve", "bob")?;
        c.add(
            s,
            &format!("messages from {rounds} earlier chains stay secret from a later capture"),
            &[Flag::ForwardSecrecy, Flag::DelayedChains],
        )?;
    }
    Ok(())
}

pub(super) fn post_compromise(c: &mut Cases) -> R<()> {
    for (before, burst) in [(0usize, 1usize), (1, 1), (2, 2), (3, 1), (1, 3)] {
        let mut s = c.start("pcs")?;
        ping_pong(&mut s, before, 1)?;
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
        s.capture("bob", "eve")?;
        // Eve follows Alice's current chain passively.
        for _ in 0..burst {
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            s.deliver("eve", m)?;
        }
        // Bob's current ratchet key was drawn before the capture, so Eve still
        // follows Alice's next chain; Bob's next DH ratchet (on receiving it)
        // draws a key Eve does not know, and Alice's chain after that heals.
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        s.deliver("eve", a2)?;
        // Alice's new chain is keyed to the ratchet key Bob drew on receiving
        // m. A Bob that defers drawing it until he sends ([DR] §6.5) had none
        // when captured, so Eve cannot read it: either conforms.
        s.or_refused(ErrorClass::Authentication)?;
        let r2 = s.say("bob")?;
        s.deliver("alice", r2)?;
        for _ in 0..2 {
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            s.refuse("eve", m, ErrorClass::Authentication)?;
        }
        c.add(s, &format!("after {before} round trips Bob is captured; Eve reads {burst} more messages, then nothing after Bob's fresh DH ratchet"), &[Flag::PostCompromise])?;
    }
    {
        let mut s = c.start("pcs-alice")?;
        ping_pong(&mut s, 1, 1)?;
        s.capture("alice", "mallory")?;
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        s.deliver("mallory", r)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        // Bob's new chain is still keyed to Alice's pre-capture ratchet key.
        let r2 = s.say("bob")?;
        s.deliver("alice", r2)?;
        s.deliver("mallory", r2)?;
        // An Alice that defers drawing her next ratchet key until she sends
        // had none when captured: Mallory cannot read this chain either.
        s.or_refused(ErrorClass::Authentication)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        let r3 = s.say("bob")?;
        s.deliver("alice", r3)?;
        s.refuse("mallory", r3, ErrorClass::Authentication)?;
        c.add(s, "Alice is captured; the capture reads Bob's chains until Alice's first post-capture ratchet key is in use, then nothing", &[Flag::PostCompromise])?;
    }
    Ok(())
}
