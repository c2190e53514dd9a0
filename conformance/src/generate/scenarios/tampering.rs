//! Messages altered byte by byte, field by field of the suite's wire
//! layout, and delivered under altered associated data: each is refused
//! without changing the receiver's state.

use super::{ANY_REFUSAL, Cases, R, Scenario};
use crate::generate::GenerateError;

/// A session pair where Bob is mid-conversation, and the next message from
/// Alice either continues Bob's current receiving chain or starts a new one.
pub(super) fn tamper_base(c: &Cases, new_chain: bool) -> R<(Scenario, usize, usize)> {
    let mut s = c.start(if new_chain {
        "tamper-new-chain"
    } else {
        "tamper-same-chain"
    })?;
    let a = s.say("alice")?;
    s.deliver("bob", a)?;
    if new_chain {
        let r = s.say("bob")?;
        s.deliver("alice", r)?;
    }
    let target = s.send("alice", b"attack at dawn, sixteen+ bytes")?;
    let follow = s.say("alice")?;
    Ok((s, target, follow))
}

/// A change made to the associated data.
type AdChange = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// One byte position of a wire message to flip, what it is, and the
/// error classes a refusal may carry.
struct Tamper {
    pos: usize,
    flag: &'static str,
    field: &'static str,
    classes: &'static [&'static str],
    masks: &'static [u8],
}

/// A changed counter can claim a jump past MAX_SKIP (refused before
/// authentication) or an already-used number (a duplicate).
const COUNTER_CLASSES: &[&str] = &["authentication", "too_many_skipped", "duplicate"];
const BOTH_MASKS: &[u8] = &[0x01, 0x80];
const LOW_MASK: &[u8] = &[0x01];

/// The byte positions to tamper with in a message of `len` bytes, by suite.
fn tamper_positions(c: &Cases, wire: &[u8]) -> R<Vec<Tamper>> {
    let len = wire.len();
    let t = |pos, flag, field, classes, masks| Tamper {
        pos,
        flag,
        field,
        classes,
        masks,
    };
    let mut out = vec![t(
        0,
        "TamperVersion",
        "version byte",
        &["unsupported"],
        BOTH_MASKS,
    )];
    if c.suite.name() == "signal-v3" {
        // 0x33 ‖ 0a 21 05 u(32) ‖ 10 n ‖ 18 pc ‖ 22 len ct ‖ mac(8), with
        // single-byte varints (docs/SIGNAL-V3.md §3).
        let structure = [1usize, 2, 36, 38, 40, 41];
        let expect = |pos: usize, byte: u8| wire.get(pos) == Some(&byte);
        if !(expect(1, 0x0a)
            && expect(2, 0x21)
            && expect(3, 0x05)
            && expect(36, 0x10)
            && expect(38, 0x18)
            && expect(40, 0x22)
            && wire
                .get(41)
                .is_some_and(|l| usize::from(*l) + 42 + 8 == len))
        {
            return Err(GenerateError::Disagreement {
                tc_id: 0,
                comment: "tampering".into(),
                message: "a signal-v3 message does not have the expected layout".into(),
            });
        }
        for pos in structure {
            out.push(t(
                pos,
                "TamperEncoding",
                "protobuf tag or length",
                ANY_REFUSAL,
                LOW_MASK,
            ));
        }
        out.push(t(
            3,
            "TamperRatchetKey",
            "key type byte",
            &["invalid_key"],
            LOW_MASK,
        ));
        for i in 4..=35 {
            let masks = if i == 35 { BOTH_MASKS } else { LOW_MASK };
            out.push(t(
                i,
                "TamperRatchetKey",
                "ratchet key",
                &["authentication"],
                masks,
            ));
        }
        out.push(t(37, "TamperCounter", "N", COUNTER_CLASSES, LOW_MASK));
        out.push(t(
            39,
            "TamperPreviousCounter",
            "PN",
            COUNTER_CLASSES,
            LOW_MASK,
        ));
        let mac_start = len - 8;
        for i in [42, 43, mac_start - 1] {
            out.push(t(
                i,
                "TamperCiphertext",
                "ciphertext",
                &["authentication"],
                BOTH_MASKS,
            ));
        }
        for i in mac_start..len {
            out.push(t(i, "TamperTag", "MAC", &["authentication"], BOTH_MASKS));
        }
        return Ok(out);
    }
    let header = ratchetproof_protocol::header::HEADER_LEN;
    for i in 1..=32 {
        let masks = if i == 32 { BOTH_MASKS } else { LOW_MASK };
        out.push(t(
            i,
            "TamperRatchetKey",
            "ratchet key",
            &["authentication"],
            masks,
        ));
    }
    for i in 33..37 {
        out.push(t(
            i,
            "TamperPreviousCounter",
            "PN",
            COUNTER_CLASSES,
            LOW_MASK,
        ));
    }
    for i in 37..41 {
        out.push(t(i, "TamperCounter", "N", COUNTER_CLASSES, LOW_MASK));
    }
    let tag_start = len - 16;
    for i in [1 + header, 2 + header, tag_start - 1] {
        out.push(t(
            i,
            "TamperCiphertext",
            "ciphertext",
            &["authentication"],
            BOTH_MASKS,
        ));
    }
    for i in tag_start..len {
        out.push(t(i, "TamperTag", "tag", &["authentication"], BOTH_MASKS));
    }
    Ok(out)
}

