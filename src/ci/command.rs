//! `wpc ci` as a command: the report of every stage, rendered for a
//! terminal and, in GitHub Actions, for the runner (annotations, the step
//! summary and outputs), with an optional SARIF log.

use std::io::Write as _;
use std::path::PathBuf;

use super::{CiError, CiReport};
use crate::bundle::UnverifiedEvidence;
use crate::config::Selection;
use crate::error::error_enum;
use crate::fsio::{WriteError, write_atomically};
use crate::report::Output;
use crate::report::baseline::{BaselineError, Choice};

/// What the command line asked of `wpc ci`.
#[derive(Debug)]
pub struct Plan {
    /// Also write one SARIF log of every stage's findings here.
    pub sarif: Option<PathBuf>,
    pub unverified_evidence: UnverifiedEvidence,
    pub baseline: Choice,
    pub verbose: bool,
    pub color: bool,
}

error_enum! {
    pub enum CiCommandError {
        Ci(CiError),
        Baseline(BaselineError),
        Sarif(WriteError),
        #[error("cannot {action} ${variable} ({})", path.display())]
        ActionsFile {
            action: &'static str,
            variable: &'static str,
            path: PathBuf,
            source: std::io::Error,
        },
    }
}

/// Run every stage on the selected repository and render the report.
pub fn run(selection: Selection, plan: &Plan) -> Result<Output, CiCommandError> {
    let mut report = super::run(
        &selection.config,
        selection.findings,
        plan.unverified_evidence,
    )?;
    let (baseline, note) = plan.baseline.resolve(|| report.baseline())?;
    if let Some(baseline) = baseline {
        report = report.apply_baseline(&baseline);
    }
    let mut out = text(&report, plan);
    let all = report.findings();
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
    if let Some(sarif) = &plan.sarif {
        let sarif_log = all.found_by("ci").sarif(&super::rule_infos());
        write_atomically(sarif, &sarif_log)?;
    }
    Ok(Output {
        stdout: out,
        stderr: note,
        failed: !report.ok(),
    })
}

/// Each stage with findings, the stale baseline entries (verbose), the
/// summary.
fn text(report: &CiReport, plan: &Plan) -> String {
    let mut out = String::new();
    for stage in &report.stages {
        let listed = plan.verbose && !stage.report.suppressed().is_empty();
        if !stage.report.findings().is_empty() || listed {
            out.push_str(&format!("== {}\n", stage.name));
            out.push_str(&stage.report.text(plan.color, plan.verbose));
        }
    }
    if plan.verbose {
        for entry in &report.stale_baseline {
            out.push_str(&format!("stale baseline entry {entry}\n"));
        }
    }
    out.push_str(&report.summary_text());
    out
}

/// Appends `text` to the file the Actions runner names in `$variable`
/// (nothing when unset): the runner shares these files between the steps
/// of a job, so they are appended to, never replaced.
fn append_to_actions_file(variable: &'static str, text: &str) -> Result<(), CiCommandError> {
    let Some(path) = std::env::var_os(variable) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    let cannot = |action: &'static str| {
        let path = path.clone();
        move |source| CiCommandError::ActionsFile {
            action,
            variable,
            path,
            source,
        }
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(cannot("open"))?;
    file.write_all(text.as_bytes()).map_err(cannot("write"))
}
