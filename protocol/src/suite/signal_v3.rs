//! The `signal-v3` suite: libsignal's protocol version 3 wire format, as
//! WhatsApp-era clients, libsignal-node and python-axolotl speak it.
//! `docs/SIGNAL-V3.md` gives every byte; the state machine is the default
//! suite's ([`crate::session`]).
//!
//! * KDFs: HKDF-SHA256 with the infos `WhisperText` (X3DH), `WhisperRatchet`
//!   (root chain) and `WhisperMessageKeys` (message keys, 80 bytes).
//! * Cipher: AES-256-CBC with PKCS#7, then HMAC-SHA256 truncated to 8 bytes
//!   over `Encode(IK_sender) ‖ Encode(IK_receiver) ‖ 0x33 ‖ protobuf`.
//! * Encodings: protobuf `WhisperMessage` and `PreKeyWhisperMessage` (via
//!   `prost`), 33-byte `0x05`-prefixed public keys, version byte `0x33`.

use std::borrow::Cow;

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use prost::Message as _;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::agreement::KeyAgreement;
use crate::chain_key::{ChainKey, MessageKey, kdf_ck};
use crate::consts::KEY_LEN;
use crate::error::{Error, Result};
use crate::header::Header;
use crate::keys::{DhOutput, PublicKey};
use crate::primitives::{Secret, hkdf_sha256, hmac_sha256};
use crate::root_key::{RootKey, kdf_rk};
use crate::session::Role;
use crate::x3dh::{AD_LEN, InitialMessage, InitialMessageCodec, SignatureConformance, X3dh};

use super::{
    CipherSuite, FieldRole, MessageCodec, MessageLayout, RatchetKdf, WireEncoding, WireField,
};

/// HKDF info of the X3DH KDF.
pub const INFO_TEXT: &[u8] = b"WhisperText";
/// HKDF info of `KDF_RK`.
pub const INFO_RATCHET: &[u8] = b"WhisperRatchet";
/// HKDF info of the message-key expansion.
pub const INFO_MESSAGE_KEYS: &[u8] = b"WhisperMessageKeys";
/// The version byte of every message: current and minimum version 3.
pub const VERSION: u8 = 0x33;
/// Length of the truncated MAC.
pub const MAC_LEN: usize = 8;
/// The curve-type byte of an encoded public key.
pub const KEY_TYPE: u8 = 0x05;
/// Length of the message-key expansion: AES key ‖ MAC key ‖ IV.
pub const MESSAGE_KEYS_LEN: usize = 80;

const AES_KEY_LEN: usize = 32;
const MAC_KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const ENCODED_KEY_LEN: usize = KEY_LEN + 1;

/// The `signal-v3` cipher suite.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignalV3Suite;

/// The one value of [`SignalV3Suite`].
pub static SIGNAL_V3_SUITE: SignalV3Suite = SignalV3Suite;

/// libsignal's `WhisperMessage` (proto2; every field `optional`).
///
/// The counters are `uint32` in libsignal's schema but are read here as
/// `uint64`: the wire encoding (a varint) is the same, and a value above
/// 2^32 − 1 must be refused (SIGNAL-V3.md §3 [R-V3-VARINT]) rather than
/// truncated to its low 32 bits, as a `uint32` decoder does.
#[derive(Clone, PartialEq, prost::Message)]
struct WhisperMessageProto {
    #[prost(bytes = "vec", optional, tag = "1")]
    ratchet_key: Option<Vec<u8>>,
    #[prost(uint64, optional, tag = "2")]
    counter: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    previous_counter: Option<u64>,
    #[prost(bytes = "vec", optional, tag = "4")]
    ciphertext: Option<Vec<u8>>,
}

/// libsignal's `PreKeyWhisperMessage` (proto2; every field `optional`);
/// its `uint32` fields are read as `uint64` for the reason given on
/// [`WhisperMessageProto`].
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct PreKeyWhisperMessageProto {
    #[prost(uint64, optional, tag = "1")]
    pub(super) pre_key_id: Option<u64>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub(super) base_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub(super) identity_key: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub(super) message: Option<Vec<u8>>,
    #[prost(uint64, optional, tag = "5")]
    pub(super) registration_id: Option<u64>,
    #[prost(uint64, optional, tag = "6")]
    pub(super) signed_pre_key_id: Option<u64>,
}

/// A `uint32` field read as a varint: above 2^32 − 1 is `Malformed`.
pub(super) fn uint32(value: u64) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Malformed("a uint32 field is above 2^32 - 1"))
}

