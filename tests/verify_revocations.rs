//! The two commands that read only the revocations of the release branch,
//! `wpc verify --release-branch` and `wpc check` (WPC021), against someone
//! who can push the release branch but not main: each attack must be
//! rejected with its reason code, never read as "nothing revoked" (a
//! dropped revocation) or as "revoked" (a forged one).
#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::{example, git, stderr, stdout};
use wpc::crypto::keys::SigningKey;
use wpc::release::{Checkpoint, MEMORY_PATH, Statement, revocation_message};

/// The release key main trusts (base64url of 32 bytes of 7).
const SEED: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";
const DEPLOYER: &str = "policies/deployer.toml";
const BRANCH: &str = "wpc-releases";
const NOW: &str = "2026-11-24T12:00:00Z";

fn trusted_key() -> SigningKey {
    SigningKey::from_env_value(SEED).unwrap()
}

/// Mallory's key: never a release signer on main.
fn mallory() -> SigningKey {
    SigningKey::from_seed(&[9; 32])
}

/// `wpc ARGS` in `dir`, signing with the trusted key, without GitHub.
fn wpc(dir: &Path, args: &[&str]) -> Output {
    support::wpc(dir)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env("WPC_SIGNING_KEY", SEED)
        .args(args)
        .output()
        .unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

/// A policy repository on `main` whose deployer was released by the
/// trusted key: its hash, and its envelope in `env.json` (outside the
/// policies folder).
struct Released {
    dir: tempfile::TempDir,
    hash: String,
}

impl Released {
    fn new() -> Released {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        git(path, &["init", "-q", "-b", "main"]);
        for (file, text) in [
            ("wpc.toml".to_owned(), example("wpc.toml")),
            (DEPLOYER.to_owned(), example(DEPLOYER)),
            (
                "keys/trusted-signers.toml".to_owned(),
                format!(
                    "[[release_signer]]\ndid = \"{}\"\nname = \"ci\"\n",
                    trusted_key().did_str()
                ),
            ),
        ] {
            std::fs::create_dir_all(path.join(&file).parent().unwrap()).unwrap();
            std::fs::write(path.join(&file), text).unwrap();
        }
        git(path, &["add", "-A"]);
        git(path, &["commit", "-q", "-m", "policies"]);
        let out = wpc(path, &["release", "--now", NOW]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let index: Value =
            serde_json::from_str(&git(path, &["show", &format!("{BRANCH}:index.json")])).unwrap();
        let hash = index["policies"]["deployer"][0]["hash"]
            .as_str()
            .unwrap()
            .to_owned();
        std::fs::write(
            path.join("env.json"),
            git(path, &["show", &format!("{BRANCH}:wpc/{hash}.json")]),
        )
        .unwrap();
        Released { dir, hash }
    }

    /// Revoke the deployer with the trusted key; the branch's tip before.
    fn revoke(&self) -> String {
        let before = git(self.path(), &["rev-parse", BRANCH]).trim().to_owned();
        let out = wpc(
            self.path(),
            &["revoke", &self.hash, "--reason", "leaks", "--now", NOW],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        before
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn show(&self, file: &str) -> Vec<u8> {
        git(self.path(), &["show", &format!("{BRANCH}:{file}")]).into_bytes()
    }

    /// Push a commit on top of the release branch whose root files
    /// `changes` replace, as a branch writer can (Git plumbing, no wpc).
    fn push_state(&self, changes: &[(&str, Vec<u8>)]) {
        let path = self.path();
        let scratch = tempfile::tempdir().unwrap();
        let index = scratch.path().join("index");
        let with_index = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(path)
                .env("GIT_INDEX_FILE", &index)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
            stdout(&out).trim().to_owned()
        };
        with_index(&["read-tree", BRANCH]);
        for (name, bytes) in changes {
            let file = scratch.path().join("blob");
            std::fs::write(&file, bytes).unwrap();
            let blob = git(path, &["hash-object", "-w", file.to_str().unwrap()]);
            let entry = format!("100644,{},{name}", blob.trim());
            with_index(&["update-index", "--add", "--cacheinfo", &entry]);
        }
        let tree = with_index(&["write-tree"]);
        let commit = git(path, &["commit-tree", &tree, "-p", BRANCH, "-m", "edit"]);
        git(
            path,
            &["update-ref", &format!("refs/heads/{BRANCH}"), commit.trim()],
        );
    }

    /// The branch's revocations and Mallory's revocation of the deployer.
    fn with_forged_revocation(&self) -> Value {
        let did = mallory().did_str().to_owned();
        let message = revocation_message(&self.hash, "forged", NOW, &did).unwrap();
        let signature =
            ed25519_dalek::Signer::sign(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]), &message);
        let signature = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            signature.to_bytes(),
        );
        let mut revocations: Value =
            serde_json::from_slice(&self.show("revocations.json")).unwrap();
        revocations.as_array_mut().unwrap().push(serde_json::json!({
            "hash": self.hash, "reason": "forged", "revoked_at": NOW,
            "signer_did": did, "signature_b64u": signature,
        }));
        revocations
    }

    /// A state whose revocations are `revocations`, with a checkpoint that
    /// `key` signs and chains to the tip's.
    fn push_signed_revocations(&self, revocations: &Value, key: &SigningKey) {
        let index = self.show("index.json");
        let revocations = pretty(revocations);
        let before: Checkpoint = serde_json::from_slice(&self.show("checkpoint.json")).unwrap();
        let checkpoint = Checkpoint::sign(
            Statement {
                version: before.version + 1,
                index: &index,
                revocations: &revocations,
                previous: Some(before.hash().unwrap()),
                main_commit: before.main_commit.clone(),
                issued_at: NOW.to_owned(),
            },
            key,
        )
        .unwrap();
        self.push_state(&[
            ("revocations.json", revocations),
            (
                "checkpoint.json",
                pretty(&serde_json::to_value(&checkpoint).unwrap()),
            ),
        ]);
    }

    fn verify(&self, extra: &[&str]) -> Output {
        let mut args = vec!["verify", "env.json", "--release-branch", BRANCH];
        args.extend_from_slice(extra);
        wpc(self.path(), &args)
    }

    fn check(&self) -> Output {
        wpc(self.path(), &["check", "--format", "json"])
    }
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap();
    bytes.push(b'\n');
    bytes
}

