use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::diff::find_root;
use super::sign::load_key;
use super::{Outcome, eprint, print};
use crate::crypto::envelope::parse_rfc3339;
use crate::diff::config_at;
use crate::git::{GitError, Oid, Repo};
use crate::github::{self, Client, RepoName, current_approvers};
use crate::lint;
use crate::release::{self, Plan, PullRequests, ReleaseError, Request};
use crate::report::{Format, Report};

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
    /// Re-verify every envelope, index entry and revocation on the release
    /// branch, and that its history only ever appended: exit 1 naming the
    /// commit that broke it.
    Verify(VerifyArgs),
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

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    place: Place,
    /// The secret key file. Default: the `WPC_SIGNING_KEY` environment variable.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Release the commits after REV instead of after the last released one.
    #[arg(long, value_name = "REV")]
    since: Option<String>,
    /// The commit to release up to.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    head: String,
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
}

/// The repository, the policy root and the release branch of `place` at
/// `head`.
pub(super) fn open(place: &Place, head: &str) -> anyhow::Result<(Repo, Oid, String, String)> {
    let repo = Repo::discover(&place.repo)?;
    let head = repo.resolve(head)?;
    let root = match &place.root {
        Some(root) => root.clone(),
        None => find_root(&repo, head, &place.repo)?,
    };
    let branch = match &place.branch {
        Some(branch) => branch.clone(),
        None => {
            let config = config_at(&repo, head, &root, &mut Vec::new())?;
            release::branch_name(&config).to_owned()
        }
    };
    Ok((repo, head, root, branch))
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.action {
        Some(Action::Verify(verify)) => run_verify(&verify.place),
        None => run_release(&args.run),
    }
}

fn run_release(args: &RunArgs) -> anyhow::Result<Outcome> {
    let key = load_key(args.key.as_deref())?;
    let now = match &args.now {
        Some(text) => parse_rfc3339(text).with_context(|| format!("--now {text}"))?,
        None => jiff::Timestamp::now(),
    };
    let (repo, head, root, branch) = open(&args.place, &args.head)?;
    let since = args
        .since
        .as_deref()
        .map(|rev| repo.resolve(rev))
        .transpose()?;
    let github = GithubApprovals::from_env()?;
    let request = Request {
        branch: &branch,
        root: &root,
        head,
        since,
        key: &key,
        now,
        pull_requests: github.as_ref().map(|g| g as &dyn PullRequests),
        dry_run: args.dry_run,
    };
    let plan = release::prepare(&repo, &request)?;
    let plan = match release::publish(&repo, &plan) {
        // Another run moved the branch first: start over from its tip once.
        Err(ReleaseError::Git(GitError::Conflict { .. })) => {
            let again = release::prepare(&repo, &request)?;
            release::publish(&repo, &again)?;
            again
        }
        Err(err) => return Err(err.into()),
        Ok(()) => plan,
    };
    print(&summary(&plan, &branch, args.dry_run))?;
    report_refused(&plan);
    Ok(if plan.refused.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
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

fn run_verify(place: &Place) -> anyhow::Result<Outcome> {
    let (repo, _, root, branch) = open(place, "HEAD")?;
    let violations = release::verify_branch(&repo, &branch, &root)?;
    if violations.is_empty() {
        print(&format!("{branch}: valid\n"))?;
        return Ok(Outcome::Clean);
    }
    let mut out = String::new();
    for v in &violations {
        let _ = writeln!(out, "INVALID commit {}: {}", v.commit, v.message);
    }
    let _ = writeln!(out, "{branch}: {} violation(s)", violations.len());
    print(&out)?;
    Ok(Outcome::Failed)
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
