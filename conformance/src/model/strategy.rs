//! proptest strategies over [`Action`] sequences (feature `proptest`).
//!
//! A [`Mix`] weighs the kinds of action, so each property searches the part of
//! the space it is about. Indexes shrink towards 0 (the oldest candidate) and
//! actions can be deleted freely (see [`super::action`]), so proptest's
//! shrinking ends at short sequences that read as a story.

use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::TestRunner;

use super::action::{Action, Party, Tamper};

/// Relative weights of the kinds of action; 0 leaves a kind out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// [`Action::Send`].
    pub send: u32,
    /// [`Action::Deliver`].
    pub deliver: u32,
    /// [`Action::Replay`].
    pub replay: u32,
    /// [`Action::Drop`].
    pub drop: u32,
    /// [`Action::Tamper`].
    pub tamper: u32,
    /// [`Action::Capture`].
    pub capture: u32,
    /// [`Action::Eavesdrop`].
    pub eavesdrop: u32,
    /// [`Action::Restore`].
    pub restore: u32,
    /// [`Action::Lose`], of a count around Olm's bounds (40 stored keys, a
    /// gap of 2000).
    pub lose: u32,
}

impl Mix {
    /// A network that loses, reorders, holds back and duplicates, but alters nothing.
    pub const HONEST: Mix = Mix {
        send: 5,
        deliver: 7,
        replay: 1,
        drop: 1,
        tamper: 0,
        capture: 0,
        eavesdrop: 0,
        restore: 0,
        lose: 0,
    };

    /// The honest network plus tampering with every field.
    pub const ACTIVE: Mix = Mix {
        tamper: 3,
        ..Mix::HONEST
    };

    /// The honest network plus an attacker who steals state and listens.
    pub const COMPROMISE: Mix = Mix {
        capture: 1,
        eavesdrop: 4,
        ..Mix::HONEST
    };

    /// The honest network and captures, with messages lost by the dozen or
    /// the thousand: stores past their cap, gaps at Olm's bound.
    pub const BOUNDS: Mix = Mix {
        lose: 1,
        capture: 1,
        eavesdrop: 2,
        ..Mix::HONEST
    };

    /// Everything at once.
    pub const EVERYTHING: Mix = Mix {
        tamper: 2,
        capture: 1,
        eavesdrop: 3,
        restore: 1,
        ..Mix::HONEST
    };
}

/// Either party.
pub fn party() -> impl Strategy<Value = Party> {
    prop_oneof![Just(Party::Alice), Just(Party::Bob)]
}

/// Any alteration of a message.
pub fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        any::<u8>().prop_map(|byte| Tamper::Ciphertext { byte }),
        any::<u8>().prop_map(|byte| Tamper::Tag { byte }),
        any::<u8>().prop_map(|byte| Tamper::AssociatedData { byte }),
        any::<u8>().prop_map(|byte| Tamper::RatchetKey { byte }),
        any::<u8>().prop_map(|bit| Tamper::Counter { bit }),
        any::<u8>().prop_map(|bit| Tamper::PreviousCounter { bit }),
        any::<u8>().prop_map(|value| Tamper::Version { value }),
        any::<u8>().prop_map(|keep| Tamper::Truncate { keep }),
        Just(Tamper::CounterMax),
    ]
}

/// Counts of lost messages around Olm's bounds, shrinking towards 1.
pub fn lose_count() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(1u16),
        Just(39),
        Just(40),
        Just(41),
        Just(1_999),
        Just(2_000),
        Just(2_001),
    ]
}

/// One action drawn with the weights of `mix`.
pub fn action(mix: Mix) -> impl Strategy<Value = Action> {
    let pick = any::<u8>;
    prop_oneof![
        mix.send => party().prop_map(|from| Action::Send { from }),
        mix.deliver => pick().prop_map(|pick| Action::Deliver { pick }),
        mix.replay => pick().prop_map(|pick| Action::Replay { pick }),
        mix.drop => pick().prop_map(|pick| Action::Drop { pick }),
        mix.tamper => (pick(), tamper()).prop_map(|(pick, field)| Action::Tamper { pick, field }),
        mix.capture => party().prop_map(|victim| Action::Capture { victim }),
        mix.eavesdrop => (pick(), pick()).prop_map(|(capture, pick)| Action::Eavesdrop { capture, pick }),
        mix.restore => party().prop_map(|party| Action::Restore { party }),
        mix.lose => (party(), lose_count()).prop_map(|(from, count)| Action::Lose { from, count }),
    ]
}

