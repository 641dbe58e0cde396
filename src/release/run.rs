//! The `wpc release` commands end to end: release (retrying when another
//! run moved the branch first), verify and migrate, each as the [`Output`]
//! to show. A release branch that breaks a trust rule is a failing output
//! naming the reason (exit 1), not an error.

use jiff::Timestamp;

use super::{
    GithubApprovals, PullRequests, ReleaseError, Request, Source, prepare, publish, render,
    verify_branch,
};
use crate::crypto::keys::SigningKey;
use crate::git::{self, GitError, Repo};
use crate::report::Output;

use super::Freshness;

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
