//! Cases the known-bug table (`ratchetproof mutants`, docs/MUTANTS.md) found
//! missing: each catches a mutant no earlier case did. Added at the end so
//! earlier tcIds stay stable.

use super::{Cases, R};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;
use crate::vectors::Limits;

pub(super) fn known_bug_gaps(c: &mut Cases) -> R<()> {
    // skipped-key-deleted-before-verify: a forgery under a stored skipped
    // key's (ratchet key, n) must leave that key in place.
    for tamper_ad in [false, true] {
        let mut s = c.start("forged-skipped")?;
        let a0 = s.say("alice")?;
        let a1 = s.say("alice")?;
        s.deliver("bob", a1)?;
        if tamper_ad {
            let mut ad = s.ad();
            if let Some(b) = ad.get_mut(10) {
                *b ^= 0x01;
            }
            s.deliver_raw(
                "bob",
                Some(a0),
                s.wire(a0)?,
                Some(ad),
                Err(ErrorClass::Authentication),
            )?;
            s.class_fixed()?;
        } else {
            let mut forged = s.wire(a0)?;
            if let Some(b) = forged.last_mut() {
                *b ^= 0x01;
            }
            s.refuse_bytes("bob", forged, None, ErrorClass::Authentication)?;
            s.class_fixed()?;
        }
        s.deliver("bob", a0)?;
        s.refuse("bob", a0, ErrorClass::Duplicate)?;
        let (what, flag) = if tamper_ad {
            ("under altered associated data", Flag::TamperAssociatedData)
        } else {
            ("with an altered tag", Flag::TamperTag)
        };
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("a copy of a message whose key is stored as skipped, {what}, is refused and leaves the key: the genuine message then decrypts once"),
            &[Flag::OutOfOrder, Flag::Atomicity, flag, Flag::Replay],
        )?;
    }
    // previous-chain-keys-not-stored: the keys of Alice's previous chain
    // past the last message Bob received from it come only from PN.
    for late in [1usize, 3] {
        let mut s = c.start("pn-skip")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let held: Vec<usize> = (0..late).map(|_| s.say("alice")).collect::<R<_>>()?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        for &m in held.iter().rev() {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("the last {late} messages of Alice's previous chain, after the last one Bob received from it, arrive after her next chain's first: their keys come from its PN"),
            &[Flag::AcrossRatchetSteps, Flag::OutOfOrder],
        )?;
    }
    // pn-unbounded-without-receiving-chain: a correctly sealed first-chain
    // message whose header claims a PN past the bound, before Bob has any
    // receiving chain (the bound holds even then, SPEC.md §5.4 step 5.1).
    let small = Limits {
        max_skip: 10,
        max_stored_skipped_keys: 20,
    };
    let pn_cases: [(Option<Limits>, u32, bool); 3] = [
        (None, 1_000_000, false),
        (Some(small), 11, false),
        (Some(small), 10, true),
    ];
    for (limits, pn, accepted) in pn_cases {
        let mut s = match limits {
            Some(l) => c.start_limited("pn-bound-no-chain-sealed", l)?,
            None => c.start("pn-bound-no-chain-sealed")?,
        };
        let m = s.craft_alice_first_chain_pn(pn, 0, b"claims a long previous chain")?;
        if accepted {
            s.deliver_raw(
                "bob",
                None,
                m,
                None,
                Ok(b"claims a long previous chain".to_vec()),
            )?;
        } else {
            s.refuse_bytes("bob", m, None, ErrorClass::TooManySkipped)?;
            let a0 = s.say("alice")?;
            s.deliver("bob", a0)?;
        }
        let (flag, verdict) = match (limits, accepted) {
            (None, _) => (Flag::SkipLimitUniversal, "is refused"),
            (Some(_), false) => (Flag::SkipLimitExact, "is refused"),
            (Some(_), true) => (Flag::SkipLimitExact, "is accepted"),
        };
        // The accepted message stands in for Alice's own message 0.
        if !accepted {
            s.continue_both_ways()?;
        }
        c.add(
            s,
            &format!("before Bob has a receiving chain, a correctly sealed message whose header claims PN = {pn} {verdict} (the PN bound holds without a receiving chain)"),
            &[flag, Flag::Atomicity],
        )?;
    }
    Ok(())
}
