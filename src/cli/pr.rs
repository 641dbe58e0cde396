use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{Outcome, print};
use crate::bundle::batch::BatchError;
use crate::config::Config;
use crate::diff::{self, Format, approvals};
use crate::git::{Oid, Repo};
use crate::github::{self, Client, RepoName, State};
use crate::lint;
use crate::replay::{self, versions::Revisions};
use crate::report::Severity;

/// Changed calls shown in the comment per policy.
const MAX_REPLAY_EXAMPLES: usize = 5;

/// The "Impact on recorded runs" section: the bundles `glob` names under
/// the PR's base and head. A glob that matches nothing yet says so rather
/// than failing the bot.
fn impact(
    repo: &Repo,
    base: Oid,
    head: Oid,
    root: &str,
    glob: &str,
    git_dir: &Path,
    config: &Config,
) -> anyhow::Result<String> {
    // Bundle paths are matched as written: no `./` in front of them.
    let mut folder = PathBuf::new();
    if git_dir != Path::new(".") {
        folder.push(git_dir);
    }
    folder.push(root);
    let pattern = folder.join(glob).to_string_lossy().into_owned();
    let versions = Revisions::new(repo, base, head, root, None)?;
    match super::replay::replay_bundles(&[pattern], config, MAX_REPLAY_EXAMPLES, |hash| {
        versions.resolve(hash)
    }) {
        Ok((impact, counted)) => Ok(replay::render::markdown(&impact, counted)),
        Err(err)
            if err
                .downcast_ref::<BatchError>()
                .is_some_and(|e| matches!(e, BatchError::NoMatch(_))) =>
        {
            Ok(format!(
                "### Impact on recorded runs\n\nNo proof bundle matches `{glob}` yet.\n"
            ))
        }
        Err(err) => Err(err),
    }
}

/// The hidden line that finds the bot's comment again.
pub const MARKER: &str = "<!-- wpc:approval -->";
/// The commit status the bot sets.
pub const CONTEXT: &str = "wpc/approval";
/// Findings quoted in the comment when policies fail the check.
const MAX_QUOTED_FINDINGS: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository on GitHub (`owner/name`). Default: `GITHUB_REPOSITORY`.
    #[arg(long, value_name = "OWNER/NAME")]
    repo: Option<String>,
    /// The pull request number. Default: the one in the event at
    /// `GITHUB_EVENT_PATH` (pull_request, pull_request_target,
    /// pull_request_review).
    #[arg(long, value_name = "N")]
    pr: Option<u64>,
    /// The local clone holding both the base and the head commits.
    #[arg(long, value_name = "PATH", default_value = ".")]
    git_dir: PathBuf,
    /// The folder holding `wpc.toml`, relative to the repository root.
    #[arg(long, value_name = "DIR")]
    root: Option<String>,
    /// Replay the calls recorded in these proof bundles (relative to the
    /// folder holding `wpc.toml`) under the base and head policies, and add
    /// "Impact on recorded runs" to the comment. Default: `[bundles] replay`
    /// of `wpc.toml` at the base.
    #[arg(long, value_name = "GLOB")]
    replay: Option<String>,
}

