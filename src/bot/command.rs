//! `wpc pr` as a command: which pull request (flags, else the Actions
//! environment), the GitHub client on its own runtime, one [`run`](super::run)
//! and what to show.

use std::path::{Path, PathBuf};

use super::{BotError, Request};
use crate::fsio::ReadError;
use crate::github::{self, Client, GithubError, RepoName, State};
use crate::report::{Output, Report};

/// What the command line asked of `wpc pr`.
#[derive(Debug)]
pub struct Plan {
    /// `owner/name`; default: `GITHUB_REPOSITORY`.
    pub repo: Option<String>,
    /// Default: the pull request of the event at `GITHUB_EVENT_PATH`.
    pub pr: Option<u64>,
    pub git_dir: PathBuf,
    pub root: Option<String>,
    pub replay: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PrCommandError {
    #[error("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")]
    NoRepository,
    #[error("no pull request: pass --pr N or run on a pull_request event (GITHUB_EVENT_PATH)")]
    NoPullRequest,
    #[error("GITHUB_TOKEN is not set")]
    NoToken,
    #[error("cannot read the GitHub event payload")]
    Event(#[source] ReadError),
    #[error("{}: not a JSON event payload", path.display())]
    EventJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: not a pull request event (no pull_request.number); pass --pr N", .0.display())]
    NotAPullRequestEvent(PathBuf),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Bot(#[from] BotError),
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Judge the pull request, comment and set the status; the summary on
/// stdout, problems reading a revision on stderr, failing with the status.
pub fn run_command(plan: &Plan) -> Result<Output, PrCommandError> {
    let repo = match (plan.repo.clone(), env("GITHUB_REPOSITORY")) {
        (Some(repo), _) | (None, Some(repo)) => repo.parse::<RepoName>()?,
        (None, None) => return Err(PrCommandError::NoRepository),
    };
    let number = match (plan.pr, env("GITHUB_EVENT_PATH")) {
        (Some(number), _) => number,
        (None, Some(path)) => event_number(Path::new(&path))?,
        (None, None) => return Err(PrCommandError::NoPullRequest),
    };
    let token = env("GITHUB_TOKEN").ok_or(PrCommandError::NoToken)?;
    let api_url = env("GITHUB_API_URL").unwrap_or_else(|| github::DEFAULT_API_URL.to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PrCommandError::Runtime)?;
    let request = Request {
        repo: &repo,
        number,
        git_dir: &plan.git_dir,
        root: plan.root.as_deref(),
        replay: plan.replay.as_deref(),
    };
    // The client's services are spawned on the runtime: build it inside.
    let outcome = runtime.block_on(async {
        let client = Client::new(&token, &api_url)?;
        Ok::<_, PrCommandError>(super::run(&client, &request).await?)
    })?;
    let mut out = Output::stdout(outcome.summary);
    if !outcome.findings.is_empty() {
        out.note(&Report::new(outcome.findings, 0).text(false, false));
    }
    if outcome.gateway_signers_checked == Some(false) {
        out.note(crate::replay::UNCHECKED_GATEWAYS);
    }
    Ok(out.failing_if(outcome.state == State::Failure))
}

/// The pull request number of a pull_request, pull_request_target or
/// pull_request_review event payload.
fn event_number(path: &Path) -> Result<u64, PrCommandError> {
    let text =
        crate::fsio::read_to_string(path, crate::fsio::EVENT).map_err(PrCommandError::Event)?;
    let event: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| PrCommandError::EventJson {
            path: path.to_path_buf(),
            source,
        })?;
    event
        .pointer("/pull_request/number")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| PrCommandError::NotAPullRequestEvent(path.to_path_buf()))
}
