//! Git-native releases: the policies changed by each first-parent commit of
//! main, checked and signed, appended to a release branch written through
//! Git objects only (`wpc/<hash>.json`, `index.json`, `revocations.json`,
//! `checkpoint.json`).
//!
//! Trust is anchored in main ([`anchor`]): the release branch can be written
//! by someone who cannot write main (CI, a compromised runner), so every
//! release names a main commit, holds exactly the policy at that commit and
//! is signed by a signer main trusted as of that commit's first parent.
//! Every state of the branch is signed by a checkpoint ([`Checkpoint`]),
//! and checkpoints chain; verifiers remember the highest they have seen
//! ([`Memory`]) and refuse a branch that goes back or forks from it.
//!
//! A run is [`prepare`] (read, check, sign, write blobs, trees and one
//! commit that no reference names yet) then [`publish`] (one
//! compare-and-swap of the branch reference). A run that stops between the
//! two leaves the branch as it was; a concurrent run that published first
//! makes [`publish`] fail with a conflict without changing anything, and
//! the caller prepares again. No lock file is involved. See
//! `docs/release.md`.
//!
//! For a consumer (`wpc fetch`, bundle and token checks, a registry server)
//! the one entry point is [`VerifiedRelease::load`]: it verifies the tip's
//! checkpoint against main and against the verifier's memory once, and
//! then gives the index, the revocations and [`VerifiedRelease::lookup`]
//! (hash → the verified envelope bytes, anchored in main, and the native
//! policy of its version).
//!
//! A version is one policy hash and, with `[release] claw`, its Claw
//! renderings (`claw-v1`, `claw-v2`), each signed and stored under its own
//! hash and recorded in its index entry. Any of those hashes names the
//! version ([`version_of`]); revoking one revokes them all
//! ([`Branch::is_revoked`], [`VerifiedRelease::revocation`]).

mod anchor;
mod checkpoint;
mod fetch;
mod github;
mod memory;
mod migrate;
pub mod render;
mod revoke;
pub mod run;
mod state;
mod verify;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jiff::Timestamp;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::claw::{self, ClawVersion, ExportSettings};
use crate::config::Config;
use crate::crypto::envelope::{SignError, SignedEnvelope, WorkPolicyContract};
use crate::crypto::keys::SigningKey;
use crate::error::error_enum;
use crate::git::{CommitInfo, GitError, Oid, Repo};
use crate::lint;
use crate::policy::hash::HashError;
use crate::report::{Finding, Severity};
use crate::revision::{ConfigCache, changed_policies};

use anchor::Main;
pub use checkpoint::{CHECKPOINT_FORMAT, CHECKPOINT_PATH, Checkpoint, CheckpointError, Statement};
pub use fetch::{FetchError, ReleasedWpc, fetch, fetch_from_dir, locate};
pub use github::{ApprovalsError, GithubApprovals};
pub use memory::{MEMORY_PATH, Memory, MemoryError, Seen};
pub use migrate::migrate;
pub use revoke::{RevokeError, Revoked, revocation_message, revoke};
pub use state::{
    Freshness, VerifiedRelease, lint_reads_revocations, read_verified, revocations_for_lint,
    revocations_in,
};
pub use verify::{
    Reason, Verification, VerifiedBranch, VerifiedEntry, Violation, verify_branch,
    verify_branch_from,
};

/// The default release branch.
pub const DEFAULT_BRANCH: &str = "wpc-releases";
/// The default main branch, releases' source.
pub const DEFAULT_MAIN: &str = "main";
/// `index.json`'s `format`.
pub const INDEX_FORMAT: &str = "wpc-release-index/2";
/// The format before checkpoints: read only by `wpc release migrate`.
pub const LEGACY_INDEX_FORMAT: &str = "wpc-release-index/1";
pub const INDEX_PATH: &str = "index.json";
pub const REVOCATIONS_PATH: &str = "revocations.json";
/// Envelopes live at `wpc/<hash>.json`.
pub const ENVELOPE_DIR: &str = "wpc";
/// Largest `index.json` or `revocations.json` read: thousands of releases
/// are a few MiB.
pub const MAX_INDEX_BYTES: usize = crate::fsio::RELEASE_INDEX.bytes;
/// Largest envelope read: a policy is at most 1 MiB of TOML.
pub const MAX_ENVELOPE_BYTES: usize = crate::fsio::RELEASE_ENVELOPE.bytes;

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
    /// The main commit the policy was read from.
    pub commit: String,
    /// The policy's file at that commit, from the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub released_at: String,
    /// Who signed the envelope at `wpc/<hash>.json`.
    pub signer_did: String,
    /// The pull request that brought the change, when known.
    pub pr: Option<u64>,
    /// Who approved that pull request, when GitHub was asked.
    pub approved_by: Vec<String>,
    /// The Claw renderings of this version (`claw-v1`, `claw-v2` → their
    /// hash), each signed at `wpc/<hash>.json`: the policy at `commit`
    /// rendered with that commit's `wpc.toml`. Absent when the export was
    /// off.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "rendering_names"
    )]
    pub renderings: BTreeMap<ClawVersion, String>,
}

