use std::path::PathBuf;

use super::output::{Outcome, eprint, print};
use crate::diff::{self, RevisionDiff, approvals};
use crate::git::Repo;
use crate::replay::{self, versions::Revisions};
use crate::report::{Format, Report};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The revision changes are measured from (a branch, tag or SHA).
    base: String,
    /// The revision with the changes.
    head: String,
    #[arg(long, default_value_t = Format::Text, value_parser = diff::render::FORMATS)]
    format: Format,
    /// The repository (any folder in it, or a bare repository).
    #[arg(long, value_name = "PATH", default_value = ".")]
    repo: PathBuf,
    /// The folder holding `wpc.toml`, relative to the repository root.
    /// Default: the nearest one above the current folder that holds
    /// `wpc.toml` at BASE, else the repository root.
    #[arg(long, value_name = "DIR")]
    root: Option<String>,
    /// Also replay the calls recorded in these proof bundles under the
    /// policy each claims at BASE and at HEAD, and report the calls whose
    /// decision changes (text and markdown formats).
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    replay: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if !args.replay.is_empty() && args.format == Format::Json {
        anyhow::bail!(
            "--replay is shown in the text and markdown formats; for JSON run `wpc replay --format json`"
        );
    }
    let repo = Repo::discover(&args.repo)?;
    let base = repo.resolve(&args.base)?;
    let head = repo.resolve(&args.head)?;
    let root = match args.root {
        Some(root) => root,
        None => crate::revision::find_root(&repo, base, &args.repo)?,
    };
    let diff = diff::diff_revisions(&repo, base, head, &root)?;
    report_findings(&diff);
    if diff.has_errors() {
        anyhow::bail!(
            "some policies could not be read (see above); no diff printed: fix them, then diff again"
        );
    }
    let required = diff.requirements()?;
    let statuses = approvals::evaluate(&required, &[]);
    print(&diff::render(&diff, &statuses, false, args.format)?)?;
    let mut changed = 0;
    if !args.replay.is_empty() {
        let versions = Revisions::new(&repo, base, head, &root, None)?;
        let replayed = replay::replay_globs(
            &args.replay,
            &diff.config,
            replay::DEFAULT_EXAMPLES,
            |hash| versions.resolve(hash),
        )?;
        super::output::warn_unchecked_gateways(replayed.gateway_signers_checked);
        changed = replayed.impact.changed();
        print(&match args.format {
            Format::Markdown => replay::render::markdown(&replayed.impact, replayed.counted),
            _ => format!(
                "\n{}",
                replay::render::text(&replayed.impact, replayed.counted)
            ),
        })?;
    }
    Ok(if diff.widens() || changed > 0 {
        Outcome::Failed
    } else {
        Outcome::Clean
    })
}

/// Print the findings of loading both revisions to stderr.
pub(super) fn report_findings(diff: &RevisionDiff) {
    if !diff.findings.is_empty() {
        let report = Report::new(diff.findings.clone(), 0);
        eprint(&report.text(false, false));
    }
}
