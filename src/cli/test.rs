use std::path::PathBuf;

use anyhow::Context as _;
use regex::Regex;

use super::exit::Outcome;
use super::load::{current_config, usable_selection};
use super::output::{color_stdout, emit};
use crate::config::Config;
use crate::decide::test_report::{self, Options, Plan};
use crate::replay::generate;
use crate::report::Format;

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Runs every NAME.test.toml against the policy NAME.toml beside it.\n\
    Exit status: 0 every case passed (and coverage is at least --min-coverage); 1 a case \
    failed, a test file or policy is invalid, or coverage is below --min-coverage; 2 usage or \
    I/O error, or no case matches --filter."
)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Test files, policies (their test file is run) or folders, or a
    /// repository root. Default: the repository's policies folder.
    paths: Vec<PathBuf>,
    /// Use this `wpc.toml` instead of discovering one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format: text for people, json (wpc-test-report) or junit
    /// (JUnit XML) for CI tools.
    #[arg(long, default_value_t = Format::Text, value_parser = test_report::FORMATS)]
    format: Format,
    /// List every case, not only the failing ones (text).
    #[arg(short, long)]
    verbose: bool,
    /// Run only the cases whose name this regular expression matches.
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Report, per policy, which rules the cases exercise, with the file
    /// and line of each rule none does.
    #[arg(long)]
    coverage: bool,
    /// Fail (exit 1) when fewer than PCT percent of the rules are
    /// exercised; implies --coverage.
    #[arg(long, value_name = "PCT", value_parser = percent)]
    min_coverage: Option<f64>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Add a case to POLICY's test file for each tool that verified proof
    /// bundles of its runs call and no case tests yet, expecting today's
    /// decision.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Only bundles that pass the protocol checks and claim POLICY (by hash, or \
    a released or working version of the same name) count.\n\
    Exit status: 0 written (or nothing to add); 2 usage or I/O error, a glob that matches \
    nothing, or a test file that does not parse."
)]
struct GenerateArgs {
    /// Proof bundles: a file, folder or glob (repeat for more).
    #[arg(long, value_name = "GLOB", required = true)]
    from_bundles: Vec<String>,
    /// The policy file whose test file (NAME.test.toml beside it) gets the
    /// cases.
    policy: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if let Some(Command::Generate(generate)) = args.command {
        let config = current_config(None)?;
        let policy = &generate.policy;
        return emit(generate::into_test_file(
            policy,
            &generate.from_bundles,
            &config,
        )?);
    }
    let filter = args
        .filter
        .as_deref()
        .map(Regex::new)
        .transpose()
        .context("--filter is not a valid regular expression")?;
    let (config, inputs) = usable_selection(Config::select(args.config.as_deref(), &args.paths))?;
    let plan = Plan {
        inputs,
        policies_dir: config.policies_dir(),
        root: config.root,
        filter,
        format: args.format,
        options: Options {
            verbose: args.verbose,
            coverage: args.coverage,
            min_coverage: args.min_coverage,
            color: color_stdout(),
        },
    };
    emit(test_report::output(&plan)?)
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a percentage from 0 to 100")]
struct NotAPercentage(String);

/// `--min-coverage`: a percentage from 0 to 100.
fn percent(text: &str) -> Result<f64, NotAPercentage> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=100.0).contains(&value) => Ok(value),
        _ => Err(NotAPercentage(text.to_owned())),
    }
}
