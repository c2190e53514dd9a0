//! Honest conversations: in order, out of order within and across chains
//! (late messages on kept chains), lost messages, and Alice's pre-key
//! messages before and after Bob's first reply.

use super::builder::{Cases, Olm, R};
use crate::generate::flags::Flag;

/// Alice sends `burst` messages, Bob replies with `burst`, `rounds` times;
/// each delivered at once.
fn ping_pong(s: &mut Olm, rounds: usize, burst: usize) -> R<()> {
    for _ in 0..rounds {
        for (from, to) in [("alice", "bob"), ("bob", "alice")] {
            for _ in 0..burst {
                let m = s.say(from)?;
                s.deliver(to, m)?;
            }
        }
    }
    Ok(())
}

pub(super) fn in_order(c: &mut Cases) -> R<()> {
    for (rounds, burst) in [(1, 1), (3, 1), (2, 3)] {
        let mut s = c.start("in-order")?;
        ping_pong(&mut s, rounds, burst)?;
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
        c.add(
            s,
            &format!(
                "{rounds} round trip(s) of {burst} message(s) each way, delivered in order; Alice's messages are pre-key messages until she has decrypted Bob's first"
            ),
            &[Flag::InOrder, Flag::OlmPreKeyMessages],
        )?;
    }
    let mut s = c.start("plaintexts")?;
    for len in [0usize, 1, 15, 16, 17, 1000] {
        let text: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let a = s.send("alice", &text)?;
        s.deliver("bob", a)?;
        let b = s.send("bob", &text)?;
        s.deliver("alice", b)?;
    }
    c.add(
        s,
        "plaintexts of 0, 1, 15, 16, 17 and 1000 bytes both ways (CBC block boundaries: PKCS#7 pads a full block onto 16)",
        &[Flag::InOrder, Flag::EdgeCase],
    )?;
    Ok(())
}

pub(super) fn out_of_order(c: &mut Cases) -> R<()> {
    {
        let mut s = c.start("first-chain-reordered")?;
        let ms: [usize; 4] = s.says("alice")?;
        for m in [ms[3], ms[0], ms[2], ms[1]] {
            s.deliver("bob", m)?;
        }
        ping_pong(&mut s, 1, 1)?;
        c.add(
            s,
            "Alice's first four pre-key messages arrive 3, 0, 2, 1: the first Bob accepts (index 3) starts his session and stores the keys of 0..2",
            &[Flag::OutOfOrder, Flag::OlmPreKeyMessages],
        )?;
    }
    {
        let mut s = c.start("later-chain-reordered")?;
        ping_pong(&mut s, 1, 1)?;
        let ms: [usize; 5] = s.says("alice")?;
        for m in [ms[4], ms[2], ms[0], ms[3], ms[1]] {
            s.deliver("bob", m)?;
        }
        let bs: [usize; 3] = s.says("bob")?;
        for m in [bs[2], bs[1], bs[0]] {
            s.deliver("alice", m)?;
        }
        ping_pong(&mut s, 1, 1)?;
        c.add(
            s,
            "after a round trip, five messages of Alice's second chain and three of Bob's arrive out of order",
            &[Flag::OutOfOrder],
        )?;
    }
    {
        let mut s = c.start("late-on-kept-chain")?;
        let a: [usize; 3] = s.says("alice")?;
        s.deliver("bob", a[0])?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        let a2: [usize; 2] = s.says("alice")?;
        s.deliver("bob", a2[1])?;
        s.deliver("bob", a2[0])?;
        // Late messages of Alice's first chain, after her second started:
        // derived from the kept chain key (no previous-chain length in Olm).
        s.deliver("bob", a[2])?;
        s.deliver("bob", a[1])?;
        ping_pong(&mut s, 1, 1)?;
        c.add(
            s,
            "late messages of Alice's first chain arrive after her second chain started; Bob derives them from the kept chain key",
            &[Flag::OutOfOrder, Flag::OlmKeptChains],
        )?;
    }
    {
        let mut s = c.start("delayed-chains")?;
        let mut held = Vec::new();
        for _ in 0..3 {
            let first = s.say("alice")?;
            held.push(s.say("alice")?);
            s.deliver("bob", first)?;
            let b = s.say("bob")?;
            s.deliver("alice", b)?;
        }
        let last = s.say("alice")?;
        s.deliver("bob", last)?;
        for m in held.into_iter().rev() {
            s.deliver("bob", m)?;
        }
        ping_pong(&mut s, 1, 1)?;
        c.add(
            s,
            "one message of each of Alice's first three chains is held back and arrives after her fourth chain, newest first: all decrypt from kept chains",
            &[Flag::OutOfOrder, Flag::OlmKeptChains],
        )?;
    }
    {
        let mut s = c.start("bob-late-chain")?;
        ping_pong(&mut s, 1, 1)?;
        let b: [usize; 3] = s.says("bob")?;
        s.deliver("alice", b[0])?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        let b2 = s.say("bob")?;
        s.deliver("alice", b2)?;
        s.deliver("alice", b[2])?;
        s.deliver("alice", b[1])?;
        c.add(
            s,
            "late messages of Bob's first chain reach Alice after his second chain: derived from her kept chain",
            &[Flag::OutOfOrder, Flag::OlmKeptChains],
        )?;
    }
    Ok(())
}

