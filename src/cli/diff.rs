use std::path::PathBuf;

use super::exit::Outcome;
use super::output::emit_explained;
use crate::bot::command::{self, DiffPlan};
use crate::diff;
use crate::report::Format;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The revision changes are measured from (a branch, tag or SHA).
    base: String,
    /// The revision with the changes.
    head: String,
    #[arg(long, default_value_t = Format::Text, value_parser = diff::render::FORMATS)]
    format: Format,
    /// The repository (any folder in it, or a bare repository).
    #[arg(long, value_name = "PATH", default_value = ".")]
    repo: PathBuf,
    /// The folder holding `wpc.toml`, relative to the repository root.
    /// Default: the nearest one above the current folder that holds
    /// `wpc.toml` at BASE, else the repository root.
    #[arg(long, value_name = "DIR")]
    root: Option<String>,
    /// Also replay the calls recorded in these proof bundles under the
    /// policy each claims at BASE and at HEAD, and report the calls whose
    /// decision changes (text and markdown formats).
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    replay: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let plan = DiffPlan {
        base: args.base,
        head: args.head,
        format: args.format,
        repo: args.repo,
        root: args.root,
        replay: args.replay,
    };
    emit_explained(command::diff(&plan))
}
