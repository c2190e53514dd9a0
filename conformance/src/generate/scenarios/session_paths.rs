//! Cases the session-level known-bug mutants of issue 13 found missing.
//!
//! Each family here exists because a mutant of `crate::mutants` survived
//! the earlier cases: the skipped-key store across several receiving chains
//! (cap and oldest-first eviction are per session, SPEC.md §8.2), the PN
//! bound measured from what was received (§5.4 step 5.1), forged headers
//! that must not leave keys behind (§5.5), a replay on an older chain that
//! still has stored keys, a new chain whose first delivered message is not
//! its first, and `n = 2^32 − 1` (§5.6, fixed-layout suites only). Every case ends with the
//! conversation going on both ways, so whatever the unusual path changed
//! shows.

use ratchetproof_protocol::suite::WireEncoding;
use ratchetproof_protocol::{Header, KeyPair, MessageKey, PrivateKey};

use super::{Cases, R, Scenario};
use crate::generate::derived_key;
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;
use crate::vectors::Limits;

/// Small limits make eviction cheap to reach.
const SMALL: Limits = Limits {
    max_skip: 10,
    max_stored_skipped_keys: 12,
};

/// Appends the families, after every earlier case.
pub(super) fn cases(c: &mut Cases) -> R<()> {
    eviction_across_chains(c)?;
    pn_bound_after_long_chain(c)?;
    forged_headers_plant_nothing(c)?;
    replay_on_chain_with_stored_keys(c)?;
    new_chain_first_delivered_late(c)?;
    // SPEC.md §5.6's rule, for this project's fixed-layout suites;
    // docs/SIGNAL-V3.md states none for libsignal's uint32 counter, and
    // libsignal-derived peers refuse it by their forward-jump limit instead,
    // so it is not asserted for that encoding.
    if c.suite.wire_encoding() == WireEncoding::Fixed {
        counter_max(c)?;
    }
    Ok(())
}

/// `party` sends `count` messages; returns their indexes.
fn burst(s: &mut Scenario, party: &str, count: usize) -> R<Vec<usize>> {
    (0..count).map(|_| s.say(party)).collect()
}

fn at(ids: &[usize], i: usize) -> usize {
    ids.get(i).copied().unwrap_or(0)
}

/// Stored keys from three of Alice's chains share one cap: the oldest keys
/// across chains go first, the rest of every chain still decrypts.
fn eviction_across_chains(c: &mut Cases) -> R<()> {
    // (stored per chain, whether the cap is exceeded) — 3 × 5 = 15 > 12
    // evicts the first chain's three oldest; 3 × 4 = 12 evicts nothing.
    for per_chain in [5usize, 4] {
        let mut s = c.start_limited("evict-chains", SMALL)?;
        let mut chains = Vec::new();
        for round in 0..3 {
            let ids = burst(&mut s, "alice", per_chain + 1)?;
            s.deliver("bob", at(&ids, per_chain))?;
            chains.push(ids);
            if round < 2 {
                let r = s.say("bob")?;
                s.deliver("alice", r)?;
            }
        }
        let evicted = (3 * per_chain).saturating_sub(12);
        let first = chains.first().cloned().unwrap_or_default();
        for &m in first.iter().take(evicted) {
            s.refuse("bob", m, ErrorClass::Duplicate)?;
        }
        // The kept keys, interleaved across chains, newest chain first.
        for i in 0..per_chain {
            for (k, chain) in chains.iter().enumerate().rev() {
                if k == 0 && i < evicted {
                    continue;
                }
                s.deliver("bob", at(chain, i))?;
            }
        }
        s.continue_both_ways()?;
        let comment = if evicted > 0 {
            format!(
                "{per_chain} keys stored from each of three chains with a cap of 12: the {evicted} oldest (all of the first chain) are evicted, every other late message of every chain decrypts"
            )
        } else {
            format!(
                "{per_chain} keys stored from each of three chains fill the cap of 12 exactly: nothing is evicted"
            )
        };
        c.add(
            s,
            &comment,
            &[Flag::SkipLimitExact, Flag::Eviction, Flag::DelayedChains],
        )?;
    }
    // Keys stored through PN (the tail of each previous chain) and through
    // n (the head of the new one), on both sides, past the cap.
    let mut s = c.start_limited("evict-chains-pn", SMALL)?;
    let a1 = burst(&mut s, "alice", 5)?;
    s.deliver("bob", at(&a1, 0))?;
    let b1 = burst(&mut s, "bob", 3)?;
    s.deliver("alice", at(&b1, 2))?;
    let a2 = burst(&mut s, "alice", 5)?;
    s.deliver("bob", at(&a2, 2))?;
    let b2 = burst(&mut s, "bob", 3)?;
    s.deliver("alice", at(&b2, 2))?;
    let a3 = burst(&mut s, "alice", 5)?;
    s.deliver("bob", at(&a3, 4))?;
    // Bob stored a1[1..5] (4), a2[0..2] (2), a2[3..5] (2), a3[0..4] (4):
    // 12 with a cap of 12, then nothing is over; one more chain evicts.
    let b3 = s.say("bob")?;
    s.deliver("alice", b3)?;
    let a4 = burst(&mut s, "alice", 3)?;
    s.deliver("bob", at(&a4, 2))?;
    // Two more keys (a4[0], a4[1]): a1[1] and a1[2] are evicted.
    s.refuse("bob", at(&a1, 1), ErrorClass::Duplicate)?;
    s.refuse("bob", at(&a1, 2), ErrorClass::Duplicate)?;
    for m in [
        at(&a4, 0),
        at(&a1, 3),
        at(&a3, 0),
        at(&a2, 0),
        at(&a1, 4),
        at(&a2, 4),
        at(&a3, 3),
        at(&a2, 1),
        at(&a4, 1),
        at(&a2, 3),
        at(&a3, 1),
        at(&a3, 2),
    ] {
        s.deliver("bob", m)?;
    }
    // Alice's own store: Bob's chains' heads, then late.
    for m in [at(&b2, 0), at(&b1, 0), at(&b2, 1), at(&b1, 1)] {
        s.deliver("alice", m)?;
    }
    s.continue_both_ways()?;
    c.add(
        s,
        "keys stored through PN and through n across four of Alice's chains pass the cap: the two oldest are evicted, all other late messages of every chain decrypt, on both sides",
        &[
            Flag::SkipLimitExact,
            Flag::Eviction,
            Flag::AcrossRatchetSteps,
            Flag::DelayedChains,
        ],
    )
}