/// Sequences of up to `max_len` actions drawn with the weights of `mix`.
///
/// Unlike `proptest::collection::vec`, which tries each deletion once, the
/// shrinker alternates deletion passes and element shrinking until neither
/// makes progress. Picks are indexes into what exists at that step, so
/// shrinking a pick or deleting an earlier action can make a deletion
/// possible that failed before; retrying is what makes counterexamples short.
pub fn actions(mix: Mix, max_len: usize) -> Actions {
    Actions {
        action: action(mix).boxed(),
        max_len,
    }
}

/// The strategy [`actions`] returns.
#[derive(Debug, Clone)]
pub struct Actions {
    action: BoxedStrategy<Action>,
    max_len: usize,
}

impl Strategy for Actions {
    type Tree = ActionsTree;
    type Value = Vec<Action>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let len = (0..=self.max_len).new_tree(runner)?.current();
        let elements = (0..len)
            .map(|_| self.action.new_tree(runner))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ActionsTree {
            included: vec![true; elements.len()],
            elements,
            phase: Phase::Delete(0),
            last: None,
            progress: false,
        })
    }
}

/// The value tree of [`Actions`].
pub struct ActionsTree {
    elements: Vec<Box<dyn ValueTree<Value = Action>>>,
    included: Vec<bool>,
    phase: Phase,
    /// The last simplification, until it is accepted or undone.
    last: Option<Step>,
    /// Whether a simplification was accepted since the last deletion pass began.
    progress: bool,
}

impl std::fmt::Debug for ActionsTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionsTree")
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Delete(usize),
    Shrink(usize),
    Done,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Deleted(usize),
    Shrunk(usize),
}

impl ValueTree for ActionsTree {
    type Value = Vec<Action>;

    fn current(&self) -> Vec<Action> {
        self.elements
            .iter()
            .zip(&self.included)
            .filter(|(_, included)| **included)
            .map(|(e, _)| e.current())
            .collect()
    }

    fn simplify(&mut self) -> bool {
        // Called again without `complicate`: the last step was kept.
        if self.last.take().is_some() {
            self.progress = true;
        }
        loop {
            match self.phase {
                Phase::Delete(from) => {
                    let next = (from..self.included.len())
                        .find(|&i| self.included.get(i).copied().unwrap_or(false));
                    if let Some(i) = next
                        && let Some(slot) = self.included.get_mut(i)
                    {
                        *slot = false;
                        self.last = Some(Step::Deleted(i));
                        self.phase = Phase::Delete(i + 1);
                        return true;
                    }
                    self.phase = Phase::Shrink(0);
                }
                Phase::Shrink(i) => {
                    let Some(element) = self.elements.get_mut(i) else {
                        if std::mem::take(&mut self.progress) {
                            self.phase = Phase::Delete(0);
                            continue;
                        }
                        self.phase = Phase::Done;
                        return false;
                    };
                    if self.included.get(i).copied().unwrap_or(false) && element.simplify() {
                        self.last = Some(Step::Shrunk(i));
                        return true;
                    }
                    self.phase = Phase::Shrink(i + 1);
                }
                Phase::Done => return false,
            }
        }
    }

    fn complicate(&mut self) -> bool {
        match self.last.take() {
            None => false,
            Some(Step::Deleted(i)) => {
                if let Some(slot) = self.included.get_mut(i) {
                    *slot = true;
                }
                true
            }
            Some(Step::Shrunk(i)) => {
                let again = self.elements.get_mut(i).is_some_and(|e| e.complicate());
                if again {
                    self.last = Some(Step::Shrunk(i));
                }
                again
            }
        }
    }
}
