//! cargo-fuzz target `x3dh_initial_message`: a thin wrapper; the body is
//! `ratchetproof::fuzzing::x3dh_initial_message`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ratchetproof::fuzzing::x3dh_initial_message(data);
});
