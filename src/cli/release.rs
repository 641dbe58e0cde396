use std::path::PathBuf;

use anyhow::Context as _;

use super::args::{FreshnessArgs, Place, load_key, open};
use super::output::{Outcome, eprint, print, rejected_or};
use crate::crypto::envelope::parse_rfc3339;
use crate::git::{self, GitError};
use crate::github;
use crate::release::{self, GithubApprovals, PullRequests, ReleaseError, Request, render};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Re-verify every envelope, index entry, revocation and checkpoint on
    /// the release branch against main, that its history only ever
    /// appended, and that it did not go back from what this repository
    /// verified before: exit 1 naming the commit and the reason code.
    Verify(VerifyArgs),
    /// Upgrade a `wpc-release-index/1` branch: re-verify all of it against
    /// main, then sign its first checkpoint.
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    place: Place,
    /// The secret key file. Default: the `WPC_SIGNING_KEY` environment variable.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Check and sign, print what would be released, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Pin `released_at` and `issued_at` (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    freshness: FreshnessArgs,
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    #[command(flatten)]
    place: Place,
    /// The secret key file. Default: the `WPC_SIGNING_KEY` environment variable.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Pin the checkpoint's `issued_at` (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

fn parse_now(now: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
    Ok(match now {
        Some(text) => parse_rfc3339(text).with_context(|| format!("--now {text}"))?,
        None => jiff::Timestamp::now(),
    })
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.action {
        Some(Action::Verify(verify)) => run_verify(&verify),
        Some(Action::Migrate(migrate)) => run_migrate(&migrate),
        None => run_release(&args.run),
    }
}

fn run_release(args: &RunArgs) -> anyhow::Result<Outcome> {
    let key = load_key(args.key.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    let (repo, source) = open(&args.place)?;
    let github = github_approvals()?;
    let request = Request {
        source: &source,
        key: &key,
        now,
        pull_requests: github.as_ref().map(|g| g as &dyn PullRequests),
        dry_run: args.dry_run,
    };
    // Another run that moved the branch first makes publishing fail: start
    // over from its tip.
    let (published, raced) = git::retry_on_conflict(
        || {
            let plan = release::prepare(&repo, &request)?;
            release::publish(&repo, &plan).map(|()| plan)
        },
        |err| matches!(err, ReleaseError::Git(GitError::Conflict { .. })),
    );
    let plan = match published {
        Ok(plan) => plan,
        Err(err) => return rejected_or(err),
    };
    if repo.resolve("HEAD").ok() != Some(plan.main_tip) {
        eprint(&format!(
            "note: released from {} at {}, not from HEAD: releases always come from main\n",
            plan.main_reference, plan.main_tip
        ));
    }
    if raced && plan.commit.is_none() && !args.dry_run {
        print(&format!(
            "nothing to do: another run already released {} up to {}\n",
            source.branch, plan.main_tip
        ))?;
    }
    print(&render::summary(&plan, &source.branch, args.dry_run))?;
    eprint(&render::refused(&plan));
    Ok(if plan.refused.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

fn run_verify(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let (repo, source) = open(&args.place)?;
    let branch = &source.branch;
    let violations = match release::verify_branch(&repo, &source, &args.freshness.freshness()) {
        Ok(violations) => violations,
        Err(err) => return rejected_or(err),
    };
    if violations.is_empty() {
        print(&format!("{branch}: valid\n"))?;
        return Ok(Outcome::Clean);
    }
    print(&render::violations(branch, &violations))?;
    Ok(Outcome::Failed)
}

fn run_migrate(args: &MigrateArgs) -> anyhow::Result<Outcome> {
    let key = load_key(args.key.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    let (repo, source) = open(&args.place)?;
    match release::migrate(&repo, &source, &key, now) {
        Ok(Ok(checkpoint)) => {
            print(&format!(
                "{}: migrated; checkpoint {} over main commit {}\n",
                source.branch, checkpoint.version, checkpoint.main_commit
            ))?;
            Ok(Outcome::Clean)
        }
        Ok(Err(violations)) => {
            print(&render::violations(&source.branch, &violations))?;
            eprint(
                "error: not migrated: the branch does not hold against main; nothing was written\n",
            );
            Ok(Outcome::Failed)
        }
        Err(err) => rejected_or(err),
    }
}

/// Approvals read from GitHub when `GITHUB_TOKEN` and `GITHUB_REPOSITORY`
/// are set; without them PR numbers are still recorded.
fn github_approvals() -> anyhow::Result<Option<GithubApprovals>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(token), Some(repo)) = (env("GITHUB_TOKEN"), env("GITHUB_REPOSITORY")) else {
        return Ok(None);
    };
    let api_url = env("GITHUB_API_URL").unwrap_or_else(|| github::DEFAULT_API_URL.to_owned());
    Ok(Some(GithubApprovals::new(&token, &api_url, repo.parse()?)?))
}
