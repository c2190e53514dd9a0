//! The `sealed` domain: a short conversation on Alice's first chain, then a
//! message sealed with her keys under a header of the sealer's choosing
//! (`generate`'s sealed builder states the expected outcome and checks the
//! reference against it). Only an authentic header shows whether `PN` is
//! bounded before Bob has a receiving chain, ignored on his current chain,
//! and whether `N` is bounded against `Nr` — the scenario model's network
//! attacker breaks the tag with every change it makes.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ratchetproof_protocol::Suite;

use super::session::{Room, below, choose};
use crate::generate::sealed::{self, Sealed};
use crate::vectors::{Limits, ScenarioCase};
use ratchetproof_protocol::consts::{DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS};

/// Which of `sent` messages Bob receives: a random increasing subset whose
/// gaps stay within `max_skip` and whose skipped keys fit the store, else
/// the first ones in order.
fn deliveries(rng: &mut ChaCha20Rng, sent: u32, max_skip: u32, max_stored: u32) -> Vec<u32> {
    let drawn: Vec<u32> = (0..sent).filter(|_| below(rng, 2) == 1).collect();
    let mut next = 0u32;
    let mut skipped = 0u32;
    let fits = drawn.iter().all(|&k| {
        let gap = k - next;
        skipped += gap;
        next = k + 1;
        gap <= max_skip
    }) && skipped <= max_stored;
    if fits {
        drawn
    } else {
        (0..u32::try_from(drawn.len()).unwrap_or(0)).collect()
    }
}

/// The sealed case of `seed` under `suite` within `room`, with its shape's
/// name; `Err` when the reference disagrees with the expected outcome (its
/// failure, never the implementation's).
pub fn sealed_case(
    suite: Suite,
    seed: u64,
    room: &Room,
) -> Result<(&'static str, ScenarioCase), String> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5ea1_ed00_5ea1_ed00);
    // Configurable limits: small ones, and values at and around them. Fixed
    // ones: the suite's, stated nowhere in the case (an implementation may
    // refuse to be told its own), and only values far from any bound, so the
    // outcome does not depend on the exact limit.
    let (limits, max_skip) = if room.configurable {
        let (max_skip, max_stored) = room.limits(&mut rng);
        let limits = Limits {
            max_skip,
            max_stored_skipped_keys: max_stored,
        };
        (Some(limits), max_skip)
    } else {
        (None, DEFAULT_MAX_SKIP)
    };
    let max_stored = limits.map_or(DEFAULT_MAX_STORED_SKIPPED_KEYS, |l| {
        l.max_stored_skipped_keys
    });
    let sent = below(&mut rng, 5);
    let delivered = deliveries(&mut rng, sent, max_skip, max_stored);
    let nr = delivered.last().map_or(0, |k| k + 1);
    let mut ns = vec![0, 1, nr, nr.saturating_add(1)];
    let far_n = nr.saturating_add(DEFAULT_MAX_SKIP).saturating_add(100);
    if room.configurable {
        ns.extend([
            nr.saturating_add(max_skip),
            nr.saturating_add(max_skip).saturating_add(1),
            below(&mut rng, nr.saturating_add(max_skip).saturating_add(3)),
        ]);
    } else {
        ns.push(far_n);
    }
    ns.extend(delivered.iter().copied());
    ns.extend((0..nr).filter(|k| !delivered.contains(k)));
    let n = choose(&mut rng, &ns, 0);
    let far = (1 << 20) + below(&mut rng, 1 << 30);
    let pns: Vec<u32> = if room.configurable {
        vec![0, 1, max_skip, max_skip.saturating_add(1), 1_000_000, far]
    } else {
        vec![0, 1, 1_000_000, far]
    };
    let pn = choose(&mut rng, &pns, 0);
    let sealed = Sealed {
        limits,
        sent,
        delivered,
        pn,
        n,
    };
    let shape = if sealed.delivered.is_empty() {
        "no-receiving-chain"
    } else {
        "current-chain"
    };
    let label = format!("explore/sealed/{seed:016x}");
    sealed::case(suite, &label, &sealed, max_skip)
        .map(|mut case| {
            case.info.tc_id = 1;
            (shape, case)
        })
        .map_err(|e| format!("sealed case of seed {seed}: {e}"))
}