pub(super) fn loss(c: &mut Cases) -> R<()> {
    {
        let mut s = c.start("loss-within-chain")?;
        ping_pong(&mut s, 1, 1)?;
        let ms: [usize; 5] = s.says("alice")?;
        for m in [ms[0], ms[2], ms[4]] {
            s.deliver("bob", m)?;
        }
        ping_pong(&mut s, 1, 2)?;
        c.add(
            s,
            "messages 1 and 3 of a chain of five are lost: the others decrypt and the conversation goes on",
            &[Flag::MessageLoss],
        )?;
    }
    {
        let mut s = c.start("loss-of-first")?;
        let _lost = s.say("alice")?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        let _lost_reply = s.say("bob")?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        ping_pong(&mut s, 1, 1)?;
        c.add(
            s,
            "Alice's first pre-key message and Bob's first reply are lost: the next of each starts Bob's session and Alice's receiving chain",
            &[Flag::MessageLoss, Flag::OlmPreKeyMessages],
        )?;
    }
    {
        let mut s = c.start("loss-of-chain")?;
        ping_pong(&mut s, 1, 1)?;
        let _lost: [usize; 3] = s.says("alice")?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        ping_pong(&mut s, 1, 1)?;
        c.add(
            s,
            "the first three messages of Alice's second chain are lost: her next message on that chain starts it at Bob's",
            &[Flag::MessageLoss],
        )?;
    }
    Ok(())
}

pub(super) fn prekey_messages(c: &mut Cases) -> R<()> {
    {
        let mut s = c.start("prekey-after-reply")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        // Alice has not received b0 yet: her next message is still a pre-key message.
        let a1 = s.say("alice")?;
        s.deliver("bob", a1)?;
        s.deliver("alice", b0)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        c.add(
            s,
            "a pre-key message Alice sends after Bob's first reply but before she received it: Bob decrypts it with his session; once Alice has decrypted the reply she sends normal messages",
            &[Flag::OlmPreKeyMessages, Flag::InOrder],
        )?;
    }
    {
        let mut s = c.start("prekey-before-reply")?;
        let a: [usize; 3] = s.says("alice")?;
        s.deliver("bob", a[1])?;
        s.deliver("bob", a[0])?;
        let b0 = s.say("bob")?;
        s.deliver("bob", a[2])?;
        s.deliver("alice", b0)?;
        ping_pong(&mut s, 1, 1)?;
        c.add(
            s,
            "Bob's session starts from Alice's second pre-key message; her first and third arrive as pre-key messages on his session, before and after his first reply",
            &[Flag::OlmPreKeyMessages, Flag::OutOfOrder],
        )?;
    }
    Ok(())
}