impl Entry {
    /// Whether `hash` is this version: its native hash or a rendering's.
    pub fn has_hash(&self, hash: &str) -> bool {
        self.hash == hash || self.renderings.values().any(|h| h == hash)
    }

    /// The rendering `hash` is, `None` for the native hash (or another).
    pub fn rendering_of(&self, hash: &str) -> Option<ClawVersion> {
        self.renderings
            .iter()
            .find(|(_, h)| *h == hash)
            .map(|(version, _)| *version)
    }

    /// Every hash of this version, the native one first.
    pub fn hashes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.as_str()).chain(self.renderings.values().map(String::as_str))
    }
}

/// `renderings` keys as the release branch spells them (`claw-v1`); any
/// other key is an error, so a branch never names a rendering wpc does not
/// verify.
mod rendering_names {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::claw::ClawVersion;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<ClawVersion, String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(map.iter().map(|(v, hash)| (v.rendering(), hash)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<ClawVersion, String>, D::Error> {
        BTreeMap::<String, String>::deserialize(deserializer)?
            .into_iter()
            .map(|(name, hash)| match ClawVersion::from_rendering(&name) {
                Some(version) => Ok((version, hash)),
                None => Err(D::Error::custom(format!(
                    "unknown rendering `{name}` (expected claw-v1 or claw-v2)"
                ))),
            })
            .collect()
    }
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

error_enum! {
    pub enum ReleaseError {
        Git(GitError),
        Memory(MemoryError),
        Approvals(ApprovalsError),
        #[error("release branch `{branch}`: {path} at {commit}: {message}")]
        Corrupt {
            branch: String,
            path: String,
            commit: Oid,
            message: String,
        },
        /// The branch breaks a trust rule: exit 1, with its reason code.
        #[error("release branch `{branch}` rejected: {} at {}: {}", .violation.reason.code(), .violation.commit, .violation.message)]
        Rejected {
            branch: String,
            violation: Violation,
        },
        #[error("release branch `{0}` does not exist")]
        NoBranch(String),
        #[error(
            "main branch `{0}` not found (neither refs/heads/{0} nor refs/remotes/origin/{0}); set `[release] main` in wpc.toml"
        )]
        NoMain(String),
        #[error("cannot sign: {0}")]
        Sign(#[from] SignError),
        #[error("cannot encode: {0}")]
        Encode(#[from] HashError),
        #[error("pull request #{pr}: {error}")]
        PullRequest { pr: u64, error: ApprovalsError },
        #[error(
            "the signing key {did} is not a [[release_signer]] in {path} as of {commit}'s first parent: nothing was released"
        )]
        UntrustedKey {
            did: String,
            path: String,
            commit: Oid,
        },
        #[error("cannot serialize {0}: {1}")]
        Serialize(&'static str, String),
    }
}

impl ReleaseError {
    fn rejected(branch: &str, commit: Oid, reason: Reason, message: impl Into<String>) -> Self {
        ReleaseError::Rejected {
            branch: branch.to_owned(),
            violation: Violation {
                commit: commit.to_string(),
                reason,
                message: message.into(),
            },
        }
    }

    /// Whether the error says the branch is invalid (exit 1) rather than
    /// that it could not be read or written (exit 2).
    pub fn is_rejection(&self) -> bool {
        matches!(self, ReleaseError::Rejected { .. })
    }
}

/// Where releases are: the release branch, the folder of `wpc.toml` in the
/// repository, and the main branch they are anchored in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub branch: String,
    pub root: String,
    pub main: String,
}

impl Source {
    /// The places `config` names, for the repository root `root`.
    pub fn of(config: &Config, root: &str) -> Source {
        Source {
            branch: branch_name(config).to_owned(),
            root: root.to_owned(),
            main: main_name(config).to_owned(),
        }
    }