/// `Encode(PK) = 0x05 ‖ u`.
pub fn encode_key(key: &PublicKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENCODED_KEY_LEN);
    out.push(KEY_TYPE);
    out.extend_from_slice(key.as_bytes());
    out
}

/// Inverse of [`encode_key`]: exactly 33 bytes starting with `0x05`.
pub fn decode_key(bytes: &[u8]) -> Result<PublicKey> {
    match bytes.split_first() {
        Some((&KEY_TYPE, u)) if u.len() == KEY_LEN => PublicKey::from_slice(u),
        Some((&KEY_TYPE, _)) => Err(Error::InvalidKey("an encoded key is 33 bytes")),
        Some(_) => Err(Error::InvalidKey("key type byte is not 0x05")),
        None => Err(Error::InvalidKey("empty key")),
    }
}

/// The three keys one message key expands to.
struct MessageKeys {
    bytes: Secret<MESSAGE_KEYS_LEN>,
}

impl MessageKeys {
    fn derive(mk: &MessageKey) -> Self {
        Self {
            bytes: hkdf_sha256::<MESSAGE_KEYS_LEN>(None, mk.as_bytes(), INFO_MESSAGE_KEYS),
        }
    }

    fn part(&self, from: usize, len: usize) -> &[u8] {
        self.bytes.get(from..from + len).unwrap_or_default()
    }

    fn aes_key(&self) -> &[u8] {
        self.part(0, AES_KEY_LEN)
    }

    fn mac_key(&self) -> &[u8] {
        self.part(AES_KEY_LEN, MAC_KEY_LEN)
    }

    fn iv(&self) -> &[u8] {
        self.part(AES_KEY_LEN + MAC_KEY_LEN, IV_LEN)
    }

    fn mac(&self, ad: &[u8], version_and_body: &[u8]) -> [u8; MAC_LEN] {
        let full = hmac_sha256(self.mac_key(), &[ad, version_and_body]);
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(full.get(..MAC_LEN).unwrap_or_default());
        out
    }
}

/// A parsed `WhisperMessage`: header, ciphertext, and where the MAC starts.
struct Parsed {
    header: Header,
    ciphertext: Vec<u8>,
    /// `0x33 ‖ protobuf`: what the MAC covers after the identities.
    authenticated_len: usize,
}

fn parse(message: &[u8], expected: u8) -> Result<Parsed> {
    let (&version, _) = message
        .split_first()
        .ok_or(Error::Malformed("empty message"))?;
    if version != expected {
        return Err(Error::UnsupportedVersion(version));
    }
    let authenticated_len = message
        .len()
        .checked_sub(MAC_LEN)
        .filter(|&l| l >= 1)
        .ok_or(Error::Malformed("truncated: shorter than version and MAC"))?;
    let body = message
        .get(1..authenticated_len)
        .ok_or(Error::Malformed("truncated"))?;
    let proto = WhisperMessageProto::decode(body)
        .map_err(|_| Error::Malformed("not a WhisperMessage protobuf"))?;
    let (Some(key), Some(n), Some(previous), Some(ciphertext)) = (
        proto.ratchet_key,
        proto.counter,
        proto.previous_counter,
        proto.ciphertext,
    ) else {
        return Err(Error::Malformed("a WhisperMessage field is missing"));
    };
    Ok(Parsed {
        header: Header {
            dh: decode_key(&key)?,
            pn: uint32(previous)?.saturating_add(1),
            n: uint32(n)?,
        },
        ciphertext,
        authenticated_len,
    })
}

/// Reads a protobuf varint at `*pos`, advancing it.
fn varint(bytes: &[u8], pos: &mut usize) -> Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes
            .get(*pos)
            .ok_or(Error::Malformed("truncated varint"))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Error::Malformed("varint longer than 10 bytes"))
}

