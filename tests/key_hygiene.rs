//! Secret keys stay out of policy repositories: `wpc keygen` does not drop
//! one into a Git work tree unasked, `wpc init` ignores key files, and a
//! path in `WPC_SIGNING_KEY` is pointed at `--key`.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use support::{copy_dir, root, run, stderr, stdout, wpc};

#[test]
fn keygen_without_out_refuses_to_write_into_a_git_work_tree() {
    let dir = tempfile::tempdir().unwrap();
    git2::Repository::init(dir.path()).unwrap();
    let nested = dir.path().join("policies");
    std::fs::create_dir(&nested).unwrap();
    for cwd in [dir.path(), nested.as_path()] {
        let out = run(cwd, &["keygen"]);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        assert!(
            stderr(&out).contains("not writing a secret key into the Git work tree at")
                && stderr(&out).contains("pass --out FILE"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
        assert!(!cwd.join("wpc-signing-key.pem").exists());
    }
    // Named explicitly, the path is the user's decision.
    let out = run(dir.path(), &["keygen", "--out", "wpc-signing-key.pem"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.path().join("wpc-signing-key.pem").is_file());
}

#[test]
fn keygen_without_out_writes_the_default_file_outside_a_work_tree() {
    let dir = tempfile::tempdir().unwrap();
    if git2::Repository::discover(dir.path()).is_ok() {
        return; // the temporary folder is itself inside a work tree
    }
    let out = run(dir.path(), &["keygen"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("did:key:z6Mk"));
    assert!(dir.path().join("wpc-signing-key.pem").is_file());
}

#[test]
fn init_writes_a_gitignore_that_keeps_key_files_out() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let out = run(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("wrote ./.gitignore"),
        "{}",
        stdout(&out)
    );
    for secret in [
        "wpc-signing-key.pem",
        "keys/release.pem",
        "release.key",
        ".env",
        ".env.local",
    ] {
        assert!(
            repo.is_path_ignored(secret).unwrap(),
            "{secret} is not ignored"
        );
    }
    for kept in [
        "wpc.toml",
        "keys/trusted-signers.toml",
        "policies/agent-change-reviewer.toml",
        ".github/workflows/wpc.yml",
    ] {
        assert!(!repo.is_path_ignored(kept).unwrap(), "{kept} is ignored");
    }
}

#[test]
fn a_path_in_wpc_signing_key_points_at_key() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/repo"), dir.path());
    let key = dir.path().join("release.pem");
    let out = run(dir.path(), &["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = wpc(dir.path())
        .env("WPC_SIGNING_KEY", &key)
        .args(["sign", "policies/deployer.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let message = stderr(&out);
    assert!(
        message.contains("WPC_SIGNING_KEY holds a file path")
            && message.contains(&format!("pass --key {}", key.display())),
        "{message}"
    );
}
