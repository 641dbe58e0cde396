use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{Outcome, color_stdout, print};
use crate::config::{Config, FILE_NAME};
use crate::lint;
use crate::report::{Format, Severity};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders, or a repository root. Default: the repository
    /// found by walking up from the current folder to `wpc.toml`.
    paths: Vec<PathBuf>,
    /// Use this `wpc.toml` instead of discovering one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The lowest severity that fails the check.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    exit_zero: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FailOn {
    Error,
    Warning,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (config, config_findings, inputs) = resolve(args.config.as_deref(), &args.paths)?;
    // A repository's check also holds policies to the release branch's
    // revocations; files named on the command line are checked alone.
    let revocations = if inputs.is_empty() {
        crate::release::revocations_for_lint(&config)
    } else {
        lint::Revocations::NotRead
    };
    let report = lint::check(&config, config_findings, &inputs, revocations)?.found_by("check");
    print(&report.render(args.format, &lint::REGISTRY.infos(), color_stdout()))?;
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
    };
    Ok(if report.fails_at(threshold) && !args.exit_zero {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

/// The config and what to check. A single folder holding `wpc.toml` is a
/// repository: its config and policies folder. Anything else is a list of
/// policies, checked with the config found above the first of them.
pub(super) fn resolve(
    config: Option<&Path>,
    paths: &[PathBuf],
) -> anyhow::Result<(Config, Vec<crate::report::Finding>, Vec<PathBuf>)> {
    if let Some(file) = config {
        let (config, findings) = Config::load(file)?;
        return Ok((config, findings, paths.to_vec()));
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    match paths {
        [] => {
            let (config, findings) = Config::discover(&cwd)?;
            Ok((config, findings, Vec::new()))
        }
        [single] if single.join(FILE_NAME).is_file() => {
            let (config, findings) = Config::load(&single.join(FILE_NAME))?;
            Ok((config, findings, Vec::new()))
        }
        [first, ..] => {
            let (config, findings) = Config::discover(first)?;
            Ok((config, findings, paths.to_vec()))
        }
    }
}
