//! One conversation ending in a message sealed with the sender's own keys
//! but a header of the sealer's choosing (a malicious peer, or anyone who
//! has compromised Alice): `ratchetproof explore`'s `sealed` domain. The
//! network attacker of the scenario model cannot produce such a message —
//! every change it makes breaks the tag — so the bounds that only an
//! authentic header reaches (`PN` before Bob has a receiving chain, `PN` on
//! the current chain, `N` past `MAX_SKIP`) are checked here.

use super::builder::{R, Scenario};
use crate::generate::flags::Flag;
use crate::vectors::{ErrorClass, Limits, ScenarioCase};
use ratchetproof_protocol::Suite;

/// What the sealed message carries, and the conversation before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sealed {
    /// The limits the session runs under (`None`: the suite's defaults).
    pub limits: Option<Limits>,
    /// Messages Alice sends on her first chain first.
    pub sent: u32,
    /// Which of them Bob receives, in increasing order.
    pub delivered: Vec<u32>,
    /// The sealed header's `PN`.
    pub pn: u32,
    /// The sealed header's `N` (on Alice's first chain).
    pub n: u32,
}

/// What Bob must do with the sealed message, by SPEC.md §5.4: a header on
/// his current chain ignores `PN`; a new chain (before he has any) is
/// bounded by `PN` against `Nr` = 0 and by `N` against 0; on the current
/// chain, a used number is a duplicate and `N` is bounded against `Nr`.
pub(crate) fn expected(sealed: &Sealed, max_skip: u32) -> Result<(), ErrorClass> {
    let bound = |from: u32, to: u32| u64::from(to) > u64::from(from) + u64::from(max_skip);
    match sealed.delivered.last() {
        None => {
            if bound(0, sealed.pn) || bound(0, sealed.n) {
                Err(ErrorClass::TooManySkipped)
            } else {
                Ok(())
            }
        }
        Some(&last) => {
            let nr = last.saturating_add(1);
            if sealed.n < nr {
                if sealed.delivered.contains(&sealed.n) {
                    Err(ErrorClass::Duplicate)
                } else {
                    Ok(())
                }
            } else if bound(nr, sealed.n) {
                Err(ErrorClass::TooManySkipped)
            } else {
                Ok(())
            }
        }
    }
}

/// The conversation of `sealed` as a vector case, every outcome checked
/// against the reference; `Err` if the reference disagrees with
/// [`expected`] or a genuine delivery is refused.
pub(crate) fn case(suite: Suite, label: &str, sealed: &Sealed, max_skip: u32) -> R<ScenarioCase> {
    let mut s = Scenario::new(suite, label, sealed.limits)?;
    let mut ids = Vec::new();
    for _ in 0..sealed.sent {
        ids.push(s.say("alice")?);
    }
    for &k in &sealed.delivered {
        let id = ids
            .get(k as usize)
            .copied()
            .ok_or_else(|| s.fail(format!("no message {k}")))?;
        s.deliver("bob", id)?;
    }
    let plaintext = b"sealed with the sender's keys".to_vec();
    let bytes = s.craft_alice_first_chain_pn(sealed.pn, sealed.n, &plaintext)?;
    let want = expected(sealed, max_skip).map(|()| plaintext);
    let verdict = match &want {
        Ok(_) => "accepted".to_string(),
        Err(class) => format!("refused ({class})"),
    };
    s.deliver_raw("bob", None, bytes, None, want)?;
    let flag = if sealed.limits.is_some() {
        Flag::SkipLimitExact
    } else {
        Flag::SkipLimitUniversal
    };
    let comment = format!(
        "explore: Alice sends {}, Bob receives {:?}; a message sealed with Alice's first-chain keys claiming PN = {}, N = {} is {verdict}",
        sealed.sent, sealed.delivered, sealed.pn, sealed.n
    );
    let (case, _) = s.finish(&comment, &[flag, Flag::Atomicity], false)?;
    Ok(case)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(delivered: &[u32], pn: u32, n: u32) -> Sealed {
        Sealed {
            limits: None,
            sent: 4,
            delivered: delivered.to_vec(),
            pn,
            n,
        }
    }

    #[test]
    fn before_a_receiving_chain_pn_and_n_are_bounded_from_zero() {
        assert_eq!(expected(&sealed(&[], 3, 0), 3), Ok(()));
        assert_eq!(
            expected(&sealed(&[], 4, 0), 3),
            Err(ErrorClass::TooManySkipped)
        );
        assert_eq!(expected(&sealed(&[], 0, 3), 3), Ok(()));
        assert_eq!(
            expected(&sealed(&[], 0, 4), 3),
            Err(ErrorClass::TooManySkipped)
        );
    }

    #[test]
    fn on_the_current_chain_pn_is_ignored_and_n_bounded_from_nr() {
        // Bob holds 0 and 2; 1 is a stored skipped key; Nr = 3.
        assert_eq!(expected(&sealed(&[0, 2], 1_000_000, 1), 3), Ok(()));
        assert_eq!(
            expected(&sealed(&[0, 2], 0, 2), 3),
            Err(ErrorClass::Duplicate)
        );
        assert_eq!(expected(&sealed(&[0, 2], 0, 6), 3), Ok(()));
        assert_eq!(
            expected(&sealed(&[0, 2], 0, 7), 3),
            Err(ErrorClass::TooManySkipped)
        );
    }
}
