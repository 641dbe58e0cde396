//! The verified release state of a repository, for consumers: the tip's
//! checkpoint verified once (signature, signer trusted by main, the index
//! and revocations it covers, the main commit it names on main, and no
//! rollback or fork from what this repository's verifiers have seen), then
//! lookups by hash, each anchored in main.

use std::collections::HashMap;

use super::anchor::Main;
use super::fetch::{FetchError, ReleasedWpc, check_hash, verified_envelope};
use super::{
    Branch, CHECKPOINT_PATH, Checkpoint, Entry, Index, MAX_ENVELOPE_BYTES, Memory, Reason,
    ReleaseError, Revocation, Source, envelope_path, read_state, remember, revoked_hashes_of,
};
use crate::config::{Config, Level};
use crate::git::{GitError, Oid, Repo};
use crate::lint;

/// How fresh a state must be.
#[derive(Clone, Debug, Default)]
pub struct Freshness {
    /// Refuse a tip whose checkpoint version is lower (a pin kept outside
    /// the repository, for a verifier with no memory of its own).
    pub min_checkpoint: Option<u64>,
}

/// A release branch whose tip verified.
#[derive(Clone, Debug)]
pub struct VerifiedRelease {
    pub source: Source,
    pub tip: Oid,
    pub checkpoint: Checkpoint,
    pub index: Index,
    pub revocations: Vec<Revocation>,
    main_reference: String,
    /// Every hash of every revoked version → its revocation's position in
    /// `revocations`.
    revoked: HashMap<String, usize>,
}

impl VerifiedRelease {
    /// Verify the tip of `source.branch` and remember its checkpoint.
    /// A missing branch is [`ReleaseError::NoBranch`] (rejected when this
    /// repository saw it before); a branch that breaks a trust rule is
    /// [`ReleaseError::Rejected`].
    pub fn load(
        repo: &Repo,
        source: &Source,
        freshness: &Freshness,
    ) -> Result<VerifiedRelease, ReleaseError> {
        let mut main = Main::read(repo, source)?;
        let branch = Branch::read(repo, &source.branch)?;
        let tip = branch
            .tip
            .ok_or_else(|| missing_branch(repo, &source.branch, main.tip))?;
        let checkpoint = verify_tip(repo, &branch, tip, &mut main, freshness)?;
        remember(repo, &source.branch, &checkpoint)?;
        Ok(VerifiedRelease::verified(
            source,
            tip,
            checkpoint,
            branch.index,
            branch.revocations,
            main.reference,
        ))
    }

    /// The state at `tip`, whose checkpoint the caller verified.
    pub(crate) fn verified(
        source: &Source,
        tip: Oid,
        checkpoint: Checkpoint,
        index: Index,
        revocations: Vec<Revocation>,
        main_reference: String,
    ) -> VerifiedRelease {
        let revoked = revoked_hashes_of(&index, &revocations);
        VerifiedRelease {
            source: source.clone(),
            tip,
            checkpoint,
            index,
            revocations,
            main_reference,
            revoked,
        }
    }

    /// The revocation of the version `hash` names (by any of its hashes:
    /// revoking one rendering revokes the version).
    pub fn revocation(&self, hash: &str) -> Option<&Revocation> {
        self.revoked
            .get(hash)
            .and_then(|at| self.revocations.get(*at))
    }

