//! Git-native releases (docs/release.md): the policies changed by each first-parent
//! commit, checked and signed, appended to a release branch written through
//! Git objects only (`wpc/<hash>.json`, `index.json`, `revocations.json`).
//!
//! A run is [`prepare`] (read, check, sign, write blobs, trees and one
//! commit that no reference names yet) then [`publish`] (one
//! compare-and-swap of the branch reference). A run that stops between the
//! two leaves the branch as it was; a concurrent run that published first
//! makes [`publish`] fail without changing anything. See `docs/release.md`.

mod fetch;
mod revoke;
mod verify;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use jiff::Timestamp;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::crypto::envelope::{SignError, SignedEnvelope, WorkPolicyContract};
use crate::crypto::keys::SigningKey;
use crate::diff::{ConfigCache, DiffError, changed_policies};
use crate::git::{GitError, Oid, Repo};
use crate::lint;
use crate::report::{Finding, Severity};

pub use fetch::{FetchError, ReleasedWpc, fetch, fetch_from_dir, locate, resolve};
pub use revoke::{RevokeError, revocation_message, revoke};
pub use verify::{Violation, verify_branch};

/// The default release branch.
pub const DEFAULT_BRANCH: &str = "wpc-releases";
/// `index.json`'s `format`.
pub const INDEX_FORMAT: &str = "wpc-release-index/1";
pub const INDEX_PATH: &str = "index.json";
pub const REVOCATIONS_PATH: &str = "revocations.json";
/// Envelopes live at `wpc/<hash>.json`.
pub const ENVELOPE_DIR: &str = "wpc";
/// Largest `index.json` or `revocations.json` read: thousands of releases
/// are a few MiB.
pub const MAX_INDEX_BYTES: usize = 64 * 1024 * 1024;
/// Largest envelope read: a policy is at most 1 MiB of TOML.
pub const MAX_ENVELOPE_BYTES: usize = 4 * 1024 * 1024;

/// `index.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub format: String,
    /// The last source commit a run looked at.
    pub last_commit: Option<String>,
    /// Every release of each policy, oldest first.
    pub policies: BTreeMap<String, Vec<Entry>>,
}

/// One release of one policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub hash: String,
    /// The hash released before this one under the same name.
    pub previous: Option<String>,
    /// The source commit the policy was read from.
    pub commit: String,
    pub released_at: String,
    /// Who signed the envelope at `wpc/<hash>.json`.
    pub signer_did: String,
    /// The pull request that brought the change, when known.
    pub pr: Option<u64>,
    /// Who approved that pull request, when GitHub was asked.
    pub approved_by: Vec<String>,
}

/// One entry of `revocations.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub hash: String,
    pub reason: String,
    pub revoked_at: String,
    pub signer_did: String,
    /// Ed25519 over [`revocation_message`].
    pub signature_b64u: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error("release branch `{branch}`: {path} at {commit}: {message}")]
    Corrupt {
        branch: String,
        path: String,
        commit: Oid,
        message: String,
    },
    #[error("cannot sign: {0}")]
    Sign(#[from] SignError),
    #[error("pull request #{pr}: {message}")]
    PullRequest { pr: u64, message: String },
    #[error(
        "the last released commit {0} is not on the first-parent history of HEAD (was it rewritten?); pass --since REV"
    )]
    LastCommitGone(String),
    #[error(
        "the signing key {did} is not a [[release_signer]] in {path} at {commit}: nothing was released"
    )]
    UntrustedKey {
        did: String,
        path: String,
        commit: Oid,
    },
    #[error("cannot serialize {0}: {1}")]
    Serialize(&'static str, String),
}

/// A release branch as it is at its tip (empty when it does not exist).
#[derive(Clone, Debug)]
pub struct Branch {
    pub name: String,
    pub tip: Option<Oid>,
    pub index: Index,
    pub revocations: Vec<Revocation>,
}

impl Branch {
    /// Read `refs/heads/<name>`.
    pub fn read(repo: &Repo, name: &str) -> Result<Branch, ReleaseError> {
        let tip = repo.branch_tip(name)?;
        let (index, revocations) = match tip {
            Some(tip) => read_state(repo, name, tip)?,
            None => (
                Index {
                    format: INDEX_FORMAT.to_owned(),
                    ..Index::default()
                },
                Vec::new(),
            ),
        };
        Ok(Branch {
            name: name.to_owned(),
            tip,
            index,
            revocations,
        })
    }

    pub fn is_revoked(&self, hash: &str) -> bool {
        self.revocations.iter().any(|r| r.hash == hash)
    }

    /// Every entry with `hash`, with its policy name.
    pub fn entries_of<'a>(&'a self, hash: &'a str) -> impl Iterator<Item = (&'a str, &'a Entry)> {
        self.index.policies.iter().flat_map(move |(name, entries)| {
            entries
                .iter()
                .filter(move |e| e.hash == hash)
                .map(move |e| (name.as_str(), e))
        })
    }
}

