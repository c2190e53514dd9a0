//! Messages altered byte by byte, field by field of the suite's wire
//! layout, and delivered under altered associated data: each is refused
//! without changing the receiver's state.

use ratchetproof_protocol::Role;
use ratchetproof_protocol::suite::FieldRole;

use super::{ANY_REFUSAL, Cases, R, Scenario};
use crate::generate::GenerateError;
use crate::generate::flags::Flag;
use crate::vectors::ErrorClass;

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
    flag: Flag,
    field: &'static str,
    classes: &'static [ErrorClass],
    masks: &'static [u8],
}

/// A changed counter can claim a jump past MAX_SKIP (refused before
/// authentication) or an already-used number (a duplicate).
const COUNTER_CLASSES: &[ErrorClass] = &[
    ErrorClass::Authentication,
    ErrorClass::TooManySkipped,
    ErrorClass::Duplicate,
];
const BOTH_MASKS: &[u8] = &[0x01, 0x80];
const LOW_MASK: &[u8] = &[0x01];

/// The byte positions to tamper with in `wire`, from the suite's layout:
/// the version, then the encoding's structure bytes, then the key type
/// byte, then the other fields in wire order. Every byte of a short field
/// is flipped; of the ciphertext, the first two and the last.
fn tamper_positions(c: &Cases, wire: &[u8]) -> R<Vec<Tamper>> {
    let layout = c
        .suite
        .message_layout(wire)
        .map_err(|e| GenerateError::Disagreement {
            tc_id: 0,
            comment: "tampering".into(),
            message: format!("the suite cannot lay out its own message: {e}"),
        })?;
    let mut out = Vec::new();
    let first_roles = [FieldRole::Version, FieldRole::Structure, FieldRole::KeyType];
    let ordered = first_roles.iter().flat_map(|&role| layout.of(role)).chain(
        layout
            .fields
            .iter()
            .filter(|f| !first_roles.contains(&f.role)),
    );
    for field in ordered {
        let range = field.range.clone();
        let last = range.end.saturating_sub(1);
        let t = |pos, flag, classes, masks| Tamper {
            pos,
            flag,
            field: field.name,
            classes,
            masks,
        };
        match field.role {
            FieldRole::Version => {
                out.extend(range.map(|i| {
                    t(
                        i,
                        Flag::TamperVersion,
                        &[ErrorClass::Unsupported][..],
                        BOTH_MASKS,
                    )
                }));
            }
            FieldRole::Structure => {
                out.extend(range.map(|i| t(i, Flag::TamperEncoding, ANY_REFUSAL, LOW_MASK)));
            }
            FieldRole::KeyType => {
                out.extend(range.map(|i| {
                    t(
                        i,
                        Flag::TamperRatchetKey,
                        &[ErrorClass::InvalidKey][..],
                        LOW_MASK,
                    )
                }));
            }
            FieldRole::RatchetKey => out.extend(range.map(|i| {
                let masks = if i == last { BOTH_MASKS } else { LOW_MASK };
                t(
                    i,
                    Flag::TamperRatchetKey,
                    &[ErrorClass::Authentication][..],
                    masks,
                )
            })),
            FieldRole::PreviousCounter => {
                out.extend(
                    range.map(|i| t(i, Flag::TamperPreviousCounter, COUNTER_CLASSES, LOW_MASK)),
                );
            }
            FieldRole::Counter => {
                out.extend(range.map(|i| t(i, Flag::TamperCounter, COUNTER_CLASSES, LOW_MASK)));
            }
            FieldRole::Ciphertext => {
                for i in [range.start, range.start + 1, last] {
                    out.push(t(
                        i,
                        Flag::TamperCiphertext,
                        &[ErrorClass::Authentication][..],
                        BOTH_MASKS,
                    ));
                }
            }
            FieldRole::Tag => {
                out.extend(range.map(|i| {
                    t(
                        i,
                        Flag::TamperTag,
                        &[ErrorClass::Authentication][..],
                        BOTH_MASKS,
                    )
                }));
            }
        }
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
                        s.refuse_bytes("bob", bad, None, *class)?;
                        // A well-formed message altered after sealing under
                        // a genuine key: the tag check is what refuses it.
                        if *class == ErrorClass::Authentication {
                            s.class_fixed()?;
                        }
                    }
                    _ => s.refuse_bytes_as_one_of("bob", bad, classes)?,
                }
                s.deliver("bob", target)?;
                s.deliver("bob", follow)?;
                s.continue_both_ways()?;
                c.add(s, &format!("{ctx}: byte {pos} ({field}) xor 0x{mask:02x} is refused; the genuine message then decrypts"), &[flag, Flag::Atomicity])?;
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
            // A suite may read the AD as something (signal-v3: two encoded
            // identity keys, docs/SIGNAL-V3.md §2) and refuse other bytes.
            let class = if c.suite.order_ad(&bad_ad, Role::Alice).is_err() {
                ErrorClass::InvalidKey
            } else {
                ErrorClass::Authentication
            };
            s.refuse_bytes("bob", wire, Some(bad_ad), class)?;
            if class == ErrorClass::Authentication {
                s.class_fixed()?;
            } else {
                // When the AD's shape is checked is left open: an
                // implementation that only MACs it fails the tag.
                s.or_refused(ErrorClass::Authentication)?;
            }
            s.deliver("bob", target)?;
            s.deliver("bob", follow)?;
            s.continue_both_ways()?;
            c.add(
                s,
                &format!("{ctx} under the wrong associated data ({what}) is refused"),
                &[Flag::TamperAssociatedData, Flag::Atomicity],
            )?;
        }
    }
    Ok(())
}
