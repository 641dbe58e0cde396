//! A policy repository as it was at a commit, read from Git objects only:
//! its `wpc.toml`, its policies and its trusted signers. The diff pairs two
//! revisions, the release walks main's history, replay reads old versions;
//! all of them read a revision through here, so a file is judged the same
//! way wherever history is read (a file too large or invalid at some commit
//! is a finding on that file, never an error that stops the walk).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::{self, Config};
use crate::crypto::trusted::{self, TrustedSigners};
use crate::git::{Entry, EntryKind, GitError, Oid, Repo};
use crate::policy::document::{MAX_FILE_BYTES, SCHEMA, SYNTAX};
use crate::policy::files::is_policy_name;
use crate::policy::{Document, Policy, decode_source};
use crate::report::{Finding, Severity};

/// Every policy at `commit` (for linting a revision): the config there, the
/// policies that passed their schema, and findings for the rest.
pub fn policies_at(
    repo: &Repo,
    commit: Oid,
    root: &str,
) -> Result<(Config, Vec<Policy>, Vec<Finding>), GitError> {
    let root = root.trim_matches('/');
    let mut findings = Vec::new();
    let config = config_at(repo, commit, root, &mut findings)?;
    let entries = policy_entries(repo, commit, &policies_dir(&config, root), &mut findings)?;
    let by_name = policies_by_name(repo, commit, entries, &mut findings)?;
    Ok((config, by_name.into_values().collect(), findings))
}

/// The trusted signers of `keys/trusted-signers.toml` (under `root`) at
/// `commit`; an error names what is missing or invalid.
pub fn trusted_signers_at(
    repo: &Repo,
    root: &str,
    commit: Oid,
) -> Result<TrustedSigners, SignersError> {
    let path = join(root.trim_matches('/'), trusted::DEFAULT_PATH);
    let bytes = match repo.file_id(commit, &path)? {
        Some(id) => read_policy_file(repo, commit, &path, id)?.map_err(SignersError::Unreadable)?,
        None => return Err(SignersError::Missing { path, commit }),
    };
    let source = decode_source(Path::new(&path), bytes).map_err(SignersError::Unreadable)?;
    let invalid = |findings: Vec<Finding>| SignersError::Invalid {
        path: path.clone(),
        commit,
        problems: findings.len(),
    };
    let doc = Document::parse(source).map_err(invalid)?;
    TrustedSigners::from_document(&doc).map_err(invalid)
}

/// Why the trusted signers at a commit could not be read.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SignersError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("no {path} at commit {commit}")]
    Missing { path: String, commit: Oid },
    /// Too large, or not UTF-8: the finding says which.
    #[error("{}", .0.message)]
    Unreadable(Finding),
    #[error("{path} at {commit} is not valid ({problems} problems)")]
    Invalid {
        path: String,
        commit: Oid,
        problems: usize,
    },
}

