use std::path::PathBuf;

use super::exit::Outcome;
use super::output::emit;
use crate::scaffold;

/// Writes `DIR/NAME.toml` and `DIR/NAME.test.toml`; refuses to overwrite.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy name (also its file stem).
    name: String,
    /// The template: agent-change-reviewer, read-only-researcher, ci-fixer,
    /// deployer or data-analyst.
    #[arg(long, short)]
    template: String,
    /// The policies folder.
    #[arg(long, default_value = "policies")]
    dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    emit(scaffold::new_policy(&args.name, &args.template, &args.dir)?)
}
