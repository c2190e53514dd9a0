//! The PQXDH suites of libsignal's wire family (`docs/PQXDH.md`): PQXDH in
//! front of `signal-v3`'s Double Ratchet, with protocol version 4 on the wire.
//!
//! * `signal-pqxdh-kyber1024` is libsignal's PQXDH as it shipped (2023) and
//!   as `@signalapp/libsignal-client` still speaks it: round-3 Kyber-1024
//!   (type `0x08`), KDF info `WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024`.
//! * `signal-pqxdh-mlkem1024` is the same protocol with the KEM the current
//!   PQXDH specification names, ML-KEM-1024 (type `0x0A`), and its own info
//!   `WhisperText_X25519_SHA-256_ML-KEM-1024`: our choice, made once in
//!   `docs/PQXDH.md` §2 (libsignal defines no ML-KEM-1024 info string).
//!
//! Both: version byte `0x44` on every message; `PreKeySignalMessage` is the
//! v3 `PreKeyWhisperMessage` plus field 7 (`kyberPreKeyId`, uint32) and
//! field 8 (`kyberCiphertext`, `type ‖ CT`), both required. The ratchet is
//! `signal-v3`'s (same KDFs, AES-256-CBC and truncated MAC) without the
//! Sparse Post-Quantum Ratchet: a `SignalMessage` field 5 (SPQR's) is
//! ignored like any unknown protobuf field, and never sent (`docs/SPQR.md`
//! is the plan for the triple ratchet).

use prost::Message as _;

use crate::agreement::KeyAgreement;
use crate::error::{Error, Result};
use crate::kem::{KYBER1024, ML_KEM_1024};
use crate::pqxdh::{KemInitial, Pqxdh};
use crate::x3dh::{InitialMessage, InitialMessageCodec, SignatureConformance};

use super::signal_v3::{Codec, PreKeyWhisperMessageProto, Ratchet, uint32};
use super::{CipherSuite, MessageCodec, RatchetKdf};

/// The version byte of every message of the PQXDH suites: version 4 (high
/// nibble, the message's) and current version 4 (low nibble).
pub const VERSION: u8 = 0x44;
/// HKDF info of `signal-pqxdh-kyber1024`'s PQXDH KDF (libsignal's).
pub const INFO_KYBER1024: &[u8] = b"WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024";
/// HKDF info of `signal-pqxdh-mlkem1024`'s PQXDH KDF (ours, `docs/PQXDH.md` §2).
pub const INFO_ML_KEM_1024: &[u8] = b"WhisperText_X25519_SHA-256_ML-KEM-1024";

/// A PQXDH suite of libsignal's wire family; the two values differ in their
/// key agreement only.
#[derive(Debug)]
pub struct SignalPqxdhSuite {
    name: &'static str,
    id: u8,
    agreement: &'static Pqxdh,
}

static CODEC: Codec = Codec { version: VERSION };

static KYBER_AGREEMENT: Pqxdh = Pqxdh {
    info: INFO_KYBER1024,
    kem: &KYBER1024,
    initial: &InitialCodec,
    signatures: SignatureConformance::Libsignal,
};

static ML_KEM_AGREEMENT: Pqxdh = Pqxdh {
    info: INFO_ML_KEM_1024,
    kem: &ML_KEM_1024,
    initial: &InitialCodec,
    signatures: SignatureConformance::Libsignal,
};

/// `signal-pqxdh-kyber1024`: libsignal's PQXDH (round-3 Kyber-1024).
pub static SIGNAL_PQXDH_KYBER1024_SUITE: SignalPqxdhSuite = SignalPqxdhSuite {
    name: "signal-pqxdh-kyber1024",
    id: 4,
    agreement: &KYBER_AGREEMENT,
};

/// `signal-pqxdh-mlkem1024`: the same with ML-KEM-1024.
pub static SIGNAL_PQXDH_MLKEM1024_SUITE: SignalPqxdhSuite = SignalPqxdhSuite {
    name: "signal-pqxdh-mlkem1024",
    id: 5,
    agreement: &ML_KEM_AGREEMENT,
};

impl CipherSuite for SignalPqxdhSuite {
    fn name(&self) -> &'static str {
        self.name
    }

    fn id(&self) -> u8 {
        self.id
    }

    fn ratchet(&self) -> &dyn RatchetKdf {
        &Ratchet
    }

    fn codec(&self) -> &dyn MessageCodec {
        &CODEC
    }

    fn key_agreement(&self) -> &dyn KeyAgreement {
        self.agreement
    }
}

/// libsignal's `PreKeySignalMessage` v4: the v3 fields and the KEM's two.
#[derive(Clone, PartialEq, prost::Message)]
struct KyberFieldsProto {
    #[prost(uint64, optional, tag = "7")]
    kyber_pre_key_id: Option<u64>,
    #[prost(bytes = "vec", optional, tag = "8")]
    kyber_ciphertext: Option<Vec<u8>>,
}

/// The v4 `PreKeySignalMessage` after the version byte: the v3 message's six
/// fields (decoded by the v3 schema, which skips 7 and 8) and fields 7–8.
#[derive(Debug, Clone, Copy)]
struct InitialCodec;

impl InitialMessageCodec for InitialCodec {
    fn encode(&self, initial: &InitialMessage) -> Vec<u8> {
        let v3 = PreKeyWhisperMessageProto::of(initial);
        let kyber = KyberFieldsProto {
            kyber_pre_key_id: initial.kem.as_ref().map(|k| k.prekey_id.into()),
            kyber_ciphertext: initial.kem.as_ref().map(|k| k.ciphertext.clone()),
        };
        let mut out = Vec::with_capacity(1 + v3.encoded_len() + kyber.encoded_len());
        out.push(VERSION);
        // Encoding into a Vec only fails when capacity cannot grow; fields
        // 7 and 8 follow 1–6, in field order as libsignal writes them.
        let _ = v3.encode(&mut out);
        let _ = kyber.encode(&mut out);
        out
    }

    fn decode(&self, bytes: &[u8]) -> Result<InitialMessage> {
        let (&version, body) = bytes
            .split_first()
            .ok_or(Error::Malformed("empty initial message"))?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let malformed = |_| Error::Malformed("not a PreKeySignalMessage protobuf");
        let v3 = PreKeyWhisperMessageProto::decode(body).map_err(malformed)?;
        let kyber = KyberFieldsProto::decode(body).map_err(malformed)?;
        let (Some(kyber_id), Some(ciphertext)) = (kyber.kyber_pre_key_id, kyber.kyber_ciphertext)
        else {
            return Err(Error::Malformed(
                "a PreKeySignalMessage field is missing (kyberPreKeyId, kyberCiphertext)",
            ));
        };
        let mut initial = v3.into_initial()?;
        initial.kem = Some(KemInitial {
            prekey_id: uint32(kyber_id)?,
            ciphertext,
        });
        Ok(initial)
    }
}
