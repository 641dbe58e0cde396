use std::path::PathBuf;

use super::args::{BaselineArgs, FindingsArgs};
use super::exit::Outcome;
use super::output::{color_stdout, emit};
use crate::ci::check::{self, Plan};
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders, or a repository root. Default: the repository
    /// found by walking up from the current folder to `wpc.toml`.
    paths: Vec<PathBuf>,
    /// Use this `wpc.toml` instead of discovering one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    findings: FindingsArgs,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    exit_zero: bool,
    #[command(flatten)]
    baseline: BaselineArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let selection = Config::select(args.config.as_deref(), &args.paths)?;
    let plan = Plan {
        format: args.findings.format,
        fail_on: args.findings.fail_on,
        exit_zero: args.exit_zero,
        baseline: args.baseline.choice(),
        verbose: args.baseline.verbose,
        color: color_stdout(),
    };
    emit(check::run(selection, &plan)?)
}
