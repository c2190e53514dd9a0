//! [`Mutant`] behind the harness's [`Implementation`] trait: each operation
//! decodes its inputs and runs the mutant's own code, with the primitive and
//! X3DH bugs applied per call and the session bugs through [`super::session`].

use ratchetproof_protocol::consts::{DEFAULT_MAX_SKIP, DEFAULT_MAX_STORED_SKIPPED_KEYS};
use ratchetproof_protocol::{
    ChainKey, CipherSuite, DEFAULT_SUITE, DhOutput, Header, KeyPair, MessageKey, PrivateKey,
    RootKey, SharedKey,
};

use super::olm::{self, Switches};
use super::prekeys::{PrekeyStore, accept};
use super::primitives::{kdf_rk_swapped, own_aead, seal_with_bugs, swap_chain_outputs};
use super::session::State;
use super::{Bug, Mutant, Variant, x3dh};
use crate::implementation::{
    Capabilities, CloneSession, Decrypt, DecryptOutput, Encrypt, EncryptOutput, ErrorClass,
    ExportState, ExportStateOutput, ImplError, ImplResult, Implementation, KdfCk, KdfCkOutput,
    KdfRk, KdfRkOutput, MessageKeys, MessageKeysOutput, Operation, PrekeyInitiate, PrekeyRespond,
    PrekeyRespondOutput, Role, Seal, SealOutput, SessionInit, SessionOutput, X3dhAccept,
    X3dhAcceptOutput, X3dhInitiate, X3dhOutput, X3dhRespond,
};
use crate::reference::{bundle_from_request, check_rng, key_pair, key_queue, public, suite_named};

/// Whether `suite` runs Olm's ratchet (the protocol crate's registry says).
fn is_olm(suite: &str) -> bool {
    matches!(
        ratchetproof_protocol::suite::lookup(suite),
        Some(ratchetproof_protocol::suite::Registered::Olm)
    )
}

/// The mutant builds prekey sessions for `olm-v1` only.
fn olm_only(suite: &str) -> ImplResult<()> {
    if is_olm(suite) {
        Ok(())
    } else {
        Err(ImplError::unsupported(
            "the mutant builds prekey sessions for olm-v1 only",
        ))
    }
}

/// A 32-byte input as a plain array (the reference's helper zeroizes it).
fn key32(bytes: &[u8], what: &str) -> ImplResult<[u8; 32]> {
    Ok(*crate::reference::key32(bytes, what)?)
}

impl Implementation for Mutant {
    fn capabilities(&self) -> Capabilities {
        let bugs: Vec<_> = self
            .bugs
            .iter()
            .map(|b| b.name())
            .chain(self.variants.iter().map(|v| v.name()))
            .collect();
        Capabilities {
            name: format!("ratchetproof-mutant[{}]", bugs.join(",")),
            version: env!("CARGO_PKG_VERSION").into(),
            // Written from SPEC.md, the default suite only: signal-v3's
            // direction-dependent MAC input is not modelled here. And Olm,
            // from docs/OLM-V1.md (`olm/`).
            suites: vec![
                DEFAULT_SUITE.name().to_string(),
                ratchetproof_protocol::olm::NAME.to_string(),
            ],
            operations: [
                Operation::Primitives,
                Operation::X3dh,
                Operation::Session,
                Operation::Clone,
                Operation::X3dhAccept,
                Operation::Export,
                // olm-v1 sessions exist only through the key agreement.
                Operation::Prekey,
            ]
            .into(),
            max_skip: Some(DEFAULT_MAX_SKIP),
            max_stored_skipped_keys: Some(DEFAULT_MAX_STORED_SKIPPED_KEYS),
            configurable_limits: true,
            injected_randomness: true,
            spqr: false,
        }
    }

