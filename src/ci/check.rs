//! `wpc check`: the check stage of `wpc ci` alone, on a repository or on
//! the files named on the command line, rendered in one format.

use crate::config::Selection;
use crate::error::error_enum;
use crate::lint::{self, CheckError};
use crate::report::baseline::{Baseline, BaselineError, Choice};
use crate::report::{FailOn, Format, Output, Unsupported};

/// What the command line asked of `wpc check`.
#[derive(Debug)]
pub struct Plan {
    pub format: Format,
    pub fail_on: FailOn,
    /// Pass even with findings (errors are still errors).
    pub exit_zero: bool,
    pub baseline: Choice,
    /// Also list the suppressed findings and stale baseline entries (text).
    pub verbose: bool,
    pub color: bool,
}

error_enum! {
    pub enum CheckCommandError {
        Check(CheckError),
        Baseline(BaselineError),
        Format(Unsupported),
    }
}

/// Check what `selection` names. A repository's check also holds its
/// policies to the release branch's revocations; files named on the
/// command line are checked alone.
pub fn run(selection: Selection, plan: &Plan) -> Result<Output, CheckCommandError> {
    let Selection {
        config,
        findings,
        inputs,
    } = selection;
    let revocations = if inputs.is_empty() {
        crate::release::revocations_for_lint(&config)
    } else {
        lint::Revocations::NotRead
    };
    let mut report = lint::check(&config, findings, &inputs, revocations)?.found_by("check");
    let (baseline, note) = plan.baseline.resolve(|| Baseline::of(&report))?;
    if let Some(baseline) = baseline {
        report = baseline.apply(report);
    }
    let stdout = report.render_verbose(
        plan.format,
        &lint::REGISTRY.infos(),
        plan.color,
        plan.verbose,
    )?;
    Ok(Output {
        stdout,
        stderr: note,
        failed: report.fails_at(plan.fail_on.threshold()) && !plan.exit_zero,
    })
}