    /// The repository holding `place` (any folder in it, or a bare
    /// repository) and the release places its `wpc.toml` names at HEAD:
    /// under `root` (found from `place` at HEAD when not given), with
    /// `branch` instead of `[release] branch` when given.
    pub fn open(
        place: &Path,
        root: Option<&str>,
        branch: Option<&str>,
    ) -> Result<(Repo, Source), OpenError> {
        let repo = Repo::discover(place)?;
        let head = repo.resolve("HEAD")?;
        let root = match root {
            Some(root) => root.to_owned(),
            None => crate::revision::find_root(&repo, head, place)?,
        };
        let config = crate::revision::config_at(&repo, head, &root, &mut Vec::new())?;
        let mut source = Source::of(&config, &root);
        if let Some(branch) = branch {
            branch.clone_into(&mut source.branch);
        }
        Ok((repo, source))
    }
}

error_enum! {
    /// Why [`Source::open`] found no repository to release from.
    pub enum OpenError {
        Git(GitError),
        Root(crate::revision::RootError),
    }
}

/// A release branch as it is at its tip (empty when it does not exist),
/// read but not verified.
#[derive(Clone, Debug)]
pub struct Branch {
    pub name: String,
    pub tip: Option<Oid>,
    pub index: Index,
    pub revocations: Vec<Revocation>,
    /// `None` only for a branch that does not exist yet.
    pub checkpoint: Option<Checkpoint>,
}

impl Branch {
    /// Read `refs/heads/<name>`.
    pub fn read(repo: &Repo, name: &str) -> Result<Branch, ReleaseError> {
        let tip = repo.branch_tip(name)?;
        let Some(tip) = tip else {
            return Ok(Branch {
                name: name.to_owned(),
                tip,
                index: Index {
                    format: INDEX_FORMAT.to_owned(),
                    ..Index::default()
                },
                revocations: Vec::new(),
                checkpoint: None,
            });
        };
        let state = read_state(repo, name, tip)?;
        Ok(Branch {
            name: name.to_owned(),
            tip: Some(tip),
            index: state.index,
            revocations: state.revocations,
            checkpoint: Some(state.checkpoint),
        })
    }

    /// Whether the version `hash` names (by any of its hashes) is revoked.
    pub fn is_revoked(&self, hash: &str) -> bool {
        let version = version_of(&self.index, hash).unwrap_or(hash);
        self.revocations
            .iter()
            .any(|r| version_of(&self.index, &r.hash).unwrap_or(&r.hash) == version)
    }

    /// Every entry with `hash` (native or a rendering's), with its policy
    /// name.
    pub fn entries_of<'a>(&'a self, hash: &'a str) -> impl Iterator<Item = (&'a str, &'a Entry)> {
        entries_of(&self.index, hash)
    }
}

fn entries_of<'a>(index: &'a Index, hash: &'a str) -> impl Iterator<Item = (&'a str, &'a Entry)> {
    index.policies.iter().flat_map(move |(name, entries)| {
        entries
            .iter()
            .filter(move |e| e.has_hash(hash))
            .map(move |e| (name.as_str(), e))
    })
}

/// The native hash of the version `hash` names (itself for a native hash),
/// `None` when nothing released has that hash.
pub fn version_of<'a>(index: &'a Index, hash: &str) -> Option<&'a str> {
    index
        .policies
        .values()
        .flatten()
        .find(|e| e.has_hash(hash))
        .map(|e| e.hash.as_str())
}

/// Every hash of every revoked version (native and renderings, across all
/// the entries of that version) → the position of its revocation in
/// `revocations`. A revocation names one hash; it revokes the version, so
/// each of its hashes.
pub(crate) fn revoked_hashes_of(
    index: &Index,
    revocations: &[Revocation],
) -> HashMap<String, usize> {
    let mut by_version: HashMap<&str, usize> = HashMap::new();
    let mut out: HashMap<String, usize> = HashMap::new();
    for (at, revocation) in revocations.iter().enumerate() {
        let version = version_of(index, &revocation.hash).unwrap_or(&revocation.hash);
        by_version.entry(version).or_insert(at);
        out.entry(revocation.hash.clone()).or_insert(at);
    }
    for entry in index.policies.values().flatten() {
        if let Some(at) = by_version.get(entry.hash.as_str()) {
            for hash in entry.hashes() {
                out.entry(hash.to_owned()).or_insert(*at);
            }
        }
    }
    out
}

