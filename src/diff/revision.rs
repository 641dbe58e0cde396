//! The policies of a repository at two revisions, read from Git objects, and
//! their diff.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::approvals::{self, PatternError, Requirement};
use super::{Change, PolicyDiff};
use crate::config::{self, Config};
use crate::crypto::trusted::TrustedSigners;
use crate::git::{Entry, EntryKind, GitError, Oid, Repo};
use crate::policy::document::{MAX_FILE_BYTES, SCHEMA, SYNTAX};
use crate::policy::files::is_policy_name;
use crate::policy::{Document, Policy, decode_source};
use crate::report::{Finding, Severity};

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Git(#[from] GitError),
}

/// The diff of every policy between two commits.
#[derive(Debug)]
pub struct RevisionDiff {
    pub base: Oid,
    pub head: Oid,
    /// `wpc.toml` as it is at `base`: the approval rules a change is held to
    /// are the ones it is merged into, never ones it brings along.
    pub config: Config,
    /// Changed policies by name.
    pub policies: Vec<PolicyDiff>,
    /// Changes to `wpc.toml` itself (approval rules, lint settings, signers).
    pub config_changes: Vec<Change>,
    /// Files at either revision that are not valid policies, duplicate
    /// names, and problems in `wpc.toml`. When any is an error the diff is
    /// incomplete.
    pub findings: Vec<Finding>,
}

impl RevisionDiff {
    pub fn widens(&self) -> bool {
        self.policies.iter().any(PolicyDiff::widens)
            || self.config_changes.iter().any(Change::widens)
    }

