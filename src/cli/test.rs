use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::check::resolve;
use super::{Outcome, color_stdout, print};
use crate::decide::suite::{self, SuiteResult};
use crate::policy::files;
use crate::report::{Finding, Format, Report};

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
    // Config findings are `wpc check`'s to report; here the config only says
    // where the policies are.
    let (config, _, inputs) = resolve(args.config.as_deref(), &args.paths)?;
    let inputs = if inputs.is_empty() {
        vec![config.policies_dir()]
    } else {
        inputs.iter().map(|path| as_test_input(path)).collect()
    };
    let (test_files, mut problems) = files::collect_tests(&inputs, &config.root)?;
    let results: Vec<Result<SuiteResult, Vec<Finding>>> =
        test_files.par_iter().map(|file| suite::run(file)).collect();

    let (mut passed, mut failed) = (0usize, 0usize);
    let mut out = String::new();
    for result in results {
        match result {
            Ok(suite) => {
                for case in &suite.cases {
                    if case.passed() {
                        passed += 1;
                        continue;
                    }
                    failed += 1;
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
            }
            Err(findings) => {
                failed += 1;
                problems.extend(findings);
            }
        }
    }
    if !problems.is_empty() {
        let report = Report::new(problems, test_files.len());
        out.push_str(&report.render(Format::Text, &[], color_stdout()));
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
