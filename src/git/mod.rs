//! Repository access through git2: revisions and the files of a commit, read
//! from Git objects only. The work tree is never consulted, so everything
//! here works in a bare clone, on a merge base, or on a commit that was never
//! checked out.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

pub use git2::Oid;

/// Most entries listed under one folder of one commit. A policy repository
/// has hundreds; the bound keeps a hostile tree from costing unbounded time.
pub const MAX_ENTRIES: usize = 200_000;

/// Errors keep git2's message only (not its class and code), and no
/// `source`, so a chained report does not repeat it. `Clone`, as results
/// read from history are cached.
#[derive(Clone, Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not in a Git repository ({message})")]
    Open { path: PathBuf, message: String },
    #[error("revision `{rev}` does not name a commit ({message})")]
    Revision { rev: String, message: String },
    #[error("cannot read {path} at {commit}: {message}")]
    Read {
        path: String,
        commit: Oid,
        message: String,
    },
    #[error("{path} at {commit} is {size} bytes; at most {limit} are read")]
    TooLarge {
        path: String,
        commit: Oid,
        size: usize,
        limit: usize,
    },
    #[error("{path} at {commit} holds more than {MAX_ENTRIES} entries")]
    TooManyEntries { path: String, commit: Oid },
    #[error("branch `{branch}` moved while this run was writing; nothing was changed, run again")]
    Conflict { branch: String },
    #[error("git: {0}")]
    Git(String),
}

impl From<git2::Error> for GitError {
    fn from(err: git2::Error) -> GitError {
        GitError::Git(err.message().to_owned())
    }
}

/// What a tree entry is. Only blobs have content worth reading: a link's
/// blob is a path (following it could leave the folder asked for) and a
/// submodule is a commit of another repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Link,
    Submodule,
}

/// One entry below a folder at a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path from the repository root, `/`-separated.
    pub path: String,
    pub id: Oid,
    pub kind: EntryKind,
}

/// An opened repository (bare or not).
pub struct Repo {
    repo: Repository,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("path", &self.repo.path())
            .finish()
    }
}

/// The root of the Git work tree holding `path`, if any (a bare repository
/// has none).
pub fn work_tree_containing(path: &Path) -> Option<PathBuf> {
    let repo = Repository::discover(path).ok()?;
    repo.workdir().map(Path::to_path_buf)
}

/// By default libgit2 hashes every object again each time it reads one
/// (SHA-1 with collision detection): over half of `wpc release verify` on a
/// long history, and a third of `wpc release`. Git itself does not: objects
/// are hashed when they enter the repository (a fetch or push indexes and
/// hashes every object it receives; libgit2 hashes what it writes), so
/// hashing them again on read only detects objects changed in place by
/// someone who can write `.git`, who could as well move the references and
/// the verifier memory. Every signature and policy hash wpc checks is still
/// computed from the bytes read.
fn skip_rehashing_on_read() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| git2::opts::strict_hash_verification(false));
}

impl Repo {
    /// The repository holding `start`, walking up as `git` does.
    pub fn discover(start: &Path) -> Result<Repo, GitError> {
        skip_rehashing_on_read();
        Repository::discover(start)
            .map(|repo| Repo { repo })
            .map_err(|err| GitError::Open {
                path: start.to_path_buf(),
                message: err.message().to_owned(),
            })
    }

    /// The repository itself (its `.git` folder, or the bare repository),
    /// for opening another handle on it: a handle is `Send` but not `Sync`,
    /// so each thread opens its own.
    pub fn location(&self) -> &Path {
        self.repo.path()
    }

