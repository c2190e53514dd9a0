//! Key erasure: which secrets each `capture` step says must be gone.
//!
//! A behaviour-only forward-secrecy case passes an implementation that keeps
//! every used key and refuses replays by bookkeeping. So every capture also
//! lists the secrets that would let a copy of the state recompute the key of
//! a message the party already processed; the runner searches the
//! implementation's exported state for them (`KeyErasure`).
//!
//! The lists come from replaying the finished scenario on a fresh reference,
//! reading its state (SPEC.md §10) after every step. Only what *every*
//! conformant implementation has erased is listed:
//! - the message key of every message the party sent or decrypted;
//! - on the chain of such a message, the chain key that yields its key and
//!   every earlier one (a later chain key is fine: Olm and libsignal keep a
//!   receiving chain's last chain key to read late messages);
//! - root keys the party's state held earlier and no longer holds (a party
//!   that defers its next ratchet key holds an intermediate root key the
//!   reference never shows, so it is never listed);
//! - ratchet private keys the party replaced, once it has sent under the new
//!   one (a party may defer generating the new key until it sends); never
//!   Bob's first one, his signed prekey, which the prekey store keeps.
//!
//! A secret the reference's own state still holds is never listed.

use std::collections::{BTreeMap, BTreeSet};

use ratchetproof_protocol::{ChainKey, PrivateKey, Suite};

use crate::implementation::{
    CloneSession, Decrypt, Encrypt, ExportState, Implementation, Role, SessionHandle, SessionInit,
};
use crate::reference::Reference;
use crate::vectors::{ErasedSecret, Hex, Limits, Outcome, ScenarioSetup, Step};

type Key = [u8; 32];

/// The secrets of one decoded state (SPEC.md §10).
struct Snapshot {
    dhs: Key,
    rk: Key,
    cks: Option<Key>,
    ckr: Option<Key>,
    ns: u32,
    skipped: Vec<Key>,
}

impl Snapshot {
    fn decode(bytes: &[u8]) -> Option<Snapshot> {
        let mut r = Cursor(bytes);
        r.take(4 + 1 + 1 + 1 + 4 + 4)?;
        let dhs = r.key()?;
        r.optional()?;
        let rk = r.key()?;
        let cks = r.optional()?;
        let ckr = r.optional()?;
        let ns = r.u32()?;
        r.take(8)?;
        let previous = usize::from(*r.take(1)?.first()?);
        r.take(previous.checked_mul(32)?)?;
        let count = r.u32()?;
        let mut skipped = Vec::new();
        for _ in 0..count {
            r.take(36)?;
            skipped.push(r.key()?);
        }
        Some(Snapshot {
            dhs,
            rk,
            cks,
            ckr,
            ns,
            skipped,
        })
    }

    fn holds(&self, key: &Key) -> bool {
        self.dhs == *key
            || self.rk == *key
            || self.cks.as_ref() == Some(key)
            || self.ckr.as_ref() == Some(key)
            || self.skipped.contains(key)
    }
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn key(&mut self) -> Option<Key> {
        self.take(32)?.try_into().ok()
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn optional(&mut self) -> Option<Option<Key>> {
        match self.take(1)?.first()? {
            0 => Some(None),
            1 => Some(Some(self.key()?)),
            _ => None,
        }
    }
}

/// A sent message: its chain (the sender's ratchet public key), number, the
/// chain key that yields its key, and the key.
struct Message {
    chain: Key,
    n: u32,
    ck: Key,
    mk: Key,
}

/// What one party (or copy) did and held, from its start.
#[derive(Clone, Default)]
struct History {
    /// Messages it sent or decrypted.
    processed: BTreeSet<usize>,
    /// Messages it sent.
    sent: BTreeSet<usize>,
    /// Root keys in order, with the step that replaced each (none: current).
    root_keys: Vec<(Key, Option<usize>)>,
    /// Its ratchet private keys in order, with the step that replaced each.
    ratchet_keys: Vec<(Key, Option<usize>)>,
}

impl History {
    /// Records the state after `step`.
    fn observe(&mut self, snap: &Snapshot, step: usize) {
        if self.root_keys.last().map(|r| r.0) != Some(snap.rk) {
            if let Some(last) = self.root_keys.last_mut() {
                last.1 = Some(step);
            }
            self.root_keys.push((snap.rk, None));
        }
        if self.ratchet_keys.last().map(|r| r.0) != Some(snap.dhs) {
            if let Some(last) = self.ratchet_keys.last_mut() {
                last.1 = Some(step);
            }
            self.ratchet_keys.push((snap.dhs, None));
        }
    }
}

struct Replay {
    suite: Suite,
    reference: Reference,
    handles: BTreeMap<String, SessionHandle>,
    histories: BTreeMap<String, History>,
    messages: Vec<Message>,
    /// The wire bytes of each sent message.
    wires: Vec<Vec<u8>>,
    signed_prekey: Key,
    shared_key: Key,
}

impl Replay {
    fn snapshot(&mut self, party: &str) -> Result<Snapshot, String> {
        let handle = *self
            .handles
            .get(party)
            .ok_or_else(|| format!("no party {party}"))?;
        let bytes = self
            .reference
            .export_state(&ExportState { session: handle })
            .map(|o| o.state)
            .map_err(|e| e.to_string())?;
        Snapshot::decode(&bytes).ok_or_else(|| "the reference state does not decode".into())
    }

