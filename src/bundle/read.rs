//! Reading bundle files within a memory bound: the size is checked before
//! a byte is read, only regular files are read, the JSON values a tree may
//! hold are bounded ([`MAX_JSON_VALUES`], counted as they are parsed), and
//! the bytes being verified at once are capped across all threads
//! (docs/bundles.md#bounded-memory).
//!
//! [`read_file`] is the one place bundle files are opened.

use std::io::Read as _;
use std::path::Path;
use std::sync::{Condvar, LazyLock, Mutex};

use crate::fsio::{self, Problem, ReadError};

/// At most this many JSON values (scalars, arrays and objects) in one
/// bundle: far above what the protocol's item limits allow (1,000 events,
/// 1,000 receipts of each kind), low enough that the parsed tree stays a
/// few tens of MB whatever the file holds.
pub const MAX_JSON_VALUES: usize = 500_000;

/// At most this many bytes of bundle files are held for verification at
/// once, whatever the thread count: one bundle of the largest size allowed,
/// or many small ones. A large bundle's tree is several times its size, and
/// the allocator keeps some of what one tree freed when the next has another
/// shape, so two at once went over the 300 MB goal of
/// `scripts/bundle-memory.sh` at 4 and 8 threads; bundles of ordinary size
/// (tens of kB) still verify a thousand at a time.
pub const IN_FLIGHT_BYTES: u64 = crate::crypto::verify::MAX_ENVELOPE_BYTES as u64;

/// Bytes being verified at once, across all workers of every batch.
static IN_FLIGHT: LazyLock<Budget> = LazyLock::new(|| Budget::new(IN_FLIGHT_BYTES));

/// A bundle file as read.
#[derive(Debug)]
pub enum Contents {
    Bytes(Vec<u8>),
    /// Larger than the limit: not read.
    TooLarge(u64),
}

/// Reads `path` if it is a regular file (or a link to one, as every wpc
/// reader: docs/limits.md) of at most `limit` bytes, once the budget of
/// bytes in flight has room for it (one budget for every reader in the
/// process: [`IN_FLIGHT_BYTES`]). Opened by [`fsio::open_regular_sized`],
/// which never blocks on a FIFO and refuses devices; a larger file is not
/// an error but a verdict ([`Contents::TooLarge`]), so the limit is checked
/// here. The [`Grant`] is the file's part of the budget: hold it while the
/// bytes and what is parsed from them are in use.
pub fn read_file(path: &Path, limit: u64) -> Result<(Contents, Grant<'static>), ReadError> {
    let io = |error| ReadError {
        path: path.to_path_buf(),
        problem: Problem::Io(error),
    };
    let (file, len) = fsio::open_regular_sized(path)?;
    if len > limit {
        // Nothing is read: nothing is asked of the budget.
        return Ok((Contents::TooLarge(len), IN_FLIGHT.take(0)));
    }
    let mut grant = IN_FLIGHT.take(len);
    // The file may grow after the check: never read past the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Ok((Contents::TooLarge(read), grant));
    }
    if read > grant.amount {
        // It grew (or its size was not known, as for a file of /proc): the
        // tree is parsed only under a grant for what was read. The first
        // grant is given back before waiting, so two workers can never wait
        // on each other.
        drop(grant);
        grant = IN_FLIGHT.take(read);
    }
    Ok((Contents::Bytes(bytes), grant))
}

/// A budget of bytes in flight shared by every worker: a worker waits until
/// its file fits, so peak memory follows the budget, not the thread count.
pub struct Budget {
    free: Mutex<u64>,
    freed: Condvar,
    capacity: u64,
}

/// Part of a [`Budget`], given back when dropped.
pub struct Grant<'a> {
    budget: &'a Budget,
    amount: u64,
}

impl Budget {
    pub fn new(capacity: u64) -> Budget {
        Budget {
            free: Mutex::new(capacity),
            freed: Condvar::new(),
            capacity,
        }
    }

    /// Waits until `amount` bytes (at most the whole budget) are free.
    pub fn take(&self, amount: u64) -> Grant<'_> {
        let amount = amount.min(self.capacity);
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free < amount {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= amount;
        Grant {
            budget: self,
            amount,
        }
    }
}

impl Drop for Grant<'_> {
    fn drop(&mut self) {
        let mut free = self.budget.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += self.amount;
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_and_irregular_files_are_not_read() {
        let read_file = |path: &Path, limit| read_file(path, limit).map(|(c, _)| c);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, b"{}").unwrap();
        assert!(matches!(read_file(&path, 2).unwrap(), Contents::Bytes(b) if b == b"{}"));
        assert!(matches!(
            read_file(&path, 1).unwrap(),
            Contents::TooLarge(2)
        ));
        assert!(matches!(
            read_file(dir.path(), 10),
            Err(ReadError {
                problem: Problem::NotRegular("a folder"),
                ..
            })
        ));
        // A link to a regular file is read, as by every reader; a link to a
        // device or a FIFO is not, and never blocks.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(read_file(&link, 10).unwrap(), Contents::Bytes(b) if b == b"{}"));
        let zero = dir.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_file(&zero, 10),
            Err(ReadError {
                problem: Problem::NotRegular("a character device"),
                ..
            })
        ));
        let fifo = dir.path().join("fifo.json");
        fsio::make_fifo(&fifo);
        assert!(matches!(
            read_file(&fifo, 10),
            Err(ReadError {
                problem: Problem::NotRegular("a FIFO"),
                ..
            })
        ));
    }

    #[test]
    fn the_grant_covers_what_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, b"{\"a\":1}").unwrap();
        let (_, grant) = read_file(&path, 100).unwrap();
        assert_eq!(grant.amount, 7);
        // Over the limit: not read, nothing held.
        let (contents, grant) = read_file(&path, 3).unwrap();
        assert!(matches!(contents, Contents::TooLarge(7)));
        assert_eq!(grant.amount, 0);
        // A file whose metadata says 0 bytes but which has content (procfs):
        // the grant is for the bytes read, not for the size it claimed.
        if let Ok((Contents::Bytes(bytes), grant)) =
            read_file(Path::new("/proc/self/status"), 1 << 20)
        {
            assert!(!bytes.is_empty());
            assert_eq!(grant.amount, bytes.len() as u64);
        }
    }

    #[test]
    fn a_budget_is_never_overdrawn() {
        let budget = Budget::new(10);
        let a = budget.take(6);
        assert_eq!(*budget.free.lock().unwrap(), 4);
        drop(a);
        let b = budget.take(100);
        assert_eq!(b.amount, 10);
        drop(b);
        assert_eq!(*budget.free.lock().unwrap(), 10);
    }
}
