use std::path::PathBuf;

use super::exit::Outcome;
use super::output::emit;
use crate::bot::command::{self, Plan};

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

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let plan = Plan {
        repo: args.repo,
        pr: args.pr,
        git_dir: args.git_dir,
        root: args.root,
        replay: args.replay,
    };
    emit(command::run_command(&plan)?)
}
