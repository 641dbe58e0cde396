//! Verifier memory: the highest checkpoint this repository's verifiers have
//! accepted for each release branch, in `<git dir>/wpc/checkpoints.json`.
//! A branch whose tip is older than what was seen, or whose chain does not
//! pass through it, is a rollback or a fork.
//!
//! The memory fails closed: a file that cannot be read or parsed is an
//! error, never "nothing remembered" (deleting it is the one way to forget,
//! and it needs write access to `.git`, which can rewrite anything anyway).
//! Writes are atomic (a temporary file renamed over it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The memory file, relative to the Git directory.
pub const MEMORY_PATH: &str = "wpc/checkpoints.json";
/// Its `format`.
pub const MEMORY_FORMAT: &str = "wpc-verifier-memory/1";

/// One remembered checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    pub version: u64,
    /// Its [`super::Checkpoint::hash`].
    pub checkpoint: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    branches: BTreeMap<String, Seen>,
}

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("verifier memory {}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    #[error("cannot write verifier memory {}: {message}", path.display())]
    Write { path: PathBuf, message: String },
}

/// The memory of the repository whose Git directory is `git_dir`.
#[derive(Debug)]
pub struct Memory {
    path: PathBuf,
}

impl Memory {
    pub fn of(git_dir: &Path) -> Memory {
        Memory {
            path: git_dir.join(MEMORY_PATH),
        }
    }

    /// What was seen of `branch`, `None` when nothing was.
    pub fn seen(&self, branch: &str) -> Result<Option<Seen>, MemoryError> {
        Ok(self.read()?.branches.get(branch).cloned())
    }

    /// Remember `seen` for `branch` when it is newer than what is there.
    pub fn remember(&self, branch: &str, seen: Seen) -> Result<(), MemoryError> {
        let mut file = self.read()?;
        if file
            .branches
            .get(branch)
            .is_some_and(|old| old.version >= seen.version)
        {
            return Ok(());
        }
        file.format = MEMORY_FORMAT.to_owned();
        file.branches.insert(branch.to_owned(), seen);
        self.write(&file)
    }

    fn read(&self) -> Result<File, MemoryError> {
        let unreadable = |message: String| MemoryError::Unreadable {
            path: self.path.clone(),
            message,
        };
        // A link is not a memory this tool wrote (fsio follows links; FIFOs
        // and devices it refuses itself).
        match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(unreadable(
                    "a symbolic link, not a file wpc wrote".to_owned(),
                ));
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(File::default()),
            Err(err) => return Err(unreadable(err.to_string())),
        }
        let bytes = crate::fsio::read(&self.path, crate::fsio::VERIFIER_MEMORY)
            .map_err(|e| unreadable(e.problem.to_string()))?;
        let file: File = serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
        if file.format != MEMORY_FORMAT {
            return Err(unreadable(format!(
                "format is `{}`, expected `{MEMORY_FORMAT}`",
                file.format
            )));
        }
        Ok(file)
    }

    fn write(&self, file: &File) -> Result<(), MemoryError> {
        let failed = |message: String| MemoryError::Write {
            path: self.path.clone(),
            message,
        };
        let dir = self
            .path
            .parent()
            .ok_or_else(|| failed("no parent folder".to_owned()))?;
        std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
        let mut json = serde_json::to_vec_pretty(file).map_err(|e| failed(e.to_string()))?;
        json.push(b'\n');
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| failed(e.to_string()))?;
        std::io::Write::write_all(&mut temp, &json).map_err(|e| failed(e.to_string()))?;
        temp.persist(&self.path)
            .map_err(|e| failed(e.error.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(version: u64) -> Seen {
        Seen {
            version,
            checkpoint: format!("c{version}"),
        }
    }

    #[test]
    fn remembers_the_highest_checkpoint_per_branch() {
        let dir = tempfile::tempdir().unwrap();
        let memory = Memory::of(dir.path());
        assert_eq!(memory.seen("b").unwrap(), None);
        memory.remember("b", seen(2)).unwrap();
        memory.remember("b", seen(1)).unwrap();
        memory.remember("other", seen(5)).unwrap();
        assert_eq!(memory.seen("b").unwrap(), Some(seen(2)));
        memory.remember("b", seen(3)).unwrap();
        assert_eq!(memory.seen("b").unwrap(), Some(seen(3)));
        assert_eq!(memory.seen("other").unwrap(), Some(seen(5)));
    }

    #[test]
    fn a_garbled_memory_is_an_error_not_a_blank() {
        let dir = tempfile::tempdir().unwrap();
        let memory = Memory::of(dir.path());
        std::fs::create_dir_all(dir.path().join("wpc")).unwrap();
        for garbled in ["", "{", "[]", r#"{"format":"x","branches":{}}"#] {
            std::fs::write(dir.path().join(MEMORY_PATH), garbled).unwrap();
            assert!(
                matches!(memory.seen("b"), Err(MemoryError::Unreadable { .. })),
                "{garbled}"
            );
            assert!(memory.remember("b", seen(1)).is_err());
        }
        std::fs::remove_file(dir.path().join(MEMORY_PATH)).unwrap();
        std::fs::create_dir(dir.path().join(MEMORY_PATH)).unwrap();
        assert!(memory.seen("b").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_link_or_huge_memory_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let memory = Memory::of(dir.path());
        let path = dir.path().join(MEMORY_PATH);
        std::fs::create_dir_all(dir.path().join("wpc")).unwrap();
        crate::fsio::make_fifo(&path);
        assert!(matches!(
            memory.seen("b"),
            Err(MemoryError::Unreadable { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        assert!(matches!(
            memory.seen("b"),
            Err(MemoryError::Unreadable { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(2 * crate::fsio::VERIFIER_MEMORY.bytes as u64)
            .unwrap();
        assert!(matches!(
            memory.seen("b"),
            Err(MemoryError::Unreadable { .. })
        ));
    }
}
