//! cargo-fuzz target `olm_untrusted`: a thin wrapper; the body is
//! `ratchetproof::fuzzing::olm_untrusted`, which `cargo test` also replays.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ratchetproof::fuzzing::olm_untrusted(data);
});
