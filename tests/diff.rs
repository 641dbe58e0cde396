//! End-to-end tests of `wpc diff` on real Git repositories built in
//! temporary folders: bare and not, renames, every output format, exit codes.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use support::{TestRepo, example, example_repo, run as wpc, stderr, stdout};

const REVIEWER: &str = "policies/agent-change-reviewer.toml";

/// A repository with the example policies at its first commit.
fn repo(bare: bool) -> (TestRepo, String) {
    let mut repo = TestRepo::new(bare);
    let files = example_repo();
    let changes: Vec<(&str, Option<&str>)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), Some(t.as_str())))
        .collect();
    let base = repo.commit(&changes);
    (repo, base)
}

fn edited(path: &str, from: &str, to: &str) -> String {
    let text = example(path);
    assert!(text.contains(from), "{from}");
    text.replace(from, to)
}

#[test]
fn a_widening_change_in_a_bare_repository_exits_1_in_every_format() {
    let (mut repo, base) = repo(true);
    let widened = edited(
        REVIEWER,
        r#"allow = ["read", "search", "repo.diff", "repo.comment"]"#,
        r#"allow = ["read", "search", "repo.*", "process"]"#,
    )
    .replace("max_ttl_seconds = 1800", "max_ttl_seconds = 600");
    let head = repo.commit(&[(REVIEWER, Some(&widened))]);
    let dir = repo.path();

    let out = wpc(dir, &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!("widening_text", stdout(&out));

    let out = wpc(dir, &["diff", &base, &head, "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("widening_markdown", stdout(&out));

    let out = wpc(dir, &["diff", &base, &head, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(support::root().join("schema/wpc-diff.v1.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["format"], "wpc-diff");
    assert_eq!(json["version"], 1);
    assert_eq!(json["config"], serde_json::json!([]));
    assert_eq!(json["widens"], true);
    let policy = &json["policies"][0];
    assert_eq!(policy["name"], "agent-change-reviewer");
    assert_eq!(policy["severity"], "critical");
    assert_ne!(policy["old"]["hash"], policy["new"]["hash"]);
    assert_eq!(policy["old"]["hash"].as_str().unwrap().len(), 43);
    assert_eq!(json["approvals"][0]["class"], "critical");
    assert_eq!(json["approvals"][0]["min"], 2);
}

#[test]
fn a_narrowing_change_exits_0() {
    let (mut repo, base) = repo(true);
    let narrowed = edited(
        REVIEWER,
        r#""repo.comment"]"#,
        r#""repo.comment"]
"#,
    )
    .replace(r#"deny = ["exec","#, r#"deny = ["search", "exec","#);
    let head = repo.commit(&[(REVIEWER, Some(&narrowed))]);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("low       narrowing  denies `search` (was allowed by `search`)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_moved_file_is_the_same_policy_and_new_and_removed_policies_are_named() {
    let (mut repo, base) = repo(true);
    let moved = example("policies/deployer.toml");
    let fresh = example("policies/data-analyst.toml").replace(
        r#"policy_name = "data-analyst""#,
        r#"policy_name = "night-shift""#,
    );
    let head = repo.commit(&[
        ("policies/deployer.toml", None),
        ("policies/ops/deployer.toml", Some(&moved)),
        ("policies/read-only-researcher.toml", None),
        ("policies/night-shift.toml", Some(&fresh)),
    ]);
    let out = wpc(repo.path(), &["diff", &base, &head, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["policies"][1]["old"].is_null() && json["policies"][2]["new"].is_null());
    let summary: Vec<(String, String, String)> = json["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["changes"][0]["class"].as_str().unwrap().to_owned(),
                p["changes"][0]["explanation"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(summary.len(), 3, "{summary:#?}");
    assert_eq!(summary[0].0, "deployer");
    assert_eq!(
        summary[0].2,
        "moved from `policies/deployer.toml` to `policies/ops/deployer.toml`"
    );
    assert_eq!(
        json["policies"][0]["old"]["hash"],
        json["policies"][0]["new"]["hash"]
    );
    assert_eq!(
        (summary[1].0.as_str(), summary[1].1.as_str()),
        ("night-shift", "new")
    );
    assert_eq!(
        (summary[2].0.as_str(), summary[2].1.as_str()),
        ("read-only-researcher", "removed")
    );
}

#[test]
fn the_work_tree_is_never_read() {
    let (mut repo, base) = repo(false);
    let head = repo.commit(&[(
        REVIEWER,
        Some(&edited(
            REVIEWER,
            "max_ttl_seconds = 1800",
            "max_ttl_seconds = 900",
        )),
    )]);
    // An uncommitted, broken and widening work tree changes nothing.
    let policies = repo.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("agent-change-reviewer.toml"), "broken = [").unwrap();
    std::fs::write(repo.path().join("wpc.toml"), "nonsense = 1").unwrap();
    let out = wpc(&policies, &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("token TTL 900 s (was 1800 s)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_policy_root_is_found_below_the_repository_root() {
    let mut repo = TestRepo::new(false);
    let files: Vec<(String, String)> = example_repo()
        .into_iter()
        .map(|(p, t)| (format!("policy-repo/{p}"), t))
        .collect();
    let changes: Vec<(&str, Option<&str>)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), Some(t.as_str())))
        .collect();
    let base = repo.commit(&changes);
    let path = format!("policy-repo/{REVIEWER}");
    let head = repo.commit(&[(
        &path,
        Some(&edited(
            REVIEWER,
            r#"workspaceAccess = "ro""#,
            r#"workspaceAccess = "rw""#,
        )),
    )]);
    let inside = repo.path().join("policy-repo/policies");
    std::fs::create_dir_all(&inside).unwrap();
    let out = wpc(&inside, &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("workspace access `rw` (was `ro`)"));
    // From the repository root the folder must be named.
    let out = wpc(
        repo.path(),
        &["diff", &base, &head, "--root", "policy-repo"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn errors_exit_2_and_print_no_diff() {
    let (mut repo, base) = repo(true);
    let head = repo.commit(&[(REVIEWER, Some("wpc_version = \"1\"\nbroken = [\n"))]);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains(REVIEWER), "{}", stderr(&out));

    let out = wpc(repo.path(), &["diff", "no-such-rev", &head]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("revision `no-such-rev` does not name a commit"));

    let elsewhere = tempfile::tempdir().unwrap();
    let out = wpc(elsewhere.path(), &["diff", "HEAD~1", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not in a Git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_policy_broken_at_the_base_is_diffed_as_new() {
    let mut repo = TestRepo::new(true);
    repo.commit(&[("wpc.toml", Some(&example("wpc.toml")))]);
    let base = repo.commit(&[(REVIEWER, Some("broken = ["))]);
    let head = repo.commit(&[(REVIEWER, Some(&example(REVIEWER)))]);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("new policy allowing"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn moving_the_policies_folder_cannot_hide_a_widening() {
    let (mut repo, base) = repo(true);
    let config = example("wpc.toml").replace(r#"dir = "policies""#, r#"dir = "elsewhere""#);
    let mut changes: Vec<(String, Option<String>)> = vec![("wpc.toml".into(), Some(config))];
    for (path, text) in example_repo().into_iter().skip(1) {
        let moved = path.replace("policies/", "elsewhere/");
        let text = text.replace(r#"elevated_exec = "deny""#, r#"elevated_exec = "allow""#);
        changes.push((path, None));
        changes.push((moved, Some(text)));
    }
    let changes: Vec<(&str, Option<&str>)> = changes
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_deref()))
        .collect();
    let head = repo.commit(&changes);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.matches("elevated exec allowed (was denied)").count(),
        4,
        "{text}"
    );
    assert_eq!(text.matches("moved from `policies/").count(), 4, "{text}");
}

#[test]
fn a_name_used_twice_is_an_error() {
    let (mut repo, base) = repo(true);
    let copy = example(REVIEWER).replace("max_ttl_seconds = 1800", "max_ttl_seconds = 60");
    let head = repo.commit(&[("policies/copy.toml", Some(&copy))]);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("policy name `agent-change-reviewer` is also used by"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_oversized_policy_is_refused_before_it_is_read() {
    let (mut repo, base) = repo(true);
    let huge = format!("{}\n# {}\n", example(REVIEWER), "x".repeat(1024 * 1024));
    let head = repo.commit(&[(REVIEWER, Some(&huge))]);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    // A located finding on the file, as for any unreadable policy.
    let said = stderr(&out);
    assert!(
        said.contains(REVIEWER)
            && said.contains(&format!("at {}; at most 1048576 are read", &head[..12])),
        "{said}"
    );
}

#[test]
fn loosening_the_approval_rules_is_a_critical_change_held_to_the_old_rules() {
    let (mut repo, base) = repo(true);
    let config = example("wpc.toml").replace(
        r#"widening = { teams = ["acme/security"], min = 1 }"#,
        r#"widening = { users = ["mallory"], min = 1 }"#,
    );
    let head = repo.commit(&[("wpc.toml", Some(&config))]);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "wpc diff {}..{}: no policy changed; wpc.toml changed\n\n\
             wpc.toml\n  critical  widening   `[approvals]` changed in `wpc.toml`  [wpc.toml:approvals]\n\n\
             approvals required:\n  critical: 2 approvals from acme/security or acme/platform (for wpc.toml)\n",
            &base[..12],
            &head[..12]
        )
    );
}

#[test]
fn a_change_to_the_trusted_signers_alone_is_critical_and_needs_approvals() {
    let (mut repo, base) = repo(false);
    let did = "did:key:z6Mkjp44ExP1yRoq8FZTWy4deGGHuhwhrpYpYM1qMYmZkccn";
    let signers = format!("[[release_signer]]\ndid = \"{did}\"\nname = \"new\"\n");
    let head = repo.commit(&[("keys/trusted-signers.toml", Some(&signers))]);
    let out = wpc(repo.path(), &["diff", &base, &head]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("trust root `keys/trusted-signers.toml` changed")
            && text.contains(&format!("adds release signer {did}")),
        "{text}"
    );
    let out = wpc(repo.path(), &["diff", &base, &head, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["widens"], true);
    assert_eq!(json["config"][0]["severity"], "critical");
    assert_eq!(json["approvals"][0]["class"], "critical");
}
