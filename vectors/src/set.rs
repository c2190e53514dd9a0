//! The identity of a vector set: one SHA-256 over every JSON file of a
//! `vectors/` folder, so that two results can be compared knowing they ran
//! the same cases, and CHANGELOG.md can name each version of the set.
//!
//! The definition (also in `vectors/README.md`, "The vector-set hash") is
//! chosen so that anyone can recompute it with coreutils:
//!
//! ```text
//! cd vectors && find . -type f -name '*.json' -printf '%P\n' | LC_ALL=C sort | xargs sha256sum | sha256sum
//! ```
//!
//! that is, SHA-256 over the `sha256sum` manifest of every regular file
//! named `*.json` below the folder (the vector files and `schema/`), one line
//! `HEX  PATH\n` per file, paths relative to the folder with `/` separators,
//! sorted by their bytes. Nothing else is read: README, RULES.md and the
//! crate's sources are documentation and code, not the set.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// How a [`SetHash`] is written: `sha256:` and 64 lowercase hex digits.
pub const SET_HASH_PREFIX: &str = "sha256:";

/// The SHA-256 of a vector set's manifest ([`set_hash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetHash(pub [u8; 32]);

impl fmt::Display for SetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SET_HASH_PREFIX}{}", ::hex::encode(self.0))
    }
}

impl std::str::FromStr for SetHash {
    type Err = String;

    /// Reads the written form, `sha256:` and 64 hex digits.
    fn from_str(s: &str) -> Result<Self, String> {
        let digits = s
            .strip_prefix(SET_HASH_PREFIX)
            .ok_or_else(|| format!("{s:?} does not start with {SET_HASH_PREFIX}"))?;
        let mut out = [0u8; 32];
        ::hex::decode_to_slice(digits, &mut out)
            .map_err(|e| format!("{s:?}: not 64 hex digits: {e}"))?;
        Ok(SetHash(out))
    }
}

/// One file of a set: its path relative to the set's folder and the SHA-256
/// of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetFile {
    /// Relative path, `/`-separated (e.g. `signal-v3/x3dh.json`).
    pub path: String,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

impl SetFile {
    /// The file's entry from its relative path and bytes.
    pub fn new(path: impl Into<String>, bytes: &[u8]) -> SetFile {
        SetFile {
            path: path.into(),
            sha256: Sha256::digest(bytes).into(),
        }
    }
}

/// Why a folder's set hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// A folder or file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A path the manifest cannot spell as `sha256sum` does (not UTF-8, or
    /// holding a newline or backslash, which `sha256sum` escapes).
    #[error("{0}: a vector-set path must be UTF-8 without newlines or backslashes")]
    Path(PathBuf),
}

/// The manifest's hash: SHA-256 over `HEX  PATH\n` for each file, sorted by
/// path bytes (the order of `files` does not matter).
pub fn hash_files(files: &[SetFile]) -> SetHash {
    let mut sorted: Vec<&SetFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut manifest = Sha256::new();
    for file in sorted {
        manifest.update(::hex::encode(file.sha256));
        manifest.update(b"  ");
        manifest.update(file.path.as_bytes());
        manifest.update(b"\n");
    }
    SetHash(manifest.finalize().into())
}

/// Every file of the set below `root` (every regular `*.json` file, however
/// deep; symbolic links are not followed), sorted by path.
pub fn set_files(root: &Path) -> Result<Vec<SetFile>, SetError> {
    let mut out = Vec::new();
    walk(root, "", &mut out)?;
    out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Ok(out)
}

/// The hash of the vector set in the folder `root` (a `vectors/` folder).
pub fn set_hash(root: &Path) -> Result<SetHash, SetError> {
    Ok(hash_files(&set_files(root)?))
}

/// The folder of the vector set `path` belongs to: `path` itself or its
/// nearest ancestor holding a `schema/` folder (what marks a `vectors/`
/// folder), made absolute; `None` for a file outside any set.
pub fn find_root(path: &Path) -> Option<PathBuf> {
    // Absolute, so that a relative path's last ancestor is not "" (which
    // would mean the current directory).
    let path = std::path::absolute(path).ok()?;
    let start = if path.is_dir() {
        path.as_path()
    } else {
        path.parent()?
    };
    start
        .ancestors()
        .find(|dir| dir.join("schema").is_dir())
        .map(Path::to_path_buf)
}

