//! signal-v3 wire vectors whose MAC is correct (SIGNAL-V3.md §3, §4): each
//! initial message is built field by field from the suite's primitives with
//! Alice's real keys, so its embedded WhisperMessage carries the MAC its
//! sender would compute. Only the malformation under test can refuse it, and
//! a lenient parser is seen accepting it. The PreKeyWhisperMessage envelope
//! has no MAC at all, so every malformation of it is "correctly sealed".
//!
//! After a refused message Alice's genuine one is delivered: the refusal must
//! not have consumed the one-time prekey.

use aes::Aes256;
use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use ratchetproof_protocol::suite::WireEncoding;
use ratchetproof_protocol::suite::v3::VERSION;
use ratchetproof_protocol::x3dh;
use ratchetproof_protocol::{KeyPair, PrivateKey, PublicKey, RootKey, Suite};
use sha2::Sha256;

use super::{Bob, Cases, OPK_IDS, R, SPK_ID, Want, initial_message, pair};
use crate::generate::flags::Flag;
use crate::generate::{GenerateError, derived_key};
use crate::vectors::ErrorClass;

const HELLO: &[u8] = b"hello Bob";

/// One protobuf field as it goes on the wire.
#[derive(Clone)]
enum Field {
    Varint(u8, u64),
    Bytes(u8, Vec<u8>),
    /// Bytes written as they are (a broken field).
    Raw(Vec<u8>),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn encode(fields: &[Field]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        match f {
            Field::Varint(tag, v) => {
                out.push(tag << 3);
                put_varint(&mut out, *v);
            }
            Field::Bytes(tag, b) => {
                out.push((tag << 3) | 2);
                put_varint(&mut out, b.len() as u64);
                out.extend_from_slice(b);
            }
            Field::Raw(b) => out.extend_from_slice(b),
        }
    }
    out
}

fn encoded(key: &PublicKey) -> Vec<u8> {
    key.encode().to_vec()
}

/// Alice's first message to one Bob, with the keys to rebuild it.
struct Craft {
    label: String,
    bob: Bob,
    genuine: Vec<u8>,
    initial: x3dh::InitialMessage,
    ratchet: PublicKey,
    keys: Vec<u8>,
    mac_prefix: Vec<u8>,
}

impl Craft {
    fn new(c: &Cases, prefix: &str, name: &str) -> R<Self> {
        let label = format!("{prefix}/{name}");
        let fail = |message: String| GenerateError::Disagreement {
            tc_id: 0,
            comment: label.clone(),
            message,
        };
        let bob = Bob::new(&label);
        let bundle = bob.bundle(&label, SPK_ID, OPK_IDS.first().copied());
        let alice = format!("{label}/alice");
        let genuine = initial_message(c.suite, &alice, &bundle, HELLO, false)?;
        let initial = c
            .suite
            .decode_initial(&genuine)
            .map_err(|e| fail(e.to_string()))?;
        let ephemeral =
            KeyPair::from_private(PrivateKey::from_bytes(derived_key(&format!("{alice}/ek"))));
        let agreement = x3dh::initiate_with_ephemeral(
            c.suite,
            &pair(&format!("{alice}/ik")),
            &bundle,
            ephemeral,
        )
        .map_err(|e| fail(e.to_string()))?
        .agreement;
        // RatchetInitAlice and the first KDF_CK step (SPEC §5.2, §5.3).
        let a0 = KeyPair::from_private(PrivateKey::from_bytes(derived_key(&format!(
            "{alice}/ratchet/0"
        ))));
        let dh = a0
            .diffie_hellman(&bundle.signed_prekey)
            .map_err(|e| fail(e.to_string()))?;
        let (_, ck) = c
            .suite
            .kdf_rk(&RootKey::from_bytes(*agreement.shared_key.as_bytes()), &dh);
        let (_, mk) = c.suite.kdf_ck(&ck);
        let craft = Self {
            label: label.clone(),
            bob,
            genuine,
            initial,
            ratchet: *a0.public_key(),
            keys: c.suite.message_keys(&mk).to_vec(),
            // Alice sends: the MAC input starts with her identity (SIGNAL-V3 §2).
            mac_prefix: agreement.associated_data.to_vec(),
        };
        // The crafted genuine message must be the reference's, byte for byte.
        let rebuilt = craft.envelope(&craft.envelope_fields(craft.seal(
            &encode(&craft.whisper_fields(craft.ciphertext(HELLO, true)?)),
            true,
        )));
        if rebuilt != craft.genuine {
            return Err(fail(
                "crafted initial message differs from the reference's".into(),
            ));
        }
        Ok(craft)
    }