pub(super) fn tampering(c: &mut Cases) -> R<()> {
    for new_chain in [false, true] {
        let ctx = if new_chain {
            "a message that starts a new chain"
        } else {
            "a message on the current chain"
        };
        let base = tamper_base(c, new_chain)?
            .0
            .wire(1 + usize::from(new_chain))?;
        let positions = tamper_positions(c, &base)?;
        for Tamper {
            pos,
            flag,
            field,
            classes,
            masks,
        } in positions
        {
            for &mask in masks {
                let (mut s, target, follow) = tamper_base(c, new_chain)?;
                let mut bad = s.wire(target)?;
                if let Some(b) = bad.get_mut(pos) {
                    *b ^= mask;
                }
                match classes {
                    [class] => {
                        s.refuse_bytes("bob", bad, None, class)?;
                        // A well-formed message altered after sealing under
                        // a genuine key: the tag check is what refuses it.
                        if *class == "authentication" {
                            s.class_fixed()?;
                        }
                    }
                    _ => s.refuse_bytes_as_one_of("bob", bad, classes)?,
                }
                s.deliver("bob", target)?;
                s.deliver("bob", follow)?;
                s.continue_both_ways()?;
                c.add(s, &format!("{ctx}: byte {pos} ({field}) xor 0x{mask:02x} is refused; the genuine message then decrypts"), &[flag, "Atomicity"])?;
            }
        }
        let ad_variants: Vec<(&str, AdChange)> = vec![
            (
                "first AD byte flipped",
                Box::new(|ad: &[u8]| {
                    let mut v = ad.to_vec();
                    if let Some(b) = v.first_mut() {
                        *b ^= 1;
                    }
                    v
                }),
            ),
            (
                "last AD byte flipped",
                Box::new(|ad: &[u8]| {
                    let mut v = ad.to_vec();
                    if let Some(b) = v.last_mut() {
                        *b ^= 1;
                    }
                    v
                }),
            ),
            (
                "AD truncated by one byte",
                Box::new(|ad: &[u8]| {
                    ad.get(..ad.len().saturating_sub(1))
                        .unwrap_or_default()
                        .to_vec()
                }),
            ),
            (
                "AD extended by one byte",
                Box::new(|ad: &[u8]| {
                    let mut v = ad.to_vec();
                    v.push(0);
                    v
                }),
            ),
            ("empty AD", Box::new(|_: &[u8]| Vec::new())),
            (
                "AD with the two identities swapped",
                Box::new(|ad: &[u8]| {
                    let (a, b) = ad.split_at(ad.len() / 2);
                    [b, a].concat()
                }),
            ),
        ];
        for (what, f) in &ad_variants {
            let (mut s, target, follow) = tamper_base(c, new_chain)?;
            let bad_ad = f(&s.ad());
            let wire = s.wire(target)?;
            // signal-v3 reads the AD as two encoded identity keys and refuses
            // bytes that are not (docs/SIGNAL-V3.md §2).
            let names_two_keys = bad_ad.len() == 66
                && bad_ad.first() == Some(&0x05)
                && bad_ad.get(33) == Some(&0x05);
            let class = if c.suite.name() == "signal-v3" && !names_two_keys {
                "invalid_key"
            } else {
                "authentication"
            };
            s.refuse_bytes("bob", wire, Some(bad_ad), class)?;
            if class == "authentication" {
                s.class_fixed()?;
            } else {
                // When the AD's shape is checked is left open: an
                // implementation that only MACs it fails the tag.
                s.or_refused("authentication")?;
            }
            s.deliver("bob", target)?;
            s.deliver("bob", follow)?;
            s.continue_both_ways()?;
            c.add(
                s,
                &format!("{ctx} under the wrong associated data ({what}) is refused"),
                &["TamperAssociatedData", "Atomicity"],
            )?;
        }
    }
    Ok(())
}
