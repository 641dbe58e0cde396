//! The commands on the release branch end to end: `wpc release` (retrying
//! when another run moved the branch first), `release verify`, `release
//! migrate`, `fetch`, `log` and `revoke`, each as the [`Output`] to show. A
//! release branch that breaks a trust rule is a failing output naming the
//! reason (exit 1), not an error.

use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;

use super::{
    FetchError, Freshness, GithubApprovals, PullRequests, ReleaseError, Request, RevokeError,
    Revoked, Source, VerifiedRelease, prepare, publish, render, verify_branch,
};
use crate::crypto::keys::SigningKey;
use crate::crypto::trusted::{TrustedSigners, TrustedSignersError};
use crate::crypto::verify::Trust;
use crate::error::error_enum;
use crate::git::{self, GitError, Repo};
use crate::report::Output;

/// A rejection as the failing output; any other error stays one.
fn rejected(err: ReleaseError) -> Result<Output, ReleaseError> {
    if err.is_rejection() {
        Ok(Output::failure(format!("error: {err}\n")))
    } else {
        Err(err)
    }
}

/// `wpc release`: check, sign and append the policies changed on main
/// since the last release (with `dry_run`, write nothing). Approvals are
/// read from GitHub when `GITHUB_TOKEN` and `GITHUB_REPOSITORY` are set.
pub fn release(
    repo: &Repo,
    source: &Source,
    key: &SigningKey,
    now: Timestamp,
    dry_run: bool,
) -> Result<Output, ReleaseError> {
    let github = GithubApprovals::from_env()?;
    let request = Request {
        source,
        key,
        now,
        pull_requests: github.as_ref().map(|g| g as &dyn PullRequests),
        dry_run,
    };
    // Another run that moved the branch first makes publishing fail: start
    // over from its tip.
    let (published, raced) = git::retry_on_conflict(
        || {
            let plan = prepare(repo, &request)?;
            publish(repo, &plan).map(|()| plan)
        },
        |err| matches!(err, ReleaseError::Git(GitError::Conflict { .. })),
    );
    let plan = match published {
        Ok(plan) => plan,
        Err(err) => return rejected(err),
    };
    let mut out = Output::default();
    if repo.resolve("HEAD").ok() != Some(plan.main_tip) {
        out.note(&format!(
            "note: released from {} at {}, not from HEAD: releases always come from main\n",
            plan.main_reference, plan.main_tip
        ));
    }
    if raced && plan.commit.is_none() && !dry_run {
        out.stdout.push_str(&format!(
            "nothing to do: another run already released {} up to {}\n",
            source.branch, plan.main_tip
        ));
    }
    out.stdout
        .push_str(&render::summary(&plan, &source.branch, dry_run));
    out.note(&render::refused(&plan));
    Ok(out.failing_if(!plan.refused.is_empty()))
}

/// `wpc release verify`: the branch holds against main and this
/// repository's memory of it, or the violations.
pub fn verify(repo: &Repo, source: &Source, freshness: &Freshness) -> Result<Output, ReleaseError> {
    let branch = &source.branch;
    match verify_branch(repo, source, freshness) {
        Ok(violations) if violations.is_empty() => Ok(Output::stdout(format!("{branch}: valid\n"))),
        Ok(violations) => {
            Ok(Output::stdout(render::violations(branch, &violations)).failing_if(true))
        }
        Err(err) => rejected(err),
    }
}

/// `wpc release migrate`: re-verify a `wpc-release-index/1` branch against
/// main and sign its first checkpoint.
pub fn migrate_branch(
    repo: &Repo,
    source: &Source,
    key: &SigningKey,
    now: Timestamp,
) -> Result<Output, ReleaseError> {
    match super::migrate(repo, source, key, now) {
        Ok(Ok(checkpoint)) => Ok(Output::stdout(format!(
            "{}: migrated; checkpoint {} over main commit {}\n",
            source.branch, checkpoint.version, checkpoint.main_commit
        ))),
        Ok(Err(violations)) => Ok(Output {
            stdout: render::violations(&source.branch, &violations),
            stderr: "error: not migrated: the branch does not hold against main; nothing was \
                     written\n"
                .to_owned(),
            failed: true,
        }),
        Err(err) => rejected(err),
    }
}

error_enum! {
    pub enum CommandError {
        Release(ReleaseError),
        Fetch(FetchError),
        Revoke(RevokeError),
        Trusted(TrustedSignersError),
        #[error("`{policy}` was never released on `{branch}`")]
        NeverReleased { policy: String, branch: String },
    }
}

