//! The request and output types of every operation: each is exactly the
//! JSON object the shim protocol writes for it (`docs/SHIM.md` §4), so the
//! value an in-process caller builds is the one a shim reads.

use serde::{Deserialize, Serialize};

use super::{ImplResult, MessageType, Role, SessionHandle};

/// Serde spellings of byte fields: lowercase hex, as in the vector files.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::vectors::Hex;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Hex::deserialize(d).map(|h| h.0)
    }

    /// An optional byte string, absent when `None`.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            bytes.as_deref().map(hex::encode).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<Hex>::deserialize(d).map(|h| h.map(|h| h.0))
        }
    }

    /// A list of byte strings.
    pub mod list {
        use super::*;

        pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(list.iter().map(hex::encode))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
            Vec::<Hex>::deserialize(d).map(|l| l.into_iter().map(|h| h.0).collect())
        }
    }

    /// Prekeys as `[{"id": N, "privateKey": "…"}]`.
    pub mod prekeys {
        use super::*;

        #[derive(Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct PrekeyEntry {
            id: u32,
            private_key: Hex,
        }

        pub fn serialize<S: Serializer>(list: &[(u32, Vec<u8>)], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(list.iter().map(|(id, key)| PrekeyEntry {
                id: *id,
                private_key: Hex::from(key.as_slice()),
            }))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<(u32, Vec<u8>)>, D::Error> {
            Vec::<PrekeyEntry>::deserialize(d)
                .map(|l| l.into_iter().map(|e| (e.id, e.private_key.0)).collect())
        }
    }

    /// KEM prekeys as `[{"id": N, "publicKey": "…", "privateKey": "…", "lastResort": b}]`.
    pub mod kem_prekeys {
        use super::*;
        use crate::implementation::KemPrekey;

        #[derive(Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Entry {
            id: u32,
            public_key: Hex,
            private_key: Hex,
            last_resort: bool,
        }

        pub fn serialize<S: Serializer>(list: &[KemPrekey], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(list.iter().map(|k| Entry {
                id: k.id,
                public_key: Hex::from(k.public_key.as_slice()),
                private_key: Hex::from(k.private_key.as_slice()),
                last_resort: k.last_resort,
            }))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<KemPrekey>, D::Error> {
            Vec::<Entry>::deserialize(d).map(|l| {
                l.into_iter()
                    .map(|e| KemPrekey {
                        id: e.id,
                        public_key: e.public_key.0,
                        private_key: e.private_key.0,
                        last_resort: e.last_resort,
                    })
                    .collect()
            })
        }
    }

    /// `x3dh_accept` outcomes: `{plaintext, …}` or `{"error": {class, message}}`.
    pub mod outcomes {
        use super::*;
        use crate::implementation::{ImplError, ImplResult, X3dhAccepted};

        #[derive(Serialize, Deserialize)]
        #[serde(untagged)]
        enum Outcome {
            Refused { error: ImplError },
            Accepted(X3dhAccepted),
        }

        pub fn serialize<S: Serializer>(
            list: &[ImplResult<X3dhAccepted>],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(list.iter().map(|o| match o {
                Ok(a) => Outcome::Accepted(a.clone()),
                Err(e) => Outcome::Refused { error: e.clone() },
            }))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<ImplResult<X3dhAccepted>>, D::Error> {
            Vec::<Outcome>::deserialize(d).map(|l| {
                l.into_iter()
                    .map(|o| match o {
                        Outcome::Accepted(a) => Ok(a),
                        Outcome::Refused { error } => Err(error),
                    })
                    .collect()
            })
        }
    }
}

/// `kdf_rk`: `KDF_RK(rk, dh_out)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfRk {
    /// Suite name.
    pub suite: String,
    /// RK.
    #[serde(with = "hex_bytes")]
    pub root_key: Vec<u8>,
    /// The DH output.
    #[serde(with = "hex_bytes")]
    pub dh_output: Vec<u8>,
}

