//! Olm's limits exactly at their bounds, where libolm and vodozemac agree
//! (docs/OLM-V1.md §5.5, §7): the gap of 2000, the 40 stored keys of one
//! chain, the five kept receiver chains.

use super::builder::{Cases, Delivery, Olm, R, ok, refused_or_mac};
use crate::generate::flags::Flag;
use crate::implementation::MessageType;
use crate::vectors::ErrorClass;

const GAP: u32 = ratchetproof_protocol::olm::MAX_MESSAGE_GAP;
const STORED: u32 = ratchetproof_protocol::olm::MAX_SKIPPED_KEYS as u32;

/// Bob replies and Alice answers on a new chain: the conversation goes on
/// (Alice's first chain may be spent by a crafted message far ahead).
fn continue_from_bob(s: &mut Olm) -> R<()> {
    let b = s.say("bob")?;
    s.deliver("alice", b)?;
    let a = s.say("alice")?;
    s.deliver("bob", a)
}

fn crafted(s: &mut Olm, party: &str, index: u32, accepted: bool) -> R<()> {
    let text = format!("alice's message {index} of her first chain");
    let wire = s.craft_alice_first_chain(index, text.as_bytes())?;
    let expected = if accepted {
        ok(text.into_bytes())
    } else {
        refused_or_mac(ErrorClass::TooManySkipped)
    };
    s.deliver_as(party, Delivery::Bytes(wire, MessageType::Prekey), expected)
}

pub(super) fn limits(c: &mut Cases) -> R<()> {
    {
        let mut s = c.start_limited("gap-2000")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        crafted(&mut s, "bob", GAP + 1, true)?;
        continue_from_bob(&mut s)?;
        c.add(
            s,
            "after index 0, a message at index 2001 (a gap of exactly 2000 past the next index) is accepted",
            &[Flag::OlmGap],
        )?;
    }
    {
        let mut s = c.start_limited("gap-2001")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        crafted(&mut s, "bob", GAP + 2, false)?;
        let a1 = s.say("alice")?;
        s.deliver("bob", a1)?;
        continue_from_bob(&mut s)?;
        c.add(
            s,
            "after index 0, a genuine message at index 2002 (a gap of 2001) is refused; the next genuine message still decrypts",
            &[Flag::OlmGap, Flag::Atomicity],
        )?;
    }
    {
        let mut s = c.start_limited("gap-first")?;
        crafted(&mut s, "bob", GAP + 1, false)?;
        crafted(&mut s, "bob", GAP, true)?;
        continue_from_bob(&mut s)?;
        c.add(
            s,
            "Bob's first message at index 2001 (gap 2001 from a new chain) is refused and leaves him without a session; one at index 2000 (gap 2000) starts his session",
            &[Flag::OlmGap, Flag::Atomicity, Flag::OlmPreKeyMessages],
        )?;
    }
    {
        let mut s = c.start_limited("stored-40")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        crafted(&mut s, "bob", GAP + 1, true)?;
        // Indices 1..=2000 were skipped; the 40 most recent keys are stored.
        let oldest_kept = GAP + 1 - STORED;
        let text = format!("alice's message {} of her first chain", oldest_kept - 1);
        let evicted = s.craft_alice_first_chain(oldest_kept - 1, text.as_bytes())?;
        s.deliver_as(
            "bob",
            Delivery::Bytes(evicted, MessageType::Prekey),
            refused_or_mac(ErrorClass::Duplicate),
        )?;
        crafted(&mut s, "bob", oldest_kept, true)?;
        crafted(&mut s, "bob", GAP, true)?;
        continue_from_bob(&mut s)?;
        c.add(
            s,
            "after a gap of 2000 on one chain, the key of index 1960 (the 41st newest skipped) is gone and indices 1961 and 2000 (the oldest and newest of the 40 stored) decrypt",
            &[Flag::OlmStoredKeys],
        )?;
    }
    {
        let mut s = c.start_limited("kept-chains")?;
        let mut held = Vec::new();
        for _ in 0..6 {
            let first = s.say("alice")?;
            held.push(s.say("alice")?);
            s.deliver("bob", first)?;
            let b = s.say("bob")?;
            s.deliver("alice", b)?;
        }
        let (oldest, kept) = held.split_at(1);
        for &m in oldest {
            s.refuse("bob", m, refused_or_mac(ErrorClass::Authentication))?;
        }
        for &m in kept {
            s.deliver("bob", m)?;
        }
        continue_from_bob(&mut s)?;
        c.add(
            s,
            "Bob has received six of Alice's chains: a late message on the oldest is refused, late messages on the five newest decrypt",
            &[Flag::OlmChainLimit, Flag::OlmKeptChains, Flag::Atomicity],
        )?;
    }
    Ok(())
}