/// The files of one state of the branch, parsed and as stored.
pub(crate) struct StateFiles {
    pub(crate) index: Index,
    pub(crate) revocations: Vec<Revocation>,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) index_bytes: Vec<u8>,
    pub(crate) revocations_bytes: Vec<u8>,
}

/// `index.json`, `revocations.json` and `checkpoint.json` at one commit of
/// the branch. A branch in the format before checkpoints is rejected with
/// [`Reason::LegacyFormat`], naming the upgrade.
pub(crate) fn read_state(
    repo: &Repo,
    branch: &str,
    commit: Oid,
) -> Result<StateFiles, ReleaseError> {
    let index_bytes = read_bytes(repo, branch, commit, INDEX_PATH)?;
    let index: Index = parse_json(branch, commit, INDEX_PATH, &index_bytes)?;
    if index.format == LEGACY_INDEX_FORMAT {
        return Err(ReleaseError::rejected(
            branch,
            commit,
            Reason::LegacyFormat,
            format!(
                "{INDEX_PATH} is `{LEGACY_INDEX_FORMAT}`, which has no signed checkpoints: run `wpc release migrate` to re-verify it against main and sign its first checkpoint"
            ),
        ));
    }
    if index.format != INDEX_FORMAT {
        return Err(ReleaseError::Corrupt {
            branch: branch.to_owned(),
            path: INDEX_PATH.to_owned(),
            commit,
            message: format!("format is `{}`, expected `{INDEX_FORMAT}`", index.format),
        });
    }
    let revocations_bytes = read_bytes(repo, branch, commit, REVOCATIONS_PATH)?;
    let revocations = parse_json(branch, commit, REVOCATIONS_PATH, &revocations_bytes)?;
    let checkpoint = match repo.read_file(commit, CHECKPOINT_PATH, MAX_INDEX_BYTES)? {
        Some(bytes) => parse_json(branch, commit, CHECKPOINT_PATH, &bytes)?,
        None => {
            return Err(ReleaseError::rejected(
                branch,
                commit,
                Reason::UnsignedState,
                format!("no {CHECKPOINT_PATH}: this state of the branch is not signed"),
            ));
        }
    };
    Ok(StateFiles {
        index,
        revocations,
        checkpoint,
        index_bytes,
        revocations_bytes,
    })
}

fn read_bytes(repo: &Repo, branch: &str, commit: Oid, path: &str) -> Result<Vec<u8>, ReleaseError> {
    repo.read_file(commit, path, MAX_INDEX_BYTES)?
        .ok_or_else(|| ReleaseError::Corrupt {
            branch: branch.to_owned(),
            path: path.to_owned(),
            commit,
            message: "missing".to_owned(),
        })
}

fn parse_json<T: serde::de::DeserializeOwned>(
    branch: &str,
    commit: Oid,
    path: &str,
    bytes: &[u8],
) -> Result<T, ReleaseError> {
    serde_json::from_slice(bytes).map_err(|e| ReleaseError::Corrupt {
        branch: branch.to_owned(),
        path: path.to_owned(),
        commit,
        message: e.to_string(),
    })
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
    fn approvers(&self, pr: u64) -> Result<Vec<String>, ApprovalsError>;
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

/// What a run is asked to do: release main, up to its tip, after the main
/// commit the branch's checkpoint names.
pub struct Request<'a> {
    pub source: &'a Source,
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
    /// The Claw renderings released with it, by version.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", with = "rendering_names")]
    pub renderings: BTreeMap<ClawVersion, String>,
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
    /// The reference main was read from, and its tip: what was released.
    pub main_reference: String,
    pub main_tip: Oid,
    /// The tip the branch must still have when published.
    pub expected: Option<Oid>,
    /// The new tip; `None` when there is nothing to publish (or a dry run).
    pub commit: Option<Oid>,
    /// The checkpoint the new tip carries.
    pub checkpoint: Option<Checkpoint>,
    pub released: Vec<Released>,
    pub refused: Vec<Refused>,
}

/// Check and sign everything new on main since the branch's checkpoint and
/// write the next state of the branch as objects. The branch's tip is
/// verified first (its checkpoint, against main and the verifier memory):
/// nothing is built on a state that does not verify.
pub fn prepare(repo: &Repo, request: &Request<'_>) -> Result<Plan, ReleaseError> {
    let source = request.source;
    let mut main = Main::read(repo, source)?;
    let branch = Branch::read(repo, &source.branch)?;
    let previous = verified_tip(repo, &branch, &mut main)?;
    let start = previous
        .as_ref()
        .map(|p| main_commit_of(&source.branch, p))
        .transpose()?;
    let commits = unreleased(&main, &branch, start)?;
    let changes = read_changes(repo, &commits, &source.root)?;
    let mut run = Run::new(branch, request);
    for change in changes {
        run.release_commit(change, &mut main)?;
    }
    run.finish(repo, &main, previous.as_ref(), start)
}