    fn kdf_rk(&mut self, r: &KdfRk) -> ImplResult<KdfRkOutput> {
        if is_olm(&r.suite) {
            let rk = RootKey::from_bytes(key32(&r.root_key, "root key")?);
            let dh = DhOutput::from_bytes(key32(&r.dh_output, "DH output")?);
            let (rk, ck) = ratchetproof_protocol::olm::kdf_rk(&rk, &dh);
            return Ok(KdfRkOutput {
                root_key: rk.as_bytes().to_vec(),
                chain_key: ck.as_bytes().to_vec(),
            });
        }
        let suite = suite_named(&r.suite)?;
        let rk = RootKey::from_bytes(key32(&r.root_key, "root key")?);
        let dh = DhOutput::from_bytes(key32(&r.dh_output, "DH output")?);
        let (rk, ck) = if self.bugs.contains(&Bug::KdfRkSaltIkmSwapped) {
            kdf_rk_swapped(&rk, &dh)
        } else {
            suite.kdf_rk(&rk, &dh)
        };
        Ok(KdfRkOutput {
            root_key: rk.as_bytes().to_vec(),
            chain_key: ck.as_bytes().to_vec(),
        })
    }

    fn kdf_ck(&mut self, r: &KdfCk) -> ImplResult<KdfCkOutput> {
        if is_olm(&r.suite) {
            let ck = ChainKey::from_bytes(key32(&r.chain_key, "chain key")?);
            let (next, mk) = ratchetproof_protocol::olm::kdf::kdf_ck(&ck);
            return Ok(KdfCkOutput {
                chain_key: next.as_bytes().to_vec(),
                message_key: mk.as_bytes().to_vec(),
            });
        }
        let suite = suite_named(&r.suite)?;
        let (next, mk) = suite.kdf_ck(&ChainKey::from_bytes(key32(&r.chain_key, "chain key")?));
        let (next, mk) = if self.bugs.contains(&Bug::KdfCkConstantsSwapped) {
            swap_chain_outputs(next, mk)
        } else {
            (next, mk)
        };
        Ok(KdfCkOutput {
            chain_key: next.as_bytes().to_vec(),
            message_key: mk.as_bytes().to_vec(),
        })
    }

    fn message_keys(&mut self, r: &MessageKeys) -> ImplResult<MessageKeysOutput> {
        if is_olm(&r.suite) {
            let mk = MessageKey::from_bytes(key32(&r.message_key, "message key")?);
            return Ok(MessageKeysOutput {
                keys: ratchetproof_protocol::olm::message_keys(&mk).to_vec(),
            });
        }
        let suite = suite_named(&r.suite)?;
        let mut keys = suite
            .message_keys(&MessageKey::from_bytes(key32(
                &r.message_key,
                "message key",
            )?))
            .to_vec();
        if self.bugs.contains(&Bug::FixedNonce) {
            keys.iter_mut().skip(32).for_each(|b| *b = 0);
        }
        Ok(MessageKeysOutput { keys })
    }

    fn seal(&mut self, r: &Seal) -> ImplResult<SealOutput> {
        let suite = suite_named(&r.suite)?;
        let mk = MessageKey::from_bytes(key32(&r.message_key, "message key")?);
        let header = Header {
            dh: public(&r.ratchet_key, "ratchet public key")?,
            pn: r.pn,
            n: r.n,
        };
        let (plaintext, ad) = (r.plaintext.as_slice(), r.ad.as_slice());
        let message = if own_aead(&self.bugs) {
            seal_with_bugs(suite, &self.bugs, &mk, &header, plaintext, ad)?
        } else {
            suite.seal(&mk, &header, plaintext, ad)?
        };
        Ok(SealOutput { message })
    }