    /// Every entry with `hash` (native or a rendering's), with its policy
    /// name.
    pub fn entries_of<'a>(&'a self, hash: &'a str) -> impl Iterator<Item = (&'a str, &'a Entry)> {
        super::entries_of(&self.index, hash)
    }

    /// The released WPC `hash` (a version's native hash or one of its
    /// Claw renderings'): its envelope verified, its entry anchored in main
    /// (on main's history, the policy at that commit, a signer main trusted
    /// as of its first parent; a rendering, the one that policy and that
    /// commit's `wpc.toml` make), the version's native envelope, and its
    /// revocation if any (a revoked WPC is still returned, so a bundle
    /// under it can be reported `POLICY_REVOKED`).
    pub fn lookup(&self, repo: &Repo, hash: &str) -> Result<ReleasedWpc, FetchError> {
        check_hash(hash)?;
        let (_, entry) = self
            .entries_of(hash)
            .next()
            .ok_or_else(|| FetchError::NotReleased(hash.to_owned()))?;
        let native = entry.hash.as_str();
        let rendering = entry.rendering_of(hash);
        let mut main = Main::read(repo, &self.source)?;
        let rejected = |reason: Reason, message: String| {
            FetchError::Release(ReleaseError::rejected(
                &self.source.branch,
                self.tip,
                reason,
                message,
            ))
        };
        let commit = main.named(&entry.commit).ok_or_else(|| {
            rejected(
                Reason::NotOnMain,
                format!(
                    "{hash} names commit `{}`, not on the first-parent history of {}",
                    entry.commit, self.main_reference
                ),
            )
        })?;
        let path = entry.path.as_deref().unwrap_or_default();
        let mismatch =
            |message: String| rejected(Reason::ContentMismatch, format!("{hash}: {message}"));
        match main.content_hash(commit, path) {
            Ok(found) if found == native => {}
            Ok(found) => {
                return Err(mismatch(format!("{path} at {commit} has hash {found}")));
            }
            Err(error) => return Err(mismatch(error.to_string())),
        }
        if let Some(version) = rendering {
            main.check_rendering(commit, path, version, hash)
                .map_err(|error| mismatch(error.to_string()))?;
        }
        let trust = main
            .authorizing(commit)
            .map_err(|error| rejected(Reason::UntrustedSigner, error.to_string()))?;
        let envelope = |hash: &str| -> Result<Vec<u8>, FetchError> {
            let envelope_file = envelope_path(hash);
            let bytes = repo
                .read_file(self.tip, &envelope_file, MAX_ENVELOPE_BYTES)
                .map_err(|e| rejected(Reason::BadEnvelope, e.to_string()))?
                .ok_or_else(|| {
                    rejected(
                        Reason::BadEnvelope,
                        format!("{envelope_file} is missing on `{}`", self.source.branch),
                    )
                })?;
            verified_envelope(bytes, hash, &trust)
                .map_err(|(reason, message)| rejected(reason, message))
        };
        let policy = envelope(native)?;
        Ok(ReleasedWpc {
            envelope: match rendering {
                Some(_) => envelope(hash)?,
                None => policy.clone(),
            },
            rendering,
            policy_hash: native.to_owned(),
            policy,
            revocation: self.revocation(hash).cloned(),
        })
    }
}

/// Verify the checkpoint at `tip` of `branch`: signed by a signer main
/// trusts, covering the index and revocations as stored, naming a main
/// commit on main that the index names too, at least `min_checkpoint`, and
/// on the chain of what this repository remembers.
pub(crate) fn verify_tip(
    repo: &Repo,
    branch: &Branch,
    tip: Oid,
    main: &mut Main<'_>,
    freshness: &Freshness,
) -> Result<Checkpoint, ReleaseError> {
    let name = &branch.name;
    let state = read_state(repo, name, tip)?;
    let checkpoint = state.checkpoint;
    let rejected = |reason, message: String| ReleaseError::rejected(name, tip, reason, message);
    let signer = checkpoint
        .verify_signature()
        .map_err(|e| rejected(Reason::UnsignedState, format!("{CHECKPOINT_PATH}: {e}")))?;
    if !checkpoint.covers(&state.index_bytes, &state.revocations_bytes) {
        return Err(rejected(
            Reason::UnsignedState,
            format!(
                "index.json or revocations.json differ from what checkpoint {} signed",
                checkpoint.version
            ),
        ));
    }
    let main_commit = main.named(&checkpoint.main_commit).ok_or_else(|| {
        rejected(
            Reason::NotOnMain,
            format!(
                "checkpoint {} names main commit `{}`, not on the first-parent history of {}",
                checkpoint.version, checkpoint.main_commit, main.reference
            ),
        )
    })?;
    if state.index.last_commit.as_deref() != Some(checkpoint.main_commit.as_str()) {
        return Err(rejected(
            Reason::UnsignedState,
            "index.json's last_commit is not the checkpoint's main commit".to_owned(),
        ));
    }
    if !main.admits_state_signer(&signer, main_commit) {
        return Err(rejected(
            Reason::UntrustedCheckpoint,
            format!(
                "checkpoint {} is signed by {}, not a release signer of main",
                checkpoint.version, checkpoint.signer_did
            ),
        ));
    }
    check_freshness(repo, name, tip, &checkpoint, freshness)?;
    Ok(checkpoint)
}

/// Why `branch` is missing: [`ReleaseError::NoBranch`], or
/// `ROLLBACK_DETECTED` (at main's tip `main_tip`) when this repository's
/// verifiers saw it before. Deleting the branch drops every revocation, and
/// a release run would start it again from nothing.
pub(crate) fn missing_branch(repo: &Repo, branch: &str, main_tip: Oid) -> ReleaseError {
    match Memory::of(repo.location()).seen(branch) {
        Ok(None) => ReleaseError::NoBranch(branch.to_owned()),
        Ok(Some(seen)) => ReleaseError::rejected(
            branch,
            main_tip,
            Reason::RollbackDetected,
            format!(
                "the branch does not exist, but this repository verified its checkpoint {} before: it was deleted",
                seen.version
            ),
        ),
        Err(err) => err.into(),
    }
}