/// The fields of a message [`parse`] accepts, found by walking its protobuf.
fn layout(message: &[u8], version: u8) -> Result<MessageLayout> {
    let parsed = parse(message, version)?;
    let end = parsed.authenticated_len;
    let mut fields = vec![WireField::new(FieldRole::Version, 0..1, "version byte")];
    let mut pos = 1;
    while pos < end {
        let start = pos;
        let tag = varint(message, &mut pos)?;
        fields.push(WireField::new(
            FieldRole::Structure,
            start..pos,
            "protobuf tag or length",
        ));
        let (field, wire_type) = (tag >> 3, tag & 7);
        let value_start = match wire_type {
            0 => pos,
            2 => {
                let len_start = pos;
                let len = usize::try_from(varint(message, &mut pos)?)
                    .map_err(|_| Error::Malformed("length"))?;
                fields.push(WireField::new(
                    FieldRole::Structure,
                    len_start..pos,
                    "protobuf tag or length",
                ));
                let value_start = pos;
                pos = pos
                    .checked_add(len)
                    .filter(|&e| e <= end)
                    .ok_or(Error::Malformed("truncated field"))?;
                value_start
            }
            _ => return Err(Error::Malformed("unexpected wire type")),
        };
        if wire_type == 0 {
            varint(message, &mut pos)?;
        }
        match field {
            1 if pos - value_start == ENCODED_KEY_LEN => {
                fields.push(WireField::new(
                    FieldRole::KeyType,
                    value_start..value_start + 1,
                    "key type byte",
                ));
                fields.push(WireField::new(
                    FieldRole::RatchetKey,
                    value_start + 1..pos,
                    "ratchet key",
                ));
            }
            2 => fields.push(WireField::new(FieldRole::Counter, value_start..pos, "N")),
            3 => fields.push(WireField::new(
                FieldRole::PreviousCounter,
                value_start..pos,
                "PN",
            )),
            4 => fields.push(WireField::new(
                FieldRole::Ciphertext,
                value_start..pos,
                "ciphertext",
            )),
            1 => return Err(Error::InvalidKey("an encoded key is 33 bytes")),
            _ => return Err(Error::Malformed("unknown WhisperMessage field")),
        }
    }
    fields.push(WireField::new(FieldRole::Tag, end..message.len(), "MAC"));
    Ok(MessageLayout { fields })
}

impl CipherSuite for SignalV3Suite {
    fn name(&self) -> &'static str {
        "signal-v3"
    }

    fn id(&self) -> u8 {
        2
    }

    fn ratchet(&self) -> &dyn RatchetKdf {
        &Ratchet
    }

    fn codec(&self) -> &dyn MessageCodec {
        &CODEC
    }

    fn key_agreement(&self) -> &dyn KeyAgreement {
        &X3DH
    }
}

/// `signal-v3`'s ratchet KDFs: `WhisperRatchet` root chain, 80-byte
/// `WhisperMessageKeys` expansion.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ratchet;

impl RatchetKdf for Ratchet {
    fn kdf_rk(&self, rk: &RootKey, dh_out: &DhOutput) -> (RootKey, ChainKey) {
        kdf_rk(rk, dh_out, INFO_RATCHET)
    }

    fn kdf_ck(&self, ck: &ChainKey) -> (ChainKey, MessageKey) {
        kdf_ck(ck)
    }

    fn message_keys(&self, mk: &MessageKey) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(MessageKeys::derive(mk).bytes.to_vec())
    }
}

/// `signal-v3`'s `WhisperMessage`: AES-256-CBC, truncated HMAC-SHA256,
/// under a version byte (`0x33` here; the PQXDH suites' `0x44`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Codec {
    /// The version byte every message starts with, and the only one accepted.
    pub(super) version: u8,
}

static CODEC: Codec = Codec { version: VERSION };

impl MessageCodec for Codec {
    fn order_ad<'a>(&self, ad: &'a [u8], sender: Role) -> Result<Cow<'a, [u8]>> {
        if ad.len() != AD_LEN
            || ad.first() != Some(&KEY_TYPE)
            || ad.get(ENCODED_KEY_LEN) != Some(&KEY_TYPE)
        {
            return Err(Error::InvalidKey(
                "signal-v3 associated data is two encoded identity keys (66 bytes)",
            ));
        }
        match sender {
            Role::Alice => Ok(Cow::Borrowed(ad)),
            Role::Bob => {
                let (alice, bob) = ad.split_at(ENCODED_KEY_LEN);
                Ok(Cow::Owned([bob, alice].concat()))
            }
        }
    }

    fn seal(
        &self,
        mk: &MessageKey,
        header: &Header,
        plaintext: &[u8],
        ad: &[u8],
    ) -> Result<Vec<u8>> {
        let keys = MessageKeys::derive(mk);
        let cipher = cbc::Encryptor::<Aes256>::new_from_slices(keys.aes_key(), keys.iv())
            .map_err(|_| Error::InvalidKey("AES-256-CBC key or IV length"))?;
        let proto = WhisperMessageProto {
            ratchet_key: Some(encode_key(&header.dh)),
            counter: Some(header.n.into()),
            previous_counter: Some(header.pn.saturating_sub(1).into()),
            ciphertext: Some(cipher.encrypt_padded_vec::<Pkcs7>(plaintext)),
        };
        let mut message = Vec::with_capacity(1 + proto.encoded_len() + MAC_LEN);
        message.push(self.version);
        proto
            .encode(&mut message)
            .map_err(|_| Error::Malformed("message too long to encode"))?;
        let mac = keys.mac(ad, &message);
        message.extend_from_slice(&mac);
        Ok(message)
    }

    fn parse_header(&self, message: &[u8]) -> Result<Header> {
        parse(message, self.version).map(|p| p.header)
    }

    fn open(&self, mk: &MessageKey, message: &[u8], ad: &[u8]) -> Result<Vec<u8>> {
        let parsed = parse(message, self.version)?;
        let (authenticated, mac) = message
            .split_at_checked(parsed.authenticated_len)
            .ok_or(Error::Malformed("truncated"))?;
        let keys = MessageKeys::derive(mk);
        if !bool::from(keys.mac(ad, authenticated).ct_eq(mac)) {
            return Err(Error::AuthenticationFailed);
        }
        let cipher = cbc::Decryptor::<Aes256>::new_from_slices(keys.aes_key(), keys.iv())
            .map_err(|_| Error::InvalidKey("AES-256-CBC key or IV length"))?;
        // A bad padding under a valid MAC means the sender was not this
        // suite: refused like any message that does not verify.
        cipher
            .decrypt_padded_vec::<Pkcs7>(&parsed.ciphertext)
            .map_err(|_| Error::AuthenticationFailed)
    }

    fn wire_encoding(&self) -> WireEncoding {
        WireEncoding::WhisperProtobuf
    }

    fn message_layout(&self, message: &[u8]) -> Result<MessageLayout> {
        layout(message, self.version)
    }
}