/// A fetched envelope on stdout; one that does not verify (revoked,
/// unknown, tampered, untrusted, a branch that breaks a trust rule) the
/// failing output; a branch that cannot be read or a hash that is not one,
/// an error.
fn fetched(result: Result<Vec<u8>, FetchError>) -> Result<Output, CommandError> {
    match result {
        Ok(bytes) => Ok(Output::stdout(String::from_utf8_lossy(&bytes))),
        Err(FetchError::Release(err)) => Ok(rejected(err)?),
        Err(err @ FetchError::BadHash(_)) => Err(err.into()),
        Err(err) => Ok(Output::failure(format!("error: {err}\n"))),
    }
}

/// `wpc fetch`: the verified envelope of a released hash.
pub fn fetch_released(
    repo: &Repo,
    source: &Source,
    hash: &str,
    freshness: &Freshness,
) -> Result<Output, CommandError> {
    fetched(super::fetch(repo, source, hash, freshness))
}

/// `wpc fetch --from DIR`: the same from a checkout or export of the
/// branch, signed by a `[[release_signer]]` of `trusted`.
pub fn fetch_exported(dir: &Path, trusted: &Path, hash: &str) -> Result<Output, CommandError> {
    let signers = TrustedSigners::load(trusted)?;
    let trust = Trust::only(signers.release_signers().iter().map(|s| &s.did));
    fetched(super::fetch_from_dir(dir, hash, &trust))
}

/// `wpc log`: the release history of the verified tip (of `policy` only),
/// newest first. A rolled-back or edited branch is refused rather than
/// shown without its revocations.
pub fn log(
    repo: &Repo,
    source: &Source,
    freshness: &Freshness,
    policy: Option<&str>,
) -> Result<Output, CommandError> {
    let state = match VerifiedRelease::load(repo, source, freshness) {
        Ok(state) => state,
        Err(err) => return Ok(rejected(err)?),
    };
    let mut out = String::new();
    let mut shown = 0;
    for (name, entries) in &state.index.policies {
        if policy.is_some_and(|p| p != name) {
            continue;
        }
        shown += 1;
        let _ = writeln!(out, "{name}");
        for e in entries.iter().rev() {
            let _ = write!(
                out,
                "  {}  {}  commit {}",
                e.released_at,
                e.hash,
                e.commit.get(..12).unwrap_or(&e.commit)
            );
            if let Some(pr) = e.pr {
                let _ = write!(out, "  PR #{pr}");
            }
            if !e.approved_by.is_empty() {
                let _ = write!(out, "  approved by {}", e.approved_by.join(", "));
            }
            if let Some(r) = state.revocation(&e.hash) {
                let _ = write!(out, "  REVOKED {} ({})", r.revoked_at, r.reason);
            }
            out.push('\n');
            for (version, hash) in &e.renderings {
                let _ = writeln!(out, "    {:<8}{hash}", version.rendering());
            }
        }
    }
    if let (Some(policy), 0) = (policy, shown) {
        return Err(CommandError::NeverReleased {
            policy: policy.to_owned(),
            branch: source.branch.clone(),
        });
    }
    Ok(Output::stdout(out))
}

/// `wpc revoke`: a signed revocation of `hash` (and every rendering of its
/// version) on the release branch, retried when another writer moved the
/// branch first. An unknown hash or an untrusted key is the failing output.
pub fn revoke_hash(
    repo: &Repo,
    source: &Source,
    hash: &str,
    reason: &str,
    key: &SigningKey,
    now: Timestamp,
) -> Result<Output, CommandError> {
    let branch = &source.branch;
    let (revoked, _) = git::retry_on_conflict(
        || super::revoke(repo, source, hash, reason, key, now),
        |err| {
            matches!(
                err,
                RevokeError::Release(ReleaseError::Git(GitError::Conflict { .. }))
            )
        },
    );
    match revoked {
        Ok(Revoked::Now { commit, version }) if version != hash => Ok(Output::stdout(format!(
            "revoked {hash} (version {version}, with all its renderings); {branch} is at {commit}\n"
        ))),
        Ok(Revoked::Now { commit, .. }) => Ok(Output::stdout(format!(
            "revoked {hash}; {branch} is at {commit}\n"
        ))),
        Ok(Revoked::Already(at)) => Ok(Output::stdout(format!(
            "nothing to do: {hash} was already revoked at {at}\n"
        ))),
        Err(RevokeError::Release(err)) => Ok(rejected(err)?),
        Err(err @ (RevokeError::Unknown(..) | RevokeError::UntrustedKey(_))) => {
            Ok(Output::failure(format!("error: {err}\n")))
        }
        Err(err) => Err(err.into()),
    }
}
