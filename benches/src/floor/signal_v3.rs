//! The primitive floor of the `signal-v3` suite (docs/SIGNAL-V3.md,
//! `protocol/src/suite/signal_v3.rs`): the same state machine as the default
//! suite, with libsignal v3's KDF infos, AES-256-CBC and a truncated
//! HMAC-SHA256 in place of AES-256-GCM.
//!
//! | operation | floor |
//! | --- | --- |
//! | KDF_RK | HKDF-SHA256(salt 32 B, ikm 32 B, `WhisperRatchet`) → 64 B |
//! | KDF_CK | 2 × HMAC-SHA256(32 B key, 1 B), as the default suite |
//! | encrypt, n bytes | KDF_CK + HKDF(`WhisperMessageKeys`) → 80 B + AES-256-CBC encrypt(n, PKCS#7) + HMAC-SHA256(66 B ‖ message) |
//! | decrypt, n bytes | KDF_CK + HKDF → 80 B + HMAC-SHA256(66 B ‖ message) + AES-256-CBC decrypt |
//! | ping-pong, skipped store, burst | as the default suite's, with the rows above |
//! | X3DH initiate / respond | as the default suite's, HKDF info `WhisperText` |
//!
//! The message is built in one buffer: version byte, the `WhisperMessage`
//! protobuf written by hand (four fields, tag order), the CBC ciphertext
//! encrypted straight into it, then the 8-byte MAC. Decryption is handed the
//! ciphertext's position (found in the untimed setup), as the default floor is
//! handed its ciphertext: parsing is framing, not a primitive.

use std::ops::Range;

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use ratchetproof_protocol::suite::v3::{INFO_MESSAGE_KEYS, INFO_RATCHET, INFO_TEXT};
use sha2::Sha256;

use super::{Bytes32, hkdf_sha256, x25519_dh, x25519_keygen};

pub use super::kdf_ck;

/// The version byte of every message.
pub const VERSION: u8 = 0x33;
/// Length of the truncated MAC.
pub const MAC_LEN: usize = 8;
/// Length of `Encode(IK_sender) ‖ Encode(IK_receiver)`, the MAC's prefix.
pub const MAC_AD_LEN: usize = 66;

/// KDF_RK(rk, dh_out) → next root key ‖ chain key.
pub fn kdf_rk(rk: &Bytes32, dh_out: &Bytes32) -> [u8; 64] {
    hkdf_sha256::<64>(Some(rk), dh_out, INFO_RATCHET)
}

/// The message key's expansion: AES key (32) ‖ MAC key (32) ‖ IV (16).
pub fn message_keys(mk: &Bytes32) -> [u8; 80] {
    hkdf_sha256::<80>(None, mk, INFO_MESSAGE_KEYS)
}

/// The three parts of [`message_keys`].
struct Keys {
    aes: [u8; 32],
    mac: [u8; 32],
    iv: [u8; 16],
}

fn keys(mk: &Bytes32) -> Keys {
    let okm = message_keys(mk);
    let mut k = Keys {
        aes: [0; 32],
        mac: [0; 32],
        iv: [0; 16],
    };
    k.aes.copy_from_slice(&okm[..32]);
    k.mac.copy_from_slice(&okm[32..64]);
    k.iv.copy_from_slice(&okm[64..]);
    k
}

/// HMAC-SHA256(mac key, ad ‖ authenticated)[0..8].
pub fn mac(key: &Bytes32, ad: &[u8], authenticated: &[u8]) -> [u8; MAC_LEN] {
    let mut h = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    h.update(ad);
    h.update(authenticated);
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&h.finalize().into_bytes()[..MAC_LEN]);
    out
}

/// AES-256-CBC key setup and encryption with PKCS#7 padding.
pub fn aes256cbc_encrypt(key: &Bytes32, iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext)
}