    fn x3dh_initiate(&mut self, request: &X3dhInitiate) -> ImplResult<X3dhOutput> {
        let suite = suite_named(&request.suite)?;
        // Variant::SignatureCheckedFirst: a key or signature of the wrong
        // length cannot verify, and the signature is checked first.
        if self.variants.contains(&Variant::SignatureCheckedFirst)
            && !self.bugs.contains(&Bug::SignatureNotVerified)
            && (request.peer_identity_key.len() != 32
                || request.peer_signed_prekey.len() != 32
                || request.peer_signed_prekey_signature.len() != 64)
        {
            return Err(ImplError::new(
                ErrorClass::Authentication,
                "the signed prekey's signature does not verify",
            ));
        }
        let bundle = bundle_from_request(request)?;
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let ephemeral = key_pair(&request.ephemeral_private_key, "ephemeral private key")?;
        if !self.bugs.contains(&Bug::SignatureNotVerified) {
            x3dh::verify_bundle(
                &self.bugs,
                &self.variants,
                &bundle.identity_key,
                &bundle.signed_prekey,
                &request.peer_signed_prekey_signature,
            )?;
        }
        let dh = x3dh::initiator_dh(
            &identity,
            &ephemeral,
            &bundle.identity_key,
            &bundle.signed_prekey,
            bundle.one_time_prekey.as_ref().map(|(_, k)| k),
        )?;
        let (shared_key, associated_data) =
            x3dh::agree(&self.bugs, &dh, identity.public_key(), &bundle.identity_key);
        let _ = suite;
        Ok(X3dhOutput {
            shared_key: shared_key.as_bytes().to_vec(),
            associated_data,
        })
    }

    fn x3dh_respond(&mut self, request: &X3dhRespond) -> ImplResult<X3dhOutput> {
        let suite = suite_named(&request.suite)?;
        let opk = match &request.one_time_prekey_private_key {
            Some(k) => Some(key_pair(k, "one-time prekey private key")?),
            None => None,
        };
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let alice = public(&request.peer_identity_key, "peer identity key")?;
        let dh = x3dh::responder_dh(
            &identity,
            &key_pair(
                &request.signed_prekey_private_key,
                "signed prekey private key",
            )?,
            opk.as_ref(),
            &alice,
            &public(&request.peer_ephemeral_key, "peer ephemeral key")?,
        )?;
        let (shared_key, associated_data) =
            x3dh::agree(&self.bugs, &dh, &alice, identity.public_key());
        let _ = suite;
        Ok(X3dhOutput {
            shared_key: shared_key.as_bytes().to_vec(),
            associated_data,
        })
    }

    fn x3dh_accept(&mut self, request: &X3dhAccept) -> ImplResult<X3dhAcceptOutput> {
        let suite = suite_named(&request.suite)?;
        let identity = key_pair(&request.identity_private_key, "identity private key")?;
        let mut store = PrekeyStore::default();
        for (id, key) in &request.signed_prekeys {
            store
                .signed
                .insert(*id, key_pair(key, "signed prekey private key")?);
        }
        for (id, key) in &request.one_time_prekeys {
            store
                .one_time
                .insert(*id, key_pair(key, "one-time prekey private key")?);
        }
        let mut rng = key_queue(&request.ratchet_private_keys)?;
        let outcomes = request
            .initial_messages
            .iter()
            .map(|m| {
                accept(
                    &self.bugs,
                    &self.variants,
                    suite,
                    &identity,
                    &mut store,
                    m,
                    &mut rng,
                )
            })
            .collect();
        Ok(X3dhAcceptOutput { outcomes })
    }

    fn init_session(&mut self, init: &SessionInit) -> ImplResult<SessionOutput> {
        let suite = suite_named(&init.suite)?;
        let max_stored = init
            .max_stored_skipped_keys
            .unwrap_or(DEFAULT_MAX_STORED_SKIPPED_KEYS);
        if max_stored == 0 {
            return Err(ImplError::new(
                ErrorClass::State,
                "max_stored_skipped_keys must be at least 1",
            ));
        }
        let sk = SharedKey::from_bytes(key32(&init.shared_key, "shared key")?);
        let mut rng = key_queue(&init.ratchet_private_keys)?;
        let mut state = State::new(
            suite,
            init.max_skip.unwrap_or(DEFAULT_MAX_SKIP),
            max_stored,
            sk,
            KeyPair::from_private(PrivateKey::from_bytes([0; 32])),
        );
        match init.role {
            // RatchetInitAlice.
            Role::Alice => {
                let bob = public(&init.ratchet_key, "peer ratchet public key")?;
                state.dhs = KeyPair::generate(&mut rng);
                let dh_out = state.dhs.diffie_hellman(&bob)?;
                let (rk, cks) = state.kdf_rk(&self.bugs, &state.rk, &dh_out);
                state.rk = rk;
                state.cks = Some(cks);
                state.dhr = Some(bob);
            }
            // RatchetInitBob.
            Role::Bob => state.dhs = key_pair(&init.ratchet_key, "ratchet private key")?,
        }
        check_rng(&rng)?;
        Ok(SessionOutput {
            session: self.add(state, rng),
        })
    }