/// The PN bound counts from what was received of the previous chain: a
/// chain longer than MAX_SKIP, all delivered, is followed by a new one.
fn pn_bound_after_long_chain(c: &mut Cases) -> R<()> {
    for (sent, received_last_only) in [(14usize, false), (15, true)] {
        let mut s = c.start_limited("pn-after-long-chain", SMALL)?;
        let ids = burst(&mut s, "alice", sent)?;
        if received_last_only {
            // 1 in order, then a skip of 9 (within MAX_SKIP = 10), then the rest.
            s.deliver("bob", at(&ids, 0))?;
            s.deliver("bob", at(&ids, 10))?;
            for &m in ids.iter().skip(11) {
                s.deliver("bob", m)?;
            }
        } else {
            for &m in &ids {
                s.deliver("bob", m)?;
            }
        }
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        let a = s.say("alice")?;
        s.deliver("bob", a)?;
        if received_last_only {
            for &m in ids.iter().take(10).skip(1) {
                s.deliver("bob", m)?;
            }
        }
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("a chain of {sent} messages (more than MAX_SKIP = 10) reaches Bob; Alice's next chain says PN = {sent} and is accepted: the PN bound counts from Bob's Nr, not from 0"),
            &[Flag::SkipLimitExact, Flag::AcrossRatchetSteps],
        )?;
    }
    Ok(())
}

/// A header with a ratchet key nobody holds, sealed under a key nobody
/// derives: it can never authenticate.
fn forged(s: &Scenario, label: &str, pn: u32, n: u32) -> R<Vec<u8>> {
    let key = KeyPair::from_private(PrivateKey::from_bytes(derived_key(&format!(
        "{}/forged/{label}",
        s.label
    ))));
    let header = Header {
        dh: *key.public_key(),
        pn,
        n,
    };
    let mk = MessageKey::from_bytes(derived_key(&format!("{}/forged-mk/{label}", s.label)));
    s.suite
        .seal(&mk, &header, b"forged", &s.ad())
        .map_err(|e| s.fail(e.to_string()))
}

