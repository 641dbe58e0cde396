//! Policy tests (SPEC §4.3): `NAME.test.toml` beside `NAME.toml`, each
//! `[[case]]` a call and the verdict the policy must give it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Call, Decision, Engine, Verdict};
use crate::policy::document::{Document, SCHEMA};
use crate::policy::files::TEST_SUFFIX;
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

/// Load a test file and its policy and run every case. Problems with either
/// file (syntax, schema, a missing policy) are findings; a failing case is
/// not, it is a result.
pub fn run(test_file: &Path) -> Result<SuiteResult, Vec<Finding>> {
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
    if !policy_file.is_file() {
        return Err(vec![missing_policy(&policy_file)]);
    }
    let policy = Policy::load(&policy_file)?;
    let engine = Engine::new(&policy.wpc).map_err(|err| {
        vec![policy.doc.finding_at(
            "/constraints/tool_policy",
            SCHEMA,
            Severity::Error,
            err.to_string(),
        )]
    })?;
    let cases = tests
        .case
        .into_iter()
        .enumerate()
        .map(|(i, case)| CaseResult {
            location: doc.source.locate(doc.entry_span(&format!("/case/{i}"))),
            decision: engine.decide(&case.call),
            name: case.name,
            expected: case.expect,
        })
        .collect();
    Ok(SuiteResult {
        file: test_file.to_path_buf(),
        policy: policy_file,
        cases,
    })
}
