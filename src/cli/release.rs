use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::diff::find_root;
use super::sign::load_key;
use super::{Outcome, eprint, print};
use crate::crypto::envelope::parse_rfc3339;
use crate::git::{GitError, Repo};
use crate::github::{self, Client, RepoName, current_approvers};
use crate::lint;
use crate::release::{self, Freshness, Plan, PullRequests, ReleaseError, Request, Source};
use crate::report::{Format, Report};
use crate::revision::config_at;

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
pub struct Place {
    /// The release branch. Default: `[release] branch` in `wpc.toml`, else
    /// `wpc-releases`.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// The repository (any folder in it, or a bare repository).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
    /// The folder holding `wpc.toml`, relative to the repository root.
    #[arg(long, value_name = "DIR")]
    pub root: Option<String>,
}

/// How fresh the release branch must be, for the commands that read it.
#[derive(Debug, clap::Args)]
pub struct FreshnessArgs {
    /// Refuse a release branch whose checkpoint is older than N
    /// (ROLLBACK_DETECTED), for a verifier that keeps its pin elsewhere.
    #[arg(long, value_name = "N")]
    pub min_checkpoint: Option<u64>,
}

impl FreshnessArgs {
    pub fn freshness(&self) -> Freshness {
        Freshness {
            min_checkpoint: self.min_checkpoint,
        }
    }
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

/// How many times a run prepares again after another run published first.
pub(super) const PUBLISH_ATTEMPTS: u32 = 20;

/// The repository and the release places of `place` (read from `wpc.toml`
/// at HEAD).
pub(super) fn open(place: &Place) -> anyhow::Result<(Repo, Source)> {
    let repo = Repo::discover(&place.repo)?;
    let head = repo.resolve("HEAD")?;
    let root = match &place.root {
        Some(root) => root.clone(),
        None => find_root(&repo, head, &place.repo)?,
    };
    let config = config_at(&repo, head, &root, &mut Vec::new())?;
    let mut source = Source::of(&config, &root);
    if let Some(branch) = &place.branch {
        source.branch.clone_from(branch);
    }
    Ok((repo, source))
}

/// A branch that breaks a trust rule is exit 1 with its reason; any other
/// error is exit 2.
pub(super) fn rejected_or(err: ReleaseError) -> anyhow::Result<Outcome> {
    if err.is_rejection() {
        eprint(&format!("error: {err}\n"));
        Ok(Outcome::Failed)
    } else {
        Err(err.into())
    }
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
    let github = GithubApprovals::from_env()?;
    let request = Request {
        source: &source,
        key: &key,
        now,
        pull_requests: github.as_ref().map(|g| g as &dyn PullRequests),
        dry_run: args.dry_run,
    };
    let mut attempt = 1;
    let (plan, raced) = loop {
        let plan = match release::prepare(&repo, &request) {
            Ok(plan) => plan,
            Err(err) => return rejected_or(err),
        };
        match release::publish(&repo, &plan) {
            Ok(()) => break (plan, attempt > 1),
            // Another run moved the branch first: start over from its tip.
            Err(ReleaseError::Git(GitError::Conflict { .. })) if attempt < PUBLISH_ATTEMPTS => {
                attempt += 1;
                backoff(attempt);
            }
            Err(err) => return rejected_or(err),
        }
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
    print(&summary(&plan, &source.branch, args.dry_run))?;
    report_refused(&plan);
    Ok(if plan.refused.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// A short, growing, jittered wait before preparing again, so runs that
/// collided do not collide again in step.
pub(super) fn backoff(attempt: u32) {
    let jitter = u64::from(std::process::id() % 17)
        + u64::from(jiff::Timestamp::now().subsec_nanosecond().unsigned_abs() % 23);
    std::thread::sleep(std::time::Duration::from_millis(
        u64::from(attempt.min(10)) * 10 + jitter,
    ));
}

fn summary(plan: &Plan, branch: &str, dry_run: bool) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would release" } else { "released" };
    for r in &plan.released {
        let _ = write!(
            out,
            "{verb} {} {} from {}",
            r.name,
            r.hash,
            r.commit.get(..12).unwrap_or(&r.commit)
        );
        if let Some(previous) = &r.previous {
            let _ = write!(out, " (previous {previous})");
        }
        if !r.new_envelope {
            out.push_str(" (known content: existing envelope)");
        }
        if let Some(pr) = r.pr {
            let _ = write!(out, " PR #{pr}");
            if !r.approved_by.is_empty() {
                let _ = write!(out, " approved by {}", r.approved_by.join(", "));
            }
        }
        out.push('\n');
        for (version, hash) in &r.renderings {
            let _ = writeln!(out, "  {:<8}{hash}", version.rendering());
        }
    }
    let _ = writeln!(
        out,
        "{} released, {} refused{}",
        plan.released.len(),
        plan.refused.len(),
        match (plan.commit, dry_run) {
            (_, true) => " (dry run: nothing written)".to_owned(),
            (Some(commit), false) => format!("; {branch} is at {commit}"),
            (None, false) => format!("; {branch} unchanged"),
        }
    );
    out
}

fn report_refused(plan: &Plan) {
    for refused in &plan.refused {
        eprint(&format!(
            "error: not released: {} at {}: {}\n",
            refused.what,
            refused.commit.to_string().get(..12).unwrap_or_default(),
            refused.reason
        ));
        if !refused.findings.is_empty() {
            let report = Report::new(refused.findings.clone(), 1);
            eprint(&report.render(Format::Text, &lint::rule_infos(), false));
        }
    }
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
    print(&violations_text(branch, &violations))?;
    Ok(Outcome::Failed)
}

fn violations_text(branch: &str, violations: &[release::Violation]) -> String {
    let mut out = String::new();
    for v in violations {
        let _ = writeln!(
            out,
            "INVALID commit {}: {}: {}",
            v.commit,
            v.reason.code(),
            v.message
        );
    }
    let _ = writeln!(out, "{branch}: {} violation(s)", violations.len());
    out
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
            print(&violations_text(&source.branch, &violations))?;
            eprint(
                "error: not migrated: the branch does not hold against main; nothing was written\n",
            );
            Ok(Outcome::Failed)
        }
        Err(err) => rejected_or(err),
    }
}

/// Approvals read through the bot's GitHub client, when `GITHUB_TOKEN` and
/// `GITHUB_REPOSITORY` are set; without them PR numbers are still recorded.
struct GithubApprovals {
    runtime: tokio::runtime::Runtime,
    client: Client,
    repo: RepoName,
}

impl GithubApprovals {
    fn from_env() -> anyhow::Result<Option<GithubApprovals>> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(token), Some(repo)) = (env("GITHUB_TOKEN"), env("GITHUB_REPOSITORY")) else {
            return Ok(None);
        };
        let api_url = env("GITHUB_API_URL").unwrap_or_else(|| github::DEFAULT_API_URL.to_owned());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let client = runtime.block_on(async { Client::new(&token, &api_url) })?;
        Ok(Some(GithubApprovals {
            runtime,
            client,
            repo: repo.parse()?,
        }))
    }
}

impl PullRequests for GithubApprovals {
    fn approvers(&self, pr: u64) -> Result<Vec<String>, String> {
        self.runtime.block_on(async {
            let pull = self
                .client
                .pull_request(&self.repo, pr)
                .await
                .map_err(|e| e.to_string())?;
            let reviews = self
                .client
                .reviews(&self.repo, pr)
                .await
                .map_err(|e| e.to_string())?;
            Ok(current_approvers(
                &reviews,
                &pull.user.login,
                &pull.head.sha,
            ))
        })
    }
}
