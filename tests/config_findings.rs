//! Every command that reads `wpc.toml` treats its findings the same way:
//! `check` and `ci` report them as findings (exit 1); every other command
//! prints them on stderr and stops with exit 2, acting on nothing.

#![allow(clippy::unwrap_used)] // a panic in a test helper is a failing test

use crate::support;

use support::{run, stderr, stdout};

const POLICY: &str = "policies/agent-change-reviewer.toml";

/// A fresh `wpc init` repository whose wpc.toml has a misspelt key.
fn repo_with_a_typo_in_its_config() -> tempfile::TempDir {
    let dir = support::init_repo();
    std::fs::write(dir.path().join("wpc.toml"), "[lint]\nmax_tll_seconds = 5\n").unwrap();
    dir
}

#[test]
fn check_and_ci_report_config_errors_as_findings() {
    let dir = repo_with_a_typo_in_its_config();
    for args in [&["check"][..], &["ci"]] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("wpc.toml:2:1"),
            "{args:?}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn every_other_command_stops_on_config_errors_with_them_printed() {
    let dir = repo_with_a_typo_in_its_config();
    std::fs::write(dir.path().join("openclaw.json"), "{}").unwrap();
    std::fs::write(dir.path().join("bundle.json"), "{}").unwrap();
    let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    let commands: [&[&str]; 7] = [
        &["test"],
        &["fmt", "--check"],
        &["fmt"],
        &["compile", POLICY, "--target", "openclaw"],
        &["audit", "openclaw", "openclaw.json"],
        &["bundle", "verify", "bundle.json"],
        &["cst", "check", "--policy", POLICY, "--issuer", did, "token"],
    ];
    for args in commands {
        let out = run(dir.path(), args);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {err}{}",
            stdout(&out)
        );
        assert!(err.contains("wpc.toml:2:1"), "{args:?}: {err}");
        assert!(err.contains("wpc.toml has 1 error"), "{args:?}: {err}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}
