//! End-to-end tests of `wpc replay` and `wpc diff --replay`: bundles made by
//! the test kit under one policy version, replayed under another, with the
//! changed decisions computed here by hand from the kit's recorded calls.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;
use wpc::bundle::kit::{self, Shape};

use crate::support;

use support::{git, run, stdout};

/// tests/fixtures/shop.toml: allows `read` and `orders.*`, denies `exec`,
/// gates refunds, allows `claude-*` models and one egress host.
fn base() -> String {
    std::fs::read_to_string(support::root().join("tests/fixtures/shop.toml")).unwrap()
}

/// Narrows orders, gates every order tool, allows `exec.safe`, moves to
/// another model family.
fn head() -> String {
    base()
        .replace(
            r#"allow = ["read", "orders.*"]"#,
            r#"allow = ["read", "orders.list", "exec.safe"]"#,
        )
        .replace(
            "when = \"tool == 'orders.refund'\"",
            "when = \"tool.startsWith('orders.')\"",
        )
        .replace(
            r#"allowed_models = ["claude-*"]"#,
            r#"allowed_models = ["gpt-*"]"#,
        )
}

/// The verdict of each recorded tool under each version, worked out by
/// reading the two policies above (not by asking wpc).
const TOOLS: [(&str, &str, &str); 4] = [
    ("read", "allow", "allow"),
    ("orders.list", "allow", "approval"),
    ("orders.refund", "approval", "deny"),
    ("exec.safe", "deny", "allow"),
];
/// The kit's model calls (anthropic / claude-test): allowed at base
/// (`claude-*`), denied at head (`gpt-*`). Its side effects are
/// `network_egress`, allowed under both (an allowlist).
const MODEL: (&str, &str) = ("allow", "deny");

fn hash(dir: &Path, policy: &str) -> String {
    let out = run(dir, &["hash", policy]);
    assert_eq!(out.status.code(), Some(0));
    stdout(&out).trim().to_owned()
}

fn shape(seq: u64, tools: &[&str], policy_hash: &str) -> Shape {
    Shape {
        seq,
        receipts: 1,
        tools: tools.iter().map(|t| (*t).to_owned()).collect(),
        policy_hash: Some(policy_hash.to_owned()),
        ..Shape::default()
    }
}

/// A repository whose working policy is the base, with two genuine bundles run
/// under it, a tampered one and a replayed copy of the first.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("policies")).unwrap();
    std::fs::create_dir_all(root.join("proofs")).unwrap();
    std::fs::write(
        root.join("wpc.toml"),
        format!(
            "[policies]\ndir = \"policies\"\n\n[bundles]\ngateway_signers = [\"{}\"]\n",
            kit::gateway_key().did().as_str()
        ),
    )
    .unwrap();
    std::fs::write(root.join("policies/shop.toml"), base()).unwrap();
    std::fs::write(root.join("head.toml"), head()).unwrap();
    let base_hash = hash(root, "policies/shop.toml");
    let first = kit::bundle_bytes(&shape(1, &["read", "orders.list"], &base_hash)).unwrap();
    std::fs::write(root.join("proofs/1.json"), &first).unwrap();
    // A run that broke its policy (exec.safe is denied at base) still counts.
    let second = shape(2, &["orders.refund", "exec.safe"], &base_hash);
    std::fs::write(
        root.join("proofs/2.json"),
        kit::bundle_bytes(&second).unwrap(),
    )
    .unwrap();
    // Someone edits a recorded tool after signing: the signature breaks.
    let mut tampered: Value =
        serde_json::from_slice(&kit::bundle_bytes(&shape(3, &["read"], &base_hash)).unwrap())
            .unwrap();
    tampered["payload"]["tool_receipts"][0]["tool_name"] = Value::from("exec.safe");
    std::fs::write(
        root.join("proofs/3-tampered.json"),
        serde_json::to_vec(&tampered).unwrap(),
    )
    .unwrap();
    // The first bundle again under another name: its receipts are reused.
    std::fs::write(root.join("proofs/4-copy.json"), &first).unwrap();
    dir
}

fn expected_counts() -> (u64, u64, u64) {
    let recorded = [
        vec!["read", "orders.list"],
        vec!["orders.refund", "exec.safe"],
    ];
    let (mut allowed, mut denied, mut approval) = (0, 0, 0);
    let mut tally = |base: &str, head: &str| {
        if base != head {
            match head {
                "allow" => allowed += 1,
                "deny" => denied += 1,
                _ => approval += 1,
            }
        }
    };
    for tools in &recorded {
        for tool in tools {
            let (_, base, head) = TOOLS.iter().find(|(t, _, _)| t == tool).unwrap();
            tally(base, head);
        }
        // One model call per bundle (receipts: 1).
        tally(MODEL.0, MODEL.1);
    }
    (allowed, denied, approval)
}