/// `path` relative to `root`, `/`-separated, as the manifest spells it
/// (both are made absolute first).
pub fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let (root, path) = (
        std::path::absolute(root).ok()?,
        std::path::absolute(path).ok()?,
    );
    let rel = path.strip_prefix(&root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let joined = parts?.join("/");
    (!joined.is_empty() && spellable(&joined)).then_some(joined)
}

/// The first vector-set hash a changelog names (`sha256:` and 64 hex
/// digits), which the rule in `vectors/README.md` makes the newest entry's.
pub fn newest_named_hash(changelog: &str) -> Option<SetHash> {
    changelog
        .match_indices(SET_HASH_PREFIX)
        .filter_map(|(at, _)| changelog.get(at..at + SET_HASH_PREFIX.len() + 64))
        .find_map(|candidate| candidate.parse().ok())
}

/// The changelog rule: the newest hash CHANGELOG.md names must be the set's
/// current one, so a change to any vector or schema file cannot land
/// without an entry that names the set it produces. The error says what
/// to add.
pub fn check_changelog(changelog: &str, current: SetHash) -> Result<(), String> {
    match newest_named_hash(changelog) {
        Some(named) if named == current => Ok(()),
        named => Err(format!(
            "the vector set is {current}, but the newest hash CHANGELOG.md names is {}: \
             add an entry under \"Unreleased\" that says which cases were added or \
             changed and why, and names {current} (vectors/README.md, \"Changes\")",
            named.map_or_else(|| "none".to_string(), |h| h.to_string())
        )),
    }
}

