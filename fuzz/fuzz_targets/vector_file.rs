//! cargo-fuzz target `vector_file`: a thin wrapper; the body is
//! `ratchetproof::fuzzing::vector_file`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ratchetproof::fuzzing::vector_file(data);
});
