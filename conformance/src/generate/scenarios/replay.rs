//! Messages delivered again after they decrypted: refused, whether the
//! chain moved on, the key came from the skipped-key store or the ratchet
//! stepped since.

use super::{Cases, R, ping_pong};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

pub(super) fn replay(c: &mut Cases) -> R<()> {
    let mut s = c.start("replay-immediate")?;
    let a = s.say("alice")?;
    s.deliver("bob", a)?;
    s.refuse("bob", a, ErrorClass::Duplicate)?;
    let b = s.say("alice")?;
    s.deliver("bob", b)?;
    s.continue_both_ways()?;
    c.add(
        s,
        "Alice's first message delivered twice",
        &[Flag::Replay, Flag::Atomicity],
    )?;
    for n in [2usize, 5] {
        let mut s = c.start("replay-chain")?;
        let ids: Vec<usize> = (0..n).map(|_| s.say("alice")).collect::<R<_>>()?;
        for &m in &ids {
            s.deliver("bob", m)?;
        }
        for &m in &ids {
            s.refuse("bob", m, ErrorClass::Duplicate)?;
        }
        let m = s.say("alice")?;
        s.deliver("bob", m)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("each of {n} messages replayed after the chain moved on"),
            &[Flag::Replay, Flag::Atomicity],
        )?;
    }
    let mut s = c.start("replay-skipped")?;
    let ids: Vec<usize> = (0..3).map(|_| s.say("alice")).collect::<R<_>>()?;
    s.deliver("bob", ids.get(2).copied().unwrap_or(0))?;
    s.deliver("bob", ids.first().copied().unwrap_or(0))?;
    s.refuse(
        "bob",
        ids.first().copied().unwrap_or(0),
        ErrorClass::Duplicate,
    )?;
    s.deliver("bob", ids.get(1).copied().unwrap_or(0))?;
    s.refuse(
        "bob",
        ids.get(1).copied().unwrap_or(0),
        ErrorClass::Duplicate,
    )?;
    s.continue_both_ways()?;
    c.add(
        s,
        "a message decrypted from the skipped-key store cannot be replayed",
        &[Flag::Replay, Flag::OutOfOrder],
    )?;
    for rounds in [1usize, 2, 4] {
        let mut s = c.start("replay-old-chain")?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        ping_pong(&mut s, rounds, 1)?;
        s.refuse("bob", a, ErrorClass::Duplicate)?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        s.refuse("alice", b, ErrorClass::Duplicate)?;
        ping_pong(&mut s, 1, 1)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("messages replayed {rounds} DH ratchet steps later"),
            &[Flag::Replay, Flag::Atomicity],
        )?;
    }
    Ok(())
}