/// The checkpoint at the branch's tip, verified; `None` for a branch that
/// does not exist yet and was never seen (one that was seen must not be
/// started again from nothing).
fn verified_tip(
    repo: &Repo,
    branch: &Branch,
    main: &mut Main,
) -> Result<Option<Checkpoint>, ReleaseError> {
    match branch.tip {
        Some(tip) => state::verify_tip(repo, branch, tip, main, &Freshness::default()).map(Some),
        None => match state::missing_branch(repo, &branch.name, main.tip) {
            ReleaseError::NoBranch(_) => Ok(None),
            err => Err(err),
        },
    }
}

/// The first-parent commits of main after `start`, oldest first.
fn unreleased(main: &Main, branch: &Branch, start: Option<Oid>) -> Result<Vec<Oid>, ReleaseError> {
    let commits = main.after(start).ok_or_else(|| {
        ReleaseError::rejected(
            &branch.name,
            branch.tip.unwrap_or(main.tip),
            Reason::NotOnMain,
            format!(
                "the last released main commit {} is not on the first-parent history of {}: main was rewritten",
                start.map(|s| s.to_string()).unwrap_or_default(),
                main.reference
            ),
        )
    })?;
    Ok(commits.to_vec())
}

/// A commit of main with the policies it changed, read and checked.
struct Change {
    info: CommitInfo,
    config: Config,
    policies: Vec<crate::policy::Policy>,
    /// Errors reading the commit's files (invalid policies, `wpc.toml`).
    errors: Vec<Finding>,
    /// Each policy's lint errors, in the order of `policies`.
    lint_errors: Vec<Vec<Finding>>,
}

/// Read what each commit changed (Git reads are serial), then lint each
/// changed policy under its commit's settings (in parallel).
fn read_changes(repo: &Repo, commits: &[Oid], root: &str) -> Result<Vec<Change>, ReleaseError> {
    let mut configs = ConfigCache::default();
    let mut changes = Vec::with_capacity(commits.len());
    for &commit in commits {
        let info = repo.commit_info(commit)?;
        let (config, policies, findings) = changed_policies(
            repo,
            info.parents.first().copied(),
            commit,
            root,
            &mut configs,
        )?;
        changes.push(Change {
            info,
            config,
            policies,
            errors: errors_of(findings.iter()),
            lint_errors: Vec::new(),
        });
    }
    changes.par_iter_mut().for_each(|change| {
        change.lint_errors = change
            .policies
            .iter()
            .map(|policy| {
                let report = lint::check_policies(
                    &change.config,
                    Vec::new(),
                    std::slice::from_ref(policy),
                    1,
                );
                errors_of(report.findings().iter())
            })
            .collect();
    });
    Ok(changes)
}

fn errors_of<'f>(findings: impl Iterator<Item = &'f Finding>) -> Vec<Finding> {
    findings
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect()
}

/// The state of one release run: the branch as it will be, the envelopes
/// to write, and what was released and refused.
struct Run<'r> {
    request: &'r Request<'r>,
    branch: Branch,
    /// Hash → signer of its envelope on the branch (or written by this run).
    signers: HashMap<String, String>,
    files: Vec<(String, Vec<u8>)>,
    released: Vec<Released>,
    refused: Vec<Refused>,
    released_at: String,
    /// The approvers of the last pull request looked up: the policies of
    /// one merge share them.
    approvers: Option<(u64, Vec<String>)>,
}

