//! The one way wpc reads a file from disk: only regular files, and never
//! more than the limit of its kind.
//!
//! A FIFO, socket or device named as input (or planted in a policy folder)
//! would block a plain `open` or `read` forever, and `/dev/zero` or a file
//! that keeps growing would be read until memory runs out. So a file is
//! opened without blocking (`O_NONBLOCK`), its type is taken from the opened
//! handle (not the path, which could be swapped in between), and reading
//! stops one byte past the limit. The limits per kind are listed in
//! `docs/limits.md` (a test keeps it in step).

use std::fmt;
use std::fs::{File, FileType, Metadata, OpenOptions};
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

/// The most bytes wpc reads from one kind of file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub bytes: usize,
    /// The kind of file, plural, for messages (`TOML files`).
    pub kind: &'static str,
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Policies, policy tests, `wpc.toml` and trusted-signers files.
pub const TOML: Limit = Limit::new(MIB, "TOML files");
/// Signed WPC envelopes (`verify`, and `hash`, `decide`, `compile` and
/// `audit --policy` given an envelope).
pub const ENVELOPE: Limit = Limit::new(16 * MIB, "signed envelopes");
/// OpenClaw configs and the files they `$include`.
pub const OPENCLAW_CONFIG: Limit = Limit::new(MIB, "OpenClaw configs");
/// Secret key files (`--key`): a key is a few hundred bytes, so a mistaken
/// path (a log, a disk image) is refused rather than read.
pub const KEY: Limit = Limit::new(64 * KIB, "key files");
/// JWKS documents (`cst check --jwks`).
pub const JWKS: Limit = Limit::new(MIB, "JWKS documents");
/// Files holding a scoped token.
pub const TOKEN: Limit = Limit::new(64 * KIB, "token files");
/// `index.json` and `revocations.json` of a release branch checkout
/// (`fetch --from`).
pub const RELEASE_INDEX: Limit = Limit::new(64 * MIB, "release indexes");
/// `wpc/HASH.json` of a release branch checkout (`fetch --from`).
pub const RELEASE_ENVELOPE: Limit = Limit::new(4 * MIB, "released envelopes");
/// The GitHub event payload at `GITHUB_EVENT_PATH` (`wpc pr`).
pub const EVENT: Limit = Limit::new(16 * MIB, "GitHub event payloads");
/// The verifiers' memory of release checkpoints (`.git/wpc/checkpoints.json`,
/// one entry per release branch).
pub const VERIFIER_MEMORY: Limit = Limit::new(MIB, "verifier memories");
/// Baselines of accepted findings (`check --baseline`, `ci --baseline`).
pub const BASELINE: Limit = Limit::new(16 * MIB, "baselines");
/// Saved MCP `tools/list` responses (`wpc mcp pin`).
pub const MCP_TOOLS_LIST: Limit = Limit::new(16 * MIB, "MCP tools/list responses");

impl Limit {
    pub const fn new(bytes: usize, kind: &'static str) -> Limit {
        Limit { bytes, kind }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.bytes;
        if bytes >= MIB && bytes % MIB == 0 {
            write!(f, "{} MiB for {}", bytes / MIB, self.kind)
        } else if bytes >= KIB && bytes % KIB == 0 {
            write!(f, "{} KiB for {}", bytes / KIB, self.kind)
        } else {
            write!(f, "{bytes} bytes for {}", self.kind)
        }
    }
}

/// A file that was not read, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct ReadError {
    pub path: PathBuf,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Io(io::Error),
    #[error("not a regular file ({0}); wpc reads only regular files")]
    NotRegular(&'static str),
    #[error("file too large (limit {0})")]
    TooLarge(Limit),
    #[error("not valid UTF-8")]
    NotUtf8,
}

impl ReadError {
    fn new(path: &Path, problem: Problem) -> ReadError {
        ReadError {
            path: path.to_path_buf(),
            problem,
        }
    }

    /// Whether nothing exists at the path.
    pub fn is_not_found(&self) -> bool {
        matches!(&self.problem, Problem::Io(err) if err.kind() == io::ErrorKind::NotFound)
    }
}

/// What a file type is when it is neither a regular file, a folder nor a
/// symbolic link (`a FIFO`, `a socket`, ...): the files never read.
pub fn special_kind(file_type: FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_dir() || file_type.is_symlink() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return Some("a FIFO");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
    }
    Some("a special file")
}

/// Open `path` (following links) for reading, if it is a regular file.
/// Opening never blocks, whatever the path turns out to be.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    open(path).map(|(file, _)| file)
}

/// [`open_regular`], with the file's length from the same `fstat`.
pub fn open_regular_sized(path: &Path) -> Result<(File, u64), ReadError> {
    open(path).map(|(file, meta)| (file, meta.len()))
}

fn open(path: &Path) -> Result<(File, Metadata), ReadError> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Without it, opening a FIFO waits for a writer. It changes nothing
        // for a regular file.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|err| {
        // A socket cannot be opened at all (ENXIO): say what it is.
        match std::fs::metadata(path)
            .ok()
            .and_then(|m| special_kind(m.file_type()))
        {
            Some(kind) => ReadError::new(path, Problem::NotRegular(kind)),
            None => ReadError::new(path, Problem::Io(err)),
        }
    })?;
    let meta = file
        .metadata()
        .map_err(|err| ReadError::new(path, Problem::Io(err)))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            special_kind(meta.file_type()).unwrap_or("a special file")
        };
        return Err(ReadError::new(path, Problem::NotRegular(kind)));
    }
    Ok((file, meta))
}