    /// The approvals the changes require under the base's `[approvals]`.
    pub fn requirements(&self) -> Result<Vec<Requirement>, PatternError> {
        approvals::required(
            &self.config.settings.approvals,
            &self.policies,
            &self.config_changes,
        )
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Diff the policies of the repository folder `root` (the folder holding
/// `wpc.toml`, relative to the repository root; empty for the root itself)
/// between `base` and `head`.
///
/// Each side's policies are found where that side's `wpc.toml` puts them, so
/// moving the folder cannot hide a change. A file with the same path and
/// content at both revisions holds the same policy on both sides and is not
/// read at all: the cost of a diff grows with what changed.
pub fn diff_revisions(
    repo: &Repo,
    base: Oid,
    head: Oid,
    root: &str,
) -> Result<RevisionDiff, DiffError> {
    let root = root.trim_matches('/');
    let mut at_base = Vec::new();
    let config = config_at(repo, base, root, &mut at_base)?;
    let mut findings = Vec::new();
    let head_config = config_at(repo, head, root, &mut findings)?;
    let mut config_changes = config_changes(&config, &head_config);
    config_changes.extend(trust_root_change(repo, base, head, root)?);
    // The base's own config problems stop the diff: its approval rules
    // would be unknown.
    findings.append(&mut at_base);

    let old_entries = policy_entries(repo, base, &policies_dir(&config, root), &mut at_base)?;
    let new_entries = policy_entries(repo, head, &policies_dir(&head_config, root), &mut findings)?;
    let unchanged: HashSet<(&str, Oid)> = old_entries
        .iter()
        .map(|e| (e.path.as_str(), e.id))
        .collect::<HashSet<_>>()
        .intersection(
            &new_entries
                .iter()
                .map(|e| (e.path.as_str(), e.id))
                .collect(),
        )
        .copied()
        .collect();
    let changed = |entries: &[Entry]| -> Vec<Entry> {
        entries
            .iter()
            .filter(|e| !unchanged.contains(&(e.path.as_str(), e.id)))
            .cloned()
            .collect()
    };
    let mut old = BTreeMap::new();
    insert(
        &mut old,
        parse(repo, base, changed(&old_entries))?,
        base,
        &mut at_base,
    );
    let mut new = BTreeMap::new();
    let mut at_head = Vec::new();
    insert(
        &mut new,
        parse(repo, head, changed(&new_entries))?,
        head,
        &mut at_head,
    );
    // A name on one side only may belong to an unchanged file on the other
    // (a copy, a duplicate): only then are unchanged files read, so that
    // names pair exactly.
    if old.keys().ne(new.keys()) {
        let same: Vec<Entry> = new_entries
            .iter()
            .filter(|e| unchanged.contains(&(e.path.as_str(), e.id)))
            .cloned()
            .collect();
        let policies = parse(repo, head, same)?;
        let copies: Vec<_> = policies
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        insert(
            &mut old,
            copies.into_iter().map(Ok).collect(),
            base,
            &mut at_base,
        );
        insert(&mut new, policies, head, &mut at_head);
    }
    // A policy broken at the base is diffed as if it were absent there (its
    // head version counts as new), so a change that repairs it is judged in
    // full rather than blocked.
    findings.extend(at_base.into_iter().map(|f| Finding {
        severity: f.severity.min(Severity::Warning),
        message: format!("at base {}: {}", short(base), f.message),
        ..f
    }));
    findings.append(&mut at_head);

    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let policies = names
        .par_iter()
        .filter_map(|name| PolicyDiff::compare(old.get(*name), new.get(*name)))
        .collect();
    findings.sort_by_key(Finding::position);
    findings.dedup();
    Ok(RevisionDiff {
        base,
        head,
        config,
        policies,
        config_changes,
        findings,
    })
}

/// Every policy at `commit` (for linting a revision): the config there, the
/// policies that passed their schema, and findings for the rest.
pub fn policies_at(
    repo: &Repo,
    commit: Oid,
    root: &str,
) -> Result<(Config, Vec<Policy>, Vec<Finding>), DiffError> {
    let root = root.trim_matches('/');
    let mut findings = Vec::new();
    let config = config_at(repo, commit, root, &mut findings)?;
    let entries = policy_entries(repo, commit, &policies_dir(&config, root), &mut findings)?;
    let mut by_name = BTreeMap::new();
    insert(
        &mut by_name,
        parse(repo, commit, entries)?,
        commit,
        &mut findings,
    );
    Ok((config, by_name.into_values().collect(), findings))
}

/// What a change to each section of `wpc.toml` can do. The diff does not
/// analyse them: any change to a section that decides who approves, what
/// fails the check, or whom releases and receipts trust widens.
const CONFIG_SECTIONS: &[(&str, super::Severity)] = &[
    ("approvals", super::Severity::Critical),
    ("release", super::Severity::Critical),
    ("bundles", super::Severity::Critical),
    ("lint", super::Severity::High),
    ("openclaw", super::Severity::High),
];

fn config_changes(old: &Config, new: &Config) -> Vec<Change> {
    let section = |config: &Config, key: &str| {
        config
            .doc
            .as_ref()
            .and_then(|doc| doc.value.get(key))
            .cloned()
    };
    let mut changes = Vec::new();
    for (key, severity) in CONFIG_SECTIONS {
        if section(old, key) != section(new, key) {
            changes.push(Change::widening(
                *severity,
                &format!("{}:{key}", config::FILE_NAME),
                format!("`[{key}]` changed in `{}`", config::FILE_NAME),
            ));
        }
    }
    let dir = |config: &Config| config.settings.policies.dir.clone();
    if dir(old) != dir(new) {
        // Each side's policies are read where its config puts them.
        changes.push(Change::neutral(
            &format!("{}:policies", config::FILE_NAME),
            format!(
                "policies folder `{}` (was `{}`)",
                policies_dir(new, ""),
                policies_dir(old, "")
            ),
        ));
    }
    changes
}

/// A change to `keys/trusted-signers.toml`: it decides whose signatures
/// releases, revocations, checkpoints and receipts are accepted under, so
/// any change to it is critical, whatever it says (a file that no longer
/// parses included). Which signers came and went is named when both sides
/// parse.
fn trust_root_change(
    repo: &Repo,
    base: Oid,
    head: Oid,
    root: &str,
) -> Result<Option<Change>, DiffError> {
    let path = join(root, crate::crypto::trusted::DEFAULT_PATH);
    let (old, new) = (repo.file_id(base, &path)?, repo.file_id(head, &path)?);
    if old == new {
        return Ok(None);
    }
    // Each signer by role, so a key moved from one role to another shows.
    let signers = |commit: Oid| -> Vec<String> {
        trusted_signers_at(repo, root, commit)
            .map(|signers| {
                let role = |role: &str, list: &[crate::crypto::trusted::TrustedSigner]| {
                    list.iter()
                        .map(|s| format!("{role} {}", s.did.as_str()))
                        .collect::<Vec<_>>()
                };
                let mut all = role("release signer", signers.release_signers());
                all.extend(role("gateway signer", signers.gateway_signers()));
                all
            })
            .unwrap_or_default()
    };
    let (before, after) = (signers(base), signers(head));
    let added: Vec<&str> = after
        .iter()
        .filter(|d| !before.contains(d))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = before
        .iter()
        .filter(|d| !after.contains(d))
        .map(String::as_str)
        .collect();
    let mut message = format!("trust root `{path}` changed");
    if !added.is_empty() {
        message.push_str(&format!("; adds {}", added.join(", ")));
    }
    if !removed.is_empty() {
        message.push_str(&format!("; removes {}", removed.join(", ")));
    }
    Ok(Some(Change::widening(
        super::Severity::Critical,
        &path,
        message,
    )))
}

/// The trusted signers of `keys/trusted-signers.toml` (under `root`) at
/// `commit`; an error names what is missing or invalid.
pub fn trusted_signers_at(repo: &Repo, root: &str, commit: Oid) -> Result<TrustedSigners, String> {
    let path = join(root.trim_matches('/'), crate::crypto::trusted::DEFAULT_PATH);
    let bytes = match repo.file_id(commit, &path).map_err(|e| e.to_string())? {
        Some(id) => read_policy_file(repo, commit, &path, id)
            .map_err(|e| e.to_string())?
            .map_err(|f| f.message)?,
        None => return Err(format!("no {path} at commit {commit}")),
    };
    let source = decode_source(Path::new(&path), bytes).map_err(|f| f.message)?;
    let invalid =
        |f: Vec<Finding>| format!("{path} at {commit} is not valid ({} problems)", f.len());
    let doc = Document::parse(source).map_err(invalid)?;
    TrustedSigners::from_document(&doc).map_err(invalid)
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
) -> Result<(Config, Vec<Policy>, Vec<Finding>), DiffError> {
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
    let mut by_name = BTreeMap::new();
    insert(
        &mut by_name,
        parse(repo, commit, wanted)?,
        commit,
        &mut findings,
    );
    Ok((config, by_name.into_values().collect(), findings))
}

fn join(root: &str, name: &str) -> String {
    if root.is_empty() {
        name.to_owned()
    } else {
        format!("{root}/{name}")
    }
}

fn policies_dir(config: &Config, root: &str) -> String {
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
) -> Result<Config, DiffError> {
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
fn policy_entries(
    repo: &Repo,
    commit: Oid,
    dir: &str,
    findings: &mut Vec<Finding>,
) -> Result<Vec<Entry>, DiffError> {
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
fn parse(
    repo: &Repo,
    commit: Oid,
    entries: Vec<Entry>,
) -> Result<Vec<Result<Policy, Vec<Finding>>>, DiffError> {
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
    Ok(results.into_iter().collect::<Result<Vec<_>, GitError>>()?)
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

/// Add the valid policies to `by_name`; a finding for every invalid file and
/// every name used twice at `commit`.
fn insert(
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
