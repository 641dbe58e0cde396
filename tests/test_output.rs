//! End-to-end tests of `wpc test`'s output for people and CI tools: -v,
//! --filter, --format json|junit, --coverage and --min-coverage.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use crate::support;

use support::{root, run, stdout};

/// Allows `read` and `orders.*`, denies `exec`, gates refunds; one
/// provider, one model pattern, one egress host.
fn policy() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/shop.toml")).unwrap()
}

const TESTS: &str = r#"[[case]]
name = "reads"
tool = "read"
expect = "allow"

[[case]]
name = "lists orders"
tool = "orders.list"
target = "api.shop.example"
expect = "allow"

[[case]]
name = "refunds are free (wrong)"
tool = "orders.refund"
expect = "allow"
"#;

/// A repository with one policy, its three cases (one failing), and no
/// case for `exec`, the default deny, the model rules or egress denial.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(policies.join("shop.toml"), policy()).unwrap();
    std::fs::write(policies.join("shop.test.toml"), TESTS).unwrap();
    dir
}

fn shown(output: &Output) -> String {
    let mut text = format!(
        "exit {}\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout)
    );
    if !output.stderr.is_empty() {
        text.push_str(&format!(
            "--- stderr\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    text
}

fn json(dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = run(dir, &[&["test", "--format", "json"], args].concat());
    let value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code(), value)
}

fn schema_errors(value: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("schema/wpc-test-report.v1.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn test_text_shows_only_failures_by_default() {
    let dir = repo();
    let out = run(dir.path(), &["test"]);
    insta::assert_snapshot!(shown(&out));
}

#[test]
fn test_text_verbose_with_coverage() {
    let dir = repo();
    let out = run(dir.path(), &["test", "-v", "--coverage"]);
    insta::assert_snapshot!(shown(&out));
}

#[test]
fn test_json_matches_its_schema_and_counts_each_rule() {
    let dir = repo();
    let (code, report) = json(dir.path(), &["--coverage"]);
    assert_eq!(code, Some(1));
    assert!(
        schema_errors(&report).is_empty(),
        "{:?}",
        schema_errors(&report)
    );
    assert_eq!(report["format"], "wpc-test-report");
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["passed"], 2);
    assert_eq!(report["summary"]["failed"], 1);
    let failing = &report["cases"][2];
    assert_eq!(failing["passed"], false);
    assert_eq!(failing["verdict"], "approval");
    assert_eq!(failing["line"], 12);
    // Computed by hand from tests/fixtures/shop.toml and TESTS: read x1, orders.* x2, the gate
    // x1, the allowlist entry x1; exec, the default deny, the provider, the
    // model and the egress denial x0.
    let rules = report["coverage"]["policies"][0]["rules"]
        .as_array()
        .unwrap();
    let counts: Vec<(&str, u64)> = rules
        .iter()
        .map(|r| (r["pointer"].as_str().unwrap(), r["cases"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        counts,
        [
            ("/constraints/tool_policy/allow/0", 1),
            ("/constraints/tool_policy/allow/1", 2),
            ("/constraints/tool_policy/deny/0", 0),
            ("/constraints/tool_policy", 0),
            ("/constraints/approvals/0/when", 1),
            ("/constraints/model_calls/allowed_providers/0", 0),
            ("/constraints/model_calls/allowed_models/0", 0),
            ("/constraints/egress/allowlist/0", 1),
            ("/constraints/sandbox/network", 0),
        ]
    );
    assert_eq!(rules[2]["line"], 7);
    assert_eq!(report["coverage"]["covered"], 4);
    assert_eq!(report["coverage"]["total"], 9);
    assert_eq!(report["coverage"]["percent"], 44.4);
}

#[test]
fn test_json_without_coverage_has_no_coverage_and_lists_problems() {
    let dir = repo();
    std::fs::write(
        dir.path().join("policies/orphan.test.toml"),
        "[[case]]\nname = \"x\"\ntool = \"read\"\nexpect = \"deny\"\n",
    )
    .unwrap();
    let (code, report) = json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert!(
        schema_errors(&report).is_empty(),
        "{:?}",
        schema_errors(&report)
    );
    assert!(report.get("coverage").is_none());
    assert_eq!(report["summary"]["failed"], 2);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("no policy"),
        "{problems:?}"
    );
}

#[test]
fn test_junit_has_a_case_per_case_and_an_error_per_broken_file() {
    let dir = repo();
    std::fs::write(
        dir.path().join("policies/orphan.test.toml"),
        "[[case]]\nname = \"x\"\ntool = \"read\"\nexpect = \"deny\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["test", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<error ").count(), 1, "{xml}");
    assert!(
        xml.contains("message=\"expected allow, got approval\""),
        "{xml}"
    );
    assert!(xml.contains("name=\"refunds are free (wrong)\""), "{xml}");
}

#[test]
fn test_filter_runs_only_matching_cases_and_coverage_follows() {
    let dir = repo();
    let (code, report) = json(dir.path(), &["--filter", "^(reads|lists)", "--coverage"]);
    assert_eq!(code, Some(0));
    let names: Vec<&str> = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["reads", "lists orders"]);
    // The gate only fires for the filtered-out refund case.
    assert_eq!(report["coverage"]["covered"], 3);

    let none = run(dir.path(), &["test", "--filter", "nothing-like-this"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(support::stderr(&none).contains("no test case matches --filter"));
    let bad = run(dir.path(), &["test", "--filter", "("]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(support::stderr(&bad).contains("--filter is not a valid regular expression"));
}

#[test]
fn test_min_coverage_fails_below_the_threshold_only() {
    let dir = repo();
    let tests = dir.path().join("policies/shop.test.toml");
    // Make every case pass, so only coverage decides the exit status.
    std::fs::write(
        &tests,
        TESTS.replace(
            "tool = \"orders.refund\"\nexpect = \"allow\"",
            "tool = \"orders.refund\"\nexpect = \"approval\"",
        ),
    )
    .unwrap();
    // 4 of 9 rules: 44.4%.
    let at = run(dir.path(), &["test", "--min-coverage", "44"]);
    assert_eq!(at.status.code(), Some(0), "{}", shown(&at));
    let above = run(dir.path(), &["test", "--min-coverage", "45"]);
    assert_eq!(above.status.code(), Some(1));
    assert!(
        stdout(&above).contains("coverage 44.4% is below --min-coverage 45"),
        "{}",
        shown(&above)
    );
    let (code, report) = json(dir.path(), &["--min-coverage", "45"]);
    assert_eq!(code, Some(1));
    assert_eq!(report["coverage"]["minimum"], 45.0);
    for bad in ["101", "-1", "half", "NaN"] {
        let out = run(dir.path(), &["test", "--min-coverage", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn test_coverage_of_the_example_repository_is_reported_per_policy() {
    let out = run(&root(), &["test", "examples/repo", "--coverage"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for policy in [
        "agent-change-reviewer",
        "data-analyst",
        "deployer",
        "read-only-researcher",
    ] {
        assert!(
            text.contains(&format!("coverage examples/repo/policies/{policy}.toml: ")),
            "{text}"
        );
    }
}