/// The bytes of the regular file at `path`, at most `limit.bytes` of them.
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let too_large = || ReadError::new(path, Problem::TooLarge(limit));
    let (file, meta) = open(path)?;
    if meta.len() > limit.bytes as u64 {
        return Err(too_large());
    }
    // Sized from the start so the buffer is never reallocated (which would
    // leave copies of a key behind) for a file that does not grow.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    // One byte past the limit tells a file that grew (or a /proc file that
    // claims length 0) from one that fits, without reading the rest.
    file.take(limit.bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| ReadError::new(path, Problem::Io(err)))?;
    if bytes.len() > limit.bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The text of the regular file at `path`: at most `limit.bytes`, UTF-8.
pub fn read_to_string(path: &Path, limit: Limit) -> Result<String, ReadError> {
    String::from_utf8(read(path, limit)?).map_err(|_| ReadError::new(path, Problem::NotUtf8))
}

/// A file that was not written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Replace `path` with `text` so that a crash leaves the old or the new file,
/// never half of one: a temporary file beside it, synced, then renamed over
/// it. The old file's permissions are kept.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), WriteError> {
    use std::io::Write as _;
    let failed = |source: io::Error| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(failed)?;
    if let Ok(meta) = std::fs::metadata(path) {
        // A temp file is created 0600; a failure here only loses the mode.
        let _ = std::fs::set_permissions(temp.path(), meta.permissions());
    }
    temp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// A FIFO at `path`, for tests (`mkfifo`: the libc call would need unsafe).
#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
pub(crate) fn make_fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limit = Limit::new(16, "test files");

    fn fifo(dir: &Path) -> PathBuf {
        let path = dir.join("fifo");
        make_fifo(&path);
        path
    }

    fn problem(result: Result<Vec<u8>, ReadError>) -> String {
        result.unwrap_err().problem.to_string()
    }

    #[test]
    fn reads_a_file_up_to_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [b'x'; 16]).unwrap();
        assert_eq!(read(&path, SMALL).unwrap().len(), 16);
        std::fs::write(&path, [b'x'; 17]).unwrap();
        let err = read(&path, SMALL).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: file too large (limit 16 bytes for test files)",
                path.display()
            )
        );
    }

    #[test]
    fn refuses_a_fifo_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = fifo(dir.path());
        assert_eq!(
            problem(read(&path, SMALL)),
            "not a regular file (a FIFO); wpc reads only regular files"
        );
        // Through a link too: the type is the opened file's.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(problem(read(&link, SMALL)).contains("(a FIFO)"));
    }

    #[test]
    fn refuses_devices_sockets_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(problem(read(&link, TOML)).contains("(a character device)"));
        let socket = dir.path().join("socket");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert!(problem(read(&socket, TOML)).contains("(a socket)"));
        assert!(problem(read(dir.path(), TOML)).contains("(a folder)"));
    }

    #[test]
    fn a_file_that_lies_about_its_length_is_still_bounded() {
        // /proc files report length 0 and hold more.
        let path = Path::new("/proc/self/maps");
        if path.exists() {
            let err = read(path, Limit::new(1, "test files")).unwrap_err();
            assert!(matches!(err.problem, Problem::TooLarge(_)));
        }
    }

    #[test]
    fn a_sparse_file_over_the_limit_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        let file = File::create(&path).unwrap();
        file.set_len(1 << 40).unwrap();
        assert!(matches!(
            read(&path, ENVELOPE).unwrap_err().problem,
            Problem::TooLarge(_)
        ));
    }

    #[test]
    fn missing_files_and_bad_text_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(read(&missing, SMALL).unwrap_err().is_not_found());
        let latin1 = dir.path().join("latin1");
        std::fs::write(&latin1, [0xe9]).unwrap();
        assert_eq!(
            read_to_string(&latin1, SMALL).unwrap_err().to_string(),
            format!("{}: not valid UTF-8", latin1.display())
        );
    }

    #[test]
    fn write_atomically_replaces_the_file_and_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        write_atomically(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        // Only the file itself is left in the folder: no temporary beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/folder/f.txt");
        let err = write_atomically(&missing, "x").unwrap_err();
        assert!(err.to_string().starts_with("cannot write "), "{err}");
    }

    #[test]
    fn limits_read_as_sizes() {
        assert_eq!(TOML.to_string(), "1 MiB for TOML files");
        assert_eq!(KEY.to_string(), "64 KiB for key files");
    }

    #[test]
    fn every_limit_is_documented() {
        let doc = include_str!("../docs/limits.md");
        for limit in [
            TOML,
            ENVELOPE,
            OPENCLAW_CONFIG,
            KEY,
            JWKS,
            TOKEN,
            RELEASE_INDEX,
            RELEASE_ENVELOPE,
            EVENT,
            VERIFIER_MEMORY,
            BASELINE,
            MCP_TOOLS_LIST,
        ] {
            let shown = limit.to_string();
            let size = shown.split(" for ").next().unwrap();
            let row = format!("| {} | {size} |", limit.kind);
            assert!(doc.contains(&row), "docs/limits.md has no row `{row}`");
        }
    }
}