/// `index.json` and `revocations.json` at one commit of the branch.
pub(crate) fn read_state(
    repo: &Repo,
    branch: &str,
    commit: Oid,
) -> Result<(Index, Vec<Revocation>), ReleaseError> {
    let index: Index = read_json(repo, branch, commit, INDEX_PATH)?;
    if index.format != INDEX_FORMAT {
        return Err(ReleaseError::Corrupt {
            branch: branch.to_owned(),
            path: INDEX_PATH.to_owned(),
            commit,
            message: format!("format is `{}`, expected `{INDEX_FORMAT}`", index.format),
        });
    }
    let revocations = read_json(repo, branch, commit, REVOCATIONS_PATH)?;
    Ok((index, revocations))
}

fn read_json<T: serde::de::DeserializeOwned>(
    repo: &Repo,
    branch: &str,
    commit: Oid,
    path: &str,
) -> Result<T, ReleaseError> {
    let corrupt = |message: String| ReleaseError::Corrupt {
        branch: branch.to_owned(),
        path: path.to_owned(),
        commit,
        message,
    };
    let bytes = repo
        .read_file(commit, path, MAX_INDEX_BYTES)?
        .ok_or_else(|| corrupt("missing".to_owned()))?;
    serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))
}

fn join(root: &str, path: &str) -> String {
    let root = root.trim_matches('/');
    if root.is_empty() {
        path.to_owned()
    } else {
        format!("{root}/{path}")
    }
}

/// The path of the envelope of `hash`.
pub fn envelope_path(hash: &str) -> String {
    format!("{ENVELOPE_DIR}/{hash}.json")
}

/// RFC 3339 UTC with whole seconds, as `issued_at`.
pub(crate) fn rfc3339(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Where approvals come from: the bot's GitHub client in the CLI, a stub in
/// tests. Only asked for commits that name a pull request.
pub trait PullRequests {
    /// The logins whose approval stands on pull request `pr`.
    fn approvers(&self, pr: u64) -> Result<Vec<String>, String>;
}

/// The pull request a first-parent commit came from: `Merge pull request #N`
/// for a merge commit, a trailing `(#N)` on the subject for a squash merge.
pub fn pull_request_number(message: &str) -> Option<u64> {
    let subject = message.lines().next().unwrap_or_default().trim();
    let digits = |text: &str| -> Option<u64> {
        let end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        text.get(..end).filter(|d| !d.is_empty())?.parse().ok()
    };
    if let Some(rest) = subject.strip_prefix("Merge pull request #") {
        return digits(rest);
    }
    let inner = subject.strip_suffix(')')?;
    let start = inner.rfind("(#")?;
    let number = inner.get(start + 2..)?;
    (number.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits(number))
        .flatten()
}

/// What a run is asked to do.
pub struct Request<'a> {
    pub branch: &'a str,
    /// The folder holding `wpc.toml`, relative to the repository root.
    pub root: &'a str,
    pub head: Oid,
    /// Start after this commit instead of the index's `last_commit`.
    pub since: Option<Oid>,
    pub key: &'a SigningKey,
    pub now: Timestamp,
    pub pull_requests: Option<&'a dyn PullRequests>,
    /// Check and sign, but write no objects.
    pub dry_run: bool,
}

/// One policy released by a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Released {
    pub name: String,
    pub hash: String,
    pub previous: Option<String>,
    pub commit: String,
    /// False when the content was released before (a revert): the entry
    /// points at the existing envelope.
    pub new_envelope: bool,
    pub pr: Option<u64>,
    pub approved_by: Vec<String>,
}

/// Why a commit's policy was not released.
#[derive(Clone, Debug)]
pub struct Refused {
    pub commit: Oid,
    /// The policy name, or the file when it has none.
    pub what: String,
    pub reason: String,
    pub findings: Vec<Finding>,
}

/// The outcome of [`prepare`]: objects written, reference not yet moved.
#[derive(Debug)]
pub struct Plan {
    pub branch: String,
    /// The tip the branch must still have when published.
    pub expected: Option<Oid>,
    /// The new tip; `None` when there is nothing to publish (or a dry run).
    pub commit: Option<Oid>,
    pub released: Vec<Released>,
    pub refused: Vec<Refused>,
}

