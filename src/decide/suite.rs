//! Policy tests (docs/testing-policies.md): `NAME.test.toml` beside `NAME.toml`, each
//! `[[case]]` a call and the verdict the policy must give it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use regex::Regex;
use serde::Deserialize;

use super::coverage::{self, Coverage};
use super::{Call, Decision, Engine, Verdict};
use crate::policy::document::{Document, SCHEMA};
use crate::policy::files::{self, CollectError, TEST_SUFFIX};
use crate::policy::schema::{self, Schema};
use crate::policy::{Policy, read_source};
use crate::report::{Finding, Location, Severity};

#[derive(Deserialize)]
struct TestFile {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    expect: Verdict,
    #[serde(flatten)]
    call: Call,
}

/// One case, run.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub name: String,
    /// Where the case is written (its `[[case]]` table).
    pub location: Location,
    pub expected: Verdict,
    pub decision: Decision,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.decision.verdict == self.expected
    }
}

/// The cases of one test file, run against its policy.
#[derive(Clone, Debug)]
pub struct SuiteResult {
    pub file: PathBuf,
    pub policy: PathBuf,
    pub cases: Vec<CaseResult>,
    /// The policy's rules and which of these cases exercise them.
    pub coverage: Coverage,
}

/// The policy a test file tests: `foo.test.toml` → `foo.toml` beside it.
pub fn policy_path(test_file: &Path) -> Option<PathBuf> {
    let name = test_file.file_name()?.to_str()?;
    let stem = name.strip_suffix(TEST_SUFFIX)?;
    Some(test_file.with_file_name(format!("{stem}.toml")))
}

/// The test file of a policy: `foo.toml` → `foo.test.toml` beside it.
pub fn test_path(policy_file: &Path) -> Option<PathBuf> {
    let name = policy_file.file_name()?.to_str()?;
    let stem = name.strip_suffix(".toml")?;
    Some(policy_file.with_file_name(format!("{stem}{TEST_SUFFIX}")))
}

/// Code of a policy test case that got another verdict than it expects,
/// when failures are reported as findings (`wpc ci`).
pub const CASE_FAILED: &str = "TST001";

/// Every test file under `inputs`, run in parallel.
#[derive(Debug, Default)]
pub struct TestRun {
    pub suites: Vec<SuiteResult>,
    /// Test files (or their policies) that could not be run, and entries
    /// skipped while collecting them.
    pub problems: Vec<Finding>,
    /// How many test files were found.
    pub files: usize,
    /// Test files that could not be run (each counts as one failure).
    pub broken_files: usize,
}

impl TestRun {
    pub fn passed(&self) -> usize {
        self.suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| c.passed())
            .count()
    }

    pub fn failed(&self) -> usize {
        let cases = self
            .suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| !c.passed())
            .count();
        cases + self.broken_files
    }

    /// Each failing case as an error located at its `[[case]]`.
    pub fn failures(&self) -> impl Iterator<Item = Finding> + '_ {
        self.suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| !c.passed())
            .map(|case| {
                let mut finding = Finding::new(
                    CASE_FAILED,
                    Severity::Error,
                    format!(
                        "test `{}` expected {}, got {}: {}",
                        case.name, case.expected, case.decision.verdict, case.decision
                    ),
                );
                finding.location = Some(case.location.clone());
                finding
            })
    }
}

/// Run every test file under `inputs` (files or folders).
pub fn run_all(inputs: &[PathBuf], root: &Path) -> Result<TestRun, CollectError> {
    run_matching(inputs, root, None)
}

/// Run the cases whose name `filter` matches (all when `None`) of every
/// test file under `inputs`. Coverage counts only the cases that ran.
pub fn run_matching(
    inputs: &[PathBuf],
    root: &Path,
    filter: Option<&Regex>,
) -> Result<TestRun, CollectError> {
    let (test_files, problems) = files::collect_tests(inputs, root)?;
    Ok(run_files(&test_files, problems, &[], filter))
}

