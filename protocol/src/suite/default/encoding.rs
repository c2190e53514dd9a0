//! The default suite's binary encodings (`docs/SPEC.md` §4, §6): the 40-byte
//! header and the initial message. Fixed-size fields, big-endian integers,
//! raw 32-byte X25519 keys.

use crate::codec::Reader;
use crate::consts::KEY_LEN;
use crate::error::{Error, Result};
use crate::header::Header;
use crate::keys::PublicKey;
use crate::x3dh::{InitialMessage, InitialMessageCodec};

/// Length of an encoded header: dh ‖ pn ‖ n.
pub const HEADER_LEN: usize = KEY_LEN + 4 + 4;

/// First byte of an X3DH initial message.
pub const INITIAL_MESSAGE_VERSION: u8 = 0x02;

/// `dh (32) ‖ pn (u32 big-endian) ‖ n (u32 big-endian)`.
pub fn encode_header(header: &Header) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    let (dh, rest) = out.split_at_mut(KEY_LEN);
    let (pn, n) = rest.split_at_mut(4);
    dh.copy_from_slice(header.dh.as_bytes());
    pn.copy_from_slice(&header.pn.to_be_bytes());
    n.copy_from_slice(&header.n.to_be_bytes());
    out
}

/// Inverse of [`encode_header`]; the input must be exactly 40 bytes.
pub fn decode_header(bytes: &[u8]) -> Result<Header> {
    let bytes: &[u8; HEADER_LEN] = bytes
        .try_into()
        .map_err(|_| Error::Malformed("a header is 40 bytes"))?;
    let (dh, rest) = bytes.split_at(KEY_LEN);
    let (pn, n) = rest.split_at(4);
    Ok(Header {
        dh: PublicKey::from_slice(dh)?,
        pn: u32::from_be_bytes(pn.try_into().map_err(|_| Error::Malformed("pn"))?),
        n: u32::from_be_bytes(n.try_into().map_err(|_| Error::Malformed("n"))?),
    })
}

/// The default suite's initial message:
/// `0x02 ‖ IKa (32) ‖ EKa (32) ‖ spk_id (u32be) ‖ flag (0x00 | 0x01) ‖ [opk_id (u32be)] ‖ ratchet message`.
/// It carries no registration id (decoded as 0).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultInitialCodec;

impl InitialMessageCodec for DefaultInitialCodec {
    fn encode(&self, initial: &InitialMessage) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 2 * KEY_LEN + 9 + initial.message.len());
        out.push(INITIAL_MESSAGE_VERSION);
        out.extend_from_slice(initial.identity_key.as_bytes());
        out.extend_from_slice(initial.ephemeral_key.as_bytes());
        out.extend_from_slice(&initial.signed_prekey_id.to_be_bytes());
        match initial.one_time_prekey_id {
            Some(id) => {
                out.push(1);
                out.extend_from_slice(&id.to_be_bytes());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&initial.message);
        out
    }

    fn decode(&self, bytes: &[u8]) -> Result<InitialMessage> {
        let mut r = Reader::new(bytes, Error::Malformed("truncated initial message"));
        let version = r.u8()?;
        if version != INITIAL_MESSAGE_VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let identity_key = PublicKey::from_bytes(r.array()?);
        let ephemeral_key = PublicKey::from_bytes(r.array()?);
        let signed_prekey_id = r.u32()?;
        let one_time_prekey_id = match r.u8()? {
            0 => None,
            1 => Some(r.u32()?),
            _ => return Err(Error::Malformed("one-time prekey flag is neither 0 nor 1")),
        };
        let message = r.remaining().to_vec();
        if message.is_empty() {
            return Err(Error::Malformed(
                "initial message carries no ratchet message",
            ));
        }
        Ok(InitialMessage {
            identity_key,
            ephemeral_key,
            signed_prekey_id,
            one_time_prekey_id,
            registration_id: 0,
            kem: None,
            message,
        })
    }
}