/// `kdf_rk` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfRkOutput {
    /// The next root key.
    #[serde(with = "hex_bytes")]
    pub root_key: Vec<u8>,
    /// The new chain key.
    #[serde(with = "hex_bytes")]
    pub chain_key: Vec<u8>,
}

/// `kdf_ck`: `KDF_CK(ck)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfCk {
    /// Suite name.
    pub suite: String,
    /// CK.
    #[serde(with = "hex_bytes")]
    pub chain_key: Vec<u8>,
}

/// `kdf_ck` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfCkOutput {
    /// The next chain key.
    #[serde(with = "hex_bytes")]
    pub chain_key: Vec<u8>,
    /// The message key.
    #[serde(with = "hex_bytes")]
    pub message_key: Vec<u8>,
}

/// `message_keys`: the suite's expansion of a message key into its cipher keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageKeys {
    /// Suite name.
    pub suite: String,
    /// mk.
    #[serde(with = "hex_bytes")]
    pub message_key: Vec<u8>,
}

/// `message_keys` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageKeysOutput {
    /// The expansion (default suite: AES key 32 ‖ nonce 12).
    #[serde(with = "hex_bytes")]
    pub keys: Vec<u8>,
}

/// `seal`: `ENCRYPT(mk, plaintext, CONCAT(ad, header))` of one message with
/// the given header fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seal {
    /// Suite name.
    pub suite: String,
    /// mk.
    #[serde(with = "hex_bytes")]
    pub message_key: Vec<u8>,
    /// The header's ratchet public key.
    #[serde(with = "hex_bytes")]
    pub ratchet_key: Vec<u8>,
    /// The header's PN.
    pub pn: u32,
    /// The header's N.
    pub n: u32,
    /// Plaintext.
    #[serde(with = "hex_bytes")]
    pub plaintext: Vec<u8>,
    /// Associated data.
    #[serde(with = "hex_bytes")]
    pub ad: Vec<u8>,
}

/// `seal` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealOutput {
    /// The whole wire message.
    #[serde(with = "hex_bytes")]
    pub message: Vec<u8>,
}

/// `x3dh_initiate`: Alice's X3DH inputs, all private keys injected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X3dhInitiate {
    /// Suite name.
    pub suite: String,
    /// IKa private key.
    #[serde(with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// EKa private key.
    #[serde(with = "hex_bytes")]
    pub ephemeral_private_key: Vec<u8>,
    /// IKb.
    #[serde(with = "hex_bytes")]
    pub peer_identity_key: Vec<u8>,
    /// SPKb.
    #[serde(with = "hex_bytes")]
    pub peer_signed_prekey: Vec<u8>,
    /// Sig(IKb, Encode(SPKb)).
    #[serde(with = "hex_bytes")]
    pub peer_signed_prekey_signature: Vec<u8>,
    /// OPKb, if used (absent on the wire otherwise).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub peer_one_time_prekey: Option<Vec<u8>>,
}

/// `x3dh_respond`: Bob's X3DH inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X3dhRespond {
    /// Suite name.
    pub suite: String,
    /// IKb private key.
    #[serde(with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// SPKb private key.
    #[serde(with = "hex_bytes")]
    pub signed_prekey_private_key: Vec<u8>,
    /// OPKb private key, if used.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub one_time_prekey_private_key: Option<Vec<u8>>,
    /// IKa.
    #[serde(with = "hex_bytes")]
    pub peer_identity_key: Vec<u8>,
    /// EKa.
    #[serde(with = "hex_bytes")]
    pub peer_ephemeral_key: Vec<u8>,
}

/// What X3DH produces (`x3dh_initiate` and `x3dh_respond` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X3dhOutput {
    /// SK.
    #[serde(with = "hex_bytes")]
    pub shared_key: Vec<u8>,
    /// AD.
    #[serde(with = "hex_bytes")]
    pub associated_data: Vec<u8>,
}