/// Check and sign everything new since the last released commit and write
/// the next state of the branch as objects.
pub fn prepare(repo: &Repo, request: &Request<'_>) -> Result<Plan, ReleaseError> {
    let mut branch = Branch::read(repo, request.branch)?;
    let start = match (request.since, &branch.index.last_commit) {
        (Some(since), _) => Some(since),
        (None, Some(last)) => Some(
            Oid::from_str(last)
                .ok()
                .filter(|id| repo.commit_info(*id).is_ok())
                .ok_or_else(|| ReleaseError::LastCommitGone(last.clone()))?,
        ),
        (None, None) => None,
    };
    let commits = match repo.first_parents(request.head, start) {
        Ok(commits) => commits,
        Err(GitError::Git(_)) if start.is_some() && request.since.is_none() => {
            return Err(ReleaseError::LastCommitGone(
                start.map(|s| s.to_string()).unwrap_or_default(),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    // Hash → signer of its envelope on the branch (or written by this run).
    let mut signers: HashMap<String, String> = branch
        .index
        .policies
        .values()
        .flatten()
        .map(|e| (e.hash.clone(), e.signer_did.clone()))
        .collect();
    let released_at = rfc3339(request.now);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut released = Vec::new();
    let mut refused = Vec::new();
    let mut configs = ConfigCache::default();
    // Git reads are serial; linting each changed policy runs in parallel.
    let mut steps = Vec::with_capacity(commits.len());
    for commit in commits {
        let info = repo.commit_info(commit)?;
        let (config, policies, findings) = changed_policies(
            repo,
            info.parents.first().copied(),
            commit,
            request.root,
            &mut configs,
        )?;
        let errors: Vec<Finding> = findings
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        steps.push((info, config, policies, errors));
    }
    let lint_errors: Vec<Vec<Vec<Finding>>> = steps
        .par_iter()
        .map(|(_, config, policies, _)| {
            policies
                .iter()
                .map(|policy| {
                    let report =
                        lint::check_policies(config, Vec::new(), std::slice::from_ref(policy), 1);
                    report
                        .findings()
                        .iter()
                        .filter(|f| f.severity == Severity::Error)
                        .cloned()
                        .collect()
                })
                .collect()
        })
        .collect();
    let config_path = join(request.root, crate::config::FILE_NAME);
    let signers_path = join(request.root, crate::crypto::trusted::DEFAULT_PATH);
    // Whether the key is a release signer, by trusted-signers blob.
    let mut key_trusted: HashMap<Option<Oid>, bool> = HashMap::new();
    for ((info, _, policies, errors), lint_errors) in steps.into_iter().zip(lint_errors) {
        let commit = info.id;
        // Fail closed: with a broken `wpc.toml` the lint settings are
        // unknown, and a key the commit does not trust signs nothing that
        // `wpc release verify` would accept.
        let config_broken = errors
            .iter()
            .any(|f| f.file().is_some_and(|p| p == Path::new(&config_path)));
        if !errors.is_empty() {
            refused.extend(refuse_files(commit, errors));
        }
        if policies.is_empty() {
            continue;
        }
        let signers_id = repo.file_id(commit, &signers_path)?;
        let trusted = match key_trusted.get(&signers_id) {
            Some(trusted) => *trusted,
            None => {
                let trusted = verify::trust_at(repo, request.root, commit)
                    .is_ok_and(|trust| trust.admits_did(&request.key.did()));
                key_trusted.insert(signers_id, trusted);
                trusted
            }
        };
        // Not a property of the policies: stop without writing anything,
        // so the commits are released once the key is right.
        if !trusted {
            return Err(ReleaseError::UntrustedKey {
                did: request.key.did_str().to_owned(),
                path: signers_path,
                commit,
            });
        }
        let blocked = config_broken.then(|| format!("{config_path} has errors at this commit"));
        let mut pr_approvers: Option<(u64, Vec<String>)> = None;
        for (policy, lint_errors) in policies.iter().zip(lint_errors) {
            let name = policy.name().to_owned();
            let last = branch
                .index
                .policies
                .get(&name)
                .and_then(|entries| entries.last());
            if last.is_some_and(|e| e.hash == policy.hash) {
                continue;
            }
            if let Some(reason) = &blocked {
                refused.push(Refused {
                    commit,
                    what: name,
                    reason: reason.clone(),
                    findings: Vec::new(),
                });
                continue;
            }
            if branch.is_revoked(&policy.hash) {
                refused.push(Refused {
                    commit,
                    what: name,
                    reason: format!(
                        "hash {} is revoked: change the policy (bump `revision`) to release it",
                        policy.hash
                    ),
                    findings: Vec::new(),
                });
                continue;
            }
            if !lint_errors.is_empty() {
                refused.push(Refused {
                    commit,
                    what: name,
                    reason: "the policy has lint errors".to_owned(),
                    findings: lint_errors,
                });
                continue;
            }
            let pr = pull_request_number(&info.message);
            let approved_by = match (pr, request.pull_requests) {
                (Some(number), Some(lookup)) => match &pr_approvers {
                    Some((n, approvers)) if *n == number => approvers.clone(),
                    _ => {
                        let approvers = lookup.approvers(number).map_err(|message| {
                            ReleaseError::PullRequest {
                                pr: number,
                                message,
                            }
                        })?;
                        pr_approvers = Some((number, approvers.clone()));
                        approvers
                    }
                },
                _ => Vec::new(),
            };
            let new_envelope = !signers.contains_key(&policy.hash);
            if new_envelope {
                let envelope = SignedEnvelope::sign::<WorkPolicyContract>(
                    policy.doc.value.clone(),
                    request.key,
                    request.now,
                )?;
                let mut json = serde_json::to_string_pretty(&envelope)
                    .map_err(|e| ReleaseError::Serialize("an envelope", e.to_string()))?;
                json.push('\n');
                files.push((envelope_path(&policy.hash), json.into_bytes()));
                signers.insert(policy.hash.clone(), envelope.signer_did().to_owned());
            }
            let entry = Entry {
                hash: policy.hash.clone(),
                previous: last.map(|e| e.hash.clone()),
                commit: commit.to_string(),
                released_at: released_at.clone(),
                signer_did: signers.get(&policy.hash).cloned().unwrap_or_default(),
                pr,
                approved_by: approved_by.clone(),
            };
            released.push(Released {
                name: name.clone(),
                hash: entry.hash.clone(),
                previous: entry.previous.clone(),
                commit: entry.commit.clone(),
                new_envelope,
                pr,
                approved_by,
            });
            branch.index.policies.entry(name).or_default().push(entry);
        }
    }
    let head = request.head.to_string();
    let moved = branch.index.last_commit.as_deref() != Some(head.as_str());
    let mut plan = Plan {
        branch: branch.name.clone(),
        expected: branch.tip,
        commit: None,
        released,
        refused,
    };
    if request.dry_run || !(moved || branch.tip.is_none()) {
        return Ok(plan);
    }
    branch.index.last_commit = Some(head);
    files.push((INDEX_PATH.to_owned(), to_json(&branch.index, "index.json")?));
    if branch.tip.is_none() {
        files.push((
            REVOCATIONS_PATH.to_owned(),
            to_json(&branch.revocations, "revocations.json")?,
        ));
    }
    let message = format!(
        "wpc release: {} release(s) up to {}",
        plan.released.len(),
        request.head
    );
    plan.commit = Some(repo.write_commit(branch.tip, &files, &message)?);
    Ok(plan)
}

/// Move the branch to the plan's commit, if the branch is still where the
/// plan found it.
pub fn publish(repo: &Repo, plan: &Plan) -> Result<(), ReleaseError> {
    if let Some(commit) = plan.commit {
        repo.update_branch(&plan.branch, plan.expected, commit, "wpc release")?;
    }
    Ok(())
}

fn refuse_files(commit: Oid, errors: Vec<Finding>) -> Vec<Refused> {
    let mut by_file: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for finding in errors {
        let file = finding
            .file()
            .map(Path::to_string_lossy)
            .map(|p| p.into_owned())
            .unwrap_or_else(|| "wpc.toml".to_owned());
        by_file.entry(file).or_default().push(finding);
    }
    by_file
        .into_iter()
        .map(|(file, findings)| Refused {
            commit,
            what: file,
            reason: "not a valid policy".to_owned(),
            findings,
        })
        .collect()
}

pub(crate) fn to_json<T: Serialize>(
    value: &T,
    what: &'static str,
) -> Result<Vec<u8>, ReleaseError> {
    let mut json = serde_json::to_string_pretty(value)
        .map_err(|e| ReleaseError::Serialize(what, e.to_string()))?;
    json.push('\n');
    Ok(json.into_bytes())
}

/// The hashes revoked on `branch` of the repository holding `start`; empty
/// when there is no repository or no such branch. For `wpc check`.
pub fn revoked_hashes(start: &Path, branch: &str) -> Result<HashSet<String>, ReleaseError> {
    let Ok(repo) = Repo::discover(start) else {
        return Ok(HashSet::new());
    };
    let branch = Branch::read(&repo, branch)?;
    Ok(branch.revocations.into_iter().map(|r| r.hash).collect())
}

/// The release branch a config names.
pub fn branch_name(config: &Config) -> &str {
    config
        .settings
        .release
        .branch
        .as_deref()
        .unwrap_or(DEFAULT_BRANCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_numbers_from_merge_and_squash_subjects() {
        assert_eq!(
            pull_request_number("Merge pull request #7 from a/b\n\nbody"),
            Some(7)
        );
        assert_eq!(pull_request_number("Tighten deployer (#12)"), Some(12));
        assert_eq!(
            pull_request_number("Tighten deployer (#12)\n\n(#13)"),
            Some(12)
        );
        for none in [
            "",
            "fix (#)",
            "fix (#1a)",
            "fix #12",
            "(#12) later",
            "Merge branch 'x'",
        ] {
            assert_eq!(pull_request_number(none), None, "{none}");
        }
    }
}
