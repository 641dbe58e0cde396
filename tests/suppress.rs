//! Suppressions (`# wpc:ignore CODE -- reason`) and the baseline
//! (`--baseline`, `--write-baseline`) of `wpc check` and `wpc ci`, end to end.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;

use support::{root, run, stderr, stdout};

const CONFIG: &str = "[lint.rules]\nWPC018 = \"off\"\n";

/// A policy whose only finding is WPC007 on `exec` (line 6), with `extra`
/// after the allow list's comment and `head` before everything.
fn policy(head: &str, allow_comment: &str, sandbox: &str) -> String {
    format!(
        r#"{head}wpc_version = "1"
policy_name = "agent"
purpose = "test"

[constraints.tool_policy]
allow = ["read", "exec"]{allow_comment}
deny = ["shell"]

[constraints.sandbox]
required = true
workspaceAccess = "ro"
elevated_exec = "{sandbox}"

[constraints.model_calls]
route_via = "clawproxy"
receipts_required = true

[binding]
cst_scope_hash_required = true
"#
    )
}

fn repo(policy_text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wpc.toml"), CONFIG).unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    write_policy(dir.path(), policy_text);
    dir
}

fn write_policy(dir: &Path, text: &str) {
    std::fs::write(dir.join("policies/agent.toml"), text).unwrap();
}

fn parse_json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

fn schema_errors(schema: &str, value: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join(schema)).unwrap()).unwrap();
    jsonschema::validator_for(&schema)
        .unwrap()
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn unsuppressed_the_finding_fails() {
    let dir = repo(&policy("", "", "deny"));
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("error[WPC007]"));
}