/// `x3dh_accept`: Bob's prekey store and the initial messages it receives,
/// in order (spec §6.5). The store persists from one message to the next, so
/// a replayed message meets the store its first copy left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X3dhAccept {
    /// Suite name.
    pub suite: String,
    /// IKb private key.
    #[serde(with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// Signed prekeys: (id, private key).
    #[serde(with = "hex_bytes::prekeys")]
    pub signed_prekeys: Vec<(u32, Vec<u8>)>,
    /// One-time prekeys: (id, private key).
    #[serde(with = "hex_bytes::prekeys")]
    pub one_time_prekeys: Vec<(u32, Vec<u8>)>,
    /// Injected ratchet private keys: entry k is the key of the DH ratchet
    /// step that the k-th *accepted* session takes on its first message
    /// (a refused message draws none).
    #[serde(with = "hex_bytes::list")]
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// The initial messages (spec §6.4), accepted one after the other.
    #[serde(with = "hex_bytes::list")]
    pub initial_messages: Vec<Vec<u8>>,
}

/// One initial message accepted: what Bob's new session learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X3dhAccepted {
    /// The first message's plaintext.
    #[serde(with = "hex_bytes")]
    pub plaintext: Vec<u8>,
    /// AD.
    #[serde(with = "hex_bytes")]
    pub associated_data: Vec<u8>,
    /// IKa, for the application to check.
    #[serde(with = "hex_bytes")]
    pub peer_identity_key: Vec<u8>,
}

/// `x3dh_accept` output: one outcome per initial message, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct X3dhAcceptOutput {
    /// Bob's refusal of a message, or what he learned from it.
    #[serde(with = "hex_bytes::outcomes")]
    pub outcomes: Vec<ImplResult<X3dhAccepted>>,
}

/// `pqxdh_initiate`: Alice's PQXDH inputs, all private keys and the KEM's
/// encapsulation randomness injected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PqxdhInitiate {
    /// Suite name.
    pub suite: String,
    /// IKa private key.
    #[serde(with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// EKa private key.
    #[serde(with = "hex_bytes")]
    pub ephemeral_private_key: Vec<u8>,
    /// The KEM's encapsulation randomness `m` (32 bytes).
    #[serde(with = "hex_bytes")]
    pub encapsulation_seed: Vec<u8>,
    /// IKb.
    #[serde(with = "hex_bytes")]
    pub peer_identity_key: Vec<u8>,
    /// SPKb.
    #[serde(with = "hex_bytes")]
    pub peer_signed_prekey: Vec<u8>,
    /// Sig(IKb, Encode(SPKb)).
    #[serde(with = "hex_bytes")]
    pub peer_signed_prekey_signature: Vec<u8>,
    /// `EncodeKEM(PQPKb)`: type byte ‖ key.
    #[serde(with = "hex_bytes")]
    pub peer_kem_prekey: Vec<u8>,
    /// Sig(IKb, EncodeKEM(PQPKb)).
    #[serde(with = "hex_bytes")]
    pub peer_kem_prekey_signature: Vec<u8>,
    /// OPKb, if used (absent on the wire otherwise).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub peer_one_time_prekey: Option<Vec<u8>>,
}

/// `pqxdh_respond`: Bob's PQXDH inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PqxdhRespond {
    /// Suite name.
    pub suite: String,
    /// IKb private key.
    #[serde(with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// SPKb private key.
    #[serde(with = "hex_bytes")]
    pub signed_prekey_private_key: Vec<u8>,
    /// OPKb private key, if used.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub one_time_prekey_private_key: Option<Vec<u8>>,
    /// The KEM prekey's decapsulation key, bare.
    #[serde(with = "hex_bytes")]
    pub kem_prekey_private_key: Vec<u8>,
    /// IKa.
    #[serde(with = "hex_bytes")]
    pub peer_identity_key: Vec<u8>,
    /// EKa.
    #[serde(with = "hex_bytes")]
    pub peer_ephemeral_key: Vec<u8>,
    /// The ciphertext as the initial message carries it: type byte ‖ CT.
    #[serde(with = "hex_bytes")]
    pub kem_ciphertext: Vec<u8>,
}

