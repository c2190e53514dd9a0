//! The changelog rule (vectors/README.md, "Changes"): every change to a
//! vector or schema file changes the vector-set hash, and this test fails
//! until CHANGELOG.md's newest entry names the new hash. It runs with the
//! workspace's tests in CI.

use std::path::Path;

use ratchetproof_vectors::{check_changelog, set_hash};

#[test]
fn changelog_names_the_current_vector_set() -> Result<(), String> {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR"));
    let changelog_path = vectors.join("../CHANGELOG.md");
    let changelog = std::fs::read_to_string(&changelog_path)
        .map_err(|e| format!("{}: {e}", changelog_path.display()))?;
    let current = set_hash(vectors).map_err(|e| format!("hashing {}: {e}", vectors.display()))?;
    check_changelog(&changelog, current)
}