#[test]
fn a_suppression_with_a_reason_passes_and_is_counted() {
    let dir = repo(&policy(
        "",
        " # wpc:ignore WPC007 -- exec runs in a throwaway VM",
        "deny",
    ));
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    insta::assert_snapshot!("suppressed_text", stdout(&out));

    let out = run(dir.path(), &["check", "-v"]);
    insta::assert_snapshot!("suppressed_text_verbose", stdout(&out));

    let out = run(dir.path(), &["check", "--format", "json"]);
    let json = parse_json(&out);
    assert!(schema_errors("schema/wpc-findings.v1.schema.json", &json).is_empty());
    assert_eq!(json["summary"]["suppressed"], 1);
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
    let suppressed = &json["suppressed"][0];
    assert_eq!(suppressed["code"], "WPC007");
    assert_eq!(suppressed["state"], "suppressed");
    assert_eq!(suppressed["suppression"]["kind"], "in_source");
    assert_eq!(
        suppressed["suppression"]["reason"],
        "exec runs in a throwaway VM"
    );

    let out = run(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let sarif = parse_json(&out);
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "WPC007");
    assert_eq!(
        result["suppressions"],
        serde_json::json!([{"kind": "inSource", "justification": "exec runs in a throwaway VM"}])
    );

    // Not even as a warning: --fail-on warning passes too.
    let out = run(dir.path(), &["check", "--fail-on", "warning"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn a_suppression_on_the_line_above_applies_to_the_next_line() {
    let text = policy("", "", "deny").replace(
        "allow = [",
        "# wpc:ignore dangerous-tool-ungated -- reviewed in #42\nallow = [",
    );
    let dir = repo(&text);
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).ends_with("no findings, 1 suppressed\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_suppression_without_a_reason_is_a_finding() {
    let dir = repo(&policy("", " # wpc:ignore WPC007", "deny"));
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    insta::assert_snapshot!("reasonless_text", stdout(&out));
}

#[test]
fn a_stale_suppression_is_a_finding() {
    let text = policy("", "", "deny").replace(
        "deny = [\"shell\"]",
        "deny = [\"shell\"] # wpc:ignore WPC007, WPC06 -- was allowed once",
    );
    let dir = repo(&text);
    let out = run(dir.path(), &["check"]);
    // The WPC007 finding on line 6 is still there; line 7 has none.
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    insta::assert_snapshot!("stale_text", stdout(&out));
}

#[test]
fn the_built_in_checks_cannot_be_suppressed() {
    let text = policy("", "", "deny").replace(
        "purpose = \"test\"",
        "purpose = 1 # wpc:ignore WPC002 -- no",
    );
    let dir = repo(&text);
    let out = run(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // The document failed its schema, so no rule ran and its suppressions
    // are not judged: only the schema error is reported.
    assert!(stdout(&out).contains("error[WPC002]"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("suppressed"), "{}", stdout(&out));

    let text = policy("", " # wpc:ignore WPC001, WPC027 -- no", "deny");
    let dir = repo(&text);
    let out = run(dir.path(), &["check", "--format", "json"]);
    let messages: Vec<String> = parse_json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["code"], f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        messages,
        [
            "\"WPC007\" allow `exec` lets the agent use dangerous tool `exec` with no approval gate",
            "\"WPC028\" `WPC001` cannot be suppressed: a document failing this check is not checked further",
            "\"WPC028\" `WPC027` cannot be suppressed: it reports on suppressions themselves",
        ]
    );
}

#[test]
fn a_baseline_accepts_known_findings_and_fails_only_new_ones() {
    let dir = repo(&policy("", "", "deny"));
    let baseline = dir.path().join("wpc-baseline.json");

    let out = run(
        dir.path(),
        &["check", "--write-baseline", "wpc-baseline.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stderr(&out),
        "wrote 1 findings to the baseline wpc-baseline.json\n"
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
    assert!(schema_errors("schema/wpc-baseline.v1.schema.json", &written).is_empty());
    assert_eq!(written["format"], "wpc-baseline");
    assert_eq!(written["findings"][0]["code"], "WPC007");
    assert_eq!(written["findings"][0]["file"], "policies/agent.toml");

    // The fingerprint is SARIF's.
    let sarif = parse_json(&run(dir.path(), &["check", "--format", "sarif"]));
    assert_eq!(
        sarif["runs"][0]["results"][0]["partialFingerprints"]["wpcFinding/v1"],
        written["findings"][0]["fingerprint"]
    );

    let out = run(dir.path(), &["check", "--baseline", "wpc-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("no findings, 1 suppressed\n"));

    // Lines moved above the finding: still recognised.
    write_policy(
        dir.path(),
        &policy("# a header\n# that moves every line\n\n", "", "deny"),
    );
    let out = run(dir.path(), &["check", "--baseline", "wpc-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // A new finding fails, and only it is reported.
    write_policy(dir.path(), &policy("# a header\n\n", "", "allow"));
    let out = run(dir.path(), &["check", "--baseline", "wpc-baseline.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    insta::assert_snapshot!("baseline_new_finding_text", stdout(&out));

    let out = run(
        dir.path(),
        &[
            "check",
            "--baseline",
            "wpc-baseline.json",
            "--format",
            "sarif",
        ],
    );
    let results = parse_json(&out)["runs"][0]["results"].clone();
    let suppressions: Vec<_> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ruleId"].clone(), r["suppressions"].clone()))
        .collect();
    assert_eq!(
        suppressions,
        [
            (
                serde_json::json!("WPC007"),
                serde_json::json!([{"kind": "external", "justification": "accepted in the baseline file"}])
            ),
            (serde_json::json!("WPC010"), serde_json::Value::Null),
        ]
    );
}

#[test]
fn baseline_entries_no_longer_found_are_reported() {
    let dir = repo(&policy("", "", "deny"));
    run(dir.path(), &["check", "--write-baseline", "b.json"]);
    write_policy(
        dir.path(),
        &policy("", "", "deny").replace("\"read\", \"exec\"", "\"read\""),
    );
    let out = run(dir.path(), &["check", "--baseline", "b.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).ends_with(
            "no findings; 1 baseline entry no longer found (`--write-baseline` drops it)\n"
        ),
        "{}",
        stdout(&out)
    );
    let out = run(dir.path(), &["check", "--baseline", "b.json", "-v"]);
    assert!(
        stdout(&out).contains("stale baseline entry WPC007 policies/agent.toml: allow `exec`"),
        "{}",
        stdout(&out)
    );
    let out = run(
        dir.path(),
        &["check", "--baseline", "b.json", "--format", "json"],
    );
    let json = parse_json(&out);
    assert!(schema_errors("schema/wpc-findings.v1.schema.json", &json).is_empty());
    assert_eq!(json["summary"]["stale_baseline"], 1);
    assert_eq!(json["stale_baseline"][0]["code"], "WPC007");
}

#[test]
fn a_bad_baseline_is_an_error() {
    let dir = repo(&policy("", "", "deny"));
    let cases = [
        ("{", "not a wpc baseline"),
        (
            r#"{"format":"wpc-findings/1","version":1,"findings":[]}"#,
            "expected `wpc-baseline` version 1",
        ),
        (
            r#"{"format":"wpc-baseline","version":1,"findings":[],"extra":1}"#,
            "unknown field `extra`",
        ),
        (
            r#"{"format":"wpc-baseline","version":1,"findings":[{"fingerprint":"x","code":"WPC007","message":"m"}]}"#,
            "`x` is not a finding fingerprint",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(dir.path().join("b.json"), text).unwrap();
        let out = run(dir.path(), &["check", "--baseline", "b.json"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(stderr(&out).contains(expected), "{text}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "no partial output");
    }
    let out = run(dir.path(), &["check", "--baseline", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(
        dir.path(),
        &[
            "check",
            "--baseline",
            "b.json",
            "--write-baseline",
            "c.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "the two flags conflict");
}

#[test]
fn ci_takes_a_baseline_for_check_findings() {
    let dir = repo(&policy("", "", "deny"));
    let out = run(dir.path(), &["ci"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    let out = run(dir.path(), &["ci", "--write-baseline", "b.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run(
        dir.path(),
        &["ci", "--baseline", "b.json", "--sarif", "out.sarif"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("check    passed   2 passed, 0 failed, 1 findings suppressed"),
        "{}",
        stdout(&out)
    );
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.sarif")).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["suppressions"][0]["kind"],
        "external"
    );

    // The same fingerprints as `wpc check`'s.
    let out = run(dir.path(), &["check", "--baseline", "b.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    write_policy(
        dir.path(),
        &policy("", "", "deny").replace("\"read\", \"exec\"", "\"read\""),
    );
    let out = run(dir.path(), &["ci", "--baseline", "b.json", "-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("stale baseline entry WPC007 policies/agent.toml"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("baseline: 1 entry no longer found"),
        "{}",
        stdout(&out)
    );
}