/// What PQXDH produces (`pqxdh_initiate` and `pqxdh_respond` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PqxdhOutput {
    /// SK.
    #[serde(with = "hex_bytes")]
    pub shared_key: Vec<u8>,
    /// AD.
    #[serde(with = "hex_bytes")]
    pub associated_data: Vec<u8>,
    /// The initiator's ciphertext (type byte ‖ CT); absent from the responder's output.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub kem_ciphertext: Option<Vec<u8>>,
}

/// A KEM prekey of a `pqxdh_accept` store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KemPrekey {
    /// Its id.
    pub id: u32,
    /// The encapsulation key, bare.
    pub public_key: Vec<u8>,
    /// The decapsulation key, bare.
    pub private_key: Vec<u8>,
    /// Kept after use (last resort) or deleted after use (one-time).
    pub last_resort: bool,
}

/// `pqxdh_accept`: [`X3dhAccept`] with KEM prekeys; the output is
/// `x3dh_accept`'s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PqxdhAccept {
    /// Suite name.
    pub suite: String,
    /// IKb private key.
    #[serde(with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// Signed prekeys: (id, private key).
    #[serde(with = "hex_bytes::prekeys")]
    pub signed_prekeys: Vec<(u32, Vec<u8>)>,
    /// One-time prekeys: (id, private key).
    #[serde(with = "hex_bytes::prekeys")]
    pub one_time_prekeys: Vec<(u32, Vec<u8>)>,
    /// KEM prekeys.
    #[serde(with = "hex_bytes::kem_prekeys")]
    pub kem_prekeys: Vec<KemPrekey>,
    /// Injected ratchet private keys, as in [`X3dhAccept`].
    #[serde(with = "hex_bytes::list")]
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// The initial messages, accepted one after the other.
    #[serde(with = "hex_bytes::list")]
    pub initial_messages: Vec<Vec<u8>>,
}

/// `init_session`: everything needed to start one side of a Double Ratchet
/// session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInit {
    /// Suite name.
    pub suite: String,
    /// Alice or Bob.
    pub role: Role,
    /// SK.
    #[serde(with = "hex_bytes")]
    pub shared_key: Vec<u8>,
    /// Alice: Bob's ratchet public key. Bob: his ratchet private key.
    #[serde(with = "hex_bytes")]
    pub ratchet_key: Vec<u8>,
    /// Private keys, in order, for this party's DH ratchet key generations:
    /// entry k is the key pair of its k-th committed ratchet step (Alice's
    /// entry 0 is the key RatchetInitAlice generates).
    #[serde(with = "hex_bytes::list")]
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// `MAX_SKIP` for this session, when the vector sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_skip: Option<u32>,
    /// Cap on stored skipped keys, when the vector sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stored_skipped_keys: Option<u32>,
}

/// The output of every operation that starts a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOutput {
    /// The new session.
    pub session: SessionHandle,
}

/// `encrypt`: RatchetEncrypt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encrypt {
    /// The session.
    pub session: SessionHandle,
    /// Plaintext.
    #[serde(with = "hex_bytes")]
    pub plaintext: Vec<u8>,
    /// Associated data.
    #[serde(with = "hex_bytes")]
    pub ad: Vec<u8>,
}

impl Encrypt {
    /// `plaintext` under `ad` on `session`.
    pub fn new(session: SessionHandle, plaintext: &[u8], ad: &[u8]) -> Self {
        Self {
            session,
            plaintext: plaintext.to_vec(),
            ad: ad.to_vec(),
        }
    }
}

/// `encrypt` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptOutput {
    /// The whole wire message.
    #[serde(with = "hex_bytes")]
    pub message: Vec<u8>,
    /// On prekey sessions: how the message travels (absent: `whisper`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
}

/// `decrypt`: RatchetDecrypt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decrypt {
    /// The session.
    pub session: SessionHandle,
    /// The wire message.
    #[serde(with = "hex_bytes")]
    pub message: Vec<u8>,
    /// Associated data.
    #[serde(with = "hex_bytes")]
    pub ad: Vec<u8>,
    /// `prekey` for an initial message on a prekey session
    /// (docs/SIGNAL-V3.md §7.1); absent means `whisper`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
}

