//! Which files are policies: `*.toml` under the policies folder, minus policy
//! test files, never following a link out of the repository.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::document::SYNTAX;
use crate::report::{Finding, Severity};

/// Suffix of policy test files (`NAME.test.toml`), which are not policies.
pub const TEST_SUFFIX: &str = ".test.toml";

/// Why the inputs could not be listed at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error("{path}: expected a folder of policies, found a file")]
    NotADirectory { path: PathBuf },
    #[error(transparent)]
    Unreadable(#[from] crate::fsio::ReadError),
    #[error("{path}: {source}")]
    Walk {
        path: PathBuf,
        source: walkdir::Error,
    },
}

/// The policy files under `inputs` (files are taken as given, folders are
/// walked), sorted, with findings for entries skipped on purpose.
pub fn collect(
    inputs: &[PathBuf],
    root: &Path,
) -> Result<(Vec<PathBuf>, Vec<Finding>), CollectError> {
    collect_named(inputs, root, is_policy_name)
}

/// The policy test files (`*.test.toml`) under `inputs`, like [`collect`].
pub fn collect_tests(
    inputs: &[PathBuf],
    root: &Path,
) -> Result<(Vec<PathBuf>, Vec<Finding>), CollectError> {
    collect_named(inputs, root, |name| name.ends_with(TEST_SUFFIX))
}

fn collect_named(
    inputs: &[PathBuf],
    root: &Path,
    wanted: fn(&str) -> bool,
) -> Result<(Vec<PathBuf>, Vec<Finding>), CollectError> {
    let mut files = Vec::new();
    let mut findings = Vec::new();
    for input in inputs {
        let meta = std::fs::symlink_metadata(input).map_err(|_| CollectError::Missing {
            path: input.clone(),
        })?;
        if meta.is_dir() {
            walk(input, root, wanted, &mut files, &mut findings)?;
        } else {
            // A named FIFO or device (or a link to one) is refused, not
            // skipped with a warning as in a walk: the user asked for it.
            let target = std::fs::metadata(input).ok();
            if let Some(kind) = target.and_then(|m| crate::fsio::special_kind(m.file_type())) {
                return Err(CollectError::Unreadable(crate::fsio::ReadError {
                    path: input.clone(),
                    problem: crate::fsio::Problem::NotRegular(kind),
                }));
            }
            if let Some(file) = admit(input, root, &mut findings) {
                files.push(file);
            }
        }
    }
    files.sort();
    files.dedup();
    Ok((files, findings))
}

/// The policies folder of a repository, which must be a folder.
pub fn collect_dir(dir: &Path, root: &Path) -> Result<(Vec<PathBuf>, Vec<Finding>), CollectError> {
    require_dir(dir)?;
    collect(&[dir.to_path_buf()], root)
}

fn require_dir(dir: &Path) -> Result<(), CollectError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(CollectError::NotADirectory {
            path: dir.to_path_buf(),
        }),
        Err(_) => Err(CollectError::Missing {
            path: dir.to_path_buf(),
        }),
    }
}

/// The policy files and the policy test files under the policies folder,
/// found in one walk: a command that needs both reads the folder once.
#[derive(Debug, Default)]
pub struct Collected {
    pub policies: Vec<PathBuf>,
    /// Files skipped while collecting policies (links, FIFOs).
    pub policy_problems: Vec<Finding>,
    pub tests: Vec<PathBuf>,
    pub test_problems: Vec<Finding>,
}

/// The policies and tests of the policies folder `dir`, as
/// [`collect_dir`] and [`collect_tests`] would find them.
pub fn collect_dir_with_tests(dir: &Path, root: &Path) -> Result<Collected, CollectError> {
    require_dir(dir)?;
    let (files, problems) =
        collect_named(&[dir.to_path_buf()], root, |name| name.ends_with(".toml"))?;
    let is_test = |path: &Path| {
        path.file_name()
            .is_some_and(|name| name.to_string_lossy().ends_with(TEST_SUFFIX))
    };
    let (tests, policies) = files.into_iter().partition(|path| is_test(path));
    let (test_problems, policy_problems) = problems
        .into_iter()
        .partition(|f: &Finding| f.file().is_some_and(is_test));
    Ok(Collected {
        policies,
        policy_problems,
        tests,
        test_problems,
    })
}

