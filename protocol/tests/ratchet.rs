//! Double Ratchet behaviour: conversations, out-of-order delivery, limits,
//! replay, transactional failure and state round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{Pair, pair, pair_with};
use ratchetproof_protocol::{Error, ErrorClass, Session, SessionConfig};

#[test]
fn thousand_messages_in_alternating_bursts() {
    let Pair {
        mut alice,
        mut bob,
        ad,
        mut rng,
    } = pair();
    let mut count = 0;
    let mut burst = 1;
    let mut alice_turn = true;
    while count < 1000 {
        let (tx, rx) = if alice_turn {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        for _ in 0..burst {
            let text = format!("message {count}");
            let wire = tx.encrypt(text.as_bytes(), &ad).unwrap();
            assert_eq!(rx.decrypt(&wire, &ad, &mut rng).unwrap(), text.as_bytes());
            count += 1;
        }
        burst = burst % 7 + 1;
        alice_turn = !alice_turn;
    }
}