/// Run every case of `test_files` (collected with `problems`), testing the
/// policies of `loaded` as they were loaded (a run that already read the
/// policies folder does not read them again) and reading any other.
pub fn run_collected(test_files: &[PathBuf], problems: Vec<Finding>, loaded: &[Policy]) -> TestRun {
    run_files(test_files, problems, loaded, None)
}

fn run_files(
    test_files: &[PathBuf],
    problems: Vec<Finding>,
    loaded: &[Policy],
    filter: Option<&Regex>,
) -> TestRun {
    let loaded: HashMap<&Path, &Policy> = loaded.iter().map(|p| (p.doc.source.path(), p)).collect();
    let results: Vec<Result<SuiteResult, Vec<Finding>>> = test_files
        .par_iter()
        .map(|file| run_file(file, &loaded, filter))
        .collect();
    let mut run = TestRun {
        problems,
        files: test_files.len(),
        ..TestRun::default()
    };
    for result in results {
        match result {
            Ok(suite) => run.suites.push(suite),
            Err(findings) => {
                run.broken_files += 1;
                run.problems.extend(findings);
            }
        }
    }
    run
}

/// Load a test file and its policy and run every case. Problems with either
/// file (syntax, schema, a missing policy) are findings; a failing case is
/// not, it is a result.
pub fn run(test_file: &Path) -> Result<SuiteResult, Vec<Finding>> {
    run_file(test_file, &HashMap::new(), None)
}

fn run_file(
    test_file: &Path,
    loaded: &HashMap<&Path, &Policy>,
    filter: Option<&Regex>,
) -> Result<SuiteResult, Vec<Finding>> {
    let doc = Document::parse(read_source(test_file).map_err(|f| vec![f])?)?;
    let findings = schema::check(Schema::TestFile, &doc);
    if !findings.is_empty() {
        return Err(findings);
    }
    let tests: TestFile = serde_json::from_value(doc.value.clone()).map_err(|err| {
        vec![doc.finding_at(
            "",
            SCHEMA,
            Severity::Error,
            format!("internal test model error: {err}"),
        )]
    })?;
    let missing_policy = |path: &Path| {
        Finding::new(
            SCHEMA,
            Severity::Error,
            format!("no policy `{}` to test", path.display()),
        )
        .in_file(test_file)
        .help("a test file `NAME.test.toml` tests the policy `NAME.toml` in the same folder")
    };
    let policy_file = policy_path(test_file).ok_or_else(|| vec![missing_policy(test_file)])?;
    let read;
    let policy = match loaded.get(policy_file.as_path()) {
        Some(policy) => *policy,
        None if !policy_file.is_file() => return Err(vec![missing_policy(&policy_file)]),
        None => {
            read = Policy::load(&policy_file)?;
            &read
        }
    };
    let not_compiled = |err: super::CompileError| {
        vec![
            policy
                .doc
                .finding_at("/constraints", SCHEMA, Severity::Error, err.to_string()),
        ]
    };
    let engine = Engine::new(&policy.wpc).map_err(not_compiled)?;
    let selected: Vec<(usize, Case)> = tests
        .case
        .into_iter()
        .enumerate()
        .filter(|(_, case)| filter.is_none_or(|f| f.is_match(&case.name)))
        .collect();
    let decisions: Vec<Decision> = selected
        .iter()
        .map(|(_, case)| engine.decide_per_call(&case.call))
        .collect();
    let runs: Vec<(&Call, &Decision)> = selected
        .iter()
        .map(|(_, case)| &case.call)
        .zip(&decisions)
        .collect();
    let coverage = coverage::measure(policy, &runs).map_err(not_compiled)?;
    let cases = selected
        .into_iter()
        .zip(decisions)
        .map(|((i, case), decision)| CaseResult {
            location: doc.source.locate(doc.entry_span(&format!("/case/{i}"))),
            decision,
            name: case.name,
            expected: case.expect,
        })
        .collect();
    Ok(SuiteResult {
        file: test_file.to_path_buf(),
        policy: policy_file,
        cases,
        coverage,
    })
}
