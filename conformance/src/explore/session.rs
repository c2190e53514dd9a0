//! The session domain: random adversarial conversations drawn from the
//! scenario model ([`crate::model`]), each played on the reference to get
//! the expected outcomes and written as one `session_scenarios` case.
//!
//! A case is drawn from its own seed: the limits (within what the
//! implementation declares), the randomness of the ratchet keys, a *shape*
//! (the relative weights of the kinds of action, so that some cases are long
//! honest conversations with many DH ratchet steps and others are short
//! bursts of tampering), and the actions. Everything the model can express
//! takes part: sends both ways, reordered, held-back, lost and replayed
//! deliveries, tampering with every field (the fixed-width counter also set
//! to 2^32 - 1), captures with eavesdropping, and state restores.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use ratchetproof_protocol::Suite;
use ratchetproof_protocol::consts::{DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS};

use crate::implementation::{Capabilities, Operation};
use crate::model::{Action, ModelConfig, Party, Randomness, Tamper};

/// Relative weights of the kinds of action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    send: u32,
    deliver: u32,
    replay: u32,
    drop: u32,
    tamper: u32,
    capture: u32,
    eavesdrop: u32,
    restore: u32,
}

const HONEST: Weights = Weights {
    send: 5,
    deliver: 7,
    replay: 1,
    drop: 1,
    tamper: 0,
    capture: 0,
    eavesdrop: 0,
    restore: 0,
};

/// The shapes a case is drawn in, by name (the name appears in the case's
/// comment and the coverage summary).
pub const SHAPES: [(&str, Weights); 7] = [
    ("honest", HONEST),
    (
        "active",
        Weights {
            tamper: 3,
            ..HONEST
        },
    ),
    (
        "compromise",
        Weights {
            capture: 1,
            eavesdrop: 4,
            ..HONEST
        },
    ),
    (
        "restore",
        Weights {
            restore: 1,
            ..HONEST
        },
    ),
    (
        "everything",
        Weights {
            tamper: 2,
            capture: 1,
            eavesdrop: 3,
            restore: 1,
            ..HONEST
        },
    ),
    // Many sends before deliveries: long gaps, deep stores, eviction.
    (
        "bursts",
        Weights {
            send: 9,
            deliver: 4,
            drop: 2,
            tamper: 1,
            ..HONEST
        },
    ),
    // Mostly prompt deliveries: many DH ratchet steps.
    (
        "ping-pong",
        Weights {
            send: 4,
            deliver: 6,
            replay: 0,
            drop: 0,
            tamper: 1,
            ..HONEST
        },
    ),
];

/// The shapes of `olm-v1` conversations: the Signal shapes (their tampering
/// reads as Olm's fields) and one that reaches Olm's bounds — messages lost
/// by the dozen or the thousand, so stores pass 40 keys and gaps reach
/// 2000 within a few actions.
pub const OLM_LIMITS_SHAPE: &str = "olm-limits";

/// The `olm-v1` shape of round trips while Alice's first message is held
/// back: it arrives after 4 to 8 of her chains, so after its chain may
/// have left the five kept (then it is refused; before, it decrypts).
pub const OLM_DEEP_SHAPE: &str = "olm-deep";

/// How many messages an `olm-v1` loss sends: around the store's 40 and the
/// gap's 2000, on both sides of each.
const OLM_LOSSES: [u16; 8] = [1, 5, 39, 40, 41, 1_999, 2_000, 2_001];

/// The `olm-v1` conversation drawn from `seed`, with at most `max_actions`
/// actions. Olm's limits are constants, so `room` contributes only whether
/// sessions can be copied.
pub fn draw_olm(seed: u64, room: &Room, max_actions: usize) -> SessionCase {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let shapes: Vec<_> = SHAPES
        .iter()
        .filter(|(_, w)| room.clone || (w.capture == 0 && w.restore == 0))
        .collect();
    let n = u32::try_from(shapes.len()).unwrap_or(1) + 2;
    let turn = below(&mut rng, n) as usize;
    let limits = turn == shapes.len();
    let deep = turn == shapes.len() + 1;
    let (shape, weights) = if deep {
        (
            OLM_DEEP_SHAPE,
            Weights {
                tamper: 1,
                capture: u32::from(room.clone),
                eavesdrop: 2 * u32::from(room.clone),
                ..HONEST
            },
        )
    } else if limits {
        (
            OLM_LIMITS_SHAPE,
            Weights {
                send: 5,
                deliver: 8,
                drop: 1,
                capture: u32::from(room.clone),
                eavesdrop: 2 * u32::from(room.clone),
                ..HONEST
            },
        )
    } else {
        shapes.get(turn).map_or(SHAPES[0], |s| **s)
    };
    let randomness = if below(&mut rng, 8) == 0 {
        Randomness::Counter
    } else {
        Randomness::Fresh
    };
    let config = ModelConfig::olm(rng.next_u64()).with_randomness(randomness);
    let cap = u32::try_from(max_actions).unwrap_or(u32::MAX);
    let len = below(&mut rng, cap) as usize + 1;
    let mut actions = Vec::new();
    if deep {
        let rounds = 4 + below(&mut rng, 5);
        actions.push(Action::Send { from: Party::Alice });
        for _ in 0..rounds {
            for from in [Party::Alice, Party::Bob] {
                actions.push(Action::Send { from });
                actions.push(Action::Deliver { pick: 1 });
            }
        }
        actions.push(Action::Deliver { pick: 0 });
    }
    let len = len.saturating_sub(actions.len()).max(1);
    actions.extend((0..len).map(|_| {
        if limits && below(&mut rng, 8) == 0 {
            Action::Lose {
                from: party(&mut rng),
                count: choose(&mut rng, &OLM_LOSSES, 41),
            }
        } else {
            action(&mut rng, weights)
        }
    }));
    SessionCase {
        config,
        shape,
        actions,
    }
}

