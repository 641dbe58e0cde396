use std::path::PathBuf;

use anyhow::Context as _;

use super::output::{Outcome, eprint, print, warn_unchecked_gateways};
use crate::bot::{self, Request};
use crate::github::{self, Client, RepoName, State};
use crate::report::Report;

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
    let request = Request {
        repo: &target.repo,
        number: target.number,
        git_dir: &args.git_dir,
        root: args.root.as_deref(),
        replay: args.replay.as_deref(),
    };
    // The client's services are spawned on the runtime: build it inside.
    let outcome = runtime.block_on(async {
        let client = Client::new(&target.token, &target.api_url)?;
        anyhow::Ok(bot::run(&client, &request).await?)
    })?;
    if !outcome.findings.is_empty() {
        let report = Report::new(outcome.findings, 0);
        eprint(&report.text(false, false));
    }
    if let Some(checked) = outcome.gateway_signers_checked {
        warn_unchecked_gateways(checked);
    }
    print(&outcome.summary)?;
    Ok(if outcome.state == State::Failure {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}