impl<'r> Run<'r> {
    fn new(branch: Branch, request: &'r Request<'r>) -> Run<'r> {
        let signers = branch
            .index
            .policies
            .values()
            .flatten()
            .map(|e| (e.hash.clone(), e.signer_did.clone()))
            .collect();
        Run {
            request,
            branch,
            signers,
            files: Vec::new(),
            released: Vec::new(),
            refused: Vec::new(),
            released_at: rfc3339(request.now),
            approvers: None,
        }
    }

    /// Release what `change` changed, or say why not.
    fn release_commit(&mut self, change: Change, main: &mut Main) -> Result<(), ReleaseError> {
        let source = self.request.source;
        let commit = change.info.id;
        let config_path = join(&source.root, crate::config::FILE_NAME);
        // Fail closed: with a broken `wpc.toml` the lint settings are
        // unknown, and a key the commit does not trust signs nothing that
        // `wpc release verify` would accept.
        let config_broken = change
            .errors
            .iter()
            .any(|f| f.file().is_some_and(|p| p == Path::new(&config_path)));
        if !change.errors.is_empty() {
            self.refused.extend(refuse_files(commit, change.errors));
        }
        if change.policies.is_empty() {
            return Ok(());
        }
        let trusted = main
            .authorizing(commit)
            .is_ok_and(|trust| trust.admits_did(&self.request.key.did()));
        // Not a property of the policies: stop without writing anything,
        // so the commits are released once the key is right.
        if !trusted {
            return Err(ReleaseError::UntrustedKey {
                did: self.request.key.did_str().to_owned(),
                path: join(&source.root, crate::crypto::trusted::DEFAULT_PATH),
                commit,
            });
        }
        let blocked = config_broken.then(|| format!("{config_path} has errors at this commit"));
        let export = change.config.claw_export();
        for (policy, lint_errors) in change.policies.iter().zip(change.lint_errors) {
            let refuse = |reason: String, findings: Vec<Finding>| Refused {
                commit,
                what: policy.name().to_owned(),
                reason,
                findings,
            };
            let last = self
                .branch
                .index
                .policies
                .get(policy.name())
                .and_then(|e| e.last());
            if last.is_some_and(|e| e.hash == policy.hash) {
                continue;
            }
            if let Some(reason) = &blocked {
                self.refused.push(refuse(reason.clone(), Vec::new()));
                continue;
            }
            if self.branch.is_revoked(&policy.hash) {
                self.refused.push(refuse(
                    format!(
                        "hash {} is revoked: change the policy (bump `revision`) to release it",
                        policy.hash
                    ),
                    Vec::new(),
                ));
                continue;
            }
            if !lint_errors.is_empty() {
                self.refused
                    .push(refuse("the policy has lint errors".to_owned(), lint_errors));
                continue;
            }
            // Every enabled rendering, or the version is not released: a
            // runtime pinning its Claw hash must find it.
            match render_all(policy, &export) {
                Ok(renderings) => self.release(&change.info, policy, renderings)?,
                Err(err) => self.refused.push(refuse(err.to_string(), Vec::new())),
            }
        }
        Ok(())
    }

    /// The approvers of pull request `pr`, when approvals can be looked up.
    fn approvers(&mut self, pr: Option<u64>) -> Result<Vec<String>, ReleaseError> {
        let (Some(number), Some(lookup)) = (pr, self.request.pull_requests) else {
            return Ok(Vec::new());
        };
        if let Some((n, approvers)) = &self.approvers
            && *n == number
        {
            return Ok(approvers.clone());
        }
        let approvers = lookup
            .approvers(number)
            .map_err(|error| ReleaseError::PullRequest { pr: number, error })?;
        self.approvers = Some((number, approvers.clone()));
        Ok(approvers)
    }

    /// Sign `payload` under `hash` unless an envelope for it exists;
    /// whether one was written.
    fn sign(&mut self, hash: &str, payload: &serde_json::Value) -> Result<bool, ReleaseError> {
        if self.signers.contains_key(hash) {
            return Ok(false);
        }
        self.files
            .push(sign_envelope(hash, payload.clone(), self.request)?);
        self.signers
            .insert(hash.to_owned(), self.request.key.did_str().to_owned());
        Ok(true)
    }

    /// Append `policy` (with its renderings) to the index.
    fn release(
        &mut self,
        info: &CommitInfo,
        policy: &crate::policy::Policy,
        renderings: Vec<claw::CanonicalPayload>,
    ) -> Result<(), ReleaseError> {
        let pr = pull_request_number(&info.message);
        let approved_by = self.approvers(pr)?;
        let new_envelope = self.sign(&policy.hash, &policy.doc.value)?;
        for rendering in &renderings {
            self.sign(&rendering.hash, &rendering.payload)?;
        }
        let name = policy.name().to_owned();
        let previous = self
            .branch
            .index
            .policies
            .get(&name)
            .and_then(|e| e.last())
            .map(|e| e.hash.clone());
        let entry = Entry {
            hash: policy.hash.clone(),
            previous: previous.clone(),
            commit: info.id.to_string(),
            path: Some(policy.doc.source.path().to_string_lossy().into_owned()),
            released_at: self.released_at.clone(),
            signer_did: self.signers.get(&policy.hash).cloned().unwrap_or_default(),
            pr,
            approved_by: approved_by.clone(),
            renderings: renderings
                .into_iter()
                .map(|r| (r.version, r.hash))
                .collect(),
        };
        self.released.push(Released {
            name: name.clone(),
            hash: entry.hash.clone(),
            previous,
            commit: entry.commit.clone(),
            new_envelope,
            pr,
            approved_by,
            renderings: entry.renderings.clone(),
        });
        self.branch
            .index
            .policies
            .entry(name)
            .or_default()
            .push(entry);
        Ok(())
    }

    /// The plan; unless a dry run or nothing moved, the new tree with its
    /// index, revocations and the next signed checkpoint, written as a
    /// commit on top of the branch's tip (the reference is not moved).
    fn finish(
        mut self,
        repo: &Repo,
        main: &Main,
        previous: Option<&Checkpoint>,
        start: Option<Oid>,
    ) -> Result<Plan, ReleaseError> {
        let mut plan = Plan {
            branch: self.branch.name.clone(),
            main_reference: main.reference.clone(),
            main_tip: main.tip,
            expected: self.branch.tip,
            commit: None,
            checkpoint: None,
            released: self.released,
            refused: self.refused,
        };
        if self.request.dry_run || start == Some(main.tip) {
            return Ok(plan);
        }
        self.branch.index.last_commit = Some(main.tip.to_string());
        let index = to_json(&self.branch.index, "index.json")?;
        let revocations = to_json(&self.branch.revocations, "revocations.json")?;
        let checkpoint = next_checkpoint(previous, &index, &revocations, main.tip, self.request)?;
        self.files.push((INDEX_PATH.to_owned(), index));
        self.files.push((REVOCATIONS_PATH.to_owned(), revocations));
        self.files.push((
            CHECKPOINT_PATH.to_owned(),
            to_json(&checkpoint, "checkpoint.json")?,
        ));
        let message = format!(
            "wpc release: {} release(s) up to {} (checkpoint {})",
            plan.released.len(),
            main.tip,
            checkpoint.version
        );
        plan.commit = Some(repo.write_commit(self.branch.tip, &self.files, &message)?);
        plan.checkpoint = Some(checkpoint);
        Ok(plan)
    }
}

