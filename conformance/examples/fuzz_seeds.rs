//! Writes the seed corpora of the fuzz targets to `fuzz/corpus/<target>/`:
//! `cargo run -p ratchetproof --example fuzz_seeds`. Deterministic; the files
//! are committed, and `tests/fuzz_corpus.rs` replays them on stable Rust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let seeds = ratchetproof::fuzzing::seed_corpus();
    for (target, name, bytes) in &seeds {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    println!("wrote {} seed files below {}", seeds.len(), root.display());
}
