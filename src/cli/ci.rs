use std::path::PathBuf;

use super::args::BaselineArgs;
use super::exit::Outcome;
use super::output::{color_stdout, emit};
use crate::bundle::UnverifiedEvidence;
use crate::ci::command::{self, Plan};
use crate::config::Config;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "In GitHub Actions (GITHUB_ACTIONS=true) it also prints workflow-command \
    annotations and appends a markdown summary to $GITHUB_STEP_SUMMARY. A baseline applies to \
    the findings of the check and audit stages.\n\
    Exit status: 0 every stage passed; 1 a stage failed; 2 usage, configuration or I/O error."
)]
pub struct Args {
    /// The repository (a folder with `wpc.toml`). Default: found by walking
    /// up from the current folder.
    repo: Option<PathBuf>,
    /// Also write one SARIF 2.1.0 log of every stage's findings here.
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// A proof bundle carrying evidence wpc does not verify: `fail` makes it
    /// INVALID (EVIDENCE_UNVERIFIED), `warn` keeps its verdict and warns.
    #[arg(long, value_enum, default_value_t = UnverifiedEvidence::Fail, value_name = "MODE")]
    unverified_evidence: UnverifiedEvidence,
    #[command(flatten)]
    baseline: BaselineArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let paths: Vec<PathBuf> = args.repo.into_iter().collect();
    let selection = Config::select(None, &paths)?;
    let plan = Plan {
        sarif: args.sarif,
        unverified_evidence: args.unverified_evidence,
        baseline: args.baseline.choice(),
        verbose: args.baseline.verbose,
        color: color_stdout(),
    };
    emit(command::run(selection, &plan)?)
}