/// Forged messages with fresh ratchet keys each claim a skip of MAX_SKIP on
/// their new chain; refused, they leave no key behind, so they cannot
/// evict Bob's genuine stored keys.
fn forged_headers_plant_nothing(c: &mut Cases) -> R<()> {
    let mut s = c.start_limited("forged-plant", SMALL)?;
    let ids = burst(&mut s, "alice", 6)?;
    s.deliver("bob", at(&ids, 0))?;
    s.deliver("bob", at(&ids, 5))?;
    // Bob: Nr = 6 on Alice's chain, keys for 1..5 stored.
    for k in 0..3 {
        let bad = forged(&s, &k.to_string(), 6, 10)?;
        s.refuse_bytes("bob", bad, None, ErrorClass::Authentication)?;
    }
    for &m in ids.iter().take(5).skip(1) {
        s.deliver("bob", m)?;
    }
    s.continue_both_ways()?;
    c.add(
        s,
        "three forged messages with fresh ratchet keys, each claiming 10 skipped messages on its chain, are refused and store nothing: Bob's four genuine stored keys survive a cap of 12",
        &[Flag::SkipLimitExact, Flag::Eviction, Flag::Atomicity],
    )
}

/// A replay on an older chain that still has stored keys is refused, and
/// leaves those keys: the chain's late messages then decrypt.
fn replay_on_chain_with_stored_keys(c: &mut Cases) -> R<()> {
    for old_chain in [false, true] {
        let mut s = c.start("replay-stored")?;
        let ids = burst(&mut s, "alice", 4)?;
        s.deliver("bob", at(&ids, 0))?;
        s.deliver("bob", at(&ids, 3))?;
        if old_chain {
            let r = s.say("bob")?;
            s.deliver("alice", r)?;
            let a = s.say("alice")?;
            s.deliver("bob", a)?;
        }
        s.refuse("bob", at(&ids, 3), ErrorClass::Duplicate)?;
        s.refuse("bob", at(&ids, 0), ErrorClass::Duplicate)?;
        s.deliver("bob", at(&ids, 2))?;
        s.deliver("bob", at(&ids, 1))?;
        s.continue_both_ways()?;
        let whose = if old_chain {
            "an earlier chain"
        } else {
            "the current chain"
        };
        c.add(
            s,
            &format!("replays on {whose} that still has stored keys are refused and leave them: the chain's late messages then decrypt"),
            &[Flag::Replay, Flag::OutOfOrder, Flag::Atomicity],
        )?;
    }
    Ok(())
}

/// A new chain's first delivered message is its third (Nr restarts at 0 on
/// the DH ratchet step whatever the old chain's Nr was).
fn new_chain_first_delivered_late(c: &mut Cases) -> R<()> {
    for (old, first) in [(1usize, 2usize), (4, 1), (2, 4)] {
        let mut s = c.start("new-chain-late-first")?;
        let a = burst(&mut s, "alice", old)?;
        for &m in &a {
            s.deliver("bob", m)?;
        }
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
        let b = burst(&mut s, "alice", first + 1)?;
        s.deliver("bob", at(&b, first))?;
        for &m in b.iter().take(first) {
            s.deliver("bob", m)?;
        }
        s.continue_both_ways()?;
        c.add(
            s,
            &format!("after {old} messages on Alice's first chain, her next chain's message {first} arrives first, then the earlier ones"),
            &[Flag::AcrossRatchetSteps, Flag::OutOfOrder],
        )?;
    }
    Ok(())
}

/// `n = 2^32 − 1` is never sent, so a received one is malformed (SPEC.md
/// §5.6), checked before the skip bound and the tag (§5.4 step 4).
fn counter_max(c: &mut Cases) -> R<()> {
    for has_chain in [false, true] {
        let mut s = c.start("counter-max")?;
        if has_chain {
            let a = s.say("alice")?;
            s.deliver("bob", a)?;
            let r = s.say("bob")?;
            s.deliver("alice", r)?;
            let a1 = s.say("alice")?;
            s.deliver("bob", a1)?;
        }
        // Alice's current ratchet key, or her first one, in the header.
        let probe = s.say("alice")?;
        let dh = s
            .suite
            .parse_header(&s.wire(probe)?)
            .map_err(|e| s.fail(e.to_string()))?
            .dh;
        let header = Header {
            dh,
            pn: 0,
            n: u32::MAX,
        };
        let mk = MessageKey::from_bytes(derived_key(&format!("{}/counter-max-mk", s.label)));
        let bad = s
            .suite
            .seal(&mk, &header, b"never sent", &s.ad())
            .map_err(|e| s.fail(e.to_string()))?;
        s.refuse_bytes("bob", bad, None, ErrorClass::Malformed)?;
        s.deliver("bob", probe)?;
        s.continue_both_ways()?;
        let when = if has_chain {
            "on Alice's current chain"
        } else {
            "before Bob has a receiving chain"
        };
        c.add(
            s,
            &format!(
                "a message numbered 2^32 - 1 {when} is malformed (never sent); the session goes on"
            ),
            &[Flag::Malformed, Flag::EdgeCase, Flag::Atomicity],
        )?;
    }
    Ok(())
}
