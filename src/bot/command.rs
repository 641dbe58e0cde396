//! `wpc pr` and `wpc diff` as commands. `pr`: which pull request (flags,
//! else the Actions environment), the GitHub client on its own runtime, one
//! [`run`](super::run) and what to show; `diff`: the same diff and replay
//! between two revisions, printed instead of posted.

use std::path::{Path, PathBuf};

use super::{BotError, Request};
use crate::diff::{self, DiffError, PatternError, approvals};
use crate::error::error_enum;
use crate::fsio::ReadError;
use crate::git::{GitError, Repo};
use crate::github::{self, Client, GithubError, RepoName, State};
use crate::replay::{self, ReplayError, versions::Revisions};
use crate::report::{Explained, Format, Output, Report, Unsupported};
use crate::revision::RootError;

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

error_enum! {
    pub enum PrCommandError {
        Github(GithubError),
        Bot(BotError),
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
        #[error("{0}: not a pull request event (no pull_request.number); pass --pr N")]
        NotAPullRequestEvent(PathBuf),
        #[error("cannot start the async runtime")]
        Runtime(#[source] std::io::Error),
    }
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

/// What the command line asked of `wpc diff`.
#[derive(Debug)]
pub struct DiffPlan {
    pub base: String,
    pub head: String,
    pub format: Format,
    /// Any folder in the repository.
    pub repo: PathBuf,
    /// The folder holding `wpc.toml`; default: found at `base`.
    pub root: Option<String>,
    /// Proof bundles whose calls to replay under both revisions.
    pub replay: Vec<String>,
}

error_enum! {
    pub enum DiffCommandError {
        Git(GitError),
        Root(RootError),
        Diff(DiffError),
        Approvals(PatternError),
        Replay(ReplayError),
        Format(Unsupported),
        #[error(
            "--replay is shown in the text and markdown formats; for JSON run `wpc replay --format json`"
        )]
        ReplayAsJson,
        /// `stderr`: the findings saying which, to show before the error.
        #[error(
            "some policies could not be read (see above); no diff printed: fix them, then diff again"
        )]
        Unreadable { stderr: String },
    }
}

impl Explained for DiffCommandError {
    fn explanation(&self) -> &str {
        match self {
            DiffCommandError::Unreadable { stderr } => stderr,
            _ => "",
        }
    }
}

/// `wpc diff`: the semantic diff of the policies between two revisions and
/// the approvals it requires, failing when something widens; with bundles
/// to replay, the calls whose decision changes too (failing when any does).
pub fn diff(plan: &DiffPlan) -> Result<Output, DiffCommandError> {
    if !plan.replay.is_empty() && plan.format == Format::Json {
        return Err(DiffCommandError::ReplayAsJson);
    }
    let repo = Repo::discover(&plan.repo)?;
    let base = repo.resolve(&plan.base)?;
    let head = repo.resolve(&plan.head)?;
    let root = match &plan.root {
        Some(root) => root.clone(),
        None => crate::revision::find_root(&repo, base, &plan.repo)?,
    };
    let diff = diff::diff_revisions(&repo, base, head, &root)?;
    let mut out = Output::default();
    if !diff.findings.is_empty() {
        out.note(&Report::new(diff.findings.clone(), 0).text(false, false));
    }
    if diff.has_errors() {
        return Err(DiffCommandError::Unreadable { stderr: out.stderr });
    }
    let required = diff.requirements()?;
    let statuses = approvals::evaluate(&required, &[]);
    out.stdout = diff::render(&diff, &statuses, false, plan.format)?;
    let mut changed = 0;
    if !plan.replay.is_empty() {
        let versions = Revisions::new(&repo, base, head, &root, None)?;
        let replayed = replay::replay_globs(
            &plan.replay,
            &diff.config,
            replay::DEFAULT_EXAMPLES,
            |hash| versions.resolve(hash),
        )?;
        if !replayed.gateway_signers_checked {
            out.note(replay::UNCHECKED_GATEWAYS);
        }
        changed = replayed.impact.changed();
        out.stdout.push_str(&match plan.format {
            Format::Markdown => replay::render::markdown(&replayed.impact, replayed.counted),
            _ => format!(
                "\n{}",
                replay::render::text(&replayed.impact, replayed.counted)
            ),
        });
    }
    Ok(out.failing_if(diff.widens() || changed > 0))
}