    /// The repository at exactly `path`, without walking up.
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        skip_rehashing_on_read();
        Repository::open(path)
            .map(|repo| Repo { repo })
            .map_err(|err| GitError::Open {
                path: path.to_path_buf(),
                message: err.message().to_owned(),
            })
    }

    /// The work tree's root, `None` for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// The commit a revision names (`main`, `HEAD~2`, a SHA, `origin/main`).
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        let failed = |err: git2::Error| GitError::Revision {
            rev: rev.to_owned(),
            message: err.message().to_owned(),
        };
        let object = self.repo.revparse_single(rev).map_err(failed)?;
        let commit = object.peel_to_commit().map_err(failed)?;
        Ok(commit.id())
    }

    /// The tree of `dir` (no leading or trailing `/`; empty for the root)
    /// at `commit`; `None` when `dir` is missing there or is not a folder.
    /// [`Repo::entries`] and [`Repo::changed_entries`] both list from it.
    fn subtree(&self, commit: Oid, dir: &str) -> Result<Option<git2::Tree<'_>>, git2::Error> {
        let root = self.repo.find_commit(commit)?.tree()?;
        if dir.is_empty() {
            return Ok(Some(root));
        }
        match root.get_path(Path::new(dir)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => {
                Ok(Some(self.repo.find_tree(entry.id())?))
            }
            Ok(_) => Ok(None),
            Err(err) if err.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Every entry below `dir` (empty for the root) at `commit`, sorted by
    /// path. Names starting with `.` are skipped with their contents, as the
    /// policy walker on disk does. A `dir` missing at that commit has no
    /// entries.
    pub fn entries(&self, commit: Oid, dir: &str) -> Result<Vec<Entry>, GitError> {
        let read = |err: git2::Error| GitError::Read {
            path: dir.to_owned(),
            commit,
            message: err.message().to_owned(),
        };
        let dir = dir.trim_matches('/');
        let Some(tree) = self.subtree(commit, dir).map_err(read)? else {
            return Ok(Vec::new());
        };
        let prefix = folder_prefix(dir);
        let mut entries = Vec::new();
        let mut overflow = false;
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            // A name that is not UTF-8 is shown with replacement characters
            // rather than skipped: skipping could hide a file.
            let name = String::from_utf8_lossy(entry.name_bytes());
            if name.starts_with('.') {
                return TreeWalkResult::Skip;
            }
            let kind = match (entry.kind(), entry.filemode()) {
                (Some(ObjectType::Tree), _) => return TreeWalkResult::Ok,
                (Some(ObjectType::Commit), _) => EntryKind::Submodule,
                (_, 0o120_000) => EntryKind::Link,
                _ => EntryKind::File,
            };
            if entries.len() == MAX_ENTRIES {
                overflow = true;
                return TreeWalkResult::Abort;
            }
            entries.push(Entry {
                path: format!("{prefix}{parent}{name}"),
                id: entry.id(),
                kind,
            });
            TreeWalkResult::Ok
        })
        .or_else(|err| {
            // Aborting the walk on purpose reports an error of its own.
            if overflow { Ok(()) } else { Err(read(err)) }
        })?;
        if overflow {
            return Err(GitError::TooManyEntries {
                path: dir.to_owned(),
                commit,
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    /// The file at `path` at `commit`, `None` when there is none (or it is
    /// not a regular file). At most `limit` bytes are read.
    pub fn read_file(
        &self,
        commit: Oid,
        path: &str,
        limit: usize,
    ) -> Result<Option<Vec<u8>>, GitError> {
        match self.file_id(commit, path)? {
            Some(id) => self.read_blob(commit, path, id, limit).map(Some),
            None => Ok(None),
        }
    }

    /// Whether `path` is a regular file at `commit`.
    pub fn is_file(&self, commit: Oid, path: &str) -> Result<bool, GitError> {
        Ok(self.file_id(commit, path)?.is_some())
    }

    /// The blob of the regular file at `path` at `commit`, if there is one:
    /// two commits holding the same blob hold the same file.
    pub fn file_id(&self, commit: Oid, path: &str) -> Result<Option<Oid>, GitError> {
        let read = |err: git2::Error| GitError::Read {
            path: path.to_owned(),
            commit,
            message: err.message().to_owned(),
        };
        let tree = self
            .repo
            .find_commit(commit)
            .map_err(read)?
            .tree()
            .map_err(read)?;
        let entry = match tree.get_path(Path::new(path.trim_start_matches('/'))) {
            Ok(entry) => entry,
            Err(err) if err.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(err) => return Err(read(err)),
        };
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == 0o120_000 {
            return Ok(None);
        }
        Ok(Some(entry.id()))
    }

    /// The best common ancestor of two commits: where a pull request's
    /// changes start.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Oid, GitError> {
        Ok(self.repo.merge_base(a, b)?)
    }

    /// A blob's bytes, refused before reading when larger than `limit`.
    /// `commit` and `path` only name it in errors.
    pub fn read_blob(
        &self,
        commit: Oid,
        path: &str,
        id: Oid,
        limit: usize,
    ) -> Result<Vec<u8>, GitError> {
        let read = |err: git2::Error| GitError::Read {
            path: path.to_owned(),
            commit,
            message: err.message().to_owned(),
        };
        let (size, _) = self
            .repo
            .odb()
            .map_err(read)?
            .read_header(id)
            .map_err(read)?;
        if size > limit {
            return Err(GitError::TooLarge {
                path: path.to_owned(),
                commit,
                size,
                limit,
            });
        }
        Ok(self.repo.find_blob(id).map_err(read)?.content().to_vec())
    }
}

/// What the paths of the entries below `dir` start with: `dir/`, or
/// nothing for the root.
fn folder_prefix(dir: &str) -> String {
    if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    }
}