/// X3DH with `WhisperText` and the `PreKeyWhisperMessage` initial message.
/// libsignal expands 64 bytes and keeps the first 32 as the root key; HKDF's
/// first block does not depend on the output length, so the shared X3DH KDF
/// gives the same key.
/// libsignal's verifier defines the suite's signatures (SIGNAL-V3.md §6).
static X3DH: X3dh = X3dh {
    info: INFO_TEXT,
    initial: &InitialCodec,
    signatures: SignatureConformance::Libsignal,
};

/// libsignal's `PreKeyWhisperMessage` after the version byte.
#[derive(Debug, Clone, Copy)]
struct InitialCodec;

impl InitialMessageCodec for InitialCodec {
    fn encode(&self, initial: &InitialMessage) -> Vec<u8> {
        let proto = PreKeyWhisperMessageProto::of(initial);
        let mut out = Vec::with_capacity(1 + proto.encoded_len());
        out.push(VERSION);
        // Encoding into a Vec only fails when capacity cannot grow.
        let _ = proto.encode(&mut out);
        out
    }

    fn decode(&self, bytes: &[u8]) -> Result<InitialMessage> {
        let (&version, body) = bytes
            .split_first()
            .ok_or(Error::Malformed("empty initial message"))?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        PreKeyWhisperMessageProto::decode(body)
            .map_err(|_| Error::Malformed("not a PreKeyWhisperMessage protobuf"))?
            .into_initial()
    }
}

impl PreKeyWhisperMessageProto {
    /// The six v3 fields of `initial` (a v4 message adds fields 7 and 8).
    pub(super) fn of(initial: &InitialMessage) -> Self {
        Self {
            pre_key_id: initial.one_time_prekey_id.map(u64::from),
            base_key: Some(encode_key(&initial.ephemeral_key)),
            identity_key: Some(encode_key(&initial.identity_key)),
            message: Some(initial.message.clone()),
            registration_id: Some(initial.registration_id.into()),
            signed_pre_key_id: Some(initial.signed_prekey_id.into()),
        }
    }

    /// The initial message these fields carry (no KEM fields): every field
    /// but `preKeyId` required, a non-empty ratchet message, 33-byte keys.
    pub(super) fn into_initial(self) -> Result<InitialMessage> {
        let (Some(base_key), Some(identity_key), Some(message), Some(registration_id), Some(spk)) = (
            self.base_key,
            self.identity_key,
            self.message,
            self.registration_id,
            self.signed_pre_key_id,
        ) else {
            return Err(Error::Malformed("a PreKeyWhisperMessage field is missing"));
        };
        if message.is_empty() {
            return Err(Error::Malformed(
                "initial message carries no ratchet message",
            ));
        }
        Ok(InitialMessage {
            identity_key: decode_key(&identity_key)?,
            ephemeral_key: decode_key(&base_key)?,
            signed_prekey_id: uint32(spk)?,
            one_time_prekey_id: self.pre_key_id.map(uint32).transpose()?,
            registration_id: uint32(registration_id)?,
            kem: None,
            message,
        })
    }
}