fn walk(
    dir: &Path,
    root: &Path,
    wanted: fn(&str) -> bool,
    files: &mut Vec<PathBuf>,
    findings: &mut Vec<Finding>,
) -> Result<(), CollectError> {
    // Links are not followed while walking, so a link loop cannot trap us;
    // linked files are admitted one by one below.
    let walker = WalkDir::new(dir).follow_links(false).sort_by_file_name();
    for entry in walker {
        let entry = entry.map_err(|source| CollectError::Walk {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy();
        if entry.depth() > 0 && name.starts_with('.') {
            continue;
        }
        if !wanted(&name) || entry.file_type().is_dir() {
            continue;
        }
        if let Some(kind) = crate::fsio::special_kind(entry.file_type()) {
            findings.push(not_regular(entry.path(), kind));
            continue;
        }
        // The walk already knows a regular file; only links need checking.
        if !entry.path_is_symlink() {
            files.push(entry.into_path());
        } else if let Some(file) = admit(entry.path(), root, findings) {
            files.push(file);
        }
    }
    Ok(())
}

/// Whether a file name is a policy's (`*.toml`, not a policy test).
pub fn is_policy_name(name: &str) -> bool {
    name.ends_with(".toml") && !name.ends_with(TEST_SUFFIX)
}

/// A regular file, or a link that resolves to a file inside `root`.
fn admit(path: &Path, root: &Path, findings: &mut Vec<Finding>) -> Option<PathBuf> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Some(path.to_path_buf());
    }
    let skipped = |why: &str| {
        Finding::new(
            SYNTAX,
            Severity::Warning,
            format!("symbolic link not read: {why}"),
        )
        .in_file(path)
    };
    let Ok(target) = std::fs::canonicalize(path) else {
        findings.push(skipped("it does not resolve (dangling, or a loop)"));
        return None;
    };
    let inside = std::fs::canonicalize(root).is_ok_and(|root| target.starts_with(root));
    if !inside {
        findings.push(skipped("it points outside the repository"));
        return None;
    }
    let file_type = std::fs::metadata(&target).ok()?.file_type();
    if let Some(kind) = crate::fsio::special_kind(file_type) {
        findings.push(not_regular(path, kind));
    }
    file_type.is_file().then(|| path.to_path_buf())
}

/// A FIFO, socket or device met in a walk: never opened (a FIFO would
/// block the read), reported so that it does not go unnoticed.
fn not_regular(path: &Path, kind: &'static str) -> Finding {
    Finding::new(
        SYNTAX,
        Severity::Warning,
        format!("skipped: {}", crate::fsio::Problem::NotRegular(kind)),
    )
    .in_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two policies (one in a sub-folder), their tests, a hidden policy and
    /// a file that is not one.
    const TREE: &[&str] = &[
        "a.toml",
        "a.test.toml",
        "notes.md",
        ".hidden.toml",
        "sub/b.toml",
        "sub/b.test.toml",
    ];

    /// Empty files `names` under `dir`, with their folders.
    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
    }

    #[test]
    fn walks_policies_skips_tests_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        touch(p, TREE);
        let (files, findings) = collect(&[p.to_path_buf()], p).unwrap();
        assert_eq!(files, [p.join("a.toml"), p.join("sub/b.toml")]);
        assert!(findings.is_empty());
    }

    #[test]
    #[cfg(unix)]
    fn one_walk_finds_what_the_policy_walk_and_the_test_walk_find() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        touch(p, TREE);
        crate::fsio::make_fifo(&p.join("fifo.toml"));
        crate::fsio::make_fifo(&p.join("fifo.test.toml"));
        let both = collect_dir_with_tests(p, p).unwrap();
        let policies = collect_dir(p, p).unwrap();
        let tests = collect_tests(&[p.to_path_buf()], p).unwrap();
        assert_eq!(both.policies, policies.0);
        assert_eq!(both.policy_problems, policies.1);
        assert_eq!(both.tests, tests.0);
        assert_eq!(both.test_problems, tests.1);
        assert_eq!(both.policies, [p.join("a.toml"), p.join("sub/b.toml")]);
        assert_eq!(both.test_problems.len(), 1);
        assert!(matches!(
            collect_dir_with_tests(&p.join("a.toml"), p),
            Err(CollectError::NotADirectory { .. })
        ));
    }

    #[test]
    #[cfg(unix)]
    fn links_out_of_the_repo_and_loops_are_skipped_with_a_warning() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("x.toml"), "").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::os::unix::fs::symlink(outside.path().join("x.toml"), p.join("out.toml")).unwrap();
        std::os::unix::fs::symlink(p.join("loop.toml"), p.join("loop.toml")).unwrap();
        std::os::unix::fs::symlink(p, p.join("self")).unwrap();
        let (files, findings) = collect(&[p.to_path_buf()], p).unwrap();
        assert!(files.is_empty(), "{files:?}");
        assert_eq!(findings.len(), 2);
    }

    #[test]
    #[cfg(unix)]
    fn fifos_are_skipped_in_a_walk_and_refused_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let fifo = p.join("fifo.toml");
        crate::fsio::make_fifo(&fifo);
        std::os::unix::fs::symlink(&fifo, p.join("link.toml")).unwrap();
        let (files, findings) = collect(&[p.to_path_buf()], p).unwrap();
        assert!(files.is_empty(), "{files:?}");
        let messages: Vec<String> = findings.iter().map(|f| f.position()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(findings[0].message.contains("(a FIFO)"));
        for named in [fifo, p.join("link.toml")] {
            let err = collect(&[named], p).unwrap_err();
            assert!(
                err.to_string()
                    .ends_with("not a regular file (a FIFO); wpc reads only regular files"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_policies_dir_that_is_a_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policies");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            collect_dir(&file, dir.path()),
            Err(CollectError::NotADirectory { .. })
        ));
    }
}
