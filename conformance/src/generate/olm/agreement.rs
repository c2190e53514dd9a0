//! `olm-v1/key_agreement.json`: Olm's triple DH (docs/OLM-V1.md §3, §10.4),
//! the counterpart of the Signal suites' `x3dh.json`, in the scenario schema.
//!
//! libolm and python-olm expose neither `S` nor the root key, so the file
//! speaks through the operations a shim has: each known answer injects the
//! four key pairs, fixes the bytes of Alice's first pre-key message (which
//! only `S = ECDH(I_A, E_B) ‖ ECDH(E_A, I_B) ‖ ECDH(E_A, E_B)` → `R0`, `C0,0`
//! determines), has Bob decrypt it and Alice decrypt Bob's reply, so both
//! sides of the agreement are checked. The comment states `S`, `R0` and
//! `C0,0` for whoever debugs a failure; the runner checks them only through
//! the messages.
//!
//! Bob's side is then given pre-key messages no honest Olm writes, each
//! correctly MACed under the keys the triple DH over its own fields derives
//! (so only the property under test can refuse it): small-order base and
//! identity keys, a one-time key field naming Bob's identity key, and
//! Alice's identity and base keys in each other's fields. What conforms is
//! decided in docs/OLM-V1.md §10.4 and §11. An unknown one-time key, and
//! changed key fields under a genuine MAC, are `session_scenarios.json`
//! tcIds 30–32 and 56; they are not repeated here.

use ratchetproof_protocol::olm::{self, PreKeyMessage};
use ratchetproof_protocol::{DhOutput, KeyPair, PrivateKey, PublicKey};

use super::builder::{Cases, Delivery, Olm, R, refused};
use super::edge::{ciphertext, sealed};
use crate::generate::derived_key;
use crate::generate::flags::Flag;
use crate::implementation::MessageType;
use crate::vectors::{ErrorClass, Expected, Outcome, Plaintext};

pub(super) fn cases(c: &mut Cases) -> R<()> {
    known_answers(c)?;
    for (u, name) in [(0u8, "u = 0"), (1, "u = 1")] {
        small_order(c, Role::Base, u, name)?;
        small_order(c, Role::Identity, u, name)?;
    }
    identity_as_one_time_key(c)?;
    roles_swapped(c)
}

fn public(private: [u8; 32]) -> [u8; 32] {
    *KeyPair::from_private(PrivateKey::from_bytes(private))
        .public_key()
        .as_bytes()
}

/// The first label-derived private key, `label/0`, `label/1`, …, whose
/// public key satisfies `want` (searched deterministically).
fn searched(label: &str, want: impl Fn(&[u8; 32]) -> bool) -> [u8; 32] {
    (0u32..)
        .map(|n| derived_key(&format!("{label}/{n}")))
        .find(|k| want(&public(*k)))
        .unwrap_or([0x42; 32])
}

