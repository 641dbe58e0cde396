//! End-to-end tests of `wpc keygen`, `wpc sign` and `wpc verify`.
#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use std::path::{Path, PathBuf};

use crate::support;

use support::{root, run, stderr, stdout};

const POLICY: &str = "examples/repo/policies/deployer.toml";

/// A key, and the deployer policy signed with it at a pinned time.
fn signed(dir: &Path) -> (String, PathBuf) {
    let key = dir.join("k.pem");
    let out = run(dir, &["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let did = stdout(&out).trim().to_owned();
    let envelope = dir.join("env.json");
    let policy = root().join(POLICY);
    let out = run(
        dir,
        &[
            "sign",
            policy.to_str().unwrap(),
            "--key",
            "k.pem",
            "--issued-at",
            "2026-11-24T12:00:00Z",
            "-o",
            "env.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (did, envelope)
}

#[test]
fn keygen_writes_a_private_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let (did, _) = signed(dir.path());
    assert!(did.starts_with("did:key:z6Mk"), "{did}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("k.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = run(dir.path(), &["keygen", "--out", "k.pem"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(!stdout(&again).contains("PRIVATE"));
}

#[test]
fn sign_is_deterministic_with_a_pinned_time_and_carries_the_policy_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (did, envelope) = signed(dir.path());
    let first = std::fs::read(&envelope).unwrap();
    run(
        dir.path(),
        &[
            "sign",
            root().join(POLICY).to_str().unwrap(),
            "--key",
            "k.pem",
            "--issued-at",
            "2026-11-24T12:00:00Z",
            "-o",
            "env.json",
        ],
    );
    assert_eq!(std::fs::read(&envelope).unwrap(), first);
    let json: serde_json::Value = serde_json::from_slice(&first).unwrap();
    let hash = stdout(&run(&root(), &["hash", POLICY]));
    assert_eq!(json["payload_hash_b64u"], hash.trim());
    assert_eq!(json["signer_did"], did.as_str());
    assert_eq!(json["issued_at"], "2026-11-24T12:00:00Z");
}

#[test]
fn verify_accepts_a_valid_envelope_and_rejects_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    let (did, envelope) = signed(dir.path());
    let out = run(dir.path(), &["verify", "env.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("any valid signer was accepted"));

    let original = std::fs::read_to_string(&envelope).unwrap();
    std::fs::write(
        &envelope,
        original.replace("\"ticket_id\"", "\"human_approval\""),
    )
    .unwrap();
    let out = run(dir.path(), &["verify", "env.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["failure"]["code"], "HASH_MISMATCH");

    // The signer must be listed when a trusted file is given.
    std::fs::write(&envelope, &original).unwrap();
    let trusted = dir.path().join("trusted.toml");
    std::fs::write(
        &trusted,
        "[[release_signer]]\nname = \"other\"\ndid = \"did:key:z6Mkjp44ExP1yRoq8FZTWy4deGGHuhwhrpYpYM1qMYmZkccn\"\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["verify", "env.json", "--trusted", "trusted.toml"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("SIGNER_NOT_TRUSTED"),
        "{}",
        stdout(&out)
    );
    std::fs::write(
        &trusted,
        format!("[[release_signer]]\nname = \"me\"\ndid = \"{did}\"\n"),
    )
    .unwrap();
    assert_eq!(
        run(
            dir.path(),
            &["verify", "env.json", "--trusted", "trusted.toml"]
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn verify_of_a_missing_file_is_an_io_error() {
    assert_eq!(
        run(&root(), &["verify", "no-such.json"]).status.code(),
        Some(2)
    );
}

#[test]
fn sign_refuses_a_policy_with_lint_errors_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["keygen", "--out", "k.pem"]);
    let risky = root().join("tests/fixtures/broken/policies/risky.toml");
    let out = run(
        dir.path(),
        &[
            "sign",
            risky.to_str().unwrap(),
            "--key",
            "k.pem",
            "-o",
            "env.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not signed"));
    assert!(!dir.path().join("env.json").exists());
}

#[test]
fn sign_without_a_key_is_a_usage_error() {
    let out = run(&root(), &["sign", POLICY]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("WPC_SIGNING_KEY"));
}

#[test]
fn hash_and_decide_accept_a_signed_envelope_and_refuse_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_, envelope) = signed(dir.path());
    let from_toml = stdout(&run(&root(), &["hash", POLICY]));
    let out = run(dir.path(), &["hash", "env.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), from_toml);
    let out = run(
        dir.path(),
        &["decide", "env.json", "--tool", "deploy.status"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let original = std::fs::read_to_string(&envelope).unwrap();
    std::fs::write(
        &envelope,
        original.replace("\"deploy.status\"", "\"deploy.anything\""),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["decide", "env.json", "--tool", "deploy.anything"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("HASH_MISMATCH"), "{}", stderr(&out));
}
