//! The `ratchetproof` command line.
fn main() {}