/// `wpc verify --release-branch` refuses the branch: exit 1, `reason` on
/// stderr, no verdict on stdout (the revocations are unknown).
fn assert_verify_rejects(out: &Output, reason: &str) {
    assert_eq!(code(out), 1, "{}{}", stdout(out), stderr(out));
    assert_eq!(stdout(out), "");
    assert!(
        stderr(out).contains(&format!("release branch `{BRANCH}` rejected: {reason} at ")),
        "{}",
        stderr(out)
    );
}

/// `wpc check` fails with one WPC021 error that names the branch and
/// `reason`, and no finding that the (good) policy is revoked.
fn assert_check_rejects(out: &Output, reason: &str) {
    assert_eq!(code(out), 1, "{}{}", stdout(out), stderr(out));
    let report: Value = serde_json::from_str(&stdout(out)).unwrap();
    let wpc021: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "WPC021")
        .collect();
    assert_eq!(wpc021.len(), 1, "{}", stdout(out));
    let message = wpc021[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("release branch `{BRANCH}` rejected: {reason} at ")),
        "{message}"
    );
    assert_eq!(wpc021[0]["severity"], "error");
}

/// Both commands see the revocation while the branch is genuine.
fn assert_revocation_seen(repo: &Released) {
    let verify = repo.verify(&[]);
    assert_eq!(code(&verify), 1, "{}", stderr(&verify));
    assert!(
        stdout(&verify).starts_with("INVALID env.json REVOKED: "),
        "{}",
        stdout(&verify)
    );
    let check = repo.check();
    assert_eq!(code(&check), 1, "{}", stderr(&check));
    assert!(
        stdout(&check).contains(&format!("this content (hash {})", repo.hash)),
        "{}",
        stdout(&check)
    );
}

#[test]
fn a_genuine_revocation_is_seen_by_verify_and_check() {
    let repo = Released::new();
    assert_eq!(code(&repo.verify(&[])), 0);
    let check = repo.check();
    assert_eq!(code(&check), 0, "{}", stdout(&check));
    repo.revoke();
    assert_revocation_seen(&repo);
}