#[test]
fn replay_reports_the_calls_whose_decision_changes() {
    let dir = repo();
    let out = run(
        dir.path(),
        &[
            "replay",
            "--bundles",
            "proofs/*.json",
            "--policy",
            "head.toml",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", support::stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["format"], "wpc-replay");
    assert_eq!(report["version"], 1);
    assert_eq!(report["counted"], 2);
    let shop = &report["policies"][0];
    assert_eq!(shop["policy"], "shop");
    assert_eq!(shop["bundles"], 2);
    // Per bundle: two tools, one model call, one side effect.
    assert_eq!(shop["calls"], 8);
    let (allowed, denied, approval) = expected_counts();
    assert_eq!(
        (
            shop["newly_allowed"].as_u64().unwrap(),
            shop["newly_denied"].as_u64().unwrap(),
            shop["newly_needs_approval"].as_u64().unwrap()
        ),
        (allowed, denied, approval)
    );
    assert_eq!(report["changed"], allowed + denied + approval);
    let example = shop["examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subject"] == "exec.safe")
        .unwrap();
    assert_eq!(example["bundle"], "proofs/2.json");
    assert_eq!(example["run_id"], "run_2");
    assert_eq!(example["change"], "newly_allowed");
    assert_eq!(
        (&example["base"], &example["head"]),
        (&"deny".into(), &"allow".into())
    );
    // Neither the tampered bundle nor the replayed copy counts.
    let rejected: Vec<&str> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["bundle"].as_str().unwrap())
        .collect();
    assert_eq!(rejected, ["proofs/3-tampered.json", "proofs/4-copy.json"]);
}

#[test]
fn replay_text_lists_counts_examples_and_rejected_bundles() {
    let dir = repo();
    let out = run(
        dir.path(),
        &[
            "replay",
            "--bundles",
            "proofs/*.json",
            "--policy",
            "head.toml",
            "--examples",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn replay_under_the_same_policy_changes_nothing() {
    let dir = repo();
    let out = run(
        dir.path(),
        &["replay", "--bundles", "proofs/1.json", "proofs/2.json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("0 call(s) change decision"));
}

#[test]
fn replay_fails_closed_on_bad_input() {
    let dir = repo();
    let nothing = run(dir.path(), &["replay", "--bundles", "nowhere/*.json"]);
    assert_eq!(nothing.status.code(), Some(2));
    std::fs::write(dir.path().join("bad.toml"), "not = [a policy").unwrap();
    let bad = run(
        dir.path(),
        &[
            "replay",
            "--bundles",
            "proofs/1.json",
            "--policy",
            "bad.toml",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(support::stderr(&bad).contains("bad.toml is not a valid policy"));
    // A bundle claiming a policy nobody has is listed, not guessed at.
    let unknown = kit::bundle_bytes(&shape(9, &["read"], &"A".repeat(43))).unwrap();
    std::fs::write(dir.path().join("proofs/9.json"), unknown).unwrap();
    let out = run(dir.path(), &["replay", "--bundles", "proofs/9.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("not replayed: proofs/9.json"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn diff_replay_decides_under_the_policy_at_base_and_at_head() {
    let dir = repo();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "wpc.toml", "policies"]);
    git(root, &["commit", "-q", "-m", "base"]);
    std::fs::write(root.join("policies/shop.toml"), head()).unwrap();
    git(root, &["commit", "-q", "-am", "head"]);
    let out = run(
        root,
        &[
            "diff",
            "HEAD~1",
            "HEAD",
            "--replay",
            "proofs/1.json",
            "proofs/2.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let (allowed, denied, approval) = expected_counts();
    assert!(
        text.contains(&format!(
            "shop: 2 bundle(s), 8 call(s): {allowed} newly allowed, {denied} newly denied, {approval} newly need approval"
        )),
        "{text}"
    );
    let markdown = run(
        root,
        &[
            "diff",
            "HEAD~1",
            "HEAD",
            "--format",
            "markdown",
            "--replay",
            "proofs/*.json",
        ],
    );
    let text = stdout(&markdown);
    assert!(text.contains("### Impact on recorded runs"), "{text}");
    assert!(text.contains("not counted (protocol checks failed): `proofs/3-tampered.json`"));
    let json = run(
        root,
        &[
            "diff",
            "HEAD~1",
            "HEAD",
            "--format",
            "json",
            "--replay",
            "proofs/1.json",
        ],
    );
    assert_eq!(json.status.code(), Some(2));
}