/// The tree `base` (empty for `None`) with `files` (path components, blob)
/// written over it.
fn build_tree(
    repo: &Repository,
    base: Option<Oid>,
    files: &[(Vec<&str>, Oid)],
) -> Result<Oid, GitError> {
    let base = base.map(|id| repo.find_tree(id)).transpose()?;
    let mut builder = repo.treebuilder(base.as_ref())?;
    let mut dirs: std::collections::BTreeMap<&str, Vec<(Vec<&str>, Oid)>> =
        std::collections::BTreeMap::new();
    for (path, blob) in files {
        match path.as_slice() {
            [name] => {
                builder.insert(name, *blob, 0o100_644)?;
            }
            [dir, rest @ ..] => dirs.entry(dir).or_default().push((rest.to_vec(), *blob)),
            [] => {}
        }
    }
    for (dir, files) in dirs {
        let existing = builder
            .get(dir)?
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .map(|e| e.id());
        let sub = build_tree(repo, existing, &files)?;
        builder.insert(dir, sub, 0o040_000)?;
    }
    Ok(builder.write()?)
}

/// A reference lock file older than this was left by a killed writer.
const STALE_LOCK_SECS: u64 = 5;

/// Most files a commit of [`Repo::write_commit`] writes as loose objects.
const LOOSE_OBJECTS: usize = 64;

/// A temporary pack older than this is left by a killed writer: a writer
/// holds one for the seconds its pack takes to write.
const STALE_PACK_SECS: u64 = 600;

/// The blobs, trees and commit of [`Repo::write_commit`], through whatever
/// object database `repo` writes to.
fn write_commit_objects(
    repo: &Repository,
    parent: Option<Oid>,
    files: &[(String, Vec<u8>)],
    message: &str,
) -> Result<Oid, GitError> {
    let mut blobs = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        blobs.push((path.split('/').collect::<Vec<_>>(), repo.blob(bytes)?));
    }
    let parent = parent.map(|id| repo.find_commit(id)).transpose()?;
    let base = parent.as_ref().map(git2::Commit::tree_id);
    let tree = repo.find_tree(build_tree(repo, base, &blobs)?)?;
    let signature = git2::Signature::now("wpc", "wpc@localhost")?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    Ok(repo.commit(None, &signature, &signature, message, &tree, &parents)?)
}

/// Remove the `pack_git2_*` files a killed pack writer left in
/// `objects/pack` (Git's own cleanup only knows its `tmp_` names). Best
/// effort: a file that cannot be removed is left for the next run.
fn remove_stale_temporary_packs(git_dir: &Path) {
    let Ok(listing) = std::fs::read_dir(git_dir.join("objects").join("pack")) else {
        return;
    };
    let stale = std::time::Duration::from_secs(STALE_PACK_SECS);
    for entry in listing.flatten() {
        let is_temporary = entry
            .file_name()
            .to_string_lossy()
            .starts_with("pack_git2_");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > stale);
        if is_temporary && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// What a commit says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
}