#[test]
fn attack_rolling_the_branch_back_to_before_the_revocation_is_detected() {
    let repo = Released::new();
    let before_revocation = repo.revoke();
    assert_revocation_seen(&repo);
    git(
        repo.path(),
        &[
            "update-ref",
            &format!("refs/heads/{BRANCH}"),
            &before_revocation,
        ],
    );
    assert_verify_rejects(&repo.verify(&[]), "ROLLBACK_DETECTED");
    assert_check_rejects(&repo.check(), "ROLLBACK_DETECTED");
    // A verifier with no memory of its own is held to a pin instead.
    std::fs::remove_file(repo.path().join(".git").join(MEMORY_PATH)).unwrap();
    assert_verify_rejects(
        &repo.verify(&["--min-checkpoint", "2"]),
        "ROLLBACK_DETECTED",
    );
    // What a verifier without memory or pin cannot see: the older branch
    // is consistent (docs/release.md, "Rollback and freeze").
    assert_eq!(code(&repo.verify(&[])), 0);
}

#[test]
fn attack_dropping_the_revocation_without_a_signature_is_an_unsigned_state() {
    let repo = Released::new();
    repo.revoke();
    repo.push_state(&[("revocations.json", b"[]\n".to_vec())]);
    assert_verify_rejects(&repo.verify(&[]), "UNSIGNED_STATE");
    assert_check_rejects(&repo.check(), "UNSIGNED_STATE");
}

#[test]
fn attack_an_unsigned_index_change_is_an_unsigned_state() {
    let repo = Released::new();
    repo.revoke();
    let mut index: Value = serde_json::from_slice(&repo.show("index.json")).unwrap();
    index["last_commit"] = Value::String("0".repeat(40));
    repo.push_state(&[("index.json", pretty(&index))]);
    assert_verify_rejects(&repo.verify(&[]), "UNSIGNED_STATE");
    assert_check_rejects(&repo.check(), "UNSIGNED_STATE");
}

#[test]
fn attack_dropping_the_revocation_under_an_untrusted_checkpoint_is_rejected() {
    let repo = Released::new();
    repo.revoke();
    repo.push_signed_revocations(&Value::Array(Vec::new()), &mallory());
    assert_verify_rejects(&repo.verify(&[]), "UNTRUSTED_CHECKPOINT");
    assert_check_rejects(&repo.check(), "UNTRUSTED_CHECKPOINT");
}

#[test]
fn attack_a_forged_revocation_of_a_good_policy_is_rejected_not_obeyed() {
    // Under Mallory's own checkpoint...
    let repo = Released::new();
    repo.push_signed_revocations(&repo.with_forged_revocation(), &mallory());
    assert_verify_rejects(&repo.verify(&[]), "UNTRUSTED_CHECKPOINT");
    assert_check_rejects(&repo.check(), "UNTRUSTED_CHECKPOINT");
    // ...or under the genuine one, which does not cover it.
    let repo = Released::new();
    repo.push_state(&[("revocations.json", pretty(&repo.with_forged_revocation()))]);
    assert_verify_rejects(&repo.verify(&[]), "UNSIGNED_STATE");
    assert_check_rejects(&repo.check(), "UNSIGNED_STATE");
}

#[test]
fn min_checkpoint_without_a_release_branch_is_a_usage_error() {
    let repo = Released::new();
    let out = wpc(
        repo.path(),
        &["verify", "env.json", "--min-checkpoint", "1"],
    );
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("--min-checkpoint needs --release-branch"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn attack_deleting_the_branch_is_a_rollback_not_a_fresh_start() {
    let repo = Released::new();
    repo.revoke();
    git(repo.path(), &["branch", "-q", "-D", BRANCH]);
    assert_verify_rejects(&repo.verify(&[]), "ROLLBACK_DETECTED");
    assert_check_rejects(&repo.check(), "ROLLBACK_DETECTED");
    for args in [
        vec!["fetch", repo.hash.as_str()],
        vec!["release", "verify"],
        // A release would start the branch again without its revocation.
        vec!["release", "--now", NOW],
    ] {
        let out = wpc(repo.path(), &args);
        assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
        assert!(
            format!("{}{}", stdout(&out), stderr(&out)).contains("ROLLBACK_DETECTED"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let branches = git(repo.path(), &["branch", "--list", BRANCH]);
    assert_eq!(branches, "");
    // Forgetting is deliberate: with the memory removed the branch is
    // started again (and the revocation must be made again).
    std::fs::remove_file(repo.path().join(".git").join(MEMORY_PATH)).unwrap();
    assert_eq!(code(&wpc(repo.path(), &["release", "--now", NOW])), 0);
}