    fn part(&self, from: usize, len: usize) -> &[u8] {
        self.keys.get(from..from + len).unwrap_or_default()
    }

    /// AES-256-CBC of `plaintext`, PKCS#7-padded or (for a broken padding)
    /// raw, which needs a whole number of blocks.
    fn ciphertext(&self, plaintext: &[u8], padded: bool) -> R<Vec<u8>> {
        let cipher = cbc::Encryptor::<Aes256>::new_from_slices(self.part(0, 32), self.part(64, 16))
            .map_err(|_| GenerateError::Disagreement {
                tc_id: 0,
                comment: self.label.clone(),
                message: "AES key length".into(),
            })?;
        if padded {
            Ok(cipher.encrypt_padded_vec::<Pkcs7>(plaintext))
        } else {
            Ok(cipher.encrypt_padded_vec::<NoPadding>(plaintext))
        }
    }

    fn whisper_fields(&self, ciphertext: Vec<u8>) -> Vec<Field> {
        vec![
            Field::Bytes(1, encoded(&self.ratchet)),
            Field::Varint(2, 0),
            Field::Varint(3, 0),
            Field::Bytes(4, ciphertext),
        ]
    }

    /// `0x33 ‖ body ‖ MAC`, the MAC correct or with its last byte flipped.
    fn seal(&self, body: &[u8], good_mac: bool) -> Vec<u8> {
        let mut message = vec![VERSION];
        message.extend_from_slice(body);
        let mut mac = [0u8; 8];
        if let Ok(mut h) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.part(32, 32)) {
            h.update(&self.mac_prefix);
            h.update(&message);
            let full = h.finalize().into_bytes();
            mac.copy_from_slice(full.get(..8).unwrap_or(&[0; 8]));
        }
        if !good_mac && let Some(last) = mac.last_mut() {
            *last ^= 1;
        }
        message.extend_from_slice(&mac);
        message
    }

    fn envelope_fields(&self, message: Vec<u8>) -> Vec<Field> {
        let mut fields = Vec::new();
        if let Some(id) = self.initial.one_time_prekey_id {
            fields.push(Field::Varint(1, id.into()));
        }
        fields.extend([
            Field::Bytes(2, encoded(&self.initial.ephemeral_key)),
            Field::Bytes(3, encoded(&self.initial.identity_key)),
            Field::Bytes(4, message),
            Field::Varint(5, self.initial.registration_id.into()),
            Field::Varint(6, self.initial.signed_prekey_id.into()),
        ]);
        fields
    }

    fn envelope(&self, fields: &[Field]) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend(encode(fields));
        out
    }

    /// The initial message whose WhisperMessage body is `fields`, correctly MACed.
    fn with_body(&self, fields: &[Field]) -> Vec<u8> {
        self.envelope(&self.envelope_fields(self.seal(&encode(fields), true)))
    }

    /// The genuine WhisperMessage inside an envelope changed by `change`.
    fn with_envelope(&self, change: impl FnOnce(&mut Vec<Field>)) -> R<Vec<u8>> {
        let body = encode(&self.whisper_fields(self.ciphertext(HELLO, true)?));
        let mut fields = self.envelope_fields(self.seal(&body, true));
        change(&mut fields);
        Ok(self.envelope(&fields))
    }
}

/// Index of field `tag` in `fields`.
fn find(fields: &[Field], tag: u8) -> Option<usize> {
    fields.iter().position(|f| match f {
        Field::Varint(t, _) | Field::Bytes(t, _) => *t == tag,
        Field::Raw(_) => false,
    })
}

fn replace(fields: &mut [Field], tag: u8, with: Field) {
    if let Some(f) = find(fields, tag).and_then(|i| fields.get_mut(i)) {
        *f = with;
    }
}

fn remove(fields: &mut Vec<Field>, tag: u8) {
    if let Some(i) = find(fields, tag) {
        fields.remove(i);
    }
}