fn spellable(path: &str) -> bool {
    !path.contains(['\n', '\\'])
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<SetFile>) -> Result<(), SetError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SetError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path))?;
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| spellable(n)) else {
            if kind.is_dir() || (kind.is_file() && path.extension().is_some_and(|e| e == "json")) {
                return Err(SetError::Path(path));
            }
            continue;
        };
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if kind.is_dir() {
            walk(&path, &rel, out)?;
        } else if kind.is_file() && name.ends_with(".json") {
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            out.push(SetFile::new(rel, &bytes));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    /// A scratch copy of a small set: two vector files and a schema.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ratchetproof-vectors-set-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("schema")).unwrap();
        std::fs::create_dir_all(dir.join("suite-a")).unwrap();
        std::fs::write(dir.join("schema/a.schema.json"), "{}\n").unwrap();
        std::fs::write(dir.join("suite-a/x3dh.json"), "{\"tests\": []}\n").unwrap();
        std::fs::write(dir.join("suite-a/primitives.json"), "[1, 2]\n").unwrap();
        std::fs::write(dir.join("README.md"), "not in the set\n").unwrap();
        dir
    }

    #[test]
    fn the_hash_is_sha256sum_of_the_sorted_manifest() {
        let files = [SetFile::new("b.json", b"b"), SetFile::new("a/z.json", b"")];
        // printf '' > a/z.json; printf b > b.json; sha256sum a/z.json b.json | sha256sum
        let manifest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a/z.json\n\
                        3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.json\n";
        let want: [u8; 32] = Sha256::digest(manifest.as_bytes()).into();
        assert_eq!(hash_files(&files), SetHash(want));
        // Order of the input does not matter; the manifest is sorted.
        let reversed = [files[1].clone(), files[0].clone()];
        assert_eq!(hash_files(&reversed), SetHash(want));
    }

    #[test]
    fn a_folder_hashes_the_same_every_time_and_only_its_json_files() {
        let dir = scratch("stable");
        let files = set_files(&dir).unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "schema/a.schema.json",
                "suite-a/primitives.json",
                "suite-a/x3dh.json"
            ]
        );
        let first = set_hash(&dir).unwrap();
        assert_eq!(set_hash(&dir).unwrap(), first);
        // A file that is not JSON is not part of the set.
        std::fs::write(dir.join("README.md"), "changed\n").unwrap();
        std::fs::write(dir.join("suite-a/notes.txt"), "new\n").unwrap();
        assert_eq!(set_hash(&dir).unwrap(), first);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn one_changed_byte_a_renamed_or_an_added_file_changes_the_hash() {
        let dir = scratch("changes");
        let original = set_hash(&dir).unwrap();
        let mut seen = vec![original];
        let mut record = |dir: &Path| {
            let h = set_hash(dir).unwrap();
            assert!(!seen.contains(&h), "{h} seen before");
            seen.push(h);
        };
        std::fs::write(dir.join("suite-a/primitives.json"), "[1, 3]\n").unwrap();
        record(&dir);
        std::fs::write(dir.join("schema/a.schema.json"), "{ }\n").unwrap();
        record(&dir);
        std::fs::rename(
            dir.join("suite-a/x3dh.json"),
            dir.join("suite-a/x3dh2.json"),
        )
        .unwrap();
        record(&dir);
        std::fs::create_dir_all(dir.join("suite-b")).unwrap();
        std::fs::write(dir.join("suite-b/x3dh.json"), "{}\n").unwrap();
        record(&dir);
        // Restoring every byte restores the hash.
        std::fs::remove_dir_all(dir.join("suite-b")).unwrap();
        std::fs::rename(
            dir.join("suite-a/x3dh2.json"),
            dir.join("suite-a/x3dh.json"),
        )
        .unwrap();
        std::fs::write(dir.join("schema/a.schema.json"), "{}\n").unwrap();
        std::fs::write(dir.join("suite-a/primitives.json"), "[1, 2]\n").unwrap();
        assert_eq!(set_hash(&dir).unwrap(), original);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn roots_and_relative_paths() {
        let dir = scratch("roots");
        let file = dir.join("suite-a/x3dh.json");
        assert_eq!(find_root(&file), Some(dir.clone()));
        assert_eq!(find_root(&dir.join("suite-a")), Some(dir.clone()));
        assert_eq!(find_root(&dir), Some(dir.clone()));
        assert_eq!(
            relative_path(&dir, &file).as_deref(),
            Some("suite-a/x3dh.json")
        );
        assert_eq!(relative_path(&dir.join("suite-a"), &dir), None);
        assert_eq!(find_root(Path::new("/")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_written_form_reads_back_and_bad_forms_are_refused() {
        let h = hash_files(&[SetFile::new("a.json", b"a")]);
        let text = h.to_string();
        assert!(
            text.starts_with("sha256:") && text.len() == 7 + 64,
            "{text}"
        );
        assert_eq!(text.parse::<SetHash>().unwrap(), h);
        assert!("sha1:00".parse::<SetHash>().is_err());
        assert!("sha256:00".parse::<SetHash>().is_err());
    }

    #[test]
    fn the_changelog_rule_wants_the_newest_named_hash_to_be_the_current_one() {
        let old = hash_files(&[SetFile::new("a.json", b"old")]);
        let new = hash_files(&[SetFile::new("a.json", b"new")]);
        let dated = format!("# Changelog\n\n## Unreleased\n\n## 2026-11-30 ({old})\n\n- first\n");
        assert!(check_changelog(&dated, old).is_ok());
        // A vector changed, the changelog did not: the rule fails and names both.
        let e = check_changelog(&dated, new).unwrap_err();
        assert!(
            e.contains(&new.to_string()) && e.contains(&old.to_string()),
            "{e}"
        );
        // Naming the new hash in an older position is not enough.
        let below = format!("{dated}\n## 2026-11-01 ({new})\n");
        assert!(check_changelog(&below, new).is_err());
        // An Unreleased entry naming it is.
        let entry = dated.replace(
            "## Unreleased\n",
            &format!("## Unreleased\n\nVector set {new}.\n\n- second\n"),
        );
        assert!(check_changelog(&entry, new).is_ok());
        assert!(check_changelog(&entry, old).is_err());
        // No hash at all, or a truncated one, names nothing.
        assert!(
            check_changelog("# Changelog\n", new)
                .unwrap_err()
                .contains("is none")
        );
        assert_eq!(newest_named_hash("sha256:abc sha256:"), None);
    }
}
