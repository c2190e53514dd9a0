//! Replays every committed fuzz input on stable Rust: the seed corpora in
//! `fuzz/corpus/<target>/` and the reproducers of fixed crashes in
//! `fuzz/regressions/<target>/` (fuzz/README.md says how a crash gets there).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use ratchetproof::fuzzing;

fn replay(target: &str, body: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for folder in ["corpus", "regressions"] {
        let dir = root.join(folder).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(
                outcome.is_ok(),
                "{target}: {} crashes the target body",
                path.display()
            );
            count += 1;
        }
    }
    assert!(count > 0, "no committed inputs for {target}");
}

#[test]
fn decode_message() {
    replay("decode_message", fuzzing::decode_message);
}

#[test]
fn decrypt_untrusted() {
    replay("decrypt_untrusted", fuzzing::decrypt_untrusted);
}

#[test]
fn x3dh_initial_message() {
    replay("x3dh_initial_message", fuzzing::x3dh_initial_message);
}

#[test]
fn state_deserialize() {
    replay("state_deserialize", fuzzing::state_deserialize);
}

#[test]
fn olm_untrusted() {
    replay("olm_untrusted", fuzzing::olm_untrusted);
}

#[test]
fn vector_file() {
    replay("vector_file", fuzzing::vector_file);
}

#[test]
fn session_interaction() {
    replay("session_interaction", fuzzing::session_interaction);
}

#[test]
fn seed_corpus_is_what_the_generator_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (target, name, bytes) in fuzzing::seed_corpus() {
        let committed = std::fs::read(root.join(target).join(&name)).unwrap_or_default();
        assert!(
            committed == bytes,
            "fuzz/corpus/{target}/{name} is stale: run `cargo run -p ratchetproof --example fuzz_seeds`"
        );
    }
}

/// The stateful target decodes every `Lose` to at most `MAX_FUZZ_LOSE`
/// messages (an input must not cost thousands of sends), and the cap still
/// reaches past the model's `MAX_SKIP`. Pseudo-random inputs (a fixed
/// xorshift) decode to scripts with `Lose` actions whose raw `u16` counts
/// are almost never that small, so without the cap this fails.
#[test]
fn session_interaction_caps_lose_counts() {
    use ratchetproof::model::{Action, MODEL_MAX_SKIP};
    assert!(u32::from(fuzzing::MAX_FUZZ_LOSE) >= 2 * (MODEL_MAX_SKIP + 1));
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut loses = 0;
    let mut largest = 0;
    for _ in 0..2_000 {
        let data: Vec<u8> = (0..256)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        let (_, actions) = fuzzing::interaction_script(&data);
        for action in actions {
            if let Action::Lose { count, .. } = action {
                assert!(count <= fuzzing::MAX_FUZZ_LOSE, "Lose of {count} decoded");
                loses += 1;
                largest = largest.max(count);
            }
        }
    }
    assert!(loses >= 100, "only {loses} Lose actions decoded");
    assert_eq!(largest, fuzzing::MAX_FUZZ_LOSE);
}
