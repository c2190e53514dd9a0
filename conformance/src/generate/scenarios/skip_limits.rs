//! MAX_SKIP and the cap on stored skipped keys: bounds every
//! implementation holds, exact boundaries for stated limits, eviction.

use super::{Cases, R};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;
use crate::vectors::Limits;

pub(super) fn skip_limits(c: &mut Cases) -> R<()> {
    for jump in [10u32, 100, 1000] {
        let mut s = c.start("jump")?;
        let m = s.craft_alice_first_chain(jump, b"far ahead")?;
        s.deliver_raw("bob", None, m, None, Ok(b"far ahead".to_vec()))?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("a jump of {jump} within one chain is accepted by every implementation"),
            &[Flag::SkipLimitUniversal],
        )?;
    }
    {
        let jump = 1_000_000u32;
        let mut s = c.start("jump-huge")?;
        let m = s.craft_alice_first_chain(jump, b"too far")?;
        s.refuse_bytes("bob", m, None, ErrorClass::TooManySkipped)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("a genuine message {jump} ahead is refused by every implementation"),
            &[Flag::SkipLimitUniversal, Flag::Atomicity],
        )?;
    }
    let default = Limits {
        max_skip: 2000,
        max_stored_skipped_keys: 4000,
    };
    let small = Limits {
        max_skip: 10,
        max_stored_skipped_keys: 20,
    };
    for limits in [default, small] {
        let max = limits.max_skip;
        let mut s = c.start_limited("exact", limits)?;
        let m = s.craft_alice_first_chain(max, b"at the limit")?;
        s.deliver_raw("bob", None, m, None, Ok(b"at the limit".to_vec()))?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!(
                "n = MAX_SKIP = {max} on the first chain skips exactly MAX_SKIP keys: accepted"
            ),
            &[Flag::SkipLimitExact],
        )?;
        let mut s = c.start_limited("exact-over", limits)?;
        let m = s.craft_alice_first_chain(max + 1, b"over the limit")?;
        s.refuse_bytes("bob", m, None, ErrorClass::TooManySkipped)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("n = MAX_SKIP + 1 = {} is refused", max + 1),
            &[Flag::SkipLimitExact, Flag::Atomicity],
        )?;
    }
    // Small limits: PN bound and eviction, where sending is cheap.
    {
        let mut s = c.start_limited("pn-bound", small)?;
        // Bob receives message 0 of Alice's first chain (his Nr = 1 there);
        // the next 12 messages of that chain are lost.
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        let _lost: Vec<usize> = (0..12).map(|_| s.say("alice")).collect::<R<_>>()?;
        // Bob replies; Alice's DH ratchet starts her second chain, whose
        // header says PN = 13 > Nr + MAX_SKIP = 11 on the chain Bob holds.
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        let a2 = s.say("alice")?;
        s.refuse("bob", a2, ErrorClass::TooManySkipped)?;
        // Atomicity: the refused header left Bob's state as it was.
        let a3 = s.say("alice")?;
        s.refuse("bob", a3, ErrorClass::TooManySkipped)?;
        c.add(s, "a new chain whose PN would skip more than MAX_SKIP keys of the previous chain is refused", &[Flag::SkipLimitExact, Flag::Atomicity])?;
    }
    {
        let mut s = c.start_limited("pn-bound-no-chain", small)?;
        let m = s.craft_alice_first_chain(11, b"x")?;
        s.refuse_bytes("bob", m, None, ErrorClass::TooManySkipped)?;
        c.add(
            s,
            "before any receiving chain exists, n = MAX_SKIP + 1 is still refused",
            &[Flag::SkipLimitExact],
        )?;
    }
    {
        let mut s = c.start_limited("eviction", small)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        let mut skipped = Vec::new();
        for _ in 0..3 {
            let ids: Vec<usize> = (0..9).map(|_| s.say("alice")).collect::<R<_>>()?;
            s.deliver("bob", *ids.last().unwrap_or(&0))?;
            skipped.extend(ids.iter().take(8).copied());
        }
        // 24 keys were skipped with a cap of 20: the oldest four are gone.
        for &m in skipped.iter().take(4) {
            s.refuse("bob", m, ErrorClass::Duplicate)?;
        }
        for &m in skipped.iter().skip(4) {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(
            s,
            "past the cap on stored skipped keys the oldest are evicted first",
            &[Flag::SkipLimitExact, Flag::Eviction],
        )?;
    }
    Ok(())
}
