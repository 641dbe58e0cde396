//! The diff of the policies of a repository between two revisions (each
//! read through [`crate::revision`]).

use std::collections::HashSet;

use rayon::prelude::*;

use super::approvals::{self, PatternError, Requirement};
use super::{Change, PolicyDiff};
use crate::config::{self, Config};
use crate::crypto::trusted::{self, TrustedSigner};
use crate::git::{Entry, GitError, Oid, Repo};
use crate::report::{Finding, Severity};
use crate::revision::{
    config_at, index_by_name, join, policies_by_name, policies_dir, policy_entries, read_policies,
    short, trusted_signers_at,
};

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
    let mut old = policies_by_name(repo, base, changed(&old_entries), &mut at_base)?;
    let mut at_head = Vec::new();
    let mut new = policies_by_name(repo, head, changed(&new_entries), &mut at_head)?;
    // A name on one side only may belong to an unchanged file on the other
    // (a copy, a duplicate): only then are unchanged files read, so that
    // names pair exactly.
    if old.keys().ne(new.keys()) {
        let same: Vec<Entry> = new_entries
            .iter()
            .filter(|e| unchanged.contains(&(e.path.as_str(), e.id)))
            .cloned()
            .collect();
        let policies = read_policies(repo, head, same)?;
        let copies: Vec<_> = policies
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        index_by_name(
            &mut old,
            copies.into_iter().map(Ok).collect(),
            base,
            &mut at_base,
        );
        index_by_name(&mut new, policies, head, &mut at_head);
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
    let path = join(root, trusted::DEFAULT_PATH);
    let (old, new) = (repo.file_id(base, &path)?, repo.file_id(head, &path)?);
    if old == new {
        return Ok(None);
    }
    // Each signer by role, so a key moved from one role to another shows.
    let signers = |commit: Oid| -> Vec<String> {
        trusted_signers_at(repo, root, commit)
            .map(|signers| {
                let role = |role: &str, list: &[TrustedSigner]| {
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
