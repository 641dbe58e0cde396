use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::check::{BaselineArgs, resolve};
use super::{Outcome, color_stdout, print};
use crate::bundle::UnverifiedEvidence;
use crate::ci;
use crate::fsio::write_atomically;

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
    let (config, config_findings, _) = resolve(None, &paths)?;
    let mut report = ci::run(&config, config_findings, args.unverified_evidence)?;
    if let Some(baseline) = args.baseline.resolve(|| report.baseline())? {
        report = report.apply_baseline(&baseline);
    }
    let all = report.findings();
    let rules = ci::rule_infos();

    let mut out = String::new();
    for stage in &report.stages {
        let listed = args.baseline.verbose && !stage.report.suppressed().is_empty();
        if !stage.report.findings().is_empty() || listed {
            out.push_str(&format!("== {}\n", stage.name));
            out.push_str(&stage.report.text(color_stdout(), args.baseline.verbose));
        }
    }
    if args.baseline.verbose {
        for entry in &report.stale_baseline {
            out.push_str(&format!("stale baseline entry {entry}\n"));
        }
    }
    out.push_str(&report.summary_text());
    if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        out.push_str(&all.github());
        append_to_actions_file("GITHUB_STEP_SUMMARY", &report.summary_markdown())?;
    }
    if std::env::var_os("GITHUB_OUTPUT").is_some() {
        // Step outputs for the action: the verdict and the counts.
        let findings = all.findings().len();
        let invalid_bundles = report
            .stages
            .iter()
            .find(|s| s.name == "bundles")
            .map_or(0, |s| s.failed);
        let result = if report.ok() { "passed" } else { "failed" };
        append_to_actions_file(
            "GITHUB_OUTPUT",
            &format!("result={result}\nfindings={findings}\ninvalid-bundles={invalid_bundles}\n"),
        )?;
    }
    if let Some(sarif) = &args.sarif {
        let sarif_log = all.found_by("ci").sarif(&rules);
        write_atomically(sarif, &sarif_log)?;
    }
    print(&out)?;
    Ok(if report.ok() {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// Appends `text` to the file the Actions runner names in `$variable`
/// (nothing when unset): the runner shares these files between the steps
/// of a job, so they are appended to, never replaced.
fn append_to_actions_file(variable: &str, text: &str) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os(variable) else {
        return Ok(());
    };
    let cannot = |action: &str| {
        format!(
            "cannot {action} ${variable} ({})",
            PathBuf::from(&path).display()
        )
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| cannot("open"))?;
    file.write_all(text.as_bytes())
        .with_context(|| cannot("write"))
}
