//! End-to-end tests of `wpc decide`, `wpc test`, `wpc new` and `wpc init`.

// The helpers below are test code too: a binary that cannot be run is a
// failing test.
#![allow(clippy::unwrap_used)]

use std::process::Output;

use crate::support;

use support::{root, run};

/// Exit code, then stdout, then stderr (when any).
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

#[test]
fn decide_text() {
    let policy = "examples/repo/policies/deployer.toml";
    let mut out = String::new();
    for args in [
        vec!["--tool", "read"],
        vec!["--tool", "deploy.prod", "--args", r#"{"version": "2.0.1"}"#],
        vec!["--tool", "secrets.get"],
        vec!["--tool", "web.fetch"],
    ] {
        let mut all = vec!["decide", policy];
        all.extend(args);
        out.push_str(&shown(&run(&root(), &all)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn decide_json() {
    let output = run(
        &root(),
        &[
            "decide",
            "examples/repo/policies/agent-change-reviewer.toml",
            "--tool",
            "repo.comment",
            "--content",
            "SECURITY: token in logs",
            "--format",
            "json",
        ],
    );
    insta::assert_snapshot!(shown(&output));
}

#[test]
fn decide_rejects_bad_args() {
    let output = run(
        &root(),
        &[
            "decide",
            "examples/repo/policies/deployer.toml",
            "--tool",
            "x",
            "--args",
            "[1]",
        ],
    );
    insta::assert_snapshot!(shown(&output));
}

#[test]
fn test_passes_on_the_example_repo() {
    let output = run(&root(), &["test", "examples/repo"]);
    insta::assert_snapshot!(shown(&output));
}

#[test]
fn test_reports_failures_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::copy(
        root().join("examples/repo/policies/deployer.toml"),
        dir.path().join("policies/deployer.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policies/deployer.test.toml"),
        "[[case]]\nname = \"ok\"\ntool = \"read\"\nexpect = \"allow\"\n\n\
         [[case]]\nname = \"prod is not free\"\ntool = \"deploy.prod\"\nexpect = \"allow\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policies/orphan.test.toml"),
        "[[case]]\nname = \"x\"\ntool = \"read\"\nexpect = \"deny\"\n",
    )
    .unwrap();
    let output = run(dir.path(), &["test", "policies"]);
    insta::assert_snapshot!(shown(&output));
}

#[test]
fn init_then_check_and_test_are_clean() {
    let dir = tempfile::tempdir().unwrap();
    let init = run(dir.path(), &["init", "repo"]);
    insta::assert_snapshot!("init", shown(&init));
    let root = dir.path().join("repo");
    // Clean but for the information of WPC026 on the Claw exports `wpc
    // init` enables.
    let check = shown(&run(&root, &["check"]));
    assert!(check.starts_with("exit 0\n"), "{check}");
    assert!(
        check.ends_with("2 files checked: 0 errors, 0 warnings, 3 info\n"),
        "{check}"
    );
    assert_eq!(check.matches("info[WPC026]").count(), 3, "{check}");
    assert_eq!(
        shown(&run(&root, &["test"])),
        "exit 0\n6 passed, 0 failed\n"
    );

    // Nothing is overwritten, and nothing is written when a file exists.
    std::fs::remove_file(root.join("README.md")).unwrap();
    let again = run(dir.path(), &["init", "repo"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(!root.join("README.md").exists());
    assert_eq!(
        run(dir.path(), &["init", "repo", "--force"]).status.code(),
        Some(0)
    );

    // A new policy from each template is clean and passes its tests.
    for template in [
        "read-only-researcher",
        "ci-fixer",
        "deployer",
        "data-analyst",
    ] {
        let name = format!("my-{template}");
        let new = run(&root, &["new", &name, "--template", template]);
        assert_eq!(new.status.code(), Some(0), "{}", shown(&new));
    }
    let check = shown(&run(&root, &["check"]));
    assert!(check.starts_with("exit 0\n"), "{check}");
    assert!(
        check.ends_with("6 files checked: 0 errors, 0 warnings, 12 info\n"),
        "{check}"
    );
    assert_eq!(check.matches("info[WPC026]").count(), 12, "{check}");
    assert_eq!(
        shown(&run(&root, &["test"])),
        "exit 0\n28 passed, 0 failed\n"
    );
    let clash = run(&root, &["new", "my-deployer", "--template", "deployer"]);
    insta::assert_snapshot!("new_refuses_to_overwrite", shown(&clash));
}