/// The Claw renderings `export` enables, in version order.
fn render_all(
    policy: &crate::policy::Policy,
    export: &ExportSettings,
) -> Result<Vec<claw::CanonicalPayload>, claw::ExportError> {
    ClawVersion::ALL
        .into_iter()
        .filter(|v| export.enabled(*v))
        .map(|v| claw::render(policy, v, export))
        .collect()
}

/// `wpc/<hash>.json` holding `payload` signed by the run's key.
fn sign_envelope(
    hash: &str,
    payload: serde_json::Value,
    request: &Request<'_>,
) -> Result<(String, Vec<u8>), ReleaseError> {
    let envelope = SignedEnvelope::sign::<WorkPolicyContract>(payload, request.key, request.now)?;
    // The address is the hash the payload was rendered under; an envelope
    // hashing its payload differently would be stored under a lie.
    if envelope.payload_hash_b64u() != hash {
        return Err(ReleaseError::Serialize(
            "an envelope",
            format!(
                "its payload hashes to {}, not {hash}",
                envelope.payload_hash_b64u()
            ),
        ));
    }
    Ok((envelope_path(hash), to_json(&envelope, "an envelope")?))
}

/// The main commit a verified checkpoint names.
fn main_commit_of(branch: &str, checkpoint: &Checkpoint) -> Result<Oid, ReleaseError> {
    Oid::from_str(&checkpoint.main_commit).map_err(|_| ReleaseError::Corrupt {
        branch: branch.to_owned(),
        path: CHECKPOINT_PATH.to_owned(),
        commit: Oid::ZERO_SHA1,
        message: format!("`{}` is not a commit", checkpoint.main_commit),
    })
}

/// The checkpoint after `previous` over these files.
fn next_checkpoint(
    previous: Option<&Checkpoint>,
    index: &[u8],
    revocations: &[u8],
    main_commit: Oid,
    request: &Request<'_>,
) -> Result<Checkpoint, ReleaseError> {
    Ok(Checkpoint::sign(
        checkpoint::Statement {
            version: previous.map_or(1, |p| p.version + 1),
            index,
            revocations,
            previous: previous.map(Checkpoint::hash).transpose()?,
            main_commit: main_commit.to_string(),
            issued_at: rfc3339(request.now),
        },
        request.key,
    )?)
}

