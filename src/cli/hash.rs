use std::path::PathBuf;

use super::{Outcome, eprint, print};
use crate::policy::Policy;
use crate::report::{Format, Report};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file.
    file: PathBuf,
    /// Print only the 12-character display form.
    #[arg(long)]
    short: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let Some(policy) = load_or_report(&args.file)? else {
        return Ok(Outcome::Failed);
    };
    let hash = if args.short {
        crate::policy::hash::short(&policy.hash)
    } else {
        &policy.hash
    };
    print(&format!("{hash}\n"))?;
    Ok(Outcome::Clean)
}

/// Load a policy for a command that needs a valid one: a missing file is an
/// error (exit 2); an invalid policy prints its findings to stderr and yields
/// `None` (exit 1).
pub(super) fn load_or_report(file: &std::path::Path) -> anyhow::Result<Option<Policy>> {
    if !file.is_file() {
        anyhow::bail!("{}: no such file", file.display());
    }
    match Policy::load(file) {
        Ok(policy) => Ok(Some(policy)),
        Err(findings) => {
            let report = Report::new(findings, 1);
            eprint(&report.render(Format::Text, &[], false));
            Ok(None)
        }
    }
}