struct Target {
    repo: RepoName,
    number: u64,
    token: String,
    api_url: String,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn target(args: &Args) -> anyhow::Result<Target> {
    let repo = match (args.repo.clone(), env("GITHUB_REPOSITORY")) {
        (Some(repo), _) | (None, Some(repo)) => repo.parse::<RepoName>()?,
        (None, None) => {
            anyhow::bail!("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
        }
    };
    let number = match (args.pr, env("GITHUB_EVENT_PATH")) {
        (Some(number), _) => number,
        (None, Some(path)) => event_number(&PathBuf::from(path))?,
        (None, None) => anyhow::bail!(
            "no pull request: pass --pr N or run on a pull_request event (GITHUB_EVENT_PATH)"
        ),
    };
    let token = env("GITHUB_TOKEN").context("GITHUB_TOKEN is not set")?;
    let api_url = env("GITHUB_API_URL").unwrap_or_else(|| github::DEFAULT_API_URL.to_owned());
    Ok(Target {
        repo,
        number,
        token,
        api_url,
    })
}

/// The pull request number of a pull_request, pull_request_target or
/// pull_request_review event payload.
fn event_number(path: &std::path::Path) -> anyhow::Result<u64> {
    let text = crate::fsio::read_to_string(path, crate::fsio::EVENT)
        .context("cannot read the GitHub event payload")?;
    let event: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a JSON event payload", path.display()))?;
    event
        .pointer("/pull_request/number")
        .and_then(serde_json::Value::as_u64)
        .with_context(|| {
            format!(
                "{}: not a pull request event (no pull_request.number); pass --pr N",
                path.display()
            )
        })
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let target = target(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (summary, state) = runtime.block_on(bot(&args, &target))?;
    print(&summary)?;
    Ok(if state == State::Failure {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

async fn bot(args: &Args, target: &Target) -> anyhow::Result<(String, State)> {
    let client = Client::new(&target.token, &target.api_url)?;
    let (repo_name, number) = (&target.repo, target.number);
    let pr = client.pull_request(repo_name, number).await?;

    let repo = Repo::discover(&args.git_dir)?;
    let missing = |sha: &str| {
        format!(
            "commit {sha} of {repo_name}#{number} is not in the local repository: fetch it (actions/checkout with fetch-depth: 0)"
        )
    };
    let base_tip = repo
        .resolve(&pr.base.sha)
        .with_context(|| missing(&pr.base.sha))?;
    let head = repo
        .resolve(&pr.head.sha)
        .with_context(|| missing(&pr.head.sha))?;
    // The change is what the branch adds to where it forked, not the
    // difference to wherever the base branch has moved since.
    let base = repo.merge_base(base_tip, head)?;
    let root = match &args.root {
        Some(root) => root.clone(),
        None => super::diff::find_root(&repo, base, &args.git_dir)?,
    };
    let diff = diff::diff_revisions(&repo, base, head, &root)?;
    super::diff::report_findings(&diff);

    // Every policy at the head must pass `wpc check`, under the base's lint
    // settings: a change cannot relax the rules it is checked by.
    let (_, head_policies, mut loading) = crate::revision::policies_at(&repo, head, &root)?;
    loading.extend(diff.findings.iter().cloned());
    loading.sort_by_key(crate::report::Finding::position);
    loading.dedup();
    let check = lint::check_policies(&diff.config, loading, &head_policies, head_policies.len());
    let errors: Vec<_> = check
        .findings()
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();

    let required = diff.requirements()?;
    let reviews = client.reviews(repo_name, number).await?;
    let approvers = github::current_approvers(&reviews, &pr.user.login, &pr.head.sha);
    let teams = approvals::teams(&required);
    let mut counted = Vec::new();
    for login in approvers {
        let mut member_of = Vec::new();
        for team in &teams {
            if client.is_team_member(team, &login).await? {
                member_of.push(team.clone());
            }
        }
        counted.push(approvals::Approval {
            login,
            teams: member_of,
        });
    }
    let statuses = approvals::evaluate(&required, &counted);

    let missing: u32 = statuses.iter().map(|s| s.missing).sum();
    let (state, description) = if !errors.is_empty() {
        (
            State::Failure,
            format!(
                "{} policy error{} at the head: see the comment",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
        )
    } else if missing > 0 {
        let unmet: Vec<String> = statuses
            .iter()
            .filter(|s| !s.met())
            .map(|s| format!("{} {}", s.requirement.class.as_str(), s.missing))
            .collect();
        (
            State::Pending,
            format!(
                "{missing} more approval{} needed ({})",
                if missing == 1 { "" } else { "s" },
                unmet.join(", ")
            ),
        )
    } else if statuses.is_empty() {
        (State::Success, "no approval required".to_owned())
    } else {
        (
            State::Success,
            "every required approval is present".to_owned(),
        )
    };

    let mut body = format!("{MARKER}\n");
    body.push_str(&diff::render(&diff, &statuses, true, Format::Markdown));
    let replay_glob = args
        .replay
        .as_ref()
        .or(diff.config.settings.bundles.replay.as_ref());
    if let Some(glob) = replay_glob {
        body.push('\n');
        body.push_str(&impact(
            &repo,
            base,
            head,
            &root,
            glob,
            &args.git_dir,
            &diff.config,
        )?);
    }
    if !errors.is_empty() {
        body.push_str("\n#### Policies that fail `wpc check`\n\n");
        for finding in errors.iter().take(MAX_QUOTED_FINDINGS) {
            let _ = writeln!(
                body,
                "- `{}` {}: {}",
                finding.position(),
                finding.code,
                finding.message.replace(['\n', '\r'], " ")
            );
        }
        if errors.len() > MAX_QUOTED_FINDINGS {
            let _ = writeln!(body, "- … and {} more", errors.len() - MAX_QUOTED_FINDINGS);
        }
    }
    let _ = write!(
        body,
        "\n---\n`{CONTEXT}`: **{}** ({description}). Approvals count from each reviewer's latest review of the head commit; dismissed reviews, reviews of earlier commits and the author's own never count.\n",
        state.as_str()
    );
    let comment = client
        .upsert_comment(repo_name, number, MARKER, &body)
        .await?;
    client
        .set_status(
            repo_name,
            &pr.head.sha,
            state,
            CONTEXT,
            &description,
            Some(&comment.html_url),
        )
        .await?;

    let mut summary = diff::render(&diff, &statuses, true, Format::Text);
    let _ = writeln!(
        summary,
        "\n{CONTEXT}: {} ({description})\ncomment: {}",
        state.as_str(),
        comment.html_url
    );
    Ok((summary, state))
}
