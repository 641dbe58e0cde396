//! The approvals of the pull request a released commit came from, read
//! through the bot's GitHub client: the same rule as the bot (each
//! reviewer's latest review of the head commit, never the author's).

use super::PullRequests;
use crate::github::{Client, GithubError, RepoName, current_approvers};

#[derive(Debug, thiserror::Error)]
pub enum ApprovalsError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Github(#[from] GithubError),
}

/// A [`PullRequests`] on GitHub's API, with its own single-threaded runtime
/// (releasing is synchronous).
pub struct GithubApprovals {
    runtime: tokio::runtime::Runtime,
    client: Client,
    repo: RepoName,
}

impl GithubApprovals {
    /// Approvals read from GitHub when `GITHUB_TOKEN` and
    /// `GITHUB_REPOSITORY` are set (`GITHUB_API_URL` too, for GitHub
    /// Enterprise); without them PR numbers are still recorded.
    pub fn from_env() -> Result<Option<GithubApprovals>, ApprovalsError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(token), Some(repo)) = (env("GITHUB_TOKEN"), env("GITHUB_REPOSITORY")) else {
            return Ok(None);
        };
        let api_url =
            env("GITHUB_API_URL").unwrap_or_else(|| crate::github::DEFAULT_API_URL.to_owned());
        Ok(Some(GithubApprovals::new(&token, &api_url, repo.parse()?)?))
    }

    pub fn new(
        token: &str,
        api_url: &str,
        repo: RepoName,
    ) -> Result<GithubApprovals, ApprovalsError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ApprovalsError::Runtime)?;
        let client = runtime.block_on(async { Client::new(token, api_url) })?;
        Ok(GithubApprovals {
            runtime,
            client,
            repo,
        })
    }
}

impl PullRequests for GithubApprovals {
    fn approvers(&self, pr: u64) -> Result<Vec<String>, ApprovalsError> {
        self.runtime.block_on(async {
            let pull = self.client.pull_request(&self.repo, pr).await?;
            let reviews = self.client.reviews(&self.repo, pr).await?;
            Ok(current_approvers(
                &reviews,
                &pull.user.login,
                &pull.head.sha,
            ))
        })
    }
}