    fn encrypt(&mut self, r: &Encrypt) -> ImplResult<EncryptOutput> {
        if let Some(entry) = self.olm.get_mut(&r.session.0) {
            // Field by field: `entry` borrows `self.olm` mutably.
            let on = Switches {
                bugs: &self.bugs,
                variants: &self.variants,
            };
            return entry.encrypt(r, &on);
        }
        let (state, rng, bugs) = self.get(r.session)?;
        let message = state.encrypt(bugs, &r.plaintext, &r.ad, rng)?;
        check_rng(rng)?;
        Ok(EncryptOutput {
            message,
            message_type: None,
        })
    }

    fn decrypt(&mut self, r: &Decrypt) -> ImplResult<DecryptOutput> {
        if let Some(entry) = self.olm.get_mut(&r.session.0) {
            // Field by field: `entry` borrows `self.olm` mutably.
            let on = Switches {
                bugs: &self.bugs,
                variants: &self.variants,
            };
            return entry.decrypt(r, &on);
        }
        let (session, message, ad) = (r.session, r.message.as_slice(), r.ad.as_slice());
        let (state, rng, bugs) = self.get(session)?;
        // Variant::KeyGenerationBeforeMac: a failed decryption gives back the
        // key it drew (docs/SHIM.md §4.3).
        let queue = state
            .has(Variant::KeyGenerationBeforeMac)
            .then(|| rng.clone());
        let plaintext = match state.decrypt(bugs, message, ad, rng) {
            Ok(p) => p,
            Err(e) => {
                if let Some(queue) = queue {
                    *rng = queue;
                }
                return Err(e.into());
            }
        };
        check_rng(rng)?;
        if bugs.contains(&Bug::RestoredStateReusesMessageKey) {
            let copy = state.clone();
            self.saved.insert(session.0, copy);
        }
        Ok(DecryptOutput { plaintext })
    }

    fn clone_session(&mut self, r: &CloneSession) -> ImplResult<SessionOutput> {
        if let Some(entry) = self.olm.get(&r.session.0) {
            let copy = entry.copy_with(&r.ratchet_private_keys)?;
            return Ok(SessionOutput {
                session: self.add_olm(copy),
            });
        }
        let session = r.session;
        let (state, _, bugs) = self.get(session)?;
        let mut copy = state.clone();
        if bugs.contains(&Bug::CloneLosesSkippedKeys) {
            copy.skipped.clear();
        }
        if bugs.contains(&Bug::RestoredStateReusesMessageKey)
            && let Some(saved) = self.saved.get(&session.0)
        {
            copy = saved.clone();
        }
        let rng = key_queue(&r.ratchet_private_keys)?;
        Ok(SessionOutput {
            session: self.add(copy, rng),
        })
    }

    fn export_state(&mut self, r: &ExportState) -> ImplResult<ExportStateOutput> {
        if self.olm.contains_key(&r.session.0) {
            return Err(ImplError::unsupported(
                "olm-v1 sessions have no serialized state format yet",
            ));
        }
        let (state, _, _) = self.get(r.session)?;
        Ok(ExportStateOutput {
            state: state.export(),
        })
    }

    fn prekey_initiate(&mut self, r: &PrekeyInitiate) -> ImplResult<SessionOutput> {
        olm_only(&r.suite)?;
        let on = self.switches();
        let entry = olm::initiate(r, &on)?;
        Ok(SessionOutput {
            session: self.add_olm(entry),
        })
    }

    fn prekey_respond(&mut self, r: &PrekeyRespond) -> ImplResult<PrekeyRespondOutput> {
        olm_only(&r.suite)?;
        let on = self.switches();
        let (entry, plaintext) = olm::respond(r, &on)?;
        Ok(PrekeyRespondOutput {
            session: self.add_olm(entry),
            plaintext,
        })
    }

    fn reset(&mut self) {
        self.olm.clear();
        self.sessions.clear();
        self.saved.clear();
    }
}
