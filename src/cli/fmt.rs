use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::output::{Outcome, eprint, print, usable_config};
use crate::config::Config;
use crate::fsio::write_atomically;
use crate::policy::document::unreadable_in_brief;
use crate::policy::files;
use crate::policy::{Document, fmt, read_source};
use crate::report::Report;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders. Default: the repository's policies.
    paths: Vec<PathBuf>,
    /// Change nothing; print a diff and exit 1 if any file is not formatted.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let config = usable_config(Config::discover(
        args.paths.first().map_or(Path::new("."), PathBuf::as_path),
    ))?;
    let (paths, skipped) = if args.paths.is_empty() {
        files::collect_dir(&config.policies_dir(), &config.root)?
    } else {
        files::collect(&args.paths, &config.root)?
    };
    let mut problems = skipped;
    let mut outcome = Outcome::Clean;
    for path in &paths {
        let source = match read_source(path) {
            Ok(source) => source,
            Err(finding) => {
                problems.push(finding);
                continue;
            }
        };
        // Only well-formed TOML is formatted; report the rest with locations.
        if let Err(findings) = Document::parse(source.clone()) {
            if findings
                .iter()
                .any(|f| f.code == crate::policy::document::SYNTAX)
            {
                problems.extend(findings);
                continue;
            }
        }
        let formatted = fmt::format(source.text())
            .with_context(|| format!("{}: cannot format", path.display()))?;
        if formatted == source.text() {
            continue;
        }
        if args.check {
            outcome = Outcome::Failed;
            print(&unified_diff(path, source.text(), &formatted))?;
        } else {
            write_atomically(path, &formatted)?;
            print(&format!("formatted {}\n", path.display()))?;
        }
    }
    if !problems.is_empty() {
        eprint(&Report::new(unreadable_in_brief(problems), paths.len()).render_brief(false));
        outcome = Outcome::Failed;
    }
    Ok(outcome)
}

fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
