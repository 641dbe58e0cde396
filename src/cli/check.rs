use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{Outcome, color_stdout, eprint, print};
use crate::config::{Config, FILE_NAME};
use crate::lint;
use crate::report::baseline::Baseline;
use crate::report::{self, FailOn, Format};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders, or a repository root. Default: the repository
    /// found by walking up from the current folder to `wpc.toml`.
    paths: Vec<PathBuf>,
    /// Use this `wpc.toml` instead of discovering one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, default_value_t = Format::Text, value_parser = report::FORMATS)]
    format: Format,
    /// The lowest severity that fails the check.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
    /// Exit 0 even when there are findings (errors still exit 2).
    #[arg(long)]
    exit_zero: bool,
    #[command(flatten)]
    baseline: BaselineArgs,
}

/// The baseline options of `check` and `ci`.
#[derive(Debug, clap::Args)]
pub(super) struct BaselineArgs {
    /// Findings listed in this baseline file (see --write-baseline) are
    /// reported as suppressed and do not fail.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Write every finding not suppressed in the source to this baseline
    /// file (replacing it), and report them as suppressed.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Also list the suppressed findings and the baseline entries no longer
    /// found (in text; JSON and SARIF always carry them).
    #[arg(short, long)]
    pub(super) verbose: bool,
}

impl BaselineArgs {
    /// The baseline to apply: the one `--baseline` names, or `current` (the
    /// findings of this run) written to `--write-baseline` first.
    pub(super) fn resolve(
        &self,
        current: impl FnOnce() -> Baseline,
    ) -> anyhow::Result<Option<Baseline>> {
        if let Some(path) = &self.write_baseline {
            let baseline = current();
            baseline.write(path)?;
            eprint(&format!(
                "wrote {} findings to the baseline {}\n",
                baseline.findings.len(),
                path.display()
            ));
            return Ok(Some(baseline));
        }
        Ok(self.baseline.as_deref().map(Baseline::load).transpose()?)
    }
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
    let mut report = lint::check(&config, config_findings, &inputs, revocations)?.found_by("check");
    if let Some(baseline) = args.baseline.resolve(|| Baseline::of(&report))? {
        report = baseline.apply(report);
    }
    print(&report.render_verbose(
        args.format,
        &lint::REGISTRY.infos(),
        color_stdout(),
        args.baseline.verbose,
    )?)?;
    Ok(
        if report.fails_at(args.fail_on.threshold()) && !args.exit_zero {
            Outcome::Failed
        } else {
            Outcome::Clean
        },
    )
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
