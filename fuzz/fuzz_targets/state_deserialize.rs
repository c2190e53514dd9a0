//! cargo-fuzz target `state_deserialize`: a thin wrapper; the body is
//! `ratchetproof::fuzzing::state_deserialize`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ratchetproof::fuzzing::state_deserialize(data);
});
