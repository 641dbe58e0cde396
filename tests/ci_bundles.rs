//! `wpc ci` and `wpc bundle verify` checking bundles under the released
//! WPCs of a real Git repository (made with `wpc release`, one hash revoked
//! with `wpc revoke`), and the `--replay-only` pass after a sharded matrix.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;
use std::process::Output;

use support::{copy_dir, root, stdout, wpc};
use wpc::bundle::kit::{self, Shape};
use wpc::policy::Policy;
use wpc::policy::hash::sha256_b64u;

/// The example's release signer: the kit's published key, seed `[3; 32]`.
const RELEASE_SEED: &str = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM";
const NOW: &str = "2026-11-24T12:00:00Z";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    wpc(dir)
        .env("WPC_SIGNING_KEY", RELEASE_SEED)
        .args(args)
        .output()
        .unwrap()
}

fn hash(dir: &Path, name: &str) -> String {
    Policy::load(&dir.join(format!("policies/{name}.toml")))
        .unwrap()
        .hash
}

/// A bundle of run `seq` bound to `policy_hash`, using `tools`.
fn write_bundle(dir: &Path, file: &str, seq: u64, policy_hash: &str, tools: &[&str]) {
    let shape = Shape {
        seq,
        tools: tools.iter().map(|t| (*t).to_owned()).collect(),
        approvals: 0,
        policy_hash: Some(policy_hash.to_owned()),
        scope_hash: Some(sha256_b64u(b"scope")),
        ..Shape::default()
    };
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, kit::bundle_bytes(&shape).unwrap()).unwrap();
}