/// Why the policy folder's root could not be found.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot resolve {}: {error}", path.display())]
    Resolve {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// The policy folder's root inside the repository: the nearest folder from
/// `start` up to the work tree's root whose `wpc.toml` exists at `base` (in
/// Git, not on disk). A bare repository has no current place in it: its root.
pub fn find_root(repo: &Repo, base: Oid, start: &Path) -> Result<String, RootError> {
    let Some(workdir) = repo.workdir() else {
        return Ok(String::new());
    };
    let resolve = |path: &Path| {
        std::fs::canonicalize(path).map_err(|error| RootError::Resolve {
            path: path.to_owned(),
            error,
        })
    };
    let workdir = resolve(workdir)?;
    let start = resolve(start)?;
    let Ok(relative) = start.strip_prefix(&workdir) else {
        return Ok(String::new());
    };
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    for depth in (1..=parts.len()).rev() {
        let dir = parts[..depth].join("/");
        let config = format!("{dir}/{}", config::FILE_NAME);
        if repo.is_file(base, &config)? {
            return Ok(dir);
        }
    }
    Ok(String::new())
}

/// `wpc.toml` as last read by [`changed_policies`], by blob: a walk over
/// thousands of commits parses it once per version, not once per commit.
#[derive(Debug, Default)]
pub struct ConfigCache(Option<(Option<Oid>, Config, Vec<Finding>)>);

/// The policies at `commit` whose file is new or different from `parent`
/// (every policy without a parent), for releasing a commit: the config
/// there, those policies, and findings for changed files that are not valid
/// policies (and for the config, when it has problems). Unchanged files are
/// not read.
pub fn changed_policies(
    repo: &Repo,
    parent: Option<Oid>,
    commit: Oid,
    root: &str,
    cache: &mut ConfigCache,
) -> Result<(Config, Vec<Policy>, Vec<Finding>), GitError> {
    let root = root.trim_matches('/');
    let config_id = repo.file_id(commit, &join(root, config::FILE_NAME))?;
    let (config, mut findings) = match &cache.0 {
        Some((id, config, findings)) if *id == config_id => (config.clone(), findings.clone()),
        _ => {
            let mut findings = Vec::new();
            let config = config_at(repo, commit, root, &mut findings)?;
            cache.0 = Some((config_id, config.clone(), findings.clone()));
            (config, findings)
        }
    };
    let dir = policies_dir(&config, root);
    let changed = repo.changed_entries(parent, commit, &dir)?;
    let wanted = wanted_entries(changed, &mut findings);
    let by_name = policies_by_name(repo, commit, wanted, &mut findings)?;
    Ok((config, by_name.into_values().collect(), findings))
}

pub fn join(root: &str, name: &str) -> String {
    if root.is_empty() {
        name.to_owned()
    } else {
        format!("{root}/{name}")
    }
}

pub fn policies_dir(config: &Config, root: &str) -> String {
    join(
        root,
        config
            .settings
            .policies
            .dir
            .as_deref()
            .unwrap_or("policies"),
    )
}

/// `wpc.toml` at `commit` (defaults when there is none).
pub fn config_at(
    repo: &Repo,
    commit: Oid,
    root: &str,
    findings: &mut Vec<Finding>,
) -> Result<Config, GitError> {
    let path = join(root, config::FILE_NAME);
    let read = match repo.file_id(commit, &path)? {
        Some(id) => Some(read_policy_file(repo, commit, &path, id)?),
        None => None,
    };
    let (config, found) = match read {
        Some(Err(finding)) => (Config::defaults(PathBuf::from(root)), vec![finding]),
        Some(Ok(bytes)) => match decode_source(Path::new(&path), bytes) {
            Ok(source) => Config::from_source(PathBuf::from(root), source),
            Err(finding) => (Config::defaults(PathBuf::from(root)), vec![finding]),
        },
        None => (Config::defaults(PathBuf::from(root)), Vec::new()),
    };
    findings.extend(found);
    Ok(config)
}

/// The policy files under `dir` at `commit`.
pub fn policy_entries(
    repo: &Repo,
    commit: Oid,
    dir: &str,
    findings: &mut Vec<Finding>,
) -> Result<Vec<Entry>, GitError> {
    Ok(wanted_entries(repo.entries(commit, dir)?, findings))
}

/// The policy files among `entries`; a finding for each link.
fn wanted_entries(entries: Vec<Entry>, findings: &mut Vec<Finding>) -> Vec<Entry> {
    let mut wanted = Vec::new();
    for entry in entries {
        let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        if !is_policy_name(name) {
            continue;
        }
        match entry.kind {
            EntryKind::File => wanted.push(entry),
            EntryKind::Link => findings.push(
                Finding::new(
                    SYNTAX,
                    Severity::Warning,
                    "symbolic link not read: in Git it names a path, not a policy",
                )
                .in_file(&entry.path),
            ),
            EntryKind::Submodule => {}
        }
    }
    wanted
}

/// Read and check `entries` at `commit`, in parallel: each worker thread
/// reads through its own repository handle.
pub fn read_policies(
    repo: &Repo,
    commit: Oid,
    entries: Vec<Entry>,
) -> Result<Vec<Result<Policy, Vec<Finding>>>, GitError> {
    let location = repo.location().to_path_buf();
    let results: Vec<Result<Result<Policy, Vec<Finding>>, GitError>> = entries
        .into_par_iter()
        .map_init(
            || Repo::open(&location),
            |handle, entry| {
                let handle = handle.as_ref().map_err(|e| GitError::Open {
                    path: PathBuf::from(&entry.path),
                    message: e.to_string(),
                })?;
                Ok(read_policy_file(handle, commit, &entry.path, entry.id)?
                    .and_then(|bytes| decode_source(Path::new(&entry.path), bytes))
                    .map_err(|f| vec![f])
                    .and_then(|source| Policy::from_document(Document::parse(source)?)))
            },
        )
        .collect();
    results.into_iter().collect()
}

/// The bytes of a policy or config file in history. One that is too large
/// is a finding on that file, not an error: a file once committed stays in
/// history, and must not stop every later run that reads it.
fn read_policy_file(
    repo: &Repo,
    commit: Oid,
    path: &str,
    id: Oid,
) -> Result<Result<Vec<u8>, Finding>, GitError> {
    match repo.read_blob(commit, path, id, MAX_FILE_BYTES + 1) {
        Ok(bytes) => Ok(Ok(bytes)),
        Err(GitError::TooLarge { size, .. }) => Ok(Err(Finding::new(
            SYNTAX,
            Severity::Error,
            format!(
                "file is {size} bytes at {}; at most {MAX_FILE_BYTES} are read",
                short(commit)
            ),
        )
        .in_file(path))),
        Err(err) => Err(err),
    }
}

/// The valid policies of `entries` at `commit` by name ([`read_policies`],
/// then [`index_by_name`]): a finding for every invalid file and every name
/// used twice.
pub fn policies_by_name(
    repo: &Repo,
    commit: Oid,
    entries: Vec<Entry>,
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<String, Policy>, GitError> {
    let mut by_name = BTreeMap::new();
    index_by_name(
        &mut by_name,
        read_policies(repo, commit, entries)?,
        commit,
        findings,
    );
    Ok(by_name)
}

/// Add the valid policies to `by_name`; a finding for every invalid file and
/// every name used twice at `commit`.
pub fn index_by_name(
    by_name: &mut BTreeMap<String, Policy>,
    parsed: Vec<Result<Policy, Vec<Finding>>>,
    commit: Oid,
    findings: &mut Vec<Finding>,
) {
    for result in parsed {
        match result {
            Ok(policy) => {
                if let Some(first) = by_name.get(policy.name()) {
                    findings.push(
                        policy
                            .doc
                            .finding_at(
                                "/policy_name",
                                SCHEMA,
                                Severity::Error,
                                format!(
                                    "policy name `{}` is also used by {} at {}",
                                    policy.name(),
                                    first.doc.source.path().display(),
                                    short(commit)
                                ),
                            )
                            .help("policies are paired by name: each name must be used once"),
                    );
                    continue;
                }
                by_name.insert(policy.name().to_owned(), policy);
            }
            Err(errors) => findings.extend(errors),
        }
    }
}

/// A commit's short form for messages.
pub fn short(commit: Oid) -> String {
    let mut text = commit.to_string();
    text.truncate(12);
    text
}
