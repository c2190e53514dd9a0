//! cargo-fuzz target `session_interaction`: the stateful target. The body,
//! `ratchetproof::fuzzing::session_interaction`, plays an `arbitrary`-derived
//! action script over the scenario model and checks its invariants after
//! every step; `cargo test` replays the committed corpus through it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ratchetproof::fuzzing::session_interaction(data);
});
