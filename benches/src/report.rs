//! The summary table's rows. Each row is one criterion group; inside it the
//! benchmark ids are [`REFERENCE`], [`FLOOR`] and [`PEER`], whichever apply.
//! Criterion writes `<criterion dir>/<group>/<id>/new/estimates.json`.

/// Id of the reference's measurement in a group.
pub const REFERENCE: &str = "ratchetproof";
/// Id of the primitive floor's measurement in a group.
pub const FLOOR: &str = "floor";
/// Id of vodozemac's measurement in a group.
pub const PEER: &str = "vodozemac";

/// One row of the summary table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// The criterion group.
    pub group: &'static str,
    /// What the row shows.
    pub label: &'static str,
}

const fn row(group: &'static str, label: &'static str) -> Row {
    Row { group, label }
}

/// The ratchet operations, in table order.
pub const OPERATIONS: &[Row] = &[
    row("kdf_rk", "KDF_RK"),
    row("kdf_ck", "KDF_CK"),
    row("encrypt_64B", "encrypt, established chain, 64 B"),
    row("encrypt_1KiB", "encrypt, established chain, 1 KiB"),
    row("encrypt_64KiB", "encrypt, established chain, 64 KiB"),
    row("decrypt_64B", "decrypt, established chain, 64 B"),
    row("decrypt_1KiB", "decrypt, established chain, 1 KiB"),
    row("decrypt_64KiB", "decrypt, established chain, 64 KiB"),
    row("ping_pong_64B", "ping-pong round trip, 64 B"),
    row("ping_pong_1KiB", "ping-pong round trip, 1 KiB"),
    row("ping_pong_64KiB", "ping-pong round trip, 64 KiB"),
    row(
        "skipped_decrypt",
        "decrypt from skipped store (1 000 keys), 64 B",
    ),
    row("burst_1000", "1 000-message burst, reverse order, 64 B"),
    row("x3dh_initiate", "X3DH initiate (with OPK)"),
    row("x3dh_respond", "X3DH respond (with OPK)"),
    row("state_serialize", "state serialize"),
    row("state_deserialize", "state deserialize"),
    row(
        "state_serialize_1000",
        "state serialize, 1 000 skipped keys",
    ),
    row(
        "state_deserialize_1000",
        "state deserialize, 1 000 skipped keys",
    ),
    row("vector_suite", "whole vector suite through the runner"),
];

/// The primitives the floors are made of; each group holds one [`FLOOR`] id.
pub const PRIMITIVES: &[Row] = &[
    row("prim_x25519_dh", "X25519 DH"),
    row("prim_x25519_keygen", "X25519 key generation"),
    row("prim_hmac_sha256", "HMAC-SHA256 (32 B key, 1 B)"),
    row("prim_hkdf_44", "HKDF-SHA256 → 44 B (message keys)"),
    row("prim_hkdf_64", "HKDF-SHA256 → 64 B (root step)"),
    row("prim_hkdf_x3dh", "HKDF-SHA256 160 B → 32 B (X3DH)"),
    row("prim_xeddsa_verify", "XEdDSA verify"),
    row(
        "prim_aes256gcm_seal_64B",
        "AES-256-GCM key setup + seal, 64 B",
    ),
    row(
        "prim_aes256gcm_seal_1KiB",
        "AES-256-GCM key setup + seal, 1 KiB",
    ),
    row(
        "prim_aes256gcm_seal_64KiB",
        "AES-256-GCM key setup + seal, 64 KiB",
    ),
    row(
        "prim_aes256gcm_open_64B",
        "AES-256-GCM key setup + open, 64 B",
    ),
    row(
        "prim_aes256gcm_open_1KiB",
        "AES-256-GCM key setup + open, 1 KiB",
    ),
    row(
        "prim_aes256gcm_open_64KiB",
        "AES-256-GCM key setup + open, 64 KiB",
    ),
];
