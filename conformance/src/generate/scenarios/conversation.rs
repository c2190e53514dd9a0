//! Conversations without an attacker: in order, out of order, across DH
//! ratchet steps, with chains held back and messages lost.

use super::{Cases, R, ping_pong};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

pub(super) fn in_order(c: &mut Cases) -> R<()> {
    for (rounds, burst) in [
        (1, 1),
        (2, 1),
        (3, 2),
        (1, 5),
        (4, 3),
        (6, 1),
        (2, 7),
        (10, 1),
    ] {
        let mut s = c.start("in-order")?;
        ping_pong(&mut s, rounds, burst)?;
        c.add(
            s,
            &format!("{rounds} round trips of {burst}-message bursts, delivered in order"),
            &[Flag::InOrder],
        )?;
    }
    let mut s = c.start("one-way")?;
    for _ in 0..20 {
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
    }
    c.add(
        s,
        "twenty messages one way on a single chain",
        &[Flag::InOrder],
    )?;
    let mut s = c.start("empty")?;
    let m = s.send("alice", b"")?;
    s.deliver("bob", m)?;
    let m = s.send("bob", b"")?;
    s.deliver("alice", m)?;
    c.add(
        s,
        "empty plaintexts both ways",
        &[Flag::InOrder, Flag::EdgeCase],
    )?;
    let mut s = c.start("large")?;
    let big: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let m = s.send("alice", &big)?;
    s.deliver("bob", m)?;
    c.add(s, "a 4096-byte plaintext", &[Flag::InOrder, Flag::EdgeCase])?;
    let mut s = c.start("bob-first")?;
    s.send_fails("bob", ErrorClass::State)?;
    let m = s.say("alice")?;
    s.deliver("bob", m)?;
    let m = s.say("bob")?;
    s.deliver("alice", m)?;
    c.add(
        s,
        "Bob cannot send before he has received Alice's first message",
        &[Flag::SendBeforeReceive],
    )
}

pub(super) fn out_of_order(c: &mut Cases) -> R<()> {
    let orders: [&[usize]; 8] = [
        &[1, 0],
        &[2, 1, 0],
        &[0, 2, 1],
        &[3, 0, 2, 1],
        &[4, 2, 0, 3, 1],
        &[5, 4, 3, 2, 1, 0],
        &[1, 3, 5, 0, 2, 4],
        &[7, 0, 6, 1, 5, 2, 4, 3],
    ];
    for order in orders {
        let mut s = c.start("ooo")?;
        let first = s.say("alice")?;
        s.deliver("bob", first)?;
        let ids: Vec<usize> = (0..order.len()).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &i in order {
            s.deliver("bob", ids.get(i).copied().unwrap_or(0))?;
        }
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("one chain delivered in order {order:?}"),
            &[Flag::OutOfOrder],
        )?;
    }
    for order in [&[1usize, 0][..], &[2, 0, 1]] {
        let mut s = c.start("ooo-first")?;
        let ids: Vec<usize> = (0..order.len()).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &i in order {
            s.deliver("bob", ids.get(i).copied().unwrap_or(0))?;
        }
        s.continue_both_ways()?;
        c.add(s, &format!("Alice's first chain delivered in order {order:?}, before Bob has any receiving chain"), &[Flag::OutOfOrder])?;
    }
    Ok(())
}

pub(super) fn across_ratchet(c: &mut Cases) -> R<()> {
    for held in 1..=6usize {
        let mut s = c.start("pn")?;
        let a: Vec<usize> = (0..held + 1).map(|_| s.say("alice")).collect::<R<_>>()?;
        s.deliver("bob", *a.last().unwrap_or(&0))?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        for &m in a.iter().take(held) {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(s, &format!("{held} messages of Alice's previous chain arrive after her next chain's first (PN = {})", held + 1), &[Flag::AcrossRatchetSteps])?;
    }
    for held in 1..=4usize {
        let mut s = c.start("pn-new-chain-first")?;
        let a1 = s.say("alice")?;
        s.deliver("bob", a1)?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        let a: Vec<usize> = (0..held).map(|_| s.say("alice")).collect::<R<_>>()?;
        let b2: Vec<usize> = (0..2).map(|_| s.say("bob")).collect::<R<_>>()?;
        // Alice receives Bob's second message first, then her chain's messages reach Bob late.
        s.deliver("alice", b2.get(1).copied().unwrap_or(0))?;
        let a3 = s.say("alice")?;
        s.deliver("bob", a3)?;
        for &m in &a {
            s.deliver("bob", m)?;
        }
        s.deliver("alice", b2.first().copied().unwrap_or(0))?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!(
                "a whole chain of {held} skipped via PN, delivered after the next DH ratchet step"
            ),
            &[Flag::AcrossRatchetSteps, Flag::OutOfOrder],
        )?;
    }
    Ok(())
}

pub(super) fn delayed_chains(c: &mut Cases) -> R<()> {
    for back in 2..=5usize {
        let mut s = c.start("delayed")?;
        let mut held = Vec::new();
        for _ in 0..back {
            held.push(s.say("alice")?);
            let m = s.say("alice")?;
            s.deliver("bob", m)?;
            let r = s.say("bob")?;
            s.deliver("alice", r)?;
        }
        let last = s.say("alice")?;
        s.deliver("bob", last)?;
        for &m in held.iter().rev() {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(s, &format!("messages held back from each of the last {back} chains arrive last, newest chain first"), &[Flag::DelayedChains])?;
    }
    Ok(())
}

pub(super) fn message_loss(c: &mut Cases) -> R<()> {
    for (lost, total) in [(1usize, 3usize), (3, 5), (5, 6), (10, 12)] {
        let mut s = c.start("loss")?;
        let first = s.say("alice")?;
        s.deliver("bob", first)?;
        let ids: Vec<usize> = (0..total).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &m in ids.iter().skip(lost) {
            s.deliver("bob", m)?;
        }
        ping_pong(&mut s, 2, 1)?;
        c.add(
            s,
            &format!(
                "{lost} of {total} messages lost; later ones and the next round trips decrypt"
            ),
            &[Flag::MessageLoss],
        )?;
    }
    let mut s = c.start("loss-whole-chain")?;
    let a = s.say("alice")?;
    s.deliver("bob", a)?;
    let _lost: Vec<usize> = (0..3).map(|_| s.say("bob")).collect::<R<_>>()?;
    let a2 = s.say("alice")?;
    s.deliver("bob", a2)?;
    let b = s.say("bob")?;
    s.deliver("alice", b)?;
    c.add(
        s,
        "Bob's whole first chain is lost; his next message still decrypts",
        &[Flag::MessageLoss],
    )
}
