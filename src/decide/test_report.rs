//! Output of `wpc test`: text for people, `wpc-test-report` JSON
//! (schema/wpc-test-report.v1.schema.json) and JUnit XML for CI tools.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use super::Verdict;
use super::coverage::{self, Coverage, RuleKind};
use super::suite::{self, CaseResult, TestRun};
use crate::error::error_enum;
use crate::policy::document::unreadable_in_brief;
use crate::policy::files::{CollectError, TEST_SUFFIX};
use crate::report::{Envelope, Format, Formats, Output, Report, Unsupported};

/// The `format` and `version` of the JSON document.
pub const ENVELOPE: Envelope = Envelope::new("wpc-test-report", 1);

/// The formats of `wpc test`.
pub const FORMATS: Formats = Formats(&[Format::Text, Format::Json, Format::Junit]);

/// What to show besides failures and the summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Every case, not only the failing ones (text).
    pub verbose: bool,
    /// Per policy, the rules the cases exercise.
    pub coverage: bool,
    /// The lowest total coverage, in percent, that passes.
    pub min_coverage: Option<f64>,
    /// ANSI colour in text.
    pub color: bool,
}

/// Rules exercised and rules in all, over every policy tested.
pub fn coverage_totals(run: &TestRun) -> (usize, usize) {
    run.suites.iter().fold((0, 0), |(covered, total), suite| {
        (
            covered + suite.coverage.covered(),
            total + suite.coverage.total(),
        )
    })
}

/// The total coverage is below `minimum` percent.
pub fn below_minimum(run: &TestRun, minimum: f64) -> bool {
    let (covered, total) = coverage_totals(run);
    coverage::percent(covered, total) < minimum
}

/// What the command line asked of `wpc test`.
#[derive(Debug)]
pub struct Plan {
    /// Test files, policies (standing for their test files) or folders;
    /// empty: `policies_dir`.
    pub inputs: Vec<PathBuf>,
    /// The repository's policies folder.
    pub policies_dir: PathBuf,
    /// The repository root test files are shown relative to.
    pub root: PathBuf,
    /// Only the cases whose name this matches.
    pub filter: Option<Regex>,
    pub format: Format,
    pub options: Options,
}

error_enum! {
    pub enum TestCommandError {
        Collect(CollectError),
        Format(Unsupported),
        #[error("no test case matches --filter `{0}`")]
        NoMatch(String),
    }
}

/// Run the tests `plan` names and render them: failing when a case fails,
/// a test file or policy is invalid, or coverage is below the minimum. A
/// filter that matches no case is an error.
pub fn output(plan: &Plan) -> Result<Output, TestCommandError> {
    let inputs: Vec<PathBuf> = match plan.inputs.is_empty() {
        true => vec![plan.policies_dir.clone()],
        false => plan.inputs.iter().map(|path| as_test_input(path)).collect(),
    };
    let mut run = suite::run_matching(&inputs, &plan.root, plan.filter.as_ref())?;
    if let Some(filter) = &plan.filter
        && run.problems.is_empty()
        && run.suites.iter().all(|s| s.cases.is_empty())
    {
        return Err(TestCommandError::NoMatch(filter.as_str().to_owned()));
    }
    run.problems = unreadable_in_brief(std::mem::take(&mut run.problems));
    let stdout = render(&run, plan.format, &plan.options)?;
    let below = plan
        .options
        .min_coverage
        .is_some_and(|minimum| below_minimum(&run, minimum));
    Ok(Output {
        stdout,
        stderr: String::new(),
        failed: run.failed() > 0 || below,
    })
}

/// A policy file given on the command line stands for its test file.
fn as_test_input(path: &Path) -> PathBuf {
    let is_policy = path.is_file() && !path.to_string_lossy().ends_with(TEST_SUFFIX);
    match suite::test_path(path) {
        Some(test) if is_policy => test,
        _ => path.to_path_buf(),
    }
}

/// Render in `format`, one of [`FORMATS`].
pub fn render(run: &TestRun, format: Format, options: &Options) -> Result<String, Unsupported> {
    Ok(match format {
        Format::Text => text(run, options),
        Format::Json => json(run, options),
        Format::Junit => junit(run),
        Format::Sarif | Format::Github | Format::Markdown => {
            return Err(Unsupported {
                format,
                output: "a test run",
            });
        }
    })
}

fn cases(run: &TestRun) -> impl Iterator<Item = &CaseResult> {
    run.suites.iter().flat_map(|s| &s.cases)
}

fn text(run: &TestRun, options: &Options) -> String {
    let mut out = String::new();
    for case in cases(run).filter(|c| options.verbose || !c.passed()) {
        let at = &case.location;
        let position = format!("{}:{}:{}", at.path().display(), at.line, at.column);
        if case.passed() {
            let _ = writeln!(out, "ok   {position} {} ({})", case.name, case.expected);
        } else {
            let _ = writeln!(
                out,
                "FAIL {position} {}\n  expected {}, got {}: {}",
                case.name, case.expected, case.decision.verdict, case.decision
            );
        }
    }
    if !run.problems.is_empty() {
        let report = Report::new(run.problems.clone(), run.files);
        out.push_str(&report.render_brief(options.color));
    }
    let _ = writeln!(out, "{} passed, {} failed", run.passed(), run.failed());
    if options.coverage || options.min_coverage.is_some() {
        coverage_text(run, options, &mut out);
    }
    out
}

