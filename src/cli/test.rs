use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::check::resolve;
use super::{Outcome, color_stdout, print, usable_config};
use crate::decide::suite;
use crate::policy::document::unreadable_in_brief;
use crate::policy::files;
use crate::report::Report;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Runs every NAME.test.toml against the policy NAME.toml beside it.\n\
    Exit status: 0 every case passed; 1 a case failed, or a test file or policy is invalid; \
    2 usage or I/O error."
)]
pub struct Args {
    /// Test files, policies (their test file is run) or folders, or a
    /// repository root. Default: the repository's policies folder.
    paths: Vec<PathBuf>,
    /// Use this `wpc.toml` instead of discovering one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (config, findings, inputs) = resolve(args.config.as_deref(), &args.paths)?;
    let config = usable_config(Ok((config, findings)))?;
    let inputs = if inputs.is_empty() {
        vec![config.policies_dir()]
    } else {
        inputs.iter().map(|path| as_test_input(path)).collect()
    };
    let run = suite::run_all(&inputs, &config.root)?;
    let mut out = String::new();
    for case in run
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .filter(|c| !c.passed())
    {
        let at = &case.location;
        let _ = writeln!(
            out,
            "FAIL {}:{}:{} {}\n  expected {}, got {}: {}",
            at.path().display(),
            at.line,
            at.column,
            case.name,
            case.expected,
            case.decision.verdict,
            case.decision
        );
    }
    let (passed, failed) = (run.passed(), run.failed());
    let problems = unreadable_in_brief(run.problems);
    let test_files = run.files;
    if !problems.is_empty() {
        let report = Report::new(problems, test_files);
        out.push_str(&report.render_brief(color_stdout()));
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    print(&out)?;
    Ok(if failed == 0 {
        Outcome::Clean
    } else {
        Outcome::Failed
    })
}

/// A policy file given on the command line stands for its test file.
fn as_test_input(path: &Path) -> PathBuf {
    let is_policy = path.is_file() && !path.to_string_lossy().ends_with(files::TEST_SUFFIX);
    match suite::test_path(path) {
        Some(test) if is_policy => test,
        _ => path.to_path_buf(),
    }
}
