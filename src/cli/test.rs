use std::path::{Path, PathBuf};

use anyhow::Context as _;
use regex::Regex;

use super::check::resolve;
use super::{Outcome, color_stdout, print, usable_config};
use crate::config::Config;
use crate::decide::suite;
use crate::decide::test_report::{self, Options};
use crate::fsio;
use crate::policy::document::unreadable_in_brief;
use crate::policy::{Policy, files};
use crate::release::Freshness;
use crate::replay::{self, generate, versions::Working};
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
    if let Some(Command::Generate(generate_args)) = args.command {
        return generate(&generate_args);
    }
    let filter = args
        .filter
        .as_deref()
        .map(Regex::new)
        .transpose()
        .context("--filter is not a valid regular expression")?;
    let (config, findings, inputs) = resolve(args.config.as_deref(), &args.paths)?;
    let config = usable_config(Ok((config, findings)))?;
    let inputs = if inputs.is_empty() {
        vec![config.policies_dir()]
    } else {
        inputs.iter().map(|path| as_test_input(path)).collect()
    };
    let mut run = suite::run_matching(&inputs, &config.root, filter.as_ref())?;
    if let Some(pattern) = &args.filter
        && run.problems.is_empty()
        && run.suites.iter().all(|s| s.cases.is_empty())
    {
        anyhow::bail!("no test case matches --filter `{pattern}`");
    }
    run.problems = unreadable_in_brief(std::mem::take(&mut run.problems));
    let options = Options {
        verbose: args.verbose,
        coverage: args.coverage,
        min_coverage: args.min_coverage,
        color: color_stdout(),
    };
    print(&test_report::render(&run, args.format, &options)?)?;
    let below = args
        .min_coverage
        .is_some_and(|minimum| test_report::below_minimum(&run, minimum));
    Ok(if run.failed() == 0 && !below {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
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

/// A policy file given on the command line stands for its test file.
fn as_test_input(path: &Path) -> PathBuf {
    let is_policy = path.is_file() && !path.to_string_lossy().ends_with(files::TEST_SUFFIX);
    match suite::test_path(path) {
        Some(test) if is_policy => test,
        _ => path.to_path_buf(),
    }
}

fn generate(args: &GenerateArgs) -> anyhow::Result<Outcome> {
    let policy = Policy::load(&args.policy).map_err(|findings| {
        let first = findings
            .first()
            .map(|f| format!("{}: {}", f.position(), f.message));
        anyhow::anyhow!(
            "{} is not a valid policy: {}",
            args.policy.display(),
            first.unwrap_or_default()
        )
    })?;
    let test_file = suite::test_path(&args.policy)
        .with_context(|| format!("{} is not a NAME.toml policy file", args.policy.display()))?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let config = usable_config(Config::discover(&cwd))?;
    let versions = Working::new(&config, &Freshness::default(), None)?;
    let read = replay::read_globs(&args.from_bundles, &config)?;
    super::warn_unchecked_gateways(read.gateway_signers_checked);
    let (recordings, rejected) = (read.counted, read.rejected);
    let existing = match test_file.is_file() {
        true => Some(
            fsio::read_to_string(&test_file, fsio::TOML)
                .with_context(|| format!("cannot read {}", test_file.display()))?,
        ),
        false => None,
    };
    let name = policy.name().to_owned();
    let of_policy = |recording: &replay::Recording| {
        recording.claimed.as_deref().is_some_and(|hash| {
            hash == policy.hash || versions.resolve(hash).is_ok_and(|pair| pair.policy == name)
        })
    };
    let generated = generate::cases(&policy, &recordings, of_policy, existing.as_deref())
        .with_context(|| format!("{}", test_file.display()))?;
    if generated.added > 0 {
        crate::fsio::write_atomically(&test_file, &generated.text)?;
    }
    print(&format!(
        "{}: {} case(s) added from {} verified bundle(s); {} bundle(s) rejected\n",
        test_file.display(),
        generated.added,
        recordings.len(),
        rejected.len()
    ))?;
    Ok(Outcome::Clean)
}
