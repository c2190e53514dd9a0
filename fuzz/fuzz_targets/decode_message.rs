//! cargo-fuzz target `decode_message`: a thin wrapper; the body is
//! `ratchetproof::fuzzing::decode_message`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ratchetproof::fuzzing::decode_message(data);
});
