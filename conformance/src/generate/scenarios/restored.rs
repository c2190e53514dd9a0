//! A session copied after it sent (export and re-import: the `capture`
//! step) and then used in place of the original continues from its latest
//! state: its next message takes the next message key, never one it already
//! used (SPEC.md §11.4). Catches an implementation whose saved or exported
//! state lags behind its sends (the mutant `restored-state-reuses-message-key`).
//! Added at the end so earlier tcIds stay stable.

use super::{Cases, R};
use crate::generate::flags::Flag;

pub(super) fn restored_sessions(c: &mut Cases) -> R<()> {
    // Alice has only sent; her copy sends next.
    let mut s = c.start("restore/sender")?;
    let m0 = s.say("alice")?;
    let m1 = s.say("alice")?;
    s.deliver("bob", m0)?;
    s.deliver("bob", m1)?;
    s.capture("alice", "alice-restored")?;
    let m2 = s.say("alice-restored")?;
    s.deliver("bob", m2)?;
    let b0 = s.say("bob")?;
    s.deliver("alice-restored", b0)?;
    let m3 = s.say("alice-restored")?;
    s.deliver("bob", m3)?;
    c.add(
        s,
        "Alice's state is exported and re-imported after two sends; the restored copy continues with message 2 under the next message key, and the conversation goes on",
        &[Flag::RestoredSession],
    )?;
    // Sends after the last decryption, some still in flight, then a restore.
    let mut s = c.start("restore/after-receive")?;
    let m0 = s.say("alice")?;
    s.deliver("bob", m0)?;
    let b0 = s.say("bob")?;
    s.deliver("alice", b0)?;
    let m1 = s.say("alice")?;
    let m2 = s.say("alice")?;
    s.capture("alice", "alice-restored")?;
    let m3 = s.say("alice-restored")?;
    for m in [m1, m2, m3] {
        s.deliver("bob", m)?;
    }
    let b1 = s.say("bob")?;
    let b2 = s.say("bob")?;
    s.capture("bob", "bob-restored")?;
    let b3 = s.say("bob-restored")?;
    for b in [b1, b2, b3] {
        s.deliver("alice-restored", b)?;
    }
    c.add(
        s,
        "both parties are restored from states exported after sends that followed their last decryption; each restored copy seals its next message under a key it never used",
        &[Flag::RestoredSession],
    )?;
    Ok(())
}