/// AES-256-CBC key setup and decryption with PKCS#7 padding.
pub fn aes256cbc_decrypt(key: &Bytes32, iv: &[u8; 16], ciphertext: &[u8]) -> Vec<u8> {
    cbc::Decryptor::<Aes256>::new(key.into(), iv.into())
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .unwrap()
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// What a `WhisperMessage` header carries: the sender's ratchet key (bare u),
/// the counter N and the wire's previous counter (the DR's PN − 1, at least 0).
#[derive(Clone, Copy, Debug)]
pub struct WireHeader {
    /// The sender's ratchet public key.
    pub ratchet_key: Bytes32,
    /// N.
    pub counter: u32,
    /// `max(PN − 1, 0)`, as libsignal writes it.
    pub previous_counter: u32,
}

/// A fixed header for the composite floors.
pub const HEADER: WireHeader = WireHeader {
    ratchet_key: [0x09; 32],
    counter: 5,
    previous_counter: 2,
};

/// ENCRYPT(mk, plaintext, ad): the whole message, `0x33 ‖ protobuf ‖ MAC`.
pub fn seal_with(mk: &Bytes32, header: &WireHeader, plaintext: &[u8], ad: &[u8]) -> Vec<u8> {
    let k = keys(mk);
    let ct_len = (plaintext.len() / 16 + 1) * 16;
    let mut message = Vec::with_capacity(64 + ct_len + MAC_LEN);
    message.extend_from_slice(&[VERSION, 0x0A, 33, 0x05]);
    message.extend_from_slice(&header.ratchet_key);
    message.push(0x10);
    put_varint(&mut message, header.counter.into());
    message.push(0x18);
    put_varint(&mut message, header.previous_counter.into());
    message.push(0x22);
    put_varint(&mut message, ct_len as u64);
    let start = message.len();
    message.resize(start + ct_len, 0);
    cbc::Encryptor::<Aes256>::new(&k.aes.into(), &k.iv.into())
        .encrypt_padded_b2b::<Pkcs7>(plaintext, &mut message[start..])
        .unwrap();
    let tag = mac(&k.mac, ad, &message);
    message.extend_from_slice(&tag);
    message
}

/// Where [`seal_with`] (and the protocol's seal) put the ciphertext: the
/// bytes of protobuf field 4, the last field before the MAC. Setup only.
pub fn ciphertext_range(message: &[u8]) -> Range<usize> {
    let end = message.len() - MAC_LEN;
    // Field 4 is the last field; its length varint follows the 0x22 tag.
    let mut pos = 1;
    loop {
        let tag = message[pos];
        pos += 1;
        let mut value = 0usize;
        let mut shift = 0;
        loop {
            let b = message[pos];
            pos += 1;
            value |= usize::from(b & 0x7F) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        match tag & 7 {
            0 => {}
            2 if tag >> 3 == 4 => {
                assert_eq!(pos + value, end, "field 4 is not the last field");
                return pos..end;
            }
            2 => pos += value,
            _ => panic!("unexpected protobuf wire type in {message:02x?}"),
        }
    }
}

/// DECRYPT(mk, message, ad): MAC check over `ad ‖ message`, then AES-256-CBC
/// of the ciphertext at `ciphertext`.
pub fn open_with(mk: &Bytes32, message: &[u8], ciphertext: Range<usize>, ad: &[u8]) -> Vec<u8> {
    let k = keys(mk);
    let (authenticated, tag) = message.split_at(message.len() - MAC_LEN);
    assert!(mac(&k.mac, ad, authenticated) == tag, "MAC mismatch");
    cbc::Decryptor::<Aes256>::new(&k.aes.into(), &k.iv.into())
        .decrypt_padded_vec::<Pkcs7>(&message[ciphertext])
        .unwrap()
}

/// RatchetEncrypt on an established chain: KDF_CK + ENCRYPT.
pub fn encrypt(
    ck: &Bytes32,
    header: &WireHeader,
    plaintext: &[u8],
    ad: &[u8],
) -> (Bytes32, Vec<u8>) {
    let (next, mk) = kdf_ck(ck);
    (next, seal_with(&mk, header, plaintext, ad))
}

/// RatchetDecrypt on an established chain: KDF_CK + DECRYPT.
pub fn decrypt(
    ck: &Bytes32,
    message: &[u8],
    ciphertext: Range<usize>,
    ad: &[u8],
) -> (Bytes32, Vec<u8>) {
    let (next, mk) = kdf_ck(ck);
    (next, open_with(&mk, message, ciphertext, ad))
}

/// DHRatchet: DH + KDF_RK, GENERATE_DH, DH + KDF_RK.
pub fn dh_ratchet<R: CryptoRng + ?Sized>(
    rng: &mut R,
    rk: &Bytes32,
    own_private: &Bytes32,
    their_public: &Bytes32,
) -> [u8; 64] {
    let receiving = kdf_rk(rk, &x25519_dh(own_private, their_public));
    let (private, _public) = x25519_keygen(rng);
    let mut rk = [0u8; 32];
    rk.copy_from_slice(&receiving[..32]);
    kdf_rk(&rk, &x25519_dh(&private, their_public))
}

/// One round trip, as [`super::ping_pong`] with this suite's encrypt and
/// decrypt. The ciphertext positions are found outside the floor's work.
pub fn ping_pong<R: CryptoRng + ?Sized>(
    inputs: &super::FloorInputs,
    rng: &mut R,
    plaintext: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let ad = &inputs.aad;
    let (_, to_bob) = encrypt(&inputs.ck, &HEADER, plaintext, ad);
    let bob_rk = dh_ratchet(rng, &inputs.rk, &inputs.bob.0, &inputs.alice.1);
    let (_, at_bob) = decrypt(&inputs.ck, &to_bob, framed(plaintext.len()), ad);
    let (_, to_alice) = encrypt(&inputs.ck, &HEADER, &at_bob, ad);
    let alice_rk = dh_ratchet(rng, &inputs.rk, &inputs.alice.0, &inputs.bob.1);
    let (_, at_alice) = decrypt(&inputs.ck, &to_alice, framed(at_bob.len()), ad);
    std::hint::black_box((bob_rk, alice_rk));
    (at_bob, at_alice)
}

/// The ciphertext position in a message [`seal_with`] makes with [`HEADER`]
/// for `len` plaintext bytes: what a parser would find, without parsing.
pub fn framed(len: usize) -> Range<usize> {
    let ct_len = (len / 16 + 1) * 16;
    // 0x33, ratchet key (2 + 33), counter 5 and previous 2 (2 + 2), tag 0x22.
    let start = 1 + 35 + 4 + 1 + varint_len(ct_len as u64);
    start..start + ct_len
}

fn varint_len(value: u64) -> usize {
    let mut out = Vec::new();
    put_varint(&mut out, value);
    out.len()
}

/// A burst: every message key of the chain derived once, every message
/// opened once (in chain order; the order does not change the work).
pub fn burst(ck: &Bytes32, messages: &[(Vec<u8>, Range<usize>)], ad: &[u8]) -> usize {
    let mut ck = *ck;
    let mut total = 0;
    for (message, ciphertext) in messages {
        let (next, plaintext) = decrypt(&ck, message, ciphertext.clone(), ad);
        total += plaintext.len();
        ck = next;
    }
    total
}

/// The messages [`burst`] opens: the chain from `ck`, `count` messages.
pub fn burst_messages(
    ck: &Bytes32,
    count: usize,
    plaintext: &[u8],
    ad: &[u8],
) -> Vec<(Vec<u8>, Range<usize>)> {
    let mut ck = *ck;
    (0..count)
        .map(|_| {
            let (next, message) = encrypt(&ck, &HEADER, plaintext, ad);
            ck = next;
            let range = ciphertext_range(&message);
            (message, range)
        })
        .collect()
}

/// Alice's X3DH with a one-time prekey, info `WhisperText`.
pub fn x3dh_initiate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    alice_identity_private: &Bytes32,
    bob_identity: &Bytes32,
    signed_prekey: &Bytes32,
    signed_prekey_encoded: &[u8; 33],
    signature: &[u8; 64],
    one_time_prekey: &Bytes32,
) -> Bytes32 {
    super::x3dh_initiate_with(
        INFO_TEXT,
        rng,
        alice_identity_private,
        bob_identity,
        signed_prekey,
        signed_prekey_encoded,
        signature,
        one_time_prekey,
    )
}

/// Bob's X3DH with a one-time prekey, info `WhisperText`.
pub fn x3dh_respond(
    bob_identity_private: &Bytes32,
    signed_prekey_private: &Bytes32,
    one_time_prekey_private: &Bytes32,
    alice_identity: &Bytes32,
    alice_ephemeral: &Bytes32,
) -> Bytes32 {
    super::x3dh_respond_with(
        INFO_TEXT,
        bob_identity_private,
        signed_prekey_private,
        one_time_prekey_private,
        alice_identity,
        alice_ephemeral,
    )
}

#[cfg(test)]
mod tests {
    //! Each signal-v3 floor computes the protocol crate's bytes.

    use super::*;
    use crate::fixtures::{rng, x3dh_fixture};
    use crate::floor::{FloorInputs, xeddsa_verify};
    use ratchetproof_protocol::header::Header;
    use ratchetproof_protocol::x3dh;
    use ratchetproof_protocol::{
        ChainKey, CipherSuite, DhOutput, KeyPair, MessageKey, PublicKey, RootKey, SIGNAL_V3_SUITE,
    };

    #[test]
    fn kdfs_match_signal_v3() {
        let (rk, dh, ck) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let (next_rk, chain) =
            SIGNAL_V3_SUITE.kdf_rk(&RootKey::from_bytes(rk), &DhOutput::from_bytes(dh));
        let okm = kdf_rk(&rk, &dh);
        assert_eq!(&okm[..32], next_rk.as_bytes());
        assert_eq!(&okm[32..], chain.as_bytes());

        let (next_ck, mk) = SIGNAL_V3_SUITE.kdf_ck(&ChainKey::from_bytes(ck));
        assert_eq!(kdf_ck(&ck), (*next_ck.as_bytes(), *mk.as_bytes()));
        assert_eq!(
            message_keys(mk.as_bytes()).as_slice(),
            SIGNAL_V3_SUITE.message_keys(&mk).as_slice()
        );
    }

    #[test]
    fn seal_and_open_match_signal_v3() {
        let mk = [4u8; 32];
        let ad = [5u8; MAC_AD_LEN];
        let key = *KeyPair::generate(&mut rng(1)).public_key();
        // Counters past one varint byte, and PN = 0 (written as 0).
        for (pn, n) in [(3, 9), (0, 0), (300, 70_000)] {
            for len in [0, 15, 16, 64, 1024] {
                let pt = crate::plaintext(len);
                let message = SIGNAL_V3_SUITE
                    .seal(
                        &MessageKey::from_bytes(mk),
                        &Header { dh: key, pn, n },
                        &pt,
                        &ad,
                    )
                    .unwrap();
                let header = WireHeader {
                    ratchet_key: *key.as_bytes(),
                    counter: n,
                    previous_counter: pn.saturating_sub(1),
                };
                assert_eq!(seal_with(&mk, &header, &pt, &ad), message);
                assert_eq!(
                    open_with(&mk, &message, ciphertext_range(&message), &ad),
                    pt
                );
            }
        }
        // The composite floors' fixed header: `framed` is what parsing finds.
        for len in [0, 64, 1024, 64 * 1024] {
            let m = seal_with(&mk, &HEADER, &crate::plaintext(len), &ad);
            assert_eq!(framed(len), ciphertext_range(&m));
            let header = Header {
                dh: PublicKey::from_bytes(HEADER.ratchet_key),
                pn: HEADER.previous_counter + 1,
                n: HEADER.counter,
            };
            let theirs = SIGNAL_V3_SUITE
                .seal(
                    &MessageKey::from_bytes(mk),
                    &header,
                    &crate::plaintext(len),
                    &ad,
                )
                .unwrap();
            assert_eq!(m, theirs);
        }
    }

    #[test]
    fn x3dh_floors_match_signal_v3() {
        let f = x3dh_fixture(2);
        assert!(xeddsa_verify(
            f.bundle.identity_key.as_bytes(),
            &f.bundle.signed_prekey.encode(),
            &f.bundle.signed_prekey_signature,
        ));
        let agreement = x3dh::respond(
            &SIGNAL_V3_SUITE,
            &f.bob_identity,
            &f.signed_prekey,
            Some(&f.one_time_prekey),
            f.alice_identity.public_key(),
            &f.alice_ephemeral,
        )
        .unwrap();
        let sk = x3dh_respond(
            &f.bob_identity.private_key().to_bytes(),
            &f.signed_prekey.private_key().to_bytes(),
            &f.one_time_prekey.private_key().to_bytes(),
            f.alice_identity.public_key().as_bytes(),
            f.alice_ephemeral.as_bytes(),
        );
        assert_eq!(&sk, agreement.shared_key.as_bytes());
    }

    #[test]
    fn composite_floors_open_what_they_seal() {
        let inputs = FloorInputs::with_aad_len(&mut rng(3), MAC_AD_LEN);
        let messages = burst_messages(&inputs.ck, 10, &[7u8; 64], &inputs.aad);
        assert_eq!(burst(&inputs.ck, &messages, &inputs.aad), 640);
        for len in [64, 1024] {
            let (a, b) = ping_pong(&inputs, &mut rng(4), &crate::plaintext(len));
            assert_eq!((a.len(), b.len()), (len, len));
        }
    }
}