impl Decrypt {
    /// `message` under `ad` on `session`, as a plain (whisper) message.
    pub fn new(session: SessionHandle, message: &[u8], ad: &[u8]) -> Self {
        Self {
            session,
            message: message.to_vec(),
            ad: ad.to_vec(),
            message_type: None,
        }
    }
}

/// `decrypt` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecryptOutput {
    /// The plaintext.
    #[serde(with = "hex_bytes")]
    pub plaintext: Vec<u8>,
}

/// `clone_session`: captures a session's complete state into a new,
/// independent session that draws its ratchet keys from its own list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneSession {
    /// The session to copy.
    pub session: SessionHandle,
    /// The copy's own injected ratchet private keys.
    #[serde(with = "hex_bytes::list")]
    pub ratchet_private_keys: Vec<Vec<u8>>,
}

impl CloneSession {
    /// A copy of `session` drawing from `ratchet_private_keys`.
    pub fn new(session: SessionHandle, ratchet_private_keys: &[Vec<u8>]) -> Self {
        Self {
            session,
            ratchet_private_keys: ratchet_private_keys.to_vec(),
        }
    }
}

/// `export_state`: the session's whole state as the implementation itself
/// serializes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    /// The session.
    pub session: SessionHandle,
}

/// `export_state` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportStateOutput {
    /// The exported state, exactly the bytes the implementation writes.
    #[serde(with = "hex_bytes")]
    pub state: Vec<u8>,
}

/// `session_keys`: the keys a session holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionKeys {
    /// The session.
    pub session: SessionHandle,
}

/// A receiving chain of [`SessionKeysOutput`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverChain {
    /// The peer's ratchet public key the chain belongs to (bare).
    #[serde(with = "hex_bytes")]
    pub ratchet_key: Vec<u8>,
    /// Its chain key.
    #[serde(with = "hex_bytes")]
    pub chain_key: Vec<u8>,
    /// The number of the next message key the chain derives.
    pub index: u32,
}

/// `session_keys` output: read from the implementation's own serialized
/// state, never computed for the harness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionKeysOutput {
    /// The root key.
    #[serde(with = "hex_bytes")]
    pub root_key: Vec<u8>,
    /// The session's own ratchet public key (bare; empty without a sending chain).
    #[serde(with = "hex_bytes")]
    pub sender_ratchet_key: Vec<u8>,
    /// The sending chain key (empty without one).
    #[serde(with = "hex_bytes")]
    pub sender_chain_key: Vec<u8>,
    /// The number of the next message key the sending chain derives.
    pub sender_chain_index: u32,
    /// The receiving chains.
    pub receiver_chains: Vec<ReceiverChain>,
    /// The peer's identity key (bare).
    #[serde(with = "hex_bytes")]
    pub remote_identity_key: Vec<u8>,
    /// The post-quantum ratchet's state, as stored (empty when there is none).
    #[serde(default, with = "hex_bytes")]
    pub pq_ratchet_state: Vec<u8>,
}

