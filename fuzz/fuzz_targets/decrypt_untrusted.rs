//! cargo-fuzz target `decrypt_untrusted`: a thin wrapper; the body is
//! `ratchetproof::fuzzing::decrypt_untrusted`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ratchetproof::fuzzing::decrypt_untrusted(data);
});