fn coverage_text(run: &TestRun, options: &Options, out: &mut String) {
    for coverage in run.suites.iter().map(|s| &s.coverage) {
        let (covered, total) = (coverage.covered(), coverage.total());
        let _ = writeln!(
            out,
            "coverage {}: {covered}/{total} rules ({:.1}%)",
            coverage.policy.display(),
            coverage::percent(covered, total)
        );
        for rule in coverage.rules.iter().filter(|r| !r.covered()) {
            let at = &rule.location;
            let what = match rule.kind {
                RuleKind::DefaultDeny | RuleKind::EgressDenied => rule.text.clone(),
                kind => format!("{} `{}`", kind.describe(), rule.text),
            };
            let _ = writeln!(
                out,
                "  not exercised: {}:{}:{} {what}",
                at.path().display(),
                at.line,
                at.column,
            );
        }
    }
    let (covered, total) = coverage_totals(run);
    let percent = coverage::percent(covered, total);
    let _ = writeln!(out, "coverage: {covered}/{total} rules ({percent:.1}%)");
    if let Some(minimum) = options.min_coverage
        && percent < minimum
    {
        let _ = writeln!(
            out,
            "coverage {percent:.1}% is below --min-coverage {minimum}"
        );
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    envelope: Envelope,
    summary: Summary,
    cases: Vec<JsonCase<'a>>,
    /// Test files or policies that could not be run, as `wpc-findings`
    /// findings.
    problems: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<JsonCoverage<'a>>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    passed: usize,
    failed: usize,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    name: &'a str,
    file: String,
    line: usize,
    column: usize,
    policy: String,
    passed: bool,
    expected: Verdict,
    verdict: Verdict,
    explanation: String,
}

#[derive(Serialize)]
struct JsonCoverage<'a> {
    covered: usize,
    total: usize,
    percent: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum: Option<f64>,
    policies: Vec<JsonPolicyCoverage<'a>>,
}

#[derive(Serialize)]
struct JsonPolicyCoverage<'a> {
    policy: String,
    covered: usize,
    total: usize,
    percent: f64,
    rules: Vec<JsonRule<'a>>,
}

#[derive(Serialize)]
struct JsonRule<'a> {
    kind: RuleKind,
    pointer: &'a str,
    text: &'a str,
    line: usize,
    column: usize,
    cases: usize,
}

fn json(run: &TestRun, options: &Options) -> String {
    let cases = run
        .suites
        .iter()
        .flat_map(|suite| suite.cases.iter().map(move |case| (suite, case)))
        .map(|(suite, case)| JsonCase {
            name: &case.name,
            file: case.location.path().display().to_string(),
            line: case.location.line,
            column: case.location.column,
            policy: suite.policy.display().to_string(),
            passed: case.passed(),
            expected: case.expected,
            verdict: case.decision.verdict,
            explanation: case.decision.to_string(),
        })
        .collect();
    let findings = Report::new(run.problems.clone(), run.files).json();
    let problems = serde_json::from_str::<Value>(&findings)
        .ok()
        .and_then(|mut doc| doc.get_mut("findings").map(Value::take))
        .unwrap_or_else(|| Value::Array(Vec::new()));
    let coverage = (options.coverage || options.min_coverage.is_some()).then(|| {
        let (covered, total) = coverage_totals(run);
        JsonCoverage {
            covered,
            total,
            percent: rounded(coverage::percent(covered, total)),
            minimum: options.min_coverage,
            policies: run
                .suites
                .iter()
                .map(|s| policy_coverage(&s.coverage))
                .collect(),
        }
    });
    let report = JsonReport {
        envelope: ENVELOPE,
        summary: Summary {
            files: run.files,
            passed: run.passed(),
            failed: run.failed(),
        },
        cases,
        problems,
        coverage,
    };
    // Plain structs of strings and numbers: serializing cannot fail.
    let mut out = serde_json::to_string_pretty(&report).unwrap_or_default();
    out.push('\n');
    out
}

fn policy_coverage(coverage: &Coverage) -> JsonPolicyCoverage<'_> {
    let (covered, total) = (coverage.covered(), coverage.total());
    JsonPolicyCoverage {
        policy: coverage.policy.display().to_string(),
        covered,
        total,
        percent: rounded(coverage::percent(covered, total)),
        rules: coverage
            .rules
            .iter()
            .map(|rule| JsonRule {
                kind: rule.kind,
                pointer: &rule.pointer,
                text: &rule.text,
                line: rule.location.line,
                column: rule.location.column,
                cases: rule.cases,
            })
            .collect(),
    }
}

/// One decimal, as the text shows it.
fn rounded(percent: f64) -> f64 {
    (percent * 10.0).round() / 10.0
}

fn junit(run: &TestRun) -> String {
    let mut report = Junit::new("wpc test");
    for suite in &run.suites {
        let mut junit_suite = TestSuite::new(suite.file.display().to_string());
        for case in &suite.cases {
            let status = if case.passed() {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!(
                    "expected {}, got {}",
                    case.expected, case.decision.verdict
                ));
                status.set_type("VerdictMismatch");
                status.set_description(case.decision.to_string());
                status
            };
            let mut junit_case = TestCase::new(case.name.as_str(), status);
            junit_case.set_classname(suite.policy.display().to_string());
            junit_suite.add_test_case(junit_case);
        }
        report.add_test_suite(junit_suite);
    }
    if !run.problems.is_empty() {
        // A file that could not be run is an error, not a silent skip.
        let mut broken = TestSuite::new("test files that could not be run");
        for problem in &run.problems {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(problem.message.as_str());
            status.set_type(problem.code);
            let mut junit_case = TestCase::new(problem.position(), status);
            junit_case.set_classname(problem.code);
            broken.add_test_case(junit_case);
        }
        report.add_test_suite(broken);
    }
    report.to_string().unwrap_or_default()
}