/// One case: `bad` must give `want`; when refused, the genuine message is
/// delivered next and must still be accepted.
fn add(
    c: &mut Cases,
    k: &Craft,
    comment: &str,
    flags: &[Flag],
    bad: Vec<u8>,
    want: Want<'_>,
) -> R<()> {
    let refused = matches!(want, Want::Refuse(_) | Want::RefuseFixed(_));
    let mut deliveries = vec![(bad, want)];
    if refused {
        deliveries.push((k.genuine.clone(), Want::Accept(HELLO)));
    }
    c.add(&k.label, comment, flags, &k.bob, deliveries)
}

const M: &[ErrorClass] = &[ErrorClass::Malformed];
const K: &[ErrorClass] = &[ErrorClass::InvalidKey];

/// Whether `suite` has these cases: libsignal's protobuf encoding only.
pub(crate) fn applies(suite: Suite) -> bool {
    suite.wire_encoding() == WireEncoding::WhisperProtobuf
}

/// The cases; for suites with libsignal's protobuf encoding only (the
/// fixed-layout encodings have their own).
pub(super) fn cases(c: &mut Cases) -> R<()> {
    cases_under(c, "accept/v3-wire")
}

/// [`cases`] with every key derived from labels under `prefix` (`explore`
/// draws a fresh prefix per case).
pub(crate) fn cases_under(c: &mut Cases, prefix: &str) -> R<()> {
    if !applies(c.suite) {
        return Ok(());
    }
    let whisper = [Flag::V3Wire, Flag::CorrectMac];
    // --- WhisperMessage, MAC correct.
    let k = Craft::new(c, prefix, "unknown-field")?;
    let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
    f.push(Field::Varint(9, 1));
    add(
        c,
        &k,
        "embedded WhisperMessage with an unknown field 9, MAC correct: accepted (unknown fields are skipped)",
        &whisper,
        k.with_body(&f),
        Want::Accept(HELLO),
    )?;

    let k = Craft::new(c, prefix, "duplicate-counter")?;
    let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
    f.insert(1, Field::Varint(2, 5));
    add(
        c,
        &k,
        "embedded WhisperMessage with counter written twice (5, then 0), MAC correct: the last value counts, accepted",
        &whisper,
        k.with_body(&f),
        Want::Accept(HELLO),
    )?;

    for (tag, what) in [(1u8, "ratchetKey"), (2, "counter"), (4, "ciphertext")] {
        let k = Craft::new(c, prefix, &format!("missing-{tag}"))?;
        let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
        remove(&mut f, tag);
        add(
            c,
            &k,
            &format!(
                "embedded WhisperMessage without field {tag} ({what}), MAC correct: malformed"
            ),
            &whisper,
            k.with_body(&f),
            Want::Refuse(M),
        )?;
    }

    // libsignal reads an absent previousCounter as 0 (it requires only the
    // ratchet key, counter and ciphertext): that conforms too.
    let k = Craft::new(c, prefix, "missing-3")?;
    let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
    remove(&mut f, 3);
    add(
        c,
        &k,
        "embedded WhisperMessage without field 3 (previousCounter), MAC correct: malformed, or read as previousCounter 0 as libsignal does",
        &whisper,
        k.with_body(&f),
        Want::RefuseOrReadAs(M, k.genuine.clone()),
    )?;

    let k = Craft::new(c, prefix, "wrong-wire-type")?;
    let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
    replace(&mut f, 2, Field::Raw(vec![0x12, 0x01, 0x00]));
    add(
        c,
        &k,
        "embedded WhisperMessage whose counter is length-delimited (wrong wire type), MAC correct: malformed",
        &whisper,
        k.with_body(&f),
        Want::Refuse(M),
    )?;

    let k = Craft::new(c, prefix, "overlong-varint")?;
    let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
    let mut raw = vec![0x10];
    raw.extend([0x80; 10]);
    raw.push(0x00);
    replace(&mut f, 2, Field::Raw(raw));
    add(
        c,
        &k,
        "embedded WhisperMessage whose counter varint runs over 10 bytes, MAC correct: malformed",
        &whisper,
        k.with_body(&f),
        Want::Refuse(M),
    )?;

    let k = Craft::new(c, prefix, "overlong-length")?;
    let ct = k.ciphertext(HELLO, true)?;
    let mut f = k.whisper_fields(ct.clone());
    let mut raw = vec![0x22];
    put_varint(&mut raw, ct.len() as u64 + 100);
    raw.extend_from_slice(&ct);
    replace(&mut f, 4, Field::Raw(raw));
    add(
        c,
        &k,
        "embedded WhisperMessage whose ciphertext length runs past the end, MAC correct: malformed",
        &whisper,
        k.with_body(&f),
        Want::Refuse(M),
    )?;

    let k = Craft::new(c, prefix, "trailing-byte")?;
    let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
    f.push(Field::Raw(vec![0x00]));
    add(
        c,
        &k,
        "embedded WhisperMessage with a trailing zero byte after its fields (field number 0), MAC correct: malformed",
        &whisper,
        k.with_body(&f),
        Want::Refuse(M),
    )?;

    for (bytes, what) in [
        (
            [vec![0x06], k.ratchet.as_bytes().to_vec()].concat(),
            "type byte 0x06",
        ),
        (
            k.ratchet.as_bytes().to_vec(),
            "32 bytes without the type byte",
        ),
    ] {
        let k = Craft::new(c, prefix, &format!("ratchet-key/{what}"))?;
        let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
        replace(&mut f, 1, Field::Bytes(1, bytes));
        add(
            c,
            &k,
            &format!(
                "embedded WhisperMessage whose ratchetKey has {what}, MAC correct: invalid_key"
            ),
            &whisper,
            k.with_body(&f),
            Want::Refuse(K),
        )?;
    }

    for (tag, value, what) in [
        (2u8, 1u64 << 32, "counter 2^32 (0 modulo 2^32)"),
        (3, 1u64 << 32, "previousCounter 2^32 (0 modulo 2^32)"),
    ] {
        let k = Craft::new(c, prefix, &format!("varint-overflow/{tag}"))?;
        let mut f = k.whisper_fields(k.ciphertext(HELLO, true)?);
        replace(&mut f, tag, Field::Varint(tag, value));
        add(
            c,
            &k,
            &format!(
                "embedded WhisperMessage with {what}, MAC correct: malformed, or read modulo 2^32 as protobuf's uint32 is"
            ),
            &[Flag::V3Wire, Flag::CorrectMac, Flag::VarintOverflow],
            k.with_body(&f),
            Want::RefuseOrReadAs(M, k.genuine.clone()),
        )?;
    }

    // Padding: checked only after the MAC (no padding oracle).
    let k = Craft::new(c, prefix, "bad-padding")?;
    let mut block = [0x42u8; 16];
    block[15] = 0x00;
    let ct = k.ciphertext(&block, false)?;
    let body = encode(&k.whisper_fields(ct.clone()));
    let good = k.envelope(&k.envelope_fields(k.seal(&body, true)));
    // Several classes conform here (see SIGNAL-V3.md §3): multi-class site.
    add(
        c,
        &k,
        "embedded WhisperMessage whose PKCS#7 padding is invalid, MAC correct: refused",
        &[Flag::V3Wire, Flag::CorrectMac, Flag::Padding],
        good,
        Want::Refuse(&[ErrorClass::Authentication, ErrorClass::Malformed]),
    )?;
    let k = Craft::new(c, prefix, "bad-padding-bad-mac")?;
    let ct = k.ciphertext(&block, false)?;
    let body = encode(&k.whisper_fields(ct));
    let bad = k.envelope(&k.envelope_fields(k.seal(&body, false)));
    add(
        c,
        &k,
        "embedded WhisperMessage with invalid padding AND a wrong MAC: authentication (the MAC is checked first: no padding oracle)",
        &[Flag::V3Wire, Flag::Padding],
        bad,
        Want::RefuseFixed(ErrorClass::Authentication),
    )?;

    // --- PreKeyWhisperMessage envelope (no MAC covers it).
    let env = [Flag::V3Wire, Flag::Envelope];
    let k = Craft::new(c, prefix, "env/unknown-field")?;
    let m = k.with_envelope(|f| f.push(Field::Varint(9, 1)))?;
    add(
        c,
        &k,
        "PreKeyWhisperMessage with an unknown field 9: accepted (unknown fields are skipped)",
        &env,
        m,
        Want::Accept(HELLO),
    )?;
    let k = Craft::new(c, prefix, "env/duplicate-spk-id")?;
    let m = k.with_envelope(|f| {
        if let Some(i) = find(f, 6) {
            f.insert(i, Field::Varint(6, 99));
        }
    })?;
    add(
        c,
        &k,
        "PreKeyWhisperMessage with signedPreKeyId written twice (99, then the right id): the last value counts, accepted",
        &env,
        m,
        Want::Accept(HELLO),
    )?;
    for (tag, what) in [
        (2u8, "baseKey"),
        (3, "identityKey"),
        (4, "message"),
        (6, "signedPreKeyId"),
    ] {
        let k = Craft::new(c, prefix, &format!("env/missing-{tag}"))?;
        let m = k.with_envelope(|f| remove(f, tag))?;
        add(
            c,
            &k,
            &format!("PreKeyWhisperMessage without field {tag} ({what}): malformed"),
            &env,
            m,
            Want::Refuse(M),
        )?;
    }
    for (tag, what) in [(2u8, "baseKey"), (3, "identityKey")] {
        for (variant, with_type) in [
            ("type byte 0x06", true),
            ("32 bytes without the type byte", false),
        ] {
            let bytes = |k: &PublicKey| {
                if with_type {
                    [vec![0x06], k.as_bytes().to_vec()].concat()
                } else {
                    k.as_bytes().to_vec()
                }
            };
            let k = Craft::new(c, prefix, &format!("env/key-{tag}/{variant}"))?;
            let key = if tag == 2 {
                k.initial.ephemeral_key
            } else {
                k.initial.identity_key
            };
            let m = k.with_envelope(|f| replace(f, tag, Field::Bytes(tag, bytes(&key))))?;
            add(
                c,
                &k,
                &format!("PreKeyWhisperMessage whose {what} has {variant}: invalid_key"),
                &env,
                m,
                Want::Refuse(K),
            )?;
        }
    }
    let k = Craft::new(c, prefix, "env/wrong-wire-type")?;
    let m = k.with_envelope(|f| replace(f, 2, Field::Varint(2, 5)))?;
    add(
        c,
        &k,
        "PreKeyWhisperMessage whose baseKey is a varint (wrong wire type): malformed",
        &env,
        m,
        Want::Refuse(M),
    )?;
    let k = Craft::new(c, prefix, "env/garbage-message")?;
    let m = k.with_envelope(|f| replace(f, 4, Field::Bytes(4, vec![VERSION, 1, 2, 3])))?;
    add(
        c,
        &k,
        "PreKeyWhisperMessage whose message field is 4 bytes of garbage: malformed",
        &env,
        m,
        Want::Refuse(M),
    )?;
    let k = Craft::new(c, prefix, "env/empty-message")?;
    let m = k.with_envelope(|f| replace(f, 4, Field::Bytes(4, Vec::new())))?;
    add(
        c,
        &k,
        "PreKeyWhisperMessage whose message field is empty: malformed",
        &env,
        m,
        Want::Refuse(M),
    )?;
    let k = Craft::new(c, prefix, "env/trailing-byte")?;
    let m = k.with_envelope(|f| f.push(Field::Raw(vec![0x00])))?;
    add(
        c,
        &k,
        "PreKeyWhisperMessage with a trailing zero byte (field number 0): malformed",
        &env,
        m,
        Want::Refuse(M),
    )?;
    let overflow = [Flag::V3Wire, Flag::Envelope, Flag::VarintOverflow];
    for (tag, what) in [
        (1u8, "preKeyId"),
        (5, "registrationId"),
        (6, "signedPreKeyId"),
    ] {
        let k = Craft::new(c, prefix, &format!("env/varint-overflow/{tag}"))?;
        let m = k.with_envelope(|f| {
            if let Some(Field::Varint(_, v)) = find(f, tag).and_then(|i| f.get_mut(i)) {
                *v += 1 << 32;
            }
        })?;
        add(
            c,
            &k,
            &format!(
                "PreKeyWhisperMessage whose {what} is its right value + 2^32: malformed, or read modulo 2^32 as protobuf's uint32 is"
            ),
            &overflow,
            m,
            Want::RefuseOrReadAs(M, k.genuine.clone()),
        )?;
    }
    Ok(())
}