impl Repo {
    /// The tip of `refs/heads/<branch>`, `None` when there is no such branch.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<Oid>, GitError> {
        self.reference_tip(&format!("refs/heads/{branch}"))
    }

    /// The commit the reference `name` (in full, `refs/...`) points at,
    /// `None` when there is no such reference.
    pub fn reference_tip(&self, name: &str) -> Result<Option<Oid>, GitError> {
        match self.repo.find_reference(name) {
            Ok(reference) => Ok(Some(reference.peel_to_commit()?.id())),
            Err(err) if err.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The tip of the source branch `name`: `refs/heads/<name>`, else
    /// `refs/remotes/origin/<name>` (a CI clone often has only that), with
    /// the reference it came from.
    pub fn source_tip(&self, name: &str) -> Result<Option<(String, Oid)>, GitError> {
        for reference in [
            format!("refs/heads/{name}"),
            format!("refs/remotes/origin/{name}"),
        ] {
            if let Some(tip) = self.reference_tip(&reference)? {
                return Ok(Some((reference, tip)));
            }
        }
        Ok(None)
    }

    pub fn commit_info(&self, id: Oid) -> Result<CommitInfo, GitError> {
        let commit = self.repo.find_commit(id)?;
        Ok(CommitInfo {
            id,
            parents: commit.parent_ids().collect(),
            message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        })
    }

    /// The first-parent chain from `head` back to (not including) `stop`,
    /// oldest first; back to the root commit when `stop` is `None`. A `stop`
    /// that is not on the chain is an error: the history was rewritten.
    pub fn first_parents(&self, head: Oid, stop: Option<Oid>) -> Result<Vec<Oid>, GitError> {
        let mut chain = Vec::new();
        let mut at = Some(head);
        while let Some(id) = at {
            if Some(id) == stop {
                chain.reverse();
                return Ok(chain);
            }
            chain.push(id);
            at = self.repo.find_commit(id)?.parent_id(0).ok();
        }
        match stop {
            Some(stop) => Err(GitError::Git(format!(
                "{stop} is not on the first-parent history of {head}"
            ))),
            None => {
                chain.reverse();
                Ok(chain)
            }
        }
    }

    /// Write `files` (`dir/name` paths and contents) over the tree of
    /// `parent` (an empty tree without one) and a commit holding the result,
    /// as objects only: no reference, index or work tree changes.
    pub fn write_commit(
        &self,
        parent: Option<Oid>,
        files: &[(String, Vec<u8>)],
        message: &str,
    ) -> Result<Oid, GitError> {
        // Thousands of new objects written loose cost a file each; they are
        // collected in memory and written as one pack instead, on a handle
        // of their own so no other write of this `Repo` lands there. A few
        // are written loose: a run killed while writing them leaves only
        // `tmp_` files, which `git gc` removes, where a killed pack writer
        // leaves a temporary pack nothing removes.
        let repo = Repository::open(self.repo.path())?;
        if files.len() <= LOOSE_OBJECTS {
            return write_commit_objects(&repo, parent, files, message);
        }
        remove_stale_temporary_packs(repo.path());
        let odb = repo.odb()?;
        let mempack = odb.add_new_mempack_backend(1000)?;
        let commit = write_commit_objects(&repo, parent, files, message)?;
        let mut pack = git2::Buf::new();
        mempack.dump(&repo, &mut pack)?;
        let mut writer = odb.packwriter()?;
        std::io::Write::write_all(&mut writer, &pack)
            .map_err(|err| GitError::Git(format!("writing a pack: {err}")))?;
        writer.commit()?;
        mempack.reset()?;
        Ok(commit)
    }

    /// The files below `dir` that are new or different at `new` than at
    /// `old` (every file without `old`), as [`Repo::entries`] lists them.
    /// Git compares the trees, so unchanged files cost nothing.
    pub fn changed_entries(
        &self,
        old: Option<Oid>,
        new: Oid,
        dir: &str,
    ) -> Result<Vec<Entry>, GitError> {
        let dir = dir.trim_matches('/');
        let subtree = |commit: Oid| self.subtree(commit, dir).map_err(GitError::from);
        let after = subtree(new)?;
        let before = old.map(subtree).transpose()?.flatten();
        let Some(after) = after else {
            return Ok(Vec::new());
        };
        if before.as_ref().is_some_and(|b| b.id() == after.id()) {
            return Ok(Vec::new());
        }
        let diff = self
            .repo
            .diff_tree_to_tree(before.as_ref(), Some(&after), None)?;
        if diff.deltas().len() > MAX_ENTRIES {
            return Err(GitError::TooManyEntries {
                path: dir.to_owned(),
                commit: new,
            });
        }
        let prefix = folder_prefix(dir);
        let mut entries = Vec::new();
        for delta in diff.deltas() {
            if !matches!(
                delta.status(),
                git2::Delta::Added
                    | git2::Delta::Modified
                    | git2::Delta::Renamed
                    | git2::Delta::Copied
                    | git2::Delta::Typechange
            ) {
                continue;
            }
            let file = delta.new_file();
            let Some(path) = file.path_bytes() else {
                continue;
            };
            let path = String::from_utf8_lossy(path);
            // Hidden names are skipped with their contents, as `entries` does.
            if path.split('/').any(|part| part.starts_with('.')) {
                continue;
            }
            let kind = match file.mode() {
                git2::FileMode::Commit => EntryKind::Submodule,
                git2::FileMode::Link => EntryKind::Link,
                _ => EntryKind::File,
            };
            entries.push(Entry {
                path: format!("{prefix}{path}"),
                id: file.id(),
                kind,
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    /// Point `refs/heads/<branch>` at `new` if it still points at `expected`
    /// (or does not exist, for `None`): one compare-and-swap, so a
    /// concurrent writer makes this fail with [`GitError::Conflict`] instead
    /// of being overwritten.
    pub fn update_branch(
        &self,
        branch: &str,
        expected: Option<Oid>,
        new: Oid,
        message: &str,
    ) -> Result<(), GitError> {
        let name = format!("refs/heads/{branch}");
        let result = match expected {
            Some(old) => self.repo.reference_matching(&name, new, true, old, message),
            None => self.repo.reference(&name, new, false, message),
        };
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.code(),
                    git2::ErrorCode::Modified | git2::ErrorCode::Exists
                ) =>
            {
                Err(GitError::Conflict {
                    branch: branch.to_owned(),
                })
            }
            // Another writer holds the reference's lock file: a conflict
            // too, so the caller retries. A lock file that outlived any
            // writer (one killed while holding it) is removed first, so
            // the retry can succeed without a human.
            Err(err) if err.code() == git2::ErrorCode::Locked => {
                self.remove_stale_lock(&name);
                Err(GitError::Conflict {
                    branch: branch.to_owned(),
                })
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Remove `<reference>.lock` when it is older than any reference update
    /// takes (they hold it for microseconds).
    fn remove_stale_lock(&self, reference: &str) {
        let lock = self.repo.path().join(format!("{reference}.lock"));
        let stale = std::fs::metadata(&lock)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(STALE_LOCK_SECS));
        if stale {
            let _ = std::fs::remove_file(lock);
        }
    }
}

/// How many times an update of a ref is tried again after another writer
/// moved it first.
pub const UPDATE_ATTEMPTS: u32 = 20;

/// Run `update` (read a ref, build on it, compare-and-swap it) until it
/// does not fail with a conflict, at most [`UPDATE_ATTEMPTS`] times, with a
/// short, growing, jittered wait in between so runs that collided do not
/// collide again in step. Also whether some attempt lost a race.
pub fn retry_on_conflict<T, E>(
    mut update: impl FnMut() -> Result<T, E>,
    is_conflict: impl Fn(&E) -> bool,
) -> (Result<T, E>, bool) {
    let mut attempt = 1;
    loop {
        match update() {
            Err(err) if is_conflict(&err) && attempt < UPDATE_ATTEMPTS => {
                attempt += 1;
                let jitter = u64::from(std::process::id() % 17)
                    + u64::from(jiff::Timestamp::now().subsec_nanosecond().unsigned_abs() % 23);
                std::thread::sleep(std::time::Duration::from_millis(
                    u64::from(attempt.min(10)) * 10 + jitter,
                ));
            }
            result => return (result, attempt > 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with two commits, made through git2 objects.
    fn repo_with_history(bare: bool) -> (tempfile::TempDir, Oid, Oid) {
        let dir = tempfile::tempdir().unwrap();
        let repo = if bare {
            Repository::init_bare(dir.path()).unwrap()
        } else {
            Repository::init(dir.path()).unwrap()
        };
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let commit = |files: &[(&str, &str)], parents: &[&git2::Commit<'_>]| {
            let mut index = git2::Index::new().unwrap();
            for (path, text) in files {
                let blob = repo.blob(text.as_bytes()).unwrap();
                let mut entry = git2::IndexEntry {
                    ctime: git2::IndexTime::new(0, 0),
                    mtime: git2::IndexTime::new(0, 0),
                    dev: 0,
                    ino: 0,
                    mode: 0o100_644,
                    uid: 0,
                    gid: 0,
                    file_size: 0,
                    id: blob,
                    flags: 0,
                    flags_extended: 0,
                    path: path.as_bytes().to_vec(),
                };
                entry.flags = u16::try_from(path.len()).unwrap();
                index.add(&entry).unwrap();
            }
            let tree = repo.find_tree(index.write_tree_to(&repo).unwrap()).unwrap();
            repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, parents)
                .unwrap()
        };
        let first = commit(&[("p/a.toml", "a"), ("p/.hidden/x.toml", "x")], &[]);
        let parent = repo.find_commit(first).unwrap();
        let second = commit(
            &[("p/a.toml", "a2"), ("p/sub/b.toml", "b"), ("README", "r")],
            &[&parent],
        );
        (dir, first, second)
    }

    #[test]
    fn lists_and_reads_files_at_each_revision_in_a_bare_clone() {
        let (dir, first, second) = repo_with_history(true);
        let found = Repo::discover(dir.path()).unwrap();
        let repo = Repo::open(found.location()).unwrap();
        assert!(repo.workdir().is_none());
        assert_eq!(repo.resolve("HEAD").unwrap(), second);
        assert_eq!(repo.resolve("HEAD~1").unwrap(), first);
        let paths = |commit| {
            repo.entries(commit, "p")
                .unwrap()
                .into_iter()
                .map(|e| e.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(paths(first), ["p/a.toml"]);
        assert_eq!(paths(second), ["p/a.toml", "p/sub/b.toml"]);
        assert_eq!(
            repo.read_file(first, "p/a.toml", 10).unwrap().unwrap(),
            b"a"
        );
        assert_eq!(
            repo.read_file(second, "p/a.toml", 10).unwrap().unwrap(),
            b"a2"
        );
        assert!(repo.read_file(first, "README", 10).unwrap().is_none());
        assert!(repo.is_file(second, "README").unwrap() && !repo.is_file(second, "p").unwrap());
        assert_eq!(repo.merge_base(first, second).unwrap(), first);
        assert!(repo.entries(first, "missing").unwrap().is_empty());
        assert!(matches!(
            repo.read_file(second, "p/a.toml", 1),
            Err(GitError::TooLarge { size: 2, .. })
        ));
    }

    #[test]
    fn changed_entries_are_what_differs_from_the_parent() {
        let (dir, first, second) = repo_with_history(true);
        let repo = Repo::discover(dir.path()).unwrap();
        let paths = |old, new| {
            repo.changed_entries(old, new, "p")
                .unwrap()
                .into_iter()
                .map(|e| e.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(paths(Some(first), second), ["p/a.toml", "p/sub/b.toml"]);
        assert_eq!(paths(None, first), ["p/a.toml"]);
        assert!(paths(Some(second), second).is_empty());
        assert!(
            repo.changed_entries(None, first, "missing")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn branches_move_by_compare_and_swap_only() {
        let (dir, first, _) = repo_with_history(true);
        let repo = Repo::discover(dir.path()).unwrap();
        assert_eq!(repo.branch_tip("out").unwrap(), None);
        let files = [("a/b/c.json".to_owned(), b"{}".to_vec())];
        let one = repo.write_commit(None, &files, "one").unwrap();
        // Objects only: no reference names the commit yet.
        assert_eq!(repo.branch_tip("out").unwrap(), None);
        repo.update_branch("out", None, one, "m").unwrap();
        assert!(matches!(
            repo.update_branch("out", None, one, "m"),
            Err(GitError::Conflict { .. })
        ));
        let two = repo.write_commit(Some(one), &[], "two").unwrap();
        assert!(matches!(
            repo.update_branch("out", Some(first), two, "m"),
            Err(GitError::Conflict { .. })
        ));
        repo.update_branch("out", Some(one), two, "m").unwrap();
        assert_eq!(repo.branch_tip("out").unwrap(), Some(two));
        assert_eq!(repo.first_parents(two, None).unwrap(), [one, two]);
        assert_eq!(repo.first_parents(two, Some(one)).unwrap(), [two]);
        assert!(repo.first_parents(two, Some(first)).is_err());
        assert_eq!(
            repo.read_file(two, "a/b/c.json", 10).unwrap().unwrap(),
            b"{}"
        );
    }

    #[test]
    fn bad_revisions_and_places_are_errors() {
        let (dir, _, _) = repo_with_history(false);
        let repo = Repo::discover(dir.path()).unwrap();
        assert!(matches!(
            repo.resolve("no-such-branch"),
            Err(GitError::Revision { .. })
        ));
        let outside = tempfile::tempdir().unwrap();
        assert!(Repo::discover(outside.path()).is_err());
    }
}