/// The example repository (without its sample bundles) committed on
/// `main`, released by `wpc release`, the deployer's release revoked (its
/// hash is returned) and then changed in the work tree.
fn released_repo() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let example = root().join("examples/repo");
    for part in ["policies", "openclaw", "keys"] {
        copy_dir(&example.join(part), &repo.join(part));
    }
    std::fs::copy(example.join("wpc.toml"), repo.join("wpc.toml")).unwrap();
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["config", "user.name", "t"]);
    git(repo, &["config", "user.email", "t@example.com"]);
    git(repo, &["config", "commit.gpgsign", "false"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "policies"]);
    let out = run(repo, &["release", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let deployer = hash(repo, "deployer");
    let out = run(
        repo,
        &[
            "revoke",
            &deployer,
            "--reason",
            "deploy.prod gate too weak",
            "--now",
            NOW,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The team then changes the revoked policy, as `wpc check` demands.
    let path = repo.join("policies/deployer.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("to production.", "to production (gate tightened).");
    std::fs::write(&path, text).unwrap();
    (dir, deployer)
}

#[test]
fn ci_checks_bundles_under_the_released_wpcs_and_their_revocations() {
    let (dir, deployer) = released_repo();
    let repo = dir.path();
    let analyst = hash(repo, "data-analyst");
    // A working change that was never released: its hash is a working
    // policy, but with a release branch only releases count.
    let researcher = repo.join("policies/read-only-researcher.toml");
    let text = std::fs::read_to_string(&researcher)
        .unwrap()
        .replace("change nothing.", "change nothing, ever.");
    std::fs::write(&researcher, text).unwrap();
    let unreleased = hash(repo, "read-only-researcher");
    write_bundle(repo, "proofs/analyst.json", 1, &analyst, &["db.query"]);
    write_bundle(
        repo,
        "proofs/deployer.json",
        2,
        &deployer,
        &["deploy.status"],
    );
    write_bundle(repo, "proofs/researcher.json", 3, &unreleased, &["read"]);

    let out = run(repo, &["ci"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // The release branch exists: no fallback warning.
    assert!(
        text.contains("bundles  FAILED   1 passed, 2 failed\n"),
        "{text}"
    );
    assert!(!text.contains("working policies"), "{text}");
    assert!(
        text.contains(&format!(
            "POLICY_REVOKED at /: policy {deployer} is revoked"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "POLICY_UNKNOWN at /payload/receipts/0/payload/binding/policy_hash: policy \
             `{unreleased}` was never released on `wpc-releases`"
        )),
        "{text}"
    );
    assert!(!text.contains("analyst.json"), "{text}");

    // `bundle verify --policy HASH` resolves the same way.
    let verify = |file: &str, hash: &str| run(repo, &["bundle", "verify", file, "--policy", hash]);
    let out = verify("proofs/analyst.json", &analyst);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(support::stderr(&out), "");
    let out = verify("proofs/deployer.json", &deployer);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("INVALID proofs/deployer.json POLICY_REVOKED"),
        "{}",
        stdout(&out)
    );
    let out = verify("proofs/researcher.json", &unreleased);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        support::stderr(&out).contains("never released on `wpc-releases`"),
        "{out:?}"
    );
    // No scoped token pinned to a revoked WPC is valid.
    let issuer = kit::key(4).did_str().to_owned();
    let out = run(
        repo,
        &[
            "cst", "check", "token", "--policy", &deployer, "--issuer", &issuer,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        support::stderr(&out).contains("is revoked on the release branch"),
        "{out:?}"
    );
    // A bundle under the wrong (but released) WPC fails the policy checks.
    let out = verify("proofs/analyst.json", &deployer);
    assert!(
        stdout(&out).contains("POLICY_HASH_MISMATCH"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_tampered_release_envelope_is_an_error_not_a_verdict() {
    let (dir, _) = released_repo();
    let repo = dir.path();
    let analyst = hash(repo, "data-analyst");
    write_bundle(repo, "proofs/analyst.json", 1, &analyst, &["db.query"]);
    // Rewrite the envelope on the branch with another signature.
    git(repo, &["stash", "-q"]);
    git(repo, &["checkout", "-q", "wpc-releases"]);
    let path = repo.join(format!("wpc/{analyst}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
    envelope["signature_b64u"] = serde_json::json!("A".repeat(86));
    std::fs::write(&path, envelope.to_string()).unwrap();
    git(repo, &["commit", "-qam", "tamper"]);
    git(repo, &["checkout", "-q", "main"]);
    git(repo, &["stash", "pop", "-q"]);
    let out = run(repo, &["ci"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        support::stderr(&out).contains("release branch `wpc-releases`"),
        "{out:?}"
    );
}

#[test]
fn replay_only_reports_replays_across_the_whole_set() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::write(repo.join("wpc.toml"), "").unwrap();
    let hash = sha256_b64u(b"any");
    for seq in 1..=6 {
        write_bundle(repo, &format!("b/{seq}.json"), seq, &hash, &["read"]);
    }
    // A genuine replay: the same signed bundle under another name.
    std::fs::copy(repo.join("b/2.json"), repo.join("b/9-copy.json")).unwrap();
    let gateway = format!("--gateway-signer={}", kit::gateway_key().did_str());

    // Each shard alone sees at most part of it ...
    let out = run(repo, &["bundle", "verify", "b", "--replay-only", &gateway]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("REPLAY  b/9-copy.json REPLAYED_BUNDLE_ID at /payload/bundle_id: `bundle_2` already appears in b/2.json\n"),
        "{text}"
    );
    for code in ["REPLAYED_RUN_ID", "REPLAYED_RECEIPT_ID", "REPLAYED_NONCE"] {
        assert!(text.contains(code), "{text}");
    }
    assert!(
        text.ends_with("7 bundles: 8 replays, 0 invalid\n"),
        "{text}"
    );
    assert!(!text.contains("note:"), "{text}");

    // ... and the unsharded run agrees on which bundle is replayed (outside
    // a policy repository, so the made-up policy hash is not looked up).
    std::fs::remove_file(repo.join("wpc.toml")).unwrap();
    let full = stdout(&run(repo, &["bundle", "verify", "b", &gateway]));
    assert!(
        full.contains("INVALID b/9-copy.json REPLAYED_BUNDLE_ID"),
        "{full}"
    );
    assert_eq!(full.matches("INVALID").count(), 1, "{full}");

    // Without the copy, the set is clean.
    std::fs::remove_file(repo.join("b/9-copy.json")).unwrap();
    let out = run(repo, &["bundle", "verify", "b", "--replay-only", &gateway]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out), "6 bundles: 0 replays, 0 invalid\n");
}

#[test]
fn replay_only_cannot_be_framed_by_an_unsigned_copy() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::write(repo.join("wpc.toml"), "").unwrap();
    let hash = sha256_b64u(b"any");
    write_bundle(repo, "b/2-genuine.json", 2, &hash, &["read"]);
    // A forgery carrying the genuine bundle's ids, sorted before it, with a
    // broken signature: it must not make the genuine bundle look replayed.
    let text = std::fs::read_to_string(repo.join("b/2-genuine.json")).unwrap();
    let mut forged: serde_json::Value = serde_json::from_str(&text).unwrap();
    forged["payload"]["event_chain"][0]["timestamp"] =
        serde_json::json!("2026-02-12T00:00:59.000Z");
    std::fs::write(repo.join("b/1-forged.json"), forged.to_string()).unwrap();
    let gateway = format!("--gateway-signer={}", kit::gateway_key().did_str());
    let out = run(repo, &["bundle", "verify", "b", "--replay-only", &gateway]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!text.contains("REPLAY "), "{text}");
    assert!(
        text.starts_with("INVALID b/1-forged.json HASH_MISMATCH (not checked for replay)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("2 bundles: 0 replays, 1 invalid\n"),
        "{text}"
    );
    // Conflicts with the options of a full verification.
    let out = run(
        repo,
        &["bundle", "verify", "b", "--replay-only", "--shard", "1/2"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ci_detects_replay_across_bundles_under_different_wpcs() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let example = root().join("examples/repo");
    for part in ["policies", "openclaw", "keys"] {
        copy_dir(&example.join(part), &repo.join(part));
    }
    std::fs::copy(example.join("wpc.toml"), repo.join("wpc.toml")).unwrap();
    // The same run, once bound to each of two WPCs (both allow `read`).
    let analyst = hash(repo, "data-analyst");
    let researcher = hash(repo, "read-only-researcher");
    write_bundle(repo, "proofs/a.json", 7, &analyst, &["read"]);
    write_bundle(repo, "proofs/b.json", 7, &researcher, &["read"]);
    let out = run(repo, &["ci"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("bundles  FAILED   1 passed, 1 failed (no release branch"),
        "{text}"
    );
    assert!(
        text.contains(
            "REPLAYED_BUNDLE_ID at /payload/bundle_id: `bundle_7` already appears in proofs/a.json"
        ),
        "{text}"
    );
}