/// Move the branch to the plan's commit, if the branch is still where the
/// plan found it, and remember the new checkpoint as verified.
pub fn publish(repo: &Repo, plan: &Plan) -> Result<(), ReleaseError> {
    if let (Some(commit), Some(checkpoint)) = (plan.commit, &plan.checkpoint) {
        repo.update_branch(&plan.branch, plan.expected, commit, "wpc release")?;
        remember(repo, &plan.branch, checkpoint)?;
    }
    Ok(())
}

/// Record `checkpoint` in the repository's verifier memory.
pub(crate) fn remember(
    repo: &Repo,
    branch: &str,
    checkpoint: &Checkpoint,
) -> Result<(), ReleaseError> {
    Memory::of(repo.location()).remember(
        branch,
        Seen {
            version: checkpoint.version,
            checkpoint: checkpoint.hash()?,
        },
    )?;
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

/// The main branch a config names: releases come from it.
pub fn main_name(config: &Config) -> &str {
    config
        .settings
        .release
        .main
        .as_deref()
        .unwrap_or(DEFAULT_MAIN)
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

    fn entry(hash: &str, renderings: &[(ClawVersion, &str)]) -> Entry {
        Entry {
            hash: hash.to_owned(),
            previous: None,
            commit: "c".repeat(40),
            path: Some("policies/p.toml".to_owned()),
            released_at: "2026-01-01T00:00:00Z".to_owned(),
            signer_did: "did:key:z6Mk".to_owned(),
            pr: None,
            approved_by: Vec::new(),
            renderings: renderings
                .iter()
                .map(|(v, h)| (*v, (*h).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn renderings_are_named_as_on_the_branch_and_optional() {
        let with = entry("N", &[(ClawVersion::V1, "A"), (ClawVersion::V2, "B")]);
        let json = serde_json::to_value(&with).unwrap();
        assert_eq!(
            json["renderings"],
            serde_json::json!({"claw-v1": "A", "claw-v2": "B"})
        );
        assert_eq!(serde_json::from_value::<Entry>(json).unwrap(), with);
        // A branch written without renderings reads as it is.
        let without = serde_json::to_value(entry("N", &[])).unwrap();
        assert!(without.get("renderings").is_none());
        assert!(serde_json::from_value::<Entry>(without).is_ok());
        // A rendering wpc does not know is an error, not ignored.
        let mut unknown = serde_json::to_value(entry("N", &[])).unwrap();
        unknown["renderings"] = serde_json::json!({"claw-v3": "C"});
        let err = serde_json::from_value::<Entry>(unknown).unwrap_err();
        assert!(err.to_string().contains("claw-v3"), "{err}");
    }

    #[test]
    fn any_hash_of_a_version_names_it_and_revoking_one_revokes_all() {
        let index = Index {
            format: INDEX_FORMAT.to_owned(),
            last_commit: None,
            policies: BTreeMap::from([(
                "p".to_owned(),
                vec![
                    entry("N", &[(ClawVersion::V1, "A"), (ClawVersion::V2, "B")]),
                    entry("M", &[(ClawVersion::V1, "C")]),
                    // The same version released again with other settings.
                    entry("N", &[(ClawVersion::V1, "D")]),
                ],
            )]),
        };
        assert_eq!(version_of(&index, "B"), Some("N"));
        assert_eq!(version_of(&index, "D"), Some("N"));
        assert_eq!(version_of(&index, "M"), Some("M"));
        assert_eq!(version_of(&index, "X"), None);
        let revocation = |hash: &str| Revocation {
            hash: hash.to_owned(),
            reason: "r".to_owned(),
            revoked_at: "t".to_owned(),
            signer_did: "s".to_owned(),
            signature_b64u: "x".to_owned(),
        };
        let revoked = revoked_hashes_of(&index, &[revocation("B")]);
        let mut hashes: Vec<&str> = revoked.keys().map(String::as_str).collect();
        hashes.sort_unstable();
        assert_eq!(hashes, ["A", "B", "D", "N"]);
        let branch = Branch {
            name: "b".to_owned(),
            tip: None,
            index,
            revocations: vec![revocation("D")],
            checkpoint: None,
        };
        assert!(branch.is_revoked("N") && branch.is_revoked("A"));
        assert!(!branch.is_revoked("M") && !branch.is_revoked("C"));
    }

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