    fn history(&mut self, party: &str) -> &mut History {
        self.histories.entry(party.into()).or_default()
    }

    /// The secrets `party` must have erased now.
    fn erased(&mut self, party: &str) -> Result<Vec<ErasedSecret>, String> {
        let snap = self.snapshot(party)?;
        let history = self.history(party).clone();
        let mut out: Vec<ErasedSecret> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut push = |key: Key, role: String| {
            if !snap.holds(&key) && seen.insert(key) {
                out.push(ErasedSecret {
                    secret: Hex::from(key),
                    role,
                });
            }
        };
        for &i in &history.processed {
            if let Some(m) = self.messages.get(i) {
                push(m.mk, format!("message key of message {i}"));
            }
        }
        for &i in &history.processed {
            let Some(m) = self.messages.get(i) else {
                continue;
            };
            for (j, earlier) in self.messages.iter().enumerate() {
                if earlier.chain == m.chain && earlier.n <= m.n {
                    push(
                        earlier.ck,
                        format!("chain key that yields the key of message {j}"),
                    );
                }
            }
        }
        for (rk, replaced) in &history.root_keys {
            match replaced {
                Some(_) if *rk == self.shared_key => {
                    push(*rk, "the shared key SK (the first root key)".into());
                }
                Some(step) => push(*rk, format!("root key replaced at step {step}")),
                None => {}
            }
        }
        let current_public = *PrivateKey::from_bytes(snap.dhs).public_key().as_bytes();
        let sent_under_current = history.sent.iter().any(|&i| {
            self.messages
                .get(i)
                .is_some_and(|m| m.chain == current_public)
        });
        if sent_under_current {
            for (key, replaced) in &history.ratchet_keys {
                if let Some(step) = replaced
                    && *key != self.signed_prekey
                {
                    push(*key, format!("ratchet private key replaced at step {step}"));
                }
            }
        }
        Ok(out)
    }
}

/// Replays `steps` on a fresh reference and fills in every capture's
/// `erasedSecrets`. Returns whether any capture lists a secret.
pub(super) fn annotate(
    suite: Suite,
    limits: Option<Limits>,
    setup: &ScenarioSetup,
    steps: &mut [Step],
) -> Result<bool, String> {
    let key = |h: &Hex| -> Result<Key, String> {
        h.0.as_slice()
            .try_into()
            .map_err(|_| "a setup key is not 32 bytes".to_string())
    };
    let mut replay = Replay {
        suite,
        reference: Reference::with_suites([suite]),
        handles: BTreeMap::new(),
        histories: BTreeMap::new(),
        messages: Vec::new(),
        wires: Vec::new(),
        signed_prekey: key(&setup.bob_ratchet_private_key)?,
        shared_key: key(&setup.shared_key)?,
    };
    let sk = replay.shared_key;
    for (name, role, ratchet_key, list) in [
        (
            "alice",
            Role::Alice,
            &setup.bob_ratchet_public_key,
            &setup.alice.ratchet_private_keys,
        ),
        (
            "bob",
            Role::Bob,
            &setup.bob_ratchet_private_key,
            &setup.bob.ratchet_private_keys,
        ),
    ] {
        let init = SessionInit {
            suite: suite.name().into(),
            role,
            shared_key: setup.shared_key.0.clone(),
            ratchet_key: ratchet_key.0.clone(),
            ratchet_private_keys: list.iter().map(|k| k.0.clone()).collect(),
            max_skip: limits.map(|l| l.max_skip),
            max_stored_skipped_keys: limits.map(|l| l.max_stored_skipped_keys),
        };
        let handle = replay
            .reference
            .init_session(&init)
            .map(|o| o.session)
            .map_err(|e| e.to_string())?;
        replay.handles.insert(name.into(), handle);
        // SK is the initial root key; Alice's init already moved past it.
        let history = replay.history(name);
        history.root_keys.push((sk, None));
        let snap = replay.snapshot(name)?;
        let history = replay.history(name);
        if snap.rk != sk
            && let Some(first) = history.root_keys.first_mut()
        {
            first.1 = Some(0);
        }
        history.observe(&snap, 0);
    }
    let mut any = false;
    for (index, step) in steps.iter_mut().enumerate() {
        match step {
            Step::Send {
                party,
                plaintext,
                ad,
                expected,
            } => {
                let before = replay.snapshot(party)?;
                let handle = *replay.handles.get(party.as_str()).ok_or("no party")?;
                let ad = ad.as_ref().unwrap_or(&setup.associated_data);
                let got = replay
                    .reference
                    .encrypt(&Encrypt::new(handle, &plaintext.0, &ad.0))
                    .map(|o| o.message);
                match (&expected.outcome, got) {
                    (Outcome::Ok(want), Ok(wire)) if want.message.0 == wire => {
                        let ck = before.cks.ok_or("a send without a sending chain")?;
                        let (_, mk) = replay.suite.kdf_ck(&ChainKey::from_bytes(ck));
                        let i = replay.messages.len();
                        replay.wires.push(wire);
                        replay.messages.push(Message {
                            chain: *PrivateKey::from_bytes(before.dhs).public_key().as_bytes(),
                            n: before.ns,
                            ck,
                            mk: *mk.as_bytes(),
                        });
                        let history = replay.history(party);
                        history.processed.insert(i);
                        history.sent.insert(i);
                    }
                    (Outcome::Error { .. }, Err(_)) => {}
                    _ => return Err(format!("replay of step {index} differs")),
                }
            }
            Step::Deliver {
                party,
                message,
                bytes,
                ad,
                expected,
                ..
            } => {
                let handle = *replay.handles.get(party.as_str()).ok_or("no party")?;
                let wire = match (&*message, &*bytes) {
                    (Some(i), _) => replay
                        .wires
                        .get(*i)
                        .cloned()
                        .ok_or_else(|| format!("step {index} delivers an unsent message"))?,
                    (None, Some(b)) => b.0.clone(),
                    (None, None) => return Err(format!("step {index} delivers nothing")),
                };
                let ad = ad.as_ref().unwrap_or(&setup.associated_data);
                let got = replay
                    .reference
                    .decrypt(&Decrypt::new(handle, &wire, &ad.0))
                    .map(|o| o.plaintext);
                match (&expected.outcome, got) {
                    (Outcome::Ok(want), Ok(p)) if want.plaintext.0 == p => {
                        if let Some(i) = message {
                            replay.history(party).processed.insert(*i);
                        }
                    }
                    (Outcome::Error { .. }, Err(_)) => {}
                    _ => return Err(format!("replay of step {index} differs")),
                }
            }
            Step::Capture {
                party,
                name,
                ratchet_private_keys,
                erased_secrets,
            } => {
                *erased_secrets = replay.erased(party)?;
                any |= !erased_secrets.is_empty();
                let handle = *replay.handles.get(party.as_str()).ok_or("no party")?;
                let keys: Vec<Vec<u8>> = ratchet_private_keys.iter().map(|k| k.0.clone()).collect();
                let copy = replay
                    .reference
                    .clone_session(&CloneSession::new(handle, &keys))
                    .map(|o| o.session)
                    .map_err(|e| e.to_string())?;
                replay.handles.insert(name.clone(), copy);
                let history = replay.history(party).clone();
                replay.histories.insert(name.clone(), history);
            }
        }
        let party = match step {
            Step::Send { party, .. } | Step::Deliver { party, .. } => party.clone(),
            Step::Capture { name, .. } => name.clone(),
        };
        let snap = replay.snapshot(&party)?;
        replay.history(&party).observe(&snap, index);
    }
    Ok(any)
}