/// `ROLLBACK_DETECTED` unless `checkpoint` (at `tip`) is at least the pin
/// and the remembered checkpoint is on its chain.
pub(crate) fn check_freshness(
    repo: &Repo,
    branch: &str,
    tip: Oid,
    checkpoint: &Checkpoint,
    freshness: &Freshness,
) -> Result<(), ReleaseError> {
    let rollback =
        |message: String| ReleaseError::rejected(branch, tip, Reason::RollbackDetected, message);
    if let Some(min) = freshness.min_checkpoint
        && checkpoint.version < min
    {
        return Err(rollback(format!(
            "the branch is at checkpoint {}, older than --min-checkpoint {min}",
            checkpoint.version
        )));
    }
    let Some(seen) = Memory::of(repo.location()).seen(branch)? else {
        return Ok(());
    };
    // A concurrent run may have published and remembered a newer state
    // since `tip` was read: that is a moved branch (read it again), not a
    // rollback. A branch reset to an old state stays where it was and is
    // refused below.
    let moved = || -> Result<bool, ReleaseError> { Ok(repo.branch_tip(branch)? != Some(tip)) };
    if checkpoint.version < seen.version {
        if moved()? {
            return Err(ReleaseError::Git(GitError::Conflict {
                branch: branch.to_owned(),
            }));
        }
        return Err(rollback(format!(
            "the branch is at checkpoint {}, but this repository verified checkpoint {} before",
            checkpoint.version, seen.version
        )));
    }
    // Walk back to the remembered version: each checkpoint must name the
    // one before it, and the remembered one must be where it was.
    let mut at = tip;
    let mut current = checkpoint.clone();
    while current.version > seen.version {
        let parent = repo.commit_info(at)?.parents.first().copied();
        let Some(parent) = parent else {
            break;
        };
        let before = read_state(repo, branch, parent)?.checkpoint;
        if current.previous.as_deref() != Some(before.hash()?.as_str()) {
            return Err(rollback(format!(
                "checkpoint {} does not follow checkpoint {} before it",
                current.version, before.version
            )));
        }
        at = parent;
        current = before;
    }
    if current.version != seen.version || current.hash()? != seen.checkpoint {
        return Err(rollback(format!(
            "the branch does not contain checkpoint {} that this repository verified before: it was forked or rewritten",
            seen.version
        )));
    }
    Ok(())
}

/// The hashes revoked on the release branch of `config`'s repository, for
/// the linter, read through the verified consumer API: the tip's checkpoint
/// verified against main and this repository's verifier memory, so a
/// rolled-back or edited branch cannot hide a revocation. Not read without
/// a repository or branch, or with the revoked-hash rule turned off. A
/// branch that does not verify, or cannot be read, is untrusted: its
/// revocations are unknown, and the check fails closed.
pub fn revocations_for_lint(config: &Config) -> lint::Revocations {
    if !lint_reads_revocations(config) {
        return lint::Revocations::NotRead;
    }
    let read = read_verified(config, &Freshness::default());
    revocations_in(
        config,
        read.as_ref()
            .map(|found| found.as_ref().map(|(_, state)| state)),
    )
}

/// Whether the linter asks for revocations (the revoked-hash rule is on).
pub fn lint_reads_revocations(config: &Config) -> bool {
    config.settings.lint.rules.get(lint::REVOKED_HASH) != Some(&Level::Off)
}

/// The release branch of `config`'s repository, verified ([`VerifiedRelease::load`]);
/// `None` without a repository or branch.
pub fn read_verified(
    config: &Config,
    freshness: &Freshness,
) -> Result<Option<(Repo, VerifiedRelease)>, ReleaseError> {
    let Some((repo, source)) = super::locate(config)? else {
        return Ok(None);
    };
    let state = VerifiedRelease::load(&repo, &source, freshness)?;
    Ok(Some((repo, state)))
}

/// What a read of the release branch (`read`: as [`read_verified`] returns
/// it) tells the linter: the revoked hashes of a branch that verified; a
/// branch that does not verify is untrusted.
pub fn revocations_in(
    config: &Config,
    read: Result<Option<&VerifiedRelease>, &ReleaseError>,
) -> lint::Revocations {
    if !lint_reads_revocations(config) {
        return lint::Revocations::NotRead;
    }
    match read {
        Ok(Some(state)) => {
            lint::Revocations::Verified(state.revocations.iter().map(|r| r.hash.clone()).collect())
        }
        Ok(None) => lint::Revocations::NotRead,
        Err(err) => lint::Revocations::Untrusted {
            branch: super::branch_name(config).to_owned(),
            error: err.to_string(),
        },
    }
}
