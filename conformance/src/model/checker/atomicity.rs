//! The checks that compare a session with itself: a rejected message leaves
//! it as it was (byte-identical where the subject shows its state, the same
//! behaviour otherwise), its state round-trips, and no two messages share a
//! keystream.

use super::{Invariant, Party, Run, Subject, Violation, class_of, show, tamper};
use crate::implementation::{CloneSession, Decrypt, Encrypt, SessionHandle};

/// A session's state before a decryption that may fail.
pub(super) enum Snapshot {
    Bytes(Vec<u8>),
    Copy(SessionHandle),
}

impl<S: Subject + ?Sized> Run<'_, S> {
    /// The session's state before a decryption that may fail.
    pub(super) fn snapshot(&mut self, handle: SessionHandle) -> Result<Snapshot, Violation> {
        match self.subject.state_bytes(handle) {
            Some(Ok(bytes)) => Ok(Snapshot::Bytes(bytes)),
            Some(Err(e)) => Err(self.violation(Invariant::RoundTrip, e.to_string())),
            None => self
                .subject
                .clone_session(&CloneSession::new(handle, &self.probe_keys))
                .map(|o| o.session)
                .map(Snapshot::Copy)
                .map_err(|e| self.violation(Invariant::Setup, format!("clone_session: {e}"))),
        }
    }

    /// How the session now differs from `before`, if it does.
    pub(super) fn compare(
        &mut self,
        now: SessionHandle,
        before: Snapshot,
        recipient: Party,
    ) -> Result<Option<String>, Violation> {
        match before {
            Snapshot::Bytes(before) => match self.subject.state_bytes(now) {
                Some(Ok(after)) if after == before => Ok(None),
                Some(Ok(_)) => Ok(Some("its serialized state differs".into())),
                Some(Err(e)) => Err(self.violation(Invariant::RoundTrip, e.to_string())),
                None => Ok(Some("it no longer shows its state".into())),
            },
            Snapshot::Copy(before) => self.same_behaviour(now, before, recipient),
        }
    }

    /// Behavioural comparison: copies of both sessions, given the same keys,
    /// must encrypt the same bytes and treat every message sent to
    /// `recipient` alike.
    fn same_behaviour(
        &mut self,
        now: SessionHandle,
        before: SessionHandle,
        recipient: Party,
    ) -> Result<Option<String>, Violation> {
        let probe_keys = self.probe_keys.clone();
        let copy = |subject: &mut S, h| {
            subject
                .clone_session(&CloneSession::new(h, &probe_keys))
                .map(|o| o.session)
        };
        let pair = copy(self.subject, now).and_then(|a| Ok((a, copy(self.subject, before)?)));
        let (a, b) =
            pair.map_err(|e| self.violation(Invariant::Setup, format!("clone_session: {e}")))?;
        let ad = self.secrets.associated_data.clone();
        let probe = b"atomicity probe";
        let (sa, sb) = (
            class_of(
                self.subject
                    .encrypt(&Encrypt::new(a, probe, &ad))
                    .map(|o| o.message),
            ),
            class_of(
                self.subject
                    .encrypt(&Encrypt::new(b, probe, &ad))
                    .map(|o| o.message),
            ),
        );
        if sa != sb {
            return Ok(Some(format!(
                "it now encrypts differently ({} instead of {})",
                show(&sa),
                show(&sb)
            )));
        }
        let to_recipient: Vec<(usize, Vec<u8>)> = self
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.from.peer() == recipient)
            .map(|(i, m)| (i, m.wire.clone()))
            .collect();
        for (i, wire) in to_recipient {
            let da = class_of(
                self.subject
                    .decrypt(&Decrypt::new(a, &wire, &ad))
                    .map(|o| o.plaintext),
            );
            let db = class_of(
                self.subject
                    .decrypt(&Decrypt::new(b, &wire, &ad))
                    .map(|o| o.plaintext),
            );
            if da != db {
                return Ok(Some(format!(
                    "message {i} now gives {} instead of {}",
                    show(&da),
                    show(&db)
                )));
            }
        }
        Ok(None)
    }

    pub(super) fn check_round_trips(&mut self) -> Result<(), Violation> {
        let mut handles = vec![self.alice.handle, self.bob.handle];
        handles.extend(self.captures.iter().map(|c| c.session.handle));
        for handle in handles {
            if let Some(Err(e)) = self.subject.state_bytes(handle) {
                return Err(self.violation(Invariant::RoundTrip, e.to_string()));
            }
        }
        Ok(())
    }

    /// Two messages under one key and nonce have ciphertexts whose XOR is the
    /// XOR of their plaintexts when the suite's cipher is a stream cipher
    /// (the default suite's AES-GCM); the check applies wherever the
    /// ciphertext field is exactly as long as the plaintext. With distinct plaintexts of 8 bytes or more, a
    /// match is no accident.
    pub(super) fn check_distinct_keystream(
        &self,
        plaintext: &[u8],
        wire: &[u8],
    ) -> Result<(), Violation> {
        let Some(body) = tamper::ciphertext(self.config.suite, plaintext, wire) else {
            return Ok(());
        };
        for (i, other) in self.messages.iter().enumerate() {
            let Some(other_body) =
                tamper::ciphertext(self.config.suite, &other.plaintext, &other.wire)
            else {
                continue;
            };
            let len = body.len().min(other_body.len());
            if len < 8 {
                continue;
            }
            let same = (0..len).all(|j| {
                let c = body.get(j).zip(other_body.get(j)).map(|(a, b)| a ^ b);
                let p = plaintext
                    .get(j)
                    .zip(other.plaintext.get(j))
                    .map(|(a, b)| a ^ b);
                c == p
            });
            if same {
                return Err(self.violation(
                    Invariant::DistinctMessageKeys,
                    format!("the new message reuses message {i}'s key and nonce (same keystream)"),
                ));
            }
        }
        Ok(())
    }
}