/// One drawn case of the session domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionCase {
    /// Suite, key seed, randomness and limits.
    pub config: ModelConfig,
    /// The shape it was drawn in.
    pub shape: &'static str,
    /// The actions.
    pub actions: Vec<Action>,
}

/// What the implementation lets a case vary: the limits, and whether
/// sessions can be copied (captures, restores).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// `MAX_SKIP` values to draw from.
    pub max_skip: Vec<u32>,
    /// Stored-key caps to draw from.
    pub max_stored: Vec<u32>,
    /// `clone_session` is offered.
    pub clone: bool,
    /// The limits can be configured per session (else they are fixed and
    /// cases must not depend on their exact values beyond what is declared).
    pub configurable: bool,
}

impl Room {
    /// What `caps` allows: any small limits when they are configurable (so
    /// gaps reach them and stores overflow in a few actions), else exactly
    /// the declared ones (the defaults where nothing is declared).
    pub fn of(caps: &Capabilities) -> Room {
        let (max_skip, max_stored) = if caps.configurable_limits {
            (
                vec![1, 2, 3, 4, 5, 8, 16],
                vec![1, 2, 3, 4, 6, 9, 12, 20, 4_000],
            )
        } else {
            (
                vec![caps.max_skip.unwrap_or(DEFAULT_MAX_SKIP)],
                vec![
                    caps.max_stored_skipped_keys
                        .unwrap_or(DEFAULT_MAX_STORED_SKIPPED_KEYS),
                ],
            )
        };
        Room {
            max_skip,
            max_stored,
            clone: caps.operations.contains(&Operation::Clone),
            configurable: caps.configurable_limits,
        }
    }
}

impl Room {
    /// `MAX_SKIP` and a stored-key cap drawn from the room — never a cap
    /// below `MAX_SKIP`: libraries refuse such a configuration
    /// (python-doubleratchet does) and no vector uses one.
    pub(super) fn limits(&self, rng: &mut ChaCha20Rng) -> (u32, u32) {
        let max_skip = choose(rng, &self.max_skip, DEFAULT_MAX_SKIP);
        let caps: Vec<u32> = self
            .max_stored
            .iter()
            .copied()
            .filter(|&c| c >= max_skip)
            .collect();
        let max_stored = choose(rng, &caps, DEFAULT_MAX_STORED_SKIPPED_KEYS.max(max_skip));
        (max_skip, max_stored)
    }
}

pub(super) fn below(rng: &mut ChaCha20Rng, n: u32) -> u32 {
    if n == 0 { 0 } else { rng.next_u32() % n }
}

pub(super) fn choose<T: Copy>(rng: &mut ChaCha20Rng, from: &[T], or: T) -> T {
    let n = u32::try_from(from.len()).unwrap_or(u32::MAX);
    from.get(below(rng, n) as usize).copied().unwrap_or(or)
}

fn byte(rng: &mut ChaCha20Rng) -> u8 {
    rng.next_u32().to_le_bytes()[0]
}

fn party(rng: &mut ChaCha20Rng) -> Party {
    if rng.next_u32() & 1 == 0 {
        Party::Alice
    } else {
        Party::Bob
    }
}

fn tamper(rng: &mut ChaCha20Rng) -> Tamper {
    let b = byte(rng);
    match below(rng, 9) {
        0 => Tamper::Ciphertext { byte: b },
        1 => Tamper::Tag { byte: b },
        2 => Tamper::AssociatedData { byte: b },
        3 => Tamper::RatchetKey { byte: b },
        4 => Tamper::Counter { bit: b },
        5 => Tamper::PreviousCounter { bit: b },
        6 => Tamper::Version { value: b },
        7 => Tamper::CounterMax,
        _ => Tamper::Truncate { keep: b },
    }
}