/// A label-derived private key `k` for `role` whose DH with the public key
/// of `other` begins with a zero byte.
fn searched_dh(label: &str, other: [u8; 32]) -> [u8; 32] {
    let theirs = PublicKey::from_bytes(public(other));
    (0u32..)
        .map(|n| derived_key(&format!("{label}/{n}")))
        .find(|k| {
            KeyPair::from_private(PrivateKey::from_bytes(*k))
                .diffie_hellman(&theirs)
                .is_ok_and(|d| d.as_bytes()[0] == 0)
        })
        .unwrap_or([0x42; 32])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A known answer's description and the private keys it gives by role.
type KeySet<'a> = (&'a str, Vec<(&'a str, [u8; 32])>);

/// Twelve key sets: label-derived, private keys of edge bytes (clamping
/// does the work), public keys with zero and high edge bytes, and a DH
/// output starting with a zero byte.
fn known_answers(c: &mut Cases) -> R<()> {
    let k = |label: &str| derived_key(&format!("olm/key-agreement/{label}"));
    let base_for_dh = k("dh-zero/one-time");
    let sets: Vec<KeySet> = vec![
        ("random keys 1", vec![]),
        ("random keys 2", vec![]),
        ("random keys 3", vec![]),
        ("random keys 4", vec![]),
        (
            "private keys of all-zero and all-0xff bytes (clamping sets bit 254 and clears bits 0-2 and 255)",
            vec![
                ("alice/identity", [0x00; 32]),
                ("alice/base", [0xff; 32]),
                ("bob/identity", [0xff; 32]),
                ("bob/one-time", [0x00; 32]),
            ],
        ),
        (
            "private keys of repeated bytes 07, 80, 55 and aa (clamping changes bits 0-2, 254 and 255 of each)",
            vec![
                ("alice/identity", [0x07; 32]),
                ("alice/base", [0x80; 32]),
                ("bob/identity", [0x55; 32]),
                ("bob/one-time", [0xaa; 32]),
            ],
        ),
        (
            "Bob's one-time public key begins with a zero byte",
            vec![(
                "bob/one-time",
                searched("olm/key-agreement/otk-lead-zero", |p| p[0] == 0),
            )],
        ),
        (
            "Alice's identity public key ends with a zero byte",
            vec![(
                "alice/identity",
                searched("olm/key-agreement/ik-tail-zero", |p| p[31] == 0),
            )],
        ),
        (
            "Alice's base public key ends with 0x7f (the highest last byte of a canonical u)",
            vec![(
                "alice/base",
                searched("olm/key-agreement/base-tail-7f", |p| p[31] == 0x7f),
            )],
        ),
        (
            "Bob's identity public key begins with two zero bytes",
            vec![(
                "bob/identity",
                searched("olm/key-agreement/ik-lead-zeros", |p| {
                    p[0] == 0 && p[1] == 0
                }),
            )],
        ),
        (
            "ECDH(E_A, E_B), the last third of S, begins with a zero byte",
            vec![
                ("bob/one-time", base_for_dh),
                (
                    "alice/base",
                    searched_dh("olm/key-agreement/dh-zero/base", base_for_dh),
                ),
            ],
        ),
        (
            "Alice's identity and base keys are one key pair (S's thirds 1 and 3 differ only by Bob's key)",
            vec![("alice/identity", k("same")), ("alice/base", k("same"))],
        ),
    ];
    for (what, keys) in sets {
        let mut s = c.start_with("known-answer", &keys)?;
        let a0 = s.say("alice")?;
        s.deliver("bob", a0)?;
        let b0 = s.say("bob")?;
        s.deliver("alice", b0)?;
        let (secret, (r0, c0)) = s.triple_dh()?;
        c.add(
            s,
            &format!(
                "known answer of the triple DH, {what}: Alice's first pre-key message is fixed by S = ECDH(I_A, E_B) ‖ ECDH(E_A, I_B) ‖ ECDH(E_A, E_B) → R0 ‖ C0,0 = HKDF(zero salt, S, OLM_ROOT); Bob decrypts it and Alice decrypts his reply (S = {}, R0 = {}, C0,0 = {})",
                hex(&secret),
                hex(r0.as_bytes()),
                hex(c0.as_bytes()),
            ),
            &[Flag::OlmTripleDh, Flag::OlmPreKeyMessages],
        )?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Base,
    Identity,
}

/// A first pre-key message with `one_time`, `base` and `identity` in its
/// fields, its inner message (ratchet key `T0`, index 0) sealed under the
/// `C0,0` of the triple DH `secret`.
fn crafted(
    s: &Olm,
    [one_time, base, identity]: [[u8; 32]; 3],
    secret: &[u8],
    plaintext: &[u8],
) -> R<Vec<u8>> {
    let (_, chain) = olm::root_from_shared_secret(secret);
    let (_, mk) = olm::kdf::kdf_ck(&chain);
    let ct = ciphertext(s, &mk, plaintext, true)?;
    let t0 = s.ratchet_pair("alice", 0)?;
    Ok(PreKeyMessage {
        one_time_key: PublicKey::from_bytes(one_time),
        base_key: PublicKey::from_bytes(base),
        identity_key: PublicKey::from_bytes(identity),
        message: sealed(&mk, t0.public_key().as_bytes(), 0, &ct),
    }
    .encode())
}

fn dh(s: &Olm, ours: &KeyPair, theirs: [u8; 32]) -> R<[u8; 32]> {
    ours.diffie_hellman(&PublicKey::from_bytes(theirs))
        .map(|d: DhOutput| *d.as_bytes())
        .map_err(|e| s.fail(format!("DH: {e}")))
}

/// Alice's base key (or identity key) is the small-order point `u`: the two
/// DH outputs it enters are all zero; the message is MACed under the keys
/// that `S` derives.
fn small_order(c: &mut Cases, role: Role, u: u8, name: &str) -> R<()> {
    let field = match role {
        Role::Base => "base",
        Role::Identity => "identity",
    };
    let mut s = c.start(&format!("small-order-{field}-{u}"))?;
    let (one_time, base, identity) = s.envelope_pairs()?;
    let bob_identity = s.bob_identity_public()?;
    let mut point = [0u8; 32];
    point[0] = u;
    let mut secret = Vec::with_capacity(96);
    let keys = match role {
        Role::Base => {
            secret.extend_from_slice(&dh(&s, &identity, one_time)?);
            secret.extend_from_slice(&[0; 64]);
            [one_time, point, *identity.public_key().as_bytes()]
        }
        Role::Identity => {
            secret.extend_from_slice(&[0; 32]);
            secret.extend_from_slice(&dh(&s, &base, bob_identity)?);
            secret.extend_from_slice(&dh(&s, &base, one_time)?);
            [one_time, *base.public_key().as_bytes(), point]
        }
    };
    let plaintext = format!("an agreement with a small-order {field} key {name}").into_bytes();
    let bad = crafted(&s, keys, &secret, &plaintext)?;
    let expected = refused(ErrorClass::InvalidKey).or(Outcome::Ok(Plaintext {
        plaintext: plaintext.into(),
    }));
    s.deliver_as("bob", Delivery::Bytes(bad, MessageType::Prekey), expected)?;
    let zeros = match role {
        Role::Base => "ECDH(E_B, E_A) and ECDH(I_B, E_A) are all zero",
        Role::Identity => "ECDH(E_B, I_A) is all zero",
    };
    c.add(
        s,
        &format!("Bob's side: a first pre-key message whose {field} key is the small-order point {name} ({zeros}), its inner message correctly MACed under the keys that S derives: refused as invalid_key (the reference, vodozemac: non-contributory DH) or accepted (libolm); rejecting is optional hardening (docs/OLM-V1.md §10.4, §11). The case ends here, since the outcomes leave different states"),
        &[Flag::OlmSmallOrderAgreementKey, Flag::OlmPreKeyMessages],
    )
}

/// The one-time key field names Bob's identity key, and the inner message
/// is sealed by the triple DH an Alice would compute with that key as the
/// one-time key: Bob holds no such one-time key.
fn identity_as_one_time_key(c: &mut Cases) -> R<()> {
    let mut s = c.start("identity-as-one-time-key")?;
    let a0 = s.say("alice")?;
    let (_, base, identity) = s.envelope_pairs()?;
    let ib = s.bob_identity_public()?;
    let mut secret = Vec::with_capacity(96);
    secret.extend_from_slice(&dh(&s, &identity, ib)?);
    secret.extend_from_slice(&dh(&s, &base, ib)?);
    secret.extend_from_slice(&dh(&s, &base, ib)?);
    let keys = [
        ib,
        *base.public_key().as_bytes(),
        *identity.public_key().as_bytes(),
    ];
    let bad = crafted(
        &s,
        keys,
        &secret,
        b"to Bob's identity key as a one-time key",
    )?;
    s.deliver_as(
        "bob",
        Delivery::Bytes(bad, MessageType::Prekey),
        refused(ErrorClass::InvalidKey),
    )?;
    s.deliver("bob", a0)?;
    let b0 = s.say("bob")?;
    s.deliver("alice", b0)?;
    c.add(
        s,
        "Bob's side: a first pre-key message whose one-time key field is Bob's identity key, its inner message correctly MACed under the triple DH with that key as the one-time key: refused as invalid_key (Bob holds no such one-time key; an identity key is not one, docs/OLM-V1.md §10.4), Bob has no session; the genuine message then starts one (an unknown one-time key is session_scenarios.json tcId 30)",
        &[Flag::OlmOneTimeKeyField, Flag::Atomicity, Flag::OlmPreKeyMessages],
    )
}

/// Alice's identity key in the base key field and her base key in the
/// identity key field, the inner message sealed by the triple DH with the
/// roles as the fields say: a valid agreement with another identity, which
/// Bob must read by field, not by position or by guessing roles.
fn roles_swapped(c: &mut Cases) -> R<()> {
    let mut s = c.start("roles-swapped")?;
    let (one_time, base, identity) = s.envelope_pairs()?;
    let ib = s.bob_identity_public()?;
    // The fields' roles: identity' = E_A, base' = I_A.
    let mut secret = Vec::with_capacity(96);
    secret.extend_from_slice(&dh(&s, &base, one_time)?);
    secret.extend_from_slice(&dh(&s, &identity, ib)?);
    secret.extend_from_slice(&dh(&s, &identity, one_time)?);
    let keys = [
        one_time,
        *identity.public_key().as_bytes(),
        *base.public_key().as_bytes(),
    ];
    let plaintext = b"identity and base keys in each other's fields".to_vec();
    let message = crafted(&s, keys, &secret, &plaintext)?;
    let expected: Expected<Plaintext> = Outcome::Ok(Plaintext {
        plaintext: plaintext.into(),
    })
    .into();
    s.deliver_as(
        "bob",
        Delivery::Bytes(message, MessageType::Prekey),
        expected,
    )?;
    c.add(
        s,
        "Bob's side: a first pre-key message carrying Alice's identity key in the base key field and her base key in the identity key field, its inner message MACed under the triple DH with the roles the fields give (S = ECDH(E_A, E_B) ‖ ECDH(I_A, I_B) ‖ ECDH(I_A, E_B)): a valid agreement with the identity E_A, which Bob decrypts (docs/OLM-V1.md §10.4); reading the keys by position or by their genuine roles fails its MAC",
        &[Flag::OlmKeyRoles, Flag::OlmPreKeyMessages],
    )
}
