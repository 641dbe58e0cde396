//! Helpers shared by the end-to-end tests: the `wpc` binary run with the
//! ambient settings that change its output scrubbed, and real Git
//! repositories built in temporary folders through git2 objects.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use std::path::{Path, PathBuf};

use std::process::Output;

use assert_cmd::Command;
use git2::{Index, IndexEntry, IndexTime, Oid, Repository, Signature};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `wpc` in `dir`, with every environment variable that changes its output
/// (CI detection, colour, keys, OpenClaw substitutions) removed.
pub fn wpc(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("wpc").unwrap();
    cmd.current_dir(dir);
    for var in [
        "CI",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
        "GITHUB_ACTIONS",
        "WPC_SIGNING_KEY",
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_INCLUDE_ROOTS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `git ARGS` in `dir` with a fixed author and date (so commit ids repeat)
/// and no system config; its stdout. Panics when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Dana Demo")
        .env("GIT_AUTHOR_EMAIL", "dana@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "Dana Demo")
        .env("GIT_COMMITTER_EMAIL", "dana@example.com")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `wpc ARGS` in `dir`, run to completion.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    wpc(dir).args(args).output().unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A file of the example policy repository.
pub fn example(path: &str) -> String {
    std::fs::read_to_string(root().join("examples/repo").join(path)).unwrap()
}

/// A repository whose commits are written straight into the object store,
/// each on top of the last; the work tree (if any) is never written.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    files: Vec<(String, String)>,
    last: Option<Oid>,
}

impl TestRepo {
    pub fn new(bare: bool) -> TestRepo {
        let dir = tempfile::tempdir().unwrap();
        let repo = if bare {
            Repository::init_bare(dir.path()).unwrap()
        } else {
            Repository::init(dir.path()).unwrap()
        };
        TestRepo {
            dir,
            repo,
            files: Vec::new(),
            last: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write (`Some`) or delete (`None`) files and commit; returns the SHA.
    pub fn commit(&mut self, changes: &[(&str, Option<&str>)]) -> String {
        for (path, text) in changes {
            self.files.retain(|(p, _)| p != path);
            if let Some(text) = text {
                self.files.push(((*path).to_owned(), (*text).to_owned()));
            }
        }
        let mut index = Index::new().unwrap();
        for (path, text) in &self.files {
            let id = self.repo.blob(text.as_bytes()).unwrap();
            index
                .add(&IndexEntry {
                    ctime: IndexTime::new(0, 0),
                    mtime: IndexTime::new(0, 0),
                    dev: 0,
                    ino: 0,
                    mode: 0o100_644,
                    uid: 0,
                    gid: 0,
                    file_size: 0,
                    id,
                    flags: u16::try_from(path.len()).unwrap(),
                    flags_extended: 0,
                    path: path.as_bytes().to_vec(),
                })
                .unwrap();
        }
        let tree = self
            .repo
            .find_tree(index.write_tree_to(&self.repo).unwrap())
            .unwrap();
        let sig = Signature::new(
            "wpc test",
            "test@example.com",
            &git2::Time::new(1_700_000_000, 0),
        )
        .unwrap();
        let parent = self.last.map(|id| self.repo.find_commit(id).unwrap());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self
            .repo
            .commit(Some("HEAD"), &sig, &sig, "change", &tree, &parents)
            .unwrap();
        self.last = Some(id);
        id.to_string()
    }
}

/// The example repository's config and policies, as (path, text).
pub fn example_repo() -> Vec<(String, String)> {
    let mut files = vec![("wpc.toml".to_owned(), example("wpc.toml"))];
    for name in [
        "agent-change-reviewer",
        "data-analyst",
        "deployer",
        "read-only-researcher",
    ] {
        let path = format!("policies/{name}.toml");
        files.push((path.clone(), example(&path)));
    }
    files
}

/// How long a test waits for `wpc` on an input that once made it hang (a
/// FIFO, /dev/zero): a regression fails the test instead of blocking CI.
pub const HANG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `wpc ARGS` in `dir`, killed after [`HANG_TIMEOUT`] (the status then has
/// no exit code).
pub fn run_bounded(dir: &Path, args: &[&str]) -> Output {
    wpc(dir).args(args).timeout(HANG_TIMEOUT).output().unwrap()
}

/// Make `dir` a fresh policy repository with `wpc init .`.
pub fn init_in(dir: &Path) {
    let out = run(dir, &["init", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A fresh `wpc init` policy repository in a temporary folder.
pub fn init_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init_in(dir.path());
    dir
}
