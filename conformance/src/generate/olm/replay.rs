//! Replays: a message delivered again after it decrypted is refused, and
//! the refusal changes nothing.

use super::builder::{Cases, R, refused_or_mac};
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

pub(super) fn replay(c: &mut Cases) -> R<()> {
    {
        let mut s = c.start("replay-first-prekey")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        s.refuse("bob", a0, refused_or_mac(ErrorClass::Duplicate))?;
        let a1 = s.say("alice")?;
        s.deliver("bob", a1)?;
        let b = s.say("bob")?;
        s.deliver("alice", b)?;
        c.add(
            s,
            "Alice's first pre-key message delivered again to Bob's session: refused; her next message still decrypts",
            &[Flag::OlmReplay, Flag::Atomicity, Flag::OlmPreKeyMessages],
        )?;
    }
    {
        let mut s = c.start("replay-whisper")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        s.refuse("alice", b0, refused_or_mac(ErrorClass::Duplicate))?;
        let a1 = s.say("alice")?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a1)?;
        s.deliver("bob", a2)?;
        s.refuse("bob", a1, refused_or_mac(ErrorClass::Duplicate))?;
        s.refuse("bob", a2, refused_or_mac(ErrorClass::Duplicate))?;
        let a3 = s.say("alice")?;
        s.deliver("bob", a3)?;
        c.add(
            s,
            "normal messages replayed to both parties, on the newest chain: refused; the chain goes on",
            &[Flag::OlmReplay, Flag::Atomicity],
        )?;
    }
    {
        let mut s = c.start("replay-stored-key")?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        let a1 = s.say("alice")?;
        let a2 = s.say("alice")?;
        s.deliver("bob", a2)?;
        s.deliver("bob", a1)?;
        // a1's key was stored when a2 skipped it, and deleted once it was used.
        s.refuse("bob", a1, refused_or_mac(ErrorClass::Duplicate))?;
        let b1 = s.say("bob")?;
        s.deliver("alice", b1)?;
        let a3 = s.say("alice")?;
        s.deliver("bob", a3)?;
        // A late message on a kept chain, used once, then replayed.
        s.refuse("bob", a2, refused_or_mac(ErrorClass::Duplicate))?;
        c.add(
            s,
            "a message decrypted with a stored skipped key, replayed: the key was deleted after use; also a replay on a kept (older) chain",
            &[Flag::OlmReplay, Flag::OlmKeptChains, Flag::Atomicity],
        )?;
    }
    Ok(())
}