/// `prekey_initiate`: Alice's session from Bob's bundle, through the
/// implementation's own session builder (docs/SIGNAL-V3.md §7.1; for
/// `olm-v1`, docs/SHIM.md §4.4: the Signal-only fields are absent, the
/// one-time key is Bob's mandatory one and the ephemeral key is the base key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrekeyInitiate {
    /// Suite name.
    pub suite: String,
    /// IKa private key; empty (absent on the wire) for a peer that cannot
    /// take injected keys (docs/SHIM.md §4.4).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// Alice's registration id (Signal suites only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<u32>,
    /// EKa private key (the base key); empty (absent) as IKa.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "hex_bytes")]
    pub ephemeral_private_key: Vec<u8>,
    /// Alice's ratchet keys by DH ratchet step (entry 0: her first).
    #[serde(with = "hex_bytes::list")]
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// IKb.
    #[serde(with = "hex_bytes")]
    pub peer_identity_key: Vec<u8>,
    /// Bob's registration id (Signal suites only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_registration_id: Option<u32>,
    /// Signed prekey id (Signal suites only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_signed_prekey_id: Option<u32>,
    /// SPKb (Signal suites only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub peer_signed_prekey: Option<Vec<u8>>,
    /// XEdDSA signature of IKb over Encode(SPKb) (Signal suites only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub peer_signed_prekey_signature: Option<Vec<u8>>,
    /// One-time prekey id, when the bundle has one (with the next field;
    /// Signal suites only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_one_time_prekey_id: Option<u32>,
    /// OPKb, when the bundle has one (`olm-v1`: always, Bob's one-time key).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub peer_one_time_prekey: Option<Vec<u8>>,
    /// PQXDH suites: the KEM prekey's id (with the next two fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_kem_prekey_id: Option<u32>,
    /// PQXDH suites: `EncodeKEM(PQPKb)`, the KEM's type byte and the key —
    /// the bytes the signature covers (docs/PQXDH.md §3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub peer_kem_prekey: Option<Vec<u8>>,
    /// PQXDH suites: XEdDSA signature of IKb over `peerKemPrekey`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub peer_kem_prekey_signature: Option<Vec<u8>>,
    /// PQXDH suites: the 32 bytes of encapsulation randomness, for an
    /// implementation that takes injected randomness (others ignore it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub encapsulation_seed: Option<Vec<u8>>,
}

/// `prekey_respond`: Bob's session from Alice's initial message (`olm-v1`:
/// from a pre-key message; the Signal-only fields are absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrekeyRespond {
    /// Suite name.
    pub suite: String,
    /// IKb private key; empty (absent on the wire) for a peer that answers
    /// from its own `prekey_bundle` (docs/SHIM.md §4.4).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "hex_bytes")]
    pub identity_private_key: Vec<u8>,
    /// Bob's registration id (Signal suites only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_id: Option<u32>,
    /// Signed prekey id (Signal suites only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_prekey_id: Option<u32>,
    /// SPKb private key (Signal suites only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub signed_prekey_private_key: Option<Vec<u8>>,
    /// One-time prekey id, when Bob holds one (with the next field; Signal
    /// suites only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_prekey_id: Option<u32>,
    /// OPKb private key, when Bob holds one (`olm-v1`: always, `E_B`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub one_time_prekey_private_key: Option<Vec<u8>>,
    /// PQXDH suites: Bob's one-time KEM prekey id (with the next two fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kem_prekey_id: Option<u32>,
    /// PQXDH suites: its public key, bare (no type byte).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub kem_prekey_public_key: Option<Vec<u8>>,
    /// PQXDH suites: its secret key, bare.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes::option"
    )]
    pub kem_prekey_private_key: Option<Vec<u8>>,
    /// Bob's ratchet keys by DH ratchet step (`olm-v1`: by send that starts
    /// a chain).
    #[serde(with = "hex_bytes::list")]
    pub ratchet_private_keys: Vec<Vec<u8>>,
    /// The initial message.
    #[serde(with = "hex_bytes")]
    pub message: Vec<u8>,
}

/// `prekey_bundle`: a live-only `olm-v1` shim that cannot take injected keys
/// publishes Bob's keys itself (docs/SHIM.md §4.4); it keeps the private
/// halves and answers a later key-less `prekey_respond` with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrekeyBundle {
    /// Suite name.
    pub suite: String,
}

/// `prekey_bundle` output: Bob's public keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrekeyBundleOutput {
    /// Bob's identity key.
    #[serde(with = "hex_bytes")]
    pub identity_key: Vec<u8>,
    /// Bob's one-time key.
    #[serde(with = "hex_bytes")]
    pub one_time_prekey: Vec<u8>,
}

/// `prekey_respond` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrekeyRespondOutput {
    /// Bob's new session.
    pub session: SessionHandle,
    /// The initial message's plaintext.
    #[serde(with = "hex_bytes")]
    pub plaintext: Vec<u8>,
}
