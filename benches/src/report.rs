//! The summary table's rows. Each row is one criterion group; inside it the
//! benchmark ids are [`REFERENCE`], [`FLOOR`] and [`PEER`], whichever apply.
//! Criterion writes `<criterion dir>/<group>/<id>/new/estimates.json`.

/// Id of the reference's measurement in a group.
pub const REFERENCE: &str = "ratchetproof";
/// Id of the primitive floor's measurement in a group.
pub const FLOOR: &str = "floor";
/// Id of vodozemac's measurement in a group.
pub const PEER: &str = "vodozemac";

/// Ids of the vector-suite throughput group ([`THROUGHPUT`]): in process,
/// `run_paths` against the reference.
pub const IN_PROCESS: &str = "in_process";
/// In process, two references in parallel (`run --jobs 2` without a shim).
pub const IN_PROCESS_JOBS2: &str = "in_process_jobs2";
/// Through the reference shim, one process (`run --shim … --jobs 1`).
pub const SHIM_JOBS1: &str = "shim_jobs1";
/// Through the reference shim, two processes (`run --shim … --jobs 2`).
pub const SHIM_JOBS2: &str = "shim_jobs2";

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
    row("v3_kdf_rk", "signal-v3: KDF_RK"),
    row("v3_kdf_ck", "signal-v3: KDF_CK"),
    row(
        "v3_encrypt_64B",
        "signal-v3: encrypt, established chain, 64 B",
    ),
    row(
        "v3_encrypt_1KiB",
        "signal-v3: encrypt, established chain, 1 KiB",
    ),
    row(
        "v3_encrypt_64KiB",
        "signal-v3: encrypt, established chain, 64 KiB",
    ),
    row(
        "v3_decrypt_64B",
        "signal-v3: decrypt, established chain, 64 B",
    ),
    row(
        "v3_decrypt_1KiB",
        "signal-v3: decrypt, established chain, 1 KiB",
    ),
    row(
        "v3_decrypt_64KiB",
        "signal-v3: decrypt, established chain, 64 KiB",
    ),
    row("v3_ping_pong_64B", "signal-v3: ping-pong round trip, 64 B"),
    row(
        "v3_ping_pong_1KiB",
        "signal-v3: ping-pong round trip, 1 KiB",
    ),
    row(
        "v3_ping_pong_64KiB",
        "signal-v3: ping-pong round trip, 64 KiB",
    ),
    row(
        "v3_skipped_decrypt",
        "signal-v3: decrypt from skipped store (1 000 keys), 64 B",
    ),
    row(
        "v3_burst_1000",
        "signal-v3: 1 000-message burst, reverse order, 64 B",
    ),
    row("v3_x3dh_initiate", "signal-v3: X3DH initiate (with OPK)"),
    row("v3_x3dh_respond", "signal-v3: X3DH respond (with OPK)"),
    row("v3_state_serialize", "signal-v3: state serialize"),
    row("v3_state_deserialize", "signal-v3: state deserialize"),
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
    row(
        "prim_hkdf_80",
        "HKDF-SHA256 → 80 B (signal-v3 message keys)",
    ),
    row(
        "prim_aes256cbc_encrypt_64B",
        "AES-256-CBC key setup + encrypt, 64 B",
    ),
    row(
        "prim_aes256cbc_encrypt_1KiB",
        "AES-256-CBC key setup + encrypt, 1 KiB",
    ),
    row(
        "prim_aes256cbc_encrypt_64KiB",
        "AES-256-CBC key setup + encrypt, 64 KiB",
    ),
    row(
        "prim_aes256cbc_decrypt_64B",
        "AES-256-CBC key setup + decrypt, 64 B",
    ),
    row(
        "prim_aes256cbc_decrypt_1KiB",
        "AES-256-CBC key setup + decrypt, 1 KiB",
    ),
    row(
        "prim_aes256cbc_decrypt_64KiB",
        "AES-256-CBC key setup + decrypt, 64 KiB",
    ),
    row(
        "prim_hmac_sha256_mac_64B",
        "HMAC-SHA256 over a signal-v3 message, 64 B",
    ),
    row(
        "prim_hmac_sha256_mac_1KiB",
        "HMAC-SHA256 over a signal-v3 message, 1 KiB",
    ),
    row(
        "prim_hmac_sha256_mac_64KiB",
        "HMAC-SHA256 over a signal-v3 message, 64 KiB",
    ),
];

/// The vector-suite throughput group: one criterion group whose ids are
/// [`IN_PROCESS`], [`IN_PROCESS_JOBS2`], [`SHIM_JOBS1`] and [`SHIM_JOBS2`],
/// measured in wall time and printed as cases per second.
pub const THROUGHPUT: Row = row("vector_suite_throughput", "whole vector suite");

/// The ids of [`THROUGHPUT`], with what each shows, in table order.
pub const THROUGHPUT_IDS: &[(&str, &str)] = &[
    (IN_PROCESS, "in process (`run_paths`, reference), 1 job"),
    (IN_PROCESS_JOBS2, "in process, 2 jobs"),
    (SHIM_JOBS1, "through the reference shim, 1 job"),
    (SHIM_JOBS2, "through the reference shim, 2 jobs"),
];
