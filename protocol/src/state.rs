//! Versioned binary serialization of a [`Session`], so a party's state can be
//! stored, restored and cloned (the compromise scenarios capture a party this
//! way). Layout in `docs/SPEC.md` §10. Decoding checks every field and rejects
//! trailing bytes, so `from_bytes(to_bytes(s))` re-encodes to the same bytes.

use std::collections::VecDeque;

use zeroize::Zeroizing;

use crate::chain_key::{ChainKey, MessageKey};
use crate::codec::Reader;
use crate::consts::MAX_PREVIOUS_RECEIVING_KEYS;
use crate::error::{Error, Result};
use crate::keys::{KeyPair, PrivateKey, PublicKey};
use crate::root_key::RootKey;
use crate::session::{Role, Session, SessionConfig};
use crate::skipped::SkippedKeys;
use crate::suite::{self, Suite};

/// First four bytes of serialized session state.
pub const STATE_MAGIC: &[u8; 4] = b"RPSS";
/// Current serialization format version.
pub const STATE_VERSION: u8 = 2;

fn put_optional(out: &mut Vec<u8>, value: Option<&[u8; 32]>) {
    match value {
        Some(bytes) => {
            out.push(1);
            out.extend_from_slice(bytes);
        }
        None => out.push(0),
    }
}

fn get_optional(r: &mut Reader<'_>) -> Result<Option<[u8; 32]>> {
    match r.u8()? {
        0 => Ok(None),
        1 => Ok(Some(r.array()?)),
        _ => Err(Error::InvalidState("presence flag is neither 0 nor 1")),
    }
}

impl Session {
    /// Serializes the whole state. The buffer holds secrets and zeroizes on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(200 + 68 * self.skipped.len()));
        out.extend_from_slice(STATE_MAGIC);
        out.push(STATE_VERSION);
        out.push(self.suite.id());
        out.push(match self.role {
            Role::Alice => 0,
            Role::Bob => 1,
        });
        out.extend_from_slice(&self.config.max_skip.to_be_bytes());
        out.extend_from_slice(&self.config.max_stored_skipped_keys.to_be_bytes());
        out.extend_from_slice(&*self.dhs.private_key().to_bytes());
        put_optional(&mut out, self.dhr.as_ref().map(PublicKey::as_bytes));
        out.extend_from_slice(self.rk.as_bytes());
        put_optional(&mut out, self.cks.as_ref().map(ChainKey::as_bytes));
        put_optional(&mut out, self.ckr.as_ref().map(ChainKey::as_bytes));
        out.extend_from_slice(&self.ns.to_be_bytes());
        out.extend_from_slice(&self.nr.to_be_bytes());
        out.extend_from_slice(&self.pn.to_be_bytes());
        // Bounded by MAX_PREVIOUS_RECEIVING_KEYS (16), so it fits a byte.
        out.push(u8::try_from(self.previous_dhr.len()).unwrap_or(u8::MAX));
        for key in &self.previous_dhr {
            out.extend_from_slice(key.as_bytes());
        }
        // Bounded by max_stored_skipped_keys, a u32.
        out.extend_from_slice(
            &u32::try_from(self.skipped.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        for (dh, n, mk) in self.skipped.iter_oldest_first() {
            out.extend_from_slice(dh.as_bytes());
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(mk.as_bytes());
        }
        out
    }

    /// Restores a session serialized by [`Session::to_bytes`]. Any deviation
    /// from the format is an [`Error::InvalidState`]; this never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_bytes_with(bytes, suite::by_id)
    }

    /// As [`Session::from_bytes`], looking the suite id up among `suites`
    /// instead of [`suite::all`]: how a suite defined outside this crate
    /// (a test variant) restores its sessions.
    pub fn from_bytes_in(bytes: &[u8], suites: &[Suite]) -> Result<Self> {
        Self::from_bytes_with(bytes, |id| suite::find_id(suites, id))
    }

    /// As [`Session::from_bytes`], resolving the suite id with `resolve`.
    pub fn from_bytes_with(bytes: &[u8], resolve: impl Fn(u8) -> Option<Suite>) -> Result<Self> {
        let mut r = Reader::new(bytes, Error::InvalidState("truncated"));
        if r.array::<4>()? != *STATE_MAGIC {
            return Err(Error::InvalidState("bad magic"));
        }
        if r.u8()? != STATE_VERSION {
            return Err(Error::InvalidState("unsupported state format version"));
        }
        let suite = resolve(r.u8()?).ok_or(Error::InvalidState("unknown suite id"))?;
        let role = match r.u8()? {
            0 => Role::Alice,
            1 => Role::Bob,
            _ => return Err(Error::InvalidState("role is neither 0 (Alice) nor 1 (Bob)")),
        };
        let config = SessionConfig {
            max_skip: r.u32()?,
            max_stored_skipped_keys: r.u32()?,
        };
        config
            .validate()
            .map_err(|_| Error::InvalidState("max_stored_skipped_keys is zero"))?;
        let dhs = KeyPair::from_private(PrivateKey::from_bytes(*Zeroizing::new(r.array()?)));
        let dhr = get_optional(&mut r)?.map(PublicKey::from_bytes);
        let rk = RootKey::from_bytes(*Zeroizing::new(r.array()?));
        let cks = get_optional(&mut r)?.map(ChainKey::from_bytes);
        let ckr = get_optional(&mut r)?.map(ChainKey::from_bytes);
        let (ns, nr, pn) = (r.u32()?, r.u32()?, r.u32()?);
        if ckr.is_some() && dhr.is_none() {
            return Err(Error::InvalidState(
                "a receiving chain without a peer ratchet key",
            ));
        }
        let previous_count = usize::from(r.u8()?);
        if previous_count > MAX_PREVIOUS_RECEIVING_KEYS {
            return Err(Error::InvalidState("too many previous receiving keys"));
        }
        let mut previous_dhr = VecDeque::with_capacity(previous_count);
        for _ in 0..previous_count {
            previous_dhr.push_back(PublicKey::from_bytes(r.array()?));
        }
        let skipped_count = r.u32()?;
        if skipped_count > config.max_stored_skipped_keys {
            return Err(Error::InvalidState(
                "more skipped keys than the configured cap",
            ));
        }
        // Each entry is 68 bytes; check before allocating anything per entry.
        let table_len = usize::try_from(skipped_count)
            .ok()
            .and_then(|c| c.checked_mul(68));
        if table_len != Some(r.remaining().len()) {
            return Err(Error::InvalidState(
                "skipped-key table length does not match its count",
            ));
        }
        let mut skipped = SkippedKeys::default();
        let cap = usize::try_from(config.max_stored_skipped_keys).unwrap_or(usize::MAX);
        for _ in 0..skipped_count {
            let dh = PublicKey::from_bytes(r.array()?);
            let n = r.u32()?;
            let mk = MessageKey::from_bytes(*Zeroizing::new(r.array()?));
            // The count is within the cap, so nothing is evicted here.
            if skipped.insert(dh, n, mk, cap) {
                return Err(Error::InvalidState("duplicate skipped-key entry"));
            }
        }
        r.finish(Error::InvalidState("trailing bytes"))?;
        Ok(Session {
            suite,
            config,
            role,
            dhs,
            dhr,
            rk,
            cks,
            ckr,
            ns,
            nr,
            pn,
            skipped,
            previous_dhr,
        })
    }
}
