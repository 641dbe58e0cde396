//! The policies of a repository at two revisions, read from Git objects, and
//! their diff.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::PolicyDiff;
use crate::config::{self, Config};
use crate::git::{EntryKind, GitError, Oid, Repo};
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
    /// Policies at `head` that passed their schema (for linting).
    pub head_policies: Vec<Policy>,
    /// Files at either revision that are not valid policies, duplicate
    /// names, and problems in `wpc.toml` at `base`. When any is an error
    /// the diff is incomplete.
    pub findings: Vec<Finding>,
}

impl RevisionDiff {
    pub fn widens(&self) -> bool {
        self.policies.iter().any(PolicyDiff::widens)
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Diff the policies of the repository folder `root` (the folder holding
/// `wpc.toml`, relative to the repository root; empty for the root itself)
/// between `base` and `head`.
pub fn diff_revisions(
    repo: &Repo,
    base: Oid,
    head: Oid,
    root: &str,
) -> Result<RevisionDiff, DiffError> {
    let root = root.trim_matches('/');
    let join = |name: &str| {
        if root.is_empty() {
            name.to_owned()
        } else {
            format!("{root}/{name}")
        }
    };
    let config_path = join(config::FILE_NAME);
    let (config, mut findings) = match repo.read_file(base, &config_path, MAX_FILE_BYTES)? {
        Some(bytes) => match decode_source(Path::new(&config_path), bytes) {
            Ok(source) => Config::from_source(PathBuf::from(root), source),
            Err(finding) => (Config::defaults(PathBuf::from(root)), vec![finding]),
        },
        None => (Config::defaults(PathBuf::from(root)), Vec::new()),
    };
    let dir = join(
        config
            .settings
            .policies
            .dir
            .as_deref()
            .unwrap_or("policies"),
    );

    let mut cache = HashMap::new();
    let mut at_base = Vec::new();
    let old = load(repo, base, &dir, &mut cache, &mut at_base)?;
    // A policy broken at the base is diffed as if it were absent there (its
    // head version counts as new), so a change that repairs it is judged in
    // full rather than blocked.
    findings.extend(at_base.into_iter().map(|f| Finding {
        severity: f.severity.min(Severity::Warning),
        message: format!("at base {}: {}", short(base), f.message),
        ..f
    }));
    let new = load(repo, head, &dir, &mut cache, &mut findings)?;

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
        head_policies: new.into_values().collect(),
        findings,
    })
}

/// Parsed policies by (path, blob): a file unchanged between the revisions
/// is parsed once.
type Cache = HashMap<(String, Oid), Result<Policy, Vec<Finding>>>;

/// The valid policies under `dir` at `commit`, by name.
fn load(
    repo: &Repo,
    commit: Oid,
    dir: &str,
    cache: &mut Cache,
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<String, Policy>, DiffError> {
    let mut wanted = Vec::new();
    for entry in repo.entries(commit, dir)? {
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
    // Git reads are serial (a repository handle is not shared across
    // threads); parsing, the schema check and hashing run in parallel.
    let mut fresh = Vec::new();
    for entry in &wanted {
        let key = (entry.path.clone(), entry.id);
        if !cache.contains_key(&key) {
            let bytes = repo.read_blob(commit, &entry.path, entry.id, MAX_FILE_BYTES + 1)?;
            fresh.push((key, bytes));
        }
    }
    let parsed: Vec<_> = fresh
        .into_par_iter()
        .map(|(key, bytes)| {
            let policy = decode_source(Path::new(&key.0), bytes)
                .map_err(|f| vec![f])
                .and_then(|source| Policy::from_document(Document::parse(source)?));
            (key, policy)
        })
        .collect();
    cache.extend(parsed);

    let mut by_name: BTreeMap<String, Policy> = BTreeMap::new();
    for entry in wanted {
        match cache.get(&(entry.path.clone(), entry.id)) {
            None => {}
            Some(Ok(policy)) => {
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
                by_name.insert(policy.name().to_owned(), policy.clone());
            }
            Some(Err(errors)) => findings.extend(errors.iter().cloned()),
        }
    }
    Ok(by_name)
}

/// A commit's short form for messages.
pub fn short(commit: Oid) -> String {
    let mut text = commit.to_string();
    text.truncate(12);
    text
}