fn action(rng: &mut ChaCha20Rng, w: Weights) -> Action {
    let table = [
        w.send,
        w.deliver,
        w.replay,
        w.drop,
        w.tamper,
        w.capture,
        w.eavesdrop,
        w.restore,
    ];
    let mut roll = below(rng, table.iter().sum());
    let mut kind = 0;
    for (i, weight) in table.iter().enumerate() {
        if roll < *weight {
            kind = i;
            break;
        }
        roll -= weight;
    }
    match kind {
        0 => Action::Send { from: party(rng) },
        1 => Action::Deliver { pick: byte(rng) },
        2 => Action::Replay { pick: byte(rng) },
        3 => Action::Drop { pick: byte(rng) },
        4 => Action::Tamper {
            pick: byte(rng),
            field: tamper(rng),
        },
        5 => Action::Capture { victim: party(rng) },
        6 => Action::Eavesdrop {
            capture: byte(rng),
            pick: byte(rng),
        },
        _ => Action::Restore { party: party(rng) },
    }
}

/// The case drawn from `seed` in `suite`, with at most `max_actions` actions.
pub fn draw(seed: u64, suite: Suite, room: &Room, max_actions: usize) -> SessionCase {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let shapes: Vec<_> = SHAPES
        .iter()
        .filter(|(_, w)| room.clone || (w.capture == 0 && w.restore == 0))
        .collect();
    let n = u32::try_from(shapes.len()).unwrap_or(1);
    let (shape, weights) = shapes
        .get(below(&mut rng, n) as usize)
        .map_or(SHAPES[0], |s| **s);
    let randomness = if below(&mut rng, 8) == 0 {
        Randomness::Counter
    } else {
        Randomness::Fresh
    };
    let (max_skip, max_stored) = room.limits(&mut rng);
    let config = ModelConfig::new(rng.next_u64())
        .with_suite(suite)
        .with_randomness(randomness)
        .with_limits(max_skip, max_stored);
    let cap = u32::try_from(max_actions).unwrap_or(u32::MAX);
    let len = below(&mut rng, cap) as usize + 1;
    let actions = (0..len).map(|_| action(&mut rng, weights)).collect();
    SessionCase {
        config,
        shape,
        actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratchetproof_protocol::DEFAULT_SUITE;

    fn room() -> Room {
        Room {
            max_skip: vec![2, 3],
            max_stored: vec![2, 4_000],
            clone: true,
            configurable: true,
        }
    }

    #[test]
    fn a_seed_gives_one_case() {
        let a = draw(7, &DEFAULT_SUITE, &room(), 40);
        assert_eq!(a, draw(7, &DEFAULT_SUITE, &room(), 40));
        assert_ne!(a, draw(8, &DEFAULT_SUITE, &room(), 40));
        assert!(!a.actions.is_empty() && a.actions.len() <= 40);
    }

    #[test]
    fn every_kind_of_action_and_every_shape_is_drawn() {
        let mut kinds = std::collections::BTreeSet::new();
        let mut shapes = std::collections::BTreeSet::new();
        for seed in 0..300 {
            let case = draw(seed, &DEFAULT_SUITE, &room(), 40);
            shapes.insert(case.shape);
            for a in case.actions {
                kinds.insert(match a {
                    Action::Send { .. } | Action::Lose { .. } => "send",
                    Action::Deliver { .. } => "deliver",
                    Action::Replay { .. } => "replay",
                    Action::Drop { .. } => "drop",
                    Action::Tamper {
                        field: Tamper::CounterMax,
                        ..
                    } => "counter-max",
                    Action::Tamper { .. } => "tamper",
                    Action::Capture { .. } => "capture",
                    Action::Eavesdrop { .. } => "eavesdrop",
                    Action::Restore { .. } => "restore",
                });
            }
        }
        assert_eq!(kinds.len(), 9, "{kinds:?}");
        assert_eq!(shapes.len(), SHAPES.len(), "{shapes:?}");
    }

    #[test]
    fn the_cap_is_never_below_max_skip() {
        let room = Room {
            max_skip: vec![1, 5, 16],
            max_stored: vec![1, 2, 6, 20],
            clone: true,
            configurable: true,
        };
        for seed in 0..300 {
            let c = draw(seed, &DEFAULT_SUITE, &room, 10).config;
            assert!(c.max_stored_skipped_keys >= c.max_skip, "{c:?}");
        }
    }

    #[test]
    fn without_clone_no_copies_are_drawn() {
        let room = Room {
            clone: false,
            configurable: true,
            ..room()
        };
        for seed in 0..200 {
            let case = draw(seed, &DEFAULT_SUITE, &room, 40);
            assert!(
                case.actions.iter().all(|a| !matches!(
                    a,
                    Action::Capture { .. } | Action::Restore { .. } | Action::Eavesdrop { .. }
                )),
                "{case:?}"
            );
        }
    }
}
